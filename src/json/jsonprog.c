/*
 * jsonprog: Lua bytecode of a record function, run on the record's text
 * (see jsonprog.h).
 *
 * DESIGN.  Programs are Lua's own instructions, checked once by
 * jsonprog_compile (every register, constant and jump in range, jumps
 * forward, each test followed by its jump, each arithmetic instruction by
 * its metamethod instruction) and then interpreted by jsonprog_run with
 * the semantics of Lua 5.4's lvm.c for the values a record yields.
 * Reading a field only records a place (a node: parent and step); the
 * text is read when a value is needed (a test, a comparison, #, the
 * result), by jsondoc_get along the node's path, and the value is kept
 * with the node.  So `local t = r.transactions; return #t > 0 and
 * t[1].amount > 0` reads the text twice and builds nothing.
 *
 * Lua's semantics that a record value cannot meet here bail out: Lua
 * decides them (see jsonprog.h).  Records read as Lua's dusk.json records
 * do: a missing key or an element out of range is nil, a string key of an
 * array or an integer key of an object is nil, # of an object is 0, JSON
 * null is a value of its own that is true.
 */
#include "json/jsonprog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXNODES 4096 /* places one record may hold (a program makes few) */

struct jsonprog {
  luabc_func *f;
};

typedef struct node {
  int parent;              /* -1 for the root */
  size_t poff, plen;       /* its path, encoded for jsondoc, in rec->paths */
  const char *key;         /* a key step, or NULL for an element */
  size_t klen;
  int64_t index;           /* 1-based */
  int read;                /* 'val' holds what is there */
  jsonprog_val val;
  uint64_t ticket;         /* an object or array: resumes the parser in it */
} node;

