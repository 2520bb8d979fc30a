/*
 * lgraph: the Lua module "dusk.core", the C half of every collection
 * (computations run in lrun.c).
 *
 *   core.layer(mt, name, ntasks, spec, deps) -> layer (a userdata with
 *       metatable 'mt', whose __gc must be core.release); deps: a list of
 *       layers (each task reads all of the layer's tasks) or of
 *       {layer, split = k} (task i reads tasks [i*k, (i+1)*k) of it)
 *   core.release(layer)        drops the layer (idempotent)
 *   core.name(layer), core.ntasks(layer), core.payload(layer) (its spec)
 *   core.compute(layers, indexes, opts) -> list of results of task
 *       indexes[i] (1-based) of layers[i]; opts: scheduler ("threads" or
 *       "sync"), num_workers, fuse (default true), progress (true, false,
 *       or nil: when standard error is a terminal)
 *   core.persist(layers, indexes, counts, opts) -> list of stored blocks:
 *       like compute, but the results stay in C, counts[k] of them (in
 *       order) in the k-th block, a "dusk.Stored" userdata that a layer
 *       may have as its spec (its tasks are then those values)
 *   core.stored_new(list) -> a Stored of the list's values
 *   core.stored_bytes(stored), core.stored_release(stored),
 *   core.is_stored(v)
 *   core.plan(layers, indexes [, fuse]) -> the planned tasks, as tables:
 *       {tasks = {{chain = {{name=, index=, ntasks=, persisted=}, ...},
 *       inputs = {...}, priority=, requested=}, ...}, targets = {...}}
 *   core.list_length(t [, args]) -> n, or nil, position, key: the length
 *       of a list entering a Bag (see core_list_length)
 *   core.task_error(e [, prefix, level]) -> what a task's message handler
 *       returns for error e: a table as itself (noted), else the message
 *       with the traceback (rt_task_error)
 *   core.hash(s) -> 16 hex digits (FNV-1a, 64 bits)
 *   core.ncores() -> online processors
 *   core.now() -> seconds of a monotonic clock, for timing
 *   core.buffer(s) -> a dusk.Buffer of the bytes of s (lbuffer.c);
 *       core.buffer_info(b) -> its data's address and reference count
 *   core.pow(x, y) -> C's pow(x, y), as Python's x ** y of floats (Lua's
 *       x ^ 2 is x * x, which pow does not always give: bag var)
 *
 * Module state (the graph, the thread pool, the "sync" worker) lives in a
 * userdata shared as upvalue by all the functions, freed when the state
 * closes.  Inside a task (a worker's state), compute runs inline on that
 * worker, whatever the options say: a pool cannot wait for itself.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "base/hash.h"
#include "bind/lbuffer.h"
#include "bind/lclass.h"
#include "bind/lgraph.h"
#include "bind/lgraph_int.h"
#include "exec/runtime.h"

#define LAYER_MAGIC 0x64757361u /* "dusa" */
#define STATE "dusk.core.state" /* the module state's class */
#define LAYER_FEW_DEPS 8 /* core.layer's deps kept on the C stack */

typedef struct layer_ud {
  uint32_t magic;
  graph_id id;         /* 0 once released */
} layer_ud;

static int stored_release(lua_State *L) {
  stored_ud *st = luaL_checkudata(L, 1, STORED);
  if (st->b) store_decref(st->b);
  st->b = NULL;
  return 0;
}

static int stored_bytes(lua_State *L) {
  stored_ud *st = luaL_checkudata(L, 1, STORED);
  lua_pushinteger(L, st->b ? (lua_Integer)store_bytes(st->b) : 0);
  return 1;
}

stored_ud *lgraph_push_stored(lua_State *L) {
  return lclass_box(L, STORED, sizeof(stored_ud), 0);
}

static core_state *state_of(lua_State *L) {
  return lua_touserdata(L, lua_upvalueindex(1));
}

/* A layer died: its spec goes; persisted data goes at once rather than
 * at the next collection cycle. */
static void release_payload(void *ud, int64_t payload) {
  core_state *cs = ud;
  lua_State *L = cs->main;
  lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)payload);
  stored_ud *st = luaL_testudata(L, -1, STORED);
  if (st && st->b) {
    store_decref(st->b);
    st->b = NULL;
  }
  lua_pop(L, 1);
  luaL_unref(L, LUA_REGISTRYINDEX, (int)payload);
}

