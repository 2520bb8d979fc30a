/*
 * lndops: dusk.ndarray's arithmetic, comparisons, math functions and
 * reductions (see lndarray.h), over array/ndops.h and array/ndreduce.h.
 *
 *   a + b  a - b  a * b  a / b  a // b  a % b  a ^ b  -a
 *   a:eq/ne/lt/le/gt/ge(b)  nda.maximum/minimum(a, b)  nda.where(c, a, b)
 *   nda.sqrt exp log abs sin cos tanh floor ceil (a)
 *   a:sum{axis=, keepdims=}  prod min max any all mean var{ddof=} std
 *   a:argmin{axis=}  argmax
 *   a:dot(b)  nda.matmul(a, b)     (1-d and 2-d, array/ndmatmul.h)
 *
 * Operands are ndarrays or Lua numbers and booleans, numpy's weak
 * scalars: their dtype is the arrays' dtype promoted with their kind
 * (nd_promote_weak), and an integer that dtype cannot hold is an error.
 * Every temporary (a cast, a 0-d scalar) is a box on the stack, so an
 * error raised anywhere leaks nothing.
 */
#include <string.h>

#include "array/ndmatmul.h"
#include "array/ndops.h"
#include "array/ndreduce.h"
#include "bind/lndarray.h"

static const char *const binop_names[ND_NBINARY] = {
  "+", "-", "*", "/", "//", "%", "^", "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum"
};

static const char *const unop_names[ND_NUNARY] = {
  "-", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh", "floor", "ceil"
};

/* The weak kind of a Lua number or boolean at 'idx', or -1 for an
 * ndarray; raises for anything else. */
static int kind_of(lua_State *L, int idx, const char *op) {
  switch (lua_type(L, idx)) {
  case LUA_TBOOLEAN: return ND_WEAK_BOOL;
  case LUA_TNUMBER: return lua_isinteger(L, idx) ? ND_WEAK_INT : ND_WEAK_FLOAT;
  }
  if (lnd_test(L, idx) == NULL)
    luaL_error(L, "%s: an ndarray, number or boolean expected, got a %s", op, luaL_typename(L, idx));
  lnd_check(L, idx);
  return -1;
}

/* The dtypes of the operands at idx[0..n): arrays their own, weak scalars
 * the arrays' common dtype promoted with their kind, or their own
 * default (bool, int64, float64) when no operand is an array. */
static void operand_dtypes(lua_State *L, const int *idx, int n, int *dtypes, const char *op) {
  int kinds[3], common = -1;
  for (int k = 0; k < n; k++) {
    kinds[k] = kind_of(L, idx[k], op);
    if (kinds[k] < 0) {
      dtypes[k] = lnd_check(L, idx[k])->dtype;
      common = common < 0 ? dtypes[k] : nd_promote(common, dtypes[k]);
    }
  }
  for (int k = 0; k < n; k++) {
    if (kinds[k] < 0) continue;
    if (common >= 0) dtypes[k] = nd_promote_weak(common, (nd_weak)kinds[k]);
    else dtypes[k] = kinds[k] == ND_WEAK_BOOL ? BUF_BOOL : kinds[k] == ND_WEAK_INT ? BUF_INT64 : BUF_FLOAT64;
  }
}

static void check_status(lua_State *L, nd_status s, const char *op) {
  if (s != ND_OK) luaL_error(L, "%s in %s", nd_strerror(s), op);
}

/* Pushes the operand at 'idx' as a box of 'dtype': a view of an array
 * (a cast copy when its dtype differs), or a 0-d array of a scalar
 * whose dtype as an operand is 'weak' (raising when that cannot hold
 * it: uint8 + 300). */
static nd *operand(lua_State *L, int idx, int weak, int dtype, const char *op) {
  nd *a = lnd_test(L, idx);
  nd *o = lnd_push(L);
  if (a != NULL) {
    if (a->dtype == dtype) {
      nd_ref(o, a);
    } else {
      lnd_alloc(L, o, dtype, a->ndim, a->shape);
      check_status(L, nd_cast(a, o), op);
    }
    return o;
  }
  uint64_t probe;
  if (lnd_store(L, idx, weak, (char *)&probe) != NULL)
    luaL_error(L, "Lua integer %s is out of bounds for %s in %s", luaL_tolstring(L, idx, NULL),
               buf_dtype_name(weak), op);
  lnd_alloc(L, o, dtype, 0, NULL);
  lnd_store(L, idx, dtype, o->data);
  return o;
}

