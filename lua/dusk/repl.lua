-- dusk.repl: the language half of the REPL.  The C half (src/repl.c) reads
-- lines and keys; this module decides what a line means, prints results and
-- finds completions.
--
-- Top-level locals.  Each REPL entry is a separate chunk, so a plain
-- `local x = 1` would vanish at the end of its line.  The REPL therefore
-- rewrites the locals declared at the top level of an entry into
-- assignments to its own scope table, which later entries see through
-- their environment: `local x = 1` becomes `x = 1` with `x` declared in
-- the scope, so it is visible on the following lines but is not a global.
-- A `<close>` local is left alone: it is closed at the end of its entry,
-- as it would be at the end of a script.

local pretty = require "dusk.pretty"

local M = {}

---------------------------------------------------------------- lexer

local long_bracket = "^%[(=*)%["

-- Iterates over the tokens of 'src' that matter to the rewriter: names and
-- keywords ("name"), and symbols ("sym"); strings, numbers and comments are
-- skipped (yielded as "other" so a statement's shape is not mistaken).
-- Yields kind, text, first position, last position.
local function tokens(src)
  local pos = 1
  return function()
    while true do
      local s = src:find("%S", pos)
      if not s then return nil end
      local c = src:sub(s, s)
      if src:find("^%-%-", s) then                     -- comment
        local eqs = src:match(long_bracket, s + 2)
        if eqs then
          local _, e = src:find("]" .. eqs .. "]", s + 2, true)
          pos = (e or #src) + 1
        else
          pos = (src:find("\n", s, true) or #src) + 1
        end
      elseif c == '"' or c == "'" then                 -- short string
        local i = s + 1
        while i <= #src do
          local d = src:sub(i, i)
          if d == "\\" then i = i + 2
          elseif d == c or d == "\n" then break
          else i = i + 1 end
        end
        pos = i + 1
        return "other", src:sub(s, i), s, i
      elseif src:find(long_bracket, s) then             -- long string
        local eqs = src:match(long_bracket, s)
        local _, e = src:find("]" .. eqs .. "]", s, true)
        e = e or #src
        pos = e + 1
        return "other", src:sub(s, e), s, e
      elseif c:find("[%a_]") then
        local e = select(2, src:find("^[%w_]*", s + 1))
        pos = e + 1
        return "name", src:sub(s, e), s, e
      elseif c:find("%d") or src:find("^%.%d", s) then  -- number
        local e = select(2, src:find("^[%w_%.]*", s))
        while src:find("^[eEpP][+-]", e) do             -- exponent sign
          e = select(2, src:find("^[%w_%.]*", e + 2))
        end
        pos = e + 1
        return "other", src:sub(s, e), s, e
      else
        local sym = src:match("^%.%.%.", s) or src:match("^[=~<>]=", s)
                    or src:match("^%.%.", s) or src:match("^::", s)
                    or src:match("^//", s) or src:match("^<<", s)
                    or src:match("^>>", s) or c
        pos = s + #sym
        return "sym", sym, s, s + #sym - 1
      end
    end
  end
end
M.tokens = tokens

---------------------------------------------------------------- locals

local opens = { ["function"] = true, ["if"] = true, ["do"] = true, ["repeat"] = true }
local closes = { ["end"] = true, ["until"] = true }

-- Rewrites the top-level local statements of 'src' as described at the
-- top of this file.  Returns the new source (lines and the columns before
-- each change kept) and the list of names declared.
function M.rewrite_locals(src)
  local toks = {}
  for kind, text, s, e in tokens(src) do
    toks[#toks + 1] = { kind = kind, text = text, s = s, e = e }
  end
  local edits, names = {}, {}   -- edits: {position, length removed, text}
  local depth, i = 0, 1
  while i <= #toks do
    local t = toks[i]
    if t.kind == "name" and opens[t.text] then
      depth = depth + 1
    elseif t.kind == "name" and closes[t.text] then
      depth = depth - 1
    elseif t.kind == "name" and t.text == "local" and depth == 0 then
      local nxt = toks[i + 1]
      if nxt and nxt.text == "function" and toks[i + 2]
          and toks[i + 2].kind == "name" then
        edits[#edits + 1] = { t.s, #"local", "" }
        names[#names + 1] = toks[i + 2].text
      else
        -- Name [<attrib>] {, Name [<attrib>]} [= ...]
        local j, stmt_names, attr_edits, closing = i + 1, {}, {}, false
        while toks[j] and toks[j].kind == "name" do
          stmt_names[#stmt_names + 1] = toks[j].text
          local last = toks[j]
          if toks[j + 1] and toks[j + 1].text == "<" then
            local attr, gt = toks[j + 2], toks[j + 3]
            if not (attr and gt and gt.text == ">") then break end
            if attr.text == "close" then closing = true end
            attr_edits[#attr_edits + 1] = { toks[j + 1].s, gt.e - toks[j + 1].s + 1, "" }
            last = gt
            j = j + 3
          end
          j = j + 1
          if toks[j] and toks[j].text == "," then
            j = j + 1
          else
            if #stmt_names > 0 and not closing then
              edits[#edits + 1] = { t.s, #"local", "" }
              for _, a in ipairs(attr_edits) do edits[#edits + 1] = a end
              if not (toks[j] and toks[j].text == "=") then
                edits[#edits + 1] = { last.e + 1, 0, " = nil" }
              end
              table.move(stmt_names, 1, #stmt_names, #names + 1, names)
            end
            break
          end
        end
      end
    end
    i = i + 1
  end
  -- Apply from the end so earlier positions stay valid; blank removed text
  -- with spaces so columns before each change stay where they were.
  table.sort(edits, function(a, b) return a[1] > b[1] end)
  for _, ed in ipairs(edits) do
    local at, len, text = ed[1], ed[2], ed[3]
    src = src:sub(1, at - 1) .. text .. (" "):rep(len) .. src:sub(at + len)
  end
  return src, names
end

---------------------------------------------------------------- scope

-- A new REPL environment: globals are read from and written to _G, except
-- names declared by top-level locals, which live in the environment table
-- itself.  (A declared name whose value is set to nil reads through to _G
-- until it is assigned again.)
function M.new_env()
  local declared = {}
  local env = setmetatable({}, {
    __index = _G,
    __newindex = function(t, k, v)
      if declared[k] then rawset(t, k, v) else _G[k] = v end
    end,
  })
  return env, declared
end

local envs = setmetatable({}, { __mode = "k" })  -- env -> its declared set

function M.env()
  local env, declared = M.new_env()
  envs[env] = declared
  return env
end

---------------------------------------------------------------- compile

-- Compiles one REPL entry.  Returns the function; or nil, message and
-- true when the entry is incomplete (more lines may finish it); or nil and
-- the syntax error.
function M.compile(src, env, chunkname)
  chunkname = chunkname or "=stdin"
  local fn = load("return " .. src, chunkname, "t", env)
  if fn then return fn end
  local code, names = M.rewrite_locals(src)
  local err
  fn, err = load(code, chunkname, "t", env)
  if fn then
    local declared = envs[env]
    if declared then for _, n in ipairs(names) do declared[n] = true end end
    return fn
  end
  if err:sub(-5) == "<eof>" then return nil, err, true end
  return nil, err, false
end

---------------------------------------------------------------- results

-- Prints an entry's results: each value pretty-printed, tab-separated.
function M.print_results(...)
  local n = select("#", ...)
  if n == 0 then return end
  local out = {}
  for i = 1, n do out[i] = pretty((select(i, ...))) end
  io.stdout:write(table.concat(out, "\t"), "\n")
  io.stdout:flush()
end

---------------------------------------------------------------- completion

local lua_keywords = {}
for w in ([[and break do else elseif end false for function goto if in
            local nil not or repeat return then true until while]]):gmatch("%a+") do
  lua_keywords[#lua_keywords + 1] = w
end

-- Adds the string keys of 't', and of the tables its metatables' __index
-- chain leads to, to 'set'.
local function collect_keys(t, set, seen)
  seen = seen or {}
  if seen[t] then return end
  seen[t] = true
  if type(t) == "table" then
    for k in next, t do
      if type(k) == "string" then set[k] = t[k] end
    end
  end
  local mt = getmetatable(t)
  if type(mt) == "table" and type(rawget(mt, "__index")) == "table" then
    collect_keys(rawget(mt, "__index"), set, seen)
  end
  -- objects whose __index is a function (a Delayed) list their members here
  if type(mt) == "table" and type(rawget(mt, "__dusk_members")) == "table" then
    collect_keys(rawget(mt, "__dusk_members"), set, seen)
  end
end

local function common_prefix(list)
  local p = list[1]
  for i = 2, #list do
    local s = list[i]
    local n = 0
    while n < #p and n < #s and p:byte(n + 1) == s:byte(n + 1) do n = n + 1 end
    p = p:sub(1, n)
  end
  return p
end

-- Completes the word that ends 'line' (the text before the cursor) in
-- 'env'.  Returns the text to insert at the cursor and, when the choice is
-- not unique, the sorted list of candidates to show.
function M.complete(env, line)
  local path = line:match("[%w_]+[%w_%.:]*$") or line:match("[%.:]?$")
  local base_expr, sep, word = path:match("^(.-)([%.:]?)([%w_]*)$")
  local set = {}
  if sep == "" then
    collect_keys(env, set)
    for _, k in ipairs(lua_keywords) do set[k] = true end
  else
    if base_expr == "" or base_expr:find("[:]") then return "", nil end
    local ok, base = pcall(load("return " .. base_expr, "=complete", "t", env))
    if not ok or base == nil then return "", nil end
    collect_keys(base, set)
  end
  local candidates = {}
  for k, v in pairs(set) do
    if k:sub(1, #word) == word and k:match("^[%a_][%w_]*$")
        and (sep ~= ":" or type(v) == "function") then
      candidates[#candidates + 1] = k
    end
  end
  table.sort(candidates)
  if #candidates == 0 then return "", nil end
  if #candidates == 1 then
    local v = set[candidates[1]]
    local suffix = ""
    if sep == ":" or type(v) == "function" then suffix = "("
    elseif type(v) == "table" then suffix = "." end
    return candidates[1]:sub(#word + 1) .. suffix, nil
  end
  local add = common_prefix(candidates):sub(#word + 1)
  return add, add == "" and candidates or nil
end

-- The candidates laid out in columns for a terminal 'width' wide.
function M.format_choices(list, width)
  local w = 0
  for _, s in ipairs(list) do w = math.max(w, #s) end
  w = w + 2
  local cols = math.max(1, (width or 80) // w)
  local rows = (#list + cols - 1) // cols
  local lines = {}
  for r = 1, rows do
    local parts = {}
    for c = 0, cols - 1 do
      local s = list[c * rows + r]
      if s then parts[#parts + 1] = s .. (" "):rep(w - #s) end
    end
    lines[r] = table.concat(parts):gsub("%s+$", "")
  end
  return table.concat(lines, "\n") .. "\n"
end

return M
