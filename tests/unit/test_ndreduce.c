/* Unit tests of src/array/ndreduce.c against numpy's answers
 * (ndreduce_cases.h, written by gen_ndreduce.py): every op over every
 * dtype, axis subsets, views, NaN, ties, empty arrays, wrapping, ddof;
 * each case in one block, in blocks combined in two groupings, and in
 * tiles combined into views of one partial as an Array's chunk step does;
 * then float32 accumulation, pairwise float64 sums, var by Chan's merge,
 * interrupts, errors and every allocation failing in turn. */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "array/ndreduce.h"
#include "base/alloc.h"
#include "base/interrupt.h"
#include "testhelp.h"

typedef struct rinput {
  int dtype, ndim;
  int64_t shape[4];
  const void *data;
} rinput;

typedef struct rcase {
  nd_reduce_op op;
  int in, view, vaxis, ndim;
  int64_t shape[4];  /* the view's */
  uint8_t reduced[4];
  int ddof;
  nd_status status;
  int rdtype;
  int64_t size;      /* of the answer, keepdims */
  int64_t rshape[4];
  const void *want;  /* double (floats), uint64_t (uint64), else int64_t */
  double tol;
} rcase;

enum { V_NONE, V_REV, V_T, V_RSTEP2, V_BCAST };

#include "ndreduce_cases.h"

#define NCASES ((int)(sizeof cases / sizeof cases[0]))

static int make_input(const rinput *r, nd *a) {
  if (nd_alloc(a, r->dtype, r->ndim, r->shape) != 0) return -1;
  memcpy(a->data, r->data, (size_t)nd_size(a) * nd_itemsize(a));
  return 0;
}

/* The case's view of its input, as the generator made it. */
static int make_view(const rcase *c, nd *a) {
  if (make_input(&inputs[c->in], a) != 0) return -1;
  int64_t n = a->shape[c->vaxis];
  int perm[ND_MAXDIM];
  switch (c->view) {
  case V_REV: nd_slice(a, c->vaxis, n - 1, n, -1); break;
  case V_RSTEP2: nd_slice(a, c->vaxis, n - 1, (n + 1) / 2, -2); break;
  case V_T:
    for (int k = 0; k < a->ndim; k++) perm[k] = a->ndim - 1 - k;
    nd_transpose(a, perm);
    break;
  case V_BCAST: nd_broadcast_to(a, c->ndim, c->shape); break;
  default: break;
  }
  return a->ndim == c->ndim && memcmp(a->shape, c->shape, sizeof *a->shape * (size_t)a->ndim) == 0
             ? 0 : -1;
}

static int is_float(int dt) { return dt == BUF_FLOAT32 || dt == BUF_FLOAT64; }

static double get_f(const nd *a, int64_t i) {
  return a->dtype == BUF_FLOAT32 ? ((const float *)a->data)[i] : ((const double *)a->data)[i];
}

static int64_t get_i(const nd *a, int64_t i) {
  const char *p = a->data + i * (int64_t)nd_itemsize(a);
  switch (a->dtype) {
  case BUF_BOOL: return *(const uint8_t *)p;
  case BUF_INT8: return *(const int8_t *)p;
  case BUF_INT16: return *(const int16_t *)p;
  case BUF_INT32: return *(const int32_t *)p;
  case BUF_UINT8: return *(const uint8_t *)p;
  case BUF_UINT16: return *(const uint16_t *)p;
  case BUF_UINT32: return *(const uint32_t *)p;
  default: return *(const int64_t *)p; /* int64, and uint64's bits */
  }
}

