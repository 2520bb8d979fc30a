/*
 * interrupt: Ctrl-C for C loops, with or without a Lua state.
 *
 * A Lua hook stops Lua code only: C code that loops over data (a range
 * summed in C, JSON lines filtered in C, a file decompressed, an array
 * kernel) never gives it a chance.  So:
 *
 *   RULE: every C loop that can run long -- over elements, records,
 *   lines, bytes, cells: anything whose length the user's data sets --
 *   polls rt_interrupt_pending() at least every ~1 ms of its work, and
 *   when it is set stops and raises rt_interrupt_error(L), or
 *   returns a status that its Lua binding turns into that error.
 *
 * The flag is the calling thread's: SIGINT sets it on the thread that
 * runs the caller's code, RT_INTERRUPT_SIGNAL on a pool thread whose task
 * is stopped (runtime.h says when it is cleared).  A poll is one load, so
 * a loop whose steps take nanoseconds polls every RT_POLL_EVERY steps by
 * its own counter, never by reading a clock:
 *
 *     for (size_t i = 0; i < n; i++) {
 *       if (i % RT_POLL_EVERY == 0 && rt_interrupt_pending())
 *         return rt_interrupt_error(L);
 *       ...
 *     }
 */
#ifndef DUSK_INTERRUPT_H
#define DUSK_INTERRUPT_H

#include <stdatomic.h>

#define RT_POLL_EVERY 4096 /* steps of a few ns: tens of microseconds */

extern _Thread_local atomic_int rt_interrupt_flag; /* runtime.c */

static inline int rt_interrupt_pending(void) {
  return atomic_load_explicit(&rt_interrupt_flag, memory_order_relaxed) != 0;
}

/* Raises the error "interrupted!" that the hook raises, taking the
 * interrupt as delivered (runtime.h): `return rt_interrupt_error(L);`. */
struct lua_State;
int rt_interrupt_error(struct lua_State *L);

#endif
