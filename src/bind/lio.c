/*
 * lio: the Lua module "dusk.io", the file side of Bag's read_text and
 * to_textfiles, over textio.h only.
 *
 *   io.expand(path | pattern | {paths and patterns}) -> list of paths
 *   io.compression_of(path [, compression]) -> "gzip" | "zstd" | nil
 *   io.size(path) -> bytes
 *   io.parse_bytes("64MiB" | n) -> integer
 *   io.read_lines(path [, {offset=, length=, compression=, size=}]) -> list of lines
 *   io.each_line(path, opts, fn) -> number of lines; fn(line) for each
 *   io.write_lines(path, list [, {compression=, sync=}]) -> path
 *   io.writer(path [, {compression=, sync=}]) -> w, with w:write(line) -> w
 *       and w:commit() -> path: write_lines a line at a time
 *
 * 'size' reads the file as it was when it had that many bytes (what was
 * appended since is not read; a file now shorter is an error), so that
 * a Bag made of it reads the same lines whatever its blocks.
 *
 * 'compression' is nil or "infer" (by extension: .gz, .zst), "gzip",
 * "zstd", or false (none).  As Lua's io library does, a failure of the
 * environment (a missing file, corrupt data, a full disk) returns nil and
 * a message naming the file; misuse (a bad option, an element that is not
 * a string or number, an error raised by fn) raises.
 *
 * Readers and writers live in to-be-closed userdata, so an error raised
 * half-way (out of memory while pushing a line) closes them at once: no
 * leak, no open file, and an abandoned writer removes its temporary file.
 */
#include "bind/lio.h"

#include <string.h>

#include <lauxlib.h>

#include "base/interrupt.h"
#include "bind/lclass.h"
#include "io/textio.h"

#define READER "dusk.io.reader"
#define WRITER "dusk.io.writer"
#define PATHS "dusk.io.paths"

typedef struct rbox { textio_reader *r; } rbox;
typedef struct wbox {
  textio_writer *w;
  lua_Integer n; /* lines written (io.writer) */
} wbox;

static int reader_close(lua_State *L) {
  rbox *b = luaL_checkudata(L, 1, READER);
  textio_reader_free(b->r);
  b->r = NULL;
  return 0;
}

static int writer_close(lua_State *L) {
  wbox *b = luaL_checkudata(L, 1, WRITER);
  textio_writer_free(b->w);
  b->w = NULL;
  return 0;
}

static int paths_close(lua_State *L) {
  textio_paths_free(luaL_checkudata(L, 1, PATHS));
  return 0;
}

