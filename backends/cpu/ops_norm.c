/*
 * ops_norm.c - row normalizations of the CPU backend: rms_norm and softmax.
 *
 * Both reduce along dim 0, one row per call, and each row belongs to exactly
 * one thread (contiguous ranges of rows), so a reduction is never split and
 * the result is bit-identical for every thread count. The arithmetic follows
 * ggml's CPU code, the peer the fixtures were made with:
 *
 *   rms_norm: sum of x*x (each square in f32) accumulated in double,
 *             mean = sum / ne0, y = x * (1 / sqrtf(mean + eps)) in f32.
 *   softmax:  v = x * scale + mask[:, i1], m = max(v), e = expf(v - m),
 *             sum(e) accumulated in double, y = e * (float)(1 / sum).
 *
 * Where ggml returns NaN for a softmax row whose entries are all -INFINITY
 * (everything masked), we return zeros: a fully masked row attends to
 * nothing, and a NaN would poison every later op.
 */
#include "cpu_impl.h"

#include <math.h>

/* (i1, i2, i3) of flat row r of t */
static void row_index(const dc_tensor *t, int64_t r, int64_t *i1, int64_t *i2, int64_t *i3) {
    *i1 = r % t->ne[1];
    *i2 = (r / t->ne[1]) % t->ne[2];
    *i3 = r / (t->ne[1] * t->ne[2]);
}

static inline float at(const char *row, size_t nb0, int64_t i0) {
    return *(const float *)(row + (size_t)i0 * nb0);
}

/* ---- rms_norm -------------------------------------------------------------------- */

/* dst = a / sqrt(mean(a^2) + eps) over dim 0; a any strides */
void dc_cpu_op_rms_norm(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0];
    const float eps = dst->params.rms_norm.eps;
    const int64_t n = a->ne[0];
    const size_t nb0 = a->nb[0];
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(dst, r, &i1, &i2, &i3);
        const char *x = dc_tensor_at(a, i1, i2, i3);
        float *y = (float *)dc_tensor_at(dst, i1, i2, i3);
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++) {
            const float v = at(x, nb0, i);
            sum += (double)(v * v);
        }
        const float mean = (float)(sum / (double)n);
        const float scale = 1.0f / sqrtf(mean + eps);
        for (int64_t i = 0; i < n; i++) y[i] = at(x, nb0, i) * scale;
    }
}

/* ---- softmax --------------------------------------------------------------------- */

/* One row: y[i] = softmax(x * scale + m)[i]; m NULL or its mask row. y is
 * contiguous and first holds the logits. */
static void softmax_row(float *y, const char *x, size_t xs, const char *m, size_t ms, int64_t n,
                        float scale) {
    float max = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        float v = at(x, xs, i) * scale;
        if (m) v += at(m, ms, i);
        y[i] = v;
        if (v > max) max = v;
    }
    if (max == -INFINITY) {         /* fully masked (or empty): attend to nothing */
        for (int64_t i = 0; i < n; i++) y[i] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        y[i] = expf(y[i] - max);
        sum += (double)y[i];
    }
    const float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) y[i] *= inv;
}

/* dst = softmax(a * scale + mask) over dim 0; mask F32 [ne0, >= ne1] or NULL,
 * its row i1 serves every (i2, i3). */
void dc_cpu_op_softmax(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0], *mask = dst->src[1];
    const float scale = dst->params.softmax.scale;
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(dst, r, &i1, &i2, &i3);
        const char *m = mask ? dc_tensor_at(mask, i1, 0, 0) : NULL;
        softmax_row((float *)dc_tensor_at(dst, i1, i2, i3), dc_tensor_at(a, i1, i2, i3), a->nb[0],
                    m, mask ? mask->nb[0] : 0, a->ne[0], scale);
    }
}
