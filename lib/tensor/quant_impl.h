/*
 * quant_impl.h - block layouts, scalar float conversions and the reference
 * row quantizers / dequantizers behind the traits table (types.c). Private
 * to lib/tensor and the CPU kernels; never installed.
 *
 * Every block struct is the on-disk byte layout of its GGUF type (ggml's,
 * spec/fp8-gguf.md §2.4 and spec/quant-layouts.md), packed by construction
 * (only byte-sized or naturally aligned fields) and pinned by a
 * _Static_assert on its size. f16 fields are raw IEEE-half bit patterns.
 *
 * The row functions take n elements (a multiple of the type's block size,
 * checked by the callers in types.c) and never fail. Quantizers reproduce
 * ggml's FMA-free reference build bit for bit, so this module is compiled
 * with -ffp-contract=off and every expression keeps the evaluation order the
 * spec writes: do not "simplify" a*b*c into a*(b*c) here.
 */
#ifndef DEEPC_QUANT_IMPL_H
#define DEEPC_QUANT_IMPL_H

#include "tensor_impl.h"

#include <math.h>
#include <string.h>

#define DC_QK4_0 32
#define DC_QK4_1 32
#define DC_QK5_0 32
#define DC_QK5_1 32
#define DC_QK8_0 32
#define DC_QK8_1 32
#define DC_QK_K  256
#define DC_QK_F8 128

/* ---- block layouts ---------------------------------------------------------- */

/* Q4_0: y = (nib - 8) * d; element j < 16 in the low nibble of qs[j],
 * element j + 16 in its high nibble. */
typedef struct dc_block_q4_0 {
    uint16_t d;                      /* f16 scale                           */
    uint8_t  qs[DC_QK4_0 / 2];       /* [32] nibbles                        */
} dc_block_q4_0;
_Static_assert(sizeof(dc_block_q4_0) == 18, "Q4_0 block is 18 bytes");

/* Q4_1: y = nib * d + m; nibbles placed as Q4_0. */
typedef struct dc_block_q4_1 {
    uint16_t d;                      /* f16 scale                           */
    uint16_t m;                      /* f16 minimum                         */
    uint8_t  qs[DC_QK4_1 / 2];
} dc_block_q4_1;
_Static_assert(sizeof(dc_block_q4_1) == 20, "Q4_1 block is 20 bytes");

/* Q5_0: y = (q - 16) * d, q = nib | (bit e of qh) << 4. */
typedef struct dc_block_q5_0 {
    uint16_t d;
    uint8_t  qh[4];                  /* little-endian u32, bit e = elem e   */
    uint8_t  qs[DC_QK5_0 / 2];
} dc_block_q5_0;
_Static_assert(sizeof(dc_block_q5_0) == 22, "Q5_0 block is 22 bytes");

/* Q5_1: y = q * d + m, q as Q5_0. */
typedef struct dc_block_q5_1 {
    uint16_t d;
    uint16_t m;
    uint8_t  qh[4];
    uint8_t  qs[DC_QK5_1 / 2];
} dc_block_q5_1;
_Static_assert(sizeof(dc_block_q5_1) == 24, "Q5_1 block is 24 bytes");

/* Q8_0: y = qs * d. */
typedef struct dc_block_q8_0 {
    uint16_t d;
    int8_t   qs[DC_QK8_0];
} dc_block_q8_0;
_Static_assert(sizeof(dc_block_q8_0) == 34, "Q8_0 block is 34 bytes");

/* Q8_1 (activations only): y = qs * d; s = f16(d_f32 * sum qs) lets a dot
 * fold in the weight's per-block minimum. */
typedef struct dc_block_q8_1 {
    uint16_t d;
    uint16_t s;
    int8_t   qs[DC_QK8_1];
} dc_block_q8_1;
_Static_assert(sizeof(dc_block_q8_1) == 36, "Q8_1 block is 36 bytes");

