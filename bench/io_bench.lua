-- Text input speed: lines of a 77 MB JSON-lines file (250,000 accounts,
-- the "bag json" data of bench/gen_accounts.lua), gzip'd, read through
-- dusk.io, against the shell reading the same (`gzip -dc | wc -l`); also
-- the same file plain and as zstd, and writing it back.  Prints "time
-- LABEL SECONDS" (the best of a few runs, as bench/run.py expects) and
-- lines/s and MB/s on stderr.
--
--   LUA_PATH_5_4='stdlib/?.lua;;' dusk bench/io_bench.lua [dir]

local dio = require "dusk.io"
local now = require("dusk.core").now

local dir = arg[1] or "bench/data"
local gz = dir .. "/accounts.1.json.gz"
local work = dir .. "/io"
local plain, zst = work .. "/accounts.1.json", work .. "/accounts.1.json.zst"

local function sh(cmd) assert(os.execute(cmd), cmd) end
local function exists(path) return dio.size(path) ~= nil end

if not exists(gz) then -- as bench/gen_accounts.lua makes it
  sh(string.format("mkdir -p %q", dir))
  require("dusk.datasets").write_accounts_json(dir .. "/accounts.1.json", 250000, { seed = 1 })
  sh(string.format("gzip -f %q", dir .. "/accounts.1.json"))
end
sh(string.format("mkdir -p %q", work))
if not exists(plain) then sh(string.format("gzip -dc %q > %q", gz, plain)) end
if not exists(zst) then sh(string.format("zstd -q -3 -f %q -o %q", plain, zst)) end

local bytes = dio.size(plain)
local nlines

local function best(label, fn, runs)
  local t = math.huge
  for _ = 1, runs or 3 do
    collectgarbage()
    local t0 = now()
    fn()
    t = math.min(t, now() - t0)
  end
  print(string.format("time %s %.4f", label, t))
  io.stderr:write(string.format("%-18s %7.3f s %6.2f M lines/s %7.0f MB/s\n", label, t,
                                nlines / t / 1e6, bytes / t / 1e6))
end

nlines = #assert(dio.read_lines(gz))
io.stderr:write(string.format("%d lines, %.1f MB (%.1f MB gzip'd)\n", nlines, bytes / 1e6,
                              dio.size(gz) / 1e6))

best("read_lines_gz", function() assert(#assert(dio.read_lines(gz)) == nlines) end)
best("each_line_gz", function()
  local n = 0
  assert(dio.each_line(gz, nil, function() n = n + 1 end))
  assert(n == nlines)
end)
best("read_lines_zst", function() assert(#assert(dio.read_lines(zst)) == nlines) end)
best("read_lines_plain", function() assert(#assert(dio.read_lines(plain)) == nlines) end)
best("read_blocks_8MiB", function()
  local n, bs = 0, dio.parse_bytes("8MiB")
  for offset = 0, bytes - 1, bs do
    n = n + #assert(dio.read_lines(plain, { offset = offset, length = bs }))
  end
  assert(n == nlines)
end)

-- the shell's line count reads (and for gzip decodes) the same bytes
local function shell(label, cmd)
  best(label, function()
    local p = io.popen(cmd)
    local n = tonumber(p:read("a"))
    p:close()
    assert(n == nlines, cmd)
  end)
end
shell("gzip_dc_wc", string.format("gzip -dc %q | wc -l", gz))
shell("zstd_dc_wc", string.format("zstd -q -dc %q | wc -l", zst))
shell("wc_plain", string.format("wc -l < %q", plain))

local lines = assert(dio.read_lines(plain))
for _, ext in ipairs { "", ".gz", ".zst" } do
  local out = work .. "/written.json" .. ext
  best("write_lines" .. (ext == "" and "_plain" or "_" .. ext:sub(2)), function()
    assert(dio.write_lines(out, lines))
  end)
  os.remove(out)
end
