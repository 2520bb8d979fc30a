/*
 * lgraph: the Lua module "dusk.core" (graph layers, planning; computing
 * is lrun.c).  See lgraph.c for its functions.
 *
 * Folder src/bind/ owns the Lua modules written in C (dusk.core, dusk.serial,
 * dusk.json, dusk.pure, dusk.io) and lmodules, what every state loads;
 * it may include every plane below app/.
 */
#ifndef DUSK_LGRAPH_H
#define DUSK_LGRAPH_H

#include <lua.h>

int luaopen_dusk_core(lua_State *L);

#endif
