/*
 * nd: views of array buffers.
 *
 * DESIGN: an nd is a plain struct the caller owns (on its stack, inside a
 * userdata); the only resource it holds is one buffer reference.  Views
 * change the struct and never the bytes, so they cannot fail.  What needs
 * new bytes (a fresh array, a contiguous or reshaped copy, a buffer to
 * send) goes through nd_alloc, hence buf_new_array and base/alloc.h, and
 * copies through nd_copy (ndops.c), whose iterator runs contiguous data
 * as one long loop.
 */
#include <assert.h>
#include <string.h>

#include "array/nd.h"
#include "array/ndops.h"

static const nd empty;

static void set_c_strides(nd *a) {
  int64_t step = (int64_t)buf_dtype_size(a->dtype);
  for (int k = a->ndim - 1; k >= 0; k--) {
    a->strides[k] = step;
    step *= a->shape[k];
  }
}

int nd_alloc(nd *a, int dtype, int ndim, const int64_t *shape) {
  buf_array meta = {.dtype = dtype, .ndim = ndim};
  if (ndim < 0 || ndim > ND_MAXDIM) {
    *a = empty;
    return -1;
  }
  for (int k = 0; k < ndim; k++) meta.shape[k] = shape[k];
  buf *b = buf_new_array(&meta);
  if (b == NULL) {
    *a = empty;
    return -1;
  }
  a->b = b;
  a->data = buf_wdata(b);
  a->dtype = dtype;
  a->ndim = ndim;
  memcpy(a->shape, meta.shape, sizeof *a->shape * (size_t)ndim);
  set_c_strides(a);
  return 0;
}

int nd_zeros(nd *a, int dtype, int ndim, const int64_t *shape) {
  if (nd_alloc(a, dtype, ndim, shape) != 0) return -1;
  memset(a->data, 0, buf_size(a->b));
  return 0;
}

int nd_wrap(nd *a, buf *b) {
  buf_array meta;
  if (buf_array_of(b, &meta) != 0) {
    buf_decref(b);
    *a = empty;
    return -1;
  }
  a->b = b;
  a->data = (char *)buf_data(b); /* written only by its maker (nd.h) */
  a->dtype = meta.dtype;
  a->ndim = meta.ndim;
  memcpy(a->shape, meta.shape, sizeof *a->shape * (size_t)meta.ndim);
  set_c_strides(a);
  return 0;
}

void nd_free(nd *a) {
  if (a->b) buf_decref(a->b);
  a->b = NULL;
  a->data = NULL;
}

void nd_ref(nd *dst, const nd *src) {
  if (dst != src) *dst = *src;
  if (dst->b) buf_incref(dst->b);
}

int64_t nd_size(const nd *a) {
  int64_t n = 1;
  for (int k = 0; k < a->ndim; k++) n *= a->shape[k];
  return n;
}

size_t nd_itemsize(const nd *a) { return buf_dtype_size(a->dtype); }

/* Axes of length 1 may have any stride, and an empty array is contiguous,
 * as numpy's flags say. */
int nd_is_contiguous(const nd *a) {
  for (int k = 0; k < a->ndim; k++)
    if (a->shape[k] == 0) return 1;
  int64_t want = (int64_t)nd_itemsize(a);
  for (int k = a->ndim - 1; k >= 0; k--) {
    if (a->shape[k] == 1) continue;
    if (a->strides[k] != want) return 0;
    want *= a->shape[k];
  }
  return 1;
}

const char *nd_at(const nd *a, const int64_t *index) {
  const char *p = a->data;
  for (int k = 0; k < a->ndim; k++) p += index[k] * a->strides[k];
  return p;
}

int nd_contiguous(const nd *a, int dtype, nd *out) {
  if (a->dtype == dtype && nd_is_contiguous(a)) {
    nd_ref(out, a);
    return 0;
  }
  nd fresh;
  if (nd_alloc(&fresh, dtype, a->ndim, a->shape) != 0) {
    *out = empty;
    return -1;
  }
  nd_copy(a, &fresh);
  *out = fresh;
  return 0;
}

/* The buffer's own bytes are 'a' exactly when 'a' starts at them, is
 * C-contiguous, and has the buffer's shape (a reshaped view of a whole
 * buffer still needs a buffer saying its shape). */
static int spans_buffer(const nd *a) {
  buf_array meta;
  if (a->data != (const char *)buf_data(a->b) || !nd_is_contiguous(a)) return 0;
  if (buf_array_of(a->b, &meta) != 0 || meta.ndim != a->ndim) return 0;
  return memcmp(meta.shape, a->shape, sizeof *a->shape * (size_t)a->ndim) == 0;
}

buf *nd_tobuf(const nd *a) {
  if (spans_buffer(a)) {
    buf_incref(a->b);
    return a->b;
  }
  nd copy;
  if (nd_alloc(&copy, a->dtype, a->ndim, a->shape) != 0) return NULL;
  nd_copy(a, &copy);
  return copy.b;
}

