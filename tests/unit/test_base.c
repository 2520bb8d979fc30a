/*
 * test_base: the helpers of src/base: the hash, varints and zigzag, the
 * dict (ids, strings sharing a hash, growth, clearing, allocation
 * failure).
 */
#include <string.h>

#include "base/alloc.h"
#include "base/dict.h"
#include "base/hash.h"
#include "base/varint.h"
#include "testhelp.h"

static void test_hash(void) {
  /* FNV-1a 64's published values: frames carry this hash */
  TEST("hash of the empty string", hash_bytes("", 0) == 0xcbf29ce484222325u);
  TEST("hash of 'a'", hash_bytes("a", 1) == 0xaf63dc4c8601ec8cu);
  TEST("hash of 'foobar'", hash_bytes("foobar", 6) == 0x85944171f73967e8u);
}

static void test_varint(void) {
  static const uint64_t xs[] = {0, 1, 127, 128, 300, 16383, 16384, (uint64_t)1 << 35,
                                UINT64_MAX - 1, UINT64_MAX};
  static const int lens[] = {1, 1, 1, 2, 2, 2, 3, 6, 10, 10};
  int ok = 1;
  for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
    unsigned char b[VARINT_MAX];
    size_t n = varint_put(b, xs[i]);
    uint64_t back = 7;
    const unsigned char *p = b;
    ok &= n == (size_t)lens[i] && varint_get(&p, b + n, &back) == 1 && back == xs[i] && p == b + n;
    p = b;
    ok &= n == 1 || (varint_get(&p, b + n - 1, &back) == 0 && p == b); /* cut short */
  }
  TEST("varints round-trip, in the lengths LEB128 gives", ok);
  unsigned char b300[] = {0xac, 0x02};
  uint64_t x = 0;
  const unsigned char *p = b300;
  TEST("300 is ac 02", varint_get(&p, b300 + 2, &x) == 1 && x == 300 && p == b300 + 2);
  unsigned char longer[11];
  memset(longer, 0x80, sizeof longer);
  p = longer;
  TEST("more than 10 bytes is refused", varint_get(&p, longer + 11, &x) == -1 && x == 0 && p == longer);
  TEST("nothing to read", varint_get(&p, longer, &x) == 0);
  TEST("zigzag: 0, -1, 1, -2", zigzag_enc(0) == 0 && zigzag_enc((uint64_t)-1) == 1 &&
                                   zigzag_enc(1) == 2 && zigzag_enc((uint64_t)-2) == 3);
  TEST("zigzag of the extremes",
       zigzag_enc((uint64_t)INT64_MAX) == UINT64_MAX - 1 && zigzag_enc((uint64_t)INT64_MIN) == UINT64_MAX);
  ok = 1;
  for (int64_t v = -1000; v <= 1000; v += 7) ok &= (int64_t)zigzag_dec(zigzag_enc((uint64_t)v)) == v;
  ok &= zigzag_dec(zigzag_enc((uint64_t)INT64_MIN)) == (uint64_t)INT64_MIN;
  TEST("zigzag round-trips", ok);
}

/* Whether the dict holds ids 1..n (multiples of 16, as pointers are)
 * numbered 0..n-1, and no other. */
static int has_ids(const dict *d, uint64_t n) {
  for (uint64_t i = 1; i <= n; i++)
    if (dict_get(d, i * 16) != (int64_t)(i - 1) || dict_get(d, i * 16 + 8) != -1) return 0;
  return d->n == n && dict_get(d, (n + 1) * 16) == -1 && (n == 0 || d->cap >= 2 * n);
}

/* Numbers ids 1..n: 1 when all is well, -1 out of memory. */
static int number_ids(dict *d, uint64_t n) {
  for (uint64_t i = d->n + 1; i <= n; i++) {
    if (dict_reserve(d) != 0) return -1;
    dict_slot *s = dict_find(d, i * 16);
    if (s->num1 != 0 || dict_put(d, s, i * 16) != (int64_t)(i - 1)) return 0;
  }
  return has_ids(d, n);
}

/* A string dict whose hash is a bad one (the length): every string of a
 * length shares one key. */
static const char *words[] = {"ab", "cd", "ef", "x", "gh", "y", "ij", "abc"};

static int64_t intern(dict *d, const char **mine, const char *w) {
  if (dict_reserve(d) != 0) return -2;
  uint64_t h = strlen(w);
  dict_slot *s;
  for (s = dict_find(d, h); s->num1 != 0; s = dict_next(d, s, h))
    if (strcmp(mine[s->num1 - 1], w) == 0) return (int64_t)s->num1 - 1;
  mine[d->n] = w;
  return dict_put(d, s, h);
}

static void test_dict(void) {
  dict d;
  dict_slot inl[4];
  dict_init(&d, inl, 4);
  TEST("an empty dict has no id", dict_get(&d, 16) == -1);
  TEST("two ids stay in the inline slots", number_ids(&d, 2) == 1 && d.slot == inl);
  dict_free(&d);
  TEST("1000 ids, growing out of the inline slots", number_ids(&d, 1000) == 1 && d.slot != inl);
  dict_clear(&d);
  TEST("cleared: no ids, the slots kept", d.n == 0 && dict_get(&d, 16) == -1 && d.cap >= 2000);
  TEST("numbered again after clearing", number_ids(&d, 100) == 1);
  dict_free(&d);

  dict z;
  memset(&z, 0, sizeof z); /* zero bytes: an empty dict */
  const char *mine[64];
  int ok = 1;
  for (int round = 0; round < 3; round++) /* the second and third find them */
    for (int i = 0; i < 8; i++) ok &= intern(&z, mine, words[i]) == i;
  TEST("strings sharing a hash keep their own numbers", ok && z.n == 8);
  static char more[40][4];
  for (int i = 0; i < 40; i++) {
    snprintf(more[i], sizeof more[i], "%c%c", 'A' + i % 26, 'a' + i / 26);
    ok &= intern(&z, mine, more[i]) == 8 + i;
  }
  TEST("48 strings, 3 hashes, the dict grown", ok && z.n == 48 && z.cap >= 96);
  ok = 1;
  for (int i = 0; i < 8; i++) ok &= intern(&z, mine, words[i]) == i;
  for (int i = 0; i < 40; i++) ok &= intern(&z, mine, more[i]) == 8 + i;
  TEST("each still found after growth", ok && z.n == 48);
  dict_free(&z);

  /* allocation k fails: dict_reserve says so and the dict is unchanged */
  int fails = 0, clean = 1;
  for (long k = 1; k < 50; k++) {
    dict_init(&d, NULL, 0);
    base_alloc_fail_after(k);
    int r = number_ids(&d, 100);
    base_alloc_fail_after(-1);
    if (r == 1) {
      dict_free(&d);
      break;
    }
    fails++;
    clean &= r == -1 && has_ids(&d, d.n) && number_ids(&d, 100) == 1;
    dict_free(&d);
  }
  TEST("allocation failures are reported, the dict left whole", fails >= 3 && clean);
}

int main(void) {
  test_hash();
  test_varint();
  test_dict();
  return test_report();
}
