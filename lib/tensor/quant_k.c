/*
 * quant_k.c - the 256-element super-block types Q2_K, Q3_K, Q4_K, Q5_K, Q6_K
 * and the activation type Q8_K. Reference quantizers and dequantizers.
 *
 * The quantizers reproduce ggml's `_ref` functions (no importance matrix)
 * bit for bit against its FMA-free x86-64 build (spec/fp8-gguf.md §2.5,
 * spec/quant-layouts.md §5-6). Each works in two passes: a per-sub-block
 * search picks a float scale (and min), the scales are themselves quantized
 * to 4/6/8 bits against one f16 super-block scale, and then every element is
 * requantized against the *stored, rounded* scales. The searches:
 *   qkx2   (Q2_K, Q4_K, Q5_K)  affine fit with min <= 0, a grid of nstep+1
 *          trial inverse scales, each refitted by weighted least squares;
 *   qx     (Q6_K)              symmetric, x^2-weighted, trial scales
 *          -(nmax + 0.1 k)/max for k = -9..9;
 *   q3     (Q3_K)              symmetric, x^2-weighted, coordinate descent
 *          over the codes (at most 5 passes).
 * rne() is ggml's nearest_int (round half to even). All arithmetic is f32,
 * left to right in the order written (a*b*c = (a*b)*c; int operands convert
 * at the operation), sums in index order; the build uses -ffp-contract=off.
 * Dequantization is exact except the final "- m" of Q2_K / Q4_K / Q5_K.
 */
#include "quant_impl.h"

/* ggml's GROUP_MAX_EPS: a group whose largest |x| is below it is all zero. */
#define GROUP_MAX_EPS 1e-15f

static inline int clampi(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- scale searches ------------------------------------------------------------ */

/* Affine fit x ~ scale*L + min, min <= 0, L in 0..nmax, minimizing the
 * w-weighted error (|.| when use_mad, else squared). L[n] gets the codes,
 * *the_min the negated min (>= 0); returns the scale. Laux[n] is scratch. */
static float make_qkx2_quants(int n, int nmax, const float *x, const float *w,
                              uint8_t *L, float *the_min, uint8_t *Laux,
                              float rmin, float rdelta, int nstep, bool use_mad) {
    float min = x[0], max = x[0];
    float sum_w = w[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; i++) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        sum_w += w[i];
        sum_x += w[i] * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; i++) L[i] = 0;
        *the_min = -min;
        return 0.0f;
    }
    float iscale = nmax / (max - min);
    float scale  = 1 / iscale;
    float best   = 0;
    for (int i = 0; i < n; i++) {
        L[i] = (uint8_t)clampi(dc_nearest_int(iscale * (x[i] - min)), 0, nmax);
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best += w[i] * diff;
    }
    for (int is = 0; is <= nstep; is++) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; i++) {
            const int l = clampi(dc_nearest_int(iscale * (x[i] - min)), 0, nmax);
            Laux[i] = (uint8_t)l;
            sum_l  += w[i] * l;
            sum_l2 += w[i] * l * l;
            sum_xl += w[i] * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (!(D > 0)) continue;
        float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
        float this_min   = (sum_l2 * sum_x - sum_l * sum_xl) / D;
        if (this_min > 0) {
            this_min   = 0;
            this_scale = sum_xl / sum_l2;
        }
        float err = 0;
        for (int i = 0; i < n; i++) {
            float diff = this_scale * Laux[i] + this_min - x[i];
            diff = use_mad ? fabsf(diff) : diff * diff;
            err += w[i] * diff;
        }
        if (err < best) {
            memcpy(L, Laux, (size_t)n);
            best  = err;
            scale = this_scale;
            min   = this_min;
        }
    }
    *the_min = -min;
    return scale;
}

/* Signed element of largest |x| (first wins); *amax gets its magnitude. */
static float signed_absmax(const float *x, int n, float *amax) {
    float max = 0, a = 0;
    for (int i = 0; i < n; i++) {
        const float ax = fabsf(x[i]);
        if (ax > a) {
            a   = ax;
            max = x[i];
        }
    }
    *amax = a;
    return max;
}

/* Sum of w*x*l and w*l*l for codes rne(iscale*x) clamped to [-nmax, nmax-1],
 * w = x^2 (ggml's rmse_type 1). Writes the biased codes when L != NULL. */
