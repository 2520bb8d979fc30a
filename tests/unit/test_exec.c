/*
 * test_exec: plan tasks run by src/exec/exec.c in a real worker state
 * (exec_worker_new with dusk's lmod_open), the specs prepared as
 * src/bind/lrun.c prepares them: a direct call's result, a chain of two
 * tasks fused and not, a whole spec run by dusk.runner, a failing task's
 * error naming the task, and the sandbox between tasks (a task that
 * replaces string.format or sets a global is followed by one that sees
 * the original).
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "bind/lmodules.h"
#include "exec/exec.h"
#include "exec/runtime.h"
#include "testhelp.h"

#define MAXLAYERS 4

static lua_State *caller; /* the state that builds the graph, as a user's */
static exec_worker *worker;
static graph *g;

/* What a test job owns: the specs by layer and the job. */
typedef struct test_job {
  exec_job x;
  graph_id layer[MAXLAYERS];
  exec_spec spec[MAXLAYERS];
  value frame[MAXLAYERS];
  int nlayers;
  int rc;
} test_job;

static void no_release(void *ud, int64_t payload) { (void)ud; (void)payload; }

/* A frame of the Lua value 'code' returns in the caller's state. */
static value frame_of(const char *code) {
  value v = {VALUE_NONE, 0, {0}};
  if (luaL_dostring(caller, code) != LUA_OK || value_frame(caller, -1, &v) != LUA_OK)
    printf("unexpected: %s\n", lua_tostring(caller, -1));
  lua_settop(caller, 0);
  return v;
}

/* Adds a layer of one task named 'name' reading 'dep' (0: none) whose
 * spec is a direct call of the function 'fn' returns with 'nargs'
 * arguments 'args' (filled by the caller), or, when 'direct' is 0, the
 * whole spec 'fn' returns. */
static exec_spec *add_layer(test_job *tj, const char *name, graph_id dep, int direct,
                            const char *fn, uint32_t nargs) {
  int k = tj->nlayers++;
  graph_dep d = {.layer = dep, .kind = GRAPH_SPLIT, .split = 1};
  tj->layer[k] = graph_add(g, name, 1, &d, dep ? 1 : 0, k);
  exec_spec *sp = &tj->spec[k];
  memset(sp, 0, sizeof *sp);
  tj->frame[k] = frame_of(fn);
  sp->direct = direct;
  sp->frame = tj->frame[k].u.p;
  sp->len = tj->frame[k].len;
  sp->nargs = nargs;
  sp->args = nargs ? calloc(nargs, sizeof *sp->args) : NULL;
  return sp;
}

/* Plans the last layer's task and runs the job on the worker with the
 * sync scheduler; tj->rc is sched's result. */
static void run_job(test_job *tj, int fuse) {
  exec_job *j = &tj->x;
  j->g = g;
  pthread_mutex_init(&j->lock, NULL);
  graph_node target = {tj->layer[tj->nlayers - 1], 0};
  plan_options o = {fuse};
  if (graph_plan(g, &target, 1, &o, &j->plan) != GRAPH_OK) {
    tj->rc = -1;
    return;
  }
  j->spec = calloc(j->plan.nnodes, sizeof *j->spec);
  for (uint32_t n = 0; n < j->plan.nnodes; n++)
    for (int k = 0; k < tj->nlayers; k++)
      if (j->plan.nodes[n].layer == tj->layer[k]) j->spec[n] = &tj->spec[k];
  j->results = calloc(j->plan.ntasks, sizeof *j->results);
  j->sched.plan = &j->plan;
  j->sched.run = exec_run;
  j->sched.release = exec_release;
  j->sched.ud = j;
  tj->rc = sched_run_sync(&j->sched, worker);
}

/* The result of the job's target. */
static const value *result(test_job *tj) {
  return &tj->x.results[tj->x.plan.targets[0]];
}

/* Pushes the target's result in the caller's state as the global 'name';
 * 1 when it worked. */
static int result_as(test_job *tj, const char *name) {
  if (tj->rc != SCHED_OK || value_push(caller, result(tj)) != LUA_OK) return 0;
  lua_setglobal(caller, name);
  return 1;
}

static int holds(const char *code) {
  int ok = luaL_dostring(caller, code) == LUA_OK && lua_toboolean(caller, -1);
  lua_settop(caller, 0);
  return ok;
}

static void job_free(test_job *tj) {
  exec_job *j = &tj->x;
  if (j->results)
    for (uint32_t t = 0; t < j->plan.ntasks; t++) value_free(&j->results[t]);
  free(j->results);
  free(j->spec);
  base_free(j->error);
  value_free(&j->error_value);
  plan_free(&j->plan);
  pthread_mutex_destroy(&j->lock);
  for (int k = 0; k < tj->nlayers; k++) {
    for (uint32_t a = 0; a < tj->spec[k].nargs; a++) value_free(&tj->spec[k].args[a].value);
    free(tj->spec[k].args);
    value_free(&tj->frame[k]);
    graph_decref(g, tj->layer[k]);
  }
  memset(tj, 0, sizeof *tj);
}