static int state_gc(lua_State *L) {
  core_state *cs = lua_touserdata(L, 1);
  sched_pool_free(cs->pool);
  cs->pool = NULL;
  if (cs->sync) exec_worker_free(NULL, cs->sync);
  cs->sync = NULL;
  graph_free(cs->g);
  cs->g = NULL;
  return 0;
}

static layer_ud *to_layer(lua_State *L, int idx) {
  layer_ud *l = lua_touserdata(L, idx);
  if (l == NULL || lua_rawlen(L, idx) != sizeof *l || l->magic != LAYER_MAGIC)
    return NULL;
  return l;
}

static graph_id check_layer(lua_State *L, core_state *cs, int idx) {
  layer_ud *l = to_layer(L, idx);
  if (l == NULL || l->id == 0 || cs->g == NULL)
    luaL_argerror(L, idx, "not a live layer");
  return l->id;
}

/* ---------------------------------------------------------------- layers */

/* A GRAPH_LIST dependency's lists from the table at the top ('reads':
 * per task a list of 1-based tasks of a layer of 'n'), in a userdata kept
 * in the table at 'anchors' (made here when it is nil) until the layer is
 * made. */
static void read_lists(lua_State *L, graph_dep *d, uint32_t ntasks, uint32_t n, int anchors) {
  int t = lua_gettop(L);
  luaL_argcheck(L, luaL_len(L, t) == ntasks, 5, "reads: one list per task");
  uint64_t total = 0;
  for (uint32_t i = 1; i <= ntasks; i++) {
    luaL_argcheck(L, lua_geti(L, t, i) == LUA_TTABLE, 5, "reads: a list per task");
    total += (uint64_t)luaL_len(L, -1);
    lua_pop(L, 1);
  }
  luaL_argcheck(L, total < UINT32_MAX, 5, "reads: too many");
  if (lua_isnil(L, anchors)) { /* (a layer without lists makes no garbage) */
    lua_newtable(L);
    lua_replace(L, anchors);
  }
  uint32_t *at = lua_newuserdatauv(L, (ntasks + 1 + total) * sizeof *at, 0);
  lua_rawseti(L, anchors, luaL_len(L, anchors) + 1);
  uint32_t *tasks = at + ntasks + 1;
  at[0] = 0;
  for (uint32_t i = 1; i <= ntasks; i++) {
    lua_geti(L, t, i);
    lua_Integer m = luaL_len(L, -1);
    for (lua_Integer k = 1; k <= m; k++) {
      lua_geti(L, -1, k);
      lua_Integer j = lua_tointeger(L, -1);
      luaL_argcheck(L, j >= 1 && j <= n, 5, "reads: task out of range");
      tasks[at[i - 1] + k - 1] = (uint32_t)(j - 1);
      lua_pop(L, 1);
    }
    at[i] = at[i - 1] + (uint32_t)m;
    lua_pop(L, 1);
  }
  d->kind = GRAPH_LIST;
  d->split = 0;
  d->at = at;
  d->tasks = tasks;
}

