/*
 * serial_bench: encode + decode speed of dusk.serial on three workloads,
 * each between two Lua states as a worker thread would see it:
 *
 *   closure   function(x) return x * a + b + #c end, 3 upvalues, prototype
 *             cached in the receiving state
 *   ints      a list of 1,000,000 integers
 *   records   100,000 records {id=, name=, score=, ok=}
 *
 * Prints the median of several runs: microseconds per value, milliseconds
 * per round trip and MB/s of frame bytes, in CPU time of the thread (one
 * core, steady on a shared machine).  Built by meson, not a test:
 *   build/bench/serial_bench
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <lauxlib.h>

#include "bind/lmodules.h"
#include "exec/runtime.h"
#include "serial/serial.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* the machine may be shared */
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void encode(lua_State *A, serial_buf *b) {
  b->len = 0;
  if (serial_encode(A, -1, SERIAL_FUNCTIONS, b) != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(A, -1));
    exit(1);
  }
}

/* Median seconds of one encode in 'A' + decode in 'B' of the global 'name'
 * of A, over 'reps' round trips per run; the encode alone is timed in
 * loops of its own (clocks are read per loop, not per value). */
static double run(lua_State *A, lua_State *B, const char *name, int reps,
                  double *enc_s, double *dec_s, size_t *bytes) {
  enum { RUNS = 7 };
  double tot[RUNS], te[RUNS];
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  lua_getglobal(A, name);
  for (int r = 0; r < RUNS; r++) {
    double t0 = now();
    for (int i = 0; i < reps; i++) encode(A, &b);
    double t1 = now();
    for (int i = 0; i < reps; i++) {
      encode(A, &b);
      if (serial_decode(B, b.p, b.len, 0, SERIAL_FUNCTIONS) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(B, -1));
        exit(1);
      }
      lua_pop(B, 1);
    }
    double t2 = now();
    te[r] = (t1 - t0) / reps;
    tot[r] = (t2 - t1) / reps;
    lua_gc(B, LUA_GCCOLLECT);
  }
  *bytes = b.len;
  serial_buf_free(&b);
  lua_pop(A, 1);
  qsort(tot, RUNS, sizeof tot[0], cmp);
  qsort(te, RUNS, sizeof te[0], cmp);
  *enc_s = te[RUNS / 2];
  *dec_s = tot[RUNS / 2] - *enc_s;
  return tot[RUNS / 2];
}

int main(void) {
  char err[256];
  lua_State *A = rt_newstate(lmod_open, err, sizeof err), *B = rt_newstate(lmod_open, err, sizeof err);
  if (!A || !B) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (luaL_dostring(A,
      "local a, b, c = 2, 3, {1, 2}\n"
      "closure = function(x) return x * a + b + #c end\n"
      "ints = {} for i = 1, 1000000 do ints[i] = i end\n"
      "records = {} for i = 1, 100000 do\n"
      "  records[i] = {id = i, name = 'user' .. i, score = i / 7, ok = i % 2 == 0} end\n") != LUA_OK) {
    fprintf(stderr, "%s\n", lua_tostring(A, -1));
    return 1;
  }
  static const struct { const char *name; int reps, values; } w[] = {
    {"closure", 20000, 1}, {"ints", 3, 1000000}, {"records", 3, 100000},
  };
  printf("%-8s %12s %12s %12s %10s %10s\n", "workload", "round trip", "encode", "decode",
         "us/value", "MB/s");
  for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
    double e, d;
    size_t bytes;
    double t = run(A, B, w[i].name, w[i].reps, &e, &d, &bytes);
    const char *unit = t < 1e-3 ? "us" : "ms";
    double k = t < 1e-3 ? 1e6 : 1e3;
    printf("%-8s %10.2f%s %10.2f%s %10.2f%s %10.3f %10.1f   (%zu bytes)\n", w[i].name,
           t * k, unit, e * k, unit, d * k, unit, t * 1e6 / w[i].values,
           bytes / t / 1e6, bytes);
  }
  lua_close(A);
  lua_close(B);
  return 0;
}
