/*
 * graph.c - build a graph from its outputs.
 *
 * Depth-first post-order walk from each output with an explicit stack (model
 * graphs have thousands of nodes; no recursion), a pointer hash set for
 * "visited", so every reachable tensor appears once and after its sources.
 * Tensors with op NONE become leafs, the rest nodes. The arrays live in the
 * context's arena; the stack and set are scratch the context keeps.
 * Outputs are flagged so allocators never reuse their memory.
 */
#include "tensor_impl.h"

#include <stdatomic.h>
#include <string.h>

typedef struct ptr_set {
    const void **slots;  /* [cap], NULL = empty */
    size_t       cap;    /* power of two        */
    size_t       n;
} ptr_set;

static size_t hash_ptr(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static dc_status set_grow(ptr_set *s) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    const void **slots = dc_calloc(cap, sizeof *slots);
    if (!slots) return DC_ERR_NOMEM;
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->slots[i]) continue;
        size_t j = hash_ptr(s->slots[i]) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = s->slots[i];
    }
    dc_free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return DC_OK;
}

/* Insert p; *added tells whether it was new. */
static dc_status set_insert(ptr_set *s, const void *p, bool *added) {
    if ((s->n + 1) * 2 > s->cap) {
        dc_status st = set_grow(s);
        if (st != DC_OK) return st;
    }
    size_t j = hash_ptr(p) & (s->cap - 1);
    while (s->slots[j]) {
        if (s->slots[j] == p) {
            *added = false;
            return DC_OK;
        }
        j = (j + 1) & (s->cap - 1);
    }
    s->slots[j] = p;
    s->n++;
    *added = true;
    return DC_OK;
}

typedef struct vec {
    dc_tensor **v;
    size_t      n, cap;
} vec;

static dc_status vec_push(vec *a, dc_tensor *t) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        dc_tensor **v = dc_realloc(a->v, cap * sizeof *v);
        if (!v) return DC_ERR_NOMEM;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = t;
    return DC_OK;
}

/* Post-order DFS from root into nodes / leafs. The stack holds (tensor, next
 * source index to visit) pairs encoded as two pushes. */
static dc_status visit(dc_tensor *root, ptr_set *seen, vec *stack, vec *nodes, vec *leafs) {
    bool added;
    dc_status st = set_insert(seen, root, &added);
    if (st != DC_OK || !added) return st;
    stack->n = 0;
    if ((st = vec_push(stack, root)) != DC_OK) return st;
    /* index[] tracks the next source per stack entry; kept in t->index */
    root->index = 0;
    while (stack->n > 0) {
        dc_tensor *t = stack->v[stack->n - 1];
        if (t->index < DC_MAX_SRC) {
            dc_tensor *s = t->src[t->index++];
            if (!s) continue;
            if ((st = set_insert(seen, s, &added)) != DC_OK) return st;
            if (!added) continue;
            s->index = 0;
            if ((st = vec_push(stack, s)) != DC_OK) return st;
            continue;
        }
        stack->n--;
        st = vec_push(t->op == DC_OP_NONE ? leafs : nodes, t);
        if (st != DC_OK) return st;
    }
    return DC_OK;
}

typedef struct graph_scratch {
    ptr_set seen;
    vec     stack, nodes, leafs;
} graph_scratch;

void dc_graph_scratch_free(void *p) {
    graph_scratch *sc = p;
    if (!sc) return;
    dc_free(sc->seen.slots);
    dc_free(sc->stack.v);
    dc_free(sc->nodes.v);
    dc_free(sc->leafs.v);
    dc_free(sc);
}

dc_status dc_graph_build(dc_context *ctx, dc_tensor *const *outputs, int n_outputs,
                         dc_graph **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(ctx != NULL && outputs != NULL && n_outputs > 0);
    if (dc_context_status(ctx) != DC_OK)
        return dc_error(dc_context_status(ctx), "graph: an op builder failed earlier: %s",
                        dc_context_error(ctx));
    for (int i = 0; i < n_outputs; i++)
        if (!outputs[i]) return dc_error(DC_ERR_INVALID_ARG, "graph: output %d is NULL", i);

    /* scratch kept by the context: a decode loop rebuilding its graph in a
     * reset arena allocates nothing after the first build */
    graph_scratch *sc = dc_context_graph_scratch(ctx);
    if (!sc) {
        sc = dc_calloc(1, sizeof *sc);
        if (!sc) return DC_ERR_NOMEM;
        dc_context_set_graph_scratch(ctx, sc);
    }
    if (sc->seen.slots) memset(sc->seen.slots, 0, sc->seen.cap * sizeof *sc->seen.slots);
    sc->seen.n = 0;
    sc->stack.n = sc->nodes.n = sc->leafs.n = 0;
    dc_status st = DC_OK;
    for (int i = 0; i < n_outputs && st == DC_OK; i++)
        st = visit(outputs[i], &sc->seen, &sc->stack, &sc->nodes, &sc->leafs);
    dc_graph *g = NULL;
    if (st == DC_OK) {
        size_t nn = sc->nodes.n, nl = sc->leafs.n;
        g = dc_context_alloc(ctx, sizeof *g);
        dc_tensor **arr = g ? dc_context_alloc(ctx, (nn + nl + 1) * sizeof *arr) : NULL;
        if (!arr) {
            st = dc_error(DC_ERR_NOMEM, "graph: %s", dc_context_error(ctx));
        } else {
            static atomic_uint_fast64_t next_uid = 1;
            g->uid = atomic_fetch_add(&next_uid, 1);
            g->n_nodes = (int)nn;
            g->n_leafs = (int)nl;
            g->nodes = arr;
            g->leafs = arr + nn;
            if (nn) memcpy(g->nodes, sc->nodes.v, nn * sizeof *arr);
            if (nl) memcpy(g->leafs, sc->leafs.v, nl * sizeof *arr);
            for (int i = 0; i < n_outputs; i++) outputs[i]->flags |= DC_TENSOR_FLAG_OUTPUT;
        }
    }
    if (st != DC_OK) return st;
    *out = g;
    return DC_OK;
}

int dc_graph_n_nodes(const dc_graph *g) { return g ? g->n_nodes : 0; }

dc_tensor *dc_graph_node(const dc_graph *g, int i) {
    if (!g) return NULL;
    if (i < 0) i += g->n_nodes;
    return i >= 0 && i < g->n_nodes ? g->nodes[i] : NULL;
}
