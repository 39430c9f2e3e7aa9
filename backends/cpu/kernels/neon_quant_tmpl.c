/*
 * neon_quant_tmpl.c - the quantized dots and gemm tiles for aarch64, written
 * once and compiled twice (dav1d's _tmpl.c): neon_quant.c with a plain NEON
 * 16-lane int8 dot (SMULL + SADALP), neon_dotprod.c with SDOT. Not a
 * translation unit of its own; the includer defines
 *   NQ(name)          the suffix of every function (name##_neon, ..._dotprod)
 *   dot16(acc, a, b)  acc (int32x4) + the 16 products a[i] * b[i] summed in
 *                     groups of four (any grouping: only the total is used)
 *
 * Integer sums are exact in both (|products| <= 127 * 128, an int32 lane per
 * four or eight of them), so a block's isum is the scalar one whichever
 * instruction made it. The float part copies scalar.c's expressions, with
 * its evaluation order and one f32 accumulator over blocks in row order:
 * vec_dot is bit-identical to the scalar reference, and the gemm tiles,
 * which run the same per-(row, column) sequence, to vec_dot.
 *
 * Legacy 32-blocks go four at a time: four isums in one register (a pairwise
 * reduction), their f32 terms formed lane-wise (the same IEEE operations as
 * scalar), then added to the accumulator lane 0 to 3. K-quant super-blocks
 * are unpacked into sixteen runs of 16 codes with a scale (and a min) per run.
 */

/* ---- legacy 32-blocks --------------------------------------------------------------- */

enum { LQ4_0, LQ4_1, LQ5_0, LQ5_1, LQ8_0 };

/* Codes of weight block b (offset removed): elements 0..15 and 16..31. */
static inline void NQ(lw_codes)(int t, const void *row, int64_t b, int8x16_t q[2]) {
    uint8x16_t lo, hi, hl, hh;
    switch (t) {
    case LQ4_0:
        neon_nibbles(((const dc_block_q4_0 *)row)[b].qs, &lo, &hi);
        q[0] = vsubq_s8(vreinterpretq_s8_u8(lo), vdupq_n_s8(8));
        q[1] = vsubq_s8(vreinterpretq_s8_u8(hi), vdupq_n_s8(8));
        return;
    case LQ4_1:
        neon_nibbles(((const dc_block_q4_1 *)row)[b].qs, &lo, &hi);
        q[0] = vreinterpretq_s8_u8(lo);
        q[1] = vreinterpretq_s8_u8(hi);
        return;
    case LQ5_0: {
        const dc_block_q5_0 *x = (const dc_block_q5_0 *)row + b;
        neon_nibbles(x->qs, &lo, &hi);
        neon_q5_hbits(x->qh, &hl, &hh);
        q[0] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(lo, hl)), vdupq_n_s8(16));
        q[1] = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(hi, hh)), vdupq_n_s8(16));
        return;
    }
    case LQ5_1: {
        const dc_block_q5_1 *x = (const dc_block_q5_1 *)row + b;
        neon_nibbles(x->qs, &lo, &hi);
        neon_q5_hbits(x->qh, &hl, &hh);
        q[0] = vreinterpretq_s8_u8(vorrq_u8(lo, hl));
        q[1] = vreinterpretq_s8_u8(vorrq_u8(hi, hh));
        return;
    }
    default: {
        const dc_block_q8_0 *x = (const dc_block_q8_0 *)row + b;
        q[0] = vld1q_s8(x->qs);
        q[1] = vld1q_s8(x->qs + 16);
        return;
    }
    }
}

/* f16 scale d (and min m of the _1 types) of weight block b. */
static inline uint16_t NQ(lw_d)(int t, const void *row, int64_t b) {
    switch (t) {
    case LQ4_0: return ((const dc_block_q4_0 *)row)[b].d;
    case LQ4_1: return ((const dc_block_q4_1 *)row)[b].d;
    case LQ5_0: return ((const dc_block_q5_0 *)row)[b].d;
    case LQ5_1: return ((const dc_block_q5_1 *)row)[b].d;
    default:    return ((const dc_block_q8_0 *)row)[b].d;
    }
}

