/*
 * avx512_quant.c - AVX-512 kernels for the legacy 32-element blocks: vec_dot,
 * gemm tiles and dequant of Q4_0, Q4_1, Q5_0, Q5_1 (x Q8_0 / Q8_1 activations)
 * and Q8_0 (x Q8_0).
 *
 * One zmm holds two consecutive blocks (block b in bytes 0..31, b + 1 in
 * 32..63, element order), so VPDPBUSD gives 8 int32 lanes of partial sums per
 * block: unsigned weight codes times signed activation codes, with the code
 * offset removed as offset * sum(a) (Q4_0: 8, Q5_0: 16) and Q8_0's signs moved
 * onto the activations (|w| times +-a). The lanes are never reduced per
 * block: they are converted to f32 and multiply-added with a vector holding
 * d_w * d_a of their block, into two accumulators (first and second pair of
 * each group of 4 blocks) that are summed once per row. The eight f16 scales
 * of a group (4 weight, 4 activation) are gathered in GPRs and converted by
 * one VCVTPH2PS: per-block vector broadcasts of the scales cost ~40% of the
 * loop. Q4_1 / Q5_1 add m_w * s_a, one lane per block, to a third
 * accumulator.
 *
 * vec_dot and gemm are the same always_inline routine (leg_rows) with the
 * tile width as a constant: every output goes through the same per-block
 * integer lanes and the same float operations in the same order, so a gemm
 * element is bit-identical to vec_dot of its row and column.
 */
#include "avx512_impl.h"

enum leg_type { L_Q4_0, L_Q4_1, L_Q5_0, L_Q5_1, L_Q8_0 };

/* bytes per weight block; offsets of the codes and of the 5th bits */
AVX512_INLINE size_t leg_wsize(const int t) {
    return t == L_Q4_0 ? 18 : t == L_Q4_1 ? 20 : t == L_Q5_0 ? 22 : t == L_Q5_1 ? 24 : 34;
}
AVX512_INLINE bool leg_has_min(const int t) { return t == L_Q4_1 || t == L_Q5_1; }
AVX512_INLINE size_t leg_qs_off(const int t) {
    return t == L_Q4_0 ? 2 : t == L_Q4_1 ? 4 : t == L_Q5_0 ? 6 : t == L_Q5_1 ? 8 : 2;
}
/* activation block: Q8_1 (36 bytes, d s qs) for the _1 types, else Q8_0 */
AVX512_INLINE size_t leg_asize(const int t) { return leg_has_min(t) ? 36 : 34; }

/* ---- decoding ---------------------------------------------------------------- */

/* A group of g = 1, 2 or 4 weight blocks: pair k (blocks 2k, 2k + 1) as 64
 * unsigned codes (a missing second block reads as zero), Q8_0's negative
 * lanes, and the blocks' f16 d (and m) packed, block i in bits 16i.. */
typedef struct leg_w {
    __m512i   q[2];
    __mmask64 neg[2];
    uint64_t  hd, hm;
} leg_w;

AVX512_INLINE uint16_t load_u16(const uint8_t *p) {
    uint16_t u;
    memcpy(&u, p, sizeof u);
    return u;
}

AVX512_INLINE uint32_t load_u32(const uint8_t *p) {
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u;
}

/* The f16 at byte offset off of each of g blocks of size bs, packed. The
 * scales travel through a GPR: one VCVTPH2PS per group then converts them
 * all, which is much cheaper than broadcasting each one in vector lanes. */
AVX512_INLINE uint64_t pack_f16(const uint8_t *p, size_t bs, size_t off, const int g) {
    /* a dependent shift chain, last block first: kept in GPRs (the SLP
     * vectorizer turns independent shifts into vector shuffles) */
    uint64_t h = 0;
    for (int i = g - 1; i >= 0; i--) h = h << 16 | load_u16(p + (size_t)i * bs + off);
    return h;
}

/* 32 nibble codes of each block of the pair: element j < 16 is the low
 * nibble of qs[j], j + 16 its high nibble. */
AVX512_INLINE __m512i nibbles(const uint8_t *qs0, const uint8_t *qs1, const bool two) {
    __m512i v = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)qs0));
    v = two ? _mm512_mask_broadcast_i32x4(v, 0xFF00, _mm_loadu_si128((const __m128i *)qs1))
            : _mm512_maskz_mov_epi32(0x00FF, v);
    v = _mm512_mask_srli_epi16(v, 0xFF00FF00u, v, 4);
    return _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
}

