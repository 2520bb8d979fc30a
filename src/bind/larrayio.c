/*
 * larrayio: the C module "dusk.arrayio", the storage formats of
 * dusk.array (array/npy.h, zarr.h, h5.h, binary.h) a chunk at a time: the
 * lazy Array's tasks call one function each, reading or writing one
 * chunk (a region), on any worker thread.  Starts, counts and chunk
 * indexes are 0-based here (this is an internal module); shapes are
 * tables of integers, {} for 0-d; dtypes are names ("float64", "bool",
 * "int16", ...).  Arrays read come back as BUF_NDARRAY buffers pushed
 * with value_push (dusk.Buffer, or dusk.ndarray once that class is
 * set); arrays written may be either, of the file's dtype.  'start'
 * defaults to zeros and 'count' to the rest of the array.
 *
 *   npy_info(path) -> {dtype=, shape=, fortran=, offset=, version="1.0"}
 *   npy_read(path [, start, count]) -> array
 *   npy_create(path, dtype, shape) -> temp      (the whole file, zeros)
 *   npy_write(temp, start, array)
 *   zarr_info(path) -> {dtype=, shape=, chunks=, compressor="zstd"|"blosc"|nil,
 *                       shuffle=elementsize|nil, order="C"|"F", separator=".",
 *                       fill_value=number|boolean|nil}
 *   zarr_read(path [, start, count]) -> array   (one stored chunk when the
 *                                                region is one)
 *   zarr_create(path, dtype, shape, chunks [, {compressor="zstd"|"none",
 *               level=1, shuffle=true, fill_value=0, separator="."}]) -> temp
 *   zarr_write(temp, start, array)             (a region of whole chunks)
 *   h5_info(path, dataset) -> {dtype=, shape=, chunks={...}|nil}
 *   h5_read(path, dataset [, start, count]) -> array
 *   h5_create(path, dataset, dtype, shape [, chunks]) -> temp
 *   h5_write(temp, dataset, start, array)
 *   binary_info(dir) -> {dtype=, shape=, chunks={{sizes of axis 1}, ...}}
 *   binary_read(dir, index) -> array           (the chunk at 'index')
 *   binary_create(dir, dtype, shape, chunks) -> temp   (explicit sizes)
 *   binary_write(temp, index, array)
 *   npy_commit(temp, path)  zarr_commit  h5_commit  binary_commit
 *   npy_abort(temp)         zarr_abort   h5_abort   binary_abort
 *
 * Writers: X_create makes everything under a temporary name beside the
 * target (a file, or a directory for zarr and binary) and returns it;
 * tasks write disjoint regions into it; X_commit renames it into place
 * (fsync'ed), X_abort removes it.  A failure -- a missing, truncated or
 * corrupt file, a bad region -- raises a message naming the file;
 * Ctrl-C in a long read raises "interrupted!".
 *
 * C memory of a call (a buffer read, a temporary name) sits in a "hold"
 * box made before it is allocated, so nothing leaks when Lua raises.
 */
#include "bind/larrayio.h"

#include <string.h>

#include <lauxlib.h>

#include "array/afile.h"
#include "array/binary.h"
#include "array/h5.h"
#include "array/npy.h"
#include "array/zarr.h"
#include "base/alloc.h"
#include "base/interrupt.h"
#include "bind/lclass.h"
#include "data/value.h"

#define HOLD "dusk.arrayio.hold"

typedef struct hold {
  buf *b;
  char *s;
  binary_meta m;
} hold;

static int hold_close(lua_State *L) {
  hold *h = luaL_checkudata(L, 1, HOLD);
  if (h->b) buf_decref(h->b);
  base_free(h->s);
  binary_meta_free(&h->m);
  memset(h, 0, sizeof *h);
  return 0;
}

static hold *newhold(lua_State *L) {
  return lclass_box(L, HOLD, sizeof(hold), 0);
}

static int fail(lua_State *L, int rc, const char *err) {
  if (rc == AFILE_EINTR) return rt_interrupt_error(L);
  return luaL_error(L, "%s", err);
}

