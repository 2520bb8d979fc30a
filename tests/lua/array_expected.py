# The reference answers of tests/lua/array_test.lua: reads a JSON list of
# {"name", "expr"} on stdin, evaluates each expr with numpy (names below
# bound as the Lua test binds them), prints a JSON object name -> result
# ({"shape", "dtype", "values" flattened in C order}, NaN/inf as strings).
import json
import math
import sys

import numpy as np

a = np.arange(15 * 15, dtype=np.float64).reshape(15, 15) / 7.0 - 3.0
i = (np.arange(6 * 7, dtype=np.int64).reshape(6, 7) * 37) % 23 - 11
i32 = i.astype(np.int32)
u8 = (np.arange(40, dtype=np.int64) * 11 % 256).astype(np.uint8)
f32 = (np.arange(30, dtype=np.float32) * np.float32(0.1)).reshape(5, 6)
b = (i % 3) == 0
c3 = np.arange(4 * 5 * 6, dtype=np.float64).reshape(4, 5, 6) ** 1.5 % 17
row = np.arange(15, dtype=np.float64) * 0.5
col = (np.arange(15, dtype=np.float64) - 7).reshape(15, 1)
nan = np.array([1.0, np.nan, 3.0, -2.0, 5.0, np.nan, 0.5])
x5 = np.arange(5)
m6 = np.arange(6).reshape(2, 3)


def enc(x):
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return repr(x)
    return x


def out(v):
    v = np.asarray(v)
    vals = [enc(x) for x in v.ravel().tolist()]
    return {"shape": list(v.shape), "dtype": str(v.dtype), "values": vals}


cases = json.load(sys.stdin)
res = {}
with np.errstate(all="ignore"):
    for c in cases:
        res[c["name"]] = out(eval(c["expr"]))
print(json.dumps(res))
