"""Dask's side of bench/array_sum.lua: (y + y.T).sum(axis=0).sum() of a
random n x n array in c x c chunks."""
import resource
import sys
import time

import dask.array as da

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
c = int(sys.argv[2]) if len(sys.argv) > 2 else 2000

if __name__ == "__main__":
    y = da.random.random((n, n), chunks=(c, c))
    t0 = time.perf_counter()
    s = (y + y.T).sum(axis=0).sum().compute()
    print(f"time sum {time.perf_counter() - t0:.6f}")
    assert abs(s / (n * n) - 1) < 1e-3
    print(f"peak sum {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
