"""bench/serial.lua's workloads with cloudpickle (what Dask sends functions
with): "time LABEL SECONDS" per round trip, the best of a few."""
import time

import cloudpickle
import pickle

a, b, c = 2, 3, [1, 2]
closure = lambda x: x * a + b + len(c)
ints = list(range(1, 1000001))
records = [{"id": i, "name": "user%d" % i, "score": i / 7, "ok": i % 2 == 0}
           for i in range(1, 100001)]


def best(value, reps):
    t = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(reps):
            pickle.loads(cloudpickle.dumps(value))
        t = min(t, (time.process_time() - t0) / reps)
    return t


print("time closure", best(closure, 20000))
print("time ints_1M", best(ints, 3))
print("time records_100k", best(records, 3))
