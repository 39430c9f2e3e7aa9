/*
 * neon.c - aarch64 NEON kernels (ARMv8.0 baseline): the float and FP8 dots,
 * the activation quantizers, the KV-cache row kernels, and the entry point
 * that installs them with the integer dots of neon_quant.c and, where the
 * CPU has it, their SDOT variant (neon_impl.h says which file holds what
 * and why they are separate objects).
 *
 * Rounding follows scalar.c / scalar_rows.c:
 *   F32 / F16 / BF16 dots   exact products, summed in f64 (lanes reorder the
 *                           f64 sum only), rounded once to f32
 *   F8_E4M3_B128 dot        exact block sums: E4M3 products are exact in f32
 *                           and every partial sum of a block is a multiple of
 *                           2^-18 below 2^25, so f64 adds are exact in any
 *                           order; then (f32(sum) * s_a) * s_w over blocks in
 *                           row order, as the scalar loop (the same bits)
 *   quantize_act            the same bytes as scalar: vcvtnq rounds to
 *                           nearest even like rintf; a block holding inf or
 *                           NaN takes the scalar path, whose integer casts of
 *                           out-of-range values a vector convert cannot mimic
 *   kq_dot                  f32 FMA lanes (attention tolerates the reorder)
 *   axpy, dequant           the scalar expressions lane by lane: same bits
 */
#include "neon_impl.h"

#include <float.h>

/* ---- float dots ------------------------------------------------------------------ */

/* acc += wide(p) for the two halves of four exact f32 products. */
static inline void add_f64(float64x2_t *lo, float64x2_t *hi, float32x4_t p) {
    *lo = vaddq_f64(*lo, vcvt_f64_f32(vget_low_f32(p)));
    *hi = vaddq_f64(*hi, vcvt_high_f64_f32(p));
}

/* f32 x f32 is exact in f64, so the FMA rounds only the sum, as scalar does. */
static inline void fma_f64(float64x2_t *lo, float64x2_t *hi, float32x4_t w, float32x4_t a) {
    *lo = vfmaq_f64(*lo, vcvt_f64_f32(vget_low_f32(w)), vcvt_f64_f32(vget_low_f32(a)));
    *hi = vfmaq_f64(*hi, vcvt_high_f64_f32(w), vcvt_high_f64_f32(a));
}

static inline double sum_f64(float64x2_t a, float64x2_t b, float64x2_t c, float64x2_t d) {
    return vaddvq_f64(vaddq_f64(vaddq_f64(a, b), vaddq_f64(c, d)));
}

static void vec_dot_f32(int64_t n, float *s, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    float64x2_t  c0 = vdupq_n_f64(0), c1 = c0, c2 = c0, c3 = c0;
    int64_t      i = 0;
    for (; i + 8 <= n; i += 8) {
        fma_f64(&c0, &c1, vld1q_f32(w + i), vld1q_f32(a + i));
        fma_f64(&c2, &c3, vld1q_f32(w + i + 4), vld1q_f32(a + i + 4));
    }
    double sum = sum_f64(c0, c1, c2, c3);
    for (; i < n; i++) sum += (double)w[i] * (double)a[i];
    *s = (float)sum;
}

/* f16 x f16 has at most 22 significant bits and lies in [2^-48, 2^32]: the
 * f32 product is exact, and only the sum needs f64. */
static void vec_dot_f16(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    float64x2_t     c0 = vdupq_n_f64(0), c1 = c0, c2 = c0, c3 = c0;
    int64_t         i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t hw = vreinterpretq_f16_u16(vld1q_u16(w + i));
        const float16x8_t ha = vreinterpretq_f16_u16(vld1q_u16(a + i));
        add_f64(&c0, &c1, vmulq_f32(vcvt_f32_f16(vget_low_f16(hw)), vcvt_f32_f16(vget_low_f16(ha))));
        add_f64(&c2, &c3, vmulq_f32(vcvt_high_f32_f16(hw), vcvt_high_f32_f16(ha)));
    }
    double sum = sum_f64(c0, c1, c2, c3);
    for (; i < n; i++) sum += (double)dc_half_to_float(w[i]) * (double)dc_half_to_float(a[i]);
    *s = (float)sum;
}

