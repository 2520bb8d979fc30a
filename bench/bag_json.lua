-- "bag json": the accounts JSON pipeline over 8 gzip'd files of 250,000
-- records (bench/gen_accounts.lua): read_text, decode, keep the accounts
-- whose first transaction is positive, pluck the name, frequencies, the
-- 10 most frequent.  With dusk.json.decode (fields parsed when read: this
-- reads two) and with cjson.decode (every record built whole).  Prints
-- "time LABEL SECONDS" for bench/run.py.  With a decoder named, only that
-- one runs (bench/run.py measures each in processes of their own, so that
-- one does not run on a machine the other has just heated); without, both
-- run and must agree.
--
--   dusk bench/bag_json.lua [glob [dusk.json | cjson]]

local pattern = arg[1] or "bench/data/accounts.*.json.gz"
local now = require("dusk.core").now
local db = dusk.bag

local function positive(r)
  local t = r.transactions
  return #t > 0 and t[1].amount > 0
end

local function run(label, decode)
  local t0 = now()
  local top = db.read_text(pattern)
    :map(decode)
    :filter(positive)
    :pluck("name")
    :frequencies()
    :topk(10, 2)
    :compute()
  print(string.format("time %s %.6f", label, now() - t0))
  return top
end

local only = arg[2]
if only == "cjson" then
  run("cjson", require("cjson").decode)
  return
end
local a = run("dusk.json", require("dusk.json").decode)
local ok, cjson = pcall(require, "cjson")
if ok and only == nil then
  local b = run("cjson", cjson.decode)
  for i = 1, #a do
    assert(a[i][1] == b[i][1] and a[i][2] == b[i][2], "dusk.json and cjson disagree")
  end
end
io.stderr:write(dusk.pretty(a), "\n")
