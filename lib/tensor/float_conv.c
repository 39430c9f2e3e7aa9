/*
 * float_conv.c - scalar float formats: f32 <-> f16, bf16, E4M3, and the row
 * converters for F32, F16, BF16, F64 and F8_E4M3_B128.
 *
 * All narrowing conversions round to nearest, ties to even, on the bits (no
 * FPU conversion instruction, no dependence on F16C): f16 keeps subnormals
 * and overflows to inf (as ggml's software routine does); bf16 keeps NaN a
 * NaN by forcing the quiet bit; E4M3 (spec/fp8-gguf.md §1.1-1.2) has no inf,
 * so it saturates to +-448 (the CUDA SATFINITE rule: every |x| >= 448,
 * including inf, gives 0x7E with the sign) and maps NaN to 0x7F | sign.
 *
 * F8_E4M3_B128 blocks (quant_impl.h) hold one f32 scale and 128 codes. The
 * quantizer is DeepGEMM's per-block cast applied to one row of 128:
 * s = max(amax, 1e-4) / 448 with an IEEE division, q = e4m3(x / s) (a true
 * division, not x * (1/s)), so the same function serves weights and the
 * activations of the exact FP8 dot (spec/fp8-gguf.md §1.4, §1.7). An
 * all-zero block stores s = 1e-4/448 and zero codes, never a NaN.
 */
#include "quant_impl.h"

/* ---- f16 ------------------------------------------------------------------- */

uint16_t dc_fp32_to_fp16(float f) {
    uint32_t u    = dc_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a    = u & 0x7fffffffu;

    if (a > 0x7f800000u)                 /* NaN: quiet, sign kept */
        return sign | 0x7e00u;
    if (a >= 0x477ff000u)                /* >= 65520 (incl. inf) rounds to inf */
        return sign | 0x7c00u;
    if (a >= 0x38800000u) {              /* half normal range, >= 2^-14 */
        /* drop 13 mantissa bits with ties to even; a carry bumps the
         * exponent, which is still the right encoding */
        uint32_t r = (a + 0x0fffu + ((a >> 13) & 1u)) >> 13;
        return sign | (uint16_t)(r - (112u << 10));
    }
    /* half subnormal (or zero): code = rne(|f| * 2^24); the scaling is exact
     * and 2^-14 itself lands on code 0x400, the smallest normal */
    float v = fabsf(f) * 0x1p24f;
    return sign | (uint16_t)rintf(v);
}

float dc_fp16_to_fp32(uint16_t h) {
    return dc_half_to_float(h);
}

/* ---- bf16 ------------------------------------------------------------------ */

uint16_t dc_fp32_to_bf16(float f) {
    uint32_t u = dc_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u)          /* NaN: force the quiet bit */
        return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

float dc_bf16_to_fp32(uint16_t h) {
    return dc_bfloat_to_float(h);
}

/* ---- E4M3 ------------------------------------------------------------------ */

uint8_t dc_fp32_to_e4m3(float f) {
    uint32_t u    = dc_f32_bits(f);
    uint8_t  sign = (uint8_t)((u >> 24) & 0x80u);
    uint32_t a    = u & 0x7fffffffu;

    if (a > 0x7f800000u)                 /* NaN */
        return sign | 0x7f;
    if (a >= 0x43e00000u)                /* >= 448: saturate (464 ties to 448 too) */
        return sign | 0x7e;
    if (a >= 0x3c800000u) {              /* E4M3 normal range, >= 2^-6 */
        /* keep 3 mantissa bits, ties to even; rebias 127 -> 7 */
        uint32_t r = (a + 0x7ffffu + ((a >> 20) & 1u)) >> 20;
        return sign | (uint8_t)(r - (120u << 3));
    }
    /* subnormal band: code = rne(|f| * 2^9), 0..8 (8 is the smallest normal) */
    float v = dc_f32_from_bits(a) * 0x1p9f;
    return sign | (uint8_t)rintf(v);
}

