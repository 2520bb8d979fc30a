/*
 * lcore: the Lua module "dusk.core", the C half of every collection.
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
 *   core.hash(s) -> 16 hex digits (FNV-1a, 64 bits)
 *   core.ncores() -> online processors
 *   core.now() -> seconds of a monotonic clock, for timing
 *
 * Module state (the graph, the thread pool, the "sync" worker) lives in a
 * userdata shared as upvalue by all the functions, freed when the state
 * closes.  Inside a task (a worker's state), compute runs inline on that
 * worker, whatever the options say: a pool cannot wait for itself.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "graph.h"
#include "lcore.h"
#include "runtime.h"
#include "sched/exec.h"
#include "sched/sched.h"
#include "serial.h"
#include "progress.h"
#include "store.h"

#define LAYER_MAGIC 0x64757361u /* "dusa" */

typedef struct core_state {
  graph *g;
  lua_State *main;     /* the state's main thread: releases payload refs */
  sched_pool *pool;
  int pool_size;
  exec_worker *sync;
} core_state;

typedef struct layer_ud {
  uint32_t magic;
  graph_id id;         /* 0 once released */
} layer_ud;

#define STORED "dusk.Stored"

typedef struct stored_ud {
  store_block *b; /* NULL once released */
} stored_ud;

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

