/*
 * ndops: numpy's dtype rules, and the n-d driver of the 1-d loops.
 *
 * DESIGN: as numpy's iterator, the driver first drops axes of length 1
 * and merges every pair of neighbouring axes along which all operands
 * are contiguous with each other, so C-contiguous operands (or a
 * contiguous one and broadcast scalars) run as one long 1-d loop, and a
 * tile of a chunk as one loop per row.  It runs inner loops in pieces of
 * POLL_EVERY elements and polls for an interrupt between them.
 */
#include <assert.h>
#include <string.h>

#include "array/ndloops.h"
#include "array/ndops.h"
#include "array/ndtranspose.h"
#include "base/interrupt.h"

#define MAXOP 4
#define POLL_EVERY ((int64_t)1 << 20) /* elements: a fraction of a millisecond */

/* ---- dtype rules ---- */

static int valid(int t) { return t >= 0 && t < BUF_STRING; }
static int is_float(int t) { return t == BUF_FLOAT32 || t == BUF_FLOAT64; }
static int is_signed(int t) { return t >= BUF_INT8 && t <= BUF_INT64; }

int nd_promote(int a, int b) {
  if (a == b || b == BUF_BOOL) return a;
  if (a == BUF_BOOL) return b;
  size_t sa = buf_dtype_size(a), sb = buf_dtype_size(b);
  if (is_float(a) || is_float(b)) {
    if (is_float(a) && is_float(b)) return BUF_FLOAT64;
    int f = is_float(a) ? a : b;
    size_t si = is_float(a) ? sb : sa;
    return f == BUF_FLOAT32 && si <= 2 ? BUF_FLOAT32 : BUF_FLOAT64;
  }
  if (is_signed(a) == is_signed(b)) return sa >= sb ? a : b;
  /* signed and unsigned: the signed type if wider, else the next signed
   * size up; none holds both int64 and uint64, so float64 */
  size_t ss = is_signed(a) ? sa : sb, su = is_signed(a) ? sb : sa;
  if (ss > su) return is_signed(a) ? a : b;
  return su == 1 ? BUF_INT16 : su == 2 ? BUF_INT32 : su == 4 ? BUF_INT64 : BUF_FLOAT64;
}

int nd_promote_weak(int dtype, nd_weak kind) {
  switch (kind) {
  case ND_WEAK_BOOL: return dtype;
  case ND_WEAK_INT: return dtype == BUF_BOOL ? BUF_INT64 : dtype;
  default: return is_float(dtype) ? dtype : BUF_FLOAT64;
  }
}

int nd_holds(int dtype, int64_t v) {
  switch (dtype) {
  case BUF_BOOL: return v == 0 || v == 1;
  case BUF_INT8: return v >= INT8_MIN && v <= INT8_MAX;
  case BUF_INT16: return v >= INT16_MIN && v <= INT16_MAX;
  case BUF_INT32: return v >= INT32_MIN && v <= INT32_MAX;
  case BUF_UINT8: return v >= 0 && v <= UINT8_MAX;
  case BUF_UINT16: return v >= 0 && v <= UINT16_MAX;
  case BUF_UINT32: return v >= 0 && v <= UINT32_MAX;
  case BUF_UINT64: return v >= 0;
  default: return valid(dtype); /* int64, and floats (numpy rounds) */
  }
}

int nd_binary_types(nd_binop op, int a, int b, int *loop, int *out) {
  if (!valid(a) || !valid(b) || op < 0 || op >= ND_NBINARY) return -1;
  int t = nd_promote(a, b);
  switch (op) {
  case ND_SUB:
    if (t == BUF_BOOL) return -1; /* numpy: use xor */
    break;
  case ND_DIV:
    if (!is_float(t)) t = BUF_FLOAT64;
    break;
  case ND_FLOORDIV: case ND_MOD: case ND_POW:
    if (t == BUF_BOOL) t = BUF_INT8;
    break;
  default: break;
  }
  *loop = t;
  *out = op >= ND_EQ && op <= ND_GE ? BUF_BOOL : t;
  return 0;
}

