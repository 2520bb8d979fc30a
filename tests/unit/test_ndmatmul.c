/*
 * test_ndmatmul: nd_matmul against numpy's answers (ndmatmul_cases.h,
 * written by ndmatmul_cases.py), the BLAS dusk loads and the core type it
 * chose, and the C loops when DUSK_BLAS=none (the same cases, run again
 * by meson under that variable).
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "array/blas.h"
#include "array/ndmatmul.h"
#include "base/alloc.h"
#include "base/interrupt.h"
#include "testhelp.h"

typedef struct mm_operand {
  int dtype, ndim;
  int64_t shape[2];
  int seed;
  const void *data; /* C order; NULL: formula_value */
  int nslices;
  int64_t slices[2][4]; /* axis, start, n, step */
  int transpose, nbcast;
  int64_t bcast[2];
} mm_operand;

typedef struct mm_case {
  const char *name;
  mm_operand a, b;
  int layout; /* -1 a fresh result, else accumulate into 'init' laid out so */
  const void *init;
  int tol;
  int dtype, ndim;
  int64_t shape[2];
  const void *want;                            /* or, for big results: */
  const double *rows, *cols; const void *sample; /* weighted sums, every 97th */
} mm_case;

typedef struct mm_error {
  int ndima;
  int64_t shapea[2];
  int ndimb;
  int64_t shapeb[2];
  const char *message;
} mm_error;

#include "ndmatmul_cases.h"

static int64_t formula_value(int64_t i, int64_t j, int seed) {
  return (i * 7919 + j * 104729 + seed * 31) % 17 - 8;
}

/* Element 'k' of an array of 'dtype' at 'p' as a double (exact for the
 * tests' values) and as raw bits for exact integer comparison. */
static double get_f(int dtype, const char *p) {
  switch (dtype) {
  case BUF_BOOL: case BUF_UINT8: return *(const uint8_t *)p;
  case BUF_INT8: return *(const int8_t *)p;
  case BUF_INT16: return *(const int16_t *)p;
  case BUF_UINT16: return *(const uint16_t *)p;
  case BUF_INT32: return *(const int32_t *)p;
  case BUF_UINT32: return *(const uint32_t *)p;
  case BUF_INT64: return (double)*(const int64_t *)p;
  case BUF_UINT64: return (double)*(const uint64_t *)p;
  case BUF_FLOAT32: return *(const float *)p;
  default: return *(const double *)p;
  }
}

static void set_formula(int dtype, char *p, int64_t v) {
  switch (dtype) {
  case BUF_BOOL: *(uint8_t *)p = v > 0; break;
  case BUF_INT32: *(int32_t *)p = (int32_t)v; break;
  case BUF_INT64: *(int64_t *)p = v; break;
  case BUF_FLOAT32: *(float *)p = (float)v / 2; break;
  case BUF_FLOAT64: *(double *)p = (double)v / 2; break;
  default: abort(); /* not used by the cases */
  }
}

static int make_operand(const mm_operand *o, nd *x) {
  if (nd_alloc(x, o->dtype, o->ndim, o->shape) != 0) return -1;
  size_t e = buf_dtype_size(o->dtype);
  int64_t n = nd_size(x);
  if (o->data) {
    memcpy(x->data, o->data, (size_t)n * e);
  } else {
    int64_t cols = o->ndim == 2 ? o->shape[1] : o->shape[0];
    for (int64_t k = 0; k < n; k++)
      set_formula(o->dtype, x->data + k * (int64_t)e, formula_value(k / cols, k % cols, o->seed));
  }
  for (int s = 0; s < o->nslices; s++)
    nd_slice(x, (int)o->slices[s][0], o->slices[s][1], o->slices[s][2], o->slices[s][3]);
  if (o->transpose) nd_transpose(x, (const int[]){1, 0});
  if (o->nbcast && nd_broadcast_to(x, o->nbcast, o->bcast) != 0) return -1;
  return 0;
}

/* Element (i, j) of a result of ndim 0, 1 or 2. */
static const char *elem(const nd *x, int64_t i, int64_t j) {
  const char *p = x->data;
  if (x->ndim == 2) return p + i * x->strides[0] + j * x->strides[1];
  if (x->ndim == 1) return p + (i + j) * x->strides[0];
  return p;
}

static int64_t rows_of(const nd *x) { return x->ndim == 2 ? x->shape[0] : 1; }
static int64_t cols_of(const nd *x) { return x->ndim == 0 ? 1 : x->shape[x->ndim - 1]; }

/* An accumulator holding 'init' (C order) laid out as 'layout' says. */
static int make_out(const mm_case *c, nd *out) {
  size_t e = buf_dtype_size(c->dtype);
  if (c->layout == 0) {
    if (nd_alloc(out, c->dtype, c->ndim, c->shape) != 0) return -1;
  } else if (c->layout == 1) {
    if (nd_alloc(out, c->dtype, 2, (const int64_t[]){c->shape[1], c->shape[0]}) != 0) return -1;
    nd_transpose(out, (const int[]){1, 0});
  } else {
    if (nd_alloc(out, c->dtype, 2, (const int64_t[]){c->shape[0], 2 * c->shape[1]}) != 0) return -1;
    nd_slice(out, 1, 1, c->shape[1], 2);
  }
  int64_t m = rows_of(out), n = cols_of(out);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      memcpy((char *)elem(out, i, j), (const char *)c->init + (i * n + j) * (int64_t)e, e);
  return 0;
}

