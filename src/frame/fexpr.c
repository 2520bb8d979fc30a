/*
 * fexpr: elementwise column operations (fexpr.h).
 */
#include "frame/fexpr.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "frame/csv.h"

static const char *const binops[FX_NBINARY] = {"add", "sub", "mul", "div", "floordiv", "mod", "pow",
                                                "eq", "ne", "lt", "le", "gt", "ge",
                                                "and", "or", "xor", "fillna"};
static const char *const unops[FX_NUNARY] = {"neg", "not", "abs", "isnull", "notnull"};

int fx_binop_of(const char *name) {
  for (int k = 0; k < FX_NBINARY; k++)
    if (strcmp(binops[k], name) == 0) return k;
  return -1;
}

int fx_unop_of(const char *name) {
  for (int k = 0; k < FX_NUNARY; k++)
    if (strcmp(unops[k], name) == 0) return k;
  return -1;
}

static int64_t at(const fr_col *c, int64_t i) { return c->n == 1 ? 0 : i; }
static int nul(const fr_col *c, int64_t i) { return fr_isnull(c, at(c, i)); }
static int64_t geti(const fr_col *c, int64_t i) {
  i = at(c, i);
  return c->type == FR_BOOL ? ((const uint8_t *)c->values)[i] : ((const int64_t *)c->values)[i];
}
static double getf(const fr_col *c, int64_t i) {
  i = at(c, i);
  if (c->type == FR_FLOAT64) return ((const double *)c->values)[i];
  return (double)(c->type == FR_BOOL ? ((const uint8_t *)c->values)[i] : ((const int64_t *)c->values)[i]);
}
static int numeric(int t) { return t == FR_INT64 || t == FR_FLOAT64 || t == FR_BOOL; }

__attribute__((format(printf, 2, 3))) static int fail(char *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, 128, fmt, ap);
  va_end(ap);
  return -1;
}

static int finish(fr_builder *b, const char *name, fr_col *out, char *err) {
  if (frb_finish(b, name, out) != 0) return fail(err, "not enough memory");
  return 0;
}

static int cmp_result(int op, int c) {
  switch (op) {
  case FX_EQ: return c == 0;
  case FX_NE: return c != 0;
  case FX_LT: return c < 0;
  case FX_LE: return c <= 0;
  case FX_GT: return c > 0;
  default: return c >= 0;
  }
}

static int compare(int op, const fr_col *a, const fr_col *b, int64_t n, const char *name, fr_col *out,
                   char *err) {
  int ta = a->type, tb = b->type;
  int ok = (numeric(ta) && numeric(tb)) || ta == tb;
  if (!ok) return fail(err, "cannot compare %s with %s", fr_type_name(ta), fr_type_name(tb));
  fr_builder bd;
  frb_init(&bd, FR_BOOL, n);
  int floats = ta == FR_FLOAT64 || tb == FR_FLOAT64;
  for (int64_t i = 0; i < n; i++) {
    if (nul(a, i) || nul(b, i)) {
      frb_bool(&bd, op == FX_NE);
      continue;
    }
    int c;
    if (ta == FR_STRING) {
      size_t la, lb;
      const char *sa = fr_str(a, at(a, i), &la), *sb = fr_str(b, at(b, i), &lb);
      int r = memcmp(sa, sb, la < lb ? la : lb);
      c = r ? r : (la > lb) - (la < lb);
    } else if (floats) {
      double x = getf(a, i), y = getf(b, i);
      c = (x > y) - (x < y);
    } else {
      int64_t x = geti(a, i), y = geti(b, i);
      c = (x > y) - (x < y);
    }
    frb_bool(&bd, cmp_result(op, c));
  }
  return finish(&bd, name, out, err);
}

static int64_t ipow(int64_t x, int64_t e) {
  uint64_t r = 1, b = (uint64_t)x;
  while (e > 0) {
    if (e & 1) r *= b;
    b *= b;
    e >>= 1;
  }
  return (int64_t)r;
}

