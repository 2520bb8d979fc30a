/* Unit tests of the scheduler (src/sched/sched.c): a tree sum computed by
 * plain C callbacks on the pool and on the caller's thread. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "sched/sched.h"
#include "testhelp.h"

typedef struct run_state {
  const plan *p;
  int64_t *value;          /* by plan task */
  atomic_int *ran;         /* times each task ran */
  atomic_int *released;
  atomic_int order_errors; /* a task ran before an input was done */
  atomic_int *finished;
  int fail_at;             /* leaf index whose task fails, or -1 */
  atomic_int workers_seen[8];
} run_state;

static int worker_ids;
static void *worker_new(void *ud, int i) {
  (void)ud;
  int *w = malloc(sizeof *w);
  *w = i;
  __atomic_add_fetch(&worker_ids, 1, __ATOMIC_SEQ_CST);
  return w;
}
static void worker_free(void *ud, void *w) { (void)ud; free(w); }

/* leaves are 1..n; a sum adds its inputs */
static int run(void *ud, void *worker, uint32_t t) {
  run_state *rs = ud;
  const plan_task *pt = &rs->p->tasks[t];
  atomic_fetch_add(&rs->ran[t], 1);
  atomic_fetch_add(&rs->workers_seen[*(int *)worker], 1);
  graph_node out = rs->p->nodes[pt->chain + pt->nchain - 1];
  if (pt->ninputs == 0) {
    if ((int)out.index == rs->fail_at) return 1;
    rs->value[t] = out.index + 1;
  } else {
    int64_t s = 0;
    for (uint32_t e = 0; e < pt->ninputs; e++) {
      uint32_t in = rs->p->edges[pt->inputs + e];
      if (!atomic_load(&rs->finished[in])) atomic_fetch_add(&rs->order_errors, 1);
      s += rs->value[in];
    }
    rs->value[t] = s;
  }
  atomic_store(&rs->finished[t], 1);
  return 0;
}

static void release(void *ud, uint32_t t) {
  run_state *rs = ud;
  atomic_fetch_add(&rs->released[t], 1);
}

static void setup(run_state *rs, const plan *p) {
  memset(rs, 0, sizeof *rs);
  rs->p = p;
  rs->value = calloc(p->ntasks, sizeof *rs->value);
  rs->ran = calloc(p->ntasks, sizeof *rs->ran);
  rs->released = calloc(p->ntasks, sizeof *rs->released);
  rs->finished = calloc(p->ntasks, sizeof *rs->finished);
  rs->fail_at = -1;
}

static void teardown(run_state *rs) {
  free(rs->value);
  free(rs->ran);
  free(rs->released);
  free(rs->finished);
}

static int all_once(const run_state *rs, int requested_released) {
  for (uint32_t t = 0; t < rs->p->ntasks; t++) {
    if (atomic_load(&rs->ran[t]) != 1) return 0;
    int want = rs->p->tasks[t].requested ? 0 : 1;
    if (requested_released && atomic_load(&rs->released[t]) != want) return 0;
  }
  return 1;
}

int main(void) {
  enum { N = 20000 };
  graph *g = graph_new(NULL, NULL);
  graph_id leaves = graph_add(g, "leaf", N, NULL, 0, 0);
  graph_id level = leaves;
  uint32_t n = N;
  while (n > 1) {
    graph_dep d = {level, GRAPH_SPLIT, 2};
    n = (n + 1) / 2;
    level = graph_add(g, "sum", n, &d, 1, 0);
  }
  graph_node root = {level, 0};
  plan p;
  plan_options o = {1};
  TEST("plan of a 20,000-leaf tree sum", graph_plan(g, &root, 1, &o, &p) == 0);
  const int64_t want = (int64_t)N * (N + 1) / 2;

  run_state rs;
  sched_job job = {0};
  job.plan = &p;
  job.run = run;
  job.release = release;
  job.ud = &rs;

  /* sync */
  setup(&rs, &p);
  int w0 = 0;
  TEST("sync runs", sched_run_sync(&job, &w0) == SCHED_OK);
  TEST("sync: the sum", rs.value[p.targets[0]] == want);
  TEST("sync: each task once, each result released once but the requested",
       all_once(&rs, 1));
  TEST("sync: inputs before readers", atomic_load(&rs.order_errors) == 0);
  TEST("progress counts every task", atomic_load(&job.done) == p.ntasks);
  teardown(&rs);

  /* threads */
  sched_pool *pool = sched_pool_new(4, worker_new, worker_free, NULL, 0);
  TEST("a pool of 4", pool != NULL && sched_pool_size(pool) == 4);
  TEST("each worker made its context", worker_ids == 4);
  for (int round = 0; round < 3; round++) {
    setup(&rs, &p);
    TEST("threads run", sched_pool_run(pool, &job) == SCHED_OK);
    TEST("threads: the same sum", rs.value[p.targets[0]] == want);
    TEST("threads: each task once, released once", all_once(&rs, 1));
    TEST("threads: inputs before readers", atomic_load(&rs.order_errors) == 0);
    teardown(&rs);
  }

  /* a failing task stops the job */
  setup(&rs, &p);
  rs.fail_at = 100;
  TEST("a failure is reported", sched_pool_run(pool, &job) == SCHED_FAILED);
  TEST("the root never ran", atomic_load(&rs.ran[p.targets[0]]) == 0);
  teardown(&rs);
  setup(&rs, &p);
  rs.fail_at = 100;
  TEST("sync reports it too", sched_run_sync(&job, &w0) == SCHED_FAILED);
  teardown(&rs);

  /* cancel before start: nothing runs */
  atomic_int cancel = 1;
  job.cancel = &cancel;
  setup(&rs, &p);
  TEST("a cancelled job", sched_pool_run(pool, &job) == SCHED_CANCELLED);
  int ran = 0;
  for (uint32_t t = 0; t < p.ntasks; t++) ran += atomic_load(&rs.ran[t]);
  TEST("runs nothing", ran == 0);
  teardown(&rs);
  job.cancel = NULL;

  /* the pool works after failures */
  setup(&rs, &p);
  TEST("the pool runs again", sched_pool_run(pool, &job) == SCHED_OK
       && rs.value[p.targets[0]] == want);
  teardown(&rs);

  sched_pool_free(pool);
  plan_free(&p);
  graph_free(g);
  return test_report();
}
