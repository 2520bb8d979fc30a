/*
 * sandbox: sealing a worker's Lua state (see sandbox.h for what holds).
 *
 * DESIGN
 *
 * A view is an empty table with a metatable of its own: __index reads the
 * real table (the real table itself when none of its fields holds a
 * sealed table, so `string.format` costs one more table lookup; else a C
 * function that hands out views for such fields), __newindex stores into
 * the view and marks the state dirty, __pairs and __len read through, and
 * __metatable is false, so getmetatable(string) is as falsy as in the
 * caller and setmetatable cannot unseal it.  rawget, rawset and next are
 * wrapped to treat a view as its real table plus what the task wrote.
 *
 * Fields are rewritten to views where C code reads them through the API
 * in ways that honour metamethods (_G's and package.loaded's fields, the
 * string metatable's __index, package.loaded and package.preload);
 * package.searchers is read with lua_rawgeti by require, so it stays real
 * and package's view hands out its view instead.  The registry keeps a
 * map each way (real -> view, view -> real).
 */
#include "sandbox.h"

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

/* Registry keys: these variables' addresses. */
static const char key_sandbox = 0, key_globals = 0, key_views = 0, key_reals = 0,
                  key_paths = 0;

int sandbox_push_real(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_reals) != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  lua_pushvalue(L, idx);
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_pop(L, 2);
    return 0;
  }
  lua_remove(L, -2);
  return 1;
}

/* Replaces the value on top of the stack by its view, if it has one. */
static void to_view(lua_State *L, int views) {
  if (lua_type(L, -1) != LUA_TTABLE) return;
  lua_pushvalue(L, -1);
  if (lua_rawget(L, views) == LUA_TNIL) lua_pop(L, 1);
  else lua_replace(L, -2);
}

void sandbox_push_view(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushvalue(L, idx);
  if (lua_type(L, idx) != LUA_TTABLE) return;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_insert(L, -2);
  to_view(L, lua_absindex(L, -2));
  lua_remove(L, -2);
}

void sandbox_push_globals(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_globals) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_pushglobaltable(L);
}

void sandbox_task_env(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_sandbox) == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_pushliteral(L, "_G");
  lua_pushvalue(L, -2);
  lua_rawset(L, -3);
  lua_pushvalue(L, -1);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
}

/* ------------------------------------------------------------ the views */

/* __index of a view whose real table has sealed tables in its fields:
 * upvalue 1 the real table, 2 the map real -> view. */
static int view_index(lua_State *L) {
  lua_settop(L, 2);
  lua_gettable(L, lua_upvalueindex(1)); /* honours the real's own __index */
  to_view(L, lua_upvalueindex(2));
  return 1;
}

/* debug's __index: the debug library reaches past every view, so a task
 * that takes any of its functions but traceback and getinfo has its state
 * replaced after it.  (Marking on access, not wrapping the functions,
 * keeps the stack levels getlocal and friends count.)  Upvalues: 1 the
 * real debug table, 2 the sandbox. */
