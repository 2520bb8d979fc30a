/*
 * cli: the command line, parsed into what to run, in order.
 *
 *   dusk [options] [script [args...]]
 *
 * Options as in lua(1): -e CODE and -l NAME run in the order given, -i
 * enters the REPL after the script, -v/--version, -h/--help, -- ends the
 * options, - runs the program on standard input.
 *
 * Folder src/app/ owns the binary: main, the command line, the REPL; it
 * includes bind/ and exec/.
 */
#ifndef DUSK_CLI_H
#define DUSK_CLI_H

#include <stddef.h>

#define CLI_MAX_STEPS 64

typedef struct cli_step {
  char kind;        /* 'e' (run code) or 'l' (require a module) */
  const char *text; /* points into argv */
} cli_step;

typedef struct cli_opts {
  int version, help, interactive;
  int script;       /* argv index of the script ("-" for stdin); 0 if none */
  int nsteps;
  cli_step steps[CLI_MAX_STEPS];
} cli_opts;

/* Parses argv.  Returns 0, or -1 with a message for the user in 'err'. */
int cli_parse(int argc, char **argv, cli_opts *o, char *err, size_t errlen);

/* What dusk does when it has parsed 'o' and knows whether standard input is
 * a terminal. */
typedef enum {
  CLI_RUN_ONLY,   /* run steps and script, then exit */
  CLI_REPL,       /* run steps and script, then the REPL */
} cli_mode;

cli_mode cli_mode_of(const cli_opts *o);

/* The text of `dusk --help`. */
extern const char cli_usage[];

#endif
