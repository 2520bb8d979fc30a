/*
 * lndarray: the class "dusk.ndarray" and the module of the same name (see
 * lndarray.h): constructors, fields, element access, views, sending.
 *
 *   nda.array(nested[, dtype])  nda.zeros/ones/empty(shape[, dtype])
 *   nda.full(shape, v[, dtype]) nda.arange([start, ]stop[, step][, dtype])
 *   nda.concatenate(list[, axis])  nda.stack(list[, axis])  nda.is_ndarray(v)
 *   a.shape a.dtype a.ndim a.size a.nbytes a.T
 *   a:get(i, ...) a:to_table() a:astype(dtype) a:reshape(shape)
 *   a:transpose([perm]) a:slice(s1, ...) a:copy()   #a  tostring(a)
 *
 * Everything users see is 1-based: indexes, axes, permutations, slice
 * bounds (inclusive), negative ones counting from the end.
 *
 * Crossing tasks: the metatable's VALUE_BUFHOOK makes an ndarray a
 * VALUE_BUFFER (nd_tobuf: its own buffer when it spans it whole), and
 * lndarray_open makes BUF_NDARRAY buffers pushed into a state ndarrays.
 * Inside a table an ndarray travels by __dusk_send as its buffer's frame.
 */
#include "bind/lndarray.h"

#include <math.h>
#include <string.h>

#include "array/ndops.h"
#include "bind/lclass.h"
#include "data/value.h"
#include "serial/serial.h"

nd *lnd_push(lua_State *L) {
  return lclass_box(L, LND_CLASS, sizeof(nd), 0);
}

nd *lnd_test(lua_State *L, int idx) {
  return luaL_testudata(L, idx, LND_CLASS);
}

nd *lnd_check(lua_State *L, int idx) {
  nd *a = luaL_checkudata(L, idx, LND_CLASS);
  luaL_argcheck(L, a->b != NULL, idx, "a closed ndarray");
  return a;
}

static int nd_close(lua_State *L) {
  nd_free(luaL_checkudata(L, 1, LND_CLASS));
  return 0;
}

int lnd_checkdtype(lua_State *L, int idx) {
  const char *name = luaL_checkstring(L, idx);
  for (int t = 0; t < BUF_NDTYPES; t++)
    if (t != BUF_STRING && strcmp(buf_dtype_name(t), name) == 0) return t;
  return luaL_error(L, "bad dtype '%s' (float64, float32, int64, int32, uint8, bool, "
                       "int8, int16, uint16, uint32 or uint64)", name);
}

int lnd_axis(lua_State *L, lua_Integer k, int ndim) {
  lua_Integer d = k < 0 ? k + ndim : k - 1;
  if (k == 0 || d < 0 || d >= ndim)
    luaL_error(L, "axis %I is out of range for an array of %d dimension%s (axes are 1-based)",
               k, ndim, ndim == 1 ? "" : "s");
  return (int)d;
}

void lnd_pushshape(lua_State *L, int ndim, const int64_t *shape, int compact) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '(');
  for (int d = 0; d < ndim; d++) {
    if (d > 0) luaL_addstring(&b, compact ? "," : ", ");
    lua_pushinteger(L, (lua_Integer)shape[d]);
    luaL_addvalue(&b);
  }
  if (ndim == 1) luaL_addchar(&b, ',');
  luaL_addchar(&b, ')');
  luaL_pushresult(&b);
}

int lnd_nomem(lua_State *L, int dtype, int ndim, const int64_t *shape) {
  lnd_pushshape(L, ndim, shape, 0);
  return luaL_error(L, "not enough memory for an ndarray of shape %s and dtype %s",
                    lua_tostring(L, -1), buf_dtype_name(dtype));
}

void lnd_alloc(lua_State *L, nd *a, int dtype, int ndim, const int64_t *shape) {
  if (nd_alloc(a, dtype, ndim, shape) != 0) lnd_nomem(L, dtype, ndim, shape);
}

void lnd_pushelem(lua_State *L, int dtype, const char *p) {
#define GET(T) do { T v_; memcpy(&v_, p, sizeof v_); lua_pushinteger(L, (lua_Integer)v_); } while (0)
  switch (dtype) {
  case BUF_BOOL: lua_pushboolean(L, *(const uint8_t *)p != 0); break;
  case BUF_INT8: GET(int8_t); break;
  case BUF_INT16: GET(int16_t); break;
  case BUF_INT32: GET(int32_t); break;
  case BUF_INT64: GET(int64_t); break;
  case BUF_UINT8: GET(uint8_t); break;
  case BUF_UINT16: GET(uint16_t); break;
  case BUF_UINT32: GET(uint32_t); break;
  case BUF_UINT64: {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    if (v > INT64_MAX) lua_pushnumber(L, (lua_Number)v); /* no Lua integer holds it */
    else lua_pushinteger(L, (lua_Integer)v);
    break;
  }
  case BUF_FLOAT32: {
    float v;
    memcpy(&v, p, sizeof v);
    lua_pushnumber(L, v);
    break;
  }
  default: {
    double v;
    memcpy(&v, p, sizeof v);
    lua_pushnumber(L, v);
  }
  }
#undef GET
}

