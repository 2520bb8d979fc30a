/*
 * frame: typed columns over refcounted buffers, and their one-buffer
 * form (frame.h).
 */
#include "frame/frame.h"

#include <string.h>

#include "base/alloc.h"

static const char *const type_names[FR_NTYPES] = {"int64", "float64", "bool", "string", "datetime"};

const char *fr_type_name(int type) { return type >= 0 && type < FR_NTYPES ? type_names[type] : NULL; }

int fr_type_of(const char *name) {
  for (int t = 0; t < FR_NTYPES; t++)
    if (strcmp(type_names[t], name) == 0) return t;
  return -1;
}

static size_t value_size(int type) { return type == FR_BOOL ? 1 : type == FR_STRING ? 0 : 8; }
static uint64_t bitmap_bytes(int64_t n) { return (uint64_t)(n + 7) / 8; }
static uint64_t round_up(uint64_t n) { return (n + BUF_ALIGN - 1) & ~(uint64_t)(BUF_ALIGN - 1); }

/* ---- frames and columns ---- */

int frame_init(frame *f, int ncols, int64_t nrows) {
  memset(f, 0, sizeof *f);
  f->nrows = nrows;
  f->cols = base_calloc(ncols > 0 ? (size_t)ncols : 1, sizeof *f->cols);
  if (f->cols == NULL) return -1;
  f->ncols = ncols;
  return 0;
}

void fr_col_free(fr_col *c) {
  base_free(c->name);
  if (c->owner) buf_decref(c->owner);
  memset(c, 0, sizeof *c);
}

void frame_free(frame *f) {
  for (int k = 0; k < f->ncols; k++) fr_col_free(&f->cols[k]);
  base_free(f->cols);
  memset(f, 0, sizeof *f);
}

int fr_col_ref(fr_col *dst, const fr_col *c, const char *name) {
  char *copy = base_strdup(name ? name : c->name);
  if (copy == NULL) return -1;
  *dst = *c;
  dst->name = copy;
  if (dst->owner) buf_incref(dst->owner);
  return 0;
}

int frame_copy(frame *dst, const frame *src) {
  if (frame_init(dst, src->ncols, src->nrows) != 0) return -1;
  dst->nindex = src->nindex;
  dst->series = src->series;
  for (int k = 0; k < src->ncols; k++)
    if (fr_col_ref(&dst->cols[k], &src->cols[k], NULL) != 0) {
      frame_free(dst);
      return -1;
    }
  return 0;
}

int frame_find(const frame *f, const char *name) {
  for (int k = 0; k < f->ncols; k++)
    if (strcmp(f->cols[k].name, name) == 0) return k;
  return -1;
}

uint64_t fr_hash_value(const fr_col *c, int64_t i) {
  if (fr_isnull(c, i)) return 0x5bd1e995u;
  switch (c->type) {
  case FR_STRING: {
    size_t len;
    const unsigned char *s = (const unsigned char *)fr_str(c, i, &len);
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a, then mixed */
    for (size_t k = 0; k < len; k++) h = (h ^ s[k]) * 0x100000001b3u;
    return fr_mix(h);
  }
  case FR_FLOAT64: {
    double v = ((const double *)c->values)[i];
    if (v == (double)(int64_t)v && v > -0x1p63 && v < 0x1p63) return fr_mix((uint64_t)(int64_t)v);
    uint64_t u;
    memcpy(&u, &v, 8);
    return fr_mix(u);
  }
  case FR_BOOL: return fr_mix(((const uint8_t *)c->values)[i]);
  default: return fr_mix((uint64_t)((const int64_t *)c->values)[i]);
  }
}

/* ---- builders ---- */

/* Where the bitmap starts in a store of 'cap' rows. */
static uint64_t bitmap_at(int type, int64_t cap) {
  uint64_t per = type == FR_STRING ? 8 : value_size(type);
  return round_up((uint64_t)(cap + (type == FR_STRING)) * per);
}

