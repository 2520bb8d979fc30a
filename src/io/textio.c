/*
 * textio: text files as lines (see textio.h).
 *
 * DESIGN
 *
 * Reading.  A reader owns one growing buffer of decoded bytes; the lines
 * not yet handed out are buf[beg, end), and 'scan' is where the search for
 * the next '\n' resumes, so no byte is looked at twice.  When no newline
 * is left, the partial line moves to the front (at most one line per
 * refill, so the copy is small) and the source appends up to a buffer's
 * worth: read(2) for plain files, isal_inflate or ZSTD_decompressStream
 * for compressed ones, each from an input buffer of its own.  The buffer
 * doubles when one line outgrows it.
 *
 * Blocks of plain files.  A line belongs to the block holding its first
 * byte.  A block at 'offset' > 0 therefore starts after the first '\n' at
 * or after offset - 1 (a line starts at 0 or right after a '\n'), and it
 * stops handing out lines once a line would start at offset + length or
 * later; the last line it hands out is read to its end.
 *
 * gzip.  A .gz file is a sequence of members (gzip, pigz, bgzip, `cat
 * a.gz b.gz`): at the end of each member the inflate state is reset and
 * decoding goes on while input remains.  Zero bytes after a member are
 * padding and skipped, as gzip and Python's gzip module do; anything else
 * must be another member.  Input that ends inside a member is truncated.
 * An empty file has no lines, as in Python.  zstd decodes concatenated
 * frames (and skips skippable ones) by itself; input ending inside a
 * frame is truncated.
 *
 * Writing.  Lines are gathered in a buffer and go out a buffer at a time,
 * through the compressor if any, to ".NAME.tmp-PID-N" in the target's
 * directory (created when missing), which is renamed over the target when
 * everything is written and closed: another process sees the whole file
 * or none, and a failure removes the temporary file.  No fsync unless
 * TEXTIO_SYNC is asked (as Dask): a crash of the machine can leave an
 * empty or partial file under the final name on some file systems; a
 * failure of dusk cannot.
 */
#include "io/textio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isa-l/igzip_lib.h>
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_customMem: memory from base/alloc.h */
#include <zstd.h>
#include <zstd_errors.h>

#include "base/alloc.h"
#include "base/interrupt.h"

#define GZIP_LEVEL 1 /* ISA-L's levels are 0-3; see textio_create */
#define GZIP_LEVEL_BUF ISAL_DEF_LVL1_DEFAULT
#define ZSTD_LEVEL 3

static const ZSTD_customMem zstd_mem = {base_zalloc, base_zfree, NULL};

static void setmsg(char *err, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, TEXTIO_ERRMAX, fmt, ap);
  va_end(ap);
}

static int endswith(const char *s, const char *suffix) {
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

int textio_codec_of(const char *path, const char **name) {
  static const char *const unsupported[][2] = {
    {".bz2", "bz2"}, {".xz", "xz"}, {".lz4", "lz4"}, {".lzma", "lzma"}, {".zip", "zip"},
  };
  if (endswith(path, ".gz")) return TEXTIO_GZIP;
  if (endswith(path, ".zst")) return TEXTIO_ZSTD;
  for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
    if (endswith(path, unsupported[i][0])) {
      *name = unsupported[i][1];
      return -1;
    }
  return TEXTIO_PLAIN;
}

int textio_codec_named(const char *name) {
  if (strcmp(name, "gzip") == 0) return TEXTIO_GZIP;
  if (strcmp(name, "zstd") == 0) return TEXTIO_ZSTD;
  return -1;
}

const char *textio_codec_name(textio_codec c) {
  return c == TEXTIO_GZIP ? "gzip" : c == TEXTIO_ZSTD ? "zstd" : NULL;
}

/* ---- reading ---- */

struct textio_reader {
  int fd;
  textio_codec codec;
  char *path;
  char *buf;
  size_t cap, beg, scan, end;
  int64_t buf_pos; /* file offset of buf[0] (plain files) */
  int64_t stop;    /* lines must start before this offset */
  int regular;     /* a regular file (not a pipe) */
  int64_t limit;   /* the size the file is read as (textio_limit), or -1 */
  int64_t left;    /* bytes of the file still to read up to 'limit' */
  int skip;        /* still looking for the first line start of a block */
  int eof;         /* the source has nothing more */
  int done;
  int failed;
  int64_t lineno;
  /* compressed input */
  unsigned char *in;
  size_t in_cap;
  int in_eof;
  struct inflate_state *gz;
  int members;     /* gzip members decoded completely */
  int member_done; /* between two members */
  ZSTD_DCtx *zs;
  ZSTD_inBuffer zin;
  size_t zret; /* last ZSTD_decompressStream result: 0 at a frame end */
  char err[TEXTIO_ERRMAX];
};

static int fail(textio_reader *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err, sizeof r->err, fmt, ap);
  va_end(ap);
  r->failed = 1;
  return -1;
}

