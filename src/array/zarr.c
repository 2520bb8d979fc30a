/*
 * zarr: Zarr v2 stores by region (see zarr.h).
 *
 * DESIGN
 *
 * .zarray is read with dusk's JSON reader (json/jsondoc.h): the text is
 * validated whole, then its members listed; nested arrays and objects
 * are views of their own.  Unknown keys are ignored, as zarr-python
 * does; the required ones must be there with the right types, and any
 * compressor, filter or dtype dusk cannot decode is an error naming it.
 *
 * A region read visits the chunks it overlaps in C order: each chunk
 * file is decompressed into one full-size chunk buffer (reused), the
 * filters undone, the bytes put in native order, then the overlap copied
 * out with the chunk's strides (Fortran order is only other strides); a
 * missing file fills the overlap with the fill value.  A write takes a
 * region of whole chunks: each chunk is padded to full size with the fill
 * value at the array's edges, as zarr-python stores them, shuffled when
 * asked, compressed and written as its own file.
 */
#include "array/zarr.h"

#include <blosc.h>
#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: memory from base/alloc.h */
#include <zstd.h>

#include "array/abox.h"
#include "array/ajson.h"
#include "array/afile.h"
#include "base/alloc.h"

/* --- metadata --- */

static int compressor(ajson *r, const jsondoc_member *c, zarr_meta *m) {
  m->compressor = ZARR_NONE;
  if (c->v.type == JSONDOC_NULL) return 0;
  if (c->v.type != JSONDOC_OBJECT) return afile_err(r->err, r->path, "'compressor' is not an object or null");
  jsondoc_list *l;
  if (ajson_list(r, &c->v, &l) != 0) return AFILE_ERR;
  const jsondoc_member *id = ajson_find(l, "id"), *level = ajson_find(l, "level");
  int rc = 0;
  if (id == NULL || id->v.type != JSONDOC_STRING) rc = afile_err(r->err, r->path, "the compressor has no 'id'");
  else if (ajson_is(id, "zstd")) {
    m->compressor = ZARR_ZSTD;
    m->level = level && level->v.type == JSONDOC_INT && level->v.i >= -22 && level->v.i <= 22 ? (int)level->v.i : 1;
  } else if (ajson_is(id, "blosc")) m->compressor = ZARR_BLOSC;
  else
    rc = afile_err(r->err, r->path, "unsupported compressor '%.*s' (dusk reads zstd and blosc)",
                   (int)(id->v.n > 40 ? 40 : id->v.n), id->v.s);
  base_free(l);
  return rc;
}

static int filters(ajson *r, const jsondoc_member *f, zarr_meta *m) {
  m->shuffle = 0;
  if (f == NULL || f->v.type == JSONDOC_NULL) return 0;
  if (f->v.type != JSONDOC_ARRAY) return afile_err(r->err, r->path, "'filters' is not an array or null");
  jsondoc_list *l, *g = NULL;
  if (ajson_list(r, &f->v, &l) != 0) return AFILE_ERR;
  int rc = 0;
  if (l->n > 1) rc = afile_err(r->err, r->path, "more than one filter (dusk reads one 'shuffle')");
  else if (l->n == 1) {
    if (l->m[0].v.type != JSONDOC_OBJECT) rc = afile_err(r->err, r->path, "a filter is not an object");
    else if ((rc = ajson_list(r, &l->m[0].v, &g)) == 0) {
      const jsondoc_member *id = ajson_find(g, "id"), *es = ajson_find(g, "elementsize");
      if (id == NULL || !ajson_is(id, "shuffle"))
        rc = afile_err(r->err, r->path, "unsupported filter '%.*s' (dusk reads 'shuffle')",
                       id && id->v.type == JSONDOC_STRING ? (int)(id->v.n > 40 ? 40 : id->v.n) : 1,
                       id && id->v.type == JSONDOC_STRING ? id->v.s : "?");
      else if (es == NULL || es->v.type != JSONDOC_INT || es->v.i < 1 || es->v.i > 64)
        rc = afile_err(r->err, r->path, "the shuffle filter has no valid 'elementsize'");
      else m->shuffle = (int)es->v.i;
      base_free(g);
    }
  }
  base_free(l);
  return rc;
}

