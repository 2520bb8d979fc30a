/* Unit tests of compute's error paths (src/bind/lrun.c): a compute that
 * raises midway leaves no reference behind, and out of memory anywhere
 * is an error of its own, after which the state computes again. */
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "bind/lgraph_int.h"
#include "bind/lmodules.h"
#include "exec/runtime.h"
#include "testhelp.h"

/* Runs 'code' (which must not fail); returns its first result as a
 * string, "" for none. */
static const char *run(lua_State *L, const char *code) {
  lua_settop(L, 0);
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("unexpected error: %s\n", lua_tostring(L, -1));
    return "";
  }
  return lua_isstring(L, 1) ? lua_tostring(L, 1) : "";
}

/* The references held on the block of the Stored in global 'name'. */
static unsigned refs_of(lua_State *L, const char *name) {
  lua_getglobal(L, name);
  stored_ud *st = luaL_checkudata(L, -1, STORED);
  unsigned n = st->b ? atomic_load(&st->b->refcount) : 0;
  lua_pop(L, 1);
  return n;
}

/* Layers alive in the state's graph (dusk.core's state, upvalue 1 of its
 * functions). */
static size_t live_layers(lua_State *L) {
  run(L, "return require('dusk.core').compute");
  lua_getupvalue(L, 1, 1);
  core_state *cs = lua_touserdata(L, -1);
  size_t n = graph_live_layers(cs->g);
  lua_settop(L, 0);
  return n;
}

int main(void) {
  char err[256];
  lua_State *L = rt_newstate(lmod_open, err, sizeof err);
  TEST("a state", L != NULL);
  if (L == NULL) return test_report();
  run(L, "core = require 'dusk.core'\n"
         "kept = core.stored_new({10, 20, 30})\n"
         "layer = core.layer({__gc = core.release}, 'kept', 3, kept)\n"
         "inc = dusk.delayed(function(x) return x + 1 end)(41)");
  TEST("the Stored holds its block once", refs_of(L, "kept") == 1);
  TEST("a compute of both",
       strcmp(run(L, "local r = core.compute({layer, inc}, {2, 1}, {scheduler = 'sync'})\n"
                     "return r[1] .. ' ' .. r[2]"), "20 42") == 0);
  TEST("and the job's reference is gone", refs_of(L, "kept") == 1);
  size_t layers = live_layers(L);

  /* a bad option found after the plan and the specs were made (the
   * options dusk.config checks are not checked again in C) */
  const char *msg = run(L, "local ok, e = pcall(core.compute, {layer, inc}, {1, 1}, {num_workers = 'x'})\n"
                           "return not ok and e");
  TEST("a bad option raises", strstr(msg, "number expected") != NULL);
  TEST("the job's reference to the block is dropped", refs_of(L, "kept") == 1);
  msg = run(L, "local ok, e = pcall(core.persist, {layer}, {1}, {1}, {scheduler = 'nope'})\n"
               "return not ok and e");
  TEST("persist with an unknown scheduler raises", strcmp(msg, "unknown scheduler") == 0);
  TEST("and drops its reference too", refs_of(L, "kept") == 1);

  /* out of memory at every allocation in turn: the first is planning's;
   * every failure is an error about memory, the block keeps one
   * reference, and in the end the compute succeeds */
  int first = 0, others = 0, done = 0;
  for (long k = 1; k < 2000 && !done; k++) {
    lua_settop(L, 0);
    luaL_loadstring(L, "return pcall(core.compute, {layer, inc}, {3, 1}, {scheduler = 'sync'})");
    base_alloc_fail_after(k);
    lua_call(L, 0, 2);
    base_alloc_fail_after(-1);
    if (lua_toboolean(L, 1)) {
      lua_rawgeti(L, 2, 1);
      lua_rawgeti(L, 2, 2);
      done = lua_tointeger(L, -2) == 30 && lua_tointeger(L, -1) == 42;
    } else {
      const char *e = lua_tostring(L, 2);
      if (k == 1) first = e && strcmp(e, "not enough memory to plan the graph") == 0;
      else if (e && strstr(e, "not enough memory")) others++;
      else printf("k = %ld: %s\n", k, e ? e : "(not a string)");
    }
    if (refs_of(L, "kept") != 1) {
      printf("k = %ld: %u references\n", k, refs_of(L, "kept"));
      break;
    }
  }
  TEST("the first failure is planning's own message", first);
  TEST("later ones are errors about memory", others > 3);
  TEST("and at last the compute succeeds", done);
  TEST("no layer made or lost", live_layers(L) == layers);
  lua_close(L);
  return test_report();
}
