/*
 * exec: running a plan task in a worker's Lua state.
 *
 * For each graph task of the chain, in order: a direct spec decodes its
 * function (a fresh closure of a cached prototype) and calls it with its
 * arguments, inputs pushed from the results (the previous task's result
 * straight from the stack: a fused chain never serializes between its
 * steps).  Any other spec is decoded whole after the task's inputs went
 * into the runner's 'inputs' table, where its placeholders of dependencies
 * find them, and dusk.runner.run(spec, index) computes the result.  The
 * chain's last result becomes an value.
 *
 * A failure keeps the first error of the job, naming the task, with the
 * worker's traceback; the state is left as it was found.
 */
#include "exec/exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "exec/runtime.h"
#include "serial/serial.h"

/* -------------------------------------------------------------- workers */

int exec_worker_init(exec_worker *w, lua_State *L) {
  w->L = L;
  w->owned = 0;
  w->sandbox = NULL;
  for (int i = 0; i < EXEC_SPEC_CACHE; i++) w->specs[i] = (struct exec_cached_spec){NULL, 0, LUA_NOREF};
  w->next_spec = 0;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk.runner");
  if (rt_pcall(L, 1, 1) != LUA_OK) return -1;
  lua_getfield(L, -1, "inputs");
  w->inputs = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_getfield(L, -1, "run");
  w->runner = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pop(L, 1);
  return 0;
}

void exec_worker_release(exec_worker *w) {
  luaL_unref(w->L, LUA_REGISTRYINDEX, w->runner);
  luaL_unref(w->L, LUA_REGISTRYINDEX, w->inputs);
  for (int i = 0; i < EXEC_SPEC_CACHE; i++) {
    luaL_unref(w->L, LUA_REGISTRYINDEX, w->specs[i].ref);
    base_free(w->specs[i].frame);
    w->specs[i] = (struct exec_cached_spec){NULL, 0, LUA_NOREF};
  }
}

/* Makes 'w' a worker on a new, sealed state.  Returns 0, or -1 with the
 * reason in 'err'. */
static int open_state(exec_worker *w, char *err, size_t errlen) {
  lua_State *L = rt_newstate(w->open, err, errlen);
  if (L == NULL) return -1;
  if (exec_worker_init(w, L) != 0 || (w->sandbox = sandbox_seal(L)) == NULL) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    lua_close(L);
    return -1;
  }
  w->owned = 1;
  /* Tasks make many short-lived values (partition elements, JSON records)
   * and keep few: the generational collector suits them (measured: "bag
   * pure" runs in 0.07 s instead of 0.12). */
  lua_gc(L, LUA_GCGEN, 0, 0);
  /* a compute inside a task runs inline on this worker */
  lua_pushlightuserdata(L, w);
  lua_setfield(L, LUA_REGISTRYINDEX, "dusk.worker");
  return 0;
}

void *exec_worker_new(void *ud, int index) {
  const exec_config *config = ud;
  char err[256];
  exec_worker *w = base_malloc(sizeof *w);
  if (w == NULL) return NULL;
  w->open = config->open;
  if (index >= 0) rt_worker_thread_init(); /* a pool thread, not the caller's */
  if (open_state(w, err, sizeof err) != 0) {
    fprintf(stderr, "dusk: worker %d: %s\n", index, err);
    base_free(w);
    return NULL;
  }
  return w;
}

/* After a task that reached what the sandbox cannot put back: the state
 * is replaced by a new one.  Returns 0, or -1 (the old state is kept
 * closed off: 'w' then has none and fails its tasks). */
static int renew_state(exec_worker *w, char *err, size_t errlen) {
  exec_worker_release(w);
  lua_close(w->L);
  w->L = NULL;
  return open_state(w, err, errlen);
}

void exec_worker_free(void *ud, void *worker) {
  (void)ud;
  exec_worker *w = worker;
  for (int i = 0; i < EXEC_SPEC_CACHE; i++) base_free(w->specs[i].frame);
  if (w->owned && w->L) lua_close(w->L);
  base_free(w);
}

/* ---------------------------------------------------------------- tasks */

/* Keeps the job's first error: "task NAME failed: MESSAGE", the task
 * named as its layer's key, with its partition when the layer has more
 * than one; and 'v' (or NULL), the error's value when it is a table,
 * taken: the caller raises that table again.  (Layers do not change while
 * a job runs, so reading the graph from a worker thread is safe.) */