static int arith(int op, const fr_col *a, const fr_col *b, int64_t n, const char *name, fr_col *out,
                 char *err) {
  if (op == FX_ADD && a->type == FR_STRING && b->type == FR_STRING) {
    fr_builder bd;
    frb_init(&bd, FR_STRING, n);
    for (int64_t i = 0; i < n; i++) {
      if (nul(a, i) || nul(b, i)) {
        frb_null(&bd);
        continue;
      }
      size_t la, lb;
      const char *sa = fr_str(a, at(a, i), &la), *sb = fr_str(b, at(b, i), &lb);
      char *both = base_malloc(la + lb + 1);
      if (both == NULL) {
        frb_free(&bd);
        return fail(err, "not enough memory");
      }
      memcpy(both, sa, la);
      memcpy(both + la, sb, lb);
      frb_str(&bd, both, la + lb);
      base_free(both);
    }
    return finish(&bd, name, out, err);
  }
  if (!numeric(a->type) || !numeric(b->type))
    return fail(err, "arithmetic on %s and %s", fr_type_name(a->type), fr_type_name(b->type));
  int floats = op == FX_DIV || a->type == FR_FLOAT64 || b->type == FR_FLOAT64;
  fr_builder bd;
  frb_init(&bd, floats ? FR_FLOAT64 : FR_INT64, n);
  for (int64_t i = 0; i < n; i++) {
    if (nul(a, i) || nul(b, i)) {
      frb_null(&bd);
      continue;
    }
    if (floats) {
      double x = getf(a, i), y = getf(b, i), r;
      switch (op) {
      case FX_ADD: r = x + y; break;
      case FX_SUB: r = x - y; break;
      case FX_MUL: r = x * y; break;
      case FX_DIV: r = x / y; break;
      case FX_FLOORDIV: r = floor(x / y); break;
      case FX_MOD: r = y == 0 ? NAN : x - floor(x / y) * y; break;
      default: r = pow(x, y); break;
      }
      frb_f64(&bd, r);
    } else {
      uint64_t x = (uint64_t)geti(a, i), y = (uint64_t)geti(b, i);
      int64_t sx = (int64_t)x, sy = (int64_t)y, r;
      switch (op) {
      case FX_ADD: r = (int64_t)(x + y); break;
      case FX_SUB: r = (int64_t)(x - y); break;
      case FX_MUL: r = (int64_t)(x * y); break;
      case FX_POW:
        if (sy < 0) {
          frb_free(&bd);
          return fail(err, "integers to negative integer powers");
        }
        r = ipow(sx, sy);
        break;
      default: /* // and %: floored, as Python's */
        if (sy == 0) {
          frb_free(&bd);
          return fail(err, "integer %s by zero (astype(\"float64\") first for inf)", op == FX_MOD ? "%" : "//");
        }
        if (sx == INT64_MIN && sy == -1) r = op == FX_MOD ? 0 : INT64_MIN;
        else {
          int64_t q = sx / sy, m = sx % sy;
          if (m != 0 && ((m < 0) != (sy < 0))) q--, m += sy;
          r = op == FX_MOD ? m : q;
        }
      }
      frb_i64(&bd, r);
    }
  }
  return finish(&bd, name, out, err);
}

static int logical(int op, const fr_col *a, const fr_col *b, int64_t n, const char *name, fr_col *out,
                   char *err) {
  if (a->type != FR_BOOL || b->type != FR_BOOL)
    return fail(err, "&, | and ~ take bool Series, not %s and %s", fr_type_name(a->type), fr_type_name(b->type));
  fr_builder bd;
  frb_init(&bd, FR_BOOL, n);
  for (int64_t i = 0; i < n; i++) {
    int x = !nul(a, i) && geti(a, i), y = !nul(b, i) && geti(b, i);
    frb_bool(&bd, op == FX_AND ? x && y : op == FX_OR ? x || y : x != y);
  }
  return finish(&bd, name, out, err);
}

