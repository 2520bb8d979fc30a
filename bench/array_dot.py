"""Dask's side of bench/array_dot.lua: x.dot(x.T).sum() of a random n x n
array in c x c chunks."""
import sys
import time

import dask.array as da

n = int(sys.argv[1]) if len(sys.argv) > 1 else 4000
c = int(sys.argv[2]) if len(sys.argv) > 2 else 1000

if __name__ == "__main__":
    x = da.random.random((n, n), chunks=(c, c))
    t0 = time.perf_counter()
    s = x.dot(x.T).sum().compute()
    print(f"time dot {time.perf_counter() - t0:.6f}")
