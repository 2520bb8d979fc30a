/*
 * fgroup: hash aggregation (fgroup.h).
 *
 * Groups are numbered in order of first appearance; an open-addressing
 * table of their numbers, keyed by a hash of the key values, finds them.
 * Keys are kept in builders (the columns of the partial to be), states
 * in one array of 8-byte slots per state column, indexed by group.
 */
#include "frame/fgroup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static const char *const op_names[FG_NOPS] = {"count", "size", "sum", "mean", "var", "std",
                                              "min", "max", "first", "last", "nulls"};

int fg_op_of(const char *name) {
  for (int k = 0; k < FG_NOPS; k++)
    if (strcmp(op_names[k], name) == 0) return k;
  return -1;
}

const char *fg_op_name(int op) { return op >= 0 && op < FG_NOPS ? op_names[op] : "?"; }

int fg_op_takes(int op, int type) {
  switch (op) {
  case FG_COUNT: case FG_SIZE: case FG_NULLS: return 0;
  case FG_SUM: case FG_MEAN: case FG_VAR: case FG_STD:
    return type == FR_INT64 || type == FR_FLOAT64 || type == FR_BOOL ? 0 : -1;
  default: return type == FR_STRING ? -1 : 0; /* min, max, first, last */
  }
}

int fg_result_type(int op, int type) {
  switch (op) {
  case FG_COUNT: case FG_SIZE: case FG_NULLS: return FR_INT64;
  case FG_SUM: return type == FR_FLOAT64 ? FR_FLOAT64 : FR_INT64;
  case FG_MEAN: case FG_VAR: case FG_STD: return FR_FLOAT64;
  default: return type;
  }
}

/* ---- state slots ---- */

enum { SL_I, SL_F };

/* The slots of an aggregation of a column of 'type': their kinds. */
static int slots_of(int op, int type, int *kind) {
  int val = type == FR_FLOAT64 ? SL_F : SL_I;
  switch (op) {
  case FG_COUNT: case FG_SIZE: case FG_NULLS: kind[0] = SL_I; return 1;
  case FG_SUM: kind[0] = val; return 1;
  case FG_MEAN: kind[0] = SL_F, kind[1] = SL_I; return 2;
  case FG_VAR: case FG_STD: kind[0] = SL_I, kind[1] = SL_F, kind[2] = SL_F; return 3;
  default: kind[0] = val, kind[1] = SL_I; return 2;
  }
}

typedef union slot { int64_t i; double f; } slot;

typedef struct table {
  int nkeys, keep_nulls;
  fr_builder *keys;    /* by key: one row per group */
  int nslots;
  int *kind;           /* by slot */
  int *vtype;          /* by slot: the column type a value slot holds */
  slot **state;        /* by slot: one per group */
  int64_t ngroups, cap;
  int64_t *index;      /* open addressing: group + 1, 0 empty */
  uint64_t *hashes;    /* by group */
  int64_t mask;
  int failed;
} table;

static int key_equal(const fr_builder *b, int64_t g, const fr_col *c, int64_t i) {
  int bn = b->has_nulls && !((b->valid[g >> 3] >> (g & 7)) & 1), cn = fr_isnull(c, i);
  if (c->type == FR_FLOAT64) {
    double v = ((const double *)b->values)[g];
    bn = v != v;
  }
  if (bn || cn) return bn && cn;
  switch (c->type) {
  case FR_STRING: {
    size_t len;
    const char *s = fr_str(c, i, &len);
    const int64_t *o = b->values;
    return (size_t)(o[g + 1] - o[g]) == len && memcmp(b->arena + o[g], s, len) == 0;
  }
  case FR_FLOAT64: return ((const double *)b->values)[g] == ((const double *)c->values)[i];
  case FR_BOOL: return ((const uint8_t *)b->values)[g] == ((const uint8_t *)c->values)[i];
  default: return ((const int64_t *)b->values)[g] == ((const int64_t *)c->values)[i];
  }
}

