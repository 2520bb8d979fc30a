#!/usr/bin/env dusk
-- The seeds' big random array: 2000 x 2000 x 2000 float64 in "auto"
-- chunks (59.6 GiB, never in memory: each block's task makes its random
-- numbers a tile at a time and sums them at once), and its mean.
--
--   dusk samples/array_mean.lua [n]

local da = dusk.array
local n = math.tointeger(tonumber(arg[1] or "2000"))

local x = da.random.random({ n, n, n }, { chunks = "auto", seed = 42 })
print(string.format("shape %dx%dx%d, %d chunks of %s, %.1f GiB", n, n, n, x.npartitions,
                    table.concat({ x.chunks[1][1], x.chunks[2][1], x.chunks[3][1] }, "x"),
                    x.nbytes / 2 ^ 30))
print(string.format("mean %.2f", x:mean():compute()))
