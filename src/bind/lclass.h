/*
 * lclass: the one way dusk's bindings make a Lua class of a C object,
 * after Lua's liolib.c (STYLE.md 5-6).
 *
 * A class is a metatable registered under its name (luaL_newmetatable:
 * __name names the type in messages) holding one 'close' function as
 * both __gc and __close, and its methods as __index.  An object is a box,
 * a full userdata created "closed" (all zeros) with its metatable set
 * before anything is acquired for it (liolib's newprefile): an error in
 * between leaves an object that 'close' frees correctly.  So 'close' must
 * take a zeroed box, and a box it closed already, as closed.
 */
#ifndef DUSK_LCLASS_H
#define DUSK_LCLASS_H

#include <stddef.h>

#include <lauxlib.h>

/* Registers the class 'name' with 'close' (or none when NULL) and the
 * 'methods' (or none when NULL) as __index, and leaves its metatable on
 * the stack for any other metamethods (luaL_setfuncs).  Calling it again
 * for a name registered before refreshes the same metatable. */
void lclass_new(lua_State *L, const char *name, lua_CFunction close, const luaL_Reg *methods);

/* Pushes a box of class 'name' (registered before): 'size' bytes, zeroed,
 * with 'nuv' user values.  Returns its bytes. */
void *lclass_box(lua_State *L, const char *name, size_t size, int nuv);

#endif
