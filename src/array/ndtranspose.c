/*
 * ndtranspose: transposed copies in squares (ndtranspose.h).
 *
 * DESIGN.  The copy walks 8 x 8 squares: eight rows of the input loaded
 * into registers, transposed there by three rounds of shuffles (AVX-512,
 * for 8-byte elements) and stored as eight rows of the output; edges and
 * other CPUs go element by element within squares, which still uses each
 * cache line of the input eight times while it is in L1.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the squares' loops unrolled, their rows in registers */
#endif

#include "array/ndtranspose.h"

#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NDT_X86 1
#include <immintrin.h>
#endif

#define SQ 8

/* One square (or the part of one at an edge) element by element. */
static void square_plain(const char *in, int64_t si, char *out, int64_t so, int64_t rows,
                         int64_t cols, int size) {
  for (int64_t r = 0; r < rows; r++)
    for (int64_t c = 0; c < cols; c++) memcpy(out + r * so + c * size, in + c * si + r * size, (size_t)size);
}

#ifdef NDT_X86
/* An 8 x 8 square of doubles: rows c of the input are columns of the output. */
__attribute__((target("avx512f"))) static void square8_avx512(const char *in, int64_t si, char *out,
                                                              int64_t so) {
  __m512d r[8], t[8];
  for (int c = 0; c < 8; c++) r[c] = _mm512_loadu_pd(in + c * si);
  for (int c = 0; c < 8; c += 2) { /* pairs of input rows interleaved */
    t[c] = _mm512_unpacklo_pd(r[c], r[c + 1]);
    t[c + 1] = _mm512_unpackhi_pd(r[c], r[c + 1]);
  }
  /* then 128-bit pairs of two such, then 256-bit halves */
  const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  const __m512i lo2 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
  const __m512i hi2 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
  __m512d u[8];
  for (int c = 0; c < 2; c++) {
    u[c] = _mm512_permutex2var_pd(t[c], lo, t[c + 2]);
    u[c + 2] = _mm512_permutex2var_pd(t[c], hi, t[c + 2]);
    u[c + 4] = _mm512_permutex2var_pd(t[c + 4], lo, t[c + 6]);
    u[c + 6] = _mm512_permutex2var_pd(t[c + 4], hi, t[c + 6]);
  }
  /* u[k] holds output rows k and k + 4 of input rows 0-3, u[k + 4] of 4-7 */
  for (int k = 0; k < 4; k++) {
    _mm512_storeu_pd(out + k * so, _mm512_permutex2var_pd(u[k], lo2, u[k + 4]));
    _mm512_storeu_pd(out + (k + 4) * so, _mm512_permutex2var_pd(u[k], hi2, u[k + 4]));
  }
}

static int have_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
#endif

void ndt_transpose(const char *in, int64_t si, char *out, int64_t so, int64_t rows, int64_t cols,
                   int size) {
#ifdef NDT_X86
  /* the CPU's answer, the same for every thread that asks first */
  static _Atomic int known = -1;
  int fast = atomic_load_explicit(&known, memory_order_relaxed);
  if (fast < 0) atomic_store_explicit(&known, fast = have_avx512(), memory_order_relaxed);
#endif
  for (int64_t r0 = 0; r0 < rows; r0 += SQ)
    for (int64_t c0 = 0; c0 < cols; c0 += SQ) {
      const char *i = in + c0 * si + r0 * size;
      char *o = out + r0 * so + c0 * size;
      int64_t nr = rows - r0 < SQ ? rows - r0 : SQ, nc = cols - c0 < SQ ? cols - c0 : SQ;
#ifdef NDT_X86
      if (fast && size == 8 && nr == SQ && nc == SQ) {
        square8_avx512(i, si, o, so);
        continue;
      }
#endif
      square_plain(i, si, o, so, nr, nc, size);
    }
}
