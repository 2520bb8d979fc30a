/*
 * csv: block scans, their resolution, and the parse of a block's rows
 * (csv.h).
 *
 * The parse finds the structural bytes of 64 bytes at a time (separator,
 * newline, quote: SSE2 compares into a bit mask, the baseline of x86-64;
 * a plain loop elsewhere) and jumps from one to the next, so the bytes
 * inside fields are read once, by the conversion of the fields asked for.
 * Quoting is strict (RFC 4180): a quote inside an unquoted field is an
 * error, because the block scans count every quote and a lenient reading
 * would disagree with them about where rows end.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the scan's counting loops vectorized */
#endif

#include "frame/csv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "frame/csvnum.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ---- scans ---- */

/* The bit mask of bytes equal to 'ch' in p[0..64). */
static inline uint64_t mask64(const char *p, char ch) {
#if defined(__SSE2__)
  const __m128i c = _mm_set1_epi8(ch);
  uint64_t m = 0;
  for (int k = 0; k < 4; k++)
    m |= (uint64_t)(uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * k)), c)) << (16 * k);
  return m;
#else
  uint64_t m = 0;
  for (int i = 0; i < 64; i++) m |= (uint64_t)(p[i] == ch) << i;
  return m;
#endif
}

/* A block without quotes: every newline ends a row when it starts
 * outside quotes, none when inside.  64 bytes at a time: masks of the
 * newlines and carriage returns, the blank lines (a newline right after
 * one, or after "\r" right after one) from the masks shifted by one and
 * two bytes, carried across windows. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("popcnt", "default")))
#endif
static void scan_plain(const char *p, size_t n, int64_t at, int64_t size, const char *prev,
                       int nprev, csv_scan *out) {
  const char *nl = memchr(p, '\n', n);
  if (nl == NULL) return;
  size_t first = (size_t)(nl - p), last = first;
  for (size_t i = n; i-- > first;)
    if (p[i] == '\n') { last = i; break; }
  /* the bytes before the block as if its window's carries; the file's
   * start counts as a newline before byte 0 */
  char b1 = nprev >= 1 ? prev[nprev - 1] : '\n', b2 = nprev >= 2 ? prev[nprev - 2] : '\n';
  if (at == 1) b2 = '\n';
  uint64_t cn1 = b1 == '\n', cn2 = b2 == '\n', cr1 = b1 == '\r';
  int64_t lines = 0, blank = 0;
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t m = mask64(p + i, '\n'), r = mask64(p + i, '\r');
    uint64_t n1 = m << 1 | cn1, n2 = m << 2 | cn1 << 1 | cn2, r1 = r << 1 | cr1;
    lines += __builtin_popcountll(m);
    blank += __builtin_popcountll(m & (n1 | (r1 & n2)));
    cn2 = m >> 62 & 1, cn1 = m >> 63, cr1 = r >> 63;
  }
  for (; i < n; i++) {
    int isn = p[i] == '\n';
    lines += isn;
    blank += isn & (cn1 | (cr1 & cn2));
    cn2 = cn1, cn1 = (uint64_t)isn, cr1 = p[i] == '\r';
  }
  out->first[0] = at + (int64_t)first;
  out->last[0] = at + (int64_t)last;
  out->lines_to_first[0] = 1;
  out->lines = lines;
  out->rows[0] = lines - (at + (int64_t)last == size - 1);
  out->blank[0] = blank;
}

