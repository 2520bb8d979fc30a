-- Errors a person can act on: error tables come back as raised, misuse
-- names the user's line, "cannot send" names the argument, nesting stops
-- at the documented 200 levels, options are checked.
local t = ...
local delayed = dusk.delayed
local db = dusk.bag

local SCHEDULERS = { { scheduler = "sync" }, { scheduler = "threads" },
                     { scheduler = "threads", num_workers = 1 },
                     { scheduler = "threads", num_workers = 3 } }

-- The error 'fn' raises (it must raise).
local function err_of(fn, ...)
  local ok, e = pcall(fn, ...)
  t.truthy(not ok, "expected an error")
  return e
end

---------------------------------------------------------------- error tables

local E = { __tostring = function(e) return "E" .. e.code end }

-- Every way a task runs a user's function, raising 'raise(x)' at element
-- or argument 42.
local function failing(raise)
  local one = function(x) if x == 42 then raise(x) end return x end
  local b = db.from_sequence({ 41, 42, 43 }, { npartitions = 3 })
  return {
    delayed = delayed(one)(42),
    ["delayed, a table argument"] = delayed(function(t_) return one(t_[1]) end)({ 42 }),
    ["delayed of a delayed"] = delayed(one)(delayed(function() return 42 end)()),
    map = b:map(one),
    filter = b:filter(one),
    ["map, then sum"] = b:map(one):sum(),
    fold = b:fold(function(acc, x) return acc + one(x) end, nil, 0),
    reduction = b:reduction(function(p) for _, x in ipairs(p) do one(x) end return 0 end,
                            function() return 0 end),
    map_partitions = b:map_partitions(function(p) for _, x in ipairs(p) do one(x) end return p end),
    ["range (run in C)"] = db.range(50, { npartitions = 2 }):map(function(x) return one(x) end):sum(),
    ["a compute inside a task"] = delayed(function() return delayed(one)(42):compute() end)(),
  }
end

t.test("an error table reaches the caller as the table, for every collection and scheduler", function()
  for what, c in pairs(failing(function(x) error(setmetatable({ code = x, list = { 1, 2 } }, E)) end)) do
    for _, o in ipairs(SCHEDULERS) do
      local e = err_of(c.compute, c, o)
      local where = what .. " " .. o.scheduler .. (o.num_workers or "")
      t.eq(type(e), "table", where)
      t.eq(e.code, 42, where)
      t.eq(e.list, { 1, 2 }, where)
      t.eq(tostring(e), "E42", where .. ": its metatable came with it")
      e = err_of(dusk.compute, delayed(1), c, o)
      t.eq(e.code, 42, where .. ", in dusk.compute")
      e = err_of(c.persist, c, o)
      t.eq(e.code, 42, where .. ", persisted")
    end
  end
end)

t.test("a string error keeps naming the task and the user's line", function()
  local line = debug.getinfo(1, "l").currentline + 1
  for what, c in pairs(failing(function(x) error("boom " .. x) end)) do
    for _, o in ipairs(SCHEDULERS) do
      local e = err_of(c.compute, c, o)
      t.eq(type(e), "string", what)
      t.truthy(e:find("^task .- failed: .*errors_test%.lua:" .. line .. ": boom 42"), what .. ": " .. e)
      t.truthy(e:find("\nstack traceback:\n", 1, true), what .. ": " .. e)
    end
  end
end)

t.test("an error table that cannot travel is reported by its __tostring, and why", function()
  for what, c in pairs(failing(function(x) error(setmetatable({ code = x, co = coroutine.create(print) }, E)) end)) do
    if what ~= "a compute inside a task" then -- (its inner task fails first)
      for _, o in ipairs(SCHEDULERS) do
        local e = err_of(c.compute, c, o)
        t.eq(type(e), "string", what)
        t.truthy(e:find("^task .- failed: .*E42 %(an error table that cannot be sent back: " ..
                        "cannot send a coroutine: field 'co' of the error%)"), what .. ": " .. e)
      end
    end
  end
  local e = err_of(function() delayed(function() error({ co = coroutine.create(print) }) end)():compute() end)
  t.truthy(e:find("failed: (error object is a table value) (an error table that cannot", 1, true), e)
end)

