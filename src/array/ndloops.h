/*
 * ndloops: the strided 1-d loops under ndops.c (private to src/array/).
 *
 * A loop runs 'n' elements: operand k starts at p[k] and moves s[k] bytes
 * per element (0: a broadcast value); the output is the last operand.
 * It returns an nd_status: only integer //, % and ** can fail.  Tables are
 * indexed by operation and the operands' dtype; NULL where numpy has no
 * loop (the n-d entry points then answer ND_EDTYPE).
 */
#ifndef DUSK_NDLOOPS_H
#define DUSK_NDLOOPS_H

#include <stdint.h>

#include "array/ndops.h"

typedef int (*ndl_loop)(char **p, const int64_t *s, int64_t n);

extern const ndl_loop ndl_binary[ND_NBINARY][BUF_STRING];  /* a, b, out */
extern const ndl_loop ndl_unary[ND_NUNARY][BUF_STRING];    /* a, out */
extern const ndl_loop ndl_cast[BUF_STRING][BUF_STRING];    /* [from][to]: a, out */
/* By item size 1, 2, 4, 8 (index log2): cond, a, b, out and value, out. */
extern const ndl_loop ndl_where[4];
extern const ndl_loop ndl_fill[4];

#endif
