#!/usr/bin/env python3
"""Ctrl-C as a user sends it: each script runs as a process of its own,
prints "go" when its long call starts, gets SIGINT 0.4 s later and must
exit at once (130, "interrupted" on stderr), whichever loop runs then: C
loops over a range, JSON lines, text being read or decompressed, a table
being encoded, on either scheduler.  Each loop would run for many
seconds if it did not stop.  Then pcall: a task cannot swallow the
interrupt, and a caller's pcall catches it once, on both schedulers.

usage: interrupt_test.py path/to/dusk
Prints one line per failed check and ends with "N passed, N failed".
"""
import gzip
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

DUSK = os.path.abspath(sys.argv[1])
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}" + (f"\n  {detail}" if detail else ""))


def run(script, env=None, delay=0.4, limit=1.5):
    """Runs 'script' (Lua source), sends SIGINT 'delay' s after it printed
    "go"; returns (status, seconds from SIGINT to exit, stdout, stderr),
    status None when it was still running 'limit' s after SIGINT."""
    p = subprocess.Popen([DUSK, "-e", script], cwd=TMP, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=dict(os.environ, **(env or {})))
    line = p.stdout.readline()
    if line.strip() != b"go":
        p.kill()
        out, err = p.communicate()
        return "no go", 0, (line + out).decode(errors="replace"), err.decode(errors="replace")
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    t0 = time.time()
    try:
        out, err = p.communicate(timeout=limit)
        status = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        status = None
    return status, time.time() - t0, out.decode(errors="replace"), err.decode(errors="replace")


def interrupts(what, script, env=None):
    status, took, out, err = run(script, env)
    check(f"{what}: SIGINT ends it with status 130 and 'interrupted'",
          status == 130 and "interrupted" in err,
          f"status {status} after {took:.2f} s; out {out[-200:]!r}; err {err[-300:]!r}")


