local t = ...
-- The samples run as a user runs them, from the project's top directory.

local function run(script)
  local code, out, err = t.sh("cd .. && " .. t.dusk .. " samples/" .. script)
  t.eq(code, 0, script .. " failed: " .. err)
  return out
end

t.test("hello counts words in parallel", function()
  local out = run("hello.lua")
  t.truthy(out:find("^dusk %d+%.%d+%.%d+: the most frequent words of 3 file%(s%), Delayed%('merge%-%d+'%)"), out)
  t.truthy(out:find('word = "local"', 1, true), out)
end)

t.test("delayed basics", function()
  local out = run("delayed_basics.lua")
  t.truthy(out:find("total = 116, total*10 = 1160, total-10 = 106", 1, true), out)
  t.truthy(out:find("sum of inc(1..10000):\t50015000", 1, true), out)
end)

t.test("grid search finds the line", function()
  local out = run("grid_search.lua")
  t.truthy(out:find("a=2.99%d b=2.00%d"), out)
end)

t.test("bag basics", function()
  local out = run("bag_basics.lua")
  t.truthy(out:find("{4.0, 16.0, 36.0, 64.0, 100.0}", 1, true), out)
  t.truthy(out:find('most common:\t{{"apple", 3}}', 1, true), out)
end)

t.test("word count over text files", function()
  local out = run("wordcount.lua")
  t.truthy(out:find("^%d+ files, %d+ distinct words\n"), out)
  t.truthy(out:find("\n  the +%d+\n"), out)
end)

t.test("the accounts JSON pipeline", function()
  local out = run("accounts.lua")
  t.truthy(out:find("dusk.Bag<map, npartitions=3", 1, true), out)
  t.truthy(out:find("names with the most accounts whose first transaction is positive:\n  %a+ +%d+"), out)
  t.truthy(out:find("largest totals by name:\n  %a+ +%-?%d+"), out)
end)
