/*
 * avx2_quant.c - AVX2 dots, gemm tiles and dequantizers of the integer
 * block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (32-blocks, against Q8_0 /
 * Q8_1 activations) and Q2_K .. Q6_K (256-blocks, against Q8_K).
 *
 * Each format is two inline pieces: one turns a weight block into registers
 * (codes as bytes, scales broadcast as int16, f32 factors), the other
 * multiplies it with one activation block. The integer part is exact, as
 * scalar.c requires: code products are summed as int32 (maddubs + madd,
 * operand ranges noted at each use) before any float is formed.
 *   K-quants (DOT_GEMM)   a block's 8 int32 lanes are converted and scaled by
 *                         its f32 factors into an f32 accumulator (even blocks
 *                         in one, odd blocks in another); scalar.c scales the
 *                         lanes' total, so only the float part moves.
 *   legacy (LEGACY_...)   8 blocks per step: each block's lanes are reduced to
 *                         its exact isum, then isum * (d_w * d_a) of 8 blocks
 *                         is one FMA: scalar.c's term, summed in lanes.
 * vec_dot is the one-column case of the row routine that gemm runs row by
 * row, so every gemm element has vec_dot's bits whatever the tile; a tile
 * streams each weight row once, front to back, and unpacks each of its
 * blocks once for all the tile's columns.
 *
 * Dequant reproduces the reference converters bit for bit: the same f32
 * expressions in the same order (quant_k.c, quant_legacy.c), no FMA.
 */
#include "avx2_impl.h"

/* ---- vec_dot and gemm from per-block pieces -------------------------------- */

/* vec_dot and gemm entry points over X##_row (see DOT_GEMM) */
#define DOT_GEMM_API(X, WT, QK)                                                    \
    static void vec_dot_##X(int64_t n, float *s, const void *vw, const void *va) { \
        X##_row(n / (QK), vw, &va, 1, s);                                          \
    }                                                                              \
    static void gemm_##X(int64_t n, float *const *y, const void *vw, size_t ldw,   \
                         const void *const *va, int nr, int nc) {                  \
        for (int r = 0; r < nr; r++) {                                             \
            const WT *w = (const WT *)((const char *)vw + (size_t)r * ldw);        \
            float     out[DC_GEMM_TILE];                                           \
            switch (nc) {                                                          \
            case 1: X##_row(n / (QK), w, va, 1, out); break;                       \
            case 2: X##_row(n / (QK), w, va, 2, out); break;                       \
            case 3: X##_row(n / (QK), w, va, 3, out); break;                       \
            default: X##_row(n / (QK), w, va, 4, out); break;                      \
            }                                                                      \
            for (int c = 0; c < nc; c++) y[c][r] = out[c];                         \
        }                                                                          \
    }

/* X##_w: unpacked weight block; X##_unpack(const WT *, X##_w *);
 * X##_block(const X##_w *, const AT *, __m256 acc) -> acc.
 * X##_row: one weight row against NC activation rows (NC a constant after
 * inlining, so the 2 * NC accumulators stay in registers); the row is
 * streamed once, front to back. vec_dot is X##_row with NC = 1, and gemm
 * runs it row by row, so each output has the same operations in the same
 * order either way. */
#define DOT_GEMM(X, WT, AT, QK)                                                                   \
    static inline __attribute__((always_inline)) void X##_row(                                    \
        int64_t nb, const WT *w, const void *const *a, const int NC, float *out) {                \
        __m256 acc0[DC_GEMM_TILE], acc1[DC_GEMM_TILE];                                            \
        for (int c = 0; c < NC; c++) acc0[c] = acc1[c] = _mm256_setzero_ps();                     \
        int64_t b = 0;                                                                            \
        for (; b + 1 < nb; b += 2) {                                                              \
            X##_w u0, u1;                                                                         \
            X##_unpack(&w[b], &u0);                                                               \
            for (int c = 0; c < NC; c++) acc0[c] = X##_block(&u0, (const AT *)a[c] + b, acc0[c]); \
            X##_unpack(&w[b + 1], &u1);                                                           \
            for (int c = 0; c < NC; c++)                                                          \
                acc1[c] = X##_block(&u1, (const AT *)a[c] + b + 1, acc1[c]);                      \
        }                                                                                         \
        if (b < nb) {                                                                             \
            X##_w u0;                                                                             \
            X##_unpack(&w[b], &u0);                                                               \
            for (int c = 0; c < NC; c++) acc0[c] = X##_block(&u0, (const AT *)a[c] + b, acc0[c]); \
        }                                                                                         \
        for (int c = 0; c < NC; c++) out[c] = avx2_hsum_ps(_mm256_add_ps(acc0[c], acc1[c]));      \
    }                                                                                             \
    DOT_GEMM_API(X, WT, QK)

/* ---- legacy 32-blocks -------------------------------------------------------- */

