-- dusk.array's storage against Python's own readers and writers (Debian's
-- numpy, zarr and h5py at test time): what dusk writes Python reads, and
-- what Python writes from it dusk reads back, block by block, with uneven
-- chunks; files that are not there or not whole are errors naming them.

local t = ...
local da = dusk.array
local nda = dusk.ndarray

local dir = t.tmpdir()
local x = da.random.random({ 37, 23 }, { chunks = { 10, 7 }, seed = 5 })
local xi = da.random.randint(-1000, 1000, { 19, 5, 4 }, { chunks = { 6, 2, 3 }, seed = 9 }):astype("int32")
local X, XI = x:compute(), xi:compute()

local function py(script)
  local f = dir .. "/script.py"
  t.write(f, "import sys, numpy as np\n" .. script)
  local code, out, err = t.sh("/usr/bin/python3 " .. f)
  assert(code == 0, "python failed: " .. err)
  return out
end

local function same(a, b, what)
  t.eq(table.concat(a.shape, ","), table.concat(b.shape, ","), what .. ": shape")
  t.eq(a.dtype, b.dtype, what .. ": dtype")
  t.eq(nda.abs(a - b):max(), a.dtype == "bool" and false or (a.dtype:find("float") and 0.0 or 0), what)
end

t.test("npy: written by dusk, read by numpy, and back", function()
  x:to_npy(dir .. "/x.npy")
  xi:to_npy(dir .. "/xi.npy")
  py(string.format([[
a = np.load("%s/x.npy"); np.save("%s/x2.npy", a * 2)
b = np.load("%s/xi.npy"); assert b.dtype == np.int32; np.save("%s/xi2.npy", np.asfortranarray(b) + 1)
np.save("%s/xbig.npy", (a * 3).astype(">f8"))
]], dir, dir, dir, dir, dir))
  same(da.from_npy(dir .. "/x2.npy", { chunks = { 9, 9 } }):compute(), X * 2, "x * 2")
  same(da.from_npy(dir .. "/xi2.npy", { chunks = { 5, 5, 5 } }):compute(), XI + 1, "Fortran order")
  same(da.from_npy(dir .. "/xbig.npy"):compute(), X * 3, "big-endian")
end)

t.test("zarr: written by dusk, read by zarr, and back", function()
  x:to_zarr(dir .. "/x.zarr")
  py(string.format([[
import zarr
z = zarr.open("%s/x.zarr", mode="r")
assert z.chunks == (10, 7), z.chunks
zarr.save_array("%s/x2.zarr", z[:] * 2, chunks=(8, 8))
zarr.save_array("%s/xz.zarr", z[:] - 1, chunks=(16, 5), compressor=zarr.Zstd(level=3))
]], dir, dir, dir))
  local y = da.from_zarr(dir .. "/x2.zarr")
  t.eq(y.chunks[1][1], 8, "the store's chunks")
  same(y:compute(), X * 2, "blosc")
  same(da.from_zarr(dir .. "/xz.zarr"):compute(), X - 1, "zstd")
end)

t.test("hdf5: written by dusk, read by h5py, and back; the seeds' centring", function()
  xi:to_hdf5(dir .. "/x.h5", "/data")
  py(string.format([[
import h5py
with h5py.File("%s/x.h5", "r") as f:
    d = f["/data"][:]
    assert d.dtype == np.int32
with h5py.File("%s/y.h5", "w") as f:
    f.create_dataset("/grid", data=(d * 0.5), chunks=(4, 5, 2))
]], dir, dir))
  local y = da.from_hdf5(dir .. "/y.h5", "/grid")
  same(y:compute(), XI:astype("float64") * 0.5, "h5py's dataset")
  local small = da.from_hdf5(dir .. "/y.h5", "/grid", { chunks = "1KiB" })
  for k, size in ipairs({ 4, 5, 2 }) do
    local c = small.chunks[k]
    for j = 1, #c - 1 do t.eq(c[j] % size, 0, "blocks aligned to the dataset's chunks along axis " .. k) end
  end
  t.truthy(small.npartitions > 1, "several blocks")
  same(small:compute(), XI:astype("float64") * 0.5, "in small blocks")
  local c = y - y:mean { axis = 2, keepdims = true }
  local want = XI:astype("float64") * 0.5
  same(c:compute(), want - want:mean { axis = 2, keepdims = true }, "centred")
end)

