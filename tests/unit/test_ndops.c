/* Unit tests of src/array/ndops.c and ndloops.c against numpy's answers
 * (ndops_expected.h, written by gen_ndops_expected.py from Debian's
 * numpy): promotion of every pair of dtypes, the result dtype of every
 * operation, every operation over every pair of user dtypes (integer
 * overflow, // and % of negative numbers, NaN, bool arithmetic), casts of
 * NaN, infinities and out-of-range floats, where, NEP 50's weak scalars.
 * Each case runs contiguous, long enough for the vector kernels, with a
 * broadcast scalar, reversed into a strided output, and as a 2-d array
 * against a transposed operand; errors and interrupts apart. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "array/nd.h"
#include "array/ndops.h"
#include "base/interrupt.h"
#include "testhelp.h"

#include "ndops_expected.h"

#define NELEMS(a) (sizeof(a) / sizeof *(a))
#define REP 37 /* copies of the NV values: the vector kernels and their tails */

/* A fresh 1-d array of 'n' elements of 'dtype' repeating the NV values at 'src'. */
static nd tiled(int dtype, const char *src, int64_t n) {
  nd a;
  size_t k = buf_dtype_size(dtype);
  if (nd_alloc(&a, dtype, 1, &n) != 0) return a;
  for (int64_t i = 0; i < n; i++) memcpy(a.data + i * (int64_t)k, src + (i % NV) * k, k);
  return a;
}

static double as_double(int dtype, const char *p) {
  switch (dtype) {
  case BUF_FLOAT32: return *(const float *)p;
  case BUF_FLOAT64: return *(const double *)p;
  default: return 0;
  }
}

/* Element 'got' equals 'want' of 'dtype': floats equal or both NaN
 * (within a relative 'tol' when set), the rest byte for byte. */
static int same_elem(int dtype, const char *got, const char *want, int tol) {
  if (dtype == BUF_FLOAT32 || dtype == BUF_FLOAT64) {
    double g = as_double(dtype, got), w = as_double(dtype, want);
    if (isnan(g) || isnan(w)) return isnan(g) && isnan(w);
    if (g == w) return 1;
    double eps = dtype == BUF_FLOAT32 ? 4e-7 : 4e-16;
    return tol && fabs(g - w) <= eps * fmax(fabs(g), fabs(w));
  }
  return memcmp(got, want, buf_dtype_size(dtype)) == 0;
}

/* Every element of 'a' (any layout, any shape) is want[flat C index % NV]. */
static int matches(const nd *a, const char *want, int tol) {
  int64_t n = nd_size(a), idx[ND_MAXDIM];
  size_t k = nd_itemsize(a);
  for (int64_t i = 0; i < n; i++) {
    int64_t r = i;
    for (int d = a->ndim - 1; d >= 0; d--) {
      idx[d] = r % a->shape[d];
      r /= a->shape[d];
    }
    if (!same_elem(a->dtype, nd_at(a, idx), want + (i % NV) * k, tol)) return 0;
  }
  return 1;
}

static const input *input_of(int dtype) {
  for (size_t i = 0; i < NELEMS(inputs); i++)
    if (inputs[i].dtype == dtype) return &inputs[i];
  return NULL;
}