/* The 32 nibbles of qs[16]: element j < 16 is the low nibble of qs[j],
 * element j + 16 the high one (quant_impl.h). */
static inline __m256i nib32(const uint8_t *qs) {
    const __m128i b = _mm_loadu_si128((const __m128i *)qs);
    const __m256i v = _mm256_set_m128i(_mm_srli_epi16(b, 4), b);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* Byte i = 0xFF where bit i of x is set, else 0 (i = 0..31). */
static inline __m256i bits_to_bytes(uint32_t x) {
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2,
                                          2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit  = _mm256_set1_epi64x(0x8040201008040201LL);
    const __m256i v    = _mm256_shuffle_epi8(_mm256_set1_epi32((int32_t)x), pick);
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
}

static inline uint32_t u32le(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Legacy blocks go 8 at a time: each block's 8 int32 lanes are reduced to
 * its exact isum (reduce8), so a step ends with one vector of 8 block sums,
 * one vector of 8 factors d_w * d_a (two cvtph) and one FMA; the scalar
 * code's per-block term isum * (d_w * d_a), summed in lanes. */

/* lane i = the sum of p[i]'s 8 lanes */
static inline __m256i reduce8(const __m256i p[8]) {
    const __m256i lo =
        _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
    const __m256i hi =
        _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
    return _mm256_add_epi32(_mm256_permute2x128_si256(lo, hi, 0x20),
                            _mm256_permute2x128_si256(lo, hi, 0x31));
}

/* one f16 field of cnt <= 8 consecutive blocks as f32 lanes, 0 past cnt */
#define DEF_H8(NAME, T, FIELD)                                       \
    static inline __m256 NAME(const T *x, int cnt) {                 \
        uint16_t h[8] = { 0 };                                       \
        for (int i = 0; i < cnt; i++) h[i] = x[i].FIELD;             \
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)h)); \
    }
DEF_H8(d8_q4_0, dc_block_q4_0, d)
DEF_H8(d8_q4_1, dc_block_q4_1, d)
DEF_H8(m8_q4_1, dc_block_q4_1, m)
DEF_H8(d8_q5_0, dc_block_q5_0, d)
DEF_H8(d8_q5_1, dc_block_q5_1, d)
DEF_H8(m8_q5_1, dc_block_q5_1, m)
DEF_H8(d8_q8_0, dc_block_q8_0, d)
DEF_H8(d8_q8_1, dc_block_q8_1, d)
DEF_H8(s8_q8_1, dc_block_q8_1, s)

/* Signed codes (Q4_0 -8..7, Q5_0 -16..15, Q8_0 -128..127): |q| and q kept
 * for the sign trick, so a tile pays it once per weight block. */
typedef struct s8_w {
    __m256i abs, sgn;
} s8_w;

static inline void s8_set(s8_w *u, __m256i q) {
    u->abs = _mm256_sign_epi8(q, q);
    u->sgn = q;
}

/* |q| <= 128 and |a| <= 127 (peer Q8_0 never makes -128), so a maddubs pair
 * is at most 2 * 128 * 127 = 32512 */
static inline __m256i s8_isum(const s8_w *u, const int8_t *aq) {
    const __m256i av = _mm256_loadu_si256((const __m256i *)aq);
    return avx2_dot_u8s8(u->abs, _mm256_sign_epi8(av, u->sgn));
}

static inline void q4_0_codes(const dc_block_q4_0 *w, s8_w *u) {
    s8_set(u, _mm256_sub_epi8(nib32(w->qs), _mm256_set1_epi8(8)));
}

/* q - 16 = nib when the fifth bit is set, else nib | 0xF0 (nib - 16 as int8) */
static inline void q5_0_codes(const dc_block_q5_0 *w, s8_w *u) {
    const __m256i hi =
        _mm256_andnot_si256(bits_to_bytes(u32le(w->qh)), _mm256_set1_epi8((char)0xF0));
    s8_set(u, _mm256_or_si256(nib32(w->qs), hi));
}

static inline void q8_0_codes(const dc_block_q8_0 *w, s8_w *u) {
    s8_set(u, _mm256_loadu_si256((const __m256i *)w->qs));
}

/* Unsigned codes with a minimum (Q4_1 0..15, Q5_1 0..31) against Q8_1:
 * block dot = (d_w d_a) isum + m_w s_a. maddubs pairs <= 2 * 31 * 127. */
typedef struct u8_w {
    __m256i q;
} u8_w;

static inline __m256i u8_isum(const u8_w *u, const int8_t *aq) {
    return avx2_dot_u8s8(u->q, _mm256_loadu_si256((const __m256i *)aq));
}

static inline void q4_1_codes(const dc_block_q4_1 *w, u8_w *u) {
    u->q = nib32(w->qs);
}

