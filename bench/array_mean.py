"""Dask's side of bench/array_mean.lua: the mean of a random array of
n^3 float64 in c^3 chunks, with Dask's default (threads) scheduler."""
import resource
import sys
import time

import dask.array as da

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
c = int(sys.argv[2]) if len(sys.argv) > 2 else 250

if __name__ == "__main__":
    x = da.random.random((n, n, n), chunks=(c, c, c))
    t0 = time.perf_counter()
    m = x.mean().compute()
    print(f"time mean {time.perf_counter() - t0:.6f}")
    assert abs(m - 0.5) < 1e-3
    print(f"peak mean {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
