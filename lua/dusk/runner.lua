-- dusk.runner: runs one task's spec in a worker's state (src/sched/exec.c
-- calls run).  A spec is a list whose first entry names its kind.
--
-- Before decoding a spec, the executor puts the task's inputs in
-- 'inputs' (inputs.n of them, nils included); the placeholders of
-- dependencies in the spec decode to them (type "dusk.dep", registered
-- with serial below).

local serial = require "dusk.serial"
local bagops = require "dusk.bagops"

local inputs = {}
serial.register("dusk.dep", function(i) return inputs[i] end)

local unpack = table.unpack

local kinds = {}

-- {"call", fn, args, nargs, nout}: fn(args...); with nout, its first
-- nout results in a list (n = nout), else the first.
function kinds.call(spec)
  local fn, args, nargs, nout = spec[2], spec[3], spec[4], spec[5]
  if nout then return table.move(table.pack(fn(unpack(args, 1, nargs))), 1, nout, 1, { n = nout }) end
  return (fn(unpack(args, 1, nargs)))
end

-- {"value", v}: v, its placeholders resolved.
function kinds.value(spec)
  return spec[2]
end

-- Bag partitions (see dusk.bagops).
kinds.pipe = bagops.pipe
kinds.agg = bagops.agg
kinds.partitions = bagops.partitions
kinds.pick = bagops.pick

local function run(spec, index)
  return kinds[spec[1]](spec, index, inputs)
end

return { inputs = inputs, run = run, kinds = kinds }
