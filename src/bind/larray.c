/*
 * larray: the C module "dusk.arraycore", what an Array's tasks run and
 * what lua/dusk/array.lua asks of numpy's rules while it builds graphs.
 *
 *   arraycore.binary_types(op, dta, dtb) -> loop dtype, result dtype
 *       (nil, message when undefined); op "add", "sub", ... (ops below)
 *   arraycore.unary_types(op, dt) -> loop dtype, result dtype
 *   arraycore.weak(dt, v) -> the dtype of dt combined with the Lua
 *       number or boolean v (NEP 50), or nil, message when dt cannot
 *       hold the integer v
 *   arraycore.reduce_dtype(op, dt) -> the result dtype of reduction op
 *   arraycore.block(prog, index, ...) -> block 'index' (0-based, C order
 *       over prog.chunks) of a fused program, its input blocks '...'
 *   arraycore.partial(prog, index, op, reduced, ...) -> that block's
 *       partial of reduction op over the axes k with reduced[k]
 *   arraycore.combine(op, p1, p2, ...) -> one partial of all
 *   arraycore.finish(op, partial, ddof, drop, dtype) -> the answer of a
 *       reduction of an array of 'dtype': an ndarray without the reduced
 *       axes when drop (a number when none is left)
 *
 * A program (built by array.lua, sent once per compute):
 *   {ndim =, whole = {...}, chunks = {{...}, ...}, starts = {{...}, ...},
 *    insn = {{kind, op, dtype, a, b, c}, ...},     (registers 1-based)
 *    leaves = {{kind =, dtype =, shape = {...}, perm = {...}, step = {...},
 *               dep =, grid = {...}, map = {{block, start, ...}, ...},
 *               fixed = {block, start, ...}, off = {...}, seed =, p0 =,
 *               p1 =, i0 =, i1 =}, ...}}
 * perm[k]: the leaf axis (1-based) of output axis k, 0 for none; step[a]:
 * the leaf is read every step[a] elements along axis a.  A block leaf's
 * map[k] gives, for each output chunk along axis k, the leaf's block
 * along perm[k] holding its first element and where that is in the
 * block (0-based), as consecutive pairs; 'fixed' the same per leaf axis
 * for the axes no output axis maps to (an index); 'grid' its blocks per
 * axis; 'dep' numbers the layer it reads among the task's dependencies.
 * A source leaf's 'off' is where the output's origin is in it, per leaf
 * axis (its steps are 1).  The inputs of a task are, for each dependency in
 * order, the distinct blocks its leaves read in leaf order (array.lua
 * lists the graph's reads the same way: array.lua's task_reads).
 */
#include "bind/larray.h"

#include <string.h>

#include <lauxlib.h>

#include "array/nd.h"
#include "array/ndops.h"
#include "array/blas.h"
#include "array/ndmatmul.h"
#include "array/ndprog.h"
#include "array/ndreduce.h"
#include "bind/lndarray.h"

static const char *const binops[] = {"add", "sub", "mul", "div", "floordiv", "mod", "pow",
                                     "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum",
                                     NULL};
static const char *const unops[] = {"neg", "abs", "sqrt", "exp", "log", "sin", "cos", "tanh",
                                    "floor", "ceil", NULL};
static const char *const reductions[] = {"sum", "prod", "min", "max", "any", "all", "mean",
                                         "var", "std", "argmin", "argmax", NULL};
static const char *const insn_kinds[] = {"leaf", "cast", "binary", "unary", "where", NULL};
static const char *const leaf_kinds[] = {"block", "random", "normal", "randint", "arange",
                                         "full", NULL};

static void push_dtype(lua_State *L, int dt) { lua_pushstring(L, buf_dtype_name(dt)); }

static int a_binary_types(lua_State *L) {
  int op = luaL_checkoption(L, 1, NULL, binops);
  int a = lnd_checkdtype(L, 2), b = lnd_checkdtype(L, 3), loop, out;
  if (nd_binary_types((nd_binop)op, a, b, &loop, &out) != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s is not defined for %s and %s", binops[op], buf_dtype_name(a),
                    buf_dtype_name(b));
    return 2;
  }
  push_dtype(L, loop);
  push_dtype(L, out);
  return 2;
}