static inline uint16_t NQ(lw_m)(int t, const void *row, int64_t b) {
    return t == LQ4_1 ? ((const dc_block_q4_1 *)row)[b].m : ((const dc_block_q5_1 *)row)[b].m;
}

static inline bool lw_has_min(int t) { return t == LQ4_1 || t == LQ5_1; }

/* Activation block b: Q8_1 for the _1 types, Q8_0 otherwise. */
static inline const int8_t *NQ(la_qs)(int t, const void *a, int64_t b) {
    return lw_has_min(t) ? ((const dc_block_q8_1 *)a)[b].qs : ((const dc_block_q8_0 *)a)[b].qs;
}
static inline uint16_t NQ(la_d)(int t, const void *a, int64_t b) {
    return lw_has_min(t) ? ((const dc_block_q8_1 *)a)[b].d : ((const dc_block_q8_0 *)a)[b].d;
}

/* Integer dot of one block's codes with its activation block (4 lanes). */
static inline int32x4_t NQ(l_idot)(const int8x16_t q[2], const int8_t *aq) {
    return dot16(dot16(vdupq_n_s32(0), q[0], vld1q_s8(aq)), q[1], vld1q_s8(aq + 16));
}

/* Adds the terms of blocks b..b+3 (codes q[8]) to sumf, in block order:
 *   _0: isum * (d_w * d_a)     _1: (d_w * d_a) * isum + m_w * s_a */
static inline float NQ(l_acc4)(int t, const int8x16_t q[8], const void *w, const void *a,
                               int64_t b, float sumf) {
    const int32x4_t   isum = neon_hsum4(NQ(l_idot)(q, NQ(la_qs)(t, a, b)),
                                        NQ(l_idot)(q + 2, NQ(la_qs)(t, a, b + 1)),
                                        NQ(l_idot)(q + 4, NQ(la_qs)(t, a, b + 2)),
                                        NQ(l_idot)(q + 6, NQ(la_qs)(t, a, b + 3)));
    const float32x4_t dw = neon_h4(NQ(lw_d)(t, w, b), NQ(lw_d)(t, w, b + 1), NQ(lw_d)(t, w, b + 2),
                                   NQ(lw_d)(t, w, b + 3));
    const float32x4_t da = neon_h4(NQ(la_d)(t, a, b), NQ(la_d)(t, a, b + 1), NQ(la_d)(t, a, b + 2),
                                   NQ(la_d)(t, a, b + 3));
    const float32x4_t dd = vmulq_f32(dw, da);
    float32x4_t       term;
    if (lw_has_min(t)) {
        const dc_block_q8_1 *a1 = (const dc_block_q8_1 *)a + b;
        const float32x4_t m = neon_h4(NQ(lw_m)(t, w, b), NQ(lw_m)(t, w, b + 1), NQ(lw_m)(t, w, b + 2),
                                      NQ(lw_m)(t, w, b + 3));
        const float32x4_t s = neon_h4(a1[0].s, a1[1].s, a1[2].s, a1[3].s);
        term = vaddq_f32(vmulq_f32(dd, vcvtq_f32_s32(isum)), vmulq_f32(m, s));
    } else {
        term = vmulq_f32(vcvtq_f32_s32(isum), dd);
    }
    sumf += vgetq_lane_f32(term, 0);
    sumf += vgetq_lane_f32(term, 1);
    sumf += vgetq_lane_f32(term, 2);
    sumf += vgetq_lane_f32(term, 3);
    return sumf;
}

/* One block's term (the blocks after the last group of four). */
static inline float NQ(l_acc1)(int t, const int8x16_t q[2], const void *w, const void *a,
                               int64_t b, float sumf) {
    const int   isum = vaddvq_s32(NQ(l_idot)(q, NQ(la_qs)(t, a, b)));
    const float dd   = neon_h1(NQ(lw_d)(t, w, b)) * neon_h1(NQ(la_d)(t, a, b));
    if (lw_has_min(t))
        return sumf + (dd * (float)isum +
                       neon_h1(NQ(lw_m)(t, w, b)) * neon_h1(((const dc_block_q8_1 *)a)[b].s));
    return sumf + (float)isum * dd;
}

