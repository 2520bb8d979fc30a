/*
 * fuzz_pure: record functions run in C (pure.compile, each_record) on
 * any text, against the same functions run by Lua on the decoded record.
 *
 * The input becomes one line (newlines made spaces) of a file; each
 * function is run as a map stage by json.each_record, and what comes out
 * (through C, or handed back to Lua) must be what Lua gives, or the same
 * error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/lio.h"
#include "bind/ljson.h"
#include "bind/lpure.h"
#include "serial/serial.h"

static const char check[] =
  "local json, path = ...\n"
  "local pure = require 'dusk.pure'\n"
  "local null = json.null\n"
  "local fns = {\n"
  "  function(r) local t = r.transactions return #t > 0 and t[1].amount > 0 end,\n"
  "  function(r) return r.name end,\n"
  "  function(r) return r[1] end,\n"
  "  function(r) return r.a.b[2] == 'x' or #r.a end,\n"
  "  function(r) return r.n * 2 - 1 end,\n"
  "  function(r) return r[r.k] end,\n"
  "  function(r) return #r >= 2 and r[2] / 3 end,\n"
  "  function(r) return not r.x and r.y < 1.5 end,\n"
  "}\n"
  "local progs = {}\n"
  "for i, f in ipairs(fns) do progs[i] = assert(pure.compile(f)) end\n"
  "local function same(a, b)\n"
  "  if type(a) == 'userdata' and type(b) == 'userdata' and a ~= null and b ~= null then\n"
  "    local oka, ta = pcall(tostring, a)\n"
  "    local okb, tb = pcall(tostring, b)\n"
  "    return oka == okb and ta == tb\n"
  "  end\n"
  "  if type(a) == 'number' and type(b) == 'number' then\n"
  "    return math.type(a) == math.type(b) and (a == b or (a ~= a and b ~= b))\n"
  "  end\n"
  "  return a == b\n"
  "end\n"
  "return function(s)\n"
  "  s = s:gsub('[\\r\\n]', ' ')\n"
  "  local f = assert(io.open(path, 'w'))\n"
  "  f:write(s, '\\n')\n"
  "  f:close()\n"
  "  for i, fn in ipairs(fns) do\n"
  "    local got\n"
  "    local ok, err = pcall(json.each_record, path, nil, json.decode, {{'map', progs[i]}},\n"
  "      function(l) got = fn(json.decode(l)) end, function(r) got = fn(r) end,\n"
  "      function(x) got = x end)\n"
  "    local lok, r = pcall(json.decode, s)\n"
  "    local want\n"
  "    if lok then lok, want = pcall(fn, r) end\n"
  "    if lok ~= ok then error(string.format('function %d: Lua %s, C %s', i, tostring(want), tostring(err or got))) end\n"
  "    if ok and not same(got, want) then\n"
  "      error(string.format('function %d: Lua %s, C %s', i, tostring(want), tostring(got)))\n"
  "    end\n"
  "  end\n"
  "end\n";

static lua_State *L;
static char path[64];

static void done(void) {
  lua_close(L);
  unlink(path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  serial_baseline(L);
  luaL_requiref(L, "dusk.serial", luaopen_dusk_serial, 0);
  luaL_requiref(L, "dusk.io", luaopen_dusk_io, 0);
  luaL_requiref(L, "dusk.pure", luaopen_dusk_pure, 0);
  lua_pop(L, 3);
  snprintf(path, sizeof path, "/tmp/fuzz_pure.%ld", (long)getpid());
  if (luaL_loadbuffer(L, check, sizeof check - 1, "=check") != LUA_OK) abort();
  luaL_requiref(L, "dusk.json", luaopen_dusk_json, 0);
  lua_pushstring(L, path);
  lua_call(L, 2, 1);
  atexit(done);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  if (memchr(data, 0, size) != NULL) return 0; /* a line holds no NUL from a text file */
  lua_pushvalue(L, 1);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_pure: %s\n", lua_tostring(L, -1));
    abort();
  }
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
