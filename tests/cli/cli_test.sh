#!/bin/sh
# The dusk command as a shell user runs it: exit statuses, output streams,
# arguments, shebang scripts, standard input.
#
# usage: cli_test.sh path/to/dusk      (ends with "N passed, N failed")
set -u
DUSK=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0 failed=0

# check WHAT EXPECTED_STATUS EXPECTED_STDOUT_PATTERN [STDERR_PATTERN] -- runs
# the command in $TMP/cmd (a shell snippet) and compares.
check() {
  what=$1 want_status=$2 want_out=$3 want_err=${4:-}
  (cd "$TMP" && sh ./cmd >"$TMP/out" 2>"$TMP/err")
  status=$?
  ok=1
  [ "$status" -eq "$want_status" ] || ok=0
  grep -Eq -- "$want_out" "$TMP/out" || { [ -z "$want_out" ] && [ ! -s "$TMP/out" ]; } || ok=0
  if [ -n "$want_err" ]; then grep -Eq -- "$want_err" "$TMP/err" || ok=0; fi
  if [ $ok -eq 1 ]; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what (status $status, wanted $want_status)"
    sed 's/^/  cmd: /' "$TMP/cmd"
    sed 's/^/  out: /' "$TMP/out" | head -10
    sed 's/^/  err: /' "$TMP/err" | head -10
  fi
}
cmd() { printf '%s\n' "$1" >"$TMP/cmd"; }

cmd "\"$DUSK\" --version"
check "--version" 0 '^dusk [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4\.[0-9]+, zstd [0-9.]+\)$'
check "--version names the BLAS" 0 '^blas: (OpenBLAS [0-9.]+, core [A-Za-z0-9]+ \((chosen by dusk|set by OPENBLAS_CORETYPE|detected by OpenBLAS)\)|none \(.*\): plain C loops)$'
cmd "DUSK_BLAS=none \"$DUSK\" --version"
check "--version without a BLAS" 0 '^blas: none \(DUSK_BLAS=none\): plain C loops$'
cmd "\"$DUSK\" -v"
check "-v" 0 '^dusk '
cmd "\"$DUSK\" --help"
check "--help" 0 '^usage: dusk'
cmd "\"$DUSK\" --frobnicate"
check "an unknown option fails" 1 '' "unrecognized option '--frobnicate'"
cmd "\"$DUSK\" -e"
check "-e without code fails" 1 '' "'-e' needs an argument"

cmd "\"$DUSK\" -e 'print(1 + 1)'"
check "-e runs code" 0 '^2$'
cmd "\"$DUSK\" -e 'x = 20' -e 'print(x + 1)'"
check "several -e run in order" 0 '^21$'
cmd "\"$DUSK\" -e 'print(type(dusk), require(\"dusk\") == dusk)'"
check "the dusk global and require(\"dusk\")" 0 '^table	true$'
cmd "\"$DUSK\" -l dusk.pretty -e 'print(type(_G[\"dusk.pretty\"]))'"
check "-l requires a module" 0 '^table$'
cmd "\"$DUSK\" -e 'error(\"bad thing\")'"
check "an error in -e exits 1" 1 '' 'bad thing'

cat >"$TMP/args.lua" <<'LUA'
print(arg[0], arg[1], arg[2], #arg, select("#", ...), ...)
print(arg[-1] ~= nil)
LUA
cmd "\"$DUSK\" args.lua one 'two words'"
check "arg and ... as in lua(1)" 0 '^args\.lua	one	two words	2	2	one	two words$'
cmd "\"$DUSK\" -- args.lua -e"
check "-- ends options" 0 '^args\.lua	-e	nil	1	1	-e$'

cat >"$TMP/job" <<'LUA'
#!/usr/bin/env dusk
io.write("shebang ", tostring(dusk ~= nil), " ", arg[1], "\n")
LUA
chmod +x "$TMP/job"
cmd "PATH=\"$(dirname "$DUSK"):\$PATH\" ./job x"
check "a #!/usr/bin/env dusk script runs" 0 '^shebang true x$'

cat >"$TMP/fails.lua" <<'LUA'
local function inner() error("the input was wrong") end
local function outer() inner() end
outer()
LUA
cmd "\"$DUSK\" fails.lua"
check "a failing script exits 1" 1 '' '^dusk: fails\.lua:1: the input was wrong$'
check "with a traceback naming the file and line" 1 '' 'fails\.lua:2: in (local|upvalue) .outer.'

printf 'x = = 1\n' >"$TMP/syntax.lua"
cmd "\"$DUSK\" syntax.lua"
check "a syntax error names the file and line" 1 '' "syntax\.lua:1: unexpected symbol near '='"
cmd "\"$DUSK\" missing.lua"
check "a missing script" 1 '' 'cannot open missing\.lua'
cmd "\"$DUSK\" -e 'os.exit(3)'"
check "os.exit sets the status" 3 ''
cmd "\"$DUSK\" -e 'io.stderr:write(\"to stderr\\n\")'"
check "stderr stays stderr" 0 '' 'to stderr'

cmd "printf 'print(\"from stdin\", ...)\n' | \"$DUSK\" - a b"
check "- runs standard input as the program" 0 '^from stdin	a	b$'

cmd "printf '1 + 1\nlocal y = 2\ny * 3\nfunction f()\n  return \"multi\"\nend\nf()\n' | \"$DUSK\""
check "REPL on a pipe: values printed, locals kept, multi-line" 0 '^"multi"$'
cmd "printf '1 + 1\nlocal y = 2\ny * 3\n' | \"$DUSK\" | tr '\n' ' '"
check "REPL on a pipe prints no prompt" 0 '^2 6 $'
cmd "printf 'error(\"oops\")\nprint(\"still here\")\n' | \"$DUSK\""
check "REPL on a pipe goes on after an error, exit 0" 0 '^still here$' 'oops'
cmd "printf 'function f(\n' | \"$DUSK\""
check "input ending mid-statement is reported" 0 '' 'unfinished statement'

cmd "\"$DUSK\" -e 'while true do end' & pid=\$!; sleep 0.3; kill -INT \$pid; wait \$pid"
check "SIGINT interrupts a script: status 130" 130 '' 'interrupted!'

cat >"$TMP/spin.lua" <<'LUA'
local spin = dusk.delayed(function(n) while true do n = n + 1 end end)
print("computing")
io.stdout:flush()
spin(1):compute()
LUA
cmd "\"$DUSK\" spin.lua & pid=\$!; sleep 0.5; kill -INT \$pid; wait \$pid"
check "SIGINT stops a script's compute: status 130" 130 '^computing$' 'interrupted!'
cmd "DUSK_SCHEDULER=sync \"$DUSK\" spin.lua & pid=\$!; sleep 0.5; kill -INT \$pid; wait \$pid"
check "and with the sync scheduler" 130 '^computing$' 'interrupted!'

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
