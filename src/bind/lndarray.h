/*
 * lndarray: "dusk.ndarray", the in-memory n-dimensional array seen from
 * Lua (array/nd.h), and the C module of the same name: constructors,
 * fields, element access, views and sending (lndarray.c); arithmetic,
 * math functions, comparisons and reductions (lndops.c).
 *
 * A box holds one nd (a closed box: its buffer NULL).  ndarrays are
 * immutable from Lua: every operation makes a new one or a view.
 */
#ifndef DUSK_LNDARRAY_H
#define DUSK_LNDARRAY_H

#include <lauxlib.h>

#include "array/nd.h"

#define LND_CLASS "dusk.ndarray"

int luaopen_dusk_ndarray(lua_State *L);

/* Sets the class of BUF_NDARRAY buffers pushed into 'L' (value.h), so a
 * task's array arrives as an ndarray; the class itself is registered
 * at the first push or require.  lmod_open calls it in every state. */
void lndarray_open(lua_State *L);

/* Pushes a closed box (an empty nd for the caller to fill).  Temporaries
 * of an operation are boxes too, so that nothing leaks if Lua raises. */
nd *lnd_push(lua_State *L);
/* The open ndarray at 'idx', or raises; NULL when it is no ndarray
 * (lnd_test). */
nd *lnd_check(lua_State *L, int idx);
nd *lnd_test(lua_State *L, int idx);

/* The dtype named by the string at 'idx' ("float64", ...), or raises. */
int lnd_checkdtype(lua_State *L, int idx);
/* The 0-based position of a 1-based axis 'k' (negative from the end) of
 * an array of 'ndim' axes, or raises naming it. */
int lnd_axis(lua_State *L, lua_Integer k, int ndim);
/* Pushes "(2, 3)" (or "(2,3)" when 'compact'), numpy's tuple of a shape. */
void lnd_pushshape(lua_State *L, int ndim, const int64_t *shape, int compact);
/* Pushes element 'p' of 'dtype' as a Lua integer, float or boolean. */
void lnd_pushelem(lua_State *L, int dtype, const char *p);
/* Stores the Lua number or boolean at 'idx' as an element of 'dtype' at
 * 'p'.  Returns NULL, or why it cannot ("out of bounds for uint8"). */
const char *lnd_store(lua_State *L, int idx, int dtype, char *p);
/* Allocates 'a' (a closed box's nd) or raises naming the shape. */
void lnd_alloc(lua_State *L, nd *a, int dtype, int ndim, const int64_t *shape);
/* Raises "not enough memory for an ndarray of shape ...". */
int lnd_nomem(lua_State *L, int dtype, int ndim, const int64_t *shape);

/* lndops.c: the methods and metamethods of arithmetic, comparisons and
 * reductions, and the module's math functions. */
extern const luaL_Reg lndops_methods[], lndops_metamethods[], lndops_functions[];

#endif