static void qx_sums(int n, int nmax, const float *x, float iscale, int8_t *L,
                    float *sumlx, float *suml2) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; i++) {
        const int   l = clampi(dc_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        const float w = x[i] * x[i];
        if (L) L[i] = (int8_t)(l + nmax);
        slx += w * x[i] * l;
        sl2 += w * l * l;
    }
    *sumlx = slx;
    *suml2 = sl2;
}

/* Symmetric x ~ scale*(L - nmax), L in 0..2*nmax-1, x^2-weighted; tries
 * 19 inverse scales and keeps the best least-squares one. All-zero group:
 * L = 0 (not biased) and scale 0. */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L) {
    float amax;
    const float max = signed_absmax(x, n, &amax);
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.0f;
    }
    float sumlx, suml2;
    qx_sums(n, nmax, x, -nmax / max, L, &sumlx, &suml2);
    float scale = suml2 ? sumlx / suml2 : 0.0f;
    float best  = scale * sumlx;
    for (int is = -9; is <= 9; is++) {
        if (is == 0) continue;
        const float iscale = -(nmax + 0.1f * is) / max;
        qx_sums(n, nmax, x, iscale, NULL, &sumlx, &suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            qx_sums(n, nmax, x, iscale, L, &sumlx, &suml2);
            scale = sumlx / suml2;
            best  = scale * sumlx;
        }
    }
    return scale;
}

/* Symmetric x ~ scale*(L - nmax), L in 0..2*nmax-1, x^2-weighted, refined
 * code by code (ggml make_q3_quants with do_rmse). All-zero group: L = 0
 * (not biased) and scale 0. */
