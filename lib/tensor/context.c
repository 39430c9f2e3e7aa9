/*
 * context.c - the arena that owns tensors and graphs, and tensor accessors.
 *
 * One fixed block, bump-allocated in 64-byte steps, freed as a whole: no
 * per-tensor frees, no fragmentation, nothing allocated after init unless the
 * caller makes new tensors. A context created with no_alloc holds only
 * headers; data then comes from a backend buffer or the graph allocator.
 * Builder errors are sticky: the first one is kept with its message, later
 * builders that receive a NULL input pass it on without a new message.
 */
#include "tensor_impl.h"

#include <stdio.h>
#include <string.h>

struct dc_context {
    char      *mem;        /* [size] arena                          */
    size_t     size;
    size_t     used;
    bool       no_alloc;
    dc_tensor *first;      /* tensors in creation order (->next)   */
    dc_tensor *last;
    void      *graph_scratch;  /* graph.c's reusable scratch         */
    dc_status  status;     /* first builder error                   */
    char       error[512];
};

dc_context_params dc_context_default_params(void) {
    return (dc_context_params){ .mem_size = 16u << 20, .no_alloc = false };
}

dc_status dc_context_init(const dc_context_params *params, dc_context **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(params != NULL);
    dc_context *ctx = dc_calloc(1, sizeof *ctx);
    if (!ctx) return DC_ERR_NOMEM;
    ctx->size = dc_pad(params->mem_size, DC_ALIGN);
    ctx->mem = dc_malloc(ctx->size);
    if (!ctx->mem) {
        dc_free(ctx);
        return DC_ERR_NOMEM;
    }
    ctx->no_alloc = params->no_alloc;
    *out = ctx;
    return DC_OK;
}

void dc_context_free(dc_context *ctx) {
    if (!ctx) return;
    dc_graph_scratch_free(ctx->graph_scratch);
    dc_free(ctx->mem);
    dc_free(ctx);
}

void dc_context_reset(dc_context *ctx) {
    if (!ctx) return;
    ctx->used = 0;
    ctx->first = ctx->last = NULL;
    ctx->status = DC_OK;
    ctx->error[0] = '\0';
}

dc_status dc_context_status(const dc_context *ctx) { return ctx ? ctx->status : DC_ERR_INVALID_ARG; }
const char *dc_context_error(const dc_context *ctx) { return ctx ? ctx->error : ""; }
size_t dc_context_used(const dc_context *ctx) { return ctx ? ctx->used : 0; }
dc_tensor *dc_context_first_tensor(const dc_context *ctx) { return ctx->first; }
void *dc_context_graph_scratch(dc_context *ctx) { return ctx->graph_scratch; }
void dc_context_set_graph_scratch(dc_context *ctx, void *scratch) { ctx->graph_scratch = scratch; }

void dc_context_fail(dc_context *ctx, dc_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dc_verror(status, fmt, ap);
    va_end(ap);
    if (ctx && ctx->status == DC_OK) {
        ctx->status = status;
        snprintf(ctx->error, sizeof ctx->error, "%s", dc_last_error());
    }
}

void *dc_context_alloc(dc_context *ctx, size_t size) {
    size_t need = dc_pad(size, DC_ALIGN);
    if (need < size || need > ctx->size - ctx->used) {
        dc_context_fail(ctx, DC_ERR_NOMEM,
                        "context arena full: need %zu bytes, %zu of %zu used",
                        size, ctx->used, ctx->size);
        return NULL;
    }
    void *p = ctx->mem + ctx->used;
    ctx->used += need;
    return p;
}

/* ---- tensor creation -------------------------------------------------------- */

dc_tensor *dc_tensor_new_impl(dc_context *ctx, dc_type type, const int64_t ne[4],
                              int n_dims, bool want_data) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    if (!tr) {
        dc_context_fail(ctx, DC_ERR_TYPE, "new tensor: unknown type id %d", (int)type);
        return NULL;
    }
    for (int i = 0; i < DC_MAX_DIMS; i++) {
        if (ne[i] < 0) {
            dc_context_fail(ctx, DC_ERR_SHAPE, "new tensor: ne[%d] = %lld is negative",
                            i, (long long)ne[i]);
            return NULL;
        }
    }
    if (ne[0] % tr->blck_size != 0) {
        dc_context_fail(ctx, DC_ERR_SHAPE,
                        "new tensor: ne[0] = %lld is not a multiple of %s's block size %lld",
                        (long long)ne[0], tr->name, (long long)tr->blck_size);
        return NULL;
    }
    size_t nb[4];
    nb[0] = tr->type_size;
    bool ok = dc_size_mul((size_t)(ne[0] / tr->blck_size), tr->type_size, &nb[1]);
    for (int i = 2; i < 4 && ok; i++) ok = dc_size_mul(nb[i - 1], (size_t)ne[i - 1], &nb[i]);
    size_t bytes = 0;
    if (ok) ok = dc_size_mul(nb[3], (size_t)ne[3], &bytes);
    if (!ok) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "new tensor: size of [%lld, %lld, %lld, %lld] overflows",
                        (long long)ne[0], (long long)ne[1], (long long)ne[2], (long long)ne[3]);
        return NULL;
    }
    dc_tensor *t = dc_context_alloc(ctx, sizeof *t);
    if (!t) return NULL;
    memset(t, 0, sizeof *t);
    t->type = type;
    t->n_dims = n_dims;
    for (int i = 0; i < 4; i++) {
        t->ne[i] = ne[i];
        t->nb[i] = nb[i];
    }
    if (want_data && !ctx->no_alloc) {
        t->data = dc_context_alloc(ctx, bytes);
        if (!t->data) return NULL;
    }
    if (ctx->last) ctx->last->next = t;
    else ctx->first = t;
    ctx->last = t;
    return t;
}