static void test_types(void) {
  int promote = 1, binary = 1, unary = 1, weak = 1, holds = 1;
  for (int a = 0; a < BUF_STRING; a++) {
    for (int b = 0; b < BUF_STRING; b++) {
      promote &= nd_promote(a, b) == exp_promote[a][b];
      for (int op = 0; op < ND_NBINARY; op++) {
        int loop, out, rc = nd_binary_types(op, a, b, &loop, &out);
        binary &= exp_binary_out[op][a][b] == -1 ? rc == -1 : rc == 0 && out == exp_binary_out[op][a][b];
      }
    }
    for (int op = 0; op < ND_NUNARY; op++) {
      int loop, out, rc = nd_unary_types(op, a, &loop, &out);
      unary &= exp_unary_out[op][a] == -1 ? rc == -1 : rc == 0 && out == exp_unary_out[op][a] && loop == out;
    }
    for (int k = 0; k < 3; k++) weak &= nd_promote_weak(a, (nd_weak)k) == exp_weak[a][k];
  }
  for (size_t i = 0; i < NELEMS(weak_int_cases); i++) {
    const weak_int_case *c = &weak_int_cases[i];
    holds &= nd_holds(nd_promote_weak(c->dtype, ND_WEAK_INT), c->v) == c->ok;
  }
  TEST("numpy's result_type of every pair", promote);
  TEST("the result dtype of every binary op and pair", binary);
  TEST("the result dtype of every unary op", unary);
  TEST("NEP 50: the dtype with a weak bool, int, float", weak);
  TEST("NEP 50: integers the array's dtype cannot hold", holds);
  int loop, out;
  TEST("int64 // uint64 loops in float64",
       nd_binary_types(ND_FLOORDIV, BUF_INT64, BUF_UINT64, &loop, &out) == 0 &&
           loop == BUF_FLOAT64 && out == BUF_FLOAT64);
  TEST("int32 < uint8 compares in int32, gives bool",
       nd_binary_types(ND_LT, BUF_INT32, BUF_UINT8, &loop, &out) == 0 && loop == BUF_INT32 &&
           out == BUF_BOOL);
  TEST("no strings", nd_binary_types(ND_ADD, BUF_STRING, BUF_INT8, &loop, &out) == -1 &&
                         nd_unary_types(ND_ABS, BUF_STRING, &loop, &out) == -1);
}

/* out = a op b as the binding does: cast both to the loop dtype first. */
static nd_status binary(nd_binop op, const nd *a, const nd *b, nd *out) {
  int loop, res;
  nd ca, cb;
  if (nd_binary_types(op, a->dtype, b->dtype, &loop, &res) != 0) return ND_EDTYPE;
  if (nd_contiguous(a, loop, &ca) != 0) return ND_ENOMEM;
  if (nd_contiguous(b, loop, &cb) != 0) return nd_free(&ca), ND_ENOMEM;
  nd_status s = nd_alloc(out, res, a->ndim, a->shape) == 0 ? nd_binary(op, &ca, &cb, out) : ND_ENOMEM;
  nd_free(&ca);
  nd_free(&cb);
  return s;
}

/* The layouts of one binary case beyond the contiguous one: y (then x)
 * broadcast from its element j against the contiguous answer, both
 * reversed into a strided output, and 2-d with y transposed. */
static int layouts(const binary_case *c, const nd *x, const nd *y, const nd *want) {
  int loop, res, ok = 1;
  int64_t n = NV * REP;
  nd_binary_types(c->op, c->a, c->b, &loop, &res);
  nd cx, cy, o, ref;
  nd_contiguous(x, loop, &cx);
  nd_contiguous(y, loop, &cy);
  for (int side = 0; side < 2; side++) {
    for (int j = 0; j < NV; j += 5) {
      nd s, t;
      nd_ref(&s, side ? &cx : &cy);
      nd_slice(&s, 0, j, 1, 1);
      nd_broadcast_to(&s, 1, &n); /* stride 0 */
      nd_contiguous(&s, loop, &t); /* the same, contiguous */
      nd_alloc(&o, res, 1, &n);
      nd_alloc(&ref, res, 1, &n);
      ok &= nd_binary(c->op, side ? &s : &cx, side ? &cy : &s, &o) == ND_OK;
      ok &= nd_binary(c->op, side ? &t : &cx, side ? &cy : &t, &ref) == ND_OK;
      ok &= memcmp(o.data, ref.data, buf_size(o.b)) == 0;
      nd_free(&s);
      nd_free(&t);
      nd_free(&o);
      nd_free(&ref);
    }
  }
  /* reversed operands into every other element of a reversed output */
  nd rx, ry, big;
  int64_t n2 = 2 * n;
  nd_ref(&rx, &cx);
  nd_ref(&ry, &cy);
  nd_slice(&rx, 0, n - 1, n, -1);
  nd_slice(&ry, 0, n - 1, n, -1);
  nd_alloc(&big, res, 1, &n2);
  nd_ref(&o, &big);
  nd_slice(&o, 0, n2 - 1, n, -2);
  ok &= nd_binary(c->op, &rx, &ry, &o) == ND_OK;
  nd_slice(&o, 0, n - 1, n, -1); /* back in order */
  ok &= matches(&o, want->data, 0);
  nd_free(&o);
  nd_free(&big);
  nd_free(&rx);
  nd_free(&ry);
  /* (REP, NV) against the transpose of an (NV, REP) array */
  int64_t s2[2] = {REP, NV}, st[2] = {NV, REP};
  nd x2, yt;
  nd_reshape(&cx, 2, s2, &x2);
  nd_alloc(&yt, loop, 2, st);
  size_t k = nd_itemsize(&cy);
  for (int i = 0; i < NV; i++)
    for (int r = 0; r < REP; r++) memcpy(yt.data + (i * REP + r) * k, cy.data + i * k, k);
  int perm[2] = {1, 0};
  nd_transpose(&yt, perm);
  nd_alloc(&o, res, 2, s2);
  ok &= nd_binary(c->op, &x2, &yt, &o) == ND_OK && matches(&o, want->data, 0);
  nd_free(&o);
  nd_free(&x2);
  nd_free(&yt);
  nd_free(&cx);
  nd_free(&cy);
  return ok;
}

