-- Bag semantics where a wrong answer could come without an error: keys
-- an element lacks, lists with holes, fold's initial, NaN and tables as
-- keys, integral floats as arguments.  Expected values are Dask's.
local t = ...
local db = dusk.bag
local json = dusk.json

local SCHEDULERS = { { scheduler = "sync" }, { scheduler = "threads" },
                     { scheduler = "threads", num_workers = 3 } }

local function add(a, b) return a + b end

-- Every way of reading a bag's elements agrees: compute, count, and the
-- sum of its partitions' counts through map_partitions.
local function agree(b, want, what)
  for _, o in ipairs(SCHEDULERS) do
    t.eq(b:compute(o), want, what)
    t.eq(b:count():compute(o), #want, what .. ": count")
    t.eq(b:map_partitions(function(p) return { #p } end):sum():compute(o), #want, what .. ": partitions")
  end
end

local function lines_file(text)
  local d = t.tmpdir()
  t.write(d .. "/r.json", text)
  return d, d .. "/r.json"
end

t.test("pluck: a missing key is an error naming the element, never a shorter list", function()
  local recs = { { a = 1 }, { b = 2 }, { a = 3 }, { a = 4 }, { a = 5 } }
  for n = 1, 3 do
    local b = db.from_sequence(recs, { npartitions = n })
    for _, o in ipairs(SCHEDULERS) do
      t.raises('pluck failed on element {b = 2}: it has no key "a"', function() b:pluck("a"):compute(o) end)
      t.raises('it has no key "a"', function() b:pluck("a"):count():compute(o) end)
      t.raises('pluck failed on element {b = 2}: it has no key "a"', function() b:pluck({ "a" }):compute(o) end)
      t.raises('it has no key "a"', function() b:pluck({ "a" }):count():compute(o) end)
    end
    agree(b:pluck("a", { default = 0 }), { 1, 0, 3, 4, 5 }, n .. " partitions")
    agree(b:pluck("a", { default = false }), { 1, false, 3, 4, 5 }, "a false default")
    agree(b:pluck({ "a", "b" }, { default = -1 }), { { 1, -1 }, { -1, 2 }, { 3, -1 }, { 4, -1 }, { 5, -1 } },
          "a list of keys")
  end
  -- indexes as keys; a Delayed default is computed first
  local lists = db.from_sequence({ { "H", "i" }, {}, { "W" } }, { npartitions = 2 })
  t.raises("it has no key 1", function() lists:pluck(1):compute() end)
  t.eq(lists:pluck(2, { default = dusk.delayed(function() return "?" end)() }):compute(), { "i", "?", "?" })
  t.raises("pluck: expected a key", function() lists:pluck(nil) end)
  t.raises('unknown option "dflt"', function() lists:pluck(1, { dflt = 0 }) end)
end)

t.test("pluck on JSON lines: the C path and Lua agree, null is a value", function()
  local d, path = lines_file('{"a":1}\n{"b":2}\n{"a":3}\n{"a":null}\n{"a":5}\n[7]\n')
  local recs = db.read_json(path)
  t.raises('/r.json:2: it has no key "a"', function() recs:pluck("a"):compute() end)
  t.raises('it has no key "a"', function() recs:pluck("a"):count():compute() end)
  t.raises('it has no key "a"', function() recs:pluck("a"):frequencies():compute() end)
  t.raises('it has no key "a"', function() recs:pluck({ "a" }):compute() end)
  local want = { 1, 0, 3, json.null, 5, 0 }
  agree(recs:pluck("a", { default = 0 }), want, "read_json")
  t.eq(recs:pluck("a", { default = 0 }):frequencies():compute(),
       { { 1, 1 }, { 0, 2 }, { 3, 1 }, { json.null, 1 }, { 5, 1 } })
  t.eq(recs:pluck({ "a" }, { default = 0 }):compute(), { { 1 }, { 0 }, { 3 }, { json.null }, { 5 }, { 0 } })
  -- the same through cjson-like plain tables (Lua only)
  agree(recs:map(function(r) return { a = r.a, b = r.b } end):pluck("a", { default = 0 }),
        { 1, 0, 3, json.null, 5, 0 }, "plain tables")
  os.execute("rm -rf " .. d)
end)

t.test("lists with holes are refused wherever they enter a bag", function()
  local hole = "has a hole: element 2 is nil but element 3 is not"
  t.raises("from_sequence: the list has a hole: element 2 is nil but element", function()
    db.from_sequence({ 1, nil, 3, nil, 5, 6, 7, nil }, { npartitions = 2 })
  end)
  t.raises("from_sequence: the list " .. hole, function() db.from_sequence({ 1, nil, 3 }) end)
  local sparse = { 1 }
  sparse[3] = 3
  t.raises("from_sequence: the list " .. hole, function() db.from_sequence(sparse) end)
  t.raises("from_sequence: the list has a hole: element 2 is nil and its field n is 3", function()
    db.from_sequence(table.pack(1, nil, 3))
  end)
  t.raises("element 3 is nil and its field n is 3", function() db.from_sequence(table.pack(1, 2, nil)) end)
  local b = db.from_sequence({ 1, 2, 3, 4 }, { npartitions = 2 })
  for _, o in ipairs(SCHEDULERS) do
    t.raises("the list map_partitions returned for partition 1 " .. hole, function()
      -- only partition 1 has a hole: which partition fails first is the
      -- threads' order
      b:map_partitions(function(p) return p[1] == 1 and { 1, nil, 3 } or p end):compute(o)
    end)
    t.raises("map_partitions returned for partition", function()
      b:map_partitions(function() return { 1, nil, 3 } end):count():compute(o)
    end)
    t.raises("flatten failed on element {1, [3] = 3}: it " .. hole, function()
      db.from_sequence({ { 0 }, { 1, nil, 3 } }):flatten():compute(o)
    end)
    t.raises("it has a hole", function() db.from_sequence({ { 1, nil, 3 } }):flatten():count():compute(o) end)
    t.raises("from_delayed: the list the Delayed of partition 1 gave " .. hole, function()
      db.from_delayed({ dusk.delayed(function() return { 1, nil, 3 } end)() }):compute(o)
    end)
    local err = t.raises("its argument list " .. hole, function()
      db.from_sequence({ { 1, nil, 3 } }):starmap(function(x, y, z) return 1 end):compute(o)
    end)
    t.truthy(err:find("starmap failed on element {1, [3] = 3}: ", 1, true), err)
  end
  local d = dusk.delayed(function() return { 1 } end)()
  t.raises("from_delayed: the list " .. hole, function() db.from_delayed({ d, nil, d }) end)
  t.raises("pluck: the list of keys " .. hole, function() b:pluck({ 1, nil, 2 }) end)
  t.raises("read_text: the list of paths " .. hole, function() db.read_text({ "a", nil, "b" }) end)
  -- an explicit n gives the length; starmap passes nils inside it on
  agree(db.from_sequence(table.pack(1, 2, 3), { npartitions = 2 }), { 1, 2, 3 }, "table.pack")
  agree(b:map_partitions(function(p) return table.pack(#p, 0) end), { 2, 0, 2, 0 }, "a partition with n")
  agree(db.from_sequence({ { 1, 2 }, table.pack(3) }):flatten(), { 1, 2, 3 }, "flatten with n")
  agree(db.from_sequence({ table.pack(1, nil, 3), { 4, 5, 6 } }, { npartitions = 2 })
          :starmap(function(x, y, z) return tostring(x) .. tostring(y) .. tostring(z) end),
        { "1nil3", "456" }, "starmap with n")
  agree(db.from_sequence({ { 1, nil } }):flatten(), { 1 }, "a trailing nil is no element")
end)

t.test("fold: initial once per partition, combine without it (Dask's test_fold)", function()
  local L = {}
  for _ = 1, 3 do for x = 0, 4 do L[#L + 1] = x end end
  for _, n in ipairs({ 1, 3, 5 }) do
    local b = db.from_sequence(L, { npartitions = n })
    for _, o in ipairs(SCHEDULERS) do
      t.eq(b:fold(add):compute(o), 30)
      t.eq(b:fold(add, add, 10):compute(o), 30 + 10 * b.npartitions)
      t.eq(b:fold(add, nil, 10, { split_every = 2 }):compute(o), 30 + 10 * b.npartitions)
    end
  end
  -- an empty partition gives initial; with no initial it gives nothing, and
  -- a nil from binop is a result like any other
  local sparse = db.from_sequence({ 1, 2, 3, 4 }, { npartitions = 4 }):filter(function(x) return x > 2 end)
  t.eq(sparse:fold(add, add, 100):compute(), 407)
  t.eq(sparse:fold(add):compute(), 7)
  local firstnil = db.from_sequence({ 1, 2, 3, 4, 5, 6 }, { npartitions = 3 })
    :fold(function(a, x) return x > 2 and a + x or nil end,
          function(a, b) return tostring(a) .. "," .. tostring(b) end)
  t.eq(firstnil:compute(), "nil,7,11")
  t.raises("fold of an empty bag with no initial value", function() db.from_sequence({}):fold(add):compute() end)
  t.eq(db.from_sequence({}):fold(add, add, 10):compute(), 10)
end)

t.test("foldby: Dask's results at every tree shape, initial a function per key", function()
  local b = db.range(20, { npartitions = 10 })
  local function iseven(x) return x % 2 == 0 end
  -- /usr/bin/python3: b.foldby(iseven, add, 100, add, 1000, split_every=k)
  for k, want in pairs({ [2] = { 12090, 12100 }, [4] = { 5090, 5100 }, [8] = { 4090, 4100 },
                         [20] = { 2090, 2100 } }) do
    t.eq(b:foldby(iseven, add, 100, add, 1000, { split_every = k }):compute(),
         { { true, want[1] }, { false, want[2] } }, "split_every " .. k)
  end
  t.eq(b:foldby(iseven, add, 100):compute(), { { true, 1090 }, { false, 1100 } })
  t.eq(b:foldby(iseven, add):compute(), { { true, 90 }, { false, 100 } })
  t.eq(b:foldby(iseven, add, function() return 5 end):compute(), { { true, 140 }, { false, 150 } })
  -- a table per key, not one shared by the keys of a partition
  local lists = db.range(6, { npartitions = 1 }):foldby(iseven, function(acc, x)
    acc[#acc + 1] = x
    return acc
  end, function() return {} end, function(a, c) return table.move(c, 1, #c, #a + 1, a) end)
  t.eq(lists:compute(), { { true, { 0, 2, 4 } }, { false, { 1, 3, 5 } } })
end)

t.test("NaN is one key; tables and records compare by content, exactly", function()
  local nan = 0 / 0
  local function nans(l) for i, v in ipairs(l) do if v == "NaN" then l[i] = nan end end return l end
  for _, n in ipairs({ 1, 3 }) do
    local b = db.from_sequence(nans({ 1.0, "NaN", 2.0, "NaN", 1.0, "NaN" }), { npartitions = n })
    for _, o in ipairs(SCHEDULERS) do
      t.eq(b:frequencies():compute(o), { { 1.0, 2 }, { nan, 3 }, { 2.0, 1 } })
      t.eq(b:distinct():compute(o), { 1.0, nan, 2.0 })
      t.eq(b:groupby(function(x) return x end):compute(o), { { 1.0, { 1.0, 1.0 } }, { nan, { nan, nan, nan } },
                                                          { 2.0, { 2.0 } } })
      t.eq(b:foldby(function(x) return x end, function(a) return a + 1 end, 0):compute(o),
           { { 1.0, 2 }, { nan, 3 }, { 2.0, 1 } })
      t.eq(b:map(function(x) return { x } end):distinct():compute(o), { { 1.0 }, { nan }, { 2.0 } })
    end
  end
  -- floats exactly, 1 and 1.0 one value in tables too; no string stands for a table
  t.eq(db.from_sequence({ { 0.1 + 0.2 }, { 0.3 }, { 1 }, { 1.0 }, { "x" }, { "s1:x" }, { [1.5] = "a" } })
         :distinct():compute(), { { 0.1 + 0.2 }, { 0.3 }, { 1 }, { "x" }, { "s1:x" }, { [1.5] = "a" } })
  t.eq(db.from_sequence({ "{}", {}, "nan", nan, "\0table{}", { a = "b,c" }, { a = "b", c = true } })
         :frequencies():compute(),
       { { "{}", 1 }, { {}, 1 }, { "nan", 1 }, { nan, 1 }, { "\0table{}", 1 }, { { a = "b,c" }, 1 },
         { { a = "b", c = true }, 1 } })
  -- dusk.json records are tables here, and equal plain tables
  local recs = { json.decode('{"a":1}'), json.decode('{ "a" : 1.0 }'), { a = 1 }, json.decode("[1,2]"),
                 json.decode("[1, 2]"), json.null, json.null }
  local f = db.from_sequence(recs, { npartitions = 3 }):frequencies():compute()
  t.eq(#f, 3)
  t.eq({ f[1][2], f[2][2], f[3][2] }, { 3, 2, 2 })
  t.eq(f[3][1], json.null)
end)

t.test("nil keys and tables with cycles are errors naming the element", function()
  local cyc = { 1 }
  cyc[2] = cyc
  local b = db.from_sequence({ { 1 }, cyc }, { npartitions = 2 })
  for _, o in ipairs(SCHEDULERS) do
    t.raises("frequencies failed on element {1, <cycle>}: it holds itself", function() b:frequencies():compute(o) end)
    t.raises("distinct failed on element {1, <cycle>}: it holds itself", function() b:distinct():compute(o) end)
    t.raises("groupby failed on element {1, <cycle>}: it holds itself",
             function() b:groupby(function(x) return x end):compute(o) end)
    t.raises("foldby failed on element {1, <cycle>}: it holds itself",
             function() b:foldby(function(x) return x end, add):compute(o) end)
  end
  local recs = db.from_sequence({ { k = 1 }, { j = 2 } }, { npartitions = 2 })
  t.raises('groupby failed on element {j = 2}: it has no key "k"', function() recs:groupby("k"):compute() end)
  t.raises("groupby failed on element {j = 2}: its key is nil",
           function() recs:groupby(function(r) return r.k end):compute() end)
  t.raises('foldby failed on element {j = 2}: it has no key "k"', function() recs:foldby("k", add):compute() end)
  t.raises('topk failed on element {j = 2}: it has no key "k"', function() recs:topk(1, "k"):compute() end)
  t.raises("topk failed on element {j = 2}: its key is nil",
           function() recs:topk(1, function(r) return r.k end):compute() end)
  -- a failing reduction is named, not the step before it
  t.raises("groupby failed on element {j = 2}",
           function() recs:map(function(r) return r end):groupby("k"):compute() end)
end)

t.test("min, max and topk with NaN: defined whatever the order and partitions", function()
  local nan = 0 / 0
  for _, l in ipairs({ { nan, 1.0, 3.0, 2.0 }, { 1.0, 3.0, nan, 2.0 }, { 1.0, 3.0, 2.0, nan } }) do
    for n = 1, 4 do
      local b = db.from_sequence(l, { npartitions = n })
      t.eq(b:min():compute(), nan, "min is NaN")
      t.eq(b:max():compute(), nan, "max is NaN")
      -- NaN ranks below every number
      t.eq(b:topk(2):compute(), { 3.0, 2.0 })
      t.eq(b:topk(4):compute(), { 3.0, 2.0, 1.0, nan })
      t.eq(b:topk(2, function(x) return -x end):compute(), { 1.0, 2.0 })
    end
  end
  local twonan = db.from_sequence({ { nan, "a" }, { 1, "b" }, { nan, "c" } }, { npartitions = 2 })
  t.eq(twonan:topk(3, 1):compute(), { { 1, "b" }, { nan, "a" }, { nan, "c" } }, "NaN ties by position")
end)

t.test("integral floats are integers in every numeric argument; others name it", function()
  t.eq(db.range(1e6):count():compute(), 1000000)
  t.eq(db.range(10, { npartitions = 2.0 }).npartitions, 2)
  local b = db.from_sequence({ 1, 2, 3, 4, 5, 6 }, { npartitions = 3.0 })
  t.eq(b.npartitions, 3)
  t.eq(db.from_sequence({ 1, 2, 3, 4, 5, 6 }, { partition_size = 4.0 }).npartitions, 2)
  t.eq(b:take(2.0), { 1, 2 })
  t.eq(b:take(3, { npartitions = 2.0 }), { 1, 2, 3 })
  t.eq(b:take(9, { npartitions = -1.0 }), { 1, 2, 3, 4, 5, 6 })
  t.eq(b:repartition(2.0).npartitions, 2)
  t.eq(b:topk(2.0):compute(), { 6, 5 })
  t.eq(b:sum({ split_every = 2.0 }):compute(), 21)
  t.eq(b:frequencies({ split_every = 2.0 }):count():compute(), 6)
  for what, f in pairs({
    ["range: n must be a non-negative integer, got 2.5"] = function() db.range(2.5) end,
    ["range: npartitions must be a positive integer, got 1.5"] = function() db.range(3, { npartitions = 1.5 }) end,
    ["from_sequence: npartitions must be a positive integer, got 2.5"] =
      function() db.from_sequence({ 1 }, { npartitions = 2.5 }) end,
    ["from_sequence: partition_size must be a positive integer, got 0"] =
      function() db.from_sequence({ 1 }, { partition_size = 0 }) end,
    ["take: k must be a non-negative integer, got 2.5"] = function() b:take(2.5) end,
    ["take: npartitions must be an integer, got 1.5"] = function() b:take(1, { npartitions = 1.5 }) end,
    ["take: npartitions is 4, but the bag has only 3 partitions"] = function() b:take(1, { npartitions = 4 }) end,
    ["repartition: n must be a positive integer, got 2.5"] = function() b:repartition(2.5) end,
    ["topk: k must be a non-negative integer, got 2.5"] = function() b:topk(2.5) end,
    ["sum: split_every must be an integer of at least 2, got 2.5"] = function() b:sum({ split_every = 2.5 }) end,
    ["range: n must be a non-negative integer, got 1e+100"] = function() db.range(1e100) end,
    ["take: k must be a non-negative integer, got 2"] = function() b:take("2") end,
  }) do
    t.raises(what, f)
  end
end)

-- (tests/lua/dask_moments.py wrote these with Dask)
t.test("mean, var and std give Dask's numbers to the last bit, at every tree shape", function()
  local cases = dofile(debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "dask_moments.lua")
  t.truthy(#cases >= 18, "the cases")
  for _, c in ipairs(cases) do
    local b = db.from_sequence(c.data, { npartitions = c.npartitions })
    local what = string.format("%s in %d partitions", c.name, c.npartitions)
    for _, o in ipairs(SCHEDULERS) do
      for _, split_every in ipairs { 8, 2, 3 } do
        local w = string.format("%s, split_every %d: ", what, split_every)
        t.eq(b:mean({ split_every = split_every }):compute(o), c.mean, w .. "mean")
        for ddof = 0, 1 do
          local so = { ddof = ddof, split_every = split_every }
          t.eq(b:var(so):compute(o), c.var[ddof + 1], w .. "var ddof " .. ddof)
          if c.std[ddof + 1] == "error" then
            t.raises("std of a bag whose variance rounded below 0", function() b:std(so):compute(o) end)
          else
            t.eq(b:std(so):compute(o), c.std[ddof + 1], w .. "std ddof " .. ddof)
          end
        end
      end
      -- in one shared pass too
      if c.std[1] ~= "error" then
        t.eq({ dusk.compute(b:mean(), b:var(), b:std({ ddof = 1 }), o) },
             { c.mean, c.var[1], c.std[2] }, what .. ": shared")
      end
    end
  end
end)
