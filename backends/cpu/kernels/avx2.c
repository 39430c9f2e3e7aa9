/*
 * avx2.c - AVX2 + FMA + F16C kernels (the deepc_cpu_avx2 library, built with
 * -mavx2 -mfma -mf16c and nothing more, so it runs on any x86-64 with AVX2;
 * dispatch.c calls dc_cpu_kernels_init_avx2 only when cpuid and XCR0 say so).
 * On AVX-512 machines avx512.c overrides on top of this table.
 *
 * This file: the table entry point, the float dots (F32, F16, BF16), the
 * exact FP8 dot, and the activation quantizers. The integer block formats
 * are in avx2_quant.c, the KV-cache rows in avx2_rows.c.
 *
 *   F32 / F16 / BF16  products summed in f64 lanes (scalar.c sums in double);
 *                     an f16 x f16 product is exact in f32 (11-bit
 *                     significands), so F16 multiplies in f32 and widens.
 *   F8_E4M3_B128      exact mode (docs/fp8.md §5): each 128-block's products
 *                     are exact in f32 and their sum exact in f64 lanes
 *                     (128 * 2^36 < 2^53), so the block sum bd is scalar.c's
 *                     to the bit; (bd * s_a) * s_w is summed over blocks in
 *                     f32 in K order: the same bits as scalar, gemm included.
 *   quantize_act      the same bytes as scalar.c for every input: the same
 *                     f32 operations, RNE through _mm256_cvtps_epi32 under
 *                     the default MXCSR, and scalar.c's clamp of
 *                     dc_nearest_int and int8 truncation reproduced, so
 *                     inf / NaN inputs match too.
 */
#include "avx2_impl.h"

/* ---- float dots ------------------------------------------------------------------ */

static void vec_dot_f32(int64_t n, float *s, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    __m256d      acc[4] = { 0 };
    int64_t      i      = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm256_fmadd_pd(_mm256_cvtps_pd(_mm_loadu_ps(w + i + 4 * j)),
                                     _mm256_cvtps_pd(_mm_loadu_ps(a + i + 4 * j)), acc[j]);
    double sum =
        avx2_hsum_pd(_mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3])));
    for (; i < n; i++) sum += (double)w[i] * (double)a[i];
    *s = (float)sum;
}

/* exact f32 products of 8 halves, widened and added into two f64 lanes */
static inline void f16_step(const uint16_t *w, const uint16_t *a, __m256d *lo, __m256d *hi) {
    const __m256 p = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)w)),
                                   _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)a)));
    *lo            = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(p)));
    *hi            = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(p, 1)));
}

static void vec_dot_f16(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    __m256d         acc[4] = { 0 };
    int64_t         i      = 0;
    for (; i + 16 <= n; i += 16) {
        f16_step(w + i, a + i, &acc[0], &acc[1]);
        f16_step(w + i + 8, a + i + 8, &acc[2], &acc[3]);
    }
    double sum =
        avx2_hsum_pd(_mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3])));
    for (; i < n; i++) sum += (double)avx2_h2f(w[i]) * (double)avx2_h2f(a[i]);
    *s = (float)sum;
}

/* 4 bf16 -> f64 (exact) */
static inline __m256d bf16x4_pd(const uint16_t *p) {
    const __m128i v = _mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)p));
    return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(v, 16)));
}

/* bf16 products can leave the f32 range, so they are formed in f64 */
static void vec_dot_bf16(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    __m256d         acc[4] = { 0 };
    int64_t         i      = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm256_fmadd_pd(bf16x4_pd(w + i + 4 * j), bf16x4_pd(a + i + 4 * j), acc[j]);
    double sum =
        avx2_hsum_pd(_mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3])));
    for (; i < n; i++) sum += (double)dc_bfloat_to_float(w[i]) * (double)dc_bfloat_to_float(a[i]);
    *s = (float)sum;
}

/* ---- FP8 ----------------------------------------------------------------------- */

/* One block's 128 codes -> 16 x 8 f32 values times 2^-8, by the f16 trick of
 * avx2_e4m3_to_ps on 32 codes at a time (each value then has a 4-bit
 * significand, so a product of two is exact in f32).
 * The element order inside the block is permuted (unpack works within
 * 128-bit lanes), the same way for every block, which an exact sum does not
 * see. Returns whether the block holds a NaN code. */
