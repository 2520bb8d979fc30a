/*
 * ndmatmul: matrix products of nd views.
 *
 * DESIGN.  Every case is a 2-d product C (m x n) = A (m x k) @ B (k x n):
 * a 1-d left operand is one row, a 1-d right operand one column, and the
 * result's 1-d or 0-d view is read the same way ('mat').  Floats go to
 * gemm, which reads a matrix with one contiguous axis as it is
 * (transposed when that axis is the first) and writes C row by row; a C
 * that is contiguous down its columns is computed transposed instead
 * (C' = B' A').  Operands of another dtype or of other strides are copied
 * (nd_contiguous).  Integers and bools run in C, in unsigned arithmetic
 * of the result's width -- numpy's wrapping, as two's complement is
 * arithmetic modulo 2^bits -- in the order i-k-j over blocks of B that
 * stay in cache, so the inner loop is a contiguous row of C += a * a row
 * of B.  Long products are cut into panels of C between which
 * rt_interrupt_pending() is polled.  The inner loops are vectorized as
 * ndloops.c's (O3: GCC's -O2 vectorizes no loop of unknown length), for
 * AVX-512, AVX2 and baseline, chosen at load time.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include <stdio.h>
#include <string.h>

#include "array/clones.h"
#include "array/blas.h"
#include "array/ndmatmul.h"
#include "base/interrupt.h"


/* A 2-d operand: rows x cols items from 'p', byte strides 'rs' and 'cs'. */
typedef struct mat {
  char *p;
  int64_t rows, cols, rs, cs;
} mat;

static int dims_ok(const nd *a, const nd *b) {
  return a->ndim >= 1 && a->ndim <= 2 && b->ndim >= 1 && b->ndim <= 2;
}

nd_status nd_matmul_result(const nd *a, const nd *b, int *dtype, int *ndim, int64_t *shape) {
  if (!dims_ok(a, b) || a->shape[a->ndim - 1] != b->shape[0]) return ND_ESHAPE;
  *ndim = 0;
  if (a->ndim == 2) shape[(*ndim)++] = a->shape[0];
  if (b->ndim == 2) shape[(*ndim)++] = b->shape[1];
  *dtype = nd_promote(a->dtype, b->dtype);
  return ND_OK;
}

static void shape_text(const nd *a, char *s, size_t size) {
  size_t n = (size_t)snprintf(s, size, "(");
  for (int k = 0; k < a->ndim && n < size; k++)
    n += (size_t)snprintf(s + n, size - n, k ? ",%lld" : "%lld", (long long)a->shape[k]);
  if (n < size) snprintf(s + n, size - n, a->ndim == 1 ? ",)" : ")");
}

char *nd_matmul_message(const nd *a, const nd *b, char *msg, size_t size) {
  char sa[256], sb[256];
  shape_text(a, sa, sizeof sa);
  shape_text(b, sb, sizeof sb);
  if (dims_ok(a, b))
    snprintf(msg, size, "shapes %s and %s not aligned: %lld (dim %d) != %lld (dim 0)", sa, sb,
             (long long)a->shape[a->ndim - 1], a->ndim - 1, (long long)b->shape[0]);
  else
    snprintf(msg, size, "shapes %s and %s: dot takes 1-d and 2-d arrays only", sa, sb);
  return msg;
}

/* 'x' as a matrix; a 1-d 'x' is a column when 'column', else a row. */
static mat as_mat(const nd *x, int column) {
  mat v = {x->data, 1, 1, 0, 0};
  if (x->ndim == 2) {
    v.rows = x->shape[0], v.cols = x->shape[1];
    v.rs = x->strides[0], v.cs = x->strides[1];
  } else if (x->ndim == 1 && column) {
    v.rows = x->shape[0], v.rs = x->strides[0];
  } else if (x->ndim == 1) {
    v.cols = x->shape[0], v.cs = x->strides[0];
  }
  return v;
}

static mat transposed(mat v) {
  return (mat){v.p, v.cols, v.rows, v.cs, v.rs};
}

/* How gemm reads 'v' (items of 'e' bytes, no axis of length 0): 0 row by
 * row with row stride '*ld' items, 1 as the transpose of a row-major
 * matrix, -1 not at all (negative, zero or overlapping strides). */
