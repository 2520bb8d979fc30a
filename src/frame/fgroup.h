/*
 * fgroup: group-by by hash aggregation, as partial / combine / finish
 * (a reduction tree over partitions), and with no keys the reductions
 * of whole columns (df:sum(), s:mean(), ...).
 *
 * A partial is a frame: the key columns, then the state of every
 * aggregation, in the spec's order (fg_nslots tells how many columns
 * each holds: a count; a sum; a count, mean and M2 for var and std,
 * merged exactly by Chan's formula; a value and a count for min, max,
 * first and last).  Rows whose key has a null are dropped, as pandas'
 * dropna=True.  fg_finish gives the result sorted by key, as pandas'
 * sort=True: the keys as the frame's index, then one column per
 * aggregation.
 */
#ifndef DUSK_FGROUP_H
#define DUSK_FGROUP_H

#include "frame/frame.h"

typedef enum {
  FG_COUNT, FG_SIZE, FG_SUM, FG_MEAN, FG_VAR, FG_STD, FG_MIN, FG_MAX, FG_FIRST, FG_LAST,
  FG_NULLS, /* the nulls of a column: isnull():sum() */
  FG_NOPS
} fg_op;

typedef struct fg_agg {
  int col;  /* the input column (any one for size) */
  int op;   /* fg_op */
  int ddof; /* var, std */
} fg_agg;

typedef struct fg_spec {
  int nkeys;
  const int *keys; /* input columns */
  int naggs;
  const fg_agg *aggs;
  int keep_nulls;  /* null keys make groups (pandas' dropna=False) */
  int unsorted;    /* the answer in first-appearance order, not by key */
} fg_spec;

/* fg_op by pandas' name ("mean", ...), or -1. */
int fg_op_of(const char *name);
const char *fg_op_name(int op);
/* 0 when 'op' applies to a column of 'type'; else -1. */
int fg_op_takes(int op, int type);
/* The type of op's result on a column of 'type'. */
int fg_result_type(int op, int type);

/* The partial of 'in'.  0; or -1 with 'err' (128 bytes) set. */
int fg_partial(const frame *in, const fg_spec *s, frame *out, char *err);
/* One partial of 'n' partials (of one spec). */
int fg_combine(const frame *parts, int n, const fg_spec *s, frame *out, char *err);
/* The answer from a partial: key columns (named as in 'keynames') as
 * the index, then columns named 'names'. */
int fg_finish(const frame *partial, const fg_spec *s, const char *const *keynames,
              const char *const *names, frame *out, char *err);

#endif