/* bf16 products can leave the f32 range, so they are formed in f64. */
static void vec_dot_bf16(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    float64x2_t     c0 = vdupq_n_f64(0), c1 = c0, c2 = c0, c3 = c0;
    int64_t         i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t bw = vld1q_u16(w + i), ba = vld1q_u16(a + i);
        fma_f64(&c0, &c1, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(bw), 16)),
                vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(ba), 16)));
        fma_f64(&c2, &c3, vreinterpretq_f32_u32(vshll_high_n_u16(bw, 16)),
                vreinterpretq_f32_u32(vshll_high_n_u16(ba, 16)));
    }
    double sum = sum_f64(c0, c1, c2, c3);
    for (; i < n; i++) sum += (double)dc_bfloat_to_float(w[i]) * (double)dc_bfloat_to_float(a[i]);
    *s = (float)sum;
}

/* ---- FP8 ------------------------------------------------------------------------- */

/* Exact sum of one block's 128 products (module comment); *nan set when
 * either side holds a NaN code. */
static double f8_block_sum(const uint8_t *cw, const uint8_t *ca, bool *nan) {
    float64x2_t c0 = vdupq_n_f64(0), c1 = c0, c2 = c0, c3 = c0;
    uint8x16_t  bad = vdupq_n_u8(0);
    for (int i = 0; i < DC_QK_F8; i += 16) {
        const uint8x16_t vw = vld1q_u8(cw + i), va = vld1q_u8(ca + i);
        const uint8x16_t m7 = vdupq_n_u8(0x7f);
        bad = vorrq_u8(bad, vceqq_u8(vandq_u8(vw, m7), m7));
        bad = vorrq_u8(bad, vceqq_u8(vandq_u8(va, m7), m7));
        float32x4_t w0, w1, w2, w3, a0, a1, a2, a3;
        neon_e4m3_8(vget_low_u8(vw), &w0, &w1);
        neon_e4m3_8(vget_high_u8(vw), &w2, &w3);
        neon_e4m3_8(vget_low_u8(va), &a0, &a1);
        neon_e4m3_8(vget_high_u8(va), &a2, &a3);
        add_f64(&c0, &c1, vmulq_f32(w0, a0));
        add_f64(&c2, &c3, vmulq_f32(w1, a1));
        add_f64(&c0, &c1, vmulq_f32(w2, a2));
        add_f64(&c2, &c3, vmulq_f32(w3, a3));
    }
    *nan = vmaxvq_u8(bad) != 0;
    return sum_f64(c0, c1, c2, c3);
}

static void vec_dot_f8_f8(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_f8_b128 *w = vw;
    const dc_block_f8_b128 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        bool         nan;
        const double acc = f8_block_sum(w[b].qs, a[b].qs, &nan);
        const float  bd  = nan ? NAN : (float)acc;
        sumf += (bd * a[b].d) * w[b].d;
    }
    *s = sumf;
}

/* ---- activation quantizers --------------------------------------------------------- */