static int close_to(double got, double want, int dtype) {
  double tol = dtype == BUF_FLOAT32 ? 1e-5 : 1e-12;
  return fabs(got - want) <= tol * (1 + fabs(want));
}

/* 'got' against the case's answer: exact (integers bit for bit), within a
 * tolerance for random floats, by sums and samples for big results. */
static int check_values(const mm_case *c, const nd *got) {
  size_t e = buf_dtype_size(c->dtype);
  int64_t m = rows_of(got), n = cols_of(got);
  int ok = 1;
  if (m * n == 0) return 1; /* the shape said it all */
  if (c->want) {
    for (int64_t i = 0; i < m; i++)
      for (int64_t j = 0; j < n; j++) {
        const char *g = elem(got, i, j), *w = (const char *)c->want + (i * n + j) * (int64_t)e;
        int same = c->dtype == BUF_FLOAT32 || c->dtype == BUF_FLOAT64
                       ? (c->tol ? close_to(get_f(c->dtype, g), get_f(c->dtype, w), c->dtype)
                                 : get_f(c->dtype, g) == get_f(c->dtype, w))
                       : memcmp(g, w, e) == 0;
        if (!same && ok) {
          printf("  %s: (%lld,%lld) is %.17g, numpy %.17g\n", c->name, (long long)i,
                 (long long)j, get_f(c->dtype, g), get_f(c->dtype, w));
          ok = 0;
        }
      }
    return ok;
  }
  for (int64_t i = 0; i < m; i++) {
    double s = 0;
    for (int64_t j = 0; j < n; j++) s += get_f(c->dtype, elem(got, i, j)) * (double)(j % 7 + 1);
    ok &= s == c->rows[i];
  }
  for (int64_t j = 0; j < n; j++) {
    double s = 0;
    for (int64_t i = 0; i < m; i++) s += get_f(c->dtype, elem(got, i, j)) * (double)(i % 5 + 1);
    ok &= s == c->cols[j];
  }
  for (int64_t k = 0, t = 0; k < m * n; k += 97, t++)
    ok &= get_f(c->dtype, elem(got, k / n, k % n)) ==
          get_f(c->dtype, (const char *)c->sample + t * (int64_t)e);
  if (!ok) printf("  %s: sums or samples differ from numpy's\n", c->name);
  return ok;
}

static void run_case(const mm_case *c) {
  nd a = {0}, b = {0}, out = {0};
  int made = make_operand(&c->a, &a) == 0 && make_operand(&c->b, &b) == 0;
  TEST(c->name, made);
  if (!made) return;
  int dtype, ndim;
  int64_t shape[2];
  TEST(c->name, nd_matmul_result(&a, &b, &dtype, &ndim, shape) == ND_OK && dtype == c->dtype &&
                    ndim == c->ndim && memcmp(shape, c->shape, sizeof *shape * (size_t)ndim) == 0);
  nd_status s;
  if (c->layout < 0) {
    s = nd_matmul(&a, &b, &out, 0);
  } else {
    TEST(c->name, make_out(c, &out) == 0);
    s = nd_matmul(&a, &b, &out, 1);
  }
  TEST(c->name, s == ND_OK);
  if (s == ND_OK) {
    TEST(c->name, out.dtype == c->dtype && out.ndim == c->ndim &&
                      memcmp(out.shape, c->shape, sizeof *c->shape * (size_t)c->ndim) == 0);
    if (c->layout < 0) TEST("a fresh result is C-contiguous", nd_is_contiguous(&out));
    TEST(c->name, check_values(c, &out));
  }
  nd_free(&a);
  nd_free(&b);
  nd_free(&out);
}

