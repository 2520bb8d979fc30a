/*
 * ljson: the Lua module "dusk.json", over jsondoc.h.
 *
 *   json.decode(s [, {validate=true}]) -> a record (s holds an object or
 *       an array), or the value of a scalar document
 *   json.encode(v) -> JSON text (an object's keys in byte order)
 *   json.null      the value of JSON null (tostring: "null")
 *
 * A record reads like a read-only Lua table: r.name, r.items[2].id
 * (1-based), pairs, ipairs, #; tostring(r) is its JSON text.  It is a
 * small userdata holding the string it was decoded from (so records
 * outlive the buffers their lines came from; strings do not change) and
 * where its value lies in it: a view (the whole text, or the byte range
 * of an array element) and a path (keys and indexes from the view).
 *
 * DESIGN.  Fields are parsed when read, with simdjson's On-Demand parser.
 * Measured on the accounts records of dusk.datasets (~300 bytes; read
 * name and transactions[1].amount; C++ alone, best of 5, one core):
 *   (a) On-Demand per read, nested records as paths:   127 ns/record
 *       the same, nested records as re-indexed ranges:  267 ns
 *   (b) DOM tape built at the first read, kept:         448 ns
 *       (the tape is ~3x the text; one shared tape:     353 ns)
 * so records are (a).  A read rewinds the view's structural index (kept
 * for the last two views) and walks from its start, or goes on where the
 * previous read stopped when it reads inside the object or array that
 * read returned: r.transactions[1].amount goes through the text once.
 * Through Lua, decode and those two reads take ~9,300 instructions a
 * record (callgrind), lua-cjson's decode ~39,000.  The walk is quadratic
 * when an array is read element after element (ipairs, loops to #a), so
 * the second integer read of an array record, #, or pairs lists the
 * array once into a Lua table kept with it: scalars as values, nested
 * objects and arrays as records of their own byte range.
 * Objects are walked each time: a read stops at the first matching key,
 * and pairs yields each key once, the first time it appears.  Integers
 * beyond 64 bits become floats, as in Lua's own lexer.
 *
 * decode checks what the structural index shows, for the whole text:
 * UTF-8, closed strings, and the structure (brackets, commas, colons,
 * nothing after the value: jsontok.h), so no part is lost unseen; an
 * error inside a scalar (a number, literal or escape) is raised when it
 * is read, or at once with {validate=true}.  Errors name the byte of the
 * text (1-based).
 *
 * Records travel between Lua states as their text: __dusk_send gives
 * ("dusk.json", text), and the module registers its decoder with
 * dusk.serial when it loads (serial loads it on demand in a state that
 * receives a record first).  Encoding is written here: simdjson parses
 * but has no serializer for Lua values.
 */
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "base/interrupt.h"
#include "bind/lclass.h"
#include "json/jsondoc.h"
#include "bind/ljson.h"

#define RECORD "dusk.json.record"
#define LIST "dusk.json.list"
#define NULLV "dusk.json.null"
#define STATE "dusk.json.state"

/* Upvalues of the module's functions and of the records' metamethods. */
#define U_STATE lua_upvalueindex(1)
#define U_NULL lua_upvalueindex(2)
#define U_META lua_upvalueindex(3)

/* User values of a record (objects have only the first). */
#define UV_TEXT 1  /* the string holding the text */
#define UV_LIST 2  /* an array's elements, once listed */

/* The module's state: one per Lua state. */
typedef struct jstate {
  jsondoc *doc;
  uint64_t ids;    /* the last id given to a text */
  char *buf;       /* encode's output */
  size_t len, cap;
} jstate;

/* Offsets fit in 32 bits (JSONDOC_MAXSIZE). */
typedef struct record {
  const char *base;  /* the text: the string UV_TEXT */
  uint64_t id;
  uint64_t ticket;   /* from the parser, with the value (see jsondoc_src) */
  size_t pathlen;
  uint32_t off, len; /* the view */
  uint8_t type;      /* JSONDOC_OBJECT or JSONDOC_ARRAY */
  uint8_t escapes;   /* the text holds a backslash */
  uint8_t nread;     /* an element was read without listing them */
  unsigned char path[];
} record;

