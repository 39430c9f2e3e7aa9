/*
 * scalar_rows.c - plain-C row kernels for attention over a KV cache and for
 * row conversion: kq_dot (f32 query . cached row), axpy (accumulate v * row)
 * and dequant, for the cache types F32, F16, BF16, Q8_0 and F8_E4M3_B128.
 *
 * Cached values are converted exactly to f32 (every cache format is exact in
 * f32) and the arithmetic is plain f32 in element order: kq_dot accumulates
 * one f32 sum from element 0 up; axpy updates each y[i] once. ISA variants may
 * reorder the kq_dot sum (attention tolerates ~1e-6 relative); axpy has no
 * reduction, so every variant gives the same bits up to FMA contraction.
 */
#include "kernels.h"

#include "../../../lib/tensor/quant_impl.h"

/* value i of a cached row of type t */
#define ROW_LOOP(T, GET)                                                        \
    static void kq_dot_##T(int64_t n, float *s, const float *q, const void *r) { \
        float acc = 0.0f;                                                       \
        for (int64_t i = 0; i < n; i++) acc += q[i] * GET(r, i);                \
        *s = acc;                                                               \
    }                                                                           \
    static void axpy_##T(int64_t n, float *y, float v, const void *r) {        \
        for (int64_t i = 0; i < n; i++) y[i] += v * GET(r, i);                  \
    }

static inline float get_f32(const void *r, int64_t i) { return ((const float *)r)[i]; }
static inline float get_f16(const void *r, int64_t i) {
    return dc_half_to_float(((const uint16_t *)r)[i]);
}
static inline float get_bf16(const void *r, int64_t i) {
    return dc_bfloat_to_float(((const uint16_t *)r)[i]);
}
static inline float get_q8_0(const void *r, int64_t i) {
    const dc_block_q8_0 *b = (const dc_block_q8_0 *)r + i / DC_QK8_0;
    return (float)b->qs[i % DC_QK8_0] * dc_half_to_float(b->d);
}
static inline float get_f8(const void *r, int64_t i) {
    const dc_block_f8_b128 *b = (const dc_block_f8_b128 *)r + i / DC_QK_F8;
    const uint8_t c = b->qs[i % DC_QK_F8];
    if ((c & 0x7f) == 0x7f) return NAN;
    return ((float)dc_e4m3_k[c] * 0x1p-9f) * b->d;
}

ROW_LOOP(f32, get_f32)
ROW_LOOP(f16, get_f16)
ROW_LOOP(bf16, get_bf16)
ROW_LOOP(q8_0, get_q8_0)
ROW_LOOP(f8, get_f8)

void dc_cpu_kernels_init_scalar_rows(dc_cpu_kernels *k) {
    static const struct { dc_type t; dc_kq_dot_fn dot; dc_axpy_fn axpy; } rows[] = {
        { DC_TYPE_F32, kq_dot_f32, axpy_f32 },   { DC_TYPE_F16, kq_dot_f16, axpy_f16 },
        { DC_TYPE_BF16, kq_dot_bf16, axpy_bf16 }, { DC_TYPE_Q8_0, kq_dot_q8_0, axpy_q8_0 },
        { DC_TYPE_F8_E4M3_B128, kq_dot_f8, axpy_f8 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        k->kq_dot[dc_type_slot(rows[i].t)] = rows[i].dot;
        k->axpy[dc_type_slot(rows[i].t)] = rows[i].axpy;
    }
    /* dequant: the reference converters of the traits table */
    for (int t = 0; t <= DC_TYPE_F8_E4M3_B128; t++) {
        const dc_type_traits *tr = dc_get_type_traits((dc_type)t);
        if (tr && tr->to_float) k->dequant[dc_type_slot((dc_type)t)] = tr->to_float;
    }
}