static inline void NQ(l_vec_dot)(int t, int64_t n, float *s, const void *w, const void *a) {
    const int64_t nb   = n / 32;
    float         sumf = 0.0f;
    int64_t       b    = 0;
    for (; b + 4 <= nb; b += 4) {
        int8x16_t q[8];
        for (int k = 0; k < 4; k++) NQ(lw_codes)(t, w, b + k, q + 2 * k);
        sumf = NQ(l_acc4)(t, q, w, a, b, sumf);
    }
    for (; b < nb; b++) {
        int8x16_t q[2];
        NQ(lw_codes)(t, w, b, q);
        sumf = NQ(l_acc1)(t, q, w, a, b, sumf);
    }
    *s = sumf;
}

/* The tile: each weight group is unpacked once and dotted with every column;
 * per (r, c) the operations are l_vec_dot's. */
static inline void NQ(l_gemm)(int t, int64_t n, float *const *y, const void *w, size_t ldw,
                              const void *const *a, int nr, int nc) {
    const int64_t nb = n / 32;
    float         acc[DC_GEMM_TILE][DC_GEMM_TILE] = { { 0 } };
    int64_t       b = 0;
    for (; b + 4 <= nb; b += 4)
        for (int r = 0; r < nr; r++) {
            const void *wr = (const char *)w + r * ldw;
            int8x16_t   q[8];
            for (int k = 0; k < 4; k++) NQ(lw_codes)(t, wr, b + k, q + 2 * k);
            for (int c = 0; c < nc; c++) acc[r][c] = NQ(l_acc4)(t, q, wr, a[c], b, acc[r][c]);
        }
    for (; b < nb; b++)
        for (int r = 0; r < nr; r++) {
            const void *wr = (const char *)w + r * ldw;
            int8x16_t   q[2];
            NQ(lw_codes)(t, wr, b, q);
            for (int c = 0; c < nc; c++) acc[r][c] = NQ(l_acc1)(t, q, wr, a[c], b, acc[r][c]);
        }
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) y[c][r] = acc[r][c];
}

#define LEGACY(T, NAME)                                                                     \
    static void NQ(vec_dot_##NAME)(int64_t n, float *s, const void *w, const void *a) {    \
        NQ(l_vec_dot)(T, n, s, w, a);                                                       \
    }                                                                                       \
    static void NQ(gemm_##NAME)(int64_t n, float *const *y, const void *w, size_t ldw,      \
                                const void *const *a, int nr, int nc) {                     \
        NQ(l_gemm)(T, n, y, w, ldw, a, nr, nc);                                             \
    }

LEGACY(LQ4_0, q4_0)
LEGACY(LQ4_1, q4_1)
LEGACY(LQ5_0, q5_0)
LEGACY(LQ5_1, q5_1)
LEGACY(LQ8_0, q8_0)

/* ---- K-quants ----------------------------------------------------------------------- */

/* A super-block unpacked: run v (elements 16v..16v+15) has codes q[v] with
 * the offset removed, an integer scale sc[v] and min mn[v] (0 when the type
 * has none). Sub-blocks of 32 give both their runs the same scale. */
typedef struct NQ(kq_block) {
    int8x16_t q[16];
    int32_t   sc[16];
    int16_t   mn[16];
} NQ(kq_block);

/* isum = sum_v sc[v] * (q[v] . a[v]); isum_min = sum_v mn[v] * bsums[v]
 * (equal to scalar's per-sub-block forms: both are exact integer sums). */
static inline void NQ(kq_isums)(const NQ(kq_block) *u, const dc_block_q8_k *a, bool with_min,
                                int32_t *isum, int32_t *isum_min) {
    int32x4_t acc = vdupq_n_s32(0);
    for (int v = 0; v < 16; v++)
        acc = vmlaq_n_s32(acc, dot16(vdupq_n_s32(0), u->q[v], vld1q_s8(a->qs + 16 * v)), u->sc[v]);
    *isum = vaddvq_s32(acc);
    *isum_min = 0;
    if (with_min) {
        const int16x8_t m0 = vld1q_s16(u->mn), m1 = vld1q_s16(u->mn + 8);
        const int16x8_t b0 = vld1q_s16(a->bsums), b1 = vld1q_s16(a->bsums + 8);
        int32x4_t       p  = vmull_s16(vget_low_s16(m0), vget_low_s16(b0));
        p = vmlal_high_s16(p, m0, b0);
        p = vmlal_s16(p, vget_low_s16(m1), vget_low_s16(b1));
        p = vmlal_high_s16(p, m1, b1);
        *isum_min = vaddvq_s32(p);
    }
}

