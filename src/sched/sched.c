/*
 * sched: the state machine and the thread pool.
 *
 * DESIGN
 *
 * A job's state is a count of unfinished inputs per task, a count of
 * readers still to come per task (its dependents, plus one if requested,
 * which is never given back), and a min-heap of ready tasks by plan
 * priority, all under the pool's one mutex.  A worker pops the most urgent
 * ready task, runs it unlocked, then under the lock makes its dependents
 * ready and gives back its inputs; inputs nobody else reads are released
 * outside the lock.  Priorities come from graph_plan's depth-first order,
 * so the worker that just finished a task usually pops its dependent next:
 * the data is still in its cache and the intermediates die young.
 *
 * Idle workers spin briefly before they sleep on the condition variable
 * (a wake-up costs microseconds, a task can cost less); the waiting caller
 * sleeps in short timed waits so that a cancel flag set by a signal
 * handler is seen without any call from the handler.
 *
 * Ordering guarantee: among ready tasks, lower priority first; nothing
 * else is promised about which worker runs what.
 */
#include "sched/sched.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPIN_ROUNDS 2000 /* ~20-50 us of polling before sleeping */

typedef struct job_state {
  sched_job *job;
  uint32_t *waiting;   /* unfinished inputs, by task */
  uint32_t *readers;   /* readers to come, by task */
  uint32_t *heap;      /* ready tasks */
  uint32_t nheap;
  uint32_t finished;
  uint32_t running;
  int status;
} job_state;

struct sched_pool {
  pthread_mutex_t lock;
  pthread_cond_t work;    /* workers wait here for ready tasks or a job */
  pthread_cond_t idle;    /* the caller waits here for the job's end */
  job_state *js;          /* the current job, or NULL */
  atomic_uint nready;     /* heap size, readable without the lock */
  int stopping;
  int nworkers;
  int sleeping;
  pthread_t *threads;
  void **workers;
  void *(*worker_new)(void *, int);
  void (*worker_free)(void *, void *);
  void *ud;
  int started;            /* threads that finished making their worker */
  int failed_start;
  int interrupt_signal;
};

/* ---------------------------------------------------------------- heap */

static int before(const job_state *js, uint32_t a, uint32_t b) {
  const plan_task *t = js->job->plan->tasks;
  return t[a].priority < t[b].priority;
}

static void heap_push(job_state *js, uint32_t task) {
  uint32_t i = js->nheap++;
  js->heap[i] = task;
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!before(js, js->heap[i], js->heap[parent])) break;
    uint32_t tmp = js->heap[i];
    js->heap[i] = js->heap[parent];
    js->heap[parent] = tmp;
    i = parent;
  }
}

static uint32_t heap_pop(job_state *js) {
  uint32_t top = js->heap[0];
  js->heap[0] = js->heap[--js->nheap];
  uint32_t i = 0;
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < js->nheap && before(js, js->heap[l], js->heap[m])) m = l;
    if (r < js->nheap && before(js, js->heap[r], js->heap[m])) m = r;
    if (m == i) break;
    uint32_t tmp = js->heap[i];
    js->heap[i] = js->heap[m];
    js->heap[m] = tmp;
    i = m;
  }
  return top;
}

/* --------------------------------------------------------- job state */

static void js_free(job_state *js) {
  free(js->waiting);
  free(js->readers);
  free(js->heap);
}

static int js_init(job_state *js, sched_job *job) {
  const plan *p = job->plan;
  uint32_t n = p->ntasks ? p->ntasks : 1;
  memset(js, 0, sizeof *js);
  js->job = job;
  js->waiting = malloc(n * sizeof *js->waiting);
  js->readers = malloc(n * sizeof *js->readers);
  js->heap = malloc(n * sizeof *js->heap);
  if (!js->waiting || !js->readers || !js->heap) {
    js_free(js);
    return -1;
  }
  atomic_store(&job->done, 0);
  for (uint32_t t = 0; t < p->ntasks; t++) {
    js->waiting[t] = p->tasks[t].ninputs;
    js->readers[t] = p->tasks[t].ndependents + (p->tasks[t].requested ? 1 : 0);
    if (js->waiting[t] == 0) heap_push(js, t);
  }
  return 0;
}

/* Over when nothing runs (a worker still releasing inputs counts as
 * running: the job's memory must outlive it) and nothing more will. */
static int js_over(const job_state *js) {
  return js->running == 0 &&
         (js->finished == js->job->plan->ntasks || js->status != SCHED_OK);
}

static int cancelled(const job_state *js) {
  return js->job->cancel && atomic_load(js->job->cancel);
}

