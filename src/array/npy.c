/*
 * npy: .npy files by region (see npy.h).
 *
 * DESIGN
 *
 * The header is parsed by a strict reader of the one dict literal numpy
 * writes (keys in any order, either quote, spaces anywhere, a trailing
 * comma, Python 2's "3L"): each of the three keys exactly once, nothing
 * else, so a file np.load refuses is refused here too.
 *
 * A region of a C-order file is a set of runs: a read walks the outer
 * axes of the region and preads, for each step, the bytes from the first
 * to the last element of the box over the inner axes -- the smallest
 * such box that wastes at most half of what it reads (or is under 256
 * KiB) -- then copies the elements out, or reads straight into place when
 * the box is contiguous in the file.  A column of a large matrix is so
 * one pread per row block, not one per element.  A Fortran-order file is
 * the C-order file of the reversed shape: the reversed region is read
 * and transposed.  Writes go by exact runs only (a neighbour may be
 * writing the bytes in between).
 */
#include "array/npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array/abox.h"
#include "array/afile.h"
#include "base/alloc.h"

#define MAGIC "\x93NUMPY"
#define SLACK (256 << 10)

typedef struct {
  const char *p, *end, *path;
  char *err;
} scan;

static void ws(scan *s) {
  while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

static int bad(scan *s, const char *what) {
  return afile_err(s->err, s->path, "invalid .npy header: %s", what);
}

static int lit(scan *s, char c) {
  ws(s);
  if (s->p >= s->end || *s->p != c) return 0;
  s->p++;
  return 1;
}

/* A quoted string without escapes; its bytes in '*q', '*n'. */
static int str(scan *s, const char **q, size_t *n) {
  ws(s);
  if (s->p >= s->end || (*s->p != '\'' && *s->p != '"')) return -1;
  char quote = *s->p++;
  const char *b = s->p;
  while (s->p < s->end && *s->p != quote && *s->p != '\\' && *s->p != '\n') s->p++;
  if (s->p >= s->end || *s->p != quote) return -1;
  *q = b;
  *n = (size_t)(s->p++ - b);
  return 0;
}

static int word(scan *s, const char *w) {
  size_t n = strlen(w);
  ws(s);
  if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0) return 0;
  s->p += n;
  return 1;
}

static int shape(scan *s, npy_info *info) {
  if (!lit(s, '(')) return bad(s, "'shape' is not a tuple");
  info->ndim = 0;
  int comma = 0;
  while (!lit(s, ')')) {
    ws(s);
    if (s->p >= s->end || *s->p < '0' || *s->p > '9') return bad(s, "'shape' is not a tuple of integers");
    if (info->ndim == BUF_MAXDIM) return bad(s, "more than 32 dimensions");
    int64_t v = 0;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
      if (v > (INT64_MAX - 9) / 10) return bad(s, "a dimension too large");
      v = v * 10 + (*s->p++ - '0');
    }
    if (s->p < s->end && *s->p == 'L') s->p++;
    info->shape[info->ndim++] = v;
    comma = lit(s, ',');
    if (!comma) {
      if (!lit(s, ')')) return bad(s, "'shape' is not a tuple of integers");
      break;
    }
  }
  /* (3) is the integer 3 in Python, not a tuple */
  if (info->ndim == 1 && !comma) return bad(s, "'shape' is not a tuple");
  return 0;
}

