-- Work shared between the targets of one compute is done once (API.md
-- section 2): reductions of one bag, and the bag itself, run its pipeline
-- in one pass.  The map counts its calls in a file, which every worker
-- state reaches.
local t = ...

local db = dusk.bag

local function counted(path, list, np)
  return db.from_sequence(list, { npartitions = np }):map(function(x)
    local f = assert(io.open(path, "a"))
    f:write("x\n")
    f:close()
    return x * 2
  end)
end

local function calls(path)
  local n = 0
  local f = io.open(path)
  if not f then return 0 end
  for _ in f:lines() do n = n + 1 end
  f:close()
  os.remove(path)
  return n
end

local list = {}
for i = 1, 10 do list[i] = (i * 7) % 11 end

for _, scheduler in ipairs { "threads", "sync" } do
  for _, np in ipairs { 1, 3, 10 } do
    t.test(string.format("%s, %d partitions: count, sum, max, min map once", scheduler, np), function()
      local path = os.tmpname()
      local m = counted(path, list, np)
      local c, s, hi, lo = dusk.compute(m:count(), m:sum(), m:max(), m:min(), { scheduler = scheduler })
      t.eq(calls(path), #list)
      local want = {}
      for i = 1, #list do want[i] = list[i] * 2 end
      table.sort(want)
      local sum = 0
      for _, v in ipairs(want) do sum = sum + v end
      t.eq({ c, s, hi, lo }, { #list, sum, want[#want], want[1] })
    end)
  end
end

t.test("the bag itself, its frequencies, topk and mean in one pass, same answers as apart", function()
  local path = os.tmpname()
  local m = counted(path, list, 4)
  local all, freq, top, mean = dusk.compute(m, m:frequencies(), m:topk(3), m:mean())
  t.eq(calls(path), #list)
  t.eq(all, m:compute())
  t.eq(freq, m:frequencies():compute())
  t.eq(top, m:topk(3):compute())
  t.eq(mean, m:mean():compute())
  os.remove(path)
end)

t.test("the same target twice is computed once and given twice", function()
  local path = os.tmpname()
  local m = counted(path, list, 2)
  local s = m:sum()
  local a, b, c = dusk.compute(s, s, m:count())
  t.eq(calls(path), #list)
  t.eq(a, b)
  t.eq(c, #list)
end)

t.test("dusk.persist shares too, and an empty partition's min stays absent", function()
  local path = os.tmpname()
  local m = counted(path, { 1, 2, 3 }, 3):filter(function(x) return x > 2 end)
  local lo, hi = dusk.persist(m:min(), m:max())
  t.eq(calls(path), 3)
  t.eq({ lo:compute(), hi:compute() }, { 4, 6 })
end)

t.test("an error in a shared pass names the operation and the element", function()
  local m = db.from_sequence({ 1, "two", 3 }, { npartitions = 1 }):map(function(x) return x + 1 end)
  t.raises('map failed on element "two"', function() dusk.compute(m:sum(), m:count()) end)
end)

-- The first line of an error without its task's name ("task mean-part-12
-- failed: "), which differs between the lone and the shared graph.
local function failure(fn)
  local ok, e = pcall(fn)
  assert(not ok, "no error")
  return (tostring(e):match("[^\n]*"):gsub("^task [^ ]+ failed: ", ""))
end

t.test("a reduction that fails in a shared pass names itself as alone, not the pass", function()
  local m = db.from_sequence({ 1, "a", 2 }, { npartitions = 1 }):map(function(x) return x end)
  local function bad() error("bad binop", 0) end
  local reductions = {
    sum = function(b) return b:sum() end, min = function(b) return b:min() end,
    max = function(b) return b:max() end, mean = function(b) return b:mean() end,
    var = function(b) return b:var() end, std = function(b) return b:std() end,
    fold = function(b) return b:fold(bad) end,
    foldby = function(b) return b:foldby(function() return 1 end, bad) end,
    groupby = function(b) return b:groupby(function(x) if x ~= "a" then return x end end) end,
    topk = function(b) return b:topk(1, function() end) end,
    reduction = function(b) return b:reduction(function(l) return l[1] + l[2] end, bad) end,
  }
  for name, make in pairs(reductions) do
    for _, scheduler in ipairs { "threads", "sync" } do
      local o = { scheduler = scheduler }
      local alone = failure(function() return make(m):compute(o) end)
      local shared = failure(function() return dusk.compute(m:count(), make(m), m, o) end)
      t.eq(shared, alone, name)
      if name ~= "reduction" then -- (its perpartition runs after the pass, on the list)
        t.truthy(shared:find('^' .. name .. ' failed on element '), shared)
      end
      -- no line of dusk's own code where the element says it
      t.truthy(not shared:find("bag pipeline") and not shared:find("bagops"), shared)
    end
  end
end)

t.test("a step before the sinks that fails in a shared pass names the step and the user's line", function()
  local line = debug.getinfo(1, "l").currentline
  local m = db.from_sequence({ 1, 2, 3 }, { npartitions = 1 }):map(function(x)
    if x == 2 then error("boom") end
    return x
  end)
  local n = db.from_sequence({ 1, 2, 3 }, { npartitions = 1 }):filter(function(x) return x.v end)
  local q = db.from_sequence({ 1, 2, 3 }, { npartitions = 1 }):map(function(x) if x < 3 then return x end end)
  for _, scheduler in ipairs { "threads", "sync" } do
    local o = { scheduler = scheduler }
    local file = debug.getinfo(1, "S").short_src
    local want = string.format("map failed on element 2: %s:%d: boom", file, line + 2)
    t.eq(failure(function() return dusk.compute(m:mean(), m:count(), o) end), want)
    t.eq(failure(function() return m:mean():compute(o) end), want)
    want = string.format("filter failed on element 1: %s:%d: attempt to index a number value", file, line + 5)
    t.eq(failure(function() return dusk.compute(n:sum(), n, o) end):sub(1, #want), want)
    want = string.format("map failed on element 3: %s:%d: it returned nil", file, line + 6)
    t.eq(failure(function() return dusk.compute(q:max(), q:std(), o) end):sub(1, #want), want)
  end
end)
