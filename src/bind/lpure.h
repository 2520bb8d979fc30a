/*
 * lpure: the Lua module "dusk.pure" (pure Lua functions run in C, see
 * pure/purevm.h).  See lpure.c for its functions.
 */
#ifndef DUSK_LPURE_H
#define DUSK_LPURE_H

#include <lua.h>

#include "pure/purevm.h"

int luaopen_dusk_pure(lua_State *L);

/* The program at 'idx' (a value pure.compile returned), or raises. */
const pure *lpure_check(lua_State *L, int idx);

/* A stage of a pipeline: a program and what its result does. */
enum { LPURE_FILTER, LPURE_REMOVE, LPURE_MAP };

typedef struct lpure_stage {
  int kind;
  const pure *prog;
} lpure_stage;

#define LPURE_MAXSTAGES 64

/* Reads the stages list at 'idx' ({{"filter" | "remove" | "map",
 * program}, ...}, at most 'max') into 'st': their number, or raises. */
int lpure_stages(lua_State *L, int idx, lpure_stage *st, int max);

/* Runs the 'n' stages on '*v' ('r': the record it is a place in, or NULL
 * for a number): 1 with what comes out in '*v', 0 when a filter dropped
 * it, -1 when a program bailed (Lua must run the stages). */
int lpure_run_stages(const lpure_stage *st, int n, pure_rec *r, pure_val *v);

#endif
