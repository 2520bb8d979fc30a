-- dusk.errors: errors in how dusk is called name the caller's line.
--
--   errors.raise("map: expected a function, got a number")
--   errors.options(opts, "compute", { scheduler = true, ... })
--
-- A bad argument or option is found somewhere inside dusk's own modules,
-- at a depth that differs from one entry point to the next (b:map checks
-- at once, read_json through read_text, compute through config): a fixed
-- level for error() names dusk's file.  raise instead names the first
-- frame of the stack that is neither a C function nor a chunk of dusk's
-- own: the user's script, REPL line or task function.

local M = {}

-- Chunks of dusk's own besides the embedded modules ("@lua/dusk...").
local own = { ["=[C]"] = true, ["=bag pipeline"] = true, ["=pluck"] = true }

-- Marks the chunk that calls it as dusk's own (a module of stdlib/).
function M.own()
  own[debug.getinfo(2, "S").source] = true
end

local function is_own(source)
  return own[source] or source:sub(1, 10) == "@lua/dusk/" or source == "@lua/dusk.lua"
end

-- Raises 'msg' (a string) at the first frame outside dusk.
function M.raise(msg)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if not info then error(msg, 0) end
    if not is_own(info.source) then error(msg, level) end
    level = level + 1
  end
end

-- f(...), whose error (a misuse found by one of dusk's C functions) is
-- raised again at the first frame outside dusk, after "what: ".
function M.call(what, f, ...)
  local ok, a, b = pcall(f, ...)
  if not ok then M.raise(what .. ": " .. tostring(a)) end
  return a, b
end

-- Checks that 'opts' is nil or a table whose keys are in 'allowed', each
-- a function(v) -> ok, what v must be (or true: anything).  Returns opts
-- or an empty table.
function M.options(opts, where, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    M.raise(string.format("%s: options must be a table, not a %s", where, type(opts)))
  end
  for k, v in pairs(opts) do
    local check = allowed[k]
    if not check then
      M.raise(string.format("%s: unknown option %s", where,
                            type(k) == "string" and string.format("%q", k) or tostring(k)))
    end
    if check ~= true then
      local ok, want = check(v)
      if not ok then
        M.raise(string.format("%s: %s must be %s, not %s", where, k, want,
                              type(v) == "string" and string.format("%q", v) or tostring(v)))
      end
    end
  end
  return opts
end

return M
