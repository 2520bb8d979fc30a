#!/usr/bin/python3
# Writes tests/unit/ndreduce_cases.h: numpy 1.24's answers for the cases
# of test_ndreduce.c.  Run with Debian's python3 (it has numpy):
#   /usr/bin/python3 tests/unit/gen_ndreduce.py > tests/unit/ndreduce_cases.h
import math
import sys

import warnings

import numpy as np

warnings.filterwarnings("ignore")

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64"]  # buf_dtype's order
OPS = ["sum", "prod", "min", "max", "any", "all", "mean", "var", "std", "argmin", "argmax"]
USER = ["float64", "float32", "int64", "int32", "uint8", "bool"]
# view kinds: the C test makes the same view of the input
V_NONE, V_REV, V_T, V_RSTEP2, V_BCAST = range(5)

out = []
inputs = []  # (dtype, array)
cases = []


def c_int(v):
    v = int(v)
    if v == -2**63:
        return "INT64_MIN"
    return "INT64_C(%d)" % v


def c_float(v):
    v = float(v)
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return repr(v)


def c_input(a):
    dt = str(a.dtype)
    if dt in ("float32", "float64"):
        return ", ".join(c_float(v) for v in a.ravel())
    if dt == "bool":
        return ", ".join(str(int(v)) for v in a.ravel())
    if dt.startswith("uint"):
        return ", ".join("UINT64_C(%d)" % int(v) for v in a.ravel())
    return ", ".join(c_int(v) for v in a.ravel())


CTYPE = {"bool": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
         "int64": "int64_t", "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t",
         "uint64": "uint64_t", "float32": "float", "float64": "double"}


def add_input(a):
    a = np.ascontiguousarray(a)
    inputs.append(a)
    return len(inputs) - 1


def make_view(a, view, vaxis, bshape):
    if view == V_REV:
        return np.flip(a, vaxis)
    if view == V_T:
        return a.T
    if view == V_RSTEP2:
        sl = [slice(None)] * a.ndim
        sl[vaxis] = slice(None, None, -2)
        return a[tuple(sl)]
    if view == V_BCAST:
        return np.broadcast_to(a, bshape)
    return a


def reduce(op, x, axes, ddof):
    ax = tuple(axes) if axes is not None else None
    if op in ("argmin", "argmax"):
        f = getattr(np, op)
        if ax is None or len(ax) == x.ndim:
            return np.asarray(f(x)).reshape((1,) * x.ndim)
        return f(x, axis=ax[0], keepdims=True)
    if op in ("var", "std"):
        with np.errstate(all="ignore"):
            return getattr(np, op)(x, axis=ax, ddof=ddof, keepdims=True)
    with np.errstate(all="ignore"):
        return getattr(np, op)(x, axis=ax, keepdims=True)


def add_case(op, inp, view=V_NONE, vaxis=0, bshape=None, axes=None, ddof=0, status=None):
    base = inputs[inp]
    x = make_view(base, view, vaxis, bshape)
    red = [1 if axes is None or k in axes else 0 for k in range(x.ndim)]
    ax = None if axes is None else tuple(axes)
    want, rdt, tol = None, "int64", 0.0
    if status is None:
        if op in ("argmin", "argmax") and ax is not None and 1 < len(ax) < x.ndim or \
           op in ("argmin", "argmax") and ax is not None and len(ax) == 0 and x.ndim > 0:
            status = "ND_EAXIS"
        else:
            try:
                want = np.asarray(reduce(op, x, ax, ddof))
                status = "ND_OK"
            except ValueError:
                status = "ND_EEMPTY"
    if want is not None:
        rdt = str(want.dtype)
        if rdt in ("float32", "float64"):
            # numpy's own float32 rounding error, plus a little
            ref = np.asarray(reduce(op, x.astype(np.float64), ax, ddof)) \
                if str(x.dtype) == "float32" else want.astype(np.float64)
            with np.errstate(all="ignore"):
                d = np.abs(want.astype(np.float64) - ref)
                d = d[np.isfinite(d)]
                m = np.abs(ref[np.isfinite(ref)])
            scale = 1 + (m.max() if m.size else 0)
            tol = 2 * (d.max() if d.size else 0) + (1e-6 if rdt == "float32" else 1e-12) * scale
    cases.append(dict(op=op, inp=inp, view=view, vaxis=vaxis, ndim=x.ndim, shape=x.shape,
                      red=red, ddof=ddof, status=status, want=want, rdt=rdt, tol=tol))