/* max |x[0..n)| (n a multiple of 4) with FMAX: a NaN anywhere gives NaN. */
static inline float absmax_f32(const float *x, int n) {
    float32x4_t m = vabsq_f32(vld1q_f32(x));
    for (int j = 4; j < n; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
    return vmaxvq_f32(m);
}

/* 4 x int32x4 -> int8x16, keeping the low byte as the scalar (int8_t) cast. */
static inline int8x16_t narrow_s8(int32x4_t a, int32x4_t b, int32x4_t c, int32x4_t d) {
    const int16x8_t lo = vcombine_s16(vmovn_s32(a), vmovn_s32(b));
    const int16x8_t hi = vcombine_s16(vmovn_s32(c), vmovn_s32(d));
    return vcombine_s8(vmovn_s16(lo), vmovn_s16(hi));
}

/* q = rne(x * id) for 32 values; returns sum q. */
static inline int round_32(const float *x, float id, int8_t *q) {
    int32x4_t r[8];
    for (int j = 0; j < 8; j++) r[j] = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4 * j), id));
    vst1q_s8(q, narrow_s8(r[0], r[1], r[2], r[3]));
    vst1q_s8(q + 16, narrow_s8(r[4], r[5], r[6], r[7]));
    const int32x4_t t = vaddq_s32(vaddq_s32(vaddq_s32(r[0], r[1]), vaddq_s32(r[2], r[3])),
                                  vaddq_s32(vaddq_s32(r[4], r[5]), vaddq_s32(r[6], r[7])));
    return vaddvq_s32(t);
}

/* Scalar path for a 32-block holding inf or NaN (scalar.c, quantize_act_q8_0). */
static float round_32_scalar(const float *x, int8_t *q) {
    float amax = 0.0f;
    for (int j = 0; j < 32; j++)
        if (fabsf(x[j]) > amax) amax = fabsf(x[j]);
    const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < 32; j++) q[j] = (int8_t)dc_nearest_int(x[j] * id);
    return amax;
}

static void quantize_act_q8_0(const float *x, void *vy, int64_t n) {
    dc_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float *xb   = x + b * DC_QK8_0;
        float        amax = absmax_f32(xb, DC_QK8_0);
        if (amax <= FLT_MAX)
            round_32(xb, amax != 0.0f ? 127.0f / amax : 0.0f, y[b].qs);
        else
            amax = round_32_scalar(xb, y[b].qs);
        y[b].d = dc_fp32_to_fp16(amax / 127.0f);
    }
}

static void quantize_act_q8_1(const float *x, void *vy, int64_t n) {
    dc_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_1; b++) {
        const float *xb   = x + b * DC_QK8_1;
        float        amax = absmax_f32(xb, DC_QK8_1);
        int          sum  = 0;
        if (amax <= FLT_MAX) {
            sum = round_32(xb, amax != 0.0f ? 127.0f / amax : 0.0f, y[b].qs);
        } else {
            amax = round_32_scalar(xb, y[b].qs);
            for (int j = 0; j < DC_QK8_1; j++) sum += y[b].qs[j];
        }
        const float d = amax / 127.0f;
        y[b].d = dc_fp32_to_fp16(d);
        y[b].s = dc_fp32_to_fp16(d * (float)sum);
    }
}

/* Q8_K (quant_k.c): iscale = -127 / (signed value of largest |x|, first
 * wins), q = min(127, rne(iscale * x)), bsums, d = 1 / iscale. */
static void quantize_act_q8_k(const float *x, void *vy, int64_t n) {
    dc_block_q8_k *y = vy;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float *xb   = x + b * DC_QK_K;
        const float  amax = absmax_f32(xb, DC_QK_K);
        if (!(amax <= FLT_MAX)) {
            dc_quantize_row_q8_k(xb, &y[b], DC_QK_K);
            continue;
        }
        if (amax == 0.0f) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        int first = 0;
        while (fabsf(xb[first]) != amax) first++;
        const float iscale = -127.0f / xb[first];
        for (int j = 0; j < DC_QK_K; j += 16) {
            int32x4_t r[4];
            for (int k = 0; k < 4; k++)
                r[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(xb + j + 4 * k), iscale)),
                                 vdupq_n_s32(127));
            vst1q_s8(y[b].qs + j, narrow_s8(r[0], r[1], r[2], r[3]));
            y[b].bsums[j / 16] =
                (int16_t)vaddvq_s32(vaddq_s32(vaddq_s32(r[0], r[1]), vaddq_s32(r[2], r[3])));
        }
        y[b].d = 1 / iscale;
    }
}