static int layout(const mat *v, int64_t e, int64_t *ld) {
  if ((v->cols == 1 || v->cs == e) &&
      (v->rows == 1 || (v->rs > 0 && v->rs % e == 0 && v->rs / e >= v->cols))) {
    *ld = v->rows == 1 ? v->cols : v->rs / e;
    return 0;
  }
  if ((v->rows == 1 || v->rs == e) &&
      (v->cols == 1 || (v->cs > 0 && v->cs % e == 0 && v->cs / e >= v->rows))) {
    *ld = v->cols == 1 ? v->rows : v->cs / e;
    return 1;
  }
  return -1;
}

/* C (+)= A @ B by gemm, in panels of at most 'budget' flops (at least
 * 'least' rows and columns each). */
static nd_status gemm(int dtype, mat A, mat B, mat C, int accumulate) {
  int64_t e = (int64_t)buf_dtype_size(dtype), lda, ldb, ldc;
  if (layout(&C, e, &ldc) != 0) {
    mat t = A;
    A = transposed(B), B = transposed(t), C = transposed(C);
    layout(&C, e, &ldc);
  }
  int ta = layout(&A, e, &lda), tb = layout(&B, e, &ldb);
  int64_t m = C.rows, n = C.cols, k = A.cols;
  int fast = blas_load();
  double budget = fast ? 4294967296.0 : 67108864.0;
  int64_t least = fast ? 256 : 8, pm = m, pn = n;
  while (2.0 * (double)pm * (double)pn * (double)k > budget && (pm > least || pn > least)) {
    if (pm >= pn) pm = (pm + 1) / 2;
    else pn = (pn + 1) / 2;
  }
  for (int64_t i = 0; i < m; i += pm) {
    for (int64_t j = 0; j < n; j += pn) {
      if (rt_interrupt_pending()) return ND_EINTR;
      int64_t mi = m - i < pm ? m - i : pm, nj = n - j < pn ? n - j : pn;
      char *a = A.p + e * (ta ? i : i * lda), *b = B.p + e * (tb ? j * ldb : j);
      char *c = C.p + e * (i * ldc + j);
      if (dtype == BUF_FLOAT64)
        blas_dgemm(ta, tb, mi, nj, k, (const double *)a, lda, (const double *)b, ldb,
                   accumulate, (double *)c, ldc);
      else
        blas_sgemm(ta, tb, mi, nj, k, (const float *)a, lda, (const float *)b, ldb,
                   accumulate, (float *)c, ldc);
    }
  }
  return ND_OK;
}

/* C += A @ B in C for one item type 'T' computed in 'W' (never a signed
 * int: unsigned wraps, and int would overflow for uint16).  B and C have
 * contiguous rows; A any strides. */
enum { BLOCK_J = 1024, BLOCK_K = 128 };

#define INT_PRODUCT(name, T, W, STEP)                                                  \
  ND_CLONES static nd_status name(const mat *A, const mat *B, const mat *C) {             \
    int64_t m = C->rows, n = C->cols, k = A->cols;                                     \
    for (int64_t j0 = 0; j0 < n; j0 += BLOCK_J) {                                      \
      int64_t nj = n - j0 < BLOCK_J ? n - j0 : BLOCK_J;                                \
      for (int64_t p0 = 0; p0 < k; p0 += BLOCK_K) {                                    \
        int64_t p1 = k - p0 < BLOCK_K ? k : p0 + BLOCK_K;                              \
        for (int64_t i = 0; i < m; i++) {                                              \
          if (rt_interrupt_pending()) return ND_EINTR;                                 \
          T *restrict c = (T *)(C->p + i * C->rs) + j0;                                \
          const char *ai = A->p + i * A->rs;                                           \
          for (int64_t p = p0; p < p1; p++) {                                          \
            W x = *(const T *)(ai + p * A->cs);                                        \
            if (x == 0) continue;                                                      \
            const T *restrict b = (const T *)(B->p + p * B->rs) + j0;                  \
            for (int64_t j = 0; j < nj; j++) STEP;                                     \
          }                                                                            \
        }                                                                              \
      }                                                                                \
    }                                                                                  \
    return ND_OK;                                                                      \
  }

