/*
 * fuzz_json: dusk.json under libFuzzer: decode, read the whole record
 * (pairs, ipairs, #, every field by key and index, tostring), encode.
 *
 * Beyond crashes it checks what must hold: every document gets the
 * verdict of a strict reader written apart (below): it validates, and
 * decodes and reads whole without an error, exactly when that reader
 * takes it; what was read encodes to JSON that validates and decodes to
 * the same values; a record's text decodes to the same values.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "bind/ljson.h"
#include "serial/serial.h"

/* The reference: RFC 8259 JSON, read by recursive descent, with dusk's
 * limits (objects and arrays nested at most 1024 deep, numbers within a
 * double's range, no escape of half a surrogate pair).  Its verdict on
 * the committed corpus is checked against Python's json
 * (json_python.py). */
typedef struct strict {
  const unsigned char *p, *end;
} strict;

static void skip_space(strict *r) {
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int take(strict *r, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return 0;
  r->p += n;
  return 1;
}

static int hex4(strict *r, unsigned *cp) {
  *cp = 0;
  for (int k = 0; k < 4; k++, r->p++) {
    if (r->p == r->end) return 0;
    unsigned c = *r->p, d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return 0;
    *cp = *cp << 4 | d;
  }
  return 1;
}

/* One UTF-8 character at r->p (not ASCII). */
static int utf8_char(strict *r) {
  unsigned c = *r->p, cp, min;
  int k;
  if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; min = 0x80; }
  else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; min = 0x800; }
  else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; min = 0x10000; }
  else return 0;
  if (r->end - r->p <= k) return 0;
  for (int m = 1; m <= k; m++) {
    if ((r->p[m] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (r->p[m] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  r->p += k + 1;
  return 1;
}

static int string(strict *r) {
  r->p++;
  for (;;) {
    if (r->p == r->end) return 0;
    unsigned c = *r->p;
    if (c == '"') {
      r->p++;
      return 1;
    }
    if (c < 0x20) return 0;
    if (c >= 0x80) {
      if (!utf8_char(r)) return 0;
      continue;
    }
    r->p++;
    if (c != '\\') continue;
    if (r->p == r->end) return 0;
    c = *r->p++;
    if (strchr("\"\\/bfnrt", (int)c) != NULL && c != 0) continue;
    unsigned cp, low;
    if (c != 'u' || !hex4(r, &cp)) return 0;
    if (cp >= 0xDC00 && cp <= 0xDFFF) return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF &&
        (!take(r, "\\u") || !hex4(r, &low) || low < 0xDC00 || low > 0xDFFF))
      return 0;
  }
}

static int digits(strict *r) {
  const unsigned char *start = r->p;
  while (r->p < r->end && *r->p >= '0' && *r->p <= '9') r->p++;
  return r->p > start;
}

static int number(strict *r) {
  const unsigned char *start = r->p;
  if (*r->p == '-') r->p++;
  if (r->p < r->end && *r->p == '0') r->p++;
  else if (!digits(r)) return 0;
  if (r->p < r->end && *r->p == '.' && (r->p++, !digits(r))) return 0;
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
    r->p++;
    if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
    if (!digits(r)) return 0;
  }
  char buf[512];
  size_t n = (size_t)(r->p - start);
  if (n >= sizeof buf) { /* long: only its exponent's size matters here */
    char *big = malloc(n + 1);
    if (big == NULL) abort();
    memcpy(big, start, n);
    big[n] = 0;
    double d = strtod(big, NULL);
    free(big);
    return !isinf(d);
  }
  memcpy(buf, start, n);
  buf[n] = 0;
  return !isinf(strtod(buf, NULL)); /* the C locale: nothing calls setlocale */
}

static int value(strict *r, int depth) {
  skip_space(r);
  if (r->p == r->end) return 0;
  unsigned char c = *r->p;
  if (c == '{' || c == '[') {
    if (depth == 1024) return 0;
    unsigned char close = c == '{' ? '}' : ']';
    r->p++;
    skip_space(r);
    if (r->p < r->end && *r->p == close) {
      r->p++;
      return 1;
    }
    for (;;) {
      if (c == '{') {
        skip_space(r);
        if (r->p == r->end || *r->p != '"' || !string(r)) return 0;
        skip_space(r);
        if (!take(r, ":")) return 0;
      }
      if (!value(r, depth + 1)) return 0;
      skip_space(r);
      if (r->p == r->end) return 0;
      if (*r->p == close) {
        r->p++;
        return 1;
      }
      if (*r->p++ != ',') return 0;
    }
  }
  if (c == '"') return string(r);
  if (c == '-' || (c >= '0' && c <= '9')) return number(r);
  return take(r, "true") || take(r, "false") || take(r, "null");
}

static int l_strict(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  strict r = {(const unsigned char *)s, (const unsigned char *)s + n};
  int ok = value(&r, 0);
  skip_space(&r);
  lua_pushboolean(L, ok && r.p == r.end);
  return 1;
}

static const char check[] =
  "local json, strict = ...\n"
  "local null = json.null\n"
  "local function read(v)\n"
  "  if type(v) ~= 'userdata' or v == null then return v end\n"
  "  local out, n = {}, #v\n"
  "  for k, x in pairs(v) do\n"
  "    out[k] = read(x)\n"
  "    local again = v[k]\n"
  "    assert(type(again) == type(x), 'pairs and index disagree')\n"
  "  end\n"
  "  for i in ipairs(v) do assert(i <= n, 'ipairs beyond #') end\n"
  "  assert(v[n + 1] == nil and v[0] == nil)\n"
  "  tostring(v)\n"
  "  return out\n"
  "end\n"
  "local function same(a, b)\n"
  "  if type(a) ~= 'table' or type(b) ~= 'table' then\n"
  "    return a == b or (a ~= a and b ~= b)\n"
  "  end\n"
  "  for k, x in pairs(a) do if not same(x, b[k]) then return false end end\n"
  "  for k in pairs(b) do if a[k] == nil then return false end end\n"
  "  return true\n"
  "end\n"
  "return function(s)\n"
  "  local want = strict(s)\n"
  "  local valid, err = pcall(json.decode, s, {validate = true})\n"
  "  if valid ~= want then error('validate says ' .. tostring(err) .. ', the reference ' .. tostring(want)) end\n"
  "  local ok, r = pcall(json.decode, s)\n"
  "  local read_ok, t = false, r\n"
  "  if ok then read_ok, t = pcall(read, r) end\n"
  "  if read_ok ~= want then error('decode and read say ' .. tostring(t) .. ', the reference ' .. tostring(want)) end\n"
  "  if not ok then return end\n"
  "  pcall(json.encode, r)\n"
  "  if not read_ok then return end\n"
  "  local text = json.encode(t)\n"
  "  assert(same(read(json.decode(text, {validate = true})), t), 'encode round trip')\n"
  "  if type(r) == 'userdata' and valid then\n"
  "    assert(same(read(json.decode(tostring(r))), t), 'text round trip')\n"
  "  end\n"
  "end\n";

static lua_State *L;

static void done(void) { lua_close(L); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  L = luaL_newstate();
  luaL_openlibs(L);
  serial_baseline(L);
  luaL_requiref(L, "dusk.serial", luaopen_dusk_serial, 0);
  lua_pop(L, 1);
  if (luaL_loadbuffer(L, check, sizeof check - 1, "=check") != LUA_OK) abort();
  luaL_requiref(L, "dusk.json", luaopen_dusk_json, 0);
  lua_pushcfunction(L, l_strict);
  lua_call(L, 2, 1);
  atexit(done);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static unsigned runs;
  lua_pushvalue(L, 1);
  lua_pushlstring(L, (const char *)data, size);
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    fprintf(stderr, "fuzz_json: %s\n", lua_tostring(L, -1));
    abort();
  }
  if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT);
  return 0;
}
