/*
 * fjoin: hash joins of two frames, pandas' merge: inner, left, right and
 * outer on key columns, keys matching when equal (nulls match nulls, as
 * pandas' merge does).  The right side is hashed; the left probes it.
 * Result rows: left order, matches in right order; then, for right and
 * outer, the right rows nothing matched.
 */
#ifndef DUSK_FJOIN_H
#define DUSK_FJOIN_H

#include "frame/frame.h"

typedef enum { FJ_INNER, FJ_LEFT, FJ_RIGHT, FJ_OUTER } fj_how;

/* The pairs of rows: li[k], ri[k] (-1 for none), k < *n.  Both arrays
 * are allocated (base_free them).  0; or -1 with 'err' (128 bytes). */
int fj_pairs(const frame *l, const int *lkeys, const frame *r, const int *rkeys, int nkeys, int how,
             int64_t **li, int64_t **ri, int64_t *n, char *err);

#endif
