/*
 * graph: layers of tasks, and plans.
 *
 * DESIGN
 *
 * Layers live in an array indexed by id, with a free list; a layer is one
 * allocation (its name and dependencies follow the struct).  Nothing here
 * is per task until a plan is made, so a graph of a million-partition
 * layer costs one small allocation.
 *
 * graph_plan works in flat arrays, no allocation per task:
 *   1. the layers the targets reach, each given a base number, so task i of
 *      a layer is node base + i;
 *   2. the nodes the targets need, marked by an iterative depth-first walk
 *      (culling: partitions nobody needs are dropped), renumbered densely;
 *   3. inputs and dependents of each node in CSR form;
 *   4. fusion, as Dask's fuse_linear: a node with exactly one input, read
 *      by nobody else and not requested, runs in the same task as its
 *      reader, so map -> filter -> map is one task per partition and the
 *      data never leaves the worker between the steps;
 *   5. priorities: a post-order walk from the targets, inputs in order, so
 *      a task's inputs are numbered just before it and subtrees finish
 *      before others start: a tree reduction frees each pair of
 *      intermediates as soon as their sum is done (Dask's `order` goal,
 *      by its simplest means).
 */
#include "graph/graph.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

typedef struct layer {
  uint32_t refcount;
  uint32_t ntasks;
  uint32_t ndeps;
  int64_t payload;
  uint64_t serial;
  char *name;
  graph_dep deps[]; /* then the GRAPH_LIST deps' lists, then the name's bytes */
} layer;

struct graph {
  layer **layers;     /* by id; NULL for free ids */
  uint32_t cap;       /* entries in 'layers' */
  uint32_t *free_ids;
  uint32_t nfree;
  size_t live;
  uint64_t next_serial;
  void (*release)(void *ud, int64_t payload);
  void *ud;
};

graph *graph_new(void (*release)(void *, int64_t), void *ud) {
  graph *g = base_calloc(1, sizeof *g);
  if (g == NULL) return NULL;
  g->release = release;
  g->ud = ud;
  g->next_serial = 1;
  return g;
}

static layer *get(const graph *g, graph_id id) {
  return (id > 0 && id < g->cap) ? g->layers[id] : NULL;
}

static void destroy(graph *g, graph_id id);

void graph_free(graph *g) {
  if (g == NULL) return;
  for (uint32_t id = 1; id < g->cap; id++) {
    layer *l = g->layers[id];
    if (l != NULL) {
      if (g->release) g->release(g->ud, l->payload);
      base_free(l);
    }
  }
  base_free(g->layers);
  base_free(g->free_ids);
  base_free(g);
}

static graph_id new_id(graph *g) {
  if (g->nfree > 0) return g->free_ids[--g->nfree];
  if (g->cap == UINT32_MAX) return 0;
  uint32_t cap = g->cap ? g->cap * 2 : 64;
  if (cap < g->cap) cap = UINT32_MAX;
  layer **ls = base_realloc(g->layers, cap * sizeof *ls);
  uint32_t *fs = base_realloc(g->free_ids, cap * sizeof *fs);
  if (ls) g->layers = ls;
  if (fs) g->free_ids = fs;
  if (!ls || !fs) return 0;
  memset(ls + g->cap, 0, (cap - g->cap) * sizeof *ls);
  /* hand out ids from the low end: push the new ones in reverse */
  uint32_t first = g->cap ? g->cap : 1;
  for (uint32_t id = cap - 1; id > first; id--) g->free_ids[g->nfree++] = id;
  g->cap = cap;
  return first;
}

/* Entries of a GRAPH_LIST dependency's lists ('at' and 'tasks'), or 0
 * for another kind; -1 when a listed task is not one of the dependency's. */
static int64_t list_entries(const graph *g, const graph_dep *d, uint32_t ntasks) {
  if (d->kind != GRAPH_LIST) return 0;
  if (d->at == NULL || d->at[0] != 0) return -1;
  uint32_t n = g->layers[d->layer]->ntasks;
  for (uint32_t i = 0; i < ntasks; i++)
    if (d->at[i + 1] < d->at[i]) return -1;
  for (uint32_t k = 0; k < d->at[ntasks]; k++)
    if (d->tasks[k] >= n) return -1;
  return (int64_t)ntasks + 1 + d->at[ntasks];
}

