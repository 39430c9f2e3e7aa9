/*
 * sched.c - the scheduler: which backend runs each node, where the graph
 * splits, what must be copied between backends, and where every intermediate
 * tensor lives.
 *
 * Assignment: a node goes to the first backend (in the caller's order of
 * preference) that supports its op and can read its weight (src[0] of a
 * matmul-like op, which stays where it was loaded); otherwise to the first that
 * supports the op; the host (CPU) backend is the fallback. Views go with their
 * source. Consecutive nodes on one backend form a split; a split's sources that
 * its backend cannot read are copied into its buffer before it runs (the whole
 * root tensor is copied and the view re-created on the copy).
 *
 * Allocation: one buffer per backend, sized once by a liveness walk (a tensor's
 * bytes are freed after its last reader; outputs and inputs are never reused),
 * best-fit over a free list. dc_sched_reserve sizes the buffers for the largest
 * graph; later graphs reuse them, so the decode loop allocates nothing.
 */
#include "backend_impl.h"

#include <stdio.h>
#include <string.h>

#define MAX_BACKENDS 8

/* ---- free-list allocator over a virtual buffer -------------------------------- */

typedef struct block { size_t off, size; } block;

typedef struct vbuf {
    block  *free;       /* [n_free] sorted by offset */
    int     n_free, cap;
    size_t  top;        /* high-water mark           */
    size_t  align;
} vbuf;

static dc_status vbuf_alloc(vbuf *v, size_t size, size_t *off) {
    size = dc_pad(size ? size : 1, v->align);
    int best = -1;
    for (int i = 0; i < v->n_free; i++)
        if (v->free[i].size >= size && (best < 0 || v->free[i].size < v->free[best].size))
            best = i;
    if (best >= 0) {
        *off = v->free[best].off;
        v->free[best].off += size;
        v->free[best].size -= size;
        if (v->free[best].size == 0) {
            memmove(&v->free[best], &v->free[best + 1], (size_t)(v->n_free - best - 1) * sizeof(block));
            v->n_free--;
        }
        return DC_OK;
    }
    /* grow at the top; merge with a free block ending at the top */
    if (v->n_free > 0 && v->free[v->n_free - 1].off + v->free[v->n_free - 1].size == v->top) {
        block *b = &v->free[v->n_free - 1];
        *off = b->off;
        v->top = b->off + size;
        v->n_free--;
        return DC_OK;
    }
    *off = v->top;
    v->top += size;
    return DC_OK;
}

static dc_status vbuf_release(vbuf *v, size_t off, size_t size) {
    size = dc_pad(size ? size : 1, v->align);
    int i = 0;
    while (i < v->n_free && v->free[i].off < off) i++;
    bool merge_prev = i > 0 && v->free[i - 1].off + v->free[i - 1].size == off;
    bool merge_next = i < v->n_free && off + size == v->free[i].off;
    if (merge_prev && merge_next) {
        v->free[i - 1].size += size + v->free[i].size;
        memmove(&v->free[i], &v->free[i + 1], (size_t)(v->n_free - i - 1) * sizeof(block));
        v->n_free--;
    } else if (merge_prev) {
        v->free[i - 1].size += size;
    } else if (merge_next) {
        v->free[i].off = off;
        v->free[i].size += size;
    } else {
        if (v->n_free == v->cap) {
            int cap = v->cap ? v->cap * 2 : 64;
            block *f = dc_realloc(v->free, (size_t)cap * sizeof *f);
            if (!f) return DC_ERR_NOMEM;
            v->free = f;
            v->cap = cap;
        }
        memmove(&v->free[i + 1], &v->free[i], (size_t)(v->n_free - i) * sizeof(block));
        v->free[i] = (block){ off, size };
        v->n_free++;
    }
    return DC_OK;
}

/* ---- the scheduler -------------------------------------------------------------- */

