/*
 * serial_dec: decoding frames (the format is in serial_int.h, the design
 * in serial.c).
 *
 * Debian's liblua is built without API checks, so nothing read from a
 * frame reaches the Lua API unchecked: every length is checked against
 * the bytes left, every count bounds the bytes it needs (a value takes at
 * least one), every reference and cell number is below the count seen so
 * far, table keys are neither nil nor NaN, metatables are tables, and
 * nesting is limited to SERIAL_FRAMEDEPTH.  Without SERIAL_FUNCTIONS a frame
 * is data: no bytecode is loaded, no module is required (except one
 * compiled into dusk that decodes a type in the frame), no function is
 * resolved by name, nothing is added to standard tables.
 *
 * Prototypes are cached per state by the hash of their factory chunk and
 * compared byte for byte on a hit; each closure is made by calling the
 * factory, so its upvalues are fresh for every decode.
 */
#include <math.h>
#include <string.h>

#include <lauxlib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_createDCtx_advanced: memory from base/alloc.h */
#include <zstd.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/varint.h"
#include "sandbox/sandbox.h"
#include "serial/serial_int.h"

#define SERIAL_MAXRAW ((uint64_t)1 << 31) /* largest payload accepted */

/* Upvalue cells and protos are numbered in arrays of integers in C, which
 * need no clearing: in 'inl' until a frame has more, then in a userdata
 * held at the stack slot 'slot' of dec_main. */
typedef struct ivec {
  lua_Integer *v, inl[16];
  size_t n, cap;
  int slot;
} ivec;

/* The first objects of a frame are held in stack slots, the rest in the
 * scratch table: a small frame needs none (see serial.c). */
#define DEC_FIRST 4

typedef struct dec {
  lua_State *L;
  const unsigned char *p, *end;
  int flags, depth;
  int st, env, fenv, refs, cache;
  lua_Integer nrefs;
  ivec cells;  /* upvalue cell k is v[k - 1]: its closure's reference
                  number << 8 | the upvalue */
  ivec protos; /* proto k is v[k - 1]: its hash, its key in the cache */
} dec;

/* Stack slots of dec_main: objects 1 .. DEC_FIRST from S_FIRST on; the
 * other objects in the table at S_REFS. */
enum { S_DEC = 1, S_ENV, S_ST, S_CACHE, S_FENV, S_REFS, S_CELLS, S_PROTOS, S_FIRST };

static void corrupt(dec *d, const char *why) {
  luaL_error(d->L, "cannot decode: %s", why);
}

static size_t left(dec *d) { return (size_t)(d->end - d->p); }

static inline int rd_byte(dec *d) {
  if (d->p >= d->end) corrupt(d, "truncated frame");
  return *d->p++;
}

static inline uint64_t rd_varint(dec *d) {
  uint64_t x;
  int ok = varint_get(&d->p, d->end, &x);
  if (ok <= 0) corrupt(d, ok == 0 ? "truncated frame" : "bad varint");
  return x;
}

/* A count of things each taking at least 'each' bytes. */
static inline size_t rd_count(dec *d, size_t each) {
  uint64_t n = rd_varint(d);
  if (n > left(d) / each) corrupt(d, "count beyond the frame");
  return (size_t)n;
}

static const unsigned char *rd_bytes(dec *d, size_t n) {
  if (n > left(d)) corrupt(d, "truncated frame");
  const unsigned char *p = d->p;
  d->p += n;
  return p;
}

static void ivec_add(dec *d, ivec *a, lua_Integer x) {
  if (a->n == a->cap) {
    lua_Integer *p = lua_newuserdatauv(d->L, 2 * a->cap * sizeof *p, 0);
    memcpy(p, a->v, a->n * sizeof *p);
    lua_replace(d->L, a->slot);
    a->v = p;
    a->cap *= 2;
  }
  a->v[a->n++] = x;
}

/* Numbers the next object: its reference number.  The table for objects
 * after the first DEC_FIRST is made with the first of them, so that any
 * number up to nrefs can be looked up, even before its object is set. */
static lua_Integer next_ref(dec *d) {
  lua_State *L = d->L;
  if (++d->nrefs > DEC_FIRST && lua_type(L, d->refs) != LUA_TTABLE) {
    serial_take(L, d->st, R_DECTAB, d->refs);
    if (lua_type(L, d->refs) != LUA_TTABLE) {
      lua_createtable(L, 8, 0);
      lua_replace(L, d->refs);
    }
  }
  return d->nrefs;
}