/* Q2_K: q = 2-bit field, run v = sub-block v: sc low nibble, m high. */
static inline void NQ(unpack_q2_k)(const dc_block_q2_k *x, NQ(kq_block) *u) {
    for (int h = 0; h < 2; h++) {
        const uint8x16_t v0 = vld1q_u8(x->qs + 32 * h), v1 = vld1q_u8(x->qs + 32 * h + 16);
        for (int c = 0; c < 4; c++) {
            const int8x16_t sh = vdupq_n_s8((int8_t)(-2 * c));
            u->q[8 * h + 2 * c]     = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(v0, sh), vdupq_n_u8(3)));
            u->q[8 * h + 2 * c + 1] = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(v1, sh), vdupq_n_u8(3)));
        }
    }
    for (int j = 0; j < 16; j++) {
        u->sc[j] = x->scales[j] & 0xF;
        u->mn[j] = (int16_t)(x->scales[j] >> 4);
    }
}

/* Q3_K: q = low2 - 4 * (1 - hbit), hbit of element 32b + l in bit b of
 * hmask[l]; scale s_j - 32. */
static inline void NQ(unpack_q3_k)(const dc_block_q3_k *x, NQ(kq_block) *u) {
    const uint8x16_t m0 = vld1q_u8(x->hmask), m1 = vld1q_u8(x->hmask + 16);
    for (int h = 0; h < 2; h++) {
        const uint8x16_t v0 = vld1q_u8(x->qs + 32 * h), v1 = vld1q_u8(x->qs + 32 * h + 16);
        for (int c = 0; c < 4; c++) {
            const int8x16_t  sh  = vdupq_n_s8((int8_t)(-2 * c));
            const uint8x16_t bit = vdupq_n_u8((uint8_t)(1u << (4 * h + c)));
            const uint8x16_t l0 = vorrq_u8(vandq_u8(vshlq_u8(v0, sh), vdupq_n_u8(3)),
                                           vandq_u8(vtstq_u8(m0, bit), vdupq_n_u8(4)));
            const uint8x16_t l1 = vorrq_u8(vandq_u8(vshlq_u8(v1, sh), vdupq_n_u8(3)),
                                           vandq_u8(vtstq_u8(m1, bit), vdupq_n_u8(4)));
            u->q[8 * h + 2 * c]     = vsubq_s8(vreinterpretq_s8_u8(l0), vdupq_n_s8(4));
            u->q[8 * h + 2 * c + 1] = vsubq_s8(vreinterpretq_s8_u8(l1), vdupq_n_s8(4));
        }
    }
    for (int j = 0; j < 16; j++) {
        u->sc[j] = dc_get_scale_q3_k(j, x->scales) - 32;
        u->mn[j] = 0;
    }
}

/* Q4_K / Q5_K: chunk c of 64 = qs[32c..32c+31], low nibbles for sub-block
 * 2c, high for 2c+1; Q5_K adds bit 2c / 2c+1 of qh[l] as 16. */
