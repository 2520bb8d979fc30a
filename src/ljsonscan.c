/*
 * ljsonscan: record functions run in C, for dusk.json (see jsonprog.h).
 *
 *   json.compile(f) -> a program, or nil and why f does not translate
 *   json.each_record(path, opts, decode, stages, all, decoded, rest)
 *       -> number of lines
 *
 * each_record is the start of a Bag pipeline read_text -> map(decode) ->
 * stages, where every stage is {"filter" | "remove" | "map", program}:
 * for each line of the file (io.each_line's 'path' and 'opts') it runs
 * the programs on the line's text and calls rest(value) with what comes
 * out, or nothing when a filter drops it.  Where a program bails, the
 * line is given to Lua: decoded(decode(line)) runs the stages as Lua
 * functions (they are pure, so running them again changes nothing), and
 * all(line) when the line is not an object or array.  So the Lua
 * functions decide whatever the programs cannot, and raise the errors.
 */
#include <string.h>

#include <lauxlib.h>

#include "json/jsonprog.h"
#include "lio.h"
#include "ljson.h"
#include "luabc.h"

#define PROGRAM "dusk.json.program"
#define SCAN "dusk.json.scan"

/* Argument positions of each_record. */
enum { A_PATH = 1, A_OPTS, A_DECODE, A_STAGES, A_ALL, A_DECODED, A_REST, A_NULL };

typedef struct pbox { jsonprog *p; } pbox;

enum { S_FILTER, S_REMOVE, S_MAP };

typedef struct stage {
  int kind;
  const jsonprog *prog;
} stage;

/* What each_record holds while it runs (a to-be-closed userdata). */
typedef struct scan {
  jsondoc *doc;
  jsonprog_rec *rec;
  uint64_t ids;
  int nstages;
  stage stages[];
} scan;

static int program_gc(lua_State *L) {
  pbox *b = luaL_checkudata(L, 1, PROGRAM);
  jsonprog_free(b->p);
  b->p = NULL;
  return 0;
}

static int scan_close(lua_State *L) {
  scan *s = luaL_checkudata(L, 1, SCAN);
  jsonprog_rec_free(s->rec);
  s->rec = NULL;
  jsondoc_free(s->doc);
  s->doc = NULL;
  return 0;
}

/* lua_dump's writer: the buffer starts at the first write, as
 * lstrlib.c's string.dump does, since lua_dump needs the function on top
 * when it is called. */
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

