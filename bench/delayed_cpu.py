"""Dask's side of bench/delayed_cpu.lua: 200 CPU-bound Python tasks of the
same arithmetic, summed, with Dask's sync and threads schedulers (the
threads scheduler shares the GIL) and the processes scheduler."""
import sys
import time

import dask
from dask import delayed

ntasks = int(sys.argv[1]) if len(sys.argv) > 1 else 200
iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 200000


@delayed(pure=False)
def work(seed, n):
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) % 2147483648
    return x % 1000


@delayed
def total(parts):
    return sum(parts)


if __name__ == "__main__":
    s = total([work(i, iterations) for i in range(1, ntasks + 1)])
    for scheduler in ("sync", "threads", "processes"):
        t0 = time.perf_counter()
        s.compute(scheduler=scheduler)
        print(f"time {scheduler} {time.perf_counter() - t0:.6f}")
