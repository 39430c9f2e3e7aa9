/*
 * avx2_rows.c - AVX2 row kernels for attention over a KV cache (kq_dot,
 * axpy) and row conversion (dequant) of the cache types F32, F16, BF16,
 * Q8_0 and F8_E4M3_B128; Q8_0's dequant lives with the other integer
 * formats in avx2_quant.c.
 *
 * A row is read 8 values at a time and each value converted exactly to f32,
 * as scalar_rows.c does: f16 through F16C, bf16 by a shift, Q8_0 as
 * (float)q * d, E4M3 as its exact value times d (one rounding, the
 * reference's). kq_dot keeps four f32 FMA accumulators (its sum order is
 * free, scalar_rows.c); axpy is y + v * x as a separate multiply and add, so
 * it has the scalar bits; dequant matches the reference converters exactly
 * (a NaN E4M3 code gives the reference's NaN with the code's sign).
 */
#include "avx2_impl.h"

/* ---- 8 values of a row ------------------------------------------------------ */

static inline __m256 ld_f16(const uint16_t *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __m256 ld_bf16(const uint16_t *p) {
    const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

/* 8 int8 codes (low 8 bytes of c) times d */
static inline __m256 q8x8(__m128i c, __m256 d) {
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c)), d);
}

/* 8 E4M3 codes (low 8 bytes of c) times d; NaN codes give NaN, with the
 * code's sign when signed_nan (dc_e4m3_to_fp32 * d) or positive (get_f8). */
static inline __m256 f8x8(__m128i c, __m256 d, bool signed_nan) {
    const __m256  v    = _mm256_mul_ps(avx2_e4m3_to_ps(c), d);
    const __m128i m7   = _mm_set1_epi8(0x7F);
    const __m256i nan  = _mm256_cvtepi8_epi32(_mm_cmpeq_epi8(_mm_and_si128(c, m7), m7));
    const __m256i sign = _mm256_slli_epi32(_mm256_cvtepu8_epi32(_mm_andnot_si128(m7, c)), 24);
    __m256i       qnan = _mm256_set1_epi32(0x7FC00000);
    if (signed_nan) qnan = _mm256_or_si256(qnan, sign);
    return _mm256_blendv_ps(v, _mm256_castsi256_ps(qnan), _mm256_castsi256_ps(nan));
}

static inline float sum4(const __m256 acc[4]) {
    return avx2_hsum_ps(
        _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

/* ---- F32 / F16 / BF16 (any n; a scalar tail past the last 8) ----------------------- */

static void kq_dot_f32(int64_t n, float *s, const float *q, const void *row) {
    const float *r      = row;
    __m256       acc[4] = { 0 };
    int64_t      i      = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8 * j), _mm256_loadu_ps(r + i + 8 * j),
                                     acc[j]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(r + i), acc[0]);
    float sum = sum4(acc);
    for (; i < n; i++) sum += q[i] * r[i];
    *s = sum;
}

static void kq_dot_f16(int64_t n, float *s, const float *q, const void *row) {
    const uint16_t *r      = row;
    __m256          acc[4] = { 0 };
    int64_t         i      = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++)
            acc[j] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8 * j), ld_f16(r + i + 8 * j), acc[j]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), ld_f16(r + i), acc[0]);
    float sum = sum4(acc);
    for (; i < n; i++) sum += q[i] * avx2_h2f(r[i]);
    *s = sum;
}

static void kq_dot_bf16(int64_t n, float *s, const float *q, const void *row) {
    const uint16_t *r      = row;
    __m256          acc[4] = { 0 };
    int64_t         i      = 0;
    for (; i + 32 <= n; i += 32)
        for (int j = 0; j < 4; j++)
            acc[j] =
                _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8 * j), ld_bf16(r + i + 8 * j), acc[j]);
    for (; i + 8 <= n; i += 8)
        acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), ld_bf16(r + i), acc[0]);
    float sum = sum4(acc);
    for (; i < n; i++) sum += q[i] * dc_bfloat_to_float(r[i]);
    *s = sum;
}

