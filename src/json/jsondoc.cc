/*
 * jsondoc: simdjson's On-Demand parser behind the C interface of
 * jsondoc.h.  It keeps C++ to itself: errors are simdjson's error codes
 * (exceptions only for std::bad_alloc, caught at every entry), and
 * nothing here calls Lua, so no longjmp crosses it.
 *
 * Two slots each hold a parser and a padded copy of the view it indexed
 * last (stage 1), used least recently first: a record read alongside its
 * elements keeps its index.  A slot is dropped after any error (a failed document cannot
 * be rewound).  On-Demand only goes forward, so a call rewinds and walks
 * from the view's start, unless it reads inside the object or array the
 * previous call on the slot returned (its ticket): r.a.b[1].c reads
 * the text once.  The builtin implementation (the On-Demand
 * walk) is whatever the compiler flags allow, but stage 1 picks the best
 * kernel for the CPU at run time.
 */
#include "jsondoc.h"

#include <simdjson.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/alloc.h"
#include "base/varint.h"
#include "jsonnum.h"
#include "jsontok.h"

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;


namespace {

/* An object or array being read. */
struct cursor {
  bool is_obj = false;
  od::object obj;
  od::array arr;
};

/* A container returned, kept to read in it again (see open_view). */
struct mark {
  uint64_t ticket = 0;
  cursor c;
};

#define NMARKS 8

struct slot {
  od::parser parser;
  od::document doc;
  std::unique_ptr<char[]> buf; /* the view's copy, padded as simdjson needs */
  size_t cap = 0;
  cursor resume;   /* the container last returned, opened: where 'doc' stands */
  uint64_t ticket = 0; /* names 'resume' until the slot is used again */
  mark marks[NMARKS]; /* the last containers returned in this view */
  unsigned nmarks = 0;
  size_t strbytes = 0; /* string bytes unescaped since the last rewind */
  uint64_t id = 0, used = 0;
  size_t off = 0, len = 0;
  bool live = false;
};

/* Members gathered by jsondoc_list_members: strings are views into the
 * text or the parser's buffer until packed.  Kept between calls. */
struct gathered {
  std::vector<jsondoc_member> m;
  std::vector<std::string_view> keys, strs;
  std::unordered_set<std::string_view> seen;

  void clear() {
    m.clear();
    keys.clear();
    strs.clear();
    seen.clear();
  }
};

} // namespace

struct jsondoc {
  slot slots[2];
  slot *cur = nullptr; /* the slot of the call under way */
  gathered g;
  uint64_t clock = 0;
  const char *at = nullptr; /* the value being read, for error positions */
  size_t errpos = 0;
  bool pos_set = false;
};

static bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static bool is_structural(char c) {
  return c == ',' || c == ':' || c == '[' || c == ']' || c == '{' || c == '}';
}

/* Back from 'p' over whitespace. */
static const char *trim_back(const char *p) {
  while (is_space(p[-1])) p--;
  return p;
}

/* The end of a member's value, from the start of what follows it: the
 * next member ('p' after a comma) or the closing bracket. */
static const char *value_end(const char *p) {
  p = trim_back(p);
  if (p[-1] == ',') p = trim_back(p - 1);
  return p;
}

/* The offset in the text of 'p', a pointer into the slot's copy. */
static size_t where(const slot *s, const jsondoc_src *src, const char *p) {
  return src->off + (size_t)(p - s->buf.get());
}

/* Offset of the first byte of 's'[0..n) that is not valid UTF-8. */
static size_t utf8_error_at(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i];
    size_t k;
    unsigned min, cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; min = 0x10000; }
    else return i;
    if (n - i <= k) return i;
    for (size_t m = 1; m <= k; m++) {
      if ((s[i + m] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + m] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += k + 1;
  }
  return n;
}

