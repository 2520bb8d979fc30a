/*
 * main: the dusk command.  Parses the command line (cli), makes the Lua
 * state (runtime), runs -e/-l steps and the script, then maybe the REPL.
 * Only this file decides the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>
#include <zstd.h>

#include "app/cli.h"
#include "dusk_config.h"
#include "app/repl.h"
#include "array/blas.h"
#include "bind/lmodules.h"
#include "exec/runtime.h"

#define EXIT_INTERRUPTED 130 /* as a shell reports a process ended by SIGINT */

static const char *progname = "dusk";

/* The global 'arg' as lua(1) builds it: the script at index 0, its
 * arguments at 1.., the interpreter and options at negative indices. */
static void create_arg_table(lua_State *L, int argc, char **argv, int script) {
  lua_createtable(L, argc - script - 1, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int failed(lua_State *L) {
  rt_report(L, progname);
  return rt_interrupted() ? EXIT_INTERRUPTED : EXIT_FAILURE;
}

static int run_step(lua_State *L, const cli_step *s) {
  if (s->kind == 'e') {
    if (luaL_loadbuffer(L, s->text, strlen(s->text), "=(command line)") != LUA_OK)
      return failed(L);
    if (rt_docall(L, 0, 0) != LUA_OK) return failed(L);
  } else {
    lua_getglobal(L, "require");
    lua_pushstring(L, s->text);
    if (rt_docall(L, 1, 1) != LUA_OK) return failed(L);
    lua_setglobal(L, s->text);
  }
  return EXIT_SUCCESS;
}

static int run_script(lua_State *L, int argc, char **argv, int script) {
  const char *path = argv[script];
  /* luaL_loadfile skips a first line starting with '#', so shebang
   * scripts work; NULL reads standard input. */
  if (luaL_loadfile(L, strcmp(path, "-") == 0 ? NULL : path) != LUA_OK)
    return failed(L);
  int nargs = argc - script - 1;
  luaL_checkstack(L, nargs, "too many arguments to script");
  for (int i = script + 1; i < argc; i++) lua_pushstring(L, argv[i]);
  if (rt_docall(L, nargs, 0) != LUA_OK) return failed(L);
  return EXIT_SUCCESS;
}

int main(int argc, char **argv) {
  cli_opts opts;
  char err[256];
  if (cli_parse(argc, argv, &opts, err, sizeof err) != 0) {
    fprintf(stderr, "%s: %s\n%s", progname, err, cli_usage);
    return EXIT_FAILURE;
  }
  if (opts.help) {
    fputs(cli_usage, stdout);
    return EXIT_SUCCESS;
  }
  if (opts.version) {
    printf("dusk %s (%s, zstd %s)\n", DUSK_VERSION, LUA_RELEASE,
           ZSTD_versionString());
    printf("blas: %s\n", blas_kernel());
    return EXIT_SUCCESS;
  }
  lua_State *L = rt_newstate(lmod_open, err, sizeof err);
  if (L == NULL) {
    fprintf(stderr, "%s: %s\n", progname, err);
    return EXIT_FAILURE;
  }
  create_arg_table(L, argc, argv, opts.script);
  int status = EXIT_SUCCESS;
  for (int i = 0; i < opts.nsteps && status == EXIT_SUCCESS; i++)
    status = run_step(L, &opts.steps[i]);
  if (status == EXIT_SUCCESS && opts.script != 0)
    status = run_script(L, argc, argv, opts.script);
  if (status == EXIT_SUCCESS && cli_mode_of(&opts) == CLI_REPL)
    status = repl_run(L, isatty(STDIN_FILENO));
  lua_close(L);
  return status;
}
