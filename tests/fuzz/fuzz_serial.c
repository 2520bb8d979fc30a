/*
 * fuzz_serial: the frame decoder under libFuzzer, on every path but
 * bytecode loading.
 *
 * Frames are decoded as untrusted (no bytecode loaded, no module required,
 * no function by name) but with SERIAL_CACHED, and the state's prototype
 * cache holds the functions of 'known' below, so frames holding closures
 * of them exercise upvalues, shared cells and function references.  A
 * decoded value is encoded again, to run the encoder over odd graphs.
 *
 * With FUZZ_SERIAL_SEEDS=dir set, initialisation writes seed frames (the
 * values 'seeds' returns, encoded) into dir and exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "serial/serial.h"

/* Harmless functions: a decoded one may end up as a metamethod. */
static const char known[] =
  "local a, b, c = 1, 2, {}\n"
  "local function f(x) return x + a end\n"
  "local function g(x) a = a + 1; return b, c end\n"
  "local function h() return f, g end\n"
  "return {f, g, h, function(...) return select('#', ...) end}\n";

static const char seeds[] =
  "local fns = ...\n"
  "local t = {1, 2, 3, x = 'a', y = {z = 1.5}}\n"
  "local cyc = {}; cyc.self = cyc; cyc[1] = cyc\n"
  "local shared = {'s'}\n"
  "local mt = setmetatable({k = true}, {__index = {d = 1}})\n"
  "local big = {}; for i = 1, 300 do big[i] = i * 7 end\n"
  "local rec = {}; for i = 1, 20 do rec[i] = {id = i, name = 'n' .. i, v = i / 3} end\n"
  "return {nil, true, false, 0, -1, 127, 128, math.maxinteger, math.mininteger,\n"
  "  0.5, -0.0, 1/0, -1/0, 0/0, '', 'hello', string.rep('x', 300), '\\0\\1\\2',\n"
  "  t, cyc, {shared, shared}, mt, big, rec, {[1.5] = 1, [true] = 2, [-3] = 3},\n"
  "  string, math, _G, {a = io, b = table}, fns, fns[1], {fns[1], fns[2], fns[3]},\n"
  "  {deep = {{{{{{{{{{1}}}}}}}}}}}, string.rep('ab', 40000), big}\n";

static lua_State *L;

static void done(void) { lua_close(L); }

static void write_seeds(const char *dir) {
  if (luaL_loadbuffer(L, seeds, sizeof seeds - 1, "=seeds") != LUA_OK) abort();
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  int n = (int)lua_rawlen(L, -1);
  for (int i = 1; i <= n + 1; i++) {
    serial_buf b;
    serial_buf_init(&b, NULL, NULL);
    lua_rawgeti(L, -1, i > n ? 1 : i);
    int flags = SERIAL_FUNCTIONS | (i == n ? SERIAL_COMPRESS : 0);
    if (serial_encode(L, -1, flags, &b) != LUA_OK) {
      fprintf(stderr, "seed %d: %s\n", i, lua_tostring(L, -1));
      exit(1);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%03d", dir, i);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0) exit(1);
    serial_buf_free(&b);
    lua_pop(L, 1);
  }
  exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  serial_baseline(L);
  atexit(done);
  /* load the known functions through a trusted frame: they are cached */
  if (luaL_loadbuffer(L, known, sizeof known - 1, "=known") != LUA_OK) abort();
  lua_call(L, 0, 1);
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  if (serial_encode(L, 1, SERIAL_FUNCTIONS, &b) != LUA_OK) abort();
  if (serial_decode(L, b.p, b.len, 0, SERIAL_FUNCTIONS) != LUA_OK) abort();
  lua_pop(L, 1);
  serial_buf_free(&b);
  const char *dir = getenv("FUZZ_SERIAL_SEEDS");
  if (dir) write_seeds(dir);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  if (serial_decode(L, data, size, 0, SERIAL_CACHED) == LUA_OK) {
    serial_buf b;
    serial_buf_init(&b, NULL, NULL);
    if (serial_encode(L, -1, SERIAL_FUNCTIONS, &b) == LUA_OK) {
      if (serial_decode(L, b.p, b.len, 0, SERIAL_CACHED) != LUA_OK) {
        fprintf(stderr, "re-encoded frame does not decode: %s\n", lua_tostring(L, -1));
        abort();
      }
    }
    serial_buf_free(&b);
  }
  lua_settop(L, 1); /* the known functions stay */
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
