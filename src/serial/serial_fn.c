/*
 * serial_fn: what the encoder needs to know about a Lua function, read
 * from its lua_dump output (Lua 5.4 binary chunk format, ldump.c).
 *
 * The C API cannot copy a closure: a fresh closure of a prototype comes
 * only from running an OP_CLOSURE.  So the encoder sends a "factory": a
 * chunk whose main function has the user's function as its only child,
 * with the child's upvalue descriptors rewritten to capture the factory's
 * own parameters:
 *
 *     main(p1..pn): CLOSURE R[n] := child; RETURN R[n] (closing upvalues)
 *
 * The receiver loads the factory once per state and calls it for every
 * decode: a closure costs one call, its n cells are fresh (closed on
 * return), and the decoder fills them with lua_setupvalue or shares them
 * with lua_upvaluejoin.  The child keeps its own source and line info, so
 * tracebacks name the user's file and line.
 *
 * The same walk over the dump finds the global names the function and its
 * nested functions read (OP_GETTABUP on the _ENV upvalue with a constant
 * key) and its string constants (field and method names, which reveal
 * additions to standard tables such as a user's string.trim).
 */
#include <string.h>

#include <lauxlib.h>

#include "base/hash.h"
#include "serial/luabc.h"
#include "serial/serial_int.h"

#if LUA_VERSION_NUM != 504
#error "serial_fn.c reads the Lua 5.4 bytecode format"
#endif


#define DUMP_HEADER 31 /* signature .. LUAC_NUM */
#define FACTORY_SOURCE "=?"

typedef struct reader {
  lua_State *L;
  const unsigned char *p, *end;
  int globals, fields, seen; /* stack indices of the name lists */
  size_t upvals;             /* offset of the main function's upvalues */
  const unsigned char *start;
} reader;

static void bad(reader *r) { /* raises: never returns */
  luaL_error(r->L, "cannot read a function's bytecode (unexpected format)");
}

static size_t rd_size(reader *r) {
  size_t x, n = luabc_size(r->p, r->end, &x);
  if (n == 0) bad(r);
  r->p += n;
  return x;
}

static void rd_skip(reader *r, size_t n) {
  if ((size_t)(r->end - r->p) < n) bad(r);
  r->p += n;
}

static void skip_string(reader *r) {
  size_t n = rd_size(r);
  if (n > 0) rd_skip(r, n - 1);
}

/* Appends 'name' to the list at 'list' unless it is there already;
 * 'seen' maps each name to the lists holding it, as bits. */
static void add_name(reader *r, int list, const unsigned char *s, size_t n) {
  lua_State *L = r->L;
  int bit = list == r->globals ? 1 : 2;
  lua_pushlstring(L, (const char *)s, n);
  lua_pushvalue(L, -1);
  lua_rawget(L, r->seen);
  lua_Integer bits = lua_tointeger(L, -1);
  lua_pop(L, 1);
  if (bits & bit) {
    lua_pop(L, 1);
    return;
  }
  lua_pushvalue(L, -1);
  lua_pushinteger(L, bits | bit);
  lua_rawset(L, r->seen);
  lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
}

/* Reads one function.  For the main one 'env' is the index of its _ENV
 * upvalue (-1: none); for a nested one, its parent's. */
static void read_function(reader *r, int env, int top, int depth) {
  if (depth > SERIAL_FRAMEDEPTH) bad(r);
  skip_string(r);             /* source */
  rd_size(r); rd_size(r);     /* linedefined, lastlinedefined */
  rd_skip(r, 3);              /* numparams, is_vararg, maxstacksize */
  size_t ncode = rd_size(r);
  const unsigned char *code = r->p;
  if (ncode > (size_t)(r->end - r->p) / 4) bad(r);
  rd_skip(r, ncode * 4);
  size_t nk = rd_size(r);
  if (nk > (size_t)(r->end - r->p)) bad(r);
  /* where each string constant is, for the GETTABUP keys below */
  const unsigned char **ks = lua_newuserdatauv(r->L, (nk + 1) * 2 * sizeof *ks, 0);
  for (size_t i = 0; i < nk; i++) {
    int tag = *r->p++;
    ks[2 * i] = ks[2 * i + 1] = NULL;
    if (tag == LUABC_TINT) rd_skip(r, sizeof(lua_Integer));
    else if (tag == LUABC_TFLT) rd_skip(r, sizeof(lua_Number));
    else if (tag == LUABC_TSHRSTR || tag == LUABC_TLNGSTR) {
      size_t n = rd_size(r);
      if (n == 0) bad(r);
      ks[2 * i] = r->p;
      rd_skip(r, n - 1);
      ks[2 * i + 1] = r->p;
      if (tag == LUABC_TSHRSTR) add_name(r, r->fields, ks[2 * i], n - 1);
    } else if (tag != LUABC_TNIL && tag != LUABC_TFALSE && tag != LUABC_TTRUE) bad(r);
    if (r->p >= r->end) bad(r);
  }
  size_t nup = rd_size(r);
  if (top) r->upvals = (size_t)(r->p - r->start);
  const unsigned char *ups = r->p;
  if (nup > (size_t)(r->end - r->p) / 3) bad(r);
  rd_skip(r, nup * 3);
  if (!top) { /* a child's _ENV is the upvalue it takes from its parent's */
    int penv = env;
    env = -1;
    for (size_t i = 0; penv >= 0 && i < nup; i++)
      if (ups[3 * i] == 0 && ups[3 * i + 1] == penv) env = (int)i;
  }
  if (env >= 0) {
    for (size_t i = 0; i < ncode; i++) {
      uint32_t ins;
      memcpy(&ins, code + 4 * i, 4);
      unsigned b = (unsigned)LUABC_B(ins), c = (unsigned)LUABC_C(ins);
      if (LUABC_OP(ins) == LUABC_GETTABUP && b == (unsigned)env && c < nk && ks[2 * c])
        add_name(r, r->globals, ks[2 * c], (size_t)(ks[2 * c + 1] - ks[2 * c]));
    }
  }
  lua_pop(r->L, 1); /* ks */
  size_t np = rd_size(r);
  for (size_t i = 0; i < np; i++) read_function(r, env, 0, depth + 1);
  size_t n = rd_size(r); /* lineinfo */
  rd_skip(r, n);
  n = rd_size(r);        /* abslineinfo */
  for (size_t i = 0; i < n; i++) { rd_size(r); rd_size(r); }
  n = rd_size(r);        /* locvars */
  for (size_t i = 0; i < n; i++) { skip_string(r); rd_size(r); rd_size(r); }
  n = rd_size(r);        /* upvalue names */
  for (size_t i = 0; i < n; i++) skip_string(r);
}

