-- dusk.compute: computing any mix of collections in one graph.
--
--   local x, y = dusk.compute(a, b [, {scheduler = "sync"}])
--
-- A collection is any value whose metatable has
--   __dusk_targets(self) -> layers, indexes   the tasks it needs
--   __dusk_result(self, results, first) -> value
--                        its value from the results of its tasks, which
--                        start at results[first]
--   __dusk_persisted(self, stored) -> a collection of the same kind whose
--                        tasks are the values kept in 'stored'
--                        (see core.persist)
-- Other values are returned as they are.  Work shared between the
-- collections (a common dependency) is done once.

local core = require "dusk.core"
local config = require "dusk.config"

local M = {}

-- Keys of new layers: the operation's name and a number unique in this
-- state.
local counter = 0
function M.new_key(name)
  counter = counter + 1
  return string.format("%s-%d", name, counter)
end

local function protocol(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__dusk_targets") then return mt end
  return nil
end
M.is_collection = function(v) return protocol(v) ~= nil end

-- Computes the list 'objs' (n entries, nils allowed); returns the list of
-- their values.
-- Work the targets of one compute share, planned as one graph: bags
-- (dusk.bag's share) replace targets that run the same pipeline.
local function shared(objs, n)
  local bag = package.loaded["dusk.bag"]
  return bag and bag.share(objs, n) or objs
end

function M.many(objs, n, opts, where)
  local o = config.resolve(opts, where or "compute")
  objs = shared(objs, n)
  local layers, indexes, first = {}, {}, {}
  for i = 1, n do
    local mt = protocol(objs[i])
    if mt then
      first[i] = #layers + 1
      local ls, is = mt.__dusk_targets(objs[i])
      table.move(ls, 1, #ls, #layers + 1, layers)
      table.move(is, 1, #is, #indexes + 1, indexes)
    end
  end
  local out = {}
  local results = #layers > 0 and core.compute(layers, indexes, o) or {}
  for i = 1, n do
    if first[i] then
      out[i] = protocol(objs[i]).__dusk_result(objs[i], results, first[i])
    else
      out[i] = objs[i]
    end
  end
  return out
end

-- Persisted data by the name of its collection, for dusk.memory().
local kept = setmetatable({}, { __mode = "k" })

-- Persists the list 'objs'; returns the list of persisted collections
-- (other values as they are).
function M.persist_many(objs, n, opts, where)
  local o = config.resolve(opts, where or "persist")
  objs = shared(objs, n)
  local layers, indexes, counts, which = {}, {}, {}, {}
  for i = 1, n do
    local mt = protocol(objs[i])
    if mt then
      local ls, is = mt.__dusk_targets(objs[i])
      table.move(ls, 1, #ls, #layers + 1, layers)
      table.move(is, 1, #is, #indexes + 1, indexes)
      counts[#counts + 1] = #ls
      which[#which + 1] = i
    end
  end
  local out = table.move(objs, 1, n, 1, {})
  if #counts == 0 then return out end
  local stored = core.persist(layers, indexes, counts, o)
  for k, i in ipairs(which) do
    out[i] = protocol(objs[i]).__dusk_persisted(objs[i], stored[k])
    kept[stored[k]] = M.name_of(out[i])
  end
  return out
end

-- The name persisted data is reported under: the collection's key.
function M.name_of(obj)
  local ls = protocol(obj).__dusk_targets(obj)
  return core.name(ls[1])
end

-- dusk.memory(): bytes held by persisted data in total, and a table of
-- bytes by collection name.
function M.memory()
  local total, by = 0, {}
  for stored, name in pairs(kept) do
    local bytes = core.stored_bytes(stored)
    if bytes > 0 then
      by[name] = (by[name] or 0) + bytes
      total = total + bytes
    end
  end
  return total, by
end

-- A final plain table whose keys are all option names is options.
function M.split_options(...)
  local n = select("#", ...)
  if n == 0 then return 0, nil end
  local last = select(n, ...)
  if type(last) == "table" and getmetatable(last) == nil and next(last) ~= nil then
    local all = true
    for k in pairs(last) do
      if not config.known[k] then all = false break end
    end
    if all then return n - 1, last end
  end
  return n, nil
end

return setmetatable(M, {
  __call = function(_, ...)
    local n, opts = M.split_options(...)
    local out = M.many({ ... }, n, opts, "dusk.compute")
    return table.unpack(out, 1, n)
  end,
})
