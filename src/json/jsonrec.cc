/*
 * jsonrec: one record read in place with simdjson's On-Demand API, behind
 * the C interface of jsonrec.h.
 *
 * A handle is a cursor (odread.h): simdjson's position at the start of an
 * object or array, and its depth.  Reading in a handle resets the parser
 * to it, which On-Demand allows for any container it has opened, however
 * far the parser has gone since, and then goes forward as jsondoc would
 * from the root.  The parser's string buffer, which only a rewind
 * empties, is emptied before a call whenever the last one unescaped
 * into it; strings that must outlive the call are copied out first.
 * A string without escapes is handed out as it stands in the copy of the
 * text: unescaping would copy the same bytes.
 *
 * Errors are simdjson's codes; nothing here throws (allocations are
 * nothrow) or calls Lua.
 */
#include "jsonrec.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "odread.h"

using namespace odr;

#define MAXHANDLES 65536 /* objects and arrays one record may open */

struct jsonrec {
  od::parser parser;
  od::document doc;
  char *buf = nullptr;    /* the record's copy, padded as simdjson needs */
  size_t cap = 0, len = 0;
  bool escapes = false;   /* the record holds a backslash */
  bool live = false;      /* opened, and no error since */
  cursor *h = nullptr;    /* the handles */
  int nh = 0, caph = 0;
  char *arena = nullptr;  /* unescaped strings handed out */
  size_t used = 0, acap = 0;
  trace tr;               /* since the last rewind */

  ~jsonrec() {
    free(buf);
    delete[] h;
    free(arena);
  }
};

/* Grows 'p' to hold 'need' bytes, keeping none of it. */
static bool reserve(char *&p, size_t &cap, size_t need) {
  if (cap >= need) return true;
  free(p);
  p = static_cast<char *>(malloc(need));
  cap = p ? need : 0;
  return p != nullptr;
}

/* A new handle for the container 'c', or -1 when out of room. */
static int add_handle(jsonrec *r, const cursor &c) {
  if (r->nh == r->caph) {
    if (r->caph >= MAXHANDLES) return -1;
    int cap = r->caph ? 2 * r->caph : 16;
    cursor *h = new (std::nothrow) cursor[cap];
    if (h == nullptr) return -1;
    for (int k = 0; k < r->nh; k++) h[k] = r->h[k];
    delete[] r->h;
    r->h = h;
    r->caph = cap;
  }
  r->h[r->nh] = c;
  return r->nh++;
}

/* Stops reading the record after an error: On-Demand cannot go on. */
static int fail(jsonrec *r, error_code e) {
  r->live = false;
  return (int)e;
}

/* Resets the parser to the start of the handle 'h'. */
static error_code seek(jsonrec *r, int h, cursor *&c) {
  if (!r->live || h < 0 || h >= r->nh) return simdjson::INCORRECT_TYPE;
  if (r->tr.strbytes != 0) {
    r->doc.rewind();
    r->tr = trace();
  }
  c = &r->h[h];
  bool nonempty;
  return c->is_obj ? c->obj.reset().get(nonempty) : c->arr.reset().get(nonempty);
}

/* The string 'v', unescaped: from the text itself when it has no
 * backslash, else copied out of the parser's buffer into the arena. */
static error_code read_string(jsonrec *r, od::value &v, jsondoc_val *out) {
  const char *raw = v.raw_json_token().data();
  if (!r->escapes) {
    /* stage 1 checked the quotes: the next '"' closes the string */
    const char *end = static_cast<const char *>(memchr(raw + 1, '"', (size_t)(r->buf + r->len - raw - 1)));
    out->type = JSONDOC_STRING;
    out->s = raw + 1;
    out->n = (size_t)(end - raw - 1);
    return SUCCESS;
  }
  SIMDJSON_TRY(read_scalar(v, od::json_type::string, raw, r->tr, out));
  if (r->acap - r->used < out->n) return simdjson::MEMALLOC; /* the caller bails */
  char *at = r->arena + r->used;
  memcpy(at, out->s, out->n);
  r->used += out->n;
  out->s = at;
  return SUCCESS;
}

