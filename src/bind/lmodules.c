/*
 * lmodules: the Lua modules of every state dusk makes.  Embedded Lua
 * modules are registered in package.preload, one C closure per module
 * holding its index, so nothing is parsed until a module is required:
 * start-up stays a few hundred microseconds.  The C modules of bind/ are
 * preloaded the same way.
 */
#include "bind/lmodules.h"

#include <pthread.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/alloc.h"
#include "dusk_config.h"
#include "sandbox/sandbox.h"
#include "serial/serial.h"

#include "bind/larrayio.h"
#include "bind/lbuffer.h"
#include "bind/larray.h"
#include "bind/lgraph.h"
#include "bind/ljson.h"
#include "bind/lio.h"
#include "bind/lframe.h"
#include "bind/lndarray.h"
#include "bind/lpure.h"

const lmod_module *lmod_find(const char *name) {
  for (const lmod_module *m = lmod_embedded; m->name != NULL; m++)
    if (strcmp(m->name, name) == 0) return m;
  return NULL;
}

/*
 * Each embedded module's bytecode, dumped by the first state that parses
 * it: every later state (each worker of each pool) loads the dump instead
 * of parsing the source again.  A worker of a bag computation parses ~46 KB
 * of Lua (bagops, runner, spec, pretty), ~140 instructions a byte; loading
 * the dump costs a fraction of that.  The dump keeps its debug information
 * (tracebacks keep their lines, chunk names stay) and is the running Lua's
 * own format.  A dump is published once under the lock and never changes
 * or goes away: readers use it without the lock.
 */
#define NDUMPS 64 /* modules past this many are parsed every time */
typedef struct dump {
  unsigned char *p;
  size_t len, cap;
} dump;
static dump dumps[NDUMPS];
static pthread_mutex_t dumps_lock = PTHREAD_MUTEX_INITIALIZER;

static int dump_writer(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  dump *d = ud;
  if (d->len + n > d->cap) {
    size_t cap = d->cap ? d->cap : 4096;
    while (cap < d->len + n) cap *= 2;
    unsigned char *q = base_realloc(d->p, cap);
    if (q == NULL) return 1;
    d->p = q;
    d->cap = cap;
  }
  memcpy(d->p + d->len, p, n);
  d->len += n;
  return 0;
}

/* Loads module 'i' (its main function pushed) from its dump, or from its
 * source, then dumping it for the next states (a failed dump is only not
 * kept). */
static int load_module(lua_State *L, lua_Integer i) {
  const lmod_module *m = &lmod_embedded[i];
  dump d = {NULL, 0, 0};
  if (i < NDUMPS) {
    pthread_mutex_lock(&dumps_lock);
    d = dumps[i];
    pthread_mutex_unlock(&dumps_lock);
  }
  if (d.p != NULL) return luaL_loadbufferx(L, (const char *)d.p, d.len, m->chunkname, "b");
  int status = luaL_loadbufferx(L, m->source, m->len, m->chunkname, "t");
  if (status != LUA_OK || i >= NDUMPS) return status;
  if (lua_dump(L, dump_writer, &d, 0) != 0 || d.p == NULL) {
    base_free(d.p);
    return LUA_OK;
  }
  pthread_mutex_lock(&dumps_lock);
  if (dumps[i].p == NULL) {
    dumps[i] = d;
    d.p = NULL;
  }
  pthread_mutex_unlock(&dumps_lock);
  base_free(d.p); /* another state's came first */
  return LUA_OK;
}

/* package.preload loader: upvalue 1 is the module's index in lmod_embedded. */
static int load_embedded(lua_State *L) {
  if (load_module(L, lua_tointeger(L, lua_upvalueindex(1))) != LUA_OK)
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
  {"dusk.arrayio", luaopen_dusk_arrayio},
  {"dusk.ndarray", luaopen_dusk_ndarray},
  {"dusk.arraycore", luaopen_dusk_arraycore},
  {"dusk.framecore", luaopen_dusk_framecore},
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
  lndarray_open(L);
  lframe_open(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk");
  lua_call(L, 1, 1);
  lua_pushliteral(L, DUSK_VERSION);
  lua_setfield(L, -2, "version");
  lua_setglobal(L, "dusk");
  return 0;
}