static jsondoc_src source(const record *r) {
  jsondoc_src s = {r->base, r->id, r->off, r->len, r->path, r->pathlen, r->escapes, r->ticket};
  return s;
}

static int isrecord(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx)) return 0;
  int yes = lua_rawequal(L, -1, U_META);
  lua_pop(L, 1);
  return yes;
}

static record *torecord(lua_State *L, int idx) {
  if (!isrecord(L, idx)) luaL_typeerror(L, idx, RECORD);
  return lua_touserdata(L, idx);
}

/* Raises a parse error found while reading 'what' of a record. */
static int read_error(lua_State *L, jstate *st, int err, const char *what) {
  return luaL_error(L, "dusk.json: %s at byte %I (reading %s)", jsondoc_strerror(err),
                    (lua_Integer)jsondoc_errpos(st->doc) + 1, what);
}

static int decode_error(lua_State *L, jstate *st, int err) {
  return luaL_error(L, "dusk.json.decode: %s at byte %I", jsondoc_strerror(err),
                    (lua_Integer)jsondoc_errpos(st->doc) + 1);
}

static void push_scalar(lua_State *L, const jsondoc_val *v) {
  switch (v->type) {
  case JSONDOC_NULL: lua_pushvalue(L, U_NULL); break;
  case JSONDOC_FALSE: lua_pushboolean(L, 0); break;
  case JSONDOC_TRUE: lua_pushboolean(L, 1); break;
  case JSONDOC_INT: lua_pushinteger(L, (lua_Integer)v->i); break;
  case JSONDOC_FLOAT: lua_pushnumber(L, (lua_Number)v->d); break;
  case JSONDOC_STRING: lua_pushlstring(L, v->s, v->n); break;
  default: lua_pushnil(L); break;
  }
}

/* A new record sharing the text of the record 'p' at 'pidx', with room
 * for a path of 'pathlen' bytes, left for the caller to fill. */
static record *new_inner(lua_State *L, int pidx, const record *p, size_t pathlen, int type) {
  record *r = lua_newuserdatauv(L, sizeof *r + pathlen, type == JSONDOC_ARRAY ? 2 : 1);
  *r = *p;
  r->pathlen = pathlen;
  r->type = (uint8_t)type;
  r->nread = 0;
  r->ticket = 0;
  lua_pushvalue(L, U_META);
  lua_setmetatable(L, -2);
  lua_getiuservalue(L, pidx, UV_TEXT);
  lua_setiuservalue(L, -2, UV_TEXT);
  return r;
}

/* Pushes the object or array found at step ('key' or 'index') of the
 * record 'p' at 'pidx': the parent's path and that step. */
static void push_child(lua_State *L, int pidx, const record *p, const char *key, size_t klen,
                       size_t index, const jsondoc_val *v) {
  record *r = new_inner(L, pidx, p, p->pathlen + JSONDOC_STEPMAX + klen, v->type);
  r->ticket = v->ticket;
  memcpy(r->path, p->path, p->pathlen);
  r->pathlen = p->pathlen + jsondoc_step(r->path + p->pathlen, key, klen, index);
}

/* Pushes the object or array at 'v' (a byte range of the text) as a
 * record of its own view. */
static void push_view(lua_State *L, int pidx, const record *p, const jsondoc_val *v) {
  record *r = new_inner(L, pidx, p, 0, v->type);
  r->off = (uint32_t)v->off;
  r->len = (uint32_t)v->len;
}

/* Pushes a member listed by jsondoc_list_members. */
static void push_member(lua_State *L, int pidx, const record *p, const jsondoc_val *v) {
  if (v->type == JSONDOC_OBJECT || v->type == JSONDOC_ARRAY) push_view(L, pidx, p, v);
  else push_scalar(L, v);
}

