/*
 * backend.c - buffers and the backend-independent calls: copy tensor bytes in
 * and out wherever they live, place a context's tensors into one buffer, and
 * dispatch to a backend's vtable.
 */
#include "backend_impl.h"

#include <string.h>

/* ---- buffers ------------------------------------------------------------------ */

dc_buffer *dc_buffer_new(dc_buffer_type *type, const dc_buffer_i *iface, void *context,
                         size_t size) {
    dc_buffer *buf = dc_calloc(1, sizeof *buf);
    if (!buf) return NULL;
    buf->iface = *iface;
    buf->context = context;
    buf->type = type;
    buf->size = size;
    return buf;
}

void dc_buffer_free(dc_buffer *buf) {
    if (!buf) return;
    if (buf->iface.free) buf->iface.free(buf);
    dc_free(buf);
}

size_t dc_buffer_size(const dc_buffer *buf) { return buf ? buf->size : 0; }

void *dc_buffer_base(dc_buffer *buf) { return buf->iface.base(buf); }

bool dc_buffer_is_host(const dc_buffer *buf) {
    return buf && buf->type->iface.is_host && buf->type->iface.is_host(buf->type);
}

dc_status dc_buffer_place(dc_buffer *buf, dc_tensor *t, size_t offset) {
    DC_ASSERT(t->view_src == NULL);
    size_t need = dc_tensor_alloc_size(t, 1);
    if (offset > buf->size || need > buf->size - offset)
        return dc_error(DC_ERR_INTERNAL, "buffer: tensor %s (%zu bytes at %zu) exceeds %zu",
                        t->name, need, offset, buf->size);
    t->buffer = buf;
    t->data = (char *)dc_buffer_base(buf) + offset;
    return DC_OK;
}

size_t dc_tensor_alloc_size(const dc_tensor *t, size_t align) {
    return dc_pad(dc_tensor_nbytes(t), align ? align : 1);
}

/* ---- tensor bytes in and out --------------------------------------------------- */

static dc_status check_range(const dc_tensor *t, size_t offset, size_t n) {
    size_t total = dc_tensor_nbytes(t), end;
    if (!dc_size_add(offset, n, &end) || end > total)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: bytes [%zu, +%zu) outside its %zu",
                        t->name, offset, n, total);
    if (!t->data)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s has no data allocated", t->name);
    return DC_OK;
}

dc_status dc_tensor_set(dc_tensor *t, const void *src, size_t offset, size_t n) {
    DC_CHECK_ARG(t != NULL && (src != NULL || n == 0));
    dc_status st = check_range(t, offset, n);
    if (st != DC_OK || n == 0) return st;
    dc_buffer *buf = t->view_src ? t->view_src->buffer : t->buffer;
    if (buf && !dc_buffer_is_host(buf)) return buf->iface.set_tensor(buf, t, src, offset, n);
    memcpy((char *)t->data + offset, src, n);
    return DC_OK;
}

dc_status dc_tensor_get(const dc_tensor *t, void *dst, size_t offset, size_t n) {
    DC_CHECK_ARG(t != NULL && (dst != NULL || n == 0));
    dc_status st = check_range(t, offset, n);
    if (st != DC_OK || n == 0) return st;
    dc_buffer *buf = t->view_src ? t->view_src->buffer : t->buffer;
    if (buf && !dc_buffer_is_host(buf)) return buf->iface.get_tensor(buf, t, dst, offset, n);
    memcpy(dst, (const char *)t->data + offset, n);
    return DC_OK;
}

/* ---- backends -------------------------------------------------------------------- */

const char *dc_backend_name(const dc_backend *b) { return b ? b->iface.name(b) : "(null)"; }

void dc_backend_free(dc_backend *b) {
    if (b) b->iface.free(b);
}

bool dc_backend_supports(const dc_backend *b, const dc_tensor *node) {
    if (!b || !node) return false;
    if (node->op == DC_OP_NONE || node->op == DC_OP_VIEW) return true;
    return b->iface.supports_op(b, node);
}

bool dc_backend_is_host(dc_backend *b) {
    dc_buffer_type *bt = b->iface.buffer_type(b);
    return bt->iface.is_host && bt->iface.is_host(bt);
}

bool dc_backend_can_read(dc_backend *b, const dc_tensor *t) {
    const dc_tensor *r = dc_tensor_root(t);
    if (!r->buffer) return dc_backend_is_host(b);  /* arena / mmap: host memory */
    if (r->buffer->type == b->iface.buffer_type(b)) return true;
    return dc_buffer_is_host(r->buffer) && dc_backend_is_host(b);
}

dc_status dc_backend_graph_compute(dc_backend *b, dc_graph *g) {
    DC_CHECK_ARG(b != NULL && g != NULL);
    for (int i = 0; i < g->n_nodes; i++) {
        dc_tensor *n = g->nodes[i];
        if (!dc_backend_supports(b, n))
            return dc_error(DC_ERR_UNSUPPORTED, "backend %s: op %s (node %s) not supported",
                            dc_backend_name(b), dc_op_name(n->op), n->name);
    }
    return b->iface.graph_compute(b, g);
}

dc_status dc_backend_synchronize(dc_backend *b) {
    DC_CHECK_ARG(b != NULL);
    return b->iface.synchronize ? b->iface.synchronize(b) : DC_OK;
}

dc_status dc_backend_alloc_ctx_tensors(dc_backend *b, dc_context *ctx, dc_buffer **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(b != NULL && ctx != NULL);
    dc_buffer_type *bt = b->iface.buffer_type(b);
    size_t align = bt->iface.alignment(bt), total = 0;
    for (dc_tensor *t = dc_context_first_tensor(ctx); t; t = t->next) {
        if (t->data || t->view_src) continue;
        if (!dc_size_add(total, dc_tensor_alloc_size(t, align), &total))
            return dc_error(DC_ERR_NOMEM, "alloc_ctx_tensors: total size overflows");
    }
    dc_buffer *buf = NULL;
    dc_status st = bt->iface.alloc_buffer(bt, total ? total : align, &buf);
    if (st != DC_OK) return st;
    size_t off = 0;
    for (dc_tensor *t = dc_context_first_tensor(ctx); t; t = t->next) {
        if (t->data || t->view_src) continue;
        if ((st = dc_buffer_place(buf, t, off)) != DC_OK) {
            dc_buffer_free(buf);
            return st;
        }
        off += dc_tensor_alloc_size(t, align);
    }
    /* views made before allocation follow their roots */
    for (dc_tensor *t = dc_context_first_tensor(ctx); t; t = t->next) {
        if (t->view_src && t->view_src->data) {
            t->data = (char *)t->view_src->data + t->view_offs;
            t->buffer = t->view_src->buffer;
        }
    }
    *out = buf;
    return DC_OK;
}
