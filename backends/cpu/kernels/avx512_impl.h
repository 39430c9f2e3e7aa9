/*
 * avx512_impl.h - what the AVX-512 kernel files (avx512.c, avx512_float.c,
 * avx512_quant.c, avx512_kq.c, avx512_act.c) share: small inline helpers and
 * the per-family init functions that dc_cpu_kernels_init_avx512 calls.
 * Included only by files compiled with the AVX-512 target flags
 * (F/BW/VL/VNNI/BF16; no DQ, no VBMI): nothing here may reach generic code.
 *
 * Every integer dot helper takes `vnni` as a compile-time constant (the
 * kernels are always_inline templates instantiated twice): true uses
 * VPDPBUSD / VPDPWSSD, false the AVX512BW pair VPMADDUBSW + VPMADDWD. Both
 * give the same int32 lanes (callers keep every u8*s8 pair sum inside int16),
 * so the VNNI choice never changes a result bit.
 */
#ifndef DEEPC_CPU_AVX512_IMPL_H
#define DEEPC_CPU_AVX512_IMPL_H

#include <immintrin.h>

#include "kernels.h"

#include "../../../lib/tensor/quant_impl.h"

#define AVX512_INLINE static inline __attribute__((always_inline))

/* ---- per-family init (one per file) ------------------------------------------ */
void dc_cpu_avx512_init_float(dc_cpu_kernels *k, const dc_cpu_features *f);
void dc_cpu_avx512_init_quant(dc_cpu_kernels *k, const dc_cpu_features *f);
void dc_cpu_avx512_init_kq(dc_cpu_kernels *k, const dc_cpu_features *f);
void dc_cpu_avx512_init_act(dc_cpu_kernels *k, const dc_cpu_features *f);

/* ---- integer dots ------------------------------------------------------------ */

/* acc.i32[l] += sum_{j<4} u.u8[4l+j] * s.i8[4l+j]. Without VNNI the pair sums
 * pass through int16, so |u*s| pair sums must stay below 2^15 (true for every
 * caller: |u| <= 128, |s| <= 127). */
AVX512_INLINE __m512i avx512_dot_u8s8(__m512i acc, __m512i u, __m512i s, const bool vnni) {
    if (vnni) return _mm512_dpbusd_epi32(acc, u, s);
    const __m512i p = _mm512_maddubs_epi16(u, s);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(p, _mm512_set1_epi16(1)));
}

/* acc.i32[l] += x.i16[2l] * y.i16[2l] + x.i16[2l+1] * y.i16[2l+1]. */
AVX512_INLINE __m512i avx512_dot_i16(__m512i acc, __m512i x, __m512i y, const bool vnni) {
    if (vnni) return _mm512_dpwssd_epi32(acc, x, y);
    return _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
}

/* ---- prefetch ---------------------------------------------------------------- */

/* Weight rows stream from DRAM once per token. The hardware prefetcher
 * follows the stream but not far enough ahead of the decode work: measured
 * on Zen 5, Q4_K GEMV from DRAM gains ~18% when each block also prefetches
 * the lines AVX512_PREFETCH bytes ahead (rows of a weight are contiguous,
 * so this runs into the next rows; a prefetch never faults). */
#define AVX512_PREFETCH 6144

AVX512_INLINE void avx512_prefetch_ahead(const uint8_t *p, size_t bytes) {
    /* the address may lie past the weight tensor: form it as an integer */
    const uintptr_t ahead = (uintptr_t)p + AVX512_PREFETCH;
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)(ahead + o), _MM_HINT_T0);
}

/* ---- reductions (one fixed order, so every caller rounds alike) ------------- */

AVX512_INLINE float avx512_hsum128_ps(__m128 q) {
    const __m128 p = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(p, _mm_movehdup_ps(p)));
}

AVX512_INLINE float avx512_hsum256_ps(__m256 h) {
    return avx512_hsum128_ps(_mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1)));
}

/* upper 256 bits of a zmm of floats (AVX512F only: no DQ extract) */
AVX512_INLINE __m256 avx512_hi256_ps(__m512 v) {
    return _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
}