graph_id graph_add(graph *g, const char *name, uint32_t ntasks,
                   const graph_dep *deps, uint32_t ndeps, int64_t payload) {
  uint64_t nlist = 0;
  for (uint32_t i = 0; i < ndeps; i++) {
    if (get(g, deps[i].layer) == NULL) return 0;
    int64_t e = list_entries(g, &deps[i], ntasks);
    if (e < 0) return 0;
    nlist += (uint64_t)e;
  }
  size_t namelen = strlen(name);
  if (nlist > (SIZE_MAX - namelen) / 8) return 0;
  layer *l = base_malloc(sizeof *l + ndeps * sizeof(graph_dep) + nlist * sizeof(uint32_t) +
                         namelen + 1);
  if (l == NULL) return 0;
  graph_id id = new_id(g);
  if (id == 0) {
    base_free(l);
    return 0;
  }
  l->refcount = 1;
  l->ntasks = ntasks;
  l->ndeps = ndeps;
  l->payload = payload;
  l->serial = g->next_serial++;
  if (ndeps > 0) memcpy(l->deps, deps, ndeps * sizeof(graph_dep));
  uint32_t *lists = (uint32_t *)(l->deps + ndeps);
  for (uint32_t i = 0; i < ndeps; i++) {
    graph_dep *d = &l->deps[i];
    if (d->kind != GRAPH_LIST) {
      d->at = d->tasks = NULL;
      continue;
    }
    uint32_t nreads = d->at[ntasks];
    memcpy(lists, d->at, (ntasks + 1) * sizeof *lists);
    memcpy(lists + ntasks + 1, d->tasks, nreads * sizeof *lists);
    d->at = lists;
    d->tasks = lists + ntasks + 1;
    lists += ntasks + 1 + nreads;
  }
  l->name = (char *)lists;
  memcpy(l->name, name, namelen + 1);
  for (uint32_t i = 0; i < ndeps; i++) g->layers[deps[i].layer]->refcount++;
  g->layers[id] = l;
  g->live++;
  return id;
}

void graph_incref(graph *g, graph_id id) {
  layer *l = get(g, id);
  if (l == NULL) abort(); /* a reference to a dead layer: a bug */
  l->refcount++;
}

/* Layers die iteratively (a long chain must not recurse once per layer)
 * and without allocating (a release cannot fail): the dead layers whose
 * dependencies are still to be dropped form a list, 'pending', linked
 * through their refcounts, which are 0 and unused. */
static void destroy(graph *g, graph_id id) {
  graph_id pending = id;
  g->layers[id]->refcount = 0; /* the list's end */
  while (pending != 0) {
    graph_id cur = pending;
    layer *l = g->layers[cur];
    pending = l->refcount;
    g->layers[cur] = NULL;
    g->free_ids[g->nfree++] = cur;
    g->live--;
    if (g->release) g->release(g->ud, l->payload);
    for (uint32_t i = 0; i < l->ndeps; i++) {
      graph_id d = l->deps[i].layer;
      layer *dl = g->layers[d];
      if (--dl->refcount > 0) continue;
      dl->refcount = pending;
      pending = d;
    }
    base_free(l);
  }
}

void graph_decref(graph *g, graph_id id) {
  layer *l = get(g, id);
  if (l == NULL || l->refcount == 0) abort(); /* underflow: a bug */
  if (--l->refcount == 0) destroy(g, id);
}

const char *graph_name(const graph *g, graph_id id) { return get(g, id)->name; }
uint32_t graph_ntasks(const graph *g, graph_id id) { return get(g, id)->ntasks; }
int64_t graph_payload(const graph *g, graph_id id) { return get(g, id)->payload; }
uint64_t graph_serial(const graph *g, graph_id id) { return get(g, id)->serial; }
uint32_t graph_ndeps(const graph *g, graph_id id) { return get(g, id)->ndeps; }
const graph_dep *graph_deps(const graph *g, graph_id id) { return get(g, id)->deps; }
size_t graph_live_layers(const graph *g) { return g->live; }

/* ------------------------------------------------------------------ plan */

#define NONE UINT32_MAX

/* The tasks of dependency 'd' that task 'i' reads: '*count' of them,
 * listed at '*list', or, when '*list' is NULL, the range from '*first'. */
