-- Makes the "df" data once: NYC-taxi-shaped CSVs (dusk.datasets.
-- write_taxi_csv, seeds 1..nfiles), DIR/yellow_tripdata_2015-01_partN.csv,
-- about 'total' bytes in all (the rows a file from the bytes a row of a
-- sample), written in parallel (a Delayed task a file).  DIR/gen_taxi.manifest
-- records each file's rows, seed and size: a file already there as
-- recorded is kept; files of this name pattern not in the set are removed
-- (so that DIR/*.csv is the set).
--
--   LUA_PATH_5_4='stdlib/?.lua;;' dusk bench/gen_taxi.lua DIR [nfiles=8] [total=1GiB]

local io_ = require "dusk.io"
local ds = require "dusk.datasets"
local now = require("dusk.core").now

local dir = assert(arg[1], "usage: dusk bench/gen_taxi.lua DIR [nfiles=8] [total_bytes=1GiB]")
local nfiles = math.tointeger(tonumber(arg[2] or 8))
assert(nfiles and nfiles >= 1, "nfiles: a positive integer")
local total = io_.parse_bytes(arg[3] or "1GiB")
local t0 = now()

assert(os.execute(string.format("mkdir -p '%s'", dir:gsub("'", "'\\''"))))

-- the rows a file: the bytes a row of 20,000 rows of seed 1
local SAMPLE = 20000
local header_bytes = #table.concat(ds.taxi_header, ",") + 1
local sample = os.tmpname()
ds.write_taxi_csv(sample, SAMPLE, { seed = 1 })
local row_bytes = (io_.size(sample) - header_bytes) / SAMPLE
os.remove(sample)
local rows = math.max(1, math.floor((total / nfiles - header_bytes) / row_bytes + 0.5))

-- names sorted as numbered: zero-padded once there are 10 or more
local width = #tostring(nfiles)
local function name(i) return string.format("yellow_tripdata_2015-01_part%0" .. width .. "d.csv", i) end

local manifest_path = dir .. "/gen_taxi.manifest"
local recorded = {}
local mf = io.open(manifest_path)
if mf then
  for line in mf:lines() do
    local file, r, seed, size = line:match("^(%S+) (%d+) (%d+) (%d+)$")
    if file then recorded[file] = { rows = tonumber(r), seed = tonumber(seed), size = tonumber(size) } end
  end
  mf:close()
end

local gen = dusk.delayed(function(path, n, seed)
  require("dusk.datasets").write_taxi_csv(path, n, { seed = seed })
  local f = assert(io.open(path, "rb"))
  local size = f:seek("end")
  f:close()
  return size
end, { name = "gen_taxi" })

local wanted, sizes, todo, kept = {}, {}, {}, 0
for i = 1, nfiles do
  local file = name(i)
  wanted[file] = true
  local r = recorded[file]
  local size = io_.size(dir .. "/" .. file)
  if r and r.rows == rows and r.seed == i and size == r.size then
    sizes[i], kept = size, kept + 1
  else
    todo[#todo + 1] = { i = i, task = gen(dir .. "/" .. file, rows, i) }
  end
end
if #todo > 0 then
  local tasks = {}
  for j, w in ipairs(todo) do tasks[j] = w.task end
  for j, size in ipairs(dusk.delayed(tasks):compute()) do sizes[todo[j].i] = size end
end

local removed = 0
for _, path in ipairs(io_.expand(dir .. "/yellow_tripdata_2015-01_part*.csv")) do
  if not wanted[path:match("[^/]+$")] then
    assert(os.remove(path))
    removed = removed + 1
  end
end

local out, bytes = {}, 0
for i = 1, nfiles do
  out[i] = string.format("%s %d %d %d", name(i), rows, i, sizes[i])
  bytes = bytes + sizes[i]
end
mf = assert(io.open(manifest_path, "w"))
mf:write(table.concat(out, "\n"), "\n")
assert(mf:close())

print(string.format("%s: %d files of %d rows, %.1f MiB in all: %d written, %d kept%s (%.1f s)",
                    dir, nfiles, rows, bytes / 2 ^ 20, #todo, kept,
                    removed > 0 and string.format(", %d others removed", removed) or "",
                    now() - t0))
