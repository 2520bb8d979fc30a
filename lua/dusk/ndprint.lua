-- dusk.ndprint: tostring of a dusk.ndarray, numpy's repr(a) as a class
-- named "ndarray" would print (numpy 1.24's arrayprint.py with its default
-- options: precision 8, floatmode "maxprec", 75 columns, summarized past
-- 1000 elements with 3 edge items).
--
-- Floats print with their shortest unique digits (those of float32 for
-- float32) but at most 8 after the point, all with the same layout: the
-- positional form, or the scientific one when the largest magnitude is
-- 1e8 or more, the smallest under 1e-4, or their ratio over 1000.

local nda = require "dusk.ndarray"

local PREFIX = "ndarray("
local LINEWIDTH, THRESHOLD, EDGE, PRECISION = 75, 1000, 3, 8
local IMPLIED = { int64 = true, float64 = true, bool = true }

-- float32 rounding of a double (a C cast)
local function f32(x) return (string.unpack("f", string.pack("f", x))) end

-- The shortest decimal digits that read back as 'x' (> 0, finite): a
-- digit string without trailing zeros and the decimal exponent of its
-- first digit.  Among the candidates of that length the nearest to x, as
-- Dragon4 chooses.
local function shortest(x, is32)
  local function same(s)
    local y = tonumber(s)
    if is32 then return f32(y) == x end
    return y == x
  end
  for p = 1, 17 do
    local s = string.format("%." .. (p - 1) .. "e", x)
    local ok = same(s)
    if not ok then -- the other neighbour, inside an asymmetric interval
      local m, e = s:match("^(%d[%.%d]*)e([-+]%d+)$")
      local digits = m:gsub("%.", "")
      local n = math.tointeger(tonumber(digits)) + (tonumber(s) < x and 1 or -1)
      local alt = string.format("%0" .. p .. "d", n)
      if #alt == p and alt:sub(1, 1) ~= "0" then
        s = alt:sub(1, 1) .. "." .. alt:sub(2) .. "e" .. e
        ok = same(s)
      end
    end
    if ok then
      local m, e = s:match("^(%d[%.%d]*)e([-+]%d+)$")
      local digits = m:gsub("%.", ""):gsub("0+$", "")
      if digits == "" then digits = "0" end
      return digits, tonumber(e)
    end
  end
  error("no round trip for " .. string.format("%.17g", x))
end

local function negative(x) return x < 0 or (x == 0 and 1 / x < 0) end

