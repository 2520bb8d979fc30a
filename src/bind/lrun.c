/*
 * lrun: running computations for "dusk.core" (core.compute and
 * core.persist): plan the targets, prepare each layer's spec once, run the
 * job on the scheduler the options ask for, hand the results back (or
 * keep them, persisted).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "bind/lgraph_int.h"
#include "bind/lspec.h"
#include "sched/progress.h"
#include "bind/lmodules.h"
#include "exec/runtime.h"
#include "data/value.h"


/* Workers' states are dusk's (bind/lmodules.c). */
static const exec_config workers = { lmod_open };

/* A compute's job with what it owns besides: the specs of its layers and
 * the frames they point into.  It lives in a to-be-closed userdata
 * (STYLE.md 7), so whatever raises between the plan and the results (a
 * bad option, a Lua API call out of memory) frees the plan, the specs,
 * the frames and the store references on the way out. */
#define JOB "dusk.job"

typedef struct compute_job {
  exec_job x;              /* first: exec's callbacks get its address */
  progress bar;
  exec_spec *specs;
  uint32_t nspecs;
  unsigned char **frames;
  uint32_t nframes;
  int open;                /* 0 when freed (or not made yet) */
} compute_job;

/* The __close and __gc of a job: idempotent. */
static void job_free(compute_job *cj) {
  if (!cj->open) return;
  exec_job *j = &cj->x;
  if (j->results)
    for (uint32_t t = 0; t < j->plan.ntasks; t++) value_free(&j->results[t]);
  base_free(j->results);
  for (uint32_t i = 0; i < cj->nspecs; i++) {
    if (cj->specs[i].stored) store_decref(cj->specs[i].stored);
    for (uint32_t a = 0; a < cj->specs[i].nargs; a++)
      value_free(&cj->specs[i].args[a].value);
    base_free(cj->specs[i].args);
  }
  base_free(cj->specs);
  for (uint32_t i = 0; i < cj->nframes; i++) base_free(cj->frames[i]);
  base_free(cj->frames);
  base_free(j->spec);
  base_free(j->error);
  value_free(&j->error_value);
  pthread_mutex_destroy(&j->lock);
  plan_free(&j->plan);
  memset(cj, 0, sizeof *cj);
}

static int job_close(lua_State *L) {
  job_free(luaL_checkudata(L, 1, JOB));
  return 0;
}

/* Pushes a new, empty job, marked to be closed when the calling C
 * function returns or raises. */
static compute_job *push_job(lua_State *L, core_state *cs) {
  compute_job *cj = lua_newuserdatauv(L, sizeof *cj, 0);
  memset(cj, 0, sizeof *cj); /* "closed" until its metatable is set */
  if (luaL_newmetatable(L, JOB)) {
    lua_pushcfunction(L, job_close);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__gc");
    lua_setfield(L, -2, "__close");
  }
  lua_setmetatable(L, -2);
  cj->x.g = cs->g;
  pthread_mutex_init(&cj->x.lock, NULL);
  cj->open = 1;
  lua_toclose(L, -1);
  return cj;
}

/* Encodes the value at 'idx' as a new frame of the job. */
static int add_frame(lua_State *L, compute_job *cj, int idx,
                     const unsigned char **frame, size_t *len) {
  value v;
  int status = value_frame(L, idx, &v);
  if (status != LUA_OK) return status;
  cj->frames[cj->nframes++] = v.u.p;
  *frame = v.u.p;
  *len = v.len;
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
  lua_rawgeti(L, idx, LSPEC_DEP_INPUT);
  lua_Integer k = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (k < 1 || k > UINT32_MAX) return 0;
  *input = (uint32_t)k;
  return 1;
}

/* Makes the spec at 'idx' direct when it is a call (lspec.h) with plain
 * arguments; 'fns' (a table) maps functions to their frames.
 * Returns 1 when done, 0 when the spec must go whole, -1 on error (a
 * message pushed). */