def gen():
    rng = np.random.default_rng(13)
    base = {
        "float64": rng.standard_normal((2, 3, 4)),
        "int64": rng.integers(-50, 50, (2, 3, 4)),
        "int32": rng.integers(-1000, 1000, (2, 3, 4)).astype(np.int32),
        "uint8": rng.integers(0, 256, (2, 3, 4)).astype(np.uint8),
        "bool": rng.random((2, 3, 4)) < 0.5,
    }
    base["float32"] = base["float64"].astype(np.float32)
    # every op over every user dtype: axis subsets, and views
    for dt in USER:
        a = add_input(base[dt])
        b = add_input(base[dt][:, :1, :])  # broadcast along axis 1
        for op in OPS:
            for axes in [None, (0,), (1,), (2,), (0, 2), (1, 2), (0, 1), ()]:
                add_case(op, a, axes=axes)
            for view, vaxis in [(V_REV, 1), (V_T, 0), (V_RSTEP2, 2)]:
                for axes in [None, (1,), (0, 2)]:
                    add_case(op, a, view=view, vaxis=vaxis, axes=axes)
            for axes in [None, (1,), (2,)]:
                add_case(op, b, view=V_BCAST, bshape=(2, 3, 4), axes=axes)
    # ddof
    v = add_input(np.array([[1.5, 2.0, -0.5, 4.0], [3.0, 3.0, 3.0, 3.5]]))
    vi = add_input(np.array([1, 5, 2, 8, 3], dtype=np.int32))
    for op in ("var", "std"):
        for ddof in (0, 1, 2, 3, 4, 5):
            add_case(op, v, axes=None, ddof=ddof)
            add_case(op, v, axes=(1,), ddof=ddof)
            add_case(op, vi, axes=None, ddof=ddof)
    # NaN and inf
    nan = float("nan")
    for dt in (np.float64, np.float32):
        n1 = add_input(np.array([1.0, nan, 3.0, -2.0, nan, -2.0], dtype=dt))
        n2 = add_input(np.array([[4.0, 1.0, 1.0], [nan, 2.0, nan], [0.5, 7.0, 7.0]], dtype=dt))
        n3 = add_input(np.array([np.inf, -np.inf, 1.0, -np.inf, np.inf], dtype=dt))
        n4 = add_input(np.array([nan, nan], dtype=dt))
        for op in OPS:
            add_case(op, n1)
            add_case(op, n1, view=V_REV, vaxis=0)
            add_case(op, n2)
            add_case(op, n2, axes=(0,))
            add_case(op, n2, axes=(1,))
            add_case(op, n2, view=V_T, axes=(1,))
            add_case(op, n3)
            add_case(op, n4)
    # ties: the first occurrence
    t1 = add_input(np.array([3, 1, 1, 5, 5, 1, 5], dtype=np.int64))
    t2 = add_input(np.array([[2, 9, 2], [9, 2, 9], [2, 2, 9]], dtype=np.uint8))
    t3 = add_input(np.array([0.0, -0.0, 2.0, 2.0, 0.0]))
    t4 = add_input(np.array([True, False, True, False]))
    for op in ("argmin", "argmax"):
        for t in (t1, t2, t3, t4):
            add_case(op, t)
            add_case(op, t, view=V_REV, vaxis=0)
        for axes in [(0,), (1,)]:
            add_case(op, t2, axes=axes)
            add_case(op, t2, view=V_T, axes=axes)
            add_case(op, t2, view=V_REV, vaxis=1, axes=axes)
    # empty arrays
    for dt in USER:
        e0 = add_input(np.zeros((0,), dtype=dt))
        e1 = add_input(np.zeros((3, 0), dtype=dt))
        e2 = add_input(np.zeros((0, 3), dtype=dt))
        for op in OPS:
            add_case(op, e0)
            add_case(op, e1, axes=(1,))
            add_case(op, e1, axes=(0,))
            add_case(op, e2, axes=(1,))
            add_case(op, e2, axes=(0,))
            add_case(op, e2)
    # integer wrapping, int32 and bool sums, big int64
    big = 2**63 - 1
    w1 = add_input(np.array([big, 1, 5], dtype=np.int64))
    w2 = add_input(np.array([big, big, big, 2], dtype=np.int64))
    w3 = add_input(np.array([2**32, 2**32, 3], dtype=np.int64))
    w4 = add_input(np.array([-2**63, -1, 2**62], dtype=np.int64))
    w5 = add_input(np.array([2**31 - 1] * 3 + [-2**31] * 2, dtype=np.int32))
    w6 = add_input(np.full((100,), 255, dtype=np.uint8))
    w7 = add_input(np.array([[True, True, False], [True, True, True]]))
    w8 = add_input(np.array([2**53 + 1, 1, 2**62], dtype=np.int64))
    for w in (w1, w2, w3, w4, w5, w6, w7, w8):
        for op in OPS:
            add_case(op, w)
    for op in ("sum", "prod", "mean", "all", "any"):
        add_case(op, w7, axes=(0,))
        add_case(op, w7, axes=(1,))
    # the other dtypes, at their extremes
    for dt in ("int8", "int16", "uint16", "uint32", "uint64"):
        info = np.iinfo(dt)
        o = add_input(np.array([[info.max, 3, info.min], [info.min, info.max, 7]], dtype=dt))
        for op in OPS:
            add_case(op, o)
            add_case(op, o, axes=(0,))
            add_case(op, o, view=V_T, axes=(0,))
    # 0-d
    z = add_input(np.array(2.5))
    zi = add_input(np.array(-7, dtype=np.int32))
    for op in OPS:
        add_case(op, z, axes=None)
        add_case(op, zi, axes=None)


