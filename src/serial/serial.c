/*
 * serial: encoding Lua values into frames (decoding is serial_dec.c,
 * functions' bytecode serial_fn.c).
 *
 * DESIGN
 *
 * A frame is a 16-byte header (magic, format version, Lua version, sizes
 * of lua_Integer and lua_Number, flags, payload length) and a payload,
 * zstd-compressed (with zstd's checksum) when SERIAL_COMPRESS is asked and
 * the payload is at least SERIAL_COMPRESS_MIN bytes.  Frames between
 * threads are left raw: compressing costs more than copying.
 *
 * The payload is one value in a tagged prefix format (serial_int.h).
 * Strings, tables, functions and named objects are numbered as they
 * appear; a second appearance is a reference to the number, so shared
 * references and cycles survive and repeated keys cost two bytes (short
 * string values are written inline: they rarely repeat).  A table is its
 * leading run of keys 1, 2, 3... as an array, then key/value pairs.  A
 * long list is read by index, then lua_next resumes after it; that is only
 * sound when the list lies in the table's array part, which a probe checks
 * (array_holds); otherwise one lua_next pass does it all.  In a long list,
 * runs of integers go as T_INTS: no tag each, and differences, which are
 * small for ids and counters (1..1e6 takes a byte each).
 *
 * A Lua function is its prototype (a factory chunk, see serial_fn.c, sent
 * once per frame and loaded once per receiving state) and its upvalues,
 * each either a new cell with its value or the number of a cell met
 * before (lua_upvalueid), so closures sharing a variable still share it.
 * The upvalue holding the environment is sent as T_ENV and rebound by the
 * receiver.  An environment is the globals table, or a table whose
 * metatable's __index chain reaches it (the REPL's).
 *
 * Globals a function reads (serial_fn.c finds the names) go in a section
 * after the value, when their value differs from the one serial_baseline
 * recorded: a user's helper travels, `print` and `string` do not.  The
 * same for a function's field names that are keys added to a standard
 * table (a user's string.trim).  Both are followed transitively, through
 * a work queue, since they may be functions reading more globals.
 *
 * C functions, module tables and module functions go by name
 * ("module\0field"), from a reverse index of package.loaded, rebuilt after
 * package.loaded gains a key (a __newindex metamethod on package.loaded
 * counts them; require goes through it); the standard tables count only
 * with their baseline contents.  A module removed from package.loaded
 * still goes by name until the index is rebuilt.  Objects whose metatable has __dusk_send
 * go through that hook (a function returning a type name and a payload) or,
 * for any other value of the field, are refused with "pass it as an
 * argument" (Delayed, collections).
 *
 * Errors name the value and the path to it, built only when failing from
 * the stack of path segments kept while descending.
 *
 * Speed: a frame numbers its first few values in stack slots and the rest
 * in a scratch table, reused cleared from one frame to the next, so a
 * small closure makes little garbage; upvalue cells and protos are
 * numbered in C (a dict here, ivec in the decoder), which needs no
 * clearing.  Per function, the dump analysis is cached per closure in a
 * weak table; the receiver caches the loaded factory by the chunk's hash
 * and checks the bytes on a hit.
 */
#include <math.h>
#include <string.h>

#include <lauxlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createCCtx_advanced: memory from base/alloc.h */
#include <zstd.h>

#include "base/alloc.h"
#include "base/dict.h"
#include "base/varint.h"
#include "sandbox/sandbox.h"
#include "serial/serial_int.h"

/* ---- buffer ---- */

static void *default_alloc(void *ud, void *p, size_t n) {
  (void)ud;
  return base_realloc(p, n);
}

void serial_buf_init(serial_buf *b, serial_alloc alloc, void *ud) {
  b->p = NULL;
  b->len = b->cap = 0;
  b->alloc = alloc ? alloc : default_alloc;
  b->ud = ud;
}

void serial_buf_free(serial_buf *b) {
  if (b->p) b->alloc(b->ud, b->p, 0);
  b->p = NULL;
  b->len = b->cap = 0;
}

int serial_buf_reserve(serial_buf *b, size_t n) {
  if (b->cap - b->len >= n) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < n) {
    if (cap > SIZE_MAX / 2) return -1;
    cap *= 2;
  }
  unsigned char *p = b->alloc(b->ud, b->p, cap);
  if (p == NULL) return -1;
  b->p = p;
  b->cap = cap;
  return 0;
}

/* ---- per-state tables ---- */

static const char *const stdnames[] = {
  "string", "table", "math", "io", "os", "utf8", "coroutine", "debug", NULL
};

static void copy_table(lua_State *L, int t) {
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, t)) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

/* Fills the baseline fields of the per-state table at 'st'. */
static void take_baseline(lua_State *L, int st) {
  lua_newtable(L); /* R_BASE */
  lua_newtable(L); /* R_BASEKEYS */
  lua_newtable(L); /* R_STDTABS */
  int base = lua_gettop(L) - 2, keys = base + 1, tabs = base + 2;
  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  for (const char *const *name = stdnames; *name; name++) {
    if (lua_getfield(L, g, *name) != LUA_TTABLE) {
      lua_pop(L, 1);
      continue;
    }
    int t = lua_gettop(L);
    lua_pushvalue(L, t);
    lua_setfield(L, tabs, *name);
    lua_pushvalue(L, t);
    copy_table(L, t);
    lua_rawset(L, base);
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) {
      lua_pushvalue(L, -2);
      lua_pushboolean(L, 1);
      lua_rawset(L, keys);
    }
    lua_pop(L, 1);
  }
  copy_table(L, g);
  lua_rawseti(L, st, R_BASEG);
  lua_pop(L, 1); /* g */
  lua_rawseti(L, st, R_STDTABS);
  lua_rawseti(L, st, R_BASEKEYS);
  lua_rawseti(L, st, R_BASE);
  lua_createtable(L, 2, 0);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "package") == LUA_TTABLE) {
    lua_getfield(L, -1, "path");
    lua_rawseti(L, -4, 1);
    lua_getfield(L, -1, "cpath");
    lua_rawseti(L, -4, 2);
  }
  lua_pop(L, 2);
  lua_rawseti(L, st, R_PATHS);
}