int npy_parse(const void *p, size_t n, const char *path, npy_info *info, char *err) {
  const unsigned char *u = p;
  memset(info, 0, sizeof *info);
  if (memcmp(u, MAGIC, n < 6 ? n : 6) != 0) return afile_err(err, path, "not a .npy file (no \\x93NUMPY magic)");
  if (n < 10) return afile_err(err, path, "truncated .npy file (%zu bytes)", n);
  info->major = u[6];
  info->minor = u[7];
  uint64_t hlen, pre;
  if (info->major == 1) hlen = u[8] | (uint64_t)u[9] << 8, pre = 10;
  else if (info->major == 2 || info->major == 3) {
    if (n < 12) return afile_err(err, path, "truncated .npy header");
    hlen = u[8] | (uint64_t)u[9] << 8 | (uint64_t)u[10] << 16 | (uint64_t)u[11] << 24, pre = 12;
  } else
    return afile_err(err, path, "unsupported .npy format version %d.%d", info->major, info->minor);
  if (info->minor != 0)
    return afile_err(err, path, "unsupported .npy format version %d.%d", info->major, info->minor);
  if (hlen > NPY_MAXHEADER) return afile_err(err, path, "invalid .npy header: %llu bytes long", (unsigned long long)hlen);
  if (n < pre + hlen)
    return afile_err(err, path, "truncated .npy header (%llu bytes, the file has %zu after the magic)",
                     (unsigned long long)hlen, n - (size_t)pre);
  info->offset = pre + hlen;
  scan s = {(const char *)u + pre, (const char *)u + pre + hlen, path, err};
  int seen = 0; /* bits: descr, fortran_order, shape */
  if (!lit(&s, '{')) return bad(&s, "not a dict");
  while (!lit(&s, '}')) {
    const char *k, *v;
    size_t kn, vn;
    if (str(&s, &k, &kn) != 0) return bad(&s, "a key is not a string");
    if (!lit(&s, ':')) return bad(&s, "no ':' after a key");
    int bit;
    if (kn == 5 && memcmp(k, "descr", 5) == 0) {
      bit = 1;
      ws(&s);
      if (s.p < s.end && *s.p == '[') return bad(&s, "structured dtypes are not supported");
      if (str(&s, &v, &vn) != 0) return bad(&s, "'descr' is not a string");
      if (abox_dtype_parse(v, vn, &info->dtype, &info->swap) != 0)
        return afile_err(err, path, "unsupported dtype '%.*s'", (int)(vn > 40 ? 40 : vn), v);
    } else if (kn == 13 && memcmp(k, "fortran_order", 13) == 0) {
      bit = 2;
      if (word(&s, "True")) info->fortran = 1;
      else if (!word(&s, "False")) return bad(&s, "'fortran_order' is not True or False");
    } else if (kn == 5 && memcmp(k, "shape", 5) == 0) {
      bit = 4;
      if (shape(&s, info) != 0) return AFILE_ERR;
    } else
      return afile_err(err, path, "invalid .npy header: unexpected key '%.*s'", (int)(kn > 40 ? 40 : kn), k);
    if (seen & bit) return bad(&s, "a key given twice");
    seen |= bit;
    if (!lit(&s, ',')) {
      if (!lit(&s, '}')) return bad(&s, "no ',' or '}' after a value");
      break;
    }
  }
  ws(&s);
  while (s.p < s.end && *s.p == '\0') s.p++; /* some writers pad with NULs */
  if (s.p != s.end) return bad(&s, "text after the dict");
  if (seen != 7) return bad(&s, !(seen & 1) ? "no 'descr'" : !(seen & 2) ? "no 'fortran_order'" : "no 'shape'");
  int64_t es = (int64_t)buf_dtype_size(info->dtype), count;
  if (abox_count(info->ndim, info->shape, es, &count) != 0) return bad(&s, "the array is too large");
  info->nbytes = (uint64_t)count * (uint64_t)es;
  return 0;
}

static int open_info(const char *path, int flags, npy_info *info, int *fd, char *err) {
  *fd = open(path, flags | O_CLOEXEC);
  if (*fd < 0) return afile_errno(err, path, "cannot open");
  struct stat st;
  char head[4096];
  if (fstat(*fd, &st) != 0) {
    afile_errno(err, path, "cannot stat");
    goto fail;
  }
  size_t size = (uint64_t)st.st_size < NPY_MAXHEADER + 12 ? (size_t)st.st_size : NPY_MAXHEADER + 12;
  char *h = size <= sizeof head ? head : base_malloc(size);
  if (h == NULL) {
    afile_err(err, path, "not enough memory");
    goto fail;
  }
  int rc = afile_pread(*fd, h, size, 0) != 0 ? afile_errno(err, path, "cannot read")
                                             : npy_parse(h, size, path, info, err);
  if (h != head) base_free(h);
  if (rc != 0) goto fail;
  if ((uint64_t)st.st_size - info->offset < info->nbytes) {
    afile_err(err, path, "truncated .npy file: %llu bytes of data expected, %llu found",
              (unsigned long long)info->nbytes, (unsigned long long)((uint64_t)st.st_size - info->offset));
    goto fail;
  }
  return 0;
fail:
  close(*fd);
  *fd = -1;
  return AFILE_ERR;
}

int npy_info_of(const char *path, npy_info *info, char *err) {
  int fd;
  if (open_info(path, O_RDONLY, info, &fd, err) != 0) return AFILE_ERR;
  close(fd);
  return 0;
}