/* Every finite E4M3 value is k * 2^-9 with an integer |k| <= 229376 (e = 0:
 * k = m; else k = (8 + m) << (e - 1)). The NaN codes 0x7F / 0xFF hold the
 * pattern's k (+-245760); callers test for them. Built at compile time. */
#define E4M3_E(c)   (((c) >> 3) & 15)
#define E4M3_MAG(c) (((E4M3_E(c) ? 8 : 0) + ((c) & 7)) << (E4M3_E(c) - (E4M3_E(c) != 0)))
#define E4M3_K(c)   (((c) & 0x80) ? -E4M3_MAG(c) : E4M3_MAG(c))
#define E4M3_K4(c)  E4M3_K(c), E4M3_K((c) + 1), E4M3_K((c) + 2), E4M3_K((c) + 3)
#define E4M3_K16(c) E4M3_K4(c), E4M3_K4((c) + 4), E4M3_K4((c) + 8), E4M3_K4((c) + 12)
#define E4M3_K64(c) E4M3_K16(c), E4M3_K16((c) + 16), E4M3_K16((c) + 32), E4M3_K16((c) + 48)

const int32_t dc_e4m3_k[256] = {
    E4M3_K64(0), E4M3_K64(64), E4M3_K64(128), E4M3_K64(192)
};

float dc_e4m3_to_fp32(uint8_t code) {
    /* magnitude first: k of 0x80 is 0, and the sign must still give -0 */
    const float v = (code & 0x7f) == 0x7f ? NAN : (float)dc_e4m3_k[code & 0x7f] * 0x1p-9f;
    return (code & 0x80) ? -v : v;
}

/* ---- row converters ---------------------------------------------------------- */

void dc_quantize_row_f32(const float *src, void *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void dc_dequantize_row_f32(const void *src, float *dst, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

void dc_quantize_row_f16(const float *src, void *dst, int64_t n) {
    uint16_t *y = dst;
    for (int64_t i = 0; i < n; i++) y[i] = dc_fp32_to_fp16(src[i]);
}

void dc_dequantize_row_f16(const void *src, float *dst, int64_t n) {
    const uint16_t *x = src;
    for (int64_t i = 0; i < n; i++) dst[i] = dc_half_to_float(x[i]);
}

void dc_quantize_row_bf16(const float *src, void *dst, int64_t n) {
    uint16_t *y = dst;
    for (int64_t i = 0; i < n; i++) y[i] = dc_fp32_to_bf16(src[i]);
}

void dc_dequantize_row_bf16(const void *src, float *dst, int64_t n) {
    const uint16_t *x = src;
    for (int64_t i = 0; i < n; i++) dst[i] = dc_bfloat_to_float(x[i]);
}

void dc_quantize_row_f64(const float *src, void *dst, int64_t n) {
    double *y = dst;
    for (int64_t i = 0; i < n; i++) y[i] = (double)src[i];
}

void dc_dequantize_row_f64(const void *src, float *dst, int64_t n) {
    const double *x = src;
    for (int64_t i = 0; i < n; i++) dst[i] = (float)x[i];
}

/* ---- F8_E4M3_B128 ------------------------------------------------------------ */

void dc_quantize_row_f8_b128(const float *src, void *dst, int64_t n) {
    dc_block_f8_b128 *y = dst;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const float *x = src + b * DC_QK_F8;
        float amax = 0.0f;
        for (int i = 0; i < DC_QK_F8; i++) {
            float a = fabsf(x[i]);
            if (a > amax) amax = a;
        }
        if (amax < 1e-4f) amax = 1e-4f;
        const float s = amax / 448.0f;
        y[b].d = s;
        for (int i = 0; i < DC_QK_F8; i++) y[b].qs[i] = dc_fp32_to_e4m3(x[i] / s);
    }
}

void dc_dequantize_row_f8_b128(const void *src, float *dst, int64_t n) {
    const dc_block_f8_b128 *x = src;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const float d = x[b].d;
        for (int i = 0; i < DC_QK_F8; i++)
            dst[b * DC_QK_F8 + i] = dc_e4m3_to_fp32(x[b].qs[i]) * d;
    }
}
