/*
 * runtime: creating Lua states, and calling into them: tracebacks,
 * Ctrl-C, the notes kept on error tables.
 */
#include "exec/runtime.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>


lua_State *rt_newstate(lua_CFunction open, char *err, size_t errlen) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    snprintf(err, errlen, "not enough memory for a Lua state");
    return NULL;
  }
  lua_pushcfunction(L, open);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    snprintf(err, errlen, "cannot load dusk: %s", msg ? msg : "(error object)");
    lua_close(L);
    return NULL;
  }
  return L;
}

/*
 * Ctrl-C (see runtime.h).  A handler may not touch a state beyond
 * lua_sethook (documented as signal-safe), so it sets the thread's flag
 * and arms a hook that raises the error at the next instruction, as
 * lua.c does.  The caller's state must be reachable from the handler,
 * hence the one static below; only the main thread calls rt_docall.
 */
_Thread_local atomic_int rt_interrupt_flag;
static lua_State *interruptible;
static volatile sig_atomic_t was_interrupted;
static _Thread_local lua_State *volatile current; /* the state this thread runs a task in */
static _Thread_local volatile sig_atomic_t task_hooked; /* stop_task was armed on a state */
static _Thread_local int pool_thread;

static void on_interrupt_signal(int sig);

static void install_interrupt_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(RT_INTERRUPT_SIGNAL, &sa, NULL);
}

#define STOP_MASK (LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT)

/* The caller's hook, lua.c's: raises once, and the interrupt is delivered. */
static void stop_once(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  atomic_store(&rt_interrupt_flag, 0);
  luaL_error(L, "interrupted!");
}

/* A task's hook stays until the task ends, however the task catches. */
static void stop_task(lua_State *L, lua_Debug *ar) {
  (void)ar;
  luaL_error(L, "interrupted!");
}

/* Arms stop_task on 'L', noting it: a task's end looks for the hook only
 * when one was armed (lua_gethook is a call into Lua at every task). */
static void arm_task(lua_State *L) {
  task_hooked = 1;
  lua_sethook(L, stop_task, STOP_MASK, 1);
}

static void on_sigint(int sig) {
  signal(sig, SIG_DFL); /* a second Ctrl-C kills the process */
  was_interrupted = 1;
  atomic_store(&rt_interrupt_flag, 1);
  lua_State *L = current;
  if (L) arm_task(L);
  else lua_sethook(interruptible, stop_once, STOP_MASK, 1);
}

static void on_interrupt_signal(int sig) {
  (void)sig;
  lua_State *L = current;
  if (L == NULL) return; /* between tasks: nothing to stop */
  atomic_store(&rt_interrupt_flag, 1);
  arm_task(L);
}

volatile atomic_int *rt_cancel_flag(void) { return &rt_interrupt_flag; }

void rt_interrupt_push(lua_State *L) {
  if (current == NULL) {
    atomic_store(&rt_interrupt_flag, 0);
    if (interruptible && lua_gethook(interruptible) == stop_once)
      lua_sethook(interruptible, NULL, 0, 0);
  }
  lua_pushliteral(L, "interrupted!");
}

int rt_interrupt_error(lua_State *L) {
  rt_interrupt_push(L);
  return lua_error(L);
}

void rt_set_current(lua_State *L) {
  lua_State *prev = current;
  current = L;
  atomic_signal_fence(memory_order_seq_cst); /* the handler sees L from here on */
  if (L != NULL) {
    if (rt_interrupt_pending()) arm_task(L);
  } else if (prev != NULL) {
    if (task_hooked && lua_gethook(prev) == stop_task) {
      lua_sethook(prev, NULL, 0, 0);
      task_hooked = 0;
    }
    /* a pool thread's flag stops its task; the caller's waits for the
     * compute.  (Read first: a store is a full barrier, at every task.) */
    if (pool_thread && atomic_load_explicit(&rt_interrupt_flag, memory_order_relaxed))
      atomic_store(&rt_interrupt_flag, 0);
  }
}

lua_State *rt_current(void) { return current; }

void rt_worker_thread_init(void) {
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, install_interrupt_handler);
  pool_thread = 1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* The weak table of error notes: error table -> what a report says of it. */
static void push_notes(lua_State *L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, "dusk.errnotes") == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 1);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_setfield(L, LUA_REGISTRYINDEX, "dusk.errnotes");
}

