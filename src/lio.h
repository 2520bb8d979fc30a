/*
 * lio: the Lua module "dusk.io" (text files for Bag) over textio.h.
 * See lio.c for its functions.
 */
#ifndef DUSK_LIO_H
#define DUSK_LIO_H

#include <lua.h>

int luaopen_dusk_io(lua_State *L);

#endif