static void put(zarr_meta *m, double d, int64_t i, uint64_t u, int sign) {
  unsigned char *p = m->fill;
  switch (m->dtype) {
  case BUF_FLOAT64: memcpy(p, &d, 8); break;
  case BUF_FLOAT32: { float f = (float)d; memcpy(p, &f, 4); break; }
  case BUF_BOOL: case BUF_UINT8: case BUF_INT8: p[0] = (unsigned char)(sign ? (uint64_t)i : u); break;
  case BUF_INT16: case BUF_UINT16: { uint16_t v = (uint16_t)(sign ? (uint64_t)i : u); memcpy(p, &v, 2); break; }
  case BUF_INT32: case BUF_UINT32: { uint32_t v = (uint32_t)(sign ? (uint64_t)i : u); memcpy(p, &v, 4); break; }
  default: { uint64_t v = sign ? (uint64_t)i : u; memcpy(p, &v, 8); break; }
  }
}

/* The fill value of 'dtype' (set before), checked against its range. */
static int fill(ajson *r, const jsondoc_member *f, zarr_meta *m) {
  static const int64_t lo[] = {[BUF_INT8] = INT8_MIN, [BUF_INT16] = INT16_MIN, [BUF_INT32] = INT32_MIN,
                               [BUF_INT64] = INT64_MIN};
  static const uint64_t hi[] = {[BUF_BOOL] = 1, [BUF_INT8] = INT8_MAX, [BUF_INT16] = INT16_MAX,
                                [BUF_INT32] = INT32_MAX, [BUF_INT64] = INT64_MAX, [BUF_UINT8] = UINT8_MAX,
                                [BUF_UINT16] = UINT16_MAX, [BUF_UINT32] = UINT32_MAX, [BUF_UINT64] = UINT64_MAX};
  const jsondoc_val *v = &f->v;
  memset(m->fill, 0, sizeof m->fill);
  m->fill_null = v->type == JSONDOC_NULL;
  if (m->fill_null) return 0;
  if (m->dtype == BUF_FLOAT64 || m->dtype == BUF_FLOAT32) {
    double d;
    if (v->type == JSONDOC_INT) d = (double)v->i;
    else if (v->type == JSONDOC_FLOAT) d = v->d;
    else if (ajson_is(f, "NaN")) d = NAN;
    else if (ajson_is(f, "Infinity")) d = INFINITY;
    else if (ajson_is(f, "-Infinity")) d = -INFINITY;
    else return afile_err(r->err, r->path, "'fill_value' is not a number");
    put(m, d, 0, 0, 0);
    return 0;
  }
  if (m->dtype == BUF_BOOL && (v->type == JSONDOC_TRUE || v->type == JSONDOC_FALSE)) {
    m->fill[0] = v->type == JSONDOC_TRUE;
    return 0;
  }
  int sign = m->dtype == BUF_INT8 || m->dtype == BUF_INT16 || m->dtype == BUF_INT32 || m->dtype == BUF_INT64;
  if (v->type == JSONDOC_INT && (sign ? v->i >= lo[m->dtype] && (v->i < 0 || (uint64_t)v->i <= hi[m->dtype])
                                      : v->i >= 0 && (uint64_t)v->i <= hi[m->dtype])) {
    put(m, 0, v->i, (uint64_t)v->i, sign);
    return 0;
  }
  if (v->type == JSONDOC_FLOAT && m->dtype == BUF_UINT64 && v->len < 32 && r->text[v->off] != '-') {
    char num[32], *end;
    memcpy(num, r->text + v->off, v->len);
    num[v->len] = 0;
    unsigned long long u = strtoull(num, &end, 10);
    if (*end == 0) {
      put(m, 0, 0, u, 0);
      return 0;
    }
  }
  return afile_err(r->err, r->path, "'fill_value' is not a %s", buf_dtype_name(m->dtype));
}