AVX512_INLINE __m512i load_32x2(const uint8_t *p0, const uint8_t *p1, const bool two) {
    const __m256i lo = _mm256_loadu_si256((const __m256i *)p0);
    if (!two) return _mm512_zextsi256_si512(lo);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), _mm256_loadu_si256((const __m256i *)p1), 1);
}

/* Codes of the pair at p (two: both blocks present). */
AVX512_INLINE void leg_decode_pair(const int t, const uint8_t *p, const bool two, __m512i *q,
                                   __mmask64 *neg) {
    const size_t bs = leg_wsize(t), qo = leg_qs_off(t);
    *neg = 0;
    if (t == L_Q8_0) {
        const __m512i w = load_32x2(p + qo, p + bs + qo, two);
        *q   = _mm512_abs_epi8(w);
        *neg = _mm512_movepi8_mask(w);
        return;
    }
    *q = nibbles(p + qo, p + bs + qo, two);
    if (t == L_Q5_0 || t == L_Q5_1) {
        /* qh bit e is the fifth bit of element e: one mask bit per byte */
        const size_t ho = t == L_Q5_0 ? 2 : 4;
        uint64_t h = load_u32(p + ho);
        if (two) h |= (uint64_t)load_u32(p + bs + ho) << 32;
        *q = _mm512_mask_add_epi8(*q, _cvtu64_mask64(h), *q, _mm512_set1_epi8(0x10));
    }
}

AVX512_INLINE void leg_decode(const int t, const uint8_t *p, const int g, leg_w *o) {
    const size_t bs = leg_wsize(t);
    leg_decode_pair(t, p, g > 1, &o->q[0], &o->neg[0]);
    if (g > 2) leg_decode_pair(t, p + 2 * bs, true, &o->q[1], &o->neg[1]);
    o->hd = pack_f16(p, bs, 0, g);
    o->hm = leg_has_min(t) ? pack_f16(p, bs, 2, g) : 0;
}

/* ---- one block group x one activation column ---------------------------------- */

/* Integer lanes of a pair: sum of (code - offset) * a over 4 elements. */
AVX512_INLINE __m512i leg_isum(const int t, __m512i q, __mmask64 neg, __m512i a, const bool vnni) {
    const __m512i z = _mm512_setzero_si512();
    if (t == L_Q8_0) return avx512_dot_u8s8(z, q, _mm512_mask_sub_epi8(a, neg, z, a), vnni);
    if (leg_has_min(t)) return avx512_dot_u8s8(z, q, a, vnni);
    const __m512i off = _mm512_set1_epi8(t == L_Q4_0 ? 8 : 16);
    if (vnni) return _mm512_sub_epi32(_mm512_dpbusd_epi32(z, q, a), _mm512_dpbusd_epi32(z, off, a));
    const __m512i p = _mm512_sub_epi16(_mm512_maddubs_epi16(q, a), _mm512_maddubs_epi16(off, a));
    return _mm512_madd_epi16(p, _mm512_set1_epi16(1));
}

/* For pair k of the group: acc[k] += f32(isum lanes) * (d_w * d_a) of each
 * lane's block; accm += m_w * s_a per block (Q4_1 / Q5_1). */
AVX512_INLINE void leg_col(const int t, const leg_w *w, const uint8_t *ap, const int g,
                           __m512 acc[2], __m128 *accm, const bool vnni) {
    const size_t as = leg_asize(t), qo = leg_has_min(t) ? 4 : 2;
    /* [d_w 0..3, d_a 0..3] -> dd[i] = d_w[i] * d_a[i] */
    const long long ha = (long long)pack_f16(ap, as, 0, g);
    const __m256    f  = _mm256_cvtph_ps(_mm_set_epi64x(ha, (long long)w->hd));
    const __m512    dd =
        _mm512_castps128_ps512(_mm_mul_ps(_mm256_castps256_ps128(f), _mm256_extractf128_ps(f, 1)));
    for (int k = 0; k < (g + 1) / 2; k++) {
        const uint8_t *pk = ap + (size_t)(2 * k) * as;
        const __m512i  a  = load_32x2(pk + qo, pk + as + qo, g > 2 * k + 1);
        const __m512i  sk = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi32(2 * k)),
                                               _mm256_set1_epi32(2 * k + 1), 1);
        acc[k] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(leg_isum(t, w->q[k], w->neg[k], a, vnni)),
                                 _mm512_permutexvar_ps(sk, dd), acc[k]);
    }
    if (leg_has_min(t)) {
        const long long hs = (long long)pack_f16(ap, as, 2, g);
        const __m256    m  = _mm256_cvtph_ps(_mm_set_epi64x(hs, (long long)w->hm));
        *accm = _mm_fmadd_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1), *accm);
    }
}

