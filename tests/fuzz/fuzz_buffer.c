/*
 * fuzz_buffer: the buffer frame decoder (data/buffer.c) under libFuzzer.
 *
 * Each input is decoded as it is, then again with its checksum trailer
 * made right, so that mutations reach the checks behind the checksum
 * (lengths, metadata layouts, zstd data) and not only the checksum.  A
 * buffer that decodes must hold valid metadata and survive encoding raw
 * and compressed, decoding again to the same bytes (read whole).
 *
 * With FUZZ_BUFFER_SEEDS=dir set, initialisation writes seed frames (of
 * each tag, raw and compressed) into dir and exits.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "data/buffer.h"

static void put(const char *dir, int i, const buf *b, int flags) {
  serial_buf s;
  serial_buf_init(&s, NULL, NULL);
  if (buf_encode(b, flags, &s) != 0) exit(1);
  char path[4096];
  snprintf(path, sizeof path, "%s/seed-%03d", dir, i);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(s.p, 1, s.len, f) != s.len || fclose(f) != 0) exit(1);
  serial_buf_free(&s);
}

static void write_seeds(const char *dir) {
  int i = 0;
  size_t sizes[] = {0, 1, 100, SERIAL_COMPRESS_MIN};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    buf *b = buf_new(BUF_BYTES, NULL, 0, sizes[k]);
    for (size_t j = 0; j < sizes[k]; j++) ((unsigned char *)buf_wdata(b))[j] = (unsigned char)(j % 13);
    put(dir, i++, b, 0);
    put(dir, i++, b, SERIAL_COMPRESS);
    buf_decref(b);
  }
  buf_array arrays[] = {{BUF_FLOAT64, 2, {3, 4}}, {BUF_INT8, 0, {0}}, {BUF_UINT16, 3, {2, 0, 5}},
                        {BUF_INT32, 1, {SERIAL_COMPRESS_MIN / 4}}};
  for (size_t k = 0; k < sizeof arrays / sizeof *arrays; k++) {
    buf *b = buf_new_array(&arrays[k]);
    memset(buf_wdata(b), 0x11, buf_size(b));
    put(dir, i++, b, SERIAL_COMPRESS);
    buf_decref(b);
  }
  uint32_t types[3] = {BUF_INT64, BUF_STRING, BUF_BOOL};
  uint64_t bytes[3] = {24, 7, 3};
  buf_table t = {3, 3, types, bytes};
  buf *b = buf_new_table(&t);
  memset(buf_wdata(b), 'a', buf_size(b));
  put(dir, i++, b, 0);
  buf_decref(b);
  buf_table none = {0, 0, types, bytes};
  b = buf_new_table(&none);
  put(dir, i++, b, 0);
  buf_decref(b);
  exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  const char *dir = getenv("FUZZ_BUFFER_SEEDS");
  if (dir) write_seeds(dir);
  return 0;
}

static void check(const buf *b) {
  size_t metalen;
  const unsigned char *meta = buf_meta(b, &metalen);
  if (buf_checkmeta(buf_type(b), meta, metalen, buf_size(b)) != 0) abort();
  const unsigned char *d = buf_data(b);
  for (int flags = 0; flags <= SERIAL_COMPRESS; flags += SERIAL_COMPRESS) {
    serial_buf s;
    serial_buf_init(&s, NULL, NULL);
    buf *c = NULL;
    const char *why;
    if (buf_encode(b, flags, &s) != 0) abort();
    if (buf_decode(s.p, s.len, &c, &why) != 0) {
      fprintf(stderr, "re-encoded frame does not decode: %s\n", why);
      abort();
    }
    size_t clen;
    buf_meta(c, &clen);
    if (buf_type(c) != buf_type(b) || buf_size(c) != buf_size(b) || clen != metalen ||
        memcmp(buf_data(c), d, buf_size(b)) != 0)
      abort();
    buf_decref(c);
    serial_buf_free(&s);
  }
}

static void decode(const uint8_t *data, size_t size) {
  buf *b = NULL;
  const char *why = NULL;
  if (buf_decode(data, size, &b, &why) == 0) {
    check(b);
    buf_decref(b);
  } else if (b != NULL || why == NULL) {
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  decode(data, size);
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
