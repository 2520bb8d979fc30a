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
 * mean: sum, count; var: count, mean, M2 combined exactly by Chan's
 * formula; argmin: value, index), followed by the block's axes with every
 * reduced axis of length 1.  Its dtype is nd_reduce_partial_dtype's.
 * Partials of blocks that sit side by side along a reduced axis combine;
 * along a kept axis they are concatenated by the caller.
 *
 * Semantics are numpy's: sum and prod of bool and signed integers are
 * int64, of unsigned uint64, of floats their own dtype (pairwise-like
 * blocked summation, so float32 keeps its precision); min and max
 * propagate NaN and raise on an empty reduction; argmin and argmax give
 * the first NaN or the first extreme; mean of an empty set is NaN; var
 * and std take ddof.  Positions from argmin/argmax are 0-based here (the
 * binding adds 1).
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
 * argmin: int64; any/all: bool). */
int nd_reduce_result_dtype(nd_reduce_op op, int dtype);

/* The partial of block 'a' over the axes k with reduced[k] != 0, into a
 * fresh '*partial'.  For argmin/argmax, the block's position: 'offset'
 * (its first element's index per axis in the whole array) and 'whole'
 * (the whole array's shape), so that positions are global; with one
 * reduced axis a position counts along it, with all axes reduced it is
 * the C-order flat index.  An empty block gives the identity partial
 * (count 0; min/max/argmin/argmax of an empty block are marked empty and
 * raise only at finish when nothing else was combined).  Returns an
 * nd_status. */
nd_status nd_reduce_partial(nd_reduce_op op, const nd *a, const uint8_t *reduced,
                            const int64_t *offset, const int64_t *whole, nd *partial);
/* acc = acc combined with 'part' (two partials of one op and shape). */
nd_status nd_reduce_combine(nd_reduce_op op, nd *acc, const nd *part);
/* The answer of a partial, with the reduced axes kept (length 1): the
 * caller drops them for keepdims=false.  ddof for var and std.  Returns
 * ND_OK, ND_ENOMEM, or ND_EEMPTY for min/max/argmin/argmax of nothing. */
nd_status nd_reduce_finish(nd_reduce_op op, const nd *partial, int ddof, nd *out);

#endif
