/*
 * avx512_kq.c - AVX-512 kernels for the K-quants (256-element super-blocks
 * against Q8_K activations): vec_dot, gemm tiles and dequant of Q2_K, Q3_K,
 * Q4_K, Q5_K and Q6_K.
 *
 * A super-block is decoded into four zmm of 64 unsigned codes in element
 * order (chunk c = elements 64c..64c+63, so each lines up with one 64-byte
 * load of the Q8_K codes) and four zmm of int16 multipliers, the scale of the
 * sub-block each code pair belongs to. Per activation column:
 *   VPMADDUBSW (codes x a, pairs into int16; every pair sum < 2^15)
 *   VPDPWSSD   (x sub-block scales into int32; AVX512BW: VPMADDWD + add)
 * gives 16 int32 lanes whose total is sum_j scale_j * isub_j exactly. The
 * bsums term (Q2_K / Q4_K / Q5_K minimum, Q3_K / Q6_K code offset 4 / 32)
 * is one VPMADDWD of the 16 bsums with per-bsum multipliers. The lanes are
 * converted to f32 and multiply-added with d_w * d_a into accumulators that
 * are reduced once per row (no horizontal work per block); the minimum term
 * has its own 8-lane accumulator, subtracted at the end.
 *
 * vec_dot and gemm share kq_rows (tile width as a constant), so every gemm
 * element is bit-identical to the vec_dot of its row and column. Dequant
 * reproduces quant_k.c bit for bit (the products are exact).
 */
#include "avx512_impl.h"

enum kq_type { K_Q2, K_Q3, K_Q4, K_Q5, K_Q6 };

AVX512_INLINE size_t kq_size(const int t) {
    return t == K_Q2 ? 84 : t == K_Q3 ? 110 : t == K_Q4 ? 144 : t == K_Q5 ? 176 : 210;
}
/* minimum term (dmin * m_j * bsums) or, for Q3_K / Q6_K, a code offset
 * 2^shift folded into the integer lanes */
AVX512_INLINE bool kq_has_min(const int t) { return t == K_Q2 || t == K_Q4 || t == K_Q5; }
AVX512_INLINE int  kq_off_shift(const int t) { return t == K_Q3 ? 2 : 5; }

/* offsets of the fields inside a block (quant_impl.h layouts) */
enum {
    Q2_SCALES = 0,  Q2_QS = 16,  Q2_D = 80,
    Q3_HMASK = 0,   Q3_QS = 32,  Q3_SCALES = 96, Q3_D = 108,
    Q4_D = 0,       Q4_SCALES = 4, Q4_QS = 16,
    Q5_D = 0,       Q5_SCALES = 4, Q5_QH = 16, Q5_QS = 48,
    Q6_QL = 0,      Q6_QH = 128, Q6_SCALES = 192, Q6_D = 208,
};

/* ---- constants ------------------------------------------------------------------ */

/* zmm whose 128-bit lane i is eight copies of the 16-bit value v_i */
AVX512_INLINE __m512i lanes16(int v0, int v1, int v2, int v3) {
    const int d0 = (int)((unsigned)(v0 & 0xffff) * 0x10001u);
    const int d1 = (int)((unsigned)(v1 & 0xffff) * 0x10001u);
    const int d2 = (int)((unsigned)(v2 & 0xffff) * 0x10001u);
    const int d3 = (int)((unsigned)(v3 & 0xffff) * 0x10001u);
    return _mm512_set_epi32(d3, d3, d3, d3, d2, d2, d2, d2, d1, d1, d1, d1, d0, d0, d0, d0);
}

/* zmm of 32 bytes b0 then 32 bytes b1 */
AVX512_INLINE __m512i halves8(int b0, int b1) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi8((char)b0)),
                              _mm256_set1_epi8((char)b1), 1);
}

AVX512_INLINE __m512i bcast32(const uint8_t *p) {
    return _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)p));
}

AVX512_INLINE uint32_t u32_at(const uint8_t *p) {
    uint32_t u;
    memcpy(&u, p, sizeof u);
    return u;
}

AVX512_INLINE uint16_t u16_at(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}

