/*
 * views.c - tensors that share another tensor's bytes: views, reshapes,
 * permutes, transposes. They cost a header, never a copy. The bounds of every
 * view are checked against the source's bytes when it is built, so a view can
 * never address memory outside its source.
 */
#include "tensor_impl.h"

#include <stdio.h>
#include <string.h>

/* New header viewing a's bytes at offset with shape ne and strides nb. */
static dc_tensor *make_view(dc_context *ctx, dc_tensor *a, const int64_t ne[4],
                            const size_t nb[4], size_t offset, int n_dims) {
    if (!a) return NULL;
    dc_tensor *t = dc_tensor_new_impl(ctx, a->type, ne, n_dims, false);
    if (!t) return NULL;
    memcpy(t->nb, nb, sizeof t->nb);
    /* the last byte the view touches must lie inside a */
    size_t span = dc_tensor_nbytes(t);
    size_t end;
    if (!dc_size_add(offset, span, &end) || (span > 0 && end > dc_tensor_nbytes(a))) {
        dc_context_fail(ctx, DC_ERR_SHAPE,
                        "view of %s: offset %zu + %zu bytes exceeds its %zu bytes",
                        a->name[0] ? a->name : "tensor", offset, span, dc_tensor_nbytes(a));
        return NULL;
    }
    t->op = DC_OP_VIEW;
    t->src[0] = a;
    t->view_src = a->view_src ? a->view_src : a;
    t->view_offs = offset + (a->view_src ? a->view_offs : 0);
    if (t->view_src->data) t->data = (char *)t->view_src->data + t->view_offs;
    t->buffer = t->view_src->buffer;
    dc_str_join(t->name, sizeof t->name, a->name, " (view)");
    return t;
}

dc_tensor *dc_view_4d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                      int64_t ne3, size_t nb1, size_t nb2, size_t nb3, size_t offset) {
    if (!a) return NULL;
    int64_t ne[4] = { ne0, ne1, ne2, ne3 };
    size_t nb[4] = { a->nb[0], nb1, nb2, nb3 };
    return make_view(ctx, a, ne, nb, offset, 4);
}

dc_tensor *dc_view_3d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                      size_t nb1, size_t nb2, size_t offset) {
    if (!a) return NULL;
    int64_t ne[4] = { ne0, ne1, ne2, 1 };
    size_t nb[4] = { a->nb[0], nb1, nb2, nb2 * (size_t)ne2 };
    return make_view(ctx, a, ne, nb, offset, 3);
}

dc_tensor *dc_view_2d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1, size_t nb1,
                      size_t offset) {
    if (!a) return NULL;
    int64_t ne[4] = { ne0, ne1, 1, 1 };
    size_t nb[4] = { a->nb[0], nb1, nb1 * (size_t)ne1, nb1 * (size_t)ne1 };
    return make_view(ctx, a, ne, nb, offset, 2);
}

dc_tensor *dc_view_1d(dc_context *ctx, dc_tensor *a, int64_t ne0, size_t offset) {
    if (!a) return NULL;
    const dc_type_traits *tr = dc_get_type_traits(a->type);
    int64_t ne[4] = { ne0, 1, 1, 1 };
    size_t row = (size_t)(ne0 / tr->blck_size) * tr->type_size;
    size_t nb[4] = { a->nb[0], row, row, row };
    return make_view(ctx, a, ne, nb, offset, 1);
}

static dc_tensor *reshape(dc_context *ctx, dc_tensor *a, const int64_t ne[4], int n_dims) {
    if (!a) return NULL;
    if (!dc_tensor_is_contiguous(a)) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "reshape of %s: source is not contiguous", a->name);
        return NULL;
    }
    if (ne[0] * ne[1] * ne[2] * ne[3] != dc_tensor_nelements(a)) {
        dc_context_fail(ctx, DC_ERR_SHAPE,
                        "reshape of %s: %lld elements into [%lld, %lld, %lld, %lld]", a->name,
                        (long long)dc_tensor_nelements(a), (long long)ne[0], (long long)ne[1],
                        (long long)ne[2], (long long)ne[3]);
        return NULL;
    }
    const dc_type_traits *tr = dc_get_type_traits(a->type);
    if (ne[0] % tr->blck_size != 0) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "reshape of %s: ne0 %lld not a multiple of block %lld",
                        a->name, (long long)ne[0], (long long)tr->blck_size);
        return NULL;
    }
    size_t nb[4];
    nb[0] = tr->type_size;
    nb[1] = (size_t)(ne[0] / tr->blck_size) * tr->type_size;
    nb[2] = nb[1] * (size_t)ne[1];
    nb[3] = nb[2] * (size_t)ne[2];
    return make_view(ctx, a, ne, nb, 0, n_dims);
}

dc_tensor *dc_reshape_2d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1) {
    return reshape(ctx, a, (int64_t[]){ ne0, ne1, 1, 1 }, 2);
}
dc_tensor *dc_reshape_3d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2) {
    return reshape(ctx, a, (int64_t[]){ ne0, ne1, ne2, 1 }, 3);
}
dc_tensor *dc_reshape_4d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1, int64_t ne2,
                         int64_t ne3) {
    return reshape(ctx, a, (int64_t[]){ ne0, ne1, ne2, ne3 }, 4);
}

dc_tensor *dc_permute(dc_context *ctx, dc_tensor *a, int axis0, int axis1, int axis2, int axis3) {
    if (!a) return NULL;
    int ax[4] = { axis0, axis1, axis2, axis3 };
    int seen = 0;
    for (int i = 0; i < 4; i++) {
        if (ax[i] < 0 || ax[i] > 3 || (seen & (1 << ax[i]))) {
            dc_context_fail(ctx, DC_ERR_INVALID_ARG, "permute of %s: axes %d %d %d %d are not a permutation",
                            a->name, axis0, axis1, axis2, axis3);
            return NULL;
        }
        seen |= 1 << ax[i];
    }
    if (dc_type_is_quantized(a->type) && ax[0] != 0) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "permute of %s: cannot move dim 0 of a block type", a->name);
        return NULL;
    }
    int64_t ne[4];
    size_t nb[4];
    for (int i = 0; i < 4; i++) {
        ne[ax[i]] = a->ne[i];
        nb[ax[i]] = a->nb[i];
    }
    /* dims are contiguous-checked by make_view's bound test on the span */
    dc_tensor *t = dc_tensor_new_impl(ctx, a->type, ne, 4, false);
    if (!t) return NULL;
    memcpy(t->nb, nb, sizeof nb);
    t->op = DC_OP_VIEW;
    t->src[0] = a;
    t->view_src = a->view_src ? a->view_src : a;
    t->view_offs = a->view_src ? a->view_offs : 0;
    if (t->view_src->data) t->data = (char *)t->view_src->data + t->view_offs;
    t->buffer = t->view_src->buffer;
    dc_str_join(t->name, sizeof t->name, a->name, " (permuted)");
    return t;
}

dc_tensor *dc_transpose(dc_context *ctx, dc_tensor *a) {
    return dc_permute(ctx, a, 1, 0, 2, 3);
}

dc_tensor *dc_after(dc_context *ctx, dc_tensor *t, dc_tensor *dep) {
    if (!t || !dep) return NULL;
    dc_tensor *v = dc_view_4d(ctx, t, t->ne[0], t->ne[1], t->ne[2], t->ne[3], t->nb[1], t->nb[2],
                              t->nb[3], 0);
    if (v) {
        v->n_dims = t->n_dims;
        v->src[1] = dep;   /* ordering only: a view computes nothing */
    }
    return v;
}
