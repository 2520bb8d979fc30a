-- dusk without HDF5: run with DUSK_HDF5=none, or DUSK_HDF5=FILE naming no
-- library (tests/meson.build runs both).  Every HDF5 operation of
-- dusk.arrayio and dusk.array raises "HDF5 is not available" with the
-- reason, naming the file and leaving none behind; everything else works.
local t = ...
local aio = require "dusk.arrayio"
local da = dusk.array

local forced = assert(os.getenv("DUSK_HDF5"), "run with DUSK_HDF5 set (tests/meson.build)")
local why = forced == "none" and "HDF5 is not available: DUSK_HDF5=none"
            or "HDF5 is not available: " .. forced .. ": cannot open shared object file"
local dir = t.tmpdir()

local function files_in(d)
  local _, out = t.sh("ls -A " .. d)
  return out
end

t.test("every dusk.arrayio HDF5 function raises why, naming the file", function()
  local f = dir .. "/a.h5"
  t.raises(f .. ": " .. why, aio.h5_info, f, "/x")
  t.raises(f .. ": " .. why, aio.h5_read, f, "/x")
  t.raises(f .. ": " .. why, aio.h5_create, f, "/x", "float64", { 3 })
  t.eq(files_in(dir), "", "no temporary file")
end)

t.test("from_hdf5 and to_hdf5 raise why, and again at the next call", function()
  local f = dir .. "/b.h5"
  t.raises("from_hdf5: " .. f .. ": " .. why, da.from_hdf5, f, "/x")
  local x = da.arange(0, 10, { chunks = 3 })
  t.raises("to_hdf5: " .. f .. ": " .. why, x.to_hdf5, x, f, "/x")
  t.raises("from_hdf5: " .. f .. ": " .. why, da.from_hdf5, f, "/x", { chunks = 4 })
  t.eq(files_in(dir), "", "no file written")
end)

t.test("the process keeps working: arrays and the other formats", function()
  local x = da.arange(0, 10, { chunks = 3 })
  t.eq(x:sum():compute(), 45)
  local f = dir .. "/c.npy"
  (x * 2):to_npy(f)
  t.eq(da.from_npy(f, { chunks = 4 }):sum():compute(), 90)
  os.remove(f)
end)
