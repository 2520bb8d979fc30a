/*
 * jsonrec: a record read by walking simdjson's token index, behind the C
 * interface of jsonrec.h.
 *
 * simdjson's stage 1 (the same kernel jsondoc's On-Demand parser runs,
 * picked for the CPU at run time) checks UTF-8 and strings and lists
 * where every token starts.  The walk over that list is written here,
 * not taken from On-Demand, because a program's reads are few and each
 * starts from a container it has already found: a handle is the token
 * where it starts, and reading in it is a short loop over tokens, with no
 * iterator to reset or string buffer to keep.  On-Demand's walk costs
 * several times more per token for the same answers.
 *
 * The record's structure is checked whole when it is opened, as
 * jsondoc does (jsontok.h), and that check notes where each object and
 * array ends: so a walk jumps over them.  Values it reads it checks in
 * full, and reads as jsondoc does: numbers by jsonnum.h, strings and
 * keys without escapes as they stand.  Escapes it leaves to jsondoc.
 * Wherever Lua, reading the record through jsondoc, would raise an
 * error, this refuses, and the caller lets Lua read the record.
 */
#include "jsonrec.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <simdjson.h>

#include "base/alloc.h"
#include "jsonnum.h"
#include "jsontok.h"


struct jsonrec {
  std::unique_ptr<simdjson::internal::dom_parser_implementation> index;
  char *buf = nullptr;            /* the record's copy, padded as stage 1 needs */
  size_t cap = 0, len = 0;
  const uint32_t *tok = nullptr;  /* where each token starts in 'buf' */
  uint32_t ntok = 0;
  uint32_t *next = nullptr;       /* of an open bracket's token: the token after its close */
  size_t nextcap = 0;
  bool escapes = false;           /* the record holds a backslash */
  bool live = false;

  ~jsonrec() {
    base_free(buf);
    base_free(next);
  }
};

/* The first byte of token 'i'. */
static inline unsigned char at(const jsonrec *r, uint32_t i) {
  return (unsigned char)r->buf[r->tok[i]];
}

static inline bool is_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Whether only whitespace lies from 'p' to the token after 'i': where a
 * scalar read must end (the next token is a comma or a closing bracket,
 * the structure is checked), as simdjson checks; stage 1 makes a token
 * of any other byte. */
static bool space_to_next(const jsonrec *r, const char *p, uint32_t i) {
  const char *end = r->buf + r->tok[i + 1];
  for (; p < end; p++)
    if (!is_space((unsigned char)*p)) return false;
  return true;
}

/* The token after the value that starts at token 'i'. */
static inline uint32_t skip_value(const jsonrec *r, uint32_t i) {
  unsigned char c = at(r, i);
  return c == '{' || c == '[' ? r->next[i] : i + 1;
}

/* Whether the raw key at token 'i' is 'key'['klen'].  0 or 1, or -1 when
 * only unescaping it could tell. */
static int key_is(const jsonrec *r, uint32_t i, const char *key, size_t klen) {
  const char *raw = r->buf + r->tok[i] + 1;
  const char *end = r->buf + r->tok[i + 1]; /* the colon */
  if (r->escapes && memchr(raw, '\\', (size_t)(end - raw)) != nullptr) return -1;
  /* without a backslash the raw key is the key, and its one quote closes
   * it: so a 'key' holding a quote never matches, nor does one that
   * would need escaping */
  return (size_t)(end - raw) > klen && (klen == 0 || raw[0] == key[0]) &&
         memcmp(raw, key, klen) == 0 && raw[klen] == '"' && space_to_next(r, raw + klen + 1, i);
}

/* The token of the member 'key' of the object at 'h' into '*v' (0 when
 * there is none). */
static int find_key(const jsonrec *r, uint32_t h, const char *key, size_t klen, uint32_t *v) {
  uint32_t i = h + 1;
  *v = 0;
  if (at(r, i) == '}') return 0;
  for (;;) {
    int eq = key_is(r, i, key, klen);
    if (eq < 0) return -1;
    if (eq) {
      *v = i + 2;
      return 0;
    }
    i = skip_value(r, i + 2);
    if (at(r, i) == '}') return 0;
    i++; /* the comma */
  }
}

/* The token of the element 'index' of the array at 'h' (0 when there
 * is none), or with 'count' the number of elements into it. */
static uint32_t walk_array(const jsonrec *r, uint32_t h, size_t index, size_t *count) {
  uint32_t i = h + 1;
  size_t k = 0;
  while (at(r, i) != ']') {
    if (!count && k == index) return i;
    i = skip_value(r, i);
    k++;
    if (at(r, i) == ',') i++;
  }
  if (count) *count = k;
  return 0;
}

/* The number at token 'i'. */
static int read_number(const jsonrec *r, uint32_t i, jsondoc_val *out) {
  const char *end;
  return jsonnum_read(r->buf + r->tok[i], &end, out) != 0 || !space_to_next(r, end, i) ? -1 : 0;
}