/* ---- rows x columns -------------------------------------------------------------- */

/* g blocks from block b of weight row wr, against every column. */
AVX512_INLINE void leg_group(const int t, const uint8_t *wr, const void *const *a, int64_t b,
                             const int g, const int nc, __m512 (*acc)[2], __m128 *accm,
                             const bool vnni) {
    leg_w x;
    avx512_prefetch_ahead(wr + (size_t)b * leg_wsize(t), (size_t)g * leg_wsize(t));
    leg_decode(t, wr + (size_t)b * leg_wsize(t), g, &x);
    for (int c = 0; c < nc; c++)
        leg_col(t, &x, (const uint8_t *)a[c] + (size_t)b * leg_asize(t), g, acc[c], &accm[c], vnni);
}

/* y[c][r] = dot(weight row r, activation row a[c]), r < nr, c < nc (nc a
 * compile-time constant; vec_dot is nr = nc = 1). Groups of 4 blocks, then
 * a pair, then a single block: the same sequence for every caller. */
AVX512_INLINE void leg_rows(const int t, int64_t n, float *const *y, const void *w, size_t ldw,
                            const void *const *a, int nr, const int nc, const bool vnni) {
    const int64_t nb = n / 32;
    for (int r = 0; r < nr; r++) {
        const uint8_t *wr = (const uint8_t *)w + (size_t)r * ldw;
        __m512 acc[DC_GEMM_TILE][2];
        __m128 accm[DC_GEMM_TILE];
        for (int c = 0; c < nc; c++) {
            acc[c][0] = acc[c][1] = _mm512_setzero_ps();
            accm[c] = _mm_setzero_ps();
        }
        int64_t b = 0;
        for (; b + 4 <= nb; b += 4) leg_group(t, wr, a, b, 4, nc, acc, accm, vnni);
        if (b + 2 <= nb) {
            leg_group(t, wr, a, b, 2, nc, acc, accm, vnni);
            b += 2;
        }
        if (b < nb) leg_group(t, wr, a, b, 1, nc, acc, accm, vnni);
        for (int c = 0; c < nc; c++) {
            float s = avx512_hsum_ps(_mm512_add_ps(acc[c][0], acc[c][1]));
            if (leg_has_min(t)) s += avx512_hsum128_ps(accm[c]);
            y[c][r] = s;
        }
    }
}

#define LEG_KERNELS(name, T, V, SUFFIX)                                                        \
    static void vec_dot_##name##SUFFIX(int64_t n, float *s, const void *w, const void *a) {    \
        leg_rows(T, n, &s, w, 0, &a, 1, 1, V);                                                 \
    }                                                                                          \
    static void gemm_##name##SUFFIX(int64_t n, float *const *y, const void *w, size_t ldw,     \
                                    const void *const *a, int nr, int nc) {                    \
        switch (nc) {                                                                          \
        case 1:  leg_rows(T, n, y, w, ldw, a, nr, 1, V); break;                                \
        case 2:  leg_rows(T, n, y, w, ldw, a, nr, 2, V); break;                                \
        case 3:  leg_rows(T, n, y, w, ldw, a, nr, 3, V); break;                                \
        default: leg_rows(T, n, y, w, ldw, a, nr, 4, V); break;                                \
        }                                                                                      \
    }

#define LEG_BOTH(name, T)                                                                      \
    LEG_KERNELS(name, T, true, _vnni)                                                          \
    LEG_KERNELS(name, T, false, _bw)

LEG_BOTH(q4_0, L_Q4_0)
LEG_BOTH(q4_1, L_Q4_1)
LEG_BOTH(q5_0, L_Q5_0)
LEG_BOTH(q5_1, L_Q5_1)
LEG_BOTH(q8_0, L_Q8_0)

