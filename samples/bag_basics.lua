#!/usr/bin/env dusk
-- Bag basics, as in Dask's tutorial: even numbers of 1..10, squared.
--
--   dusk samples/bag_basics.lua

local db = dusk.bag

local function is_even(n) return n % 2 == 0 end

local b = db.from_sequence({ 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, { npartitions = 3 })
local c = b:filter(is_even):map(function(x) return x ^ 2 end)
print(c)                                  -- lazy: nothing has run
print(dusk.pretty(c:compute()))           -- {4.0, 16.0, 36.0, 64.0, 100.0}
print("sum of squares:", c:sum():compute())
print("first two:", dusk.pretty(b:take(2)))

local words = db.from_sequence({ "apple", "banana", "apple", "cherry", "banana", "apple" })
print("frequencies:", dusk.pretty(words:frequencies():compute()))
print("most common:", dusk.pretty(words:frequencies():topk(1, 2):compute()))
