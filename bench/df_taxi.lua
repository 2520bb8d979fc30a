-- The seeds' DataFrame queries over NYC-taxi-shaped CSVs (the files of
-- bench/gen_taxi.lua): every CSV of DIR read in 64 MB blocks, again for
-- each query -- the row count (#df), the nulls of every column
-- (df:isnull():sum()), and payment_type's means of total_amount and
-- trip_distance.  Prints "time QUERY SECONDS" and "peak QUERY MIB" (the
-- process's peak resident memory) for bench/run.py, the answers on
-- stderr in the form of bench/df_taxi.py's and bench/df_taxi_duckdb.mjs's.
-- With a query named, only that one runs (bench/run.py measures each in
-- its own process, so that the peak is its own); without, all three and
-- "peak all".
--
--   dusk bench/df_taxi.lua DIR [rows | isnull | groupby]

local dir = arg[1]
local only = arg[2]
if not dir or (only and only ~= "rows" and only ~= "isnull" and only ~= "groupby") then
  io.stderr:write("usage: dusk bench/df_taxi.lua DIR [rows | isnull | groupby]\n")
  os.exit(2)
end
local now = require("dusk.core").now
local dd = dusk.dataframe

local function frame() return dd.read_csv(dir .. "/*.csv", { blocksize = "64MB" }) end

-- numbers as Python's repr and JavaScript print them: the shortest text
-- that reads back the same
local function number(v)
  if math.type(v) ~= "float" then return tostring(v) end
  for digits = 15, 16 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(s) == v then return s end
  end
  return string.format("%.17g", v)
end

local queries = {
  rows = function()
    return { "rows " .. #frame() }
  end,
  isnull = function()
    local df = frame()
    local counts = df:isnull():sum():compute()
    local out = {}
    for i, name in ipairs(df.columns) do
      local n = counts:get(name)
      out[i] = "null " .. name .. " " .. number(math.tointeger(n) or n)
    end
    return out
  end,
  groupby = function()
    local means = frame()[{ "payment_type", "total_amount", "trip_distance" }]
      :groupby("payment_type")
      :agg { total_amount = "mean", trip_distance = "mean" }
      :compute()
    -- {payment_type, mean total, mean distance}, by payment_type: the
    -- groups are the Series' labels (or a column payment_type)
    local total, dist = means.total_amount:to_table(), means.trip_distance:to_table()
    local groups = {}
    local keys
    for _, c in ipairs(means.columns) do
      if c == "payment_type" then keys = means.payment_type:to_table() end
    end
    if keys then
      for i, k in ipairs(keys) do groups[i] = { k, total[i], dist[i] } end
    else
      for k, v in pairs(total) do groups[#groups + 1] = { k, v, dist[k] } end
    end
    table.sort(groups, function(a, b) return a[1] < b[1] end)
    local out = {}
    for i, g in ipairs(groups) do
      out[i] = string.format("mean %s %s %s", number(g[1]), number(g[2]), number(g[3]))
    end
    return out
  end,
}

local function peak()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then return kb / 1024 end
  end
end

for _, name in ipairs(only and { only } or { "rows", "isnull", "groupby" }) do
  local t0 = now()
  local answer = queries[name]()
  print(string.format("time %s %.6f", name, now() - t0))
  if only then print(string.format("peak %s %.1f", name, peak())) end
  io.stdout:flush()
  io.stderr:write(table.concat(answer, "\n"), "\n")
end
if not only then print(string.format("peak all %.1f", peak())) end