def make_data():
    line = b'{"a": 1, "b": "xyz", "c": [1, 2, 3]}\n'
    chunk = line * ((16 << 20) // len(line))  # 16 MiB of JSON lines
    with open(os.path.join(TMP, "recs.json"), "wb") as f:
        f.write(chunk)
    member = gzip.compress(chunk, 1)
    with open(os.path.join(TMP, "recs.json.gz"), "wb") as f:
        f.write(member * 64)  # 1 GiB once decoded
    text = b"x" * 99 + b"\n"
    with open(os.path.join(TMP, "lines.txt"), "wb") as f:
        f.write(text * ((16 << 20) // len(text)))
    with open(os.path.join(TMP, "lines.txt.gz"), "wb") as f:
        f.write(gzip.compress(text * ((16 << 20) // len(text)), 1) * 64)
    # zstd by dusk's own writer: one frame, repeated (frames concatenate)
    subprocess.run([DUSK, "-e", 'local t = {} for i = 1, 160000 do t[i] = ("x"):rep(99) end '
                    'assert(require("dusk.io").write_lines("one.zst", t))'], cwd=TMP, check=True)
    with open(os.path.join(TMP, "one.zst"), "rb") as f:
        frame = f.read()
    with open(os.path.join(TMP, "lines.txt.zst"), "wb") as f:
        f.write(frame * 64)


# many copies of one 16 MiB file: partitions that read for seconds
def paths(name, n=128):
    return "{" + ", ".join([f'"{name}"'] * n) + "}"


def fifo(name):
    """A named pipe that yields JSON lines for as long as it is read: one
    partition (a plain file of no size) whose C loop never ends."""
    path = os.path.join(TMP, name)
    if os.path.exists(path):
        os.unlink(path)
    os.mkfifo(path)
    chunk = b'{"a": 1, "b": "xyz", "c": [1, 2, 3]}\n' * 100000

    def feed():
        try:
            with open(path, "wb") as f:
                while True:
                    f.write(chunk)
        except OSError:  # the reader is gone
            pass
    threading.Thread(target=feed, daemon=True).start()
    return f'"{name}"'


GO = 'print("go") io.stdout:flush() '


def main():
    make_data()
    db = "local db = dusk.bag "
    pure_sum = db + GO + "print(db.range(1000000000000, {npartitions = 4})" \
                         ":map(function(x) return x + 1 end):sum():compute())"
    for sched in ("threads", "sync"):
        env = {"DUSK_SCHEDULER": sched}
        interrupts(f"a range summed in C ({sched})", pure_sum, env)
        interrupts(f"a range filtered in C to nothing ({sched})",
                   db + GO + "print(#db.range(1000000000000, {npartitions = 4})"
                   ":filter(function(x) return x < 0 end):compute())", env)
        interrupts(f"JSON lines filtered in C ({sched})",
                   db + f"local b = db.read_text({fifo('recs.pipe')})" + GO +
                   "print(b:map(dusk.json.decode):filter(function(r) return r.a > 5 end)"
                   ":count():compute())", env)
    interrupts("JSON lines of many partitions filtered in C",
               db + GO + f"print(db.read_text({paths('recs.json')}):map(dusk.json.decode)"
               ":filter(function(r) return r.a > 5 end):count():compute())")
    interrupts("gzip JSON lines filtered in C",
               db + GO + f"print(db.read_text({paths('recs.json.gz', 4)}):map(dusk.json.decode)"
               ":filter(function(r) return r.a > 5 end):count():compute())")
    interrupts("frequencies counted in C",
               db + f"local b = db.read_text({fifo('recs.pipe')})" + GO +
               "print(b:map(dusk.json.decode):pluck('b'):frequencies():compute())")
    for name in ("lines.txt", "lines.txt.gz", "lines.txt.zst"):
        n = 128 if name == "lines.txt" else 4
        interrupts(f"read_text line count of {name}",
                   db + GO + f"print(db.read_text({paths(name, n)}):count():compute())")
    interrupts("io.read_lines of a gzip file, in the caller's state",
               GO + 'print(#require("dusk.io").read_lines("lines.txt.gz"))')
    interrupts("json.encode of a large table",
               "local inner = {} for i = 1, 100 do inner[i] = i end "
               "local t = {} for i = 1, 2000000 do t[i] = inner end "
               + GO + "print(#dusk.json.encode(t))")

    # pcall: one Ctrl-C is one error for the caller, never swallowed by a task
    spin = "local spin = dusk.delayed(function() while true do end end) "
    catcher = ("local catcher = dusk.delayed(function() "
               "while true do pcall(function() while true do end end) end end) ")
    swallow = ("local swallow = dusk.delayed(function() "
               "local ok, e = pcall(function() while true do end end) return 'swallowed' end) ")
    for sched in ("threads", "sync"):
        env = {"DUSK_SCHEDULER": sched}
        for name, task in (("spins", spin + "local t = spin()"),
                           ("catches in a loop", catcher + "local t = catcher()"),
                           ("catches and returns", swallow + "local t = swallow()")):
            status, took, out, err = run(
                task + " " + GO + "print(pcall(function() return t:compute() end)) "
                "local x = 0 for i = 1, 1000 do x = x + i end print('after', x)", env)
            check(f"a task that {name}: the caller's pcall gets 'interrupted!', "
                  f"once ({sched})",
                  status == 0 and "false\tinterrupted!\nafter\t500500\n" in out,
                  f"status {status} after {took:.2f} s; out {out!r}; err {err[-300:]!r}")
        status, took, out, err = run(spin + GO + "spin():compute()", env)
        check(f"without a pcall the script ends with 130 ({sched})",
              status == 130 and "interrupted!" in err, f"status {status}; err {err[-300:]!r}")
        # a compute of many tasks (~10 ms each, seconds in all) cancelled in
        # the middle: one clean error, and the next computes work
        many = ("local work = dusk.delayed(function(i) local s = 0 "
                "for k = 1, 2000000 do s = s + k end return i end) "
                "local total = dusk.delayed(function(t) local s = 0 "
                "for _, v in ipairs(t) do s = s + v end return s end) "
                "local ts = {} for i = 1, 1000 do ts[i] = work(i) end ")
        status, took, out, err = run(
            many + GO + "print(pcall(function() return total(ts):compute() end)) "
            "collectgarbage() "
            "print('next', total({work(1), work(2), work(3)}):compute(), "
            "dusk.compute(work(7), dusk.delayed(function(x) return x + 1 end)(41)))", env)
        check(f"a compute of many tasks interrupted in the middle: 'interrupted!' "
              f"once, then the next computes work ({sched})",
              status == 0 and "false\tinterrupted!\nnext\t6\t7\t42\n" in out,
              f"status {status} after {took:.2f} s; out {out!r}; err {err[-300:]!r}")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    TMP = tempfile.mkdtemp(prefix="dusk-intr-")
    try:
        sys.exit(main())
    finally:
        shutil.rmtree(TMP, ignore_errors=True)
