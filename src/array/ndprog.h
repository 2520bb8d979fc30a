/*
 * ndprog: the fused elementwise program of one Array task, evaluated in
 * tiles.
 *
 * Elementwise operations on Arrays do not make a task per operation: an
 * Array keeps the expression that makes its blocks from its leaves (input
 * blocks, random numbers, ranges, constants), and a task evaluates the
 * whole expression for one output block.  It does so a tile at a time --
 * a slab of a few thousand elements -- so the intermediates of the
 * expression live in small scratch buffers that stay in cache, and a
 * source feeding a reduction (da.random.random(...):mean()) is never
 * written out in full: each tile is reduced as soon as it is made.
 *
 * A program is a list of instructions in register form: instruction r
 * leaves its result in register r.  Operands are already of the dtype
 * the operation needs (the builder inserts casts: nd_binary_types).  The
 * last instruction's register is the program's result.
 *
 * Leaves are positioned in output coordinates by 'perm': output axis k is
 * the leaf's axis perm[k], or a new (broadcast) axis when perm[k] < 0.
 * Along a mapped axis the leaf is read every step[a] elements (a slice;
 * negative: backwards; 0: one element broadcast along the output axis); a
 * leaf axis no output axis maps to is read at one position (an index).  So transposes, broadcasts, slices and
 * indexing are views of the leaves, and fuse with everything else.
 */
#ifndef DUSK_NDPROG_H
#define DUSK_NDPROG_H

#include <stdint.h>

#include "array/nd.h"
#include "array/ndops.h"
#include "array/ndreduce.h"

typedef enum {
  NDP_BLOCK,   /* an input block */
  NDP_RANDOM,  /* uniform [0, 1) of the leaf's dtype */
  NDP_NORMAL,  /* normal(p0, p1) */
  NDP_RANDINT, /* integers in [i0, i1) */
  NDP_ARANGE,  /* p0 + p1 * flat position (float), or i0 + i1 * position */
  NDP_FULL     /* every element the constant (p0 or i0, by dtype) */
} ndp_leaf_kind;

typedef struct ndp_leaf {
  ndp_leaf_kind kind;
  int dtype, ndim;                 /* the leaf array's */
  int64_t shape[ND_MAXDIM];        /* the whole leaf array's shape */
  int perm[ND_MAXDIM];             /* by output axis: leaf axis, or -1 */
  /* NDP_BLOCK: the input block, and where the output block's first
   * element is in it (per leaf axis); sources: where it is in the leaf
   * array (and every step is 1) */
  nd block;
  int64_t start[ND_MAXDIM];
  int64_t step[ND_MAXDIM];         /* per leaf axis */
  uint64_t seed;
  double p0, p1;
  int64_t i0, i1;
} ndp_leaf;

typedef enum { NDP_LEAF, NDP_CAST, NDP_BINARY, NDP_UNARY, NDP_WHERE } ndp_insn_kind;

typedef struct ndp_insn {
  ndp_insn_kind kind;
  int op;      /* nd_binop or nd_unop; NDP_LEAF: the leaf's number */
  int dtype;   /* of the result */
  int a, b, c; /* operand registers (earlier instructions) */
} ndp_insn;

typedef struct ndp_program {
  int ninsn, nleaves;
  ndp_insn *insn;
  ndp_leaf *leaves;
  int ndim;                        /* of the output */
  int64_t whole[ND_MAXDIM];        /* the output array's shape */
  int64_t offset[ND_MAXDIM];       /* this block's first element in it */
  int64_t shape[ND_MAXDIM];        /* this block's shape */
} ndp_program;

/* The block, into a fresh '*out' of the last instruction's dtype.
 * Returns an nd_status. */
nd_status ndp_run(const ndp_program *p, nd *out);

/* The block's partial of reduction 'op' over the output axes k with
 * reduced[k] != 0 (ndreduce.h), into a fresh '*partial', without making
 * the block. */
nd_status ndp_reduce(const ndp_program *p, nd_reduce_op op, const uint8_t *reduced, nd *partial);

#endif
