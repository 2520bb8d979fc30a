/*
 * npy: numpy's .npy files (format versions 1.0, 2.0 and 3.0), read by
 * region and written by region, for da.from_npy and x:to_npy.
 *
 * A file is the magic "\x93NUMPY", a version, the length of a header
 * that is a Python dict literal {'descr': '<f8', 'fortran_order': False,
 * 'shape': (3, 4), }, then the elements, C or Fortran order, in the byte
 * order of 'descr'.  Reads take any such file and give C-order,
 * native-order buffers; writes make C-order little-endian files, version
 * 1.0 (2.0 when the header needs it), as np.save does.
 *
 * Writing is atomic: npy_create makes the whole file (header and zeros)
 * under a temporary name; any task writes its region with npy_write (the
 * regions must not overlap); npy_commit renames it into place, npy_abort
 * removes it.  All functions fail as afile.h says, naming the file.
 */
#ifndef DUSK_NPY_H
#define DUSK_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "data/buffer.h"

#define NPY_MAXHEADER (1 << 20) /* longest header read (numpy's is 10000) */

typedef struct npy_info {
  int major, minor;      /* format version */
  int dtype;             /* buf_dtype */
  int swap;              /* big-endian elements */
  int fortran;           /* fortran_order */
  int ndim;
  int64_t shape[BUF_MAXDIM];
  uint64_t offset;       /* of the first element */
  uint64_t nbytes;       /* of the data */
} npy_info;

/* Parses the header at the start of 'p'['n'] (the file's first 'n'
 * bytes: all of the header, or less, which is then an error saying it is
 * truncated).  Names the file 'path' in messages. */
int npy_parse(const void *p, size_t n, const char *path, npy_info *info, char *err);
/* The header of the file 'path', checked against the file's size. */
int npy_info_of(const char *path, npy_info *info, char *err);
/* The region 'start', 'count' (per axis, 'ndim' of the file's) as a new
 * C-order array buffer in '*out'. */
int npy_read(const char *path, int ndim, const int64_t *start, const int64_t *count, buf **out,
             char *err);

/* Creates the temporary file for 'path' holding an array of 'dtype' and
 * 'shape', all zeros; returns its name (base_free it) or NULL. */
char *npy_create(const char *path, int dtype, int ndim, const int64_t *shape, char *err);
/* Writes the array buffer 'b' (the file's dtype and ndim) at 'start'. */
int npy_write(const char *tmp, int ndim, const int64_t *start, const buf *b, char *err);
int npy_commit(const char *tmp, const char *path, char *err);
int npy_abort(const char *tmp, char *err);

#endif
