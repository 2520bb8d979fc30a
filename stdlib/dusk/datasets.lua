-- dusk.datasets: deterministic sample data for examples, tests and
-- benchmarks, shaped like the data of the Dask tutorial.
--
--   local ds = dusk.datasets
--   for rec in ds.accounts(1000, {seed = 1}) do ... end
--   ds.write_accounts_json("accounts.1.json", 250000, {seed = 1})
--   ds.write_taxi_csv("yellow_tripdata_2015-01.csv", 1000000, {seed = 1})
--
-- The same seed gives the same data on every machine: the generator is a
-- SplitMix64 of its own, not math.random, so it neither depends on nor
-- disturbs the global random state.

local M = {}

local NAMES = {
  "Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah",
  "Ingrid", "Jerry", "Kevin", "Laura", "Michael", "Norbert", "Oliver",
  "Patricia", "Quinn", "Ray", "Sarah", "Tim", "Ursula", "Victor", "Wendy",
  "Xavier", "Yvonne", "Zelda",
}

-- A SplitMix64 stream: returns a function giving its next 64 bits (a Lua
-- integer, of any sign; ">>" is logical, so its bit fields read as they
-- are).
local function bits64(seed)
  local state = seed
  return function()
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    return z ~ (z >> 31)
  end
end

-- The same stream as a function giving integers in [lo, hi].
local function rng(seed)
  local next64 = bits64(seed)
  return function(lo, hi)
    return lo + (next64() >> 1) % (hi - lo + 1) -- z >> 1 >= 0
  end
end

