-- dusk.chunks against Dask's own answers, computed at test time by
-- tests/lua/chunks_dask.py under Debian's /usr/bin/python3 (python3-dask):
-- normalize_chunks (sizes, explicit, -1, "auto" and byte sizes, previous
-- chunks), broadcasting's unified chunks, the chunks of sliced arrays,
-- plan_rechunk's steps, the tasks of every level of a sum's tree, reshape,
-- concatenate, stack, transpose and the summary table.  The block plans
-- dusk.chunks makes are checked there too, block by block, against numpy
-- on arange data.  Selections are written twice, in dusk's 1-based
-- inclusive form and in Python's, translated by hand.

local t = ...
local C = require "dusk.chunks"
local json = dusk.json
local null = json.null

---------------------------------------------------------------- the oracle

local cases, answers = {}, nil

-- A decoded JSON value as plain Lua tables (dusk.json reads lazily).
local function plain(v)
  if type(v) ~= "userdata" or v == null then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = plain(x) end
  return out
end

local function ask(c)
  cases[#cases + 1] = c
  return #cases
end

-- Dask's answer to case 'id': its value, or nil and Dask's error.
local function dask(id)
  if not answers then
    local dir = t.tmpdir()
    t.write(dir .. "/cases.json", json.encode(cases))
    local code, out, err = t.sh("/usr/bin/python3 lua/chunks_dask.py " .. dir .. "/cases.json")
    t.sh("rm -rf " .. dir)
    assert(code == 0, "chunks_dask.py failed: " .. err)
    answers = plain(json.decode(out))
  end
  local a = answers[id]
  return a.ok, a.error
end

-- A small LCG: the same random cases on every machine.
local seed = 17
local function rand(lo, hi)
  seed = (seed * 1103515245 + 12345) % 2147483648
  return lo + seed % (hi - lo + 1)
end

local function ones(n, v)
  local l = {}
  for i = 1, n do l[i] = v or 1 end
  return l
end

-- Every block index of 'chunks' in C order.
local function each_block(chunks)
  local nb = C.numblocks(chunks)
  local out = {}
  for k = 1, C.count(chunks) do out[k] = C.index(nb, k) end
  return out
end

---------------------------------------------------------------- normalize

local normalize_cases = {
  -- chunks (dusk's form), shape, itemsize, limit, python form if it differs
  { 5, { 15, 15 } },
  { { 5, 5 }, { 15, 15 } },
  { { 2, 2 }, { 5, 6 } },
  { { { 2, 2, 1 }, { 2, 2, 2 } }, { 5, 6 } },
  { 10, { 30, 5 } },
  { { 5, -1 }, { 10, 10 } },
  { { 5, 5, 5 }, { 15 } },   -- 1-d: explicit sizes, as Dask reads them
  { { 4 }, { 15 } },
  { { 0 }, { 0 } },
  { { 7, 3 }, { 0, 10 } },
  { { "auto" }, { 20 }, 1, 5 },
  { "1kiB", { 2000 }, 4 },
  { "auto", { 2000, 2000, 2000 }, 8 },
  { "auto", { 1000, 1000, 1000 }, 8 },
  { "auto", { 10000, 10000 }, 8 },
  { "auto", { 10000, 10000 }, 4 },
  { "auto", { 100000000 }, 1 },
  { "auto", { 100000000 }, 8 },
  { "auto", { 3, 4, 5 }, 8 },
  { "auto", { 50000, 3 }, 8 },
  { "auto", { 3, 50000000 }, 8 },
  { "auto", { 7777, 9999 }, 4, 1000000 },
  { "auto", { 7777, 9999 }, 4, "1MiB" },
  { "auto", { 123456, 789 }, 8, "10 MB" },
  { { "auto", 100 }, { 100000, 100 }, 8 },
  { { "auto", { 50, 50 } }, { 100000, 100 }, 8 },
  { { -1, "auto" }, { 1000, 1000000 }, 8, "1MiB" },
  { { "auto", "auto", 7 }, { 20000, 30000, 7 }, 8, "64MiB" },
  { { "16MiB", "16MiB" }, { 100000, 100000 }, 4 },
  { { "auto", -1, "auto" }, { 4000, 3, 2500 }, 8, 2e6 },
  -- errors
  { { 0, 5 }, { 10, 10 } },
  { { 5, 5, 5 }, { 10, 10 } },
  { { { 5, 4 }, { 10 } }, { 10, 10 } },
  { { "1MiB", "2MiB" }, { 1000, 1000 }, 8 },
}
local normalize_ids = {}
for i, c in ipairs(normalize_cases) do
  normalize_ids[i] = ask({ op = "normalize", chunks = c[1], shape = c[2], itemsize = c[3], limit = c[4] })
end

t.test("normalize: sizes, explicit sizes, -1, auto and byte sizes as Dask's normalize_chunks", function()
  for i, c in ipairs(normalize_cases) do
    local want, err = dask(normalize_ids[i])
    local what = "case " .. i .. " " .. json.encode(c)
    if err then
      t.truthy(not pcall(C.normalize, c[1], c[2], c[3], c[4]), what .. ": Dask raised " .. err)
    else
      t.eq(C.normalize(c[1], c[2], c[3], c[4]), want, what)
    end
  end
end)

-- "auto" with the chunks of the array being rechunked, as x:rechunk does
local previous_cases = {
  { { "auto", "auto" }, { 10000, 10000 }, 8, 8e6, { ones(100, 100), ones(100, 100) } },
  { { "auto", -1 }, { 10000, 1000 }, 8, 8e6, { ones(100, 100), ones(10, 100) } },
  { { "auto", "auto" }, { 1000, 1000 }, 4, 1e5, { ones(40, 25), ones(8, 125) } },
  { { "auto", "auto", "auto" }, { 300, 400, 500 }, 8, "1MiB", { ones(3, 100), ones(4, 100), { 250, 250 } } },
  { { "auto", 10 }, { 1000, 1000 }, 8, 1e5, { { 1, 2, 997 }, ones(100, 10) } },
  { "auto", { 2000, 2000 }, 8, nil, { ones(20, 100), ones(2, 1000) } },
}
local previous_ids = {}
for i, c in ipairs(previous_cases) do
  previous_ids[i] = ask({ op = "normalize", chunks = c[1], shape = c[2], itemsize = c[3], limit = c[4], previous = c[5] })
end

t.test("normalize: auto guided by previous chunks, as Dask's rechunk", function()
  for i, c in ipairs(previous_cases) do
    local want, err = dask(previous_ids[i])
    t.truthy(not err, err)
    t.eq(C.normalize(c[1], c[2], c[3], c[4], c[5]), want, "case " .. i)
  end
end)

-- random shapes, item sizes and limits, "auto" mixed with sizes and -1
local random_normalize = {}
for _ = 1, 80 do
  local nd = rand(1, 4)
  local shape, spec = {}, {}
  for a = 1, nd do
    shape[a] = rand(0, 6) == 0 and rand(1, 3) or rand(1, nd <= 2 and 200000 or 3000)
    local kind = rand(1, 6)
    spec[a] = kind <= 3 and "auto" or kind == 4 and -1 or rand(1, shape[a])
  end
  local itemsize = ({ 1, 4, 8 })[rand(1, 3)]
  local limit = rand(1, 3) > 1 and rand(1000, 400000000) or nil
  random_normalize[#random_normalize + 1] = { spec, shape, itemsize, limit,
    id = ask({ op = "normalize", chunks = spec, shape = shape, itemsize = itemsize, limit = limit }) }
end

t.test("normalize: 80 random auto cases as Dask's normalize_chunks", function()
  for i, c in ipairs(random_normalize) do
    local want, err = dask(c.id)
    t.truthy(not err, err)
    t.eq(C.normalize(c[1], c[2], c[3], c[4]), want, "case " .. i .. " " .. json.encode({ c[1], c[2], c[3], c[4] }))
  end
end)

local random_id = ask({ op = "random_auto", shape = { 2000, 2000, 2000 } })

t.test("auto: the seed's 2000^3 float64 array gets 255 per axis, 512 chunks", function()
  local got = C.normalize("auto", { 2000, 2000, 2000 }, 8)
  t.eq(got, dask(random_id))
  t.eq(got[1][1], 255)
  t.eq(C.count(got), 512)
  -- (Dask divides by zero here: an empty axis makes the others whole)
  t.eq(C.normalize("auto", { 0, 100000 }, 8), { { 0 }, { 100000 } })
end)

t.test("normalize: errors name the argument and the axis", function()
  t.raises("chunks: missing", C.normalize, nil, { 10 }, 8)
  t.raises("size for axis 1 must be a positive integer", C.normalize, { 0, 5 }, { 10, 10 }, 8)
  t.raises("size for axis 2 must be a positive integer", C.normalize, { 5, -3 }, { 10, 10 }, 8)
  t.raises("size for axis 1 must be a positive integer", C.normalize, 2.5, { 10 }, 8)
  t.raises("3 entries for the 2 axes of shape (10, 10)", C.normalize, { 5, 5, 5 }, { 10, 10 }, 8)
  t.raises("the sizes for axis 1 add up to 9, not to the axis' length 10", C.normalize, { { 5, 4 }, { 10 } }, { 10, 10 }, 8)
  t.raises("axis 2: size 2 must be a non-negative integer", C.normalize, { { 10 }, { 5, -5, 10 } }, { 10, 10 }, 8)
  t.raises("axis 1 has no sizes", C.normalize, { {}, { 10 } }, { 10, 10 }, 8)
  t.raises("one byte size for all axes", C.normalize, { "1MiB", "2MiB" }, { 1000, 1000 }, 8)
  t.raises("could not interpret \"foos\" as a byte unit", C.normalize, "5 foos", { 1000 }, 8)
  t.raises("\"auto\" needs the item size", C.normalize, "auto", { 1000 }, nil)
  t.raises("shape: the size of axis 2 must be a non-negative integer", C.normalize, 5, { 10, -1 }, 8)
end)

---------------------------------------------------------------- blocks

t.test("blocks: numblocks, offsets, block shapes, C-order numbering", function()
  local ch = { { 5, 5, 5 }, { 4, 0, 6 } }
  t.eq(C.numblocks(ch), { 3, 3 })
  t.eq(C.count(ch), 9)
  t.eq(C.shape(ch), { 15, 10 })
  t.eq(C.chunksize(ch), { 5, 6 })
  t.eq(C.offsets(ch), { { 0, 5, 10, 15 }, { 0, 4, 4, 10 } })
  t.eq(C.block_shape(ch, { 3, 2 }), { 5, 0 })
  local nb = { 2, 3, 4 }
  local k = 0
  for i = 1, 2 do
    for j = 1, 3 do
      for l = 1, 4 do
        k = k + 1
        t.eq(C.flat(nb, { i, j, l }), k)
        t.eq(C.index(nb, k), { i, j, l })
      end
    end
  end
  t.eq(C.flat({}, {}), 1)
  t.eq(C.index({}, 1), {})
  t.raises("block index: 4 is out of range for axis 2 (3 blocks)", C.flat, nb, { 1, 4, 1 })
  t.raises("block number 25 is out of range (24 blocks)", C.index, nb, 25)
  t.eq(C.format_bytes(8000000), "7.63 MiB")
  t.eq(C.format_bytes(1023), "1.00 kiB")
  t.eq(C.format_bytes(921), "921 B")
  t.eq(C.format_bytes(922), "0.90 kiB")
  t.eq(C.parse_bytes("128MiB"), 134217728)
  t.eq(C.parse_bytes("5.4 kB"), 5400)
  t.eq(C.parse_bytes("MB"), 1000000)
  t.eq(C.parse_bytes("1e6 kB"), 1000000000)
end)

---------------------------------------------------------------- broadcast

local function plan_json(plan, n)
  local blocks = {}
  for i = 1, n do
    local l = {}
    for k, idx in ipairs(each_block(plan.chunks)) do
      local b, r = C.broadcast_block(plan, i, idx)
      l[k] = { block = b, regions = r or null }
    end
    blocks[i] = l
  end
  return { shape = plan.shape, chunks = plan.chunks, blocks = blocks }
end

local broadcast_cases = {
  { { shape = { 10, 1 }, chunks = { { 5, 5 }, { 1 } } }, { shape = { 7 }, chunks = { { 3, 4 } } } },
  { { shape = { 10 }, chunks = { { 5, 5 } } }, { shape = { 10 }, chunks = { { 3, 7 } } } },
  { { shape = { 4, 1, 6 }, chunks = { { 2, 2 }, { 1 }, { 3, 3 } } }, { shape = { 5, 1 }, chunks = { { 2, 3 }, { 1 } } } },
  { { shape = { 12, 9 }, chunks = { { 4, 4, 4 }, { 9 } } }, { shape = { 12, 9 }, chunks = { { 12 }, { 2, 7 } } },
    { shape = { 12, 9 }, chunks = { { 5, 7 }, { 3, 3, 3 } } } },
  { { shape = { 6, 6 }, chunks = { { 3, 3 }, { 2, 4 } } }, { shape = {}, chunks = {} } },
  { { shape = { 3, 8 }, chunks = { { 1, 2 }, { 4, 4 } } }, { shape = { 3, 1 }, chunks = { { 3 }, { 1 } } } },
  { { shape = { 0, 4 }, chunks = { { 0 }, { 2, 2 } } }, { shape = { 1, 4 }, chunks = { { 1 }, { 1, 3 } } } },
}
local broadcast_ids = {}
for i, args in ipairs(broadcast_cases) do
  local plan = C.broadcast(table.unpack(args))
  broadcast_ids[i] = ask({ op = "broadcast", arrays = args, plan = plan_json(plan, #args) })
end

t.test("broadcast: numpy's shapes, Dask's unified chunks, each block read where numpy puts it", function()
  for i, args in ipairs(broadcast_cases) do
    local want, err = dask(broadcast_ids[i])
    t.truthy(not err, err)
    t.truthy(not want.bad_block, "case " .. i .. ": block " .. json.encode(want.bad_block or {}) .. " of input " .. tostring(want.input))
    t.eq(C.broadcast(table.unpack(args)).chunks, want.chunks, "case " .. i)
  end
end)

t.test("broadcast: refined inputs read parts of blocks; numpy's message for mismatches", function()
  local p = C.broadcast({ shape = { 10 }, chunks = { { 5, 5 } } }, { shape = { 10 }, chunks = { { 3, 7 } } })
  t.eq(p.chunks, { { 3, 2, 5 } })
  t.eq({ C.broadcast_block(p, 1, { 2 }) }, { { 1 }, { { 3, 2 } } })
  t.eq({ C.broadcast_block(p, 2, { 3 }) }, { { 2 }, { { 2, 5 } } })
  local q = C.broadcast({ shape = { 4, 1 }, chunks = { { 2, 2 }, { 1 } } }, { shape = { 6 }, chunks = { { 3, 3 } } })
  t.eq(q.shape, { 4, 6 })
  t.truthy(q.inputs[1].broadcast[2] and not q.inputs[1].refined)
  t.eq({ C.broadcast_block(q, 1, { 2, 2 }) }, { { 2, 1 } })
  t.eq({ C.broadcast_block(q, 2, { 2, 2 }) }, { { 2 } })
  t.raises("operands could not be broadcast together with shapes (2,3) (4,)", C.broadcast,
           { shape = { 2, 3 }, chunks = { { 2 }, { 3 } } }, { shape = { 4 }, chunks = { { 4 } } })
  t.raises("operands could not be broadcast together with shapes (5,) (1,2) (3,1)", C.broadcast,
           { shape = { 5 }, chunks = { { 5 } } }, { shape = { 1, 2 }, chunks = { { 1 }, { 2 } } },
           { shape = { 3, 1 }, chunks = { { 3 }, { 1 } } })
end)

---------------------------------------------------------------- slicing

local slice_cases = {
  -- shape, chunks, dusk's selection, Python's index
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { { -1, 1, -2 }, { 4, 15 } }, "[::-2, 3:15]" },
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { 3 }, "[2]" },
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { -1, -15 }, "[-1, -15]" },
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { {}, 7 }, "[:, 6]" },
  { { 15 }, { { 5, 5, 5 } }, { { 2, -2 } }, "[1:-1]" },
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { {}, { 2, 9, 3 } }, "[:, 1:9:3]" },
  { { 15 }, { { 5, 5, 5 } }, { { 10, 3, -1 } }, "[9:1:-1]" },
  { { 15 }, { { 4, 4, 4, 3 } }, { { -3, -12, -4 } }, "[-3:-13:-4]" },
  { { 15 }, { { 5, 5, 5 } }, { { 5, 4 } }, "[4:4]" },
  { { 15 }, { { 5, 5, 5 } }, { { 12, 4, 1 } }, "[11:4]" },
  { { 15 }, { { 5, 5, 5 } }, { { 4, 12, -1 } }, "[3:10:-1]" },
  { { 15 }, { { 5, 5, 5 } }, { { 1, 15 } }, "[0:15]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { nil, nil, -1 } }, "[::-1]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { nil, nil, -4 } }, "[::-4]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { 10, 4, -1 } }, "[9:2:-1]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { nil, 1, -1 } }, "[::-1]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { 5, 1, -1 } }, "[4::-1]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { 5, 2, -1 } }, "[4:0:-1]" },
  { { 10 }, { { 3, 3, 3, 1 } }, { { 5, -10, -1 } }, "[4:-11:-1]" },
  { { 20 }, { { 10, 10 } }, { { 1, 12, 7 } }, "[0:12:7]" },
  { { 20 }, { { 10, 10 } }, { { 1, -1, 7 } }, "[0::7]" },
  { { 100 }, { { 20, 20, 20, 20, 20 } }, { { 1, 100, 40 } }, "[0:100:40]" },
  { { 100 }, { { 20, 20, 20, 20, 20 } }, { { 100, 1, -3 } }, "[::-3]" },
  { { 100 }, { { 20, 20, 20, 20, 20 } }, { { 100, 13, -3 } }, "[99:11:-3]" },
  { { 100 }, { { 20, 20, 20, 20, 20 } }, { { 100, -12, -3 } }, "[99:-13:-3]" },
  { { 100 }, { { 15, 14, 13, 58 } }, { { 11, 41, 3 } }, "[10:41:3]" },
  { { 10 }, { { 5, 0, 5 } }, { {} }, "[:]" },
  { { 10 }, { { 5, 0, 5 } }, { { 1, 10 } }, "[0:10]" },
  { { 10 }, { { 5, 0, 5 } }, { { nil, nil, 2 } }, "[::2]" },
  { { 10 }, { { 5, 0, 5 } }, { { nil, nil, -1 } }, "[::-1]" },
  { { 10 }, { { 5, 0, 5 } }, { 6 }, "[5]" },
  { { 6, 7, 8 }, { { 2, 4 }, { 3, 3, 1 }, { 8 } }, { 2, { -1, 1, -3 } }, "[1, ::-3]" },
  { { 6, 7, 8 }, { { 2, 4 }, { 3, 3, 1 }, { 3, 5 } }, { { 3, 3 }, {}, { 2, 7, 2 } }, "[2:3, :, 1:7:2]" },
  { { 6, 7, 8 }, { { 2, 4 }, { 3, 3, 1 }, { 3, 5 } }, { -2, -3, -4 }, "[-2, -3, -4]" },
  { {}, {}, {}, "[()]" },
  { { 0, 3 }, { { 0 }, { 3 } }, { {}, 2 }, "[:, 1]" },
}
local slice_ids = {}
for i, c in ipairs(slice_cases) do
  local plan = C.slice(c[2], c[3])
  local drop, blocks = {}, {}
  for d, ax in ipairs(plan.axes) do drop[d] = ax.drop == true end
  for k, idx in ipairs(each_block(plan.chunks)) do
    local b, r = C.slice_block(plan, idx)
    blocks[k] = { block = b, regions = r }
  end
  slice_ids[i] = ask({ op = "getitem", shape = c[1], chunks = c[2], py = c[4],
                       plan = { chunks = plan.chunks, drop = drop, blocks = blocks } })
