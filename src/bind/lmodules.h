/*
 * lmodules: what every Lua state dusk makes has loaded (lmod_open, the
 * function runtime's rt_newstate calls in it): the standard libraries,
 * dusk's Lua modules compiled into the binary and its C modules in
 * package.preload, and the global `dusk`.
 */
#ifndef DUSK_LMODULES_H
#define DUSK_LMODULES_H

#include <stddef.h>

#include <lua.h>

/* One Lua module compiled into the binary (tools/embed.c writes the table). */
typedef struct lmod_module {
  const char *name;      /* module name for require, e.g. "dusk.pretty" */
  const char *chunkname; /* "@lua/dusk/pretty.lua": names it in tracebacks */
  const char *source;
  size_t len;
} lmod_module;

/* The embedded modules, ended by an entry whose name is NULL. */
extern const lmod_module lmod_embedded[];

/* Finds an embedded module by name; NULL if there is none. */
const lmod_module *lmod_find(const char *name);

/* A lua_CFunction: opens the standard libraries, preloads dusk's modules
 * and sets the global `dusk`. */
int lmod_open(lua_State *L);

#endif
