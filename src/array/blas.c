/*
 * blas: OpenBLAS through dlopen, its core type chosen by dusk.
 *
 * DESIGN.  The first blas_load (pthread_once) looks at DUSK_BLAS, chooses
 * OPENBLAS_CORETYPE from the CPU when the user has not set it, sets
 * OPENBLAS_NUM_THREADS=1 the same way (the library then starts no
 * threads of its own), opens libopenblas.so.0 (the soname Debian's
 * alternatives point at any variant of, then the pthread variant's own
 * path), and puts back the environment it changed: the library read it
 * in its constructor, and a child process should see the user's.
 * Changing the environment races with another thread's getenv, so the
 * first load should come from the main thread before workers multiply
 * (blas.h).  The library is never closed.
 *
 * The core type: AVX-512 (with the BW/DQ/VL subsets SkylakeX's kernels
 * use) and BF16 -> Cooperlake, AVX-512 -> SkylakeX, AVX2 and FMA ->
 * Haswell (Zen on AMD), AVX -> Sandybridge, else OpenBLAS's own choice.
 * These are the names 0.3.21's DYNAMIC_ARCH build accepts; an unknown
 * name makes it detect the CPU itself, which blas_kernel then reports.
 */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "array/blas.h"

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*dgemm_fn)(int, int, int, int, int, int, double, const double *, int,
                         const double *, int, double, double *, int);
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);

static struct {
  dgemm_fn dgemm;       /* NULL: the C loops */
  sgemm_fn sgemm;
  char kernel[160];
} lib;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static const char *choose_core(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512vnni")
               ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return __builtin_cpu_is("amd") ? "Zen" : "Haswell";
  if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
  return NULL;
}

static int unset(const char *name) {
  const char *v = getenv(name);
  return v == NULL || *v == '\0';
}

static void *open_openblas(const char **why) {
  static const char *const names[] = {
    "libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  };
  void *h = NULL;
  for (size_t i = 0; h == NULL && i < sizeof names / sizeof names[0]; i++)
    h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) *why = "libopenblas.so.0 not found: apt-get install libopenblas0-pthread";
  return h;
}

/* "OpenBLAS 0.3.21" from openblas_get_config's "OpenBLAS 0.3.21 NO_LAPACKE ...". */
static void library_name(void *h, char *out, size_t size) {
  char *(*config)(void) = (char *(*)(void))dlsym(h, "openblas_get_config");
  const char *c = config ? config() : NULL;
  if (c == NULL || strncmp(c, "OpenBLAS ", 9) != 0) {
    snprintf(out, size, "a BLAS");
    return;
  }
  size_t n = 9 + strcspn(c + 9, " ");
  snprintf(out, size, "%.*s", (int)n, c);
}

static void load(void) {
  const char *forced = getenv("DUSK_BLAS");
  if (forced != NULL && strcmp(forced, "none") == 0) {
    snprintf(lib.kernel, sizeof lib.kernel, "none (DUSK_BLAS=none): plain C loops");
    return;
  }
  const char *user = unset("OPENBLAS_CORETYPE") ? NULL : getenv("OPENBLAS_CORETYPE");
  const char *core = user ? NULL : choose_core();
  int set_threads = unset("OPENBLAS_NUM_THREADS");
  if (core) setenv("OPENBLAS_CORETYPE", core, 1);
  if (set_threads) setenv("OPENBLAS_NUM_THREADS", "1", 1);
  const char *why = NULL;
  void *h;
  if (forced != NULL && *forced != '\0') {
    h = dlopen(forced, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) why = dlerror();
  } else {
    h = open_openblas(&why);
  }
  if (core) unsetenv("OPENBLAS_CORETYPE");
  if (set_threads) unsetenv("OPENBLAS_NUM_THREADS");
  if (h != NULL) {
    lib.dgemm = (dgemm_fn)dlsym(h, "cblas_dgemm");
    lib.sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
    if (lib.dgemm == NULL || lib.sgemm == NULL) {
      lib.dgemm = NULL, lib.sgemm = NULL;
      why = "the library has no cblas_dgemm / cblas_sgemm";
    }
  }
  if (lib.dgemm == NULL) {
    snprintf(lib.kernel, sizeof lib.kernel, "none (%s): plain C loops", why);
    return;
  }
  void (*threads)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
  if (threads) threads(1);
  char name[64];
  library_name(h, name, sizeof name);
  char *(*corename)(void) = (char *(*)(void))dlsym(h, "openblas_get_corename");
  const char *got = corename ? corename() : NULL;
  if (got == NULL) {
    snprintf(lib.kernel, sizeof lib.kernel, "%s", name);
    return;
  }
  const char *want = core ? core : user;
  const char *by = want == NULL || strcasecmp(want, got) != 0 ? "detected by OpenBLAS"
                   : core ? "chosen by dusk" : "set by OPENBLAS_CORETYPE";
  snprintf(lib.kernel, sizeof lib.kernel, "%s, core %s (%s)", name, got, by);
}

int blas_load(void) {
  pthread_once(&lib_once, load);
  return lib.dgemm != NULL;
}

const char *blas_kernel(void) {
  blas_load();
  return lib.kernel;
}

static int fits(int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc) {
  return m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX &&
         ldc <= INT_MAX;
}

/* The C loops: row i of C gathers k rows of op(B) scaled by A(i,k), so
 * the inner loop runs along C's row (and along B's when not transposed). */
#define GEMM_LOOP(T, transa, transb, m, n, k, a, lda, b, ldb, accumulate, c, ldc)          \
  for (int64_t i = 0; i < (m); i++) {                                                     \
    T *ci = (c) + i * (ldc);                                                              \
    if (!(accumulate))                                                                    \
      for (int64_t j = 0; j < (n); j++) ci[j] = 0;                                        \
    for (int64_t p = 0; p < (k); p++) {                                                   \
      T aip = (transa) ? (a)[p * (lda) + i] : (a)[i * (lda) + p];                         \
      if (transb) {                                                                       \
        for (int64_t j = 0; j < (n); j++) ci[j] += aip * (b)[j * (ldb) + p];              \
      } else {                                                                            \
        const T *bp = (b) + p * (ldb);                                                    \
        for (int64_t j = 0; j < (n); j++) ci[j] += aip * bp[j];                           \
      }                                                                                   \
    }                                                                                     \
  }

void blas_dgemm(int transa, int transb, int64_t m, int64_t n, int64_t k,
                const double *a, int64_t lda, const double *b, int64_t ldb,
                int accumulate, double *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k > 0 && blas_load() && fits(m, n, k, lda, ldb, ldc)) {
    lib.dgemm(CBLAS_ROW_MAJOR, transa ? CBLAS_TRANS : CBLAS_NO_TRANS,
              transb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k, 1.0, a, (int)lda,
              b, (int)ldb, accumulate ? 1.0 : 0.0, c, (int)ldc);
    return;
  }
  GEMM_LOOP(double, transa, transb, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
}

void blas_sgemm(int transa, int transb, int64_t m, int64_t n, int64_t k,
                const float *a, int64_t lda, const float *b, int64_t ldb,
                int accumulate, float *c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k > 0 && blas_load() && fits(m, n, k, lda, ldb, ldc)) {
    lib.sgemm(CBLAS_ROW_MAJOR, transa ? CBLAS_TRANS : CBLAS_NO_TRANS,
              transb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a, (int)lda,
              b, (int)ldb, accumulate ? 1.0f : 0.0f, c, (int)ldc);
    return;
  }
  GEMM_LOOP(float, transa, transb, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
}