static void test_binary(void) {
  int64_t n = NV * REP;
  int values = 1, statuses = 1, strided = 1, ncases = 0;
  for (size_t i = 0; i < NELEMS(binary_cases); i++) {
    const binary_case *c = &binary_cases[i];
    const input *ia = input_of(c->a), *ib = input_of(c->b);
    nd x = tiled(c->a, ia->x, n), y = tiled(c->b, c->op == ND_POW ? ib->ypow : ib->y, n);
    nd o = {0};
    nd_status s = binary(c->op, &x, &y, &o);
    int ok = s == (nd_status)c->status;
    if (ok && s == ND_OK) {
      /* numpy's float ** is SVML's on AVX-512, within an ulp of C's pow */
      ok = o.dtype == c->out && matches(&o, c->want, c->op == ND_POW);
      values &= ok;
      if (ok) strided &= layouts(c, &x, &y, &o);
    } else {
      statuses &= ok;
    }
    if (!ok)
      printf("  binary op %d of %s, %s: status %d (want %d)\n", c->op, buf_dtype_name(c->a),
             buf_dtype_name(c->b), s, c->status);
    ncases += ok;
    nd_free(&o);
    nd_free(&x);
    nd_free(&y);
  }
  TEST("every binary op over every pair of user dtypes", values);
  TEST("statuses: bool - bool refused, // and % by false", statuses);
  TEST("broadcast, reversed, strided and transposed layouts", strided);
  TEST("all cases ran", ncases == (int)NELEMS(binary_cases));
}

static void test_unary(void) {
  int64_t n = NV * REP;
  int ok = 1;
  for (size_t i = 0; i < NELEMS(unary_cases); i++) {
    const unary_case *c = &unary_cases[i];
    nd x = tiled(c->a, input_of(c->a)->x, n), cx = {0}, o = {0};
    int loop, out;
    int good = nd_unary_types(c->op, c->a, &loop, &out) == 0 && out == c->out &&
               nd_contiguous(&x, loop, &cx) == 0 && nd_alloc(&o, out, 1, &n) == 0 &&
               nd_unary(c->op, &cx, &o) == ND_OK && matches(&o, c->want, c->tol);
    if (good) { /* reversed, strided */
      nd r;
      nd_ref(&r, &cx);
      nd_slice(&r, 0, n - 1, n, -1);
      nd_free(&o);
      nd_alloc(&o, out, 1, &n);
      nd_slice(&o, 0, n - 1, n, -1);
      good = nd_unary(c->op, &r, &o) == ND_OK;
      nd_slice(&o, 0, n - 1, n, -1);
      good &= matches(&o, c->want, c->tol);
      nd_free(&r);
    }
    if (!good) printf("  unary op %d of %s\n", c->op, buf_dtype_name(c->a));
    ok &= good;
    nd_free(&o);
    nd_free(&cx);
    nd_free(&x);
  }
  TEST("every unary op over every user dtype", ok);
}

