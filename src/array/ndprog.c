/*
 * ndprog: a fused elementwise program run over one block in tiles.
 *
 * DESIGN.  The block is cut into slabs: along the first axis 'd' whose
 * trailing axes hold at most TILE elements, 'rows' of it at a time, for
 * every index of the axes before it.  Each instruction of the program
 * writes the tile into a scratch buffer of its own (TILE elements), so
 * the whole working set of an expression is a few tens of kilobytes.
 * Leaves are views: an input block's region is read where it lies
 * (strides, broadcasting and transposes included), a source (random
 * numbers, a range, a constant) is generated into scratch for the tile's
 * positions only.  The last instruction writes straight into the output
 * block, or its tile is reduced into the block's partial at once.
 */
#include "array/ndprog.h"

#include <string.h>

#include "array/ndrandom.h"
#include "base/alloc.h"

/* Elements per tile: 64 KiB of float64, so that the scratch buffers of an
 * expression of a handful of operations stay in L2. */
#define TILE 8192

/* A view of 'n' axes over memory this program owns (no buffer reference). */
static void view_contiguous(nd *v, char *data, int dtype, int ndim, const int64_t *shape) {
  memset(v, 0, sizeof *v);
  v->data = data;
  v->dtype = dtype;
  v->ndim = ndim;
  int64_t stride = (int64_t)buf_dtype_size(dtype);
  for (int k = ndim - 1; k >= 0; k--) {
    v->shape[k] = shape[k];
    v->strides[k] = stride;
    stride *= shape[k];
  }
}

/* A tile: where it starts in the block and its shape, per output axis. */
typedef struct tile {
  int64_t at[ND_MAXDIM], shape[ND_MAXDIM];
} tile;

/* The leaf region a tile reads, per leaf axis: where its first element
 * is in the block (or the leaf array) and its length; broadcast axes and
 * indexed ones read one. */
static void leaf_region(const ndp_program *p, const ndp_leaf *lf, const tile *t,
                        int64_t *start, int64_t *len) {
  for (int a = 0; a < lf->ndim; a++) {
    start[a] = lf->start[a];
    len[a] = 1;
  }
  for (int k = 0; k < p->ndim; k++) {
    int a = lf->perm[k];
    if (a < 0) continue;
    start[a] = lf->start[a] + lf->step[a] * t->at[k];
    len[a] = lf->step[a] != 0 ? t->shape[k] : 1; /* step 0: broadcast */
  }
}

/* 'src' (in leaf axes, its region's first element at 'start', read
 * every 'step') seen in the tile's output axes: permuted, and broadcast
 * where the leaf has no axis or an axis of length 1. */
static void place(const ndp_program *p, const ndp_leaf *lf, const nd *src, const int64_t *start,
                  const int64_t *step, const tile *t, nd *v) {
  memset(v, 0, sizeof *v);
  v->dtype = src->dtype;
  v->ndim = p->ndim;
  v->data = src->data;
  for (int a = 0; a < lf->ndim; a++) v->data += start[a] * src->strides[a];
  for (int k = 0; k < p->ndim; k++) {
    int a = lf->perm[k];
    v->shape[k] = t->shape[k];
    v->strides[k] = a < 0 ? 0 : src->strides[a] * step[a];
  }
}

