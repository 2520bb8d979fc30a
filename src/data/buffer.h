/*
 * buffer: immutable, refcounted C data shared between worker threads
 * without copying: an array chunk, a table partition, or plain bytes.
 *
 * A buffer is one allocation: its header (refcount, type tag, sizes), a
 * small metadata block saying how to read the data (buf_array,
 * buf_table), then the data, 64-byte aligned and followed by zeros up to
 * the next multiple of 64, so a kernel may read whole vectors.  Its maker
 * fills the data through buf_wdata before anyone else sees it; from then
 * on it never changes, so any number of threads may read it at once.
 * Each holder owns one reference; the last buf_decref frees it.
 *
 * The frame form (buf_encode, buf_decode) moves a buffer between
 * processes, machines and spill files: the serial header with its kind
 * byte SERIAL_KIND_BUFFER, zstd above SERIAL_COMPRESS_MIN, an XXH64
 * checksum.  Layouts in metadata and frames are little-endian.
 */
#ifndef DUSK_BUFFER_H
#define DUSK_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "serial/serial.h"

typedef enum {
  BUF_BYTES = 1, /* no metadata */
  BUF_NDARRAY,   /* an array chunk: metadata buf_array */
  BUF_TABLE,     /* a table partition: metadata buf_table */
  BUF_NTAGS
} buf_tag;

/* Element types of arrays and columns; BUF_STRING only for columns (its
 * layout inside the column is the table's). */
typedef enum {
  BUF_BOOL, BUF_INT8, BUF_INT16, BUF_INT32, BUF_INT64,
  BUF_UINT8, BUF_UINT16, BUF_UINT32, BUF_UINT64,
  BUF_FLOAT32, BUF_FLOAT64, BUF_STRING,
  BUF_NDTYPES
} buf_dtype;

#define BUF_ALIGN 64
#define BUF_MAXDIM 32   /* numpy's limit */
#define BUF_MAXCOLS 4096
#define BUF_MAXSIZE ((uint64_t)1 << 40) /* most data bytes of a buffer */

/* An array chunk: C-contiguous elements of one dtype (not BUF_STRING);
 * the data is exactly the product of 'shape' times the item size.
 * Metadata bytes: dtype (1), ndim (1), 6 zeros, ndim int64 extents. */
typedef struct buf_array {
  int dtype, ndim;
  int64_t shape[BUF_MAXDIM];
} buf_array;

/* A table partition: 'nrows' rows in 'ncols' columns, column k being
 * 'bytes[k]' bytes of type 'types[k]' at the first 64-aligned offset
 * after column k-1; the data ends where the last column ends.
 * Metadata bytes: nrows (8), ncols (4), 4 zeros, then per column its
 * type (4) and 4 zeros, and its byte length (8). */
typedef struct buf_table {
  uint64_t nrows;
  uint32_t ncols;
  const uint32_t *types;
  const uint64_t *bytes;
} buf_table;

typedef struct buf buf;

/* A buffer of 'size' data bytes (left for the caller to fill) tagged
 * 'tag', with a copy of the 'metalen' bytes at 'meta'; one reference.
 * NULL when out of memory or when 'meta' is not a valid layout for 'tag'
 * and 'size' (buf_checkmeta). */
buf *buf_new(buf_tag tag, const void *meta, size_t metalen, size_t size);
/* A BUF_NDARRAY buffer for 'a', its data left to fill; NULL as buf_new. */
buf *buf_new_array(const buf_array *a);
/* A BUF_TABLE buffer for 't', its data left to fill; NULL as buf_new. */
buf *buf_new_table(const buf_table *t);

/* 0 when 'metalen' bytes at 'meta' are a valid metadata block for 'tag'
 * with 'size' data bytes; else -1. */
int buf_checkmeta(int tag, const unsigned char *meta, size_t metalen, uint64_t size);

void buf_incref(buf *b);
/* Drops the caller's reference: after the call 'b' is no longer valid to
 * the caller.  The last reference frees the buffer; an underflow aborts. */
void buf_decref(buf *b);
/* The current count: for tests and reports (another thread may change it). */
unsigned buf_refcount(const buf *b);

buf_tag buf_type(const buf *b);
const void *buf_data(const buf *b);
/* The data to fill, only before the buffer is shared. */
void *buf_wdata(buf *b);
size_t buf_size(const buf *b);
/* The metadata block and its length in '*len'. */
const unsigned char *buf_meta(const buf *b, size_t *len);
/* Offset of column 'k' of a table's data (buf_table's rule). */
uint64_t buf_column_offset(const buf_table *t, uint32_t k);
/* Read the metadata of an array (or a table) buffer into 'a' (or 't',
 * whose 'types' and 'bytes' then point to the caller's arrays of 'room'
 * entries).  Return 0, or -1 for another tag or too little room. */
int buf_array_of(const buf *b, buf_array *a);
int buf_table_of(const buf *b, buf_table *t, uint32_t *types, uint64_t *bytes, uint32_t room);
/* Bytes of one element of 'dtype' (BUF_STRING: 0). */
size_t buf_dtype_size(int dtype);
/* "float64", "string", ...; NULL for no dtype. */
const char *buf_dtype_name(int dtype);
/* "bytes", "ndarray", "table". */
const char *buf_tag_name(int tag);

/* Appends the frame of 'b' to 'out', zstd-compressed when 'flags' has
 * SERIAL_COMPRESS and the data is at least SERIAL_COMPRESS_MIN bytes.
 * Returns 0, or -1 when out of memory ('out' unchanged). */
int buf_encode(const buf *b, int flags, serial_buf *out);
/* The most bytes buf_encode appends with 'flags' (exactly, without
 * SERIAL_COMPRESS). */
size_t buf_encode_bound(const buf *b, int flags);
/* Decodes the frame in 'p'[0..n) into a new buffer with one reference in
 * '*out'.  Any input is safe.  Returns 0; or -1 with '*why' a static
 * message ("not enough memory" when that is the cause), '*out' NULL. */
int buf_decode(const void *p, size_t n, buf **out, const char **why);

#endif
