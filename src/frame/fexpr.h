/*
 * fexpr: elementwise operations on columns, pandas' rules: the kernels
 * of Series arithmetic, comparisons, masks, fillna, isin, astype.
 *
 * A column of one row against one of n is broadcast (a scalar).
 * int64 and bool compute in int64 (wrapping, as numpy), anything with a
 * float64 in float64, '/' always in float64.  A null (int64, string,
 * bool, datetime) makes a null result of arithmetic; comparisons with a
 * null are false (ne true), as pandas' NaN; NaN follows IEEE.  Integer
 * // and % by zero are errors (pandas turns the column into floats).
 */
#ifndef DUSK_FEXPR_H
#define DUSK_FEXPR_H

#include "frame/frame.h"

typedef enum {
  FX_ADD, FX_SUB, FX_MUL, FX_DIV, FX_FLOORDIV, FX_MOD, FX_POW,
  FX_EQ, FX_NE, FX_LT, FX_LE, FX_GT, FX_GE,
  FX_AND, FX_OR, FX_XOR,
  FX_FILLNA, /* a where not null, else b */
  FX_NBINARY
} fx_binop;

typedef enum { FX_NEG, FX_NOT, FX_ABS, FX_ISNULL, FX_NOTNULL, FX_NUNARY } fx_unop;

/* By name ("add", "eq", ...); -1 for none. */
int fx_binop_of(const char *name);
int fx_unop_of(const char *name);

/* 'out' = a op b, rows max(a->n, b->n); 0, or -1 with 'err' (128 bytes). */
int fx_binary(int op, const fr_col *a, const fr_col *b, const char *name, fr_col *out, char *err);
int fx_unary(int op, const fr_col *a, const char *name, fr_col *out, char *err);
/* a cast to 'type' (int64 <-> float64 <-> bool, anything to string,
 * strings parsed as numbers / datetimes); a value that does not convert
 * is an error naming it. */
int fx_astype(const fr_col *a, int type, const char *name, fr_col *out, char *err);
/* Whether each row of 'a' is one of the n rows of 'set' (a column of a's type). */
int fx_isin(const fr_col *a, const fr_col *set, const char *name, fr_col *out, char *err);
/* The rows of 'f' where 'mask' (bool, f's rows) is true; nulls false. */
int fx_filter(const frame *f, const fr_col *mask, frame *out, char *err);

#endif
