/*
 * graph: the task graph, as layers of tasks, and the plan that runs it.
 *
 * A layer is what one collection operation adds: 'ntasks' tasks (one per
 * partition; a Delayed call is a layer of one) made by one payload, and
 * the layers it reads, each read as
 *   GRAPH_SPLIT k: task i reads tasks [i*k, (i+1)*k) of the dependency
 *                  (k = 1 is blockwise: partition i from partition i;
 *                  a layer of one task with k = n reads all n)
 *   GRAPH_ALL:     every task reads every task of the dependency;
 *   GRAPH_FOR r:   only task r reads it, all of its tasks (a layer made
 *                  of other layers' results: Bag from Delayed objects);
 *   GRAPH_LIST:    task i reads the tasks listed for it, in that order
 *                  (an array's blocks: broadcasting, slicing, rechunking,
 *                  a block product over the inner dimension).
 * Layers are refcounted: a layer holds a reference to each layer it reads,
 * the binding one for each Lua object naming it.  The graph knows nothing
 * of Lua: a payload is an integer the owner gives meaning to, released
 * through the callback given to graph_new when its layer dies.
 *
 * graph_plan() turns requested tasks into what the scheduler runs: culled
 * to what they need, linear chains fused into one task, and ordered so
 * that work started is finished first (see graph.c).
 *
 * Folder src/graph/ owns the task graph and its plans; it includes only
 * base/ (no Lua, no threads).
 */
#ifndef DUSK_GRAPH_H
#define DUSK_GRAPH_H

#include <stddef.h>
#include <stdint.h>

typedef uint32_t graph_id; /* a layer; 0 is never a layer */

typedef enum { GRAPH_SPLIT, GRAPH_ALL, GRAPH_FOR, GRAPH_LIST } graph_dep_kind;

typedef struct graph_dep {
  graph_id layer;
  graph_dep_kind kind;
  uint32_t split; /* GRAPH_SPLIT: tasks of 'layer' read per task;
                     GRAPH_FOR: the one task that reads it */
  /* GRAPH_LIST: task i reads tasks[at[i] .. at[i+1]) of 'layer' ('at'
   * has ntasks + 1 entries, at[0] = 0; graph_add copies both) */
  const uint32_t *at, *tasks;
} graph_dep;

typedef struct graph graph;

/* A new empty graph; 'release' is called with 'ud' and the payload of
 * each layer that dies.  NULL when out of memory. */
graph *graph_new(void (*release)(void *ud, int64_t payload), void *ud);

/* Frees the graph; payloads of layers still alive are released. */
void graph_free(graph *g);

/* Adds a layer of 'ntasks' tasks named 'name' (copied) reading 'deps'
 * (copied, lists included; each dependency gains a reference).  The new
 * layer has one reference, the caller's.  Returns its id, or 0 when out
 * of memory, a dependency is not a live layer or a list names a task it
 * does not have (the payload is then not owned). */
graph_id graph_add(graph *g, const char *name, uint32_t ntasks,
                   const graph_dep *deps, uint32_t ndeps, int64_t payload);

void graph_incref(graph *g, graph_id id);
/* Drops a reference; at zero the layer dies, releasing its payload and
 * its references to the layers it reads. */
void graph_decref(graph *g, graph_id id);

/* Accessors of a live layer. */
const char *graph_name(const graph *g, graph_id id);
uint32_t graph_ntasks(const graph *g, graph_id id);
int64_t graph_payload(const graph *g, graph_id id);
uint64_t graph_serial(const graph *g, graph_id id); /* unique per layer ever made */
uint32_t graph_ndeps(const graph *g, graph_id id);
const graph_dep *graph_deps(const graph *g, graph_id id);
size_t graph_live_layers(const graph *g);

/* A task of the graph: task 'index' (0-based) of 'layer'. */
typedef struct graph_node {
  graph_id layer;
  uint32_t index;
} graph_node;

/* One task of a plan: a chain of graph tasks run one after the other in
 * one go, each reading the previous one's result (fusion).  A plan task
 * reads the results of its 'inputs' (plan task numbers, each once, in the
 * order the chain first reads them) and is read by its 'dependents'. */
typedef struct plan_task {
  uint32_t chain, nchain;         /* into plan.nodes: the chain, output last */
  uint32_t inputs, ninputs;       /* into plan.edges */
  uint32_t dependents, ndependents; /* into plan.edges */
  uint32_t priority;              /* lower runs first among ready tasks */
  uint32_t requested;             /* 1 + position among the targets, or 0 */
} plan_task;

typedef struct plan {
  plan_task *tasks;
  uint32_t ntasks;
  graph_node *nodes; /* chains */
  uint32_t nnodes;
  uint32_t *edges;
  uint32_t *targets; /* plan task of each requested node, in request order */
  uint32_t ntargets;
  /* For each node of a chain, where its inputs come from, in the order the
   * payload reads them: plan.reads[plan.read_of[n] ...] for the node at
   * plan.nodes[n], 'plan.nreads_of[n]' entries; an entry is a plan task
   * number, or PLAN_PREVIOUS for the previous node of the chain. */
  uint32_t *reads, *read_of, *nreads_of;
} plan;

#define PLAN_PREVIOUS UINT32_MAX

typedef struct plan_options {
  int fuse; /* fuse linear chains */
} plan_options;

/* What graph_plan returns: each failure is its own code, so the user is
 * told which one happened. */
typedef enum graph_status {
  GRAPH_OK = 0,
  GRAPH_NOMEM,     /* out of memory */
  GRAPH_BADTARGET, /* a target is not a task of a live layer */
  GRAPH_TOOLARGE   /* the layers the targets reach hold 2^32 - 1 tasks or
                      more, or their tasks as many reads */
} graph_status;

/* Plans the computation of 'targets' (live layers' tasks; duplicates
 * allowed).  Returns GRAPH_OK, or a failure ('p' is then empty). */
graph_status graph_plan(const graph *g, const graph_node *targets, uint32_t ntargets,
                        const plan_options *opts, plan *p);

void plan_free(plan *p);

#endif
