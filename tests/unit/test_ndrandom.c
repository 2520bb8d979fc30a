/* Unit tests of src/array/ndrandom.c: Philox4x32-10 against Random123's
 * known answers; every vector path bit for bit against the scalar one;
 * the same values whatever the tiles, the strides and the offsets; the
 * distributions' moments, a Kolmogorov-Smirnov test of the normals, and
 * randint's bounds and lack of modulo bias. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "array/ndrandom.h"
#include "base/interrupt.h"
#include "testhelp.h"

/* A C-contiguous nd over a fresh buffer (nd_alloc without nd.c). */
static void make(nd *a, int dtype, int ndim, const int64_t *shape) {
  buf_array meta = {.dtype = dtype, .ndim = ndim};
  memset(a, 0, sizeof *a);
  a->dtype = dtype, a->ndim = ndim;
  int64_t stride = (int64_t)buf_dtype_size(dtype);
  for (int k = ndim - 1; k >= 0; k--) {
    meta.shape[k] = a->shape[k] = shape[k];
    a->strides[k] = stride;
    stride *= shape[k];
  }
  a->b = buf_new_array(&meta);
  if (a->b == NULL)
    abort();
  a->data = buf_wdata(a->b);
}

static void drop(nd *a) { buf_decref(a->b); }

/* Element 'index' of 'a' as its bytes. */
static const char *at(const nd *a, const int64_t *index) {
  const char *p = a->data;
  for (int k = 0; k < a->ndim; k++)
    p += index[k] * a->strides[k];
  return p;
}

/* The distributions under test, one call shape. */
enum { D_RANDOM, D_NORMAL, D_RANDINT_SMALL, D_RANDINT_WIDE };

static nd_status fill(int dist, uint64_t seed, int ndim, const int64_t *whole,
                      const int64_t *offset, nd *out) {
  switch (dist) {
  case D_RANDOM: return ndrandom_random(seed, ndim, whole, offset, out);
  case D_NORMAL: return ndrandom_normal(seed, 1.5, 2.0, ndim, whole, offset, out);
  case D_RANDINT_SMALL: return ndrandom_randint(seed, -7, 5, ndim, whole, offset, out);
  default: return ndrandom_randint(seed, INT64_MIN, INT64_MAX, ndim, whole, offset, out);
  }
}

