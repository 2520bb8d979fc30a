/*
 * test_store: blocks of persisted values (src/data/store.c) and the
 * values they hold (value.c): moving values in, copying them out,
 * references, bytes, and every allocation failing in turn.
 */
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
  test_underflow();
  lua_close(L);
  return test_report();
}
