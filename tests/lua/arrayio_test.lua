-- dusk.arrayio: npy, Zarr v2, HDF5 and dusk's binary directories, a chunk
-- at a time.  Files are written by Debian's numpy, zarr and h5py at test
-- time (/usr/bin/python3) and read back by dusk; dusk's files are read by
-- Python, which compares them with the arrays they came from.  A missing
-- Python module skips its tests with a SKIP line (they are not counted).
local t = ...
local aio = require "dusk.arrayio"

local PY = "/usr/bin/python3"
local dir = t.tmpdir()

local function has(module)
  return (t.sh(PY .. " -c 'import " .. module .. "' 2>/dev/null")) == 0
end

-- Runs the Python 'code' (after a prelude of helpers) with 'args';
-- returns its standard output, raising on failure.
local PRELUDE = [[
import sys, math, json
import numpy as np
def lua(v):
    if isinstance(v, (list, tuple)): return "{" + ", ".join(lua(x) for x in v) + "}"
    if isinstance(v, (bool, np.bool_)): return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v): return "(0/0)"
        if math.isinf(v): return "math.huge" if v > 0 else "-math.huge"
        return repr(v)
    return str(v)
def out(name, a):
    a = np.asarray(a)
    print("[%r] = {dtype = %r, shape = %s, value = %s}," % (name, a.dtype.name, lua(list(a.shape)), lua(a.tolist())))
]]
local nscript = 0
local function py(code, ...)
  nscript = nscript + 1
  local file = dir .. "/script" .. nscript .. ".py"
  t.write(file, PRELUDE .. code)
  local args = { PY, file, dir }
  for _, a in ipairs { ... } do args[#args + 1] = a end
  local code_, out, err = t.sh(table.concat(args, " "))
  if code_ ~= 0 then error("python failed: " .. err .. out, 2) end
  return out
end

-- Python's out() lines as a table: name -> {dtype, shape, value}.
local function expected(text)
  return assert(load("return {" .. text .. "}", "=python", "t", { math = math }))()
end

-- The nested values of an array read (a dusk.ndarray, or a dusk.Buffer
-- while that class is not set), with its dtype and shape.
local formats = { float64 = "<d", float32 = "<f", int64 = "<i8", int32 = "<i4", int16 = "<i2", int8 = "<i1",
                  uint64 = "<I8", uint32 = "<I4", uint16 = "<I2", uint8 = "<I1", bool = "<B" }
local function seen(x)
  local dtype, shape, flat
  if x.meta then
    local m = x:meta()
    dtype, shape, flat = m.dtype, m.shape, {}
    local s, fmt, pos = x:bytes(), formats[m.dtype], 1
    while pos <= #s do
      local v
      v, pos = string.unpack(fmt, s, pos)
      if dtype == "bool" then v = v ~= 0 end
      flat[#flat + 1] = v
    end
    local k = 0
    local function nest(d)
      if d > #shape then k = k + 1 return flat[k] end
      local r = {}
      for i = 1, shape[d] do r[i] = nest(d + 1) end
      return r
    end
    return { dtype = dtype, shape = shape, value = nest(1) }
  end
  return { dtype = x.dtype, shape = x.shape, value = x:to_table() }
end

local function same_array(got, want, what)
  got = seen(got)
  t.eq(got.dtype, want.dtype, what .. ": dtype")
  t.eq(got.shape, want.shape, what .. ": shape")
  t.eq(got.value, want.value, what .. ": values")
end

-- A slice of Python's nested value: the region start/count (0-based).
local function region(v, start, count, d)
  d = d or 1
  if d > #start then return v end
  local r = {}
  for i = 1, count[d] do r[i] = region(v[start[d] + i], start, count, d + 1) end
  return r
end

local have_np = has("numpy")
if not have_np then
  print("SKIP arrayio_test: every test (no numpy in " .. PY .. ": apt-get install python3-numpy)")
  return
end

t.test("npy files numpy wrote read back equal, whole and by region", function()
  local want = expected(py([==[
d = sys.argv[1]
cases = {
  "f8": np.arange(12, dtype="<f8").reshape(3, 4) / 4,
  "f8be": np.arange(12, dtype=">f8").reshape(3, 4) - 5.5,
  "f4": np.linspace(-1, 1, 10, dtype="<f4"),
  "f4be": np.array([[1.5, -2.25], [np.nan, np.inf]], dtype=">f4"),
  "i8be": np.array([-(2**62), 2**62, -1], dtype=">i8"),
  "i4": np.arange(-6, 6, dtype="<i4").reshape(2, 3, 2),
  "i4be": np.arange(24, dtype=">i4").reshape(2, 3, 4),
  "i2": np.array([-32768, 32767], dtype="<i2"),
  "u2": np.array([0, 65535], dtype="<u2"),
  "u4": np.array([4294967295, 1], dtype="<u4"),
  "i1": np.array([-128, 127], dtype="|i1"),
  "u1": np.arange(250, 256, dtype="|u1"),
  "b1": np.array([[True, False, True], [False, False, True]]),
  "fortran": np.asfortranarray(np.arange(60, dtype="<i8").reshape(3, 4, 5)),
  "fortran_be": np.asfortranarray(np.arange(6, dtype=">f8").reshape(2, 3)),
  "zerod": np.array(3.25),
  "zerod_i": np.array(-7, dtype=">i4"),
  "empty": np.zeros((0, 3)),
}
for name, a in cases.items():
    np.save("%s/%s.npy" % (d, name), a)
    out(name, a)
# format version 2.0 and 3.0 headers, as numpy writes them when asked
from numpy.lib import format as fmt
for v in [(2, 0), (3, 0)]:
    a = np.arange(6, dtype="<i2").reshape(3, 2)
    with open("%s/v%d.npy" % (d, v[0]), "wb") as f:
        fmt.write_array(f, a, version=v)
    out("v%d" % v[0], a)
]==]))
  local n = 0
  for name, w in pairs(want) do
    local path = dir .. "/" .. name .. ".npy"
    local info = aio.npy_info(path)
    t.eq(info.dtype, w.dtype, name)
    t.eq(info.shape, w.shape, name)
    same_array(aio.npy_read(path), w, name)
    n = n + 1
  end
  t.eq(n, 20, "every case read")
  t.eq(aio.npy_info(dir .. "/fortran.npy").fortran, true)
  t.eq(aio.npy_info(dir .. "/v2.npy").version, "2.0")
  t.eq(aio.npy_info(dir .. "/v3.npy").version, "3.0")
  -- regions: inner boxes of C and Fortran, big-endian files
  for _, c in ipairs {
    { "fortran", { 1, 0, 2 }, { 2, 3, 2 } }, { "fortran", { 0, 3, 0 }, { 3, 1, 5 } },
    { "i4be", { 1, 1, 1 }, { 1, 2, 3 } }, { "f8", { 0, 2 }, { 3, 1 } }, { "f8be", { 2, 0 }, { 1, 4 } },
    { "b1", { 1, 1 }, { 1, 2 } }, { "fortran_be", { 0, 1 }, { 2, 2 } },
  } do
    local name, start, count = c[1], c[2], c[3]
    local w = want[name]
    same_array(aio.npy_read(dir .. "/" .. name .. ".npy", start, count),
               { dtype = w.dtype, shape = count, value = region(w.value, start, count) },
               name .. " region")
  end
end)

t.test("a column of a large C-order matrix is read right (runs, not elements)", function()
  local want = expected(py([==[
d = sys.argv[1]
a = (np.arange(300 * 1000, dtype="<f8").reshape(300, 1000) * 7) % 1001
np.save(d + "/big.npy", a)
out("col", a[17:290, 500:503])
out("row", a[299:300, :])
]==]))
  same_array(aio.npy_read(dir .. "/big.npy", { 17, 500 }, { 273, 3 }), want.col, "columns")
  same_array(aio.npy_read(dir .. "/big.npy", { 299, 0 }, { 1, 1000 }), want.row, "last row")
end)

t.test("npy files dusk wrote read by numpy equal, written by regions from several tasks", function()
  py([==[
d = sys.argv[1]
np.save(d + "/src_f8.npy", np.arange(35, dtype="<f8").reshape(5, 7) - 10.5)
np.save(d + "/src_b.npy", np.array([True, False, False, True]))
np.save(d + "/src_u1.npy", np.arange(6, dtype="|u1").reshape(2, 3))
np.save(d + "/src_s.npy", np.array(-2.5))
np.save(d + "/src_be.npy", np.asfortranarray(np.arange(12, dtype=">i4").reshape(3, 4)))
]==])
  local function copy(src, rows)
    local info = aio.npy_info(dir .. "/src_" .. src .. ".npy")
    local tmp = aio.npy_create(dir .. "/out_" .. src .. ".npy", info.dtype, info.shape)
    if rows and #info.shape > 0 then
      local count = {}
      for d = 1, #info.shape do count[d] = info.shape[d] end
      for r = 0, info.shape[1] - 1, rows do
        local start = { r }
        for d = 2, #info.shape do start[d] = 0 end
        count[1] = math.min(rows, info.shape[1] - r)
        aio.npy_write(tmp, start, aio.npy_read(dir .. "/src_" .. src .. ".npy", start, count))
      end
    else
      local zero = {}
      for d = 1, #info.shape do zero[d] = 0 end
      aio.npy_write(tmp, zero, aio.npy_read(dir .. "/src_" .. src .. ".npy"))
    end
    t.eq(io.open(dir .. "/out_" .. src .. ".npy") == nil, true, "nothing under the name before commit")
    aio.npy_commit(tmp, dir .. "/out_" .. src .. ".npy")
    t.eq(io.open(tmp) == nil, true, "the temporary name is gone")
  end
  copy("f8", 2)
  copy("b", 3)
  copy("u1", 1)
  copy("s")
  copy("be", 2)
  local verdict = py([==[
d = sys.argv[1]
for n in ["f8", "b", "u1", "s", "be"]:
    a, b = np.load("%s/src_%s.npy" % (d, n)), np.load("%s/out_%s.npy" % (d, n))
    ok = a.shape == b.shape and a.dtype.newbyteorder("<") == b.dtype and np.array_equal(a, b)
    print(n, "ok" if ok else "DIFFERENT %r %r" % (a, b))
]==])
  t.eq(verdict, "f8 ok\nb ok\nu1 ok\ns ok\nbe ok\n")
  -- an aborted file leaves nothing
  local tmp = aio.npy_create(dir .. "/never.npy", "int32", { 3 })
  aio.npy_abort(tmp)
  t.eq(io.open(tmp), nil)
  t.eq(io.open(dir .. "/never.npy"), nil)
end)

t.test("a bad npy file is an error naming it and what is wrong", function()
  py([==[
d = sys.argv[1]
np.save(d + "/good.npy", np.arange(100, dtype="<f8"))
raw = open(d + "/good.npy", "rb").read()
open(d + "/trunc_data.npy", "wb").write(raw[:-8])
open(d + "/trunc_head.npy", "wb").write(raw[:40])
open(d + "/magic.npy", "wb").write(b"\x93NUMPX" + raw[6:])
open(d + "/version.npy", "wb").write(raw[:6] + b"\x04\x00" + raw[8:])
open(d + "/text.npy", "wb").write(b"hello, world\n")
open(d + "/empty.npy", "wb").write(b"")
open(d + "/descr.npy", "wb").write(raw.replace(b"'<f8'", b"'<c8'"))
open(d + "/shape.npy", "wb").write(raw.replace(b"(100,)", b"(1OO,)"))
np.save(d + "/structured.npy", np.zeros(3, dtype=[("a", "<i4"), ("b", "<f8")]))
]==])
  for _, c in ipairs {
    { "trunc_data", "truncated .npy file" }, { "trunc_head", "truncated .npy header" },
    { "magic", "not a .npy file" }, { "version", "unsupported .npy format version 4.0" },
    { "text", "not a .npy file" }, { "empty", "truncated .npy file" },
    { "descr", "unsupported dtype '<c8'" }, { "shape", "'shape'" },
    { "structured", "structured dtypes are not supported" }, { "missing", "No such file" },
  } do
    local path = dir .. "/" .. c[1] .. ".npy"
    local err = t.raises(c[2], aio.npy_read, path)
    t.truthy(err:find(path, 1, true), "the message names the file: " .. err)
  end
  t.raises("out of range on axis 0", aio.npy_read, dir .. "/good.npy", { 90 }, { 20 })
  t.raises("a start of 1 axes expected", aio.npy_read, dir .. "/good.npy", { 0, 0 })
end)

if not has("zarr") then
  print("SKIP arrayio_test: the Zarr tests (no zarr in " .. PY .. ": apt-get install python3-zarr)")
else
  t.test("Zarr stores Python's zarr wrote read back equal: blosc, zstd, shuffle, fill values, edges", function()
    local want = expected(py([==[
import zarr, numcodecs
d = sys.argv[1]
def make(name, a, **kw):
    z = zarr.open("%s/%s.zarr" % (d, name), mode="w", shape=a.shape, dtype=a.dtype, **kw)
    z[...] = a
    out(name, a)
    return z
make("blosc", np.arange(35, dtype="<f8").reshape(5, 7) / 3, chunks=(2, 3))
make("zstd", np.arange(40, dtype="<i4").reshape(4, 10) - 20, chunks=(3, 4), compressor=numcodecs.Zstd(level=3))
make("shuffle", np.arange(30, dtype=">i8").reshape(6, 5) * 1000003, chunks=(4, 4),
     compressor=numcodecs.Zstd(level=1), filters=[numcodecs.Shuffle(elementsize=8)])
make("raw_be", np.linspace(0, 1, 9, dtype=">f4").reshape(3, 3), chunks=(2, 2), compressor=None)
make("fortran", np.arange(24, dtype="<i2").reshape(2, 3, 4), chunks=(2, 2, 3), order="F")
make("slash", np.arange(12, dtype="<u2").reshape(3, 4), chunks=(2, 2), dimension_separator="/")
make("bool", np.array([True, False, True, True, False]), chunks=(2,))
make("u1", np.arange(200, 207, dtype="|u1"), chunks=(3,))
make("zerod", np.array(4.5), chunks=())
# missing chunks read as the fill value: NaN, an integer, null (zeros)
z = zarr.open(d + "/missing_nan.zarr", mode="w", shape=(5, 4), chunks=(2, 2), dtype="<f8", fill_value=np.nan)
z[0:2, 0:2] = 1.0
out("missing_nan", z[...])
z = zarr.open(d + "/missing_int.zarr", mode="w", shape=(7,), chunks=(3,), dtype="<i4", fill_value=-3)
z[3:6] = [1, 2, 3]
out("missing_int", z[...])
z = zarr.open(d + "/missing_none.zarr", mode="w", shape=(4,), chunks=(2,), dtype="<i8", fill_value=None)
z[0:2] = [5, 6]
out("missing_none", np.array([5, 6, 0, 0]))
]==]))
    local infos = {
      blosc = { compressor = "blosc", chunks = { 2, 3 } }, zstd = { compressor = "zstd" },
      shuffle = { shuffle = 8 }, fortran = { order = "F" }, slash = { separator = "/" },
      missing_int = { fill_value = -3 }, missing_none = { fill_value = nil },
    }
    local n = 0
    for name, w in pairs(want) do
      local path = dir .. "/" .. name .. ".zarr"
      local info = aio.zarr_info(path)
      t.eq(info.dtype, w.dtype, name)
      t.eq(info.shape, w.shape, name)
      for k, v in pairs(infos[name] or {}) do t.eq(info[k], v, name .. "." .. k) end
      same_array(aio.zarr_read(path), w, name)
      n = n + 1
    end
    t.eq(n, 12)
    t.eq(aio.zarr_info(dir .. "/missing_nan.zarr").fill_value ~= aio.zarr_info(dir .. "/missing_nan.zarr").fill_value,
         true, "a NaN fill value")
    -- one stored chunk at a time, edge chunks cropped
    local w = want.blosc
    for _, c in ipairs { { { 0, 0 }, { 2, 3 } }, { { 4, 6 }, { 1, 1 } }, { { 2, 3 }, { 2, 3 } }, { { 1, 2 }, { 3, 4 } } } do
      same_array(aio.zarr_read(dir .. "/blosc.zarr", c[1], c[2]),
                 { dtype = w.dtype, shape = c[2], value = region(w.value, c[1], c[2]) }, "blosc region")
    end
    w = want.fortran
    same_array(aio.zarr_read(dir .. "/fortran.zarr", { 1, 1, 2 }, { 1, 2, 2 }),
               { dtype = w.dtype, shape = { 1, 2, 2 }, value = region(w.value, { 1, 1, 2 }, { 1, 2, 2 }) }, "F region")
  end)

  t.test("Zarr stores dusk wrote read by Python's zarr equal, chunk by chunk", function()
    py([==[
d = sys.argv[1]
np.save(d + "/z_f8.npy", np.arange(35, dtype="<f8").reshape(5, 7) * 1.5)
np.save(d + "/z_i2.npy", np.arange(-10, 10, dtype="<i2").reshape(4, 5))
np.save(d + "/z_b.npy", np.array([True, False, True]))
np.save(d + "/z_s.npy", np.array(7, dtype="<i8"))
np.save(d + "/z_f4.npy", np.array([[0, 1.5], [10.5, 12]], dtype="<f4"))
]==])
    local function copy(name, chunks, opts)
      local src = dir .. "/z_" .. name .. ".npy"
      local info = aio.npy_info(src)
      local tmp = aio.zarr_create(dir .. "/dz_" .. name .. ".zarr", info.dtype, info.shape, chunks, opts)
      -- one write per chunk row (whole chunks), the last one a short edge
      if #info.shape == 0 then
        aio.zarr_write(tmp, {}, aio.npy_read(src))
      else
        for r = 0, info.shape[1] - 1, chunks[1] do
          local start, count = { r }, { math.min(chunks[1], info.shape[1] - r) }
          for d = 2, #info.shape do start[d], count[d] = 0, info.shape[d] end
          aio.zarr_write(tmp, start, aio.npy_read(src, start, count))
        end
      end
      aio.zarr_commit(tmp, dir .. "/dz_" .. name .. ".zarr")
    end
    copy("f8", { 2, 3 })
    copy("i2", { 3, 2 }, { shuffle = false, separator = "/", level = 5 })
    copy("b", { 2 }, { compressor = "none" })
    copy("s", {})
    -- a store of missing chunks: only its first chunk is written
    local tmp = aio.zarr_create(dir .. "/dz_fill.zarr", "float32", { 4, 4 }, { 2, 2 }, { fill_value = 2.5 })
    aio.zarr_write(tmp, { 0, 0 }, aio.npy_read(dir .. "/z_f4.npy"))
    aio.zarr_commit(tmp, dir .. "/dz_fill.zarr")
    local verdict = py([==[
import zarr
d = sys.argv[1]
for n in ["f8", "i2", "b", "s"]:
    a, z = np.load("%s/z_%s.npy" % (d, n)), zarr.open("%s/dz_%s.zarr" % (d, n), mode="r")
    b = z[...]
    print(n, "ok" if a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) else "DIFFERENT %r" % b)
z = zarr.open(d + "/dz_fill.zarr", mode="r")
want = np.full((4, 4), 2.5, dtype="<f4"); want[0:2, 0:2] = [[0, 1.5], [10.5, 12]]
print("fill", "ok" if z.fill_value == 2.5 and np.array_equal(z[...], want) else "DIFFERENT %r" % z[...])
print(zarr.open(d + "/dz_f8.zarr").compressor.codec_id, zarr.open(d + "/dz_f8.zarr").filters[0].codec_id)
]==])
    t.eq(verdict, "f8 ok\ni2 ok\nb ok\ns ok\nfill ok\nzstd shuffle\n")
    -- dusk reads its own store back too, and refuses a region that is not whole chunks
    local back = aio.zarr_read(dir .. "/dz_i2.zarr", { 1, 1 }, { 2, 3 })
    t.eq(seen(back).value, seen(aio.npy_read(dir .. "/z_i2.npy", { 1, 1 }, { 2, 3 })).value)
    tmp = aio.zarr_create(dir .. "/never.zarr", "float64", { 5, 7 }, { 2, 3 })
    t.raises("is not made of whole chunks", aio.zarr_write, tmp, { 1, 0 },
             aio.npy_read(dir .. "/z_f8.npy", { 1, 0 }, { 2, 7 }))
    t.raises("dtype int16 written to a store of float64", aio.zarr_write, tmp, { 0, 0 },
             aio.npy_read(dir .. "/z_i2.npy", { 0, 0 }, { 2, 3 }))
    aio.zarr_abort(tmp)
    t.eq(io.open(tmp .. "/.zarray"), nil, "abort removes the store")
    -- a commit replaces an older store, never another kind of directory
    tmp = aio.zarr_create(dir .. "/dz_s.zarr", "int64", {}, {})
    aio.zarr_commit(tmp, dir .. "/dz_s.zarr")
    t.eq(seen(aio.zarr_read(dir .. "/dz_s.zarr")).value, 0, "the new store, its chunk missing")
    t.sh("mkdir -p " .. dir .. "/plain")
    tmp = aio.zarr_create(dir .. "/plain", "int64", {}, {})
    t.raises("is not a store of this kind", aio.zarr_commit, tmp, dir .. "/plain")
    aio.zarr_abort(tmp)
  end)

  t.test("a bad Zarr store is an error naming the file", function()
    py([==[
import zarr, numcodecs
d = sys.argv[1]
z = zarr.open(d + "/bad.zarr", mode="w", shape=(4,), chunks=(2,), dtype="<f8")
z[:] = 1
z = zarr.open(d + "/badz.zarr", mode="w", shape=(4,), chunks=(2,), dtype="<f8", compressor=numcodecs.Zstd())
z[:] = 1
z = zarr.open(d + "/gzip.zarr", mode="w", shape=(4,), chunks=(2,), dtype="<f8", compressor=numcodecs.GZip())
open(d + "/bad.zarr/0", "wb").write(b"garbage, not blosc")
raw = open(d + "/badz.zarr/1", "rb").read()
open(d + "/badz.zarr/1", "wb").write(raw[:len(raw) // 2])
import os
os.makedirs(d + "/nometa.zarr", exist_ok=True)
os.makedirs(d + "/json.zarr", exist_ok=True)
open(d + "/json.zarr/.zarray", "w").write('{"zarr_format": 2, "shape": [4,')
os.makedirs(d + "/v3.zarr", exist_ok=True)
open(d + "/v3.zarr/.zarray", "w").write('{"zarr_format": 3, "shape": [4], "chunks": [2], "dtype": "<f8", "compressor": null, "fill_value": 0, "order": "C"}')
]==])
    for _, c in ipairs {
      { "/bad.zarr", "/bad.zarr/0", "corrupt chunk" }, { "/badz.zarr", "/badz.zarr/1", "corrupt chunk" },
      { "/gzip.zarr", "/gzip.zarr/.zarray", "unsupported compressor 'gzip'" },
      { "/nometa.zarr", "/nometa.zarr", "no .zarray" }, { "/json.zarr", "/json.zarr/.zarray", "invalid JSON" },
      { "/v3.zarr", "/v3.zarr/.zarray", "'zarr_format' is not 2" },
    } do
      local err = t.raises(c[3], aio.zarr_read, dir .. c[1])
      t.truthy(err:find(dir .. c[2], 1, true), "names the file: " .. err)
    end
    -- the good chunk of a store with a bad one still reads
    t.eq(seen(aio.zarr_read(dir .. "/bad.zarr", { 2 }, { 2 })).value, { 1.0, 1.0 })
  end)
end

if not has("h5py") then
  print("SKIP arrayio_test: the HDF5 tests (no h5py in " .. PY .. ": apt-get install python3-h5py)")
else
  t.test("HDF5 datasets h5py wrote read back equal: chunked, contiguous, big-endian, bool, 0-d", function()
    local want = expected(py([==[
import h5py
d = sys.argv[1]
cases = {
  "g/chunked": (np.arange(42, dtype="<f8").reshape(6, 7) / 8, (4, 3)),
  "contiguous": (np.arange(24, dtype="<i4").reshape(2, 3, 4) - 12, None),
  "be": (np.arange(10, dtype=">i8") * -3, (3,)),
  "f4": (np.linspace(0, 1, 5, dtype="<f4"), None),
  "bool": (np.array([[True, False], [False, True]]), (1, 2)),
  "u1": (np.arange(250, 256, dtype="|u1"), None),
  "zerod": (np.array(2.5), None),
  "empty": (np.zeros((0, 4)), None),
}
with h5py.File(d + "/py.h5", "w") as f:
    for name, (a, chunks) in cases.items():
        f.create_dataset(name, data=a, chunks=chunks)
        out(name, a)
]==]))
    local path = dir .. "/py.h5"
    local n = 0
    for name, w in pairs(want) do
      local info = aio.h5_info(path, name)
      t.eq(info.dtype, w.dtype, name)
      t.eq(info.shape, w.shape, name)
      same_array(aio.h5_read(path, name), w, name)
      n = n + 1
    end
    t.eq(n, 8)
    t.eq(aio.h5_info(path, "g/chunked").chunks, { 4, 3 })
    t.eq(aio.h5_info(path, "contiguous").chunks, nil)
    local w = want["g/chunked"]
    same_array(aio.h5_read(path, "g/chunked", { 2, 1 }, { 4, 5 }),
               { dtype = w.dtype, shape = { 4, 5 }, value = region(w.value, { 2, 1 }, { 4, 5 }) }, "hyperslab")
  end)

  t.test("HDF5 files dusk wrote read by h5py equal, from several writes", function()
    py([==[
d = sys.argv[1]
np.save(d + "/h_f8.npy", np.arange(30, dtype="<f8").reshape(5, 6) - 0.5)
np.save(d + "/h_b.npy", np.array([False, True, True]))
np.save(d + "/h_s.npy", np.array(-9, dtype="<i4"))
]==])
    local path = dir .. "/dusk.h5"
    local tmp = aio.h5_create(path, "a/b/x", "float64", { 5, 6 }, { 2, 6 })
    for r = 0, 4, 2 do
      local n = math.min(2, 5 - r)
      aio.h5_write(tmp, "a/b/x", { r, 0 }, aio.npy_read(dir .. "/h_f8.npy", { r, 0 }, { n, 6 }))
    end
    t.raises("dtype bool written to dataset 'a/b/x' of float64", aio.h5_write, tmp, "a/b/x", { 0 },
             aio.npy_read(dir .. "/h_b.npy"))
    t.eq(io.open(path), nil, "nothing under the name before commit")
    aio.h5_commit(tmp, path)
    local tb = aio.h5_create(dir .. "/bool.h5", "flags", "bool", { 3 })
    aio.h5_write(tb, "flags", { 0 }, aio.npy_read(dir .. "/h_b.npy"))
    aio.h5_commit(tb, dir .. "/bool.h5")
    local ts = aio.h5_create(dir .. "/scalar.h5", "s", "int32", {})
    aio.h5_write(ts, "s", {}, aio.npy_read(dir .. "/h_s.npy"))
    aio.h5_commit(ts, dir .. "/scalar.h5")
    local verdict = py([==[
import h5py
d = sys.argv[1]
with h5py.File(d + "/dusk.h5", "r") as f:
    x = f["a/b/x"]
    a = np.load(d + "/h_f8.npy")
    print("x", "ok" if x.dtype == a.dtype and x.chunks == (2, 6) and np.array_equal(x[...], a) else "DIFFERENT")
with h5py.File(d + "/bool.h5", "r") as f:
    b = f["flags"][...]
    print("bool", "ok" if b.dtype == np.bool_ and b.tolist() == [False, True, True] else "DIFFERENT %r" % b)
with h5py.File(d + "/scalar.h5", "r") as f:
    s = f["s"][()]
    print("scalar", "ok" if f["s"].shape == () and s == -9 and f["s"].dtype == np.int32 else "DIFFERENT")
]==])
    t.eq(verdict, "x ok\nbool ok\nscalar ok\n")
  end)

  t.test("a bad HDF5 file or dataset is an error naming the file", function()
    py([==[
d = sys.argv[1]
open(d + "/noth5.h5", "wb").write(b"not an HDF5 file at all" * 100)
import h5py
with h5py.File(d + "/ok.h5", "w") as f:
    f.create_dataset("x", data=np.arange(1000.0), chunks=(100,))
    f.create_dataset("str", data=np.array([b"ab", b"cd"]))
raw = open(d + "/ok.h5", "rb").read()
open(d + "/trunc.h5", "wb").write(raw[:len(raw) // 3])
]==])
    local err = t.raises("cannot open as an HDF5 file", aio.h5_read, dir .. "/noth5.h5", "x")
    t.truthy(err:find(dir .. "/noth5.h5", 1, true))
    t.raises(dir .. "/ok.h5: no dataset 'y'", aio.h5_read, dir .. "/ok.h5", "y")
    t.raises("dataset 'str' has a type dusk has no dtype for", aio.h5_info, dir .. "/ok.h5", "str")
    err = t.raises(dir .. "/trunc.h5", aio.h5_read, dir .. "/trunc.h5", "x")
    t.raises("out of range on axis 0", aio.h5_read, dir .. "/ok.h5", "x", { 950 }, { 100 })
    t.raises(dir .. "/missing.h5", aio.h5_info, dir .. "/missing.h5", "x")
  end)
end

t.test("binary directories: chunk frames round-trip; a corrupt frame names its file", function()
  py([==[
d = sys.argv[1]
np.save(d + "/b_src.npy", np.arange(5 * 7 * 3, dtype="<i8").reshape(5, 7, 3) - 50)
np.save(d + "/b_big.npy", np.sin(np.arange(20000, dtype="<f8")))
]==])
  local src = dir .. "/b_src.npy"
  local chunks = { { 2, 2, 1 }, { 4, 3 }, { 3 } }
  local tmp = aio.binary_create(dir .. "/out.bin", "int64", { 5, 7, 3 }, chunks)
  local r0 = 0
  for i, rn in ipairs(chunks[1]) do
    local c0 = 0
    for j, cn in ipairs(chunks[2]) do
      aio.binary_write(tmp, { i - 1, j - 1, 0 }, aio.npy_read(src, { r0, c0, 0 }, { rn, cn, 3 }))
      c0 = c0 + cn
    end
    r0 = r0 + rn
  end
  t.raises("is not a int64 chunk of the shape", aio.binary_write, tmp, { 0, 0, 0 },
           aio.npy_read(src, { 0, 0, 0 }, { 1, 4, 3 }))
  aio.binary_commit(tmp, dir .. "/out.bin")
  t.eq(aio.binary_info(dir .. "/out.bin"), { dtype = "int64", shape = { 5, 7, 3 }, chunks = chunks })
  t.eq(seen(aio.binary_read(dir .. "/out.bin", { 2, 1, 0 })).value, seen(aio.npy_read(src, { 4, 4, 0 }, { 1, 3, 3 })).value)
  t.eq(seen(aio.binary_read(dir .. "/out.bin", { 0, 0, 0 })).value, seen(aio.npy_read(src, { 0, 0, 0 }, { 2, 4, 3 })).value)
  t.raises("no chunk 3 on axis 0", aio.binary_read, dir .. "/out.bin", { 3, 0, 0 })
  -- a large chunk is zstd-compressed; flipping a byte breaks its checksum
  local tb = aio.binary_create(dir .. "/big.bin", "float64", { 20000 }, { { 20000 } })
  aio.binary_write(tb, { 0 }, aio.npy_read(dir .. "/b_big.npy"))
  aio.binary_commit(tb, dir .. "/big.bin")
  t.eq(seen(aio.binary_read(dir .. "/big.bin", { 0 })).value, seen(aio.npy_read(dir .. "/b_big.npy")).value)
  local file = dir .. "/big.bin/0"
  local s = t.read(file)
  t.truthy(#s < 160000, "compressed: " .. #s)
  t.write(file, s:sub(1, 100) .. string.char((s:byte(101) + 1) % 256) .. s:sub(102))
  local err = t.raises("corrupt chunk", aio.binary_read, dir .. "/big.bin", { 0 })
  t.truthy(err:find(file, 1, true), err)
  t.write(file, s:sub(1, #s - 10))
  t.raises(file .. ": corrupt chunk", aio.binary_read, dir .. "/big.bin", { 0 })
  t.raises("not a dusk binary array", aio.binary_info, dir)
end)
