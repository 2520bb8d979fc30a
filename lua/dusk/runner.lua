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

-- The parts of a spec that the user gave, each with the words naming it
-- in an error ("argument 2 of map"; nil: a function, which names itself
-- by its file and line).
local function parts(spec)
  local out = {}
  local function add(v, where) out[#out + 1] = { v, where } end
  local function add_sink(sink)
    if sink then add(sink[2], sink[1]) end
  end
  local kind = spec[1]
  if kind == "call" then
    add(spec[2], nil)
    for i = 1, spec[4] do add(spec[3][i], "argument " .. i) end
  elseif kind == "value" then
    add(spec[2], "the value")
  elseif kind == "pipe" then
    for _, op in ipairs(spec[3]) do
      local name = op[1] == "pluck_many" and "pluck" or op[1]
      add(op[2], "argument 1 of " .. name)
      for i = 1, op[4] or 0 do add(op[3][i], string.format("argument %d of %s", i + 1, name)) end
    end
    local sink = spec[4]
    if sink and sink[1] == "multi" then
      for _, s in ipairs(sink[2]) do add_sink(s) end
    else
      add_sink(sink)
    end
  elseif kind == "agg" then
    add(spec[3], spec[2])
  elseif kind == "partitions" and spec[2] == "map_partitions" then
    add(spec[3], "argument 1 of map_partitions")
    for i = 1, spec[5] do add(spec[4][i], "argument " .. (i + 1) .. " of map_partitions") end
  end
  return out
end

-- When a spec cannot be sent: the error of the first part that cannot,
-- naming that part (src/lcompute.c asks), or nil.
local function unsendable(spec)
  for _, p in ipairs(parts(spec)) do
    local ok, err = pcall(serial.encode, p[1], { ["local"] = true, where = p[2] })
    if not ok then return err end
  end
  return nil
end

return { inputs = inputs, run = run, kinds = kinds, unsendable = unsendable }
