/*
 * pure: Lua bytecode of a pure function, run in C on numbers and on a
 * record's text (see purevm.h).
 *
 * DESIGN.  Programs are Lua's own instructions, checked once by
 * pure_compile (every register, constant and jump in range, jumps
 * forward, each test followed by its jump, each arithmetic instruction by
 * its metamethod instruction), decoded once (a test and its jump become
 * one instruction), and interpreted by pure_run with threaded dispatch
 * and the semantics of Lua 5.4's lvm.c for numbers, strings, booleans
 * and the values a record yields.
 * Reading a field only records a place (a node: parent and step); the
 * text is read when a value is needed (a test, a comparison, #, the
 * result), by jsonrec_get in the parent's object or array, and the value
 * is kept with the node.  So `local t = r.transactions; return #t > 0
 * and t[1].amount > 0` builds nothing, and never walks from the record's
 * root to t.
 *
 * Lua's semantics that a record value cannot meet here bail out: Lua
 * decides them (see purevm.h).  Records read as Lua's dusk.json records
 * do: a missing key or an element out of range is nil, a string key of an
 * array or an integer key of an object is nil, # of an object is 0, JSON
 * null is a value of its own that is true.
 */
#include "pure/purevm.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"

#define MAXNODES 4096 /* places one record may hold (a program makes few) */

/* An instruction decoded once: Lua's fields, and in 'x' the immediate
 * (sB, sC, sBx), the constant (Bx), or for a jump and for a test the
 * instruction it goes to (a test and its jump run as one). */
typedef struct ins {
  uint8_t op, a, b, c, k;
  int32_t x;
} ins;

#define BAIL_IF(x) do { if (x) return PURE_BAIL; } while (0)

/* An instruction of our own, after Lua's: return the boolean 'k'. */
#define OP_RETBOOL (LUABC_EXTRAARG + 1)

struct pure {
  luabc_func *f;
  pure_val *k; /* its constants as values */
  ins *code;
};

typedef struct node {
  int parent;              /* -1 for the root */
  int elements_read;       /* elements read by index through this place */
  const char *key;         /* a key step, or NULL for an element */
  size_t klen;
  int64_t index;           /* 1-based */
  int read;                /* 'val' holds what is there */
  pure_val val;
  int handle;              /* an object or array read: jsonrec's handle */
} node;

struct pure_rec {
  jsonrec *json;
  node *nodes;
  int nnodes, capnodes;
};

/* ------------------------------------------------------------ compile */

static int fail(char *why, size_t whylen, const char *msg, size_t pc) {
  snprintf(why, whylen, "%s (instruction %zu)", msg, pc + 1);
  return 0;
}

static int is_cond(int op) {
  return (op >= LUABC_EQ && op <= LUABC_GEI) || op == LUABC_TEST || op == LUABC_TESTSET;
}

/* Whether every instruction of 'f' is one run here, with its operands in
 * range. */