def big_values():
    # the test computes the same inputs in C, bit for bit
    n = 10**7
    i = np.arange(n, dtype=np.int64)
    f32 = ((i * 7919 % 10007) / 10007.0).astype(np.float32)
    s64 = np.sum(f32.astype(np.float64))
    s32 = np.sum(f32)
    tenth = np.sum(np.full(n, 0.1))
    m = 10**6
    j = np.arange(m, dtype=np.int64)
    noisy = 1e9 + (j * 7919 % 1000) / 1000.0
    return dict(F32_SUM64=s64, F32_SUM32=float(s32), F32_MEAN64=s64 / n,
                TENTH_SUM=tenth, NOISY_VAR=np.var(noisy), NOISY_STD1=np.std(noisy, ddof=1),
                NOISY_MEAN=np.mean(noisy))


def emit():
    p = out.append
    p("/* Generated by tests/unit/gen_ndreduce.py from numpy %s: do not edit. */" % np.__version__)
    p("#include <math.h>")
    p("#include <stdint.h>")
    p("")
    for k, a in enumerate(inputs):
        t = CTYPE[str(a.dtype)]
        body = c_input(a) if a.size else "0"
        p("static const %s in_%d[] = {%s};" % (t, k, body))
    p("")
    p("static const rinput inputs[] = {")
    for k, a in enumerate(inputs):
        shape = ", ".join(str(s) for s in a.shape) or "0"
        p("  {%d, %d, {%s}, in_%d}," % (DTYPES.index(str(a.dtype)), a.ndim, shape, k))
    p("};")
    p("")
    for k, c in enumerate(cases):
        w = c["want"]
        if w is None or w.size == 0:
            continue
        if c["rdt"] in ("float32", "float64"):
            p("static const double want_%d[] = {%s};" % (k, ", ".join(c_float(v) for v in w.ravel())))
        elif c["rdt"] == "uint64":
            p("static const uint64_t want_%d[] = {%s};" %
              (k, ", ".join("UINT64_C(%d)" % int(v) for v in w.ravel())))
        else:
            p("static const int64_t want_%d[] = {%s};" % (k, ", ".join(c_int(v) for v in w.ravel())))
    p("")
    p("static const rcase cases[] = {")
    for k, c in enumerate(cases):
        w = c["want"]
        shape = ", ".join(str(s) for s in c["shape"]) or "0"
        red = ", ".join(str(r) for r in c["red"]) or "0"
        rshape = ", ".join(str(s) for s in w.shape) if w is not None and w.ndim else "0"
        size = w.size if w is not None else 0
        want = "want_%d" % k if w is not None and w.size else "NULL"
        p("  {%s, %d, %d, %d, %d, {%s}, {%s}, %d, %s, %d, %d, {%s}, %s, %r}," %
          ("ND_" + c["op"].upper(), c["inp"], c["view"], c["vaxis"], c["ndim"], shape, red,
           c["ddof"], c["status"], DTYPES.index(c["rdt"]), size, rshape, want, c["tol"]))
    p("};")
    p("")
    for name, v in big_values().items():
        p("#define %s %s" % (name, repr(float(v))))


gen()
emit()
sys.stdout.write("\n".join(out) + "\n")