/* Pushes the buffer read into 'h' (value_push: the class of arrays). */
static int push_array(lua_State *L, hold *h) {
  value v = {.type = VALUE_BUFFER, .u.buf = h->b};
  if (value_push(L, &v) != LUA_OK) return lua_error(L);
  buf_decref(h->b);
  h->b = NULL;
  return 1;
}

static int push_temp(lua_State *L, hold *h, const char *err) {
  if (h->s == NULL) return fail(L, AFILE_ERR, err);
  lua_pushstring(L, h->s);
  base_free(h->s);
  h->s = NULL;
  return 1;
}

static int check_dtype(lua_State *L, int idx) {
  const char *s = luaL_checkstring(L, idx);
  for (int d = 0; d < BUF_NDTYPES; d++)
    if (d != BUF_STRING && strcmp(s, buf_dtype_name(d)) == 0) return d;
  return luaL_argerror(L, idx, lua_pushfstring(L, "unknown dtype '%s'", s));
}

/* The integers of the list at 'idx' (at most BUF_MAXDIM, each >= 'min')
 * into 'out'; returns how many. */
static int check_ints(lua_State *L, int idx, int64_t min, int64_t *out) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer n = luaL_len(L, idx);
  luaL_argcheck(L, n <= BUF_MAXDIM, idx, "more than 32 axes");
  for (lua_Integer i = 1; i <= n; i++) {
    int isint;
    lua_geti(L, idx, i);
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < min)
      return luaL_argerror(L, idx, lua_pushfstring(L, "entry %I is not an integer >= %I", i, (lua_Integer)min));
    out[i - 1] = v;
    lua_pop(L, 1);
  }
  return (int)n;
}

/* The region arguments at 'idx' and 'idx'+1 for an array of 'shape':
 * 'start' (nil: zeros) and 'count' (nil: the rest). */
static void check_region(lua_State *L, int idx, int ndim, const int64_t *shape, int64_t *start, int64_t *count) {
  for (int d = 0; d < ndim; d++) start[d] = 0;
  if (!lua_isnoneornil(L, idx) && check_ints(L, idx, INT64_MIN, start) != ndim)
    luaL_argerror(L, idx, lua_pushfstring(L, "a start of %d axes expected", ndim));
  for (int d = 0; d < ndim; d++) count[d] = shape[d] - start[d];
  if (!lua_isnoneornil(L, idx + 1) && check_ints(L, idx + 1, INT64_MIN, count) != ndim)
    luaL_argerror(L, idx + 1, lua_pushfstring(L, "a count of %d axes expected", ndim));
}

/* The array buffer of the dusk.Buffer (or of an object of a class
 * value_from keeps as a buffer, dusk.ndarray) at 'idx', its reference
 * held in 'h'. */
static buf *check_array(lua_State *L, int idx, hold *h) {
  value v;
  if (lua_type(L, idx) != LUA_TUSERDATA) luaL_argerror(L, idx, "an array expected");
  if (value_from(L, idx, &v) != LUA_OK) return lua_error(L), NULL;
  if (v.type == VALUE_BUFFER && buf_type(v.u.buf) == BUF_NDARRAY) return h->b = v.u.buf;
  value_free(&v);
  luaL_argerror(L, idx, "an array expected");
  return NULL;
}

static void push_shape(lua_State *L, int ndim, const int64_t *shape) {
  lua_createtable(L, ndim, 0);
  for (int d = 0; d < ndim; d++) {
    lua_pushinteger(L, (lua_Integer)shape[d]);
    lua_rawseti(L, -2, d + 1);
  }
}

static void set_common(lua_State *L, int dtype, int ndim, const int64_t *shape) {
  lua_pushstring(L, buf_dtype_name(dtype));
  lua_setfield(L, -2, "dtype");
  push_shape(L, ndim, shape);
  lua_setfield(L, -2, "shape");
}

/* --- npy --- */

static int l_npy_info(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  npy_info info;
  char err[AFILE_ERRLEN];
  int rc = npy_info_of(path, &info, err);
  if (rc != 0) return fail(L, rc, err);
  lua_createtable(L, 0, 5);
  set_common(L, info.dtype, info.ndim, info.shape);
  lua_pushboolean(L, info.fortran);
  lua_setfield(L, -2, "fortran");
  lua_pushinteger(L, (lua_Integer)info.offset);
  lua_setfield(L, -2, "offset");
  lua_pushfstring(L, "%d.%d", info.major, info.minor);
  lua_setfield(L, -2, "version");
  return 1;
}