const char *lnd_store(lua_State *L, int idx, int dtype, char *p) {
  int isint = 1;
  int64_t i = 0;
  double x = 0;
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN: i = lua_toboolean(L, idx); break;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) i = lua_tointeger(L, idx);
    else x = lua_tonumber(L, idx), isint = 0;
    break;
  default: return "not a number or boolean";
  }
  if (dtype == BUF_FLOAT64 || dtype == BUF_FLOAT32 || dtype == BUF_BOOL) {
    double v = isint ? (double)i : x;
    if (dtype == BUF_FLOAT64) memcpy(p, &v, sizeof v);
    else if (dtype == BUF_FLOAT32) {
      float f = (float)v;
      memcpy(p, &f, sizeof f);
    } else *(uint8_t *)p = isint ? i != 0 : x != 0;
    return NULL;
  }
  if (!isint) { /* numpy's truncation toward zero, but never an undefined cast */
    if (isnan(x)) return "NaN cannot be an integer";
    double t = trunc(x);
    if (dtype == BUF_UINT64 && t >= 0x1p63 && t < 0x1p64) {
      uint64_t u = (uint64_t)t;
      memcpy(p, &u, sizeof u);
      return NULL;
    }
    if (!(t >= -0x1p63 && t < 0x1p63)) return "out of bounds";
    i = (int64_t)t;
  }
  if (!nd_holds(dtype, i)) return "out of bounds";
#define PUT(T) do { T v_ = (T)i; memcpy(p, &v_, sizeof v_); } while (0)
  switch (dtype) {
  case BUF_INT8: PUT(int8_t); break;
  case BUF_INT16: PUT(int16_t); break;
  case BUF_INT32: PUT(int32_t); break;
  case BUF_INT64: PUT(int64_t); break;
  case BUF_UINT8: PUT(uint8_t); break;
  case BUF_UINT16: PUT(uint16_t); break;
  case BUF_UINT32: PUT(uint32_t); break;
  default: PUT(uint64_t);
  }
#undef PUT
  return NULL;
}

/* Stores the value at 'idx' or raises naming it and 'what'. */
static void store_or_raise(lua_State *L, int idx, int dtype, char *p, const char *what) {
  const char *why = lnd_store(L, idx, dtype, p);
  if (why != NULL)
    luaL_error(L, "%s %s: %s for %s", what, luaL_tolstring(L, idx, NULL), why,
               buf_dtype_name(dtype));
}

/* The 0-based position of 1-based 'i' (negative from the end) on an axis
 * of 'n' elements, or -1 when out of range. */
static int64_t position(lua_Integer i, int64_t n) {
  if (i < 0) i += n + 1;
  return i >= 1 && i <= n ? i - 1 : -1;
}

/* The shape at 'idx': an integer (1-d) or a list of them, into 'shape';
 * returns ndim.  With 'unknown' one -1 is allowed, its axis in '*unknown'
 * (else -1). */
static int check_shape(lua_State *L, int idx, int64_t *shape, int *unknown) {
  if (unknown) *unknown = -1;
  if (lua_isinteger(L, idx)) {
    lua_Integer n = lua_tointeger(L, idx);
    luaL_argcheck(L, n >= 0 || (unknown && n == -1), idx, "a shape's lengths cannot be negative");
    if (n == -1) *unknown = 0;
    shape[0] = n;
    return 1;
  }
  luaL_argexpected(L, lua_type(L, idx) == LUA_TTABLE, idx, "a shape (an integer or a list of them)");
  lua_Integer ndim = (lua_Integer)lua_rawlen(L, idx);
  luaL_argcheck(L, ndim <= ND_MAXDIM, idx, "more than 32 dimensions");
  int64_t total = 1;
  for (int d = 0; d < ndim; d++) {
    lua_rawgeti(L, idx, d + 1);
    int ok;
    lua_Integer n = lua_tointegerx(L, -1, &ok);
    lua_pop(L, 1);
    luaL_argcheck(L, ok, idx, "a shape's lengths must be integers");
    if (n == -1 && unknown && *unknown < 0) {
      *unknown = d;
    } else {
      luaL_argcheck(L, n >= 0, idx, unknown ? "one length only can be -1" : "a shape's lengths cannot be negative");
      luaL_argcheck(L, n == 0 || total <= INT64_MAX / n, idx, "too many elements");
      total *= n;
    }
    shape[d] = n;
  }
  return (int)ndim;
}

/* ---- constructors -------------------------------------------------- */

