/*
 * test_store: blocks of persisted values (src/data/store.c) and the
 * values they hold (value.c): moving values in, every kind kept exactly,
 * copying them out, references, exact bytes, and every allocation
 * failing in turn.
 */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/alloc.h"
#include "data/store.h"
#include "serial/serial.h"
#include "testhelp.h"

#define NVALUES 7

/* Pushes the values the block holds: scalars, strings short and long,
 * tables (frames). */
static const char *const values_code =
    "return nil, true, 42, 1.5, 'a string', string.rep('x', 100000), "
    "{1, 2, {x = 'y'}, name = 'frame'}";

static void push_values(lua_State *L) {
  if (luaL_dostring(L, values_code) != LUA_OK) {
    printf("unexpected: %s\n", lua_tostring(L, -1));
    lua_settop(L, 0);
  }
}

/* Whether the value pushed at 'a' equals the one at 'b' (tables: the
 * fields of the one made by values_code). */
static int same_value(lua_State *L, int a, int b) {
  if (lua_type(L, a) != LUA_TTABLE) return lua_rawequal(L, a, b);
  if (lua_type(L, b) != LUA_TTABLE) return 0;
  lua_getfield(L, a, "name");
  lua_rawgeti(L, a, 3);
  lua_getfield(L, -1, "x");
  int ok = lua_rawlen(L, a) == 3 && strcmp(lua_tostring(L, -3), "frame") == 0 &&
           strcmp(lua_tostring(L, -1), "y") == 0;
  lua_pop(L, 3);
  return ok;
}

/* Makes a block of the values, a copy of each, and a second reader;
 * pushes the copies back.  1 when all went well, 0 when it stopped at an
 * allocation failure that said so, -1 otherwise. */
static int round_trip(lua_State *L) {
  lua_settop(L, 0);
  push_values(L);
  int top = lua_gettop(L);
  if (top != NVALUES) return -1;
  store_block *b = store_new(NVALUES);
  if (b == NULL) return 0;
  int rc = 1;
  for (int i = 0; i < NVALUES && rc == 1; i++) {
    value v;
    int st = value_from(L, i + 1, &v);
    if (st != LUA_OK) {
      rc = st == LUA_ERRMEM && strstr(lua_tostring(L, -1), "not enough memory") ? 0 : -1;
      lua_pop(L, 1);
      break;
    }
    store_put(b, (uint32_t)i, &v);
    if (v.type != VALUE_NONE) rc = -1; /* moved */
  }
  store_incref(b); /* a job reading it */
  for (int i = 0; i < NVALUES && rc == 1; i++) {
    value copy;
    if (value_copy(&b->values[i], &copy) != 0) {
      rc = copy.type == VALUE_NONE ? 0 : -1;
      break;
    }
    int st = value_push(L, &copy);
    value_free(&copy);
    if (st != LUA_OK) {
      rc = st == LUA_ERRMEM ? 0 : -1;
      break;
    }
    if (!same_value(L, i + 1, -1)) rc = -1;
    lua_pop(L, 1);
  }
  if (rc == 1 && store_bytes(b) < NVALUES * sizeof(value) + 100000 + 8) rc = -1;
  store_decref(b); /* the job is done */
  if (atomic_load(&b->refcount) != 1) rc = -1;
  store_decref(b); /* the collection released: frees all */
  return rc;
}

static void test_values(lua_State *L) {
  TEST("values round-trip through a block", round_trip(L) == 1);
  store_block *b = store_new(3);
  TEST("a new block: one reference, every value none",
       b && atomic_load(&b->refcount) == 1 && b->values[2].type == VALUE_NONE);
  lua_pushliteral(L, "first");
  value v;
  TEST("a string value", value_from(L, -1, &v) == LUA_OK && v.type == VALUE_STRING && v.len == 5);
  store_put(b, 1, &v);
  lua_pushliteral(L, "second, longer");
  value_from(L, -1, &v);
  store_put(b, 1, &v); /* replaces, freeing the first */
  TEST("a replaced value is freed, the new one counted",
       store_bytes(b) == 3 * sizeof(value) + 14 && v.type == VALUE_NONE);
  lua_settop(L, 0);
  store_decref(b);
}

static void test_failures(lua_State *L) {
  int fails = 0, ok = 0, bad = 0;
  for (long k = 1; k < 500 && !ok && !bad; k++) {
    base_alloc_fail_after(k);
    int rc = round_trip(L);
    base_alloc_fail_after(-1);
    if (rc == 0) fails++;
    else if (rc == 1) ok = 1;
    else bad = 1;
  }
  TEST("every allocation failure is a clean error, until none fails", fails >= 5 && ok && !bad);
}

/* Every kind of value in one block, each kept exactly as it was put, the
 * bytes counted exactly, and each pushed back as it was. */
