/*
 * runtime: Lua states with dusk loaded, and protected calls into them.
 *
 * Every Lua state dusk creates (the main one, and one per worker thread)
 * comes from rt_newstate(), so `require "dusk"` and the `dusk` global
 * work the same everywhere.
 */
#ifndef DUSK_RUNTIME_H
#define DUSK_RUNTIME_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include <lua.h>

#include "base/interrupt.h"

/* Creates a Lua state and calls 'open' in it, protected (dusk's is
 * lmod_open, in bind/: the standard libraries, dusk's modules preloaded,
 * the global `dusk`).  Returns NULL when out of memory or when 'open'
 * fails (a message is then written to 'err'). */
lua_State *rt_newstate(lua_CFunction open, char *err, size_t errlen);

/* Calls the function below 'nargs' arguments on the stack, like lua_pcall,
 * with a traceback added to the error message.  While it runs, SIGINT
 * interrupts the Lua code with the error "interrupted!" (lua.c's scheme).
 * Returns a Lua status; on error the message is on the stack. */
int rt_docall(lua_State *L, int nargs, int nresults);

/* rt_docall for code that must not hang its caller (the REPL's Tab runs
 * a user's __index): stopped with an error after 'seconds', and by
 * SIGINT, for good, as a task is (a pcall inside cannot swallow it). */
int rt_docall_bounded(lua_State *L, int nargs, int nresults, int seconds);

/* lua_pcall with a traceback added to the error message, for any thread
 * (no signal handling). */
int rt_pcall(lua_State *L, int nargs, int nresults);

/* Errors that are tables travel as themselves: a task's error table is
 * raised again in the caller as the table the user raised, as Dask
 * re-raises the task's exception.  What a report says of one (the task,
 * the message or __tostring, the traceback where it was raised) is its
 * note, kept beside it in a weak table of the state's registry; rt_pcall
 * and rt_docall make a noted table's report their message. */

/* rt_pcall for a task: an error that is a table stays the table, noted
 * with its traceback (the first note stays: the traceback of where it
 * was raised). */
int rt_pcall_task(lua_State *L, int nargs, int nresults);
/* What a task's message handler does with the error value at index 1:
 * leaves on top the table itself, noted (when it was not) with 'prefix',
 * its message and the traceback from 'level' (counted as luaL_traceback
 * does from the running C function), or the message so made for any
 * other value. */
void rt_task_error(lua_State *L, const char *prefix, int level);
/* Pushes the note of the value at 'idx' and returns 1, or pushes nil and
 * returns 0 (a value without one, or not a table). */
int rt_error_note(lua_State *L, int idx);
/* Makes the string on top (popped) the note of the table at 'idx'. */
void rt_set_error_note(lua_State *L, int idx);

/* Whether the last rt_docall() failed because of SIGINT. */
int rt_interrupted(void);

/* Ctrl-C.  One Ctrl-C is one "interrupted!" error in the caller's code,
 * as in lua.c: a pcall there catches it.  While rt_docall runs, SIGINT
 * sets the calling thread's interrupt flag (interrupt.h), which C loops
 * poll and which is every computation's cancel flag, and arms a hook that
 * raises the error at the next Lua instruction: on the state this thread
 * runs a task in, if any, else on the caller's state.  The first to
 * deliver the error (that hook, a C loop, a cancelled compute) clears
 * both.  Worker threads block SIGINT; the scheduler stops their tasks by
 * sending them RT_INTERRUPT_SIGNAL, whose handler sets that thread's flag
 * and arms the hook on the state it runs a task in.  A task's interrupt
 * is not a caller's: its hook raises again at every instruction, so a
 * pcall inside the task cannot swallow it, until the task ends. */
#define RT_INTERRUPT_SIGNAL SIGUSR2

/* The calling thread's interrupt flag, for a computation's cancel flag. */
volatile atomic_int *rt_cancel_flag(void);

/* Pushes the message "interrupted!" and takes the interrupt as delivered
 * (outside a task: clears the flag and disarms the caller's hook), as
 * rt_interrupt_error (interrupt.h) does before it raises. */
void rt_interrupt_push(lua_State *L);

/* Marks 'L' (or NULL) as the state this thread runs a task in (tasks
 * nest: a compute inside a task).  A state marked while the thread's
 * flag is set is interrupted at once; when a worker thread's outermost
 * task ends (NULL), its flag and hook are cleared. */
void rt_set_current(lua_State *L);
lua_State *rt_current(void);

/* For worker threads: blocks SIGINT on this thread and installs the
 * handler of RT_INTERRUPT_SIGNAL (once per process). */
void rt_worker_thread_init(void);

/* Writes the error message on top of the stack to stderr, prefixed with
 * 'progname', and pops it. */
void rt_report(lua_State *L, const char *progname);

#endif
