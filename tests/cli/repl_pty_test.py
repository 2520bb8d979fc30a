#!/usr/bin/env python3
"""The REPL as a person uses it: dusk runs on a pseudo-terminal and this
test types at it and reads the screen, key by key.

usage: repl_pty_test.py path/to/dusk
Prints one line per failed check and ends with "N passed, N failed".
"""
import os
import pty
import re
import select
import signal
import sys
import tempfile
import time

DUSK = os.path.abspath(sys.argv[1])
passed = failed = 0


class Session:
    """dusk on a pseudo-terminal, with its own history file."""

    def __init__(self, history, args=()):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.environ["DUSK_HISTORY"] = history
            os.environ["TERM"] = "xterm"
            os.environ.pop("EDITRC", None)
            os.environ["HOME"] = os.path.dirname(history)  # no ~/.editrc
            os.execv(DUSK, [DUSK, *args])
        self.out = b""

    def send(self, keys):
        os.write(self.fd, keys.encode() if isinstance(keys, str) else keys)

    def expect(self, pattern, timeout=5.0):
        """Waits until the output since the last match contains 'pattern'
        (a regular expression); returns the text up to and including it,
        or None on timeout."""
        deadline = time.time() + timeout
        rx = re.compile(pattern.encode(), re.S)
        while True:
            m = rx.search(self.out)
            if m:
                seen, self.out = self.out[:m.end()], self.out[m.end():]
                return seen.decode(errors="replace")
            left = deadline - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    data = os.read(self.fd, 4096)
                except OSError:
                    data = b""
                if not data:
                    m = rx.search(self.out)
                    return None if not m else self.expect(pattern, 0)
                self.out += data

    def wait(self, timeout=5.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
            try:  # drain, so the child never blocks on a full terminal
                if select.select([self.fd], [], [], 0.05)[0]:
                    self.out += os.read(self.fd, 4096)
            except OSError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        return None


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}" + (f"\n  saw: {detail!r}" if detail else ""))


def typed(s, keys, pattern, what, timeout=5.0):
    s.send(keys)
    seen = s.expect(pattern, timeout)
    check(what, seen is not None, s.out[-300:])
    return seen


