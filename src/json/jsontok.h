/*
 * jsontok: the structure of a whole JSON text, checked over the token
 * index simdjson's stage 1 makes, for both readers of dusk.json (jsondoc
 * and jsonrec).
 *
 * The readers are lazy: they read only the values asked for, so an
 * error in a part never read would go unseen, and a text holding two
 * values ('{"a":1}{"b":2}') would read as its first.  Stage 1 has already
 * checked UTF-8 and strings; this walk over its tokens checks the rest
 * of what is not inside a token: brackets matched and nested at most
 * JSONDOC_MAXDEPTH deep, a string and a colon before each member of an
 * object, commas between members and none before a closing bracket, and
 * nothing after the value.  What lies inside a scalar (a number's
 * digits, a literal's letters, a string's escapes) is checked when the
 * scalar is read.  The walk costs a few instructions a token.
 */
#ifndef DUSK_JSONTOK_H
#define DUSK_JSONTOK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Results; 0 is a well-formed text. */
enum {
  JSONTOK_OK,
  JSONTOK_MALFORMED, /* a comma, colon, bracket or key missing or extra */
  JSONTOK_VALUE,     /* a token that starts no JSON value */
  JSONTOK_UNCLOSED,  /* the text ends inside an object or array */
  JSONTOK_TRAILING,  /* a token after the value */
  JSONTOK_DEPTH      /* nested deeper than JSONDOC_MAXDEPTH */
};

/* Checks the text 'buf'['len'] (padded with a 0 byte after 'len') by
 * 'tok', where each of its tokens starts, followed by two offsets 'len'
 * (as stage 1 leaves them).  With 'next', next[i] is set for each token i
 * that opens an object or array: the token after the one that closes
 * it.  On an error '*bad' is the offset of the token at fault (of the
 * bracket left open, for JSONTOK_UNCLOSED). */
int jsontok_check(const char *buf, size_t len, const uint32_t *tok, uint32_t *next,
                  size_t *bad);

#ifdef __cplusplus
}
#endif

#endif