/* Makes object 'k' the value at 'idx'. */
static void set_ref(dec *d, lua_Integer k, int idx) {
  lua_pushvalue(d->L, idx);
  if (k <= DEC_FIRST) lua_replace(d->L, S_FIRST + (int)k - 1);
  else lua_rawseti(d->L, d->refs, k);
}

/* Pushes object 'k', 1 <= k <= nrefs. */
static void push_ref(dec *d, lua_Integer k) {
  if (k <= DEC_FIRST) lua_pushvalue(d->L, S_FIRST + (int)k - 1);
  else lua_rawgeti(d->L, d->refs, k);
}

static void reg(dec *d, int idx) {
  idx = lua_absindex(d->L, idx);
  set_ref(d, next_ref(d), idx);
}

static void dec_value(dec *d);

static const char *dec_string(dec *d, const char *what) {
  dec_value(d);
  if (lua_type(d->L, -1) != LUA_TSTRING) corrupt(d, what);
  return lua_tostring(d->L, -1);
}

static void enter(dec *d) {
  if (++d->depth > SERIAL_FRAMEDEPTH) corrupt(d, "nested too deeply");
  if (!lua_checkstack(d->L, 16)) corrupt(d, "stack overflow");
}

/* Sets t[i .. i + k) from a T_INTS run, which the caller checked fits in
 * the table's narr. */
static void dec_ints(dec *d, int t, size_t i, size_t k) {
  lua_State *L = d->L;
  const unsigned char *p = d->p, *end = d->end; /* in registers, not 'd' */
  uint64_t x = 0;
  for (size_t j = i; j < i + k; j++) {
    uint64_t u;
    int ok = varint_get(&p, end, &u);
    if (ok <= 0) {
      d->p = p;
      corrupt(d, ok == 0 ? "truncated frame" : "bad varint");
    }
    x += zigzag_dec(u);
    lua_pushinteger(L, (lua_Integer)x);
    lua_rawseti(L, t, (lua_Integer)j);
  }
  d->p = p;
}

static void dec_table(dec *d) {
  lua_State *L = d->L;
  size_t narr = rd_count(d, 1);
  size_t nhash = rd_count(d, 2);
  if (narr + nhash > left(d)) corrupt(d, "count beyond the frame");
  enter(d);
  lua_createtable(L, (int)narr, (int)nhash);
  int t = lua_gettop(L);
  reg(d, t);
  for (size_t i = 1; i <= narr;) {
    if (d->p < d->end && *d->p == T_INTS) {
      d->p++;
      size_t k = rd_count(d, 1);
      if (k == 0 || k > narr - i + 1) corrupt(d, "bad run of integers");
      dec_ints(d, t, i, k);
      i += k;
      continue;
    }
    if (d->p < d->end && *d->p == T_INT) { /* lists of integers, quickly */
      d->p++;
      uint64_t u = rd_varint(d);
      lua_pushinteger(L, (lua_Integer)zigzag_dec(u));
    } else {
      dec_value(d);
    }
    lua_rawseti(L, t, (lua_Integer)i++);
  }
  for (size_t i = 0; i < nhash; i++) {
    dec_value(d);
    if (lua_isnil(L, -1)) corrupt(d, "nil key");
    if (lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1)) {
      lua_Number k = lua_tonumber(L, -1);
      if (k != k) corrupt(d, "NaN key");
    }
    dec_value(d);
    lua_rawset(L, t);
  }
  dec_value(d);
  if (lua_istable(L, -1)) lua_setmetatable(L, t);
  else if (lua_isnil(L, -1)) lua_pop(L, 1);
  else corrupt(d, "metatable is not a table");
  d->depth--;
}

/* Pushes the value named by module 'm' and field 'f' ("": the module). */
static void resolve(dec *d, const char *m, const char *f) {
  lua_State *L = d->L;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, m) == LUA_TNIL) {
    if (!(d->flags & SERIAL_FUNCTIONS))
      luaL_error(L, "cannot decode: module '%s' is not loaded", m);
    lua_getglobal(L, "require");
    lua_pushstring(L, m);
    lua_call(L, 1, 1);
    lua_replace(L, -2);
  }
  lua_remove(L, -2);
  if (*f) {
    if (!lua_istable(L, -1)) luaL_error(L, "cannot decode: module '%s' is not a table", m);
    lua_getfield(L, -1, f);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) luaL_error(L, "cannot decode: '%s.%s' not found", m, f);
  }
  if (d->flags & SERIAL_TASKENV) { /* a sealed worker's tasks hold views */
    sandbox_push_view(L, -1);
    lua_replace(L, -2);
  }
  if (!(d->flags & SERIAL_FUNCTIONS) && !lua_istable(L, -1))
    luaL_error(L, "cannot decode: '%s%s%s' is not a table", m, *f ? "." : "", f);
}

