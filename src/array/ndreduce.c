/*
 * ndreduce: numpy's reductions as partial / combine / finish.
 *
 * DESIGN.  Every op accumulates in one of three 8-byte kinds -- int64
 * (bool, signed integers), uint64 (unsigned), float64 (floats; and every
 * dtype for mean, var and std) -- so that the loops exist once per kind,
 * not per dtype: a run of input of another dtype is first widened into a
 * small buffer on the stack.  float32 therefore sums, multiplies and
 * averages in float64 and is rounded once at finish: more accurate than
 * numpy's float32 accumulators (which lose digits, and overflow to inf
 * where the float64 answer is finite), and exact across any tree of
 * partials.  Integer sums and products wrap as numpy's, in unsigned
 * arithmetic (two's complement is arithmetic modulo 2^64).
 *
 * A partial is walked as numpy's iterator walks a reduction: the input,
 * the partial (byte stride 0 along reduced axes) and, for argmin/argmax,
 * the global position (a stride per axis) move together; axes of length 1
 * are dropped, negative strides flipped, axes ordered by the input's
 * strides and merged where all three allow.  The inner axis is then
 * either reduced -- a run folded into one accumulator, float sums by
 * numpy's pairwise summation (8 accumulators, blocks of 128) -- or kept:
 * a row added elementwise into a row of accumulators.
 *
 * Identities make empty blocks need no special case: min starts at the
 * kind's largest value, argmin also at the position "none" (the largest),
 * so any real element, and any real partial, wins over them; min and max
 * carry a 'seen' flag, argmin's empty is its position "none".  Ties go to
 * the smaller position, NaN before any number, whatever the order of the
 * walk or of the tree.  var's partial is (count, mean, M2): two passes
 * over a block (numpy's mean, then the squared deviations from it),
 * partials merged exactly by Chan's formula.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* as ndloops.c: -O2 vectorizes no loop of unknown length */
#endif

#include <math.h>
#include <string.h>

#include "array/clones.h"
#include "array/ndreduce.h"
#include "base/interrupt.h"

#define POLL_EVERY ((int64_t)1 << 20) /* elements: a fraction of a millisecond */
#define WIDE 256                      /* elements widened at a time */
#define PW_BLOCK 128                  /* numpy's pairwise block */

static const nd empty;

/* ------------------------------------------------------------ dtypes */

static int valid(int t) { return t >= 0 && t < BUF_STRING; }
static int is_unsigned(int t) { return t >= BUF_UINT8 && t <= BUF_UINT64; }
static int is_float(int t) { return t == BUF_FLOAT32 || t == BUF_FLOAT64; }
static int is_arg(nd_reduce_op op) { return op == ND_ARGMIN || op == ND_ARGMAX; }
static int is_moment(nd_reduce_op op) { return op == ND_MEAN || op == ND_VAR || op == ND_STD; }

/* The kind 'op' accumulates 'dtype' in. */
static int kind_of(nd_reduce_op op, int dtype) {
  if (is_moment(op) || is_float(dtype)) return BUF_FLOAT64;
  return is_unsigned(dtype) ? BUF_UINT64 : BUF_INT64;
}

int nd_reduce_ncomp(nd_reduce_op op) {
  switch (op) {
  case ND_MIN: case ND_MAX: case ND_MEAN: case ND_ARGMIN: case ND_ARGMAX: return 2;
  case ND_VAR: case ND_STD: return 3;
  default: return 1;
  }
}

int nd_reduce_partial_dtype(nd_reduce_op op, int dtype) {
  if (!valid(dtype) || op < 0 || op >= ND_NREDUCE) return -1;
  return op == ND_ANY || op == ND_ALL ? BUF_BOOL : kind_of(op, dtype);
}

int nd_reduce_result_dtype(nd_reduce_op op, int dtype) {
  if (!valid(dtype) || op < 0 || op >= ND_NREDUCE) return -1;
  switch (op) {
  case ND_MIN: case ND_MAX: return dtype;
  case ND_ANY: case ND_ALL: return BUF_BOOL;
  case ND_ARGMIN: case ND_ARGMAX: return BUF_INT64;
  default: return dtype == BUF_FLOAT32 ? BUF_FLOAT32 : kind_of(op, dtype);
  }
}