void csv_scan_block(const char *p, size_t n, int64_t at, int64_t size, const char *prev,
                    int nprev, char quote, csv_scan *out) {
  memset(out, 0, sizeof *out);
  for (int s = 0; s < 2; s++) out->first[s] = out->last[s] = -1;
  if (memchr(p, quote, n) == NULL) {
    scan_plain(p, n, at, size, prev, nprev, out);
    return;
  }
  out->quotes = 1;
  /* byte i-1 and i-2 of the block, reaching into 'prev' */
#define BYTE(i) ((i) >= 0 ? p[i] : (nprev + (i) >= 0 ? prev[nprev + (i)] : 0))
  int in = 0; /* quotes so far, mod 2: a newline ends a row in the state that equals it */
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c == quote) {
      in ^= 1;
      continue;
    }
    if (c != '\n') continue;
    out->lines++;
    int64_t q = at + (int64_t)i, j = (int64_t)i;
    int s = in;
    if (out->first[s] < 0) {
      out->first[s] = q;
      out->lines_to_first[s] = out->lines;
    }
    out->last[s] = q;
    if (q + 1 < size) out->rows[s]++;
    /* a blank line: this newline right after another (or after "\r"
     * right after one), or at the file's start */
    char b1 = (char)BYTE(j - 1), b2 = (char)BYTE(j - 2);
    if (q == 0 || b1 == '\n' || (b1 == '\r' && (q == 1 || b2 == '\n'))) out->blank[s]++;
  }
#undef BYTE
  out->parity = in;
}

int csv_resolve(const csv_scan *scans, const int64_t *at, int nb, int64_t size, int header,
                csv_range *out, int64_t *line) {
  int state = 0, prev_state = 0, header_left = header && size > 0;
  int64_t lines_before = 0, last_start_line = 1;
  for (int k = 0; k < nb; k++) {
    const csv_scan *sc = &scans[k];
    int st = state;
    int64_t end = k + 1 < nb ? at[k + 1] : size;
    csv_range *r = &out[k];
    memset(r, 0, sizeof *r);
    /* the previous block's last byte a row's end, in its own entry state */
    int prev_nl = k > 0 && scans[k - 1].last[prev_state] == at[k] - 1;
    if (k == 0) {
      r->start = 0, r->line = 1;
    } else if (prev_nl) {
      r->start = at[k], r->line = 1 + lines_before;
    } else if (sc->first[st] >= 0) {
      r->start = sc->first[st] + 1, r->line = 1 + lines_before + sc->lines_to_first[st];
    } else {
      r->start = -1; /* no row starts here */
    }
    int64_t starts = (k == 0 ? size > 0 : prev_nl) + sc->rows[st] -
                     (sc->last[st] == end - 1 && end < size);
    r->rows = starts - sc->blank[st];
    if (r->start >= 0 && r->start < size) last_start_line = r->line;
    prev_state = st;
    state = st ^ sc->parity;
    lines_before += sc->lines;
  }
  /* each range ends where the next one starts */
  int64_t next = size;
  for (int k = nb - 1; k >= 0; k--) {
    if (out[k].start < 0) {
      out[k].start = out[k].end = next;
      out[k].rows = 0;
      continue;
    }
    out[k].end = next;
    next = out[k].start;
  }
  /* the blocks a range reaches into: quoted when one of them is */
  for (int k = 0, j = 0; k < nb; k++) {
    while (j + 1 < nb && at[j + 1] <= out[k].start) j++;
    for (int q = j; q < nb && (q == j || at[q] < out[k].end); q++) out[k].quotes |= scans[q].quotes;
  }
  for (int k = 0; k < nb && header_left; k++)
    if (out[k].end > out[k].start) {
      out[k].header = 1, header_left = 0;
      if (out[k].rows > 0) out[k].rows--;
    }
  if (state != 0) {
    *line = last_start_line;
    return -1;
  }
  return 0;
}

/* ---- structural bytes ---- */

typedef struct cursor {
  const char *p;
  size_t n;
  size_t base;   /* the window's first byte */
  uint64_t mask; /* structural bytes of the window not yet passed */
  char sep, quote;
} cursor;

#define HOT static inline __attribute__((always_inline))

HOT uint64_t window_mask(const cursor *c, size_t base) {
  uint64_t m = 0;
  size_t left = c->n - base;
#if defined(__SSE2__)
  if (left >= 64) {
    const __m128i s = _mm_set1_epi8(c->sep), nl = _mm_set1_epi8('\n'), q = _mm_set1_epi8(c->quote);
    for (int k = 0; k < 4; k++) {
      __m128i v = _mm_loadu_si128((const __m128i *)(c->p + base + 16 * k));
      __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, s), _mm_cmpeq_epi8(v, nl)),
                                 _mm_cmpeq_epi8(v, q));
      m |= (uint64_t)(uint16_t)_mm_movemask_epi8(hit) << (16 * k);
    }
    return m;
  }
