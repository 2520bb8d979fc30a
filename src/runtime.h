/*
 * runtime: Lua states with dusk loaded, and protected calls into them.
 *
 * Every Lua state dusk creates (the main one, and later one per worker
 * thread) comes from rt_newstate(), so `require "dusk"` and the `dusk`
 * global work the same everywhere.
 */
#ifndef DUSK_RUNTIME_H
#define DUSK_RUNTIME_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include <lua.h>

/* One Lua module compiled into the binary (tools/embed.c writes the table). */
typedef struct rt_module {
  const char *name;      /* module name for require, e.g. "dusk.pretty" */
  const char *chunkname; /* "@lua/dusk/pretty.lua": names it in tracebacks */
  const char *source;
  size_t len;
} rt_module;

/* The embedded modules, ended by an entry whose name is NULL. */
extern const rt_module rt_embedded[];

/* Finds an embedded module by name; NULL if there is none. */
const rt_module *rt_find_module(const char *name);

/* Creates a Lua state with the standard libraries, the embedded modules
 * preloaded and the global `dusk` set.  Returns NULL when out of memory or
 * when loading dusk fails (a message is then written to 'err'). */
lua_State *rt_newstate(char *err, size_t errlen);

/* Calls the function below 'nargs' arguments on the stack, like lua_pcall,
 * with a traceback added to the error message.  While it runs, SIGINT
 * interrupts the Lua code with the error "interrupted!" (lua.c's scheme).
 * Returns a Lua status; on error the message is on the stack. */
int rt_docall(lua_State *L, int nargs, int nresults);

/* lua_pcall with a traceback added to the error message, for any thread
 * (no signal handling). */
int rt_pcall(lua_State *L, int nargs, int nresults);

/* Whether the last rt_docall() failed because of SIGINT. */
int rt_interrupted(void);

/* Ctrl-C and computations.  SIGINT while rt_docall runs sets a flag that
 * every computation polls (its cancel flag), and arms the interrupt hook
 * on the state this thread is running a task in, if any, else on the
 * caller's state.  Worker threads block SIGINT; the scheduler stops their
 * tasks by sending them RT_INTERRUPT_SIGNAL, whose handler arms the hook
 * on the state that thread is running. */
#define RT_INTERRUPT_SIGNAL SIGUSR2

/* The process's cancel flag: non-zero after Ctrl-C until rt_docall or
 * rt_clear_cancel resets it. */
volatile atomic_int *rt_cancel_flag(void);
void rt_clear_cancel(void);

/* Marks 'L' (or NULL) as the state this thread runs a task in; returns
 * the one marked before (tasks nest: a compute inside a task). */
void rt_set_current(lua_State *L);
lua_State *rt_current(void);

/* For worker threads: blocks SIGINT on this thread and installs the
 * handler of RT_INTERRUPT_SIGNAL (once per process). */
void rt_worker_thread_init(void);

/* Writes the error message on top of the stack to stderr, prefixed with
 * 'progname', and pops it. */
void rt_report(lua_State *L, const char *progname);

#endif