/* package.loaded's __newindex: require adds modules with lua_setfield, so
 * this sees every new module and tells the encoder to rebuild R_NAMES,
 * without counting package.loaded at every encode.  Upvalue 1: the
 * per-state table. */
static int loaded_newindex(lua_State *L) {
  lua_settop(L, 3);
  lua_rawset(L, 1);
  lua_rawgeti(L, lua_upvalueindex(1), R_LOADVER);
  lua_pushinteger(L, lua_tointeger(L, -1) + 1);
  lua_rawseti(L, lua_upvalueindex(1), R_LOADVER);
  return 0;
}

/* The per-state table's key in the registry: this variable's address. */
static const char serial_regkey = 0;

void serial_state(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &serial_regkey) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, R_NFIELDS, 0);
  int st = lua_gettop(L);
  take_baseline(L, st);
  lua_newtable(L);
  lua_rawseti(L, st, R_PROTOS);
  lua_newtable(L); /* closure -> analysis, forgotten with the closure */
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_rawseti(L, st, R_FNINFO);
  lua_newtable(L);
  lua_rawseti(L, st, R_TYPES);
  lua_pushinteger(L, 1);
  lua_rawseti(L, st, R_LOADVER);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (!lua_getmetatable(L, -1)) {
    lua_createtable(L, 0, 1);
    lua_pushvalue(L, st);
    lua_pushcclosure(L, loaded_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_setmetatable(L, -2);
  } else {
    lua_pop(L, 1);
    lua_pushinteger(L, -1); /* someone else's metatable: count instead */
    lua_rawseti(L, st, R_LOADVER);
  }
  lua_pop(L, 1);
  lua_pushvalue(L, st);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &serial_regkey);
}

void serial_take(lua_State *L, int st, int field, int slot) {
  if (lua_rawgeti(L, st, field) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_replace(L, slot);
  lua_pushnil(L); /* taken: a nested encode or decode makes its own */
  lua_rawseti(L, st, field);
}

void serial_baseline(lua_State *L) {
  serial_state(L);
  lua_pop(L, 1);
}

void serial_register(lua_State *L, const char *tname) {
  serial_state(L);
  lua_rawgeti(L, -1, R_TYPES);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, tname);
  lua_pop(L, 3);
}

/* Rebuilds R_NAMES, the reverse index of package.loaded: each module's
 * value, then each string-keyed function or table field of a module.  A
 * standard table's fields count only as they were at baseline. */
static void build_names(lua_State *L, int st, lua_Integer nloaded) {
  lua_newtable(L);
  int names = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int loaded = names + 1;
  lua_rawgeti(L, st, R_BASE);
  lua_rawgeti(L, st, R_BASEG);
  int base = names + 2, baseg = names + 3;
  lua_pushglobaltable(L);
  int g = names + 4;
  for (lua_pushnil(L); lua_next(L, loaded); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING) continue;
    lua_pushvalue(L, -1);
    if (lua_rawget(L, names) == LUA_TNIL) {
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -4);
      lua_rawset(L, names);
    }
    lua_pop(L, 1);
  }
  for (lua_pushnil(L); lua_next(L, loaded); lua_pop(L, 1)) {
    if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) continue;
    int mod = lua_gettop(L);
    /* the baseline copy of a standard table, or of _G */
    if (lua_rawequal(L, mod, g)) lua_pushvalue(L, baseg);
    else {
      lua_pushvalue(L, mod);
      lua_rawget(L, base);
    }
    int pristine = mod + 1;
    for (lua_pushnil(L); lua_next(L, mod); lua_pop(L, 1)) {
      int t = lua_type(L, -1);
      if (lua_type(L, -2) != LUA_TSTRING || (t != LUA_TFUNCTION && t != LUA_TTABLE))
        continue;
      if (!lua_isnil(L, pristine)) {
        lua_pushvalue(L, -2);
        lua_rawget(L, pristine);
        int same = lua_rawequal(L, -1, -2);
        lua_pop(L, 1);
        if (!same) continue;
      }
      lua_pushvalue(L, -1);
      if (lua_rawget(L, names) == LUA_TNIL) {
        lua_pushvalue(L, -2);
        lua_pushvalue(L, mod - 1);
        lua_pushlstring(L, "", 1);
        lua_pushvalue(L, -6);
        lua_concat(L, 3);
        lua_rawset(L, names);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1); /* pristine */
  }
  lua_settop(L, names);
  lua_pushvalue(L, names);
  lua_rawseti(L, st, R_NAMES);
  lua_pushinteger(L, nloaded);
  lua_rawseti(L, st, R_NLOADED);
}

/* ---- encoder ---- */

enum { P_FIELD, P_KEY, P_INDEX, P_META, P_UPVAL, P_GLOBAL, P_ADDED, P_PAYLOAD };

typedef struct seg {
  int kind;
  lua_Integer n;    /* the index (P_INDEX) */
  int idx;          /* stack index: the key (P_FIELD, P_KEY), the function
                       (P_UPVAL, P_GLOBAL), the table name (P_ADDED) */
  const char *name; /* upvalue, global or field name */
} seg;

