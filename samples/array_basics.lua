#!/usr/bin/env dusk
-- Array basics, as in Dask's documentation: a 15 x 15 array of ones in
-- 5 x 5 chunks, its sums along the first axis, and the task graph of that
-- sum drawn by graphviz.
--
--   dusk samples/array_basics.lua [graph.svg]

local da = dusk.array

local x = da.ones({ 15, 15 }, { chunks = { 5, 5 } })
print(x)                                    -- Dask's summary table: nothing runs
local s = x:sum { axis = 1 }
print(s:compute())                          -- an ndarray of fifteen 15s
print("blocks:", x.npartitions)
local svg = arg[1] or os.tmpname() .. ".svg"
s:visualize(svg)
print("graph drawn:", io.open(svg) ~= nil)
local y = x + x.T * 2 - 1                   -- one task per block: fused
print(y:slice({ 1, 3 }, { -3, -1 }):compute())
print("total:", y:sum():compute())
