/*
 * ops_elementwise.c - F32 elementwise ops of the CPU backend: add, mul, div
 * with broadcasting, scale, silu, sigmoid, swiglu, and sum_rows.
 *
 * Each thread takes a contiguous range of destination rows (the ne0 values at
 * one (i1, i2, i3)); sources are read through their byte strides, so views,
 * permutes and transposes need no copy. The destination is the node's own
 * contiguous tensor. Broadcasting follows ggml: b's extent in each dim divides
 * a's, and b is indexed modulo its extent. No value depends on another row,
 * so results are the same for every thread count.
 *
 * silu(x) = x / (1 + e^-x) and sigmoid(x) = 1 / (1 + e^-x) in float with
 * expf; for x -> -inf e^-x overflows to inf and both give (-)0, not NaN.
 * sum_rows accumulates in double (as ggml's ggml_vec_sum_f32 does), so long
 * rows lose nothing to the order of the additions.
 */
#include "cpu_impl.h"

#include <math.h>

/* (i1, i2, i3) of flat row r of t */
static void row_index(const dc_tensor *t, int64_t r, int64_t *i1, int64_t *i2, int64_t *i3) {
    *i1 = r % t->ne[1];
    *i2 = (r / t->ne[1]) % t->ne[2];
    *i3 = r / (t->ne[1] * t->ne[2]);
}

/* element i0 of the row at row (a byte address), elements nb0 apart */
static inline float at(const char *row, size_t nb0, int64_t i0) {
    return *(const float *)(row + (size_t)i0 * nb0);
}

/* ---- binary: add, mul, div ------------------------------------------------------- */

/* y[i] = x[i] op v[i % nv], x elements xs bytes apart, v elements vs apart */
static void row_binary(dc_op op, float *y, const char *x, size_t xs, const char *v, size_t vs,
                       int64_t n, int64_t nv) {
    int64_t j = 0;
    switch (op) {
    case DC_OP_ADD:
        for (int64_t i = 0; i < n; i++, j = j + 1 == nv ? 0 : j + 1)
            y[i] = at(x, xs, i) + at(v, vs, j);
        break;
    case DC_OP_MUL:
        for (int64_t i = 0; i < n; i++, j = j + 1 == nv ? 0 : j + 1)
            y[i] = at(x, xs, i) * at(v, vs, j);
        break;
    default:
        for (int64_t i = 0; i < n; i++, j = j + 1 == nv ? 0 : j + 1)
            y[i] = at(x, xs, i) / at(v, vs, j);
        break;
    }
}

/* dst [a's shape] = a op b, b broadcast over a (b->ne[i] divides a->ne[i]) */
void dc_cpu_op_binary(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0], *b = dst->src[1];
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(dst, r, &i1, &i2, &i3);
        const char *ar = dc_tensor_at(a, i1, i2, i3);
        const char *br = dc_tensor_at(b, i1 % b->ne[1], i2 % b->ne[2], i3 % b->ne[3]);
        row_binary(dst->op, (float *)dc_tensor_at(dst, i1, i2, i3), ar, a->nb[0], br, b->nb[0],
                   a->ne[0], b->ne[0]);
    }
}

/* ---- unary: scale, silu, sigmoid ------------------------------------------------- */

void dc_cpu_op_unary(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0];
    const float s = dst->params.scale.s;
    const size_t nb0 = a->nb[0];
    const int64_t n = a->ne[0];
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(dst, r, &i1, &i2, &i3);
        const char *x = dc_tensor_at(a, i1, i2, i3);
        float *y = (float *)dc_tensor_at(dst, i1, i2, i3);
        switch (dst->op) {
        case DC_OP_SCALE:
            for (int64_t i = 0; i < n; i++) y[i] = at(x, nb0, i) * s;
            break;
        case DC_OP_SILU:
            for (int64_t i = 0; i < n; i++) y[i] = at(x, nb0, i) / (1.0f + expf(-at(x, nb0, i)));
            break;
        default:
            for (int64_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-at(x, nb0, i)));
            break;
        }
    }
}

/* ---- swiglu ---------------------------------------------------------------------- */

/* dst = silu(gate) * up, same shapes, any strides */
void dc_cpu_op_swiglu(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *g = dst->src[0], *u = dst->src[1];
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(dst, r, &i1, &i2, &i3);
        const char *gr = dc_tensor_at(g, i1, i2, i3), *ur = dc_tensor_at(u, i1, i2, i3);
        float *y = (float *)dc_tensor_at(dst, i1, i2, i3);
        for (int64_t i0 = 0; i0 < g->ne[0]; i0++) {
            const float x = at(gr, g->nb[0], i0);
            y[i0] = x / (1.0f + expf(-x)) * at(ur, u->nb[0], i0);
        }
    }
}

/* ---- sum_rows -------------------------------------------------------------------- */

/* dst [1, ne1, ne2, ne3] = sum over dim 0, accumulated in double */
void dc_cpu_op_sum_rows(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0];
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(dst, r, &i1, &i2, &i3);
        const char *ar = dc_tensor_at(a, i1, i2, i3);
        double sum = 0.0;
        for (int64_t i0 = 0; i0 < a->ne[0]; i0++) sum += at(ar, a->nb[0], i0);
        *(float *)dc_tensor_at(dst, i1, i2, i3) = (float)sum;
    }
}
