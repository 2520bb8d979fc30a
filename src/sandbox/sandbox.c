/*
 * sandbox: sealing a worker's Lua state (see sandbox.h for what holds).
 *
 * DESIGN
 *
 * Three global tables.  The real globals (G0) are what dusk's own modules
 * run in; no task ever sees them.  The user globals (G) are a copy of G0
 * made at sealing whose tables are views and whose rawget, rawset, next,
 * rawlen, getmetatable, setmetatable, collectgarbage and require are
 * guards.  The registry's globals (what load, require and C code see)
 * become a table that reads and writes the *current* globals: the running
 * task's environment, or G's view between tasks; while a require runs,
 * the module's new globals go to G, so a module that defines globals
 * keeps them in later tasks, as it would in the caller.
 *
 * A view is lazy, then a copy.  Lazy, it is an empty table whose
 * metatable reads through to its real table (__index is the real table
 * itself when no field of it holds a table with a view, so
 * `string.format` costs one more lookup; else a C function that hands
 * out views), with __metatable false so nothing can unseal it.  The first
 * write (__newindex), or any raw access (the guards; pairs), copies the
 * real table's fields into the view (tables as their views) and gives it
 * a plain metatable: from then on it is an ordinary table the task may
 * change, delete from and traverse.  The state is then dirty; after the
 * task (and between the steps of a fused chain) every copy is emptied
 * and made lazy again.  A task's environment is such a lazy copy of G's
 * view, made per task, that becomes a plain table with no metatable.
 *
 * Views are made for the standard libraries and the plain tables in their
 * fields (package.preload, package.searchers), package.loaded, _G,
 * dusk's module tables and the plain tables in theirs, the string
 * metatable and C types' metatables with their method tables.  "Plain":
 * no metatable and no "__" key, since a table with either may be a class
 * whose identity matters.  No field of a real table is rewritten, except
 * the string metatable's __index (so ("x"):upper() reads the task's
 * string) and the __metatable fields that make getmetatable(io.stdout)
 * a view.
 */
#include "sandbox/sandbox.h"

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

/* Registry keys and private metatable keys: these variables' addresses. */
static const char key_sandbox = 0, key_globals = 0, key_views = 0, key_reals = 0,
                  key_renews = 0, key_dirty = 0,
                  key_user = 0, key_pg = 0, key_cg = 0, key_paths = 0, key_through = 0,
                  key_touched = 0, key_metas = 0;
static const char mk_src = 0, mk_plain = 0, mk_lazy = 0, mk_env = 0;

#define SHALLOW 32 /* make_views' depth for a table alone */

static sandbox *upsandbox(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }

static sandbox *get_sandbox(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_sandbox);
  sandbox *sb = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return sb;
}

/* Pushes the current globals of a sealed state ('sb' may be NULL: then
 * nil); returns their type.  An integer reference: a lookup per task step
 * must not walk the registry's hash part. */
static int push_current(lua_State *L, const sandbox *sb) {
  if (sb == NULL) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_rawgeti(L, LUA_REGISTRYINDEX, sb->current);
}


/* Pushes the lazy metatable of the table at 'idx' and returns 1, or
 * returns 0, pushing nothing, when it is no lazy view or environment. */
static int lazy_meta(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx)) return 0;
  if (lua_rawgetp(L, -1, &mk_src) == LUA_TNIL) {
    lua_pop(L, 2);
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}

/* Replaces the value on top of the stack by what user code may hold of
 * it (the map at 'views'); a debug function taken renews the state. */
static void to_view(lua_State *L, int views) {
  int t = lua_type(L, -1);
  if (t != LUA_TTABLE && t != LUA_TFUNCTION) return;
  lua_pushvalue(L, -1);
  if (lua_rawget(L, views) != LUA_TNIL) {
    lua_replace(L, -2);
    /* _G's view, wherever it is reached, is the running task's globals */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_pg);
    int pg = lua_rawequal(L, -1, -2);
    lua_pop(L, 1);
    if (pg && push_current(L, get_sandbox(L)) == LUA_TTABLE) lua_replace(L, -2);
    else if (pg) lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (t == LUA_TFUNCTION) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_renews);
    lua_pushvalue(L, -2);
    if (lua_rawget(L, -2) != LUA_TNIL) get_sandbox(L)->renew = 1;
    lua_pop(L, 2);
  }
}

void sandbox_push_view(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushvalue(L, idx);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_insert(L, -2);
  to_view(L, lua_absindex(L, -2));
  lua_remove(L, -2);
}

int sandbox_push_real(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  int t = lua_type(L, idx);
  if (t != LUA_TTABLE && t != LUA_TFUNCTION) return 0;
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

void sandbox_push_globals(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_globals) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_pushglobaltable(L);
}

void sandbox_paths_set(lua_State *L) {
  sandbox *sb = get_sandbox(L);
  if (sb) sb->paths = 1;
}