const char *nd_reduce_name(nd_reduce_op op) {
  static const char *const names[ND_NREDUCE] = {"sum",  "prod", "min", "max", "any",   "all",
                                                "mean", "var",  "std", "argmin", "argmax"};
  return op >= 0 && op < ND_NREDUCE ? names[op] : "reduction";
}

const char *nd_reduce_strerror(nd_reduce_op op, nd_status s) {
  switch (s) {
  case ND_EEMPTY:
    if (op == ND_MIN) return "zero-size array to reduction operation minimum which has no identity";
    if (op == ND_MAX) return "zero-size array to reduction operation maximum which has no identity";
    if (op == ND_ARGMIN) return "attempt to get argmin of an empty sequence";
    if (op == ND_ARGMAX) return "attempt to get argmax of an empty sequence";
    break;
  case ND_EAXIS:
    if (is_arg(op))
      return "argmin and argmax take one axis or all of them (no tuple of axes), "
             "of an array of at most 31 dimensions";
    return "a reduction takes an array of at most 31 dimensions";
  default: break;
  }
  return nd_strerror(s);
}

/* ------------------------------------------------- values of a kind */

enum { V_ZERO, V_ONE, V_LOW, V_HIGH };

/* The 'n' accumulators of 'kind' from 'p' on set to 'v'. */
static void put(char *p, int64_t n, int kind, int v) {
  double f = v == V_ZERO ? 0 : v == V_ONE ? 1 : v == V_LOW ? -INFINITY : INFINITY;
  int64_t i = v == V_ZERO ? 0 : v == V_ONE ? 1 : v == V_LOW ? INT64_MIN : INT64_MAX;
  uint64_t u = v == V_ZERO ? 0 : v == V_ONE ? 1 : v == V_LOW ? 0 : UINT64_MAX;
  for (int64_t j = 0; j < n; j++, p += 8) {
    if (kind == BUF_FLOAT64) memcpy(p, &f, 8);
    else if (kind == BUF_INT64) memcpy(p, &i, 8);
    else memcpy(p, &u, 8);
  }
}

/* The position "none" (argmin of nothing) is the kind's V_HIGH. */
static int is_none(const char *p, int kind) {
  if (kind == BUF_FLOAT64) return *(const double *)p == INFINITY;
  if (kind == BUF_INT64) return *(const int64_t *)p == INT64_MAX;
  return *(const uint64_t *)p == UINT64_MAX;
}

/* Converts 'n' elements of 'dtype' at 'x' ('sx' bytes apart) to 'kind'
 * at 'w' (exact, but for integers beyond 2^53 widened to float64). */
static void widen(const char *x, int64_t n, int64_t sx, int dtype, int kind, void *w) {
#define LOAD(TI, TW, E)                                                         \
  do {                                                                          \
    TW *o_ = w;                                                                 \
    for (int64_t j = 0; j < n; j++) {                                           \
      TI v = *(const TI *)(x + j * sx);                                         \
      o_[j] = (TW)(E);                                                          \
    }                                                                           \
  } while (0)
#define LOADI(TI, TW)                                                           \
  if (kind == BUF_FLOAT64) LOAD(TI, double, v);                                 \
  else LOAD(TI, TW, v);                                                         \
  break
  switch (dtype) {
  case BUF_BOOL:
    if (kind == BUF_FLOAT64) LOAD(uint8_t, double, v != 0);
    else LOAD(uint8_t, int64_t, v != 0);
    break;
  case BUF_INT8: LOADI(int8_t, int64_t);
  case BUF_INT16: LOADI(int16_t, int64_t);
  case BUF_INT32: LOADI(int32_t, int64_t);
  case BUF_INT64: LOADI(int64_t, int64_t);
  case BUF_UINT8: LOADI(uint8_t, uint64_t);
  case BUF_UINT16: LOADI(uint16_t, uint64_t);
  case BUF_UINT32: LOADI(uint32_t, uint64_t);
  case BUF_UINT64: LOADI(uint64_t, uint64_t);
  case BUF_FLOAT32: LOAD(float, double, v); break;
  default: LOAD(double, double, v); break;
  }
#undef LOADI
#undef LOAD
}

/* ----------------------------------------------------------- kernels */

