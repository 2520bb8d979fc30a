/*
 * buffer: refcounted C data (see buffer.h).
 *
 * DESIGN
 *
 * One allocation holds the header, the metadata and the data: a buffer
 * is freed by one call and its parts are one cache walk apart.  The data
 * starts at the first 64-byte boundary after the metadata (base_realloc
 * only promises malloc's alignment, so the block is over-allocated by
 * 63 bytes); its tail up to a multiple of 64 is zeroed, so kernels may
 * read whole vectors past the last element.
 *
 * The refcount is atomic: readers on any thread incref and decref.  The
 * decrement that reaches zero acquires every earlier release, so the
 * freeing thread sees all reads done (Redis's decrRefCount, plus an
 * abort on underflow, which is always a bug).
 *
 * A frame is
 *
 *   header     16  SERIAL_MAGIC, SERIAL_VERSION, SERIAL_KIND_BUFFER, tag,
 *                  flags (SERIAL_FZSTD), data size (u64)
 *   metalen     8  u32, 4 zeros
 *   metadata       metalen bytes
 *   data           size bytes, or one zstd frame of them
 *   checksum    8  XXH64 of everything before it
 *
 * The checksum covers the bytes as stored, header included, so a damaged
 * frame is refused before anything is allocated or decompressed; a
 * compressed frame also carries zstd's own checksum of what decompression
 * produced, which zstd computes as it goes.  XXH64 (libxxhash) rather
 * than a byte-at-a-time hash such as FNV: frames are megabytes, and
 * XXH64 reads them at memory speed.  Only the metadata and the data are
 * compressed: the decoder learns the sizes first and decompresses
 * straight into the new buffer.
 */
#include "data/buffer.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: memory from base/alloc.h */
#include <zstd.h>
#include <zstd_errors.h>

#include "base/alloc.h"

struct buf {
  atomic_uint refs;
  uint8_t tag;
  uint32_t metalen;
  size_t size;
  unsigned char *data; /* 64-aligned, inside this block */
  unsigned char meta[];
};

