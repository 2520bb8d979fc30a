/*
 * lbuffer: the Lua class "dusk.Buffer" of C buffers (data/buffer.h), as
 * value_push makes them (data/value.h: a box holding one reference).
 */
#ifndef DUSK_LBUFFER_H
#define DUSK_LBUFFER_H

#include <lua.h>

/* Registers the class in 'L' and its decoder with serial, so
 * buffers nested in other values travel as frames.  lmod_open calls it
 * in every state. */
void lbuffer_open(lua_State *L);

/* core.buffer(s) -> a Buffer of the bytes of string 's' (tag "bytes"). */
int lbuffer_new(lua_State *L);
/* core.buffer_info(b) -> the address of b's data (an integer) and its
 * reference count: tests see whether two buffers share their bytes.  Of
 * an object sent as a buffer (an ndarray), the buffer it would send and
 * the references others hold. */
int lbuffer_info(lua_State *L);

#endif
