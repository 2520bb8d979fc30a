/*
 * lio: the Lua module "dusk.io" (text files for Bag) over textio.h.
 * See lio.c for its functions.
 */
#ifndef DUSK_LIO_H
#define DUSK_LIO_H

#include <stddef.h>

#include <lua.h>

int luaopen_dusk_io(lua_State *L);

/* A handler of one line (valid only during the call).  It may raise, and
 * may leave values on the stack.  It runs in a frame whose stack holds at
 * indexes 1..n the values of lio_each_line's caller. */
typedef void (*lio_line_fn)(lua_State *L, void *ud, const char *line, size_t len);

/* io.each_line with a C handler: reads the lines of 'path' with the
 * options table at index 2 ({offset=, length=, compression=}, or nil)
 * and hands each to 'fn'.  Returns as a lua_CFunction does: the number
 * of lines pushed, or nil and a message (2) when the file cannot be read;
 * an error from 'fn' is raised with the file and line in front. */
int lio_each_line(lua_State *L, const char *path, lio_line_fn fn, void *ud);

#endif
