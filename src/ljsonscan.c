/*
 * ljsonscan: record functions run in C (pure.h), for dusk.json.
 *
 *   json.each_record(path, opts, decode, stages, all, decoded, rest)
 *       -> number of lines
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
 */
#include <string.h>

#include <lauxlib.h>

#include "lio.h"
#include "ljson.h"
#include "lpure.h"

#define SCAN "dusk.json.scan"

/* Argument positions of each_record. */
enum { A_PATH = 1, A_OPTS, A_DECODE, A_STAGES, A_ALL, A_DECODED, A_REST, A_NULL };

/* What each_record holds while it runs (a to-be-closed userdata). */
typedef struct scan {
  pure_rec *rec;
  int nstages;
  lpure_stage stages[LPURE_MAXSTAGES];
} scan;

static int scan_close(lua_State *L) {
  scan *s = luaL_checkudata(L, 1, SCAN);
  pure_rec_free(s->rec);
  s->rec = NULL;
  return 0;
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
    to_lua(L, line, len, 0);
    return;
  }
  int kept = lpure_run_stages(s->stages, s->nstages, s->rec, &v);
  if (kept == 0) return;
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
  lua_settop(L, A_REST);
  lua_pushvalue(L, lua_upvalueindex(1)); /* A_NULL */
  scan *s = lua_newuserdatauv(L, sizeof *s, 1);
  memset(s, 0, sizeof *s);
  luaL_setmetatable(L, SCAN);
  lua_toclose(L, -1);
  lua_pushvalue(L, A_STAGES); /* keeps the programs */
  lua_setiuservalue(L, -2, 1);
  s->nstages = lpure_stages(L, A_STAGES, s->stages, LPURE_MAXSTAGES);
  s->rec = pure_rec_new();
  if (s->rec == NULL) return luaL_error(L, "dusk.json: not enough memory");
  int nres = lio_each_line(L, path, scan_line, s);
  /* results above the scan box, which closes when this returns */
  return nres;
}

void ljson_open_scan(lua_State *L, int mod, int null) {
  luaL_newmetatable(L, SCAN);
  lua_pushcfunction(L, scan_close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, scan_close);
  lua_setfield(L, -2, "__close");
  lua_pop(L, 1);
  lua_pushvalue(L, null);
  lua_pushcclosure(L, l_each_record, 1);
  lua_setfield(L, mod, "each_record");
}
