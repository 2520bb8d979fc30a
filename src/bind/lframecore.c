/*
 * lframecore: the module "dusk.framecore" (lframe.h): what DataFrame
 * tasks run and what lua/dusk/dataframe.lua asks while it builds graphs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/alloc.h"
#include "base/interrupt.h"
#include "bind/lframe.h"
#include "frame/csv.h"
#include "frame/fexpr.h"
#include "frame/fgroup.h"
#include "frame/fjoin.h"
#include "frame/fsort.h"
#include "io/textio.h"

static void nomem(lua_State *L) { luaL_error(L, "not enough memory for a frame"); }

/* ---- files ---- */

/* A state's read buffer, kept between its tasks: a fresh allocation of
 * a block's size costs more in zeroed pages than reading the block. */
typedef struct scratch {
  char *p;
  size_t cap;
} scratch;

static int scratch_gc(lua_State *L) {
  scratch *s = lua_touserdata(L, 1);
  base_free(s->p);
  s->p = NULL;
  s->cap = 0;
  return 0;
}

static const char scratch_key = 0;

static char *scratch_get(lua_State *L, size_t n) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &scratch_key) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    scratch *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->p = NULL;
    s->cap = 0;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, scratch_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &scratch_key);
  }
  scratch *s = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (s->cap < n) {
    char *p = base_realloc(s->p, n);
    if (p == NULL) nomem(L);
    s->p = p;
    s->cap = n;
  }
  return s->p;
}

/* Bytes [off, off + n) of 'path' into the state's read buffer (zeroed
 * past n for 64 bytes, as the parse's windows may read), or raises
 * naming the file.  Valid until the next call. */
static char *read_range(lua_State *L, const char *path, int64_t off, int64_t n) {
  char *p = scratch_get(L, (size_t)n + 64);
  FILE *f = fopen(path, "rb");
  if (f == NULL) luaL_error(L, "read_csv: %s: %s", path, strerror(errno));
  size_t got = 0;
  if (fseeko(f, off, SEEK_SET) == 0) got = fread(p, 1, (size_t)n, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || got != (size_t)n)
    luaL_error(L, "read_csv: %s: %s", path, bad ? strerror(errno) : "the file changed size while being read");
  memset(p + n, 0, 64);
  return p;
}

/* A whole compressed file ('codec': "gzip" or "zstd") decompressed into
 * the read buffer, its lines ended by "\n"; '*n' its bytes. */
static char *read_whole(lua_State *L, const char *path, const char *codec, int64_t *n) {
  char err[TEXTIO_ERRMAX];
  textio_reader *r = textio_open(path, (textio_codec)textio_codec_named(codec), 0, -1, err);
  if (r == NULL) luaL_error(L, "read_csv: %s", err);
  size_t cap = 1 << 20, len = 0;
  char *p = scratch_get(L, cap + 64);
  const char *line;
  size_t ll;
  int st;
  while ((st = textio_next(r, &line, &ll)) == 1) {
    if (len + ll + 1 + 64 > cap) {
      while (len + ll + 1 + 64 > cap) cap *= 2;
      p = scratch_get(L, cap + 64); /* keeps what it held (realloc) */
    }
    memcpy(p + len, line, ll);
    len += ll;
    p[len++] = '\n';
  }
  if (st != 0) {
    const char *why = st == TEXTIO_INTERRUPTED ? "interrupted" : textio_reader_error(r);
    lua_pushstring(L, why);
    textio_reader_free(r);
    lua_error(L);
  }
  textio_reader_free(r);
  memset(p + len, 0, 64);
  *n = (int64_t)len;
  return p;
}

static char opt_char(lua_State *L, int t, const char *field, char dflt) {
  char c = dflt;
  if (lua_getfield(L, t, field) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    if (n != 1) luaL_error(L, "read_csv: %s must be one character", field);
    c = s[0];
  }
  lua_pop(L, 1);
  return c;
}

/* ---- from Lua tables ---- */

/* framecore.from_columns(names, types, columns, nrows) */
static int f_from_columns(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_Integer n = luaL_checkinteger(L, 4);
  int ncols = (int)luaL_len(L, 1);
  if (ncols > FR_MAXCOLS) return luaL_error(L, "from_table: too many columns");
  frame f;
  if (frame_init(&f, ncols, n) != 0) nomem(L);
  lframe *box = lfr_push(L, &f, 0); /* owns the columns from here on */
  int top = lua_gettop(L);
  for (int k = 0; k < ncols; k++) {
    lua_geti(L, 1, k + 1);
    const char *name = lua_tostring(L, -1);
    lua_geti(L, 2, k + 1);
    int type = fr_type_of(luaL_optstring(L, -1, "?"));
    if (name == NULL || type < 0) return luaL_error(L, "from_table: bad column %d", k + 1);
    lua_geti(L, 3, k + 1);
    int col = lua_gettop(L);
    fr_builder b;
    frb_init(&b, type, n);
    for (lua_Integer i = 1; i <= n; i++) {
      int t = lua_geti(L, col, i);
      if (t == LUA_TNIL) frb_null(&b);
      else if (type == FR_FLOAT64 && t == LUA_TNUMBER) frb_f64(&b, lua_tonumber(L, -1));
      else if ((type == FR_INT64 || type == FR_DATETIME) && lua_isinteger(L, -1)) frb_i64(&b, lua_tointeger(L, -1));
      else if (type == FR_BOOL && t == LUA_TBOOLEAN) frb_bool(&b, lua_toboolean(L, -1));
      else if (type == FR_STRING && t == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, -1, &len);
        frb_str(&b, s, len);
      } else {
        frb_free(&b);
        return luaL_error(L, "from_table: column '%s', row %I: a %s in a %s column", name, i,
                          luaL_typename(L, -1), fr_type_name(type));
      }
      lua_pop(L, 1);
    }
    if (frb_finish(&b, name, &box->f.cols[k]) != 0) nomem(L);
    lua_settop(L, top);
  }
  return 1;
}

/* ---- CSV ---- */

typedef struct sample {
  lua_State *L;
  int names;    /* stack slot of the names table */
  int na;       /* stack slot of the null spellings (a list), or 0 */
  int ncols;
  unsigned kinds[FR_MAXCOLS];
  int64_t nonnull[FR_MAXCOLS];
  int header;
} sample;

static int sample_field(void *ud, int64_t row, int col, const char *s, size_t len) {
  sample *sm = ud;
  if (col >= FR_MAXCOLS) return -1;
  if (row == 0 && sm->header) {
    lua_pushlstring(sm->L, s, len);
    lua_rawseti(sm->L, sm->names, col + 1);
    if (col + 1 > sm->ncols) sm->ncols = col + 1;
    return 0;
  }
  if (col + 1 > sm->ncols) sm->ncols = col + 1;
  if (len == 0) return 0;
  for (lua_Integer k = 1; sm->na && k <= (lua_Integer)lua_rawlen(sm->L, sm->na); k++) {
    size_t nl;
    lua_rawgeti(sm->L, sm->na, k);
    const char *na = lua_tolstring(sm->L, -1, &nl);
    int hit = na && nl == len && memcmp(na, s, len) == 0;
    lua_pop(sm->L, 1);
    if (hit) return 0; /* a null spelled as na_values says */
  }
  sm->kinds[col] |= (unsigned)csv_kind(s, len);
  sm->nonnull[col]++;
  return 0;
}