static int fillna(const fr_col *a, const fr_col *b, int64_t n, const char *name, fr_col *out, char *err) {
  int type = a->type;
  if (type != b->type && !(numeric(type) && numeric(b->type)))
    return fail(err, "fillna of a %s column with a %s", fr_type_name(type), fr_type_name(b->type));
  if (type != b->type) type = FR_FLOAT64;
  fr_builder bd;
  frb_init(&bd, type, n);
  for (int64_t i = 0; i < n; i++) {
    const fr_col *c = nul(a, i) ? b : a;
    if (nul(c, i)) frb_null(&bd);
    else if (type == FR_FLOAT64) frb_f64(&bd, getf(c, i));
    else frb_from(&bd, c, at(c, i));
  }
  return finish(&bd, name, out, err);
}

int fx_binary(int op, const fr_col *a, const fr_col *b, const char *name, fr_col *out, char *err) {
  memset(out, 0, sizeof *out);
  if (a->n != b->n && a->n != 1 && b->n != 1) return fail(err, "Series of different lengths");
  int64_t n = a->n > b->n ? a->n : b->n;
  if (a->n == 0 || b->n == 0) n = 0;
  if (op >= FX_EQ && op <= FX_GE) return compare(op, a, b, n, name, out, err);
  if (op >= FX_AND && op <= FX_XOR) return logical(op, a, b, n, name, out, err);
  if (op == FX_FILLNA) return fillna(a, b, n, name, out, err);
  if (op < 0 || op >= FX_NBINARY) return fail(err, "no operation");
  return arith(op, a, b, n, name, out, err);
}

int fx_unary(int op, const fr_col *a, const char *name, fr_col *out, char *err) {
  memset(out, 0, sizeof *out);
  int64_t n = a->n;
  fr_builder bd;
  if (op == FX_ISNULL || op == FX_NOTNULL) {
    frb_init(&bd, FR_BOOL, n);
    for (int64_t i = 0; i < n; i++) frb_bool(&bd, fr_isnull(a, i) == (op == FX_ISNULL));
    return finish(&bd, name, out, err);
  }
  if (op == FX_NOT) {
    if (a->type != FR_BOOL) return fail(err, "~ of a %s Series", fr_type_name(a->type));
    frb_init(&bd, FR_BOOL, n);
    for (int64_t i = 0; i < n; i++) frb_bool(&bd, !(!fr_isnull(a, i) && geti(a, i)));
    return finish(&bd, name, out, err);
  }
  if (!numeric(a->type)) return fail(err, "%s of a %s Series", unops[op], fr_type_name(a->type));
  int floats = a->type == FR_FLOAT64;
  frb_init(&bd, floats ? FR_FLOAT64 : FR_INT64, n);
  for (int64_t i = 0; i < n; i++) {
    if (fr_isnull(a, i)) frb_null(&bd);
    else if (floats) frb_f64(&bd, op == FX_NEG ? -getf(a, i) : fabs(getf(a, i)));
    else {
      uint64_t x = (uint64_t)geti(a, i);
      frb_i64(&bd, (int64_t)(op == FX_NEG || (int64_t)x < 0 ? 0 - x : x));
    }
  }
  return finish(&bd, name, out, err);
}

