/*
 * fjoin: row pairs of a hash join (fjoin.h).
 */
#include "frame/fjoin.h"

#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "frame/fsort.h"

static int same(const fr_col *a, int64_t i, const fr_col *b, int64_t j) {
  int na = fr_isnull(a, i), nb = fr_isnull(b, j);
  if (na || nb) return na && nb;
  return fs_compare(a, i, b, j) == 0;
}

static int compatible(int a, int b) {
  int na = a == FR_INT64 || a == FR_FLOAT64 || a == FR_BOOL, nb = b == FR_INT64 || b == FR_FLOAT64 || b == FR_BOOL;
  return a == b || (na && nb);
}

typedef struct pairs {
  int64_t *a, *b, n, cap;
} pairs;

static int push(pairs *p, int64_t i, int64_t j) {
  if (p->n == p->cap) {
    int64_t cap = p->cap * 2;
    int64_t *a = base_realloc(p->a, (size_t)cap * sizeof *a);
    if (a == NULL) return -1;
    p->a = a;
    int64_t *b = base_realloc(p->b, (size_t)cap * sizeof *b);
    if (b == NULL) return -1;
    p->b = b;
    p->cap = cap;
  }
  p->a[p->n] = i, p->b[p->n] = j, p->n++;
  return 0;
}

int fj_pairs(const frame *l, const int *lkeys, const frame *r, const int *rkeys, int nkeys, int how,
             int64_t **li, int64_t **ri, int64_t *n, char *err) {
  *li = *ri = NULL;
  *n = 0;
  for (int k = 0; k < nkeys; k++)
    if (!compatible(l->cols[lkeys[k]].type, r->cols[rkeys[k]].type)) {
      snprintf(err, 128, "merge: key '%s' is %s on the left, '%s' %s on the right", l->cols[lkeys[k]].name,
               fr_type_name(l->cols[lkeys[k]].type), r->cols[rkeys[k]].name, fr_type_name(r->cols[rkeys[k]].type));
      return -1;
    }
  int64_t nr = r->nrows, size = 16;
  while (size < 2 * nr) size *= 2;
  int64_t *head = base_malloc((size_t)size * sizeof *head), *next = base_malloc((size_t)(nr + 1) * sizeof *next);
  uint64_t *hr = base_malloc((size_t)(nr + 1) * sizeof *hr);
  uint8_t *hit = base_calloc((size_t)nr + 1, 1);
  pairs p = {.cap = l->nrows + nr + 16};
  p.a = base_malloc((size_t)p.cap * sizeof *p.a);
  p.b = base_malloc((size_t)p.cap * sizeof *p.b);
  int status = -1;
  if (!head || !next || !hr || !hit || !p.a || !p.b) goto done;
  for (int64_t s = 0; s < size; s++) head[s] = -1;
  /* right rows chained by bucket, in reverse so that probes meet them in order */
  for (int64_t j = nr - 1; j >= 0; j--) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < nkeys; k++) h = fr_mix(h ^ fr_hash_value(&r->cols[rkeys[k]], j)) + (uint64_t)k;
    hr[j] = h;
    int64_t s = (int64_t)(h & (uint64_t)(size - 1));
    next[j] = head[s];
    head[s] = j;
  }
  for (int64_t i = 0; i < l->nrows; i++) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < nkeys; k++) h = fr_mix(h ^ fr_hash_value(&l->cols[lkeys[k]], i)) + (uint64_t)k;
    int found = 0;
    for (int64_t j = head[h & (uint64_t)(size - 1)]; j >= 0; j = next[j]) {
      if (hr[j] != h) continue;
      int eq = 1;
      for (int k = 0; k < nkeys && eq; k++) eq = same(&l->cols[lkeys[k]], i, &r->cols[rkeys[k]], j);
      if (!eq) continue;
      if (push(&p, i, j) != 0) goto done;
      hit[j] = 1;
      found = 1;
    }
    if (!found && (how == FJ_LEFT || how == FJ_OUTER)) {
      if (push(&p, i, -1) != 0) goto done;
    }
  }
  if (how == FJ_RIGHT || how == FJ_OUTER)
    for (int64_t j = 0; j < nr; j++) {
      if (hit[j]) continue;
      if (push(&p, -1, j) != 0) goto done;
    }
  status = 0;
done:
  base_free(head);
  base_free(next);
  base_free(hr);
  base_free(hit);
  if (status != 0) {
    base_free(p.a);
    base_free(p.b);
    snprintf(err, 128, "not enough memory for a merge");
    return -1;
  }
  *li = p.a, *ri = p.b, *n = p.n;
  return 0;
}
