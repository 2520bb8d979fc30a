/* Unit tests of src/serial*.c: values sent between two Lua states. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/alloc.h"
#include "bind/lmodules.h"
#include "exec/runtime.h"
#include "serial/serial.h"
#include "serial/serial_int.h"
#include "testhelp.h"

static lua_State *A, *B; /* sender and receiver */
static char msg[1024];   /* the last error message */

static int run(lua_State *L, const char *code, const char *chunkname) {
  if (luaL_loadbuffer(L, code, strlen(code), chunkname) != LUA_OK ||
      lua_pcall(L, 0, 1, 0) != LUA_OK) {
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
    printf("lua error: %s\n", msg);
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* Evaluates 'code' in A, sends the result to B as the global 'v'; then
 * evaluates 'check' in B and returns whether it gave true. */
static int send_with(const char *code, const char *check, int flags, const char *chunk) {
  msg[0] = 0;
  if (!run(A, code, chunk)) return 0;
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  int ok = serial_encode(A, -1, flags, &b) == LUA_OK;
  if (!ok) {
    snprintf(msg, sizeof msg, "%s", lua_tostring(A, -1));
    lua_pop(A, 2);
    serial_buf_free(&b);
    return 0;
  }
  lua_pop(A, 1);
  ok = serial_decode(B, b.p, b.len, 0, flags) == LUA_OK;
  serial_buf_free(&b);
  if (!ok) {
    snprintf(msg, sizeof msg, "%s", lua_tostring(B, -1));
    printf("decode error: %s\n", msg);
    lua_pop(B, 1);
    return 0;
  }
  lua_setglobal(B, "v");
  if (!run(B, check, "=check")) return 0;
  ok = lua_toboolean(B, -1);
  lua_pop(B, 1);
  return ok;
}

static int send(const char *code, const char *check) {
  return send_with(code, check, SERIAL_FUNCTIONS, "@etl.lua");
}

/* Encoding 'code''s value in A fails with a message containing 'want'. */
static int refused(const char *code, const char *want) {
  msg[0] = 0;
  if (send(code, "return true")) return 0;
  if (strstr(msg, want) == NULL) {
    printf("  got: %s\n  want: %s\n", msg, want);
    return 0;
  }
  return 1;
}

/* Decoding 'n' bytes fails, with or without trust. */
static int bad_frame(const void *p, size_t n, int flags) {
  int top = lua_gettop(B);
  int st = serial_decode(B, p, n, 0, flags);
  lua_settop(B, top);
  return st != LUA_OK;
}

static int failing_after;
static void *failing_alloc(void *ud, void *p, size_t n) {
  (void)ud;
  if (n == 0) {
    free(p);
    return NULL;
  }
  if (failing_after-- <= 0) return NULL;
  return realloc(p, n);
}

static void test_values(void) {
  TEST("nil", send("return nil", "return v == nil"));
  TEST("booleans", send("return {true, false}", "return v[1] == true and v[2] == false"));
  TEST("integers stay integers",
       send("return {0, -1, 127, 128, math.maxinteger, math.mininteger}",
            "return math.type(v[1]) == 'integer' and v[2] == -1 and v[3] == 127 and"
            " v[4] == 128 and v[5] == math.maxinteger and v[6] == math.mininteger"));
  TEST("floats exactly",
       send("return {0.1, 2.0, 1/0, -1/0, 0/0, -0.0, 1e308, 5e-324}",
            "return v[1] == 0.1 and math.type(v[2]) == 'float' and v[3] == 1/0 and"
            " v[4] == -1/0 and v[5] ~= v[5] and 1/v[6] == -1/0 and v[7] == 1e308"
            " and v[8] == 5e-324"));
  TEST("strings with any bytes",
       send("return {'', '\\0\\1\\255', string.rep('x', 1000)}",
            "return v[1] == '' and v[2] == '\\0\\1\\255' and v[3] == string.rep('x', 1000)"));
  TEST("cycles and shared references",
       send("local t = {name = 't'}; t.self = t; local s = {}; return {t, s, s, [s] = t}",
            "return v[1].self == v[1] and v[2] == v[3] and v[v[2]] == v[1]"));
  TEST("odd keys",
       send("return {[1.5] = 'f', [true] = 'b', [-7] = 'n', [3] = 3, [1] = 1}",
            "return v[1.5] == 'f' and v[true] == 'b' and v[-7] == 'n' and v[3] == 3"
            " and v[1] == 1 and v[2] == nil"));
  TEST("metatables",
       send("local mt = {__index = function(t, k) return k .. '!' end}\n"
            "return {setmetatable({}, mt), setmetatable({}, mt)}",
            "return v[1].x == 'x!' and getmetatable(v[1]) == getmetatable(v[2])"));
  TEST("module tables by name",
       send("return {string, io, _G}", "return v[1] == string and v[2] == io"));
  /* long lists go by index, their integers in runs (T_INTS) */
#define LIST "local t = {} for i = 1, 700 do t[i] = i * i - 300 end\n" \
             "t[5] = 2.0; t[6] = 'x'; t[7] = -1; t[8] = true; t[10] = 0.5\n" \
             "t[300] = math.maxinteger; t[301] = math.mininteger; t[302] = math.maxinteger\n" \
             "t[256] = 'end of a batch'; t[258] = 'and one after'\n"
  TEST("long lists of integers among other values",
       send(LIST "return t",
            LIST "for i = 1, 700 do\n"
            "  if v[i] ~= t[i] or math.type(v[i]) ~= math.type(t[i]) then return false end\n"
            "end\n"
            "return #v == 700"));
#undef LIST
  TEST("a long list with a metatable is read raw",
       send("local t = {} for i = 1, 40 do t[i] = i end; t[20] = nil\n"
            "return setmetatable(t, {__index = function() error('read through __index') end})",
            "return v[19] == 19 and rawget(v, 20) == nil and v[40] == 40"));
  run(B, "require('dusk.serial').register('Setter', function(x) return x end) return 0", "=t");
  lua_settop(B, 0);
  TEST("... also when a hook sets one on the way",
       send("local t = {} for i = 1, 600 do t[i] = i end; t[400] = nil\n"
            "t[1] = setmetatable({}, {__dusk_send = function()\n"
            "  setmetatable(t, {__index = function() error('read through __index') end})\n"
            "  return 'Setter', 1\n"
            "end})\n"
            "return t",
            "return v[1] == 1 and v[399] == 399 and rawget(v, 400) == nil and v[600] == 600"));
  TEST("a large compressed frame",
       send_with("return {string.rep('abc', 100000), 1}",
                 "return v[1] == string.rep('abc', 100000) and v[2] == 1",
                 SERIAL_FUNCTIONS | SERIAL_COMPRESS, "=t"));
}

static void test_functions(void) {
  TEST("a closure with upvalues",
       send("local a, b = 2, 'x'; return function(n) return n * a, b end",
            "local n, s = v(21); return n == 42 and s == 'x'"));
  TEST("shared upvalue cells stay shared",
       send("local n = 0\n"
            "local function inc() n = n + 1 end\n"
            "local function get() return n end\n"
            "return {inc = inc, get = get}",
            "v.inc(); v.inc(); return v.get() == 2"));
  TEST("the sender's upvalue is untouched", run(A, "return true", "=t") &&
       send("counter = 0; local c = 0; local t = {k = 1}\n"
            "f = function() c = c + 1; t.k = t.k + 1; return c, t.k end\n"
            "return f", "local c, k = v(); return c == 1 and k == 2") &&
       run(A, "local c, k = f(); return c == 1 and k == 2", "=t") && lua_toboolean(A, -1));
  lua_settop(A, 0);
  TEST("every decode starts from the sender's values",
       send("local t = {n = 0}; return function() t.n = t.n + 1; return t.n end",
            "return v() == 1 and v() == 2") &&
       send("return f0 or function() end", "return true"));
  TEST("many closures: cells shared and apart, many prototypes",
       send("local fs = {}\n"
            "for i = 1, 40 do\n"
            "  local n = i\n"
            "  fs[#fs + 1] = function() n = n + 1; return n end\n"
            "  fs[#fs + 1] = function() return n end\n"
            "  fs[#fs + 1] = load('local k = ' .. i .. ' return function() return k end')()\n"
            "end\n"
            "return fs",
            "for i = 1, 40 do\n"
            "  local inc, get, k = v[3 * i - 2], v[3 * i - 1], v[3 * i]\n"
            "  if inc() ~= i + 1 or get() ~= i + 1 or k() ~= i then return false end\n"
            "end\n"
            "return true"));
  TEST("recursive local functions",
       send("local function fib(n) return n < 2 and n or fib(n - 1) + fib(n - 2) end\n"
            "return fib", "return v(10) == 55"));
  TEST("globals followed transitively",
       send("function helper2(x) return x * 10 end\n"
            "function helper(x) return helper2(x) + K end\n"
            "K = 5\n"
            "return function(x) return helper(x) end",
            "return v(2) == 25 and rawget(_G, 'helper') == nil"));
  TEST("a global changed by a task stays in the task",
       send("G1 = 1; return function() G1 = G1 + 1; return G1 end",
            "return v() == 2 and v() == 3 and rawget(_G, 'G1') == nil"));
  TEST("additions to standard tables travel",
       send("function string.trim(s) return (s:gsub('^%s+', ''):gsub('%s+$', '')) end\n"
            "return function(s) return s:trim() .. '|' end",
            "return v('  a b  ') == 'a b|' and string.trim ~= nil"));
  TEST("C functions from a required module, by name",
       send("local cjson = require 'cjson'\n"
            "return function(s) return cjson.decode(s).a end",
            "return v('{\"a\": [1, 2]}')[2] == 2 and package.loaded.cjson ~= nil"));
  TEST("package.path goes with functions",
       send("package.path = '/tmp/dusk-serial-test/?.lua;' .. package.path\n"
            "return function() end",
            "return package.path:find('/tmp/dusk-serial-test/', 1, true) == 1"));
  /* a worker sends on what it received: its globals travel again */
  TEST("a decoded function can be sent on",
       send("function twice(x) return 2 * x end\nreturn function(x) return twice(x) end",
            "return v(4) == 8"));
  {
    serial_buf b;
    serial_buf_init(&b, NULL, NULL);
    lua_getglobal(B, "v");
    int ok = serial_encode(B, -1, SERIAL_FUNCTIONS, &b) == LUA_OK;
    lua_settop(B, 0);
    run(A, "twice = nil return 0", "=t");
    lua_settop(A, 0);
    ok = ok && serial_decode(A, b.p, b.len, 0, SERIAL_FUNCTIONS) == LUA_OK;
    lua_pushinteger(A, 5);
    ok = ok && lua_pcall(A, 1, 1, 0) == LUA_OK && lua_tointeger(A, -1) == 10;
    TEST("... with the globals it read", ok);
    lua_settop(A, 0);
    serial_buf_free(&b);
  }
  /* B sent the path back: both restored, so A's frames carry no path */
  run(A, "package.path = package.path:sub(#'/tmp/dusk-serial-test/?.lua;' + 1) return 0", "=t");
  lua_settop(A, 0);
  TEST("standard C functions by name",
       send("local up = string.upper; return function(s) return up(s) end",
            "return v('abc') == 'ABC'"));
  TEST("tracebacks name the user's file and line",
       send_with("return function(x)\n  error('boom')\nend",
                 "local ok, e = pcall(v); return not ok and e:find('etl.lua:2: boom', 1, true) ~= nil",
                 SERIAL_FUNCTIONS, "@etl.lua"));
  TEST("_ENV is rebound to the receiver's environment",
       send("local env = setmetatable({}, {__index = _G})\n"
            "return load('return where', '=x', 't', env)",
            "where = 'B'; return v() == 'B'"));
  TEST("a REPL-like environment's globals travel",
       send("local env = setmetatable({}, {__index = _G})\n"
            "load('function rh(x) return x + 1 end', '=repl', 't', env)()\n"
            "return load('return rh(41)', '=repl', 't', env)",
            "return v() == 42"));
  /* decoding rebinds _ENV to the table given */
  {
    serial_buf b;
    serial_buf_init(&b, NULL, NULL);
    run(A, "return function() return who end", "=t");
    int ok = serial_encode(A, -1, SERIAL_FUNCTIONS, &b) == LUA_OK;
    lua_pop(A, 1);
    lua_newtable(B);
    lua_pushliteral(B, "env");
    lua_setfield(B, -2, "who");
    ok = ok && serial_decode(B, b.p, b.len, -1, SERIAL_FUNCTIONS) == LUA_OK;
    ok = ok && lua_pcall(B, 0, 1, 0) == LUA_OK && lua_isstring(B, -1) &&
         strcmp(lua_tostring(B, -1), "env") == 0;
    TEST("decode binds _ENV to the env given", ok);
    lua_settop(B, 0);
    /* the prototype is loaded once: an untrusted decode finds it cached */
    ok = serial_decode(B, b.p, b.len, 0, SERIAL_CACHED) == LUA_OK &&
         lua_isfunction(B, -1);
    TEST("prototypes are cached per state", ok);
    lua_settop(B, 0);
    TEST("no bytecode from an untrusted frame", bad_frame(b.p, b.len, 0));
    serial_buf_free(&b);
  }
}

static void test_refusals(void) {
  TEST("a coroutine, with its upvalue",
       refused("local co = coroutine.create(print)\nreturn function() return co end",
               "cannot send a coroutine: upvalue 'co' of function at etl.lua:2"));
  TEST("a file, with the path to it",
       refused("local t = {x = {log = io.stdout}}\nreturn function() return t end",
               "cannot send a file: field 'log' of field 'x' of upvalue 't' of function at etl.lua:2"));
  TEST("a global's value names the global",
       refused("CO = coroutine.create(print)\nreturn function() return CO end",
               "cannot send a coroutine: global 'CO' referenced by function at etl.lua:2"));
  lua_newuserdatauv(A, 8, 0);
  luaL_newmetatable(A, "Foreign");
  lua_setmetatable(A, -2);
  lua_setglobal(A, "FOREIGN");
  TEST("foreign userdata",
       refused("local u = FOREIGN\nreturn function() return {u} end",
               "cannot send a userdata (Foreign): upvalue 'u' of function at etl.lua:2"));
  TEST("a C function not in package.loaded",
       refused("local f = require('dusk.serial').encode\n"
               "package.loaded['dusk.serial'] = nil\n"
               "return function() return f end",
               "cannot send a C function not reachable from package.loaded: upvalue 'f'"));
  run(A, "package.loaded['dusk.serial'] = require('dusk.serial') return 0", "=t");
  lua_settop(A, 0);
  TEST("a Delayed captured as an upvalue: pass it as an argument",
       refused("local d = setmetatable({}, {__name = 'Delayed', __dusk_send = false})\n"
               "return function() return d end",
               "cannot send a Delayed captured as upvalue 'd' of function at etl.lua:2:"
               " pass it as an argument"));
  TEST("light userdata stays in its process",
       refused("return {p = require('dusk.serial') and debug.upvalueid(function() return A end, 1)}",
               "cannot send a light userdata to another process: field 'p'"));
  TEST("light userdata within one process",
       send_with("return {p = debug.upvalueid(function() return A end, 1)}",
                 "return type(v.p) == 'userdata'", SERIAL_FUNCTIONS | SERIAL_LOCAL, "=t"));
  TEST("functions refused when not allowed",
       send_with("return print", "return true", 0, "=t") == 0 ||
       strstr(msg, "not allowed") != NULL);
  TEST("nesting is limited",
       refused("local t = {} for i = 1, 300 do t = {t} end return t", "more than 200 levels"));
}

static void test_hooks(void) {
  /* dusk objects by reference: __dusk_send gives a type name and payload */
  run(B, "require('dusk.serial').register('Handle', function(id)"
         " return setmetatable({id = id}, {__name = 'Handle'}) end) return 0", "=t");
  lua_settop(B, 0);
  TEST("objects with __dusk_send go by reference",
       send("local mt = {__name = 'Handle', __dusk_send = function(h) return 'Handle', h.id end}\n"
            "local h = setmetatable({id = 42, big = string.rep('x', 1e5)}, mt)\n"
            "return function() return h end",
            "return v().id == 42 and v().big == nil"));
  /* the object's number is taken before its payload is read: a reference
   * to it from inside finds nothing yet, whether the frame has few objects
   * or many (h2 is the fifth) */
  run(B, "require('dusk.serial').register('Selfish', function(p) return {got = p} end)"
         " return 0", "=t");
  lua_settop(B, 0);
  TEST("an object as its own payload",
       send("local mt = {__dusk_send = function(o) return 'Selfish', o end}\n"
            "local h, h2 = setmetatable({}, mt), setmetatable({}, mt)\n"
            "return {h, {h}, h2, {h2}}",
            "return v[1].got == nil and v[2][1] == v[1] and v[3].got == nil and v[4][1] == v[3]"));
}

static void test_frames(void) {
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  run(A, "return {1, 'two', {3}, x = 4.5}", "=t");
  TEST("encode", serial_encode(A, -1, 0, &b) == LUA_OK);
  lua_settop(A, 0);
  int truncated = 1;
  for (size_t n = 0; n < b.len; n++) truncated &= bad_frame(b.p, n, 0);
  TEST("every truncated frame is refused", truncated);
  b.p[b.len] = 0;
  TEST("bytes after the value are refused", bad_frame(b.p, b.len + 1, 0));
  b.p[5] ^= 1;
  TEST("another Lua version is refused", bad_frame(b.p, b.len, 0));
  b.p[5] ^= 1;
  TEST("the frame still decodes", !bad_frame(b.p, b.len, 0));

  /* a run of integers: header, package fields, T_TABLE 40 0, T_INTS 40 */
  b.len = 0;
  run(A, "local t = {} for i = 1, 40 do t[i] = i end return t", "=t");
  TEST("encode a list", serial_encode(A, -1, 0, &b) == LUA_OK);
  lua_settop(A, 0);
  TEST("... as a run", b.p[17] == T_TABLE && b.p[20] == T_INTS && b.p[21] == 40);
  truncated = 1;
  for (size_t n = 0; n < b.len; n++) truncated &= bad_frame(b.p, n, 0);
  TEST("every truncated run is refused", truncated);
  b.p[21] = 41;
  TEST("a run longer than its list is refused", bad_frame(b.p, b.len, 0));
  b.p[21] = 0;
  TEST("an empty run is refused", bad_frame(b.p, b.len, 0));
  b.p[21] = 40;
  b.p[17] = T_INTS;
  TEST("a run outside a list is refused", bad_frame(b.p, b.len, 0));
  b.p[17] = T_TABLE;
  TEST("the run still decodes", !bad_frame(b.p, b.len, 0));
  serial_buf_free(&b);

  /* a list grows the buffer, closures grow the maps of cells and protos */
  static const char *const big[] = {
    "local t = {} for i = 1, 5000 do t[i] = i end return t",
    "local fs = {} for i = 1, 100 do local n = i\n"
    "  fs[i] = load('local k = ' .. i .. ' return function() return n, k end')() end\n"
    "return fs",
  };
  for (int i = 0; i < 2; i++) {
    int fails = 0, oks = 0, tries = 0;
    for (failing_after = 0; oks == 0 && tries < 100; tries++) {
      int n = failing_after;
      serial_buf fb;
      serial_buf_init(&fb, failing_alloc, NULL);
      run(A, big[i], "=t");
      int st = serial_encode(A, -1, SERIAL_FUNCTIONS, &fb);
      if (st != LUA_OK) {
        fails += strstr(lua_tostring(A, -1), "not enough memory") != NULL;
        lua_pop(A, 1);
      } else {
        oks++;
      }
      lua_settop(A, 0);
      serial_buf_free(&fb);
      failing_after = n + 1;
    }
    TEST("allocation failures are reported, not crashed on", fails > 2 && fails + oks == tries);
  }

  /* through base/alloc.h, the default hook: the buffer, the maps of
   * cells and protos past their inline slots, zstd's contexts */
  static const char *const compressed =
    "local fs = {} for i = 1, 100 do local n = i\n"
    "  fs[i] = load('local k = ' .. i .. ' return function() return n, k end')() end\n"
    "return {fs, string.rep('compressible ', 10000)}";
  serial_buf frame;
  serial_buf_init(&frame, NULL, NULL);
  int fails = 0, oks = 0, bad = 0;
  for (long k = 1; k < 200 && oks == 0 && !bad; k++) {
    serial_buf fb;
    serial_buf_init(&fb, NULL, NULL);
    run(A, compressed, "=t");
    base_alloc_fail_after(k);
    int st = serial_encode(A, -1, SERIAL_FUNCTIONS | SERIAL_COMPRESS, &fb);
    base_alloc_fail_after(-1);
    if (st == LUA_OK && (fb.p[7] & SERIAL_FZSTD)) {
      oks = 1;
      frame = fb;
    } else { /* (compressing is skipped when memory is short) */
      if (st != LUA_OK) fails++;
      bad = st != LUA_OK && strstr(lua_tostring(A, -1), "not enough memory") == NULL;
      serial_buf_free(&fb);
    }
    lua_settop(A, 0);
  }
  TEST("encoding: each failure of the base hook reported", fails > 3 && oks && !bad);
  fails = oks = bad = 0;
  for (long k = 1; k < 200 && oks == 0 && !bad; k++) {
    base_alloc_fail_after(k);
    int st = serial_decode(A, frame.p, frame.len, 0, SERIAL_FUNCTIONS);
    base_alloc_fail_after(-1);
    if (st == LUA_OK) {
      lua_rawgeti(A, -1, 1);
      oks = lua_rawlen(A, -1) == 100;
    } else {
      fails += strstr(lua_tostring(A, -1), "not enough memory") != NULL;
      bad = strstr(lua_tostring(A, -1), "not enough memory") == NULL;
    }
    lua_settop(A, 0);
  }
  TEST("decoding a compressed frame: its failure reported", fails >= 1 && oks && !bad);
  serial_buf_free(&frame);
}

/* Lua's allocator, failing from the 'fail_at'-th growth on (testes/api.lua
 * testamem): Lua assumes shrinking never fails. */
static long fail_at, nallocs;
static void *limited_alloc(void *ud, void *p, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(p);
    return NULL;
  }
  if (fail_at > 0 && (p == NULL || nsize > osize) && ++nallocs >= fail_at) return NULL;
  return realloc(p, nsize);
}

static void test_memory(void) {
  lua_State *C = lua_newstate(limited_alloc, NULL);
  luaL_openlibs(C);
  serial_baseline(C);
  serial_buf b;
  serial_buf_init(&b, NULL, NULL);
  run(A, "local t = {1, 'x', {y = 2.5}}; t.self = t\n"
         "local n = 0\n"
         "return {t, function() n = n + 1; return t, n end, function() return n end}", "=t");
  int ok = serial_encode(A, -1, SERIAL_FUNCTIONS, &b) == LUA_OK;
  lua_settop(A, 0);
  int failed = 0, passed = 0, bad = 0;
  for (long k = 1; ok && k < 400 && passed == 0; k++) {
    nallocs = 0;
    fail_at = k;
    int st = serial_decode(C, b.p, b.len, 0, SERIAL_FUNCTIONS);
    fail_at = 0;
    if (st == LUA_OK) passed++;
    else if (st == LUA_ERRMEM || strstr(lua_tostring(C, -1), "not enough memory")) failed++;
    else bad++;
    lua_settop(C, 0);
    lua_gc(C, LUA_GCCOLLECT);
  }
  TEST("decoding survives every allocation failure", ok && failed > 5 && passed == 1 && bad == 0);
  failed = passed = bad = 0;
  run(C, "local u = {1, 2, {3}} return function() return u, 'str' end", "=t");
  for (long k = 1; k < 400 && passed == 0; k++) {
    nallocs = 0;
    fail_at = k;
    b.len = 0;
    int st = serial_encode(C, 1, SERIAL_FUNCTIONS, &b);
    fail_at = 0;
    if (st == LUA_OK) passed++;
    else if (st == LUA_ERRMEM || strstr(lua_tostring(C, -1), "not enough memory")) failed++;
    else bad++;
    lua_settop(C, 1);
    lua_gc(C, LUA_GCCOLLECT);
  }
  TEST("encoding survives every allocation failure", failed > 5 && passed == 1 && bad == 0);
  serial_buf_free(&b);
  lua_close(C);
}

int main(void) {
  char err[256];
  A = rt_newstate(lmod_open, err, sizeof err);
  B = rt_newstate(lmod_open, err, sizeof err);
  if (A == NULL || B == NULL) {
    printf("%s\n", err);
    return 1;
  }
  test_values();
  test_functions();
  test_refusals();
  test_hooks();
  test_frames();
  test_memory();
  lua_close(A);
  lua_close(B);
  return test_report();
}
