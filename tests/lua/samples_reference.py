#!/usr/bin/python3
"""The answers of samples/*.lua computed apart, by Python (Dask's bag,
pandas, numpy), and written in the samples' own format, masks included:
what samples/NAME.out should say.  Not run by meson (it needs Dask and
pandas); run it after changing a sample or its .out:

    /usr/bin/python3 tests/lua/samples_reference.py build/dusk OUTDIR
    diff -r OUTDIR samples --exclude='*.lua'   # no difference

tests/lua/samples_test.lua then holds every run of the samples to those
files.
"""
import collections, glob, json, os, re, subprocess, sys, tempfile

import dask
import dask.bag as db
import numpy as np
import pandas as pd

dusk, outdir = sys.argv[1], sys.argv[2]
top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
os.makedirs(outdir, exist_ok=True)
dask.config.set(scheduler="sync")
out = {}


def lua_num(x):
    """A float as Lua's %.14g prints it (4.0, not 4)."""
    s = "%.14g" % x
    return s + ".0" if re.fullmatch(r"-?\d+", s) else s


# bag_basics: filter, map, sum, take, frequencies, topk (Dask's bag)
b = db.from_sequence(list(range(1, 11)), npartitions=3)
c = b.filter(lambda n: n % 2 == 0).map(lambda x: float(x) ** 2)
w = db.from_sequence(["apple", "banana", "apple", "cherry", "banana", "apple"])
pairs = lambda ps: "{" + ", ".join('{"%s", %d}' % p for p in ps) + "}"
out["bag_basics"] = (
    "dusk.Bag<map, npartitions=3, tasks=3>\n"
    "{" + ", ".join(lua_num(x) for x in c.compute()) + "}\n"
    "sum of squares:\t%s\n" % lua_num(c.sum().compute())
    + "first two:\t{%s}\n" % ", ".join(str(x) for x in b.take(2))
    + "frequencies:\t%s\n" % pairs(w.frequencies().compute())
    + "most common:\t%s\n" % pairs(w.frequencies().topk(1, key=1).compute()))

# delayed_basics: (x + 1) + 2x summed over 1..8, and a tree of additions
total = sum((x + 1) + x * 2 for x in range(1, 9))
out["delayed_basics"] = (
    "total (lazy):\tDelayed('sum-25')\n"
    "total = %d, total*10 = %d, total-10 = %d  (<time> s, <n> workers)\n" % (total, total * 10, total - 10)
    + "the same with one thread:\t%d\t(<time> s)\n" % total
    + "sum of inc(1..10000):\t%d\t(<time> s)\n" % sum(i + 1 for i in range(1, 10001)))

# grid_search: the same gradient descent in float64, operation by
# operation; numpy's least squares says where it should end
n = 2000
train, test = [], []
for i in range(1, n + 1):
    x = i / n
    p = (x, 3 * x + 2 + ((i * 7919) % 101 - 50) / 500)
    (test if i % 5 == 0 else train).append(p)
scores = []
for rate in (0.01, 0.05, 0.1, 0.5, 1.0):
    for epochs in (50, 200, 800):
        a = b0 = 0.0
        for _ in range(epochs):
            ga = gb = 0.0
            for px, py in train:
                err = a * px + b0 - py
                ga, gb = ga + err * px, gb + err
            a, b0 = a - rate * ga / len(train), b0 - rate * gb / len(train)
        se = sum((a * px + b0 - py) ** 2 for px, py in test)
        scores.append((se / len(test), rate, epochs, a, b0))
mse, rate, epochs, a, b0 = min(scores)
lsq = np.linalg.lstsq(np.array([[px, 1.0] for px, _ in train]), np.array([py for _, py in train]), rcond=None)[0]
assert abs(lsq[0] - a) < 0.01 and abs(lsq[1] - b0) < 0.01, (lsq, a, b0)
out["grid_search"] = "best: rate=%g epochs=%d  a=%.3f b=%.3f  mse=%.5f\n" % (rate, epochs, a, b0, mse)