static int table_init(table *t, int nkeys, const int *types, int nslots, const int *kind,
                      const int *vtype) {
  memset(t, 0, sizeof *t);
  t->nkeys = nkeys;
  t->nslots = nslots;
  t->keys = base_calloc((size_t)nkeys + 1, sizeof *t->keys);
  t->kind = base_calloc((size_t)nslots + 1, sizeof *t->kind);
  t->vtype = base_calloc((size_t)nslots + 1, sizeof *t->vtype);
  t->state = base_calloc((size_t)nslots + 1, sizeof *t->state);
  t->cap = 16;
  t->mask = 63;
  t->index = base_calloc(64, sizeof *t->index);
  t->hashes = base_malloc((size_t)t->cap * sizeof *t->hashes);
  if (!t->keys || !t->kind || !t->vtype || !t->state || !t->index || !t->hashes) return -1;
  for (int k = 0; k < nkeys; k++) frb_init(&t->keys[k], types[k], 16);
  for (int s = 0; s < nslots; s++) {
    t->kind[s] = kind[s];
    t->vtype[s] = vtype[s];
    t->state[s] = base_calloc((size_t)t->cap, sizeof(slot));
    if (t->state[s] == NULL) return -1;
  }
  return 0;
}

static void table_free(table *t) {
  for (int k = 0; t->keys && k < t->nkeys; k++) frb_free(&t->keys[k]);
  for (int s = 0; t->state && s < t->nslots; s++) base_free(t->state[s]);
  base_free(t->keys);
  base_free(t->kind);
  base_free(t->vtype);
  base_free(t->state);
  base_free(t->index);
  base_free(t->hashes);
  memset(t, 0, sizeof *t);
}

/* A new group: room in the states (zeroed: every state starts at 0). */
static int64_t new_group(table *t, uint64_t h) {
  if (t->ngroups == t->cap) {
    int64_t cap = t->cap * 2;
    uint64_t *hs = base_realloc(t->hashes, (size_t)cap * sizeof *hs);
    if (hs == NULL) return t->failed = 1, -1;
    t->hashes = hs;
    for (int s = 0; s < t->nslots; s++) {
      slot *v = base_realloc(t->state[s], (size_t)cap * sizeof(slot));
      if (v == NULL) return t->failed = 1, -1;
      memset(v + t->cap, 0, (size_t)(cap - t->cap) * sizeof(slot));
      t->state[s] = v;
    }
    t->cap = cap;
  }
  t->hashes[t->ngroups] = h;
  return t->ngroups++;
}

static int rehash(table *t) {
  int64_t size = (t->mask + 1) * 2;
  int64_t *index = base_calloc((size_t)size, sizeof *index);
  if (index == NULL) return t->failed = 1, -1;
  for (int64_t g = 0; g < t->ngroups; g++) {
    int64_t at = (int64_t)(t->hashes[g] & (uint64_t)(size - 1));
    while (index[at]) at = (at + 1) & (size - 1);
    index[at] = g + 1;
  }
  base_free(t->index);
  t->index = index;
  t->mask = size - 1;
  return 0;
}

/* The group of row 'i' of key columns 'cols' (-1: a null key, or out of
 * memory with t->failed). */
static int64_t group_of(table *t, const fr_col *const *cols, int64_t i) {
  if (t->nkeys == 0) return t->ngroups ? 0 : new_group(t, 0);
  uint64_t h = 0x9e3779b97f4a7c15u;
  for (int k = 0; k < t->nkeys; k++) {
    int null = fr_isnull(cols[k], i);
    if (null && !t->keep_nulls) return -1;
    h = fr_mix(h ^ fr_hash_value(cols[k], i)) + (uint64_t)k;
  }
  int64_t at = (int64_t)(h & (uint64_t)t->mask);
  for (; t->index[at]; at = (at + 1) & t->mask) {
    int64_t g = t->index[at] - 1;
    if (t->hashes[g] != h) continue;
    int same = 1;
    for (int k = 0; k < t->nkeys && same; k++) same = key_equal(&t->keys[k], g, cols[k], i);
    if (same) return g;
  }
  int64_t g = new_group(t, h);
  if (g < 0) return -1;
  for (int k = 0; k < t->nkeys; k++) frb_from(&t->keys[k], cols[k], i);
  t->index[at] = g + 1;
  if (t->ngroups * 2 > t->mask + 1 && rehash(t) != 0) return -1;
  return g;
}