static void fail_value(exec_job *j, uint32_t node, const char *msg, value *v) {
  graph_node nd = j->plan.nodes[node];
  const char *name = graph_name(j->g, nd.layer);
  pthread_mutex_lock(&j->lock);
  if (j->error == NULL) {
    size_t n = strlen(name) + strlen(msg) + 64;
    j->error = base_malloc(n);
    if (j->error && graph_ntasks(j->g, nd.layer) > 1)
      snprintf(j->error, n, "task (%s, %u) failed: %s", name, nd.index + 1, msg);
    else if (j->error)
      snprintf(j->error, n, "task %s failed: %s", name, msg);
    if (v && j->error) {
      j->error_value = *v;
      v->type = VALUE_NONE;
    }
  }
  pthread_mutex_unlock(&j->lock);
  if (v) value_free(v);
}

static void fail(exec_job *j, uint32_t node, const char *msg) {
  fail_value(j, node, msg, NULL);
}

/* Fails the job with the task's error on top of 'L' (rt_pcall_task's).
 * A table goes back as itself, its note the message; one that cannot be
 * sent back (a coroutine inside) is reported by its note and why. */
static void fail_error(exec_job *j, uint32_t node, lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  if (msg != NULL || lua_type(L, -1) != LUA_TTABLE || !lua_checkstack(L, 4)) {
    fail(j, node, msg ? msg : "(error object is not a string)");
    return;
  }
  int err = lua_gettop(L);
  rt_error_note(L, err);
  msg = lua_tostring(L, -1);
  if (msg == NULL) msg = "(error object is a table value)";
  value v;
  if (value_from_at(L, err, &v, "the error") == LUA_OK) {
    fail_value(j, node, msg, &v);
    return;
  }
  const char *why = lua_tostring(L, -1), *tb = strstr(msg, "\nstack traceback:\n");
  lua_pushlstring(L, msg, tb ? (size_t)(tb - msg) : strlen(msg));
  lua_pushfstring(L, "%s (an error table that cannot be sent back: %s)%s",
                  lua_tostring(L, -1), why, tb ? tb : "");
  fail(j, node, lua_tostring(L, -1));
}

/* Pushes input 'r' (0-based) of the node whose reads are 'reads'. */
static int push_input(lua_State *L, exec_job *j, const uint32_t *reads,
                      uint32_t r, int previous) {
  if (reads[r] == PLAN_PREVIOUS) {
    lua_pushvalue(L, previous);
    return LUA_OK;
  }
  return value_push(L, &j->results[reads[r]]);
}

/* Runs a direct spec: leaves its result on the stack. */
static int run_direct(lua_State *L, exec_job *j, const exec_spec *sp,
                      const uint32_t *reads, uint32_t nreads, int previous) {
  if (!lua_checkstack(L, (int)sp->nargs + 4)) {
    lua_pushliteral(L, "too many arguments");
    return LUA_ERRRUN;
  }
  int status = serial_decode(L, sp->frame, sp->len, 0, SERIAL_FUNCTIONS | SERIAL_LOCAL | SERIAL_TASKENV);
  for (uint32_t a = 0; a < sp->nargs && status == LUA_OK; a++) {
    const exec_arg *arg = &sp->args[a];
    if (arg->input == 0) status = value_push(L, &arg->value);
    else if (arg->input <= nreads) status = push_input(L, j, reads, arg->input - 1, previous);
    else lua_pushnil(L);
  }
  if (status != LUA_OK) return status;
  int nres = sp->nout > 0 ? sp->nout : 1;
  status = rt_pcall_task(L, (int)sp->nargs, nres);
  if (status != LUA_OK || sp->nout == 0) return status;
  lua_createtable(L, nres, 1); /* as table.pack */
  lua_insert(L, -nres - 1);
  for (int i = nres; i >= 1; i--) lua_rawseti(L, -i - 1, i);
  lua_pushinteger(L, nres);
  lua_setfield(L, -2, "n");
  return LUA_OK;
}

/* Pushes the decoded spec 'sp': the one decoded for an earlier task of
 * this worker when it is reusable and its frame the same bytes (compared
 * whole: a job's frames may lie where an earlier job's did), else a new
 * decode, kept when reusable in place of the oldest.  Returns a status. */
static int push_spec(lua_State *L, exec_worker *w, const exec_spec *sp) {
  if (sp->reuse) {
    for (int i = 0; i < EXEC_SPEC_CACHE; i++) {
      const struct exec_cached_spec *c = &w->specs[i];
      if (c->frame != NULL && c->len == sp->len && memcmp(c->frame, sp->frame, sp->len) == 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, c->ref);
        return LUA_OK;
      }
    }
  }
  int status = serial_decode(L, sp->frame, sp->len, 0, SERIAL_FUNCTIONS | SERIAL_LOCAL | SERIAL_TASKENV);
  if (status != LUA_OK || !sp->reuse) return status;
  unsigned char *copy = base_malloc(sp->len ? sp->len : 1);
  if (copy == NULL) return LUA_OK; /* decoded, just not kept */
  memcpy(copy, sp->frame, sp->len);
  struct exec_cached_spec *c = &w->specs[w->next_spec];
  w->next_spec = (w->next_spec + 1) % EXEC_SPEC_CACHE;
  base_free(c->frame);
  luaL_unref(L, LUA_REGISTRYINDEX, c->ref);
  c->frame = copy;
  c->len = sp->len;
  lua_pushvalue(L, -1);
  c->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return LUA_OK;
}

