#!/usr/bin/env dusk
-- Missing values, as pandas counts and fills them: empty CSV cells in an
-- integer, a float, a string and a bool column; an integer column with
-- gaps stays int64.
--
--   dusk samples/missing_values.lua [data.csv]

local dd = dusk.dataframe
local path = arg[1] or os.tmpname() .. ".missing.csv"
local f = assert(io.open(path, "w"))
f:write("id,qty,price,city,paid\n")
f:write("1,3,2.5,Oslo,True\n2,,4.0,Lima,False\n3,7,,Oslo,\n4,1,1.25,,True\n5,,,Kyiv,False\n")
f:close()

local df = dd.read_csv(path)
for _, c in ipairs(df.columns) do io.write(c, ":", df.dtypes[c], " ") end
print()
local nulls = df:isnull():sum():compute()
for _, c in ipairs(df.columns) do print("missing " .. c, nulls:get(c)) end
print("rows with no gap", #df:dropna())
print("qty filled", table.concat(df.qty:fillna(0):compute():to_table(), " "))
print(string.format("mean qty %.6f of %d", df.qty:mean():compute(), df.qty:count():compute()))
print("rows with a qty", #df[df.qty:notnull()])
