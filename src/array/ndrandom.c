/*
 * ndrandom: Philox4x32-10 fills of array regions (ndrandom.h).
 *
 * DESIGN.  A fill walks the rows of its region (the last axis, whose
 * elements have consecutive flat positions p) in pieces of at most PIECE
 * elements.  A piece asks the path for the Philox blocks that cover it --
 * the one vectorised step, 8 or 16 counters side by side -- into a small
 * scratch that stays in L1, then turns the words into values of out's
 * dtype: straight into 'out' when the row is contiguous, else through a
 * second scratch and a strided store.  Rejections (ziggurat, Lemire) are
 * rare and run in scalar code on the element's own further counters, so
 * they change no other element.  Every path gives the same words for the
 * same counters, and the conversions are exact (53- and 24-bit integers
 * times powers of 2), so every path gives the same bits.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "array/ndrandom.h"
#include "base/interrupt.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NDRANDOM_X86 1
#include <immintrin.h>
#endif

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u /* the golden ratio */
#define PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

enum { STREAM_RANDOM, STREAM_NORMAL, STREAM_RANDINT };

#define PIECE 1024          /* elements a piece: scratch of 8 KiB */
#define POLL_EVERY (1 << 20) /* elements between interrupt polls */

#include "array/ndrandom_tables.h"

void ndrandom_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
  uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  uint32_t k0 = key[0], k1 = key[1];
  for (int r = 0; r < 10; r++) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
    c0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
    c1 = (uint32_t)p1;
    c2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
    c3 = (uint32_t)p0;
    k0 += PHILOX_W0;
    k1 += PHILOX_W1;
  }
  out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
}

/* ---- paths: blocks and the exact conversions to floats ---- */

/* Blocks q .. q+n-1 (counters {q lo, q hi, c2, c3}) into w[4n]. */
typedef void blocks_fn(const uint32_t key[2], uint64_t q, uint32_t c2, uint32_t c3, size_t n,
                       uint32_t *w);
/* out[i] = (u >> 11) * 2^-53, u = w[2i] | w[2i+1] << 32. */
typedef void tof64_fn(const uint32_t *w, size_t n, double *out);
/* out[i] = (w[i] >> 8) * 2^-24. */
typedef void tof32_fn(const uint32_t *w, size_t n, float *out);

typedef struct path {
  const char *name;
  int (*supported)(void);
  blocks_fn *blocks;
  tof64_fn *tof64;
  tof32_fn *tof32;
} path;

static void block_at(const uint32_t key[2], uint64_t q, uint32_t c2, uint32_t c3, uint32_t *w) {
  uint32_t ctr[4] = {(uint32_t)q, (uint32_t)(q >> 32), c2, c3};
  ndrandom_philox(ctr, key, w);
}

static void blocks_scalar(const uint32_t key[2], uint64_t q, uint32_t c2, uint32_t c3, size_t n,
                          uint32_t *w) {
  for (size_t i = 0; i < n; i++)
    block_at(key, q + i, c2, c3, w + 4 * i);
}

static void tof64_scalar(const uint32_t *w, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) {
    uint64_t u = w[2 * i] | (uint64_t)w[2 * i + 1] << 32;
    out[i] = (double)(int64_t)(u >> 11) * 0x1p-53; /* signed: one instruction */
  }
}

static void tof32_scalar(const uint32_t *w, size_t n, float *out) {
  for (size_t i = 0; i < n; i++)
    out[i] = (float)(w[i] >> 8) * 0x1p-24f;
}

static int supported_always(void) { return 1; }

/* The key of each of the 10 rounds. */
static void round_keys(const uint32_t key[2], uint32_t k0[10], uint32_t k1[10]) {
  for (int r = 0; r < 10; r++) {
    k0[r] = key[0] + (uint32_t)r * PHILOX_W0;
    k1[r] = key[1] + (uint32_t)r * PHILOX_W1;
  }
}

#ifdef NDRANDOM_X86