/* Eight statements, one per lane, so that the lanes stay in registers. */
#define EACH8(S, A, B) S(0, A, B) S(1, A, B) S(2, A, B) S(3, A, B) \
                       S(4, A, B) S(5, A, B) S(6, A, B) S(7, A, B)

/* numpy's pairwise summation of f(x[i]): exact for n < 8, 8 accumulators
 * up to a block, halves above (rounding error O(log n), not O(n)); the
 * leaf also for contiguous values, which the compiler vectorizes. */
#define PW_FIRST(k, AT, F) r[k] = F(AT(k), m);
#define PW_NEXT(k, AT, F) r[k] += F(AT(i + k), m);
#define PW_LEAF(AT, F)                                                          \
  do {                                                                          \
    EACH8(PW_FIRST, AT, F)                                                        \
    for (i = 8; i < n - n % 8; i += 8) {                                        \
      EACH8(PW_NEXT, AT, F)                                                       \
    }                                                                           \
    s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));      \
    for (; i < n; i++) s += F(AT(i), m);                                        \
  } while (0)
#define PW_STRIDED(i) (*(const double *)(x + (i) * sx))
#define PW_CONTIGUOUS(i) (d[i])
#define PAIRWISE(NAME, F)                                                       \
  ND_CLONES static double NAME(const char *x, int64_t n, int64_t sx, double m) {          \
    double s = 0, r[8];                                                         \
    int64_t i;                                                                  \
    if (n < 8) {                                                                \
      for (i = 0; i < n; i++) s += F(PW_STRIDED(i), m);                         \
    } else if (n <= PW_BLOCK && sx == 8) {                                      \
      const double *d = (const double *)x;                                      \
      PW_LEAF(PW_CONTIGUOUS, F);                                                \
    } else if (n <= PW_BLOCK) {                                                 \
      PW_LEAF(PW_STRIDED, F);                                                   \
    } else {                                                                    \
      int64_t h = n / 2;                                                        \
      h -= h % 8;                                                               \
      s = NAME(x, h, sx, m) + NAME(x + h * sx, n - h, sx, m);                   \
    }                                                                           \
    return s;                                                                   \
  }
#define VALUE(v, m) ((void)(m), (v))
#define SQDEV(v, m) (((v) - (m)) * ((v) - (m)))
PAIRWISE(pw_sum, VALUE)
PAIRWISE(pw_sqdev, SQDEV)

/* acc = F(acc, v) over 'n' values at 'x' ('sx' bytes apart): into the one
 * accumulator at 'o' when 'so' is 0, else into 'n' of them (a loop of
 * its own when both are contiguous, which the compiler vectorizes). */
#define FOLD(TA, TV, F)                                                         \
  do {                                                                          \
    if (so == 0) {                                                              \
      TA a_ = *(TA *)o;                                                         \
      for (int64_t j = 0; j < n; j++) {                                         \
        TV v_ = *(const TV *)(x + j * sx);                                      \
        a_ = F(a_, v_);                                                         \
      }                                                                         \
      *(TA *)o = a_;                                                            \
    } else if (so == (int64_t)sizeof(TA) && sx == (int64_t)sizeof(TV)) {        \
      TA *a_ = (TA *)o;                                                         \
      const TV *v_ = (const TV *)x;                                             \
      for (int64_t j = 0; j < n; j++) a_[j] = F(a_[j], v_[j]);                  \
    } else {                                                                    \
      for (int64_t j = 0; j < n; j++) {                                         \
        TA *a_ = (TA *)(o + j * so);                                            \
        TV v_ = *(const TV *)(x + j * sx);                                      \
        *a_ = F(*a_, v_);                                                       \
      }                                                                         \
    }                                                                           \
  } while (0)
/* The same for one accumulator over 'n' >= 8 contiguous values, 8 lanes
 * at a time (F associative and commutative: the order may change). */
#define LANE_FIRST(k, F, _) r_[k] = d_[k];
#define LANE_NEXT(k, F, _) r_[k] = F(r_[k], d_[j + k]);
#define LANE_LAST(k, F, _) a_ = F(a_, r_[k]);
#define FOLD_LANES(T, F)                                                        \
  do {                                                                          \
    const T *d_ = (const T *)x;                                                 \
    T r_[8], a_ = *(T *)o;                                                      \
    int64_t j = 8;                                                              \
    EACH8(LANE_FIRST, F, 0)                                                       \
    for (; j + 8 <= n; j += 8) {                                                \
      EACH8(LANE_NEXT, F, 0)                                                      \
    }                                                                           \
    for (; j < n; j++) a_ = F(a_, d_[j]);                                       \
    EACH8(LANE_LAST, F, 0)                                                        \
    *(T *)o = a_;                                                               \
  } while (0)