/* Generates a source leaf's region into 'scratch' (TILE elements). */
static nd_status generate(const ndp_leaf *lf, const int64_t *start, const int64_t *len,
                          char *scratch, nd *v) {
  view_contiguous(v, scratch, lf->dtype, lf->ndim, len);
  switch (lf->kind) {
  case NDP_RANDOM: return ndrandom_random(lf->seed, lf->ndim, lf->shape, start, v);
  case NDP_NORMAL: return ndrandom_normal(lf->seed, lf->p0, lf->p1, lf->ndim, lf->shape, start, v);
  case NDP_RANDINT:
    return ndrandom_randint(lf->seed, lf->i0, lf->i1, lf->ndim, lf->shape, start, v);
  case NDP_ARANGE: { /* 1-d: element i is start + i * step, as numpy's */
    int64_t n = len[0], first = start[0];
    if (lf->dtype == BUF_FLOAT64 || lf->dtype == BUF_FLOAT32) {
      nd f;
      double *d = base_malloc((size_t)(n ? n : 1) * sizeof *d);
      if (d == NULL) return ND_ENOMEM;
      for (int64_t i = 0; i < n; i++) d[i] = lf->p0 + (double)(first + i) * lf->p1;
      view_contiguous(&f, (char *)d, BUF_FLOAT64, 1, len);
      nd_status s = nd_cast(&f, v);
      base_free(d);
      return s;
    }
    nd f;
    int64_t *d = base_malloc((size_t)(n ? n : 1) * sizeof *d);
    if (d == NULL) return ND_ENOMEM;
    for (int64_t i = 0; i < n; i++)
      d[i] = (int64_t)((uint64_t)lf->i0 + (uint64_t)(first + i) * (uint64_t)lf->i1);
    view_contiguous(&f, (char *)d, BUF_INT64, 1, len);
    nd_status s = nd_cast(&f, v);
    base_free(d);
    return s;
  }
  case NDP_FULL: {
    /* the constant as an element of the leaf's dtype */
    union { double d; float f; int64_t i; int32_t i32; int16_t i16; int8_t i8; uint8_t u8; } e;
    memset(&e, 0, sizeof e);
    nd one, src;
    int64_t n1 = 1;
    if (lf->dtype == BUF_FLOAT64 || lf->dtype == BUF_FLOAT32) {
      double x = lf->p0;
      view_contiguous(&src, (char *)&x, BUF_FLOAT64, 1, &n1);
      view_contiguous(&one, (char *)&e, lf->dtype, 1, &n1);
      nd_cast(&src, &one);
    } else {
      int64_t x = lf->i0;
      view_contiguous(&src, (char *)&x, BUF_INT64, 1, &n1);
      view_contiguous(&one, (char *)&e, lf->dtype, 1, &n1);
      nd_cast(&src, &one);
    }
    nd_fill(v, &e);
    return ND_OK;
  }
  case NDP_BLOCK: break;
  }
  return ND_EDTYPE;
}

typedef struct run {
  const ndp_program *p;
  nd *regs;       /* by instruction: its tile's view */
  char **scratch; /* by instruction (and leaf sources): TILE elements */
  char **turned;  /* by leaf instruction read transposed: its tile in rows */
} run;

/* Whether a leaf reads the output's last axis along another of its own
 * (a transpose): slabs of whole rows would then read (or generate) it a
 * few elements per row, so tiles are squares of the last two axes. */
static int leaf_turned(const ndp_program *p, const ndp_leaf *lf) {
  int n = p->ndim, a = n >= 2 ? lf->perm[n - 1] : -1;
  return a >= 0 && a != lf->ndim - 1 && lf->step[a] != 0;
}

static int64_t tile_size(const ndp_program *p, const tile *t) {
  int64_t n = 1;
  for (int k = 0; k < p->ndim; k++) n *= t->shape[k];
  return n;
}

/* Evaluates the program for tile 't'; the last instruction writes into
 * 'dest' when given (a region of the output block), else into scratch.
 * '*result' is then the view holding the tile's answer. */
static nd_status eval_tile(run *r, const tile *t, const nd *dest, nd *result) {
  const ndp_program *p = r->p;
  for (int i = 0; i < p->ninsn; i++) {
    const ndp_insn *in = &p->insn[i];
    nd *out = &r->regs[i];
    int last = i == p->ninsn - 1;
    if (in->kind == NDP_LEAF) {
      const ndp_leaf *lf = &p->leaves[in->op];
      int64_t start[ND_MAXDIM], len[ND_MAXDIM];
      leaf_region(p, lf, t, start, len);
      if (lf->kind == NDP_BLOCK) {
        place(p, lf, &lf->block, start, lf->step, t, out);
      } else {
        int64_t zero[ND_MAXDIM] = {0}, one[ND_MAXDIM];
        for (int a = 0; a < lf->ndim; a++) one[a] = lf->step[a] != 0; /* generated with step 1 */
        nd gen;
        nd_status s = generate(lf, start, len, r->scratch[i], &gen);
        if (s != ND_OK) return s;
        place(p, lf, &gen, zero, one, t, out);
      }
      if (r->turned[i] && tile_size(p, t) <= TILE) {
        /* into rows once, so that every operation on it runs contiguous */
        nd rows;
        view_contiguous(&rows, r->turned[i], out->dtype, p->ndim, t->shape);
        nd_status s = nd_cast(out, &rows);
        if (s != ND_OK) return s;
        *out = rows;
      }
      if (last && dest) {
        nd_status s = nd_cast(out, (nd *)dest);
        if (s != ND_OK) return s;
        *out = *dest;
      }
      continue;
    }
    if (last && dest) *out = *dest;
    else view_contiguous(out, r->scratch[i], in->dtype, p->ndim, t->shape);
    nd_status s;
    switch (in->kind) {
    case NDP_CAST: s = nd_cast(&r->regs[in->a], out); break;
    case NDP_BINARY: s = nd_binary((nd_binop)in->op, &r->regs[in->a], &r->regs[in->b], out); break;
    case NDP_UNARY: s = nd_unary((nd_unop)in->op, &r->regs[in->a], out); break;
    case NDP_WHERE: s = nd_where(&r->regs[in->a], &r->regs[in->b], &r->regs[in->c], out); break;
    default: s = ND_EDTYPE;
    }
    if (s != ND_OK) return s;
  }
  *result = r->regs[p->ninsn - 1];
  return ND_OK;
}

