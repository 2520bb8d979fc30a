/*
 * jsontok: a JSON text's structure checked over its token index (see
 * jsontok.h).
 */
#include "jsontok.h"

#include "jsondoc.h"

/* What a token is, by its first byte: a scalar (by the bytes a JSON
 * number or literal starts with), a string, a bracket, a separator, or
 * no JSON token (the padding's 0 is one).  A closing bracket is its
 * opening one + 2. */
enum { T_BAD, T_SCALAR, T_STRING, T_OBJ, T_ARR, T_OBJ_END, T_ARR_END, T_COMMA, T_COLON };

static const unsigned char classes[256] = {
  ['0'] = T_SCALAR, ['1'] = T_SCALAR, ['2'] = T_SCALAR, ['3'] = T_SCALAR,
  ['4'] = T_SCALAR, ['5'] = T_SCALAR, ['6'] = T_SCALAR, ['7'] = T_SCALAR,
  ['8'] = T_SCALAR, ['9'] = T_SCALAR, ['-'] = T_SCALAR,
  ['t'] = T_SCALAR, ['f'] = T_SCALAR, ['n'] = T_SCALAR,
  ['{'] = T_OBJ, ['['] = T_ARR, ['}'] = T_OBJ_END, [']'] = T_ARR_END,
  [','] = T_COMMA, [':'] = T_COLON, ['"'] = T_STRING,
};

int jsontok_check(const char *buf, size_t len, const uint32_t *tok, uint32_t *next,
                  size_t *bad) {
  uint32_t open[JSONDOC_MAXDEPTH];       /* the token opening each level */
  unsigned char outer[JSONDOC_MAXDEPTH]; /* 'want' of the level around it */
  /* the class of the token that closes the innermost level: outside the
   * value, the padding's */
  int want = T_BAD;
  int depth = 0, c, err;
  uint32_t i = 0;
#define CLS(k) classes[(unsigned char)buf[tok[k]]]
  for (;;) {
    /* a value starts at token i */
    c = CLS(i);
    if (c == T_OBJ || c == T_ARR) {
      if (depth == JSONDOC_MAXDEPTH) {
        err = JSONTOK_DEPTH;
        goto fail;
      }
      open[depth] = i;
      outer[depth++] = (unsigned char)want;
      want = c + 2;
      if (CLS(++i) != want) { /* not empty */
        if (c == T_ARR) continue;
        if (CLS(i) != T_STRING || CLS(i + 1) != T_COLON) goto malformed;
        i += 2;
        continue;
      }
    } else if (c == T_SCALAR || c == T_STRING) {
      i++;
    } else {
      /* a closing bracket after a comma: the comma is extra */
      if ((c == T_OBJ_END || c == T_ARR_END) && i > 0 && buf[tok[i - 1]] == ',') i--;
      err = c == T_BAD ? JSONTOK_VALUE : JSONTOK_MALFORMED;
      goto fail;
    }
    /* after a value: the brackets it closes, then a comma and the next
     * member */
    while ((c = CLS(i)) == want) {
      if (depth == 0) { /* the padding, or a 0 byte in the text */
        if (tok[i] >= len) return JSONTOK_OK;
        err = JSONTOK_TRAILING;
        goto fail;
      }
      want = outer[--depth];
      if (next) next[open[depth]] = i + 1;
      i++;
    }
    if (depth == 0) {
      err = JSONTOK_TRAILING;
      goto fail;
    }
    if (c != T_COMMA) goto malformed;
    if (want == T_OBJ_END) {
      c = CLS(i + 1);
      if (c != T_STRING || CLS(i + 2) != T_COLON) {
        if (c != T_OBJ_END) i++; /* else the comma is extra */
        goto malformed;
      }
      i += 3;
    } else {
      i++;
    }
  }
#undef CLS
malformed:
  err = JSONTOK_MALFORMED;
fail:
  if (tok[i] >= len && depth > 0) { /* the text ended first */
    err = JSONTOK_UNCLOSED;
    i = open[depth - 1];
  }
  *bad = tok[i];
  return err;
}
