/*
 * lpure: the Lua module "dusk.pure", pure Lua functions run in C.
 *
 *   pure.compile(f) -> a program, or nil and why f does not translate
 *   pure.each_range(first, last, stages, all, rest)
 *       for x = first, last: the stages, then rest(value)
 *   pure.fold_range(first, last, stages, all, "sum" | "count", acc)
 *       -> acc after adding (or counting) each value that comes out
 *
 * These run the start of a Bag pipeline over an integer range: stages
 * are {"filter" | "remove" | "map", program}.  Where a program bails for
 * an element, all(x) runs the whole pipeline on it in Lua (the stages
 * are pure, so running them again changes nothing); fold_range's all
 * returns true and the value, or nothing for a dropped element.  Sums
 * are added in order with Lua's arithmetic, so the result is the Lua
 * loop's to the bit.  A value that is not a number is added by Lua
 * (raising as Lua does).
 */
#include "bind/lpure.h"

#include <string.h>

#include <lauxlib.h>

#include "base/interrupt.h"
#include "bind/lspec.h"
#include "bind/lclass.h"
#include "serial/luabc.h"

#define PROGRAM "dusk.pure.program"

typedef struct pbox { pure *p; } pbox;

static int program_close(lua_State *L) {
  pbox *b = luaL_checkudata(L, 1, PROGRAM);
  pure_free(b->p);
  b->p = NULL;
  return 0;
}

const pure *lpure_check(lua_State *L, int idx) {
  pbox *b = luaL_checkudata(L, idx, PROGRAM);
  if (b->p == NULL) luaL_argerror(L, idx, "a freed program");
  return b->p;
}

int lpure_stages(lua_State *L, int idx, lpure_stage *st, int max) {
  lua_Integer n = luaL_len(L, idx);
  luaL_argcheck(L, n >= 0 && n <= max, idx, "too many stages");
  for (lua_Integer j = 1; j <= n; j++) {
    lua_geti(L, idx, j);
    lua_geti(L, -1, LSPEC_STAGE_KIND);
    const char *kind = luaL_checkstring(L, -1);
    lua_geti(L, -2, LSPEC_STAGE_PROGRAM);
    st[j - 1].prog = lpure_check(L, -1);
    if (strcmp(kind, "map") == 0) st[j - 1].kind = LPURE_MAP;
    else if (strcmp(kind, "filter") == 0) st[j - 1].kind = LPURE_FILTER;
    else if (strcmp(kind, "remove") == 0) st[j - 1].kind = LPURE_REMOVE;
    else luaL_error(L, "stage %I: unknown kind '%s'", j, kind);
    lua_pop(L, 3);
  }
  return (int)n;
}

static int l_compile(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  if (lua_iscfunction(L, 1)) {
    lua_pushnil(L);
    lua_pushliteral(L, "a C function");
    return 2;
  }
  pbox *b = lclass_box(L, PROGRAM, sizeof *b, 0);
  if (luabc_dump(L, 1, 1) != 0) return luaL_error(L, "pure.compile: the function gave no bytecode");
  size_t n;
  const char *dump = lua_tolstring(L, -1, &n);
  luabc_func *f;
  const char *err = luabc_read(dump, n, &f);
  if (err != NULL) return luaL_error(L, "pure.compile: %s", err);
  char why[96];
  b->p = pure_compile(f, why, sizeof why);
  if (b->p == NULL) {
    lua_pushnil(L);
    lua_pushstring(L, why);
    return 2;
  }
  lua_settop(L, 2);
  return 1;
}

int lpure_run_stages(const lpure_stage *st, int n, pure_rec *r, pure_val *v) {
  pure_val out;
  for (int j = 0; j < n; j++) {
    if (pure_run(st[j].prog, r, v, &out) != PURE_OK) return -1;
    if (st[j].kind == LPURE_MAP) {
      /* a place is read here; nil makes Lua raise */
      if (pure_resolve(r, &out) != PURE_OK || out.type == PURE_NIL) return -1;
      *v = out;
      continue;
    }
    int t = out.type == PURE_TRUE ? 1 : out.type == PURE_FALSE || out.type == PURE_NIL ? 0
                                                            : pure_truth(r, &out);
    if (t < 0) return -1;
    if (t == (st[j].kind == LPURE_REMOVE)) return 0;
  }
  return 1;
}

static void push_scalar(lua_State *L, const pure_val *v) {
  switch (v->type) {
  case PURE_FALSE: lua_pushboolean(L, 0); break;
  case PURE_TRUE: lua_pushboolean(L, 1); break;
  case PURE_INT: lua_pushinteger(L, (lua_Integer)v->i); break;
  case PURE_FLOAT: lua_pushnumber(L, (lua_Number)v->d); break;
  case PURE_STRING: lua_pushlstring(L, v->s, v->n); break;
  default: lua_pushnil(L); break;
  }
}

