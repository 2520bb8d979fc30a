-- dusk.dataframe: partitioned tables of typed columns, as Dask's
-- DataFrame (API.md section 6).
--
--   local dd = dusk.dataframe
--   local df = dd.read_csv("taxi/*.csv", {blocksize = "64MB"})
--   #df, df:isnull():sum():compute()
--   df[{"payment_type", "total_amount"}]:groupby("payment_type"):agg{total_amount = "mean"}
--
-- A DataFrame is a source of partitions (the blocks of CSV files, or the
-- tasks of a layer) and the list of per-partition operations not yet
-- given a layer of their own: they run fused, one task per partition,
-- with the reduction that ends them (a group-by's partial, a count), so
-- a partition is parsed, reduced and released without being kept.  A
-- CSV source parses only the columns the operations after it need.
--
-- Reductions are trees (split_every partials a node, 8 by default): a
-- partial per partition, combined level by level, the last node making
-- the answer.  CSV blocks are found exactly (dusk.framecore's scans,
-- one task per block, resolved in order by each parse task), so `#df`
-- of a CSV source counts rows from the scans alone.

local core = require "dusk.core"
local compute = require "dusk.compute"
local config = require "dusk.config"
local errors = require "dusk.errors"
local spec = require "dusk.spec"
local fc = require "dusk.framecore"

local M = {}

local DataFrame, Series, GroupBy = {}, {}, {}
local FrameMT = { __name = "dusk.DataFrame", __dusk_send = true }
local SeriesMT = { __name = "dusk.Series", __dusk_send = true }
local GroupByMT = { __name = "dusk.GroupBy", __index = GroupBy }
local ResultMT = { __name = "dusk.Reduction" }
local LayerMT = { __gc = core.release, __name = "dusk.Layer", __dusk_send = true }
M.DataFrame, M.Series, M.GroupBy = DataFrame, Series, GroupBy

local SPLIT_EVERY = 8
local SAMPLE = 256000 -- bytes of the first file that choose the dtypes, as Dask's read_csv
local TYPES = { int64 = true, float64 = true, bool = true, string = true, datetime = true }
local NUMERIC = { int64 = true, float64 = true, bool = true }

local function is_frame(v) return getmetatable(v) == FrameMT end
local function is_series(v) return getmetatable(v) == SeriesMT end

local unpack = table.unpack

local function copy(t) return table.move(t, 1, #t, 1, {}) end

local function all_of(n)
  local list = {}
  for i = 1, n do list[i] = i end
  return list
end

local function reads_all(n, tasks_)
  local reads = {}
  for t = 1, tasks_ do reads[t] = all_of(n) end
  return reads
end


local function opts_of(opts, where, allowed)
  if opts == nil then return {} end
  if type(opts) ~= "table" then errors.raise(where .. ": options must be a table") end
  for k in pairs(opts) do
    if not allowed[k] then errors.raise(string.format("%s: unknown option '%s'", where, tostring(k))) end
  end
  return opts
end

---------------------------------------------------------------- frames

-- A lazy frame over 'src' ({kind = "csv", ...} or {kind = "layer",
-- layer =}) with the pending 'ops'.
local function make(src, ops, columns, dtypes, npartitions, name, mt)
  return setmetatable({ _src = src, _ops = ops, columns = columns, dtypes = dtypes,
                        npartitions = npartitions, _name = name }, mt or FrameMT)
end

local function derive(self, op, columns, dtypes, mt)
  local ops = copy(self._ops)
  ops[#ops + 1] = op
  return make(self._src, ops, columns or self.columns, dtypes or self.dtypes, self.npartitions,
              self._name, mt or getmetatable(self))
end

-- The columns an expression reads, into 'set'.
local function refs(e, set)
  if e[1] == "col" then set[e[2]] = true
  elseif e[1] == "bin" then refs(e[3], set); refs(e[4], set)
  elseif e[1] ~= "lit" then refs(e[3], set) end -- un, astype, isin
  return set
end

-- The columns of the source that the ops (and a sink reading 'used',
-- columns named after the ops) need: walked back from the end, each op
-- turning what is needed after it into what is needed before it.
local function needed(self, used)
  local need = {}
  for _, c in ipairs(used or self.columns) do need[c] = true end
  for k = #self._ops, 1, -1 do
    local op = self._ops[k]
    local kind = op[1]
    if kind == "rename" then
      local back = {}
      for c in pairs(need) do back[c] = true end
      for old, new in pairs(op[2]) do
        if need[new] then back[new] = nil; back[old] = true end
      end
      need = back
    elseif kind == "assign" then
      need[op[2]] = nil
      refs(op[3], need)
    elseif kind == "filter" then
      refs(op[2], need)
    elseif kind == "map" then
      need[op[2]] = nil
      need[op[3]] = true
    end
  end
  return need
end

-- Whether 'sink' only counts nulls of columns the ops only choose: the
-- parse then checks the fields and counts, making no frame.
local function nulls_only(self, sink)
  if not sink or sink[1] ~= "group" or #sink[2].keys > 0 then return false end
  for _, a in ipairs(sink[2].aggs) do if a.op ~= "nulls" then return false end end
  for _, op in ipairs(self._ops) do if op[1] ~= "select" then return false end end
  return true
end

-- The spec of a pipe over self's partitions ending in 'sink', and its
-- dependencies.
local function pipe_spec(self, sink, used)
  local src = self._src
  if src.kind == "csv" then
    local need = needed(self, used)
    local opts = {}
    for k, v in pairs(src.opts) do opts[k] = v end
    opts.types = {}
    for i, name in ipairs(src.opts.names) do
      local t = src.opts.types[i]
      opts.types[i] = t and (need == nil or need[name]) and t or false
    end
    opts.nulls = nulls_only(self, sink) or nil
    local source = { kind = "csv", files = src.files, blocks = src.blocks, opts = opts }
    return spec.frame("pipe", { source = source, ops = self._ops, sink = sink }),
           { { src.scan, reads = src.reads } }
  end
  return spec.frame("pipe", { source = { kind = "input" }, ops = self._ops, sink = sink }),
         { { src.layer, split = 1 } }
end

-- The layer of self's partitions (made once).
local function layer_of(self)
  if self._layer then return self._layer end
  if #self._ops == 0 and self._src.kind == "layer" then
    self._layer = self._src.layer
  else
    local s, deps = pipe_spec(self, nil)
    self._layer = core.layer(LayerMT, compute.new_key(self._name), self.npartitions, s, deps)
  end
  return self._layer
end

-- The dtype of a Lua value as a column's element.
-- Whether an expression 'e' over the columns of 'base' reads the same
-- values when evaluated in 'target': the same source, base's ops a
-- prefix of target's, and after them only row filters, selections that
-- keep what e reads and assigns of other columns (pandas would align
-- the rows by index; here they are the same rows).
local function evaluable_in(e, base, target)
  if base == target then return true end
  if base._src ~= target._src or #base._ops > #target._ops then return false end
  for i = 1, #base._ops do if base._ops[i] ~= target._ops[i] then return false end end
  local reads = refs(e, {})
  for i = #base._ops + 1, #target._ops do
    local op = target._ops[i]
    if op[1] == "assign" then
      if reads[op[2]] then return false end
    elseif op[1] == "select" then
      local kept = {}
      for _, c in ipairs(op[2]) do kept[c] = true end
      for c in pairs(reads) do if not kept[c] then return false end end
    elseif op[1] ~= "filter" then
      return false
    end
  end
  return true
end

local function lit_dtype(v)
  if math.type(v) == "integer" then return "int64" end
  local t = type(v)
  if t == "number" or t == "nil" then return "float64" end
  if t == "boolean" then return "bool" end
  if t == "string" then return "string" end
  errors.raise("a " .. t .. " cannot be a Series operand")
end

---------------------------------------------------------------- reading

local function io_must(what, v, err)
  if v == nil then errors.raise(what .. ": " .. tostring(err)) end
  return v
end

local function string_list(v, what)
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" then errors.raise(what .. " must be a list of column names") end
  local out = {}
  for i = 1, #v do
    if type(v[i]) ~= "string" then errors.raise(what .. " must be a list of column names") end
    out[i] = v[i]
  end
  return out
end

-- dd.read_csv(path | glob | list, {blocksize=, sep=, header=, dtypes=,
-- usecols=, na_values=, parse_dates=})
function M.read_csv(paths, opts)
  local dio = require "dusk.io"
  opts = opts_of(opts, "read_csv", { blocksize = true, sep = true, header = true, dtypes = true,
                                     usecols = true, na_values = true, parse_dates = true,
                                     quotechar = true })
  local files = io_must("read_csv", errors.call("read_csv", dio.expand, paths))
  if #files == 0 then errors.raise("read_csv: no files match " .. tostring(paths)) end
  local blocksize = errors.call("read_csv", dio.parse_bytes, opts.blocksize or "64MiB")
  if blocksize < 1 then errors.raise("read_csv: blocksize must be positive") end
  local sep, quote = opts.sep or ",", opts.quotechar or '"'
  if type(sep) ~= "string" or #sep ~= 1 then errors.raise("read_csv: sep must be one character") end
  local header = opts.header ~= false
  local codecs = {}
  for i, path in ipairs(files) do
    codecs[i] = errors.call("read_csv", dio.compression_of, path, "infer") or false
  end
  -- the columns and their types, from the start of the first file
  local size1 = io_must("read_csv", dio.size(files[1]))
  local na = opts.na_values ~= nil and string_list(opts.na_values, "read_csv: na_values") or {}
  local ok, names, types = pcall(fc.csv_sample, files[1], SAMPLE, size1, sep, quote, header, codecs[1] or nil, na)
  if not ok then errors.raise(names) end
  if #names == 0 then errors.raise("read_csv: " .. files[1] .. " has no columns") end
  local position = {}
  for i, n in ipairs(names) do
    if position[n] then errors.raise(string.format("read_csv: %s: column '%s' appears twice", files[1], n)) end
    position[n] = i
  end
  local function check_names(list, what)
    for _, n in ipairs(list) do
      if not position[n] then errors.raise(string.format("read_csv: %s: no column '%s' in %s", what, n, files[1])) end
    end
  end
  if opts.dtypes ~= nil then
    if type(opts.dtypes) ~= "table" then errors.raise("read_csv: dtypes must be a table {column = dtype}") end
    for n, t in pairs(opts.dtypes) do
      check_names({ n }, "dtypes")
      if not TYPES[t] then errors.raise(string.format("read_csv: dtypes: '%s' is not a dtype (int64, float64, bool, string, datetime)", tostring(t))) end
      types[position[n]] = t
    end
  end
  if opts.parse_dates ~= nil then
    local list = string_list(opts.parse_dates, "read_csv: parse_dates")
    check_names(list, "parse_dates")
    for _, n in ipairs(list) do types[position[n]] = "datetime" end
  end
  local used = names
  if opts.usecols ~= nil then
    local list = string_list(opts.usecols, "read_csv: usecols")
    check_names(list, "usecols")
    local want = {}
    for _, n in ipairs(list) do want[n] = true end
    used = {}
    for _, n in ipairs(names) do if want[n] then used[#used + 1] = n end end
    for i, n in ipairs(names) do if not want[n] then types[i] = false end end
  end
  local dtypes = {}
  for _, n in ipairs(used) do dtypes[n] = types[position[n]] end
  -- the blocks: a scan task each; a parse task reads its file's scans
  local fileinfo, blocks, reads = {}, {}, {}
  for fi, path in ipairs(files) do
    local size = io_must("read_csv", dio.size(path))
    local ats, first = {}, #blocks + 1
    if codecs[fi] then
      -- a compressed file is one block, read whole (its size known when read)
      ats[1], size = 0, -1
    else
      for at = 0, math.max(size - 1, 0), blocksize do ats[#ats + 1] = at end
    end
    fileinfo[fi] = { path = path, size = size, ats = ats, codec = codecs[fi] or nil }
    local list = {}
    for k = 1, #ats do list[k] = first + k - 1 end
    for k = 1, #ats do
      blocks[#blocks + 1] = { fi, k }
      reads[#reads + 1] = list
    end
  end
  local scan = core.layer(LayerMT, compute.new_key("read_csv-scan"), #blocks,
                          spec.frame("scan", { files = fileinfo, blocks = blocks, quote = quote }), nil)
  local src = { kind = "csv", files = fileinfo, blocks = blocks, scan = scan, reads = reads,
                opts = { sep = sep, quote = quote, header = header, names = names, types = types, na = na } }
  local ops = {}
  if used ~= names then ops[1] = { "select", used } end
  return make(src, ops, used, dtypes, #blocks, "read_csv")
end

-- The type of a column of Lua values (nil: holes).
local function infer_column(name, list, n)
  local t
  for i = 1, n do
    local v = list[i]
    if v ~= nil then
      local vt = math.type(v) == "integer" and "int64" or type(v) == "number" and "float64"
                 or type(v) == "boolean" and "bool" or type(v) == "string" and "string" or nil
      if vt == nil then errors.raise(string.format("from_table: column '%s', row %d: a %s", name, i, type(v))) end
      if t == nil or t == vt then t = vt
      elseif (t == "int64" and vt == "float64") or (t == "float64" and vt == "int64") then t = "float64"
      else errors.raise(string.format("from_table: column '%s' mixes %s and %s values", name, t, vt)) end
    end
  end
  return t or "float64"
end

-- The columns of a table {col = {...}} (in 'order', else by name):
-- names, types, value lists (floats as floats) and the row count.
local function table_columns(t, order, what, strict)
  if type(t) ~= "table" then errors.raise(what .. ": expected a table {column = {values}}") end
  local names = order and string_list(order, what .. ": columns") or {}
  if not order then
    for k in pairs(t) do
      if type(k) ~= "string" then errors.raise(what .. ": column names must be strings") end
      names[#names + 1] = k
    end
    table.sort(names)
  end
  local n, lens = 0, {}
  for i, name in ipairs(names) do
    local col = t[name]
    if type(col) ~= "table" then errors.raise(string.format("%s: column '%s' is not a list", what, name)) end
    local len = 0
    for k in pairs(col) do
      if math.type(k) ~= "integer" or k < 1 then
        errors.raise(string.format("%s: column '%s' has a key that is not a row number", what, name))
      end
      if k > len then len = k end
    end
    lens[i] = len
    if len > n then n = len end
  end
  -- a frame's columns must be as long as each other (pandas: "All arrays
  -- must be of the same length"); from_table's may end in holes
  for i, name in ipairs(names) do
    if strict and lens[i] ~= n then
      errors.raise(string.format("%s: column '%s' has %d values, column '%s' %d (columns must be of one length)",
                                 what, name, lens[i], names[i == 1 and 2 or 1], lens[i == 1 and 2 or 1]))
    end
  end
  local types, cols = {}, {}
  for i, name in ipairs(names) do
    types[i] = infer_column(name, t[name], n)
    if types[i] == "float64" then
      local c = {}
      for r = 1, n do local v = t[name][r]; c[r] = v ~= nil and v * 1.0 or nil end -- (* keeps -0.0)
      cols[i] = c
    else
      cols[i] = t[name]
    end
  end
  return names, types, cols, n
end

-- dd.frame({col = {...}}, {columns=}): an in-memory dusk.frame.
function M.frame(t, opts)
  opts = opts_of(opts, "frame", { columns = true })
  local names, types, cols, n = table_columns(t, opts.columns, "frame", true)
  return fc.from_columns(names, types, cols, n)
end

-- dd.from_table({col = {...}, ...}, {npartitions=, columns=}): columns in
-- name order unless 'columns' gives one.
function M.from_table(t, opts)
  opts = opts_of(opts, "from_table", { npartitions = true, columns = true })
  local names, types, cols, n = table_columns(t, opts.columns, "from_table")
  local dtypes = {}
  for i, name in ipairs(names) do dtypes[name] = types[i] end
  local nparts = opts.npartitions or 1
  if math.type(nparts) ~= "integer" or nparts < 1 then errors.raise("from_table: npartitions must be a positive integer") end
  nparts = math.max(1, math.min(nparts, n))
  local parts, per = {}, -(-n // nparts)
  for p = 1, nparts do
    local first, last = (p - 1) * per + 1, math.min(p * per, n)
    local slice = {}
    for i = 1, #names do slice[i] = table.move(cols[i], first, last, 1, {}) end
    parts[p] = fc.from_columns(names, types, slice, math.max(last - first + 1, 0))
  end
  local layer = core.layer(LayerMT, compute.new_key("from_table"), nparts, core.stored_new(parts), nil)
  return make({ kind = "layer", layer = layer }, {}, names, dtypes, nparts, "from_table")
end

-- b:to_dataframe (dusk.bag): a partition of records a partition.
function M.from_bag(bag, layer, opts)
  opts = opts_of(opts, "to_dataframe", { columns = true })
  local first = bag:take(1, { npartitions = -1 })[1]
  if type(first) ~= "table" then
    errors.raise("to_dataframe: the bag's elements must be tables (records), not " .. type(first))
  end
  local names = opts.columns and string_list(opts.columns, "to_dataframe: columns") or nil
  local positional = names ~= nil and first[1] ~= nil
  if not names then
    names = {}
    for k in pairs(first) do
      if type(k) ~= "string" then errors.raise("to_dataframe: records with positions need {columns = {...}}") end
      names[#names + 1] = k
    end
    table.sort(names)
  end
  local dtypes, types = {}, {}
  for i, name in ipairs(names) do
    local v = first[positional and i or name]
    types[i] = v == nil and "float64" or lit_dtype(v)
    dtypes[name] = types[i]
  end
  local a = { names = names, types = types, positional = positional }
  local out = core.layer(LayerMT, compute.new_key("to_dataframe"), bag.npartitions, spec.frame("from_records", a),
                         { { layer, split = 1 } })
  return make({ kind = "layer", layer = out }, {}, names, dtypes, bag.npartitions, "to_dataframe")
end

---------------------------------------------------------------- tasks

-- map: f of every value of column 'from' as column 'to', nulls kept.
local function map_values(part, to, from, f, dtype)
  local n, out = #part, {}
  for i = 1, n do
    local v = part:value(i, from)
    if v ~= nil and v == v then out[i] = f(v) end -- a null (nil, NaN) stays one
  end
  local names, types, cols = { to }, { dtype }, { out }
  local ok, col = pcall(fc.from_columns, names, types, cols, n)
  if not ok then error("map: the function's values do not fit dtype " .. dtype .. " (give map {dtype=}): " .. col, 0) end
  return fc.assign(part, to, col)
end

local function apply(op, part)
  local kind = op[1]
  if kind == "select" then return part:select(op[2]) end
  if kind == "assign" then return fc.assign(part, op[2], op[3]) end
  if kind == "filter" then return fc.filter(part, op[2]) end
  if kind == "map" then return map_values(part, op[2], op[3], op[4], op[5]) end
  if kind == "isnull" then return fc.isnull(part, false) end
  if kind == "notnull" then return fc.isnull(part, true) end
  if kind == "rename" then return fc.rename(part, op[2]) end
  error("no frame operation " .. tostring(kind))
end

local function sink(s, part)
  if s == nil then return part end
  if s[1] == "count" then return #part end
  if s[1] == "group" then return fc.group("partial", s[2], part) end
  error("no frame sink " .. tostring(s[1]))
end

-- The answer of a reduction from its one combined partial.
local function finish(a, p)
  local out = fc.group("finish", a.spec, p, a.keynames, a.names)
  local post = a.post
  if post == "scalar" then return out:value(1, 1) end
  if post == "row" then return fc.row_series(out, a.labels, a.name) end
  if post == "series" then return fc.as_series(out) end
  if post == "value_counts" then return fc.as_series(fc.sort(out, { a.names[1] }, false)) end
  if post == "nrows" then return #out end
  if post == "keys" then return out:select({ a.keynames[1] }, true, true) end
  if post == "distinct" then return out:select(a.keynames, false, true) end
  if post == "nunique_by" then
    -- the (keys, value) groups counted by keys: distinct values a group
    local inner = fc.group("partial", a.inner, out)
    return fc.as_series(fc.group("finish", a.inner, inner, a.inner.keys, { a.inner.aggs[1].col }))
  end
  return out
end

local function concat(inputs, first, last)
  if last < first then error("no partitions to join", 0) end
  return fc.concat(unpack(inputs, first, last))
end

-- A DataFrame's tasks by kind (spec.frame(kind, args)); index is the
-- task's, inputs its inputs (inputs.n of them).
local tasks = {}

function tasks.scan(a, index)
  local b = a.blocks[index]
  local f = a.files[b[1]]
  local at = f.ats[b[2]]
  local len = (f.ats[b[2] + 1] or f.size) - at
  return fc.csv_scan(f.path, at, len, f.size, a.quote, f.codec)
end

function tasks.pipe(a, index, inputs)
  local part
  if a.source.kind == "csv" then
    local b = a.source.blocks[index]
    local f = a.source.files[b[1]]
    local opts = a.source.opts
    opts.codec = f.codec
    part = fc.csv_parse(f.path, b[2], f.ats, f.size, opts, unpack(inputs, 1, inputs.n))
    if opts.nulls then
      -- the partial of the nulls counted (fgroup.h's layout: a count each)
      local by, j = {}, 0
      for i, name in ipairs(opts.names) do
        if opts.types[i] then j = j + 1; by[name] = part[j] end
      end
      local names, types, cols = {}, {}, {}
      for i, agg in ipairs(a.sink[2].aggs) do names[i], types[i], cols[i] = "\1" .. i, "int64", { by[agg.col] } end
      return fc.from_columns(names, types, cols, 1)
    end
  else
    part = inputs[1]
  end
  for _, op in ipairs(a.ops) do part = apply(op, part) end
  return sink(a.sink, part)
end

function tasks.combine(a, _, inputs) return fc.group("combine", a.spec, unpack(inputs, 1, inputs.n)) end
function tasks.finish(a, index, inputs)
  if a.pick then -- split_out: piece 'index' of every partial
    local parts = {}
    for i = 1, inputs.n do parts[i] = inputs[i][index] end
    return finish(a, fc.group("combine", a.spec, unpack(parts)))
  end
  return finish(a, fc.group("combine", a.spec, unpack(inputs, 1, inputs.n)))
end

function tasks.sum(_, _, inputs)
  local total = 0
  for i = 1, inputs.n do total = total + inputs[i] end
  return total
end

function tasks.csv_rows(a, _, inputs)
  local total, at = 0, 1
  for _, f in ipairs(a.files) do
    total = total + fc.csv_rows(f.path, f.ats, f.size, a.header, unpack(inputs, at, at + #f.ats - 1))
    at = at + #f.ats
  end
  return total
end

-- sort_values: a partition's sample of its first key (evenly spaced
-- values of it sorted), the boundaries of the output partitions from
-- all samples, each partition cut at them, and each output partition
-- the pieces for it in input order, sorted (stable: so is the whole).
local SAMPLES = 64
function tasks.sample(a, _, inputs)
  local sorted = fc.sort(inputs[1]:select({ a.by[1] }), { a.by[1] }, a.ascending)
  local n, rows = #sorted, {}
  local picks = math.min(n, SAMPLES)
  for k = 1, picks do rows[k] = sorted:value((k * n) // picks, 1) end
  if picks == 0 then return sorted end
  local want = {}
  for k = 1, picks do
    local v = rows[k]
    if v ~= nil and v == v then want[#want + 1] = v end
  end
  return fc.from_columns({ a.by[1] }, { a.dtype }, { want }, #want)
end

function tasks.bounds(a, _, inputs)
  local all = fc.sort(concat(inputs, 1, inputs.n), { a.by[1] }, a.ascending)
  local n, bounds = #all, {}
  for p = 1, a.parts - 1 do
    if n > 0 then bounds[#bounds + 1] = all:value(math.max(1, (p * n) // a.parts), 1) end
  end
  return fc.from_columns({ a.by[1] }, { a.dtype }, { bounds }, #bounds)
end

function tasks.range_split(a, _, inputs)
  local pieces = fc.range_split(inputs[1], a.by[1], inputs[2], a.ascending)
  for p = #pieces + 1, a.parts do pieces[p] = pieces[#pieces]:rows(1, 0) end
  return pieces
end

-- An output partition of a shuffle: piece 'index' of every input's
-- pieces, joined (and sorted, or merged: the left's pieces, then the right's).
function tasks.gather(a, index, inputs)
  local parts = {}
  for i = 1, inputs.n do parts[i] = inputs[i][index] end
  if a.merge then
    return fc.merge(concat(parts, 1, a.nleft), concat(parts, a.nleft + 1, #parts), a.lkeys, a.rkeys,
                    a.how, a.coalesce)
  end
  local f = concat(parts, 1, #parts)
  if a.by then f = fc.sort(f, a.by, a.ascending) end
  if a.index then f = fc.with_index(f, a.index) end
  return f
end

function tasks.hash_split(a, _, inputs) return fc.hash_split(inputs[1], a.keys, a.parts) end

-- merge with one side whole: every partition of the other against it
function tasks.broadcast_merge(a, _, inputs)
  local whole = concat(inputs, 2, inputs.n)
  if a.whole_left then return fc.merge(whole, inputs[1], a.lkeys, a.rkeys, a.how, a.coalesce) end
  return fc.merge(inputs[1], whole, a.lkeys, a.rkeys, a.how, a.coalesce)
end

function tasks.from_records(a, _, inputs)
  local list, cols = inputs[1], {}
  for i, name in ipairs(a.names) do
    local c, key = {}, a.positional and i or name
    for r, rec in ipairs(list) do
      if type(rec) ~= "table" then error(string.format("to_dataframe: element %d is a %s, not a record", r, type(rec)), 0) end
      local v = rec[key]
      if a.types[i] == "float64" and type(v) == "number" then v = v * 1.0 end
      c[r] = v
    end
    cols[i] = c
  end
  return fc.from_columns(a.names, a.types, cols, #list)
end

-- describe: the statistics of the numeric columns of all partitions,
-- the quantiles exact (pandas' linear interpolation between ranks).
function tasks.describe(a, _, inputs)
  local all = concat(inputs, 1, inputs.n)
  local aggs, names = {}, {}
  for _, c in ipairs(a.columns) do
    for _, op in ipairs({ "count", "mean", "std", "min", "max" }) do
      aggs[#aggs + 1] = { col = c, op = op }
      names[#names + 1] = c .. "\1" .. op
    end
  end
  local gspec = { keys = {}, aggs = aggs }
  local stats = fc.group("finish", gspec, fc.group("partial", gspec, all), {}, names)
  local labels = { "count", "mean", "std", "min", "25%", "50%", "75%", "max" }
  local cols = {}
  for i, c in ipairs(a.columns) do
    local v = function(op) return stats:value(1, c .. "\1" .. op) end
    local sorted = fc.sort(all:select({ c }), { c }, true)
    local n = v("count")
    local function q(p)
      if n == 0 then return 0 / 0 end
      local h = (n - 1) * p + 1
      local lo = math.floor(h)
      local x = sorted:value(lo, 1)
      if lo < n then x = x + (h - lo) * (sorted:value(lo + 1, 1) - x) end
      return x + 0.0
    end
    cols[i] = { n + 0.0, v("mean"), v("std"), (v("min") or 0 / 0) + 0.0, q(0.25), q(0.5), q(0.75), (v("max") or 0 / 0) + 0.0 }
  end
  local fnames, ftypes, fcols = { "" }, { "string" }, { labels }
  for i, c in ipairs(a.columns) do fnames[i + 1], ftypes[i + 1], fcols[i + 1] = c, "float64", cols[i] end
  return fc.with_index(fc.from_columns(fnames, ftypes, fcols, #labels), { "" })
end

function tasks.write_binary(a, index, inputs)
  fc.write_binary(inputs[1], string.format("%s/part.%d", a.dir, index))
  return index
end

function tasks.read_binary(a, index)
  return fc.read_binary(string.format("%s/part.%d", a.dir, index), a.columns)
end

function tasks.top(a, _, inputs)
  return fc.sort(concat(inputs, 1, inputs.n), { a.col }, a.ascending, a.n)
end

function tasks.map_partitions(a, _, inputs)
  local out = a.fn(inputs[1], unpack(a.args, 1, a.nargs))
  if type(out) == "table" and getmetatable(out) == nil then out = M.frame(out) end
  if type(out) ~= "userdata" or out.is_series == nil then
    error(string.format("map_partitions: the function returned a %s, not a dusk.frame", type(out)), 0)
  end
  return out
end

-- to_csv: one file a partition, '*' its number, written atomically
-- (dusk.io's writer: a temporary name, then a rename).
function tasks.write_csv(a, index, inputs)
  local path = a.pattern:gsub("%*", tostring(index))
  local text = fc.csv_text(inputs[1], a.sep, true)
  local ok, err = require("dusk.io").write_lines(path, { text:sub(1, -2) })
  if not ok then error("to_csv: " .. tostring(err), 0) end
  return path
end

-- Runs task 'index' of a frame spec (dusk.runner's kinds.frame).
function M.task(s, index, inputs)
  local what = s[spec.FRAME_WHAT]
  local run = tasks[what]
  if run == nil then error("no frame task " .. tostring(what)) end
  return run(s[spec.FRAME_ARGS], index, inputs)
end

---------------------------------------------------------------- reductions

-- A one-task collection: computing it gives its task's value.
local function result(layer) return setmetatable({ _layer = layer }, ResultMT) end
ResultMT.__dusk_targets = function(self) return { self._layer }, { 1 } end
ResultMT.__dusk_result = function(_, results, first) return results[first] end

-- A tree over the n tasks of 'layer' whose last node runs 'last'
-- (spec.frame(what, args)); the levels below combine with 'args'.
local function tree(layer, n, name, last_what, args, split_every)
  split_every = split_every or SPLIT_EVERY
  if math.type(split_every) ~= "integer" or split_every < 2 then
    errors.raise(name .. ": split_every must be an integer of at least 2")
  end
  while n > split_every do
    local groups, reads = -(-n // split_every), {}
    for g = 1, groups do
      local list = {}
      for i = (g - 1) * split_every + 1, math.min(g * split_every, n) do list[#list + 1] = i end
      reads[g] = list
    end
    layer = core.layer(LayerMT, compute.new_key(name .. "-combine"), groups,
                       spec.frame(last_what == "sum" and "sum" or "combine", args),
                       { { layer, reads = reads } })
    n = groups
  end
  local all = {}
  for i = 1, n do all[i] = i end
  return core.layer(LayerMT, compute.new_key(name .. "-aggregate"), 1, spec.frame(last_what, args),
                    { { layer, reads = { all } } })
end

local RESULT_TYPE = { count = "int64", size = "int64", nulls = "int64", mean = "float64",
                      var = "float64", std = "float64" }

local function result_type(op, t)
  if RESULT_TYPE[op] then return RESULT_TYPE[op] end
  if op == "sum" then return t == "float64" and "float64" or "int64" end
  return t
end

-- Checks that 'op' applies to column 'c' of dtype 't'.
local function check_op(op, c, t, where)
  local numeric_only = op == "sum" or op == "mean" or op == "var" or op == "std"
  if (numeric_only and not NUMERIC[t]) or (not numeric_only and t == "string"
      and op ~= "count" and op ~= "size" and op ~= "nulls") then
    errors.raise(string.format("%s: %s is not defined for column '%s' of dtype %s", where, op, c, t))
  end
end

-- The layer of partials of a group spec over self's partitions.
local function partials(self, gspec, used)
  local s, deps = pipe_spec(self, { "group", gspec }, used)
  return core.layer(LayerMT, compute.new_key(self._name .. "-partial"), self.npartitions, s, deps)
end

-- Reduces whole columns 'cols' of self by 'op': a lazy result that
-- computes to a Series (post "row") or a scalar ("scalar").
local function reduce_columns(self, op, cols, post, opts)
  opts = opts_of(opts, op, { split_every = true, ddof = true })
  local src = self
  -- isnull():sum() counts nulls in the columns themselves
  if op == "sum" and #self._ops > 0 and self._ops[#self._ops][1] == "isnull" then
    src = make(self._src, table.move(self._ops, 1, #self._ops - 1, 1, {}), self.columns, self.dtypes,
               self.npartitions, self._name)
    op = "nulls"
  end
  local aggs = {}
  for i, c in ipairs(cols) do
    if op ~= "nulls" then check_op(op, c, src.dtypes[c], op) end
    aggs[i] = { col = c, op = op, ddof = opts.ddof }
  end
  local gspec = { keys = {}, aggs = aggs }
  local layer = partials(src, gspec, cols)
  local names = {}
  for i, c in ipairs(cols) do names[i] = c end
  local args = { spec = gspec, keynames = {}, names = names, post = post, labels = cols, name = "" }
  return result(tree(layer, self.npartitions, op, "finish", args, opts.split_every))
end

local REDUCTIONS = { "sum", "mean", "min", "max", "count", "std", "var" }

for _, op in ipairs(REDUCTIONS) do
  DataFrame[op] = function(self, opts) return reduce_columns(self, op, self.columns, "row", opts) end
  Series[op] = function(self, opts) return reduce_columns(self, op, self.columns, "scalar", opts) end
end

-- #df: the rows, counted from the CSV scans when nothing after them can
-- change the count, else from the partitions.
local function count(self)
  local src, layer = self._src, nil
  local counts_rows = true
  for _, op in ipairs(self._ops) do
    if op[1] == "filter" then counts_rows = false end
  end
  if src.kind == "csv" and counts_rows then
    local all = {}
    for i = 1, #src.blocks do all[i] = i end
    layer = core.layer(LayerMT, compute.new_key("read_csv-rows"), 1,
                       spec.frame("csv_rows", { files = src.files, header = src.opts.header }),
                       { { src.scan, reads = { all } } })
  else
    local s, deps = pipe_spec(self, { "count" }, {})
    local parts = core.layer(LayerMT, compute.new_key(self._name .. "-count"), self.npartitions, s, deps)
    layer = tree(parts, self.npartitions, "len", "sum", {}, nil)
  end
  return compute.many({ result(layer) }, 1, nil, "len")[1]
end
FrameMT.__len = count
SeriesMT.__len = count

---------------------------------------------------------------- operations

function DataFrame:_types_as(t)
  local d = {}
  for _, c in ipairs(self.columns) do d[c] = t end
  return d
end

function DataFrame:isnull() return derive(self, { "isnull" }, nil, self:_types_as("bool")) end
function DataFrame:notnull() return derive(self, { "notnull" }, nil, self:_types_as("bool")) end

-- A Series: the column 'name' of 'base' after the ops of base, made by
-- 'expr' over base's columns (so Series of one frame combine into one
-- expression, evaluated in C per partition).
local function series(base, expr, name, dtype)
  local ops = copy(base._ops)
  if not (expr[1] == "col" and expr[2] == name) then ops[#ops + 1] = { "assign", name, expr } end
  ops[#ops + 1] = { "select", { name } }
  local s = make(base._src, ops, { name }, { [name] = dtype }, base.npartitions, base._name, SeriesMT)
  s._base, s._expr = base, expr
  s._index = base._index
  return s
end

local function select(self, list, as_series)
  local dtypes = {}
  for _, c in ipairs(list) do
    if self.dtypes[c] == nil then
      errors.raise(string.format("no column '%s' (columns: %s)", tostring(c), table.concat(self.columns, ", ")))
    end
    dtypes[c] = self.dtypes[c]
  end
  if as_series then return series(self, { "col", list[1] }, list[1], dtypes[list[1]]) end
  return derive(self, { "select", list }, list, dtypes, FrameMT)
end

-- A Series' base frame and expression; one from a reduction or a group-by
-- is its own base.
local function base_of(s)
  if rawget(s, "_base") then return s._base, s._expr end
  local f = make(s._src, s._ops, s.columns, s.dtypes, s.npartitions, s._name, FrameMT)
  f._index = s._index
  rawset(s, "_base", f)
  rawset(s, "_expr", { "col", s.columns[1] })
  return f, s._expr
end

local function same_ops(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

local COMPARE = { eq = true, ne = true, lt = true, le = true, gt = true, ge = true }
local LOGICAL = { ["and"] = true, ["or"] = true, xor = true }

-- The dtype of a op b, fexpr.h's rules.
local function bin_dtype(op, ta, tb)
  if COMPARE[op] then
    if not (NUMERIC[ta] and NUMERIC[tb]) and ta ~= tb
       and not ((ta == "datetime" and tb == "string") or (tb == "datetime" and ta == "string")) then
      errors.raise(string.format("%s: cannot compare %s with %s", op, ta, tb))
    end
    return "bool"
  end
  if LOGICAL[op] then
    if ta ~= "bool" or tb ~= "bool" then errors.raise(string.format("%s: takes bool Series, not %s and %s", op, ta, tb)) end
    return "bool"
  end
  if op == "fillna" then
    if ta == tb then return ta end
    if NUMERIC[ta] and NUMERIC[tb] then return "float64" end
    errors.raise(string.format("fillna: a %s column filled with a %s", ta, tb))
  end
  if op == "add" and ta == "string" and tb == "string" then return "string" end
  if not (NUMERIC[ta] and NUMERIC[tb]) then errors.raise(string.format("%s: arithmetic on %s and %s", op, ta, tb)) end
  if op == "div" or ta == "float64" or tb == "float64" then return "float64" end
  return "int64"
end

-- s op v: v a Series of the same frame, or a scalar.
local function binary(op, a, b)
  local sa, sb = is_series(a), is_series(b)
  if not sa then a, b = b, a end -- a scalar first: the Series' base
  local base, ea = base_of(a)
  local eb, tb
  if is_series(b) then
    local bb
    bb, eb = base_of(b)
    if bb ~= base and not (bb._src == base._src and same_ops(bb._ops, base._ops)) then
      errors.raise(op .. ": Series of different frames (combine columns of one DataFrame)")
    end
    tb = b.dtype
  else
    eb, tb = { "lit", b }, lit_dtype(b)
  end
  local ta = a.dtype
  if not sa then ea, eb, ta, tb = eb, ea, tb, ta end
  local dtype = bin_dtype(op, ta, tb)
  local name = a.name
  if is_series(b) and b.name ~= a.name then name = "" end
  return series(base, { "bin", op, ea, eb }, name, dtype)
end

local function unary(op, s, dtype)
  local base, e = base_of(s)
  return series(base, { "un", op, e }, s.name, dtype)
end

for _, op in ipairs({ "eq", "ne", "lt", "le", "gt", "ge" }) do
  Series[op] = function(self, v) return binary(op, self, v) end
end
function Series:isnull() return unary("isnull", self, "bool") end
function Series:notnull() return unary("notnull", self, "bool") end
function Series:abs()
  if not NUMERIC[self.dtype] then errors.raise("abs: of a " .. self.dtype .. " Series") end
  return unary("abs", self, self.dtype == "float64" and "float64" or "int64")
end
function Series:fillna(v) return binary("fillna", self, v) end
function Series:between(lo, hi) return binary("and", binary("ge", self, lo), binary("le", self, hi)) end

function Series:astype(dtype)
  if not TYPES[dtype] then errors.raise(string.format("astype: '%s' is not a dtype", tostring(dtype))) end
  local base, e = base_of(self)
  return series(base, { "astype", dtype, e }, self.name, dtype)
end

function Series:isin(list)
  if type(list) ~= "table" then errors.raise("isin: expected a list of values") end
  local base, e = base_of(self)
  return series(base, { "isin", table.move(list, 1, #list, 1, {}), e }, self.name, "bool")
end

-- s:map(f, {dtype=}): f of each value (nulls stay nulls), a Lua function
-- run in the partition's task; the dtype from f of a sample value, as
-- Dask's meta, unless given.
local SAMPLE_VALUE = { int64 = 1, float64 = 1.0, bool = true, string = "foo", datetime = 0 }
function Series:map(f, opts)
  if type(f) ~= "function" then errors.raise("map: expected a function") end
  opts = opts_of(opts, "map", { dtype = true })
  local dtype = opts.dtype
  if dtype == nil then
    local ok, v = pcall(f, SAMPLE_VALUE[self.dtype])
    dtype = ok and v ~= nil and lit_dtype(v) or "float64"
  elseif not TYPES[dtype] then
    errors.raise(string.format("map: '%s' is not a dtype", tostring(dtype)))
  end
  local name = self.name
  local s = derive(self, { "map", name, name, f, dtype }, { name }, { [name] = dtype }, SeriesMT)
  s._index = self._index
  return s
end

local ARITH = { __add = "add", __sub = "sub", __mul = "mul", __div = "div", __idiv = "floordiv",
                __mod = "mod", __pow = "pow", __band = "and", __bor = "or", __bxor = "xor" }
for mm, op in pairs(ARITH) do SeriesMT[mm] = function(a, b) return binary(op, a, b) end end
function SeriesMT.__unm(a)
  if not NUMERIC[a.dtype] then errors.raise("-: of a " .. a.dtype .. " Series") end
  return unary("neg", a, a.dtype == "float64" and "float64" or "int64")
end
function SeriesMT.__bnot(a)
  if a.dtype ~= "bool" then errors.raise("~: of a " .. a.dtype .. " Series") end
  return unary("not", a, "bool")
end

-- df[mask] / df:filter(mask): the rows where a bool Series of df is true.
function DataFrame:filter(mask)
  if not is_series(mask) then errors.raise("filter: expected a bool Series") end
  if mask.dtype ~= "bool" then errors.raise("filter: the mask is a " .. mask.dtype .. " Series, not bool") end
  local base, e = base_of(mask)
  if not evaluable_in(e, base, self) then
    errors.raise("filter: a mask made from another frame")
  end
  local out = derive(self, { "filter", e })
  out._index = self._index
  return out
end

-- df:assign{new = Series or scalar}: columns appended (or replaced) in
-- name order.
function DataFrame:assign(t)
  if type(t) ~= "table" then errors.raise("assign: expected a table {name = Series or value}") end
  local names = {}
  for k in pairs(t) do
    if type(k) ~= "string" then errors.raise("assign: column names must be strings") end
    names[#names + 1] = k
  end
  table.sort(names)
  local ops, columns, dtypes = copy(self._ops), copy(self.columns), {}
  for k, v in pairs(self.dtypes) do dtypes[k] = v end
  for _, name in ipairs(names) do
    local v, e, dtype = t[name], nil, nil
    if is_series(v) then
      local base
      base, e = base_of(v)
      if not evaluable_in(e, base, self) then
        errors.raise(string.format("assign: column '%s' is a Series of another frame", name))
      end
      dtype = v.dtype
    else
      e, dtype = { "lit", v }, lit_dtype(v)
    end
    ops[#ops + 1] = { "assign", name, e }
    if dtypes[name] == nil then columns[#columns + 1] = name end
    dtypes[name] = dtype
  end
  local out = make(self._src, ops, columns, dtypes, self.npartitions, self._name, FrameMT)
  out._index = self._index
  return out
end

-- df:fillna(v): every column's nulls filled with v (where v's type fits).
function DataFrame:fillna(v)
  local t = {}
  for _, c in ipairs(self.columns) do
    local ok, dt = pcall(bin_dtype, "fillna", self.dtypes[c], lit_dtype(v))
    if ok and dt == self.dtypes[c] then t[c] = binary("fillna", select(self, { c }, true), v) end
  end
  return self:assign(t)
end

-- df:dropna(): the rows without a null.
function DataFrame:dropna()
  local mask
  for _, c in ipairs(self.columns) do
    local nn = select(self, { c }, true):notnull()
    mask = mask and binary("and", mask, nn) or nn
  end
  if mask == nil then return self end
  return self:filter(mask)
end

function DataFrame:rename(map)
  if type(map) ~= "table" then errors.raise("rename: expected a table {old = new}") end
  local columns, dtypes, seen = {}, {}, {}
  for i, c in ipairs(self.columns) do
    local to = map[c] or c
    if type(to) ~= "string" then errors.raise("rename: new names must be strings") end
    if seen[to] then errors.raise(string.format("rename: two columns would be named '%s'", to)) end
    seen[to] = true
    columns[i], dtypes[to] = to, self.dtypes[c]
  end
  for old in pairs(map) do
    if self.dtypes[old] == nil then errors.raise(string.format("rename: no column '%s'", tostring(old))) end
  end
  return derive(self, { "rename", map }, columns, dtypes)
end

function DataFrame:drop(list)
  local gone = {}
  for _, c in ipairs(string_list(list, "drop")) do
    if self.dtypes[c] == nil then errors.raise(string.format("drop: no column '%s'", c)) end
    gone[c] = true
  end
  local keep = {}
  for _, c in ipairs(self.columns) do if not gone[c] then keep[#keep + 1] = c end end
  return select(self, keep)
end

---------------------------------------------------------------- group-by

function DataFrame:groupby(keys, opts)
  local list = string_list(keys, "groupby: keys")
  opts = opts_of(opts, "groupby", { dropna = true, sort = true, split_every = true, split_out = true })
  if opts.split_out ~= nil and (math.type(opts.split_out) ~= "integer" or opts.split_out < 1) then
    errors.raise("groupby: split_out must be a positive integer")
  end
  for _, k in ipairs(list) do
    if self.dtypes[k] == nil then errors.raise(string.format("groupby: no column '%s'", k)) end
  end
  if #list == 0 then errors.raise("groupby: no keys") end
  return setmetatable({ _df = self, _keys = list, _split_every = opts.split_every, _split_out = opts.split_out,
                        _keep_nulls = opts.dropna == false, _unsorted = opts.sort == false }, GroupByMT)
end

-- The lazy frame of aggregations 'aggs' ({col =, op =, name =}) by key.
local function grouped(self, aggs, post, name)
  local df, keys = self._df, self._keys
  local used, seen, specaggs, names, dtypes, columns = {}, {}, {}, {}, {}, {}
  for _, k in ipairs(keys) do used[#used + 1] = k; seen[k] = true end
  for i, a in ipairs(aggs) do
    if a.op ~= "size" then check_op(a.op, a.col, df.dtypes[a.col], "groupby") end
    specaggs[i] = { col = a.col, op = a.op, ddof = a.ddof }
    names[i] = a.name
    if not seen[a.col] then used[#used + 1] = a.col; seen[a.col] = true end
    columns[i] = a.name
    dtypes[a.name] = result_type(a.op, df.dtypes[a.col])
  end
  local gspec = { keys = keys, aggs = specaggs, keep_nulls = self._keep_nulls, unsorted = self._unsorted }
  local layer = partials(df, gspec, used)
  local args = { spec = gspec, keynames = keys, names = names, post = post, inner = self._inner }
  local last, nout = nil, 1
  if self._split_out and self._split_out > 1 and post == "frame" then
    -- many groups: each partial cut by key hash, an answer partition a piece
    nout = self._split_out
    local split = core.layer(LayerMT, compute.new_key((name or "groupby") .. "-split"), df.npartitions,
                             spec.frame("hash_split", { keys = keys, parts = nout }), { { layer, split = 1 } })
    args.pick = true
    last = core.layer(LayerMT, compute.new_key((name or "groupby") .. "-aggregate"), nout,
                      spec.frame("finish", args), { { split, reads = reads_all(df.npartitions, nout) } })
  else
    last = tree(layer, df.npartitions, name or "groupby", "finish", args, self._split_every)
  end
  local is_series = post == "series" or post == "value_counts" or post == "keys" or post == "nunique_by"
  if post == "keys" then columns, dtypes = { keys[1] }, { [keys[1]] = df.dtypes[keys[1]] } end
  if post == "distinct" then
    columns, dtypes = keys, {}
    for _, k in ipairs(keys) do dtypes[k] = df.dtypes[k] end
  end
  if post == "nunique_by" then
    local c = self._inner.aggs[1].col
    columns, dtypes = { c }, { [c] = "int64" }
    keys = self._inner.keys
  end
  local out = make({ kind = "layer", layer = last }, {}, columns, dtypes, nout, name or "groupby",
                   is_series and SeriesMT or FrameMT)
  out._index = post ~= "keys" and post ~= "distinct" and keys or nil
  return out
end

-- gb:agg{col = "mean", col2 = {"sum", "max"}}: result columns in the
-- frame's column order, "col" for one op, "col2_sum", ... for a list.
function GroupBy:agg(t)
  if type(t) ~= "table" then errors.raise("agg: expected a table {column = op or {ops}}") end
  local df, aggs = self._df, {}
  for c in pairs(t) do
    if df.dtypes[c] == nil then errors.raise(string.format("agg: no column '%s'", tostring(c))) end
  end
  for _, c in ipairs(df.columns) do
    local ops = t[c]
    if ops ~= nil then
      local list = type(ops) == "string" and { ops } or ops
      if type(list) ~= "table" or #list == 0 then errors.raise(string.format("agg: column '%s': an op or a list of ops", c)) end
      for _, op in ipairs(list) do
        if not RESULT_TYPE[op] and op ~= "sum" and op ~= "min" and op ~= "max" and op ~= "first" and op ~= "last" or op == "nulls" then
          errors.raise(string.format("agg: '%s' is not an aggregation (sum, mean, count, size, min, max, std, var, first, last)", tostring(op)))
        end
        aggs[#aggs + 1] = { col = c, op = op, name = type(ops) == "string" and c or c .. "_" .. op }
      end
    end
  end
  return grouped(self, aggs, "frame")
end

-- gb:sum() and the rest: every column but the keys.
for _, op in ipairs({ "sum", "mean", "min", "max", "count", "std", "var", "first", "last" }) do
  GroupBy[op] = function(self)
    local aggs, iskey = {}, {}
    for _, k in ipairs(self._keys) do iskey[k] = true end
    for _, c in ipairs(self._df.columns) do
      if not iskey[c] then aggs[#aggs + 1] = { col = c, op = op, name = c } end
    end
    return grouped(self, aggs, "frame", op)
  end
end

function GroupBy:size()
  local c = self._keys[1]
  return grouped(self, { { col = c, op = "size", name = "size" } }, "series", "size")
end

-- gb.col: the group-by of one column, whose reductions are Series.
GroupByMT.__index = function(self, key)
  if GroupBy[key] then return GroupBy[key] end
  local df = rawget(self, "_df")
  if type(key) == "string" and df.dtypes[key] then
    return setmetatable({ _df = df, _keys = self._keys, _split_every = self._split_every, _col = key },
                        { __index = function(s, op)
                            if op == "nunique" then
                              return function(me)
                                local keys = copy(me._keys)
                                keys[#keys + 1] = key
                                local gb = setmetatable({ _df = df, _keys = keys, _split_every = me._split_every,
                                                          _inner = { keys = me._keys, aggs = { { col = key, op = "count" } } } },
                                                        GroupByMT)
                                return grouped(gb, { { col = key, op = "size", name = "size" } }, "nunique_by", "nunique")
                              end
                            end
                            if type(op) ~= "string" or not GroupBy[op] then return nil end
                            return function(me)
                              if op == "size" then return GroupBy.size(me) end
                              return grouped(me, { { col = key, op = op, name = key } }, "series", op)
                            end
                          end })
  end
  return nil
end

---------------------------------------------------------------- shuffles

-- A lazy frame over 'layer' (npartitions tasks), as 'like' in columns.
local function over(layer, n, columns, dtypes, name, index, mt)
  local out = make({ kind = "layer", layer = layer }, {}, columns, dtypes, n, name, mt or FrameMT)
  out._index = index
  return out
end

-- df:sort_values(col | {cols}, {ascending=}): sampled boundaries of the
-- first key, range partitions, each sorted; stable, nulls last.
function DataFrame:sort_values(by, opts)
  local keys = string_list(by, "sort_values: by")
  opts = opts_of(opts, "sort_values", { ascending = true, npartitions = true, _index = true })
  if #keys == 0 then errors.raise("sort_values: no columns") end
  for _, k in ipairs(keys) do
    if self.dtypes[k] == nil then errors.raise(string.format("sort_values: no column '%s'", k)) end
  end
  local asc = opts.ascending
  if asc == nil then asc = true end
  local first_asc = asc
  if type(asc) == "table" then first_asc = asc[1] ~= false end
  local n, parts = self.npartitions, opts.npartitions or self.npartitions
  local base = layer_of(self)
  local a = { by = keys, ascending = first_asc, dtype = self.dtypes[keys[1]], parts = parts }
  local samples = core.layer(LayerMT, compute.new_key("sort-sample"), n, spec.frame("sample", a), { { base, split = 1 } })
  local bounds = core.layer(LayerMT, compute.new_key("sort-bounds"), 1, spec.frame("bounds", a),
                            { { samples, reads = { all_of(n) } } })
  local ones = {}
  for i = 1, n do ones[i] = { 1 } end
  local split = core.layer(LayerMT, compute.new_key("sort-split"), n, spec.frame("range_split", a),
                           { { base, split = 1 }, { bounds, reads = ones } })
  local g = { by = keys, ascending = asc, index = opts._index }
  local out = core.layer(LayerMT, compute.new_key("sort_values"), parts, spec.frame("gather", g),
                         { { split, reads = reads_all(n, parts) } })
  return over(out, parts, self.columns, self.dtypes, "sort_values", opts._index or self._index)
end

-- df:set_index(col): sorted by it, which becomes the index.
function DataFrame:set_index(col)
  if type(col) ~= "string" or self.dtypes[col] == nil then errors.raise("set_index: no column '" .. tostring(col) .. "'") end
  local sorted = self:sort_values(col, { _index = { col } })
  local columns = {}
  for _, c in ipairs(self.columns) do if c ~= col then columns[#columns + 1] = c end end
  local dtypes = {}
  for _, c in ipairs(columns) do dtypes[c] = self.dtypes[c] end
  sorted.columns, sorted.dtypes = columns, dtypes
  sorted._index = { col }
  return sorted
end

-- df:nlargest(n, col) / s:nlargest(n): each partition's top n, then theirs.
function DataFrame:nlargest(n, col, ascending)
  if math.type(n) ~= "integer" or n < 0 then errors.raise("nlargest: n must be a non-negative integer") end
  col = col or self.columns[1]
  if self.dtypes[col] == nil then errors.raise("nlargest: no column '" .. tostring(col) .. "'") end
  if not NUMERIC[self.dtypes[col]] and self.dtypes[col] ~= "datetime" then
    errors.raise("nlargest: column '" .. col .. "' is " .. self.dtypes[col])
  end
  local a = { col = col, ascending = ascending or false, n = n }
  local tops = core.layer(LayerMT, compute.new_key("nlargest-part"), self.npartitions, spec.frame("top", a),
                          { { layer_of(self), split = 1 } })
  local last = tree(tops, self.npartitions, "nlargest", "top", a, nil)
  return over(last, 1, self.columns, self.dtypes, "nlargest", self._index, getmetatable(self))
end
function DataFrame:nsmallest(n, col) return DataFrame.nlargest(self, n, col, true) end
function Series:nlargest(n) return DataFrame.nlargest(self, n, self.name) end
function Series:nsmallest(n) return DataFrame.nlargest(self, n, self.name, true) end

-- The dtype of a merge's key column made from both sides.
local function key_dtype(a, b)
  if a == b then return a end
  if NUMERIC[a] and NUMERIC[b] then return "float64" end
  errors.raise(string.format("merge: keys of %s and %s", a, b))
end

-- df:merge(other, {on=, left_on=, right_on=, how=}): pandas' merge; the
-- small side (one partition) shared by every partition of the other when
-- 'how' allows, else both hash-partitioned by key.
function DataFrame:merge(other, opts)
  if not is_frame(other) then errors.raise("merge: expected a DataFrame") end
  opts = opts_of(opts, "merge", { on = true, left_on = true, right_on = true, how = true, npartitions = true })
  local how = opts.how or "inner"
  if how ~= "inner" and how ~= "left" and how ~= "right" and how ~= "outer" then
    errors.raise("merge: how must be inner, left, right or outer, not " .. tostring(how))
  end
  local lkeys, rkeys, coalesce
  if opts.on ~= nil then
    lkeys = string_list(opts.on, "merge: on")
    rkeys, coalesce = lkeys, true
  elseif opts.left_on ~= nil and opts.right_on ~= nil then
    lkeys, rkeys = string_list(opts.left_on, "merge: left_on"), string_list(opts.right_on, "merge: right_on")
    coalesce = false
  else
    -- pandas: the columns both have
    lkeys = {}
    for _, c in ipairs(self.columns) do if other.dtypes[c] then lkeys[#lkeys + 1] = c end end
    rkeys, coalesce = lkeys, true
  end
  if #lkeys == 0 or #lkeys ~= #rkeys then errors.raise("merge: no keys to merge on") end
  for i, k in ipairs(lkeys) do
    if self.dtypes[k] == nil then errors.raise("merge: no column '" .. k .. "' on the left") end
    if other.dtypes[rkeys[i]] == nil then errors.raise("merge: no column '" .. rkeys[i] .. "' on the right") end
    key_dtype(self.dtypes[k], other.dtypes[rkeys[i]])
  end
  -- the result's columns, as framecore.merge makes them
  local columns, dtypes, iskey, risk = {}, {}, {}, {}
  for i, k in ipairs(lkeys) do if coalesce then iskey[k] = rkeys[i]; risk[rkeys[i]] = true end end
  local function add(c, t) columns[#columns + 1] = c; dtypes[c] = t end
  for _, c in ipairs(self.columns) do
    local t = self.dtypes[c]
    if iskey[c] then add(c, key_dtype(t, other.dtypes[iskey[c]]))
    elseif other.dtypes[c] and not risk[c] then add(c .. "_x", t)
    else add(c, t) end
  end
  for _, c in ipairs(other.columns) do
    if not risk[c] then
      if self.dtypes[c] and not iskey[c] then add(c .. "_y", other.dtypes[c]) else add(c, other.dtypes[c]) end
    end
  end
  local a = { lkeys = lkeys, rkeys = rkeys, how = how, coalesce = coalesce }
  local L, R = layer_of(self), layer_of(other)
  local nl, nr = self.npartitions, other.npartitions
  local layer, n
  if nr == 1 and (how == "inner" or how == "left") then
    n = nl
    local reads = {}
    for i = 1, n do reads[i] = { 1 } end
    layer = core.layer(LayerMT, compute.new_key("merge"), n, spec.frame("broadcast_merge", a),
                       { { L, split = 1 }, { R, reads = reads } })
  elseif nl == 1 and (how == "inner" or how == "right") then
    n = nr
    a.whole_left = true
    local reads = {}
    for i = 1, n do reads[i] = { 1 } end
    layer = core.layer(LayerMT, compute.new_key("merge"), n, spec.frame("broadcast_merge", a),
                       { { R, split = 1 }, { L, reads = reads } })
  else
    n = opts.npartitions or math.max(nl, nr)
    local ls = core.layer(LayerMT, compute.new_key("merge-split-left"), nl,
                          spec.frame("hash_split", { keys = lkeys, parts = n }), { { L, split = 1 } })
    local rs = core.layer(LayerMT, compute.new_key("merge-split-right"), nr,
                          spec.frame("hash_split", { keys = rkeys, parts = n }), { { R, split = 1 } })
    a.merge, a.nleft = true, nl
    layer = core.layer(LayerMT, compute.new_key("merge"), n, spec.frame("gather", a),
                       { { ls, reads = reads_all(nl, n) }, { rs, reads = reads_all(nr, n) } })
  end
  return over(layer, n, columns, dtypes, "merge", nil)
end

-- df:map_partitions(f, ...): f(partition, ...) for each, a dusk.frame (or
-- a table {col = {...}}); its columns from f of an empty partition, as
-- Dask's meta, unless {columns=, dtypes=} is the last argument.
function DataFrame:map_partitions(f, ...)
  if type(f) ~= "function" then errors.raise("map_partitions: expected a function") end
  local args = table.pack(...)
  local meta
  local last = args[args.n]
  if type(last) == "table" and getmetatable(last) == nil and last.dtypes and last.columns then
    meta = last
    args.n = args.n - 1
  end
  if meta == nil then
    local names, types, cols = {}, {}, {}
    for i, c in ipairs(self.columns) do names[i], types[i], cols[i] = c, self.dtypes[c], {} end
    local ok, out = pcall(f, fc.from_columns(names, types, cols, 0), table.unpack(args, 1, args.n))
    if ok and type(out) == "table" and getmetatable(out) == nil then ok, out = pcall(M.frame, out) end
    if not ok or type(out) ~= "userdata" or out.is_series == nil then
      errors.raise("map_partitions: cannot tell the result's columns from f of an empty partition"
                   .. (ok and "" or " (" .. tostring(out) .. ")") .. "; give {columns = {...}, dtypes = {...}} last")
    end
    meta = { columns = out.columns, dtypes = out.dtypes }
  end
  local a = { fn = f, args = args, nargs = args.n }
  local layer = core.layer(LayerMT, compute.new_key("map_partitions"), self.npartitions,
                           spec.frame("map_partitions", a), { { layer_of(self), split = 1 } })
  return over(layer, self.npartitions, copy(meta.columns), meta.dtypes, "map_partitions", nil)
end

-- df:to_binary(dir): dusk's own format, eager: a file a partition
-- (part.1, ...: each column its buffer frame, zstd and a checksum) and
-- dir/.dframe (JSON: the columns, dtypes and partitions), written last.
function DataFrame:to_binary(dir)
  if type(dir) ~= "string" then errors.raise("to_binary: expected a directory") end
  if not os.rename(dir, dir) then
    local ok = os.execute(string.format("mkdir -p %q", dir))
    if not ok then errors.raise("to_binary: cannot make " .. dir) end
  end
  local layer = core.layer(LayerMT, compute.new_key("to_binary"), self.npartitions,
                           spec.frame("write_binary", { dir = dir }), { { layer_of(self), split = 1 } })
  local n = self.npartitions
  compute.many({ setmetatable({}, {
    __dusk_targets = function()
      local ls, is = {}, {}
      for i = 1, n do ls[i], is[i] = layer, i end
      return ls, is
    end,
    __dusk_result = function() return true end }) }, 1, nil, "to_binary")
  local meta = require("dusk.json").encode({ format = "dusk-dataframe", version = 1, columns = self.columns,
                                             dtypes = self.dtypes, npartitions = n })
  local ok, err = require("dusk.io").write_lines(dir .. "/.dframe", { meta })
  if not ok then errors.raise("to_binary: " .. tostring(err)) end
  return dir
end

-- dd.read_binary(dir, {columns=}): a DataFrame of to_binary's files.
function M.read_binary(dir, opts)
  opts = opts_of(opts, "read_binary", { columns = true })
  local f = io.open(dir .. "/.dframe", "rb")
  if f == nil then errors.raise("read_binary: " .. dir .. ": no .dframe (not written by to_binary)") end
  local text = f:read("a")
  f:close()
  -- dusk.json's records are read as tables are (lazily): copied here
  local ok, meta = pcall(function()
    local m = require("dusk.json").decode(text)
    local out = { format = m.format, npartitions = m.npartitions, columns = {}, dtypes = {} }
    for i, c in ipairs(m.columns) do out.columns[i] = c; out.dtypes[c] = m.dtypes[c] end
    return out
  end)
  if not ok or meta.format ~= "dusk-dataframe" or math.type(meta.npartitions) ~= "integer" then
    errors.raise("read_binary: " .. dir .. "/.dframe: not dusk's DataFrame metadata")
  end
  local columns = opts.columns and string_list(opts.columns, "read_binary: columns") or meta.columns
  local dtypes = {}
  for _, c in ipairs(columns) do
    if meta.dtypes[c] == nil then errors.raise("read_binary: no column '" .. c .. "' in " .. dir) end
    dtypes[c] = meta.dtypes[c]
  end
  local layer = core.layer(LayerMT, compute.new_key("read_binary"), meta.npartitions,
                           spec.frame("read_binary", { dir = dir, columns = opts.columns and columns or nil }), nil)
  return make({ kind = "layer", layer = layer }, {}, columns, dtypes, meta.npartitions, "read_binary")
end

-- df:describe(): count, mean, std, min, quartiles and max of every
-- numeric column (one task over them all: the quartiles are exact).
function DataFrame:describe()
  local numeric = {}
  for _, c in ipairs(self.columns) do
    local t = self.dtypes[c]
    if t == "int64" or t == "float64" then numeric[#numeric + 1] = c end
  end
  if #numeric == 0 then errors.raise("describe: no numeric columns") end
  local src = select(self, numeric)
  local dtypes = {}
  for _, c in ipairs(numeric) do dtypes[c] = "float64" end
  local layer = core.layer(LayerMT, compute.new_key("describe"), 1, spec.frame("describe", { columns = numeric }),
                           { { layer_of(src), reads = { all_of(self.npartitions) } } })
  return over(layer, 1, numeric, dtypes, "describe", { "" })
end

-- df:to_csv("out/part-*.csv"): eager, a file a partition ('*' its number,
-- from 1), each written atomically; returns the paths.
function DataFrame:to_csv(pattern, opts)
  if type(pattern) ~= "string" then errors.raise("to_csv: expected a path pattern") end
  opts = opts_of(opts, "to_csv", { sep = true })
  if not pattern:find("*", 1, true) then
    if self.npartitions > 1 then errors.raise("to_csv: a pattern with '*' is needed for several partitions") end
  end
  local a = { pattern = pattern, sep = opts.sep or "," }
  local layer = core.layer(LayerMT, compute.new_key("to_csv"), self.npartitions, spec.frame("write_csv", a),
                           { { layer_of(self), split = 1 } })
  local paths = {}
  local res = compute.many({ setmetatable({ _layer = layer, _n = self.npartitions }, {
    __dusk_targets = function(t)
      local ls, is = {}, {}
      for i = 1, t._n do ls[i], is[i] = t._layer, i end
      return ls, is
    end,
    __dusk_result = function(t, r, first) return table.move(r, first, first + t._n - 1, 1, {}) end }) },
    1, nil, "to_csv")[1]
  for i, p in ipairs(res) do paths[i] = p end
  return paths
end

-- Series: the counts of each value (most first), the number of distinct
-- values, the distinct values (sorted): group-bys of their own column.
local function own_groupby(self)
  local f = make(self._src, self._ops, self.columns, self.dtypes, self.npartitions, self._name, FrameMT)
  return setmetatable({ _df = f, _keys = { self.name } }, GroupByMT)
end

-- df:drop_duplicates(): the first row of each distinct row, in order.
function DataFrame:drop_duplicates()
  local gb = setmetatable({ _df = self, _keys = copy(self.columns), _keep_nulls = true, _unsorted = true }, GroupByMT)
  return grouped(gb, { { col = self.columns[1], op = "size", name = "\1size" } }, "distinct", "drop_duplicates")
end

function Series:value_counts()
  local s = grouped(own_groupby(self), { { col = self.name, op = "size", name = "count" } }, "value_counts", "value_counts")
  return s
end

function Series:nunique()
  local gb = own_groupby(self)
  local lazy = grouped(gb, { { col = self.name, op = "size", name = "count" } }, "nrows", "nunique")
  return result(lazy._src.layer)
end

-- (in the order of first appearance, a null among them: pandas' unique)
function Series:unique()
  local gb = own_groupby(self)
  gb._keep_nulls, gb._unsorted = true, true
  return grouped(gb, { { col = self.name, op = "size", name = "count" } }, "keys", "unique")
end

---------------------------------------------------------------- computing

local function targets(self)
  local layer, layers, indexes = layer_of(self), {}, {}
  for i = 1, self.npartitions do layers[i], indexes[i] = layer, i end
  return layers, indexes
end

local function assemble(self, results, first)
  local parts = table.move(results, first, first + self.npartitions - 1, 1, {})
  local f = fc.concat(unpack(parts))
  if getmetatable(self) == SeriesMT and not f.is_series then f = fc.as_series(f) end
  return f
end

for _, mt in ipairs({ FrameMT, SeriesMT }) do
  mt.__dusk_targets = targets
  mt.__dusk_result = assemble
  mt.__dusk_persisted = function(self, stored)
    local layer = core.layer(LayerMT, core.name(layer_of(self)), self.npartitions, stored, nil)
    local out = make({ kind = "layer", layer = layer }, {}, self.columns, self.dtypes, self.npartitions,
                     self._name, mt)
    out._index = self._index
    return out
  end
end

function DataFrame:compute(opts) return compute.many({ self }, 1, opts, "compute")[1] end
function DataFrame:persist(opts) return compute.persist_many({ self }, 1, opts, "persist")[1] end
Series.compute, Series.persist = DataFrame.compute, DataFrame.persist
function ResultMT.__index(_, key)
  if key == "compute" then return function(self, opts) return compute.many({ self }, 1, opts, "compute")[1] end end
  return nil
end

-- df:head(n): the first n rows, computing the partitions they are in only.
function DataFrame:head(n)
  n = n or 5
  if math.type(n) ~= "integer" or n < 0 then errors.raise("head: n must be a non-negative integer") end
  local layer, got, parts = layer_of(self), 0, {}
  for i = 1, self.npartitions do
    local p = compute.many({ setmetatable({ _layer = layer, _i = i }, {
      __dusk_targets = function(s) return { s._layer }, { s._i } end,
      __dusk_result = function(_, r, first) return r[first] end }) }, 1, nil, "head")[1]
    parts[#parts + 1] = p
    got = got + #p
    if got >= n then break end
  end
  local f = fc.concat(unpack(parts))
  f = f:rows(1, n)
  if getmetatable(self) == SeriesMT then f = fc.as_series(f) end
  return f
end
Series.head = DataFrame.head

function DataFrame:visualize(filename, opts)
  return require("dusk.visualize")(self, filename, opts)
end
Series.visualize = DataFrame.visualize

FrameMT.__index = function(self, key)
  if is_series(key) then return DataFrame.filter(self, key) end
  if type(key) == "table" then return select(self, string_list(key, "df[...]")) end
  local m = DataFrame[key]
  if m ~= nil then return m end
  if type(key) == "string" and rawget(self, "dtypes")[key] then return select(self, { key }, true) end
  return nil
end

SeriesMT.__index = function(self, key)
  if key == "name" then return rawget(self, "columns")[1] end
  if key == "dtype" then return rawget(self, "dtypes")[rawget(self, "columns")[1]] end
  return Series[key]
end

local function ntasks(self)
  local layers, indexes = targets(self)
  return #core.plan(layers, indexes).tasks
end

-- Dask's repr: the structure, without computing.
function FrameMT.__tostring(self)
  local cols, widths = self.columns, {}
  local head, types = { "" }, { "npartitions=" .. self.npartitions }
  for i, c in ipairs(cols) do head[i + 1], types[i + 1] = c, self.dtypes[c] end
  for i = 1, #head do widths[i] = math.max(#head[i], #types[i], 3) end
  local function row(cells, dots)
    local out = {}
    for i = 1, #head do
      local v = dots and (i == 1 and "" or "...") or cells[i]
      out[i] = i == 1 and string.format("%-" .. widths[i] .. "s", v) or string.format("%" .. widths[i] .. "s", v)
    end
    return table.concat(out, "  ")
  end
  local lines = { "dusk DataFrame Structure:", row(head), row(types), row(nil, true) }
  local nt = ntasks(self)
  lines[#lines + 1] = string.format("dusk Name: %s, %d task%s", self._name, nt, nt == 1 and "" or "s")
  return table.concat(lines, "\n")
end

function SeriesMT.__tostring(self)
  return string.format("dusk Series Structure:\nnpartitions=%d\nName: %s, dtype: %s\ndusk Name: %s, %d tasks",
                       self.npartitions, self.columns[1], self.dtypes[self.columns[1]], self._name, ntasks(self))
end

M.is_dataframe, M.is_series = is_frame, is_series
return M
