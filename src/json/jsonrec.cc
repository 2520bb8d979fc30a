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
 * What the walk passes over it checks strictly (brackets of the right
 * kind, keys, colons and commas where JSON puts them), which On-Demand
 * does only in part: so wherever Lua, reading the record through
 * jsondoc, would raise an error, this refuses, and the caller lets Lua
 * read the record.  Values it reads it checks in full, and reads as
 * jsondoc does: numbers by jsonnum.h, strings and keys without escapes
 * as they stand.  Escapes it leaves to jsondoc.
 */
#include "jsonrec.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <simdjson.h>

#include "jsonnum.h"


struct jsonrec {
  std::unique_ptr<simdjson::internal::dom_parser_implementation> index;
  char *buf = nullptr;            /* the record's copy, padded as stage 1 needs */
  size_t cap = 0, len = 0;
  const uint32_t *tok = nullptr;  /* where each token starts in 'buf' */
  uint32_t ntok = 0;
  bool escapes = false;           /* the record holds a backslash */
  bool live = false;

  ~jsonrec() { free(buf); }
};

/* The first byte of token 'i'.  Tokens ntok and ntok + 1 are the
 * padding's first byte, 0, which no token starts with: so a walk stops
 * there, and never looks further (see jsonrec_open). */
static inline unsigned char at(const jsonrec *r, uint32_t i) {
  return (unsigned char)r->buf[r->tok[i]];
}

