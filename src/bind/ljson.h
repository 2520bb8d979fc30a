/*
 * ljson: the Lua module "dusk.json" (records read On-Demand, encode).
 * See ljson.c for its functions.
 */
#ifndef DUSK_LJSON_H
#define DUSK_LJSON_H

#include <lua.h>

int luaopen_dusk_json(lua_State *L);

/* Adds compile and each_record (ljsonlines.c) to the module table at
 * 'mod'; 'null' is the index of json.null. */
void ljson_open_scan(lua_State *L, int mod, int null);

#endif
