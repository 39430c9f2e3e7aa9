/*
 * avx512_float.c - AVX-512 kernels for the float formats: vec_dot of F32,
 * F16, BF16 and F8_E4M3_B128 rows (and F8's gemm tile), and the attention
 * row kernels (kq_dot, axpy, dequant) of the KV-cache types F32, F16, BF16,
 * Q8_0 and F8.
 *
 * F32 / F16 / BF16 dots accumulate in f32 FMA lanes (four accumulators of 16,
 * reduced once per row) instead of scalar.c's double sum: for the row lengths
 * of the models the difference stays far below the 1e-5 * sum|w a| contract.
 * With AVX512_BF16 the BF16 dot uses VDPBF16PS (exact bf16 products, f32
 * sums, denormal inputs flushed).
 *
 * F8 keeps the exact-mode contract bit for bit: codes become bf16 through a
 * 128-entry table (every E4M3 value is exact in bf16), the products of two
 * codes are exact in f32 (4-bit x 4-bit mantissas), and a block's 128
 * products are summed in f64, which is exact in any order (multiples of 2^-18
 * below 2^25). The block sum is rounded to f32 once and scaled as scalar.c
 * does, so the result equals the scalar one. A NaN code maps to a NaN bf16
 * and poisons its block, as in scalar.c.
 *
 * axpy reproduces scalar_rows.c exactly (value = exact f32 conversion, then
 * v * value, then y + that: no FMA); kq_dot reorders its f32 sum.
 */
#include "avx512_impl.h"

/* ---- E4M3 -> bf16 table ------------------------------------------------------ */

/* m = magnitude code 0..127: m < 8 subnormal m * 2^-9, else (m << 4) + bias
 * (exponent e + 120, mantissa m & 7 in bf16's top mantissa bits); 127 NaN. */
#define E4M3_SUB(m)  ((m) == 0 ? 0x0000 : (m) == 1 ? 0x3B00 : (m) == 2 ? 0x3B80 :  \
                      (m) == 3 ? 0x3BC0 : (m) == 4 ? 0x3C00 : (m) == 5 ? 0x3C20 :  \
                      (m) == 6 ? 0x3C40 : 0x3C60)
#define E4M3_BF(m)   ((m) == 127 ? 0x7FC0 : (m) < 8 ? E4M3_SUB(m) : ((m) << 4) + (120 << 7))
#define E4M3_BF4(m)  E4M3_BF(m), E4M3_BF((m) + 1), E4M3_BF((m) + 2), E4M3_BF((m) + 3)
#define E4M3_BF16(m) E4M3_BF4(m), E4M3_BF4((m) + 4), E4M3_BF4((m) + 8), E4M3_BF4((m) + 12)

const uint16_t dc_cpu_avx512_e4m3_bf16[128] = {
    E4M3_BF16(0),  E4M3_BF16(16), E4M3_BF16(32), E4M3_BF16(48),
    E4M3_BF16(64), E4M3_BF16(80), E4M3_BF16(96), E4M3_BF16(112),
};

/* ---- F32 / F16 / BF16 loads ----------------------------------------------------- */

enum { FK_F32, FK_F16, FK_BF16 };

/* 16 values from element i of a row of kind `kind`, as f32. */
AVX512_INLINE __m512 fload(const void *p, int64_t i, const int kind) {
    const __m256i *h = (const __m256i *)((const uint16_t *)p + i);
    switch (kind) {
    case FK_F32: return _mm512_loadu_ps((const float *)p + i);
    case FK_F16: return _mm512_cvtph_ps(_mm256_loadu_si256(h));
    default:
        return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(h)), 16));
    }
}

/* The same for a tail: only the lanes of mask m are read, the others are 0. */
AVX512_INLINE __m512 fload_mask(const void *p, int64_t i, __mmask16 m, const int kind) {
    switch (kind) {
    case FK_F32: return _mm512_maskz_loadu_ps(m, (const float *)p + i);
    case FK_F16: return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i));
    default:
        return _mm512_castsi512_ps(_mm512_slli_epi32(
            _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, (const uint16_t *)p + i)), 16));
    }
}