static int check(const luabc_func *f, char *why, size_t whylen) {
  size_t n = f->ncode;
  int regs = f->maxstack;
  if (f->is_vararg) return fail(why, whylen, "takes ...", 0);
  for (size_t c = 0; c < f->nk; c++)
    if (f->k[c].type == LUA_TSTRING && f->k[c].n > UINT32_MAX)
      return fail(why, whylen, "has a constant string of 4 GiB or more", 0);
  if (n == 0) return fail(why, whylen, "no code", 0);
  for (size_t pc = 0; pc < n; pc++) {
    uint32_t i = f->code[pc];
    int op = LUABC_OP(i), a = LUABC_A(i), b = LUABC_B(i), c = LUABC_C(i);
    int ra = a < regs, rb = b < regs, rc = c < regs;
    int ok;
    switch (op) {
    case LUABC_MOVE: case LUABC_NOT: case LUABC_LEN: case LUABC_UNM:
    case LUABC_TESTSET: ok = ra && rb; break;
    case LUABC_LOADI: case LUABC_LOADF: case LUABC_LOADFALSE: case LUABC_LOADTRUE:
    case LUABC_RETURN1: case LUABC_TEST: ok = ra; break;
    case LUABC_LFALSESKIP: ok = ra && pc + 1 < n; break;
    case LUABC_LOADK: ok = ra && (size_t)LUABC_BX(i) < f->nk; break;
    case LUABC_LOADNIL: ok = a + b < regs; break;
    case LUABC_GETTABLE: ok = ra && rb && rc; break;
    case LUABC_GETI: ok = ra && rb; break;
    case LUABC_GETFIELD: ok = ra && rb && (size_t)c < f->nk && f->k[c].type == LUA_TSTRING; break;
    case LUABC_ADD: case LUABC_SUB: case LUABC_MUL: case LUABC_DIV: case LUABC_MOD:
    case LUABC_IDIV: case LUABC_POW:
      ok = ra && rb && rc && pc + 1 < n && LUABC_OP(f->code[pc + 1]) == LUABC_MMBIN;
      break;
    case LUABC_ADDK: case LUABC_SUBK: case LUABC_MULK: case LUABC_DIVK: case LUABC_MODK:
    case LUABC_IDIVK: case LUABC_POWK:
      ok = ra && rb && (size_t)c < f->nk && f->k[c].type == LUA_TNUMBER && pc + 1 < n &&
           LUABC_OP(f->code[pc + 1]) == LUABC_MMBINK;
      break;
    case LUABC_ADDI:
      ok = ra && rb && pc + 1 < n && LUABC_OP(f->code[pc + 1]) == LUABC_MMBINI;
      break;
    case LUABC_MMBIN: case LUABC_MMBINI: case LUABC_MMBINK: ok = 1; break; /* bail if run */
    case LUABC_JMP: {
      long long to = (long long)pc + 1 + LUABC_SJ(i);
      if (LUABC_SJ(i) < 0) return fail(why, whylen, "has a loop", pc);
      ok = to < (long long)n;
      break;
    }
    case LUABC_EQ: case LUABC_LT: case LUABC_LE: ok = ra && rb; break;
    case LUABC_EQK: ok = ra && (size_t)b < f->nk; break;
    case LUABC_EQI: case LUABC_LTI: case LUABC_LEI: case LUABC_GTI: case LUABC_GEI:
      ok = ra;
      break;
    case LUABC_RETURN: ok = b >= 1 && (b == 1 || ra); break;
    case LUABC_RETURN0: ok = 1; break;
    case LUABC_GETUPVAL: case LUABC_GETTABUP:
      return fail(why, whylen, "reads a global or an upvalue", pc);
    case LUABC_CALL: case LUABC_TAILCALL: case LUABC_SELF:
      return fail(why, whylen, "calls a function", pc);
    default: return fail(why, whylen, "uses an operation not translated", pc);
    }
    if (!ok) return fail(why, whylen, "has an operand out of range", pc);
    if (is_cond(op) && (pc + 1 >= n || LUABC_OP(f->code[pc + 1]) != LUABC_JMP))
      return fail(why, whylen, "has a test without its jump", pc);
  }
  int last = LUABC_OP(f->code[n - 1]);
  if (last != LUABC_RETURN && last != LUABC_RETURN0 && last != LUABC_RETURN1)
    return fail(why, whylen, "does not end in a return", n - 1);
  return 1;
}

static void set_const(pure_val *v, const luabc_const *k) {
  memset(v, 0, sizeof *v);
  switch (k->type) {
  case LUA_TNIL: v->type = PURE_NIL; break;
  case LUA_TBOOLEAN: v->type = k->b ? PURE_TRUE : PURE_FALSE; break;
  case LUA_TNUMBER:
    if (k->isint) { v->type = PURE_INT; v->i = k->i; }
    else { v->type = PURE_FLOAT; v->d = k->d; }
    break;
  default: v->type = PURE_STRING; v->s = k->s; v->n = k->n; break;
  }
}

