-- Makes the "bag json" data once: 8 gzip'd JSON-lines files of 250,000
-- accounts records each (dusk.datasets, seeds 1..8), in the directory
-- given (default bench/data).  Files already there are kept.
--
--   LUA_PATH_5_4='stdlib/?.lua;;' dusk bench/gen_accounts.lua [dir] [files] [records]

local dir = arg[1] or "bench/data"
local files = tonumber(arg[2]) or 8
local records = tonumber(arg[3]) or 250000
local ds = require "dusk.datasets"

os.execute(string.format("mkdir -p %q", dir))
local gen = dusk.delayed(function(path, n, seed)
  local f = io.open(path .. ".gz")
  if f then f:close() return path .. ".gz" end
  require("dusk.datasets").write_accounts_json(path, n, { seed = seed })
  assert(os.execute(string.format("gzip -f %q", path)))
  return path .. ".gz"
end, { name = "gen_accounts" })

local parts = {}
for i = 1, files do
  parts[i] = gen(string.format("%s/accounts.%d.json", dir, i), records, i)
end
for _, path in ipairs(dusk.delayed(parts):compute()) do print(path) end
