/* Unit tests of src/data/buffer.c: layouts, refcounts, frames, failure
 * injection, and many threads sharing one buffer (run under TSan). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "bind/lmodules.h"
#include "data/buffer.h"
#include "data/value.h"
#include "exec/runtime.h"
#include "testhelp.h"

static uint64_t sum_bytes(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211u;
  return h;
}

static buf *bytes_buf(size_t n, int pattern) {
  buf *b = buf_new(BUF_BYTES, NULL, 0, n);
  if (b == NULL) return NULL;
  unsigned char *d = buf_wdata(b);
  for (size_t i = 0; i < n; i++) d[i] = (unsigned char)(pattern ? i * 7 + i / 251 : (size_t)rand());
  return b;
}

static int same(const buf *a, const buf *b) {
  size_t la, lb;
  const unsigned char *ma = buf_meta(a, &la), *mb = buf_meta(b, &lb);
  return buf_type(a) == buf_type(b) && buf_size(a) == buf_size(b) && la == lb &&
         memcmp(ma, mb, la) == 0 && memcmp(buf_data(a), buf_data(b), buf_size(a)) == 0;
}

/* Encodes 'b' and decodes it again; returns the copy or NULL. */
static buf *round_trip(const buf *b, int flags, size_t *framelen) {
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  if (buf_encode(b, flags, &s) != 0) return NULL;
  buf *c = NULL;
  const char *why;
  buf_decode(s.p, s.len, &c, &why);
  if (framelen) *framelen = s.len;
  serial_buf_free(&s);
  return c;
}

static void test_layouts(void) {
  buf *b = buf_new(BUF_BYTES, NULL, 0, 100);
  TEST("bytes buffer made", b != NULL);
  TEST("data 64-byte aligned", ((uintptr_t)buf_data(b) & 63) == 0);
  TEST("tail zeroed to 64", ((const unsigned char *)buf_data(b))[127] == 0);
  TEST("one reference", buf_refcount(b) == 1);
  TEST("size", buf_size(b) == 100 && buf_type(b) == BUF_BYTES);
  buf_decref(b);
  TEST("bytes take no metadata", buf_new(BUF_BYTES, "x", 1, 4) == NULL);
  TEST("unknown tag refused", buf_new((buf_tag)9, NULL, 0, 4) == NULL);

  buf_array a = {BUF_FLOAT64, 3, {2, 3, 4}};
  b = buf_new_array(&a);
  TEST("array buffer sized by its shape", b && buf_size(b) == 2 * 3 * 4 * 8);
  TEST("array aligned", ((uintptr_t)buf_data(b) & 63) == 0);
  buf_array r;
  TEST("array metadata read back", buf_array_of(b, &r) == 0 && r.dtype == BUF_FLOAT64 &&
                                       r.ndim == 3 && r.shape[0] == 2 && r.shape[2] == 4);
  buf_table t;
  uint32_t ty[4];
  uint64_t by[4];
  TEST("an array is not a table", buf_table_of(b, &t, ty, by, 4) == -1);
  buf_decref(b);
  buf_array bad = {BUF_STRING, 1, {4}};
  TEST("no string arrays", buf_new_array(&bad) == NULL);
  buf_array neg = {BUF_INT32, 2, {4, -1}};
  TEST("negative extent refused", buf_new_array(&neg) == NULL);
  buf_array huge = {BUF_INT64, 2, {1 << 30, 1 << 30}};
  TEST("overflowing shape refused", buf_new_array(&huge) == NULL);
  buf_array scalar = {BUF_INT32, 0, {0}};
  b = buf_new_array(&scalar);
  TEST("0-d array holds one element", b && buf_size(b) == 4);
  buf_decref(b);

  uint32_t types[3] = {BUF_INT64, BUF_STRING, BUF_BOOL};
  uint64_t bytes[3] = {80, 13, 10};
  buf_table tab = {10, 3, types, bytes};
  TEST("columns at 64-aligned offsets", buf_column_offset(&tab, 1) == 128 &&
                                            buf_column_offset(&tab, 2) == 192);
  b = buf_new_table(&tab);
  TEST("table sized by its columns", b && buf_size(b) == 202);
  TEST("table metadata read back", buf_table_of(b, &t, ty, by, 4) == 0 && t.nrows == 10 &&
                                       t.ncols == 3 && ty[1] == BUF_STRING && by[2] == 10);
  TEST("too little room refused", buf_table_of(b, &t, ty, by, 2) == -1);
  buf_decref(b);
  size_t metalen;
  b = buf_new_table(&tab);
  const unsigned char *m = buf_meta(b, &metalen);
  TEST("metadata checked against the size", buf_checkmeta(BUF_TABLE, m, metalen, 203) == -1 &&
                                                buf_checkmeta(BUF_TABLE, m, metalen, 202) == 0);
  buf_decref(b);
}

