local t = ...
local db = dusk.bag
local core = require "dusk.core"

local SCHEDULERS = { { scheduler = "sync" }, { scheduler = "threads" },
                     { scheduler = "threads", num_workers = 3 } }

local function parts(b)
  local layers, idx = getmetatable(b).__dusk_targets(b)
  return core.compute(layers, idx, { scheduler = "sync" })
end

local function seq(n) local l = {} for i = 1, n do l[i] = i end return l end
local function is_even(x) return x % 2 == 0 end

t.test("from_sequence: partition sizes as Dask computes them", function()
  t.eq(db.from_sequence(seq(5)).npartitions, 5)
  t.eq(db.from_sequence(seq(99)).npartitions, 99)
  t.eq(db.from_sequence(seq(101)).npartitions, 101)
  t.eq(db.from_sequence(seq(1000)).npartitions, 100)
  t.eq(db.from_sequence(seq(10000)).npartitions, 100)
  t.eq(parts(db.from_sequence(seq(10), { npartitions = 3 })), { { 1, 2, 3, 4 }, { 5, 6, 7, 8 }, { 9, 10 } })
  t.eq(parts(db.from_sequence(seq(7), { partition_size = 3 })), { { 1, 2, 3 }, { 4, 5, 6 }, { 7 } })
  local empty = db.from_sequence({})
  t.eq(empty.npartitions, 1)
  t.eq(empty:compute(), {})
  t.raises("npartitions must be a positive integer", function() db.from_sequence({}, { npartitions = 0 }) end)
  t.raises('unknown option "nparts"', function() db.from_sequence({}, { nparts = 2 }) end)
end)