# hello and wordcount: words are runs of ASCII letters, lowercased
def words(paths):
    counts = collections.Counter()
    for p in paths:
        counts.update(re.findall("[a-z]+", open(p).read().lower()))
    return counts


counts = words([os.path.join(top, "samples", f) for f in ("hello.lua", "delayed_basics.lua", "grid_search.lua")])
ten = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
out["hello"] = ("dusk <version>: the most frequent words of 3 file(s), Delayed('merge-4')\n{\n"
                + ",\n".join('  {n = %d, word = "%s"}' % (n, w) for w, n in ten) + "\n}\n")

paths = sorted(glob.glob(os.path.join(top, "samples", "*.lua")))
counts = words(paths)
# (topk keeps ties in the order the keys first came, as Dask's)
first = {}
for p in paths:
    for w in re.findall("[a-z]+", open(p).read().lower()):
        first.setdefault(w, len(first))
ten = sorted(counts.items(), key=lambda kv: (-kv[1], first[kv[0]]))[:10]
out["wordcount"] = ("%d files, %d distinct words\n" % (len(paths), len(counts))
                    + "".join("  %-12s %d\n" % (w, n) for w, n in ten))

# accounts: the same data sets, written by dusk.datasets, read by pandas
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([dusk, "-e", "for i = 1, 3 do require('dusk.datasets').write_accounts_json("
                    "string.format('%%s/accounts.%%d.json', %r, i), 20000, { seed = i }) end" % tmp],
                   check=True, env=dict(os.environ, LUA_PATH_5_4=os.path.join(top, "stdlib", "?.lua") + ";;"))
    recs = [json.loads(line) for i in (1, 2, 3) for line in open("%s/accounts.%d.json" % (tmp, i))]
    first_line = open(tmp + "/accounts.1.json").readline().rstrip("\n")
df = pd.DataFrame({"name": [r["name"] for r in recs],
                   "positive": [bool(r["transactions"]) and r["transactions"][0]["amount"] > 0 for r in recs],
                   "total": [sum(t["amount"] for t in r["transactions"]) for r in recs]})
most = df[df.positive].name.value_counts().head(5)
totals = df.groupby("name").total.sum().sort_values(ascending=False).head(3)
out["accounts"] = (
    "dusk.Bag<map, npartitions=3, tasks=3>\n"
    "first record:\t%s\n" % first_line  # (a record prints as its text)
    + "names with the most accounts whose first transaction is positive:\n"
    + "".join("  %-10s %d\n" % (k, v) for k, v in most.items())
    + "largest totals by name:\n"
    + "".join("  %-10s %d\n" % (k, v) for k, v in totals.items()))

# the array samples (numpy and Dask's chunks; dusk's random numbers are
# its own, so those samples print what any random array of the size gives)
import dask.array as da
from dask.utils import format_bytes


def ndrepr(a):
    """An ndarray as dusk prints it: numpy's repr, named ndarray."""
    return "ndarray(" + np.array2string(a, separator=", ", prefix="ndarray(") + ")"


x = da.ones((15, 15), chunks=(5, 5))
rows = [("", "Array", "Chunk"),
        ("Bytes", format_bytes(x.nbytes), format_bytes(25 * 8)),
        ("Shape", "(15, 15)", "(5, 5)"),
        ("Dask graph", "%d chunks in %d graph layer (%d tasks)"
         % (x.npartitions, len(x.dask.layers), x.npartitions), ""),
        ("Data type", "float64 dusk.ndarray", "")]
w0 = max(len(r[0]) for r in rows)
w1 = max(len(r[1]) for r in rows if r[2])
table = "".join(("%-*s   %-*s   %s" % (w0, r[0], w1, r[1], r[2])).rstrip() + "\n" for r in rows)
ones = np.ones((15, 15))
y = ones + ones.T * 2 - 1
out["array_basics"] = (table + ndrepr(ones.sum(axis=0)) + "\n"
                       + "blocks:\t%d\n" % x.npartitions
                       + "graph drawn:\ttrue\n"
                       + ndrepr(y[0:3, -3:]) + "\n"
                       + "total:\t%s\n" % lua_num(y.sum()))