pure *pure_compile(luabc_func *f, char *why, size_t whylen) {
  if (!check(f, why, whylen)) {
    base_free(f);
    return NULL;
  }
  pure *p = base_malloc(sizeof *p);
  pure_val *k = base_malloc((f->nk ? f->nk : 1) * sizeof *k);
  ins *code = base_malloc((f->ncode ? f->ncode : 1) * sizeof *code);
  if (p == NULL || k == NULL || code == NULL) {
    snprintf(why, whylen, "out of memory");
    base_free(p);
    base_free(k);
    base_free(code);
    base_free(f);
    return NULL;
  }
  for (size_t c = 0; c < f->nk; c++) set_const(&k[c], &f->k[c]);
  for (size_t pc = 0; pc < f->ncode; pc++) {
    uint32_t i = f->code[pc];
    int op = LUABC_OP(i);
    ins *d = &code[pc];
    d->op = (uint8_t)op;
    d->a = (uint8_t)LUABC_A(i);
    d->b = (uint8_t)LUABC_B(i);
    d->c = (uint8_t)LUABC_C(i);
    d->k = (uint8_t)LUABC_K(i);
    d->x = 0;
    if (op == LUABC_LOADI || op == LUABC_LOADF) d->x = LUABC_SBX(i);
    else if (op == LUABC_LOADK) d->x = LUABC_BX(i);
    else if (op == LUABC_ADDI) d->x = LUABC_SC(i);
    else if (op == LUABC_JMP) d->x = (int32_t)pc + 1 + LUABC_SJ(i);
    else if (is_cond(op)) d->x = (int32_t)pc + 2 + LUABC_SJ(f->code[pc + 1]);
  }
  /* A predicate ends in LFALSESKIP a; LOADTRUE a; RETURN1 a: each of the
   * first two becomes a return of its boolean (the register is not read
   * after the return; a jump to LOADTRUE still finds it). */
  for (size_t pc = 0; pc + 1 < f->ncode; pc++) {
    ins *d = &code[pc];
    if (d->op == LUABC_LOADTRUE && code[pc + 1].op == LUABC_RETURN1 && code[pc + 1].a == d->a) {
      d->op = OP_RETBOOL;
      d->k = 1;
    } else if (d->op == LUABC_LFALSESKIP && pc + 2 < f->ncode && code[pc + 1].op == LUABC_LOADTRUE &&
               code[pc + 1].a == d->a && code[pc + 2].op == LUABC_RETURN1 && code[pc + 2].a == d->a) {
      d->op = OP_RETBOOL;
      d->k = 0;
    }
  }
  p->f = f;
  p->k = k;
  p->code = code;
  return p;
}

void pure_free(pure *p) {
  if (p == NULL) return;
  base_free(p->f);
  base_free(p->k);
  base_free(p->code);
  base_free(p);
}

/* ------------------------------------------------------------ records */

pure_rec *pure_rec_new(void) {
  pure_rec *r = base_calloc(1, sizeof *r);
  if (r != NULL && (r->json = jsonrec_new()) == NULL) {
    base_free(r);
    r = NULL;
  }
  return r;
}

void pure_rec_free(pure_rec *r) {
  if (r == NULL) return;
  jsonrec_free(r->json);
  base_free(r->nodes);
  base_free(r);
}

/* A new place: the step 'key' (or element 'index') of 'parent'.  -1 when
 * out of room. */
static int new_node(pure_rec *r, int parent, const char *key, size_t klen, int64_t index) {
  if (r->nnodes == r->capnodes) {
    if (r->capnodes >= MAXNODES) return -1;
    int cap = r->capnodes ? 2 * r->capnodes : 16;
    node *nodes = base_realloc(r->nodes, (size_t)cap * sizeof *nodes);
    if (nodes == NULL) return -1;
    r->nodes = nodes;
    r->capnodes = cap;
  }
  node *nd = &r->nodes[r->nnodes];
  nd->parent = parent;
  nd->key = key;
  nd->klen = klen;
  nd->index = index;
  nd->read = 0;
  nd->elements_read = 0;
  nd->handle = -1;
  return r->nnodes++;
}

int pure_rec_open(pure_rec *r, const char *text, size_t len, pure_val *root) {
  r->nnodes = 0;
  if (len == 0 || (text[0] != '{' && text[0] != '[')) return PURE_BAIL;
  jsondoc_val v;
  if (jsonrec_open(r->json, text, len, &v) != 0) return PURE_BAIL;
  int n = new_node(r, -1, NULL, 0, 0);
  if (n < 0) return PURE_BAIL;
  root->type = v.type == JSONDOC_OBJECT ? PURE_OBJECT : PURE_ARRAY;
  root->node = n;
  r->nodes[n].read = 1;
  r->nodes[n].val = *root;
  r->nodes[n].handle = (int)v.ticket;
  return PURE_OK;
}