end

t.test("slice: Dask's output chunks, numpy's elements, one task per touched chunk", function()
  for i, c in ipairs(slice_cases) do
    local want, err = dask(slice_ids[i])
    local what = "case " .. i .. " " .. c[4]
    t.truthy(not err, what .. ": " .. tostring(err))
    t.truthy(not want.bad_block, what .. ": block " .. json.encode(want.bad_block or {}) .. " differs from numpy")
    local plan = C.slice(c[2], c[3])
    t.eq(plan.shape, want.shape, what)
    if want.chunks then t.eq(plan.chunks, want.chunks, what) end
  end
end)

t.test("slice: integers drop axes; errors name the axis and the bound", function()
  local ch = { { 5, 5, 5 }, { 5, 5, 5 } }
  local p = C.slice(ch, { 7 })
  t.eq(p.chunks, { { 5, 5, 5 } })
  t.eq({ C.slice_block(p, { 3 }) }, { { 2, 3 }, { { 1, 1, 1 }, { 0, 5, 1 } } })
  t.truthy(p.axes[1].drop and p.axes[2].out == 1)
  t.raises("slice: index 16 is out of bounds for axis 2 with size 15", C.slice, ch, { 1, 16 })
  t.raises("slice: index -16 is out of bounds for axis 1 with size 15", C.slice, ch, { -16 })
  t.raises("slice: index 0 is out of bounds for axis 1 with size 15", C.slice, ch, { 0 })
  t.raises("slice: axis 2: bound 0 (positions are 1-based", C.slice, ch, { {}, { 0, 5 } })
  t.raises("slice: axis 2: bound 17 is out of range for length 15", C.slice, ch, { { -1, 1, -2 }, { 4, 17 } })
  t.raises("slice: axis 1: bound -100 is out of range for length 15", C.slice, ch, { { -100, 100 } })
  t.raises("slice: axis 1: bound -100 is out of range for length 15", C.slice, ch, { { -100, nil, -1 } })
  t.raises("slice: axis 1: bound 1 is out of range for length 0", C.slice, { { 0 }, { 3 } }, { { 1, 5 }, 2 })
  t.raises("slice: axis 1: the step cannot be zero", C.slice, ch, { { 1, 5, 0 } })
  t.raises("slice: axis 1: the step must be an integer, got 1.5", C.slice, ch, { { 1, 5, 1.5 } })
  t.raises("slice: too many indices: the array has 2 dimensions, 3 were given", C.slice, ch, { 1, 1, 1 })
  t.raises("slice: axis 2: expected an integer or a table {a, b[, step]}, got string", C.slice, ch, { 1, "x" })
  t.raises("slice: axis 1: a range is {a, b} or {a, b, step}", C.slice, ch, { { 1, 2, 3, 4 } })
end)

