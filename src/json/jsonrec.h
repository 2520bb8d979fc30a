/*
 * jsonrec: one JSON record read in place, for programs run in C
 * (pure/purevm.h).
 *
 * jsondoc reads any value of a text by a path from its root, with
 * simdjson's On-Demand API, as Lua records need.  A program reads a few
 * fields of one record at a time, each from an object or array it has
 * read before, and it may give up on any record: Lua then reads it with
 * jsondoc.  So this reader is smaller and stricter: it walks simdjson's
 * index of the record's tokens (stage 1) itself, a handle is the token
 * where an object or array starts, and whatever it does not read exactly
 * as jsondoc would it refuses, and the caller gives the record to Lua.
 */
#ifndef DUSK_JSONREC_H
#define DUSK_JSONREC_H

#include <stddef.h>

#include "jsondoc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jsonrec jsonrec;

/* A reader, or NULL when out of memory.  One per thread at a time. */
jsonrec *jsonrec_new(void);
void jsonrec_free(jsonrec *r);

/* All functions below return 0, or -1 when the record cannot be read
 * here: its structure is not well-formed (anywhere: jsontok.h), a value
 * read is not, or it needs what only jsondoc does (escapes in a key
 * compared or a string read).  Values come as jsondoc_val: an object or array
 * by type, with its handle in 'ticket' (the root's is 0); strings point
 * into the reader's copy of the record, valid until the next
 * jsonrec_open. */

/* Indexes the record 'text'['len'], an object or array (the text needs no
 * padding), and reads its root. */
int jsonrec_open(jsonrec *r, const char *text, size_t len, jsondoc_val *root);

/* Reads the member 'key'['klen'] of the object 'h', or with 'key' NULL
 * the element 'index' (0-based) of the array 'h'.  A missing key or
 * index, a key of an array or an index of an object gives JSONDOC_NONE. */
int jsonrec_get(jsonrec *r, int h, const char *key, size_t klen, size_t index,
                jsondoc_val *out);

/* The number of elements of the array 'h', none of them read (Lua's #
 * of a record object is 0: nothing to count). */
int jsonrec_count(jsonrec *r, int h, size_t *n);

/* Reads every element of the array 'h' as jsondoc_list_members does
 * (scalars in full), only for the errors that raises. */
int jsonrec_read_elements(jsonrec *r, int h);

#ifdef __cplusplus
}
#endif

#endif