/* Under the lock: the bookkeeping after 'task' ran.  Inputs that nobody
 * reads any more are collected in 'drop' (released by the caller). */
static void js_finish(job_state *js, uint32_t task, int failed,
                      uint32_t *drop, uint32_t *ndrop) {
  const plan *p = js->job->plan;
  const plan_task *pt = &p->tasks[task];
  js->running--;
  js->finished++;
  if (!failed) atomic_fetch_add(&js->job->done, 1);
  if (failed) {
    if (js->status == SCHED_OK) js->status = SCHED_FAILED;
    return;
  }
  for (uint32_t e = 0; e < pt->ndependents; e++) {
    uint32_t d = p->edges[pt->dependents + e];
    if (--js->waiting[d] == 0) heap_push(js, d);
  }
  *ndrop = 0;
  for (uint32_t e = 0; e < pt->ninputs; e++) {
    uint32_t in = p->edges[pt->inputs + e];
    if (--js->readers[in] == 0) drop[(*ndrop)++] = in;
  }
  if (pt->ndependents == 0 && !pt->requested) drop[(*ndrop)++] = task;
}

/* Under the lock: the next task to run, or UINT32_MAX if none is ready. */
static uint32_t js_next(job_state *js) {
  if (js->status != SCHED_OK) return UINT32_MAX;
  if (cancelled(js)) {
    js->status = SCHED_CANCELLED;
    return UINT32_MAX;
  }
  if (js->nheap == 0) return UINT32_MAX;
  js->running++;
  return heap_pop(js);
}

static uint32_t max_inputs(const plan *p) {
  uint32_t m = 1;
  for (uint32_t t = 0; t < p->ntasks; t++)
    if (p->tasks[t].ninputs + 1 > m) m = p->tasks[t].ninputs + 1;
  return m;
}

/* ---------------------------------------------------------------- sync */

int sched_run_sync(sched_job *job, void *worker) {
  job_state js;
  if (js_init(&js, job) != 0) return SCHED_NOMEM;
  uint32_t *drop = malloc(max_inputs(job->plan) * sizeof *drop);
  if (drop == NULL) {
    js_free(&js);
    return SCHED_NOMEM;
  }
  while (!js_over(&js)) {
    uint32_t t = js_next(&js);
    if (t == UINT32_MAX) break; /* failed or cancelled */
    int failed = job->run(job->ud, worker, t) != 0;
    uint32_t ndrop = 0;
    js_finish(&js, t, failed, drop, &ndrop);
    for (uint32_t i = 0; i < ndrop; i++) job->release(job->ud, drop[i]);
    if (job->tick) job->tick(job->ud);
  }
  /* cancelled even if its last task caught the interrupt */
  if ((js.status == SCHED_OK || js.status == SCHED_FAILED) && cancelled(&js))
    js.status = SCHED_CANCELLED;
  int status = js.status;
  free(drop);
  js_free(&js);
  return status;
}

/* ---------------------------------------------------------------- pool */

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

typedef struct thread_arg {
  sched_pool *pool;
  int index;
} thread_arg;

/* Under the lock, sleeping at most until something changes. */
static void wait_for_work(sched_pool *p) {
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < SPIN_ROUNDS && atomic_load(&p->nready) == 0; i++) cpu_relax();
  pthread_mutex_lock(&p->lock);
  if (p->stopping || (p->js && p->js->nheap > 0)) return;
  p->sleeping++;
  pthread_cond_wait(&p->work, &p->lock);
  p->sleeping--;
}

static void *worker_main(void *arg) {
  thread_arg ta = *(thread_arg *)arg;
  free(arg);
  sched_pool *p = ta.pool;
  void *w = p->worker_new(p->ud, ta.index);
  pthread_mutex_lock(&p->lock);
  p->workers[ta.index] = w;
  if (w == NULL) p->failed_start = 1;
  p->started++;
  pthread_cond_broadcast(&p->idle);
  if (w == NULL) {
    pthread_mutex_unlock(&p->lock);
    return NULL;
  }
  uint32_t *drop = NULL;
  uint32_t dropcap = 0;
  while (!p->stopping) {
    job_state *js = p->js;
    uint32_t t = js ? js_next(js) : UINT32_MAX;
    if (t == UINT32_MAX) {
      if (js && js_over(js)) pthread_cond_broadcast(&p->idle);
      wait_for_work(p);
      continue;
    }
    atomic_store(&p->nready, js->nheap);
    sched_job *job = js->job;
    uint32_t need = job->plan->tasks[t].ninputs + 1;
    if (need > dropcap) {
      uint32_t *d = realloc(drop, need * sizeof *d);
      if (d == NULL) { /* cannot track releases: fail the job */
        js->running--;
        js->status = SCHED_NOMEM;
        continue;
      }
      drop = d;
      dropcap = need;
    }
    pthread_mutex_unlock(&p->lock);
    int failed = job->run(job->ud, w, t) != 0;
    pthread_mutex_lock(&p->lock);
    uint32_t ndrop = 0;
    js->running++; /* js_finish counts it done; stay running while releasing */
    js_finish(js, t, failed, drop, &ndrop);
    atomic_store(&p->nready, js->nheap);
    /* this worker takes one ready task itself; wake a sleeper for more */
    if (js->nheap > 1 && p->sleeping > 0) pthread_cond_signal(&p->work);
    if (ndrop > 0) {
      pthread_mutex_unlock(&p->lock);
      for (uint32_t i = 0; i < ndrop; i++) job->release(job->ud, drop[i]);
      pthread_mutex_lock(&p->lock);
    }
    js->running--;
    if (js_over(js)) pthread_cond_broadcast(&p->idle);
  }
  pthread_mutex_unlock(&p->lock);
  free(drop);
  return NULL;
}

