/*
 * h5: HDF5 datasets through Debian's serial libhdf5, for da.from_hdf5 and
 * x:to_hdf5: a dataset's shape, dtype and chunk shape, a hyperslab read
 * into a fresh buffer, and atomic writing -- h5_create makes a new file
 * under a temporary name holding the dataset (chunked when asked), any
 * task writes its region with h5_write, h5_commit renames the file into
 * place (replacing the file at 'path', with whatever else it held),
 * h5_abort removes it.  The library is opened at the first call (h5.c);
 * without it every function is an error saying why.
 *
 * The serial library is not thread-safe: every HDF5 call of the process
 * runs under one mutex of this file, held for one whole operation (open,
 * read or write, close); the caller's work on the buffers is outside.
 * Booleans are h5py's: an enum of int8 {FALSE = 0, TRUE = 1}.  Errors as
 * afile.h says, naming the file and the dataset.
 */
#ifndef DUSK_H5_H
#define DUSK_H5_H

#include <stdint.h>

#include "data/buffer.h"

typedef struct h5_info {
  int dtype;                       /* buf_dtype */
  int ndim;
  int64_t shape[BUF_MAXDIM];
  int chunked;                     /* chunked layout: 'chunks' holds its shape */
  int64_t chunks[BUF_MAXDIM];
} h5_info;

int h5_info_of(const char *path, const char *dataset, h5_info *info, char *err);
/* The region 'start', 'count' of the dataset as a new C-order buffer. */
int h5_read(const char *path, const char *dataset, int ndim, const int64_t *start,
            const int64_t *count, buf **out, char *err);

/* Creates the temporary file for 'path' with the dataset 'dataset' (its
 * groups made as needed) of 'dtype' and 'shape', chunked by 'chunks'
 * when not NULL (each clamped to the shape, as HDF5 requires); returns
 * its name (base_free it), or NULL. */
char *h5_create(const char *path, const char *dataset, int dtype, int ndim, const int64_t *shape,
                const int64_t *chunks, char *err);
/* Writes the array buffer 'b' (the dataset's dtype) at 'start'. */
int h5_write(const char *tmp, const char *dataset, int ndim, const int64_t *start, const buf *b,
             char *err);
int h5_commit(const char *tmp, const char *path, char *err);
int h5_abort(const char *tmp, char *err);

#endif
