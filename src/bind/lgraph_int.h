/*
 * lgraph_int: what the two halves of "dusk.core" share: the module's state
 * and the persisted-data userdata.  lgraph.c makes layers, plans and the
 * module; lrun.c runs computations.
 */
#ifndef DUSK_LCORE_INT_H
#define DUSK_LCORE_INT_H

#include <lua.h>

#include "graph/graph.h"
#include "exec/exec.h"
#include "sched/sched.h"
#include "data/store.h"

#define STORED "dusk.Stored"

typedef struct core_state {
  graph *g;
  lua_State *main;     /* the state's main thread: releases payload refs */
  sched_pool *pool;
  int pool_size;
  exec_worker *sync;
} core_state;

typedef struct stored_ud {
  store_block *b; /* NULL once released */
} stored_ud;

/* Pushes a new, empty Stored; the caller sets its block. */
stored_ud *lgraph_push_stored(lua_State *L);

/* Reads the targets of compute/persist/plan from the lists at stack
 * positions 1 (layers) and 2 (1-based task indexes); the array lives in a
 * userdata pushed on the stack. */
graph_node *lgraph_targets(lua_State *L, core_state *cs, uint32_t *n);

/* Plans 'targets' into 'p' (graph_plan).  Returns LUA_OK, or an error
 * status with the failure's own message pushed: out of memory, a target
 * past its layer's tasks (named), or a graph too large. */
int lgraph_plan(lua_State *L, core_state *cs, const graph_node *targets, uint32_t n,
                const plan_options *o, plan *p);

/* core.compute and core.persist, with the module's state as upvalue 1. */
int lrun_compute(lua_State *L);
int lrun_persist(lua_State *L);

#endif