static float make_q3_quants(int n, int nmax, const float *x, int8_t *L) {
    float amax;
    const float max = signed_absmax(x, n, &amax);
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; i++) L[i] = 0;
        return 0.0f;
    }
    const float iscale = -nmax / max;
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; i++) {
        const int   l = clampi(dc_nearest_int(iscale * x[i]), -nmax, nmax - 1);
        const float w = x[i] * x[i];
        L[i] = (int8_t)l;
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    for (int itry = 0; itry < 5; itry++) {
        int n_changed = 0;
        for (int i = 0; i < n; i++) {
            const float w = x[i] * x[i];
            float slx = sumlx - w * x[i] * L[i];
            if (!(slx > 0)) continue;
            float sl2 = suml2 - w * L[i] * L[i];
            const int new_l = clampi(dc_nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
            if (new_l == L[i]) continue;
            slx += w * x[i] * new_l;
            sl2 += w * new_l * new_l;
            if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
                L[i]  = (int8_t)new_l;
                sumlx = slx;
                suml2 = sl2;
                n_changed++;
            }
        }
        if (!n_changed) break;
    }
    for (int i = 0; i < n; i++) L[i] = (int8_t)(L[i] + nmax);
    return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

/* Q2_K / Q3_K pack: byte 32H + l of qs holds elements 128H + l + 32c in bit
 * pair c (L already 0..3). */
static void pack_2bit(const uint8_t *L, uint8_t *qs) {
    for (int j = 0; j < DC_QK_K; j += 128)
        for (int l = 0; l < 32; l++)
            qs[j / 4 + l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) |
                                      (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

/* ---- Q2_K ------------------------------------------------------------------------ */

static void quantize_block_q2_k(const float *x, dc_block_q2_k *y) {
    uint8_t L[DC_QK_K], Laux[16];
    float   w[16], mins[DC_QK_K / 16], scales[DC_QK_K / 16];
    float   max_scale = 0, max_min = 0;
    for (int j = 0; j < DC_QK_K / 16; j++) {
        for (int l = 0; l < 16; l++) w[l] = fabsf(x[16 * j + l]);
        scales[j] = make_qkx2_quants(16, 3, x + 16 * j, w, L + 16 * j, &mins[j],
                                     Laux, -0.5f, 0.1f, 15, true);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
        const float iscale = 15.0f / max_scale;
        for (int j = 0; j < DC_QK_K / 16; j++)
            y->scales[j] = (uint8_t)dc_nearest_int(iscale * scales[j]);
        y->d = dc_fp32_to_fp16(max_scale / 15.0f);
    } else {
        memset(y->scales, 0, sizeof y->scales);
        y->d = dc_fp32_to_fp16(0.0f);
    }
    if (max_min > 0) {
        const float iscale = 15.0f / max_min;
        for (int j = 0; j < DC_QK_K / 16; j++)
            y->scales[j] |= (uint8_t)(dc_nearest_int(iscale * mins[j]) << 4);
        y->dmin = dc_fp32_to_fp16(max_min / 15.0f);
    } else {
        y->dmin = dc_fp32_to_fp16(0.0f);
    }
    /* requantize against the stored scales; a zero scale keeps the search's codes */
    for (int j = 0; j < DC_QK_K / 16; j++) {
        const float d = dc_half_to_float(y->d) * (y->scales[j] & 0xF);
        if (!d) continue;
        const float dm = dc_half_to_float(y->dmin) * (y->scales[j] >> 4);
        for (int i = 0; i < 16; i++)
            L[16 * j + i] = (uint8_t)clampi(dc_nearest_int((x[16 * j + i] + dm) / d), 0, 3);
    }
    pack_2bit(L, y->qs);
}

void dc_quantize_row_q2_k(const float *src, void *dst, int64_t n) {
    dc_block_q2_k *y = dst;
    for (int64_t b = 0; b < n / DC_QK_K; b++) quantize_block_q2_k(src + b * DC_QK_K, &y[b]);
}

void dc_dequantize_row_q2_k(const void *src, float *dst, int64_t n) {
    const dc_block_q2_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float d    = dc_half_to_float(x[b].d);
        const float dmin = dc_half_to_float(x[b].dmin);
        float *y = dst + b * DC_QK_K;
        for (int e = 0; e < DC_QK_K; e++) {
            const int   sc = x[b].scales[e / 16];
            const int   q  = (x[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            const float dl = d * (float)(sc & 0xF);
            const float ml = dmin * (float)(sc >> 4);
            y[e] = dl * (float)q - ml;
        }
    }
}

/* ---- Q3_K ------------------------------------------------------------------------ */

static void quantize_block_q3_k(const float *x, dc_block_q3_k *y) {
    int8_t L[DC_QK_K];
    float  scales[DC_QK_K / 16];
    float  max_scale = 0, amax = 0;
    for (int j = 0; j < DC_QK_K / 16; j++) {
        scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j);
        const float a = fabsf(scales[j]);
        if (a > amax) {
            amax      = a;
            max_scale = scales[j];
        }
    }
    memset(y->scales, 0, sizeof y->scales);
    if (max_scale) {
        const float iscale = -32.0f / max_scale;
        for (int j = 0; j < DC_QK_K / 16; j++) {
            const int l = clampi((int8_t)dc_nearest_int(iscale * scales[j]), -32, 31) + 32;
            if (j < 8)
                y->scales[j] = (uint8_t)(l & 0xF);
            else
                y->scales[j - 8] |= (uint8_t)((l & 0xF) << 4);
            y->scales[j % 4 + 8] |= (uint8_t)((l >> 4) << (2 * (j / 4)));
        }
        y->d = dc_fp32_to_fp16(1 / iscale);
    } else {
        y->d = dc_fp32_to_fp16(0.0f);
    }
    for (int j = 0; j < DC_QK_K / 16; j++) {
        const float d = dc_half_to_float(y->d) * (float)(dc_get_scale_q3_k(j, y->scales) - 32);
        if (!d) continue;
        for (int i = 0; i < 16; i++)
            L[16 * j + i] = (int8_t)(clampi(dc_nearest_int(x[16 * j + i] / d), -4, 3) + 4);
    }
    /* bit 2 of each code goes to hmask (bit e/32 of byte e%32), the rest to qs */
    uint8_t low[DC_QK_K];
    memset(y->hmask, 0, sizeof y->hmask);
    for (int e = 0; e < DC_QK_K; e++) {
        int l = L[e];
        if (l > 3) {
            y->hmask[e % 32] |= (uint8_t)(1u << (e / 32));
            l -= 4;
        }
        low[e] = (uint8_t)l;
    }
    pack_2bit(low, y->qs);
}

void dc_quantize_row_q3_k(const float *src, void *dst, int64_t n) {
    dc_block_q3_k *y = dst;
    for (int64_t b = 0; b < n / DC_QK_K; b++) quantize_block_q3_k(src + b * DC_QK_K, &y[b]);
}

void dc_dequantize_row_q3_k(const void *src, float *dst, int64_t n) {
    const dc_block_q3_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float d = dc_half_to_float(x[b].d);
        float *y = dst + b * DC_QK_K;
        for (int e = 0; e < DC_QK_K; e++) {
            const int   low = (x[b].qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
            const int   hb  = (x[b].hmask[e % 32] >> (e / 32)) & 1;
            const float dl  = d * (float)(dc_get_scale_q3_k(e / 16, x[b].scales) - 32);
            y[e] = dl * (float)(low - (hb ? 0 : 4));
        }
    }
}

/* ---- Q4_K / Q5_K ------------------------------------------------------------------- */

/* Shared first half of Q4_K and Q5_K: per 32, weights sqrt(mean x^2) + |x|,
 * qkx2 search, 6-bit scales/mins packed into scales[12], d and dmin stored;
 * then every element requantized to 0..nmax against the stored values. */
static void quantize_k4_scales(const float *x, int nmax, float rmin, float rdelta,
                               int nstep, uint8_t *L, uint8_t scales12[12],
                               uint16_t *d_out, uint16_t *dmin_out) {
    uint8_t Laux[32];
    float   w[32], mins[8], scales[8];
    float   max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; j++) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; l++) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; l++) w[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, w, L + 32 * j, &mins[j],
                                     Laux, rmin, rdelta, nstep, false);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
    const float inv_min   = max_min > 0 ? 63.0f / max_min : 0.0f;
    for (int j = 0; j < 8; j++) {
        uint8_t ls = (uint8_t)dc_nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)dc_nearest_int(inv_min * mins[j]);
        if (ls > 63) ls = 63;
        if (lm > 63) lm = 63;
        if (j < 4) {
            scales12[j]     = ls;
            scales12[j + 4] = lm;
        } else {
            scales12[j + 4]  = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            scales12[j - 4] |= (uint8_t)((ls >> 4) << 6);
            scales12[j]     |= (uint8_t)((lm >> 4) << 6);
        }
    }
    *d_out    = dc_fp32_to_fp16(max_scale / 63.0f);
    *dmin_out = dc_fp32_to_fp16(max_min / 63.0f);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        dc_get_scale_min_k4(j, scales12, &sc, &m);
        const float d = dc_half_to_float(*d_out) * sc;
        if (!d) continue;
        const float dm = dc_half_to_float(*dmin_out) * m;
        for (int i = 0; i < 32; i++)
            L[32 * j + i] = (uint8_t)clampi(dc_nearest_int((x[32 * j + i] + dm) / d), 0, nmax);
    }
}

