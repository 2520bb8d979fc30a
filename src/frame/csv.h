/*
 * csv: CSV text cut at byte offsets and parsed into frames, in parallel
 * and exactly (RFC 4180 quoting: fields in double quotes may hold the
 * separator, newlines and doubled quotes).
 *
 * A file is read in blocks.  csv_scan reads one block without knowing
 * whether it starts inside a quoted field, so it records what it finds
 * for both cases: where the first and last row-ending newlines are, how
 * many rows end in it and how many of those are blank, and the parity
 * of its quotes.  csv_resolve walks the scans of a file in order,
 * knowing at each block which case is true, and gives each block the
 * exact rows it owns (those that start in it), their byte range and the
 * physical line of the first.  No guessing: a block in the middle of a
 * quoted field is read as such.  Row counts come from the scans alone.
 *
 * csv_parse turns one block's rows into a frame of the columns asked
 * for, in the types given; fields of other columns are skipped, not
 * converted.  Empty fields (and those named in na_values) are nulls.
 * Blank lines are skipped, as pandas does.
 */
#ifndef DUSK_CSV_H
#define DUSK_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "frame/frame.h"

/* What a block holds, for either state at its start (index 0: outside
 * quotes, 1: inside).  Offsets are from the file's start; -1: none. */
typedef struct csv_scan {
  int64_t first[2];    /* the first row-ending newline */
  int64_t last[2];     /* the last one */
  int64_t rows[2];     /* row-ending newlines not at the file's last byte */
  int64_t blank[2];    /* of those, ones ending a blank line */
  int64_t lines_to_first[2]; /* newlines (all) from the block's start to first, inclusive */
  int64_t lines;       /* newlines, quoted ones included */
  int parity;          /* quotes, mod 2 */
  int quotes;          /* whether it holds a quote at all */
} csv_scan;

/* Scans bytes [at, at + n) of a file of 'size' bytes; 'prev' holds the
 * (up to) 2 bytes before 'at' (nprev of them), which tell whether a row
 * at the block's start is blank. */
void csv_scan_block(const char *p, size_t n, int64_t at, int64_t size, const char *prev,
                    int nprev, char quote, csv_scan *out);

/* The rows a block owns. */
typedef struct csv_range {
  int64_t start, end; /* bytes: rows start in [start, ...) and end before 'end'; start == end: none */
  int64_t line;       /* physical line (1-based) at 'start' */
  int64_t rows;       /* data rows (blank ones and the header not counted) */
  int header;         /* the file's header is the first row of this range */
  int quotes;         /* whether a block it reaches into holds a quote */
} csv_range;

/* Walks the 'nb' scans of one file whose blocks start at 'at[k]' (at[0]
 * 0, ascending, the last ending at 'size'), giving each its range.
 * Returns 0; or -1 when the file ends inside a quoted field ('*line' the
 * line of the row that opens it).  'header': the file's first non-blank
 * row is its header. */
int csv_resolve(const csv_scan *scans, const int64_t *at, int nb, int64_t size, int header,
                csv_range *out, int64_t *line);

typedef struct csv_opts {
  char sep, quote;
  int ncols;          /* fields a row must have */
  const int *types;   /* per field: an fr_type, or -1: skipped */
  const char *const *names; /* per field */
  int nna;            /* extra null spellings */
  const char *const *na;
  int64_t *nulls;     /* when set: fields are checked and their nulls counted
                       * here (per field), no frame made */
  int quotes;         /* 0: the text holds no quote (csv_range's); else unknown */
} csv_opts;

/* An error: a message naming the line, the field and what is wrong. */
typedef struct csv_error {
  int64_t line;
  char msg[512];
} csv_error;

/* Parses the rows of text[0..n) (whole rows, the first at physical line
 * 'line'; skipping the first non-blank one when 'header') into 'out':
 * the fields whose type is not -1, in field order.  'rows_hint' sizes
 * the columns.  Returns 0; or -1 with 'err' set (out of memory too). */
int csv_parse(const char *text, size_t n, int64_t line, int header, const csv_opts *o,
              int64_t rows_hint, frame *out, csv_error *err);

/* Splits the first rows of text[0..n) (at most 'maxrows', whole ones
 * only unless 'eof') into fields: calls 'field'(ud, row, col, s, len) for
 * each, unquoted; returns the rows seen, or -1 with 'err' set for a row
 * of another field count than the first (or an open quote at eof). */
typedef int (*csv_field_fn)(void *ud, int64_t row, int col, const char *s, size_t len);
int64_t csv_split(const char *text, size_t n, int eof, char sep, char quote, int64_t maxrows,
                  int64_t line, csv_field_fn field, void *ud, csv_error *err);

/* The type a column's sample values suggest: 'kinds' is a bit set of
 * what csv_kind found (CSV_K_*), 'n' values were not null. */
enum { CSV_K_INT = 1, CSV_K_FLOAT = 2, CSV_K_BOOL = 4, CSV_K_STRING = 8 };
int csv_kind(const char *s, size_t len);
int csv_infer(unsigned kinds, int64_t nonnull);

/* Conversions, exact: 0, or -1 when 's' is not one. */
int csv_to_int64(const char *s, size_t len, int64_t *v);
int csv_to_double(const char *s, size_t len, double *v);
int csv_to_bool(const char *s, size_t len, int *v);
int csv_to_datetime(const char *s, size_t len, int64_t *ns);

#endif