/* Frees the members of a list in a to-be-closed slot. */
static int list_close(lua_State *L) {
  jsondoc_list **box = lua_touserdata(L, 1);
  base_free(*box);
  *box = NULL;
  return 0;
}

/* Lists the members of the record 'r', held by a to-be-closed box left
 * at the top of the stack (the caller closes it with lua_closeslot). */
static jsondoc_list *list_members(lua_State *L, record *r, const char *what) {
  jstate *st = lua_touserdata(L, U_STATE);
  jsondoc_list **box = lclass_box(L, LIST, sizeof *box, 0);
  lua_toclose(L, -1);
  jsondoc_src src = source(r);
  int err = jsondoc_list_members(st->doc, &src, box);
  if (err) read_error(L, st, err, what);
  return *box;
}

/* Pushes the elements of the array record at 'idx' as a Lua list, made
 * at the first call and kept with the record. */
static void push_elements(lua_State *L, int idx, record *r) {
  if (lua_getiuservalue(L, idx, UV_LIST) == LUA_TTABLE) return;
  lua_pop(L, 1);
  jsondoc_list *l = list_members(L, r, "the array");
  int box = lua_gettop(L);
  lua_createtable(L, l->n < INT_MAX ? (int)l->n : 0, 0);
  for (size_t i = 0; i < l->n; i++) {
    if (i % RT_POLL_EVERY == 0 && rt_interrupt_pending()) rt_interrupt_error(L);
    push_member(L, idx, r, &l->m[i].v);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, idx, UV_LIST);
  lua_closeslot(L, box);
  lua_remove(L, box);
}

static int read_index(lua_State *L, record *r, lua_Integer i) {
  if (r->type != JSONDOC_ARRAY || i < 1) return 0;
  if (r->nread > 0 || lua_getiuservalue(L, 1, UV_LIST) == LUA_TTABLE) {
    push_elements(L, 1, r);
    lua_rawgeti(L, -1, i);
    return 1;
  }
  r->nread = 1;
  jstate *st = lua_touserdata(L, U_STATE);
  jsondoc_src src = source(r);
  jsondoc_val v;
  int err = jsondoc_get(st->doc, &src, NULL, 0, (size_t)(i - 1), &v);
  if (err) {
    char what[48];
    snprintf(what, sizeof what, "element %lld", (long long)i);
    return read_error(L, st, err, what);
  }
  if (v.type == JSONDOC_OBJECT || v.type == JSONDOC_ARRAY)
    push_child(L, 1, r, NULL, 0, (size_t)(i - 1), &v);
  else
    push_scalar(L, &v);
  return 1;
}

static int r_index(lua_State *L) {
  record *r = torecord(L, 1);
  int isnum;
  lua_Integer i;
  switch (lua_type(L, 2)) {
  case LUA_TSTRING: {
    if (r->type != JSONDOC_OBJECT) return 0;
    jstate *st = lua_touserdata(L, U_STATE);
    size_t klen;
    const char *key = lua_tolstring(L, 2, &klen);
    if (klen > r->len) return 0; /* no key in the text is that long */
    jsondoc_src src = source(r);
    jsondoc_val v;
    int err = jsondoc_get(st->doc, &src, key, klen, 0, &v);
    if (err) {
      lua_pushfstring(L, "field '%s'", key);
      return read_error(L, st, err, lua_tostring(L, -1));
    }
    if (v.type == JSONDOC_OBJECT || v.type == JSONDOC_ARRAY)
      push_child(L, 1, r, key, klen, 0, &v);
    else
      push_scalar(L, &v);
    return 1;
  }
  case LUA_TNUMBER:
    i = lua_tointegerx(L, 2, &isnum);
    return isnum ? read_index(L, r, i) : 0;
  default:
    return 0;
  }
}

static int r_newindex(lua_State *L) {
  torecord(L, 1);
  return luaL_error(L, "dusk.json records are read-only (setting '%s'): copy the "
                    "fields into a table to change them", luaL_tolstring(L, 2, NULL));
}