int nd_unary_types(nd_unop op, int a, int *loop, int *out) {
  if (!valid(a) || op < 0 || op >= ND_NUNARY) return -1;
  int t = a;
  if (op == ND_NEG && a == BUF_BOOL) return -1; /* numpy: use ~ */
  if (op != ND_NEG && op != ND_ABS && !is_float(a))
    t = buf_dtype_size(a) <= 2 ? BUF_FLOAT32 : BUF_FLOAT64;
  *loop = *out = t;
  return 0;
}

/* ---- the driver ---- */

static int same_shape(const nd *a, const nd *b) {
  return a->ndim == b->ndim && memcmp(a->shape, b->shape, sizeof *a->shape * (size_t)a->ndim) == 0;
}

/* Runs 'loop' over 'nop' operands of out's shape: operand i starts at
 * ptr[i] with the byte strides strides[i] (NULL: one value for all),
 * the last being 'out'. */
static nd_status run(ndl_loop loop, int nop, char *const *ptr, const int64_t *const *strides,
                     const nd *out, int poll) {
  int64_t shape[ND_MAXDIM], st[MAXOP][ND_MAXDIM], idx[ND_MAXDIM] = {0};
  int n = 0;
  for (int k = 0; k < out->ndim; k++) {
    int64_t e = out->shape[k];
    if (e == 0) return ND_OK;
    if (e == 1) continue;
    int merge = n > 0;
    for (int i = 0; i < nop && merge; i++)
      merge = st[i][n - 1] == e * (strides[i] ? strides[i][k] : 0);
    if (merge) shape[n - 1] *= e;
    else shape[n++] = e;
    for (int i = 0; i < nop; i++) st[i][n - 1] = strides[i] ? strides[i][k] : 0;
  }
  if (n == 0) {
    shape[n++] = 1;
    for (int i = 0; i < nop; i++) st[i][0] = 0;
  }
  char *p[MAXOP], *q[MAXOP];
  int64_t step[MAXOP], inner = shape[n - 1], since = 0;
  for (int i = 0; i < nop; i++) {
    p[i] = ptr[i];
    step[i] = st[i][n - 1];
  }
  for (;;) {
    for (int64_t done = 0; done < inner;) {
      int64_t m = inner - done < POLL_EVERY ? inner - done : POLL_EVERY;
      for (int i = 0; i < nop; i++) q[i] = p[i] + done * step[i];
      int status = loop(q, step, m);
      if (status) return (nd_status)status;
      done += m;
      since += m;
      if (since >= POLL_EVERY) {
        since = 0;
        if (poll && rt_interrupt_pending()) return ND_EINTR;
      }
    }
    int k = n - 2;
    for (; k >= 0; k--) {
      for (int i = 0; i < nop; i++) p[i] += st[i][k];
      if (++idx[k] < shape[k]) break;
      for (int i = 0; i < nop; i++) p[i] -= st[i][k] * shape[k];
      idx[k] = 0;
    }
    if (k < 0) return ND_OK;
  }
}

nd_status nd_binary(nd_binop op, const nd *a, const nd *b, nd *out) {
  int loop, res;
  if (a->dtype != b->dtype || nd_binary_types(op, a->dtype, b->dtype, &loop, &res) != 0 ||
      loop != a->dtype || res != out->dtype || ndl_binary[op][loop] == NULL)
    return ND_EDTYPE;
  if (!same_shape(a, out) || !same_shape(b, out)) return ND_ESHAPE;
  char *ptr[] = {a->data, b->data, out->data};
  const int64_t *strides[] = {a->strides, b->strides, out->strides};
  return run(ndl_binary[op][loop], 3, ptr, strides, out, 1);
}

nd_status nd_unary(nd_unop op, const nd *a, nd *out) {
  int loop, res;
  if (nd_unary_types(op, a->dtype, &loop, &res) != 0 || loop != a->dtype ||
      res != out->dtype || ndl_unary[op][loop] == NULL)
    return ND_EDTYPE;
  if (!same_shape(a, out)) return ND_ESHAPE;
  char *ptr[] = {a->data, out->data};
  const int64_t *strides[] = {a->strides, out->strides};
  return run(ndl_unary[op][loop], 2, ptr, strides, out, 1);
}

