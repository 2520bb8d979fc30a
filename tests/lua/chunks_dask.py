"""Dask's answers for tests/lua/chunks_test.lua (run by it at test time with
Debian's /usr/bin/python3 and python3-dask).

Reads a JSON list of cases from the file named by argv[1] and prints a
JSON list of answers, one per case: {"ok": value} or {"error": message}.
Block plans made by dusk.chunks come in the cases too ("plan"); they are
checked here against numpy on arange data, and the answer says "ok": true
or names the first block that differs.  Axes and block indices in cases
are dusk's (1-based) and converted here.
"""

import json
import sys

import numpy as np
import dask
import dask.array as da
from dask.array.core import normalize_chunks
from dask.array.rechunk import plan_rechunk
from dask.array.reshape import reshape_rechunk
from dask.core import get_dependencies
from dask.utils import format_bytes, maybe_pluralize

DTYPES = {1: "uint8", 4: "float32", 8: "float64"}


def tup(x):
    if isinstance(x, list):
        return tuple(tup(v) for v in x)
    return x


def lists(x):
    if isinstance(x, (tuple, list)):
        return [lists(v) for v in x]
    return int(x)


def ones(shape, chunks, dtype="float64"):
    return da.ones(tuple(shape), chunks=tup(chunks), dtype=dtype)


def data(shape):
    return np.arange(int(np.prod(shape, dtype=np.int64))).reshape(shape)


def block_slices(chunks, index):
    """The global slices of block 'index' (1-based per axis)."""
    out = []
    for c, i in zip(chunks, index):
        start = sum(c[: i - 1])
        out.append(slice(start, start + c[i - 1]))
    return tuple(out)


def each_block(chunks):
    return np.ndindex(*[len(c) for c in chunks])


def local(start, count, step):
    stop = start + count * step
    return slice(start, stop if stop >= 0 else None, step)


def normalize(c):
    return lists(
        normalize_chunks(
            tup(c["chunks"]),
            tuple(c["shape"]),
            limit=c.get("limit"),
            dtype=DTYPES[c["itemsize"]] if "itemsize" in c else None,
            previous_chunks=tup(c["previous"]) if "previous" in c else None,
        )
    )


def broadcast(c):
    arrays = [ones(a["shape"], a["chunks"]) for a in c["arrays"]]
    out = da.core.elemwise(lambda *xs: xs[0], *arrays, dtype=float)
    plan = c["plan"]
    assert list(out.shape) == plan["shape"], "shape"
    # every block of every input as the plan places it, against numpy
    for i, a in enumerate(c["arrays"]):
        x = data(a["shape"])
        full = np.broadcast_to(x, out.shape)
        for k, idx in enumerate(each_block(plan["chunks"])):
            index = [j + 1 for j in idx]
            want = full[block_slices(plan["chunks"], index)]
            p = plan["blocks"][i][k]
            got = x[block_slices(a["chunks"], p["block"])]
            if p["regions"] is not None:
                got = got[tuple(slice(s, s + n) for s, n in p["regions"])]
            if not np.array_equal(np.broadcast_to(got, want.shape), want):
                return {"bad_block": index, "input": i + 1}
    return {"chunks": lists(out.chunks)}


def getitem(c):
    shape = tuple(c["shape"])
    index = eval("np.s_" + c["py"])
    want = data(shape)[index]
    answer = {"shape": list(want.shape), "chunks": lists(ones(shape, c["chunks"])[index].chunks)}
    plan = c["plan"]
    x = data(shape)
    for k, idx in enumerate(each_block(plan["chunks"])):
        index_ = [j + 1 for j in idx]
        p = plan["blocks"][k]
        got = x[block_slices(c["chunks"], p["block"])]
        sel = tuple(r[0] if drop else local(*r) for r, drop in zip(p["regions"], plan["drop"]))
        got = got[sel]
        if not np.array_equal(got, want[block_slices(plan["chunks"], index_)]):
            return {"bad_block": index_}
    return answer