/* # counts the elements in C: `#t > 0 and t[1]` must not make a Lua
 * object per element (that is done once the elements are walked). */
static int r_len(lua_State *L) {
  record *r = torecord(L, 1);
  if (r->type != JSONDOC_ARRAY) {
    lua_pushinteger(L, 0);
    return 1;
  }
  if (lua_getiuservalue(L, 1, UV_LIST) == LUA_TTABLE) {
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, -1));
    return 1;
  }
  jstate *st = lua_touserdata(L, U_STATE);
  jsondoc_src src = source(r);
  size_t n;
  int err = jsondoc_count(st->doc, &src, &n);
  if (err) return read_error(L, st, err, "the array");
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

/* The iterator pairs returns.  Upvalues: the members, flat ({k1, v1, ...}
 * for objects, {v1, ...} for arrays); the last position; whether the
 * record is an object. */
static int pairs_next(lua_State *L) {
  lua_Integer i = lua_tointeger(L, lua_upvalueindex(2)) + 1;
  int object = lua_toboolean(L, lua_upvalueindex(3));
  lua_pushinteger(L, i);
  lua_replace(L, lua_upvalueindex(2));
  if (object) {
    if (lua_rawgeti(L, lua_upvalueindex(1), 2 * i - 1) == LUA_TNIL) return 1;
    lua_rawgeti(L, lua_upvalueindex(1), 2 * i);
  } else {
    if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) return 0;
    lua_pushinteger(L, i);
    lua_insert(L, -2);
  }
  return 2;
}

static int r_pairs(lua_State *L) {
  record *r = torecord(L, 1);
  if (r->type == JSONDOC_ARRAY) {
    push_elements(L, 1, r);
  } else {
    jsondoc_list *l = list_members(L, r, "the object");
    int box = lua_gettop(L);
    lua_createtable(L, l->n < INT_MAX / 2 ? 2 * (int)l->n : 0, 0);
    for (size_t i = 0; i < l->n; i++) {
      if (i % RT_POLL_EVERY == 0 && rt_interrupt_pending()) rt_interrupt_error(L);
      lua_pushlstring(L, l->m[i].key, l->m[i].klen);
      lua_rawseti(L, -2, 2 * (lua_Integer)i + 1);
      push_member(L, 1, r, &l->m[i].v);
      lua_rawseti(L, -2, 2 * (lua_Integer)i + 2);
    }
    lua_closeslot(L, box);
    lua_remove(L, box);
  }
  lua_pushinteger(L, 0);
  lua_pushboolean(L, r->type == JSONDOC_OBJECT);
  lua_pushcclosure(L, pairs_next, 3);
  return 1;
}

/* Where the record's own text lies in its root's text. */
static void extent(lua_State *L, const record *r, size_t *off, size_t *len) {
  jstate *st = lua_touserdata(L, U_STATE);
  jsondoc_src src = source(r);
  int err = jsondoc_extent(st->doc, &src, off, len);
  if (err) read_error(L, st, err, "the record's text");
}

static int r_tostring(lua_State *L) {
  record *r = torecord(L, 1);
  size_t off, len;
  extent(L, r, &off, &len);
  lua_pushlstring(L, r->base + off, len);
  return 1;
}

static int r_send(lua_State *L) {
  lua_pushliteral(L, "dusk.json");
  r_tostring(L);
  return 2;
}

static int null_tostring(lua_State *L) {
  lua_pushliteral(L, "null");
  return 1;
}

static int null_send(lua_State *L) {
  lua_pushliteral(L, "dusk.json");
  lua_pushliteral(L, "null");
  return 2;
}