/* Lanes hold 8 or 16 consecutive counters in an order chosen so that the
 * two rounds of unpacks that turn columns (c0 of every lane, ...) into
 * blocks leave the blocks in memory order: lane l of a 128-bit group g
 * (l = 4g + i) counts block i * groups + g.  A group whose low counter
 * word would wrap goes block by block (the carry into c1). */

__attribute__((target("avx2"))) static void blocks_avx2(const uint32_t key[2], uint64_t q,
                                                        uint32_t c2, uint32_t c3, size_t n,
                                                        uint32_t *w) {
  const __m256i m0 = _mm256_set1_epi32((int)PHILOX_M0), m1 = _mm256_set1_epi32((int)PHILOX_M1);
  const __m256i lane = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  uint32_t k0[10], k1[10];
  round_keys(key, k0, k1);
  _Alignas(32) uint32_t tail[32];
  while (n > 0) {
    if ((uint32_t)q > 0xFFFFFFFFu - 7) {
      block_at(key, q++, c2, c3, w);
      w += 4, n--;
      continue;
    }
    __m256i x0 = _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)q), lane);
    __m256i x1 = _mm256_set1_epi32((int)(uint32_t)(q >> 32));
    __m256i x2 = _mm256_set1_epi32((int)c2), x3 = _mm256_set1_epi32((int)c3);
    for (int r = 0; r < 10; r++) {
      /* 32x32->64 products of the even lanes, and of the odd ones moved
       * down; the halves swapped back into place by shuffles and blends */
      __m256i e0 = _mm256_mul_epu32(x0, m0), o0 = _mm256_mul_epu32(_mm256_shuffle_epi32(x0, 0xB1), m0);
      __m256i e1 = _mm256_mul_epu32(x2, m1), o1 = _mm256_mul_epu32(_mm256_shuffle_epi32(x2, 0xB1), m1);
      __m256i hi0 = _mm256_blend_epi32(_mm256_shuffle_epi32(e0, 0xB1), o0, 0xAA);
      __m256i lo0 = _mm256_blend_epi32(e0, _mm256_shuffle_epi32(o0, 0xB1), 0xAA);
      __m256i hi1 = _mm256_blend_epi32(_mm256_shuffle_epi32(e1, 0xB1), o1, 0xAA);
      __m256i lo1 = _mm256_blend_epi32(e1, _mm256_shuffle_epi32(o1, 0xB1), 0xAA);
      x0 = _mm256_xor_si256(_mm256_xor_si256(hi1, x1), _mm256_set1_epi32((int)k0[r]));
      x1 = lo1;
      x2 = _mm256_xor_si256(_mm256_xor_si256(hi0, x3), _mm256_set1_epi32((int)k1[r]));
      x3 = lo0;
    }
    __m256i a = _mm256_unpacklo_epi32(x0, x1), b = _mm256_unpackhi_epi32(x0, x1);
    __m256i c = _mm256_unpacklo_epi32(x2, x3), d = _mm256_unpackhi_epi32(x2, x3);
    /* the last group, when short, through 'tail': a whole vector's work
     * for a few blocks, still cheaper than the scalar rounds */
    uint32_t *to = n >= 8 ? w : tail;
    _mm256_storeu_si256((__m256i *)to, _mm256_unpacklo_epi64(a, c));
    _mm256_storeu_si256((__m256i *)(to + 8), _mm256_unpackhi_epi64(a, c));
    _mm256_storeu_si256((__m256i *)(to + 16), _mm256_unpacklo_epi64(b, d));
    _mm256_storeu_si256((__m256i *)(to + 24), _mm256_unpackhi_epi64(b, d));
    if (n < 8) {
      memcpy(w, tail, n * 4 * sizeof *w);
      return;
    }
    q += 8, w += 32, n -= 8;
  }
}

/* 53-bit integers to doubles without AVX-512's conversion: the high 21
 * and low 32 bits as the mantissas of 2^84 and 2^52, exactly. */
