/*
 * fuzz_npy: the .npy header parser (array/npy.c) under libFuzzer.
 *
 * Any bytes are the start of a file: the parser must refuse them with a
 * message naming the file, or give a header that holds together -- a
 * known version, a dtype, at most 32 axes, the data after the header
 * and its byte count the product of the shape times the item size.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array/afile.h"
#include "array/npy.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  npy_info info;
  char err[AFILE_ERRLEN];
  if (npy_parse(data, size, "fuzz.npy", &info, err) != 0) {
    if (strncmp(err, "fuzz.npy: ", 10) != 0) abort();
    return 0;
  }
  if (info.major < 1 || info.major > 3 || info.minor != 0 || info.ndim < 0 || info.ndim > BUF_MAXDIM ||
      info.offset > size || buf_dtype_name(info.dtype) == NULL || info.dtype == BUF_STRING)
    abort();
  uint64_t n = 1;
  for (int d = 0; d < info.ndim; d++) {
    if (info.shape[d] < 0) abort();
    n *= (uint64_t)info.shape[d];
  }
  if (n * buf_dtype_size(info.dtype) != info.nbytes || info.nbytes > BUF_MAXSIZE) abort();
  return 0;
}
