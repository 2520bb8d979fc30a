-- dusk.bag: parallel sequences of Lua values, as Dask's bag.
--
--   local db = dusk.bag
--   local b = db.from_sequence({1, 2, 3, 4}, {npartitions = 2})
--   b:filter(is_even):map(square):sum():compute()
--
-- A Bag is a layer of the C graph with one task per partition, each
-- making a Lua list.  Element operations (map, filter, remove, pluck,
-- flatten, starmap) do not stack layers: a Bag keeps the pipeline it
-- applies to its base (a source of partitions) and each operation makes
-- a new layer running the longer pipeline, so a chain of them is one loop
-- per partition that builds no intermediate list (dusk.bagops).
-- Reductions stream the same loop into a partial result, then combine
-- partials in a tree ('split_every' at a time).

local core = require "dusk.core"
local compute = require "dusk.compute"
local delayed = require "dusk.delayed"
local bagops = require "dusk.bagops"
local errors = require "dusk.errors"
local spec = require "dusk.spec"

local Delayed, lift = delayed.Delayed, delayed.lift

local Bag = {}
local BagMT = { __index = Bag, __name = "dusk.Bag", __dusk_send = true }
local LayerMT = { __gc = core.release, __name = "dusk.Layer", __dusk_send = true }

local M = { Bag = Bag }

local SPLIT_EVERY = 8

---------------------------------------------------------------- making bags

