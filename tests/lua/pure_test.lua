-- dusk.pure: pure functions run in C (on integers of a range, and on
-- JSON records through json.each_record) must give what the Lua function
-- gives, on every value, or hand the value back to Lua.  Each case runs a function both ways over many
-- records and compares the results (and the errors).
local t = ...
local json = dusk.json
local null = json.null

local records = {
  '{"id": 1, "name": "Wendy", "transactions": [{"transaction-id": 1, "amount": 292}]}',
  '{"id": 2, "name": "Bob", "transactions": []}',
  '{"id": 3, "name": "Al", "transactions": [{"transaction-id": 9, "amount": -5}, {"amount": 7}]}',
  '{"id": 4, "name": "Zed", "transactions": [{"transaction-id": 1, "amount": "x"}]}',
  '{"id": 5.5, "name": null, "transactions": {"amount": 3}}',
  '{"id": 9223372036854775807, "name": "big", "x": 1e400, "y": -0.0}',
  '{"id": -9223372036854775808, "name": "min", "big": 18446744073709551616}',
  '{"id": 6, "name": "t\\u00e9\\"q", "tags": ["a", "b", "c"], "ok": true, "no": false}',
  '{"id": 7, "name": "dup", "name": "second", "n": {"m": {"k": [1, [2, 3], {"z": 4}]}}}',
  '{"id": 8, "ke\\"y": 1, "key": 2, "": 3, "1": "one"}',
  '[1, 2.5, "three", null, true, [4], {"five": 5}]',
  '[]',
  '{}',
  '{"id": 10, "amount": 0, "f": 2.0, "g": 3, "s": "10"}',
  '  {"id": 11, "lead": "space"}',
  '"just a string"',
  '42',
  '{"id": 12, "broken": [1, 2,, 3], "name": "later"}',
  '{"id": 13, "bad": tru, "name": "ok"}',
  '{"id": 14, "name": "é漢字🙂", "n": 14}',
  '{"id": 15, "name": "long", "f": 0.92203764737095516160, "g": 123456789012345678901, "h": 1e-400}',
  '{"id": 16, "transactions": [{"amount": 1]}, "name": "wrong bracket"}',
  '{"s": "a\\"b,\\\\", "id": 17, "name": "after escapes", "tags": ["x\\\\"]}',
  '{"id": 18 , "name" : "spaced" , "transactions" : [ { "amount" : 3 } , 4 ] }',
  '{"id": 19, "name": "junk after", "n": 12x}',
  -- not one well-formed value, wherever the fault is: errors, read or not
  '{"id": 20, "name": "malformed: glued"}{"id": 21, "name": "lost"}',
  '{"id": 22, "name": "malformed: comma", "n": {"m": {"k": [1, 2,]}}}',
  '{"id": 23, "name": "malformed: closed twice"}}',
  '{"id": 24, "name": "malformed: comma at the end",}',
  '[1, 2] [3]',
  '{"id": 25, "name": "malformed: no comma" "n": 1}',
  '{"id": 26, "name": "malformed: deep", "n": ' .. string.rep("[", 1024) .. string.rep("]", 1024) .. '}',
}