__attribute__((target("avx2"))) static void tof64_avx2(const uint32_t *w, size_t n, double *out) {
  const __m256i lomask = _mm256_set1_epi64x(0xFFFFFFFF);
  const __m256i elo = _mm256_set1_epi64x(0x4330000000000000), ehi = _mm256_set1_epi64x(0x4530000000000000);
  const __m256d bias = _mm256_set1_pd(0x1p84 + 0x1p52), scale = _mm256_set1_pd(0x1p-53);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256i u = _mm256_srli_epi64(_mm256_loadu_si256((const __m256i *)(w + 2 * i)), 11);
    __m256d lo = _mm256_castsi256_pd(_mm256_or_si256(_mm256_and_si256(u, lomask), elo));
    __m256d hi = _mm256_castsi256_pd(_mm256_or_si256(_mm256_srli_epi64(u, 32), ehi));
    __m256d v = _mm256_add_pd(_mm256_sub_pd(hi, bias), lo);
    _mm256_storeu_pd(out + i, _mm256_mul_pd(v, scale));
  }
  tof64_scalar(w + 2 * i, n - i, out + i);
}

__attribute__((target("avx2"))) static void tof32_avx2(const uint32_t *w, size_t n, float *out) {
  const __m256 scale = _mm256_set1_ps(0x1p-24f);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i u = _mm256_srli_epi32(_mm256_loadu_si256((const __m256i *)(w + i)), 8);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(u), scale));
  }
  tof32_scalar(w + i, n - i, out + i);
}

static int supported_avx2(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}

#define AVX512 "avx512f,avx512dq"

__attribute__((target(AVX512))) static void blocks_avx512(const uint32_t key[2], uint64_t q,
                                                          uint32_t c2, uint32_t c3, size_t n,
                                                          uint32_t *w) {
  const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
  const __m512i lane = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
  const __mmask16 even = 0x5555, odd = 0xAAAA;
  uint32_t k0[10], k1[10];
  round_keys(key, k0, k1);
  _Alignas(64) uint32_t tail[64];
  while (n > 0) {
    if ((uint32_t)q > 0xFFFFFFFFu - 15) {
      block_at(key, q++, c2, c3, w);
      w += 4, n--;
      continue;
    }
    __m512i x0 = _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)q), lane);
    __m512i x1 = _mm512_set1_epi32((int)(uint32_t)(q >> 32));
    __m512i x2 = _mm512_set1_epi32((int)c2), x3 = _mm512_set1_epi32((int)c3);
    for (int r = 0; r < 10; r++) {
      /* as blocks_avx2, the halves put in place by masked shuffles (port
       * 5) rather than shifts (port 0, the multiplier's) */
      __m512i e0 = _mm512_mul_epu32(x0, m0), o0 = _mm512_mul_epu32(_mm512_shuffle_epi32(x0, 0xB1), m0);
      __m512i e1 = _mm512_mul_epu32(x2, m1), o1 = _mm512_mul_epu32(_mm512_shuffle_epi32(x2, 0xB1), m1);
      __m512i hi0 = _mm512_mask_shuffle_epi32(o0, even, e0, 0xB1);
      __m512i lo0 = _mm512_mask_shuffle_epi32(e0, odd, o0, 0xB1);
      __m512i hi1 = _mm512_mask_shuffle_epi32(o1, even, e1, 0xB1);
      __m512i lo1 = _mm512_mask_shuffle_epi32(e1, odd, o1, 0xB1);
      x0 = _mm512_ternarylogic_epi32(hi1, x1, _mm512_set1_epi32((int)k0[r]), 0x96); /* a^b^c */
      x1 = lo1;
      x2 = _mm512_ternarylogic_epi32(hi0, x3, _mm512_set1_epi32((int)k1[r]), 0x96);
      x3 = lo0;
    }
    __m512i a = _mm512_unpacklo_epi32(x0, x1), b = _mm512_unpackhi_epi32(x0, x1);
    __m512i c = _mm512_unpacklo_epi32(x2, x3), d = _mm512_unpackhi_epi32(x2, x3);
    uint32_t *to = n >= 16 ? w : tail; /* a short last group: as blocks_avx2 */
    _mm512_storeu_si512(to, _mm512_unpacklo_epi64(a, c));
    _mm512_storeu_si512(to + 16, _mm512_unpackhi_epi64(a, c));
    _mm512_storeu_si512(to + 32, _mm512_unpacklo_epi64(b, d));
    _mm512_storeu_si512(to + 48, _mm512_unpackhi_epi64(b, d));
    if (n < 16) {
      memcpy(w, tail, n * 4 * sizeof *w);
      return;
    }
    q += 16, w += 64, n -= 16;
  }
}

