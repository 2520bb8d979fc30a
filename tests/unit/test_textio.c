/*
 * textio tests: blocks against a reference split on every small file and
 * every block size, gzip members and zstd frames (made with the gzip and
 * zstd commands), corrupt and truncated input, atomic writes, globs.
 */
#include "io/textio.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "testhelp.h"

static char dir[64];

static const char *at(const char *name) {
  static char bufs[4][512];
  static int i;
  i = (i + 1) % 4;
  snprintf(bufs[i], sizeof bufs[i], "%s/%s", dir, name);
  return bufs[i];
}

static void put(const char *path, const void *p, size_t n) {
  FILE *f = fopen(path, "wb");
  if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
    perror(path);
    exit(2);
  }
}

static char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return NULL;
  size_t cap = 1 << 16, len = 0;
  char *p = malloc(cap);
  size_t k;
  while ((k = fread(p + len, 1, cap - len, f)) > 0)
    if ((len += k) == cap) p = realloc(p, cap *= 2);
  fclose(f);
  *n = len;
  return p;
}

static int sh(const char *fmt, ...) {
  char cmd[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return system(cmd);
}

/* Lines joined with '\n' after a count, so "" and no lines differ. */
typedef struct lines {
  char *p;
  size_t len, cap;
  long n;
  char err[TEXTIO_ERRMAX];
} lines;

static void add(lines *l, const char *s, size_t n) {
  while (l->len + n + 1 > l->cap) l->p = realloc(l->p, l->cap = l->cap ? l->cap * 2 : 256);
  memcpy(l->p + l->len, s, n);
  l->len += n;
  l->p[l->len++] = '\n';
  l->n++;
}

static void clear(lines *l) {
  l->len = 0;
  l->n = 0;
  l->err[0] = '\0';
}

static int same(const lines *a, const lines *b) {
  return a->n == b->n && a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Appends the lines of a block to 'out'; returns 0, or -1 with out->err. */
static int readinto(lines *out, const char *path, textio_codec c, int64_t off, int64_t len) {
  textio_reader *r = textio_open(path, c, off, len, out->err);
  if (r == NULL) return -1;
  const char *s;
  size_t n;
  int st;
  while ((st = textio_next(r, &s, &n)) == 1) add(out, s, n);
  if (st < 0) snprintf(out->err, sizeof out->err, "%s", textio_reader_error(r));
  textio_reader_free(r);
  return st;
}

/* What the lines of 'p' must be: split at '\n', a last empty piece
 * dropped, a '\r' before each '\n' (or at the end) dropped. */
static void reference(lines *out, const char *p, size_t n) {
  size_t beg = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && p[i] != '\n') continue;
    if (i == n && beg == n) break;
    size_t end = i;
    if (end > beg && p[end - 1] == '\r') end--;
    add(out, p + beg, end - beg);
    beg = i + 1;
  }
}

static void test_blocks_exhaustive(void) {
  const char alphabet[] = "a\n\r";
  const char *path = at("small.txt");
  lines want = {0}, got = {0};
  long files = 0, bad = 0;
  for (int len = 0; len <= 7; len++) {
    long combos = 1;
    for (int i = 0; i < len; i++) combos *= 3;
    for (long k = 0; k < combos; k++) {
      char s[8];
      long v = k;
      for (int i = 0; i < len; i++, v /= 3) s[i] = alphabet[v % 3];
      put(path, s, (size_t)len);
      clear(&want);
      reference(&want, s, (size_t)len);
      files++;
      for (int bs = 1; bs <= len + 1; bs++) {
        clear(&got);
        for (int off = 0; off < len || (off == 0 && len == 0); off += bs)
          if (readinto(&got, path, TEXTIO_PLAIN, off, bs) < 0) bad++;
        if (!same(&got, &want)) {
          if (bad++ < 5) printf("block size %d splits %.*s wrongly\n", bs, len, s);
        }
      }
      clear(&got); /* and whole */
      if (readinto(&got, path, TEXTIO_PLAIN, 0, -1) < 0 || !same(&got, &want)) bad++;
    }
  }
  TEST("every line of every small file read once, whatever the block size", bad == 0);
  TEST("all small files tried", files == 3280);
  free(want.p);
  free(got.p);
}

