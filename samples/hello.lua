#!/usr/bin/env dusk
-- hello: the first thing to run.  Counts the words of the files given as
-- arguments (this file if none) and prints the ten most frequent, using
-- the REPL's pretty-printer for the result.
--
--   dusk samples/hello.lua [file ...]

local files = { ... }
if #files == 0 then files = { arg[0] } end

local counts = {}
for _, path in ipairs(files) do
  local f = assert(io.open(path))
  for word in f:read("a"):lower():gmatch("%a+") do
    counts[word] = (counts[word] or 0) + 1
  end
  f:close()
end

local words = {}
for word, n in pairs(counts) do words[#words + 1] = { word = word, n = n } end
table.sort(words, function(a, b) return a.n > b.n or (a.n == b.n and a.word < b.word) end)

print(string.format("dusk %s: the most frequent words of %d file(s)", dusk.version, #files))
print(dusk.pretty(table.move(words, 1, math.min(10, #words), 1, {})))