static int interrupted(textio_reader *r) {
  fail(r, "interrupted!");
  return TEXTIO_INTERRUPTED;
}

/* read(2) without EINTR; -1 with errno. */
static ssize_t read_some(int fd, void *p, size_t n) {
  ssize_t got;
  do got = read(fd, p, n); while (got < 0 && errno == EINTR);
  return got;
}

/* Reads the file, never past its limit; -1 on an error, which is also
 * what an end before the limit is (the file shrank). */
static ssize_t read_file(textio_reader *r, void *p, size_t n) {
  if (r->limit >= 0 && (int64_t)n > r->left) n = (size_t)r->left;
  if (n == 0) return 0;
  ssize_t got = read_some(r->fd, p, n);
  if (got < 0) return fail(r, "cannot read %s: %s", r->path, strerror(errno));
  if (r->limit < 0) return got;
  if (got == 0)
    return fail(r, "cannot read %s: it is shorter than the %lld bytes it had when it was listed",
                r->path, (long long)r->limit);
  r->left -= got;
  return got;
}

/* Fills the compressed input buffer; -1 on a read error. */
static ssize_t read_input(textio_reader *r) {
  ssize_t n = read_file(r, r->in, r->in_cap);
  if (n < 0) return -1;
  if (n == 0) r->in_eof = 1;
  return n;
}

static const char *isal_reason(int ret, int members) {
  switch (ret) {
  case ISAL_INVALID_BLOCK: return "invalid deflate block";
  case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
  case ISAL_INVALID_LOOKBACK: return "invalid back-reference distance";
  case ISAL_INVALID_WRAPPER:
    return members == 0 ? "not in gzip format" : "bad gzip header";
  case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
  case ISAL_INCORRECT_CHECKSUM: return "checksum mismatch";
  case ISAL_NEED_DICT: return "needs a preset dictionary";
  default: return "unexpected decoder status";
  }
}

/* Decodes gzip into 'dst' until it is full or the input is exhausted.
 * Returns the bytes written (0: end of data), or -1. */
static ssize_t gz_read(textio_reader *r, char *dst, size_t room) {
  struct inflate_state *s = r->gz;
  if (room > UINT32_MAX) room = UINT32_MAX;
  s->next_out = (uint8_t *)dst;
  s->avail_out = (uint32_t)room;
  for (;;) {
    /* input may decode to little (padding between members): poll here too */
    if (rt_interrupt_pending()) return interrupted(r);
    if (s->avail_in == 0 && !r->in_eof) {
      ssize_t n = read_input(r);
      if (n < 0) return -1;
      s->next_in = r->in;
      s->avail_in = (uint32_t)n;
    }
    if (r->member_done) {
      if (r->members > 0)
        while (s->avail_in > 0 && *s->next_in == 0) s->next_in++, s->avail_in--;
      if (s->avail_in == 0) {
        if (r->in_eof) return (ssize_t)(room - s->avail_out);
        continue;
      }
      if (r->members > 0 && (s->next_in[0] != 0x1f || (s->avail_in > 1 && s->next_in[1] != 0x8b)))
        return fail(r, "corrupt gzip data in %s (garbage after member %d)", r->path, r->members);
      /* another member: the reset keeps the input and output pointers */
      isal_inflate_reset(s);
      s->crc_flag = ISAL_GZIP;
      r->member_done = 0;
    }
    int ret = isal_inflate(s);
    if (ret != ISAL_DECOMP_OK)
      return fail(r, "corrupt gzip data in %s (%s)", r->path, isal_reason(ret, r->members));
    if (s->block_state == ISAL_BLOCK_FINISH) {
      r->members++;
      r->member_done = 1;
    }
    if (s->avail_out == 0) return (ssize_t)room;
    if (!r->member_done && s->avail_in == 0 && r->in_eof)
      return fail(r, "truncated gzip data in %s (unexpected end of file)", r->path);
  }
}

