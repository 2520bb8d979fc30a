/*
 * ndtranspose: copying a transposed 2-d view into rows (private to
 * src/array/).  A copy that reads one element per cache line, as a
 * strided loop does, runs at a few cycles an element; in 8 x 8 squares,
 * through registers, it runs at a fraction of one.
 */
#ifndef DUSK_NDTRANSPOSE_H
#define DUSK_NDTRANSPOSE_H

#include <stdint.h>

/* out[r * so + c] = in[c * si + r] for r < rows, c < cols, of 'size'-byte
 * elements (4 or 8), the strides 'si' and 'so' in bytes. */
void ndt_transpose(const char *in, int64_t si, char *out, int64_t so, int64_t rows, int64_t cols,
                   int size);

#endif
