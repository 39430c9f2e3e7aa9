/*
 * scalar.c - the plain-C CPU kernels: the ground truth every ISA file is
 * tested against (ggml's `_generic`, dav1d's `_c`).
 *
 * vec_dot: one dot product of a weight row (type W) with an activation row
 * already rounded to W's vec_dot_type. Integer formats are exact where the
 * format allows: per block (32) or super-block (256) the code products are
 * summed as integers, and only then scaled. The float part, in the order
 * each kernel's comment gives, is one f32 accumulator over blocks in row
 * order. ISA variants may reorder the float part (the model fixtures
 * tolerate ~1e-6 relative) but must reproduce the integer sums.
 *   legacy 32-blocks   sumf += isum * (d_w * d_a)          [+ m_w * s_a for Q8_1]
 *   K-quants           sumf += (d_w * d_a) * isum - (dmin_w * d_a) * isum_min
 *   F8_E4M3_B128       sumf += (f32(isum * 2^-18) * s_a) * s_w, isum in int64:
 *                      the exact-mode contract of spec/fp8-gguf.md §1.7
 *   F32 / F16 / BF16   products and sum in double, rounded once to f32.
 *
 * quantize_act: how the peer engine's CPU backend rounds activations
 * (fixtures/README.md, "The quantized models"). Its Q8_0 / Q8_1 differ from
 * the reference weight quantizers (quant_legacy.c): q = rne(x * (127/amax))
 * (ties to even, 127/amax rather than 1/d). Q8_K, F16, BF16 and F8 use the
 * reference converters unchanged.
 */
#include "kernels.h"

#include "../../../lib/tensor/quant_impl.h"

/* ---- activation quantizers --------------------------------------------------- */

static float block_absmax(const float *x, int n) {
    float amax = 0.0f;
    for (int j = 0; j < n; j++) {
        const float v = fabsf(x[j]);
        if (v > amax) amax = v;
    }
    return amax;
}

/* Peer Q8_0: d = amax/127 stored f16, q = rne(x * (127/amax)), 0 if amax == 0. */
static void quantize_act_q8_0(const float *x, void *vy, int64_t n) {
    dc_block_q8_0 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const float *xb   = x + b * DC_QK8_0;
        const float  amax = block_absmax(xb, DC_QK8_0);
        const float  id   = amax != 0.0f ? 127.0f / amax : 0.0f;
        y[b].d = dc_fp32_to_fp16(amax / 127.0f);
        for (int j = 0; j < DC_QK8_0; j++)
            y[b].qs[j] = (int8_t)dc_nearest_int(xb[j] * id);
    }
}

/* Peer Q8_1: as Q8_0, plus s = f16(d * sum q) with the unrounded f32 d. */
static void quantize_act_q8_1(const float *x, void *vy, int64_t n) {
    dc_block_q8_1 *y = vy;
    for (int64_t b = 0; b < n / DC_QK8_1; b++) {
        const float *xb   = x + b * DC_QK8_1;
        const float  amax = block_absmax(xb, DC_QK8_1);
        const float  d    = amax / 127.0f;
        const float  id   = amax != 0.0f ? 127.0f / amax : 0.0f;
        int sum = 0;
        y[b].d = dc_fp32_to_fp16(d);
        for (int j = 0; j < DC_QK8_1; j++) {
            y[b].qs[j] = (int8_t)dc_nearest_int(xb[j] * id);
            sum += y[b].qs[j];
        }
        y[b].s = dc_fp32_to_fp16(d * (float)sum);
    }
}

/* ---- float dots -------------------------------------------------------------- */

static void vec_dot_f32(int64_t n, float *s, const void *vw, const void *va) {
    const float *w = vw, *a = va;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) sum += (double)w[i] * (double)a[i];
    *s = (float)sum;
}

static void vec_dot_f16(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)dc_half_to_float(w[i]) * (double)dc_half_to_float(a[i]);
    *s = (float)sum;
}

static void vec_dot_bf16(int64_t n, float *s, const void *vw, const void *va) {
    const uint16_t *w = vw, *a = va;
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++)
        sum += (double)dc_bfloat_to_float(w[i]) * (double)dc_bfloat_to_float(a[i]);
    *s = (float)sum;
}

/* ---- legacy 32-blocks -------------------------------------------------------- */

/* Integer dot of 32 weight codes (already unpacked, offset removed) with the
 * 32 activation codes. */
