/*
 * fuzz_frame: frame_unpack (frame/frame.c), a partition read from a
 * BUF_TABLE buffer that came from another process or a spill file, under
 * libFuzzer.  Any bytes must be safe: a frame is refused with a reason,
 * or taken whole -- every cell of it readable (values, string offsets
 * inside the arena, bitmaps), its null counts right, and packed again it
 * unpacks to the same cells.
 *
 * Each input is read three ways: as a buffer frame (buf_decode) as it
 * is; again with its XXH64 trailer made right, so that mutations of the
 * seeds (frames that frame_pack made) reach the schema and the parts
 * behind the checksum; and as a table laid out by its first bytes --
 * parts (1 + byte 0 % 16), rows (bytes 1-2), then per part a dtype byte
 * and a 2-byte length -- whose data is the rest of the input, repeated.
 *
 * With FUZZ_FRAME_SEEDS=dir set, initialisation writes seed frames (each
 * column type, with and without nulls, an index, a series, no rows) into
 * dir and exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "data/buffer.h"
#include "frame/frame.h"

/* ---- seeds ---- */

static void put(const char *dir, int i, const frame *f) {
  buf *b;
  if (frame_pack(f, &b) != 0) exit(1);
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  if (buf_encode(b, 0, &s) != 0) exit(1);
  buf_decref(b);
  char path[4096];
  snprintf(path, sizeof path, "%s/seed-%03d", dir, i);
  FILE *out = fopen(path, "wb");
  if (!out || fwrite(s.p, 1, s.len, out) != s.len || fclose(out) != 0) exit(1);
  serial_buf_free(&s);
}

static void column(frame *f, int k, int type, int64_t n, int nulls, const char *name) {
  fr_builder b;
  frb_init(&b, type, n);
  for (int64_t i = 0; i < n; i++) {
    if (nulls && i % 3 == 1) {
      frb_null(&b);
      continue;
    }
    switch (type) {
    case FR_FLOAT64: frb_f64(&b, (double)i / 4 - 1); break;
    case FR_BOOL: frb_bool(&b, (int)(i & 1)); break;
    case FR_STRING: frb_str(&b, "abcdefg", (size_t)(i % 8)); break;
    default: frb_i64(&b, i * 1000000007 - 5); break;
    }
  }
  if (frb_finish(&b, name, &f->cols[k]) != 0) exit(1);
}

static void write_seeds(const char *dir) {
  int i = 0;
  int64_t rows[] = {0, 1, 5, 70};
  for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
    for (int nulls = 0; nulls <= 1; nulls++) {
      frame f;
      if (frame_init(&f, FR_NTYPES, rows[r]) != 0) exit(1);
      static const char *names[FR_NTYPES] = {"i", "f", "b", "s", "d"};
      for (int t = 0; t < FR_NTYPES; t++) column(&f, t, t, rows[r], nulls && t != FR_FLOAT64, names[t]);
      put(dir, i++, &f);
      frame_free(&f);
    }
  /* a group-by's answer: a string index; a series over an int index */
  frame g;
  if (frame_init(&g, 2, 4) != 0) exit(1);
  column(&g, 0, FR_STRING, 4, 0, "key");
  column(&g, 1, FR_FLOAT64, 4, 0, "mean");
  g.nindex = 1;
  put(dir, i++, &g);
  g.series = 1;
  put(dir, i++, &g);
  frame_free(&g);
  exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("FUZZ_FRAME_SEEDS");
  if (dir) write_seeds(dir);
  return 0;
}

/* ---- reading a frame whole ---- */

static volatile uint64_t sink;

/* Every cell of 'f', as the binding reads them; aborts on what
 * frame_unpack should have refused. */
static void read_all(const frame *f) {
  if (f->ncols < 0 || f->ncols > FR_MAXCOLS || f->nindex < 0 || f->nindex > f->ncols) abort();
  uint64_t h = 0;
  for (int k = 0; k < f->ncols; k++) {
    const fr_col *c = &f->cols[k];
    if (c->name == NULL || c->n != f->nrows || c->type < 0 || c->type >= FR_NTYPES) abort();
    h += strlen(c->name);
    int64_t nulls = 0;
    for (int64_t i = 0; i < f->nrows; i++) {
      int null = fr_isnull(c, i);
      nulls += null;
      switch (c->type) {
      case FR_STRING: {
        size_t len;
        const char *s = fr_str(c, i, &len);
        if (c->offsets[i + 1] < c->offsets[i]) abort();
        for (size_t j = 0; j < len; j++) h += (unsigned char)s[j];
        break;
      }
      case FR_BOOL: {
        uint8_t v = ((const uint8_t *)c->values)[i];
        if (v > 1) abort();
        h += v;
        break;
      }
      default: h += ((const uint64_t *)c->values)[i]; break;
      }
    }
    if (nulls != c->nnull) abort();
  }
  sink = h;
}

