/*
 * binary: x:to_binary(dir) and da.read_binary(dir), dusk's own chunked
 * format: a directory holding ".darray", JSON metadata
 *
 *   {"format": "dusk-binary", "version": 1, "dtype": "float64",
 *    "shape": [5, 7], "chunks": [[2, 2, 1], [7]]}
 *
 * (the chunk sizes of each axis, Dask's explicit chunks), and one file
 * per chunk named by its 0-based grid position ("1.0", "0" for 0-d), each
 * the chunk's buffer frame (data/buffer.h: zstd-compressed when large,
 * an XXH64 checksum), so a read is one buf_decode.
 *
 * Writing is atomic: binary_create makes a temporary directory with the
 * metadata, any task writes its chunk, binary_commit renames the
 * directory into place (replacing an older one), binary_abort removes
 * it.  Errors as afile.h says, naming the file.
 */
#ifndef DUSK_BINARY_H
#define DUSK_BINARY_H

#include <stdint.h>

#include "data/buffer.h"

#define BINARY_MAXCHUNKS (1 << 24) /* most chunks along all axes */

typedef struct binary_meta {
  int dtype, ndim;
  int64_t shape[BUF_MAXDIM];
  int64_t nchunks[BUF_MAXDIM];     /* chunks along each axis */
  int64_t *sizes[BUF_MAXDIM];      /* their sizes, inside 'all' */
  int64_t *all;                    /* base_malloc'd; binary_meta_free */
} binary_meta;

/* Parses the .darray text 'p'['n'] of the file 'path'. */
int binary_parse(const char *p, size_t n, const char *path, binary_meta *m, char *err);
int binary_info_of(const char *dir, binary_meta *m, char *err);
void binary_meta_free(binary_meta *m);
/* The chunk at grid position 'index' (0-based) as a new buffer. */
int binary_read(const char *dir, int ndim, const int64_t *index, buf **out, char *err);

/* Creates the temporary directory for 'dir' with the metadata of 'm'
 * (its sizes summing to its shape); returns its name (base_free it). */
char *binary_create(const char *dir, const binary_meta *m, char *err);
/* Writes the array buffer 'b' as the chunk at 'index'. */
int binary_write(const char *tmp, int ndim, const int64_t *index, const buf *b, char *err);
int binary_commit(const char *tmp, const char *dir, char *err);
int binary_abort(const char *tmp, char *err);

#endif
