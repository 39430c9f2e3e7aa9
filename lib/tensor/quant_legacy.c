/*
 * quant_legacy.c - the 32-element block types: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
 * and the activation type Q8_1. Reference quantizers and dequantizers.
 *
 * The quantizers reproduce ggml's `_ref` functions bit for bit
 * (spec/fp8-gguf.md §2.5, spec/quant-layouts.md §1-4). Each type has its own
 * rounding and the differences are the point:
 *   Q4_0 / Q5_0  d = (signed max) / -8 or -16, q = trunc(x*id + 8.5 / 16.5)
 *                (half up), clamped at 15 / 31;
 *   Q4_1 / Q5_1  d = (max - min) / 15 or 31, q = trunc((x - min)*id + 0.5);
 *   Q8_0 / Q8_1  d = amax / 127, q = roundf(x * id) (half away from zero).
 * id = 1/d, or 0 when d == 0, always computed from the unrounded f32 d; the
 * stored d is f16(d). Expressions keep the spec's order; the build uses
 * -ffp-contract=off.
 *
 * Dequantization is exact up to the final "+ m" of Q4_1 / Q5_1 (one
 * rounding), so any order gives the same bits.
 */
#include "quant_impl.h"

#include <float.h>

/* ---- helpers --------------------------------------------------------------- */

/* The signed element of largest |x| (first wins, all-zero gives 0). */
static float signed_absmax(const float *x, int n) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++) {
        const float v = x[j];
        if (amax < fabsf(v)) {
            amax = fabsf(v);
            max  = v;
        }
    }
    return max;
}

static void min_max(const float *x, int n, float *mn, float *mx) {
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < n; j++) {
        if (x[j] < lo) lo = x[j];
        if (x[j] > hi) hi = x[j];
    }
    *mn = lo;
    *mx = hi;
}

static inline void put_u32le(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t get_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* ---- Q4_0 ------------------------------------------------------------------ */

void dc_quantize_row_q4_0(const float *src, void *dst, int64_t n) {
    dc_block_q4_0 *y = dst;
    for (int64_t b = 0; b < n / DC_QK4_0; b++) {
        const float *x  = src + b * DC_QK4_0;
        const float  d  = signed_absmax(x, DC_QK4_0) / -8;
        const float  id = d ? 1.0f / d : 0.0f;
        y[b].d = dc_fp32_to_fp16(d);
        for (int j = 0; j < DC_QK4_0 / 2; j++) {
            const float x0 = x[j] * id;
            const float x1 = x[j + DC_QK4_0 / 2] * id;
            int q0 = (int8_t)(x0 + 8.5f);
            int q1 = (int8_t)(x1 + 8.5f);
            if (q0 > 15) q0 = 15;
            if (q1 > 15) q1 = 15;
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void dc_dequantize_row_q4_0(const void *src, float *dst, int64_t n) {
    const dc_block_q4_0 *x = src;
    for (int64_t b = 0; b < n / DC_QK4_0; b++) {
        const float d = dc_half_to_float(x[b].d);
        float *y = dst + b * DC_QK4_0;
        for (int j = 0; j < DC_QK4_0 / 2; j++) {
            y[j]                = (float)((x[b].qs[j] & 0x0F) - 8) * d;
            y[j + DC_QK4_0 / 2] = (float)((x[b].qs[j] >> 4) - 8) * d;
        }
    }
}

/* ---- Q4_1 ------------------------------------------------------------------ */

void dc_quantize_row_q4_1(const float *src, void *dst, int64_t n) {
    dc_block_q4_1 *y = dst;
    for (int64_t b = 0; b < n / DC_QK4_1; b++) {
        const float *x = src + b * DC_QK4_1;
        float mn, mx;
        min_max(x, DC_QK4_1, &mn, &mx);
        const float d  = (mx - mn) / 15;
        const float id = d ? 1.0f / d : 0.0f;
        y[b].d = dc_fp32_to_fp16(d);
        y[b].m = dc_fp32_to_fp16(mn);
        for (int j = 0; j < DC_QK4_1 / 2; j++) {
            const float x0 = (x[j] - mn) * id;
            const float x1 = (x[j + DC_QK4_1 / 2] - mn) * id;
            int q0 = (int8_t)(x0 + 0.5f);
            int q1 = (int8_t)(x1 + 0.5f);
            if (q0 > 15) q0 = 15;
            if (q1 > 15) q1 = 15;
            y[b].qs[j] = (uint8_t)(q0 | (q1 << 4));
        }
    }
}

void dc_dequantize_row_q4_1(const void *src, float *dst, int64_t n) {
    const dc_block_q4_1 *x = src;
    for (int64_t b = 0; b < n / DC_QK4_1; b++) {
        const float d = dc_half_to_float(x[b].d);
        const float m = dc_half_to_float(x[b].m);
        float *y = dst + b * DC_QK4_1;
        for (int j = 0; j < DC_QK4_1 / 2; j++) {
            y[j]                = (float)(x[b].qs[j] & 0x0F) * d + m;
            y[j + DC_QK4_1 / 2] = (float)(x[b].qs[j] >> 4) * d + m;
        }
    }
}

/* ---- Q5_0 ------------------------------------------------------------------ */

void dc_quantize_row_q5_0(const float *src, void *dst, int64_t n) {
    dc_block_q5_0 *y = dst;
    for (int64_t b = 0; b < n / DC_QK5_0; b++) {
        const float *x  = src + b * DC_QK5_0;
        const float  d  = signed_absmax(x, DC_QK5_0) / -16;
        const float  id = d ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        y[b].d = dc_fp32_to_fp16(d);
        for (int j = 0; j < DC_QK5_0 / 2; j++) {
            const float x0 = x[j] * id;
            const float x1 = x[j + DC_QK5_0 / 2] * id;
            int q0 = (int8_t)(x0 + 16.5f);
            int q1 = (int8_t)(x1 + 16.5f);
            if (q0 > 31) q0 = 31;
            if (q1 > 31) q1 = 31;
            y[b].qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + DC_QK5_0 / 2);
        }
        put_u32le(y[b].qh, qh);
    }
}

void dc_dequantize_row_q5_0(const void *src, float *dst, int64_t n) {
    const dc_block_q5_0 *x = src;
    for (int64_t b = 0; b < n / DC_QK5_0; b++) {
        const float    d  = dc_half_to_float(x[b].d);
        const uint32_t qh = get_u32le(x[b].qh);
        float *y = dst + b * DC_QK5_0;
        for (int j = 0; j < DC_QK5_0 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1) << 4;
            const int h1 = (int)((qh >> (j + DC_QK5_0 / 2)) & 1) << 4;
            y[j]                = (float)(((x[b].qs[j] & 0x0F) | h0) - 16) * d;
            y[j + DC_QK5_0 / 2] = (float)(((x[b].qs[j] >> 4) | h1) - 16) * d;
        }
    }
}

/* ---- Q5_1 ------------------------------------------------------------------ */

void dc_quantize_row_q5_1(const float *src, void *dst, int64_t n) {
    dc_block_q5_1 *y = dst;
    for (int64_t b = 0; b < n / DC_QK5_1; b++) {
        const float *x = src + b * DC_QK5_1;
        float mn, mx;
        min_max(x, DC_QK5_1, &mn, &mx);
        const float d  = (mx - mn) / 31;
        const float id = d ? 1.0f / d : 0.0f;
        uint32_t qh = 0;
        y[b].d = dc_fp32_to_fp16(d);
        y[b].m = dc_fp32_to_fp16(mn);
        for (int j = 0; j < DC_QK5_1 / 2; j++) {
            const float x0 = (x[j] - mn) * id;
            const float x1 = (x[j + DC_QK5_1 / 2] - mn) * id;
            /* no clamp: the operand never exceeds 31.5 (spec §3) */
            const int q0 = (uint8_t)(x0 + 0.5f);
            const int q1 = (uint8_t)(x1 + 0.5f);
            y[b].qs[j] = (uint8_t)((q0 & 0x0F) | ((q1 & 0x0F) << 4));
            qh |= (uint32_t)((q0 >> 4) & 1) << j;
            qh |= (uint32_t)((q1 >> 4) & 1) << (j + DC_QK5_1 / 2);
        }
        put_u32le(y[b].qh, qh);
    }
}

void dc_dequantize_row_q5_1(const void *src, float *dst, int64_t n) {
    const dc_block_q5_1 *x = src;
    for (int64_t b = 0; b < n / DC_QK5_1; b++) {
        const float    d  = dc_half_to_float(x[b].d);
        const float    m  = dc_half_to_float(x[b].m);
        const uint32_t qh = get_u32le(x[b].qh);
        float *y = dst + b * DC_QK5_1;
        for (int j = 0; j < DC_QK5_1 / 2; j++) {
            const int h0 = (int)((qh >> j) & 1) << 4;
            const int h1 = (int)((qh >> (j + DC_QK5_1 / 2)) & 1) << 4;
            y[j]                = (float)((x[b].qs[j] & 0x0F) | h0) * d + m;
            y[j + DC_QK5_1 / 2] = (float)((x[b].qs[j] >> 4) | h1) * d + m;
        }
    }
}

/* ---- Q8_0 / Q8_1 (reference: halves away from zero) ------------------------ */

static float absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        const float v = fabsf(x[j]);
        if (v > amax) amax = v;
    }
    return amax;
}

