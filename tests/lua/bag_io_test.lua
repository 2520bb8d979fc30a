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
  t.raises("must contain '*'", function() b:to_textfiles(d .. "/x.txt") end)
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