__attribute__((target(AVX512))) static void tof64_avx512(const uint32_t *w, size_t n, double *out) {
  const __m512d scale = _mm512_set1_pd(0x1p-53);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m512i u = _mm512_srli_epi64(_mm512_loadu_si512(w + 2 * i), 11);
    _mm512_storeu_pd(out + i, _mm512_mul_pd(_mm512_cvtepu64_pd(u), scale));
  }
  tof64_avx2(w + 2 * i, n - i, out + i);
}

__attribute__((target(AVX512))) static void tof32_avx512(const uint32_t *w, size_t n, float *out) {
  const __m512 scale = _mm512_set1_ps(0x1p-24f);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i u = _mm512_srli_epi32(_mm512_loadu_si512(w + i), 8);
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_cvtepi32_ps(u), scale));
  }
  tof32_avx2(w + i, n - i, out + i);
}

static int supported_avx512(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512dq");
}

#endif

/* Best last. */
static const path paths[] = {
  {"scalar", supported_always, blocks_scalar, tof64_scalar, tof32_scalar},
#ifdef NDRANDOM_X86
  {"avx2", supported_avx2, blocks_avx2, tof64_avx2, tof32_avx2},
  {"avx512", supported_avx512, blocks_avx512, tof64_avx512, tof32_avx512},
#endif
};
#define NPATHS (sizeof paths / sizeof paths[0])

/* Set once; threads that race to set it choose the same path. */
static _Atomic(const path *) chosen;

static const path *path_named(const char *name) {
  for (size_t i = 0; i < NPATHS; i++)
    if (strcmp(paths[i].name, name) == 0)
      return paths[i].supported() ? &paths[i] : NULL;
  return NULL;
}

static const path *current(void) {
  const path *p = atomic_load_explicit(&chosen, memory_order_acquire);
  if (p)
    return p;
  const char *env = getenv("DUSK_SIMD");
  p = env ? path_named(env) : NULL;
  for (size_t i = NPATHS; !p && i-- > 0;)
    if (paths[i].supported())
      p = &paths[i];
  atomic_store_explicit(&chosen, p, memory_order_release);
  return p;
}

const char *ndrandom_path(void) { return current()->name; }

int ndrandom_set_path(const char *name) {
  const path *p = path_named(name);
  if (!p)
    return -1;
  atomic_store_explicit(&chosen, p, memory_order_release);
  return 0;
}

/* ---- distributions ---- */

typedef struct fill fill;
/* Element p .. p+m-1 (m <= PIECE) as m contiguous items of out's dtype at
 * 'o'. */
typedef void piece_fn(const fill *f, uint64_t p, size_t m, void *o);

struct fill {
  uint32_t key[2];
  const path *path;
  int dtype;
  piece_fn *piece;
  double mu, sd;      /* normal */
  uint64_t lo, range; /* randint: lo + [0, range) */
};

/* The further draws of one element: counters {p lo, p hi, 1, stream},
 * {.., 2, ..}, ... */
typedef struct draws {
  const uint32_t *key;
  uint32_t ctr[4], w[4];
  int used;
} draws;

static void draws_init(draws *d, const fill *f, uint64_t p, uint32_t stream) {
  d->key = f->key;
  d->ctr[0] = (uint32_t)p, d->ctr[1] = (uint32_t)(p >> 32), d->ctr[2] = 0, d->ctr[3] = stream;
  d->used = 4;
}