def rechunk(c):
    old, new = tup(c["old"]), tup(c["new"])
    steps = plan_rechunk(old, new, c["itemsize"], c.get("threshold"), c.get("limit"))
    answer = {"steps": lists(steps)}
    shape = tuple(sum(o) for o in old)
    x = data(shape)
    for s in c.get("blocks", []):
        sold, snew = s["old"], s["new"]
        for k, idx in enumerate(each_block(snew)):
            index = [j + 1 for j in idx]
            want = x[block_slices(snew, index)]
            got = np.full(want.shape, -1)
            for piece in s["pieces"][k]:
                src = x[block_slices(sold, piece["block"])]
                src = src[tuple(slice(a, a + n) for a, n in piece["src"])]
                got[tuple(slice(a, a + n) for a, n in piece["dst"])] = src
            if not np.array_equal(got, want):
                return {"bad_block": index}
    return answer


def tree(c):
    x = ones(c["shape"], c["chunks"])
    axis = None if c["axes"] is None else tuple(a - 1 if a > 0 else a for a in c["axes"])
    split = c.get("split_every")
    if isinstance(split, dict):
        split = {int(k) - 1: v for k, v in split.items()}
    s = x.sum(axis=axis, split_every=split, keepdims=c["keepdims"])
    hlg = s.dask
    order = [n for n in hlg._toposort_layers() if n not in x.dask.layers]
    dsk = dict(hlg)
    levels = []
    for name in order[1:]:  # after the chunk step
        tasks = sorted(k for k in hlg.layers[name] if isinstance(k, tuple))
        groups = []
        for k in tasks:
            deps = sorted(d[1:] for d in get_dependencies(dsk, k))
            groups.append([[i + 1 for i in k[1:]], [[i + 1 for i in d] for d in deps]])
        levels.append(groups)
    return {"levels": levels, "chunks": lists(s.chunks)}


def reshape(c):
    x = ones(c["shape"], c["chunks"])
    y = x.reshape(tuple(c["newshape"]))
    answer = {"chunks": lists(y.chunks), "shape": list(y.shape)}
    if x.npartitions > 1 and tuple(y.shape) != x.shape:
        rin, rout = reshape_rechunk(x.shape, y.shape, x.chunks)
        answer["inchunks"] = lists(rin)
    return answer


def join(c):
    arrays = [ones(a["shape"], a["chunks"]) for a in c["arrays"]]
    f = da.concatenate if c["op"] == "concatenate" else da.stack
    y = f(arrays, axis=c["axis"] - 1)
    return {"chunks": lists(y.chunks), "shape": list(y.shape)}


def transpose(c):
    x = ones(c["shape"], c["chunks"])
    if c.get("perm") is None:
        return lists(x.transpose().chunks)
    return lists(x.transpose(tuple(p - 1 for p in c["perm"])).chunks)


def summary(c):
    x = ones(c["shape"], c["chunks"], c["dtype"])
    for _ in range(c["extra_layers"]):
        x = x + 1
    return [
        ["", "Array", "Chunk"],
        ["Bytes", format_bytes(x.nbytes), format_bytes(np.prod(x.chunksize, dtype=np.int64) * x.dtype.itemsize)],
        ["Shape", str(x.shape), str(x.chunksize)],
        ["Dask graph", "%d chunks in %s" % (x.npartitions, maybe_pluralize(len(x.dask.layers), "graph layer"))],
        ["Data type", "%s dusk.ndarray" % x.dtype],
    ]


def random_auto(c):
    return lists(da.random.random(tuple(c["shape"]), chunks="auto").chunks)


OPS = {
    "normalize": normalize,
    "broadcast": broadcast,
    "getitem": getitem,
    "rechunk": rechunk,
    "tree": tree,
    "reshape": reshape,
    "concatenate": join,
    "stack": join,
    "transpose": transpose,
    "summary": summary,
    "random_auto": random_auto,
}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    out = []
    for c in cases:
        try:
            out.append({"ok": OPS[c["op"]](c)})
        except Exception as e:  # the case's error is its answer
            out.append({"error": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