n = 200
m = da.random.random((n, n, n), chunks="auto")
out["array_mean"] = ("shape %dx%dx%d, %d chunks of %s, %.1f GiB\n"
                     % (n, n, n, m.npartitions, "x".join(str(c[0]) for c in m.chunks), m.nbytes / 2 ** 30)
                     + "mean %.2f\n" % m.mean().compute())
n = 600
r = np.sin(np.arange(n * n)).reshape(n, n)
out["array_dot"] = "%d x %d in 4 blocks: std %.6g\n" % (n, n, (r.dot(r.T + 1) - r.mean()).std())
g = (np.arange(4 * 6 * 8) % 7).reshape(4, 6, 8).astype(float)
c = g - g.mean(axis=1, keepdims=True)
out["array_hdf5"] = ("4\t6\t8\tfloat64\t4 blocks\n"
                     "centred means along axis 2 are zero:\ttrue\n"
                     "first row:\t%s\n" % ndrepr(c[0, :, 0]))

# the DataFrame samples: the same data, read and reduced by pandas
tmp = tempfile.mkdtemp()
for i in (1, 2):
    subprocess.run([dusk, "-e", "package.path = %r .. '/stdlib/?.lua;' .. package.path; "
                    "require('dusk.datasets').write_taxi_csv(%r, 20000, {seed = %d})"
                    % (top, "%s/yellow_%d.csv" % (tmp, i), i)], check=True)
taxi = pd.concat([pd.read_csv("%s/yellow_%d.csv" % (tmp, i)) for i in (1, 2)])
text = "8 partitions of 19 columns\nrows\t%d\n" % len(taxi)
for c, n in taxi.isnull().sum().items():
    if n > 0:
        text += "missing %-20s %d\n" % (c, n)
g = taxi.groupby("payment_type")[["total_amount", "trip_distance"]].mean()
for p, row in g.iterrows():
    text += "payment type %d: mean total %.6f, mean distance %.6f\n" % (p, row.total_amount, row.trip_distance)
out["taxi_groupby"] = text
names = ["Ana", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun"]
rows = [("%s %d" % (names[(i - 1) % 10], i), "H%d" % ((i * 5) % 8 + 1), 14 + (i * 3) % 5,
         None if i % 7 == 0 else 50 + (i * 37) % 50) for i in range(1, 31)]
st = pd.DataFrame(rows, columns=["name", "HID", "age", "grade"])
g = st.groupby("HID").agg(age=("age", "mean"), grade_max=("grade", "max"), grade_count=("grade", "count"))
text = "households\t%d\n" % len(g)
for hid, row in g.iterrows():
    text += "%s: mean age %.4f, best grade %d of %d\n" % (hid, row.age, row.grade_max, row.grade_count)
out["students_groupby"] = text
path = os.path.join(tmp, "missing.csv")
with open(path, "w") as f:
    f.write("id,qty,price,city,paid\n1,3,2.5,Oslo,True\n2,,4.0,Lima,False\n3,7,,Oslo,\n4,1,1.25,,True\n5,,,Kyiv,False\n")
m = pd.read_csv(path)
text = "id:int64 qty:int64 price:float64 city:string paid:bool \n"
for c, n in m.isnull().sum().items():
    text += "missing %s\t%d\n" % (c, n)
text += "rows with no gap\t%d\n" % len(m.dropna())
text += "qty filled\t%s\n" % " ".join(str(int(v)) for v in m.qty.fillna(0))
text += "mean qty %.6f of %d\n" % (m.qty.mean(), m.qty.count())
text += "rows with a qty\t%d\n" % m.qty.notnull().sum()
out["missing_values"] = text

for name, text in out.items():
    with open(os.path.join(outdir, name + ".out"), "w") as f:
        f.write(text)
print("wrote", len(out), "files to", outdir)
