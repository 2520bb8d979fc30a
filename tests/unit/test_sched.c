/* Unit tests of the scheduler (src/sched/pool.c): a tree sum computed by
 * plain C callbacks on the pool and on the caller's thread; failures,
 * cancels in the middle (the running tasks stopped by the pool's signal),
 * and allocation failures. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
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
  atomic_int started;      /* tasks started */
  int cancel_at;           /* the task starting this many-th sets 'cancel', or 0 */
  atomic_int *cancel;
  int spin;                /* leaves spin until their thread is signalled */
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

/* The pool's interrupt signal sets its thread's flag, as dusk's does. */
static _Thread_local volatile sig_atomic_t signalled;
static void on_interrupt(int sig) { (void)sig; signalled = 1; }

/* A task that runs until it is interrupted: 1 if it was, 0 after 10 s. */
static int spin_until_signalled(void) {
  time_t end = time(NULL) + 10;
  while (!signalled && time(NULL) < end) {}
  int was = signalled;
  signalled = 0;
  return was;
}

/* leaves are 1..n; a sum adds its inputs */
static int run(void *ud, void *worker, uint32_t t) {
  run_state *rs = ud;
  const plan_task *pt = &rs->p->tasks[t];
  atomic_fetch_add(&rs->ran[t], 1);
  atomic_fetch_add(&rs->workers_seen[*(int *)worker], 1);
  int nth = atomic_fetch_add(&rs->started, 1) + 1;
  if (nth == rs->cancel_at) atomic_store(rs->cancel, 1);
  graph_node out = rs->p->nodes[pt->chain + pt->nchain - 1];
  if (pt->ninputs == 0) {
    if ((int)out.index == rs->fail_at) return 1;
    if (rs->spin && spin_until_signalled()) return 1;
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

/* After a job that stopped early: no task ran twice, and each result
 * released was made, released once, and not requested. */
static int released_sane(const run_state *rs) {
  for (uint32_t t = 0; t < rs->p->ntasks; t++) {
    int ran = atomic_load(&rs->ran[t]), rel = atomic_load(&rs->released[t]);
    if (ran > 1 || rel > 1) return 0;
    if (rel && (!atomic_load(&rs->finished[t]) || rs->p->tasks[t].requested)) return 0;
  }
  return 1;
}

static int total_ran(const run_state *rs) {
  int n = 0;
  for (uint32_t t = 0; t < rs->p->ntasks; t++) n += atomic_load(&rs->ran[t]);
  return n;
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
    graph_dep d = {.layer = level, .kind = GRAPH_SPLIT, .split = 2};
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

  /* cancel in the middle, set by the 1000th task to start */
  cancel = 0;
  job.cancel = &cancel;
  setup(&rs, &p);
  rs.cancel = &cancel;
  rs.cancel_at = 1000;
  TEST("cancelled while running", sched_pool_run(pool, &job) == SCHED_CANCELLED);
  TEST("the tasks started stopped it early",
       total_ran(&rs) >= 1000 && total_ran(&rs) < (int)p.ntasks / 2);
  TEST("no task ran twice; releases made once, of finished tasks", released_sane(&rs));
  TEST("the root never ran", atomic_load(&rs.ran[p.targets[0]]) == 0);
  teardown(&rs);
  cancel = 0;
  setup(&rs, &p);
  rs.cancel = &cancel;
  rs.cancel_at = 1000;
  TEST("sync cancelled while running", sched_run_sync(&job, &w0) == SCHED_CANCELLED);
  TEST("sync: it stops at once", total_ran(&rs) == 1000 && released_sane(&rs));
  teardown(&rs);
  cancel = 0;
  job.cancel = NULL;

  /* the pool works after failures */
  setup(&rs, &p);
  TEST("the pool runs again", sched_pool_run(pool, &job) == SCHED_OK
       && rs.value[p.targets[0]] == want);
  teardown(&rs);
  setup(&rs, &p);
  TEST("and sync", sched_run_sync(&job, &w0) == SCHED_OK && rs.value[p.targets[0]] == want);
  teardown(&rs);
  sched_pool_free(pool);

  /* the running tasks of a cancelled job are stopped by the pool's signal:
   * the leaves spin until then, one on each thread; the 4th sets the
   * cancel */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigaction(SIGUSR1, &sa, NULL);
  pool = sched_pool_new(4, worker_new, worker_free, NULL, SIGUSR1);
  TEST("a pool with an interrupt signal", pool != NULL);
  job.cancel = &cancel;
  setup(&rs, &p);
  rs.cancel = &cancel;
  rs.cancel_at = 4;
  rs.spin = 1;
  time_t t0 = time(NULL);
  TEST("the spinning tasks are cancelled", sched_pool_run(pool, &job) == SCHED_CANCELLED);
  TEST("at once, not after their 10 s", time(NULL) - t0 < 5);
  TEST("no task started after the cancel", total_ran(&rs) == 4);
  teardown(&rs);
  cancel = 0;
  job.cancel = NULL;
  setup(&rs, &p);
  TEST("the pool runs again after the signals", sched_pool_run(pool, &job) == SCHED_OK
       && rs.value[p.targets[0]] == want);
  teardown(&rs);
  sched_pool_free(pool);

  /* allocation failure: every allocation of the runners and of the pool
   * fails in turn (the k-th and all after it), until they succeed */
  int k, rc;
  for (k = 1;; k++) {
    setup(&rs, &p);
    base_alloc_fail_after(k);
    rc = sched_run_sync(&job, &w0);
    base_alloc_fail_after(-1);
    int nothing = total_ran(&rs) == 0;
    teardown(&rs);
    if (rc == SCHED_OK) break;
    TEST("sync out of memory: says so, runs nothing", rc == SCHED_NOMEM && nothing);
  }
  TEST("sync: two allocations, then it runs", k == 3);
  sched_pool *small;
  for (k = 1;; k++) {
    base_alloc_fail_after(k);
    small = sched_pool_new(3, worker_new, worker_free, NULL, 0);
    base_alloc_fail_after(-1);
    if (small != NULL) break;
  }
  TEST("a pool once its allocations succeed", k == 7 && sched_pool_size(small) == 3);
  sched_pool_free(small);
  for (k = 1;; k++) {
    small = sched_pool_new(3, worker_new, worker_free, NULL, 0);
    setup(&rs, &p);
    base_alloc_fail_after(k);
    rc = sched_pool_run(small, &job);
    base_alloc_fail_after(-1);
    int sane = released_sane(&rs), none = total_ran(&rs) == 0;
    int right = rc == SCHED_OK && rs.value[p.targets[0]] == want && all_once(&rs, 1);
    teardown(&rs);
    sched_pool_free(small);
    if (rc == SCHED_OK) {
      /* the job's state, then each worker's room for releases (a worker
       * that never saw the job made none) */
      TEST("the pool runs once its allocations succeed", right && k >= 2 && k <= 5);
      break;
    }
    TEST("pool out of memory: says so, releases sanely", rc == SCHED_NOMEM && sane);
    if (k <= 2) TEST("no room for the job or any worker: nothing runs", none);
  }

  plan_free(&p);
  graph_free(g);
  return test_report();
}