/* f32 [d, dmin] pairs in every lane pair, from the two adjacent f16 fields
 * at p (one 128-bit conversion, then a 64-bit broadcast: building the zmm of
 * halves first makes clang insert the 16 halves one by one). */
AVX512_INLINE __m512 d_dmin(const uint8_t *p) {
    const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128((int)u32_at(p)));
    return _mm512_castpd_ps(_mm512_broadcastsd_pd(_mm_castps_pd(f)));
}

/* ---- decoding ----------------------------------------------------------------------- */

typedef struct kq_w {
    __m512i q[4];    /* chunk c: unsigned codes of elements 64c..64c+63      */
    __m512i sc[4];   /* int16 scale of each code pair's sub-block            */
    __m256i mb;      /* int16 multiplier of each of the 16 bsums             */
    __m512  dm;      /* [d, dmin] pairs (minimum types) or d in every lane   */
} kq_w;

/* Q4_K / Q5_K: the twelve scale bytes -> bytes [sc_0..sc_7, m_0..m_7]
 * (dc_get_scale_min_k4 on the dwords u0, u1, u2 of the scale bytes):
 *   sc_0..3 = u0 & 0x3f   sc_4..7 = (u2 & 0x0f) | (u0 >> 2 & 0x30)
 *   m_0..3  = u1 & 0x3f   m_4..7  = (u2 >> 4 & 0x0f) | (u1 >> 2 & 0x30)
 * p points at the block's scales; the 16-byte load reads 4 code bytes too. */
AVX512_INLINE __m128i k4_scales(const uint8_t *p) {
    const __m128i x   = _mm_loadu_si128((const __m128i *)p);
    const __m128i u02 = _mm_shuffle_epi32(x, _MM_SHUFFLE(2, 1, 2, 0));     /* u0 u2 u1 u2 */
    const __m128i u01 = _mm_shuffle_epi32(x, _MM_SHUFFLE(1, 1, 0, 0));     /* u0 u0 u1 u1 */
    const __m128i lo  = _mm_srlv_epi32(u02, _mm_setr_epi32(0, 0, 0, 4));
    const __m128i hi  = _mm_and_si128(_mm_srli_epi32(u01, 2),
                                      _mm_setr_epi32(0, 0x30303030, 0, 0x30303030));
    const __m128i lo_mask = _mm_setr_epi32(0x3f3f3f3f, 0x0f0f0f0f, 0x3f3f3f3f, 0x0f0f0f0f);
    return _mm_ternarylogic_epi32(lo, lo_mask, hi, 0xEA);   /* (lo & mask) | hi */
}

/* Q3_K: the sixteen 6-bit scales minus 32 as signed bytes (dc_get_scale_q3_k). */
AVX512_INLINE __m128i q3_scales(const uint8_t *s12) {
    const uint32_t u0 = u32_at(s12), u1 = u32_at(s12 + 4), u2 = u32_at(s12 + 8);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const uint32_t g0 = (u0 & m4) | (u2 & m2) << 4;
    const uint32_t g1 = (u1 & m4) | ((u2 >> 2) & m2) << 4;
    const uint32_t g2 = ((u0 >> 4) & m4) | ((u2 >> 4) & m2) << 4;
    const uint32_t g3 = ((u1 >> 4) & m4) | ((u2 >> 6) & m2) << 4;
    const __m128i s = _mm_set_epi64x((long long)((uint64_t)g3 << 32 | g2),
                                     (long long)((uint64_t)g1 << 32 | g0));
    return _mm_sub_epi8(s, _mm_set1_epi8(32));
}

/* Q2_K / Q3_K low 2 bits: byte qs[32H + l] holds elements 128H + 32i + l in
 * bits 2i..2i+1. */
AVX512_INLINE void low2_codes(const uint8_t *qs, __m512i q[4]) {
    for (int h = 0; h < 2; h++) {
        const __m512i v = bcast32(qs + 32 * h), m2 = _mm512_set1_epi8(3);
        q[2 * h]     = _mm512_and_si512(_mm512_srlv_epi16(v, lanes16(0, 0, 2, 2)), m2);
        q[2 * h + 1] = _mm512_and_si512(_mm512_srlv_epi16(v, lanes16(4, 4, 6, 6)), m2);
    }
}