static void test_kat(void) {
  static const uint32_t ctr[3][4] = {
    {0, 0, 0, 0},
    {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
    {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}};
  static const uint32_t key[3][2] = {{0, 0}, {0xffffffff, 0xffffffff}, {0xa4093822, 0x299f31d0}};
  static const uint32_t want[3][4] = {
    {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
    {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
    {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}};
  for (int i = 0; i < 3; i++) {
    uint32_t out[4];
    ndrandom_philox(ctr[i], key[i], out);
    TEST("philox4x32-10 known answer", memcmp(out, want[i], sizeof out) == 0);
  }
}

/* The counter layout the header documents, element by element. */
static void test_layout(void) {
  const uint64_t seed = 0x0123456789abcdefu;
  const uint32_t key[2] = {0x89abcdef, 0x01234567};
  int64_t whole[1] = {(int64_t)1 << 40}, shape[1] = {4}, off[1];
  nd a;
  int ok = 1;
  make(&a, BUF_FLOAT64, 1, shape);
  off[0] = ((int64_t)5 << 32) + 6; /* block q = p/2 has a high word */
  ndrandom_random(seed, 1, whole, off, &a);
  for (int i = 0; i < 4; i++) {
    uint64_t p = (uint64_t)off[0] + i, q = p / 2;
    uint32_t c[4] = {(uint32_t)q, (uint32_t)(q >> 32), 0, 0}, w[4];
    ndrandom_philox(c, key, w);
    uint64_t u = w[2 * (p % 2)] | (uint64_t)w[2 * (p % 2) + 1] << 32;
    ok &= ((double *)a.data)[i] == (double)(u >> 11) * 0x1p-53;
  }
  TEST("float64: (u >> 11) * 2^-53 of a block's half", ok);
  drop(&a);
  make(&a, BUF_FLOAT32, 1, shape);
  off[0] = 4 * 1000 + 1;
  ndrandom_random(seed, 1, whole, off, &a);
  ok = 1;
  for (int i = 0; i < 4; i++) {
    uint64_t p = (uint64_t)off[0] + i;
    uint32_t c[4] = {(uint32_t)(p / 4), 0, 0, 0}, w[4];
    ndrandom_philox(c, key, w);
    ok &= ((float *)a.data)[i] == (float)(w[p % 4] >> 8) * 0x1p-24f;
  }
  TEST("float32: (w >> 8) * 2^-24 of a block's quarter", ok);
  drop(&a);
}

/* Every supported path against the scalar one, and a region against the
 * same elements of the whole: odd lengths and offsets, vector tails, and
 * low counter words that wrap inside a group of 8 or 16. */
static void test_paths(void) {
  static const char *names[] = {"avx2", "avx512"};
  static const int dtypes[4][3] = {
    {BUF_FLOAT64, BUF_FLOAT32, -1}, {BUF_FLOAT64, BUF_FLOAT32, -1},
    {BUF_INT64, BUF_INT8, BUF_INT32}, {BUF_INT64, -1, -1}};
  static const int64_t lens[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127,
                                 1023, 1024, 1025, 2049, 4099};
  static const int64_t offs[] = {0, 1, 2, 3, 5, 6, 7, 13, 31, 32, 33, 1000};
  /* starts where q = p / per wraps its low word: per 2 and 4 */
  static const int64_t wraps[] = {((int64_t)2 << 32) - 21, ((int64_t)4 << 32) - 41,
                                  ((int64_t)6 << 32) - 9};
  TEST("scalar path always there", ndrandom_set_path("scalar") == 0);
  TEST("unknown path refused", ndrandom_set_path("sse9") == -1);
  TEST("scalar in use", strcmp(ndrandom_path(), "scalar") == 0);
  int64_t small[1] = {6000}, big[1] = {(int64_t)1 << 40};
  for (int v = 0; v < 2; v++) {
    if (ndrandom_set_path(names[v]) != 0) {
      printf("path %s: not on this CPU\n", names[v]);
      continue;
    }
    int same = 1, tiled = 1;
    for (int dist = 0; dist < 4; dist++)
      for (int t = 0; t < 3 && dtypes[dist][t] >= 0; t++) {
        int dt = dtypes[dist][t];
        size_t size = buf_dtype_size(dt);
        nd all, ref, got;
        make(&all, dt, 1, small);
        ndrandom_set_path(names[v]);
        fill(dist, 42, 1, small, (int64_t[]){0}, &all);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
          for (size_t j = 0; j < sizeof offs / sizeof offs[0] + 3; j++) {
            int wrap = j >= sizeof offs / sizeof offs[0];
            int64_t off[1] = {wrap ? wraps[j - sizeof offs / sizeof offs[0]] : offs[j]};
            int64_t *whole = wrap ? big : small;
            make(&ref, dt, 1, &lens[i]);
            make(&got, dt, 1, &lens[i]);
            ndrandom_set_path("scalar");
            fill(dist, 7, 1, whole, off, &ref);
            ndrandom_set_path(names[v]);
            fill(dist, 7, 1, whole, off, &got);
            same &= memcmp(ref.data, got.data, size * lens[i]) == 0;
            if (!wrap) {
              fill(dist, 42, 1, small, off, &got);
              tiled &= memcmp(all.data + off[0] * size, got.data, size * lens[i]) == 0;
            }
            drop(&ref);
            drop(&got);
          }
        drop(&all);
      }
    printf("path %s: checked\n", names[v]);
    TEST("a vector path gives the scalar path's bits", same);
    TEST("a region gives the whole's elements", tiled);
  }
  TEST("the automatic choice is a supported path", ndrandom_set_path(ndrandom_path()) == 0);
}

/* A 2-d whole filled at once, in (100,100) tiles and in (333,1000) ones;
 * a 3-d one in uneven tiles; with the best path. */
static void test_tiles(void) {
  int64_t whole[2] = {1000, 1000};
  static const int64_t tiles[2][2] = {{100, 100}, {333, 1000}};
  static const int dtypes[4] = {BUF_FLOAT64, BUF_FLOAT32, BUF_INT32, BUF_INT64};
  for (int dist = 0; dist < 4; dist++) {
    int dt = dtypes[dist];
    size_t size = buf_dtype_size(dt);
    nd all, tile;
    make(&all, dt, 2, whole);
    fill(dist, 99, 2, whole, (int64_t[]){0, 0}, &all);
    for (int t = 0; t < 2; t++) {
      int same = 1;
      for (int64_t i = 0; i < whole[0]; i += tiles[t][0])
        for (int64_t j = 0; j < whole[1]; j += tiles[t][1]) {
          int64_t shape[2] = {tiles[t][0], tiles[t][1]}, off[2] = {i, j};
          if (i + shape[0] > whole[0]) shape[0] = whole[0] - i;
          if (j + shape[1] > whole[1]) shape[1] = whole[1] - j;
          make(&tile, dt, 2, shape);
          fill(dist, 99, 2, whole, off, &tile);
          for (int64_t r = 0; r < shape[0]; r++)
            same &= memcmp(tile.data + r * shape[1] * size,
                           all.data + ((i + r) * whole[1] + j) * size, shape[1] * size) == 0;
          drop(&tile);
        }
      TEST(t == 0 ? "(100,100) tiles give the whole's values" : "(333,1000) tiles too", same);
    }
    drop(&all);
  }
  int64_t w3[3] = {20, 17, 31}, t3[3] = {7, 5, 13};
  nd all, tile;
  make(&all, BUF_FLOAT64, 3, w3);
  ndrandom_normal(5, 0, 1, 3, w3, (int64_t[]){0, 0, 0}, &all);
  int same = 1;
  for (int64_t i = 0; i < w3[0]; i += t3[0])
    for (int64_t j = 0; j < w3[1]; j += t3[1])
      for (int64_t k = 0; k < w3[2]; k += t3[2]) {
        int64_t off[3] = {i, j, k}, shape[3];
        for (int a = 0; a < 3; a++)
          shape[a] = off[a] + t3[a] > w3[a] ? w3[a] - off[a] : t3[a];
        make(&tile, BUF_FLOAT64, 3, shape);
        ndrandom_normal(5, 0, 1, 3, w3, off, &tile);
        for (int64_t a = 0; a < shape[0]; a++)
          for (int64_t b = 0; b < shape[1]; b++)
            for (int64_t c = 0; c < shape[2]; c++)
              same &= *(double *)at(&tile, (int64_t[]){a, b, c}) ==
                      *(double *)at(&all, (int64_t[]){i + a, j + b, k + c});
        drop(&tile);
      }
  TEST("3-d uneven tiles give the whole's values", same);
  drop(&all);
  /* 0-d: the one element is p = 0 */
  nd z, one;
  make(&z, BUF_FLOAT64, 0, NULL);
  make(&one, BUF_FLOAT64, 1, (int64_t[]){1});
  ndrandom_random(3, 0, NULL, NULL, &z);
  ndrandom_random(3, 1, (int64_t[]){10}, (int64_t[]){0}, &one);
  TEST("0-d: element p = 0", *(double *)z.data == *(double *)one.data);
  drop(&z);
  drop(&one);
}

/* Strided, reversed and transposed views of a bigger buffer get the same
 * values as a contiguous fill of the region. */
static void test_strides(void) {
  int64_t whole[2] = {50, 40}, region[2] = {20, 30}, off[2] = {11, 7};
  static const int dtypes[3] = {BUF_FLOAT64, BUF_FLOAT32, BUF_UINT8};
  for (int t = 0; t < 3; t++) {
    int dt = dtypes[t];
    int64_t size = (int64_t)buf_dtype_size(dt);
    nd ref, back, tr;
    make(&ref, dt, 2, region);
    /* columns every second one, right to left, of a (20, 60) buffer */
    make(&back, dt, 2, (int64_t[]){20, 60});
    memset(back.data, 0x5A, 20 * 60 * size);
    nd v = back;
    v.shape[1] = 30, v.strides[1] = -2 * size, v.data = back.data + 59 * size;
    /* a (30, 20) buffer seen transposed */
    make(&tr, dt, 2, (int64_t[]){30, 20});
    nd u = tr;
    u.shape[0] = 20, u.shape[1] = 30, u.strides[0] = size, u.strides[1] = 20 * size;
    int same = 1;
    for (int dist = 0; dist < 3; dist++) {
      if ((dt == BUF_UINT8) != (dist == D_RANDINT_SMALL))
        continue;
      nd_status s0 = dt == BUF_UINT8 ? ndrandom_randint(8, 0, 256, 2, whole, off, &ref)
                                     : fill(dist, 8, 2, whole, off, &ref);
      nd_status s1 = dt == BUF_UINT8 ? ndrandom_randint(8, 0, 256, 2, whole, off, &v)
                                     : fill(dist, 8, 2, whole, off, &v);
      nd_status s2 = dt == BUF_UINT8 ? ndrandom_randint(8, 0, 256, 2, whole, off, &u)
                                     : fill(dist, 8, 2, whole, off, &u);
      same &= s0 == ND_OK && s1 == ND_OK && s2 == ND_OK;
      for (int64_t i = 0; i < 20; i++)
        for (int64_t j = 0; j < 30; j++) {
          int64_t ix[2] = {i, j};
          same &= memcmp(at(&ref, ix), at(&v, ix), size) == 0;
          same &= memcmp(at(&ref, ix), at(&u, ix), size) == 0;
          /* the reversed view wrote only its own columns */
          for (int64_t b = 0; b < size; b++)
            same &= back.data[(i * 60 + 58 - 2 * j) * size + b] == 0x5A;
        }
    }
    TEST("reversed and transposed views hold the region's values", same);
    drop(&ref);
    drop(&back);
    drop(&tr);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

#define N 1000000

static void test_uniform_stats(void) {
  int64_t shape[1] = {N};
  nd a, f;
  make(&a, BUF_FLOAT64, 1, shape);
  make(&f, BUF_FLOAT32, 1, shape);
  TEST("random float64", ndrandom_random(2024, 1, shape, (int64_t[]){0}, &a) == ND_OK);
  TEST("random float32", ndrandom_random(2024, 1, shape, (int64_t[]){0}, &f) == ND_OK);
  const double *x = (const double *)a.data;
  const float *y = (const float *)f.data;
  double s = 0, s2 = 0, fs = 0;
  int inside = 1, fine = 0;
  for (int i = 0; i < N; i++) {
    inside &= x[i] >= 0 && x[i] < 1 && y[i] >= 0 && y[i] < 1;
    s += x[i], s2 += x[i] * x[i], fs += y[i];
    double scaled = x[i] * 0x1p32;
    fine += scaled != floor(scaled); /* bits below 2^-32: 53-bit doubles */
  }
  double mean = s / N, var = s2 / N - mean * mean;
  TEST("uniform in [0, 1)", inside);
  /* 5 standard errors: sqrt(1/12/N), sqrt((1/80 - 1/144)/N) */
  TEST("uniform mean 1/2", fabs(mean - 0.5) < 5 * sqrt(1.0 / 12 / N));
  TEST("uniform variance 1/12", fabs(var - 1.0 / 12) < 5 * sqrt((1.0 / 80 - 1.0 / 144) / N));
  TEST("float32 mean 1/2", fabs(fs / N - 0.5) < 5 * sqrt(1.0 / 12 / N));
  TEST("float64 has 53 bits, not 32", fine > N / 2);
  drop(&a);
  drop(&f);
}

static void test_normal_stats(void) {
  int64_t shape[1] = {N};
  nd a;
  make(&a, BUF_FLOAT64, 1, shape);
  TEST("normal", ndrandom_normal(77, 0, 1, 1, shape, (int64_t[]){0}, &a) == ND_OK);
  double *z = (double *)a.data;
  double s = 0, s2 = 0, s3 = 0, s4 = 0;
  int tail = 0;
  for (int i = 0; i < N; i++) {
    double v = z[i];
    s += v, s2 += v * v, s3 += v * v * v, s4 += v * v * v * v;
    tail += fabs(v) > 3.6541528853610088;
  }
  TEST("normal mean 0", fabs(s / N) < 5 / sqrt(N));
  TEST("normal variance 1", fabs(s2 / N - 1) < 5 * sqrt(2.0 / N));
  TEST("normal skewness 0", fabs(s3 / N) < 5 * sqrt(15.0 / N));
  TEST("normal kurtosis 3", fabs(s4 / N - 3) < 5 * sqrt(96.0 / N));
  /* beyond R, the ziggurat's tail: P = erfc(R / sqrt 2) = 2.58e-4 */
  double ptail = erfc(3.6541528853610088 / sqrt(2.0));
  TEST("the tail drawn as often as it should be", fabs(tail - ptail * N) < 5 * sqrt(ptail * N));
  qsort(z, N, sizeof z[0], cmp_double);
  double d = 0;
  for (int i = 0; i < N; i++) {
    double cdf = 0.5 * erfc(-z[i] / sqrt(2.0));
    d = fmax(d, fmax(fabs(cdf - (double)i / N), fabs(cdf - (double)(i + 1) / N)));
  }
  /* Kolmogorov-Smirnov at the 0.1% level: 1.95 / sqrt(N) */
  printf("normal: Kolmogorov-Smirnov D = %.6f (bound %.6f)\n", d, 1.95 / sqrt(N));
  TEST("normal passes Kolmogorov-Smirnov", d < 1.95 / sqrt(N));
  drop(&a);
  make(&a, BUF_FLOAT32, 1, (int64_t[]){N / 4});
  TEST("normal float32", ndrandom_normal(78, 10, 2, 1, (int64_t[]){N / 4}, (int64_t[]){0}, &a) == ND_OK);
  s = s2 = 0;
  for (int i = 0; i < N / 4; i++) {
    double v = ((float *)a.data)[i];
    s += v, s2 += v * v;
  }
  double mean = s / (N / 4), var = s2 / (N / 4) - mean * mean;
  TEST("normal mu", fabs(mean - 10) < 5 * 2 / sqrt(N / 4));
  TEST("normal sd", fabs(var - 4) < 5 * 4 * sqrt(2.0 / (N / 4)));
  drop(&a);
}

static void test_randint(void) {
  int64_t shape[1] = {N};
  nd a;
  make(&a, BUF_INT64, 1, shape);
  /* 3 * 2^62: modulo would give the first third twice the others' share */
  int64_t lo = INT64_MIN, hi = (int64_t)1 << 62;
  TEST("randint of a 3 * 2^62 range", ndrandom_randint(1, lo, hi, 1, shape, (int64_t[]){0}, &a) == ND_OK);
  int64_t third[3] = {0};
  int inside = 1;
  for (int i = 0; i < N; i++) {
    int64_t v = ((int64_t *)a.data)[i];
    inside &= v >= lo && v < hi;
    third[((uint64_t)v - (uint64_t)lo) >> 62]++;
  }
  TEST("randint in [lo, hi)", inside);
  int fair = 1;
  for (int k = 0; k < 3; k++)
    fair &= fabs(third[k] - N / 3.0) < 5 * sqrt(N * 2.0 / 9);
  printf("randint 3*2^62: thirds %lld %lld %lld\n", (long long)third[0], (long long)third[1],
         (long long)third[2]);
  TEST("randint without modulo bias (64-bit draws)", fair);
  /* 3 * 2^30 on 32-bit draws: the same test */
  TEST("randint of 3 * 2^30", ndrandom_randint(2, 0, (int64_t)3 << 30, 1, shape, (int64_t[]){0}, &a) == ND_OK);
  third[0] = third[1] = third[2] = 0;
  for (int i = 0; i < N; i++)
    third[((int64_t *)a.data)[i] >> 30]++;
  fair = 1;
  for (int k = 0; k < 3; k++)
    fair &= fabs(third[k] - N / 3.0) < 5 * sqrt(N * 2.0 / 9);
  TEST("randint without modulo bias (32-bit draws)", fair);
  /* the whole int64 range less one */
  TEST("randint of 2^64 - 1", ndrandom_randint(3, INT64_MIN, INT64_MAX, 1, shape, (int64_t[]){0}, &a) == ND_OK);
  int neg = 0, big = 0;
  for (int i = 0; i < N; i++) {
    int64_t v = ((int64_t *)a.data)[i];
    neg += v < 0, big += v > INT64_MAX / 2;
  }
  TEST("wide randint: half negative", fabs(neg - N / 2.0) < 5 * sqrt(N / 4.0));
  TEST("wide randint: a quarter above 2^62", fabs(big - N / 4.0) < 5 * sqrt(N * 3.0 / 16));
  drop(&a);

  nd b;
  make(&b, BUF_UINT8, 1, shape);
  TEST("randint uint8", ndrandom_randint(4, 0, 256, 1, shape, (int64_t[]){0}, &b) == ND_OK);
  int64_t count[256] = {0};
  for (int i = 0; i < N; i++)
    count[((uint8_t *)b.data)[i]]++;
  double chi2 = 0;
  for (int k = 0; k < 256; k++)
    chi2 += (count[k] - N / 256.0) * (count[k] - N / 256.0) / (N / 256.0);
  /* 255 degrees of freedom: mean 255, sd 22.6 */
  TEST("uint8 values uniform (chi-square)", chi2 < 255 + 5 * 22.6);
  TEST("randint 0..255 past uint8 refused", ndrandom_randint(4, 0, 257, 1, shape, (int64_t[]){0}, &b) == ND_EDTYPE);
  TEST("negative into uint8 refused", ndrandom_randint(4, -1, 5, 1, shape, (int64_t[]){0}, &b) == ND_EDTYPE);
  TEST("empty range refused", ndrandom_randint(4, 5, 5, 1, shape, (int64_t[]){0}, &b) == ND_EDTYPE);
  TEST("random into uint8 refused", ndrandom_random(4, 1, shape, (int64_t[]){0}, &b) == ND_EDTYPE);
  TEST("normal into uint8 refused", ndrandom_normal(4, 0, 1, 1, shape, (int64_t[]){0}, &b) == ND_EDTYPE);
  TEST("a region past the whole refused",
       ndrandom_randint(4, 0, 9, 1, (int64_t[]){N + 1}, (int64_t[]){2}, &b) == ND_ESHAPE);
  TEST("a region of another ndim refused",
       ndrandom_randint(4, 0, 9, 2, (int64_t[]){N, 1}, (int64_t[]){0, 0}, &b) == ND_ESHAPE);
  TEST("a whole of 2^63 elements or more refused",
       ndrandom_randint(4, 0, 9, 1, (int64_t[]){INT64_MAX}, (int64_t[]){0}, &b) == ND_OK &&
       ndrandom_random(4, 2, (int64_t[]){(int64_t)1 << 32, (int64_t)1 << 31}, (int64_t[]){0, 0},
                       &(nd){.data = b.data, .dtype = BUF_FLOAT64, .ndim = 2, .shape = {1, 1}}) == ND_ESHAPE);
  drop(&b);

  nd c;
  make(&c, BUF_INT32, 1, shape);
  TEST("randint int32 full range", ndrandom_randint(5, INT32_MIN, (int64_t)INT32_MAX + 1, 1, shape, (int64_t[]){0}, &c) == ND_OK);
  int lows = 0, highs = 0;
  for (int i = 0; i < N; i++) {
    int32_t v = ((int32_t *)c.data)[i];
    lows += v < INT32_MIN / 2, highs += v >= INT32_MAX / 2;
  }
  TEST("int32 full range: quarters", fabs(lows - N / 4.0) < 5 * sqrt(N * 3.0 / 16) &&
                                         fabs(highs - N / 4.0) < 5 * sqrt(N * 3.0 / 16));
  TEST("int32 past its range refused", ndrandom_randint(5, 0, (int64_t)INT32_MAX + 2, 1, shape, (int64_t[]){0}, &c) == ND_EDTYPE);
  TEST("randint -3..3 int32", ndrandom_randint(6, -3, 4, 1, shape, (int64_t[]){0}, &c) == ND_OK);
  int64_t seen[7] = {0};
  inside = 1;
  for (int i = 0; i < N; i++) {
    int32_t v = ((int32_t *)c.data)[i];
    inside &= v >= -3 && v <= 3;
    if (v >= -3 && v <= 3)
      seen[v + 3]++;
  }
  fair = 1;
  for (int k = 0; k < 7; k++)
    fair &= fabs(seen[k] - N / 7.0) < 5 * sqrt(N * 6.0 / 49);
  TEST("small range: every value, evenly", inside && fair);
  drop(&c);

  nd d;
  make(&d, BUF_BOOL, 1, (int64_t[]){1000});
  TEST("randint bool", ndrandom_randint(7, 0, 2, 1, (int64_t[]){1000}, (int64_t[]){0}, &d) == ND_OK);
  int ones = 0, bits = 1;
  for (int i = 0; i < 1000; i++)
    ones += ((uint8_t *)d.data)[i] == 1, bits &= ((uint8_t *)d.data)[i] <= 1;
  TEST("bool: 0 and 1 only, about half each", bits && ones > 400 && ones < 600);
  drop(&d);
}

static void test_seeds(void) {
  int64_t shape[1] = {10000};
  static const uint64_t seeds[4] = {1, 2, ((uint64_t)1 << 32) | 1, 0};
  nd a[4];
  for (int s = 0; s < 4; s++) {
    make(&a[s], BUF_FLOAT64, 1, shape);
    ndrandom_random(seeds[s], 1, shape, (int64_t[]){0}, &a[s]);
  }
  int differ = 1;
  for (int s = 0; s < 4; s++)
    for (int t = s + 1; t < 4; t++) {
      int same = 0;
      for (int i = 0; i < shape[0]; i++)
        same += ((double *)a[s].data)[i] == ((double *)a[t].data)[i];
      differ &= same == 0;
    }
  TEST("different seeds (low or high word): different streams", differ);
  nd n;
  make(&n, BUF_FLOAT64, 1, shape);
  ndrandom_normal(1, 0, 1, 1, shape, (int64_t[]){0}, &n);
  ndrandom_random(1, 1, shape, (int64_t[]){0}, &a[3]);
  int same = 1;
  for (int i = 0; i < shape[0]; i++)
    same &= ((double *)a[3].data)[i] == ((double *)a[0].data)[i];
  TEST("same seed: same stream", same);
  for (int s = 0; s < 4; s++)
    drop(&a[s]);
  drop(&n);
}

static void test_interrupt(void) {
  int64_t shape[1] = {3 << 20};
  nd a;
  make(&a, BUF_FLOAT64, 1, shape);
  atomic_store(&rt_interrupt_flag, 1);
  TEST("an interrupt stops a fill", ndrandom_random(1, 1, shape, (int64_t[]){0}, &a) == ND_EINTR);
  atomic_store(&rt_interrupt_flag, 0);
  TEST("and a fill runs again after", ndrandom_random(1, 1, shape, (int64_t[]){0}, &a) == ND_OK);
  drop(&a);
}

int main(void) {
  test_kat();
  test_layout();
  test_paths();
  test_tiles();
  test_strides();
  test_uniform_stats();
  test_normal_stats();
  test_randint();
  test_seeds();
  test_interrupt();
  return test_report();
}