/* As gz_read, for zstd. */
static ssize_t zstd_read(textio_reader *r, char *dst, size_t room) {
  ZSTD_outBuffer out = {dst, room, 0};
  for (;;) {
    if (rt_interrupt_pending()) return interrupted(r);
    if (r->zin.pos == r->zin.size && !r->in_eof) {
      ssize_t n = read_input(r);
      if (n < 0) return -1;
      r->zin.src = r->in;
      r->zin.size = (size_t)n;
      r->zin.pos = 0;
    }
    /* between frames with no input left: the end */
    if (r->zin.pos == r->zin.size && r->zret == 0) return (ssize_t)out.pos;
    r->zret = ZSTD_decompressStream(r->zs, &out, &r->zin);
    if (ZSTD_getErrorCode(r->zret) == ZSTD_error_memory_allocation)
      return fail(r, "out of memory reading %s", r->path);
    if (ZSTD_isError(r->zret))
      return fail(r, "corrupt zstd data in %s (%s)", r->path, ZSTD_getErrorName(r->zret));
    if (out.pos == out.size) return (ssize_t)out.pos;
    /* output not full and input used up: the decoder wants more */
    if (r->zin.pos == r->zin.size && r->in_eof && r->zret != 0)
      return fail(r, "truncated zstd frame in %s", r->path);
  }
}

/* Appends decoded bytes to buf[end, cap): returns how many (0 at the
 * end), or -1. */
static ssize_t source_read(textio_reader *r) {
  char *dst = r->buf + r->end;
  size_t room = r->cap - r->end;
  switch (r->codec) {
  case TEXTIO_GZIP: return gz_read(r, dst, room);
  case TEXTIO_ZSTD: return zstd_read(r, dst, room);
  default: break;
  }
  return read_file(r, dst, room);
}

/* Makes room after buf[end] and reads into it; sets 'eof' at the end.
 * Returns 0, -1 or TEXTIO_INTERRUPTED. */
static int refill(textio_reader *r) {
  if (rt_interrupt_pending()) return interrupted(r);
  if (r->beg > 0) {
    size_t keep = r->end - r->beg;
    memmove(r->buf, r->buf + r->beg, keep);
    r->buf_pos += (int64_t)r->beg;
    r->scan -= r->beg;
    r->end = keep;
    r->beg = 0;
  }
  if (r->end == r->cap) {
    char *p = r->cap <= SIZE_MAX / 2 ? base_realloc(r->buf, r->cap * 2) : NULL;
    if (p == NULL) return fail(r, "out of memory reading %s (a line of %zu bytes)", r->path, r->end);
    r->buf = p;
    r->cap *= 2;
  }
  ssize_t n = source_read(r);
  if (n < 0) return (int)n;
  if (n == 0) r->eof = 1;
  r->end += (size_t)n;
  return 0;
}

