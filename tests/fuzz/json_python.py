"""Every input of the json fuzz corpus gets from dusk.json the verdict
Python's json gives, read strictly as dusk's manual says (no NaN or
Infinity, numbers within a double, no escape of half a surrogate pair,
objects and arrays at most 1024 deep, UTF-8): json.decode(s, {validate =
true}) succeeds exactly when Python reads s.  fuzz_json checks its own
reference reader against dusk on every input, so this checks that
reader too.

    python3 json_python.py DUSK CORPUS_DIR
"""
import json
import math
import os
import subprocess
import sys
import tempfile

MAXDEPTH = 1024


def refuse(_):
    raise ValueError("not JSON")


def finite(text):
    v = float(text)
    if math.isinf(v):
        raise ValueError("beyond a double")
    return v


def integer(text):
    v = int(text)
    float(v)  # OverflowError beyond a double
    return v


def has_surrogate(s):
    return any(0xD800 <= ord(c) <= 0xDFFF for c in s)


def depth_ok(v):
    """Whether v nests at most MAXDEPTH deep and holds no lone surrogate."""
    stack = [(v, 1)]
    while stack:
        x, d = stack.pop()
        if isinstance(x, str):
            if has_surrogate(x):
                return False
        elif isinstance(x, (list, dict)):
            if d > MAXDEPTH:
                return False
            items = x.items() if isinstance(x, dict) else ((None, e) for e in x)
            for k, e in items:
                if k is not None and has_surrogate(k):
                    return False
                stack.append((e, d + 1))
    return True


def python_verdict(data):
    try:
        text = data.decode("utf-8")
        v = json.loads(text, parse_constant=refuse, parse_float=finite, parse_int=integer)
    except (ValueError, OverflowError, RecursionError):
        return False
    return depth_ok(v)


CHECK = """
local json = require "dusk.json"
for path in io.lines(arg[1]) do
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  io.write(pcall(json.decode, s, { validate = true }) and "1" or "0", "\\n")
end
"""


def main():
    dusk, corpus = sys.argv[1], sys.argv[2]
    sys.setrecursionlimit(100000)
    paths = sorted(os.path.join(corpus, n) for n in os.listdir(corpus))
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "check.lua")
        listing = os.path.join(tmp, "paths")
        with open(script, "w") as f:
            f.write(CHECK)
        with open(listing, "w") as f:
            f.write("".join(p + "\n" for p in paths))
        out = subprocess.run([dusk, script, listing], check=True, capture_output=True,
                             text=True).stdout.split()
    bad = 0
    for path, got in zip(paths, out):
        with open(path, "rb") as f:
            want = python_verdict(f.read())
        if (got == "1") != want:
            bad += 1
            print("%s: dusk %s, Python %s" % (path, got == "1", want))
    if len(out) != len(paths):
        print("dusk gave %d verdicts for %d inputs" % (len(out), len(paths)))
        bad += 1
    print("%d inputs, %d disagree" % (len(paths), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