static int parse(ajson *r, jsondoc_list *l, zarr_meta *m) {
  static const char *const required[] = {"zarr_format", "shape", "chunks", "dtype", "compressor", "fill_value", "order"};
  int rc = 0;
  size_t nshape = 0, nchunks = 0;
  for (size_t k = 0; rc == 0 && k < sizeof required / sizeof *required; k++)
    if (ajson_find(l, required[k]) == NULL) rc = afile_err(r->err, r->path, "no '%s'", required[k]);
  if (rc) goto done;
  const jsondoc_member *f = ajson_find(l, "zarr_format"), *dt = ajson_find(l, "dtype"), *o = ajson_find(l, "order"),
                       *sep = ajson_find(l, "dimension_separator");
  if (f->v.type != JSONDOC_INT || f->v.i != 2) {
    rc = afile_err(r->err, r->path, "not a Zarr v2 array ('zarr_format' is not 2)");
    goto done;
  }
  if ((rc = ajson_ints(r, &ajson_find(l, "shape")->v, "'shape'", 0, BUF_MAXDIM, m->shape, &nshape)) != 0 ||
      (rc = ajson_ints(r, &ajson_find(l, "chunks")->v, "'chunks'", 1, BUF_MAXDIM, m->chunks, &nchunks)) != 0)
    goto done;
  m->ndim = (int)nshape;
  if (nshape != nchunks) {
    rc = afile_err(r->err, r->path, "'chunks' has %zu dimensions and 'shape' %zu", nchunks, nshape);
    goto done;
  }
  if (dt->v.type != JSONDOC_STRING) {
    rc = afile_err(r->err, r->path, "unsupported dtype (structured dtypes are not supported)");
    goto done;
  }
  if (abox_dtype_parse(dt->v.s, dt->v.n, &m->dtype, &m->swap) != 0) {
    rc = afile_err(r->err, r->path, "unsupported dtype '%.*s'", (int)(dt->v.n > 40 ? 40 : dt->v.n), dt->v.s);
    goto done;
  }
  int64_t count, es = (int64_t)buf_dtype_size(m->dtype);
  if (abox_count(m->ndim, m->shape, 1, &count) != 0) {
    rc = afile_err(r->err, r->path, "the array is too large");
    goto done;
  }
  if (abox_count(m->ndim, m->chunks, es, &count) != 0) {
    rc = afile_err(r->err, r->path, "the chunks are too large");
    goto done;
  }
  if (ajson_is(o, "C") || ajson_is(o, "F")) m->fortran = ajson_is(o, "F");
  else {
    rc = afile_err(r->err, r->path, "'order' is not \"C\" or \"F\"");
    goto done;
  }
  m->sep = '.';
  if (sep != NULL && !ajson_is(sep, ".")) {
    if (!ajson_is(sep, "/")) {
      rc = afile_err(r->err, r->path, "'dimension_separator' is not \".\" or \"/\"");
      goto done;
    }
    m->sep = '/';
  }
  if ((rc = compressor(r, ajson_find(l, "compressor"), m)) == 0 && (rc = filters(r, ajson_find(l, "filters"), m)) == 0)
    rc = fill(r, ajson_find(l, "fill_value"), m);
done:
  return rc;
}

int zarr_parse(const char *p, size_t n, const char *path, zarr_meta *m, char *err) {
  memset(m, 0, sizeof *m);
  if (n > ZARR_MAXMETA) return afile_err(err, path, "too large for a .zarray");
  ajson r;
  jsondoc_list *root;
  int rc = ajson_open(&r, p, n, path, err, &root);
  if (rc == 0) rc = parse(&r, root, m);
  base_free(root);
  ajson_close(&r);
  return rc;
}

/* libblosc, opened at the first blosc chunk (as blas.c opens OpenBLAS):
 * linked, it and the compressors it brings (lz4, snappy, zlib) were
 * loaded by every process, Zarr or not.  Only zarr-python's blosc chunks
 * need it; dusk writes zstd. */
typedef struct blosc_lib {
  int (*validate)(const void *src, size_t srcsize, size_t *nbytes);
  int (*decompress)(const void *src, void *dest, size_t destsize, int nthreads);
  char why[160];
} blosc_lib;

static blosc_lib blosc;
static pthread_once_t blosc_once = PTHREAD_ONCE_INIT;

static void blosc_open(void) {
  void *h = dlopen("libblosc.so.1", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    snprintf(blosc.why, sizeof blosc.why, "%s (apt-get install libblosc1)", dlerror());
    return;
  }
  /* (object pointers to function pointers: POSIX's dlsym allows it) */
  *(void **)&blosc.validate = dlsym(h, "blosc_cbuffer_validate");
  *(void **)&blosc.decompress = dlsym(h, "blosc_decompress_ctx");
  if (blosc.validate == NULL || blosc.decompress == NULL) {
    blosc.validate = NULL;
    snprintf(blosc.why, sizeof blosc.why, "libblosc.so.1 lacks blosc_decompress_ctx");
  }
}

