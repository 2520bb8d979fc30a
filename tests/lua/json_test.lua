local t = ...
local json = dusk.json
local serial = require "dusk.serial"
local null = json.null

-- Every member of a record or value, as plain Lua tables (null stays null).
local function plain(v)
  if type(v) ~= "userdata" or v == null then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = plain(x) end
  return out
end

-- Runs 'code' in a fresh dusk process; returns its standard output.
local function fresh(code)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(code)
  f:close()
  local status, out, err = t.sh(t.dusk .. " " .. path)
  os.remove(path)
  t.eq(status, 0, "fresh process failed: " .. err)
  return out
end

local function write_bytes(s)
  local path = os.tmpname()
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  return path
end

t.test("dusk.json and require 'dusk.json' are the same module", function()
  t.truthy(require("dusk.json") == json)
  t.eq(type(json.decode), "function")
  t.eq(type(json.encode), "function")
end)

t.test("every JSON type", function()
  local r = json.decode([[{"s": "text", "i": 42, "n": -7, "f": 2.5, "e": 1e3,
    "t": true, "fa": false, "z": null, "o": {"k": "v"}, "a": [1, "two", 3.0]}]])
  t.eq(type(r), "userdata")
  t.eq(r.s, "text")
  t.eq(r.i, 42)
  t.eq(math.type(r.i), "integer")
  t.eq(r.n, -7)
  t.eq(r.f, 2.5)
  t.eq(math.type(r.e), "float")
  t.eq(r.e, 1000.0)
  t.eq(r.t, true)
  t.eq(r.fa, false)
  t.truthy(r.z == null, "null is dusk.json.null")
  t.eq(r.o.k, "v")
  t.eq(r.a[2], "two")
  t.eq(math.type(r.a[3]), "float")
  t.eq(r.missing, nil)
end)

t.test("scalar documents decode to their value", function()
  t.eq(json.decode("12"), 12)
  t.eq(math.type(json.decode("12")), "integer")
  t.eq(json.decode(" -1.5 "), -1.5)
  t.eq(json.decode('"a\\nb"'), "a\nb")
  t.eq(json.decode("true"), true)
  t.eq(json.decode("false"), false)
  t.truthy(json.decode("null") == null)
  t.raises("at byte", json.decode, "12 13")
end)

t.test("nested access, 1-based arrays, keys of the wrong kind", function()
  local r = json.decode('{"items": [{"id": 10}, {"id": 20, "tags": ["x", ["y", "z"]]}], "m": {"n": {"o": {"p": 1}}}}')
  t.eq(r.items[1].id, 10)
  t.eq(r.items[2].id, 20)
  t.eq(r.items[2].tags[2][2], "z")
  t.eq(r.items[3], nil)
  t.eq(r.items[0], nil)
  t.eq(r.items[-1], nil)
  t.eq(r.items[1.5], nil)
  t.eq(r.items[2.0].id, 20)
  t.eq(r.items.id, nil)
  t.eq(r[1], nil)
  t.eq(r[true], nil)
  t.eq(r.m.n.o.p, 1)
  local items = r.items
  t.eq(items[2].tags[1], "x")
  t.eq(tostring(r.m.n), '{"o": {"p": 1}}')
  t.eq(tostring(items[2].tags[2]), '["y", "z"]')
end)

