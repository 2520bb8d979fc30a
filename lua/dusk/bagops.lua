-- dusk.bagops: what a worker does with Bag partitions.
--
-- A "pipe" task streams the elements of its source (a partition list, a
-- range of integers, or the lines of a file block) through a chain of
-- element operations (map, filter, remove, pluck, flatten, starmap) into
-- a sink: a new list, or a reduction's partial result.  The chain is
-- built as nested closures once per task, so `read_text -> decode ->
-- filter -> pluck -> frequencies` is one loop that builds no
-- intermediate list.
--
-- An "agg" task combines partial results (a level of a reduction tree);
-- its final level turns the partial into the user's value.  A
-- "partitions" task works on whole partitions (map_partitions,
-- repartition, from_delayed, writing files).
--
-- Errors name the operation and the element: "map failed on element 3
-- (value): message", with the traceback of where it happened.

local pretty = require "dusk.pretty"
local S = require "dusk.spec"
local list_len = require("dusk.core").list_length

local reductions = {} -- filled below; the pipeline's sinks

local unpack = table.unpack
local M = {}

local function describe(x)
  local ok, s = pcall(pretty, x, { max_items = 8, max_depth = 3 })
  s = ok and s or tostring(x)
  if #s > 200 then s = s:sub(1, 200) .. "..." end
  return s
end

---------------------------------------------------------------- keys

-- A table's identity for frequencies, distinct, foldby and groupby: a
-- string of its contents sorted, numbers as Lua compares them (1 and 1.0
-- are one, each float exactly, NaN one value), strings and the names of
-- other values with their lengths, so that two tables make one string
-- only when they hold the same.  A table that holds itself has none.
-- dusk.json records are tables here (each read is a new userdata).
local atom

local function by_value(x)
  local t = type(x)
  if t == "table" then return true end
  local mt = t == "userdata" and getmetatable(x)
  return mt and mt.__name == "dusk.json.record" or false
end

local function table_canon(v, path)
  if path[v] then error("it holds itself (a table with a cycle cannot be compared by value)", 0) end
  path[v] = true
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = atom(k, path) .. "=" .. atom(x, path) end
  table.sort(parts)
  path[v] = nil
  return "{" .. table.concat(parts, ",") .. "}"
end

function atom(x, path)
  local t = type(x)
  if t == "number" then
    if x ~= x then return "nan" end
    local i = math.tointeger(x)
    return i and "i" .. i or string.format("f%a", x)
  elseif t == "string" then
    return "s" .. #x .. ":" .. x
  elseif t == "boolean" then
    return x and "T" or "F"
  elseif by_value(x) then
    return table_canon(x, path)
  end
  local s = tostring(x)
  return "o" .. #s .. ":" .. s
end

-- The canonical string of a table or NaN (see slot).
local function canon(v)
  if v ~= v then return "nan" end
  return table_canon(v, {})
end

-- A keyed partial (frequencies, distinct, foldby, groupby): keys in
-- first-occurrence order; a scalar key's value in vals and first
-- element in orig, a table's or NaN's (by canon) in tvals and torig, its
-- entry in keys then {canon}: no string in the data can stand for a
-- table.  A key is present when it has an orig (values may be nil).
local keyed_new = S.keyed