/* The shape 'x' and 'y' broadcast to, into '*ndim' and 'shape', or
 * numpy's message naming both shapes and the operation. */
static void broadcast_shape(lua_State *L, const nd *x, int ndimy, const int64_t *shapey,
                            int *ndim, int64_t *shape, const char *op) {
  if (nd_broadcast_shape(x->ndim, x->shape, ndimy, shapey, ndim, shape) != 0) {
    lnd_pushshape(L, x->ndim, x->shape, 1);
    lnd_pushshape(L, ndimy, shapey, 1);
    luaL_error(L, "operands could not be broadcast together with shapes %s %s in %s",
               lua_tostring(L, -2), lua_tostring(L, -1), op);
  }
}

static int binary(lua_State *L, nd_binop op, int ix, int iy) {
  const char *name = binop_names[op];
  int idx[2] = { ix, iy }, dt[2], loop, out;
  operand_dtypes(L, idx, 2, dt, name);
  if (nd_binary_types(op, dt[0], dt[1], &loop, &out) != 0)
    return luaL_error(L, "%s is not defined for %s and %s", name, buf_dtype_name(dt[0]), buf_dtype_name(dt[1]));
  nd *x = operand(L, ix, dt[0], loop, name);
  nd *y = operand(L, iy, dt[1], loop, name);
  int ndim;
  int64_t shape[ND_MAXDIM];
  broadcast_shape(L, x, y->ndim, y->shape, &ndim, shape, name);
  nd_broadcast_to(x, ndim, shape);
  nd_broadcast_to(y, ndim, shape);
  nd *r = lnd_push(L);
  lnd_alloc(L, r, out, ndim, shape);
  check_status(L, nd_binary(op, x, y, r), name);
  return 1;
}

static int unary(lua_State *L, nd_unop op) {
  const char *name = unop_names[op];
  nd *a = lnd_check(L, 1);
  int loop, out;
  if (nd_unary_types(op, a->dtype, &loop, &out) != 0)
    return luaL_error(L, "%s is not defined for %s", name, buf_dtype_name(a->dtype));
  lua_settop(L, 1);
  nd *x = operand(L, 1, a->dtype, loop, name);
  nd *r = lnd_push(L);
  lnd_alloc(L, r, out, x->ndim, x->shape);
  check_status(L, nd_unary(op, x, r), name);
  return 1;
}

#define BINARY(fname, op) static int fname(lua_State *L) { return binary(L, op, 1, 2); }
BINARY(m_add, ND_ADD)
BINARY(m_sub, ND_SUB)
BINARY(m_mul, ND_MUL)
BINARY(m_div, ND_DIV)
BINARY(m_idiv, ND_FLOORDIV)
BINARY(m_mod, ND_MOD)
BINARY(m_pow, ND_POW)
BINARY(m_eq, ND_EQ)
BINARY(m_ne, ND_NE)
BINARY(m_lt, ND_LT)
BINARY(m_le, ND_LE)
BINARY(m_gt, ND_GT)
BINARY(m_ge, ND_GE)
BINARY(f_maximum, ND_MAXIMUM)
BINARY(f_minimum, ND_MINIMUM)
#undef BINARY

#define UNARY(fname, op) static int fname(lua_State *L) { return unary(L, op); }
UNARY(m_unm, ND_NEG)
UNARY(f_abs, ND_ABS)
UNARY(f_sqrt, ND_SQRT)
UNARY(f_exp, ND_EXP)
UNARY(f_log, ND_LOG)
UNARY(f_sin, ND_SIN)
UNARY(f_cos, ND_COS)
UNARY(f_tanh, ND_TANH)
UNARY(f_floor, ND_FLOOR)
UNARY(f_ceil, ND_CEIL)
#undef UNARY

/* nda.where(cond, a, b): cond an ndarray (nonzero is true) or a boolean;
 * a and b ndarrays or scalars, promoted together. */
