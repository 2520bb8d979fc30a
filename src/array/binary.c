/*
 * binary: dusk's chunked directory format (see binary.h).
 *
 * The metadata says every chunk's shape, so a chunk whose frame decodes
 * (its checksum right) but holds another dtype or shape is refused as
 * corrupt, as is any frame that does not decode, with the file named.
 */
#include "array/binary.h"

#include <stdio.h>
#include <string.h>

#include "array/abox.h"
#include "array/afile.h"
#include "array/ajson.h"
#include "base/alloc.h"

#define META ".darray"

static int parse(ajson *r, jsondoc_list *l, binary_meta *m) {
  const jsondoc_member *f = ajson_find(l, "format"), *v = ajson_find(l, "version"),
                       *dt = ajson_find(l, "dtype"), *sh = ajson_find(l, "shape"), *ch = ajson_find(l, "chunks");
  if (f == NULL || !ajson_is(f, "dusk-binary")) return afile_err(r->err, r->path, "not a dusk binary array");
  if (v == NULL || v->v.type != JSONDOC_INT || v->v.i != 1)
    return afile_err(r->err, r->path, "unsupported version of the dusk binary format");
  if (dt == NULL || sh == NULL || ch == NULL) return afile_err(r->err, r->path, "no dtype, shape or chunks");
  m->dtype = -1;
  for (int d = 0; d < BUF_NDTYPES; d++)
    if (d != BUF_STRING && ajson_is(dt, buf_dtype_name(d))) m->dtype = d;
  if (m->dtype < 0) return afile_err(r->err, r->path, "unknown dtype");
  size_t nd, total = 0;
  if (ajson_ints(r, &sh->v, "'shape'", 0, BUF_MAXDIM, m->shape, &nd) != 0) return AFILE_ERR;
  m->ndim = (int)nd;
  int64_t n;
  if (abox_count(m->ndim, m->shape, 1, &n) != 0) return afile_err(r->err, r->path, "the array is too large");
  jsondoc_list *axes;
  if (ch->v.type != JSONDOC_ARRAY) return afile_err(r->err, r->path, "'chunks' is not an array");
  if (ajson_list(r, &ch->v, &axes) != 0) return AFILE_ERR;
  int rc = axes->n != nd ? afile_err(r->err, r->path, "'chunks' and 'shape' differ in length") : 0;
  for (size_t d = 0; rc == 0 && d < nd; d++) {
    /* each axis: at most one chunk per element, or one empty chunk */
    size_t room = (size_t)(m->shape[d] > 0 ? m->shape[d] : 1);
    if (room > BINARY_MAXCHUNKS - total) room = BINARY_MAXCHUNKS - total;
    int64_t *p = base_realloc(m->all, (total + room + 1) * sizeof *p);
    if (p == NULL) {
      rc = afile_err(r->err, r->path, "not enough memory");
      break;
    }
    m->all = p;
    size_t k;
    if ((rc = ajson_ints(r, &axes->m[d].v, "an axis of 'chunks'", 0, room, p + total, &k)) != 0) break;
    int64_t sum = 0;
    for (size_t i = 0; i < k; i++) sum += p[total + i];
    if (sum != m->shape[d] || k == 0)
      rc = afile_err(r->err, r->path, "the chunks of axis %zu do not sum to its length %lld", d, (long long)m->shape[d]);
    for (size_t i = 0; rc == 0 && m->shape[d] > 0 && i < k; i++)
      if (p[total + i] == 0) rc = afile_err(r->err, r->path, "an empty chunk on axis %zu", d);
    m->nchunks[d] = (int64_t)k;
    total += k;
  }
  base_free(axes);
  if (rc == 0)
    for (int d = 0, at = 0; d < m->ndim; at += (int)m->nchunks[d], d++) m->sizes[d] = m->all + at;
  return rc;
}

int binary_parse(const char *p, size_t n, const char *path, binary_meta *m, char *err) {
  memset(m, 0, sizeof *m);
  ajson r;
  jsondoc_list *root;
  int rc = ajson_open(&r, p, n, path, err, &root);
  if (rc == 0) rc = parse(&r, root, m);
  base_free(root);
  ajson_close(&r);
  if (rc != 0) binary_meta_free(m);
  return rc;
}

void binary_meta_free(binary_meta *m) {
  base_free(m->all);
  m->all = NULL;
}

int binary_info_of(const char *dir, binary_meta *m, char *err) {
  char *file = afile_join(dir, META, err), *text;
  size_t n;
  memset(m, 0, sizeof *m);
  if (file == NULL) return AFILE_ERR;
  int rc = afile_slurp(file, 64u << 20, 1, &text, &n, err);
  if (rc == 1) rc = afile_err(err, dir, "not a dusk binary array (no " META ")");
  else if (rc == 0) rc = binary_parse(text, n, file, m, err);
  base_free(text);
  base_free(file);
  return rc;
}

/* The file of chunk 'index' and the chunk's shape, after checking the
 * index against the grid. */