static int idot32(const int8_t *q, const int8_t *a) {
    int sum = 0;
    for (int j = 0; j < 32; j++) sum += q[j] * a[j];
    return sum;
}

/* Element j < 16 in the low nibble of qs[j], j + 16 in the high nibble;
 * hbits (Q5: bit j = fifth bit of element j, 0 for Q4) is added, then off
 * subtracted. */
static void unpack_nibbles(const uint8_t *qs, uint32_t hbits, int off, int8_t q[32]) {
    for (int j = 0; j < 16; j++) {
        q[j]      = (int8_t)(((qs[j] & 0x0F) | (int)((hbits >> j) & 1) << 4) - off);
        q[j + 16] = (int8_t)(((qs[j] >> 4) | (int)((hbits >> (j + 16)) & 1) << 4) - off);
    }
}

static uint32_t load_u32le(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static void vec_dot_q4_0_q8_0(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q4_0 *w = vw;
    const dc_block_q8_0 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK4_0; b++) {
        int8_t q[32];
        unpack_nibbles(w[b].qs, 0, 8, q);
        const int isum = idot32(q, a[b].qs);
        sumf += (float)isum * (dc_half_to_float(w[b].d) * dc_half_to_float(a[b].d));
    }
    *s = sumf;
}

static void vec_dot_q5_0_q8_0(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q5_0 *w = vw;
    const dc_block_q8_0 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK5_0; b++) {
        int8_t q[32];
        unpack_nibbles(w[b].qs, load_u32le(w[b].qh), 16, q);
        const int isum = idot32(q, a[b].qs);
        sumf += (float)isum * (dc_half_to_float(w[b].d) * dc_half_to_float(a[b].d));
    }
    *s = sumf;
}

static void vec_dot_q8_0_q8_0(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q8_0 *w = vw;
    const dc_block_q8_0 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK8_0; b++) {
        const int isum = idot32(w[b].qs, a[b].qs);
        sumf += (float)isum * (dc_half_to_float(w[b].d) * dc_half_to_float(a[b].d));
    }
    *s = sumf;
}

/* Q4_1 / Q5_1: y_w = q*d + m, so the block dot is d_w*d_a*isum + m_w*(d_a*sum q_a)
 * and the second factor is the activation's stored s. */
static void vec_dot_q4_1_q8_1(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q4_1 *w = vw;
    const dc_block_q8_1 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK4_1; b++) {
        int8_t q[32];
        unpack_nibbles(w[b].qs, 0, 0, q);
        const int isum = idot32(q, a[b].qs);
        sumf += (dc_half_to_float(w[b].d) * dc_half_to_float(a[b].d)) * (float)isum +
                dc_half_to_float(w[b].m) * dc_half_to_float(a[b].s);
    }
    *s = sumf;
}

static void vec_dot_q5_1_q8_1(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q5_1 *w = vw;
    const dc_block_q8_1 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK5_1; b++) {
        int8_t q[32];
        unpack_nibbles(w[b].qs, load_u32le(w[b].qh), 0, q);
        const int isum = idot32(q, a[b].qs);
        sumf += (dc_half_to_float(w[b].d) * dc_half_to_float(a[b].d)) * (float)isum +
                dc_half_to_float(w[b].m) * dc_half_to_float(a[b].s);
    }
    *s = sumf;
}

/* ---- K-quants ---------------------------------------------------------------- */

/* Integer dot of 256 unpacked weight codes with a Q8_K block, one int32 per
 * sub-block of len elements (len 16 or 32): isub[j] = sum q*a over it. */
static void idot_sub(const int8_t *q, const int8_t *a, int len, int32_t *isub) {
    for (int j = 0; j < DC_QK_K / len; j++) {
        int32_t sum = 0;
        for (int l = 0; l < len; l++) sum += q[j * len + l] * a[j * len + l];
        isub[j] = sum;
    }
}

