/* Unit tests of Lua state creation and embedded modules (src/runtime.c). */
#include <string.h>

#include <lauxlib.h>

#include "bind/lmodules.h"
#include "exec/runtime.h"
#include "testhelp.h"

int main(void) {
  TEST("the dusk module is embedded", lmod_find("dusk") != NULL);
  TEST("the REPL module is embedded", lmod_find("dusk.repl") != NULL);
  TEST("unknown modules are not found", lmod_find("dusk.nope") == NULL);
  const lmod_module *m = lmod_find("dusk.pretty");
  TEST("chunk names point into lua/", m && strcmp(m->chunkname, "@lua/dusk/pretty.lua") == 0);

  char err[256];
  lua_State *L = rt_newstate(lmod_open, err, sizeof err);
  TEST("a state is created", L != NULL);
  if (L == NULL) return test_report();
  TEST("the dusk global is a table", lua_getglobal(L, "dusk") == LUA_TTABLE);
  lua_pop(L, 1);
  TEST("require of a submodule works",
       luaL_dostring(L, "return require('dusk.pretty')({1, 2})") == LUA_OK
       && strcmp(lua_tostring(L, -1), "{1, 2}") == 0);
  lua_settop(L, 0);
  TEST("dusk.version is set",
       luaL_dostring(L, "return dusk.version") == LUA_OK && lua_isstring(L, -1));
  lua_settop(L, 0);

  /* rt_docall returns the error with a traceback and keeps the state usable */
  luaL_loadstring(L, "local function f() error('boom') end f()");
  TEST("a failing call reports an error", rt_docall(L, 0, 0) == LUA_ERRRUN);
  const char *msg = lua_tostring(L, -1);
  TEST("the message is kept", msg && strstr(msg, "boom") != NULL);
  TEST("a traceback is added", msg && strstr(msg, "stack traceback") != NULL);
  lua_settop(L, 0);
  TEST("the state works after an error", luaL_dostring(L, "return 1 + 1") == LUA_OK
       && lua_tointeger(L, -1) == 2);
  lua_close(L);
  return test_report();
}