static void test_direct(void) {
  test_job tj = {0};
  exec_spec *sp = add_layer(&tj, "add", 0, 1,
                            "return function(a, b, s) return a + b, #s end", 3);
  sp->args[0].value = (value){VALUE_INTEGER, 0, {.i = 40}};
  sp->args[1].value = (value){VALUE_INTEGER, 0, {.i = 2}};
  sp->args[2].value = (value){VALUE_NIL, 0, {0}};
  lua_pushlstring(caller, "a\0b", 3);
  value_from(caller, -1, &sp->args[2].value);
  lua_settop(caller, 0);
  run_job(&tj, 1);
  TEST("a direct call runs", tj.rc == SCHED_OK && tj.x.plan.ntasks == 1 && tj.x.error == NULL);
  TEST("its first result is kept, an integer", result(&tj)->type == VALUE_INTEGER
       && result(&tj)->u.i == 42);
  job_free(&tj);

  /* nout = 2 packs both results, as table.pack */
  sp = add_layer(&tj, "pair", 0, 1, "return function(s) return s .. '!', #s end", 1);
  lua_pushlstring(caller, "a\0b", 3);
  value_from(caller, -1, &sp->args[0].value);
  lua_settop(caller, 0);
  sp->nout = 2;
  run_job(&tj, 1);
  TEST("with nout results, a frame of their list", tj.rc == SCHED_OK
       && result(&tj)->type == VALUE_FRAME);
  TEST("holding both, NUL bytes and all",
       result_as(&tj, "pair") && holds("return pair.n == 2 and pair[1] == 'a\\0b!' and pair[2] == 3"));
  job_free(&tj);

  /* a table result comes back as a frame of a fresh copy */
  add_layer(&tj, "tbl", 0, 1, "return function() return {x = {y = 2.5}, 'one'} end", 0);
  run_job(&tj, 1);
  TEST("a table result", tj.rc == SCHED_OK && result(&tj)->type == VALUE_FRAME
       && result_as(&tj, "tbl") && holds("return tbl.x.y == 2.5 and tbl[1] == 'one' and #tbl == 1"));
  job_free(&tj);
}

/* x() = 20; double(x) = 2x + 1, reading x's result as input 1. */
static void chain(test_job *tj, int direct) {
  exec_spec *sp = add_layer(tj, "x", 0, 1, "return function() return 20 end", 0);
  graph_id x = tj->layer[0];
  if (direct) {
    sp = add_layer(tj, "double", x, 1, "return function(v) return v * 2 + 1 end", 1);
    sp->args[0].input = 1;
  } else { /* {"call", fn, {{k = 1}, dep(1)}, 2}: a table argument goes whole */
    add_layer(tj, "double", x, 0,
              "local dep = setmetatable({1}, {__name = 'dusk.dep',\n"
              "  __dusk_send = function(self) return 'dusk.dep', self[1] end})\n"
              "return {'call', function(t, v) return v * 2 + t.k end, {{k = 1}, dep}, 2}", 0);
  }
  (void)sp;
}

static void test_chain(void) {
  test_job tj = {0};
  chain(&tj, 1);
  run_job(&tj, 1);
  TEST("a chain fused: one task of two nodes", tj.rc == SCHED_OK && tj.x.plan.ntasks == 1
       && tj.x.plan.tasks[0].nchain == 2);
  TEST("reads the previous result", result(&tj)->type == VALUE_INTEGER && result(&tj)->u.i == 41);
  job_free(&tj);

  chain(&tj, 1);
  run_job(&tj, 0);
  TEST("a chain not fused: two tasks", tj.rc == SCHED_OK && tj.x.plan.ntasks == 2);
  TEST("the second reads the first's kept result",
       result(&tj)->type == VALUE_INTEGER && result(&tj)->u.i == 41);
  job_free(&tj);

  chain(&tj, 0);
  run_job(&tj, 0);
  TEST("a whole spec run by dusk.runner, its input in place of the placeholder",
       tj.rc == SCHED_OK && result(&tj)->type == VALUE_INTEGER && result(&tj)->u.i == 41);
  job_free(&tj);
  chain(&tj, 0);
  run_job(&tj, 1);
  TEST("and fused", tj.rc == SCHED_OK && tj.x.plan.ntasks == 1
       && result(&tj)->type == VALUE_INTEGER && result(&tj)->u.i == 41);
  job_free(&tj);
}

