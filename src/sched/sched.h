/*
 * sched: runs a plan's tasks in dependency order, on a pool of worker
 * threads or on the caller's thread ("sync"), with the same state machine.
 *
 * The scheduler knows nothing of Lua.  A worker is an opaque context made
 * on its own thread by the pool's 'worker_new' (dusk gives each a Lua
 * state) and reused for every job; a job says how to run one task on a
 * worker and how to drop a result nobody needs any more.
 *
 * Folder src/sched/ owns running a plan's tasks in order: the state machine,
 * the thread pool and the progress bar; it includes graph/ and base/
 * (no Lua).
 */
#ifndef DUSK_SCHED_H
#define DUSK_SCHED_H

#include <stdatomic.h>
#include <stdint.h>

#include "graph/graph.h"
#include "sched/state.h" /* SCHED_OK, SCHED_FAILED, SCHED_CANCELLED, SCHED_NOMEM */

typedef struct sched_job {
  const plan *plan;
  /* Runs plan task 'task' on 'worker'.  Returns 0, or non-zero when the
   * task failed (the callback keeps the reason): the job then stops. */
  int (*run)(void *ud, void *worker, uint32_t task);
  /* The result of 'task' is read by nobody any more (never called for a
   * requested task).  May run on any thread, concurrently with 'run'. */
  void (*release)(void *ud, uint32_t task);
  void *ud;
  /* Set non-zero from anywhere (a signal handler included) to stop the
   * job: no new task starts; running ones finish. */
  volatile atomic_int *cancel;
  /* Tasks finished without failing so far: read by a progress display. */
  atomic_uint done;
  /* Called now and then (at least every 100 ms while the job runs) on the
   * thread that waits for the job, e.g. to draw progress; may be NULL. */
  void (*tick)(void *ud);
} sched_job;

typedef struct sched_pool sched_pool;

/* Starts 'nworkers' threads, each making its context with
 * worker_new(ud, i) on its own thread.  When a job is cancelled, its
 * threads are sent 'interrupt_signal' (0: none) to stop their running
 * tasks.  Returns NULL when threads or memory are short, or a worker_new
 * returned NULL. */
sched_pool *sched_pool_new(int nworkers, void *(*worker_new)(void *ud, int i),
                           void (*worker_free)(void *ud, void *worker), void *ud,
                           int interrupt_signal);

/* Stops the threads (after their current job) and frees their contexts. */
void sched_pool_free(sched_pool *p);

int sched_pool_size(const sched_pool *p);

/* Runs 'job' on the pool and waits for it.  One job at a time per pool.
 * Returns SCHED_OK, SCHED_FAILED (a task's run returned non-zero),
 * SCHED_CANCELLED or SCHED_NOMEM. */
int sched_pool_run(sched_pool *p, sched_job *job);

/* Runs 'job' on the caller's thread with 'worker', one task at a time in
 * the order the pool would prefer.  Same results as sched_pool_run. */
int sched_run_sync(sched_job *job, void *worker);

#endif
