# The reference answers of tests/lua/ndarray_test.lua, computed by numpy
# (Debian's /usr/bin/python3).  Reads on stdin a JSON object:
#   {"arrays": {name: {"values": [...], "shape": [...], "dtype": "..."}},
#    "cases": [{"name": ..., "expr": ..., "repr": bool}, ...]}
# where float values are strings ("%.17g", "nan", "inf", "-0"); binds each
# array to its name, evaluates each expr and prints a JSON object
# name -> {"shape", "dtype", "values" flattened in C order, floats as
# repr strings} or, for "repr" cases, {"repr": repr of the result as a
# class named ndarray prints}, or {"error": the exception's type}.
import json
import sys

import numpy as np


class ndarray(np.ndarray):
    pass


def decode(a):
    vals = [float(v) if isinstance(v, str) else v for v in a["values"]]
    return np.array(vals, dtype=a["dtype"]).reshape(a["shape"])


def encode(v):
    v = np.asarray(v)
    vals = [repr(float(x)) if isinstance(x, float) else x for x in v.ravel().tolist()]
    return {"shape": list(v.shape), "dtype": str(v.dtype), "values": vals}


spec = json.load(sys.stdin)
env = {"np": np}
for name, a in (spec["arrays"] or {}).items():
    env[name] = decode(a)
res = {}
with np.errstate(all="ignore"):
    for c in spec["cases"]:
        try:
            v = eval(c["expr"], env)
            if c.get("repr"):
                res[c["name"]] = {"repr": repr(np.asarray(v).view(ndarray))}
            else:
                res[c["name"]] = encode(v)
        except Exception as e:  # the case expects an error
            res[c["name"]] = {"error": type(e).__name__}
print(json.dumps(res))