#define FOLD_FAST(T, F)                                                         \
  do {                                                                          \
    if (so == 0 && sx == (int64_t)sizeof(T) && n >= 8) FOLD_LANES(T, F);        \
    else FOLD(T, T, F);                                                         \
  } while (0)
#define ADD(a, v) ((a) + (v))
#define MUL(a, v) ((a) * (v))
#define LESSER(a, v) ((v) < (a) ? (v) : (a))
#define GREATER(a, v) ((v) > (a) ? (v) : (a))
#define LESSER_NAN(a, v) (((v) < (a)) | ((v) != (v)) ? (v) : (a))
#define GREATER_NAN(a, v) (((v) > (a)) | ((v) != (v)) ? (v) : (a))
#define ANY(a, v) ((uint8_t)((a) | ((v) != 0)))
#define ALL(a, v) ((uint8_t)((a) & ((v) != 0)))

/* sum, prod, min, max, any, all of values of 'kind' (BUF_BOOL: any and
 * all of bools, as partials combine). */
ND_CLONES static void fold(nd_reduce_op op, int kind, const char *x, int64_t n, int64_t sx, char *o,
                 int64_t so) {
  if (kind == BUF_INT64 && op != ND_MIN && op != ND_MAX) kind = BUF_UINT64; /* same bits */
  switch (kind) {
  case BUF_FLOAT64:
    switch (op) {
    case ND_SUM:
      if (so == 0) *(double *)o += pw_sum(x, n, sx, 0);
      else FOLD(double, double, ADD);
      break;
    case ND_PROD: FOLD_FAST(double, MUL); break;
    case ND_MIN: FOLD_FAST(double, LESSER_NAN); break;
    case ND_MAX: FOLD_FAST(double, GREATER_NAN); break;
    case ND_ANY: FOLD(uint8_t, double, ANY); break;
    default: FOLD(uint8_t, double, ALL); break;
    }
    break;
  case BUF_INT64:
    if (op == ND_MIN) FOLD_FAST(int64_t, LESSER);
    else FOLD_FAST(int64_t, GREATER);
    break;
  case BUF_UINT64:
    switch (op) {
    case ND_SUM: FOLD_FAST(uint64_t, ADD); break;
    case ND_PROD: FOLD_FAST(uint64_t, MUL); break;
    case ND_MIN: FOLD_FAST(uint64_t, LESSER); break;
    case ND_MAX: FOLD_FAST(uint64_t, GREATER); break;
    case ND_ANY: FOLD(uint8_t, uint64_t, ANY); break;
    default: FOLD(uint8_t, uint64_t, ALL); break;
    }
    break;
  default:
    if (op == ND_ANY) FOLD(uint8_t, uint8_t, ANY);
    else FOLD(uint8_t, uint8_t, ALL);
    break;
  }
}

/* M2 += (x - mean)^2, the means 'cm' bytes before the M2 accumulators. */
static void sqdev(const char *x, int64_t n, int64_t sx, char *o, int64_t so, int64_t cm) {
  if (so == 0) {
    *(double *)o += pw_sqdev(x, n, sx, *(const double *)(o - cm));
    return;
  }
  for (int64_t j = 0; j < n; j++) {
    char *a = o + j * so;
    double d = *(const double *)(x + j * sx) - *(const double *)(a - cm);
    *(double *)a += d * d;
  }
}

/* (m, pm) = (v, q) when value 'v' at position 'q' comes first: a smaller
 * (greater) value, the same at a smaller position, NaN before numbers. */
#define FIRST(v, q, m, pm, CMP) ((v)CMP(m) || ((v) == (m) && (q) < (pm)))
#define FIRST_LT(v, q, m, pm) FIRST(v, q, m, pm, <)
#define FIRST_GT(v, q, m, pm) FIRST(v, q, m, pm, >)
#define FIRST_LT_NAN(v, q, m, pm) ((v) != (v) ? (m) == (m) || (q) < (pm) : FIRST_LT(v, q, m, pm))
#define FIRST_GT_NAN(v, q, m, pm) ((v) != (v) ? (m) == (m) || (q) < (pm) : FIRST_GT(v, q, m, pm))
/* Values at 'x', their positions at 'x' + 'cx' (a partial's) or, when
 * 'cx' is 0, p + j * sp; the accumulators' values at 'o', positions at
 * 'o' + 'co'. */