/* Add `add` to the codes whose bit (e / 32) of bits[e % 32] is set (Q3_K
 * hmask, Q5_K qh). */
AVX512_INLINE void high_bit(const uint8_t *bits, int add, __m512i q[4]) {
    const __m512i h = bcast32(bits);
    for (int c = 0; c < 4; c++) {
        const __mmask64 k = _mm512_test_epi8_mask(h, halves8(1 << (2 * c), 1 << (2 * c + 1)));
        q[c] = _mm512_mask_add_epi8(q[c], k, q[c], _mm512_set1_epi8((char)add));
    }
}

/* Q4_K / Q5_K nibbles: qs[32c + l] low nibble = element 64c + l, high
 * nibble = element 64c + 32 + l. One 64-byte load covers chunks 2h, 2h + 1;
 * the 128-bit lane shuffles put each chunk's low then high nibbles in place. */
AVX512_INLINE void nibble_codes(const uint8_t *qs, __m512i q[4]) {
    for (int h = 0; h < 2; h++) {
        const __m512i v  = _mm512_loadu_si512(qs + 64 * h);
        const __m512i lo = _mm512_and_si512(v, _mm512_set1_epi8(0x0F));
        const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), _mm512_set1_epi8(0x0F));
        q[2 * h]     = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(1, 0, 1, 0));
        q[2 * h + 1] = _mm512_shuffle_i64x2(lo, hi, _MM_SHUFFLE(3, 2, 3, 2));
    }
}

/* Q6_K: half h holds elements 128h + 32i + l: low 4 bits from ql[64h + l +
 * 32(i & 1)] (low nibble for i < 2), high 2 bits from qh[32h + l] >> 2i. */
AVX512_INLINE void q6_codes(const uint8_t *ql, const uint8_t *qh, __m512i q[4]) {
    const __m512i m4 = _mm512_set1_epi8(0x0F), m6 = _mm512_set1_epi8(0x3F);
    for (int h = 0; h < 2; h++) {
        const __m512i l  = _mm512_loadu_si512(ql + 64 * h);
        const __m512i hb = bcast32(qh + 32 * h);
        /* bits 4..5 of each byte: qh bits 0-1 / 2-3 (first q) and 4-5 / 6-7 */
        const __m512i t0 = _mm512_sllv_epi16(hb, lanes16(4, 4, 2, 2));
        const __m512i t1 = _mm512_srlv_epi16(hb, lanes16(0, 0, 2, 2));
        /* m4 ? nibble : high bits (0xCA: A ? B : C), then drop bits 6-7 */
        q[2 * h] = _mm512_and_si512(_mm512_ternarylogic_epi32(m4, l, t0, 0xCA), m6);
        q[2 * h + 1] = _mm512_and_si512(
            _mm512_ternarylogic_epi32(m4, _mm512_srli_epi16(l, 4), t1, 0xCA), m6);
    }
}

