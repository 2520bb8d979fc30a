-- JSON records: decode each line of the accounts data set and read two
-- fields (name, and the first transaction's amount), with dusk.json and
-- with lua-cjson on the same lines, on one core.  Prints "time LABEL
-- SECONDS" (the best of a few runs, as bench/run.py expects) and MB/s and
-- ns per record on stderr.
--
--   LUA_PATH_5_4='stdlib/?.lua;;' build/dusk bench/json_bench.lua [n]
local ds = require "dusk.datasets"
local json = require "dusk.json"
local ok, cjson = pcall(require, "cjson")
local now = os.clock -- CPU time: one core, whatever else runs

local n = tonumber(arg and arg[1]) or 250000
local lines, bytes = {}, 0
for rec in ds.accounts(n, { seed = 1 }) do
  local s = ds.account_json(rec)
  lines[#lines + 1] = s
  bytes = bytes + #s
end

local function best(label, fn)
  local t = math.huge
  local check
  for _ = 1, 3 do
    collectgarbage()
    local t0 = now()
    check = fn()
    t = math.min(t, now() - t0)
  end
  print(string.format("time %s %.6f", label, t))
  io.stderr:write(string.format("%-22s %8.1f MB/s %8.0f ns/record  (check %s)\n", label,
                                bytes / t / 1e6, t / n * 1e9, tostring(check)))
  return t
end

local function two_fields(decode)
  return function()
    local total, chars = 0, 0
    for i = 1, n do
      local r = decode(lines[i])
      chars = chars + #r.name
      total = total + r.transactions[1].amount
    end
    return total + chars
  end
end

io.stderr:write(string.format("%d records, %.1f MB\n", n, bytes / 1e6))
local t_dusk = best("dusk.json", two_fields(json.decode))
best("dusk.json_validate", two_fields(function(s) return json.decode(s, { validate = true }) end))
best("dusk.json_pairs", function()
  local count = 0
  for i = 1, n do
    for _ in pairs(json.decode(lines[i])) do count = count + 1 end
  end
  return count
end)
best("dusk.json_all_amounts", function()
  local total = 0
  for i = 1, n do
    for _, tx in ipairs(json.decode(lines[i]).transactions) do total = total + tx.amount end
  end
  return total
end)
if ok then
  local t_cjson = best("cjson", two_fields(cjson.decode))
  best("cjson_all_amounts", function()
    local total = 0
    for i = 1, n do
      for _, tx in ipairs(cjson.decode(lines[i]).transactions) do total = total + tx.amount end
    end
    return total
  end)
  io.stderr:write(string.format("dusk.json two fields: %.1fx lua-cjson\n", t_cjson / t_dusk))
else
  io.stderr:write("lua-cjson not installed: no comparison\n")
end
