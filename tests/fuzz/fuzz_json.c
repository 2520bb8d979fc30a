/*
 * fuzz_json: dusk.json under libFuzzer: decode, read the whole record
 * (pairs, ipairs, #, every field by key and index, tostring), encode.
 *
 * Beyond crashes it checks what must hold: a document that validates
 * reads without error; what was read encodes to JSON that validates and
 * decodes to the same values; a record's text decodes to the same values.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "ljson.h"
#include "serial.h"

static const char check[] =
  "local json = ...\n"
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
  "  local ok, r = pcall(json.decode, s)\n"
  "  if not ok then return end\n"
  "  local valid = pcall(json.decode, s, {validate = true})\n"
  "  local read_ok, t = pcall(read, r)\n"
  "  if valid and not read_ok then error('valid document fails to read: ' .. tostring(t)) end\n"
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
  lua_call(L, 1, 1);
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