#define ARG(T, BEFORE)                                                          \
  do {                                                                          \
    T m_ = *(T *)o, pm_ = *(T *)(o + co);                                       \
    for (int64_t j = 0; j < n; j++) {                                           \
      T *a_ = so ? (T *)(o + j * so) : &m_, *pa_ = so ? (T *)(o + j * so + co) : &pm_; \
      T v_ = *(const T *)(x + j * sx);                                          \
      T q_ = cx ? *(const T *)(x + j * sx + cx) : (T)(p + j * sp);              \
      if (BEFORE(v_, q_, *a_, *pa_)) *a_ = v_, *pa_ = q_;                       \
    }                                                                           \
    if (so == 0) *(T *)o = m_, *(T *)(o + co) = pm_;                            \
  } while (0)

static void arg(nd_reduce_op op, int kind, const char *x, int64_t n, int64_t sx, int64_t cx,
                int64_t p, int64_t sp, char *o, int64_t so, int64_t co) {
  int lt = op == ND_ARGMIN;
  if (kind == BUF_FLOAT64) {
    if (lt) ARG(double, FIRST_LT_NAN);
    else ARG(double, FIRST_GT_NAN);
  } else if (kind == BUF_INT64) {
    if (lt) ARG(int64_t, FIRST_LT);
    else ARG(int64_t, FIRST_GT);
  } else {
    if (lt) ARG(uint64_t, FIRST_LT);
    else ARG(uint64_t, FIRST_GT);
  }
}

/* Chan et al.'s merge of (count, mean, M2) triples, 'c*' bytes apart. */
static void chan(const char *x, int64_t n, int64_t sx, int64_t cx, char *o, int64_t so,
                 int64_t co) {
  for (int64_t j = 0; j < n; j++) {
    const char *b = x + j * sx;
    char *a = o + j * so;
    double na = *(double *)a, nb = *(const double *)b;
    double ma = *(double *)(a + co), mb = *(const double *)(b + cx);
    if (nb == 0) continue;
    if (na == 0) {
      *(double *)a = nb;
      *(double *)(a + co) = mb;
      *(double *)(a + 2 * co) = *(const double *)(b + 2 * cx);
      continue;
    }
    double nn = na + nb, d = mb - ma;
    *(double *)a = nn;
    *(double *)(a + co) = ma + d * (nb / nn);
    *(double *)(a + 2 * co) += *(const double *)(b + 2 * cx) + d * d * (na * (nb / nn));
  }
}

/* -------------------------------------------------------------- walk */

/* Up to three operands moved together over an n-d loop nest: each an
 * offset and a step per axis (bytes, or positions). */
typedef struct walk {
  int ndim;
  int64_t shape[ND_MAXDIM];
  int64_t step[3][ND_MAXDIM];
  int64_t base[3];
} walk;

typedef void (*walk_fn)(void *ud, const int64_t *at, int64_t n, const int64_t *step);

/* Drops axes of length 1, flips those operand 0 walks backwards, orders
 * the rest by operand 0's strides, largest outside, and merges
 * neighbours along which every operand is contiguous. */
