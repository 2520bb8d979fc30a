/*
 * ajson: JSON metadata of the array formats (see ajson.h).
 */
#include "array/ajson.h"

#include <string.h>

#include "array/afile.h"
#include "base/alloc.h"

int ajson_list(ajson *r, const jsondoc_val *v, jsondoc_list **out) {
  jsondoc_src src = {r->text, 1, v->off, v->len, NULL, 0, r->escapes, 0};
  *out = NULL;
  int e = jsondoc_list_members(r->j, &src, out);
  return e ? afile_err(r->err, r->path, "invalid JSON: %s", jsondoc_strerror(e)) : 0;
}

int ajson_open(ajson *r, const char *p, size_t n, const char *path, char *err, jsondoc_list **root) {
  memset(r, 0, sizeof *r);
  r->path = path;
  r->err = err;
  *root = NULL;
  if (memchr(p, 0, n) != NULL) return afile_err(err, path, "invalid JSON: a NUL byte");
  if ((r->text = base_malloc(n + 1)) == NULL || (r->j = jsondoc_new()) == NULL)
    return afile_err(err, path, "not enough memory");
  memcpy(r->text, p, n);
  r->text[n] = 0;
  r->escapes = memchr(p, '\\', n) != NULL;
  jsondoc_val v = {.off = 0, .len = n};
  while (v.len > 0 && strchr(" \t\r\n", r->text[v.len - 1])) v.len--;
  while (v.off < v.len && strchr(" \t\r\n", r->text[v.off])) v.off++;
  v.len -= v.off;
  jsondoc_src src = {r->text, 1, v.off, v.len, NULL, 0, r->escapes, 0};
  int depth, e = jsondoc_validate(r->j, &src, &depth);
  if (e) return afile_err(err, path, "invalid JSON: %s", jsondoc_strerror(e));
  if (v.len == 0 || r->text[v.off] != '{') return afile_err(err, path, "not a JSON object");
  return ajson_list(r, &v, root);
}

void ajson_close(ajson *r) {
  if (r->j) jsondoc_free(r->j);
  base_free(r->text);
  r->j = NULL;
  r->text = NULL;
}

const jsondoc_member *ajson_find(const jsondoc_list *l, const char *key) {
  for (size_t i = 0; i < l->n; i++)
    if (l->m[i].klen == strlen(key) && memcmp(l->m[i].key, key, l->m[i].klen) == 0) return &l->m[i];
  return NULL;
}

int ajson_is(const jsondoc_member *m, const char *s) {
  return m->v.type == JSONDOC_STRING && m->v.n == strlen(s) && memcmp(m->v.s, s, m->v.n) == 0;
}

int ajson_ints(ajson *r, const jsondoc_val *v, const char *what, int64_t min, size_t max, int64_t *out,
               size_t *n) {
  *n = 0;
  if (v->type != JSONDOC_ARRAY) return afile_err(r->err, r->path, "%s is not an array", what);
  jsondoc_list *l;
  if (ajson_list(r, v, &l) != 0) return AFILE_ERR;
  int rc = 0;
  if (l->n > max) rc = afile_err(r->err, r->path, "%s is too long", what);
  for (size_t i = 0; rc == 0 && i < l->n; i++) {
    if (l->m[i].v.type != JSONDOC_INT || l->m[i].v.i < min)
      rc = afile_err(r->err, r->path, "%s holds something else than integers >= %lld", what, (long long)min);
    else out[i] = l->m[i].v.i;
  }
  *n = l->n;
  base_free(l);
  return rc;
}