/* ---- dequant (bit-identical to quant_legacy.c: every product is exact) -------- */

/* 16 int8 codes -> f32 */
AVX512_INLINE __m512 i8x16_ps(__m128i q) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q));
}

AVX512_INLINE void leg_dequant(const int t, const void *vx, float *y, int64_t n) {
    const size_t   bs = leg_wsize(t);
    const uint8_t *x  = vx;
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *p = x + (size_t)b * bs;
        __m512i   q;
        __mmask64 neg;
        leg_decode_pair(t, p, false, &q, &neg);
        /* codes with the offset back in, as signed bytes */
        if (t == L_Q8_0) q = _mm512_mask_sub_epi8(q, neg, _mm512_setzero_si512(), q);
        if (t == L_Q4_0) q = _mm512_sub_epi8(q, _mm512_set1_epi8(8));
        if (t == L_Q5_0) q = _mm512_sub_epi8(q, _mm512_set1_epi8(16));
        int8_t codes[32];
        _mm256_storeu_si256((__m256i *)codes, _mm512_castsi512_si256(q));
        const __m512 d = _mm512_set1_ps(avx512_h2f(load_u16(p)));
        const __m512 m = _mm512_set1_ps(leg_has_min(t) ? avx512_h2f(load_u16(p + 2)) : 0.0f);
        for (int h = 0; h < 2; h++) {
            /* y = q * d (+ m): the product is exact, one rounding as the scalar code */
            __m512 v = _mm512_mul_ps(i8x16_ps(_mm_loadu_si128((const __m128i *)(codes + 16 * h))), d);
            if (leg_has_min(t)) v = _mm512_add_ps(v, m);
            _mm512_storeu_ps(y + b * 32 + 16 * h, v);
        }
    }
}

static void dequant_q4_0(const void *x, float *y, int64_t n) { leg_dequant(L_Q4_0, x, y, n); }
static void dequant_q4_1(const void *x, float *y, int64_t n) { leg_dequant(L_Q4_1, x, y, n); }
static void dequant_q5_0(const void *x, float *y, int64_t n) { leg_dequant(L_Q5_0, x, y, n); }
static void dequant_q5_1(const void *x, float *y, int64_t n) { leg_dequant(L_Q5_1, x, y, n); }
static void dequant_q8_0(const void *x, float *y, int64_t n) { leg_dequant(L_Q8_0, x, y, n); }

/* ---- table ---------------------------------------------------------------------------- */

void dc_cpu_avx512_init_quant(dc_cpu_kernels *k, const dc_cpu_features *f) {
    static const struct {
        dc_type       t;
        dc_vec_dot_fn dot[2];   /* [0] AVX512BW, [1] VNNI */
        dc_gemm_fn    gemm[2];
        dc_dequant_fn deq;
    } tab[] = {
        { DC_TYPE_Q4_0, { vec_dot_q4_0_bw, vec_dot_q4_0_vnni }, { gemm_q4_0_bw, gemm_q4_0_vnni },
          dequant_q4_0 },
        { DC_TYPE_Q4_1, { vec_dot_q4_1_bw, vec_dot_q4_1_vnni }, { gemm_q4_1_bw, gemm_q4_1_vnni },
          dequant_q4_1 },
        { DC_TYPE_Q5_0, { vec_dot_q5_0_bw, vec_dot_q5_0_vnni }, { gemm_q5_0_bw, gemm_q5_0_vnni },
          dequant_q5_0 },
        { DC_TYPE_Q5_1, { vec_dot_q5_1_bw, vec_dot_q5_1_vnni }, { gemm_q5_1_bw, gemm_q5_1_vnni },
          dequant_q5_1 },
        { DC_TYPE_Q8_0, { vec_dot_q8_0_bw, vec_dot_q8_0_vnni }, { gemm_q8_0_bw, gemm_q8_0_vnni },
          dequant_q8_0 },
    };
    const int v = f->avx512vnni ? 1 : 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        const int s = dc_type_slot(tab[i].t);
        k->vec_dot[s] = tab[i].dot[v];
        k->gemm[s]    = tab[i].gemm[v];
        k->dequant[s] = tab[i].deq;
    }
}