static inline void q5_1_codes(const dc_block_q5_1 *w, u8_w *u) {
    const __m256i hi = _mm256_and_si256(bits_to_bytes(u32le(w->qh)), _mm256_set1_epi8(0x10));
    u->q             = _mm256_or_si256(nib32(w->qs), hi);
}

/* the m_w s_a terms of a step */
#define NO_MIN(w, a, cnt, acc) (acc)
static inline __m256 q4_1_min(const dc_block_q4_1 *w, const dc_block_q8_1 *a, int cnt, __m256 acc) {
    return _mm256_fmadd_ps(m8_q4_1(w, cnt), s8_q8_1(a, cnt), acc);
}
static inline __m256 q5_1_min(const dc_block_q5_1 *w, const dc_block_q8_1 *a, int cnt, __m256 acc) {
    return _mm256_fmadd_ps(m8_q5_1(w, cnt), s8_q8_1(a, cnt), acc);
}

/* vec_dot and gemm of a legacy format, as DOT_GEMM but a step is 8 blocks
 * and one accumulator per column; a row's tail is a step of 4 (a constant,
 * like 8, so the step unrolls) and then one of the 0-3 blocks left. */
#define LEGACY_DOT_GEMM(X, WT, AT, QK, CW, CODES, ISUM, WD, AD, MIN)                              \
    static inline __attribute__((always_inline)) void X##_step(                                   \
        const WT *w, const void *const *a, int64_t b, const int cnt, const int NC, __m256 *acc) { \
        CW u[8];                                                                                  \
        for (int i = 0; i < cnt; i++) CODES(&w[i], &u[i]);                                        \
        const __m256 dw = WD(w, cnt);                                                             \
        for (int c = 0; c < NC; c++) {                                                            \
            const AT *ac = (const AT *)a[c] + b;                                                  \
            __m256i   p[8];                                                                       \
            for (int i = 0; i < 8; i++)                                                           \
                p[i] = i < cnt ? ISUM(&u[i], ac[i].qs) : _mm256_setzero_si256();                  \
            const __m256 isum = _mm256_cvtepi32_ps(reduce8(p));                                   \
            acc[c]            = _mm256_fmadd_ps(isum, _mm256_mul_ps(dw, AD(ac, cnt)), acc[c]);    \
            acc[c]            = MIN(w, ac, cnt, acc[c]);                                          \
        }                                                                                         \
    }                                                                                             \
    static inline __attribute__((always_inline)) void X##_row(                                    \
        int64_t nb, const WT *w, const void *const *a, const int NC, float *out) {                \
        __m256 acc[DC_GEMM_TILE];                                                                 \
        for (int c = 0; c < NC; c++) acc[c] = _mm256_setzero_ps();                                \
        int64_t b = 0;                                                                            \
        for (; b + 8 <= nb; b += 8) X##_step(w + b, a, b, 8, NC, acc);                            \
        if (b + 4 <= nb) X##_step(w + b, a, b, 4, NC, acc), b += 4;                               \
        if (b < nb) X##_step(w + b, a, b, (int)(nb - b), NC, acc);                                \
        for (int c = 0; c < NC; c++) out[c] = avx2_hsum_ps(acc[c]);                               \
    }                                                                                             \
    DOT_GEMM_API(X, WT, QK)

LEGACY_DOT_GEMM(q4_0, dc_block_q4_0, dc_block_q8_0, DC_QK4_0, s8_w, q4_0_codes, s8_isum, d8_q4_0,
                d8_q8_0, NO_MIN)
LEGACY_DOT_GEMM(q4_1, dc_block_q4_1, dc_block_q8_1, DC_QK4_1, u8_w, q4_1_codes, u8_isum, d8_q4_1,
                d8_q8_1, q4_1_min)
LEGACY_DOT_GEMM(q5_0, dc_block_q5_0, dc_block_q8_0, DC_QK5_0, s8_w, q5_0_codes, s8_isum, d8_q5_0,
                d8_q8_0, NO_MIN)
LEGACY_DOT_GEMM(q5_1, dc_block_q5_1, dc_block_q8_1, DC_QK5_1, u8_w, q5_1_codes, u8_isum, d8_q5_1,
                d8_q8_1, q5_1_min)
LEGACY_DOT_GEMM(q8_0, dc_block_q8_0, dc_block_q8_0, DC_QK8_0, s8_w, q8_0_codes, s8_isum, d8_q8_0,
                d8_q8_0, NO_MIN)

/* ---- K-quants: shared pieces -------------------------------------------------- */

/* int16 scale vectors for a 32-code vector that spans two 16-sub-blocks:
 * lanes 0-7 get scale 2p, lanes 8-15 scale 2p + 1, out of the 8 int16
 * scales held in both 128-bit lanes of s8x2 (a byte shuffle picking bytes
 * 4p, 4p + 1 low and 4p + 2, 4p + 3 high). */
