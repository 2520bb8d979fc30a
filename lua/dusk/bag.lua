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

local Delayed, lift = delayed.Delayed, delayed.lift

local Bag = {}
local BagMT = { __index = Bag, __name = "dusk.Bag", __dusk_send = true }
local LayerMT = { __gc = core.release, __name = "dusk.Layer", __dusk_send = true }

local M = { Bag = Bag }

local SPLIT_EVERY = 8

---------------------------------------------------------------- making bags

-- A bag over 'layer', whose tasks make its partitions.
-- What several targets of one compute can share (M.share): an Item or
-- Bag that runs a pipeline into a sink (nil: its partitions' lists), by
-- object.
local recipes = setmetatable({}, { __mode = "k" })

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
                           { "pipe", pipe.source, pipe.ops, nil }, pipe.deps)
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
    for i = 1, op.nargs do op.args[i] = lift(op.args[i], deps, depidx, seen) end
  end
  local ops = table.move(p.ops, 1, #p.ops, 1, {})
  ops[#ops + 1] = { op[1], op[2], op.args, op.nargs }
  return piped({ base = p.base, source = p.source, ops = ops, deps = deps, depidx = depidx },
               self.npartitions, op[1])
end

local function is_bag(v) return getmetatable(v) == BagMT end
M.is_bag = is_bag

local function check_fn(f, what)
  if type(f) ~= "function" and not (getmetatable(f) and getmetatable(f).__call) then
    error(string.format("%s: expected a function, got a %s", what, type(f)), 3)
  end
end

local function opts_of(t, what, allowed)
-- An integer argument of at least 'min': an integer, or a float with an
-- integral value (as Lua's own functions take them); 'what' names it.
local INT_KINDS = { [0] = "a non-negative integer", [1] = "a positive integer" }

local function int_arg(v, min, what, level)
  local i = math.type(v) and math.tointeger(v)
  if not i or i < min then
    error(string.format("%s must be %s, got %s", what,
                        INT_KINDS[min] or "an integer of at least " .. min, tostring(v)), level or 3)
  end
  return i
end

  if t == nil then return {} end
  if type(t) ~= "table" then error(string.format("%s: options must be a table", what), 3) end
  for k in pairs(t) do
    if not allowed[k] then error(string.format("%s: unknown option %q", what, tostring(k)), 3) end
  end
  return t
end

---------------------------------------------------------------- sources

-- db.from_sequence(list, {npartitions=, partition_size=}): partition
-- sizes as Dask computes them.
function M.from_sequence(list, opts)
  if type(list) ~= "table" then error("from_sequence: expected a list", 2) end
  opts = opts_of(opts, "from_sequence", { npartitions = true, partition_size = true })
  local n = #list
  local size = opts.partition_size
  if opts.npartitions and not size then
    if math.type(opts.npartitions) ~= "integer" or opts.npartitions < 1 then
      error("from_sequence: npartitions must be a positive integer", 2)
    end
    size = math.max(1, -(-n // opts.npartitions))
  end
  if not size then size = n < 100 and 1 or n // 100 end
  if math.type(size) ~= "integer" or size < 1 then
    error("from_sequence: partition_size must be a positive integer", 2)
  end
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
  if math.type(n) ~= "integer" or n < 0 then error("range: n must be a non-negative integer", 2) end
  opts = opts_of(opts, "range", { npartitions = true })
  local parts = opts.npartitions or core.ncores()
  if math.type(parts) ~= "integer" or parts < 1 then
    error("range: npartitions must be a positive integer", 2)
  end
  parts = math.max(1, math.min(parts, n))
  return piped({ source = { "range", n, parts }, ops = {}, deps = {}, depidx = {} },
               parts, "range")
end

-- dusk.io's results: a value, or nil and a message naming the file
local function must(what, v, err)
  if v == nil then error(what .. ": " .. tostring(err), 3) end
  return v
end

-- db.read_text(path | glob | list, {blocksize=, compression="infer"})
function M.read_text(paths, opts)
  local io_ = require "dusk.io"
  opts = opts_of(opts, "read_text", { blocksize = true, compression = true })
  local files = must("read_text", io_.expand(paths))
  local blocksize = opts.blocksize and io_.parse_bytes(opts.blocksize)
  if blocksize and blocksize < 1 then error("read_text: blocksize must be positive", 2) end
  local blocks = {}
  for _, path in ipairs(files) do
    local compression = io_.compression_of(path, opts.compression == nil and "infer" or opts.compression)
    if blocksize and not compression then
      local size = must("read_text", io_.size(path))
      if size == 0 then blocks[#blocks + 1] = { path, 0, 0, false } end
      for offset = 0, size - 1, blocksize do
        blocks[#blocks + 1] = { path, offset, blocksize, false }
      end
    else
      blocks[#blocks + 1] = { path, nil, nil, compression or false }
    end
  end
  local base = core.layer(LayerMT, compute.new_key("read_text-blocks"), #blocks,
                          core.stored_new(blocks), nil)
  return piped({ base = base, source = { "lines" }, ops = {},
                 deps = { { base, split = 1 } }, depidx = {} }, #blocks, "read_text")
end

-- db.read_json(...): read_text, each line decoded by dusk.json.decode.
function M.read_json(paths, opts)
  return M.read_text(paths, opts):map(require("dusk.json").decode)
end

-- db.from_delayed(list): each Delayed yields a partition (a list).
function M.from_delayed(list)
  if type(list) ~= "table" then error("from_delayed: expected a list of Delayed objects", 2) end
  local deps = {}
  for i, d in ipairs(list) do
    if getmetatable(d) ~= Delayed then
      error(string.format("from_delayed: element %d is a %s, not a Delayed", i, type(d)), 2)
    end
    deps[i] = { d, reader = i }
  end
  if #deps == 0 then return M.from_sequence({}) end
  local layer = core.layer(LayerMT, compute.new_key("from_delayed"), #deps,
                           { "partitions", "from_delayed" }, deps)
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

-- pluck(key): element[key]; pluck({k1, k2}): {element[k1], element[k2]}
function Bag:pluck(key)
  if type(key) == "table" then return extend(self, { "pluck_many", table.move(key, 1, #key, 1, {}) }) end
  return extend(self, { "pluck", key })
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
  for i = 1, nargs do args[i] = lift(args[i], deps, depidx, seen) end
  local layer = core.layer(LayerMT, compute.new_key("map_partitions"), self.npartitions,
                           { "partitions", "map_partitions", f, args, nargs }, deps)
  return wrap(layer, self.npartitions, "map_partitions")
end

-- Same elements, same order, 'n' partitions as even as they divide.
function Bag:repartition(n)
  if math.type(n) ~= "integer" or n < 1 then error("repartition: n must be a positive integer", 2) end
  if n == self.npartitions then return self end
  local layer = core.layer(LayerMT, compute.new_key("repartition"), n,
                           { "partitions", "repartition", n }, { self._layer })
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
                       { "agg", kind, args, false }, { { layer, split = split_every } })
    n = m
  end
  return layer, { "agg", kind, args, true }
end

local function reduce_item(self, kind, args, split_every, name)
  return reduce(self, kind, args, split_every, name, true)
end

local function reduce_bag(self, kind, args, split_every, name)
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
  split_every = int_arg(split_every or SPLIT_EVERY, 2, name .. ": split_every", 4)
  local p = self._pipe
  local parts = core.layer(LayerMT, compute.new_key(name .. "-part"), self.npartitions,
                           { "pipe", p.source, p.ops, { kind, args } }, p.deps)
  local r = reduced(parts, self.npartitions, kind, args, split_every, name, item)
  recipes[r] = { pipe = p, npartitions = self.npartitions, sink = { kind, args },
                 split_every = split_every, name = name, item = item }
  return r
end

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
                                { "pipe", pipe.source, pipe.ops, { "multi", sinks } }, pipe.deps)
      for k, i in ipairs(g) do
        local r = recipes[objs[i]]
        local picked = core.layer(LayerMT, compute.new_key(r.name .. "-part"), np,
                                  { "pick", k }, { { shared, split = 1 } })
        local replaced = r.sink and reduced(picked, np, r.sink[1], r.sink[2], r.split_every,
                                            r.name, r.item)
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
  if math.type(k) ~= "integer" or k < 0 then error("topk: k must be a non-negative integer", 2) end
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
  if key == nil then error("groupby: expected a key (a function, index or field)", 2) end
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
  if math.type(k) ~= "integer" or k < 0 then error("take: k must be a non-negative integer", 2) end
  opts = opts_of(opts, "take", { npartitions = true, scheduler = true, num_workers = true,
                                 progress = true, fuse = true })
  local np = opts.npartitions or 1
  if np == -1 then np = self.npartitions end
  np = math.max(1, math.min(np, self.npartitions))
  local layers, indexes = {}, {}
  for i = 1, np do layers[i], indexes[i] = self._layer, i end
  local copts = {}
  for key, v in pairs(opts) do if key ~= "npartitions" then copts[key] = v end end
  local results = core.compute(layers, indexes, require("dusk.config").resolve(copts, "take"))
  local all = concat(results, 1, np)
  return table.move(all, 1, math.min(k, #all), 1, {})
end

-- Writes one file per partition: '*' in 'pattern' becomes the partition
-- number (zero-padded to one width when there are 10 or more).  Eager;
-- returns the list of file names.
function Bag:to_textfiles(pattern, opts)
  if type(pattern) ~= "string" or select(2, pattern:gsub("%*", "")) ~= 1 then
    error("to_textfiles: the name pattern must contain one '*' (replaced by the partition number)", 2)
  end
  opts = opts_of(opts, "to_textfiles", { compression = true, scheduler = true,
                                         num_workers = true, progress = true })
  local width = self.npartitions >= 10 and #tostring(self.npartitions) or 1
  local io_ = require "dusk.io"
  local compression = io_.compression_of(pattern, opts.compression == nil and "infer" or opts.compression)
  local layer = core.layer(LayerMT, compute.new_key("to_textfiles"), self.npartitions,
                           { "pipe", p.source, p.ops, { "write", { pattern = pattern, width = width,
                                                                   compression = compression or false } } },
                           p.deps)
  local layers, indexes = {}, {}
  for i = 1, self.npartitions do layers[i], indexes[i] = layer, i end
  local copts = {}
  for key, v in pairs(opts) do if key ~= "compression" then copts[key] = v end end
  local p = self._pipe
  return core.compute(layers, indexes, require("dusk.config").resolve(copts, "to_textfiles"))
end

function Bag:to_dataframe()
  error("to_dataframe comes with dusk.dataframe, which is not in this version of dusk", 2)
end

function Bag:compute(opts)
  return compute.many({ self }, 1, opts, "compute")[1]
end

function Bag:persist(opts)
  return compute.persist_many({ self }, 1, opts, "persist")[1]
end

-- Frees a persisted bag's data (nothing for one that is not).
function Bag:release()
  local spec = core.payload(self._layer)
  if core.is_stored(spec) then core.stored_release(spec) end
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