static void test_refcounts(void) {
  buf *b = bytes_buf(10, 1);
  buf_incref(b);
  buf_incref(b);
  TEST("increfs count", buf_refcount(b) == 3);
  buf_decref(b);
  buf_decref(b);
  TEST("decrefs count", buf_refcount(b) == 1);
  buf_decref(b);
}

static void test_frames(void) {
  size_t sizes[] = {0, 1, 63, 64, 1000, SERIAL_COMPRESS_MIN - 1, SERIAL_COMPRESS_MIN, 1 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
    buf *b = bytes_buf(sizes[i], 1);
    size_t raw, z;
    buf *c = round_trip(b, 0, &raw);
    TEST("bytes round trip raw", c && same(b, c));
    TEST("a copy is its own", c && buf_data(c) != buf_data(b) && buf_refcount(c) == 1);
    if (c) buf_decref(c);
    c = round_trip(b, SERIAL_COMPRESS, &z);
    TEST("bytes round trip compressed", c && same(b, c));
    if (c) buf_decref(c);
    if (sizes[i] >= SERIAL_COMPRESS_MIN) TEST("compressed above the threshold", z < raw / 2);
    else TEST("raw below the threshold", z == raw);
    buf_decref(b);
  }
  buf *b = bytes_buf(SERIAL_COMPRESS_MIN * 2, 0);
  size_t raw, z;
  buf *c = round_trip(b, SERIAL_COMPRESS, &z);
  TEST("incompressible data round-trips", c && same(b, c));
  if (c) buf_decref(c);
  c = round_trip(b, 0, &raw);
  TEST("incompressible data stays raw", c && z == raw);
  if (c) buf_decref(c);
  buf_decref(b);

  buf_array a = {BUF_INT32, 2, {300, 100}};
  b = buf_new_array(&a);
  int32_t *v = buf_wdata(b);
  for (int i = 0; i < 30000; i++) v[i] = i % 97;
  c = round_trip(b, SERIAL_COMPRESS, NULL);
  buf_array r;
  TEST("array round trip", c && same(b, c) && buf_array_of(c, &r) == 0 && r.shape[1] == 100);
  if (c) buf_decref(c);
  buf_decref(b);

  uint32_t types[2] = {BUF_FLOAT32, BUF_UINT8};
  uint64_t bytes[2] = {12, 3};
  buf_table t = {3, 2, types, bytes};
  b = buf_new_table(&t);
  memcpy(buf_wdata(b), "abcdefghijkl", 12);
  memcpy((char *)buf_wdata(b) + 64, "xyz", 3);
  c = round_trip(b, 0, NULL);
  TEST("table round trip", c && same(b, c) && memcmp((const char *)buf_data(c) + 64, "xyz", 3) == 0);
  if (c) buf_decref(c);
  buf_decref(b);
}