-- What several targets of one compute can share (M.share): an Item or
-- Bag that runs a pipeline into a sink (nil: its partitions' lists), by
-- object.
local recipes = setmetatable({}, { __mode = "k" })

-- A bag over 'layer', whose tasks make its partitions.
local function wrap(layer, npartitions, name)
  return setmetatable({
    npartitions = npartitions,
    _layer = layer,
    _name = name,
    -- the pipeline later element operations extend: read 'layer' as is
    _pipe = { base = layer, ops = {}, deps = { { layer, split = 1 } }, depidx = {} },
  }, BagMT)
end

-- A bag whose partitions are a pipeline: 'pipe' = {base=, source=, ops=,
-- deps=, depidx=}; its layer runs the whole pipeline.
local function piped(pipe, npartitions, name)
  local key = compute.new_key(name)
  local layer = core.layer(LayerMT, key, npartitions,
                           spec.pipe(pipe.source, pipe.ops, nil), pipe.deps)
  local bag = setmetatable({ npartitions = npartitions, _layer = layer, _name = name,
                             _pipe = pipe }, BagMT)
  recipes[bag] = { pipe = pipe, npartitions = npartitions, name = name }
  return bag
end

-- A copy of this bag's pipeline with one more operation; 'args' (a list
-- of 'nargs' extra arguments) may hold Delayed objects, which become
-- dependencies of the new layer.
local function extend(self, op)
  local p = self._pipe
  local deps = table.move(p.deps, 1, #p.deps, 1, {})
  local depidx = {}
  for k, v in pairs(p.depidx) do depidx[k] = v end
  if op.args then
    local seen = {}
    for i = 1, op.nargs do op.args[i] = lift(op.args[i], deps, depidx, seen, op[1], i + 1) end
  end
  local ops = table.move(p.ops, 1, #p.ops, 1, {})
  ops[#ops + 1] = spec.op(op[1], op[2], op.args, op.nargs)
  return piped({ base = p.base, source = p.source, ops = ops, deps = deps, depidx = depidx },
               self.npartitions, op[1])
end

local function is_bag(v) return getmetatable(v) == BagMT end
M.is_bag = is_bag

local function check_fn(f, what)
  if type(f) ~= "function" and not (getmetatable(f) and getmetatable(f).__call) then
    errors.raise(string.format("%s: expected a function, got a %s", what, type(f)))
  end
end

-- An integer argument of at least 'min': an integer, or a float with an
-- integral value (as Lua's own functions take them); 'what' names it.
local INT_KINDS = { [0] = "a non-negative integer", [1] = "a positive integer" }

local function int_arg(v, min, what)
  local i = math.type(v) and math.tointeger(v)
  if not i or min and i < min then
    errors.raise(string.format("%s must be %s, got %s", what, INT_KINDS[min] or
                               min and "an integer of at least " .. min or "an integer", tostring(v)))
  end
  return i
end

local function opts_of(t, what, allowed)
  if t == nil then return {} end
  return errors.options(t, what, allowed)
end

---------------------------------------------------------------- sources

-- db.from_sequence(list, {npartitions=, partition_size=}): partition
-- sizes as Dask computes them.
function M.from_sequence(list, opts)
  if type(list) ~= "table" then errors.raise("from_sequence: expected a list") end
  opts = opts_of(opts, "from_sequence", { npartitions = true, partition_size = true })
  local n = core.list_length(list) or errors.raise(bagops.hole_message(list, "from_sequence: the list"))
  local size = opts.partition_size and int_arg(opts.partition_size, 1, "from_sequence: partition_size")
  if opts.npartitions and not size then
    size = math.max(1, -(-n // int_arg(opts.npartitions, 1, "from_sequence: npartitions")))
  end
  if not size then size = n < 100 and 1 or n // 100 end
  local parts = {}
  for first = 1, n, size do
    parts[#parts + 1] = table.move(list, first, math.min(first + size - 1, n), 1, {})
  end
  if #parts == 0 then parts[1] = {} end
  local layer = core.layer(LayerMT, compute.new_key("from_sequence"), #parts,
                           core.stored_new(parts), nil)
  return wrap(layer, #parts, "from_sequence")
end

-- db.range(n, {npartitions=}): 0 .. n-1, split as Dask's db.range.
function M.range(n, opts)
  n = int_arg(n, 0, "range: n")
  opts = opts_of(opts, "range", { npartitions = true })
  local parts = int_arg(opts.npartitions or core.ncores(), 1, "range: npartitions")
  parts = math.max(1, math.min(parts, n))
  return piped({ source = spec.range(n, parts), ops = {}, deps = {}, depidx = {} },
               parts, "range")
end

-- dusk.io's results: a value, or nil and a message naming the file
local function must(what, v, err)
  if v == nil then errors.raise(what .. ": " .. tostring(err)) end
  return v
end

-- db.read_text(path | glob | list, {blocksize=, compression="infer"}):
-- each file is read as it was when the bag was made, to the size it had
-- then (see dusk.io's 'size'), whatever the blocks.
function M.read_text(paths, opts)
  local io_ = require "dusk.io"
  opts = opts_of(opts, "read_text", { blocksize = true, compression = true })
  if type(paths) ~= "string" and type(paths) ~= "table" then
    errors.raise("read_text: expected a path, a pattern or a list of them, got a " .. type(paths))
  end
  if type(paths) == "table" and not core.list_length(paths) then
    errors.raise(bagops.hole_message(paths, "read_text: the list of paths"))
  end
  local files = must("read_text", errors.call("read_text", io_.expand, paths))
  local blocksize = opts.blocksize and errors.call("read_text", io_.parse_bytes, opts.blocksize)
  if blocksize and blocksize < 1 then errors.raise("read_text: blocksize must be positive") end
  local blocks = {}
  for _, path in ipairs(files) do
    local compression = errors.call("read_text", io_.compression_of, path,
                                    opts.compression == nil and "infer" or opts.compression)
    local size = must("read_text", io_.size(path))
    if blocksize and not compression then
      if size == 0 then blocks[#blocks + 1] = spec.block(path, 0, 0, false, 0) end
      for offset = 0, size - 1, blocksize do
        blocks[#blocks + 1] = spec.block(path, offset, blocksize, false, size)
      end
    else
      blocks[#blocks + 1] = spec.block(path, nil, nil, compression or false, size)
    end
  end
  local base = core.layer(LayerMT, compute.new_key("read_text-blocks"), #blocks,
                          core.stored_new(blocks), nil)
  return piped({ base = base, source = spec.lines(), ops = {},
                 deps = { { base, split = 1 } }, depidx = {} }, #blocks, "read_text")
end

-- db.read_json(...): read_text, each line decoded by dusk.json.decode.
function M.read_json(paths, opts)
  return M.read_text(paths, opts):map(require("dusk.json").decode)
end

-- db.from_delayed(list): each Delayed yields a partition (a list).
function M.from_delayed(list)
  if type(list) ~= "table" then errors.raise("from_delayed: expected a list of Delayed objects") end
  local deps = {}
  for i = 1, core.list_length(list) or errors.raise(bagops.hole_message(list, "from_delayed: the list")) do
    local d = list[i]
    if getmetatable(d) ~= Delayed then
      errors.raise(string.format("from_delayed: element %d is a %s, not a Delayed", i, type(d)))
    end
    deps[i] = { d, reader = i }
  end
  if #deps == 0 then return M.from_sequence({}) end
  local layer = core.layer(LayerMT, compute.new_key("from_delayed"), #deps,
                           spec.partitions("from_delayed"), deps)
  return wrap(layer, #deps, "from_delayed")
end

---------------------------------------------------------------- element operations

function Bag:map(f, ...)
  check_fn(f, "map")
  return extend(self, { "map", f, args = { ... }, nargs = select("#", ...) })
end

function Bag:starmap(f, ...)
  check_fn(f, "starmap")
  return extend(self, { "starmap", f, args = { ... }, nargs = select("#", ...) })
end

function Bag:filter(pred)
  check_fn(pred, "filter")
  return extend(self, { "filter", pred })
end

function Bag:remove(pred)
  check_fn(pred, "remove")
  return extend(self, { "remove", pred })
end

-- pluck(key): element[key]; pluck({k1, k2}): {element[k1], element[k2]};
-- a missing key is an error naming the element, or {default = v}
function Bag:pluck(key, opts)
  opts = opts_of(opts, "pluck", { default = true })
  if key == nil or key ~= key then errors.raise("pluck: expected a key (an index or field), got " .. tostring(key)) end
  local args = opts.default ~= nil and { opts.default } or nil
  if type(key) == "table" then
    local n = core.list_length(key) or errors.raise(bagops.hole_message(key, "pluck: the list of keys"))
    for i = 1, n do
      if key[i] ~= key[i] then errors.raise("pluck: key " .. i .. " is NaN") end
    end
    key = table.move(key, 1, n, 1, {})
    return extend(self, { "pluck_many", key, args = args, nargs = args and 1 })
  end
  return extend(self, { "pluck", key, args = args, nargs = args and 1 })
end

function Bag:flatten()
  return extend(self, { "flatten" })
end

---------------------------------------------------------------- partition operations

function Bag:map_partitions(f, ...)
  check_fn(f, "map_partitions")
  local deps, depidx, seen = { { self._layer, split = 1 } }, {}, {}
  local nargs = select("#", ...)
  local args = { ... }
  for i = 1, nargs do args[i] = lift(args[i], deps, depidx, seen, "map_partitions", i + 1) end
  local layer = core.layer(LayerMT, compute.new_key("map_partitions"), self.npartitions,
                           spec.partitions("map_partitions", f, args, nargs), deps)
  return wrap(layer, self.npartitions, "map_partitions")
end

-- Same elements, same order, 'n' partitions as even as they divide.
function Bag:repartition(n)
  n = int_arg(n, 1, "repartition: n")
  if n == self.npartitions then return self end
  local layer = core.layer(LayerMT, compute.new_key("repartition"), n,
                           spec.partitions("repartition", n), { self._layer })
  return wrap(layer, n, "repartition")
end

---------------------------------------------------------------- reductions

-- A tree reduction of kind 'kind' (dusk.bagops.reductions): partials per
-- partition streamed from the pipeline, combined 'split_every' at a time.
-- Returns the final layer.
-- The combine tree of reduction 'kind' over the partials of 'layer' ('n'
-- tasks), 'split_every' at a time; returns the top layer and the final
-- step's spec.
local function combine_tree(layer, n, kind, args, split_every, name)
  while n > split_every do
    local m = -(-n // split_every)
    layer = core.layer(LayerMT, compute.new_key(name .. "-combine"), m,
                       spec.agg(kind, args, false), { { layer, split = split_every } })
    n = m
  end
  return layer, spec.agg(kind, args, true)
end

-- A tree reduction of kind 'kind' (dusk.bagops.reductions) of the
-- partials of 'parts' (a layer of one partial per partition), as an Item
-- ('item') or a one-partition Bag.
local function reduced(parts, n, kind, args, split_every, name, item)
  local layer, final = combine_tree(parts, n, kind, args, split_every, name)
  if item then return core.layer(Delayed, compute.new_key(name), 1, final, { layer }) end
  return wrap(core.layer(LayerMT, compute.new_key(name), 1, final, { layer }), 1, name)
end

-- A reduction of this bag: partials per partition streamed from the
-- pipeline, then combined.
local function reduce(self, kind, args, split_every, name, item)
  split_every = int_arg(split_every or SPLIT_EVERY, 2, name .. ": split_every")
  local p = self._pipe
  local sink = spec.sink(kind, args)
  local parts = core.layer(LayerMT, compute.new_key(name .. "-part"), self.npartitions,
                           spec.pipe(p.source, p.ops, sink), p.deps)
  local r = reduced(parts, self.npartitions, kind, args, split_every, name, item)
  recipes[r] = { pipe = p, npartitions = self.npartitions, sink = sink,
                 split_every = split_every, name = name, item = item }
  return r
end

local function reduce_item(self, kind, args, split_every, name)
  return reduce(self, kind, args, split_every, name, true)
end

local function reduce_bag(self, kind, args, split_every, name)
  return reduce(self, kind, args, split_every, name, false)
end

-- dusk.compute(m:count(), m:sum(), m) runs m's pipeline once: targets of
-- one compute that run the same pipeline (reductions of one bag, and the
-- bag itself) are replaced by ones reading a shared layer whose tasks
-- feed every sink from one pass (bagops' "multi"), as Dask's graph
-- shares m's partitions.  Returns 'objs' or a copy with replacements.
function M.share(objs, n)
  local groups, order = {}, {}
  for i = 1, n do
    local r = objs[i] ~= nil and recipes[objs[i]]
    if r then
      local g = groups[r.pipe]
      if not g then
        g = { seen = {} }
        groups[r.pipe], order[#order + 1] = g, r.pipe
      end
      if not g.seen[objs[i]] then -- the same object twice is one target already
        g.seen[objs[i]] = true
        g[#g + 1] = i
      end
    end
  end
  local out
  for _, pipe in ipairs(order) do
    local g = groups[pipe]
    if #g > 1 then
      out = out or table.move(objs, 1, n, 1, {})
      local sinks, np = {}, recipes[objs[g[1]]].npartitions
      for k, i in ipairs(g) do sinks[k] = recipes[objs[i]].sink or false end
      local shared = core.layer(LayerMT, compute.new_key("shared"), np,
                                spec.pipe(pipe.source, pipe.ops, spec.sink("multi", sinks)),
                                pipe.deps)
      for k, i in ipairs(g) do
        local r = recipes[objs[i]]
        local picked = core.layer(LayerMT, compute.new_key(r.name .. "-part"), np,
                                  spec.pick(k), { { shared, split = 1 } })
        local replaced = r.sink and reduced(picked, np, r.sink[spec.SINK_KIND],
                                            r.sink[spec.SINK_ARGS], r.split_every, r.name, r.item)
                         or wrap(picked, np, r.name)
        for j = i, n do if rawequal(objs[j], objs[i]) then out[j] = replaced end end
      end
    end
  end
  return out or objs
end

local function so(opts, what) return opts_of(opts, what, { split_every = true, ddof = true }) end

function Bag:sum(opts) return reduce_item(self, "sum", {}, so(opts, "sum").split_every, "sum") end
function Bag:count(opts) return reduce_item(self, "count", {}, so(opts, "count").split_every, "count") end
function Bag:min(opts) return reduce_item(self, "min", {}, so(opts, "min").split_every, "min") end
function Bag:max(opts) return reduce_item(self, "max", {}, so(opts, "max").split_every, "max") end
function Bag:mean(opts) return reduce_item(self, "mean", {}, so(opts, "mean").split_every, "mean") end
function Bag:any(opts) return reduce_item(self, "any", {}, so(opts, "any").split_every, "any") end
function Bag:all(opts) return reduce_item(self, "all", {}, so(opts, "all").split_every, "all") end

-- std and var with ddof = 0 as Dask's bag, {ddof=} to change
function Bag:var(opts)
  opts = so(opts, "var")
  return reduce_item(self, "var", { ddof = opts.ddof or 0 }, opts.split_every, "var")
end
function Bag:std(opts)
  opts = so(opts, "std")
  return reduce_item(self, "std", { ddof = opts.ddof or 0 }, opts.split_every, "std")
end

-- reduction(perpartition, aggregate): perpartition(list) per partition,
-- aggregate(list of results) at each level of the tree
function Bag:reduction(perpartition, aggregate, opts)
  check_fn(perpartition, "reduction")
  check_fn(aggregate, "reduction")
  return reduce_item(self, "reduction", { perpartition = perpartition, aggregate = aggregate },
                     so(opts, "reduction").split_every, "reduction")
end

-- fold(binop [, combine [, initial]]): binop from initial within a
-- partition, combine (default binop) across them
function Bag:fold(binop, combine, initial, opts)
  check_fn(binop, "fold")
  if combine ~= nil then check_fn(combine, "fold") end
  return reduce_item(self, "fold", { binop = binop, combine = combine, initial = initial },
                     so(opts, "fold").split_every, "fold")
end

-- Bag of {value, count}, in order of first occurrence
function Bag:frequencies(opts)
  return reduce_bag(self, "frequencies", {}, so(opts, "frequencies").split_every, "frequencies")
end

-- the distinct elements, by value (tables compare by content), in order
-- of first occurrence
function Bag:distinct(opts)
  return reduce_bag(self, "distinct", {}, so(opts, "distinct").split_every, "distinct")
end

-- the k largest, descending; key: a function, or an index or field; ties
-- keep the earlier element first
function Bag:topk(k, key, opts)
  k = int_arg(k, 0, "topk: k")
  return reduce_bag(self, "topk", { k = k, key = key }, so(opts, "topk").split_every, "topk")
end

-- Bag of {key, folded value}, in order of first occurrence (see dusk(3))
function Bag:foldby(key, binop, initial, combine, combine_initial, opts)
  check_fn(binop, "foldby")
  if combine ~= nil then check_fn(combine, "foldby") end
  return reduce_bag(self, "foldby", { key = key, binop = binop, initial = initial,
                                      combine = combine, combine_initial = combine_initial },
                    so(opts, "foldby").split_every, "foldby")
end

-- Bag of {key, list of elements}, in order of first occurrence
function Bag:groupby(key, opts)
  if key == nil then errors.raise("groupby: expected a key (a function, index or field)") end
  return reduce_bag(self, "groupby", { key = key }, so(opts, "groupby").split_every, "groupby")
end

---------------------------------------------------------------- eager results

local function targets(self)
  local layers, indexes = {}, {}
  for i = 1, self.npartitions do
    layers[i] = self._layer
    indexes[i] = i
  end
  return layers, indexes
end

local function concat(results, first, n)
  local out, m = {}, 0
  for i = first, first + n - 1 do
    local part = results[i]
    table.move(part, 1, #part, m + 1, out)
    m = m + #part
  end
  return out
end

-- the first k elements, from the first partition(s) only
function Bag:take(k, opts)
  k = int_arg(k, 0, "take: k")
  opts = opts_of(opts, "take", { npartitions = true, scheduler = true, num_workers = true,
                                 progress = true, fuse = true })
  -- (as Dask: -1 or less takes every partition, more than there are is an error)
  local np = int_arg(opts.npartitions or 1, nil, "take: npartitions")
  if np <= -1 then np = self.npartitions end
  if np > self.npartitions then
    errors.raise(string.format("take: npartitions is %d, but the bag has only %d partitions",
                               np, self.npartitions))
  end
  np = math.max(1, np)
  local layers, indexes = {}, {}
  for i = 1, np do layers[i], indexes[i] = self._layer, i end
  local copts = {}
  for key, v in pairs(opts) do if key ~= "npartitions" then copts[key] = v end end
  local results = core.compute(layers, indexes, require("dusk.config").resolve(copts, "take"))
  local all = concat(results, 1, np)
  return table.move(all, 1, math.min(k, #all), 1, {})
end

-- Writes one file per partition: the '*' in 'pattern' becomes the
-- partition number (zero-padded to one width when there are 10 or more).
-- The pipeline streams into the file: a partition is never held whole.
-- Eager; returns the list of file names.
-- b:to_dataframe({columns=}): a DataFrame of the bag's records (tables
-- of column = value; lists with 'columns' naming their positions), a
-- partition a partition; the dtypes from the first record, as Dask's meta.
function Bag:to_dataframe(opts)
  return require("dusk.dataframe").from_bag(self, self._layer, opts)
end

function Bag:to_textfiles(pattern, opts)
  if type(pattern) ~= "string" or select(2, pattern:gsub("%*", "")) ~= 1 then
    errors.raise("to_textfiles: the name pattern must contain one '*' (replaced by the partition number)")
  end
  opts = opts_of(opts, "to_textfiles", { compression = true, scheduler = true,
                                         num_workers = true, progress = true })
  local width = self.npartitions >= 10 and #tostring(self.npartitions) or 1
  local io_ = require "dusk.io"
  local compression = errors.call("to_textfiles", io_.compression_of, pattern,
                                  opts.compression == nil and "infer" or opts.compression)
  local p = self._pipe
  local layer = core.layer(LayerMT, compute.new_key("to_textfiles"), self.npartitions,
                           spec.pipe(p.source, p.ops,
                                     spec.sink("to_textfiles", { pattern = pattern, width = width,
                                                                 compression = compression or false })),
                           p.deps)
  local layers, indexes = {}, {}
  for i = 1, self.npartitions do layers[i], indexes[i] = layer, i end
  local copts = {}
  for key, v in pairs(opts) do if key ~= "compression" then copts[key] = v end end
  return core.compute(layers, indexes, require("dusk.config").resolve(copts, "to_textfiles"))
end

function Bag:compute(opts)
  return compute.many({ self }, 1, opts, "compute")[1]
end

function Bag:persist(opts)
  return compute.persist_many({ self }, 1, opts, "persist")[1]
end

-- Frees a persisted bag's data (nothing for one that is not).
function Bag:release()
  local payload = core.payload(self._layer)
  if core.is_stored(payload) then core.stored_release(payload) end
end
BagMT.__close = Bag.release

function Bag:visualize(filename, opts)
  return require("dusk.visualize")(self, filename, opts)
end

---------------------------------------------------------------- protocol

BagMT.__dusk_targets = targets
function BagMT.__dusk_result(self, results, first)
  return concat(results, first, self.npartitions)
end
function BagMT.__dusk_persisted(self, stored)
  return wrap(core.layer(LayerMT, core.name(self._layer), self.npartitions, stored, nil),
              self.npartitions, self._name)
end

function BagMT.__tostring(self)
  local layers, indexes = targets(self)
  local tasks = #core.plan(layers, indexes).tasks
  return string.format("dusk.Bag<%s, npartitions=%d, tasks=%d>", self._name, self.npartitions, tasks)
end

return M
