/* Unit tests of src/array/nd.c: fresh arrays, views (slices with negative
 * steps, transposes, broadcasts, indexing), reshape as a view or a copy,
 * contiguous copies, buffers to send, references released, and every
 * allocation failure in turn.  Expected layouts are numpy's (its strides
 * and its answer to "is this a view"). */
#include <stdint.h>
#include <string.h>

#include "array/nd.h"
#include "array/ndops.h"
#include "base/alloc.h"
#include "testhelp.h"

/* A fresh int64 array of 'shape' holding 0, 1, 2, ... in C order. */
static int arange(nd *a, int ndim, const int64_t *shape) {
  if (nd_alloc(a, BUF_INT64, ndim, shape) != 0) return -1;
  int64_t *p = (int64_t *)a->data;
  for (int64_t i = 0; i < nd_size(a); i++) p[i] = i;
  return 0;
}

static int64_t get2(const nd *a, int64_t i, int64_t j) {
  int64_t idx[2] = {i, j};
  return *(const int64_t *)nd_at(a, idx);
}

static int64_t get1(const nd *a, int64_t i) { return *(const int64_t *)nd_at(a, &i); }

static int strides_are(const nd *a, int64_t s0, int64_t s1) {
  return a->strides[0] == s0 && (a->ndim < 2 || a->strides[1] == s1);
}

static void test_alloc(void) {
  nd a;
  int64_t shape[3] = {2, 3, 4};
  TEST("alloc", nd_alloc(&a, BUF_FLOAT32, 3, shape) == 0);
  TEST("C strides", a.strides[0] == 48 && a.strides[1] == 16 && a.strides[2] == 4);
  TEST("size and item", nd_size(&a) == 24 && nd_itemsize(&a) == 4);
  TEST("data is the buffer's, 64-aligned",
       a.data == (const char *)buf_data(a.b) && ((uintptr_t)a.data & 63) == 0);
  TEST("one reference", buf_refcount(a.b) == 1);
  TEST("contiguous", nd_is_contiguous(&a));
  nd_free(&a);
  TEST("empty after free", a.b == NULL && a.data == NULL);
  nd_free(&a); /* twice is safe */

  TEST("zeros", nd_zeros(&a, BUF_FLOAT64, 3, shape) == 0);
  int allzero = 1;
  for (int i = 0; i < 24; i++) allzero &= ((double *)a.data)[i] == 0.0;
  TEST("zeros are zero", allzero);
  nd_free(&a);

  TEST("0-d has one element", nd_alloc(&a, BUF_INT32, 0, NULL) == 0 && nd_size(&a) == 1 &&
                                  buf_size(a.b) == 4 && nd_is_contiguous(&a));
  nd_free(&a);
  int64_t zero[2] = {3, 0};
  TEST("an empty array", nd_alloc(&a, BUF_INT64, 2, zero) == 0 && nd_size(&a) == 0 &&
                             nd_is_contiguous(&a));
  nd_free(&a);

  int64_t huge[2] = {(int64_t)1 << 30, (int64_t)1 << 20};
  TEST("over BUF_MAXSIZE refused", nd_alloc(&a, BUF_INT8, 2, huge) == -1 && a.b == NULL);
  int64_t neg[1] = {-1};
  TEST("negative extent refused", nd_alloc(&a, BUF_INT8, 1, neg) == -1 && a.b == NULL);
  TEST("no string arrays", nd_alloc(&a, BUF_STRING, 1, shape) == -1 && a.b == NULL);
  TEST("ndim over ND_MAXDIM refused", nd_alloc(&a, BUF_INT8, ND_MAXDIM + 1, shape) == -1);
}

static void test_wrap(void) {
  nd a, w;
  int64_t shape[2] = {2, 5};
  arange(&a, 2, shape);
  buf_incref(a.b);
  TEST("wrap an array buffer", nd_wrap(&w, a.b) == 0);
  TEST("its layout", w.dtype == BUF_INT64 && w.ndim == 2 && w.shape[1] == 5 &&
                         strides_are(&w, 40, 8) && get2(&w, 1, 2) == 7);
  TEST("took the reference", buf_refcount(a.b) == 2);
  nd_free(&w);
  buf *bytes = buf_new(BUF_BYTES, NULL, 0, 8);
  buf_incref(bytes);
  TEST("bytes are no array", nd_wrap(&w, bytes) == -1 && w.b == NULL);
  TEST("the reference dropped", buf_refcount(bytes) == 1);
  buf_decref(bytes);
  nd r;
  nd_ref(&r, &a);
  TEST("nd_ref adds one", r.b == a.b && buf_refcount(a.b) == 2);
  nd_free(&r);
  TEST("and frees one", buf_refcount(a.b) == 1);
  nd_free(&a);
}