/* Room for 'n' more bytes in the state's buffer. */
static char *reserve(lua_State *L, jstate *st, size_t n) {
  if (st->cap - st->len < n) {
    size_t cap = st->cap ? st->cap : 256;
    while (cap - st->len < n) {
      if (cap > ((size_t)-1) / 2) luaL_error(L, "dusk.json: text too large");
      cap *= 2;
    }
    char *p = base_realloc(st->buf, cap);
    if (p == NULL) luaL_error(L, "dusk.json: not enough memory");
    st->buf = p;
    st->cap = cap;
  }
  return st->buf + st->len;
}

static void put(lua_State *L, jstate *st, const char *s, size_t n) {
  memcpy(reserve(L, st, n), s, n);
  st->len += n;
}

static int decode_scalar(lua_State *L, jstate *st, const char *s, size_t a, size_t b) {
  jsondoc_src src = {s, ++st->ids, a, b - a, NULL, 0, 1, 0};
  jsondoc_val v;
  int err = jsondoc_open(st->doc, &src, &v);
  if (err) return decode_error(L, st, err);
  push_scalar(L, &v);
  return 1;
}

static int is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static int l_decode(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  int validate = 0;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_getfield(L, 2, "validate");
    validate = lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
  jstate *st = lua_touserdata(L, U_STATE);
  size_t a = 0, b = n;
  while (a < b && is_space(s[a])) a++;
  while (b > a && is_space(s[b - 1])) b--;
  if (n > JSONDOC_MAXSIZE)
    return luaL_error(L, "dusk.json.decode: text too large (%I bytes, at most %I)",
                      (lua_Integer)n, (lua_Integer)JSONDOC_MAXSIZE);
  if (a == b) return luaL_error(L, "dusk.json.decode: empty document at byte %I", (lua_Integer)n + 1);
  if (s[a] != '{' && s[a] != '[') return decode_scalar(L, st, s, a, b);
  record *r = lua_newuserdatauv(L, sizeof *r, s[a] == '[' ? 2 : 1);
  lua_pushvalue(L, 1); /* the text stays alive with the record */
  lua_setiuservalue(L, -2, UV_TEXT);
  r->base = s;
  r->id = ++st->ids;
  r->off = (uint32_t)a;
  r->len = (uint32_t)(b - a);
  r->escapes = memchr(s + a, '\\', b - a) != NULL;
  r->pathlen = 0;
  r->nread = 0;
  r->ticket = 0;
  lua_pushvalue(L, U_META);
  lua_setmetatable(L, -2);
  jsondoc_src src = source(r);
  jsondoc_val v;
  int err = jsondoc_open(st->doc, &src, &v);
  int depth;
  if (err == 0 && validate) err = jsondoc_validate(st->doc, &src, &depth);
  if (err) return decode_error(L, st, err);
  r->type = (uint8_t)v.type;
  r->ticket = validate ? 0 : v.ticket;
  return 1;
}

/* encode */

/* A table being written, and where in it: errors name the place. */
typedef struct enc_level {
  const void *t;
  int key;        /* an object's key being written: its stack index, or 0 */
  lua_Integer i;  /* an array's element being written, or 0 */
} enc_level;

typedef struct enc {
  lua_State *L;
  jstate *st;
  int depth;
  size_t values;                      /* written so far (polls the interrupt) */
  enc_level open[JSONDOC_MAXDEPTH];   /* the tables being written, outermost first */
} enc;

/* Whether 's' is a Lua name (in ASCII, whatever the locale). */
static int is_name(const char *s) {
  for (const char *p = s; *p; p++) {
    char c = *p;
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (p > s && c >= '0' && c <= '9')))
      return 0;
  }
  return *s != '\0';
}

/* Raises "dusk.json.encode: " and the message 'fmt', then where the
 * value lies in the one encoded: "at [2].name" (its last ENC_PLACE
 * steps). */