textio_reader *textio_open(const char *path, textio_codec codec, int64_t offset,
                           int64_t length, char *err) {
  if (codec != TEXTIO_PLAIN && (offset != 0 || length >= 0)) {
    setmsg(err, "%s: a compressed file is read whole (no offset or length)", path);
    return NULL;
  }
  if (offset < 0) {
    setmsg(err, "%s: negative offset %lld", path, (long long)offset);
    return NULL;
  }
  textio_reader *r = base_calloc(1, sizeof *r);
  if (r == NULL) goto oom;
  r->codec = codec;
  r->limit = -1;
  do r->fd = open(path, O_RDONLY | O_CLOEXEC); while (r->fd < 0 && errno == EINTR);
  struct stat st;
  if (r->fd < 0 || fstat(r->fd, &st) < 0) {
    setmsg(err, "cannot open %s: %s", path, strerror(errno));
    textio_reader_free(r);
    return NULL;
  }
  /* small files and blocks get small buffers: a block costs what it reads */
  int64_t want = st.st_size - (codec == TEXTIO_PLAIN ? offset : 0) + 1;
  if (codec == TEXTIO_PLAIN && length >= 0 && length < want) want = length + 1;
  r->regular = S_ISREG(st.st_mode);
  if (!r->regular) want = TEXTIO_BUFSIZE; /* a pipe: no size known */
  size_t bufsize = want < 4096 ? 4096 : want < TEXTIO_BUFSIZE ? (size_t)want : TEXTIO_BUFSIZE;
  r->cap = codec == TEXTIO_PLAIN ? bufsize : TEXTIO_BUFSIZE;
  r->path = base_strdup(path);
  r->buf = base_malloc(r->cap);
  if (r->path == NULL || r->buf == NULL) goto oom;
  r->stop = length >= 0 && length <= INT64_MAX - offset ? offset + length : INT64_MAX;
  if (codec != TEXTIO_PLAIN) {
    r->in_cap = bufsize;
    if ((r->in = base_malloc(bufsize)) == NULL) goto oom;
  }
  if (codec == TEXTIO_GZIP) {
    if ((r->gz = base_malloc(sizeof *r->gz)) == NULL) goto oom;
    isal_inflate_init(r->gz);
    r->member_done = 1; /* the first member starts like any other */
  } else if (codec == TEXTIO_ZSTD && (r->zs = ZSTD_createDCtx_advanced(zstd_mem)) == NULL) {
    goto oom;
  }
  if (offset > 0) {
    /* the first line starts after the first '\n' at or after offset - 1 */
    if (lseek(r->fd, offset - 1, SEEK_SET) < 0) {
      setmsg(err, "cannot seek in %s: %s", path, strerror(errno));
      textio_reader_free(r);
      return NULL;
    }
    r->buf_pos = offset - 1;
    r->skip = 1;
  }
  return r;
oom:
  setmsg(err, "out of memory opening %s", path);
  textio_reader_free(r);
  return NULL;
}

int textio_next(textio_reader *r, const char **line, size_t *len) {
  if (r->failed) return -1;
  for (;;) {
    if (r->done) return 0;
    char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
    if (r->skip) {
      if (nl != NULL) {
        r->beg = r->scan = (size_t)(nl - r->buf) + 1;
        r->skip = 0;
        continue;
      }
      r->beg = r->scan = r->end; /* all of it belongs to the block before */
    } else if (r->buf_pos + (int64_t)r->beg >= r->stop) {
      r->done = 1;
      continue;
    } else if (nl != NULL) {
      size_t n = (size_t)(nl - r->buf) - r->beg;
      *line = r->buf + r->beg;
      r->beg = r->scan = r->beg + n + 1;
      *len = n > 0 && (*line)[n - 1] == '\r' ? n - 1 : n;
      r->lineno++;
      return 1;
    } else {
      r->scan = r->end;
    }
    if (r->eof) {
      r->done = 1;
      if (r->skip || r->beg == r->end) return 0;
      size_t n = r->end - r->beg; /* a last line without newline */
      *line = r->buf + r->beg;
      *len = (*line)[n - 1] == '\r' ? n - 1 : n;
      r->beg = r->scan = r->end;
      r->lineno++;
      return 1;
    }
    int st = refill(r);
    if (st < 0) return st;
  }
}

void textio_limit(textio_reader *r, int64_t size) {
  if (!r->regular || size < 0) return;
  r->limit = size;
  r->left = size > r->buf_pos ? size - r->buf_pos : 0; /* buf_pos: where reading starts */
}

int64_t textio_lineno(const textio_reader *r) { return r->lineno; }

const char *textio_reader_error(const textio_reader *r) { return r->err; }

void textio_reader_free(textio_reader *r) {
  if (r == NULL) return;
  if (r->fd >= 0) close(r->fd);
  ZSTD_freeDCtx(r->zs);
  base_free(r->gz);
  base_free(r->in);
  base_free(r->buf);
  base_free(r->path);
  base_free(r);
}

/* ---- writing ---- */

struct textio_writer {
  int fd;
  textio_codec codec;
  int flags;
  int failed;
  int created; /* 'tmp' exists and is ours to remove */
  char *path;
  char *tmp;
  unsigned char *buf; /* lines not yet written */
  size_t len;
  unsigned char *out; /* compressed bytes */
  struct isal_zstream *gz;
  unsigned char *level_buf;
  ZSTD_CCtx *zs;
  char err[TEXTIO_ERRMAX];
};

/* Records the error and removes the temporary file; returns -1. */
static int wfail(textio_writer *w, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(w->err, sizeof w->err, fmt, ap);
  va_end(ap);
  w->failed = 1;
  if (w->fd >= 0) close(w->fd);
  w->fd = -1;
  if (w->created) unlink(w->tmp);
  w->created = 0;
  return -1;
}