static inline void dep_reads(const graph *g, const graph_dep *d, uint32_t i,
                      uint32_t *first, uint32_t *count, const uint32_t **list) {
  uint32_t n = g->layers[d->layer]->ntasks;
  *list = NULL;
  if (d->kind == GRAPH_LIST) {
    *first = 0;
    *count = d->at[i + 1] - d->at[i];
    *list = d->tasks + d->at[i];
    return;
  }
  if (d->kind == GRAPH_ALL || d->kind == GRAPH_FOR) {
    *first = 0;
    *count = (d->kind == GRAPH_ALL || d->split == i) ? n : 0;
    return;
  }
  uint64_t a = (uint64_t)i * d->split;
  uint64_t b = a + d->split;
  if (a > n) a = n;
  if (b > n) b = n;
  *first = (uint32_t)a;
  *count = (uint32_t)(b - a);
}

#define DEP_TASK(first, list, k) ((list) ? (list)[k] : (first) + (k))

typedef struct planner {
  const graph *g;
  uint32_t *base;      /* by layer id: first node number, NONE if unused */
  graph_id *layers;    /* used layers */
  uint32_t nlayers;
  uint64_t nall;       /* nodes of the used layers */
  uint32_t *dense;     /* by node number: dense id, NONE if not needed */
  uint32_t *sparse;    /* by dense id: node number */
  uint32_t n;          /* needed nodes */
  uint32_t *in_at, *in; /* CSR inputs by dense id */
  uint32_t *out_at, *out;
} planner;

static graph_node node_of(const planner *pl, uint32_t number) {
  /* binary search of the layer whose base covers 'number' */
  uint32_t lo = 0, hi = pl->nlayers;
  while (hi - lo > 1) {
    uint32_t mid = (lo + hi) / 2;
    if (pl->base[pl->layers[mid]] <= number) lo = mid;
    else hi = mid;
  }
  graph_node nd = { pl->layers[lo], number - pl->base[pl->layers[lo]] };
  return nd;
}

/* Growable uint32 stack. */
typedef struct u32s {
  uint32_t *v;
  size_t n, cap;
} u32s;

static int push(u32s *s, uint32_t x) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    uint32_t *v = base_realloc(s->v, cap * sizeof *v);
    if (v == NULL) return -1;
    s->v = v;
    s->cap = cap;
  }
  s->v[s->n++] = x;
  return 0;
}

/* Step 1: the layers reachable from the targets, and their bases.  Layers
 * are numbered in id order so node_of can search.  Node numbers are
 * uint32, NONE excepted: more tasks than that is GRAPH_TOOLARGE, found
 * before anything per task is allocated. */
static graph_status collect_layers(planner *pl, const graph_node *targets, uint32_t nt) {
  const graph *g = pl->g;
  size_t cap = g->cap ? g->cap : 1;
  pl->base = base_malloc(cap * sizeof *pl->base);
  pl->layers = base_malloc(cap * sizeof *pl->layers);
  if (!pl->base || !pl->layers) return GRAPH_NOMEM;
  for (uint32_t i = 0; i < g->cap; i++) pl->base[i] = NONE;
  u32s st = {0};
  for (uint32_t i = 0; i < nt; i++) {
    if (pl->base[targets[i].layer] == NONE) {
      pl->base[targets[i].layer] = 0;
      if (push(&st, targets[i].layer)) goto oom;
    }
  }
  while (st.n > 0) {
    const layer *l = g->layers[st.v[--st.n]];
    for (uint32_t d = 0; d < l->ndeps; d++) {
      graph_id id = l->deps[d].layer;
      if (pl->base[id] == NONE) {
        pl->base[id] = 0;
        if (push(&st, id)) goto oom;
      }
    }
  }
  base_free(st.v);
  uint64_t total = 0;
  for (graph_id id = 1; id < g->cap; id++) {
    if (pl->base[id] == NONE) continue;
    if (total + g->layers[id]->ntasks >= NONE) return GRAPH_TOOLARGE;
    pl->layers[pl->nlayers++] = id;
    pl->base[id] = (uint32_t)total;
    total += g->layers[id]->ntasks;
  }
  pl->nall = total;
  return GRAPH_OK;
oom:
  base_free(st.v);
  return GRAPH_NOMEM;
}

