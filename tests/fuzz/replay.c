/*
 * replay: feeds every file of the directories given to a fuzz target's
 * LLVMFuzzerTestOneInput, so each `meson test` replays the corpus with
 * the normal compiler (zstd tests/fuzz/regression_driver.c).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) return -1;
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0, n;
  do {
    if (cap - len < 65536) {
      uint8_t *p = realloc(buf, cap = cap * 2 + 65536);
      if (p == NULL) break;
      buf = p;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
  } while (n > 0);
  int err = ferror(f);
  fclose(f);
  if (!err) LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return err ? -1 : 0;
}

int main(int argc, char **argv) {
  LLVMFuzzerInitialize(&argc, &argv);
  int files = 0;
  for (int i = 1; i < argc; i++) {
    DIR *d = opendir(argv[i]);
    if (d == NULL) {
      perror(argv[i]);
      return 1;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      if (run_file(path) != 0) {
        perror(path);
        return 1;
      }
      files++;
    }
    closedir(d);
  }
  printf("%d inputs replayed\n", files);
  return files > 0 ? 0 : 1;
}