typedef struct split {
    int         backend;
    int         first, last;   /* node range [first, last]            */
    int         copy0, n_copy; /* range in sched->copies               */
} split;

typedef struct copy {
    dc_tensor *orig;    /* the source as the graph has it            */
    dc_tensor *root;    /* orig's root (bytes that get copied)       */
    dc_tensor *croot;   /* the copy's root, in the split's backend   */
    dc_tensor *cview;   /* orig's shape over croot                   */
} copy;

struct dc_sched {
    dc_backend *backends[MAX_BACKENDS];
    int         n_backends;
    int         host;                      /* fallback backend index   */
    dc_buffer  *bufs[MAX_BACKENDS];        /* intermediates            */

    const dc_graph *planned;               /* graph the fields describe */
    uint64_t    planned_uid;               /* its uid (arenas reuse addresses) */
    int        *node_backend;              /* [n_nodes]                 */
    size_t     *offs;                      /* [n_nodes + n_leafs + 2 n_copies] */
    int         cap_nodes;
    split      *splits;
    int         n_splits, cap_splits;
    copy       *copies;
    int         n_copies, cap_copies;
    dc_context *copy_ctx;                  /* headers of copies         */
    size_t      copy_cap;                  /* its arena size            */
    int        *last_use;                  /* [cap_all] planning scratch */
    int         cap_all;
    int         cap_offs;
    vbuf        vb[MAX_BACKENDS];          /* allocators (free lists kept) */
    size_t      need[MAX_BACKENDS];        /* high-water of the plan    */
};

dc_status dc_sched_init(dc_backend *const *backends, int n, dc_sched **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(backends != NULL && n >= 1 && n <= MAX_BACKENDS);
    dc_sched *s = dc_calloc(1, sizeof *s);
    if (!s) return DC_ERR_NOMEM;
    s->host = -1;
    for (int i = 0; i < n; i++) {
        if (!backends[i]) {
            dc_free(s);
            return dc_error(DC_ERR_INVALID_ARG, "sched: backend %d is NULL", i);
        }
        s->backends[i] = backends[i];
        if (s->host < 0 && dc_backend_is_host(backends[i])) s->host = i;
    }
    s->n_backends = n;
    if (s->host < 0) {
        dc_free(s);
        return dc_error(DC_ERR_INVALID_ARG, "sched: no host (CPU) backend among the %d given", n);
    }
    *out = s;
    return DC_OK;
}

void dc_sched_free(dc_sched *s) {
    if (!s) return;
    for (int i = 0; i < s->n_backends; i++) dc_buffer_free(s->bufs[i]);
    dc_free(s->node_backend);
    dc_free(s->offs);
    dc_free(s->last_use);
    for (int b = 0; b < MAX_BACKENDS; b++) dc_free(s->vb[b].free);
    dc_free(s->splits);
    dc_free(s->copies);
    dc_context_free(s->copy_ctx);
    dc_free(s);
}

static bool is_weight_op(dc_op op) { return op == DC_OP_MUL_MAT || op == DC_OP_MOE_MUL_MAT || op == DC_OP_GET_ROWS; }

/* Tensors the scheduler places: roots with no data of their own yet (or that
 * it placed itself last time). */
static bool sched_owned(const dc_tensor *t) {
    return t->view_src == NULL && (t->data == NULL || (t->flags & DC_TENSOR_FLAG_SCHED));
}

