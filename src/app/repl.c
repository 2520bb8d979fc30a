/*
 * repl: reading lines for the REPL.
 *
 * DESIGN.  The loop keeps the text of the entry being typed in a luaL_Buffer-
 * like growing string; after each line it asks dusk.repl.compile whether
 * the entry is complete.  Complete entries run through rt_docall (so Ctrl-C
 * interrupts them) and their results are printed by dusk.repl.print_results.
 *
 * Ctrl-C at the prompt: libedit restarts its read after a signal and so
 * swallows the first Ctrl-C.  Reading therefore goes through our own
 * EL_GETCFN.  SIGINT stays blocked while libedit works and is let in only
 * inside ppoll(), atomically, so a Ctrl-C can neither slip in between a
 * check of the flag and a blocking read nor be lost: the wait fails with
 * EINTR, we report an error to libedit, el_wgets returns and the loop
 * abandons the entry.
 *
 * Tab runs Lua inside libedit, and evaluating `a.b` to complete `a.b.c`
 * may run a user's __index: that call lets SIGINT in and is bounded
 * (rt_docall_bounded), so a completion that hangs never hangs the REPL.
 */
#include "app/repl.h"

#include <errno.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

#include <histedit.h>
#include <lauxlib.h>

#include "base/alloc.h"
#include "exec/runtime.h"

#define HISTORY_SIZE 1000
#define COMPLETE_SECONDS 1 /* then a completion gives up */
#define QUERY_ITEMS 100     /* this many candidates or more: ask first (readline's) */

typedef struct repl {
  lua_State *L;
  int env_ref;       /* the REPL's environment table */
  int module_ref;    /* the dusk.repl module */
  char *entry;       /* the entry typed so far (lines joined by '\n') */
  size_t len, cap;
  EditLine *el;
  History *hist;
  char history_path[4096];
} repl;

static volatile sig_atomic_t got_sigint;
static sigset_t wait_mask; /* the signal mask while waiting for a key */

static void on_sigint(int sig) {
  (void)sig;
  got_sigint = 1;
}

/* ------------------------------------------------------------- the entry */

static void entry_append(repl *r, const char *line, size_t n) {
  size_t need = r->len + n + 2;
  if (need > r->cap) {
    size_t cap = r->cap ? r->cap : 256;
    while (cap < need) cap *= 2;
    char *p = base_realloc(r->entry, cap);
    if (p == NULL) {
      fputs("dusk: out of memory reading the line\n", stderr);
      abort();
    }
    r->entry = p;
    r->cap = cap;
  }
  if (r->len > 0) r->entry[r->len++] = '\n';
  memcpy(r->entry + r->len, line, n);
  r->len += n;
  r->entry[r->len] = '\0';
}

/* Pushes field 'name' of the dusk.repl module. */
static void push_repl_fn(repl *r, const char *name) {
  lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->module_ref);
  lua_getfield(r->L, -1, name);
  lua_remove(r->L, -2);
}

/* Compiles the entry.  Returns 1 with the function pushed, 0 when the
 * entry is incomplete, -1 after reporting a syntax error. */
static int compile_entry(repl *r) {
  lua_State *L = r->L;
  push_repl_fn(r, "compile");
  lua_pushlstring(L, r->entry, r->len);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
  if (rt_docall(L, 2, 3) != LUA_OK) {
    rt_report(L, NULL);
    return -1;
  }
  if (!lua_isnil(L, -3)) {
    lua_pop(L, 2);
    return 1;
  }
  int incomplete = lua_toboolean(L, -1);
  if (!incomplete) {
    lua_pop(L, 1);
    rt_report(L, NULL);
    lua_pop(L, 1);
    return -1;
  }
  lua_pop(L, 3);
  return 0;
}

/* Runs the compiled entry on the stack and prints its results. */
static void run_entry(repl *r) {
  lua_State *L = r->L;
  int base = lua_gettop(L) - 1;
  if (rt_docall(L, 0, LUA_MULTRET) != LUA_OK) {
    rt_report(L, NULL);
    return;
  }
  int n = lua_gettop(L) - base;
  if (n > 0) {
    push_repl_fn(r, "print_results");
    lua_insert(L, base + 1);
    if (rt_docall(L, n, 0) != LUA_OK) rt_report(L, NULL);
  }
  lua_settop(L, base);
}