static inline __m256i pair_scales(__m256i s8x2, int p) {
    const short lo = (short)((4 * p) | (4 * p + 1) << 8);
    const short hi = (short)((4 * p + 2) | (4 * p + 3) << 8);
    return _mm256_shuffle_epi8(s8x2, _mm256_setr_m128i(_mm_set1_epi16(lo), _mm_set1_epi16(hi)));
}

/* Sixteen int16 scales (int16 vector, sub-block order) -> eight pair vectors
 * for the code vectors k = 0..7 (sub-blocks 2k, 2k + 1). */
static inline void pair_scales16(__m256i sc16, __m256i out[8]) {
    const __m256i lo = _mm256_permute2x128_si256(sc16, sc16, 0x00);
    const __m256i hi = _mm256_permute2x128_si256(sc16, sc16, 0x11);
    for (int p = 0; p < 4; p++) {
        out[p]     = pair_scales(lo, p);
        out[p + 4] = pair_scales(hi, p);
    }
}

/* The 2-bit fields of Q2_K / Q3_K: code vector k = 4H + c (elements
 * 128H + 32c + l) is bits 2c..2c+1 of qs[32H + l]. */
static inline void low2_codes(const uint8_t *qs, __m256i q[8]) {
    const __m256i three = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; h++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * h));
        for (int c = 0; c < 4; c++)
            q[4 * h + c] = _mm256_and_si256(_mm256_srli_epi16(v, 2 * c), three);
    }
}

static inline __m256i load_a32(const dc_block_q8_k *a, int k) {
    return _mm256_loadu_si256((const __m256i *)(a->qs + 32 * k));
}

/* ---- Q2_K -------------------------------------------------------------------- */

typedef struct q2_k_w {
    __m256i q[8];  /* codes 0..3, vector k = elements 32k..32k+31 */
    __m256i sc[8]; /* int16 sc of sub-blocks 2k | 2k + 1          */
    __m256i m16;   /* int16 m_j, j = 0..15 (pairs with bsums)     */
    float   d, dmin;
} q2_k_w;

static inline void q2_k_unpack(const dc_block_q2_k *w, q2_k_w *u) {
    const __m128i s  = _mm_loadu_si128((const __m128i *)w->scales);
    const __m128i lo = _mm_set1_epi8(0x0F);
    low2_codes(w->qs, u->q);
    pair_scales16(_mm256_cvtepu8_epi16(_mm_and_si128(s, lo)), u->sc);
    u->m16  = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), lo));
    u->d    = avx2_h2f(w->d);
    u->dmin = avx2_h2f(w->dmin);
}

/* maddubs pairs <= 2 * 3 * 127; madd with sc <= 15 */
static inline __m256 q2_k_block(const q2_k_w *u, const dc_block_q8_k *a, __m256 acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; k++)
        isum = _mm256_add_epi32(
            isum, _mm256_madd_epi16(_mm256_maddubs_epi16(u->q[k], load_a32(a, k)), u->sc[k]));
    const __m256i imin = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), u->m16);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(a->d * u->d), _mm256_cvtepi32_ps(isum), acc);
    return _mm256_fnmadd_ps(_mm256_set1_ps(a->d * u->dmin), _mm256_cvtepi32_ps(imin), acc);
}

/* ---- Q3_K -------------------------------------------------------------------- */

/* The sixteen 6-bit scales s_j (bias 32) as bytes, j in order: bytes 0-7
 * give the low nibbles of s_0..s_7 (low) and s_8..s_15 (high), byte 8 + i
 * the top bits of s_i, s_i+4, s_i+8, s_i+12 (spec/quant-layouts.md §6). Done on
 * four 32-bit words, one per group of four scales. */
static inline __m128i q3_k_scales(const uint8_t *b) {
    const uint32_t lo4 = 0x0F0F0F0Fu, lo2 = 0x03030303u;
    const uint32_t w0 = u32le(b), w1 = u32le(b + 4), hb = u32le(b + 8);
    return _mm_setr_epi32((int32_t)((w0 & lo4) | ((hb & lo2) << 4)),
                          (int32_t)((w1 & lo4) | (((hb >> 2) & lo2) << 4)),
                          (int32_t)(((w0 >> 4) & lo4) | (((hb >> 4) & lo2) << 4)),
                          (int32_t)(((w1 >> 4) & lo4) | (((hb >> 6) & lo2) << 4)));
}

typedef struct q3_k_w {
    __m256i qa[8], qs[8]; /* |q| and q, q = low2 - 4 (high bit clear) in -4..3 */
    __m256i sc[8];        /* int16 s_j - 32 of sub-blocks 2k | 2k + 1         */
    float   d;
} q3_k_w;