static void test_views(void) {
  nd a, v;
  int64_t n10 = 10;
  arange(&a, 1, &n10);
  /* a[8:0:-2] -> 8 6 4 2, stride -16 */
  nd_ref(&v, &a);
  nd_slice(&v, 0, 8, 4, -2);
  TEST("negative step slice", v.shape[0] == 4 && v.strides[0] == -16 && get1(&v, 0) == 8 &&
                                  get1(&v, 3) == 2);
  TEST("not contiguous", !nd_is_contiguous(&v));
  nd_slice(&v, 0, 3, 2, -1); /* then [3::-1][:2] -> 2 4 */
  TEST("a slice of a slice", v.shape[0] == 2 && get1(&v, 0) == 2 && get1(&v, 1) == 4 &&
                                 v.strides[0] == 16);
  nd_free(&v);
  nd_ref(&v, &a);
  nd_slice(&v, 0, 10, 0, 1);
  TEST("empty slice keeps its pointer", v.shape[0] == 0 && v.data == a.data);
  nd_free(&v);
  nd_free(&a);

  int64_t s34[2] = {3, 4};
  arange(&a, 2, s34);
  nd_ref(&v, &a);
  int perm[2] = {1, 0};
  nd_transpose(&v, perm);
  TEST("transpose", v.shape[0] == 4 && v.shape[1] == 3 && strides_are(&v, 8, 32) &&
                        get2(&v, 3, 1) == 7 && !nd_is_contiguous(&v));
  nd_index(&v, 1, 2); /* a.T[:, 2] = a[2, :] */
  TEST("index drops the axis", v.ndim == 1 && v.shape[0] == 4 && v.strides[0] == 8 &&
                                   get1(&v, 0) == 8 && get1(&v, 3) == 11);
  TEST("a row is contiguous", nd_is_contiguous(&v));
  nd_free(&v);

  /* a[:, ::-1][1:, 1:3] and a column of length 1 */
  nd_ref(&v, &a);
  nd_slice(&v, 1, 3, 4, -1);
  nd_slice(&v, 0, 1, 2, 1);
  nd_slice(&v, 1, 1, 2, 1);
  TEST("2-d negative slice", v.shape[0] == 2 && v.shape[1] == 2 && strides_are(&v, 32, -8) &&
                                 get2(&v, 0, 0) == 6 && get2(&v, 1, 1) == 9);
  nd_free(&v);
  nd_ref(&v, &a);
  nd_slice(&v, 1, 2, 1, 1);
  nd_slice(&v, 0, 1, 1, 1);
  TEST("a 1x1 view counts as contiguous", nd_is_contiguous(&v) && get2(&v, 0, 0) == 6);
  nd_free(&v);
  TEST("views released", buf_refcount(a.b) == 1);
  nd_free(&a);
}

static void test_broadcast(void) {
  nd a, v;
  int64_t s31[2] = {3, 1};
  arange(&a, 2, s31);
  nd_ref(&v, &a);
  int64_t to[3] = {2, 3, 4};
  TEST("broadcast (3,1) to (2,3,4)", nd_broadcast_to(&v, 3, to) == 0);
  int64_t idx[3] = {1, 2, 3};
  TEST("its strides", v.ndim == 3 && v.strides[0] == 0 && v.strides[1] == 8 &&
                          v.strides[2] == 0 && *(const int64_t *)nd_at(&v, idx) == 2);
  int64_t bad[2] = {3, 5};
  nd_free(&v);
  nd_ref(&v, &a);
  int64_t bad2[2] = {2, 4};
  TEST("(3,1) to (2,4) refused", nd_broadcast_to(&v, 2, bad2) == -1 && v.ndim == 2 &&
                                     v.shape[0] == 3 && v.strides[0] == 8);
  int64_t fewer[1] = {3};
  TEST("to fewer axes refused", nd_broadcast_to(&v, 1, fewer) == -1);
  int64_t zero[2] = {3, 0};
  TEST("an axis of 1 to 0", nd_broadcast_to(&v, 2, zero) == 0 && v.shape[1] == 0);
  nd_free(&v);
  nd_free(&a);

  int ndim;
  int64_t out[ND_MAXDIM];
  int64_t b4[1] = {4}, s23[2] = {2, 3}, s32[2] = {3, 2}, s01[2] = {0, 1}, b5[1] = {5};
  TEST("(3,1) with (4)", nd_broadcast_shape(2, s31, 1, b4, &ndim, out) == 0 && ndim == 2 &&
                             out[0] == 3 && out[1] == 4);
  TEST("(2,3) with (3,2) refused", nd_broadcast_shape(2, s23, 2, s32, &ndim, out) == -1);
  TEST("(0,1) with (5)", nd_broadcast_shape(2, s01, 1, b5, &ndim, out) == 0 && out[0] == 0 &&
                             out[1] == 5);
  TEST("with a 0-d", nd_broadcast_shape(0, NULL, 2, bad, &ndim, out) == 0 && ndim == 2 &&
                         out[0] == 3 && out[1] == 5);
}