static void quantize_act_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t   i = 0;
    for (; i + 4 <= n; i += 4) {
        const float32x4_t v = vld1q_f32(x + i);
        const uint32x4_t  u = vreinterpretq_u32_f32(v);
        uint16x4_t        h = vreinterpret_u16_f16(vcvt_f16_f32(v));
        /* a NaN becomes the reference's quiet NaN: sign | 0x7e00 */
        const uint16x4_t nan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
        const uint16x4_t ref = vorr_u16(vand_u16(vshrn_n_u32(u, 16), vdup_n_u16(0x8000)),
                                        vdup_n_u16(0x7e00));
        vst1_u16(y + i, vbsl_u16(nan, ref, h));
    }
    for (; i < n; i++) y[i] = dc_fp32_to_fp16(x[i]);
}

static void quantize_act_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t   i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t u = vld1q_u32((const uint32_t *)(x + i));
        /* (u + 0x7fff + lsb) >> 16: ties to even; NaN: top half | quiet bit */
        const uint32x4_t r = vaddq_u32(u, vaddq_u32(vdupq_n_u32(0x7fff),
                                                    vandq_u32(vshrq_n_u32(u, 16), vdupq_n_u32(1))));
        const uint32x4_t nan = vcgtq_u32(vandq_u32(u, vdupq_n_u32(0x7fffffff)), vdupq_n_u32(0x7f800000));
        const uint16x4_t q = vorr_u16(vshrn_n_u32(u, 16), vdup_n_u16(0x40));
        vst1_u16(y + i, vbsl_u16(vmovn_u32(nan), q, vshrn_n_u32(r, 16)));
    }
    for (; i < n; i++) y[i] = dc_fp32_to_bf16(x[i]);
}

/* dc_fp32_to_e4m3 on four lanes: NaN -> 0x7f, >= 448 -> 0x7e, normals by
 * rounding the bits, the subnormal band by rne(|x| * 2^9); sign on top. */
static inline uint32x4_t e4m3_4(float32x4_t v) {
    const uint32x4_t u    = vreinterpretq_u32_f32(v);
    const uint32x4_t a    = vandq_u32(u, vdupq_n_u32(0x7fffffff));
    const uint32x4_t sign = vandq_u32(vshrq_n_u32(u, 24), vdupq_n_u32(0x80));
    const uint32x4_t rn   = vsubq_u32(
        vshrq_n_u32(vaddq_u32(a, vaddq_u32(vdupq_n_u32(0x7ffff),
                                           vandq_u32(vshrq_n_u32(a, 20), vdupq_n_u32(1)))), 20),
        vdupq_n_u32(120u << 3));
    const uint32x4_t rs = vcvtnq_u32_f32(vmulq_n_f32(vreinterpretq_f32_u32(a), 512.0f));
    uint32x4_t c = vbslq_u32(vcgeq_u32(a, vdupq_n_u32(0x3c800000)), rn, rs);
    c = vbslq_u32(vcgeq_u32(a, vdupq_n_u32(0x43e00000)), vdupq_n_u32(0x7e), c);
    c = vbslq_u32(vcgtq_u32(a, vdupq_n_u32(0x7f800000)), vdupq_n_u32(0x7f), c);
    return vorrq_u32(c, sign);
}

/* float_conv.c's block quantizer: amax skips NaN (as `a > amax` does),
 * s = max(amax, 1e-4) / 448, q = e4m3(x / s) with a true division. */