/* Puts package.path and cpath back as the worker started. */
static void restore_paths(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_paths) == LUA_TTABLE) {
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "package");
    lua_rawgeti(L, -3, 1);
    lua_setfield(L, -2, "path");
    lua_rawgeti(L, -3, 2);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

int sandbox_is_globals(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_cg);
  int is = lua_rawequal(L, -1, idx);
  lua_pop(L, 1);
  return is;
}

void sandbox_push_env(lua_State *L, sandbox *sb) {
  if (sb == NULL) {
    /* sealing gives the registry's globals a metatable: globals without
     * one are an unsealed state's (every encode of the caller's), known
     * without looking the sandbox up in the registry's hash part */
    lua_pushglobaltable(L);
    if (!lua_getmetatable(L, -1)) return;
    lua_pop(L, 2);
    if ((sb = get_sandbox(L)) == NULL) {
      lua_pushglobaltable(L);
      return;
    }
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, sb->current);
}

void sandbox_restore_env(lua_State *L, sandbox *sb, int idx) {
  if (sb == NULL) return;
  if (idx == 0) lua_rawgeti(L, LUA_REGISTRYINDEX, sb->between);
  else lua_pushvalue(L, idx);
  lua_rawseti(L, LUA_REGISTRYINDEX, sb->current);
}

int sandbox_task_env(lua_State *L) {
  sandbox *sb = get_sandbox(L);
  if (sb == NULL) return 0;
  lua_createtable(L, 0, 2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, sb->envmeta);
  lua_setmetatable(L, -2);
  lua_pushliteral(L, "_G");
  lua_pushvalue(L, -2);
  lua_rawset(L, -3);
  lua_pushvalue(L, -1);
  lua_rawseti(L, LUA_REGISTRYINDEX, sb->current);
  sb->envs++;
  return 1;
}

/* ------------------------------------------------- lazy views and copies */

/* Makes the lazy view or environment at 'idx' a plain copy: the fields of
 * what it reads through to (followed to the first table that is no lazy
 * view), as views, where it holds none of its own. */
static void materialize(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 8, NULL);
  if (!lazy_meta(L, idx)) return;
  int mt = lua_gettop(L);
  sandbox *sb = get_sandbox(L);
  int env = lua_rawgetp(L, mt, &mk_env) != LUA_TNIL;
  lua_pop(L, 1);
  lua_rawgetp(L, mt, &mk_src);
  while (lazy_meta(L, -1)) { /* an environment reads through G's view */
    lua_rawgetp(L, -1, &mk_src);
    lua_replace(L, -3);
    lua_pop(L, 1);
  }
  int src = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "debug");
  if (lua_rawequal(L, -1, src)) sb->renew = 1; /* pairs(debug) hands out all */
  lua_pop(L, 2);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views);
  int views = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, src); lua_pop(L, 1)) {
    lua_pushvalue(L, -2);
    if (lua_rawget(L, idx) != LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    to_view(L, views);
    lua_rawset(L, idx);
  }
  if (env) {
    lua_pushnil(L);
    lua_setmetatable(L, idx);
  } else {
    lua_rawgetp(L, mt, &mk_plain);
    lua_setmetatable(L, idx);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_dirty);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
    sb->dirty = 1;
  }
  lua_settop(L, mt - 1);
}

/* __index of a view whose real table holds tables with views, or has an
 * __index of its own: upvalue 1 the real table, 2 the map of views. */
static int view_index(lua_State *L) {
  lua_settop(L, 2);
  lua_gettable(L, lua_upvalueindex(1));
  to_view(L, lua_upvalueindex(2));
  return 1;
}

/* debug's __index: every function but traceback and getinfo reaches past
 * the views, so taking one renews the state after the task.  (Marking on
 * access, not wrapping, keeps the stack levels getlocal counts.) */
static int debug_index(lua_State *L) {
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (strcmp(k, "traceback") != 0 && strcmp(k, "getinfo") != 0) get_sandbox(L)->renew = 1;
  lua_settop(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views);
  lua_insert(L, -2);
  to_view(L, lua_absindex(L, -2));
  return 1;
}

/* Metatables are read raw by Lua and C (the string type's for every
 * string, a file's for every method): a task's change to one must act, so
 * their views write through to the real table, which is put back after
 * the task from the copy taken when it was sealed.  Upvalue 1 the real. */
static int through_newindex(lua_State *L) {
  lua_settop(L, 3);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_touched);
  lua_pushvalue(L, lua_upvalueindex(1));
  if (lua_rawget(L, -2) == LUA_TNIL) { /* first change this task */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushboolean(L, 1);
    lua_rawset(L, 4);
  }
  lua_settop(L, 3);
  lua_rawset(L, lua_upvalueindex(1));
  get_sandbox(L)->through = 1;
  return 0;
}