/* framecore.csv_sample(path, bytes, size, sep, quote, header) -> names,
 * inferred types, rows sampled */
static int f_csv_sample(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int64_t want = luaL_checkinteger(L, 2), size = luaL_checkinteger(L, 3);
  const char *sep = luaL_checkstring(L, 4), *quote = luaL_checkstring(L, 5);
  int header = lua_toboolean(L, 6);
  const char *codec = luaL_optstring(L, 7, NULL), *p;
  int64_t n;
  if (codec) {
    p = read_whole(L, path, codec, &size);
    n = want < size ? want : size;
  } else {
    n = want < size ? want : size;
    p = read_range(L, path, 0, n);
  }
  size_t len = (size_t)n;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, len -= 3; /* a BOM */
  lua_newtable(L);
  sample *sm = base_calloc(1, sizeof *sm);
  if (sm == NULL) nomem(L);
  sm->L = L;
  sm->names = lua_gettop(L);
  sm->na = lua_istable(L, 8) ? 8 : 0;
  sm->header = header;
  csv_error err;
  int64_t rows = csv_split(p, len, n == size, sep[0], quote[0], 1 << 30, 1, sample_field, sm, &err);
  if (rows < 0) {
    base_free(sm);
    return luaL_error(L, "read_csv: %s, line %I: %s", path, (lua_Integer)err.line, err.msg);
  }
  if (!header)
    for (int k = 0; k < sm->ncols; k++) {
      lua_pushfstring(L, "%d", k + 1);
      lua_rawseti(L, sm->names, k + 1);
    }
  lua_createtable(L, sm->ncols, 0);
  for (int k = 0; k < sm->ncols; k++) {
    lua_pushstring(L, fr_type_name(csv_infer(sm->kinds[k], sm->nonnull[k])));
    lua_rawseti(L, -2, k + 1);
  }
  base_free(sm);
  lua_pushinteger(L, rows - (header && rows > 0));
  return 3;
}

/* framecore.csv_scan(path, offset, length, size, quote) -> scan */
static int f_csv_scan(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer off = luaL_checkinteger(L, 2), n = luaL_checkinteger(L, 3), size = luaL_checkinteger(L, 4);
  const char *quote = luaL_checkstring(L, 5), *codec = luaL_optstring(L, 6, NULL);
  csv_scan sc;
  if (codec) {
    /* a compressed file: one block, the whole text; its size after the scan */
    int64_t whole;
    const char *text = read_whole(L, path, codec, &whole);
    csv_scan_block(text, (size_t)whole, 0, whole, text, 0, quote[0], &sc);
    char out[sizeof sc + sizeof whole];
    memcpy(out, &sc, sizeof sc);
    memcpy(out + sizeof sc, &whole, sizeof whole);
    lua_pushlstring(L, out, sizeof out);
    return 1;
  }
  int nprev = off >= 2 ? 2 : (int)off;
  char *text = read_range(L, path, off - nprev, n + nprev);
  csv_scan_block(text + nprev, (size_t)n, off, size, text, nprev, quote[0], &sc);
  if (rt_interrupt_pending()) return luaL_error(L, "interrupted");
  lua_pushlstring(L, (const char *)&sc, sizeof sc);
  return 1;
}

/* The ranges of a file's blocks from its scans: 'ats' the table at
 * 'idx', the scans at the stack slots from 'first'. */
static csv_range *resolve(lua_State *L, const char *path, int ats_idx, int64_t *sizep, int header,
                          int first, int *nb_out) {
  int64_t size = *sizep;
  int nb = (int)luaL_len(L, ats_idx);
  if (nb < 1 || lua_gettop(L) - first + 1 < nb) luaL_error(L, "read_csv: %d scans for %d blocks", lua_gettop(L) - first + 1, nb);
  csv_scan *scans = base_malloc((size_t)nb * sizeof *scans);
  int64_t *at = base_malloc((size_t)nb * sizeof *at);
  csv_range *r = base_malloc((size_t)nb * sizeof *r);
  if (!scans || !at || !r) {
    base_free(scans), base_free(at), base_free(r);
    nomem(L);
  }
  for (int k = 0; k < nb; k++) {
    size_t len;
    const char *s = lua_tolstring(L, first + k, &len);
    lua_geti(L, ats_idx, k + 1);
    at[k] = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (s == NULL || (len != sizeof *scans && !(nb == 1 && len == sizeof *scans + sizeof size))) {
      base_free(scans), base_free(at), base_free(r);
      luaL_error(L, "read_csv: a bad scan");
    }
    memcpy(&scans[k], s, sizeof *scans);
    if (len > sizeof *scans) memcpy(&size, s + sizeof *scans, sizeof size), *sizep = size; /* compressed */
  }
  int64_t line;
  int bad = csv_resolve(scans, at, nb, size, header, r, &line);
  base_free(scans);
  base_free(at);
  if (bad) {
    base_free(r);
    luaL_error(L, "read_csv: %s, line %I: a quoted field is not closed by the end of the file", path, (lua_Integer)line);
  }
  *nb_out = nb;
  return r;
}

/* framecore.csv_rows(path, ats, size, header, scan1, ...) -> data rows */
static int f_csv_rows(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int64_t size = luaL_checkinteger(L, 3);
  int nb;
  csv_range *r = resolve(L, path, 2, &size, lua_toboolean(L, 4), 5, &nb);
  int64_t rows = 0;
  for (int k = 0; k < nb; k++) rows += r[k].rows;
  base_free(r);
  lua_pushinteger(L, rows);
  return 1;
}

/* framecore.csv_parse(path, k, ats, size, opts, scan1, ...) -> the frame
 * of block k (1-based).  opts: {sep=, quote=, header=, names = {...},
 * types = {name or false, ...}, na = {...}, nulls = true}: with nulls,
 * the fields are checked, not kept, and the answer is the list of the
 * null counts of the columns read. */
