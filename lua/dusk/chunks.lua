-- dusk.chunks: the chunk arithmetic of dusk.array, as Dask's.
--
-- Pure functions on chunk structures, no graph and no data.  "chunks" is
-- always the explicit form: a list per axis of block sizes, {{5,5,5},{5,5,5}}
-- for a 15x15 array in 5x5 blocks (x.chunks).  Axes are 1-based; block
-- indices are 1-based per axis; a block's flat number is its 1-based C-order
-- position (task k of a layer is block flat k); positions inside a block are
-- 0-based offsets with a count, as the kernels take them.
--
-- Sizes and blocks
--   normalize(chunks, shape, itemsize [, limit [, previous]]) -> chunks
--       Dask's normalize_chunks: a size for every axis (a number), a size
--       per axis {250,250,250}, explicit sizes per axis {{5,10},{15}}, -1 or
--       nil for a whole axis, "auto" or a byte size such as "64MiB" (per
--       axis or for all) choosing sizes of about 'limit' bytes (default
--       LIMIT, 128 MiB), with 'previous' chunks guiding "auto" as Dask's
--       rechunk does.
--   shape(chunks), numblocks(chunks), count(chunks) (blocks in all),
--   offsets(chunks) -> per axis {0, c1, c1+c2, ..., size} (#blocks + 1),
--   block_shape(chunks, index), chunksize(chunks) (the largest block),
--   flat(numblocks, index) -> k, index(numblocks, k) -> index (C order),
--   equal(a, b), parse_bytes(s), format_bytes(n), shape_text(shape),
--   np_shape(shape) (numpy's "(2,3)" of error messages)
-- Operations (each returns a plan: output chunks and where each output
-- block comes from; the *_block functions read a plan for one block)
--   broadcast(a, b, ...)     numpy broadcasting of arrays {shape=, chunks=}
--                            with Dask's unify_chunks refinement;
--                            broadcast_block(plan, i, index)
--   slice(chunks, sel)       x:slice(s1, s2, ...); slice_block(plan, index)
--   rechunk_plan(old, new, itemsize [, limit [, threshold]]) -> steps
--   rechunk_step(old, new); rechunk_block(step, index)
--   tree(chunks, axes, split_every [, keepdims])  a reduction's levels;
--                            tree_inputs(plan, level, index)
--   concatenate(arrays, axis), stack(arrays, axis)
--   transpose(chunks [, perm]), transpose_block(perm, index)
--   reshape(shape, chunks, newshape)
--   summary(shape, chunks, dtype, itemsize [, ntasks [, nlayers]]) -> text
--
-- Misuse raises (dusk.errors.raise: at the caller's line) with a message
-- that names the argument, the axis and the value; broadcasting and shape
-- errors use numpy's wording.

local errors = require "dusk.errors"

local raise = errors.raise
local fmt = string.format
local floor, ceil, huge = math.floor, math.ceil, math.huge
local tointeger, mtype = math.tointeger, math.type
local concat, sort, pack = table.concat, table.sort, table.pack

local M = {}

M.LIMIT = 128 * 1024 * 1024 -- Dask's array.chunk-size
M.THRESHOLD = 4             -- Dask's array.rechunk-threshold
M.SPLIT_EVERY = 4           -- Dask's split_every

---------------------------------------------------------------- helpers

local function sum(l)
  local s = 0
  for i = 1, #l do s = s + l[i] end
  return s
end

local function maxof(l)
  local m = l[1]
  for i = 2, #l do if l[i] > m then m = l[i] end end
  return m
end

local function copy(l) return table.move(l, 1, #l, 1, {}) end

local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

-- Python's float floor division (CPython float_divmod), which Dask's
-- round_to uses: Lua's floor(a / b) differs when a / b rounds up.
local function pyfloordiv(a, b)
  local mod = math.fmod(a, b)
  local div = (a - mod) / b
  if mod ~= 0 and (b < 0) ~= (mod < 0) then div = div - 1 end
  local f = floor(div)
  if div - f > 0.5 then f = f + 1 end
  return f
end

-- Python's int() of a float: truncation toward zero.
local function trunc(x)
  return x >= 0 and floor(x) or ceil(x)
end

-- v as an integer, or nil (floats with an integral value count).
local function int(v)
  return type(v) == "number" and tointeger(v) or nil
end

local function show(v)
  if type(v) == "string" then return fmt("%q", v) end
  return tostring(v)
end

-- A shape as Python prints a tuple: "(1000, 1000)", "(5,)", "()".
function M.shape_text(shape)
  if #shape == 1 then return "(" .. shape[1] .. ",)" end
  local parts = {}
  for i = 1, #shape do parts[i] = tostring(shape[i]) end
  return "(" .. concat(parts, ", ") .. ")"
end

-- A shape as numpy's error messages print it: "(2,3)", "(4,)".
function M.np_shape(shape)
  if #shape == 1 then return "(" .. shape[1] .. ",)" end
  local parts = {}
  for i = 1, #shape do parts[i] = tostring(shape[i]) end
  return "(" .. concat(parts, ",") .. ")"
end

local function check_shape(shape, what)
  if type(shape) ~= "table" then
    raise(fmt("%s: expected a table of sizes, got %s", what, type(shape)))
  end
  local out = {}
  for a = 1, #shape do
    local n = int(shape[a])
    if not n or n < 0 then
      raise(fmt("%s: the size of axis %d must be a non-negative integer, got %s", what, a, show(shape[a])))
    end
    out[a] = n
  end
  return out
end

-- The number of entries of a list that may have holes (nil for an axis).
local function length(t, what)
  local n = t.n or #t
  for k in pairs(t) do
    if k ~= "n" then
      if mtype(k) ~= "integer" or k < 1 then raise(fmt("%s: unexpected key %s", what, show(k))) end
      if k > n then n = k end
    end
  end
  return n
end

---------------------------------------------------------------- bytes

local byte_sizes = {
  kb = 10^3, mb = 10^6, gb = 10^9, tb = 10^12, pb = 10^15,
  kib = 2^10, mib = 2^20, gib = 2^30, tib = 2^40, pib = 2^50, b = 1, [""] = 1,
}
for _, k in ipairs({ "kb", "mb", "gb", "tb", "pb" }) do byte_sizes[k:sub(1, 1)] = byte_sizes[k] end
for _, k in ipairs({ "kib", "mib", "gib", "tib", "pib" }) do byte_sizes[k:sub(1, 2)] = byte_sizes[k] end

-- Dask's parse_bytes: "128MiB", "100 MB", "5.4 kB", "1e6", "MB"; a number
-- as it is.
function M.parse_bytes(s)
  if type(s) == "number" then return trunc(s) end
  if type(s) ~= "string" then raise("expected a byte size, got " .. type(s)) end
  local t = s:gsub(" ", "")
  if not t:find("%d") then t = "1" .. t end
  local num, unit = t:match("^(.-)(%a*)$")
  local n = tonumber(num)
  local mult = byte_sizes[unit:lower()]
  if not n then raise(fmt("could not interpret %q as a number of bytes", s)) end
  if not mult then raise(fmt("could not interpret %q as a byte unit (in %q)", unit, s)) end
  return trunc(n * mult)
end

-- Dask's format_bytes: "7.63 MiB", "1 B".
function M.format_bytes(n)
  for _, p in ipairs({ { "Pi", 2^50 }, { "Ti", 2^40 }, { "Gi", 2^30 }, { "Mi", 2^20 }, { "ki", 2^10 } }) do
    if n >= p[2] * 0.9 then return fmt("%.2f %sB", n / p[2], p[1]) end
  end
  return fmt("%d B", n)
end

---------------------------------------------------------------- normalize

-- Dask's round_to: a size near 'c' that is a multiple or factor of 's'.
local function round_to(c, s)
  if c <= s then return math.max(1, trunc(c)) end
  return pyfloordiv(c, s) * s
end

local function median(l)
  local s = copy(l)
  sort(s)
  local n = #s
  if n % 2 == 1 then return s[(n + 1) // 2] + 0.0 end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

-- Dask's auto_chunks: 'spec' per axis is "auto", a size or explicit sizes
-- (a table); the "auto" axes get sizes of about 'limit' bytes.
local function auto_chunks(spec, shape, limit, itemsize, previous)
  local autos = {}
  for a = 1, #shape do if spec[a] == "auto" then autos[#autos + 1] = a end end
  if #autos == 0 then return spec end
  limit = math.max(1, limit)
  local largest = 1
  for a = 1, #shape do
    local c = spec[a]
    if c ~= "auto" then largest = largest * (type(c) == "table" and maxof(c) or c) end
  end

  if previous then
    local result, ideal = {}, {}
    for _, a in ipairs(autos) do result[a] = median(previous[a]) end
    for i = 1, #shape do
      -- the most frequent previous size (the first of equals), if it is
      -- the size of at least half of the blocks
      local counts, mode, best = {}, nil, 0
      for _, c in ipairs(previous[i]) do
        counts[c] = (counts[c] or 0) + 1
        if counts[c] > best then mode, best = c, counts[c] end
      end
      ideal[i] = (mode > 1 and best >= #previous[i] / 2) and mode or shape[i]
    end
    local function multiplier()
      local p = 1
      for a = 1, #shape do
        local r = result[a]
        if r and r ~= 0 then p = p * r end
      end
      return limit / itemsize / largest / p
    end
    local mult = multiplier()
    local last_mult, last_n = 0, -1
    -- while anything changes (the set of autos only shrinks: its size says)
    while mult ~= last_mult or #autos ~= last_n do
      last_mult, last_n = mult, #autos
      for _, a in ipairs(copy(autos)) do
        if ideal[a] == 0 then
          result[a] = 0
        else
          local proposed = result[a] * mult ^ (1 / #autos)
          if proposed > shape[a] then -- the axis is whole
            for k = 1, #autos do if autos[k] == a then table.remove(autos, k) break end end
            largest = largest * shape[a]
            spec[a] = shape[a]
            result[a] = nil
          else
            result[a] = round_to(proposed, ideal[a])
          end
        end
      end
      mult = multiplier()
    end
    for a, v in pairs(result) do spec[a] = tointeger(v) end
    return spec
  end

  if itemsize == 0 then raise("chunks: \"auto\" needs a dtype with a non-zero item size") end
  local size = (limit / itemsize / largest) ^ (1 / #autos)
  local small = false
  for _, a in ipairs(autos) do
    if shape[a] < size then spec[a], small = { shape[a] }, true end
  end
  if small then return auto_chunks(spec, shape, limit, itemsize) end
  for _, a in ipairs(autos) do spec[a] = tointeger(round_to(size, shape[a])) end
  return spec
end

-- See the top of the file.  'limit' is in bytes (a number or a string
-- such as "64MiB"); 'previous' is the chunks of the array being rechunked.
function M.normalize(chunks, shape, itemsize, limit, previous)
  shape = check_shape(shape, "shape")
  local nd = #shape
  if chunks == nil then
    raise("chunks: missing (a size per axis, explicit sizes per axis, or \"auto\")")
  end
  local spec = {}
  if type(chunks) == "number" or type(chunks) == "string" then
    for a = 1, nd do spec[a] = chunks end
  elseif type(chunks) == "table" then
    local n = length(chunks, "chunks")
    local flat = n > 1
    for i = 1, n do
      local c = chunks[i]
      if type(c) ~= "number" and type(c) ~= "string" then flat = false end
    end
    if nd == 1 and flat then -- Dask: {5,5,5} for a 1-d array is its sizes
      spec[1] = chunks
    elseif n == 0 and nd > 0 then
      local zero = true
      for a = 1, nd do if shape[a] ~= 0 then zero = false end end
      if not zero then
        raise(fmt("chunks: no entry for the %d axes of shape %s", nd, M.shape_text(shape)))
      end
      for a = 1, nd do spec[a] = { 0 } end
    else
      if n ~= nd then
        raise(fmt("chunks: %d entries for the %d axes of shape %s", n, nd, M.shape_text(shape)))
      end
      for a = 1, nd do spec[a] = chunks[a] end
    end
  else
    raise("chunks: expected a number, a table or \"auto\", got " .. type(chunks))
  end

  if limit ~= nil then limit = M.parse_bytes(limit) end
  local auto = false
  for a = 1, nd do
    local c = spec[a]
    if c == nil or c == -1 then
      spec[a] = shape[a]
    elseif type(c) == "string" then
      if c ~= "auto" then
        local ok, bytes = pcall(M.parse_bytes, c)
        if not ok then raise(fmt("chunks: axis %d: %s", a, tostring(bytes):gsub("^.-:%d+: ", ""))) end
        if limit == nil then
          limit = bytes
        elseif bytes ~= limit then
          raise(fmt("chunks: one byte size for all axes, got %s and %s bytes", show(c), limit))
        end
      end
      spec[a], auto = "auto", true
    elseif type(c) == "number" then
      local n = int(c)
      if not n or n < 0 or (n == 0 and shape[a] > 0) then
        raise(fmt("chunks: the size for axis %d must be a positive integer, -1 or \"auto\", got %s", a, show(c)))
      end
      spec[a] = n
    elseif type(c) == "table" then
      local sizes = {}
      local m = length(c, "chunks")
      if m == 0 then raise(fmt("chunks: axis %d has no sizes (a zero-length axis is {0})", a)) end
      for i = 1, m do
        local n = int(c[i])
        if not n or n < 0 then
          raise(fmt("chunks: axis %d: size %d must be a non-negative integer, got %s", a, i, show(c[i])))
        end
        sizes[i] = n
      end
      if sum(sizes) ~= shape[a] then
        raise(fmt("chunks: the sizes for axis %d add up to %d, not to the axis' length %d", a, sum(sizes), shape[a]))
      end
      spec[a] = sizes
    else
      raise(fmt("chunks: axis %d: expected a size, sizes or \"auto\", got %s", a, type(c)))
    end
  end

  if auto then
    local n = int(itemsize)
    if not n or n < 0 then raise("chunks: \"auto\" needs the item size in bytes, got " .. show(itemsize)) end
    if previous then
      if #previous ~= nd then raise("chunks: the previous chunks do not match the shape") end
    end
    auto_chunks(spec, shape, limit or M.LIMIT, n, previous)
  end

  local out = {}
  for a = 1, nd do
    local c, d = spec[a], shape[a]
    if type(c) == "table" then
      out[a] = c
    elseif d == 0 then
      out[a] = { 0 }
    else
      local l = {}
      for i = 1, d // c do l[i] = c end
      if d % c ~= 0 then l[#l + 1] = d % c end
      out[a] = l
    end
  end
  return out
end

---------------------------------------------------------------- blocks

function M.shape(chunks)
  local s = {}
  for a = 1, #chunks do s[a] = sum(chunks[a]) end
  return s
end

function M.numblocks(chunks)
  local n = {}
  for a = 1, #chunks do n[a] = #chunks[a] end
  return n
end

function M.count(chunks)
  local n = 1
  for a = 1, #chunks do n = n * #chunks[a] end
  return n
end

-- The largest block's shape (Dask's chunksize).
function M.chunksize(chunks)
  local s = {}
  for a = 1, #chunks do s[a] = maxof(chunks[a]) end
  return s
end

function M.offsets(chunks)
  local out = {}
  for a = 1, #chunks do
    local c, o = chunks[a], { 0 }
    for i = 1, #c do o[i + 1] = o[i] + c[i] end
    out[a] = o
  end
  return out
end

local function check_index(numblocks, index)
  if #index ~= #numblocks then
    raise(fmt("block index: %d entries for %d axes", #index, #numblocks))
  end
  for a = 1, #numblocks do
    local i = index[a]
    if mtype(i) ~= "integer" or i < 1 or i > numblocks[a] then
      raise(fmt("block index: %s is out of range for axis %d (%d blocks)", show(i), a, numblocks[a]))
    end
  end
end

function M.block_shape(chunks, index)
  check_index(M.numblocks(chunks), index)
  local s = {}
  for a = 1, #chunks do s[a] = chunks[a][index[a]] end
  return s
end

-- The 1-based C-order position of a block (the last axis varies fastest).
function M.flat(numblocks, index)
  check_index(numblocks, index)
  local k = 0
  for a = 1, #numblocks do k = k * numblocks[a] + (index[a] - 1) end
  return k + 1
end

-- The block at C-order position k (1-based).
function M.index(numblocks, k)
  local total = 1
  for a = 1, #numblocks do total = total * numblocks[a] end
  if mtype(k) ~= "integer" or k < 1 or k > total then
    raise(fmt("block number %s is out of range (%d blocks)", show(k), total))
  end
  local idx = {}
  k = k - 1
  for a = #numblocks, 1, -1 do
    idx[a] = k % numblocks[a] + 1
    k = k // numblocks[a]
  end
  return idx
end

function M.equal(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if not same(a[i], b[i]) then return false end end
  return true
end

-- The block of 'offs' (one axis' offsets) holding position 'pos'; a
-- zero-length piece at 'pos' goes to the first block that touches it.
local function find_block(offs, pos, empty)
  local lo, hi = 1, #offs - 1
  while lo < hi do -- the first block whose end is past pos (at pos if empty)
    local mid = (lo + hi) // 2
    if offs[mid + 1] > pos or (empty and offs[mid + 1] >= pos) then hi = mid else lo = mid + 1 end
  end
  return lo
end

---------------------------------------------------------------- broadcast

-- Dask's common_blockdim: the chunks of one axis shared by several
-- arrays: the one that splits the axis if only one does, else the union
-- of their boundaries.  'list' holds distinct chunk lists of equal sums.
local function common_blockdim(list)
  local nontrivial = {}
  for _, c in ipairs(list) do if #c > 1 then nontrivial[#nontrivial + 1] = c end end
  if #nontrivial == 0 then return list[1] end
  if #nontrivial == 1 then return nontrivial[1] end
  local rest = {}
  for k, c in ipairs(nontrivial) do rest[k] = { c = c, i = 1, left = c[1] } end
  local total, done, out = sum(nontrivial[1]), 0, {}
  while done < total do
    local m = huge
    for _, r in ipairs(rest) do if r.left < m then m = r.left end end
    out[#out + 1] = m
    for _, r in ipairs(rest) do
      r.left = r.left - m
      if r.left == 0 then
        r.i = r.i + 1
        r.left = r.c[r.i] or huge
      end
    end
    done = done + m
  end
  return out
end

-- The distinct chunk lists of one axis, with Dask's broadcast_dimensions
-- rule: a single block of length 1 does not count beside others.
local function unify_axis(lists)
  local seen, distinct = {}, {}
  for _, c in ipairs(lists) do
    local key = concat(c, ",")
    if not seen[key] then seen[key] = true distinct[#distinct + 1] = c end
  end
  if #distinct > 1 then
    for k = #distinct, 1, -1 do
      local c = distinct[k]
      if #c == 1 and c[1] == 1 then table.remove(distinct, k) end
    end
  end
  return common_blockdim(distinct)
end

-- Where each block of 'out' (chunks of one axis) lies in 'chunks' (the
-- input's chunks of that axis, which 'out' refines): {block, start, count}.
local function locate(chunks, out)
  local offs, pieces, pos = M.offsets({ chunks })[1], {}, 0
  for j = 1, #out do
    local n = out[j]
    local b = find_block(offs, pos, n == 0)
    assert(pos + n <= offs[b + 1], "chunks: an output block spans two input blocks")
    pieces[j] = { block = b, start = pos - offs[b], count = n }
    pos = pos + n
  end
  return pieces
end

local function check_array(x, what)
  if type(x) ~= "table" or type(x.shape) ~= "table" or type(x.chunks) ~= "table" then
    raise(what .. ": expected an array (a table with shape and chunks)")
  end
  if #x.chunks ~= #x.shape then raise(what .. ": chunks and shape differ in their number of axes") end
end

-- numpy's broadcasting of arrays {shape=, chunks=} (Arrays will do).
-- Returns a plan {shape=, chunks=, inputs=}: inputs[i].axes[d] lists,
-- for each output block along input i's axis d, the {block, start, count}
-- it reads; inputs[i].refined is true when some of them are parts of a
-- block, inputs[i].broadcast[d] when axis d has length 1 against more.
function M.broadcast(...)
  local args = pack(...)
  local nd = 0
  for i = 1, args.n do
    check_array(args[i], "broadcast: argument " .. i)
    if #args[i].shape > nd then nd = #args[i].shape end
  end
  local shape = {}
  for a = 1, nd do
    local d = 1
    for i = 1, args.n do
      local s = args[i].shape
      local n = s[a - (nd - #s)]
      if n and n ~= 1 then
        if d ~= 1 and n ~= d then
          local texts = {}
          for k = 1, args.n do texts[k] = M.np_shape(args[k].shape) end
          raise("operands could not be broadcast together with shapes " .. concat(texts, " "))
        end
        d = n
      end
    end
    shape[a] = d
  end
  local chunks = {}
  for a = 1, nd do
    local lists = {}
    for i = 1, args.n do
      local x = args[i]
      local c = x.chunks[a - (nd - #x.shape)]
      if c then lists[#lists + 1] = c end
    end
    chunks[a] = unify_axis(lists)
  end
  local inputs = {}
  for i = 1, args.n do
    local x = args[i]
    local off = nd - #x.shape
    local input = { offset = off, axes = {}, broadcast = {}, refined = false }
    for d = 1, #x.shape do
      local out = chunks[d + off]
      if x.shape[d] == 1 and shape[d + off] ~= 1 then
        local pieces = {}
        for j = 1, #out do pieces[j] = { block = 1, start = 0, count = 1 } end
        input.axes[d], input.broadcast[d] = pieces, true
      else
        input.axes[d] = locate(x.chunks[d], out)
        if not same(x.chunks[d], out) then input.refined = true end
      end
    end
    inputs[i] = input
  end
  return { shape = shape, chunks = chunks, inputs = inputs }
end

-- For output block 'index' of a broadcast plan: input i's block index, and
-- its regions per axis {start, count} (nil when the whole block is read).
function M.broadcast_block(plan, i, index)
  local input = plan.inputs[i]
  local block, regions = {}, {}
  for d = 1, #input.axes do
    local p = input.axes[d][index[d + input.offset]]
    block[d], regions[d] = p.block, { p.start, p.count }
  end
  return block, input.refined and regions or nil
end

---------------------------------------------------------------- slicing

-- A bound of a dusk range, as Python's slice takes it: 1-based inclusive
-- bounds, negative from the end; nil for Python's None.
local function py_start(a, axis)
  if a == nil then return nil end
  if a == 0 then raise(fmt("slice: axis %d: bound 0 (positions are 1-based; -1 is the last)", axis)) end
  return a > 0 and a - 1 or a
end

local function py_stop(b, step, axis)
  if b == nil then return nil end
  if b == 0 then raise(fmt("slice: axis %d: bound 0 (positions are 1-based; -1 is the last)", axis)) end
  if step > 0 then
    if b > 0 then return b end
    return b ~= -1 and b + 1 or nil
  end
  if b > 0 then return b ~= 1 and b - 2 or nil end
  return b - 1
end

-- Python's slice.indices: the clamped start, stop and the count.
local function indices(n, start, stop, step)
  local function adjust(v, default)
    if v == nil then return default end
    if v < 0 then
      v = v + n
      if v < 0 then v = step < 0 and -1 or 0 end
    elseif v >= n then
      v = step < 0 and n - 1 or n
    end
    return v
  end
  start = adjust(start, step < 0 and n - 1 or 0)
  stop = adjust(stop, step < 0 and -1 or n)
  local count = 0
  if step > 0 and start < stop then count = (stop - start - 1) // step + 1 end
  if step < 0 and stop < start then count = (start - stop - 1) // -step + 1 end
  return start, stop, count
end

local function bound(v, what, axis)
  if v == nil then return nil end
  local n = int(v)
  if not n then raise(fmt("slice: axis %d: the %s must be an integer, got %s", axis, what, show(v))) end
  return n
end

-- One axis of Dask's _slice_1d, for start/stop already clamped as Python
-- does: the pieces {block, start, count, step} of the touched blocks, in
-- output order (for a negative step, the last block first).  (Dask's own clamping of negative steps is not used: it
-- reads x[-100::-1] as x[::-1].)
local function slice_axis(lengths, start, stop, step)
  local nb = #lengths
  local c = {} -- cumulative ends
  local acc = 0
  for i = 1, nb do acc = acc + lengths[i] c[i] = acc end
  local function bisect_right(x) -- how many ends are <= x
    local lo, hi = 0, nb
    while lo < hi do
      local mid = (lo + hi) // 2
      if c[mid + 1] <= x then lo = mid + 1 else hi = mid end
    end
    return lo
  end
  local function bisect_left(x) -- how many ends are < x
    local lo, hi = 0, nb
    while lo < hi do
      local mid = (lo + hi) // 2
      if c[mid + 1] < x then lo = mid + 1 else hi = mid end
    end
    return lo
  end
  local pieces = {}
  if step > 0 then
    local istart = bisect_right(start)
    local istop = math.min(bisect_left(stop) + 1, nb)
    if istart > 0 then start, stop = start - c[istart], stop - c[istart] end
    for i = istart, istop - 1 do -- 0-based blocks, as Dask's
      local len = lengths[i + 1]
      if start < len and stop > 0 then
        local e = math.min(stop, len)
        pieces[#pieces + 1] = { block = i + 1, start = start, count = math.max(0, (e - start + step - 1) // step), step = step }
        start = (start - len) % step
      else
        start = start - len
      end
      stop = stop - len
    end
  elseif start >= 0 then
    local rstart = start
    local istart = math.min(bisect_left(start) + 1, nb - 1)
    local istop = math.max(bisect_right(stop) - 1, -1)
    for i = istart, istop + 1, -1 do
      local cstop = c[i + 1]
      local cstart = i == 0 and 0 or c[i]
      if cstart <= rstart and rstart < cstop and rstart > stop then
        local lo = math.max(cstart - 1, stop) -- exclusive, absolute
        pieces[#pieces + 1] = { block = i + 1, start = rstart - cstart, count = (rstart - lo - 1) // -step + 1, step = step }
        rstart = cstart + (rstart - (cstart - 1)) % step - 1
      end
    end
  end
  if #pieces == 0 then pieces[1] = { block = 1, start = 0, count = 0, step = 1 } end
  return pieces
end

-- The block of 'lengths' holding position 'pos', and pos inside it
-- (Dask's bisect_right over the ends: zero-length blocks are passed).
local function bisect_block(lengths, pos)
  local acc = 0
  for b = 1, #lengths do
    if pos < acc + lengths[b] then return { block = b, start = pos - acc } end
    acc = acc + lengths[b]
  end
end

-- x:slice(s1, s2, ...) on an array of 'chunks': 'sel' holds per axis an
-- integer i, a range {a, b} or {a, b, step} (1-based, inclusive, negative
-- from the end, nil for the default; a bound past an end is an error) or {}
-- (the whole axis); missing trailing axes are whole.  Returns a plan
-- {shape=, chunks=, axes=}: axes[d] for each input axis d has 'pieces'
-- ({block, start, count, step} per output block along it, in output
-- order), 'out' (its output axis) or drop = true for an integer.
function M.slice(chunks, sel)
  local nd = #chunks
  local n = sel.n or #sel
  if n > nd then
    raise(fmt("slice: too many indices: the array has %d dimension%s, %d were given", nd, nd == 1 and "" or "s", n))
  end
  local shape, out_chunks, axes = {}, {}, {}
  for d = 1, nd do
    local lengths, s = chunks[d], sel[d]
    local size = sum(lengths)
    local ax
    if s == nil or (type(s) == "table" and next(s) == nil) then
      local pieces = {}
      for b = 1, #lengths do pieces[b] = { block = b, start = 0, count = lengths[b], step = 1, whole = true } end
      ax = { pieces = pieces }
    elseif type(s) == "number" then
      local i = int(s)
      if not i then raise(fmt("slice: axis %d: index %s is not an integer", d, show(s))) end
      local pos = i < 0 and size + i or i - 1
      if i == 0 or pos < 0 or pos >= size then
        raise(fmt("slice: index %d is out of bounds for axis %d with size %d", i, d, size))
      end
      local b = bisect_block(lengths, pos)
      ax = { drop = true, pieces = { { block = b.block, start = b.start, count = 1, step = 1 } } }
    elseif type(s) == "table" then
      if length(s, "slice: axis " .. d) > 3 then
        raise(fmt("slice: axis %d: a range is {a, b} or {a, b, step}", d))
      end
      local step = bound(s[3], "step", d) or 1
      if step == 0 then raise(fmt("slice: axis %d: the step cannot be zero", d)) end
      -- a bound past either end is an error (numpy would clamp it): a
      -- range is positions of the axis, as dusk.ndarray's slices are
      for j = 1, 2 do
        local v = bound(s[j], j == 1 and "start" or "end", d)
        if v ~= nil and v ~= 0 and (v > size or v < -size) then
          raise(fmt("slice: axis %d: bound %d is out of range for length %d (1-based, inclusive)", d, v, size))
        end
      end
      local start, stop, count = indices(size, py_start(bound(s[1], "start", d), d),
                                         py_stop(bound(s[2], "end", d), step, d), step)
      if step == 1 and start == 0 and count == size then -- Dask's normalize_slice: ':'
        local pieces = {}
        for b = 1, #lengths do pieces[b] = { block = b, start = 0, count = lengths[b], step = 1, whole = true } end
        ax = { pieces = pieces }
      elseif count == 0 then
        ax = { pieces = { { block = 1, start = 0, count = 0, step = 1 } } }
      else
        if step > 0 and stop < start then stop = start end
        local pieces = slice_axis(lengths, start, stop, step)
        for _, p in ipairs(pieces) do
          p.whole = p.start == 0 and p.step == 1 and p.count == lengths[p.block]
        end
        ax = { pieces = pieces }
      end
    else
      raise(fmt("slice: axis %d: expected an integer or a table {a, b[, step]}, got %s", d, type(s)))
    end
    if not ax.drop then
      local sizes = {}
      for j, p in ipairs(ax.pieces) do sizes[j] = p.count end
      out_chunks[#out_chunks + 1] = sizes
      shape[#shape + 1] = sum(sizes)
      ax.out = #out_chunks
    end
    axes[d] = ax
  end
  return { shape = shape, chunks = out_chunks, axes = axes }
end


-- For output block 'index' of a slice plan: the input block index, and
-- per input axis {start, count, step} within it (0-based start; the step
-- may be negative; axes with drop = true in plan.axes are then dropped).
function M.slice_block(plan, index)
  local block, regions = {}, {}
  for d, ax in ipairs(plan.axes) do
    local p = ax.pieces[ax.drop and 1 or index[ax.out]]
    block[d], regions[d] = p.block, { p.start, p.count, p.step }
  end
  return block, regions
end

---------------------------------------------------------------- rechunk

local function largest_block(chunks)
  local n = 1
  for a = 1, #chunks do n = n * maxof(chunks[a]) end
  return n
end

local function graph_size(old, new)
  local n = 1
  for a = 1, #old do
    n = n * (same(old[a], new[a]) and #old[a] or #old[a] + #new[a] - 1)
  end
  return n
end

-- Dask's divide_to_width: split each size so that none exceeds 'width'.
local function divide_to_width(desired, width)
  local out = {}
  for _, c in ipairs(desired) do
    local n = ceil(c / width)
    for i = 0, n - 1 do
      local part = c // (n - i)
      out[#out + 1] = part
      c = c - part
    end
  end
  return out
end

-- Dask's merge_to_number: merge neighbours, narrowest pair first, down to
-- 'count' sizes.
local function merge_to_number(desired, count)
  if #desired <= count then return desired end
  local distinct, w = true, desired[1]
  for _, c in ipairs(desired) do if c ~= w then distinct = false end end
  if distinct then -- all equal: a regular result
    local total = #desired * w
    local width = w * ((total // count) // w)
    local adjust = (total - count * width) // w
    local out = {}
    for i = 1, count do out[i] = i <= adjust and width + w or width end
    return out
  end
  -- a binary heap of {width, i, j}, ordered as Python's tuples
  local heap = {}
  local function less(x, y)
    if x[1] ~= y[1] then return x[1] < y[1] end
    if x[2] ~= y[2] then return x[2] < y[2] end
    return x[3] < y[3]
  end
  local function push(e)
    heap[#heap + 1] = e
    local k = #heap
    while k > 1 and less(heap[k], heap[k // 2]) do
      heap[k], heap[k // 2] = heap[k // 2], heap[k]
      k = k // 2
    end
  end
  local function pop()
    local top = heap[1]
    heap[1] = heap[#heap]
    heap[#heap] = nil
    local k = 1
    while true do
      local l, r, m = 2 * k, 2 * k + 1, k
      if heap[l] and less(heap[l], heap[m]) then m = l end
      if heap[r] and less(heap[r], heap[m]) then m = r end
      if m == k then break end
      heap[k], heap[m] = heap[m], heap[k]
      k = m
    end
    return top
  end
  local chunks = {}
  for i = 1, #desired do chunks[i - 1] = desired[i] end -- 0-based, as Dask's
  for i = 0, #desired - 2 do push({ desired[i + 1] + desired[i + 2], i, i + 1 }) end
  local merges = #desired - count
  while merges > 0 do
    local e = pop()
    local width, i, j = e[1], e[2], e[3]
    if chunks[j] == 0 then
      j = j + 1
      while chunks[j] == 0 do j = j + 1 end
      push({ chunks[i] + chunks[j], i, j })
    elseif chunks[i] + chunks[j] ~= width then
      push({ chunks[i] + chunks[j], i, j })
    else
      chunks[i] = 0
      chunks[j] = width
      merges = merges - 1
    end
  end
  local out = {}
  for i = 0, #desired - 1 do if chunks[i] ~= 0 then out[#out + 1] = chunks[i] end end
  return out
end

-- Dask's find_merge_rechunk: merge blocks along the axes where the target
-- has fewer, most graph reduction per memory growth first, within 'limit'
-- elements per block.
local function find_merge_rechunk(old, new, limit)
  local nd = #old
  local oldw, neww, gse, bse = {}, {}, {}, {}
  for a = 1, nd do
    oldw[a], neww[a] = maxof(old[a]), maxof(new[a])
    gse[a] = #new[a] / #old[a]
    bse[a] = neww[a] / (oldw[a] ~= 0 and oldw[a] or 1)
  end
  local candidates = {}
  for a = 1, nd do if gse[a] <= 1.0 then candidates[#candidates + 1] = a end end
  local key = {}
  for _, a in ipairs(candidates) do
    local b = bse[a] == 1 and 1 + 1e-9 or bse[a]
    key[a] = b > 0 and math.log(gse[a]) / math.log(b) or 0
  end
  sort(candidates, function(x, y) -- Python's stable sort
    if key[x] ~= key[y] then return key[x] < key[y] end
    return x < y
  end)
  local largest = 1
  for a = 1, nd do largest = largest * oldw[a] end
  local chunks, hit = copy(old), false
  for _, a in ipairs(candidates) do
    local grown = largest * neww[a] // (oldw[a] ~= 0 and oldw[a] or 1)
    if grown <= limit then
      chunks[a] = new[a]
      largest = grown
    else
      local width = oldw[a]
      local climit = math.max(1, trunc(limit * width / largest))
      local c = divide_to_width(new[a], climit)
      if #c <= #old[a] then
        chunks[a] = c
        largest = largest * maxof(c) // width
      end
      hit = true
    end
  end
  return chunks, hit
end

-- Dask's find_split_rechunk: split blocks toward the target within a
-- budget of graph size.
local function find_split_rechunk(old, new, size_limit)
  local chunks = copy(old)
  for a = 1, #old do
    local size = graph_size(chunks, new)
    if size > size_limit then break end
    if #old[a] <= #new[a] then
      local count = trunc(#old[a] * size_limit / size)
      local c = merge_to_number(new[a], count)
      if #c >= #old[a] and maxof(c) <= maxof(old[a]) then chunks[a] = c end
    end
  end
  return chunks
end

-- Dask's plan_rechunk: the chunkings to go through from 'old' to 'new'
-- (the last is 'new') so that no intermediate block holds more than
-- 'limit' bytes (default LIMIT; raised to the largest old or new block)
-- and the graph stays within 'threshold' (default THRESHOLD) times the
-- blocks of both ends.
function M.rechunk_plan(old, new, itemsize, limit, threshold)
  if #old ~= #new then raise("rechunk: the old and new chunks differ in their number of axes") end
  for a = 1, #old do
    if sum(old[a]) ~= sum(new[a]) then
      raise(fmt("rechunk: axis %d has length %d, the new chunks add up to %d", a, sum(old[a]), sum(new[a])))
    end
  end
  local n = int(itemsize)
  if not n or n <= 0 then raise("rechunk: the item size must be a positive integer, got " .. show(itemsize)) end
  threshold = threshold or M.THRESHOLD
  limit = limit and M.parse_bytes(limit) or M.LIMIT
  if #new <= 1 then return { new } end
  limit = math.max(limit / n, largest_block(old), largest_block(new))
  local threshold_size = threshold * (M.count(old) + M.count(new))
  local steps, current, first = {}, old, true
  while true do
    local size = graph_size(current, new)
    if size < threshold_size then break end
    local chunks = first and current or find_split_rechunk(current, new, size * threshold)
    local hit
    chunks, hit = find_merge_rechunk(chunks, new, limit)
    if (M.equal(chunks, current) and not first) or M.equal(chunks, new) then break end
    if not M.equal(chunks, current) then steps[#steps + 1] = chunks end
    current = chunks
    if not hit then break end
    first = false
  end
  steps[#steps + 1] = new
  return steps
end

-- The pieces of one axis' old blocks that make each new block: per new
-- block a list of {block, start, count}.  A zero-length new block reads
-- nothing from the old block at its place.
local function intersect_axis(old, new)
  local offs = M.offsets({ old })[1]
  local out, pos, b = {}, 0, 1
  for j = 1, #new do
    local n, pieces = new[j], {}
    if n == 0 then
      local k = find_block(offs, pos, true)
      pieces[1] = { block = k, start = pos - offs[k], count = 0 }
    else
      local stop = pos + n
      while offs[b + 1] <= pos do b = b + 1 end
      local k = b
      while k <= #old and offs[k] < stop do
        local lo, hi = math.max(pos, offs[k]), math.min(stop, offs[k + 1])
        if hi > lo then pieces[#pieces + 1] = { block = k, start = lo - offs[k], count = hi - lo } end
        k = k + 1
      end
    end
    out[j] = pieces
    pos = pos + n
  end
  return out
end

-- One step of a rechunk: {chunks = new, axes = per axis the pieces of
-- old blocks that make each new block (see intersect_axis)}.
function M.rechunk_step(old, new)
  if #old ~= #new then raise("rechunk: the old and new chunks differ in their number of axes") end
  local axes = {}
  for a = 1, #old do
    if sum(old[a]) ~= sum(new[a]) then
      raise(fmt("rechunk: axis %d has length %d, the new chunks add up to %d", a, sum(old[a]), sum(new[a])))
    end
    axes[a] = intersect_axis(old[a], new[a])
  end
  return { old = old, chunks = new, axes = axes }
end

-- New block 'index' of a rechunk step: the list (C order over the old
-- blocks it spans) of {block = old index, src = {{start, count}, ...}
-- in the old block, dst = {{start, count}, ...} in the new one}.
function M.rechunk_block(step, index)
  local nd = #step.axes
  local per = {}
  for a = 1, nd do per[a] = step.axes[a][index[a]] end
  local out = {}
  local pick = {}
  local function walk(a)
    if a > nd then
      local block, src, dst = {}, {}, {}
      for d = 1, nd do
        local p = per[d][pick[d]]
        local at = 0
        for k = 1, pick[d] - 1 do at = at + per[d][k].count end
        block[d], src[d], dst[d] = p.block, { p.start, p.count }, { at, p.count }
      end
      out[#out + 1] = { block = block, src = src, dst = dst }
      return
    end
    for k = 1, #per[a] do
      pick[a] = k
      walk(a + 1)
    end
  end
  walk(1)
  return out
end

---------------------------------------------------------------- axes

-- A 1-based axis (negative from the end) checked against 'nd' axes.
local function norm_axis(axis, nd, what)
  local a = int(axis)
  if not a then raise(fmt("%s: axis must be an integer, got %s", what, show(axis))) end
  local r = a < 0 and nd + a + 1 or a
  if a == 0 or r < 1 or r > nd then
    raise(fmt("%s: axis %d is out of bounds for array of dimension %d", what, a, nd))
  end
  return r
end

---------------------------------------------------------------- reductions

-- A reduction tree as Dask's _tree_reduce builds it over 'chunks' along
-- 'axes' (a list, or nil for all): split_every is nil (SPLIT_EVERY), an
-- integer n (n^(1/#axes), at least 2, per axis, as Dask) or a table
-- {[axis] = n} (2 for the axes it omits).  Returns {axes, split, depth,
-- chunks0, levels, out_chunks}: chunks0 is the chunks after the chunk step
-- (one block per block, size 1 along the reduced axes); levels[l] has
-- 'groups' ({first, last} block ranges along each reduced axis) and
-- 'chunks' after it; after the last level each reduced axis has one
-- block.  out_chunks drops the reduced axes unless keepdims.
function M.tree(chunks, axes, split_every, keepdims)
  local nd = #chunks
  local list, reduced = {}, {}
  if axes == nil then
    for a = 1, nd do list[a] = a end
  else
    if type(axes) == "number" then axes = { axes } end
    for _, ax in ipairs(axes) do
      local a = norm_axis(ax, nd, "reduction")
      if reduced[a] then raise(fmt("reduction: axis %d is given twice", a)) end
      list[#list + 1] = a
      reduced[a] = true
    end
    sort(list)
  end
  for _, a in ipairs(list) do reduced[a] = true end
  local split = {}
  if split_every == nil or type(split_every) == "number" then
    local n = split_every == nil and M.SPLIT_EVERY or int(split_every)
    if not n or n < 1 then raise("reduction: split_every must be a positive integer, got " .. show(split_every)) end
    local per = math.max(trunc(n ^ (1 / (#list > 0 and #list or 1))), 2)
    for _, a in ipairs(list) do split[a] = per end
  elseif type(split_every) == "table" then
    for k, v in pairs(split_every) do
      local a = norm_axis(k, nd, "reduction: split_every")
      local n = int(v)
      if not n or n < 2 then raise(fmt("reduction: split_every for axis %d must be an integer >= 2, got %s", a, show(v))) end
      if reduced[a] then split[a] = n end
    end
    for _, a in ipairs(list) do split[a] = split[a] or 2 end
  else
    raise("reduction: split_every must be an integer or a table {[axis] = n}, got " .. type(split_every))
  end
  local current = {}
  for a = 1, nd do
    if reduced[a] then
      local ones = {}
      for i = 1, #chunks[a] do ones[i] = 1 end
      current[a] = ones
    else
      current[a] = chunks[a]
    end
  end
  local chunks0 = current
  local depth = 1
  for _, a in ipairs(list) do
    -- math.log(n, s) as Python computes it, whose rounding Dask's depth has
    local d = ceil(math.log(#chunks[a]) / math.log(split[a]))
    if d > depth then depth = d end
  end
  local levels = {}
  for l = 1, depth do
    local groups, nxt = {}, {}
    for a = 1, nd do
      if reduced[a] then
        local g, n, s = {}, #current[a], split[a]
        for first = 1, n, s do g[#g + 1] = { first, math.min(first + s - 1, n) } end
        local ones = {}
        for i = 1, #g do ones[i] = 1 end
        groups[a], nxt[a] = g, ones
      else
        nxt[a] = current[a]
      end
    end
    levels[l] = { groups = groups, chunks = nxt }
    current = nxt
  end
  local out = {}
  for a = 1, nd do
    if not reduced[a] then out[#out + 1] = current[a] elseif keepdims then out[#out + 1] = { 1 } end
  end
  return { axes = list, split = split, depth = depth, chunks0 = chunks0, levels = levels, out_chunks = out }
end

-- The blocks of the level before 'level' (chunks0 for level 1) that make
-- its block 'index' (keepdims indices), in C order.
function M.tree_inputs(plan, level, index)
  local groups = plan.levels[level].groups
  local nd = #index
  local out, pick = {}, {}
  local function walk(a)
    if a > nd then out[#out + 1] = copy(pick) return end
    local g = groups[a]
    if g then
      for i = g[index[a]][1], g[index[a]][2] do pick[a] = i walk(a + 1) end
    else
      pick[a] = index[a]
      walk(a + 1)
    end
  end
  walk(1)
  return out
end

---------------------------------------------------------------- joining

local function check_arrays(arrays, what)
  if type(arrays) ~= "table" or #arrays == 0 then raise(what .. ": need at least one array") end
  for i, x in ipairs(arrays) do check_array(x, fmt("%s: array %d", what, i)) end
end

local function size_of(shape)
  local n = 1
  for a = 1, #shape do n = n * shape[a] end
  return n
end

-- The chunks every array of 'seq' is brought to along the axes but
-- 'skip' (Dask's unify_chunks), and per array the chunks to rechunk it
-- to, or nil when it has them.
local function unify(seq, nd, skip, target_of)
  local common = {}
  for a = 1, nd do
    if a ~= skip then
      local lists = {}
      for k, x in ipairs(seq) do lists[k] = x.chunks[a] end
      common[a] = unify_axis(lists)
    end
  end
  local targets = {}
  for k, x in ipairs(seq) do
    local t, differs = {}, false
    for a = 1, nd do
      t[a] = a == skip and x.chunks[a] or common[a]
      if not same(t[a], x.chunks[a]) then differs = true end
    end
    targets[target_of[k]] = differs and t or nil
  end
  return common, targets
end

-- da.concatenate(arrays, axis): {shape, chunks, rechunk, blocks}: rechunk[i]
-- is the chunks array i must be rechunked to first (nil: none), blocks[j]
-- = {input = i, block = b} for each output block j along 'axis' (the
-- other axes keep their block index).  Empty arrays add no blocks, as in
-- Dask.
function M.concatenate(arrays, axis)
  check_arrays(arrays, "concatenate")
  local nd = #arrays[1].shape
  if nd == 0 then raise("concatenate: zero-dimensional arrays cannot be concatenated") end
  for i, x in ipairs(arrays) do
    if #x.shape ~= nd then
      raise(fmt("concatenate: all the input arrays must have the same number of dimensions, but array 1 has %d dimension(s) and array %d has %d dimension(s)", nd, i, #x.shape))
    end
  end
  axis = norm_axis(axis or 1, nd, "concatenate")
  local shape = copy(arrays[1].shape)
  shape[axis] = 0
  for i, x in ipairs(arrays) do
    for a = 1, nd do
      if a ~= axis and x.shape[a] ~= arrays[1].shape[a] then
        raise(fmt("concatenate: all the input array dimensions except for the concatenation axis must match exactly, but along axis %d, array 1 has size %d and array %d has size %d", a, arrays[1].shape[a], i, x.shape[a]))
      end
    end
    shape[axis] = shape[axis] + x.shape[axis]
  end
  local seq, ids = {}, {}
  for i, x in ipairs(arrays) do
    if size_of(x.shape) > 0 then seq[#seq + 1], ids[#ids + 1] = x, i end
  end
  if #seq == 0 then for i, x in ipairs(arrays) do seq[i], ids[i] = x, i end end
  local common, targets = unify(seq, nd, axis, ids)
  local chunks, blocks = {}, {}
  for a = 1, nd do chunks[a] = common[a] end
  chunks[axis] = {}
  for k, x in ipairs(seq) do
    for b, c in ipairs(x.chunks[axis]) do
      chunks[axis][#chunks[axis] + 1] = c
      blocks[#blocks + 1] = { input = ids[k], block = b }
    end
  end
  return { shape = shape, chunks = chunks, rechunk = targets, blocks = blocks }
end

-- da.stack(arrays, axis) (axis 1 to ndim + 1; negative from the end):
-- {shape, chunks, rechunk}: output block index j along 'axis' reads array
-- j's block at the other indices; rechunk[i] as in concatenate.
function M.stack(arrays, axis)
  check_arrays(arrays, "stack")
  local first = arrays[1].shape
  for i, x in ipairs(arrays) do
    if not same(x.shape, first) then
      raise(fmt("stack: all input arrays must have the same shape, but array 1 has shape %s and array %d has shape %s",
                M.shape_text(first), i, M.shape_text(x.shape)))
    end
  end
  local nd = #first
  axis = norm_axis(axis or 1, nd + 1, "stack")
  local ids = {}
  for i = 1, #arrays do ids[i] = i end
  local common, targets = unify(arrays, nd, nil, ids)
  local shape, chunks = {}, {}
  for a = 1, nd do shape[a], chunks[a] = first[a], common[a] end
  local ones = {}
  for i = 1, #arrays do ones[i] = 1 end
  table.insert(shape, axis, #arrays)
  table.insert(chunks, axis, ones)
  return { shape = shape, chunks = chunks, rechunk = targets, axis = axis }
end

---------------------------------------------------------------- transpose, reshape

-- x:transpose(perm): perm (1-based, negative from the end) must list each
-- axis once; nil reverses them.  Returns the chunks and the normalized
-- perm: output axis a is input axis perm[a].
function M.transpose(chunks, perm)
  local nd = #chunks
  local p = {}
  if perm == nil then
    for a = 1, nd do p[a] = nd - a + 1 end
  else
    if #perm ~= nd then raise(fmt("transpose: axes don't match array: %d axes for an array of %d", #perm, nd)) end
    local seen = {}
    for a = 1, nd do
      local d = norm_axis(perm[a], nd, "transpose")
      if seen[d] then raise(fmt("transpose: axis %d is repeated in the permutation", d)) end
      seen[d], p[a] = true, d
    end
  end
  local out = {}
  for a = 1, nd do out[a] = chunks[p[a]] end
  return out, p
end

-- The input block of output block 'index' of a transpose by 'perm'.
function M.transpose_block(perm, index)
  local block = {}
  for a = 1, #perm do block[perm[a]] = index[a] end
  return block
end

-- Dask's expand_tuple and contract_tuple (reshape_rechunk's helpers).
local function expand_tuple(chunks, factor)
  if factor == 1 then return chunks end
  local out = {}
  for _, c in ipairs(chunks) do
    local x = c
    local part = math.max(x / factor, 1)
    while x >= 2 * part do
      out[#out + 1] = trunc(part)
      x = x - trunc(part)
    end
    if x ~= 0 then out[#out + 1] = x end
  end
  return out
end

local function contract_tuple(chunks, factor)
  local out, residual = {}, 0
  for _, c in ipairs(chunks) do
    c = c + residual
    local good = factor * (c // factor)
    residual = c % factor
    if good ~= 0 then out[#out + 1] = good end
  end
  return out
end

local function prod(l, i, j)
  local p = 1
  for k = i, j do p = p * l[k] end
  return p
end

-- Dask's reshape_rechunk, with its 0-based indices and Python's negative
-- index wrap-around kept (so the results are Dask's).
local function reshape_rechunk(inshape, outshape, inchunks)
  local nin, nout = #inshape, #outshape
  local function at(l, n, i) return l[(i % n) + 1] end
  local rin, rout = {}, {}
  local ii, oi = nin - 1, nout - 1
  local function fail()
    raise(fmt("reshape: %s -> %s merges or splits axes unevenly; Dask's reshape only merges or splits whole axes (reshape in several steps)",
              M.shape_text(inshape), M.shape_text(outshape)))
  end
  while ii >= 0 or oi >= 0 do
    local din, dout = at(inshape, nin, ii), at(outshape, nout, oi)
    if din == dout then
      rin[(ii % nin) + 1] = at(inchunks, nin, ii)
      rout[(oi % nout) + 1] = at(inchunks, nin, ii)
      ii, oi = ii - 1, oi - 1
    elseif din == 1 then
      rin[(ii % nin) + 1] = { 1 }
      ii = ii - 1
    elseif dout == 1 then
      rout[(oi % nout) + 1] = { 1 }
      oi = oi - 1
    elseif din < dout then
      local ileft = ii - 1
      while ileft >= 0 and prod(inshape, ileft + 1, ii + 1) < dout do ileft = ileft - 1 end
      if ileft < 0 or prod(inshape, ileft + 1, ii + 1) ~= dout then fail() end
      local all_one = true -- every lower axis in blocks of 1
      for i = 0, ii - 1 do if #inchunks[i + 1] ~= inshape[i + 1] then all_one = false end end
      if all_one then
        for i = 0, ii do rin[i + 1] = inchunks[i + 1] end
        local n = 1
        for i = ileft, ii - 1 do n = n * #inchunks[i + 1] end
        local c = {}
        for _ = 1, n do for _, v in ipairs(inchunks[ii + 1]) do c[#c + 1] = v end end
        rout[oi + 1] = c
      else
        for i = ileft + 1, ii do rin[i + 1] = { inshape[i + 1] } end
        local reduction = 1
        for i = ileft + 1, ii do reduction = reduction * #inchunks[i + 1] end
        rin[ileft + 1] = expand_tuple(inchunks[ileft + 1], reduction)
        local p = prod(inshape, ileft + 2, ii + 1)
        local c = {}
        for k, v in ipairs(rin[ileft + 1]) do c[k] = p * v end
        rout[oi + 1] = c
      end
      oi, ii = oi - 1, ileft - 1
    else
      local oleft = oi - 1
      while oleft >= 0 and prod(outshape, oleft + 1, oi + 1) < din do oleft = oleft - 1 end
      if oleft < 0 or prod(outshape, oleft + 1, oi + 1) ~= din then fail() end
      local cs = prod(outshape, oleft + 2, oi + 1)
      rin[ii + 1] = contract_tuple(inchunks[ii + 1], cs)
      for i = oleft + 1, oi do rout[i + 1] = { outshape[i + 1] } end
      local c = {}
      for k, v in ipairs(rin[ii + 1]) do c[k] = v // cs end
      rout[oleft + 1] = c
      oi, ii = oleft - 1, ii - 1
    end
  end
  return rin, rout
end

-- x:reshape(newshape) (one entry may be -1) on an array of 'shape' and
-- 'chunks', as Dask's reshape: {shape = the new shape, inchunks = the
-- chunks to rechunk the input to first, rechunk = whether they differ
-- from 'chunks', chunks = the output chunks}.  Output block k (C order)
-- is input block k (of inchunks) reshaped.
function M.reshape(shape, chunks, newshape)
  shape = check_shape(shape, "reshape: shape")
  if type(newshape) == "number" then newshape = { newshape } end
  if type(newshape) ~= "table" then raise("reshape: the new shape must be a table of sizes, got " .. type(newshape)) end
  local new, unknown, known = {}, nil, 1
  for a = 1, #newshape do
    local n = int(newshape[a])
    if not n or n < -1 then raise(fmt("reshape: the size of axis %d must be a non-negative integer or -1, got %s", a, show(newshape[a]))) end
    if n == -1 then
      if unknown then raise("reshape: can only specify one unknown dimension (-1)") end
      unknown = a
    else
      known = known * n
    end
    new[a] = n
  end
  local size = size_of(shape)
  local function mismatch()
    local t = {}
    for a = 1, #newshape do t[a] = tostring(newshape[a]) end
    raise(fmt("reshape: cannot reshape array of size %d into shape %s", size, M.np_shape(t)))
  end
  if unknown then
    if known == 0 or size % known ~= 0 then mismatch() end
    new[unknown] = size // known
  end
  if size_of(new) ~= size then mismatch() end
  if same(new, shape) then
    return { shape = new, inchunks = chunks, rechunk = false, chunks = chunks }
  end
  if M.count(chunks) == 1 then
    local out = {}
    for a = 1, #new do out[a] = { new[a] } end
    return { shape = new, inchunks = chunks, rechunk = false, chunks = out }
  end
  local rin, rout = reshape_rechunk(shape, new, chunks)
  return { shape = new, inchunks = rin, rechunk = not M.equal(rin, chunks), chunks = rout }
end

---------------------------------------------------------------- summary

-- The table Dask's Array shows in a notebook, as aligned text:
--
--                Array          Chunk
--   Bytes        7.63 MiB       1.91 MiB
--   Shape        (1000, 1000)   (500, 500)
--   Dask graph   4 chunks in 1 graph layer
--   Data type    float64 dusk.ndarray
--
-- (Dask writes "1 chunks"; ntasks, when given, follows in parentheses.)
function M.summary(shape, chunks, dtype, itemsize, ntasks, nlayers)
  local csize = M.chunksize(chunks)
  local rows = {
    { "", "Array", "Chunk" },
    { "Bytes", M.format_bytes(size_of(shape) * itemsize), M.format_bytes(size_of(csize) * itemsize) },
    { "Shape", M.shape_text(shape), M.shape_text(csize) },
  }
  local w1, w2 = 0, 0
  for _, r in ipairs(rows) do w2 = math.max(w2, #r[2]) end
  local graph = fmt("%d chunks in %d graph layer%s", M.count(chunks), nlayers or 1, (nlayers or 1) == 1 and "" or "s")
  if ntasks then graph = graph .. fmt(" (%d task%s)", ntasks, ntasks == 1 and "" or "s") end
  rows[#rows + 1] = { "Dask graph", graph }
  rows[#rows + 1] = { "Data type", dtype .. " dusk.ndarray" }
  for _, r in ipairs(rows) do w1 = math.max(w1, #r[1]) end
  local lines = {}
  for _, r in ipairs(rows) do
    local line = r[1] .. string.rep(" ", w1 - #r[1] + 3) .. r[2]
    if r[3] then line = line .. string.rep(" ", w2 - #r[2] + 3) .. r[3] end
    lines[#lines + 1] = line
  end
  return concat(lines, "\n")
end

return M