/* Pushes a new Stored owning 'b' (NULL: closed; set it after). */
static stored_ud *push_stored(lua_State *L) {
  stored_ud *st = lua_newuserdatauv(L, sizeof *st, 0);
  st->b = NULL;
  if (luaL_newmetatable(L, STORED)) {
    lua_pushcfunction(L, stored_release);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return st;
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
  }
  graph_dep *deps = lua_newuserdatauv(L, (size_t)(ndeps ? ndeps : 1) * sizeof *deps, 0);
  for (lua_Integer i = 1; i <= ndeps; i++) {
    graph_dep *d = &deps[i - 1];
    if (lua_geti(L, 5, i) == LUA_TTABLE) {
      lua_geti(L, -1, 1);
      d->layer = check_layer(L, cs, -1);
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
  stored_ud *st = push_stored(L);
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

/* Reads targets from the lists at 1 and 2; returns them in a userdata
 * pushed on the stack. */
static graph_node *read_targets(lua_State *L, core_state *cs, uint32_t *n) {
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
    if (idx < 1 || idx > graph_ntasks(cs->g, t[i - 1].layer))
      luaL_error(L, "task %d of a layer of %d", (int)idx,
                 (int)graph_ntasks(cs->g, t[i - 1].layer));
    t[i - 1].index = (uint32_t)(idx - 1);
    lua_pop(L, 2);
  }
  *n = (uint32_t)len;
  return t;
}

static int core_plan(lua_State *L) {
  core_state *cs = state_of(L);
  uint32_t n;
  graph_node *targets = read_targets(L, cs, &n);
  plan_options o = {lua_isnoneornil(L, 3) || lua_toboolean(L, 3)};
  plan p;
  if (graph_plan(cs->g, targets, n, &o, &p) != 0)
    return luaL_error(L, "not enough memory to plan the graph");
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

/* -------------------------------------------------------------- compute */

/* A compute's job with what it owns besides: the specs of its layers and
 * the frames they point into. */
typedef struct compute_job {
  exec_job x;              /* first: exec's callbacks get its address */
  progress bar;
  exec_spec *specs;
  uint32_t nspecs;
  unsigned char **frames;
  uint32_t nframes;
} compute_job;

static void job_free(compute_job *cj) {
  exec_job *j = &cj->x;
  if (j->results)
    for (uint32_t t = 0; t < j->plan.ntasks; t++) value_free(&j->results[t]);
  free(j->results);
  for (uint32_t i = 0; i < cj->nspecs; i++) {
    if (cj->specs[i].stored) store_decref(cj->specs[i].stored);
    for (uint32_t a = 0; a < cj->specs[i].nargs; a++)
      value_free(&cj->specs[i].args[a].value);
    free(cj->specs[i].args);
  }
  free(cj->specs);
  for (uint32_t i = 0; i < cj->nframes; i++) free(cj->frames[i]);
  free(cj->frames);
  free(j->spec);
  free(j->error);
  pthread_mutex_destroy(&j->lock);
  plan_free(&j->plan);
}

/* Encodes the value at 'idx' as a new frame of the job. */
static int add_frame(lua_State *L, compute_job *cj, int idx,
                     const unsigned char **frame, size_t *len) {
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  int status = serial_encode(L, idx, SERIAL_FUNCTIONS | SERIAL_LOCAL, &b);
  if (status != LUA_OK) {
    serial_buf_free(&b);
    return status;
  }
  cj->frames[cj->nframes++] = b.p;
  *frame = b.p;
  *len = b.len;
  return LUA_OK;
}

/* Whether the value at 'idx' is a placeholder of a dependency; if so
 * 'input' is its position. */
static int is_dep(lua_State *L, int idx, uint32_t *input) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (luaL_getmetafield(L, idx, "__name") == LUA_TNIL) return 0;
  int yes = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "dusk.dep") == 0;
  lua_pop(L, 1);
  if (!yes) return 0;
  lua_rawgeti(L, idx, 1);
  lua_Integer k = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (k < 1 || k > UINT32_MAX) return 0;
  *input = (uint32_t)k;
  return 1;
}

/* Makes the spec at 'idx' direct when it is {"call", fn, args, n, nout}
 * with plain arguments; 'fns' (a table) maps functions to their frames.
 * Returns 1 when done, 0 when the spec must go whole, -1 on error (a
 * message pushed). */
static int make_direct(lua_State *L, compute_job *cj, exec_spec *sp, int idx, int fns) {
  int top = lua_gettop(L);
  if (lua_rawgeti(L, idx, 1) != LUA_TSTRING || strcmp(lua_tostring(L, -1), "call") != 0 ||
      lua_rawgeti(L, idx, 3) != LUA_TTABLE || lua_rawgeti(L, idx, 4) != LUA_TNUMBER) {
    lua_settop(L, top);
    return 0;
  }
  lua_Integer n = lua_tointeger(L, -1);
  int args = top + 2;
  if (n < 0 || n > 250) {
    lua_settop(L, top);
    return 0;
  }
  for (lua_Integer i = 1; i <= n; i++) { /* only plain arguments */
    int ty = lua_rawgeti(L, args, i);
    uint32_t input;
    int ok = ty == LUA_TNIL || ty == LUA_TBOOLEAN || ty == LUA_TNUMBER ||
             ty == LUA_TSTRING || is_dep(L, -1, &input);
    lua_pop(L, 1);
    if (!ok) {
      lua_settop(L, top);
      return 0;
    }
  }
  sp->args = calloc((size_t)(n ? n : 1), sizeof *sp->args);
  if (sp->args == NULL) {
    lua_pushliteral(L, "not enough memory");
    return -1;
  }
  sp->nargs = (uint32_t)n;
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, args, i);
    exec_arg *a = &sp->args[i - 1];
    if (!is_dep(L, -1, &a->input) && value_from(L, -1, &a->value) != LUA_OK)
      return -1;
    lua_pop(L, 1);
  }
  lua_rawgeti(L, idx, 5);
  sp->nout = (int)luaL_optinteger(L, -1, 0);
  lua_rawgeti(L, idx, 2); /* the function: one frame per compute */
  if (lua_rawget(L, fns) == LUA_TLIGHTUSERDATA) {
    exec_spec *same = lua_touserdata(L, -1);
    sp->frame = same->frame;
    sp->len = same->len;
  } else {
    lua_pop(L, 1);
    lua_rawgeti(L, idx, 2);
    if (add_frame(L, cj, -1, &sp->frame, &sp->len) != LUA_OK) return -1;
    lua_pushlightuserdata(L, sp);
    lua_rawset(L, fns);
  }
  sp->direct = 1;
  lua_settop(L, top);
  return 1;
}