static int f_csv_parse(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  int k = (int)luaL_checkinteger(L, 2) - 1;
  luaL_checktype(L, 3, LUA_TTABLE);
  int64_t size = luaL_checkinteger(L, 4);
  luaL_checktype(L, 5, LUA_TTABLE);
  lua_getfield(L, 5, "header");
  int header = lua_toboolean(L, -1);
  lua_pop(L, 1);
  int nb;
  csv_range *ranges = resolve(L, path, 3, &size, header, 6, &nb);
  if (k < 0 || k >= nb) {
    base_free(ranges);
    return luaL_error(L, "read_csv: block %d of %d", k + 1, nb);
  }
  csv_range r = ranges[k];
  base_free(ranges);
  csv_opts o = {.sep = opt_char(L, 5, "sep", ','), .quote = opt_char(L, 5, "quote", '"'), .quotes = r.quotes};
  lua_getfield(L, 5, "names");
  lua_getfield(L, 5, "types");
  lua_getfield(L, 5, "na");
  int names = lua_gettop(L) - 2, types = names + 1, na = names + 2;
  o.ncols = (int)luaL_len(L, names);
  o.nna = lua_istable(L, na) ? (int)luaL_len(L, na) : 0;
  if (o.ncols < 1 || o.ncols > FR_MAXCOLS || o.nna > 256) return luaL_error(L, "read_csv: bad options");
  int *tv = lua_newuserdatauv(L, sizeof(int) * (size_t)o.ncols, 0);
  const char **nv = lua_newuserdatauv(L, sizeof(char *) * (size_t)o.ncols, 0);
  const char **av = lua_newuserdatauv(L, sizeof(char *) * (size_t)(o.nna + 1), 0);
  for (int c = 0; c < o.ncols; c++) {
    lua_geti(L, names, c + 1);
    nv[c] = lua_tostring(L, -1); /* held by the names table */
    lua_pop(L, 1);
    lua_geti(L, types, c + 1);
    tv[c] = lua_isstring(L, -1) ? fr_type_of(lua_tostring(L, -1)) : -1;
    lua_pop(L, 1);
    if (nv[c] == NULL) return luaL_error(L, "read_csv: bad column names");
  }
  for (int c = 0; c < o.nna; c++) {
    lua_geti(L, na, c + 1);
    av[c] = lua_tostring(L, -1);
    lua_pop(L, 1);
    if (av[c] == NULL) return luaL_error(L, "read_csv: na_values must be strings");
  }
  o.types = tv;
  o.names = nv;
  o.na = av;
  lua_getfield(L, 5, "nulls");
  if (lua_toboolean(L, -1)) o.nulls = memset(lua_newuserdatauv(L, sizeof(int64_t) * (size_t)o.ncols, 0), 0, sizeof(int64_t) * (size_t)o.ncols);
  int64_t n = r.end - r.start;
  lua_getfield(L, 5, "codec");
  const char *codec = lua_tostring(L, -1), *p;
  if (codec) {
    int64_t whole;
    p = read_whole(L, path, codec, &whole) + r.start;
  } else {
    p = read_range(L, path, r.start, n);
  }
  if (r.start == 0 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3, n -= 3;
  frame f;
  csv_error err;
  int bad = csv_parse(p, (size_t)n, r.line, r.header, &o, r.rows + 1, &f, &err);
  if (bad) return luaL_error(L, "read_csv: %s, line %I: %s", path, (lua_Integer)err.line, err.msg);
  if (o.nulls) {
    lua_createtable(L, o.ncols, 0);
    for (int c = 0, j = 0; c < o.ncols; c++)
      if (tv[c] >= 0) {
        lua_pushinteger(L, o.nulls[c]);
        lua_rawseti(L, -2, ++j);
      }
    return 1;
  }
  lfr_push(L, &f, 0);
  return 1;
}

/* ---- frame operations ---- */

/* framecore.isnull(f, negate) -> bool columns (the index kept) */
static int f_isnull(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  int negate = lua_toboolean(L, 2);
  const frame *f = &b->f;
  frame out;
  if (frame_init(&out, f->ncols, f->nrows) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, b->series);
  box->f.nindex = f->nindex;
  for (int k = 0; k < f->ncols; k++) {
    if (k < f->nindex) {
      if (fr_col_ref(&box->f.cols[k], &f->cols[k], NULL) != 0) nomem(L);
      continue;
    }
    fr_builder bd;
    frb_init(&bd, FR_BOOL, f->nrows);
    for (int64_t i = 0; i < f->nrows; i++) frb_bool(&bd, fr_isnull(&f->cols[k], i) != negate);
    if (frb_finish(&bd, f->cols[k].name, &box->f.cols[k]) != 0) nomem(L);
  }
  return 1;
}

/* framecore.concat(f1, f2, ...) -> the rows of all, in order */
static int f_concat(lua_State *L) {
  int n = lua_gettop(L);
  if (n < 1) return luaL_error(L, "concat: no frames");
  lframe *first = lfr_check(L, 1);
  if (n == 1) return 1;
  const frame *f0 = &first->f;
  int64_t rows = 0;
  for (int i = 1; i <= n; i++) {
    const frame *f = &lfr_check(L, i)->f;
    if (f->ncols != f0->ncols) return luaL_error(L, "concat: frames of %d and %d columns", f0->ncols, f->ncols);
    for (int k = 0; k < f->ncols; k++)
      if (f->cols[k].type != f0->cols[k].type || strcmp(f->cols[k].name, f0->cols[k].name) != 0)
        return luaL_error(L, "concat: column %d differs (%s %s, %s %s)", k + 1, f0->cols[k].name,
                          fr_type_name(f0->cols[k].type), f->cols[k].name, fr_type_name(f->cols[k].type));
    rows += f->nrows;
  }
  frame out;
  if (frame_init(&out, f0->ncols, rows) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, first->series);
  box->f.nindex = f0->nindex;
  for (int k = 0; k < f0->ncols; k++) {
    fr_builder bd;
    frb_init(&bd, f0->cols[k].type, rows);
    for (int i = 1; i <= n; i++) {
      const frame *f = &((lframe *)lua_touserdata(L, i))->f;
      for (int64_t r = 0; r < f->nrows; r++) frb_from(&bd, &f->cols[k], r);
    }
    if (frb_finish(&bd, f0->cols[k].name, &box->f.cols[k]) != 0) nomem(L);
  }
  return 1;
}

/* A spec {keys = {...}, aggs = {{col =, op =, ddof =}, ...}} against the
 * frame 'f' (NULL: columns not looked up, for combine and finish). */
typedef struct gspec {
  fg_spec s;
  int keys[FR_MAXCOLS];
  fg_agg aggs[FR_MAXCOLS];
} gspec;

static void read_spec(lua_State *L, int t, const frame *f, gspec *g) {
  memset(g, 0, sizeof *g);
  lua_getfield(L, t, "keys");
  int nk = lua_istable(L, -1) ? (int)luaL_len(L, -1) : 0;
  lua_getfield(L, t, "aggs");
  int na = (int)luaL_len(L, -1);
  if (nk > FR_MAXCOLS || na > FR_MAXCOLS) luaL_error(L, "groupby: too many columns");
  for (int k = 0; k < nk; k++) {
    lua_geti(L, -2, k + 1);
    const char *name = lua_tostring(L, -1);
    int c = f && name ? frame_find(f, name) : k;
    if (c < 0) luaL_error(L, "groupby: no column '%s'", name);
    g->keys[k] = c;
    lua_pop(L, 1);
  }
  for (int a = 0; a < na; a++) {
    lua_geti(L, -1, a + 1);
    lua_getfield(L, -1, "col");
    lua_getfield(L, -2, "op");
    lua_getfield(L, -3, "ddof");
    const char *col = lua_tostring(L, -3), *op = lua_tostring(L, -2);
    int o = op ? fg_op_of(op) : -1;
    if (o < 0) luaL_error(L, "groupby: no aggregation '%s'", op ? op : "?");
    int c = f ? (col ? frame_find(f, col) : (f->ncols > f->nindex ? f->nindex : 0)) : 0;
    if (c < 0) luaL_error(L, "groupby: no column '%s'", col);
    g->aggs[a] = (fg_agg){.col = c, .op = o, .ddof = (int)luaL_optinteger(L, -1, 1)};
    lua_pop(L, 4);
  }
  lua_pop(L, 2);
  g->s = (fg_spec){.nkeys = nk, .keys = g->keys, .naggs = na, .aggs = g->aggs};
  lua_getfield(L, t, "keep_nulls");
  g->s.keep_nulls = lua_toboolean(L, -1);
  lua_getfield(L, t, "unsorted");
  g->s.unsorted = lua_toboolean(L, -1);
  lua_pop(L, 2);
}

/* framecore.group("partial", spec, f) / ("combine", spec, p1, ...) /
 * ("finish", spec, p, keynames, names) */
static int f_group(lua_State *L) {
  const char *stage = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  gspec *g = lua_newuserdatauv(L, sizeof *g, 0);
  int top = lua_gettop(L);
  char err[128];
  frame out;
  if (strcmp(stage, "partial") == 0) {
    lframe *in = lfr_check(L, 3);
    read_spec(L, 2, &in->f, g);
    for (int a = 0; a < g->s.naggs; a++)
      if (fg_op_takes(g->aggs[a].op, in->f.cols[g->aggs[a].col].type) != 0)
        return luaL_error(L, "%s of column '%s': not defined for %s", fg_op_name(g->aggs[a].op),
                          in->f.cols[g->aggs[a].col].name, fr_type_name(in->f.cols[g->aggs[a].col].type));
    if (fg_partial(&in->f, &g->s, &out, err) != 0) return luaL_error(L, "groupby: %s", err);
  } else if (strcmp(stage, "combine") == 0) {
    int n = top - 3;
    frame *parts = lua_newuserdatauv(L, sizeof *parts * (size_t)(n > 0 ? n : 1), 0);
    for (int i = 0; i < n; i++) parts[i] = lfr_check(L, 3 + i)->f; /* borrowed */
    read_spec(L, 2, NULL, g);
    if (fg_combine(parts, n, &g->s, &out, err) != 0) return luaL_error(L, "groupby: %s", err);
  } else if (strcmp(stage, "finish") == 0) {
    lframe *p = lfr_check(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    luaL_checktype(L, 5, LUA_TTABLE);
    read_spec(L, 2, NULL, g);
    const char **kn = lua_newuserdatauv(L, sizeof(char *) * (size_t)(g->s.nkeys + 1), 0);
    const char **an = lua_newuserdatauv(L, sizeof(char *) * (size_t)(g->s.naggs + 1), 0);
    for (int k = 0; k < g->s.nkeys; k++) {
      lua_geti(L, 4, k + 1);
      kn[k] = luaL_checkstring(L, -1);
      lua_pop(L, 1);
    }
    for (int a = 0; a < g->s.naggs; a++) {
      lua_geti(L, 5, a + 1);
      an[a] = luaL_checkstring(L, -1);
      lua_pop(L, 1);
    }
    if (fg_finish(&p->f, &g->s, kn, an, &out, err) != 0) return luaL_error(L, "groupby: %s", err);
  } else {
    return luaL_error(L, "group: no stage '%s'", stage);
  }
  lfr_push(L, &out, 0);
  return 1;
}

/* framecore.row_series(f, labels, name) -> a Series of the one row of f
 * (a reduction over whole columns), indexed by 'labels': int64 when
 * every value is, else float64. */
static int f_row_series(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  const frame *f = &b->f;
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *name = luaL_optstring(L, 3, "");
  int n = f->ncols - f->nindex, all_int = 1;
  if (f->nrows != 1) return luaL_error(L, "row_series: %I rows", (lua_Integer)f->nrows);
  for (int k = f->nindex; k < f->ncols; k++) all_int &= f->cols[k].type == FR_INT64;
  frame out;
  if (frame_init(&out, 2, n) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, 1);
  box->f.nindex = 1;
  fr_builder ix, v;
  frb_init(&ix, FR_STRING, n);
  frb_init(&v, all_int ? FR_INT64 : FR_FLOAT64, n);
  for (int k = 0; k < n; k++) {
    lua_geti(L, 2, k + 1);
    size_t len;
    const char *s = luaL_checklstring(L, -1, &len);
    frb_str(&ix, s, len);
    lua_pop(L, 1);
    const fr_col *c = &f->cols[f->nindex + k];
    if (fr_isnull(c, 0)) frb_null(&v);
    else if (all_int) frb_i64(&v, ((const int64_t *)c->values)[0]);
    else if (c->type == FR_FLOAT64) frb_f64(&v, ((const double *)c->values)[0]);
    else if (c->type == FR_BOOL) frb_f64(&v, ((const uint8_t *)c->values)[0]);
    else frb_f64(&v, (double)((const int64_t *)c->values)[0]);
  }
  if (frb_finish(&ix, "", &box->f.cols[0]) != 0 || frb_finish(&v, name, &box->f.cols[1]) != 0) nomem(L);
  return 1;
}

/* framecore.select(f, names[, series]) */
static int f_select(lua_State *L) {
  lfr_check(L, 1);
  lua_getfield(L, 1, "select");
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* framecore.as_series(f, nindex) -> f's last column as a Series over its
 * first nindex columns */
static int f_as_series(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  frame out;
  if (frame_copy(&out, &b->f) != 0) nomem(L);
  out.nindex = (int)luaL_optinteger(L, 2, b->f.nindex);
  if (out.nindex >= out.ncols) out.nindex = out.ncols - 1;
  lfr_push(L, &out, 1);
  return 1;
}

/* framecore.rename(f, {old = new}) */
static int f_rename(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  frame out;
  if (frame_init(&out, b->f.ncols, b->f.nrows) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, b->series);
  box->f.nindex = b->f.nindex;
  for (int k = 0; k < b->f.ncols; k++) {
    lua_getfield(L, 2, b->f.cols[k].name);
    const char *to = lua_tostring(L, -1);
    if (fr_col_ref(&box->f.cols[k], &b->f.cols[k], to) != 0) nomem(L);
    lua_pop(L, 1);
  }
  return 1;
}

/* ---- expressions ---- */

/* A column of one row holding the Lua value at 'idx' (a scalar operand). */
static void literal(lua_State *L, int idx, fr_col *out) {
  fr_builder b;
  int t = lua_type(L, idx);
  int type = t == LUA_TBOOLEAN ? FR_BOOL : t == LUA_TSTRING ? FR_STRING
             : lua_isinteger(L, idx) ? FR_INT64 : t == LUA_TNUMBER ? FR_FLOAT64 : -1;
  if (t == LUA_TNIL) type = FR_FLOAT64;
  if (type < 0) luaL_error(L, "a %s cannot be a Series operand", luaL_typename(L, idx));
  frb_init(&b, type, 1);
  if (t == LUA_TNIL) frb_null(&b);
  else if (type == FR_BOOL) frb_bool(&b, lua_toboolean(L, idx));
  else if (type == FR_INT64) frb_i64(&b, lua_tointeger(L, idx));
  else if (type == FR_FLOAT64) frb_f64(&b, lua_tonumber(L, idx));
  else {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    frb_str(&b, s, len);
  }
  if (frb_finish(&b, "", out) != 0) nomem(L);
}

/* A temporary column in a box (freed with it): pushed; returns it. */
static fr_col *col_box(lua_State *L) {
  lframe *box = lfr_push(L, &(frame){0}, 0);
  if (frame_init(&box->f, 1, 0) != 0) nomem(L);
  return &box->f.cols[0];
}

/* Evaluates the expression at 'idx' over 'f': pushes a box holding the
 * column, returns it.  {"col", name} {"lit", v} {"bin", op, a, b}
 * {"un", op, a} {"astype", type, a} {"isin", {values}, a} */
static fr_col *eval(lua_State *L, int idx, const frame *f) {
  idx = lua_absindex(L, idx);
  luaL_checkstack(L, 8, "expression too deep");
  lua_geti(L, idx, 1);
  const char *kind = luaL_checkstring(L, -1);
  lua_pop(L, 1);
  char err[128];
  if (strcmp(kind, "col") == 0) {
    lua_geti(L, idx, 2);
    const char *name = luaL_checkstring(L, -1);
    int k = frame_find(f, name);
    if (k < 0) luaL_error(L, "no column '%s'", name);
    lua_pop(L, 1);
    fr_col *c = col_box(L);
    if (fr_col_ref(c, &f->cols[k], NULL) != 0) nomem(L);
    return c;
  }
  if (strcmp(kind, "lit") == 0) {
    lua_geti(L, idx, 2);
    fr_col tmp;
    literal(L, -1, &tmp);
    lua_pop(L, 1);
    fr_col *c = col_box(L);
    *c = tmp;
    return c;
  }
  if (strcmp(kind, "bin") == 0) {
    lua_geti(L, idx, 2);
    int op = fx_binop_of(luaL_checkstring(L, -1));
    lua_pop(L, 1);
    lua_geti(L, idx, 3);
    fr_col *a = eval(L, -1, f);
    lua_geti(L, idx, 4);
    fr_col *b = eval(L, -1, f);
    /* a datetime against a string: the string read as a datetime */
    fr_col conv;
    if ((a->type == FR_DATETIME) != (b->type == FR_DATETIME) && (a->type == FR_STRING || b->type == FR_STRING)) {
      fr_col *s = a->type == FR_STRING ? a : b;
      if (fx_astype(s, FR_DATETIME, "", &conv, err) != 0) luaL_error(L, "%s", err);
      fr_col_free(s);
      *s = conv;
    }
    fr_col *c = col_box(L);
    if (fx_binary(op, a, b, "", c, err) != 0) luaL_error(L, "%s", err);
    lua_replace(L, -5); /* the result box where the first operand's was */
    lua_pop(L, 3);
    return c;
  }
  if (strcmp(kind, "un") == 0) {
    lua_geti(L, idx, 2);
    int op = fx_unop_of(luaL_checkstring(L, -1));
    lua_pop(L, 1);
    lua_geti(L, idx, 3);
    fr_col *a = eval(L, -1, f);
    fr_col *c = col_box(L);
    if (fx_unary(op, a, "", c, err) != 0) luaL_error(L, "%s", err);
    lua_replace(L, -3);
    lua_pop(L, 1);
    return c;
  }
  if (strcmp(kind, "astype") == 0 || strcmp(kind, "isin") == 0) {
    int astype = kind[0] == 'a';
    lua_geti(L, idx, 3);
    fr_col *a = eval(L, -1, f);
    fr_col *c = col_box(L);
    lua_geti(L, idx, 2);
    if (astype) {
      int type = fr_type_of(luaL_checkstring(L, -1));
      if (type < 0) luaL_error(L, "astype: no dtype '%s'", lua_tostring(L, -1));
      if (fx_astype(a, type, "", c, err) != 0) luaL_error(L, "%s", err);
    } else {
      /* the values as a column of a's type */
      int n = (int)luaL_len(L, -1);
      fr_builder b;
      frb_init(&b, a->type, n);
      for (int i = 1; i <= n; i++) {
        lua_geti(L, -1, i);
        fr_col one;
        literal(L, -1, &one);
        lua_pop(L, 1);
        if (one.type == a->type || (one.type != FR_STRING && a->type != FR_STRING && a->type != FR_BOOL && one.type != FR_BOOL)) {
          if (a->type == FR_FLOAT64 && one.type == FR_INT64) frb_f64(&b, (double)((const int64_t *)one.values)[0]);
          else if (a->type != FR_FLOAT64 && one.type == FR_FLOAT64) { double d = ((const double *)one.values)[0]; if (d == (double)(int64_t)d) frb_i64(&b, (int64_t)d); }
          else frb_from(&b, &one, 0);
        }
        fr_col_free(&one);
      }
      fr_col set;
      if (frb_finish(&b, "", &set) != 0) nomem(L);
      int bad = fx_isin(a, &set, "", c, err);
      fr_col_free(&set);
      if (bad) luaL_error(L, "%s", err);
    }
    lua_pop(L, 1);
    lua_replace(L, -3);
    lua_pop(L, 1);
    return c;
  }
  luaL_error(L, "no expression '%s'", kind);
  return NULL;
}

/* framecore.assign(f, name, expr | frame) -> f with the column 'name'
 * (replaced where it was, else appended): the expression's, or the first
 * column of the frame given */
static int f_assign(lua_State *L) {
  lframe *in = lfr_check(L, 1);
  const char *name = luaL_checkstring(L, 2);
  fr_col *c;
  if (luaL_testudata(L, 3, LFR_CLASS)) {
    lframe *src = lfr_check(L, 3);
    if (src->f.ncols < 1 || src->f.nrows != in->f.nrows) return luaL_error(L, "assign: a column of another length");
    c = col_box(L);
    if (fr_col_ref(c, &src->f.cols[0], NULL) != 0) nomem(L);
  } else {
    luaL_checktype(L, 3, LUA_TTABLE);
    c = eval(L, 3, &in->f);
  }
  if (c->n != in->f.nrows) {
    /* a scalar: broadcast to every row */
    fr_builder b;
    frb_init(&b, c->type, in->f.nrows);
    for (int64_t i = 0; i < in->f.nrows; i++) frb_from(&b, c, 0);
    fr_col_free(c);
    if (frb_finish(&b, "", c) != 0) nomem(L);
  }
  int k = frame_find(&in->f, name), n = in->f.ncols + (k < 0);
  frame out;
  if (frame_init(&out, n, in->f.nrows) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, 0);
  box->f.nindex = in->f.nindex;
  for (int j = 0; j < in->f.ncols; j++)
    if (fr_col_ref(&box->f.cols[j], j == k ? c : &in->f.cols[j], j == k ? name : NULL) != 0) nomem(L);
  if (k < 0 && fr_col_ref(&box->f.cols[n - 1], c, name) != 0) nomem(L);
  return 1;
}

/* framecore.filter(f, expr) -> the rows where expr is true */
static int f_filter(lua_State *L) {
  lframe *in = lfr_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  fr_col *m = eval(L, 2, &in->f);
  frame out;
  char err[128];
  if (fx_filter(&in->f, m, &out, err) != 0) return luaL_error(L, "%s", err);
  lfr_push(L, &out, in->series);
  return 1;
}

/* ---- order and joins ---- */

/* The columns named in the list at 'idx' of 'f'. */
static int name_list(lua_State *L, int idx, const frame *f, int *cols, const char *what) {
  int n = (int)luaL_len(L, idx);
  if (n > FR_MAXCOLS) luaL_error(L, "%s: too many columns", what);
  for (int k = 0; k < n; k++) {
    lua_geti(L, idx, k + 1);
    const char *name = luaL_checkstring(L, -1);
    cols[k] = frame_find(f, name);
    if (cols[k] < 0) luaL_error(L, "%s: no column '%s'", what, name);
    lua_pop(L, 1);
  }
  return n;
}

/* framecore.sort(f, cols, ascending[, n]) -> the rows sorted (the first n) */
static int f_sort(lua_State *L) {
  lua_settop(L, 4);
  lframe *in = lfr_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int *cols = lua_newuserdatauv(L, sizeof(int) * 2 * FR_MAXCOLS, 0), *asc = cols + FR_MAXCOLS;
  int n = name_list(L, 2, &in->f, cols, "sort_values");
  /* ascending: one boolean for all the columns, or a list of them */
  int all = lua_type(L, 3) == LUA_TBOOLEAN ? lua_toboolean(L, 3) : 1;
  for (int k = 0; k < n; k++) {
    asc[k] = all;
    if (lua_istable(L, 3)) {
      lua_geti(L, 3, k + 1);
      asc[k] = lua_isnil(L, -1) || lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
  }
  int64_t rows = in->f.nrows, take = luaL_optinteger(L, 4, rows);
  if (take > rows) take = rows;
  if (take < 0) take = 0;
  int64_t *order = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(rows ? rows : 1), 0);
  if (fs_order(&in->f, cols, asc, n, order) != 0) nomem(L);
  frame out;
  if (fs_take(&in->f, order, take, &out) != 0) nomem(L);
  lfr_push(L, &out, in->series);
  return 1;
}

/* framecore.merge(left, right, lkeys, rkeys, how, coalesce) -> the join:
 * the keys once (from whichever side has the row) when 'coalesce', then
 * the other columns of the left and of the right, "_x" and "_y" after
 * names both have. */
static int f_merge(lua_State *L) {
  lua_settop(L, 6);
  lframe *lb = lfr_check(L, 1), *rb = lfr_check(L, 2);
  const frame *l = &lb->f, *r = &rb->f;
  int *lk = lua_newuserdatauv(L, sizeof(int) * 2 * FR_MAXCOLS, 0), *rk = lk + FR_MAXCOLS;
  int nk = name_list(L, 3, l, lk, "merge");
  if (name_list(L, 4, r, rk, "merge") != nk) return luaL_error(L, "merge: left_on and right_on differ in length");
  static const char *const hows[] = {"inner", "left", "right", "outer", NULL};
  int how = luaL_checkoption(L, 5, "inner", hows), coalesce = lua_toboolean(L, 6);
  int64_t *li, *ri, n;
  char err[128];
  if (fj_pairs(l, lk, r, rk, nk, how, &li, &ri, &n, err) != 0) return luaL_error(L, "%s", err);
  /* the pairs in userdata, so an error below frees them */
  int64_t *keep = lua_newuserdatauv(L, sizeof(int64_t) * 2 * (size_t)(n ? n : 1), 0);
  memcpy(keep, li, sizeof(int64_t) * (size_t)n);
  memcpy(keep + n, ri, sizeof(int64_t) * (size_t)n);
  base_free(li);
  base_free(ri);
  li = keep, ri = keep + n;
  uint8_t *lkey = lua_newuserdatauv(L, (size_t)l->ncols + (size_t)r->ncols + 2, 0), *rkey = lkey + l->ncols + 1;
  memset(lkey, 0, (size_t)l->ncols + (size_t)r->ncols + 2);
  for (int k = 0; k < nk && coalesce; k++) lkey[lk[k]] = 1, rkey[rk[k]] = 1;
  int ncols = l->ncols + r->ncols - (coalesce ? nk : 0);
  frame out;
  if (frame_init(&out, ncols, n) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, 0);
  int j = 0;
  char name[FR_MAXNAME + 3];
  for (int side = 0; side < 2; side++) {
    const frame *f = side ? r : l, *other = side ? l : r;
    const int64_t *rows = side ? ri : li;
    for (int c = 0; c < f->ncols; c++) {
      if (side && rkey[c]) continue;
      const fr_col *col = &f->cols[c];
      int keyed = !side && lkey[c];
      const fr_col *alt = NULL;
      if (keyed)
        for (int k = 0; k < nk; k++)
          if (lk[k] == c) alt = &r->cols[rk[k]];
      int type = col->type;
      if (alt && alt->type != type) type = FR_FLOAT64;
      fr_builder b;
      frb_init(&b, type, n);
      for (int64_t i = 0; i < n; i++) {
        const fr_col *src = col;
        int64_t row = rows[i];
        if (row < 0 && alt) src = alt, row = ri[i];
        if (row < 0 || fr_isnull(src, row)) frb_null(&b);
        else if (type == FR_FLOAT64 && src->type != FR_FLOAT64)
          frb_f64(&b, src->type == FR_BOOL ? ((const uint8_t *)src->values)[row] : (double)((const int64_t *)src->values)[row]);
        else frb_from(&b, src, row);
      }
      /* a name both sides have (and not a shared key) gets a suffix */
      int clash = 0;
      if (!keyed)
        for (int o = 0; o < other->ncols; o++)
          if (!(side ? lkey[o] : rkey[o]) && strcmp(other->cols[o].name, col->name) == 0) clash = 1;
      snprintf(name, sizeof name, "%s%s", col->name, clash ? (side ? "_y" : "_x") : "");
      if (frb_finish(&b, name, &box->f.cols[j++]) != 0) nomem(L);
    }
  }
  return 1;
}

/* framecore.hash_split(f, keys, n) -> n frames: the rows of each key
 * hash bucket (a shuffle's first half) */
static int f_hash_split(lua_State *L) {
  lua_settop(L, 3);
  lframe *in = lfr_check(L, 1);
  int *cols = lua_newuserdatauv(L, sizeof(int) * FR_MAXCOLS, 0);
  int nk = name_list(L, 2, &in->f, cols, "shuffle");
  lua_Integer parts = luaL_checkinteger(L, 3);
  if (parts < 1 || parts > 1 << 20) return luaL_error(L, "shuffle: %I partitions", parts);
  int64_t rows = in->f.nrows;
  int64_t *bucket = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(rows ? rows : 1), 0);
  int64_t *order = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(rows ? rows : 1), 0);
  int64_t *count = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(parts + 1), 0);
  memset(count, 0, sizeof(int64_t) * (size_t)(parts + 1));
  for (int64_t i = 0; i < rows; i++) {
    uint64_t h = 0x9e3779b97f4a7c15u;
    for (int k = 0; k < nk; k++) h = fr_mix(h ^ fr_hash_value(&in->f.cols[cols[k]], i)) + (uint64_t)k;
    bucket[i] = (int64_t)(h % (uint64_t)parts);
    count[bucket[i] + 1]++;
  }
  for (lua_Integer p = 0; p < parts; p++) count[p + 1] += count[p];
  int64_t *fill = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(parts + 1), 0);
  memcpy(fill, count, sizeof(int64_t) * (size_t)(parts + 1));
  for (int64_t i = 0; i < rows; i++) order[fill[bucket[i]]++] = i;
  lua_createtable(L, (int)parts, 0);
  for (lua_Integer p = 0; p < parts; p++) {
    frame out;
    if (fs_take(&in->f, order + count[p], count[p + 1] - count[p], &out) != 0) nomem(L);
    lfr_push(L, &out, 0);
    lua_rawseti(L, -2, p + 1);
  }
  return 1;
}