t.test("nested records read in any order", function()
  local r = json.decode('{"a": {"x": [1, 2, {"y": 3}]}, "b": {"z": 4}, "c": [[5], [6]]}')
  local a, b = r.a, r.b
  t.eq(b.z, 4)
  t.eq(a.x[3].y, 3)
  local x = a.x
  t.eq(r.b.z, 4)
  t.eq(x[3].y, 3)
  t.eq(x[1], 1)
  local c1, c2 = r.c[1], r.c[2]
  t.eq(c2[1], 6)
  t.eq(c1[1], 5)
  local other = json.decode('{"a": {"x": [7]}}')
  local ox = other.a.x
  t.eq(a.x[2], 2)
  t.eq(ox[1], 7)
  t.eq(tostring(x), '[1, 2, {"y": 3}]')
  t.eq(#x, 3)
  t.eq(r.a.x[3].y, 3)
end)

t.test("pairs in document order, ipairs, #", function()
  local r = json.decode('{"b": 1, "a": [10, 20, 30], "c": {"x": null}, "d": []}')
  local keys, vals = {}, {}
  for k, v in pairs(r) do keys[#keys + 1] = k; vals[k] = v end
  t.eq(keys, { "b", "a", "c", "d" })
  t.eq(vals.b, 1)
  t.eq(tostring(vals.a), "[10, 20, 30]")
  t.eq(#r, 0, "an object has no length")
  t.eq(#r.a, 3)
  t.eq(#r.d, 0)
  local got = {}
  for i, v in ipairs(r.a) do got[i] = v end
  t.eq(got, { 10, 20, 30 })
  got = {}
  for i, v in pairs(r.a) do got[i] = v end
  t.eq(got, { 10, 20, 30 })
  for _ in pairs(r.d) do error("empty array has members") end
  for _ in pairs(json.decode("{}")) do error("empty object has members") end
  t.eq(plain(r.c), { x = null })
  local a = r.a
  t.eq(a[3], 30)
  t.eq(a[1], 10)
  t.eq(a[2], 20)
  t.eq(a[4], nil)
end)

t.test("elements of listed arrays: objects, arrays and scalars", function()
  local r = json.decode('[{"a": [1, {"b": 2}]}, [3, [4]], "s", null, 1.5, {"c": "d"}]')
  t.eq(#r, 6)
  t.eq(r[1].a[2].b, 2)
  t.eq(r[2][2][1], 4)
  t.eq(r[3], "s")
  t.truthy(r[4] == null)
  t.eq(r[5], 1.5)
  t.eq(tostring(r[6]), '{"c": "d"}')
  t.eq(tostring(r[1].a), '[1, {"b": 2}]')
  t.eq(plain(r), { { a = { 1, { b = 2 } } }, { 3, { 4 } }, "s", null, 1.5, { c = "d" } })
end)

t.test("null is one value, printed as null", function()
  t.eq(tostring(null), "null")
  t.truthy(json.decode("[null]")[1] == null)
  t.truthy(json.decode('{"a": null}').a == null)
  t.truthy(null ~= nil and null ~= false)
  t.eq(json.encode(null), "null")
  t.eq(json.encode({ null, 1 }), "[null,1]")
  t.truthy(serial.decode(serial.encode(null)) == null, "null through serial")
end)

t.test("integers stay integers, floats stay floats, big integers become floats", function()
  local r = json.decode('[0, -0, 1.0, 9223372036854775807, -9223372036854775808, 9223372036854775808, 18446744073709551616, 123456789012345678901234567890, 1e2, 0.1, -0.0, 5e-324]')
  t.eq(math.type(r[1]), "integer")
  t.eq(math.type(r[2]), "integer")
  t.eq(math.type(r[3]), "float")
  t.eq(r[4], math.maxinteger)
  t.eq(math.type(r[4]), "integer")
  t.eq(r[5], math.mininteger)
  t.eq(math.type(r[5]), "integer")
  t.eq(math.type(r[6]), "float")
  t.eq(r[6], 9223372036854775808.0)
  t.eq(r[7], 2.0 ^ 64)
  t.eq(math.type(r[8]), "float")
  t.eq(r[8], 1.2345678901234568e29)
  t.eq(math.type(r[9]), "float")
  t.eq(r[10], 0.1)
  t.eq(1 / r[11], -1 / 0)
  t.eq(r[12], 5e-324)
end)

t.test("numbers of more than 19 digits are read exactly", function()
  -- simdjson 3.0's own reading gives 0.184..., 0 and 4.8e-05 for these
  local r = json.decode('[-0.92203764737095516160, 1.8446744073709551616, 0.12345678901234567890123, 123456789012345678901, 1e-400]')
  t.eq(r[1], -0.92203764737095516160)
  t.eq(r[2], 1.8446744073709551616)
  t.eq(r[3], 0.12345678901234567890123)
  t.eq(r[4], 123456789012345678901.0)
  t.eq(r[5], 0.0)
end)

t.test("records are read-only", function()
  local r = json.decode('{"a": 1, "b": [1]}')
  local err = t.raises("read-only", function() r.a = 2 end)
  t.truthy(err:find("'a'", 1, true), err)
  t.raises("read-only", function() r.b[1] = 2 end)
  t.raises("read-only", function() r.new = 1 end)
  t.eq(r.a, 1)
end)

t.test("malformed documents: errors with the byte position", function()
  t.raises("dusk.json.decode: unclosed string at byte 7", json.decode, '{"a": "abc}')
  t.raises("dusk.json.decode: invalid UTF-8 at byte 8", json.decode, '{"a": "\255"}')
  t.raises("dusk.json.decode: unescaped control character in a string at byte 9", json.decode, '{"a": "x\1"}')
  t.raises("dusk.json.decode: empty document", json.decode, "")
  t.raises("dusk.json.decode: empty document", json.decode, "  \n")
  t.raises("dusk.json.decode: unclosed or unbalanced object or array", json.decode, '{"a": [1, 2]')
  t.raises("dusk.json.decode: unclosed or unbalanced object or array", json.decode, '[1, 2')
  t.raises("dusk.json.decode: invalid literal", json.decode, "nul")
  t.raises("dusk.json.decode: invalid or out of range number", json.decode, "01")
  t.raises("dusk.json.decode: invalid or out of range number", json.decode, "1e400")
  t.raises("bad argument #1", json.decode, {})
  t.raises("bad argument #2", json.decode, "{}", 1)
end)

t.test("errors inside scalars not read are raised when they are read", function()
  local text = '{"a": 1, "b": tru, "c": [1, 2, 3x], "d": "\\q", "e": 5}'
  local r = json.decode(text)
  t.eq(r.a, 1)
  t.raises("dusk.json: invalid literal (true, false or null) at byte 15 (reading field 'b')", function() return r.b end)
  t.eq(r.a, 1, "the record still reads after an error")
  local c = r.c
  t.eq(c[1], 1)
  t.raises("dusk.json: invalid or out of range number at byte 32 (reading the array)",
           function() for _ in ipairs(c) do end end)
  t.raises("invalid escape in a string at byte " .. text:find('"\\q"') .. " (reading field 'd')",
           function() return r.d end)
  t.eq(r.e, 5)
  t.raises("at byte", function() for _ in pairs(r) do end end)
  t.raises("dusk.json.decode: invalid literal (true, false or null) at byte 15", json.decode,
           '{"a": 1, "b": tru}', { validate = true })
  t.raises("dusk.json.decode: unexpected text after the value at byte 9", json.decode,
           '{"a": 1}}', { validate = true })
  t.raises("dusk.json.decode: unexpected text after the value at byte 10", json.decode,
           '{"a": 1} {"b": 2}', { validate = true })
  t.eq(json.decode('{"a": [1, {"b": "\\u00e9"}]}', { validate = true }).a[2].b, "é")
end)

-- Each text is not one JSON value, and the fault is outside any scalar:
-- decode refuses it in every mode, wherever the fault lies (read or not),
-- naming its byte.  (Python's json refuses each one too.)
local malformed = {
  { '{"a":1}{"b":2}', "unexpected text after the value at byte 8" },
  { '[1] [2]', "unexpected text after the value at byte 5" },
  { '{"a":1}}', "unexpected text after the value at byte 8" },
  { '[1]]', "unexpected text after the value at byte 4" },
  { '"a" "b"', "unexpected text after the value at byte 5" },
  { '1 2', "unexpected text after the value at byte 3" },
  { 'null,', "unexpected text after the value at byte 5" },
  { '{"a":1} x', "unexpected text after the value at byte 9" },
  { '{"a":1,}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 7" },
  { '[1,]', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 3" },
  { '{"a":{"b":1,},"c":2}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 12" },
  { '{"a":1,"b":[[1],[2,]]}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 19" },
  { '[1 2]', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 4" },
  { '{"a":1 "b":2}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 8" },
  { '{"a" 1}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 2" },
  { '{"a":1,,"b":2}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 8" },
  { '[,1]', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 2" },
  { '{1:2}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 2" },
  { '["a":1]', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 5" },
  { '{"a":1:2}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 7" },
  { '{"a":}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 6" },
  { '[{]}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 3" },
  { '{"a":[1,2}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 10" },
  { '[[1]', "unclosed or unbalanced object or array at byte 1" },
  { '[x]', "invalid value at byte 2" },
  -- a scalar alone is one token, bytes glued to it included
  { 'null"{"', "invalid literal (true, false or null) at byte 1" },
  { "false'", "invalid literal (true, false or null) at byte 1" },
  { 'true"x"', "invalid literal (true, false or null) at byte 1" },
  { '1"a"', "invalid or out of range number at byte 1" },
  { '"a"x', "unexpected text after the value at byte 4" },
}

t.test("text after the value and trailing commas are errors in every mode", function()
  for _, case in ipairs(malformed) do
    local text, want = case[1], case[2]
    t.raises("dusk.json.decode: " .. want, json.decode, text)
    t.raises("dusk.json.decode: " .. want, json.decode, text, { validate = true })
    -- bytes count from the start of the string, spaces included
    local what, byte = want:match("^(.* at byte )(%d+)$")
    t.raises("dusk.json.decode: " .. what .. (byte + 2), json.decode, "\n " .. text .. " \n")
  end
  -- inside a record's part: that part decodes alone (a listed element) or
  -- not at all
  local r = json.decode('[{"a": 1}, [2, 3]]')
  t.eq(r[1].a, 1)
  t.eq(#r[2], 2)
  t.raises("at byte 9", json.decode, '[{"a": 1,}, 2]')
  -- and what is well-formed decodes, a scalar alone too
  t.eq(json.decode("3e" .. string.rep("0", 80), { validate = true }), 3.0)
  t.eq(json.decode(" -12.5e-1 "), -1.25)
  t.eq(json.decode("\tnull\n"), null)
end)


t.test("unicode escapes and escaped keys", function()
  local r = json.decode('{"e": "caf\\u00e9", "emoji": "\\ud83d\\ude00", "raw": "日本", "q": "a\\"b\\\\c\\/d\\b\\f\\n\\r\\t", "a\\u0062": 1, "k\\"ey": 2, "x\\\\": 3}')
  t.eq(r.e, "café")
  t.eq(r.emoji, "\u{1F600}")
  t.eq(r.raw, "日本")
  t.eq(r.q, 'a"b\\c/d\b\f\n\r\t')
  t.eq(r.ab, 1)
  t.eq(r['k"ey'], 2)
  t.eq(r["x\\"], 3)
  t.eq(r["x"], nil)
  local keys = {}
  for k in pairs(r) do keys[#keys + 1] = k end
  t.eq(keys[5], "ab")
  t.eq(keys[6], 'k"ey')
  t.raises("invalid escape", function() return json.decode('{"a": "\\ud800"}').a end)
end)

t.test("repeated keys: the first one, everywhere", function()
  local r = json.decode('{"a": 1, "b": 2, "a": 3}')
  t.eq(r.a, 1)
  local n, seen = 0, {}
  for k, v in pairs(r) do n = n + 1; seen[k] = v end
  t.eq(n, 2)
  t.eq(seen, { a = 1, b = 2 })
  local parts = {}
  for i = 1, 40 do parts[i] = string.format('"k%d": %d', i % 20, i) end
  local big = json.decode("{" .. table.concat(parts, ", ") .. "}")
  n = 0
  for k, v in pairs(big) do n = n + 1; t.eq(v, tonumber(k:sub(2)) == 0 and 20 or tonumber(k:sub(2))) end
  t.eq(n, 20)
  parts = {}
  for i = 1, 15 do parts[i] = string.format('"k%d": %d', i, i) end
  parts[16], parts[17], parts[18] = '"k1": 99', '"k1": 100', '"k16": 16'
  local late = json.decode("{" .. table.concat(parts, ", ") .. "}")
  n = 0
  for k, v in pairs(late) do n = n + 1; t.eq(v, late[k]); t.eq(v, tonumber(k:sub(2))) end
  t.eq(n, 16)
  -- the value of a repeated key is never given, but pairs reads it for its
  -- errors: reading every member finds every error, as validate does
  for _, text in ipairs({ '{"a": 1, "a": 1x}', '{"a": 1, "a": [n]}', '{"a": 1, "a": {"b": ["\\q"]}}' }) do
    local r2 = json.decode(text)
    t.eq(r2.a, 1)
    t.raises("at byte", function() for _ in pairs(r2) do end end)
    t.raises("at byte", json.decode, text, { validate = true })
  end
end)

t.test("big documents", function()
  local parts = {}
  for i = 1, 100000 do parts[i] = string.format('{"i": %d, "s": "v%d"}', i, i) end
  local text = "[" .. table.concat(parts, ",") .. "]"
  local r = json.decode(text)
  t.eq(#r, 100000)
  local sum = 0
  for _, e in ipairs(r) do sum = sum + e.i end
  t.eq(sum, 100000 * 100001 // 2)
  t.eq(r[99999].s, "v99999")
  local nums = {}
  for i = 1, 200000 do nums[i] = i end
  local a = json.decode(json.encode(nums))
  sum = 0
  for i = 1, #a do sum = sum + a[i] end
  t.eq(sum, 200000 * 200001 // 2)
  local long = string.rep("x", 1 << 20)
  t.eq(#json.decode('{"s": "' .. long .. '"}').s, 1 << 20)
  local deep = json.decode(string.rep('{"a": ', 500) .. "1" .. string.rep("}", 500))
  local v = deep
  for _ = 1, 500 do v = v.a end
  t.eq(v, 1)
end)

t.test("encode: values, arrays, objects", function()
  t.eq(json.encode(1), "1")
  t.eq(json.encode(-0), "0")
  t.eq(json.encode(math.mininteger), "-9223372036854775808")
  t.eq(json.encode(1.0), "1.0")
  t.eq(json.encode(0.1), "0.1")
  t.eq(json.encode(1e300), "1e+300")
  t.eq(json.encode(true), "true")
  t.eq(json.encode(nil), "null")
  t.eq(json.encode("a\"b\\c\n\1\127é"), '"a\\"b\\\\c\\n\\u0001\127é"')
  t.eq(json.encode({}), "[]")
  t.eq(json.encode({ 1, 2, 3 }), "[1,2,3]")
  t.eq(json.encode({ a = { b = { "c" } } }), '{"a":{"b":["c"]}}')
  local sparse = json.decode(json.encode({ [1] = "a", [3] = "c" }))
  t.eq(sparse["1"], "a")
  t.eq(sparse["3"], "c")
  t.eq(json.decode(json.encode({ [1.5] = true })) ["1.5"], true)
  local mixed = json.decode(json.encode({ 1, 2, x = "y" }))
  t.eq(mixed.x, "y")
  t.eq(mixed["1"], 1)
end)

t.test("encode: what JSON cannot hold is an error", function()
  t.raises("dusk.json.encode: cannot encode", json.encode, 1 / 0)
  t.raises("JSON has no inf or nan", json.encode, { 0 / 0 })
  t.raises("cannot encode a function", json.encode, { f = print })
  t.raises("cannot encode a thread", json.encode, coroutine.create(print))
  t.raises("cannot encode a table key of type boolean", json.encode, { [true] = 1 })
  t.raises("not valid UTF-8", json.encode, "\255")
  local cyc = {}
  cyc.self = cyc
  t.raises("a cycle", json.encode, cyc)
  local shared = { 1 }
  t.eq(json.encode({ shared, shared }), "[[1],[1]]", "shared is not a cycle")
  local deep = {}
  for _ = 1, 1100 do deep = { deep } end
  t.raises("tables nested more than 1024 deep", json.encode, deep)
  t.eq(json.encode({ json.decode("[1]")[1] }), "[1]")
end)

-- (pairs order follows a string hash seeded per Lua state: each worker,
-- the caller and each run would write a table differently)
t.test("encode: keys in byte order, the same text in every state, scheduler and run", function()
  local obj, keys = {}, {}
  for i = 1, 300 do
    local k = string.format("%s%d", ({ "k", "K", "_", "é", "key", "" })[i % 6 + 1], (i * 7919) % 1000)
    obj[k] = i
  end
  obj[10], obj[2], obj[1.5], obj[-3] = "ten", "two", "one and a half", "minus three"
  obj.nested = { zeta = 1, alpha = { b = 2, a = 1, [3] = true }, mid = { 3, 2, 1 } }
  for k in pairs(obj) do keys[#keys + 1] = tostring(k) end
  table.sort(keys) -- (Lua compares strings by bytes in the C locale)
  local parts = {}
  for i, k in ipairs(keys) do
    local v = obj[k] or obj[tonumber(k)]
    parts[i] = string.format("%q:%s", k, type(v) == "string" and string.format("%q", v)
                             or type(v) == "number" and tostring(v)
                             or '{"alpha":{"3":true,"a":1,"b":2},"mid":[3,2,1],"zeta":1}')
  end
  local want = "{" .. table.concat(parts, ",") .. "}"
  t.eq(json.encode(obj), want, "the caller")
  local f = dusk.delayed(function(x) return json.encode(obj) .. x end)
  for _, o in ipairs { { scheduler = "sync" }, { scheduler = "threads", num_workers = 2 } } do
    local outs = { dusk.compute(f(1), f(2), f(3), f(4), o) }
    for i = 1, 4 do t.eq(outs[i], want .. i, o.scheduler) end
  end
  -- to_textfiles of encoded tables: byte for byte the same files
  local b = dusk.bag.from_sequence({ obj, obj.nested, obj, obj.nested }, { npartitions = 4 }):map(json.encode)
  local texts = {}
  for _, o in ipairs { { scheduler = "sync" }, { scheduler = "threads", num_workers = 2 } } do
    local d = t.tmpdir()
    local files = b:to_textfiles(d .. "/*.json", o)
    local all = {}
    for i, path in ipairs(files) do all[i] = t.read(path) end
    texts[#texts + 1] = table.concat(all)
  end
  t.eq(texts[2], texts[1])
  t.eq(texts[1], (want .. "\n" .. json.encode(obj.nested) .. "\n"):rep(2))
  -- and in another process
  local code = "local obj = {}\n"
  for k, v in pairs(obj) do
    if type(v) ~= "table" then code = code .. string.format("obj[%q] = %q\n", k, v) end -- (%q: 10 stays a number)
  end
  code = code .. "obj.nested = { zeta = 1, alpha = { b = 2, a = 1, [3] = true }, mid = { 3, 2, 1 } }\n" ..
         "io.write(dusk.json.encode(obj))\n"
  t.eq(fresh(code), want, "a fresh process")
end)

t.test("encode and decode round trips", function()
  local values = {
    { 1, 2.5, "three", true, false, null, { x = { y = { 1, 2 } } } },
    { ["key with spaces"] = "and \"quotes\"", ["é"] = "ü", [""] = "" },
    { math.maxinteger, math.mininteger, 1 / 3, -2.2250738585072014e-308, 1.7976931348623157e308, 5e-324 },
    "\0\31 control",
  }
  for _, v in ipairs(values) do
    local text = json.encode(v)
    local back = json.decode(text)
    t.eq(plain(back), v, text)
    t.eq(plain(json.decode(json.encode(plain(back)))), v, "again")
  end
  for _, f in ipairs({ 0.1, 1 / 3, math.pi, 1e-7, 123456.789, 2 ^ 60 + 0.0, -0.0 }) do
    local back = json.decode(json.encode(f))
    t.eq(back, f)
    t.eq(math.type(back), "float")
  end
end)

t.test("records encode as their text; nested ones as their part of it", function()
  local text = '{"a": [1, 2], "b": {"c": "d"}}'
  local r = json.decode("  " .. text .. "\n")
  t.eq(tostring(r), text)
  t.eq(json.encode(r), text)
  t.eq(json.encode({ r.a, r.b }), '[[1, 2],{"c": "d"}]')
  t.eq(json.encode({ rec = r }), '{"rec":' .. text .. '}')
end)

t.test("records through dusk.serial", function()
  local r = json.decode('{"name": "Alice", "tx": [{"amount": 5}, {"amount": -3}], "z": null}')
  local back = serial.decode(serial.encode(r))
  t.eq(back.name, "Alice")
  t.eq(back.tx[2].amount, -3)
  t.truthy(back.z == null)
  local inner = serial.decode(serial.encode(r.tx[1]))
  t.eq(tostring(inner), '{"amount": 5}')
  local both = serial.decode(serial.encode({ r, r.tx, null }))
  t.eq(both[1].tx[1].amount, 5)
  t.eq(#both[2], 2)
  t.truthy(both[3] == null)
  local frame = serial.encode(r, { functions = false })
  t.eq(serial.decode(frame, nil, { functions = false }).name, "Alice")
end)

t.test("records decode in a fresh state that never loaded dusk.json", function()
  local r = json.decode('{"name": "Bob", "tx": [{"amount": 7}]}')
  local path = write_bytes(serial.encode({ r, r.tx[1], json.null }))
  local out = fresh(string.format([[
    local serial = require "dusk.serial"
    assert(package.loaded["dusk.json"] == nil, "dusk.json loaded already")
    local f = assert(io.open(%q, "rb"))
    local v = serial.decode(f:read("a"), nil, { functions = false })
    f:close()
    print(v[1].name, v[1].tx[1].amount, v[2].amount, tostring(v[3]), v[3] == dusk.json.null)
  ]], path))
  os.remove(path)
  t.eq(out, "Bob\t7\t7\tnull\ttrue\n")
end)

t.test("records as task arguments and results, on every scheduler", function()
  local r = json.decode('{"name": "Carol", "tx": [{"amount": 2}, {"amount": 3}]}')
  local total = dusk.delayed(function(rec)
    local s = 0
    for _, tx in ipairs(rec.tx) do s = s + tx.amount end
    return s
  end)
  local pick = dusk.delayed(function(text) return dusk.json.decode(text).tx end)
  for _, sched in ipairs({ "sync", "threads" }) do
    t.eq(total(r):compute({ scheduler = sched }), 5, sched)
    local got = pick('{"tx": [1, 2]}'):compute({ scheduler = sched })
    t.eq(tostring(got), "[1, 2]", sched)
    t.eq(got[2], 2, sched)
  end
end)

t.test("a record outlives the string it was decoded from", function()
  local records = {}
  for i = 1, 200 do
    local s = string.format('{"i": %d, "pad": "%s", "list": [%d, {"deep": "%s"}]}',
                            i, string.rep("p", i), i, string.rep("d", i % 7))
    records[i] = json.decode(s)
    if i % 2 == 0 then records[i] = records[i].list end
  end
  collectgarbage()
  collectgarbage()
  for i = 1, 200 do
    if i % 2 == 0 then
      t.eq(records[i][1], i)
      t.eq(records[i][2].deep, string.rep("d", i % 7))
    else
      t.eq(records[i].i, i)
      t.eq(#records[i].pad, i)
    end
  end
end)

t.test("many records read alternately keep their own values", function()
  local rs = {}
  for i = 1, 50 do rs[i] = json.decode(string.format('{"k": %d, "a": [%d, %d]}', i, i, -i)) end
  for round = 1, 3 do
    for i = 50, 1, -1 do
      t.eq(rs[i].k, i)
      t.eq(rs[i].a[round % 2 + 1], round % 2 == 0 and i or -i)
    end
  end
end)

t.test("metamethods refuse other values", function()
  local mt = getmetatable(json.decode("{}"))
  t.raises("dusk.json.record expected", mt.__index, {}, "x")
  t.raises("dusk.json.record expected", mt.__len, io.stdout)
  t.raises("dusk.json.record expected", mt.__tostring, 1)
end)

t.test("lua-cjson works from dusk and its functions travel by name", function()
  local cjson = require "cjson"
  t.eq(cjson.decode('{"a": [1, 2]}').a[2], 2)
  local path = write_bytes(serial.encode(cjson.decode))
  local out = fresh(string.format([[
    local serial = require "dusk.serial"
    local f = assert(io.open(%q, "rb"))
    local decode = serial.decode(f:read("a"))
    f:close()
    print(decode('{"x": 41}').x == 41)
  ]], path))
  os.remove(path)
  t.eq(out, "true\n")
  local d = dusk.delayed(function(s) return cjson.decode(s).v end)
  t.eq(d('{"v": 3}'):compute({ scheduler = "threads" }), 3)
  t.eq(json.encode(cjson.decode('{"n": null}')), '{"n":null}', "cjson.null encodes as null")
end)

t.test("limits: objects and arrays 1024 deep in every reader and in encode, 1025 an error", function()
  local function arrays(n) return string.rep("[", n) .. "7" .. string.rep("]", n) end
  local function objects(n) return string.rep('{"a":', n) .. "7" .. string.rep("}", n) end
  for _, make in ipairs({ arrays, objects }) do
    for _, opts in ipairs({ {}, { validate = true } }) do
      local v = json.decode(make(1024), opts)
      for _ = 1, 1023 do v = v[1] or v.a end
      t.eq(v[1] or v.a, 7)
      t.raises("dusk.json.decode: objects and arrays nested more than 1024 deep at byte "
               .. make(1024):find("7"), json.decode, make(1025), opts) -- the 1025th bracket
    end
  end
  t.eq(#json.decode(string.rep("[", 1024) .. string.rep("]", 1024)), 1)
  -- read_json (in C and in Lua): the same limit
  local dir = t.tmpdir()
  t.write(dir .. "/ok.json", '{"n": 1, "x": ' .. arrays(1023) .. '}\n')
  t.write(dir .. "/deep.json", '{"n": 1, "x": ' .. arrays(1024) .. '}\n')
  t.eq(dusk.bag.read_json(dir .. "/ok.json"):pluck("n"):compute(), { 1 })
  local err = t.raises("nested more than 1024 deep at byte 1038", function()
    return dusk.bag.read_json(dir .. "/deep.json"):pluck("n"):compute()
  end)
  t.truthy(err:find(dir .. "/deep.json:1:", 1, true), err)
  -- encode: tables, and records in tables, 1024 deep; its output decodes
  local nest = {}
  for _ = 1, 1023 do nest = { nest } end
  local text = json.encode(nest)
  t.eq(text, string.rep("[", 1024) .. string.rep("]", 1024))
  t.eq(#json.decode(text), 1)
  t.raises("dusk.json.encode: tables nested more than 1024 deep at ...[1]", json.encode, { nest })
  local rec = json.decode(string.rep("[", 1000) .. string.rep("]", 1000))
  local holder = rec
  for _ = 1, 24 do holder = { holder } end
  t.eq(#json.encode(holder), 2048)
  t.raises("dusk.json.encode: tables and records nested more than 1024 deep", json.encode, { holder })
end)

t.test("limits: numbers read as Python's json reads them, beyond a double an error", function()
  -- expected values: Python 3's json.loads of each text (repr shown)
  local cases = {
    { "-0", 0, "integer" },                                           -- 0
    { "-0.0", -0.0, "float" },                                        -- -0.0
    { "9223372036854775807", math.maxinteger, "integer" },
    { "-9223372036854775808", math.mininteger, "integer" },
    { "9223372036854775808", 9223372036854775808.0, "float" },        -- an int in Python
    { "-9223372036854775809", -9223372036854775808.0, "float" },
    { "1.7976931348623157e308", 1.7976931348623157e308, "float" },
    { "1.7976931348623158e308", 1.7976931348623157e308, "float" },    -- rounds to the largest
    { "-1.7976931348623157e308", -1.7976931348623157e308, "float" },
    { "2.2250738585072014e-308", 2.2250738585072014e-308, "float" },
    { "4.9e-324", 5e-324, "float" },
    { "2.4703282292062328e-324", 5e-324, "float" },
    { "2.4703282292062327e-324", 0.0, "float" },
    { "-2.4703282292062328e-324", -5e-324, "float" },
    { "1e-400", 0.0, "float" },
    { "-1e-400", -0.0, "float" },
    { "1E2", 100.0, "float" },
    { "-1.5E-3", -0.0015, "float" },
  }
  for _, c in ipairs(cases) do
    for _, opts in ipairs({ {}, { validate = true } }) do
      local v = json.decode("[" .. c[1] .. "]", opts)[1]
      t.eq(math.type(v), c[3], c[1])
      t.eq(v, c[2], c[1])
      t.eq(1 / v, 1 / c[2], c[1] .. ": the sign of zero")
      t.eq(json.decode(c[1], opts), v, c[1] .. " alone")
    end
  end
  -- Python reads these as inf; JSON has no inf, and encode refuses it
  for _, text in ipairs({ "1e309", "-1e309", "1.7976931348623159e308", "1" .. string.rep("0", 309) .. ".0" }) do
    t.raises("dusk.json: invalid or out of range number at byte 2 (reading element 1)",
             function() return json.decode("[" .. text .. "]")[1] end)
    t.raises("dusk.json.decode: invalid or out of range number at byte 2", json.decode,
             "[" .. text .. "]", { validate = true })
    t.raises("dusk.json.decode: invalid or out of range number at byte 1", json.decode, text)
  end
  -- and written back exactly
  for _, c in ipairs(cases) do
    local back = json.decode(json.encode(c[2]))
    t.eq(back, c[2], c[1])
    t.eq(math.type(back), c[3], c[1])
    t.eq(1 / back, 1 / c[2], c[1])
  end
end)

t.test("encode: nan and inf, cycles, holes, keys: errors name the value and where it lies", function()
  t.raises("dusk.json.encode: cannot encode nan (JSON has no inf or nan)", json.encode, 0 / 0)
  t.raises("dusk.json.encode: cannot encode -inf (JSON has no inf or nan)", json.encode, -1 / 0)
  t.raises("cannot encode inf (JSON has no inf or nan) at [3].x[1]", json.encode, { 1, 2, { x = { 1 / 0 } } })
  t.raises("cannot encode nan (JSON has no inf or nan) at .a.b", json.encode, { a = { b = -(0 / 0) } })
  t.raises('cannot encode inf (JSON has no inf or nan) at ["a b"][2]', json.encode, { ["a b"] = { 1, 1 / 0 } })
  t.raises("cannot encode nan (JSON has no inf or nan) at [2.5]", json.encode, { [2.5] = 0 / 0 })
  t.raises("cannot encode inf (JSON has no inf or nan)", json.encode, { [1 / 0] = 1 })
  local c = {}
  c.x = { y = c }
  t.raises("a table contains itself (a cycle) at .x.y", json.encode, c)
  -- tables with holes are objects: every element kept, as Python's json
  -- writes a dict of int keys
  t.eq(plain(json.decode(json.encode({ 1, nil, 3 }))), { ["1"] = 1, ["3"] = 3 })
  t.eq(plain(json.decode(json.encode({ [1] = "a", [3] = "c", [-1] = "m", [0] = "z" }))),
       { ["1"] = "a", ["3"] = "c", ["-1"] = "m", ["0"] = "z" })
  t.eq(plain(json.decode(json.encode({ 1, 2, n = 2 }))), { ["1"] = 1, ["2"] = 2, n = 2 })
  t.eq(json.encode({ [1] = 1, [2] = 2, [3] = 3 }), "[1,2,3]")
  -- keys: strings and numbers; a number written as another key's text is
  -- an error, not one of the two lost
  t.raises('the keys 1 and "1" would both be written "1"', json.encode, { [1] = "a", ["1"] = "b" })
  t.raises('the keys 1.5 and "1.5" would both be written "1.5" at .t', json.encode,
           { t = { [1.5] = 1, ["1.5"] = 2 } })
  t.raises("cannot encode a table key of type boolean at [1]", json.encode, { { [true] = 1 } })
  t.raises("cannot encode a table key of type table", json.encode, { [{}] = 1 })
  t.raises("cannot encode a function at .f", json.encode, { f = print })
  -- records are read whole: what encode writes decodes
  t.raises("dusk.json.encode: invalid or out of range number at byte 7 of a record's text at .x",
           json.encode, { x = json.decode('{"a": 1x}') })
  t.raises("invalid escape in a string", json.encode, json.decode('["\\q"]'))
  t.eq(json.encode({ json.decode('{"a": [1, 2]}').a }), "[[1, 2]]")
end)
