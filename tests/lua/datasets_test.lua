local t = ...
-- stdlib modules: run with LUA_PATH_5_4 pointing at stdlib/ (tests/meson.build)

t.test("stdlib modules load as dusk fields", function()
  t.truthy(dusk.datasets == require("dusk.datasets"))
end)

t.test("accounts are deterministic per seed", function()
  local ds = dusk.datasets
  local a, b, c = {}, {}, {}
  for r in ds.accounts(50, { seed = 7 }) do a[#a + 1] = ds.account_json(r) end
  for r in ds.accounts(50, { seed = 7 }) do b[#b + 1] = ds.account_json(r) end
  for r in ds.accounts(50, { seed = 8 }) do c[#c + 1] = ds.account_json(r) end
  t.eq(#a, 50)
  t.eq(a, b)
  t.truthy(table.concat(a) ~= table.concat(c), "another seed, other data")
end)

t.test("records have the tutorial's shape", function()
  local names, negative, max_tx = {}, 0, 0
  for r in dusk.datasets.accounts(500, { seed = 1 }) do
    t.eq(math.type(r.id), "integer")
    names[r.name] = true
    max_tx = math.max(max_tx, #r.transactions)
    for _, tx in ipairs(r.transactions) do
      t.eq(math.type(tx.amount), "integer")
      if tx.amount < 0 then negative = negative + 1 end
    end
  end
  local n = 0
  for _ in pairs(names) do n = n + 1 end
  t.truthy(n > 20, "many names")
  t.truthy(negative > 0, "some negative amounts")
  t.eq(max_tx, 11, "up to 11 transactions")
end)

t.test("JSON lines written to a file", function()
  local path = os.tmpname()
  dusk.datasets.write_accounts_json(path, 3, { seed = 2 })
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  os.remove(path)
  t.eq(#lines, 3)
  t.truthy(lines[1]:match('^{"id": 1, "name": "%a+", "transactions": %[{"transaction%-id": 1, "amount": %-?%d+}'), lines[1])
end)

---------------------------------------------------------------- taxi trips

local ds = dusk.datasets
local HEADER = "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count," ..
  "trip_distance,pickup_longitude,pickup_latitude,RateCodeID,store_and_fwd_flag," ..
  "dropoff_longitude,dropoff_latitude,payment_type,fare_amount,extra,mta_tax," ..
  "tip_amount,tolls_amount,improvement_surcharge,total_amount"
-- the columns that have empty cells, and what fraction of them
local NULLABLE = { passenger_count = true, RateCodeID = true, store_and_fwd_flag = true,
                   tip_amount = true, pickup_longitude = true, pickup_latitude = true,
                   dropoff_longitude = true, dropoff_latitude = true }
local NROWS = 20000
local dir = t.tmpdir()
local path = ds.write_taxi_csv(dir .. "/taxi.csv", NROWS, { seed = 3 })

-- The file's rows as lists of cells (text), header apart.
local function rows_of(p)
  local rows, header = {}, nil
  for line in io.lines(p) do
    local cells = {}
    for cell in (line .. ","):gmatch("([^,]*),") do cells[#cells + 1] = cell end
    if header then rows[#rows + 1] = cells else header = cells end
  end
  return header, rows
end
local header, rows = rows_of(path)

t.test("taxi CSV: the 2015 yellow cabs' header, the rows asked for", function()
  t.eq(table.concat(ds.taxi_header, ","), HEADER)
  t.eq(#ds.taxi_header, 19)
  t.eq(table.concat(header, ","), HEADER)
  t.eq(#rows, NROWS)
  for i, r in ipairs(rows) do
    if #r ~= 19 then error("row " .. i .. " has " .. #r .. " cells") end
  end
  local s = t.read(path)
  t.eq(s:sub(-1), "\n", "the last line ends")
  t.truthy(not s:find("\r", 1, true), "\\n line ends")
  t.truthy(#s / NROWS > 140 and #s / NROWS < 170, "about 156 bytes a row as the real files: " .. #s / NROWS)
  ds.write_taxi_csv(dir .. "/none.csv", 0)
  t.eq(t.read(dir .. "/none.csv"), HEADER .. "\n", "no rows: the header")
end)

t.test("taxi CSV: the same seed, the same bytes", function()
  ds.write_taxi_csv(dir .. "/again.csv", NROWS, { seed = 3 })
  ds.write_taxi_csv(dir .. "/other.csv", NROWS, { seed = 4 })
  local s = t.read(path)
  t.truthy(t.read(dir .. "/again.csv") == s, "seed 3 twice")
  t.truthy(t.read(dir .. "/other.csv") ~= s, "another seed, other rows")
  -- a shorter file is the start of a longer one (batches do not matter)
  ds.write_taxi_csv(dir .. "/short.csv", 4097, { seed = 3 })
  local short = t.read(dir .. "/short.csv")
  t.truthy(s:sub(1, #short) == short, "4097 rows: the first of 20000")
end)

t.test("taxi CSV: coordinates print as %.17g prints them, by integer arithmetic", function()
  local function text(v, shift, five, cut)
    local buf = {}
    return table.concat(buf, "", 1, ds._put_coord(buf, 0, v, shift, five, cut))
  end
  local next64 = 88172645463325252
  for _ = 1, 20000 do
    next64 = next64 ~ (next64 << 13); next64 = next64 ~ (next64 >> 7); next64 = next64 ~ (next64 << 17)
    local lon = -9697214 + (next64 & 0xFFFFF) - 0x80000
    local lat = 10682630 + ((next64 >> 20) & 0xFFFFF) - 0x80000
    t.eq(text(lon, 17, 762939453125, 100), string.format("%.17g,", lon / 131072))
    t.eq(text(lat, 18, 3814697265625, 1000), string.format("%.17g,", lat / 262144))
  end
  for _, v in ipairs { 0, -74 * 131072, -73 * 131072 - 1, -74 * 131072 + 1, -9 * 131072, -100 * 131072 } do
    t.eq(text(v, 17, 762939453125, 100), string.format("%.17g,", v / 131072))
  end
end)

-- Counts of empty cells by column.
local function empties(rs)
  local n = {}
  for _, name in ipairs(ds.taxi_header) do n[name] = 0 end
  for _, r in ipairs(rs) do
    for j, cell in ipairs(r) do
      if cell == "" then n[ds.taxi_header[j]] = n[ds.taxi_header[j]] + 1 end
    end
  end
  return n
end

t.test("taxi CSV: a small fraction of cells empty, only in some columns", function()
  for name, count in pairs(empties(rows)) do
    if NULLABLE[name] then
      t.truthy(count >= 0.003 * NROWS and count <= 0.02 * NROWS, name .. ": " .. count .. " empty")
    else
      t.eq(count, 0, name .. ": empty cells")
    end
  end
  -- some in the first rows too (what readers infer types from)
  local first = {}
  table.move(rows, 1, 1500, 1, first)
  for name, count in pairs(empties(first)) do
    if NULLABLE[name] then t.truthy(count > 0, name .. ": empty in the first 1500 rows") end
  end
end)

t.test("taxi CSV: the values have the real files' shapes", function()
  local zeros, kinds = 0, { payment_type = {}, VendorID = {}, RateCodeID = {}, store_and_fwd_flag = {} }
  for i, r in ipairs(rows) do
    local pickup, dropoff = r[2], r[3]
    t.truthy(pickup:match("^2015%-01%-%d%d %d%d:%d%d:%d%d$"), pickup)
    t.truthy(dropoff:match("^2015%-0[12]%-%d%d %d%d:%d%d:%d%d$") and dropoff > pickup, dropoff)
    t.truthy(r[5]:match("^%d+%.%d%d$"), "trip_distance " .. r[5])
    t.truthy(r[15] == "0.5" and r[18] == "0.3", "mta_tax and improvement_surcharge")
    -- total_amount, the sum of the parts (in cents; an empty tip is 0)
    local cents = 0
    for j = 13, 18 do cents = cents + math.floor((tonumber(r[j]) or 0) * 100 + 0.5) end
    if cents ~= math.floor(tonumber(r[19]) * 100 + 0.5) then
      error("row " .. i .. ": total " .. r[19] .. " is not the sum of its parts")
    end
    for _, j in ipairs { 6, 10 } do -- (longitude, latitude) of pickup and dropoff
      local lon, lat = tonumber(r[j]), tonumber(r[j + 1])
      if lon == 0 then zeros = zeros + 1
      elseif lon then t.truthy(lon > -74.5 and lon < -73.5, "longitude " .. r[j]) end
      if lat and lat ~= 0 then t.truthy(lat > 40.3 and lat < 41.2, "latitude " .. r[j + 1]) end
    end
    for name, seen in pairs(kinds) do
      for j, h in ipairs(ds.taxi_header) do if h == name then seen[r[j]] = true end end
    end
  end
  t.truthy(zeros > 0.01 * NROWS and zeros < 0.05 * NROWS, "some coordinates 0: " .. zeros)
  t.eq(kinds.payment_type, { ["1"] = true, ["2"] = true, ["3"] = true, ["4"] = true })
  t.eq(kinds.VendorID, { ["1"] = true, ["2"] = true })
  t.eq(kinds.store_and_fwd_flag, { N = true, Y = true, [""] = true })
  t.eq(kinds.RateCodeID, { ["1"] = true, ["2"] = true, ["3"] = true, ["4"] = true, ["5"] = true,
                           ["6"] = true, [""] = true })
end)

-- pandas (Debian's /usr/bin/python3) reads the file: its null counts and
-- group means are the ones counted here.
local PY = "/usr/bin/python3"
local function pandas_reads()
  local script = dir .. "/read.py"
  t.write(script, [==[
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
print("rows", len(df))
for c, n in df.isnull().sum().items(): print("null", c, n)
for c, d in df.dtypes.items(): print("dtype", c, d)
g = df[["payment_type", "total_amount", "trip_distance"]].groupby("payment_type").agg(
    {"total_amount": "mean", "trip_distance": "mean"})
for p, r in g.iterrows(): print("mean", p, repr(r.total_amount), repr(r.trip_distance))
]==])
  local code, out, err = t.sh(PY .. " " .. script .. " " .. path)
  t.eq(code, 0, err)
  local got = { null = {}, dtype = {}, mean = {} }
  for line in out:gmatch("[^\n]+") do
    local what, a, b, c = line:match("^(%S+) (%S+) ?(%S*) ?(%S*)$")
    if what == "rows" then got.rows = tonumber(a)
    elseif what == "mean" then got.mean[tonumber(a)] = { tonumber(b), tonumber(c) }
    else got[what][a] = what == "null" and tonumber(b) or b end
  end
  t.eq(got.rows, NROWS)
  t.eq(got.null, empties(rows))
  t.eq(got.dtype.passenger_count, "float64", "an integer column with empty cells")
  t.eq(got.dtype.payment_type, "int64")
  t.eq(got.dtype.store_and_fwd_flag, "object")
  local sums = {}
  for _, r in ipairs(rows) do
    local s = sums[tonumber(r[12])] or { 0, 0, 0 }
    s[1], s[2], s[3] = s[1] + tonumber(r[19]), s[2] + tonumber(r[5]), s[3] + 1
    sums[tonumber(r[12])] = s
  end
  for p, s in pairs(sums) do
    local m = got.mean[p]
    t.truthy(m and math.abs(m[1] - s[1] / s[3]) < 1e-9 and math.abs(m[2] - s[2] / s[3]) < 1e-9,
             "payment_type " .. p .. " means")
  end
end
if t.sh(PY .. " -c 'import pandas'") == 0 then
  t.test("taxi CSV: pandas reads it, with the same nulls and group means", pandas_reads)
else
  print("SKIP datasets_test: pandas reading the taxi CSV (no pandas in " .. PY ..
        ": apt-get install python3-pandas)")
end

t.test("taxi CSV: the test's files removed", function()
  t.eq(t.sh("rm -r '" .. dir .. "'"), 0)
end)