static inline bool f8_decode(const uint8_t *qs, __m256 v[16]) {
    const __m256i sign = _mm256_set1_epi8((char)0x80), ones = _mm256_set1_epi8((char)0xFF);
    __m256i       nan = _mm256_setzero_si256();
    for (int i = 0; i < 4; i++) {
        const __m256i c  = _mm256_loadu_si256((const __m256i *)(qs + 32 * i));
        nan              = _mm256_or_si256(nan, _mm256_cmpeq_epi8(_mm256_or_si256(c, sign), ones));
        const __m256i lo = _mm256_unpacklo_epi8(_mm256_setzero_si256(), c);
        const __m256i hi = _mm256_unpackhi_epi8(_mm256_setzero_si256(), c);
        const __m256i hl = _mm256_andnot_si256(_mm256_set1_epi16(0x4000), _mm256_srai_epi16(lo, 1));
        const __m256i hh = _mm256_andnot_si256(_mm256_set1_epi16(0x4000), _mm256_srai_epi16(hi, 1));
        v[4 * i + 0]     = _mm256_cvtph_ps(_mm256_castsi256_si128(hl));
        v[4 * i + 1]     = _mm256_cvtph_ps(_mm256_extracti128_si256(hl, 1));
        v[4 * i + 2]     = _mm256_cvtph_ps(_mm256_castsi256_si128(hh));
        v[4 * i + 3]     = _mm256_cvtph_ps(_mm256_extracti128_si256(hh, 1));
    }
    return !_mm256_testz_si256(nan, nan);
}

/* Exact dot of two decoded blocks: f32 products exact, their sum exact in
 * f64 lanes (< 2^43 units of 2^-34), and 2^16 puts the scale back, so the
 * result is scalar.c's f32(isum * 2^-18) to the bit. */
static inline float f8_dot(const __m256 w[16], const __m256 a[16]) {
    __m256d acc[4] = { 0 };
    for (int i = 0; i < 16; i += 2) {
        const __m256 p0 = _mm256_mul_ps(w[i], a[i]), p1 = _mm256_mul_ps(w[i + 1], a[i + 1]);
        acc[0] = _mm256_add_pd(acc[0], _mm256_cvtps_pd(_mm256_castps256_ps128(p0)));
        acc[1] = _mm256_add_pd(acc[1], _mm256_cvtps_pd(_mm256_extractf128_ps(p0, 1)));
        acc[2] = _mm256_add_pd(acc[2], _mm256_cvtps_pd(_mm256_castps256_ps128(p1)));
        acc[3] = _mm256_add_pd(acc[3], _mm256_cvtps_pd(_mm256_extractf128_ps(p1, 1)));
    }
    const __m256d sum = _mm256_add_pd(_mm256_add_pd(acc[0], acc[1]), _mm256_add_pd(acc[2], acc[3]));
    return (float)(avx2_hsum_pd(sum) * 0x1p16);
}

/* A tile of FP8 dots: y[c][r] = sum over blocks, in K order, of
 * (bd * s_a) * s_w. Every bd is exact, so the loop order is free: blocks
 * go in chunks of F8_CHUNK, the chunk's activation blocks are decoded once
 * for all rows, and each weight block once for all columns. vec_dot is the
 * 1 x 1 tile. */
#define F8_CHUNK 8
static void f8_tile(int64_t n, float *const *y, const void *vw, size_t ldw, const void *const *va,
                    int nr, int nc) {
    const int64_t nb                              = n / DC_QK_F8;
    float         sum[DC_GEMM_TILE][DC_GEMM_TILE] = { { 0 } };
    __m256        ad[DC_GEMM_TILE][F8_CHUNK][16];
    bool          anan[DC_GEMM_TILE][F8_CHUNK];
    for (int64_t b0 = 0; b0 < nb; b0 += F8_CHUNK) {
        const int cnt = nb - b0 < F8_CHUNK ? (int)(nb - b0) : F8_CHUNK;
        for (int c = 0; c < nc; c++)
            for (int i = 0; i < cnt; i++)
                anan[c][i] = f8_decode(((const dc_block_f8_b128 *)va[c])[b0 + i].qs, ad[c][i]);
        for (int r = 0; r < nr; r++) {
            const dc_block_f8_b128 *w =
                (const dc_block_f8_b128 *)((const char *)vw + (size_t)r * ldw) + b0;
            for (int i = 0; i < cnt; i++) {
                __m256     wd[16];
                const bool wnan = f8_decode(w[i].qs, wd);
                for (int c = 0; c < nc; c++) {
                    const float bd = wnan || anan[c][i] ? NAN : f8_dot(wd, ad[c][i]);
                    sum[r][c] += (bd * ((const dc_block_f8_b128 *)va[c])[b0 + i].d) * w[i].d;
                }
            }
        }
    }
    for (int r = 0; r < nr; r++)
        for (int c = 0; c < nc; c++) y[c][r] = sum[r][c];
}