static inline void axpy8(float *y, __m256 v, __m256 x) {
    _mm256_storeu_ps(y, _mm256_add_ps(_mm256_loadu_ps(y), _mm256_mul_ps(v, x)));
}

static void axpy_f32(int64_t n, float *y, float v, const void *row) {
    const float *r  = row;
    const __m256 vv = _mm256_set1_ps(v);
    int64_t      i  = 0;
    for (; i + 8 <= n; i += 8) axpy8(y + i, vv, _mm256_loadu_ps(r + i));
    for (; i < n; i++) y[i] += v * r[i];
}

static void axpy_f16(int64_t n, float *y, float v, const void *row) {
    const uint16_t *r  = row;
    const __m256    vv = _mm256_set1_ps(v);
    int64_t         i  = 0;
    for (; i + 8 <= n; i += 8) axpy8(y + i, vv, ld_f16(r + i));
    for (; i < n; i++) y[i] += v * avx2_h2f(r[i]);
}

static void axpy_bf16(int64_t n, float *y, float v, const void *row) {
    const uint16_t *r  = row;
    const __m256    vv = _mm256_set1_ps(v);
    int64_t         i  = 0;
    for (; i + 8 <= n; i += 8) axpy8(y + i, vv, ld_bf16(r + i));
    for (; i < n; i++) y[i] += v * dc_bfloat_to_float(r[i]);
}

/* F16C sets the quiet bit of a signalling NaN; the reference keeps the
 * bits, so dequant clears it again on those lanes (exponent 31, quiet bit
 * clear, payload non-zero). */
static inline __m256 ld_f16_exact(const uint16_t *p) {
    const __m128i h = _mm_loadu_si128((const __m128i *)p);
    const __m128i nan =
        _mm_cmpeq_epi16(_mm_and_si128(h, _mm_set1_epi16(0x7E00)), _mm_set1_epi16(0x7C00));
    const __m128i zero =
        _mm_cmpeq_epi16(_mm_and_si128(h, _mm_set1_epi16(0x01FF)), _mm_setzero_si128());
    const __m256i snan = _mm256_cvtepi16_epi32(_mm_andnot_si128(zero, nan));
    const __m256i qbit = _mm256_and_si256(snan, _mm256_set1_epi32(0x00400000));
    return _mm256_andnot_ps(_mm256_castsi256_ps(qbit), _mm256_cvtph_ps(h));
}

static void dequant_f16(const void *row, float *y, int64_t n) {
    const uint16_t *r = row;
    int64_t         i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, ld_f16_exact(r + i));
    for (; i < n; i++) y[i] = dc_half_to_float(r[i]);
}

static void dequant_bf16(const void *row, float *y, int64_t n) {
    const uint16_t *r = row;
    int64_t         i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, ld_bf16(r + i));
    for (; i < n; i++) y[i] = dc_bfloat_to_float(r[i]);
}

/* ---- Q8_0 -------------------------------------------------------------------- */

static void kq_dot_q8_0(int64_t n, float *s, const float *q, const void *row) {
    const dc_block_q8_0 *r      = row;
    __m256               acc[4] = { 0 };
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const __m256  d  = _mm256_set1_ps(avx2_h2f(r[b].d));
        const __m256i c  = _mm256_loadu_si256((const __m256i *)r[b].qs);
        const __m128i lo = _mm256_castsi256_si128(c), hi = _mm256_extracti128_si256(c, 1);
        const __m128i part[4] = { lo, _mm_unpackhi_epi64(lo, lo), hi, _mm_unpackhi_epi64(hi, hi) };
        const float  *qb      = q + b * DC_QK8_0;
        for (int i = 0; i < 4; i++)
            acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 8 * i), q8x8(part[i], d), acc[i]);
    }
    *s = sum4(acc);
}