static inline void q3_k_unpack(const dc_block_q3_k *w, q3_k_w *u) {
    const __m256i hm   = _mm256_loadu_si256((const __m256i *)w->hmask);
    const __m256i four = _mm256_set1_epi8(4);
    __m256i       low[8];
    low2_codes(w->qs, low);
    for (int k = 0; k < 8; k++) {
        /* element 32k + l has its high bit at bit k of hmask[l] */
        const __m256i bit   = _mm256_set1_epi8((char)(1 << k));
        const __m256i clear = _mm256_cmpeq_epi8(_mm256_and_si256(hm, bit), _mm256_setzero_si256());
        const __m256i q     = _mm256_sub_epi8(low[k], _mm256_and_si256(clear, four));
        u->qa[k]            = _mm256_sign_epi8(q, q);
        u->qs[k]            = q;
    }
    const __m128i s = _mm_sub_epi8(q3_k_scales(w->scales), _mm_set1_epi8(32));
    pair_scales16(_mm256_cvtepi8_epi16(s), u->sc);
    u->d = avx2_h2f(w->d);
}

/* sign trick as s8_isum (the Q8_K quantizer never makes -128); maddubs
 * pairs <= 2 * 4 * 127; madd with |s - 32| <= 32 */
static inline __m256 q3_k_block(const q3_k_w *u, const dc_block_q8_k *a, __m256 acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; k++) {
        const __m256i p =
            _mm256_maddubs_epi16(u->qa[k], _mm256_sign_epi8(load_a32(a, k), u->qs[k]));
        isum = _mm256_add_epi32(isum, _mm256_madd_epi16(p, u->sc[k]));
    }
    return _mm256_fmadd_ps(_mm256_set1_ps(u->d * a->d), _mm256_cvtepi32_ps(isum), acc);
}

/* ---- Q4_K / Q5_K -------------------------------------------------------------- */

/* The Q4_K / Q5_K 6-bit scales and mins (spec/fp8-gguf.md §2.4) as
 * bytes sc_0..sc_7, m_0..m_7, on 32-bit words: sc_0..3 / m_0..3 are the low
 * 6 bits of bytes 0-3 / 4-7; sc_4..7 / m_4..7 take bits 0-3 from the low /
 * high nibble of bytes 8-11 and bits 4-5 from the top of bytes 0-3 / 4-7. */
static inline __m128i k4_scales(const uint8_t *b) {
    const uint32_t lo6 = 0x3F3F3F3Fu, lo4 = 0x0F0F0F0Fu, lo2 = 0x03030303u;
    const uint32_t w0 = u32le(b), w1 = u32le(b + 4), w2 = u32le(b + 8);
    return _mm_setr_epi32((int32_t)(w0 & lo6), (int32_t)((w2 & lo4) | (((w0 >> 6) & lo2) << 4)),
                          (int32_t)(w1 & lo6),
                          (int32_t)(((w2 >> 4) & lo4) | (((w1 >> 6) & lo2) << 4)));
}

typedef struct q4_k_w {
    __m256i q[8];  /* codes of sub-block j (32 elements)   */
    __m256i sc[8]; /* int16 sc_j broadcast                 */
    __m256i m2;    /* int16 m_0 m_0 m_1 m_1 .. m_7 m_7     */
    float   d, dmin;
} q4_k_w;

typedef q4_k_w q5_k_w;

static inline void k4_set_scales(const uint8_t *scales, uint16_t d, uint16_t dmin, q4_k_w *u) {
    const __m128i sm  = k4_scales(scales);
    const __m256i sc  = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    const __m128i dup = _mm_setr_epi8(8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15);
    for (int j = 0; j < 8; j++)
        u->sc[j] = _mm256_shuffle_epi8(sc, _mm256_set1_epi16((short)((2 * j) | (2 * j + 1) << 8)));
    u->m2   = _mm256_cvtepu8_epi16(_mm_shuffle_epi8(sm, dup));
    u->d    = avx2_h2f(d);
    u->dmin = avx2_h2f(dmin);
}

/* Sub-block 2c is the low nibbles of qs[32c..32c+31], 2c + 1 the high. */
static inline void k4_nibbles(const uint8_t *qs, __m256i q[8]) {
    const __m256i lo = _mm256_set1_epi8(0x0F);
    for (int c = 0; c < 4; c++) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        q[2 * c]        = _mm256_and_si256(v, lo);
        q[2 * c + 1]    = _mm256_and_si256(_mm256_srli_epi16(v, 4), lo);
    }
}

static inline void q4_k_unpack(const dc_block_q4_k *w, q4_k_w *u) {
    k4_nibbles(w->qs, u->q);
    k4_set_scales(w->scales, w->d, w->dmin, u);
}

/* Q5_K: element 32j + l takes bit j of qh[l] as its fifth bit. */
static inline void q5_k_unpack(const dc_block_q5_k *w, q5_k_w *u) {
    const __m256i qh  = _mm256_loadu_si256((const __m256i *)w->qh);
    const __m256i one = _mm256_set1_epi8(1);
    k4_nibbles(w->qs, u->q);
    for (int j = 0; j < 8; j++) {
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(qh, j), one);
        u->q[j]          = _mm256_or_si256(u->q[j], _mm256_slli_epi16(hb, 4));
    }
    k4_set_scales(w->scales, w->d, w->dmin, u);
}

