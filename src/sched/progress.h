/*
 * progress: the progress bar of a computation, on standard error.
 *
 *   [##########          ]  1234/2500 tasks  1.4 s  880 tasks/s
 *
 * Drawn only once the computation has run for half a second, redrawn at
 * most ten times a second, by the thread that waits for the job; never on
 * standard output.
 */
#ifndef DUSK_PROGRESS_H
#define DUSK_PROGRESS_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct progress {
  int enabled;
  int drawn;
  double start, last;
  const atomic_uint *done;
  uint32_t total;
} progress;

/* 'enabled': 1 on, 0 off, -1 when standard error is a terminal. */
void progress_start(progress *p, int enabled, const atomic_uint *done, uint32_t total);
void progress_tick(progress *p);
/* Draws the final state and ends the line, if anything was drawn. */
void progress_end(progress *p);

#endif
