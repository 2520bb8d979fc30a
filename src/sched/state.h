/*
 * state: the scheduler's state machine, alone (prefix sst_).
 *
 * Pure C: no threads, no Lua, no clock.  A job's state is fed events --
 * a worker asks for a task, a task finished, a task failed, the job is
 * stopped, a worker is gone -- and answers which task a worker runs next
 * and which results nobody will read any more.  The thread pool and the
 * sync runner (pool.c) drive it under their lock; the cluster's scheduler
 * will drive it from its event loop, with workers that can be lost.
 *
 * Each task is in one of these states:
 *
 *   WAITING   to run; some input is not DONE ('waiting' counts them)
 *   READY     to run; every input is DONE; in the ready heap
 *   RUNNING   started on worker 'runner', not reported yet
 *   DONE      finished; its result is held
 *   RELEASED  finished, its result dropped: no reader was left, or it was
 *             lost with a worker and nobody needs it
 *   FAILED    its run failed: the job stops
 *
 * and what must hold between events:
 *   - 'readers' of a task = 1 if requested + its dependents that are
 *     WAITING, READY, RUNNING or FAILED (the readers still to come: a
 *     requested result is never released);
 *   - 'waiting' of a WAITING or READY task = its inputs not DONE;
 *   - the heap holds exactly the READY tasks, lowest plan priority on top;
 *   - a result is released (sst_done lists it) exactly once, when it is
 *     DONE and its readers fall to zero.
 * Every task of a plan is requested or read (graph_plan culls the rest),
 * so a task's own result is released by its last reader, never by itself.
 * A running task holds its inputs (a worker of the cluster fetches them
 * before it starts), so only the tasks that are still to start need an
 * input recomputed when a worker is lost.
 */
#ifndef DUSK_SCHED_STATE_H
#define DUSK_SCHED_STATE_H

#include <stdint.h>

#include "graph/graph.h"

/* A job's outcome, shared by the state machine and sched.h's runners. */
enum { SCHED_OK = 0, SCHED_FAILED = 1, SCHED_CANCELLED = 2, SCHED_NOMEM = 3 };

enum { SST_WAITING, SST_READY, SST_RUNNING, SST_DONE, SST_RELEASED, SST_FAILED };

#define SST_NONE UINT32_MAX

typedef struct sst {
  const plan *plan;
  uint32_t *waiting;  /* inputs not DONE, by task */
  uint32_t *readers;  /* readers still to come, by task */
  uint32_t *heap;     /* READY tasks, a min-heap by plan priority */
  uint32_t *runner;   /* the worker of each RUNNING task */
  uint8_t *state;     /* SST_*, by task */
  uint32_t nheap;
  uint32_t running;   /* tasks RUNNING */
  uint32_t left;      /* tasks WAITING, READY or RUNNING */
  uint32_t maxdrop;   /* most results one sst_done can release */
  int status;         /* SCHED_*: not OK once the job stops */
} sst;

/* Sets up the state of a job running 'p' (which must outlive it): tasks
 * without inputs are READY.  Returns SCHED_OK, or SCHED_NOMEM with
 * nothing to free. */
int sst_init(sst *s, const plan *p);
void sst_free(sst *s);

/* The most urgent READY task, now RUNNING on 'worker'; SST_NONE when no
 * task is READY or the job has stopped. */
uint32_t sst_next(sst *s, uint32_t worker);

/* 'task', RUNNING on 'worker', finished: its dependents whose inputs are
 * now all DONE become READY.  Writes the results nobody will read any
 * more to 'drop' (room for s->maxdrop) and returns how many; -1 when
 * 'task' is not RUNNING on 'worker' (a report from a worker declared
 * lost, or about a task it no longer runs), which changes nothing. */
int sst_done(sst *s, uint32_t task, uint32_t worker, uint32_t *drop);

/* 'task', RUNNING on 'worker', failed: the job stops with SCHED_FAILED
 * (no task starts any more; running ones may still report).  Returns 0,
 * or -1 for a stale report as sst_done. */
int sst_failed(sst *s, uint32_t task, uint32_t worker);

/* Stops the job with 'status' (SCHED_CANCELLED, SCHED_NOMEM): no task
 * starts any more.  The first reason stays, but a cancel takes the place
 * of a failure (the task failed because it was interrupted). */
void sst_stop(sst *s, int status);

/* 'worker' is gone.  The tasks it was running are to run again, and so
 * are the results in 'lost' (DONE tasks held only by it) that a task still
 * to start or a request needs: each is recomputed from its inputs, and
 * they from theirs where they were released or lost too (lineage).  A
 * lost result nobody needs is RELEASED, without being listed by sst_done.
 * Costs a pass over the plan; allocates nothing. */
void sst_worker_lost(sst *s, uint32_t worker, const uint32_t *lost, uint32_t nlost);

/* Over: nothing runs and nothing more will (all finished, or stopped). */
static inline int sst_over(const sst *s) {
  return s->running == 0 && (s->left == 0 || s->status != SCHED_OK);
}

/* READY tasks a worker could start now (0 once the job has stopped). */
static inline uint32_t sst_nready(const sst *s) {
  return s->status == SCHED_OK ? s->nheap : 0;
}

#endif
