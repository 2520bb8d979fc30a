local t = ...
local pretty = require "dusk.pretty"

t.test("scalars", function()
  t.eq(pretty(1), "1")
  t.eq(pretty(1.5), "1.5")
  t.eq(pretty(2.0), "2.0")
  t.eq(pretty(true), "true")
  t.eq(pretty(nil), "nil")
  t.eq(pretty(math.mininteger), "-9223372036854775808")
end)

t.test("strings are quoted with escapes", function()
  t.eq(pretty("hi"), '"hi"')
  t.eq(pretty('a"b\\c\n\t\0'), '"a\\"b\\\\c\\n\\t\\000"')
end)

t.test("what a terminal would act on is escaped, valid UTF-8 is shown", function()
  -- as Python's repr: control bytes (C0, DEL, C1), bytes that are not
  -- UTF-8 (a stray continuation, a truncated or overlong sequence, a
  -- surrogate, past U+10FFFF), direction and line controls
  local cases = {
    {"\27[31mred", '"\\027[31mred"'}, {"\127", '"\\127"'},
    {"\xff", '"\\255"'}, {"\x80", '"\\128"'}, {"\xe2\x82", '"\\226\\130"'},
    {"\xc0\xaf", '"\\192\\175"'}, {"\xed\xa0\x80", '"\\237\\160\\128"'},
    {"\xf4\x90\x80\x80", '"\\244\\144\\128\\128"'},
    {"\u{9B}2J", '"\\u{9B}2J"'}, {"\u{202E}abc", '"\\u{202E}abc"'},
    {"a\u{2028}b", '"a\\u{2028}b"'}, {"\u{FEFF}x", '"\\u{FEFF}x"'},
    {"caf\u{e9} \u{65e5}\u{672c} \u{1F600}", '"caf\u{e9} \u{65e5}\u{672c} \u{1F600}"'},
    {"\xe9t\xc3\xa9", '"\\233t\u{e9}"'}, {"\0" .. "1", '"\\0001"'},
  }
  for _, c in ipairs(cases) do
    local shown = pretty(c[1])
    t.eq(shown, c[2])
    t.eq(load("return " .. shown)(), c[1]) -- and it reads back as the string
  end
  -- keys too
  t.eq(pretty({["\xff"] = 1}), '{["\\255"] = 1}')
end)

t.test("lists and records on one line", function()
  t.eq(pretty({}), "{}")
  t.eq(pretty({1, 2, 3}), "{1, 2, 3}")
  t.eq(pretty({1, "x", b = 2, a = 1}), '{1, "x", a = 1, b = 2}')
  t.eq(pretty({["not id"] = 1, [10] = 2, ["end"] = 3}),
       '{[10] = 2, ["end"] = 3, ["not id"] = 1}')
end)

t.test("nested tables", function()
  t.eq(pretty({a = {b = {c = 1}}}), "{a = {b = {c = 1}}}")
end)

t.test("long tables break into lines, nested indented", function()
  local row = {}
  for i = 1, 30 do row[i] = i * 1000 end
  local s = pretty({ name = "wide", values = row })
  t.truthy(s:find("^{\n  name = \"wide\",\n  values = {\n    1000,"), s)
  t.truthy(s:find("\n}$"), s)
  for line in s:gmatch("[^\n]+") do t.truthy(#line <= 80, "line too long: " .. line) end
end)

t.test("cycles are marked", function()
  local a = { name = "a" }
  a.self = a
  t.eq(pretty(a), '{name = "a", self = <cycle>}')
  local shared = { 1 }
  t.eq(pretty({ shared, shared }), "{{1}, {1}}") -- shared, not a cycle
end)

t.test("long tables are cut with a count", function()
  local big = {}
  for i = 1, 1000 do big[i] = i end
  local s = pretty(big, { max_items = 5 })
  t.eq(s, "{1, 2, 3, 4, 5, ... (995 more)}")
  t.truthy(pretty(big):find("... (900 more)", 1, true))
end)

t.test("deep tables stop at max_depth", function()
  t.eq(pretty({ { { {} } } }, { max_depth = 2 }), "{{{...}}}")
  t.eq(pretty({ { {} } }, { max_depth = 2 }), "{{{}}}")
end)

t.test("values with __tostring show as their string", function()
  local obj = setmetatable({}, { __tostring = function() return "<Bag: 4 partitions>" end })
  t.eq(pretty({ obj }), "{<Bag: 4 partitions>}")
end)