-- Finds or adds key 'kv' in partial 'p': returns the map holding its
-- value, its key in that map, and whether it is new.
local function slot(p, kv)
  if kv == nil then error("its key is nil", 0) end
  local vals, orig, k = p.vals, p.orig, kv
  if kv ~= kv or by_value(kv) then vals, orig, k = p.tvals, p.torig, canon(kv) end
  if orig[k] ~= nil then return vals, k, false end
  local keys = p.keys
  if vals == p.vals then keys[#keys + 1] = k else keys[#keys + 1] = { k } end
  orig[k] = kv
  return vals, k, true
end

-- A key function from a function, or an index or field (a missing one
-- is an error: nil is no key).
local function key_fn(key)
  if type(key) == "function" then return key end
  return function(x)
    local k = x[key]
    if k == nil then error("it has no key " .. describe(key), 0) end
    return k
  end
end

---------------------------------------------------------------- pipelines

-- A pipeline is compiled into one Lua function per shape (its source, its
-- operations and its sink), cached by that shape, with the element loop
-- written out: a chain of map, filter and the like costs one call of the
-- user's function per step and element, and nothing else.  The generated
-- code notes the step running and its element in 'at' ({step, element},
-- step 0 the sink), so that an error can name them (see guarded below).

-- (guarded below adds the step and the element to these messages)
local function nil_result()
  error("it returned nil (use filter to drop elements)", 0)
end

local function not_a_list(x)
  error("cannot flatten a " .. type(x), 0)
end

local function no_key(key)
  error(string.format("it has no key %s (pluck(key, {default = v}) gives v where it is missing)",
                      describe(key)), 0)
end

-- What is wrong with a list 't' that has a hole (core.list_length found
-- one), 'what' naming the list.
function M.hole_message(t, what)
  local _, first, later = list_len(t)
  return string.format("%s has a hole: element %d is nil%s (a Bag holds no nil: drop it, " ..
                       "or stand for it with false or dusk.json.null)", what, first,
                       later and string.format(" but element %d is not", later)
                       or string.format(" and its field n is %d", rawget(t, "n")))
end

local function list_hole(t, what)
  error(M.hole_message(t, what), 0)
end

-- x[keys[1]], x[keys[2]], ...; a missing key gives dflt[1], or is an
-- error without a default.
local function pluck_many(x, keys, dflt)
  local out = {}
  for k = 1, #keys do
    local v = x[keys[k]]
    if v == nil then
      if not dflt then no_key(keys[k]) end
      v = dflt[1]
    end
    out[k] = v
  end
  return out
end

-- f(the elements of x, extra arguments): x's length as list_len reads
-- it, where nils inside an explicit n are arguments too.
local function starcall(f, x, args, nargs)
  local n = type(x) == "table" and (list_len(x, true) or list_hole(x, "its argument list")) or #x
  if nargs == 0 then return f(unpack(x, 1, n)) end
  local all = table.move(args, 1, nargs, n + 1, table.move(x, 1, n, 1, {}))
  return f(unpack(all, 1, n + nargs))
end

-- A frequencies key the inline sink does not count itself (a table,
-- userdata or NaN), into partial 'p'.
local function count_key(p, x)
  local vals, k, new = slot(p, x)
  vals[k] = new and 1 or vals[k] + 1
end

local helpers = { nil_result = nil_result, not_a_list = not_a_list, pluck_many = pluck_many,
                  starcall = starcall, unpack = unpack, type = type, error = error,
                  no_key = no_key, list_len = list_len, list_hole = list_hole, count_key = count_key }

-- The code of step i applied to 'x', wrapping 'inner' (the rest).
local function step_code(op, i, inner)
  local kind, nargs = op[S.OP_KIND], op[S.OP_NARGS] or 0
  local args = ""
  for a = 1, nargs do args = args .. string.format(", A%d[%d]", i, a) end
  if kind == "map" then
    return string.format("at[1], at[2] = %d, x; x = F%d(x%s); if x == nil then nil_result() end\n%s",
                         i, i, args, inner)
  elseif kind == "starmap" then
    return string.format("at[1], at[2] = %d, x; x = starcall(F%d, x, A%d, %d); " ..
                         "if x == nil then nil_result() end\n%s", i, i, i, nargs, inner)
  elseif kind == "filter" then
    return string.format("at[1], at[2] = %d, x; if F%d(x) then\n%send\n", i, i, inner)
  elseif kind == "remove" then
    return string.format("at[1], at[2] = %d, x; if not F%d(x) then\n%send\n", i, i, inner)
  elseif kind == "pluck" then -- (with a default, A[i] is {default})
    return string.format("at[1], at[2] = %d, x; x = x[F%d]; if x == nil then %s end\n%s", i, i,
                         nargs > 0 and string.format("x = A%d[1]", i) or string.format("no_key(F%d)", i),
                         inner)
  elseif kind == "pluck_many" then
    return string.format("at[1], at[2] = %d, x; x = pluck_many(x, F%d, A%d)\n%s", i, i, i, inner)
  elseif kind == "flatten" then
    return string.format("at[1], at[2] = %d, x; if type(x) ~= 'table' then not_a_list(x) end\n" ..
                         "for j%d = 1, list_len(x) or list_hole(x, 'it') do local x = x[j%d]\n%send\n",
                         i, i, i, inner)
  end
  error("unknown bag operation " .. tostring(kind))
end

-- sinks: collect a list, or feed a reduction (sum, count and
-- frequencies inline: 'step' is then the partial, see keyed_new);
-- 'through' gives the value back to C (a range folded in C).  A sink
-- that can fail notes step 0: the error is then the reduction's.
local sink_code = {
  list = "n = n + 1; out[n] = x\n",
  sum = "at[1], at[2] = 0, x; acc = acc + x\n",
  count = "acc = acc + 1\n",
  -- (new keys at #fkeys + 1: dusk.json.each_record adds keys too)
  frequencies = "local tx = type(x); if x == x and tx ~= 'table' and tx ~= 'userdata' then\n" ..
                "local c = fvals[x]; if c then fvals[x] = c + 1 else\n" ..
                "fkeys[#fkeys + 1] = x; fvals[x] = 1; forig[x] = x end\n" ..
                "else at[1], at[2] = 0, x; count_key(step, x) end\n",
  step = "at[1], at[2] = 0, x; step(x)\n",
  through = "do return true, x end\n",
}

local source_code = {
  list = "for i0 = 1, #src do local x = src[i0]\n%send\n",
  range = "for x0 = src[1], src[2] do local x = x0\n%send\n",
  lines = "local function consume(x)\n%send\n" ..
          "local lines, err = feed(src[1], src[2], consume)\n" ..
          "if not lines then at[1] = nil; error(err, 0) end\n",
  -- a range with its first steps run in C (see stages_of below): 'all'
  -- takes an element over where C cannot decide it, 'rest' what C made
  range_c = "local function all(x)\n%send\n" ..
            "local function rest(x)\n%send\n" ..
            "feed(src[1], src[2], src[3], all, rest)\n",
  -- a range whose every step runs in C, summed or counted there
  range_fold = "local function through(x)\n%sreturn false\nend\n" ..
               "acc = feed(src[1], src[2], src[3], through, sink, acc)\n",
  -- lines decoded by dusk.json with the first steps run in C (see
  -- json_stages below): Lua takes a line over where C leaves it; with
  -- src[4], the frequencies partial, C counts the strings it makes
  json = "local function consume(x)\n%send\n" ..
         "local function decoded(x)\n%send\n" ..
         "local function rest(x)\n%send\n" ..
         "local lines, err = feed(src[1], src[2], F[1], src[3], consume, decoded, rest, src[4])\n" ..
         "if not lines then at[1] = nil; error(err, 0) end\n",
}

local compiled = {}

-- The code running steps 'first'.. of 'ops' on 'x', then the sink.
local function steps_from(ops, first, sink)
  local body = sink_code[sink]
  for i = #ops, first, -1 do body = step_code(ops[i], i, body) end
  return body
end

-- The function for a shape: function(src, F, A, step, feed) -> n,
-- out, acc.  'fused' (source "json") is the number of steps run in C.
local function compile(source, ops, sink, fused)
  local shape = { source, sink, fused or 0 }
  for i, op in ipairs(ops) do shape[#shape + 1] = op[S.OP_KIND] .. ":" .. (op[S.OP_NARGS] or 0) end
  local id = table.concat(shape, " ")
  local fn = compiled[id]
  if fn then return fn end
  local loop
  if source == "json" then
    loop = string.format(source_code.json, steps_from(ops, 1, sink), steps_from(ops, 2, sink),
                         steps_from(ops, fused + 1, sink))
  elseif source == "range_c" then
    loop = string.format(source_code.range_c, steps_from(ops, 1, sink),
                         steps_from(ops, fused + 1, sink))
  elseif source == "range_fold" then
    loop = string.format(source_code.range_fold, steps_from(ops, 1, "through"))
  else
    loop = string.format(source_code[source], steps_from(ops, 1, sink))
  end
  local binds = {}
  for i = 1, #ops do binds[#binds + 1] = string.format("local F%d, A%d = F[%d], A[%d]", i, i, i, i) end
  local code = "local helpers = ...\n" ..
    "local nil_result, not_a_list, pluck_many, starcall, unpack, type, error = " ..
    "helpers.nil_result, helpers.not_a_list, helpers.pluck_many, helpers.starcall, " ..
    "helpers.unpack, helpers.type, helpers.error\n" ..
    "local no_key, list_len, list_hole, count_key = " ..
    "helpers.no_key, helpers.list_len, helpers.list_hole, helpers.count_key\n" ..
    "return function(src, F, A, step, feed, sink, at)\n" ..
    table.concat(binds, "\n") .. "\n" ..
    "local n, out, acc = 0, {}, 0\n" ..
    (sink == "frequencies" and
     "local fkeys, fvals, forig = step.keys, step.vals, step.orig\n" or "") ..
    loop ..
    "return n, out, acc\nend\n"
  fn = assert(load(code, "=bag pipeline", "t", _ENV))(helpers)
  compiled[id] = fn
  return fn
end

-- Steps run in C (dusk.pure): filter, remove and map whose function
-- translates (a pure function of the element, see pure.compile) and
-- pluck of one key, from step 'first' on while they translate.  Returns
-- their stages ({kind, program}), or nil for none.
local programs = setmetatable({}, { __mode = "k" }) -- function -> program or false
local pluck_programs = {} -- key -> program of x[key]

local function program_of(f)
  local p = programs[f]
  if p == nil then
    p = require("dusk.pure").compile(f) or false
    programs[f] = p
  end
  return p
end

local function pluck_program(key)
  local p = pluck_programs[key]
  if p == nil then
    local getter = load(string.format("return function(x) return x[%q] end", key), "=pluck", "t", _ENV)()
    p = require("dusk.pure").compile(getter)
    pluck_programs[key] = p
  end
  return p
end

local function stages_of(ops, first)
  local stages = {}
  for i = first, #ops do
    local kind, f, nargs = ops[i][S.OP_KIND], ops[i][S.OP_FN], ops[i][S.OP_NARGS] or 0
    local p
    if nargs == 0 and (kind == "filter" or kind == "remove" or kind == "map") then
      p = program_of(f)
    elseif kind == "pluck" and (math.type(f) == "integer" or type(f) == "string") then
      p, kind = pluck_program(f), "map"
    end
    if not p then break end
    stages[#stages + 1] = S.stage(kind, p)
  end
  return #stages > 0 and stages or nil
end

-- The steps after the json.decode that starts a chain on lines.
local function json_stages(ops)
  local json = package.loaded["dusk.json"]
  local first = ops[1]
  if not json or not first or first[S.OP_KIND] ~= "map" or first[S.OP_FN] ~= json.decode
     or (first[S.OP_NARGS] or 0) ~= 0 then
    return nil
  end
  return stages_of(ops, 2)
end

local own_src = debug.getinfo(1, "S").short_src:gsub("%p", "%%%0")

-- Runs 'fn', naming the step and element that failed from what the
-- generated function noted in 'at' ({step, element}; step 0 is the sink,
-- reduction 'sink', and 'member' names the one of a shared pass that
-- failed).
local function guarded(fn, at, ops, sink, member, ...)
  local ok, a, b, c = xpcall(fn, function(msg)
    local op, e = at[1], at[2]
    local where = ""
    if op and (ops[op] or op == 0 and sink) then
      local name = op == 0 and (member and member() or sink)
                   or ops[op][S.OP_KIND] == "pluck_many" and "pluck" or ops[op][S.OP_KIND]
      where = string.format("%s failed on element %s: ", name, describe(e))
      -- dusk's own messages ("it returned nil") name the user's function
      local f = ops[op] and ops[op][S.OP_FN]
      if type(msg) == "string" and type(f) == "function" and not msg:find("^[^\n]-:%d+: ") then
        local info = debug.getinfo(f, "S")
        if info.what ~= "C" then where = string.format("%s%s:%d: ", where, info.short_src, info.linedefined) end
      end
    end
    -- (a line of the generated code or of this file means nothing to the
    -- user: the operation and element say it)
    if type(msg) == "string" then
      msg = msg:gsub("^([^\n]-)bag pipeline:%d+: ", "%1", 1):gsub("^([^\n]-)" .. own_src .. ":%d+: ", "%1", 1)
    end
    return require("dusk.core").task_error(msg, where, 2)
  end, ...)
  if not ok then error(a, 0) end
  return a, b, c
end

-- spec.pipe(source, ops, sink): the source of elements is the partition
-- list (input 1, source nil), a range (spec.range) or the lines
-- (spec.lines) of the block in input 1; ops are spec.op's; sink nil
-- makes a list, spec.sink(kind, args) the partial of reduction 'kind'.
function M.pipe(spec, index, inputs)
  local source, ops, sink = spec[S.PIPE_SOURCE], spec[S.PIPE_OPS], spec[S.PIPE_SINK]
  local kind = source and source[S.SOURCE_KIND] or "list"
  local sink_of = sink and sink[S.SINK_KIND]
  local src, feed, fused
  if kind == "list" then
    src = inputs[1]
    if type(src) ~= "table" then
      error(string.format("partition %d is not a list but a %s", index, type(src)), 0)
    end
  elseif kind == "range" then
    local n, parts = source[S.RANGE_N], source[S.RANGE_NPARTITIONS]
    local size = n // parts
    local first = (index - 1) * size
    src = { first, index == parts and n - 1 or first + size - 1 }
    local stages = stages_of(ops, 1)
    if stages then
      local whole = #stages == #ops and (sink_of == "sum" or sink_of == "count")
      local pure = require "dusk.pure"
      kind, src[3], fused = whole and "range_fold" or "range_c", stages, #stages
      feed = whole and pure.fold_range or pure.each_range
    end
  else
    local block = inputs[1]
    src = { block[S.BLOCK_PATH], { offset = block[S.BLOCK_OFFSET], length = block[S.BLOCK_LENGTH],
                                   compression = block[S.BLOCK_COMPRESSION], size = block[S.BLOCK_SIZE] } }
    feed = require("dusk.io").each_line
    local stages = json_stages(ops)
    if stages then
      kind, src[3], feed = "json", stages, require("dusk.json").each_record
      fused = #stages + 1
    end
  end
  local F, A = {}, {}
  for i, op in ipairs(ops) do F[i], A[i] = op[S.OP_FN], op[S.OP_ARGS] end
  local sink_kind, step, finish, closing, member = "list", nil, nil, nil, nil
  if sink then
    local r = reductions[sink_of]
    sink_kind = (sink_of == "sum" or sink_of == "count" or sink_of == "frequencies") and sink_of
                or "step"
    -- (a sink's resource, such as the file written, closes on an error)
    if sink_kind == "step" then step, finish, closing, member = r.part(sink[S.SINK_ARGS], index) end
    if sink_kind == "frequencies" then
      step = keyed_new()
      if kind == "json" and fused == #ops then src[4] = step end
    end
  end
  local fn = compile(kind, ops, sink_kind, fused)
  local _ <close> = closing
  local at = { nil, nil } -- (see guarded)
  local _, out, acc = guarded(fn, at, ops, sink_of, member, src, F, A, step, feed, sink_of, at)
  if sink_kind == "list" then return out end
  if sink_kind == "step" then return finish(sink[S.SINK_ARGS]) end
  if sink_kind == "frequencies" then return step end
  return acc
end

---------------------------------------------------------------- reductions

-- Each reduction: part(args, index) -> step, result (a sink and its
-- partial) [, a resource to close, a function naming the reduction
-- running when step fails], combine(args, partials) -> partial,
-- finish(args, partial) -> value.
M.reductions = reductions

local function sum_list(list)
  local s = 0
  for i = 1, #list do s = s + list[i] end
  return s
end

reductions.count = {
  part = function()
    local n = 0
    return function() n = n + 1 end, function() return n end
  end,
  combine = function(_, partials) return sum_list(partials) end,
}

reductions.sum = {
  part = function()
    local s = 0
    return function(x) s = s + x end, function() return s end
  end,
  combine = function(_, partials) return sum_list(partials) end,
}

-- min and max: a NaN makes the result NaN (as numpy's), whatever the
-- order the elements come in (Lua's comparisons alone would keep or
-- skip it by position)
local function extreme(better, name)
  return {
    part = function()
      local best
      return function(x) if best == nil or x ~= x or better(x, best) then best = x end end,
             function() return best end
    end,
    combine = function(_, partials)
      local best
      for i = 1, #partials do
        local v = partials[i]
        if best == nil or v ~= v or better(v, best) then best = v end
      end
      return best
    end,
    finish = function(_, v)
      if v == nil then error(name .. " of an empty bag", 0) end
      return v
    end,
  }
end
reductions.min = extreme(function(a, b) return a < b end, "min")
reductions.max = extreme(function(a, b) return a > b end, "max")

reductions.any = {
  part = function()
    local r = false
    return function(x) if x then r = true end end, function() return r end
  end,
  combine = function(_, partials)
    for i = 1, #partials do if partials[i] then return true end end
    return false
  end,
}

reductions.all = {
  part = function()
    local r = true
    return function(x) if not x then r = false end end, function() return r end
  end,
  combine = function(_, partials)
    for i = 1, #partials do if not partials[i] then return false end end
    return true
  end,
}

-- mean, var and std as Dask's bag computes them (dask/bag/core.py's mean,
-- chunk.py's var_chunk and var_aggregate), to the last bit: per
-- partition the count and the sums, from 0.0 in element order, of x and
-- (var, std) of x^2 as Python's x**2 (an integer squared exactly, up to
-- 2^53, then rounded; a float by C's pow); at the end those sums added
-- in partition order.  Dask adds all the partitions' sums in one step
-- (split_every=False), so the levels of the tree only gather them: a
-- partial is the list of its partitions' {sums..., count}, 'width' each.
local pow = require("dusk.core").pow

local function square(x)
  if math.type(x) == "integer" then
    x = x + 0.0
    return x * x
  end
  return pow(x, 2)
end

local function gather(_, partials)
  local out = {}
  for i = 1, #partials do table.move(partials[i], 1, #partials[i], #out + 1, out) end
  return out
end

-- The sums of the partials' columns, in order ('width' a record).
local function column_sums(p, width)
  local sums = {}
  for c = 1, width do
    local s = c == width and 0 or 0.0
    for i = c, #p, width do s = s + p[i] end
    sums[c] = s
  end
  return table.unpack(sums, 1, width)
end

reductions.mean = {
  part = function()
    local total, n = 0.0, 0
    return function(x) total = total + x; n = n + 1 end, function() return { total, n } end
  end,
  combine = gather,
  finish = function(_, p)
    local total, n = column_sums(p, 2)
    if n == 0 then error("mean of an empty bag", 0) end
    return total / n
  end,
}

local function variance(args, p)
  local squares, total, n = column_sums(p, 3)
  local ddof = args.ddof or 0
  if n - ddof <= 0 then error("var of a bag of " .. n .. " elements with ddof=" .. ddof, 0) end
  return (squares / n - square(total / n)) * n / (n - ddof)
end

reductions.var = {
  part = function()
    local squares, total, n = 0.0, 0.0, 0
    return function(x) total = total + x; squares = squares + square(x); n = n + 1 end,
           function() return { squares, total, n } end
  end,
  combine = gather,
  finish = variance,
}

-- (Dask's formula rounds below 0 for values close together; its
-- math.sqrt then raises, and so does this)
reductions.std = {
  part = reductions.var.part,
  combine = gather,
  finish = function(args, p)
    local v = variance(args, p)
    if v < 0 then
      error(string.format("std of a bag whose variance rounded below 0 (%.17g)", v), 0)
    end
    return math.sqrt(v)
  end,
}

-- keyed: partials of keyed_new keep first-occurrence order through the
-- tree
local function keyed_combine(merge)
  return function(args, partials)
    local out = keyed_new()
    for i = 1, #partials do
      local p = partials[i]
      for _, k in ipairs(p.keys) do
        local vals, orig, ovals, oorig, key = p.vals, p.orig, out.vals, out.orig, k
        if type(k) == "table" then
          vals, orig, ovals, oorig, key = p.tvals, p.torig, out.tvals, out.torig, k[1]
        end
        if oorig[key] == nil then
          out.keys[#out.keys + 1] = k
          oorig[key] = orig[key]
          ovals[key] = merge(args, nil, vals[key], true)
        else
          ovals[key] = merge(args, ovals[key], vals[key], false)
        end
      end
    end
    return out
  end
end

local function keyed_list(_, p, pair)
  local out = {}
  for i, k in ipairs(p.keys) do
    local vals, orig = p.vals, p.orig
    if type(k) == "table" then vals, orig, k = p.tvals, p.torig, k[1] end
    if pair then out[i] = { orig[k], vals[k] } else out[i] = orig[k] end
  end
  return out
end

-- (its partial is counted by the pipeline itself: sink_code.frequencies)
reductions.frequencies = {
  combine = keyed_combine(function(_, a, b, first) return first and b or a + b end),
  finish = function(args, p) return keyed_list(args, p, true) end,
}

reductions.distinct = {
  part = function()
    local p = keyed_new()
    return function(x)
      local vals, k = slot(p, x)
      vals[k] = true
    end, function() return p end
  end,
  combine = keyed_combine(function() return true end),
  finish = function(args, p) return keyed_list(args, p, false) end,
}

reductions.groupby = {
  part = function(args)
    local key = key_fn(args.key)
    local p = keyed_new()
    return function(x)
      local vals, k, new = slot(p, key(x))
      if new then vals[k] = { x } else
        local list = vals[k]
        list[#list + 1] = x
      end
    end, function() return p end
  end,
  combine = keyed_combine(function(_, a, b, first)
    if first then return b end
    return table.move(b, 1, #b, #a + 1, a)
  end),
  finish = function(args, p) return keyed_list(args, p, true) end,
}

-- An initial value of foldby: a function is called for each key, as Dask
-- calls a callable one (so that {} is a new table per key).
local function initial_of(v)
  if type(v) == "function" then return v() end
  return v
end

-- foldby: binop(acc, x) from 'initial' per key in each partition (the
-- first element when there is no initial), then, at each level of the
-- tree as Dask does, combine(acc, acc) from 'combine_initial' (or from the
-- first partial)
reductions.foldby = {
  part = function(args)
    local key, binop, initial = key_fn(args.key), args.binop, args.initial
    local p = keyed_new()
    return function(x)
      local vals, k, new = slot(p, key(x))
      if not new then
        vals[k] = binop(vals[k], x)
      elseif initial == nil then
        vals[k] = x
      else
        vals[k] = binop(initial_of(initial), x)
      end
    end, function() return p end
  end,
  combine = keyed_combine(function(args, a, b, first)
    local combine = args.combine or args.binop
    if not first then return combine(a, b) end
    if args.combine_initial ~= nil then return combine(initial_of(args.combine_initial), b) end
    return b
  end),
  finish = function(args, p) return keyed_list(args, p, true) end,
}

-- topk: entries {key, element, partition, position}, the k largest keys,
-- ties by position (the earlier element first); a NaN key ranks below
-- every other (so the order is total, whatever the positions)
local function topk_before(a, b)
  local ka, kb = a[1], b[1]
  if ka ~= kb and (ka == ka or kb == kb) then
    if kb ~= kb then return true end
    if ka ~= ka then return false end
    return ka > kb
  end
  if a[3] ~= b[3] then return a[3] < b[3] end
  return a[4] < b[4]
end

local function topk_sort(list, k)
  table.sort(list, topk_before)
  for i = #list, k + 1, -1 do list[i] = nil end
  return list
end

reductions.topk = {
  part = function(args, index)
    local key = args.key and key_fn(args.key) or function(x) return x end
    local k = args.k
    local list, pos = {}, 0
    return function(x)
      local kv = key(x)
      if kv == nil then error("its key is nil", 0) end
      pos = pos + 1
      list[#list + 1] = { kv, x, index, pos }
      if #list >= 2 * k + 64 then topk_sort(list, k) end
    end, function() return topk_sort(list, k) end
  end,
  combine = function(args, partials)
    local all = {}
    for i = 1, #partials do table.move(partials[i], 1, #partials[i], #all + 1, all) end
    return topk_sort(all, args.k)
  end,
  finish = function(_, list)
    local out = {}
    for i, e in ipairs(list) do out[i] = e[2] end
    return out
  end,
}

-- user reductions: perpartition(list) and aggregate(list of partials);
-- a partial that is nil is left out of aggregate's list (as an empty
-- partition's min is), so that list has no holes
reductions.reduction = {
  part = function()
    local list, n = {}, 0
    return function(x) n = n + 1; list[n] = x end, function(args) return args.perpartition(list) end
  end,
  combine = function(args, partials) return args.aggregate(partials) end,
}

-- fold: binop from initial (or the first element) in each partition,
-- then combine (or binop) of the partitions' results from the first, as
-- Dask: initial counts once per partition.  A result is boxed, {acc}, so
-- that an empty partition without initial (none) is not a nil result.
reductions.fold = {
  part = function(args)
    local binop, acc, any = args.binop, args.initial, args.initial ~= nil
    return function(x)
      if any then acc = binop(acc, x) else acc, any = x, true end
    end, function() if any then return { acc } end end
  end,
  combine = function(args, partials)
    if #partials == 0 then return nil end
    local f, acc = args.combine or args.binop, partials[1][1]
    for i = 2, #partials do acc = f(acc, partials[i][1]) end
    return { acc }
  end,
  finish = function(_, box)
    if box == nil then error("fold of an empty bag with no initial value", 0) end
    return box[1]
  end,
}

-- to_textfiles: the elements written to this partition's file as they
-- come; the file is the writer's to close
reductions.to_textfiles = {
  part = function(args, index)
    local path = args.pattern:gsub("%*", string.format("%0" .. args.width .. "d", index), 1)
    local w, err = require("dusk.io").writer(path, { compression = args.compression })
    if not w then error(err, 0) end
    local write = w.write
    return function(x)
      local ok, why = write(w, x)
      if not ok then error(why, 0) end
    end, function()
      local ok, why = w:commit()
      if not ok then error(why, 0) end
      return path
    end, w
  end,
}

-- The frequencies partial fed one element at a time (a sink of "multi";
-- alone, the pipeline counts inline: sink_code.frequencies).
reductions.frequencies.part = function()
  local p = keyed_new()
  return function(x) count_key(p, x) end, function() return p end
end

-- Several sinks fed from one pass of a pipeline (dusk.bag's share): args
-- is their list, each {kind, args} or false for the list of elements;
-- the partial is the list of their partials (read by "pick" tasks).
reductions.multi = {
  part = function(sinks, index)
    local n, steps, finishes = #sinks, {}, {}
    for k = 1, n do
      local sink = sinks[k]
      if sink then
        steps[k], finishes[k] = reductions[sink[S.SINK_KIND]].part(sink[S.SINK_ARGS], index)
      else
        local out, m = {}, 0
        steps[k] = function(x) m = m + 1; out[m] = x end
        finishes[k] = function() return out end
      end
    end
    local running = 0
    return function(x) for k = 1, n do running = k; steps[k](x) end end, function()
      local partials = {}
      for k = 1, n do partials[k] = finishes[k](sinks[k] and sinks[k][S.SINK_ARGS]) end
      return partials
    end, nil, function() return sinks[running] and sinks[running][S.SINK_KIND] end
  end,
}

---------------------------------------------------------------- tasks

-- spec.pick(k): partial k of a "multi" task's partials.
function M.pick(spec, _, inputs)
  return inputs[1][spec[S.PICK_INDEX]]
end

-- spec.agg(kind, args, final): the partials are the inputs.
function M.agg(spec, _, inputs)
  local r = reductions[spec[S.AGG_KIND]]
  local args = spec[S.AGG_ARGS]
  local partials, n = {}, 0
  for i = 1, inputs.n do -- partials may be nil (the min of an empty partition)
    if inputs[i] ~= nil then
      n = n + 1
      partials[n] = inputs[i]
    end
  end
  local p = r.combine(args, partials)
  if spec[S.AGG_FINAL] and r.finish then return r.finish(args, p) end
  return p
end

---------------------------------------------------------------- partitions

local parts = {}

-- spec.partitions("map_partitions", f, args, nargs)
function parts.map_partitions(spec, index, inputs)
  local f, args, nargs = spec[S.PARTS_FN], spec[S.PARTS_ARGS], spec[S.PARTS_NARGS] or 0
  local out = f(inputs[1], unpack(args, 1, nargs))
  if type(out) ~= "table" then
    error(string.format("map_partitions must return a list, got a %s for partition %d",
                        type(out), index), 0)
  end
  if not list_len(out) then
    list_hole(out, string.format("the list map_partitions returned for partition %d", index))
  end
  return out
end

-- spec.partitions("repartition", n): this task's share of the elements
-- of all input partitions, in order, as evenly as they divide
function parts.repartition(spec, index, inputs)
  local n = spec[S.PARTS_N]
  local total = 0
  for i = 1, inputs.n do total = total + #inputs[i] end
  local first, last = (index - 1) * total // n + 1, index * total // n
  local out, pos = {}, 0
  for i = 1, inputs.n do
    local list = inputs[i]
    for j = 1, #list do
      pos = pos + 1
      if pos > last then return out end
      if pos >= first then out[#out + 1] = list[j] end
    end
  end
  return out
end

-- spec.partitions("from_delayed"): the list a Delayed computed
function parts.from_delayed(_, index, inputs)
  local list = inputs[1]
  if type(list) ~= "table" then
    error(string.format("from_delayed: the Delayed of partition %d gave a %s, not a list",
                        index, type(list)), 0)
  end
  if not list_len(list) then
    list_hole(list, string.format("from_delayed: the list the Delayed of partition %d gave", index))
  end
  return list
end

function M.partitions(spec, index, inputs)
  return parts[spec[S.PARTS_WHAT]](spec, index, inputs)
end

return M