void dc_quantize_row_q4_k(const float *src, void *dst, int64_t n) {
    dc_block_q4_k *y = dst;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        uint8_t L[DC_QK_K];
        quantize_k4_scales(src + b * DC_QK_K, 15, -1.0f, 0.1f, 20, L,
                           y[b].scales, &y[b].d, &y[b].dmin);
        /* 64-element chunk c: low nibbles elements 64c..+31, high 64c+32..+63 */
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                y[b].qs[32 * c + l] = (uint8_t)(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
    }
}

void dc_quantize_row_q5_k(const float *src, void *dst, int64_t n) {
    dc_block_q5_k *y = dst;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        uint8_t L[DC_QK_K];
        quantize_k4_scales(src + b * DC_QK_K, 31, -0.5f, 0.1f, 15, L,
                           y[b].scales, &y[b].d, &y[b].dmin);
        memset(y[b].qh, 0, sizeof y[b].qh);
        for (int c = 0; c < 4; c++) {
            for (int l = 0; l < 32; l++) {
                int l1 = L[64 * c + l], l2 = L[64 * c + 32 + l];
                if (l1 > 15) {
                    l1 -= 16;
                    y[b].qh[l] |= (uint8_t)(1u << (2 * c));
                }
                if (l2 > 15) {
                    l2 -= 16;
                    y[b].qh[l] |= (uint8_t)(2u << (2 * c));
                }
                y[b].qs[32 * c + l] = (uint8_t)(l1 | (l2 << 4));
            }
        }
    }
}

void dc_dequantize_row_q4_k(const void *src, float *dst, int64_t n) {
    const dc_block_q4_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float d    = dc_half_to_float(x[b].d);
        const float dmin = dc_half_to_float(x[b].dmin);
        float *y = dst + b * DC_QK_K;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            dc_get_scale_min_k4(j, x[b].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            const int   shift = 4 * (j & 1);
            for (int l = 0; l < 32; l++)
                y[32 * j + l] = d1 * (float)((x[b].qs[32 * (j / 2) + l] >> shift) & 0xF) - m1;
        }
    }
}

void dc_dequantize_row_q5_k(const void *src, float *dst, int64_t n) {
    const dc_block_q5_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float d    = dc_half_to_float(x[b].d);
        const float dmin = dc_half_to_float(x[b].dmin);
        float *y = dst + b * DC_QK_K;
        for (int j = 0; j < 8; j++) {
            uint8_t sc, m;
            dc_get_scale_min_k4(j, x[b].scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            const int   shift = 4 * (j & 1);
            for (int l = 0; l < 32; l++) {
                const int q = ((x[b].qs[32 * (j / 2) + l] >> shift) & 0xF) |
                              (((x[b].qh[l] >> j) & 1) << 4);
                y[32 * j + l] = d1 * (float)q - m1;
            }
        }
    }
}

