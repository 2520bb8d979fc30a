/*
 * fuzz_zarr: the JSON metadata readers of the array formats -- Zarr's
 * .zarray (array/zarr.c) and the binary format's .darray
 * (array/binary.c), both over array/ajson.c -- under libFuzzer.
 *
 * Each input is parsed as both.  A refusal must name the file; metadata
 * taken must hold together: at most 32 axes, shapes >= 0, Zarr chunks
 * >= 1, a known compressor and dtype, binary chunk sizes that sum to
 * each axis.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array/afile.h"
#include "array/binary.h"
#include "array/zarr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

static int valid_dtype(int d) {
  return buf_dtype_name(d) != NULL && d != BUF_STRING;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[AFILE_ERRLEN];
  zarr_meta m;
  if (zarr_parse((const char *)data, size, "f/.zarray", &m, err) != 0) {
    if (strncmp(err, "f/.zarray: ", 11) != 0) abort();
  } else {
    if (m.ndim < 0 || m.ndim > BUF_MAXDIM || !valid_dtype(m.dtype) || m.compressor < ZARR_NONE ||
        m.compressor > ZARR_BLOSC || (m.sep != '.' && m.sep != '/') || m.shuffle < 0)
      abort();
    for (int d = 0; d < m.ndim; d++)
      if (m.shape[d] < 0 || m.chunks[d] < 1) abort();
  }
  binary_meta b;
  if (binary_parse((const char *)data, size, "f/.darray", &b, err) != 0) {
    if (strncmp(err, "f/.darray: ", 11) != 0 || b.all != NULL) abort();
    return 0;
  }
  if (b.ndim < 0 || b.ndim > BUF_MAXDIM || !valid_dtype(b.dtype)) abort();
  for (int d = 0; d < b.ndim; d++) {
    int64_t sum = 0;
    for (int64_t i = 0; i < b.nchunks[d]; i++) sum += b.sizes[d][i];
    if (sum != b.shape[d] || b.nchunks[d] < 1) abort();
  }
  binary_meta_free(&b);
  return 0;
}