/* ---- updates ---- */

static double as_f(const fr_col *c, int64_t i) {
  switch (c->type) {
  case FR_FLOAT64: return ((const double *)c->values)[i];
  case FR_BOOL: return ((const uint8_t *)c->values)[i];
  default: return (double)((const int64_t *)c->values)[i];
  }
}

static int64_t as_i(const fr_col *c, int64_t i) {
  return c->type == FR_BOOL ? ((const uint8_t *)c->values)[i] : ((const int64_t *)c->values)[i];
}

/* One value of row 'i' of 'c' into group g's states st[0..]. */
static void update(int op, const fr_col *c, int64_t i, slot **st, int64_t g) {
  int null = fr_isnull(c, i);
  if (op == FG_SIZE) { st[0][g].i++; return; }
  if (op == FG_NULLS) { st[0][g].i += null; return; }
  if (null) return;
  switch (op) {
  case FG_COUNT: st[0][g].i++; break;
  case FG_SUM:
    if (c->type == FR_FLOAT64) st[0][g].f += ((const double *)c->values)[i];
    else st[0][g].i = (int64_t)((uint64_t)st[0][g].i + (uint64_t)as_i(c, i)); /* wraps, as numpy */
    break;
  case FG_MEAN: st[0][g].f += as_f(c, i), st[1][g].i++; break;
  case FG_VAR: case FG_STD: {
    double x = as_f(c, i), n = (double)++st[0][g].i, d = x - st[1][g].f;
    st[1][g].f += d / n;
    st[2][g].f += d * (x - st[1][g].f);
    break;
  }
  case FG_MIN: case FG_MAX: {
    int first = st[1][g].i++ == 0;
    if (c->type == FR_FLOAT64) {
      double x = ((const double *)c->values)[i];
      if (first || (op == FG_MIN ? x < st[0][g].f : x > st[0][g].f)) st[0][g].f = x;
    } else {
      int64_t x = as_i(c, i);
      if (first || (op == FG_MIN ? x < st[0][g].i : x > st[0][g].i)) st[0][g].i = x;
    }
    break;
  }
  default: { /* first, last */
    int first = st[1][g].i++ == 0;
    if (first || op == FG_LAST) {
      if (c->type == FR_FLOAT64) st[0][g].f = ((const double *)c->values)[i];
      else st[0][g].i = as_i(c, i);
    }
  }
  }
}

/* Group g's states from another partial's states at row i (columns
 * 'sc', one per slot). */
static void merge(int op, const fr_col **sc, int64_t i, slot **st, int64_t g, int vf) {
#define I(k) (((const int64_t *)sc[k]->values)[i])
#define F(k) (((const double *)sc[k]->values)[i])
  switch (op) {
  case FG_COUNT: case FG_SIZE: case FG_NULLS: st[0][g].i += I(0); break;
  case FG_SUM:
    if (vf) st[0][g].f += F(0);
    else st[0][g].i = (int64_t)((uint64_t)st[0][g].i + (uint64_t)I(0));
    break;
  case FG_MEAN: st[0][g].f += F(0), st[1][g].i += I(1); break;
  case FG_VAR: case FG_STD: {
    int64_t nb = I(0), na = st[0][g].i;
    if (nb == 0) break;
    double n = (double)(na + nb), d = F(1) - st[1][g].f;
    st[1][g].f += d * (double)nb / n;
    st[2][g].f += F(2) + d * d * (double)na * (double)nb / n;
    st[0][g].i = na + nb;
    break;
  }
  case FG_MIN: case FG_MAX: {
    if (I(1) == 0) break;
    int first = st[1][g].i == 0;
    st[1][g].i += I(1);
    if (vf) {
      double x = F(0);
      if (first || (op == FG_MIN ? x < st[0][g].f : x > st[0][g].f)) st[0][g].f = x;
    } else {
      int64_t x = as_i(sc[0], i);
      if (first || (op == FG_MIN ? x < st[0][g].i : x > st[0][g].i)) st[0][g].i = x;
    }
    break;
  }
  default:
    if (I(1) == 0) break;
    if (st[1][g].i == 0 || op == FG_LAST) {
      if (vf) st[0][g].f = F(0);
      else st[0][g].i = as_i(sc[0], i);
    }
    st[1][g].i += I(1);
  }
#undef I
#undef F
}

