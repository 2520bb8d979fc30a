/*
 * dict: see dict.h.
 */
#include "base/dict.h"

#include <string.h>

#define DICT_MIN 16 /* slots of the first allocation */

void dict_init(dict *d, dict_slot *inl, size_t ninl) {
  d->slot = NULL;
  d->cap = d->n = 0;
  d->inl = ninl ? inl : NULL;
  d->ninl = ninl;
}

void dict_clear(dict *d) {
  if (d->n) memset(d->slot, 0, d->cap * sizeof *d->slot);
  d->n = 0;
}

/* dict_reserve when the dict is full. */
int dict_grow(dict *d) {
  if (d->cap == 0 && d->inl) {
    d->slot = d->inl;
    d->cap = d->ninl;
    memset(d->slot, 0, d->cap * sizeof *d->slot);
    return 0;
  }
  size_t cap = d->cap ? 2 * d->cap : DICT_MIN;
  if (cap > SIZE_MAX / 2 / sizeof *d->slot) return -1;
  dict_slot *old = d->slot, *p = base_calloc(cap, sizeof *p);
  if (p == NULL) return -1;
  size_t oldcap = d->cap;
  d->slot = p;
  d->cap = cap;
  for (size_t i = 0; i < oldcap; i++) {
    if (old[i].num1 == 0) continue;
    size_t j = dict_home(d, old[i].key); /* to an empty slot: strings may share a key */
    while (p[j].num1 != 0) j = (j + 1) & (cap - 1);
    p[j] = old[i];
  }
  if (old != d->inl) base_free(old);
  return 0;
}
