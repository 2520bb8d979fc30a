/*
 * test_value: Lua values held in C (src/data/value.c): each kind made
 * with value_from and pushed back with value_push exactly (integers at
 * their limits, NaN, -0.0, infinities, strings with NUL bytes, tables as
 * frames with their nesting, cycles and shared references), what a value
 * holds, copying, freeing twice, and the errors.  Buffer values are
 * test_buffer's.
 */
#include <math.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/alloc.h"
#include "data/value.h"
#include "serial/serial.h"
#include "testhelp.h"

/* Makes a value of the Lua value on top (popped); type NONE on error. */
static value take(lua_State *L) {
  value v;
  if (value_from(L, -1, &v) != LUA_OK) {
    printf("unexpected: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    v.type = VALUE_NONE;
  }
  lua_pop(L, 1);
  return v;
}

/* Runs 'code' and returns its result as a value. */
static value take_code(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("unexpected: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return (value){VALUE_NONE, 0, {0}};
  }
  return take(L);
}

/* Pushes 'v' and makes it the global 'name'; 1 when the push worked. */
static int push_as(lua_State *L, const value *v, const char *name) {
  if (value_push(L, v) != LUA_OK) {
    printf("unexpected: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  lua_setglobal(L, name);
  return 1;
}

/* Whether 'code' returns true. */
static int holds(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) != LUA_OK) {
    printf("unexpected: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  int ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ok;
}

static void test_scalars(lua_State *L) {
  lua_pushnil(L);
  value v = take(L);
  TEST("nil", v.type == VALUE_NIL && v.len == 0 && value_bytes(&v) == 0);
  TEST("nil pushed", value_push(L, &v) == LUA_OK && lua_isnil(L, -1));
  lua_pop(L, 1);

  lua_pushboolean(L, 1);
  v = take(L);
  TEST("true", v.type == VALUE_BOOLEAN && v.u.b == 1);
  TEST("true pushed", value_push(L, &v) == LUA_OK && lua_type(L, -1) == LUA_TBOOLEAN
       && lua_toboolean(L, -1) == 1);
  lua_pop(L, 1);
  lua_pushboolean(L, 0);
  v = take(L);
  TEST("false", v.type == VALUE_BOOLEAN && v.u.b == 0);
  TEST("false pushed", value_push(L, &v) == LUA_OK && lua_type(L, -1) == LUA_TBOOLEAN
       && lua_toboolean(L, -1) == 0);
  lua_pop(L, 1);

  const lua_Integer ints[] = {LUA_MININTEGER, LUA_MAXINTEGER, 0, -1, 1};
  for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++) {
    lua_pushinteger(L, ints[k]);
    v = take(L);
    TEST("an integer is kept exactly", v.type == VALUE_INTEGER && v.u.i == ints[k]
         && value_bytes(&v) == 0);
    TEST("and pushed back an integer", value_push(L, &v) == LUA_OK && lua_isinteger(L, -1)
         && lua_tointeger(L, -1) == ints[k]);
    lua_pop(L, 1);
  }

  /* floats bit for bit: the sign of zero, infinities, NaN, 2.0 stays a
   * float (not the integer 2) */
  const lua_Number nums[] = {-0.0, 0.0, HUGE_VAL, -HUGE_VAL, 0.1, 2.0, 5e-324, 1.7976931348623157e308};
  for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
    lua_pushnumber(L, nums[k]);
    v = take(L);
    TEST("a float is kept bit for bit", v.type == VALUE_NUMBER
         && memcmp(&v.u.n, &nums[k], sizeof nums[k]) == 0);
    TEST("and pushed back a float", value_push(L, &v) == LUA_OK && !lua_isinteger(L, -1)
         && lua_type(L, -1) == LUA_TNUMBER);
    lua_Number back = lua_tonumber(L, -1);
    TEST("the same float", memcmp(&back, &nums[k], sizeof back) == 0);
    lua_pop(L, 1);
  }
  lua_pushnumber(L, NAN);
  v = take(L);
  TEST("NaN is kept", v.type == VALUE_NUMBER && isnan(v.u.n));
  TEST("and pushed back NaN", value_push(L, &v) == LUA_OK && isnan(lua_tonumber(L, -1)));
  lua_pop(L, 1);
  v = take_code(L, "return -0.0");
  TEST("Lua's -0.0 has its sign", v.type == VALUE_NUMBER && v.u.n == 0 && signbit(v.u.n));
  TEST("and keeps it in Lua", push_as(L, &v, "negzero") && holds(L, "return 1/negzero == -math.huge"));

  value none = {VALUE_NONE, 0, {0}};
  TEST("no value pushes nil", value_push(L, &none) == LUA_OK && lua_isnil(L, -1));
  lua_pop(L, 1);
}

static void test_strings(lua_State *L) {
  lua_pushlstring(L, "a\0b\0\0c", 6);
  value v = take(L);
  TEST("a string with NUL bytes: all six bytes", v.type == VALUE_STRING && v.len == 6
       && memcmp(v.u.p, "a\0b\0\0c", 6) == 0 && value_bytes(&v) == 6);
  TEST("pushed back whole", value_push(L, &v) == LUA_OK && lua_rawlen(L, -1) == 6
       && memcmp(lua_tostring(L, -1), "a\0b\0\0c", 6) == 0);
  lua_pop(L, 1);
  value_free(&v);

  lua_pushliteral(L, "");
  v = take(L);
  TEST("the empty string", v.type == VALUE_STRING && v.len == 0 && value_bytes(&v) == 0);
  TEST("pushed back empty", value_push(L, &v) == LUA_OK && lua_type(L, -1) == LUA_TSTRING
       && lua_rawlen(L, -1) == 0);
  lua_pop(L, 1);
  value_free(&v);

  v = take_code(L, "return string.rep('\\0\\255', 50000)");
  TEST("a long binary string", v.type == VALUE_STRING && v.len == 100000
       && v.u.p[0] == 0 && v.u.p[1] == 255 && v.u.p[99999] == 255);
  TEST("pushed back equal", push_as(L, &v, "long")
       && holds(L, "return long == string.rep('\\0\\255', 50000)"));
  value_free(&v);

  /* numbers are not strings: "10" stays a string, 10 an integer */
  v = take_code(L, "return '10'");
  TEST("a numeric string stays a string", v.type == VALUE_STRING && v.len == 2);
  value_free(&v);
}

static void test_frames(lua_State *L) {
  value v = take_code(L,
      "local shared = {n = 1}\n"
      "local t = {1, 2.5, 'three', nested = {deeper = {deepest = 'bottom'}},\n"
      "           a = shared, b = shared, [true] = false, [-7] = 'neg'}\n"
      "t.self = t\n"
      "return t");
  TEST("a table is a frame", v.type == VALUE_FRAME && v.len > SERIAL_HEADER
       && memcmp(v.u.p, SERIAL_MAGIC, 4) == 0 && value_bytes(&v) == v.len);
  TEST("pushed back", push_as(L, &v, "t1") && push_as(L, &v, "t2"));
  TEST("its list part exactly",
       holds(L, "return #t1 == 3 and t1[1] == 1 and math.type(t1[1]) == 'integer'"
                " and t1[2] == 2.5 and t1[3] == 'three'"));
  TEST("its nested tables",
       holds(L, "return t1.nested.deeper.deepest == 'bottom'"));
  TEST("other keys", holds(L, "return t1[true] == false and t1[-7] == 'neg'"));
  TEST("a shared reference stays one table",
       holds(L, "return rawequal(t1.a, t1.b) and t1.a.n == 1"));
  TEST("a cycle stays a cycle", holds(L, "return rawequal(t1.self, t1)"));
  TEST("each push a fresh copy",
       holds(L, "t1.a.n = 99 return not rawequal(t1, t2) and t2.a.n == 1 and t2.b.n == 1"));
  TEST("nothing more than was sent",
       holds(L, "local n = 0 for _ in pairs(t2) do n = n + 1 end return n == 9"));
  value_free(&v);

  v = take_code(L, "local k = 40 return function(x) return x + k + 2 end");
  TEST("a function is a frame", v.type == VALUE_FRAME && v.len > SERIAL_HEADER);
  TEST("pushed back callable with its upvalue",
       push_as(L, &v, "f") && holds(L, "return f(1) == 43"));
  value_free(&v);

  lua_pushinteger(L, 42);
  TEST("value_frame makes a frame of anything", value_frame(L, -1, &v) == LUA_OK
       && v.type == VALUE_FRAME);
  lua_pop(L, 1);
  TEST("and it pushes back the same",
       value_push(L, &v) == LUA_OK && lua_isinteger(L, -1) && lua_tointeger(L, -1) == 42);
  lua_pop(L, 1);
  value_free(&v);

  /* a corrupt frame: an error, not a crash */
  v = take_code(L, "return {1}");
  v.u.p[0] ^= 0xff;
  int top = lua_gettop(L);
  TEST("a corrupt frame is an error", value_push(L, &v) != LUA_OK
       && lua_gettop(L) == top + 1 && lua_isstring(L, -1));
  lua_settop(L, top);
  value_free(&v);
}

static void test_errors(lua_State *L) {
  int top = lua_gettop(L);
  value v;
  int st = luaL_dostring(L, "return coroutine.create(print)") == LUA_OK ? value_from(L, -1, &v) : -1;
  TEST("a coroutine cannot be a value", st == LUA_ERRRUN && lua_gettop(L) == top + 2
       && strstr(lua_tostring(L, -1), "cannot send a coroutine") != NULL);
  lua_settop(L, top);
  st = luaL_dostring(L, "return {co = coroutine.create(print)}") == LUA_OK
           ? value_from_at(L, -1, &v, "the result") : -1;
  const char *msg = lua_tostring(L, -1);
  TEST("value_from_at names the place", st == LUA_ERRRUN && msg
       && strstr(msg, "cannot send a coroutine") && strstr(msg, "the result"));
  lua_settop(L, top);

  lua_pushliteral(L, "needs memory");
  base_alloc_fail_after(1);
  st = value_from(L, -1, &v);
  base_alloc_fail_after(-1);
  TEST("a string without memory", st == LUA_ERRMEM && lua_gettop(L) == top + 2
       && strcmp(lua_tostring(L, -1), "not enough memory for a result") == 0);
  lua_settop(L, top);
}

static void test_copy_free(lua_State *L) {
  lua_pushlstring(L, "x\0y", 3);
  value v = take(L), c;
  TEST("a copy of a string", value_copy(&v, &c) == 0 && c.type == VALUE_STRING
       && c.len == 3 && c.u.p != v.u.p && memcmp(c.u.p, "x\0y", 3) == 0);
  value_free(&v);
  TEST("outlives the original", memcmp(c.u.p, "x\0y", 3) == 0
       && value_push(L, &c) == LUA_OK && lua_rawlen(L, -1) == 3);
  lua_pop(L, 1);
  value_free(&c);

  v = take_code(L, "return {list = {10, 20}, name = 'copy'}");
  TEST("a copy of a frame: the same bytes elsewhere",
       value_copy(&v, &c) == 0 && c.type == VALUE_FRAME && c.len == v.len
       && c.u.p != v.u.p && memcmp(c.u.p, v.u.p, v.len) == 0);
  value_free(&v);
  TEST("pushes the same table", push_as(L, &c, "copied")
       && holds(L, "return copied.name == 'copy' and copied.list[2] == 20 and #copied.list == 2"));
  value_free(&c);

  lua_pushinteger(L, LUA_MININTEGER);
  v = take(L);
  TEST("a copy of an integer", value_copy(&v, &c) == 0 && c.type == VALUE_INTEGER
       && c.u.i == LUA_MININTEGER);

  lua_pushliteral(L, "copy me");
  v = take(L);
  base_alloc_fail_after(1);
  int rc = value_copy(&v, &c);
  base_alloc_fail_after(-1);
  TEST("a copy without memory fails, leaving no value", rc == -1 && c.type == VALUE_NONE);
  value_free(&c); /* harmless */

  value_free(&v);
  TEST("a freed value is none", v.type == VALUE_NONE && v.len == 0 && value_bytes(&v) == 0);
  value_free(&v);
  TEST("freeing it again changes nothing", v.type == VALUE_NONE && v.len == 0);
  v = take_code(L, "return {1}");
  value_free(&v);
  value_free(&v);
  TEST("a frame freed twice", v.type == VALUE_NONE);
  lua_pushinteger(L, 5);
  v = take(L);
  value_free(&v);
  TEST("a scalar freed", v.type == VALUE_NONE);
}

int main(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  serial_baseline(L);
  test_scalars(L);
  test_strings(L);
  test_frames(L);
  test_errors(L);
  test_copy_free(L);
  TEST("the stack is as it started", lua_gettop(L) == 0);
  lua_close(L);
  return test_report();
}