/* The number of elements of the ARRAY 'v' into '*n'.  All are counted:
 * Lua's # reads the whole array, and raises for a parse error in it. */
static int count(pure_rec *r, const pure_val *v, size_t *n) {
  return jsonrec_count(r->json, r->nodes[v->node].handle, n) != 0 ? PURE_BAIL : PURE_OK;
}

int pure_resolve(pure_rec *r, pure_val *v) {
  if (v->type != PURE_NODE) return PURE_OK;
  node *nd = &r->nodes[v->node];
  if (nd->read) {
    *v = nd->val;
    return PURE_OK;
  }
  pure_val out = {0};
  /* the parent first: a record then, read in from where the parser can
   * seek back to it, not walked to from the root */
  pure_val p = {.type = PURE_NODE, .node = nd->parent};
  if (pure_resolve(r, &p) != PURE_OK) return PURE_BAIL;
  if (p.type != PURE_OBJECT && p.type != PURE_ARRAY) return PURE_BAIL; /* Lua raises */
  nd = &r->nodes[v->node];
  if (nd->key == NULL && nd->index < 1) {
    out.type = PURE_NIL;
  } else {
    jsondoc_val jv;
    if (jsonrec_get(r->json, r->nodes[p.node].handle, nd->key, nd->klen,
                    (size_t)(nd->index - 1), &jv) != 0)
      return PURE_BAIL;
    switch (jv.type) {
    case JSONDOC_NONE: out.type = PURE_NIL; break;
    case JSONDOC_NULL: out.type = PURE_NULL; break;
    case JSONDOC_FALSE: out.type = PURE_FALSE; break;
    case JSONDOC_TRUE: out.type = PURE_TRUE; break;
    case JSONDOC_INT: out.type = PURE_INT; out.i = jv.i; break;
    case JSONDOC_FLOAT: out.type = PURE_FLOAT; out.d = jv.d; break;
    case JSONDOC_STRING: out.type = PURE_STRING; out.n = (uint32_t)jv.n; out.s = jv.s; break;
    case JSONDOC_OBJECT: out.type = PURE_OBJECT; out.node = v->node; break;
    default: out.type = PURE_ARRAY; out.node = v->node; break;
    }
    if (out.type == PURE_OBJECT || out.type == PURE_ARRAY) nd->handle = (int)jv.ticket;
  }
  nd->read = 1;
  nd->val = out;
  *v = out;
  return PURE_OK;
}

/* pure_resolve, called only for a NODE (most values are not). */
static inline int resolve(pure_rec *r, pure_val *v) {
  return v->type == PURE_NODE ? pure_resolve(r, v) : PURE_OK;
}

int pure_truth(pure_rec *r, pure_val *v) {
  if (resolve(r, v) != PURE_OK) return -1;
  return v->type != PURE_NIL && v->type != PURE_FALSE;
}

int pure_path(const pure_rec *r, int n, pure_step *steps, int max) {
  int depth = 0;
  for (int k = n; r->nodes[k].parent >= 0; k = r->nodes[k].parent) depth++;
  if (depth > max) return -1;
  int at = depth;
  for (int k = n; r->nodes[k].parent >= 0; k = r->nodes[k].parent) {
    const node *nd = &r->nodes[k];
    at--;
    steps[at].key = nd->key;
    steps[at].klen = nd->klen;
    steps[at].index = nd->index;
  }
  return depth;
}

/* ------------------------------------------------------------ running */

static int is_place(const pure_val *v) {
  return v->type == PURE_NODE || v->type == PURE_OBJECT || v->type == PURE_ARRAY;
}

static int is_number(const pure_val *v) {
  return v->type == PURE_INT || v->type == PURE_FLOAT;
}


/* Lua's int/float equality: equal only when the float is that integer. */
static int int_eq_float(int64_t i, double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && floor(d) == d &&
         (int64_t)d == i;
}

/* 'a' == 'b' for resolved values: 0 or 1, or -1 to bail (two records:
 * Lua compares their identity). */
