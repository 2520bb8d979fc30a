/*
 * sandbox: worker Lua states in which no task can change what a later
 * task sees.
 *
 * API.md: every task starts from the caller's values.  A worker state runs
 * many tasks, one after another, so everything a task can reach that
 * outlives it must either be fresh for the task or be put back after it.
 * sandbox_seal() makes that true by construction:
 *
 *  - Every table reachable through fields from package.loaded (the
 *    standard libraries, dusk's modules, package.loaded itself, _G) and
 *    the metatables of the string type and of C userdata types is
 *    replaced, wherever user code could read it, by a *view*: an empty
 *    table whose protected metatable reads through to the real one.  A
 *    write to a view (assignment, rawset, table.insert) lands in the view
 *    and marks the state dirty; after the task, a dirty state's views are
 *    emptied.  The real tables are reachable only through the debug
 *    library.
 *  - The globals a task's functions see are a fresh table per task
 *    (serial's task environment), reading through to the view of _G;
 *    while the task runs it is also the registry's globals, so load,
 *    require and dofile see the task's globals, as they would the
 *    caller's.  Modules required later are sealed as require stores them.
 *  - What views cannot guard taints the state, and a tainted state is
 *    replaced by a new one after the task: the debug library (all but
 *    traceback and getinfo), collectgarbage calls that change the
 *    collector, io.input/io.output with an argument.
 *  - What would end or change the whole process is an error in a task:
 *    os.exit, os.setlocale with a locale, package.loadlib.
 *
 * The cost for a task that changes nothing is reading two flags.  State
 * a module keeps in its own upvalues (a cache in a local) lives as long
 * as the worker state, as a Python module's does in a Dask worker.
 */
#ifndef DUSK_SANDBOX_H
#define DUSK_SANDBOX_H

#include <lua.h>

/* A sealed state's flags, a userdata in its registry. */
typedef struct sandbox {
  int dirty;  /* a task wrote into a view */
  int renew;  /* a task reached what views cannot guard */
} sandbox;

/* Seals the state 'L' (once, after everything a worker loads at start).
 * Returns the state's sandbox, or NULL with an error message pushed. */
sandbox *sandbox_seal(lua_State *L);

/* After a task: empties the views a task wrote into.  Returns non-zero
 * when the state must be replaced instead. */
int sandbox_after_task(lua_State *L, sandbox *sb);

/* Pushes the real globals of a sealed state, else the registry's. */
void sandbox_push_globals(lua_State *L);

/* Pushes the view of the table at 'idx' in a sealed state, or the table
 * itself when it has none (or the state is not sealed). */
void sandbox_push_view(lua_State *L, int idx);

/* Pushes the real table of the view at 'idx' and returns 1; returns 0,
 * pushing nothing, when the value is no view. */
int sandbox_push_real(lua_State *L, int idx);

/* Makes the table on top of the stack a task's environment: its _G is
 * itself, and it becomes the registry's globals until the executor puts
 * them back.  No effect outside sealed states.  Leaves the stack as is. */
void sandbox_task_env(lua_State *L);

#endif
