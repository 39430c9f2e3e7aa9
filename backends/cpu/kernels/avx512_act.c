/*
 * avx512_act.c - AVX-512 activation quantizers (quantize_act): the rounding of
 * f32 activations to Q8_0, Q8_1, Q8_K, F16, BF16 and F8_E4M3_B128 before a
 * dot with a weight row. Each one writes the same bytes as its scalar twin
 * (scalar.c, quant_k.c, float_conv.c) for every input, NaN and inf included:
 *   - absolute maxima ignore NaN exactly as `if (v > amax)` does (VMAXPS
 *     returns its second operand when one is NaN, so the running maximum is
 *     always the second operand);
 *   - the per-element float ops are the scalar ones, in the same order, and
 *     the per-block scalars (127/amax, f16 scales, 1/iscale) are computed
 *     with the scalar code itself;
 *   - rounding is VCVTPS2DQ in the current mode (rintf), clamped the way
 *     dc_nearest_int clamps, then truncated to int8 as the scalar cast is.
 * F16 uses VCVTPS2PH (ties to even) and patches NaN lanes to the software
 * converter's quiet NaN; BF16 and E4M3 are the integer rounding of
 * float_conv.c on 16 lanes.
 */
#include "avx512_impl.h"

/* NaN-ignoring running maximum of |x| over n floats (n a multiple of 16). */
AVX512_INLINE float absmax_n(const float *x, int n) {
    __m512 m = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) m = _mm512_max_ps(avx512_abs_ps(_mm512_loadu_ps(x + i)), m);
    return avx512_hmax_ps(m);
}

/* 16 lanes rne(x * s) truncated to int8. */
AVX512_INLINE __m128i q8_16(__m512 x, __m512 s) {
    return _mm512_cvtepi32_epi8(avx512_nearest_int(_mm512_mul_ps(x, s)));
}

/* ---- Q8_0 / Q8_1 ---------------------------------------------------------------- */

static void quantize_act_q8_0(const float *x, void *vy, int64_t n) {
    dc_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float *xb   = x + b * DC_QK8_0;
        const float  amax = absmax_n(xb, DC_QK8_0);
        const float  id   = amax != 0.0f ? 127.0f / amax : 0.0f;
        const __m512 idv  = _mm512_set1_ps(id);
        y[b].d = dc_fp32_to_fp16(amax / 127.0f);
        _mm_storeu_si128((__m128i *)y[b].qs, q8_16(_mm512_loadu_ps(xb), idv));
        _mm_storeu_si128((__m128i *)(y[b].qs + 16), q8_16(_mm512_loadu_ps(xb + 16), idv));
    }
}

static void quantize_act_q8_1(const float *x, void *vy, int64_t n) {
    dc_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_1; b++) {
        const float *xb   = x + b * DC_QK8_1;
        const float  amax = absmax_n(xb, DC_QK8_1);
        const float  d    = amax / 127.0f;
        const float  id   = amax != 0.0f ? 127.0f / amax : 0.0f;
        const __m512 idv  = _mm512_set1_ps(id);
        const __m128i q0  = q8_16(_mm512_loadu_ps(xb), idv);
        const __m128i q1  = q8_16(_mm512_loadu_ps(xb + 16), idv);
        _mm_storeu_si128((__m128i *)y[b].qs, q0);
        _mm_storeu_si128((__m128i *)(y[b].qs + 16), q1);
        /* the sum of the stored int8 codes (exact in any order) */
        const int sum = _mm512_reduce_add_epi32(
            _mm512_add_epi32(_mm512_cvtepi8_epi32(q0), _mm512_cvtepi8_epi32(q1)));
        y[b].d = dc_fp32_to_fp16(d);
        y[b].s = dc_fp32_to_fp16(d * (float)sum);
    }
}

/* ---- Q8_K -------------------------------------------------------------------------- */

/* dc_quantize_row_q8_k: the signed element of largest |x| (first wins),
 * iscale = -127/max, q = min(127, rne(iscale * x)), bsums of the stored
 * codes, d = 1/iscale; an all-zero (or all-NaN) block is all zero bytes. */
static void quantize_act_q8_k(const float *x, void *vy, int64_t n) {
    dc_block_q8_k *y = vy;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float *xb   = x + b * DC_QK_K;
        const float  amax = absmax_n(xb, DC_QK_K);
        if (!amax) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        float max = 0.0f;
        for (int i = 0; i < DC_QK_K; i += 16) {
            const __mmask16 hit = _mm512_cmp_ps_mask(avx512_abs_ps(_mm512_loadu_ps(xb + i)),
                                                     _mm512_set1_ps(amax), _CMP_EQ_OQ);
            if (hit) {
                max = xb[i + __builtin_ctz(hit)];
                break;
            }
        }
        const float  iscale = -127.0f / max;
        const __m512 is     = _mm512_set1_ps(iscale);
        for (int j = 0; j < DC_QK_K / 16; j++) {
            const __m512i v = avx512_nearest_int(_mm512_mul_ps(is, _mm512_loadu_ps(xb + 16 * j)));
            const __m128i q = _mm512_cvtepi32_epi8(_mm512_min_epi32(v, _mm512_set1_epi32(127)));
            _mm_storeu_si128((__m128i *)(y[b].qs + 16 * j), q);
            y[b].bsums[j] = (int16_t)_mm512_reduce_add_epi32(_mm512_cvtepi8_epi32(q));
        }
        y[b].d = 1 / iscale;
    }
}