/* Every truncation and every flipped byte of the frame of 'b' refused. */
static void refuse_damage(const buf *b, int flags, const char *what) {
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  buf_encode(b, flags, &s);
  int cut_ok = 1, flip_ok = 1;
  const char *why;
  buf *c;
  for (size_t n = 0; n < s.len; n++)
    if (buf_decode(s.p, n, &c, &why) == 0 || c != NULL) cut_ok = 0;
  for (size_t i = 0; i < s.len; i++) {
    for (int bit = 0; bit < 8; bit += 3) {
      s.p[i] ^= (unsigned char)(1 << bit);
      if (buf_decode(s.p, s.len, &c, &why) == 0) {
        flip_ok = 0;
        buf_decref(c);
      }
      s.p[i] ^= (unsigned char)(1 << bit);
    }
  }
  printf("%s: frame of %zu bytes\n", what, s.len);
  TEST("every truncation refused", cut_ok);
  TEST("every flipped byte refused", flip_ok);
  TEST("the intact frame decodes", buf_decode(s.p, s.len, &c, &why) == 0 && same(b, c));
  buf_decref(c);
  serial_buf_free(&s);
}

static void test_corrupt(void) {
  buf *b = bytes_buf(200, 1);
  refuse_damage(b, 0, "bytes");
  buf_decref(b);
  buf_array a = {BUF_UINT16, 2, {3, 5}};
  b = buf_new_array(&a);
  memset(buf_wdata(b), 0x5a, buf_size(b));
  refuse_damage(b, 0, "array");
  buf_decref(b);
  b = bytes_buf(SERIAL_COMPRESS_MIN, 1);
  refuse_damage(b, SERIAL_COMPRESS, "compressed");
  buf_decref(b);

  const char *why = NULL;
  buf *c;
  TEST("garbage refused", buf_decode("hello, world, this is not a frame at all", 40, &c, &why) == -1 &&
                              c == NULL && strstr(why, "not a buffer frame"));
  /* a value frame is not a buffer frame */
  unsigned char value[40] = "\x1b" "Dsk\x02\x54";
  TEST("a value frame refused", buf_decode(value, sizeof value, &c, &why) == -1);
}

static void test_alloc_failure(void) {
  buf *b = bytes_buf(SERIAL_COMPRESS_MIN + 100, 1);
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  buf_encode(b, SERIAL_COMPRESS, &s);
  int failed = 0, ok = 1;
  for (long k = 1; k < 50; k++) {
    base_alloc_fail_after(k);
    buf *c = NULL;
    const char *why = "";
    int r = buf_decode(s.p, s.len, &c, &why);
    base_alloc_fail_after(-1);
    if (r == 0) {
      if (!same(b, c)) ok = 0;
      buf_decref(c);
      break;
    }
    failed++;
    if (c != NULL || strcmp(why, "not enough memory") != 0) ok = 0;
  }
  TEST("decode under allocation failure: an error, then the buffer", ok && failed >= 1);
  base_alloc_fail_after(1);
  buf *d = buf_new(BUF_BYTES, NULL, 0, 10);
  base_alloc_fail_after(-1);
  TEST("buf_new out of memory returns NULL", d == NULL);
  uint32_t types[1] = {BUF_INT8};
  uint64_t bytes[1] = {5};
  buf_table t = {5, 1, types, bytes};
  base_alloc_fail_after(2);
  d = buf_new_table(&t);
  base_alloc_fail_after(-1);
  TEST("buf_new_table out of memory returns NULL", d == NULL);
  serial_buf_free(&s);
  buf_decref(b);
}

/* Runs 'code' with the value at the top of L's stack as '...'; whether it
 * returned true. */
