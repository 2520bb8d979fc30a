-- dusk.spec: the one definition of the lists that cross between Lua and
-- C, or between the state that builds a graph and the workers that run
-- it: built only by the constructors here, read only by the names here
-- (in Lua) and in src/bind/lspec.h (in C, the same numbers).
--
-- They stay positional lists: a spec is encoded once per compute and
-- decoded once per task, and a list is the cheapest table to send.
--
-- Task specs, a layer's payload (run by dusk.runner; lrun.c runs "call"
-- specs with plain arguments itself):
--   spec.call(fn, args, nargs, nout)   fn(args...) (Delayed)
--   spec.value(v)                      v, its placeholders resolved
--   spec.pipe(source, ops, sink)       a Bag pipeline (dusk.bagops)
--   spec.agg(kind, args, final)        a level of a reduction tree
--   spec.pick(k)                       partial k of a shared pass
--   spec.partitions(what, ...)         whole partitions: "map_partitions",
--                                      f, args, nargs; "repartition", n;
--                                      "from_delayed"
--   spec.array(what, ...)              an Array's block (src/bind/larray.c):
--                                      "block", program; "partial",
--                                      program, op, reduced; "combine", op,
--                                      finish ({ddof=, drop=} or nil);
--                                      "assemble" / "matmul" / "reshape",
--                                      geometry; "map", f, dtype, chunks
--   spec.frame(what, args)             a DataFrame's partition or a level
--                                      of its reductions (dusk.dataframe)
-- The parts of a pipe:
--   spec.op(kind, f, args, nargs)      an element operation (map, ...)
--   spec.sink(kind, args)              a reduction's partial
--   spec.range(n, npartitions)         a source: db.range's integers
--   spec.lines()                       a source: the lines of a block
--   spec.block(path, offset, length, compression, size)
--                                      a block of a file (read_text)
--   spec.stage(kind, program)          a step run in C (dusk.pure)
-- And the keyed partial (frequencies, distinct, foldby, groupby), a
-- table of named lists that dusk.json's each_record counts into:
--   spec.keyed()

local M = {}

M.KIND = 1 -- every task spec: its kind

M.CALL_FN, M.CALL_ARGS, M.CALL_NARGS, M.CALL_NOUT = 2, 3, 4, 5
function M.call(fn, args, nargs, nout) return { "call", fn, args, nargs, nout } end

M.VALUE = 2
function M.value(v) return { "value", v } end

M.PIPE_SOURCE, M.PIPE_OPS, M.PIPE_SINK = 2, 3, 4
function M.pipe(source, ops, sink) return { "pipe", source, ops, sink } end

M.AGG_KIND, M.AGG_ARGS, M.AGG_FINAL = 2, 3, 4
function M.agg(kind, args, final) return { "agg", kind, args, final } end

M.PICK_INDEX = 2
function M.pick(k) return { "pick", k } end

-- (map_partitions: FN, ARGS, NARGS; repartition: N)
M.PARTS_WHAT, M.PARTS_FN, M.PARTS_ARGS, M.PARTS_NARGS, M.PARTS_N = 2, 3, 4, 5, 3
function M.partitions(what, ...) return { "partitions", what, ... } end

M.ARRAY_WHAT, M.ARRAY_PROG, M.ARRAY_OP, M.ARRAY_REDUCED = 2, 3, 4, 5
M.ARRAY_COMBINE_OP, M.ARRAY_FINISH = 3, 4
M.ARRAY_MAP_FN, M.ARRAY_MAP_DTYPE = 3, 4
function M.array(what, ...) return { "array", what, ... } end

-- A DataFrame's task (dusk.dataframe): "scan", "pipe", "combine",
-- "finish", "csv_rows", each with its own table of what it needs.
M.FRAME_WHAT, M.FRAME_ARGS = 2, 3
function M.frame(what, args) return { "frame", what, args } end

M.OP_KIND, M.OP_FN, M.OP_ARGS, M.OP_NARGS = 1, 2, 3, 4
function M.op(kind, f, args, nargs) return { kind, f, args, nargs } end

M.SINK_KIND, M.SINK_ARGS = 1, 2
function M.sink(kind, args) return { kind, args } end

M.SOURCE_KIND, M.RANGE_N, M.RANGE_NPARTITIONS = 1, 2, 3
function M.range(n, npartitions) return { "range", n, npartitions } end
function M.lines() return { "lines" } end

M.BLOCK_PATH, M.BLOCK_OFFSET, M.BLOCK_LENGTH, M.BLOCK_COMPRESSION, M.BLOCK_SIZE = 1, 2, 3, 4, 5
function M.block(path, offset, length, compression, size)
  return { path, offset, length, compression, size }
end

M.STAGE_KIND, M.STAGE_PROGRAM = 1, 2
function M.stage(kind, program) return { kind, program } end

-- Keys in first-occurrence order; a scalar key's value in vals and its
-- first element in orig, a table's or NaN's (by its canonical string) in
-- tvals and torig, its entry in keys then {canon}.  C reads and extends
-- keys, vals and orig (LSPEC_KEYED_* in lspec.h).
function M.keyed() return { keys = {}, vals = {}, orig = {}, tvals = {}, torig = {} } end

return M