static int l_npy_read(lua_State *L) {
  lua_settop(L, 3); /* the hold goes above the arguments */
  const char *path = luaL_checkstring(L, 1);
  hold *h = newhold(L);
  npy_info info;
  char err[AFILE_ERRLEN];
  int64_t start[BUF_MAXDIM], count[BUF_MAXDIM];
  int rc = npy_info_of(path, &info, err);
  if (rc != 0) return fail(L, rc, err);
  check_region(L, 2, info.ndim, info.shape, start, count);
  if ((rc = npy_read(path, info.ndim, start, count, &h->b, err)) != 0) return fail(L, rc, err);
  return push_array(L, h);
}

static int l_npy_create(lua_State *L) {
  lua_settop(L, 3); /* the hold goes above the arguments */
  const char *path = luaL_checkstring(L, 1);
  int dtype = check_dtype(L, 2);
  int64_t shape[BUF_MAXDIM];
  int ndim = check_ints(L, 3, 0, shape);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  h->s = npy_create(path, dtype, ndim, shape, err);
  return push_temp(L, h, err);
}

static int l_npy_write(lua_State *L) {
  lua_settop(L, 3); /* the hold goes above the arguments */
  const char *tmp = luaL_checkstring(L, 1);
  int64_t start[BUF_MAXDIM];
  int ndim = check_ints(L, 2, INT64_MIN, start);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  int rc = npy_write(tmp, ndim, start, check_array(L, 3, h), err);
  return rc != 0 ? fail(L, rc, err) : 0;
}

/* --- zarr --- */

static void push_fill(lua_State *L, const zarr_meta *m) {
  const unsigned char *p = m->fill;
  if (m->fill_null) {
    lua_pushnil(L);
    return;
  }
  switch (m->dtype) {
  case BUF_BOOL: lua_pushboolean(L, p[0]); return;
  case BUF_FLOAT64: { double d; memcpy(&d, p, 8); lua_pushnumber(L, d); return; }
  case BUF_FLOAT32: { float f; memcpy(&f, p, 4); lua_pushnumber(L, f); return; }
  case BUF_INT8: lua_pushinteger(L, (int8_t)p[0]); return;
  case BUF_UINT8: lua_pushinteger(L, p[0]); return;
  case BUF_INT16: { int16_t v; memcpy(&v, p, 2); lua_pushinteger(L, v); return; }
  case BUF_UINT16: { uint16_t v; memcpy(&v, p, 2); lua_pushinteger(L, v); return; }
  case BUF_INT32: { int32_t v; memcpy(&v, p, 4); lua_pushinteger(L, v); return; }
  case BUF_UINT32: { uint32_t v; memcpy(&v, p, 4); lua_pushinteger(L, v); return; }
  default: { int64_t v; memcpy(&v, p, 8); lua_pushinteger(L, (lua_Integer)v); return; }
  }
}

/* The fill value at 'idx' (a field of the options) into 'm'. */
static void check_fill(lua_State *L, int idx, zarr_meta *m) {
  unsigned char *p = m->fill;
  int t = lua_type(L, idx);
  memset(p, 0, sizeof m->fill);
  if (t == LUA_TNIL) return;
  if (m->dtype == BUF_BOOL) {
    luaL_argcheck(L, t == LUA_TBOOLEAN, 5, "fill_value: a boolean expected for bool");
    p[0] = (unsigned char)lua_toboolean(L, idx);
  } else if (m->dtype == BUF_FLOAT64 || m->dtype == BUF_FLOAT32) {
    luaL_argcheck(L, t == LUA_TNUMBER, 5, "fill_value: a number expected");
    double d = lua_tonumber(L, idx);
    float f = (float)d;
    if (m->dtype == BUF_FLOAT64) memcpy(p, &d, 8);
    else memcpy(p, &f, 4);
  } else {
    int isint;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    size_t es = buf_dtype_size(m->dtype);
    int sign = m->dtype == BUF_INT8 || m->dtype == BUF_INT16 || m->dtype == BUF_INT32 || m->dtype == BUF_INT64;
    int ok = isint && (es == 8 || (sign ? v >= -((lua_Integer)1 << (8 * es - 1)) && v < ((lua_Integer)1 << (8 * es - 1))
                                        : v >= 0 && v < ((lua_Integer)1 << (8 * es))));
    if (!ok) luaL_argerror(L, 5, lua_pushfstring(L, "fill_value: not a %s", buf_dtype_name(m->dtype)));
    memcpy(p, &v, es); /* little-endian: the low bytes */
  }
}

