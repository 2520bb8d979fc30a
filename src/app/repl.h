/*
 * repl: the interactive loop.  Lines come from libedit when standard input
 * is a terminal (prompt, history in ~/.dusk_history or $DUSK_HISTORY, tab
 * completion, Ctrl-C abandoning the line) and from plain reads otherwise.
 * What a line means is decided by the Lua module dusk.repl.
 */
#ifndef DUSK_REPL_H
#define DUSK_REPL_H

#include <lua.h>

/* Runs the REPL on 'L' until end of input.  'interactive' selects libedit
 * and the prompt.  Returns the process exit status (0). */
int repl_run(lua_State *L, int interactive);

#endif