/* 1 when 'out' is the case's answer; else says where it differs. */
static int matches(int k, const char *how, const rcase *c, nd_status s, const nd *out) {
  const char *why = NULL;
  int64_t at = -1;
  if (s != c->status) why = "status";
  else if (s != ND_OK) return 1;
  else if (out->dtype != c->rdtype) why = "dtype";
  else if (out->ndim != c->ndim || nd_size(out) != c->size ||
           (c->ndim && memcmp(out->shape, c->rshape, sizeof *c->rshape * (size_t)c->ndim)))
    why = "shape";
  else if (!nd_is_contiguous(out)) why = "not contiguous";
  for (int64_t i = 0; why == NULL && i < c->size; i++) {
    if (is_float(c->rdtype)) {
      double g = get_f(out, i), w = ((const double *)c->want)[i];
      int ok = isnan(w) ? isnan(g) : g == w || fabs(g - w) <= c->tol;
      if (!ok) why = "value", at = i;
    } else if (c->rdtype == BUF_UINT64) {
      if ((uint64_t)get_i(out, i) != ((const uint64_t *)c->want)[i]) why = "value", at = i;
    } else if (get_i(out, i) != ((const int64_t *)c->want)[i]) {
      why = "value", at = i;
    }
  }
  if (why == NULL) return 1;
  printf("case %d (%s %s, input %d, view %d, ddof %d): %s", k, nd_reduce_name(c->op), how, c->in,
         c->view, c->ddof, why);
  if (why[0] == 's' && why[1] == 't') printf(" %d, want %d", s, c->status);
  if (at >= 0 && is_float(c->rdtype))
    printf(" at %lld: %.17g, want %.17g", (long long)at, get_f(out, at), ((const double *)c->want)[at]);
  else if (at >= 0)
    printf(" at %lld: %lld, want %lld", (long long)at, (long long)get_i(out, at),
           (long long)((const int64_t *)c->want)[at]);
  printf("\n");
  return 0;
}

static nd_status finish(const rcase *c, const nd *a, nd *part, nd *out) {
  nd_status s = nd_reduce_finish(c->op, a->dtype, part, c->ddof, out);
  nd_free(part);
  return s;
}

/* The partial of a slice [lo, hi) of 'a' along axis 'r'. */
static nd_status block_partial(const rcase *c, const nd *a, int r, int64_t lo, int64_t hi, nd *part) {
  nd b = *a;
  int64_t offset[ND_MAXDIM] = {0};
  nd_slice(&b, r, lo, hi - lo, 1);
  offset[r] = lo;
  return nd_reduce_partial(c->op, &b, c->reduced, offset, a->shape, part);
}

/* In three blocks along the first reduced axis of length >= 3, combined
 * as ((b0 b1) b2) and as (b0 (b1 b2)). */
static void run_blocks(int k, const rcase *c, const nd *a) {
  int r = -1;
  for (int j = 0; j < a->ndim && r < 0; j++)
    if (c->reduced[j] && a->shape[j] >= 3) r = j;
  if (r < 0 || c->status == ND_EAXIS) return;
  int64_t n = a->shape[r], cut[4] = {0, 1, 1 + (n - 1) / 2, n};
  for (int grouping = 0; grouping < 2; grouping++) {
    nd p[3], out = {0};
    nd_status s = ND_OK;
    for (int b = 0; b < 3; b++) {
      nd_status t = block_partial(c, a, r, cut[b], cut[b + 1], &p[b]);
      if (s == ND_OK) s = t;
    }
    if (s == ND_OK && grouping == 0) {
      s = nd_reduce_combine(c->op, &p[0], &p[1]);
      if (s == ND_OK) s = nd_reduce_combine(c->op, &p[0], &p[2]);
    } else if (s == ND_OK) {
      s = nd_reduce_combine(c->op, &p[1], &p[2]);
      if (s == ND_OK) s = nd_reduce_combine(c->op, &p[0], &p[1]);
    }
    nd_free(&p[1]);
    nd_free(&p[2]);
    if (s == ND_OK) s = finish(c, a, &p[0], &out);
    else nd_free(&p[0]);
    TEST("blocks combined give numpy's answer",
         matches(k, grouping ? "blocks (b0 (b1 b2))" : "blocks ((b0 b1) b2)", c, s, &out));
    nd_free(&out);
  }
}

/* As an Array's chunk step: the identity partial of the whole block,
 * then tiles cut along a kept and a reduced axis, each tile's partial
 * combined into the view of that partial where its kept axis lies. */