/* Where stage 1 found 'e' in 's'[0..n): simdjson does not say. */
static size_t stage1_error_at(const char *s, size_t n, error_code e) {
  if (e == simdjson::UTF8_ERROR)
    return utf8_error_at(reinterpret_cast<const unsigned char *>(s), n);
  size_t open = 0;
  bool in = false;
  for (size_t i = 0; i < n; i++) {
    if (in) {
      if (s[i] == '\\') i++;
      else if (s[i] == '"') in = false;
      else if ((unsigned char)s[i] < 0x20 && e == simdjson::UNESCAPED_CHARS) return i;
    } else if (s[i] == '"') {
      in = true;
      open = i;
    }
  }
  return in ? open : 0;
}

/* The document's token index: stage 1's, which simdjson keeps to the
 * iterator, a protected member (reached as a member pointer may). */
struct doc_tokens : od::document {
  static const uint32_t *of(const od::document &d) {
    return (d.*(&doc_tokens::iter)).root_position();
  }
};

/* The structure of the view just indexed in 's', checked whole (see
 * jsontok.h): the readers only look at what they read. */
static error_code check_tokens(slot *s, size_t len, size_t *bad) {
  switch (jsontok_check(s->buf.get(), len, doc_tokens::of(s->doc), nullptr, bad)) {
  case JSONTOK_OK: return SUCCESS;
  case JSONTOK_VALUE: return simdjson::INCORRECT_TYPE;
  case JSONTOK_UNCLOSED: return simdjson::INCOMPLETE_ARRAY_OR_OBJECT;
  case JSONTOK_TRAILING: return simdjson::TRAILING_CONTENT;
  case JSONTOK_DEPTH: return simdjson::DEPTH_ERROR;
  default: return simdjson::TAPE_ERROR;
  }
}

/* Adds the container 'c' under 'ticket' to the slot's marks. */
static void add_mark(slot *s, uint64_t ticket, const cursor &c) {
  mark &m = s->marks[s->nmarks++ % NMARKS];
  m.ticket = ticket;
  m.c = c;
}

/* The slot holding the view's index, or a slot that indexed it now; its
 * document rewound unless 'ticket' names a container to read in
 * ('*resumed', the container in s->resume).  The container last returned
 * is where the parser stands; an earlier one (a mark) is sought with
 * reset(), which does not walk from the root but unescapes strings anew
 * into the parser's buffer, which only a rewind empties: so marks are
 * used while the strings unescaped since the rewind stay under half the
 * view (the buffer holds 5/3 of it and padding). */
static error_code open_view(jsondoc *j, const jsondoc_src *src, uint64_t ticket, slot **out,
                            bool *resumed) {
  slot *hit = nullptr, *old = &j->slots[0];
  for (slot &s : j->slots) {
    if (s.live && s.id == src->id && s.off == src->off && s.len == src->len) hit = &s;
    if (s.used < old->used) old = &s;
  }
  j->clock++;
  *resumed = false;
  if (hit) {
    j->cur = hit;
    hit->used = j->clock;
    *out = hit;
    *resumed = ticket != 0 && ticket == hit->ticket;
    hit->ticket = 0;
    if (*resumed) return SUCCESS;
    if (ticket != 0 && hit->strbytes <= hit->len / 2) {
      unsigned n = hit->nmarks < NMARKS ? hit->nmarks : NMARKS;
      for (unsigned k = 0; k < n; k++) {
        mark &m = hit->marks[k];
        if (m.ticket != ticket) continue;
        hit->resume = m.c;
        bool nonempty;
        error_code e = m.c.is_obj ? hit->resume.obj.reset().get(nonempty)
                                  : hit->resume.arr.reset().get(nonempty);
        if (e) return e;
        *resumed = true;
        return SUCCESS;
      }
    }
    hit->doc.rewind();
    hit->strbytes = 0;
    return SUCCESS;
  }
  *out = old;
  j->cur = old;
  old->live = false;
  old->ticket = 0;
  old->nmarks = 0;
  old->strbytes = 0;
  old->used = j->clock;
  const char *view = src->base + src->off;
  size_t need = src->len + simdjson::SIMDJSON_PADDING;
  if (old->cap < need) {
    old->buf.reset();
    old->cap = 0;
    old->buf.reset(new char[need]);
    old->cap = need;
  }
  memcpy(old->buf.get(), view, src->len);
  memset(old->buf.get() + src->len, 0, simdjson::SIMDJSON_PADDING);
  error_code e = old->parser.iterate(old->buf.get(), src->len, old->cap).get(old->doc);
  size_t bad = 0;
  if (e) bad = stage1_error_at(view, src->len, e);
  else e = check_tokens(old, src->len, &bad);
  if (e) {
    j->errpos = src->off + bad;
    j->pos_set = true;
    return e;
  }
  old->id = src->id;
  old->off = src->off;
  old->len = src->len;
  old->live = true;
  return SUCCESS;
}