static int core_layer(lua_State *L) {
  core_state *cs = state_of(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  const char *name = luaL_checkstring(L, 2);
  lua_Integer ntasks = luaL_checkinteger(L, 3);
  luaL_argcheck(L, ntasks >= 0 && ntasks < UINT32_MAX, 3, "bad task count");
  luaL_checkany(L, 4);
  lua_Integer ndeps = 0;
  if (!lua_isnoneornil(L, 5)) {
    luaL_checktype(L, 5, LUA_TTABLE);
    ndeps = luaL_len(L, 5);
    luaL_argcheck(L, ndeps >= 0 && ndeps < UINT32_MAX, 5, "bad dependency count");
  }
  /* graph_add copies the deps: a Delayed's few on the C stack, more in a
   * userdata (garbage at once, but freed if an argument is refused) */
  graph_dep few[LAYER_FEW_DEPS];
  graph_dep *deps = ndeps <= LAYER_FEW_DEPS ? few
                  : lua_newuserdatauv(L, (size_t)ndeps * sizeof *deps, 0);
  lua_pushnil(L); /* a table, made by the first GRAPH_LIST dep: keeps their lists alive */
  int anchors = lua_gettop(L);
  for (lua_Integer i = 1; i <= ndeps; i++) {
    graph_dep *d = &deps[i - 1];
    if (lua_geti(L, 5, i) == LUA_TTABLE) {
      lua_geti(L, -1, 1);
      d->layer = check_layer(L, cs, -1);
      if (lua_getfield(L, -2, "reads") == LUA_TTABLE) {
        read_lists(L, d, (uint32_t)ntasks, graph_ntasks(cs->g, d->layer), anchors);
        lua_pop(L, 3);
        continue;
      }
      lua_pop(L, 1);
      if (lua_getfield(L, -2, "reader") != LUA_TNIL) { /* 1-based task */
        lua_Integer r = luaL_checkinteger(L, -1);
        luaL_argcheck(L, r >= 1 && r <= ntasks, 5, "reader out of range");
        d->kind = GRAPH_FOR;
        d->split = (uint32_t)(r - 1);
      } else {
        lua_getfield(L, -3, "split");
        d->kind = GRAPH_SPLIT;
        lua_Integer k = luaL_optinteger(L, -1, 1);
        luaL_argcheck(L, k >= 1 && k <= UINT32_MAX, 5, "split out of range");
        d->split = (uint32_t)k;
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    } else {
      d->layer = check_layer(L, cs, -1);
      d->kind = GRAPH_ALL;
      d->split = 0;
    }
    lua_pop(L, 1);
  }
  /* the userdata first, "closed", so an error below leaves nothing half-made */
  layer_ud *l = lua_newuserdatauv(L, sizeof *l, 0);
  l->magic = LAYER_MAGIC;
  l->id = 0;
  lua_pushvalue(L, 1);
  lua_setmetatable(L, -2);
  lua_pushvalue(L, 4);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  l->id = graph_add(cs->g, name, (uint32_t)ntasks, deps, (uint32_t)ndeps, ref);
  if (l->id == 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    return luaL_error(L, "not enough memory for a graph layer");
  }
  return 1;
}

static int core_release(lua_State *L) {
  core_state *cs = state_of(L);
  layer_ud *l = to_layer(L, 1);
  if (l != NULL && l->id != 0 && cs->g != NULL) graph_decref(cs->g, l->id);
  if (l != NULL) l->id = 0;
  return 0;
}

static int core_name(lua_State *L) {
  core_state *cs = state_of(L);
  lua_pushstring(L, graph_name(cs->g, check_layer(L, cs, 1)));
  return 1;
}

/* core.stored_new(list) -> a Stored holding the values of 'list' (a
 * from_sequence bag's partitions: data that is already there). */
static int core_stored_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 1);
  luaL_argcheck(L, n >= 0 && n < UINT32_MAX, 1, "too many values");
  stored_ud *st = lgraph_push_stored(L);
  st->b = store_new((uint32_t)n);
  if (st->b == NULL) return luaL_error(L, "not enough memory");
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, 1, i);
    value v;
    if (value_from(L, -1, &v) != LUA_OK) return lua_error(L); /* st owns the rest */
    store_put(st->b, (uint32_t)(i - 1), &v);
    lua_pop(L, 1);
  }
  return 1;
}

static int core_payload(lua_State *L) {
  core_state *cs = state_of(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)graph_payload(cs->g, check_layer(L, cs, 1)));
  return 1;
}

static int core_is_stored(lua_State *L) {
  lua_pushboolean(L, luaL_testudata(L, 1, STORED) != NULL);
  return 1;
}

static int core_ntasks(lua_State *L) {
  core_state *cs = state_of(L);
  lua_pushinteger(L, graph_ntasks(cs->g, check_layer(L, cs, 1)));
  return 1;
}

/* ---------------------------------------------------------------- plans */

graph_node *lgraph_targets(lua_State *L, core_state *cs, uint32_t *n) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_Integer len = luaL_len(L, 1);
  luaL_argcheck(L, len == luaL_len(L, 2), 2, "as many indexes as layers");
  graph_node *t = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *t, 0);
  for (lua_Integer i = 1; i <= len; i++) {
    lua_geti(L, 1, i);
    t[i - 1].layer = check_layer(L, cs, -1);
    lua_geti(L, 2, i);
    lua_Integer idx = luaL_checkinteger(L, -1);
    luaL_argcheck(L, idx >= 1 && idx <= UINT32_MAX, 2, "task indexes start at 1");
    t[i - 1].index = (uint32_t)(idx - 1); /* (past the layer: lgraph_plan says so) */
    lua_pop(L, 2);
  }
  *n = (uint32_t)len;
  return t;
}

