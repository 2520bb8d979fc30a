local t = ...
local serial = require "dusk.serial"

local function rt(v, opts) return serial.decode(serial.encode(v, opts)) end

t.test("scalars round-trip exactly", function()
  for _, v in ipairs({0, 1, -1, math.maxinteger, math.mininteger, 0.5, 1e300, -1 / 0, 1 / 0}) do
    local r = rt(v)
    t.eq(r, v)
    t.eq(math.type(r), math.type(v))
  end
  t.truthy(rt(0 / 0) ~= rt(0 / 0), "NaN")
  t.eq(1 / rt(-0.0), -1 / 0, "-0.0 keeps its sign")
  t.eq(rt("a\0b\255"), "a\0b\255")
  t.eq(rt(true), true)
  t.eq(rt(false), false)
  t.eq(rt(nil), nil)
end)

t.test("tables: nesting, cycles, shared references, metatables", function()
  local shared = { "s" }
  local v = { 1, 2, nil, 4, x = { y = { z = "deep" } }, a = shared, b = shared }
  v.self = v
  local mt = { __index = { greet = function() return "hi" end } }
  v.obj = setmetatable({}, mt)
  local r = rt(v)
  t.eq(r[1], 1)
  t.eq(r[4], 4)
  t.eq(r[3], nil)
  t.eq(r.x.y.z, "deep")
  t.truthy(r.a == r.b and r.a ~= shared, "shared once, copied")
  t.truthy(r.self == r, "cycle")
  t.eq(r.obj.greet(), "hi")
end)

t.test("closures: upvalues, shared cells, isolation", function()
  local n, log = 0, {}
  local function inc() n = n + 1; log[#log + 1] = n end
  local function get() return n, #log end
  local r = rt({ inc = inc, get = get })
  r.inc(); r.inc()
  t.eq({ r.get() }, { 2, 2 })
  t.eq(n, 0, "the sender's upvalue is unchanged")
  t.eq(#log, 0, "the sender's table is unchanged")
  local again = rt({ inc = inc, get = get })
  t.eq({ again.get() }, { 0, 0 }, "each decode starts from the sender's values")
end)

t.test("globals followed transitively, additions to standard tables", function()
  function serial_test_double(x) return x * 2 end
  function serial_test_quad(x) return serial_test_double(serial_test_double(x)) end
  function string.serial_test_shout(s) return s:upper() .. "!" end
  local f = rt(function(x, s) return serial_test_quad(x), s:serial_test_shout() end)
  t.eq({ f(3, "hey") }, { 12, "HEY!" })
  serial_test_double, serial_test_quad, string.serial_test_shout = nil, nil, nil
end)

t.test("a task's global writes stay in the task", function()
  serial_test_g = 10
  local f = rt(function() serial_test_g = serial_test_g + 1; return serial_test_g end)
  t.eq(f(), 11)
  t.eq(f(), 12)
  t.eq(serial_test_g, 10)
  serial_test_g = nil
end)

t.test("_ENV rebinding: decode into another environment", function()
  local env = setmetatable({ mine = "sent" }, { __index = _G })
  local f = load("return mine, theirs", "=x", "t", env)
  local s = serial.encode(f)
  t.eq({ serial.decode(s, { theirs = "receiver's" })() }, { "sent", "receiver's" },
       "the sender's globals travel, the rest is read from the new environment")
end)

t.test("C functions and modules by name", function()
  local cjson = require "cjson"
  local f = rt(function(s) return cjson.decode(s).k, string.upper("x") end)
  t.eq({ f('{"k": "v"}') }, { "v", "X" })
  t.truthy(rt(io) == io and rt(string.format) == string.format)
end)

t.test("refused values name the value and the path", function()
  local co = coroutine.create(print)
  t.raises("cannot send a coroutine: upvalue 'co' of function at", serial.encode,
           function() return co end)
  t.raises("cannot send a file: field 'f' of field 'cfg'", serial.encode,
           { cfg = { f = io.stderr } })
  local d = setmetatable({}, { __name = "Delayed", __dusk_send = false })
  local err = t.raises("cannot send a Delayed captured as upvalue 'd' of function at", serial.encode,
                       function() return d end)
  t.truthy(err:find("pass it as an argument", 1, true), err)
  t.raises("not allowed", serial.encode, print, { functions = false })
end)

t.test("malformed frames are errors", function()
  local s = serial.encode({ 1, 2, { 3 } })
  t.raises("cannot decode", serial.decode, s:sub(1, -2))
  t.raises("cannot decode", serial.decode, s .. "\0")
  t.raises("not a dusk frame", serial.decode, "junk")
  t.raises("function in an untrusted frame", serial.decode,
           serial.encode(function() return 1 end), nil, { functions = false })
end)

t.test("compression for large frames", function()
  local big = string.rep("dusk ", 50000)
  local plain, packed = serial.encode(big), serial.encode(big, { compress = true })
  t.truthy(#packed < #plain / 10, "compressed")
  t.eq(serial.decode(packed), big)
end)

t.test("hooks send objects by reference", function()
  serial.register("TestHandle", function(id) return { handle = id } end)
  local h = setmetatable({ id = 7 }, { __dusk_send = function(o) return "TestHandle", o.id end })
  t.eq(rt({ h, h }), { { handle = 7 }, { handle = 7 } })
  local r = rt({ h, h })
  t.truthy(r[1] == r[2], "one object stays one")
end)

t.test("tables built every way round-trip entry for entry", function()
  local function count(x) local n = 0 for _ in pairs(x) do n = n + 1 end return n end
  local shapes = {}
  local a = {} for i = 1, 100 do a[i] = i end
  shapes[#shapes + 1] = a                                  -- grown by a loop
  local b = {} for i = 100, 1, -1 do b[i] = i * 2 end
  shapes[#shapes + 1] = b                                  -- grown backwards
  shapes[#shapes + 1] = { table.unpack(a) }                -- constructor: array part exact
  local c = {} for i = 1, 100 do c[i] = i end
  c[50] = nil; c[120] = "far"; c.name = "c"; c[-1] = "neg"; c[1.5] = "half"
  shapes[#shapes + 1] = c                                  -- holes and other keys
  local d = {} for i = 1, 1000 do d[i] = i end
  for i = 1001, 1100 do d[i] = { i } end                   -- array then hash part
  shapes[#shapes + 1] = d
  local e = {} for i = 1, 64 do e[i] = i end
  for i = 64, 40, -1 do e[i] = nil end                     -- shrunk
  e.x = 1
  shapes[#shapes + 1] = e
  local f = {} for i = 1, 300 do f[#f + 1] = (i % 3 == 0) and tostring(i) or i + 0.5 end
  shapes[#shapes + 1] = f
  for i, v in ipairs(shapes) do
    local r = rt(v)
    t.truthy(t.same(r, v) and count(r) == count(v), "shape " .. i)
  end
end)

t.test("a refused value in a long list names its index", function()
  local l = {} for i = 1, 40 do l[i] = i end
  l[37] = coroutine.create(print)
  t.raises("cannot send a coroutine: field [37]", serial.encode, l)
end)

t.test("deep nesting up to the limit, with metatables and closures", function()
  local v = { leaf = true }
  for i = 1, 90 do
    local inner = v
    v = setmetatable({ inner, f = function() return inner end }, { __index = { depth = i } })
  end
  local r = rt(v)
  for _ = 1, 90 do r = r.f() end
  t.eq(r.leaf, true)
  local w = {}
  for _ = 1, 300 do w = { w } end
  t.raises("more than 200 levels", serial.encode, w)
end)