extern "C" {

jsonrec *jsonrec_new(void) {
  return new (std::nothrow) jsonrec();
}

void jsonrec_free(jsonrec *r) {
  delete r;
}

int jsonrec_open(jsonrec *r, const char *text, size_t len, jsondoc_val *root) {
  r->live = false;
  r->nh = 0;
  r->used = 0;
  r->tr = trace();
  r->len = len;
  if (len == 0 || len > JSONDOC_MAXSIZE) return (int)simdjson::CAPACITY;
  /* strings unescaped in one record: at most its length, unless the same
   * ones are read again and again (then the caller bails) */
  if (!reserve(r->buf, r->cap, len + simdjson::SIMDJSON_PADDING) ||
      !reserve(r->arena, r->acap, len < 4096 ? 4096 : len))
    return (int)simdjson::MEMALLOC;
  memcpy(r->buf, text, len);
  memset(r->buf + len, 0, simdjson::SIMDJSON_PADDING);
  error_code e = r->parser.iterate(r->buf, len, r->cap).get(r->doc);
  if (e) return (int)e;
  r->escapes = memchr(text, '\\', len) != nullptr;
  cursor c;
  c.is_obj = r->buf[0] == '{';
  if (c.is_obj) e = r->doc.get_object().get(c.obj);
  else if (r->buf[0] == '[') e = r->doc.get_array().get(c.arr);
  else e = simdjson::INCORRECT_TYPE;
  if (e) return (int)e;
  if (add_handle(r, c) < 0) return (int)simdjson::MEMALLOC;
  root->type = c.is_obj ? JSONDOC_OBJECT : JSONDOC_ARRAY;
  root->ticket = 0;
  r->live = true;
  return 0;
}

int jsonrec_get(jsonrec *r, int h, const char *key, size_t klen, size_t index,
                jsondoc_val *out) {
  cursor *c;
  error_code e = seek(r, h, c);
  if (e) return fail(r, e);
  out->type = JSONDOC_NONE;
  out->ticket = 0;
  if ((key != nullptr) != c->is_obj) return 0; /* a key of an array, or an index of an object */
  od::value v;
  bool found;
  e = key ? find_key(c->obj, key, klen, r->escapes, r->tr, v, found)
          : find_index(c->arr, index, v, found);
  if (e) return fail(r, e);
  if (!found) return 0;
  od::json_type t;
  if ((e = v.type().get(t))) return fail(r, e);
  if (t == od::json_type::object || t == od::json_type::array) {
    cursor inner;
    if ((e = open_value(v, inner))) return fail(r, e);
    int k = add_handle(r, inner);
    if (k < 0) return fail(r, simdjson::MEMALLOC);
    out->type = inner.is_obj ? JSONDOC_OBJECT : JSONDOC_ARRAY;
    out->ticket = (uint64_t)k;
    return 0;
  }
  e = t == od::json_type::string ? read_string(r, v, out)
                                 : read_scalar(v, t, v.raw_json_token().data(), r->tr, out);
  return e ? fail(r, e) : 0;
}

int jsonrec_count(jsonrec *r, int h, size_t *n) {
  cursor *c;
  error_code e = seek(r, h, c);
  *n = 0;
  if (e) return fail(r, e);
  if (c->is_obj) {
    for (auto m : c->obj) {
      od::field f;
      if ((e = std::move(m).get(f))) return fail(r, e);
      (*n)++;
    }
  } else {
    for (auto m : c->arr) { /* iterating skips each element unread */
      od::value v;
      if ((e = m.get(v))) return fail(r, e);
      (*n)++;
    }
  }
  return 0;
}

int jsonrec_read_elements(jsonrec *r, int h) {
  cursor *c;
  error_code e = seek(r, h, c);
  if (e) return fail(r, e);
  if (c->is_obj) return fail(r, simdjson::INCORRECT_TYPE);
  for (auto m : c->arr) {
    od::value v;
    jsondoc_val val;
    if ((e = m.get(v)) || (e = read_value(v, r->tr, &val))) return fail(r, e);
  }
  return 0;
}

} /* extern "C" */
