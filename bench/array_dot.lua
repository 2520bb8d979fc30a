-- The seeds' product: x:dot(x.T):sum() of a random n x n array in c x c
-- chunks (bench/dgemm_bench.c times one plain dgemm of the same size, the
-- yardstick).  Prints "time dot SECONDS" for bench/run.py.
--
--   dusk bench/array_dot.lua [n] [c]

local n = tonumber(arg[1]) or 4000
local c = tonumber(arg[2]) or 1000
local now = require("dusk.core").now
local da = dusk.array

local x = da.random.random({ n, n }, { chunks = { c, c }, seed = 1 })
local t0 = now()
local s = x:dot(x.T):sum():compute()
print(string.format("time dot %.6f", now() - t0))
assert(s > 0)
