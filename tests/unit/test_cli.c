/* Unit tests of the command-line parser (src/cli.c). */
#include <string.h>

#include "app/cli.h"
#include "testhelp.h"

static int parse(cli_opts *o, char *err, int argc, char **argv) {
  return cli_parse(argc, argv, o, err, 256);
}

int main(void) {
  cli_opts o;
  char err[256];

  char *a1[] = {"dusk"};
  TEST("no arguments parse", parse(&o, err, 1, a1) == 0);
  TEST("no arguments mean the REPL", cli_mode_of(&o) == CLI_REPL);

  char *a2[] = {"dusk", "-e", "x=1", "-lfoo", "script.lua", "-e", "y"};
  TEST("options then script parse", parse(&o, err, 7, a2) == 0);
  TEST("two steps before the script", o.nsteps == 2);
  TEST("-e keeps its code", o.steps[0].kind == 'e' && strcmp(o.steps[0].text, "x=1") == 0);
  TEST("-lNAME joined form", o.steps[1].kind == 'l' && strcmp(o.steps[1].text, "foo") == 0);
  TEST("script index", o.script == 4);
  TEST("options after the script are its arguments", cli_mode_of(&o) == CLI_RUN_ONLY);

  char *a3[] = {"dusk", "-i", "s.lua"};
  TEST("-i parses", parse(&o, err, 3, a3) == 0);
  TEST("-i with a script ends in the REPL", cli_mode_of(&o) == CLI_REPL && o.script == 2);

  char *a4[] = {"dusk", "-"};
  TEST("- is a script", parse(&o, err, 2, a4) == 0 && o.script == 1);

  char *a5[] = {"dusk", "--", "-e"};
  TEST("-- ends options", parse(&o, err, 3, a5) == 0 && o.script == 2 && o.nsteps == 0);

  char *a6[] = {"dusk", "-e"};
  TEST("-e without code fails", parse(&o, err, 2, a6) == -1);
  TEST("the error names the option", strstr(err, "'-e'") != NULL);

  char *a7[] = {"dusk", "--frobnicate"};
  TEST("unknown option fails", parse(&o, err, 2, a7) == -1);
  TEST("the error names it", strstr(err, "--frobnicate") != NULL);

  char *a8[] = {"dusk", "--version"};
  TEST("--version", parse(&o, err, 2, a8) == 0 && o.version);
  char *a9[] = {"dusk", "-h"};
  TEST("-h", parse(&o, err, 2, a9) == 0 && o.help);

  char *a10[] = {"dusk", "-e", "print(1)"};
  TEST("-e alone runs and exits", parse(&o, err, 3, a10) == 0 && cli_mode_of(&o) == CLI_RUN_ONLY);

  return test_report();
}