int fx_astype(const fr_col *a, int type, const char *name, fr_col *out, char *err) {
  memset(out, 0, sizeof *out);
  int64_t n = a->n;
  fr_builder bd;
  frb_init(&bd, type, n);
  char num[64];
  for (int64_t i = 0; i < n; i++) {
    if (fr_isnull(a, i)) {
      frb_null(&bd);
      continue;
    }
    if (type == FR_STRING) {
      int len;
      switch (a->type) {
      case FR_STRING: frb_from(&bd, a, i); continue;
      case FR_FLOAT64: len = snprintf(num, sizeof num, "%.17g", getf(a, i)); break;
      case FR_BOOL: len = snprintf(num, sizeof num, "%s", geti(a, i) ? "True" : "False"); break;
      default: len = snprintf(num, sizeof num, "%lld", (long long)geti(a, i)); break;
      }
      frb_str(&bd, num, (size_t)len);
      continue;
    }
    if (a->type == FR_STRING) {
      size_t len;
      const char *s = fr_str(a, i, &len);
      int64_t iv;
      double dv;
      int bv, bad;
      switch (type) {
      case FR_INT64: bad = csv_to_int64(s, len, &iv); if (!bad) frb_i64(&bd, iv); break;
      case FR_FLOAT64: bad = csv_to_double(s, len, &dv); if (!bad) frb_f64(&bd, dv); break;
      case FR_BOOL: bad = csv_to_bool(s, len, &bv); if (!bad) frb_bool(&bd, bv); break;
      default: bad = csv_to_datetime(s, len, &iv); if (!bad) frb_i64(&bd, iv); break;
      }
      if (bad) {
        snprintf(num, sizeof num, "%.*s", (int)(len > 40 ? 40 : len), s);
        frb_free(&bd);
        return fail(err, "astype: '%s' is not a %s", num, fr_type_name(type));
      }
      continue;
    }
    if (type == FR_DATETIME || a->type == FR_DATETIME) {
      if (a->type == type || (a->type == FR_INT64 && type == FR_DATETIME) || (a->type == FR_DATETIME && type == FR_INT64)) {
        frb_i64(&bd, geti(a, i));
        continue;
      }
      frb_free(&bd);
      return fail(err, "astype: %s to %s", fr_type_name(a->type), fr_type_name(type));
    }
    switch (type) {
    case FR_FLOAT64: frb_f64(&bd, getf(a, i)); break;
    case FR_BOOL: frb_bool(&bd, a->type == FR_FLOAT64 ? getf(a, i) != 0 : geti(a, i) != 0); break;
    default: {
      double d = getf(a, i);
      if (a->type == FR_FLOAT64 && !(d >= -0x1p63 && d < 0x1p63)) {
        frb_free(&bd);
        snprintf(num, sizeof num, "%g", d);
        return fail(err, "astype: %s does not fit an int64", num);
      }
      frb_i64(&bd, a->type == FR_FLOAT64 ? (int64_t)d : geti(a, i));
    }
    }
  }
  return finish(&bd, name, out, err);
}

int fx_isin(const fr_col *a, const fr_col *set, const char *name, fr_col *out, char *err) {
  memset(out, 0, sizeof *out);
  fr_builder bd;
  frb_init(&bd, FR_BOOL, a->n);
  for (int64_t i = 0; i < a->n; i++) {
    int hit = 0;
    for (int64_t j = 0; j < set->n && !hit && !fr_isnull(a, i); j++) {
      if (fr_isnull(set, j)) continue;
      if (a->type == FR_STRING) {
        size_t la, lb;
        const char *sa = fr_str(a, i, &la), *sb = fr_str(set, j, &lb);
        hit = la == lb && memcmp(sa, sb, la) == 0;
      } else if (a->type == FR_FLOAT64 || set->type == FR_FLOAT64) {
        hit = getf(a, i) == getf(set, j);
      } else {
        hit = geti(a, i) == geti(set, j);
      }
    }
    frb_bool(&bd, hit);
  }
  return finish(&bd, name, out, err);
}

int fx_filter(const frame *f, const fr_col *mask, frame *out, char *err) {
  memset(out, 0, sizeof *out);
  if (mask->type != FR_BOOL) return fail(err, "a mask must be a bool Series, not %s", fr_type_name(mask->type));
  if (mask->n != f->nrows) return fail(err, "a mask of another length");
  int64_t n = 0;
  for (int64_t i = 0; i < f->nrows; i++) n += !fr_isnull(mask, i) && ((const uint8_t *)mask->values)[i];
  if (frame_init(out, f->ncols, n) != 0) return fail(err, "not enough memory");
  out->nindex = f->nindex;
  out->series = f->series;
  for (int k = 0; k < f->ncols; k++) {
    fr_builder bd;
    frb_init(&bd, f->cols[k].type, n);
    for (int64_t i = 0; i < f->nrows; i++)
      if (!fr_isnull(mask, i) && ((const uint8_t *)mask->values)[i]) frb_from(&bd, &f->cols[k], i);
    if (frb_finish(&bd, f->cols[k].name, &out->cols[k]) != 0) {
      frame_free(out);
      return fail(err, "not enough memory");
    }
  }
  return 0;
}