static int make_direct(lua_State *L, compute_job *cj, exec_spec *sp, int idx, int fns) {
  int top = lua_gettop(L);
  if (lua_rawgeti(L, idx, LSPEC_KIND) != LUA_TSTRING ||
      strcmp(lua_tostring(L, -1), LSPEC_CALL) != 0 ||
      lua_rawgeti(L, idx, LSPEC_CALL_ARGS) != LUA_TTABLE ||
      lua_rawgeti(L, idx, LSPEC_CALL_NARGS) != LUA_TNUMBER) {
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
             ty == LUA_TSTRING || is_dep(L, -1, &input) ||
             value_is_buffer(L, -1); /* shared, not copied */
    lua_pop(L, 1);
    if (!ok) {
      lua_settop(L, top);
      return 0;
    }
  }
  if (lua_rawgeti(L, idx, LSPEC_CALL_NOUT) != LUA_TNIL && lua_tointeger(L, -1) == 0) {
    lua_settop(L, top); /* nout=0 keeps no result: dusk.runner's kinds.call */
    return 0;
  }
  lua_pop(L, 1);
  sp->args = base_calloc((size_t)(n ? n : 1), sizeof *sp->args);
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
  lua_rawgeti(L, idx, LSPEC_CALL_NOUT);
  sp->nout = (int)luaL_optinteger(L, -1, 0);
  lua_rawgeti(L, idx, LSPEC_CALL_FN); /* the function: one frame per compute */
  if (lua_rawget(L, fns) == LUA_TLIGHTUSERDATA) {
    exec_spec *same = lua_touserdata(L, -1);
    sp->frame = same->frame;
    sp->len = same->len;
  } else {
    lua_pop(L, 1);
    lua_rawgeti(L, idx, LSPEC_CALL_FN);
    if (add_frame(L, cj, -1, &sp->frame, &sp->len) != LUA_OK) return -1;
    lua_pushlightuserdata(L, sp);
    lua_rawset(L, fns);
  }
  sp->direct = 1;
  lua_settop(L, top);
  return 1;
}

/* Replaces the error message on top, of sending the spec at 'spec', by
 * dusk.runner.unsendable's, which names the part of the spec that cannot
 * be sent ("argument 2 of map") when it finds one. */
static void explain(lua_State *L, int spec) {
  int top = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk.runner");
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_getfield(L, -1, "unsendable") == LUA_TFUNCTION) {
    lua_pushvalue(L, spec);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING) lua_replace(L, top);
  }
  lua_settop(L, top);
}

/* Whether the spec at 'idx' may be decoded once per worker for all its
 * tasks: an Array's, but map_blocks' (a user function, whose upvalues
 * each task must get afresh). */
static int reusable(lua_State *L, int idx) {
  lua_rawgeti(L, idx, LSPEC_KIND);
  lua_rawgeti(L, idx, LSPEC_ARRAY_WHAT);
  const char *kind = lua_tostring(L, -2), *what = lua_tostring(L, -1);
  int r = kind && what && strcmp(kind, LSPEC_ARRAY) == 0 && strcmp(what, LSPEC_ARRAY_MAP) != 0;
  lua_pop(L, 2);
  return r;
}

/* Prepares the spec of each layer of the plan once; nodes of a layer share
 * it.  Returns LUA_OK or an error with a message pushed. */
