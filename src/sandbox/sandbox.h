/*
 * sandbox: worker Lua states in which no task can change what a later
 * task sees.
 *
 * API.md: every task starts from the caller's values.  A worker state runs
 * many tasks, one after another, so everything a task can reach that
 * outlives it must either be fresh for the task or be put back after it.
 * sandbox_seal() makes that true by construction (the DESIGN note in
 * sandbox.c says how):
 *
 *  - User code never holds the worker's real standard tables, dusk's
 *    module tables, _G, package.loaded or C types' metatables, only
 *    *views* of them: lazy copies that read through to the real table
 *    until the task first writes to them (or reads them raw: rawget,
 *    next, pairs), when they become a plain copy the task may change at
 *    will.  After the task, every view that became a copy is lazy again.
 *  - A task's globals are a fresh table (a view of _G); code the task
 *    loads (load, require, dofile) reads and writes them too.
 *  - What views cannot guard makes the executor replace the state after
 *    the task (sandbox_after_task): a function of the debug library other
 *    than traceback and getinfo, collectgarbage calls that change the
 *    collector, io.input/io.output with a file.
 *  - What would end or change the whole process is an error in a task:
 *    os.exit, os.setlocale with a locale, package.loadlib.
 *
 * A module a user's code requires is loaded once per worker state and
 * keeps its own tables (a module may be a class, its instances'
 * metatable), as a Python module does in a Dask worker; what it defines
 * as globals while loading stays defined.  The cost for a task that
 * changes nothing is reading two flags.
 *
 * Folder src/sandbox/ owns sealing worker states; it includes nothing of
 * dusk, so serial/ and exec/ may both use it.
 */
#ifndef DUSK_SANDBOX_H
#define DUSK_SANDBOX_H

#include <lua.h>

/* A sealed state's flags, in a userdata in its registry. */
typedef struct sandbox {
  int dirty;   /* a view became a copy */
  int renew;   /* a task reached what views cannot guard */
  int loading; /* require calls under way: their globals are the worker's */
  int paths;   /* package.path or cpath to put back */
  int through; /* metatables a task wrote through to, to put back */
  int current; /* registry references: the current globals, */
  int between; /* what they are between tasks (_G's view), */
  int envmeta; /* the metatable of task environments */
  unsigned envs; /* task environments made: the current globals changed */
} sandbox;

/* Seals the state 'L' (once, after everything a worker loads at start).
 * Returns the state's sandbox, or NULL with an error message pushed. */
sandbox *sandbox_seal(lua_State *L);

/* Between two steps of a task and after it: makes every view that became
 * a copy lazy again.  Returns non-zero when the state must be replaced
 * instead (check it only after the whole task).  Inline: a task that
 * changed nothing costs reading the flags. */
int sandbox_clean(lua_State *L, sandbox *sb);
static inline int sandbox_after_task(lua_State *L, sandbox *sb) {
  if (sb->paths | sb->through | sb->dirty) return sandbox_clean(L, sb);
  return sb->renew;
}

/* Pushes the globals dusk's own modules use (in a sealed state the real
 * ones, which tasks never see), else the registry's. */
void sandbox_push_globals(lua_State *L);

/* Pushes what user code may hold of the value at 'idx': in a sealed
 * state, a table's view or a guarded function's guard; else the value. */
void sandbox_push_view(lua_State *L, int idx);

/* Pushes the real table or function behind the view or guard at 'idx'
 * and returns 1; returns 0, pushing nothing, for any other value. */
int sandbox_push_real(lua_State *L, int idx);

/* In a sealed state, pushes a new task environment (a view of _G) and
 * makes it the current globals, which code loaded by the task reads;
 * returns 1.  Returns 0, pushing nothing, in any other state. */
int sandbox_task_env(lua_State *L);

/* Whether the value at 'idx' is a sealed state's registry globals (code
 * loaded by require runs in them: serial sends them as an environment). */
int sandbox_is_globals(lua_State *L, int idx);

/* A task's frame set package.path or cpath (the caller's): they are put
 * back as the worker started after the task. */
void sandbox_paths_set(lua_State *L);

/* Pushes the current globals: in a sealed state the running task's
 * environment (or _G's view between tasks), else the registry's globals.
 * The executor saves them so before a nested task's step and puts them
 * back (sandbox_restore_env, the saved value at 'idx'; 0 for an outermost
 * task's, which puts back _G's view without saving it) after, when the
 * step made an environment ('sb->envs' changed).  'sb' is the state's
 * sandbox, or NULL to look it up (or when the state has none). */
void sandbox_push_env(lua_State *L, sandbox *sb);
void sandbox_restore_env(lua_State *L, sandbox *sb, int idx);

#endif
