/*
 * alloc: the one allocation hook of dusk's C code (Lua's frealloc, zstd's
 * ZSTD_customMem), so that tests can make any allocation fail.
 *
 * Every C module allocates through base_realloc and its three shorthands;
 * none calls malloc, calloc, realloc or free itself.  The hook is
 * process-wide: in tests, base_alloc_fail_after(k) makes the k-th
 * allocation from now on fail, and every one after it, until it is reset
 * with -1 (as ltests.c's memcontrol limits a whole process).
 *
 * Folder src/base/ owns what every plane may use without Lua: this
 * allocation hook, the interrupt flag (interrupt.h), hashing, the dict,
 * varints; it includes nothing of dusk.
 */
#ifndef DUSK_ALLOC_H
#define DUSK_ALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* realloc's contract: 'n' == 0 frees 'p' and returns NULL; NULL when out
 * of memory (then 'p' is left as it was). */
void *base_realloc(void *p, size_t n);

/* 'n' * 'size' bytes, zeroed; NULL when out of memory or on overflow. */
void *base_calloc(size_t n, size_t size);

static inline void *base_malloc(size_t n) { return n ? base_realloc(NULL, n) : NULL; }
static inline void base_free(void *p) { if (p) base_realloc(p, 0); }

/* A copy of the string 's', or of its first 'n' bytes (fewer if it ends
 * before), with a NUL after; NULL when out of memory. */
char *base_strdup(const char *s);
char *base_strndup(const char *s, size_t n);

/* The hook for libraries that take an allocator with an opaque pointer
 * ('ud', unused), such as zstd's ZSTD_customMem. */
void *base_zalloc(void *ud, size_t n);
void base_zfree(void *ud, void *p);

/* Tests: allocation 'k' from now on (1: the next) and all after it fail;
 * -1 turns failures off.  Returns how many allocations were tried since
 * the last call while failures were armed (none are counted otherwise). */
long base_alloc_fail_after(long k);

#ifdef __cplusplus
}
#endif

#endif