/* Step 2: mark needed nodes from the targets, then number them densely in
 * node order (so tasks of a layer stay in partition order). */
static graph_status mark_needed(planner *pl, const graph_node *targets, uint32_t nt) {
  const graph *g = pl->g;
  pl->dense = base_malloc((pl->nall ? pl->nall : 1) * sizeof *pl->dense);
  if (!pl->dense) return GRAPH_NOMEM;
  for (uint64_t i = 0; i < pl->nall; i++) pl->dense[i] = NONE;
  u32s st = {0};
  for (uint32_t i = 0; i < nt; i++) {
    uint32_t num = pl->base[targets[i].layer] + targets[i].index;
    if (pl->dense[num] == NONE) {
      pl->dense[num] = 0;
      if (push(&st, num)) goto oom;
    }
  }
  while (st.n > 0) {
    graph_node nd = node_of(pl, st.v[--st.n]);
    const layer *l = g->layers[nd.layer];
    for (uint32_t d = 0; d < l->ndeps; d++) {
      uint32_t first, count;
      const uint32_t *list;
      dep_reads(g, &l->deps[d], nd.index, &first, &count, &list);
      uint32_t b = pl->base[l->deps[d].layer];
      for (uint32_t k = 0; k < count; k++) {
        uint32_t num = b + DEP_TASK(first, list, k);
        if (pl->dense[num] == NONE) {
          pl->dense[num] = 0;
          if (push(&st, num)) goto oom;
        }
      }
    }
  }
  base_free(st.v);
  uint32_t n = 0;
  for (uint64_t i = 0; i < pl->nall; i++)
    if (pl->dense[i] != NONE) n++;
  pl->sparse = base_malloc((n ? n : 1) * sizeof *pl->sparse);
  if (!pl->sparse) return GRAPH_NOMEM;
  n = 0;
  for (uint64_t i = 0; i < pl->nall; i++) {
    if (pl->dense[i] != NONE) {
      pl->dense[i] = n;
      pl->sparse[n++] = (uint32_t)i;
    }
  }
  pl->n = n;
  return GRAPH_OK;
oom:
  base_free(st.v);
  return GRAPH_NOMEM;
}

/* Step 3: inputs and dependents, CSR.  The plan numbers its edges (each
 * read twice: an input and a dependent) and reads (a read or the
 * previous node, per node) in uint32 too: more is GRAPH_TOOLARGE. */
static graph_status link_nodes(planner *pl) {
  const graph *g = pl->g;
  uint32_t n = pl->n;
  pl->in_at = base_calloc(n + 1, sizeof *pl->in_at);
  pl->out_at = base_calloc(n + 1, sizeof *pl->out_at);
  if (!pl->in_at || !pl->out_at) return GRAPH_NOMEM;
  uint64_t nedges = 0;
  for (uint32_t v = 0; v < n; v++) {
    graph_node nd = node_of(pl, pl->sparse[v]);
    const layer *l = g->layers[nd.layer];
    pl->in_at[v] = (uint32_t)nedges;
    for (uint32_t d = 0; d < l->ndeps; d++) {
      uint32_t first, count;
      const uint32_t *list;
      dep_reads(g, &l->deps[d], nd.index, &first, &count, &list);
      nedges += count;
    }
    if (2 * nedges + n >= NONE) return GRAPH_TOOLARGE;
  }
  pl->in_at[n] = (uint32_t)nedges;
  pl->in = base_malloc((nedges ? nedges : 1) * sizeof *pl->in);
  pl->out = base_malloc((nedges ? nedges : 1) * sizeof *pl->out);
  if (!pl->in || !pl->out) return GRAPH_NOMEM;
  for (uint32_t v = 0; v < n; v++) {
    graph_node nd = node_of(pl, pl->sparse[v]);
    const layer *l = g->layers[nd.layer];
    uint32_t at = pl->in_at[v];
    for (uint32_t d = 0; d < l->ndeps; d++) {
      uint32_t first, count;
      const uint32_t *list;
      dep_reads(g, &l->deps[d], nd.index, &first, &count, &list);
      uint32_t b = pl->base[l->deps[d].layer];
      for (uint32_t k = 0; k < count; k++) {
        uint32_t u = pl->dense[b + DEP_TASK(first, list, k)];
        pl->in[at++] = u;
        pl->out_at[u + 1]++;
      }
    }
  }
  for (uint32_t v = 0; v < n; v++) pl->out_at[v + 1] += pl->out_at[v];
  uint32_t *fill = base_malloc((n ? n : 1) * sizeof *fill);
  if (!fill) return GRAPH_NOMEM;
  memcpy(fill, pl->out_at, n * sizeof *fill);
  for (uint32_t v = 0; v < n; v++)
    for (uint32_t e = pl->in_at[v]; e < pl->in_at[v + 1]; e++)
      pl->out[fill[pl->in[e]]++] = v;
  base_free(fill);
  return GRAPH_OK;
}