AVX512_INLINE __mmask16 tail_mask(int64_t left) {
    return (__mmask16)((1u << left) - 1u);
}

/* dot(x, y) of two rows (x of kind kx, y of kind ky): four 16-lane f32
 * accumulators over 64 elements, then 16 at a time, then a masked tail. */
AVX512_INLINE float fdot(int64_t n, const void *x, const int kx, const void *y, const int ky) {
    __m512 acc[4] = { _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                      _mm512_setzero_ps() };
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm512_fmadd_ps(fload(x, i + 16 * j, kx), fload(y, i + 16 * j, ky), acc[j]);
    for (; i + 16 <= n; i += 16) acc[0] = _mm512_fmadd_ps(fload(x, i, kx), fload(y, i, ky), acc[0]);
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        acc[1] = _mm512_fmadd_ps(fload_mask(x, i, m, kx), fload_mask(y, i, m, ky), acc[1]);
    }
    return avx512_hsum_ps(
        _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

static void vec_dot_f32(int64_t n, float *s, const void *w, const void *a) {
    *s = fdot(n, w, FK_F32, a, FK_F32);
}

static void vec_dot_f16(int64_t n, float *s, const void *w, const void *a) {
    *s = fdot(n, w, FK_F16, a, FK_F16);
}

static void vec_dot_bf16(int64_t n, float *s, const void *w, const void *a) {
    *s = fdot(n, w, FK_BF16, a, FK_BF16);
}

/* VDPBF16PS: 32 bf16 pairs per instruction into 16 f32 lanes. */
static void vec_dot_bf16_dp(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    __m512 acc[4] = { _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                      _mm512_setzero_ps() };
    int64_t i = 0;
    for (; i + 128 <= n; i += 128)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm512_dpbf16_ps(acc[j], (__m512bh)_mm512_loadu_si512(w + i + 32 * j),
                                      (__m512bh)_mm512_loadu_si512(a + i + 32 * j));
    for (; i + 32 <= n; i += 32)
        acc[0] = _mm512_dpbf16_ps(acc[0], (__m512bh)_mm512_loadu_si512(w + i),
                                  (__m512bh)_mm512_loadu_si512(a + i));
    if (i < n) {
        const __mmask32 m = (__mmask32)((1ull << (n - i)) - 1u);
        acc[1] = _mm512_dpbf16_ps(acc[1], (__m512bh)_mm512_maskz_loadu_epi16(m, w + i),
                                  (__m512bh)_mm512_maskz_loadu_epi16(m, a + i));
    }
    *s = avx512_hsum_ps(
        _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

/* ---- F8_E4M3_B128 vec_dot ---------------------------------------------------------- */

/* One weight block decoded: the f32 values of its even and odd elements,
 * per group of 32 codes. */
typedef struct f8_w {
    __m512 e[4], o[4];
} f8_w;

AVX512_INLINE void f8_decode(const uint8_t *c, const __m512i t[4], f8_w *x) {
    for (int g = 0; g < 4; g++) {
        const __m512i v = avx512_e4m3_to_bf16(
            _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(c + 32 * g))), t);
        x->e[g] = avx512_bf16_even(v);
        x->o[g] = avx512_bf16_odd(v);
    }
}

/* Exact sum of the 128 code products of a decoded weight block and an
 * activation block, in f64 (see the file comment). */
AVX512_INLINE double f8_block_dot(const f8_w *w, const uint8_t *ca, const __m512i t[4]) {
    __m512d acc[4] = { _mm512_setzero_pd(), _mm512_setzero_pd(), _mm512_setzero_pd(),
                       _mm512_setzero_pd() };
    for (int g = 0; g < 4; g++) {
        const __m512i a = avx512_e4m3_to_bf16(
            _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *)(ca + 32 * g))), t);
        /* exact products of the even and the odd elements */
        const __m512 pe = _mm512_mul_ps(w->e[g], avx512_bf16_even(a));
        const __m512 po = _mm512_mul_ps(w->o[g], avx512_bf16_odd(a));
        acc[0] = _mm512_add_pd(acc[0], _mm512_cvtps_pd(_mm512_castps512_ps256(pe)));
        acc[1] = _mm512_add_pd(acc[1], _mm512_cvtps_pd(avx512_hi256_ps(pe)));
        acc[2] = _mm512_add_pd(acc[2], _mm512_cvtps_pd(_mm512_castps512_ps256(po)));
        acc[3] = _mm512_add_pd(acc[3], _mm512_cvtps_pd(avx512_hi256_ps(po)));
    }
    return avx512_hsum_pd(
        _mm512_add_pd(_mm512_add_pd(acc[0], acc[1]), _mm512_add_pd(acc[2], acc[3])));
}

