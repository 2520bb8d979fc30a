/*
 * testhelp: the C unit tests' harness, after Redis's testhelp.h.
 *
 *   TEST("what must hold", expression);
 *   return test_report();
 *
 * Each failed TEST prints its file, line and description; test_report()
 * prints "N passed, N failed" and returns the exit status.
 */
#ifndef DUSK_TESTHELP_H
#define DUSK_TESTHELP_H

#include <stdio.h>

static int test_passed, test_failed;

#define TEST(desc, cond)                                                     \
  do {                                                                       \
    if (cond) {                                                              \
      test_passed++;                                                         \
    } else {                                                                 \
      test_failed++;                                                         \
      printf("FAIL %s:%d: %s  [%s]\n", __FILE__, __LINE__, desc, #cond);     \
    }                                                                        \
  } while (0)

static inline int test_report(void) {
  printf("%d passed, %d failed\n", test_passed, test_failed);
  return test_failed == 0 ? 0 : 1;
}

#endif
