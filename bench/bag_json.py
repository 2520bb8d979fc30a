"""Dask's side of bench/bag_json.lua: the same pipeline with json.loads,
on Dask's processes scheduler (its default for bags) and threads."""
import json
import sys
import time

import dask.bag as db

pattern = sys.argv[1] if len(sys.argv) > 1 else "bench/data/accounts.*.json.gz"


def positive(r):
    t = r["transactions"]
    return len(t) > 0 and t[0]["amount"] > 0


if __name__ == "__main__":
    for scheduler in ("processes", "threads"):
        t0 = time.perf_counter()
        top = (db.read_text(pattern).map(json.loads).filter(positive).pluck("name")
               .frequencies().topk(10, key=1).compute(scheduler=scheduler))
        print(f"time {scheduler} {time.perf_counter() - t0:.6f}")
    print(top, file=sys.stderr)
