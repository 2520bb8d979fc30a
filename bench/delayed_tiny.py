"""Dask's side of bench/delayed_tiny.lua: 20,000 tiny delayed tasks and a
pairwise tree sum of them."""
import sys
import time

from dask import delayed

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000


@delayed(pure=False)
def inc(x):
    return x + 1


@delayed(pure=False)
def add(x, y):
    return x + y


t0 = time.perf_counter()
level = [inc(i) for i in range(1, n + 1)]
tasks = n
while len(level) > 1:
    nxt = []
    for i in range(0, len(level), 2):
        if i + 1 < len(level):
            nxt.append(add(level[i], level[i + 1]))
            tasks += 1
        else:
            nxt.append(level[i])
    level = nxt
total = level[0]
print(f"time build {time.perf_counter() - t0:.6f}")
want = n * (n + 1) // 2 + n
for scheduler in ("threads", "sync"):
    t0 = time.perf_counter()
    got = total.compute(scheduler=scheduler)
    elapsed = time.perf_counter() - t0
    assert got == want, (got, want)
    print(f"time {scheduler} {elapsed:.6f}")
    print(f"time {scheduler}_per_task {elapsed / tasks:.9f}")
