-- 20,000 tiny delayed tasks and a pairwise tree sum of them: per-task
-- overhead of building and running a graph.  Prints "time LABEL SECONDS"
-- for bench/run.py: build (making the Delayed objects), threads and sync
-- (computing), and per-task figures in microseconds.
--
--   dusk bench/delayed_tiny.lua [n]

local n = tonumber(arg[1]) or 20000
local clock = os.clock
local now = require("dusk.core").now or clock

local delayed = dusk.delayed
local inc = delayed(function(x) return x + 1 end, { name = "inc" })
local add = delayed(function(x, y) return x + y end, { name = "add" })

local t0 = now()
local level = {}
for i = 1, n do level[i] = inc(i) end
local tasks = n
while #level > 1 do
  local next_level = {}
  for i = 1, #level, 2 do
    next_level[#next_level + 1] = level[i + 1] and add(level[i], level[i + 1]) or level[i]
    if level[i + 1] then tasks = tasks + 1 end
  end
  level = next_level
end
local total = level[1]
local t1 = now()
print(string.format("time build %.6f", t1 - t0))

local want = n * (n + 1) // 2 + n
for _, scheduler in ipairs({ "threads", "sync" }) do
  local s0 = now()
  local got = total:compute({ scheduler = scheduler })
  local s1 = now()
  assert(got == want, string.format("%s: got %s, want %s", scheduler, got, want))
  print(string.format("time %s %.6f", scheduler, s1 - s0))
  print(string.format("time %s_per_task %.9f", scheduler, (s1 - s0) / tasks))
end
