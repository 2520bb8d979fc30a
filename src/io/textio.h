/*
 * textio: text files as lines, for Bag's read_text and to_textfiles.  No
 * Lua here: the binding is lio.c.
 *
 * Reading: a plain file, or a byte range of it, or a whole .gz (every
 * member) or .zst (every frame) file, line by line, each line handed out
 * as a pointer into the reader's buffer, so the caller copies it once (a
 * Lua string) or not at all.
 *
 * Writing: lines to a temporary file beside the target, renamed over it
 * when complete; a failed write leaves nothing behind.
 *
 * Errors: every function that can fail returns a status and leaves a
 * message for a person ("corrupt gzip data in a.gz (bad checksum)",
 * "cannot open b.txt: No such file or directory"), either in the caller's
 * 'err' buffer of TEXTIO_ERRMAX bytes or in the object, read with
 * textio_reader_error / textio_writer_error.
 *
 * Readers and writers are used by one thread at a time; different ones
 * run on different threads freely (no shared state).
 *
 * Folder src/io/ owns text files (blocks, lines, gzip, zstd); it includes
 * only base/.
 */
#ifndef DUSK_TEXTIO_H
#define DUSK_TEXTIO_H

#include <stddef.h>
#include <stdint.h>

#define TEXTIO_ERRMAX 512
#define TEXTIO_BUFSIZE (1 << 20) /* bytes per read or write system call */

typedef enum textio_codec { TEXTIO_PLAIN, TEXTIO_GZIP, TEXTIO_ZSTD } textio_codec;

/* The codec a file name implies: ".gz" gzip, ".zst" zstd, anything else
 * plain.  For a compression dusk cannot read (".bz2", ".xz", ".lz4",
 * ".lzma", ".zip") returns -1 with '*name' set to its name ("bz2"). */
int textio_codec_of(const char *path, const char **name);

/* The codec called 'name' ("gzip" or "zstd"); -1 for any other name. */
int textio_codec_named(const char *name);

/* "gzip", "zstd" or NULL (plain). */
const char *textio_codec_name(textio_codec c);

/* ---- reading ---- */

typedef struct textio_reader textio_reader;

/* Opens 'path' for reading lines.  A plain file is read from byte
 * 'offset' for 'length' bytes (length < 0: to the end), and the block
 * yields exactly the lines whose first byte lies in it, each read to its
 * end even past the block: blocks that tile a file yield each of its
 * lines once.  Compressed files are read whole: 'offset' must be 0 and
 * 'length' negative.  Returns NULL with a message in 'err'. */
textio_reader *textio_open(const char *path, textio_codec codec, int64_t offset,
                           int64_t length, char *err);

/* The next line, without its "\n" or "\r\n" (a last line without newline
 * counts; an empty file has no lines).  Returns 1 with '*line' and '*len'
 * set, valid until the next call; 0 at the end; -1 on an error, whose
 * message textio_reader_error gives; TEXTIO_INTERRUPTED when the thread's
 * interrupt (interrupt.h) was pending as it was to read more (polled
 * at every TEXTIO_BUFSIZE bytes). */
int textio_next(textio_reader *r, const char **line, size_t *len);

#define TEXTIO_INTERRUPTED (-2)

/* Reads the file as it was when it had 'size' bytes: no byte at or past
 * 'size' is read (what was appended since is not seen), and reaching the
 * end of the file before it is an error (it shrank).  Call before the
 * first textio_next; ignored for what is not a regular file (a pipe has
 * no size to keep to).  For a compressed file the size is the
 * compressed one. */
void textio_limit(textio_reader *r, int64_t size);

/* Lines returned so far. */
int64_t textio_lineno(const textio_reader *r);

const char *textio_reader_error(const textio_reader *r);

/* Closes the file and frees the reader; NULL is ignored. */
void textio_reader_free(textio_reader *r);

/* ---- writing ---- */

typedef struct textio_writer textio_writer;

#define TEXTIO_SYNC 1 /* textio_commit fsyncs the file and its directory */

/* Starts writing 'path': creates missing directories, then opens
 * ".NAME.tmp-PID-N" in the same directory.  'codec' compresses (gzip
 * with ISA-L at level 1, zstd at level 3).  Returns NULL with a message
 * in 'err'. */
textio_writer *textio_create(const char *path, textio_codec codec, int flags,
                             char *err);

/* Appends 'len' bytes at 'line' and a "\n".  Returns 0, or -1 on an
 * error (the writer is then only good for textio_writer_free). */
int textio_write_line(textio_writer *w, const char *line, size_t len);

/* Finishes the file and renames it to its path.  Returns 0, or -1 on an
 * error, the temporary file then removed. */
int textio_commit(textio_writer *w);

const char *textio_writer_error(const textio_writer *w);

/* Frees the writer; an uncommitted file is removed.  NULL is ignored. */
void textio_writer_free(textio_writer *w);

/* ---- names and sizes ---- */

/* A list of paths, each its own allocation. */
typedef struct textio_paths {
  char **v;
  size_t n, cap;
} textio_paths;

/* Appends to 'out' the file 'pattern' names if it exists, else the
 * files the glob(3) pattern matches, sorted by name (bytewise).  Returns
 * 0, or -1 with a message in 'err' ("no such file: x.txt", "no files
 * match data/x*.csv", "logs/2024-* matches a directory, not a file:
 * logs/2024-old"); 'out' keeps what it had. */
int textio_expand(const char *pattern, textio_paths *out, char *err);

/* Frees every path; 'p' is empty and usable again. */
void textio_paths_free(textio_paths *p);

/* The size of the file in bytes, or -1 with a message in 'err'. */
int64_t textio_size(const char *path, char *err);

/* A byte count as Dask's parse_bytes reads it: a number with an optional
 * unit, case and spaces ignored: "100", "32KiB", "1.5 MiB", "64mb",
 * "1GB" (10^9), "128kB" (10^3), "MB" (a unit alone: 1 of it); the result
 * is truncated to an integer.  Returns 0 with '*out' set, or -1 for a
 * malformed, negative or too large value. */
int textio_parse_bytes(const char *s, int64_t *out);

#endif
