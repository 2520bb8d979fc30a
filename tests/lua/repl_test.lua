local t = ...
local repl = require "dusk.repl"

local function rewrite(src)
  local code, names = repl.rewrite_locals(src)
  return code, table.concat(names, ",")
end

t.test("top-level locals become scope assignments", function()
  t.eq({ rewrite("local x = 1") }, { "      x = 1", "x" })
  t.eq({ rewrite("local a, b = 1, 2") }, { "      a, b = 1, 2", "a,b" })
  t.eq({ rewrite("local x") }, { "      x = nil", "x" })
  t.eq({ rewrite("local function f() end") }, { "      function f() end", "f" })
  t.eq({ rewrite("local k <const> = 3") }, { "      k         = 3", "k" })
end)

t.test("nested locals, strings and comments are left alone", function()
  local src = "do local y = 1 end\nfunction g() local z = 2 end"
  t.eq({ rewrite(src) }, { src, "" })
  src = 's = "local q = 1" -- local r = 2\n--[[ local u ]] x = [==[local v]==]'
  t.eq({ rewrite(src) }, { src, "" })
  src = "if a then local b = 1 elseif c then local d = 2 else end for i = 1, 2 do local e end"
  t.eq({ rewrite(src) }, { src, "" })
  src = "repeat local w = 1 until w"
  t.eq({ rewrite(src) }, { src, "" })
end)

t.test("<close> locals stay real locals", function()
  local src = "local c <close> = nil"
  t.eq({ rewrite(src) }, { src, "" })
end)

t.test("the lexer skips numbers with exponents and long comments", function()
  local kinds = {}
  for kind, text in repl.tokens("x = 1e+5 + 0x1p-2 --[[ c ]] y") do
    kinds[#kinds + 1] = kind .. ":" .. text
  end
  t.eq(kinds, { "name:x", "sym:=", "other:1e+5", "sym:+", "other:0x1p-2", "name:y" })
end)

t.test("compile: expressions, statements, incomplete, errors", function()
  local env = repl.env()
  local f = repl.compile("1 + 1", env)
  t.eq(f(), 2)
  f = repl.compile("local x = 40", env)
  f()
  t.eq(repl.compile("x + 2", env)(), 42)
  t.eq(rawget(_G, "x"), nil, "a REPL local is not a global")
  repl.compile("x = x + 1", env)()
  t.eq(repl.compile("x", env)(), 41)
  local fn, msg, incomplete = repl.compile("function h()", env)
  t.eq({ fn, incomplete }, { nil, true })
  t.truthy(msg:find("<eof>"))
  fn, msg, incomplete = repl.compile("x = = 1", env)
  t.eq({ fn, incomplete }, { nil, false })
  t.truthy(msg:find("unexpected symbol"), msg)
end)

t.test("globals assigned at the REPL are real globals", function()
  local env = repl.env()
  repl.compile("repl_test_global = 7", env)()
  t.eq(rawget(_G, "repl_test_global"), 7)
  _G.repl_test_global = nil
end)

t.test("functions defined at the REPL see later REPL locals", function()
  local env = repl.env()
  repl.compile("local base = 10", env)()
  repl.compile("function add_base(v) return v + base end", env)()
  repl.compile("base = 20", env)()
  t.eq(repl.compile("add_base(1)", env)(), 21)
  _G.add_base = nil
end)

t.test("completion of globals, fields and methods", function()
  local env = repl.env()
  t.eq({ repl.complete(env, "string.for") }, { "mat(" })
  t.eq({ repl.complete(env, "x = ipai") }, { "rs(" })
  t.eq({ repl.complete(env, "strin") }, { "g.", nil })
  local add, choices = repl.complete(env, "string.")
  t.eq(add, "")
  t.truthy(#choices > 10)
  add, choices = repl.complete(env, "table.")
  t.truthy(#choices >= 7)
  add, choices = repl.complete(env, "s:up")
  t.eq({ add, choices }, { "", nil }, "unknown base")
  repl.compile('local s = "text"', env)()
  t.eq({ repl.complete(env, "s:up") }, { "per(" })
  t.eq({ repl.complete(env, "s.up") }, { "per(" })
  t.eq({ repl.complete(env, "zzzz") }, { "", nil })
  t.eq({ repl.complete(env, "whi") }, { "le", nil })
end)

t.test("completion of a Delayed's methods", function()
  local env = repl.env()
  repl.compile("local d = dusk.delayed(1)", env)()
  t.eq({ repl.complete(env, "d:comp") }, { "ute(" })
  t.eq({ repl.complete(env, "d:pers") }, { "ist(" })
  repl.compile("local b = dusk.bag.from_sequence({1})", env)()
  t.eq({ repl.complete(env, "b:freq") }, { "uencies(" })
end)

t.test("choices are laid out in columns", function()
  t.eq(repl.format_choices({ "aa", "bb", "cc" }, 8), "aa  cc\nbb\n")
end)