#endif
  size_t lim = left < 64 ? left : 64;
  for (size_t i = 0; i < lim; i++) {
    char ch = c->p[base + i];
    if (ch == c->sep || ch == '\n' || ch == c->quote) m |= (uint64_t)1 << i;
  }
  return m;
}

static void cursor_seek(cursor *c, size_t pos) {
  c->base = pos & ~(size_t)63;
  c->mask = c->base < c->n ? window_mask(c, c->base) : 0;
  c->mask &= pos - c->base >= 64 ? 0 : ~(uint64_t)0 << (pos - c->base);
}

/* The next structural byte at or after the cursor, or n. */
HOT size_t cursor_next(cursor *c) {
  while (c->mask == 0) {
    c->base += 64;
    if (c->base >= c->n) return c->n;
    c->mask = window_mask(c, c->base);
  }
  size_t at = c->base + (size_t)__builtin_ctzll(c->mask);
  c->mask &= c->mask - 1;
  return at;
}

/* ---- fields ---- */

typedef struct field {
  const char *s;
  size_t len;
  int quoted;
  char end; /* what follows: the separator, '\n' or 0 (the end) */
} field;

typedef struct reader {
  cursor c;
  size_t pos;
  int64_t line;   /* of the current row's first byte */
  int64_t nl;     /* newlines inside quotes in the current row */
  char *scratch;  /* unescaped quoted fields */
  size_t room;
  csv_error *err;
} reader;

__attribute__((format(printf, 3, 4))) static int fail_at(reader *r, int64_t line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  r->err->line = line;
  vsnprintf(r->err->msg, sizeof r->err->msg, fmt, ap);
  va_end(ap);
  return -1;
}

static int quoted_field(reader *r, field *f);

/* The field at r->pos; 0, or -1 with the error set.  Unquoted fields,
 * nearly all of real files, inline. */
static inline int next_field(reader *r, field *f) {
  cursor *c = &r->c;
  const char *p = c->p;
  size_t n = c->n, i = r->pos;
  if (i < n && p[i] == c->quote) return quoted_field(r, f);
  f->quoted = 0;
  if (i >= c->base + 64 || i < c->base) cursor_seek(c, i);
  size_t e = cursor_next(c);
  while (e < i) e = cursor_next(c);
  if (e < n && p[e] == c->quote)
    return fail_at(r, r->line + r->nl, "a quote inside an unquoted field");
  f->s = p + i;
  f->len = e - i;
  f->end = e < n ? p[e] : 0;
  if (f->end != c->sep && f->len && f->s[f->len - 1] == '\r') f->len--; /* CRLF */
  r->pos = e < n ? e + 1 : n;
  return 0;
}

