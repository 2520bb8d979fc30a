/*
 * csvnum: the conversions of CSV fields to values (csv.h), exact.
 *
 * Floats: a decimal of at most 19 significant digits whose value is an
 * integer below 2^53 times a power of ten up to 10^22 is one correctly
 * rounded multiplication or division (Clinger's fast path), which covers
 * the prices and distances of real files; anything else goes to strtod,
 * which is exact but several times slower.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame/csv.h"
#include "frame/csvnum.h"

int csvn_slow_double(const char *s, size_t len, double *v) {
  char tmp[128];
  if (len >= sizeof tmp) return -1;
  memcpy(tmp, s, len);
  tmp[len] = 0;
  char *end;
  errno = 0;
  double d = strtod(tmp, &end);
  if (end != tmp + len || len == 0) return -1;
  /* strtod reads hex floats and "infinity"; pandas reads "inf" too, but
   * not hex */
  for (size_t i = 0; i < len; i++)
    if (tmp[i] == 'x' || tmp[i] == 'X') return -1;
  *v = d;
  return 0;
}

int csv_to_int64(const char *s, size_t len, int64_t *v) { return csvn_int64(s, len, v); }

int csv_to_double(const char *s, size_t len, double *v) { return csvn_double(s, len, v); }

int csv_to_bool(const char *s, size_t len, int *v) {
  csvn_trim(&s, &len);
  static const char *const t[] = {"True", "TRUE", "true"}, *const f[] = {"False", "FALSE", "false"};
  for (int k = 0; k < 3; k++) {
    if (len == strlen(t[k]) && memcmp(s, t[k], len) == 0) return *v = 1, 0;
    if (len == strlen(f[k]) && memcmp(s, f[k], len) == 0) return *v = 0, 0;
  }
  return -1;
}

/* Days from 1970-01-01 of a proleptic Gregorian date (Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static int num(const char *s, size_t len, size_t at, int n, unsigned *v) {
  if (at + (size_t)n > len) return -1;
  unsigned x = 0;
  for (int i = 0; i < n; i++) {
    unsigned d = (unsigned char)s[at + (size_t)i] - '0';
    if (d > 9) return -1;
    x = x * 10 + d;
  }
  *v = x;
  return 0;
}

int csv_to_datetime(const char *s, size_t len, int64_t *ns) {
  csvn_trim(&s, &len);
  unsigned y, mo, d, h = 0, mi = 0, sec = 0;
  if (num(s, len, 0, 4, &y) || len < 10 || s[4] != '-' || num(s, len, 5, 2, &mo) || s[7] != '-' ||
      num(s, len, 8, 2, &d))
    return -1;
  static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap)) return -1;
  int64_t frac = 0;
  size_t i = 10;
  if (i < len) {
    if ((s[i] != ' ' && s[i] != 'T') || num(s, len, i + 1, 2, &h) || i + 3 >= len || s[i + 3] != ':' ||
        num(s, len, i + 4, 2, &mi))
      return -1;
    i += 6;
    if (i < len) {
      if (s[i] != ':' || num(s, len, i + 1, 2, &sec)) return -1;
      i += 3;
      if (i < len) {
        if (s[i] != '.') return -1;
        int digits = 0;
        for (i++; i < len; i++, digits++) {
          unsigned dd = (unsigned char)s[i] - '0';
          if (dd > 9 || digits >= 9) return -1;
          frac = frac * 10 + dd;
        }
        if (digits == 0) return -1;
        for (; digits < 9; digits++) frac *= 10;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return -1;
  }
  int64_t days = days_from_civil(y, mo, d), secs = ((days * 24 + h) * 60 + mi) * 60 + sec, v;
  /* outside int64 nanoseconds (pandas' bounds, 1677-09-21 to 2262-04-11) */
  if (__builtin_mul_overflow(secs, (int64_t)1000000000, &v) || __builtin_add_overflow(v, frac, &v)) return -1;
  *ns = v;
  return 0;
}

int csv_kind(const char *s, size_t len) {
  int64_t i;
  double d;
  int b;
  if (csv_to_int64(s, len, &i) == 0) return CSV_K_INT;
  /* an integer past int64's range: a float would round it, so text */
  size_t k = 0;
  while (k < len && (s[k] == ' ' || s[k] == '\t')) k++;
  if (k < len && (s[k] == '-' || s[k] == '+')) k++;
  if (k < len && csvn_digits(s, k, len) == len) {
    size_t e = len;
    while (e > k && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
    if (csvn_digits(s, k, e) == e) return CSV_K_STRING;
  }
  if (csv_to_double(s, len, &d) == 0) return CSV_K_FLOAT;
  if (csv_to_bool(s, len, &b) == 0) return CSV_K_BOOL;
  return CSV_K_STRING;
}

int csv_infer(unsigned kinds, int64_t nonnull) {
  if (nonnull == 0) return FR_FLOAT64; /* all missing: pandas' NaN column */
  if (kinds & CSV_K_STRING) return FR_STRING;
  if (kinds & CSV_K_BOOL) return kinds == CSV_K_BOOL ? FR_BOOL : FR_STRING;
  if (kinds & CSV_K_FLOAT) return FR_FLOAT64;
  return FR_INT64;
}