static void planner_free(planner *pl) {
  base_free(pl->base);
  base_free(pl->layers);
  base_free(pl->dense);
  base_free(pl->sparse);
  base_free(pl->in_at);
  base_free(pl->in);
  base_free(pl->out_at);
  base_free(pl->out);
}

void plan_free(plan *p) {
  base_free(p->tasks);
  base_free(p->nodes);
  base_free(p->edges);
  base_free(p->targets);
  base_free(p->reads);
  base_free(p->read_of);
  base_free(p->nreads_of);
  memset(p, 0, sizeof *p);
}

/* Steps 4 and 5, writing the plan. */
static graph_status build_plan(planner *pl, const graph_node *targets, uint32_t nt,
                               const plan_options *opts, plan *p) {
  uint32_t n = pl->n;
  uint32_t *requested = base_calloc(n ? n : 1, sizeof *requested);
  uint32_t *next = base_malloc((n ? n : 1) * sizeof *next);  /* fused into */
  uint32_t *task_of = base_malloc((n ? n : 1) * sizeof *task_of);
  u32s st = {0};
  graph_status rc = GRAPH_NOMEM;
  if (!requested || !next || !task_of) goto done;
  for (uint32_t i = 0; i < nt; i++) {
    uint32_t v = pl->dense[pl->base[targets[i].layer] + targets[i].index];
    if (requested[v] == 0) requested[v] = i + 1;
  }
  for (uint32_t u = 0; u < n; u++) {
    next[u] = NONE;
    if (!opts->fuse || requested[u]) continue;
    if (pl->out_at[u + 1] - pl->out_at[u] != 1) continue;
    uint32_t v = pl->out[pl->out_at[u]];
    if (pl->in_at[v + 1] - pl->in_at[v] == 1) next[u] = v;
  }
  /* chains: from each output (a node fused into nothing) back to its head */
  uint32_t ntasks = 0;
  for (uint32_t v = 0; v < n; v++)
    if (next[v] == NONE) ntasks++;
  p->tasks = base_calloc(ntasks ? ntasks : 1, sizeof *p->tasks);
  p->nodes = base_malloc((n ? n : 1) * sizeof *p->nodes);
  p->read_of = base_malloc((n ? n : 1) * sizeof *p->read_of);
  p->nreads_of = base_malloc((n ? n : 1) * sizeof *p->nreads_of);
  p->reads = base_malloc(((size_t)pl->in_at[n] + 1) * sizeof *p->reads);
  p->edges = base_malloc(((size_t)pl->in_at[n] * 2 + 1) * sizeof *p->edges);
  p->targets = base_malloc((nt ? nt : 1) * sizeof *p->targets);
  if (!p->tasks || !p->nodes || !p->read_of || !p->nreads_of || !p->reads ||
      !p->edges || !p->targets)
    goto done;
  /* the previous node of each fused node: its only input */
  uint32_t t = 0, nn = 0;
  for (uint32_t v = 0; v < n; v++) {
    if (next[v] != NONE) continue;
    uint32_t len = 1, head = v;
    while (pl->in_at[head + 1] - pl->in_at[head] == 1 &&
           next[pl->in[pl->in_at[head]]] == head) {
      head = pl->in[pl->in_at[head]];
      len++;
    }
    plan_task *pt = &p->tasks[t];
    pt->chain = nn;
    pt->nchain = len;
    pt->requested = requested[v];
    for (uint32_t k = len, w = v; k-- > 0;) {
      p->nodes[nn + k] = node_of(pl, pl->sparse[w]);
      task_of[w] = t;
      if (k > 0) w = pl->in[pl->in_at[w]];
    }
    nn += len;
    t++;
  }
  p->ntasks = ntasks;
  p->nnodes = nn;
  /* reads of each chain node; inputs and dependents of each task */
  uint32_t nr = 0, ne = 0;
  for (t = 0; t < ntasks; t++) {
    plan_task *pt = &p->tasks[t];
    /* find the dense id of the head: walk from the output */
    uint32_t w = NONE;
    {
      graph_node out = p->nodes[pt->chain + pt->nchain - 1];
      w = pl->dense[pl->base[out.layer] + out.index];
      for (uint32_t k = 1; k < pt->nchain; k++) w = pl->in[pl->in_at[w]];
    }
    pt->inputs = ne;
    for (uint32_t e = pl->in_at[w]; e < pl->in_at[w + 1]; e++)
      p->edges[ne++] = task_of[pl->in[e]];
    pt->ninputs = ne - pt->inputs;
    for (uint32_t k = 0; k < pt->nchain; k++) {
      uint32_t node = pt->chain + k;
      p->read_of[node] = nr;
      if (k == 0) {
        for (uint32_t e = pl->in_at[w]; e < pl->in_at[w + 1]; e++)
          p->reads[nr++] = task_of[pl->in[e]];
      } else {
        p->reads[nr++] = PLAN_PREVIOUS;
      }
      p->nreads_of[node] = nr - p->read_of[node];
    }
  }
  for (t = 0; t < ntasks; t++) {
    plan_task *pt = &p->tasks[t];
    graph_node out = p->nodes[pt->chain + pt->nchain - 1];
    uint32_t w = pl->dense[pl->base[out.layer] + out.index];
    pt->dependents = ne;
    for (uint32_t e = pl->out_at[w]; e < pl->out_at[w + 1]; e++)
      p->edges[ne++] = task_of[pl->out[e]];
    pt->ndependents = ne - pt->dependents;
  }
  /* priorities: iterative post-order from the targets */
  uint8_t *seen = base_calloc(ntasks ? ntasks : 1, 1);
  uint32_t *cursor = base_calloc(ntasks ? ntasks : 1, sizeof *cursor);
  if (!seen || !cursor) {
    base_free(seen);
    base_free(cursor);
    goto done;
  }
  uint32_t order = 0;
  for (uint32_t i = 0; i < nt; i++) {
    uint32_t v = pl->dense[pl->base[targets[i].layer] + targets[i].index];
    uint32_t root = task_of[v];
    p->targets[i] = root;
    if (seen[root]) continue;
    seen[root] = 1;
    if (push(&st, root)) break;
    while (st.n > 0) {
      uint32_t cur = st.v[st.n - 1];
      plan_task *pt = &p->tasks[cur];
      if (cursor[cur] < pt->ninputs) {
        uint32_t in = p->edges[pt->inputs + cursor[cur]++];
        if (!seen[in]) {
          seen[in] = 1;
          if (push(&st, in)) break;
        }
      } else {
        pt->priority = order++;
        st.n--;
      }
    }
  }
  base_free(seen);
  base_free(cursor);
  if (order != ntasks) goto done; /* out of memory in the walk */
  p->ntargets = nt;
  rc = GRAPH_OK;
done:
  base_free(st.v);
  base_free(requested);
  base_free(next);
  base_free(task_of);
  if (rc != GRAPH_OK) plan_free(p);
  return rc;
}

graph_status graph_plan(const graph *g, const graph_node *targets, uint32_t ntargets,
                        const plan_options *opts, plan *p) {
  planner pl;
  memset(&pl, 0, sizeof pl);
  memset(p, 0, sizeof *p);
  pl.g = g;
  for (uint32_t i = 0; i < ntargets; i++) {
    const layer *l = get(g, targets[i].layer);
    if (l == NULL || targets[i].index >= l->ntasks) return GRAPH_BADTARGET;
  }
  graph_status rc = collect_layers(&pl, targets, ntargets);
  if (rc == GRAPH_OK) rc = mark_needed(&pl, targets, ntargets);
  if (rc == GRAPH_OK) rc = link_nodes(&pl);
  if (rc == GRAPH_OK) rc = build_plan(&pl, targets, ntargets, opts, p);
  planner_free(&pl);
  return rc;
}