/* A field in quotes: to the closing quote, "" standing for one. */
static int quoted_field(reader *r, field *f) {
  cursor *c = &r->c;
  const char *p = c->p;
  size_t n = c->n, i = r->pos;
  {
    /* quoted: to the closing quote, "" standing for one */
    size_t j = i + 1, out = 0;
    int doubled = 0;
    for (;;) {
      const char *q = j < n ? memchr(p + j, c->quote, n - j) : NULL;
      if (q == NULL) return fail_at(r, r->line, "a quoted field is not closed");
      size_t k = (size_t)(q - p);
      for (const char *t = p + j; (t = memchr(t, '\n', (size_t)(q - t))) != NULL; t++) r->nl++;
      if (k + 1 < n && p[k + 1] == c->quote) {
        if (!doubled) {
          doubled = 1;
          out = 0;
          if (r->room < n - i) {
            char *s = base_realloc(r->scratch, n - i);
            if (s == NULL) return fail_at(r, r->line, "not enough memory");
            r->scratch = s, r->room = n - i;
          }
          memcpy(r->scratch, p + i + 1, k + 1 - (i + 1));
          out = k + 1 - (i + 1);
        } else {
          memcpy(r->scratch + out, p + j, k + 1 - j);
          out += k + 1 - j;
        }
        j = k + 2;
        continue;
      }
      if (doubled) {
        memcpy(r->scratch + out, p + j, k - j);
        out += k - j;
        f->s = r->scratch, f->len = out;
      } else {
        f->s = p + i + 1, f->len = k - (i + 1);
      }
      f->quoted = 1;
      i = k + 1;
      if (i < n && p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') i++;
      if (i < n && p[i] != c->sep && p[i] != '\n')
        return fail_at(r, r->line + r->nl, "text after a closing quote");
      f->end = i < n ? p[i] : 0;
      r->pos = i < n ? i + 1 : n;
      cursor_seek(c, r->pos);
      return 0;
    }
  }
}

int64_t csv_split(const char *text, size_t n, int eof, char sep, char quote, int64_t maxrows,
                  int64_t line, csv_field_fn fn, void *ud, csv_error *err) {
  reader r = {.c = {.p = text, .n = n, .sep = sep, .quote = quote}, .line = line, .err = err};
  cursor_seek(&r.c, 0);
  int64_t rows = 0;
  int width = -1;
  while (r.pos < n && rows < maxrows) {
    /* a row is whole when a newline ends it (or the text, at eof) */
    size_t row_start = r.pos;
    reader save = r;
    int col = 0, blank = 0;
    field f;
    for (;;) {
      if (next_field(&r, &f) != 0) {
        if (!eof) { r = save; goto done; } /* an open quote in a sample: the rows before it */
        base_free(r.scratch);
        return -1;
      }
      if (f.end == 0 && !eof) { r = save; goto done; }
      if (col == 0 && f.end != sep && f.len == 0 && !f.quoted) { blank = 1; break; }
      if (fn && fn(ud, rows, col, f.s, f.len) != 0) {
        base_free(r.scratch);
        return -1;
      }
      col++;
      if (f.end != sep) break;
    }
    (void)row_start;
    if (!blank) {
      if (width < 0) width = col;
      else if (col != width) {
        fail_at(&r, r.line, "expected %d fields, saw %d", width, col);
        base_free(r.scratch);
        return -1;
      }
      rows++;
    }
    r.line += 1 + r.nl;
    r.nl = 0;
  }
done:
  base_free(r.scratch);
  return rows;
}

/* ---- parse ---- */

/* A header field that is not the column's name (every file's header is
 * the first file's: columns are taken by position). */
static int header_differs(reader *r, const csv_opts *o, int col, const field *f) {
  const char *want = o->names[col];
  if (strlen(want) == f->len && memcmp(want, f->s, f->len) == 0) return 0;
  return fail_at(r, r->line, "the header differs from the first file's: column %d is '%.*s', not '%s'", col + 1,
                 (int)(f->len > 60 ? 60 : f->len), f->s, want);
}

HOT int is_na(const csv_opts *o, const field *f) {
  if (f->len == 0) return 1;
  for (int k = 0; k < o->nna; k++)
    if (strlen(o->na[k]) == f->len && memcmp(o->na[k], f->s, f->len) == 0) return 1;
  return 0;
}

static const char *type_hint(int type) {
  switch (type) {
  case FR_INT64: return "int64";
  case FR_FLOAT64: return "float64";
  case FR_BOOL: return "bool";
  case FR_DATETIME: return "datetime";
  default: return "string";
  }
}

/* A field that is not of its column's type: the error names the value,
 * the column, the type and the dtypes= that reads it. */
static int mismatch(reader *r, const csv_opts *o, int col, const field *f) {
  int want = o->types[col], fix;
  const char *s = f->s;
  size_t len = f->len;
  double d;
  if (want == FR_INT64 && csv_to_double(s, len, &d) == 0) fix = FR_FLOAT64;
  else fix = FR_STRING;
  char val[64];
  snprintf(val, sizeof val, "%.*s%s", (int)(len > 40 ? 40 : len), s, len > 40 ? "..." : "");
  r->err->line = r->line + r->nl;
  snprintf(r->err->msg, sizeof r->err->msg,
           "column '%s': value '%s' is not %s %s (give dtypes={[\"%s\"]=\"%s\"})", o->names[col], val,
           want == FR_INT64 ? "an" : "a", type_hint(want), o->names[col], type_hint(fix));
  return -1;
}

/* Whether a field converts, as convert would, without keeping it. */
HOT int check(reader *r, const csv_opts *o, int col, const field *f) {
  if (is_na(o, f)) {
    o->nulls[col]++;
    return 0;
  }
  union { int64_t i; double d; int b; } v;
  int bad;
  switch (o->types[col]) {
  case FR_INT64: bad = csvn_int64(f->s, f->len, &v.i); break;
  case FR_FLOAT64: bad = !csvn_is_decimal(f->s, f->len) && csvn_double(f->s, f->len, &v.d); break;
  case FR_BOOL: bad = csv_to_bool(f->s, f->len, &v.b); break;
  case FR_DATETIME: bad = csv_to_datetime(f->s, f->len, &v.i); break;
  default: bad = 0;
  }
  return bad ? mismatch(r, o, col, f) : 0;
}

HOT int convert(reader *r, const csv_opts *o, int col, const field *f, fr_builder *b) {
  if (is_na(o, f)) {
    frb_null(b);
    return 0;
  }
  switch (o->types[col]) {
  case FR_INT64: {
    int64_t v;
    if (csvn_int64(f->s, f->len, &v) != 0) return mismatch(r, o, col, f);
    frb_i64(b, v);
    return 0;
  }
  case FR_FLOAT64: {
    double v;
    if (csvn_double(f->s, f->len, &v) != 0) return mismatch(r, o, col, f);
    frb_f64(b, v);
    return 0;
  }
  case FR_BOOL: {
    int v;
    if (csv_to_bool(f->s, f->len, &v) != 0) return mismatch(r, o, col, f);
    frb_bool(b, v);
    return 0;
  }
  case FR_DATETIME: {
    int64_t v;
    if (csv_to_datetime(f->s, f->len, &v) != 0) return mismatch(r, o, col, f);
    frb_i64(b, v);
    return 0;
  }
  default: frb_str(b, f->s, f->len); return 0;
  }
}

/* The rows of a block without quotes: the fields end at the separators
 * and newlines of the window masks, taken in order, one bit a field;
 * the fields of columns not asked for cost only that bit.  Returns 0 or
 * -1 (err set); rows counted in '*rows'. */
static int parse_plain(reader *r, const csv_opts *o, const int *slot, fr_builder *b, int header,
                       int64_t *rows) {
  cursor *c = &r->c;
  const char *p = c->p;
  size_t n = c->n, start = 0;
  int col = 0, skip = header;
  cursor_seek(c, 0);
  for (;;) {
    size_t e = cursor_next(c);
    char end = e < n ? p[e] : 0;
    if (e >= n && start >= n && col == 0) break; /* the text ends at a row's end */
    field f = {.s = p + start, .len = e - start, .quoted = 0, .end = end};
    if (end != o->sep && f.len && f.s[f.len - 1] == '\r') f.len--;
    if (col == 0 && end != o->sep && f.len == 0) { /* a blank line */
      r->line++;
      start = e + 1;
      if (e >= n) break;
      continue;
    }
    if (col >= o->ncols) {
      int extra = col + 1;
      while (end == o->sep) {
        e = cursor_next(c);
        end = e < n ? p[e] : 0;
        extra++;
      }
      return fail_at(r, r->line, "expected %d fields, saw %d", o->ncols, extra);
    }
    if (skip ? header_differs(r, o, col, &f) != 0
             : slot[col] >= 0 && (o->nulls ? check(r, o, col, &f) : convert(r, o, col, &f, &b[slot[col]])) != 0)
      return -1;
    col++;
    start = e + 1;
    if (end != o->sep) {
      if (col != o->ncols) return fail_at(r, r->line, "expected %d fields, saw %d", o->ncols, col);
      if (skip) skip = 0;
      else ++*rows;
      r->line++;
      col = 0;
      if (e >= n) break;
    }
  }
  if (skip) return fail_at(r, r->line, "no header row in the file's first block");
  return 0;
}

int csv_parse(const char *text, size_t n, int64_t line, int header, const csv_opts *o,
              int64_t rows_hint, frame *out, csv_error *err) {
  memset(out, 0, sizeof *out);
  err->line = line;
  err->msg[0] = 0;
  int nused = 0;
  for (int k = 0; k < o->ncols; k++) nused += o->types[k] >= 0;
  fr_builder *b = base_calloc(nused ? (size_t)nused : 1, sizeof *b);
  int *slot = base_calloc((size_t)o->ncols + 1, sizeof *slot);
  if (b == NULL || slot == NULL) {
    base_free(b);
    base_free(slot);
    snprintf(err->msg, sizeof err->msg, "not enough memory");
    return -1;
  }
  for (int k = 0, j = 0; k < o->ncols; k++) {
    slot[k] = o->types[k] >= 0 ? j : -1;
    if (o->types[k] >= 0 && !o->nulls) frb_init(&b[j++], o->types[k], rows_hint);
  }
  reader r = {.c = {.p = text, .n = n, .sep = o->sep, .quote = o->quote}, .line = line, .err = err};
  cursor_seek(&r.c, 0);
  int64_t rows = 0;
  int skip_header = header, status = 0;
  if (o->quotes == 0 || memchr(text, o->quote, n) == NULL) {
    status = parse_plain(&r, o, slot, b, header, &rows);
    skip_header = 0;
  } else while (r.pos < n && status == 0) {
    int col = 0;
    field f;
    for (;;) {
      if (next_field(&r, &f) != 0) {
        status = -1;
        break;
      }
      if (col == 0 && f.end != o->sep && f.len == 0 && !f.quoted) { col = -1; break; } /* blank */
      if (col >= o->ncols) {
        int extra = col + 1;
        while (f.end == o->sep && next_field(&r, &f) == 0) extra++;
        fail_at(&r, r.line, "expected %d fields, saw %d", o->ncols, extra);
        status = -1;
        break;
      }
      if (skip_header ? header_differs(&r, o, col, &f) != 0
                      : slot[col] >= 0 && (o->nulls ? check(&r, o, col, &f) : convert(&r, o, col, &f, &b[slot[col]])) != 0) {
        status = -1;
        break;
      }
      col++;
      if (f.end != o->sep) break;
    }
    if (status) break;
    if (col >= 0) {
      if (col != o->ncols) {
        fail_at(&r, r.line, "expected %d fields, saw %d", o->ncols, col);
        status = -1;
        break;
      }
      if (skip_header) skip_header = 0;
      else rows++;
    }
    r.line += 1 + r.nl;
    r.nl = 0;
  }
  base_free(r.scratch);
  if (status == 0 && skip_header && header) {
    snprintf(err->msg, sizeof err->msg, "no header row in the file's first block");
    status = -1;
  }
  for (int j = 0; j < nused && status == 0; j++)
    if (b[j].failed) {
      snprintf(err->msg, sizeof err->msg, "not enough memory");
      status = -1;
    }
  if (o->nulls) {
    base_free(b);
    base_free(slot);
    return status;
  }
  if (status == 0 && frame_init(out, nused, rows) != 0) {
    snprintf(err->msg, sizeof err->msg, "not enough memory");
    status = -1;
  }
  for (int k = 0; k < o->ncols; k++) {
    if (slot[k] < 0) continue;
    if (status == 0) {
      if (frb_finish(&b[slot[k]], o->names[k], &out->cols[slot[k]]) != 0) {
        snprintf(err->msg, sizeof err->msg, "not enough memory");
        status = -1;
      }
    } else {
      frb_free(&b[slot[k]]);
    }
  }
  if (status != 0) frame_free(out);
  base_free(b);
  base_free(slot);
  return status;
}
