/* Unit tests of layers, culling, fusion and ordering (src/graph.c). */
#include <string.h>

#include "base/alloc.h"
#include "graph/graph.h"
#include "testhelp.h"

static int released[64];
static void release(void *ud, int64_t payload) {
  (void)ud;
  released[payload]++;
}

static graph_dep blockwise(graph_id l) { graph_dep d = {.layer = l, .kind = GRAPH_SPLIT, .split = 1}; return d; }

static int plan_of(graph *g, graph_id l, uint32_t index, int fuse, plan *p) {
  graph_node t = {l, index};
  plan_options o = {fuse};
  return graph_plan(g, &t, 1, &o, p);
}

/* Each failure of graph_plan is its own code, and leaves the plan empty. */
static void test_plan_failures(void) {
  graph *g = graph_new(NULL, NULL);
  graph_id a = graph_add(g, "a", 4, NULL, 0, 0);
  graph_dep d = blockwise(a);
  graph_id b = graph_add(g, "b", 4, &d, 1, 0);
  plan p;
  TEST("past the layer's tasks: a bad target", plan_of(g, b, 4, 1, &p) == GRAPH_BADTARGET
       && p.ntasks == 0 && p.tasks == NULL);
  TEST("no layer 0: a bad target", plan_of(g, 0, 0, 1, &p) == GRAPH_BADTARGET);
  TEST("a dead layer: a bad target", plan_of(g, b + 1, 0, 1, &p) == GRAPH_BADTARGET);

  /* two layers of 3e9 tasks: too many node numbers, found before any
   * allocation per task (so this is quick) */
  graph_id huge = graph_add(g, "huge", 3000000000u, NULL, 0, 0);
  d = blockwise(huge);
  graph_id over = graph_add(g, "over", 3000000000u, &d, 1, 0);
  TEST("6e9 tasks: too large", plan_of(g, over, 0, 1, &p) == GRAPH_TOOLARGE && p.tasks == NULL);
  TEST("one of them alone is not", graph_ntasks(g, huge) == 3000000000u);

  /* out of memory at every allocation in turn, then none */
  int nomem = 0, ok = 0;
  for (long k = 1; k < 100 && !ok; k++) {
    base_alloc_fail_after(k);
    graph_status rc = plan_of(g, b, 3, 1, &p);
    base_alloc_fail_after(-1);
    if (rc == GRAPH_NOMEM && p.tasks == NULL && p.ntasks == 0) nomem++;
    else if (rc == GRAPH_OK && p.ntasks == 1 && p.tasks[0].nchain == 2) ok = 1;
    plan_free(&p);
  }
  TEST("out of memory: GRAPH_NOMEM, until the plan is made", nomem > 5 && ok);
  graph_free(g);
}

/* Building under allocation failure: for k = 1, 2, ... allocation k
 * fails while a graph of 200 layers is made (past the first growth of
 * the layer table: 64 ids) and planned.  Each failure is a clean NULL, 0
 * or GRAPH_NOMEM; the layers made until then are whole, and freeing the
 * graph releases exactly their payloads. */
static long nreleased;
static void count_release(void *ud, int64_t payload) {
  (void)payload;
  (*(long *)ud)++;
}

/* 1 when it all was made, 0 when an allocation failed cleanly, -1 when
 * something else went wrong. */
static int build(long *made) {
  nreleased = 0;
  graph *g = graph_new(count_release, &nreleased);
  if (g == NULL) return 0;
  graph_id ids[200];
  int rc = 1;
  for (int i = 0; i < 200 && rc == 1; i++) {
    /* a chain, each layer reading the one before and the first 'i % 8' */
    graph_dep deps[8];
    uint32_t nd = 0;
    if (i > 0) deps[nd++] = blockwise(ids[i - 1]);
    for (int k = 0; k < i % 8 && k < i - 1; k++) deps[nd++] = (graph_dep){.layer = ids[k], .kind = GRAPH_ALL};
    ids[i] = graph_add(g, i % 2 ? "map" : "a layer with a longer name", 3, deps, nd, i);
    if (ids[i] == 0) rc = 0;
    else *made = i + 1;
    if (i > 0 && ids[i] != 0 && i % 3 == 0) graph_decref(g, ids[i - 1]); /* kept by ids[i] */
  }
  if (rc == 1 && graph_live_layers(g) != 200) rc = -1;
  if (rc == 1) {
    plan p;
    graph_node t = {ids[199], 1};
    plan_options o = {1};
    graph_status st = graph_plan(g, &t, 1, &o, &p);
    if (st == GRAPH_NOMEM) rc = p.tasks == NULL ? 0 : -1;
    else if (st != GRAPH_OK || p.ntargets != 1) rc = -1;
    plan_free(&p);
  }
  size_t live = graph_live_layers(g);
  if (live != (size_t)*made) rc = -1;
  graph_free(g);
  if (nreleased != *made) rc = -1;
  return rc;
}