/* The first axis 'j' of the box from which on the bytes spanned from its
 * first to its last element are at most 'slack' more than its elements'
 * (slack < 0: "at most twice theirs, or SLACK"); '*span' and '*need' are
 * those byte counts. */
static int plan(int ndim, const int64_t *st, const int64_t *count, int64_t es, int64_t slack,
                int64_t *span, int64_t *need) {
  int j = ndim;
  int64_t sp = es, nb = es;
  *span = sp, *need = nb;
  for (int d = ndim - 1; d >= 0; d--) {
    sp += (count[d] - 1) * st[d];
    nb *= count[d];
    int ok = slack >= 0 ? sp - nb <= slack : (sp <= 2 * nb || sp <= SLACK);
    if (!ok) break;
    j = d, *span = sp, *need = nb;
  }
  return j;
}

/* Moves the box 'start', 'count' of a C-order array of 'shape' at file
 * offset 'base' to ('write' 0) or from the contiguous 'mem'. */
static int move_box(int fd, uint64_t base, int ndim, const int64_t *shape, int64_t es,
                    const int64_t *start, const int64_t *count, char *mem, int write,
                    const char *path, char *err) {
  for (int d = 0; d < ndim; d++)
    if (count[d] == 0) return 0;
  int64_t st[BUF_MAXDIM], mst[BUF_MAXDIM], span, need;
  abox_cstrides(ndim, shape, es, st);
  int j = plan(ndim, st, count, es, write ? 0 : -1, &span, &need);
  abox_cstrides(ndim - j, count + j, es, mst);
  char *scratch = NULL;
  if (span != need && (scratch = base_malloc((size_t)span)) == NULL)
    return afile_err(err, path, "not enough memory");
  uint64_t off = base;
  for (int d = 0; d < ndim; d++) off += (uint64_t)(start[d] * st[d]);
  int64_t idx[BUF_MAXDIM] = {0};
  int rc = 0;
  for (;;) {
    if ((rc = afile_interrupted(err)) != 0) break;
    if (write) {
      if (afile_pwrite(fd, mem, (size_t)need, off) != 0) {
        rc = afile_errno(err, path, "cannot write");
        break;
      }
    } else if (afile_pread(fd, scratch ? scratch : mem, (size_t)span, off) != 0) {
      rc = errno ? afile_errno(err, path, "cannot read") : afile_err(err, path, "truncated .npy file");
      break;
    } else if (scratch)
      abox_copy(mem, mst, scratch, st + j, ndim - j, count + j, (size_t)es);
    mem += need;
    int d = j - 1;
    for (; d >= 0; d--) {
      off += (uint64_t)st[d];
      if (++idx[d] < count[d]) break;
      off -= (uint64_t)(st[d] * count[d]);
      idx[d] = 0;
    }
    if (d < 0) break;
  }
  base_free(scratch);
  return rc;
}

int npy_read(const char *path, int ndim, const int64_t *start, const int64_t *count, buf **out,
             char *err) {
  npy_info info;
  int fd;
  *out = NULL;
  if (open_info(path, O_RDONLY, &info, &fd, err) != 0) return AFILE_ERR;
  int rc = AFILE_ERR;
  buf *b = NULL;
  if (ndim != info.ndim) {
    afile_err(err, path, "a region of %d axes for an array of %d", ndim, info.ndim);
    goto done;
  }
  if (abox_check_region(ndim, info.shape, start, count, path, err) != 0 ||
      abox_new(info.dtype, ndim, count, &b, path, err) != 0)
    goto done;
  int64_t es = (int64_t)buf_dtype_size(info.dtype), n;
  abox_count(ndim, count, es, &n);
  if (!info.fortran || ndim < 2) {
    rc = move_box(fd, info.offset, ndim, info.shape, es, start, count, buf_wdata(b), 0, path, err);
  } else {
    int64_t fshape[BUF_MAXDIM], fstart[BUF_MAXDIM], fcount[BUF_MAXDIM], tst[BUF_MAXDIM], ost[BUF_MAXDIM];
    for (int d = 0; d < ndim; d++) {
      fshape[d] = info.shape[ndim - 1 - d];
      fstart[d] = start[ndim - 1 - d];
      fcount[d] = count[ndim - 1 - d];
    }
    char *t = base_malloc((size_t)(n * es));
    if (n > 0 && t == NULL) {
      afile_err(err, path, "not enough memory");
      goto done;
    }
    rc = move_box(fd, info.offset, ndim, fshape, es, fstart, fcount, t, 0, path, err);
    if (rc == 0) {
      abox_fstrides(ndim, count, es, tst); /* t seen with the logical axes */
      abox_cstrides(ndim, count, es, ost);
      abox_copy(buf_wdata(b), ost, t, tst, ndim, count, (size_t)es);
    }
    base_free(t);
  }
  if (rc == 0 && info.swap) abox_swap(buf_wdata(b), (size_t)n, (size_t)es);
done:
  close(fd);
  if (rc != 0 && b != NULL) buf_decref(b);
  else *out = b;
  return rc;
}