/* Prepares the spec of each layer of the plan once; nodes of a layer share
 * it.  Returns LUA_OK or an error with a message pushed. */
static int encode_specs(lua_State *L, core_state *cs, compute_job *cj) {
  exec_job *j = &cj->x;
  uint32_t n = j->plan.nnodes;
  j->spec = calloc(n ? n : 1, sizeof *j->spec);
  cj->specs = calloc(n ? n : 1, sizeof *cj->specs);
  cj->frames = calloc(n ? n : 1, sizeof *cj->frames);
  if (!j->spec || !cj->specs || !cj->frames) {
    lua_pushliteral(L, "not enough memory");
    return LUA_ERRMEM;
  }
  int top = lua_gettop(L);
  lua_createtable(L, 0, 16); /* layer id -> its spec (light userdata) */
  lua_createtable(L, 0, 16); /* function -> a direct spec holding its frame */
  int seen = top + 1, fns = top + 2;
  for (uint32_t i = 0; i < n; i++) {
    graph_id id = j->plan.nodes[i].layer;
    if (lua_rawgeti(L, seen, id) == LUA_TLIGHTUSERDATA) {
      j->spec[i] = lua_touserdata(L, -1);
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    exec_spec *sp = &cj->specs[cj->nspecs++];
    j->spec[i] = sp;
    lua_rawgeti(L, LUA_REGISTRYINDEX, (lua_Integer)graph_payload(cs->g, id));
    int spec = lua_gettop(L);
    stored_ud *st = luaL_testudata(L, spec, STORED);
    if (st) {
      if (st->b == NULL) {
        lua_pushfstring(L, "the persisted data of %s was released", graph_name(cs->g, id));
        lua_replace(L, top + 1);
        lua_settop(L, top + 1);
        return LUA_ERRRUN;
      }
      sp->stored = st->b;
      store_incref(st->b); /* the job's reference */
      lua_settop(L, spec - 1);
      lua_pushlightuserdata(L, sp);
      lua_rawseti(L, seen, id);
      continue;
    }
    int direct = lua_type(L, spec) == LUA_TTABLE ? make_direct(L, cj, sp, spec, fns) : 0;
    int status = direct < 0 ? LUA_ERRRUN : LUA_OK;
    if (direct == 0) status = add_frame(L, cj, spec, &sp->frame, &sp->len);
    if (status != LUA_OK) {
      lua_pushfstring(L, "%s (in task %s)", lua_tostring(L, -1), graph_name(cs->g, id));
      lua_replace(L, top + 1);
      lua_settop(L, top + 1);
      return status;
    }
    lua_settop(L, spec - 1);
    lua_pushlightuserdata(L, sp);
    lua_rawseti(L, seen, id);
  }
  lua_settop(L, top);
  return LUA_OK;
}

static int opt_int(lua_State *L, int opts, const char *key, int dflt) {
  if (lua_type(L, opts) != LUA_TTABLE) return dflt;
  lua_getfield(L, opts, key);
  int v = lua_isnil(L, -1) ? dflt : (int)luaL_checkinteger(L, -1);
  lua_pop(L, 1);
  return v;
}

/* Runs the job with the scheduler the options ask for. */
static int run_job(lua_State *L, core_state *cs, exec_job *j, int opts) {
  lua_getfield(L, LUA_REGISTRYINDEX, "dusk.worker");
  exec_worker *inside = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (inside != NULL) return sched_run_sync(&j->sched, inside);
  const char *scheduler = "threads";
  if (lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "scheduler");
    if (!lua_isnil(L, -1)) scheduler = luaL_checkstring(L, -1);
    lua_pop(L, 1);
  }
  if (strcmp(scheduler, "sync") == 0) {
    if (cs->sync == NULL) cs->sync = exec_worker_new(NULL, -1);
    if (cs->sync == NULL) return SCHED_NOMEM;
    return sched_run_sync(&j->sched, cs->sync);
  }
  if (strcmp(scheduler, "threads") != 0) return -1;
  int n = opt_int(L, opts, "num_workers", (int)sysconf(_SC_NPROCESSORS_ONLN));
  if (n < 1) n = 1;
  if (cs->pool != NULL && cs->pool_size != n) {
    sched_pool_free(cs->pool);
    cs->pool = NULL;
  }
  if (cs->pool == NULL) {
    cs->pool = sched_pool_new(n, exec_worker_new, exec_worker_free, NULL,
                              RT_INTERRUPT_SIGNAL);
    if (cs->pool == NULL) return SCHED_NOMEM;
    cs->pool_size = n;
  }
  return sched_pool_run(cs->pool, &j->sched);
}

