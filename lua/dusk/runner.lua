-- dusk.runner: runs one task's spec in a worker's state (src/exec/exec.c
-- calls run).  A spec is a list whose first entry names its kind (built
-- and read as dusk.spec says).
--
-- Before decoding a spec, the executor puts the task's inputs in
-- 'inputs' (inputs.n of them, nils included); the placeholders of
-- dependencies in the spec decode to them (type "dusk.dep", registered
-- with serial below).

local serial = require "dusk.serial"
local S = require "dusk.spec"

local inputs = {}
serial.register("dusk.dep", function(i) return inputs[i] end)

local unpack = table.unpack

local kinds = {}

-- spec.call(fn, args, nargs, nout): fn(args...); with nout, its first
-- nout results in a list (n = nout), else the first.
function kinds.call(spec)
  local fn, args, nargs, nout = spec[S.CALL_FN], spec[S.CALL_ARGS], spec[S.CALL_NARGS],
                                spec[S.CALL_NOUT]
  if nout then return table.move(table.pack(fn(unpack(args, 1, nargs))), 1, nout, 1, { n = nout }) end
  return (fn(unpack(args, 1, nargs)))
end

-- spec.value(v): v, its placeholders resolved.
function kinds.value(spec)
  return spec[S.VALUE]
end

-- Bag partitions (see dusk.bagops), loaded by the first: a worker that
-- runs only delayed tasks never loads it (~40 KB of Lua with dusk.pretty).
-- Tail calls, as run's own: a traceback shows the same frames.
local bagops
for _, kind in ipairs { "pipe", "agg", "partitions", "pick" } do
  kinds[kind] = function(...)
    bagops = bagops or require "dusk.bagops"
    return bagops[kind](...)
  end
end

-- An Array's blocks (dusk.array), run by the C module loaded by the
-- first array task.
local arraycore

-- map_blocks: the user's function on one block, which must give an
-- ndarray of the block's shape and the dtype said.
local function array_map(spec, block)
  local f, dtype = spec[S.ARRAY_MAP_FN], spec[S.ARRAY_MAP_DTYPE]
  local out = f(block)
  local nda = require "dusk.ndarray"
  if not nda.is_ndarray(out) then
    error(string.format("map_blocks: the function returned a %s, not a dusk.ndarray", type(out)), 0)
  end
  if out.dtype ~= dtype then
    error(string.format("map_blocks: the function returned a %s array where dtype %s was said (give map_blocks {dtype = \"%s\"})",
                        out.dtype, dtype, out.dtype), 0)
  end
  local want, got = block.shape, out.shape
  if #want ~= #got then
    error(string.format("map_blocks: the function changed the block's shape from (%s) to (%s)",
                        table.concat(want, ","), table.concat(got, ",")), 0)
  end
  for k = 1, #want do
    if want[k] ~= got[k] then
      error(string.format("map_blocks: the function changed the block's shape from (%s) to (%s)",
                          table.concat(want, ","), table.concat(got, ",")), 0)
    end
  end
  return out
end

function kinds.array(spec, index)
  arraycore = arraycore or require "dusk.arraycore"
  local what = spec[S.ARRAY_WHAT]
  if what == "block" then
    return arraycore.block(spec[S.ARRAY_PROG], index - 1, unpack(inputs, 1, inputs.n))
  elseif what == "partial" then
    return arraycore.partial(spec[S.ARRAY_PROG], index - 1, spec[S.ARRAY_OP], spec[S.ARRAY_REDUCED],
                             unpack(inputs, 1, inputs.n))
  elseif what == "map" then
    return array_map(spec, inputs[1])
  elseif what == "storage" then
    return require("dusk.array").storage_task(spec[S.ARRAY_PROG], index, inputs[1])
  elseif what ~= "combine" then -- assemble, matmul, reshape
    return arraycore[what](spec[S.ARRAY_PROG], index - 1, unpack(inputs, 1, inputs.n))
  end
  local op, finish = spec[S.ARRAY_COMBINE_OP], spec[S.ARRAY_FINISH]
  local p = arraycore.combine(op, unpack(inputs, 1, inputs.n))
  if finish then return arraycore.finish(op, p, finish.ddof, finish.drop, finish.dtype) end
  return p
end

-- A DataFrame's partitions and reductions (dusk.dataframe).
function kinds.frame(spec, index)
  return require("dusk.dataframe").task(spec, index, inputs)
end

local function run(spec, index)
  return kinds[spec[S.KIND]](spec, index, inputs)
end

-- The parts of a spec that the user gave, each with the words naming it
-- in an error ("argument 2 of map"; nil: a function, which names itself
-- by its file and line).
local function parts(spec)
  local out = {}
  local function add(v, where) out[#out + 1] = { v, where } end
  local function add_sink(sink)
    if sink then add(sink[S.SINK_ARGS], sink[S.SINK_KIND]) end
  end
  local kind = spec[S.KIND]
  if kind == "call" then
    add(spec[S.CALL_FN], nil)
    for i = 1, spec[S.CALL_NARGS] do add(spec[S.CALL_ARGS][i], "argument " .. i) end
  elseif kind == "value" then
    add(spec[S.VALUE], "the value")
  elseif kind == "pipe" then
    for _, op in ipairs(spec[S.PIPE_OPS]) do
      local name = op[S.OP_KIND] == "pluck_many" and "pluck" or op[S.OP_KIND]
      add(op[S.OP_FN], "argument 1 of " .. name)
      for i = 1, op[S.OP_NARGS] or 0 do
        add(op[S.OP_ARGS][i], string.format("argument %d of %s", i + 1, name))
      end
    end
    local sink = spec[S.PIPE_SINK]
    if sink and sink[S.SINK_KIND] == "multi" then
      for _, s in ipairs(sink[S.SINK_ARGS]) do add_sink(s) end
    else
      add_sink(sink)
    end
  elseif kind == "agg" then
    add(spec[S.AGG_ARGS], spec[S.AGG_KIND])
  elseif kind == "partitions" and spec[S.PARTS_WHAT] == "map_partitions" then
    add(spec[S.PARTS_FN], "argument 1 of map_partitions")
    for i = 1, spec[S.PARTS_NARGS] do
      add(spec[S.PARTS_ARGS][i], "argument " .. (i + 1) .. " of map_partitions")
    end
  end
  return out
end

-- When a spec cannot be sent: the error of the first part that cannot,
-- naming that part (src/bind/lrun.c asks), or nil.
local function unsendable(spec)
  for _, p in ipairs(parts(spec)) do
    local ok, err = pcall(serial.encode, p[1], { ["local"] = true, where = p[2] })
    if not ok then return err end
  end
  return nil
end

return { inputs = inputs, run = run, kinds = kinds, unsendable = unsendable }
