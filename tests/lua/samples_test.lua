local t = ...
-- The samples run as a user runs them, from the project's top directory
-- (the quick ones with each scheduler); each prints exactly
-- samples/NAME.out, whose
-- answers were computed apart (tests/lua/samples_reference.py: Dask's
-- bag, pandas, numpy), but for what changes from run to run, masked in
-- both: timings, the number of workers and dusk's version.  Changing a
-- sample means making its .out again with that script.

local function masked(out)
  out = out:gsub("%(%d+%.%d+ s, %d+ workers%)", "(<time> s, <n> workers)")
  out = out:gsub("%(%d+%.%d+ s%)", "(<time> s)")
  out = out:gsub("^dusk " .. dusk.version:gsub("%p", "%%%0") .. ":", "dusk <version>:")
  return out
end

local function check(name, args, schedulers)
  local want = t.read("../samples/" .. name .. ".out")
  for _, scheduler in ipairs(schedulers or { "threads" }) do
    local code, out, err = t.sh("cd .. && DUSK_SCHEDULER=" .. scheduler .. " " .. t.dusk ..
                                " samples/" .. name .. ".lua" .. (args or ""))
    t.eq(code, 0, name .. " failed: " .. err)
    t.eq(masked(out), want, name .. " with " .. scheduler)
  end
end

local BOTH = { "threads", "sync" }
t.test("hello counts words in parallel", function() check("hello", nil, BOTH) end)
t.test("delayed basics", function() check("delayed_basics") end)
t.test("grid search finds the line", function() check("grid_search") end)
t.test("bag basics", function() check("bag_basics", nil, BOTH) end)
t.test("word count over text files", function() check("wordcount", " 'samples/*.lua'", BOTH) end)
t.test("the accounts JSON pipeline", function() check("accounts") end)
t.test("array basics: sums, a graph, fused elementwise", function() check("array_basics", nil, BOTH) end)
t.test("the seeds' random mean (a smaller cube)", function() check("array_mean", " 200", BOTH) end)
t.test("the seeds' dot and std", function() check("array_dot", " 600") end)
t.test("arrays through HDF5, centred", function() check("array_hdf5") end)
t.test("the seeds' taxi groupby", function() check("taxi_groupby", nil, BOTH) end)
t.test("students grouped by household", function() check("students_groupby") end)
t.test("missing values counted and filled", function() check("missing_values", nil, BOTH) end)