/* nda.array: the nested tables' shape (following first elements), then a
 * walk checking every list against it, inferring the dtype, then one
 * filling the elements in C order. */
typedef struct walk {
  int ndim, dtype;            /* dtype -1: infer */
  int64_t shape[ND_MAXDIM];
  int64_t at[ND_MAXDIM];      /* the position being walked, for messages */
  int kinds;                  /* seen: 1 integer, 2 float, 4 boolean */
  char *p;                    /* the next element to fill */
  size_t itemsize;
} walk;

static int where_error(lua_State *L, const walk *w, int depth, const char *what) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int d = 0; d < depth; d++) {
    lua_pushfstring(L, "[%I]", (lua_Integer)w->at[d] + 1);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return luaL_error(L, "nda.array: %s at %s", what, depth ? lua_tostring(L, -1) : "the top");
}

static void walk_list(lua_State *L, walk *w, int depth, int fill) {
  int t = lua_gettop(L);
  if (depth == w->ndim) {
    int ty = lua_type(L, t);
    if (ty == LUA_TTABLE) where_error(L, w, depth, "ragged nested lists: a list where a number was expected");
    if (ty != LUA_TNUMBER && ty != LUA_TBOOLEAN)
      where_error(L, w, depth, lua_pushfstring(L, "a %s where a number or boolean was expected", luaL_typename(L, t)));
    if (fill) {
      const char *why = lnd_store(L, t, w->dtype, w->p);
      if (why) where_error(L, w, depth, lua_pushfstring(L, "%s %s for %s", luaL_tolstring(L, t, NULL), why, buf_dtype_name(w->dtype)));
      w->p += w->itemsize;
    } else {
      w->kinds |= ty == LUA_TBOOLEAN ? 4 : lua_isinteger(L, t) ? 1 : 2;
      if ((w->kinds & 4) && (w->kinds & 3))
        where_error(L, w, depth, "booleans mixed with numbers (give a dtype)");
    }
    return;
  }
  if (lua_type(L, t) != LUA_TTABLE)
    where_error(L, w, depth, lua_pushfstring(L, "ragged nested lists: a %s where a list of %I was expected",
                                             luaL_typename(L, t), (lua_Integer)w->shape[depth]));
  luaL_checkstack(L, 4, NULL);
  if (!fill) {
    lua_Integer count = 0;
    for (lua_pushnil(L); lua_next(L, t); lua_pop(L, 1)) count++;
    if ((int64_t)lua_rawlen(L, t) != w->shape[depth] || count != w->shape[depth])
      where_error(L, w, depth, lua_pushfstring(L, "ragged nested lists or a hole: a table of %I entries where a list of %I was expected",
                                               count, (lua_Integer)w->shape[depth]));
  }
  for (int64_t i = 0; i < w->shape[depth]; i++) {
    w->at[depth] = i;
    lua_rawgeti(L, t, (lua_Integer)i + 1);
    walk_list(L, w, depth + 1, fill);
    lua_settop(L, t);
  }
}

static int f_array(lua_State *L) {
  luaL_checkany(L, 1);
  walk w;
  memset(&w, 0, sizeof w);
  w.dtype = lua_isnoneornil(L, 2) ? -1 : lnd_checkdtype(L, 2);
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  while (lua_type(L, -1) == LUA_TTABLE) {
    if (w.ndim == ND_MAXDIM) return luaL_error(L, "nda.array: more than %d levels of lists", ND_MAXDIM);
    w.shape[w.ndim++] = (int64_t)lua_rawlen(L, -1);
    if (w.shape[w.ndim - 1] == 0) break;
    lua_rawgeti(L, -1, 1);
  }
  lua_settop(L, 1);
  walk_list(L, &w, 0, 0);
  if (w.dtype < 0)
    w.dtype = (w.kinds & 4) ? BUF_BOOL : (w.kinds & 2) || w.kinds == 0 ? BUF_FLOAT64 : BUF_INT64;
  nd *a = lnd_push(L);
  lnd_alloc(L, a, w.dtype, w.ndim, w.shape);
  w.p = a->data;
  w.itemsize = nd_itemsize(a);
  lua_pushvalue(L, 1);
  walk_list(L, &w, 0, 1);
  lua_pop(L, 1);
  return 1;
}

/* zeros, ones, empty, full: shape at 1, the fill value at 'v' (0: none). */
static int filled(lua_State *L, int v, int dtype_idx, int dtype) {
  int64_t shape[ND_MAXDIM];
  int ndim = check_shape(L, 1, shape, NULL);
  if (!lua_isnoneornil(L, dtype_idx)) dtype = lnd_checkdtype(L, dtype_idx);
  nd *a = lnd_push(L);
  if (v == 0) {
    if (nd_zeros(a, dtype, ndim, shape) != 0) lnd_nomem(L, dtype, ndim, shape);
    return 1;
  }
  lnd_alloc(L, a, dtype, ndim, shape);
  uint64_t elem = 0;
  store_or_raise(L, v, dtype, (char *)&elem, "fill value");
  nd_fill(a, &elem);
  return 1;
}