AVX512_INLINE void kq_decode(const int t, const uint8_t *p, kq_w *o) {
    switch (t) {
    case K_Q2: {
        const __m128i s  = _mm_loadu_si128((const __m128i *)(p + Q2_SCALES));
        const __m512i s4 = _mm512_broadcast_i32x4(_mm_and_si128(s, _mm_set1_epi8(0x0F)));
        for (int c = 0; c < 4; c++)
            o->sc[c] = _mm512_shuffle_epi8(s4, lanes16(0x8000 | 4 * c, 0x8000 | (4 * c + 1),
                                                       0x8000 | (4 * c + 2), 0x8000 | (4 * c + 3)));
        o->mb = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(s, 4), _mm_set1_epi8(0x0F)));
        o->dm = d_dmin(p + Q2_D);
        low2_codes(p + Q2_QS, o->q);
        break;
    }
    case K_Q3: {
        const __m512i s16 = _mm512_zextsi256_si512(_mm256_cvtepi8_epi16(q3_scales(p + Q3_SCALES)));
        for (int c = 0; c < 4; c++)
            o->sc[c] = _mm512_permutexvar_epi16(lanes16(4 * c, 4 * c + 1, 4 * c + 2, 4 * c + 3),
                                                s16);
        o->mb = _mm512_castsi512_si256(s16);
        o->dm = _mm512_set1_ps(avx512_h2f(u16_at(p + Q3_D)));
        low2_codes(p + Q3_QS, o->q);
        high_bit(p + Q3_HMASK, 4, o->q);
        break;
    }
    case K_Q4:
    case K_Q5: {
        const __m128i s  = k4_scales(p + Q4_SCALES);
        const __m512i s4 = _mm512_broadcast_i32x4(s);
        for (int c = 0; c < 4; c++)
            o->sc[c] = _mm512_shuffle_epi8(s4, lanes16(0x8000 | 2 * c, 0x8000 | 2 * c,
                                                       0x8000 | (2 * c + 1), 0x8000 | (2 * c + 1)));
        /* m_j for bsums 2j and 2j + 1 */
        o->mb = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(s),
                                    _mm256_setr_epi16((short)0x8008, (short)0x8008, (short)0x8009,
                                                      (short)0x8009, (short)0x800A, (short)0x800A,
                                                      (short)0x800B, (short)0x800B, (short)0x800C,
                                                      (short)0x800C, (short)0x800D, (short)0x800D,
                                                      (short)0x800E, (short)0x800E, (short)0x800F,
                                                      (short)0x800F));
        o->dm = d_dmin(p + Q4_D);
        if (t == K_Q4) {
            nibble_codes(p + Q4_QS, o->q);
        } else {
            nibble_codes(p + Q5_QS, o->q);
            high_bit(p + Q5_QH, 16, o->q);
        }
        break;
    }
    default: {
        const __m512i s16 = _mm512_zextsi256_si512(
            _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p + Q6_SCALES))));
        for (int c = 0; c < 4; c++)
            o->sc[c] = _mm512_permutexvar_epi16(lanes16(4 * c, 4 * c + 1, 4 * c + 2, 4 * c + 3),
                                                s16);
        o->mb = _mm512_castsi512_si256(s16);
        o->dm = _mm512_set1_ps(avx512_h2f(u16_at(p + Q6_D)));
        q6_codes(p + Q6_QL, p + Q6_QH, o->q);
        break;
    }
    }
}

/* ---- one super-block x one activation column ----------------------------------------- */

AVX512_INLINE void kq_col(const int t, const kq_w *w, const dc_block_q8_k *a, __m512 *acc,
                          __m256 *accm, const bool vnni) {
    /* chunks 0, 1 start the two partial sums (VPMADDWD), 2, 3 accumulate */
    const __m512i p0 = _mm512_maddubs_epi16(w->q[0], _mm512_loadu_si512(a->qs));
    const __m512i p1 = _mm512_maddubs_epi16(w->q[1], _mm512_loadu_si512(a->qs + 64));
    const __m512i p2 = _mm512_maddubs_epi16(w->q[2], _mm512_loadu_si512(a->qs + 128));
    const __m512i p3 = _mm512_maddubs_epi16(w->q[3], _mm512_loadu_si512(a->qs + 192));
    const __m512i i0 = avx512_dot_i16(_mm512_madd_epi16(p0, w->sc[0]), p2, w->sc[2], vnni);
    const __m512i i1 = avx512_dot_i16(_mm512_madd_epi16(p1, w->sc[1]), p3, w->sc[3], vnni);
    __m512i isum = _mm512_add_epi32(i0, i1);
    const __m256i ib = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)a->bsums), w->mb);
    const __m512  da = _mm512_set1_ps(a->d);
    if (kq_has_min(t)) {
        const __m512 dd = _mm512_mul_ps(w->dm, da);   /* [d_w d_a, dmin_w d_a] pairs */
        *acc  = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_permute_ps(dd, 0x00), *acc);
        *accm = _mm256_fmadd_ps(_mm256_cvtepi32_ps(ib),
                                _mm512_castps512_ps256(_mm512_permute_ps(dd, 0x55)), *accm);
    } else {
        /* codes were stored + 2^shift: subtract 2^shift * sum_j s_j * bsums_j */
        const __m256i off = _mm256_slli_epi32(ib, kq_off_shift(t));
        isum = _mm512_sub_epi32(isum, _mm512_zextsi256_si512(off));
        *acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(isum), _mm512_mul_ps(w->dm, da), *acc);
    }
}