/* 2-bit field of element e shared by Q2_K and Q3_K (quant_impl.h layout). */
static inline int low2(const uint8_t *qs, int e) {
    return (qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
}

/* Q2_K: isum = sum_j sc_j * isub_j, isum_min = sum_j m_j * bsums_j (exact ints);
 * sumf += (d_a * d_w) * isum - (d_a * dmin_w) * isum_min. */
static void vec_dot_q2_k_q8_k(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q2_k *w = vw;
    const dc_block_q8_k *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        int8_t  q[DC_QK_K];
        int32_t isub[16];
        for (int e = 0; e < DC_QK_K; e++) q[e] = (int8_t)low2(w[b].qs, e);
        idot_sub(q, a[b].qs, 16, isub);
        int32_t isum = 0, isum_min = 0;
        for (int j = 0; j < 16; j++) {
            isum     += (w[b].scales[j] & 0xF) * isub[j];
            isum_min += (w[b].scales[j] >> 4) * a[b].bsums[j];
        }
        const float dall = a[b].d * dc_half_to_float(w[b].d);
        const float dmin = a[b].d * dc_half_to_float(w[b].dmin);
        sumf += dall * (float)isum - dmin * (float)isum_min;
    }
    *s = sumf;
}

/* Q3_K: q = low2 - 4*(1 - hbit), isum = sum_j (s_j - 32) * isub_j;
 * sumf += (d_w * d_a) * isum. */
static void vec_dot_q3_k_q8_k(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q3_k *w = vw;
    const dc_block_q8_k *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        int8_t  q[DC_QK_K];
        int32_t isub[16];
        for (int e = 0; e < DC_QK_K; e++) {
            const int hb = (w[b].hmask[e % 32] >> (e / 32)) & 1;
            q[e] = (int8_t)(low2(w[b].qs, e) - (hb ? 0 : 4));
        }
        idot_sub(q, a[b].qs, 16, isub);
        int32_t isum = 0;
        for (int j = 0; j < 16; j++) isum += (dc_get_scale_q3_k(j, w[b].scales) - 32) * isub[j];
        sumf += (dc_half_to_float(w[b].d) * a[b].d) * (float)isum;
    }
    *s = sumf;
}

/* Q4_K / Q5_K tail: isum = sum_j sc_j * isub_j, isum_min = sum_j m_j *
 * (bsums_2j + bsums_2j+1); adds (d_w*d_a)*isum - (dmin_w*d_a)*isum_min. */
static float k4_block_sum(const int8_t *q, const uint8_t *scales12, uint16_t d,
                          uint16_t dmin, const dc_block_q8_k *a) {
    int32_t isub[8], isum = 0, isum_min = 0;
    idot_sub(q, a->qs, 32, isub);
    for (int j = 0; j < 8; j++) {
        uint8_t sc, m;
        dc_get_scale_min_k4(j, scales12, &sc, &m);
        isum     += sc * isub[j];
        isum_min += m * (a->bsums[2 * j] + a->bsums[2 * j + 1]);
    }
    const float dd   = dc_half_to_float(d) * a->d;
    const float dm   = dc_half_to_float(dmin) * a->d;
    return dd * (float)isum - dm * (float)isum_min;
}

static void vec_dot_q4_k_q8_k(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q4_k *w = vw;
    const dc_block_q8_k *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        int8_t q[DC_QK_K];
        for (int e = 0; e < DC_QK_K; e++)
            q[e] = (int8_t)((w[b].qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) & 1))) & 0xF);
        sumf += k4_block_sum(q, w[b].scales, w[b].d, w[b].dmin, &a[b]);
    }
    *s = sumf;
}

static void vec_dot_q5_k_q8_k(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q5_k *w = vw;
    const dc_block_q8_k *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        int8_t q[DC_QK_K];
        for (int e = 0; e < DC_QK_K; e++) {
            const int lo = (w[b].qs[32 * (e / 64) + e % 32] >> (4 * ((e / 32) & 1))) & 0xF;
            const int hi = (w[b].qh[e % 32] >> (e / 32)) & 1;
            q[e] = (int8_t)(lo | (hi << 4));
        }
        sumf += k4_block_sum(q, w[b].scales, w[b].d, w[b].dmin, &a[b]);
    }
    *s = sumf;
}

/* Q6_K: q = 6-bit code - 32, isum = sum_j sc_j * isub_j (16 sub-blocks);
 * sumf += (d_w * d_a) * isum. */