t.test("an uncaught error table: the script's report names the task and where it was raised", function()
  local dir = t.tmpdir()
  t.write(dir .. "/raise.lua", "local f = dusk.delayed(function()\n  error({code = 42})\nend)\nf():compute()\n")
  local code, out, err = t.sh(t.dusk .. " " .. dir .. "/raise.lua")
  t.eq(code, 1)
  t.eq(out, "")
  t.truthy(err:find("^dusk: task raise%.lua:1%-%d+ failed: %(error object is a table value%)\n" ..
                    "stack traceback:\n.*raise%.lua:2:"), err)
  os.remove(dir .. "/raise.lua")
  os.remove(dir)
end)

---------------------------------------------------------------- the user's line

-- Writes 'lines' as a script and runs it with dofile; returns the error
-- and the script's name.
local function script_error(lines)
  local dir = t.tmpdir()
  local path = dir .. "/user_script.lua"
  t.write(path, table.concat(lines, "\n") .. "\n")
  local ok, e = pcall(dofile, path)
  os.remove(path)
  os.remove(dir)
  t.truthy(not ok, "the script raises")
  return tostring(e)
end

local MISUSES = {
  "b:map(42)",
  "db.from_sequence(5)",
  "db.from_sequence({1}, {npartitions = 0})",
  "db.from_sequence({1}, {bogus = 1})",
  "db.range(-1)",
  "b:topk('x')",
  "b:take('x')",
  "b:repartition(0)",
  "b:sum{split_every = 1}",
  "b:filter(nil)",
  "b:pluck()",
  "b:groupby()",
  "db.from_delayed({5})",
  "db.read_text(5)",
  "db.read_text('/etc/hostname', {blocksize = 'zz'})",
  "db.read_text('/etc/hostname', {compression = 5})",
  "db.read_json('/no/such/file')",
  "db.read_json('/etc/hostname', {bogus = 1})",
  "b:compute{num_workers = 0}",
  "b:compute{scheduler = 'nope'}",
  "b:compute{scheduler = 'processes'}",
  "b:compute{bogus = 1}",
  "b:compute(5)",
  "b:persist{progress = 5}",
  "dusk.compute(b, {num_workers = -1})",
  "dusk.persist(b, {fuse = 1})",
  "d:compute{num_workers = 0}",
  "d:compute{bogus = 1}",
  "d:persist{bogus = 1}",
  "delayed(print, {nout = -1})",
  "delayed(print, {bogus = 1})",
  "delayed(print, 5)",
  "delayed(5, {bogus = 1})",
  "dusk.config.set{num_workers = 0}",
  "dusk.config.set(5)",
  "d:visualize(5)",
}

t.test("misuse names the user's file and line, wherever dusk finds it", function()
  for _, call in ipairs(MISUSES) do
    local e = script_error({
      "local db, delayed = dusk.bag, dusk.delayed",
      "local b, d = db.from_sequence({1, 2}), delayed(1)",
      call,
    })
    t.truthy(e:find("^/tmp/[^:]*/user_script%.lua:3: "), call .. ": " .. e)
    t.truthy(not e:find("lua/dusk", 1, true), call .. ": " .. e)
  end
end)

t.test("misuse inside the user's own function names that function's line", function()
  local e = script_error({
    "local function helper(b)",
    "  local m = b:map(42)",
    "  return m",
    "end",
    "helper(dusk.bag.from_sequence({1}))",
  })
  t.truthy(e:find("user_script%.lua:2: map: expected a function"), e)
end)

t.test("misuse in a script run as a file: the report names its line", function()
  local dir = t.tmpdir()
  t.write(dir .. "/bad.lua", "local b = dusk.bag.from_sequence({1})\n\nb:compute{num_workers = 0}\n")
  local code, _, err = t.sh(t.dusk .. " " .. dir .. "/bad.lua")
  t.eq(code, 1)
  t.truthy(err:find("bad%.lua:3: compute: num_workers must be a positive integer, not 0"), err)
  os.remove(dir .. "/bad.lua")
  os.remove(dir)
end)