static void test_build_failures(void) {
  int fails = 0, ok = 0, bad = 0;
  for (long k = 1; k < 1000 && !ok && !bad; k++) {
    long made = 0;
    base_alloc_fail_after(k);
    int rc = build(&made);
    base_alloc_fail_after(-1);
    if (rc == 0) fails++;
    else if (rc == 1) ok = 1;
    else bad = 1;
  }
  TEST("building and planning: every allocation failure clean", fails > 10 && ok && !bad);

  /* a layer read by 300 that die with it: dropping it allocates nothing */
  graph *g = graph_new(count_release, &nreleased);
  nreleased = 0;
  graph_id top = graph_add(g, "top", 1, NULL, 0, 0);
  graph_dep deps[300];
  for (int i = 0; i < 300; i++) {
    graph_dep d = blockwise(top);
    deps[i] = (graph_dep){.layer = graph_add(g, "leaf", 1, &d, 1, i), .kind = GRAPH_ALL};
  }
  graph_decref(g, top);
  graph_id root = graph_add(g, "root", 1, deps, 300, 0);
  for (int i = 0; i < 300; i++) graph_decref(g, deps[i].layer);
  base_alloc_fail_after(1);
  graph_decref(g, root);
  long made = base_alloc_fail_after(-1);
  TEST("a release under failure frees all, allocating nothing",
       nreleased == 302 && graph_live_layers(g) == 0 && made == 0);
  graph_free(g);
}

/* Exact counts and order: a diamond over two sources, a -> (b, c) -> d
 * with e on its own beside it: culling keeps what d needs, fusion joins
 * only linear links, priorities number inputs before their reader. */
static void test_plan_exact(void) {
  graph *g = graph_new(NULL, NULL);
  graph_id a = graph_add(g, "a", 2, NULL, 0, 0);
  graph_dep d = blockwise(a);
  graph_id b = graph_add(g, "b", 2, &d, 1, 0);
  graph_id c = graph_add(g, "c", 2, &d, 1, 0);
  graph_dep two[2] = {blockwise(b), blockwise(c)};
  graph_id dd = graph_add(g, "d", 2, two, 2, 0);
  graph_id e = graph_add(g, "e", 2, &d, 1, 0);
  plan p;
  TEST("plan of d's task 1", plan_of(g, dd, 1, 1, &p) == GRAPH_OK);
  /* culled: a1, b1, c1, d1 (not e, not partition 0); a1 has two readers,
   * b1 and c1 one each but d1 reads two: nothing fuses */
  TEST("four tasks after culling, none fused", p.ntasks == 4 && p.nnodes == 4);
  uint32_t prio[4] = {0}; /* by layer: a, b, c, d */
  for (uint32_t t = 0; t < p.ntasks; t++) {
    graph_node nd = p.nodes[p.tasks[t].chain];
    TEST("only partition 1", nd.index == 1);
    prio[nd.layer == a ? 0 : nd.layer == b ? 1 : nd.layer == c ? 2 : 3] = p.tasks[t].priority;
  }
  TEST("priorities: a, b, c, then d", prio[0] == 0 && prio[1] == 1 && prio[2] == 2 && prio[3] == 3);
  plan_free(&p);
  /* e's chain a -> e fuses: e0 alone is one task of two nodes */
  TEST("plan of e's task 0", plan_of(g, e, 0, 1, &p) == GRAPH_OK);
  TEST("one task, a chain of two", p.ntasks == 1 && p.tasks[0].nchain == 2 && p.nnodes == 2
       && p.tasks[0].ninputs == 0 && p.tasks[0].priority == 0);
  plan_free(&p);
  /* both d and e, all partitions: a is read by three layers, so 2 + 2*4 = 10 */
  graph_node all[4] = {{dd, 0}, {dd, 1}, {e, 0}, {e, 1}};
  plan_options fuse = {1};
  TEST("plan of d and e", graph_plan(g, all, 4, &fuse, &p) == GRAPH_OK);
  TEST("ten tasks, none fused", p.ntasks == 10 && p.nnodes == 10);
  TEST("priorities 0..9, the targets' in request order",
       p.tasks[p.targets[0]].priority < p.tasks[p.targets[1]].priority
       && p.tasks[p.targets[1]].priority < p.tasks[p.targets[2]].priority
       && p.tasks[p.targets[3]].priority == 9);
  plan_free(&p);
  graph_free(g);
}