static void walk_order(walk *w) {
  int n = 0;
  for (int k = 0; k < w->ndim; k++) {
    if (w->shape[k] == 1) continue;
    int64_t e = w->shape[k];
    int flip = w->step[0][k] < 0;
    for (int i = 0; i < 3; i++) {
      int64_t s = w->step[i][k];
      if (flip) w->base[i] += (e - 1) * s, s = -s;
      w->step[i][n] = s;
    }
    w->shape[n] = e;
    /* insertion: inside every axis of a larger or equal step */
    int j = n++;
    while (j > 0 && w->step[0][j - 1] < w->step[0][j]) {
      for (int i = 0; i < 3; i++) {
        int64_t t = w->step[i][j];
        w->step[i][j] = w->step[i][j - 1], w->step[i][j - 1] = t;
      }
      int64_t t = w->shape[j];
      w->shape[j] = w->shape[j - 1], w->shape[j - 1] = t;
      j--;
    }
  }
  int m = 0;
  for (int k = 0; k < n; k++) {
    int merge = m > 0;
    for (int i = 0; i < 3 && merge; i++) merge = w->step[i][m - 1] == w->step[i][k] * w->shape[k];
    if (merge) {
      w->shape[m - 1] *= w->shape[k];
      for (int i = 0; i < 3; i++) w->step[i][m - 1] = w->step[i][k];
    } else {
      w->shape[m] = w->shape[k];
      for (int i = 0; i < 3; i++) w->step[i][m] = w->step[i][k];
      m++;
    }
  }
  if (m == 0) {
    w->shape[0] = 1;
    for (int i = 0; i < 3; i++) w->step[i][0] = 0;
    m = 1;
  }
  w->ndim = m;
}

/* Calls 'fn' on every run of the inner axis, in pieces of POLL_EVERY,
 * polling for an interrupt about every POLL_EVERY elements. */
static nd_status walk_run(const walk *w, walk_fn fn, void *ud) {
  int d = w->ndim;
  for (int k = 0; k < d; k++)
    if (w->shape[k] == 0) return ND_OK;
  int64_t idx[ND_MAXDIM] = {0}, at[3], inner = w->shape[d - 1], since = 0;
  int64_t step[3] = {w->step[0][d - 1], w->step[1][d - 1], w->step[2][d - 1]};
  memcpy(at, w->base, sizeof at);
  for (;;) {
    for (int64_t done = 0; done < inner;) {
      int64_t m = inner - done < POLL_EVERY ? inner - done : POLL_EVERY;
      int64_t q[3] = {at[0] + done * step[0], at[1] + done * step[1], at[2] + done * step[2]};
      fn(ud, q, m, step);
      done += m;
      if ((since += m) >= POLL_EVERY) {
        since = 0;
        if (rt_interrupt_pending()) return ND_EINTR;
      }
    }
    int k = d - 2;
    for (; k >= 0; k--) {
      for (int i = 0; i < 3; i++) at[i] += w->step[i][k];
      if (++idx[k] < w->shape[k]) break;
      for (int i = 0; i < 3; i++) at[i] -= w->step[i][k] * w->shape[k];
      idx[k] = 0;
    }
    if (k < 0) return ND_OK;
  }
}

/* ----------------------------------------------------------- partial */

typedef struct red {
  nd_reduce_op op;
  int dtype, kind, pass; /* pass: var's 1 (sums into the means) or 2 */
  const char *x;
  char *o;
  int64_t cs; /* bytes between the partial's components */
} red;

/* One run of wide values into the partial. */
static void reduce_wide(const red *r, const char *x, int64_t n, int64_t sx, char *o, int64_t so,
                        int64_t p, int64_t sp) {
  switch (r->op) {
  case ND_ARGMIN: case ND_ARGMAX: arg(r->op, r->kind, x, n, sx, 0, p, sp, o, so, r->cs); break;
  case ND_MEAN: fold(ND_SUM, BUF_FLOAT64, x, n, sx, o, so); break;
  case ND_VAR: case ND_STD:
    if (r->pass == 1) fold(ND_SUM, BUF_FLOAT64, x, n, sx, o + r->cs, so);
    else sqdev(x, n, sx, o + 2 * r->cs, so, r->cs);
    break;
  default: fold(r->op, r->kind, x, n, sx, o, so); break;
  }
}

static void reduce_run(void *ud, const int64_t *at, int64_t n, const int64_t *st) {
  const red *r = ud;
  const char *x = r->x + at[0];
  char *o = r->o + at[1];
  if (r->dtype == r->kind) {
    reduce_wide(r, x, n, st[0], o, st[1], at[2], st[2]);
    return;
  }
  union { double f[WIDE]; int64_t i[WIDE]; uint64_t u[WIDE]; } w;
  for (int64_t j = 0; j < n; j += WIDE) {
    int64_t m = n - j < WIDE ? n - j : WIDE;
    widen(x + j * st[0], m, st[0], r->dtype, r->kind, &w);
    reduce_wide(r, (const char *)&w, m, 8, o + j * st[1], st[1], at[2] + j * st[2], st[2]);
  }
}