static void test_blocks_edges(void) {
  const char *path = at("edges.txt");
  const char text[] = "first\r\n\nthird line\r\nlast";
  put(path, text, sizeof text - 1);
  lines l = {0};
  readinto(&l, path, TEXTIO_PLAIN, 0, -1);
  TEST("CRLF stripped, empty line kept, last line without newline counts",
       l.n == 4 && l.len == 23 && memcmp(l.p, "first\n\nthird line\nlast\n", 23) == 0);
  clear(&l);
  TEST("a block of length 0 has no lines", readinto(&l, path, TEXTIO_PLAIN, 0, 0) == 0 && l.n == 0);
  clear(&l);
  TEST("a block past the end has no lines",
       readinto(&l, path, TEXTIO_PLAIN, 1000, 10) == 0 && l.n == 0);
  clear(&l);
  readinto(&l, path, TEXTIO_PLAIN, 7, 1); /* the empty line starts at 7 */
  TEST("a block holding only an empty line's start", l.n == 1 && l.len == 1);
  clear(&l);
  readinto(&l, path, TEXTIO_PLAIN, 2, 1);
  TEST("a block inside a line has none", l.n == 0);
  clear(&l);
  readinto(&l, path, TEXTIO_PLAIN, 0, 1);
  TEST("a line crossing the block end is read to its end", l.n == 1 && l.len == 6);
  put(path, "", 0);
  clear(&l);
  TEST("an empty file has no lines", readinto(&l, path, TEXTIO_PLAIN, 0, -1) == 0 && l.n == 0);
  clear(&l);
  TEST("a missing file is an error naming it",
       readinto(&l, at("nope.txt"), TEXTIO_PLAIN, 0, -1) < 0
       && strstr(l.err, "cannot open") && strstr(l.err, "nope.txt"));
  clear(&l);
  TEST("a compressed file has no blocks",
       readinto(&l, path, TEXTIO_GZIP, 10, -1) < 0 && strstr(l.err, "read whole"));
  free(l.p);
}

/* Lines longer than the buffer, blocks cut through them. */
static void test_long_lines(void) {
  const char *path = at("long.txt");
  size_t big = 3 * TEXTIO_BUFSIZE + 123, n = 0;
  char *p = malloc(big + 64);
  memset(p, 'x', big);
  n = big;
  memcpy(p + n, "\nshort\r\n\n", 9);
  n += 9;
  memset(p + n, 'y', 20);
  n += 20;
  put(path, p, n);
  lines want = {0}, got = {0};
  reference(&want, p, n);
  int64_t sizes[] = {65536, TEXTIO_BUFSIZE - 1, TEXTIO_BUFSIZE, TEXTIO_BUFSIZE + 1, 2 * TEXTIO_BUFSIZE - 1};
  int ok = 1;
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    clear(&got);
    for (int64_t off = 0; off < (int64_t)n; off += sizes[i])
      if (readinto(&got, path, TEXTIO_PLAIN, off, sizes[i]) < 0) ok = 0;
    ok = ok && same(&got, &want);
  }
  TEST("lines of several buffers, across blocks of every size", ok && want.n == 4);
  /* the same through the compressors */
  sh("gzip -1 -c %s > %s.gz && zstd -q -c %s > %s.zst", path, path, path, path);
  clear(&got);
  char gz[512], zst[512];
  snprintf(gz, sizeof gz, "%s.gz", path);
  snprintf(zst, sizeof zst, "%s.zst", path);
  TEST("long lines through gzip", readinto(&got, gz, TEXTIO_GZIP, 0, -1) == 0 && same(&got, &want));
  clear(&got);
  TEST("long lines through zstd", readinto(&got, zst, TEXTIO_ZSTD, 0, -1) == 0 && same(&got, &want));
  free(p);
  free(want.p);
  free(got.p);
}

/* Text of 'n' lines, "line N of SEED ...", deterministic. */
static char *make_text(int n, int seed, size_t *len) {
  size_t cap = (size_t)n * 80 + 1;
  char *p = malloc(cap);
  size_t k = 0;
  unsigned x = (unsigned)seed * 2654435761u + 1;
  for (int i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    k += (size_t)snprintf(p + k, cap - k, "line %d of %d: %u %s\n", i, seed, x,
                          (x >> 8) % 3 == 0 ? "" : "padding padding");
  }
  *len = k;
  return p;
}

