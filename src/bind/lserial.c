/*
 * lserial: the Lua module "dusk.serial", over serial.h only.
 *
 *   serial.encode(v [, {compress=, functions=, local=, where=}]) -> string
 *       (where: the value's place, for errors: "argument 2 of map")
 *   serial.decode(s [, env [, {functions=, cached=, local=}]]) -> v
 *   serial.register(typename, fn)   decoder of __dusk_send payloads
 *
 * Functions are allowed by default both ways: this module is for dusk's
 * own use, on frames it made.
 */
#include <lauxlib.h>

#include "bind/lclass.h"
#include "serial/serial.h"

/* The encoder's output buffer, reused across calls (upvalue 1); a nested
 * call (a __dusk_send hook encoding) gets a box of its own. */
typedef struct box {
  serial_buf b;
  int busy;
} box;

#define BOX "dusk.serial.buffer"

static int box_close(lua_State *L) {
  box *x = luaL_checkudata(L, 1, BOX);
  serial_buf_free(&x->b);
  return 0;
}

static box *newbox(lua_State *L) {
  box *x = lclass_box(L, BOX, sizeof *x, 0);
  serial_buf_init(&x->b, NULL, NULL);
  return x;
}

/* The flag set by field 'name' of the options table at 'opts' (0: none). */
static int getflag(lua_State *L, int opts, const char *name, int flag, int dflt) {
  int on = dflt;
  if (opts) {
    if (lua_getfield(L, opts, name) != LUA_TNIL) on = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  return on ? flag : 0;
}

static int l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  int opts = lua_istable(L, 2) ? 2 : 0;
  int flags = getflag(L, opts, "functions", SERIAL_FUNCTIONS, 1)
            | getflag(L, opts, "compress", SERIAL_COMPRESS, 0)
            | getflag(L, opts, "local", SERIAL_LOCAL, 0);
  const char *where = NULL;
  if (opts && lua_getfield(L, opts, "where") != LUA_TNIL) where = luaL_checkstring(L, -1);
  box *x = lua_touserdata(L, lua_upvalueindex(1));
  if (x->busy) x = newbox(L);
  x->busy = 1;
  x->b.len = 0;
  int status = serial_encode_at(L, 1, flags, &x->b, where);
  x->busy = 0;
  if (status != LUA_OK) return lua_error(L);
  lua_pushlstring(L, (const char *)x->b.p, x->b.len);
  if (x->b.cap > (64 << 20)) serial_buf_free(&x->b); /* keep no huge buffer */
  return 1;
}

static int l_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  int opts = lua_istable(L, 3) ? 3 : 0;
  int flags = getflag(L, opts, "functions", SERIAL_FUNCTIONS, 1)
            | getflag(L, opts, "cached", SERIAL_CACHED, 0)
            | getflag(L, opts, "local", SERIAL_LOCAL, 0);
  if (serial_decode(L, s, n, lua_istable(L, 2) ? 2 : 0, flags) != LUA_OK)
    return lua_error(L);
  return 1;
}

static int l_register(lua_State *L) {
  const char *tname = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  serial_register(L, tname);
  return 0;
}

int luaopen_dusk_serial(lua_State *L) {
  lclass_new(L, BOX, box_close, NULL);
  lua_pop(L, 1);
  lua_createtable(L, 0, 3);
  newbox(L);
  lua_pushcclosure(L, l_encode, 1);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, l_decode);
  lua_setfield(L, -2, "decode");
  lua_pushcfunction(L, l_register);
  lua_setfield(L, -2, "register");
  return 1;
}
