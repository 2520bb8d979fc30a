local t = ...
local delayed = dusk.delayed
local core = require "dusk.core"

local SCHEDULERS = { { scheduler = "sync" }, { scheduler = "threads" },
                     { scheduler = "threads", num_workers = 1 },
                     { scheduler = "threads", num_workers = 3 } }

local inc = delayed(function(x) return x + 1 end, { name = "inc" })
local add = delayed(function(x, y) return x + y end, { name = "add" })

t.test("inc and add: the seed example", function()
  local d = add(inc(1), inc(2))
  for _, o in ipairs(SCHEDULERS) do t.eq(d:compute(o), 5, o.scheduler) end
  t.eq(d:compute(), 5)
end)

t.test("nothing runs until compute", function()
  local ran = false
  local f = delayed(function() ran = true; return 1 end)
  local d = f()
  t.eq(ran, false)
  t.eq(d:compute({ scheduler = "sync" }), 1)
  t.eq(ran, false, "the task ran on a worker's copy, not here")
end)

t.test("types are kept: integers, floats, strings, booleans, nil, tables", function()
  local id = delayed(function(...) return ... end)
  for _, v in ipairs({ 3, 3.0, -0.5, math.mininteger, "s\0x", true, false }) do
    local got = id(v):compute()
    t.eq(got, v)
    t.eq(math.type(got), math.type(v))
  end
  t.eq(id(nil):compute(), nil)
  t.eq(id({ 1, { a = "b" } }):compute(), { 1, { a = "b" } })
  t.eq(math.type(add(1, 2):compute()), "integer")
  t.eq(math.type(add(1, 2.0):compute()), "float")
end)

t.test("delayed(value) and Delayed objects nested in tables", function()
  t.eq(delayed(42):compute(), 42)
  local d = inc(1)
  t.truthy(delayed(d) == d, "a Delayed stays itself")
  local sum = delayed(function(t)
    return t.a + t.list[1] + t.list[2].deep + t.plain
  end)
  t.eq(sum({ a = d, list = { inc(10), { deep = inc(100) } }, plain = 1000 }):compute(), 2 + 11 + 101 + 1000)
  t.eq(delayed({ inc(1), inc(2), "x" }):compute(), { 2, 3, "x" })
end)

t.test("the same Delayed twice among the arguments", function()
  local d = inc(4)
  t.eq(add(d, d):compute(), 10)
  t.eq(delayed(function(a, t) return a * t[1] end)(d, { d }):compute(), 25)
end)

