/*
 * luabc: the main function of a Lua 5.4 dump (see luabc.h).
 *
 * The layout follows Lua 5.4's ldump.c: a header, the number of upvalues
 * of the main closure, then the function: source, line range, parameter
 * count, vararg flag, stack size, code, constants (then upvalues, nested
 * functions and debug information, not read here).  Sizes are read by
 * luabc_size.
 */
#include "serial/luabc.h"

#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"

/* The check values of ldump.c's header. */
#define LUAC_DATA "\x19\x93\r\n\x1a\n"
#define LUAC_INT 0x5678
#define LUAC_NUM ((lua_Number)370.5)

typedef struct reader {
  const unsigned char *p, *end;
  int bad;
} reader;

static const unsigned char *take(reader *r, size_t n) {
  if (r->bad || (size_t)(r->end - r->p) < n) {
    r->bad = 1;
    return NULL;
  }
  const unsigned char *at = r->p;
  r->p += n;
  return at;
}

static int byte(reader *r) {
  const unsigned char *b = take(r, 1);
  return b ? *b : 0;
}

static size_t size(reader *r) {
  size_t x = 0, n = r->bad ? 0 : luabc_size(r->p, r->end, &x);
  if (n == 0) {
    r->bad = 1;
    return 0;
  }
  r->p += n;
  return x;
}

/* A string's bytes and length; NULL for a missing one. */
static const char *string(reader *r, size_t *n) {
  size_t sz = size(r);
  *n = sz ? sz - 1 : 0;
  return sz ? (const char *)take(r, sz - 1) : NULL;
}

static int header(reader *r) {
  lua_Integer i;
  lua_Number d;
  const unsigned char *sig = take(r, 4);
  if (!sig || memcmp(sig, LUA_SIGNATURE, 4) != 0) return 0;
  if (byte(r) != 0x54 || byte(r) != 0) return 0;
  const unsigned char *data = take(r, 6);
  if (!data || memcmp(data, LUAC_DATA, 6) != 0) return 0;
  if (byte(r) != 4 || byte(r) != sizeof(lua_Integer) || byte(r) != sizeof(lua_Number))
    return 0;
  const unsigned char *pi = take(r, sizeof i), *pd = take(r, sizeof d);
  if (!pi || !pd) return 0;
  memcpy(&i, pi, sizeof i);
  memcpy(&d, pd, sizeof d);
  return i == LUAC_INT && d == LUAC_NUM;
}

/* lua_dump's writer: the buffer starts at the first write, as lstrlib.c's
 * string.dump does, since lua_dump reads the function off the top of the
 * stack first. */
typedef struct dumpbuf {
  int init;
  luaL_Buffer b;
} dumpbuf;

static int dump_writer(lua_State *L, const void *p, size_t sz, void *ud) {
  dumpbuf *d = ud;
  if (!d->init) {
    d->init = 1;
    luaL_buffinit(L, &d->b);
  }
  luaL_addlstring(&d->b, p, sz);
  return 0;
}

int luabc_dump(lua_State *L, int idx, int strip) {
  if (lua_type(L, idx) != LUA_TFUNCTION || lua_iscfunction(L, idx)) return -1;
  dumpbuf d = {0};
  lua_pushvalue(L, idx);
  if (lua_dump(L, dump_writer, &d, strip) != 0 || !d.init) {
    lua_settop(L, lua_gettop(L) - (d.init ? 2 : 1)); /* the buffer's box, the function */
    return -1;
  }
  luaL_pushresult(&d.b);
  lua_remove(L, -2);
  return 0;
}

const char *luabc_read(const char *b, size_t n, luabc_func **out) {
  reader r = {(const unsigned char *)b, (const unsigned char *)b + n, 0};
  *out = NULL;
  if (!header(&r)) return r.bad ? "truncated bytecode" : "not Lua 5.4 bytecode of this build";
  size_t srclen;
  byte(&r); /* upvalues of the main closure */
  string(&r, &srclen);
  size(&r); /* linedefined, lastlinedefined */
  size(&r);
  int numparams = byte(&r), is_vararg = byte(&r), maxstack = byte(&r);
  size_t ncode = size(&r);
  const unsigned char *code = take(&r, ncode > SIZE_MAX / 4 ? SIZE_MAX : ncode * 4);
  size_t nk = size(&r);
  if (r.bad || nk > (size_t)(r.end - r.p)) return "truncated bytecode"; /* a byte a constant at least */
  /* code, constants, then their strings: one block */
  size_t strbytes = (size_t)(r.end - r.p);
  luabc_func *f = base_malloc(sizeof *f + nk * sizeof(luabc_const) + ncode * 4 + strbytes);
  if (f == NULL) return "out of memory";
  luabc_const *k = (luabc_const *)(f + 1);
  uint32_t *fcode = (uint32_t *)(k + nk);
  char *strs = (char *)(fcode + ncode);
  memcpy(fcode, code, ncode * 4);
  for (size_t i = 0; i < nk; i++) {
    luabc_const *c = &k[i];
    memset(c, 0, sizeof *c);
    int tag = byte(&r);
    const unsigned char *v;
    switch (tag) {
    case LUABC_TNIL: c->type = LUA_TNIL; break;
    case LUABC_TFALSE: case LUABC_TTRUE: c->type = LUA_TBOOLEAN; c->b = tag == LUABC_TTRUE; break;
    case LUABC_TINT:
      c->type = LUA_TNUMBER;
      c->isint = 1;
      if ((v = take(&r, sizeof c->i)) != NULL) memcpy(&c->i, v, sizeof c->i);
      break;
    case LUABC_TFLT:
      c->type = LUA_TNUMBER;
      if ((v = take(&r, sizeof c->d)) != NULL) memcpy(&c->d, v, sizeof c->d);
      break;
    case LUABC_TSHRSTR: case LUABC_TLNGSTR: {
      const char *s = string(&r, &c->n);
      c->type = LUA_TSTRING;
      if (s != NULL) memcpy(strs, s, c->n);
      c->s = strs;
      strs += c->n;
      break;
    }
    default: r.bad = 1;
    }
    if (r.bad) {
      base_free(f);
      return "truncated bytecode";
    }
  }
  f->numparams = numparams;
  f->is_vararg = is_vararg;
  f->maxstack = maxstack;
  f->ncode = ncode;
  f->nk = nk;
  f->code = fcode;
  f->k = k;
  *out = f;
  return NULL;
}
