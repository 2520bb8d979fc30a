#!/usr/bin/python3
"""Writes tests/unit/ndmatmul_cases.h: numpy's answers for test_ndmatmul.c.

Run by Debian's numpy:  /usr/bin/python3 tests/unit/ndmatmul_cases.py

Each case is a @ b of two views of base arrays (C order, given in full or
by the formula 'formula_value' that test_ndmatmul.c computes too): rows and
columns sliced (start, count, step; steps may be negative), then maybe
transposed, then maybe broadcast.  With 'acc' the product is added to an
initial 'out' laid out 0 contiguous, 1 transposed in memory, 2 every other
column of a wider array.  Most values are small multiples of 1/2, so that
every order of summation gives numpy's floats exactly; 'rand' operands
are checked within a tolerance instead.  Big products are checked by
weighted row and column sums of the result and a sample of its elements.
"""
import os
import numpy as np

DT = {'bool': np.bool_, 'int8': np.int8, 'int16': np.int16, 'int32': np.int32,
      'int64': np.int64, 'uint8': np.uint8, 'uint16': np.uint16,
      'uint32': np.uint32, 'uint64': np.uint64, 'float32': np.float32,
      'float64': np.float64}
BUF = {k: 'BUF_' + k.upper() for k in DT}
rng = np.random.default_rng(13)


def formula_value(i, j, seed):
    return ((i * 7919 + j * 104729 + seed * 31) % 17) - 8