void dc_quantize_row_q8_0(const float *src, void *dst, int64_t n) {
    dc_block_q8_0 *y = dst;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float *x  = src + b * DC_QK8_0;
        const float  d  = absmax(x, DC_QK8_0) / 127;
        const float  id = d ? 1.0f / d : 0.0f;
        y[b].d = dc_fp32_to_fp16(d);
        for (int j = 0; j < DC_QK8_0; j++)
            y[b].qs[j] = (int8_t)roundf(x[j] * id);
    }
}

void dc_dequantize_row_q8_0(const void *src, float *dst, int64_t n) {
    const dc_block_q8_0 *x = src;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float d = dc_half_to_float(x[b].d);
        for (int j = 0; j < DC_QK8_0; j++)
            dst[b * DC_QK8_0 + j] = (float)x[b].qs[j] * d;
    }
}

void dc_quantize_row_q8_1(const float *src, void *dst, int64_t n) {
    dc_block_q8_1 *y = dst;
    for (int64_t b = 0; b < n / DC_QK8_1; b++) {
        const float *x  = src + b * DC_QK8_1;
        const float  d  = absmax(x, DC_QK8_1) / 127;
        const float  id = d ? 1.0f / d : 0.0f;
        int sum = 0;
        y[b].d = dc_fp32_to_fp16(d);
        for (int j = 0; j < DC_QK8_1; j++) {
            y[b].qs[j] = (int8_t)roundf(x[j] * id);
            sum += y[b].qs[j];
        }
        y[b].s = dc_fp32_to_fp16((float)sum * d);
    }
}

void dc_dequantize_row_q8_1(const void *src, float *dst, int64_t n) {
    const dc_block_q8_1 *x = src;
    for (int64_t b = 0; b < n / DC_QK8_1; b++) {
        const float d = dc_half_to_float(x[b].d);
        for (int j = 0; j < DC_QK8_1; j++)
            dst[b * DC_QK8_1 + j] = (float)x[b].qs[j] * d;
    }
}
