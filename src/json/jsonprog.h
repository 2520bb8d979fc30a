/*
 * jsonprog: small Lua functions of a JSON record, run in C.
 *
 * A Bag pipeline such as read_text -> json.decode -> filter(f) ->
 * pluck("name") spends most of its time crossing from Lua into C and
 * back for every field it reads.  When 'f' is a pure function of its
 * record (fields and elements read, #, comparisons, and/or/not,
 * arithmetic, constants: no calls, globals, upvalues or tables made), its
 * bytecode is translated here and run on the record's text directly.
 *
 * Anything a program cannot decide exactly as Lua would (a comparison of
 * strings by locale, arithmetic on a string, indexing a number, a parse
 * error, equality of two records) makes it stop with JSONPROG_BAIL, and
 * the caller runs the Lua function on a real record instead: a compiled
 * function gives the same answers and the same errors as the Lua one, on
 * every record.  Programs have no loops (jumps only go forward), so they
 * end.
 */
#ifndef DUSK_JSONPROG_H
#define DUSK_JSONPROG_H

#include <stddef.h>
#include <stdint.h>

#include "json/jsondoc.h"
#include "luabc.h"

/* Value types.  NODE is a place in the record not read yet; OBJECT and
 * ARRAY are places read (as Lua sees them: records). */
enum {
  JSONPROG_NIL, JSONPROG_FALSE, JSONPROG_TRUE, JSONPROG_INT, JSONPROG_FLOAT,
  JSONPROG_STRING, JSONPROG_NULL, JSONPROG_NODE, JSONPROG_OBJECT, JSONPROG_ARRAY,
  JSONPROG_LENGTH /* # of the array at 'node', not counted yet */
};

#define JSONPROG_OK 0
#define JSONPROG_BAIL 1

typedef struct jsonprog_val {
  int32_t type;
  int32_t node;     /* NODE, OBJECT, ARRAY, LENGTH: the place, in the record */
  size_t n;         /* STRING: its length */
  union {
    int64_t i;      /* INT */
    double d;       /* FLOAT */
    const char *s;  /* STRING: valid until the record is closed */
  };
} jsonprog_val;

/* One step of a place's path from the record's root. */
typedef struct jsonprog_step {
  const char *key;  /* an object's key, or NULL */
  size_t klen;
  int64_t index;    /* an array's element, 1-based */
} jsonprog_step;

typedef struct jsonprog jsonprog;
typedef struct jsonprog_rec jsonprog_rec;

/* Translates 'f' (the program keeps it; jsonprog_free frees both), or
 * returns NULL with the reason in 'why' (and 'f' freed). */
jsonprog *jsonprog_compile(luabc_func *f, char *why, size_t whylen);
void jsonprog_free(jsonprog *p);

/* A record reader on the parser 'doc', or NULL when out of memory. */
jsonprog_rec *jsonprog_rec_new(jsondoc *doc);
void jsonprog_rec_free(jsonprog_rec *r);

/* Starts reading the record 'text'['len'] ('id' names the text for the
 * parser's cache, see jsondoc_src): '*root' is its object or array.
 * Earlier values are no longer valid.  JSONPROG_BAIL when the text is not
 * an object or array (or does not parse). */
int jsonprog_rec_open(jsonprog_rec *r, const char *text, size_t len, uint64_t id,
                      jsonprog_val *root);

/* Runs 'p' with the argument 'arg' into '*out' (its first result). */
int jsonprog_run(const jsonprog *p, jsonprog_rec *r, const jsonprog_val *arg,
                 jsonprog_val *out);

/* Reads a NODE (or counts a LENGTH): '*v' becomes what is there.  Other
 * values are left. */
int jsonprog_resolve(jsonprog_rec *r, jsonprog_val *v);

/* Whether 'v' is true as Lua tests it (0 or 1), or -1 to bail. */
int jsonprog_truth(jsonprog_rec *r, jsonprog_val *v);

/* The path of 'node' from the root into 'steps' (at most 'max'): the
 * number of steps, or -1 when it has more. */
int jsonprog_path(const jsonprog_rec *r, int node, jsonprog_step *steps, int max);

#endif
