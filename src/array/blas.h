/*
 * blas: matrix products of floats through Debian's OpenBLAS, loaded at
 * first use.
 *
 * Why dlopen rather than linking: OpenBLAS chooses its kernels once, when
 * it is loaded, from OPENBLAS_CORETYPE or its own CPU detection, and
 * Debian's 0.3.21 takes recent CPUs it does not know for a Prescott (its
 * slowest kernel, 4 to 8 times slower).  Loading it ourselves lets dusk
 * choose the core type from the CPU's features first, when the user has
 * not set one.  OpenBLAS runs one thread per call: a task's product runs
 * on the task's thread, and parallelism comes from the blocks.
 *
 * Without the library (not installed, or DUSK_BLAS=none) the products
 * are plain C loops: the same answers up to rounding, slower.
 * DUSK_BLAS=PATH loads another library with cblas_dgemm and cblas_sgemm.
 */
#ifndef DUSK_BLAS_H
#define DUSK_BLAS_H

#include <stdint.h>

/* Loads the library on the first call from any thread (once per
 * process).  Returns 1 when products go through a BLAS, 0 when through
 * the C loops.  The first call sets and restores environment variables,
 * which races with getenv in other threads: make it from the main thread
 * before products run on workers (when a graph with a dot is built). */
int blas_load(void);
/* What runs the products, for `dusk --version` and dusk.config.get("blas"):
 * "OpenBLAS 0.3.21, core SkylakeX (chosen by dusk)", or why there is none
 * ("none (DUSK_BLAS=none): plain C loops").  A static string. */
const char *blas_kernel(void);

/* C = op(A) op(B), or C += op(A) op(B) when 'accumulate', as cblas's
 * row-major gemm with alpha 1 and beta 0 or 1: op(A) is m x k, A stored
 * m x k with row stride 'lda' or, when 'transa', k x m; the same for B
 * (k x n) and C (m x n, row stride 'ldc').  Strides are in elements, at
 * least the row's length.  Sizes beyond a BLAS's int run in the C loops.
 * With k == 0, C becomes zeros (or is left as it was).  Cannot fail; the
 * caller splits long products to poll for interrupts. */
void blas_dgemm(int transa, int transb, int64_t m, int64_t n, int64_t k,
                const double *a, int64_t lda, const double *b, int64_t ldb,
                int accumulate, double *c, int64_t ldc);
void blas_sgemm(int transa, int transb, int64_t m, int64_t n, int64_t k,
                const float *a, int64_t lda, const float *b, int64_t ldb,
                int accumulate, float *c, int64_t ldc);

#endif