/* framecore.range_split(f, col, bounds, ascending) -> #bounds + 1 frames:
 * the rows of each range of col's values (nulls in the last) */
static int f_range_split(lua_State *L) {
  lua_settop(L, 4);
  lframe *in = lfr_check(L, 1), *bounds = lfr_check(L, 3);
  int c = frame_find(&in->f, luaL_checkstring(L, 2));
  if (c < 0) return luaL_error(L, "sort_values: no column '%s'", lua_tostring(L, 2));
  int asc = lua_toboolean(L, 4);
  const fr_col *col = &in->f.cols[c], *b = &bounds->f.cols[0];
  int64_t rows = in->f.nrows, nb = b->n, parts = nb + 1;
  int64_t *which = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(rows ? rows : 1), 0);
  int64_t *order = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(rows ? rows : 1), 0);
  int64_t *count = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(parts + 1), 0);
  memset(count, 0, sizeof(int64_t) * (size_t)(parts + 1));
  for (int64_t i = 0; i < rows; i++) {
    int64_t lo = 0, hi = nb; /* the first bound the value sorts before */
    if (fr_isnull(col, i)) lo = nb;
    else
      while (lo < hi) {
        int64_t mid = (lo + hi) / 2;
        int r = fs_compare(col, i, b, mid);
        if (!asc) r = -r;
        if (r < 0) hi = mid;
        else lo = mid + 1;
      }
    which[i] = lo;
    count[lo + 1]++;
  }
  for (int64_t p = 0; p < parts; p++) count[p + 1] += count[p];
  int64_t *fill = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(parts + 1), 0);
  memcpy(fill, count, sizeof(int64_t) * (size_t)(parts + 1));
  for (int64_t i = 0; i < rows; i++) order[fill[which[i]]++] = i;
  lua_createtable(L, (int)parts, 0);
  for (int64_t p = 0; p < parts; p++) {
    frame out;
    if (fs_take(&in->f, order + count[p], count[p + 1] - count[p], &out) != 0) nomem(L);
    lfr_push(L, &out, in->series);
    lua_rawseti(L, -2, (lua_Integer)p + 1);
  }
  return 1;
}

/* framecore.with_index(f, names) -> f with the columns 'names' first,
 * as its index */
static int f_with_index(lua_State *L) {
  lua_settop(L, 2);
  lframe *in = lfr_check(L, 1);
  const frame *f = &in->f;
  int *cols = lua_newuserdatauv(L, sizeof(int) * FR_MAXCOLS, 0);
  int n = name_list(L, 2, f, cols, "set_index");
  frame out;
  if (frame_init(&out, f->ncols, f->nrows) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, 0);
  box->f.nindex = n;
  int j = 0;
  for (int k = 0; k < n; k++)
    if (fr_col_ref(&box->f.cols[j++], &f->cols[cols[k]], NULL) != 0) nomem(L);
  for (int c = f->nindex; c < f->ncols; c++) {
    int chosen = 0;
    for (int k = 0; k < n; k++) chosen |= cols[k] == c;
    if (!chosen && fr_col_ref(&box->f.cols[j++], &f->cols[c], NULL) != 0) nomem(L);
  }
  box->f.ncols = j;
  return 1;
}

/* A CSV field: quoted when it holds the separator, a quote, a newline
 * or a carriage return (quotes doubled), as pandas' to_csv. */
static void put_field(luaL_Buffer *b, const char *s, size_t len, char sep) {
  int quote = 0;
  for (size_t i = 0; i < len && !quote; i++) quote = s[i] == sep || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
  if (len == 0) quote = 0;
  if (!quote) {
    luaL_addlstring(b, s, len);
    return;
  }
  luaL_addchar(b, '"');
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '"') luaL_addchar(b, '"');
    luaL_addchar(b, s[i]);
  }
  luaL_addchar(b, '"');
}