/* A copy of a view whose last two axes are transposed (its second last
 * contiguous, its last not) into rows: in squares, strips of rows at a
 * time for every index of the axes before them, polling between strips.
 * 0 when the view is not such a one. */
static int transposed_copy(const nd *a, const nd *out, int poll, nd_status *status) {
  int n = a->ndim;
  int64_t size = (int64_t)buf_dtype_size(a->dtype);
  if (a->dtype != out->dtype || n < 2 || (size != 4 && size != 8)) return 0;
  if (a->strides[n - 2] != size || a->strides[n - 1] == size || out->strides[n - 1] != size)
    return 0;
  int64_t rows = a->shape[n - 2], cols = a->shape[n - 1], strip = POLL_EVERY / (cols + 1) + 1;
  if (rows < 8 || cols < 8) return 0;
  int64_t idx[ND_MAXDIM] = {0};
  *status = ND_OK;
  for (int k = 0; k < n - 2; k++)
    if (a->shape[k] == 0) return 1;
  for (;;) {
    const char *from = a->data;
    char *to = out->data;
    for (int k = 0; k < n - 2; k++) from += idx[k] * a->strides[k], to += idx[k] * out->strides[k];
    for (int64_t r0 = 0; r0 < rows; r0 += strip) {
      ndt_transpose(from + r0 * size, a->strides[n - 1], to + r0 * out->strides[n - 2],
                    out->strides[n - 2], rows - r0 < strip ? rows - r0 : strip, cols, (int)size);
      if (poll && rt_interrupt_pending()) {
        *status = ND_EINTR;
        return 1;
      }
    }
    int k = n - 3;
    while (k >= 0 && ++idx[k] == a->shape[k]) idx[k--] = 0;
    if (k < 0) return 1;
  }
}

static nd_status cast(const nd *a, nd *out, int poll) {
  if (!valid(a->dtype) || !valid(out->dtype)) return ND_EDTYPE;
  if (!same_shape(a, out)) return ND_ESHAPE;
  nd_status status;
  if (transposed_copy(a, out, poll, &status)) return status;
  char *ptr[] = {a->data, out->data};
  const int64_t *strides[] = {a->strides, out->strides};
  return run(ndl_cast[a->dtype][out->dtype], 2, ptr, strides, out, poll);
}

nd_status nd_cast(const nd *a, nd *out) { return cast(a, out, 1); }

void nd_copy(const nd *src, nd *dst) {
  nd_status s = cast(src, dst, 0);
  assert(s == ND_OK);
  (void)s;
}

/* The index of ndl_where and ndl_fill for items of 'size' bytes. */
static int by_size(size_t size) { return size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3; }

nd_status nd_where(const nd *cond, const nd *a, const nd *b, nd *out) {
  if (cond->dtype != BUF_BOOL || a->dtype != out->dtype || b->dtype != out->dtype ||
      !valid(out->dtype))
    return ND_EDTYPE;
  if (!same_shape(cond, out) || !same_shape(a, out) || !same_shape(b, out)) return ND_ESHAPE;
  char *ptr[] = {cond->data, a->data, b->data, out->data};
  const int64_t *strides[] = {cond->strides, a->strides, b->strides, out->strides};
  return run(ndl_where[by_size(nd_itemsize(out))], 4, ptr, strides, out, 1);
}

void nd_fill(nd *out, const void *value) {
  char *ptr[] = {(char *)value, out->data};
  const int64_t *strides[] = {NULL, out->strides};
  run(ndl_fill[by_size(nd_itemsize(out))], 2, ptr, strides, out, 0);
}

const char *nd_strerror(nd_status s) {
  switch (s) {
  case ND_OK: return "no error";
  case ND_ENOMEM: return "not enough memory";
  case ND_EZERODIV: return "integer division by zero";
  case ND_ENEGPOW: return "integers to negative integer powers are not allowed";
  case ND_EDTYPE: return "operation not defined for this dtype";
  case ND_EEMPTY: return "zero-size array to reduction operation which has no identity";
  case ND_ESHAPE: return "operands could not be broadcast together";
  case ND_EINTR: return "interrupted!";
  case ND_EAXIS: return "argmin and argmax take one axis or all of them";
  }
  return "unknown error";
}