static int f_where(lua_State *L) {
  lua_settop(L, 3);
  nd *c;
  if (lua_isboolean(L, 1)) {
    c = operand(L, 1, BUF_BOOL, BUF_BOOL, "where");
  } else {
    int d = lnd_check(L, 1)->dtype;
    c = operand(L, 1, d, BUF_BOOL, "where");
  }
  int idx[2] = { 2, 3 }, dt[2];
  operand_dtypes(L, idx, 2, dt, "where");
  int dtype = nd_promote(dt[0], dt[1]);
  nd *x = operand(L, 2, dt[0], dtype, "where");
  nd *y = operand(L, 3, dt[1], dtype, "where");
  int n1, ndim;
  int64_t s1[ND_MAXDIM], shape[ND_MAXDIM];
  broadcast_shape(L, c, x->ndim, x->shape, &n1, s1, "where");
  nd cs = *c; /* the condition with the first shape, for the message */
  cs.ndim = n1;
  memcpy(cs.shape, s1, sizeof s1);
  broadcast_shape(L, &cs, y->ndim, y->shape, &ndim, shape, "where");
  nd_broadcast_to(c, ndim, shape);
  nd_broadcast_to(x, ndim, shape);
  nd_broadcast_to(y, ndim, shape);
  nd *r = lnd_push(L);
  lnd_alloc(L, r, dtype, ndim, shape);
  check_status(L, nd_where(c, x, y, r), "where");
  return 1;
}

/* a:dot(b), nda.matmul(a, b): numpy's dot of 1-d and 2-d arrays; a 0-d
 * result (two vectors) is a Lua number. */
static int m_dot(lua_State *L) {
  nd *a = lnd_check(L, 1), *b = lnd_check(L, 2);
  nd *out = lnd_push(L);
  nd_status s = nd_matmul(a, b, out, 0);
  if (s == ND_ESHAPE) {
    char msg[256];
    return luaL_error(L, "%s", nd_matmul_message(a, b, msg, sizeof msg));
  }
  check_status(L, s, "dot");
  if (out->ndim == 0) lnd_pushelem(L, out->dtype, out->data);
  return 1;
}

/* ---- reductions ---------------------------------------------------- */

typedef struct reduce_opts {
  uint8_t reduced[ND_MAXDIM];
  int naxes, all, keepdims, ddof;
} reduce_opts;

static void axis_entry(lua_State *L, int idx, const nd *a, reduce_opts *o, const char *name) {
  int ok;
  lua_Integer k = lua_tointegerx(L, idx, &ok);
  if (!ok) luaL_error(L, "%s: an axis must be an integer, got a %s", name, luaL_typename(L, idx));
  int d = lnd_axis(L, k, a->ndim);
  if (o->reduced[d]) luaL_error(L, "%s: axis %I repeated", name, k);
  o->reduced[d] = 1;
  o->naxes++;
}

/* The options table at 2: axis = k | {k1, ...}, keepdims = bool, ddof = n
 * (var and std only); anything else is an error. */
static void reduce_options(lua_State *L, const nd *a, nd_reduce_op op, const char *name, reduce_opts *o) {
  memset(o, 0, sizeof *o);
  o->all = 1;
  if (lua_isnoneornil(L, 2)) return;
  luaL_checktype(L, 2, LUA_TTABLE);
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
    const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
    int isddof = strcmp(k, "ddof") == 0;
    if (strcmp(k, "axis") != 0 && strcmp(k, "keepdims") != 0 && !isddof)
      luaL_error(L, "%s: unknown option %s (axis, keepdims%s)", name, luaL_tolstring(L, -2, NULL),
                 op == ND_VAR || op == ND_STD ? ", ddof" : "");
    if (isddof && op != ND_VAR && op != ND_STD) luaL_error(L, "%s: ddof is an option of var and std only", name);
  }
  int ty = lua_getfield(L, 2, "axis");
  if (ty == LUA_TTABLE) {
    o->all = 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    for (lua_Integer j = 1; j <= n; j++) {
      lua_rawgeti(L, -1, j);
      axis_entry(L, lua_gettop(L), a, o, name);
      lua_pop(L, 1);
    }
  } else if (ty != LUA_TNIL) {
    o->all = 0;
    axis_entry(L, lua_gettop(L), a, o, name);
  }
  lua_pop(L, 1);
  ty = lua_getfield(L, 2, "keepdims");
  if (ty != LUA_TNIL && ty != LUA_TBOOLEAN) luaL_error(L, "%s: keepdims must be a boolean", name);
  o->keepdims = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (lua_getfield(L, 2, "ddof") != LUA_TNIL) {
    int ok;
    lua_Integer d = lua_tointegerx(L, -1, &ok);
    if (!ok || d < 0 || d > INT32_MAX) luaL_error(L, "%s: ddof must be a non-negative integer", name);
    o->ddof = (int)d;
  }
  lua_pop(L, 1);
}