def base(dtype, shape, fill, seed):
    t = DT[dtype]
    if fill == 'formula':
        ii, jj = np.indices(shape) if len(shape) == 2 else (np.zeros(shape, int), np.arange(shape[0]))
        v = formula_value(ii, jj, seed)
        if dtype == 'bool':
            return v > 0
        return (v / 2 if dtype.startswith('float') else v).astype(t)
    if fill == 'rand':
        return rng.uniform(-1, 1, shape).astype(t)
    if fill == 'wrap':  # products and sums past the type's range
        info = np.iinfo(t)
        return rng.integers(info.min // 2, info.max // 2, shape, dtype=t, endpoint=True)
    if dtype == 'bool':
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.startswith('uint'):
        return rng.integers(0, 9, shape).astype(t)
    if dtype.startswith('int'):
        return rng.integers(-8, 9, shape).astype(t)
    return (rng.integers(-8, 9, shape) / 2).astype(t)


def view(x, spec):
    for axis, start, n, step in spec.get('slices', ()):
        x = x.take(start + step * np.arange(n), axis=axis)
    if spec.get('T'):
        x = x.T
    if 'bcast' in spec:
        x = np.broadcast_to(x, spec['bcast'])
    return x


def op(dtype, shape, fill='small', seed=0, **view_spec):
    return dict(dtype=dtype, shape=shape, fill=fill, seed=seed, **view_spec)


CASES = [
    ('1x1 float64', op('float64', (1, 1)), op('float64', (1, 1))),
    ('7x13 @ 13x5 float64', op('float64', (7, 13)), op('float64', (13, 5))),
    ('7x13 @ 13x5 float32', op('float32', (7, 13)), op('float32', (13, 5))),
    ('7x13 @ 13x5 int64', op('int64', (7, 13)), op('int64', (13, 5))),
    ('7x13 @ 13x5 int32', op('int32', (7, 13)), op('int32', (13, 5))),
    ('7x13 @ 13x5 uint8', op('uint8', (7, 13)), op('uint8', (13, 5))),
    ('7x13 @ 13x5 bool', op('bool', (7, 13)), op('bool', (13, 5))),
    ('7x13 @ 13x5 int16', op('int16', (7, 13)), op('int16', (13, 5))),
    ('7x13 @ 13x5 uint64', op('uint64', (7, 13)), op('uint64', (13, 5))),
    ('1-d @ 2-d float64', op('float64', (13,)), op('float64', (13, 5))),
    ('2-d @ 1-d float64', op('float64', (7, 13)), op('float64', (13,))),
    ('1-d @ 1-d float64 (0-d)', op('float64', (13,)), op('float64', (13,))),
    ('1-d @ 1-d int32 (0-d)', op('int32', (13,)), op('int32', (13,))),
    ('1-d @ 2-d int64', op('int64', (13,)), op('int64', (13, 5))),
    ('2-d @ 1-d uint8', op('uint8', (7, 13)), op('uint8', (13,))),
    ('1-d @ 1-d bool', op('bool', (5,)), op('bool', (5,))),
    ('rand float64', op('float64', (7, 13), 'rand'), op('float64', (13, 5), 'rand')),
    ('rand float32', op('float32', (7, 13), 'rand'), op('float32', (13, 5), 'rand')),
    ('transposed a float64', op('float64', (13, 7), T=1), op('float64', (13, 5))),
    ('transposed b float64', op('float64', (7, 13)), op('float64', (5, 13), T=1)),
    ('both transposed float32', op('float32', (13, 7), T=1), op('float32', (5, 13), T=1)),
    ('transposed int32', op('int32', (13, 7), T=1), op('int32', (5, 13), T=1)),
    ('sliced rows float64 (lda)', op('float64', (9, 20), slices=[(1, 3, 13, 1)]),
     op('float64', (13, 11), slices=[(1, 2, 5, 1)])),
    ('strided columns float64', op('float64', (7, 27), slices=[(1, 1, 13, 2)]),
     op('float64', (13, 5))),
    ('strided both axes float32', op('float32', (15, 27), slices=[(0, 0, 7, 2), (1, 1, 13, 2)]),
     op('float32', (26, 15), slices=[(0, 0, 13, 2), (1, 2, 5, 3)])),
    ('negative steps float64', op('float64', (7, 13), slices=[(0, 6, 7, -1), (1, 12, 13, -1)]),
     op('float64', (13, 5), slices=[(0, 12, 13, -1)])),
    ('negative steps int64', op('int64', (7, 13), slices=[(1, 12, 13, -1)]),
     op('int64', (13, 10), slices=[(1, 9, 5, -2)])),
    ('negative step 1-d float64', op('float64', (13,), slices=[(0, 12, 13, -1)]),
     op('float64', (13, 5))),
    ('strided 1-d float32', op('float32', (7, 13)), op('float32', (39,), slices=[(0, 2, 13, 3)])),
    ('transposed sliced bool', op('bool', (20, 7), slices=[(0, 19, 13, -1)], T=1),
     op('bool', (13, 5))),
    ('broadcast b float64', op('float64', (1, 5), bcast=(13, 5)), op('float64', (5, 4))),
    ('broadcast a int32', op('int32', (7, 13)), op('int32', (13, 1), bcast=(13, 6))),
    ('float32 @ int32 -> float64', op('float32', (7, 13)), op('int32', (13, 5))),
    ('int8 @ uint8 -> int16', op('int8', (7, 13)), op('uint8', (13, 5))),
    ('bool @ int32 -> int32', op('bool', (7, 13)), op('int32', (13, 5))),
    ('int64 @ uint64 -> float64', op('int64', (7, 13)), op('uint64', (13, 5))),
    ('float32 @ float64', op('float32', (7, 13)), op('float64', (13, 5))),
    ('uint8 @ bool -> uint8', op('uint8', (7, 13)), op('bool', (13, 5))),
    ('int64 wraps', op('int64', (7, 13), 'wrap'), op('int64', (13, 5), 'wrap')),
    ('int32 wraps', op('int32', (7, 13), 'wrap'), op('int32', (13, 5), 'wrap')),
    ('uint8 wraps', op('uint8', (7, 13), 'wrap'), op('uint8', (13, 5), 'wrap')),
    ('uint16 wraps', op('uint16', (7, 13), 'wrap'), op('uint16', (13, 5), 'wrap')),
    ('uint64 wraps', op('uint64', (7, 13), 'wrap'), op('uint64', (13, 5), 'wrap')),
    ('empty rows float64', op('float64', (0, 3)), op('float64', (3, 2))),
    ('empty inner float64', op('float64', (2, 0)), op('float64', (0, 2))),
    ('empty inner int32', op('int32', (2, 0)), op('int32', (0, 2))),
    ('empty 1-d float64', op('float64', (0,)), op('float64', (0,))),
    ('blocks int32 5x300 @ 300x1030', op('int32', (5, 300), 'formula', 1),
     op('int32', (300, 1030), 'formula', 2)),
    ('blocks int64 transposed', op('int64', (300, 9), 'formula', 3, T=1),
     op('int64', (1030, 300), 'formula', 4, T=1)),
    ('panels float64 70x300 @ 300x1700', op('float64', (70, 300), 'formula', 5),
     op('float64', (300, 1700), 'formula', 6)),
    ('panels float32 transposed', op('float32', (300, 600), 'formula', 7, T=1),
     op('float32', (300, 300), 'formula', 8)),
]

# Accumulating into an initial out: (name, a, b, out layout).
ACC = [
    ('acc float64', op('float64', (7, 13)), op('float64', (13, 5)), 0),
    ('acc float64 out transposed', op('float64', (7, 13)), op('float64', (13, 5)), 1),
    ('acc float32 out strided', op('float32', (7, 13)), op('float32', (13, 5)), 2),
    ('acc int64 wraps', op('int64', (7, 13), 'wrap'), op('int64', (13, 5), 'wrap'), 0),
    ('acc int32 out transposed', op('int32', (7, 13)), op('int32', (13, 5)), 1),
    ('acc uint8 out strided', op('uint8', (7, 13), 'wrap'), op('uint8', (13, 5), 'wrap'), 2),
    ('acc bool', op('bool', (7, 13)), op('bool', (13, 5)), 0),
    ('acc 1-d @ 2-d float64', op('float64', (13,)), op('float64', (13, 5)), 0),
    ('acc 1-d @ 1-d int64', op('int64', (13,)), op('int64', (13,)), 0),
    ('acc empty inner float64', op('float64', (3, 0)), op('float64', (0, 4)), 0),
    ('acc rand float64 transposed', op('float64', (13, 7), 'rand', T=1),
     op('float64', (13, 5), 'rand'), 1),
]

ERRORS = [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((3,), (4, 5)), ((5, 1), (2, 5))]

BIG = 4000  # results with more elements are checked by sums and samples


def c_values(x):
    x = np.ascontiguousarray(x).ravel()
    d = x.dtype
    if d == np.bool_:
        return [str(int(v)) for v in x]
    if d == np.float32:
        return [repr(float(v)) + 'f' for v in x]
    if d == np.float64:
        return [repr(float(v)) for v in x]
    if d == np.int64:
        return ['(-9223372036854775807 - 1)' if v == -2**63 else f'INT64_C({int(v)})' for v in x]
    if d == np.uint64:
        return [f'UINT64_C({int(v)})' for v in x]
    return [str(int(v)) for v in x]


C_TYPE = {'bool': 'uint8_t', 'int8': 'int8_t', 'int16': 'int16_t', 'int32': 'int32_t',
          'int64': 'int64_t', 'uint8': 'uint8_t', 'uint16': 'uint16_t', 'uint32': 'uint32_t',
          'uint64': 'uint64_t', 'float32': 'float', 'float64': 'double'}


class Out:
    def __init__(self):
        self.decls, self.n = [], 0

    def array(self, x):
        if x.size == 0:
            return 'NULL'
        name = f'v{self.n}'
        self.n += 1
        vals = c_values(x)
        body = ',\n  '.join(', '.join(vals[i:i + 8]) for i in range(0, len(vals), 8))
        self.decls.append(f'static const {C_TYPE[x.dtype.name]} {name}[] = {{\n  {body}\n}};')
        return name


def shape_c(s):
    s = list(s) + [0] * (2 - len(s))
    return '{' + ', '.join(map(str, s)) + '}'


def operand_c(out, spec, x0):
    sl = spec.get('slices', [])
    sls = ', '.join(f'{{{a}, {s}, {n}, {st}}}' for a, s, n, st in sl) or '{0, 0, 0, 0}'
    data = 'NULL' if spec['fill'] == 'formula' else out.array(x0)
    bc = spec.get('bcast', ())
    return (f'{{{BUF[spec["dtype"]]}, {len(spec["shape"])}, {shape_c(spec["shape"])}, '
            f'{spec["seed"]}, {data}, {len(sl)}, {{{sls}}}, {int(bool(spec.get("T")))}, '
            f'{len(bc)}, {shape_c(bc)}}}')


def result_c(out, r):
    r = np.asarray(r)
    if r.size <= BIG:
        return f'{BUF[r.dtype.name]}, {r.ndim}, {shape_c(r.shape)}, {out.array(r)}, NULL, NULL, NULL'
    # exact in float64 for these small dyadic values and integer results
    w_rows = (np.arange(r.shape[1]) % 7 + 1).astype(np.float64)
    w_cols = (np.arange(r.shape[0]) % 5 + 1).astype(np.float64)
    rows = r.astype(np.float64) @ w_rows
    cols = w_cols @ r.astype(np.float64)
    sample = r.ravel()[::97]
    return (f'{BUF[r.dtype.name]}, {r.ndim}, {shape_c(r.shape)}, NULL, {out.array(rows)}, '
            f'{out.array(cols)}, {out.array(sample)}')


def main():
    out = Out()
    rows = []
    for name, sa, sb in CASES:
        a0, b0 = base(sa['dtype'], sa['shape'], sa['fill'], sa['seed']), base(sb['dtype'], sb['shape'], sb['fill'], sb['seed'])
        r = np.dot(view(a0, sa), view(b0, sb))
        tol = 'rand' in (sa['fill'], sb['fill'])
        rows.append(f'  {{"{name}", {operand_c(out, sa, a0)}, {operand_c(out, sb, b0)}, -1, NULL, '
                    f'{int(tol)}, {result_c(out, r)}}},')
    for name, sa, sb, layout in ACC:
        a0, b0 = base(sa['dtype'], sa['shape'], sa['fill'], sa['seed']), base(sb['dtype'], sb['shape'], sb['fill'], sb['seed'])
        p = np.dot(view(a0, sa), view(b0, sb))
        init = base(p.dtype.name, p.shape, 'wrap' if 'wraps' in name or sa['fill'] == 'wrap' else 'small', 0) \
            if p.ndim else base(p.dtype.name, (1,), 'small', 0).reshape(())
        r = init + p if p.dtype != np.bool_ else init | p
        tol = 'rand' in (sa['fill'], sb['fill'])
        rows.append(f'  {{"{name}", {operand_c(out, sa, a0)}, {operand_c(out, sb, b0)}, {layout}, '
                    f'{out.array(init) if init.size else "NULL"}, {int(tol)}, {result_c(out, r)}}},')
    errs = []
    for sa, sb in ERRORS:
        try:
            np.dot(np.ones(sa), np.ones(sb))
        except ValueError as e:
            errs.append(f'  {{{len(sa)}, {shape_c(sa)}, {len(sb)}, {shape_c(sb)}, "{e}"}},')
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ndmatmul_cases.h')
    with open(path, 'w') as f:
        f.write('/* Generated by tests/unit/ndmatmul_cases.py from numpy '
                f'{np.__version__}: do not edit. */\n\n')
        f.write('\n'.join(out.decls) + '\n\n')
        f.write('static const mm_case mm_cases[] = {\n' + '\n'.join(rows) + '\n};\n\n')
        f.write('static const mm_error mm_errors[] = {\n' + '\n'.join(errs) + '\n};\n')


main()
