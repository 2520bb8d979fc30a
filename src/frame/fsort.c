/*
 * fsort: stable orders and takes (fsort.h).
 *
 * A merge sort of row numbers (stable, O(n log n) whatever the data;
 * qsort is neither stable nor reentrant), comparing by the key columns
 * in turn.
 */
#include "frame/fsort.h"

#include <string.h>

#include "base/alloc.h"

int fs_compare(const fr_col *c, int64_t i, const fr_col *d, int64_t j) {
  int ni = fr_isnull(c, i), nj = fr_isnull(d, j);
  if (ni || nj) return ni - nj; /* nulls after values */
  if (c->type == FR_STRING) {
    size_t la, lb;
    const char *sa = fr_str(c, i, &la), *sb = fr_str(d, j, &lb);
    int r = memcmp(sa, sb, la < lb ? la : lb);
    return r ? (r > 0) - (r < 0) : (la > lb) - (la < lb);
  }
  if (c->type == FR_FLOAT64 || d->type == FR_FLOAT64) {
    double x = c->type == FR_FLOAT64 ? ((const double *)c->values)[i]
               : c->type == FR_BOOL ? ((const uint8_t *)c->values)[i] : (double)((const int64_t *)c->values)[i];
    double y = d->type == FR_FLOAT64 ? ((const double *)d->values)[j]
               : d->type == FR_BOOL ? ((const uint8_t *)d->values)[j] : (double)((const int64_t *)d->values)[j];
    return (x > y) - (x < y);
  }
  int64_t x = c->type == FR_BOOL ? ((const uint8_t *)c->values)[i] : ((const int64_t *)c->values)[i];
  int64_t y = d->type == FR_BOOL ? ((const uint8_t *)d->values)[j] : ((const int64_t *)d->values)[j];
  return (x > y) - (x < y);
}

typedef struct keys {
  const frame *f;
  const int *cols, *asc;
  int n;
} keys;

static int before(const keys *k, int64_t a, int64_t b) {
  for (int c = 0; c < k->n; c++) {
    const fr_col *col = &k->f->cols[k->cols[c]];
    int r = fs_compare(col, a, col, b);
    if (r == 0) continue;
    if (!k->asc[c] && !fr_isnull(col, a) && !fr_isnull(col, b)) r = -r;
    return r < 0;
  }
  return 0;
}

static void merge_sort(const keys *k, int64_t *v, int64_t *tmp, int64_t n) {
  if (n < 2) return;
  if (n <= 16) { /* insertion sort: stable */
    for (int64_t i = 1; i < n; i++) {
      int64_t x = v[i], j = i;
      while (j > 0 && before(k, x, v[j - 1])) v[j] = v[j - 1], j--;
      v[j] = x;
    }
    return;
  }
  int64_t h = n / 2;
  merge_sort(k, v, tmp, h);
  merge_sort(k, v + h, tmp, n - h);
  if (!before(k, v[h], v[h - 1])) return; /* already in order */
  memcpy(tmp, v, (size_t)h * sizeof *v);
  int64_t i = 0, j = h, o = 0;
  while (i < h && j < n) v[o++] = before(k, v[j], tmp[i]) ? v[j++] : tmp[i++];
  while (i < h) v[o++] = tmp[i++];
}

int fs_order(const frame *f, const int *cols, const int *asc, int n, int64_t *order) {
  for (int64_t i = 0; i < f->nrows; i++) order[i] = i;
  int64_t *tmp = base_malloc((size_t)(f->nrows / 2 + 1) * sizeof *tmp);
  if (tmp == NULL) return -1;
  keys k = {f, cols, asc, n};
  merge_sort(&k, order, tmp, f->nrows);
  base_free(tmp);
  return 0;
}

int fs_take(const frame *f, const int64_t *order, int64_t n, frame *out) {
  if (frame_init(out, f->ncols, n) != 0) return -1;
  out->nindex = f->nindex;
  out->series = f->series;
  for (int k = 0; k < f->ncols; k++) {
    fr_builder b;
    frb_init(&b, f->cols[k].type, n);
    for (int64_t i = 0; i < n; i++) {
      if (order[i] < 0) frb_null(&b);
      else frb_from(&b, &f->cols[k], order[i]);
    }
    if (frb_finish(&b, f->cols[k].name, &out->cols[k]) != 0) {
      frame_free(out);
      return -1;
    }
  }
  return 0;
}