/* Q2_K: 16 sub-blocks of 16; y = d*sc_j*q - dmin*m_j, q 2 bits. */
typedef struct dc_block_q2_k {
    uint8_t  scales[DC_QK_K / 16];   /* low nibble sc_j, high nibble m_j    */
    uint8_t  qs[DC_QK_K / 4];        /* [64] 2-bit codes, 4 per byte        */
    uint16_t d;                      /* f16 (last, unlike Q4_K)             */
    uint16_t dmin;
} dc_block_q2_k;
_Static_assert(sizeof(dc_block_q2_k) == 84, "Q2_K block is 84 bytes");

/* Q3_K: 16 sub-blocks of 16; y = d*(s_j - 32)*q, q in -4..3. */
typedef struct dc_block_q3_k {
    uint8_t  hmask[DC_QK_K / 8];     /* [32] bit b of byte k: elem 32b + k  */
    uint8_t  qs[DC_QK_K / 4];        /* [64] low 2 bits, as Q2_K            */
    uint8_t  scales[12];             /* sixteen 6-bit scales, bias 32       */
    uint16_t d;
} dc_block_q3_k;
_Static_assert(sizeof(dc_block_q3_k) == 110, "Q3_K block is 110 bytes");

/* Q4_K: 8 sub-blocks of 32; y = d*sc_j*q - dmin*m_j, 6-bit sc/m packed. */
typedef struct dc_block_q4_k {
    uint16_t d;
    uint16_t dmin;
    uint8_t  scales[12];
    uint8_t  qs[DC_QK_K / 2];        /* [128] */
} dc_block_q4_k;
_Static_assert(sizeof(dc_block_q4_k) == 144, "Q4_K block is 144 bytes");

/* Q5_K: as Q4_K with a fifth bit per element in qh. */
typedef struct dc_block_q5_k {
    uint16_t d;
    uint16_t dmin;
    uint8_t  scales[12];
    uint8_t  qh[DC_QK_K / 8];        /* [32] */
    uint8_t  qs[DC_QK_K / 2];        /* [128] */
} dc_block_q5_k;
_Static_assert(sizeof(dc_block_q5_k) == 176, "Q5_K block is 176 bytes");

/* Q6_K: 16 sub-blocks of 16; y = d*sc_j*(q - 32), q 6 bits. */
typedef struct dc_block_q6_k {
    uint8_t  ql[DC_QK_K / 2];        /* [128] low 4 bits  */
    uint8_t  qh[DC_QK_K / 4];        /* [64]  high 2 bits */
    int8_t   scales[DC_QK_K / 16];   /* [16]              */
    uint16_t d;                      /* f16 (last)        */
} dc_block_q6_k;
_Static_assert(sizeof(dc_block_q6_k) == 210, "Q6_K block is 210 bytes");

/* Q8_K (activations of K-quant dots): y = d * qs, d kept in f32. */
typedef struct dc_block_q8_k {
    float    d;
    int8_t   qs[DC_QK_K];            /* [256] */
    int16_t  bsums[DC_QK_K / 16];    /* [16] sum of each run of 16 qs */
} dc_block_q8_k;
_Static_assert(sizeof(dc_block_q8_k) == 292, "Q8_K block is 292 bytes");

/* F8_E4M3_B128 (deepc's id 1024): the f32 scale FIRST, then 128 E4M3 codes
 * along the row; y = e4m3(qs[i]) * d. 132 bytes: consecutive blocks stay
 * 4-byte aligned, so d is read in place. */
typedef struct dc_block_f8_b128 {
    float    d;
    uint8_t  qs[DC_QK_F8];           /* [128] E4M3 codes */
} dc_block_f8_b128;
_Static_assert(sizeof(dc_block_f8_b128) == 132, "F8_E4M3_B128 block is 132 bytes");

/* ---- scalar helpers (inline: used per element by kernels) ---------------- */

static inline uint32_t dc_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float dc_f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* IEEE half -> f32, exact for every code (subnormals, inf, NaN kept). */
static inline float dc_half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp  = (h >> 10) & 0x1f;
    uint32_t man  = h & 0x3ffu;
    if (exp == 0x1f)                          /* inf / NaN */
        return dc_f32_from_bits(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {                           /* zero / subnormal: man * 2^-24 */
        float v = (float)man * 0x1p-24f;
        return sign ? -v : v;
    }
    return dc_f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
}

