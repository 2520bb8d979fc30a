/*
 * fsort: ordering rows, and frames of chosen rows -- the kernels of
 * sort_values, nlargest, value_counts and the joins.
 *
 * Orders are stable: rows that compare equal keep their order.  Nulls
 * (NaN for floats) go last whether ascending or not, as pandas'
 * na_position="last".  Strings compare by bytes (UTF-8's code point order).
 */
#ifndef DUSK_FSORT_H
#define DUSK_FSORT_H

#include "frame/frame.h"

/* 'order' (f->nrows entries) = the rows of 'f' sorted by columns
 * cols[0..n) (asc[k]: ascending).  0, or -1 when out of memory. */
int fs_order(const frame *f, const int *cols, const int *asc, int n, int64_t *order);
/* Rows order[0..n) of 'f' (-1: a row of nulls) as a new frame. */
int fs_take(const frame *f, const int64_t *order, int64_t n, frame *out);
/* One row of 'c' against one of 'd' (same type family): <0, 0, >0, nulls last. */
int fs_compare(const fr_col *c, int64_t i, const fr_col *d, int64_t j);

#endif