static void test_errors(void) {
  char msg[256];
  for (size_t k = 0; k < sizeof mm_errors / sizeof mm_errors[0]; k++) {
    const mm_error *e = &mm_errors[k];
    nd a, b, out;
    nd_zeros(&a, BUF_FLOAT64, e->ndima, e->shapea);
    nd_zeros(&b, BUF_FLOAT64, e->ndimb, e->shapeb);
    TEST("shapes not aligned", nd_matmul(&a, &b, &out, 0) == ND_ESHAPE && out.b == NULL);
    TEST(e->message, strcmp(nd_matmul_message(&a, &b, msg, sizeof msg), e->message) == 0);
    nd_free(&a);
    nd_free(&b);
  }
  nd a, b, out;
  nd_zeros(&a, BUF_FLOAT64, 3, (const int64_t[]){2, 3, 4});
  nd_zeros(&b, BUF_FLOAT64, 1, (const int64_t[]){4});
  TEST("a 3-d operand", nd_matmul(&a, &b, &out, 0) == ND_ESHAPE);
  TEST("its message", strcmp(nd_matmul_message(&a, &b, msg, sizeof msg),
                             "shapes (2,3,4) and (4,): dot takes 1-d and 2-d arrays only") == 0);
  nd_free(&a);
  nd_zeros(&a, BUF_FLOAT64, 0, NULL);
  TEST("a 0-d operand", nd_matmul(&a, &b, &out, 0) == ND_ESHAPE);
  TEST("its message", strcmp(nd_matmul_message(&a, &b, msg, sizeof msg),
                             "shapes () and (4,): dot takes 1-d and 2-d arrays only") == 0);
  nd_free(&a);
  nd_free(&b);

  /* accumulating into the wrong array */
  nd_zeros(&a, BUF_FLOAT64, 2, (const int64_t[]){2, 3});
  nd_zeros(&b, BUF_FLOAT64, 2, (const int64_t[]){3, 4});
  nd_zeros(&out, BUF_FLOAT64, 2, (const int64_t[]){2, 5});
  TEST("an out of another shape", nd_matmul(&a, &b, &out, 1) == ND_ESHAPE);
  nd_free(&out);
  nd_zeros(&out, BUF_FLOAT32, 2, (const int64_t[]){2, 4});
  TEST("an out of another dtype", nd_matmul(&a, &b, &out, 1) == ND_EDTYPE);
  nd_free(&out);
  nd_free(&a);
  nd_free(&b);
}

/* Every allocation failing in turn: ND_ENOMEM, nothing left allocated
 * (ASan's leak check), then the product once they all succeed. */
static void test_nomem(void) {
  nd a, b, out;
  nd_zeros(&a, BUF_INT32, 2, (const int64_t[]){3, 4});
  nd_zeros(&b, BUF_FLOAT32, 2, (const int64_t[]){4, 5});
  int failures = 0, other = 0;
  for (long k = 1;; k++) {
    base_alloc_fail_after(k);
    nd_status s = nd_matmul(&a, &b, &out, 0);
    base_alloc_fail_after(-1);
    if (s == ND_OK) break;
    if (s == ND_ENOMEM && out.b == NULL) failures++;
    else other++;
    if (other || k > 100) break;
  }
  TEST("out of memory at each allocation (the result, two casts, ...)", failures >= 3 && !other);
  TEST("then the product", out.b != NULL && out.dtype == BUF_FLOAT64 && out.shape[1] == 5);
  nd_free(&out);
  nd_free(&a);
  nd_free(&b);
}

static void test_interrupt(void) {
  nd a, b, out;
  nd_zeros(&a, BUF_INT64, 2, (const int64_t[]){50, 60});
  nd_zeros(&b, BUF_INT64, 2, (const int64_t[]){60, 70});
  atomic_store(&rt_interrupt_flag, 1);
  TEST("an integer product interrupted", nd_matmul(&a, &b, &out, 0) == ND_EINTR && out.b == NULL);
  nd_free(&a);
  nd_free(&b);
  nd_zeros(&a, BUF_FLOAT64, 2, (const int64_t[]){50, 60});
  nd_zeros(&b, BUF_FLOAT64, 2, (const int64_t[]){60, 70});
  TEST("a float product interrupted", nd_matmul(&a, &b, &out, 0) == ND_EINTR && out.b == NULL);
  atomic_store(&rt_interrupt_flag, 0);
  TEST("and not", nd_matmul(&a, &b, &out, 0) == ND_OK);
  nd_free(&out);
  nd_free(&a);
  nd_free(&b);
}

static void test_kernel(void) {
  const char *forced = getenv("DUSK_BLAS");
  int user_core = getenv("OPENBLAS_CORETYPE") != NULL;
  int user_threads = getenv("OPENBLAS_NUM_THREADS") != NULL;
  int loaded = blas_load();
  const char *k = blas_kernel();
  printf("blas: %s\n", k);
  if (forced && strcmp(forced, "none") == 0) {
    TEST("DUSK_BLAS=none: the C loops", !loaded);
    TEST("and says so", strcmp(k, "none (DUSK_BLAS=none): plain C loops") == 0);
    return;
  }
  TEST("OpenBLAS loaded (libopenblas0-pthread is installed)", loaded);
  TEST("its version named", strncmp(k, "OpenBLAS 0.", 11) == 0);
  TEST("the environment as it was", user_core || getenv("OPENBLAS_CORETYPE") == NULL);
  TEST("OPENBLAS_NUM_THREADS as it was", user_threads || getenv("OPENBLAS_NUM_THREADS") == NULL);
#if defined(__x86_64__)
  if (!user_core && __builtin_cpu_supports("avx2")) {
    /* "chosen by dusk": OpenBLAS took the name (else it says it detected) */
    TEST("a core type OpenBLAS accepts, chosen by dusk", strstr(k, "(chosen by dusk)") != NULL);
    TEST("not Prescott on an AVX2 machine", strstr(k, "Prescott") == NULL);
  }
#endif
}

int main(void) {
  test_kernel();
  for (size_t k = 0; k < sizeof mm_cases / sizeof mm_cases[0]; k++) run_case(&mm_cases[k]);
  test_errors();
  test_nomem();
  test_interrupt();
  return test_report();
}