static int equal(const pure_val *a, const pure_val *b) {
  if (is_place(a) || is_place(b)) return (is_place(a) && is_place(b)) ? -1 : 0;
  if (is_number(a) && is_number(b)) {
    if (a->type == PURE_INT && b->type == PURE_INT) return a->i == b->i;
    if (a->type == PURE_FLOAT && b->type == PURE_FLOAT) return a->d == b->d;
    return a->type == PURE_INT ? int_eq_float(a->i, b->d) : int_eq_float(b->i, a->d);
  }
  if (a->type != b->type) return 0;
  if (a->type == PURE_STRING) return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
  return 1; /* nil, false, true, null: one value each */
}

/* a < b ('le': a <= b) for numbers, exactly (x86-64's long double holds
 * every int64): 0 or 1, or -1 to bail (not two numbers). */
static int less(const pure_val *a, const pure_val *b, int le) {
  if (!is_number(a) || !is_number(b)) return -1;
  if (a->type == PURE_INT && b->type == PURE_INT) return le ? a->i <= b->i : a->i < b->i;
  long double x = a->type == PURE_INT ? (long double)a->i : (long double)a->d;
  long double y = b->type == PURE_INT ? (long double)b->i : (long double)b->d;
  return le ? x <= y : x < y;
}

/* Lua's integer // and % (lvm.c luaV_idiv, luaV_mod): floor division.
 * A zero divisor bails (Lua raises). */
static int int_idiv_mod(int op, int64_t m, int64_t n, int64_t *out) {
  if (n == 0) return PURE_BAIL;
  if (n == -1) { /* m // -1 may overflow: it is -m, m % -1 is 0 */
    *out = op == LUABC_MOD ? 0 : (int64_t)(0u - (uint64_t)m);
    return PURE_OK;
  }
  if (op == LUABC_MOD) {
    int64_t r = m % n;
    if (r != 0 && (r ^ n) < 0) r += n;
    *out = r;
  } else {
    int64_t q = m / n;
    if ((m ^ n) < 0 && m % n != 0) q -= 1;
    *out = q;
  }
  return PURE_OK;
}

/* Lua's float % (llimits.h luai_nummod). */
static double float_mod(double a, double b) {
  double m = fmod(a, b);
  if ((m > 0) ? b < 0 : (m < 0 && b != m)) m += b;
  return m;
}

/* Arithmetic of Lua's + - * / % // ^ on numbers: integers wrap, '/' and
 * '^' are always floats. */
static int arith(int op, const pure_val *a, const pure_val *b, pure_val *out) {
  if (!is_number(a) || !is_number(b)) return PURE_BAIL;
  out->n = 0;
  if (op != LUABC_DIV && op != LUABC_POW && a->type == PURE_INT && b->type == PURE_INT) {
    uint64_t x = (uint64_t)a->i, y = (uint64_t)b->i;
    out->type = PURE_INT;
    switch (op) {
    case LUABC_ADD: out->i = (int64_t)(x + y); return PURE_OK;
    case LUABC_SUB: out->i = (int64_t)(x - y); return PURE_OK;
    case LUABC_MUL: out->i = (int64_t)(x * y); return PURE_OK;
    default: return int_idiv_mod(op, a->i, b->i, &out->i);
    }
  }
  double x = a->type == PURE_INT ? (double)a->i : a->d;
  double y = b->type == PURE_INT ? (double)b->i : b->d;
  out->type = PURE_FLOAT;
  switch (op) {
  case LUABC_ADD: out->d = x + y; break;
  case LUABC_SUB: out->d = x - y; break;
  case LUABC_MUL: out->d = x * y; break;
  case LUABC_DIV: out->d = x / y; break;
  case LUABC_MOD: out->d = float_mod(x, y); break;
  case LUABC_IDIV: out->d = floor(x / y); break;
  default: out->d = y == 2 ? x * x : pow(x, y); break; /* luai_numpow */
  }
  return PURE_OK;
}

void pure_add(const pure_val *a, const pure_val *b, pure_val *out) {
  arith(LUABC_ADD, a, b, out);
}

/* The operation of a K or immediate arithmetic instruction. */
static int base_op(int op) {
  switch (op) {
  case LUABC_ADDK: case LUABC_ADDI: return LUABC_ADD;
  case LUABC_SUBK: return LUABC_SUB;
  case LUABC_MULK: return LUABC_MUL;
  case LUABC_DIVK: return LUABC_DIV;
  case LUABC_MODK: return LUABC_MOD;
  case LUABC_IDIVK: return LUABC_IDIV;
  case LUABC_POWK: return LUABC_POW;
  default: return op;
  }
}

