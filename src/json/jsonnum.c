/*
 * jsonnum: JSON numbers read exactly (see jsonnum.h).
 */
#include "jsonnum.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void) {
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

int jsonnum_read(const char *s, const char **end, jsondoc_val *out) {
  const char *p = s;
  int neg = *p == '-';
  if (neg) p++;
  uint64_t u = 0;
  int fits = 1; /* the integer part fits in 'u' */
  if (*p == '0') {
    p++;
  } else if (*p >= '1' && *p <= '9') {
    for (; is_digit(*p); p++) {
      if (u > (UINT64_MAX - 9) / 10) fits = 0;
      else u = u * 10 + (uint64_t)(*p - '0');
    }
  } else {
    return -1;
  }
  int is_int = 1;
  if (*p == '.') {
    is_int = 0;
    if (!is_digit(*++p)) return -1;
    while (is_digit(*p)) p++;
  }
  if (*p == 'e' || *p == 'E') {
    is_int = 0;
    if (*++p == '+' || *p == '-') p++;
    if (!is_digit(*p)) return -1;
    while (is_digit(*p)) p++;
  }
  *end = p;
  if (is_int && fits && u <= (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX)) {
    out->type = JSONDOC_INT;
    out->i = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
  }
  /* the grammar ends at 'p', and so does strtod, which reads no more of
   * it (no hex, inf or nan can start here) */
  pthread_once(&c_locale_once, make_c_locale);
  if (c_locale == (locale_t)0) return -1;
  char *stop;
  double d = strtod_l(s, &stop, c_locale);
  if (stop != p || isinf(d)) return -1; /* beyond a double's range */
  out->type = JSONDOC_FLOAT;
  out->d = d;
  return 0;
}