static void quantize_act_f8(const float *x, void *vy, int64_t n) {
    dc_block_f8_b128 *y = vy;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const float *xb = x + b * DC_QK_F8;
        float32x4_t  m  = vdupq_n_f32(0);
        for (int j = 0; j < DC_QK_F8; j += 4) {
            const float32x4_t v = vld1q_f32(xb + j);
            m = vmaxq_f32(m, vbslq_f32(vceqq_f32(v, v), vabsq_f32(v), vdupq_n_f32(0)));
        }
        float amax = vmaxvq_f32(m);
        if (amax < 1e-4f) amax = 1e-4f;
        const float       s  = amax / 448.0f;
        const float32x4_t vs = vdupq_n_f32(s);
        y[b].d = s;
        for (int j = 0; j < DC_QK_F8; j += 16) {
            uint32x4_t c[4];
            for (int k = 0; k < 4; k++) c[k] = e4m3_4(vdivq_f32(vld1q_f32(xb + j + 4 * k), vs));
            const uint16x8_t lo = vcombine_u16(vmovn_u32(c[0]), vmovn_u32(c[1]));
            const uint16x8_t hi = vcombine_u16(vmovn_u32(c[2]), vmovn_u32(c[3]));
            vst1q_u8(y[b].qs + j, vcombine_u8(vmovn_u16(lo), vmovn_u16(hi)));
        }
    }
}

/* ---- KV-cache rows ----------------------------------------------------------------- */

/* Row values as f32, 16 at a time, exactly as scalar_rows.c's getters. */
static inline void row16_f16(const uint16_t *r, float32x4_t v[4]) {
    neon_h8_exact(vld1q_u16(r), &v[0], &v[1]);
    neon_h8_exact(vld1q_u16(r + 8), &v[2], &v[3]);
}

static inline void row16_bf16(const uint16_t *r, float32x4_t v[4]) {
    const uint16x8_t a = vld1q_u16(r), b = vld1q_u16(r + 8);
    v[0] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(a), 16));
    v[1] = vreinterpretq_f32_u32(vshll_high_n_u16(a, 16));
    v[2] = vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(b), 16));
    v[3] = vreinterpretq_f32_u32(vshll_high_n_u16(b, 16));
}

/* (float)qs * d: exact (8 x 11 significant bits). */
static inline void row16_q8(const int8_t *qs, float d, float32x4_t v[4]) {
    const int8x16_t  q  = vld1q_s8(qs);
    const int16x8_t  lo = vmovl_s8(vget_low_s8(q)), hi = vmovl_high_s8(q);
    v[0] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), d);
    v[1] = vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(lo)), d);
    v[2] = vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), d);
    v[3] = vmulq_n_f32(vcvtq_f32_s32(vmovl_high_s16(hi)), d);
}

/* E4M3 value * d (one rounding, as get_f8), a NaN code gives NAN. */
static inline void row16_f8(const uint8_t *qs, float d, float32x4_t v[4]) {
    const uint8x16_t c = vld1q_u8(qs);
    neon_e4m3_8(vget_low_u8(c), &v[0], &v[1]);
    neon_e4m3_8(vget_high_u8(c), &v[2], &v[3]);
    for (int k = 0; k < 4; k++) v[k] = vmulq_n_f32(v[k], d);
    if (neon_e4m3_any_nan(c)) {
        const uint8x16_t nan = vceqq_u8(vandq_u8(c, vdupq_n_u8(0x7f)), vdupq_n_u8(0x7f));
        const int16x8_t  lo = vmovl_s8(vget_low_s8(vreinterpretq_s8_u8(nan)));
        const int16x8_t  hi = vmovl_high_s8(vreinterpretq_s8_u8(nan));
        const uint32x4_t m[4] = {
            vreinterpretq_u32_s32(vmovl_s16(vget_low_s16(lo))), vreinterpretq_u32_s32(vmovl_high_s16(lo)),
            vreinterpretq_u32_s32(vmovl_s16(vget_low_s16(hi))), vreinterpretq_u32_s32(vmovl_high_s16(hi)),
        };
        for (int k = 0; k < 4; k++) v[k] = vbslq_f32(m[k], vdupq_n_f32(NAN), v[k]);
    }
}

/* Values 16i..16i+15 of a row of each cache type. */
#define ROW16_F32(r, i, v)                                                                  \
    do {                                                                                    \
        const float *p_ = (const float *)(r) + 16 * (i);                                   \
        for (int k_ = 0; k_ < 4; k_++) (v)[k_] = vld1q_f32(p_ + 4 * k_);                   \
    } while (0)
