-- dusk.array: chunked n-dimensional arrays, as Dask's dask.array.
--
--   local da = dusk.array
--   local x = da.random.random({2000, 2000}, {chunks = {500, 500}, seed = 1})
--   (x + x.T):sum{axis = 1}:compute()     -- a dusk.ndarray
--
-- An Array is a grid of blocks, each an ndarray (dusk.ndarray), made by
-- the tasks of one layer of the C graph.  Elementwise operations do not
-- stack layers: an Array keeps the expression that makes its blocks from
-- its leaves -- blocks of other layers, random numbers, ranges, constants
-- -- and each operation makes a layer running the longer expression, one
-- task per block, evaluated in cache-sized tiles (src/array/ndprog.c).
-- A reduction runs the expression straight into each block's partial, so
-- a source feeding it is never written out; partials combine in a tree.
-- Axes are 1-based, as everywhere in dusk.

local core = require "dusk.core"
local compute = require "dusk.compute"
local errors = require "dusk.errors"
local spec = require "dusk.spec"
local chunking = require "dusk.chunks"
local ac = require "dusk.arraycore"
local nda = require "dusk.ndarray"

local Array = {}
local ArrayMT = { __name = "dusk.Array", __dusk_send = true }
local LayerMT = { __gc = core.release, __name = "dusk.Layer", __dusk_send = true }

local M = { Array = Array }

-- Leaves of one expression past which an Array's blocks are made by a
-- task of their own and read as one leaf: a task reads at most 64 inputs.
local MAX_LEAVES = 16

-- numpy's limit, less the axis a reduction's partial adds in front.
local MAX_DIMS = 31

-- The most blocks an Array may have: a graph layer holds fewer than 2^32
-- tasks, and a plan of 2^24 already takes gigabytes.
local MAX_BLOCKS = 1 << 24

local DTYPES = { float64 = 8, float32 = 4, int64 = 8, int32 = 4, uint8 = 1, bool = 1,
                 int8 = 1, int16 = 2, uint16 = 2, uint32 = 4, uint64 = 8 }

local function is_array(v) return getmetatable(v) == ArrayMT end
M.is_array = is_array

local function check_dtype(dt, what)
  if DTYPES[dt] == nil then
    errors.raise(string.format("%s: unknown dtype %s (float64, float32, int64, int32, uint8, bool)",
                               what, tostring(dt)))
  end
  return dt
end

local function opts_of(t, what, allowed)
  if t == nil then return {} end
  return errors.options(t, what, allowed)
end

local function product(list)
  local p = 1
  for _, v in ipairs(list) do p = p * v end
  return p
end

local function identity(n)
  local p = {}
  for k = 1, n do p[k] = k end
  return p
end

local function filled(n, v)
  local l = {}
  for k = 1, n do l[k] = v end
  return l
end
local function zeros(n) return filled(n, 0) end
local function ones(n) return filled(n, 1) end

---------------------------------------------------------------- geometry

-- Blocks, as dusk.chunks numbers them: task k of a layer is block k in
-- C order (1-based); positions in blocks are 0-based.
local numblocks, nblocks = chunking.numblocks, chunking.count
local block_of, flat_of = chunking.index, chunking.flat

-- The start of each chunk along one axis (0-based), then the length.
local function starts(sizes) return chunking.offsets({ sizes })[1] end

---------------------------------------------------------------- making arrays