/* Upvalue cells (by lua_upvalueid) and prototypes (by hash) are numbered
 * in dicts of 64-bit ids kept in C: such keys hold nothing the collector
 * must see, and in the scratch table each would cost an insertion and a
 * clearing.  Their slots are in the enc struct until a frame has many. */
#define ENC_INLINE 16

/* The first values a frame numbers are kept in stack slots and found with
 * lua_rawequal: a small frame needs no scratch table, so no insertion,
 * lookup or clearing.  Numbering one more moves them into the table. */
#define ENC_FIRST 4

/* enc_main's stack slots after the enc and the value; the scratch tables
 * are made when first needed */
enum { S_ST = 3, S_G, S_FIRST, S_SEEN = S_FIRST + ENC_FIRST, S_WORK, S_SENT, S_NAMES };

typedef struct enc {
  lua_State *L;
  serial_buf *b;
  int flags, depth;
  int st, g, seen, work, sent, names;
  lua_Integer nrefs, nwork;
  dict cells, protos;
  dict_slot cells_inl[ENC_INLINE], protos_inl[ENC_INLINE];
  int npath;
  const char *where; /* errors: the place of the value sent, or NULL */
  int anyfn;         /* a Lua function was written */
  size_t body;       /* where the payload starts in 'b' */
  seg path[2 * SERIAL_FRAMEDEPTH + 8];
} enc;

static void need(enc *e, size_t n) {
  if (e->b->cap - e->b->len < n && serial_buf_reserve(e->b, n) != 0)
    luaL_error(e->L, "not enough memory");
}

/* Gives 'id', which has none, the next number. */
static void add_id(enc *e, dict *m, uint64_t id) {
  if (dict_reserve(m) != 0) luaL_error(e->L, "not enough memory");
  dict_put(m, dict_find(m, id), id);
}

static void put1(enc *e, int c) {
  need(e, 1);
  e->b->p[e->b->len++] = (unsigned char)c;
}

static void put_varint(enc *e, uint64_t x) {
  need(e, VARINT_MAX);
  e->b->len += varint_put(e->b->p + e->b->len, x);
}

static inline void put_tagvar(enc *e, int tag, uint64_t x) {
  need(e, 1 + VARINT_MAX);
  e->b->p[e->b->len++] = (unsigned char)tag;
  e->b->len += varint_put(e->b->p + e->b->len, x);
}

static void put_bytes(enc *e, const void *p, size_t n) {
  need(e, n);
  memcpy(e->b->p + e->b->len, p, n);
  e->b->len += n;
}

/* Raises the error of a value nested too deep, with its place. */
static void too_deep(enc *e) {
  luaL_error(e->L, "cannot send a value nested more than %d levels deep%s%s", SERIAL_MAXDEPTH,
             e->where ? ": " : "", e->where ? e->where : "");
}

static void push_seg(enc *e, int kind, int idx, const char *name) {
  if (e->npath == (int)(sizeof e->path / sizeof e->path[0])) too_deep(e);
  seg *s = &e->path[e->npath++];
  s->kind = kind;
  s->idx = idx;
  s->name = name;
}

static void add_where(lua_State *L, luaL_Buffer *b, int fn) {
  lua_Debug ar;
  lua_pushvalue(L, fn);
  lua_getinfo(L, ">S", &ar);
  lua_pushfstring(L, "function at %s:%d", ar.short_src, ar.linedefined);
  luaL_addvalue(b);
}

/* Raises "cannot send 'what': path", 'how' appended when not NULL. */
static void fail(enc *e, const char *what, const char *how) {
  lua_State *L = e->L;
  luaL_Buffer b;
  luaL_checkstack(L, 10, NULL);
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "cannot send ");
  luaL_addstring(&b, what);
  for (int i = e->npath - 1; i >= 0; i--) {
    seg *s = &e->path[i];
    luaL_addstring(&b, i == e->npath - 1 ? (how ? " captured as " : ": ") : " of ");
    switch (s->kind) {
    case P_FIELD:
    case P_KEY:
      if (s->kind == P_KEY) luaL_addstring(&b, "a key of ");
      if (lua_type(L, s->idx) == LUA_TSTRING)
        lua_pushfstring(L, "field '%s'", lua_tostring(L, s->idx));
      else if (lua_type(L, s->idx) == LUA_TNUMBER)
        lua_pushfstring(L, "field [%s]", lua_tostring(L, s->idx));
      else
        lua_pushfstring(L, "a field with a %s key", luaL_typename(L, s->idx));
      luaL_addvalue(&b);
      break;
    case P_INDEX:
      lua_pushfstring(L, "field [%I]", (LUAI_UACINT)s->n);
      luaL_addvalue(&b);
      break;
    case P_META:
      luaL_addstring(&b, "metatable");
      break;
    case P_UPVAL:
      lua_pushfstring(L, "upvalue '%s' of ", s->name);
      luaL_addvalue(&b);
      add_where(L, &b, s->idx);
      break;
    case P_GLOBAL:
      lua_pushfstring(L, "global '%s' referenced by ", s->name);
      luaL_addvalue(&b);
      add_where(L, &b, s->idx);
      break;
    case P_ADDED:
      lua_pushfstring(L, "%s.%s", lua_tostring(L, s->idx), s->name);
      luaL_addvalue(&b);
      break;
    case P_PAYLOAD:
      lua_pushfstring(L, "what __dusk_send returned for %s", s->name);
      luaL_addvalue(&b);
      break;
    }
  }
  if (e->where) {
    luaL_addstring(&b, e->npath > 0 ? " of " : how ? " captured as " : ": ");
    luaL_addstring(&b, e->where);
  }
  if (how) {
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, how);
  }
  luaL_pushresult(&b);
  lua_error(L);
}