-- Dragon4's positional form, unique, at most PRECISION digits after the
-- point, trimmed to "1." : the integer and fraction parts.
local function positional(x, is32)
  local sign = negative(x) and "-" or ""
  x = math.abs(x)
  if x == 0 then return sign .. "0", "" end
  local digits, e = shortest(x, is32)
  local int, frac
  if e >= 0 then
    int = digits:sub(1, e + 1) .. string.rep("0", e + 1 - #digits)
    frac = digits:sub(e + 2)
  else
    int, frac = "0", string.rep("0", -e - 1) .. digits
  end
  if #frac > PRECISION then
    int, frac = string.format("%." .. PRECISION .. "f", x):match("^(%d+)%.(%d*)$")
    frac = frac:gsub("0+$", "")
  end
  return sign .. int, frac
end

-- Dragon4's scientific form, unique, at most 'precision' digits after the
-- point (exactly that many with 'exact': the value's own digits past the
-- unique ones, as numpy's min_digits): the integer digit, the fraction
-- and the exponent.
local function scientific(x, is32, precision, exact)
  local sign = negative(x) and "-" or ""
  x = math.abs(x)
  if x == 0 then return sign .. "0", string.rep("0", exact and precision or 0), 0 end
  local digits, e = shortest(x, is32)
  if #digits - 1 > precision or (exact and #digits - 1 < precision) then
    local m, ex = string.format("%." .. precision .. "e", x):match("^([%d%.]+)e([-+]%d+)$")
    digits, e = m:gsub("%.", ""), tonumber(ex)
    if not exact then digits = digits:gsub("0+$", "") end
  end
  return sign .. digits:sub(1, 1), digits:sub(2), e
end

local function exp_string(e, ndigits)
  return (e < 0 and "-" or "+") .. string.format("%0" .. ndigits .. "d", math.abs(e))
end

local function finite(x) return x == x and x ~= math.huge and x ~= -math.huge end

-- numpy's FloatingFormat: the layout chosen from every value shown.
local function float_format(values, is32)
  local finites, exp_format = {}, false
  local maxv, minv, neginf, nonfinite = nil, nil, false, false
  for _, x in ipairs(values) do
    if finite(x) then
      finites[#finites + 1] = x
      local ax = math.abs(x)
      if ax ~= 0 then
        if not maxv or ax > maxv then maxv = ax end
        if not minv or ax < minv then minv = ax end
      end
    else
      nonfinite = true
      if x == -math.huge then neginf = true end
    end
  end
  if maxv then
    local ratio = maxv / minv
    if is32 then ratio = f32(ratio) end
    -- numpy compares float32 scalars with the bound rounded to float32
    exp_format = maxv >= 1e8 or minv < (is32 and f32(0.0001) or 0.0001) or ratio > 1000
  end
  local pad_left, pad_right, precision, exp_size = 0, 0, 0, -1
  if #finites > 0 and exp_format then
    local explen = 0
    for _, x in ipairs(finites) do
      local int, frac, e = scientific(x, is32, PRECISION)
      pad_left = math.max(pad_left, #int)
      precision = math.max(precision, #frac)
      explen = math.max(explen, #exp_string(e, 2))
    end
    exp_size = explen - 1
    pad_right = exp_size + 2 + precision
  elseif #finites > 0 then
    for _, x in ipairs(finites) do
      local int, frac = positional(x, is32)
      pad_left = math.max(pad_left, #int)
      pad_right = math.max(pad_right, #frac)
    end
  end
  if nonfinite then
    local offset = pad_right + 1
    pad_left = math.max(pad_left, 3 - offset, 3 + (neginf and 1 or 0) - offset)
  end
  return function(x)
    if not finite(x) then
      local s = x ~= x and "nan" or x < 0 and "-inf" or "inf"
      return string.rep(" ", pad_left + pad_right + 1 - #s) .. s
    end
    if exp_format then
      local int, frac, e = scientific(x, is32, precision, true)
      return string.rep(" ", pad_left - #int) .. int .. "." .. frac .. "e" .. exp_string(e, exp_size)
    end
    local int, frac = positional(x, is32)
    return string.rep(" ", pad_left - #int) .. int .. "." .. frac .. string.rep(" ", pad_right - #frac)
  end
end

local function int_format(values)
  local width = 0
  for _, v in ipairs(values) do width = math.max(width, #string.format("%d", v)) end
  local fmt = "%" .. width .. "d"
  return function(v) return string.format(fmt, v) end
end

local function format_function(values, dtype, zerod)
  if dtype == "bool" then
    local t = zerod and "True" or " True"
    return function(v) return v and t or "False" end
  elseif dtype == "float64" or dtype == "float32" then
    return float_format(values, dtype == "float32")
  end
  return int_format(values)
end

-- numpy's _leading_trailing: the corners of 'a' along every axis longer
-- than 2 * EDGE.
local function leading_trailing(a, shape, axis)
  if axis > #shape then return a end
  if shape[axis] <= 2 * EDGE then return leading_trailing(a, shape, axis + 1) end
  local lead, trail = {}, {}
  for k = 1, axis - 1 do lead[k], trail[k] = {}, {} end
  lead[axis], trail[axis] = { 1, EDGE }, { -EDGE, -1 }
  return nda.concatenate({ leading_trailing(a:slice(table.unpack(lead)), shape, axis + 1),
                           leading_trailing(a:slice(table.unpack(trail)), shape, axis + 1) }, axis)
end

local function flatten(t, out)
  if type(t) ~= "table" then
    out[#out + 1] = t
  else
    for _, v in ipairs(t) do flatten(v, out) end
  end
  return out
end

local function rstrip(s) return (s:gsub("%s+$", "")) end

local function extend_line(s, line, word, width, next_prefix)
  if #line + #word > width and #line > #next_prefix then
    s = s .. rstrip(line) .. "\n"
    line = next_prefix
  end
  return s, line .. word
end

-- numpy's _formatArray over the nested table 'data' (the shown values)
-- of an array of 'shape', 'summary' when it is summarized.
local function format_array(data, shape, fmt, width, next_prefix, summary)
  local sep = ", "
  local function recurse(t, axis, hanging, curr_width)
    if axis > #shape then return fmt(t) end
    local next_hanging = hanging .. " "
    local next_width = curr_width - 1
    local len = shape[axis]
    local show_summary = summary and 2 * EDGE < len
    local leading, trailing = 0, #t
    if show_summary then leading, trailing = EDGE, EDGE end
    local n = #t
    local s = ""
    if axis == #shape then
      local elem_width = curr_width - 1
      local line = hanging
      for i = 1, leading do
        s, line = extend_line(s, line, recurse(t[i], axis + 1, next_hanging, next_width), elem_width, hanging)
        line = line .. sep
      end
      if show_summary then
        s, line = extend_line(s, line, "...", elem_width, hanging)
        line = line .. sep
      end
      for i = trailing, 2, -1 do
        s, line = extend_line(s, line, recurse(t[n - i + 1], axis + 1, next_hanging, next_width), elem_width, hanging)
        line = line .. sep
      end
      s, line = extend_line(s, line, recurse(t[n], axis + 1, next_hanging, next_width), elem_width, hanging)
      s = s .. line
    else
      local line_sep = "," .. string.rep("\n", #shape - axis)
      for i = 1, leading do
        s = s .. hanging .. recurse(t[i], axis + 1, next_hanging, next_width) .. line_sep
      end
      if show_summary then s = s .. hanging .. "..." .. line_sep end
      for i = trailing, 2, -1 do
        s = s .. hanging .. recurse(t[n - i + 1], axis + 1, next_hanging, next_width) .. line_sep
      end
      s = s .. hanging .. recurse(t[n], axis + 1, next_hanging, next_width)
    end
    return "[" .. s:sub(#hanging + 1) .. "]"
  end
  return recurse(data, 1, next_prefix, width)
end

local function shape_tuple(shape)
  if #shape == 1 then return "(" .. shape[1] .. ",)" end
  return "(" .. table.concat(shape, ", ") .. ")"
end

return function(a)
  local shape, dtype, size = a.shape, a.dtype, a.size
  local skipdtype = IMPLIED[dtype] and size > 0
  local suffix = skipdtype and ")" or ","
  local body
  if size == 0 then
    body = #shape == 1 and "[]" or "[], shape=" .. shape_tuple(shape)
  else
    local summary = size > THRESHOLD
    local data = (summary and leading_trailing(a, shape, 1) or a):to_table()
    local fmt = format_function(flatten(data, {}), dtype, #shape == 0)
    body = format_array(data, shape, fmt, LINEWIDTH - #suffix, string.rep(" ", #PREFIX + 1), summary)
  end
  local s = PREFIX .. body .. suffix
  if skipdtype then return s end
  local dtype_str = "dtype=" .. dtype .. ")"
  local last = #s - (s:match(".*\n()") or 1) + 1
  if last + #dtype_str + 1 > LINEWIDTH then return s .. "\n" .. string.rep(" ", #PREFIX) .. dtype_str end
  return s .. " " .. dtype_str
end