INT_PRODUCT(product_bool, uint8_t, unsigned, c[j] |= b[j])
INT_PRODUCT(product_u8, uint8_t, unsigned, c[j] = (uint8_t)(c[j] + x * b[j]))
INT_PRODUCT(product_u16, uint16_t, unsigned, c[j] = (uint16_t)(c[j] + x * b[j]))
INT_PRODUCT(product_u32, uint32_t, uint32_t, c[j] += x * b[j])
INT_PRODUCT(product_u64, uint64_t, uint64_t, c[j] += x * b[j])

static nd_status int_product(int dtype, const mat *A, const mat *B, const mat *C) {
  if (dtype == BUF_BOOL) return product_bool(A, B, C);
  switch (buf_dtype_size(dtype)) {
  case 1: return product_u8(A, B, C);
  case 2: return product_u16(A, B, C);
  case 4: return product_u32(A, B, C);
  default: return product_u64(A, B, C);
  }
}

static int is_float(int dtype) { return dtype == BUF_FLOAT32 || dtype == BUF_FLOAT64; }

/* Whether the product reads 'x' (as a matrix 'v') as it is: of the
 * result's dtype, and laid out for gemm, or with contiguous rows for the
 * C loops when 'rows' (the right operand). */
static int usable(const nd *x, const mat *v, int dtype, int rows) {
  int64_t e = (int64_t)buf_dtype_size(dtype), ld;
  if (x->dtype != dtype) return 0;
  if (is_float(dtype)) return layout(v, e, &ld) >= 0;
  return !rows || v->cols == 1 || v->cs == e;
}

static int same_shape(const nd *x, int ndim, const int64_t *shape) {
  return x->ndim == ndim && memcmp(x->shape, shape, sizeof *shape * (size_t)ndim) == 0;
}

nd_status nd_matmul(const nd *a, const nd *b, nd *out, int accumulate) {
  int dtype, ndim;
  int64_t shape[2];
  nd_status s = nd_matmul_result(a, b, &dtype, &ndim, shape);
  if (s != ND_OK) {
    if (!accumulate) *out = (nd){0};
    return s;
  }
  if (accumulate && !same_shape(out, ndim, shape)) return ND_ESHAPE;
  if (accumulate && out->dtype != dtype) return ND_EDTYPE;
  int64_t e = (int64_t)buf_dtype_size(dtype), ld;
  int column = b->ndim == 1;
  if (!accumulate) {
    /* The C loops and an empty inner dimension add into zeros. */
    int made = !is_float(dtype) || a->shape[a->ndim - 1] == 0 ? nd_zeros(out, dtype, ndim, shape)
                                                               : nd_alloc(out, dtype, ndim, shape);
    if (made != 0) return ND_ENOMEM;
  } else {
    mat C = as_mat(out, column);
    int writable = is_float(dtype) ? layout(&C, e, &ld) >= 0 : C.cols == 1 || C.cs == e;
    if (!writable) {
      /* An 'out' that is no matrix gemm or the loops write: a fresh
       * product added to it. */
      nd t;
      if ((s = nd_matmul(a, b, &t, 0)) == ND_OK) s = nd_binary(ND_ADD, out, &t, out);
      nd_free(&t);
      return s;
    }
  }
  mat C = as_mat(out, column);
  if (C.rows == 0 || C.cols == 0 || a->shape[a->ndim - 1] == 0) return ND_OK;
  nd ca = {0}, cb = {0};
  mat A = as_mat(a, 0), B = as_mat(b, 1);
  if (!usable(a, &A, dtype, 0)) {
    if (nd_contiguous(a, dtype, &ca) != 0) goto nomem;
    A = as_mat(&ca, 0);
  }
  if (!usable(b, &B, dtype, 1)) {
    if (nd_contiguous(b, dtype, &cb) != 0) goto nomem;
    B = as_mat(&cb, 1);
  }
  s = is_float(dtype) ? gemm(dtype, A, B, C, accumulate) : int_product(dtype, &A, &B, &C);
  nd_free(&ca);
  nd_free(&cb);
  if (s != ND_OK && !accumulate) nd_free(out);
  return s;
nomem:
  nd_free(&ca);
  nd_free(&cb);
  if (!accumulate) nd_free(out);
  return ND_ENOMEM;
}