static void test_kinds(lua_State *L) {
  buf *data = buf_new(BUF_BYTES, NULL, 0, 100);
  TEST("a buffer to keep", data != NULL && buf_refcount(data) == 1);
  lua_settop(L, 0);
  TEST("the values to keep", luaL_dostring(L,
      "return nil, true, false, math.mininteger, math.maxinteger, 0/0, -0.0, math.huge, "
      "'a\\0b', {k = {1, 2}}") == LUA_OK && lua_gettop(L) == 10);
  store_block *b = store_new(12);
  size_t framelen = 0;
  for (int i = 0; i < 10; i++) {
    value v;
    if (value_from(L, i + 1, &v) != LUA_OK) {
      lua_pop(L, 1);
      continue;
    }
    if (v.type == VALUE_FRAME) framelen = v.len;
    store_put(b, (uint32_t)i, &v);
  }
  buf_incref(data);
  value bv = {VALUE_BUFFER, 0, {.buf = data}};
  store_put(b, 10, &bv); /* value 11 stays none */
  const value *s = b->values;
  TEST("nil and booleans", s[0].type == VALUE_NIL && s[1].type == VALUE_BOOLEAN && s[1].u.b == 1
       && s[2].type == VALUE_BOOLEAN && s[2].u.b == 0);
  TEST("integers at their limits", s[3].type == VALUE_INTEGER && s[3].u.i == LUA_MININTEGER
       && s[4].type == VALUE_INTEGER && s[4].u.i == LUA_MAXINTEGER);
  TEST("NaN, -0.0, inf", s[5].type == VALUE_NUMBER && s[5].u.n != s[5].u.n
       && s[6].type == VALUE_NUMBER && s[6].u.n == 0 && signbit(s[6].u.n)
       && s[7].type == VALUE_NUMBER && s[7].u.n == HUGE_VAL);
  TEST("a string with a NUL", s[8].type == VALUE_STRING && s[8].len == 3
       && memcmp(s[8].u.p, "a\0b", 3) == 0);
  TEST("a table as a frame", s[9].type == VALUE_FRAME && s[9].len == framelen && framelen > 0);
  TEST("a buffer by reference", s[10].type == VALUE_BUFFER && s[10].u.buf == data
       && buf_refcount(data) == 2 && bv.type == VALUE_NONE);
  TEST("an empty slot", s[11].type == VALUE_NONE);
  TEST("the bytes: every value's struct, the string's, the frame's, the buffer's",
       store_bytes(b) == 12 * sizeof(value) + 3 + framelen + 100);
  lua_settop(L, 0);
  for (int i = 0; i < 10; i++) {
    value c;
    if (value_copy(&b->values[i], &c) != 0 || value_push(L, &c) != LUA_OK) lua_pushliteral(L, "?");
    value_free(&c);
  }
  lua_setglobal(L, "t");
  for (int i = 9; i >= 1; i--) {
    char name[8];
    snprintf(name, sizeof name, "v%d", i);
    lua_setglobal(L, name);
  }
  TEST("read back exactly", luaL_dostring(L,
      "return v1 == nil and v2 == true and v3 == false and v4 == math.mininteger\n"
      "  and math.type(v5) == 'integer' and v5 == math.maxinteger and v6 ~= v6\n"
      "  and 1/v7 == -math.huge and v8 == math.huge and v9 == 'a\\0b'\n"
      "  and t.k[1] == 1 and t.k[2] == 2 and #t.k == 2") == LUA_OK && lua_toboolean(L, -1));
  lua_settop(L, 0);
  store_decref(b);
  TEST("the block's release drops its buffer reference", buf_refcount(data) == 1);
  buf_decref(data);
}

/* References: each reader's incref, the last decref frees (ASan sees a
 * leak or a double free), replacing a value releases the old one. */
static void test_refs(void) {
  buf *data = buf_new(BUF_BYTES, NULL, 0, 8);
  store_block *b = store_new(2);
  buf_incref(data);
  value v = {VALUE_BUFFER, 0, {.buf = data}};
  store_put(b, 0, &v);
  store_incref(b);
  store_incref(b);
  TEST("three references", atomic_load(&b->refcount) == 3);
  store_decref(b);
  TEST("two after one reader is done", atomic_load(&b->refcount) == 2);
  store_decref(b);
  TEST("one left, the values still held", atomic_load(&b->refcount) == 1
       && b->values[0].type == VALUE_BUFFER && buf_refcount(data) == 2);
  value n = {VALUE_INTEGER, 0, {.i = -5}};
  store_put(b, 0, &n);
  TEST("a value replaced releases the old one", buf_refcount(data) == 1
       && b->values[0].type == VALUE_INTEGER && b->values[0].u.i == -5
       && store_bytes(b) == 2 * sizeof(value));
  store_decref(b);
  buf_decref(data);

  store_block *empty = store_new(0);
  TEST("a block of no values", empty && empty->n == 0 && store_bytes(empty) == 0);
  store_decref(empty);
}

/* A reference dropped once too often is a bug: the process aborts. */
static void test_underflow(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    store_block *b = store_new(1);
    atomic_store(&b->refcount, 0); /* as if dropped already */
    store_decref(b);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  TEST("a refcount underflow aborts", WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  serial_baseline(L);
  test_values(L);
  test_failures(L);
  test_kinds(L);
  test_refs();
  test_underflow();
  lua_close(L);
  return test_report();
}