/* Makes the view of the real table at 'idx' write through (the view's
 * lazy metatable exists), keeping the copy it is put back from. */
static void make_through(lua_State *L, int idx, int views) {
  idx = lua_absindex(L, idx);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_through);
  lua_pushvalue(L, idx);
  lua_newtable(L);
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_rawset(L, -5);
  }
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_pushvalue(L, idx);
  lua_rawget(L, views);
  lua_getmetatable(L, -1);
  lua_pushvalue(L, idx);
  lua_pushcclosure(L, through_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pop(L, 2);
}

/* Puts every table a task wrote through to back as it was sealed. */
static void restore_through(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_touched);
  int touched = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_through);
  int through = touched + 1;
  for (lua_pushnil(L); lua_next(L, touched); lua_pop(L, 1)) {
    int real = lua_gettop(L) - 1;
    lua_pushvalue(L, real);
    lua_rawget(L, through);
    int saved = lua_gettop(L);
    for (lua_pushnil(L); lua_next(L, real); lua_pop(L, 1)) { /* what was added */
      lua_pushvalue(L, -2);
      if (lua_rawget(L, saved) == LUA_TNIL) {
        lua_pushvalue(L, -3);
        lua_pushnil(L);
        lua_rawset(L, real);
      }
      lua_pop(L, 1);
    }
    for (lua_pushnil(L); lua_next(L, saved); lua_pop(L, 1)) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, real);
      lua_pushnil(L);
    }
    lua_settop(L, real + 1);
  }
  lua_settop(L, touched - 1);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_touched);
}

static int lazy_newindex(lua_State *L) {
  lua_settop(L, 3);
  materialize(L, 1);
  lua_rawset(L, 1);
  return 0;
}

/* A task environment's __newindex: a new global is stored at once; nil
 * for a name it does not hold (deleting a standard global) makes it a
 * copy first. */
static int env_newindex(lua_State *L) {
  lua_settop(L, 3);
  if (lua_isnil(L, 3)) materialize(L, 1);
  lua_rawset(L, 1);
  return 0;
}

static int raw_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

static int lazy_pairs(lua_State *L) {
  materialize(L, 1);
  lua_pushcfunction(L, raw_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

static int lazy_len(lua_State *L) {
  lua_getmetatable(L, 1);
  lua_rawgetp(L, -1, &mk_src);
  lua_pushinteger(L, luaL_len(L, -1));
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

/* Whether the table at 'idx' is plain: no metatable, no "__" key. */
static int is_plain(lua_State *L, int idx) {
  if (lua_getmetatable(L, idx)) {
    lua_pop(L, 1);
    return 0;
  }
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1))
    if (lua_type(L, -2) == LUA_TSTRING && strncmp(lua_tostring(L, -2), "__", 2) == 0) {
      lua_pop(L, 2);
      return 0;
    }
  return 1;
}

/* Makes a view of the table at 'idx' and, up to SHALLOW from 'depth', of
 * the plain tables in its fields (their metatables: finish_views). */
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
    if (lua_type(L, -1) == LUA_TTABLE && is_plain(L, lua_gettop(L)))
      make_views(L, views, reals, -1, depth + 1);
}

/* Whether a raw field of the table at 'idx' holds a table with a view. */
static int holds_viewed(lua_State *L, int idx, int views) {
  for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
    if (lua_type(L, -1) != LUA_TTABLE) continue;
    if (lua_rawget(L, views) != LUA_TNIL) {
      lua_pop(L, 2);
      return 1;
    }
  }
  return 0;
}

/* The lazy and the plain metatable of the view of the real table at
 * 'real': __call and __name as the real's; pushes both (lazy first). */
static void view_metas(lua_State *L, int real, int views, int debug) {
  int has_index = luaL_getmetafield(L, real, "__index") != LUA_TNIL;
  if (has_index) lua_pop(L, 1);
  for (int plain = 0; plain <= 1; plain++) {
    lua_createtable(L, 0, 8);
    if (luaL_getmetafield(L, real, "__call") != LUA_TNIL) {
      lua_pop(L, 1);
      lua_pushvalue(L, real);
      lua_pushcclosure(L, view_call, 1);
      lua_setfield(L, -2, "__call");
    }
    if (luaL_getmetafield(L, real, "__name") != LUA_TNIL) lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    if (debug && lua_rawequal(L, real, debug)) {
      lua_pushvalue(L, real);
      lua_pushcclosure(L, debug_index, 1);
      lua_setfield(L, -2, "__index");
    } else if (has_index || (!plain && holds_viewed(L, real, views))) {
      lua_pushvalue(L, real);
      lua_pushvalue(L, views);
      lua_pushcclosure(L, view_index, 2);
      lua_setfield(L, -2, "__index");
    } else if (!plain) {
      lua_pushvalue(L, real);
      lua_setfield(L, -2, "__index");
    }
    if (!plain) {
      lua_pushcfunction(L, lazy_newindex);
      lua_setfield(L, -2, "__newindex");
      lua_pushcfunction(L, lazy_pairs);
      lua_setfield(L, -2, "__pairs");
      lua_pushcfunction(L, lazy_len);
      lua_setfield(L, -2, "__len");
      lua_pushvalue(L, real);
      lua_rawsetp(L, -2, &mk_src);
    }
  }
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, &mk_lazy);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, -3, &mk_plain);
}