#define ROW16_F16(r, i, v)  row16_f16((const uint16_t *)(r) + 16 * (i), v)
#define ROW16_BF16(r, i, v) row16_bf16((const uint16_t *)(r) + 16 * (i), v)
#define ROW16_Q8_0(r, i, v)                                                                 \
    do {                                                                                    \
        const dc_block_q8_0 *b_ = (const dc_block_q8_0 *)(r) + (i) / 2;                    \
        row16_q8(b_->qs + 16 * ((i) % 2), dc_half_to_float(b_->d), v);                      \
    } while (0)
#define ROW16_F8(r, i, v)                                                                   \
    do {                                                                                    \
        const dc_block_f8_b128 *b_ = (const dc_block_f8_b128 *)(r) + (i) / 8;              \
        row16_f8(b_->qs + 16 * ((i) % 8), b_->d, v);                                        \
    } while (0)

/* n is a multiple of 16 for every cache type (32 / 128-blocks; F32 / F16 /
 * BF16 rows are multiples of 32 in the cache) except plain float rows,
 * whose tail goes through the scalar getter. */
#define ROW_KERNELS(T, ROW16, GET)                                                          \
    static void kq_dot_##T(int64_t n, float *s, const float *q, const void *r) {           \
        float32x4_t acc[4] = { vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0), vdupq_n_f32(0) }; \
        int64_t     i = 0;                                                                  \
        for (; i + 16 <= n; i += 16) {                                                      \
            float32x4_t v[4];                                                               \
            ROW16(r, i / 16, v);                                                            \
            for (int k = 0; k < 4; k++) acc[k] = vfmaq_f32(acc[k], vld1q_f32(q + i + 4 * k), v[k]); \
        }                                                                                   \
        float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3]))); \
        for (; i < n; i++) sum += q[i] * GET(r, i);                                         \
        *s = sum;                                                                           \
    }                                                                                       \
    static void axpy_##T(int64_t n, float *y, float v, const void *r) {                    \
        int64_t i = 0;                                                                      \
        for (; i + 16 <= n; i += 16) {                                                      \
            float32x4_t x[4];                                                               \
            ROW16(r, i / 16, x);                                                            \
            for (int k = 0; k < 4; k++)                                                     \
                vst1q_f32(y + i + 4 * k, vaddq_f32(vld1q_f32(y + i + 4 * k), vmulq_n_f32(x[k], v))); \
        }                                                                                   \
        for (; i < n; i++) y[i] += v * GET(r, i);                                           \
    }

static inline float get_f32(const void *r, int64_t i) { return ((const float *)r)[i]; }
static inline float get_f16(const void *r, int64_t i) {
    return dc_half_to_float(((const uint16_t *)r)[i]);
}
static inline float get_bf16(const void *r, int64_t i) {
    return dc_bfloat_to_float(((const uint16_t *)r)[i]);
}
/* block types: n is a multiple of the block, so never called */
static inline float get_none(const void *r, int64_t i) {
    (void)r;
    (void)i;
    return 0.0f;
}

ROW_KERNELS(f32, ROW16_F32, get_f32)
ROW_KERNELS(f16, ROW16_F16, get_f16)
ROW_KERNELS(bf16, ROW16_BF16, get_bf16)
ROW_KERNELS(q8_0, ROW16_Q8_0, get_none)
ROW_KERNELS(f8, ROW16_F8, get_none)

#define DEQUANT(T, ROW16, GET)                                                              \
    static void dequant_##T(const void *r, float *y, int64_t n) {                          \
        int64_t i = 0;                                                                      \
        for (; i + 16 <= n; i += 16) {                                                      \
            float32x4_t v[4];                                                               \
            ROW16(r, i / 16, v);                                                            \
            for (int k = 0; k < 4; k++) vst1q_f32(y + i + 4 * k, v[k]);                    \
        }                                                                                   \
        for (; i < n; i++) y[i] = GET(r, i);                                                \
    }