/* Handles one line.  Returns 1 when more lines are needed for the entry. */
static int feed_line(repl *r, const char *line, size_t n) {
  entry_append(r, line, n);
  int status = compile_entry(r);
  if (status == 0) return 1;
  if (r->hist && r->len > 0) {
    HistEvent ev;
    history(r->hist, &ev, H_ENTER, r->entry);
    history(r->hist, &ev, H_SAVE, r->history_path);
  }
  if (status == 1) run_entry(r);
  r->len = 0;
  return 0;
}

/* ------------------------------------------------- plain standard input */

static int run_plain(repl *r) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    if (n > 0 && line[n - 1] == '\n') n--;
    if (n > 0 && line[n - 1] == '\r') n--;
    feed_line(r, line, (size_t)n);
  }
  free(line); /* getline's, from libc */
  if (r->len > 0)
    fprintf(stderr, "dusk: input ended inside an unfinished statement\n");
  return EXIT_SUCCESS;
}

/* ------------------------------------------------------------- libedit */

static int more_lines; /* read by the prompt function */

static char *prompt(EditLine *el) {
  (void)el;
  return more_lines ? ">> " : "> ";
}

/* EL_GETCFN: one character, decoded from the locale's multibyte encoding;
 * fails on SIGINT (see DESIGN above). */
static int read_char(EditLine *el, wchar_t *wc) {
  (void)el;
  mbstate_t st;
  memset(&st, 0, sizeof st);
  for (;;) {
    if (got_sigint) {
      errno = EINTR;
      return -1;
    }
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    if (ppoll(&pfd, 1, NULL, &wait_mask) < 0) {
      if (errno == EINTR) continue; /* SIGINT (seen above) or another signal */
      return -1;
    }
    char c;
    ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    size_t k = mbrtowc(wc, &c, 1, &st);
    if (k == (size_t)-2) continue;            /* more bytes to come */
    if (k == (size_t)-1) {                    /* invalid: pass the byte */
      memset(&st, 0, sizeof st);
      *wc = (unsigned char)c;
    }
    return 1;
  }
}

/* readline's question before a long list (its completion-query-items):
 * y, Y or space shows it; n, N, Delete or Ctrl-C does not. */
static int want_list(EditLine *el, lua_Integer n) {
  printf("\nDisplay all %lld possibilities? (y or n)", (long long)n);
  fflush(stdout);
  for (;;) {
    wchar_t c;
    if (el_wgetc(el, &c) != 1) return 0;
    if (c == L'y' || c == L'Y' || c == L' ') return 1;
    if (c == L'n' || c == L'N' || c == 0x7f) return 0;
    fputc('\a', stdout); /* any other key: ask again */
    fflush(stdout);
  }
}

static unsigned char complete(EditLine *el, int ch) {
  (void)ch;
  repl *r;
  el_get(el, EL_CLIENTDATA, &r);
  const LineInfo *li = el_line(el);
  lua_State *L = r->L;
  push_repl_fn(r, "complete");
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->env_ref);
  lua_pushlstring(L, li->buffer, (size_t)(li->cursor - li->buffer));
  /* Completing a.b.c evaluates a.b: a user's __index may never return.
   * So Ctrl-C is let in, and the completion gives up after a while. */
  sigset_t sigint, before;
  sigemptyset(&sigint);
  sigaddset(&sigint, SIGINT);
  sigprocmask(SIG_UNBLOCK, &sigint, &before);
  int st = rt_docall_bounded(L, 2, 2, COMPLETE_SECONDS);
  sigprocmask(SIG_SETMASK, &before, NULL);
  if (st != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    printf("\ncompletion failed: %.*s\n", (int)strcspn(msg, "\n"), msg);
    fflush(stdout);
    lua_pop(L, 1);
    return CC_REDISPLAY;
  }
  unsigned char status = CC_REFRESH;
  const char *add = lua_tostring(L, -2);
  if (add != NULL && add[0] != '\0') {
    if (el_insertstr(el, add) == -1) status = CC_ERROR;
  } else if (lua_istable(L, -1) && luaL_len(L, -1) >= QUERY_ITEMS &&
             !want_list(el, luaL_len(L, -1))) {
    fputc('\n', stdout);
    status = CC_REDISPLAY;
  } else if (lua_istable(L, -1)) {
    int width = 80;
    el_get(el, EL_GETTC, "co", &width);
    push_repl_fn(r, "format_choices");
    lua_pushvalue(L, -2);
    lua_pushinteger(L, width);
    if (rt_docall(L, 2, 1) == LUA_OK) {
      fputc('\n', stdout);
      fputs(lua_tostring(L, -1), stdout);
      fflush(stdout);
      status = CC_REDISPLAY;
    }
    lua_pop(L, 1);
  } else {
    status = CC_ERROR; /* nothing to complete: libedit beeps */
  }
  lua_pop(L, 2);
  return status;
}