/* Ends a call: an error gets its position and drops the slot. */
static int finish(jsondoc *j, slot *s, const jsondoc_src *src, error_code e) {
  if (e == SUCCESS) return 0;
  if (!j->pos_set) {
    const char *p = s != nullptr ? j->at : nullptr;
    if (p == nullptr && s != nullptr && s->live) {
      const char *loc;
      if (s->doc.current_location().get(loc) == SUCCESS) p = loc;
    }
    j->errpos = p ? where(s, src, p) : src->off + src->len;
  }
  if (s != nullptr) s->live = false;
  return (int)e;
}

static void begin(jsondoc *j) {
  j->cur = nullptr;
  j->at = nullptr;
  j->pos_set = false;
}

/* A scalar (an od::value, or the document when the view is a scalar). */
template <class V>
static error_code read_scalar(jsondoc *j, V &v, od::json_type t, const char *tok,
                              jsondoc_val *out) {
  /* A view that is a scalar is one token, and the scalar must end where
   * it does: stage 1 makes one token of 'null"{"' or "false'", and
   * simdjson's checks of a root scalar pass over such bytes. */
  const char *root = nullptr;
  if constexpr (std::is_same_v<V, od::document>) root = j->cur->buf.get() + j->cur->len;
  j->at = tok;
  switch (t) {
  case od::json_type::string: {
    std::string_view s;
    SIMDJSON_TRY(v.get_string().get(s));
    if (j->cur != nullptr) j->cur->strbytes += s.size() + 1;
    out->type = JSONDOC_STRING;
    out->s = s.data();
    out->n = s.size();
    break;
  }
  case od::json_type::number: {
    /* read by jsonnum (simdjson's own reading is wrong for long numbers) */
    const char *end;
    if (jsonnum_read(tok, &end, out) != 0) return simdjson::NUMBER_ERROR;
    if (root ? end != root : !is_space(*end) && !is_structural(*end))
      return simdjson::NUMBER_ERROR;
    break;
  }
  case od::json_type::boolean: {
    bool b;
    if (v.get_bool().get(b) || (root && tok + (b ? 4 : 5) != root)) return simdjson::T_ATOM_ERROR;
    out->type = b ? JSONDOC_TRUE : JSONDOC_FALSE;
    break;
  }
  case od::json_type::null: {
    bool null;
    if (v.is_null().get(null) || !null || (root && tok + 4 != root)) return simdjson::N_ATOM_ERROR;
    out->type = JSONDOC_NULL;
    break;
  }
  default:
    return simdjson::INCORRECT_TYPE;
  }
  j->at = nullptr;
  return SUCCESS;
}

/* A member's value: scalars in full, objects and arrays by type (left
 * unread: the next step of the iteration skips them). */
static error_code read_value(jsondoc *j, od::value &v, jsondoc_val *out) {
  od::json_type t;
  SIMDJSON_TRY(v.type().get(t));
  if (t == od::json_type::object) out->type = JSONDOC_OBJECT;
  else if (t == od::json_type::array) out->type = JSONDOC_ARRAY;
  else return read_scalar(j, v, t, v.raw_json_token().data(), out);
  return SUCCESS;
}

static error_code open_root(slot *s, const char *view, cursor &c) {
  c.is_obj = view[0] == '{';
  if (c.is_obj) return s->doc.get_object().get(c.obj);
  return s->doc.get_array().get(c.arr);
}