static void test_gzip_members(void) {
  size_t na, nb;
  char *a = make_text(5000, 1, &na), *b = make_text(7000, 2, &nb);
  put(at("a.txt"), a, na);
  put(at("b.txt"), b, nb);
  lines want = {0}, got = {0};
  reference(&want, a, na);
  reference(&want, b, nb);
  const char *ab = at("ab.gz");
  sh("gzip -c %s > %s && gzip -9 -c %s >> %s", at("a.txt"), ab, at("b.txt"), ab);
  TEST("two members (cat a.gz b.gz) are read both",
       readinto(&got, ab, TEXTIO_GZIP, 0, -1) == 0 && same(&got, &want));
  /* many tiny members, as bgzip or pigz --independent make */
  sh("cd %s && split -l 50 b.txt part. && rm -f many.gz && for f in part.*; do gzip -c $f >> many.gz; done",
     dir);
  clear(&got);
  clear(&want);
  reference(&want, b, nb);
  TEST("140 members read in order", readinto(&got, at("many.gz"), TEXTIO_GZIP, 0, -1) == 0
                                     && same(&got, &want));
  /* zero padding after the last member is ignored, as gzip does */
  sh("head -c 1000 /dev/zero >> %s", at("many.gz"));
  clear(&got);
  TEST("zero padding after a member ignored",
       readinto(&got, at("many.gz"), TEXTIO_GZIP, 0, -1) == 0 && same(&got, &want));
  sh("printf 'junk' >> %s", at("many.gz"));
  clear(&got);
  TEST("garbage after a member is an error",
       readinto(&got, at("many.gz"), TEXTIO_GZIP, 0, -1) < 0
       && strstr(got.err, "corrupt gzip data in") && strstr(got.err, "many.gz"));
  put(at("empty.gz"), "", 0);
  clear(&got);
  TEST("an empty .gz has no lines", readinto(&got, at("empty.gz"), TEXTIO_GZIP, 0, -1) == 0
                                    && got.n == 0);
  free(a);
  free(b);
  free(want.p);
  free(got.p);
}

/* A member boundary at every position around the reader's input buffer
 * boundary: the first member is padded with a file name (FNAME) so that
 * it ends exactly where wanted, and the second member's header, or the
 * first one's trailer, straddles the refill. */
static void test_gzip_boundaries(void) {
  size_t na, nb, n1, n2;
  char *a = make_text(3000, 3, &na), *b = make_text(50, 4, &nb);
  put(at("m1.txt"), a, na);
  put(at("m2.txt"), b, nb);
  sh("gzip -n -c %s > %s && gzip -n -c %s > %s", at("m1.txt"), at("m1.gz"), at("m2.txt"),
     at("m2.gz"));
  char *m1 = slurp(at("m1.gz"), &n1), *m2 = slurp(at("m2.gz"), &n2);
  lines want = {0}, got = {0};
  reference(&want, a, na);
  reference(&want, b, nb);
  size_t cap = TEXTIO_BUFSIZE + 64 + n2;
  char *f = malloc(cap);
  int bad = 0;
  for (size_t end = TEXTIO_BUFSIZE - 24; end <= TEXTIO_BUFSIZE + 24; end++) {
    size_t pad = end - n1; /* name bytes and its NUL */
    memcpy(f, m1, 10);
    f[3] |= 8; /* FNAME */
    memset(f + 10, 'n', pad - 1);
    f[10 + pad - 1] = '\0';
    memcpy(f + 10 + pad, m1 + 10, n1 - 10);
    memcpy(f + end, m2, n2);
    put(at("edge.gz"), f, end + n2);
    clear(&got);
    if (readinto(&got, at("edge.gz"), TEXTIO_GZIP, 0, -1) < 0 || !same(&got, &want)) {
      if (bad++ < 3) printf("member ending at %zu: %s\n", end, got.err);
    }
  }
  TEST("member ends around the input buffer's edge", bad == 0);
  free(f);
  free(m1);
  free(m2);
  free(a);
  free(b);
  free(want.p);
  free(got.p);
}

