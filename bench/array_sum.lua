-- The seeds' transposed sum: (y + y.T):sum{axis = 1}:sum() of a random
-- n x n array in c x c chunks.  Prints "time sum SECONDS" and "peak sum
-- MIB" for bench/run.py.
--
--   dusk bench/array_sum.lua [n] [c]

local n = tonumber(arg[1]) or 20000
local c = tonumber(arg[2]) or 2000
local now = require("dusk.core").now
local da = dusk.array

local y = da.random.random({ n, n }, { chunks = { c, c }, seed = 1 })
local t0 = now()
local s = (y + y.T):sum { axis = 1 }:sum():compute()
print(string.format("time sum %.6f", now() - t0))
assert(math.abs(s / (n * n) - 1) < 1e-3, "sum " .. s)
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s+(%d+)")
  if kb then print(string.format("peak sum %.1f", kb / 1024)) end
end
