/*
 * pool: the thread pool and the sync runner, driving the state machine
 * of state.c.
 *
 * DESIGN
 *
 * A job's state machine lives under the pool's one mutex.  A worker asks
 * it for the most urgent ready task, runs the task unlocked, then under
 * the lock reports it done (its dependents become ready) or failed;
 * results nobody reads any more are released outside the lock, and the
 * job's memory outlives every worker still releasing ('releasing').
 *
 * Idle workers spin briefly before they sleep on the condition variable
 * (a wake-up costs microseconds, a task can cost less); the waiting caller
 * sleeps in short timed waits so that a cancel flag set by a signal
 * handler is seen without any call from the handler.  Workers see the
 * flag too, before they start a task.
 *
 * Ordering guarantee: among ready tasks, lower priority first; nothing
 * else is promised about which worker runs what.
 */
#include "sched/sched.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "base/alloc.h"
#include "sched/state.h"

#define SPIN_ROUNDS 2000 /* ~20-50 us of polling before sleeping */

typedef struct job_run {
  sched_job *job;
  sst s;
  int releasing;       /* workers releasing results outside the lock */
} job_run;

struct sched_pool {
  pthread_mutex_t lock;
  pthread_cond_t work;    /* workers wait here for ready tasks or a job */
  pthread_cond_t idle;    /* the caller waits here for the job's end */
  job_run *run;           /* the current job, or NULL */
  atomic_uint nready;     /* ready tasks, readable without the lock */
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

static int cancelled(const sched_job *job) {
  return job->cancel && atomic_load(job->cancel);
}

static int run_over(const job_run *r) { return sst_over(&r->s) && r->releasing == 0; }

/* A task stopped by the interrupt fails, or caught it: cancelled. */
static int outcome(job_run *r) {
  if (cancelled(r->job)) sst_stop(&r->s, SCHED_CANCELLED);
  return r->s.status;
}

/* ---------------------------------------------------------------- sync */

int sched_run_sync(sched_job *job, void *worker) {
  job_run r = {job, {0}, 0};
  if (sst_init(&r.s, job->plan) != SCHED_OK) return SCHED_NOMEM;
  uint32_t *drop = base_malloc(r.s.maxdrop * sizeof *drop);
  if (drop == NULL) {
    sst_free(&r.s);
    return SCHED_NOMEM;
  }
  atomic_store(&job->done, 0);
  for (;;) {
    if (cancelled(job)) sst_stop(&r.s, SCHED_CANCELLED);
    uint32_t t = sst_next(&r.s, 0);
    if (t == SST_NONE) break; /* all done, failed or cancelled */
    if (job->run(job->ud, worker, t) != 0) {
      sst_failed(&r.s, t, 0);
    } else {
      int ndrop = sst_done(&r.s, t, 0, drop);
      atomic_fetch_add(&job->done, 1);
      for (int i = 0; i < ndrop; i++) job->release(job->ud, drop[i]);
    }
    if (job->tick) job->tick(job->ud);
  }
  int status = outcome(&r);
  base_free(drop);
  sst_free(&r.s);
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
  if (p->stopping || (p->run && sst_nready(&p->run->s) > 0)) return;
  p->sleeping++;
  pthread_cond_wait(&p->work, &p->lock);
  p->sleeping--;
}

/* Under the lock: 'drop' made room for 'n' results, or the job stopped. */
static int room(job_run *r, uint32_t **drop, uint32_t *cap) {
  uint32_t n = r->s.maxdrop;
  if (n <= *cap) return 1;
  uint32_t *d = base_realloc(*drop, n * sizeof *d);
  if (d == NULL) { /* cannot track releases: fail the job */
    sst_stop(&r->s, SCHED_NOMEM);
    return 0;
  }
  *drop = d;
  *cap = n;
  return 1;
}

static void *worker_main(void *arg) {
  thread_arg ta = *(thread_arg *)arg;
  base_free(arg);
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
  const uint32_t me = (uint32_t)ta.index;
  while (!p->stopping) {
    job_run *r = p->run;
    uint32_t t = SST_NONE;
    if (r && room(r, &drop, &dropcap)) {
      if (cancelled(r->job)) sst_stop(&r->s, SCHED_CANCELLED);
      t = sst_next(&r->s, me);
    }
    if (t == SST_NONE) {
      if (r && run_over(r)) pthread_cond_broadcast(&p->idle);
      wait_for_work(p);
      continue;
    }
    atomic_store(&p->nready, sst_nready(&r->s));
    sched_job *job = r->job;
    pthread_mutex_unlock(&p->lock);
    int failed = job->run(job->ud, w, t) != 0;
    pthread_mutex_lock(&p->lock);
    int ndrop = 0;
    if (failed) {
      sst_failed(&r->s, t, me);
    } else {
      ndrop = sst_done(&r->s, t, me, drop);
      atomic_fetch_add(&job->done, 1);
    }
    uint32_t nready = sst_nready(&r->s);
    atomic_store(&p->nready, nready);
    /* this worker takes one ready task itself; wake a sleeper for more */
    if (nready > 1 && p->sleeping > 0) pthread_cond_signal(&p->work);
    if (ndrop > 0) {
      r->releasing++;
      pthread_mutex_unlock(&p->lock);
      for (int i = 0; i < ndrop; i++) job->release(job->ud, drop[i]);
      pthread_mutex_lock(&p->lock);
      r->releasing--;
    }
    if (run_over(r)) pthread_cond_broadcast(&p->idle);
  }
  pthread_mutex_unlock(&p->lock);
  base_free(drop);
  return NULL;
}

sched_pool *sched_pool_new(int nworkers, void *(*worker_new)(void *, int),
                           void (*worker_free)(void *, void *), void *ud,
                           int interrupt_signal) {
  if (nworkers < 1) return NULL;
  sched_pool *p = base_calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  p->threads = base_calloc((size_t)nworkers, sizeof *p->threads);
  p->workers = base_calloc((size_t)nworkers, sizeof *p->workers);
  if (!p->threads || !p->workers) {
    base_free(p->threads);
    base_free(p->workers);
    base_free(p);
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
    thread_arg *ta = base_malloc(sizeof *ta);
    if (ta == NULL) break;
    ta->pool = p;
    ta->index = created;
    if (pthread_create(&p->threads[created], NULL, worker_main, ta) != 0) {
      base_free(ta);
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
  base_free(p->threads);
  base_free(p->workers);
  base_free(p);
}

int sched_pool_size(const sched_pool *p) { return p->nworkers; }

int sched_pool_run(sched_pool *p, sched_job *job) {
  job_run r = {job, {0}, 0};
  if (sst_init(&r.s, job->plan) != SCHED_OK) return SCHED_NOMEM;
  atomic_store(&job->done, 0);
  pthread_mutex_lock(&p->lock);
  p->run = &r;
  atomic_store(&p->nready, sst_nready(&r.s));
  pthread_cond_broadcast(&p->work);
  while (!run_over(&r)) {
    if (cancelled(job)) sst_stop(&r.s, SCHED_CANCELLED);
    if (r.s.status == SCHED_CANCELLED && p->interrupt_signal) {
      /* stop the running tasks: each thread arms its own state's hook;
       * again each round, for a thread that was starting its task */
      for (int i = 0; i < p->nworkers; i++) pthread_kill(p->threads[i], p->interrupt_signal);
    }
    if (job->tick) {
      pthread_mutex_unlock(&p->lock);
      job->tick(job->ud);
      pthread_mutex_lock(&p->lock);
      if (run_over(&r)) break;
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
  p->run = NULL;
  atomic_store(&p->nready, 0);
  int status = outcome(&r);
  pthread_mutex_unlock(&p->lock);
  sst_free(&r.s);
  return status;
}