/* y[c][r] = dot(weight row r, activation row a[c]) in exact mode: the f64
 * block sum is acc * 2^-18 exactly, rounded to f32 once, then
 * sumf += (bd * s_a) * s_w in block order, as scalar.c. Every result equals
 * the scalar one, so gemm and vec_dot agree by construction. */
AVX512_INLINE void f8_rows(int64_t n, float *const *y, const void *w, size_t ldw,
                           const void *const *a, int nr, const int nc) {
    __m512i t[4];
    avx512_e4m3_table(t);
    for (int r = 0; r < nr; r++) {
        const dc_block_f8_b128 *wr =
            (const dc_block_f8_b128 *)((const uint8_t *)w + (size_t)r * ldw);
        float sumf[DC_GEMM_TILE] = { 0.0f, 0.0f, 0.0f, 0.0f };
        for (int64_t b = 0; b < n / DC_QK_F8; b++) {
            f8_w x;
            f8_decode(wr[b].qs, t, &x);
            for (int c = 0; c < nc; c++) {
                const dc_block_f8_b128 *ab = (const dc_block_f8_b128 *)a[c] + b;
                const float bd = (float)f8_block_dot(&x, ab->qs, t);
                sumf[c] += (bd * ab->d) * wr[b].d;
            }
        }
        for (int c = 0; c < nc; c++) y[c][r] = sumf[c];
    }
}

static void vec_dot_f8(int64_t n, float *s, const void *w, const void *a) {
    f8_rows(n, &s, w, 0, &a, 1, 1);
}

static void gemm_f8(int64_t n, float *const *y, const void *w, size_t ldw, const void *const *a,
                    int nr, int nc) {
    switch (nc) {
    case 1:  f8_rows(n, y, w, ldw, a, nr, 1); break;
    case 2:  f8_rows(n, y, w, ldw, a, nr, 2); break;
    case 3:  f8_rows(n, y, w, ldw, a, nr, 3); break;
    default: f8_rows(n, y, w, ldw, a, nr, 4); break;
    }
}

/* ---- row kernels: F32 / F16 / BF16 -------------------------------------------------- */

#define FLOAT_ROWS(T, KIND)                                                          \
    static void kq_dot_##T(int64_t n, float *s, const float *q, const void *r) {    \
        *s = fdot(n, q, FK_F32, r, KIND);                                            \
    }                                                                                \
    static void axpy_##T(int64_t n, float *y, float v, const void *r) {             \
        const __m512 vv = _mm512_set1_ps(v);                                         \
        int64_t i = 0;                                                               \
        for (; i + 16 <= n; i += 16)                                                 \
            _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(y + i),            \
                                                  _mm512_mul_ps(vv, fload(r, i, KIND)))); \
        if (i < n) {                                                                 \
            const __mmask16 m = tail_mask(n - i);                                    \
            _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), \
                                  _mm512_mul_ps(vv, fload_mask(r, i, m, KIND))));    \
        }                                                                            \
    }

FLOAT_ROWS(f32, FK_F32)
FLOAT_ROWS(f16, FK_F16)
FLOAT_ROWS(bf16, FK_BF16)

/* f16 -> f32 exactly as dc_half_to_float, NaN payloads included (VCVTPH2PS
 * would quiet a signalling NaN). */