/* maddubs pairs <= 2 * 31 * 127; madd with sc <= 63. The mins: m_j times
 * bsums 2j and 2j + 1, one madd. */
static inline __m256 q4_k_block(const q4_k_w *u, const dc_block_q8_k *a, __m256 acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int j = 0; j < 8; j++)
        isum = _mm256_add_epi32(
            isum, _mm256_madd_epi16(_mm256_maddubs_epi16(u->q[j], load_a32(a, j)), u->sc[j]));
    const __m256i imin = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), u->m2);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(u->d * a->d), _mm256_cvtepi32_ps(isum), acc);
    return _mm256_fnmadd_ps(_mm256_set1_ps(u->dmin * a->d), _mm256_cvtepi32_ps(imin), acc);
}

#define q5_k_block q4_k_block

/* ---- Q6_K -------------------------------------------------------------------- */

typedef struct q6_k_w {
    __m256i q[8];  /* unsigned 6-bit codes 0..63, vector k = elements 32k.. */
    __m256i sc[8]; /* int16 scales of sub-blocks 2k | 2k + 1               */
    __m256i sc16;  /* int16 scales 0..15 (pairs with bsums)                */
    float   d;
} q6_k_w;

/* Half h: ql[64h..64h+63], qh[32h..32h+31]; element 128h + 32p + l takes
 * the low (p < 2) or high nibble of ql[64h + 32(p & 1) + l] and bits
 * 2p..2p+1 of qh[32h + l] (spec/fp8-gguf.md §2.4). */
static inline void q6_k_unpack(const dc_block_q6_k *w, q6_k_w *u) {
    const __m256i lo = _mm256_set1_epi8(0x0F);
    for (int h = 0; h < 2; h++) {
        const __m256i l0 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h));
        const __m256i l1 = _mm256_loadu_si256((const __m256i *)(w->ql + 64 * h + 32));
        const __m256i qh = _mm256_loadu_si256((const __m256i *)(w->qh + 32 * h));
        const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x03)), 4);
        const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(qh, _mm256_set1_epi8(0x0C)), 2);
        const __m256i h2 = _mm256_and_si256(qh, _mm256_set1_epi8(0x30));
        const __m256i h3 = _mm256_and_si256(_mm256_srli_epi16(qh, 2), _mm256_set1_epi8(0x30));
        u->q[4 * h + 0]  = _mm256_or_si256(_mm256_and_si256(l0, lo), h0);
        u->q[4 * h + 1]  = _mm256_or_si256(_mm256_and_si256(l1, lo), h1);
        u->q[4 * h + 2]  = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), lo), h2);
        u->q[4 * h + 3]  = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), lo), h3);
    }
    u->sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales));
    pair_scales16(u->sc16, u->sc);
    u->d = avx2_h2f(w->d);
}

/* isum = sum_j sc_j sum (q - 32) a = sum_j sc_j sum q a - 32 sum_j sc_j bsums_j:
 * the unsigned codes go straight into maddubs (pairs <= 2 * 63 * 127), the
 * offset comes from the activation's block sums (one madd; scalar.c's Q2_K
 * and Q4_K dots rely on bsums the same way). */
static inline __m256 q6_k_block(const q6_k_w *u, const dc_block_q8_k *a, __m256 acc) {
    __m256i isum = _mm256_setzero_si256();
    for (int k = 0; k < 8; k++)
        isum = _mm256_add_epi32(
            isum, _mm256_madd_epi16(_mm256_maddubs_epi16(u->q[k], load_a32(a, k)), u->sc[k]));
    const __m256i off = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), u->sc16);
    isum              = _mm256_sub_epi32(isum, _mm256_slli_epi32(off, 5));
    return _mm256_fmadd_ps(_mm256_set1_ps(u->d * a->d), _mm256_cvtepi32_ps(isum), acc);
}

DOT_GEMM(q2_k, dc_block_q2_k, dc_block_q8_k, DC_QK_K)
DOT_GEMM(q3_k, dc_block_q3_k, dc_block_q8_k, DC_QK_K)
DOT_GEMM(q4_k, dc_block_q4_k, dc_block_q8_k, DC_QK_K)
DOT_GEMM(q5_k, dc_block_q5_k, dc_block_q8_k, DC_QK_K)
DOT_GEMM(q6_k, dc_block_q6_k, dc_block_q8_k, DC_QK_K)

/* ---- dequant ------------------------------------------------------------------- */

/* y[0..32) = (float)q[i] * d for 32 signed codes; the reference's
 * (float)code * d (exact: codes <= 8 bits, d 11 bits). */
