/*
 * larrayio: the Lua module "dusk.arrayio", the storage formats of
 * dusk.array a chunk at a time (npy, Zarr v2, HDF5, dusk's binary
 * directories).  See larrayio.c for its functions.
 */
#ifndef DUSK_LARRAYIO_H
#define DUSK_LARRAYIO_H

#include <lua.h>

int luaopen_dusk_arrayio(lua_State *L);

#endif