static int l_compile(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  if (lua_iscfunction(L, 1)) {
    lua_pushnil(L);
    lua_pushliteral(L, "a C function");
    return 2;
  }
  pbox *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->p = NULL;
  luaL_setmetatable(L, PROGRAM);
  dumpbuf d = {0};
  lua_pushvalue(L, 1);
  lua_dump(L, dump_writer, &d, 1);
  if (!d.init) return luaL_error(L, "json.compile: the function gave no bytecode");
  luaL_pushresult(&d.b);
  size_t n;
  const char *dump = lua_tolstring(L, -1, &n);
  luabc_func *f;
  const char *err = luabc_read(dump, n, &f);
  if (err != NULL) return luaL_error(L, "json.compile: %s", err);
  char why[96];
  b->p = jsonprog_compile(f, why, sizeof why);
  if (b->p == NULL) {
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  lua_settop(L, 2);
  return 1;
}

/* Pushes a value a program gave, or returns 0 when Lua must make it (a
 * place that cannot be read here). */
static int push_value(lua_State *L, scan *s, jsonprog_val *v, const char *line, size_t len) {
  if (jsonprog_resolve(s->rec, v) != JSONPROG_OK) return 0;
  switch (v->type) {
  case JSONPROG_NIL: lua_pushnil(L); return 1;
  case JSONPROG_FALSE: lua_pushboolean(L, 0); return 1;
  case JSONPROG_TRUE: lua_pushboolean(L, 1); return 1;
  case JSONPROG_INT: lua_pushinteger(L, (lua_Integer)v->i); return 1;
  case JSONPROG_FLOAT: lua_pushnumber(L, (lua_Number)v->d); return 1;
  case JSONPROG_STRING: lua_pushlstring(L, v->s, v->n); return 1;
  case JSONPROG_NULL: lua_pushvalue(L, A_NULL); return 1;
  default: break;
  }
  /* a record: decode the line and read down the path, as Lua would */
  jsonprog_step steps[32];
  int depth = jsonprog_path(s->rec, v->node, steps, 32);
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
static int to_lua(lua_State *L, const char *line, size_t len, int decoded) {
  lua_pushvalue(L, decoded ? A_DECODED : A_ALL);
  if (decoded) lua_pushvalue(L, A_DECODE);
  lua_pushlstring(L, line, len);
  if (decoded) lua_call(L, 1, 1);
  return lua_pcall(L, 1, 0, 0);
}

static int scan_line(lua_State *L, void *ud, const char *line, size_t len) {
  scan *s = ud;
  jsonprog_val v, out;
  if (jsonprog_rec_open(s->rec, line, len, ++s->ids, &v) != JSONPROG_OK)
    return to_lua(L, line, len, 0);
  for (int j = 0; j < s->nstages; j++) {
    const stage *st = &s->stages[j];
    if (jsonprog_run(st->prog, s->rec, &v, &out) != JSONPROG_OK) return to_lua(L, line, len, 1);
    if (st->kind == S_MAP) {
      if (jsonprog_resolve(s->rec, &out) != JSONPROG_OK || out.type == JSONPROG_NIL)
        return to_lua(L, line, len, 1); /* Lua reads it, or raises for nil */
      v = out;
      continue;
    }
    int t = jsonprog_truth(s->rec, &out);
    if (t < 0) return to_lua(L, line, len, 1);
    if (t == (st->kind == S_REMOVE)) return LUA_OK;
  }
  lua_pushvalue(L, A_REST);
  if (!push_value(L, s, &v, line, len)) {
    lua_pop(L, 1);
    return to_lua(L, line, len, 1);
  }
  return lua_pcall(L, 1, 0, 0);
}

static int l_each_record(lua_State *L) {
  const char *path = luaL_checkstring(L, A_PATH);
  luaL_checktype(L, A_DECODE, LUA_TFUNCTION);
  luaL_checktype(L, A_STAGES, LUA_TTABLE);
  for (int a = A_ALL; a <= A_REST; a++) luaL_checktype(L, a, LUA_TFUNCTION);
  lua_settop(L, A_REST);
  lua_pushvalue(L, lua_upvalueindex(1)); /* A_NULL */
  lua_Integer n = luaL_len(L, A_STAGES);
  luaL_argcheck(L, n >= 0 && n <= 64, A_STAGES, "at most 64 stages");
  scan *s = lua_newuserdatauv(L, sizeof *s + (size_t)n * sizeof(stage), 1);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, SCAN);
  lua_toclose(L, -1);
  lua_pushvalue(L, A_STAGES); /* keeps the programs */
  lua_setiuservalue(L, -2, 1);
  for (lua_Integer j = 1; j <= n; j++) {
    lua_geti(L, A_STAGES, j);
    lua_geti(L, -1, 1);
    const char *kind = luaL_checkstring(L, -1);
    lua_geti(L, -2, 2);
    pbox *b = luaL_checkudata(L, -1, PROGRAM);
    stage *st = &s->stages[j - 1];
    st->kind = strcmp(kind, "map") == 0 ? S_MAP : strcmp(kind, "remove") == 0 ? S_REMOVE
                                                                                : S_FILTER;
    st->prog = b->p;
    lua_pop(L, 3);
    if (st->prog == NULL) return luaL_error(L, "stage %I has no program", j);
  }
  s->nstages = (int)n;
  s->doc = jsondoc_new();
  s->rec = s->doc ? jsonprog_rec_new(s->doc) : NULL;
  if (s->rec == NULL) return luaL_error(L, "dusk.json: not enough memory");
  int nres = lio_each_line(L, path, scan_line, s);
  /* results above the scan box, which closes when this returns */
  return nres;
}

void ljson_open_scan(lua_State *L, int mod, int null) {
  luaL_newmetatable(L, PROGRAM);
  lua_pushcfunction(L, program_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newmetatable(L, SCAN);
  lua_pushcfunction(L, scan_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, scan_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 2);
  lua_pushcfunction(L, l_compile);
  lua_setfield(L, mod, "compile");
  lua_pushvalue(L, null);
  lua_pushcclosure(L, l_each_record, 1);
  lua_setfield(L, mod, "each_record");
}