#define ENC_PLACE 16
static int enc_error(enc *e, const char *fmt, ...) {
  lua_State *L = e->L;
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  int k = 0;
  if (e->depth > ENC_PLACE) {
    luaL_addstring(&b, "...");
    k = e->depth - ENC_PLACE;
  }
  for (; k < e->depth; k++) {
    const enc_level *l = &e->open[k];
    if (l->i > 0) {
      lua_pushfstring(L, "[%I]", (LUAI_UACINT)l->i);
    } else if (l->key == 0) {
      continue;
    } else if (lua_type(L, l->key) == LUA_TSTRING) {
      const char *key = lua_tostring(L, l->key);
      lua_pushfstring(L, is_name(key) ? ".%s" : "[\"%s\"]", key);
    } else {
      lua_pushfstring(L, "[%s]", luaL_tolstring(L, l->key, NULL));
      lua_remove(L, -2);
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return luaL_error(L, "dusk.json.encode: %s%s%s", lua_tostring(L, -2),
                    lua_rawlen(L, -1) > 0 ? " at " : "", lua_tostring(L, -1));
}

static void enc_value(enc *e, int idx);

static void enc_string(enc *e, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  lua_State *L = e->L;
  if (!jsondoc_utf8(s, n)) luaL_error(L, "dusk.json.encode: a string is not valid UTF-8");
  put(L, e->st, "\"", 1);
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(L, e->st, s + run, i - run);
    run = i + 1;
    char esc[6] = {'\\', 0};
    switch (c) {
    case '"': case '\\': esc[1] = (char)c; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      memcpy(esc + 1, "u00", 3);
      esc[4] = hex[c >> 4];
      esc[5] = hex[c & 15];
      put(L, e->st, esc, 6);
      continue;
    }
    put(L, e->st, esc, 2);
  }
  put(L, e->st, s + run, n - run);
  put(L, e->st, "\"", 1);
}

/* A number as JSON: integers exactly, floats in the fewest digits that
 * read back the same (at most %.17g) with a '.0' if they would read back
 * as an integer; '.' whatever the locale. */
static size_t fmt_number(enc *e, int idx, char *out, size_t size) {
  lua_State *L = e->L;
  if (lua_isinteger(L, idx))
    return (size_t)snprintf(out, size, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, idx));
  double d = (double)lua_tonumber(L, idx);
  if (!isfinite(d))
    enc_error(e, "cannot encode %s (JSON has no inf or nan)",
              isnan(d) ? "nan" : d > 0 ? "inf" : "-inf");
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(out, size, "%.*g", prec, d);
    if (strtod(out, NULL) == d) break;
  }
  char point = localeconv()->decimal_point[0];
  int plain = 1;
  for (int i = 0; i < n; i++) {
    if (out[i] == point) out[i] = '.';
    if (out[i] == '.' || out[i] == 'e') plain = 0;
  }
  if (plain && (size_t)n + 2 < size) {
    memcpy(out + n, ".0", 3);
    n += 2;
  }
  return (size_t)n;
}

/* An object's key as written (a number's as fmt_number writes it) and
 * where the key itself lies in the object's list of keys. */
typedef struct enc_keytext {
  const char *s;
  size_t len;
  int ref;
} enc_keytext;

static int keytext_cmp(const void *a, const void *b) {
  const enc_keytext *x = a, *y = b;
  int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
  return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* Writes table 'idx' with 'n' keys as an object at level 'l', its keys in
 * the byte order of their text: pairs order follows a string hash seeded
 * per Lua state, so a worker, the caller and the next run would each
 * write the same table differently.  Keys are strings or numbers, and no
 * number's text may be a string key of the object too (a decoder would
 * keep one of the two), so the texts differ and the order is total. */