/* A store for 'cap' rows, the old one's rows copied; 0 or -1. */
static int restore(fr_builder *b, int64_t cap) {
  uint64_t vat = bitmap_at(b->type, cap);
  buf *s = buf_new(BUF_BYTES, NULL, 0, (size_t)(vat + bitmap_bytes(cap)));
  if (s == NULL) return b->failed = 1, -1;
  char *d = buf_wdata(s);
  if (b->store) {
    uint64_t per = b->type == FR_STRING ? 8 : value_size(b->type);
    memcpy(d, b->values, (size_t)((uint64_t)(b->n + (b->type == FR_STRING)) * per));
    if (b->has_nulls) {
      memset(d + vat, 0xff, bitmap_bytes(cap));
      memcpy(d + vat, b->valid, bitmap_bytes(b->n));
    }
    buf_decref(b->store);
  } else if (b->type == FR_STRING) {
    ((int64_t *)d)[0] = 0;
  }
  b->store = s;
  b->values = d;
  b->valid = (uint8_t *)d + vat;
  b->cap = cap;
  return 0;
}

void frb_init(fr_builder *b, int type, int64_t cap_hint) {
  memset(b, 0, sizeof *b);
  b->type = type;
  restore(b, cap_hint > 0 ? cap_hint : 16);
}

void frb_free(fr_builder *b) {
  if (b->store) buf_decref(b->store);
  base_free(b->arena);
  memset(b, 0, sizeof *b);
}

int frb_grow(fr_builder *b) {
  if (b->failed) return -1;
  if (b->n < b->cap) return 0;
  return restore(b, b->cap * 2);
}

void frb_null(fr_builder *b) {
  if (b->n >= b->cap && frb_grow(b) != 0) return;
  if (b->type == FR_FLOAT64) {
    ((double *)b->values)[b->n++] = __builtin_nan("");
    b->nnull++;
    return;
  }
  if (!b->has_nulls) { /* the whole bitmap valid: appends then set no bits */
    memset(b->valid, 0xff, bitmap_bytes(b->cap));
    b->has_nulls = 1;
  }
  switch (b->type) {
  case FR_BOOL: ((uint8_t *)b->values)[b->n] = 0; break;
  case FR_STRING: ((int64_t *)b->values)[b->n + 1] = b->alen; break;
  default: ((int64_t *)b->values)[b->n] = 0; break;
  }
  b->valid[b->n >> 3] &= (uint8_t)~(1u << (b->n & 7));
  b->n++;
  b->nnull++;
}

void frb_str(fr_builder *b, const char *s, size_t len) {
  if (b->n >= b->cap && frb_grow(b) != 0) return;
  if (b->alen + (int64_t)len > b->acap) {
    int64_t cap = b->acap < 256 ? 256 : b->acap;
    while (cap < b->alen + (int64_t)len) cap *= 2;
    char *a = base_realloc(b->arena, (size_t)cap);
    if (a == NULL) {
      b->failed = 1;
      return;
    }
    b->arena = a;
    b->acap = cap;
  }
  if (len) memcpy(b->arena + b->alen, s, len);
  b->alen += (int64_t)len;
  ((int64_t *)b->values)[++b->n] = b->alen;
}

void frb_from(fr_builder *b, const fr_col *c, int64_t i) {
  if (fr_isnull(c, i)) {
    frb_null(b);
    return;
  }
  switch (c->type) {
  case FR_FLOAT64: frb_f64(b, ((const double *)c->values)[i]); break;
  case FR_BOOL: frb_bool(b, ((const uint8_t *)c->values)[i]); break;
  case FR_STRING: {
    size_t len;
    const char *s = fr_str(c, i, &len);
    frb_str(b, s, len);
    return;
  }
  default: frb_i64(b, ((const int64_t *)c->values)[i]); break;
  }
}

int frb_finish(fr_builder *b, const char *name, fr_col *out) {
  memset(out, 0, sizeof *out);
  out->name = b->failed ? NULL : base_strdup(name);
  if (out->name == NULL) {
    frb_free(b);
    return -1;
  }
  out->type = b->type;
  out->n = b->n;
  out->nnull = b->nnull;
  if (b->type == FR_STRING) {
    /* the arena after the offsets and bitmap: one owner for all */
    uint64_t vat = bitmap_at(b->type, b->cap), aat = round_up(vat + bitmap_bytes(b->cap));
    buf *s = buf_new(BUF_BYTES, NULL, 0, (size_t)(aat + (uint64_t)b->alen));
    if (s == NULL) {
      base_free(out->name);
      out->name = NULL;
      frb_free(b);
      return -1;
    }
    char *d = buf_wdata(s);
    memcpy(d, b->values, (size_t)(b->n + 1) * 8);
    if (b->has_nulls) memcpy(d + vat, b->valid, bitmap_bytes(b->n));
    if (b->alen) memcpy(d + aat, b->arena, (size_t)b->alen);
    out->owner = s;
    out->offsets = (const int64_t *)d;
    out->arena = d + aat;
    if (b->has_nulls) out->valid = (const uint8_t *)d + vat;
    frb_free(b);
    return 0;
  }
  out->owner = b->store;
  out->values = b->values;
  if (b->has_nulls) out->valid = b->valid;
  b->store = NULL;
  frb_free(b);
  return 0;
}

