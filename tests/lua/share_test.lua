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