t.test("range: 0 .. n-1 split as Dask", function()
  t.eq(parts(db.range(10, { npartitions = 3 })), { { 0, 1, 2 }, { 3, 4, 5 }, { 6, 7, 8, 9 } })
  t.eq(db.range(0):compute(), {})
  t.eq(db.range(3, { npartitions = 8 }).npartitions, 3)
  t.eq(#db.range(100000, { npartitions = 7 }):compute(), 100000)
end)

t.test("the seed: is_even and square on 1..10", function()
  local b = db.from_sequence(seq(10))
  for _, o in ipairs(SCHEDULERS) do
    t.eq(b:filter(is_even):map(function(x) return x * x end):compute(o), { 4, 16, 36, 64, 100 })
  end
end)

t.test("element operations", function()
  local b = db.from_sequence(seq(6), { npartitions = 2 })
  t.eq(b:remove(is_even):compute(), { 1, 3, 5 })
  t.eq(b:map(function(x, a, c) return x * a + c end, 10, 1):compute(), { 11, 21, 31, 41, 51, 61 })
  local recs = db.from_sequence({ { name = "a", n = 1 }, { name = "b", n = 2 } })
  t.eq(recs:pluck("name"):compute(), { "a", "b" })
  t.eq(recs:pluck({ "n", "name" }):compute(), { { 1, "a" }, { 2, "b" } })
  t.eq(db.from_sequence({ { 1, 2 }, {}, { 3 } }):flatten():compute(), { 1, 2, 3 })
  t.eq(db.from_sequence({ { 1, 2 }, { 3, 4 } }):starmap(function(a, b) return a * b end):compute(), { 2, 12 })
  t.eq(db.from_sequence({ { 1, 2 } }):starmap(function(a, b, c) return a + b + c end, 100):compute(), { 103 })
  t.eq(b:map_partitions(function(p) return { #p } end):compute(), { 3, 3 })
  t.eq(b:map_partitions(function(p, k) return { #p * k } end, 10):compute(), { 30, 30 })
end)

t.test("a Delayed among map's arguments is computed first", function()
  local k = dusk.delayed(function() return 100 end)()
  local b = db.from_sequence(seq(4), { npartitions = 2 })
  t.eq(b:map(function(x, y) return x + y end, k):compute(), { 101, 102, 103, 104 })
  t.eq(b:map(function(x, t) return x + t.v end, { v = k }):compute(), { 101, 102, 103, 104 })
  t.eq(b:map_partitions(function(p, y) return { #p + y } end, k):compute(), { 102, 102 })
  t.eq(b:map(function(x, y) return x * y end, k):filter(is_even):map(function(x, z) return x + z end, k):compute(),
       { 200, 300, 400, 500 })
end)

t.test("chains fuse into one task per partition", function()
  local b = db.from_sequence(seq(100), { npartitions = 4 })
  local c = b:map(function(x) return { x = x, y = { x } } end):filter(function(r) return r.x % 3 > 0 end)
             :pluck("y"):flatten():map(function(x) return x + 1 end)
  local layers, idx = getmetatable(c).__dusk_targets(c)
  t.eq(#core.plan(layers, idx).tasks, 4)
  t.eq(#c:compute(), 67)
  local s = c:sum()
  t.eq(#core.plan({ s }, { 1 }).tasks, 5, "four partials (the pipeline fused in) and the total")
end)

t.test("errors name the operation and the element", function()
  local b = db.from_sequence({ 1, 2, "three", 4 }, { npartitions = 2 })
  local err = t.raises("map failed on element \"three\"", function()
    b:map(function(x) return x + 1 end):compute()
  end)
  t.truthy(err:find("bag_test.lua:%d+: attempt to add a 'string' with a 'number'"), err)
  err = t.raises("map failed on element 2: ", function()
    b:map(function(x) if x ~= 2 then return x end end):compute()
  end)
  t.truthy(err:find("element 2: [^\n]*bag_test%.lua:%d+: it returned nil %(use filter to drop elements%)"), err)
  t.truthy(err:find("^task %(map%-%d+, 1%) failed"), err)
  t.raises("filter failed on element \"three\"", function()
    b:filter(function(x) return x > 1 end):compute()
  end)
  -- both partitions fail; whichever fails first is reported
  local e = t.raises("flatten failed on element ", function() b:flatten():compute() end)
  t.truthy(e:find("element 1: cannot flatten a number", 1, true)
           or e:find('element "three": cannot flatten a string', 1, true), e)
  t.raises("map_partitions must return a list", function()
    b:map_partitions(function() return 1 end):compute()
  end)
  t.raises("map: expected a function", function() b:map(3) end)
  t.eq(b:count():compute(), 4, "the runtime works afterwards")
end)

t.test("reductions: Items with Dask's results", function()
  local b = db.range(10, { npartitions = 3 })
  for _, o in ipairs(SCHEDULERS) do
    t.eq(b:sum():compute(o), 45)
    t.eq(b:count():compute(o), 10)
    t.eq(b:min():compute(o), 0)
    t.eq(b:max():compute(o), 9)
    t.eq(b:mean():compute(o), 4.5)
    t.truthy(math.abs(b:std():compute(o) - 2.8722813232690143) < 1e-12)
    t.truthy(math.abs(b:var():compute(o) - 8.25) < 1e-12)
    t.truthy(math.abs(b:var({ ddof = 1 }):compute(o) - 82.5 / 9) < 1e-12)
    t.eq(b:map(function(x) return x > 8 end):any():compute(o), true)
    t.eq(b:map(function(x) return x > 8 end):all():compute(o), false)
  end
  t.eq(math.type(b:sum():compute()), "integer")
  t.eq((b:sum() / b:count()):compute(), 4.5, "Items are lazy values")
  t.truthy(tostring(b:sum()):find("^Delayed%('sum%-%d+'%)$"))
end)

t.test("reductions over many partitions are trees (split_every)", function()
  local b = db.range(1000, { npartitions = 50 })
  local s = b:sum({ split_every = 3 })
  t.eq(s:compute(), 499500)
  local p = core.plan({ s }, { 1 })
  t.eq(#p.tasks, 50 + 17 + 6 + 2 + 1, "levels of 3")
  local r = b:reduction(function(l) return #l end, function(l)
    local n = 0
    for _, v in ipairs(l) do n = n + v end
    return n
  end, { split_every = 4 })
  t.eq(r:compute(), 1000)
  t.eq(b:fold(function(a, x) return a + x end):compute(), 499500)
  t.eq(b:fold(function(a, x) return a + x end, nil, 0):compute(), 499500)
  t.eq(db.from_sequence({ "a", "b", "c" }, { npartitions = 3 })
         :fold(function(a, x) return a .. x end, function(a, x) return a .. x end, ""):compute(), "abc")
end)

t.test("empty bags and empty partitions", function()
  local empty = db.from_sequence({})
  t.eq(empty:sum():compute(), 0)
  t.eq(empty:count():compute(), 0)
  t.eq(empty:any():compute(), false)
  t.eq(empty:all():compute(), true)
  t.eq(empty:frequencies():compute(), {})
  t.eq(empty:distinct():compute(), {})
  t.eq(empty:topk(3):compute(), {})
  t.raises("max of an empty bag", function() empty:max():compute() end)
  t.raises("mean of an empty bag", function() empty:mean():compute() end)
  local sparse = db.from_sequence(seq(10), { npartitions = 4 }):filter(function(x) return x > 8 end)
  t.eq(sparse:compute(), { 9, 10 })
  t.eq(sparse:sum():compute(), 19)
  t.eq(sparse:min():compute(), 9)
  t.eq(sparse:mean():compute(), 9.5)
end)

t.test("frequencies, distinct: first-occurrence order, tables by value", function()
  local b = db.from_sequence({ 3, 1, 3, 2, 1, 3 }, { npartitions = 2 })
  for _, o in ipairs(SCHEDULERS) do
    t.eq(b:frequencies():compute(o), { { 3, 3 }, { 1, 2 }, { 2, 1 } })
    t.eq(b:distinct():compute(o), { 3, 1, 2 })
  end
  local words = db.from_sequence({ "b", "a", "b", "c", "a", "b" }, { npartitions = 3 })
  t.eq(words:frequencies({ split_every = 2 }):compute(), { { "b", 3 }, { "a", 2 }, { "c", 1 } })
  local tabs = db.from_sequence({ { 1, 2 }, { x = 1 }, { 1, 2 }, { 2, 1 } }, { npartitions = 2 })
  t.eq(tabs:distinct():compute(), { { 1, 2 }, { x = 1 }, { 2, 1 } })
  t.eq(tabs:frequencies():compute(), { { { 1, 2 }, 2 }, { { x = 1 }, 1 }, { { 2, 1 }, 1 } })
  t.eq(db.from_sequence({ 1, "1", 1.5, true }):distinct():compute(), { 1, "1", 1.5, true })
end)

t.test("topk: largest first, ties keep the earlier element", function()
  local b = db.from_sequence({ 1, 5, 3, 5, 2 }, { npartitions = 2 })
  t.eq(b:topk(2):compute(), { 5, 5 })
  local pairs_ = db.from_sequence({ { 1, "a" }, { 5, "b" }, { 3, "c" }, { 5, "d" } }, { npartitions = 2 })
  for _, o in ipairs(SCHEDULERS) do
    t.eq(pairs_:topk(2, 1):compute(o), { { 5, "b" }, { 5, "d" } })
    t.eq(pairs_:topk(3, function(p) return -p[1] end):compute(o), { { 1, "a" }, { 3, "c" }, { 5, "b" } })
  end
  local recs = db.from_sequence({ { n = 2 }, { n = 9 }, { n = 4 } })
  t.eq(recs:topk(1, "n"):compute(), { { n = 9 } })
  t.eq(b:topk(10):compute(), { 5, 5, 3, 2, 1 })
  local big = db.range(10000, { npartitions = 9 }):topk(5, function(x) return x % 1000 end, { split_every = 2 })
  t.eq(big:compute(), { 999, 1999, 2999, 3999, 4999 })
end)

t.test("foldby and groupby across partitions, as Dask", function()
  local b = db.range(10, { npartitions = 3 })
  local function mod3(x) return x % 3 end
  local function add(a, x) return a + x end
  for _, o in ipairs(SCHEDULERS) do
    t.eq(b:foldby(mod3, add, 0):compute(o), { { 0, 18 }, { 1, 12 }, { 2, 15 } })
    t.eq(b:foldby(mod3, add):compute(o), { { 0, 18 }, { 1, 12 }, { 2, 15 } })
    t.eq(b:groupby(mod3):compute(o), { { 0, { 0, 3, 6, 9 } }, { 1, { 1, 4, 7 } }, { 2, { 2, 5, 8 } } })
  end
  -- count per key: binop counts within a partition, combine adds the counts
  t.eq(b:foldby(mod3, function(a) return a + 1 end, 0, add, 0):compute(), { { 0, 4 }, { 1, 3 }, { 2, 3 } })
  local recs = db.from_sequence({ { k = "x", v = 1 }, { k = "y", v = 2 }, { k = "x", v = 3 } }, { npartitions = 3 })
  t.eq(recs:groupby("k"):compute(), { { "x", { { k = "x", v = 1 }, { k = "x", v = 3 } } },
                                      { "y", { { k = "y", v = 2 } } } })
  t.eq(db.range(1000, { npartitions = 20 }):groupby(mod3, { split_every = 3 }):count():compute(), 3)
end)

t.test("take computes the first partition only", function()
  local path = os.tmpname()
  local b = db.from_sequence(seq(10), { npartitions = 5 }):map(function(x, p)
    local f = assert(io.open(p, "a"))
    f:write(x, "\n")
    f:close()
    return x * 10
  end, path)
  t.eq(b:take(1), { 10 })
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  t.eq(n, 2, "only partition 1 (two elements) ran")
  t.eq(b:take(5), { 10, 20 }, "no more than the first partition has")
  t.eq(b:take(5, { npartitions = 3 }), { 10, 20, 30, 40, 50 })
  t.eq(b:take(100, { npartitions = -1 }), { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 })
  os.remove(path)
end)

t.test("repartition keeps the elements and their order", function()
  local b = db.from_sequence(seq(10), { npartitions = 3 })
  local five = b:repartition(5)
  t.eq(five.npartitions, 5)
  t.eq(parts(five), { { 1, 2 }, { 3, 4 }, { 5, 6 }, { 7, 8 }, { 9, 10 } })
  t.eq(parts(b:repartition(2)), { { 1, 2, 3, 4, 5 }, { 6, 7, 8, 9, 10 } })
  t.eq(b:repartition(1):compute(), seq(10))
  t.truthy(b:repartition(3) == b)
end)

t.test("from_delayed: each Delayed a partition", function()
  local part = dusk.delayed(function(a, n) local l = {} for i = 1, n do l[i] = a end return l end)
  local b = db.from_delayed({ part("x", 2), part("y", 1), part("z", 0) })
  t.eq(b.npartitions, 3)
  t.eq(b:compute(), { "x", "x", "y" })
  t.eq(b:count():compute(), 3)
  t.raises("not a list", function() db.from_delayed({ dusk.delayed(5) }):compute() end)
  t.raises("element 1 is a number", function() db.from_delayed({ 5 }) end)
end)

t.test("compute, dusk.compute, persist, summary", function()
  local path = os.tmpname()
  local b = db.from_sequence(seq(6), { npartitions = 3 }):map(function(x, p)
    local f = assert(io.open(p, "a"))
    f:write("ran\n")
    f:close()
    return x
  end, path)
  local l, s = dusk.compute(b, b:sum())
  t.eq({ l, s }, { seq(6), 21 })
  local p = b:persist()
  local runs = 0
  for _ in io.lines(path) do runs = runs + 1 end
  t.eq(p:filter(is_even):compute(), { 2, 4, 6 })
  t.eq(p:count():compute({ scheduler = "sync" }), 6)
  local after = 0
  for _ in io.lines(path) do after = after + 1 end
  t.eq(after, runs, "persisted partitions are not recomputed")
  p:release()
  os.remove(path)
  t.truthy(tostring(b):match("^dusk%.Bag<map, npartitions=3, tasks=3>$"), tostring(b))
end)

t.test("a Bag captured as an upvalue is refused", function()
  local b = db.from_sequence({ 1 })
  t.raises("pass it as an argument", function()
    db.from_sequence({ 1 }):map(function(x) return b end):compute()
  end)
end)