int lgraph_plan(lua_State *L, core_state *cs, const graph_node *targets, uint32_t n,
                const plan_options *o, plan *p) {
  switch (graph_plan(cs->g, targets, n, o, p)) {
  case GRAPH_OK:
    return LUA_OK;
  case GRAPH_BADTARGET:
    for (uint32_t i = 0; i < n; i++) {
      uint32_t ntasks = graph_ntasks(cs->g, targets[i].layer);
      if (targets[i].index >= ntasks) {
        lua_pushfstring(L, "task %I of %s, which has %I", (lua_Integer)targets[i].index + 1,
                        graph_name(cs->g, targets[i].layer), (lua_Integer)ntasks);
        return LUA_ERRRUN;
      }
    }
    lua_pushliteral(L, "a target is not a task of the graph");
    return LUA_ERRRUN;
  case GRAPH_TOOLARGE:
    lua_pushliteral(L, "the graph is too large to plan: its tasks, or their reads, "
                       "number 2^32 - 1 or more");
    return LUA_ERRRUN;
  case GRAPH_NOMEM:
    break;
  }
  lua_pushliteral(L, "not enough memory to plan the graph");
  return LUA_ERRMEM;
}

static int core_plan(lua_State *L) {
  core_state *cs = state_of(L);
  uint32_t n;
  graph_node *targets = lgraph_targets(L, cs, &n);
  plan_options o = {lua_isnoneornil(L, 3) || lua_toboolean(L, 3)};
  plan p;
  if (lgraph_plan(L, cs, targets, n, &o, &p) != LUA_OK) return lua_error(L);
  lua_createtable(L, 0, 2);
  lua_createtable(L, (int)p.ntasks, 0);
  for (uint32_t t = 0; t < p.ntasks; t++) {
    const plan_task *pt = &p.tasks[t];
    lua_createtable(L, 0, 4);
    lua_createtable(L, (int)pt->nchain, 0);
    for (uint32_t k = 0; k < pt->nchain; k++) {
      graph_node nd = p.nodes[pt->chain + k];
      lua_createtable(L, 0, 2);
      lua_pushstring(L, graph_name(cs->g, nd.layer));
      lua_setfield(L, -2, "name");
      lua_pushinteger(L, nd.index + 1);
      lua_setfield(L, -2, "index");
      lua_pushinteger(L, graph_ntasks(cs->g, nd.layer));
      lua_setfield(L, -2, "ntasks");
      lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)graph_payload(cs->g, nd.layer));
      lua_pushboolean(L, luaL_testudata(L, -1, STORED) != NULL);
      lua_setfield(L, -3, "persisted");
      lua_pop(L, 1);
      lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "chain");
    lua_createtable(L, (int)pt->ninputs, 0);
    for (uint32_t e = 0; e < pt->ninputs; e++) {
      lua_pushinteger(L, p.edges[pt->inputs + e] + 1);
      lua_rawseti(L, -2, e + 1);
    }
    lua_setfield(L, -2, "inputs");
    lua_pushinteger(L, pt->priority + 1);
    lua_setfield(L, -2, "priority");
    lua_pushboolean(L, pt->requested != 0);
    lua_setfield(L, -2, "requested");
    lua_rawseti(L, -2, t + 1);
  }
  lua_setfield(L, -2, "tasks");
  lua_createtable(L, (int)n, 0);
  for (uint32_t i = 0; i < n; i++) {
    lua_pushinteger(L, p.targets[i] + 1);
    lua_rawseti(L, -2, i + 1);
  }
  lua_setfield(L, -2, "targets");
  plan_free(&p);
  return 1;
}

/* ---------------------------------------------------------------- misc */

static int core_hash(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  uint64_t h = hash_bytes(s, len);
  char hex[17];
  for (int i = 15; i >= 0; i--) {
    hex[i] = "0123456789abcdef"[h & 15];
    h >>= 4;
  }
  lua_pushlstring(L, hex, 16);
  return 1;
}