static error_code open_value(od::value &v, cursor &c) {
  od::json_type t;
  SIMDJSON_TRY(v.type().get(t));
  c.is_obj = t == od::json_type::object;
  if (c.is_obj) return v.get_object().get(c.obj);
  if (t == od::json_type::array) return v.get_array().get(c.arr);
  return simdjson::INCORRECT_TYPE;
}

/* The bytes a JSON string cannot hold as they are: '"', '\\' and the
 * control characters. */
static const struct escape_table {
  bool t[256];
  constexpr escape_table() : t() {
    for (int c = 0; c < 0x20; c++) t[c] = true;
    t['"'] = t['\\'] = true;
  }
  bool operator[](unsigned char c) const { return t[c]; }
} needs_escape;

/* Whether the raw key at 'raw' (after its quote) holds an escape. */
static bool has_escape(const char *raw) {
  while (*raw != '"' && *raw != '\\') raw++;
  return *raw == '\\';
}

/* Moves to the first member 'key' of the object.  Raw keys compare as
 * bytes (simdjson's find_field) when neither they nor 'key' can hold an
 * escape; otherwise escaped raw keys are unescaped to compare. */
static error_code find_key(jsondoc *j, const jsondoc_src *src, od::object &obj, const char *key,
                           size_t klen, od::value &out, bool &found) {
  bool plain = true; /* then a raw key equal to it has no escape */
  for (size_t i = 0; i < klen && plain; i++) plain = !needs_escape[(unsigned char)key[i]];
  found = false;
  if (plain && !src->escapes) {
    error_code e = obj.find_field(std::string_view(key, klen)).get(out);
    if (e == simdjson::NO_SUCH_FIELD) return SUCCESS;
    found = e == SUCCESS;
    return e;
  }
  for (auto r : obj) {
    od::field f;
    SIMDJSON_TRY(std::move(r).get(f));
    const char *raw = f.key().raw();
    bool eq = false;
    if (plain) {
      size_t i = 0;
      while (i < klen && raw[i] == key[i]) i++; /* stops at raw's closing quote */
      eq = i == klen && raw[i] == '"';
    }
    if (!eq && has_escape(raw)) {
      std::string_view k;
      j->at = raw - 1;
      SIMDJSON_TRY(f.unescaped_key().get(k));
      if (j->cur != nullptr) j->cur->strbytes += k.size() + 1;
      j->at = nullptr;
      eq = k == std::string_view(key, klen);
    }
    if (eq) {
      out = f.value();
      found = true;
      return SUCCESS;
    }
  }
  return SUCCESS;
}

static error_code find_index(od::array &arr, size_t index, od::value &out, bool &found) {
  found = false;
  size_t i = 0;
  for (auto r : arr) {
    SIMDJSON_TRY(r.error());
    if (i++ == index) {
      out = r.value_unsafe();
      found = true;
      break;
    }
  }
  return SUCCESS;
}

/* A path's varint (jsondoc_step wrote it: never cut short). */
static size_t get_varint(const unsigned char *&p, const unsigned char *end) {
  uint64_t v = 0;
  if (varint_get(&p, end, &v) <= 0) p = end;
  return (size_t)v;
}

/* Takes the path step at 'p' in the container 'c'. */
static error_code take_step(jsondoc *j, const jsondoc_src *src, cursor &c,
                            const unsigned char *&p, const unsigned char *end, od::value &v,
                            bool &found) {
  int kind = *p++;
  size_t n = get_varint(p, end);
  if (kind == JSONDOC_KEY) {
    if (!c.is_obj || n > (size_t)(end - p)) return simdjson::INCORRECT_TYPE;
    const char *key = reinterpret_cast<const char *>(p);
    p += n;
    return find_key(j, src, c.obj, key, n, v, found);
  }
  if (c.is_obj) return simdjson::INCORRECT_TYPE;
  return find_index(c.arr, n, v, found);
}

/* Walks from the view's root along the path up to 'stop', into the
 * container reached. */
