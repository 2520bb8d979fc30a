/*
 * pure: small pure Lua functions run in C, on numbers and on JSON records
 * read in place.
 *
 * A Bag pipeline such as read_text -> json.decode -> filter(f) ->
 * pluck("name"), or range -> filter(is_even) -> map(square) -> sum,
 * spends most of its time calling Lua functions and, for records,
 * crossing from Lua into C for every field read.  When 'f' is a pure
 * function of its argument (fields and elements read, #, comparisons,
 * and/or/not, arithmetic, constants: no calls, globals, upvalues or
 * tables made), its bytecode is translated here (luabc.h) and run in C:
 * on a number, or on a record's text directly.
 *
 * Anything a program cannot decide exactly as Lua would (a comparison of
 * strings by locale, arithmetic on a string, indexing a number, a parse
 * error, equality of two records, n % 0) makes it stop with PURE_BAIL,
 * and the caller runs the Lua function instead: a translated function
 * gives the same answers and the same errors as the Lua one, on every
 * value.  Programs have no loops (jumps only go forward), so they end.
 *
 * Folder src/pure/ owns pure Lua functions run in C; it includes serial/
 * (luabc) and json/.
 */
#ifndef DUSK_PURE_H
#define DUSK_PURE_H

#include <stddef.h>
#include <stdint.h>

#include "json/jsonrec.h"
#include "serial/luabc.h"

/* Value types.  NODE is a place in the record not read yet; OBJECT and
 * ARRAY are places read (as Lua sees them: records). */
enum {
  PURE_NIL, PURE_FALSE, PURE_TRUE, PURE_INT, PURE_FLOAT,
  PURE_STRING, PURE_NULL, PURE_NODE, PURE_OBJECT, PURE_ARRAY
};

#define PURE_OK 0
#define PURE_BAIL 1

typedef struct pure_val {
  int32_t type;
  union {
    int32_t node;   /* NODE, OBJECT, ARRAY: the place, in the record */
    uint32_t n;     /* STRING: its length (texts are under 4 GiB) */
  };
  union {
    int64_t i;      /* INT */
    double d;       /* FLOAT */
    const char *s;  /* STRING: valid until the record is closed */
  };
} pure_val;

/* One step of a place's path from the record's root. */
typedef struct pure_step {
  const char *key;  /* an object's key, or NULL */
  size_t klen;
  int64_t index;    /* an array's element, 1-based */
} pure_step;

typedef struct pure pure;
typedef struct pure_rec pure_rec;

/* Translates 'f' (the program keeps it; pure_free frees both), or
 * returns NULL with the reason in 'why' (and 'f' freed). */
pure *pure_compile(luabc_func *f, char *why, size_t whylen);
void pure_free(pure *p);

/* A record reader, or NULL when out of memory. */
pure_rec *pure_rec_new(void);
void pure_rec_free(pure_rec *r);

/* Starts reading the record 'text'['len']: '*root' is its object or
 * array.  Earlier values are no longer valid.  PURE_BAIL when the text
 * is not an object or array (or does not parse). */
int pure_rec_open(pure_rec *r, const char *text, size_t len, pure_val *root);

/* Runs 'p' with the argument 'arg' into '*out' (its first result).  'r'
 * may be NULL when 'arg' is not a place in a record. */
int pure_run(const pure *p, pure_rec *r, const pure_val *arg,
                 pure_val *out);

/* Lua's a + b for two numbers (INT or FLOAT). */
void pure_add(const pure_val *a, const pure_val *b, pure_val *out);

/* Reads a NODE: '*v' becomes what is there.  Other values are left. */
int pure_resolve(pure_rec *r, pure_val *v);

/* Whether 'v' is true as Lua tests it (0 or 1), or -1 to bail. */
int pure_truth(pure_rec *r, pure_val *v);

/* The path of 'node' from the root into 'steps' (at most 'max'): the
 * number of steps, or -1 when it has more. */
int pure_path(const pure_rec *r, int node, pure_step *steps, int max);

#endif