/* ---- F16 / BF16 ---------------------------------------------------------------------- */

/* dc_fp32_to_fp16 on 16 lanes: VCVTPS2PH ties-to-even agrees on every
 * non-NaN input (overflow to inf at 65520, subnormals rounded); NaN lanes
 * become sign | 0x7e00. */
AVX512_INLINE __m256i f16_16(__m512 x) {
    const __m256i   h   = _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
    const __m512i   q   = _mm512_or_si512(
        _mm512_and_si512(_mm512_srli_epi32(_mm512_castps_si512(x), 16), _mm512_set1_epi32(0x8000)),
        _mm512_set1_epi32(0x7e00));
    return _mm256_mask_mov_epi16(h, nan, _mm512_cvtepi32_epi16(q));
}

static void quantize_act_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), f16_16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm256_mask_storeu_epi16(y + i, m, f16_16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

/* dc_fp32_to_bf16: NaN -> top half | quiet bit, else round to nearest even
 * on the bits. */
AVX512_INLINE __m256i bf16_16(__m512 x) {
    const __m512i u = _mm512_castps_si512(x);
    const __m512i   a   = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(a, _mm512_set1_epi32(0x7f800000));
    const __m512i hi  = _mm512_srli_epi32(u, 16);
    const __m512i rnd = _mm512_add_epi32(_mm512_add_epi32(u, _mm512_set1_epi32(0x7fff)),
                                         _mm512_and_si512(hi, _mm512_set1_epi32(1)));
    const __m512i r = _mm512_mask_blend_epi32(nan, _mm512_srli_epi32(rnd, 16),
                                              _mm512_or_si512(hi, _mm512_set1_epi32(0x40)));
    return _mm512_cvtepi32_epi16(r);
}

static void quantize_act_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(y + i), bf16_16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        const __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm256_mask_storeu_epi16(y + i, m, bf16_16(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

/* ---- F8_E4M3_B128 ---------------------------------------------------------------------- */

/* dc_fp32_to_e4m3 on 16 lanes: NaN -> 0x7F, |f| >= 448 -> 0x7E, normal range
 * rounded on the bits (ties to even), below 2^-6 rint(|f| * 2^9); sign kept. */
AVX512_INLINE __m128i e4m3_16(__m512 f) {
    const __m512i u    = _mm512_castps_si512(f);
    const __m512i sign = _mm512_and_si512(_mm512_srli_epi32(u, 24), _mm512_set1_epi32(0x80));
    const __m512i a    = _mm512_and_si512(u, _mm512_set1_epi32(0x7fffffff));
    const __m512i bump = _mm512_and_si512(_mm512_srli_epi32(a, 20), _mm512_set1_epi32(1));
    const __m512i rnd  = _mm512_add_epi32(_mm512_add_epi32(a, _mm512_set1_epi32(0x7ffff)), bump);
    const __m512i norm = _mm512_sub_epi32(_mm512_srli_epi32(rnd, 20), _mm512_set1_epi32(120 << 3));
    const __m512  fa   = _mm512_castsi512_ps(a);
    const __m512i sub  = _mm512_cvtps_epi32(_mm512_mul_ps(fa, _mm512_set1_ps(0x1p9f)));
    __m512i c = _mm512_mask_blend_epi32(_mm512_cmpge_epi32_mask(a, _mm512_set1_epi32(0x3c800000)),
                                        sub, norm);
    c = _mm512_mask_mov_epi32(c, _mm512_cmpge_epi32_mask(a, _mm512_set1_epi32(0x43e00000)),
                              _mm512_set1_epi32(0x7e));
    c = _mm512_mask_mov_epi32(c, _mm512_cmpgt_epi32_mask(a, _mm512_set1_epi32(0x7f800000)),
                              _mm512_set1_epi32(0x7f));
    return _mm512_cvtepi32_epi8(_mm512_or_si512(c, sign));
}

/* dc_quantize_row_f8_b128: s = max(amax, 1e-4) / 448, q = e4m3(x / s). */
static void quantize_act_f8(const float *x, void *vy, int64_t n) {
    dc_block_f8_b128 *y = vy;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const float *xb   = x + b * DC_QK_F8;
        float        amax = absmax_n(xb, DC_QK_F8);
        if (amax < 1e-4f) amax = 1e-4f;
        const float  s  = amax / 448.0f;
        const __m512 sv = _mm512_set1_ps(s);
        y[b].d = s;
        for (int i = 0; i < DC_QK_F8; i += 16)
            _mm_storeu_si128((__m128i *)(y[b].qs + i),
                             e4m3_16(_mm512_div_ps(_mm512_loadu_ps(xb + i), sv)));
    }
}

/* ---- table ------------------------------------------------------------------------------ */

void dc_cpu_avx512_init_act(dc_cpu_kernels *k, const dc_cpu_features *f) {
    (void)f;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_0)]         = quantize_act_q8_0;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_1)]         = quantize_act_q8_1;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_K)]         = quantize_act_q8_k;
    k->quantize_act[dc_type_slot(DC_TYPE_F16)]          = quantize_act_f16;
    k->quantize_act[dc_type_slot(DC_TYPE_BF16)]         = quantize_act_bf16;
    k->quantize_act[dc_type_slot(DC_TYPE_F8_E4M3_B128)] = quantize_act_f8;
}