static int a_unary_types(lua_State *L) {
  int op = luaL_checkoption(L, 1, NULL, unops);
  int a = lnd_checkdtype(L, 2), loop, out;
  if (nd_unary_types((nd_unop)op, a, &loop, &out) != 0) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s is not defined for %s", unops[op], buf_dtype_name(a));
    return 2;
  }
  push_dtype(L, loop);
  push_dtype(L, out);
  return 2;
}

static int a_weak(lua_State *L) {
  int dt = lnd_checkdtype(L, 1);
  nd_weak kind = lua_isboolean(L, 2) ? ND_WEAK_BOOL
                 : lua_isinteger(L, 2) ? ND_WEAK_INT
                                       : (luaL_checknumber(L, 2), ND_WEAK_FLOAT);
  if (kind == ND_WEAK_INT && nd_promote_weak(dt, kind) == dt &&
      !nd_holds(dt, (int64_t)lua_tointeger(L, 2))) {
    luaL_pushfail(L);
    lua_pushfstring(L, "the integer %I is out of bounds for %s", lua_tointeger(L, 2),
                    buf_dtype_name(dt));
    return 2;
  }
  push_dtype(L, nd_promote_weak(dt, kind));
  return 1;
}

static int a_reduce_dtype(lua_State *L) {
  int op = luaL_checkoption(L, 1, NULL, reductions);
  push_dtype(L, nd_reduce_result_dtype((nd_reduce_op)op, lnd_checkdtype(L, 2)));
  return 1;
}

/* ------------------------------------------------------------- programs */