static void run_free(run *r) {
  for (int i = 0; i < r->p->ninsn; i++) {
    if (r->scratch) base_free(r->scratch[i]);
    if (r->turned) base_free(r->turned[i]);
  }
  base_free(r->scratch);
  base_free(r->turned);
  base_free(r->regs);
}

/* Scratch for every instruction that needs it: all but block leaves
 * (and the last, when it writes into the output: allocated anyway, the
 * tile being small). */
static nd_status run_init(run *r, const ndp_program *p) {
  r->p = p;
  r->regs = base_calloc((size_t)p->ninsn, sizeof *r->regs);
  r->scratch = base_calloc((size_t)p->ninsn, sizeof *r->scratch);
  r->turned = base_calloc((size_t)p->ninsn, sizeof *r->turned);
  if (r->regs == NULL || r->scratch == NULL || r->turned == NULL) return ND_ENOMEM;
  for (int i = 0; i < p->ninsn; i++) {
    const ndp_insn *in = &p->insn[i];
    if (in->kind == NDP_LEAF && leaf_turned(p, &p->leaves[in->op])) {
      r->turned[i] = base_malloc(TILE * 8);
      if (r->turned[i] == NULL) return ND_ENOMEM;
    }
    if (in->kind == NDP_LEAF && p->leaves[in->op].kind == NDP_BLOCK) continue;
    r->scratch[i] = base_malloc(TILE * 8);
    if (r->scratch[i] == NULL) return ND_ENOMEM;
  }
  return ND_OK;
}

/* Calls 'each' for every tile of the block, in C order. */
typedef nd_status (*tile_fn)(void *ud, const tile *t);

/* Whether any leaf is read transposed. */
static int transposed(const ndp_program *p) {
  for (int i = 0; i < p->nleaves; i++)
    if (leaf_turned(p, &p->leaves[i])) return 1;
  return 0;
}

/* Tiles of at most 'limit' elements: squares of the last two axes for a
 * transposed program, else slabs -- along the first axis 'd' whose
 * trailing axes hold at most 'limit' elements, 'rows' of it at a time,
 * the axes after it whole, the axes before one index at a time. */
static nd_status for_tiles(const ndp_program *p, int64_t limit, tile_fn each, void *ud) {
  int n = p->ndim;
  for (int k = 0; k < n; k++)
    if (p->shape[k] == 0) return ND_OK;
  tile t = {{0}, {0}};
  if (n == 0) return each(ud, &t);
  int d = n - 1, square = limit < INT64_MAX && transposed(p);
  int64_t inner = 1, rows, cols = p->shape[n - 1];
  if (square) {
    d = n - 2;
    rows = 1;
    while (rows * rows * 4 <= limit) rows *= 2; /* 64 x 64 for 8192 */
    cols = rows;
  } else {
    while (d > 0 && inner * p->shape[d] <= limit) inner *= p->shape[d--];
    if (inner * p->shape[d] <= limit) inner *= p->shape[d], d = -1;
    rows = d >= 0 ? (limit / inner > 0 ? limit / inner : 1) : 0;
  }
  for (int k = 0; k < n; k++) {
    t.at[k] = 0;
    t.shape[k] = k > d ? p->shape[k] : 1;
  }
  if (d < 0) return each(ud, &t);
  for (;;) {
    for (int64_t r0 = 0; r0 < p->shape[d]; r0 += rows) {
      t.at[d] = r0;
      t.shape[d] = p->shape[d] - r0 < rows ? p->shape[d] - r0 : rows;
      for (int64_t c0 = 0; c0 < p->shape[n - 1]; c0 += cols) {
        if (square) {
          t.at[n - 1] = c0;
          t.shape[n - 1] = p->shape[n - 1] - c0 < cols ? p->shape[n - 1] - c0 : cols;
        }
        nd_status s = each(ud, &t);
        if (s != ND_OK) return s;
        if (!square) break;
      }
    }
    t.at[d] = 0;
    int k = d - 1;
    while (k >= 0 && ++t.at[k] == p->shape[k]) t.at[k--] = 0;
    if (k < 0) return ND_OK;
  }
}