dc_tensor *dc_new_tensor(dc_context *ctx, dc_type type, int n_dims, const int64_t *ne) {
    if (!ctx) return NULL;
    if (n_dims < 1 || n_dims > 4 || !ne) {
        dc_context_fail(ctx, DC_ERR_INVALID_ARG, "new tensor: n_dims = %d (want 1..4)", n_dims);
        return NULL;
    }
    int64_t e[4] = { 1, 1, 1, 1 };
    for (int i = 0; i < n_dims; i++) e[i] = ne[i];
    return dc_tensor_new_impl(ctx, type, e, n_dims, true);
}

dc_tensor *dc_new_tensor_1d(dc_context *ctx, dc_type type, int64_t ne0) {
    return dc_new_tensor(ctx, type, 1, (int64_t[]){ ne0 });
}
dc_tensor *dc_new_tensor_2d(dc_context *ctx, dc_type type, int64_t ne0, int64_t ne1) {
    return dc_new_tensor(ctx, type, 2, (int64_t[]){ ne0, ne1 });
}
dc_tensor *dc_new_tensor_3d(dc_context *ctx, dc_type type, int64_t ne0, int64_t ne1,
                            int64_t ne2) {
    return dc_new_tensor(ctx, type, 3, (int64_t[]){ ne0, ne1, ne2 });
}
dc_tensor *dc_new_tensor_4d(dc_context *ctx, dc_type type, int64_t ne0, int64_t ne1,
                            int64_t ne2, int64_t ne3) {
    return dc_new_tensor(ctx, type, 4, (int64_t[]){ ne0, ne1, ne2, ne3 });
}

/* ---- accessors ---------------------------------------------------------------- */
dc_type dc_tensor_type(const dc_tensor *t) { return t->type; }
int dc_tensor_n_dims(const dc_tensor *t) { return t->n_dims; }
int64_t dc_tensor_ne(const dc_tensor *t, int dim) {
    return dim >= 0 && dim < DC_MAX_DIMS ? t->ne[dim] : 1;
}
size_t dc_tensor_nb(const dc_tensor *t, int dim) {
    return dim >= 0 && dim < DC_MAX_DIMS ? t->nb[dim] : 0;
}
int64_t dc_tensor_nelements(const dc_tensor *t) {
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

size_t dc_tensor_nbytes(const dc_tensor *t) {
    const dc_type_traits *tr = dc_get_type_traits(t->type);
    if (dc_tensor_nelements(t) == 0) return 0;
    /* first byte to one past the last: for plain types the innermost dim
     * may be strided (a transpose), so count its steps; blocks stay whole */
    size_t n;
    int first;
    if (tr->blck_size == 1) {
        n = tr->type_size;
        first = 0;
    } else {
        n = (size_t)(t->ne[0] / tr->blck_size) * t->nb[0];
        first = 1;
    }
    for (int i = first; i < 4; i++) n += (size_t)(t->ne[i] - 1) * t->nb[i];
    return n;
}

bool dc_tensor_is_contiguous(const dc_tensor *t) {
    const dc_type_traits *tr = dc_get_type_traits(t->type);
    size_t want = tr->type_size;
    if (t->nb[0] != want) return false;
    want *= (size_t)(t->ne[0] / tr->blck_size);
    for (int i = 1; i < 4; i++) {
        if (t->ne[i] != 1 && t->nb[i] != want) return false;
        want *= (size_t)t->ne[i];
    }
    return true;
}

void *dc_tensor_data(const dc_tensor *t) {
    if (t->buffer && !dc_buffer_is_host(t->buffer)) return NULL;
    return t->data;
}

dc_status dc_tensor_set_data(dc_tensor *t, void *data) {
    DC_CHECK_ARG(t != NULL && t->view_src == NULL);
    t->data = data;
    t->buffer = NULL;
    return DC_OK;
}

const char *dc_tensor_name(const dc_tensor *t) { return t->name; }

dc_tensor *dc_tensor_set_name(dc_tensor *t, const char *fmt, ...) {
    if (!t) return NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    return t;
}