static uint32_t next32(draws *d) {
  if (d->used == 4) {
    d->ctr[2]++;
    ndrandom_philox(d->ctr, d->key, d->w);
    d->used = 0;
  }
  return d->w[d->used++];
}

static uint64_t next64(draws *d) {
  if (d->used > 2) {
    d->ctr[2]++;
    ndrandom_philox(d->ctr, d->key, d->w);
    d->used = 0;
  }
  uint64_t u = d->w[d->used] | (uint64_t)d->w[d->used + 1] << 32;
  d->used += 2;
  return u;
}

static double next_double(draws *d) { return (double)(int64_t)(next64(d) >> 11) * 0x1p-53; }

/* The words of the blocks covering elements p .. p+m-1 at 'per' elements
 * a block; returns where element p's words start. */
static const uint32_t *cover(const fill *f, uint64_t p, size_t m, unsigned per, uint32_t stream,
                             uint32_t *w) {
  uint64_t q = p / per;
  f->path->blocks(f->key, q, 0, stream, (p + m - 1) / per - q + 1, w);
  return w + (p % per) * (4 / per);
}

static void piece_random(const fill *f, uint64_t p, size_t m, void *o) {
  _Alignas(64) uint32_t w[2 * PIECE + 8];
  if (f->dtype == BUF_FLOAT64)
    f->path->tof64(cover(f, p, m, 2, STREAM_RANDOM, w), m, o);
  else
    f->path->tof32(cover(f, p, m, 4, STREAM_RANDOM, w), m, o);
}

/* The ziggurat's first test of a 64-bit draw 'r' (numpy's
 * random_standard_normal): the layer (8 bits), the sign (1) and the
 * abscissa (52) give '*x'; 1 when it is taken at once, as 98.5% are.
 * Branch-free: the sign is a coin toss no predictor learns. */
static inline int zig_try(uint64_t r, double *x) {
  unsigned idx = r & 0xff;
  uint64_t rabs = (r >> 9) & 0x000fffffffffffff, bits;
  double v = (double)(int64_t)rabs * ndrandom_zig_wi[idx];
  memcpy(&bits, &v, sizeof bits);
  bits ^= (r >> 8 & 1) << 63;
  memcpy(x, &bits, sizeof bits);
  return rabs < ndrandom_zig_ki[idx];
}

/* The rest of numpy's algorithm, for a draw 'r' of element p that
 * zig_try did not take: further draws from p's own counters. */
static double ziggurat(const fill *f, uint64_t p, uint64_t r) {
  draws d;
  draws_init(&d, f, p, STREAM_NORMAL);
  for (;;) {
    double x;
    if (zig_try(r, &x))
      return x;
    unsigned idx = r & 0xff;
    if (idx == 0) { /* the tail beyond R, by Marsaglia's exponentials */
      for (;;) {
        double xx = -ndrandom_zig_inv_r * log1p(-next_double(&d));
        double yy = -log1p(-next_double(&d));
        if (yy + yy > xx * xx)
          return (r >> 17) & 1 ? -(ndrandom_zig_r + xx) : ndrandom_zig_r + xx;
      }
    }
    double y = (ndrandom_zig_fi[idx - 1] - ndrandom_zig_fi[idx]) * next_double(&d) +
               ndrandom_zig_fi[idx];
    if (y < exp(-0.5 * x * x))
      return x;
    r = next64(&d);
  }
}

static void piece_normal(const fill *f, uint64_t p, size_t m, void *o) {
  _Alignas(64) uint32_t w[2 * PIECE + 8];
  const uint32_t *u = cover(f, p, m, 2, STREAM_NORMAL, w);
  for (size_t i = 0; i < m; i++) {
    uint64_t r = u[2 * i] | (uint64_t)u[2 * i + 1] << 32;
    double z;
    if (!zig_try(r, &z))
      z = ziggurat(f, p + i, r);
    double v = f->mu + f->sd * z;
    if (f->dtype == BUF_FLOAT64)
      ((double *)o)[i] = v;
    else
      ((float *)o)[i] = (float)v;
  }
}