static void vec_dot_q6_k_q8_k(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_q6_k *w = vw;
    const dc_block_q8_k *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_K; b++) {
        int8_t  q[DC_QK_K];
        int32_t isub[16], isum = 0;
        for (int e = 0; e < DC_QK_K; e++) {
            const int h = e / 128, l = e % 32, part = (e % 128) / 32;
            const uint8_t ql = w[b].ql[64 * h + l + 32 * (part & 1)];
            const int lo = part < 2 ? (ql & 0xF) : (ql >> 4);
            const int hi = (w[b].qh[32 * h + l] >> (2 * part)) & 3;
            q[e] = (int8_t)((lo | (hi << 4)) - 32);
        }
        idot_sub(q, a[b].qs, 16, isub);
        for (int j = 0; j < 16; j++) isum += w[b].scales[j] * isub[j];
        sumf += (dc_half_to_float(w[b].d) * a[b].d) * (float)isum;
    }
    *s = sumf;
}

/* ---- FP8 --------------------------------------------------------------------- */

/* Exact per-block dot: E4M3 values are k * 2^-9 (dc_e4m3_k), so a block's
 * sum of products is an int64 (< 2^43) times 2^-18, converted to f32 once.
 * A NaN code in either operand makes the block, and so the result, NaN. */
static void vec_dot_f8_f8(int64_t n, float *s, const void *vw, const void *va) {
    const dc_block_f8_b128 *w = vw;
    const dc_block_f8_b128 *a = va;
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / DC_QK_F8; b++) {
        int64_t acc = 0;
        int     nan = 0;
        for (int i = 0; i < DC_QK_F8; i++) {
            const uint8_t cw = w[b].qs[i], ca = a[b].qs[i];
            nan |= ((cw & 0x7f) == 0x7f) | ((ca & 0x7f) == 0x7f);
            acc += (int64_t)dc_e4m3_k[cw] * dc_e4m3_k[ca];
        }
        const float bd = nan ? NAN : (float)((double)acc * 0x1p-18);
        sumf += (bd * a[b].d) * w[b].d;
    }
    *s = sumf;
}

/* ---- table ------------------------------------------------------------------- */

static void set_dot(dc_cpu_kernels *k, dc_type t, dc_vec_dot_fn fn) {
    k->vec_dot[dc_type_slot(t)] = fn;
}

static void set_act(dc_cpu_kernels *k, dc_type t, dc_quantize_act_fn fn) {
    k->quantize_act[dc_type_slot(t)] = fn;
}

void dc_cpu_kernels_init_scalar(dc_cpu_kernels *k) {
    memset(k, 0, sizeof *k);
    k->isa = DC_CPU_ISA_SCALAR;

    set_dot(k, DC_TYPE_F32,          vec_dot_f32);
    set_dot(k, DC_TYPE_F16,          vec_dot_f16);
    set_dot(k, DC_TYPE_BF16,         vec_dot_bf16);
    set_dot(k, DC_TYPE_Q4_0,         vec_dot_q4_0_q8_0);
    set_dot(k, DC_TYPE_Q4_1,         vec_dot_q4_1_q8_1);
    set_dot(k, DC_TYPE_Q5_0,         vec_dot_q5_0_q8_0);
    set_dot(k, DC_TYPE_Q5_1,         vec_dot_q5_1_q8_1);
    set_dot(k, DC_TYPE_Q8_0,         vec_dot_q8_0_q8_0);
    set_dot(k, DC_TYPE_Q2_K,         vec_dot_q2_k_q8_k);
    set_dot(k, DC_TYPE_Q3_K,         vec_dot_q3_k_q8_k);
    set_dot(k, DC_TYPE_Q4_K,         vec_dot_q4_k_q8_k);
    set_dot(k, DC_TYPE_Q5_K,         vec_dot_q5_k_q8_k);
    set_dot(k, DC_TYPE_Q6_K,         vec_dot_q6_k_q8_k);
    set_dot(k, DC_TYPE_F8_E4M3_B128, vec_dot_f8_f8);

    set_act(k, DC_TYPE_F32,          dc_quantize_row_f32);
    set_act(k, DC_TYPE_F16,          dc_quantize_row_f16);
    set_act(k, DC_TYPE_BF16,         dc_quantize_row_bf16);
    set_act(k, DC_TYPE_Q8_0,         quantize_act_q8_0);
    set_act(k, DC_TYPE_Q8_1,         quantize_act_q8_1);
    set_act(k, DC_TYPE_Q8_K,         dc_quantize_row_q8_k);
    set_act(k, DC_TYPE_F8_E4M3_B128, dc_quantize_row_f8_b128);

    dc_cpu_kernels_init_scalar_rows(k);
}