def main():
    tmp = tempfile.mkdtemp(prefix="dusk-pty-")
    history = os.path.join(tmp, "history")

    s = Session(history)
    check("prompt appears", s.expect(r"^> ") is not None, s.out)
    typed(s, "1 + 1\r", r"\r\n2\r\n> ", "an expression's value is printed")
    typed(s, "'a', 2, nil\r", r'"a"\t2\tnil\r\n> ', "several values are printed")
    typed(s, "{1, 2, {a = 1}, b = 'x'}\r", r'\{1, 2, \{a = 1\}, b = "x"\}\r\n> ',
          "tables are pretty-printed")
    typed(s, "local t = {}; t.self = t\r", r"> ", "a statement")
    typed(s, "t\r", r"\{self = <cycle>\}", "cycles are marked")
    typed(s, "local x = 5\r", r"> ", "a top-level local")
    typed(s, "x * 2\r", r"\r\n10\r\n> ", "a top-level local stays visible")
    typed(s, "function f()\r", r"\r\n>> ", "an incomplete statement continues")
    typed(s, "  return 3\r", r">> ", "and continues")
    typed(s, "end\r", r"\r\n> ", "until it is complete")
    typed(s, "f()\r", r"\r\n3\r\n> ", "the multi-line function works")
    typed(s, "x = = 1\r", r"unexpected symbol near '='\r\n> ",
          "a syntax error is reported")
    typed(s, "x + 1\r", r"\r\n6\r\n> ", "the REPL works after a syntax error")
    typed(s, "error('boom')\r", r"boom.*stack traceback.*\r\n> ",
          "a runtime error is reported with a traceback")
    typed(s, "string.for\t", r"mat\(", "tab completes a field")
    typed(s, "'%d!', 7)\r", r"\r\n\"7!\"\r\n> ", "the completed call runs")
    typed(s, "x:\t", r"", "nothing to complete on a number")  # beeps
    s.send("\x15")  # Ctrl-U: clear the line
    s.expect(r"> ")
    typed(s, "table.\t", r"concat.*insert.*unpack", "tab lists the choices")
    s.send("\x15")
    typed(s, "ipai\t", r"rs\(", "tab completes a global")
    s.send("\x15")
    typed(s, "garbage that is not lua", r"lua", "text typed")
    typed(s, "\x03", r"\^C\r\n> ", "Ctrl-C abandons the line")
    typed(s, "2 + 2\r", r"\r\n4\r\n> ", "the abandoned text is gone")
    typed(s, "function g()\r", r">> ", "a multi-line entry")
    typed(s, "\x03", r"\^C\r\n> ", "Ctrl-C abandons a multi-line entry")
    typed(s, "3 + 3\r", r"\r\n6\r\n> ", "and the REPL is back at a fresh entry")
    typed(s, "while true do end\r", r"while true do end\r\n", "a long computation")
    time.sleep(0.2)
    t0 = time.time()
    typed(s, "\x03", r"interrupted!.*\r\n> ", "Ctrl-C interrupts a computation")
    check("within a second", time.time() - t0 < 1.0)
    typed(s, "'after'\r", r'"after"\r\n> ', "the REPL works after an interrupt")

    # Ctrl-C during a compute, on either scheduler, and a compute after it
    typed(s, "spin = dusk.delayed(function(n) while true do n = n + 1 end end)\r", r"> ",
          "a task that never ends")
    for sched in ("threads", "sync"):
        typed(s, f"spin(1):compute{{scheduler = '{sched}'}}\r", r"\r\n", f"computing ({sched})")
        time.sleep(0.8)
        t0 = time.time()
        s.send("\x03")
        seen = s.expect(r"interrupted!.*?\r\n> ", 3)
        check(f"Ctrl-C stops a compute ({sched})", seen is not None, s.out[-300:])
        check(f"back at the prompt within 200 ms ({sched})", time.time() - t0 < 0.2,
              f"{time.time() - t0:.3f} s")
        typed(s, f"dusk.delayed(function(x) return x * 2 end)(21):compute{{scheduler = '{sched}'}}\r",
              r"\r\n42\r\n> ", f"the next compute works ({sched})")

    # at a terminal, a long compute shows a progress bar (on stderr)
    typed(s, "slow = dusk.delayed(function(i) local c = require('dusk.core') "
             "local t = c.now() + 0.3 while c.now() < t do end return i end)\r", r"> ", "slow tasks")
    typed(s, "parts = {} for i = 1, 6 do parts[i] = slow(i) end\r", r"> ", "six of them")
    typed(s, "#dusk.delayed(parts):compute()\r", r"\] 7/7 tasks .*\r\n6\r\n> ",
          "a progress bar, then the result", timeout=10)
    typed(s, "'last'\r", r'"last"\r\n> ', "a last entry")
    s.send("\x04")
    check("Ctrl-D exits with status 0", s.wait() == 0, s.out)

    with open(history) as f:
        saved = f.read()
    check("history is saved", "x\\040*\\0402" in saved or "x * 2" in saved, saved)
    check("multi-line entries are saved whole", "function\\040f()" in saved, saved)

    s = Session(history)
    s.expect(r"> ")
    typed(s, "\x1b[A", r"'last'", "up arrow recalls the last entry of the last session")
    typed(s, "\r", r'"last"\r\n> ', "and runs it")
    s.send("\x04")
    check("exits again", s.wait() == 0, s.out)

    # -i: run a script, then the REPL with the script's globals
    script = os.path.join(tmp, "s.lua")
    with open(script, "w") as f:
        f.write("greeting = 'hello from ' .. arg[0]:match('[^/]*$')\n")
    s = Session(history, ["-i", script])
    typed(s, "greeting\r", r'"hello from s\.lua"\r\n> ', "-i runs the script first")
    s.send("\x04")
    check("-i session exits", s.wait() == 0)

    # a session of its own for what once hung the REPL
    s = Session(history)
    s.expect(r"> ")
    # Ctrl-C while a pipeline runs in C (dusk.pure), on either scheduler
    for sched in ("threads", "sync"):
        typed(s, "dusk.bag.range(1000000000000, {npartitions = 4})"
                 f":map(function(x) return x + 1 end):sum():compute{{scheduler = '{sched}'}}\r",
              r"\r\n", f"a pipeline run in C ({sched})")
        time.sleep(0.8)
        t0 = time.time()
        s.send("\x03")
        seen = s.expect(r"interrupted!.*?\r\n> ", 3)
        check(f"Ctrl-C stops it ({sched})", seen is not None, s.out[-300:])
        check(f"back at the prompt within a second ({sched})", time.time() - t0 < 1.0,
              f"{time.time() - t0:.3f} s")
        typed(s, "1 + 1\r", r"\r\n2\r\n> ", f"the REPL works after it ({sched})")

    # Tab through an __index that never returns (or catches what stops it)
    typed(s, "hang = setmetatable({}, {__index = function() while true do end end})\r", r"> ",
          "an __index that never returns")
    typed(s, "catch = setmetatable({}, {__index = function() while true do "
             "pcall(function() while true do end end) end end})\r", r"> ",
          "one that catches every error")
    for name in ("hang", "catch"):
        t0 = time.time()
        typed(s, f"{name}.a.\t", rf"completion failed: stopped after 1 s\r\n.*?> {name}\.a\.",
              f"Tab through {name}'s __index gives up", timeout=4)
        check(f"after about a second ({name})", time.time() - t0 < 2.0, f"{time.time() - t0:.3f} s")
        s.send("\x15")
        s.send(f"{name}.b.\t")
        time.sleep(0.3)
        t0 = time.time()
        s.send("\x03")
        seen = s.expect(rf"completion failed: [^\r]*interrupted!\r\n.*?> {name}\.b\.", 2)
        check(f"Ctrl-C stops that Tab at once ({name})", seen is not None and time.time() - t0 < 0.5,
              f"{time.time() - t0:.3f} s: {s.out[-300:]!r}")
        s.send("\x15")
        typed(s, "1 + 2\r", r"\r\n3\r\n> ", f"the REPL works after it ({name})")

    # Tab asks before listing many names, as readline does
    typed(s, "big = {} for i = 1, 5000 do big[('abcdefghij'):sub(i % 10 + 1, i % 10 + 1) .. i] = i end\r",
          r"> ", "5,000 names sharing no prefix")
    typed(s, "big.\t", r"\r?\nDisplay all 5000 possibilities\? \(y or n\)",
          "Tab asks before listing 5,000 names")
    s.send("n")
    seen = s.expect(r"> big\.", 2)
    check("n: the line comes back and nothing is listed", seen is not None and "j4999" not in seen,
          s.out[-300:])
    typed(s, "\t", r"Display all 5000 possibilities", "Tab asks again")
    typed(s, "y", r"j4999.*> big\.", "y lists them", timeout=10)
    s.send("\x15")
    s.expect(r"> ")

    # strings print as Lua source a terminal shows as it is
    typed(s, "'\\xff\\27[1m\\u{9B}\\u{e9}\\0' .. 1\r", r'\r\n"\\255\\027\[1m\\u\{9B\}é\\0001"\r\n> ',
          "control bytes and bytes that are not UTF-8 are escaped")

    s.send("\x04")
    check("that session exits with status 0", s.wait() == 0, s.out)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
