#!/usr/bin/env dusk
-- The fit/score grid-search pattern: fit a model for every combination
-- of parameters, score each on held-out data, keep the best.  The data is
-- loaded once and shared by every fit; the fits run in parallel.
--
--   dusk samples/grid_search.lua

local delayed = dusk.delayed

-- y = 3x + 2 with deterministic noise; every fifth point is held out
local load = delayed(function(n)
  local train, test = {}, {}
  for i = 1, n do
    local x = i / n
    local noise = ((i * 7919) % 101 - 50) / 500
    local point = { x = x, y = 3 * x + 2 + noise }
    if i % 5 == 0 then test[#test + 1] = point else train[#train + 1] = point end
  end
  return { train = train, test = test }
end, { name = "load" })

-- gradient descent on y = a*x + b with a learning rate and an epoch count
local fit = delayed(function(data, rate, epochs)
  local a, b = 0.0, 0.0
  local pts = data.train
  for _ = 1, epochs do
    local ga, gb = 0.0, 0.0
    for _, p in ipairs(pts) do
      local err = a * p.x + b - p.y
      ga, gb = ga + err * p.x, gb + err
    end
    a, b = a - rate * ga / #pts, b - rate * gb / #pts
  end
  return { a = a, b = b, rate = rate, epochs = epochs }
end, { name = "fit" })

local score = delayed(function(model, data)
  local se = 0.0
  for _, p in ipairs(data.test) do
    local err = model.a * p.x + model.b - p.y
    se = se + err * err
  end
  return { mse = se / #data.test, model = model }
end, { name = "score" })

local best = delayed(function(scores)
  table.sort(scores, function(u, v) return u.mse < v.mse end)
  return scores[1]
end, { name = "best" })

local data = load(2000)
local scores = {}
for _, rate in ipairs({ 0.01, 0.05, 0.1, 0.5, 1.0 }) do
  for _, epochs in ipairs({ 50, 200, 800 }) do
    scores[#scores + 1] = score(fit(data, rate, epochs), data)
  end
end

local winner = best(scores):compute()
print(string.format("best: rate=%g epochs=%d  a=%.3f b=%.3f  mse=%.5f",
                    winner.model.rate, winner.model.epochs, winner.model.a,
                    winner.model.b, winner.mse))
