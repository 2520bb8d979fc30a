local t = ...
-- dusk.io: the file side of Bag's read_text and to_textfiles.
local dio = require "dusk.io"

local tmpdir, put, slurp = t.tmpdir, t.write, t.read

local function ls(dir)
  local _, out = t.sh("ls -A " .. dir)
  local names = {}
  for name in out:gmatch("[^\n]+") do names[#names + 1] = name end
  return names
end

t.test("expand: a path, a pattern sorted by name, a list in its order", function()
  local d = tmpdir()
  for _, name in ipairs { "b.txt", "a.txt", "a10.txt", "a9.txt", "c.csv" } do put(d .. "/" .. name, "") end
  t.eq(dio.expand(d .. "/b.txt"), { d .. "/b.txt" })
  t.eq(dio.expand(d .. "/*.txt"),
       { d .. "/a.txt", d .. "/a10.txt", d .. "/a9.txt", d .. "/b.txt" })
  t.eq(dio.expand { d .. "/c.csv", d .. "/b*.txt", d .. "/a.txt" },
       { d .. "/c.csv", d .. "/b.txt", d .. "/a.txt" })
  local none, msg = dio.expand(d .. "/missing.txt")
  t.eq(none, nil)
  t.truthy(msg:find("no such file: " .. d .. "/missing.txt", 1, true), msg)
  none, msg = dio.expand { d .. "/a.txt", d .. "/*.json" }
  t.eq(none, nil)
  t.truthy(msg:find("no files match " .. d .. "/*.json", 1, true), msg)
  t.raises("path 2 of the list is a number", dio.expand, { "a", 3 })
  t.raises("path, pattern or list expected", dio.expand, 42)
  t.sh("rm -rf " .. d)
end)

t.test("compression_of: inferred, explicit or none", function()
  t.eq(dio.compression_of("x.json.gz"), "gzip")
  t.eq(dio.compression_of("x.zst", "infer"), "zstd")
  t.eq(dio.compression_of("x.txt"), nil)
  t.eq(dio.compression_of("x.txt", "gzip"), "gzip")
  t.eq(dio.compression_of("x.gz", false), nil)
  t.raises("unknown compression gz for x.gz", dio.compression_of, "x.gz", "gz")
  t.raises("cannot read x.bz2: bz2 compression is not supported", dio.compression_of, "x.bz2")
end)

t.test("size and parse_bytes", function()
  local d = tmpdir()
  put(d .. "/f", "12345")
  t.eq(dio.size(d .. "/f"), 5)
  local none, msg = dio.size(d .. "/g")
  t.eq(none, nil)
  t.truthy(msg:find(d .. "/g", 1, true))
  t.eq(dio.parse_bytes("64MiB"), 64 * 1024 * 1024)
  t.eq(dio.parse_bytes("32KiB"), 32768)
  t.eq(dio.parse_bytes("1GB"), 1000000000)
  t.eq(dio.parse_bytes("128kB"), 128000)
  t.eq(dio.parse_bytes("1.5MiB"), 1572864)
  t.eq(dio.parse_bytes(4096), 4096)
  t.eq(math.type(dio.parse_bytes(100.0)), "integer")
  t.raises('invalid byte size 12 parsecs', dio.parse_bytes, "12 parsecs")
  t.raises('invalid byte size -1', dio.parse_bytes, -1)
  t.raises("string or number expected", dio.parse_bytes, {})
  t.sh("rm -rf " .. d)
end)

t.test("read_lines: newlines, CRLF, empty lines, a last line without newline", function()
  local d = tmpdir()
  put(d .. "/a.txt", "one\r\ntwo\n\nfour\nfive")
  t.eq(dio.read_lines(d .. "/a.txt"), { "one", "two", "", "four", "five" })
  put(d .. "/e.txt", "")
  t.eq(dio.read_lines(d .. "/e.txt"), {})
  put(d .. "/n.txt", "\n")
  t.eq(dio.read_lines(d .. "/n.txt"), { "" })
  local none, msg = dio.read_lines(d .. "/missing.txt")
  t.eq(none, nil)
  t.truthy(msg:find("cannot open " .. d .. "/missing.txt", 1, true), msg)
  t.raises("option 'offset': a non-negative integer expected",
           dio.read_lines, d .. "/a.txt", { offset = -1 })
  t.sh("rm -rf " .. d)
end)

t.test("read_lines: blocks of any size give every line once", function()
  local d = tmpdir()
  local lines = {}
  for i = 1, 500 do lines[i] = string.rep("x", i % 37) .. i end
  local path = d .. "/f.txt"
  put(path, table.concat(lines, "\n") .. "\n")
  local size = dio.size(path)
  for _, bs in ipairs { 1, 7, 100, 1000, size - 1, size, size * 2 } do
    local got = {}
    for offset = 0, size - 1, bs do
      for _, l in ipairs(dio.read_lines(path, { offset = offset, length = bs })) do got[#got + 1] = l end
    end
    t.eq(got, lines, "block size " .. bs)
  end
  t.sh("rm -rf " .. d)
end)

t.test("read_lines: gzip members and zstd frames, whole files", function()
  local d = tmpdir()
  put(d .. "/a.txt", "a1\na2\n")
  put(d .. "/b.txt", "b1\r\nb2")
  t.sh(string.format("cd %s && gzip -c a.txt > ab.gz && gzip -c b.txt >> ab.gz", d))
  t.sh(string.format("cd %s && gzip -c a.txt > a.gz && gzip -c b.txt > b.gz && cat a.gz b.gz > cat.gz", d))
  t.sh(string.format("cd %s && zstd -q -c a.txt > ab.zst && zstd -q -c b.txt >> ab.zst", d))
  local want = { "a1", "a2", "b1", "b2" }
  t.eq(dio.read_lines(d .. "/ab.gz"), want)
  t.eq(dio.read_lines(d .. "/cat.gz"), want)
  t.eq(dio.read_lines(d .. "/ab.zst"), want)
  t.eq(dio.read_lines(d .. "/ab.zst", { compression = "zstd" }), want)
  t.eq(#dio.read_lines(d .. "/ab.gz", { compression = false }) > 0, true, "the raw bytes")
  t.raises("a compressed file is read whole", dio.read_lines, d .. "/ab.gz", { offset = 10 })
  t.raises("a compressed file is read whole", dio.read_lines, d .. "/ab.gz", { length = 10 })
  -- damaged files: nil and a message naming the file
  local gz = slurp(d .. "/a.gz")
  put(d .. "/cut.gz", gz:sub(1, #gz - 3))
  local none, msg = dio.read_lines(d .. "/cut.gz")
  t.eq(none, nil)
  t.eq(msg, "truncated gzip data in " .. d .. "/cut.gz (unexpected end of file)")
  put(d .. "/bad.gz", gz:sub(1, #gz - 8) .. "\0\0\0\0" .. gz:sub(#gz - 3))
  none, msg = dio.read_lines(d .. "/bad.gz")
  t.eq(msg, "corrupt gzip data in " .. d .. "/bad.gz (checksum mismatch)")
  local zst = slurp(d .. "/ab.zst")
  put(d .. "/cut.zst", zst:sub(1, 20))
  none, msg = dio.read_lines(d .. "/cut.zst")
  t.eq(msg, "truncated zstd frame in " .. d .. "/cut.zst")
  t.sh("rm -rf " .. d)
end)

t.test("each_line: fn per line, errors carry the file and line", function()
  local d = tmpdir()
  local path = d .. "/f.txt"
  put(path, "1\n2\n3\nboom\n5\n")
  local sum = 0
  t.eq(dio.each_line(path, nil, function(l) sum = sum + (tonumber(l) or 0) end), 5)
  t.eq(sum, 11)
  local err = t.raises(path .. ":4: ", dio.each_line, path, {}, function(l)
    if l == "boom" then error("bad line " .. l, 0) end
  end)
  t.eq(err, path .. ":4: bad line boom")
  err = t.raises("(line 2 of the block at byte 3)", dio.each_line, path, { offset = 3 }, function(l)
    if l == "boom" then error("bad", 0) end
  end)
  t.eq(err, path .. " (line 2 of the block at byte 3): bad")
  local obj = setmetatable({}, { __tostring = function() return "an error object" end })
  local ok, e = pcall(dio.each_line, path, nil, function() error(obj) end)
  t.truthy(not ok and e == obj, "error objects pass unchanged")
  local pid = slurp("/proc/self/stat"):match("^%d+")
  -- descriptors open on 'path' (files left open earlier are collected
  -- first; only these count: the sanitizers open files of their own)
  local function nfds()
    collectgarbage()
    return select(2, t.sh("ls -l /proc/" .. pid .. "/fd | grep -cF -- '" .. path .. "'"))
  end
  local before = nfds()
  for _ = 1, 20 do pcall(dio.each_line, path, nil, error) end
  t.eq(nfds(), before, "an error in fn closes the file at once")
  local none, msg = dio.each_line(d .. "/none.txt", nil, print)
  t.truthy(none == nil and msg:find("none.txt", 1, true))
  t.raises("bad argument #3", dio.each_line, path, nil, nil)
  t.sh("rm -rf " .. d)
end)

t.test("write_lines: atomic, directories made, compression by extension", function()
  local d = tmpdir()
  local lines = { "alpha", "", "gamma", 42, 1.5, 2 ^ 53 }
  local want = { "alpha", "", "gamma", "42", "1.5", tostring(2 ^ 53) }
  for _, name in ipairs { "out/x/p.txt", "out/x/p.txt.gz", "out/x/p.txt.zst" } do
    local path = d .. "/" .. name
    t.eq(dio.write_lines(path, lines), path)
    t.eq(dio.read_lines(path), want, name)
  end
  t.eq(ls(d .. "/out/x"), { "p.txt", "p.txt.gz", "p.txt.zst" }, "no temporary files left")
  local _, out = t.sh("gzip -dc " .. d .. "/out/x/p.txt.gz")
  t.eq(out, table.concat(want, "\n") .. "\n", "gzip reads what we wrote")
  _, out = t.sh("zstd -q -dc " .. d .. "/out/x/p.txt.zst")
  t.eq(out, table.concat(want, "\n") .. "\n", "zstd reads what we wrote")
  t.eq(dio.write_lines(d .. "/plain.gz", { "x" }, { compression = false, sync = true }), d .. "/plain.gz")
  t.eq(slurp(d .. "/plain.gz"), "x\n")
  t.eq(dio.write_lines(d .. "/empty.txt", {}), d .. "/empty.txt")
  t.eq(slurp(d .. "/empty.txt"), "")
  t.sh("rm -rf " .. d)
end)

t.test("write_lines: failures leave nothing behind", function()
  local d = tmpdir()
  t.raises("cannot write element 2 (a table) to " .. d .. "/new/f.txt",
           dio.write_lines, d .. "/new/f.txt", { "a", {}, "c" })
  t.raises("cannot write element 2 (a boolean)", dio.write_lines, d .. "/f.txt", { "a", true })
  t.eq(ls(d), {}, "a bad element is found before anything is made")
  t.sh("mkdir " .. d .. "/dir")
  local none, msg = dio.write_lines(d .. "/dir", { "a" })
  t.eq(none, nil)
  t.truthy(msg:find("cannot write " .. d .. "/dir", 1, true), msg)
  t.eq(ls(d), { "dir" })
  t.eq(ls(d .. "/dir"), {})
  t.raises("unknown compression", dio.write_lines, d .. "/f.txt", {}, { compression = "lz4" })
  t.sh("rm -rf " .. d)
end)

t.test("dusk.io works inside tasks on every scheduler", function()
  local d = tmpdir()
  for i = 1, 4 do put(d .. "/" .. i .. ".txt", string.rep("line\n", i)) end
  local count = dusk.delayed(function(path) return #require("dusk.io").read_lines(path) end)
  local parts = {}
  for i, path in ipairs(dio.expand(d .. "/*.txt")) do parts[i] = count(path) end
  for _, s in ipairs { "sync", "threads" } do
    t.eq(dusk.delayed(parts):compute({ scheduler = s }), { 1, 2, 3, 4 }, s)
  end
  t.sh("rm -rf " .. d)
end)
