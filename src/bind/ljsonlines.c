/*
 * ljsonlines: JSON lines through record functions run in C (pure/purevm.h), for dusk.json.
 *
 *   json.each_record(path, opts, decode, stages, all, decoded, rest
 *                    [, counts]) -> number of lines
 *
 * each_record is the start of a Bag pipeline read_text -> map(decode) ->
 * stages, where every stage is {"filter" | "remove" | "map", program}
 * (programs from dusk.pure.compile):
 * for each line of the file (io.each_line's 'path' and 'opts') it runs
 * the programs on the line's text and calls rest(value) with what comes
 * out, or nothing when a filter drops it.  Where a program bails, the
 * line is given to Lua: decoded(decode(line)) runs the stages as Lua
 * functions (they are pure, so running them again changes nothing), and
 * all(line) when the line is not an object or array.  So the Lua
 * functions decide whatever the programs cannot, and raise the errors.
 *
 * With 'counts', the partial of a Bag's frequencies ({keys = {...}, vals
 * = {[key] = n}, orig = {[key] = first}}: spec.keyed(), lspec.h) that
 * rest() counts into, the strings the programs make are counted here
 * instead, in a table of C strings, and added to 'counts' before Lua
 * counts anything else (and at the end): so keys keep the order in which
 * they first came, and Lua makes one string per distinct key, not one
 * per line.
 */
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "base/dict.h"
#include "base/hash.h"
#include "base/interrupt.h"
#include "bind/lclass.h"
#include "bind/lio.h"
#include "bind/ljson.h"
#include "bind/lpure.h"
#include "bind/lspec.h"

#define SCAN "dusk.json.scan"

/* Argument positions of each_record. */
enum { A_PATH = 1, A_OPTS, A_DECODE, A_STAGES, A_ALL, A_DECODED, A_REST, A_COUNTS, A_NULL };

/* Strings counted, in the order they first came: entries in 'e', their
 * bytes in 'bytes', found by their hash in 'index' (entry k is the
 * dict's key k). */
typedef struct count_entry {
  size_t off, len;
  lua_Integer n;
} count_entry;

typedef struct counts {
  count_entry *e;
  size_t ne, cape;
  dict index;
  char *bytes;
  size_t used, capb;
} counts;

#define COUNTS_MAXBYTES (64u << 20) /* then they go to Lua (see count) */

/* What each_record holds while it runs (a to-be-closed userdata). */
typedef struct scan {
  pure_rec *rec;
  int nstages;
  int counting;            /* A_COUNTS is a table */
  counts c;
  lpure_stage stages[LPURE_MAXSTAGES];
} scan;

static void counts_free(counts *c) {
  base_free(c->e);
  dict_free(&c->index);
  base_free(c->bytes);
  memset(c, 0, sizeof *c);
}

static int scan_close(lua_State *L) {
  scan *s = luaL_checkudata(L, 1, SCAN);
  pure_rec_free(s->rec);
  s->rec = NULL;
  counts_free(&s->c);
  return 0;
}

/* Adds the counted strings to the partial at A_COUNTS, and empties the
 * table. */
static void flush_counts(lua_State *L, scan *s) {
  counts *c = &s->c;
  if (c->ne == 0) return;
  lua_getfield(L, A_COUNTS, LSPEC_KEYED_KEYS);
  lua_getfield(L, A_COUNTS, LSPEC_KEYED_VALS);
  lua_getfield(L, A_COUNTS, LSPEC_KEYED_ORIG);
  lua_Integer nkeys = (lua_Integer)lua_rawlen(L, -3);
  for (size_t k = 0; k < c->ne; k++) {
    if (k % RT_POLL_EVERY == 0 && rt_interrupt_pending()) rt_interrupt_error(L);
    const count_entry *e = &c->e[k];
    lua_pushlstring(L, c->bytes + e->off, e->len);
    lua_pushvalue(L, -1);
    if (lua_rawget(L, -4) == LUA_TNIL) { /* vals[key] */
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_rawseti(L, -5, ++nkeys);      /* keys[#keys + 1] = key */
      lua_pushvalue(L, -1);
      lua_pushvalue(L, -1);
      lua_rawset(L, -4);                /* orig[key] = key */
      lua_pushinteger(L, e->n);
    } else {
      lua_pushinteger(L, lua_tointeger(L, -1) + e->n);
      lua_remove(L, -2);
    }
    lua_rawset(L, -4);                  /* vals[key] = n */
  }
  lua_pop(L, 3);
  c->ne = 0;
  c->used = 0;
  dict_clear(&c->index);
}

/* Counts the string 'p'['n']; 0 when it cannot (out of memory, or the
 * table is full): then Lua must count it. */
