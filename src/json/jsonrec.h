/*
 * jsonrec: one JSON record read in place, for programs run in C
 * (pure.h).
 *
 * jsondoc reaches a value by a path from the text's root, and caches
 * parsers for several texts, as Lua records need.  A program reads one
 * record at a time, a few fields of it, and each read starts from an
 * object or array it has read before.  So here each object or array read
 * gets a handle that keeps simdjson's position in it: a read seeks back
 * there (an O(1) reset) and goes forward from it, and nothing is walked
 * from the root again.  Values are read as jsondoc reads them (odread.h),
 * so both give the same answers and fail on the same texts.
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

/* All functions below return 0, or an error (jsondoc_strerror names it);
 * after an error the record can no longer be read.  Values come as
 * jsondoc_val, an object or array with its handle in 'ticket' (the root's
 * is 0).  Strings stay valid until the next jsonrec_open. */

/* Indexes the record 'text'['len'] (an object or array, or an error;
 * the text needs no padding and may change once this returns) and reads
 * its root by type. */
int jsonrec_open(jsonrec *r, const char *text, size_t len, jsondoc_val *root);

/* Reads the member 'key'['klen'] of the object 'h', or with 'key' NULL
 * the element 'index' (0-based) of the array 'h': scalars in full,
 * objects and arrays by type and a new handle.  A missing key or index
 * gives JSONDOC_NONE. */
int jsonrec_get(jsonrec *r, int h, const char *key, size_t klen, size_t index,
                jsondoc_val *out);

/* The number of members of the object or array 'h', none of them read
 * (an object's repeated keys counted each time). */
int jsonrec_count(jsonrec *r, int h, size_t *n);

/* Reads every element of the array 'h' as jsondoc_list_members does
 * (scalars in full), only for the errors that raises. */
int jsonrec_read_elements(jsonrec *r, int h);

#ifdef __cplusplus
}
#endif

#endif