static void test_gzip_damage(void) {
  size_t na, nz;
  char *a = make_text(40, 5, &na);
  put(at("d.txt"), a, na);
  sh("gzip -c %s > %s", at("d.txt"), at("d.gz"));
  char *z = slurp(at("d.gz"), &nz);
  lines got = {0};
  int bad = 0;
  for (size_t len = 1; len < nz; len++) {
    put(at("cut.gz"), z, len);
    clear(&got);
    if (readinto(&got, at("cut.gz"), TEXTIO_GZIP, 0, -1) >= 0
        || !strstr(got.err, "truncated gzip data in") || !strstr(got.err, "cut.gz")) {
      if (bad++ < 3) printf("cut at %zu of %zu: %s\n", len, nz, got.err);
    }
  }
  TEST("a .gz cut at any byte is truncated", bad == 0);
  char *c = malloc(nz);
  memcpy(c, z, nz);
  c[nz - 6] ^= 0x55; /* in the CRC */
  put(at("crc.gz"), c, nz);
  clear(&got);
  TEST("a bad checksum is corrupt data", readinto(&got, at("crc.gz"), TEXTIO_GZIP, 0, -1) < 0
                                         && strstr(got.err, "corrupt gzip data in")
                                         && strstr(got.err, "checksum"));
  memcpy(c, z, nz);
  c[0] = 'x';
  put(at("magic.gz"), c, nz);
  clear(&got);
  TEST("not gzip at all", readinto(&got, at("magic.gz"), TEXTIO_GZIP, 0, -1) < 0
                          && strstr(got.err, "not in gzip format"));
  int detected = 0;
  for (size_t i = 20; i < nz - 8; i++) {
    memcpy(c, z, nz);
    c[i] ^= 0xff;
    put(at("flip.gz"), c, nz);
    clear(&got);
    if (readinto(&got, at("flip.gz"), TEXTIO_GZIP, 0, -1) < 0 && strstr(got.err, "gzip data in"))
      detected++;
  }
  TEST("every flipped byte of the body detected", detected == (int)(nz - 28));
  free(c);
  free(z);
  free(a);
  free(got.p);
}

static void test_zstd(void) {
  size_t na, nb, nz;
  char *a = make_text(3000, 6, &na), *b = make_text(20, 7, &nb);
  put(at("za.txt"), a, na);
  put(at("zb.txt"), b, nb);
  const char *zf = at("frames.zst");
  sh("zstd -q -c %s > %s && zstd -q -19 -c %s >> %s", at("za.txt"), zf, at("zb.txt"), zf);
  lines want = {0}, got = {0};
  reference(&want, a, na);
  reference(&want, b, nb);
  TEST("concatenated zstd frames read all", readinto(&got, zf, TEXTIO_ZSTD, 0, -1) == 0
                                             && same(&got, &want));
  /* a skippable frame between them is skipped */
  char *z = slurp(zf, &nz);
  char *s = malloc(nz + 16);
  static const unsigned char skip[] = {0x50, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 'a', 'b', 'c', 'd'};
  memcpy(s, skip, sizeof skip);
  memcpy(s + sizeof skip, z, nz);
  put(at("skip.zst"), s, nz + sizeof skip);
  clear(&got);
  TEST("a skippable frame is skipped", readinto(&got, at("skip.zst"), TEXTIO_ZSTD, 0, -1) == 0
                                       && same(&got, &want));
  free(z);
  sh("zstd -q -c %s > %s", at("zb.txt"), at("one.zst"));
  z = slurp(at("one.zst"), &nz);
  int bad = 0;
  for (size_t len = 1; len < nz; len++) {
    put(at("cut.zst"), z, len);
    clear(&got);
    if (readinto(&got, at("cut.zst"), TEXTIO_ZSTD, 0, -1) >= 0
        || !strstr(got.err, "truncated zstd frame in") || !strstr(got.err, "cut.zst")) {
      if (bad++ < 3) printf("zstd cut at %zu of %zu: %s\n", len, nz, got.err);
    }
  }
  TEST("a .zst cut at any byte is a truncated frame", bad == 0);
  int detected = 0;
  for (size_t i = 0; i < nz; i++) {
    memcpy(s, z, nz);
    s[i] ^= 0xff;
    put(at("flip.zst"), s, nz);
    clear(&got);
    if (readinto(&got, at("flip.zst"), TEXTIO_ZSTD, 0, -1) < 0 && strstr(got.err, "zstd"))
      detected++;
  }
  TEST("every flipped byte of a checksummed frame detected", detected == (int)nz);
  memcpy(s, z, nz);
  s[nz / 2] ^= 0x40;
  put(at("bad.zst"), s, nz);
  clear(&got);
  readinto(&got, at("bad.zst"), TEXTIO_ZSTD, 0, -1);
  TEST("corrupt zstd names the file", strstr(got.err, "corrupt zstd data in")
                                      && strstr(got.err, "bad.zst"));
  put(at("empty.zst"), "", 0);
  clear(&got);
  TEST("an empty .zst has no lines", readinto(&got, at("empty.zst"), TEXTIO_ZSTD, 0, -1) == 0
                                     && got.n == 0);
  free(s);
  free(z);
  free(a);
  free(b);
  free(want.p);
  free(got.p);
}

