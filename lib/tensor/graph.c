/*
 * graph.c - build a graph from its outputs.
 *
 * Depth-first post-order walk from each output with an explicit stack (model
 * graphs have thousands of nodes; no recursion), a pointer hash set for
 * "visited", so every reachable tensor appears once and after its sources.
 * Tensors with op NONE become leafs, the rest nodes. The arrays live in the
 * context's arena; the temporary stack and set are freed before returning.
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

    ptr_set seen = { 0 };
    vec stack = { 0 }, nodes = { 0 }, leafs = { 0 };
    dc_status st = DC_OK;
    for (int i = 0; i < n_outputs && st == DC_OK; i++)
        st = visit(outputs[i], &seen, &stack, &nodes, &leafs);
    dc_graph *g = NULL;
    if (st == DC_OK) {
        g = dc_context_alloc(ctx, sizeof *g);
        dc_tensor **arr = g ? dc_context_alloc(ctx, (nodes.n + leafs.n + 1) * sizeof *arr) : NULL;
        if (!arr) {
            st = dc_error(DC_ERR_NOMEM, "graph: %s", dc_context_error(ctx));
        } else {
            static atomic_uint_fast64_t next_uid = 1;
            g->uid = atomic_fetch_add(&next_uid, 1);
            g->n_nodes = (int)nodes.n;
            g->n_leafs = (int)leafs.n;
            g->nodes = arr;
            g->leafs = arr + nodes.n;
            if (nodes.n) memcpy(g->nodes, nodes.v, nodes.n * sizeof *arr);
            if (leafs.n) memcpy(g->leafs, leafs.v, leafs.n * sizeof *arr);
            for (int i = 0; i < n_outputs; i++) outputs[i]->flags |= DC_TENSOR_FLAG_OUTPUT;
        }
    }
    dc_free(seen.slots);
    dc_free(stack.v);
    dc_free(nodes.v);
    dc_free(leafs.v);
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
