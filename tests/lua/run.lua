-- The Lua test runner, run by dusk itself:
--
--   dusk tests/lua/run.lua tests/lua/pretty_test.lua [...]
--
-- A test file is a chunk that receives the harness and declares tests:
--
--   local t = ...
--   t.test("what must hold", function() t.eq(f(1), 2) end)
--
-- Each test runs in its own protected call; a failure prints the test's
-- name and the message with its traceback.  The runner ends with the line
-- "N passed, N failed" (", N pending" when cases are marked t.pending)
-- and exits non-zero if anything failed.

local pretty = require "dusk.pretty"

local t = {}
local tests = {}

function t.test(name, fn) tests[#tests + 1] = { name = name, fn = fn } end

local function fail(msg, level) error(msg, (level or 1) + 2) end

-- Deep equality of plain values and tables.
local function same(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then
    return a ~= a and b ~= b -- NaN equals NaN here
  end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do if not same(v, b[k], seen) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
t.same = same

function t.eq(got, want, what)
  if not same(got, want) then
    fail(string.format("%sexpected %s, got %s", what and what .. ": " or "",
                       pretty(want), pretty(got)))
  end
end

function t.truthy(v, what)
  if not v then fail((what or "expected a true value") .. ", got " .. pretty(v)) end
end

-- Asserts that 'fn' raises an error whose message contains 'pattern'
-- (a plain substring).  Returns the message.
function t.raises(pattern, fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then fail("expected an error containing " .. pretty(pattern)) end
  err = tostring(err)
  if not err:find(pattern, 1, true) then
    fail("expected an error containing " .. pretty(pattern) .. ", got " .. pretty(err))
  end
  return err
end

-- Marks a case that fails today for a known reason, being fixed elsewhere:
--
--   t.test("what must hold", t.pending("pluck of a missing key", function() ... end))
--
-- The case still runs.  Failing, it is reported as pending (with the
-- reason and its first message line) and does not fail the suite; once it
-- passes it FAILS, so that whoever fixed it removes the mark.
local pendings = {}
function t.pending(reason, fn)
  return function()
    local ok, err = xpcall(fn, debug.traceback)
    if ok then fail("passes now: remove its t.pending(" .. pretty(reason) .. ")") end
    pendings[#pendings + 1] = { reason = reason, err = tostring(err):match("[^\n]*") }
  end
end

-- Runs a shell command; returns its exit status, stdout and stderr.
function t.sh(cmd)
  local errfile = os.tmpname()
  local p = io.popen(cmd .. " 2>" .. errfile, "r")
  local out = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile)
  local err = f:read("a")
  f:close()
  os.remove(errfile)
  return code, out, err
end

-- Files for tests: a new empty directory, and whole files written and
-- read as bytes.
function t.tmpdir()
  local _, out = t.sh("mktemp -d /tmp/dusk-test-XXXXXX")
  return (out:gsub("%s+$", ""))
end

function t.write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  assert(f:close())
end

function t.read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- The dusk binary under test: the one running this runner.
local i = 0
while arg[i - 1] do i = i - 1 end
t.dusk = arg[i]

local passed, failed, pending = 0, 0, 0
for _, file in ipairs(arg) do
  tests = {}
  local chunk = assert(loadfile(file))
  chunk(t)
  for _, case in ipairs(tests) do
    local marks = #pendings
    local ok, err = xpcall(case.fn, debug.traceback)
    if not ok then
      failed = failed + 1
      print(string.format("FAIL %s: %s\n%s", file, case.name, err))
    elseif #pendings > marks then
      pending = pending + 1
      local p = pendings[#pendings]
      print(string.format("PENDING %s: %s (%s)\n  %s", file, case.name, p.reason, p.err))
    else
      passed = passed + 1
    end
  end
end
print(string.format("%d passed, %d failed", passed, failed) ..
      (pending > 0 and string.format(", %d pending", pending) or ""))
os.exit(failed == 0 and 0 or 1)
