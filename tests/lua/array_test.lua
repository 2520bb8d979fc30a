-- dusk.array against numpy: every case is computed by dusk on both
-- schedulers, with even and uneven chunks, and by numpy (Debian's
-- /usr/bin/python3 running tests/lua/array_expected.py) on the same data;
-- results must agree in shape, dtype and values (floats to a relative
-- 1e-12, float32 to 1e-5, integers and booleans exactly).

local t = ...
local da = dusk.array
local nda = dusk.ndarray
local json = dusk.json

local SCHEDULERS = { { scheduler = "sync" }, { scheduler = "threads", num_workers = 2 } }

-- The data, built as array_expected.py builds it.
local function grid2(n, m, f)
  local rows = {}
  for r = 0, n - 1 do
    local row = {}
    for c = 0, m - 1 do row[c + 1] = f(r * m + c) end
    rows[r + 1] = row
  end
  return rows
end
local a_t = grid2(15, 15, function(k) return k / 7.0 - 3.0 end)
local i_t = grid2(6, 7, function(k) return (k * 37) % 23 - 11 end)
local f32_t = grid2(5, 6, function(k) return k end)
local c3_t = {}
for p = 0, 3 do
  c3_t[p + 1] = grid2(5, 6, function(k) return ((p * 30 + k) ^ 1.5) % 17 end)
end

local A = da.from_table(a_t, { chunks = { 5, 5 } })
local AU = da.from_table(a_t, { chunks = { { 4, 6, 5 }, { 7, 8 } } })
local I = da.from_table(i_t, { chunks = { 4, 3 } })
local I32 = I:astype("int32")
local U8 = (da.arange(0, 40, { chunks = 7 }) * 11 % 256):astype("uint8")
-- numpy: arange(30, float32) * float32(0.1): the same products in float32
local F32 = da.from_table(f32_t, { chunks = { 2, 4 } }):astype("float32") * da.full({ 1 }, 0.1, { dtype = "float32" })
local B = (I % 3):eq(0)
local C3 = da.from_table(c3_t, { chunks = { 3, 2, 4 } })
local ROW = da.arange(0, 15, { chunks = 4 }) * 0.5
local COL = (da.arange(0, 15, { chunks = 6 }) - 7):astype("float64")
COL = da.from_ndarray(COL:compute():reshape({ 15, 1 }), { chunks = { 6, 1 } })
local NAN = da.from_table({ 1.0, 0 / 0, 3.0, -2.0, 5.0, 0 / 0, 0.5 }, { chunks = 3 })
local X5, X5B = da.arange(0, 5, { chunks = 5 }), da.arange(0, 5, { chunks = { { 2, 3 } } })
local M6 = da.arange(0, 6, { chunks = 6 }):reshape({ 2, 3 })