/* ---- the one-buffer form ---- */

/* The parts of a column of 'type' and 'n' rows: their byte lengths. */
static int col_parts(int type, int64_t n, int64_t alen, int has_valid, uint64_t *bytes) {
  int k = 0;
  if (type == FR_STRING) {
    bytes[k++] = (uint64_t)(n + 1) * 8;
    bytes[k++] = (uint64_t)alen;
  } else {
    bytes[k++] = (uint64_t)n * value_size(type);
  }
  if (has_valid) bytes[k++] = bitmap_bytes(n);
  return k;
}

#define MAGIC "DUSKFRM1"

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> 8 * i); }
static void put64(unsigned char *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> 8 * i); }
static unsigned get16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }
static uint32_t get32(const unsigned char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

static int part_dtype(int type, int part, int nparts, int has_valid) {
  if (has_valid && part == nparts - 1) return BUF_UINT8;
  if (type == FR_STRING) return part == 0 ? BUF_INT64 : BUF_UINT8;
  return type == FR_BOOL ? BUF_BOOL : type == FR_FLOAT64 ? BUF_FLOAT64 : BUF_INT64;
}

int frame_pack(const frame *f, buf **out) {
  *out = NULL;
  int total = 1;
  uint64_t schema = 8 + 8 + 4 + 4;
  for (int k = 0; k < f->ncols; k++) {
    uint64_t b[3];
    total += col_parts(f->cols[k].type, f->nrows, 0, f->cols[k].valid != NULL, b);
    schema += 4 + strlen(f->cols[k].name);
  }
  uint32_t *types = base_calloc((size_t)total, sizeof *types);
  uint64_t *bytes = base_calloc((size_t)total, sizeof *bytes);
  const void **src = base_calloc((size_t)total, sizeof *src);
  unsigned char *sch = base_malloc((size_t)schema);
  buf *b = NULL;
  if (types && bytes && src && sch) {
    unsigned char *p = sch;
    memcpy(p, MAGIC, 8);
    put64(p + 8, (uint64_t)f->nrows);
    put32(p + 16, (uint32_t)f->ncols);
    put32(p + 20, (uint32_t)f->nindex | (uint32_t)(f->series != 0) << 31);
    p += 24;
    types[0] = BUF_UINT8;
    bytes[0] = schema;
    src[0] = sch;
    int j = 1;
    for (int k = 0; k < f->ncols; k++) {
      const fr_col *c = &f->cols[k];
      size_t len = strlen(c->name);
      p[0] = (unsigned char)c->type;
      p[1] = c->valid != NULL;
      put16(p + 2, (unsigned)len);
      memcpy(p + 4, c->name, len);
      p += 4 + len;
      int64_t alen = c->type == FR_STRING ? c->offsets[f->nrows] - c->offsets[0] : 0;
      int np = col_parts(c->type, f->nrows, alen, c->valid != NULL, bytes + j);
      for (int q = 0; q < np; q++) types[j + q] = (uint32_t)part_dtype(c->type, q, np, c->valid != NULL);
      if (c->type == FR_STRING) src[j] = c->offsets, src[j + 1] = c->arena + c->offsets[0];
      else src[j] = c->values;
      if (c->valid) src[j + np - 1] = c->valid;
      j += np;
    }
    buf_table t = {.nrows = (uint64_t)f->nrows, .ncols = (uint32_t)total, .types = types, .bytes = bytes};
    b = buf_new_table(&t);
    if (b) {
      char *d = buf_wdata(b);
      for (int q = 0; q < total; q++)
        if (bytes[q]) memcpy(d + buf_column_offset(&t, (uint32_t)q), src[q], bytes[q]);
      /* offsets rebased to the arena copied from its first used byte */
      j = 1;
      for (int k = 0; k < f->ncols; k++) {
        const fr_col *c = &f->cols[k];
        uint64_t pb[3];
        int np = col_parts(c->type, f->nrows, 0, c->valid != NULL, pb);
        if (c->type == FR_STRING && c->offsets[0] != 0) {
          int64_t *o = (int64_t *)(d + buf_column_offset(&t, (uint32_t)j)), base = c->offsets[0];
          for (int64_t i = 0; i <= f->nrows; i++) o[i] -= base;
        }
        j += np;
      }
    }
  }
  base_free(types);
  base_free(bytes);
  base_free(src);
  base_free(sch);
  *out = b;
  return b ? 0 : -1;
}

static int fail(frame *f, const char **why, const char *msg) {
  frame_free(f);
  *why = msg;
  return -1;
}

int frame_unpack(buf *b, frame *f, const char **why) {
  memset(f, 0, sizeof *f);
  enum { ROOM = 3 * FR_MAXCOLS + 1 };
  static _Thread_local uint32_t types[ROOM];
  static _Thread_local uint64_t bytes[ROOM];
  buf_table t;
  if (buf_table_of(b, &t, types, bytes, ROOM) != 0) return (*why = "not a table buffer"), -1;
  if (t.ncols < 1 || bytes[0] < 24) return (*why = "no frame schema"), -1;
  const unsigned char *d = buf_data(b), *s = d, *end = s + bytes[0];
  if (memcmp(s, MAGIC, 8) != 0) return (*why = "not a frame (bad magic)"), -1;
  uint64_t nrows = get64(s + 8);
  uint32_t ncols = get32(s + 16), nindex = get32(s + 20) & 0x7fffffffu, series = get32(s + 20) >> 31;
  if (nrows != t.nrows || nrows > BUF_MAXSIZE || ncols > FR_MAXCOLS || nindex > ncols)
    return (*why = "bad frame header"), -1;
  if (frame_init(f, (int)ncols, (int64_t)nrows) != 0) return (*why = "not enough memory"), -1;
  f->nindex = (int)nindex;
  f->series = (int)series;
  const unsigned char *p = s + 24;
  uint32_t j = 1;
  for (uint32_t k = 0; k < ncols; k++) {
    if (end - p < 4) return fail(f, why, "truncated frame schema");
    int type = p[0], has_valid = p[1];
    size_t len = get16(p + 2);
    if (type >= FR_NTYPES || has_valid > 1 || (has_valid && type == FR_FLOAT64) || (size_t)(end - p - 4) < len)
      return fail(f, why, "bad column in frame schema");
    fr_col *c = &f->cols[k];
    c->name = base_strndup((const char *)p + 4, len);
    if (c->name == NULL) return fail(f, why, "not enough memory");
    if (memchr(c->name, 0, len)) return fail(f, why, "bad column name in frame schema");
    p += 4 + len;
    c->type = type;
    c->n = (int64_t)nrows;
    uint64_t want[3];
    int np = col_parts(type, (int64_t)nrows, 0, has_valid, want);
    if (j + (uint32_t)np > t.ncols) return fail(f, why, "frame parts missing");
    for (int q = 0; q < np; q++) {
      if (types[j + q] != (uint32_t)part_dtype(type, q, np, has_valid)) return fail(f, why, "bad frame part type");
      if (!(type == FR_STRING && q == 1) && bytes[j + q] != want[q]) return fail(f, why, "bad frame part size");
    }
    const unsigned char *part0 = d + buf_column_offset(&t, j);
    if (type == FR_STRING) {
      const int64_t *o = (const int64_t *)part0;
      if (o[0] != 0 || (uint64_t)o[nrows] != bytes[j + 1]) return fail(f, why, "bad string offsets");
      for (uint64_t i = 0; i < nrows; i++)
        if (o[i + 1] < o[i]) return fail(f, why, "bad string offsets");
      c->offsets = o;
      c->arena = (const char *)(d + buf_column_offset(&t, j + 1));
    } else {
      c->values = part0;
      if (type == FR_BOOL)
        for (uint64_t i = 0; i < nrows; i++)
          if (part0[i] > 1) return fail(f, why, "bad bool value");
    }
    if (has_valid) c->valid = d + buf_column_offset(&t, j + (uint32_t)np - 1);
    c->owner = b;
    buf_incref(b);
    for (int64_t i = 0; i < (int64_t)nrows; i++) c->nnull += fr_isnull(c, i);
    j += (uint32_t)np;
  }
  if (p != end || j != t.ncols) return fail(f, why, "frame schema and parts disagree");
  return 0;
}