static int lua_check(lua_State *L, const char *code) {
  if (luaL_loadstring(L, code) != LUA_OK) return 0;
  lua_pushvalue(L, -2);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    printf("lua error: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  int ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ok;
}

static void test_values(void) {
  char err[256];
  lua_State *L = rt_newstate(lmod_open, err, sizeof err);
  buf_array a = {BUF_FLOAT32, 2, {2, 5}};
  buf *b = buf_new_array(&a);
  memset(buf_wdata(b), 0, buf_size(b));
  value v = {.type = VALUE_BUFFER, .u.buf = b}; /* takes the maker's reference */
  value w;
  TEST("a copy shares the buffer", value_copy(&v, &w) == 0 && w.u.buf == b && buf_refcount(b) == 2);
  TEST("bytes of a buffer value", value_bytes(&w) == 40);
  value_free(&w);
  TEST("freeing a copy lets its reference go", buf_refcount(b) == 1);
  TEST("an array buffer pushed as a dusk.ndarray", value_push(L, &v) == LUA_OK && buf_refcount(b) == 2);
  TEST("its fields from Lua",
       lua_check(L, "local a = ...; return a.nbytes == 40 and a.dtype == 'float32' and a.shape[1] == 2 "
                    "and a.shape[2] == 5 and #a.shape == 2 and a:sum() == 0"));
  TEST("its class", lua_check(L, "return dusk.ndarray.is_ndarray(...)"));
  value back;
  TEST("the ndarray becomes a value holding the same buffer",
       value_from(L, -1, &back) == LUA_OK && back.type == VALUE_BUFFER && back.u.buf == b &&
           buf_refcount(b) == 3);
  value_free(&back);
  TEST("closing the ndarray lets its reference go",
       lua_check(L, "(...):close(); return tostring(...) == 'ndarray(closed)'") && buf_refcount(b) == 1);
  lua_pop(L, 1);

  uint32_t types[2] = {BUF_INT64, BUF_STRING};
  uint64_t bytes[2] = {16, 5};
  buf_table t = {2, 2, types, bytes};
  value tv = {.type = VALUE_BUFFER, .u.buf = buf_new_table(&t)};
  TEST("a table's metadata from Lua",
       value_push(L, &tv) == LUA_OK &&
           lua_check(L, "local m = (...):meta(); return m.nrows == 2 and #m.columns == 2 and "
                        "m.columns[1].type == 'int64' and m.columns[2].type == 'string' and "
                        "m.columns[2].bytes == 5 and #(...) == 69"));
  lua_pop(L, 1);
  value_free(&tv);
  lua_close(L);
  TEST("the state's boxes let go when it closes", buf_refcount(b) == 1);
  value_free(&v);
}

/* ---- many threads share one buffer ---- */

enum { NTHREADS = 8, ROUNDS = 200 };

typedef struct {
  buf *b;
  uint64_t expect;
  int bad;
} reader;

static void *read_rounds(void *ud) {
  reader *r = ud;
  for (int i = 0; i < ROUNDS; i++) {
    buf_incref(r->b);
    if (sum_bytes(buf_data(r->b), buf_size(r->b)) != r->expect) r->bad++;
    buf_decref(r->b);
  }
  buf_decref(r->b); /* the reference the spawner gave this thread */
  return NULL;
}

static void test_threads(void) {
  int bad = 0, freed_last = 1;
  for (int round = 0; round < 5; round++) {
    buf *b = bytes_buf(4096, 0);
    uint64_t expect = sum_bytes(buf_data(b), buf_size(b));
    pthread_t th[NTHREADS];
    reader rs[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
      rs[i] = (reader){b, expect, 0};
      buf_incref(b);
      pthread_create(&th[i], NULL, read_rounds, &rs[i]);
    }
    for (int i = 0; i < NTHREADS; i++) {
      pthread_join(th[i], NULL);
      bad += rs[i].bad;
    }
    if (buf_refcount(b) != 1) freed_last = 0;
    buf_decref(b); /* the last one: frees it */
  }
  TEST("every thread read the same bytes", bad == 0);
  TEST("threads' references all released", freed_last);

  /* the last reader frees: the maker drops its reference first */
  buf *b = bytes_buf(1 << 16, 1);
  uint64_t expect = sum_bytes(buf_data(b), buf_size(b));
  pthread_t th[NTHREADS];
  reader rs[NTHREADS];
  for (int i = 0; i < NTHREADS; i++) {
    rs[i] = (reader){b, expect, 0};
    buf_incref(b);
  }
  buf_decref(b);
  for (int i = 0; i < NTHREADS; i++) pthread_create(&th[i], NULL, read_rounds, &rs[i]);
  bad = 0;
  for (int i = 0; i < NTHREADS; i++) {
    pthread_join(th[i], NULL);
    bad += rs[i].bad;
  }
  TEST("readers freed it after the maker let go, reading it whole", bad == 0);
}

int main(void) {
  test_layouts();
  test_refcounts();
  test_frames();
  test_corrupt();
  test_alloc_failure();
  test_values();
  test_threads();
  return test_report();
}
