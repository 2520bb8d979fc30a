#!/usr/bin/env dusk
-- hello: the first thing to run.  Counts the words of the files given as
-- arguments (the samples themselves if none), one lazy task per file run
-- in parallel, merges the counts in another task and prints the ten most
-- frequent words.
--
--   dusk samples/hello.lua [file ...]

local delayed = dusk.delayed

local files = { ... }
if #files == 0 then
  local dir = arg[0]:match("^(.*)/[^/]*$") or "."
  for _, name in ipairs({ "hello.lua", "delayed_basics.lua", "grid_search.lua" }) do
    files[#files + 1] = dir .. "/" .. name
  end
end

local count_words = delayed(function(path)
  local counts = {}
  local f = assert(io.open(path))
  for word in f:read("a"):lower():gmatch("%a+") do
    counts[word] = (counts[word] or 0) + 1
  end
  f:close()
  return counts
end, { name = "count_words" })

local merge = delayed(function(all)
  local total = {}
  for _, counts in ipairs(all) do
    for word, n in pairs(counts) do total[word] = (total[word] or 0) + n end
  end
  local words = {}
  for word, n in pairs(total) do words[#words + 1] = { word = word, n = n } end
  table.sort(words, function(a, b) return a.n > b.n or (a.n == b.n and a.word < b.word) end)
  return table.move(words, 1, math.min(10, #words), 1, {})
end, { name = "merge" })

local per_file = {}
for i, path in ipairs(files) do per_file[i] = count_words(path) end
local top = merge(per_file)

print(string.format("dusk %s: the most frequent words of %d file(s), %s",
                    dusk.version, #files, tostring(top)))
print(dusk.pretty(top:compute()))