-- Random ranges against numpy and Dask, translated by the rules API.md
-- gives (and the hand-written cases above check).
local function py_bound(v, base)
  if v == nil then return "" end
  return tostring(v + base)
end

local function py_range(a, b, step)
  local start = a == nil and "" or tostring(a > 0 and a - 1 or a)
  local stop
  if b == nil then
    stop = ""
  elseif step > 0 then
    stop = b > 0 and tostring(b) or (b == -1 and "" or py_bound(b, 1))
  else
    stop = b > 0 and (b == 1 and "" or py_bound(b, -2)) or py_bound(b, -1)
  end
  return start .. ":" .. stop .. ":" .. step
end

local random_slices = {}
do
  local function pick(n)
    local v = rand(-n, n)
    if v == 0 or rand(1, 6) == 1 then return nil end
    return v
  end
  for _ = 1, 120 do
    local n = rand(1, 23)
    local chunks, left = {}, n
    while left > 0 do
      local c = math.min(left, rand(1, 7))
      chunks[#chunks + 1] = c
      left = left - c
    end
    local step = rand(1, 9) - 5
    if step == 0 then step = 1 end
    local a, b = pick(n), pick(n)
    local plan = C.slice({ chunks }, { { a, b, step } })
    local blocks = {}
    for k, idx in ipairs(each_block(plan.chunks)) do
      local blk, r = C.slice_block(plan, idx)
      blocks[k] = { block = blk, regions = r }
    end
    local py = "[" .. py_range(a, b, step) .. "]"
    random_slices[#random_slices + 1] = { plan = plan, py = py, id = ask({
      op = "getitem", shape = { n }, chunks = { chunks }, py = py,
      plan = { chunks = plan.chunks, drop = { false }, blocks = blocks } }) }
  end