sched_pool *sched_pool_new(int nworkers, void *(*worker_new)(void *, int),
                           void (*worker_free)(void *, void *), void *ud,
                           int interrupt_signal) {
  if (nworkers < 1) return NULL;
  sched_pool *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->threads = calloc((size_t)nworkers, sizeof *p->threads);
  p->workers = calloc((size_t)nworkers, sizeof *p->workers);
  if (!p->threads || !p->workers) {
    free(p->threads);
    free(p->workers);
    free(p);
    return NULL;
  }
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->work, NULL);
  pthread_cond_init(&p->idle, NULL);
  p->worker_new = worker_new;
  p->worker_free = worker_free;
  p->ud = ud;
  p->interrupt_signal = interrupt_signal;
  int created = 0;
  for (; created < nworkers; created++) {
    thread_arg *ta = malloc(sizeof *ta);
    if (ta == NULL) break;
    ta->pool = p;
    ta->index = created;
    if (pthread_create(&p->threads[created], NULL, worker_main, ta) != 0) {
      free(ta);
      break;
    }
  }
  p->nworkers = created;
  pthread_mutex_lock(&p->lock);
  while (p->started < created) pthread_cond_wait(&p->idle, &p->lock);
  int ok = created == nworkers && !p->failed_start;
  pthread_mutex_unlock(&p->lock);
  if (!ok) {
    sched_pool_free(p);
    return NULL;
  }
  return p;
}

void sched_pool_free(sched_pool *p) {
  if (p == NULL) return;
  pthread_mutex_lock(&p->lock);
  p->stopping = 1;
  pthread_cond_broadcast(&p->work);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < p->nworkers; i++) {
    pthread_join(p->threads[i], NULL);
    if (p->workers[i]) p->worker_free(p->ud, p->workers[i]);
  }
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->work);
  pthread_cond_destroy(&p->idle);
  free(p->threads);
  free(p->workers);
  free(p);
}

int sched_pool_size(const sched_pool *p) { return p->nworkers; }

int sched_pool_run(sched_pool *p, sched_job *job) {
  job_state js;
  if (js_init(&js, job) != 0) return SCHED_NOMEM;
  pthread_mutex_lock(&p->lock);
  p->js = &js;
  atomic_store(&p->nready, js.nheap);
  pthread_cond_broadcast(&p->work);
  while (!js_over(&js)) {
    if (js.status == SCHED_OK && cancelled(&js)) js.status = SCHED_CANCELLED;
    if (js.status == SCHED_CANCELLED && p->interrupt_signal) {
      /* stop the running tasks: each thread arms its own state's hook;
       * again each round, for a thread that was starting its task */
      for (int i = 0; i < p->nworkers; i++) pthread_kill(p->threads[i], p->interrupt_signal);
    }
    if (job->tick) {
      pthread_mutex_unlock(&p->lock);
      job->tick(job->ud);
      pthread_mutex_lock(&p->lock);
      if (js_over(&js)) break;
    }
    /* timed, so a cancel flag set by a signal handler is seen */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 20 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&p->idle, &p->lock, &until);
  }
  p->js = NULL;
  atomic_store(&p->nready, 0);
  /* a task stopped by the interrupt fails, or caught it: cancelled */
  if ((js.status == SCHED_OK || js.status == SCHED_FAILED) && cancelled(&js))
    js.status = SCHED_CANCELLED;
  int status = js.status;
  pthread_mutex_unlock(&p->lock);
  js_free(&js);
  return status;
}