static void enc_value(enc *e, int idx);

/* Makes sure the stack slot 'slot' holds a table: scratch tables are made
 * only when needed, as most frames need few of them. */
static int scratch(lua_State *L, int slot) {
  if (lua_type(L, slot) != LUA_TTABLE) {
    lua_newtable(L);
    lua_replace(L, slot);
  }
  return slot;
}

/* Writes a reference when the value at 'idx' was seen before. */
static int ref_of(enc *e, int idx) {
  lua_State *L = e->L;
  lua_Integer n = -1;
  if (e->nrefs <= ENC_FIRST) {
    for (int k = 0; k < (int)e->nrefs && n < 0; k++)
      if (lua_rawequal(L, idx, S_FIRST + k)) n = k;
  } else {
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->seen) == LUA_TNUMBER) n = lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  if (n < 0) return 0;
  put_tagvar(e, T_REF, (uint64_t)n);
  return 1;
}

/* Gives the value at 'idx' the next reference number. */
static void number(enc *e, int idx) {
  lua_State *L = e->L;
  if (e->nrefs < ENC_FIRST) {
    lua_pushvalue(L, idx);
    lua_replace(L, S_FIRST + (int)e->nrefs++);
    return;
  }
  if (e->nrefs == ENC_FIRST) { /* the slots move into the scratch table */
    serial_take(L, e->st, R_ENCTAB, e->seen);
    if (lua_type(L, e->seen) != LUA_TTABLE) {
      lua_createtable(L, 0, 8);
      lua_replace(L, e->seen);
    }
    for (int k = 0; k < ENC_FIRST; k++) {
      lua_pushvalue(L, S_FIRST + k);
      lua_pushinteger(L, k);
      lua_rawset(L, e->seen);
    }
  }
  lua_pushvalue(L, idx);
  lua_pushinteger(L, e->nrefs++);
  lua_rawset(L, e->seen);
}

static void enc_string(enc *e, int idx) {
  if (ref_of(e, idx)) return;
  number(e, idx);
  size_t n;
  const char *s = lua_tolstring(e->L, idx, &n);
  put_tagvar(e, T_STR, n);
  put_bytes(e, s, n);
}

/* Whether the table at 'idx' is an environment: the globals, or a table
 * whose metatable's __index chain reaches them. */
static int is_env(enc *e, int idx) {
  lua_State *L = e->L;
  if (lua_rawequal(L, idx, e->g)) return 1;
  if (!lua_getmetatable(L, idx)) return 0; /* most tables, at little cost */
  if (sandbox_is_globals(L, idx)) { /* a sealed worker's, that modules see */
    lua_pop(L, 1);
    return 1;
  }
  luaL_checkstack(L, 20, NULL);
  int top = lua_gettop(L) - 1, found = 0;
  for (int i = 1;; i++) { /* the top is the i-th metatable of the chain */
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) != LUA_TTABLE) break;
    if (lua_rawequal(L, -1, e->g)) {
      found = 1;
      break;
    }
    if (i == 8 || !lua_getmetatable(L, -1)) break;
  }
  lua_settop(L, top);
  return found;
}

/* Pushes the "module\0field" name of the value at 'idx', or nil; returns
 * whether there is one. */
static int lookup_name(enc *e, int idx) {
  lua_State *L = e->L;
  if (e->names == 0) {
    lua_rawgeti(L, e->st, R_LOADVER);
    lua_Integer n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (n < 0) { /* no __newindex of ours: -(number of modules) */
      luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
      for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) n--;
      lua_pop(L, 1);
    }
    lua_rawgeti(L, e->st, R_NLOADED);
    int fresh = lua_tointeger(L, -1) == n;
    lua_pop(L, 1);
    if (!fresh || lua_rawgeti(L, e->st, R_NAMES) != LUA_TTABLE) {
      if (fresh) lua_pop(L, 1);
      build_names(L, e->st, n);
    }
    lua_replace(L, S_NAMES);
    e->names = S_NAMES;
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, e->names) != LUA_TNIL) return 1;
  /* in a sealed worker, a view or a guard goes by its real one's name
   * (views have metatables: most tables are spared the look-up) */
  int maybe = lua_type(L, idx) == LUA_TFUNCTION;
  if (!maybe && lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    maybe = 1;
  }
  if (!maybe) return 0;
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  for (int hops = 0; hops < 3 && sandbox_push_real(L, -1); hops++) { /* guard, wrapper, real */
    lua_replace(L, -2);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, e->names) != LUA_TNIL) {
      lua_replace(L, -2);
      return 1;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  lua_pushnil(L);
  return 0;
}

/* Writes the value at 'idx' by the name on top of the stack, popped. */
static void put_named(enc *e, int idx) {
  lua_State *L = e->L;
  size_t n;
  const char *s = lua_tolstring(L, -1, &n);
  size_t m = strlen(s);
  number(e, idx);
  put1(e, T_NAMED);
  lua_pushlstring(L, s, m);
  enc_string(e, lua_gettop(L));
  lua_pushlstring(L, m < n ? s + m + 1 : "", m < n ? n - m - 1 : 0);
  enc_string(e, lua_gettop(L));
  lua_pop(L, 3);
}

/* Objects whose metatable has __dusk_send: the hook returns a type name
 * and a payload; a field that is not a function refuses the object.
 * Returns 0 when there is no such field. */