end

t.test("slice: 120 random ranges with steps of both signs against Dask and numpy", function()
  for _, c in ipairs(random_slices) do
    local want, err = dask(c.id)
    t.truthy(not err, c.py .. ": " .. tostring(err))
    t.truthy(not want.bad_block, c.py .. ": block " .. json.encode(want.bad_block or {}) .. " differs from numpy")
    t.eq(c.plan.shape, want.shape, c.py)
    if want.chunks then t.eq(c.plan.chunks, want.chunks, c.py) end
  end
end)

---------------------------------------------------------------- rechunk

local rechunk_cases = {
  -- old, new, itemsize, limit, threshold
  { { ones(100, 10), { 1000 } }, { { 1000 }, ones(100, 10) }, 8 },
  { { ones(100, 10), { 1000 } }, { { 1000 }, ones(100, 10) }, 8, 1e5 },
  { { ones(100, 10), { 1000 } }, { { 1000 }, ones(100, 10) }, 8, 1e4 },
  { { ones(100, 10), { 1000 } }, { { 1000 }, ones(100, 10) }, 8, 8e3 },
  { { ones(4, 25), { 100 }, ones(100, 1) }, { ones(100, 1), { 100 }, ones(4, 25) }, 8 },
  { { ones(4, 25), { 100 }, ones(100, 1) }, { ones(100, 1), { 100 }, ones(4, 25) }, 8, 1e4 },
  { { ones(20, 5), ones(20, 5) }, { ones(5, 20), ones(25, 4) }, 8 },
  { { ones(1000, 10), ones(1000, 10) }, { { 10000 }, ones(10000, 1) }, 4, "64MiB" },
  { { ones(1000, 10), ones(1000, 10) }, { { 10000 }, ones(10000, 1) }, 4, "1MiB", 2 },
  { { ones(50, 2), { 7, 93 } }, { { 33, 33, 34 }, ones(25, 4) }, 8, 800 },
  { { ones(10, 10) }, { ones(4, 25) }, 8 },
  { { { 5, 5 }, { 3, 7 } }, { { 2, 8 }, { 10 } }, 8 },
}
-- small cases whose every step is checked block by block against numpy
local rechunk_block_cases = {
  { { { 5, 5, 5 }, { 4, 4, 4, 4 } }, { { 6, 9 }, { 1, 10, 5 } } },
  { { ones(12, 2), { 9 } }, { { 24 }, ones(9, 1) } },
  { { { 3, 0, 4 }, { 2, 2 } }, { { 7 }, { 1, 3 } } },
}
local rechunk_ids = {}
for i, c in ipairs(rechunk_cases) do
  rechunk_ids[i] = ask({ op = "rechunk", old = c[1], new = c[2], itemsize = c[3], limit = c[4], threshold = c[5] })
