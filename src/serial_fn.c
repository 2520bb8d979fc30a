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

#include "serial_int.h"

#if LUA_VERSION_NUM != 504
#error "serial_fn.c reads the Lua 5.4 bytecode format"
#endif

/* Opcodes and constant tags of Lua 5.4 (lopcodes.h, lobject.h). */
#define OP_GETTABUP 11
#define OP_RETURN 70
#define OP_CLOSURE 79
#define K_NIL 0
#define K_FALSE 1
#define K_TRUE 17
#define K_INT 3
#define K_FLT 19
#define K_SHRSTR 4
#define K_LNGSTR 20

#define DUMP_HEADER 31 /* signature .. LUAC_NUM */
#define FACTORY_SOURCE "=?"

uint64_t serial_hash(const unsigned char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3u;
  return h;
}

static int writer(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  luaL_addlstring((luaL_Buffer *)ud, p, n);
  return 0;
}

typedef struct reader {
  lua_State *L;
  const unsigned char *p, *end;
  int globals, fields, seen; /* stack indices of the name lists */
  size_t upvals;             /* offset of the main function's upvalues */
  const unsigned char *start;
} reader;

static l_noret bad(reader *r) {
  luaL_error(r->L, "cannot read a function's bytecode (unexpected format)");
  for (;;) {} /* not reached */
}

static size_t rd_size(reader *r) {
  size_t x = 0;
  int b;
  do {
    if (r->p >= r->end || x > (SIZE_MAX >> 7)) bad(r);
    b = *r->p++;
    x = (x << 7) | (size_t)(b & 0x7f);
  } while ((b & 0x80) == 0);
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

/* Appends 'name' to the list at 'list' unless 'seen' has it. */
static void add_name(reader *r, int list, const unsigned char *s, size_t n) {
  lua_State *L = r->L;
  lua_pushlstring(L, (const char *)s, n);
  lua_pushvalue(L, -1);
  lua_pushinteger(L, list);
  lua_rawget(L, r->seen); /* seen[name] holds the lists it is in, as bits */
  lua_Integer bits = lua_tointeger(L, -1);
  lua_pop(L, 1);
  int bit = list == r->globals ? 1 : 2;
  if (lua_rawget(L, r->seen) != LUA_TNIL && (lua_tointeger(L, -1) & bit)) {
    lua_pop(L, 2);
    return;
  }
  bits = lua_tointeger(L, -1) | bit;
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_pushinteger(L, bits);
  lua_rawset(L, r->seen);
  lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
}

/* Reads one function; 'env' is the index of its _ENV upvalue or -1. */
static void read_function(reader *r, int env, int top, int depth) {
  if (depth > SERIAL_MAXDEPTH) bad(r);
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
    if (tag == K_INT) rd_skip(r, sizeof(lua_Integer));
    else if (tag == K_FLT) rd_skip(r, sizeof(lua_Number));
    else if (tag == K_SHRSTR || tag == K_LNGSTR) {
      size_t n = rd_size(r);
      if (n == 0) bad(r);
      ks[2 * i] = r->p;
      rd_skip(r, n - 1);
      ks[2 * i + 1] = r->p;
      if (tag == K_SHRSTR) add_name(r, r->fields, ks[2 * i], n - 1);
    } else if (tag != K_NIL && tag != K_FALSE && tag != K_TRUE) bad(r);
    if (r->p >= r->end) bad(r);
  }
  size_t nup = rd_size(r);
  if (top) r->upvals = (size_t)(r->p - r->start);
  const unsigned char *ups = r->p;
  if (nup > (size_t)(r->end - r->p) / 3) bad(r);
  rd_skip(r, nup * 3);
  if (env >= 0) {
    for (size_t i = 0; i < ncode; i++) {
      uint32_t ins;
      memcpy(&ins, code + 4 * i, 4);
      unsigned b = (ins >> 16) & 0xff, c = ins >> 24;
      if ((ins & 0x7f) == OP_GETTABUP && b == (unsigned)env && c < nk && ks[2 * c])
        add_name(r, r->globals, ks[2 * c], (size_t)(ks[2 * c + 1] - ks[2 * c]));
    }
  }
  lua_pop(r->L, 1); /* ks */
  size_t np = rd_size(r);
  for (size_t i = 0; i < np; i++) {
    /* a child's _ENV is the upvalue it takes from ours */
    int cenv = -1;
    const unsigned char *save = r->p;
    (void)save;
    read_child(r, env, ups, nup, depth);
  }
  size_t n = rd_size(r); /* lineinfo */
  rd_skip(r, n);
  n = rd_size(r);        /* abslineinfo */
  for (size_t i = 0; i < n; i++) { rd_size(r); rd_size(r); }
  n = rd_size(r);        /* locvars */
  for (size_t i = 0; i < n; i++) { skip_string(r); rd_size(r); rd_size(r); }
  n = rd_size(r);        /* upvalue names */
  for (size_t i = 0; i < n; i++) skip_string(r);
}