static int reduce(lua_State *L, nd_reduce_op op, const char *name) {
  nd *a = lnd_check(L, 1);
  reduce_opts o;
  reduce_options(L, a, op, name, &o);
  lua_settop(L, 1);
  if (o.all) {
    for (int d = 0; d < a->ndim; d++) o.reduced[d] = 1;
    o.naxes = a->ndim;
  }
  int arg = op == ND_ARGMIN || op == ND_ARGMAX;
  if (arg && !o.all && o.naxes != 1) return luaL_error(L, "%s: one axis or none", name);
  int64_t offset[ND_MAXDIM] = { 0 };
  nd *part = lnd_push(L);
  nd_status s = nd_reduce_partial(op, a, o.reduced, offset, a->shape, part);
  nd *out = lnd_push(L);
  if (s == ND_OK) s = nd_reduce_finish(op, a->dtype, part, o.ddof, out);
  if (s != ND_OK) return luaL_error(L, "%s: %s", name, nd_reduce_strerror(op, s));
  int64_t shape[ND_MAXDIM];
  int ndim = 0;
  for (int d = 0; d < a->ndim; d++)
    if (o.keepdims || !o.reduced[d]) shape[ndim++] = o.keepdims && o.reduced[d] ? 1 : a->shape[d];
  if (ndim == 0 && !o.keepdims) { /* a Lua scalar */
    lnd_pushelem(L, out->dtype, out->data);
    if (arg) lua_pushinteger(L, lua_tointeger(L, -1) + 1);
    return 1;
  }
  nd *r = lnd_push(L);
  if (nd_reshape(out, ndim, shape, r) != 0) return lnd_nomem(L, out->dtype, ndim, shape);
  if (arg) { /* 1-based positions */
    lua_pushinteger(L, 1);
    return binary(L, ND_ADD, lua_gettop(L) - 1, lua_gettop(L));
  }
  return 1;
}

#define REDUCE(fname, op, name) static int fname(lua_State *L) { return reduce(L, op, name); }
REDUCE(m_sum, ND_SUM, "sum")
REDUCE(m_prod, ND_PROD, "prod")
REDUCE(m_min, ND_MIN, "min")
REDUCE(m_max, ND_MAX, "max")
REDUCE(m_any, ND_ANY, "any")
REDUCE(m_all, ND_ALL, "all")
REDUCE(m_mean, ND_MEAN, "mean")
REDUCE(m_var, ND_VAR, "var")
REDUCE(m_std, ND_STD, "std")
REDUCE(m_argmin, ND_ARGMIN, "argmin")
REDUCE(m_argmax, ND_ARGMAX, "argmax")
#undef REDUCE

const luaL_Reg lndops_methods[] = {
  {"eq", m_eq}, {"ne", m_ne}, {"lt", m_lt}, {"le", m_le}, {"gt", m_gt}, {"ge", m_ge},
  {"sum", m_sum}, {"prod", m_prod}, {"min", m_min}, {"max", m_max},
  {"any", m_any}, {"all", m_all}, {"mean", m_mean}, {"var", m_var}, {"std", m_std},
  {"argmin", m_argmin}, {"argmax", m_argmax}, {"dot", m_dot},
  {NULL, NULL}
};

const luaL_Reg lndops_metamethods[] = {
  {"__add", m_add}, {"__sub", m_sub}, {"__mul", m_mul}, {"__div", m_div},
  {"__idiv", m_idiv}, {"__mod", m_mod}, {"__pow", m_pow}, {"__unm", m_unm},
  {NULL, NULL}
};

const luaL_Reg lndops_functions[] = {
  {"sqrt", f_sqrt}, {"exp", f_exp}, {"log", f_log}, {"abs", f_abs},
  {"sin", f_sin}, {"cos", f_cos}, {"tanh", f_tanh}, {"floor", f_floor}, {"ceil", f_ceil},
  {"where", f_where}, {"maximum", f_maximum}, {"minimum", f_minimum}, {"matmul", m_dot},
  {NULL, NULL}
};