static const blosc_lib *blosc_load(void) {
  pthread_once(&blosc_once, blosc_open);
  return &blosc;
}

int zarr_info_of(const char *path, zarr_meta *m, char *err) {
  char *file = afile_join(path, ".zarray", err), *text;
  size_t n;
  if (file == NULL) return AFILE_ERR;
  int rc = afile_slurp(file, ZARR_MAXMETA, 1, &text, &n, err);
  if (rc == 1) rc = afile_err(err, path, "not a Zarr v2 array (no .zarray)");
  else if (rc == 0) rc = zarr_parse(text, n, file, m, err);
  base_free(text);
  base_free(file);
  return rc;
}

/* --- chunks --- */

/* The file of chunk 'c' of the store 'dir': "dir/1.0.3", "dir/0" for 0-d. */
static char *chunk_file(const char *dir, const zarr_meta *m, const int64_t *c, char *err) {
  char key[BUF_MAXDIM * 21 + 2];
  int k = snprintf(key, sizeof key, "%lld", m->ndim ? (long long)c[0] : 0LL);
  for (int d = 1; d < m->ndim; d++) k += snprintf(key + k, sizeof key - (size_t)k, "%c%lld", m->sep, (long long)c[d]);
  return afile_join(dir, key, err);
}

static void shuffle(unsigned char *dst, const unsigned char *src, size_t n, size_t es, int back) {
  size_t count = n / es;
  for (size_t i = 0; i < count; i++)
    for (size_t b = 0; b < es; b++) {
      if (back) dst[i * es + b] = src[b * count + i];
      else dst[b * count + i] = src[i * es + b];
    }
}

/* Decodes the chunk file 'file' into 'out' ('n' bytes: one full chunk, in
 * native byte order); '*missing' when there is no such file. */
static int load(const char *file, const zarr_meta *m, unsigned char *out, size_t n, unsigned char *tmp,
                int *missing, char *err) {
  char *z;
  size_t zn, bound = ZSTD_compressBound(n) + BLOSC_MAX_OVERHEAD + 4096;
  int rc = afile_slurp(file, bound, 1, &z, &zn, err);
  *missing = rc == 1;
  if (rc != 0) return rc == 1 ? 0 : rc;
  unsigned char *dst = m->shuffle ? tmp : out;
  if (m->compressor == ZARR_NONE) {
    if (zn != n) rc = afile_err(err, file, "corrupt chunk: %zu bytes, expected %zu", zn, n);
    else memcpy(dst, z, n);
  } else if (m->compressor == ZARR_ZSTD) {
    ZSTD_DCtx *dc = ZSTD_createDCtx_advanced((ZSTD_customMem){base_zalloc, base_zfree, NULL});
    size_t got = dc ? ZSTD_decompressDCtx(dc, dst, n, z, zn) : 0;
    if (dc == NULL) rc = afile_err(err, file, "not enough memory");
    else if (ZSTD_isError(got)) rc = afile_err(err, file, "corrupt chunk: zstd: %s", ZSTD_getErrorName(got));
    else if (got != n) rc = afile_err(err, file, "corrupt chunk: %zu bytes decompressed, expected %zu", got, n);
    ZSTD_freeDCtx(dc);
  } else {
    size_t nb;
    const blosc_lib *b = blosc_load();
    if (b->validate == NULL) rc = afile_err(err, file, "blosc is not available: %s", b->why);
    else if (b->validate(z, zn, &nb) != 0) rc = afile_err(err, file, "corrupt chunk: not a blosc buffer");
    else if (nb != n) rc = afile_err(err, file, "corrupt chunk: blosc holds %zu bytes, expected %zu", nb, n);
    else if (n > 0 && b->decompress(z, dst, n, 1) != (int)n)
      rc = afile_err(err, file, "corrupt chunk: blosc cannot decompress it");
  }
  base_free(z);
  if (rc == 0 && m->shuffle) {
    if (n % (size_t)m->shuffle != 0) return afile_err(err, file, "chunk size not a multiple of the shuffle's");
    shuffle(out, tmp, n, (size_t)m->shuffle, 1);
  }
  if (rc == 0 && m->swap) abox_swap(out, n / buf_dtype_size(m->dtype), buf_dtype_size(m->dtype));
  return rc;
}