/* The length of a list that enters a Bag (a from_sequence list, a
 * partition a function made, a list flatten opens, starmap's arguments):
 * its field n when that is an integer (as table.pack sets it), else #t.
 * Every position 1..n must hold a value and, without n, no positive
 * integer key may lie past #t: # of a list with holes is any of its
 * borders, so elements would be lost without a word.  Returns n, or nil,
 * the first position without a value and a later one with a value (nil
 * when none shows: an explicit n past the last value).  With 'args'
 * (starmap), nils inside an explicit n are arguments like any other.
 * Without n the keys are counted in one traversal; with n only 1..n are
 * read (keys past it are not part of the list). */
static int core_list_length(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int args = lua_toboolean(L, 2);
  lua_pushliteral(L, "n");
  int has_n = lua_rawget(L, 1) == LUA_TNUMBER && lua_isinteger(L, -1);
  lua_Integer n = has_n ? lua_tointeger(L, -1) : (lua_Integer)lua_rawlen(L, 1);
  lua_pop(L, 1);
  lua_Integer first = 0, past = 0; /* a position without a value, one after it with one */
  if (has_n) {
    if (n < 0) return luaL_error(L, "a list whose field n is %I", n);
    if (args) {
      lua_pushinteger(L, n);
      return 1;
    }
    for (lua_Integer i = 1; i <= n && first == 0; i++) {
      if (lua_rawgeti(L, 1, i) == LUA_TNIL) first = i;
      lua_pop(L, 1);
    }
  } else {
    lua_Integer inside = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      lua_pop(L, 1);
      if (!lua_isinteger(L, -1)) continue;
      lua_Integer k = lua_tointeger(L, -1);
      if (k >= 1 && k <= n) inside++;
      else if (k > n && (past == 0 || k < past)) past = k;
    }
    if (inside < n) { /* a hole before the border n, which holds a value */
      for (lua_Integer i = 1; first == 0; i++) {
        if (lua_rawgeti(L, 1, i) == LUA_TNIL) first = i;
        lua_pop(L, 1);
      }
      past = n;
    } else if (past > 0) {
      first = n + 1;
    }
  }
  if (first == 0) {
    lua_pushinteger(L, n);
    return 1;
  }
  lua_pushnil(L);
  lua_pushinteger(L, first);
  if (past > 0) lua_pushinteger(L, past);
  else lua_pushnil(L);
  return 3;
}

/* core.task_error(e [, prefix [, level]]): what a task's message handler
 * makes of error 'e' (rt_task_error): a table stays itself, noted. */
static int core_task_error(lua_State *L) {
  const char *prefix = luaL_optstring(L, 2, "");
  rt_task_error(L, prefix, (int)luaL_optinteger(L, 3, 1));
  return 1;
}

static int core_ncores(lua_State *L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

static int core_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
  return 1;
}

static int core_pow(lua_State *L) {
  lua_pushnumber(L, pow(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
  return 1;
}

static int core_in_worker(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "dusk.worker");
  lua_pushboolean(L, !lua_isnil(L, -1));
  return 1;
}

static const luaL_Reg core_funcs[] = {
  {"layer", core_layer},
  {"release", core_release},
  {"name", core_name},
  {"ntasks", core_ntasks},
  {"payload", core_payload},
  {"is_stored", core_is_stored},
  {"plan", core_plan},
  {"compute", lrun_compute},
  {"persist", lrun_persist},
  {"stored_bytes", stored_bytes},
  {"stored_new", core_stored_new},
  {"stored_release", stored_release},
  {"list_length", core_list_length},
  {"task_error", core_task_error},
  {"hash", core_hash},
  {"ncores", core_ncores},
  {"in_worker", core_in_worker},
  {"now", core_now},
  {"buffer", lbuffer_new},
  {"buffer_info", lbuffer_info},
  {"pow", core_pow},
  {NULL, NULL}
};

int luaopen_dusk_core(lua_State *L) {
  lclass_new(L, STORED, stored_release, NULL);
  lclass_new(L, STATE, state_gc, NULL);
  lua_pop(L, 2);
  luaL_newlibtable(L, core_funcs);
  core_state *cs = lclass_box(L, STATE, sizeof *cs, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  cs->main = lua_tothread(L, -1);
  lua_pop(L, 1);
  cs->g = graph_new(release_payload, cs);
  if (cs->g == NULL) return luaL_error(L, "not enough memory for a graph");
  luaL_setfuncs(L, core_funcs, 1);
  return 1;
}
