/*
 * avx2_impl.h - what the AVX2 kernel files share: small inline helpers and
 * the entry points that avx2.c's dc_cpu_kernels_init_avx2 calls to fill the
 * table part by part. Included only by files built with -mavx2 -mfma -mf16c
 * (the deepc_cpu_avx2 static library); never by generic code.
 *
 *   avx2.c        init; F32 / F16 / BF16 / F8 dots; activation quantizers
 *   avx2_quant.c  legacy 32-block and K-quant dots, gemm tiles, dequant
 *   avx2_rows.c   KV-cache rows (kq_dot, axpy, dequant) of the cache types
 *
 * No AVX-512 and no AVX-VNNI anywhere: int8 products go through
 * maddubs (u8 x s8 -> pairs of s16) and madd (-> s32), with operand ranges
 * kept far enough from 32767 that maddubs never saturates (each use says
 * why). f16 fields are widened with F16C (exact for every code; a
 * signalling NaN comes back quiet, the one difference from
 * dc_half_to_float).
 */
#ifndef DEEPC_CPU_AVX2_IMPL_H
#define DEEPC_CPU_AVX2_IMPL_H

#include "kernels.h"

#include "../../../lib/tensor/quant_impl.h"

#include <immintrin.h>

/* Parts of the AVX2 table (avx2_quant.c, avx2_rows.c). */
void dc_cpu_avx2_init_quant(dc_cpu_kernels *k);
void dc_cpu_avx2_init_rows(dc_cpu_kernels *k);

/* f16 bits -> f32 (F16C). */
static inline float avx2_h2f(uint16_t h) {
    return _cvtsh_ss(h);
}

/* Sum of the 8 lanes, always in the same order: (lo + hi) then pairs. */
static inline float avx2_hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s        = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s        = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline double avx2_hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s         = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

/* 32 products u[i] * s[i] (u unsigned bytes, s signed) summed in fours into
 * 8 int32 lanes. Exact while |u[i] s[i] + u[i+1] s[i+1]| <= 32767. */
static inline __m256i avx2_dot_u8s8(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/* 8 E4M3 codes (low 8 bytes of c) -> their exact f32 values, NaN codes
 * aside ((c & 0x7F) == 0x7F, tested by the callers). With the code in the
 * high byte of a 16-bit lane, an arithmetic shift by one and clearing bit 14
 * leave sign << 15 | (c & 0x7F) << 7: the f16 of e4m3(c) * 2^-8, subnormal
 * codes included (f16 subnormal m * 2^-17 = m * 2^-9 * 2^-8). F16C widens
 * it exactly and the 2^8 comes back exactly. */
static inline __m256 avx2_e4m3_to_ps(__m128i c) {
    const __m128i c8 = _mm_unpacklo_epi8(_mm_setzero_si128(), c);
    const __m128i h  = _mm_andnot_si128(_mm_set1_epi16(0x4000), _mm_srai_epi16(c8, 1));
    return _mm256_mul_ps(_mm256_cvtph_ps(h), _mm256_set1_ps(256.0f));
}

#endif /* DEEPC_CPU_AVX2_IMPL_H */
