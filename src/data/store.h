/*
 * store: persisted results, held in C so that they outlive any scheduler,
 * pool or worker state.
 *
 * A block holds the values of one persisted collection, one per
 * partition.  Blocks are refcounted atomically: the Lua object of the
 * persisted collection holds one reference, each running job that reads
 * the block another, so releasing a collection while a job reads it frees
 * the data when the job is done.
 */
#ifndef DUSK_STORE_H
#define DUSK_STORE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "data/value.h"

typedef struct store_block {
  atomic_uint refcount;
  uint32_t n;
  value values[]; /* n values; VALUE_NONE once released */
} store_block;

/* A block of 'n' empty values with one reference; NULL when out of
 * memory. */
store_block *store_new(uint32_t n);

/* Moves '*v' into value 'i' of the block; '*v' is left empty. */
void store_put(store_block *b, uint32_t i, value *v);

/* Bytes the block's values hold. */
size_t store_bytes(const store_block *b);

void store_incref(store_block *b);
/* Drops a reference; at zero the block and its values are freed. */
void store_decref(store_block *b);

#endif
