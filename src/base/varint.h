/*
 * varint: unsigned integers in 1 to VARINT_MAX bytes, 7 bits a byte, low
 * bits first, the high bit set on every byte but the last (LEB128), as
 * frames (serial_int.h) and JSON paths (jsondoc.h) write them; zigzag
 * maps signed values near 0 to small unsigned ones (0, -1, 1, -2 ... to
 * 0, 1, 2, 3 ...).  Lua's own dumps write sizes the other way round
 * (luabc.h reads those).
 */
#ifndef DUSK_VARINT_H
#define DUSK_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define VARINT_MAX 10 /* bytes of the largest uint64_t */

/* Writes 'x' at 'p', which has room for VARINT_MAX bytes; returns the
 * bytes written. */
static inline size_t varint_put(unsigned char *p, uint64_t x) {
  size_t n = 0;
  while (x >= 0x80) {
    p[n++] = (unsigned char)(x | 0x80);
    x >>= 7;
  }
  p[n++] = (unsigned char)x;
  return n;
}

/* Reads the varint at '*p', before 'end', into '*x' and moves '*p' past
 * it: returns 1; 0 when 'end' comes first, -1 when it runs past
 * VARINT_MAX bytes (bits beyond 64 are dropped); '*p' then stays, '*x'
 * is 0. */
static inline int varint_get(const unsigned char **p, const unsigned char *end, uint64_t *x) {
  const unsigned char *s = *p;
  if (s < end && *s < 0x80) { /* the common case: one byte */
    *x = *s;
    *p = s + 1;
    return 1;
  }
  uint64_t v = 0;
  *x = 0;
  for (int i = 0; i < VARINT_MAX; i++) {
    if (s + i >= end) return 0;
    v |= (uint64_t)(s[i] & 0x7f) << (7 * i);
    if (!(s[i] & 0x80)) {
      *x = v;
      *p = s + i + 1;
      return 1;
    }
  }
  return -1;
}

/* Signed values as two's complement bits in a uint64_t, so that
 * differences may wrap around. */
static inline uint64_t zigzag_enc(uint64_t v) { return (v << 1) ^ (0 - (v >> 63)); }
static inline uint64_t zigzag_dec(uint64_t u) { return (u >> 1) ^ (0 - (u & 1)); }

#endif