static inline void NQ(unpack_k4)(const uint8_t *qs, const uint8_t *qh, const uint8_t *scales,
                                 NQ(kq_block) *u) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    for (int c = 0; c < 4; c++) {
        const uint8x16_t v0 = vld1q_u8(qs + 32 * c), v1 = vld1q_u8(qs + 32 * c + 16);
        uint8x16_t l0 = vandq_u8(v0, m4), l1 = vandq_u8(v1, m4);
        uint8x16_t h0 = vshrq_n_u8(v0, 4), h1 = vshrq_n_u8(v1, 4);
        if (qh) {
            const uint8x16_t q0 = vld1q_u8(qh), q1 = vld1q_u8(qh + 16);
            const uint8x16_t bl = vdupq_n_u8((uint8_t)(1u << (2 * c)));
            const uint8x16_t bh = vdupq_n_u8((uint8_t)(2u << (2 * c)));
            const uint8x16_t s16 = vdupq_n_u8(16);
            l0 = vorrq_u8(l0, vandq_u8(vtstq_u8(q0, bl), s16));
            l1 = vorrq_u8(l1, vandq_u8(vtstq_u8(q1, bl), s16));
            h0 = vorrq_u8(h0, vandq_u8(vtstq_u8(q0, bh), s16));
            h1 = vorrq_u8(h1, vandq_u8(vtstq_u8(q1, bh), s16));
        }
        u->q[4 * c]     = vreinterpretq_s8_u8(l0);
        u->q[4 * c + 1] = vreinterpretq_s8_u8(l1);
        u->q[4 * c + 2] = vreinterpretq_s8_u8(h0);
        u->q[4 * c + 3] = vreinterpretq_s8_u8(h1);
    }
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        dc_get_scale_min_k4(j, scales, &sc, &m);
        u->sc[2 * j] = u->sc[2 * j + 1] = sc;
        u->mn[2 * j] = u->mn[2 * j + 1] = m;
    }
}

/* Q6_K: half h (128 elements) from ql[64h..], qh[32h..]; q = 6 bits - 32. */
static inline void NQ(unpack_q6_k)(const dc_block_q6_k *x, NQ(kq_block) *u) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(3);
    const int8x16_t  k32 = vdupq_n_s8(32);
    for (int h = 0; h < 2; h++) {
        const uint8_t   *ql = x->ql + 64 * h, *qh = x->qh + 32 * h;
        const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 16);
        const uint8x16_t l2 = vld1q_u8(ql + 32), l3 = vld1q_u8(ql + 48);
        const uint8x16_t h0 = vld1q_u8(qh), h1 = vld1q_u8(qh + 16);
        const uint8x16_t q[8] = {
            vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h0, m3), 4)),
            vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(h1, m3), 4)),
            vorrq_u8(vandq_u8(l2, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 2), m3), 4)),
            vorrq_u8(vandq_u8(l3, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 2), m3), 4)),
            vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 4), m3), 4)),
            vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 4), m3), 4)),
            vorrq_u8(vshrq_n_u8(l2, 4), vshlq_n_u8(vshrq_n_u8(h0, 6), 4)),
            vorrq_u8(vshrq_n_u8(l3, 4), vshlq_n_u8(vshrq_n_u8(h1, 6), 4)),
        };
        for (int k = 0; k < 8; k++) u->q[8 * h + k] = vsubq_s8(vreinterpretq_s8_u8(q[k]), k32);
    }
    for (int j = 0; j < 16; j++) {
        u->sc[j] = x->scales[j];
        u->mn[j] = 0;
    }
}