/* Pushes nil and 'msg'; returns 2, for `return fail(L, ...)`. */
static int fail(lua_State *L, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/* Pushes field 'name' of the options table at 'opts' (nil without one). */
static int getopt(lua_State *L, int opts, const char *name) {
  if (lua_isnoneornil(L, opts)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  return lua_getfield(L, opts, name);
}

static void checkopts(lua_State *L, int opts) {
  luaL_argexpected(L, lua_isnoneornil(L, opts) || lua_istable(L, opts), opts, "table");
}

/* The codec for 'path' given the compression value at 'idx'. */
static textio_codec checkcodec(lua_State *L, const char *path, int idx) {
  int isstr = lua_type(L, idx) == LUA_TSTRING, c;
  if (lua_isnoneornil(L, idx) || (isstr && strcmp(lua_tostring(L, idx), "infer") == 0)) {
    const char *unsupported = NULL;
    if ((c = textio_codec_of(path, &unsupported)) < 0)
      luaL_error(L, "cannot read %s: %s compression is not supported (only gzip and zstd)",
                 path, unsupported);
    return (textio_codec)c;
  }
  if (lua_isboolean(L, idx) && !lua_toboolean(L, idx)) return TEXTIO_PLAIN;
  if (isstr && (c = textio_codec_named(lua_tostring(L, idx))) >= 0) return (textio_codec)c;
  luaL_error(L, "unknown compression %s for %s (\"infer\", \"gzip\", \"zstd\" or false)",
             luaL_tolstring(L, idx, NULL), path);
  return TEXTIO_PLAIN; /* not reached */
}

static int l_compression_of(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  const char *name = textio_codec_name(checkcodec(L, path, 2));
  if (name == NULL) return 0;
  lua_pushstring(L, name);
  return 1;
}

/* An optional non-negative integer option; 'dflt' when absent. */
static lua_Integer intopt(lua_State *L, int opts, const char *name, lua_Integer dflt) {
  int isint;
  if (getopt(L, opts, name) == LUA_TNIL) {
    lua_pop(L, 1);
    return dflt;
  }
  lua_Integer v = lua_tointegerx(L, -1, &isint);
  if (!isint || v < 0) luaL_error(L, "option '%s': a non-negative integer expected", name);
  lua_pop(L, 1);
  return v;
}

/* Opens 'path' with the options at 2 and pushes its box; or pushes nil
 * and a message and returns NULL. */
static rbox *open_reader(lua_State *L, const char *path) {
  checkopts(L, 2);
  lua_Integer offset = intopt(L, 2, "offset", 0);
  lua_Integer length = intopt(L, 2, "length", -1);
  lua_Integer size = intopt(L, 2, "size", -1);
  getopt(L, 2, "compression");
  textio_codec codec = checkcodec(L, path, -1);
  lua_pop(L, 1);
  if (codec != TEXTIO_PLAIN && (offset != 0 || length >= 0))
    luaL_error(L, "%s: a compressed file is read whole (no offset or length)", path);
  rbox *b = lclass_box(L, READER, sizeof *b, 0);
  lua_toclose(L, -1);
  char err[TEXTIO_ERRMAX];
  b->r = textio_open(path, codec, offset, length, err);
  if (b->r == NULL) {
    fail(L, err);
    return NULL;
  }
  if (size >= 0) textio_limit(b->r, size);
  return b;
}

/* Closes the reader after a failure and pushes nil and its message. */
static int reader_fail(lua_State *L, rbox *b) {
  fail(L, textio_reader_error(b->r));
  textio_reader_free(b->r);
  b->r = NULL;
  return 2;
}

static int l_read_lines(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  rbox *b = open_reader(L, path);
  if (b == NULL) return 2;
  lua_newtable(L);
  const char *line;
  size_t len;
  lua_Integer n = 0;
  int st;
  while ((st = textio_next(b->r, &line, &len)) == 1) {
    lua_pushlstring(L, line, len);
    lua_rawseti(L, -2, ++n);
  }
  if (st == TEXTIO_INTERRUPTED) return rt_interrupt_error(L); /* the box closes it */
  if (st < 0) return reader_fail(L, b);
  textio_reader_free(b->r);
  b->r = NULL;
  return 1;
}

/* The loop of lio_each_line, run under one lua_pcall for the whole file
 * (not one per line).  Its arguments are the caller's stack, so the
 * handler finds its values at the indexes it expects, and last a light
 * userdata: the loop. */
typedef struct line_loop {
  textio_reader *r;
  lio_line_fn fn;
  void *ud;
  int st;
} line_loop;

static int run_lines(lua_State *L) {
  line_loop *lp = lua_touserdata(L, lua_gettop(L));
  int top = lua_gettop(L);
  const char *line;
  size_t len;
  while ((lp->st = textio_next(lp->r, &line, &len)) == 1) {
    lp->fn(L, lp->ud, line, len);
    lua_settop(L, top);
    /* 'fn' may run C only (dusk.json's pure stages) */
    if (rt_interrupt_pending()) return rt_interrupt_error(L);
  }
  if (lp->st == TEXTIO_INTERRUPTED) return rt_interrupt_error(L);
  return 0;
}

int lio_each_line(lua_State *L, const char *path, lio_line_fn fn, void *ud) {
  luaL_requiref(L, "dusk.io", luaopen_dusk_io, 0); /* the reader's class */
  lua_pop(L, 1);
  checkopts(L, 2);
  lua_Integer offset = intopt(L, 2, "offset", 0);
  int top = lua_gettop(L);
  rbox *b = open_reader(L, path);
  if (b == NULL) return 2;
  line_loop lp = {b->r, fn, ud, 0};
  lua_pushcfunction(L, run_lines);
  for (int k = 1; k <= top; k++) lua_pushvalue(L, k);
  lua_pushlightuserdata(L, &lp);
  if (lua_pcall(L, top + 1, 0, 0) != LUA_OK) {
    long long lineno = (long long)textio_lineno(b->r);
    textio_reader_free(b->r); /* free first, raise last */
    b->r = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
      if (offset == 0)
        lua_pushfstring(L, "%s:%I: %s", path, (lua_Integer)lineno, lua_tostring(L, -1));
      else
        lua_pushfstring(L, "%s (line %I of the block at byte %I): %s", path,
                        (lua_Integer)lineno, offset, lua_tostring(L, -1));
    }
    return lua_error(L);
  }
  if (lp.st < 0) return reader_fail(L, b);
  lua_pushinteger(L, (lua_Integer)textio_lineno(b->r));
  textio_reader_free(b->r);
  b->r = NULL;
  return 1;
}

/* each_line's handler: the function at index 3 called with the line. */
static void call_with_line(lua_State *L, void *ud, const char *line, size_t len) {
  (void)ud;
  lua_pushvalue(L, 3);
  lua_pushlstring(L, line, len);
  lua_call(L, 1, 0);
}

static int l_each_line(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  return lio_each_line(L, path, call_with_line, NULL);
}

/* Starts writing the file named at 'pathidx' with the options at 'opts'
 * and pushes its box (user value: the path); or pushes nil and a message
 * and returns NULL. */
static wbox *new_writer(lua_State *L, int pathidx, int opts) {
  const char *path = lua_tostring(L, pathidx);
  checkopts(L, opts);
  getopt(L, opts, "compression");
  textio_codec codec = checkcodec(L, path, -1);
  getopt(L, opts, "sync");
  int flags = lua_toboolean(L, -1) ? TEXTIO_SYNC : 0;
  lua_pop(L, 2);
  wbox *b = lclass_box(L, WRITER, sizeof *b, 1);
  lua_pushvalue(L, pathidx);
  lua_setiuservalue(L, -2, 1);
  char err[TEXTIO_ERRMAX];
  b->w = textio_create(path, codec, flags, err);
  if (b->w == NULL) {
    fail(L, err);
    return NULL;
  }
  return b;
}

/* Pushes nil and the writer's message and drops the writer (its
 * temporary file removed); returns 2. */
static int writer_fail(lua_State *L, wbox *b) {
  fail(L, textio_writer_error(b->w));
  textio_writer_free(b->w);
  b->w = NULL;
  return 2;
}

static int write_type_error(lua_State *L, lua_Integer i, int idx, const char *path) {
  lua_pushfstring(L, "cannot write element %I (a %s) to %s: only strings and numbers"
                  " are written", i, luaL_typename(L, idx), path);
  return lua_error(L);
}

static int l_write_lines(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  /* every element checked before anything is created */
  lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
  for (lua_Integer i = 1; i <= n; i++) {
    int t = lua_rawgeti(L, 2, i);
    if (t != LUA_TSTRING && t != LUA_TNUMBER) return write_type_error(L, i, -1, path);
    lua_pop(L, 1);
  }
  wbox *b = new_writer(L, 1, 3);
  if (b == NULL) return 2;
  lua_toclose(L, -1);
  int rc = 0;
  for (lua_Integer i = 1; i <= n && rc == 0; i++) {
    if (i % RT_POLL_EVERY == 0 && rt_interrupt_pending()) return rt_interrupt_error(L);
    size_t len;
    lua_rawgeti(L, 2, i);
    const char *s = lua_tolstring(L, -1, &len); /* a number as tostring writes it */
    rc = textio_write_line(b->w, s, len);
    lua_pop(L, 1);
  }
  if (rc < 0 || textio_commit(b->w) < 0) return writer_fail(L, b);
  textio_writer_free(b->w);
  b->w = NULL;
  lua_pushvalue(L, 1);
  return 1;
}

static int l_writer(lua_State *L) {
  luaL_checkstring(L, 1);
  return new_writer(L, 1, 2) ? 1 : 2;
}

static wbox *checkwriter(lua_State *L) {
  wbox *b = luaL_checkudata(L, 1, WRITER);
  if (b->w == NULL) luaL_error(L, "the writer is closed");
  return b;
}

/* w:write(line) -> w, or nil and a message (then the writer is closed) */
static int w_write(lua_State *L) {
  wbox *b = checkwriter(L);
  int t = lua_type(L, 2);
  b->n++;
  if (t != LUA_TSTRING && t != LUA_TNUMBER) {
    lua_getiuservalue(L, 1, 1);
    return write_type_error(L, b->n, 2, lua_tostring(L, -1));
  }
  size_t len;
  const char *s = lua_tolstring(L, 2, &len); /* a number as tostring writes it */
  if (textio_write_line(b->w, s, len) < 0) return writer_fail(L, b);
  lua_settop(L, 1);
  return 1;
}

/* w:commit() -> path, or nil and a message */
static int w_commit(lua_State *L) {
  wbox *b = checkwriter(L);
  if (textio_commit(b->w) < 0) return writer_fail(L, b);
  textio_writer_free(b->w);
  b->w = NULL;
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int l_expand(lua_State *L) {
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_istable(L, 1), 1,
                   "path, pattern or list");
  textio_paths *p = lclass_box(L, PATHS, sizeof *p, 0);
  lua_toclose(L, -1);
  char err[TEXTIO_ERRMAX];
  if (lua_type(L, 1) == LUA_TSTRING) {
    if (textio_expand(lua_tostring(L, 1), p, err) < 0) return fail(L, err);
  } else {
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    for (lua_Integer i = 1; i <= n; i++) { /* misuse raises before any failure returns */
      if (lua_rawgeti(L, 1, i) != LUA_TSTRING)
        return luaL_error(L, "path %I of the list is a %s, not a string", i,
                          luaL_typename(L, -1));
      lua_pop(L, 1);
    }
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, 1, i);
      int rc = textio_expand(lua_tostring(L, -1), p, err);
      lua_pop(L, 1);
      if (rc < 0) return fail(L, err);
    }
  }
  lua_createtable(L, (int)p->n, 0);
  for (size_t i = 0; i < p->n; i++) {
    lua_pushstring(L, p->v[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  textio_paths_free(p);
  return 1;
}

static int l_size(lua_State *L) {
  char err[TEXTIO_ERRMAX];
  int64_t n = textio_size(luaL_checkstring(L, 1), err);
  if (n < 0) return fail(L, err);
  lua_pushinteger(L, (lua_Integer)n);
  return 1;
}

static int l_parse_bytes(lua_State *L) {
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_Number v = lua_tonumber(L, 1);
    if (lua_isinteger(L, 1) ? lua_tointeger(L, 1) >= 0 : v >= 0 && v < 0x1p63) {
      lua_pushinteger(L, lua_isinteger(L, 1) ? lua_tointeger(L, 1) : (lua_Integer)v);
      return 1;
    }
  } else if (lua_type(L, 1) == LUA_TSTRING) {
    int64_t n;
    if (textio_parse_bytes(lua_tostring(L, 1), &n) == 0) {
      lua_pushinteger(L, (lua_Integer)n);
      return 1;
    }
  } else {
    return luaL_typeerror(L, 1, "string or number");
  }
  return luaL_error(L, "invalid byte size %s (a count such as 1000000, \"64MiB\" or \"1GB\")",
                    luaL_tolstring(L, 1, NULL));
}

static const luaL_Reg io_funcs[] = {
  {"expand", l_expand},
  {"compression_of", l_compression_of},
  {"size", l_size},
  {"parse_bytes", l_parse_bytes},
  {"read_lines", l_read_lines},
  {"each_line", l_each_line},
  {"write_lines", l_write_lines},
  {"writer", l_writer},
  {NULL, NULL}
};

static const luaL_Reg writer_methods[] = {
  {"write", w_write},
  {"commit", w_commit},
  {"close", writer_close},
  {NULL, NULL}
};

int luaopen_dusk_io(lua_State *L) {
  lclass_new(L, READER, reader_close, NULL);
  lclass_new(L, WRITER, writer_close, writer_methods);
  lclass_new(L, PATHS, paths_close, NULL);
  lua_pop(L, 3);
  luaL_newlib(L, io_funcs);
  return 1;
}
