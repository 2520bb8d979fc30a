/* store: persisted results (see store.h). */
#include "data/store.h"

#include <stdlib.h>

#include "base/alloc.h"

store_block *store_new(uint32_t n) {
  store_block *b = base_calloc(1, sizeof *b + (size_t)n * sizeof(value));
  if (b == NULL) return NULL;
  atomic_init(&b->refcount, 1);
  b->n = n;
  return b; /* zeroed: every value is VALUE_NONE */
}

void store_put(store_block *b, uint32_t i, value *v) {
  value_free(&b->values[i]);
  b->values[i] = *v;
  v->type = VALUE_NONE;
  v->len = 0;
}

size_t store_bytes(const store_block *b) {
  size_t total = 0;
  for (uint32_t i = 0; i < b->n; i++)
    total += sizeof(value) + value_bytes(&b->values[i]);
  return total;
}

void store_incref(store_block *b) { atomic_fetch_add(&b->refcount, 1); }

void store_decref(store_block *b) {
  unsigned before = atomic_fetch_sub(&b->refcount, 1);
  if (before == 0) abort(); /* underflow: a bug */
  if (before > 1) return;
  for (uint32_t i = 0; i < b->n; i++) value_free(&b->values[i]);
  base_free(b);
}
