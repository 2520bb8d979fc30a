/*
 * frame: the in-memory table (a DataFrame's partition, dusk.frame): typed
 * columns, each a view of one refcounted buffer (data/buffer.h), so that
 * choosing, renaming and adding columns copy no data.
 *
 * Column types are pandas' as API.md names them: int64 (nulls in a
 * validity bitmap: an integer column with gaps stays int64), float64
 * (NaN is its null, as pandas'), bool, string (int64 offsets into one
 * byte arena) and datetime (int64 nanoseconds since 1970).  A bitmap bit
 * of 1 is a value, 0 a null; no bitmap means no nulls.
 *
 * A frame crosses tasks, processes and spill files as one BUF_TABLE
 * buffer (frame_pack / frame_unpack): its first column is the schema --
 * the magic "DUSKFRM1", the row and column counts, then per column its
 * type, flags and name -- and the parts of each column follow in order
 * (values, or offsets and arena; then the bitmap when it has one).
 * frame_unpack checks every byte of that against the buffer's sizes.
 *
 * Folder src/frame/ owns the C side of DataFrames: frames, the CSV
 * reader, group-by and reductions.  It includes base/ and data/buffer.h:
 * no Lua, no threads.
 */
#ifndef DUSK_FRAME_H
#define DUSK_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "data/buffer.h"

typedef enum { FR_INT64, FR_FLOAT64, FR_BOOL, FR_STRING, FR_DATETIME, FR_NTYPES } fr_type;

#define FR_MAXCOLS 1024
#define FR_MAXNAME 65535

typedef struct fr_col {
  char *name;             /* owned */
  int type;               /* fr_type */
  int64_t n;
  buf *owner;             /* one reference: the buffer holding the bytes */
  const void *values;     /* int64_t, double, uint8_t (0 or 1), int64_t ns; NULL for strings */
  const int64_t *offsets; /* strings: n + 1, from 0 */
  const char *arena;      /* strings */
  const uint8_t *valid;   /* NULL: no nulls */
  int64_t nnull;          /* nulls (NaN for float64) */
} fr_col;

typedef struct frame {
  int64_t nrows;
  int ncols;
  int nindex; /* leading columns that are the row labels (a group-by's keys) */
  int series; /* a Series: its one column after the index */
  fr_col *cols;
} frame;

/* "int64", ...; -1 / NULL for no such type. */
const char *fr_type_name(int type);
int fr_type_of(const char *name);

static inline int fr_isnull(const fr_col *c, int64_t i) {
  if (c->type == FR_FLOAT64) {
    double v = ((const double *)c->values)[i];
    return v != v;
  }
  return c->valid && !((c->valid[i >> 3] >> (i & 7)) & 1);
}
static inline const char *fr_str(const fr_col *c, int64_t i, size_t *len) {
  *len = (size_t)(c->offsets[i + 1] - c->offsets[i]);
  return c->arena + c->offsets[i];
}

/* A 64-bit finalizer (MurmurHash3's fmix64): every bit of h into every bit. */
static inline uint64_t fr_mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53u;
  return h ^ (h >> 33);
}
/* A hash of row i of c, alike for values that compare equal (int64 2,
 * float64 2.0, bool true and 1; -0.0 and 0.0); all nulls hash alike. */
uint64_t fr_hash_value(const fr_col *c, int64_t i);

/* An empty frame of 'ncols' columns (names and data left to set), or -1
 * when out of memory. */
int frame_init(frame *f, int ncols, int64_t nrows);
void frame_free(frame *f);
/* 'dst' a new frame sharing the columns of 'src' (references taken). */
int frame_copy(frame *dst, const frame *src);
/* 'dst' = column 'c' with a new reference and a copy of its name
 * (renamed to 'name' unless NULL).  0, or -1 when out of memory. */
int fr_col_ref(fr_col *dst, const fr_col *c, const char *name);
void fr_col_free(fr_col *c);
/* The index of column 'name', or -1. */
int frame_find(const frame *f, const char *name);

/* A column being built row by row.  Its values (or string offsets) and
 * room for a bitmap are one buffer from the start, sized by the hint,
 * so a column built within its hint becomes the column without a copy. */
typedef struct fr_builder {
  int type;
  int64_t n, cap;
  buf *store;        /* values, then the bitmap's room */
  void *values;      /* 8-byte values, or bytes for bool; offsets for strings */
  uint8_t *valid;    /* in 'store'; used from the first null */
  int has_nulls;
  char *arena;       /* strings */
  int64_t alen, acap;
  int64_t nnull;
  int failed;        /* out of memory: the column is lost */
} fr_builder;

void frb_init(fr_builder *b, int type, int64_t cap_hint);
void frb_free(fr_builder *b);
/* Room for one more row; 0, or -1 (and 'failed') when out of memory. */
int frb_grow(fr_builder *b);
void frb_null(fr_builder *b);               /* appends a null */
void frb_str(fr_builder *b, const char *s, size_t len);
/* Appends row 'i' of 'c' (of the builder's type). */
void frb_from(fr_builder *b, const fr_col *c, int64_t i);
/* The column built, named 'name', into 'out' (the builder is freed).
 * 0, or -1 when out of memory. */
int frb_finish(fr_builder *b, const char *name, fr_col *out);

static inline void frb_i64(fr_builder *b, int64_t v) { /* int64, datetime */
  if (b->n < b->cap || frb_grow(b) == 0) ((int64_t *)b->values)[b->n++] = v;
}
static inline void frb_f64(fr_builder *b, double v) {
  if (b->n < b->cap || frb_grow(b) == 0) {
    ((double *)b->values)[b->n++] = v;
    b->nnull += v != v;
  }
}
static inline void frb_bool(fr_builder *b, int v) {
  if (b->n < b->cap || frb_grow(b) == 0) ((uint8_t *)b->values)[b->n++] = v != 0;
}

/* One BUF_TABLE buffer holding 'f' (a new reference in '*out'): the
 * buffer of its columns when they all view one such buffer whole, else
 * a packed copy.  0, or -1 when out of memory. */
int frame_pack(const frame *f, buf **out);
/* The frame 'b' holds (columns referencing 'b').  0; or -1 with '*why' a
 * static message when 'b' is not a valid frame. */
int frame_unpack(buf *b, frame *f, const char **why);

#endif
