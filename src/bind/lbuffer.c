/*
 * lbuffer: "dusk.Buffer", a C buffer seen from Lua.
 *
 *   #b               its data's size in bytes
 *   b:type()         "bytes", "ndarray" or "table"
 *   b:meta()         {} for bytes; {dtype=, shape={...}} for an array;
 *                    {nrows=, columns={{type=, bytes=}, ...}} for a table
 *   b:bytes()        the data as a string (a copy)
 *   tostring(b)      "dusk.Buffer(ndarray, 96 bytes)"
 *   b:close()        drops the reference now (also __close and __gc)
 *
 * A box holds one reference (value.h's VALUE_BUFCLASS layout, made by
 * value_push); the data is shared with every other holder, in any state
 * or thread.  Inside another value (a table) a buffer is sent through
 * __dusk_send as its frame, so it is copied.
 */
#include "bind/lbuffer.h"

#include <string.h>

#include <lauxlib.h>

#include "bind/lclass.h"
#include "data/buffer.h"
#include "data/value.h"

static buf *check(lua_State *L) {
  buf **box = luaL_checkudata(L, 1, VALUE_BUFCLASS);
  luaL_argcheck(L, *box != NULL, 1, "a closed buffer");
  return *box;
}

static int b_close(lua_State *L) {
  buf **box = luaL_checkudata(L, 1, VALUE_BUFCLASS);
  if (*box) buf_decref(*box);
  *box = NULL;
  return 0;
}

static int b_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)buf_size(check(L)));
  return 1;
}

static int b_type(lua_State *L) {
  lua_pushstring(L, buf_tag_name(buf_type(check(L))));
  return 1;
}

static int b_bytes(lua_State *L) {
  buf *b = check(L);
  lua_pushlstring(L, buf_data(b), buf_size(b));
  return 1;
}

static int b_meta(lua_State *L) {
  buf *b = check(L);
  lua_newtable(L);
  int t = lua_gettop(L);
  buf_array a;
  buf_table tab;
  if (buf_array_of(b, &a) == 0) {
    lua_pushstring(L, buf_dtype_name(a.dtype));
    lua_setfield(L, t, "dtype");
    lua_createtable(L, a.ndim, 0);
    for (int d = 0; d < a.ndim; d++) {
      lua_pushinteger(L, (lua_Integer)a.shape[d]);
      lua_rawseti(L, -2, d + 1);
    }
    lua_setfield(L, t, "shape");
  } else if (buf_type(b) == BUF_TABLE) {
    size_t len;
    buf_meta(b, &len);
    uint32_t room = (uint32_t)((len - 16) / 16); /* its columns (buffer.h) */
    uint32_t *types = lua_newuserdatauv(L, room * sizeof *types + 1, 0);
    uint64_t *bytes = lua_newuserdatauv(L, room * sizeof *bytes + 1, 0);
    buf_table_of(b, &tab, types, bytes, room);
    lua_pushinteger(L, (lua_Integer)tab.nrows);
    lua_setfield(L, t, "nrows");
    lua_createtable(L, (int)tab.ncols, 0);
    for (uint32_t k = 0; k < tab.ncols; k++) {
      lua_createtable(L, 0, 2);
      lua_pushstring(L, buf_dtype_name((int)tab.types[k]));
      lua_setfield(L, -2, "type");
      lua_pushinteger(L, (lua_Integer)tab.bytes[k]);
      lua_setfield(L, -2, "bytes");
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, t, "columns");
  }
  lua_settop(L, t);
  return 1;
}

static int b_tostring(lua_State *L) {
  buf **box = luaL_checkudata(L, 1, VALUE_BUFCLASS);
  if (*box == NULL) lua_pushliteral(L, "dusk.Buffer(closed)");
  else lua_pushfstring(L, "dusk.Buffer(%s, %I bytes)", buf_tag_name(buf_type(*box)),
                       (lua_Integer)buf_size(*box));
  return 1;
}

/* The serial hook: the type name and the frame (a copy of the data),
 * encoded straight into the Lua string, so nothing leaks if Lua raises. */
static int b_send(lua_State *L) {
  buf *b = check(L);
  lua_pushliteral(L, VALUE_BUFCLASS);
  luaL_Buffer lb;
  size_t room = buf_encode_bound(b, 0);
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  s.p = (unsigned char *)luaL_buffinitsize(L, &lb, room);
  s.cap = room; /* so buf_encode never grows it */
  buf_encode(b, 0, &s);
  luaL_pushresultsize(&lb, s.len);
  return 2;
}

/* A closed box, pushed first: whatever raises next leaves it consistent. */
static buf **new_box(lua_State *L) {
  return lclass_box(L, VALUE_BUFCLASS, sizeof(buf *), 0);
}

static int b_receive(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  buf **box = new_box(L);
  const char *why;
  if (buf_decode(s, n, box, &why) != 0) return luaL_error(L, "%s", why);
  return 1;
}

int lbuffer_new(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  buf **box = new_box(L);
  buf *b = buf_new(BUF_BYTES, NULL, 0, n);
  if (b == NULL) return luaL_error(L, "not enough memory for a buffer");
  memcpy(buf_wdata(b), s, n);
  *box = b;
  return 1;
}

int lbuffer_info(lua_State *L) {
  if (luaL_testudata(L, 1, VALUE_BUFCLASS) == NULL && value_is_buffer(L, 1)) {
    value v; /* another class sent as a buffer (an ndarray): the one it sends */
    if (value_from(L, 1, &v) != LUA_OK) return lua_error(L);
    lua_pushinteger(L, (lua_Integer)(uintptr_t)buf_data(v.u.buf));
    lua_pushinteger(L, (lua_Integer)buf_refcount(v.u.buf) - 1);
    value_free(&v);
    return 2;
  }
  buf *b = check(L);
  lua_pushinteger(L, (lua_Integer)(uintptr_t)buf_data(b));
  lua_pushinteger(L, (lua_Integer)buf_refcount(b));
  return 2;
}

static const luaL_Reg methods[] = {
  {"type", b_type},
  {"meta", b_meta},
  {"bytes", b_bytes},
  {"close", b_close},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
  {"__len", b_len},
  {"__tostring", b_tostring},
  {"__dusk_send", b_send},
  {NULL, NULL}
};

void lbuffer_open(lua_State *L) {
  lclass_new(L, VALUE_BUFCLASS, b_close, methods);
  luaL_setfuncs(L, metamethods, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, b_receive);
  serial_register(L, VALUE_BUFCLASS);
}