/* Gives every view that has none its lazy metatable. */
static void finish_views(lua_State *L, int views, int reals) {
  int top = lua_gettop(L);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "debug");
  int debug = lua_istable(L, -1) ? lua_gettop(L) : 0;
  for (lua_pushnil(L); lua_next(L, reals); lua_pop(L, 1)) {
    int view = lua_gettop(L) - 1, real = lua_gettop(L);
    if (lua_type(L, real) != LUA_TTABLE || lua_getmetatable(L, view)) {
      if (lua_type(L, real) == LUA_TTABLE) lua_pop(L, 1);
      continue;
    }
    view_metas(L, real, views, debug);
    lua_pop(L, 1);
    lua_setmetatable(L, view);
  }
  lua_settop(L, top);
}

/* Whether the registry entry on top of the stack (key, value) is a type's
 * metatable, as luaL_newmetatable makes them. */
static int is_type_metatable(lua_State *L) {
  if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE) return 0;
  int named = lua_getfield(L, -1, "__name") != LUA_TNIL;
  lua_pop(L, 1);
  return named;
}

/* Views of the C types' metatables (and their method tables) that have
 * none yet; getmetatable of such an object then gives the view. */
static void view_type_metatables(lua_State *L, int views, int reals) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_metas); /* those made through */
  int metas = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, LUA_REGISTRYINDEX); lua_pop(L, 1)) {
    if (!is_type_metatable(L)) continue;
    int mt = lua_gettop(L);
    lua_pushvalue(L, mt);
    if (lua_rawget(L, views) != LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    lua_pop(L, 1);
    make_views(L, views, reals, mt, SHALLOW);
    lua_pushvalue(L, mt);
    lua_rawseti(L, metas, (lua_Integer)lua_rawlen(L, metas) + 1);
    if (lua_getfield(L, mt, "__index") == LUA_TTABLE && !lua_rawequal(L, -1, mt)) {
      make_views(L, views, reals, -1, SHALLOW);
      lua_rawseti(L, metas, (lua_Integer)lua_rawlen(L, metas) + 1);
    } else {
      lua_pop(L, 1);
    }
    lua_pushvalue(L, mt);
    to_view(L, views);
    lua_setfield(L, mt, "__metatable");
  }
  lua_pop(L, 1);
}

/* After finish_views: the views of the metatables view_type_metatables
 * listed write through. */
static void through_type_metatables(lua_State *L, int views) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_metas);
  int metas = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, metas);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, metas, i);
    make_through(L, -1, views);
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, metas, i);
  }
  lua_pop(L, 1);
}

/* --------------------------------------------------- guarded functions */

/* Calls upvalue 1 with this call's arguments, returning all its results. */
static int call_original(lua_State *L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

/* The registry's globals (what load's and C's code sees) hold nothing:
 * raw access to them is to the current globals (G while a require loads,
 * for a module's definitions). */
static void current_for_raw(lua_State *L, int writing) {
  if (!sandbox_is_globals(L, 1)) return;
  if (writing && get_sandbox(L)->loading > 0) lua_rawgetp(L, LUA_REGISTRYINDEX, &key_user);
  else push_current(L, get_sandbox(L));
  lua_replace(L, 1);
}

static int rawget_guard(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  current_for_raw(L, 0);
  materialize(L, 1);
  lua_rawget(L, 1);
  return 1;
}

static int rawset_guard(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 3);
  lua_settop(L, 3);
  current_for_raw(L, 1);
  materialize(L, 1);
  lua_rawset(L, 1);
  return 1;
}

static int next_guard(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  current_for_raw(L, 0);
  materialize(L, 1);
  return raw_next(L);
}

static int rawlen_guard(lua_State *L) {
  if (lua_type(L, 1) == LUA_TTABLE) materialize(L, 1);
  return call_original(L);
}

/* getmetatable(_G) in a task: the environment becomes a copy with no
 * metatable, as the caller's _G has none. */
static int getmetatable_guard(lua_State *L) {
  if (lazy_meta(L, 1)) {
    int env = lua_rawgetp(L, -1, &mk_env) != LUA_TNIL;
    lua_pop(L, 2);
    if (env) materialize(L, 1);
  }
  return call_original(L);
}