t.test("dusk's own task messages name the user's function first", function()
  local e = script_error({
    -- one partition: with two, both fail and the job keeps whichever
    -- failed first, element 1 or 2 (ThreadSanitizer's timing made it 2)
    "local b = dusk.bag.from_sequence({1, 2}, {npartitions = 1})",
    "local f = function(x)",
    "  return nil",
    "end",
    "b:map(f):compute()",
  })
  t.truthy(e:find("map failed on element 1: /tmp/[^:]*/user_script%.lua:2: it returned nil"), e)
end)

---------------------------------------------------------------- cannot send

t.test("cannot send: the path names the argument of the operation", function()
  local co = coroutine.create(print)
  local b = db.from_sequence({ 1 })
  local line = debug.getinfo(1, "l").currentline
  local cases = {
    { function() return b:map(function() return co end) end,
      "cannot send a coroutine: upvalue 'co' of function at " .. debug.getinfo(1, "S").short_src ..
      ":" .. (line + 2) .. " of argument 1 of map (in task map-" },
    { function() return b:map(function(x, y) return x end, co) end, "cannot send a coroutine: argument 2 of map" },
    { function() return b:map(function(x, y, z) return x end, 1, { co }) end,
      "cannot send a coroutine: field [1] of argument 3 of map" },
    { function() return b:filter(string.gmatch("a", "a")) end,
      "cannot send a C function not reachable from package.loaded: argument 1 of filter" },
    { function() return b:map_partitions(function(p, y) return p end, { a = co }) end,
      "cannot send a coroutine: field 'a' of argument 2 of map_partitions" },
    { function() return b:map(function(x) return x end):map(function(x, y) return x end, co) end,
      "cannot send a coroutine: argument 2 of map" },
    { function() return delayed(function(x) return 1 end)({ a = { co } }) end,
      "cannot send a coroutine: field [1] of field 'a' of argument 1 (in task" },
    { function() return delayed(function(x, y) return 1 end)(1, co) end,
      "cannot send a coroutine: argument 2 (in task" },
    { function() return delayed({ co }) end, "cannot send a coroutine: field [1] of the value" },
  }
  for _, c in ipairs(cases) do
    for _, o in ipairs(SCHEDULERS) do t.raises(c[2], function() c[1]():compute(o) end) end
  end
end)

t.test("cannot send a result: the path says it is the result", function()
  t.raises("failed: cannot send a coroutine: field [1] of the result", function()
    db.from_sequence({ 1 }):map(function() return coroutine.create(print) end):compute()
  end)
  t.raises("failed: cannot send a coroutine: the result", function()
    delayed(function() return coroutine.create(print) end)():compute()
  end)
end)

---------------------------------------------------------------- nesting

local function nest(v, n)
  for _ = 1, n do v = { v } end
  return v
end

local function unnest(v)
  local n = 0
  while type(v) == "table" do v, n = v[1], n + 1 end
  return n, v
end

t.test("arguments nested 200 levels go; 201 is the documented error, at the user's line", function()
  local depth = delayed(function(v) return (unnest(v)) end)
  local b = db.from_sequence({ 1 })
  for _, o in ipairs(SCHEDULERS) do
    t.eq(depth(nest(1, 200)):compute(o), 200)
    t.eq(depth(nest(delayed(1), 200)):compute(o), 200)
    t.eq(unnest(delayed(nest(delayed(1), 200)):compute(o)), 200)
    t.eq(b:map(function(x, v) return (unnest(v)) end, nest(1, 200)):compute(o), { 200 })
  end
  local here = "errors_test.lua:" .. (debug.getinfo(1, "l").currentline + 3) .. ": "
  local msg = "cannot send a value nested more than 200 levels deep: "
  for _, n in ipairs({ 201, 100000 }) do
    t.raises(here .. msg .. "argument 1 of", function() depth(nest(1, n)) end)
    t.raises(msg .. "argument 1 of", function() depth(nest(delayed(1), n)) end)
    t.raises(msg .. "argument 2 of", function() depth(1, nest(1, n)) end)
    t.raises(msg .. "the value of delayed", function() delayed(nest(delayed(1), n)) end)
    t.raises(msg .. "argument 2 of map", function() b:map(function(x) return x end, nest(1, n)) end)
    t.raises(msg .. "argument 3 of map_partitions", function()
      b:map_partitions(function(p) return p end, 1, nest(delayed(1), n))
    end)
  end
end)

t.test("values nested past the limit elsewhere (an upvalue, a result) are refused, never a crash", function()
  local deep = nest(1, 100000)
  t.raises("cannot send a value nested more than 200 levels deep", function()
    delayed(function() return deep end)():compute()
  end)
  t.raises("cannot send a value nested more than 200 levels deep: the result", function()
    delayed(function() return nest(1, 100000) end)():compute()
  end)
end)

---------------------------------------------------------------- options

t.test("delayed's options: nout a non-negative integer, name a string, pure a boolean, nothing else", function()
  local f = function() return 1, 2, 3 end
  for _, bad in ipairs({ -1, 1.5, "2", true }) do
    t.raises("delayed: nout must be a non-negative integer, not " ..
             (type(bad) == "string" and '"2"' or tostring(bad)), function() delayed(f, { nout = bad }) end)
  end
  t.raises("delayed: name must be a non-empty string, not 5", function() delayed(f, { name = 5 }) end)
  t.raises('delayed: name must be a non-empty string, not ""', function() delayed(f, { name = "" }) end)
  t.raises("delayed: pure must be a boolean, not 1", function() delayed(f, { pure = 1 }) end)
  t.raises('delayed: unknown option "nuot"', function() delayed(f, { nuot = 2 }) end)
  t.raises('delayed: unknown option "nout"', function() delayed(5, { nout = 2 }) end)
  t.raises("delayed: options must be a table, not a number", function() delayed(f, 2) end)
  t.eq(delayed(5, { name = "five" }).key:match("^five%-"), "five-")
end)

t.test("nout keeps exactly nout results (2.0 is 2; 0 keeps none, as Dask's empty tuple)", function()
  local three = function(...) return 1, 2, 3 end
  for _, o in ipairs(SCHEDULERS) do
    for _, args in ipairs({ { 1 }, { { 1 } } }) do -- a direct call, and one through the runner
      local two = delayed(three, { nout = 2.0 })(table.unpack(args))
      t.eq({ two:compute(o) }, { 1, 2 })
      t.eq(select("#", two:compute(o)), 2)
      t.eq(dusk.compute(two, o), { 1, 2, n = 2 })
      t.eq(two[2]:compute(o), 2)
      local none = delayed(three, { nout = 0 })(table.unpack(args))
      t.eq(select("#", none:compute(o)), 0)
      t.eq(dusk.compute(none, o), { n = 0 })
    end
  end
end)

t.test("compute and persist options: unknown keys and wrong types are errors naming them", function()
  local d = delayed(1)
  local b = db.from_sequence({ 1 })
  for _, c in ipairs({ { d, "compute" }, { b, "compute" }, { d, "persist" }, { b, "persist" } }) do
    local x, m = c[1], c[2]
    t.raises(m .. ': unknown option "sheduler"', function() x[m](x, { sheduler = "sync" }) end)
    t.raises(m .. ": options must be a table, not a string", function() x[m](x, "sync") end)
    t.raises(m .. ": num_workers must be a positive integer, not 0", function() x[m](x, { num_workers = 0 }) end)
    t.raises(m .. ": fuse must be a boolean, not 1", function() x[m](x, { fuse = 1 }) end)
    t.raises(m .. ": progress must be a boolean", function() x[m](x, { progress = "yes" }) end)
    t.raises(m .. ": scheduler must be one of", function() x[m](x, { scheduler = 1 }) end)
  end
  t.eq(d:compute({ num_workers = 2.0 }), 1)
  t.raises("dusk.compute: num_workers must be a positive integer", function()
    dusk.compute(d, { num_workers = 1.5 })
  end)
end)

---------------------------------------------------------------- planning

t.test("planning's failures reach the user each as its own message", function()
  local core = require "dusk.core"
  local b = db.from_sequence({ 1, 2, 3 }, { npartitions = 3 })
  local name = core.name(b._layer)
  t.eq(err_of(core.compute, { b._layer }, { 4 }), "task 4 of " .. name .. ", which has 3")
  t.eq(err_of(core.plan, { b._layer }, { 4 }), "task 4 of " .. name .. ", which has 3")
  t.raises("task indexes start at 1", core.plan, { b._layer }, { 0 })
  -- 4.2e9 partitions counted, and their tree: more than 2^32 - 1 tasks,
  -- refused before anything per task is allocated
  local huge = db.range(4200000000, { npartitions = 4200000000 }):count()
  for _, o in ipairs(SCHEDULERS) do
    t.eq(err_of(huge.compute, huge, o),
         "the graph is too large to plan: its tasks, or their reads, number 2^32 - 1 or more")
  end
  -- (out of memory, "not enough memory to plan the graph": tests/unit/test_lrun.c)
  t.eq(b:sum():compute(), 6)
end)