static int l_zarr_info(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  zarr_meta m;
  char err[AFILE_ERRLEN];
  int rc = zarr_info_of(path, &m, err);
  if (rc != 0) return fail(L, rc, err);
  static const char *const names[] = {NULL, "zstd", "blosc"};
  lua_createtable(L, 0, 8);
  set_common(L, m.dtype, m.ndim, m.shape);
  push_shape(L, m.ndim, m.chunks);
  lua_setfield(L, -2, "chunks");
  lua_pushstring(L, names[m.compressor]);
  lua_setfield(L, -2, "compressor");
  if (m.shuffle) {
    lua_pushinteger(L, m.shuffle);
    lua_setfield(L, -2, "shuffle");
  }
  lua_pushstring(L, m.fortran ? "F" : "C");
  lua_setfield(L, -2, "order");
  lua_pushlstring(L, &m.sep, 1);
  lua_setfield(L, -2, "separator");
  push_fill(L, &m);
  lua_setfield(L, -2, "fill_value");
  return 1;
}

static int l_zarr_read(lua_State *L) {
  lua_settop(L, 3); /* the hold goes above the arguments */
  const char *path = luaL_checkstring(L, 1);
  hold *h = newhold(L);
  zarr_meta m;
  char err[AFILE_ERRLEN];
  int64_t start[BUF_MAXDIM], count[BUF_MAXDIM];
  int rc = zarr_info_of(path, &m, err);
  if (rc != 0) return fail(L, rc, err);
  check_region(L, 2, m.ndim, m.shape, start, count);
  if ((rc = zarr_read(path, m.ndim, start, count, &h->b, err)) != 0) return fail(L, rc, err);
  return push_array(L, h);
}

static int l_zarr_create(lua_State *L) {
  lua_settop(L, 5); /* the hold goes above the arguments */
  const char *path = luaL_checkstring(L, 1);
  zarr_meta m = {.dtype = check_dtype(L, 2), .compressor = ZARR_ZSTD, .level = 1, .sep = '.'};
  m.ndim = check_ints(L, 3, 0, m.shape);
  luaL_argcheck(L, check_ints(L, 4, 1, m.chunks) == m.ndim, 4, "one chunk size per axis expected");
  if (!lua_isnoneornil(L, 5)) {
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_getfield(L, 5, "compressor");
    const char *c = luaL_optstring(L, -1, "zstd");
    luaL_argcheck(L, strcmp(c, "zstd") == 0 || strcmp(c, "none") == 0, 5, "compressor: \"zstd\" or \"none\"");
    m.compressor = strcmp(c, "zstd") == 0 ? ZARR_ZSTD : ZARR_NONE;
    lua_getfield(L, 5, "level");
    m.level = (int)luaL_optinteger(L, -1, 1);
    luaL_argcheck(L, m.level >= -22 && m.level <= 22, 5, "level: -22 .. 22");
    lua_getfield(L, 5, "shuffle");
    if (lua_isnil(L, -1) || lua_toboolean(L, -1)) m.shuffle = (int)buf_dtype_size(m.dtype);
    lua_getfield(L, 5, "separator");
    const char *s = luaL_optstring(L, -1, ".");
    luaL_argcheck(L, strcmp(s, ".") == 0 || strcmp(s, "/") == 0, 5, "separator: \".\" or \"/\"");
    m.sep = *s;
    lua_getfield(L, 5, "fill_value");
    check_fill(L, -1, &m);
  } else
    m.shuffle = (int)buf_dtype_size(m.dtype);
  if (m.shuffle == 1) m.shuffle = 0; /* nothing to shuffle in bytes */
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  h->s = zarr_create(path, &m, err);
  return push_temp(L, h, err);
}

