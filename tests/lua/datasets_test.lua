local t = ...
-- stdlib modules: run with LUA_PATH_5_4 pointing at stdlib/ (tests/meson.build)

t.test("stdlib modules load as dusk fields", function()
  t.truthy(dusk.datasets == require("dusk.datasets"))
end)

t.test("accounts are deterministic per seed", function()
  local ds = dusk.datasets
  local a, b, c = {}, {}, {}
  for r in ds.accounts(50, { seed = 7 }) do a[#a + 1] = ds.account_json(r) end
  for r in ds.accounts(50, { seed = 7 }) do b[#b + 1] = ds.account_json(r) end
  for r in ds.accounts(50, { seed = 8 }) do c[#c + 1] = ds.account_json(r) end
  t.eq(#a, 50)
  t.eq(a, b)
  t.truthy(table.concat(a) ~= table.concat(c), "another seed, other data")
end)

t.test("records have the tutorial's shape", function()
  local names, negative, max_tx = {}, 0, 0
  for r in dusk.datasets.accounts(500, { seed = 1 }) do
    t.eq(math.type(r.id), "integer")
    names[r.name] = true
    max_tx = math.max(max_tx, #r.transactions)
    for _, tx in ipairs(r.transactions) do
      t.eq(math.type(tx.amount), "integer")
      if tx.amount < 0 then negative = negative + 1 end
    end
  end
  local n = 0
  for _ in pairs(names) do n = n + 1 end
  t.truthy(n > 20, "many names")
  t.truthy(negative > 0, "some negative amounts")
  t.eq(max_tx, 11, "up to 11 transactions")
end)

t.test("JSON lines written to a file", function()
  local path = os.tmpname()
  dusk.datasets.write_accounts_json(path, 3, { seed = 2 })
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  os.remove(path)
  t.eq(#lines, 3)
  t.truthy(lines[1]:match('^{"id": 1, "name": "%a+", "transactions": %[{"transaction%-id": 1, "amount": %-?%d+}'), lines[1])
end)