static int f_zeros(lua_State *L) { return filled(L, 0, 2, BUF_FLOAT64); }
static int f_empty(lua_State *L) { return filled(L, 0, 2, BUF_FLOAT64); }

static int f_ones(lua_State *L) {
  lua_settop(L, 2);
  lua_pushinteger(L, 1);
  return filled(L, 3, 2, BUF_FLOAT64);
}

static int f_full(lua_State *L) {
  luaL_argexpected(L, lua_type(L, 2) == LUA_TNUMBER || lua_type(L, 2) == LUA_TBOOLEAN, 2, "number or boolean");
  int dtype = lua_isboolean(L, 2) ? BUF_BOOL : lua_isinteger(L, 2) ? BUF_INT64 : BUF_FLOAT64;
  return filled(L, 2, 3, dtype);
}

/* nda.arange([start, ]stop[, step][, dtype]): numpy's length,
 * ceil((stop - start) / step), exact for integers; floats as numpy fills
 * them, start + i * ((start + step) - start). */
static int f_arange(lua_State *L) {
  int n = lua_gettop(L);
  int dtype = -1;
  if (n > 1 && lua_type(L, n) == LUA_TSTRING) dtype = lnd_checkdtype(L, n--);
  luaL_argcheck(L, n >= 1 && n <= 3, n + 1, "nda.arange([start, ]stop[, step][, dtype])");
  int isint = 1;
  for (int k = 1; k <= n; k++) {
    luaL_checknumber(L, k);
    isint &= lua_isinteger(L, k);
  }
  int ls = n == 1 ? 0 : 1, le = n == 1 ? 1 : 2; /* start's and stop's slots */
  int64_t len;
  nd *a;
  if (isint) {
    lua_Integer start = ls ? lua_tointeger(L, ls) : 0, stop = lua_tointeger(L, le);
    lua_Integer step = n == 3 ? lua_tointeger(L, 3) : 1;
    luaL_argcheck(L, step != 0, 3, "step cannot be zero");
    uint64_t span = step > 0 ? (uint64_t)stop - (uint64_t)start : (uint64_t)start - (uint64_t)stop;
    uint64_t st = step > 0 ? (uint64_t)step : 0 - (uint64_t)step;
    int nonempty = step > 0 ? stop > start : stop < start;
    uint64_t count = nonempty ? (span - 1) / st + 1 : 0;
    luaL_argcheck(L, count <= BUF_MAXSIZE, le, "too many elements");
    len = (int64_t)count;
    a = lnd_push(L);
    lnd_alloc(L, a, BUF_INT64, 1, &len);
    int64_t *p = (int64_t *)a->data;
    for (int64_t i = 0; i < len; i++) p[i] = (int64_t)((uint64_t)start + (uint64_t)i * (uint64_t)step);
  } else {
    double start = ls ? lua_tonumber(L, ls) : 0, stop = lua_tonumber(L, le);
    double step = n == 3 ? lua_tonumber(L, 3) : 1;
    luaL_argcheck(L, step != 0, 3, "step cannot be zero");
    double l = ceil((stop - start) / step);
    luaL_argcheck(L, !isnan(l) && l < 0x1p62, le, "arange's length is not finite");
    len = l > 0 ? (int64_t)l : 0;
    a = lnd_push(L);
    lnd_alloc(L, a, BUF_FLOAT64, 1, &len);
    double *p = (double *)a->data, delta = (start + step) - start;
    for (int64_t i = 0; i < len; i++) p[i] = start + (double)i * delta;
  }
  if (dtype >= 0 && dtype != a->dtype) {
    nd *c = lnd_push(L);
    lnd_alloc(L, c, dtype, 1, &len);
    nd_cast(a, c);
  }
  return 1;
}

/* The arrays of the list at 1 (at least one), checked, left on the
 * stack from 'base' + 1; returns how many. */
static int check_list(lua_State *L, const char *fname) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int n = (int)luaL_len(L, 1);
  luaL_argcheck(L, n >= 1, 1, "a list of at least one ndarray");
  luaL_checkstack(L, n + 8, NULL);
  for (int k = 1; k <= n; k++) {
    lua_rawgeti(L, 1, k);
    if (lnd_test(L, -1) == NULL) luaL_error(L, "%s: element %d of the list is a %s, not an ndarray", fname, k, luaL_typename(L, -1));
    lnd_check(L, lua_gettop(L));
  }
  return n;
}

