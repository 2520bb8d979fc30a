-- read_csv's block resolution, by consistency: random CSV texts (quoted
-- separators, newlines and doubled quotes, CRLF, blank lines, a last line
-- with or without its newline) read at every block size from 1 byte to
-- the whole file give the rows and the row count of one block.  A block
-- ending inside a quoted field, or a block of an odd number of quotes
-- before a row's end, is what a wrong resolution gets wrong.

local t = ...
local dd = dusk.dataframe

local PIECES = { "a", '"b,c"', '"q""r"', '"x\ny"', '""', "", "12", "3.5", '"a,\r\nb"', '""""', "z z" }
local COLS = { "h1", "h2", "h3" }

-- A deterministic stream of integers in [1, n] (SplitMix-like).
local function stream(seed)
  local s = seed
  return function(n)
    s = (s * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff
    return (s >> 33) % n + 1
  end
end

local function text_of(rand)
  local rows = { table.concat(COLS, ",") }
  for _ = 1, rand(9) - 1 do
    if rand(7) == 1 then
      rows[#rows + 1] = ""
    else
      local f = {}
      for c = 1, #COLS do
        f[c] = PIECES[rand(#PIECES)]
      end
      rows[#rows + 1] = table.concat(f, ",")
    end
  end
  local nl = rand(3) == 1 and "\r\n" or "\n"
  return table.concat(rows, nl) .. (rand(2) == 1 and nl or "")
end

local dir = t.tmpdir()

t.test("every block size reads the rows one block reads", function()
  local rand = stream(20261202)
  local opts = { dtypes = { h1 = "string", h2 = "string", h3 = "string" } }
  for trial = 1, 80 do
    local text = text_of(rand)
    local path = string.format("%s/t%d.csv", dir, trial)
    t.write(path, text)
    opts.blocksize = nil
    local want = dd.read_csv(path, opts):compute()
    local wt = want:to_table()
    for bs = 1, #text + 1 do
      opts.blocksize = bs
      local df = dd.read_csv(path, opts)
      local what = string.format("%q at blocksize %d", text, bs)
      t.eq(#df, #want, "#df of " .. what)
      local got = df:compute():to_table()
      for _, c in ipairs(COLS) do t.eq(got[c], wt[c], c .. " of " .. what) end
    end
  end
end)

t.test("the row count of a text with a quote parity change in a block", function()
  -- the block [30, 35) of this text holds three quotes and a row's end
  local path = dir .. "/parity.csv"
  t.write(path, 'a,b,c\n1,2.5,x\n2,,"y,z"\n,3.5,"q""r"\n4,4.5,\n')
  for bs = 1, 45 do t.eq(#dd.read_csv(path, { blocksize = bs }), 4, "blocksize " .. bs) end
end)

t.test("cleanup", function() t.sh("rm -rf " .. dir) end)