/* Entries of 'sub' in the test directory, -1 if it cannot be read. */
static int count_entries(const char *sub) {
  DIR *d = opendir(at(sub));
  if (d == NULL) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
  closedir(d);
  return n;
}

static int write_lines(const char *path, textio_codec c, const lines *l, char *err) {
  textio_writer *w = textio_create(path, c, 0, err);
  if (w == NULL) return -1;
  const char *p = l->p;
  for (long i = 0; i < l->n; i++) {
    const char *nl = memchr(p, '\n', (size_t)(l->p + l->len - p));
    if (textio_write_line(w, p, (size_t)(nl - p)) < 0) break;
    p = nl + 1;
  }
  int rc = textio_commit(w);
  if (rc < 0) snprintf(err, TEXTIO_ERRMAX, "%s", textio_writer_error(w));
  textio_writer_free(w);
  return rc;
}

static void test_write(void) {
  size_t na;
  char *a = make_text(20000, 8, &na);
  lines want = {0}, got = {0};
  reference(&want, a, na);
  add(&want, "", 0);
  char *big = malloc(2 * TEXTIO_BUFSIZE + 7);
  memset(big, 'z', 2 * TEXTIO_BUFSIZE + 7);
  add(&want, big, 2 * TEXTIO_BUFSIZE + 7);
  char err[TEXTIO_ERRMAX];
  static const struct {
    const char *name;
    textio_codec c;
    const char *cmd;
  } cases[] = {
    {"out/a/b/plain.txt", TEXTIO_PLAIN, "cat"},
    {"out/a/b/c.txt.gz", TEXTIO_GZIP, "gzip -dc"},
    {"out/a/b/c.txt.zst", TEXTIO_ZSTD, "zstd -q -dc"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *path = at(cases[i].name);
    TEST("write creates directories and the file", write_lines(path, cases[i].c, &want, err) == 0);
    clear(&got);
    TEST("what was written reads back", readinto(&got, path, cases[i].c, 0, -1) == 0
                                        && same(&got, &want));
    sh("%s %s > %s", cases[i].cmd, path, at("check.txt"));
    clear(&got);
    readinto(&got, at("check.txt"), TEXTIO_PLAIN, 0, -1);
    TEST("and the command line tool reads it the same", same(&got, &want));
  }
  TEST("nothing but the files is left", count_entries("out/a/b") == 3);
  /* overwrite: the new content replaces the old */
  lines small = {0};
  add(&small, "new", 3);
  TEST("an existing file is replaced", write_lines(at("out/a/b/plain.txt"), TEXTIO_PLAIN, &small,
                                                   err) == 0);
  size_t n;
  char *p = slurp(at("out/a/b/plain.txt"), &n);
  TEST("with the new content only", n == 4 && memcmp(p, "new\n", 4) == 0);
  free(p);
  /* a file cannot replace a directory: the temporary file goes away */
  sh("mkdir -p %s", at("out/isdir"));
  TEST("renaming over a directory fails", write_lines(at("out/isdir"), TEXTIO_PLAIN, &small,
                                                      err) < 0
                                          && strstr(err, "cannot write") && strstr(err, "isdir"));
  TEST("and leaves nothing behind", count_entries("out") == 2);
  /* a directory component that is a file */
  TEST("a file in the way of a directory is an error",
       write_lines(at("out/a/b/plain.txt/x.txt"), TEXTIO_PLAIN, &small, err) < 0
       && strstr(err, "plain.txt"));
  /* the file size limit makes a write fail half-way */
  struct rlimit old, lim;
  getrlimit(RLIMIT_FSIZE, &old);
  lim = old;
  lim.rlim_cur = 100000;
  signal(SIGXFSZ, SIG_IGN);
  setrlimit(RLIMIT_FSIZE, &lim);
  int full = write_lines(at("out/full/f.txt"), TEXTIO_PLAIN, &want, err);
  int fullgz = write_lines(at("out/full/f.txt.gz"), TEXTIO_GZIP, &want, err);
  setrlimit(RLIMIT_FSIZE, &old);
  TEST("a failed write is an error naming the file", full < 0 && fullgz < 0
                                                     && strstr(err, "cannot write")
                                                     && strstr(err, "f.txt.gz"));
  TEST("a failed write leaves nothing behind", count_entries("out/full") == 0);
  /* abandoned before commit */
  textio_writer *w = textio_create(at("out/full/gone.txt"), TEXTIO_ZSTD, TEXTIO_SYNC, err);
  textio_write_line(w, "x", 1);
  TEST("an abandoned write has a temporary file", count_entries("out/full") == 1);
  textio_writer_free(w);
  TEST("which goes with it", count_entries("out/full") == 0);
  w = textio_create(at("out/full/synced.txt"), TEXTIO_PLAIN, TEXTIO_SYNC, err);
  textio_write_line(w, "x", 1);
  TEST("a synced write", textio_commit(w) == 0 && count_entries("out/full") == 1);
  textio_writer_free(w);
  TEST("a path ending in / is no file name",
       textio_create(at("out/"), TEXTIO_PLAIN, 0, err) == NULL && strstr(err, "not a file name"));
  free(small.p);
  free(big);
  free(a);
  free(want.p);
  free(got.p);
}

/* textio_limit: a block of a file that grew reads what it had. */
static void test_limit(void) {
  char err[TEXTIO_ERRMAX];
  sh("mkdir -p %s && printf 'one\\ntwo\\nthr' > %s", at("lim"), at("lim/f.txt"));
  sh("printf 'ee\\nfour\\n' >> %s", at("lim/f.txt"));
  int64_t offs[] = {0, 1, 4, 8, 10};
  const char *want[] = {"one|two|thr|", "two|thr|", "two|thr|", "thr|", ""};
  for (int k = 0; k < 5; k++) {
    textio_reader *r = textio_open(at("lim/f.txt"), TEXTIO_PLAIN, offs[k], -1, err);
    textio_limit(r, 11);
    char got[64] = "";
    const char *s;
    size_t n;
    while (textio_next(r, &s, &n) == 1) snprintf(got + strlen(got), sizeof got - strlen(got), "%.*s|", (int)n, s);
    TEST("a limited read sees the first bytes only", strcmp(got, want[k]) == 0);
    textio_reader_free(r);
  }
  textio_reader *r = textio_open(at("lim/f.txt"), TEXTIO_PLAIN, 0, -1, err);
  textio_limit(r, 100);
  const char *s;
  size_t n;
  int st;
  while ((st = textio_next(r, &s, &n)) == 1) {}
  TEST("a file shorter than its limit is an error", st == -1
       && strstr(textio_reader_error(r), "shorter than the 100 bytes"));
  textio_reader_free(r);
}

static void test_expand(void) {
  sh("mkdir -p %s && cd %s && touch b.csv a.csv a10.csv a9.csv B.csv c.txt", at("g"), at("g"));
  textio_paths p = {0};
  char err[TEXTIO_ERRMAX];
  TEST("a pattern", textio_expand(at("g/*.csv"), &p, err) == 0 && p.n == 5);
  static const char *order[] = {"B.csv", "a.csv", "a10.csv", "a9.csv", "b.csv"};
  int ok = p.n == 5;
  for (size_t i = 0; ok && i < 5; i++) ok = strcmp(strrchr(p.v[i], '/') + 1, order[i]) == 0;
  TEST("sorted bytewise", ok);
  TEST("a plain path appends", textio_expand(at("g/c.txt"), &p, err) == 0 && p.n == 6
                               && strcmp(p.v[5], at("g/c.txt")) == 0);
  TEST("a missing file is an error naming it",
       textio_expand(at("g/none.txt"), &p, err) < 0 && strstr(err, "no such file")
       && strstr(err, "none.txt") && p.n == 6);
  TEST("a pattern matching nothing is an error naming it",
       textio_expand(at("g/*.json"), &p, err) < 0 && strstr(err, "no files match")
       && strstr(err, "*.json"));
  sh("mkdir -p %s", at("g/d.csv"));
  TEST("a pattern matching a directory is an error naming it",
       textio_expand(at("g/*.csv"), &p, err) < 0 && strstr(err, "matches a directory")
       && strstr(err, "d.csv") && p.n == 6);
  TEST("a directory is no file", textio_expand(at("g/d.csv"), &p, err) < 0
                                 && strstr(err, "is a directory") && p.n == 6);
  textio_paths_free(&p);
  TEST("freed paths are empty", p.n == 0 && p.v == NULL);
  TEST("size", textio_size(at("out/a/b/plain.txt"), err) == 4);
  TEST("size of a missing file", textio_size(at("nope"), err) < 0 && strstr(err, "nope"));
}

static void test_names(void) {
  const char *name = NULL;
  TEST("gz", textio_codec_of("x.json.gz", &name) == TEXTIO_GZIP);
  TEST("zst", textio_codec_of("x.zst", &name) == TEXTIO_ZSTD);
  TEST("plain", textio_codec_of("x.gzip", &name) == TEXTIO_PLAIN);
  TEST("bz2 unsupported", textio_codec_of("x.bz2", &name) < 0 && strcmp(name, "bz2") == 0);
  TEST("named", textio_codec_named("zstd") == TEXTIO_ZSTD && textio_codec_named("gz") < 0);
  static const struct {
    const char *s;
    int64_t v;
  } good[] = {
    {"100", 100}, {"32KiB", 32768}, {"64MiB", 64 << 20}, {"1GB", 1000000000},
    {"128kB", 128000}, {"1.5MiB", 1572864}, {"5 kb", 5000}, {"MB", 1000000},
    {"1 gib", 1 << 30}, {"2ki", 2048}, {"3k", 3000}, {"7b", 7}, {"0.5", 0},
    {"9223372036854775807", INT64_MAX}, {"8EiB", -1},
  };
  int ok = 1;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    int64_t v = -1;
    int rc = textio_parse_bytes(good[i].s, &v);
    if (good[i].v < 0 ? rc == 0 : rc != 0 || v != good[i].v) {
      printf("parse_bytes(%s) = %d, %lld\n", good[i].s, rc, (long long)v);
      ok = 0;
    }
  }
  TEST("byte sizes as Dask reads them", ok);
  static const char *bad[] = {"", "12 parsecs", "-5kB", "1.2.3MB", "kB5", "1e3", "10000000000PiB",
                              "9223372036854775808", "."};
  ok = 1;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int64_t v;
    if (textio_parse_bytes(bad[i], &v) == 0) {
      printf("parse_bytes(%s) accepted: %lld\n", bad[i], (long long)v);
      ok = 0;
    }
  }
  TEST("malformed byte sizes refused", ok);
}