static int enc_hooked(enc *e, int idx) {
  lua_State *L = e->L;
  if (luaL_getmetafield(L, idx, "__dusk_send") == LUA_TNIL) return 0;
  int hook = lua_gettop(L);
  if (luaL_getmetafield(L, idx, "__name") != LUA_TSTRING) {
    lua_settop(L, hook);
    lua_pushstring(L, luaL_typename(L, idx));
  }
  const char *tname = lua_tostring(L, hook + 1);
  if (lua_type(L, hook) != LUA_TFUNCTION)
    fail(e, lua_pushfstring(L, "a %s", tname), "pass it as an argument");
  if (!ref_of(e, idx)) {
    number(e, idx);
    lua_pushvalue(L, hook);
    lua_pushvalue(L, idx);
    lua_call(L, 1, 2);
    if (lua_type(L, hook + 2) != LUA_TSTRING)
      luaL_error(L, "__dusk_send of %s must return a type name", tname);
    put1(e, T_EXT);
    enc_string(e, hook + 2);
    push_seg(e, P_PAYLOAD, 0, tname);
    enc_value(e, hook + 3);
    e->npath--;
  }
  lua_settop(L, hook - 1);
  return 1;
}

static int next_probe(lua_State *L) {
  lua_next(L, 1);
  return 0;
}

/* Writes the integers at stack slots 'from'[0..k), k >= 2, as a T_INTS
 * run: one tag and count, then each as a zigzag varint of its difference
 * from the one before (the first from 0).  Lists of integers are often
 * ids, counters or indices, whose differences are small. */
static void put_ints(enc *e, int from, int k) {
  lua_State *L = e->L;
  need(e, 1 + VARINT_MAX + VARINT_MAX * (size_t)k);
  unsigned char *p = e->b->p + e->b->len;
  *p++ = T_INTS;
  p += varint_put(p, (uint64_t)k);
  uint64_t prev = 0;
  for (int j = 0; j < k; j++) {
    uint64_t x = (uint64_t)lua_tointeger(L, from + j), u = x - prev;
    p += varint_put(p, zigzag_enc(u));
    prev = x;
  }
  e->b->len = (size_t)(p - e->b->p);
}

/* Writes t[1..n], read by index a batch at a time (cheaper than lua_next
 * for long lists), its runs of integers as T_INTS. */
static void put_list(enc *e, int t, lua_Integer n) {
  lua_State *L = e->L;
  enum { BATCH = 256 };
  luaL_checkstack(L, BATCH + 4, NULL);
  int base = lua_gettop(L) + 1;
  seg *s = &e->path[e->npath - 1];
  for (lua_Integer i = 1; i <= n; i += BATCH) {
    int k = n - i + 1 < BATCH ? (int)(n - i + 1) : BATCH;
    /* lua_geti inlines the array part, where lua_rawgeti makes a call,
     * but it is raw only for a table without a metatable: checked per
     * batch, as a hook run by an earlier one may have set one */
    if (lua_getmetatable(L, t)) {
      lua_pop(L, 1);
      for (int j = 0; j < k; j++) lua_rawgeti(L, t, i + j);
    } else {
      for (int j = 0; j < k; j++) lua_geti(L, t, i + j);
    }
    for (int j = 0; j < k;) {
      int r = j;
      while (r < k && lua_isinteger(L, base + r)) r++;
      if (r - j >= 2) {
        put_ints(e, base + j, r - j);
        j = r;
        continue;
      }
      s->kind = P_INDEX;
      s->n = i + j;
      enc_value(e, base + j);
      j++;
    }
    lua_settop(L, base - 1);
  }
}

/* Whether lua_next may start from key 'n' + 1 of the table at 't', where
 * t[n + 1] is nil: true when n + 1 is within the table's array part, as
 * lua_next raises an error for any other key that is absent.  Then t[1..n]
 * are all in the array part, and lua_next from n + 1 visits exactly the
 * entries after them. */
static int array_holds(lua_State *L, int t, lua_Integer n) {
  lua_pushcfunction(L, next_probe);
  lua_pushvalue(L, t);
  lua_pushinteger(L, n + 1);
  if (lua_pcall(L, 2, 0, 0) == LUA_OK) return 1;
  lua_pop(L, 1);
  return 0;
}

/* Overwrites the two one-byte counts at 'at' (written as zero), moving
 * the table's contents when a count needs more bytes. */
static void patch_counts(enc *e, size_t at, uint64_t narr, uint64_t nhash) {
  unsigned char tmp[2 * VARINT_MAX];
  size_t n = varint_put(tmp, narr);
  n += varint_put(tmp + n, nhash);
  if (n > 2) {
    need(e, n - 2);
    unsigned char *p = e->b->p;
    memmove(p + at + n, p + at + 2, e->b->len - at - 2);
    e->b->len += n - 2;
  }
  memcpy(e->b->p + at, tmp, n);
}