t.test("operators, fields, indexing and calls are lazy", function()
  local d = inc(4)               -- 5
  t.eq((d + 1):compute(), 6)
  t.eq((1 + d):compute(), 6)
  t.eq((d * 2 - 1):compute(), 9)
  t.eq((d / 2):compute(), 2.5)
  t.eq((d // 2):compute(), 2)
  t.eq((d % 3):compute(), 2)
  t.eq((d ^ 2):compute(), 25.0)
  t.eq((-d):compute(), -5)
  t.eq((d .. "s"):compute(), "5s")
  t.eq((d & 4 | 2 ~ 1):compute(), 7)
  local rec = delayed({ name = "dusk", items = { { id = 7 } }, compute = "field" })
  t.eq(rec.name:compute(), "dusk")
  t.eq(rec.items[1].id:compute(), 7)
  t.eq(rec["name"]:compute(), "dusk")
  t.eq((#rec.items):compute(), 1)
  t.eq(rec:get("compute"):compute(), "field", "reserved names through get")
  t.eq(type(rec.persist), "function", "a method, not a lazy field")
  t.eq(delayed({ persist = 1 }):get("persist"):compute(), 1)
  local f = delayed(function() return function(a, b) return a * b end end)()
  t.eq(f(6, 7):compute(), 42)
  t.truthy(tostring(d):match("^Delayed%('inc%-%d+'%)$"), tostring(d))
  t.truthy(d.key:match("^inc%-%d+$"))
end)

t.test("nout: several results", function()
  local divmod = delayed(function(a, b) return a // b, a % b end, { nout = 2 })
  local d = divmod(17, 5)
  t.eq({ d:compute() }, { 3, 2 })
  t.eq(d[1]:compute(), 3)
  t.eq(d[2]:compute(), 2)
  t.eq(add(d[1], d[2]):compute(), 5)
  local two = delayed(function() return 1, 2 end)
  t.eq({ two():compute() }, { 1 }, "without nout only the first value")
end)

t.test("dusk.compute: several values, options, plain values", function()
  local a, b, c = dusk.compute(inc(1), inc(2), "plain", { scheduler = "sync" })
  t.eq({ a, b, c }, { 2, 3, "plain" })
  local x, y = dusk.compute(inc(1), { scheduler = "x" and "threads" })
  t.eq({ x, y }, { 2, nil })
  local tbl = { name = 1 } -- not all option names: a value, not options
  local v, w = dusk.compute(inc(0), tbl)
  t.eq(v, 1)
  t.truthy(w == tbl)
  t.eq(select("#", dusk.compute()), 0)
end)

t.test("a shared dependency runs once in dusk.compute", function()
  local path = os.tmpname()
  local touch = delayed(function(p)
    local f = assert(io.open(p, "a"))
    f:write("ran\n")
    f:close()
    return 10
  end)
  local shared = touch(path)
  local a, b, c = dusk.compute(shared + 1, shared + 2, add(shared, shared))
  t.eq({ a, b, c }, { 11, 12, 20 })
  local n = 0
  for _ in io.lines(path) do n = n + 1 end
  os.remove(path)
  t.eq(n, 1, "the shared task ran once")
end)

t.test("pure calls share keys", function()
  local f = delayed(function(x) return x * 2 end, { pure = true, name = "double" })
  local a, b, c = f(21), f(21), f(22)
  t.truthy(a == b, "same function and arguments: the same Delayed")
  t.truthy(a ~= c)
  t.truthy(a.key:match("^double%-%x+$"), a.key)
  t.eq(a:compute(), 42)
  local g = delayed(function(x) return x end)
  t.truthy(g(1).key ~= g(1).key, "impure calls get keys of their own")
end)

t.test("culling: only what the requested keys need is planned", function()
  local a, b = inc(1), inc(2)
  local unrelated = add(a, a)
  local p = core.plan({ b }, { 1 })
  t.eq(#p.tasks, 1)
  t.eq(p.tasks[1].chain[1].name, b.key)
  local _ = unrelated
end)

t.test("fusion: a linear chain is one task, shared results are not fused", function()
  local chain = inc(inc(inc(1)))
  local p = core.plan({ chain }, { 1 })
  t.eq(#p.tasks, 1, "one fused task")
  t.eq(#p.tasks[1].chain, 3)
  t.eq(p.tasks[1].chain[3].name, chain.key)
  t.eq(#core.plan({ chain }, { 1 }, false).tasks, 3, "without fusion")
  t.eq(chain:compute(), 4)
  local shared = inc(1)
  local p2 = core.plan({ add(inc(shared), inc(shared)) }, { 1 })
  t.eq(#p2.tasks, 4, "the shared task stands alone; each inc fuses with nothing")
  t.eq(inc(inc(inc(1))):compute({ fuse = false }), 4)
end)

t.test("a tree sum over 1,000 leaves, the same everywhere", function()
  local level = {}
  for i = 1, 1000 do level[i] = inc(i) end
  while #level > 1 do
    local nxt = {}
    for i = 1, #level, 2 do nxt[#nxt + 1] = level[i + 1] and add(level[i], level[i + 1]) or level[i] end
    level = nxt
  end
  for _, o in ipairs(SCHEDULERS) do t.eq(level[1]:compute(o), 500500 + 1000, o.scheduler) end
end)

t.test("a failing task names itself, keeps its message and traceback", function()
  local boom = delayed(function(x) if x > 1 then error("too big: " .. x) end return x end,
                       { name = "check" })
  for _, o in ipairs(SCHEDULERS) do
    local err = t.raises("too big: 5", function() add(boom(1), boom(5)):compute(o) end)
    t.truthy(err:match("task check%-%d+ failed: "), err)
    t.truthy(err:find("delayed_test.lua:%d+: too big: 5"), err)
    t.truthy(err:find("stack traceback", 1, true), err)
  end
  t.eq(add(boom(1), 1):compute(), 2, "the runtime works after a failure")
  local err = t.raises("attempt to add a 'string' with a 'number'", function() inc("x"):compute() end)
  t.truthy(err:find("task inc%-%d+ failed"), err)
end)

t.test("a compute inside a task runs inline", function()
  local outer = delayed(function(n)
    local d = dusk.delayed(function(x) return x * 10 end)
    return dusk.compute(d(n)) + 1
  end)
  t.eq(outer(4):compute({ scheduler = "threads", num_workers = 1 }), 41)
  t.eq(outer(5):compute({ scheduler = "sync" }), 51)
  local list = {}
  for i = 1, 6 do list[i] = outer(i) end
  t.eq(delayed(list):compute({ num_workers = 2 }), { 11, 21, 31, 41, 51, 61 })
end)

t.test("captured values: closures, globals, isolation", function()
  local factor = 3
  local state = { count = 0 }
  local mul = delayed(function(x)
    state.count = state.count + 1
    factor = factor + 1
    return x * (factor - 1) + state.count
  end)
  local list = {}
  for i = 1, 20 do list[i] = mul(i) end
  local got = delayed(list):compute()
  for i = 1, 20 do t.eq(got[i], i * 3 + 1, "every task starts from the caller's values") end
  t.eq(factor, 3, "the caller's upvalue is unchanged")
  t.eq(state.count, 0, "the caller's table is unchanged")
  function delayed_test_helper(x) return x + 1000 end
  t.eq(delayed(function(x) return delayed_test_helper(x) end)(1):compute(), 1001)
  delayed_test_helper = nil
  local up = string.upper
  t.eq(delayed(function(s) return up(s) end)("abc"):compute(), "ABC")
end)

t.test("values that cannot go to a worker are named", function()
  local d = inc(1)
  local err = t.raises("pass it as an argument", function()
    delayed(function() return d end)():compute()
  end)
  t.truthy(err:find("'d'"), err)
  local co = coroutine.create(function() end)
  err = t.raises("coroutine", function() delayed(function() return co end)():compute() end)
  t.truthy(err:find("'co'"), err)
  t.raises("file", function() delayed(function() return io.stdout end)():compute() end)
  t.eq(inc(1):compute(), 2, "the runtime works afterwards")
end)

t.test("config: set, get, and options per compute", function()
  t.eq(dusk.config.get("scheduler"), "threads")
  local cores = dusk.config.get("num_workers")
  do
    local _ <close> = dusk.config.set({ scheduler = "sync", num_workers = 2 })
    t.eq(dusk.config.get("scheduler"), "sync")
    t.eq(dusk.config.get("num_workers"), 2)
    t.eq(inc(1):compute(), 2)
  end
  t.eq(dusk.config.get("scheduler"), "threads", "restored when closed")
  t.eq(dusk.config.get("num_workers"), cores)
  local r = dusk.config.set({ scheduler = "sync" })
  r:restore()
  t.eq(dusk.config.get("scheduler"), "threads")
  t.raises('scheduler must be one of', function() dusk.config.set({ scheduler = "fast" }) end)
  t.raises("num_workers must be a positive integer", function() inc(1):compute({ num_workers = 0 }) end)
  t.raises('"processes" scheduler is not available', function() inc(1):compute({ scheduler = "processes" }) end)
end)

t.test("DUSK_SCHEDULER and DUSK_NUM_WORKERS set the defaults", function()
  local code, out = t.sh("DUSK_SCHEDULER=sync DUSK_NUM_WORKERS=3 " .. t.dusk ..
                         " -e 'print(dusk.config.get(\"scheduler\"), dusk.config.get(\"num_workers\"))'")
  t.eq({ code, out }, { 0, "sync\t3\n" })
  local _, _, err = t.sh("DUSK_SCHEDULER=bogus " .. t.dusk .. " -e 'print(dusk.config.get(\"scheduler\"))'")
  t.truthy(err:find("DUSK_SCHEDULER", 1, true), err)
end)