/* y[c][r] = dot(weight row r, activation row a[c]), r < nr, c < nc (nc a
 * compile-time constant; vec_dot is nr = nc = 1). */
AVX512_INLINE void kq_rows(const int t, int64_t n, float *const *y, const void *w, size_t ldw,
                           const void *const *a, int nr, const int nc, const bool vnni) {
    const size_t  bs = kq_size(t);
    const int64_t nb = n / DC_QK_K;
    for (int r = 0; r < nr; r++) {
        const uint8_t *wr = (const uint8_t *)w + (size_t)r * ldw;
        __m512 acc[DC_GEMM_TILE];
        __m256 accm[DC_GEMM_TILE];
        for (int c = 0; c < nc; c++) {
            acc[c]  = _mm512_setzero_ps();
            accm[c] = _mm256_setzero_ps();
        }
        for (int64_t b = 0; b < nb; b++) {
            kq_w x;
            avx512_prefetch_ahead(wr + (size_t)b * bs, bs);
            kq_decode(t, wr + (size_t)b * bs, &x);
            for (int c = 0; c < nc; c++)
                kq_col(t, &x, (const dc_block_q8_k *)a[c] + b, &acc[c], &accm[c], vnni);
        }
        for (int c = 0; c < nc; c++) {
            float s = avx512_hsum_ps(acc[c]);
            if (kq_has_min(t)) s -= avx512_hsum256_ps(accm[c]);
            y[c][r] = s;
        }
    }
}

#define KQ_KERNELS(name, T, V, SUFFIX)                                                         \
    static void vec_dot_##name##SUFFIX(int64_t n, float *s, const void *w, const void *a) {    \
        kq_rows(T, n, &s, w, 0, &a, 1, 1, V);                                                  \
    }                                                                                          \
    static void gemm_##name##SUFFIX(int64_t n, float *const *y, const void *w, size_t ldw,     \
                                    const void *const *a, int nr, int nc) {                    \
        switch (nc) {                                                                          \
        case 1:  kq_rows(T, n, y, w, ldw, a, nr, 1, V); break;                                 \
        case 2:  kq_rows(T, n, y, w, ldw, a, nr, 2, V); break;                                 \
        case 3:  kq_rows(T, n, y, w, ldw, a, nr, 3, V); break;                                 \
        default: kq_rows(T, n, y, w, ldw, a, nr, 4, V); break;                                 \
        }                                                                                      \
    }

#define KQ_BOTH(name, T)                                                                       \
    KQ_KERNELS(name, T, true, _vnni)                                                           \
    KQ_KERNELS(name, T, false, _bw)

KQ_BOTH(q2_k, K_Q2)
KQ_BOTH(q3_k, K_Q3)
KQ_BOTH(q4_k, K_Q4)
KQ_BOTH(q5_k, K_Q5)
KQ_BOTH(q6_k, K_Q6)

/* ---- dequant (bit-identical to quant_k.c) ------------------------------------------------ */

/* Scale and offset of the 16 elements starting at e (quant_k.c's float
 * expressions, evaluated once per 16): y = mul * (code - off) - sub. */
AVX512_INLINE void kq_group_scale(const int t, const uint8_t *p, int e, float *mul, float *sub) {
    switch (t) {
    case K_Q2: {
        const int   sc = p[Q2_SCALES + e / 16];
        mul[0] = avx512_h2f(u16_at(p + Q2_D)) * (float)(sc & 0xF);
        sub[0] = avx512_h2f(u16_at(p + Q2_D + 2)) * (float)(sc >> 4);
        break;
    }
    case K_Q3:
        mul[0] = avx512_h2f(u16_at(p + Q3_D)) *
                 (float)(dc_get_scale_q3_k(e / 16, p + Q3_SCALES) - 32);
        sub[0] = 0.0f;
        break;
    case K_Q4:
    case K_Q5: {
        uint8_t sc, m;
        dc_get_scale_min_k4(e / 32, p + Q4_SCALES, &sc, &m);
        mul[0] = avx512_h2f(u16_at(p + Q4_D)) * sc;
        sub[0] = avx512_h2f(u16_at(p + Q4_D + 2)) * m;
        break;
    }
    default:
        mul[0] = avx512_h2f(u16_at(p + Q6_D)) * (float)(int8_t)p[Q6_SCALES + e / 16];
        sub[0] = 0.0f;
        break;
    }
}

