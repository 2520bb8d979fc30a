-- dusk.visualize: pictures of task graphs, as Graphviz draws them.
--
--   visualize(a, b, ..., filename [, opts])
--
-- The graph drawn is the one that would run: culled to what the
-- collections need, fused chains as one node (listing its steps),
-- persisted data marked.  A .dot file is written directly; .svg and .png
-- go through Graphviz's `dot`, which must be installed.  Returns the
-- filename.

local core = require "dusk.core"
local compute = require "dusk.compute"
local errors = require "dusk.errors"

local function label_of(step)
  if step.ntasks > 1 then return string.format("(%s, %d)", step.name, step.index) end
  return step.name
end

-- A DOT string: quotes and backslashes escaped, lines joined by \n.
local function dot_string(lines)
  for i, l in ipairs(lines) do lines[i] = l:gsub('[\\"]', "\\%0") end
  return '"' .. table.concat(lines, "\\n") .. '"'
end

local function dot_source(plan)
  local out = { "digraph dusk {", "  rankdir=BT;", '  node [shape=box, fontname="Helvetica"];' }
  for i, task in ipairs(plan.tasks) do
    local lines, persisted = {}, false
    for k, step in ipairs(task.chain) do
      lines[k] = label_of(step) .. (step.persisted and " (persisted)" or "")
      persisted = persisted or step.persisted
    end
    local styles = {}
    if #task.chain > 1 then styles[#styles + 1] = "rounded" end  -- fused steps
    if persisted then styles[#styles + 1] = "filled" end
    local attrs = { "label=" .. dot_string(lines) }
    if #styles > 0 then attrs[#attrs + 1] = string.format('style="%s"', table.concat(styles, ",")) end
    if persisted then attrs[#attrs + 1] = 'fillcolor="lightblue"' end
    if task.requested then attrs[#attrs + 1] = "penwidth=2" end
    out[#out + 1] = string.format("  t%d [%s];", i, table.concat(attrs, ", "))
  end
  for i, task in ipairs(plan.tasks) do
    for _, input in ipairs(task.inputs) do
      out[#out + 1] = string.format("  t%d -> t%d;", input, i)
    end
  end
  out[#out + 1] = "}"
  return table.concat(out, "\n") .. "\n"
end

local function write_file(path, text)
  local f, err = io.open(path, "w")
  if not f then errors.raise("visualize: " .. err) end
  f:write(text)
  assert(f:close())
end

local function have_dot()
  local ok = os.execute("command -v dot >/dev/null 2>&1")
  return ok == true
end

return function(...)
  local args = table.pack(...)
  local n = args.n
  while n > 0 and args[n] == nil do n = n - 1 end
  local opts
  if n > 0 and type(args[n]) == "table" and not compute.is_collection(args[n]) then
    opts = args[n]
    n = n - 1
  end
  local filename = args[n]
  if type(filename) ~= "string" then
    errors.raise("visualize: expected a file name (.dot, .svg or .png) after the collections")
  end
  local layers, indexes = {}, {}
  for i = 1, n - 1 do
    local v = args[i]
    if compute.is_collection(v) then
      local mt = getmetatable(v)
      local ls, is = mt.__dusk_targets(v)
      table.move(ls, 1, #ls, #layers + 1, layers)
      table.move(is, 1, #is, #indexes + 1, indexes)
    end
  end
  local fuse = not (opts and opts.fuse == false)
  local source = dot_source(core.plan(layers, indexes, fuse))
  local format = filename:match("%.(%w+)$")
  if format == "dot" or format == "gv" then
    write_file(filename, source)
    return filename
  end
  if format ~= "svg" and format ~= "png" and format ~= "pdf" then
    errors.raise(string.format("visualize: %q: the name must end in .dot, .svg, .png or .pdf", filename))
  end
  if not have_dot() then
    errors.raise(string.format("visualize: writing %s needs Graphviz's dot, which is not installed " ..
                               "(apt-get install graphviz); a .dot file can be written without it",
                               filename))
  end
  local tmp = os.tmpname()
  write_file(tmp, source)
  local ok, _, code = os.execute(string.format("dot -T%s -o %q %q", format, filename, tmp))
  os.remove(tmp)
  if not ok then
    errors.raise(string.format("visualize: dot failed (status %s) writing %s", tostring(code), filename))
  end
  return filename
end