char *npy_create(const char *path, int dtype, int ndim, const int64_t *shape, char *err) {
  int64_t es = (int64_t)buf_dtype_size(dtype), n;
  if (abox_dtype_str(dtype) == NULL || ndim < 0 || ndim > BUF_MAXDIM) {
    afile_err(err, path, "no .npy type for dtype %s", buf_dtype_name(dtype) ? buf_dtype_name(dtype) : "?");
    return NULL;
  }
  if (abox_count(ndim, shape, es, &n) != 0) {
    afile_err(err, path, "array too large");
    return NULL;
  }
  /* numpy's own text, so np.save and dusk write the same header */
  char dict[BUF_MAXDIM * 22 + 100];
  int k = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", abox_dtype_str(dtype));
  for (int d = 0; d < ndim; d++)
    k += snprintf(dict + k, sizeof dict - (size_t)k, d ? ", %lld" : "%lld", (long long)shape[d]);
  k += snprintf(dict + k, sizeof dict - (size_t)k, "%s), }", ndim == 1 ? "," : "");
  size_t pre = (size_t)k + 11 > 65535 ? 12 : 10;
  size_t total = ((pre + (size_t)k + 1 + 63) / 64) * 64, hlen = total - pre;
  char head[sizeof dict + 128];
  memcpy(head, MAGIC, 6);
  head[6] = pre == 10 ? 1 : 2;
  head[7] = 0;
  for (size_t i = 0; i < pre - 8; i++) head[8 + i] = (char)(hlen >> (8 * i));
  memcpy(head + pre, dict, (size_t)k);
  memset(head + pre + k, ' ', hlen - (size_t)k - 1);
  head[total - 1] = '\n';
  char *tmp = afile_temp(path, 0, err);
  if (tmp == NULL) return NULL;
  int fd = open(tmp, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || afile_pwrite(fd, head, total, 0) != 0 || ftruncate(fd, (off_t)(total + (uint64_t)(n * es))) != 0) {
    afile_errno(err, tmp, "cannot write");
    if (fd >= 0) close(fd);
    unlink(tmp);
    base_free(tmp);
    return NULL;
  }
  close(fd);
  return tmp;
}

int npy_write(const char *tmp, int ndim, const int64_t *start, const buf *b, char *err) {
  buf_array a;
  if (buf_array_of(b, &a) != 0) return afile_err(err, tmp, "not an array buffer");
  npy_info info;
  int fd;
  if (open_info(tmp, O_RDWR, &info, &fd, err) != 0) return AFILE_ERR;
  int rc = AFILE_ERR;
  if (a.dtype != info.dtype)
    afile_err(err, tmp, "dtype %s written to a file of %s", buf_dtype_name(a.dtype), buf_dtype_name(info.dtype));
  else if (a.ndim != info.ndim || ndim != info.ndim)
    afile_err(err, tmp, "a %d-d region written to a %d-d array", a.ndim, info.ndim);
  else if (info.fortran || info.swap)
    afile_err(err, tmp, "not a file npy_create made");
  else if (abox_check_region(ndim, info.shape, start, a.shape, tmp, err) == 0)
    rc = move_box(fd, info.offset, ndim, info.shape, (int64_t)buf_dtype_size(a.dtype), start, a.shape,
                  (char *)buf_data(b), 1, tmp, err);
  close(fd);
  return rc;
}

int npy_commit(const char *tmp, const char *path, char *err) {
  return afile_commit(tmp, path, 0, NULL, err);
}

int npy_abort(const char *tmp, char *err) {
  return afile_abort(tmp, err);
}
