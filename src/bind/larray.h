/* larray: the C module "dusk.arraycore" (see larray.c). */
#ifndef DUSK_LARRAY_H
#define DUSK_LARRAY_H

#include <lua.h>

int luaopen_dusk_arraycore(lua_State *L);

#endif