/* Lemire, "Fast random integer generation in an interval" (2019): the
 * high half of draw * range, redrawn while the low half falls in the
 * 2^k mod range values that would favour some results. */
static void piece_randint(const fill *f, uint64_t p, size_t m, void *o) {
  _Alignas(64) uint32_t w[2 * PIECE + 8];
  uint64_t v[PIECE];
  if (f->range <= 0xFFFFFFFFu) {
    uint32_t range = (uint32_t)f->range, t = (uint32_t)-range % range;
    const uint32_t *u = cover(f, p, m, 4, STREAM_RANDINT, w);
    for (size_t i = 0; i < m; i++) {
      uint64_t x = (uint64_t)u[i] * range;
      if ((uint32_t)x < t) {
        draws d;
        draws_init(&d, f, p + i, STREAM_RANDINT);
        while ((uint32_t)x < t)
          x = (uint64_t)next32(&d) * range;
      }
      v[i] = f->lo + (x >> 32);
    }
  } else {
    uint64_t range = f->range, t = -range % range;
    const uint32_t *u = cover(f, p, m, 2, STREAM_RANDINT, w);
    for (size_t i = 0; i < m; i++) {
      unsigned __int128 x = (unsigned __int128)(u[2 * i] | (uint64_t)u[2 * i + 1] << 32) * range;
      if ((uint64_t)x < t) {
        draws d;
        draws_init(&d, f, p + i, STREAM_RANDINT);
        while ((uint64_t)x < t)
          x = (unsigned __int128)next64(&d) * range;
      }
      v[i] = f->lo + (uint64_t)(x >> 64);
    }
  }
#define NARROW(T)                                                                          \
  for (size_t i = 0; i < m; i++)                                                           \
    ((T *)o)[i] = (T)(int64_t)v[i]; /* in range: checked by ndrandom_randint */          \
  break
  switch (f->dtype) {
  case BUF_BOOL: NARROW(uint8_t);
  case BUF_INT8: NARROW(int8_t);
  case BUF_UINT8: NARROW(uint8_t);
  case BUF_INT16: NARROW(int16_t);
  case BUF_UINT16: NARROW(uint16_t);
  case BUF_INT32: NARROW(int32_t);
  case BUF_UINT32: NARROW(uint32_t);
  default: memcpy(o, v, m * sizeof v[0]); /* int64, uint64 */
  }
#undef NARROW
}

/* ---- the walk over a region ---- */

static void scatter(const char *src, size_t m, size_t size, char *dst, int64_t stride) {
  for (size_t i = 0; i < m; i++, dst += stride, src += size)
    memcpy(dst, src, size);
}

/* 0 when 'out' is a region of 'whole' at 'offset' whose positions fit
 * in 63 bits. */
static int region_ok(int ndim, const int64_t *whole, const int64_t *offset, const nd *out) {
  int64_t total = 1;
  if (ndim != out->ndim)
    return -1;
  for (int k = 0; k < ndim; k++)
    if (whole[k] < 0 || offset[k] < 0 || out->shape[k] < 0 || offset[k] > whole[k] ||
        out->shape[k] > whole[k] - offset[k] || __builtin_mul_overflow(total, whole[k], &total))
      return -1;
  return 0;
}

