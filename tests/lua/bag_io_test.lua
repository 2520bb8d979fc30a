local t = ...
local db = dusk.bag

local tmpdir, write, read = t.tmpdir, t.write, t.read

t.test("read_text: one partition per file, lines without their newline", function()
  local d = tmpdir()
  write(d .. "/a.txt", "one\ntwo\r\nthree")
  write(d .. "/b.txt", "four\n\nsix\n")
  local b = db.read_text(d .. "/*.txt")
  t.eq(b.npartitions, 2)
  t.eq(b:compute(), { "one", "two", "three", "four", "", "six" })
  t.eq(db.read_text({ d .. "/b.txt", d .. "/a.txt" }):compute(), { "four", "", "six", "one", "two", "three" },
       "a list in its order")
  os.execute("rm -rf " .. d)
end)

t.test("read_text with blocksize: every line once, whatever the blocks", function()
  local d = tmpdir()
  local parts = {}
  for i = 1, 500 do parts[i] = string.rep(string.char(97 + i % 26), i % 37) .. i end
  local text = table.concat(parts, "\n") .. "\n"
  write(d .. "/big.txt", text)
  for _, bs in ipairs({ 1, 7, 64, 1000, "1KiB", "3kB", #text, #text * 2 }) do
    local b = db.read_text(d .. "/big.txt", { blocksize = bs })
    t.eq(b:compute(), parts, "blocksize " .. tostring(bs))
  end
  t.eq(db.read_text(d .. "/big.txt", { blocksize = 100 }).npartitions, -(-#text // 100))
  write(d .. "/empty.txt", "")
  t.eq(db.read_text(d .. "/empty.txt", { blocksize = 10 }):compute(), {})
  os.execute("rm -rf " .. d)
end)

t.test("read_text: .gz (several members) and .zst, decompressed", function()
  local d = tmpdir()
  write(d .. "/p1.txt", "alpha\nbeta\n")
  write(d .. "/p2.txt", "gamma\n")
  assert(os.execute(string.format("cd %s && gzip -k p1.txt && gzip -k p2.txt && cat p1.txt.gz p2.txt.gz > multi.gz", d)))
  assert(os.execute(string.format("cd %s && zstd -q p1.txt -o one.zst && zstd -q p2.txt -o two.zst && cat one.zst two.zst > both.zst", d)))
  t.eq(db.read_text(d .. "/multi.gz"):compute(), { "alpha", "beta", "gamma" })
  t.eq(db.read_text(d .. "/both.zst"):compute(), { "alpha", "beta", "gamma" })
  t.eq(db.read_text(d .. "/multi.gz", { blocksize = 2 }).npartitions, 1, "compressed files are not split")
  t.eq(db.read_text(d .. "/p1.txt.gz"):count():compute(), 2)
  os.execute("rm -rf " .. d)
end)

t.test("read_text errors: missing files at once, corrupt data naming the file", function()
  local d = tmpdir()
  t.raises("nowhere.txt", function() db.read_text(d .. "/nowhere.txt") end)
  t.raises("*.csv", function() db.read_text(d .. "/*.csv") end)
  write(d .. "/bad.gz", "\31\139\8\0garbage that is not deflate data at all")
  local err = t.raises("bad.gz", function() db.read_text(d .. "/bad.gz"):compute() end)
  t.truthy(err:find("task %(?read_text"), err)
  write(d .. "/bad.zst", "\40\181\47\253garbage")
  t.raises("bad.zst", function() db.read_text(d .. "/bad.zst"):count():compute() end)
  os.execute("rm -rf " .. d)
end)

t.test("read_json: records read like tables", function()
  local d = tmpdir()
  write(d .. "/r.json", '{"name": "a", "items": [{"id": 1}, {"id": 2}]}\n{"name": "b", "items": []}\n')
  local recs = db.read_json(d .. "/r.json")
  t.eq(recs:pluck("name"):compute(), { "a", "b" })
  t.eq(recs:map(function(r) return #r.items end):compute(), { 2, 0 })
  t.eq(recs:filter(function(r) return #r.items > 0 end):map(function(r) return r.items[2].id end):compute(), { 2 })
  local ok, cjson = pcall(require, "cjson")
  if ok then
    t.eq(db.read_text(d .. "/r.json"):map(cjson.decode):pluck("name"):compute(), { "a", "b" },
         "cjson.decode as a task function")
  end
  os.execute("rm -rf " .. d)
end)

t.test("to_textfiles: a file per partition, names padded, directories made", function()
  local d = tmpdir()
  local b = db.from_sequence({ "a", "b", "c" }, { npartitions = 3 })
  local names = b:to_textfiles(d .. "/out/part-*.txt")
  t.eq(names, { d .. "/out/part-1.txt", d .. "/out/part-2.txt", d .. "/out/part-3.txt" })
  t.eq(read(d .. "/out/part-2.txt"), "b\n")
  local many = db.range(12, { npartitions = 12 }):to_textfiles(d .. "/n/*.txt")
  t.eq(many[1], d .. "/n/01.txt")
  t.eq(many[12], d .. "/n/12.txt")
  t.eq(read(d .. "/n/10.txt"), "9\n")
  -- compressed by extension, read back by read_text
  b:to_textfiles(d .. "/z/*.txt.gz")
  t.eq(io.popen("gzip -dc " .. d .. "/z/1.txt.gz"):read("a"), "a\n")
  b:to_textfiles(d .. "/s/*.zst")
  t.eq(db.read_text(d .. "/s/*.zst"):compute(), { "a", "b", "c" })
  t.raises("must contain one '*'", function() b:to_textfiles(d .. "/x.txt") end)
  -- one '*' only, as Dask ("Output path spec must contain exactly one '*'")
  t.raises("must contain one '*'", function() b:to_textfiles(d .. "/*/part-*.txt") end)
  t.eq(io.popen("ls -A " .. d .. " | wc -l"):read("n"), 4, "nothing written for a bad pattern")
  os.execute("rm -rf " .. d)
end)

t.test("to_textfiles is atomic: a failed compute leaves no half-written file", function()
  local d = tmpdir()
  local b = db.range(6, { npartitions = 2 }):map(function(x)
    if x == 4 then error("no four") end
    return x
  end)
  t.raises("no four", function() b:to_textfiles(d .. "/*.txt", { scheduler = "sync" }) end)
  local listing = io.popen("ls -A " .. d):read("a")
  t.truthy(not listing:find("2.txt", 1, true), "the failed partition has no file: " .. listing)
  t.truthy(not listing:find("tmp", 1, true), "no temporary file is left: " .. listing)
  t.raises("to_textfiles", function()
    db.from_sequence({ {} }):to_textfiles(d .. "/t/*.txt")
  end)
  os.execute("rm -rf " .. d)
end)

t.test("to_textfiles streams: a partition is never held whole", function()
  local d = tmpdir()
  -- 2,000,000 lines (25 MB) in one partition: holding the partition made
  -- 210 MB; streamed, the process stays under 60 MB
  local script = d .. "/w.lua"
  write(script, string.format([[
    local names = dusk.bag.range(2000000, { npartitions = 1 })
      :map(function(x) return "line " .. x end):to_textfiles(%q)
    for l in io.lines("/proc/self/status") do
      local kb = l:match("^VmHWM:%%s*(%%d+)")
      if kb then print(names[1], kb) end
    end
  ]], d .. "/out/*.txt"))
  -- under AddressSanitizer, freed memory waits in a 256 MB quarantine
  -- that VmHWM counts (300 MB); without it the ASan build peaks at 20 MB
  local code, out, err = t.sh("ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 " ..
    t.dusk .. " " .. script)
  t.eq(code, 0, err)
  local name, kb = out:match("^(%S+)\t(%d+)")
  t.eq(name, d .. "/out/1.txt")
  t.truthy(tonumber(kb) < 60 * 1024, "peak " .. tostring(kb) .. " kB")
  t.eq(db.read_text(name):count():compute(), 2000000)
  -- the same with a list partition and compression; an element that is no
  -- string is named, and leaves no file
  local b = db.from_sequence({ "a", 1, 2.5, "d" }, { npartitions = 2 })
  b:to_textfiles(d .. "/z/*.gz")
  t.eq(db.read_text(d .. "/z/*.gz"):compute(), { "a", "1", "2.5", "d" })
  local e = t.raises("cannot write element 2 (a table) to " .. d .. "/t/1.txt", function()
    db.from_sequence({ "a", {}, "c" }, { npartitions = 1 }):map(function(x) return x end)
      :to_textfiles(d .. "/t/*.txt", { scheduler = "sync" })
  end)
  t.truthy(e:find("to_textfiles failed on element {}: cannot write", 1, true), e)
  t.eq(io.popen("ls -A " .. d .. "/t 2>/dev/null | wc -l"):read("n"), 0, "no file, no temporary file")
  os.execute("rm -rf " .. d)
end)

t.test("read_text: a glob matching a directory, or a directory, fails at once", function()
  local d = tmpdir()
  write(d .. "/a.txt", "x\n")
  os.execute("mkdir " .. d .. "/sub")
  t.raises(d .. "/* matches a directory, not a file: " .. d .. "/sub", function() db.read_text(d .. "/*") end)
  t.raises(d .. "/* matches a directory", function() db.read_json(d .. "/*") end)
  t.raises(d .. "/sub is a directory, not a file", function() db.read_text(d .. "/sub") end)
  t.raises(d .. "/sub is a directory", function() db.read_text({ d .. "/a.txt", d .. "/sub" }) end)
  t.eq(db.read_text(d .. "/*.txt"):compute(), { "x" })
  os.execute("rm -rf " .. d)
end)

t.test("read_text reads a file as it was when the bag was made", function()
  local d = tmpdir()
  local lines = {}
  local total = 0
  for i = 1, 300 do
    lines[i] = tostring(i * i * (i % 13 + 1))
    total = total + tonumber(lines[i])
  end
  local text = table.concat(lines, "\n") -- the last line without a newline
  for _, bs in ipairs({ false, 1, 7, 100, 1000, #text, #text * 3 }) do
    local path = d .. "/grow.txt"
    write(path, text)
    local opts = bs and { blocksize = bs } or nil
    local b = db.read_text(path, opts)
    local recs = db.read_json(path, opts)
    local f = assert(io.open(path, "ab"))
    f:write("5\n", string.rep("6\n", 200))
    f:close()
    t.eq(b:compute(), lines, "blocksize " .. tostring(bs))
    t.eq(b:count():compute(), 300, "blocksize " .. tostring(bs))
    t.eq(db.read_text(path, opts):count():compute(), 500, "a new bag reads it all (the last line longer)")
    t.eq(recs:sum():compute(), total, "read_json, blocksize " .. tostring(bs))
    -- a file that shrank is an error naming it
    write(path, "short\n")
    t.raises("cannot read " .. path .. ": it is shorter than the " .. #text .. " bytes it had", function()
      b:compute()
    end)
  end
  -- compressed: the compressed bytes it had (a member appended later is not read)
  write(d .. "/p1.txt", "alpha\nbeta\n")
  write(d .. "/p2.txt", "gamma\n")
  assert(os.execute(string.format("cd %s && gzip -k p1.txt p2.txt && cp p1.txt.gz g.gz", d)))
  assert(os.execute(string.format("cd %s && zstd -q p1.txt -o z.zst && zstd -q p2.txt -o p2.zst", d)))
  local gz, zs = db.read_text(d .. "/g.gz"), db.read_text(d .. "/z.zst")
  assert(os.execute(string.format("cd %s && cat p2.txt.gz >> g.gz && cat p2.zst >> z.zst", d)))
  t.eq(gz:compute(), { "alpha", "beta" })
  t.eq(zs:compute(), { "alpha", "beta" })
  t.eq(db.read_text(d .. "/g.gz"):compute(), { "alpha", "beta", "gamma" })
  assert(os.execute(string.format("cd %s && head -c 20 p1.txt.gz > g.gz", d)))
  t.raises("g.gz", function() gz:compute() end)
  os.execute("rm -rf " .. d)
end)
