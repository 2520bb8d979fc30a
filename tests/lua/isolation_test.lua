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
  { "getmetatable(_G).__index written",
    function() getmetatable(_G).__index.leaked = 1 end,
    function() return leaked == nil end },
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