/* ---- the spec's layout ---- */

typedef struct layout {
  int nslots;
  int kind[3 * FR_MAXCOLS], vtype[3 * FR_MAXCOLS], first[FR_MAXCOLS + 1];
} layout;

static int layout_of(const fg_spec *s, const int *coltype, layout *l, char *err) {
  if (s->naggs > FR_MAXCOLS) return snprintf(err, 128, "too many aggregations"), -1;
  l->nslots = 0;
  for (int a = 0; a < s->naggs; a++) {
    int type = coltype[a], kind[3];
    if (fg_op_takes(s->aggs[a].op, type) != 0)
      return snprintf(err, 128, "%s of a %s column", fg_op_name(s->aggs[a].op), fr_type_name(type)), -1;
    int n = slots_of(s->aggs[a].op, type, kind);
    l->first[a] = l->nslots;
    for (int k = 0; k < n; k++) {
      l->kind[l->nslots] = kind[k];
      l->vtype[l->nslots] = k == 0 && kind[k] == SL_I && s->aggs[a].op >= FG_MIN && s->aggs[a].op <= FG_LAST
                                ? type : (kind[k] == SL_F ? FR_FLOAT64 : FR_INT64);
      l->nslots++;
    }
  }
  l->first[s->naggs] = l->nslots;
  return 0;
}

/* The partial frame of table 't'. */
static int table_frame(table *t, const fr_col *const *keycols, frame *out, char *err) {
  if (t->failed || frame_init(out, t->nkeys + t->nslots, t->ngroups) != 0)
    return snprintf(err, 128, "not enough memory"), -1;
  for (int k = 0; k < t->nkeys; k++)
    if (frb_finish(&t->keys[k], keycols[k]->name, &out->cols[k]) != 0) goto nomem;
  for (int s = 0; s < t->nslots; s++) {
    fr_builder b;
    int type = t->vtype[s];
    frb_init(&b, type, t->ngroups);
    for (int64_t g = 0; g < t->ngroups; g++) {
      if (t->kind[s] == SL_F) frb_f64(&b, t->state[s][g].f);
      else if (type == FR_BOOL) frb_bool(&b, (int)t->state[s][g].i);
      else frb_i64(&b, t->state[s][g].i);
    }
    char name[32];
    snprintf(name, sizeof name, "\x01%d", s);
    if (frb_finish(&b, name, &out->cols[t->nkeys + s]) != 0) goto nomem;
  }
  out->nindex = t->nkeys;
  return 0;
nomem:
  frame_free(out);
  return snprintf(err, 128, "not enough memory"), -1;
}

/* The layout of a spec's states and an empty table for it; 0, or -1
 * with 'err' set (nothing left to free). */
static int start(const fg_spec *s, const int *coltype, const int *keytype, layout **lp, table *t, char *err) {
  layout *l = *lp = base_malloc(sizeof *l);
  if (l == NULL) return snprintf(err, 128, "not enough memory"), -1;
  if (layout_of(s, coltype, l, err) != 0) {
    base_free(l);
    return -1;
  }
  if (table_init(t, s->nkeys, keytype, l->nslots, l->kind, l->vtype) != 0) {
    table_free(t);
    base_free(l);
    return snprintf(err, 128, "not enough memory"), -1;
  }
  t->keep_nulls = s->keep_nulls;
  return 0;
}