/* One program's last instruction reads a whole input block as it is:
 * reduce it in one go rather than in tiles. */
static int64_t tile_limit(const ndp_program *p) {
  const ndp_insn *last = &p->insn[p->ninsn - 1];
  if (p->ninsn == 1 && last->kind == NDP_LEAF && p->leaves[last->op].kind == NDP_BLOCK)
    return INT64_MAX;
  return TILE;
}

/* ------------------------------------------------------------ making */

typedef struct make_state {
  run r;
  nd *out;
} make_state;

static nd_status make_tile(void *ud, const tile *t) {
  make_state *m = ud;
  nd dest = *m->out, result;
  for (int k = 0; k < dest.ndim; k++) nd_slice(&dest, k, t->at[k], t->shape[k], 1);
  dest.b = NULL; /* a borrowed view */
  return eval_tile(&m->r, t, &dest, &result);
}

nd_status ndp_run(const ndp_program *p, nd *out) {
  if (p->ninsn < 1) return ND_EDTYPE;
  if (nd_alloc(out, p->insn[p->ninsn - 1].dtype, p->ndim, p->shape) != 0) return ND_ENOMEM;
  make_state m = {.out = out};
  nd_status s = run_init(&m.r, p);
  if (s == ND_OK) s = for_tiles(p, TILE, make_tile, &m);
  run_free(&m.r);
  if (s != ND_OK) nd_free(out);
  return s;
}

/* ---------------------------------------------------------- reducing */

typedef struct reduce_state {
  run r;
  nd_reduce_op op;
  const uint8_t *reduced;
  nd *acc; /* the block's partial */
} reduce_state;

static nd_status reduce_tile(void *ud, const tile *t) {
  reduce_state *rs = ud;
  const ndp_program *p = rs->r.p;
  nd result, part;
  nd_status s = eval_tile(&rs->r, t, NULL, &result);
  if (s != ND_OK) return s;
  int64_t at[ND_MAXDIM];
  for (int k = 0; k < p->ndim; k++) at[k] = p->offset[k] + t->at[k];
  s = nd_reduce_partial(rs->op, &result, rs->reduced, at, p->whole, &part);
  if (s != ND_OK) return s;
  nd acc = *rs->acc;
  acc.b = NULL;
  for (int k = 0; k < p->ndim; k++)
    if (!rs->reduced[k]) nd_slice(&acc, k + 1, t->at[k], t->shape[k], 1);
  s = nd_reduce_combine(rs->op, &acc, &part);
  nd_free(&part);
  return s;
}

nd_status ndp_reduce(const ndp_program *p, nd_reduce_op op, const uint8_t *reduced, nd *partial) {
  int first = -1;
  for (int k = 0; k < p->ndim && first < 0; k++)
    if (reduced[k]) first = k;
  if (p->ninsn < 1 || first < 0) return ND_EDTYPE;
  /* the identity: the partial of an empty view of the block's shape */
  nd empty;
  char none[8] = {0};
  view_contiguous(&empty, none, p->insn[p->ninsn - 1].dtype, p->ndim, p->shape);
  empty.shape[first] = 0;
  nd_status s = nd_reduce_partial(op, &empty, reduced, p->offset, p->whole, partial);
  if (s != ND_OK) return s;
  reduce_state rs = {.op = op, .reduced = reduced, .acc = partial};
  s = run_init(&rs.r, p);
  if (s == ND_OK) s = for_tiles(p, tile_limit(p), reduce_tile, &rs);
  run_free(&rs.r);
  if (s != ND_OK) nd_free(partial);
  return s;
}