int rt_error_note(lua_State *L, int idx) {
  if (lua_type(L, idx) != LUA_TTABLE) {
    lua_pushnil(L);
    return 0;
  }
  idx = lua_absindex(L, idx);
  push_notes(L);
  lua_pushvalue(L, idx);
  int found = lua_rawget(L, -2) == LUA_TSTRING;
  lua_remove(L, -2);
  return found;
}

void rt_set_error_note(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  push_notes(L);
  lua_pushvalue(L, idx);
  lua_pushvalue(L, -3);
  lua_rawset(L, -3);
  lua_pop(L, 2);
}

/* The message with traceback of the error at 1, from 'level' up. */
static const char *traceback(lua_State *L, const char *prefix, int level) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (!luaL_callmeta(L, 1, "__tostring") || lua_type(L, -1) != LUA_TSTRING)
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    msg = lua_tostring(L, -1);
  }
  luaL_traceback(L, L, lua_pushfstring(L, "%s%s", prefix, msg), level);
  return lua_tostring(L, -1);
}

static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  /* a message that already carries the traceback of where it happened
   * (a task's error, re-raised) keeps it alone; so does a noted table */
  if (msg != NULL && strstr(msg, "\nstack traceback:\n") != NULL) return 1;
  if (rt_error_note(L, 1)) return 1;
  traceback(L, "", 1);
  return 1;
}

void rt_task_error(lua_State *L, const char *prefix, int level) {
  const char *msg = lua_tostring(L, 1);
  if (lua_type(L, 1) == LUA_TTABLE) {
    if (!rt_error_note(L, 1)) {
      traceback(L, prefix, level);
      rt_set_error_note(L, 1);
    }
    lua_settop(L, 1);
  } else if (msg != NULL && strstr(msg, "\nstack traceback:\n") != NULL) {
    lua_pushfstring(L, "%s%s", prefix, msg); /* already told where */
  } else {
    traceback(L, prefix, level);
  }
}

static int task_msghandler(lua_State *L) {
  rt_task_error(L, "", 1);
  return 1;
}

static int pcall_with(lua_State *L, int nargs, int nresults, lua_CFunction handler) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, handler);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  return status;
}

int rt_pcall(lua_State *L, int nargs, int nresults) {
  return pcall_with(L, nargs, nresults, msghandler);
}

int rt_pcall_task(lua_State *L, int nargs, int nresults) {
  return pcall_with(L, nargs, nresults, task_msghandler);
}

int rt_docall(lua_State *L, int nargs, int nresults) {
  interruptible = L;
  was_interrupted = 0;
  atomic_store(&rt_interrupt_flag, 0);
  /* sigaction, not signal(): the caller's flags (the REPL's handler is
   * installed without SA_RESTART) must come back as they were. */
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  int status = rt_pcall(L, nargs, nresults);
  sigaction(SIGINT, &old, NULL);
  /* a hook armed while C code ran must not fire in later code */
  if (was_interrupted) lua_sethook(L, NULL, 0, 0);
  return status;
}

/* A bounded call's hook looks at the clock every BOUND_STEP instructions;
 * once late, it raises at every instruction, as a task's interrupt does. */
#define BOUND_STEP 100000
static struct timespec deadline;
static int bound_seconds;

static void stop_late(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_pushfstring(L, "stopped after %d s", bound_seconds);
  lua_error(L);
}

static void bound_hook(lua_State *L, lua_Debug *ar) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (now.tv_sec < deadline.tv_sec ||
      (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec))
    return;
  lua_sethook(L, stop_late, STOP_MASK, 1);
  stop_late(L, ar);
}

int rt_docall_bounded(lua_State *L, int nargs, int nresults, int seconds) {
  lua_State *outer = current;
  rt_set_current(L); /* SIGINT arms a task's hook: it stays */
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += seconds;
  bound_seconds = seconds;
  lua_sethook(L, bound_hook, LUA_MASKCOUNT, BOUND_STEP);
  int status = rt_docall(L, nargs, nresults);
  rt_set_current(outer);
  lua_sethook(L, NULL, 0, 0);
  return status;
}

int rt_interrupted(void) { return was_interrupted; }

void rt_report(lua_State *L, const char *progname) {
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL) msg = "(error object is not a string)";
  if (progname) fprintf(stderr, "%s: ", progname);
  fprintf(stderr, "%s\n", msg);
  fflush(stderr);
  lua_pop(L, 1);
}