/* Node n is number i of the graph being planned (sources already assigned). */
static int assign_one(dc_sched *s, const dc_tensor *n, int i) {
    if (n->op == DC_OP_VIEW && n->src[0]->op != DC_OP_NONE && n->src[0]->index < i)
        return s->node_backend[n->src[0]->index];   /* a view of an intermediate */
    if (n->op == DC_OP_VIEW || n->op == DC_OP_CPY) {
        /* a view lives where its bytes are; a cpy writes into dst's memory */
        const dc_tensor *r = dc_tensor_root(n);
        for (int b = 0; b < s->n_backends; b++)
            if (r->buffer && r->buffer->type == s->backends[b]->iface.buffer_type(s->backends[b]) &&
                (n->op == DC_OP_VIEW || dc_backend_supports(s->backends[b], n)))
                return b;
        return s->host;
    }
    if (is_weight_op(n->op)) {
        for (int b = 0; b < s->n_backends; b++)
            if (dc_backend_supports(s->backends[b], n) && dc_backend_can_read(s->backends[b], n->src[0]))
                return b;
    }
    for (int b = 0; b < s->n_backends; b++)
        if (dc_backend_supports(s->backends[b], n)) return b;
    return -1;
}

static dc_status grow(void **p, int *cap, int need, size_t elem) {
    if (need <= *cap) return DC_OK;
    int c = *cap ? *cap : 16;
    while (c < need) c *= 2;
    void *q = dc_realloc(*p, (size_t)c * elem);
    if (!q) return DC_ERR_NOMEM;
    *p = q;
    *cap = c;
    return DC_OK;
}

/* Does node n of split sp read src s from memory its backend cannot reach? */
static bool needs_copy(dc_sched *s, int b, const dc_tensor *src) {
    return !dc_backend_can_read(s->backends[b], src);
}

static dc_status add_copy(dc_sched *s, int b, dc_tensor *src) {
    for (int i = s->splits[s->n_splits - 1].copy0; i < s->n_copies; i++)
        if (s->copies[i].orig == src) return DC_OK;
    dc_status st = grow((void **)&s->copies, &s->cap_copies, s->n_copies + 1, sizeof(copy));
    if (st != DC_OK) return st;
    dc_tensor *root = (dc_tensor *)dc_tensor_root(src);
    dc_tensor *croot = dc_tensor_new_impl(s->copy_ctx, root->type, root->ne, root->n_dims, false);
    dc_tensor *cview = dc_tensor_new_impl(s->copy_ctx, src->type, src->ne, src->n_dims, false);
    if (!croot || !cview) return dc_error(DC_ERR_NOMEM, "sched: %s", dc_context_error(s->copy_ctx));
    memcpy(croot->nb, root->nb, sizeof root->nb);
    memcpy(cview->nb, src->nb, sizeof src->nb);
    cview->view_src = croot;
    cview->view_offs = src == root ? 0 : src->view_offs;
    snprintf(croot->name, sizeof croot->name, "copy#%d", s->n_copies);
    snprintf(cview->name, sizeof cview->name, "copy#%d", s->n_copies);
    s->copies[s->n_copies++] = (copy){ .orig = src, .root = root, .croot = croot, .cview = cview };
    (void)b;
    return DC_OK;
}

