/*
 * value: one Lua value held in C, between Lua states and threads.
 *
 * Scalars and strings are C values; a C buffer (buffer.h) is held by
 * reference; anything else is a serial frame.  A value is immutable once
 * made, so any number of threads may push it at once; each push of a
 * frame builds a fresh copy in the pushing state, each push of a buffer
 * a box sharing its bytes.
 *
 * Folder src/data/ owns the values tasks hand each other and the store of
 * persisted ones; it includes serial/ and base/.
 */
#ifndef DUSK_VALUE_H
#define DUSK_VALUE_H

#include <stddef.h>

#include <lua.h>

#include "data/buffer.h"

/* A buffer in Lua: a full userdata of this class holding one 'buf *'
 * and a reference to it (NULL once closed).  value_push makes them;
 * bind/lbuffer.c registers the class in every state dusk makes. */
#define VALUE_BUFCLASS "dusk.Buffer"

/* Classes whose objects travel as a buffer (dusk.ndarray): the field
 * VALUE_BUFHOOK of their metatable is a light userdata pointing to their
 * static value_bufclass.  value_from keeps such an object as the buffer
 * 'get' gives; value_push of a buffer whose tag has a class set in the
 * state (value_bufclass_set) makes the object 'push' makes, else a
 * VALUE_BUFCLASS box.  So the data plane knows no class but the Buffer. */
#define VALUE_BUFHOOK "__dusk_buffer"

typedef struct value_bufclass {
  int tag; /* the buf_tag of the buffers 'push' takes */
  /* A new reference to the buffer of the object at 'idx' in '*out'.
   * Returns LUA_OK, or an error status with a message pushed. */
  int (*get)(lua_State *L, int idx, buf **out);
  /* Pushes an object holding a new reference to 'b'.  Returns LUA_OK, or
   * an error status with a message pushed; or VALUE_PLAIN, pushing
   * nothing, when 'b' is not one of its objects (a table buffer that is
   * no frame): a VALUE_BUFCLASS box is then made. */
  int (*push)(lua_State *L, buf *b);
} value_bufclass;
#define VALUE_PLAIN (-1)

/* Makes 'c' the class of the buffers of its tag pushed into 'L' (a
 * registry entry: 'c' must outlive the state). */
void value_bufclass_set(lua_State *L, const value_bufclass *c);
/* 1 when the value at 'idx' becomes a VALUE_BUFFER (a dusk.Buffer or an
 * object with VALUE_BUFHOOK), else 0. */
int value_is_buffer(lua_State *L, int idx);

typedef enum {
  VALUE_NONE,    /* no value yet (or freed) */
  VALUE_NIL,
  VALUE_BOOLEAN,
  VALUE_INTEGER,
  VALUE_NUMBER,
  VALUE_STRING,
  VALUE_FRAME,   /* a serial frame */
  VALUE_BUFFER   /* a reference to a C buffer */
} value_type;

typedef struct value {
  value_type type;
  size_t len;                /* STRING, FRAME */
  union {
    int b;
    lua_Integer i;
    lua_Number n;
    unsigned char *p;        /* STRING, FRAME: base_malloc'd, owned */
    buf *buf;                /* BUFFER: one reference, owned */
  } u;
} value;

/* Makes a value of the Lua value at 'idx'.  Returns LUA_OK, or an error
 * status with a message pushed (a value serial cannot send). */
int value_from(lua_State *L, int idx, value *out);
/* value_from, its errors naming the value's place 'where' ("the result"). */
int value_from_at(lua_State *L, int idx, value *out, const char *where);
/* Makes a VALUE_FRAME of the Lua value at 'idx', whatever its type (a
 * spec, a function).  Returns as value_from. */
int value_frame(lua_State *L, int idx, value *out);
/* Pushes the value.  Returns LUA_OK or an error status with a message. */
int value_push(lua_State *L, const value *v);
void value_free(value *v);
/* Makes 'out' a copy of 'v' (a buffer: another reference to it).
 * Returns 0, or -1 when out of memory. */
int value_copy(const value *v, value *out);
/* Bytes the value holds beyond its struct (a buffer: its data's, shared
 * or not). */
size_t value_bytes(const value *v);

#endif
