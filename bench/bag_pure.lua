-- "bag pure": 2,000,000 integers in 8 partitions, filter even, map square,
-- sum.  Prints "time LABEL SECONDS" for bench/run.py.
--
--   dusk bench/bag_pure.lua [n]

local n = tonumber(arg[1]) or 2000000
local now = require("dusk.core").now
local db = dusk.bag

local t0 = now()
local total = db.range(n, { npartitions = 8 })
  :filter(function(x) return x % 2 == 0 end)
  :map(function(x) return x * x end)
  :sum()
  :compute()
print(string.format("time threads %.6f", now() - t0))
local want = 0
for x = 0, n - 1, 2 do want = want + x * x end
assert(total == want, string.format("got %s, want %s", total, want))