nd_status nd_reduce_partial(nd_reduce_op op, const nd *a, const uint8_t *reduced,
                            const int64_t *offset, const int64_t *whole, nd *partial) {
  *partial = empty;
  int pd = nd_reduce_partial_dtype(op, a->dtype), d = a->ndim, nred = 0;
  if (pd < 0) return ND_EDTYPE;
  if (d >= ND_MAXDIM) return ND_EAXIS;
  for (int k = 0; k < d; k++) nred += reduced[k] != 0;
  if (is_arg(op) && nred != d && nred != 1) return ND_EAXIS;
  if (rt_interrupt_pending()) return ND_EINTR;

  int ncomp = nd_reduce_ncomp(op), kind = kind_of(op, a->dtype);
  int64_t shape[ND_MAXDIM], osize = 1, count = 1;
  shape[0] = ncomp;
  for (int k = 0; k < d; k++) {
    shape[k + 1] = reduced[k] ? 1 : a->shape[k];
    osize *= shape[k + 1];
    if (reduced[k]) count *= a->shape[k];
  }
  if (nd_alloc(partial, pd, d + 1, shape) != 0) return ND_ENOMEM;
  char *o = partial->data;
  int64_t cs = osize * (int64_t)buf_dtype_size(pd);
  switch (op) {
  case ND_SUM: case ND_MEAN: case ND_VAR: case ND_STD: put(o, osize * ncomp, kind, V_ZERO); break;
  case ND_PROD: put(o, osize, kind, V_ONE); break;
  case ND_MIN: case ND_ARGMIN: put(o, osize, kind, V_HIGH); break;
  case ND_MAX: case ND_ARGMAX: put(o, osize, kind, V_LOW); break;
  case ND_ANY: case ND_ALL: memset(o, op == ND_ALL, (size_t)osize); break;
  default: break;
  }
  if (is_arg(op)) put(o + cs, osize, kind, V_HIGH);

  /* operands: the input, the partial, and argmin's positions (the flat C
   * index in 'whole', or the index along the one reduced axis) */
  walk w = {.ndim = d};
  int64_t place = 1;
  for (int k = d - 1; k >= 0; k--) {
    w.shape[k] = a->shape[k];
    w.step[0][k] = a->strides[k];
    w.step[1][k] = reduced[k] ? 0 : partial->strides[k + 1];
    w.step[2][k] = !is_arg(op) ? 0 : nred == d ? place : reduced[k];
    w.base[2] += w.step[2][k] * (offset ? offset[k] : 0);
    place *= whole ? whole[k] : a->shape[k];
  }
  walk_order(&w);
  red r = {.op = op, .dtype = a->dtype, .kind = kind, .pass = 1, .x = a->data, .o = o, .cs = cs};
  nd_status s = walk_run(&w, reduce_run, &r);
  if (s == ND_OK && (op == ND_VAR || op == ND_STD)) {
    double *c = (double *)o, *mean = (double *)(o + cs);
    for (int64_t j = 0; j < osize; j++) {
      c[j] = (double)count;
      if (count) mean[j] /= (double)count;
    }
    r.pass = 2;
    s = walk_run(&w, reduce_run, &r);
  }
  if (op == ND_MEAN) {
    double *c = (double *)(o + cs);
    for (int64_t j = 0; j < osize; j++) c[j] = (double)count;
  }
  if (op == ND_MIN || op == ND_MAX) put(o + cs, osize, kind, count ? V_ONE : V_ZERO);
  if (s != ND_OK) nd_free(partial);
  return s;
}

/* ----------------------------------------------------------- combine */

typedef struct comb {
  nd_reduce_op op;
  int kind;
  char *acc;
  const char *part;
  int64_t ca, cp; /* bytes between components */
} comb;

static void combine_run(void *ud, const int64_t *at, int64_t n, const int64_t *st) {
  const comb *c = ud;
  char *o = c->acc + at[0];
  const char *x = c->part + at[1];
  int64_t so = st[0], sx = st[1];
  switch (c->op) {
  case ND_ARGMIN: case ND_ARGMAX: arg(c->op, c->kind, x, n, sx, c->cp, 0, 0, o, so, c->ca); break;
  case ND_VAR: case ND_STD: chan(x, n, sx, c->cp, o, so, c->ca); break;
  case ND_MIN: case ND_MAX: case ND_MEAN:
    fold(c->op == ND_MEAN ? ND_SUM : c->op, c->kind, x, n, sx, o, so);
    fold(c->op == ND_MEAN ? ND_SUM : ND_MAX, c->kind, x + c->cp, n, sx, o + c->ca, so);
    break;
  default: fold(c->op, c->kind, x, n, sx, o, so); break;
  }
}

