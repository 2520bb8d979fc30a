#!/usr/bin/env dusk
-- Word count over text files: read_text, split into words, frequencies,
-- the most common.  Counts the man pages and samples by default.
--
--   dusk samples/wordcount.lua [glob ...]

local db = dusk.bag
local here = arg[0]:match("^(.*)/[^/]*$") or "."
local inputs = { ... }
if #inputs == 0 then inputs = { here .. "/../man/*.md", here .. "/*.lua" } end

local paths = {}
for _, p in ipairs(inputs) do
  for _, f in ipairs(require("dusk.io").expand(p)) do paths[#paths + 1] = f end
end

local counts = db.read_text(paths)
  :map(function(line)
    local words = {}
    for w in line:lower():gmatch("%a+") do words[#words + 1] = w end
    return words
  end)
  :flatten()
  :frequencies()

print(string.format("%d files, %d distinct words", #paths, counts:count():compute()))
for _, p in ipairs(counts:topk(10, 2):compute()) do
  print(string.format("  %-12s %d", p[1], p[2]))
end