/* Assign backends, form splits, list copies. */
static dc_status plan_splits(dc_sched *s, dc_graph *g) {
    dc_status st = grow((void **)&s->node_backend, &s->cap_nodes, g->n_nodes + 1, sizeof(int));
    if (st != DC_OK) return st;
    s->n_splits = 0;
    s->n_copies = 0;
    /* copy headers: at most two per source slot of every node */
    size_t need = 4096 + (size_t)g->n_nodes * 2 * DC_MAX_SRC * (sizeof(dc_tensor) + 2 * DC_ALIGN);
    if (s->copy_ctx && s->copy_cap >= need) {
        dc_context_reset(s->copy_ctx);
    } else {
        dc_context_free(s->copy_ctx);
        s->copy_ctx = NULL;
        dc_context_params cp = { .mem_size = need, .no_alloc = true };
        if ((st = dc_context_init(&cp, &s->copy_ctx)) != DC_OK) return st;
        s->copy_cap = need;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dc_tensor *n = g->nodes[i];
        int b = assign_one(s, n, i);
        if (b < 0)
            return dc_error(DC_ERR_UNSUPPORTED, "sched: no backend runs op %s (node %s)",
                            dc_op_name(n->op), n->name);
        s->node_backend[i] = b;
        if (s->n_splits == 0 || s->splits[s->n_splits - 1].backend != b) {
            if ((st = grow((void **)&s->splits, &s->cap_splits, s->n_splits + 1, sizeof(split))) != DC_OK)
                return st;
            s->splits[s->n_splits++] = (split){ .backend = b, .first = i, .last = i,
                                                .copy0 = s->n_copies, .n_copy = 0 };
        }
        split *sp = &s->splits[s->n_splits - 1];
        sp->last = i;
        if (n->op == DC_OP_VIEW) continue;
        for (int j = 0; j < DC_MAX_SRC; j++) {
            dc_tensor *src = n->src[j];
            if (!src || (n->op == DC_OP_CPY && j == 1)) continue;
            /* sources computed earlier in this graph on another backend, or
             * living in memory this backend cannot address */
            bool other = src->op != DC_OP_NONE && src->index >= 0 && src->index < i &&
                         s->node_backend[src->index] != b;
            /* a leaf the scheduler places goes to the host buffer */
            const dc_tensor *r = dc_tensor_root(src);
            bool foreign_leaf = r->op == DC_OP_NONE &&
                                (sched_owned(r) ? !dc_backend_is_host(s->backends[b])
                                                : needs_copy(s, b, src));
            if (other || foreign_leaf) {
                if ((st = add_copy(s, b, src)) != DC_OK) return st;
            }
        }
        sp->n_copy = s->n_copies - sp->copy0;
    }
    return DC_OK;
}

/* ---- allocation -------------------------------------------------------------------- */

/* Index of t in the graph arrays (nodes first, then leafs), -1 if not in g. */
static int tindex(const dc_tensor *t) { return t->index; }

static dc_status plan_memory(dc_sched *s, dc_graph *g) {
    int n_all = g->n_nodes + g->n_leafs;
    dc_status st = DC_OK;
    int n_offs = n_all + 2 * s->n_copies + 1;
    /* planning arrays grow only: a decode loop reuses them */
    if (grow((void **)&s->offs, &s->cap_offs, n_offs, sizeof *s->offs) != DC_OK ||
        grow((void **)&s->last_use, &s->cap_all, n_all + 1, sizeof *s->last_use) != DC_OK) {
        st = DC_ERR_NOMEM;
        goto fail;
    }
    int *last_use = s->last_use;
    memset(s->offs, 0, (size_t)n_offs * sizeof *s->offs);
    memset(last_use, 0, (size_t)(n_all + 1) * sizeof *last_use);
    for (int b = 0; b < s->n_backends; b++) {
        dc_buffer_type *bt = s->backends[b]->iface.buffer_type(s->backends[b]);
        s->vb[b].align = bt->iface.alignment(bt);
        s->vb[b].n_free = 0;
        s->vb[b].top = 0;
    }
    /* last reader of every root */
    for (int i = 0; i < g->n_nodes; i++) {
        for (int j = 0; j < DC_MAX_SRC; j++) {
            const dc_tensor *src = g->nodes[i]->src[j];
            if (!src) continue;
            int r = tindex(dc_tensor_root(src));
            if (r >= 0) last_use[r] = i;
        }
    }
    /* inputs first: leafs without data live in the host buffer for the whole graph */
    for (int i = 0; i < g->n_leafs; i++) {
        dc_tensor *t = g->leafs[i];
        if (!sched_owned(t)) continue;
        st = vbuf_alloc(&s->vb[s->host], dc_tensor_nbytes(t), &s->offs[g->n_nodes + i]);
        if (st != DC_OK) goto fail;
    }
    for (int sp = 0; sp < s->n_splits; sp++) {
        split *p = &s->splits[sp];
        vbuf *v = &s->vb[p->backend];
        for (int c = p->copy0; c < p->copy0 + p->n_copy; c++) {
            st = vbuf_alloc(v, dc_tensor_nbytes(s->copies[c].croot), &s->offs[n_all + c]);
            if (st != DC_OK) goto fail;
        }
        for (int i = p->first; i <= p->last; i++) {
            dc_tensor *n = g->nodes[i];
            if (sched_owned(n)) {
                st = vbuf_alloc(v, dc_tensor_nbytes(n), &s->offs[i]);
                if (st != DC_OK) goto fail;
            }
            /* free sources whose last reader this was */
            for (int j = 0; j < DC_MAX_SRC; j++) {
                const dc_tensor *src = n->src[j];
                if (!src) continue;
                const dc_tensor *r = dc_tensor_root(src);
                int ri = tindex(r);
                if (ri < 0 || ri >= g->n_nodes || last_use[ri] != i || !sched_owned(r) ||
                    (r->flags & DC_TENSOR_FLAG_OUTPUT))
                    continue;
                last_use[ri] = -1;  /* freed once even if read twice by n */
                st = vbuf_release(&s->vb[s->node_backend[ri]], s->offs[ri], dc_tensor_nbytes(r));
                if (st != DC_OK) goto fail;
            }
        }
    }
    for (int b = 0; b < s->n_backends; b++) s->need[b] = s->vb[b].top;
fail:
    return st == DC_ERR_NOMEM ? dc_error(st, "sched: out of memory while planning") : st;
}

