#!/usr/bin/env dusk
-- The Delayed basics, as in Dask's tutorial: lazy calls build a graph,
-- compute runs it in parallel.
--
--   dusk samples/delayed_basics.lua

local delayed = dusk.delayed

local function sleepy(seconds)
  -- stand-in for real work: busy for 'seconds'
  local now = require("dusk.core").now
  local t = now() + seconds
  while now() < t do end
end

local inc = delayed(function(x) sleepy(0.05); return x + 1 end, { name = "inc" })
local double = delayed(function(x) sleepy(0.05); return x * 2 end, { name = "double" })
local add = delayed(function(x, y) sleepy(0.05); return x + y end, { name = "add" })

-- a custom operation with two results
local custom_op = delayed(function(x, y) return x * y, x - y end,
                          { name = "custom_op", nout = 2 })

local data = { 1, 2, 3, 4, 5, 6, 7, 8 }
local output = {}
for i, x in ipairs(data) do
  local a = inc(x)
  local b = double(x)
  output[i] = add(a, b)
end

-- plain Lua functions become lazy too: sum the list of results
local total = delayed(function(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end, { name = "sum" })(output)

local product, difference = custom_op(total, 10)[1], custom_op(total, 10)[2]

print("total (lazy):", total)
local now = require("dusk.core").now
local t0 = now()
local t, p, d = dusk.compute(total, product, difference)
print(string.format("total = %d, total*10 = %d, total-10 = %d  (%.2f s, %d workers)",
                    t, p, d, now() - t0, dusk.config.get("num_workers")))
t0 = now()
print("the same with one thread:", total:compute({ scheduler = "sync" }),
      string.format("(%.2f s)", now() - t0))

-- sums over a range, as a tree of additions: 10,000 quick tasks
local quick_inc = delayed(function(x) return x + 1 end, { name = "inc" })
local quick_add = delayed(function(x, y) return x + y end, { name = "add" })
local parts = {}
for i = 1, 10000 do parts[i] = quick_inc(i) end
while #parts > 1 do
  local level = {}
  for i = 1, #parts, 2 do
    level[#level + 1] = parts[i + 1] and quick_add(parts[i], parts[i + 1]) or parts[i]
  end
  parts = level
end
t0 = now()
print("sum of inc(1..10000):", parts[1]:compute(), string.format("(%.3f s)", now() - t0))
