-- The seeds' random-array mean: da.random.random({n, n, n}, {chunks =
-- {c, c, c}}):mean(), an array that never exists in memory (1000^3
-- float64: 7.45 GiB).  Prints "time mean SECONDS" and "peak mean MIB"
-- (the process's peak resident memory) for bench/run.py.
--
--   dusk bench/array_mean.lua [n] [c]

local n = tonumber(arg[1]) or 1000
local c = tonumber(arg[2]) or 250
local now = require("dusk.core").now
local da = dusk.array

local x = da.random.random({ n, n, n }, { chunks = { c, c, c }, seed = 1 })
local t0 = now()
local m = x:mean():compute()
print(string.format("time mean %.6f", now() - t0))
assert(math.abs(m - 0.5) < 1e-3, "mean " .. m)
for line in io.lines("/proc/self/status") do
  local kb = line:match("^VmHWM:%s+(%d+)")
  if kb then print(string.format("peak mean %.1f", kb / 1024)) end
end