void nd_transpose(nd *a, const int *perm) {
  int64_t shape[ND_MAXDIM], strides[ND_MAXDIM];
  for (int k = 0; k < a->ndim; k++) {
    shape[k] = a->shape[perm[k]];
    strides[k] = a->strides[perm[k]];
  }
  memcpy(a->shape, shape, sizeof *shape * (size_t)a->ndim);
  memcpy(a->strides, strides, sizeof *strides * (size_t)a->ndim);
}

/* An empty slice keeps the data pointer: 'start' may then be one past the
 * end, and the view must not point outside its buffer. */
void nd_slice(nd *a, int axis, int64_t start, int64_t n, int64_t step) {
  if (n > 0) a->data += start * a->strides[axis];
  a->shape[axis] = n;
  a->strides[axis] *= step;
}

void nd_index(nd *a, int axis, int64_t i) {
  a->data += i * a->strides[axis];
  for (int k = axis; k + 1 < a->ndim; k++) {
    a->shape[k] = a->shape[k + 1];
    a->strides[k] = a->strides[k + 1];
  }
  a->ndim--;
}

int nd_broadcast_to(nd *a, int ndim, const int64_t *shape) {
  int64_t strides[ND_MAXDIM];
  int lead = ndim - a->ndim;
  if (lead < 0 || ndim > ND_MAXDIM) return -1;
  for (int k = 0; k < ndim; k++) {
    int j = k - lead;
    if (j < 0 || (a->shape[j] == 1 && shape[k] != 1)) strides[k] = 0;
    else if (a->shape[j] == shape[k]) strides[k] = a->strides[j];
    else return -1;
  }
  a->ndim = ndim;
  for (int k = 0; k < ndim; k++) {
    a->shape[k] = shape[k];
    a->strides[k] = strides[k];
  }
  return 0;
}

int nd_broadcast_shape(int ndima, const int64_t *shapea, int ndimb, const int64_t *shapeb,
                       int *ndim, int64_t *shape) {
  int n = ndima > ndimb ? ndima : ndimb;
  for (int k = 0; k < n; k++) {
    int ia = k - (n - ndima), ib = k - (n - ndimb);
    int64_t ea = ia < 0 ? 1 : shapea[ia], eb = ib < 0 ? 1 : shapeb[ib];
    if (ea != eb && ea != 1 && eb != 1) return -1;
    shape[k] = ea == 1 ? eb : ea;
  }
  *ndim = n;
  return 0;
}

/* numpy's _attempt_nocopy_reshape: walk old and new axes in groups of
 * equal products; a group of old axes that is contiguous in C order maps
 * onto its new axes.  Returns 0 with 'strides' set, or -1 when the data
 * does not allow a view. */
static int view_strides(const nd *a, int ndim, const int64_t *shape, int64_t *strides) {
  int64_t oshape[ND_MAXDIM], ostrides[ND_MAXDIM];
  int ond = 0;
  for (int k = 0; k < a->ndim; k++)
    if (a->shape[k] != 1) {
      oshape[ond] = a->shape[k];
      ostrides[ond++] = a->strides[k];
    }
  int oi = 0, oj = 1, ni = 0, nj = 1;
  while (ni < ndim && oi < ond) {
    int64_t np = shape[ni], op = oshape[oi];
    while (np != op) {
      if (np < op) np *= shape[nj++];
      else op *= oshape[oj++];
    }
    for (int k = oi; k < oj - 1; k++)
      if (ostrides[k] != oshape[k + 1] * ostrides[k + 1]) return -1;
    strides[nj - 1] = ostrides[oj - 1];
    for (int k = nj - 1; k > ni; k--) strides[k - 1] = strides[k] * shape[k];
    ni = nj++;
    oi = oj++;
  }
  int64_t last = ni >= 1 ? strides[ni - 1] : (int64_t)nd_itemsize(a);
  for (int k = ni; k < ndim; k++) strides[k] = last;
  return 0;
}

int nd_reshape(const nd *a, int ndim, const int64_t *shape, nd *out) {
  int64_t strides[ND_MAXDIM];
  nd r;
  int64_t n = 1;
  for (int k = 0; k < ndim; k++) n *= shape[k];
  assert(n == nd_size(a));
  int view = n != 0 && view_strides(a, ndim, shape, strides) == 0;
  if (view || n == 0) {
    nd_ref(&r, a);
  } else if (nd_contiguous(a, a->dtype, &r) != 0) {
    *out = empty;
    return -1;
  }
  r.ndim = ndim;
  for (int k = 0; k < ndim; k++) r.shape[k] = shape[k];
  if (view) memcpy(r.strides, strides, sizeof *strides * (size_t)ndim);
  else set_c_strides(&r);
  *out = r;
  return 0;
}