static int same_cells(const frame *a, const frame *b) {
  if (a->nrows != b->nrows || a->ncols != b->ncols || a->nindex != b->nindex || a->series != b->series) return 0;
  for (int k = 0; k < a->ncols; k++) {
    const fr_col *x = &a->cols[k], *y = &b->cols[k];
    if (x->type != y->type || strcmp(x->name, y->name) != 0 || x->nnull != y->nnull) return 0;
    for (int64_t i = 0; i < a->nrows; i++) {
      int nx = fr_isnull(x, i), ny = fr_isnull(y, i);
      if (nx != ny) return 0;
      if (nx && x->type != FR_FLOAT64) continue;
      if (x->type == FR_STRING) {
        size_t lx, ly;
        const char *sx = fr_str(x, i, &lx), *sy = fr_str(y, i, &ly);
        if (lx != ly || memcmp(sx, sy, lx) != 0) return 0;
      } else if (x->type == FR_BOOL) {
        if (((const uint8_t *)x->values)[i] != ((const uint8_t *)y->values)[i]) return 0;
      } else if (((const uint64_t *)x->values)[i] != ((const uint64_t *)y->values)[i]) {
        return 0;
      }
    }
  }
  return 1;
}

/* frame_unpack of 'b' (the caller's reference stays the caller's). */
static void unpack(buf *b) {
  frame f;
  const char *why = NULL;
  unsigned refs = buf_refcount(b);
  if (frame_unpack(b, &f, &why) != 0) {
    if (why == NULL || buf_refcount(b) != refs) abort(); /* refused: a reason, no reference kept */
    return;
  }
  read_all(&f);
  buf *again;
  if (frame_pack(&f, &again) != 0) abort();
  frame g;
  if (frame_unpack(again, &g, &why) != 0) {
    fprintf(stderr, "a packed frame does not unpack: %s\n", why);
    abort();
  }
  if (!same_cells(&f, &g)) abort();
  frame_free(&g);
  buf_decref(again);
  frame_free(&f);
  if (buf_refcount(b) != refs) abort();
}

static void decode(const uint8_t *data, size_t size) {
  buf *b = NULL;
  const char *why = NULL;
  if (buf_decode(data, size, &b, &why) != 0) return;
  if (buf_type(b) == BUF_TABLE) unpack(b);
  buf_decref(b);
}

/* A table laid out by the input's first bytes, its data the rest. */
static void laid_out(const uint8_t *data, size_t size) {
  if (size < 3) return;
  uint32_t nparts = 1 + data[0] % 16;
  uint64_t nrows = data[1] | (uint64_t)data[2] << 8;
  size_t at = 3;
  uint32_t types[16];
  uint64_t bytes[16];
  for (uint32_t k = 0; k < nparts; k++) {
    if (size - at < 3) return;
    types[k] = data[at] % BUF_NDTYPES;
    bytes[k] = data[at + 1] | (uint64_t)data[at + 2] << 8;
    at += 3;
  }
  buf_table t = {.nrows = nrows, .ncols = nparts, .types = types, .bytes = bytes};
  buf *b = buf_new_table(&t);
  if (b == NULL) return;
  unsigned char *d = buf_wdata(b);
  size_t n = buf_size(b), rest = size - at;
  for (size_t i = 0; i < n; i++) d[i] = rest ? data[at + i % rest] : 0;
  unpack(b);
  buf_decref(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  decode(data, size);
  laid_out(data, size);
  if (size < 8) return 0;
  uint8_t *fixed = malloc(size);
  if (fixed == NULL) return 0;
  memcpy(fixed, data, size);
  uint64_t h = XXH64(fixed, size - 8, 0);
  for (int i = 0; i < 8; i++) fixed[size - 8 + i] = (uint8_t)(h >> (8 * i));
  decode(fixed, size);
  free(fixed);
  return 0;
}