static int setmetatable_guard(lua_State *L) {
  materialize(L, 1);
  return call_original(L);
}

/* load and loadfile without an environment give the chunk the current
 * globals, as the caller's give it its _G.  Upvalue 1 the original; 'at'
 * the position of the env argument. */
static int with_env(lua_State *L, int at) {
  if (lua_gettop(L) < at) {
    lua_settop(L, at - 1);
    sandbox_push_env(L, NULL);
  }
  return call_original(L);
}
static int load_guard(lua_State *L) { return with_env(L, 4); }
static int loadfile_guard(lua_State *L) { return with_env(L, 3); }

/* dofile: loadfile (the guard above, upvalue 1) and call. */
static int dofile_guard(lua_State *L) {
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushliteral(L, "bt");
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return lua_error(L);
  lua_pop(L, 1);
  lua_call(L, 0, LUA_MULTRET);
  return lua_gettop(L) - 1;
}

/* debug.getinfo: the level counted from its caller (this guard is a frame
 * more), and a function it hands out ('f') as user code may hold it: the
 * real require of a module's loader, say, is its guard. */
static int getinfo_guard(lua_State *L) {
  if (lua_isinteger(L, 1)) {
    lua_Integer level = lua_tointeger(L, 1);
    lua_pushinteger(L, level >= 0 ? level + 1 : level);
    lua_replace(L, 1);
  }
  call_original(L);
  lua_settop(L, 1);
  if (lua_istable(L, 1) && lua_getfield(L, 1, "func") != LUA_TNIL) {
    sandbox_push_view(L, -1);
    lua_setfield(L, 1, "func");
  }
  lua_settop(L, 1);
  return 1;
}

static int collectgarbage_guard(lua_State *L) {
  static const char *const harmless[] = {"collect", "count", "step", "isrunning", NULL};
  const char *opt = luaL_optstring(L, 1, "collect");
  int i = 0;
  while (harmless[i] && strcmp(harmless[i], opt) != 0) i++;
  if (harmless[i] == NULL) get_sandbox(L)->renew = 1;
  return call_original(L);
}

/* io.input and io.output change the state's default files when given one. */
static int renews_with_arg(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) get_sandbox(L)->renew = 1;
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

/* The registry's globals: the current ones (upvalue 1 the sandbox, 2 G). */
static int current_index(lua_State *L) {
  if (upsandbox(L)->loading > 0 && lua_type(L, 2) == LUA_TSTRING &&
      strcmp(lua_tostring(L, 2), "_G") == 0) { /* a module's _G.x = f */
    lua_pushvalue(L, lua_upvalueindex(2));
    return 1;
  }
  push_current(L, get_sandbox(L));
  lua_replace(L, 1);
  lua_gettable(L, 1);
  return 1;
}

static int current_newindex(lua_State *L) {
  lua_settop(L, 3);
  if (upsandbox(L)->loading > 0) lua_pushvalue(L, lua_upvalueindex(2));
  else push_current(L, get_sandbox(L));
  lua_replace(L, 1);
  lua_settable(L, 1);
  return 0;
}

static int current_pairs(lua_State *L) {
  push_current(L, get_sandbox(L));
  lua_replace(L, 1);
  lua_settop(L, 1);
  lua_getglobal(L, "pairs"); /* the guard: a lazy environment copies first */
  lua_insert(L, 1);
  lua_call(L, 1, 3);
  return 3;
}

/* Seals what a require of 'name' (at 'idx' its value) brought: dusk's own
 * modules (in package.preload) and C types' metatables get views. */
static void seal_loaded(lua_State *L, const char *name, int idx) {
  int top = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_views);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_reals);
  int views = top + 1, reals = top + 2;
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  if (lua_type(L, idx) == LUA_TTABLE && lua_getfield(L, -1, name) != LUA_TNIL)
    make_views(L, views, reals, idx, 0);
  view_type_metatables(L, views, reals);
  finish_views(L, views, reals);
  through_type_metatables(L, views);
  lua_settop(L, top);
}

/* The real globals' require (dusk's own code loads its submodules with
 * it): what a first require loads is sealed.  Upvalue 1 the original. */
static int sealing_require(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int had = lua_getfield(L, -1, name) != LUA_TNIL;
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, 1, 2);
  if (!had) seal_loaded(L, name, 1);
  return 2;
}

/* The standard searchers read package.path and cpath from the real
 * package table (upvalue 3's [5]): while the task's searchers run, it
 * holds the task's (from its package view, [4]).  paths_to_task pushes
 * the real ones, for paths_back (from 'saved', the first of two). */
