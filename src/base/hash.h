/*
 * hash: the one hash of dusk's C code, 64-bit FNV-1a.
 *
 * Frames carry it (a prototype's hash, serial_int.h) and core.hash shows
 * it, so it is part of formats: changing it is a new frame version.  Its
 * low bits mix poorly; the dict (dict.h) mixes every key again,
 * so byte strings go into a dict by this hash as it is.  Strings hashed
 * on hot paths are short (keys counted, chunks hashed once per closure),
 * so a byte at a time costs little.
 */
#ifndef DUSK_HASH_H
#define DUSK_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t hash_bytes(const void *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  uint64_t h = 0xcbf29ce484222325u;
  for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001b3u;
  return h;
}

#endif