static void test_reshape(void) {
  nd a, t, r;
  int64_t s34[2] = {3, 4}, s26[2] = {2, 6}, n12 = 12;
  arange(&a, 2, s34);
  TEST("contiguous reshape", nd_reshape(&a, 2, s26, &r) == 0);
  TEST("is a view", r.b == a.b && r.data == a.data && strides_are(&r, 48, 8) &&
                        get2(&r, 1, 0) == 6 && buf_refcount(a.b) == 2);
  nd_free(&r);

  nd_ref(&t, &a);
  int perm[2] = {1, 0};
  nd_transpose(&t, perm);
  TEST("transposed reshape", nd_reshape(&t, 1, &n12, &r) == 0);
  TEST("is a copy in C order", r.b != a.b && r.strides[0] == 8 && get1(&r, 0) == 0 &&
                                   get1(&r, 1) == 4 && get1(&r, 2) == 8 && get1(&r, 3) == 1 &&
                                   get1(&r, 11) == 11 && buf_refcount(r.b) == 1);
  nd_free(&r);
  int64_t s431[3] = {4, 3, 1}, s143[3] = {1, 4, 3};
  TEST("adding unit axes to a transpose", nd_reshape(&t, 3, s431, &r) == 0 && r.b == a.b &&
                                              r.strides[0] == 8 && r.strides[1] == 32);
  nd_free(&r);
  TEST("leading unit axis", nd_reshape(&t, 3, s143, &r) == 0 && r.b == a.b &&
                                r.strides[1] == 8 && r.strides[2] == 32);
  nd_free(&r);
  nd_free(&t);

  /* a[::-1].reshape(2, 5): numpy gives a view with strides (-40, -8) */
  nd b;
  int64_t n10 = 10, s25[2] = {2, 5};
  arange(&b, 1, &n10);
  nd_slice(&b, 0, 9, 10, -1);
  TEST("reversed reshape", nd_reshape(&b, 2, s25, &r) == 0 && r.b == b.b &&
                               strides_are(&r, -40, -8) && get2(&r, 1, 0) == 4);
  nd_free(&r);
  /* a[::2] of 10 -> 5, then (5,) -> (5, 1): a view; a[::2].reshape(1, 5) too */
  nd_slice(&b, 0, 0, 5, 2);
  int64_t s51[2] = {5, 1};
  TEST("strided to (5,1) is a view", nd_reshape(&b, 2, s51, &r) == 0 && r.b == b.b &&
                                         r.strides[0] == -16 && get2(&r, 4, 0) == 1);
  nd_free(&r);
  nd_free(&b);

  /* a[:, :2] of (3,4) -> (6,): a copy */
  nd_ref(&t, &a);
  nd_slice(&t, 1, 0, 2, 1);
  int64_t n6 = 6;
  TEST("gappy reshape copies", nd_reshape(&t, 1, &n6, &r) == 0 && r.b != a.b &&
                                   get1(&r, 2) == 4 && get1(&r, 5) == 9);
  nd_free(&r);
  nd_free(&t);

  int64_t s0[2] = {0, 3}, s30[2] = {3, 0};
  nd e;
  nd_alloc(&e, BUF_INT64, 2, s0);
  TEST("empty reshape", nd_reshape(&e, 2, s30, &r) == 0 && r.shape[0] == 3 && r.shape[1] == 0 &&
                            r.b == e.b);
  nd_free(&r);
  nd_free(&e);
  nd z;
  int64_t s11[2] = {1, 1};
  nd_alloc(&z, BUF_INT64, 0, NULL);
  *(int64_t *)z.data = 42;
  TEST("0-d to (1,1)", nd_reshape(&z, 2, s11, &r) == 0 && r.b == z.b && get2(&r, 0, 0) == 42);
  nd_free(&z);
  TEST("(1,1) to 0-d", nd_reshape(&r, 0, NULL, &z) == 0 && z.ndim == 0 &&
                           *(const int64_t *)nd_at(&z, NULL) == 42);
  nd_free(&r);
  nd_free(&z);
  TEST("all released", buf_refcount(a.b) == 1);
  nd_free(&a);
}