int fg_partial(const frame *in, const fg_spec *s, frame *out, char *err) {
  int coltype[FR_MAXCOLS], keytype[FR_MAXCOLS];
  const fr_col *keycols[FR_MAXCOLS];
  if (s->nkeys > FR_MAXCOLS || s->naggs > FR_MAXCOLS) return snprintf(err, 128, "too many columns"), -1;
  for (int a = 0; a < s->naggs; a++) coltype[a] = in->cols[s->aggs[a].col].type;
  for (int k = 0; k < s->nkeys; k++) keycols[k] = &in->cols[s->keys[k]], keytype[k] = keycols[k]->type;
  layout *l;
  table t;
  if (start(s, coltype, keytype, &l, &t, err) != 0) return -1;
  if (s->nkeys == 0) group_of(&t, keycols, 0);
  for (int64_t i = 0; i < in->nrows && !t.failed; i++) {
    int64_t g = group_of(&t, keycols, i);
    if (g < 0) continue;
    for (int a = 0; a < s->naggs; a++)
      update(s->aggs[a].op, &in->cols[s->aggs[a].col], i, t.state + l->first[a], g);
  }
  int status = table_frame(&t, keycols, out, err);
  table_free(&t);
  base_free(l);
  return status;
}

/* The value types of a partial's aggregations, read off its columns. */
static int partial_types(const frame *p, const fg_spec *s, int *coltype, char *err) {
  int at = s->nkeys;
  for (int a = 0; a < s->naggs; a++) {
    int kind[3], op = s->aggs[a].op;
    if (at >= p->ncols) return snprintf(err, 128, "a partial of another spec"), -1;
    const fr_col *v = &p->cols[at];
    int type = op >= FG_MIN && op <= FG_LAST ? v->type
               : op == FG_SUM ? v->type : FR_FLOAT64;
    coltype[a] = type;
    at += slots_of(op, type, kind);
  }
  if (at != p->ncols) return snprintf(err, 128, "a partial of another spec"), -1;
  return 0;
}

int fg_combine(const frame *parts, int n, const fg_spec *s, frame *out, char *err) {
  int coltype[FR_MAXCOLS], keytype[FR_MAXCOLS];
  if (n < 1) return snprintf(err, 128, "nothing to combine"), -1;
  if (partial_types(&parts[0], s, coltype, err) != 0) return -1;
  for (int k = 0; k < s->nkeys; k++) keytype[k] = parts[0].cols[k].type;
  layout *l;
  table t;
  if (start(s, coltype, keytype, &l, &t, err) != 0) return -1;
  int status = 0;
  const fr_col *keycols[FR_MAXCOLS] = {0};
  const fr_col **sc = base_calloc(3 * FR_MAXCOLS, sizeof *sc);
  if (sc == NULL) {
    table_free(&t);
    base_free(l);
    return snprintf(err, 128, "not enough memory"), -1;
  }
  if (s->nkeys == 0) group_of(&t, keycols, 0);
  for (int p = 0; p < n && status == 0; p++) {
    const frame *f = &parts[p];
    if (f->ncols != s->nkeys + l->nslots) status = -1;
    for (int c = 0; c < f->ncols && status == 0; c++) {
      int want = c < s->nkeys ? keytype[c] : l->vtype[c - s->nkeys];
      if (f->cols[c].type != want) status = -1;
      if (c < s->nkeys) keycols[c] = &f->cols[c];
      else sc[c - s->nkeys] = &f->cols[c];
    }
    if (status != 0) {
      snprintf(err, 128, "partials of different layouts");
      break;
    }
    for (int64_t i = 0; i < f->nrows && !t.failed; i++) {
      int64_t g = group_of(&t, keycols, i);
      if (g < 0) continue;
      for (int a = 0; a < s->naggs; a++)
        merge(s->aggs[a].op, sc + l->first[a], i, t.state + l->first[a], g, l->kind[l->first[a]] == SL_F);
    }
  }
  if (status == 0) {
    if (s->nkeys) for (int k = 0; k < s->nkeys; k++) keycols[k] = &parts[0].cols[k];
    status = table_frame(&t, keycols, out, err);
  }
  table_free(&t);
  base_free(l);
  base_free(sc);
  return status;
}

/* ---- finish ---- */

typedef struct sorter {
  const frame *p;
  int nkeys;
} sorter;

static _Thread_local const sorter *sorting;