static int encode_specs(lua_State *L, core_state *cs, compute_job *cj) {
  exec_job *j = &cj->x;
  uint32_t n = j->plan.nnodes;
  j->spec = base_calloc(n ? n : 1, sizeof *j->spec);
  cj->specs = base_calloc(n ? n : 1, sizeof *cj->specs);
  cj->frames = base_calloc(n ? n : 1, sizeof *cj->frames);
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
    if (direct == 0 && status == LUA_OK) sp->reuse = reusable(L, spec);
    if (status != LUA_OK) {
      if (lua_type(L, spec) == LUA_TTABLE) explain(L, spec);
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

/* Runs the job with the scheduler the options ask for, or inline on
 * 'inside', the worker whose task called compute. */
static int run_job(lua_State *L, core_state *cs, exec_job *j, int opts,
                   exec_worker *inside) {
  if (inside != NULL) return sched_run_sync(&j->sched, inside);
  const char *scheduler = "threads";
  if (lua_type(L, opts) == LUA_TTABLE) {
    lua_getfield(L, opts, "scheduler");
    if (!lua_isnil(L, -1)) scheduler = luaL_checkstring(L, -1);
    lua_pop(L, 1);
  }
  if (strcmp(scheduler, "sync") == 0) {
    if (cs->sync == NULL) cs->sync = exec_worker_new((void *)&workers, -1);
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
    cs->pool = sched_pool_new(n, exec_worker_new, exec_worker_free, (void *)&workers,
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
  /* (scratch in a userdata: nothing to free if a push below raises) */
  uint32_t *last = lua_newuserdatauv(L, (j->plan.ntasks ? j->plan.ntasks : 1) * sizeof *last, 0);
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
    stored_ud *st = lgraph_push_stored(L);
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
    if (status != LUA_OK) break; /* (the message is on top, not the block) */
    lua_rawseti(L, -2, k);
  }
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
  int status = lgraph_plan(L, cs, targets, n, &o, &j->plan);
  if (status != LUA_OK) return status;
  status = encode_specs(L, cs, cj);
  if (status != LUA_OK) return status;
  j->results = base_calloc(j->plan.ntasks ? j->plan.ntasks : 1, sizeof *j->results);
  if (j->results == NULL) {
    lua_pushliteral(L, "not enough memory");
    return LUA_ERRMEM;
  }
  j->sched.plan = &j->plan;
  j->sched.run = exec_run;
  j->sched.release = exec_release;
  j->sched.ud = j;
  j->sched.tick = tick;
  lua_getfield(L, LUA_REGISTRYINDEX, "dusk.worker"); /* set in worker states */
  exec_worker *inside = lua_touserdata(L, -1);
  lua_pop(L, 1);
  /* Ctrl-C stops this compute, even one pressed while it was planned
   * (inside a task: the task's interrupt does) */
  if (!inside) j->sched.cancel = rt_cancel_flag();
  progress_start(&cj->bar, inside ? 0 : show, &j->sched.done, j->plan.ntasks);
  int rc = run_job(L, cs, j, opts, inside);
  progress_end(&cj->bar);
  if (rc == -1) {
    lua_pushliteral(L, "unknown scheduler");
    return LUA_ERRRUN;
  }
  if (rc == SCHED_FAILED) { /* a task's error table is raised as itself */
    const char *msg = j->error ? j->error : "a task failed";
    if (j->error_value.type != VALUE_NONE && value_push(L, &j->error_value) == LUA_OK) {
      lua_pushstring(L, msg);
      rt_set_error_note(L, -2);
    } else {
      lua_pushstring(L, msg);
    }
    return LUA_ERRRUN;
  }
  if (rc == SCHED_CANCELLED) {
    rt_interrupt_push(L);
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

int lrun_compute(lua_State *L) {
  core_state *cs = lua_touserdata(L, lua_upvalueindex(1));
  uint32_t n;
  graph_node *targets = lgraph_targets(L, cs, &n);
  compute_job *cj = push_job(L, cs);
  int status = compute(L, cs, cj, targets, n, 3, 0);
  job_free(cj); /* free first, raise last */
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

int lrun_persist(lua_State *L) {
  core_state *cs = lua_touserdata(L, lua_upvalueindex(1));
  uint32_t n;
  graph_node *targets = lgraph_targets(L, cs, &n);
  luaL_checktype(L, 3, LUA_TTABLE);
  compute_job *cj = push_job(L, cs);
  int status = compute(L, cs, cj, targets, n, 4, 3);
  job_free(cj);
  if (status != LUA_OK) return lua_error(L);
  return 1;
}