static void test_failure(void) {
  test_job tj = {0};
  add_layer(&tj, "boom", 0, 1, "return function() error('bad input', 0) end", 0);
  run_job(&tj, 1);
  const char *e = tj.x.error;
  TEST("a failing task fails the job", tj.rc == SCHED_FAILED && e != NULL);
  TEST("its error names the task, then the message",
       e && strncmp(e, "task boom failed: bad input", 27) == 0);
  TEST("with the worker's traceback", e && strstr(e, "stack traceback:") != NULL);
  TEST("no error value for a string", tj.x.error_value.type == VALUE_NONE);
  job_free(&tj);

  /* a failure in the second step of a fused chain names that step */
  exec_spec *sp = add_layer(&tj, "first", 0, 1, "return function() return 1 end", 0);
  sp = add_layer(&tj, "second", tj.layer[0], 1,
                 "return function(v) error('step two got ' .. v, 0) end", 1);
  sp->args[0].input = 1;
  run_job(&tj, 1);
  e = tj.x.error;
  TEST("a fused chain's failing step is named",
       tj.rc == SCHED_FAILED && e && strncmp(e, "task second failed: step two got 1", 34) == 0);
  job_free(&tj);

  /* an error table travels as itself */
  add_layer(&tj, "raise", 0, 1, "return function() error({code = 7, why = 'no'}) end", 0);
  run_job(&tj, 1);
  TEST("an error table: the job fails", tj.rc == SCHED_FAILED && tj.x.error != NULL
       && strncmp(tj.x.error, "task raise failed: ", 19) == 0);
  TEST("and keeps the table", tj.x.error_value.type == VALUE_FRAME
       && value_push(caller, &tj.x.error_value) == LUA_OK);
  lua_setglobal(caller, "err");
  TEST("with its fields", holds("return err.code == 7 and err.why == 'no'"));
  job_free(&tj);

  /* a result that cannot be kept */
  add_layer(&tj, "co", 0, 1, "return function() return coroutine.create(print) end", 0);
  run_job(&tj, 1);
  TEST("an unsendable result fails its task", tj.rc == SCHED_FAILED && tj.x.error
       && strncmp(tj.x.error, "task co failed: cannot send a coroutine", 39) == 0
       && strstr(tj.x.error, "the result") != NULL);
  job_free(&tj);

  add_layer(&tj, "after", 0, 1, "return function() return 'fine' end", 0);
  run_job(&tj, 1);
  TEST("the worker runs again after failures", tj.rc == SCHED_OK
       && result(&tj)->type == VALUE_STRING && result(&tj)->len == 4
       && memcmp(result(&tj)->u.p, "fine", 4) == 0);
  job_free(&tj);
}

static void test_isolation(void) {
  static const char *const taint =
      "return function() string.format = function() return 'hacked' end\n"
      "  leaked = 'yes'; string.extra = 1; return string.format('%d', 5) end";
  static const char *const check =
      "return function(prev) return table.concat({tostring(prev), string.format('%d', 5),\n"
      "  tostring(leaked), tostring(string.extra)}, ' ') end";
  test_job tj = {0};
  add_layer(&tj, "taint", 0, 1, taint, 0);
  run_job(&tj, 1);
  TEST("a task sees its own change", tj.rc == SCHED_OK && result(&tj)->type == VALUE_STRING
       && result(&tj)->len == 6 && memcmp(result(&tj)->u.p, "hacked", 6) == 0);
  job_free(&tj);

  add_layer(&tj, "check", 0, 1, check, 1);
  tj.spec[0].args[0].value = (value){VALUE_NIL, 0, {0}};
  run_job(&tj, 1);
  const value *r = result(&tj);
  TEST("the next task on the worker sees the originals",
       tj.rc == SCHED_OK && r->type == VALUE_STRING && r->len == strlen("nil 5 nil nil")
       && memcmp(r->u.p, "nil 5 nil nil", r->len) == 0);
  job_free(&tj);

  /* the two as one fused task: the second step starts afresh too */
  add_layer(&tj, "taint", 0, 1, taint, 0);
  exec_spec *sp = add_layer(&tj, "check", tj.layer[0], 1, check, 1);
  sp->args[0].input = 1;
  run_job(&tj, 1);
  r = result(&tj);
  TEST("a fused step sees the originals, its input the previous result",
       tj.rc == SCHED_OK && tj.x.plan.ntasks == 1 && r->type == VALUE_STRING
       && r->len == strlen("hacked 5 nil nil") && memcmp(r->u.p, "hacked 5 nil nil", r->len) == 0);
  job_free(&tj);

  TEST("the worker's real string.format is untouched",
       luaL_dostring(worker->L, "return string.format('%d', 7)") == LUA_OK
       && strcmp(lua_tostring(worker->L, -1), "7") == 0);
  lua_settop(worker->L, 0);
  TEST("the worker's state kept its stack", lua_gettop(worker->L) == 0);
}

int main(void) {
  char err[256];
  caller = rt_newstate(lmod_open, err, sizeof err);
  exec_config config = {lmod_open};
  worker = exec_worker_new(&config, -1);
  g = graph_new(no_release, NULL);
  TEST("a caller, a worker and a graph", caller && worker && g && worker->sandbox);
  if (!caller || !worker || !g) return test_report();
  test_direct();
  test_chain();
  test_failure();
  test_isolation();
  TEST("every layer released", graph_live_layers(g) == 0);
  graph_free(g);
  exec_worker_free(&config, worker);
  lua_close(caller);
  return test_report();
}
