#!/usr/bin/env dusk
-- A students table grouped by household (HID): their mean age and the
-- best grade and number of grades in each, over a CSV written here.
--
--   dusk samples/students_groupby.lua [students.csv]

local dd = dusk.dataframe
local path = arg[1] or os.tmpname() .. ".students.csv"

-- 30 students in 8 households; some grades missing
local names = { "Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun" }
local f = assert(io.open(path, "w"))
f:write("name,HID,age,grade\n")
for i = 1, 30 do
  local grade = i % 7 == 0 and "" or tostring(50 + (i * 37) % 50)
  f:write(string.format("%s %d,H%d,%d,%s\n", names[(i - 1) % #names + 1], i, (i * 5) % 8 + 1, 14 + (i * 3) % 5, grade))
end
f:close()

local students = dd.read_csv(path)
local by_house = students:groupby("HID"):agg { age = "mean", grade = { "max", "count" } }:compute()
print("households", #by_house)
for i, hid in ipairs(by_house.HID:to_table()) do
  print(string.format("%s: mean age %.4f, best grade %d of %d", hid, by_house:value(i, "age"),
                      by_house:value(i, "grade_max"), by_house:value(i, "grade_count")))
end
