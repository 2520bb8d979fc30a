-- Task isolation (API.md section 2): whatever a task changes in the
-- standard library, the globals, package, the collector or the debug
-- hooks, a later task on the same worker starts from the caller's values,
-- and what would end or change the whole process is an error.  Each case
-- runs a changing task then a checking task on one worker, under both
-- schedulers; the checks fail without sandbox.c.
local t = ...

local delayed = dusk.delayed
local db = dusk.bag

local function run(f, scheduler)
  return delayed(f)():compute { scheduler = scheduler, num_workers = 1 }
end

-- name, what a task changes, what a later task must still see
local cases = {
  { "a standard function replaced",
    function() string.format = function() return "HACKED" end end,
    function() return string.format("%d", 5) == "5" end },
  { "a standard constant changed",
    function() math.pi = 3 end,
    function() return math.pi > 3.14 end },
  { "a standard function removed",
    function() table.insert = nil end,
    function() return table.insert ~= nil end },
  { "rawset into a standard table",
    function() rawset(string, "upper", function() return "X" end) end,
    function() return ("a"):upper() == "A" and rawget(string, "upper") ~= nil end },
  { "table.insert into a standard table",
    function() table.insert(package.searchers, 1, function() error("no") end) end,
    function() return #package.searchers == 4 and package.searchers[1] ~= nil end },
  { "_G's metatable",
    function() setmetatable(_G, { __index = function() return 1 end }) end,
    function() return undefined_name == nil end },
  { "the globals through package.loaded._G",
    function() package.loaded._G.leaked = 1; rawset(package.loaded._G, "leaked2", 2) end,
    function() return leaked == nil and leaked2 == nil end },
  { "a standard field deleted",
    function() math.pi = nil; os.execute = nil; rawset(math, "huge", nil) end,
    function() return math.pi ~= nil and os.execute ~= nil and math.huge ~= nil end },
  { "dusk's internal tables",
    function() require("dusk.runner").kinds.agg = function() return 12345 end end,
    function() return dusk.bag.range(10, { npartitions = 2 }):count():compute() == 10 end },
  { "a C type's metatable made after the worker started",
    function() getmetatable(dusk.json.decode("{}")).__index = function() return 42 end end,
    function() return dusk.json.decode('{"a": 1}').missing == nil end },
  { "the real searchers through rawget",
    function() table.insert(rawget(package, "searchers"), 1, function() return function() return "FAKE" end end) end,
    function() return require("string") ~= "FAKE" and #package.searchers == 4 end },
  { "a global through _G",
    function() _G.leaked_global = 1 end,
    function() return leaked_global == nil and _G.leaked_global == nil end },
  { "a global through load",
    function() load("leaked_load = 2")() end,
    function() return leaked_load == nil end },
  { "the string metatable's __index",
    function() getmetatable("").__index = { upper = function() return "X" end } end,
    function() return ("a"):upper() == "A" end },
  { "the string metatable's __add",
    function() getmetatable("").__add = function() return 42 end end,
    function() return "10" + "1" == 11 end },
  { "a C type's methods",
    function() getmetatable(io.stdout).__index.seek = nil end,
    function() return io.stdout.seek ~= nil end },
  { "package.loaded",
    function() package.loaded.string = nil; package.loaded.fake = true end,
    function() return require("string").format ~= nil and package.loaded.fake == nil end },
  { "package.path",
    function() package.path = "/nonexistent/?.lua" end,
    function() return package.path ~= "/nonexistent/?.lua" end },
  { "dusk's own module",
    function() dusk.delayed = nil; dusk.json.decode = nil end,
    function() return dusk.delayed ~= nil and dusk.json.decode ~= nil end },
  { "the collector stopped",
    function() collectgarbage("stop") end,
    function() return collectgarbage("isrunning") end },
  { "the collector's mode",
    function() collectgarbage("incremental") end,
    function() return collectgarbage("generational") end, "the worker's mode" },
  { "a debug hook",
    function() debug.sethook(function() end, "l") end,
    function() return debug.gethook() == nil end },
  { "a type metatable through debug",
    function() debug.setmetatable(0, { __index = function() return "num" end }) end,
    function() return not pcall(function() return (5).x end) end },
  { "the registry through debug",
    function() debug.getregistry()._LOADED.string.rep = nil end,
    function() return string.rep("a", 2) == "aa" end },
  { "the default output file",
    function() io.output(os.tmpname()) end,
    function() return io.output() == io.stdout end },
}

for _, scheduler in ipairs { "threads", "sync" } do
  for _, c in ipairs(cases) do
    local name, change, check, any = c[1], c[2], c[3], c[4]
    t.test(scheduler .. ": " .. name .. " stays in its task", function()
      local before = run(check, scheduler)
      if not any then t.eq(before, true, "before") end
      run(change, scheduler)
      t.eq(run(check, scheduler), before, "after")
      if not any then t.eq(check(), true, "in the caller") end
    end)
  end
end

t.test("a task sees its own changes to the standard library", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    local got = run(function()
      string.upper = function() return "U" end
      math.pi = 3
      load("from_load = 7")()
      return ("a"):upper() .. math.pi .. from_load .. _G.from_load
    end, scheduler)
    t.eq(got, "U377", scheduler)
  end
end)

t.test("standard tables read as usual in a task", function()
  local got = run(function()
    local n = 0
    for k, v in pairs(string) do if type(v) == "function" then n = n + 1 end end
    string.trim_added = function() end
    local seen = false
    for k in pairs(string) do if k == "trim_added" then seen = true end end
    return n > 10 and next(string) ~= nil and rawget(string, "format") == string.format
      and seen and getmetatable(string) == getmetatable({}) == false
  end)
  t.eq(got, true)
end)

t.test("a changed standard library stays in a bag's partition task", function()
  local b = db.from_sequence({ 1, 2 }, { npartitions = 1 })
  local changed = b:map(function(x) table.concat = nil; return x end)
  t.eq(changed:compute { num_workers = 1 }, { 1, 2 })
  local checked = b:map(function(x) return table.concat({ x, x }, "-") end)
  t.eq(checked:compute { num_workers = 1 }, { "1-1", "2-2" })
end)

t.test("a class module a task requires keeps its identity", function()
  local dir = t.tmpdir()
  t.write(dir .. "/isopoint.lua", [[
local Point = {}
Point.__index = Point
function Point.new(x) return setmetatable({ x = x }, Point) end
function Point:double() return self.x * 2 end
return Point
]])
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  local ok, err = pcall(function()
    for _, scheduler in ipairs { "threads", "sync" } do
      for _ = 1, 2 do
        local got = run(function()
          local Point = require "isopoint"
          local p = Point.new(21)
          local q = setmetatable({ x = 2 }, Point)
          return getmetatable(p) == Point and p:double() + q:double()
        end, scheduler)
        t.eq(got, 46, scheduler)
      end
    end
  end)
  package.path = saved
  assert(ok, err)
end)

t.test("a task sees its own deletions, stubs and standard globals as the caller would", function()
  local function probe()
    math.pi = nil
    local n, saw = 0, false
    for k in pairs(_G) do n = n + 1; if k == "print" then saw = true end end
    package.loaded.iso_stub = { name = "stub" }
    package.preload.iso_pre = function() return { name = "preloaded" } end
    return { math.pi == nil, n > 20 and saw, rawget(_G, "print") == print,
             rawlen(package.searchers), require("iso_stub").name, require("iso_pre").name }
  end
  for _, scheduler in ipairs { "threads", "sync" } do
    t.eq(run(probe, scheduler), { true, true, true, 4, "stub", "preloaded" }, scheduler)
    t.eq(run(function() return package.loaded.iso_stub == nil and math.pi ~= nil end, scheduler), true)
  end
  package.loaded.iso_stub, package.preload.iso_pre = nil, nil
  math.pi = math.pi or 4 * math.atan(1)
end)

t.test("strict mode on _G in a task keeps the standard globals", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    t.eq(run(function()
      setmetatable(_G, { __index = function(_, k) error("undefined global " .. k, 2) end })
      return type(print) .. " " .. tostring(pcall(function() return undefined_x end))
    end, scheduler), "function false", scheduler)
    t.eq(run(function() return getmetatable(_G) == nil and type(print) end, scheduler), "function")
  end
end)

t.test("a module reads the globals of the task calling it, and keeps those it defines", function()
  local dir = t.tmpdir()
  t.write(dir .. "/iso_thresh.lua", "function iso_helper(x) return x * 2 end\n" ..
                                   "return { above = function(x) return iso_helper(x) > threshold end }\n")
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  local ok, err = pcall(function()
    local b = db.from_sequence({ 5, 15, 25 }, { npartitions = 3 })
    local function keep(x) local _ = threshold; return require("iso_thresh").above(x) end
    for _, scheduler in ipairs { "threads", "sync" } do
      local o = { scheduler = scheduler, num_workers = 1 }
      threshold = 20
      t.eq(b:filter(keep):count():compute(o), 2, scheduler)
      threshold = 40
      t.eq(b:filter(keep):count():compute(o), 1, scheduler)
    end
  end)
  package.path, threshold, iso_helper = saved, nil, nil
  package.loaded.iso_thresh = nil
  assert(ok, err)
end)

t.test("the steps of a fused chain each start from the caller's values", function()
  local change = delayed(function(x) string.rep = function() return "HACKED" end; return x end)
  local read = delayed(function(x) return string.rep("a", x) end)
  for _, fuse in ipairs { true, false } do
    t.eq(read(change(2)):compute { num_workers = 1, fuse = fuse }, "aa", tostring(fuse))
  end
end)

t.test("debug functions reached through pairs renew the worker", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    run(function() for k, f in pairs(debug) do if k == "sethook" then f(function() end, "l") end end end,
        scheduler)
    t.eq(run(function() return debug.gethook() == nil end, scheduler), true, scheduler)
  end
end)

t.test("a compute nested in a task keeps the task's own changes", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    t.eq(run(function()
      string.outer_mark = "outer"
      local inner = dusk.delayed(function(x) return x + 1 end)
      local n = inner(inner(1)):compute()
      return tostring(string.outer_mark) .. n
    end, scheduler), "outer3", scheduler)
  end
end)

t.test("metatables a task changes act in the task and are put back after", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    t.eq(run(function()
      getmetatable("").__add = function() return "ADD" end
      getmetatable(io.stdout).__index.hello = function() return "hi" end
      return ("1" + {}) .. io.stdout:hello()
    end, scheduler), "ADDhi", scheduler)
    t.eq(run(function()
      return io.stdout.hello == nil and not pcall(function() return "1" + {} end)
    end, scheduler), true, scheduler)
  end
  t.eq(io.stdout.hello, nil)
end)

t.test("package.path, load, dofile and _G in a task as in the caller", function()
  local dir = t.tmpdir()
  t.write(dir .. "/iso_pathmod.lua", "return 'found'\n")
  t.write(dir .. "/iso_chunk.lua", "return _ENV == _G and x_of_task\n")
  for _, scheduler in ipairs { "threads", "sync" } do
    t.eq(run(function()
      package.path = dir .. "/?.lua;" .. package.path
      x_of_task = 7
      return { require "iso_pathmod", package.loaded._G == _G, load("return _ENV")() == _G,
               dofile(dir .. "/iso_chunk.lua"), select(2, pcall(require, "iso_nowhere_" .. string.rep("x", 2000))):len() > 2000 }
    end, scheduler), { "found", true, true, 7, true }, scheduler)
    t.eq(run(function() return pcall(require, "iso_pathmod") end, scheduler), false, scheduler)
  end
end)

t.test("functions made by load or a module travel back from a task", function()
  local dir = t.tmpdir()
  t.write(dir .. "/iso_fnmod.lua", "return { hi = function() return 'hi' end }\n")
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  local ok, err = pcall(function()
    for _, fuse in ipairs { true, false } do
      local made = delayed(function() return load("return function(x) return x * 2 end")() end)()
      local mod = delayed(function() return require("iso_fnmod").hi end)()
      local use = delayed(function(f, g) return f(4) .. g() end)
      t.eq(use(made, mod):compute { num_workers = 1, fuse = fuse }, "8hi", tostring(fuse))
    end
  end)
  package.path = saved
  assert(ok, err)
end)

t.test("a module that sets globals through _G works in every task", function()
  local dir = t.tmpdir()
  t.write(dir .. "/iso_legacy.lua", "_G.iso_seven = function(x) return 7 * x end\n" ..
                                   "rawset(_G, 'iso_eight', 8)\n")
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  local ok, err = pcall(function()
    local b = db.range(4, { npartitions = 4 }):map(function(x) require "iso_legacy"; return iso_seven(x) + iso_eight end)
    for _, scheduler in ipairs { "threads", "sync" } do
      t.eq(b:compute { scheduler = scheduler, num_workers = 1 }, { 8, 15, 22, 29 }, scheduler)
    end
  end)
  package.path = saved
  assert(ok, err)
end)

t.test("the globals load gives are the task's, not the worker's", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    t.eq(run(function() rawset(load("return _ENV")(), "iso_leak", 1); return iso_leak end, scheduler), 1)
    t.eq(run(function() return load("return iso_leak")() == nil and iso_leak == nil end, scheduler), true)
  end
end)

t.test("debug.getinfo hands out no real require", function()
  local dir = t.tmpdir()
  t.write(dir .. "/iso_grab.lua", "local fs = {} for lv = 2, 8 do local i = debug.getinfo(lv, 'f') " ..
                                 "if i then fs[#fs + 1] = i.func end end return fs\n")
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  local ok, err = pcall(function()
    for _, scheduler in ipairs { "threads", "sync" } do
      run(function()
        for _, fn in ipairs(require "iso_grab") do
          local got, bo = pcall(fn, "dusk.bagops")
          if got and type(bo) == "table" and bo.reductions then
            bo.reductions.count.combine = function() return 999 end
          end
        end
      end, scheduler)
      t.eq(db.range(10, { npartitions = 2 }):count():compute { scheduler = scheduler, num_workers = 1 }, 10)
    end
  end)
  package.path = saved
  assert(ok, err)
end)

t.test("a package.path the caller put back is the workers' again", function()
  local saved = package.path
  for _, scheduler in ipairs { "threads", "sync" } do
    package.path = "/iso/nowhere/?.lua;" .. saved
    t.eq(run(function() return package.path:sub(1, 12) end, scheduler), "/iso/nowhere")
    package.path = saved
    t.eq(run(function() return package.path end, scheduler), saved, scheduler)
  end
end)

-- What would end or change the whole process is an error in the task.
local refused = {
  { "os.exit", function() os.exit(3) end },
  { "os.exit in pcall", function() local ok, e = pcall(os.exit, 3); error(e, 0) end },
  { "os.setlocale", function() os.setlocale("C") end },
  { "package.loadlib", function() package.loadlib("libc.so.6", "exit") end },
}
for _, scheduler in ipairs { "threads", "sync" } do
  for _, c in ipairs(refused) do
    t.test(scheduler .. ": " .. c[1] .. " in a task is an error", function()
      local ok, err = pcall(run, c[2], scheduler)
      t.eq(ok, false)
      local fname = c[1]:match("^[%w.]+")
      t.truthy(tostring(err):find(fname, 1, true), tostring(err))
      t.eq(run(function() return 1 end, scheduler), 1)
    end)
  end
end

t.test("os.setlocale can still be read in a task", function()
  t.eq(run(function() return os.setlocale() end), os.setlocale())
end)

t.test("a task that cannot be cleaned leaves a working worker", function()
  for _, scheduler in ipairs { "threads", "sync" } do
    run(function() debug.sethook(function() end, "l") end, scheduler)
    local b = db.range(10, { npartitions = 2 }):map(function(x) return x * 2 end)
    t.eq(b:sum():compute { scheduler = scheduler, num_workers = 1 }, 90)
  end
end)

-- (lauxlib names a C function by finding it in package.loaded, as
-- 'string.rep'; through views it found nothing and wrote '?')
t.test("standard and dusk functions keep their names in a task's errors and tracebacks", function()
  local dir = t.tmpdir()
  t.write(dir .. "/isonamed.lua", "return { fail = function() return string.rep() end }")
  local saved = package.path
  package.path = dir .. "/?.lua;" .. package.path
  local function probe(dirty)
    if dirty then -- (first writes and traversals copy the views)
      string.myfield, math.pi, table.x, package.loaded.isofoo = 1, 3, 1, {}
      for _ in pairs(_G) do end
      for _ in pairs(package.loaded) do end
    end
    local named = require "isonamed"
    local out = {}
    for _, call in ipairs {
      function() return string.rep() end, function() return math.floor("x") end,
      function() return table.insert(1, 2) end, function() return io.lines({}) end,
      function() return dusk.json.encode({ f = print }) end,
      function() return require("dusk.core").list_length(1) end,
      function() return named.fail() end,
    } do
      local _, e = pcall(function() local r = call() return r end)
      local _, tb = xpcall(function() local r = call() return r end, debug.traceback)
      out[#out + 1] = e:gsub("^[^\n]-:%d+: ", "") .. " | " .. tb:match("\n\t%[C%]: in [^\n]*")
                      .. (tb:match("\n\t[^\n]*isonamed[^\n]*") or "")
    end
    return table.concat(out, "\n")
  end
  local ok, err = pcall(function()
    local want = probe(false)
    for _, name in ipairs { "'string.rep'", "'math.floor'", "'table.insert'", "'io.lines'",
                            "'dusk.json.encode'", "'dusk.core.list_length'", "'isonamed.fail'" } do
      t.truthy(want:find(name, 1, true), name .. " in " .. want)
    end
    for _, scheduler in ipairs { "threads", "sync" } do
      for _, dirty in ipairs { false, true } do
        t.eq(run(function() return probe(dirty) end, scheduler), want, scheduler)
      end
    end
  end)
  package.path = saved
  assert(ok, err)
end)