static void history_path(char *out, size_t size) {
  const char *env = getenv("DUSK_HISTORY");
  const char *home = getenv("HOME");
  if (env && *env) snprintf(out, size, "%s", env);
  else snprintf(out, size, "%s/.dusk_history", home ? home : ".");
}

static int run_edit(repl *r) {
  setlocale(LC_CTYPE, "");
  history_path(r->history_path, sizeof r->history_path);
  HistEvent ev;
  r->hist = history_init();
  history(r->hist, &ev, H_SETSIZE, HISTORY_SIZE);
  history(r->hist, &ev, H_SETUNIQUE, 1);
  history(r->hist, &ev, H_LOAD, r->history_path);

  r->el = el_init("dusk", stdin, stdout, stderr);
  el_set(r->el, EL_CLIENTDATA, r);
  el_set(r->el, EL_EDITOR, "emacs");
  el_set(r->el, EL_PROMPT, prompt);
  el_set(r->el, EL_HIST, history, r->hist);
  el_set(r->el, EL_GETCFN, read_char);
  /* The wide form: libedit keeps these pointers, while the narrow form
   * leaks the wide copies it makes of them. */
  el_wset(r->el, EL_ADDFN, L"dusk-complete", L"complete a name", complete);
  el_set(r->el, EL_BIND, "^I", "dusk-complete", NULL);
  el_source(r->el, NULL); /* the user's ~/.editrc */

  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint; /* no SA_RESTART: read() must fail with EINTR */
  sigemptyset(&sa.sa_mask);

  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  for (;;) {
    more_lines = r->len > 0;
    got_sigint = 0;
    sigset_t before;
    sigprocmask(SIG_BLOCK, &block, &before);
    wait_mask = before;
    sigdelset(&wait_mask, SIGINT);
    sigaction(SIGINT, &sa, &old);
    /* Raw mode before the prompt is drawn: libedit would switch only at
     * its first read, and a key typed in between (Ctrl-D, say) would be
     * taken by the terminal's canonical mode and lost. */
    el_set(r->el, EL_PREP_TERM, 1);
    int count;
    const char *line = el_gets(r->el, &count);
    /* unblock while our handler is still in place: a pending Ctrl-C only
     * sets the flag */
    sigprocmask(SIG_SETMASK, &before, NULL);
    sigaction(SIGINT, &old, NULL);
    if (got_sigint) { /* abandon the entry, back to a fresh prompt */
      fputs("^C\n", stdout);
      fflush(stdout);
      el_reset(r->el);
      r->len = 0;
      continue;
    }
    if (line == NULL || count <= 0) break; /* Ctrl-D or end of input */
    size_t n = (size_t)count;
    if (n > 0 && line[n - 1] == '\n') n--;
    feed_line(r, line, n);
  }
  fputc('\n', stdout);
  el_end(r->el);
  history_end(r->hist);
  return EXIT_SUCCESS;
}

int repl_run(lua_State *L, int interactive) {
  repl r;
  memset(&r, 0, sizeof r);
  r.L = L;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk.repl");
  if (rt_docall(L, 1, 1) != LUA_OK) {
    rt_report(L, "dusk");
    return EXIT_FAILURE;
  }
  lua_getfield(L, -1, "env");
  if (rt_docall(L, 0, 1) != LUA_OK) {
    rt_report(L, "dusk");
    lua_pop(L, 1);
    return EXIT_FAILURE;
  }
  r.env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  r.module_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  int status = interactive ? run_edit(&r) : run_plain(&r);
  luaL_unref(L, LUA_REGISTRYINDEX, r.env_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, r.module_ref);
  base_free(r.entry);
  return status;
}