static int f_concatenate(lua_State *L) {
  lua_Integer k = luaL_optinteger(L, 2, 1);
  lua_settop(L, 1);
  int n = check_list(L, "concatenate");
  nd *first = lnd_check(L, 2);
  luaL_argcheck(L, first->ndim > 0, 1, "zero-dimensional arrays cannot be concatenated");
  int axis = lnd_axis(L, k, first->ndim);
  int64_t shape[ND_MAXDIM];
  memcpy(shape, first->shape, sizeof shape);
  shape[axis] = 0;
  int dtype = first->dtype;
  for (int j = 0; j < n; j++) {
    nd *a = lnd_check(L, 2 + j);
    if (a->ndim != first->ndim)
      return luaL_error(L, "concatenate: array 1 has %d dimensions and array %d has %d", first->ndim, j + 1, a->ndim);
    for (int d = 0; d < a->ndim; d++)
      if (d != axis && a->shape[d] != first->shape[d])
        return luaL_error(L, "concatenate: along axis %d, array 1 has length %I and array %d has %I "
                             "(all axes but the concatenation axis must match)",
                          d + 1, (lua_Integer)first->shape[d], j + 1, (lua_Integer)a->shape[d]);
    shape[axis] += a->shape[axis];
    dtype = nd_promote(dtype, a->dtype);
  }
  nd *out = lnd_push(L);
  lnd_alloc(L, out, dtype, first->ndim, shape);
  nd *region = lnd_push(L);
  int64_t at = 0;
  for (int j = 0; j < n; j++) {
    nd *a = lnd_check(L, 2 + j);
    nd_ref(region, out);
    nd_slice(region, axis, at, a->shape[axis], 1);
    nd_status s = nd_cast(a, region);
    nd_free(region);
    if (s != ND_OK) return luaL_error(L, "concatenate: %s", nd_strerror(s));
    at += a->shape[axis];
  }
  lua_pop(L, 1);
  return 1;
}

static int f_stack(lua_State *L) {
  lua_Integer k = luaL_optinteger(L, 2, 1);
  lua_settop(L, 1);
  int n = check_list(L, "stack");
  nd *first = lnd_check(L, 2);
  luaL_argcheck(L, first->ndim < ND_MAXDIM, 1, "stacking would make more than 32 dimensions");
  int axis = lnd_axis(L, k, first->ndim + 1);
  int dtype = first->dtype;
  for (int j = 0; j < n; j++) {
    nd *a = lnd_check(L, 2 + j);
    int same = a->ndim == first->ndim;
    for (int d = 0; same && d < a->ndim; d++) same = a->shape[d] == first->shape[d];
    if (!same) {
      lnd_pushshape(L, first->ndim, first->shape, 0);
      lnd_pushshape(L, a->ndim, a->shape, 0);
      return luaL_error(L, "stack: all arrays must have the same shape: array 1 has %s and array %d has %s",
                        lua_tostring(L, -2), j + 1, lua_tostring(L, -1));
    }
    dtype = nd_promote(dtype, a->dtype);
  }
  int64_t shape[ND_MAXDIM];
  for (int d = 0, s = 0; d <= first->ndim; d++) shape[d] = d == axis ? n : first->shape[s++];
  nd *out = lnd_push(L);
  lnd_alloc(L, out, dtype, first->ndim + 1, shape);
  nd *region = lnd_push(L);
  for (int j = 0; j < n; j++) {
    nd_ref(region, out);
    nd_index(region, axis, j);
    nd_status s = nd_cast(lnd_check(L, 2 + j), region);
    nd_free(region);
    if (s != ND_OK) return luaL_error(L, "stack: %s", nd_strerror(s));
  }
  lua_pop(L, 1);
  return 1;
}

static int f_is_ndarray(lua_State *L) {
  lua_pushboolean(L, lnd_test(L, 1) != NULL);
  return 1;
}

/* ---- fields and element access ------------------------------------- */

static void push_transposed(lua_State *L, nd *a, const int *perm) {
  nd *t = lnd_push(L);
  nd_ref(t, a);
  nd_transpose(t, perm);
}

static void reversed(int ndim, int *perm) {
  for (int d = 0; d < ndim; d++) perm[d] = ndim - 1 - d;
}