struct jsonprog_rec {
  jsondoc *doc;
  const char *text;
  size_t len;
  uint64_t id;
  int escapes;             /* the text holds a backslash */
  node *nodes;
  int nnodes, capnodes;
  char *arena;             /* strings read, until the next record */
  size_t used, cap;
  unsigned char *paths;    /* the nodes' paths */
  size_t pused, pcap;
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
    case LUABC_ADD: case LUABC_SUB: case LUABC_MUL: case LUABC_DIV:
      ok = ra && rb && rc && pc + 1 < n && LUABC_OP(f->code[pc + 1]) == LUABC_MMBIN;
      break;
    case LUABC_ADDK: case LUABC_SUBK: case LUABC_MULK: case LUABC_DIVK:
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

jsonprog *jsonprog_compile(luabc_func *f, char *why, size_t whylen) {
  if (!check(f, why, whylen)) {
    free(f);
    return NULL;
  }
  jsonprog *p = malloc(sizeof *p);
  if (p == NULL) {
    snprintf(why, whylen, "out of memory");
    free(f);
    return NULL;
  }
  p->f = f;
  return p;
}

void jsonprog_free(jsonprog *p) {
  if (p == NULL) return;
  free(p->f);
  free(p);
}

/* ------------------------------------------------------------ records */

jsonprog_rec *jsonprog_rec_new(jsondoc *doc) {
  jsonprog_rec *r = calloc(1, sizeof *r);
  if (r != NULL) r->doc = doc;
  return r;
}

void jsonprog_rec_free(jsonprog_rec *r) {
  if (r == NULL) return;
  free(r->nodes);
  free(r->arena);
  free(r->paths);
  free(r);
}

static size_t put_varint(unsigned char *p, size_t v) {
  size_t n = 0;
  for (; v >= 0x80; v >>= 7) p[n++] = (unsigned char)(v | 0x80);
  p[n++] = (unsigned char)v;
  return n;
}

/* A new place: the step 'key' (or element 'index') of 'parent', its path
 * the parent's and that step.  -1 when out of room. */
static int new_node(jsonprog_rec *r, int parent, const char *key, size_t klen, int64_t index) {
  if (r->nnodes == r->capnodes) {
    if (r->capnodes >= MAXNODES) return -1;
    int cap = r->capnodes ? 2 * r->capnodes : 16;
    node *nodes = realloc(r->nodes, (size_t)cap * sizeof *nodes);
    if (nodes == NULL) return -1;
    r->nodes = nodes;
    r->capnodes = cap;
  }
  size_t plen = parent >= 0 ? r->nodes[parent].plen : 0;
  size_t need = plen + 11 + klen;
  if (r->pcap - r->pused < need) {
    size_t cap = 2 * (r->pcap + need);
    unsigned char *p = realloc(r->paths, cap);
    if (p == NULL) return -1;
    r->paths = p;
    r->pcap = cap;
  }
  node *nd = &r->nodes[r->nnodes];
  nd->parent = parent;
  nd->key = key;
  nd->klen = klen;
  nd->index = index;
  nd->read = 0;
  nd->ticket = 0;
  nd->poff = r->pused;
  unsigned char *at = r->paths + r->pused;
  if (parent >= 0) {
    memcpy(at, r->paths + r->nodes[parent].poff, plen);
    at[plen] = key ? JSONDOC_KEY : JSONDOC_INDEX;
    /* an index below 1 is never read (see jsonprog_resolve) */
    plen += 1 + put_varint(at + plen + 1, key ? klen : index > 0 ? (size_t)(index - 1) : 0);
    if (key) memcpy(at + plen, key, klen);
    plen += klen;
  }
  nd->plen = plen;
  r->pused += plen;
  return r->nnodes++;
}

int jsonprog_rec_open(jsonprog_rec *r, const char *text, size_t len, uint64_t id,
                      jsonprog_val *root) {
  r->text = text;
  r->len = len;
  r->id = id;
  r->nnodes = 0;
  r->used = 0;
  r->pused = 0;
  if (len == 0 || (text[0] != '{' && text[0] != '[')) return JSONPROG_BAIL;
  r->escapes = memchr(text, '\\', len) != NULL;
  jsondoc_src src = {text, id, 0, len, NULL, 0, r->escapes, 0};
  jsondoc_val v;
  if (jsondoc_open(r->doc, &src, &v) != 0) return JSONPROG_BAIL;
  int n = new_node(r, -1, NULL, 0, 0);
  if (n < 0) return JSONPROG_BAIL;
  root->type = v.type == JSONDOC_OBJECT ? JSONPROG_OBJECT : JSONPROG_ARRAY;
  root->node = n;
  r->nodes[n].read = 1;
  r->nodes[n].val = *root;
  r->nodes[n].ticket = v.ticket;
  return JSONPROG_OK;
}

/* The source for reading in the place 'n'. */
static jsondoc_src place(const jsonprog_rec *r, int n) {
  const node *nd = &r->nodes[n];
  jsondoc_src src = {r->text, r->id, 0, r->len, r->paths + nd->poff, nd->plen, r->escapes,
                     nd->ticket};
  return src;
}

/* Counts the LENGTH 'v' up to 'max' into an INT: exact below 'max'. */
static int count(jsonprog_rec *r, jsonprog_val *v, size_t max) {
  jsondoc_src src = place(r, v->node);
  size_t n;
  if (jsondoc_count(r->doc, &src, max, &n) != 0) return JSONPROG_BAIL;
  v->type = JSONPROG_INT;
  v->i = (int64_t)n;
  return JSONPROG_OK;
}

/* Copies a string read into the record's arena (the parser's copy lasts
 * only until its next call). */
static const char *keep_string(jsonprog_rec *r, const char *s, size_t n) {
  if (r->cap - r->used < n) {
    /* strings already handed out point into the arena: grow by a new
     * block only when empty, else bail (records rarely need much) */
    if (r->used > 0 && r->cap > 0) return NULL;
    size_t cap = n > 4096 ? n : 4096;
    char *a = realloc(r->arena, cap);
    if (a == NULL) return NULL;
    r->arena = a;
    r->cap = cap;
  }
  char *at = r->arena + r->used;
  memcpy(at, s, n);
  r->used += n;
  return at;
}

int jsonprog_resolve(jsonprog_rec *r, jsonprog_val *v) {
  if (v->type == JSONPROG_LENGTH) return count(r, v, SIZE_MAX);
  if (v->type != JSONPROG_NODE) return JSONPROG_OK;
  node *nd = &r->nodes[v->node];
  if (nd->read) {
    *v = nd->val;
    return JSONPROG_OK;
  }
  jsonprog_val out = {0};
  int parent = nd->parent;
  if (nd->key == NULL && nd->index < 1) {
    jsonprog_val p = {.type = JSONPROG_NODE, .node = parent};
    if (jsonprog_resolve(r, &p) != JSONPROG_OK) return JSONPROG_BAIL;
    if (p.type != JSONPROG_OBJECT && p.type != JSONPROG_ARRAY) return JSONPROG_BAIL;
    out.type = JSONPROG_NIL;
  } else {
    jsondoc_src src = place(r, parent);
    jsondoc_val jv;
    nd = &r->nodes[v->node];
    if (jsondoc_get(r->doc, &src, nd->key, nd->klen, (size_t)(nd->index - 1), &jv) != 0)
      return JSONPROG_BAIL;
    nd->ticket = jv.ticket;
    switch (jv.type) {
    case JSONDOC_NONE: out.type = JSONPROG_NIL; break;
    case JSONDOC_NULL: out.type = JSONPROG_NULL; break;
    case JSONDOC_FALSE: out.type = JSONPROG_FALSE; break;
    case JSONDOC_TRUE: out.type = JSONPROG_TRUE; break;
    case JSONDOC_INT: out.type = JSONPROG_INT; out.i = jv.i; break;
    case JSONDOC_FLOAT: out.type = JSONPROG_FLOAT; out.d = jv.d; break;
    case JSONDOC_STRING:
      out.type = JSONPROG_STRING;
      out.n = jv.n;
      if ((out.s = keep_string(r, jv.s, jv.n)) == NULL) return JSONPROG_BAIL;
      break;
    case JSONDOC_OBJECT: out.type = JSONPROG_OBJECT; out.node = v->node; break;
    default: out.type = JSONPROG_ARRAY; out.node = v->node; break;
    }
  }
  nd = &r->nodes[v->node];
  nd->read = 1;
  nd->val = out;
  *v = out;
  return JSONPROG_OK;
}

int jsonprog_truth(jsonprog_rec *r, jsonprog_val *v) {
  if (v->type == JSONPROG_LENGTH) return 1; /* a number */
  if (jsonprog_resolve(r, v) != JSONPROG_OK) return -1;
  return v->type != JSONPROG_NIL && v->type != JSONPROG_FALSE;
}

int jsonprog_path(const jsonprog_rec *r, int n, jsonprog_step *steps, int max) {
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

static int is_place(const jsonprog_val *v) {
  return v->type == JSONPROG_NODE || v->type == JSONPROG_OBJECT || v->type == JSONPROG_ARRAY;
}

static int is_number(const jsonprog_val *v) {
  return v->type == JSONPROG_INT || v->type == JSONPROG_FLOAT;
}

static void set_const(jsonprog_val *v, const luabc_const *k) {
  memset(v, 0, sizeof *v);
  switch (k->type) {
  case LUA_TNIL: v->type = JSONPROG_NIL; break;
  case LUA_TBOOLEAN: v->type = k->b ? JSONPROG_TRUE : JSONPROG_FALSE; break;
  case LUA_TNUMBER:
    if (k->isint) { v->type = JSONPROG_INT; v->i = k->i; }
    else { v->type = JSONPROG_FLOAT; v->d = k->d; }
    break;
  default: v->type = JSONPROG_STRING; v->s = k->s; v->n = k->n; break;
  }
}

/* Lua's int/float equality: equal only when the float is that integer. */
static int int_eq_float(int64_t i, double d) {
  return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && floor(d) == d &&
         (int64_t)d == i;
}

/* 'a' == 'b' for resolved values: 0 or 1, or -1 to bail (two records:
 * Lua compares their identity). */
static int equal(const jsonprog_val *a, const jsonprog_val *b) {
  if (is_place(a) || is_place(b)) return (is_place(a) && is_place(b)) ? -1 : 0;
  if (is_number(a) && is_number(b)) {
    if (a->type == JSONPROG_INT && b->type == JSONPROG_INT) return a->i == b->i;
    if (a->type == JSONPROG_FLOAT && b->type == JSONPROG_FLOAT) return a->d == b->d;
    return a->type == JSONPROG_INT ? int_eq_float(a->i, b->d) : int_eq_float(b->i, a->d);
  }
  if (a->type != b->type) return 0;
  if (a->type == JSONPROG_STRING) return a->n == b->n && memcmp(a->s, b->s, a->n) == 0;
  return 1; /* nil, false, true, null: one value each */
}

/* a < b ('le': a <= b) for numbers, exactly (x86-64's long double holds
 * every int64): 0 or 1, or -1 to bail (not two numbers). */
static int less(const jsonprog_val *a, const jsonprog_val *b, int le) {
  if (!is_number(a) || !is_number(b)) return -1;
  if (a->type == JSONPROG_INT && b->type == JSONPROG_INT) return le ? a->i <= b->i : a->i < b->i;
  long double x = a->type == JSONPROG_INT ? (long double)a->i : (long double)a->d;
  long double y = b->type == JSONPROG_INT ? (long double)b->i : (long double)b->d;
  return le ? x <= y : x < y;
}

/* Arithmetic of Lua's +, -, *, /: integers wrap, '/' is always a float. */
static int arith(int op, const jsonprog_val *a, const jsonprog_val *b, jsonprog_val *out) {
  if (!is_number(a) || !is_number(b)) return JSONPROG_BAIL;
  memset(out, 0, sizeof *out);
  if (op != LUABC_DIV && a->type == JSONPROG_INT && b->type == JSONPROG_INT) {
    uint64_t x = (uint64_t)a->i, y = (uint64_t)b->i;
    out->type = JSONPROG_INT;
    out->i = (int64_t)(op == LUABC_ADD ? x + y : op == LUABC_SUB ? x - y : x * y);
    return JSONPROG_OK;
  }
  double x = a->type == JSONPROG_INT ? (double)a->i : a->d;
  double y = b->type == JSONPROG_INT ? (double)b->i : b->d;
  out->type = JSONPROG_FLOAT;
  out->d = op == LUABC_ADD ? x + y : op == LUABC_SUB ? x - y : op == LUABC_MUL ? x * y : x / y;
  return JSONPROG_OK;
}

/* The operation of a K or immediate arithmetic instruction. */
static int base_op(int op) {
  switch (op) {
  case LUABC_ADDK: case LUABC_ADDI: return LUABC_ADD;
  case LUABC_SUBK: return LUABC_SUB;
  case LUABC_MULK: return LUABC_MUL;
  case LUABC_DIVK: return LUABC_DIV;
  default: return op;
  }
}

/* t[key] where 'key' is resolved: a new place, or bail.  A place not
 * read yet is not read here: the step is checked when the new place is
 * read (a record's key of the wrong kind is nil, anything else bails). */
static int index_place(jsonprog_rec *r, const jsonprog_val *t, const jsonprog_val *key,
                       jsonprog_val *out) {
  if (!is_place(t)) return JSONPROG_BAIL; /* Lua indexes strings, or raises */
  const char *k = NULL;
  size_t klen = 0;
  int64_t index = 0; /* below 1: nil once 't' is known to be a record */
  if (key->type == JSONPROG_STRING) {
    k = key->s;
    klen = key->n;
  } else if (key->type == JSONPROG_INT) {
    index = key->i;
  } else if (key->type == JSONPROG_FLOAT && int_eq_float((int64_t)key->d, key->d)) {
    index = (int64_t)key->d;
  }
  int n = new_node(r, t->node, k, klen, index);
  if (n < 0) return JSONPROG_BAIL;
  memset(out, 0, sizeof *out);
  out->type = JSONPROG_NODE;
  out->node = n;
  return JSONPROG_OK;
}

/* #v for a resolved value.  An array's length is counted when it is
 * used: compared with a small constant (#t > 0), only that far. */
static int length(const jsonprog_val *v, jsonprog_val *out) {
  memset(out, 0, sizeof *out);
  out->type = JSONPROG_INT;
  if (v->type == JSONPROG_STRING) {
    out->i = (int64_t)v->n;
    return JSONPROG_OK;
  }
  if (v->type == JSONPROG_OBJECT) return JSONPROG_OK; /* records: # of an object is 0 */
  if (v->type != JSONPROG_ARRAY) return JSONPROG_BAIL;
  out->type = JSONPROG_LENGTH;
  out->node = v->node;
  return JSONPROG_OK;
}

#define BAIL_IF(x) do { if (x) return JSONPROG_BAIL; } while (0)

int jsonprog_run(const jsonprog *p, jsonprog_rec *r, const jsonprog_val *arg,
                 jsonprog_val *out) {
  const luabc_func *f = p->f;
  const uint32_t *code = f->code;
  const luabc_const *K = f->k;
  jsonprog_val R[256];
  for (int k = 0; k < f->maxstack; k++) R[k].type = JSONPROG_NIL;
  if (f->numparams > 0) R[0] = *arg;
  size_t pc = 0;
  for (;;) {
    uint32_t i = code[pc++];
    int op = LUABC_OP(i), a = LUABC_A(i);
    jsonprog_val kv, *ra = &R[a];
    int cond;
    switch (op) {
    case LUABC_MOVE: *ra = R[LUABC_B(i)]; break;
    case LUABC_LOADI:
      ra->type = JSONPROG_INT;
      ra->i = LUABC_SBX(i);
      break;
    case LUABC_LOADF:
      ra->type = JSONPROG_FLOAT;
      ra->d = (double)LUABC_SBX(i);
      break;
    case LUABC_LOADK: set_const(ra, &K[LUABC_BX(i)]); break;
    case LUABC_LOADFALSE: ra->type = JSONPROG_FALSE; break;
    case LUABC_LFALSESKIP: ra->type = JSONPROG_FALSE; pc++; break;
    case LUABC_LOADTRUE: ra->type = JSONPROG_TRUE; break;
    case LUABC_LOADNIL:
      for (int k = 0; k <= LUABC_B(i); k++) R[a + k].type = JSONPROG_NIL;
      break;
    case LUABC_GETFIELD:
      set_const(&kv, &K[LUABC_C(i)]);
      BAIL_IF(index_place(r, &R[LUABC_B(i)], &kv, ra));
      break;
    case LUABC_GETI:
      kv.type = JSONPROG_INT;
      kv.i = LUABC_C(i);
      BAIL_IF(index_place(r, &R[LUABC_B(i)], &kv, ra));
      break;
    case LUABC_GETTABLE:
      kv = R[LUABC_C(i)];
      BAIL_IF(jsonprog_resolve(r, &kv));
      BAIL_IF(index_place(r, &R[LUABC_B(i)], &kv, ra));
      break;
    case LUABC_ADD: case LUABC_SUB: case LUABC_MUL: case LUABC_DIV: {
      jsonprog_val x = R[LUABC_B(i)], y = R[LUABC_C(i)];
      BAIL_IF(jsonprog_resolve(r, &x) || jsonprog_resolve(r, &y));
      BAIL_IF(arith(op, &x, &y, ra));
      pc++; /* the metamethod instruction */
      break;
    }
    case LUABC_ADDK: case LUABC_SUBK: case LUABC_MULK: case LUABC_DIVK: {
      jsonprog_val x = R[LUABC_B(i)];
      set_const(&kv, &K[LUABC_C(i)]);
      BAIL_IF(jsonprog_resolve(r, &x));
      BAIL_IF(arith(base_op(op), &x, &kv, ra));
      pc++;
      break;
    }
    case LUABC_ADDI: {
      jsonprog_val x = R[LUABC_B(i)];
      kv.type = JSONPROG_INT;
      kv.i = LUABC_SC(i);
      BAIL_IF(jsonprog_resolve(r, &x));
      BAIL_IF(arith(LUABC_ADD, &x, &kv, ra));
      pc++;
      break;
    }
    case LUABC_UNM: {
      jsonprog_val x = R[LUABC_B(i)];
      BAIL_IF(jsonprog_resolve(r, &x));
      if (x.type == JSONPROG_INT) x.i = (int64_t)(0u - (uint64_t)x.i);
      else if (x.type == JSONPROG_FLOAT) x.d = -x.d;
      else return JSONPROG_BAIL;
      *ra = x;
      break;
    }
    case LUABC_NOT: {
      jsonprog_val x = R[LUABC_B(i)];
      int t = jsonprog_truth(r, &x);
      BAIL_IF(t < 0);
      ra->type = t ? JSONPROG_FALSE : JSONPROG_TRUE;
      break;
    }
    case LUABC_LEN: {
      jsonprog_val x = R[LUABC_B(i)];
      BAIL_IF(jsonprog_resolve(r, &x));
      BAIL_IF(length(&x, ra));
      break;
    }
    case LUABC_JMP: pc += (size_t)LUABC_SJ(i); break;
    case LUABC_EQ: case LUABC_LT: case LUABC_LE: case LUABC_EQK: {
      jsonprog_val x = *ra, y;
      if (op == LUABC_EQK) set_const(&y, &K[LUABC_B(i)]);
      else y = R[LUABC_B(i)];
      BAIL_IF(jsonprog_resolve(r, &x) || jsonprog_resolve(r, &y));
      cond = op == LUABC_LT ? less(&x, &y, 0) : op == LUABC_LE ? less(&x, &y, 1) : equal(&x, &y);
      BAIL_IF(cond < 0);
      goto condjump;
    }
    case LUABC_EQI: case LUABC_LTI: case LUABC_LEI: case LUABC_GTI: case LUABC_GEI: {
      jsonprog_val x = *ra, y;
      memset(&y, 0, sizeof y);
      y.type = JSONPROG_INT;
      y.i = LUABC_SB(i);
      /* comparing with y needs the length counted to y + 1 at most */
      if (x.type == JSONPROG_LENGTH) BAIL_IF(count(r, &x, y.i < 0 ? 0 : (size_t)y.i + 1));
      BAIL_IF(jsonprog_resolve(r, &x));
      if (op == LUABC_EQI) cond = is_number(&x) ? equal(&x, &y) : 0;
      else if (op == LUABC_LTI) cond = less(&x, &y, 0);
      else if (op == LUABC_LEI) cond = less(&x, &y, 1);
      else if (op == LUABC_GTI) cond = less(&y, &x, 0);
      else cond = less(&y, &x, 1);
      BAIL_IF(cond < 0);
      goto condjump;
    }
    case LUABC_TEST:
      cond = jsonprog_truth(r, ra);
      BAIL_IF(cond < 0);
      goto condjump;
    case LUABC_TESTSET: {
      jsonprog_val x = R[LUABC_B(i)];
      int t = jsonprog_truth(r, &x);
      BAIL_IF(t < 0);
      if (t != LUABC_K(i)) {
        pc++;
      } else {
        *ra = x;
        pc += (size_t)LUABC_SJ(code[pc]) + 1; /* the jump after it */
      }
      break;
    }
    case LUABC_RETURN:
      if (LUABC_B(i) == 1) out->type = JSONPROG_NIL;
      else *out = *ra;
      return JSONPROG_OK;
    case LUABC_RETURN0: out->type = JSONPROG_NIL; return JSONPROG_OK;
    case LUABC_RETURN1: *out = *ra; return JSONPROG_OK;
    default: return JSONPROG_BAIL; /* a metamethod instruction: arithmetic failed */
    }
    continue;
  condjump: /* lvm.c's docondjump: skip the jump, or take it */
    if (cond != LUABC_K(i)) pc++;
    else pc += (size_t)LUABC_SJ(code[pc]) + 1;
  }
}
