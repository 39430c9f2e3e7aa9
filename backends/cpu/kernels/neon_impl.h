/*
 * neon_impl.h - what the aarch64 kernel files share: small NEON helpers and
 * the entry points of the sub-tables. Private to backends/cpu/kernels.
 *
 * Two static libraries fill the NEON part of the kernel table, each with its
 * own -march (backends/cpu/meson.build), so no instruction of a later
 * extension can leak into code a plain ARMv8.0 core runs:
 *   neon.c, neon_quant.c   ARMv8.0 NEON (the aarch64 baseline), no -march
 *   neon_dotprod.c         + SDOT (FEAT_DotProd), installed only when
 *                          getauxval(AT_HWCAP) has HWCAP_ASIMDDP
 * neon_quant.c and neon_dotprod.c are one template (neon_quant_tmpl.c) built
 * twice with a different 16-lane int8 dot: the integer block sums are exact
 * either way, and the float part is the scalar reference's, so both give
 * the scalar bits. (i8mm SMMLA gemm tiles would be a third library of the
 * same kind; not written yet.)
 *
 * Helpers here are static inline and use only baseline intrinsics.
 */
#ifndef DEEPC_CPU_NEON_IMPL_H
#define DEEPC_CPU_NEON_IMPL_H

#include <arm_neon.h>

#include "kernels.h"

#include "../../../lib/tensor/quant_impl.h"

/* The quantized dots and gemm tiles (neon_quant_tmpl.c) with plain NEON
 * multiplies, and with SDOT. */
void dc_cpu_kernels_init_neon_quant(dc_cpu_kernels *k);
void dc_cpu_kernels_init_neon_dotprod(dc_cpu_kernels *k);

/* ---- conversions ------------------------------------------------------------- */

/* 4 IEEE halves -> f32 (FCVTL is exact; a NaN comes back quiet). */
static inline float32x4_t neon_h4(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
    const uint64_t u = (uint64_t)h0 | (uint64_t)h1 << 16 | (uint64_t)h2 << 32 | (uint64_t)h3 << 48;
    return vcvt_f32_f16(vreinterpret_f16_u64(vcreate_u64(u)));
}

/* One IEEE half -> f32, as neon_h4. */
static inline float neon_h1(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

/* 8 halves -> f32, bit-exact with dc_half_to_float for every code: the
 * conversion instruction quiets a signalling NaN, the reference keeps the
 * payload as it is, so inf / NaN lanes are rebuilt from the bits. */
static inline void neon_h8_exact(uint16x8_t h, float32x4_t *lo, float32x4_t *hi) {
    const float16x8_t f = vreinterpretq_f16_u16(h);
    float32x4_t       l = vcvt_f32_f16(vget_low_f16(f)), u = vcvt_high_f32_f16(f);
    const uint16x8_t  special = vceqq_u16(vandq_u16(h, vdupq_n_u16(0x7c00)), vdupq_n_u16(0x7c00));
    if (vmaxvq_u16(special)) {
        /* sign | 0x7f800000 | man << 13 */
        const uint32x4_t bl = vshll_n_u16(vget_low_u16(h), 13), bh = vshll_high_n_u16(h, 13);
        const uint32x4_t keep = vdupq_n_u32(0x007fe000), top = vdupq_n_u32(0x7f800000);
        const uint32x4_t rl = vorrq_u32(vorrq_u32(vandq_u32(bl, keep), top),
                                        vshlq_n_u32(vshrq_n_u32(vmovl_u16(vget_low_u16(h)), 15), 31));
        const uint32x4_t rh = vorrq_u32(vorrq_u32(vandq_u32(bh, keep), top),
                                        vshlq_n_u32(vshrq_n_u32(vmovl_high_u16(h), 15), 31));
        const uint32x4_t sl = vmovl_u16(vget_low_u16(special)), sh = vmovl_high_u16(special);
        l = vbslq_f32(vtstq_u32(sl, sl), vreinterpretq_f32_u32(rl), l);
        u = vbslq_f32(vtstq_u32(sh, sh), vreinterpretq_f32_u32(rh), u);
    }
    *lo = l;
    *hi = u;
}

/* 8 E4M3 codes -> their values as exact f32 (NaN codes give a finite
 * placeholder: callers test (c & 0x7f) == 0x7f themselves). Moving the 7
 * exponent/mantissa bits into an f16 at bit 7 gives value * 2^-8 for every
 * finite code, subnormals included (both formats have 3 mantissa bits at
 * the top and the bias gap is 8); FCVTL is exact, the 2^8 rescale too. */
static inline void neon_e4m3_8(uint8x8_t c, float32x4_t *lo, float32x4_t *hi) {
    /* (c << 8) >> 1 arithmetic puts the sign at bits 15 and 14; clear 14 */
    const int16x8_t  t = vshrq_n_s16(vreinterpretq_s16_u16(vshll_n_u8(c, 8)), 1);
    const uint16x8_t h = vandq_u16(vreinterpretq_u16_s16(t), vdupq_n_u16(0xbfff));
    const float16x8_t f = vreinterpretq_f16_u16(h);
    *lo = vmulq_n_f32(vcvt_f32_f16(vget_low_f16(f)), 256.0f);
    *hi = vmulq_n_f32(vcvt_high_f32_f16(f), 256.0f);
}

/* Lanes of c that are an E4M3 NaN code (0x7f / 0xff): nonzero if any. */
static inline uint8_t neon_e4m3_any_nan(uint8x16_t c) {
    return vmaxvq_u8(vceqq_u8(vandq_u8(c, vdupq_n_u8(0x7f)), vdupq_n_u8(0x7f)));
}

/* ---- integer helpers ----------------------------------------------------------- */

/* [sum a, sum b, sum c, sum d] of four int32x4 partial sums. */
static inline int32x4_t neon_hsum4(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    return vpaddq_s32(vpaddq_s32(a, b), vpaddq_s32(c, d));
}

/* 16 bytes, element j < 16 in the low nibble of qs[j], j + 16 in the high
 * nibble (Q4_0 / Q4_1 / Q5_x placement). */
static inline void neon_nibbles(const uint8_t *qs, uint8x16_t *lo, uint8x16_t *hi) {
    const uint8x16_t v = vld1q_u8(qs);
    *lo = vandq_u8(v, vdupq_n_u8(0x0f));
    *hi = vshrq_n_u8(v, 4);
}

/* The fifth bits of a Q5 block as 0 / 16 per element: bit j of the
 * little-endian qh[4] belongs to element j. */
static inline void neon_q5_hbits(const uint8_t qh[4], uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t bit[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
    const uint8x16_t m = vld1q_u8(bit);
    const uint8x16_t b01 = vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1]));
    const uint8x16_t b23 = vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3]));
    *lo = vandq_u8(vtstq_u8(b01, m), vdupq_n_u8(16));
    *hi = vandq_u8(vtstq_u8(b23, m), vdupq_n_u8(16));
}

#endif /* DEEPC_CPU_NEON_IMPL_H */
