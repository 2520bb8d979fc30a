/*
 * nd: the in-memory n-dimensional array (dusk.ndarray, an Array's chunk):
 * a view of one refcounted buffer (data/buffer.h) -- its dtype, shape, byte
 * strides and the address of its first element -- so that a slice, a
 * transpose and a broadcast are new views of the same bytes, not copies.
 *
 * An nd owns one reference to its buffer.  A buffer is immutable once
 * shared: only the maker of a fresh array (nd_alloc) writes into it, before
 * anyone else holds it.  Strides are in bytes and may be negative (a
 * reversed slice) or 0 (a broadcast axis).  A 0-d array has one element.
 *
 * Folder src/array/ owns the C side of arrays: ndarrays and their loops
 * (ndops.h), reductions (ndreduce.h), the fused chunk programs of Array
 * tasks, random numbers, BLAS and the npy / Zarr / HDF5 formats.  It
 * includes base/ and data/buffer.h only: no Lua, no threads.
 */
#ifndef DUSK_ND_H
#define DUSK_ND_H

#include <stddef.h>
#include <stdint.h>

#include "data/buffer.h"

#define ND_MAXDIM BUF_MAXDIM

typedef struct nd {
  buf *b;                        /* one reference, owned; NULL when empty */
  char *data;                    /* the first element, inside buf_data(b) */
  int dtype;                     /* a buf_dtype other than BUF_STRING */
  int ndim;                      /* 0 .. ND_MAXDIM */
  int64_t shape[ND_MAXDIM];
  int64_t strides[ND_MAXDIM];    /* bytes */
} nd;

/* A fresh C-contiguous array (a new BUF_NDARRAY buffer) of 'dtype' and
 * 'shape', its elements left to fill.  Returns 0, or -1 when out of memory
 * or larger than BUF_MAXSIZE ('a' is then empty). */
int nd_alloc(nd *a, int dtype, int ndim, const int64_t *shape);
/* nd_alloc with every element zero (false, 0, 0.0). */
int nd_zeros(nd *a, int dtype, int ndim, const int64_t *shape);
/* The array held by a BUF_NDARRAY buffer, taking the caller's reference.
 * Returns 0, or -1 when 'b' is not an array buffer (the reference is then
 * dropped). */
int nd_wrap(nd *a, buf *b);
/* Drops the reference; 'a' is empty after (freeing twice is safe). */
void nd_free(nd *a);
/* 'dst' becomes another view of 'src' (one more reference). */
void nd_ref(nd *dst, const nd *src);

int64_t nd_size(const nd *a);            /* elements: the product of shape */
size_t nd_itemsize(const nd *a);
int nd_is_contiguous(const nd *a);       /* C order, no gaps */
/* The address of element 'index' (ndim 0-based indexes, in range). */
const char *nd_at(const nd *a, const int64_t *index);

/* A C-contiguous copy of 'a' converted to 'dtype' (astype), or, when 'a'
 * is already C-contiguous of that dtype, another reference to it.
 * Returns 0, or -1 when out of memory. */
int nd_contiguous(const nd *a, int dtype, nd *out);
/* A BUF_NDARRAY buffer holding exactly 'a' (its own when 'a' spans the
 * whole of a C-contiguous buffer, else a copy), one new reference; NULL
 * when out of memory.  What a task sends. */
buf *nd_tobuf(const nd *a);
/* dst = src elementwise (one shape), converted to dst's dtype as nd_cast
 * does, but always to the end: the copies above use it, which must not
 * stop half done on an interrupt, so it cannot fail (ndops.c). */
void nd_copy(const nd *src, nd *dst);

/* Views: they change 'a' in place and cannot fail; the caller checks the
 * arguments (an axis, a permutation, bounds) first. */
/* Axis k of the result is axis perm[k] of 'a'. */
void nd_transpose(nd *a, const int *perm);
/* Keeps 'n' elements of 'axis' from 'start', every 'step' (negative:
 * backwards; start is then the last element taken). */
void nd_slice(nd *a, int axis, int64_t start, int64_t n, int64_t step);
/* Keeps element 'i' of 'axis' and drops the axis. */
void nd_index(nd *a, int axis, int64_t i);
/* numpy's broadcasting of 'a' to 'shape' (ndim >= a's): new leading
 * axes and axes of length 1 get stride 0.  Returns 0, or -1 when the
 * shapes are not compatible ('a' unchanged). */
int nd_broadcast_to(nd *a, int ndim, const int64_t *shape);
/* The shape 'a' and 'b' broadcast to, in 'shape' and '*ndim'.  Returns 0,
 * or -1 when they are not compatible. */
int nd_broadcast_shape(int ndima, const int64_t *shapea, int ndimb, const int64_t *shapeb,
                       int *ndim, int64_t *shape);
/* 'a' with 'shape' (the same number of elements): a view when the data
 * allows, else a C-order copy.  Returns 0, or -1 when out of memory. */
int nd_reshape(const nd *a, int ndim, const int64_t *shape, nd *out);

#endif