/* Odometer over the chunks 'c0' .. 'c1' (inclusive) in C order: steps
 * 'c'; 0 once past the last. */
static int next(int ndim, const int64_t *c0, const int64_t *c1, int64_t *c) {
  for (int d = ndim - 1; d >= 0; d--) {
    if (++c[d] <= c1[d]) return 1;
    c[d] = c0[d];
  }
  return 0;
}

int zarr_read(const char *path, int ndim, const int64_t *start, const int64_t *count, buf **out,
              char *err) {
  zarr_meta m;
  *out = NULL;
  if (zarr_info_of(path, &m, err) != 0) return AFILE_ERR;
  if (ndim != m.ndim) return afile_err(err, path, "a region of %d axes for an array of %d", ndim, m.ndim);
  buf *b;
  if (abox_check_region(ndim, m.shape, start, count, path, err) != 0 ||
      abox_new(m.dtype, ndim, count, &b, path, err) != 0)
    return AFILE_ERR;
  int64_t es = (int64_t)buf_dtype_size(m.dtype), cn, n;
  abox_count(ndim, m.chunks, es, &cn);
  abox_count(ndim, count, es, &n);
  if (n == 0) return *out = b, 0;
  int64_t c0[BUF_MAXDIM], c1[BUF_MAXDIM], c[BUF_MAXDIM], cst[BUF_MAXDIM], ost[BUF_MAXDIM];
  for (int d = 0; d < ndim; d++) {
    c0[d] = c[d] = start[d] / m.chunks[d];
    c1[d] = (start[d] + count[d] - 1) / m.chunks[d];
  }
  (m.fortran ? abox_fstrides : abox_cstrides)(ndim, m.chunks, es, cst);
  abox_cstrides(ndim, count, es, ost);
  size_t nbytes = (size_t)(cn * es);
  unsigned char *chunk = base_malloc(nbytes + 1), *tmp = m.shuffle ? base_malloc(nbytes + 1) : NULL;
  int rc = chunk == NULL || (m.shuffle && tmp == NULL) ? afile_err(err, path, "not enough memory") : 0;
  do {
    if (rc != 0 || (rc = afile_interrupted(err)) != 0) break;
    char *file = chunk_file(path, &m, c, err);
    int missing;
    if (file == NULL || (rc = load(file, &m, chunk, nbytes, tmp, &missing, err)) != 0) {
      rc = AFILE_ERR;
      base_free(file);
      break;
    }
    base_free(file);
    int64_t box[BUF_MAXDIM];
    char *dst = buf_wdata(b);
    const unsigned char *src = chunk;
    for (int d = 0; d < ndim; d++) {
      int64_t o = c[d] * m.chunks[d], lo = start[d] > o ? start[d] : o;
      int64_t hi = o + m.chunks[d] < start[d] + count[d] ? o + m.chunks[d] : start[d] + count[d];
      box[d] = hi - lo;
      dst += (lo - start[d]) * ost[d];
      src += (lo - o) * cst[d];
    }
    if (missing) abox_fill(dst, ost, ndim, box, m.fill, (size_t)es);
    else abox_copy(dst, ost, (const char *)src, cst, ndim, box, (size_t)es);
  } while (next(ndim, c0, c1, c));
  base_free(chunk);
  base_free(tmp);
  if (rc != 0) buf_decref(b);
  else *out = b;
  return rc;
}

/* --- writing --- */