static void vec_dot_f8(int64_t n, float *s, const void *vw, const void *va) {
    float *const y[1] = { s };
    f8_tile(n, y, vw, 0, &va, 1, 1);
}

static void gemm_f8(int64_t n, float *const *y, const void *vw, size_t ldw, const void *const *va,
                    int nr, int nc) {
    f8_tile(n, y, vw, ldw, va, nr, nc);
}

/* ---- activation quantizers: shared pieces ------------------------------------ */

static inline int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s         = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s         = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
}

/* 8 x int32 lanes (each 0..255) of four vectors -> 32 bytes in lane order
 * a0..a7 b0..b7 c0..c7 d0..d7. */
static inline __m256i pack_u8(__m256i a, __m256i b, __m256i c, __m256i d) {
    const __m256i ab = _mm256_packus_epi32(a, b), cd = _mm256_packus_epi32(c, d);
    const __m256i v = _mm256_packus_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline __m256 abs_ps(__m256 x) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}

/* max |x| over n (multiple of 32) floats with scalar.c's rule "if (v > amax)":
 * _mm256_max_ps(v, m) returns m when v is NaN, so NaNs are skipped too, and
 * max is exact, so the order does not matter. */
static inline float absmax(const float *x, int n) {
    __m256 m0 = _mm256_setzero_ps(), m1 = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        m0 = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + i)), m0);
        m1 = _mm256_max_ps(abs_ps(_mm256_loadu_ps(x + i + 8)), m1);
    }
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(_mm256_max_ps(m0, m1)),
                          _mm256_extractf128_ps(_mm256_max_ps(m0, m1), 1));
    m        = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m        = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

/* dc_nearest_int on 8 lanes: RNE within +-4194303; beyond it (and NaN) the
 * scalar clamp: v > 0 ? 4194303 : -4194303. max_ps(v, lo) gives lo for NaN. */
static inline __m256i nearest_int8x(__m256 v) {
    v = _mm256_max_ps(v, _mm256_set1_ps(-4194303.0f));
    v = _mm256_min_ps(v, _mm256_set1_ps(4194303.0f));
    return _mm256_cvtps_epi32(v);
}

/* (int8_t) of 32 int32 lanes in 4 vectors (truncation, as the C cast), packed
 * in order */
static inline __m256i trunc_i8x32(const __m256i v[4]) {
    const __m256i ff = _mm256_set1_epi32(0xFF);
    return pack_u8(_mm256_and_si256(v[0], ff), _mm256_and_si256(v[1], ff),
                   _mm256_and_si256(v[2], ff), _mm256_and_si256(v[3], ff));
}

/* 32 codes q = (int8_t)dc_nearest_int(x * id), stored; returns their sum */
static inline int32_t round_block32(const float *x, float id, int8_t *q) {
    const __m256 vid = _mm256_set1_ps(id);
    __m256i      v[4];
    for (int i = 0; i < 4; i++)
        v[i] = nearest_int8x(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * i), vid));
    const __m256i b = trunc_i8x32(v);
    _mm256_storeu_si256((__m256i *)q, b);
    return hsum_epi32(avx2_dot_u8s8(_mm256_set1_epi8(1), b));
}

/* ---- activation quantizers ------------------------------------------------------ */

/* peer Q8_0: d = f16(amax / 127), q = rne(x * (127 / amax)) */
static void quantize_act_q8_0(const float *x, void *vy, int64_t n) {
    dc_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float *xb   = x + b * DC_QK8_0;
        const float  amax = absmax(xb, DC_QK8_0);
        const float  id   = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d            = _cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT);
        round_block32(xb, id, y[b].qs);
    }
}

/* peer Q8_1: as Q8_0, s = f16(d * sum q) with the unrounded d */
static void quantize_act_q8_1(const float *x, void *vy, int64_t n) {
    dc_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_1; b++) {
        const float *xb   = x + b * DC_QK8_1;
        const float  amax = absmax(xb, DC_QK8_1);
        const float  d    = amax / 127.0f;
        const float  id   = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d            = _cvtss_sh(d, _MM_FROUND_TO_NEAREST_INT);
        const int32_t sum = round_block32(xb, id, y[b].qs);
        y[b].s            = _cvtss_sh(d * (float)sum, _MM_FROUND_TO_NEAREST_INT);
    }
}