/* __index: the methods (upvalue 1), then the fields. */
static int m_index(lua_State *L) {
  nd *a = lnd_check(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
  if (k == NULL)
    return luaL_error(L, "an ndarray is indexed by a:get(i, ...) or a:slice(...), not by a %s", luaL_typename(L, 2));
  if (strcmp(k, "shape") == 0) {
    lua_createtable(L, a->ndim, 0);
    for (int d = 0; d < a->ndim; d++) {
      lua_pushinteger(L, (lua_Integer)a->shape[d]);
      lua_rawseti(L, -2, d + 1);
    }
  } else if (strcmp(k, "dtype") == 0) {
    lua_pushstring(L, buf_dtype_name(a->dtype));
  } else if (strcmp(k, "ndim") == 0) {
    lua_pushinteger(L, a->ndim);
  } else if (strcmp(k, "size") == 0) {
    lua_pushinteger(L, (lua_Integer)nd_size(a));
  } else if (strcmp(k, "nbytes") == 0) {
    lua_pushinteger(L, (lua_Integer)(nd_size(a) * (int64_t)nd_itemsize(a)));
  } else if (strcmp(k, "T") == 0) {
    int perm[ND_MAXDIM];
    reversed(a->ndim, perm);
    push_transposed(L, a, perm);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

static int m_len(lua_State *L) {
  nd *a = lnd_check(L, 1);
  if (a->ndim == 0) return luaL_error(L, "# of a 0-d ndarray (it has no axis)");
  lua_pushinteger(L, (lua_Integer)a->shape[0]);
  return 1;
}

static int m_get(lua_State *L) {
  nd *a = lnd_check(L, 1);
  int n = lua_gettop(L) - 1;
  if (n != a->ndim)
    return luaL_error(L, "get: %d index%s for an array of %d dimension%s", n, n == 1 ? "" : "es",
                      a->ndim, a->ndim == 1 ? "" : "s");
  int64_t ix[ND_MAXDIM];
  for (int d = 0; d < n; d++) {
    lua_Integer i = luaL_checkinteger(L, d + 2);
    ix[d] = position(i, a->shape[d]);
    if (ix[d] < 0)
      return luaL_error(L, "get: index %I is out of range for axis %d of length %I (1-based)", i, d + 1,
                        (lua_Integer)a->shape[d]);
  }
  lnd_pushelem(L, a->dtype, nd_at(a, ix));
  return 1;
}

static void push_table(lua_State *L, const nd *a, int d, const char *p) {
  if (d == a->ndim) {
    lnd_pushelem(L, a->dtype, p);
    return;
  }
  luaL_checkstack(L, 3, NULL);
  lua_createtable(L, a->shape[d] < INT32_MAX ? (int)a->shape[d] : 0, 0);
  for (int64_t i = 0; i < a->shape[d]; i++) {
    push_table(L, a, d + 1, p + i * a->strides[d]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

static int m_to_table(lua_State *L) {
  nd *a = lnd_check(L, 1);
  push_table(L, a, 0, a->data);
  return 1;
}

/* ---- conversions and views ----------------------------------------- */

static int m_astype(lua_State *L) {
  nd *a = lnd_check(L, 1);
  int dtype = lnd_checkdtype(L, 2);
  nd *out = lnd_push(L);
  if (nd_contiguous(a, dtype, out) != 0) lnd_nomem(L, dtype, a->ndim, a->shape);
  return 1;
}

static int m_copy(lua_State *L) {
  nd *a = lnd_check(L, 1);
  nd *out = lnd_push(L);
  lnd_alloc(L, out, a->dtype, a->ndim, a->shape);
  nd_status s = nd_cast(a, out);
  if (s != ND_OK) return luaL_error(L, "copy: %s", nd_strerror(s));
  return 1;
}

/* The integers at 2.. or the list at 2, into 'v' (at most ND_MAXDIM);
 * returns how many, or -1 when there are none. */
static int int_args(lua_State *L, lua_Integer *v, const char *what) {
  int n = lua_gettop(L) - 1;
  if (n == 0 || (n == 1 && lua_isnil(L, 2))) return -1;
  if (n == 1 && lua_istable(L, 2)) {
    n = (int)lua_rawlen(L, 2);
    if (n > ND_MAXDIM) luaL_error(L, "%s: more than %d axes", what, ND_MAXDIM);
    for (int k = 0; k < n; k++) {
      lua_rawgeti(L, 2, k + 1);
      int ok;
      v[k] = lua_tointegerx(L, -1, &ok);
      if (!ok) luaL_error(L, "%s: element %d is not an integer", what, k + 1);
      lua_pop(L, 1);
    }
    return n;
  }
  if (n > ND_MAXDIM) luaL_error(L, "%s: more than %d axes", what, ND_MAXDIM);
  for (int k = 0; k < n; k++) v[k] = luaL_checkinteger(L, k + 2);
  return n;
}

static int m_reshape(lua_State *L) {
  nd *a = lnd_check(L, 1);
  int64_t shape[ND_MAXDIM];
  int unknown = -1, ndim;
  if (lua_gettop(L) == 2) {
    ndim = check_shape(L, 2, shape, &unknown);
  } else {
    lua_Integer v[ND_MAXDIM];
    ndim = int_args(L, v, "reshape");
    luaL_argcheck(L, ndim >= 0, 2, "a shape");
    lua_createtable(L, ndim, 0);
    for (int k = 0; k < ndim; k++) {
      lua_pushinteger(L, v[k]);
      lua_rawseti(L, -2, k + 1);
    }
    ndim = check_shape(L, lua_gettop(L), shape, &unknown);
  }
  int64_t known = 1, size = nd_size(a);
  for (int d = 0; d < ndim; d++)
    if (d != unknown) known *= shape[d];
  if (unknown >= 0 && known > 0 && size % known == 0) shape[unknown] = size / known;
  int ok = unknown >= 0 ? known > 0 && size % known == 0 : known == size;
  if (!ok) {
    lnd_pushshape(L, ndim, shape, 0);
    return luaL_error(L, "cannot reshape array of size %I into shape %s", (lua_Integer)size,
                      lua_tostring(L, -1));
  }
  nd *out = lnd_push(L);
  if (nd_reshape(a, ndim, shape, out) != 0) lnd_nomem(L, a->dtype, ndim, shape);
  return 1;
}

static int m_transpose(lua_State *L) {
  nd *a = lnd_check(L, 1);
  lua_Integer v[ND_MAXDIM];
  int perm[ND_MAXDIM], n = int_args(L, v, "transpose");
  if (n < 0) {
    reversed(a->ndim, perm);
  } else {
    int seen[ND_MAXDIM] = {0};
    if (n != a->ndim)
      return luaL_error(L, "transpose: a permutation of %d axes for an array of %d", n, a->ndim);
    for (int d = 0; d < n; d++) {
      perm[d] = lnd_axis(L, v[d], a->ndim);
      if (seen[perm[d]]++) return luaL_error(L, "transpose: axis %I repeated in the permutation", v[d]);
    }
  }
  push_transposed(L, a, perm);
  return 1;
}

/* One field of a slice spec {a, b, step}: nil when absent, else an
 * integer. */
static int spec_field(lua_State *L, int t, int k, lua_Integer *v, int axis) {
  int ty = lua_rawgeti(L, t, k);
  int ok = 0;
  if (ty != LUA_TNIL) {
    *v = lua_tointegerx(L, -1, &ok);
    if (!ok) luaL_error(L, "slice: axis %d: bound %d is a %s, not an integer", axis, k, luaL_typename(L, -1));
  }
  lua_pop(L, 1);
  return ok;
}

/* a:slice(s1, s2, ...), per axis: i (keeps element i, drops the axis),
 * {a, b[, step]} (a to b inclusive; a and b default to the ends in the
 * step's direction) or {} (all); out-of-range bounds are errors. */
static int m_slice(lua_State *L) {
  nd *a = lnd_check(L, 1);
  int n = lua_gettop(L) - 1;
  if (n > a->ndim)
    return luaL_error(L, "slice: %d axes given for an array of %d dimension%s", n, a->ndim, a->ndim == 1 ? "" : "s");
  nd *v = lnd_push(L);
  nd_ref(v, a);
  int axis = 0; /* the view's axis for the input's axis k */
  for (int k = 0; k < n; k++) {
    int spec = k + 2;
    int64_t len = v->shape[axis];
    if (lua_isinteger(L, spec)) {
      lua_Integer i = lua_tointeger(L, spec);
      int64_t p = position(i, len);
      if (p < 0)
        return luaL_error(L, "slice: index %I is out of range for axis %d of length %I (1-based)", i, k + 1,
                          (lua_Integer)len);
      nd_index(v, axis, p);
      continue;
    }
    if (!lua_istable(L, spec))
      return luaL_error(L, "slice: axis %d: an integer or a table {a, b[, step]} expected, got a %s", k + 1,
                        luaL_typename(L, spec));
    lua_Integer lo = 0, hi = 0, step = 1;
    int has_lo = spec_field(L, spec, 1, &lo, k + 1), has_hi = spec_field(L, spec, 2, &hi, k + 1);
    spec_field(L, spec, 3, &step, k + 1);
    if (step == 0) return luaL_error(L, "slice: axis %d: step cannot be zero", k + 1);
    int64_t first = has_lo ? position(lo, len) : step > 0 ? 0 : len - 1;
    int64_t last = has_hi ? position(hi, len) : step > 0 ? len - 1 : 0;
    if ((has_lo && first < 0) || (has_hi && last < 0))
      return luaL_error(L, "slice: axis %d: bound %I is out of range for length %I (1-based, inclusive)", k + 1,
                        has_lo && first < 0 ? lo : hi, (lua_Integer)len);
    int64_t count = 0;
    if (len > 0) {
      if (step > 0 && last >= first) count = (last - first) / step + 1;
      else if (step < 0 && first >= last) count = (first - last) / (-step) + 1;
    }
    nd_slice(v, axis, count ? first : 0, count, step);
    axis++;
  }
  return 1;
}

/* ---- printing and sending ------------------------------------------ */

/* tostring(a): numpy's repr, written in Lua (lua/dusk/ndprint.lua). */
static int m_tostring(lua_State *L) {
  nd *a = luaL_checkudata(L, 1, LND_CLASS);
  if (a->b == NULL) {
    lua_pushliteral(L, "ndarray(closed)");
    return 1;
  }
  lua_getglobal(L, "require"); /* the sandbox's require inside a task */
  lua_pushliteral(L, "dusk.ndprint");
  lua_call(L, 1, 1);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static int hook_get(lua_State *L, int idx, buf **out) {
  nd *a = lnd_test(L, idx);
  if (a == NULL || a->b == NULL) {
    lua_pushliteral(L, "cannot send a closed ndarray");
    return LUA_ERRRUN;
  }
  *out = nd_tobuf(a);
  if (*out == NULL) {
    lua_pushliteral(L, "not enough memory to send an ndarray");
    return LUA_ERRMEM;
  }
  return LUA_OK;
}

static void open_class(lua_State *L);

static int hook_push(lua_State *L, buf *b) {
  if (luaL_getmetatable(L, LND_CLASS) != LUA_TTABLE) open_class(L);
  lua_pop(L, 1);
  nd *a = lnd_push(L);
  buf_incref(b);
  if (nd_wrap(a, b) != 0) {
    lua_pop(L, 1);
    lua_pushliteral(L, "not an ndarray buffer");
    return LUA_ERRRUN;
  }
  return LUA_OK;
}

static const value_bufclass bufclass = { BUF_NDARRAY, hook_get, hook_push };

/* The serial hook: the type name and the frame of the array's buffer
 * (a copy), encoded straight into a Lua string; the buffer is held by a
 * box meanwhile, so nothing leaks if Lua raises. */
static int m_send(lua_State *L) {
  nd *a = lnd_check(L, 1);
  nd *held = lnd_push(L);
  if (nd_wrap(held, nd_tobuf(a)) != 0) return luaL_error(L, "not enough memory to send an ndarray");
  lua_pushliteral(L, LND_CLASS);
  luaL_Buffer lb;
  size_t room = buf_encode_bound(held->b, 0);
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  s.p = (unsigned char *)luaL_buffinitsize(L, &lb, room);
  s.cap = room; /* so buf_encode never grows it */
  buf_encode(held->b, 0, &s);
  luaL_pushresultsize(&lb, s.len);
  return 2;
}

static int f_receive(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  nd *a = lnd_push(L);
  buf *b;
  const char *why;
  if (buf_decode(s, n, &b, &why) != 0) return luaL_error(L, "%s", why);
  if (nd_wrap(a, b) != 0) return luaL_error(L, "a received ndarray is not an array buffer");
  return 1;
}

static const luaL_Reg methods[] = {
  {"get", m_get},
  {"to_table", m_to_table},
  {"astype", m_astype},
  {"copy", m_copy},
  {"reshape", m_reshape},
  {"transpose", m_transpose},
  {"slice", m_slice},
  {"close", nd_close},
  {NULL, NULL}
};

static const luaL_Reg metamethods[] = {
  {"__len", m_len},
  {"__tostring", m_tostring},
  {"__dusk_send", m_send},
  {NULL, NULL}
};

static const luaL_Reg functions[] = {
  {"array", f_array},
  {"zeros", f_zeros},
  {"ones", f_ones},
  {"empty", f_empty},
  {"full", f_full},
  {"arange", f_arange},
  {"concatenate", f_concatenate},
  {"stack", f_stack},
  {"is_ndarray", f_is_ndarray},
  {NULL, NULL}
};

static const char *const fields[] = { "shape", "dtype", "ndim", "size", "nbytes", "T", NULL };

/* The metatable (idempotent: hook_push may come first) and the decoder
 * of sent arrays. */
static void open_class(lua_State *L) {
  lclass_new(L, LND_CLASS, nd_close, NULL);
  luaL_setfuncs(L, metamethods, 0);
  luaL_setfuncs(L, lndops_metamethods, 0);
  lua_pushlightuserdata(L, (void *)&bufclass);
  lua_setfield(L, -2, VALUE_BUFHOOK);
  lua_createtable(L, 0, 32);
  luaL_setfuncs(L, methods, 0);
  luaL_setfuncs(L, lndops_methods, 0);
  lua_createtable(L, 0, 40); /* what the REPL completes: methods and fields */
  for (lua_pushnil(L); lua_next(L, -3);) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
  for (const char *const *f = fields; *f != NULL; f++) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, *f);
  }
  lua_setfield(L, -3, "__dusk_members");
  lua_pushcclosure(L, m_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, f_receive);
  serial_register(L, LND_CLASS);
}

int luaopen_dusk_ndarray(lua_State *L) {
  open_class(L);
  lua_createtable(L, 0, 32);
  luaL_setfuncs(L, functions, 0);
  luaL_setfuncs(L, lndops_functions, 0);
  return 1;
}

void lndarray_open(lua_State *L) {
  value_bufclass_set(L, &bufclass);
}
