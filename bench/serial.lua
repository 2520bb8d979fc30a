-- Serialization speed: a round trip (encode + decode) through dusk.serial
-- of a closure with three upvalues, a list of 1,000,000 integers and
-- 100,000 small records.  Prints "time LABEL SECONDS" per round trip (the
-- best of a few, as bench/run.py expects), and frame sizes on stderr.
-- bench/serial.py does the same with cloudpickle, as Dask sends functions.
local serial = require "dusk.serial"

local a, b, c = 2, 3, { 1, 2 }
local closure = function(x) return x * a + b + #c end
local ints = {}
for i = 1, 1000000 do ints[i] = i end
local records = {}
for i = 1, 100000 do
  records[i] = { id = i, name = "user" .. i, score = i / 7, ok = i % 2 == 0 }
end

local function best(value, reps)
  local t = math.huge
  for _ = 1, 5 do
    local t0 = os.clock()
    for _ = 1, reps do serial.decode(serial.encode(value)) end
    t = math.min(t, (os.clock() - t0) / reps)
  end
  io.stderr:write(string.format("%d bytes\n", #serial.encode(value)))
  return t
end

print("time closure " .. best(closure, 100000))
print("time ints_1M " .. best(ints, 3))
print("time records_100k " .. best(records, 3))
