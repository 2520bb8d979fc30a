/*
 * abox: element boxes of the array formats (see abox.h).
 *
 * The copy walks the outer axes with an odometer and moves the innermost
 * axis as one memcpy when both sides are contiguous along it, else
 * element by element (a Fortran-order transpose, a byte order change
 * done after).  Only little-endian machines are supported: the formats'
 * '<' is native.
 */
#include "array/abox.h"

#include <stdio.h>
#include <string.h>

#include "array/afile.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "dusk's array formats assume a little-endian machine"
#endif

static const struct {
  char kind;
  int size, dtype;
} kinds[] = {
  {'f', 8, BUF_FLOAT64}, {'f', 4, BUF_FLOAT32}, {'i', 8, BUF_INT64}, {'i', 4, BUF_INT32},
  {'i', 2, BUF_INT16}, {'i', 1, BUF_INT8}, {'u', 8, BUF_UINT64}, {'u', 4, BUF_UINT32},
  {'u', 2, BUF_UINT16}, {'u', 1, BUF_UINT8}, {'b', 1, BUF_BOOL},
};

int abox_dtype_parse(const char *s, size_t n, int *dtype, int *swap) {
  if (n != 3 || (s[0] != '<' && s[0] != '>' && s[0] != '|' && s[0] != '=') || s[2] < '1' || s[2] > '8')
    return -1;
  for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
    if (kinds[k].kind != s[1] || kinds[k].size != s[2] - '0') continue;
    /* '|' means "no byte order": only for one-byte types, as numpy */
    if (s[0] == '|' && kinds[k].size != 1) return -1;
    *dtype = kinds[k].dtype;
    *swap = s[0] == '>' && kinds[k].size > 1;
    return 0;
  }
  return -1;
}

const char *abox_dtype_str(int dtype) {
  switch (dtype) {
  case BUF_BOOL: return "|b1";
  case BUF_INT8: return "|i1";
  case BUF_UINT8: return "|u1";
  case BUF_INT16: return "<i2";
  case BUF_UINT16: return "<u2";
  case BUF_INT32: return "<i4";
  case BUF_UINT32: return "<u4";
  case BUF_INT64: return "<i8";
  case BUF_UINT64: return "<u8";
  case BUF_FLOAT32: return "<f4";
  case BUF_FLOAT64: return "<f8";
  }
  return NULL;
}

void abox_cstrides(int ndim, const int64_t *shape, int64_t elsize, int64_t *strides) {
  int64_t s = elsize;
  for (int d = ndim - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d] > 0 ? shape[d] : 1;
  }
}

void abox_fstrides(int ndim, const int64_t *shape, int64_t elsize, int64_t *strides) {
  int64_t s = elsize;
  for (int d = 0; d < ndim; d++) {
    strides[d] = s;
    s *= shape[d] > 0 ? shape[d] : 1;
  }
}

int abox_count(int ndim, const int64_t *shape, int64_t elsize, int64_t *n) {
  int64_t c = 1, zero = 0;
  for (int d = 0; d < ndim; d++) {
    if (shape[d] < 0) return -1;
    if (shape[d] == 0) zero = 1;
    else if (c > (int64_t)(BUF_MAXSIZE / (uint64_t)elsize) / shape[d]) return -1;
    else c *= shape[d];
  }
  *n = zero ? 0 : c;
  return 0;
}

void abox_copy(char *dst, const int64_t *dst_st, const char *src, const int64_t *sst,
               int ndim, const int64_t *shape, size_t elsize) {
  for (int d = 0; d < ndim; d++)
    if (shape[d] == 0) return;
  if (ndim == 0) {
    memcpy(dst, src, elsize);
    return;
  }
  int64_t idx[BUF_MAXDIM] = {0};
  int last = ndim - 1;
  int64_t n = shape[last], ds = dst_st[last], ss = sst[last];
  int run = ds == (int64_t)elsize && ss == (int64_t)elsize;
  for (;;) {
    if (run) memcpy(dst, src, (size_t)n * elsize);
    else
      for (int64_t i = 0; i < n; i++) memcpy(dst + i * ds, src + i * ss, elsize);
    int d = last - 1;
    for (; d >= 0; d--) {
      dst += dst_st[d], src += sst[d];
      if (++idx[d] < shape[d]) break;
      dst -= dst_st[d] * shape[d], src -= sst[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

void abox_fill(char *dst, const int64_t *st, int ndim, const int64_t *shape, const void *v,
               size_t elsize) {
  int64_t zero[BUF_MAXDIM] = {0};
  abox_copy(dst, st, v, zero, ndim, shape, elsize);
}

void abox_swap(void *p, size_t n, size_t elsize) {
  unsigned char *c = p;
  for (size_t i = 0; i < n; i++, c += elsize)
    for (size_t a = 0, b = elsize - 1; a < b; a++, b--) {
      unsigned char t = c[a];
      c[a] = c[b];
      c[b] = t;
    }
}

int abox_check_region(int ndim, const int64_t *shape, const int64_t *start, const int64_t *count,
                      const char *path, char *err) {
  for (int d = 0; d < ndim; d++)
    if (start[d] < 0 || count[d] < 0 || start[d] > shape[d] || count[d] > shape[d] - start[d])
      return afile_err(err, path, "region [%lld, %lld) out of range on axis %d (length %lld)",
                       (long long)start[d], (long long)start[d] + (long long)count[d], d,
                       (long long)shape[d]);
  return 0;
}

int abox_new(int dtype, int ndim, const int64_t *shape, buf **out, const char *path, char *err) {
  buf_array a = {.dtype = dtype, .ndim = ndim};
  int64_t n;
  if (abox_count(ndim, shape, (int64_t)buf_dtype_size(dtype), &n) != 0)
    return *out = NULL, afile_err(err, path, "array too large");
  memcpy(a.shape, shape, (size_t)ndim * sizeof *shape);
  if ((*out = buf_new_array(&a)) == NULL) return afile_err(err, path, "not enough memory");
  return 0;
}