AVX512_INLINE __m512 f16_exact(__m256i h) {
    const __m512 v = _mm512_cvtph_ps(h);
    const __m512i w = _mm512_cvtepu16_epi32(h);
    const __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(w, _mm512_set1_epi32(0x7fff)),
                                                  _mm512_set1_epi32(0x7c00));
    /* sign << 16 | 0x7f800000 | man << 13 */
    const __m512i bits = _mm512_or_si512(
        _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x8000)), 16),
        _mm512_or_si512(_mm512_set1_epi32(0x7f800000),
                        _mm512_slli_epi32(_mm512_and_si512(w, _mm512_set1_epi32(0x3ff)), 13)));
    return _mm512_mask_blend_ps(nan, v, _mm512_castsi512_ps(bits));
}

static void dequant_f16(const void *vx, float *y, int64_t n) {
    const uint16_t *x = vx;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, f16_exact(_mm256_loadu_si256((const __m256i *)(x + i))));
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, f16_exact(_mm256_maskz_loadu_epi16(m, x + i)));
    }
}

static void dequant_bf16(const void *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, fload(x, i, FK_BF16));
    if (i < n) {
        const __mmask16 m = tail_mask(n - i);
        _mm512_mask_storeu_ps(y + i, m, fload_mask(x, i, m, FK_BF16));
    }
}

/* ---- row kernels: Q8_0 --------------------------------------------------------------- */

/* 16 codes of a Q8_0 block as f32 (exact). */
AVX512_INLINE __m512 q8_16(const int8_t *qs) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)qs)));
}

static void kq_dot_q8_0(int64_t n, float *s, const float *q, const void *vr) {
    const dc_block_q8_0 *r = vr;
    __m512 acc[2] = { _mm512_setzero_ps(), _mm512_setzero_ps() };
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float *qb = q + b * DC_QK8_0;
        __m512 t = _mm512_mul_ps(_mm512_loadu_ps(qb), q8_16(r[b].qs));
        t = _mm512_fmadd_ps(_mm512_loadu_ps(qb + 16), q8_16(r[b].qs + 16), t);
        acc[b & 1] = _mm512_fmadd_ps(t, _mm512_set1_ps(avx512_h2f(r[b].d)), acc[b & 1]);
    }
    *s = avx512_hsum_ps(_mm512_add_ps(acc[0], acc[1]));
}

static void axpy_q8_0(int64_t n, float *y, float v, const void *vr) {
    const dc_block_q8_0 *r = vr;
    const __m512 vv = _mm512_set1_ps(v);
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const __m512 d = _mm512_set1_ps(avx512_h2f(r[b].d));
        float *yb = y + b * DC_QK8_0;
        for (int h = 0; h < 2; h++) {
            const __m512 x = _mm512_mul_ps(q8_16(r[b].qs + 16 * h), d);
            _mm512_storeu_ps(yb + 16 * h,
                             _mm512_add_ps(_mm512_loadu_ps(yb + 16 * h), _mm512_mul_ps(vv, x)));
        }
    }
}

/* ---- row kernels: F8_E4M3_B128 --------------------------------------------------------- */

/* 32 codes -> two f32 vectors in element order: the dwords of the code row
 * are permuted first so that the in-lane unpacks land elements 0..15 in lo
 * and 16..31 in hi. Values are the exact k * 2^-9 (NaN for NaN codes). */
AVX512_INLINE void f8_32(const uint8_t *c, const __m512i t[4], __m512 *lo, __m512 *hi) {
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_loadu_si256((const __m256i *)c),
                                                  _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    const __m512i v = avx512_e4m3_to_bf16(_mm512_cvtepu8_epi16(p), t);
    *lo = _mm512_castsi512_ps(_mm512_unpacklo_epi16(_mm512_setzero_si512(), v));
    *hi = _mm512_castsi512_ps(_mm512_unpackhi_epi16(_mm512_setzero_si512(), v));
}