/* ---- Q6_K ------------------------------------------------------------------------ */

static void quantize_block_q6_k(const float *x, dc_block_q6_k *y) {
    int8_t L[DC_QK_K];
    float  scales[DC_QK_K / 16];
    float  max_scale = 0, max_abs_scale = 0;
    for (int j = 0; j < DC_QK_K / 16; j++) {
        scales[j] = make_qx_quants(16, 32, x + 16 * j, L + 16 * j);
        const float a = fabsf(scales[j]);
        if (a > max_abs_scale) {
            max_abs_scale = a;
            max_scale     = scales[j];
        }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(y, 0, sizeof *y);
        y->d = dc_fp32_to_fp16(0.0f);
        return;
    }
    const float iscale = -128.0f / max_scale;
    y->d = dc_fp32_to_fp16(1 / iscale);
    for (int j = 0; j < DC_QK_K / 16; j++) {
        const int l = dc_nearest_int(iscale * scales[j]);
        y->scales[j] = (int8_t)(l < 127 ? l : 127);
    }
    for (int j = 0; j < DC_QK_K / 16; j++) {
        const float d = dc_half_to_float(y->d) * y->scales[j];
        if (!d) continue;
        for (int i = 0; i < 16; i++)
            L[16 * j + i] = (int8_t)(clampi(dc_nearest_int(x[16 * j + i] / d), -32, 31) + 32);
    }
    /* half h: ql[64h + l] = elem l | elem l+64 << 4, ql[64h + 32 + l] = elem
     * l+32 | elem l+96 << 4 (base 128h); qh[32h + l] = bits 4-5 of the four */
    for (int h = 0; h < 2; h++) {
        const int8_t *Lh = L + 128 * h;
        for (int l = 0; l < 32; l++) {
            y->ql[64 * h + l]      = (uint8_t)((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
            y->ql[64 * h + l + 32] = (uint8_t)((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
            y->qh[32 * h + l]      = (uint8_t)((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) |
                                               ((Lh[l + 64] >> 4) << 4) |
                                               ((Lh[l + 96] >> 4) << 6));
        }
    }
}

void dc_quantize_row_q6_k(const float *src, void *dst, int64_t n) {
    dc_block_q6_k *y = dst;
    for (int64_t b = 0; b < n / DC_QK_K; b++) quantize_block_q6_k(src + b * DC_QK_K, &y[b]);
}

void dc_dequantize_row_q6_k(const void *src, float *dst, int64_t n) {
    const dc_block_q6_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float d = dc_half_to_float(x[b].d);
        float *y = dst + b * DC_QK_K;
        for (int e = 0; e < DC_QK_K; e++) {
            const int h = e / 128, r = e % 128, l = r % 32, part = r / 32;
            const uint8_t ql = x[b].ql[64 * h + l + 32 * (part & 1)];
            const int lo = (part < 2) ? (ql & 0xF) : (ql >> 4);
            const int hi = (x[b].qh[32 * h + l] >> (2 * part)) & 3;
            const int q  = (lo | (hi << 4)) - 32;
            y[e] = d * (float)x[b].scales[e / 16] * (float)q;
        }
    }
}

/* ---- Q8_K ------------------------------------------------------------------------ */

void dc_quantize_row_q8_k(const float *src, void *dst, int64_t n) {
    dc_block_q8_k *y = dst;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float *x = src + b * DC_QK_K;
        float amax;
        const float max = signed_absmax(x, DC_QK_K, &amax);
        if (!amax) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < DC_QK_K; j++) {
            const int v = dc_nearest_int(iscale * x[j]);
            y[b].qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < DC_QK_K / 16; j++) {
            int sum = 0;
            for (int i = 0; i < 16; i++) sum += y[b].qs[16 * j + i];
            y[b].bsums[j] = (int16_t)sum;
        }
        y[b].d = 1 / iscale;
    }
}

void dc_dequantize_row_q8_k(const void *src, float *dst, int64_t n) {
    const dc_block_q8_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++)
        for (int j = 0; j < DC_QK_K; j++)
            dst[b * DC_QK_K + j] = x[b].d * (float)x[b].qs[j];
}