AVX512_INLINE void kq_dequant(const int t, const void *vx, float *y, int64_t n) {
    const size_t bs  = kq_size(t);
    const int    off = t == K_Q3 ? 4 : t == K_Q6 ? 32 : 0;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        const uint8_t *p = (const uint8_t *)vx + (size_t)b * bs;
        kq_w    x;
        uint8_t codes[DC_QK_K];
        kq_decode(t, p, &x);
        for (int c = 0; c < 4; c++) _mm512_storeu_si512(codes + 64 * c, x.q[c]);
        for (int e = 0; e < DC_QK_K; e += 16) {
            float mul, sub;
            kq_group_scale(t, p, e, &mul, &sub);
            const __m512i q = _mm512_sub_epi32(
                _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(codes + e))),
                _mm512_set1_epi32(off));
            __m512 v = _mm512_mul_ps(_mm512_set1_ps(mul), _mm512_cvtepi32_ps(q));
            if (kq_has_min(t)) v = _mm512_sub_ps(v, _mm512_set1_ps(sub));
            _mm512_storeu_ps(y + b * DC_QK_K + e, v);
        }
    }
}

static void dequant_q2_k(const void *x, float *y, int64_t n) { kq_dequant(K_Q2, x, y, n); }
static void dequant_q3_k(const void *x, float *y, int64_t n) { kq_dequant(K_Q3, x, y, n); }
static void dequant_q4_k(const void *x, float *y, int64_t n) { kq_dequant(K_Q4, x, y, n); }
static void dequant_q5_k(const void *x, float *y, int64_t n) { kq_dequant(K_Q5, x, y, n); }
static void dequant_q6_k(const void *x, float *y, int64_t n) { kq_dequant(K_Q6, x, y, n); }

/* ---- table ------------------------------------------------------------------------ */

void dc_cpu_avx512_init_kq(dc_cpu_kernels *k, const dc_cpu_features *f) {
    static const struct {
        dc_type       t;
        dc_vec_dot_fn dot[2];   /* [0] AVX512BW, [1] VNNI */
        dc_gemm_fn    gemm[2];
        dc_dequant_fn deq;
    } tab[] = {
        { DC_TYPE_Q2_K, { vec_dot_q2_k_bw, vec_dot_q2_k_vnni }, { gemm_q2_k_bw, gemm_q2_k_vnni },
          dequant_q2_k },
        { DC_TYPE_Q3_K, { vec_dot_q3_k_bw, vec_dot_q3_k_vnni }, { gemm_q3_k_bw, gemm_q3_k_vnni },
          dequant_q3_k },
        { DC_TYPE_Q4_K, { vec_dot_q4_k_bw, vec_dot_q4_k_vnni }, { gemm_q4_k_bw, gemm_q4_k_vnni },
          dequant_q4_k },
        { DC_TYPE_Q5_K, { vec_dot_q5_k_bw, vec_dot_q5_k_vnni }, { gemm_q5_k_bw, gemm_q5_k_vnni },
          dequant_q5_k },
        { DC_TYPE_Q6_K, { vec_dot_q6_k_bw, vec_dot_q6_k_vnni }, { gemm_q6_k_bw, gemm_q6_k_vnni },
          dequant_q6_k },
    };
    const int v = f->avx512vnni ? 1 : 0;
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        const int s = dc_type_slot(tab[i].t);
        k->vec_dot[s] = tab[i].dot[v];
        k->gemm[s]    = tab[i].gemm[v];
        k->dequant[s] = tab[i].deq;
    }
}