char *zarr_create(const char *path, const zarr_meta *m, char *err) {
  if (abox_dtype_str(m->dtype) == NULL || m->swap || m->fortran || m->ndim < 0 || m->ndim > BUF_MAXDIM ||
      (m->compressor != ZARR_NONE && m->compressor != ZARR_ZSTD) || (m->sep != '.' && m->sep != '/')) {
    afile_err(err, path, "no Zarr store dusk can write for this metadata");
    return NULL;
  }
  int64_t n, es = (int64_t)buf_dtype_size(m->dtype);
  for (int d = 0; d < m->ndim; d++)
    if (m->chunks[d] < 1) {
      afile_err(err, path, "chunk size %lld on axis %d", (long long)m->chunks[d], d);
      return NULL;
    }
  if (abox_count(m->ndim, m->shape, es, &n) != 0 || abox_count(m->ndim, m->chunks, es, &n) != 0) {
    afile_err(err, path, "array or chunks too large");
    return NULL;
  }
  char text[BUF_MAXDIM * 48 + 512], fv[40];
  double d;
  switch (m->dtype) {
  case BUF_FLOAT64: case BUF_FLOAT32:
    if (m->dtype == BUF_FLOAT64) memcpy(&d, m->fill, 8);
    else { float f; memcpy(&f, m->fill, 4); d = f; }
    if (isnan(d)) snprintf(fv, sizeof fv, "\"NaN\"");
    else if (isinf(d)) snprintf(fv, sizeof fv, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else snprintf(fv, sizeof fv, "%.17g", d);
    break;
  case BUF_BOOL: snprintf(fv, sizeof fv, m->fill[0] ? "true" : "false"); break;
  default: {
    uint64_t u = 0;
    memcpy(&u, m->fill, buf_dtype_size(m->dtype));
    int sign = m->dtype == BUF_INT8 || m->dtype == BUF_INT16 || m->dtype == BUF_INT32 || m->dtype == BUF_INT64;
    int bits = (int)buf_dtype_size(m->dtype) * 8;
    if (sign && bits < 64 && (u >> (bits - 1) & 1)) u |= ~(uint64_t)0 << bits; /* sign-extend */
    if (sign) snprintf(fv, sizeof fv, "%lld", (long long)u);
    else snprintf(fv, sizeof fv, "%llu", (unsigned long long)u);
  }
  }
  if (m->fill_null) snprintf(fv, sizeof fv, "null");
  int k = snprintf(text, sizeof text, "{\n    \"chunks\": [");
  for (int a = 0; a < m->ndim; a++) k += snprintf(text + k, sizeof text - (size_t)k, a ? ", %lld" : "%lld", (long long)m->chunks[a]);
  if (m->compressor == ZARR_ZSTD)
    k += snprintf(text + k, sizeof text - (size_t)k, "],\n    \"compressor\": {\"id\": \"zstd\", \"level\": %d},\n", m->level);
  else k += snprintf(text + k, sizeof text - (size_t)k, "],\n    \"compressor\": null,\n");
  k += snprintf(text + k, sizeof text - (size_t)k,
                "    \"dimension_separator\": \"%c\",\n    \"dtype\": \"%s\",\n    \"fill_value\": %s,\n",
                m->sep, abox_dtype_str(m->dtype), fv);
  if (m->shuffle)
    k += snprintf(text + k, sizeof text - (size_t)k, "    \"filters\": [{\"elementsize\": %d, \"id\": \"shuffle\"}],\n", m->shuffle);
  else k += snprintf(text + k, sizeof text - (size_t)k, "    \"filters\": null,\n");
  k += snprintf(text + k, sizeof text - (size_t)k, "    \"order\": \"C\",\n    \"shape\": [");
  for (int a = 0; a < m->ndim; a++) k += snprintf(text + k, sizeof text - (size_t)k, a ? ", %lld" : "%lld", (long long)m->shape[a]);
  k += snprintf(text + k, sizeof text - (size_t)k, "],\n    \"zarr_format\": 2\n}\n");
  char *tmp = afile_temp(path, 1, err), *file = tmp ? afile_join(tmp, ".zarray", err) : NULL;
  if (file == NULL || afile_spit(file, text, (size_t)k, err) != 0) {
    char again[AFILE_ERRLEN]; /* the first message is the one to keep */
    if (tmp) afile_abort(tmp, again);
    base_free(tmp);
    tmp = NULL;
  }
  base_free(file);
  return tmp;
}

/* Encodes and writes one full-size chunk 'p'['n'] (changed in place by
 * the shuffle, through 'tmp') as 'file'. */
static int store(const char *file, const zarr_meta *m, unsigned char *p, size_t n, unsigned char *tmp,
                 unsigned char *z, size_t zcap, char *err) {
  if (m->shuffle) {
    shuffle(tmp, p, n, (size_t)m->shuffle, 0);
    memcpy(p, tmp, n);
  }
  size_t zn = n;
  if (m->compressor == ZARR_ZSTD) {
    ZSTD_CCtx *cc = ZSTD_createCCtx_advanced((ZSTD_customMem){base_zalloc, base_zfree, NULL});
    if (cc == NULL) return afile_err(err, file, "not enough memory");
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, m->level);
    zn = ZSTD_compress2(cc, z, zcap, p, n);
    ZSTD_freeCCtx(cc);
    if (ZSTD_isError(zn)) return afile_err(err, file, "zstd: %s", ZSTD_getErrorName(zn));
    p = z;
  }
  if (m->sep == '/' && afile_mkdirs(file, err) != 0) return AFILE_ERR;
  return afile_spit(file, p, zn, err);
}

