/*
 * dict: the one hash table of dusk's C code.  It numbers 64-bit keys 0,
 * 1, 2 ... in the order they are added: the caller keeps whatever goes
 * with key k in its own array at k (a frame's upvalue cells, the strings
 * a scan counts), so the table holds no values and needs no deletion.
 *
 * An id (a pointer, a hash) is its own key.  A byte string goes in by
 * its hash (hash.h), and since two strings may share one, the caller
 * walks the slots holding that hash with dict_find / dict_next and
 * compares the strings it keeps:
 *
 *     if (dict_reserve(d) != 0) ... out of memory
 *     dict_slot *s;
 *     for (s = dict_find(d, h); s->num1 != 0; s = dict_next(d, s, h))
 *       if (equal(mine[s->num1 - 1], str)) return s->num1 - 1;
 *     ... append 'str' to 'mine', then:
 *     return dict_put(d, s, h);
 *
 * Open addressing with linear probing in a power-of-two number of slots,
 * at most half full.  A key's first slot comes from all its bits (a
 * multiplication, then its high bits folded onto the low), so pointers
 * and FNV hashes, whose low bits repeat or mix poorly, spread: about 1.25
 * probes a hit, as ideal hashing gives at a third full (measured on
 * strided pointers and on FNV hashes of numbered names; the top bits
 * alone took 5 on such pointers).  Memory comes from the caller's inline slots
 * while they suffice, then from base/alloc.h.
 */
#ifndef DUSK_DICT_H
#define DUSK_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"

typedef struct dict_slot {
  uint64_t key;
  uint64_t num1; /* the key's number + 1; 0: an empty slot */
} dict_slot;

typedef struct dict {
  dict_slot *slot;
  size_t cap, n;  /* 'cap' slots, a power of 2, at least 2 * 'n' (or 0) */
  dict_slot *inl; /* the caller's slots, used first (or NULL) */
  size_t ninl;
} dict;

/* An empty dict using the 'ninl' slots at 'inl' (0, or a power of 2 no
 * less than 2) until it needs more.  A dict of zero bytes is empty too,
 * with no inline slots. */
void dict_init(dict *d, dict_slot *inl, size_t ninl);
/* Frees what the dict allocated; it is empty and usable again (with
 * its inline slots). */
static inline void dict_free(dict *d) {
  if (d->slot != d->inl) base_free(d->slot);
  d->slot = NULL;
  d->cap = d->n = 0;
}
/* Removes every key, keeping the slots. */
void dict_clear(dict *d);
int dict_grow(dict *d); /* dict_reserve's slow path */

/* Makes room for one more key: 0, or -1 when out of memory (then the
 * dict is as it was).  Slot pointers found before it are stale after. */
static inline int dict_reserve(dict *d) { return 2 * (d->n + 1) <= d->cap ? 0 : dict_grow(d); }

static inline size_t dict_home(const dict *d, uint64_t key) {
  uint64_t x = key * 0x9e3779b97f4a7c15u;
  return (size_t)(x ^ (x >> 29)) & (d->cap - 1);
}

/* From slot 'i' on, the first slot holding 'key' or the empty slot that
 * ends its run. */
static inline dict_slot *dict_probe(const dict *d, uint64_t key, size_t i) {
  size_t mask = d->cap - 1;
  while (d->slot[i].num1 != 0 && d->slot[i].key != key) i = (i + 1) & mask;
  return &d->slot[i];
}

/* The first slot holding 'key', or the empty one where it would go; the
 * dict must have slots (dict_reserve once). */
static inline dict_slot *dict_find(const dict *d, uint64_t key) {
  return dict_probe(d, key, dict_home(d, key));
}

/* The next slot after 's' holding 'key' (another string of that hash), or
 * the empty one ending the run. */
static inline dict_slot *dict_next(const dict *d, const dict_slot *s, uint64_t key) {
  return dict_probe(d, key, (size_t)(s - d->slot + 1) & (d->cap - 1));
}

/* The number of the id 'key', or -1 when it has none. */
static inline int64_t dict_get(const dict *d, uint64_t key) {
  return d->n == 0 ? -1 : (int64_t)dict_find(d, key)->num1 - 1;
}

/* Gives 'key' the next number in the empty slot 's' (which dict_find or
 * dict_next ended on, since the last dict_reserve), and returns it. */
static inline int64_t dict_put(dict *d, dict_slot *s, uint64_t key) {
  s->key = key;
  s->num1 = ++d->n;
  return (int64_t)d->n - 1;
}

#endif