static int l_zarr_write(lua_State *L) {
  lua_settop(L, 3); /* the hold goes above the arguments */
  const char *tmp = luaL_checkstring(L, 1);
  int64_t start[BUF_MAXDIM];
  int ndim = check_ints(L, 2, INT64_MIN, start);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  int rc = zarr_write(tmp, ndim, start, check_array(L, 3, h), err);
  return rc != 0 ? fail(L, rc, err) : 0;
}

/* --- HDF5 --- */

static int l_h5_info(lua_State *L) {
  const char *path = luaL_checkstring(L, 1), *ds = luaL_checkstring(L, 2);
  h5_info info;
  char err[AFILE_ERRLEN];
  int rc = h5_info_of(path, ds, &info, err);
  if (rc != 0) return fail(L, rc, err);
  lua_createtable(L, 0, 3);
  set_common(L, info.dtype, info.ndim, info.shape);
  if (info.chunked) {
    push_shape(L, info.ndim, info.chunks);
    lua_setfield(L, -2, "chunks");
  }
  return 1;
}

static int l_h5_read(lua_State *L) {
  lua_settop(L, 4); /* the hold goes above the arguments */
  const char *path = luaL_checkstring(L, 1), *ds = luaL_checkstring(L, 2);
  hold *h = newhold(L);
  h5_info info;
  char err[AFILE_ERRLEN];
  int64_t start[BUF_MAXDIM], count[BUF_MAXDIM];
  int rc = h5_info_of(path, ds, &info, err);
  if (rc != 0) return fail(L, rc, err);
  check_region(L, 3, info.ndim, info.shape, start, count);
  if ((rc = h5_read(path, ds, info.ndim, start, count, &h->b, err)) != 0) return fail(L, rc, err);
  return push_array(L, h);
}

static int l_h5_create(lua_State *L) {
  lua_settop(L, 5); /* the hold goes above the arguments */
  const char *path = luaL_checkstring(L, 1), *ds = luaL_checkstring(L, 2);
  int dtype = check_dtype(L, 3);
  int64_t shape[BUF_MAXDIM], chunks[BUF_MAXDIM];
  int ndim = check_ints(L, 4, 0, shape);
  int chunked = !lua_isnoneornil(L, 5);
  luaL_argcheck(L, !chunked || check_ints(L, 5, 1, chunks) == ndim, 5, "one chunk size per axis expected");
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  h->s = h5_create(path, ds, dtype, ndim, shape, chunked ? chunks : NULL, err);
  return push_temp(L, h, err);
}

static int l_h5_write(lua_State *L) {
  lua_settop(L, 4); /* the hold goes above the arguments */
  const char *tmp = luaL_checkstring(L, 1), *ds = luaL_checkstring(L, 2);
  int64_t start[BUF_MAXDIM];
  int ndim = check_ints(L, 3, INT64_MIN, start);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  int rc = h5_write(tmp, ds, ndim, start, check_array(L, 4, h), err);
  return rc != 0 ? fail(L, rc, err) : 0;
}

/* --- binary --- */