t.test("binary: to_binary and read_binary", function()
  x:to_binary(dir .. "/bin")
  local y = da.read_binary(dir .. "/bin")
  t.eq(y.chunks[1][4], 7, "the chunks kept")
  same(y:compute(), X, "read back")
end)

t.test("a file that is not there, or not whole, is an error naming it", function()
  t.raises(dir .. "/nothing.npy", function() local a = da.from_npy(dir .. "/nothing.npy"); return a end)
  local f = io.open(dir .. "/x.npy", "rb")
  local bytes = f:read("a")
  f:close()
  t.write(dir .. "/cut.npy", bytes:sub(1, #bytes // 2))
  t.raises("cut.npy", function() return da.from_npy(dir .. "/cut.npy"):sum():compute() end)
  t.raises("nothing.zarr", function() local a = da.from_zarr(dir .. "/nothing.zarr"); return a end)
  t.raises("/nope", function() local a = da.from_hdf5(dir .. "/x.h5", "/nope"); return a end)
end)

t.test("a failed write leaves nothing behind", function()
  local bad = x:map_blocks(function(b) error("no block for you") end)
  t.raises("no block for you", function() bad:to_npy(dir .. "/bad.npy") end)
  local _, out = t.sh("ls -A " .. dir .. " | grep -c bad || true")
  t.eq(out:gsub("%s", ""), "0", "no file, no temporary")
end)

t.test("writers check first and leave no temporary behind; stores are readable by others", function()
  local d = dir .. "/w"
  os.execute("mkdir -p " .. d .. "/keep.zarr " .. d .. "/precious && touch " .. d .. "/keep.npy")
  t.raises("to_npy: unknown option", function() da.ones({ 3 }):to_npy(d .. "/x.npy", { bogus = 1 }) end)
  t.raises("Is a directory", function() da.ones({ 3 }):to_npy(d .. "/keep.zarr") end)
  t.raises("not a store of this kind", function() da.ones({ 3 }):to_zarr(d .. "/keep.npy") end)
  t.raises("array_storage_test.lua:", function() da.ones({ 3 }):to_zarr(d .. "/precious") end)
  local _, listing = t.sh("ls -A " .. d)
  t.eq(listing, "keep.npy\nkeep.zarr\nprecious\n", "nothing else made")
  da.ones({ 3 }):to_zarr(d .. "/good.zarr")
  local _, mode = t.sh("stat -c %a " .. d .. "/good.zarr")
  t.eq(mode, "755\n")
end)

t.test("to_hdf5 adds its dataset to a file, keeping the others (as Dask's)", function()
  local f = dir .. "/many.h5"
  da.ones({ 3 }):to_hdf5(f, "/g/a")
  local b = da.ones({ 3 }) * 2
  b:to_hdf5(f, "/g/b")
  local c = da.ones({ 4 }) * 3
  c:to_hdf5(f, "c")
  local a2 = da.ones({ 2 }) * 5
  a2:to_hdf5(f, "/g/a")
  same(da.from_hdf5(f, "/g/a"):compute(), nda.full({ 2 }, 5.0), "replaced")
  same(da.from_hdf5(f, "/g/b"):compute(), nda.full({ 3 }, 2.0), "kept")
  same(da.from_hdf5(f, "c"):compute(), nda.full({ 4 }, 3.0), "kept")
  t.eq(py(string.format("import h5py\nf = h5py.File(%q, 'r')\nprint(sorted(f.keys()), sorted(f['g'].keys()))", f)),
       "['c', 'g'] ['a', 'b']\n", "h5py sees all three")
  t.write(dir .. "/text.h5", "not hdf5")
  t.raises("exists and is not an HDF5 file: not replaced", function() da.ones({ 3 }):to_hdf5(dir .. "/text.h5", "x") end)
  t.eq(t.read(dir .. "/text.h5"), "not hdf5")
end)