/* The 16 block sums of 16 codes from the 32-code vectors b[0..7]. Per
 * vector, 4-sums in each 128-bit lane (codes 0-15 | 16-31); for a group of
 * four vectors two rounds of hadd leave bsums 0, 2, 4, 6 of the group in
 * lane 0 and 1, 3, 5, 7 in lane 1, and an interleave puts them in order. */
static inline void q8_k_bsums(const __m256i b[8], int16_t *bsums) {
    const __m256i one = _mm256_set1_epi8(1);
    for (int g = 0; g < 2; g++) {
        __m256i t[4];
        for (int k = 0; k < 4; k++) t[k] = avx2_dot_u8s8(one, b[4 * g + k]);
        const __m256i h =
            _mm256_hadd_epi32(_mm256_hadd_epi32(t[0], t[1]), _mm256_hadd_epi32(t[2], t[3]));
        const __m128i ev = _mm256_castsi256_si128(h), od = _mm256_extracti128_si256(h, 1);
        const __m128i s = _mm_packs_epi32(_mm_unpacklo_epi32(ev, od), _mm_unpackhi_epi32(ev, od));
        _mm_storeu_si128((__m128i *)(bsums + 8 * g), s);
    }
}

/* Reference Q8_K (quant_k.c): max = the signed x of largest |x| (first one
 * wins), iscale = -127 / max, q = min(127, rne(iscale * x)), d = 1 / iscale,
 * an all-zero block all zero. */
static void quantize_act_q8_k(const float *x, void *vy, int64_t n) {
    dc_block_q8_k *y = vy;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float *xb   = x + b * DC_QK_K;
        const float  amax = absmax(xb, DC_QK_K);
        if (!amax) {
            memset(&y[b], 0, sizeof y[b]);
            continue;
        }
        const __m256 vmax  = _mm256_set1_ps(amax);
        int          first = 0;
        for (int i = 0; i < DC_QK_K; i += 8) {
            const int m = _mm256_movemask_ps(
                _mm256_cmp_ps(abs_ps(_mm256_loadu_ps(xb + i)), vmax, _CMP_EQ_OQ));
            if (m) {
                first = i + __builtin_ctz((unsigned)m);
                break;
            }
        }
        const float  iscale = -127.0f / xb[first];
        const __m256 vs     = _mm256_set1_ps(iscale);
        __m256i      bytes[8];
        for (int k = 0; k < 8; k++) {
            __m256i v[4];
            for (int i = 0; i < 4; i++) {
                const __m256 p = _mm256_mul_ps(vs, _mm256_loadu_ps(xb + 32 * k + 8 * i));
                v[i]           = _mm256_min_epi32(nearest_int8x(p), _mm256_set1_epi32(127));
            }
            bytes[k] = trunc_i8x32(v);
            _mm256_storeu_si256((__m256i *)(y[b].qs + 32 * k), bytes[k]);
        }
        q8_k_bsums(bytes, y[b].bsums);
        y[b].d = 1 / iscale;
    }
}

/* f32 -> f16 with F16C (RNE, subnormals kept, >= 65520 to inf); NaNs are
 * first made the canonical quiet NaN of their sign so they come out as
 * sign | 0x7E00, as dc_fp32_to_fp16 writes them. */
static inline __m128i f16x8(__m256 x) {
    const __m256 nan = _mm256_cmp_ps(x, x, _CMP_UNORD_Q);
    const __m256 q   = _mm256_or_ps(_mm256_and_ps(x, _mm256_set1_ps(-0.0f)),
                                    _mm256_castsi256_ps(_mm256_set1_epi32(0x7FC00000)));
    return _mm256_cvtps_ph(_mm256_blendv_ps(x, q, nan), _MM_FROUND_TO_NEAREST_INT);
}

static void quantize_act_f16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t   i = 0;
    for (; i + 8 <= n; i += 8) _mm_storeu_si128((__m128i *)(y + i), f16x8(_mm256_loadu_ps(x + i)));
    for (; i < n; i++) y[i] = dc_fp32_to_fp16(x[i]);
}

/* bf16 RNE on the bits; NaN keeps its top half with the quiet bit forced */
static inline __m256i bf16x8(__m256 x) {
    const __m256i u   = _mm256_castps_si256(x);
    const __m256i top = _mm256_srli_epi32(u, 16);
    const __m256i rne =
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(u, _mm256_set1_epi32(0x7FFF)),
                                           _mm256_and_si256(top, _mm256_set1_epi32(1))),
                          16);
    const __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF)),
                                           _mm256_set1_epi32(0x7F800000));
    return _mm256_blendv_epi8(rne, _mm256_or_si256(top, _mm256_set1_epi32(0x40)), nan);
}