static nd_status fill_region(const fill *f, int ndim, const int64_t *whole, const int64_t *offset,
                             nd *out) {
  _Alignas(64) char tmp[PIECE * 8];
  if (region_ok(ndim, whole, offset, out) < 0)
    return ND_ESHAPE;
  size_t size = buf_dtype_size(out->dtype);
  int64_t rows = 1, n = ndim > 0 ? out->shape[ndim - 1] : 1;
  int64_t stride = ndim > 0 ? out->strides[ndim - 1] : (int64_t)size;
  for (int k = 0; k < ndim; k++)
    rows *= out->shape[k];
  if (rows == 0)
    return ND_OK;
  rows /= n;
  /* the row's first position, and the position steps of the outer axes */
  int64_t step[ND_MAXDIM], idx[ND_MAXDIM] = {0};
  uint64_t p = 0, since = 0;
  int64_t s = 1;
  for (int k = ndim - 1; k >= 0; s *= whole[k], k--) {
    step[k] = s;
    p += (uint64_t)offset[k] * (uint64_t)s;
  }
  char *row = out->data;
  for (int64_t r = 0; r < rows; r++) {
    char *dst = row;
    for (int64_t i = 0; i < n;) {
      size_t m = n - i < PIECE ? (size_t)(n - i) : PIECE;
      if (stride == (int64_t)size) {
        f->piece(f, p + i, m, dst);
      } else {
        f->piece(f, p + i, m, tmp);
        scatter(tmp, m, size, dst, stride);
      }
      dst += (int64_t)m * stride, i += m, since += m;
      if (since >= POLL_EVERY) {
        since = 0;
        if (rt_interrupt_pending())
          return ND_EINTR;
      }
    }
    /* the next row: the odometer over the outer axes */
    for (int k = ndim - 2; k >= 0; k--) {
      row += out->strides[k], p += step[k];
      if (++idx[k] < out->shape[k])
        break;
      row -= out->strides[k] * out->shape[k], p -= step[k] * out->shape[k];
      idx[k] = 0;
    }
  }
  return ND_OK;
}

static void fill_init(fill *f, uint64_t seed, const nd *out, piece_fn *piece) {
  memset(f, 0, sizeof *f);
  f->key[0] = (uint32_t)seed, f->key[1] = (uint32_t)(seed >> 32);
  f->path = current();
  f->dtype = out->dtype;
  f->piece = piece;
}

nd_status ndrandom_random(uint64_t seed, int ndim, const int64_t *whole, const int64_t *offset,
                          nd *out) {
  if (out->dtype != BUF_FLOAT64 && out->dtype != BUF_FLOAT32)
    return ND_EDTYPE;
  fill f;
  fill_init(&f, seed, out, piece_random);
  return fill_region(&f, ndim, whole, offset, out);
}

nd_status ndrandom_normal(uint64_t seed, double mu, double sd, int ndim, const int64_t *whole,
                          const int64_t *offset, nd *out) {
  if (out->dtype != BUF_FLOAT64 && out->dtype != BUF_FLOAT32)
    return ND_EDTYPE;
  fill f;
  fill_init(&f, seed, out, piece_normal);
  f.mu = mu, f.sd = sd;
  return fill_region(&f, ndim, whole, offset, out);
}

/* The least and greatest values of an integer dtype; -1 for others. */
static int int_bounds(int dtype, int64_t *min, int64_t *max) {
  switch (dtype) {
  case BUF_BOOL: *min = 0, *max = 1; return 0;
  case BUF_INT8: *min = INT8_MIN, *max = INT8_MAX; return 0;
  case BUF_UINT8: *min = 0, *max = UINT8_MAX; return 0;
  case BUF_INT16: *min = INT16_MIN, *max = INT16_MAX; return 0;
  case BUF_UINT16: *min = 0, *max = UINT16_MAX; return 0;
  case BUF_INT32: *min = INT32_MIN, *max = INT32_MAX; return 0;
  case BUF_UINT32: *min = 0, *max = UINT32_MAX; return 0;
  case BUF_INT64: *min = INT64_MIN, *max = INT64_MAX; return 0;
  case BUF_UINT64: *min = 0, *max = INT64_MAX; return 0; /* lo, hi are int64 */
  default: return -1;
  }
}

nd_status ndrandom_randint(uint64_t seed, int64_t lo, int64_t hi, int ndim, const int64_t *whole,
                           const int64_t *offset, nd *out) {
  int64_t min, max;
  if (lo >= hi || int_bounds(out->dtype, &min, &max) < 0 || lo < min || hi - 1 > max)
    return ND_EDTYPE;
  fill f;
  fill_init(&f, seed, out, piece_randint);
  f.lo = (uint64_t)lo, f.range = (uint64_t)hi - (uint64_t)lo;
  return fill_region(&f, ndim, whole, offset, out);
}