/* bf16 -> f32: the top half of an f32, exact. */
static inline float dc_bfloat_to_float(uint16_t h) {
    return dc_f32_from_bits((uint32_t)h << 16);
}

/* ggml's nearest_int: round half to even (rintf in the default FP
 * environment). ggml's magic-add trick is only defined for |v| <= 4194303,
 * which every quantizer operand satisfies on finite input (spec/quant-
 * layouts.md §0); beyond it (inf / NaN input) we clamp rather than make an
 * undefined float -> int conversion. */
static inline int dc_nearest_int(float v) {
    if (!(fabsf(v) <= 4194303.0f))
        return v > 0 ? 4194303 : -4194303;
    return (int)rintf(v);
}

/* E4M3 code -> integer k with value = k * 2^-9 (float_conv.c). Exact for the
 * 254 finite codes; the NaN codes (code & 0x7F) == 0x7F must be tested apart. */
extern const int32_t dc_e4m3_k[256];

/* ---- row converters (float_conv.c) ------------------------------------------ */
void dc_quantize_row_f32(const float *src, void *dst, int64_t n);
void dc_dequantize_row_f32(const void *src, float *dst, int64_t n);
void dc_quantize_row_f16(const float *src, void *dst, int64_t n);
void dc_dequantize_row_f16(const void *src, float *dst, int64_t n);
void dc_quantize_row_bf16(const float *src, void *dst, int64_t n);
void dc_dequantize_row_bf16(const void *src, float *dst, int64_t n);
void dc_quantize_row_f64(const float *src, void *dst, int64_t n);
void dc_dequantize_row_f64(const void *src, float *dst, int64_t n);
/* F8_E4M3_B128 per 128: s = max(amax, 1e-4) / 448, q = e4m3(x / s). */
void dc_quantize_row_f8_b128(const float *src, void *dst, int64_t n);
void dc_dequantize_row_f8_b128(const void *src, float *dst, int64_t n);

/* ---- legacy 32-blocks (quant_legacy.c) ------------------------------------- */
void dc_quantize_row_q4_0(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q4_0(const void *src, float *dst, int64_t n);
void dc_quantize_row_q4_1(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q4_1(const void *src, float *dst, int64_t n);
void dc_quantize_row_q5_0(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q5_0(const void *src, float *dst, int64_t n);
void dc_quantize_row_q5_1(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q5_1(const void *src, float *dst, int64_t n);
/* Reference Q8_0 / Q8_1 (weights): q = roundf(x * (1/d)), halves away. */
void dc_quantize_row_q8_0(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q8_0(const void *src, float *dst, int64_t n);
void dc_quantize_row_q8_1(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q8_1(const void *src, float *dst, int64_t n);

/* ---- K-quants (quant_k.c) ---------------------------------------------------- */
void dc_quantize_row_q2_k(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q2_k(const void *src, float *dst, int64_t n);
void dc_quantize_row_q3_k(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q3_k(const void *src, float *dst, int64_t n);
void dc_quantize_row_q4_k(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q4_k(const void *src, float *dst, int64_t n);
void dc_quantize_row_q5_k(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q5_k(const void *src, float *dst, int64_t n);
void dc_quantize_row_q6_k(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q6_k(const void *src, float *dst, int64_t n);
void dc_quantize_row_q8_k(const float *src, void *dst, int64_t n);
void dc_dequantize_row_q8_k(const void *src, float *dst, int64_t n);

/* Q4_K / Q5_K 6-bit scale and min of sub-block j (0..7) from scales[12]. */
static inline void dc_get_scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m  = q[j + 4] & 63;
    } else {
        *sc = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m  = (uint8_t)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

/* Q3_K biased 6-bit scale s_j (0..63) of sub-block j (0..15). */
static inline int dc_get_scale_q3_k(int j, const uint8_t *b) {
    int lo = j < 8 ? (b[j] & 15) : (b[j - 8] >> 4);
    int hi = (b[8 + j % 4] >> (2 * (j / 4))) & 3;
    return lo | (hi << 4);
}

#endif /* DEEPC_QUANT_IMPL_H */
