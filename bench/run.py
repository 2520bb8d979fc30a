#!/usr/bin/env python3
"""The benchmark harness: runs every workload through dusk and, where
/usr/bin/python3 has dask, through Dask in the same run, and prints a
table of medians and the ratio (Dask time / dusk time: above 1, dusk is
faster).  The DataFrame workloads run through DuckDB as well (node and
npm's @duckdb/node-api, installed by `npm ci` in bench/ on first use),
in two more columns.

usage: bench/run.py [--dusk build/dusk] [--before OLD_DUSK] [--runs N] [workload ...]

--before runs a second dusk binary (say, one built from the last commit)
in the same rounds and adds its medians and the ratio old/new.

A workload is measured one of two ways:
  process   the wall time of the whole command (start-up, say)
  reported  the command prints lines "time LABEL SECONDS" for what it
            timed itself; each label gets its own row (and lines "peak
            LABEL MIB", its peak resident memory, a row "peak LABEL")
Every measurement runs the command afresh N times and takes the median.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DASK_PYTHON = "/usr/bin/python3"

# name, how it is measured, runs, the dusk command, the Dask command, and
# optionally the Dask label every dusk row is compared with (the issue's
# yardstick for bags: Dask's processes scheduler, its default for bags);
# without it a dusk row is compared with the Dask row of the same label.
# "{dusk}" is the binary under test, "{bench}" this directory.
WORKLOADS = [
    ("startup", "process", 20,
     ["{dusk}", "-e", ""],
     [DASK_PYTHON, "-c", "import dask, dask.bag, dask.delayed"]),
    ("delayed tiny", "reported", 5,
     ["{dusk}", "{bench}/delayed_tiny.lua", "20000"],
     [DASK_PYTHON, "{bench}/delayed_tiny.py", "20000"]),
    ("bag pure", "reported", 5,
     ["{dusk}", "{bench}/bag_pure.lua"],
     [DASK_PYTHON, "{bench}/bag_pure.py"], "processes"),
    # needs the data of bench/gen_accounts.lua (made on first use)
    ("bag json", "reported", 3,
     ["{dusk}", "{bench}/bag_json.lua", "{bench}/data/accounts.*.json.gz", "dusk.json"],
     [DASK_PYTHON, "{bench}/bag_json.py", "{bench}/data/accounts.*.json.gz"], "processes"),
    # the same with lua-cjson's decode (whole Lua tables), dusk only
    ("bag json cjson", "reported", 3,
     ["{dusk}", "{bench}/bag_json.lua", "{bench}/data/accounts.*.json.gz", "cjson"],
     None),
    # ~10 ms tasks on each side: Python needs fewer iterations for that
    ("delayed cpu", "reported", 3,
     ["{dusk}", "{bench}/delayed_cpu.lua", "200", "1000000"],
     [DASK_PYTHON, "{bench}/delayed_cpu.py", "200", "85000"]),
    # dusk.serial against cloudpickle (Dask's) on the same shapes
    ("serial", "reported", 3,
     ["{dusk}", "{bench}/serial.lua"],
     [DASK_PYTHON, "{bench}/serial.py"]),
    # the seeds' arrays (issue 13): a 1000^3 random mean that never exists
    # whole, a transposed sum of 20000^2, a product of 4000^2
    ("array mean", "reported", 3,
     ["{dusk}", "{bench}/array_mean.lua"],
     [DASK_PYTHON, "{bench}/array_mean.py"]),
    ("array sum", "reported", 3,
     ["{dusk}", "{bench}/array_sum.lua"],
     [DASK_PYTHON, "{bench}/array_sum.py"]),
    ("array dot", "reported", 3,
     ["{dusk}", "{bench}/array_dot.lua"],
     [DASK_PYTHON, "{bench}/array_dot.py"]),
    # its yardstick: one plain cblas_dgemm of the same size (bench/dgemm_bench.c)
    ("dgemm", "reported", 3,
     ["{dir}/dgemm_bench", "4000", "1000"],
     None),
    # the seeds' DataFrame queries over 1 GiB of NYC-taxi-shaped CSVs in 8
    # files (bench/gen_taxi.lua, made on first use), each query reading
    # them again, in processes of its own (its peak memory its own); DuckDB
    # too (DUCKDB)
    ("df rows", "reported", 3,
     ["{dusk}", "{bench}/df_taxi.lua", "{bench}/data/taxi", "rows"],
     [DASK_PYTHON, "{bench}/df_taxi.py", "{bench}/data/taxi", "rows"]),
    ("df isnull", "reported", 3,
     ["{dusk}", "{bench}/df_taxi.lua", "{bench}/data/taxi", "isnull"],
     [DASK_PYTHON, "{bench}/df_taxi.py", "{bench}/data/taxi", "isnull"]),
    ("df groupby", "reported", 3,
     ["{dusk}", "{bench}/df_taxi.lua", "{bench}/data/taxi", "groupby"],
     [DASK_PYTHON, "{bench}/df_taxi.py", "{bench}/data/taxi", "groupby"]),
]

# The third engine's commands, by workload: DuckDB through node.
DUCKDB = {
    name: ["node", "{bench}/df_taxi_duckdb.mjs", "{bench}/data/taxi", query]
    for name, query in (("df rows", "rows"), ("df isnull", "isnull"), ("df groupby", "groupby"))
}


# Commands that make a workload's data before its first run.
SETUP = {
    "bag json cjson": ["env", "LUA_PATH_5_4={bench}/../stdlib/?.lua;;", "{dusk}",
                       "{bench}/gen_accounts.lua", "{bench}/data"],
    "bag json": ["env", "LUA_PATH_5_4={bench}/../stdlib/?.lua;;", "{dusk}",
                 "{bench}/gen_accounts.lua", "{bench}/data"],
}
for _name in DUCKDB:
    SETUP[_name] = ["env", "LUA_PATH_5_4={bench}/../stdlib/?.lua;;", "{dusk}",
                    "{bench}/gen_taxi.lua", "{bench}/data/taxi", "8", "1GiB"]


def have_dask():
    try:
        return subprocess.run([DASK_PYTHON, "-c", "import dask"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


_duckdb = None


def have_duckdb():
    """node and @duckdb/node-api: installed from bench/package-lock.json
    (npm ci) the first time it is missing; checked once a run."""
    global _duckdb
    if _duckdb is None:
        _duckdb = False
        if not os.path.isdir(os.path.join(HERE, "node_modules", "@duckdb", "node-api")):
            try:
                p = subprocess.run(["npm", "ci"], cwd=HERE, capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"(npm ci in {HERE} failed: no DuckDB)\n{p.stderr}")
                    return False
            except OSError:
                print("(no npm: no DuckDB; apt-get install nodejs npm)")
                return False
        try:
            _duckdb = subprocess.run(["node", "-e", "require('@duckdb/node-api')"], cwd=HERE,
                                     capture_output=True).returncode == 0
        except OSError:
            pass
        if not _duckdb:
            print("(no node or no @duckdb/node-api: no DuckDB; apt-get install nodejs npm)")
    return _duckdb


def expand(cmd, dusk):
    """'{dusk}' is the binary, '{dir}' its build directory, '{bench}' here."""
    return [a.replace("{dusk}", dusk).replace("{dir}", os.path.dirname(dusk)).replace("{bench}", HERE)
            for a in cmd]


def measure(cmds, how, runs, dask_last=False):
    """Runs each command of 'cmds' in turn, 'runs' rounds (interleaved, so
    that the machine's drift falls on all alike); returns one {label:
    [seconds, ...]} per command."""
    times = [{} for _ in cmds]
    for r in range(runs):
        # The process that follows a Dask run is measurably slower (caches,
        # clock), so Dask's command (the last) goes first in every round and
        # the others take turns behind it.
        rest = list(range(len(cmds) - 1)) if dask_last else list(range(len(cmds)))
        rest = rest[r % len(rest):] + rest[:r % len(rest)]
        order = ([len(cmds) - 1] if dask_last else []) + rest
        for cmd, t in ((cmds[i], times[i]) for i in order):
            t0 = time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True)
            elapsed = time.perf_counter() - t0
            if p.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{p.stderr}")
            if how == "process":
                t.setdefault("wall", []).append(elapsed)
            else:
                for line in p.stdout.splitlines():
                    parts = line.split()
                    if len(parts) == 3 and parts[0] == "time":
                        t.setdefault(parts[1], []).append(float(parts[2]))
                    elif len(parts) == 3 and parts[0] == "peak":
                        t.setdefault("peak " + parts[1], []).append(float(parts[2]) * 2**20)
    return times


def fmt(seconds, label=""):
    if seconds is None:
        return "-"
    if label.startswith("peak "):
        return f"{seconds / 2**20:.0f} MiB"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dusk", default=os.path.join(HERE, "..", "build", "dusk"))
    ap.add_argument("--before", default=None,
                    help="another dusk binary, measured in the same rounds")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per measurement (default: per workload)")
    ap.add_argument("workloads", nargs="*")
    args = ap.parse_args()
    dusk = os.path.abspath(args.dusk)
    before = os.path.abspath(args.before) if args.before else None
    dask = have_dask()
    if not dask:
        print(f"(no dask in {DASK_PYTHON}: dusk only; "
              "apt-get install python3-dask python3-distributed python3-pandas)")
    rows = []
    any_duck = False
    for name, how, runs, dusk_cmd, dask_cmd, *against in WORKLOADS:
        if args.workloads and name not in args.workloads:
            continue
        against = against[0] if against else None
        n = args.runs or runs
        if name in SETUP:
            subprocess.run(expand(SETUP[name], dusk), check=True, capture_output=True)
        cmds = [expand(dusk_cmd, dusk)]
        has_before = bool(before) and os.path.exists(expand(dusk_cmd, before)[0])
        if has_before:
            cmds.append(expand(dusk_cmd, before))
        has_duck = name in DUCKDB and have_duckdb()
        any_duck = any_duck or has_duck
        if has_duck:
            cmds.append(expand(DUCKDB[name], dusk))
        if dask and dask_cmd:
            cmds.append(expand(dask_cmd, dusk))
        got = measure(cmds, how, n, dask_last=bool(dask and dask_cmd))
        ours = got[0]
        old = got[1] if has_before else {}
        duck = got[1 + has_before] if has_duck else {}
        theirs = got[-1] if dask and dask_cmd else {}
        for label in ours:
            a = statistics.median(ours[label])
            other = against or label
            b = statistics.median(theirs[other]) if other in theirs else None
            ratio = f"{b / a:.1f}x" if b else "-"
            if b and against:
                ratio += f" (vs {against})"
            o = statistics.median(old[label]) if label in old else None
            d = statistics.median(duck[label]) if label in duck else None
            rows.append((name, label, n, a, b, ratio, o, f"{o / a:.2f}" if o else "-",
                         d, f"{d / a:.1f}x" if d else "-"))
        for label in theirs:
            if label != against and (against or label not in ours):
                d = statistics.median(duck[label]) if label in duck else None
                rows.append((name, label, n, None, statistics.median(theirs[label]), "-", None, "-",
                             d, "-"))
        for label in duck:  # (what the loop above left)
            if label not in ours and not (label in theirs and label != against):
                rows.append((name, label, n, None, None, "-", None, "-",
                             statistics.median(duck[label]), "-"))
    head = ["workload", "measure", "runs", "dusk (median)", "dask (median)", "dask/dusk"]
    if any_duck:
        head += ["duckdb (median)", "duckdb/dusk"]
    if before:
        head += ["before (median)", "before/dusk"]
    table = [head] + [[r[0], r[1], str(r[2]), fmt(r[3], r[1]), fmt(r[4], r[1]), r[5]]
                      + ([fmt(r[8], r[1]), r[9]] if any_duck else [])
                      + ([fmt(r[6], r[1]), r[7]] if before else []) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        if i == 0:
            print("-" * (sum(widths) + 2 * (len(widths) - 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
