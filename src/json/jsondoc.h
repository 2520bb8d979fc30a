/*
 * jsondoc: JSON text read On-Demand (simdjson), as plain C for dusk.json.
 *
 * The text is never turned into a tree.  Each call runs simdjson's
 * On-Demand parser over one JSON value of a text the caller owns (a
 * "view"), walks from its start to the value asked for and returns it.
 * The structural index of the last two views is kept, so a second read of
 * the same view only rewinds.  Nothing here calls Lua, and no C++
 * exception leaves this interface.
 *
 * A value inside a view is reached by a path: steps of JSONDOC_KEY, a
 * varint length and the key's bytes, or JSONDOC_INDEX and a varint
 * 0-based index (varints: 7 bits a byte, low bits first, high bit set on
 * all bytes but the last).
 *
 * Folder src/json/ owns reading JSON over simdjson (jsondoc, jsonrec,
 * jsonnum, jsontok); it includes only base/ (no Lua).
 */
#ifndef DUSK_JSONDOC_H
#define DUSK_JSONDOC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JSONDOC_MAXSIZE 0xFFFFFF00u /* longest text (offsets fit in 32 bits) */
/* Objects and arrays nest at most this deep in a text read or written
 * (the value itself is level 1). */
#define JSONDOC_MAXDEPTH 1024

/* Path steps. */
#define JSONDOC_KEY 1
#define JSONDOC_INDEX 2

/* Value types; 0 is "no such key or index". */
enum {
  JSONDOC_NONE, JSONDOC_NULL, JSONDOC_FALSE, JSONDOC_TRUE, JSONDOC_INT,
  JSONDOC_FLOAT, JSONDOC_STRING, JSONDOC_OBJECT, JSONDOC_ARRAY
};

/* Where a value is: 'base'[off..off+len) is the view, one JSON value
 * without surrounding space, in a text that starts at 'base'; the path
 * leads from the view to the value.  The parser indexes a copy of the
 * view, so the text needs no padding, but it must not change while 'id'
 * names it: the parser's cache is keyed by (id, off, len).
 * 'escapes' is 0 only if the text holds no backslash.  'ticket' is the
 * one jsondoc_get or jsondoc_open gave with this value (or 0): when it is
 * still current, reading resumes where the parser stands. */
typedef struct jsondoc_src {
  const char *base;
  uint64_t id;
  size_t off, len;
  const unsigned char *path;
  size_t pathlen;
  int escapes;
  uint64_t ticket;
} jsondoc_src;

/* A value read.  Strings are unescaped; their bytes stay valid until the
 * next call on the same parser.  'off' and 'len' locate the value's text
 * in 'base' (set by jsondoc_list; by jsondoc_open for the view itself). */
typedef struct jsondoc_val {
  int type;
  int64_t i;         /* JSONDOC_INT */
  double d;          /* JSONDOC_FLOAT: also integers beyond int64 */
  const char *s;     /* JSONDOC_STRING */
  size_t n;
  size_t off, len;
  uint64_t ticket;   /* objects and arrays from jsondoc_get and jsondoc_open */
} jsondoc_val;

/* The members of an object or array, in document order; an object's
 * repeated keys are left out after their first appearance (as
 * jsondoc_get finds the first), their values read only for errors.  One
 * allocation, strings inside: base_free() it. */
typedef struct jsondoc_member {
  jsondoc_val v;
  const char *key;   /* objects: the unescaped key */
  size_t klen;
} jsondoc_member;

typedef struct jsondoc_list {
  size_t n;
  jsondoc_member *m;
} jsondoc_list;

/* Writes the path step to the member 'key'['klen'] (or, 'key' NULL, to
 * the element 'index', 0-based) at 'out': JSONDOC_STEPMAX + 'klen' bytes
 * at most.  Returns the bytes written. */
#define JSONDOC_STEPMAX 11
size_t jsondoc_step(unsigned char *out, const char *key, size_t klen, size_t index);

typedef struct jsondoc jsondoc;

/* A parser, or NULL when out of memory.  One per thread at a time. */
jsondoc *jsondoc_new(void);
void jsondoc_free(jsondoc *j);

/* All functions below return 0, or an error: jsondoc_strerror names it,
 * jsondoc_errpos gives its offset in 'base'. */

/* Indexes the view (checking UTF-8, strings and the outer brackets) and
 * reads it: a scalar in full; an object or array by its type only. */
int jsondoc_open(jsondoc *j, const jsondoc_src *src, jsondoc_val *out);

/* Reads the member 'key'['klen'] of the object at 'src', or with 'key'
 * NULL the element 'index' (0-based) of the array.  Objects and arrays
 * found are given by type only: extend the path to read them.  A missing
 * key or index gives JSONDOC_NONE. */
int jsondoc_get(jsondoc *j, const jsondoc_src *src, const char *key,
                size_t klen, size_t index, jsondoc_val *out);

/* All members of the object or array at 'src' into '*out'. */
int jsondoc_list_members(jsondoc *j, const jsondoc_src *src, jsondoc_list **out);

/* The number of members of the object or array at 'src' (an object's
 * repeated keys counted each time), none of them read. */
int jsondoc_count(jsondoc *j, const jsondoc_src *src, size_t *n);

/* The text of the value at 'src': its offset and length in 'base'. */
int jsondoc_extent(jsondoc *j, const jsondoc_src *src, size_t *off, size_t *len);

/* Reads the whole value at 'src', so any error in it is reported;
 * '*depth' is how deep objects and arrays nest in it (1 for '[]', 0 for
 * a scalar). */
int jsondoc_validate(jsondoc *j, const jsondoc_src *src, int *depth);

const char *jsondoc_strerror(int err);
size_t jsondoc_errpos(const jsondoc *j);

/* Whether 's'[0..'n') is valid UTF-8. */
int jsondoc_utf8(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif
