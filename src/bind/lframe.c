/*
 * lframe: "dusk.frame" and "dusk.framecore" (see lframe.h).
 *
 *   #f  f.columns  f.dtypes  f.index  f:value(row, col)  f:to_table()
 *   f:get(...)  f:select(names)  f:rows(first, last)  tostring(f)
 *   f.<column> -> the Series of that column (with the frame's index)
 *
 *   framecore.from_columns(names, types, columns, nrows) -> frame
 *   framecore.csv_sample(path, bytes, sep, quote) -> names, types, rows
 *   framecore.csv_scan(path, offset, length, size, quote) -> scan
 *   framecore.csv_rows(ats, size, header, scans) -> data rows of a file
 *   framecore.csv_parse(path, k, ats, size, opts, scans) -> block k's frame
 *   framecore.select(f, names[, series]) / isnull(f, negate) / concat(...)
 *   framecore.group(stage, spec, ...) -> partial / combined / answer
 *
 * Rows and columns are 1-based, as everything users see.  A scan is a
 * string holding a csv_scan as bytes (it goes only between tasks of one
 * binary, which the cluster's handshake checks).
 */
#include "bind/lframe.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "bind/lclass.h"
#include "data/value.h"
#include "frame/csv.h"
#include "frame/fgroup.h"
#include "serial/serial.h"

/* ---- the class ---- */

static int fr_close(lua_State *L) {
  lframe *b = luaL_checkudata(L, 1, LFR_CLASS);
  if (b->open) frame_free(&b->f);
  b->open = 0;
  return 0;
}

lframe *lfr_check(lua_State *L, int idx) {
  lframe *b = luaL_checkudata(L, idx, LFR_CLASS);
  luaL_argcheck(L, b->open, idx, "a closed frame");
  return b;
}

static void open_class(lua_State *L);

lframe *lfr_push(lua_State *L, frame *f, int series) {
  if (luaL_getmetatable(L, LFR_CLASS) != LUA_TTABLE) open_class(L);
  lua_pop(L, 1);
  lframe *b = lclass_box(L, LFR_CLASS, sizeof *b, 0);
  b->f = *f;
  b->open = 1;
  b->series = series;
  b->f.series = series;
  memset(f, 0, sizeof *f);
  return b;
}

static void nomem(lua_State *L) { luaL_error(L, "not enough memory for a frame"); }

static int col_arg(lua_State *L, const frame *f, int idx) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_Integer k = luaL_checkinteger(L, idx);
    if (k < 1 || k > f->ncols) luaL_error(L, "column %I out of range (1 to %d)", k, f->ncols);
    return (int)k - 1;
  }
  const char *name = luaL_checkstring(L, idx);
  int k = frame_find(f, name);
  if (k < 0) luaL_error(L, "no column '%s'", name);
  return k;
}

/* Pushes row i of column c: nil for a null (NaN for floats). */
static void push_value(lua_State *L, const fr_col *c, int64_t i) {
  if (c->type != FR_FLOAT64 && fr_isnull(c, i)) {
    lua_pushnil(L);
    return;
  }
  switch (c->type) {
  case FR_FLOAT64: lua_pushnumber(L, ((const double *)c->values)[i]); break;
  case FR_BOOL: lua_pushboolean(L, ((const uint8_t *)c->values)[i]); break;
  case FR_STRING: {
    size_t len;
    const char *s = fr_str(c, i, &len);
    lua_pushlstring(L, s, len);
    break;
  }
  default: lua_pushinteger(L, ((const int64_t *)c->values)[i]); break;
  }
}

static int m_len(lua_State *L) {
  lua_pushinteger(L, lfr_check(L, 1)->f.nrows);
  return 1;
}

/* f:value(row, col) -> the value (nil or NaN for a null) */
static int m_value(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  int k = col_arg(L, &b->f, 3);
  if (i < 1 || i > b->f.nrows) return luaL_error(L, "row %I out of range (1 to %I)", i, (lua_Integer)b->f.nrows);
  push_value(L, &b->f.cols[k], i - 1);
  return 1;
}

/* f:isnull(row, col) -> whether that cell is a null */
static int m_isnull(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2);
  int k = col_arg(L, &b->f, 3);
  if (i < 1 || i > b->f.nrows) return luaL_error(L, "row %I out of range", i);
  lua_pushboolean(L, fr_isnull(&b->f.cols[k], i - 1));
  return 1;
}

static void push_list(lua_State *L, const fr_col *c, int64_t n) {
  lua_createtable(L, n > INT32_MAX ? INT32_MAX : (int)n, 0);
  for (int64_t i = 0; i < n; i++) {
    push_value(L, c, i);
    lua_rawseti(L, -2, i + 1);
  }
}

/* The label of row i: the index's value (a table of them for several). */
static void push_label(lua_State *L, const frame *f, int64_t i) {
  if (f->nindex == 1) {
    push_value(L, &f->cols[0], i);
    return;
  }
  lua_createtable(L, f->nindex, 0);
  for (int k = 0; k < f->nindex; k++) {
    push_value(L, &f->cols[k], i);
    lua_rawseti(L, -2, k + 1);
  }
}

/* f:to_table() -> {col = {...}} (index columns too); a Series: {label =
 * value} when indexed by one column, else a list. */
static int m_to_table(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  const frame *f = &b->f;
  if (b->series) {
    const fr_col *c = &f->cols[f->ncols - 1];
    if (f->nindex != 1) {
      push_list(L, c, f->nrows);
      return 1;
    }
    lua_createtable(L, 0, (int)(f->nrows > INT32_MAX ? INT32_MAX : f->nrows));
    for (int64_t i = 0; i < f->nrows; i++) {
      push_label(L, f, i);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        continue;
      }
      push_value(L, c, i);
      lua_rawset(L, -3);
    }
    return 1;
  }
  lua_createtable(L, 0, f->ncols);
  for (int k = 0; k < f->ncols; k++) {
    push_list(L, &f->cols[k], f->nrows);
    lua_setfield(L, -2, f->cols[k].name);
  }
  return 1;
}

/* s:get(label_or_position): a Series' value; f:get(row, col) a frame's. */
static int m_get(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  const frame *f = &b->f;
  if (!b->series) return m_value(L);
  const fr_col *c = &f->cols[f->ncols - 1];
  if (f->nindex == 1) {
    const fr_col *ix = &f->cols[0];
    for (int64_t i = 0; i < f->nrows; i++) {
      push_value(L, ix, i);
      int eq = lua_compare(L, -1, 2, LUA_OPEQ);
      lua_pop(L, 1);
      if (eq) {
        push_value(L, c, i);
        return 1;
      }
    }
    if (lua_type(L, 2) != LUA_TNUMBER || ix->type == FR_INT64 || ix->type == FR_FLOAT64) {
      lua_pushnil(L);
      return 1;
    }
  }
  lua_Integer i = luaL_checkinteger(L, 2);
  if (i < 1 || i > f->nrows) return luaL_error(L, "position %I out of range (1 to %I)", i, (lua_Integer)f->nrows);
  push_value(L, c, i - 1);
  return 1;
}

/* A frame of the columns at 'cols' (and the index), or raises. */
static void push_selected(lua_State *L, const frame *f, const int *cols, int n, int series, int index) {
  frame out;
  int nindex = index ? f->nindex : 0;
  if (frame_init(&out, nindex + n, f->nrows) != 0) nomem(L);
  out.nindex = nindex;
  int ok = 1;
  for (int k = 0; k < nindex && ok; k++) ok = fr_col_ref(&out.cols[k], &f->cols[k], NULL) == 0;
  for (int k = 0; k < n && ok; k++) ok = fr_col_ref(&out.cols[nindex + k], &f->cols[cols[k]], NULL) == 0;
  if (!ok) {
    frame_free(&out);
    nomem(L);
  }
  lfr_push(L, &out, series);
}

/* f:select(names[, series[, drop_index]]) -> those columns (and the
 * index, unless dropped) */
static int m_select(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int n = (int)luaL_len(L, 2);
  if (n > FR_MAXCOLS) return luaL_error(L, "too many columns");
  int cols[FR_MAXCOLS];
  for (int k = 0; k < n; k++) {
    lua_geti(L, 2, k + 1);
    cols[k] = col_arg(L, &b->f, -1);
    lua_pop(L, 1);
  }
  push_selected(L, &b->f, cols, n, lua_toboolean(L, 3), !lua_toboolean(L, 4));
  return 1;
}

/* Rows [first, last] (1-based, inclusive; clamped) of a frame. */
static int m_rows(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  const frame *f = &b->f;
  lua_Integer first = luaL_checkinteger(L, 2), last = luaL_checkinteger(L, 3);
  if (first < 1) first = 1;
  if (last > f->nrows) last = f->nrows;
  int64_t n = last >= first ? last - first + 1 : 0;
  frame out;
  if (frame_init(&out, f->ncols, n) != 0) nomem(L);
  out.nindex = f->nindex;
  for (int k = 0; k < f->ncols; k++) {
    fr_builder bd;
    frb_init(&bd, f->cols[k].type, n);
    for (int64_t i = 0; i < n; i++) frb_from(&bd, &f->cols[k], first - 1 + i);
    if (frb_finish(&bd, f->cols[k].name, &out.cols[k]) != 0) {
      frame_free(&out);
      nomem(L);
    }
  }
  lfr_push(L, &out, b->series);
  return 1;
}

static int m_tostring(lua_State *L) {
  lframe *b = luaL_checkudata(L, 1, LFR_CLASS);
  if (!b->open) {
    lua_pushliteral(L, "frame(closed)");
    return 1;
  }
  lua_getglobal(L, "require");
  lua_pushliteral(L, "dusk.frameprint");
  lua_call(L, 1, 1);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

/* f:coltype(k) -> the dtype of column k (1-based, index columns first) */
static int m_coltype(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  int k = col_arg(L, &b->f, 2);
  lua_pushstring(L, fr_type_name(b->f.cols[k].type));
  return 1;
}

static const luaL_Reg methods[] = {
  {"coltype", m_coltype},
  {"value", m_value}, {"isnull", m_isnull}, {"to_table", m_to_table}, {"get", m_get},
  {"select", m_select}, {"rows", m_rows}, {"close", fr_close}, {NULL, NULL}};

static int m_index(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  const frame *f = &b->f;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *key = lua_tostring(L, 2);
    if (strcmp(key, "columns") == 0 || strcmp(key, "index") == 0) {
      int index = key[0] == 'i';
      lua_createtable(L, f->ncols, 0);
      int j = 0;
      for (int k = index ? 0 : f->nindex; k < (index ? f->nindex : f->ncols); k++) {
        lua_pushstring(L, f->cols[k].name);
        lua_rawseti(L, -2, ++j);
      }
      return 1;
    }
    if (strcmp(key, "dtypes") == 0) {
      lua_createtable(L, 0, f->ncols);
      for (int k = f->nindex; k < f->ncols; k++) {
        lua_pushstring(L, fr_type_name(f->cols[k].type));
        lua_setfield(L, -2, f->cols[k].name);
      }
      return 1;
    }
    if (strcmp(key, "dtype") == 0 && b->series) {
      lua_pushstring(L, fr_type_name(f->cols[f->ncols - 1].type));
      return 1;
    }
    if (strcmp(key, "name") == 0 && b->series) {
      lua_pushstring(L, f->cols[f->ncols - 1].name);
      return 1;
    }
    if (strcmp(key, "is_series") == 0) {
      lua_pushboolean(L, b->series);
      return 1;
    }
    if (lua_getfield(L, lua_upvalueindex(1), key) != LUA_TNIL) return 1;
    lua_pop(L, 1);
    int k = frame_find(f, key);
    if (k >= 0 && !b->series) {
      /* an index column: its values alone */
      push_selected(L, f, &k, 1, 1, k >= f->nindex);
      return 1;
    }
    return 0;
  }
  return 0;
}

static int hook_get(lua_State *L, int idx, buf **out) {
  lframe *b = luaL_testudata(L, idx, LFR_CLASS);
  if (b == NULL || !b->open) {
    lua_pushliteral(L, "cannot send a closed frame");
    return LUA_ERRRUN;
  }
  b->f.series = b->series;
  if (frame_pack(&b->f, out) != 0) {
    lua_pushliteral(L, "not enough memory to send a frame");
    return LUA_ERRMEM;
  }
  return LUA_OK;
}

static int hook_push(lua_State *L, buf *b) {
  frame f;
  const char *why;
  if (frame_unpack(b, &f, &why) != 0) return VALUE_PLAIN;
  lfr_push(L, &f, f.series);
  return LUA_OK;
}

static const value_bufclass bufclass = {BUF_TABLE, hook_get, hook_push};

/* Inside a table a frame travels as its buffer's frame. */
static int m_send(lua_State *L) {
  lframe *b = lfr_check(L, 1);
  buf *packed;
  b->f.series = b->series;
  if (frame_pack(&b->f, &packed) != 0) nomem(L);
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  /* the payload: one byte (a Series or not), then the buffer's frame */
  unsigned char kind = (unsigned char)b->series;
  int bad = serial_buf_reserve(&s, 1) != 0;
  if (!bad) s.p[s.len++] = kind;
  bad = bad || buf_encode(packed, 0, &s) != 0;
  buf_decref(packed);
  if (bad) {
    serial_buf_free(&s);
    return luaL_error(L, "not enough memory to send a frame");
  }
  lua_pushliteral(L, LFR_CLASS);
  lua_pushlstring(L, (const char *)s.p, s.len);
  serial_buf_free(&s);
  return 2;
}

static int f_receive(lua_State *L) {
  size_t n;
  const char *s = luaL_checklstring(L, 1, &n);
  buf *b;
  const char *why;
  if (n < 1 || (unsigned char)s[0] > 1) return luaL_error(L, "a received frame: bad kind");
  if (buf_decode(s + 1, n - 1, &b, &why) != 0) return luaL_error(L, "%s", why);
  frame f;
  int bad = frame_unpack(b, &f, &why);
  buf_decref(b);
  if (bad) return luaL_error(L, "a received frame: %s", why);
  lfr_push(L, &f, f.series);
  return 1;
}

static const luaL_Reg metamethods[] = {
  {"__len", m_len}, {"__tostring", m_tostring}, {"__dusk_send", m_send}, {NULL, NULL}};

static void open_class(lua_State *L) {
  lclass_new(L, LFR_CLASS, fr_close, NULL);
  luaL_setfuncs(L, metamethods, 0);
  lua_pushlightuserdata(L, (void *)&bufclass);
  lua_setfield(L, -2, VALUE_BUFHOOK);
  lua_createtable(L, 0, 8);
  luaL_setfuncs(L, methods, 0);
  lua_pushcclosure(L, m_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, f_receive);
  serial_register(L, LFR_CLASS);
}

void lframe_open(lua_State *L) { value_bufclass_set(L, &bufclass); }