static int debug_index(lua_State *L) {
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (strcmp(k, "traceback") != 0 && strcmp(k, "getinfo") != 0) {
    sandbox *sb = lua_touserdata(L, lua_upvalueindex(2));
    sb->renew = 1;
  }
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

/* __call of a view of a callable table (dusk.delayed): the real is
 * called with the same arguments.  Upvalue 1 the real table. */
static int view_call(lua_State *L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_replace(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* __newindex: upvalue 1 the sandbox. */
static int view_newindex(lua_State *L) {
  sandbox *sb = lua_touserdata(L, lua_upvalueindex(1));
  lua_settop(L, 3);
  lua_rawset(L, 1);
  sb->dirty = 1;
  return 0;
}

/* package's __newindex: require reads package.path and cpath from the
 * real table, so a task's new path must be there while it runs (and is
 * put back after it).  Upvalue 1 the sandbox, 2 the real package. */
static int package_newindex(lua_State *L) {
  sandbox *sb = lua_touserdata(L, lua_upvalueindex(1));
  lua_settop(L, 3);
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (strcmp(k, "path") == 0 || strcmp(k, "cpath") == 0) lua_settable(L, lua_upvalueindex(2));
  else lua_rawset(L, 1);
  sb->dirty = 1;
  return 0;
}

/* next over a view: first what the task stored in it, then the real
 * table's fields it did not overwrite (values that are sealed tables as
 * their views).  Stack: 1 the view, 2 the key, 3 the real table. */
static int view_next(lua_State *L) {
  int from_view = lua_isnil(L, 2);
  if (!from_view) {
    lua_pushvalue(L, 2);
    from_view = lua_rawget(L, 1) != LUA_TNIL;
    lua_pop(L, 1);
  }
  if (from_view) {
    lua_pushvalue(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    lua_replace(L, 2);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views);
  int views = lua_gettop(L);
  lua_pushvalue(L, 2);
  while (lua_next(L, 3)) {
    lua_pushvalue(L, -2);
    if (lua_rawget(L, 1) == LUA_TNIL) { /* not overwritten */
      lua_pop(L, 1);
      to_view(L, views);
      return 2;
    }
    lua_pop(L, 2);
  }
  lua_pushnil(L);
  return 1;
}

/* next, as the global and as __pairs' iterator: a view reads through. */
static int next_guard(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (sandbox_push_real(L, 1)) return view_next(L);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

static int view_pairs(lua_State *L) {
  lua_pushcfunction(L, next_guard);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int view_len(lua_State *L) {
  if (!sandbox_push_real(L, 1)) return 0;
  lua_pushinteger(L, luaL_len(L, -1));
  return 1;
}

/* Whether a raw field of the table at 'idx' holds a table with a view. */
static int holds_sealed(lua_State *L, int idx, int views) {
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    if (lua_type(L, -1) != LUA_TTABLE) continue;
    if (lua_rawget(L, views) != LUA_TNIL) {
      lua_pop(L, 2);
      return 1;
    }
  }
  return 0;
}

/* The standard libraries: their tables and the tables in their fields
 * (package.loaded, preload, searchers) are all views. */
static const char *const stdlibs[] = {
  "string", "table", "math", "io", "os", "utf8", "coroutine", "debug", "package", NULL
};

#define SHALLOW 32 /* make_views' depth for a table alone */

/* Makes views of the table at 'idx' and of the tables in its fields,
 * recursively from 'depth' up to SHALLOW; their metatables come later
 * (finish_views). */
static void make_views(lua_State *L, int views, int reals, int idx, int depth) {
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 8, "tables nested too deeply to seal");
  lua_pushvalue(L, idx);
  int known = lua_rawget(L, views) != LUA_TNIL;
  lua_pushvalue(L, idx);
  known |= lua_rawget(L, reals) != LUA_TNIL; /* a view itself */
  lua_pop(L, 2);
  if (known) return;
  lua_newtable(L);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -2);
  lua_rawset(L, views);
  lua_pushvalue(L, idx);
  lua_rawset(L, reals);
  if (depth >= SHALLOW) return;
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1))
    if (lua_type(L, -1) == LUA_TTABLE) make_views(L, views, reals, -1, depth + 1);
}

/* Gives every view that has none its metatable; 'package' and 'debug'
 * are the indices of those real tables, or 0. */
static void finish_views(lua_State *L, sandbox *sb, int views, int reals, int package,
                         int debug) {
  int top = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, reals); lua_pop(L, 1)) {
    int view = top + 1, real = top + 2;
    if (lua_getmetatable(L, view)) {
      lua_pop(L, 1);
      continue;
    }
    lua_createtable(L, 0, 8);
    if (luaL_getmetafield(L, real, "__call") != LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, real);
      lua_pushcclosure(L, view_call, 1);
      lua_setfield(L, -2, "__call");
    }
    if (luaL_getmetafield(L, real, "__name") != LUA_TNIL) lua_setfield(L, -2, "__name");
    if (debug && lua_rawequal(L, real, debug)) {
      lua_pushvalue(L, real);
      lua_pushlightuserdata(L, sb);
      lua_pushcclosure(L, debug_index, 2);
    } else if (holds_sealed(L, real, views)) {
      lua_pushvalue(L, real);
      lua_pushvalue(L, views);
      lua_pushcclosure(L, view_index, 2);
    } else {
      lua_pushvalue(L, real);
    }
    lua_setfield(L, -2, "__index");
    lua_pushlightuserdata(L, sb);
    if (package && lua_rawequal(L, real, package)) {
      lua_pushvalue(L, real);
      lua_pushcclosure(L, package_newindex, 2);
    } else {
      lua_pushcclosure(L, view_newindex, 1);
    }
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, view_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushcfunction(L, view_len);
    lua_setfield(L, -2, "__len");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, view);
  }
  lua_settop(L, top);
}

/* Rewrites the raw fields of the table at 'idx' that hold sealed tables
 * to their views. */
static void rewrite_fields(lua_State *L, int idx, int views) {
  idx = lua_absindex(L, idx);
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    to_view(L, views);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, idx); /* an existing key: allowed while traversing */
    lua_pushnil(L);     /* the popped value's slot */
  }
}

/* --------------------------------------------------- guarded functions */