static inline void store_mul32(float *y, __m256i q, __m256 d) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i part[4] = { lo, _mm_unpackhi_epi64(lo, lo), hi, _mm_unpackhi_epi64(hi, hi) };
    for (int i = 0; i < 4; i++)
        _mm256_storeu_ps(y + 8 * i,
                         _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part[i])), d));
}

/* y[0..32) = (float)q[i] * d + m (Q4_1 / Q5_1), or d * q - m (K-quant with a
 * min, sub = true): product exact, one rounding in the add. */
static inline void store_mul_add32(float *y, __m256i q, __m256 d, __m256 m, bool sub) {
    const __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
    const __m128i part[4] = { lo, _mm_unpackhi_epi64(lo, lo), hi, _mm_unpackhi_epi64(hi, hi) };
    for (int i = 0; i < 4; i++) {
        const __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(part[i])), d);
        _mm256_storeu_ps(y + 8 * i, sub ? _mm256_sub_ps(p, m) : _mm256_add_ps(p, m));
    }
}

static void dequant_q4_0(const void *src, float *y, int64_t n) {
    const dc_block_q4_0 *x = src;
    for (int64_t b = 0; b < n / DC_QK4_0; b++) {
        const __m256i q = _mm256_sub_epi8(nib32(x[b].qs), _mm256_set1_epi8(8));
        store_mul32(y + b * DC_QK4_0, q, _mm256_set1_ps(avx2_h2f(x[b].d)));
    }
}

static void dequant_q4_1(const void *src, float *y, int64_t n) {
    const dc_block_q4_1 *x = src;
    for (int64_t b = 0; b < n / DC_QK4_1; b++) {
        u8_w u;
        q4_1_codes(&x[b], &u);
        store_mul_add32(y + b * DC_QK4_1, u.q, _mm256_set1_ps(avx2_h2f(x[b].d)),
                        _mm256_set1_ps(avx2_h2f(x[b].m)), false);
    }
}

static void dequant_q5_0(const void *src, float *y, int64_t n) {
    const dc_block_q5_0 *x = src;
    for (int64_t b = 0; b < n / DC_QK5_0; b++) {
        s8_w u;
        q5_0_codes(&x[b], &u);
        store_mul32(y + b * DC_QK5_0, u.sgn, _mm256_set1_ps(avx2_h2f(x[b].d)));
    }
}

static void dequant_q5_1(const void *src, float *y, int64_t n) {
    const dc_block_q5_1 *x = src;
    for (int64_t b = 0; b < n / DC_QK5_1; b++) {
        u8_w u;
        q5_1_codes(&x[b], &u);
        store_mul_add32(y + b * DC_QK5_1, u.q, _mm256_set1_ps(avx2_h2f(x[b].d)),
                        _mm256_set1_ps(avx2_h2f(x[b].m)), false);
    }
}

static void dequant_q8_0(const void *src, float *y, int64_t n) {
    const dc_block_q8_0 *x = src;
    for (int64_t b = 0; b < n / DC_QK8_0; b++)
        store_mul32(y + b * DC_QK8_0, _mm256_loadu_si256((const __m256i *)x[b].qs),
                    _mm256_set1_ps(avx2_h2f(x[b].d)));
}

/* dl = d * sc, ml = dmin * m per sub-block of 16, y = dl * q - ml */
static void dequant_q2_k(const void *src, float *y, int64_t n) {
    const dc_block_q2_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const float d = avx2_h2f(x[b].d), dmin = avx2_h2f(x[b].dmin);
        __m256i     q[8];
        low2_codes(x[b].qs, q);
        for (int k = 0; k < 8; k++)
            for (int half = 0; half < 2; half++) {
                const int     j  = 2 * k + half;
                const __m256  dl = _mm256_set1_ps(d * (float)(x[b].scales[j] & 0xF));
                const __m256  ml = _mm256_set1_ps(dmin * (float)(x[b].scales[j] >> 4));
                const __m128i c =
                    half ? _mm256_extracti128_si256(q[k], 1) : _mm256_castsi256_si128(q[k]);
                float *yj = y + b * DC_QK_K + 16 * j;
                for (int i = 0; i < 2; i++) {
                    const __m128i c8 = i ? _mm_unpackhi_epi64(c, c) : c;
                    const __m256  p =
                        _mm256_mul_ps(dl, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(c8)));
                    _mm256_storeu_ps(yj + 8 * i, _mm256_sub_ps(p, ml));
                }
            }
    }
}

