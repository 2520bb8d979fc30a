local t = ...

t.test("dusk is a global and a module", function()
  t.eq(type(dusk), "table")
  t.truthy(require("dusk") == dusk)
end)

t.test("submodules load on first use", function()
  t.eq(rawget(dusk, "pretty"), nil)
  local p = dusk.pretty
  t.truthy(p == require("dusk.pretty"))
  t.truthy(rawget(dusk, "pretty") == p)
  t.eq(dusk.no_such_module, nil)
end)

t.test("version", function()
  t.truthy(dusk.version:match("^%d+%.%d+%.%d+$"), dusk.version)
end)