static void paths_to_task(lua_State *L) {
  lua_rawgeti(L, lua_upvalueindex(3), 5);
  lua_rawgeti(L, lua_upvalueindex(3), 4);
  int real = lua_gettop(L) - 1;
  lua_getfield(L, real, "path");
  lua_getfield(L, real, "cpath");
  lua_getfield(L, real + 1, "path");
  lua_setfield(L, real, "path");
  lua_getfield(L, real + 1, "cpath");
  lua_setfield(L, real, "cpath");
  lua_remove(L, real);
  lua_remove(L, real);
}

static void paths_back(lua_State *L, int saved) {
  lua_rawgeti(L, lua_upvalueindex(3), 5);
  lua_pushvalue(L, saved);
  lua_setfield(L, -2, "path");
  lua_pushvalue(L, saved + 1);
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
}

/* require in a task.  Upvalues: 1 the sandbox, 2 the real globals'
 * require, 3 {package.loaded's, preload's, searchers' and package's
 * views, the real package}.  What the task's package.loaded holds is the
 * answer; else, while the task changed neither package.preload,
 * package.searchers nor the paths and did not remove a loaded module, the
 * real require loads it for the worker (once) and hands out a view; else
 * the task's own package tables are searched and what it loads is its
 * own. */
static int require_guard(lua_State *L) {
  sandbox *sb = upsandbox(L);
  const char *name = luaL_checkstring(L, 1);
  lua_settop(L, 1);
  lua_rawgeti(L, lua_upvalueindex(3), 1);
  int loaded = 2;
  if (lua_getfield(L, loaded, name) != LUA_TNIL && lua_toboolean(L, -1)) return 1;
  lua_pop(L, 1);
  int own = 0;
  for (int i = 2; i <= 4; i++) {
    lua_rawgeti(L, lua_upvalueindex(3), i);
    if (!lazy_meta(L, -1)) own = 1;
    else lua_pop(L, 1);
    lua_pop(L, 1);
  }
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, name) != LUA_TNIL && lua_toboolean(L, -1)) own = 1; /* removed */
  lua_settop(L, loaded);
  if (!own) {
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    sb->loading++;
    int status = lua_pcall(L, 1, 2, 0);
    sb->loading--;
    if (status != LUA_OK) return lua_error(L);
    sandbox_push_view(L, -2);
    lua_replace(L, -3);
    if (!lazy_meta(L, loaded)) { /* the task's copy of package.loaded sees it too */
      lua_pushvalue(L, -2);
      lua_setfield(L, loaded, name);
    } else {
      lua_pop(L, 1);
    }
    return 2;
  }
  lua_pushliteral(L, ""); /* the searchers' messages */
  int msg = lua_gettop(L);
  lua_rawgeti(L, lua_upvalueindex(3), 2);
  if (lua_getfield(L, -1, name) == LUA_TFUNCTION) {
    lua_pushliteral(L, ":preload:");
  } else {
    lua_settop(L, msg);
    lua_rawgeti(L, lua_upvalueindex(3), 3);
    paths_to_task(L);
    int saved = msg + 2;
    for (lua_Integer i = 1;; i++) {
      if (lua_geti(L, msg + 1, i) == LUA_TNIL) {
        paths_back(L, saved);
        return luaL_error(L, "module '%s' not found:%s", name, lua_tostring(L, msg));
      }
      lua_pushvalue(L, 1);
      int status = lua_pcall(L, 1, 2, 0);
      if (status != LUA_OK) {
        paths_back(L, saved);
        return lua_error(L);
      }
      if (lua_isfunction(L, -2)) break;
      if (lua_isstring(L, -2)) { /* each message on a line, as require's */
        lua_pop(L, 1);
        lua_pushvalue(L, msg);
        lua_pushliteral(L, "\n\t");
        lua_rotate(L, -3, -1);
        lua_concat(L, 3);
        lua_replace(L, msg);
      } else {
        lua_pop(L, 2);
      }
    }
    paths_back(L, saved);
  }
  int loader = lua_gettop(L) - 1;
  lua_pushvalue(L, loader);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, loader + 1);
  sb->loading++;
  int status = lua_pcall(L, 2, 1, 0);
  sb->loading--;
  if (status != LUA_OK) return lua_error(L);
  if (!lua_isnil(L, -1)) lua_setfield(L, loaded, name);
  if (lua_getfield(L, loaded, name) == LUA_TNIL) {
    lua_pushboolean(L, 1);
    lua_pushvalue(L, -1);
    lua_setfield(L, loaded, name);
  }
  lua_pushvalue(L, loader + 1);
  return 2;
}

/* Replaces t[name] (t at 'idx') by 'fn' with upvalue 1 the original;
 * the original's guard in the map at 'views'. */
static void guard(lua_State *L, int idx, const char *name, lua_CFunction fn, int views) {
  idx = lua_absindex(L, idx);
  lua_getfield(L, idx, name);
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, fn, 1);
  lua_pushvalue(L, -2);
  lua_pushvalue(L, -2);
  lua_rawset(L, views);
  lua_setfield(L, idx, name);
  lua_pop(L, 1);
}

