#!/usr/bin/env dusk
-- The seeds' DataFrame job on NYC-taxi-shaped CSVs (made here with
-- dusk.datasets): the row count, the missing values of every column, and
-- the mean fare and distance by payment type -- each reading the CSVs.
--
--   dusk samples/taxi_groupby.lua [dir]

local dd = dusk.dataframe
-- dusk.datasets is in stdlib/: installed on the Lua path, or beside us
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../stdlib/?.lua;" .. package.path
local dir = arg[1] or os.tmpname() .. ".taxi"
os.execute(string.format("mkdir -p %q", dir))

-- two files of 20,000 trips, written by a delayed task each
local write = dusk.delayed(function(path, seed)
  require("dusk.datasets").write_taxi_csv(path, 20000, { seed = seed })
  return path
end)
dusk.delayed({ write(dir .. "/yellow_1.csv", 1), write(dir .. "/yellow_2.csv", 2) }):compute()

-- the money columns as floats: a sample of 256 kB sees only whole tolls
local money = { "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
                "improvement_surcharge", "total_amount" }
local dtypes = {}
for _, c in ipairs(money) do dtypes[c] = "float64" end
local df = dd.read_csv(dir .. "/*.csv", { blocksize = "1MB", dtypes = dtypes })
print(df.npartitions .. " partitions of " .. #df.columns .. " columns")
print("rows", #df)

local nulls = df:isnull():sum():compute()
for _, c in ipairs(df.columns) do
  local n = nulls:get(c)
  if n > 0 then print(string.format("missing %-20s %d", c, n)) end
end

local means = df[{ "payment_type", "total_amount", "trip_distance" }]
  :groupby("payment_type")
  :agg { total_amount = "mean", trip_distance = "mean" }
  :compute()
for i, p in ipairs(means.payment_type:to_table()) do
  print(string.format("payment type %d: mean total %.6f, mean distance %.6f", p,
                      means:value(i, "total_amount"), means:value(i, "trip_distance")))
end
