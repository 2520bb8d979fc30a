-- dusk.frameprint: tostring of a dusk.frame or a series, aligned as
-- pandas prints them: the index (or row numbers, 1-based as everything
-- dusk shows) on the left, a column's floats with one count of decimals
-- (at most 6, pandas' display.precision; as many as the value that
-- needs most),
-- NaN for a missing float and <NA> for another missing value, and only
-- the first and last rows of a long frame.

local MAX_ROWS = 60 -- pandas' display.max_rows
local EDGE = 5      -- rows shown at each end beyond that

-- The decimals a float column needs, or nil for scientific notation.
local function decimals(values)
  local d, big = 0, false
  for _, v in ipairs(values) do
    if v == v and v ~= math.huge and v ~= -math.huge then
      local a = math.abs(v)
      if a >= 1e16 or (a > 0 and a < 1e-4) then big = true end
      local frac = string.format("%.6f", v):match("%.(%d-)0*$")
      if #frac > d then d = #frac end
    end
  end
  if big then return nil end
  return math.max(d, 1)
end

local function format_float(v, d)
  if v ~= v then return "NaN" end
  if v == math.huge then return "inf" end
  if v == -math.huge then return "-inf" end
  if d == nil then return string.format("%.6e", v) end
  return string.format("%." .. d .. "f", v)
end

-- Nanoseconds since 1970 as pandas prints a Timestamp.
local function format_datetime(ns)
  local secs, frac = ns // 1000000000, ns % 1000000000
  local s = os.date("!%Y-%m-%d %H:%M:%S", secs)
  if frac ~= 0 then s = s .. string.format(".%09d", frac):gsub("0+$", "") end
  return s
end

-- The cells of column k over rows 'rows' (a list of row numbers, 0 for
-- the "..." row), as strings.
local function cells(f, k, rows, dtype)
  local raw, out = {}, {}
  for i, r in ipairs(rows) do if r > 0 then raw[i] = f:value(r, k) end end
  local d = dtype == "float64" and decimals(raw) or nil
  for i, r in ipairs(rows) do
    local v = raw[i]
    if r == 0 then out[i] = "..."
    elseif dtype == "float64" then out[i] = format_float(v, d)
    elseif v == nil then out[i] = "<NA>"
    elseif dtype == "bool" then out[i] = v and "True" or "False"
    elseif dtype == "datetime" then out[i] = format_datetime(v)
    else out[i] = tostring(v) end
  end
  return out
end


return function(f)
  local n = #f
  local rows = {}
  if n > MAX_ROWS then
    for r = 1, EDGE do rows[#rows + 1] = r end
    rows[#rows + 1] = 0
    for r = n - EDGE + 1, n do rows[#rows + 1] = r end
  else
    for r = 1, n do rows[r] = r end
  end
  local index, columns = f.index, f.columns
  local cols = {} -- {header, cells, left-aligned}
  if #index == 0 then
    local labels = {}
    for i, r in ipairs(rows) do labels[i] = r == 0 and "..." or tostring(r) end
    cols[1] = { "", labels, true }
  end
  for k, name in ipairs(index) do
    cols[#cols + 1] = { name, cells(f, k, rows, f:coltype(k)), true }
  end
  for j, name in ipairs(columns) do
    local k = #index + j
    local header = f.is_series and "" or name
    cols[#cols + 1] = { header, cells(f, k, rows, f:coltype(k)), false }
  end
  local widths = {}
  for c, col in ipairs(cols) do
    local w = #col[1]
    for _, s in ipairs(col[2]) do if #s > w then w = #s end end
    widths[c] = w
  end
  local lines = {}
  local function line(get)
    local parts = {}
    for c, col in ipairs(cols) do
      local s = get(c, col)
      parts[c] = col[3] and s .. string.rep(" ", widths[c] - #s) or string.rep(" ", widths[c] - #s) .. s
    end
    lines[#lines + 1] = (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  if not f.is_series then
    local named = false
    for _, name in ipairs(index) do if name ~= "" then named = true end end
    if named then
      -- pandas: the columns on one line, the index names on the next
      line(function(c, col) return c <= #index and "" or col[1] end)
      line(function(c, col) return c <= #index and col[1] or "" end)
    elseif #index > 0 then
      line(function(c, col) return c <= #index and "" or col[1] end)
    else
      line(function(_, col) return col[1] end)
    end
  end
  for i = 1, #rows do line(function(_, col) return col[2][i] end) end
  if f.is_series then
    lines[#lines + 1] = f.name ~= "" and string.format("Name: %s, dtype: %s", f.name, f.dtype)
                        or string.format("dtype: %s", f.dtype)
  elseif n > MAX_ROWS then
    lines[#lines + 1] = ""
    lines[#lines + 1] = string.format("[%d rows x %d columns]", n, #columns)
  end
  if n == 0 and not f.is_series then
    return string.format("Empty frame\nColumns: [%s]\nIndex: []", table.concat(columns, ", "))
  end
  return table.concat(lines, "\n")
end