/* ------------------------------------------------------------- sealing */

static const char *const stdlibs[] = {
  "string", "table", "math", "io", "os", "utf8", "coroutine", "debug", "package", NULL
};

static int seal(lua_State *L) {
  sandbox *sb = lua_newuserdatauv(L, sizeof *sb, 0);
  memset(sb, 0, sizeof *sb);
  sb->current = sb->between = sb->envmeta = LUA_NOREF; /* until the end of sealing */
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_sandbox);
  lua_pushglobaltable(L);
  int g0 = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  int loaded = g0 + 1;
  lua_getfield(L, loaded, "package");
  int package = g0 + 2;
  lua_newtable(L);
  int views = g0 + 3;
  lua_newtable(L);
  int reals = g0 + 4;
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_through);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_touched);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_metas);

  /* what would end or change the process, refused in the real tables
   * (dusk's own code never calls them in a worker) */
  if (lua_getfield(L, loaded, "os") == LUA_TTABLE) {
    lua_pushcfunction(L, exit_refused);
    lua_setfield(L, -2, "exit");
    guard(L, -1, "setlocale", setlocale_guard, views);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, loaded, "io") == LUA_TTABLE) {
    guard(L, -1, "input", renews_with_arg, views);
    guard(L, -1, "output", renews_with_arg, views);
  }
  lua_pop(L, 1);
  if (lua_istable(L, package)) {
    lua_pushcfunction(L, loadlib_refused);
    lua_setfield(L, package, "loadlib");
  }
  lua_newtable(L); /* debug's functions but two: taking one renews */
  int renews = lua_gettop(L);
  if (lua_getfield(L, loaded, "debug") == LUA_TTABLE)
    for (lua_pushnil(L); lua_next(L, renews + 1); lua_pop(L, 1)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
      if (strcmp(k, "traceback") == 0 || strcmp(k, "getinfo") == 0) continue;
      lua_pushvalue(L, -1);
      lua_pushboolean(L, 1);
      lua_rawset(L, renews);
    }
  lua_pop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_renews);

  /* the views */
  for (const char *const *name = stdlibs; *name; name++) {
    if (lua_getfield(L, loaded, *name) == LUA_TTABLE) make_views(L, views, reals, -1, 0);
    lua_pop(L, 1);
  }
  for (lua_pushnil(L); lua_next(L, loaded); lua_pop(L, 1))
    if (lua_type(L, -1) == LUA_TTABLE && !lua_rawequal(L, -1, g0))
      make_views(L, views, reals, -1, 0); /* dusk's modules */
  make_views(L, views, reals, loaded, SHALLOW);
  lua_pushliteral(L, "");
  int has_strmt = lua_getmetatable(L, -1);
  int strmt = lua_gettop(L);
  if (has_strmt) make_views(L, views, reals, strmt, SHALLOW);
  view_type_metatables(L, views, reals);

  /* G, the user globals: G0's fields as views, and the guards */
  lua_newtable(L);
  int g = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, g0); lua_pop(L, 1)) {
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    to_view(L, views);
    lua_rawset(L, g);
  }
  static const struct { const char *name; lua_CFunction fn; } guards[] = {
    {"rawget", rawget_guard}, {"rawset", rawset_guard}, {"rawlen", rawlen_guard},
    {"next", next_guard}, {"getmetatable", getmetatable_guard},
    {"setmetatable", setmetatable_guard}, {"collectgarbage", collectgarbage_guard},
    {"load", load_guard}, {"loadfile", loadfile_guard},
  };
  for (size_t i = 0; i < sizeof guards / sizeof guards[0]; i++)
    guard(L, g, guards[i].name, guards[i].fn, views);
  lua_getfield(L, g, "loadfile");
  lua_pushcclosure(L, dofile_guard, 1);
  lua_setfield(L, g, "dofile");
  if (lua_getfield(L, loaded, "debug") == LUA_TTABLE) { /* user code's, by the view */
    lua_getfield(L, -1, "getinfo");
    lua_pushvalue(L, -1);
    lua_pushcclosure(L, getinfo_guard, 1);
    lua_rawset(L, views);
  }
  lua_pop(L, 1);
  /* G's view stands for G0 wherever user code reaches it */
  make_views(L, views, reals, g, SHALLOW);
  lua_pushvalue(L, g0);
  lua_pushvalue(L, g);
  lua_rawget(L, views);
  lua_rawset(L, views); /* G0's view is G's */
  lua_pushvalue(L, g);
  lua_rawget(L, views);
  int pg = lua_gettop(L);
  lua_pushvalue(L, pg);
  lua_setfield(L, g, "_G");
  finish_views(L, views, reals);

  /* require: the real globals' seals what it loads; user code's reads
   * the task's package tables and hands out views */
  lua_getfield(L, g0, "require");
  int original_require = lua_gettop(L);
  lua_pushvalue(L, original_require);
  lua_pushcclosure(L, sealing_require, 1);
  lua_setfield(L, g0, "require");
  lua_pushlightuserdata(L, sb);
  lua_getfield(L, g0, "require");
  lua_createtable(L, 5, 0);
  static const char *const pkgs[] = {"loaded", "preload", "searchers"};
  for (int i = 0; i < 3; i++) {
    lua_getfield(L, package, pkgs[i]);
    to_view(L, views);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushvalue(L, package);
  to_view(L, views);
  lua_rawseti(L, -2, 4);
  lua_pushvalue(L, package);
  lua_rawseti(L, -2, 5);
  lua_pushcclosure(L, require_guard, 3);
  lua_getfield(L, g0, "require");
  lua_pushvalue(L, -2);
  lua_rawset(L, views);
  lua_pushvalue(L, original_require); /* also reached by debug.getinfo */
  lua_pushvalue(L, -2);
  lua_rawset(L, views);
  lua_setfield(L, g, "require");
  lua_remove(L, original_require);

  if (has_strmt) {
    lua_getfield(L, strmt, "__index");
    to_view(L, views);
    lua_setfield(L, strmt, "__index");
    lua_pushvalue(L, strmt);
    to_view(L, views);
    lua_setfield(L, strmt, "__metatable");
    make_through(L, strmt, views);
  }
  through_type_metatables(L, views);
  if (lua_istable(L, package)) {
    lua_createtable(L, 2, 0);
    lua_getfield(L, package, "path");
    lua_rawseti(L, -2, 1);
    lua_getfield(L, package, "cpath");
    lua_rawseti(L, -2, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_paths);
  }

  /* the inverse map, for sandbox_push_real; the real globals' require,
   * replaced after serial indexed the modules' names, goes by the name of
   * the one it wraps */
  for (lua_pushnil(L); lua_next(L, views); lua_pop(L, 1)) {
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -3);
    lua_rawset(L, reals);
  }
  lua_getfield(L, g, "require"); /* guard -> wrapper -> the original */
  lua_getfield(L, g0, "require");
  lua_pushvalue(L, -1);
  lua_getupvalue(L, -1, 1);
  lua_rawset(L, reals);
  lua_rawset(L, reals);

  /* task environments: lazy copies of G's view */
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, pg);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, env_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, lazy_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushvalue(L, pg);
  lua_rawsetp(L, -2, &mk_src);
  lua_pushboolean(L, 1);
  lua_rawsetp(L, -2, &mk_env);
  sb->envmeta = luaL_ref(L, LUA_REGISTRYINDEX);

  /* the registry's globals read and write the current ones */
  lua_newtable(L);
  lua_createtable(L, 0, 4);
  lua_pushlightuserdata(L, sb);
  lua_pushvalue(L, g);
  lua_pushcclosure(L, current_index, 2);
  lua_setfield(L, -2, "__index");
  lua_pushlightuserdata(L, sb);
  lua_pushvalue(L, g);
  lua_pushcclosure(L, current_newindex, 2);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, current_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_cg);
  lua_rawseti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);

  lua_pushvalue(L, pg);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_pg);
  lua_pushvalue(L, pg);
  sb->current = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, pg);
  sb->between = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, g);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_user);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_dirty);
  lua_pushvalue(L, views);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_views);
  lua_pushvalue(L, reals);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_reals);
  lua_pushvalue(L, g0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key_globals);
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