static sandbox *upsandbox(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

/* Calls upvalue 2 with this call's arguments, returning all its results. */
static int call_original(lua_State *L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* io.input and io.output change the state's default files when given one. */
static int renews_with_arg(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) upsandbox(L)->renew = 1;
  return call_original(L);
}

static int collectgarbage_guard(lua_State *L) {
  static const char *const harmless[] = {"collect", "count", "step", "isrunning", NULL};
  const char *opt = luaL_optstring(L, 1, "collect");
  int i = 0;
  while (harmless[i] && strcmp(harmless[i], opt) != 0) i++;
  if (harmless[i] == NULL) upsandbox(L)->renew = 1;
  return call_original(L);
}

static int exit_refused(lua_State *L) {
  return luaL_error(L, "os.exit cannot end the process from a task: "
                       "return a value or raise an error instead");
}

static int setlocale_guard(lua_State *L) {
  if (!lua_isnoneornil(L, 1))
    return luaL_error(L, "os.setlocale cannot change the process's locale from a task: "
                         "set it before computing");
  return call_original(L);
}

static int loadlib_refused(lua_State *L) {
  return luaL_error(L, "package.loadlib cannot be used in a task: use require");
}

static int rawset_guard(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  lua_pushvalue(L, 1);
  if (sandbox_push_real(L, 1)) upsandbox(L)->dirty = 1;
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1; /* the table, as rawset returns it */
}

static int rawget_guard(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, 1) == LUA_TNIL && sandbox_push_real(L, 1)) {
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
  }
  return 1;
}

/* Replaces t[name] (t at 'idx') by 'fn' with upvalues sandbox and the
 * original. */
static void guard(lua_State *L, int idx, const char *name, lua_CFunction fn, sandbox *sb) {
  idx = lua_absindex(L, idx);
  lua_pushlightuserdata(L, sb);
  lua_getfield(L, idx, name);
  lua_pushcclosure(L, fn, 2);
  lua_setfield(L, idx, name);
}

/* ------------------------------------------------------------- sealing */

/* package.loaded's __newindex: a module compiled into dusk (in
 * package.preload), required after the worker started, gets its view as
 * it is stored; others stay as they are (see the DESIGN note).  Upvalues:
 * 1 the sandbox, 2 the previous __newindex (serial's counter) or nil. */
static int loaded_newindex(lua_State *L) {
  sandbox *sb = upsandbox(L);
  lua_settop(L, 3);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushvalue(L, 2);
  int builtin = lua_istable(L, 4) && lua_rawget(L, 4) != LUA_TNIL;
  lua_settop(L, 3);
  if (builtin && lua_type(L, 3) == LUA_TTABLE) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_reals);
    make_views(L, 4, 5, 3, SHALLOW);
    finish_views(L, sb, 4, 5, 0, 0);
    lua_pushvalue(L, 3);
    to_view(L, 4);
    lua_replace(L, 3);
    lua_settop(L, 3);
  }
  if (lua_isnil(L, lua_upvalueindex(2))) {
    lua_rawset(L, 1);
    return 0;
  }
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_insert(L, 1);
  lua_call(L, 3, 0);
  return 0;
}

/* Whether the registry entry on top of the stack (key, value) is a type's
 * metatable, as luaL_newmetatable makes them. */
static int is_type_metatable(lua_State *L) {
  if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) return 0;
  int named = lua_getfield(L, -1, "__name") != LUA_TNIL;
  lua_pop(L, 1);
  return named;
}