static void enc_table(enc *e, int t) {
  lua_State *L = e->L;
  luaL_checkstack(L, 20, NULL); /* enough for build_names too */
  if (is_env(e, t)) {
    put1(e, T_ENV);
    return;
  }
  if (ref_of(e, t)) return;
  if (lookup_name(e, t)) {
    put_named(e, t);
    return;
  }
  lua_pop(L, 1);
  if (enc_hooked(e, t)) return;
  number(e, t);
  if (++e->depth > SERIAL_FRAMEDEPTH) too_deep(e);
  put1(e, T_TABLE);
  size_t at = e->b->len;
  put1(e, 0);
  put1(e, 0);
  uint64_t narr = 0, nhash = 0;
  int key = lua_gettop(L) + 1;
  push_seg(e, P_FIELD, key, NULL);
  int run = 1; /* keys so far are 1, 2, ... narr: still an array */
  lua_Integer n = (lua_Integer)lua_rawlen(L, t);
  if (n >= 32 && array_holds(L, t, n)) {
    put_list(e, t, n);
    e->path[e->npath - 1].kind = P_FIELD;
    narr = (uint64_t)n;
    run = 0; /* t[n + 1] is nil: the rest are pairs */
    lua_pushinteger(L, n + 1);
  } else {
    lua_pushnil(L);
  }
  while (lua_next(L, t)) {
    if (run && lua_isinteger(L, key) && lua_tointeger(L, key) == (lua_Integer)narr + 1) {
      narr++;
      if (lua_isinteger(L, key + 1)) { /* lists of integers, quickly */
        uint64_t u = (uint64_t)lua_tointeger(L, key + 1);
        put_tagvar(e, T_INT, (u << 1) ^ (0 - (u >> 63)));
        lua_pop(L, 1);
        continue;
      }
    } else {
      run = 0;
      e->path[e->npath - 1].kind = P_KEY;
      enc_value(e, key);
      e->path[e->npath - 1].kind = P_FIELD;
      nhash++;
    }
    enc_value(e, key + 1);
    lua_pop(L, 1);
  }
  e->path[e->npath - 1].kind = P_META;
  if (lua_getmetatable(L, t)) {
    enc_value(e, key);
    lua_pop(L, 1);
  } else {
    put1(e, T_NIL);
  }
  e->npath--;
  e->depth--;
  patch_counts(e, at, narr, nhash);
}

/* Queues entries of the work list: kind, name, value, function. */
static void queue(enc *e, int kind, int name, int value, int fn) {
  lua_State *L = e->L;
  lua_pushinteger(L, kind);
  lua_rawseti(L, e->work, ++e->nwork);
  lua_pushvalue(L, name);
  lua_rawseti(L, e->work, ++e->nwork);
  lua_pushvalue(L, value);
  lua_rawseti(L, e->work, ++e->nwork);
  lua_pushvalue(L, fn);
  lua_rawseti(L, e->work, ++e->nwork);
}

/* Pushes the value of global 'name' (at top) in the environment 'env',
 * reading through __index tables as Lua would. */
static void env_get(lua_State *L, int env) {
  lua_pushvalue(L, env);
  for (int i = 0;; i++) { /* stack: name, table */
    lua_pushvalue(L, -2);
    if (lua_rawget(L, -2) != LUA_TNIL || i == 8 || !lua_getmetatable(L, -2)) break;
    lua_pushliteral(L, "__index");
    if (lua_rawget(L, -2) != LUA_TTABLE) {
      lua_pop(L, 2);
      break;
    }
    lua_replace(L, -4);
    lua_pop(L, 2);
  }
  lua_replace(L, -3); /* name, table, value -> value */
  lua_pop(L, 1);
}

/* Queues the user globals the function at 'fn' (analysis 'info') reads in
 * its environment 'env' (0: none), and the keys added to standard tables
 * among its field names. */
static void queue_globals(enc *e, int fn, int info, int env) {
  lua_State *L = e->L;
  luaL_checkstack(L, 24, NULL);
  scratch(L, e->work);
  scratch(L, e->sent);
  lua_getiuservalue(L, info, F_GLOBALS);
  int list = lua_gettop(L);
  if (env == 0) lua_newtable(L); /* no names to look up */
  else lua_rawgeti(L, e->st, R_BASEG);
  for (lua_Integer i = 1; env && lua_rawgeti(L, list, i) == LUA_TSTRING; i++) {
    int name = lua_gettop(L);
    lua_pushvalue(L, name);
    if (lua_rawget(L, e->sent) == LUA_TNIL) {
      lua_pushvalue(L, name);
      env_get(L, env);
      lua_pushvalue(L, name);
      lua_rawget(L, list + 1);
      if (!lua_isnil(L, -2) && !lua_rawequal(L, -1, -2)) {
        lua_pushvalue(L, name);
        lua_pushboolean(L, 1);
        lua_rawset(L, e->sent);
        queue(e, 1, name, name + 2, fn);
      }
    }
    lua_settop(L, name - 1);
  }
  lua_settop(L, list);
  lua_getiuservalue(L, info, F_FIELDS);
  lua_rawgeti(L, e->st, R_BASEKEYS);
  lua_rawgeti(L, e->st, R_STDTABS);
  int keys = list + 2, tabs = list + 3;
  for (lua_Integer i = 1; lua_rawgeti(L, list + 1, i) == LUA_TSTRING; i++) {
    int name = lua_gettop(L);
    lua_pushvalue(L, name);
    if (lua_rawget(L, keys) == LUA_TNIL) {
      for (lua_pushnil(L); lua_next(L, tabs); lua_pop(L, 1)) {
        lua_pushvalue(L, name);
        if (lua_rawget(L, -2) == LUA_TNIL) {
          lua_pop(L, 1);
          continue;
        }
        lua_pushfstring(L, "%s.%s", lua_tostring(L, -3), lua_tostring(L, name));
        lua_pushvalue(L, -1);
        if (lua_rawget(L, e->sent) == LUA_TNIL) {
          lua_pushvalue(L, -2);
          lua_pushboolean(L, 1);
          lua_rawset(L, e->sent);
          queue(e, 2, -5, name, -3); /* table name, key, value */
        }
        lua_pop(L, 3);
      }
    }
    lua_settop(L, name - 1);
  }
  lua_settop(L, list - 1);
}