end
local function step_json(old, new)
  local step = C.rechunk_step(old, new)
  local pieces = {}
  for k, idx in ipairs(each_block(new)) do pieces[k] = C.rechunk_block(step, idx) end
  return { old = old, new = new, pieces = pieces }
end
for i, c in ipairs(rechunk_block_cases) do
  local steps = C.rechunk_plan(c[1], c[2], 8, 64)
  local blocks, from = {}, c[1]
  for _, s in ipairs(steps) do
    blocks[#blocks + 1] = step_json(from, s)
    from = s
  end
  rechunk_block_cases[i].id = ask({ op = "rechunk", old = c[1], new = c[2], itemsize = 8, limit = 64, blocks = blocks })
end

t.test("rechunk: plan_rechunk's intermediate steps within the memory bound", function()
  for i, c in ipairs(rechunk_cases) do
    local want, err = dask(rechunk_ids[i])
    t.truthy(not err, err)
    t.eq(C.rechunk_plan(c[1], c[2], c[3], c[4], c[5]), want.steps, "case " .. i)
  end
  -- the seed's transposition through an intermediate step
  local steps = C.rechunk_plan({ ones(100, 10), { 1000 } }, { { 1000 }, ones(100, 10) }, 8, 1e5)
  t.truthy(#steps > 1, "an intermediate step")
  for k = 1, #steps - 1 do
    local n = 1
    for _, c in ipairs(C.chunksize(steps[k])) do n = n * c end
    t.truthy(n * 8 <= 1e5, "step " .. k .. " within the bound")
  end
end)

-- random 2-d and 3-d rechunks at several memory bounds
local random_rechunks = {}
local function random_chunks(n)
  local l, left, size = {}, n, rand(1, n)
  while left > 0 do
    local c = math.min(left, rand(1, 4) == 1 and rand(1, n) or size)
    l[#l + 1] = c
    left = left - c
  end
  return l
end
local function fine(n, most) -- many small chunks
  local l, left = {}, n
  while left > 0 do
    local c = math.min(left, rand(1, most))
    l[#l + 1] = c
    left = left - c
  end
  return l
end
for k = 1, 60 do
  local nd = rand(2, 3)
  local old, new = {}, {}
  for a = 1, nd do
    local n = rand(1, nd == 2 and 400 or 60)
    if k % 2 == 0 then -- fine where the other is coarse: plans with steps
      local f = a % 2 == 1
      old[a] = f and fine(n, 6) or random_chunks(n)
      new[a] = f and random_chunks(n) or fine(n, 6)
    else
      old[a], new[a] = random_chunks(n), random_chunks(n)
    end
  end
  local limit = ({ 64, 800, 8000, 80000, 8e6 })[rand(1, 5)]
  local threshold = rand(1, 3) == 1 and rand(2, 6) or nil
  random_rechunks[#random_rechunks + 1] = { old, new, 8, limit, threshold,
    id = ask({ op = "rechunk", old = old, new = new, itemsize = 8, limit = limit, threshold = threshold }) }
end

t.test("rechunk: 60 random plans as Dask's plan_rechunk", function()
  local multi = 0
  for i, c in ipairs(random_rechunks) do
    local want, err = dask(c.id)
    t.truthy(not err, err)
    t.eq(C.rechunk_plan(c[1], c[2], c[3], c[4], c[5]), want.steps, "case " .. i)
    if #want.steps > 1 then multi = multi + 1 end
  end
  t.truthy(multi >= 10, "at least 10 plans with intermediate steps, got " .. multi)
end)

t.test("rechunk: every new block assembled from its pieces equals numpy's", function()
  for i, c in ipairs(rechunk_block_cases) do
    local want, err = dask(c.id)
    t.truthy(not err, err)
    t.truthy(not want.bad_block, "case " .. i .. ": block " .. json.encode(want.bad_block or {}))
    t.eq(C.rechunk_plan(c[1], c[2], 8, 64), want.steps, "case " .. i)
  end
  local step = C.rechunk_step({ { 4, 4 }, { 2 } }, { { 8 }, { 1, 1 } })
  t.eq(C.rechunk_block(step, { 1, 2 }), {
    { block = { 1, 1 }, src = { { 0, 4 }, { 1, 1 } }, dst = { { 0, 4 }, { 0, 1 } } },
    { block = { 2, 1 }, src = { { 0, 4 }, { 1, 1 } }, dst = { { 4, 4 }, { 0, 1 } } },
  })
  t.raises("rechunk: axis 2 has length 2, the new chunks add up to 3", C.rechunk_step, { { 8 }, { 2 } }, { { 8 }, { 3 } })
end)

---------------------------------------------------------------- reductions

local tree_cases = {
  -- shape, chunks, axes, split_every, keepdims
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { 1 }, nil, false },
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, nil, nil, false },
  { { 15, 15 }, { { 5, 5, 5 }, { 5, 5, 5 } }, { 2 }, 2, true },
  { { 100, 100 }, { ones(10, 10), ones(10, 10) }, nil, nil, false },
  { { 100, 100 }, { ones(10, 10), ones(10, 10) }, nil, 16, true },
  { { 100, 100 }, { ones(10, 10), ones(10, 10) }, { 1, 2 }, { [1] = 3, [2] = 5 }, false },
  { { 100, 100 }, { ones(10, 10), ones(10, 10) }, { 2 }, { [1] = 3 }, false },
  { { 125 }, { ones(125, 1) }, nil, 5, false }, -- log(125)/log(5) rounds above 3: 4 levels
  { { 64, 1, 30 }, { ones(64, 1), { 1 }, ones(6, 5) }, { 1, 3 }, 8, true },
  { { 64, 1, 30 }, { ones(64, 1), { 1 }, ones(6, 5) }, { -1 }, 3, false },
  { { 7 }, { { 7 } }, nil, nil, false },
  { { 40, 6 }, { ones(40, 1), { 6 } }, { 1 }, 64, false },
}
local tree_ids = {}
for i, c in ipairs(tree_cases) do
  local se = c[4]
  if type(se) == "table" then
    local d = {}
    for k, v in pairs(se) do d[tostring(k)] = v end
    se = d
  end
  tree_ids[i] = ask({ op = "tree", shape = c[1], chunks = c[2], axes = c[3] or null, split_every = se, keepdims = c[5] })
end

t.test("tree: the levels and groups of Dask's sum(split_every=...) graph", function()
  for i, c in ipairs(tree_cases) do
    local want, err = dask(tree_ids[i])
    t.truthy(not err, err)
    local plan = C.tree(c[2], c[3], c[4], c[5])
    local what = "case " .. i
    t.eq(plan.depth, #want.levels, what .. ": levels")
    t.eq(plan.out_chunks, want.chunks, what .. ": chunks")
    local reduced = {}
    for _, a in ipairs(plan.axes) do reduced[a] = true end
    for l, level in ipairs(plan.levels) do
      local got = {}
      for k, idx in ipairs(each_block(level.chunks)) do
        local key = idx
        if l == plan.depth and not c[5] then
          key = {}
          for a = 1, #idx do if not reduced[a] then key[#key + 1] = idx[a] end end
        end
        got[k] = { key, C.tree_inputs(plan, l, idx) }
      end
      t.eq(got, want.levels[l], what .. ": level " .. l)
    end
    local last = plan.levels[plan.depth].chunks
    for _, a in ipairs(plan.axes) do t.eq(#last[a], 1, what .. ": one block along axis " .. a) end
  end
end)

t.test("tree: split_every and axes are checked", function()
  local ch = { { 5, 5 }, { 5, 5 } }
  t.eq(C.tree(ch, { -1 }).axes, { 2 })
  t.eq(C.tree(ch, nil, 9).split, { 3, 3 })
  t.raises("reduction: axis 3 is out of bounds for array of dimension 2", C.tree, ch, { 3 })
  t.raises("reduction: axis 0 is out of bounds", C.tree, ch, { 0 })
  t.raises("reduction: axis 2 is given twice", C.tree, ch, { 2, -1 })
  t.raises("reduction: split_every must be a positive integer, got 0", C.tree, ch, nil, 0)
  t.raises("reduction: split_every for axis 1 must be an integer >= 2, got 1", C.tree, ch, nil, { [1] = 1 })
end)

---------------------------------------------------------------- reshape, joins, transpose

local reshape_cases = {
  { { 4, 4, 4 }, { { 2, 2 }, { 2, 2 }, { 2, 2 } }, { 64 } },
  { { 64 }, { { 16, 16, 16, 16 } }, { 4, 4, 4 } },
  { { 6, 5, 4 }, { { 3, 3 }, { 2, 2, 1 }, { 2, 2 } }, { 3, 2, 5, 4 } },
  { { 6, 5, 4 }, { { 3, 3 }, { 2, 2, 1 }, { 2, 2 } }, { 30, 4 } },
  { { 6, 5, 4 }, { { 3, 3 }, { 2, 2, 1 }, { 2, 2 } }, { 4, 5, 6 } },
  { { 4, 6 }, { { 2, 2 }, { 3, 3 } }, { 24 } },
  { { 4, 6 }, { ones(4, 1), { 3, 3 } }, { 24 } },
  { { 2, 3, 4 }, { { 1, 1 }, { 3 }, { 2, 2 } }, { -1, 4 } },
  { { 1, 12 }, { { 1 }, { 6, 6 } }, { 3, 4 } },
  { { 12, 1 }, { { 5, 7 }, { 1 } }, { 12 } },
  { { 24 }, { { 5, 5, 5, 5, 4 } }, { 2, 12 } },
  { { 7, 8 }, { { 7 }, { 8 } }, { 56 } },
  { { 12 }, { { 4, 4, 4 } }, { 1, 12, 1 } },
  { { 10, 10 }, { { 5, 5 }, { 5, 5 } }, { 10, 10 } },
  { { 4, 4 }, { { 2, 2 }, { 2, 2 } }, { 5, 3 } },
}
local reshape_ids = {}
for i, c in ipairs(reshape_cases) do
  reshape_ids[i] = ask({ op = "reshape", shape = c[1], chunks = c[2], newshape = c[3] })
end

t.test("reshape: Dask's output chunks and the rechunk it needs first", function()
  for i, c in ipairs(reshape_cases) do
    local want, err = dask(reshape_ids[i])
    local what = "case " .. i .. " " .. json.encode(c[3])
    if err then
      t.truthy(not pcall(C.reshape, c[1], c[2], c[3]), what .. ": Dask raised " .. err)
    else
      local r = C.reshape(c[1], c[2], c[3])
      t.eq(r.shape, want.shape, what)
      t.eq(r.chunks, want.chunks, what)
      if want.inchunks then
        t.eq(r.inchunks, want.inchunks, what)
        t.eq(r.rechunk, not C.equal(want.inchunks, c[2]), what)
      end
      t.eq(C.count(r.inchunks), C.count(r.chunks), what .. ": one output block per input block")
    end
  end
  t.raises("reshape: cannot reshape array of size 16 into shape (5,3)", C.reshape, { 4, 4 }, { { 4 }, { 4 } }, { 5, 3 })
  t.raises("reshape: can only specify one unknown dimension", C.reshape, { 4, 4 }, { { 4 }, { 4 } }, { -1, -1 })
  t.raises("reshape: (6, 5, 4) -> (4, 5, 6) merges or splits axes unevenly", C.reshape,
           { 6, 5, 4 }, { { 3, 3 }, { 2, 2, 1 }, { 2, 2 } }, { 4, 5, 6 })
end)

local join_cases = {
  { "concatenate", { { shape = { 10, 6 }, chunks = { { 5, 5 }, { 3, 3 } } },
                     { shape = { 4, 6 }, chunks = { { 4 }, { 2, 4 } } } }, 1 },
  { "concatenate", { { shape = { 6, 10 }, chunks = { { 3, 3 }, { 5, 5 } } },
                     { shape = { 6, 4 }, chunks = { { 2, 4 }, { 4 } } },
                     { shape = { 6, 1 }, chunks = { { 6 }, { 1 } } } }, 2 },
  { "concatenate", { { shape = { 0, 6 }, chunks = { { 0 }, { 6 } } },
                     { shape = { 4, 6 }, chunks = { { 4 }, { 2, 4 } } },
                     { shape = { 3, 6 }, chunks = { { 1, 2 }, { 3, 3 } } } }, -2 },
  { "concatenate", { { shape = { 5 }, chunks = { { 5 } } } }, 1 },
  { "concatenate", { { shape = { 4, 6 }, chunks = { { 4 }, { 6 } } }, { shape = { 4, 5 }, chunks = { { 4 }, { 5 } } } }, 1 },
  { "stack", { { shape = { 4, 6 }, chunks = { { 2, 2 }, { 3, 3 } } },
               { shape = { 4, 6 }, chunks = { { 4 }, { 1, 5 } } } }, 1 },
  { "stack", { { shape = { 4, 6 }, chunks = { { 2, 2 }, { 3, 3 } } },
               { shape = { 4, 6 }, chunks = { { 2, 2 }, { 3, 3 } } },
               { shape = { 4, 6 }, chunks = { { 2, 2 }, { 3, 3 } } } }, 3 },
  { "stack", { { shape = { 4, 6 }, chunks = { { 2, 2 }, { 3, 3 } } } }, 2 },
  { "stack", { { shape = { 4 }, chunks = { { 4 } } }, { shape = { 5 }, chunks = { { 5 } } } }, 1 },
}
local join_ids = {}
for i, c in ipairs(join_cases) do
  local axis = c[3] < 0 and #c[2][1].shape + c[3] + (c[1] == "stack" and 2 or 1) or c[3]
  join_ids[i] = ask({ op = c[1], arrays = c[2], axis = axis })
end

t.test("concatenate and stack: Dask's shapes and unified chunks", function()
  for i, c in ipairs(join_cases) do
    local want, err = dask(join_ids[i])
    local what = "case " .. i
    if err then
      t.truthy(not pcall(C[c[1]], c[2], c[3]), what .. ": Dask raised " .. err)
    else
      local r = C[c[1]](c[2], c[3])
      t.eq(r.shape, want.shape, what)
      t.eq(r.chunks, want.chunks, what)
      for k, x in ipairs(c[2]) do -- a rechunk target only where the chunks change
        local target = r.rechunk[k]
        if target then t.truthy(not C.equal(target, x.chunks), what) end
      end
    end
  end
  local r = C.concatenate(join_cases[1][2], 1)
  t.eq(r.blocks, { { input = 1, block = 1 }, { input = 1, block = 2 }, { input = 2, block = 1 } })
  t.eq(r.rechunk, { { { 5, 5 }, { 2, 1, 3 } }, { { 4 }, { 2, 1, 3 } } })
  local s = C.stack(join_cases[6][2], -1)
  t.eq(s.axis, 3)
  t.eq(s.chunks, { { 2, 2 }, { 1, 2, 3 }, { 1, 1 } })
  t.raises("concatenate: all the input array dimensions except for the concatenation axis must match exactly, but along axis 2, array 1 has size 6 and array 2 has size 5",
           C.concatenate, join_cases[5][2], 1)
  t.raises("concatenate: all the input arrays must have the same number of dimensions", C.concatenate,
           { { shape = { 4 }, chunks = { { 4 } } }, { shape = { 4, 1 }, chunks = { { 4 }, { 1 } } } }, 1)
  t.raises("concatenate: axis 3 is out of bounds for array of dimension 2", C.concatenate, join_cases[1][2], 3)
  t.raises("concatenate: need at least one array", C.concatenate, {}, 1)
  t.raises("stack: all input arrays must have the same shape, but array 1 has shape (4,) and array 2 has shape (5,)",
           C.stack, join_cases[9][2], 1)
  t.raises("stack: axis 4 is out of bounds for array of dimension 3", C.stack, join_cases[6][2], 4)
end)

local transpose_cases = {
  { { 2, 3, 4 }, { { 1, 1 }, { 3 }, { 2, 2 } }, { 3, 1, 2 } },
  { { 2, 3, 4 }, { { 1, 1 }, { 3 }, { 2, 2 } }, nil },
  { { 5, 6 }, { { 2, 3 }, { 1, 5 } }, { 2, 1 } },
}
local transpose_ids = {}
for i, c in ipairs(transpose_cases) do
  transpose_ids[i] = ask({ op = "transpose", shape = c[1], chunks = c[2], perm = c[3] or null })
end

t.test("transpose: the permuted chunks, block by block", function()
  for i, c in ipairs(transpose_cases) do
    local want = dask(transpose_ids[i])
    local chunks, perm = C.transpose(c[2], c[3])
    t.eq(chunks, want, "case " .. i)
    for _, idx in ipairs(each_block(chunks)) do
      local b = C.transpose_block(perm, idx)
      for a = 1, #perm do t.eq(b[perm[a]], idx[a]) end
    end
  end
  t.eq(select(2, C.transpose({ { 1 }, { 2 }, { 3 } }, { -1, 1, 2 })), { 3, 1, 2 })
  t.raises("transpose: axes don't match array", C.transpose, { { 1 }, { 2 } }, { 1 })
  t.raises("transpose: axis 1 is repeated", C.transpose, { { 1 }, { 2 } }, { 1, 1 })
end)

---------------------------------------------------------------- summary

local summary_cases = {
  { { 1000, 1000 }, 250, "float64", 8, 0 },
  { { 15, 15 }, 5, "float64", 8, 2 },
  { { 2000, 2000, 2000 }, "auto", "float64", 8, 0 },
  { { 10 }, 3, "uint8", 1, 1 },
  { {}, {}, "float32", 4, 0 },
}
local summary_ids = {}
for i, c in ipairs(summary_cases) do
  local chunks = C.normalize(c[2], c[1], c[4])
  summary_ids[i] = ask({ op = "summary", shape = c[1], chunks = chunks, dtype = c[3], extra_layers = c[5] })
end

t.test("summary: Dask's table fields, aligned", function()
  for i, c in ipairs(summary_cases) do
    local want = dask(summary_ids[i])
    local chunks = C.normalize(c[2], c[1], c[4])
    local text = C.summary(c[1], chunks, c[3], c[4], nil, c[5] + 1)
    local rows = {}
    for line in (text .. "\n"):gmatch("(.-)\n") do
      local row = {}
      for field in (line .. "   "):gmatch("(.-)%s%s%s+") do row[#row + 1] = field end
      rows[#rows + 1] = row
    end
    t.eq(rows, want, "case " .. i .. ":\n" .. text)
  end
  t.eq(C.summary({ 15, 15 }, C.normalize(5, { 15, 15 }, 8), "float64", 8, 9, 1), table.concat({
    "             Array      Chunk",
    "Bytes        1.76 kiB   200 B",
    "Shape        (15, 15)   (5, 5)",
    "Dask graph   9 chunks in 1 graph layer (9 tasks)",
    "Data type    float64 dusk.ndarray",
  }, "\n"))
end)