static void run_tiles(int k, const rcase *c, const nd *a) {
  int r = -1, q = -1;
  for (int j = 0; j < a->ndim; j++) {
    if (c->reduced[j] && a->shape[j] >= 2 && r < 0) r = j;
    if (!c->reduced[j] && a->shape[j] >= 2 && q < 0) q = j;
  }
  if (r < 0 || q < 0 || c->status == ND_EAXIS) return;
  nd none = *a, acc, out = {0};
  none.shape[r] = 0;
  nd_status s = nd_reduce_partial(c->op, &none, c->reduced, NULL, a->shape, &acc);
  int64_t cq[3] = {0, a->shape[q] / 2, a->shape[q]}, cr[3] = {0, 1, a->shape[r]};
  for (int i = 0; i < 2 && s == ND_OK; i++) {
    for (int j = 0; j < 2 && s == ND_OK; j++) {
      nd t = *a, part, view = acc;
      int64_t offset[ND_MAXDIM] = {0};
      nd_slice(&t, q, cq[i], cq[i + 1] - cq[i], 1);
      nd_slice(&t, r, cr[j], cr[j + 1] - cr[j], 1);
      offset[q] = cq[i];
      offset[r] = cr[j];
      s = nd_reduce_partial(c->op, &t, c->reduced, offset, a->shape, &part);
      view.b = NULL; /* borrowed */
      nd_slice(&view, q + 1, cq[i], cq[i + 1] - cq[i], 1);
      if (s == ND_OK) s = nd_reduce_combine(c->op, &view, &part);
      nd_free(&part);
    }
  }
  if (s == ND_OK) s = finish(c, a, &acc, &out);
  else nd_free(&acc);
  TEST("tiles combined into views give numpy's answer", matches(k, "tiles", c, s, &out));
  nd_free(&out);
}

static void test_cases(void) {
  int bad = 0;
  for (int k = 0; k < NCASES; k++) {
    const rcase *c = &cases[k];
    nd a, part, out = {0};
    if (make_view(c, &a) != 0) {
      TEST("the case's view is made", 0);
      nd_free(&a);
      continue;
    }
    nd_status s = nd_reduce_partial(c->op, &a, c->reduced, NULL, NULL, &part);
    if (s == ND_OK) {
      TEST("a partial has the op's components and the reduced axes of length 1",
           part.ndim == a.ndim + 1 && part.shape[0] == nd_reduce_ncomp(c->op) &&
               part.dtype == nd_reduce_partial_dtype(c->op, a.dtype));
      s = finish(c, &a, &part, &out);
    }
    bad += !matches(k, "one block", c, s, &out);
    nd_free(&out);
    run_blocks(k, c, &a);
    run_tiles(k, c, &a);
    nd_free(&a);
  }
  TEST("every case in one block gives numpy's answer", bad == 0);
  printf("%d cases\n", NCASES);
}

/* ------------------------------------------------------- big inputs */

static nd_status reduce_all(nd_reduce_op op, const nd *a, int64_t tile, int ddof, nd *out) {
  uint8_t all[1] = {1};
  int64_t n = a->shape[0];
  nd acc, part;
  nd_status s = ND_OK;
  for (int64_t lo = 0; lo < n && s == ND_OK; lo += tile) {
    nd t = *a;
    int64_t offset[1] = {lo};
    nd_slice(&t, 0, lo, lo + tile < n ? tile : n - lo, 1);
    s = nd_reduce_partial(op, &t, all, offset, a->shape, lo ? &part : &acc);
    if (lo && s == ND_OK) s = nd_reduce_combine(op, &acc, &part);
    if (lo) nd_free(&part);
  }
  if (s == ND_OK) s = nd_reduce_finish(op, a->dtype, &acc, ddof, out);
  nd_free(&acc);
  return s;
}

static void test_float32_sums(void) {
  int64_t n = 10000000;
  nd a, out;
  if (nd_alloc(&a, BUF_FLOAT32, 1, &n) != 0) return;
  float *x = (float *)a.data;
  for (int64_t i = 0; i < n; i++) x[i] = (float)((double)(i * 7919 % 10007) / 10007.0);
  int64_t tiles[] = {n, 4096, 999983};
  for (int t = 0; t < 3; t++) {
    TEST("float32 sum of 1e7", reduce_all(ND_SUM, &a, tiles[t], 0, &out) == ND_OK &&
                                   out.dtype == BUF_FLOAT32);
    double s = ((const float *)out.data)[0];
    TEST("float32 sum of 1e7 within a float32 rounding of float64's",
         fabs(s - F32_SUM64) <= 6e-8 * F32_SUM64);
    TEST("float32 sum of 1e7 close to numpy's", fabs(s - F32_SUM32) <= 2e-7 * F32_SUM64);
    nd_free(&out);
    TEST("float32 mean of 1e7", reduce_all(ND_MEAN, &a, tiles[t], 0, &out) == ND_OK &&
                                    out.dtype == BUF_FLOAT32 &&
                                    fabs(((const float *)out.data)[0] - F32_MEAN64) <= 6e-8 * F32_MEAN64);
    nd_free(&out);
  }
  nd_free(&a);
}

