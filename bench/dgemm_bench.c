/*
 * dgemm_bench: the yardstick of the seeds' product x:dot(x.T):sum()
 * (bench/array_dot.lua): one plain cblas_dgemm of the same total size,
 * and nd_matmul on the same data, whole and in c x c blocks.
 *
 *   dgemm_bench [n] [c] [threads]          (4000 1000 and every processor)
 *
 * Prints lines for bench/run.py, wall seconds of:
 *   time dgemm S             one dgemm x @ x.T, OpenBLAS on 'threads' threads
 *   time dgemm_1thread S     the same on one thread
 *   time nd_matmul S         nd_matmul(x, x.T), one thread (as in one task)
 *   time nd_matmul_blocks S  the block products accumulated over the inner
 *                            blocks, the output blocks shared by 'threads'
 *                            threads of one BLAS thread each (as tasks on
 *                            workers), plus the sum of the result
 * and the BLAS in use.  Built by meson, not run by the tests.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "array/blas.h"
#include "array/ndmatmul.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "dgemm_bench: %s\n", what);
    exit(1);
  }
}

static int64_t n, c;
static nd x;
static atomic_long next_block;
static double block_sums[1024];

/* Output blocks taken in turn: out_ij = sum over k of x_ik @ (x.T)_kj. */
static void *blocks(void *unused) {
  (void)unused;
  int64_t nb = (n + c - 1) / c;
  for (long t; (t = atomic_fetch_add(&next_block, 1)) < nb * nb;) {
    int64_t i = t / nb, j = t % nb, mi = n - i * c < c ? n - i * c : c;
    int64_t nj = n - j * c < c ? n - j * c : c;
    nd out;
    check(nd_zeros(&out, BUF_FLOAT64, 2, (const int64_t[]){mi, nj}) == 0, "out of memory");
    for (int64_t k = 0; k * c < n; k++) {
      int64_t nk = n - k * c < c ? n - k * c : c;
      nd a, b;
      nd_ref(&a, &x);
      nd_slice(&a, 0, i * c, mi, 1);
      nd_slice(&a, 1, k * c, nk, 1);
      nd_ref(&b, &x);
      nd_transpose(&b, (const int[]){1, 0});
      nd_slice(&b, 0, k * c, nk, 1);
      nd_slice(&b, 1, j * c, nj, 1);
      check(nd_matmul(&a, &b, &out, 1) == ND_OK, "nd_matmul failed");
      nd_free(&a);
      nd_free(&b);
    }
    double s = 0;
    for (int64_t e = 0; e < mi * nj; e++) s += ((const double *)out.data)[e];
    block_sums[t] = s;
    nd_free(&out);
  }
  return NULL;
}

int main(int argc, char **argv) {
  n = argc > 1 ? atol(argv[1]) : 4000;
  c = argc > 2 ? atol(argv[2]) : 1000;
  long threads = argc > 3 ? atol(argv[3]) : sysconf(_SC_NPROCESSORS_ONLN);
  check(n > 0 && c > 0 && threads > 0 && threads <= 256, "usage: dgemm_bench [n] [c] [threads]");
  check(((n + c - 1) / c) * ((n + c - 1) / c) <= 1024, "at most 32 x 32 blocks");
  check(blas_load(), blas_kernel());
  printf("blas %s\n", blas_kernel());

  check(nd_alloc(&x, BUF_FLOAT64, 2, (const int64_t[]){n, n}) == 0, "out of memory");
  uint64_t r = 1;
  for (int64_t e = 0; e < n * n; e++) {
    r = r * 6364136223846793005u + 1442695040888963407u;
    ((double *)x.data)[e] = (double)(r >> 11) * 0x1p-53;
  }
  nd xt, out;
  nd_ref(&xt, &x);
  nd_transpose(&xt, (const int[]){1, 0});

  double t = now();
  check(nd_matmul(&x, &xt, &out, 0) == ND_OK, "nd_matmul failed");
  printf("time nd_matmul %.6f\n", now() - t);
  double *cm = (double *)out.data;

  pthread_t tid[256];
  t = now();
  for (long i = 0; i < threads; i++) pthread_create(&tid[i], NULL, blocks, NULL);
  for (long i = 0; i < threads; i++) pthread_join(tid[i], NULL);
  double s = 0;
  for (int64_t b = 0; b < ((n + c - 1) / c) * ((n + c - 1) / c); b++) s += block_sums[b];
  printf("time nd_matmul_blocks %.6f\n", now() - t);

  t = now();
  blas_dgemm(0, 1, n, n, n, (const double *)x.data, n, (const double *)x.data, n, 0, cm, n);
  printf("time dgemm_1thread %.6f\n", now() - t);

  /* OpenBLAS's own threads for the reference: the library dusk loaded. */
  void *h = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
  void (*set_threads)(int) = h ? (void (*)(int))dlsym(h, "openblas_set_num_threads") : NULL;
  if (set_threads) set_threads((int)threads);
  t = now();
  blas_dgemm(0, 1, n, n, n, (const double *)x.data, n, (const double *)x.data, n, 0, cm, n);
  printf("time dgemm %.6f\n", now() - t);
  double whole = 0;
  for (int64_t e = 0; e < n * n; e++) whole += cm[e];
  check(whole > 0 && (s - whole) < 1e-9 * whole && (whole - s) < 1e-9 * whole,
        "the blocks' sum differs from the product's");
  printf("sum %.17g (threads %ld%s)\n", s, threads,
         set_threads ? "" : "; dgemm on one thread: no openblas_set_num_threads");
  nd_free(&out);
  nd_free(&xt);
  nd_free(&x);
  return 0;
}
