/*
 * afile: files of the array formats (see afile.h).
 *
 * Temporary names live in the target's directory, so that the commit is
 * one rename(2) within a file system: ".NAME.tmp-XXXXXX", made unique by
 * mkstemp/mkdtemp, hidden from globs.  A directory store replacing an
 * older one moves the old one aside first (rename cannot replace a
 * non-empty directory), renames the new one in, then removes the old:
 * a reader sees one whole store or the other, never a mixture.
 */
#include "array/afile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/interrupt.h"

int afile_err(char *err, const char *path, const char *fmt, ...) {
  int n = snprintf(err, AFILE_ERRLEN, "%s: ", path);
  if (n < 0 || n >= AFILE_ERRLEN) n = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, AFILE_ERRLEN - (size_t)n, fmt, ap);
  va_end(ap);
  return AFILE_ERR;
}

int afile_errno(char *err, const char *path, const char *what) {
  return afile_err(err, path, "%s: %s", what, strerror(errno));
}

int afile_interrupted(char *err) {
  if (!rt_interrupt_pending()) return 0;
  snprintf(err, AFILE_ERRLEN, "interrupted");
  return AFILE_EINTR;
}

int afile_pread(int fd, void *p, size_t n, uint64_t off) {
  char *c = p;
  while (n > 0) {
    ssize_t k = pread(fd, c, n, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) {
      if (k == 0) errno = 0;
      return -1;
    }
    c += k, n -= (size_t)k, off += (uint64_t)k;
  }
  return 0;
}

int afile_pwrite(int fd, const void *p, size_t n, uint64_t off) {
  const char *c = p;
  while (n > 0) {
    ssize_t k = pwrite(fd, c, n, (off_t)off);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return -1;
    c += k, n -= (size_t)k, off += (uint64_t)k;
  }
  return 0;
}

int afile_slurp(const char *path, size_t max, int missing_ok, char **out, size_t *len, char *err) {
  *out = NULL;
  *len = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (missing_ok && errno == ENOENT) return 1;
    return afile_errno(err, path, "cannot open");
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    afile_errno(err, path, "cannot stat");
    close(fd);
    return AFILE_ERR;
  }
  if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
    close(fd);
    return S_ISREG(st.st_mode) ? afile_err(err, path, "too large (%lld bytes)", (long long)st.st_size)
                               : afile_err(err, path, "not a regular file");
  }
  size_t n = (size_t)st.st_size;
  char *p = base_malloc(n + 1);
  if (p == NULL) {
    close(fd);
    return afile_err(err, path, "not enough memory");
  }
  if (afile_pread(fd, p, n, 0) != 0) {
    errno ? afile_errno(err, path, "cannot read") : afile_err(err, path, "changed while read");
    base_free(p);
    close(fd);
    return AFILE_ERR;
  }
  close(fd);
  p[n] = 0;
  *out = p;
  *len = n;
  return 0;
}

int afile_spit(const char *path, const void *p, size_t n, char *err) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return afile_errno(err, path, "cannot create");
  if (afile_pwrite(fd, p, n, 0) != 0 || fsync(fd) != 0) {
    afile_errno(err, path, "cannot write");
    close(fd);
    return AFILE_ERR;
  }
  if (close(fd) != 0) return afile_errno(err, path, "cannot write");
  return 0;
}

int afile_mkdirs(const char *path, char *err) {
  char *p = base_strdup(path);
  if (p == NULL) return afile_err(err, path, "not enough memory");
  for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
    *s = 0;
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      afile_errno(err, p, "cannot create directory");
      base_free(p);
      return AFILE_ERR;
    }
    *s = '/';
  }
  base_free(p);
  return 0;
}