static void test_pairwise(void) {
  int64_t n = 10000000;
  nd a, out;
  if (nd_alloc(&a, BUF_FLOAT64, 1, &n) != 0) return;
  for (int64_t i = 0; i < n; i++) ((double *)a.data)[i] = 0.1;
  TEST("float64 sum of 1e7 tenths", reduce_all(ND_SUM, &a, n, 0, &out) == ND_OK);
  /* a naive sum is 1.6e-10 off, numpy's pairwise 2e-14 */
  TEST("pairwise as numpy's", fabs(((const double *)out.data)[0] - TENTH_SUM) <= 1e-13 * TENTH_SUM);
  nd_free(&out);
  nd_free(&a);
}

static void test_chan(void) {
  int64_t n = 1000000;
  nd a, out;
  if (nd_alloc(&a, BUF_FLOAT64, 1, &n) != 0) return;
  for (int64_t j = 0; j < n; j++) ((double *)a.data)[j] = 1e9 + (double)(j * 7919 % 1000) / 1000.0;
  /* four uneven chunks, merged as ((c0 c1) (c2 c3)) */
  int64_t cut[5] = {0, 1, 333334, 700000, n};
  uint8_t all[1] = {1};
  nd p[4];
  nd_status s = ND_OK;
  for (nd_reduce_op op = ND_VAR; op <= ND_STD; op++) {
    for (int i = 0; i < 4; i++) {
      nd t = a;
      nd_slice(&t, 0, cut[i], cut[i + 1] - cut[i], 1);
      nd_status u = nd_reduce_partial(op, &t, all, NULL, NULL, &p[i]);
      if (s == ND_OK) s = u;
    }
    if (s == ND_OK) s = nd_reduce_combine(op, &p[0], &p[1]);
    if (s == ND_OK) s = nd_reduce_combine(op, &p[2], &p[3]);
    if (s == ND_OK) s = nd_reduce_combine(op, &p[0], &p[2]);
    TEST("var partials merged", s == ND_OK);
    TEST("merged mean", fabs(((const double *)p[0].data)[1] - NOISY_MEAN) <= 1e-15 * NOISY_MEAN);
    int ddof = op == ND_VAR ? 0 : 1;
    double want = op == ND_VAR ? NOISY_VAR : NOISY_STD1;
    TEST("var of 1e9 + noise in 4 chunks as numpy's two passes",
         nd_reduce_finish(op, BUF_FLOAT64, &p[0], ddof, &out) == ND_OK &&
             fabs(((const double *)out.data)[0] - want) <= 1e-6 * want);
    nd_free(&out);
    for (int i = 0; i < 4; i++) nd_free(&p[i]);
  }
  nd_free(&a);
}

/* ----------------------------------------------------- errors, limits */

static void test_errors(void) {
  TEST("numpy's message for min of nothing",
       strcmp(nd_reduce_strerror(ND_MIN, ND_EEMPTY),
              "zero-size array to reduction operation minimum which has no identity") == 0);
  TEST("numpy's message for argmax of nothing",
       strcmp(nd_reduce_strerror(ND_ARGMAX, ND_EEMPTY), "attempt to get argmax of an empty sequence") == 0);
  TEST("a message for argmin over a tuple of axes", strstr(nd_reduce_strerror(ND_ARGMIN, ND_EAXIS), "one axis"));
  TEST("other statuses as nd_strerror", nd_reduce_strerror(ND_SUM, ND_ENOMEM) == nd_strerror(ND_ENOMEM));
  TEST("names", strcmp(nd_reduce_name(ND_ARGMAX), "argmax") == 0 && strcmp(nd_reduce_name(ND_STD), "std") == 0);
  TEST("no reductions of strings", nd_reduce_partial_dtype(ND_SUM, BUF_STRING) == -1 &&
                                       nd_reduce_result_dtype(ND_MEAN, BUF_STRING) == -1);

  int64_t shape[2] = {2, 3};
  uint8_t red[ND_MAXDIM] = {1, 0};
  nd a, p, q, out;
  nd_zeros(&a, BUF_INT32, 2, shape);
  nd s = a;
  s.dtype = BUF_STRING;
  TEST("a string array refused", nd_reduce_partial(ND_SUM, &s, red, NULL, NULL, &p) == ND_EDTYPE &&
                                     p.b == NULL);
  nd_reduce_partial(ND_SUM, &a, red, NULL, NULL, &p);
  nd_reduce_partial(ND_PROD, &a, red, NULL, NULL, &q);
  TEST("finish of another dtype's partial", nd_reduce_finish(ND_SUM, BUF_FLOAT32, &p, 0, &out) == ND_EDTYPE &&
                                                out.b == NULL);
  TEST("finish of another op's partial", nd_reduce_finish(ND_MEAN, BUF_INT32, &p, 0, &out) == ND_EDTYPE);
  nd_free(&q);
  red[1] = 1;
  nd_reduce_partial(ND_SUM, &a, red, NULL, NULL, &q);
  TEST("partials of other shapes do not combine", nd_reduce_combine(ND_SUM, &p, &q) == ND_EDTYPE);
  nd_free(&q);
  nd_reduce_partial(ND_MEAN, &a, (uint8_t[]){1, 0}, NULL, NULL, &q);
  TEST("partials of other ops do not combine", nd_reduce_combine(ND_SUM, &p, &q) == ND_EDTYPE &&
                                                   nd_reduce_combine(ND_MEAN, &q, &p) == ND_EDTYPE);
  nd_free(&q);
  nd_free(&p);

  nd big = a;
  big.ndim = ND_MAXDIM;
  for (int k = 0; k < ND_MAXDIM; k++) big.shape[k] = 1, big.strides[k] = 4;
  TEST("an array of ND_MAXDIM axes has no partial",
       nd_reduce_partial(ND_SUM, &big, red, NULL, NULL, &p) == ND_EAXIS);
  nd_free(&a);
}

