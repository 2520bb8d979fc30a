/*
 * ndmatmul: numpy's dot / matmul of 1-d and 2-d arrays, the block
 * product of an Array's dot.
 *
 * Shapes as numpy's dot: (m,k) @ (k,n) is (m,n), (k) @ (k,n) is (n),
 * (m,k) @ (k) is (m), (k) @ (k) is 0-d.  The result's dtype is numpy's
 * promotion of the two (nd_promote): floats multiply through BLAS
 * (blas.h), integers in C, wrapping as numpy does (int32 @ int32 is int32,
 * int64 overflows modulo 2^64), bool @ bool is bool (an or of ands).
 */
#ifndef DUSK_NDMATMUL_H
#define DUSK_NDMATMUL_H

#include <stddef.h>
#include <stdint.h>

#include "array/nd.h"
#include "array/ndops.h"

/* The dtype, ndim and shape of a @ b.  Returns ND_OK, or ND_ESHAPE when
 * an operand is not 1-d or 2-d or the inner lengths differ. */
nd_status nd_matmul_result(const nd *a, const nd *b, int *dtype, int *ndim, int64_t *shape);

/* a @ b.  With 'accumulate' 0, 'out' is made here: a fresh array (it is
 * overwritten, not freed first).  Otherwise 'out' is the caller's array,
 * not yet shared, of the result's dtype and shape, and a @ b is added to
 * it: out += a_k @ b_k, an Array's product accumulated over the inner
 * blocks.  Any strides: views BLAS can read (one axis contiguous,
 * transposed or not) are passed as they are, others copied.  Polls
 * rt_interrupt_pending() between blocks of rows.  Returns ND_OK;
 * ND_ESHAPE as nd_matmul_result (or for an 'out' of another shape),
 * ND_EDTYPE for an 'out' of another dtype, ND_ENOMEM, ND_EINTR.  On an
 * error a made 'out' is empty, a given one holds a partial sum. */
nd_status nd_matmul(const nd *a, const nd *b, nd *out, int accumulate);

/* numpy's message for a @ b failing with ND_ESHAPE, in 'msg' (always
 * NUL-terminated): "shapes (2,3) and (4,5) not aligned: 3 (dim 1) != 4
 * (dim 0)".  Returns 'msg'. */
char *nd_matmul_message(const nd *a, const nd *b, char *msg, size_t size);

#endif
