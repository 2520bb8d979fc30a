-- dusk.datasets: deterministic sample data for examples, tests and
-- benchmarks, shaped like the data of the Dask tutorial.
--
--   local ds = dusk.datasets
--   for rec in ds.accounts(1000, {seed = 1}) do ... end
--   ds.write_accounts_json("accounts.1.json", 250000, {seed = 1})
--
-- The same seed gives the same data on every machine: the generator is a
-- SplitMix64 of its own, not math.random, so it neither depends on nor
-- disturbs the global random state.

local M = {}

local NAMES = {
  "Alice", "Bob", "Charlie", "Dan", "Edith", "Frank", "George", "Hannah",
  "Ingrid", "Jerry", "Kevin", "Laura", "Michael", "Norbert", "Oliver",
  "Patricia", "Quinn", "Ray", "Sarah", "Tim", "Ursula", "Victor", "Wendy",
  "Xavier", "Yvonne", "Zelda",
}

-- A SplitMix64 stream: returns a function giving integers in [lo, hi].
local function rng(seed)
  local state = seed
  return function(lo, hi)
    state = state + 0x9E3779B97F4A7C15
    local z = state
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return lo + (z >> 1) % (hi - lo + 1) -- ">>" is logical: z >> 1 >= 0
  end
end

-- Iterates over 'n' account records {id=, name=, transactions={{
-- ["transaction-id"]=, amount=}, ...}}, 1 to 11 transactions each (about
-- 300 bytes of JSON a record, as the tutorial's).  Each account has a
-- typical amount (sometimes negative) that its transactions scatter
-- around.
function M.accounts(n, opts)
  local random = rng((opts and opts.seed) or 0)
  local id, tid = 0, 0
  return function()
    if id >= n then return nil end
    id = id + 1
    local name = NAMES[random(1, #NAMES)]
    local typical = random(-100, 400)
    local txs = {}
    for i = 1, random(1, 11) do
      tid = tid + 1
      txs[i] = { ["transaction-id"] = tid, amount = typical + random(-50, 50) }
    end
    return { id = id, name = name, transactions = txs }
  end
end

-- One account record as a line of JSON, keys in a fixed order.
function M.account_json(rec)
  local parts = {}
  for i, tx in ipairs(rec.transactions) do
    parts[i] = string.format('{"transaction-id": %d, "amount": %d}',
                             tx["transaction-id"], tx.amount)
  end
  return string.format('{"id": %d, "name": "%s", "transactions": [%s]}',
                       rec.id, rec.name, table.concat(parts, ", "))
end

-- Writes 'n' accounts as JSON lines to 'path'.  Returns the path.
function M.write_accounts_json(path, n, opts)
  local f = assert(io.open(path, "w"))
  for rec in M.accounts(n, opts) do
    f:write(M.account_json(rec), "\n")
  end
  assert(f:close())
  return path
end

return M