static error_code walk(jsondoc *j, slot *s, const jsondoc_src *src,
                       const unsigned char *stop, cursor &c) {
  SIMDJSON_TRY(open_root(s, s->buf.get(), c));
  const unsigned char *p = src->path;
  while (p < stop) {
    od::value v;
    bool found;
    SIMDJSON_TRY(take_step(j, src, c, p, stop, v, found));
    if (!found) return simdjson::NO_SUCH_FIELD; /* paths come from this text */
    SIMDJSON_TRY(open_value(v, c));
  }
  return SUCCESS;
}

/* The container at 'src': where the document stands when resumed. */
static error_code reach(jsondoc *j, slot *s, const jsondoc_src *src, bool resumed, cursor &c) {
  if (resumed) {
    c = s->resume;
    return SUCCESS;
  }
  return walk(j, s, src, src->path + src->pathlen, c);
}

/* Opens the container 'v' just returned, for the next call to resume. */
static error_code keep(jsondoc *j, slot *s, od::value &v, jsondoc_val *out) {
  SIMDJSON_TRY(open_value(v, s->resume));
  s->ticket = out->ticket = j->clock;
  add_mark(s, s->ticket, s->resume);
  return SUCCESS;
}

/* Reads every member of 'c' to its end, skipping nested values. */
static error_code skip_members(cursor &c) {
  if (c.is_obj) {
    for (auto r : c.obj) SIMDJSON_TRY(r.error());
  } else {
    for (auto r : c.arr) SIMDJSON_TRY(r.error());
  }
  return SUCCESS;
}

/* Just after the closing bracket of the container 'c' has been read. */
static const char *after_close(slot *s, const jsondoc_src *src) {
  const char *loc;
  if (s->doc.current_location().get(loc) != SUCCESS) return s->buf.get() + src->len;
  return trim_back(loc);
}

