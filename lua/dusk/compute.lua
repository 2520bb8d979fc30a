-- dusk.compute: computing any mix of collections in one graph.
--
--   local x, y = dusk.compute(a, b [, {scheduler = "sync"}])
--
-- A collection is any value whose metatable has
--   __dusk_targets(self) -> layers, indexes   the tasks it needs
--   __dusk_result(self, results, first) -> value
--                        its value from the results of its tasks, which
--                        start at results[first]
-- Other values are returned as they are.  Work shared between the
-- collections (a common dependency) is done once.

local core = require "dusk.core"
local config = require "dusk.config"

local M = {}

local function protocol(v)
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__dusk_targets") then return mt end
  return nil
end
M.is_collection = function(v) return protocol(v) ~= nil end

-- Computes the list 'objs' (n entries, nils allowed); returns the list of
-- their values.
function M.many(objs, n, opts, where)
  local o = config.resolve(opts, where or "compute")
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
