/*
 * fuzz_csv: read_csv's block cut (frame/csv.c) under libFuzzer, by
 * consistency: a CSV text read in blocks -- csv_scan_block per block,
 * csv_resolve over the scans, csv_parse per block's range -- must read
 * what one csv_parse of the whole text reads.
 *
 * Input: the first byte chooses the block size (1 + its low 6 bits), the
 * header (bit 6) and the separator (bit 7: ';', else ','); the rest is
 * the text.  Every column is read as a string, so only the structure can
 * fail (quotes, field counts); the field count is the first row's, from
 * csv_split.  Both readings must succeed or fail together (failing, at
 * the same line, unless csv_resolve found the text ending inside quotes);
 * succeeding, they give the same rows, the same cell
 * bytes and nulls, and the ranges' row counts (what #df adds up) are the
 * rows parsed.  A mismatch prints both and aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame/csv.h"
#include "frame/frame.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  return 0;
}

/* The first row's fields: their count, and the names when it is the
 * header (the parse checks every file's header against them). */
typedef struct first_row {
  int ncols, nul;
  char *names[FR_MAXCOLS];
} first_row;

static int first_field(void *ud, int64_t row, int col, const char *s, size_t len) {
  (void)row;
  first_row *fr = ud;
  if (col >= FR_MAXCOLS) return -1;
  if (col + 1 > fr->ncols) fr->ncols = col + 1;
  fr->names[col] = malloc(len + 1);
  if (fr->names[col] == NULL) return -1;
  memcpy(fr->names[col], s, len);
  fr->names[col][len] = 0;
  fr->nul |= memchr(s, 0, len) != NULL;
  return 0;
}

static void dump(const char *what, const char *text, size_t n, int bs, int header, char sep) {
  fprintf(stderr, "fuzz_csv: %s (blocksize %d, header %d, sep '%c'), text:\n\"", what, bs, header, sep);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)text[i];
    if (c == '\n') fputs("\\n", stderr);
    else if (c == '\r') fputs("\\r", stderr);
    else if (c == '"' || c == '\\') fprintf(stderr, "\\%c", c);
    else if (c < 32 || c > 126) fprintf(stderr, "\\x%02x", c);
    else fputc(c, stderr);
  }
  fputs("\"\n", stderr);
}

#define FAIL(...)                                                                                  \
  do {                                                                                             \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fputc('\n', stderr);                                                                           \
    dump("mismatch", text, n, bs, header, sep);                                                    \
    abort();                                                                                       \
  } while (0)

