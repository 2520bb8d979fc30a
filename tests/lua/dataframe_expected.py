# The reference answers of tests/lua/dataframe_test.lua: reads a JSON list
# of cases on stdin, runs each with pandas (Debian's /usr/bin/python3) and
# prints a JSON object name -> result.
#
# A case: {"name", "read": {"files": [paths] | "glob": pattern, "sep",
# "header", "dtypes", "usecols", "na_values", "parse_dates", "quotechar"}
# or "table": {col: [values, null for a hole]}, "ops": [[op, arg], ...]
# (select, col, rename, drop, isnull, notnull), "final": {"op": ...}}.
# CSV files are read as dusk reads them: only empty fields (and na_values)
# are missing (keep_default_na=False), dtypes as pandas' nullable types.
#
# A result: {"kind": "frame", "columns", "dtypes", "index_names", "index":
# [[values of each index level]], "data": [[values of each column]]},
# {"kind": "series", "name", "dtype", "index_names", "index", "values"},
# {"kind": "scalar", "value"}, or {"kind": "error", "message"}.  Values:
# null for NaN / None / NaT, "inf" / "-inf", datetimes as nanoseconds.
import glob
import json
import math
import sys

import numpy as np
import pandas as pd

DTYPES = {"int64": "Int64", "float64": "float64", "string": str, "bool": "boolean"}


def read_one(path, r):
    sep = r.get("sep", ",")
    kw = dict(sep=sep, keep_default_na=False, na_values=[""] + list(r.get("na_values", [])),
              quotechar=r.get("quotechar", '"'))
    if r.get("header", True) is False:
        ncols = pd.read_csv(path, header=None, nrows=1, sep=sep, keep_default_na=False,
                            dtype=str).shape[1]
        kw["header"] = None
        kw["names"] = [str(i + 1) for i in range(ncols)]
    if r.get("usecols"):
        kw["usecols"] = r["usecols"]
    dtypes = {}
    dates = list(r.get("parse_dates", []))
    for c, t in (r.get("dtypes") or {}).items():
        if t == "datetime":
            dates.append(c)
        else:
            dtypes[c] = DTYPES[t]
    if dtypes:
        kw["dtype"] = dtypes
    if dates:
        kw["parse_dates"] = dates
    df = pd.read_csv(path, **kw)
    if r.get("usecols"):  # pandas keeps the file's order; so does dusk
        df = df[[c for c in df.columns if c in r["usecols"]]]
    return df


def nullable_bools(df):
    # an object column of booleans and nulls: pandas' "boolean", as dusk's bool
    for c in df.columns:
        s = df[c]
        if s.dtype == object and s.notna().any() and all(isinstance(v, (bool, np.bool_)) for v in s.dropna()):
            df[c] = s.astype("boolean")
    return df


def read(case):
    return nullable_bools(read_frames(case))


def read_frames(case):
    if "table" in case:
        t = case["table"]
        names = sorted(t)
        n = max((len(v) for v in t.values()), default=0)
        cols = {}
        for c in names:
            v = list(t[c]) + [None] * (n - len(t[c]))
            cols[c] = pd.Series(v, dtype=object).infer_objects()
        return pd.DataFrame(cols, columns=names)
    r = case["read"]
    files = sorted(glob.glob(r["glob"])) if "glob" in r else r["files"]
    frames = [read_one(p, r) for p in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def enc(v):
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        return None if pd.isna(v) else int(pd.Timestamp(v).value)
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, str):
        return v
    raise TypeError("no encoding for %r (%s)" % (v, type(v)))


def values(s):
    return [enc(v) for v in s.astype(object).tolist()]


def index_of(ix):
    if isinstance(ix, pd.RangeIndex) or (len(ix) == 0 and ix.nlevels == 1 and ix.name is None):
        return [], []
    if isinstance(ix, pd.MultiIndex):
        return list(ix.names), [values(pd.Series(ix.get_level_values(i))) for i in range(ix.nlevels)]
    return [ix.name], [values(pd.Series(ix))]


def out(v):
    if isinstance(v, pd.DataFrame):
        names, levels = index_of(v.index)
        return {"kind": "frame", "columns": [str(c) for c in v.columns],
                "dtypes": [str(t) for t in v.dtypes], "index_names": names, "index": levels,
                "data": [values(v.iloc[:, k]) for k in range(v.shape[1])]}
    if isinstance(v, pd.Series):
        names, levels = index_of(v.index)
        return {"kind": "series", "name": v.name if isinstance(v.name, str) else None,
                "dtype": str(v.dtype), "index_names": names, "index": levels, "values": values(v)}
    return {"kind": "scalar", "value": enc(v)}


def run(case):
    df = read(case)
    for op in case.get("ops", []):
        kind = op[0]
        if kind == "select":
            df = df[op[1]]
        elif kind == "col":
            df = df[op[1]]
        elif kind == "rename":
            df = df.rename(columns=op[1])
        elif kind == "drop":
            df = df.drop(columns=op[1])
        elif kind == "isnull":
            df = df.isnull()
        elif kind == "notnull":
            df = df.notnull()
        else:
            raise ValueError("no op " + kind)
    f = case.get("final", {"op": "compute"})
    op = f["op"]
    if op == "len":
        return {"kind": "scalar", "value": len(df)}
    if op == "compute":
        return out(df)
    if op == "head":
        return out(df.head(f["n"]))
    if op == "reduce":
        # dusk's reductions take no options but ddof; pandas' numeric
        # columns only where dusk would refuse the others
        kw = {"ddof": f["ddof"]} if "ddof" in f else {}
        if isinstance(df, pd.Series):
            return out(getattr(df, f["fn"])(**kw))
        return out(pd.Series({c: getattr(df[c], f["fn"])(**kw) for c in df.columns}))
    keys = f["keys"]
    gb = df.groupby(keys, sort=True, dropna=True)
    if op == "agg":
        spec = f["spec"]
        order = [c for c in df.columns if c in spec]  # dusk: the frame's column order
        pieces = []
        for c in order:
            ops = spec[c]
            if isinstance(ops, str):
                pieces.append(gb[c].agg(ops).rename(c))
            else:
                for o in ops:
                    pieces.append(gb[c].agg(o).rename(c + "_" + o))
        res = pd.concat(pieces, axis=1)
        return out(res)
    if op == "gb":  # every column but the keys (pandas would drop some)
        cols = [c for c in df.columns if c not in keys]
        return out(pd.concat([getattr(gb[c], f["fn"])().rename(c) for c in cols], axis=1))
    if op == "gbcol":
        return out(getattr(gb[f["col"]], f["fn"])())
    if op == "size":
        return out(gb.size())
    raise ValueError("no final " + op)


def main():
    cases = json.load(sys.stdin)
    res = {}
    for c in cases:
        try:
            res[c["name"]] = run(c)
        except Exception as e:  # a case pandas refuses: its message
            res[c["name"]] = {"kind": "error", "message": "%s: %s" % (type(e).__name__, e)}
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
