"""Dask's side of bench/bag_pure.lua, with the processes scheduler (Dask's
default for bags) and the threads scheduler."""
import sys
import time

import dask.bag as db

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000000


def even(x):
    return x % 2 == 0


def square(x):
    return x * x


if __name__ == "__main__":
    b = db.range(n, npartitions=8).filter(even).map(square).sum()
    for label, scheduler in (("processes", "processes"), ("threads", "threads")):
        t0 = time.perf_counter()
        total = b.compute(scheduler=scheduler)
        print(f"time {label} {time.perf_counter() - t0:.6f}")
        assert total == sum(x * x for x in range(0, n, 2))