/* The scalar at token 'i' into '*out'. */
static int read_scalar(const jsonrec *r, uint32_t i, jsondoc_val *out) {
  const char *p = r->buf + r->tok[i];
  switch (*p) {
  case '"': {
    const char *end = static_cast<const char *>(memchr(p + 1, '"', (size_t)(r->buf + r->len - p - 1)));
    if (end == nullptr || (r->escapes && memchr(p + 1, '\\', (size_t)(end - p - 1)) != nullptr))
      return -1;
    if (!space_to_next(r, end + 1, i)) return -1;
    out->type = JSONDOC_STRING;
    out->s = p + 1;
    out->n = (size_t)(end - p - 1);
    return 0;
  }
  case 't':
  case 'f':
  case 'n': {
    static const char *const words[] = {"true", "false", "null"};
    int w = *p == 't' ? 0 : *p == 'f' ? 1 : 2;
    size_t n = strlen(words[w]);
    if (strncmp(p, words[w], n) != 0 || !space_to_next(r, p + n, i)) return -1;
    out->type = w == 0 ? JSONDOC_TRUE : w == 1 ? JSONDOC_FALSE : JSONDOC_NULL;
    return 0;
  }
  default:
    return read_number(r, i, out);
  }
}

/* Whether 'h' is the token of an object or array of this record. */
static bool is_container(const jsonrec *r, int h) {
  if (!r->live || h < 0 || (uint32_t)h >= r->ntok) return false;
  unsigned char c = at(r, (uint32_t)h);
  return c == '{' || c == '[';
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
  r->len = len;
  if (len == 0 || len > JSONDOC_MAXSIZE || (text[0] != '{' && text[0] != '[')) return -1;
  size_t need = len + simdjson::SIMDJSON_PADDING;
  if (r->cap < need) {
    base_free(r->buf);
    r->cap = 0;
    if ((r->buf = static_cast<char *>(base_malloc(need))) == nullptr) return -1;
    r->cap = need;
  }
  if (!r->index) {
    if (simdjson::get_active_implementation()->create_dom_parser_implementation(
            len, JSONDOC_MAXDEPTH, r->index))
      return -1;
  } else if (r->index->capacity() < len && r->index->set_capacity(len)) {
    return -1;
  }
  memcpy(r->buf, text, len);
  memset(r->buf + len, 0, simdjson::SIMDJSON_PADDING);
  if (r->index->stage1(reinterpret_cast<const uint8_t *>(r->buf), len,
                       simdjson::stage1_mode::regular))
    return -1;
  uint32_t *tok = r->index->structural_indexes.get();
  r->ntok = r->index->n_structural_indexes;
  /* two tokens more, at the padding (simdjson writes these too, and
   * allocates room for them) */
  tok[r->ntok] = tok[r->ntok + 1] = (uint32_t)len;
  r->tok = tok;
  if (r->nextcap < r->ntok) {
    base_free(r->next);
    r->nextcap = 0;
    if ((r->next = static_cast<uint32_t *>(base_malloc(r->ntok * sizeof *r->next))) == nullptr)
      return -1;
    r->nextcap = r->ntok;
  }
  size_t bad;
  if (jsontok_check(r->buf, len, tok, r->next, &bad) != JSONTOK_OK) return -1;
  r->escapes = memchr(text, '\\', len) != nullptr;
  r->live = true;
  root->type = text[0] == '{' ? JSONDOC_OBJECT : JSONDOC_ARRAY;
  root->ticket = 0;
  return 0;
}

int jsonrec_get(jsonrec *r, int h, const char *key, size_t klen, size_t index,
                jsondoc_val *out) {
  if (!is_container(r, h)) return -1;
  out->type = JSONDOC_NONE;
  out->ticket = 0;
  bool obj = at(r, (uint32_t)h) == '{';
  if ((key != nullptr) != obj) return 0;
  uint32_t v;
  if (!key) v = walk_array(r, (uint32_t)h, index, nullptr);
  else if (find_key(r, (uint32_t)h, key, klen, &v) != 0) return -1;
  if (v == 0) return 0;
  unsigned char c = at(r, v);
  if (c == '{' || c == '[') {
    out->type = c == '{' ? JSONDOC_OBJECT : JSONDOC_ARRAY;
    out->ticket = v;
    return 0;
  }
  return read_scalar(r, v, out);
}

int jsonrec_count(jsonrec *r, int h, size_t *n) {
  *n = 0;
  if (!is_container(r, h) || at(r, (uint32_t)h) != '[') return -1;
  walk_array(r, (uint32_t)h, 0, n);
  return 0;
}

int jsonrec_read_elements(jsonrec *r, int h) {
  if (!is_container(r, h) || at(r, (uint32_t)h) != '[') return -1;
  for (uint32_t i = (uint32_t)h + 1; at(r, i) != ']';) {
    unsigned char c = at(r, i);
    jsondoc_val v;
    if (c != '{' && c != '[' && read_scalar(r, i, &v) != 0) return -1;
    i = skip_value(r, i);
    if (at(r, i) == ',') i++;
  }
  return 0;
}

} /* extern "C" */
