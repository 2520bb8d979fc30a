-- dusk.config: options of every compute, with defaults from the
-- environment (DUSK_SCHEDULER, DUSK_NUM_WORKERS).
--
--   dusk.config.set{scheduler = "sync", num_workers = 4}
--   dusk.config.get("scheduler")
--
-- Known keys are checked when set; other keys are kept for the user.

local core = require "dusk.core"
local errors = require "dusk.errors"

local SCHEDULERS = { threads = true, sync = true, processes = true, distributed = true }

local checks = {
  scheduler = function(v)
    return SCHEDULERS[v], "one of \"threads\", \"sync\", \"processes\", \"distributed\""
  end,
  num_workers = function(v)
    local n = math.type(v) and math.tointeger(v)
    return n and n >= 1, "a positive integer"
  end,
  progress = function(v) return type(v) == "boolean", "a boolean" end,
  fuse = function(v) return type(v) == "boolean", "a boolean" end,
}

local values = {}

local env_scheduler = os.getenv("DUSK_SCHEDULER")
if env_scheduler and env_scheduler ~= "" then
  if not SCHEDULERS[env_scheduler] then
    io.stderr:write(string.format("dusk: DUSK_SCHEDULER=%q is not a scheduler; using \"threads\"\n",
                                  env_scheduler))
  else
    values.scheduler = env_scheduler
  end
end
local env_workers = os.getenv("DUSK_NUM_WORKERS")
if env_workers and env_workers ~= "" then
  local n = math.tointeger(tonumber(env_workers))
  if not n or n < 1 then
    io.stderr:write(string.format("dusk: DUSK_NUM_WORKERS=%q is not a positive integer; ignored\n",
                                  env_workers))
  else
    values.num_workers = n
  end
end

local defaults = { scheduler = "threads", num_workers = core.ncores(), fuse = true }

local M = { known = checks }

-- What dusk.config.set returns: closing it (or calling :restore())
-- puts back the values the options had, so that
--   do local _ <close> = dusk.config.set{scheduler = "sync"} ... end
-- sets them for a block, as Dask's `with dask.config.set(...)`.
local Restore = {}
Restore.__index = Restore
function Restore:restore()
  for k in pairs(self.keys) do values[k] = self.old[k] end
end
Restore.__close = Restore.restore

-- Sets options from a table.
function M.set(t)
  if type(t) ~= "table" then errors.raise("dusk.config.set: expected a table of options") end
  local known = {}
  for k in pairs(t) do known[k] = checks[k] or true end
  errors.options(t, "dusk.config.set", known)
  local r = setmetatable({ old = {}, keys = {} }, Restore)
  for k in pairs(t) do
    r.old[k] = values[k]
    r.keys[k] = true
  end
  for k, v in pairs(t) do values[k] = v end
  return r
end

function M.get(key)
  local v = values[key]
  if v == nil then v = defaults[key] end
  return v
end

-- The options of one compute: 'opts' over the configuration.  An
-- option it does not know is an error naming it.
function M.resolve(opts, where)
  errors.options(opts, where, checks)
  local r = {}
  for k in pairs(checks) do r[k] = M.get(k) end
  if opts then
    for k, v in pairs(opts) do r[k] = v end
  end
  if r.scheduler == "processes" or r.scheduler == "distributed" then
    errors.raise(string.format("%s: the %q scheduler is not available in this version of dusk",
                               where, r.scheduler))
  end
  return r
end

return M