/* The shortest decimal that reads back as 'v' (what pandas writes). */
static int shortest(char *out, size_t size, double v) {
  int len = 0;
  for (int digits = 15; digits <= 17; digits++) {
    len = snprintf(out, size, "%.*g", digits, v);
    if (strtod(out, NULL) == v) break;
  }
  return len;
}

/* framecore.csv_text(f, sep, header) -> the frame as CSV text */
static int f_csv_text(lua_State *L) {
  lframe *in = lfr_check(L, 1);
  const frame *f = &in->f;
  const char *sep = luaL_optstring(L, 2, ",");
  int header = lua_isnone(L, 3) || lua_toboolean(L, 3);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char num[64];
  if (header) {
    for (int k = 0; k < f->ncols; k++) {
      if (k) luaL_addchar(&b, sep[0]);
      put_field(&b, f->cols[k].name, strlen(f->cols[k].name), sep[0]);
    }
    luaL_addchar(&b, '\n');
  }
  for (int64_t i = 0; i < f->nrows; i++) {
    for (int k = 0; k < f->ncols; k++) {
      const fr_col *c = &f->cols[k];
      if (k) luaL_addchar(&b, sep[0]);
      if (fr_isnull(c, i)) continue;
      switch (c->type) {
      case FR_STRING: {
        size_t len;
        const char *s = fr_str(c, i, &len);
        put_field(&b, s, len, sep[0]);
        break;
      }
      case FR_FLOAT64: {
        double v = ((const double *)c->values)[i];
        int len = isinf(v) ? snprintf(num, sizeof num, "%s", v > 0 ? "inf" : "-inf") : shortest(num, sizeof num, v);
        /* an integral float keeps its ".0", as pandas writes 2.0 */
        if (isfinite(v) && strspn(num, "-0123456789") == (size_t)len) len += snprintf(num + len, sizeof num - (size_t)len, ".0");
        luaL_addlstring(&b, num, (size_t)len);
        break;
      }
      case FR_BOOL: luaL_addstring(&b, ((const uint8_t *)c->values)[i] ? "True" : "False"); break;
      case FR_DATETIME: {
        int64_t ns = ((const int64_t *)c->values)[i], secs = ns / 1000000000, frac = ns % 1000000000;
        if (frac < 0) frac += 1000000000, secs--;
        int64_t days = secs / 86400, rem = secs % 86400;
        if (rem < 0) rem += 86400, days--;
        /* civil_from_days (Hinnant) */
        int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned)(z - era * 146097), yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = (int64_t)yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
        y += m <= 2;
        int len = snprintf(num, sizeof num, "%04lld-%02u-%02u %02d:%02d:%02d", (long long)y, m, d,
                           (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
        if (frac) len += snprintf(num + len, sizeof num - (size_t)len, ".%09lld", (long long)frac);
        luaL_addlstring(&b, num, (size_t)len);
        break;
      }
      default:
        luaL_addlstring(&b, num, (size_t)snprintf(num, sizeof num, "%lld", (long long)((const int64_t *)c->values)[i]));
      }
    }
    luaL_addchar(&b, '\n');
  }
  luaL_pushresult(&b);
  return 1;
}

/* ---- dusk's binary frames ---- */

#define BIN_MAGIC "DUSKDF01"

/* framecore.write_binary(f, path): the frame as its columns' buffer
 * frames (data/buffer.h: zstd when large, a checksum each) after an
 * index of their lengths, so a read decodes only the columns it wants;
 * written under a temporary name, then renamed. */
static int f_write_binary(lua_State *L) {
  lframe *in = lfr_check(L, 1);
  const char *path = luaL_checkstring(L, 2);
  const frame *f = &in->f;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, BIN_MAGIC, 8);
  uint32_t n = (uint32_t)f->ncols;
  luaL_addlstring(&b, (const char *)&n, 4);
  serial_buf *frames = lua_newuserdatauv(L, sizeof *frames * (size_t)(n ? n : 1), 0);
  memset(frames, 0, sizeof *frames * (size_t)(n ? n : 1));
  int bad = 0;
  for (uint32_t k = 0; k < n && !bad; k++) {
    frame one = {.nrows = f->nrows, .ncols = 1, .cols = &f->cols[k]};
    buf *packed;
    serial_buf_init(&frames[k], NULL, NULL);
    if (frame_pack(&one, &packed) != 0) bad = 1;
    else {
      bad = buf_encode(packed, SERIAL_COMPRESS, &frames[k]) != 0;
      buf_decref(packed);
    }
  }
  for (uint32_t k = 0; k < n && !bad; k++) {
    uint64_t len = frames[k].len;
    luaL_addlstring(&b, (const char *)&len, 8);
  }
  for (uint32_t k = 0; k < n; k++) {
    if (!bad) luaL_addlstring(&b, (const char *)frames[k].p, frames[k].len);
    serial_buf_free(&frames[k]);
  }
  if (bad) nomem(L);
  luaL_pushresult(&b);
  size_t len;
  const char *data = lua_tolstring(L, -1, &len);
  lua_pushfstring(L, "%s.tmp-%p", path, (void *)data);
  const char *tmp = lua_tostring(L, -1);
  FILE *out = fopen(tmp, "wb");
  if (out == NULL) return luaL_error(L, "to_binary: %s: %s", tmp, strerror(errno));
  int ok = fwrite(data, 1, len, out) == len;
  ok = fclose(out) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    int e = errno;
    remove(tmp);
    return luaL_error(L, "to_binary: %s: %s", path, strerror(e));
  }
  return 0;
}

