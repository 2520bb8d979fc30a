-- dusk.pretty: values as a person wants to read them at the REPL.
--
-- pretty(v [, opts]) -> string.  Tables are shown nested, on one line when
-- they fit in 'width' columns and one entry per line otherwise; a table
-- met again on its own path is shown as <cycle>; a table with more than
-- 'max_items' entries shows that many and a count of the rest; below
-- 'max_depth' a table shows as {...}.  Values with a __tostring metamethod
-- (dusk's collections among them) show as their tostring.

local defaults = { width = 80, max_items = 100, max_depth = 8, indent = "  " }

local escapes = { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n",
                  ["\r"] = "\\r", ["\t"] = "\\t" }

-- Code points a terminal would act on rather than show: C1 controls,
-- line and paragraph separators, direction controls, the BOM.
local function unshown(c)
  return c < 0xA0 or (c >= 0x200E and c <= 0x200F) or (c >= 0x2028 and c <= 0x202E)
      or (c >= 0x2066 and c <= 0x2069) or c == 0xFEFF
end

-- A string as Lua source that a terminal shows as it is: printable ASCII
-- and valid UTF-8 as they are; control bytes, the code points above and
-- bytes that are not UTF-8 escaped (\ddd, \u{XXXX}), as Python's repr
-- escapes them.
local function quote(s)
  local out, i = { '"' }, 1
  while true do
    local j = s:find('[%c"\\\128-\255]', i)
    out[#out + 1] = s:sub(i, j and j - 1)
    if not j then break end
    local b, n = s:byte(j), 1
    if b < 0x80 then
      out[#out + 1] = escapes[string.char(b)] or string.format("\\%03d", b)
    else
      n = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC2 and 2 or 1
      local seq = s:sub(j, j + n - 1)
      local c = n > 1 and #seq == n and utf8.len(seq) == 1 and utf8.codepoint(seq)
      if not c then
        n = 1
        out[#out + 1] = string.format("\\%03d", b)
      elseif unshown(c) then
        out[#out + 1] = string.format("\\u{%X}", c)
      else
        out[#out + 1] = seq
      end
    end
    i = j + n
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in
            local nil not or repeat return then true until while]]):gmatch("%a+") do
  keywords[w] = true
end

local function is_identifier(k)
  return type(k) == "string" and k:match("^[%a_][%w_]*$") ~= nil
      and not keywords[k]
end

local type_rank = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return (type_rank[ta] or 9) < (type_rank[tb] or 9)
        or ((type_rank[ta] or 9) == (type_rank[tb] or 9) and ta < tb)
  end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__tostring") ~= nil
end

local function scalar(v)
  local t = type(v)
  if t == "string" then return quote(v) end
  if t == "table" or t == "userdata" then
    if has_tostring(v) then return tostring(v) end
  end
  return tostring(v)
end

-- The entries of 't' in display order: 1..n, then the other keys sorted.
local function entries(t)
  local n = #t
  local others = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      others[#others + 1] = k
    end
  end
  table.sort(others, key_less)
  return n, others
end

local render

local function render_table(t, opts, depth, open, indent)
  if open[t] then return "<cycle>" end
  if depth >= opts.max_depth then return next(t) == nil and "{}" or "{...}" end
  open[t] = true
  local n, others = entries(t)
  local items, shown, total = {}, 0, n + #others
  local function add(prefix, v)
    shown = shown + 1
    items[shown] = prefix .. render(v, opts, depth + 1, open, indent .. opts.indent)
  end
  for i = 1, math.min(n, opts.max_items) do add("", t[i]) end
  for _, k in ipairs(others) do
    if shown >= opts.max_items then break end
    local prefix = is_identifier(k) and k .. " = "
                   or "[" .. render(k, opts, depth + 1, open, indent) .. "] = "
    add(prefix, t[k])
  end
  open[t] = nil
  if total > shown then
    items[#items + 1] = string.format("... (%d more)", total - shown)
  end
  if #items == 0 then return "{}" end
  local line = "{" .. table.concat(items, ", ") .. "}"
  if #indent + #line <= opts.width and not line:find("\n", 1, true) then
    return line
  end
  local inner = indent .. opts.indent
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
end

function render(v, opts, depth, open, indent)
  if type(v) == "table" and not has_tostring(v) then
    return render_table(v, opts, depth, open, indent)
  end
  return scalar(v)
end

local function pretty(v, opts)
  local o = setmetatable({}, { __index = defaults })
  if opts then for k, x in pairs(opts) do o[k] = x end end
  return render(v, o, 0, {}, "")
end

return setmetatable({ quote = quote, is_identifier = is_identifier },
                    { __call = function(_, v, opts) return pretty(v, opts) end })
