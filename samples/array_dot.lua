#!/usr/bin/env dusk
-- The seeds' product: (x:dot(x.T + 1) - x:mean()):std() of an n x n array
-- in 500 x 500 chunks -- block products through OpenBLAS, one BLAS thread
-- per task, the blocks' tasks in parallel.  x is sin of 0, 1, 2, ... so
-- that numpy can check the answer.
--
--   dusk samples/array_dot.lua [n]

local da = dusk.array
local n = math.tointeger(tonumber(arg[1] or "2000"))

local x = da.sin(da.arange(0, n * n, { chunks = 500 * n })):reshape({ n, n }):rechunk({ 500, 500 })
local r = (x:dot(x.T + 1) - x:mean()):std()
print(string.format("%d x %d in %d blocks: std %.6g", n, n, x.npartitions, r:compute()))