static void test_interrupt(void) {
  int64_t shape[2] = {2, (int64_t)3 << 20};
  uint8_t red[2] = {1, 0};
  nd a, p, q;
  if (nd_zeros(&a, BUF_FLOAT64, 2, shape) != 0) return;
  nd_reduce_partial(ND_SUM, &a, red, NULL, NULL, &p);
  nd_reduce_partial(ND_SUM, &a, red, NULL, NULL, &q);
  atomic_store(&rt_interrupt_flag, 1);
  nd r;
  TEST("a partial stops on an interrupt", nd_reduce_partial(ND_SUM, &a, red, NULL, NULL, &r) == ND_EINTR &&
                                              r.b == NULL);
  TEST("a long combine stops on an interrupt", nd_reduce_combine(ND_SUM, &p, &q) == ND_EINTR);
  atomic_store(&rt_interrupt_flag, 0);
  TEST("and goes on after", nd_reduce_combine(ND_SUM, &p, &q) == ND_OK);
  nd_free(&p);
  nd_free(&q);
  nd_free(&a);
}

/* Every allocation of a partial, a combine and a finish failing in turn. */
static void test_alloc_failures(void) {
  int64_t shape[2] = {3, 4};
  nd a;
  nd_alloc(&a, BUF_FLOAT32, 2, shape);
  for (int i = 0; i < 12; i++) ((float *)a.data)[i] = (float)i * 0.5f;
  uint8_t red[2] = {0, 1};
  int done = 0, clean = 1;
  for (long k = 1; k < 50 && !done; k++) {
    base_alloc_fail_after(k);
    nd p = {0}, q = {0}, out = {0};
    nd_status s = nd_reduce_partial(ND_VAR, &a, red, NULL, NULL, &p);
    if (s == ND_OK) s = nd_reduce_partial(ND_VAR, &a, red, NULL, NULL, &q);
    if (s == ND_OK) s = nd_reduce_combine(ND_VAR, &p, &q);
    if (s == ND_OK) s = nd_reduce_finish(ND_STD, BUF_FLOAT32, &p, 1, &out);
    base_alloc_fail_after(-1);
    if (s == ND_OK) {
      done = 1;
      /* 8 values (0, 0.5, ... 1.5 twice), std with ddof 1 */
      TEST("the answer after the failures",
           out.dtype == BUF_FLOAT32 && fabsf(((float *)out.data)[0] - 0.597614305f) < 1e-6f);
    } else {
      clean = clean && s == ND_ENOMEM && out.b == NULL;
    }
    nd_free(&p);
    nd_free(&q);
    nd_free(&out);
  }
  TEST("every allocation failure is ND_ENOMEM", clean);
  TEST("and the reduction succeeds once allocations do", done);
  nd_free(&a);
}

int main(void) {
  test_cases();
  test_float32_sums();
  test_pairwise();
  test_chan();
  test_errors();
  test_interrupt();
  test_alloc_failures();
  return test_report();
}