static void test_contiguous_tobuf(void) {
  nd a, t, c;
  int64_t s34[2] = {3, 4};
  arange(&a, 2, s34);
  TEST("already contiguous: a reference", nd_contiguous(&a, BUF_INT64, &c) == 0 && c.b == a.b &&
                                              buf_refcount(a.b) == 2);
  nd_free(&c);
  TEST("astype float64", nd_contiguous(&a, BUF_FLOAT64, &c) == 0 && c.b != a.b &&
                             c.dtype == BUF_FLOAT64 && ((double *)c.data)[11] == 11.0);
  nd_free(&c);
  nd_ref(&t, &a);
  int perm[2] = {1, 0};
  nd_transpose(&t, perm);
  TEST("transposed: a copy", nd_contiguous(&t, BUF_INT64, &c) == 0 && c.b != a.b &&
                                 nd_is_contiguous(&c) && get2(&c, 3, 2) == 11 &&
                                 get2(&c, 0, 1) == 4);
  nd_free(&c);

  buf *b = nd_tobuf(&a);
  TEST("a whole buffer is sent as itself", b == a.b && buf_refcount(b) == 3);
  buf_decref(b);
  b = nd_tobuf(&t);
  buf_array meta;
  TEST("a transpose is copied", b != a.b && buf_array_of(b, &meta) == 0 && meta.ndim == 2 &&
                                    meta.shape[0] == 4 && meta.shape[1] == 3 &&
                                    ((const int64_t *)buf_data(b))[1] == 4);
  buf_decref(b);
  nd_free(&t);
  nd_ref(&t, &a);
  nd_slice(&t, 0, 1, 2, 1);
  b = nd_tobuf(&t);
  TEST("a row slice (contiguous, not the whole) is copied",
       b != a.b && buf_size(b) == 64 && ((const int64_t *)buf_data(b))[0] == 4);
  buf_decref(b);
  nd_free(&t);
  int64_t s26[2] = {2, 6};
  nd_reshape(&a, 2, s26, &t);
  b = nd_tobuf(&t);
  TEST("a reshaped view is copied with its shape",
       b != a.b && buf_array_of(b, &meta) == 0 && meta.shape[0] == 2 && meta.shape[1] == 6);
  buf_decref(b);
  nd_free(&t);
  TEST("all released", buf_refcount(a.b) == 1);
  nd_free(&a);

  nd z;
  nd_alloc(&z, BUF_FLOAT64, 0, NULL);
  *(double *)z.data = 2.5;
  b = nd_tobuf(&z);
  TEST("0-d sent as itself", b == z.b);
  buf_decref(b);
  nd_free(&z);
}

/* Every allocation of nd_alloc, nd_contiguous and a copying nd_reshape
 * fails in turn: each then says so and leaves its output empty (ASan
 * finds what leaks). */
static void test_alloc_failures(void) {
  nd a, t, c;
  int64_t s34[2] = {3, 4}, n12 = 12;
  int ok = 1, reached = 0;
  for (long k = 1; k < 20 && !reached; k++) {
    base_alloc_fail_after(k);
    int rc = arange(&a, 2, s34);
    if (rc != 0) {
      ok &= a.b == NULL;
      continue;
    }
    nd_ref(&t, &a);
    int perm[2] = {1, 0};
    nd_transpose(&t, perm);
    if (nd_contiguous(&t, BUF_FLOAT32, &c) != 0) {
      ok &= c.b == NULL && buf_refcount(a.b) == 2;
    } else {
      nd_free(&c);
      nd r;
      if (nd_reshape(&t, 1, &n12, &r) != 0) ok &= r.b == NULL && buf_refcount(a.b) == 2;
      else {
        reached = get1(&r, 1) == 4;
        nd_free(&r);
      }
    }
    nd_free(&t);
    nd_free(&a);
  }
  base_alloc_fail_after(-1);
  TEST("every failure reported, nothing kept", ok);
  TEST("the loop reached success", reached);
}

int main(void) {
  test_alloc();
  test_wrap();
  test_views();
  test_broadcast();
  test_reshape();
  test_contiguous_tobuf();
  test_alloc_failures();
  return test_report();
}
