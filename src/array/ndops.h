/*
 * ndops: numpy's elementwise operations on nd views, and its dtype rules.
 *
 * One strided 1-d loop per operation and dtype (ndloops.c), driven over n
 * dimensions by one iterator; casts are loops of their own.  The n-d
 * entry points take operands already of the loop's dtype and already
 * broadcast to the output's shape (nd_broadcast_to), and write into 'out',
 * a view the caller made (a fresh array, or a region of one: a tile of a
 * chunk).  Choosing the loop dtype and casting to it is the caller's:
 * nd_binary_types says what numpy would do.
 *
 * Lua numbers are numpy's weak scalars (NEP 50): int32 + 1 stays int32,
 * float32 * 1.5 stays float32, an integer array + 1.5 is float64, and an
 * integer scalar that the array's dtype cannot hold is an error.
 */
#ifndef DUSK_NDOPS_H
#define DUSK_NDOPS_H

#include <stdint.h>

#include "array/nd.h"

typedef enum {
  ND_ADD, ND_SUB, ND_MUL, ND_DIV, ND_FLOORDIV, ND_MOD, ND_POW,
  ND_EQ, ND_NE, ND_LT, ND_LE, ND_GT, ND_GE,
  ND_MAXIMUM, ND_MINIMUM, /* numpy's maximum/minimum: NaN propagates */
  ND_NBINARY
} nd_binop;

typedef enum {
  ND_NEG, ND_ABS, ND_SQRT, ND_EXP, ND_LOG, ND_SIN, ND_COS, ND_TANH,
  ND_FLOOR, ND_CEIL,
  ND_NUNARY
} nd_unop;

/* What an operation failed on; 0 is success. */
typedef enum {
  ND_OK = 0,
  ND_ENOMEM,   /* out of memory */
  ND_EZERODIV, /* integer // or % by zero */
  ND_ENEGPOW,  /* an integer to a negative integer power */
  ND_EDTYPE,   /* the operation is not defined for the dtype */
  ND_EEMPTY,   /* min, max, argmin or argmax of no elements */
  ND_ESHAPE,   /* operands' shapes do not fit (nd_matmul_message says how) */
  ND_EINTR,    /* stopped by rt_interrupt_pending() (base/interrupt.h) */
  ND_EAXIS     /* a reduction's axes: argmin over a tuple of axes, 32 dims */
} nd_status;

/* A weak scalar's kind: a Lua boolean, integer or float. */
typedef enum { ND_WEAK_BOOL, ND_WEAK_INT, ND_WEAK_FLOAT } nd_weak;

/* numpy's result_type of two arrays' dtypes. */
int nd_promote(int a, int b);
/* The dtype of an array of 'dtype' combined with a weak scalar. */
int nd_promote_weak(int dtype, nd_weak kind);
/* 1 when 'dtype' holds the integer 'v', else 0 (NEP 50's OverflowError);
 * the floats hold every integer (rounded, as numpy converts it). */
int nd_holds(int dtype, int64_t v);

/* For 'op' on operands of dtypes 'a' and 'b': the dtype both are cast to
 * ('*loop': int // int stays int, int / int is float64) and the result's
 * ('*out': bool for comparisons).  Returns 0, or -1 when 'op' is not
 * defined for them (ND_EDTYPE). */
int nd_binary_types(nd_binop op, int a, int b, int *loop, int *out);
/* The same for a unary operation: abs and neg keep the dtype (neg of
 * bool is refused, as numpy's); the others of an integer or bool are
 * numpy 1.x's float of its size: float64 from int32 up, else float32
 * (numpy's float16 for bool, int8 and uint8 being absent); floor and
 * ceil too. */
int nd_unary_types(nd_unop op, int a, int *loop, int *out);

/* out = a op b elementwise: 'a' and 'b' of dtype 'loop', 'out' of the
 * result dtype, all of out's shape.  Returns an nd_status; on an error
 * 'out' holds a partial result. */
nd_status nd_binary(nd_binop op, const nd *a, const nd *b, nd *out);
nd_status nd_unary(nd_unop op, const nd *a, nd *out);
/* out = a converted to out's dtype, as numpy's astype (floats to integers
 * truncate toward zero; NaN and out-of-range values are undefined in C, so
 * they become the integer type's minimum, as numpy on x86 gives). */
nd_status nd_cast(const nd *a, nd *out);
/* out = cond ? a : b, 'cond' bool, 'a', 'b' and 'out' of one dtype. */
nd_status nd_where(const nd *cond, const nd *a, const nd *b, nd *out);
/* Every element of 'out' set to the 8 bytes at 'value' read as out's
 * dtype (an element; only its first itemsize bytes are used). */
void nd_fill(nd *out, const void *value);

/* A human message for a status ("integer division by zero", ...). */
const char *nd_strerror(nd_status s);

#endif