static void test_casts(void) {
  int64_t n = NV * REP;
  int ok = 1;
  for (size_t i = 0; i < NELEMS(cast_cases); i++) {
    const cast_case *c = &cast_cases[i];
    nd x = tiled(c->from, c->src, n), o, r;
    int good = nd_alloc(&o, c->to, 1, &n) == 0 && nd_cast(&x, &o) == ND_OK && matches(&o, c->want, 0);
    nd_free(&o);
    /* and strided: every other element of a reversed view */
    nd_ref(&r, &x);
    nd_slice(&r, 0, n - 1, n / 2, -2);
    good &= nd_contiguous(&r, c->to, &o) == 0;
    for (int64_t j = 0; good && j < n / 2; j++)
      good = same_elem(c->to, o.data + j * (int64_t)nd_itemsize(&o),
                       c->want + ((n - 1 - 2 * j) % NV) * nd_itemsize(&o), 0);
    if (!good) printf("  cast %s -> %s\n", buf_dtype_name(c->from), buf_dtype_name(c->to));
    ok &= good;
    nd_free(&o);
    nd_free(&r);
    nd_free(&x);
  }
  TEST("astype between user dtypes, NaN/inf/out of range to every type", ok);
}

static void test_where_fill(void) {
  int64_t n = NV * REP;
  int ok = 1;
  nd cond = tiled(BUF_BOOL, input_of(BUF_BOOL)->x, n);
  for (size_t i = 0; i < NELEMS(where_cases); i++) {
    const where_case *c = &where_cases[i];
    const input *in = input_of(c->dtype);
    nd a = tiled(c->dtype, in->x, n), b = tiled(c->dtype, in->y, n), o;
    nd_alloc(&o, c->dtype, 1, &n);
    ok &= nd_where(&cond, &a, &b, &o) == ND_OK && matches(&o, c->want, 0);
    nd_free(&o);
    nd_free(&a);
    nd_free(&b);
  }
  nd_free(&cond);
  TEST("where over every user dtype", ok);

  nd f;
  int64_t s[2] = {5, 7};
  nd_alloc(&f, BUF_FLOAT32, 2, s);
  float v = -2.5f;
  nd_fill(&f, &v);
  nd col;
  nd_ref(&col, &f);
  nd_slice(&col, 1, 3, 1, 1);
  uint64_t bits = 0x7fc00000u; /* a float32 NaN in the low bytes of 8 */
  nd_fill(&col, &bits);
  int filled = 1;
  for (int i = 0; i < 35; i++) {
    float x = ((float *)f.data)[i];
    filled &= i % 7 == 3 ? isnan(x) : x == -2.5f;
  }
  TEST("fill, then fill a column", filled);
  nd_free(&col);
  nd_free(&f);
}