static void tick(void *ud) { progress_tick(&((compute_job *)ud)->bar); }

/* Moves the results of the targets into stored blocks, counts[k] of them
 * in the k-th (the table at 'counts'); pushes the list of blocks.  A task
 * requested more than once is copied but for its last request. */
static int keep_results(lua_State *L, compute_job *cj, uint32_t n, int counts) {
  exec_job *j = &cj->x;
  uint32_t *last = malloc((j->plan.ntasks ? j->plan.ntasks : 1) * sizeof *last);
  if (last == NULL) {
    lua_pushliteral(L, "not enough memory to persist");
    return LUA_ERRMEM;
  }
  for (uint32_t i = 0; i < n; i++) last[j->plan.targets[i]] = i;
  lua_Integer ngroups = luaL_len(L, counts);
  lua_createtable(L, (int)ngroups, 0);
  uint32_t next = 0;
  int status = LUA_OK;
  for (lua_Integer k = 1; k <= ngroups && status == LUA_OK; k++) {
    lua_geti(L, counts, k);
    lua_Integer count = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (count < 0 || next + (uint64_t)count > n) {
      lua_pushliteral(L, "persist: counts do not add up to the targets");
      status = LUA_ERRRUN;
      break;
    }
    stored_ud *st = push_stored(L);
    st->b = store_new((uint32_t)count);
    if (st->b == NULL) {
      lua_pushliteral(L, "not enough memory to persist");
      status = LUA_ERRMEM;
      break;
    }
    for (uint32_t i = 0; i < (uint32_t)count; i++, next++) {
      uint32_t t = j->plan.targets[next];
      value v = j->results[t];
      if (last[t] == next) {
        j->results[t].type = VALUE_NONE; /* moved */
      } else if (value_copy(&j->results[t], &v) != 0) {
        lua_pushliteral(L, "not enough memory to persist");
        status = LUA_ERRMEM;
        break;
      }
      store_put(st->b, i, &v);
    }
    lua_rawseti(L, -2, k);
  }
  free(last);
  return status;
}

/* The work of core.compute and core.persist, without raising: returns
 * LUA_OK with the results pushed (a list of values; with 'counts', a list
 * of stored blocks), or an error status with a message pushed. */