/* Entry 'k' of the list at 'idx' as an integer (0 when absent). */
static lua_Integer int_at(lua_State *L, int idx, lua_Integer k) {
  lua_geti(L, idx, k);
  lua_Integer v = lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static int64_t int_field(lua_State *L, int idx, const char *name) {
  lua_getfield(L, idx, name);
  int64_t v = (int64_t)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return v;
}

static double num_field(lua_State *L, int idx, const char *name) {
  lua_getfield(L, idx, name);
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* The list field 'name' of the table at 'idx' into 'out' (at most 'room'
 * entries); returns its length. */
static int ints_field(lua_State *L, int idx, const char *name, int64_t *out, int room) {
  lua_getfield(L, idx, name);
  int n = (int)luaL_len(L, -1);
  if (n > room) luaL_error(L, "array program: %s has %d entries (at most %d)", name, n, room);
  for (int k = 0; k < n; k++) out[k] = (int64_t)int_at(L, -1, k + 1);
  lua_pop(L, 1);
  return n;
}

/* Reads the program at 'idx' for block 'index' into 'p' (arrays in
 * userdata left on the stack), and places its block leaves on the
 * task's inputs, which start at stack index 'first'.  */
static void read_program(lua_State *L, int idx, lua_Integer index, int first, ndp_program *p) {
  memset(p, 0, sizeof *p);
  p->ndim = (int)int_field(L, idx, "ndim");
  if (p->ndim < 0 || p->ndim > ND_MAXDIM) luaL_error(L, "array program: bad ndim");
  ints_field(L, idx, "whole", p->whole, ND_MAXDIM);
  /* this block's position: 'index' in C order over the chunk grid */
  int64_t bidx[ND_MAXDIM];
  lua_getfield(L, idx, "chunks");
  lua_getfield(L, idx, "starts"); /* per axis, each chunk's start, then the length */
  int chunks = lua_gettop(L) - 1;
  for (int k = p->ndim - 1; k >= 0; k--) {
    lua_geti(L, chunks, k + 1);
    lua_Integer nb = luaL_len(L, -1);
    bidx[k] = index % nb;
    index /= nb;
    p->shape[k] = int_at(L, -1, bidx[k] + 1);
    lua_geti(L, chunks + 1, k + 1);
    p->offset[k] = int_at(L, -1, bidx[k] + 1);
    lua_pop(L, 2);
  }
  lua_pop(L, 2);

  lua_getfield(L, idx, "insn");
  int ti = lua_gettop(L);
  p->ninsn = (int)luaL_len(L, ti);
  p->insn = lua_newuserdatauv(L, (size_t)(p->ninsn ? p->ninsn : 1) * sizeof *p->insn, 0);
  lua_insert(L, ti);
  ti++;
  for (int i = 0; i < p->ninsn; i++) {
    ndp_insn *in = &p->insn[i];
    lua_geti(L, ti, i + 1);
    int t = lua_gettop(L);
    lua_geti(L, t, 1);
    in->kind = (ndp_insn_kind)luaL_checkoption(L, -1, NULL, insn_kinds);
    lua_geti(L, t, 2);
    if (in->kind == NDP_BINARY) in->op = luaL_checkoption(L, -1, NULL, binops);
    else if (in->kind == NDP_UNARY) in->op = luaL_checkoption(L, -1, NULL, unops);
    else in->op = (int)lua_tointeger(L, -1) - 1;
    lua_geti(L, t, 3);
    in->dtype = lnd_checkdtype(L, -1);
    in->a = (int)int_at(L, t, 4) - 1;
    in->b = (int)int_at(L, t, 5) - 1;
    in->c = (int)int_at(L, t, 6) - 1;
    lua_settop(L, t - 1);
    int nops = in->kind == NDP_LEAF ? 0 : in->kind == NDP_BINARY ? 2 : in->kind == NDP_WHERE ? 3 : 1;
    int ops[3] = {in->a, in->b, in->c};
    for (int j = 0; j < nops; j++)
      if (ops[j] < 0 || ops[j] >= i) luaL_error(L, "array program: bad register");
  }
  lua_pop(L, 1);

  lua_getfield(L, idx, "leaves");
  int tl = lua_gettop(L);
  p->nleaves = (int)luaL_len(L, tl);
  p->leaves = lua_newuserdatauv(L, (size_t)(p->nleaves ? p->nleaves : 1) * sizeof *p->leaves, 0);
  lua_insert(L, tl);
  tl++;
  /* the inputs each dependency's leaves take, in order: (dep, block) */
  int64_t seen_dep[64], seen_block[64];
  int nseen = 0;
  int ndeps = 0;
  for (int i = 0; i < p->nleaves; i++) {
    lua_geti(L, tl, i + 1);
    int dep = (int)int_field(L, -1, "dep");
    if (dep > ndeps) ndeps = dep;
    lua_pop(L, 1);
  }
  for (int pass = 1; pass <= ndeps + 1; pass++) {
    for (int i = 0; i < p->nleaves; i++) {
      ndp_leaf *lf = &p->leaves[i];
      lua_geti(L, tl, i + 1);
      int t = lua_gettop(L);
      int dep = (int)int_field(L, t, "dep");
      if ((pass <= ndeps && dep != pass) || (pass > ndeps && dep != 0)) {
        lua_pop(L, 1);
        continue;
      }
      memset(lf, 0, sizeof *lf);
      lua_getfield(L, t, "kind");
      lf->kind = (ndp_leaf_kind)luaL_checkoption(L, -1, NULL, leaf_kinds);
      lua_getfield(L, t, "dtype");
      lf->dtype = lnd_checkdtype(L, -1);
      lua_pop(L, 2);
      lf->ndim = ints_field(L, t, "shape", lf->shape, ND_MAXDIM);
      int64_t perm[ND_MAXDIM];
      if (ints_field(L, t, "perm", perm, ND_MAXDIM) != p->ndim)
        luaL_error(L, "array program: a leaf's perm has the wrong length");
      for (int k = 0; k < p->ndim; k++) {
        lf->perm[k] = (int)perm[k] - 1;
        if (lf->perm[k] >= lf->ndim) luaL_error(L, "array program: bad perm");
      }
      lf->seed = (uint64_t)int_field(L, t, "seed");
      lf->p0 = num_field(L, t, "p0");
      lf->p1 = num_field(L, t, "p1");
      lf->i0 = int_field(L, t, "i0");
      lf->i1 = int_field(L, t, "i1");
      /* where the output block's first element is in the leaf (and, for
       * a block leaf, which of its blocks holds it) */
      int64_t lblock[ND_MAXDIM] = {0}, pairs[2 * ND_MAXDIM];
      for (int a = 0; a < lf->ndim; a++) lf->step[a] = 1;
      ints_field(L, t, "step", lf->step, ND_MAXDIM);
      if (lf->kind == NDP_BLOCK) {
        if (ints_field(L, t, "fixed", pairs, 2 * ND_MAXDIM) != 2 * lf->ndim)
          luaL_error(L, "array program: a block leaf without its fixed positions");
        for (int a = 0; a < lf->ndim; a++) lblock[a] = pairs[2 * a], lf->start[a] = pairs[2 * a + 1];
      } else {
        if (ints_field(L, t, "off", lf->start, ND_MAXDIM) != lf->ndim)
          luaL_error(L, "array program: a source leaf without its offsets");
      }
      lua_getfield(L, t, "map");
      int tm = lua_gettop(L);
      for (int k = 0; k < p->ndim; k++) {
        int a = lf->perm[k];
        if (a < 0) continue;
        if (lf->kind == NDP_BLOCK) {
          lua_geti(L, tm, k + 1);
          lblock[a] = (int64_t)int_at(L, -1, 2 * bidx[k] + 1);
          lf->start[a] = (int64_t)int_at(L, -1, 2 * bidx[k] + 2);
          lua_pop(L, 1);
        } else if (lf->step[a] != 0) {
          lf->start[a] += p->offset[k];
        }
      }
      lua_pop(L, 1);
      if (lf->kind == NDP_BLOCK) {
        /* the leaf's block number, C order over its grid */
        int64_t grid[ND_MAXDIM];
        if (ints_field(L, t, "grid", grid, ND_MAXDIM) != lf->ndim)
          luaL_error(L, "array program: a block leaf without its grid");
        int64_t flat = 0;
        for (int a = 0; a < lf->ndim; a++) flat = flat * grid[a] + lblock[a];
        int slot = -1;
        for (int s = 0; s < nseen; s++)
          if (seen_dep[s] == dep && seen_block[s] == flat) slot = s;
        if (slot < 0) {
          if (nseen == 64) luaL_error(L, "array program: too many inputs");
          slot = nseen++;
          seen_dep[slot] = dep;
          seen_block[slot] = flat;
        }
        const nd *in = lnd_check(L, first + slot);
        lf->block = *in;
        lf->block.b = NULL; /* borrowed: the input stays on the stack */
        if (in->dtype != lf->dtype || in->ndim != lf->ndim)
          luaL_error(L, "array program: input %d is a %s of %d axes, not a %s of %d", slot + 1,
                     buf_dtype_name(in->dtype), in->ndim, buf_dtype_name(lf->dtype), lf->ndim);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* Raises the status as the task's error. */
static int status_error(lua_State *L, nd_status s) {
  lua_pushstring(L, nd_strerror(s)); /* no position: the task names itself */
  return lua_error(L);
}

static int a_block(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer index = luaL_checkinteger(L, 2);
  ndp_program p;
  read_program(L, 1, index, 3, &p);
  nd *out = lnd_push(L);
  nd_status s = ndp_run(&p, out);
  if (s != ND_OK) return status_error(L, s);
  return 1;
}

/* Reads the list of booleans at 'idx' into 'reduced' for 'ndim' axes. */
static void read_reduced(lua_State *L, int idx, int ndim, uint8_t *reduced) {
  luaL_checktype(L, idx, LUA_TTABLE);
  for (int k = 0; k < ndim; k++) {
    lua_geti(L, idx, k + 1);
    reduced[k] = (uint8_t)lua_toboolean(L, -1);
    lua_pop(L, 1);
  }
}

static int a_partial(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer index = luaL_checkinteger(L, 2);
  int op = luaL_checkoption(L, 3, NULL, reductions);
  ndp_program p;
  read_program(L, 1, index, 5, &p);
  uint8_t reduced[ND_MAXDIM] = {0};
  read_reduced(L, 4, p.ndim, reduced);
  nd *out = lnd_push(L);
  nd_status s = ndp_reduce(&p, (nd_reduce_op)op, reduced, out);
  if (s != ND_OK) {
    lua_pushstring(L, nd_reduce_strerror((nd_reduce_op)op, s));
    return lua_error(L);
  }
  return 1;
}

static int a_combine(lua_State *L) {
  int op = luaL_checkoption(L, 1, NULL, reductions);
  int n = lua_gettop(L);
  const nd *first = lnd_check(L, 2);
  /* the first partial may be shared: combine into a copy of it */
  nd *acc = lnd_push(L);
  lnd_alloc(L, acc, first->dtype, first->ndim, first->shape);
  nd_status s = nd_cast(first, acc);
  for (int i = 3; i <= n && s == ND_OK; i++) s = nd_reduce_combine((nd_reduce_op)op, acc, lnd_check(L, i));
  if (s != ND_OK) return status_error(L, s);
  return 1;
}

static int a_finish(lua_State *L) {
  int op = luaL_checkoption(L, 1, NULL, reductions);
  const nd *part = lnd_check(L, 2);
  int ddof = (int)luaL_optinteger(L, 3, 0);
  int drop_axes = lua_istable(L, 4);
  uint8_t drop[ND_MAXDIM] = {0};
  if (drop_axes) read_reduced(L, 4, part->ndim - 1, drop);
  int dtype = lnd_checkdtype(L, 5); /* the reduced array's */
  nd *out = lnd_push(L);
  nd_status s = nd_reduce_finish((nd_reduce_op)op, dtype, part, ddof, out);
  if (s != ND_OK) {
    lua_pushstring(L, nd_reduce_strerror((nd_reduce_op)op, s));
    return lua_error(L);
  }
  if (drop_axes) { /* a view without the reduced axes */
    int m = 0;
    for (int k = 0; k < out->ndim; k++) {
      if (drop[k]) continue;
      out->shape[m] = out->shape[k];
      out->strides[m] = out->strides[k];
      m++;
    }
    out->ndim = m;
  }
  return 1;
}

/* The shape of block 'index' (C order) of the chunks at 'idx', and its
 * index per axis in 'bidx' (0-based; unless NULL).  Returns the number
 * of axes. */
static int block_shape(lua_State *L, int idx, lua_Integer index, int64_t *shape, int64_t *bidx) {
  int ndim = (int)luaL_len(L, idx);
  if (ndim > ND_MAXDIM) luaL_error(L, "array: too many axes");
  for (int k = ndim - 1; k >= 0; k--) {
    lua_geti(L, idx, k + 1);
    lua_Integer nb = luaL_len(L, -1);
    if (bidx) bidx[k] = index % nb;
    shape[k] = int_at(L, -1, index % nb + 1);
    index /= nb;
    lua_pop(L, 1);
  }
  return ndim;
}

/* An assembled block: geom = {dtype =, chunks = {{...}, ...}, grids =
 * {{...}, ...} (each dependency's blocks per axis), pieces = {{{dep,
 * block, from, count, to, ...}, ...}, ...}}: for output axis k and each
 * of its chunks, the pieces it is made of along k, 5 numbers each (the
 * dependency, its block along k, where the piece starts in that block,
 * its length, where it goes in the output chunk; 0-based).  A region of
 * the output block is a piece per axis; its dependency is the largest of
 * the pieces' (only a concatenation's axis names one other than 1).  The
 * inputs: for each dependency in order, the distinct blocks read, in C
 * order of the regions (array.lua's assemble_reads lists them so). */
typedef struct region {
  int dep;
  int64_t block[ND_MAXDIM], from[ND_MAXDIM], count[ND_MAXDIM], to[ND_MAXDIM];
} region;

static int a_assemble(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer index = luaL_checkinteger(L, 2);
  int first = 3, ninputs = lua_gettop(L) - 2;
  lua_getfield(L, 1, "dtype");
  int dtype = lnd_checkdtype(L, -1);
  lua_pop(L, 1);
  lua_getfield(L, 1, "chunks");
  int64_t bidx[ND_MAXDIM], shape[ND_MAXDIM];
  int ndim = block_shape(L, lua_gettop(L), index, shape, bidx);
  if (ndim < 1) return luaL_error(L, "array assemble: bad ndim");
  lua_pop(L, 1);
  /* the pieces of this block along each axis */
  lua_getfield(L, 1, "pieces");
  int tp = lua_gettop(L);
  int npieces[ND_MAXDIM];
  int64_t nregions = 1;
  for (int k = 0; k < ndim; k++) {
    lua_geti(L, tp, k + 1);
    lua_geti(L, -1, bidx[k] + 1);
    lua_replace(L, -2);
    npieces[k] = (int)(luaL_len(L, -1) / 5);
    nregions *= npieces[k];
  }
  /* the axes' piece lists are at tp+1 .. tp+ndim */
  lua_getfield(L, 1, "grids");
  int tg = lua_gettop(L);
  nd *out = lnd_push(L);
  lnd_alloc(L, out, dtype, ndim, shape);
  int at[ND_MAXDIM] = {0};
  int ndeps = (int)luaL_len(L, tg);
  /* regions in C order, grouped by dependency for their input slots */
  int64_t *slot_dep = lua_newuserdatauv(L, (size_t)(2 * (ninputs ? ninputs : 1)) * sizeof *slot_dep, 0);
  int64_t *slot_block = slot_dep + (ninputs ? ninputs : 1);
  int nslots = 0;
  for (int dep = 1; dep <= ndeps; dep++) {
    for (int64_t r = 0; r < nregions; r++) {
      int64_t rem = r;
      for (int k = ndim - 1; k >= 0; k--) at[k] = (int)(rem % npieces[k]), rem /= npieces[k];
      region g;
      g.dep = 1;
      for (int k = 0; k < ndim; k++) {
        int t = tp + 1 + k;
        int d = (int)int_at(L, t, 5 * at[k] + 1);
        if (d > g.dep) g.dep = d;
        g.block[k] = int_at(L, t, 5 * at[k] + 2);
        g.from[k] = int_at(L, t, 5 * at[k] + 3);
        g.count[k] = int_at(L, t, 5 * at[k] + 4);
        g.to[k] = int_at(L, t, 5 * at[k] + 5);
      }
      if (g.dep != dep) continue;
      lua_geti(L, tg, dep);
      int64_t flat = 0;
      for (int k = 0; k < ndim; k++) flat = flat * int_at(L, -1, k + 1) + g.block[k];
      lua_pop(L, 1);
      int slot = -1;
      for (int q = 0; q < nslots; q++)
        if (slot_dep[q] == dep && slot_block[q] == flat) slot = q;
      if (slot < 0) {
        if (nslots == ninputs) return luaL_error(L, "array assemble: more blocks read than given");
        slot = nslots++;
        slot_dep[slot] = dep;
        slot_block[slot] = flat;
      }
      nd src = *lnd_check(L, first + slot), dst = *out;
      src.b = dst.b = NULL; /* borrowed views */
      if (src.ndim != ndim) return luaL_error(L, "array assemble: input %d has %d axes", slot + 1, src.ndim);
      for (int k = 0; k < ndim; k++) {
        if (g.from[k] < 0 || g.count[k] < 0 || g.from[k] + g.count[k] > src.shape[k] ||
            g.to[k] < 0 || g.to[k] + g.count[k] > shape[k])
          return luaL_error(L, "array assemble: a piece out of its block");
        nd_slice(&src, k, g.from[k], g.count[k], 1);
        nd_slice(&dst, k, g.to[k], g.count[k], 1);
      }
      nd_status s = nd_cast(&src, &dst);
      if (s != ND_OK) return status_error(L, s);
    }
  }
  lua_pop(L, 1); /* the slots */
  return 1;
}

static int a_blas(lua_State *L) {
  blas_load();
  lua_pushstring(L, blas_kernel());
  return 1;
}

static int a_promote(lua_State *L) {
  push_dtype(L, nd_promote(lnd_checkdtype(L, 1), lnd_checkdtype(L, 2)));
  return 1;
}

/* Where the block of flat number 'f' (1-based) is among a task's inputs
 * when both operands come from one layer: the distinct blocks of both,
 * the first operand's first (array.lua's dot lists them so). */
static int same_slot(const int64_t *list, int n, int64_t f) {
  for (int q = 0; q < n; q++)
    if (list[q] == f) return q;
  return -1;
}

static int a_matmul(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer index = luaL_checkinteger(L, 2);
  int nk = (int)int_field(L, 1, "nk");
  int ta = (int)int_field(L, 1, "ta"), tb = (int)int_field(L, 1, "tb");
  int ninputs = lua_gettop(L) - 2;
  lua_getfield(L, 1, "same");
  int same = lua_toboolean(L, -1);
  lua_pop(L, 1);
  luaL_argcheck(L, nk >= 1 && nk <= 4096 && (same || ninputs == 2 * nk), 3,
                "the blocks of both operands");
  int64_t *slots = lua_newuserdatauv(L, (size_t)(4 * nk) * sizeof *slots, 0);
  int64_t *list = slots + 2 * nk;
  if (same) { /* which input is a_k and b_k: flat numbers of both, deduplicated */
    int64_t ga[2], gb[2];
    ints_field(L, 1, "ga", ga, 2);
    ints_field(L, 1, "gb", gb, 2);
    lua_getfield(L, 1, "chunks");
    lua_geti(L, -1, 2);
    int64_t nj = (int64_t)luaL_len(L, -1);
    lua_pop(L, 2);
    int64_t i = index / nj, j = index % nj;
    int n = 0;
    for (int k = 0; k < 2 * nk; k++) {
      int kk = k % nk;
      int64_t f = k < nk ? (ta ? kk * ga[1] + i : i * ga[1] + kk) + 1
                         : (tb ? j * gb[1] + kk : kk * gb[1] + j) + 1;
      int q = same_slot(list, n, f);
      if (q < 0) list[q = n++] = f;
      slots[k] = q;
    }
    luaL_argcheck(L, n == ninputs, 3, "the blocks of both operands");
  } else {
    for (int k = 0; k < 2 * nk; k++) slots[k] = k;
  }
  nd *out = lnd_push(L);
  static const int swap[2] = {1, 0};
  for (int k = 0; k < nk; k++) {
    nd a = *lnd_check(L, 3 + (int)slots[k]), b = *lnd_check(L, 3 + (int)slots[nk + k]);
    a.b = b.b = NULL; /* borrowed views */
    if (ta && a.ndim == 2) nd_transpose(&a, swap);
    if (tb && b.ndim == 2) nd_transpose(&b, swap);
    nd_status s = nd_matmul(&a, &b, out, k > 0);
    if (s == ND_ESHAPE) {
      char msg[160];
      return luaL_error(L, "dot: %s", nd_matmul_message(&a, &b, msg, sizeof msg));
    }
    if (s != ND_OK) return status_error(L, s);
  }
  return 1;
}

static int a_reshape(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer index = luaL_checkinteger(L, 2);
  const nd *in = lnd_check(L, 3);
  lua_getfield(L, 1, "chunks");
  int64_t shape[ND_MAXDIM];
  int ndim = block_shape(L, lua_gettop(L), index, shape, NULL);
  int64_t n = 1;
  for (int k = 0; k < ndim; k++) n *= shape[k];
  if (n != nd_size(in)) return luaL_error(L, "array reshape: a block of the wrong size");
  nd *out = lnd_push(L);
  if (nd_reshape(in, ndim, shape, out) != 0) return status_error(L, ND_ENOMEM);
  return 1;
}

static const luaL_Reg functions[] = {
  {"binary_types", a_binary_types},
  {"unary_types", a_unary_types},
  {"weak", a_weak},
  {"reduce_dtype", a_reduce_dtype},
  {"block", a_block},
  {"partial", a_partial},
  {"combine", a_combine},
  {"finish", a_finish},
  {"assemble", a_assemble},
  {"promote", a_promote},
  {"blas", a_blas},
  {"matmul", a_matmul},
  {"reshape", a_reshape},
  {NULL, NULL}
};

int luaopen_dusk_arraycore(lua_State *L) {
  /* the blocks made here are ndarrays: their class first */
  luaL_requiref(L, "dusk.ndarray", luaopen_dusk_ndarray, 0);
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  return 1;
}