DEQUANT(f16, ROW16_F16, get_f16)
DEQUANT(bf16, ROW16_BF16, get_bf16)
DEQUANT(q8_0, ROW16_Q8_0, get_none)

/* dc_dequantize_row_f8_b128: a NaN code keeps its sign (-NAN for 0xff),
 * unlike the cache getter above. */
static void dequant_f8(const void *r, float *y, int64_t n) {
    const dc_block_f8_b128 *b = r;
    for (int64_t blk = 0; blk < n / DC_QK_F8; blk++) {
        for (int j = 0; j < DC_QK_F8; j += 16) {
            const uint8x16_t c = vld1q_u8(b[blk].qs + j);
            float32x4_t      v[4];
            neon_e4m3_8(vget_low_u8(c), &v[0], &v[1]);
            neon_e4m3_8(vget_high_u8(c), &v[2], &v[3]);
            if (neon_e4m3_any_nan(c)) {
                for (int k = 0; k < 16; k++) {
                    const uint8_t ck = b[blk].qs[j + k];
                    if ((ck & 0x7f) == 0x7f) {
                        float t[4];
                        vst1q_f32(t, v[k / 4]);
                        t[k % 4] = (ck & 0x80) ? -NAN : NAN;
                        v[k / 4] = vld1q_f32(t);
                    }
                }
            }
            for (int k = 0; k < 4; k++)
                vst1q_f32(y + blk * DC_QK_F8 + j + 4 * k, vmulq_n_f32(v[k], b[blk].d));
        }
    }
}

/* ---- table ------------------------------------------------------------------------- */

void dc_cpu_kernels_init_neon(dc_cpu_kernels *k, const dc_cpu_features *f) {
    k->vec_dot[dc_type_slot(DC_TYPE_F32)]          = vec_dot_f32;
    k->vec_dot[dc_type_slot(DC_TYPE_F16)]          = vec_dot_f16;
    k->vec_dot[dc_type_slot(DC_TYPE_BF16)]         = vec_dot_bf16;
    k->vec_dot[dc_type_slot(DC_TYPE_F8_E4M3_B128)] = vec_dot_f8_f8;

    k->quantize_act[dc_type_slot(DC_TYPE_F16)]          = quantize_act_f16;
    k->quantize_act[dc_type_slot(DC_TYPE_BF16)]         = quantize_act_bf16;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_0)]         = quantize_act_q8_0;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_1)]         = quantize_act_q8_1;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_K)]         = quantize_act_q8_k;
    k->quantize_act[dc_type_slot(DC_TYPE_F8_E4M3_B128)] = quantize_act_f8;

    static const struct {
        dc_type       t;
        dc_kq_dot_fn  dot;
        dc_axpy_fn    axpy;
        dc_dequant_fn dequant;   /* NULL: keep the reference (F32 is a copy) */
    } rows[] = {
        { DC_TYPE_F32,          kq_dot_f32,  axpy_f32,  NULL },
        { DC_TYPE_F16,          kq_dot_f16,  axpy_f16,  dequant_f16 },
        { DC_TYPE_BF16,         kq_dot_bf16, axpy_bf16, dequant_bf16 },
        { DC_TYPE_Q8_0,         kq_dot_q8_0, axpy_q8_0, dequant_q8_0 },
        { DC_TYPE_F8_E4M3_B128, kq_dot_f8,   axpy_f8,   dequant_f8 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const int sl = dc_type_slot(rows[i].t);
        k->kq_dot[sl] = rows[i].dot;
        k->axpy[sl]   = rows[i].axpy;
        if (rows[i].dequant) k->dequant[sl] = rows[i].dequant;
    }

    /* integer dots: plain NEON, then SDOT where the CPU has it */
    dc_cpu_kernels_init_neon_quant(k);
    if (f->dotprod) dc_cpu_kernels_init_neon_dotprod(k);
}