/* Per-type unpack and the scalar reference's float term of one super-block. */
#define KQUANT(NAME, BLOCK, UNPACK, WITH_MIN, TERM)                                         \
    static inline float NQ(kterm_##NAME)(const BLOCK *x, const NQ(kq_block) *u,            \
                                         const dc_block_q8_k *a) {                          \
        int32_t isum, isum_min;                                                             \
        NQ(kq_isums)(u, a, WITH_MIN, &isum, &isum_min);                                     \
        (void)isum_min;                                                                     \
        return TERM;                                                                        \
    }                                                                                       \
    static void NQ(vec_dot_##NAME)(int64_t n, float *s, const void *vw, const void *va) {  \
        const BLOCK         *w = vw;                                                        \
        const dc_block_q8_k *a = va;                                                        \
        float                sumf = 0.0f;                                                   \
        for (int64_t b = 0; b < n / DC_QK_K; b++) {                                         \
            NQ(kq_block) u;                                                                 \
            UNPACK(&w[b], &u);                                                              \
            sumf += NQ(kterm_##NAME)(&w[b], &u, &a[b]);                                     \
        }                                                                                   \
        *s = sumf;                                                                          \
    }                                                                                       \
    static void NQ(gemm_##NAME)(int64_t n, float *const *y, const void *w, size_t ldw,      \
                                const void *const *a, int nr, int nc) {                     \
        float acc[DC_GEMM_TILE][DC_GEMM_TILE] = { { 0 } };                                  \
        for (int64_t b = 0; b < n / DC_QK_K; b++)                                           \
            for (int r = 0; r < nr; r++) {                                                  \
                const BLOCK *x = (const BLOCK *)((const char *)w + r * ldw) + b;            \
                NQ(kq_block) u;                                                             \
                UNPACK(x, &u);                                                              \
                for (int c = 0; c < nc; c++)                                                \
                    acc[r][c] += NQ(kterm_##NAME)(x, &u, (const dc_block_q8_k *)a[c] + b);  \
            }                                                                               \
        for (int c = 0; c < nc; c++)                                                        \
            for (int r = 0; r < nr; r++) y[c][r] = acc[r][c];                               \
    }

#define UNPACK_Q4_K(x, u) NQ(unpack_k4)((x)->qs, NULL, (x)->scales, u)
#define UNPACK_Q5_K(x, u) NQ(unpack_k4)((x)->qs, (x)->qh, (x)->scales, u)

/* scalar.c: Q2_K  (d_a * d_w) * isum - (d_a * dmin_w) * isum_min
 *           Q4_K / Q5_K  (d_w * d_a) * isum - (dmin_w * d_a) * isum_min
 *           Q3_K / Q6_K  (d_w * d_a) * isum */
KQUANT(q2_k, dc_block_q2_k, NQ(unpack_q2_k), true,
       (a->d * dc_half_to_float(x->d)) * (float)isum -
           (a->d * dc_half_to_float(x->dmin)) * (float)isum_min)
KQUANT(q3_k, dc_block_q3_k, NQ(unpack_q3_k), false, (dc_half_to_float(x->d) * a->d) * (float)isum)
KQUANT(q4_k, dc_block_q4_k, UNPACK_Q4_K, true,
       (dc_half_to_float(x->d) * a->d) * (float)isum -
           (dc_half_to_float(x->dmin) * a->d) * (float)isum_min)
KQUANT(q5_k, dc_block_q5_k, UNPACK_Q5_K, true,
       (dc_half_to_float(x->d) * a->d) * (float)isum -
           (dc_half_to_float(x->dmin) * a->d) * (float)isum_min)
KQUANT(q6_k, dc_block_q6_k, NQ(unpack_q6_k), false, (dc_half_to_float(x->d) * a->d) * (float)isum)

/* ---- table --------------------------------------------------------------------------- */

static void NQ(set_quant)(dc_cpu_kernels *k) {
    static const struct {
        dc_type       t;
        dc_vec_dot_fn dot;
        dc_gemm_fn    gemm;
    } tab[] = {
        { DC_TYPE_Q4_0, NQ(vec_dot_q4_0), NQ(gemm_q4_0) },
        { DC_TYPE_Q4_1, NQ(vec_dot_q4_1), NQ(gemm_q4_1) },
        { DC_TYPE_Q5_0, NQ(vec_dot_q5_0), NQ(gemm_q5_0) },
        { DC_TYPE_Q5_1, NQ(vec_dot_q5_1), NQ(gemm_q5_1) },
        { DC_TYPE_Q8_0, NQ(vec_dot_q8_0), NQ(gemm_q8_0) },
        { DC_TYPE_Q2_K, NQ(vec_dot_q2_k), NQ(gemm_q2_k) },
        { DC_TYPE_Q3_K, NQ(vec_dot_q3_k), NQ(gemm_q3_k) },
        { DC_TYPE_Q4_K, NQ(vec_dot_q4_k), NQ(gemm_q4_k) },
        { DC_TYPE_Q5_K, NQ(vec_dot_q5_k), NQ(gemm_q5_k) },
        { DC_TYPE_Q6_K, NQ(vec_dot_q6_k), NQ(gemm_q6_k) },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        k->vec_dot[dc_type_slot(tab[i].t)] = tab[i].dot;
        k->gemm[dc_type_slot(tab[i].t)]    = tab[i].gemm;
    }
}
