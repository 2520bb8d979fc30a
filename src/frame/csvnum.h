/*
 * csvnum: the conversions of CSV fields that the parse makes per field,
 * inline (private to src/frame/): csv.h's csv_to_int64 and csv_to_double
 * are these.
 */
#ifndef DUSK_CSVNUM_H
#define DUSK_CSVNUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The exact, slow conversion (strtod) of what the fast path leaves. */
int csvn_slow_double(const char *s, size_t len, double *v);

static inline void csvn_trim(const char **s, size_t *len) {
  while (*len && (**s == ' ' || **s == '\t')) (*s)++, (*len)--;
  while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) (*len)--;
}

static inline int csvn_int64(const char *s, size_t len, int64_t *v) {
  csvn_trim(&s, &len);
  size_t i = 0;
  int neg = 0;
  if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  if (i == len) return -1;
  uint64_t u = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; i < len; i++) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9) return -1;
    if (u > (limit - d) / 10) return -1; /* out of int64's range */
    u = u * 10 + d;
  }
  *v = neg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

static const double csvn_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static inline int csvn_double(const char *s, size_t len, double *v) {
  csvn_trim(&s, &len);
  size_t i = 0;
  int neg = 0;
  if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  uint64_t m = 0;
  int digits = 0, scale = 0, any = 0;
  for (; i < len && (unsigned char)(s[i] - '0') <= 9; i++, any = 1)
    if (digits < 19) m = m * 10 + (unsigned)(s[i] - '0'), digits += m != 0;
    else scale++;
  if (i < len && s[i] == '.') {
    for (i++; i < len && (unsigned char)(s[i] - '0') <= 9; i++, any = 1)
      if (digits < 19) m = m * 10 + (unsigned)(s[i] - '0'), digits += m != 0, scale--;
  }
  if (!any) return csvn_slow_double(s, len, v); /* inf, nan, or not a number */
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    int eneg = 0, e = 0;
    if (j < len && (s[j] == '-' || s[j] == '+')) eneg = s[j++] == '-';
    if (j == len) return -1;
    for (; j < len; j++) {
      unsigned d = (unsigned char)s[j] - '0';
      if (d > 9) return -1;
      if (e < 100000) e = e * 10 + (int)d;
    }
    scale += eneg ? -e : e;
    i = len;
  }
  if (i != len) return -1;
  if (digits >= 19 || m >= (uint64_t)1 << 53 || scale < -22 || scale > 22)
    return csvn_slow_double(s, len, v);
  double d = (double)m;
  d = scale < 0 ? d / csvn_pow10[-scale] : d * csvn_pow10[scale];
  *v = neg ? -d : d;
  return 0;
}

/* The first byte at or after 'i' in s[0..len) that is not a digit (or
 * len), 8 bytes at a time: a byte is a digit when its high nibble is 3
 * and adding 6 leaves it so.  The last word is read only up to len. */
static inline size_t csvn_digits(const char *s, size_t i, size_t len) {
  while (i < len) {
    uint64_t x = 0x3030303030303030u; /* digits past the end: the end stops it */
    size_t take = len - i < 8 ? len - i : 8;
    memcpy(&x, s + i, take);
    uint64_t t = (x & 0xF0F0F0F0F0F0F0F0u) ^ 0x3030303030303030u;
    uint64_t u = ((x + 0x0606060606060606u) & 0xF0F0F0F0F0F0F0F0u) ^ 0x3030303030303030u;
    uint64_t m = t | u;
    if (m) {
      size_t at = i + (size_t)(__builtin_ctzll(m) >> 3);
      return at < len ? at : len;
    }
    i += take;
  }
  return len;
}

/* Whether 's' is a decimal csvn_double reads, by its grammar alone
 * ([sign] digits [. digits] [e [sign] digits], a digit in the mantissa):
 * checking a field costs no conversion.  0 also for what only strtod
 * reads (inf, nan), which the caller then converts. */
static inline int csvn_is_decimal(const char *s, size_t len) {
  csvn_trim(&s, &len);
  size_t i = 0;
  int digits = 0;
  if (i < len && (s[i] == '-' || s[i] == '+')) i++;
  size_t e = csvn_digits(s, i, len);
  digits = e > i;
  i = e;
  if (i < len && s[i] == '.') {
    e = csvn_digits(s, i + 1, len);
    digits |= e > i + 1;
    i = e;
  }
  if (!digits) return 0;
  if (i < len && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < len && (s[i] == '-' || s[i] == '+')) i++;
    if (i == len) return 0;
    for (; i < len; i++)
      if ((unsigned char)(s[i] - '0') > 9) return 0;
  }
  return i == len;
}

#endif