/* Allocation failure (testes/api.lua testamem): for k = 1, 2, ...
 * allocation k of 'run' fails, until a run makes no failing allocation.
 * Every failed run must say "out of memory" (ASan in CI finds a leak or
 * a bad access); the passing one must give 'want'.  Returns the number
 * of failed runs, or -1 when one failed otherwise. */
static int under_failures(int (*run)(const char *, textio_codec, lines *), const char *path,
                          textio_codec c, const lines *want) {
  lines got = {0};
  int failed = 0;
  for (long k = 1; k < 1000; k++) {
    clear(&got);
    base_alloc_fail_after(k);
    int rc = run(path, c, &got);
    long made = base_alloc_fail_after(-1);
    if (rc == 0) {
      int ok = made < k && same(&got, want);
      free(got.p);
      return ok ? failed : -1;
    }
    if (strstr(got.err, "out of memory") == NULL) {
      printf("allocation %ld: %s\n", k, got.err);
      break;
    }
    failed++;
  }
  free(got.p);
  return -1;
}

static int read_all(const char *path, textio_codec c, lines *out) {
  return readinto(out, path, c, 0, -1) < 0 ? -1 : 0;
}

/* A block of the file: its lines starting in [n/32, n/16). */
static int read_block(const char *path, textio_codec c, lines *out) {
  char err[TEXTIO_ERRMAX];
  int64_t n = textio_size(path, err);
  return readinto(out, path, c, n / 32, n / 16 - n / 32) < 0 ? -1 : 0;
}

