-- dusk.delayed: lazy function calls and values, as Dask's delayed.
--
--   local inc = dusk.delayed(function(x) return x + 1 end)
--   local d = inc(1) + inc(2)       -- a Delayed: nothing has run
--   d:compute()                     --> 5
--
-- A Delayed is a layer of one task in the C graph (dusk.core).  Its spec,
-- encoded when computed, is a call of fn with its args or a value
-- (dusk.spec's call and value); Delayed objects among the arguments, at any depth of plain tables,
-- become dependencies, and their places in the arguments placeholders
-- that the worker fills with their values (dusk.runner).

local core = require "dusk.core"
local compute = require "dusk.compute"
local errors = require "dusk.errors"
local ops = require "dusk.ops"
local spec = require "dusk.spec"

local Delayed = { __name = "dusk.Delayed" }
local methods = {}
local nouts = setmetatable({}, { __mode = "k" })   -- Delayed -> nout
local pure_cache = setmetatable({}, { __mode = "v" }) -- key -> Delayed

-- Placeholders of dependencies: one per position, shared.
local Dep = {
  __name = "dusk.dep",
  __dusk_send = function(self) return "dusk.dep", self[1] end,
}
local deps_at = setmetatable({}, {
  __index = function(t, i)
    local d = setmetatable({ i }, Dep)
    t[i] = d
    return d
  end,
})

local function is_delayed(v) return getmetatable(v) == Delayed end

-- The placeholder of Delayed 'd' among 'deps' (added if new; 'index'
-- maps each to its position, or is nil while 'deps' has fewer than
-- FEW_DEPS entries, which are searched: most calls make no table for it).
local FEW_DEPS = 8
local function dep_of(d, deps, index)
  local i
  if index then
    i = index[d]
  else
    for j = 1, #deps do
      if rawequal(deps[j], d) then return deps_at[j] end
    end
  end
  if not i then
    i = #deps + 1
    deps[i] = d
    if index then index[d] = i end
  end
  return deps_at[i]
end

-- 'index', or the index of 'deps' once it has FEW_DEPS entries (dep_of).
local function index_of(deps, index)
  if index or #deps < FEW_DEPS then return index end
  index = {}
  for j = 1, #deps do index[deps[j]] = j end
  return index
end

-- The nesting a value sent to a worker may have (serial's limit, in
-- dusk(3)).
local MAXDEPTH = 200

-- Replaces the Delayed objects in 'v' by placeholders, collecting them in
-- 'deps'.  Plain tables (no metatable) are searched, values and keys, and
-- copied only when something inside them was replaced.  'v' is argument
-- 'argi' of operation 'name' (or, 'argi' nil, what 'name' says), for the
-- error of a table nested more than MAXDEPTH levels.
local function lift(v, deps, index, seen, name, argi, depth)
  if is_delayed(v) then return dep_of(v, deps, index) end
  if type(v) ~= "table" or getmetatable(v) ~= nil then return v end
  local done = seen[v]
  if done ~= nil then return done end
  depth = (depth or 0) + 1
  if depth > MAXDEPTH then
    errors.raise(string.format("cannot send a value nested more than %d levels deep: %s",
                               MAXDEPTH, argi and string.format("argument %d of %s", argi, name)
                               or name or "an argument"))
  end
  seen[v] = v -- a cycle back to 'v' keeps the original
  local copy
  for k, x in next, v do
    local y = lift(x, deps, index, seen, name, argi, depth)
    local j = is_delayed(k) and dep_of(k, deps, index) or k -- a key too
    if y ~= x or j ~= k then
      if not copy then
        copy = {}
        for k2, x2 in next, v do copy[k2] = x2 end
      end
      copy[k] = nil
      copy[j] = y
    end
  end
  seen[v] = copy or v
  return copy or v
end

local function new_delayed(name, payload, deps, nout, key)
  key = key or compute.new_key(name)
  local d = core.layer(Delayed, key, 1, payload, deps)
  if nout then nouts[d] = nout end
  return d
end

-- The key of a pure call: the same function and arguments (dependencies
-- by key), the same key.  nil when the call cannot be encoded: it is then
-- simply not shared.
local function pure_key(name, fn, args, n, nout, deps)
  local serial = require "dusk.serial"
  local dep_keys = {}
  for i, d in ipairs(deps or {}) do dep_keys[i] = core.name(d) end
  local ok, bytes = pcall(serial.encode, { fn, args, n, nout, dep_keys })
  return ok and name .. "-" .. core.hash(bytes) or nil
end

-- A delayed call of 'fn' with the 'n' arguments in 'args' (a table of
-- our own, changed in place).  Most calls pass numbers, strings and
-- Delayed objects: they cost no copy and no table but 'deps'.
local function call(fn, name, opts, args, n)
  local deps, index, seen
  for i = 1, n do
    local a = args[i]
    local mt = getmetatable(a)
    if mt == Delayed then
      deps = deps or {}
      index = index_of(deps, index)
      args[i] = dep_of(a, deps, index)
    elseif mt == nil and type(a) == "table" then
      deps = deps or {}
      index = index_of(deps, index) or {}
      seen = seen or {}
      args[i] = lift(a, deps, index, seen, name, i)
    end
  end
  local nout = opts and opts.nout
  local key
  if opts and opts.pure then
    key = pure_key(name, fn, args, n, nout, deps)
    local same = key and pure_cache[key]
    if same then return same end
  end
  local d = new_delayed(name, spec.call(fn, args, n, nout), deps, nout, key)
  if key then pure_cache[key] = d end
  return d
end

local function op(fn, name)
  return function(...) return call(fn, name, nil, { ... }, select("#", ...)) end
end

-- Operators build Delayed objects; comparison operators are not lazy in
-- Lua (their results are made booleans), so they are left out.
for _, name in ipairs({ "add", "sub", "mul", "div", "mod", "pow", "idiv", "band", "bor",
                        "bxor", "shl", "shr", "concat", "call" }) do
  Delayed["__" .. name] = op(ops[name], name)
end
-- unary: Lua passes the operand twice; the task gets it once
for _, name in ipairs({ "unm", "bnot", "len" }) do
  Delayed["__" .. name] = function(a) return call(ops[name], name, nil, { a }, 1) end
end
Delayed.__gc = core.release
Delayed.__dusk_send = true -- refused when captured: "pass it as an argument"

local getitem = op(ops.index, "getitem")

-- A Delayed's own members (methods, and 'key') are never lazy fields:
-- d:get(k) reaches a field so named.
Delayed.__index = function(d, k)
  local m = methods[k]
  if m then return m end
  if k == "key" then return core.name(d) end
  return getitem(d, k)
end

Delayed.__dusk_members = methods -- for the REPL's completion

Delayed.__tostring = function(d)
  return string.format("Delayed('%s')", core.name(d))
end

-- The collection protocol (dusk.compute).
function Delayed.__dusk_targets(d) return { d }, { 1 } end
function Delayed.__dusk_result(d, results, first)
  return results[first] -- with nout: the list of the values
end
function Delayed.__dusk_persisted(d, stored)
  local p = core.layer(Delayed, core.name(d), 1, stored, nil)
  nouts[p] = nouts[d]
  return p
end

function methods.compute(d, opts)
  local v = compute.many({ d }, 1, opts, "compute")[1]
  local nout = nouts[d]
  if nout then return table.unpack(v, 1, nout) end
  return v
end

function methods.get(d, k) return getitem(d, k) end

function methods.persist(d, opts)
  return compute.persist_many({ d }, 1, opts, "persist")[1]
end

-- Frees a persisted Delayed's data (nothing for one that is not).
function methods.release(d)
  local payload = core.payload(d)
  if getmetatable(payload) and core.is_stored(payload) then core.stored_release(payload) end
end
Delayed.__close = methods.release

function methods.visualize(d, filename, opts)
  return require("dusk.visualize")(d, filename, opts)
end

local function is_name(v) return type(v) == "string" and v ~= "", "a non-empty string" end
local FN_OPTIONS = {
  name = is_name,
  pure = function(v) return type(v) == "boolean", "a boolean" end,
  -- as Dask: nout=0 keeps no result (compute returns nothing)
  nout = function(v)
    local n = math.type(v) and math.tointeger(v)
    return n and n >= 0, "a non-negative integer"
  end,
}
local VALUE_OPTIONS = { name = is_name }

-- delayed(fn [, {name=, pure=, nout=}]) -> a lazy function;
-- delayed(value [, {name=}]) -> a Delayed of the value (a Delayed stays
-- itself).
local function delayed(v, opts)
  if is_delayed(v) then return v end
  if type(v) == "function" then
    local o = errors.options(opts, "delayed", FN_OPTIONS)
    o = { name = o.name, pure = o.pure, nout = math.tointeger(o.nout) } -- the caller's may change
    local name = o.name
    if not name then
      local info = debug.getinfo(v, "S")
      name = info.what == "C" and "function"
             or (info.short_src:match("[^/]*$") .. ":" .. info.linedefined)
    end
    return function(...) return call(v, name, o, { ... }, select("#", ...)) end
  end
  local o = errors.options(opts, "delayed", VALUE_OPTIONS)
  local deps = {}
  local payload = spec.value(lift(v, deps, {}, {}, "the value of delayed"))
  return new_delayed(o.name or "value", payload, deps[1] and deps, nil, nil)
end

local M = { Delayed = Delayed, is_delayed = is_delayed, lift = lift,
            -- module fields travel by name: a lazy function sent to a
            -- worker (say a method in an argument's metatable) finds the
            -- worker's own tables there, not copies of ours and the
            -- Delayed objects in them
            _nouts = nouts, _pure_cache = pure_cache, _deps_at = deps_at }
return setmetatable(M, { __call = function(_, ...) return delayed(...) end })
