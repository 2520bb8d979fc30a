/*
 * ndrandom: random arrays that depend only on the seed and the element.
 *
 * A counter-based generator, Philox4x32-10 (Salmon, Moraes, Dror, Shaw,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11; Random123): a
 * keyed bijection of 128-bit counters.  The key is the seed (key[0] its
 * low 32 bits, key[1] its high ones); the counter says which element and
 * which draw.  So the value of an element depends only on the seed, the
 * distribution with its parameters, and p, its C-order flat position in
 * the whole array: never on the chunks, the tile, the thread or the order
 * of the work.  Counters, as 4 words {c0, c1, c2, c3}:
 *
 *   first draws   {q lo, q hi, 0, stream}  q = p / per-block, one block
 *                                          giving 'per-block' elements
 *   further draws {p lo, p hi, d, stream}  d = 1, 2, ...: the rejection
 *                                          draws of element p alone
 *
 *   random  float64: 2 elements a block, words (w0, w1) and (w2, w3) read
 *           as u = w0 | w1 << 32: (u >> 11) * 2^-53, numpy's rule;
 *           float32: 4 a block, (w >> 8) * 2^-24.  Stream 0.
 *   normal  numpy's 256-layer ziggurat (ndrandom_tables.h) on 64-bit
 *           draws: 2 elements a block, then mu + sd * z.  float32 is the
 *           float64 value rounded.  Stream 1.
 *   randint Lemire's multiply-and-reject, without modulo bias: ranges up
 *           to 2^32 on 32-bit draws (4 a block), larger ones on 64-bit
 *           draws (2 a block).  Stream 2.
 *
 * The bulk of the blocks comes from a vector path chosen once from the
 * CPU (AVX-512: 16 blocks at a time, AVX2: 8), or the plain C path, the
 * tests' reference: all paths give the same bits.  DUSK_SIMD=scalar|avx2|
 * avx512 in the environment overrides the choice at first use (a path the
 * CPU lacks, or an unknown name, leaves the automatic choice).
 *
 * Fills are reentrant: any number of threads may fill regions of one
 * array at once.  A fill writes 'out', a view (any strides, data/buffer.h's dtypes) that
 * holds the region of the whole array of shape 'whole' (ndim axes) that
 * starts at 'offset', with out's shape: a chunk, or a tile of one.  Each
 * returns ND_OK; ND_EDTYPE for a dtype the distribution has not (or
 * randint values the dtype cannot hold); ND_ESHAPE when 'out' is not such
 * a region (out->ndim != ndim, offset + out's shape past 'whole', or more
 * than 2^63 elements in all); ND_EINTR when interrupted (base/interrupt.h,
 * polled about every million elements; 'out' then holds a partial
 * result).
 */
#ifndef DUSK_NDRANDOM_H
#define DUSK_NDRANDOM_H

#include <stdint.h>

#include "array/nd.h"
#include "array/ndops.h"

/* One Philox4x32-10 block: the reference the tests check against
 * Random123's known answers. */
void ndrandom_philox(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Uniform in [0, 1): 'out' float64 or float32. */
nd_status ndrandom_random(uint64_t seed, int ndim, const int64_t *whole, const int64_t *offset,
                          nd *out);
/* Normal of mean 'mu' and standard deviation 'sd': 'out' float64 or
 * float32. */
nd_status ndrandom_normal(uint64_t seed, double mu, double sd, int ndim, const int64_t *whole,
                          const int64_t *offset, nd *out);
/* Integers in [lo, hi) (lo < hi, so ranges up to 2^64 - 1): 'out' of an
 * integer dtype (bool too) holding both lo and hi - 1. */
nd_status ndrandom_randint(uint64_t seed, int64_t lo, int64_t hi, int ndim, const int64_t *whole,
                           const int64_t *offset, nd *out);

/* The path in use: "scalar", "avx2" or "avx512". */
const char *ndrandom_path(void);
/* Uses path 'name' from now on (for tests and benchmarks).  Returns 0, or
 * -1 when the name is unknown or the CPU lacks it (the path unchanged). */
int ndrandom_set_path(const char *name);

#endif