static int seal(lua_State *L) {
  sandbox *sb = lua_newuserdatauv(L, sizeof *sb, 0);
  memset(sb, 0, sizeof *sb);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_sandbox);

  lua_pushglobaltable(L);
  int g = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int loaded = g + 1;
  lua_getfield(L, loaded, "package");
  int package = g + 2;
  lua_newtable(L);
  int views = g + 3;
  lua_newtable(L);
  int reals = g + 4;
  lua_getfield(L, loaded, "debug");
  int debug = g + 5;

  /* the functions that reach past the views, in the real tables */
  guard(L, g, "rawset", rawset_guard, sb);
  lua_pushcfunction(L, rawget_guard);
  lua_setfield(L, g, "rawget");
  lua_pushcfunction(L, next_guard);
  lua_setfield(L, g, "next");
  guard(L, g, "collectgarbage", collectgarbage_guard, sb);
  if (lua_getfield(L, loaded, "io") == LUA_TTABLE) {
    guard(L, -1, "input", renews_with_arg, sb);
    guard(L, -1, "output", renews_with_arg, sb);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, loaded, "os") == LUA_TTABLE) {
    lua_pushcfunction(L, exit_refused);
    lua_setfield(L, -2, "exit");
    guard(L, -1, "setlocale", setlocale_guard, sb);
  }
  lua_pop(L, 1);
  if (lua_istable(L, package)) {
    lua_pushcfunction(L, loadlib_refused);
    lua_setfield(L, package, "loadlib");
    lua_createtable(L, 2, 0);
    lua_getfield(L, package, "path");
    lua_rawseti(L, -2, 1);
    lua_getfield(L, package, "cpath");
    lua_rawseti(L, -2, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_paths);
  }

  /* views of everything reachable from package.loaded and the registry's
   * type metatables */
  make_views(L, views, reals, loaded, SHALLOW);
  for (const char *const *name = stdlibs; *name; name++) {
    if (lua_getfield(L, loaded, *name) == LUA_TTABLE) make_views(L, views, reals, -1, 0);
    lua_pop(L, 1);
  }
  /* dusk's modules, C modules, _G: the module table alone (a module may
   * be a class, its instances' metatable: a view of it would not be it) */
  for (lua_pushnil(L); lua_next(L, loaded); lua_pop(L, 1))
    if (lua_type(L, -1) == LUA_TTABLE) make_views(L, views, reals, -1, SHALLOW);
  lua_pushliteral(L, "");
  int has_strmt = lua_getmetatable(L, -1);
  if (has_strmt) make_views(L, views, reals, -1, 0);
  int strmt = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, LUA_REGISTRYINDEX); lua_pop(L, 1))
    if (is_type_metatable(L)) make_views(L, views, reals, -1, 0);

  /* fields rewritten to views where C reads them honouring metamethods */
  rewrite_fields(L, g, views);
  rewrite_fields(L, loaded, views);
  if (lua_istable(L, package)) {
    lua_getfield(L, package, "loaded");
    to_view(L, views);
    lua_setfield(L, package, "loaded");
    lua_getfield(L, package, "preload");
    to_view(L, views);
    lua_setfield(L, package, "preload");
  }
  if (has_strmt) {
    lua_getfield(L, strmt, "__index");
    to_view(L, views);
    lua_setfield(L, strmt, "__index");
  }
  for (lua_pushnil(L); lua_next(L, LUA_REGISTRYINDEX); lua_pop(L, 1)) {
    if (!is_type_metatable(L)) continue;
    lua_pushvalue(L, -1);
    to_view(L, views);
    lua_setfield(L, -2, "__metatable");
  }
  if (has_strmt) {
    lua_pushvalue(L, strmt);
    to_view(L, views);
    lua_setfield(L, strmt, "__metatable");
  }
  finish_views(L, sb, views, reals, package, lua_istable(L, debug) ? debug : 0);

  lua_pushvalue(L, views);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_views);
  lua_pushvalue(L, reals);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_reals);
  lua_pushvalue(L, g);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_globals);

  /* dusk's modules required from now on get views too */
  if (!lua_getmetatable(L, loaded)) lua_createtable(L, 0, 1);
  int lmt = lua_gettop(L);
  lua_pushlightuserdata(L, sb);
  lua_getfield(L, lmt, "__newindex");
  lua_pushcclosure(L, loaded_newindex, 2);
  lua_setfield(L, lmt, "__newindex");
  lua_setmetatable(L, loaded);

  /* between tasks, the registry's globals are _G's view */
  lua_pushvalue(L, g);
  to_view(L, views);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushlightuserdata(L, sb);
  return 1;
}

sandbox *sandbox_seal(lua_State *L) {
  lua_pushcfunction(L, seal);
  if (lua_pcall(L, 0, 1, 0) != LUA_OK) return NULL;
  sandbox *sb = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return sb;
}

/* Empties every view and puts package.path and cpath back. */
static int wipe(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_reals);
  int reals = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, reals); lua_pop(L, 1)) {
    int view = lua_gettop(L) - 1;
    lua_pushnil(L);
    while (lua_next(L, view)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, view);
    }
  }
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_paths) == LUA_TTABLE) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "package");
    if (sandbox_push_real(L, -1)) lua_replace(L, -2);
    if (lua_istable(L, -1)) {
      lua_rawgeti(L, -3, 1);
      lua_setfield(L, -2, "path");
      lua_rawgeti(L, -3, 2);
      lua_setfield(L, -2, "cpath");
    }
  }
  return 0;
}

int sandbox_after_task(lua_State *L, sandbox *sb) {
  if (sb->renew) return 1;
  if (!sb->dirty) return 0;
  sb->dirty = 0;
  lua_pushcfunction(L, wipe);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    lua_pop(L, 1);
    return 1; /* cannot be cleaned: replaced instead */
  }
  return 0;
}