static void enc_function(enc *e, int fn) {
  lua_State *L = e->L;
  if (ref_of(e, fn)) return;
  if (!(e->flags & SERIAL_FUNCTIONS)) fail(e, "a function here (functions are not allowed)", NULL);
  if (lua_iscfunction(L, fn)) {
    if (!lookup_name(e, fn)) fail(e, "a C function not reachable from package.loaded", NULL);
    put_named(e, fn);
    return;
  }
  if (++e->depth > SERIAL_FRAMEDEPTH) too_deep(e);
  luaL_checkstack(L, 12, NULL);
  e->anyfn = 1;
  number(e, fn);
  int envup = 0;
  for (int u = 1; envup == 0 && lua_getupvalue(L, fn, u) != NULL; u++) {
    if (lua_istable(L, -1) && is_env(e, lua_gettop(L))) envup = u;
    lua_pop(L, 1);
  }
  const serial_fninfo *fi = serial_fn_info(L, e->st, fn, envup);
  int info = lua_gettop(L), nups = fi->nups;
  put_tagvar(e, T_LFUNC, (uint64_t)nups);
  lua_Integer k = dict_get(&e->protos, fi->hash);
  if (k >= 0) {
    put_varint(e, (uint64_t)k + 1);
  } else {
    size_t n;
    lua_getiuservalue(L, info, F_CHUNK);
    const char *chunk = lua_tolstring(L, -1, &n);
    put_varint(e, 0);
    put_bytes(e, &fi->hash, 8);
    put_varint(e, n);
    put_bytes(e, chunk, n);
    lua_pop(L, 1);
    add_id(e, &e->protos, fi->hash);
  }
  if (fi->names) {
    if (envup) lua_getupvalue(L, fn, envup);
    else lua_pushnil(L);
    queue_globals(e, fn, info, envup ? lua_gettop(L) : 0);
    lua_pop(L, 1);
  }
  for (int u = 1; u <= nups; u++) {
    uint64_t id = (uint64_t)(uintptr_t)lua_upvalueid(L, fn, u);
    lua_Integer cell = dict_get(&e->cells, id);
    if (cell >= 0) {
      put_varint(e, (uint64_t)cell + 1);
      continue;
    }
    add_id(e, &e->cells, id);
    put_varint(e, 0);
    const char *name = lua_getupvalue(L, fn, u);
    if (u == envup) put1(e, T_ENV);
    else {
      push_seg(e, P_UPVAL, fn, name && *name ? name : "?");
      enc_value(e, lua_gettop(L));
      e->npath--;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1); /* info */
  e->depth--;
}

static void enc_value(enc *e, int idx) {
  lua_State *L = e->L;
  int type = lua_type(L, idx);
  if (type == LUA_TNUMBER && lua_isinteger(L, idx)) { /* the common case first */
    uint64_t u = (uint64_t)lua_tointeger(L, idx);
    put_tagvar(e, T_INT, zigzag_enc(u));
    return;
  }
  switch (type) {
  case LUA_TNIL:
    put1(e, T_NIL);
    break;
  case LUA_TBOOLEAN:
    put1(e, lua_toboolean(L, idx) ? T_TRUE : T_FALSE);
    break;
  case LUA_TNUMBER: {
    lua_Number x = lua_tonumber(L, idx);
    need(e, 1 + sizeof x);
    e->b->p[e->b->len++] = T_FLOAT;
    memcpy(e->b->p + e->b->len, &x, sizeof x);
    e->b->len += sizeof x;
    break;
  }
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    if (n > SERIAL_SHORTSTR || (e->npath > 0 && e->path[e->npath - 1].kind == P_KEY)) {
      enc_string(e, idx); /* keys repeat: numbered, sent once */
    } else {
      put_tagvar(e, T_SSTR, n);
      put_bytes(e, s, n);
    }
    break;
  }
  case LUA_TTABLE:
    enc_table(e, idx);
    break;
  case LUA_TFUNCTION:
    enc_function(e, idx);
    break;
  case LUA_TLIGHTUSERDATA:
    if (!(e->flags & SERIAL_LOCAL)) fail(e, "a light userdata to another process", NULL);
    put1(e, T_LIGHT);
    {
      void *p = lua_touserdata(L, idx);
      put_bytes(e, &p, sizeof p);
    }
    break;
  case LUA_TUSERDATA:
    if (enc_hooked(e, idx)) break;
    if (luaL_testudata(L, idx, LUA_FILEHANDLE)) {
      lua_pop(L, 1);
      fail(e, "a file", NULL);
    }
    if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
      fail(e, lua_pushfstring(L, "a userdata (%s)", lua_tostring(L, -1)), NULL);
    fail(e, "a userdata", NULL);
    break;
  case LUA_TTHREAD:
    fail(e, "a coroutine", NULL);
    break;
  default:
    fail(e, luaL_typename(L, idx), NULL);
  }
}

/* Inserts a raw string (varint length, bytes) at '*at' in the payload. */
static void insert_raw(enc *e, size_t *at, const char *s, size_t n) {
  unsigned char v[VARINT_MAX];
  size_t k = varint_put(v, n);
  need(e, k + n);
  unsigned char *p = e->b->p + *at;
  memmove(p + k + n, p, e->b->len - *at);
  memcpy(p, v, k);
  memcpy(p + k, s, n);
  e->b->len += k + n;
  *at += k + n;
}

/* The package fields sent before the value: package.path and cpath when
 * a function was sent and they differ from the baseline, so the receiver
 * finds the same modules.  Inserted at the end, since only then is it
 * known whether a function was sent: a count byte, then key and value
 * raw strings. */