/* Named and T_EXT objects are numbered before their parts are read, and
 * set after. */
static void dec_named(dec *d) {
  lua_State *L = d->L;
  lua_Integer n = next_ref(d);
  const char *m = dec_string(d, "module name is not a string");
  const char *f = dec_string(d, "field name is not a string");
  resolve(d, m, f);
  lua_replace(L, -3);
  lua_pop(L, 1);
  set_ref(d, n, -1);
}

/* Whether the type 'tname' is named after a module compiled into dusk
 * (in package.preload) and not loaded yet: then requiring it registers
 * its decoder, so a state that never used "dusk.json" still decodes its
 * records.  Only such modules: nothing is read from disk. */
static int type_module(lua_State *L, const char *tname) {
  int top = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int found = lua_getfield(L, -2, tname) != LUA_TNIL && lua_getfield(L, -2, tname) == LUA_TNIL;
  lua_settop(L, top);
  return found;
}

static void dec_ext(dec *d) {
  lua_State *L = d->L;
  lua_Integer n = next_ref(d);
  const char *tname = dec_string(d, "type name is not a string");
  lua_rawgeti(L, d->st, R_TYPES);
  if (lua_getfield(L, -1, tname) != LUA_TFUNCTION && type_module(L, tname)) {
    lua_getglobal(L, "require");
    lua_pushstring(L, tname);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
    lua_getfield(L, -1, tname);
  }
  if (!lua_isfunction(L, -1))
    luaL_error(L, "cannot decode: unknown type '%s'", tname);
  lua_replace(L, -3);
  lua_pop(L, 1);
  enter(d);
  dec_value(d);
  d->depth--;
  lua_call(L, 1, 1);
  set_ref(d, n, -1);
}

/* Pushes the fresh environment, made at first use: a table reading
 * through to the environment given to serial_decode. */
static void push_env(dec *d) {
  lua_State *L = d->L;
  if (lua_isnil(L, d->fenv)) {
    if (!(d->flags & SERIAL_TASKENV) || !sandbox_task_env(L)) {
      lua_newtable(L);
      lua_createtable(L, 0, 1);
      lua_pushvalue(L, d->env);
      lua_setfield(L, -2, "__index");
      lua_setmetatable(L, -2);
    }
    lua_replace(L, d->fenv);
  }
  lua_pushvalue(L, d->fenv);
}

/* Pushes the cache entry {factory, chunk, nups} of the next proto. */
static void dec_proto(dec *d) {
  lua_State *L = d->L;
  uint64_t k = rd_varint(d);
  if (k > 0) {
    if (k > d->protos.n) corrupt(d, "bad prototype number");
    lua_rawgeti(L, d->cache, d->protos.v[k - 1]);
    return;
  }
  uint64_t h;
  memcpy(&h, rd_bytes(d, 8), 8);
  size_t n = rd_count(d, 1);
  const unsigned char *chunk = rd_bytes(d, n);
  if (lua_rawgeti(L, d->cache, (lua_Integer)h) == LUA_TTABLE) {
    size_t m;
    lua_rawgeti(L, -1, 2);
    const char *c = lua_tolstring(L, -1, &m);
    int same = c && m == n && memcmp(c, chunk, n) == 0;
    lua_pop(L, 1);
    if (!same) corrupt(d, "prototype hash collision");
  } else {
    lua_pop(L, 1);
    if (!(d->flags & SERIAL_FUNCTIONS)) corrupt(d, "bytecode in an untrusted frame");
    if (hash_bytes(chunk, n) != h) corrupt(d, "prototype hash mismatch");
    lua_createtable(L, 3, 0);
    if (luaL_loadbufferx(L, (const char *)chunk, n, "=(dusk serial)", "b") != LUA_OK)
      lua_error(L);
    lua_pushvalue(L, -1);
    lua_call(L, 0, 1);
    lua_Debug ar;
    lua_getinfo(L, ">u", &ar);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, (const char *)chunk, n);
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, ar.nups);
    lua_rawseti(L, -2, 3);
    lua_pushvalue(L, -1);
    lua_rawseti(L, d->cache, (lua_Integer)h);
  }
  ivec_add(d, &d->protos, (lua_Integer)h);
}

