/*
 * zarr: Zarr v2 stores, as Python's zarr, xarray and Dask share chunked
 * arrays: a directory with the JSON metadata ".zarray" and one file per
 * chunk named by its grid position ("1.0.3", or "1/0/3" with
 * dimension_separator "/"), each the chunk's full-size elements (edge
 * chunks too) after the filters and the compressor.
 *
 * Reads take compressor null, zstd or blosc (Debian's libblosc), filters
 * null or numcodecs' "shuffle", order "C" or "F", either byte order; a
 * missing chunk reads as the fill value (zeros when it is null).  Writes
 * make C-order little-endian stores compressed with zstd, optionally
 * after the shuffle filter.
 *
 * Writing is atomic: zarr_create makes a temporary directory with the
 * .zarray, any task writes whole chunks with zarr_write, zarr_commit
 * renames the directory into place (replacing an older store),
 * zarr_abort removes it.  Errors as afile.h says, naming the file.
 */
#ifndef DUSK_ZARR_H
#define DUSK_ZARR_H

#include <stddef.h>
#include <stdint.h>

#include "data/buffer.h"

#define ZARR_MAXMETA (1 << 20) /* longest .zarray read */

enum { ZARR_NONE, ZARR_ZSTD, ZARR_BLOSC };

typedef struct zarr_meta {
  int dtype;                       /* buf_dtype */
  int swap;                        /* big-endian elements */
  int ndim;
  int64_t shape[BUF_MAXDIM];
  int64_t chunks[BUF_MAXDIM];      /* every chunk's full size */
  int compressor;                  /* ZARR_NONE, ZARR_ZSTD, ZARR_BLOSC */
  int level;                       /* zstd's level (writing) */
  int shuffle;                     /* the shuffle filter's element size, or 0 */
  int fortran;                     /* order "F" */
  char sep;                        /* '.' or '/' */
  int fill_null;                   /* fill_value null */
  unsigned char fill[8];           /* the fill value, native order */
} zarr_meta;

/* Parses the .zarray text 'p'['n'] of the store 'path' into '*m'. */
int zarr_parse(const char *p, size_t n, const char *path, zarr_meta *m, char *err);
/* The metadata of the store at 'path'. */
int zarr_info_of(const char *path, zarr_meta *m, char *err);
/* The region 'start', 'count' (per axis) as a new C-order buffer. */
int zarr_read(const char *path, int ndim, const int64_t *start, const int64_t *count, buf **out,
              char *err);

/* Creates the temporary store for 'path' with the metadata 'm' (its
 * 'swap' and 'fortran' must be 0); returns its name (base_free it). */
char *zarr_create(const char *path, const zarr_meta *m, char *err);
/* Writes the array buffer 'b' at 'start' of the store 'tmp': a region
 * made of whole chunks (whole but for the array's edges). */
int zarr_write(const char *tmp, int ndim, const int64_t *start, const buf *b, char *err);
int zarr_commit(const char *tmp, const char *path, char *err);
int zarr_abort(const char *tmp, char *err);

#endif