/* framecore.read_binary(path[, names]) -> the frame (only the columns
 * named, in their order, when given) */
static int f_read_binary(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  FILE *in = fopen(path, "rb");
  if (in == NULL) return luaL_error(L, "read_binary: %s: %s", path, strerror(errno));
  char head[12];
  uint32_t n = 0;
  if (fread(head, 1, 12, in) != 12 || memcmp(head, BIN_MAGIC, 8) != 0) {
    fclose(in);
    return luaL_error(L, "read_binary: %s: not a dusk frame file", path);
  }
  memcpy(&n, head + 8, 4);
  if (n > FR_MAXCOLS) {
    fclose(in);
    return luaL_error(L, "read_binary: %s: a bad column count", path);
  }
  uint64_t *lens = lua_newuserdatauv(L, sizeof *lens * (n + 1), 0);
  if (n && fread(lens, 8, n, in) != n) {
    fclose(in);
    return luaL_error(L, "read_binary: %s: truncated", path);
  }
  frame out;
  if (frame_init(&out, 0, 0) != 0) nomem(L);
  lframe *box = lfr_push(L, &out, 0);
  fr_col *cols = base_calloc(n + 1, sizeof *cols);
  if (cols == NULL) nomem(L);
  base_free(box->f.cols);
  box->f.cols = cols;
  int want_all = !lua_istable(L, 2);
  int64_t rows = -1;
  for (uint32_t k = 0; k < n; k++) {
    if (lens[k] > BUF_MAXSIZE) {
      fclose(in);
      return luaL_error(L, "read_binary: %s: a bad column length", path);
    }
    char *p = scratch_get(L, (size_t)lens[k] + 1);
    if (fread(p, 1, (size_t)lens[k], in) != lens[k]) {
      fclose(in);
      return luaL_error(L, "read_binary: %s: truncated", path);
    }
    buf *b;
    const char *why;
    frame one;
    if (buf_decode(p, (size_t)lens[k], &b, &why) != 0) {
      fclose(in);
      return luaL_error(L, "read_binary: %s: column %d: %s", path, (int)k + 1, why);
    }
    int bad = frame_unpack(b, &one, &why);
    buf_decref(b);
    if (bad || one.ncols != 1 || (rows >= 0 && one.nrows != rows)) {
      if (!bad) frame_free(&one);
      fclose(in);
      return luaL_error(L, "read_binary: %s: column %d: %s", path, (int)k + 1, bad ? why : "a bad column");
    }
    rows = one.nrows;
    box->f.cols[box->f.ncols++] = one.cols[0];
    memset(&one.cols[0], 0, sizeof one.cols[0]);
    frame_free(&one);
  }
  fclose(in);
  box->f.nrows = rows < 0 ? 0 : rows;
  if (!want_all) {
    lua_getfield(L, -1, "select");
    lua_pushvalue(L, -2);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
  }
  return 1;
}

static const luaL_Reg functions[] = {
  {"from_columns", f_from_columns}, {"csv_sample", f_csv_sample}, {"csv_scan", f_csv_scan},
  {"csv_rows", f_csv_rows}, {"csv_parse", f_csv_parse}, {"isnull", f_isnull},
  {"concat", f_concat}, {"group", f_group}, {"row_series", f_row_series},
  {"select", f_select}, {"as_series", f_as_series}, {"rename", f_rename}, {"assign", f_assign},
  {"filter", f_filter}, {"sort", f_sort}, {"merge", f_merge}, {"hash_split", f_hash_split},
  {"range_split", f_range_split}, {"with_index", f_with_index}, {"csv_text", f_csv_text},
  {"write_binary", f_write_binary}, {"read_binary", f_read_binary}, {NULL, NULL}};

int luaopen_dusk_framecore(lua_State *L) {
  lframe_open(L);
  luaL_newlib(L, functions);
  return 1;
}
