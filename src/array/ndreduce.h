/*
 * ndreduce: numpy's reductions, in three steps so that a blocked array can
 * reduce chunk by chunk in a tree (Dask's reduction, its chunk / combine /
 * aggregate):
 *   nd_reduce_partial  one block -> its partial over the reduced axes
 *   nd_reduce_combine  acc = acc (+) partial, elementwise
 *   nd_reduce_finish   a partial -> the answer
 * An eager reduction of one ndarray is partial then finish.
 *
 * A partial is an nd whose axis 0 holds the op's components (sum: 1;
 * min, max: value, seen; mean: sum, count; var: count, mean, M2 combined
 * exactly by Chan's formula; argmin: value, index), followed by the
 * block's axes with every reduced axis of length 1.  Its dtype is
 * nd_reduce_partial_dtype's: int64 for bool and signed integers, uint64
 * for unsigned, float64 for floats and for every mean, var and std (so
 * float32 accumulates in float64 and is rounded once, at finish: more
 * accurate than numpy, whose float32 sums can lose digits or overflow),
 * bool for any and all.  Partials of blocks that sit side by side along a
 * reduced axis combine; along a kept axis they are concatenated by the
 * caller.
 *
 * Semantics are numpy's: sum and prod of bool and signed integers are
 * int64, of unsigned uint64, of floats their own dtype (pairwise-like
 * blocked summation, so float32 keeps its precision); min and max
 * propagate NaN and raise on an empty reduction; argmin and argmax give
 * the first NaN or the first extreme; mean of an empty set is NaN; var
 * and std take ddof.  Positions from argmin/argmax are 0-based here (the
 * binding adds 1).  Long loops poll rt_interrupt_pending() and stop with
 * ND_EINTR.
 */
#ifndef DUSK_NDREDUCE_H
#define DUSK_NDREDUCE_H

#include <stdint.h>

#include "array/nd.h"
#include "array/ndops.h"

typedef enum {
  ND_SUM, ND_PROD, ND_MIN, ND_MAX, ND_ANY, ND_ALL,
  ND_MEAN, ND_VAR, ND_STD, ND_ARGMIN, ND_ARGMAX,
  ND_NREDUCE
} nd_reduce_op;

/* Components of the op's partial (axis 0 of the partial). */
int nd_reduce_ncomp(nd_reduce_op op);
/* The dtype of a partial of 'op' over input of 'dtype'. */
int nd_reduce_partial_dtype(nd_reduce_op op, int dtype);
/* The dtype of the answer (sum of int32: int64; mean of ints: float64;
 * argmin: int64; any/all: bool).  Both return -1 for no such dtype. */
int nd_reduce_result_dtype(nd_reduce_op op, int dtype);
/* "sum", "prod", ..., "argmax". */
const char *nd_reduce_name(nd_reduce_op op);
/* nd_strerror, with numpy's own words for ND_EEMPTY and ND_EAXIS ("zero-
 * size array to reduction operation minimum which has no identity"). */
const char *nd_reduce_strerror(nd_reduce_op op, nd_status s);

/* The partial of block 'a' over the axes k with reduced[k] != 0, into a
 * fresh '*partial'.  For argmin/argmax, the block's position: 'offset'
 * (its first element's index per axis in the whole array) and 'whole'
 * (the whole array's shape), so that positions are global; with one
 * reduced axis a position counts along it, with all axes reduced it is
 * the C-order flat index.  An empty block gives the identity partial
 * (count 0; min/max/argmin/argmax of an empty block are marked empty and
 * raise only at finish when nothing else was combined).  Returns an
 * nd_status: ND_EAXIS for argmin/argmax over several but not all axes
 * (numpy has no tuple of axes for them) and for an 'a' of ND_MAXDIM axes
 * (its partial would have one more). */
nd_status nd_reduce_partial(nd_reduce_op op, const nd *a, const uint8_t *reduced,
                            const int64_t *offset, const int64_t *whole, nd *partial);
/* acc = acc combined with 'part' (two partials of one op and shape, any
 * strides), elementwise and in place: acc's elements are the caller's
 * alone (a fresh partial, or a view of one).  Ties of argmin/argmax go to
 * the smaller position, so any tree gives numpy's first occurrence.
 * Returns ND_OK, ND_EINTR, or ND_EDTYPE for partials that do not match. */
nd_status nd_reduce_combine(nd_reduce_op op, nd *acc, const nd *part);
/* The answer, a fresh array in '*out', of a partial of an input of
 * 'dtype' (the answer's dtype depends on it: a float32 sum's partial is
 * float64), with the reduced axes kept (length 1): the caller drops them
 * for keepdims=false.  ddof for var and std (numpy's M2 / max(n - ddof,
 * 0)).  Returns ND_OK, ND_ENOMEM, ND_EDTYPE for a partial not of 'op' and
 * 'dtype', or ND_EEMPTY for min/max/argmin/argmax of nothing. */
nd_status nd_reduce_finish(nd_reduce_op op, int dtype, const nd *partial, int ddof, nd *out);

#endif