static inline bool is_space(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* What a token is, by its first byte: the brackets, separators, strings,
 * other scalars (by the bytes JSON's may start with), or no JSON token.
 * A close bracket is its open bracket + 2. */
enum { T_BAD, T_SCALAR, T_OBJ, T_ARR, T_OBJ_END, T_ARR_END, T_COMMA, T_COLON, T_STRING };

static const struct token_classes {
  unsigned char t[256];
  constexpr token_classes() : t() {
    for (int c = '0'; c <= '9'; c++) t[c] = T_SCALAR;
    t['-'] = t['t'] = t['f'] = t['n'] = T_SCALAR;
    t['{'] = T_OBJ;
    t['['] = T_ARR;
    t['}'] = T_OBJ_END;
    t[']'] = T_ARR_END;
    t[','] = T_COMMA;
    t[':'] = T_COLON;
    t['"'] = T_STRING;
  }
} classes;

/* Whether only whitespace lies from 'p' to the token after 'i'. */
static bool space_to_next(const jsonrec *r, const char *p, uint32_t i) {
  const char *end = r->buf + r->tok[i + 1];
  for (; p < end; p++)
    if (!is_space((unsigned char)*p)) return false;
  return true;
}

/* Whether the value at token 'i' ends at 'p': only whitespace up to the
 * next token, a comma or a closing bracket (as simdjson checks what
 * follows a scalar; stage 1 makes a token of any other byte). */
static bool ends_value(const jsonrec *r, const char *p, uint32_t i) {
  unsigned char next = at(r, i + 1);
  return (next == ',' || next == ']' || next == '}') && space_to_next(r, p, i);
}

/* The token after the value that starts at token 'i', or 0 when the
 * value is not well-formed or nests deeper than 64 (scalars are passed
 * over unread, as On-Demand does). */
static uint32_t skip_value(const jsonrec *r, uint32_t i) {
  const char *buf = r->buf;
  const uint32_t *tok = r->tok;
  auto cls = [buf, tok](uint32_t k) { return classes.t[(unsigned char)buf[tok[k]]]; };
  int c = cls(i);
  uint64_t objects = 0; /* a bit a level, the innermost lowest: an object? */
  int depth = 0;
  for (;;) {
    if (c == T_OBJ || c == T_ARR) {
      int next = cls(++i);
      if (next == c + 2) { /* empty */
        i++;
      } else {
        if (depth == 64) return 0;
        objects = objects << 1 | (c == T_OBJ);
        depth++;
        if (c == T_OBJ) {
          if (next != T_STRING || cls(i + 1) != T_COLON) return 0;
          i += 2;
        }
        c = cls(i);
        continue;
      }
    } else if (c == T_STRING || c == T_SCALAR) {
      i++;
    } else {
      return 0;
    }
    /* after a value: a comma, or closing brackets */
    for (;;) {
      if (depth == 0) return i;
      int next = cls(i);
      if (next == T_COMMA) {
        i++;
        if (objects & 1) {
          if (cls(i) != T_STRING || cls(i + 1) != T_COLON) return 0;
          i += 2;
        }
        break;
      }
      if (next != ((objects & 1) ? T_OBJ_END : T_ARR_END)) return 0;
      objects >>= 1;
      depth--;
      i++;
    }
    c = cls(i);
  }
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
    if (at(r, i) != '"' || at(r, i + 1) != ':') return -1;
    int eq = key_is(r, i, key, klen);
    if (eq < 0) return -1;
    if (eq) {
      *v = i + 2;
      return 0;
    }
    if ((i = skip_value(r, i + 2)) == 0) return -1;
    if (at(r, i) == '}') return 0;
    if (at(r, i) != ',') return -1;
    i++;
  }
}

/* The token of the element 'index' of the array at 'h' into '*v' (0
 * when there is none), or with 'count' the number of elements. */
static int walk_array(const jsonrec *r, uint32_t h, size_t index, uint32_t *v, size_t *count) {
  uint32_t i = h + 1;
  size_t k = 0;
  *v = 0;
  if (at(r, i) != ']') {
    for (;; k++) {
      if (!count && k == index) {
        if (at(r, i) == ',' || at(r, i) == ']' || at(r, i) == '}' || at(r, i) == ':') return -1;
        *v = i;
        return 0;
      }
      if ((i = skip_value(r, i)) == 0) return -1;
      if (at(r, i) == ']') {
        k++;
        break;
      }
      if (at(r, i) != ',') return -1;
      i++;
    }
  }
  if (count) *count = k;
  return 0;
}

/* The number at token 'i'. */
static int read_number(const jsonrec *r, uint32_t i, jsondoc_val *out) {
  const char *end;
  return jsonnum_read(r->buf + r->tok[i], &end, out) != 0 || !ends_value(r, end, i) ? -1 : 0;
}

/* The scalar at token 'i' into '*out'. */
static int read_scalar(const jsonrec *r, uint32_t i, jsondoc_val *out) {
  const char *p = r->buf + r->tok[i];
  switch (*p) {
  case '"': {
    const char *end = static_cast<const char *>(memchr(p + 1, '"', (size_t)(r->buf + r->len - p - 1)));
    if (end == nullptr || (r->escapes && memchr(p + 1, '\\', (size_t)(end - p - 1)) != nullptr))
      return -1;
    if (!ends_value(r, end + 1, i)) return -1;
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
    if (strncmp(p, words[w], n) != 0 || !ends_value(r, p + n, i)) return -1;
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
    free(r->buf);
    r->cap = 0;
    if ((r->buf = static_cast<char *>(malloc(need))) == nullptr) return -1;
    r->cap = need;
  }
  if (!r->index) {
    if (simdjson::get_active_implementation()->create_dom_parser_implementation(len, 64,
                                                                                r->index))
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
  /* the root closes at the last token, as On-Demand checks */
  unsigned char close = text[0] == '{' ? '}' : ']';
  if (r->ntok < 2 || r->tok[0] != 0 || at(r, r->ntok - 1) != close) return -1;
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
  if (key) {
    if (find_key(r, (uint32_t)h, key, klen, &v) != 0) return -1;
  } else if (walk_array(r, (uint32_t)h, index, &v, nullptr) != 0) {
    return -1;
  }
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
  uint32_t v;
  return walk_array(r, (uint32_t)h, 0, &v, n);
}

int jsonrec_read_elements(jsonrec *r, int h) {
  if (!is_container(r, h) || at(r, (uint32_t)h) != '[') return -1;
  uint32_t i = (uint32_t)h + 1;
  if (at(r, i) == ']') return 0;
  for (;;) {
    unsigned char c = at(r, i);
    jsondoc_val v;
    if (c != '{' && c != '[' && read_scalar(r, i, &v) != 0) return -1;
    if ((i = skip_value(r, i)) == 0) return -1;
    if (at(r, i) == ']') return 0;
    if (at(r, i) != ',') return -1;
    i++;
  }
}

} /* extern "C" */