static void test_errors(void) {
  int64_t n = 3;
  nd a, b, o;
  nd_alloc(&a, BUF_INT32, 1, &n);
  nd_alloc(&b, BUF_INT32, 1, &n);
  nd_alloc(&o, BUF_INT32, 1, &n);
  int32_t *pa = (int32_t *)a.data, *pb = (int32_t *)b.data;
  pa[0] = 7, pa[1] = -7, pa[2] = 1;
  pb[0] = 2, pb[1] = 0, pb[2] = 1;
  TEST("int // 0", nd_binary(ND_FLOORDIV, &a, &b, &o) == ND_EZERODIV);
  TEST("int % 0", nd_binary(ND_MOD, &a, &b, &o) == ND_EZERODIV);
  pb[1] = -1;
  TEST("int ** -1", nd_binary(ND_POW, &a, &b, &o) == ND_ENEGPOW);
  TEST("its message", strcmp(nd_strerror(ND_ENEGPOW), "integers to negative integer powers are not allowed") == 0);
  pb[1] = 31;
  pa[1] = 2;
  TEST("int32 2**31 wraps", nd_binary(ND_POW, &a, &b, &o) == ND_OK && ((int32_t *)o.data)[1] == INT32_MIN);
  nd f;
  nd_alloc(&f, BUF_FLOAT64, 1, &n);
  TEST("operands of two dtypes refused", nd_binary(ND_ADD, &a, &f, &o) == ND_EDTYPE);
  TEST("an output of the wrong dtype refused", nd_binary(ND_ADD, &a, &b, &f) == ND_EDTYPE);
  TEST("int / int needs the float64 loop", nd_binary(ND_DIV, &a, &b, &f) == ND_EDTYPE);
  TEST("sqrt of int needs float64", nd_unary(ND_SQRT, &a, &o) == ND_EDTYPE);
  nd s;
  nd_ref(&s, &b);
  nd_slice(&s, 0, 0, 2, 1);
  TEST("shapes must be out's", nd_binary(ND_ADD, &a, &s, &o) == ND_ESHAPE);
  nd_free(&s);
  for (int st = ND_OK; st <= ND_EINTR; st++) TEST("a message for each status", nd_strerror(st)[0] != 0);
  nd_free(&a);
  nd_free(&b);
  nd_free(&o);
  nd_free(&f);

  /* an interrupt stops a long loop between pieces; a short one finishes */
  int64_t big = (int64_t)3 << 20;
  nd x, y;
  nd_zeros(&x, BUF_FLOAT64, 1, &big);
  nd_zeros(&y, BUF_FLOAT64, 1, &big);
  atomic_store(&rt_interrupt_flag, 1);
  TEST("interrupted", nd_binary(ND_ADD, &x, &x, &y) == ND_EINTR);
  TEST("casts too", nd_cast(&x, &y) == ND_EINTR);
  nd c;
  TEST("a copy is not", nd_contiguous(&x, BUF_FLOAT32, &c) == 0);
  nd_free(&c);
  nd_slice(&x, 0, 0, 1000, 1);
  nd_slice(&y, 0, 0, 1000, 1);
  TEST("short loops finish", nd_binary(ND_ADD, &x, &x, &y) == ND_OK);
  atomic_store(&rt_interrupt_flag, 0);
  nd_free(&x);
  nd_free(&y);
}

/* Copies of transposed views (the square kernel and its edges, 4- and
 * 8-byte elements, a reversed axis, a third axis) equal element by
 * element reads. */
static void test_transposed_copies(void) {
  static const int64_t sizes[][2] = {{8, 8}, {64, 64}, {13, 29}, {40, 9}, {7, 100}};
  static const int dtypes[] = {BUF_FLOAT64, BUF_INT64, BUF_FLOAT32, BUF_INT32};
  for (size_t t = 0; t < NELEMS(dtypes); t++)
    for (size_t z = 0; z < NELEMS(sizes); z++)
      for (int flip = 0; flip < 2; flip++) {
        int64_t shape[3] = {3, sizes[z][1], sizes[z][0]};
        size_t k = buf_dtype_size(dtypes[t]);
        nd a, v, o;
        nd_alloc(&a, dtypes[t], 3, shape);
        for (int64_t i = 0; i < nd_size(&a); i++) {
          int64_t x = i * 7919 + 3;
          memcpy(a.data + i * (int64_t)k, &x, k); /* the low bytes: any bits do */
        }
        nd_ref(&v, &a);
        nd_transpose(&v, (const int[]){0, 2, 1});
        if (flip) nd_slice(&v, 2, v.shape[2] - 1, v.shape[2], -1);
        nd_alloc(&o, dtypes[t], 3, v.shape);
        int ok = nd_cast(&v, &o) == ND_OK;
        int64_t idx[3];
        for (idx[0] = 0; ok && idx[0] < v.shape[0]; idx[0]++)
          for (idx[1] = 0; ok && idx[1] < v.shape[1]; idx[1]++)
            for (idx[2] = 0; ok && idx[2] < v.shape[2]; idx[2]++)
              ok = memcmp(nd_at(&v, idx), nd_at(&o, idx), k) == 0;
        TEST("a transposed copy", ok);
        nd_free(&o);
        nd_free(&v);
        nd_free(&a);
      }
}

int main(void) {
  test_types();
  test_transposed_copies();
  test_binary();
  test_unary();
  test_casts();
  test_where_fill();
  test_errors();
  return test_report();
}