int zarr_write(const char *tmp, int ndim, const int64_t *start, const buf *b, char *err) {
  zarr_meta m;
  buf_array a;
  if (buf_array_of(b, &a) != 0) return afile_err(err, tmp, "not an array buffer");
  if (zarr_info_of(tmp, &m, err) != 0) return AFILE_ERR;
  if (a.dtype != m.dtype)
    return afile_err(err, tmp, "dtype %s written to a store of %s", buf_dtype_name(a.dtype), buf_dtype_name(m.dtype));
  if (a.ndim != m.ndim || ndim != m.ndim) return afile_err(err, tmp, "a %d-d region written to a %d-d array", a.ndim, m.ndim);
  if (abox_check_region(ndim, m.shape, start, a.shape, tmp, err) != 0) return AFILE_ERR;
  for (int d = 0; d < ndim; d++) {
    int64_t end = start[d] + a.shape[d];
    if (start[d] % m.chunks[d] != 0 || (end % m.chunks[d] != 0 && end != m.shape[d]))
      return afile_err(err, tmp, "region [%lld, %lld) on axis %d is not made of whole chunks of %lld",
                       (long long)start[d], (long long)end, d, (long long)m.chunks[d]);
  }
  int64_t es = (int64_t)buf_dtype_size(m.dtype), cn, n;
  abox_count(ndim, m.chunks, es, &cn);
  abox_count(ndim, a.shape, es, &n);
  if (n == 0) return 0;
  size_t nbytes = (size_t)(cn * es), zcap = ZSTD_compressBound(nbytes);
  unsigned char *chunk = base_malloc(nbytes + 1), *t = base_malloc(nbytes + 1), *z = base_malloc(zcap);
  int rc = chunk == NULL || t == NULL || z == NULL ? afile_err(err, tmp, "not enough memory") : 0;
  int64_t c0[BUF_MAXDIM], c1[BUF_MAXDIM], c[BUF_MAXDIM], cst[BUF_MAXDIM], bst[BUF_MAXDIM];
  for (int d = 0; d < ndim; d++) {
    c0[d] = c[d] = start[d] / m.chunks[d];
    c1[d] = (start[d] + a.shape[d] - 1) / m.chunks[d];
  }
  abox_cstrides(ndim, m.chunks, es, cst);
  abox_cstrides(ndim, a.shape, es, bst);
  do {
    if (rc != 0 || (rc = afile_interrupted(err)) != 0) break;
    int64_t box[BUF_MAXDIM];
    const char *src = buf_data(b);
    int edge = 0;
    for (int d = 0; d < ndim; d++) {
      int64_t o = c[d] * m.chunks[d];
      box[d] = o + m.chunks[d] <= m.shape[d] ? m.chunks[d] : m.shape[d] - o;
      edge |= box[d] < m.chunks[d];
      src += (o - start[d]) * bst[d];
    }
    if (edge) abox_fill((char *)chunk, cst, ndim, m.chunks, m.fill, (size_t)es);
    abox_copy((char *)chunk, cst, src, bst, ndim, box, (size_t)es);
    char *file = chunk_file(tmp, &m, c, err);
    rc = file == NULL ? AFILE_ERR : store(file, &m, chunk, nbytes, t, z, zcap, err);
    base_free(file);
  } while (next(ndim, c0, c1, c));
  base_free(chunk);
  base_free(t);
  base_free(z);
  return rc;
}

int zarr_commit(const char *tmp, const char *path, char *err) {
  return afile_commit(tmp, path, 1, ".zarray", err);
}

int zarr_abort(const char *tmp, char *err) {
  return afile_abort(tmp, err);
}