/* Make sure each backend's buffer holds at least need[b] bytes. */
static dc_status ensure_buffers(dc_sched *s) {
    for (int b = 0; b < s->n_backends; b++) {
        if (s->need[b] == 0 || (s->bufs[b] && s->bufs[b]->size >= s->need[b])) continue;
        dc_buffer_free(s->bufs[b]);
        s->bufs[b] = NULL;
        dc_buffer_type *bt = s->backends[b]->iface.buffer_type(s->backends[b]);
        dc_status st = bt->iface.alloc_buffer(bt, s->need[b], &s->bufs[b]);
        if (st != DC_OK) {
            dc_error_prefix("sched: %zu bytes for backend %s", s->need[b],
                            dc_backend_name(s->backends[b]));
            return st;
        }
    }
    return DC_OK;
}

static void place(dc_tensor *t, dc_buffer *buf, size_t off) {
    t->buffer = buf;
    t->data = (char *)dc_buffer_base(buf) + off;
    t->flags |= DC_TENSOR_FLAG_SCHED;
}

/* Give every planned tensor its address; views follow their roots. */
static void bind_memory(dc_sched *s, dc_graph *g) {
    int n_all = g->n_nodes + g->n_leafs;
    for (int i = 0; i < g->n_leafs; i++)
        if (sched_owned(g->leafs[i])) place(g->leafs[i], s->bufs[s->host], s->offs[g->n_nodes + i]);
    for (int c = 0; c < s->n_copies; c++) {
        int b = -1;
        for (int sp = 0; sp < s->n_splits; sp++)
            if (c >= s->splits[sp].copy0 && c < s->splits[sp].copy0 + s->splits[sp].n_copy)
                b = s->splits[sp].backend;
        copy *cp = &s->copies[c];
        place(cp->croot, s->bufs[b], s->offs[n_all + c]);
        cp->cview->buffer = cp->croot->buffer;
        cp->cview->data = (char *)cp->croot->data + cp->cview->view_offs;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        dc_tensor *n = g->nodes[i];
        if (sched_owned(n)) place(n, s->bufs[s->node_backend[i]], s->offs[i]);
        else if (n->view_src && n->view_src->data) {
            n->data = (char *)n->view_src->data + n->view_offs;
            n->buffer = n->view_src->buffer;
        }
    }
}

static void number(dc_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i]->index = i;
    for (int i = 0; i < g->n_leafs; i++) g->leafs[i]->index = g->n_nodes + i;
}