static void put_paths(enc *e) {
  lua_State *L = e->L;
  static const char *const keys[] = {"path", "cpath"};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "package");
  lua_rawgeti(L, e->st, R_PATHS);
  int pkg = lua_gettop(L) - 1, base = pkg + 1;
  size_t at = e->body + 1;
  int count = 0;
  for (int i = 0; i < 2 && lua_istable(L, pkg); i++) {
    if (lua_getfield(L, pkg, keys[i]) == LUA_TSTRING) {
      lua_rawgeti(L, base, i + 1);
      if (!lua_rawequal(L, -1, -2)) {
        size_t len;
        const char *s = lua_tolstring(L, -2, &len);
        insert_raw(e, &at, keys[i], strlen(keys[i]));
        insert_raw(e, &at, s, len);
        count++;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  e->b->p[e->body] = (unsigned char)count;
  lua_pop(L, 3);
}

static int enc_main(lua_State *L) {
  enc *e = lua_touserdata(L, 1);
  serial_state(L);
  sandbox_push_env(L, NULL); /* a task's functions have its environment */
  lua_settop(L, S_NAMES);
  e->st = S_ST;
  e->g = S_G;
  e->seen = S_SEEN;
  e->work = S_WORK;
  e->sent = S_SENT;
  e->names = 0;
  e->body = e->b->len;
  put1(e, 0); /* package fields, see put_paths */
  enc_value(e, 2);
  /* the globals and additions queued, each may queue more */
  const int w = S_NAMES; /* an entry goes in w + 1 .. w + 4 */
  for (lua_Integer i = 1; i <= e->nwork; i += 4) {
    lua_settop(L, w);
    lua_rawgeti(L, e->work, i);
    lua_rawgeti(L, e->work, i + 1);
    lua_rawgeti(L, e->work, i + 2);
    lua_rawgeti(L, e->work, i + 3);
    int kind = (int)lua_tointeger(L, w + 1);
    put1(e, kind);
    if (kind == 1) {
      enc_string(e, w + 2);
      push_seg(e, P_GLOBAL, w + 4, lua_tostring(L, w + 2));
      enc_value(e, w + 3);
    } else { /* w + 2: the table's name, w + 3: the key, w + 4: the value */
      enc_string(e, w + 2);
      enc_string(e, w + 3);
      push_seg(e, P_ADDED, w + 2, lua_tostring(L, w + 3));
      enc_value(e, w + 4);
    }
    e->npath--;
  }
  put1(e, 0);
  if (e->anyfn) put_paths(e);
  if (lua_istable(L, e->seen) && e->nrefs <= SERIAL_REUSE) {
    lua_pushnil(L);
    while (lua_next(L, e->seen)) { /* clearing fields while traversing is allowed */
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, e->seen);
    }
    lua_pushvalue(L, e->seen);
    lua_rawseti(L, e->st, R_ENCTAB);
  }
  return 0;
}

static void put_header(unsigned char *h, int flags, uint64_t len) {
  memcpy(h, SERIAL_MAGIC, 4);
  h[4] = SERIAL_VERSION;
  h[5] = (LUA_VERSION_NUM / 100) << 4 | (LUA_VERSION_NUM % 100);
  h[6] = (unsigned char)(sizeof(lua_Integer) | sizeof(lua_Number) << 4);
  h[7] = (unsigned char)flags;
  for (int i = 0; i < 8; i++) h[8 + i] = (unsigned char)(len >> (8 * i));
}

/* Replaces the payload at 'at' in 'b' by its zstd frame when smaller.
 * Returns the header flags. */
static int compress(serial_buf *b, size_t at) {
  size_t n = b->len - at, bound = ZSTD_compressBound(n);
  unsigned char *tmp = b->alloc(b->ud, NULL, bound);
  if (tmp == NULL) return 0;
  int flags = 0;
  ZSTD_CCtx *cc = ZSTD_createCCtx_advanced((ZSTD_customMem){base_zalloc, base_zfree, NULL});
  if (cc) {
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 1);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    size_t z = ZSTD_compress2(cc, tmp, bound, b->p + at, n);
    if (!ZSTD_isError(z) && z < n) {
      memcpy(b->p + at, tmp, z);
      b->len = at + z;
      flags = SERIAL_FZSTD;
    }
    ZSTD_freeCCtx(cc);
  }
  b->alloc(b->ud, tmp, 0);
  return flags;
}

int serial_encode(lua_State *L, int idx, int flags, serial_buf *out) {
  return serial_encode_at(L, idx, flags, out, NULL);
}

int serial_encode_at(lua_State *L, int idx, int flags, serial_buf *out, const char *where) {
  if (!lua_checkstack(L, 4)) return LUA_ERRMEM;
  idx = lua_absindex(L, idx);
  size_t start = out->len;
  if (serial_buf_reserve(out, SERIAL_HEADER) != 0) {
    lua_pushliteral(L, "not enough memory");
    return LUA_ERRMEM;
  }
  out->len += SERIAL_HEADER;
  enc e; /* not cleared whole: 'path' is large and filled as needed */
  e.L = L;
  e.b = out;
  e.flags = flags;
  e.depth = e.npath = e.anyfn = 0;
  e.where = where;
  e.nrefs = e.nwork = 0;
  dict_init(&e.cells, e.cells_inl, ENC_INLINE);
  dict_init(&e.protos, e.protos_inl, ENC_INLINE);
  lua_pushcfunction(L, enc_main);
  lua_pushlightuserdata(L, &e);
  lua_pushvalue(L, idx);
  int status = lua_pcall(L, 2, 0, 0);
  dict_free(&e.cells);
  dict_free(&e.protos);
  if (status != LUA_OK) {
    out->len = start;
    return status;
  }
  size_t at = start + SERIAL_HEADER;
  uint64_t raw = out->len - at;
  int hflags = 0;
  if ((flags & SERIAL_COMPRESS) && raw >= SERIAL_COMPRESS_MIN) hflags = compress(out, at);
  put_header(out->p + start, hflags, raw);
  return LUA_OK;
}