/* Runs a spec frame through dusk.runner: leaves its result on the stack. */
static int run_spec(lua_State *L, exec_worker *w, exec_job *j, const exec_spec *sp,
                    uint32_t index, const uint32_t *reads, uint32_t nreads,
                    int previous, int inputs) {
  int status = LUA_OK;
  for (uint32_t r = 0; r < nreads && status == LUA_OK; r++) {
    status = push_input(L, j, reads, r, previous);
    if (status == LUA_OK) lua_rawseti(L, inputs, (lua_Integer)r + 1);
  }
  lua_pushinteger(L, nreads); /* inputs may be nil: their count is 'n' */
  lua_setfield(L, inputs, "n");
  if (status == LUA_OK) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, w->runner);
    status = push_spec(L, w, sp);
    if (status == LUA_OK) {
      lua_pushinteger(L, (lua_Integer)index + 1);
      status = rt_pcall_task(L, 2, 1);
    }
  }
  for (uint32_t r = 0; r < nreads; r++) { /* let the inputs be collected */
    lua_pushnil(L);
    lua_rawseti(L, inputs, (lua_Integer)r + 1);
  }
  return status;
}

static int run_task(exec_job *j, exec_worker *w, uint32_t t, lua_State *outer);

int exec_run(void *ud, void *worker, uint32_t t) {
  exec_job *j = ud;
  exec_worker *w = worker;
  const plan *p = &j->plan;
  const plan_task *pt = &p->tasks[t];
  lua_State *outer = rt_current();
  int status = run_task(j, w, t, outer);
  if (outer == NULL && w->sandbox && sandbox_after_task(w->L, w->sandbox)) {
    char err[256];
    if (renew_state(w, err, sizeof err) != 0) {
      fail(j, pt->chain, err);
      return -1;
    }
  }
  return status;
}

/* Runs plan task 't' on 'w'; returns 0 or -1 (the job's error set). */
static int run_task(exec_job *j, exec_worker *w, uint32_t t, lua_State *outer) {
  const plan *p = &j->plan;
  const plan_task *pt = &p->tasks[t];
  lua_State *L = w->L;
  if (L == NULL) {
    fail(j, pt->chain, "the worker's Lua state could not be made anew");
    return -1;
  }
  int top = lua_gettop(L);
  if (!lua_checkstack(L, 8)) {
    fail(j, pt->chain, "stack overflow in the worker");
    return -1;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, w->inputs); /* top+1: inputs */
  lua_pushnil(L);                               /* top+2: previous result */
  /* top+3: the current globals, which a step's environment replaces
   * while it runs (sandbox_task_env); an outermost task's are _G's view,
   * which sandbox_restore_env knows */
  if (outer) sandbox_push_env(L, w->sandbox);
  else lua_pushnil(L);
  unsigned envs = w->sandbox ? w->sandbox->envs : 0;
  lua_sethook(L, NULL, 0, 0); /* an interrupt meant for an earlier task */
  rt_set_current(L);
  for (uint32_t k = 0; k < pt->nchain; k++) {
    uint32_t node = pt->chain + k;
    const exec_spec *sp = j->spec[node];
    const uint32_t *reads = p->reads + p->read_of[node];
    uint32_t nreads = p->nreads_of[node];
    int status;
    if (sp->stored)
      status = value_push(L, &sp->stored->values[p->nodes[node].index]);
    else if (sp->direct)
      status = run_direct(L, j, sp, reads, nreads, top + 2);
    else
      status = run_spec(L, w, j, sp, p->nodes[node].index, reads, nreads, top + 2, top + 1);
    if (w->sandbox && w->sandbox->envs != envs)
      sandbox_restore_env(L, w->sandbox, outer ? top + 3 : 0);
    /* a fused step starts from the caller's values too */
    if (w->sandbox && outer == NULL && k + 1 < pt->nchain) sandbox_after_task(L, w->sandbox);
    if (status != LUA_OK) {
      fail_error(j, node, L);
      lua_settop(L, top);
      rt_set_current(outer);
      return -1;
    }
    lua_replace(L, top + 2);
  }
  rt_set_current(outer);
  int status = value_from_at(L, top + 2, &j->results[t], "the result");
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    fail(j, pt->chain + pt->nchain - 1, msg ? msg : "cannot keep its result");
  }
  lua_settop(L, top);
  return status == LUA_OK ? 0 : -1;
}

void exec_release(void *ud, uint32_t t) {
  exec_job *j = ud;
  value_free(&j->results[t]);
}
