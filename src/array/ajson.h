/*
 * ajson: the metadata files of the array formats (Zarr's .zarray, the
 * binary format's .darray) read with dusk's JSON reader (json/jsondoc.h):
 * the text validated whole, then objects listed member by member, each
 * nested array or object a view of its own.  Messages name the file.
 */
#ifndef DUSK_AJSON_H
#define DUSK_AJSON_H

#include <stddef.h>
#include <stdint.h>

#include "json/jsondoc.h"

typedef struct ajson {
  jsondoc *j;
  char *text;          /* a NUL-terminated copy of the file's text */
  const char *path;
  int escapes;
  char *err;
} ajson;

/* Opens the text 'p'['n'] of the file 'path' and lists the members of
 * its top-level object in '*root' (base_free it).  Returns 0 or
 * AFILE_ERR; ajson_close in both cases. */
int ajson_open(ajson *r, const char *p, size_t n, const char *path, char *err, jsondoc_list **root);
void ajson_close(ajson *r);
/* The members of the array or object 'v' (base_free the list). */
int ajson_list(ajson *r, const jsondoc_val *v, jsondoc_list **out);
/* The member 'key' of an object's list, or NULL. */
const jsondoc_member *ajson_find(const jsondoc_list *l, const char *key);
/* Whether 'm' is the string 's'. */
int ajson_is(const jsondoc_member *m, const char *s);
/* The integers (each at least 'min', at most 'max' of them) of the
 * array 'v' into 'out', their number in '*n'; 'what' names 'v' in
 * messages. */
int ajson_ints(ajson *r, const jsondoc_val *v, const char *what, int64_t min, size_t max, int64_t *out,
               size_t *n);

#endif
