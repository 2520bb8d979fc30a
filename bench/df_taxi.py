"""Dask's side of bench/df_taxi.lua: the three queries over every CSV of
DIR (dd.read_csv in 64 MB blocks, Dask's default threads scheduler), each
reading the files again -- len(df), df.isnull().sum(), payment_type's means
of total_amount and trip_distance.  Prints "time QUERY SECONDS" and "peak
QUERY MIB" (the process's peak resident memory) for bench/run.py, the
answers on stderr.  With a query named, only that one runs (bench/run.py
measures each in its own process, so that the peak is its own); without,
all three and "peak all".

    /usr/bin/python3 bench/df_taxi.py DIR [rows | isnull | groupby]
"""
import resource
import sys
import time

import dask.dataframe as dd

QUERIES = ("rows", "isnull", "groupby")

# Dask infers a CSV's dtypes from its first 10 rows (sample_rows): here, as
# in the real taxi files, that makes int64 of columns with empty cells
# further on and of money printed "0" or "12" (tolls_amount, ...), and the
# first partition that disagrees is an error ("Mismatched dtypes found in
# pd.read_csv").  Dask's remedy: name them -- the dtypes pandas gives the
# whole file.
DTYPES = {c: "float64" for c in (
    "passenger_count", "RateCodeID", "fare_amount", "extra", "mta_tax", "tip_amount",
    "tolls_amount", "improvement_surcharge", "total_amount")}


def frame(d):
    return dd.read_csv(d + "/*.csv", blocksize="64MB", dtype=DTYPES)


def rows(d):
    return [f"rows {len(frame(d))}"]


def isnull(d):
    counts = frame(d).isnull().sum().compute()
    return [f"null {name} {n}" for name, n in counts.items()]


def groupby(d):
    df = frame(d)
    means = (df[["payment_type", "total_amount", "trip_distance"]].groupby("payment_type")
             .agg({"total_amount": "mean", "trip_distance": "mean"}).compute().sort_index())
    return [f"mean {p} {r.total_amount!r} {r.trip_distance!r}" for p, r in means.iterrows()]


def peak():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB


if __name__ == "__main__":
    if len(sys.argv) < 2 or (len(sys.argv) > 2 and sys.argv[2] not in QUERIES):
        sys.exit("usage: df_taxi.py DIR [rows | isnull | groupby]")
    d = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else None
    for name in [only] if only else QUERIES:
        t0 = time.perf_counter()
        answer = globals()[name](d)
        print(f"time {name} {time.perf_counter() - t0:.6f}", flush=True)
        if only:
            print(f"peak {name} {peak():.1f}")
        print("\n".join(answer), file=sys.stderr)
    if not only:
        print(f"peak all {peak():.1f}")
