/*
 * luabc: reading the bytecode of a Lua 5.4 function, as lua_dump writes
 * it, into plain C: its instructions and constants.
 *
 * Lua keeps its opcodes and instruction layout in lopcodes.h, which is not
 * part of the installed API; they are restated here.  They are fixed for a
 * bytecode format: luabc_read checks the dump's header (version 5.4,
 * format 0, the sizes and check values of this build) and refuses any
 * other, so a Lua whose format differs is refused, not misread.
 *
 * Only the function itself is read (not its nested functions or debug
 * information): enough to translate a small pure function (pure/purevm.h).
 */
#ifndef DUSK_LUABC_H
#define DUSK_LUABC_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

/* The opcodes of Lua 5.4 (lopcodes.h), in their order. */
enum {
  LUABC_MOVE, LUABC_LOADI, LUABC_LOADF, LUABC_LOADK, LUABC_LOADKX, LUABC_LOADFALSE,
  LUABC_LFALSESKIP, LUABC_LOADTRUE, LUABC_LOADNIL, LUABC_GETUPVAL, LUABC_SETUPVAL,
  LUABC_GETTABUP, LUABC_GETTABLE, LUABC_GETI, LUABC_GETFIELD, LUABC_SETTABUP,
  LUABC_SETTABLE, LUABC_SETI, LUABC_SETFIELD, LUABC_NEWTABLE, LUABC_SELF, LUABC_ADDI,
  LUABC_ADDK, LUABC_SUBK, LUABC_MULK, LUABC_MODK, LUABC_POWK, LUABC_DIVK, LUABC_IDIVK,
  LUABC_BANDK, LUABC_BORK, LUABC_BXORK, LUABC_SHRI, LUABC_SHLI, LUABC_ADD, LUABC_SUB,
  LUABC_MUL, LUABC_MOD, LUABC_POW, LUABC_DIV, LUABC_IDIV, LUABC_BAND, LUABC_BOR,
  LUABC_BXOR, LUABC_SHL, LUABC_SHR, LUABC_MMBIN, LUABC_MMBINI, LUABC_MMBINK, LUABC_UNM,
  LUABC_BNOT, LUABC_NOT, LUABC_LEN, LUABC_CONCAT, LUABC_CLOSE, LUABC_TBC, LUABC_JMP,
  LUABC_EQ, LUABC_LT, LUABC_LE, LUABC_EQK, LUABC_EQI, LUABC_LTI, LUABC_LEI, LUABC_GTI,
  LUABC_GEI, LUABC_TEST, LUABC_TESTSET, LUABC_CALL, LUABC_TAILCALL, LUABC_RETURN,
  LUABC_RETURN0, LUABC_RETURN1, LUABC_FORLOOP, LUABC_FORPREP, LUABC_TFORPREP,
  LUABC_TFORCALL, LUABC_TFORLOOP, LUABC_SETLIST, LUABC_CLOSURE, LUABC_VARARG,
  LUABC_VARARGPREP, LUABC_EXTRAARG
};

/* Tags of constants in a dump (lobject.h: the type, its variant << 4). */
enum {
  LUABC_TNIL = 0x00, LUABC_TFALSE = 0x01, LUABC_TTRUE = 0x11, LUABC_TINT = 0x03,
  LUABC_TFLT = 0x13, LUABC_TSHRSTR = 0x04, LUABC_TLNGSTR = 0x14
};

/* Instruction fields: op 7 bits, A 8, k 1, B 8, C 8; Bx and sJ span the
 * rest.  Signed fields are stored with an offset. */
#define LUABC_OP(i) ((int)((i) & 0x7F))
#define LUABC_A(i) ((int)(((i) >> 7) & 0xFF))
#define LUABC_K(i) ((int)(((i) >> 15) & 1))
#define LUABC_B(i) ((int)(((i) >> 16) & 0xFF))
#define LUABC_C(i) ((int)(((i) >> 24) & 0xFF))
#define LUABC_SB(i) (LUABC_B(i) - 127)
#define LUABC_SC(i) (LUABC_C(i) - 127)
#define LUABC_BX(i) ((int)((i) >> 15))
#define LUABC_SBX(i) (LUABC_BX(i) - 65535)
#define LUABC_SJ(i) ((int)((i) >> 7) - 16777215)

/* A constant: LUA_TNIL, LUA_TBOOLEAN ('b'), LUA_TNUMBER (an integer 'i'
 * when 'isint', else 'd') or LUA_TSTRING ('s', 'n' bytes, inside the
 * function's allocation). */
typedef struct luabc_const {
  int type;
  int isint;
  int b;
  lua_Integer i;
  lua_Number d;
  const char *s;
  size_t n;
} luabc_const;

typedef struct luabc_func {
  int numparams, is_vararg, maxstack;
  size_t ncode, nk;
  const uint32_t *code;
  const luabc_const *k;
} luabc_func;

/* Reads a size of a dump at 'p' (7 bits a byte, most significant first,
 * the last byte marked by 0x80: ldump.c dumpSize) into '*x'.  Returns the
 * bytes read, or 0 when 'end' comes first or the size overflows ('*x'
 * then 0). */
static inline size_t luabc_size(const unsigned char *p, const unsigned char *end, size_t *x) {
  size_t v = 0;
  *x = 0;
  for (const unsigned char *q = p; q < end && v <= (SIZE_MAX >> 7); q++) {
    v = (v << 7) | (size_t)(*q & 0x7F);
    if (*q & 0x80) {
      *x = v;
      return (size_t)(q - p) + 1;
    }
  }
  return 0;
}

/* Pushes the bytecode of the Lua function at 'idx' (lua_dump, debug
 * information dropped when 'strip'): 0, or -1 with nothing pushed when it
 * cannot be dumped (a C function). */
int luabc_dump(lua_State *L, int idx, int strip);

/* Reads the function of the dump 'b'['n'] into '*out': one allocation,
 * base_free() it.  Returns 0, or an error ("not Lua 5.4 bytecode of this
 * build", "truncated bytecode", "out of memory"). */
const char *luabc_read(const char *b, size_t n, luabc_func **out);

#endif
