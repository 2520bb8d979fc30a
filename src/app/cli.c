#include "app/cli.h"

#include <stdio.h>
#include <string.h>

const char cli_usage[] =
  "usage: dusk [options] [script [args...]]\n"
  "  -e CODE       run CODE (may be repeated)\n"
  "  -l NAME       require module NAME and set global NAME to it\n"
  "  -i            enter the REPL after running the script and options\n"
  "  -v, --version print the version and exit\n"
  "  -h, --help    print this help and exit\n"
  "  --            stop handling options\n"
  "  -             run the program read from standard input\n"
  "With no script and no -e, dusk starts the REPL (without a prompt when\n"
  "standard input is not a terminal).  See dusk(1) and dusk(3).\n";

static int add_step(cli_opts *o, char kind, const char *text, char *err,
                    size_t errlen) {
  if (o->nsteps == CLI_MAX_STEPS) {
    snprintf(err, errlen, "too many -e/-l options (at most %d)", CLI_MAX_STEPS);
    return -1;
  }
  o->steps[o->nsteps].kind = kind;
  o->steps[o->nsteps].text = text;
  o->nsteps++;
  return 0;
}

int cli_parse(int argc, char **argv, cli_opts *o, char *err, size_t errlen) {
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      o->script = i;
      return 0;
    }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) o->script = i + 1;
      return 0;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      o->version = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      o->help = 1;
    } else if (strcmp(a, "-i") == 0) {
      o->interactive = 1;
    } else if (a[1] == 'e' || a[1] == 'l') {
      /* "-e CODE" or "-eCODE", as lua(1) accepts both */
      const char *text = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
      if (text == NULL) {
        snprintf(err, errlen, "'%s' needs an argument", a);
        return -1;
      }
      if (add_step(o, a[1], text, err, errlen) != 0) return -1;
    } else {
      snprintf(err, errlen, "unrecognized option '%s'", a);
      return -1;
    }
  }
  return 0;
}

cli_mode cli_mode_of(const cli_opts *o) {
  if (o->interactive) return CLI_REPL;
  if (o->script == 0 && o->nsteps == 0) return CLI_REPL;
  return CLI_RUN_ONLY;
}