static void enc_object(enc *e, int idx, enc_level *l, int n) {
  lua_State *L = e->L;
  luaL_checkstack(L, 8, "dusk.json.encode");
  lua_createtable(L, 2 * n, 0); /* the keys at 2i-1, a number's text at 2i */
  int keys = lua_gettop(L);
  enc_keytext *kt = lua_newuserdatauv(L, (size_t)n * sizeof *kt, 0);
  int k = 0;
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1), k++) {
    if (k == n) enc_error(e, "the table changed while written"); /* (a __gc) */
    lua_pushvalue(L, -2);
    lua_rawseti(L, keys, 2 * k + 1);
    kt[k].ref = 2 * k + 1;
    if (lua_type(L, -2) == LUA_TSTRING) {
      kt[k].s = lua_tolstring(L, -2, &kt[k].len);
      continue;
    }
    if (lua_type(L, -2) != LUA_TNUMBER)
      enc_error(e, "cannot encode a table key of type %s", luaL_typename(L, -2));
    char num[64];
    size_t len = fmt_number(e, -2, num, sizeof num);
    lua_pushlstring(L, num, len);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, idx) != LUA_TNIL)
      enc_error(e, "the keys %s and \"%s\" would both be written \"%s\"", num, num, num);
    lua_pop(L, 1);
    kt[k].s = lua_tolstring(L, -1, &kt[k].len); /* (kept by 'keys') */
    lua_rawseti(L, keys, 2 * k + 2);
  }
  qsort(kt, (size_t)k, sizeof *kt, keytext_cmp);
  put(L, e->st, "{", 1);
  for (int i = 0; i < k; i++) {
    if (i > 0) put(L, e->st, ",", 1);
    lua_rawgeti(L, keys, kt[i].ref);
    l->key = lua_gettop(L);
    enc_string(e, kt[i].s, kt[i].len);
    put(L, e->st, ":", 1);
    lua_pushvalue(L, -1);
    lua_rawget(L, idx);
    enc_value(e, lua_gettop(L));
    lua_pop(L, 2);
  }
  put(L, e->st, "}", 1);
  lua_pop(L, 2);
}

static void enc_table(enc *e, int idx) {
  lua_State *L = e->L;
  const void *t = lua_topointer(L, idx);
  for (int i = 0; i < e->depth; i++)
    if (e->open[i].t == t) enc_error(e, "a table contains itself (a cycle)");
  if (e->depth >= JSONDOC_MAXDEPTH)
    enc_error(e, "tables nested more than %d deep", JSONDOC_MAXDEPTH);
  luaL_checkstack(L, 4, "dusk.json.encode");
  enc_level *l = &e->open[e->depth++];
  l->t = t;
  l->key = 0;
  l->i = 0;
  lua_Integer count = 0, max = 0;
  int array = 1;
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    count++;
    if (array && (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1)) array = 0;
    if (array && lua_tointeger(L, -2) > max) max = lua_tointeger(L, -2);
  }
  if (array && max == count) {
    put(L, e->st, "[", 1);
    for (lua_Integer i = 1; i <= count; i++) {
      if (i > 1) put(L, e->st, ",", 1);
      l->i = i;
      lua_rawgeti(L, idx, i);
      enc_value(e, lua_gettop(L));
      lua_pop(L, 1);
    }
    put(L, e->st, "]", 1);
  } else {
    if (count > INT_MAX / 2) enc_error(e, "a table of more than %d keys", INT_MAX / 2);
    enc_object(e, idx, l, (int)count);
  }
  e->depth--;
}

/* A record is written as its text, read whole first: what encode writes
 * is JSON that decodes, all of it. */
static void enc_record(enc *e, record *r) {
  jstate *st = e->st;
  jsondoc_src src = source(r);
  int depth;
  int err = jsondoc_validate(st->doc, &src, &depth);
  if (err)
    enc_error(e, "%s at byte %I of a record's text", jsondoc_strerror(err),
              (lua_Integer)jsondoc_errpos(st->doc) + 1);
  if (e->depth + depth > JSONDOC_MAXDEPTH)
    enc_error(e, "tables and records nested more than %d deep", JSONDOC_MAXDEPTH);
  size_t off, len;
  extent(e->L, r, &off, &len);
  put(e->L, st, r->base + off, len);
}