/* y = (d * (s_j - 32)) * q, per sub-block of 16 */
static void dequant_q3_k(const void *src, float *y, int64_t n) {
    const dc_block_q3_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        q3_k_w u;
        q3_k_unpack(&x[b], &u);
        int8_t s[16];
        _mm_storeu_si128((__m128i *)s, _mm_sub_epi8(q3_k_scales(x[b].scales), _mm_set1_epi8(32)));
        for (int k = 0; k < 8; k++)
            for (int half = 0; half < 2; half++) {
                const int     j = 2 * k + half;
                const __m128i c =
                    half ? _mm256_extracti128_si256(u.qs[k], 1) : _mm256_castsi256_si128(u.qs[k]);
                const __m256 dl = _mm256_set1_ps(u.d * (float)s[j]);
                float       *yj = y + b * DC_QK_K + 16 * j;
                for (int i = 0; i < 2; i++) {
                    const __m128i c8 = i ? _mm_unpackhi_epi64(c, c) : c;
                    _mm256_storeu_ps(yj + 8 * i, _mm256_mul_ps(dl, _mm256_cvtepi32_ps(
                                                                       _mm256_cvtepi8_epi32(c8))));
                }
            }
    }
}

/* y = (d * sc_j) * q - dmin * m_j per sub-block of 32 (Q4_K and Q5_K) */
static void k4_store(float *y, const q4_k_w *u, const uint8_t *scales) {
    uint8_t sm[16];
    _mm_storeu_si128((__m128i *)sm, k4_scales(scales));
    for (int j = 0; j < 8; j++) {
        const __m256 d1 = _mm256_set1_ps(u->d * (float)sm[j]);
        const __m256 m1 = _mm256_set1_ps(u->dmin * (float)sm[8 + j]);
        store_mul_add32(y + 32 * j, u->q[j], d1, m1, true);
    }
}

static void dequant_q4_k(const void *src, float *y, int64_t n) {
    const dc_block_q4_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        q4_k_w u;
        q4_k_unpack(&x[b], &u);
        k4_store(y + b * DC_QK_K, &u, x[b].scales);
    }
}

static void dequant_q5_k(const void *src, float *y, int64_t n) {
    const dc_block_q5_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        q5_k_w u;
        q5_k_unpack(&x[b], &u);
        k4_store(y + b * DC_QK_K, &u, x[b].scales);
    }
}

/* y = d * sc_j * (q - 32), evaluated (d * sc_j) * (q - 32) as the reference */
static void dequant_q6_k(const void *src, float *y, int64_t n) {
    const dc_block_q6_k *x = src;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        q6_k_w u;
        q6_k_unpack(&x[b], &u);
        for (int k = 0; k < 8; k++) {
            const __m256i q = _mm256_sub_epi8(u.q[k], _mm256_set1_epi8(32));
            for (int half = 0; half < 2; half++) {
                const int     j = 2 * k + half;
                const __m128i c = half ? _mm256_extracti128_si256(q, 1) : _mm256_castsi256_si128(q);
                const __m256  dl = _mm256_set1_ps(u.d * (float)x[b].scales[j]);
                float        *yj = y + b * DC_QK_K + 16 * j;
                for (int i = 0; i < 2; i++) {
                    const __m128i c8 = i ? _mm_unpackhi_epi64(c, c) : c;
                    _mm256_storeu_ps(yj + 8 * i, _mm256_mul_ps(dl, _mm256_cvtepi32_ps(
                                                                       _mm256_cvtepi8_epi32(c8))));
                }
            }
        }
    }
}

/* ---- table --------------------------------------------------------------------- */

void dc_cpu_avx2_init_quant(dc_cpu_kernels *k) {
    static const struct {
        dc_type       t;
        dc_vec_dot_fn dot;
        dc_gemm_fn    gemm;
        dc_dequant_fn dequant;
    } tab[] = {
        { DC_TYPE_Q4_0, vec_dot_q4_0, gemm_q4_0, dequant_q4_0 },
        { DC_TYPE_Q4_1, vec_dot_q4_1, gemm_q4_1, dequant_q4_1 },
        { DC_TYPE_Q5_0, vec_dot_q5_0, gemm_q5_0, dequant_q5_0 },
        { DC_TYPE_Q5_1, vec_dot_q5_1, gemm_q5_1, dequant_q5_1 },
        { DC_TYPE_Q8_0, vec_dot_q8_0, gemm_q8_0, dequant_q8_0 },
        { DC_TYPE_Q2_K, vec_dot_q2_k, gemm_q2_k, dequant_q2_k },
        { DC_TYPE_Q3_K, vec_dot_q3_k, gemm_q3_k, dequant_q3_k },
        { DC_TYPE_Q4_K, vec_dot_q4_k, gemm_q4_k, dequant_q4_k },
        { DC_TYPE_Q5_K, vec_dot_q5_k, gemm_q5_k, dequant_q5_k },
        { DC_TYPE_Q6_K, vec_dot_q6_k, gemm_q6_k, dequant_q6_k },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        const int s   = dc_type_slot(tab[i].t);
        k->vec_dot[s] = tab[i].dot;
        k->gemm[s]    = tab[i].gemm;
        k->dequant[s] = tab[i].dequant;
    }
}
