/*
 * afile: the file work shared by the array formats (npy, zarr, h5,
 * binary): messages that name the file, whole and positioned reads and
 * writes, and atomic creation -- everything is written under a temporary
 * name beside the target, then renamed over it at commit (or removed at
 * abort), so a reader sees the old file, or the new one whole.
 *
 * Errors: functions return 0, or AFILE_ERR with a message "PATH: what is
 * wrong" in the caller's 'err' (AFILE_ERRLEN bytes), or AFILE_EINTR when
 * an interrupt was pending (base/interrupt.h; 'err' says "interrupted").
 */
#ifndef DUSK_AFILE_H
#define DUSK_AFILE_H

#include <stddef.h>
#include <stdint.h>

#define AFILE_ERRLEN 512
#define AFILE_ERR (-1)
#define AFILE_EINTR (-2)

/* "'path': " and the formatted message into 'err'; returns AFILE_ERR. */
int afile_err(char *err, const char *path, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* "'path': 'what': strerror(errno)"; returns AFILE_ERR. */
int afile_errno(char *err, const char *path, const char *what);
/* Sets "interrupted" and returns AFILE_EINTR when an interrupt is pending;
 * else 0.  For loops over runs, chunks and elements. */
int afile_interrupted(char *err);

/* 'n' bytes at 'off' of 'fd', all of them.  Return 0, or -1 with errno
 * set (0 when the file ended first). */
int afile_pread(int fd, void *p, size_t n, uint64_t off);
int afile_pwrite(int fd, const void *p, size_t n, uint64_t off);

/* The whole file 'path' (at most 'max' bytes) in '*out' (base_malloc'd,
 * a NUL after its '*len' bytes).  Returns 0; 1 when 'missing_ok' and the
 * file does not exist ('*out' NULL); or AFILE_ERR. */
int afile_slurp(const char *path, size_t max, int missing_ok, char **out, size_t *len, char *err);
/* Writes 'n' bytes to a new file 'path' (replacing one), fsync'ed. */
int afile_spit(const char *path, const void *p, size_t n, char *err);
/* Creates the directories of 'path' up to its last '/' (mkdir -p). */
int afile_mkdirs(const char *path, char *err);

/* "DIR/NAME" in a base_malloc'd string; NULL when out of memory, 'err'
 * then saying so of 'dir'. */
char *afile_join(const char *dir, const char *name, char *err);

/* A new empty file (or directory when 'dir') named after 'path' in its
 * directory, ".NAME.tmp-XXXXXX", where the target will be committed.
 * Returns its name (base_free it), or NULL with 'err' set. */
char *afile_temp(const char *path, int dir, char *err);
/* fsync's 'tmp' (a file, or a directory and the files directly in it)
 * and renames it to 'path', then fsync's the directory holding it.  A
 * directory replaces an existing 'path' only when that is a directory
 * holding a file named 'marker' (a store of the same kind): it is
 * removed after the rename. */
int afile_commit(const char *tmp, const char *path, int dir, const char *marker, char *err);
/* Removes 'tmp' (a file, or a directory tree). */
int afile_abort(const char *tmp, char *err);

#endif
