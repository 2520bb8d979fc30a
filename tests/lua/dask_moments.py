#!/usr/bin/python3
"""Writes tests/lua/dask_moments.lua: data sets and what Dask's bag gives
for their mean, var and std (ddof 0 and 1), for bag_semantics_test.lua.
Needs dask (Debian's python3-dask):

    /usr/bin/python3 tests/lua/dask_moments.py > tests/lua/dask_moments.lua
"""
import dask
import dask.bag as db

floats = [((i * 7919) % 1000) / 7.0 + 0.1 for i in range(300)]
CASES = [
    ("seven ints", [5, 3, 8, 1, 9, 2, 7], [1, 2, 3, 4, 7]),
    ("range(100)", list(range(100)), [1, 10, 20]),
    ("floats", floats, [1, 3, 17, 40]),
    ("negative floats", [-x for x in floats[:90]], [9]),
    ("ints and floats", [i if i % 3 else i / 3.0 for i in range(-50, 50)], [6]),
    ("timestamps", [1700000000000 + (i * 37) % 1000 for i in range(50)], [4]),
    ("wide floats", [1e-300, 3.5e10, -2.25e-5, 1e100, 7.0, -1e99], [2]),
    ("close floats", [1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0], [2]),
    ("tenths", [0.1, 0.1, 0.1], [2]),  # var rounds below 0: std raises
    # floats whose x**2 (C's pow) is not x*x
    ("pow, not x*x", [-63.759266228665545] * 7, [1, 3]),
    ("pow, not x*x, again", [62.390835566622286] * 3, [1, 2]),
]


def lua(x):
    if isinstance(x, float):
        return repr(x) if x == x and abs(x) != float("inf") else "0/0"
    return str(x)


def value(f):
    try:
        return lua(f().compute(scheduler="sync"))
    except ValueError:
        return '"error"'


print("-- Made by tests/lua/dask_moments.py with Dask %s: do not edit." % dask.__version__)
print("return {")
for name, data, nps in CASES:
    for np in nps:
        b = db.from_sequence(data, npartitions=np)
        got = [value(lambda: b.mean())]
        for ddof in (0, 1):
            got += [value(lambda: b.var(ddof=ddof)), value(lambda: b.std(ddof=ddof))]
        print("  { name = %r, npartitions = %d, data = { %s },"
              % (name, np, ", ".join(lua(x) for x in data)))
        print("    mean = %s, var = { %s, %s }, std = { %s, %s } },"
              % (got[0], got[1], got[3], got[2], got[4]))
print("}")