#define FRAME_HEAD (SERIAL_HEADER + 8)
#define FRAME_TAIL 8

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static uint32_t get32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static int zeros(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

/* ---- names and layouts ---- */

static const struct { const char *name; uint8_t size; } dtypes[BUF_NDTYPES] = {
  {"bool", 1}, {"int8", 1}, {"int16", 2}, {"int32", 4}, {"int64", 8},
  {"uint8", 1}, {"uint16", 2}, {"uint32", 4}, {"uint64", 8},
  {"float32", 4}, {"float64", 8}, {"string", 0},
};

size_t buf_dtype_size(int dtype) {
  return dtype >= 0 && dtype < BUF_NDTYPES ? dtypes[dtype].size : 0;
}

const char *buf_dtype_name(int dtype) {
  return dtype >= 0 && dtype < BUF_NDTYPES ? dtypes[dtype].name : NULL;
}

const char *buf_tag_name(int tag) {
  static const char *const names[BUF_NTAGS] = {NULL, "bytes", "ndarray", "table"};
  return tag > 0 && tag < BUF_NTAGS ? names[tag] : NULL;
}

static uint64_t round_up(uint64_t n) { return (n + BUF_ALIGN - 1) & ~(uint64_t)(BUF_ALIGN - 1); }

static int check_array(const unsigned char *m, size_t len, uint64_t size) {
  if (len < 8 || m[0] >= BUF_STRING || m[1] > BUF_MAXDIM || !zeros(m + 2, 6)) return -1;
  if (len != 8 + 8 * (size_t)m[1]) return -1;
  uint64_t n = dtypes[m[0]].size;
  for (int d = 0; d < m[1]; d++) {
    uint64_t e = get64(m + 8 + 8 * d);
    if (e > BUF_MAXSIZE) return -1; /* also a negative int64 */
    if (n != 0 && e > BUF_MAXSIZE / n) return -1;
    n *= e;
  }
  return n == size ? 0 : -1;
}

static int check_table(const unsigned char *m, size_t len, uint64_t size) {
  if (len < 16 || !zeros(m + 12, 4)) return -1;
  uint32_t ncols = get32(m + 8);
  if (ncols > BUF_MAXCOLS || len != 16 + 16 * (size_t)ncols) return -1;
  uint64_t end = 0;
  for (uint32_t k = 0; k < ncols; k++) {
    const unsigned char *c = m + 16 + 16 * (size_t)k;
    uint64_t bytes = get64(c + 8);
    if (get32(c) >= BUF_NDTYPES || !zeros(c + 4, 4) || bytes > BUF_MAXSIZE) return -1;
    end = (k ? round_up(end) : 0) + bytes; /* at most BUF_MAXCOLS * 2^40 */
  }
  return end == size ? 0 : -1;
}

int buf_checkmeta(int tag, const unsigned char *meta, size_t metalen, uint64_t size) {
  if (size > BUF_MAXSIZE) return -1;
  switch (tag) {
  case BUF_BYTES: return metalen == 0 ? 0 : -1;
  case BUF_NDARRAY: return check_array(meta, metalen, size);
  case BUF_TABLE: return check_table(meta, metalen, size);
  default: return -1;
  }
}

uint64_t buf_column_offset(const buf_table *t, uint32_t k) {
  uint64_t off = 0;
  for (uint32_t j = 0; j < k; j++) off = round_up(off + t->bytes[j]);
  return off;
}

/* ---- buffers ---- */

buf *buf_new(buf_tag tag, const void *meta, size_t metalen, size_t size) {
  if (buf_checkmeta(tag, meta, metalen, size) != 0) return NULL;
  size_t padded = (size_t)round_up(size);
  buf *b = base_malloc(sizeof *b + metalen + (BUF_ALIGN - 1) + padded);
  if (b == NULL) return NULL;
  atomic_init(&b->refs, 1);
  b->tag = (uint8_t)tag;
  b->metalen = (uint32_t)metalen;
  b->size = size;
  if (metalen) memcpy(b->meta, meta, metalen);
  uintptr_t at = (uintptr_t)(b->meta + metalen);
  b->data = (unsigned char *)((at + BUF_ALIGN - 1) & ~(uintptr_t)(BUF_ALIGN - 1));
  memset(b->data + size, 0, padded - size);
  return b;
}

buf *buf_new_array(const buf_array *a) {
  if (a->dtype < 0 || a->dtype >= BUF_STRING || a->ndim < 0 || a->ndim > BUF_MAXDIM) return NULL;
  unsigned char m[8 + 8 * BUF_MAXDIM] = {0};
  m[0] = (unsigned char)a->dtype;
  m[1] = (unsigned char)a->ndim;
  uint64_t n = dtypes[a->dtype].size;
  for (int d = 0; d < a->ndim; d++) {
    uint64_t e = (uint64_t)a->shape[d];
    if (a->shape[d] < 0 || e > BUF_MAXSIZE || (n != 0 && e > BUF_MAXSIZE / n)) return NULL;
    n *= e;
    put64(m + 8 + 8 * d, e);
  }
  return buf_new(BUF_NDARRAY, m, 8 + 8 * (size_t)a->ndim, (size_t)n);
}

buf *buf_new_table(const buf_table *t) {
  if (t->ncols > BUF_MAXCOLS) return NULL;
  for (uint32_t k = 0; k < t->ncols; k++)
    if (t->bytes[k] > BUF_MAXSIZE) return NULL; /* so 'end' below cannot wrap */
  size_t len = 16 + 16 * (size_t)t->ncols;
  unsigned char *m = base_calloc(1, len);
  if (m == NULL) return NULL;
  put64(m, t->nrows);
  put32(m + 8, t->ncols);
  uint64_t end = 0;
  for (uint32_t k = 0; k < t->ncols; k++) {
    put32(m + 16 + 16 * (size_t)k, t->types[k]);
    put64(m + 24 + 16 * (size_t)k, t->bytes[k]);
    end = (k ? round_up(end) : 0) + t->bytes[k];
  }
  buf *b = end <= BUF_MAXSIZE ? buf_new(BUF_TABLE, m, len, (size_t)end) : NULL;
  base_free(m);
  return b;
}

void buf_incref(buf *b) { atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed); }

void buf_decref(buf *b) {
  unsigned before = atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel);
  if (before == 0) abort(); /* underflow: a bug */
  if (before == 1) base_free(b);
}

unsigned buf_refcount(const buf *b) {
  return atomic_load_explicit(&((buf *)b)->refs, memory_order_relaxed);
}

buf_tag buf_type(const buf *b) { return (buf_tag)b->tag; }
const void *buf_data(const buf *b) { return b->data; }
void *buf_wdata(buf *b) { return b->data; }
size_t buf_size(const buf *b) { return b->size; }

const unsigned char *buf_meta(const buf *b, size_t *len) {
  *len = b->metalen;
  return b->meta;
}

int buf_array_of(const buf *b, buf_array *a) {
  if (b->tag != BUF_NDARRAY) return -1;
  a->dtype = b->meta[0];
  a->ndim = b->meta[1];
  for (int d = 0; d < a->ndim; d++) a->shape[d] = (int64_t)get64(b->meta + 8 + 8 * d);
  return 0;
}

int buf_table_of(const buf *b, buf_table *t, uint32_t *types, uint64_t *bytes, uint32_t room) {
  if (b->tag != BUF_TABLE) return -1;
  t->nrows = get64(b->meta);
  t->ncols = get32(b->meta + 8);
  if (t->ncols > room) return -1;
  for (uint32_t k = 0; k < t->ncols; k++) {
    types[k] = get32(b->meta + 16 + 16 * (size_t)k);
    bytes[k] = get64(b->meta + 24 + 16 * (size_t)k);
  }
  t->types = types;
  t->bytes = bytes;
  return 0;
}