local cases = {
  { "add", function() return A + AU end, "a + a" },
  { "add transposed, other chunks", function() return A + AU.T end, "a + a.T" },
  { "chain", function() return (A * 2 - 1) / 3 end, "(a * 2 - 1) / 3" },
  { "floordiv", function() return A // 2 end, "a // 2" },
  { "mod of negatives", function() return AU % 3 end, "a % 3" },
  { "neg pow", function() return -(A ^ 2) end, "-(a ** 2)" },
  { "sqrt abs", function() return da.sqrt(da.abs(A)) end, "np.sqrt(np.abs(a))" },
  { "exp", function() return da.exp(A / 10) end, "np.exp(a / 10)" },
  { "gt sum", function() return A:gt(0):sum() end, "(a > 0).sum()" },
  { "where", function() return da.where(A:gt(0), A, 0) end, "np.where(a > 0, a, 0)" },
  { "broadcast a row", function() return A + ROW end, "a + row" },
  { "broadcast a column", function() return AU * COL end, "a * col" },
  { "sum", function() return A:sum() end, "a.sum()" },
  { "sum axis 1", function() return AU:sum { axis = 1 } end, "a.sum(axis=0)" },
  { "sum axis 2 keepdims", function() return A:sum { axis = 2, keepdims = true } end, "a.sum(axis=1, keepdims=True)" },
  { "mean axis -1", function() return AU:mean { axis = -1 } end, "a.mean(axis=-1)" },
  { "std ddof 1", function() return AU:std { ddof = 1 } end, "a.std(ddof=1)" },
  { "var axis 1", function() return A:var { axis = 1 } end, "a.var(axis=0)" },
  { "min", function() return AU:min() end, "a.min()" },
  { "max axis 2", function() return AU:max { axis = 2 } end, "a.max(axis=1)" },
  { "argmin", function() return AU:argmin() end, "a.argmin() + 1" },
  { "argmax axis 1", function() return (A * A):argmax { axis = 1 } end, "(a * a).argmax(axis=0) + 1" },
  { "split_every 2", function() return AU:sum { split_every = 2 } end, "a.sum()" },
  { "int add", function() return I + 1 end, "i + 1" },
  { "int32 + 1 stays int32", function() return I32 + 1 end, "i32 + np.int32(1)" },
  { "int32 * int64", function() return I32 * I end, "i32 * i" },
  { "int floordiv", function() return I // 3 end, "i // 3" },
  { "int mod", function() return I % 5 end, "i % 5" },
  { "int sum", function() return I:sum { axis = 2 } end, "i.sum(axis=1)" },
  { "int32 sum is int64", function() return I32:sum() end, "i32.sum()" },
  { "int prod", function() return (I % 4 + 1):prod { axis = 1 } end, "(i % 4 + 1).prod(axis=0)" },
  { "uint8 wraps", function() return U8 + 200 end, "u8 + np.uint8(200)" },
  { "uint8 sum", function() return U8:sum() end, "u8.sum()" },
  { "bool sum", function() return B:sum() end, "b.sum()" },
  { "bool any all", function() return B:any { axis = 1 } end, "b.any(axis=0)" },
  { "all", function() return B:all { axis = 2 } end, "b.all(axis=1)" },
  { "float32 * 1.5 stays float32", function() return F32 * 1.5 end, "f32 * np.float32(1.5)" },
  { "float32 sum", function() return F32:sum() end, "f32.sum()" },
  { "3-d sum of two axes", function() return C3:sum { axis = { 1, 3 } } end, "c3.sum(axis=(0, 2))" },
  { "3-d centred", function() return C3 - C3:mean { axis = 2, keepdims = true } end,
    "c3 - c3.mean(axis=1, keepdims=True)" },
  { "nan max", function() return NAN:max() end, "np.max(nan)" },
  { "nan argmax", function() return NAN:argmax() end, "np.argmax(nan) + 1" },
  { "nan sum", function() return NAN:sum() end, "np.sum(nan)" },
  { "arange", function() return da.arange(3, 40, 4, { chunks = 3 }) end, "np.arange(3, 40, 4)" },
  { "linspace", function() return da.linspace(0, 1, 11, { chunks = 4 }) end, "np.linspace(0, 1, 11)" },
  { "ones int32", function() return da.ones({ 3, 4 }, { chunks = 2, dtype = "int32" }) end,
    "np.ones((3, 4), dtype=np.int32)" },
  { "slice backwards", function() return A:slice({ -1, 1, -2 }, { 4, 15 }) end, "a[::-2, 3:15]" },
  { "slice an index", function() return AU:slice(3) end, "a[2]" },
  { "slice a column", function() return AU:slice({}, -1) end, "a[:, -1]" },
  { "slice steps both ways", function() return AU:slice({ 2, 14, 3 }, { -2, 2, -4 }) end, "a[1:14:3, -2:0:-4]" },
  { "slice of an expression", function() return (A + 1):slice({ 3, 9 }, 2) end, "(a + 1)[2:9, 1]" },
  { "slice to the end", function() return A:slice({ 10, -1 }) end, "a[9:]" },
  { "slice of a transpose", function() return AU.T:slice({ 2, 11, 2 }, { -3, 1, -1 }) end, "a.T[1:11:2, -3::-1]" },
  { "3-d transpose", function() return C3:transpose({ 3, 1, 2 }) end, "c3.transpose(2, 0, 1)" },
  { "rechunk", function() return AU:rechunk({ 7, 4 }) end, "a" },
  { "rechunk then add", function() return AU:rechunk({ 2, 15 }) + A end, "a + a" },
  { "concatenate", function() return da.concatenate({ A, AU }, 2) end, "np.concatenate([a, a], 1)" },
  { "concatenate promotes", function() return da.concatenate({ I, I32 }, 1) end, "np.concatenate([i, i32], 0)" },
  { "stack", function() return da.stack({ A, AU }, 2) end, "np.stack([a, a], 1)" },
  { "stack at the end", function() return da.stack({ I, I, I }, -1) end, "np.stack([i, i, i], -1)" },
  { "reshape 3-d to 2-d", function() return C3:reshape({ 20, 6 }) end, "c3.reshape(20, 6)" },
  { "reshape flat", function() return C3:reshape({ -1 }) end, "c3.reshape(-1)" },
  { "reshape uneven", function() return (AU * 2):reshape({ 5, 45 }) end, "(a * 2).reshape(5, 45)" },
  { "dot", function() return A:dot(AU.T) end, "a.dot(a.T)" },
  { "dot of one layer", function() return AU:dot(AU.T) end, "a.dot(a.T)" },
  { "dot matrix vector", function() return AU:dot(ROW) end, "a.dot(row)" },
  { "dot vector matrix", function() return ROW:dot(A) end, "row.dot(a)" },
  { "dot vectors", function() return ROW:dot(ROW) end, "row.dot(row)" },
  { "dot int64", function() return I:dot(I.T) end, "i.dot(i.T)" },
  { "dot int32", function() return I32:dot(I32.T) end, "i32.dot(i32.T)" },
  { "the seeds' dot and std", function() return (A:dot(A.T + 1) - A:mean()):std() end,
    "(a.dot(a.T + 1) - a.mean()).std()" },
  { "map_blocks", function() return AU:map_blocks(function(b) return b * 2 + 1 end) end, "a * 2 + 1" },
  -- what the hostile review found (broadcast slices, signed zeros, booleans, 0-d, empty)
  { "a length-1 slice broadcasts", function() return X5:slice({ 1, 1 }) + X5 end, "x5[0:1] + x5" },
  { "a length-1 column broadcasts", function() return M6:slice({}, { 1, 1 }) + M6 end, "m6[:, 0:1] + m6" },
  { "a length-1 row broadcasts", function() return M6:slice({ 1, 1 }) * 10 + M6 end, "m6[0:1] * 10 + m6" },
  { "a slice broadcast across blocks", function() return X5B:slice({ -1, -1 }) + X5B end, "x5[-1:] + x5" },
  { "a slice broadcast against another", function() return X5B:slice({ 4, 4 }) + X5B:slice({ 1, 3 }) end, "x5[3:4] + x5[0:3]" },
  { "-0.0 stays negative", function() return A / -0.0 end, "a / -0.0" },
  { "-0.0 times", function() return A * -0.0 end, "a * -0.0" },
  { "a boolean scalar", function() return A + true end, "a + True" },
  { "a 0-d sum", function() return da.full({}, 2.5):sum() end, "np.sum(np.float64(2.5))" },
  { "a 0-d argmax", function() return da.full({}, 2):argmax() end, "np.argmax(np.int64(2)) + 1" },
  { "an empty axis", function() return da.from_ndarray(nda.zeros({ 3, 0 })) + 1 end, "np.zeros((3, 0)) + 1" },
  { "an empty axis reversed", function() return da.zeros({ 7, 0 }, { chunks = { 1, 0 } }):slice({ 5, 4, -1 }, {}) end,
    "np.zeros((7, 0))[4:2:-1, :]" },
}

local expected
do
  local list = {}
  for _, c in ipairs(cases) do list[#list + 1] = { name = c[1], expr = c[3] } end
  local input = os.tmpname()
  t.write(input, json.encode(list))
  local code, out, err = t.sh("/usr/bin/python3 lua/array_expected.py < " .. input)
  os.remove(input)
  assert(code == 0, "array_expected.py failed: " .. err)
  expected = json.decode(out)
end

local function num(v)
  if type(v) == "string" then return load("return " .. v:gsub("nan", "0/0"):gsub("inf", "math.huge"))() end
  return v
end

local function close(got, want, dtype)
  if type(want) == "boolean" or type(got) == "boolean" then return got == want end
  if want ~= want then return got ~= got end
  if dtype == "float64" or dtype == "float32" then
    local tol = dtype == "float32" and 1e-5 or 1e-12
    if want == math.huge or want == -math.huge then return got == want end
    return math.abs(got - want) <= tol * math.max(1, math.abs(want))
  end
  return got == want and math.type(got) == "integer"
end

local function check(name, got, want)
  local shape, dtype, values
  if nda.is_ndarray(got) then
    shape, dtype = got.shape, got.dtype
    values = {}
    local flat = got:reshape({ got.size })
    for k = 1, got.size do values[k] = flat:get(k) end
  else
    shape, values = {}, { got }
    dtype = want.dtype
  end
  t.eq(table.concat(shape, ","), table.concat(want.shape, ","), name .. ": shape")
  t.eq(dtype, want.dtype, name .. ": dtype")
  for k, w in ipairs(want.values) do
    if not close(values[k], num(w), want.dtype) then
      error(string.format("%s: element %d is %s, numpy says %s", name, k, tostring(values[k]), tostring(w)), 0)
    end
  end
end

for _, c in ipairs(cases) do
  for _, opts in ipairs(SCHEDULERS) do
    t.test(c[1] .. " (" .. opts.scheduler .. ")", function()
      check(c[1], c[2]():compute(opts), expected[c[1]])
    end)
  end
end

t.test("elementwise operations fuse: one task per block", function()
  local x = da.random.random({ 100, 100 }, { chunks = 25, seed = 1 })
  local y = ((x + 1) * 2 - x) / 3
  t.eq(y.npartitions, 16)
  local plan = require("dusk.core").plan({ y._layer }, { 1 })
  t.eq(#plan.tasks, 1, "one block: one task, nothing before it")
end)

t.test("random numbers depend on the seed and the position only", function()
  local a = da.random.random({ 999, 1000 }, { chunks = { 100, 100 }, seed = 42 }):compute()
  local b = da.random.random({ 999, 1000 }, { chunks = { 333, 1000 }, seed = 42 }):compute({ scheduler = "sync" })
  local c = da.random.random({ 999, 1000 }, { chunks = { 999, 7 }, seed = 42 }):compute({ num_workers = 1 })
  t.eq(nda.abs(a - b):max(), 0.0)
  t.eq(nda.abs(a - c):max(), 0.0)
  local d = da.random.random({ 999, 1000 }, { chunks = { 100, 100 }, seed = 43 }):compute()
  t.truthy(nda.abs(a - d):max() > 0.5, "another seed, other numbers")
end)

t.test("the mean of a random array that never exists whole", function()
  local m = da.random.random({ 200, 300, 400 }, { chunks = { 50, 100, 100 }, seed = 7 }):mean():compute()
  t.truthy(math.abs(m - 0.5) < 0.002, "mean " .. m)
  local n = da.random.normal(2, 3, { 1000, 1000 }, { chunks = 250, seed = 3 })
  local mean, sd = dusk.compute(n:mean(), n:std())
  t.truthy(math.abs(mean - 2) < 0.02 and math.abs(sd - 3) < 0.02, mean .. " " .. sd)
  local r = da.random.randint(-5, 5, { 1000 }, { chunks = 300, seed = 3 })
  local lo, hi = dusk.compute(r:min(), r:max())
  t.eq({ lo, hi }, { -5, 4 })
end)

t.test("errors name the operation and the shapes, at the line that built it", function()
  t.raises("operands could not be broadcast together with shapes (15,15) (4,)",
           function() return A + da.ones({ 4 }) end)
  t.raises("axis 3 is out of bounds for an array of 2 dimensions", function() return A:sum { axis = 3 } end)
  t.raises("unknown dtype", function() return A:astype("complex") end)
  t.raises("slice: axis 1: bound 99 is out of range for length 15", function() local s = A:slice({ 10, 99 }); return s end)
  t.raises("slice: index 16 is out of bounds for axis 2 with size 15", function() local s = A:slice({}, 16); return s end)
  t.raises("out of bounds for uint8", function() return U8 + 300 end)
  t.raises("array_test.lua:", function() local s = I ^ -1; return s end)
  t.raises("integers to negative integer powers are not allowed", function() return I ^ -1 end)
  t.raises("integer division by zero", function() return I // 0 end)
  t.raises("blocks are more than dusk computes", function() return da.zeros({ 2 ^ 31, 2 ^ 31 }) end)
  t.raises("from_table: ragged nested lists", function() return da.from_table({ { 1, 2 }, { 3 } }) end)
  t.raises("array_test.lua:", function() local s = A:sum { axis = 0 }; return s end)
end)

t.test("empty arrays: mean is NaN, max is numpy's error, sum is 0", function()
  local e = da.zeros({ 0, 3 }, { chunks = 2 })
  local m = e:mean():compute()
  t.truthy(m ~= m and tostring(m) == "nan", "mean of nothing: " .. tostring(m))
  t.eq(e:sum():compute(), 0.0)
  t.eq(e:sum { axis = 1 }:compute().shape[1], 3)
  t.raises("zero-size array to reduction operation maximum which has no identity",
           function() return e:max():compute() end)
  t.raises("attempt to get argmin of an empty sequence", function() return e:argmin():compute() end)
end)

t.test("an Array prints its summary without computing", function()
  local s = tostring(A)
  t.truthy(s:find("(15, 15)", 1, true) and s:find("(5, 5)", 1, true) and s:find("float64"), s)
end)

t.test("map_blocks: a function that changes the block is refused", function()
  t.raises("dtype float64 was said", function()
    return A:map_blocks(function(b) return b:astype("int32") end):compute()
  end)
  t.raises("changed the block's shape", function()
    return A:map_blocks(function(b) return b:slice(1) end):compute()
  end)
end)

t.test("slicing reads only the blocks it touches", function()
  local plan = require("dusk.core").plan({ A:slice(2)._layer }, { 1 })
  t.eq(#plan.tasks, 1, "one row: one task reading... its one block")
  local s = A:slice({ 6, 10 }, { 6, 10 })
  t.eq(s.npartitions, 1)
  local p = require("dusk.core").plan({ s._layer }, { 1 })
  t.eq(#p.tasks[#p.tasks].inputs, 0, "fused with the one block it reads")
end)

t.test("many blocks: 32000 of one element, reduced in Dask's tree", function()
  t.eq(da.ones({ 32000 }, { chunks = 1 }):sum():compute(), 32000.0)
  t.eq(da.arange(0, 32000, { chunks = 1 }):max():compute(), 31999)
end)

t.test("persist keeps blocks in memory", function()
  local p = (A * 2):persist()
  check("persisted", (p + 1):compute(), { shape = { 15, 15 }, dtype = "float64",
        values = (function() local v = {} for r = 1, 15 do for c = 1, 15 do v[#v + 1] = a_t[r][c] * 2 + 1 end end return v end)() })
  p:release()
end)