static void dec_function(dec *d) {
  lua_State *L = d->L;
  if (!(d->flags & (SERIAL_FUNCTIONS | SERIAL_CACHED))) corrupt(d, "function in an untrusted frame");
  uint64_t nups = rd_varint(d);
  enter(d);
  dec_proto(d);
  lua_rawgeti(L, -1, 3);
  if ((uint64_t)lua_tointeger(L, -1) != nups) corrupt(d, "wrong number of upvalues");
  lua_pop(L, 1);
  lua_rawgeti(L, -1, 1);
  lua_call(L, 0, 1); /* a closure with fresh cells */
  lua_replace(L, -2);
  int f = lua_gettop(L);
  reg(d, f);
  lua_Integer self = d->nrefs;
  for (int u = 1; u <= (int)nups; u++) {
    uint64_t c = rd_varint(d);
    if (c == 0) {
      ivec_add(d, &d->cells, self << 8 | u);
      dec_value(d);
      lua_setupvalue(L, f, u);
    } else {
      if (c > d->cells.n) corrupt(d, "bad upvalue cell");
      lua_Integer cell = d->cells.v[c - 1];
      push_ref(d, cell >> 8);
      lua_upvaluejoin(L, f, u, -1, (int)(cell & 0xff));
      lua_pop(L, 1);
    }
  }
  d->depth--;
}

static void dec_value(dec *d) {
  lua_State *L = d->L;
  int tag = rd_byte(d);
  switch (tag) {
  case T_NIL: lua_pushnil(L); break;
  case T_FALSE: lua_pushboolean(L, 0); break;
  case T_TRUE: lua_pushboolean(L, 1); break;
  case T_INT: {
    uint64_t u = rd_varint(d);
    lua_pushinteger(L, (lua_Integer)((u >> 1) ^ (0 - (u & 1))));
    break;
  }
  case T_FLOAT: {
    lua_Number x;
    memcpy(&x, rd_bytes(d, sizeof x), sizeof x);
    lua_pushnumber(L, x);
    break;
  }
  case T_STR: {
    size_t n = rd_count(d, 1);
    lua_pushlstring(L, (const char *)rd_bytes(d, n), n);
    reg(d, -1);
    break;
  }
  case T_SSTR: {
    size_t n = rd_count(d, 1);
    if (n > SERIAL_SHORTSTR) corrupt(d, "long short string");
    lua_pushlstring(L, (const char *)rd_bytes(d, n), n);
    break;
  }
  case T_REF: {
    uint64_t n = rd_varint(d);
    if (n >= (uint64_t)d->nrefs) corrupt(d, "bad reference");
    push_ref(d, (lua_Integer)n + 1);
    break;
  }
  case T_TABLE: dec_table(d); break;
  case T_LFUNC: dec_function(d); break;
  case T_NAMED: dec_named(d); break;
  case T_ENV: push_env(d); break;
  case T_LIGHT: {
    void *p;
    if (!(d->flags & SERIAL_LOCAL)) corrupt(d, "light userdata from another process");
    memcpy(&p, rd_bytes(d, sizeof p), sizeof p);
    lua_pushlightuserdata(L, p);
    break;
  }
  case T_EXT: dec_ext(d); break;
  default: corrupt(d, "unknown tag");
  }
}

/* package.path and cpath, before the value (see put_paths). */
static void dec_paths(dec *d) {
  lua_State *L = d->L;
  int n = rd_byte(d);
  if (n > 2 || (n > 0 && !(d->flags & SERIAL_FUNCTIONS))) corrupt(d, "bad package fields");
  for (int i = 0; i < n; i++) {
    size_t k = rd_count(d, 1);
    const unsigned char *key = rd_bytes(d, k);
    size_t v = rd_count(d, 1);
    const unsigned char *val = rd_bytes(d, v);
    if (!((k == 4 && memcmp(key, "path", 4) == 0) || (k == 5 && memcmp(key, "cpath", 5) == 0)))
      corrupt(d, "bad package field");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "package") == LUA_TTABLE) {
      lua_pushlstring(L, (const char *)val, v);
      lua_setfield(L, -2, k == 4 ? "path" : "cpath");
    }
    lua_pop(L, 2);
  }
  if (n > 0 && (d->flags & SERIAL_TASKENV)) sandbox_paths_set(L); /* put back after */
}