-- An Array of 'shape' and 'chunks' (explicit), its blocks made by
-- 'layer', its expression 'expr' (nil: the layer's blocks as they are).
local function wrap(layer, shape, chunks, dtype, name, expr)
  local self = setmetatable({
    shape = shape, chunks = chunks, dtype = dtype, ndim = #shape,
    size = product(shape), _layer = layer, _name = name,
  }, ArrayMT)
  self.nbytes = self.size * DTYPES[dtype]
  self.npartitions = nblocks(chunks)
  self._expr = expr or { kind = "leaf", leaf = { kind = "block", layer = layer,
                                                 dtype = dtype, shape = shape, chunks = chunks,
                                                 perm = identity(#shape), off = zeros(#shape),
                                                 step = ones(#shape) } }
  return self
end

-- The leaves of an expression, each once, in the order first met.
local function leaves_of(expr)
  local list, seen = {}, {}
  local function walk(e)
    if seen[e] then return end
    seen[e] = true
    if e.kind == "leaf" then
      if not seen[e.leaf] then seen[e.leaf] = true; list[#list + 1] = e.leaf end
    else
      walk(e.a)
      if e.b then walk(e.b) end
      if e.c then walk(e.c) end
    end
  end
  walk(expr)
  return list
end

-- The block along leaf axis 'a' holding leaf position 'pos' (0-based),
-- and where 'pos' is in it.
local function locate(leaf, a, pos, lstarts)
  local lo, hi = 1, #leaf.chunks[a]
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if lstarts[mid] <= pos then lo = mid else hi = mid - 1 end
  end
  return lo - 1, pos - lstarts[lo]
end

-- The per-axis map of a block leaf for output 'chunks': for each output
-- chunk along axis k, the leaf's block along its axis perm[k] holding the
-- chunk's first element (0-based) and where that is in the block; and
-- the same for the leaf axes no output axis maps to (indexed), 'fixed'.
-- A leaf position is off[a] + step[a] * the output position.
local function leaf_map(leaf, chunks)
  local map, fixed, mapped = {}, {}, {}
  for k, a in ipairs(leaf.perm) do
    local m = {}
    if a > 0 then mapped[a] = true end
    if a > 0 then
      local lstarts = starts(leaf.chunks[a])
      local off, step, at = leaf.off[a], leaf.step[a], 0
      for _, size in ipairs(chunks[k]) do
        local first = off + step * at
        local j, start = locate(leaf, a, first, lstarts)
        local last = first + step * (size - 1)
        if size > 0 and (last < lstarts[j + 1] or last >= lstarts[j + 1] + leaf.chunks[a][j + 1]) then
          error("internal: output chunks do not refine the leaf's", 0)
        end
        m[#m + 1] = j
        m[#m + 1] = start
        at = at + size
      end
    end
    map[k] = m
  end
  for a = 1, #leaf.shape do
    local j, start = 0, 0
    if not mapped[a] then j, start = locate(leaf, a, leaf.off[a], starts(leaf.chunks[a])) end
    fixed[2 * a - 1], fixed[2 * a] = j, start
  end
  return map, fixed
end

-- A copy of the expression DAG 'expr' whose every leaf is f(leaf) (once
-- per leaf): the leaves seen anew (transposed, sliced, broadcast).
local function map_leaves(expr, f)
  local memo = {}
  local function copy(e)
    if memo[e] then return memo[e] end
    local c = {}
    for k, v in pairs(e) do c[k] = v end
    if e.kind == "leaf" then
      memo[e.leaf] = memo[e.leaf] or f(e.leaf)
      c.leaf = memo[e.leaf]
    else
      c.a = copy(e.a)
      if e.b then c.b = copy(e.b) end
      if e.c then c.c = copy(e.c) end
    end
    memo[e] = c
    return c
  end
  return copy(expr)
end

local function copy_leaf(lf)
  local c = {}
  for k, v in pairs(lf) do c[k] = v end
  c.perm, c.off, c.step = table.move(lf.perm, 1, #lf.perm, 1, {}), table.move(lf.off, 1, #lf.off, 1, {}),
                          table.move(lf.step, 1, #lf.step, 1, {})
  return c
end

-- The program of an expression for output 'shape'/'chunks' (see
-- src/bind/larray.c), and its dependencies: the layers its block leaves
-- read, with the blocks each task reads.
local function program(expr, shape, chunks)
  local leaves = leaves_of(expr)
  local deps, dep_of = {}, {}
  local pleaves = {}
  for i, lf in ipairs(leaves) do
    local p = { kind = lf.kind, dtype = lf.dtype, shape = lf.shape, perm = lf.perm, dep = 0,
                step = lf.step, off = lf.off, seed = lf.seed, p0 = lf.p0, p1 = lf.p1,
                i0 = lf.i0, i1 = lf.i1 }
    if lf.kind == "block" then
      if not dep_of[lf.layer] then
        deps[#deps + 1] = lf.layer
        dep_of[lf.layer] = #deps
      end
      p.dep = dep_of[lf.layer]
      p.map, p.fixed = leaf_map(lf, chunks)
      p.grid = numblocks(lf.chunks)
      p.off = nil
    end
    pleaves[i] = p
  end
  -- instructions, each node once
  local insn, reg = {}, {}
  local leaf_no = {}
  for i, lf in ipairs(leaves) do leaf_no[lf] = i end
  local function emit(e)
    if reg[e] then return reg[e] end
    local r
    if e.kind == "leaf" then
      insn[#insn + 1] = { "leaf", leaf_no[e.leaf], e.leaf.dtype }
    elseif e.kind == "cast" then
      local a = emit(e.a)
      insn[#insn + 1] = { "cast", 0, e.dtype, a }
    elseif e.kind == "binary" then
      local a, b = emit(e.a), emit(e.b)
      insn[#insn + 1] = { "binary", e.op, e.dtype, a, b }
    elseif e.kind == "unary" then
      local a = emit(e.a)
      insn[#insn + 1] = { "unary", e.op, e.dtype, a }
    elseif e.kind == "where" then
      local c, a, b = emit(e.c), emit(e.a), emit(e.b)
      insn[#insn + 1] = { "where", 0, e.dtype, c, a, b }
    end
    r = #insn
    reg[e] = r
    return r
  end
  emit(expr)
  local prog = { ndim = #shape, whole = shape, chunks = chunks, starts = chunking.offsets(chunks),
                 insn = insn, leaves = pleaves }
  -- the reads of each task, in the order larray.c takes its inputs
  local g, n = numblocks(chunks), nblocks(chunks)
  local dep_reads = {}
  for d = 1, #deps do dep_reads[d] = {} end
  for t = 1, n do
    local bidx = block_of(g, t)
    for d = 1, #deps do
      local list, seen = {}, {}
      for _, p in ipairs(pleaves) do
        if p.dep == d then
          local lidx = {}
          for a = 1, #p.shape do lidx[a] = p.fixed[2 * a - 1] + 1 end
          for k, a in ipairs(p.perm) do
            if a > 0 then lidx[a] = p.map[k][2 * bidx[k] - 1] + 1 end
          end
          local f = flat_of(p.grid, lidx)
          if not seen[f] then seen[f] = true; list[#list + 1] = f end
        end
      end
      dep_reads[d][t] = list
    end
  end
  local gdeps = {}
  for d, layer in ipairs(deps) do gdeps[d] = { layer, reads = dep_reads[d] } end
  return prog, gdeps
end

-- Refuses a grid of more than MAX_BLOCKS blocks (before anything per
-- block is made).
local function check_blocks(chunks, what)
  local n = 1
  for _, c in ipairs(chunks) do n = n * #c end
  if n > MAX_BLOCKS then
    errors.raise(string.format("%s: %.0f blocks are more than dusk computes (%d); choose larger chunks",
                               what, n, MAX_BLOCKS))
  end
end

-- An Array made by evaluating 'expr' for each block of 'chunks'.
local function from_expr(expr, shape, chunks, dtype, name)
  check_blocks(chunks, name)
  local prog, deps = program(expr, shape, chunks)
  local layer = core.layer(LayerMT, compute.new_key(name), nblocks(chunks), spec.array("block", prog), deps)
  local self = wrap(layer, shape, chunks, dtype, name, expr)
  -- a long expression is cut: later operations read this Array's blocks
  if #leaves_of(expr) > MAX_LEAVES then self._expr = wrap(layer, shape, chunks, dtype, name)._expr end
  return self
end

local function normalize(chunks, shape, dtype, what, previous)
  local ok, out = pcall(chunking.normalize, chunks or "auto", shape, DTYPES[dtype], nil, previous)
  if not ok then errors.raise(what .. ": " .. tostring(out):gsub("^.-:%d+: ", "")) end
  check_blocks(out, what)
  return out
end

local function check_shape(shape, what)
  if type(shape) == "number" then shape = { shape } end
  if type(shape) ~= "table" then errors.raise(what .. ": expected a shape (a list of sizes)") end
  local out = {}
  for k, v in ipairs(shape) do
    local i = math.type(v) and math.tointeger(v)
    if not i or i < 0 then
      errors.raise(string.format("%s: axis %d of the shape must be a non-negative integer, got %s",
                                 what, k, tostring(v)))
    end
    out[k] = i
  end
  if #out > MAX_DIMS then
    errors.raise(string.format("%s: %d dimensions (at most %d)", what, #out, MAX_DIMS))
  end
  return out
end

-- A source Array: every block generated from its position.
local function source(what, shape, opts, dtype, leaf)
  shape = check_shape(shape, what)
  local chunks = normalize(opts.chunks, shape, dtype, what)
  leaf.dtype, leaf.shape, leaf.perm = dtype, shape, identity(#shape)
  leaf.off, leaf.step = zeros(#shape), ones(#shape)
  return from_expr({ kind = "leaf", leaf = leaf }, shape, chunks, dtype, what)
end

local function full_leaf(v, dtype)
  if v == true then v = 1 elseif v == false then v = 0 end
  -- a float as it is (v + 0.0 would make -0.0 into 0.0)
  if dtype == "float64" or dtype == "float32" then
    return { kind = "full", p0 = math.type(v) == "float" and v or v + 0.0 }
  end
  local i = math.tointeger(v)
  if not i then errors.raise("full: " .. tostring(v) .. " is not a value of " .. dtype) end
  return { kind = "full", i0 = i }
end

function M.full(shape, v, opts)
  opts = opts_of(opts, "full", { chunks = true, dtype = true })
  if type(v) ~= "number" and type(v) ~= "boolean" then errors.raise("full: expected a number, got " .. type(v)) end
  local dtype = opts.dtype and check_dtype(opts.dtype, "full")
                or (type(v) == "boolean" and "bool" or math.type(v) == "integer" and "int64" or "float64")
  return source("full", shape, opts, dtype, full_leaf(v, dtype))
end

function M.zeros(shape, opts)
  opts = opts_of(opts, "zeros", { chunks = true, dtype = true })
  local dtype = check_dtype(opts.dtype or "float64", "zeros")
  return source("zeros", shape, opts, dtype, full_leaf(0, dtype))
end

function M.ones(shape, opts)
  opts = opts_of(opts, "ones", { chunks = true, dtype = true })
  local dtype = check_dtype(opts.dtype or "float64", "ones")
  return source("ones", shape, opts, dtype, full_leaf(1, dtype))
end
M.empty = M.zeros

-- da.arange(start, stop[, step], {chunks=, dtype=}): numpy's, stop excluded.
function M.arange(start, stop, step, opts)
  if type(step) == "table" then step, opts = nil, step end
  if type(stop) == "table" then stop, opts = nil, stop end
  if stop == nil then start, stop = 0, start end
  step = step or 1
  opts = opts_of(opts, "arange", { chunks = true, dtype = true })
  for _, v in ipairs({ start, stop, step }) do
    if type(v) ~= "number" then errors.raise("arange: expected numbers, got " .. type(v)) end
  end
  if step == 0 then errors.raise("arange: step must not be zero") end
  local n = math.max(0, math.ceil((stop - start) / step))
  n = math.tointeger(n) or errors.raise("arange: too many elements")
  local ints = math.type(start) == "integer" and math.type(stop) == "integer" and math.type(step) == "integer"
  local dtype = check_dtype(opts.dtype or (ints and "int64" or "float64"), "arange")
  local leaf = { kind = "arange" }
  if dtype == "float64" or dtype == "float32" then leaf.p0, leaf.p1 = start + 0.0, step + 0.0
  else
    leaf.i0 = math.tointeger(start) or errors.raise("arange: an integer dtype needs integer bounds")
    leaf.i1 = math.tointeger(step) or errors.raise("arange: an integer dtype needs an integer step")
  end
  return source("arange", { n }, opts, dtype, leaf)
end

-- da.linspace(a, b, n, {chunks=, dtype=}): n values from a to b included.
function M.linspace(a, b, n, opts)
  opts = opts_of(opts, "linspace", { chunks = true, dtype = true })
  n = math.tointeger(n) or errors.raise("linspace: n must be an integer")
  if n < 0 then errors.raise("linspace: n must not be negative") end
  local step = n > 1 and (b - a) / (n - 1) or 0.0
  return source("linspace", { n }, opts, check_dtype(opts.dtype or "float64", "linspace"),
                { kind = "arange", p0 = a + 0.0, p1 = step })
end

local function seed_of(opts, what)
  if opts.seed == nil then return math.random(0, math.maxinteger) end
  return math.tointeger(opts.seed) or errors.raise(what .. ": seed must be an integer")
end

M.random = {}
function M.random.random(shape, opts)
  opts = opts_of(opts, "random.random", { chunks = true, seed = true, dtype = true })
  local dtype = check_dtype(opts.dtype or "float64", "random.random")
  return source("random", shape, opts, dtype, { kind = "random", seed = seed_of(opts, "random.random") })
end

function M.random.normal(mu, sd, shape, opts)
  opts = opts_of(opts, "random.normal", { chunks = true, seed = true, dtype = true })
  if type(mu) ~= "number" or type(sd) ~= "number" then errors.raise("random.normal: mu and sd must be numbers") end
  if sd < 0 then errors.raise("random.normal: sd must not be negative") end
  local dtype = check_dtype(opts.dtype or "float64", "random.normal")
  return source("normal", shape, opts, dtype,
                { kind = "normal", seed = seed_of(opts, "random.normal"), p0 = mu + 0.0, p1 = sd + 0.0 })
end

function M.random.randint(lo, hi, shape, opts)
  opts = opts_of(opts, "random.randint", { chunks = true, seed = true, dtype = true })
  lo = math.tointeger(lo) or errors.raise("random.randint: lo must be an integer")
  hi = math.tointeger(hi) or errors.raise("random.randint: hi must be an integer")
  if hi <= lo then errors.raise(string.format("random.randint: lo (%d) must be below hi (%d)", lo, hi)) end
  local dtype = check_dtype(opts.dtype or "int64", "random.randint")
  return source("randint", shape, opts, dtype,
                { kind = "randint", seed = seed_of(opts, "random.randint"), i0 = lo, i1 = hi })
end

-- The blocks of an in-memory ndarray, kept in C (a Stored payload).
local function from_ndarray(a, opts, what)
  local shape = a.shape
  local chunks = normalize(opts.chunks, shape, a.dtype, what)
  local g, n = numblocks(chunks), nblocks(chunks)
  local blocks, st = {}, {}
  for k = 1, #shape do st[k] = starts(chunks[k]) end
  for t = 1, n do
    local idx = block_of(g, t)
    local sel = {}
    for k = 1, #shape do
      local s = st[k][idx[k]]
      sel[k] = { s + 1, s + chunks[k][idx[k]] }
    end
    local bshape = chunking.block_shape(chunks, idx)
    if #shape == 0 then blocks[t] = a
    elseif product(bshape) == 0 then blocks[t] = nda.zeros(bshape, a.dtype)
    else blocks[t] = a:slice(table.unpack(sel, 1, #shape)):copy() end
  end
  local layer = core.layer(LayerMT, compute.new_key(what), n, core.stored_new(blocks), nil)
  return wrap(layer, shape, chunks, a.dtype, what)
end

function M.from_table(t, opts)
  opts = opts_of(opts, "from_table", { chunks = true, dtype = true })
  local ok, a = pcall(nda.array, t, opts.dtype)
  if not ok then errors.raise("from_table: " .. tostring(a):gsub("^.-:%d+: ", ""):gsub("^nda%.array: ", "")) end
  return from_ndarray(a, opts, "from_table")
end

function M.from_ndarray(a, opts)
  if not nda.is_ndarray(a) then errors.raise("from_ndarray: expected a dusk.ndarray") end
  return from_ndarray(a, opts_of(opts, "from_ndarray", { chunks = true }), "from_ndarray")
end

---------------------------------------------------------------- elementwise

-- An operand: an Array, or a Lua number or boolean (a weak scalar).
local function operand(v, what)
  if is_array(v) then return v end
  if type(v) == "number" or type(v) == "boolean" then return v end
  if nda.is_ndarray(v) then return M.from_ndarray(v) end
  errors.raise(string.format("%s: expected an Array or a number, got a %s", what, type(v)))
end

-- The shape and chunks several operands broadcast to (numpy's rules,
-- Dask's unified chunks); numbers take no part.
local function broadcast(ops, what)
  local arrays = {}
  for _, x in ipairs(ops) do if is_array(x) then arrays[#arrays + 1] = x end end
  local ok, plan = pcall(chunking.broadcast, table.unpack(arrays))
  if not ok then errors.raise(what .. ": " .. tostring(plan):gsub("^.-:%d+: ", "")) end
  return plan.shape, plan.chunks
end

-- 'x''s expression placed in the output's 'shape': new leading axes,
-- and x's axes of length 1 against longer ones, broadcast.  Broadcasting
-- is a step of 0: every output position reads the leaf's one position.
local function lifted(x, shape)
  local lead = #shape - x.ndim
  local flat = {}
  for k = 1, x.ndim do flat[k] = x.shape[k] == 1 and shape[lead + k] ~= 1 end
  local any = lead > 0
  for k = 1, x.ndim do any = any or flat[k] end
  if not any then return x._expr end
  return map_leaves(x._expr, function(lf)
    local c = copy_leaf(lf)
    c.perm = zeros(lead)
    table.move(lf.perm, 1, #lf.perm, lead + 1, c.perm)
    for k = 1, x.ndim do
      local a = lf.perm[k]
      if flat[k] and a > 0 then c.step[a] = 0 end
    end
    return c
  end)
end

local function cast(e, from, to)
  if from == to then return e end
  return { kind = "cast", a = e, dtype = to }
end

-- A scalar operand as a 0-d leaf of 'dtype'.
local function scalar_expr(v, dtype, ndim)
  local lf = full_leaf(v, dtype)
  lf.dtype, lf.shape, lf.perm, lf.off, lf.step = dtype, {}, zeros(ndim), {}, {}
  return { kind = "leaf", leaf = lf }
end

local function binary(op, x, y, what)
  what = what or op
  x, y = operand(x, what), operand(y, what)
  if not is_array(x) and not is_array(y) then errors.raise(what .. ": expected an Array") end
  local shape, chunks = broadcast({ x, y }, what)
  local ndim = #shape
  local dx, dy
  if is_array(x) then dx = x.dtype end
  if is_array(y) then dy = y.dtype end
  if not dx then
    local d, err = ac.weak(dy, x)
    dx = d or errors.raise(what .. ": " .. err)
  end
  if not dy then
    local d, err = ac.weak(dx, y)
    dy = d or errors.raise(what .. ": " .. err)
  end
  local loop, out = ac.binary_types(op, dx, dy)
  if not loop then errors.raise(what .. ": " .. out) end
  -- what a task would find out about a Lua number, said now
  if not is_array(y) and loop ~= "float64" and loop ~= "float32" then
    if (op == "floordiv" or op == "mod") and y == 0 then errors.raise(what .. ": integer division by zero") end
    if op == "pow" and type(y) == "number" and y < 0 then
      errors.raise(what .. ": integers to negative integer powers are not allowed")
    end
  end
  local ex = is_array(x) and cast(lifted(x, shape), dx, loop) or scalar_expr(x, loop, ndim)
  local ey = is_array(y) and cast(lifted(y, shape), dy, loop) or scalar_expr(y, loop, ndim)
  return from_expr({ kind = "binary", op = op, a = ex, b = ey, dtype = out }, shape, chunks, out, op)
end

local function unary(op, x, what)
  if not is_array(x) then errors.raise(string.format("%s: expected an Array, got a %s", what or op, type(x))) end
  local loop, out = ac.unary_types(op, x.dtype)
  if not loop then errors.raise((what or op) .. ": " .. out) end
  return from_expr({ kind = "unary", op = op, a = cast(x._expr, x.dtype, loop), dtype = out },
                   x.shape, x.chunks, out, op)
end

ArrayMT.__add = function(a, b) return binary("add", a, b, "+") end
ArrayMT.__sub = function(a, b) return binary("sub", a, b, "-") end
ArrayMT.__mul = function(a, b) return binary("mul", a, b, "*") end
ArrayMT.__div = function(a, b) return binary("div", a, b, "/") end
ArrayMT.__idiv = function(a, b) return binary("floordiv", a, b, "//") end
ArrayMT.__mod = function(a, b) return binary("mod", a, b, "%") end
ArrayMT.__pow = function(a, b) return binary("pow", a, b, "^") end
ArrayMT.__unm = function(a) return unary("neg", a, "-") end

for _, op in ipairs({ "eq", "ne", "lt", "le", "gt", "ge" }) do
  Array[op] = function(self, other) return binary(op, self, other, op) end
end
function M.maximum(x, y) return binary("maximum", x, y) end
function M.minimum(x, y) return binary("minimum", x, y) end

for _, op in ipairs({ "sqrt", "exp", "log", "abs", "sin", "cos", "tanh", "floor", "ceil" }) do
  M[op] = function(x) return unary(op, operand(x, op), op) end
  Array[op] = M[op]
end

function Array:astype(dtype)
  check_dtype(dtype, "astype")
  if dtype == self.dtype then return self end
  return from_expr(cast(self._expr, self.dtype, dtype), self.shape, self.chunks, dtype, "astype")
end

-- da.where(cond, a, b): a where cond is true, else b.
function M.where(cond, a, b)
  cond, a, b = operand(cond, "where"), operand(a, "where"), operand(b, "where")
  if not is_array(cond) then errors.raise("where: the condition must be an Array") end
  local shape, chunks = broadcast({ cond, a, b }, "where")
  local ndim = #shape
  local da_, db_ = is_array(a) and a.dtype, is_array(b) and b.dtype
  if not da_ and not db_ then
    da_ = math.type(a) == "float" and "float64" or type(a) == "boolean" and "bool" or "int64"
    db_ = math.type(b) == "float" and "float64" or type(b) == "boolean" and "bool" or "int64"
  end
  da_ = da_ or ac.weak(db_, a) or errors.raise("where: " .. select(2, ac.weak(db_, a)))
  db_ = db_ or ac.weak(da_, b) or errors.raise("where: " .. select(2, ac.weak(da_, b)))
  local dt = ac.binary_types("add", da_, db_)
  if da_ == "bool" and db_ == "bool" then dt = "bool" end
  local ea = is_array(a) and cast(lifted(a, shape), a.dtype, dt) or scalar_expr(a, dt, ndim)
  local eb = is_array(b) and cast(lifted(b, shape), b.dtype, dt) or scalar_expr(b, dt, ndim)
  local ec = cast(lifted(cond, shape), cond.dtype, "bool")
  return from_expr({ kind = "where", c = ec, a = ea, b = eb, dtype = dt }, shape, chunks, dt, "where")
end

---------------------------------------------------------------- transpose

-- x:transpose([perm]): axis k of the result is axis perm[k] of x
-- (reversed without perm).  A view of the leaves: it fuses.
function Array:transpose(perm)
  local n = self.ndim
  if perm == nil then
    perm = {}
    for k = 1, n do perm[k] = n + 1 - k end
  end
  if type(perm) ~= "table" or #perm ~= n then
    errors.raise(string.format("transpose: expected a permutation of %d axes", n))
  end
  local seen, p = {}, {}
  for k, a in ipairs(perm) do
    a = math.tointeger(a)
    if a and a < 0 then a = n + 1 + a end
    if not a or a < 1 or a > n or seen[a] then
      errors.raise("transpose: " .. tostring(perm[k]) .. " is not a valid axis of the permutation")
    end
    seen[a], p[k] = true, a
  end
  local expr = map_leaves(self._expr, function(lf)
    local c = copy_leaf(lf)
    for k = 1, n do c.perm[k] = lf.perm[p[k]] end
    return c
  end)
  local shape, chunks = {}, {}
  for k = 1, n do shape[k], chunks[k] = self.shape[p[k]], self.chunks[p[k]] end
  local out = from_expr(expr, shape, chunks, self.dtype, "transpose")
  if n == 2 and p[1] == 2 then out._transpose_of = self end -- dot reads self's blocks transposed
  return out
end

---------------------------------------------------------------- slicing

-- Leaves other than blocks and 0-d constants (generated at their
-- positions, which must stay consecutive).
local function has_sources(expr)
  for _, lf in ipairs(leaves_of(expr)) do
    if lf.kind ~= "block" and #lf.shape > 0 then return true end
  end
  return false
end

-- x:slice(s1, s2, ...): per axis an index i, a range {a, b} or {a, b,
-- step} (inclusive, negative counting from the end, negative steps
-- backwards), or {} for all of it; missing trailing axes are whole.  A
-- view of the leaves: it fuses, and reads only the blocks it touches.
function Array:slice(...)
  local sel = table.pack(...)
  local ok, plan = pcall(chunking.slice, self.chunks, sel)
  if not ok then errors.raise(tostring(plan):gsub("^.-:%d+: ", "")) end
  -- per axis: the first position read and the step (an index: nil step)
  local first, step, strided = {}, {}, false
  for d, ax in ipairs(plan.axes) do
    local p = ax.pieces[1]
    first[d] = starts(self.chunks[d])[p.block] + p.start
    if not ax.drop then
      step[d] = p.step
      if p.step ~= 1 then strided = true end
    end
  end
  local base = self
  if strided and has_sources(self._expr) then
    base = wrap(self._layer, self.shape, self.chunks, self.dtype, self._name)
  end
  local expr = map_leaves(base._expr, function(lf)
    local c = copy_leaf(lf)
    c.perm = {}
    for d = 1, self.ndim do
      local a = lf.perm[d]
      if a > 0 then
        c.off[a] = lf.off[a] + lf.step[a] * first[d]
        if step[d] then c.step[a] = lf.step[a] * step[d] end
      end
      if step[d] then c.perm[#c.perm + 1] = a end
    end
    return c
  end)
  return from_expr(expr, plan.shape, plan.chunks, self.dtype, "slice")
end

---------------------------------------------------------------- assembling

-- A layer whose blocks are made of regions of other layers' blocks
-- (src/bind/larray.c's a_assemble): 'arrays' its inputs (materialized),
-- 'pieces[k][c]' the pieces of output chunk c along axis k, five numbers
-- each {dep, block, from, count, to} (0-based).
local function assemble(name, arrays, pieces, shape, chunks, dtype)
  local grids, layers = {}, {}
  for d, x in ipairs(arrays) do grids[d], layers[d] = numblocks(x.chunks), x._layer end
  local g, n = numblocks(chunks), nblocks(chunks)
  local reads = {}
  for d = 1, #arrays do reads[d] = {} end
  for t = 1, n do
    local bidx = block_of(g, t)
    local lists, counts = {}, {}
    for k = 1, #g do
      lists[k] = pieces[k][bidx[k]]
      counts[k] = #lists[k] // 5
    end
    local per, seen = {}, {}
    for d = 1, #arrays do per[d], seen[d] = {}, {} end
    for r = 1, product(counts) do
      local at = block_of(counts, r)
      local dep, blk = 1, {}
      for k = 1, #g do
        local base = 5 * (at[k] - 1)
        if lists[k][base + 1] > dep then dep = lists[k][base + 1] end
        blk[k] = lists[k][base + 2] + 1
      end
      local f = flat_of(grids[dep], blk)
      if not seen[dep][f] then seen[dep][f] = true; per[dep][#per[dep] + 1] = f end
    end
    for d = 1, #arrays do reads[d][t] = per[d] end
  end
  local deps = {}
  for d = 1, #arrays do deps[d] = { layers[d], reads = reads[d] } end
  local geom = { dtype = dtype, chunks = chunks, grids = grids, pieces = pieces }
  local layer = core.layer(LayerMT, compute.new_key(name), n, spec.array("assemble", geom), deps)
  return wrap(layer, shape, chunks, dtype, name)
end

-- The pieces of one axis (assemble's five numbers each, from
-- dependency 'dep') that make chunks 'new' of chunks 'old': dusk.chunks'
-- intersection of the two, laid end to end in each new chunk.
local function axis_pieces(old, new, dep)
  local out = {}
  for c, list in ipairs(chunking.rechunk_step({ old }, { new }).axes[1]) do
    local flat, to = {}, 0
    for _, p in ipairs(list) do
      table.move({ dep, p.block - 1, p.start, p.count, to }, 1, 5, #flat + 1, flat)
      to = to + p.count
    end
    out[c] = flat
  end
  return out
end

-- x:rechunk(chunks): the same array in other blocks, in steps that keep
-- what a task holds within Dask's bound.
function Array:rechunk(chunks)
  local new = normalize(chunks, self.shape, self.dtype, "rechunk")
  if chunking.equal(new, self.chunks) then return self end
  local steps = chunking.rechunk_plan(self.chunks, new, DTYPES[self.dtype])
  local x = self
  for _, step in ipairs(steps) do
    if not chunking.equal(step, x.chunks) then
      local pieces = {}
      for k = 1, x.ndim do pieces[k] = axis_pieces(x.chunks[k], step[k], 1) end
      x = assemble("rechunk", { x }, pieces, x.shape, step, x.dtype)
    end
  end
  return x
end

-- da.concatenate({x, y, ...}, axis): joined along 'axis' (1-based;
-- default 1), other axes unified first.
function M.concatenate(list, axis)
  if type(list) ~= "table" or #list == 0 then errors.raise("concatenate: expected a list of Arrays") end
  for i, x in ipairs(list) do
    if not is_array(x) then errors.raise(string.format("concatenate: entry %d is not an Array", i)) end
  end
  local ok, plan = pcall(chunking.concatenate, list, axis)
  if not ok then errors.raise(tostring(plan):gsub("^.-:%d+: ", "")) end
  axis = math.tointeger(axis or 1)
  if axis < 0 then axis = list[1].ndim + 1 + axis end
  local dtype = list[1].dtype
  local arrays = {}
  for i, x in ipairs(list) do
    dtype = ac.promote(dtype, x.dtype)
    arrays[i] = plan.rechunk[i] and x:rechunk(plan.rechunk[i]) or x
  end
  -- along 'axis' each output block is one block of one input; along the
  -- others, the same block of every input
  local pieces = {}
  for k = 1, #plan.chunks do
    if k == axis then
      local along = {}
      for j, b in ipairs(plan.blocks) do
        along[j] = { b.input, b.block - 1, 0, plan.chunks[k][j], 0 }
      end
      pieces[k] = along
    else
      pieces[k] = axis_pieces(plan.chunks[k], plan.chunks[k], 1)
    end
  end
  return assemble("concatenate", arrays, pieces, plan.shape, plan.chunks, dtype)
end

-- x with a new axis of length 1 before axis 'axis' (a view: it fuses).
local function expand(x, axis)
  local expr = map_leaves(x._expr, function(lf)
    local c = copy_leaf(lf)
    table.insert(c.perm, axis, 0)
    return c
  end)
  local shape, chunks = table.move(x.shape, 1, x.ndim, 1, {}), table.move(x.chunks, 1, x.ndim, 1, {})
  table.insert(shape, axis, 1)
  table.insert(chunks, axis, { 1 })
  return from_expr(expr, shape, chunks, x.dtype, "expand")
end

-- da.stack({x, y, ...}, axis): along a new axis (1-based, default 1).
function M.stack(list, axis)
  if type(list) ~= "table" or #list == 0 then errors.raise("stack: expected a list of Arrays") end
  local ndim
  for i, x in ipairs(list) do
    if not is_array(x) then errors.raise(string.format("stack: entry %d is not an Array", i)) end
    if ndim and (x.ndim ~= ndim or table.concat(x.shape, ",") ~= table.concat(list[1].shape, ",")) then
      errors.raise("stack: all input arrays must have the same shape")
    end
    ndim = x.ndim
  end
  axis = math.tointeger(axis or 1) or errors.raise("stack: the axis must be an integer")
  if axis < 0 then axis = ndim + 2 + axis end
  if axis < 1 or axis > ndim + 1 then
    errors.raise(string.format("stack: axis %d is out of bounds for an array of %d dimensions", axis, ndim + 1))
  end
  local expanded = {}
  for i, x in ipairs(list) do expanded[i] = expand(x, axis) end
  return M.concatenate(expanded, axis)
end

-- x:reshape(shape) (one -1 allowed): C order, as numpy, by Dask's plan:
-- the input is rechunked so that each of its blocks reshapes into one
-- block of the result.
function Array:reshape(shape)
  shape = type(shape) == "number" and { shape } or shape
  local ok, plan = pcall(chunking.reshape, self.shape, self.chunks, shape)
  if not ok and tostring(plan):find("unevenly", 1, true) and self.nbytes <= 4 * chunking.LIMIT then
    -- what Dask's plan cannot cut, an array this small takes in one block
    local whole = {}
    for k = 1, self.ndim do whole[k] = { self.shape[k] } end
    ok, plan = pcall(chunking.reshape, self.shape, whole, shape)
  end
  if not ok then errors.raise(tostring(plan):gsub("^.-:%d+: ", "")) end
  local same = #plan.shape == self.ndim
  for k = 1, #plan.shape do if plan.shape[k] ~= self.shape[k] then same = false end end
  if same then return self end
  local x = chunking.equal(plan.inchunks, self.chunks) and self or self:rechunk(plan.inchunks)
  local layer = core.layer(LayerMT, compute.new_key("reshape"), nblocks(plan.chunks),
                           spec.array("reshape", { chunks = plan.chunks }), { { x._layer, split = 1 } })
  return wrap(layer, plan.shape, plan.chunks, self.dtype, "reshape")
end

---------------------------------------------------------------- products

-- An operand of a block product: its layer, read as it is or transposed
-- (x.T of blocks already made costs no task).
local function matmul_operand(x)
  if x._transpose_of then
    local y = x._transpose_of
    return y._layer, true, y.chunks
  end
  local e = x._expr
  if e.kind == "leaf" and e.leaf.kind == "block" and x.ndim == 2 then
    local lf = e.leaf
    local plain = lf.off[1] == 0 and lf.off[2] == 0 and lf.step[1] == 1 and lf.step[2] == 1
                  and lf.shape[1] == x.shape[lf.perm[1]] and #lf.shape == 2
    if plain and lf.perm[1] == 1 and lf.perm[2] == 2 then return lf.layer, false, lf.chunks end
    if plain and lf.perm[1] == 2 and lf.perm[2] == 1 then return lf.layer, true, lf.chunks end
  end
  return x._layer, false, x.chunks
end

-- x:dot(y), da.matmul(x, y): numpy's dot of 1-d and 2-d Arrays, a block
-- product accumulated over the inner blocks.
function Array:dot(y)
  local x = self
  if not is_array(y) then y = operand(y, "dot") end
  if not is_array(y) then errors.raise("dot: expected an Array") end
  if x.ndim < 1 or x.ndim > 2 or y.ndim < 1 or y.ndim > 2 then
    errors.raise(string.format("dot: takes 1-d and 2-d arrays, not shapes %s and %s", chunking.np_shape(x.shape), chunking.np_shape(y.shape)))
  end
  local x1, y1 = x.ndim == 1, y.ndim == 1
  if x1 then x = expand(x, 1) end
  if y1 then y = expand(y, 2) end
  if x.shape[2] ~= y.shape[1] then
    errors.raise(string.format("dot: shapes %s and %s not aligned: %d (dim %d) != %d (dim 0)",
                               chunking.np_shape(self.shape), chunking.np_shape(y1 and { y.shape[1] } or y.shape),
                               x.shape[2], x1 and 0 or 1, y.shape[1]))
  end
  -- the inner axis in one chunking (Dask's unify_chunks)
  local inner = chunking.broadcast({ shape = { x.shape[2] }, chunks = { x.chunks[2] } },
                                   { shape = { y.shape[1] }, chunks = { y.chunks[1] } }).chunks[1]
  if not chunking.equal({ inner }, { x.chunks[2] }) then x = x:rechunk({ x.chunks[1], inner }) end
  if not chunking.equal({ inner }, { y.chunks[1] }) then y = y:rechunk({ inner, y.chunks[2] }) end
  ac.blas() -- loaded here, on the caller's thread, before any task needs it
  local la, ta, ca = matmul_operand(x)
  local lb, tb, cb = matmul_operand(y)
  local nk = #inner
  local ga, gb = numblocks(ca), numblocks(cb)
  local ni, nj = #x.chunks[1], #y.chunks[2]
  local ra, rb = {}, {}
  for i = 1, ni do
    for j = 1, nj do
      local t = (i - 1) * nj + j
      local la_, lb_ = {}, {}
      for k = 1, nk do
        la_[k] = ta and flat_of(ga, { k, i }) or flat_of(ga, { i, k })
        lb_[k] = tb and flat_of(gb, { j, k }) or flat_of(gb, { k, j })
      end
      ra[t], rb[t] = la_, lb_
    end
  end
  local dtype = ac.promote(x.dtype, y.dtype)
  local chunks = { x.chunks[1], y.chunks[2] }
  local deps = { { la, reads = ra } }
  if lb == la then
    -- one layer read twice: its blocks for both operands, once each
    for t = 1, #ra do
      local list, seen = {}, {}
      for _, f in ipairs(ra[t]) do if not seen[f] then seen[f] = true; list[#list + 1] = f end end
      for _, f in ipairs(rb[t]) do if not seen[f] then seen[f] = true; list[#list + 1] = f end end
      ra[t] = list
    end
  else
    deps[2] = { lb, reads = rb }
  end
  local geom = { chunks = chunks, nk = nk, ta = ta and 1 or 0, tb = tb and 1 or 0 }
  if lb == la then
    -- the task gets the distinct blocks; name which is which
    geom.same = true
    geom.ga, geom.gb = ga, gb
  end
  local layer = core.layer(LayerMT, compute.new_key("dot"), ni * nj, spec.array("matmul", geom), deps)
  local out = wrap(layer, { x.shape[1], y.shape[2] }, chunks, dtype, "dot")
  if x1 and y1 then return out:slice(1, 1) end
  if x1 then return out:slice(1) end
  if y1 then return out:slice({}, 1) end
  return out
end
M.matmul = function(x, y) return Array.dot(x, y) end

-- da.blas() -> the BLAS products run on: "OpenBLAS 0.3.21, core
-- Cooperlake (chosen by dusk)", or why plain C loops run instead.
function M.blas() return ac.blas() end

---------------------------------------------------------------- map_blocks

-- x:map_blocks(f, {dtype=}): f(block) for every block, an ndarray of the
-- block's shape (or of a shape Dask would keep: the same number of axes
-- and, without 'chunks', the same shape).
function Array:map_blocks(f, opts)
  if type(f) ~= "function" then errors.raise("map_blocks: expected a function, got a " .. type(f)) end
  opts = opts_of(opts, "map_blocks", { dtype = true })
  local dtype = check_dtype(opts.dtype or self.dtype, "map_blocks")
  local layer = core.layer(LayerMT, compute.new_key("map_blocks"), self.npartitions,
                           spec.array("map", f, dtype, self.chunks), { { self._layer, split = 1 } })
  return wrap(layer, self.shape, self.chunks, dtype, "map_blocks")
end

---------------------------------------------------------------- storage

local arrayio -- dusk.arrayio, loaded by the first use of a format

local function io_module()
  arrayio = arrayio or require "dusk.arrayio"
  return arrayio
end

-- The start (0-based), the shape and the block index (0-based per axis)
-- of block 'index' (1-based, C order).
local function block_region(chunks, index)
  local bidx = block_of(numblocks(chunks), index)
  local start, count, at = {}, {}, {}
  for k = 1, #chunks do
    local st = starts(chunks[k])
    start[k], count[k], at[k] = st[bidx[k]], chunks[k][bidx[k]], bidx[k] - 1
  end
  return start, count, at
end

-- What an Array's storage tasks do (dusk.runner calls it): read block
-- 'index' of a file, or write 'block' there.
function M.storage_task(geom, index, block)
  local io_ = io_module()
  local start, count, at = block_region(geom.chunks, index)
  local f = geom.format
  if geom.write then
    if f == "npy" then io_.npy_write(geom.temp, start, block)
    elseif f == "zarr" then io_.zarr_write(geom.temp, start, block)
    elseif f == "hdf5" then io_.h5_write(geom.temp, geom.dataset, start, block)
    else io_.binary_write(geom.temp, at, block) end
    return true
  end
  if f == "npy" then return io_.npy_read(geom.path, start, count)
  elseif f == "zarr" then return io_.zarr_read(geom.path, start, count)
  elseif f == "hdf5" then return io_.h5_read(geom.path, geom.dataset, start, count)
  end
  return io_.binary_read(geom.path, at)
end

-- An Array read from a file, a block per task.
local function reader(what, geom, info, chunks)
  geom.chunks = chunks
  local layer = core.layer(LayerMT, compute.new_key(what), nblocks(chunks), spec.array("storage", geom), nil)
  return wrap(layer, info.shape, chunks, info.dtype, what)
end

local function info_of(what, f, ...)
  local ok, info = pcall(f, ...)
  if not ok then errors.raise(what .. ": " .. tostring(info):gsub("^.-:%d+: ", "")) end
  check_dtype(info.dtype, what)
  return info
end

-- da.from_npy(path, {chunks=})
function M.from_npy(path, opts)
  opts = opts_of(opts, "from_npy", { chunks = true })
  if type(path) ~= "string" then errors.raise("from_npy: expected a path") end
  local info = info_of("from_npy", io_module().npy_info, path)
  return reader("from_npy", { format = "npy", path = path }, info,
                normalize(opts.chunks, info.shape, info.dtype, "from_npy"))
end

-- da.from_zarr(path): the store's chunks.
function M.from_zarr(path, opts)
  opts = opts_of(opts, "from_zarr", { chunks = true })
  if type(path) ~= "string" then errors.raise("from_zarr: expected a path") end
  local info = info_of("from_zarr", io_module().zarr_info, path)
  local x = reader("from_zarr", { format = "zarr", path = path }, info,
                   normalize(info.chunks, info.shape, info.dtype, "from_zarr"))
  if opts.chunks then return x:rechunk(opts.chunks) end
  return x
end

-- da.from_hdf5(path, dataset, {chunks=}): blocks aligned to the
-- dataset's own chunks (whole multiples of them) unless told.
function M.from_hdf5(path, dataset, opts)
  opts = opts_of(opts, "from_hdf5", { chunks = true })
  if type(path) ~= "string" or type(dataset) ~= "string" then
    errors.raise("from_hdf5: expected a path and a dataset name")
  end
  local info = info_of("from_hdf5", io_module().h5_info, path, dataset)
  local previous -- the dataset's chunks, explicit, for "auto" to align to
  if info.chunks then
    previous = {}
    for k, size in ipairs(info.chunks) do
      local c, left = {}, info.shape[k]
      while left > 0 do c[#c + 1] = math.min(size, left); left = left - size end
      previous[k] = #c > 0 and c or { 0 }
    end
  end
  local ok, chunks = pcall(chunking.normalize, opts.chunks or "auto", info.shape, DTYPES[info.dtype],
                           nil, previous)
  if not ok then errors.raise("from_hdf5: " .. tostring(chunks):gsub("^.-:%d+: ", "")) end
  return reader("from_hdf5", { format = "hdf5", path = path, dataset = dataset }, info, chunks)
end

-- da.read_binary(dir): the chunks x:to_binary wrote.
function M.read_binary(dir)
  if type(dir) ~= "string" then errors.raise("read_binary: expected a directory") end
  local info = info_of("read_binary", io_module().binary_info, dir)
  return reader("read_binary", { format = "binary", path = dir }, info, info.chunks)
end

-- Chunks a store of regular chunks takes: every block of an axis the size
-- of its first but the last.
local function regular(x)
  for k = 1, x.ndim do
    local c = x.chunks[k]
    for j = 1, #c - 1 do
      if c[j] ~= c[1] or c[#c] > c[1] then
        local want = {}
        for a = 1, x.ndim do want[a] = math.max(1, x.chunks[a][1]) end
        return x:rechunk(want)
      end
    end
  end
  return x
end

-- Writes every block of 'x' into a temporary made by make() (a function
-- of the format), then commits it into place; on any failure the
-- temporary is removed and the error raised at the caller's line.  The
-- options are checked before anything is made.
local function write_all(x, what, geom, make, commit, abort, opts)
  local o = require("dusk.config").resolve(opts, what)
  local function strip(e) return tostring(e):gsub("^.-:%d+: ", "") end
  local ok, temp = pcall(make)
  if not ok then errors.raise(what .. ": " .. strip(temp)) end
  geom.temp, geom.write, geom.chunks = temp, true, x.chunks
  local n = nblocks(x.chunks)
  local layer = core.layer(LayerMT, compute.new_key(what), n, spec.array("storage", geom),
                           { { x._layer, split = 1 } })
  local layers, indexes = {}, {}
  for i = 1, n do layers[i], indexes[i] = layer, i end
  local err
  ok, err = pcall(core.compute, layers, indexes, o)
  core.release(layer)
  if ok then ok, err = pcall(commit, temp) end
  if not ok then
    pcall(abort, temp)
    errors.raise(what .. ": " .. strip(err))
  end
end

local function writer_path(what, path)
  if type(path) ~= "string" then errors.raise(what .. ": expected a path") end
end

-- x:to_npy(path [, opts]): one .npy file, written atomically.
function Array:to_npy(path, opts)
  writer_path("to_npy", path)
  local io_ = io_module()
  write_all(self, "to_npy", { format = "npy" },
            function() return io_.npy_create(path, self.dtype, self.shape) end,
            function(t) io_.npy_commit(t, path) end, io_.npy_abort, opts)
end

-- x:to_zarr(path [, opts]): a Zarr v2 store (zstd, shuffle), its chunks
-- this Array's (made regular first when they are not).
function Array:to_zarr(path, opts)
  writer_path("to_zarr", path)
  local io_ = io_module()
  local x = regular(self)
  local chunks = {}
  for k = 1, x.ndim do chunks[k] = math.max(1, x.chunks[k][1]) end
  write_all(x, "to_zarr", { format = "zarr" },
            function() return io_.zarr_create(path, x.dtype, x.shape, chunks) end,
            function(t) io_.zarr_commit(t, path) end, io_.zarr_abort, opts)
end

-- x:to_hdf5(path, dataset [, opts]): a chunked dataset in a new file.
function Array:to_hdf5(path, dataset, opts)
  writer_path("to_hdf5", path)
  if type(dataset) ~= "string" then errors.raise("to_hdf5: expected a dataset name") end
  local io_ = io_module()
  local chunks = {}
  for k = 1, self.ndim do chunks[k] = math.max(1, self.chunks[k][1]) end
  write_all(self, "to_hdf5", { format = "hdf5", dataset = dataset },
            function() return io_.h5_create(path, dataset, self.dtype, self.shape, chunks) end,
            function(t) io_.h5_commit(t, path) end, io_.h5_abort, opts)
end

-- x:to_binary(dir [, opts]): a directory of zstd-compressed blocks.
function Array:to_binary(dir, opts)
  writer_path("to_binary", dir)
  local io_ = io_module()
  write_all(self, "to_binary", { format = "binary" },
            function() return io_.binary_create(dir, self.dtype, self.shape, self.chunks) end,
            function(t) io_.binary_commit(t, dir) end, io_.binary_abort, opts)
end

---------------------------------------------------------------- reductions

local REDUCE_ALLOWED = { axis = true, keepdims = true, split_every = true, ddof = true }

-- The reduced axes (a set, 1-based) of an axis option.
local function reduced_axes(self, axis, what)
  local set, list = {}, {}
  if axis == nil then
    for k = 1, self.ndim do set[k] = true end
    return set
  end
  list = type(axis) == "table" and axis or { axis }
  for _, a in ipairs(list) do
    local k = math.tointeger(a)
    if k and k < 0 then k = self.ndim + 1 + k end
    if not k or k < 1 or k > self.ndim then
      errors.raise(string.format("%s: axis %s is out of bounds for an array of %d dimensions",
                                 what, tostring(a), self.ndim))
    end
    if set[k] then errors.raise(string.format("%s: axis %d given twice", what, k)) end
    set[k] = true
  end
  return set
end

local reduce

-- A 0-d Array reduces as the one element it is: over a new axis.
local function reduce_scalar(self, op, opts)
  opts = opts_of(opts, op, REDUCE_ALLOWED)
  if opts.axis ~= nil and opts.axis ~= -1 and opts.axis ~= 1 then
    errors.raise(string.format("%s: axis %s is out of bounds for an array of 0 dimensions", op, tostring(opts.axis)))
  end
  local one = {}
  for k, v in pairs(opts) do one[k] = v end
  one.axis, one.keepdims = nil, nil
  local expr = map_leaves(self._expr, function(lf)
    local c = copy_leaf(lf)
    c.perm = { 0 }
    return c
  end)
  return reduce(from_expr(expr, { 1 }, { { 1 } }, self.dtype, "expand"), op, one)
end

function reduce(self, op, opts)
  if self.ndim == 0 then return reduce_scalar(self, op, opts) end
  opts = opts_of(opts, op, REDUCE_ALLOWED)
  local set = reduced_axes(self, opts.axis, op)
  if (op == "argmin" or op == "argmax") and opts.axis ~= nil and type(opts.axis) == "table" and #opts.axis > 1 then
    errors.raise(op .. ": takes one axis, or none")
  end
  local ddof = opts.ddof and (math.tointeger(opts.ddof) or errors.raise(op .. ": ddof must be an integer")) or 0
  local reduced = {}
  for k = 1, self.ndim do reduced[k] = set[k] or false end
  local keepdims = opts.keepdims and true or false
  local result_dtype = ac.reduce_dtype(op, self.dtype)
  -- the tree (Dask's _tree_reduce): each block's partial, straight from
  -- its expression, then levels combining groups along the reduced axes
  local axes = {}
  for k = 1, self.ndim do if reduced[k] then axes[#axes + 1] = k end end
  local ok, tree = pcall(chunking.tree, self.chunks, axes, opts.split_every, keepdims)
  if not ok then errors.raise(op .. ": " .. tostring(tree):gsub("^.-:%d+: ", "")) end
  local prog, deps = program(self._expr, self.shape, self.chunks)
  local layer = core.layer(LayerMT, compute.new_key(op .. "-partial"), nblocks(self.chunks),
                           spec.array("partial", prog, op, reduced), deps)
  local drop = {}
  for k = 1, self.ndim do drop[k] = reduced[k] and not keepdims end
  local below = numblocks(tree.chunks0)
  for level, l in ipairs(tree.levels) do
    local last = level == #tree.levels
    local g, n = numblocks(l.chunks), nblocks(l.chunks)
    local reads = {}
    for t = 1, n do
      local list = {}
      for i, idx in ipairs(chunking.tree_inputs(tree, level, block_of(g, t))) do list[i] = flat_of(below, idx) end
      reads[t] = list
    end
    local finish = last and { ddof = ddof, drop = drop, dtype = self.dtype } or nil
    layer = core.layer(LayerMT, compute.new_key(op .. (last and "-aggregate" or "-combine")), n,
                       spec.array("combine", op, finish), { { layer, reads = reads } })
    below = g
  end
  local shape = {}
  for k = 1, self.ndim do
    if not reduced[k] then shape[#shape + 1] = self.shape[k]
    elseif keepdims then shape[#shape + 1] = 1 end
  end
  local chunks = tree.out_chunks
  local out = wrap(layer, shape, chunks, result_dtype, op)
  -- positions are 1-based in dusk (0-based in C)
  if op == "argmin" or op == "argmax" then return binary("add", out, 1, op) end
  return out
end

for _, op in ipairs({ "sum", "prod", "min", "max", "any", "all", "mean", "var", "std", "argmin", "argmax" }) do
  Array[op] = function(self, opts) return reduce(self, op, opts) end
end

---------------------------------------------------------------- computing

local function targets(self)
  local layers, indexes = {}, {}
  for i = 1, self.npartitions do layers[i], indexes[i] = self._layer, i end
  return layers, indexes
end

-- The blocks results[first ...] joined into one ndarray.
local function assemble(self, results, first)
  if self.ndim == 0 then
    local b = results[first]
    return b:get()
  end
  local g = numblocks(self.chunks)
  -- join along the last axis first, then the ones before
  local function join(axis, prefix_first, stride)
    if axis > #g then return results[prefix_first] end
    local parts = {}
    local inner = 1
    for k = axis + 1, #g do inner = inner * g[k] end
    for j = 1, g[axis] do parts[j] = join(axis + 1, prefix_first + (j - 1) * inner, stride) end
    if #parts == 1 then return parts[1] end
    return nda.concatenate(parts, axis)
  end
  return join(1, first)
end

function Array:compute(opts)
  return compute.many({ self }, 1, opts, "compute")[1]
end

function Array:persist(opts)
  return compute.persist_many({ self }, 1, opts, "persist")[1]
end

function Array:release()
  local payload = core.payload(self._layer)
  if core.is_stored(payload) then core.stored_release(payload) end
end
ArrayMT.__close = Array.release

function Array:visualize(filename, opts)
  return require("dusk.visualize")(self, filename, opts)
end

ArrayMT.__dusk_targets = targets
ArrayMT.__dusk_result = assemble
function ArrayMT.__dusk_persisted(self, stored)
  return wrap(core.layer(LayerMT, core.name(self._layer), self.npartitions, stored, nil),
              self.shape, self.chunks, self.dtype, self._name)
end

ArrayMT.__index = function(self, key)
  if key == "T" then return Array.transpose(self) end
  return Array[key]
end

function ArrayMT.__len(self)
  if self.ndim == 0 then errors.raise("len() of a 0-d Array") end
  return self.shape[1]
end

function ArrayMT.__tostring(self)
  local layers, indexes = targets(self)
  local ntasks = #core.plan(layers, indexes).tasks
  return chunking.summary(self.shape, self.chunks, self.dtype, DTYPES[self.dtype], ntasks, 1)
end

return M