/* How many integers first..last holds, counted without overflow. */
static lua_Unsigned span(lua_Integer first, lua_Integer last) {
  return first <= last ? (lua_Unsigned)last - (lua_Unsigned)first + 1 : 0;
}

/* The arguments of each_range and fold_range. */
enum { A_FIRST = 1, A_LAST, A_STAGES, A_ALL, A_REST };

static int l_each_range(lua_State *L) {
  lua_Integer first = luaL_checkinteger(L, A_FIRST), last = luaL_checkinteger(L, A_LAST);
  luaL_checktype(L, A_ALL, LUA_TFUNCTION);
  luaL_checktype(L, A_REST, LUA_TFUNCTION);
  lpure_stage st[LPURE_MAXSTAGES];
  int n = lpure_stages(L, A_STAGES, st, LPURE_MAXSTAGES);
  for (lua_Unsigned k = 0, m = span(first, last); k < m; k++) {
    if (k % RT_POLL_EVERY == 0 && rt_interrupt_pending()) return rt_interrupt_error(L);
    lua_Integer x = (lua_Integer)((lua_Unsigned)first + k);
    pure_val v = {.type = PURE_INT, .i = x};
    int r = lpure_run_stages(st, n, NULL, &v);
    if (r == 0) continue;
    lua_pushvalue(L, r < 0 ? A_ALL : A_REST);
    if (r < 0) lua_pushinteger(L, x);
    else push_scalar(L, &v);
    lua_call(L, 1, 0);
  }
  return 0;
}

/* The number at 'idx', or a NIL value for anything else. */
static pure_val number_at(lua_State *L, int idx) {
  if (lua_isinteger(L, idx)) return (pure_val){.type = PURE_INT, .i = lua_tointeger(L, idx)};
  if (lua_type(L, idx) == LUA_TNUMBER)
    return (pure_val){.type = PURE_FLOAT, .d = lua_tonumber(L, idx)};
  return (pure_val){.type = PURE_NIL};
}

/* '*acc' + the value on top (popped), added by Lua: it coerces a string
 * or raises for what it cannot add. */
static void add_by_lua(lua_State *L, pure_val *acc) {
  if (acc->type == PURE_INT) lua_pushinteger(L, acc->i);
  else lua_pushnumber(L, acc->d);
  lua_insert(L, -2);
  lua_arith(L, LUA_OPADD);
  *acc = number_at(L, -1);
  lua_pop(L, 1);
}

static int l_fold_range(lua_State *L) {
  lua_Integer first = luaL_checkinteger(L, A_FIRST), last = luaL_checkinteger(L, A_LAST);
  luaL_checktype(L, A_ALL, LUA_TFUNCTION);
  int count = strcmp(luaL_checkstring(L, 5), "count") == 0;
  luaL_checknumber(L, 6);
  lua_settop(L, 6);
  pure_val acc = number_at(L, 6);
  lpure_stage st[LPURE_MAXSTAGES];
  int n = lpure_stages(L, A_STAGES, st, LPURE_MAXSTAGES);
  /* the interrupt polled once a block of RT_POLL_EVERY elements, outside
   * the element loop: a test in it cost ~5 instructions of an element's ~25 */
  lua_Unsigned m = span(first, last);
  for (lua_Unsigned k = 0; k < m;) {
    if (rt_interrupt_pending()) return rt_interrupt_error(L);
    lua_Unsigned end = m - k > RT_POLL_EVERY ? k + RT_POLL_EVERY : m;
    for (; k < end; k++) {
      lua_Integer x = (lua_Integer)((lua_Unsigned)first + k);
      pure_val v = {.type = PURE_INT, .i = x};
      int r = lpure_run_stages(st, n, NULL, &v);
      if (r < 0) { /* Lua runs the element through the pipeline */
        lua_pushvalue(L, A_ALL);
        lua_pushinteger(L, x);
        lua_call(L, 1, 2);
        r = lua_toboolean(L, -2);
        v = number_at(L, -1);
        if (r && !count && v.type == PURE_NIL) {
          add_by_lua(L, &acc);
          r = 0;
        }
        lua_settop(L, 6);
      }
      if (r > 0) {
        if (count) v = (pure_val){.type = PURE_INT, .i = 1};
        if (v.type == PURE_INT || v.type == PURE_FLOAT) {
          pure_val sum;
          pure_add(&acc, &v, &sum);
          acc = sum;
        } else {
          push_scalar(L, &v);
          add_by_lua(L, &acc);
        }
      }
    }
  }
  if (acc.type == PURE_INT) lua_pushinteger(L, acc.i);
  else lua_pushnumber(L, acc.d);
  return 1;
}

static const luaL_Reg funcs[] = {
  {"compile", l_compile},
  {"each_range", l_each_range},
  {"fold_range", l_fold_range},
  {NULL, NULL}
};

int luaopen_dusk_pure(lua_State *L) {
  lclass_new(L, PROGRAM, program_close, NULL);
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