static int count(scan *s, const char *p, size_t n) {
  counts *c = &s->c;
  if (dict_reserve(&c->index) != 0) return 0;
  uint64_t h = hash_bytes(p, n);
  dict_slot *slot;
  for (slot = dict_find(&c->index, h); slot->num1 != 0; slot = dict_next(&c->index, slot, h)) {
    count_entry *e = &c->e[slot->num1 - 1];
    if (e->len == n && memcmp(c->bytes + e->off, p, n) == 0) {
      e->n++;
      return 1;
    }
  }
  if (c->used + n > COUNTS_MAXBYTES) return 0;
  if (c->ne == c->cape) {
    size_t cap = c->cape ? 2 * c->cape : 256;
    count_entry *e = base_realloc(c->e, cap * sizeof *e);
    if (e == NULL) return 0;
    c->e = e;
    c->cape = cap;
  }
  if (c->capb - c->used < n) {
    size_t cap = 2 * (c->capb + n);
    char *b = base_realloc(c->bytes, cap);
    if (b == NULL) return 0;
    c->bytes = b;
    c->capb = cap;
  }
  memcpy(c->bytes + c->used, p, n);
  c->e[c->ne++] = (count_entry){c->used, n, 1};
  c->used += n;
  dict_put(&c->index, slot, h);
  return 1;
}

/* Pushes a value a program gave, or returns 0 when Lua must make it (a
 * place that cannot be read here). */
static int push_value(lua_State *L, scan *s, pure_val *v, const char *line, size_t len) {
  if (pure_resolve(s->rec, v) != PURE_OK) return 0;
  switch (v->type) {
  case PURE_NIL: lua_pushnil(L); return 1;
  case PURE_FALSE: lua_pushboolean(L, 0); return 1;
  case PURE_TRUE: lua_pushboolean(L, 1); return 1;
  case PURE_INT: lua_pushinteger(L, (lua_Integer)v->i); return 1;
  case PURE_FLOAT: lua_pushnumber(L, (lua_Number)v->d); return 1;
  case PURE_STRING: lua_pushlstring(L, v->s, v->n); return 1;
  case PURE_NULL: lua_pushvalue(L, A_NULL); return 1;
  default: break;
  }
  /* a record: decode the line and read down the path, as Lua would */
  pure_step steps[32];
  int depth = pure_path(s->rec, v->node, steps, 32);
  if (depth < 0) return 0;
  lua_pushvalue(L, A_DECODE);
  lua_pushlstring(L, line, len);
  lua_call(L, 1, 1);
  for (int k = 0; k < depth; k++) {
    if (steps[k].key) lua_pushlstring(L, steps[k].key, steps[k].klen);
    else lua_pushinteger(L, (lua_Integer)steps[k].index);
    lua_gettable(L, -2);
    lua_remove(L, -2);
  }
  return 1;
}

/* Gives the line to Lua: 'decoded' with its record, or 'all' with the
 * text itself. */
static void to_lua(lua_State *L, const char *line, size_t len, int decoded) {
  lua_pushvalue(L, decoded ? A_DECODED : A_ALL);
  if (decoded) lua_pushvalue(L, A_DECODE);
  lua_pushlstring(L, line, len);
  if (decoded) lua_call(L, 1, 1);
  lua_call(L, 1, 0);
}

static void scan_line(lua_State *L, void *ud, const char *line, size_t len) {
  scan *s = ud;
  pure_val v;
  if (pure_rec_open(s->rec, line, len, &v) != PURE_OK) {
    if (s->counting) flush_counts(L, s);
    to_lua(L, line, len, 0);
    return;
  }
  int kept = lpure_run_stages(s->stages, s->nstages, s->rec, &v);
  if (kept == 0) return;
  if (s->counting) {
    if (kept > 0 && v.type == PURE_STRING && count(s, v.s, v.n)) return;
    flush_counts(L, s); /* Lua counts next */
  }
  if (kept > 0) {
    lua_pushvalue(L, A_REST);
    if (push_value(L, s, &v, line, len)) {
      lua_call(L, 1, 0);
      return;
    }
    lua_pop(L, 1);
  }
  to_lua(L, line, len, 1);
}

static int l_each_record(lua_State *L) {
  const char *path = luaL_checkstring(L, A_PATH);
  luaL_checktype(L, A_DECODE, LUA_TFUNCTION);
  luaL_checktype(L, A_STAGES, LUA_TTABLE);
  for (int a = A_ALL; a <= A_REST; a++) luaL_checktype(L, a, LUA_TFUNCTION);
  if (!lua_isnoneornil(L, A_COUNTS)) luaL_checktype(L, A_COUNTS, LUA_TTABLE);
  lua_settop(L, A_COUNTS);
  lua_pushvalue(L, lua_upvalueindex(1)); /* A_NULL */
  scan *s = lclass_box(L, SCAN, sizeof *s, 1);
  lua_toclose(L, -1);
  lua_pushvalue(L, A_STAGES); /* keeps the programs */
  lua_setiuservalue(L, -2, 1);
  s->nstages = lpure_stages(L, A_STAGES, s->stages, LPURE_MAXSTAGES);
  s->rec = pure_rec_new();
  if (s->rec == NULL) return luaL_error(L, "dusk.json: not enough memory");
  s->counting = lua_istable(L, A_COUNTS);
  int nres = lio_each_line(L, path, scan_line, s);
  if (s->counting && nres > 0 && !lua_isnil(L, -nres)) flush_counts(L, s);
  /* results above the scan box, which closes when this returns */
  return nres;
}

void ljson_open_scan(lua_State *L, int mod, int null) {
  lclass_new(L, SCAN, scan_close, NULL);
  lua_pop(L, 1);
  lua_pushvalue(L, null);
  lua_pushcclosure(L, l_each_record, 1);
  lua_setfield(L, mod, "each_record");
}
