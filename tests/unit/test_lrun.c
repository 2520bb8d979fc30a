/* Unit tests of compute's error paths (src/bind/lrun.c): a compute that
 * raises midway leaves no reference behind, and out of memory anywhere
 * is an error of its own, after which the state computes again. */
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "bind/lgraph_int.h"
#include "bind/lmodules.h"
#include "bind/lspec.h"
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
 * functions), after a full collection. */
static size_t live_layers(lua_State *L) {
  lua_gc(L, LUA_GCCOLLECT);
  run(L, "return require('dusk.core').compute");
  lua_getupvalue(L, 1, 1);
  core_state *cs = lua_touserdata(L, -1);
  size_t n = graph_live_layers(cs->g);
  lua_settop(L, 0);
  return n;
}

/* lspec.h and lua/dusk/spec.lua say the same: what spec's constructors
 * build is found where the C readers look. */
static void test_spec_layout(lua_State *L) {
  run(L, "local S = require 'dusk.spec'\n"
         "local c, st, k = S.call('f', {}, 0, 1), S.stage('map', 'p'), S.keyed()\n"
         "return c[S.KIND], c[S.CALL_FN], c[S.CALL_NARGS], c[S.CALL_NOUT], type(c[S.CALL_ARGS]),\n"
         "  S.KIND, S.CALL_FN, S.CALL_ARGS, S.CALL_NARGS, S.CALL_NOUT, S.STAGE_KIND, S.STAGE_PROGRAM,\n"
         "  st[S.STAGE_KIND], st[S.STAGE_PROGRAM], type(k.keys), type(k.vals), type(k.orig)");
  TEST("a call, by its names", strcmp(lua_tostring(L, 1), LSPEC_CALL) == 0
       && strcmp(lua_tostring(L, 2), "f") == 0 && lua_tointeger(L, 3) == 0
       && lua_tointeger(L, 4) == 1 && strcmp(lua_tostring(L, 5), "table") == 0);
  TEST("the call's indexes are lspec.h's", lua_tointeger(L, 6) == LSPEC_KIND
       && lua_tointeger(L, 7) == LSPEC_CALL_FN && lua_tointeger(L, 8) == LSPEC_CALL_ARGS
       && lua_tointeger(L, 9) == LSPEC_CALL_NARGS && lua_tointeger(L, 10) == LSPEC_CALL_NOUT);
  TEST("a stage's too", lua_tointeger(L, 11) == LSPEC_STAGE_KIND
       && lua_tointeger(L, 12) == LSPEC_STAGE_PROGRAM
       && strcmp(lua_tostring(L, 13), "map") == 0 && strcmp(lua_tostring(L, 14), "p") == 0);
  lua_settop(L, 0);
  run(L, "return require('dusk.spec').keyed()");
  TEST("the keyed partial has the lists each_record counts into",
       lua_getfield(L, 1, LSPEC_KEYED_KEYS) == LUA_TTABLE
       && lua_getfield(L, 1, LSPEC_KEYED_VALS) == LUA_TTABLE
       && lua_getfield(L, 1, LSPEC_KEYED_ORIG) == LUA_TTABLE);
  lua_settop(L, 0);
  run(L, "local S = require 'dusk.spec'\n"
         "local d = dusk.delayed(function(x) return x end)(dusk.delayed(1))\n"
         "return require('dusk.core').payload(d)[S.CALL_ARGS][1]");
  TEST("a dependency's placeholder: its input where lrun.c reads it",
       lua_rawgeti(L, 1, LSPEC_DEP_INPUT) == LUA_TNUMBER && lua_tointeger(L, -1) == 1);
  lua_settop(L, 0);
}

int main(void) {
  char err[256];
  lua_State *L = rt_newstate(lmod_open, err, sizeof err);
  TEST("a state", L != NULL);
  if (L == NULL) return test_report();
  test_spec_layout(L);
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