/* GRAPH_LIST: each task reads the tasks listed for it, in that order,
 * and only those are planned; a list naming a task the dependency does
 * not have is refused. */
static void test_list_reads(void) {
  graph *g = graph_new(NULL, NULL);
  graph_id a = graph_add(g, "a", 4, NULL, 0, 0);
  uint32_t at[] = {0, 2, 3}, tasks[] = {3, 0, 1};
  graph_dep d = {.layer = a, .kind = GRAPH_LIST, .at = at, .tasks = tasks};
  graph_id b = graph_add(g, "b", 2, &d, 1, 0);
  at[1] = 9; /* copied: later changes to the caller's lists do not matter */
  plan p;
  TEST("task 0 of b plans a's tasks 3 and 0", plan_of(g, b, 0, 0, &p) == GRAPH_OK && p.ntasks == 3);
  const plan_task *t = &p.tasks[p.targets[0]];
  TEST("read in the listed order", t->ninputs == 2
       && p.nodes[p.tasks[p.edges[t->inputs]].chain].index == 3
       && p.nodes[p.tasks[p.edges[t->inputs + 1]].chain].index == 0);
  plan_free(&p);
  TEST("task 1 reads one task: fused with it", plan_of(g, b, 1, 1, &p) == GRAPH_OK && p.ntasks == 1
       && p.tasks[0].nchain == 2 && p.nodes[p.tasks[0].chain].index == 1);
  plan_free(&p);
  uint32_t bad[] = {4, 0, 1};
  at[1] = 2;
  d.tasks = bad;
  TEST("a task a does not have: refused", graph_add(g, "c", 2, &d, 1, 0) == 0);
  uint32_t down[] = {0, 2, 1};
  d.at = down;
  d.tasks = tasks;
  TEST("lists that go backwards: refused", graph_add(g, "c", 2, &d, 1, 0) == 0);
  graph_free(g);
}