static void add_size(luaL_Buffer *b, size_t x) { /* ldump.c dumpSize */
  unsigned char buf[sizeof(size_t) * 8 / 7 + 1];
  int n = 0;
  do {
    buf[sizeof buf - (++n)] = x & 0x7f;
    x >>= 7;
  } while (x != 0);
  buf[sizeof buf - 1] |= 0x80;
  luaL_addlstring(b, (char *)buf + sizeof buf - n, (size_t)n);
}

static void add_ins(luaL_Buffer *b, uint32_t ins) {
  luaL_addlstring(b, (char *)&ins, 4);
}

/* Pushes the factory chunk for the dump 'd' (see the note at the top). */
static void push_factory(lua_State *L, const unsigned char *d, size_t n,
                         size_t upvals, unsigned nups) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, (const char *)d, DUMP_HEADER);
  luaL_addchar(&b, 0);                /* the factory has no upvalues */
  add_size(&b, sizeof FACTORY_SOURCE);
  luaL_addstring(&b, FACTORY_SOURCE);
  add_size(&b, 0); add_size(&b, 0);   /* linedefined, lastlinedefined */
  luaL_addchar(&b, (char)nups);       /* numparams: nil unless passed */
  luaL_addchar(&b, 0);                /* is_vararg */
  luaL_addchar(&b, (char)(nups + 1 < 2 ? 2 : nups + 1));
  add_size(&b, 2);
  add_ins(&b, LUABC_CLOSURE | nups << 7);                      /* Bx = 0 */
  add_ins(&b, LUABC_RETURN | nups << 7 | 1u << 15 | 2u << 16); /* k: close */
  add_size(&b, 0);                    /* constants */
  add_size(&b, 0);                    /* upvalues */
  add_size(&b, 1);                    /* protos: the user's function */
  luaL_addlstring(&b, (const char *)d + DUMP_HEADER + 1, upvals - DUMP_HEADER - 1);
  for (unsigned i = 0; i < nups; i++) {
    luaL_addchar(&b, 1);              /* instack: the factory's parameter i */
    luaL_addchar(&b, (char)i);
    luaL_addchar(&b, (char)d[upvals + 3 * i + 2]); /* kind */
  }
  luaL_addlstring(&b, (const char *)d + upvals + 3 * nups, n - upvals - 3 * nups);
  for (int i = 0; i < 4; i++) add_size(&b, 0); /* no debug info */
  luaL_pushresult(&b);
}

const serial_fninfo *serial_fn_info(lua_State *L, int st, int idx, int envup) {
  idx = lua_absindex(L, idx);
  lua_rawgeti(L, st, R_FNINFO);
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TUSERDATA) {
    const serial_fninfo *c = lua_touserdata(L, -1);
    if (c->envup == envup) {
      lua_remove(L, -2);
      return c;
    }
  }
  lua_pop(L, 1);
  int cache = lua_gettop(L);

  if (luabc_dump(L, idx, 0) != 0) luaL_error(L, "cannot dump a function");
  size_t n;
  const unsigned char *d = (const unsigned char *)lua_tolstring(L, -1, &n);

  serial_fninfo *c = lua_newuserdatauv(L, sizeof *c, F_NINFO);
  int info = lua_gettop(L);
  reader r;
  r.L = L;
  r.start = d;
  r.p = d + DUMP_HEADER + 1;
  r.end = d + n;
  lua_newtable(L); r.globals = lua_gettop(L);
  lua_newtable(L); r.fields = lua_gettop(L);
  lua_newtable(L); r.seen = lua_gettop(L);
  if (n <= DUMP_HEADER + 1 || memcmp(d, LUA_SIGNATURE, 4) != 0) bad(&r);
  unsigned nups = d[DUMP_HEADER];
  read_function(&r, envup - 1, 1, 0);
  if (r.p != r.end) bad(&r);
  if (nups > 254) luaL_error(L, "cannot send a function with %d upvalues", nups);
  lua_pop(L, 1); /* seen */
  c->names = lua_rawlen(L, r.globals) + lua_rawlen(L, r.fields) > 0;
  lua_setiuservalue(L, info, F_FIELDS);
  lua_setiuservalue(L, info, F_GLOBALS);
  c->envup = envup;
  c->nups = (int)nups;
  push_factory(L, d, n, r.upvals, nups);
  size_t len;
  const unsigned char *chunk = (const unsigned char *)lua_tolstring(L, -1, &len);
  c->hash = hash_bytes(chunk, len);
  lua_setiuservalue(L, info, F_CHUNK);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, info);
  lua_rawset(L, cache);
  lua_replace(L, cache);
  lua_settop(L, cache);
  return c;
}
