/* value: Lua values held in C (see value.h). */
#include "data/value.h"

#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "serial/serial.h"

static int frame_at(lua_State *L, int idx, value *out, const char *where);

/* The registry's table of value_bufclass by buffer tag. */
static const char bufclass_key = 0;

void value_bufclass_set(lua_State *L, const value_bufclass *c) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &bufclass_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_createtable(L, BUF_NTAGS, 0);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &bufclass_key);
  }
  lua_pushlightuserdata(L, (void *)c);
  lua_rawseti(L, -2, c->tag);
  lua_pop(L, 1);
}

/* The class of the object at 'idx' by its metatable's VALUE_BUFHOOK, or
 * NULL. */
static const value_bufclass *hook_of(lua_State *L, int idx) {
  if (luaL_getmetafield(L, idx, VALUE_BUFHOOK) == LUA_TNIL) return NULL;
  const value_bufclass *c = lua_islightuserdata(L, -1) ? lua_touserdata(L, -1) : NULL;
  lua_pop(L, 1);
  return c;
}

int value_is_buffer(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TUSERDATA &&
         (luaL_testudata(L, idx, VALUE_BUFCLASS) != NULL || hook_of(L, idx) != NULL);
}

int value_from(lua_State *L, int idx, value *out) {
  return value_from_at(L, idx, out, NULL);
}

int value_from_at(lua_State *L, int idx, value *out, const char *where) {
  out->len = 0;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    out->type = VALUE_NIL;
    return LUA_OK;
  case LUA_TBOOLEAN:
    out->type = VALUE_BOOLEAN;
    out->u.b = lua_toboolean(L, idx);
    return LUA_OK;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      out->type = VALUE_INTEGER;
      out->u.i = lua_tointeger(L, idx);
    } else {
      out->type = VALUE_NUMBER;
      out->u.n = lua_tonumber(L, idx);
    }
    return LUA_OK;
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    out->u.p = base_malloc(len ? len : 1);
    if (out->u.p == NULL) {
      lua_pushliteral(L, "not enough memory for a result");
      return LUA_ERRMEM;
    }
    memcpy(out->u.p, s, len);
    out->type = VALUE_STRING;
    out->len = len;
    return LUA_OK;
  }
  case LUA_TUSERDATA: {
    buf **box = luaL_testudata(L, idx, VALUE_BUFCLASS);
    if (box == NULL) {
      const value_bufclass *c = hook_of(L, idx);
      if (c == NULL) break;
      int status = c->get(L, idx, &out->u.buf);
      if (status == LUA_OK) out->type = VALUE_BUFFER;
      return status;
    }
    if (*box == NULL) {
      lua_pushliteral(L, "cannot send a closed buffer");
      return LUA_ERRRUN;
    }
    buf_incref(*box);
    out->type = VALUE_BUFFER;
    out->u.buf = *box;
    return LUA_OK;
  }
  }
  return frame_at(L, idx, out, where);
}

int value_frame(lua_State *L, int idx, value *out) {
  return frame_at(L, idx, out, NULL);
}

static int frame_at(lua_State *L, int idx, value *out, const char *where) {
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  int status = serial_encode_at(L, idx, SERIAL_FUNCTIONS | SERIAL_LOCAL, &b, where);
  if (status != LUA_OK) {
    serial_buf_free(&b);
    return status;
  }
  out->type = VALUE_FRAME;
  out->u.p = b.p; /* the buffer's bytes become the value's */
  out->len = b.len;
  return LUA_OK;
}

/* The object of the class set for the buffer's tag; else a box made
 * closed and given its class before it takes a reference (liolib's
 * pattern): a memory error raised in between leaks nothing. */
static int push_buffer(lua_State *L, buf *b) {
  int top = lua_gettop(L);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &bufclass_key) == LUA_TTABLE &&
      lua_rawgeti(L, -1, buf_type(b)) == LUA_TLIGHTUSERDATA) {
    const value_bufclass *c = lua_touserdata(L, -1);
    lua_settop(L, top);
    int status = c->push(L, b);
    if (status != VALUE_PLAIN) return status;
  }
  lua_settop(L, top);
  buf **box = lua_newuserdatauv(L, sizeof *box, 0);
  *box = NULL;
  if (luaL_getmetatable(L, VALUE_BUFCLASS) != LUA_TTABLE) {
    lua_pop(L, 2);
    lua_pushliteral(L, "no class " VALUE_BUFCLASS " in this Lua state");
    return LUA_ERRRUN;
  }
  lua_setmetatable(L, -2);
  buf_incref(b);
  *box = b;
  return LUA_OK;
}

int value_push(lua_State *L, const value *v) {
  switch (v->type) {
  case VALUE_NONE:
  case VALUE_NIL: lua_pushnil(L); return LUA_OK;
  case VALUE_BOOLEAN: lua_pushboolean(L, v->u.b); return LUA_OK;
  case VALUE_INTEGER: lua_pushinteger(L, v->u.i); return LUA_OK;
  case VALUE_NUMBER: lua_pushnumber(L, v->u.n); return LUA_OK;
  case VALUE_STRING: lua_pushlstring(L, (const char *)v->u.p, v->len); return LUA_OK;
  case VALUE_FRAME:
    return serial_decode(L, v->u.p, v->len, 0, SERIAL_FUNCTIONS | SERIAL_LOCAL);
  case VALUE_BUFFER: return push_buffer(L, v->u.buf);
  }
  return LUA_OK;
}

void value_free(value *v) {
  if (v->type == VALUE_STRING || v->type == VALUE_FRAME) base_free(v->u.p);
  else if (v->type == VALUE_BUFFER) buf_decref(v->u.buf);
  v->type = VALUE_NONE;
  v->len = 0;
}

size_t value_bytes(const value *v) {
  if (v->type == VALUE_BUFFER) return buf_size(v->u.buf);
  return (v->type == VALUE_STRING || v->type == VALUE_FRAME) ? v->len : 0;
}

int value_copy(const value *v, value *out) {
  *out = *v;
  if (v->type == VALUE_BUFFER) buf_incref(v->u.buf);
  if (v->type != VALUE_STRING && v->type != VALUE_FRAME) return 0;
  out->u.p = base_malloc(v->len ? v->len : 1);
  if (out->u.p == NULL) {
    out->type = VALUE_NONE;
    return -1;
  }
  memcpy(out->u.p, v->u.p, v->len);
  return 0;
}