static int compute(lua_State *L, core_state *cs, compute_job *cj,
                   const graph_node *targets, uint32_t n, int opts, int counts) {
  exec_job *j = &cj->x;
  int fuse = 1, show = -1;
  if (lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "fuse");
    fuse = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_getfield(L, opts, "progress");
    show = lua_isnil(L, -1) ? -1 : lua_toboolean(L, -1);
    lua_pop(L, 2);
  }
  plan_options o = {fuse};
  if (graph_plan(cs->g, targets, n, &o, &j->plan) != 0) {
    lua_pushliteral(L, "not enough memory to plan the graph");
    return LUA_ERRMEM;
  }
  int status = encode_specs(L, cs, cj);
  if (status != LUA_OK) return status;
  j->results = calloc(j->plan.ntasks ? j->plan.ntasks : 1, sizeof *j->results);
  if (j->results == NULL) {
    lua_pushliteral(L, "not enough memory");
    return LUA_ERRMEM;
  }
  j->sched.plan = &j->plan;
  j->sched.run = exec_run;
  j->sched.release = exec_release;
  j->sched.ud = j;
  j->sched.tick = tick;
  lua_getfield(L, LUA_REGISTRYINDEX, "dusk.worker");
  int inside = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (!inside) { /* Ctrl-C stops this compute (inside a task: the hook does) */
    rt_clear_cancel();
    j->sched.cancel = rt_cancel_flag();
  }
  progress_start(&cj->bar, inside ? 0 : show, &j->sched.done, j->plan.ntasks);
  int rc = run_job(L, cs, j, opts);
  progress_end(&cj->bar);
  if (rc == -1) {
    lua_pushliteral(L, "unknown scheduler");
    return LUA_ERRRUN;
  }
  if (rc == SCHED_FAILED) {
    lua_pushstring(L, j->error ? j->error : "a task failed");
    return LUA_ERRRUN;
  }
  if (rc == SCHED_CANCELLED) {
    lua_pushliteral(L, "interrupted!");
    return LUA_ERRRUN;
  }
  if (rc == SCHED_NOMEM) {
    lua_pushliteral(L, "not enough memory (or threads) to run the graph");
    return LUA_ERRMEM;
  }
  if (counts) return keep_results(L, cj, n, counts);
  lua_createtable(L, (int)n, 0);
  for (uint32_t i = 0; i < n; i++) {
    status = value_push(L, &j->results[j->plan.targets[i]]);
    if (status != LUA_OK) return status;
    lua_rawseti(L, -2, i + 1);
  }
  return LUA_OK;
}

static int core_compute(lua_State *L) {
  core_state *cs = state_of(L);
  uint32_t n;
  graph_node *targets = read_targets(L, cs, &n);
  compute_job cj;
  memset(&cj, 0, sizeof cj);
  cj.x.g = cs->g;
  pthread_mutex_init(&cj.x.lock, NULL);
  int status = compute(L, cs, &cj, targets, n, 3, 0);
  job_free(&cj); /* free first, raise last */
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

static int core_persist(lua_State *L) {
  core_state *cs = state_of(L);
  uint32_t n;
  graph_node *targets = read_targets(L, cs, &n);
  luaL_checktype(L, 3, LUA_TTABLE);
  compute_job cj;
  memset(&cj, 0, sizeof cj);
  cj.x.g = cs->g;
  pthread_mutex_init(&cj.x.lock, NULL);
  int status = compute(L, cs, &cj, targets, n, 4, 3);
  job_free(&cj);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

/* ---------------------------------------------------------------- misc */

static int core_hash(lua_State *L) {
  size_t len;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= s[i];
    h *= 0x100000001b3ull;
  }
  char hex[17];
  for (int i = 15; i >= 0; i--) {
    hex[i] = "0123456789abcdef"[h & 15];
    h >>= 4;
  }
  lua_pushlstring(L, hex, 16);
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
  {"compute", core_compute},
  {"persist", core_persist},
  {"stored_bytes", stored_bytes},
  {"stored_new", core_stored_new},
  {"stored_release", stored_release},
  {"hash", core_hash},
  {"ncores", core_ncores},
  {"in_worker", core_in_worker},
  {"now", core_now},
  {NULL, NULL}
};

int luaopen_dusk_core(lua_State *L) {
  luaL_newlibtable(L, core_funcs);
  core_state *cs = lua_newuserdatauv(L, sizeof *cs, 0);
  memset(cs, 0, sizeof *cs);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, state_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  cs->main = lua_tothread(L, -1);
  lua_pop(L, 1);
  cs->g = graph_new(release_payload, cs);
  if (cs->g == NULL) return luaL_error(L, "not enough memory for a graph");
  luaL_setfuncs(L, core_funcs, 1);
  return 1;
}
