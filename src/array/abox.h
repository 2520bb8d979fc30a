/*
 * abox: boxes of elements as the array formats move them -- the numpy
 * type strings of npy and zarr ("<f8", "|b1"), byte order, the region
 * (start, count per axis) of a read or write, and the strided copy that
 * crops an edge chunk, places a region inside a chunk and turns Fortran
 * order into C order.
 */
#ifndef DUSK_ABOX_H
#define DUSK_ABOX_H

#include <stddef.h>
#include <stdint.h>

#include "data/buffer.h"

/* The buf_dtype of the numpy type string 's'['n'] ("<f8", ">i4", "|u1",
 * "|b1", "=i2", ...) in '*dtype', and in '*swap' whether its bytes are
 * big-endian (to swap on this little-endian machine).  Returns 0, or -1
 * for a type dusk has no dtype for. */
int abox_dtype_parse(const char *s, size_t n, int *dtype, int *swap);
/* The little-endian type string of 'dtype' ("<f8", "|b1"). */
const char *abox_dtype_str(int dtype);

/* Byte strides of a C-order (or Fortran-order) array of 'shape'. */
void abox_cstrides(int ndim, const int64_t *shape, int64_t elsize, int64_t *strides);
void abox_fstrides(int ndim, const int64_t *shape, int64_t elsize, int64_t *strides);
/* The product of 'shape' in '*n', and 0; or -1 when it overflows or the
 * bytes ('elsize' each) would exceed BUF_MAXSIZE. */
int abox_count(int ndim, const int64_t *shape, int64_t elsize, int64_t *n);

/* Copies the box 'shape' of 'elsize'-byte elements from 'src' (strides
 * 'sst') to 'dst' (strides 'dst_st'); strides are in bytes. */
void abox_copy(char *dst, const int64_t *dst_st, const char *src, const int64_t *sst,
               int ndim, const int64_t *shape, size_t elsize);
/* Fills the box 'shape' at 'dst' (strides 'st') with the element at 'v'. */
void abox_fill(char *dst, const int64_t *st, int ndim, const int64_t *shape, const void *v,
               size_t elsize);
/* Reverses the bytes of each of the 'n' elements at 'p'. */
void abox_swap(void *p, size_t n, size_t elsize);

/* Checks that the region 'start', 'count' lies in 'shape'; else writes
 * "PATH: region ... out of range on axis k" to 'err' (AFILE_ERRLEN) and
 * returns AFILE_ERR. */
int abox_check_region(int ndim, const int64_t *shape, const int64_t *start, const int64_t *count,
                      const char *path, char *err);
/* A fresh array buffer of 'dtype' and 'shape' in '*out' (NULL: 'err' set,
 * naming 'path'). */
int abox_new(int dtype, int ndim, const int64_t *shape, buf **out, const char *path, char *err);

#endif