-- Iterates over 'n' account records {id=, name=, transactions={{
-- ["transaction-id"]=, amount=}, ...}}, 1 to 11 transactions each (about
-- 300 bytes of JSON a record, as the tutorial's).  Each account has a
-- typical amount (sometimes negative) that its transactions scatter
-- around.
function M.accounts(n, opts)
  local random = rng((opts and opts.seed) or 0)
  local id, tid = 0, 0
  return function()
    if id >= n then return nil end
    id = id + 1
    local name = NAMES[random(1, #NAMES)]
    local typical = random(-100, 400)
    local txs = {}
    for i = 1, random(1, 11) do
      tid = tid + 1
      txs[i] = { ["transaction-id"] = tid, amount = typical + random(-50, 50) }
    end
    return { id = id, name = name, transactions = txs }
  end
end

-- One account record as a line of JSON, keys in a fixed order.
function M.account_json(rec)
  local parts = {}
  for i, tx in ipairs(rec.transactions) do
    parts[i] = string.format('{"transaction-id": %d, "amount": %d}',
                             tx["transaction-id"], tx.amount)
  end
  return string.format('{"id": %d, "name": "%s", "transactions": [%s]}',
                       rec.id, rec.name, table.concat(parts, ", "))
end

-- Writes 'n' accounts as JSON lines to 'path'.  Returns the path.
function M.write_accounts_json(path, n, opts)
  local f = assert(io.open(path, "w"))
  for rec in M.accounts(n, opts) do
    f:write(M.account_json(rec), "\n")
  end
  assert(f:close())
  return path
end

---------------------------------------------------------------- NYC taxi trips

-- The 19 columns of the 2015 NYC yellow-cab trip CSVs, in their order.
M.taxi_header = {
  "VendorID", "tpep_pickup_datetime", "tpep_dropoff_datetime", "passenger_count",
  "trip_distance", "pickup_longitude", "pickup_latitude", "RateCodeID",
  "store_and_fwd_flag", "dropoff_longitude", "dropoff_latitude", "payment_type",
  "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
  "improvement_surcharge", "total_amount",
}

-- A row is written as pieces of text, each made once and kept, most with
-- the comma that follows it: a table that makes an entry when first read.
local function cache(make)
  return setmetatable({}, {
    __index = function(t, k)
      local s = make(k)
      t[k] = s
      return s
    end,
  })
end

-- Money from its cents as the real files print it: "12", "14.5", "17.05".
local function money(c)
  if c % 100 == 0 then return string.format("%d", c // 100) end
  if c % 10 == 0 then return string.format("%d.%d", c // 100, c % 100 // 10) end
  return string.format("%d.%02d", c // 100, c % 100)
end

local MONEY = cache(function(c) return money(c) .. "," end)
local TOTAL = cache(function(c) return money(c) .. "\n" end) -- the last column
local EXTRA_MTA = cache(function(c) return money(c) .. ",0.5," end) -- mta_tax 0.5
local TOLLS_SURCHARGE = cache(function(c) return money(c) .. ",0.3," end)
local MILES = cache(function(h) return string.format("%d.%02d,", h // 100, h % 100) end)
-- the day after 2015-01-01 (February's first days for trips that end there)
local DAY = cache(function(d)
  return d < 31 and string.format("2015-01-%02d ", d + 1) or string.format("2015-02-%02d ", d - 30)
end)
local CLOCK = cache(function(s)
  return string.format("%02d:%02d:%02d,", s // 3600, s // 60 % 60, s % 60)
end)
local SMALL = { "1,", "2,", "3,", "4,", "5,", "6," }

-- Coordinates are float32 values as in the real files ("-73.993896484375",
-- "40.750110626220703"): integers in 2^-17 degrees of longitude (the ulp
-- of a float32 from 64 to 128) and 2^-18 of latitude (32 to 64), printed
-- as %.17g prints them -- 15 decimals rounded half to even, trailing
-- zeros dropped -- but by integer arithmetic, the same text everywhere:
-- the exact decimals of f / 2^s are f * 5^s / 10^s.
local LON0, LAT0 = -9697214, 10682630 -- about -73.984, 40.751
-- a hundredth of a mile in those units, along each axis at 40.75 degrees
local LON_MILE, LAT_MILE = 25, 38
-- (pieces of three digits: few enough to stay in the processor's caches)
local DIGITS3 = cache(function(g) return string.format("%03d", g) end)
local LAST3 = cache(function(g) return (string.format("%03d", g):gsub("0+$", "")) .. "," end)
local INTPART = cache(function(i) return string.format("%d.", i) end)
local WHOLE = cache(function(i) return string.format("%d,", i) end)

-- Appends to 'buf' after its 'k'th piece the text of the coordinate
-- v / 2^shift (v an integer, 'five' = 5^shift, 'cut' = 10^(shift - 15));
-- returns the new last index.
local function put_coord(buf, k, v, shift, five, cut)
  if v == 0 then
    buf[k + 1] = "0,"
    return k + 1
  end
  local a = v < 0 and -v or v
  local int = a >> shift
  if int < 10 or int > 99 then -- not two digits before the point: no shortcut
    buf[k + 1] = string.format("%.17g,", v / (1 << shift))
    return k + 1
  end
  local exact = (a & ((1 << shift) - 1)) * five
  local q, r, half = exact // cut, exact % cut, cut // 2
  if r > half or r == half and q & 1 == 1 then q = q + 1 end
  if q == 1000000000000000 then int, q = int + 1, 0 end
  if v < 0 then int = -int end
  if q == 0 then
    buf[k + 1] = WHOLE[int]
    return k + 1
  end
  buf[k + 1] = INTPART[int]
  -- the 15 decimals in groups of three, up to the last that is not 000
  local last = 5
  while q % 1000 == 0 do q, last = q // 1000, last - 1 end
  for i = last, 2, -1 do
    buf[k + i + 1] = i == last and LAST3[q % 1000] or DIGITS3[q % 1000]
    q = q // 1000
  end
  buf[k + 2] = last == 1 and LAST3[q] or DIGITS3[q]
  return k + last + 1
end
local LON = { 17, 762939453125, 100 } -- shift, 5^shift, 10^(shift - 15)
local LAT = { 18, 3814697265625, 1000 }
M._put_coord = put_coord -- for the tests: the same text as %.17g

local JANUARY = 31 * 86400 -- the seconds of January 2015
local BATCH = 4096 -- rows a write

-- Writes a CSV of 'nrows' taxi trips shaped like the NYC yellow cabs' of
-- January 2015 (header M.taxi_header, "\n" line ends) to 'path'; returns
-- the path.  A row:
--
--   2,2015-01-15 19:05:39,2015-01-15 19:23:42,1,1.59,-73.993896484375,
--   40.750110626220703,1,N,-73.974784851074219,40.750617980957031,1,12,1,
--   0.5,3.25,0,0.3,17.05
--
-- Trip distances 0 to 22 miles (mostly 0.3 to 2.5), dropoff a few minutes
-- after pickup, the fare metered from distance and slow minutes (JFK's
-- flat $52 for rate code 2), extras by hour, tips on cards only, tolls now
-- and then, total_amount the sum of the parts; about 1.7% of trips at
-- coordinates exactly 0.  As in real files some cells are empty: about
-- 0.5-1.3% of passenger_count, RateCodeID, store_and_fwd_flag, tip_amount
-- and of each coordinate column (an empty tip counts 0 in the total); the
-- other columns never.  The same seed gives the same bytes everywhere: it
-- is all integer arithmetic.
function M.write_taxi_csv(path, nrows, opts)
  local next64 = bits64((opts and opts.seed) or 0)
  local lon_shift, lon_five, lon_cut = LON[1], LON[2], LON[3]
  local lat_shift, lat_five, lat_cut = LAT[1], LAT[2], LAT[3]
  local f = assert(io.open(path, "wb"))
  f:write(table.concat(M.taxi_header, ","), "\n")
  local buf, k, rows = {}, 0, 0
  for _ = 1, nrows do
    -- the categories, 10 bits each (in 1024ths)
    local a = next64()
    local vendor = (a & 1023) < 470 and 1 or 2
    local u = (a >> 10) & 1023
    local passengers = u < 720 and 1 or u < 860 and 2 or u < 900 and 3 or u < 920 and 4
                       or u < 980 and 5 or 6
    u = (a >> 20) & 1023
    local rate = u < 995 and 1 or u < 1015 and 2 or u < 1017 and 3 or u < 1018 and 4
                 or u < 1023 and 5 or 6
    u = (a >> 30) & 1023
    local payment = u < 635 and 1 or u < 1015 and 2 or u < 1021 and 3 or 4
    local flag = ((a >> 40) & 1023) < 10 and "Y," or "N,"
    local toll_u = (a >> 50) & 1023
    -- which cells are empty: 7 bits a column, in 1 row of 16 (all bits
    -- set in the others: none)
    local nulls = (a >> 60) == 0 and next64() or -1

    -- when, how far
    local b = next64()
    local pickup = (b & 0xFFFFFFFF) % JANUARY
    local m, u1, u2 = (b >> 32) & 1023, (b >> 42) & 1023, (b >> 52) & 1023
    local dist -- hundredths of a mile
    if m < 600 then dist = 30 + (u1 + u2) * 220 // 2046
    elseif m < 880 then dist = 250 + (u1 + u2) * 350 // 2046
    elseif m < 990 then dist = 600 + (u1 + u2) * 700 // 2046
    elseif m < 1020 then dist = 1300 + (u1 + u2) * 900 // 2046
    else dist = 0 end
    local c = next64()
    local speed = c & 1023
    local duration = 60 + speed % 300 + dist * (150 + speed * 300 // 1024) // 100
    local dropoff = pickup + duration

    -- the money, in cents
    local fare, extra = 0, 0
    if rate == 2 then
      fare = 5200
    elseif rate == 5 then
      fare = 1000 + ((c >> 10) & 1023) * 7000 // 1024 // 100 * 100
    else
      local slow = duration * (((c >> 10) & 1023) % 400) // 60000 -- minutes
      fare = (250 + dist * 250 // 100 + slow * 50 + 25) // 50 * 50
      local hour = pickup // 3600 % 24
      if hour >= 20 or hour < 6 then
        extra = 50
      elseif hour >= 16 and (pickup // 86400 + 3) % 7 < 5 then -- 2015-01-01: a Thursday
        extra = 100
      end
    end
    local tip = 0
    if payment == 1 and ((c >> 30) & 1023) >= 100 then
      tip = (fare + extra) * (100 + ((c >> 20) & 1023) * 200 // 1024) // 1000
    end
    if ((nulls >> 21) & 127) < 16 then tip = -1 end -- empty
    local tolls = (toll_u < 40 or dist >= 1000 and toll_u < 300) and 533 or 0

    -- where: now and then nowhere (0, 0), and then at both ends, as in
    -- the real files; now and then at the dropoff only
    local plon, plat, dlon, dlat = 0, 0, 0, 0
    if ((c >> 40) & 1023) >= 18 then
      local d, e = next64(), next64()
      plon = LON0 + (d & 4095) + ((d >> 12) & 4095) + ((d >> 24) & 4095) + ((d >> 36) & 4095) - 8190
      plat = LAT0 + (e & 4095) + ((e >> 12) & 4095) + ((e >> 24) & 4095) + ((e >> 36) & 4095) - 8190
      -- the dropoff: the distance split between the axes, as on a street
      -- grid, and a little noise
      local s = ((d >> 48) & 4095) - 2048
      local side = ((e >> 48) & 1) == 0 and 1 or -1
      dlon = plon + dist * LON_MILE * s // 2048 + ((e >> 49) & 255) - 128
      dlat = plat + side * (dist * LAT_MILE * (2048 - (s < 0 and -s or s)) // 2048)
             + ((e >> 57) & 127) - 64
    end
    if ((c >> 50) & 1023) < 4 then dlon, dlat = 0, 0 end

    buf[k + 1] = SMALL[vendor]
    buf[k + 2] = DAY[pickup // 86400]
    buf[k + 3] = CLOCK[pickup % 86400]
    buf[k + 4] = DAY[dropoff // 86400]
    buf[k + 5] = CLOCK[dropoff % 86400]
    buf[k + 6] = (nulls & 127) < 13 and "," or SMALL[passengers]
    buf[k + 7] = MILES[dist]
    k = k + 7
    if ((nulls >> 28) & 127) < 12 then k = k + 1; buf[k] = ","
    else k = put_coord(buf, k, plon, lon_shift, lon_five, lon_cut) end
    if ((nulls >> 35) & 127) < 12 then k = k + 1; buf[k] = ","
    else k = put_coord(buf, k, plat, lat_shift, lat_five, lat_cut) end
    buf[k + 1] = ((nulls >> 7) & 127) < 10 and "," or SMALL[rate]
    buf[k + 2] = ((nulls >> 14) & 127) < 26 and "," or flag
    k = k + 2
    if ((nulls >> 42) & 127) < 14 then k = k + 1; buf[k] = ","
    else k = put_coord(buf, k, dlon, lon_shift, lon_five, lon_cut) end
    if ((nulls >> 49) & 127) < 14 then k = k + 1; buf[k] = ","
    else k = put_coord(buf, k, dlat, lat_shift, lat_five, lat_cut) end
    buf[k + 1] = SMALL[payment]
    buf[k + 2] = MONEY[fare]
    buf[k + 3] = EXTRA_MTA[extra]
    if tip < 0 then buf[k + 4], tip = ",", 0 else buf[k + 4] = MONEY[tip] end
    buf[k + 5] = TOLLS_SURCHARGE[tolls]
    buf[k + 6] = TOTAL[fare + extra + 50 + tip + tolls + 30]
    k = k + 6

    rows = rows + 1
    if rows == BATCH then
      f:write(table.concat(buf, "", 1, k))
      k, rows = 0, 0
    end
  end
  f:write(table.concat(buf, "", 1, k))
  assert(f:close())
  return path
end

return M
