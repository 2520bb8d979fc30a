local t = ...
local delayed = dusk.delayed

-- A task that appends a line to 'path' each time it runs.
local counted = delayed(function(path, v)
  local f = assert(io.open(path, "a"))
  f:write("ran\n")
  f:close()
  return v
end, { name = "counted" })

local function runs(path)
  local n = 0
  local f = io.open(path)
  if not f then return 0 end
  for _ in f:lines() do n = n + 1 end
  f:close()
  return n
end

local function collect()
  collectgarbage()
  collectgarbage()
end

t.test("persist keeps results: nothing reruns, whatever the scheduler", function()
  local path = os.tmpname()
  local d = counted(path, 20) + 1
  local p = d:persist()
  t.eq(runs(path), 1, "persist computed once")
  t.eq(p:compute(), 21)
  t.eq((p * 2):compute(), 42, "a collection derived from it")
  t.eq(p:compute({ scheduler = "sync" }), 21)
  t.eq(p:compute({ scheduler = "threads", num_workers = 1 }), 21, "another pool size")
  t.eq(p:compute({ scheduler = "threads", num_workers = 3 }), 21)
  t.eq(runs(path), 1, "no computation ran the task again")
  t.eq(d:compute(), 21)
  t.eq(runs(path), 2, "the original stays lazy and recomputes")
  os.remove(path)
end)

t.test("dusk.persist: several at once, shared work once", function()
  local path = os.tmpname()
  local shared = counted(path, 5)
  local a, b, c = dusk.persist(shared + 1, shared * 2, "plain", { scheduler = "sync" })
  t.eq(runs(path), 1)
  t.eq({ a:compute(), b:compute(), c }, { 6, 10, "plain" })
  t.eq(dusk.compute(a + b), 16)
  t.eq(runs(path), 1)
  os.remove(path)
end)

t.test("tables persist as copies: a reader cannot change them", function()
  local p = delayed({ 1, 2, 3 }):persist()
  local sorted = delayed(function(t) table.sort(t, function(x, y) return x > y end) return t end)
  t.eq(sorted(p):compute(), { 3, 2, 1 })
  t.eq(p:compute(), { 1, 2, 3 })
end)

t.test("dusk.memory reports persisted bytes; release frees them", function()
  collect()
  local before = dusk.memory()
  local big = delayed(function(n) return string.rep("x", n) end)(100000)
  local p = big:persist()
  local total, by = dusk.memory()
  t.truthy(total >= before + 100000, "total grew by the data")
  t.truthy(by[p.key] and by[p.key] >= 100000, "reported under its key")
  p:release()
  t.eq(dusk.memory(), before, "released")
  t.raises("was released", function() p:compute() end)
end)

t.test("<close> and collection free persisted data", function()
  collect()
  local before = dusk.memory()
  do
    local p <close> = delayed(function() return string.rep("y", 50000) end)():persist()
    t.truthy(dusk.memory() >= before + 50000)
  end
  t.eq(dusk.memory(), before, "closed")
  local p = delayed(function() return string.rep("z", 50000) end)():persist()
  t.truthy(dusk.memory() >= before + 50000)
  p = nil
  collect()
  t.eq(dusk.memory(), before, "collected")
end)

t.test("persisted data survives a failed compute that reads it", function()
  local p = delayed(7):persist()
  local boom = delayed(function(x) error("no " .. x) end)
  t.raises("no 7", function() boom(p):compute() end)
  t.eq(p:compute(), 7)
end)

t.test("visualize: .dot with operations, fused chains and persisted data", function()
  local inc = delayed(function(x) return x + 1 end, { name = "inc" })
  local chain = inc(inc(1))
  local p = inc(10):persist()
  local total = chain + p
  local path = os.tmpname() .. ".dot"
  t.eq(total:visualize(path), path)
  local dot = io.open(path):read("a")
  os.remove(path)
  t.truthy(dot:find("^digraph dusk {"), dot)
  t.truthy(dot:find('label="inc%-%d+\\ninc%-%d+", style="rounded"'), "a fused chain is one node: " .. dot)
  t.truthy(dot:find("%(persisted%)"), dot)
  t.truthy(dot:find(total.key, 1, true), dot)
  local _, edges = dot:gsub("%->", "")
  t.eq(edges, 2)
  t.raises("must end in .dot", function() total:visualize("/tmp/x.jpeg") end)
end)

t.test("visualize: .svg through graphviz, or a clear error without it", function()
  local d = delayed(function(x) return x end)(1) + 1
  local have_dot = os.execute("command -v dot >/dev/null 2>&1")
  local path = os.tmpname() .. ".svg"
  if have_dot then
    d:visualize(path)
    local svg = io.open(path):read("a")
    os.remove(path)
    t.truthy(svg:find("<svg", 1, true), "an svg file")
    t.truthy(svg:find((d.key:gsub("%-", "&#45;")), 1, true), "naming the task")
  end
  local code, _, err = t.sh("PATH=/nonexistent " .. t.dusk ..
                            " -e 'dusk.delayed(1):visualize(\"" .. path .. "\")'")
  t.eq(code, 1)
  t.truthy(err:find("needs Graphviz's dot, which is not installed", 1, true), err)
end)

t.test("progress: never on stdout; on standard error only when asked or a terminal", function()
  local script = [[
    local slow = dusk.delayed(function(i) local t = require("dusk.core").now() + 0.2
                                          while require("dusk.core").now() < t do end return i end)
    local parts = {}
    for i = 1, 10 do parts[i] = slow(i) end
    print(#dusk.delayed(parts):compute(%s))
  ]]
  local f = os.tmpname()
  local h = io.open(f, "w")
  h:write(string.format(script, "{progress = true}"))
  h:close()
  local code, out, err = t.sh(t.dusk .. " " .. f)
  t.eq({ code, out }, { 0, "10\n" }, "stdout has only the result")
  t.truthy(err:find("%] 11/11 tasks"), "the bar on stderr when asked: " .. err)
  h = io.open(f, "w")
  h:write(string.format(script, ""))
  h:close()
  code, out, err = t.sh(t.dusk .. " " .. f)
  t.eq({ code, out, err }, { 0, "10\n", "" }, "no bar when stderr is not a terminal")
  os.remove(f)
end)
