#!/usr/bin/env dusk
-- Arrays in HDF5, as the seeds centre them: an array written to a dataset,
-- read back in blocks aligned to the dataset's chunks, and centred along
-- its second axis: x - x:mean{axis = 2, keepdims = true}.
--
--   dusk samples/array_hdf5.lua [file.h5]

local da = dusk.array
local path = arg[1] or os.tmpname() .. ".h5"

local grid = (da.arange(0, 4 * 6 * 8, { chunks = 48 }) % 7):reshape({ 4, 6, 8 })
grid:astype("float64"):to_hdf5(path, "/measurements")

local x = da.from_hdf5(path, "/measurements", { chunks = { 2, 3, 8 } })
print(x.shape[1], x.shape[2], x.shape[3], x.dtype, x.npartitions .. " blocks")
local centred = x - x:mean { axis = 2, keepdims = true }
local c = centred:compute()
print("centred means along axis 2 are zero:", math.abs(c:mean { axis = 2 }:max()) < 1e-12)
print("first row:", c:slice(1, {}, 1))
os.remove(path)