/* Writes the file again (the lines read back), then reads it. */
static int write_read(const char *path, textio_codec c, lines *out) {
  const char *copy = at(c == TEXTIO_GZIP ? "wcopy.gz" : c == TEXTIO_ZSTD ? "wcopy.zst" : "wcopy");
  lines src = {0};
  int rc = readinto(&src, path, c, 0, -1);
  if (rc == 0) rc = write_lines(copy, c, &src, out->err);
  else snprintf(out->err, sizeof out->err, "%s", src.err);
  free(src.p);
  return rc < 0 ? -1 : read_all(copy, c, out);
}

static int expand(const char *pattern, textio_codec c, lines *out) {
  (void)c;
  textio_paths p = {0};
  if (textio_expand(pattern, &p, out->err) < 0) { /* 'p' may have grown: ours to free */
    textio_paths_free(&p);
    return -1;
  }
  for (size_t i = 0; i < p.n; i++) add(out, strrchr(p.v[i], '/') + 1, strlen(strrchr(p.v[i], '/') + 1));
  textio_paths_free(&p);
  return 0;
}

static void test_alloc_failure(void) {
  /* a line longer than the buffer, so that it grows too */
  size_t n = 0, big = TEXTIO_BUFSIZE + 100;
  char *text = make_text(3000, 9, &n);
  text = realloc(text, n + big + 1);
  memset(text + n, 'z', big);
  n += big;
  text[n++] = '\n';
  char plain[512];
  snprintf(plain, sizeof plain, "%s", at("amem.txt"));
  put(plain, text, n);
  sh("gzip -1 -c %s > %s.gz && zstd -q -c %s > %s.zst", plain, plain, plain, plain);
  char gz[520], zst[520];
  snprintf(gz, sizeof gz, "%s.gz", plain);
  snprintf(zst, sizeof zst, "%s.zst", plain);
  lines all = {0}, block = {0}, names = {0};
  reference(&all, text, n);
  if (read_block(plain, TEXTIO_PLAIN, &block) < 0) block.n = -1;
  add(&names, "amem.txt", 8);
  add(&names, "amem.txt.gz", 11);
  add(&names, "amem.txt.zst", 12);
  int f;
  TEST("plain: every allocation failure reported", (f = under_failures(read_all, plain, TEXTIO_PLAIN, &all)) >= 3);
  TEST("a plain block: every allocation failure reported",
       block.n > 0 && under_failures(read_block, plain, TEXTIO_PLAIN, &block) >= 3);
  TEST("gzip: every allocation failure reported", under_failures(read_all, gz, TEXTIO_GZIP, &all) >= 4);
  TEST("zstd: every allocation failure reported", under_failures(read_all, zst, TEXTIO_ZSTD, &all) >= 4);
  for (textio_codec c = TEXTIO_PLAIN; c <= TEXTIO_ZSTD; c++)
    TEST("writing: every allocation failure reported",
         under_failures(write_read, c == TEXTIO_GZIP ? gz : c == TEXTIO_ZSTD ? zst : plain, c, &all) >= f + 3);
  TEST("globbing: every allocation failure reported", under_failures(expand, at("amem.t*"), 0, &names) >= 3);
  free(text);
  free(all.p);
  free(block.p);
  free(names.p);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/dusk-textio-XXXXXX");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 2;
  }
  test_names();
  test_blocks_exhaustive();
  test_blocks_edges();
  test_long_lines();
  test_gzip_members();
  test_gzip_boundaries();
  test_gzip_damage();
  test_zstd();
  test_write();
  test_limit();
  test_expand();
  test_alloc_failure();
  sh("rm -rf %s", dir);
  return test_report();
}
