/*
 * serial: Lua values and functions as bytes, to move them between Lua
 * states (worker threads now, processes and machines later).
 *
 * A frame holds one value: nil, booleans, integers and floats exactly,
 * strings, tables (cycles, shared references, metatables), Lua functions
 * with their upvalues and the user globals they read, C functions and
 * module tables by name, the environment (_ENV) by identity, and objects
 * whose metatable has a `__dusk_send` hook.  See the DESIGN note in
 * serial.c and man/serial-section.md for what may be captured.
 *
 * Every function runs its work in a protected call: a Lua error or a
 * memory error comes back as a status, never as a longjmp.
 *
 * Folder src/serial/ owns frames of Lua values and Lua's bytecode layout
 * (luabc); it includes base/ and sandbox/.
 */
#ifndef DUSK_SERIAL_H
#define DUSK_SERIAL_H

#include <stddef.h>
#include <lua.h>

/* Flags for serial_encode and serial_decode. */
#define SERIAL_FUNCTIONS 1 /* encode: Lua functions allowed; decode: bytecode
                              may be loaded (only from a trusted sender) */
#define SERIAL_LOCAL 2     /* light userdata allowed: same process only */
#define SERIAL_COMPRESS 4  /* encode: zstd when the payload is large */
#define SERIAL_CACHED 8    /* decode: without SERIAL_FUNCTIONS, closures of
                              prototypes already loaded in this state */
#define SERIAL_TASKENV 16  /* decode: the fresh environment is a task's
                              (sandbox_task_env) */

#define SERIAL_MAXDEPTH 200          /* nested tables and functions */
/* A frame may nest a few levels more: the containers dusk puts around a
 * user's value (a task's spec, a partition's list) are not the user's. */
#define SERIAL_FRAMEDEPTH (SERIAL_MAXDEPTH + 8)
#define SERIAL_COMPRESS_MIN (64 << 10) /* payload bytes worth compressing */
#define SERIAL_HEADER 16             /* bytes before the payload */
/* Every frame's header starts with SERIAL_MAGIC and SERIAL_VERSION; its
 * byte 5 is a value frame's Lua version (0x54) or SERIAL_KIND_BUFFER for a
 * buffer's frame (data/buffer.h), so each decoder refuses the other's;
 * byte 7 holds flags. */
#define SERIAL_MAGIC "\x1b" "Dsk"
#define SERIAL_VERSION 2
#define SERIAL_KIND_BUFFER 0xB1
#define SERIAL_FZSTD 0x10 /* header flag: payload is one zstd frame */

/* realloc-like: 'n' == 0 frees 'p' and returns NULL. */
typedef void *(*serial_alloc)(void *ud, void *p, size_t n);

/* A growing byte buffer.  Everything it holds is allocated through its
 * 'alloc' hook, so tests can make any allocation fail. */
typedef struct serial_buf {
  unsigned char *p;
  size_t len, cap;
  serial_alloc alloc;
  void *ud;
} serial_buf;

/* An empty buffer using realloc, or 'alloc' when it is not NULL. */
void serial_buf_init(serial_buf *b, serial_alloc alloc, void *ud);
/* Frees the bytes; the buffer is empty and usable again. */
void serial_buf_free(serial_buf *b);
/* Makes room for 'n' more bytes; returns 0, or -1 when out of memory. */
int serial_buf_reserve(serial_buf *b, size_t n);

/* Appends a frame holding the value at 'idx' to 'out'.  Returns LUA_OK;
 * or an error status with the message pushed (e.g. "cannot send a
 * coroutine: upvalue 'co' of function at etl.lua:12"), 'out' unchanged. */
int serial_encode(lua_State *L, int idx, int flags, serial_buf *out);
/* serial_encode, its errors naming the value's place 'where' (e.g.
 * "argument 2 of map"): "cannot send a coroutine: field [1] of argument 2
 * of map". */
int serial_encode_at(lua_State *L, int idx, int flags, serial_buf *out, const char *where);

/* Decodes the frame in 'p'[0..n) and pushes its value.  Functions'
 * environment becomes a fresh table reading through to the table at
 * 'env_idx' (0: the globals).  Without SERIAL_FUNCTIONS no bytecode is
 * loaded: functions decode only if their prototype is already cached in
 * this state, and only with SERIAL_CACHED; names resolve only to
 * tables of package.loaded (no require, no functions).  Returns LUA_OK, or
 * an error status with a message pushed; any input is safe without
 * SERIAL_FUNCTIONS. */
int serial_decode(lua_State *L, const void *p, size_t n, int env_idx, int flags);

/* Records the standard library as it is now, so later additions (a user's
 * string.trim) are recognised and sent.  Call once, right after
 * luaL_openlibs, before any user code runs. */
void serial_baseline(lua_State *L);

/* Pops a function that decodes the payloads of objects whose
 * __dusk_send hook names the type 'tname' (serial.register from C). */
void serial_register(lua_State *L, const char *tname);

/* The Lua module "dusk.serial": encode(v [, opts]), decode(s [, env [, opts]]). */
int luaopen_dusk_serial(lua_State *L);

#endif