static void kq_dot_f8(int64_t n, float *s, const float *q, const void *vr) {
    const dc_block_f8_b128 *r = vr;
    __m512i t[4];
    avx512_e4m3_table(t);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const float *qb = q + b * DC_QK_F8;
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
        for (int g = 0; g < DC_QK_F8; g += 32) {
            __m512 lo, hi;
            f8_32(r[b].qs + g, t, &lo, &hi);
            s0 = _mm512_fmadd_ps(_mm512_loadu_ps(qb + g), lo, s0);
            s1 = _mm512_fmadd_ps(_mm512_loadu_ps(qb + g + 16), hi, s1);
        }
        acc = _mm512_fmadd_ps(_mm512_add_ps(s0, s1), _mm512_set1_ps(r[b].d), acc);
    }
    *s = avx512_hsum_ps(acc);
}

static void axpy_f8(int64_t n, float *y, float v, const void *vr) {
    const dc_block_f8_b128 *r = vr;
    __m512i t[4];
    avx512_e4m3_table(t);
    const __m512 vv = _mm512_set1_ps(v);
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const __m512 d = _mm512_set1_ps(r[b].d);
        float *yb = y + b * DC_QK_F8;
        for (int g = 0; g < DC_QK_F8; g += 32) {
            __m512 lo, hi;
            f8_32(r[b].qs + g, t, &lo, &hi);
            /* scalar: y + v * ((k * 2^-9) * d), each product rounded */
            _mm512_storeu_ps(yb + g, _mm512_add_ps(_mm512_loadu_ps(yb + g),
                                                   _mm512_mul_ps(vv, _mm512_mul_ps(lo, d))));
            _mm512_storeu_ps(yb + g + 16, _mm512_add_ps(_mm512_loadu_ps(yb + g + 16),
                                                        _mm512_mul_ps(vv, _mm512_mul_ps(hi, d))));
        }
    }
}

/* dc_dequantize_row_f8_b128: e4m3_to_fp32(code) * d, NaN codes as a NaN
 * whose sign is the code's (the scalar converter negates its NAN). */
static void dequant_f8(const void *vx, float *y, int64_t n) {
    const dc_block_f8_b128 *x = vx;
    __m512i t[4];
    avx512_e4m3_table(t);
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const __m512 d = _mm512_set1_ps(x[b].d);
        float *yb = y + b * DC_QK_F8;
        for (int g = 0; g < DC_QK_F8; g += 32) {
            __m512 lo, hi;
            f8_32(x[b].qs + g, t, &lo, &hi);
            _mm512_storeu_ps(yb + g, _mm512_mul_ps(lo, d));
            _mm512_storeu_ps(yb + g + 16, _mm512_mul_ps(hi, d));
        }
    }
}

/* ---- table --------------------------------------------------------------------------- */

void dc_cpu_avx512_init_float(dc_cpu_kernels *k, const dc_cpu_features *f) {
    const int f32 = dc_type_slot(DC_TYPE_F32), f16 = dc_type_slot(DC_TYPE_F16);
    const int bf16 = dc_type_slot(DC_TYPE_BF16), q8 = dc_type_slot(DC_TYPE_Q8_0);
    const int f8 = dc_type_slot(DC_TYPE_F8_E4M3_B128);

    k->vec_dot[f32]  = vec_dot_f32;
    k->vec_dot[f16]  = vec_dot_f16;
    k->vec_dot[bf16] = f->avx512bf16 ? vec_dot_bf16_dp : vec_dot_bf16;
    k->vec_dot[f8]   = vec_dot_f8;
    k->gemm[f8]      = gemm_f8;

    k->kq_dot[f32]  = kq_dot_f32;   k->axpy[f32]  = axpy_f32;
    k->kq_dot[f16]  = kq_dot_f16;   k->axpy[f16]  = axpy_f16;   k->dequant[f16]  = dequant_f16;
    k->kq_dot[bf16] = kq_dot_bf16;  k->axpy[bf16] = axpy_bf16;  k->dequant[bf16] = dequant_bf16;
    k->kq_dot[q8]   = kq_dot_q8_0;  k->axpy[q8]   = axpy_q8_0;
    k->kq_dot[f8]   = kq_dot_f8;    k->axpy[f8]   = axpy_f8;    k->dequant[f8]   = dequant_f8;
}