-- Functions that translate, each over every record.
local cases = {
  { "field", function(r) return r.name end },
  { "positive", function(r)
      local t = r.transactions
      return #t > 0 and t[1].amount > 0
    end },
  { "nested", function(r) return r.n.m.k[2][1] end },
  { "index out of range", function(r) return r[0] == nil and r[100] end },
  { "missing", function(r) return r.nope == nil end },
  { "null", function(r) return r.name == nil, r.name end },
  { "not", function(r) return not r.ok end },
  { "or", function(r) return r.name or r.id end },
  { "and/or chain", function(r) return r.id and r.id > 3 and r.id <= 7 or r.name == "Bob" end },
  { "len", function(r) return #r end },
  { "len of field", function(r) return #r.tags end },
  { "len compared", function(r) return #r.tags >= 2, #r.tags < 3, #r.tags == 3 end },
  { "len of string", function(r) return #r.name > 3 end },
  { "arith", function(r) return r.id + 1 end },
  { "arith k", function(r) return r.id * 2.5 - 1 end },
  { "arith regs", function(r) return r.id * r.id end },
  { "div", function(r) return r.id / 2 end },
  { "unm", function(r) return -r.id end },
  { "wrap", function(r) return r.id + 9223372036854775807 end },
  { "int float eq", function(r) return r.f == 2, r.g == 3.0, r.id == 5.5 end },
  { "compare float", function(r) return r.id < 5.75, r.id >= 9.2233720368547758e18 end },
  { "string eq", function(r) return r.name == "Wendy" end },
  { "string lt", function(r) return r.name < "M" end },
  { "string key var", function(r) local k = "name" return r[k] end },
  { "key from record", function(r) return r[r.name] end },
  { "float key", function(r) return r[1.0], r[1.5] end },
  { "record result", function(r) return r.transactions end },
  { "record eq", function(r) return r.tags == r.tags end },
  { "element", function(r) return r[3] end },
  { "duplicate key", function(r) return r.name end },
  { "escaped key", function(r) return r['ke"y'], r.key end },
  { "empty key", function(r) return r[""] end },
  { "string field index", function(r) return r.name.x end },
  { "number field index", function(r) return r.id.x end },
  { "constants", function(r) local a, b, c = nil, true, 1.5 return r.id ~= a and b and c end },
  { "integer string key", function(r) return r["1"] end },
  { "deep missing", function(r) return r.a.b.c end },
  { "ternary", function(r) if r.id == 2 then return "two" else return r.id end end },
  { "long numbers", function(r) return r.f, r.g, r.h end },
  { "number then junk", function(r) return r.n end },
}

local function write_lines(lines)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  return path
end

-- What Lua gives: the first result, or the error (its message).
local function lua_way(f, line)
  local ok, r = pcall(json.decode, line)
  if not ok then return "error", r end
  local ok2, v = pcall(f, r)
  if not ok2 then return "error", v end
  return "value", v
end

local function same(a, b)
  if type(a) == "userdata" and type(b) == "userdata" and a ~= null and b ~= null then
    -- a malformed record raises when listed: then both must
    local oka, ta = pcall(tostring, a)
    local okb, tb = pcall(tostring, b)
    return oka == okb and ta == tb
  end
  if type(a) == "number" and type(b) == "number" then
    return math.type(a) == math.type(b) and (a == b or (a ~= a and b ~= b))
  end
  return a == b
end

-- Runs 'f' as a map stage over each record alone; the stage must give
-- what Lua gives, through C or by handing the record back.
local function check(name, f)
  local prog, why = dusk.pure.compile(f)
  t.truthy(prog, name .. " does not compile: " .. tostring(why))
  local in_c = 0
  for i, line in ipairs(records) do
    local path = write_lines({ line })
    local got
    local function rest(x) got = x; in_c = in_c + 1 end
    local function decoded(r) got = f(r) end
    local function all(l) got = f(json.decode(l)) end
    local ok, err = pcall(json.each_record, path, nil, json.decode, { { "map", prog } },
                          all, decoded, rest)
    os.remove(path)
    local kind, want = lua_way(f, line)
    if kind == "error" then
      t.truthy(not ok, string.format("%s, record %d: Lua raised %s, C gave %s", name, i,
                                     tostring(want), tostring(got)))
      t.truthy(err:find(want, 1, true), string.format("%s, record %d: %s ~ %s", name, i, err, want))
    else
      t.truthy(ok, string.format("%s, record %d: C raised %s", name, i, tostring(err)))
      if not same(got, want) then
        t.truthy(false, string.format("%s, record %d: C gave %s, Lua %s", name, i,
                                      select(2, pcall(tostring, got)), select(2, pcall(tostring, want))))
      end
    end
  end
  return in_c
end

t.test("translated functions agree with Lua on every record", function()
  local ran_in_c = 0
  for _, case in ipairs(cases) do ran_in_c = ran_in_c + check(case[1], case[2]) end
  -- most records are decided in C (not all handed back)
  local well_formed = 0
  for _, line in ipairs(records) do
    if pcall(json.decode, line) then well_formed = well_formed + 1 end
  end
  t.truthy(ran_in_c > #cases * well_formed // 3, "only " .. ran_in_c .. " results came from C")
end)

t.test("what does not translate, and why", function()
  local up = 1
  local function untranslated(f, reason)
    local p, why = dusk.pure.compile(f)
    t.eq(p, nil)
    t.truthy(why:find(reason, 1, true), why)
  end
  untranslated(function(r) return tostring(r) end, "reads a global")
  untranslated(function(r) return r.x + up end, "upvalue")
  untranslated(function(r) return r:get() end, "calls a function")
  untranslated(function(r) local n = 0 for i = 1, 3 do n = n + i end return n end, "not translated")
  untranslated(function(r) while r.x do end return 1 end, "loop")
  untranslated(function(r, ...) return ... end, "takes ...")
  untranslated(function(r) return { r.x } end, "not translated")
  untranslated(function(r) return r.a .. r.b end, "not translated")
  untranslated(function(r) return r.a & 1 end, "not translated")
  t.eq(select(2, dusk.pure.compile(print)), "a C function")
  t.raises("function expected", dusk.pure.compile, 42)
end)

t.test("stages: filters drop, maps chain, a bail hands the record back once", function()
  local path = write_lines(records)
  local stages = {
    { "filter", dusk.pure.compile(function(r) return r.id ~= nil end) },
    { "remove", dusk.pure.compile(function(r) return r.id == 2 end) },
    { "map", dusk.pure.compile(function(r) return r.name end) },
  }
  local from_c, back, whole = {}, 0, 0
  local n = json.each_record(path, nil, json.decode, stages,
    function() whole = whole + 1 end,
    function() back = back + 1 end,
    function(x) from_c[#from_c + 1] = x end)
  os.remove(path)
  t.eq(n, #records)
  t.eq(from_c[1], "Wendy")
  t.eq(from_c[2], "Al")
  -- not objects or arrays at the start of the line, or not well-formed
  -- (brackets, commas): given whole
  local malformed = 0
  for _, line in ipairs(records) do
    if not pcall(json.decode, line) then malformed = malformed + 1 end
  end
  t.eq(whole, 3 + malformed)
  -- broken records, records whose id is not a number, null names...
  t.truthy(back >= 2, "records handed back: " .. back)
end)

t.test("each_record: errors name the file and line", function()
  local path = write_lines({ '{"a": 1}', '{"a": "x"}' })
  local prog = dusk.pure.compile(function(r) return r.a > 0 end)
  local function none() end
  local ok, err = pcall(json.each_record, path, nil, json.decode, { { "filter", prog } },
    none, function(r) return r.a > 0 end, none)
  t.eq(ok, false)
  t.truthy(err:find(path .. ":2:", 1, true), err)
  t.truthy(err:find("attempt to compare", 1, true), err)
  local nothing, msg = json.each_record(path .. ".missing", nil, json.decode, {}, none, none, none)
  os.remove(path)
  t.eq(nothing, nil)
  t.truthy(msg:find("missing", 1, true), msg)
end)

t.test("a line that is not one well-formed value is an error on every path", function()
  local bad = {
    { '{"id": 2, "name": "b"}{"id": 3, "name": "c"}', "unexpected text after the value at byte 23" },
    { '{"id": 2, "name": "b",}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 22" },
    { '{"id": 2, "name": "b", "t": [{"x": 1,}]}', "malformed JSON (a comma, colon, bracket or key missing or extra) at byte 37" },
    { '{"id": 2, "name": "b"}}', "unexpected text after the value at byte 23" },
    { '[2] [3]', "unexpected text after the value at byte 5" },
    { '{"id": 2, "name": "b", "t": ' .. string.rep("[", 1024) .. string.rep("]", 1024) .. '}',
      "objects and arrays nested more than 1024 deep at byte " .. (29 + 1023) },
  }
  local db = dusk.bag
  local up = 0
  for _, case in ipairs(bad) do
    local dir = t.tmpdir()
    local path = dir .. "/r.json"
    t.write(path, '{"id": 1, "name": "a"}\n' .. case[1] .. '\n{"id": 4, "name": "d"}\n')
    local where = path .. ":2:"
    local function check(what, f)
      local err = t.raises(case[2], f)
      t.truthy(err:find(where, 1, true), what .. ": " .. err)
    end
    -- in C (the programs read only 'id' and 'name'), counted, in Lua
    check("fused", function()
      return db.read_json(path):filter(function(r) return r.id > 0 end):pluck("name"):frequencies():compute()
    end)
    check("count", function() return db.read_json(path):count():compute() end)
    check("Lua", function() return db.read_json(path):map(function(r) return up + r.id end):compute() end)
    local function none() end
    local prog = dusk.pure.compile(function(r) return r.id end)
    local ok, err = pcall(json.each_record, path, nil, json.decode, { { "map", prog } },
                          function(l) json.decode(l) end, none, none)
    t.eq(ok, false)
    t.truthy(err:find(case[2], 1, true), err)
  end
end)

t.test("frequencies after dusk.json: strings counted in C, the rest in Lua, keys in order", function()
  local dir = t.tmpdir()
  local objects = {}
  for _, line in ipairs(records) do
    if line:sub(1, 1) == "{" and not line:find("junk after") and pcall(json.decode, line) then
      objects[#objects + 1] = line
    end
  end
  objects[#objects + 1] = '{"id": 30, "name": 7}' -- a number: counted by Lua
  objects[#objects + 1] = '{"id": 31, "name": "q\\u00e9"}' -- an escape: read by Lua
  for i = 1, 3 do
    local f = assert(io.open(dir .. "/part" .. i .. ".json", "w"))
    for k = 1, 300 do f:write(objects[(k * i) % #objects + 1], "\n") end
    f:close()
  end
  local up = 0
  local function keep(r) return r.id ~= nil and r.id ~= 2 and r.name ~= nil end
  local function keep_lua(r) return up == 0 and keep(r) end -- an upvalue: not translated
  local b = dusk.bag.read_text(dir .. "/*.json"):map(json.decode)
  t.truthy(dusk.pure.compile(keep))
  local fused = b:filter(keep):pluck("name"):frequencies():compute()
  local plain = b:filter(keep_lua):map(function(r) return up == 0 and r.name end):frequencies():compute()
  t.eq(#fused, #plain)
  for i, kv in ipairs(plain) do
    t.eq(fused[i][1], kv[1], "key " .. i)
    t.eq(fused[i][2], kv[2], tostring(kv[1]))
  end
  t.truthy(#fused >= 8, "distinct names: " .. #fused)
end)

t.test("Bag pipelines give the same answers fused and not", function()
  local dir = t.tmpdir()
  local lines = {}
  for i = 1, 80 * #records do lines[#lines + 1] = records[(i - 1) % #records + 1] end
  for i = 1, 3 do
    local f = assert(io.open(dir .. "/part" .. i .. ".json", "w"))
    f:write(table.concat(lines, "\n"), "\n")
    f:close()
  end
  local up = 0
  local function keep(r) return type(r) == "userdata" and r.id ~= nil and r.id ~= 2 end
  local function keep_lua(r) return up == 0 and keep(r) end -- an upvalue: not translated
  local function name_or_id(r) return r.name or r.id end
  local function name_or_id_lua(r) return up == 0 and name_or_id(r) end
  -- records that are not objects make the Lua function of 'keep' fail on
  -- scalars (r.id of a number): keep only objects and arrays first
  local lines_ok = dusk.bag.read_text(dir .. "/*.json"):filter(function(l)
    return l:sub(1, 1) == "{" and not l:find("broken") and not l:find("tru,")
      and not l:find("junk after") and not l:find("wrong bracket") and not l:find("malformed")
  end)
  local fused = lines_ok:map(json.decode):filter(keep):map(name_or_id):frequencies():compute()
  local plain = lines_ok:map(json.decode):filter(keep_lua):map(name_or_id_lua):frequencies():compute()
  -- the same counts, keys in the same order (strings counted in C, the
  -- rest and the records handed back counted in Lua, in between)
  t.eq(#fused, #plain)
  for i, kv in ipairs(plain) do
    t.eq(fused[i][1], kv[1], "key " .. i)
    t.eq(fused[i][2], kv[2], tostring(kv[1]))
  end
  -- a fused pipeline starting at read_text (the first step is decode)
  local b = lines_ok:map(json.decode)
  local names = b:filter(function(r) return r.n ~= nil end):pluck("name"):compute()
  t.eq(#names, 3 * 80 * 2) -- two records have n
  t.eq(names[1], "dup")
  -- an error in a fused step names the step and the element
  local ok, err = pcall(function()
    return b:filter(function(r) return r.id > 3.5 end):count():compute()
  end)
  t.eq(ok, false)
  t.truthy(err:find("filter failed on element", 1, true), err)
end)

-- Numbers: each function over integers around zero and the extremes.
local numeric = {
  { "mod", function(x) return x % 7, x % -3 end },
  { "idiv", function(x) return x // 4, x // -3 end },
  { "by zero", function(x) return x // (x - x) end },
  { "mod zero", function(x) return x % 0 end },
  { "float ops", function(x) return x / 3, x * 1.5 // 1, x % 2.5, -x + 0.5 end },
  { "pow", function(x) return x ^ 2, 2 ^ x end },
  { "wrap", function(x) return x * 4611686018427387904 + 9223372036854775807 end },
  { "min // -1", function(x) return (x - x - 9223372036854775807 - 1) // -1, (x - x - 9223372036854775807 - 1) % -1 end },
  { "compare", function(x) return x > 3 and x <= 40 or x == -2 end },
  { "even", function(x) return x % 2 == 0 end },
}

t.test("translated numeric functions agree with Lua", function()
  local pure = dusk.pure
  local xs = { math.mininteger, math.mininteger + 1, math.maxinteger }
  for x = -50, 50 do xs[#xs + 1] = x end
  for _, case in ipairs(numeric) do
    local name, f = case[1], case[2]
    local prog = assert(pure.compile(f), name)
    for _, x in ipairs(xs) do
      local got, how
      local ok, err = pcall(pure.each_range, x, x, { { "map", prog } },
        function(y) got, how = f(y), "lua" end, function(v) got, how = v, "c" end)
      local lok, want = pcall(f, x)
      t.eq(ok, lok, string.format("%s(%d): %s", name, x, tostring(err or want)))
      if ok then
        t.truthy(math.type(got) == math.type(want) and (got == want or (got ~= got and want ~= want)),
                 string.format("%s(%d): C gave %s, Lua %s", name, x, tostring(got), tostring(want)))
      else
        t.eq(err, want)
      end
    end
  end
end)

t.test("ranges run in C: filter, map, sum and count as the Lua loop", function()
  local db = dusk.bag
  local even = function(x) return x % 2 == 0 end
  local square = function(x) return x * x end
  local want = 0
  for x = 0, 99999, 2 do want = want + x * x end
  t.eq(db.range(100000, { npartitions = 7 }):filter(even):map(square):sum():compute(), want)
  t.eq(db.range(100000, { npartitions = 3 }):remove(even):count():compute(), 50000)
  -- floats summed in order, to the bit
  local third = function(x) return x / 3 end
  local fsum = 0.0
  for x = 0, 9999 do fsum = fsum + x / 3 end
  t.eq(db.range(10000, { npartitions = 1 }):map(third):sum():compute(), fsum)
  -- a step that does not translate: the rest runs in Lua
  local up = 0
  local listed = db.range(10, { npartitions = 2 }):filter(even):map(function(x) return x + up end)
    :compute()
  t.eq(listed, { 0, 2, 4, 6, 8 })
  -- values Lua must add: strings are coerced as Lua does
  local str = function(x) return x > 5 and "1" or x end
  t.eq(db.range(10, { npartitions = 2 }):map(function(x) return x > 5 and 1 or x end):sum():compute(),
       0 + 1 + 2 + 3 + 4 + 5 + 4)
  t.eq(pcall(function() return db.range(10):map(str):sum():compute() end), true)
  -- errors are Lua's, naming the step and the element
  local err = t.raises("map failed on element 0", function()
    return db.range(10, { npartitions = 2 }):map(function(x) return 1 // x end):sum():compute()
  end)
  local zero = 0
  local _, lua_err = pcall(function() return 1 // zero end)
  t.truthy(err:find(lua_err:match(": (.*)$"), 1, true), err)
end)

t.test("a second element read lists the array, as a Lua record does", function()
  local json, pure = dusk.json, dusk.pure
  -- Lua lists t on its second read by index, and raises for '5ull'
  local line = '{"t": [1, 2, 5ull]}'
  local f = function(r) local t = r.t return t[1] + t[2] end
  local g = function(r) return r.t[1] + r.t[2] end -- two records: no listing
  local path = os.tmpname()
  local h = assert(io.open(path, "w"))
  h:write(line, "\n")
  h:close()
  for _, fn in ipairs({ f, g }) do
    local got
    local ok, err = pcall(json.each_record, path, nil, json.decode, { { "map", pure.compile(fn) } },
      function(l) got = fn(json.decode(l)) end, function(r) got = fn(r) end,
      function(x) got = x end)
    local lok, want = pcall(fn, json.decode(line))
    t.eq(ok, lok, tostring(err))
    if ok then t.eq(got, want) end
  end
  os.remove(path)
end)