AVX512_INLINE float avx512_hsum_ps(__m512 v) {
    return avx512_hsum256_ps(_mm256_add_ps(_mm512_castps512_ps256(v), avx512_hi256_ps(v)));
}

AVX512_INLINE double avx512_hsum_pd(__m512d v) {
    const __m256d h = _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));
    const __m128d q = _mm_add_pd(_mm256_castpd256_pd128(h), _mm256_extractf128_pd(h, 1));
    return _mm_cvtsd_f64(_mm_add_sd(q, _mm_unpackhi_pd(q, q)));
}

AVX512_INLINE float avx512_hmax_ps(__m512 v) {
    const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(v), avx512_hi256_ps(v));
    const __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    const __m128 p = _mm_max_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_max_ss(p, _mm_movehdup_ps(p)));
}

/* ---- conversions ------------------------------------------------------------- */

/* One f16 -> f32 (F16C; exact for every finite code). */
AVX512_INLINE float avx512_h2f(uint16_t h) {
    return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

/* |x| of 16 floats (AVX512F integer AND; _mm512_and_ps would need DQ). */
AVX512_INLINE __m512 avx512_abs_ps(__m512 x) {
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}

/* dc_nearest_int on 16 lanes: round half to even in the current mode (as
 * rintf), lanes with !(|v| <= 4194303) (inf, NaN) clamped to +-4194303 the
 * way the scalar helper does. */
AVX512_INLINE __m512i avx512_nearest_int(__m512 v) {
    const __m512i   r   = _mm512_cvtps_epi32(v);
    const __mmask16 ok  = _mm512_cmp_ps_mask(avx512_abs_ps(v), _mm512_set1_ps(4194303.0f),
                                             _CMP_LE_OQ);
    const __mmask16 pos = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ);
    const __m512i   big = _mm512_mask_blend_epi32(pos, _mm512_set1_epi32(-4194303),
                                                  _mm512_set1_epi32(4194303));
    return _mm512_mask_blend_epi32(ok, big, r);
}

/* ---- E4M3 -> bf16 ------------------------------------------------------------ */

/* bf16 bits of the E4M3 magnitude code m (0..127): k * 2^-9 exactly (E4M3
 * has 3 mantissa bits, bf16 7), and the NaN code 0x7F as a quiet NaN, so a
 * NaN code poisons any product it meets (the scalar NaN rule, for free). */
extern const uint16_t dc_cpu_avx512_e4m3_bf16[128];

/* 32 E4M3 codes (u8 zero-extended in the 16-bit lanes of c) -> 32 bf16
 * values, sign included. t[0..3] hold the table in four zmm of 32 words. */
AVX512_INLINE __m512i avx512_e4m3_to_bf16(__m512i c, const __m512i t[4]) {
    const __m512i lo  = _mm512_permutex2var_epi16(t[0], c, t[1]);   /* m 0..63   */
    const __m512i hi  = _mm512_permutex2var_epi16(t[2], c, t[3]);   /* m 64..127 */
    const __m512i mag = _mm512_mask_blend_epi16(_mm512_test_epi16_mask(c, _mm512_set1_epi16(0x40)),
                                                lo, hi);
    /* mag | (c << 8 & 0x8000) (0xF8: A | (B & C)): the code's sign onto the bf16 sign */
    return _mm512_ternarylogic_epi32(mag, _mm512_slli_epi16(c, 8), _mm512_set1_epi16((short)0x8000),
                                     0xF8);
}

AVX512_INLINE void avx512_e4m3_table(__m512i t[4]) {
    for (int i = 0; i < 4; i++) t[i] = _mm512_loadu_si512(dc_cpu_avx512_e4m3_bf16 + 32 * i);
}

/* bf16 words of v -> f32: the even words and the odd words. */
AVX512_INLINE __m512 avx512_bf16_even(__m512i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
}
AVX512_INLINE __m512 avx512_bf16_odd(__m512i v) {
    return _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32((int)0xffff0000u)));
}

#endif /* DEEPC_CPU_AVX512_IMPL_H */
