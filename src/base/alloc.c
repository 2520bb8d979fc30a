/*
 * alloc: see alloc.h.  The failure counter is atomic (allocation happens
 * on every worker thread), and only read unless a test armed it: a shared
 * counter written by every allocation of every thread cost the tiny-task
 * benchmark 10% in cache-line traffic.
 */
#include "base/alloc.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_at = -1; /* allocations left before failing; -1: never */
static atomic_long made;          /* allocations tried while armed */

static int fails(void) {
  long left = atomic_load_explicit(&fail_at, memory_order_relaxed);
  if (left < 0) return 0;
  atomic_fetch_add_explicit(&made, 1, memory_order_relaxed);
  if (left == 0) return 1;
  return atomic_fetch_sub_explicit(&fail_at, 1, memory_order_relaxed) <= 0;
}

void *base_realloc(void *p, size_t n) {
  if (n == 0) {
    free(p);
    return NULL;
  }
  if (fails()) return NULL;
  return p ? realloc(p, n) : malloc(n);
}

/* calloc itself, not malloc and memset: it skips zeroing memory that is
 * fresh from the system (a compute's per-task arrays and specs) */
void *base_calloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size) return NULL;
  if (fails()) return NULL;
  return n * size > 0 ? calloc(n, size) : calloc(1, 1);
}

char *base_strndup(const char *s, size_t n) {
  const char *end = memchr(s, '\0', n);
  if (end) n = (size_t)(end - s);
  char *p = base_malloc(n + 1);
  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

char *base_strdup(const char *s) { return base_strndup(s, strlen(s)); }

void *base_zalloc(void *ud, size_t n) {
  (void)ud;
  return base_malloc(n);
}

void base_zfree(void *ud, void *p) {
  (void)ud;
  base_free(p);
}

long base_alloc_fail_after(long k) {
  atomic_store(&fail_at, k < 0 ? -1 : k - 1);
  return atomic_exchange(&made, 0);
}
