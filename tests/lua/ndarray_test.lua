-- dusk.ndarray against numpy: every case is computed by dusk and by numpy
-- (Debian's /usr/bin/python3 running tests/lua/ndarray_expected.py) on
-- the same arrays, sent to it exactly; results must agree in shape, dtype
-- and values (integers and booleans exactly, floats to a relative 1e-13,
-- float32 to 1e-6), and tostring(a) must be numpy's repr exactly.

local t = ...
local nda = dusk.ndarray
local json = dusk.json
local core = require "dusk.core"
local script = (debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "ndarray_expected.py"

local function grid(shape, f, dtype)
  local n = 1
  for _, s in ipairs(shape) do n = n * s end
  local flat = {}
  for k = 0, n - 1 do flat[k + 1] = f(k) end
  return nda.array(flat, dtype):reshape(shape)
end

local nan, inf = 0 / 0, math.huge
local A = grid({ 3, 4 }, function(k) return k / 7 - 3 end)
local I = grid({ 3, 4 }, function(k) return (k * 37) % 23 - 11 end)
local I32 = I:astype("int32")
local U8 = grid({ 12 }, function(k) return k * 23 % 256 end, "uint8")
local F32 = grid({ 3, 4 }, function(k) return k * 0.1 end, "float32")
local B = (I % 3):eq(0)
local C3 = grid({ 2, 3, 4 }, function(k) return (k ^ 1.5) % 17 end)
local NAN = nda.array({ 1.0, nan, 3.0, -2.0, nan })
local NEG = nda.array({ -7, -3, 3, 7 })
local NEGF = nda.array({ -7.5, -3.0, 3.0, 7.5 })
local BIG = nda.array({ math.maxinteger, math.mininteger })
local E = nda.zeros({ 0 })
local E2 = nda.zeros({ 0, 3 })
local MIX = nda.array({ 1e-5, 1.0, 123456.789, -0.0, nan, -inf })

local arrays = {
  a = A, i = I, i32 = I32, u8 = U8, f32 = F32, b = B, c3 = C3, nan = NAN,
  neg = NEG, negf = NEGF, big = BIG, e = E, e2 = E2, mix = MIX,
}

-- Each case: name, the dusk computation, numpy's expression.
local cases = {
  -- constructors
  { "array nested", function() return nda.array({ { 1, 2 }, { 3, 4 } }) end, "np.array([[1, 2], [3, 4]])" },
  { "array floats", function() return nda.array({ 1, 2.5 }) end, "np.array([1, 2.5])" },
  { "array bools", function() return nda.array({ true, false }) end, "np.array([True, False])" },
  { "array dtype", function() return nda.array({ 1, 2 }, "float32") end, "np.array([1, 2], np.float32)" },
  { "array 0-d", function() return nda.array(7) end, "np.array(7)" },
  { "array empty", function() return nda.array({}) end, "np.array([])" },
  { "zeros", function() return nda.zeros({ 2, 3 }) end, "np.zeros((2, 3))" },
  { "zeros int32", function() return nda.zeros(4, "int32") end, "np.zeros(4, np.int32)" },
  { "ones bool", function() return nda.ones({ 2 }, "bool") end, "np.ones(2, bool)" },
  { "full int", function() return nda.full({ 2, 2 }, 7) end, "np.full((2, 2), 7)" },
  { "full float32", function() return nda.full({ 3 }, 1.5, "float32") end, "np.full(3, 1.5, np.float32)" },
  { "empty shape", function() return nda.empty({ 2, 0 }) end, "np.zeros((2, 0))" },
  { "arange", function() return nda.arange(0, 10) end, "np.arange(0, 10)" },
  { "arange step", function() return nda.arange(3, 40, 4) end, "np.arange(3, 40, 4)" },
  { "arange negative step", function() return nda.arange(10, 0, -3) end, "np.arange(10, 0, -3)" },
  { "arange float step", function() return nda.arange(0, 1, 0.1) end, "np.arange(0, 1, 0.1)" },
  { "arange float start", function() return nda.arange(0.5, 5) end, "np.arange(0.5, 5)" },
  { "arange stop only", function() return nda.arange(5) end, "np.arange(5)" },
  { "arange dtype", function() return nda.arange(0, 6, 2, "int32") end, "np.arange(0, 6, 2, dtype=np.int32)" },
  { "arange empty", function() return nda.arange(5, 1) end, "np.arange(5, 1)" },
  -- arithmetic and numpy's promotion
  { "add", function() return A + I end, "a + i" },
  { "sub scalar", function() return A - 1 end, "a - 1" },
  { "scalar sub", function() return 2 - A end, "2 - a" },
  { "mul", function() return A * A end, "a * a" },
  { "div", function() return A / 3 end, "a / 3" },
  { "int div is float64", function() return I / 2 end, "i / 2" },
  { "int floordiv", function() return I // 3 end, "i // 3" },
  { "int mod", function() return I % 5 end, "i % 5" },
  { "floordiv of negatives", function() return NEG // -2 end, "neg // -2" },
  { "mod of negatives", function() return NEG % -3 end, "neg % -3" },
  { "mod by positive", function() return NEG % 3 end, "neg % 3" },
  { "float floordiv", function() return NEGF // 2 end, "negf // 2" },
  { "float mod", function() return NEGF % -2 end, "negf % -2" },
  { "scalar mod", function() return 10 % NEG end, "10 % neg" },
  { "pow", function() return A ^ 2 end, "a ** 2" },
  { "int pow", function() return I ^ 2 end, "i ** 2" },
  { "neg", function() return -A end, "-a" },
  { "int neg", function() return -I end, "-i" },
  { "int32 + 1 stays int32", function() return I32 + 1 end, "i32 + np.int32(1)" },
  { "int32 + int64", function() return I32 + I end, "i32 + i" },
  { "int32 * 1.5 is float64", function() return I32 * 1.5 end, "i32 * 1.5" },
  { "float32 * 1.5 stays float32", function() return F32 * 1.5 end, "f32 * np.float32(1.5)" },
  { "float32 + float64", function() return F32 + A end, "f32 + a" },
  { "float32 + int32", function() return F32 + I32 end, "f32 + i32" },
  { "uint8 + 200 wraps", function() return U8 + 200 end, "u8 + np.uint8(200)" },
  { "uint8 - int32", function() return U8:slice({ 1, 4 }) - I32:slice(1) end, "u8[:4] - i32[0]" },
  { "int64 wraps", function() return BIG + 1 end, "big + 1" },
  { "int64 mul wraps", function() return BIG * 3 end, "big * 3" },
  { "bool + bool", function() return B + B end, "b + b" },
  { "bool * bool", function() return B * B.T.T end, "b * b" },
  { "bool + 1", function() return B + 1 end, "b + 1" },
  { "bool * 2.5", function() return B * 2.5 end, "b * 2.5" },
  { "broadcast row", function() return A + nda.arange(0, 4) end, "a + np.arange(4)" },
  { "broadcast column", function() return A * nda.arange(1, 4):reshape(3, 1) end, "a * np.arange(1, 4).reshape(3, 1)" },
  { "broadcast both", function() return nda.arange(0, 3):reshape(3, 1) - nda.arange(0, 4) end,
    "np.arange(3).reshape(3, 1) - np.arange(4)" },
  { "0-d with array", function() return nda.array(2.5) * A end, "np.array(2.5) * a" },
  -- comparisons, maximum, where
  { "gt", function() return A:gt(0) end, "a > 0" },
  { "eq mixed dtypes", function() return I:eq(I32) end, "i == i32" },
  { "le float int", function() return A:le(I) end, "a <= i" },
  { "ne nan", function() return NAN:ne(NAN) end, "nan != nan" },
  { "lt scalar", function() return U8:lt(100) end, "u8 < 100" },
  { "ge", function() return I:ge(0) end, "i >= 0" },
  { "maximum nan", function() return nda.maximum(NAN, 2) end, "np.maximum(nan, 2)" },
  { "minimum", function() return nda.minimum(A, I) end, "np.minimum(a, i)" },
  { "where", function() return nda.where(A:gt(0), A, 0) end, "np.where(a > 0, a, 0)" },
  { "where scalars", function() return nda.where(B, 1, 2.5) end, "np.where(b, 1, 2.5)" },
  { "where int cond", function() return nda.where(I, I, -1) end, "np.where(i, i, -1)" },
  { "where broadcast", function() return nda.where(nda.array({ true, false, true, false }), A, I32) end,
    "np.where(np.array([True, False, True, False]), a, i32)" },
  -- math functions
  { "sqrt", function() return nda.sqrt(nda.abs(A)) end, "np.sqrt(np.abs(a))" },
  { "sqrt of ints", function() return nda.sqrt(nda.abs(I)) end, "np.sqrt(np.abs(i))" },
  { "exp", function() return nda.exp(A / 10) end, "np.exp(a / 10)" },
  { "log", function() return nda.log(nda.abs(A) + 1) end, "np.log(np.abs(a) + 1)" },
  { "log of negatives", function() return nda.log(NEGF) end, "np.log(negf)" },
  { "sin cos tanh", function() return nda.sin(A) + nda.cos(A) * nda.tanh(A) end, "np.sin(a) + np.cos(a) * np.tanh(a)" },
  { "abs int", function() return nda.abs(I) end, "np.abs(i)" },
  { "floor ceil", function() return nda.floor(A) + nda.ceil(A) end, "np.floor(a) + np.ceil(a)" },
  { "floor of ints", function() return nda.floor(I) end, "np.floor(i).astype(np.float64)" },
  { "float32 exp", function() return nda.exp(F32) end, "np.exp(f32)" },
  -- reductions
  { "sum", function() return A:sum() end, "a.sum()" },
  { "sum axis 1", function() return A:sum { axis = 1 } end, "a.sum(axis=0)" },
  { "sum axis -1", function() return A:sum { axis = -1 } end, "a.sum(axis=-1)" },
  { "sum keepdims", function() return A:sum { axis = 2, keepdims = true } end, "a.sum(axis=1, keepdims=True)" },
  { "sum all keepdims", function() return A:sum { keepdims = true } end, "a.sum(keepdims=True)" },
  { "sum two axes", function() return C3:sum { axis = { 1, 3 } } end, "c3.sum(axis=(0, 2))" },
  { "sum two axes keepdims", function() return C3:sum { axis = { -1, 1 }, keepdims = true } end,
    "c3.sum(axis=(2, 0), keepdims=True)" },
  { "int32 sum is int64", function() return I32:sum { axis = 1 } end, "i32.sum(axis=0)" },
  { "int sum", function() return I:sum() end, "i.sum()" },
  { "uint8 sum", function() return U8:sum() end, "u8.sum()" },
  { "bool sum counts", function() return B:sum() end, "b.sum()" },
  { "bool sum axis", function() return B:sum { axis = 2 } end, "b.sum(axis=1)" },
  { "int64 sum wraps", function() return nda.full({ 3 }, math.maxinteger):sum() end, "np.full(3, 2**63 - 1).sum()" },
  { "float32 sum", function() return F32:sum() end, "f32.sum()" },
  { "float32 mean", function() return F32:mean { axis = 1 } end, "f32.mean(axis=0)" },
  { "prod", function() return (I % 4 + 1):prod { axis = 1 } end, "(i % 4 + 1).prod(axis=0)" },
  { "mean", function() return A:mean() end, "a.mean()" },
  { "int mean", function() return I:mean { axis = 2 } end, "i.mean(axis=1)" },
  { "var", function() return A:var { axis = 1 } end, "a.var(axis=0)" },
  { "std", function() return C3:std() end, "c3.std()" },
  { "std ddof 1", function() return A:std { ddof = 1 } end, "a.std(ddof=1)" },
  { "var ddof 1 axis", function() return C3:var { axis = 3, ddof = 1 } end, "c3.var(axis=2, ddof=1)" },
  { "min", function() return A:min() end, "a.min()" },
  { "max axis", function() return I:max { axis = 2 } end, "i.max(axis=1)" },
  { "min uint8", function() return U8:min() end, "u8.min()" },
  { "argmin", function() return A:argmin() end, "a.argmin() + 1" },
  { "argmax", function() return C3:argmax() end, "c3.argmax() + 1" },
  { "argmax axis", function() return I:argmax { axis = 1 } end, "i.argmax(axis=0) + 1" },
  { "argmin axis -1", function() return C3:argmin { axis = -1 } end, "c3.argmin(axis=-1) + 1" },
  { "any", function() return B:any { axis = 1 } end, "b.any(axis=0)" },
  { "all", function() return B:all() end, "b.all()" },
  { "all axis", function() return I:all { axis = 2 } end, "i.all(axis=1)" },
  { "nan max", function() return NAN:max() end, "nan.max()" },
  { "nan min", function() return NAN:min() end, "nan.min()" },
  { "nan argmax", function() return NAN:argmax() end, "nan.argmax() + 1" },
  { "nan argmin", function() return NAN:argmin() end, "nan.argmin() + 1" },
  { "nan sum", function() return NAN:sum() end, "nan.sum()" },
  { "empty sum", function() return E:sum() end, "e.sum()" },
  { "empty mean is nan", function() return E:mean() end, "e.mean()" },
  { "empty axis sum", function() return E2:sum { axis = 1 } end, "e2.sum(axis=0)" },
  { "empty axis mean", function() return E2:mean { axis = 1 } end, "e2.mean(axis=0)" },
  -- views and conversions
  { "T", function() return A.T end, "a.T" },
  { "transpose perm", function() return C3:transpose({ 2, 3, 1 }) end, "c3.transpose(1, 2, 0)" },
  { "transpose varargs", function() return C3:transpose(3, 1, 2) end, "c3.transpose(2, 0, 1)" },
  { "reshape", function() return A:reshape({ 4, 3 }) end, "a.reshape(4, 3)" },
  { "reshape -1", function() return C3:reshape(-1, 6) end, "c3.reshape(-1, 6)" },
  { "reshape of a view", function() return A.T:reshape(12) end, "a.T.reshape(12)" },
  { "slice range", function() return A:slice({ 2, 3 }) end, "a[1:3]" },
  { "slice index", function() return A:slice(2) end, "a[1]" },
  { "slice negative index", function() return A:slice({}, -1) end, "a[:, -1]" },
  { "slice step", function() return A:slice({}, { 1, 4, 2 }) end, "a[:, 0:4:2]" },
  { "slice negative step", function() return A:slice({ -1, 1, -1 }, { 4, 1, -2 }) end, "a[::-1, 3::-2]" },
  { "slice reversed defaults", function() return C3:slice({}, { nil, nil, -1 }) end, "c3[:, ::-1]" },
  { "slice empty range", function() return A:slice({ 3, 2 }) end, "a[2:2]" },
  { "slice of slice", function() return C3:slice(2, { 3, 1, -1 }):slice({}, { 2, -1 }) end, "c3[1, ::-1][:, 1:]" },
  { "slice then op", function() return A:slice({}, { 4, 1, -1 }) + A.T.T end, "a[:, ::-1] + a" },
  { "astype truncates", function() return (A * 2):astype("int64") end, "(a * 2).astype(np.int64)" },
  { "astype int32", function() return NEGF:astype("int32") end, "negf.astype(np.int32)" },
  { "astype bool", function() return A:astype("bool") end, "a.astype(bool)" },
  { "astype uint8 wraps", function() return (I * 30):astype("uint8") end, "(i * 30).astype(np.uint8)" },
  { "astype float32", function() return A:astype("float32") end, "a.astype(np.float32)" },
  { "copy of a view", function() return A.T:copy() end, "a.T.copy()" },
  { "concatenate", function() return nda.concatenate({ A, I }) end, "np.concatenate([a, i])" },
  { "concatenate axis 2", function() return nda.concatenate({ A, I32, B }, 2) end, "np.concatenate([a, i32, b], 1)" },
  { "concatenate axis -1", function() return nda.concatenate({ C3, C3:slice({}, {}, { 1, 2 }) }, -1) end,
    "np.concatenate([c3, c3[:, :, :2]], -1)" },
  { "stack", function() return nda.stack({ A, I }) end, "np.stack([a, i])" },
  { "stack last", function() return nda.stack({ A, A, A }, -1) end, "np.stack([a, a, a], -1)" },
  { "stack axis 2", function() return nda.stack({ I32, I32 }, 2) end, "np.stack([i32, i32], 1)" },
  -- dot
  { "dot", function() return A:dot(A.T) end, "a.dot(a.T)" },
  { "dot vector", function() return A:dot(nda.arange(0, 4)) end, "a.dot(np.arange(4))" },
  { "dot ints", function() return I:dot(I32.T) end, "i.dot(i32.T)" },
  { "matmul vectors", function() return nda.matmul(nda.arange(0, 4), nda.arange(1, 5)) end,
    "np.matmul(np.arange(4), np.arange(1, 5))" },
}

-- tostring(a) against numpy's repr
local reprs = {
  { "floats", A, "a" },
  { "ints", I, "i" },
  { "int32", I32, "i32" },
  { "uint8", U8, "u8" },
  { "float32", F32, "f32" },
  { "bools", B, "b" },
  { "3-d", C3, "c3" },
  { "nan and inf", NAN, "nan" },
  { "mixed magnitudes", MIX, "mix" },
  { "empty", E, "e" },
  { "empty 2-d", E2, "e2" },
  { "empty int32", nda.zeros({ 0 }, "int32"), "np.zeros(0, np.int32)" },
  { "0-d float", nda.array(1.5), "np.array(1.5)" },
  { "0-d int32", nda.array(3, "int32"), "np.array(3, np.int32)" },
  { "0-d bool", nda.array(true), "np.array(True)" },
  { "0-d large", nda.array(1e20), "np.array(1e20)" },
  { "negative zero", nda.array({ -0.0, 1.0 }), "np.array([-0.0, 1.0])" },
  { "whole floats", nda.array({ 1.0, 2.0, 100.0 }), "np.array([1.0, 2.0, 100.0])" },
  { "thirds", nda.arange(0, 30) / 3, "np.arange(30) / 3" },
  { "float32 thirds", (nda.arange(0, 30) / 3):astype("float32"), "(np.arange(30) / 3).astype(np.float32)" },
  { "long ints wrap", nda.arange(0, 40) * 1234567, "np.arange(40) * 1234567" },
  { "summarized", nda.arange(0, 2000), "np.arange(2000)" },
  { "summarized floats", nda.arange(0, 1001) / 7, "np.arange(1001) / 7" },
  { "summarized 2-d", nda.arange(0, 1200):reshape(40, 30), "np.arange(1200).reshape(40, 30)" },
  { "summarized 3-d", nda.arange(0, 2000):reshape(10, 20, 10) * 0.5, "np.arange(2000).reshape(10, 20, 10) * 0.5" },
  { "summarized one long axis", nda.arange(0, 1005):reshape(201, 5), "np.arange(1005).reshape(201, 5)" },
  { "big exponents", nda.array({ 1e-300, 1e300, 5.0 }), "np.array([1e-300, 1e300, 5.0])" },
  { "tiny", nda.array({ 1e-5, 2e-5 }), "np.array([1e-5, 2e-5])" },
  { "large", nda.array({ 1e8, 1.0 }), "np.array([1e8, 1.0])" },
  { "ratio over 1000", nda.array({ 0.001, 1.5 }), "np.array([0.001, 1.5])" },
  { "ratio 1000", nda.array({ 0.001, 1.0 }), "np.array([0.001, 1.0])" },
  { "many digits", nda.array({ math.pi, math.exp(1), 1 / 3 }), "np.array([np.pi, np.e, 1 / 3])" },
  { "rounding ties", nda.array({ 0.125, 0.375, 1e-9 + 1 }), "np.array([0.125, 0.375, 1e-9 + 1])" },
  { "only nan", nda.array({ nan, nan }), "np.array([np.nan, np.nan])" },
  { "inf and ints", nda.array({ inf, 1, -inf }), "np.array([np.inf, 1, -np.inf])" },
  { "negative ints", NEG * 1000, "neg * 1000" },
  { "int64 extremes", BIG, "big" },
  { "wide rows", nda.arange(0, 60):reshape(3, 20) * 1.25, "np.arange(60).reshape(3, 20) * 1.25" },
  { "float32 sci", nda.array({ 1e-7, 3.0, 1e10 }, "float32"), "np.array([1e-7, 3.0, 1e10], np.float32)" },
  { "float32 pi", nda.array({ math.pi, 0.1 }, "float32"), "np.array([np.pi, 0.1], np.float32)" },
  { "int8", nda.array({ -128, 127 }, "int8"), "np.array([-128, 127], np.int8)" },
  { "dtype on a new line", nda.arange(0, 24, 1, "int32") * 100000, "np.arange(24, dtype=np.int32) * 100000" },
  { "4-d", nda.arange(0, 16):reshape(2, 2, 2, 2), "np.arange(16).reshape(2, 2, 2, 2)" },
  { "a view", C3:slice({}, { -1, 1, -1 }, 2), "c3[:, ::-1, 1]" },
  { "bools long", (nda.arange(0, 30) % 3):eq(0), "np.arange(30) % 3 == 0" },
}

-- Sends the arrays exactly: floats as "%.17g" strings (nan, inf, -0).
local function fmt_num(x, dtype)
  if type(x) == "boolean" or math.type(x) == "integer" then return x end
  if x ~= x then return "nan" end
  if x == inf then return "inf" elseif x == -inf then return "-inf" end
  if x == 0 and 1 / x < 0 then return "-0" end
  return string.format("%.17g", x)
end

local function flat(a)
  local out = {}
  local r = a.size > 0 and a:reshape(a.size):to_table() or {}
  for k, v in ipairs(r) do out[k] = fmt_num(v, a.dtype) end
  return out
end

local expected
do
  local spec = { arrays = {}, cases = {} }
  for name, a in pairs(arrays) do
    spec.arrays[name] = { values = flat(a), shape = a.shape, dtype = a.dtype }
  end
  for _, c in ipairs(cases) do spec.cases[#spec.cases + 1] = { name = c[1], expr = c[3] } end
  for _, c in ipairs(reprs) do spec.cases[#spec.cases + 1] = { name = "repr " .. c[1], expr = c[3], ["repr"] = true } end
  local input = os.tmpname()
  t.write(input, json.encode(spec))
  local code, out, err = t.sh("/usr/bin/python3 " .. script .. " < " .. input)
  os.remove(input)
  assert(code == 0, "ndarray_expected.py failed: " .. err)
  expected = json.decode(out)
end

local function num(v)
  if type(v) ~= "string" then return v end
  if v == "nan" then return nan elseif v == "inf" then return inf elseif v == "-inf" then return -inf end
  return tonumber(v)
end

local function close(got, want, dtype)
  if type(want) == "boolean" or type(got) == "boolean" then return got == want end
  if dtype ~= "float64" and dtype ~= "float32" then return got == want and math.type(got) == "integer" end
  if want ~= want then return got ~= got end
  if want == inf or want == -inf then return got == want end
  local tol = dtype == "float32" and 1e-6 or 1e-13
  return math.abs(got - want) <= tol * math.max(1, math.abs(want))
end

local function check(name, got, want)
  t.truthy(want and not want.error, name .. ": numpy gave " .. tostring(want and want.error))
  local shape, dtype, values
  if nda.is_ndarray(got) then
    shape, dtype, values = got.shape, got.dtype, got.size > 0 and got:reshape(got.size):to_table() or {}
  else -- a Lua scalar: numpy's 0-d result
    shape, dtype, values = {}, want.dtype, { got }
    t.truthy(type(got) == "number" or type(got) == "boolean", name .. ": a scalar")
  end
  local wshape = {}
  for k = 1, #want.shape do wshape[k] = want.shape[k] end
  t.eq(shape, wshape, name .. ": shape")
  t.eq(dtype, want.dtype, name .. ": dtype")
  t.eq(#values, #want.values, name .. ": size")
  for k = 1, #values do
    local w = num(want.values[k])
    if not close(values[k], w, dtype) then
      error(string.format("%s: element %d: got %s, numpy %s", name, k, tostring(values[k]), tostring(w)))
    end
  end
end

t.test("every function and method against numpy", function()
  for _, c in ipairs(cases) do check(c[1], c[2](), expected[c[1]]) end
end)

t.test("tostring is numpy's repr", function()
  for _, c in ipairs(reprs) do
    local want = expected["repr " .. c[1]]
    t.eq(tostring(c[2]), want["repr"], c[1])
  end
end)

t.test("tostring of many random floats is numpy's repr", function()
  -- mixed magnitudes, float64 and float32, positional and scientific
  local lists, exprs = {}, {}
  local seed = 12345
  local function rnd()
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  end
  for k = 1, 300 do
    local n = 1 + k % 7
    local vals = {}
    for j = 1, n do
      local e = math.floor(rnd() * (k % 3 == 0 and 24 or 8)) - (k % 3 == 0 and 12 or 3)
      local x = (rnd() - 0.3) * 10 ^ e
      if k % 5 == 0 then x = math.floor(x * 100) / 100 end
      vals[j] = x
    end
    local dtype = k % 4 == 0 and "float32" or "float64"
    lists[k] = nda.array(vals, dtype)
    local s = {}
    for j, x in ipairs(vals) do s[j] = string.format("float.fromhex('%a')", x) end
    exprs[k] = "np.array([" .. table.concat(s, ", ") .. "], np." .. dtype .. ")"
  end
  local spec = { arrays = {}, cases = {} }
  for k, e in ipairs(exprs) do spec.cases[k] = { name = tostring(k), expr = e, ["repr"] = true } end
  local input = os.tmpname()
  t.write(input, json.encode(spec))
  local code, out, err = t.sh("/usr/bin/python3 " .. script .. " < " .. input)
  os.remove(input)
  assert(code == 0, err)
  local want = json.decode(out)
  for k, a in ipairs(lists) do t.eq(tostring(a), want[tostring(k)]["repr"], exprs[k]) end
end)

t.test("fields, get and to_table", function()
  t.eq(A.shape, { 3, 4 })
  t.eq(A.dtype, "float64")
  t.eq(A.ndim, 2)
  t.eq(A.size, 12)
  t.eq(A.nbytes, 96)
  t.eq(F32.nbytes, 48)
  t.eq(#A, 3)
  t.eq(A.T.shape, { 4, 3 })
  local s = A.shape
  s[1] = 99
  t.eq(A.shape, { 3, 4 }, "shape is a fresh list")
  t.eq(I:get(1, 1), -11)
  t.eq(math.type(I:get(2, 3)), "integer")
  t.eq(math.type(A:get(1, 1)), "float")
  t.eq(I:get(-1, -1), I:get(3, 4))
  t.eq(B:get(1, 1), (I:get(1, 1) % 3) == 0)
  t.eq(U8:get(12), 11 * 23 % 256)
  t.eq(nda.array(5):get(), 5)
  t.eq(nda.array(5):to_table(), 5)
  t.eq(nda.array({ { 1, 2 }, { 3, 4 } }):to_table(), { { 1, 2 }, { 3, 4 } })
  t.eq(nda.array({ { 1, 2 }, { 3, 4 } }).T:to_table(), { { 1, 3 }, { 2, 4 } })
  t.eq(nda.array({ true, false }):to_table(), { true, false })
  t.eq(E2:to_table(), {})
  t.eq(nda.is_ndarray(A), true)
  t.eq(nda.is_ndarray({}), false)
  t.eq(I:sum { axis = 1 }:sum(), I:sum())
  t.eq(nda.array({ 1, 2 }):dot(nda.array({ 3, 4 })), 11)
  t.eq(math.type(I:sum()), "integer")
  t.eq(B:any(), true)
  t.eq(math.type(A:argmax()), "integer")
end)

t.test("numpy users' traps keep numpy's dtypes", function()
  t.eq((I32 + 1).dtype, "int32")
  t.eq((I32 + 2 ^ 40).dtype, "float64")
  t.eq((F32 * 1.5).dtype, "float32")
  t.eq((F32 + 1).dtype, "float32")
  t.eq((U8 + 1).dtype, "uint8")
  t.eq((B + true).dtype, "bool")
  local trues = 0
  for _, row in ipairs(B:to_table()) do
    for _, v in ipairs(row) do trues = trues + (v and 1 or 0) end
  end
  t.eq(B:sum(), trues)
  t.eq(math.type(B:sum()), "integer")
  t.eq((BIG + 1):to_table(), { math.mininteger, math.mininteger + 1 })
  t.eq(nda.sqrt(U8).dtype, "float32") -- numpy's float16 being absent
  t.eq(I32:sum { axis = 1 }.dtype, "int64")
  t.eq(F32:sum { axis = 1 }.dtype, "float32")
  t.eq(I:mean { axis = 1 }.dtype, "float64")
  t.eq(A:argmax { axis = 1 }.dtype, "int64")
end)

t.test("errors are clear and raised at the caller's line", function()
  local line = debug.getinfo(1, "l").currentline
  local err = t.raises("operands could not be broadcast together with shapes (3,4) (3,) in +",
                       function() return A + nda.arange(0, 3) end)
  t.truthy(err:find("ndarray_test.lua:" .. (line + 2) .. ":", 1, true), err)
  t.raises("Lua integer 300 is out of bounds for uint8 in +", function() return U8 + 300 end)
  t.raises("Lua integer -1 is out of bounds for uint8 in *", function() return U8 * -1 end)
  t.raises("Lua integer 3000000000 is out of bounds for int32 in -", function() return I32 - 3000000000 end)
  t.raises("integer division by zero in //", function() return I // 0 end)
  t.raises("integer division by zero in %", function() return I % nda.zeros({ 4 }, "int64") end)
  t.raises("zero-size array to reduction operation maximum which has no identity", function() return E:max() end)
  t.raises("zero-size array to reduction operation minimum", function() return E2:min { axis = 1 } end)
  t.raises("argmax", function() return E:argmax() end)
  t.raises("bad dtype 'float128'", function() return nda.zeros(3, "float128") end)
  t.raises("bad dtype 'int'", function() return A:astype("int") end)
  t.raises("axis 3 is out of range for an array of 2 dimensions", function() return A:sum { axis = 3 } end)
  t.raises("axis -3 is out of range", function() return A:mean { axis = -3 } end)
  t.raises("axis 0 is out of range", function() return A:sum { axis = 0 } end)
  t.raises("axis -1 repeated", function() return A:sum { axis = { 2, -1 } } end)
  t.raises("unknown option", function() return A:sum { axes = 1 } end)
  t.raises("ddof is an option of var and std only", function() return A:sum { ddof = 1 } end)
  t.raises("keepdims must be a boolean", function() return A:sum { keepdims = 1 } end)
  t.raises("argmin", function() return C3:argmin { axis = { 1, 2 } } end)
  t.raises("cannot reshape array of size 12 into shape (5,)", function() return A:reshape(5) end)
  t.raises("cannot reshape array of size 12 into shape (5, -1)", function() return A:reshape(5, -1) end)
  t.raises("one length only can be -1", function() return A:reshape(-1, -1) end)
  t.raises("a shape's lengths cannot be negative", function() return nda.zeros({ 2, -2 }) end)
  t.raises("a shape", function() return nda.zeros("x") end)
  t.raises("slice: index 4 is out of range for axis 1 of length 3", function() return A:slice(4) end)
  t.raises("slice: axis 2: bound 5 is out of range for length 4", function() return A:slice({}, { 1, 5 }) end)
  t.raises("slice: axis 1: bound -4 is out of range", function() return A:slice({ -4, -1 }) end)
  t.raises("slice: axis 2: step cannot be zero", function() return A:slice({}, { 1, 2, 0 }) end)
  t.raises("slice: 3 axes given for an array of 2 dimensions", function() return A:slice(1, 1, 1) end)
  t.raises("slice: axis 1: an integer or a table", function() return A:slice("x") end)
  t.raises("get: index 0 is out of range for axis 1 of length 3", function() return A:get(0, 1) end)
  t.raises("get: 1 index for an array of 2 dimensions", function() return A:get(1) end)
  t.raises("transpose: axis 1 repeated", function() return A:transpose(1, 1) end)
  t.raises("transpose: a permutation of 3 axes", function() return A:transpose(1, 2, 3) end)
  t.raises("nda.array: ragged nested lists", function() return nda.array({ { 1, 2 }, { 3 } }) end)
  t.raises("at [2]", function() return nda.array({ { 1, 2 }, { 3 } }) end)
  t.raises("at [2][1]", function() return nda.array({ { 1, 2 }, { { 3 }, 4 } }) end)
  t.raises("a hole", function() return nda.array({ 1, nil, 3 }) end)
  t.raises("a string where a number or boolean was expected at [2]", function() return nda.array({ 1, "x" }) end)
  t.raises("booleans mixed with numbers", function() return nda.array({ 1, true }) end)
  t.raises("300 out of bounds for uint8", function() return nda.array({ 1, 300 }, "uint8") end)
  t.raises("out of bounds for int64", function() return nda.full({ 2 }, 2 ^ 70, "int64") end)
  t.raises("step cannot be zero", function() return nda.arange(0, 5, 0) end)
  t.raises("concatenate: along axis 2, array 1 has length 4 and array 2 has 3",
           function() return nda.concatenate({ A, A:slice({}, { 1, 3 }) }) end)
  t.raises("concatenate: element 2 of the list is a number", function() return nda.concatenate({ A, 1 }) end)
  t.raises("stack: all arrays must have the same shape", function() return nda.stack({ A, A.T }) end)
  t.raises("shapes (3,4) and (3,4) not aligned", function() return A:dot(A) end)
  t.raises("- is not defined for bool", function() return -B end)
  t.raises("an ndarray, number or boolean expected, got a string", function() return A + "1" end)
  t.raises("# of a 0-d ndarray", function() return #nda.array(1) end)
  t.raises("indexed by a:get", function() return A[1] end)
  local c = nda.arange(0, 3)
  c:close()
  t.raises("a closed ndarray", function() return c + 1 end)
  t.eq(tostring(c), "ndarray(closed)")
end)

t.test("an ndarray crosses tasks as its buffer, without a copy", function()
  local x = nda.arange(0, 10)
  local addr = core.buffer_info(x)
  local double = dusk.delayed(function(a) return a * 2 end)
  local same = dusk.delayed(function(a) return a end)
  local info = dusk.delayed(function(a) return { core.buffer_info(a) } end)
  for _, opts in ipairs { { scheduler = "sync" }, { scheduler = "threads", num_workers = 2 } } do
    local r = double(x):compute(opts)
    t.eq(nda.is_ndarray(r), true)
    t.eq(r.dtype, "int64")
    t.eq(r:to_table(), { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18 })
    local s = same(x):compute(opts)
    t.eq(core.buffer_info(s), addr, "the result shares x's bytes")
    local _, refs = core.buffer_info(s)
    t.truthy(refs >= 2, "x and the result hold references")
    t.eq(info(x):compute(opts)[1], addr, "the task saw x's bytes")
    -- a view that does not span its buffer travels as a copy of itself
    local v = same(x:slice({ 10, 1, -3 })):compute(opts)
    t.eq(v:to_table(), { 9, 6, 3, 0 })
    -- inside a table, as its frame (a copy)
    local f = nda.arange(0, 10, 1, "float32") / 4
    local pair = dusk.delayed(function(p) return { p[1] + p[2], p[2].dtype } end)({ x, f }):compute(opts)
    t.eq(pair[2], "float32")
    t.eq(pair[1].dtype, "float64")
    t.eq(pair[1]:to_table(), (x + f):to_table())
  end
end)

t.test("persist keeps an ndarray's buffer", function()
  local x = nda.arange(0, 6):reshape(2, 3) * 1.5
  local p = dusk.delayed(function(a) return a end)(x):persist()
  local addr = core.buffer_info(x)
  x = nil
  collectgarbage()
  local r1 = p:compute()
  local r2 = p:compute { scheduler = "threads", num_workers = 2 }
  t.eq(r1:to_table(), { { 0, 1.5, 3 }, { 4.5, 6, 7.5 } })
  t.eq(core.buffer_info(r1), addr)
  t.eq(core.buffer_info(r2), addr)
  t.eq(tostring(r2), "ndarray([[0. , 1.5, 3. ],\n         [4.5, 6. , 7.5]])")
end)

t.test("serial round trip keeps dtype, shape and values", function()
  local serial = require "dusk.serial"
  local v = C3:slice({}, { -1, 1, -1 })
  local back = serial.decode(serial.encode({ v, I32 }))
  t.eq(back[1]:to_table(), v:to_table())
  t.eq(back[2].dtype, "int32")
  t.eq(back[2]:to_table(), I32:to_table())
end)
