/* progress: a progress bar on standard error (see progress.h). */
#include "sched/progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SHOW_AFTER 0.5  /* seconds before the bar appears */
#define REDRAW 0.1      /* seconds between redraws */
#define WIDTH 20        /* characters of the bar */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void progress_start(progress *p, int enabled, const atomic_uint *done, uint32_t total) {
  memset(p, 0, sizeof *p);
  p->enabled = enabled < 0 ? isatty(STDERR_FILENO) : enabled;
  p->done = done;
  p->total = total;
  p->start = now();
}

static void draw(progress *p, double t) {
  unsigned done = atomic_load(p->done);
  if (done > p->total) done = p->total;
  int fill = p->total ? (int)((uint64_t)done * WIDTH / p->total) : WIDTH;
  char bar[WIDTH + 1];
  memset(bar, '#', (size_t)fill);
  memset(bar + fill, ' ', (size_t)(WIDTH - fill));
  bar[WIDTH] = '\0';
  double elapsed = t - p->start;
  char line[160];
  int n = snprintf(line, sizeof line, "\r[%s] %u/%u tasks  %.1f s  %.0f tasks/s ",
                   bar, done, p->total, elapsed, elapsed > 0 ? done / elapsed : 0.0);
  if (n > 0 && write(STDERR_FILENO, line, (size_t)n) < 0) p->enabled = 0;
  p->drawn = 1;
  p->last = t;
}

void progress_tick(progress *p) {
  if (!p->enabled) return;
  double t = now();
  if (t - p->start < SHOW_AFTER || t - p->last < REDRAW) return;
  draw(p, t);
}

void progress_end(progress *p) {
  if (!p->drawn) return;
  draw(p, now());
  if (write(STDERR_FILENO, "\n", 1) < 0) p->enabled = 0;
}