static dc_status plan(dc_sched *s, dc_graph *g) {
    number(g);
    /* tensors the scheduler placed for an earlier graph are re-planned */
    dc_status st = plan_splits(s, g);
    if (st == DC_OK) st = plan_memory(s, g);
    s->planned = st == DC_OK ? g : NULL;
    s->planned_uid = st == DC_OK ? g->uid : 0;
    return st;
}

dc_status dc_sched_reserve(dc_sched *s, dc_graph *g) {
    DC_CHECK_ARG(s != NULL && g != NULL);
    dc_status st = plan(s, g);
    if (st == DC_OK) st = ensure_buffers(s);
    if (st == DC_OK) bind_memory(s, g);
    return st;
}

dc_status dc_sched_alloc_graph(dc_sched *s, dc_graph *g) {
    DC_CHECK_ARG(s != NULL && g != NULL);
    if (s->planned == g && s->planned_uid == g->uid) return DC_OK;
    return dc_sched_reserve(s, g);
}

/* Copy a split's foreign sources in and point its nodes at the copies. */
static dc_status run_copies(dc_sched *s, split *p) {
    for (int c = p->copy0; c < p->copy0 + p->n_copy; c++) {
        copy *cp = &s->copies[c];
        size_t n = dc_tensor_nbytes(cp->root);
        dc_status st;
        if (dc_buffer_is_host(cp->croot->buffer)) {
            st = dc_tensor_get(cp->root, cp->croot->data, 0, n);
        } else if (!cp->root->buffer || dc_buffer_is_host(cp->root->buffer)) {
            st = dc_tensor_set(cp->croot, cp->root->data, 0, n);
        } else {
            st = dc_error(DC_ERR_UNSUPPORTED, "sched: device-to-device copy of %s",
                          cp->root->name);
        }
        if (st != DC_OK) return st;
    }
    return DC_OK;
}

static void swap_sources(dc_sched *s, dc_graph *g, split *p, bool to_copies) {
    for (int i = p->first; i <= p->last; i++) {
        dc_tensor *n = g->nodes[i];
        for (int j = 0; j < DC_MAX_SRC; j++)
            for (int c = p->copy0; c < p->copy0 + p->n_copy; c++) {
                copy *cp = &s->copies[c];
                if (to_copies && n->src[j] == cp->orig) n->src[j] = cp->cview;
                else if (!to_copies && n->src[j] == cp->cview) n->src[j] = cp->orig;
            }
    }
}

dc_status dc_sched_compute(dc_sched *s, dc_graph *g) {
    DC_CHECK_ARG(s != NULL && g != NULL);
    dc_status st = dc_sched_alloc_graph(s, g);
    if (st != DC_OK) return st;
    for (int sp = 0; sp < s->n_splits && st == DC_OK; sp++) {
        split *p = &s->splits[sp];
        if ((st = run_copies(s, p)) != DC_OK) break;
        /* the split as a graph of its own: a window into g's node array */
        dc_graph sub = { .n_nodes = p->last - p->first + 1, .n_leafs = 0,
                         .nodes = g->nodes + p->first, .leafs = NULL };
        swap_sources(s, g, p, true);
        dc_backend *b = s->backends[p->backend];
        st = b->iface.graph_compute(b, &sub);
        if (st == DC_OK && b->iface.synchronize) st = b->iface.synchronize(b);
        swap_sources(s, g, p, false);
    }
    return st;
}

dc_backend *dc_sched_node_backend(const dc_sched *s, const dc_tensor *node) {
    if (!s || !s->planned || !node || node->index < 0 || node->index >= s->planned->n_nodes ||
        s->planned->nodes[node->index] != node)
        return NULL;
    return s->backends[s->node_backend[node->index]];
}

int dc_sched_n_splits(const dc_sched *s) { return s ? s->n_splits : 0; }

size_t dc_sched_buffer_size(const dc_sched *s) {
    size_t n = 0;
    for (int b = 0; s && b < s->n_backends; b++) n += dc_buffer_size(s->bufs[b]);
    return n;
}