/* Globals and additions to standard tables, after the value. */
static void dec_extras(dec *d) {
  lua_State *L = d->L;
  int kind;
  while ((kind = rd_byte(d)) != 0) {
    if (kind == 1) {
      dec_string(d, "global name is not a string");
      dec_value(d);
      push_env(d);
      lua_insert(L, -3);
      lua_rawset(L, -3);
      lua_pop(L, 1);
    } else if (kind == 2 && (d->flags & SERIAL_FUNCTIONS)) {
      const char *t = dec_string(d, "table name is not a string");
      dec_string(d, "key is not a string");
      lua_rawgeti(L, d->st, R_BASEKEYS);
      lua_pushvalue(L, -2);
      if (lua_rawget(L, -2) != LUA_TNIL) corrupt(d, "a standard function replaced");
      lua_pop(L, 2);
      lua_rawgeti(L, d->st, R_STDTABS);
      if (lua_getfield(L, -1, t) != LUA_TTABLE) corrupt(d, "not a standard table");
      lua_replace(L, -4);
      lua_pop(L, 1);
      dec_value(d);
      lua_rawset(L, -3);
      lua_pop(L, 1);
    } else {
      corrupt(d, "bad section");
    }
  }
}

static int dec_main(lua_State *L) {
  dec *d = lua_touserdata(L, S_DEC);
  const unsigned char *h = d->p;
  if (left(d) < SERIAL_HEADER || memcmp(h, SERIAL_MAGIC, 4) != 0)
    return luaL_error(L, "cannot decode: not a dusk frame");
  if (h[4] != SERIAL_VERSION) return luaL_error(L, "cannot decode: frame format %d", h[4]);
  if (h[5] != ((LUA_VERSION_NUM / 100) << 4 | (LUA_VERSION_NUM % 100)) ||
      h[6] != (sizeof(lua_Integer) | sizeof(lua_Number) << 4))
    return luaL_error(L, "cannot decode: frame from another Lua version or build");
  if (h[7] & ~SERIAL_FZSTD) return luaL_error(L, "cannot decode: unknown flags");
  uint64_t raw = 0;
  for (int i = 0; i < 8; i++) raw |= (uint64_t)h[8 + i] << (8 * i);
  d->p += SERIAL_HEADER;
  if (h[7] & SERIAL_FZSTD) {
    unsigned long long size = ZSTD_getFrameContentSize(d->p, left(d));
    if (size != raw || raw > SERIAL_MAXRAW) corrupt(d, "bad compressed size");
    unsigned char *out = lua_newuserdatauv(L, (size_t)raw, 0);
    ZSTD_DCtx *dc = ZSTD_createDCtx_advanced((ZSTD_customMem){base_zalloc, base_zfree, NULL});
    if (dc == NULL) return luaL_error(L, "not enough memory");
    size_t got = ZSTD_decompressDCtx(dc, out, (size_t)raw, d->p, left(d));
    ZSTD_freeDCtx(dc);
    if (ZSTD_isError(got) || got != raw) corrupt(d, "bad compressed data");
    lua_replace(L, S_DEC); /* keeps the bytes alive */
    d->p = out;
    d->end = out + raw;
  } else if (raw != left(d)) {
    corrupt(d, "wrong payload length");
  }
  lua_settop(L, S_ENV);
  luaL_checkstack(L, 24, NULL);
  serial_state(L);
  lua_rawgeti(L, S_ST, R_PROTOS);
  lua_settop(L, S_FIRST + DEC_FIRST - 1); /* the rest: made when needed */
  d->st = S_ST;
  d->env = S_ENV;
  d->fenv = S_FENV;
  d->refs = S_REFS;
  d->cache = S_CACHE;
  dec_paths(d);
  dec_value(d);
  dec_extras(d);
  if (d->p != d->end) corrupt(d, "bytes after the value");
  if (lua_istable(L, S_REFS) && d->nrefs <= SERIAL_REUSE) {
    for (lua_Integer i = DEC_FIRST + 1; i <= d->nrefs; i++) {
      lua_pushnil(L);
      lua_rawseti(L, S_REFS, i);
    }
    lua_pushvalue(L, S_REFS);
    lua_rawseti(L, S_ST, R_DECTAB);
  }
  return 1;
}

int serial_decode(lua_State *L, const void *p, size_t n, int env_idx, int flags) {
  if (!lua_checkstack(L, 4)) return LUA_ERRMEM;
  if (env_idx != 0) env_idx = lua_absindex(L, env_idx);
  dec d;
  memset(&d, 0, sizeof d);
  d.L = L;
  d.p = p;
  d.end = d.p + n;
  d.flags = flags;
  d.cells.v = d.cells.inl;
  d.protos.v = d.protos.inl;
  d.cells.cap = d.protos.cap = sizeof d.cells.inl / sizeof d.cells.inl[0];
  d.cells.slot = S_CELLS;
  d.protos.slot = S_PROTOS;
  lua_pushcfunction(L, dec_main);
  lua_pushlightuserdata(L, &d);
  if (env_idx != 0) lua_pushvalue(L, env_idx);
  else lua_pushglobaltable(L);
  return lua_pcall(L, 2, 1, 0);
}