static int write_all(textio_writer *w, const unsigned char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(w->fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return wfail(w, "cannot write %s: %s", w->path, strerror(errno));
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Writes out the gathered lines; 'end' finishes the compressed stream. */
static int flush(textio_writer *w, int end) {
  if (w->codec == TEXTIO_GZIP) {
    struct isal_zstream *s = w->gz;
    s->next_in = w->buf;
    s->avail_in = (uint32_t)w->len;
    s->end_of_stream = (uint16_t)end;
    do {
      s->next_out = w->out;
      s->avail_out = TEXTIO_BUFSIZE;
      if (isal_deflate(s) != COMP_OK) return wfail(w, "cannot compress %s", w->path);
      if (write_all(w, w->out, TEXTIO_BUFSIZE - s->avail_out) < 0) return -1;
    } while (s->avail_in > 0 || s->avail_out == 0
             || (end && s->internal_state.state != ZSTATE_END));
  } else if (w->codec == TEXTIO_ZSTD) {
    ZSTD_inBuffer in = {w->buf, w->len, 0};
    size_t left;
    do {
      ZSTD_outBuffer out = {w->out, TEXTIO_BUFSIZE, 0};
      left = ZSTD_compressStream2(w->zs, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
      if (ZSTD_getErrorCode(left) == ZSTD_error_memory_allocation)
        return wfail(w, "out of memory writing %s", w->path);
      if (ZSTD_isError(left))
        return wfail(w, "cannot compress %s: %s", w->path, ZSTD_getErrorName(left));
      if (write_all(w, w->out, out.pos) < 0) return -1;
    } while (end ? left != 0 : in.pos < in.size);
  } else if (write_all(w, w->buf, w->len) < 0) {
    return -1;
  }
  w->len = 0;
  return 0;
}

/* Creates the missing directories above 'path' (mkdir -p of its dirname). */
static int make_parents(const char *path, char *err) {
  char *p = base_strdup(path);
  if (p == NULL) {
    setmsg(err, "out of memory writing %s", path);
    return -1;
  }
  for (char *slash = strchr(p + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdir(p, 0777) < 0 && errno != EEXIST) {
      setmsg(err, "cannot create directory %s: %s", p, strerror(errno));
      base_free(p);
      return -1;
    }
    *slash = '/';
  }
  base_free(p);
  return 0;
}

/* Opens a new temporary file beside 'w->path' into w->fd and w->tmp. */
static int open_temp(textio_writer *w, char *err) {
  static atomic_ulong counter;
  const char *base = strrchr(w->path, '/');
  size_t dirlen = base ? (size_t)(base - w->path) + 1 : 0;
  base = base ? base + 1 : w->path;
  size_t size = strlen(w->path) + 64;
  w->tmp = base_malloc(size);
  if (w->tmp == NULL) {
    setmsg(err, "out of memory writing %s", w->path);
    return -1;
  }
  int made_dirs = 0;
  for (int tries = 0; tries < 100; tries++) {
    snprintf(w->tmp, size, "%.*s.%s.tmp-%ld-%lu", (int)dirlen, w->path, base,
             (long)getpid(), atomic_fetch_add(&counter, 1));
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (w->fd >= 0) {
      w->created = 1;
      return 0;
    }
    if (errno == ENOENT && !made_dirs) {
      if (make_parents(w->path, err) < 0) return -1;
      made_dirs = 1;
    } else if (errno != EEXIST && errno != EINTR) {
      break;
    }
  }
  setmsg(err, "cannot write %s: %s", w->path, strerror(errno));
  return -1;
}

textio_writer *textio_create(const char *path, textio_codec codec, int flags,
                             char *err) {
  size_t n = strlen(path);
  if (n == 0 || path[n - 1] == '/') {
    setmsg(err, "cannot write '%s': not a file name", path);
    return NULL;
  }
  textio_writer *w = base_calloc(1, sizeof *w);
  if (w == NULL) goto oom;
  w->fd = -1;
  w->codec = codec;
  w->flags = flags;
  w->path = base_strdup(path);
  w->buf = base_malloc(TEXTIO_BUFSIZE);
  if (w->path == NULL || w->buf == NULL) goto oom;
  if (codec != TEXTIO_PLAIN && (w->out = base_malloc(TEXTIO_BUFSIZE)) == NULL) goto oom;
  if (codec == TEXTIO_GZIP) {
    w->gz = base_malloc(sizeof *w->gz);
    w->level_buf = base_malloc(GZIP_LEVEL_BUF);
    if (w->gz == NULL || w->level_buf == NULL) goto oom;
    isal_deflate_init(w->gz);
    w->gz->gzip_flag = IGZIP_GZIP;
    w->gz->level = GZIP_LEVEL;
    w->gz->level_buf = w->level_buf;
    w->gz->level_buf_size = GZIP_LEVEL_BUF;
  } else if (codec == TEXTIO_ZSTD) {
    w->zs = ZSTD_createCCtx_advanced(zstd_mem);
    if (w->zs == NULL) goto oom;
    ZSTD_CCtx_setParameter(w->zs, ZSTD_c_compressionLevel, ZSTD_LEVEL);
    ZSTD_CCtx_setParameter(w->zs, ZSTD_c_checksumFlag, 1); /* as the zstd tool */
  }
  if (open_temp(w, err) < 0) {
    textio_writer_free(w);
    return NULL;
  }
  return w;
oom:
  setmsg(err, "out of memory writing %s", path);
  textio_writer_free(w);
  return NULL;
}

int textio_write_line(textio_writer *w, const char *line, size_t len) {
  if (w->failed) return -1;
  while (len >= TEXTIO_BUFSIZE - w->len) { /* leaves room for the "\n" */
    size_t k = TEXTIO_BUFSIZE - w->len;
    memcpy(w->buf + w->len, line, k);
    w->len += k;
    line += k;
    len -= k;
    if (flush(w, 0) < 0) return -1;
  }
  memcpy(w->buf + w->len, line, len);
  w->len += len;
  w->buf[w->len++] = '\n';
  return 0;
}

/* fsync of the directory holding 'path', so the rename is durable. */
static int sync_dir(const char *path) {
  const char *slash = strrchr(path, '/');
  char *dir = slash ? base_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : base_strdup(".");
  if (dir == NULL) return -1;
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  base_free(dir);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int textio_commit(textio_writer *w) {
  if (w->failed) return -1;
  if (flush(w, 1) < 0) return -1;
  if ((w->flags & TEXTIO_SYNC) && fsync(w->fd) < 0)
    return wfail(w, "cannot write %s: %s", w->path, strerror(errno));
  int rc = close(w->fd); /* NFS reports write errors here */
  w->fd = -1;
  if (rc < 0) return wfail(w, "cannot write %s: %s", w->path, strerror(errno));
  if (rename(w->tmp, w->path) < 0)
    return wfail(w, "cannot write %s: %s", w->path, strerror(errno));
  w->created = 0;
  if ((w->flags & TEXTIO_SYNC) && sync_dir(w->path) < 0) {
    setmsg(w->err, "cannot sync the directory of %s: %s", w->path, strerror(errno));
    w->failed = 1; /* the file is complete and in place, only not durable */
    return -1;
  }
  return 0;
}

const char *textio_writer_error(const textio_writer *w) { return w->err; }

void textio_writer_free(textio_writer *w) {
  if (w == NULL) return;
  if (w->fd >= 0) close(w->fd);
  if (w->created) unlink(w->tmp);
  ZSTD_freeCCtx(w->zs);
  base_free(w->level_buf);
  base_free(w->gz);
  base_free(w->out);
  base_free(w->buf);
  base_free(w->tmp);
  base_free(w->path);
  base_free(w);
}

/* ---- names and sizes ---- */

static int reserve(textio_paths *p, size_t more) {
  if (p->n + more <= p->cap) return 0;
  size_t cap = p->cap ? p->cap : 8;
  while (cap < p->n + more) cap *= 2;
  char **v = base_realloc(p->v, cap * sizeof *v);
  if (v == NULL) return -1;
  p->v = v;
  p->cap = cap;
  return 0;
}

static int bytewise(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int textio_expand(const char *pattern, textio_paths *out, char *err) {
  struct stat st;
  if (stat(pattern, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      setmsg(err, "%s is a directory, not a file", pattern);
      return -1;
    }
    char *copy = base_strdup(pattern);
    if (copy == NULL || reserve(out, 1) < 0) {
      base_free(copy);
      goto oom;
    }
    out->v[out->n++] = copy;
    return 0;
  }
  if (strpbrk(pattern, "*?[") == NULL) {
    if (errno == ENOENT || errno == ENOTDIR)
      setmsg(err, "no such file: %s", pattern);
    else
      setmsg(err, "cannot open %s: %s", pattern, strerror(errno));
    return -1;
  }
  glob_t g;
  int rc = glob(pattern, GLOB_NOSORT | GLOB_MARK, NULL, &g); /* a directory ends in '/' */
  if (rc == GLOB_NOMATCH) {
    setmsg(err, "no files match %s", pattern);
    return -1;
  }
  if (rc != 0) {
    if (rc == GLOB_NOSPACE) goto oom;
    setmsg(err, "cannot expand %s: a directory could not be read", pattern);
    return -1;
  }
  /* glob sorts with strcoll; names sort bytewise whatever the locale */
  qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, bytewise);
  for (size_t i = 0; i < g.gl_pathc; i++) {
    size_t len = strlen(g.gl_pathv[i]);
    if (len > 1 && g.gl_pathv[i][len - 1] == '/') {
      setmsg(err, "%s matches a directory, not a file: %.*s", pattern, (int)(len - 1),
             g.gl_pathv[i]);
      globfree(&g);
      return -1;
    }
  }
  size_t n0 = out->n;
  if (reserve(out, g.gl_pathc) < 0) {
    globfree(&g);
    goto oom;
  }
  for (size_t i = 0; i < g.gl_pathc; i++) {
    if ((out->v[out->n] = base_strdup(g.gl_pathv[i])) == NULL) {
      while (out->n > n0) base_free(out->v[--out->n]);
      globfree(&g);
      goto oom;
    }
    out->n++;
  }
  globfree(&g);
  return 0;
oom:
  setmsg(err, "out of memory expanding %s", pattern);
  return -1;
}

void textio_paths_free(textio_paths *p) {
  for (size_t i = 0; i < p->n; i++) base_free(p->v[i]);
  base_free(p->v);
  p->v = NULL;
  p->n = p->cap = 0;
}

int64_t textio_size(const char *path, char *err) {
  struct stat st;
  if (stat(path, &st) < 0) {
    setmsg(err, "cannot stat %s: %s", path, strerror(errno));
    return -1;
  }
  return (int64_t)st.st_size;
}

int textio_parse_bytes(const char *s, int64_t *out) {
  static const struct {
    const char *unit;
    int64_t mult;
  } units[] = {
    {"", 1}, {"b", 1},
    {"k", 1000}, {"kb", 1000}, {"m", 1000000}, {"mb", 1000000},
    {"g", 1000000000}, {"gb", 1000000000},
    {"t", 1000000000000}, {"tb", 1000000000000},
    {"p", 1000000000000000}, {"pb", 1000000000000000},
    {"ki", 1LL << 10}, {"kib", 1LL << 10}, {"mi", 1LL << 20}, {"mib", 1LL << 20},
    {"gi", 1LL << 30}, {"gib", 1LL << 30}, {"ti", 1LL << 40}, {"tib", 1LL << 40},
    {"pi", 1LL << 50}, {"pib", 1LL << 50},
  };
  char num[64], unit[8];
  size_t nn = 0, nu = 0;
  for (; *s != '\0'; s++) { /* spaces go; the unit is the trailing letters */
    if (*s == ' ') continue;
    if (isalpha((unsigned char)*s)) {
      if (nu == sizeof unit - 1) return -1;
      unit[nu++] = (char)tolower((unsigned char)*s);
    } else {
      if (nu > 0 || nn == sizeof num - 1 || !strchr("0123456789.", *s)) return -1;
      num[nn++] = *s;
    }
  }
  num[nn] = '\0';
  unit[nu] = '\0';
  int64_t mult = -1;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(unit, units[i].unit) == 0) mult = units[i].mult;
  if (mult < 0) return -1;
  if (nn == 0) { /* a unit alone: one of it */
    if (nu == 0) return -1;
    *out = mult;
    return 0;
  }
  char *end;
  if (strspn(num, "0123456789") == nn) { /* integers exactly */
    errno = 0;
    long long v = strtoll(num, &end, 10);
    if (errno != 0 || v > INT64_MAX / mult) return -1;
    *out = v * mult;
    return 0;
  }
  double v = strtod(num, &end);
  if (*end != '\0' || !isfinite(v) || v * (double)mult >= 0x1p63) return -1;
  *out = (int64_t)(v * (double)mult);
  return 0;
}
