-- dusk: the module behind the global `dusk` in every Lua state dusk makes.
--
-- Submodules are fields loaded on first use: `dusk.pretty` requires
-- "dusk.pretty" the first time it is read, whether the module is compiled
-- into the binary or installed on package.path (stdlib/).

local dusk = {}

local function find_submodule(name)
  local full = "dusk." .. name
  if package.loaded[full] ~= nil or package.preload[full] ~= nil
      or package.searchpath(full, package.path) then
    return require(full)
  end
  return nil
end

-- dusk.persist(a, b, ... [, opts]) -> persisted a, b, ...: computed once
-- together, their partitions kept in memory (see dusk(3)).
function dusk.persist(...)
  local compute = require "dusk.compute"
  local n, opts = compute.split_options(...)
  return table.unpack(compute.persist_many({ ... }, n, opts, "dusk.persist"), 1, n)
end

-- dusk.memory() -> total bytes held by persisted data, {name = bytes}
function dusk.memory()
  return require("dusk.compute").memory()
end

-- dusk.visualize(a, b, ..., filename [, opts]): the task graph of all.
function dusk.visualize(...)
  return require("dusk.visualize")(...)
end

return setmetatable(dusk, {
  __index = function(t, key)
    if type(key) ~= "string" then return nil end
    local m = find_submodule(key)
    if m ~= nil then rawset(t, key, m) end
    return m
  end,
  __name = "dusk",
})
