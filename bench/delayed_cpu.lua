-- 200 CPU-bound Lua tasks of about 10 ms each, summed: the speed-up of
-- the threads scheduler over sync on this machine's cores.  Prints "time
-- LABEL SECONDS" for bench/run.py.
--
--   dusk bench/delayed_cpu.lua [tasks] [iterations]

local ntasks = tonumber(arg[1]) or 200
local iterations = tonumber(arg[2]) or 200000 -- about 10 ms of Lua here
local now = require("dusk.core").now

-- the same arithmetic as bench/delayed_cpu.py
local work = dusk.delayed(function(seed, n)
  local x = seed
  for _ = 1, n do x = (x * 1103515245 + 12345) % 2147483648 end
  return x % 1000
end, { name = "work" })
local total = dusk.delayed(function(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end, { name = "total" })

local parts = {}
for i = 1, ntasks do parts[i] = work(i, iterations) end
local sum = total(parts)

local results = {}
for _, scheduler in ipairs({ "sync", "threads" }) do
  local t0 = now()
  results[scheduler] = sum:compute({ scheduler = scheduler })
  print(string.format("time %s %.6f", scheduler, now() - t0))
end
assert(results.sync == results.threads, "schedulers disagree")