char *afile_temp(const char *path, int dir, char *err) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--; /* "out.zarr/" names out.zarr */
  size_t base = n;
  while (base > 0 && path[base - 1] != '/') base--;
  char *t = base_malloc(n + 16);
  if (t == NULL) {
    afile_err(err, path, "not enough memory");
    return NULL;
  }
  snprintf(t, n + 16, "%.*s.%.*s.tmp-XXXXXX", (int)base, path, (int)(n - base), path + base);
  if (dir) {
    if (mkdtemp(t) == NULL) {
      afile_errno(err, path, "cannot create a temporary directory");
      base_free(t);
      return NULL;
    }
    chmod(t, 0755); /* mkdtemp's 0700 would stay the store's after the rename */
  } else {
    int fd = mkostemp(t, O_CLOEXEC);
    if (fd < 0) {
      afile_errno(err, path, "cannot create a temporary file");
      base_free(t);
      return NULL;
    }
    fchmod(fd, 0644);
    close(fd);
  }
  return t;
}

static int sync_path(const char *path, int flags) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
  if (fd < 0) return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* fsync's the directory 'path' and the directories below it (the files
 * of a store are fsync'ed as they are written). */
char *afile_join(const char *dir, const char *name, char *err) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = base_malloc(n);
  if (p == NULL) {
    errno = ENOMEM;
    if (err) afile_err(err, dir, "not enough memory");
  } else {
    snprintf(p, n, "%s/%s", dir, name);
  }
  return p;
}

static int sync_tree(const char *path) {
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || e->d_type != DT_DIR) continue;
    char *sub = afile_join(path, e->d_name, NULL);
    if (sub == NULL) {
      rc = -1;
      break;
    }
    rc = sync_tree(sub);
    base_free(sub);
  }
  closedir(d);
  return rc == 0 ? sync_path(path, O_DIRECTORY) : rc;
}

static int rmtree(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
  if (!S_ISDIR(st.st_mode)) return unlink(path);
  DIR *d = opendir(path);
  if (d == NULL) return -1;
  int rc = 0;
  struct dirent *e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *sub = afile_join(path, e->d_name, NULL);
    if (sub == NULL) {
      rc = -1;
      break;
    }
    rc = rmtree(sub);
    base_free(sub);
  }
  closedir(d);
  return rc == 0 ? rmdir(path) : rc;
}

static int sync_parent(const char *path) {
  char *p = base_strdup(path);
  if (p == NULL) return -1;
  char *slash = strrchr(p, '/');
  int rc;
  if (slash == NULL) rc = sync_path(".", O_DIRECTORY);
  else {
    slash[slash == p] = 0; /* "/x" keeps "/" */
    rc = sync_path(p, O_DIRECTORY);
  }
  base_free(p);
  return rc;
}

int afile_commit(const char *tmp, const char *path, int dir, const char *marker, char *err) {
  if ((dir ? sync_tree(tmp) : sync_path(tmp, 0)) != 0) return afile_errno(err, tmp, "cannot sync");
  char *old = NULL;
  struct stat st;
  if (dir && stat(path, &st) == 0) {
    size_t n = strlen(path) + strlen(marker) + 2;
    char *m = base_malloc(n);
    if (m == NULL) return afile_err(err, path, "not enough memory");
    snprintf(m, n, "%s/%s", path, marker);
    int ours = S_ISDIR(st.st_mode) && access(m, F_OK) == 0;
    base_free(m);
    if (!ours) return afile_err(err, path, "exists and is not a store of this kind (no %s): not replaced", marker);
    if ((old = afile_temp(path, 1, err)) == NULL) return AFILE_ERR;
    if (rename(path, old) != 0) {
      afile_errno(err, path, "cannot move the old store aside");
      rmdir(old);
      base_free(old);
      return AFILE_ERR;
    }
  }
  if (rename(tmp, path) != 0) {
    afile_errno(err, path, "cannot rename the new file in");
    if (old != NULL) rename(old, path), base_free(old);
    return AFILE_ERR;
  }
  int rc = sync_parent(path) != 0 ? afile_errno(err, path, "cannot sync its directory") : 0;
  if (old != NULL) {
    if (rmtree(old) != 0 && rc == 0) rc = afile_errno(err, old, "cannot remove the old store");
    base_free(old);
  }
  return rc;
}

int afile_abort(const char *tmp, char *err) {
  return rmtree(tmp) != 0 ? afile_errno(err, tmp, "cannot remove") : 0;
}