extern "C" {

size_t jsondoc_step(unsigned char *out, const char *key, size_t klen, size_t index) {
  size_t n = 1;
  out[0] = key ? JSONDOC_KEY : JSONDOC_INDEX;
  n += varint_put(out + n, key ? klen : index);
  if (key) memcpy(out + n, key, klen);
  return n + (key ? klen : 0);
}

jsondoc *jsondoc_new(void) {
  return new (std::nothrow) jsondoc();
}

void jsondoc_free(jsondoc *j) {
  delete j;
}

int jsondoc_open(jsondoc *j, const jsondoc_src *src, jsondoc_val *out) {
  begin(j);
  slot *s = nullptr;
  try {
    bool resumed;
    error_code e = open_view(j, src, 0, &s, &resumed);
    out->ticket = 0;
    if (e == SUCCESS) {
      const char *view = s->buf.get();
      out->off = src->off;
      out->len = src->len;
      if (view[0] == '{' || view[0] == '[') {
        e = open_root(s, view, s->resume);
        out->type = s->resume.is_obj ? JSONDOC_OBJECT : JSONDOC_ARRAY;
        if (e == SUCCESS) {
          s->ticket = out->ticket = j->clock;
          add_mark(s, s->ticket, s->resume);
        }
      } else {
        od::json_type t;
        e = s->doc.type().get(t);
        if (e == SUCCESS) e = read_scalar(j, s->doc, t, view, out);
      }
    }
    return finish(j, s, src, e);
  } catch (const std::bad_alloc &) {
    return finish(j, s, src, simdjson::MEMALLOC);
  }
}

int jsondoc_get(jsondoc *j, const jsondoc_src *src, const char *key, size_t klen,
                size_t index, jsondoc_val *out) {
  begin(j);
  slot *s = nullptr;
  try {
    cursor c;
    od::value v;
    bool found = false, resumed;
    error_code e = open_view(j, src, src->ticket, &s, &resumed);
    if (e == SUCCESS) e = reach(j, s, src, resumed, c);
    if (e == SUCCESS && (key != nullptr) == c.is_obj)
      e = key ? find_key(j, src, c.obj, key, klen, v, found) : find_index(c.arr, index, v, found);
    out->type = JSONDOC_NONE;
    out->ticket = 0;
    if (e == SUCCESS && found) e = read_value(j, v, out);
    if (e == SUCCESS && (out->type == JSONDOC_OBJECT || out->type == JSONDOC_ARRAY))
      e = keep(j, s, v, out);
    return finish(j, s, src, e);
  } catch (const std::bad_alloc &) {
    return finish(j, s, src, simdjson::MEMALLOC);
  }
}


/* Whether 'key' is new among the object's keys so far. */
static bool first_time(gathered &g, std::string_view key) {
  if (g.keys.size() < 16) {
    for (std::string_view k : g.keys)
      if (k == key) return false;
    return true;
  }
  if (g.seen.empty()) g.seen.insert(g.keys.begin(), g.keys.end()); /* from now on, a set */
  return g.seen.insert(key).second;
}

static error_code check_container(jsondoc *j, cursor &c, int level, int *deepest);

/* Appends the member whose value is 'v'; 'next' is where the member
 * starts (its key, in an object), which ends the one before.  A repeated
 * key leaves a placeholder (JSONDOC_NONE), dropped when packing. */
static error_code add_member(jsondoc *j, gathered &g, const slot *s, const jsondoc_src *src,
                             od::value &v, const char *next, bool repeated) {
  if (!g.m.empty()) g.m.back().v.len = where(s, src, value_end(next)) - g.m.back().v.off;
  jsondoc_member m{};
  m.v.off = where(s, src, v.raw_json_token().data());
  if (repeated) {
    /* a repeated key's value is read only for its errors, all of it */
    jsondoc_val dropped;
    SIMDJSON_TRY(read_value(j, v, &dropped));
    if (dropped.type == JSONDOC_OBJECT || dropped.type == JSONDOC_ARRAY) {
      cursor c;
      int deepest = 0;
      SIMDJSON_TRY(open_value(v, c));
      SIMDJSON_TRY(check_container(j, c, 1, &deepest));
    }
  } else {
    SIMDJSON_TRY(read_value(j, v, &m.v));
  }
  g.m.push_back(m);
  g.strs.push_back(m.v.type == JSONDOC_STRING ? std::string_view(m.v.s, m.v.n)
                                              : std::string_view());
  return SUCCESS;
}

static error_code gather(jsondoc *j, slot *s, const jsondoc_src *src, cursor &c, gathered &g) {
  if (c.is_obj) {
    for (auto r : c.obj) {
      od::field f;
      SIMDJSON_TRY(std::move(r).get(f));
      const char *raw = f.key().raw();
      std::string_view key;
      if (has_escape(raw)) {
        j->at = raw - 1;
        SIMDJSON_TRY(f.unescaped_key().get(key));
        j->at = nullptr;
      } else {
        key = std::string_view(raw, (size_t)(strchr(raw, '"') - raw));
      }
      bool repeated = !first_time(g, key);
      g.keys.push_back(key);
      SIMDJSON_TRY(add_member(j, g, s, src, f.value(), raw - 1, repeated));
    }
  } else {
    for (auto r : c.arr) {
      od::value v;
      SIMDJSON_TRY(r.get(v));
      SIMDJSON_TRY(add_member(j, g, s, src, v, v.raw_json_token().data(), false));
    }
  }
  if (!g.m.empty()) {
    const char *close = after_close(s, src) - 1; /* the closing bracket */
    g.m.back().v.len = where(s, src, trim_back(close)) - g.m.back().v.off;
  }
  return SUCCESS;
}

/* One allocation: the list, its members, then their strings. */
static jsondoc_list *pack(gathered &g) {
  size_t n = 0, bytes = 0;
  for (size_t i = 0; i < g.m.size(); i++) {
    if (g.m[i].v.type == JSONDOC_NONE) continue;
    n++;
    bytes += g.strs[i].size() + (i < g.keys.size() ? g.keys[i].size() : 0);
  }
  size_t head = sizeof(jsondoc_list) + n * sizeof(jsondoc_member);
  jsondoc_list *l = static_cast<jsondoc_list *>(base_malloc(head + bytes + 1));
  if (l == nullptr) return nullptr;
  l->n = n;
  l->m = reinterpret_cast<jsondoc_member *>(l + 1);
  char *p = reinterpret_cast<char *>(l) + head;
  size_t k = 0;
  for (size_t i = 0; i < g.m.size(); i++) {
    if (g.m[i].v.type == JSONDOC_NONE) continue;
    jsondoc_member &m = l->m[k++];
    m = g.m[i];
    if (i < g.keys.size()) {
      memcpy(p, g.keys[i].data(), g.keys[i].size());
      m.key = p;
      m.klen = g.keys[i].size();
      p += m.klen;
    }
    if (m.v.type == JSONDOC_STRING) {
      memcpy(p, g.strs[i].data(), g.strs[i].size());
      m.v.s = p;
      p += m.v.n;
    }
  }
  return l;
}

int jsondoc_list_members(jsondoc *j, const jsondoc_src *src, jsondoc_list **out) {
  begin(j);
  slot *s = nullptr;
  try {
    cursor c;
    gathered &g = j->g;
    bool resumed;
    *out = nullptr;
    g.clear();
    error_code e = open_view(j, src, src->ticket, &s, &resumed);
    if (e == SUCCESS) e = reach(j, s, src, resumed, c);
    if (e == SUCCESS) e = gather(j, s, src, c, g);
    if (e == SUCCESS && (*out = pack(g)) == nullptr) e = simdjson::MEMALLOC;
    if (g.m.capacity() > 4096) j->g = gathered(); /* keep no huge buffers */
    return finish(j, s, src, e);
  } catch (const std::bad_alloc &) {
    return finish(j, s, src, simdjson::MEMALLOC);
  }
}

int jsondoc_count(jsondoc *j, const jsondoc_src *src, size_t *n) {
  begin(j);
  slot *s = nullptr;
  try {
    cursor c;
    bool resumed;
    *n = 0;
    error_code e = open_view(j, src, src->ticket, &s, &resumed);
    if (e == SUCCESS) e = reach(j, s, src, resumed, c);
    if (e == SUCCESS && c.is_obj) {
      for (auto r : c.obj) {
        od::field f;
        if ((e = std::move(r).get(f)) != SUCCESS) break;
        (*n)++;
      }
    } else if (e == SUCCESS) {
      for (auto r : c.arr) { /* iterating skips each element unread */
        od::value v;
        if ((e = r.get(v)) != SUCCESS) break;
        (*n)++;
      }
    }
    return finish(j, s, src, e);
  } catch (const std::bad_alloc &) {
    return finish(j, s, src, simdjson::MEMALLOC);
  }
}

int jsondoc_extent(jsondoc *j, const jsondoc_src *src, size_t *off, size_t *len) {
  begin(j);
  if (src->pathlen == 0) {
    *off = src->off;
    *len = src->len;
    return 0;
  }
  slot *s = nullptr;
  try {
    const unsigned char *last = src->path, *end = src->path + src->pathlen;
    for (const unsigned char *p = src->path; p < end;) { /* find the last step */
      last = p++;
      size_t n = get_varint(p, end);
      if (*last == JSONDOC_KEY) p += n;
    }
    cursor c;
    od::value v;
    bool found = false, resumed;
    error_code e = open_view(j, src, 0, &s, &resumed);
    if (e == SUCCESS) e = walk(j, s, src, last, c);
    if (e == SUCCESS) e = take_step(j, src, c, last, end, v, found);
    if (e == SUCCESS && !found) e = simdjson::NO_SUCH_FIELD;
    if (e == SUCCESS) {
      std::string_view tok = v.raw_json_token();
      cursor inner;
      *off = where(s, src, tok.data());
      e = open_value(v, inner);
      if (e == SUCCESS) e = skip_members(inner);
      if (e == SUCCESS) *len = where(s, src, after_close(s, src)) - *off;
    }
    return finish(j, s, src, e);
  } catch (const std::bad_alloc &) {
    return finish(j, s, src, simdjson::MEMALLOC);
  }
}

static error_code check_value(jsondoc *j, od::value &v, int level, int *deepest) {
  jsondoc_val val;
  SIMDJSON_TRY(read_value(j, v, &val));
  if (val.type != JSONDOC_OBJECT && val.type != JSONDOC_ARRAY) return SUCCESS;
  cursor c;
  SIMDJSON_TRY(open_value(v, c));
  return check_container(j, c, level + 1, deepest);
}

/* Reads every member of 'c', at 'level' (1 for the value checked), and
 * of what it holds, noting in '*deepest' the deepest level met: no deeper
 * than JSONDOC_MAXDEPTH, which open_view checked. */
static error_code check_container(jsondoc *j, cursor &c, int level, int *deepest) {
  if (level > *deepest) *deepest = level;
  if (c.is_obj) {
    for (auto r : c.obj) {
      od::field f;
      SIMDJSON_TRY(std::move(r).get(f));
      std::string_view key;
      j->at = f.key().raw() - 1;
      SIMDJSON_TRY(f.unescaped_key().get(key));
      j->at = nullptr;
      SIMDJSON_TRY(check_value(j, f.value(), level, deepest));
    }
  } else {
    for (auto r : c.arr) {
      od::value v;
      SIMDJSON_TRY(r.get(v));
      SIMDJSON_TRY(check_value(j, v, level, deepest));
    }
  }
  return SUCCESS;
}

int jsondoc_validate(jsondoc *j, const jsondoc_src *src, int *depth) {
  begin(j);
  slot *s = nullptr;
  *depth = 0;
  try {
    bool resumed;
    error_code e = open_view(j, src, 0, &s, &resumed);
    const char *view = e == SUCCESS ? s->buf.get() : nullptr;
    if (e == SUCCESS && (view[0] == '{' || view[0] == '[')) {
      cursor c;
      e = walk(j, s, src, src->path + src->pathlen, c);
      if (e == SUCCESS) e = check_container(j, c, 1, depth);
    } else if (e == SUCCESS) {
      jsondoc_val val;
      od::json_type t;
      e = s->doc.type().get(t);
      if (e == SUCCESS) e = read_scalar(j, s->doc, t, view, &val);
    }
    return finish(j, s, src, e);
  } catch (const std::bad_alloc &) {
    return finish(j, s, src, simdjson::MEMALLOC);
  }
}

#define TEXT_OF(n) #n
#define NUMBER_TEXT(n) TEXT_OF(n)
#define DEPTH_TEXT NUMBER_TEXT(JSONDOC_MAXDEPTH)

const char *jsondoc_strerror(int err) {
  switch ((error_code)err) {
  case simdjson::TAPE_ERROR:
  case simdjson::NO_SUCH_FIELD: return "malformed JSON (a comma, colon, bracket or key missing or extra)";
  case simdjson::INCORRECT_TYPE: return "invalid value";
  case simdjson::NUMBER_ERROR: return "invalid or out of range number";
  case simdjson::STRING_ERROR: return "invalid escape in a string";
  case simdjson::T_ATOM_ERROR:
  case simdjson::F_ATOM_ERROR:
  case simdjson::N_ATOM_ERROR: return "invalid literal (true, false or null)";
  case simdjson::UTF8_ERROR: return "invalid UTF-8";
  case simdjson::UNCLOSED_STRING: return "unclosed string";
  case simdjson::UNESCAPED_CHARS: return "unescaped control character in a string";
  case simdjson::INCOMPLETE_ARRAY_OR_OBJECT: return "unclosed or unbalanced object or array";
  case simdjson::TRAILING_CONTENT: return "unexpected text after the value";
  case simdjson::EMPTY: return "empty document";
  case simdjson::DEPTH_ERROR: return "objects and arrays nested more than " DEPTH_TEXT " deep";
  case simdjson::CAPACITY: return "document too large";
  case simdjson::MEMALLOC: return "not enough memory";
  default: return simdjson::error_message((error_code)err);
  }
}

size_t jsondoc_errpos(const jsondoc *j) {
  return j->errpos;
}

int jsondoc_utf8(const char *s, size_t n) {
  return simdjson::validate_utf8(s, n);
}

} /* extern "C" */