/* A Lua record lists an array the second time one of its elements is
 * read by index (ljson.c read_index), reading every element: a parse
 * error anywhere in it is raised then.  So does this. */
static int list_array(pure_rec *r, const pure_val *t) {
  pure_val a = *t;
  BAIL_IF(resolve(r, &a));
  if (a.type != PURE_ARRAY) return PURE_OK;
  return jsonrec_read_elements(r->json, r->nodes[a.node].handle) != 0 ? PURE_BAIL : PURE_OK;
}

/* t[key] where 'key' is resolved: a new place, or bail.  A place not
 * read yet is not read here: the step is checked when the new place is
 * read (a record's key of the wrong kind is nil, anything else bails). */
static int index_place(pure_rec *r, const pure_val *t, const pure_val *key,
                       pure_val *out) {
  if (!is_place(t)) return PURE_BAIL; /* Lua indexes strings, or raises */
  const char *k = NULL;
  size_t klen = 0;
  int64_t index = 0; /* below 1: nil once 't' is known to be a record */
  if (key->type == PURE_STRING) {
    k = key->s;
    klen = key->n;
  } else if (key->type == PURE_INT) {
    index = key->i;
  } else if (key->type == PURE_FLOAT && key->d >= 1 && key->d < 9223372036854775808.0 &&
             floor(key->d) == key->d) {
    index = (int64_t)key->d; /* a float with an integer value is that integer key */
  }
  if (index >= 1 && ++r->nodes[t->node].elements_read == 2) BAIL_IF(list_array(r, t));
  int n = new_node(r, t->node, k, klen, index);
  if (n < 0) return PURE_BAIL;
  out->type = PURE_NODE;
  out->node = n;
  out->i = 0;
  return PURE_OK;
}

/* #v for a resolved value. */
static int length(pure_rec *r, const pure_val *v, pure_val *out) {
  size_t n = 0;
  out->type = PURE_INT;
  out->n = 0;
  if (v->type == PURE_STRING) n = v->n;
  else if (v->type == PURE_ARRAY) BAIL_IF(count(r, v, &n));
  else if (v->type != PURE_OBJECT) return PURE_BAIL; /* records: # of an object is 0 */
  out->i = (int64_t)n;
  return PURE_OK;
}

/* The registers, a field per array: values are written and read field
 * by field, so no load waits on a store of another width. */
typedef struct regs {
  int32_t type[256];
  uint32_t aux[256];
  int64_t bits[256]; /* the union's 8 bytes */
} regs;

static inline void get(const regs *R, int k, pure_val *v) {
  v->type = R->type[k];
  v->n = R->aux[k];
  v->i = R->bits[k];
}

static inline void set(regs *R, int k, const pure_val *v) {
  R->type[k] = v->type;
  R->aux[k] = v->n;
  R->bits[k] = v->i;
}

static inline void set_int(regs *R, int k, int64_t i) {
  R->type[k] = PURE_INT;
  R->bits[k] = i;
}

static inline void set_type(regs *R, int k, int type) {
  R->type[k] = type;
}

