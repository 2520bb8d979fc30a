/*
 * lframe: the class "dusk.frame" (an in-memory table: a DataFrame's
 * partition, a compute result; dusk.series is a frame of one column and
 * its index) and the module "dusk.framecore", what a DataFrame's tasks
 * run (lua/dusk/dataframe.lua builds the graphs).
 */
#ifndef DUSK_LFRAME_H
#define DUSK_LFRAME_H

#include <lauxlib.h>

#include "frame/frame.h"

#define LFR_CLASS "dusk.frame"

typedef struct lframe {
  frame f;
  int open;
  int series; /* a Series: its one column after the index ones */
} lframe;

int luaopen_dusk_framecore(lua_State *L);
/* Sets the class of BUF_TABLE buffers pushed into 'L' (value.h). */
void lframe_open(lua_State *L);
/* The open frame at 'idx', or raises. */
lframe *lfr_check(lua_State *L, int idx);
/* Pushes a new box holding 'f' (taken: the caller no longer frees it). */
lframe *lfr_push(lua_State *L, frame *f, int series);

#endif