static char *chunk_file(const char *dir, const binary_meta *m, int ndim, const int64_t *index, int64_t *shape,
                        char *err) {
  if (ndim != m->ndim) {
    afile_err(err, dir, "a chunk index of %d axes for an array of %d", ndim, m->ndim);
    return NULL;
  }
  char key[BUF_MAXDIM * 21 + 2];
  int k = snprintf(key, sizeof key, "0");
  for (int d = 0; d < ndim; d++) {
    if (index[d] < 0 || index[d] >= m->nchunks[d]) {
      afile_err(err, dir, "no chunk %lld on axis %d (%lld chunks)", (long long)index[d], d, (long long)m->nchunks[d]);
      return NULL;
    }
    shape[d] = m->sizes[d][index[d]];
    k = d ? k + snprintf(key + k, sizeof key - (size_t)k, ".%lld", (long long)index[d])
          : snprintf(key, sizeof key, "%lld", (long long)index[d]);
  }
  return afile_join(dir, key, err);
}

int binary_read(const char *dir, int ndim, const int64_t *index, buf **out, char *err) {
  binary_meta m;
  int64_t shape[BUF_MAXDIM];
  *out = NULL;
  if (binary_info_of(dir, &m, err) != 0) return AFILE_ERR;
  char *file = chunk_file(dir, &m, ndim, index, shape, err), *frame = NULL;
  size_t n;
  int rc = file == NULL ? AFILE_ERR : afile_slurp(file, BUF_MAXSIZE + (1 << 20), 0, &frame, &n, err);
  buf *b = NULL;
  const char *why;
  buf_array a;
  if (rc == 0 && buf_decode(frame, n, &b, &why) != 0) rc = afile_err(err, file, "corrupt chunk: %s", why);
  else if (rc == 0 && (buf_array_of(b, &a) != 0 || a.dtype != m.dtype || a.ndim != ndim ||
                       memcmp(a.shape, shape, (size_t)ndim * sizeof *shape) != 0))
    rc = afile_err(err, file, "corrupt chunk: not the %s chunk of the shape .darray says", buf_dtype_name(m.dtype));
  base_free(frame);
  base_free(file);
  binary_meta_free(&m);
  if (rc != 0 && b != NULL) buf_decref(b);
  else *out = b;
  return rc;
}

char *binary_create(const char *dir, const binary_meta *m, char *err) {
  if (abox_dtype_str(m->dtype) == NULL || m->ndim < 0 || m->ndim > BUF_MAXDIM) {
    afile_err(err, dir, "no dusk binary array for this dtype and shape");
    return NULL;
  }
  size_t cap = 256, len = 0;
  for (int d = 0; d < m->ndim; d++) cap += 24 + (size_t)m->nchunks[d] * 22;
  char *text = base_malloc(cap);
  if (text == NULL) {
    afile_err(err, dir, "not enough memory");
    return NULL;
  }
  len += (size_t)snprintf(text, cap, "{\"format\": \"dusk-binary\", \"version\": 1, \"dtype\": \"%s\", \"shape\": [",
                          buf_dtype_name(m->dtype));
  for (int d = 0; d < m->ndim; d++) len += (size_t)snprintf(text + len, cap - len, d ? ", %lld" : "%lld", (long long)m->shape[d]);
  len += (size_t)snprintf(text + len, cap - len, "], \"chunks\": [");
  for (int d = 0; d < m->ndim; d++) {
    len += (size_t)snprintf(text + len, cap - len, d ? ", [" : "[");
    for (int64_t i = 0; i < m->nchunks[d]; i++)
      len += (size_t)snprintf(text + len, cap - len, i ? ", %lld" : "%lld", (long long)m->sizes[d][i]);
    len += (size_t)snprintf(text + len, cap - len, "]");
  }
  len += (size_t)snprintf(text + len, cap - len, "]}\n");
  /* what binary_read will take: the same checks as reading */
  binary_meta back;
  char *tmp = NULL, *file = NULL;
  if (binary_parse(text, len, dir, &back, err) == 0) {
    binary_meta_free(&back);
    tmp = afile_temp(dir, 1, err);
    file = tmp ? afile_join(tmp, META, err) : NULL;
    if (file == NULL || afile_spit(file, text, len, err) != 0) {
      char again[AFILE_ERRLEN];
      if (tmp) afile_abort(tmp, again);
      base_free(tmp);
      tmp = NULL;
    }
  }
  base_free(file);
  base_free(text);
  return tmp;
}

int binary_write(const char *tmp, int ndim, const int64_t *index, const buf *b, char *err) {
  binary_meta m;
  int64_t shape[BUF_MAXDIM];
  buf_array a;
  if (buf_array_of(b, &a) != 0) return afile_err(err, tmp, "not an array buffer");
  if (binary_info_of(tmp, &m, err) != 0) return AFILE_ERR;
  char *file = chunk_file(tmp, &m, ndim, index, shape, err);
  int rc = file == NULL ? AFILE_ERR : 0;
  if (rc == 0 && (a.dtype != m.dtype || a.ndim != ndim || memcmp(a.shape, shape, (size_t)ndim * sizeof *shape) != 0))
    rc = afile_err(err, file, "the buffer is not a %s chunk of the shape the grid gives", buf_dtype_name(m.dtype));
  if (rc == 0) {
    serial_buf s;
    serial_buf_init(&s, NULL, NULL); /* base_realloc */
    rc = buf_encode(b, SERIAL_COMPRESS, &s) != 0 ? afile_err(err, file, "not enough memory")
                                                : afile_spit(file, s.p, s.len, err);
    serial_buf_free(&s);
  }
  base_free(file);
  binary_meta_free(&m);
  return rc;
}

int binary_commit(const char *tmp, const char *dir, char *err) {
  return afile_commit(tmp, dir, 1, META, err);
}

int binary_abort(const char *tmp, char *err) {
  return afile_abort(tmp, err);
}