static void enc_value(enc *e, int idx) {
  lua_State *L = e->L;
  if (++e->values % RT_POLL_EVERY == 0 && rt_interrupt_pending()) rt_interrupt_error(L);
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    put(L, e->st, "null", 4);
    break;
  case LUA_TBOOLEAN:
    if (lua_toboolean(L, idx)) put(L, e->st, "true", 4);
    else put(L, e->st, "false", 5);
    break;
  case LUA_TNUMBER: {
    char num[64];
    size_t n = fmt_number(e, idx, num, sizeof num);
    put(L, e->st, num, n);
    break;
  }
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    enc_string(e, s, n);
    break;
  }
  case LUA_TTABLE:
    enc_table(e, idx);
    break;
  case LUA_TLIGHTUSERDATA: /* lua-cjson's null */
  case LUA_TUSERDATA:
    if (lua_touserdata(L, idx) == NULL || lua_rawequal(L, idx, U_NULL)) {
      put(L, e->st, "null", 4);
      break;
    }
    if (isrecord(L, idx)) {
      enc_record(e, lua_touserdata(L, idx));
      break;
    }
    /* FALLTHROUGH */
  default:
    enc_error(e, "cannot encode a %s", luaL_typename(L, idx));
  }
}

static int l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  lua_settop(L, 1);
  enc e;
  e.L = L;
  e.st = lua_touserdata(L, U_STATE);
  e.depth = 0;
  e.values = 0;
  e.st->len = 0;
  enc_value(&e, 1);
  lua_pushlstring(L, e.st->buf, e.st->len);
  if (e.st->cap > (64 << 20)) { /* keep no huge buffer */
    base_free(e.st->buf);
    e.st->buf = NULL;
    e.st->cap = 0;
  }
  e.st->len = 0;
  return 1;
}

static const luaL_Reg record_meta[] = {
  {"__index", r_index},
  {"__newindex", r_newindex},
  {"__len", r_len},
  {"__pairs", r_pairs},
  {"__tostring", r_tostring},
  {"__dusk_send", r_send},
  {NULL, NULL}
};

static const luaL_Reg null_meta[] = {
  {"__tostring", null_tostring},
  {"__dusk_send", null_send},
  {NULL, NULL}
};

static const luaL_Reg funcs[] = {
  {"decode", l_decode},
  {"encode", l_encode},
  {NULL, NULL}
};

static int state_gc(lua_State *L) {
  jstate *st = lua_touserdata(L, 1);
  jsondoc_free(st->doc);
  st->doc = NULL;
  base_free(st->buf);
  st->buf = NULL;
  st->len = st->cap = 0;
  return 0;
}

int luaopen_dusk_json(lua_State *L) {
  lclass_new(L, STATE, state_gc, NULL);
  lclass_new(L, LIST, list_close, NULL);
  lclass_new(L, NULLV, NULL, NULL);
  luaL_setfuncs(L, null_meta, 0);
  lua_pop(L, 3);
  lua_createtable(L, 0, 3);
  int mod = lua_gettop(L);
  jstate *st = lclass_box(L, STATE, sizeof *st, 0);
  st->doc = jsondoc_new();
  if (st->doc == NULL) return luaL_error(L, "dusk.json: not enough memory");
  lclass_box(L, NULLV, 0, 0); /* null */
  lclass_new(L, RECORD, NULL, NULL); /* its metamethods' upvalue U_META */
  for (int i = 0; i < 3; i++) lua_pushvalue(L, mod + 1 + i);
  luaL_setfuncs(L, record_meta, 3);
  lua_pushvalue(L, mod);
  for (int i = 0; i < 3; i++) lua_pushvalue(L, mod + 1 + i);
  luaL_setfuncs(L, funcs, 3);
  lua_pop(L, 1);
  lua_pushvalue(L, mod + 2);
  lua_setfield(L, mod, "null");
  ljson_open_scan(L, mod, mod + 2);
  /* records sent to other states decode there */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk.serial");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "register");
  lua_pushliteral(L, "dusk.json");
  lua_getfield(L, mod, "decode");
  lua_call(L, 2, 0);
  lua_settop(L, mod);
  return 1;
}
