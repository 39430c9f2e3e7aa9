/*
 * ops_rope.c - rotary position embedding on the CPU (NORM and NEOX), with
 * YaRN and per-pair frequency factors.
 *
 * a: [ne0, n_head, n_tok, 1] F32, any strides; pos: I32 [n_tok]. Pair i of
 * the first n_rot dims is (x[2i], x[2i+1]) in NORM mode (llama, deepseek2)
 * and (x[i], x[i + n_rot/2]) in NEOX mode (qwen2); it turns by angle theta_i:
 *
 *   theta_extrap = pos * freq_base^(-2i/n_rot) / freq_factors[i]
 *   theta_interp = freq_scale * theta_extrap
 *   ext_factor == 0: theta = theta_interp, magnitude attn_factor
 *   ext_factor != 0 (YaRN, spec/deepseek-arch.md §2.3):
 *     low = max(0, floor(corr(beta_fast))), high = min(n_rot-1, ceil(corr(beta_slow))),
 *     corr(b) = n_rot ln(n_ctx_orig / (2 pi b)) / (2 ln freq_base),
 *     ramp_mix = (1 - clamp((i - low) / max(0.001, high - low), 0, 1)) * ext_factor,
 *     theta = theta_interp (1 - ramp_mix) + theta_extrap ramp_mix,
 *     magnitude attn_factor (1 + 0.1 ln(1 / freq_scale)).
 *
 * y0 = x0 cos - x1 sin, y1 = x0 sin + x1 cos; dims >= n_rot are copied.
 *
 * The angles are evaluated the way ggml's CPU backend (the fixtures' peer)
 * does, so the bits agree with it: in f32, freq_base^(-2i/n_rot) as a running
 * product of powf(freq_base, -2/n_rot) starting from pos, then cosf / sinf.
 * A thread's rows are (head, token) pairs in token-major order; per token it
 * computes cos/sin for ROPE_CHUNK pairs at a time into a small stack table
 * and applies them to all its heads of that token, so trig costs n_rot/2
 * calls per token and thread, not per head. No scratch memory is needed.
 */
#include "cpu_impl.h"

#include <math.h>
#include <string.h>

#define ROPE_CHUNK 32   /* pairs per stack table of cos/sin */

typedef struct rope_ctx {
    const dc_rope_params *p;
    const dc_tensor      *ff;          /* freq_factors or NULL            */
    float                 theta_scale; /* freq_base^(-2/n_rot)             */
    float                 low, high;   /* YaRN correction dims (pairs)     */
    float                 mscale;      /* cos/sin magnitude                */
} rope_ctx;

/* ggml's corr dim: the pair index whose wavelength spans n_rot turns of b */
static float corr_dim(const dc_rope_params *p, float beta) {
    return (float)p->n_rot * logf((float)p->n_ctx_orig / (beta * 2.0f * (float)M_PI)) /
           (2.0f * logf(p->freq_base));
}

static rope_ctx rope_setup(const dc_tensor *dst) {
    const dc_rope_params *p = &dst->params.rope;
    rope_ctx c = { .p = p, .ff = dst->src[2], .mscale = p->attn_factor,
                   .theta_scale = powf(p->freq_base, -2.0f / (float)p->n_rot) };
    if (p->ext_factor != 0.0f) {
        const float lo = floorf(corr_dim(p, p->beta_fast));
        const float hi = ceilf(corr_dim(p, p->beta_slow));
        c.low = lo > 0.0f ? lo : 0.0f;
        c.high = hi < (float)(p->n_rot - 1) ? hi : (float)(p->n_rot - 1);
        c.mscale *= 1.0f + 0.1f * logf(1.0f / p->freq_scale);
    }
    return c;
}

/* cos/sin of pairs [i0, i0 + n) into cs[2k], cs[2k+1]; *theta is the running
 * pos * theta_scale^i, advanced past the chunk. */
static void rope_table(const rope_ctx *c, int64_t i0, int64_t n, float *theta, float *cs) {
    const dc_rope_params *p = c->p;
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = i0 + k;
        float ext = *theta;
        if (c->ff) ext /= *(const float *)((const char *)c->ff->data + (size_t)i * c->ff->nb[0]);
        float th = p->freq_scale * ext;
        if (p->ext_factor != 0.0f) {
            float y = ((float)i - c->low) / fmaxf(0.001f, c->high - c->low);
            y = fminf(1.0f, fmaxf(0.0f, y));
            const float mix = (1.0f - y) * p->ext_factor;
            th = th * (1.0f - mix) + ext * mix;
        }
        cs[2 * k] = cosf(th) * c->mscale;
        cs[2 * k + 1] = sinf(th) * c->mscale;
        *theta *= c->theta_scale;
    }
}

/* Rotate pairs [i0, i0 + n) of one row x (elements xs bytes apart) into y. */
static void rope_pairs(const rope_ctx *c, float *y, const char *x, size_t xs, int64_t i0,
                       int64_t n, const float *cs) {
    const bool neox = c->p->mode == DC_ROPE_NEOX;
    const int64_t half = c->p->n_rot / 2;
    for (int64_t k = 0; k < n; k++) {
        const int64_t i = i0 + k;
        const int64_t j0 = neox ? i : 2 * i, j1 = neox ? i + half : 2 * i + 1;
        const float x0 = *(const float *)(x + (size_t)j0 * xs);
        const float x1 = *(const float *)(x + (size_t)j1 * xs);
        y[j0] = x0 * cs[2 * k] - x1 * cs[2 * k + 1];
        y[j1] = x0 * cs[2 * k + 1] + x1 * cs[2 * k];
    }
}

/* Heads [h0, h1) of token t. */
static void rope_token(const rope_ctx *c, const dc_tensor *a, dc_tensor *dst, int64_t t,
                       int64_t h0, int64_t h1, int32_t pos) {
    const int64_t n_pairs = c->p->n_rot / 2;
    float cs[2 * ROPE_CHUNK];
    float theta = (float)pos;
    for (int64_t i0 = 0; i0 < n_pairs; i0 += ROPE_CHUNK) {
        const int64_t n = n_pairs - i0 < ROPE_CHUNK ? n_pairs - i0 : ROPE_CHUNK;
        rope_table(c, i0, n, &theta, cs);
        for (int64_t h = h0; h < h1; h++)
            rope_pairs(c, (float *)dc_tensor_at(dst, h, t, 0), dc_tensor_at(a, h, t, 0), a->nb[0],
                       i0, n, cs);
    }
    for (int64_t h = h0; h < h1; h++) {       /* the unrotated tail */
        const char *x = dc_tensor_at(a, h, t, 0);
        float *y = (float *)dc_tensor_at(dst, h, t, 0);
        for (int64_t j = c->p->n_rot; j < a->ne[0]; j++)
            y[j] = *(const float *)(x + (size_t)j * a->nb[0]);
    }
}

void dc_cpu_op_rope(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0], *pos = dst->src[1];
    const int64_t n_head = a->ne[1];
    if (n_head == 0) return;
    const rope_ctx c = rope_setup(dst);
    int64_t r0, r1;
    dc_cpu_split(p, n_head * a->ne[2], &r0, &r1);
    for (int64_t r = r0; r < r1;) {
        const int64_t t = r / n_head, h0 = r % n_head;
        const int64_t h1 = r1 - t * n_head < n_head ? r1 - t * n_head : n_head;
        int32_t ps;
        memcpy(&ps, (const char *)pos->data + (size_t)t * pos->nb[0], sizeof ps);
        rope_token(&c, a, dst, t, h0, h1, ps);
        r += h1 - h0;
    }
}
