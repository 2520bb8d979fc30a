/*
 * serial_int: what serial.c, serial_dec.c and serial_fn.c share, and
 * nothing else includes: the tags of the format and the per-state tables.
 */
#ifndef DUSK_SERIAL_INT_H
#define DUSK_SERIAL_INT_H

#include <stdint.h>

#include "serial/serial.h"

#define SERIAL_SHORTSTR 32 /* longest T_SSTR */

/* One byte before every value.  Objects marked * get the next reference
 * number when they appear, before their contents, so cycles work. */
enum {
  T_NIL, T_FALSE, T_TRUE,
  T_INT,    /* zigzag varint */
  T_FLOAT,  /* 8 bytes, native order (the header checks the sizes) */
  T_STR,    /* * varint length, bytes */
  T_REF,    /* varint: an earlier object's reference number */
  T_TABLE,  /* * varint narr, varint nhash, narr values, nhash key/value
               pairs, metatable (nil or a table) */
  T_LFUNC,  /* * varint nups, proto, nups upvalues: varint 0 + value for a
               new cell, or varint k + 1 to share cell k */
  T_NAMED,  /* * string module, string field ("" for the module itself) */
  T_ENV,    /* the environment, rebound by the receiver */
  T_LIGHT,  /* pointer-sized bytes; only with SERIAL_LOCAL */
  T_EXT,    /* * string type name, payload value */
  T_SSTR,   /* a short string not numbered: varint length, bytes (values
               that rarely repeat, unlike keys, are not worth a lookup) */
  T_INTS,   /* only among a table's narr values: varint k, then k
               integers, each a zigzag varint of its difference from the
               one before (the first from 0), wrapping around */
  T_NTAGS
};
/* A proto is varint k + 1 for the frame's k-th proto, or varint 0 then
 * 8 bytes hash, varint length, chunk bytes.  After the root value: globals
 * (varint count, name string + value each), then additions to standard
 * tables (varint count, table name + key string + value each).  Before the
 * root: package fields (varint count, key + value strings: path, cpath). */

/* The per-state table in the registry (see serial_state), its fields: */
enum {
  R_BASE = 1, /* std table -> shallow copy taken by serial_baseline */
  R_BASEG,    /* copy of _G at baseline */
  R_BASEKEYS, /* name -> true for every key of a standard table */
  R_STDTABS,  /* name -> table: the standard tables (string, math...) */
  R_NAMES,    /* value -> "module\0field": C functions, module tables */
  R_NLOADED,  /* R_LOADVER when R_NAMES was built */
  R_LOADVER,  /* bumped when package.loaded gains a key (see serial.c) */
  R_PROTOS,   /* hash -> {factory, chunk, nups}: loaded prototypes */
  R_FNINFO,   /* weak keys: closure -> analysis (see serial_fn.c) */
  R_PATHS,    /* package.path and cpath at baseline: {path, cpath} */
  R_TYPES,    /* type name -> decode hook, for T_EXT */
  R_ENCTAB,   /* an empty scratch table for the next encode, or nil */
  R_DECTAB,   /* an empty scratch table for the next decode, or nil */
  R_NFIELDS = R_DECTAB
};

/* Pushes the per-state table, creating it on first use. */
void serial_state(lua_State *L);

/* Scratch tables are reused when a frame used at most this many keys:
 * clearing them is cheaper than making them, and makes less garbage. */
#define SERIAL_REUSE 64

/* Takes the reusable table 'field' of the per-state table at 'st' into
 * stack slot 'slot' (left as is when there is none). */
void serial_take(lua_State *L, int st, int field, int slot);

/* Analysis of a Lua function, cached per closure: serial_fn_info pushes a
 * userdata holding this struct, with the user values below. */
typedef struct serial_fninfo {
  uint64_t hash; /* 64-bit FNV-1a of the chunk */
  int nups;      /* number of upvalues */
  int envup;     /* which upvalue is _ENV (0: none) for the names below */
  int names;     /* whether F_GLOBALS or F_FIELDS has any */
} serial_fninfo;

enum {
  F_CHUNK = 1, /* the factory chunk: loading and calling it makes a fresh
                  closure of the function's prototype, fresh upvalues */
  F_GLOBALS,   /* array of global names read through _ENV */
  F_FIELDS,    /* array of string constants (fields, methods) */
  F_NINFO = F_FIELDS
};

/* Pushes the analysis of the Lua function at 'idx', whose upvalue 'envup'
 * (0: none) is its environment, cached in the per-state table at the
 * absolute index 'st', and returns its struct, valid while the userdata
 * is on the stack.  Raises an error if the function cannot be dumped. */
const serial_fninfo *serial_fn_info(lua_State *L, int st, int idx, int envup);

#endif