/* ---- frames ---- */

static int compresses(const buf *b, int flags) {
  return (flags & SERIAL_COMPRESS) && b->size >= SERIAL_COMPRESS_MIN;
}

size_t buf_encode_bound(const buf *b, int flags) {
  size_t room = compresses(b, flags) ? ZSTD_compressBound(b->size) : b->size;
  if (room < b->size) room = b->size;
  return FRAME_HEAD + b->metalen + room + FRAME_TAIL;
}

int buf_encode(const buf *b, int flags, serial_buf *out) {
  int zstd = compresses(b, flags);
  size_t start = out->len, room = buf_encode_bound(b, flags) - FRAME_HEAD - b->metalen - FRAME_TAIL;
  if (serial_buf_reserve(out, buf_encode_bound(b, flags)) != 0) return -1;
  unsigned char *h = out->p + start;
  memcpy(h, SERIAL_MAGIC, 4);
  h[4] = SERIAL_VERSION;
  h[5] = SERIAL_KIND_BUFFER;
  h[6] = b->tag;
  put64(h + 8, b->size);
  put32(h + 16, b->metalen);
  memset(h + 20, 0, 4);
  memcpy(h + FRAME_HEAD, b->meta, b->metalen);
  unsigned char *d = h + FRAME_HEAD + b->metalen;
  size_t stored = 0;
  if (zstd) {
    ZSTD_CCtx *cc = ZSTD_createCCtx_advanced((ZSTD_customMem){base_zalloc, base_zfree, NULL});
    if (cc) {
      ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
      ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
      size_t z = ZSTD_compress2(cc, d, room, b->data, b->size);
      if (!ZSTD_isError(z) && z < b->size) stored = z;
      ZSTD_freeCCtx(cc);
    }
  }
  h[7] = stored ? SERIAL_FZSTD : 0;
  if (!stored) {
    if (b->size) memcpy(d, b->data, b->size);
    stored = b->size;
  }
  size_t n = FRAME_HEAD + b->metalen + stored;
  put64(h + n, XXH64(h, n, 0));
  out->len = start + n + FRAME_TAIL;
  return 0;
}

#define REFUSE(msg) do { *why = (msg); return -1; } while (0)

int buf_decode(const void *p, size_t n, buf **out, const char **why) {
  const unsigned char *h = p;
  *out = NULL;
  if (n < FRAME_HEAD + FRAME_TAIL) REFUSE("buffer frame: truncated");
  if (memcmp(h, SERIAL_MAGIC, 4) != 0 || h[5] != SERIAL_KIND_BUFFER)
    REFUSE("buffer frame: not a buffer frame");
  if (h[4] != SERIAL_VERSION) REFUSE("buffer frame: another format version");
  if (get64(h + n - FRAME_TAIL) != XXH64(h, n - FRAME_TAIL, 0))
    REFUSE("buffer frame: bad checksum");
  if (h[7] & ~SERIAL_FZSTD) REFUSE("buffer frame: unknown flags");
  uint64_t size = get64(h + 8);
  uint32_t metalen = get32(h + 16);
  size_t body = n - FRAME_HEAD - FRAME_TAIL;
  if (!zeros(h + 20, 4) || metalen > body) REFUSE("buffer frame: bad metadata length");
  const unsigned char *meta = h + FRAME_HEAD, *d = meta + metalen;
  size_t stored = body - metalen;
  if (buf_checkmeta(h[6], meta, metalen, size) != 0) REFUSE("buffer frame: bad metadata");
  int zstd = h[7] & SERIAL_FZSTD;
  if (!zstd && stored != size) REFUSE("buffer frame: wrong data length");
  /* a zstd block of 3 bytes may stand for 128 KB, no more */
  if (zstd && (size / 65536 > stored || ZSTD_getFrameContentSize(d, stored) != size ||
               ZSTD_findFrameCompressedSize(d, stored) != stored))
    REFUSE("buffer frame: bad compressed data");
  buf *b = buf_new(h[6], meta, metalen, (size_t)size);
  if (b == NULL) REFUSE("not enough memory");
  if (!zstd) {
    if (size) memcpy(b->data, d, size);
  } else {
    ZSTD_DCtx *dc = ZSTD_createDCtx_advanced((ZSTD_customMem){base_zalloc, base_zfree, NULL});
    if (dc == NULL) {
      buf_decref(b);
      REFUSE("not enough memory");
    }
    size_t got = ZSTD_decompressDCtx(dc, b->data, size, d, stored);
    ZSTD_freeDCtx(dc);
    if (ZSTD_isError(got) || got != size) {
      buf_decref(b);
      REFUSE(ZSTD_getErrorCode(got) == ZSTD_error_memory_allocation ? "not enough memory"
                                                                    : "buffer frame: bad compressed data");
    }
  }
  *out = b;
  return 0;
}