/* Empties every copy and makes it lazy again. */
static int wipe(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key_dirty);
  int dirty = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, dirty);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, dirty, i);
    int view = lua_gettop(L);
    for (lua_pushnil(L); lua_next(L, view);) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, view);
    }
    lua_getmetatable(L, view);
    lua_rawgetp(L, -1, &mk_lazy);
    lua_setmetatable(L, view);
    lua_settop(L, dirty);
    lua_pushnil(L);
    lua_rawseti(L, dirty, i);
  }
  return 0;
}

static int put_back(lua_State *L) {
  sandbox *sb = lua_touserdata(L, 1);
  if (sb->paths) restore_paths(L);
  if (sb->through) restore_through(L);
  sb->paths = sb->through = 0;
  return 0;
}

/* sandbox_after_task's work once a flag says there is some. */
int sandbox_clean(lua_State *L, sandbox *sb) {
  if (sb->paths || sb->through) {
    lua_pushcfunction(L, put_back);
    lua_pushlightuserdata(L, sb);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
      lua_pop(L, 1);
      sb->renew = 1;
    }
  }
  if (sb->dirty) {
    sb->dirty = 0;
    lua_pushcfunction(L, wipe);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      lua_pop(L, 1);
      sb->renew = 1; /* cannot be cleaned: replaced instead */
    }
  }
  return sb->renew;
}