/* Cell i of column c: null, or its bytes. */
static int cell(const frame *f, int c, int64_t i, const char **s, size_t *len) {
  const fr_col *col = &f->cols[c];
  if (fr_isnull(col, i)) return 0;
  *s = fr_str(col, i, len);
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int bs = (data[0] & 63) + 1, header = (data[0] >> 6) & 1;
  char sep = (data[0] & 128) ? ';' : ',', quote = '"';
  /* the text, with the 64 zero bytes after it that the parse's windows may read */
  size_t n = size - 1;
  char *text = calloc(n + 64, 1);
  if (text == NULL) return 0;
  memcpy(text, data + 1, n);

  /* the field count: the first row's */
  first_row *fr = calloc(1, sizeof *fr);
  if (fr == NULL) {
    free(text);
    return 0;
  }
  csv_error err;
  int64_t first = csv_split(text, n, 1, sep, quote, 1, 1, first_field, fr, &err);
  int ncols = fr->ncols;
  if (first < 1 || ncols < 1 || ncols > FR_MAXCOLS || (header && fr->nul)) {
    for (int c = 0; c < FR_MAXCOLS; c++) free(fr->names[c]);
    free(fr);
    free(text);
    return 0;
  }
  int *types = malloc(sizeof(int) * (size_t)ncols);
  const char **names = malloc(sizeof(char *) * (size_t)ncols);
  char(*namebuf)[12] = malloc(12 * (size_t)ncols);
  int nb = n > 0 ? (int)((n + (size_t)bs - 1) / (size_t)bs) : 1;
  csv_scan *scans = calloc((size_t)nb, sizeof *scans);
  csv_range *ranges = calloc((size_t)nb, sizeof *ranges);
  int64_t *at = calloc((size_t)nb, sizeof *at);
  frame *parts = calloc((size_t)nb, sizeof *parts);
  if (!types || !names || !namebuf || !scans || !ranges || !at || !parts) goto out;
  for (int c = 0; c < ncols; c++) {
    types[c] = FR_STRING;
    snprintf(namebuf[c], sizeof namebuf[c], "c%d", c);
    names[c] = header ? fr->names[c] : namebuf[c];
  }
  csv_opts o = {.sep = sep, .quote = quote, .ncols = ncols, .types = types, .names = names, .quotes = 1};

  /* one block */
  frame whole;
  csv_error werr;
  int wbad = csv_parse(text, n, 1, header, &o, 0, &whole, &werr);

  /* blocks of bs bytes */
  for (int k = 0; k < nb; k++) {
    int64_t a = (int64_t)k * bs, len = (int64_t)n - a < bs ? (int64_t)n - a : bs;
    int nprev = a >= 2 ? 2 : (int)a;
    at[k] = a;
    csv_scan_block(text + a, (size_t)len, a, (int64_t)n, text + a - nprev, nprev, quote, &scans[k]);
  }
  int64_t openline = 0;
  int bad = csv_resolve(scans, at, nb, (int64_t)n, header, ranges, &openline) != 0, resolve_bad = bad;
  int64_t badline = openline, rows = 0, counted = 0;
  int parsed = 0;
  const char *bmsg = bad ? "the file ends inside a quoted field" : "";
  char msgbuf[512];
  for (int k = 0; k < nb && !bad; k++) {
    const csv_range *r = &ranges[k];
    if (r->start < 0 || r->end < r->start || r->end > (int64_t)n)
      FAIL("block %d: range [%lld, %lld) outside the text", k, (long long)r->start, (long long)r->end);
    if (k > 0 && r->start != ranges[k - 1].end)
      FAIL("block %d starts at %lld, block %d ends at %lld", k, (long long)r->start, k - 1,
           (long long)ranges[k - 1].end);
    csv_opts ko = o;
    ko.quotes = r->quotes;
    csv_error e;
    if (csv_parse(text + r->start, (size_t)(r->end - r->start), r->line, r->header, &ko, r->rows + 1,
                  &parts[k], &e) != 0) {
      bad = 1, badline = e.line;
      snprintf(msgbuf, sizeof msgbuf, "%s", e.msg);
      bmsg = msgbuf;
      break;
    }
    parsed = k + 1;
    rows += parts[k].nrows;
    counted += r->rows;
  }
  if (!bad && nb > 0 && ranges[nb - 1].end != (int64_t)n)
    FAIL("the last range ends at %lld of %zu", (long long)ranges[nb - 1].end, n);

  if ((wbad != 0) != (bad != 0))
    FAIL("one block: %s (line %lld: %s); blocks: %s (line %lld: %s)", wbad ? "fails" : "reads",
         (long long)werr.line, wbad ? werr.msg : "", bad ? "fail" : "read", (long long)badline, bmsg);
  if (bad) {
    /* (csv_resolve's verdict, an odd count of quotes, comes before any
     * parse: its line is that of a range, and the one block's parse may
     * stop earlier at another error of the same text) */
    if (!resolve_bad && werr.line != badline)
      FAIL("one block fails at line %lld (%s), blocks at line %lld (%s)", (long long)werr.line, werr.msg,
           (long long)badline, bmsg);
  } else {
    if (rows != whole.nrows)
      FAIL("one block: %lld rows; blocks: %lld", (long long)whole.nrows, (long long)rows);
    if (counted != rows)
      FAIL("the ranges count %lld rows (#df), their parses %lld", (long long)counted, (long long)rows);
    int64_t i = 0;
    for (int k = 0; k < parsed; k++) {
      const frame *p = &parts[k];
      if (p->ncols != whole.ncols) FAIL("block %d: %d columns, one block %d", k, p->ncols, whole.ncols);
      for (int64_t j = 0; j < p->nrows; j++, i++)
        for (int c = 0; c < p->ncols; c++) {
          const char *s1 = NULL, *s2 = NULL;
          size_t l1 = 0, l2 = 0;
          int v1 = cell(&whole, c, i, &s1, &l1), v2 = cell(p, c, j, &s2, &l2);
          if (v1 != v2 || (v1 && (l1 != l2 || memcmp(s1, s2, l1) != 0)))
            FAIL("row %lld (block %d row %lld), column %d: one block %s '%.*s', blocks %s '%.*s'",
                 (long long)i + 1, k, (long long)j + 1, c + 1, v1 ? "value" : "null", (int)l1, s1 ? s1 : "",
                 v2 ? "value" : "null", (int)l2, s2 ? s2 : "");
        }
    }
  }
  if (!wbad) frame_free(&whole);
out:
  if (parts)
    for (int k = 0; k < nb; k++)
      if (parts[k].cols) frame_free(&parts[k]);
  free(parts);
  free(at);
  free(ranges);
  free(scans);
  free(namebuf);
  free(names);
  free(types);
  for (int c = 0; c < FR_MAXCOLS; c++) free(fr->names[c]);
  free(fr);
  free(text);
  return 0;
}