static int cmp_key(const fr_col *c, int64_t a, int64_t b) {
  int na = fr_isnull(c, a), nb = fr_isnull(c, b);
  if (na || nb) return na - nb; /* null keys last */
  switch (c->type) {
  case FR_STRING: {
    size_t la, lb;
    const char *sa = fr_str(c, a, &la), *sb = fr_str(c, b, &lb);
    int r = memcmp(sa, sb, la < lb ? la : lb);
    return r ? r : (la > lb) - (la < lb);
  }
  case FR_FLOAT64: {
    double x = ((const double *)c->values)[a], y = ((const double *)c->values)[b];
    return (x > y) - (x < y);
  }
  case FR_BOOL: {
    int x = ((const uint8_t *)c->values)[a], y = ((const uint8_t *)c->values)[b];
    return (x > y) - (x < y);
  }
  default: {
    int64_t x = ((const int64_t *)c->values)[a], y = ((const int64_t *)c->values)[b];
    return (x > y) - (x < y);
  }
  }
}

static int cmp_rows(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  for (int k = 0; k < sorting->nkeys; k++) {
    int r = cmp_key(&sorting->p->cols[k], a, b);
    if (r) return r;
  }
  return (a > b) - (a < b);
}

int fg_finish(const frame *p, const fg_spec *s, const char *const *keynames,
              const char *const *names, frame *out, char *err) {
  int coltype[FR_MAXCOLS];
  if (partial_types(p, s, coltype, err) != 0) return -1;
  int64_t n = p->nrows, *order = base_malloc((size_t)(n ? n : 1) * sizeof *order);
  if (order == NULL || frame_init(out, s->nkeys + s->naggs, n) != 0) {
    base_free(order);
    return snprintf(err, 128, "not enough memory"), -1;
  }
  for (int64_t i = 0; i < n; i++) order[i] = i;
  sorter so = {p, s->nkeys};
  sorting = &so;
  if (s->nkeys && !s->unsorted) qsort(order, (size_t)n, sizeof *order, cmp_rows);
  out->nindex = s->nkeys;
  int status = 0;
  for (int k = 0; k < s->nkeys && status == 0; k++) {
    fr_builder b;
    frb_init(&b, p->cols[k].type, n);
    for (int64_t i = 0; i < n; i++) frb_from(&b, &p->cols[k], order[i]);
    status = frb_finish(&b, keynames[k], &out->cols[k]);
  }
  int at = s->nkeys;
  for (int a = 0; a < s->naggs && status == 0; a++) {
    int op = s->aggs[a].op, type = fg_result_type(op, coltype[a]), kind[3];
    const fr_col *c0 = &p->cols[at], *c1 = at + 1 < p->ncols ? &p->cols[at + 1] : NULL,
                 *c2 = at + 2 < p->ncols ? &p->cols[at + 2] : NULL;
    fr_builder b;
    frb_init(&b, type, n);
    for (int64_t r = 0; r < n; r++) {
      int64_t i = order[r];
      switch (op) {
      case FG_COUNT: case FG_SIZE: case FG_NULLS: case FG_SUM: frb_from(&b, c0, i); break;
      case FG_MEAN: {
        int64_t cnt = ((const int64_t *)c1->values)[i];
        frb_f64(&b, cnt ? ((const double *)c0->values)[i] / (double)cnt : NAN);
        break;
      }
      case FG_VAR: case FG_STD: {
        int64_t cnt = ((const int64_t *)c0->values)[i];
        double m2 = ((const double *)c2->values)[i], v = cnt - s->aggs[a].ddof > 0 ? m2 / (double)(cnt - s->aggs[a].ddof) : NAN;
        if (v < 0) v = 0; /* rounding of an exact 0 */
        frb_f64(&b, op == FG_STD ? sqrt(v) : v);
        break;
      }
      default:
        if (((const int64_t *)c1->values)[i] == 0) frb_null(&b);
        else frb_from(&b, c0, i);
      }
    }
    status = frb_finish(&b, names[a], &out->cols[s->nkeys + a]);
    at += slots_of(op, coltype[a], kind);
  }
  base_free(order);
  if (status != 0) {
    frame_free(out);
    return snprintf(err, 128, "not enough memory"), -1;
  }
  return 0;
}