int main(void) {
  test_list_reads();
  test_plan_failures();
  test_plan_exact();
  test_build_failures();
  graph *g = graph_new(release, NULL);
  TEST("a graph", g != NULL);

  /* a source of 4 partitions, map, filter, map: blockwise */
  graph_id src = graph_add(g, "from_sequence", 4, NULL, 0, 1);
  graph_dep d = blockwise(src);
  graph_id m1 = graph_add(g, "map", 4, &d, 1, 2);
  d = blockwise(m1);
  graph_id f = graph_add(g, "filter", 4, &d, 1, 3);
  d = blockwise(f);
  graph_id m2 = graph_add(g, "map", 4, &d, 1, 4);
  TEST("layers are made", src && m1 && f && m2);
  TEST("names are kept", strcmp(graph_name(g, f), "filter") == 0);
  TEST("serials are unique and rising", graph_serial(g, m2) > graph_serial(g, src));

  /* all partitions: fusion makes one task of each partition's chain */
  graph_node all[4];
  for (uint32_t i = 0; i < 4; i++) { all[i].layer = m2; all[i].index = i; }
  plan p;
  plan_options fuse = {1}, nofuse = {0};
  TEST("plan with fusion", graph_plan(g, all, 4, &fuse, &p) == 0);
  TEST("one task per partition", p.ntasks == 4);
  TEST("each task a chain of four", p.tasks[0].nchain == 4 && p.nnodes == 16);
  TEST("the chain runs source first, output last",
       p.nodes[p.tasks[2].chain].layer == src && p.nodes[p.tasks[2].chain + 3].layer == m2
       && p.nodes[p.tasks[2].chain + 3].index == 2);
  TEST("fused nodes read the previous one",
       p.nreads_of[p.tasks[0].chain + 1] == 1 && p.reads[p.read_of[p.tasks[0].chain + 1]] == PLAN_PREVIOUS);
  TEST("targets map to tasks", p.ntargets == 4 && p.tasks[p.targets[3]].requested == 4);
  plan_free(&p);

  TEST("plan without fusion", graph_plan(g, all, 4, &nofuse, &p) == 0);
  TEST("sixteen tasks", p.ntasks == 16 && p.tasks[0].nchain == 1);
  plan_free(&p);

  /* culling: one partition needs only its own chain */
  TEST("plan of one partition", plan_of(g, m2, 1, 0, &p) == 0);
  TEST("culled to its four tasks", p.ntasks == 4);
  for (uint32_t i = 0; i < p.nnodes; i++)
    TEST("only partition 1", p.nodes[i].index == 1);
  plan_free(&p);

  /* a requested intermediate is not fused away */
  graph_node two[2] = {{m1, 0}, {m2, 0}};
  TEST("plan of an intermediate and its reader", graph_plan(g, two, 2, &fuse, &p) == 0);
  TEST("the intermediate is a task of its own", p.ntasks == 2);
  TEST("its reader depends on it", p.tasks[p.targets[1]].ninputs == 1
       && p.edges[p.tasks[p.targets[1]].inputs] == p.targets[0]);
  plan_free(&p);

  /* a tree reduction: 8 leaves, pairs, pairs, one */
  graph_id leaves = graph_add(g, "leaf", 8, NULL, 0, 5);
  graph_dep pair = {.layer = leaves, .kind = GRAPH_SPLIT, .split = 2};
  graph_id l1 = graph_add(g, "sum", 4, &pair, 1, 6);
  pair.layer = l1;
  graph_id l2 = graph_add(g, "sum", 2, &pair, 1, 7);
  pair.layer = l2;
  graph_id l3 = graph_add(g, "sum", 1, &pair, 1, 8);
  TEST("plan of the tree", plan_of(g, l3, 0, 1, &p) == 0);
  TEST("fifteen tasks, nothing to fuse", p.ntasks == 15);
  /* the first pair of leaves and their sum come first, before leaf 3 */
  int first_sum = -1, leaf2 = -1, leaf3 = -1;
  for (uint32_t t = 0; t < p.ntasks; t++) {
    graph_node out = p.nodes[p.tasks[t].chain];
    if (out.layer == l1 && out.index == 0) first_sum = (int)p.tasks[t].priority;
    if (out.layer == leaves && out.index == 1) leaf2 = (int)p.tasks[t].priority;
    if (out.layer == leaves && out.index == 2) leaf3 = (int)p.tasks[t].priority;
  }
  TEST("depth first: a pair's sum before the next leaves",
       leaf2 < first_sum && first_sum < leaf3);
  uint32_t root = p.targets[0];
  TEST("the root is last", p.tasks[root].priority == 14);
  TEST("the root reads two sums", p.tasks[root].ninputs == 2);
  plan_free(&p);

  /* ALL: every task reads every task */
  graph_dep alld = {.layer = leaves, .kind = GRAPH_ALL, .split = 0};
  graph_id shuffle = graph_add(g, "shuffle", 3, &alld, 1, 9);
  TEST("plan of an all-to-all layer", plan_of(g, shuffle, 2, 1, &p) == 0);
  TEST("one task and eight leaves", p.ntasks == 9 && p.tasks[p.targets[0]].ninputs == 8);
  plan_free(&p);

  TEST("bad targets are refused", plan_of(g, shuffle, 3, 1, &p) == GRAPH_BADTARGET);

  /* FOR: task r alone reads the dependency */
  graph_id first = graph_add(g, "one", 1, NULL, 0, 13);
  graph_id second = graph_add(g, "two", 1, NULL, 0, 14);
  graph_dep fors[2] = {{.layer = first, .kind = GRAPH_FOR, .split = 0}, {.layer = second, .kind = GRAPH_FOR, .split = 1}};
  graph_id from = graph_add(g, "from_delayed", 2, fors, 2, 15);
  TEST("plan of task 2 of a FOR layer", plan_of(g, from, 1, 0, &p) == 0);
  TEST("reads only its own dependency", p.ntasks == 2 && p.tasks[p.targets[0]].ninputs == 1
       && p.nodes[p.tasks[p.edges[p.tasks[p.targets[0]].inputs]].chain].layer == second);
  plan_free(&p);

  /* refcounts: dropping the last reference frees a chain of layers */
  size_t live = graph_live_layers(g);
  graph_decref(g, m2);
  TEST("m2 released", released[4] == 1 && released[3] == 0);
  graph_decref(g, f);
  TEST("f released, m1 still referenced by the caller", released[3] == 1 && released[2] == 0);
  TEST("two fewer layers", graph_live_layers(g) == live - 2);
  graph_id again = graph_add(g, "reuse", 1, NULL, 0, 10);
  TEST("ids are reused", again == f || again == m2);

  /* a long chain is freed without recursion */
  graph_id prev = graph_add(g, "start", 1, NULL, 0, 11);
  for (int i = 0; i < 100000; i++) {
    graph_dep dd = blockwise(prev);
    graph_id next = graph_add(g, "step", 1, &dd, 1, 12);
    graph_decref(g, prev);
    prev = next;
  }
  TEST("a 100,001-layer chain", graph_live_layers(g) > 100000);
  TEST("plans as one fused task", plan_of(g, prev, 0, 1, &p) == 0 && p.ntasks == 1
       && p.tasks[0].nchain == 100001);
  plan_free(&p);
  graph_decref(g, prev);
  TEST("and dies whole", released[11] == 1);

  graph_free(g);
  TEST("graph_free releases the rest", released[1] == 1 && released[8] == 1);
  return test_report();
}
