/*
 * lmodules: the Lua modules of every state dusk makes.  Embedded Lua
 * modules are registered in package.preload, one C closure per module
 * holding its index, so nothing is parsed until a module is required:
 * start-up stays a few hundred microseconds.  The C modules of bind/ are
 * preloaded the same way.
 */
#include "bind/lmodules.h"

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "dusk_config.h"
#include "sandbox/sandbox.h"
#include "serial/serial.h"

#include "bind/lbuffer.h"
#include "bind/lgraph.h"
#include "bind/ljson.h"
#include "bind/lio.h"
#include "bind/lpure.h"

const lmod_module *lmod_find(const char *name) {
  for (const lmod_module *m = lmod_embedded; m->name != NULL; m++)
    if (strcmp(m->name, name) == 0) return m;
  return NULL;
}

/* package.preload loader: upvalue 1 is the module's index in lmod_embedded. */
static int load_embedded(lua_State *L) {
  const lmod_module *m = &lmod_embedded[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbufferx(L, m->source, m->len, m->chunkname, "t") != LUA_OK)
    return lua_error(L);
  /* dusk's modules see the real globals, even when a task of a sealed
   * worker requires them first */
  sandbox_push_globals(L);
  lua_setupvalue(L, -2, 1);
  lua_pushvalue(L, 1); /* module name, as require passes it */
  lua_call(L, 1, 1);
  return 1;
}

/* Modules written in C, preloaded like the embedded Lua ones. */
static const luaL_Reg c_modules[] = {
  {"dusk.serial", luaopen_dusk_serial},
  {"dusk.core", luaopen_dusk_core},
  {"dusk.json", luaopen_dusk_json},
  {"dusk.io", luaopen_dusk_io},
  {"dusk.pure", luaopen_dusk_pure},
  {NULL, NULL}
};

int lmod_open(lua_State *L) {
  luaL_openlibs(L);
  serial_baseline(L); /* before any user code changes the standard tables */
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const luaL_Reg *m = c_modules; m->name != NULL; m++) {
    lua_pushcfunction(L, m->func);
    lua_setfield(L, -2, m->name);
  }
  for (int i = 0; lmod_embedded[i].name != NULL; i++) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, lmod_embedded[i].name);
  }
  lua_pop(L, 1);
  lbuffer_open(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk");
  lua_call(L, 1, 1);
  lua_pushliteral(L, DUSK_VERSION);
  lua_setfield(L, -2, "version");
  lua_setglobal(L, "dusk");
  return 0;
}

