/*
 * lcore: the Lua module "dusk.core" (graph layers, planning, compute).
 * See lcore.c for its functions.
 */
#ifndef DUSK_LCORE_H
#define DUSK_LCORE_H

#include <lua.h>

int luaopen_dusk_core(lua_State *L);

#endif
