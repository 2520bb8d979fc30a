/*
 * ljson: the Lua module "dusk.json" (records read On-Demand, encode).
 * See ljson.c for its functions.
 */
#ifndef DUSK_LJSON_H
#define DUSK_LJSON_H

#include <lua.h>

int luaopen_dusk_json(lua_State *L);

#endif
