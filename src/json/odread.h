/*
 * odread: reading values with simdjson's On-Demand API, shared by the two
 * readers of dusk.json: jsondoc.cc (any value of a text, by path, for Lua
 * records) and jsonrec.cc (the places of one record, for dusk.pure).
 * Both must read a value the same way, so that a record read in C and
 * the same record read from Lua give the same answers and the same
 * errors.  C++, internal to src/json.
 */
#ifndef DUSK_ODREAD_H
#define DUSK_ODREAD_H

#include <simdjson.h>

#include <string_view>
#include <utility>

#include "jsondoc.h"

namespace odr {

namespace od = simdjson::ondemand;
using simdjson::error_code;
using simdjson::SUCCESS;

/* What reading leaves behind: where the value being read starts (for an
 * error's position), and how many bytes were unescaped into the parser's
 * string buffer (which only a rewind empties). */
struct trace {
  const char *at = nullptr;
  size_t strbytes = 0;
};

/* An object or array being read. */
struct cursor {
  bool is_obj = false;
  od::object obj;
  od::array arr;
};

inline bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Back from 'p' over whitespace. */
inline const char *trim_back(const char *p) {
  while (is_space(p[-1])) p--;
  return p;
}

/* The bytes a JSON string cannot hold as they are: '"', '\\' and the
 * control characters. */
struct escape_table {
  bool t[256];
  constexpr escape_table() : t() {
    for (int c = 0; c < 0x20; c++) t[c] = true;
    t['"'] = t['\\'] = true;
  }
  bool operator[](unsigned char c) const { return t[c]; }
};
inline constexpr escape_table needs_escape;

/* Whether the raw key at 'raw' (after its quote) holds an escape. */
inline bool has_escape(const char *raw) {
  while (*raw != '"' && *raw != '\\') raw++;
  return *raw == '\\';
}

/* A scalar of type 't' (an od::value, or the document when the text is a
 * scalar) whose text starts at 'tok'.  Strings are unescaped into the
 * parser's buffer. */
template <class V>
error_code read_scalar(V &v, od::json_type t, const char *tok, trace &tr, jsondoc_val *out) {
  tr.at = tok;
  switch (t) {
  case od::json_type::string: {
    std::string_view s;
    SIMDJSON_TRY(v.get_string().get(s));
    tr.strbytes += s.size() + 1;
    out->type = JSONDOC_STRING;
    out->s = s.data();
    out->n = s.size();
    break;
  }
  case od::json_type::number: {
    od::number n;
    error_code e = v.get_number().get(n);
    if (e == simdjson::NUMBER_ERROR) { /* beyond 64 bits, or malformed */
      SIMDJSON_TRY(v.get_double().get(out->d));
      out->type = JSONDOC_FLOAT;
    } else if (e) {
      return e;
    } else if (n.is_int64()) {
      out->type = JSONDOC_INT;
      out->i = n.get_int64();
    } else {
      out->type = JSONDOC_FLOAT;
      out->d = n.is_uint64() ? (double)n.get_uint64() : n.get_double();
    }
    break;
  }
  case od::json_type::boolean: {
    bool b;
    if (v.get_bool().get(b)) return simdjson::T_ATOM_ERROR;
    out->type = b ? JSONDOC_TRUE : JSONDOC_FALSE;
    break;
  }
  case od::json_type::null: {
    bool null;
    if (v.is_null().get(null) || !null) return simdjson::N_ATOM_ERROR;
    out->type = JSONDOC_NULL;
    break;
  }
  default:
    return simdjson::INCORRECT_TYPE;
  }
  tr.at = nullptr;
  return SUCCESS;
}

/* A member's value: scalars in full, objects and arrays by type (left
 * unread: the next step of an iteration skips them). */
inline error_code read_value(od::value &v, trace &tr, jsondoc_val *out) {
  od::json_type t;
  SIMDJSON_TRY(v.type().get(t));
  if (t == od::json_type::object) out->type = JSONDOC_OBJECT;
  else if (t == od::json_type::array) out->type = JSONDOC_ARRAY;
  else return read_scalar(v, t, v.raw_json_token().data(), tr, out);
  return SUCCESS;
}

/* Opens the object or array 'v' into 'c'. */
inline error_code open_value(od::value &v, cursor &c) {
  od::json_type t;
  SIMDJSON_TRY(v.type().get(t));
  c.is_obj = t == od::json_type::object;
  if (c.is_obj) return v.get_object().get(c.obj);
  if (t == od::json_type::array) return v.get_array().get(c.arr);
  return simdjson::INCORRECT_TYPE;
}

/* Moves to the first member 'key' of the object, from where it stands.
 * Raw keys compare as bytes (simdjson's find_field) when neither they
 * nor 'key' can hold an escape ('escapes': the text holds a backslash);
 * otherwise escaped raw keys are unescaped to compare. */
inline error_code find_key(od::object &obj, const char *key, size_t klen, bool escapes,
                           trace &tr, od::value &out, bool &found) {
  bool plain = true; /* then a raw key equal to it has no escape */
  for (size_t i = 0; i < klen && plain; i++) plain = !needs_escape[(unsigned char)key[i]];
  found = false;
  if (plain && !escapes) {
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
      tr.at = raw - 1;
      SIMDJSON_TRY(f.unescaped_key().get(k));
      tr.strbytes += k.size() + 1;
      tr.at = nullptr;
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

/* Moves to the element 'index' (0-based) of the array, from its start. */
inline error_code find_index(od::array &arr, size_t index, od::value &out, bool &found) {
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

} // namespace odr

#endif