static int l_binary_info(lua_State *L) {
  lua_settop(L, 1); /* the hold goes above the arguments */
  const char *dir = luaL_checkstring(L, 1);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  int rc = binary_info_of(dir, &h->m, err);
  if (rc != 0) return fail(L, rc, err);
  lua_createtable(L, 0, 3);
  set_common(L, h->m.dtype, h->m.ndim, h->m.shape);
  lua_createtable(L, h->m.ndim, 0);
  for (int d = 0; d < h->m.ndim; d++) {
    lua_createtable(L, (int)h->m.nchunks[d], 0);
    for (int64_t i = 0; i < h->m.nchunks[d]; i++) {
      lua_pushinteger(L, (lua_Integer)h->m.sizes[d][i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_rawseti(L, -2, d + 1);
  }
  lua_setfield(L, -2, "chunks");
  return 1;
}

static int l_binary_read(lua_State *L) {
  lua_settop(L, 2); /* the hold goes above the arguments */
  const char *dir = luaL_checkstring(L, 1);
  int64_t index[BUF_MAXDIM];
  int ndim = check_ints(L, 2, 0, index);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  int rc = binary_read(dir, ndim, index, &h->b, err);
  return rc != 0 ? fail(L, rc, err) : push_array(L, h);
}

static int l_binary_create(lua_State *L) {
  lua_settop(L, 4); /* the hold goes above the arguments */
  const char *dir = luaL_checkstring(L, 1);
  hold *h = newhold(L);
  binary_meta *m = &h->m;
  m->dtype = check_dtype(L, 2);
  m->ndim = check_ints(L, 3, 0, m->shape);
  luaL_checktype(L, 4, LUA_TTABLE);
  luaL_argcheck(L, luaL_len(L, 4) == m->ndim, 4, "one list of chunk sizes per axis expected");
  size_t total = 0;
  for (int d = 0; d < m->ndim; d++) {
    lua_geti(L, 4, d + 1);
    luaL_argcheck(L, lua_istable(L, -1), 4, "one list of chunk sizes per axis expected");
    lua_Integer n = luaL_len(L, -1);
    luaL_argcheck(L, n >= 1 && n <= BINARY_MAXCHUNKS, 4, "too many or no chunks on an axis");
    int64_t *p = base_realloc(m->all, (total + (size_t)n) * sizeof *p);
    if (p == NULL) return luaL_error(L, "not enough memory");
    m->all = p;
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, -1, i);
      int isint;
      lua_Integer v = lua_tointegerx(L, -1, &isint);
      luaL_argcheck(L, isint && v >= 0, 4, "chunk sizes are integers >= 0");
      p[total + (size_t)i - 1] = v;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    m->nchunks[d] = n;
    total += (size_t)n;
  }
  for (int d = 0, at = 0; d < m->ndim; at += (int)m->nchunks[d], d++) m->sizes[d] = m->all + at;
  char err[AFILE_ERRLEN];
  h->s = binary_create(dir, m, err);
  return push_temp(L, h, err);
}

static int l_binary_write(lua_State *L) {
  lua_settop(L, 3); /* the hold goes above the arguments */
  const char *tmp = luaL_checkstring(L, 1);
  int64_t index[BUF_MAXDIM];
  int ndim = check_ints(L, 2, 0, index);
  hold *h = newhold(L);
  char err[AFILE_ERRLEN];
  int rc = binary_write(tmp, ndim, index, check_array(L, 3, h), err);
  return rc != 0 ? fail(L, rc, err) : 0;
}

/* --- commit and abort --- */

#define WRITER(f)                                                                   \
  static int l_##f##_commit(lua_State *L) {                                         \
    char err[AFILE_ERRLEN];                                                         \
    int rc = f##_commit(luaL_checkstring(L, 1), luaL_checkstring(L, 2), err);      \
    return rc != 0 ? fail(L, rc, err) : 0;                                          \
  }                                                                                 \
  static int l_##f##_abort(lua_State *L) {                                          \
    char err[AFILE_ERRLEN];                                                         \
    int rc = f##_abort(luaL_checkstring(L, 1), err);                                \
    return rc != 0 ? fail(L, rc, err) : 0;                                          \
  }
WRITER(npy)
WRITER(zarr)
WRITER(h5)
WRITER(binary)

static const luaL_Reg funcs[] = {
  {"npy_info", l_npy_info}, {"npy_read", l_npy_read}, {"npy_create", l_npy_create}, {"npy_write", l_npy_write},
  {"npy_commit", l_npy_commit}, {"npy_abort", l_npy_abort},
  {"zarr_info", l_zarr_info}, {"zarr_read", l_zarr_read}, {"zarr_create", l_zarr_create},
  {"zarr_write", l_zarr_write}, {"zarr_commit", l_zarr_commit}, {"zarr_abort", l_zarr_abort},
  {"h5_info", l_h5_info}, {"h5_read", l_h5_read}, {"h5_create", l_h5_create}, {"h5_write", l_h5_write},
  {"h5_commit", l_h5_commit}, {"h5_abort", l_h5_abort},
  {"binary_info", l_binary_info}, {"binary_read", l_binary_read}, {"binary_create", l_binary_create},
  {"binary_write", l_binary_write}, {"binary_commit", l_binary_commit}, {"binary_abort", l_binary_abort},
  {NULL, NULL}
};

int luaopen_dusk_arrayio(lua_State *L) {
  lclass_new(L, HOLD, hold_close, NULL);
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