int pure_run(const pure *p, pure_rec *r, const pure_val *arg, pure_val *out) {
  const ins *code = p->code;
  const pure_val *K = p->k;
  regs R;
  /* registers start nil (a small frame without a call to memset) */
  if (p->f->maxstack <= 8) {
    for (int k = 0; k < 8; k++) R.type[k] = PURE_NIL;
  } else {
    for (int k = 0; k < p->f->maxstack; k++) R.type[k] = PURE_NIL;
  }
  if (p->f->numparams > 0) set(&R, 0, arg);
  /* Threaded dispatch through labels as values (GCC and Clang), as Lua's
   * ljumptab.h does: each instruction jumps to the next on its own, which
   * the branch predictor tells apart.  Only the instructions check()
   * admits can be reached. */
  static const void *const labels[OP_RETBOOL + 1] = {
    [LUABC_MOVE] = &&L_MOVE, [LUABC_LOADI] = &&L_LOADI, [LUABC_LOADF] = &&L_LOADF,
    [LUABC_LOADK] = &&L_LOADK, [LUABC_LOADFALSE] = &&L_LOADFALSE,
    [LUABC_LFALSESKIP] = &&L_LFALSESKIP, [LUABC_LOADTRUE] = &&L_LOADTRUE,
    [LUABC_LOADNIL] = &&L_LOADNIL, [LUABC_GETFIELD] = &&L_GETFIELD, [LUABC_GETI] = &&L_GETI,
    [LUABC_GETTABLE] = &&L_GETTABLE, [LUABC_ADD] = &&L_ADD, [LUABC_SUB] = &&L_SUB,
    [LUABC_MUL] = &&L_MUL, [LUABC_DIV] = &&L_DIV, [LUABC_MOD] = &&L_MOD,
    [LUABC_IDIV] = &&L_IDIV, [LUABC_POW] = &&L_POW, [LUABC_ADDK] = &&L_ADDK,
    [LUABC_SUBK] = &&L_SUBK, [LUABC_MULK] = &&L_MULK, [LUABC_DIVK] = &&L_DIVK,
    [LUABC_MODK] = &&L_MODK, [LUABC_IDIVK] = &&L_IDIVK, [LUABC_POWK] = &&L_POWK,
    [LUABC_ADDI] = &&L_ADDI, [LUABC_MMBIN] = &&L_BAIL, [LUABC_MMBINI] = &&L_BAIL,
    [LUABC_MMBINK] = &&L_BAIL, [LUABC_UNM] = &&L_UNM, [LUABC_NOT] = &&L_NOT,
    [LUABC_LEN] = &&L_LEN, [LUABC_JMP] = &&L_JMP, [LUABC_EQ] = &&L_EQ, [LUABC_LT] = &&L_LT,
    [LUABC_LE] = &&L_LE, [LUABC_EQK] = &&L_EQK, [LUABC_EQI] = &&L_EQI, [LUABC_LTI] = &&L_LTI,
    [LUABC_LEI] = &&L_LEI, [LUABC_GTI] = &&L_GTI, [LUABC_GEI] = &&L_GEI,
    [LUABC_TEST] = &&L_TEST, [LUABC_TESTSET] = &&L_TESTSET, [LUABC_RETURN] = &&L_RETURN,
    [LUABC_RETURN0] = &&L_RETURN0, [LUABC_RETURN1] = &&L_RETURN1,
    [OP_RETBOOL] = &&L_RETBOOL,
  };
#define DISPATCH() do { i = &code[pc++]; op = i->op; a = i->a; goto *labels[op]; } while (0)
  size_t pc = 0;
  const ins *i;
  int op, a, cond;
  pure_val x, y, z;
  DISPATCH();
  {
    L_MOVE:
      get(&R, i->b, &x);
      set(&R, a, &x);
      DISPATCH();
    L_LOADI: set_int(&R, a, i->x); DISPATCH();
    L_LOADF:
      x.type = PURE_FLOAT;
      x.n = 0;
      x.d = (double)i->x;
      set(&R, a, &x);
      DISPATCH();
    L_LOADK: set(&R, a, &K[i->x]); DISPATCH();
    L_LOADFALSE: set_type(&R, a, PURE_FALSE); DISPATCH();
    L_LFALSESKIP: set_type(&R, a, PURE_FALSE); pc++; DISPATCH();
    L_LOADTRUE: set_type(&R, a, PURE_TRUE); DISPATCH();
    L_LOADNIL:
      for (int k = 0; k <= i->b; k++) set_type(&R, a + k, PURE_NIL);
      DISPATCH();
    L_GETFIELD:
    L_GETI:
    L_GETTABLE:
      get(&R, i->b, &x);
      if (op == LUABC_GETFIELD) {
        y = K[i->c];
      } else if (op == LUABC_GETI) {
        y.type = PURE_INT;
        y.i = i->c;
      } else {
        get(&R, i->c, &y);
        BAIL_IF(resolve(r, &y));
      }
      BAIL_IF(index_place(r, &x, &y, &z));
      set(&R, a, &z);
      DISPATCH();
    L_ADD:
    L_SUB:
    L_MUL:
    L_DIV:
    L_MOD:
    L_IDIV:
    L_POW:
    L_ADDK:
    L_SUBK:
    L_MULK:
    L_DIVK:
    L_MODK:
    L_IDIVK:
    L_POWK:
    L_ADDI:
      get(&R, i->b, &x);
      if (op == LUABC_ADDI) {
        y.type = PURE_INT;
        y.i = i->x;
      } else if (op >= LUABC_ADDK && op <= LUABC_IDIVK) { /* K operands */
        y = K[i->c];
      } else {
        get(&R, i->c, &y);
      }
      if (x.type > PURE_FLOAT) BAIL_IF(resolve(r, &x));
      if (y.type > PURE_FLOAT) BAIL_IF(resolve(r, &y));
      BAIL_IF(arith(base_op(op), &x, &y, &z));
      set(&R, a, &z);
      pc++; /* the metamethod instruction */
      DISPATCH();
    L_UNM:
      get(&R, i->b, &x);
      BAIL_IF(resolve(r, &x));
      if (x.type == PURE_INT) x.i = (int64_t)(0u - (uint64_t)x.i);
      else if (x.type == PURE_FLOAT) x.d = -x.d;
      else return PURE_BAIL;
      set(&R, a, &x);
      DISPATCH();
    L_NOT:
      get(&R, i->b, &x);
      cond = pure_truth(r, &x);
      BAIL_IF(cond < 0);
      set_type(&R, a, cond ? PURE_FALSE : PURE_TRUE);
      DISPATCH();
    L_LEN:
      get(&R, i->b, &x);
      BAIL_IF(resolve(r, &x));
      BAIL_IF(length(r, &x, &z));
      set(&R, a, &z);
      DISPATCH();
    L_JMP: pc = (size_t)i->x; DISPATCH();
    L_EQ:
    L_LT:
    L_LE:
    L_EQK:
      get(&R, a, &x);
      if (op == LUABC_EQK) y = K[i->b];
      else get(&R, i->b, &y);
      BAIL_IF(resolve(r, &x) || resolve(r, &y));
      cond = op == LUABC_LT ? less(&x, &y, 0) : op == LUABC_LE ? less(&x, &y, 1) : equal(&x, &y);
      BAIL_IF(cond < 0);
      goto condjump;
    L_EQI:
    L_LTI:
    L_LEI:
    L_GTI:
    L_GEI: {
      int64_t im = i->b - 127; /* sB */
      get(&R, a, &x);
      if (x.type == PURE_INT) { /* the common case, inline */
        int64_t v = x.i;
        cond = op == LUABC_EQI ? v == im : op == LUABC_LTI ? v < im : op == LUABC_LEI ? v <= im
             : op == LUABC_GTI ? v > im : v >= im;
        goto condjump;
      }
      y.type = PURE_INT;
      y.i = im;
      if (x.type > PURE_FLOAT) BAIL_IF(resolve(r, &x));
      if (op == LUABC_EQI) cond = is_number(&x) ? equal(&x, &y) : 0;
      else if (op == LUABC_LTI) cond = less(&x, &y, 0);
      else if (op == LUABC_LEI) cond = less(&x, &y, 1);
      else if (op == LUABC_GTI) cond = less(&y, &x, 0);
      else cond = less(&y, &x, 1);
      BAIL_IF(cond < 0);
      goto condjump;
    }
    L_TEST:
      get(&R, a, &x);
      cond = pure_truth(r, &x);
      BAIL_IF(cond < 0);
      goto condjump;
    L_TESTSET:
      get(&R, i->b, &x);
      cond = pure_truth(r, &x);
      BAIL_IF(cond < 0);
      if (cond != i->k) {
        pc++;
      } else {
        set(&R, a, &x);
        pc = (size_t)i->x; /* where its jump goes */
      }
      DISPATCH();
    L_RETURN:
      if (i->b == 1) out->type = PURE_NIL;
      else get(&R, a, out);
      return PURE_OK;
    L_RETURN0: out->type = PURE_NIL; return PURE_OK;
    L_RETURN1: get(&R, a, out); return PURE_OK;
    L_RETBOOL: out->type = i->k ? PURE_TRUE : PURE_FALSE; return PURE_OK;
    L_BAIL: return PURE_BAIL; /* not translated: a metamethod instruction (arithmetic failed) */
  }
condjump: /* lvm.c's docondjump: skip the jump, or take it */
  if (cond != i->k) pc++;
  else pc = (size_t)i->x;
  DISPATCH();
#undef DISPATCH
}
