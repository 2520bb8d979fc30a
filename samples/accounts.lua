#!/usr/bin/env dusk
-- The accounts JSON pipeline of Dask's tutorial: gzip'd JSON lines of
-- accounts and their transactions (made here with dusk.datasets), read in
-- parallel; which names have the most accounts whose first transaction is
-- positive, and the total amount per name.
--
--   dusk samples/accounts.lua [dir]

local db = dusk.bag
-- dusk.datasets is in stdlib/: installed on the Lua path, or beside us
local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/../stdlib/?.lua;" .. package.path
local dir = arg[1] or os.tmpname() .. ".accounts"
os.execute(string.format("mkdir -p %q", dir))

-- three files of 20,000 records, written by a delayed task each
local write = dusk.delayed(function(path, seed)
  require("dusk.datasets").write_accounts_json(path, 20000, { seed = seed })
  assert(os.execute(string.format("gzip -f %q", path)))
  return path .. ".gz"
end)
local files = {}
for i = 1, 3 do files[i] = write(string.format("%s/accounts.%d.json", dir, i), i) end
dusk.delayed(files):compute()

local accounts = db.read_json(dir .. "/accounts.*.json.gz")
print(accounts)
print("first record:", tostring(accounts:take(1)[1]))

local top = accounts
  :filter(function(r) return #r.transactions > 0 and r.transactions[1].amount > 0 end)
  :pluck("name")
  :frequencies()
  :topk(5, 2)
  :compute()
print("names with the most accounts whose first transaction is positive:")
for _, p in ipairs(top) do print(string.format("  %-10s %d", p[1], p[2])) end

local totals = accounts
  :map(function(r)
    local sum = 0
    for _, t in ipairs(r.transactions) do sum = sum + t.amount end
    return { r.name, sum }
  end)
  :foldby(1, function(acc, p) return acc + p[2] end, 0, function(a, b) return a + b end, 0)
  :topk(3, 2)
  :compute()
print("largest totals by name:")
for _, p in ipairs(totals) do print(string.format("  %-10s %d", p[1], p[2])) end
os.execute(string.format("rm -rf %q", dir))
