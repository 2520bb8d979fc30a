/*
 * exec: what a worker does with a plan task: run its chain of payloads in
 * the worker's Lua state and keep the result in C.
 *
 * A compute encodes each layer's payload (a Lua "spec": what to call and
 * with what) once, with serial, before the job starts; every task decodes
 * its spec afresh in the worker's state, so each task starts from the
 * caller's values.  Results are values: scalars and strings as C
 * values, anything else as a serial frame.
 *
 * Folder src/exec/ owns the Lua states dusk makes (runtime) and running a
 * plan task in one (exec): the plane that runs Lua code for the
 * scheduler; it includes sched/, graph/, data/, serial/, sandbox/, base/.
 */
#ifndef DUSK_EXEC_H
#define DUSK_EXEC_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "graph/graph.h"
#include "sandbox/sandbox.h"
#include "data/store.h"
#include "data/value.h"
#include "sched/sched.h"

/* How workers' states are made: 'open' runs in each (rt_newstate); the
 * bind layer gives dusk's (lmod_open), so exec needs nothing above it. */
typedef struct exec_config {
  lua_CFunction open;
} exec_config;

/* A worker: a Lua state with the task runner loaded. */
/* Decoded specs a worker keeps (exec_worker.specs). */
#define EXEC_SPEC_CACHE 8

typedef struct exec_worker {
  lua_CFunction open; /* what made its state (renewing makes another) */
  lua_State *L;
  int runner;   /* registry ref: dusk.runner.run */
  int inputs;   /* registry ref: dusk.runner.inputs */
  int owned;    /* whether exec_worker_free closes L */
  sandbox *sandbox; /* owned states are sealed (sandbox.h) */
  /* The last reusable specs decoded here (exec_spec.reuse): a copy of
   * each one's frame, to know it again, and a registry ref to the decoded
   * table.  Several, since the tasks of a graph's layers interleave. */
  struct exec_cached_spec {
    unsigned char *frame;
    size_t len;
    int ref;
  } specs[EXEC_SPEC_CACHE];
  unsigned next_spec; /* the entry to replace next */
} exec_worker;

/* sched's worker_new/worker_free: a new state made on the calling thread,
 * 'ud' the exec_config.  'index' is the pool thread's number, or -1 for
 * a worker on the caller's own thread (the "sync" scheduler), which keeps
 * SIGINT. */
void *exec_worker_new(void *ud, int index);
void exec_worker_free(void *ud, void *worker);
/* A worker on an existing state (a compute inside a task runs inline on
 * its own state).  Returns 0, or -1 with a message pushed on 'L'. */
int exec_worker_init(exec_worker *w, lua_State *L);
void exec_worker_release(exec_worker *w);

/* An argument of a direct call: a value, or the task's k-th input. */
typedef struct exec_arg {
  uint32_t input;         /* 0: 'value'; k >= 1: input k */
  value value;
} exec_arg;

/* How the tasks of one layer are made, ready for the workers.  Most
 * Delayed calls pass numbers, strings and other tasks' results: those are
 * 'direct', the function one frame shared by all its calls and the
 * arguments C values, so a task decodes no tables.  Anything else is one
 * frame of the whole spec, run by dusk.runner. */
typedef struct exec_spec {
  store_block *stored;    /* persisted: task i is value i of the block */
  int direct;
  const unsigned char *frame; /* direct: the function; else the spec */
  size_t len;
  uint32_t nargs;         /* direct */
  exec_arg *args;
  int nout;               /* direct: 0 keeps the first result, n packs n */
  /* its decoded table may serve every task of its layer on one worker: it
   * holds no function nor anything a task could change (an Array's
   * program, which can be large: decoding it per task made an Array's
   * compute quadratic in its blocks) */
  int reuse;
} exec_spec;

/* One compute: its plan, layers' specs, results, and first error. */
typedef struct exec_job {
  const graph *g;
  plan plan;
  exec_spec **spec;       /* by plan node: its layer's spec */
  value *results;    /* by plan task */
  pthread_mutex_t lock;   /* guards 'error' */
  char *error;            /* the first failure, base_malloc'd */
  value error_value;      /* its error when a table (a frame), else none */
  sched_job sched;
} exec_job;

/* sched's callbacks, with an exec_job as 'ud'. */
int exec_run(void *ud, void *worker, uint32_t task);
void exec_release(void *ud, uint32_t task);

#endif