static void axpy_q8_0(int64_t n, float *y, float v, const void *row) {
    const dc_block_q8_0 *r  = row;
    const __m256         vv = _mm256_set1_ps(v);
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const __m256  d  = _mm256_set1_ps(avx2_h2f(r[b].d));
        const __m256i c  = _mm256_loadu_si256((const __m256i *)r[b].qs);
        const __m128i lo = _mm256_castsi256_si128(c), hi = _mm256_extracti128_si256(c, 1);
        const __m128i part[4] = { lo, _mm_unpackhi_epi64(lo, lo), hi, _mm_unpackhi_epi64(hi, hi) };
        for (int i = 0; i < 4; i++) axpy8(y + b * DC_QK8_0 + 8 * i, vv, q8x8(part[i], d));
    }
}

/* ---- F8_E4M3_B128 -------------------------------------------------------------- */

static void kq_dot_f8(int64_t n, float *s, const float *q, const void *row) {
    const dc_block_f8_b128 *r      = row;
    __m256                  acc[4] = { 0 };
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const __m256 d  = _mm256_set1_ps(r[b].d);
        const float *qb = q + b * DC_QK_F8;
        for (int i = 0; i < DC_QK_F8; i += 16) {
            const __m128i c = _mm_loadu_si128((const __m128i *)(r[b].qs + i));
            acc[(i >> 4) & 1] =
                _mm256_fmadd_ps(_mm256_loadu_ps(qb + i), f8x8(c, d, false), acc[(i >> 4) & 1]);
            acc[2 + ((i >> 4) & 1)] =
                _mm256_fmadd_ps(_mm256_loadu_ps(qb + i + 8),
                                f8x8(_mm_unpackhi_epi64(c, c), d, false), acc[2 + ((i >> 4) & 1)]);
        }
    }
    *s = sum4(acc);
}

static void axpy_f8(int64_t n, float *y, float v, const void *row) {
    const dc_block_f8_b128 *r  = row;
    const __m256            vv = _mm256_set1_ps(v);
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const __m256 d  = _mm256_set1_ps(r[b].d);
        float       *yb = y + b * DC_QK_F8;
        for (int i = 0; i < DC_QK_F8; i += 16) {
            const __m128i c = _mm_loadu_si128((const __m128i *)(r[b].qs + i));
            axpy8(yb + i, vv, f8x8(c, d, false));
            axpy8(yb + i + 8, vv, f8x8(_mm_unpackhi_epi64(c, c), d, false));
        }
    }
}

static void dequant_f8(const void *row, float *y, int64_t n) {
    const dc_block_f8_b128 *r = row;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        const __m256 d  = _mm256_set1_ps(r[b].d);
        float       *yb = y + b * DC_QK_F8;
        for (int i = 0; i < DC_QK_F8; i += 16) {
            const __m128i c = _mm_loadu_si128((const __m128i *)(r[b].qs + i));
            _mm256_storeu_ps(yb + i, f8x8(c, d, true));
            _mm256_storeu_ps(yb + i + 8, f8x8(_mm_unpackhi_epi64(c, c), d, true));
        }
    }
}

/* ---- table --------------------------------------------------------------------- */

void dc_cpu_avx2_init_rows(dc_cpu_kernels *k) {
    static const struct {
        dc_type       t;
        dc_kq_dot_fn  dot;
        dc_axpy_fn    axpy;
        dc_dequant_fn dequant; /* NULL: keep the table's (memcpy / avx2_quant.c) */
    } rows[] = {
        { DC_TYPE_F32, kq_dot_f32, axpy_f32, NULL },
        { DC_TYPE_F16, kq_dot_f16, axpy_f16, dequant_f16 },
        { DC_TYPE_BF16, kq_dot_bf16, axpy_bf16, dequant_bf16 },
        { DC_TYPE_Q8_0, kq_dot_q8_0, axpy_q8_0, NULL },
        { DC_TYPE_F8_E4M3_B128, kq_dot_f8, axpy_f8, dequant_f8 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const int s  = dc_type_slot(rows[i].t);
        k->kq_dot[s] = rows[i].dot;
        k->axpy[s]   = rows[i].axpy;
        if (rows[i].dequant) k->dequant[s] = rows[i].dequant;
    }
}