nd_status nd_reduce_combine(nd_reduce_op op, nd *acc, const nd *part) {
  if (op < 0 || op >= ND_NREDUCE) return ND_EDTYPE;
  int kind = acc->dtype;
  int ok = acc->dtype == part->dtype && acc->ndim == part->ndim && acc->ndim >= 1 &&
           acc->shape[0] == nd_reduce_ncomp(op) &&
           memcmp(acc->shape, part->shape, sizeof *acc->shape * (size_t)acc->ndim) == 0;
  if (op == ND_ANY || op == ND_ALL) ok = ok && kind == BUF_BOOL;
  else if (is_moment(op)) ok = ok && kind == BUF_FLOAT64;
  else ok = ok && (kind == BUF_FLOAT64 || kind == BUF_INT64 || kind == BUF_UINT64);
  if (!ok) return ND_EDTYPE;
  walk w = {.ndim = acc->ndim - 1};
  for (int k = 0; k < w.ndim; k++) {
    w.shape[k] = acc->shape[k + 1];
    w.step[0][k] = acc->strides[k + 1];
    w.step[1][k] = part->strides[k + 1];
  }
  walk_order(&w);
  comb c = {.op = op, .kind = kind, .acc = acc->data, .part = part->data,
            .ca = acc->strides[0], .cp = part->strides[0]};
  return walk_run(&w, combine_run, &c);
}

/* ------------------------------------------------------------ finish */

nd_status nd_reduce_finish(nd_reduce_op op, int dtype, const nd *partial, int ddof, nd *out) {
  *out = empty;
  int pd = nd_reduce_partial_dtype(op, dtype), rd = nd_reduce_result_dtype(op, dtype);
  if (pd < 0 || partial->dtype != pd || partial->ndim < 1 ||
      partial->shape[0] != nd_reduce_ncomp(op))
    return ND_EDTYPE;
  nd c, v;
  if (nd_contiguous(partial, pd, &c) != 0) return ND_ENOMEM;
  int ndim = c.ndim - 1;
  const int64_t *shape = c.shape + 1;
  int64_t osize = nd_size(&c) / c.shape[0], cs = osize * 8;
  nd_status s = ND_OK;
  if (op == ND_MIN || op == ND_MAX || is_arg(op)) {
    for (int64_t j = 0; j < osize && s == ND_OK; j++) {
      const char *p = c.data + cs + j * 8;
      uint64_t seen;
      memcpy(&seen, p, 8);
      if (is_arg(op) ? is_none(p, pd) : seen == 0) s = ND_EEMPTY;
    }
  }
  if (s == ND_OK && is_moment(op)) {
    if (nd_alloc(&v, BUF_FLOAT64, ndim, shape) != 0) {
      s = ND_ENOMEM;
    } else {
      const double *p = (const double *)c.data;
      double *r = (double *)v.data;
      for (int64_t j = 0; j < osize; j++) {
        if (op == ND_MEAN) {
          r[j] = p[j] / p[osize + j];
        } else {
          double dof = p[j] - ddof;
          r[j] = p[2 * osize + j] / (dof > 0 ? dof : 0);
          if (op == ND_STD) r[j] = sqrt(r[j]);
        }
        /* 0/0 is a NaN with its sign set on x86, which Lua prints "-nan" */
        if (r[j] != r[j]) r[j] = NAN;
      }
    }
  } else if (s == ND_OK) {
    nd_ref(&v, &c);
    nd_index(&v, 0, is_arg(op));
  }
  if (s == ND_OK) {
    if (is_moment(op) && rd == BUF_FLOAT64) {
      *out = v;
      v = empty;
    } else if (nd_alloc(out, rd, ndim, shape) != 0) {
      s = ND_ENOMEM;
    } else {
      nd_copy(&v, out);
    }
    nd_free(&v);
  }
  nd_free(&c);
  return s;
}