static void quantize_act_bf16(const float *x, void *vy, int64_t n) {
    uint16_t *y = vy;
    int64_t   i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i p =
            _mm256_packus_epi32(bf16x8(_mm256_loadu_ps(x + i)), bf16x8(_mm256_loadu_ps(x + i + 8)));
        _mm256_storeu_si256((__m256i *)(y + i), _mm256_permute4x64_epi64(p, 0xD8));
    }
    for (; i < n; i++) y[i] = dc_fp32_to_bf16(x[i]);
}

/* dc_fp32_to_e4m3 on 8 lanes (float_conv.c): NaN -> 0x7F, >= 448 -> 0x7E,
 * normal (>= 2^-6) RNE on the bits, below that rne(a * 2^9); sign on top. */
static inline __m256i e4m3x8(__m256 x) {
    const __m256i u    = _mm256_castps_si256(x);
    const __m256i sign = _mm256_and_si256(_mm256_srli_epi32(u, 24), _mm256_set1_epi32(0x80));
    const __m256i a    = _mm256_and_si256(u, _mm256_set1_epi32(0x7FFFFFFF));
    const __m256i odd  = _mm256_and_si256(_mm256_srli_epi32(a, 20), _mm256_set1_epi32(1));
    const __m256i norm = _mm256_sub_epi32(
        _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(a, _mm256_set1_epi32(0x7FFFF)), odd),
                          20),
        _mm256_set1_epi32(120 << 3));
    const __m256i sub =
        _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_castsi256_ps(a), _mm256_set1_ps(512.0f)));
    __m256i code =
        _mm256_blendv_epi8(sub, norm, _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x3C800000 - 1)));
    code = _mm256_blendv_epi8(code, _mm256_set1_epi32(0x7E),
                              _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x43E00000 - 1)));
    code = _mm256_blendv_epi8(code, _mm256_set1_epi32(0x7F),
                              _mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x7F800000)));
    return _mm256_or_si256(code, sign);
}

/* F8_E4M3_B128: s = max(amax, 1e-4) / 448, q = e4m3(x / s), a true division */
static void quantize_act_f8(const float *x, void *vy, int64_t n) {
    dc_block_f8_b128 *y = vy;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const float *xb   = x + b * DC_QK_F8;
        float        amax = absmax(xb, DC_QK_F8);
        if (amax < 1e-4f) amax = 1e-4f;
        const float  s  = amax / 448.0f;
        const __m256 vs = _mm256_set1_ps(s);
        y[b].d          = s;
        for (int i = 0; i < DC_QK_F8; i += 32) {
            __m256i c[4];
            for (int j = 0; j < 4; j++)
                c[j] = e4m3x8(_mm256_div_ps(_mm256_loadu_ps(xb + i + 8 * j), vs));
            _mm256_storeu_si256((__m256i *)(y[b].qs + i), pack_u8(c[0], c[1], c[2], c[3]));
        }
    }
}

/* ---- table ------------------------------------------------------------------------ */

void dc_cpu_kernels_init_avx2(dc_cpu_kernels *k, const dc_cpu_features *f) {
    (void)f; /* dispatch.c checked AVX2 + FMA + F16C; nothing here needs more */
    k->vec_dot[dc_type_slot(DC_TYPE_F32)]          = vec_dot_f32;
    k->vec_dot[dc_type_slot(DC_TYPE_F16)]          = vec_dot_f16;
    k->vec_dot[dc_type_slot(DC_TYPE_BF16)]         = vec_dot_bf16;
    k->vec_dot[dc_type_slot(DC_TYPE_F8_E4M3_B128)] = vec_dot_f8;
    k->gemm[dc_type_slot(DC_TYPE_F8_E4M3_B128)]    = gemm_f8;

    k->quantize_act[dc_type_slot(DC_TYPE_F16)]          = quantize_act_f16;
    k->quantize_act[dc_type_slot(DC_TYPE_BF16)]         = quantize_act_bf16;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_0)]         = quantize_act_q8_0;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_1)]         = quantize_act_q8_1;
    k->quantize_act[dc_type_slot(DC_TYPE_Q8_K)]         = quantize_act_q8_k;
    k->quantize_act[dc_type_slot(DC_TYPE_F8_E4M3_B128)] = quantize_act_f8;

    dc_cpu_avx2_init_quant(k);
    dc_cpu_avx2_init_rows(k);
}
