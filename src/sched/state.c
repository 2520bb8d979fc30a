/*
 * state: the scheduler's state machine (see state.h).
 *
 * DESIGN
 *
 * Flat arrays by plan task, one allocation per job, nothing per task: an
 * event costs a few array updates and a heap operation.  Priorities come
 * from graph_plan's depth-first order, so the worker that just finished a
 * task usually gets its dependent next: the data is still in its cache
 * and the intermediates die young.
 *
 * A lost worker is rare, so sst_worker_lost does not patch the counts: it
 * marks what is gone, finds what must run again by a walk from the
 * requested tasks through inputs that have no result, and sets 'waiting',
 * 'readers' and the heap afresh from the states, as their definitions in
 * state.h say.  The walk's stack is the heap's array, rebuilt after it.
 */
#include "sched/state.h"

#include <string.h>

#include "base/alloc.h"

/* ---------------------------------------------------------------- heap */

static int before(const sst *s, uint32_t a, uint32_t b) {
  const plan_task *t = s->plan->tasks;
  return t[a].priority < t[b].priority;
}

static void heap_push(sst *s, uint32_t task) {
  uint32_t i = s->nheap++;
  s->heap[i] = task;
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!before(s, s->heap[i], s->heap[parent])) break;
    uint32_t tmp = s->heap[i];
    s->heap[i] = s->heap[parent];
    s->heap[parent] = tmp;
    i = parent;
  }
}

static uint32_t heap_pop(sst *s) {
  uint32_t top = s->heap[0];
  s->heap[0] = s->heap[--s->nheap];
  uint32_t i = 0;
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < s->nheap && before(s, s->heap[l], s->heap[m])) m = l;
    if (r < s->nheap && before(s, s->heap[r], s->heap[m])) m = r;
    if (m == i) break;
    uint32_t tmp = s->heap[i];
    s->heap[i] = s->heap[m];
    s->heap[m] = tmp;
    i = m;
  }
  return top;
}

/* -------------------------------------------------------------- events */

int sst_init(sst *s, const plan *p) {
  memset(s, 0, sizeof *s);
  size_t n = p->ntasks ? p->ntasks : 1;
  /* the four uint32_t arrays, then the states */
  uint32_t *block = base_malloc(n * (4 * sizeof(uint32_t) + 1));
  if (block == NULL) return SCHED_NOMEM;
  s->plan = p;
  s->waiting = block;
  s->readers = block + n;
  s->heap = block + 2 * n;
  s->runner = block + 3 * n;
  s->state = (uint8_t *)(block + 4 * n);
  s->left = p->ntasks;
  s->maxdrop = 1; /* a drop buffer of no room would be NULL */
  for (uint32_t t = 0; t < p->ntasks; t++) {
    const plan_task *pt = &p->tasks[t];
    s->waiting[t] = pt->ninputs;
    s->readers[t] = pt->ndependents + (pt->requested ? 1 : 0);
    s->state[t] = SST_WAITING;
    if (pt->ninputs > s->maxdrop) s->maxdrop = pt->ninputs;
    if (pt->ninputs == 0) {
      s->state[t] = SST_READY;
      heap_push(s, t);
    }
  }
  return SCHED_OK;
}

void sst_free(sst *s) {
  base_free(s->waiting);
  memset(s, 0, sizeof *s);
}

uint32_t sst_next(sst *s, uint32_t worker) {
  if (s->status != SCHED_OK || s->nheap == 0) return SST_NONE;
  uint32_t t = heap_pop(s);
  s->state[t] = SST_RUNNING;
  s->runner[t] = worker;
  s->running++;
  return t;
}

int sst_done(sst *s, uint32_t task, uint32_t worker, uint32_t *drop) {
  if (s->state[task] != SST_RUNNING || s->runner[task] != worker) return -1;
  const plan *p = s->plan;
  const plan_task *pt = &p->tasks[task];
  s->state[task] = SST_DONE;
  s->running--;
  s->left--;
  /* a dependent that is not WAITING ran on a copy of an earlier result */
  for (uint32_t e = 0; e < pt->ndependents; e++) {
    uint32_t d = p->edges[pt->dependents + e];
    if (s->state[d] == SST_WAITING && --s->waiting[d] == 0) {
      s->state[d] = SST_READY;
      heap_push(s, d);
    }
  }
  int ndrop = 0;
  for (uint32_t e = 0; e < pt->ninputs; e++) {
    uint32_t in = p->edges[pt->inputs + e];
    if (--s->readers[in] == 0 && s->state[in] == SST_DONE) {
      s->state[in] = SST_RELEASED;
      drop[ndrop++] = in;
    }
  }
  return ndrop;
}

int sst_failed(sst *s, uint32_t task, uint32_t worker) {
  if (s->state[task] != SST_RUNNING || s->runner[task] != worker) return -1;
  s->state[task] = SST_FAILED;
  s->running--;
  s->left--;
  if (s->status == SCHED_OK) s->status = SCHED_FAILED;
  return 0;
}

void sst_stop(sst *s, int status) {
  if (s->status == SCHED_OK || (s->status == SCHED_FAILED && status == SCHED_CANCELLED))
    s->status = status;
}

/* Counts the readers still to come of each task, as state.h defines. */
static int reads(uint8_t state) {
  return state == SST_WAITING || state == SST_READY || state == SST_RUNNING ||
         state == SST_FAILED;
}

void sst_worker_lost(sst *s, uint32_t worker, const uint32_t *lost, uint32_t nlost) {
  const plan *p = s->plan;
  uint8_t *st = s->state;
  /* everything without a result and not running is RELEASED for now */
  for (uint32_t t = 0; t < p->ntasks; t++) {
    if (st[t] == SST_RUNNING && s->runner[t] == worker) {
      st[t] = SST_RELEASED;
      s->running--;
    } else if (st[t] == SST_WAITING || st[t] == SST_READY) {
      st[t] = SST_RELEASED;
    }
  }
  for (uint32_t i = 0; i < nlost; i++)
    if (st[lost[i]] == SST_DONE) st[lost[i]] = SST_RELEASED;
  /* what must run: the requests without a result, and the inputs without
   * one of what must run */
  uint32_t *stack = s->heap, n = 0;
  for (uint32_t t = 0; t < p->ntasks; t++) {
    if (p->tasks[t].requested && st[t] == SST_RELEASED) {
      st[t] = SST_WAITING;
      stack[n++] = t;
    }
  }
  while (n > 0) {
    const plan_task *pt = &p->tasks[stack[--n]];
    for (uint32_t e = 0; e < pt->ninputs; e++) {
      uint32_t in = p->edges[pt->inputs + e];
      if (st[in] == SST_RELEASED) {
        st[in] = SST_WAITING;
        stack[n++] = in;
      }
    }
  }
  /* the counts and the heap, from the states */
  s->nheap = 0;
  s->left = s->running;
  for (uint32_t t = 0; t < p->ntasks; t++) {
    const plan_task *pt = &p->tasks[t];
    uint32_t r = pt->requested ? 1 : 0;
    for (uint32_t e = 0; e < pt->ndependents; e++)
      r += reads(st[p->edges[pt->dependents + e]]);
    s->readers[t] = r;
    if (st[t] != SST_WAITING) continue;
    s->left++;
    uint32_t w = 0;
    for (uint32_t e = 0; e < pt->ninputs; e++) w += st[p->edges[pt->inputs + e]] != SST_DONE;
    s->waiting[t] = w;
    if (w == 0) {
      st[t] = SST_READY;
      heap_push(s, t);
    }
  }
}
