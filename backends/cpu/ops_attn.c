/*
 * ops_attn.c - attention on the CPU: softmax(scale * q.k + mask) v, one pass
 * over the kv positions with an online softmax (running max and sum,
 * rescaling the accumulator when the max grows), all in f32.
 *
 * q: [Dk, n_q, H, B] F32, k: [Dk, n_kv, Hkv, B], v: [Dv, n_kv, Hkv, B] of
 * type F32/F16/BF16/Q8_0/F8_E4M3_B128 (v may be a view of k with Dv < Dk, as
 * in MLA's absorbed form where V is the first kv_lora_rank values of the
 * latent K), mask: NULL or F32 [n_kv, >= n_q] shared by heads and batches.
 * dst: [Dv, H, n_q, B]. Query head h reads kv head h / (H / Hkv).
 *
 * Work items are (batch, head, tile of ATTN_TQ queries); threads take
 * contiguous ranges. Within a tile each K and V row is converted to f32 once
 * (traits to_float into this thread's scratch; F32 rows are read in place)
 * and serves every query of the tile. A kv position whose mask entry is
 * -INFINITY is skipped; a query with every position masked outputs zeros.
 * Each output row is produced by one thread in a fixed order, so results do
 * not depend on the thread count. Scratch per thread (64-byte aligned):
 * q tile [Dk, ATTN_TQ], k row [Dk], v row [Dv], accumulators [Dv, ATTN_TQ].
 */
#include "cpu_impl.h"

#include <math.h>

#define ATTN_TQ 8   /* queries per work item */

/* bytes of one thread's scratch: q tile, k row, v row, accumulators */
static size_t attn_thread_bytes(const dc_tensor *dst) {
    const size_t dk = (size_t)dst->src[0]->ne[0], dv = (size_t)dst->ne[0];
    return dc_pad(dk * ATTN_TQ * sizeof(float), DC_ALIGN) + dc_pad(dk * sizeof(float), DC_ALIGN) +
           dc_pad(dv * sizeof(float), DC_ALIGN) + dc_pad(dv * ATTN_TQ * sizeof(float), DC_ALIGN);
}

size_t dc_cpu_flash_attn_work_size(const dc_tensor *dst, int n_threads) {
    return attn_thread_bytes(dst) * (size_t)n_threads;
}

typedef struct attn_buf {
    float *q;     /* [Dk, n] queries of the tile           */
    float *k;     /* [Dk] current key row                  */
    float *v;     /* [Dv] current value row                */
    float *acc;   /* [Dv, n] unnormalized outputs          */
} attn_buf;

typedef struct attn_state {
    float m[ATTN_TQ];   /* running max of the scores     */
    float s[ATTN_TQ];   /* running sum of exp(score - m) */
} attn_state;

static attn_buf attn_buf_at(const dc_cpu_task *p, const dc_tensor *dst) {
    const size_t dk = (size_t)dst->src[0]->ne[0], dv = (size_t)dst->ne[0];
    char *base = (char *)p->wdata + attn_thread_bytes(dst) * (size_t)p->ith;
    attn_buf b;
    b.q = (float *)base;
    base += dc_pad(dk * ATTN_TQ * sizeof(float), DC_ALIGN);
    b.k = (float *)base;
    base += dc_pad(dk * sizeof(float), DC_ALIGN);
    b.v = (float *)base;
    base += dc_pad(dv * sizeof(float), DC_ALIGN);
    b.acc = (float *)base;
    return b;
}

/* Row j of kv head hk in batch ib as f32: in place for F32, else via buf. */
static const float *kv_row(const dc_tensor *t, int64_t n, int64_t j, int64_t hk, int64_t ib,
                           float *buf) {
    const char *row = dc_tensor_at(t, j, hk, ib);
    if (t->type == DC_TYPE_F32) return (const float *)row;
    dc_get_type_traits(t->type)->to_float(row, buf, n);
    return buf;
}

static float mask_at(const dc_tensor *mask, int64_t j, int64_t iq) {
    if (!mask) return 0.0f;
    return *(const float *)((const char *)mask->data + (size_t)j * mask->nb[0] +
                            (size_t)iq * mask->nb[1]);
}

static float dot_f32(const float *a, const float *b, int64_t n) {
    float s = 0.0f;
    for (int64_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* Fold score sc with value row v into query qi's state and accumulator. */
static void attn_update(attn_state *st, float *acc, int qi, float sc, const float *v, int64_t dv) {
    if (sc > st->m[qi]) {
        const float ms = expf(st->m[qi] - sc);   /* 0 for the first position */
        for (int64_t i = 0; i < dv; i++) acc[i] = acc[i] * ms + v[i];
        st->s[qi] = st->s[qi] * ms + 1.0f;
        st->m[qi] = sc;
    } else {
        const float vs = expf(sc - st->m[qi]);
        for (int64_t i = 0; i < dv; i++) acc[i] += vs * v[i];
        st->s[qi] += vs;
    }
}

/* Queries [q0, q0 + nq) of head h, batch ib. */
static void attn_tile(const dc_tensor *dst, const attn_buf *b, int64_t ib, int64_t h, int64_t q0,
                      int nq) {
    const dc_tensor *q = dst->src[0], *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    const int64_t dk = q->ne[0], dv = v->ne[0], n_kv = k->ne[1];
    const int64_t hk = h / (q->ne[2] / k->ne[2]);
    const float scale = dst->params.flash_attn.scale;
    attn_state st;
    for (int i = 0; i < nq; i++) {
        const char *qr = dc_tensor_at(q, q0 + i, h, ib);
        for (int64_t d = 0; d < dk; d++) b->q[i * dk + d] = *(const float *)(qr + d * q->nb[0]);
        for (int64_t d = 0; d < dv; d++) b->acc[i * dv + d] = 0.0f;
        st.m[i] = -INFINITY;
        st.s[i] = 0.0f;
    }
    for (int64_t j = 0; j < n_kv; j++) {
        int live = 0;
        for (int i = 0; i < nq; i++) live |= mask_at(mask, j, q0 + i) != -INFINITY;
        if (!live) continue;
        const float *kr = kv_row(k, dk, j, hk, ib, b->k);
        const float *vr = kv_row(v, dv, j, hk, ib, b->v);
        for (int i = 0; i < nq; i++) {
            const float mv = mask_at(mask, j, q0 + i);
            if (mv == -INFINITY) continue;
            const float sc = dot_f32(b->q + i * dk, kr, dk) * scale + mv;
            attn_update(&st, b->acc + i * dv, i, sc, vr, dv);
        }
    }
    for (int i = 0; i < nq; i++) {
        float *out = (float *)dc_tensor_at(dst, h, q0 + i, ib);
        const float inv = st.s[i] == 0.0f ? 0.0f : 1.0f / st.s[i];
        for (int64_t d = 0; d < dv; d++) out[d] = b->acc[i * dv + d] * inv;
    }
}

void dc_cpu_op_flash_attn(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *q = dst->src[0];
    const int64_t n_q = q->ne[1], H = q->ne[2], B = q->ne[3];
    if (attn_thread_bytes(dst) * (size_t)p->nth > p->wsize) {
        dc_cpu_fail(p, DC_ERR_INTERNAL, "flash_attn: scratch of %zu bytes, need %zu", p->wsize,
                    attn_thread_bytes(dst) * (size_t)p->nth);
        return;
    }
    const attn_buf b = attn_buf_at(p, dst);
    const int64_t nt = (n_q + ATTN_TQ - 1) / ATTN_TQ;
    int64_t w0, w1;
    dc_cpu_split(p, B * H * nt, &w0, &w1);
    for (int64_t w = w0; w < w1; w++) {
        const int64_t qt = w % nt, h = (w / nt) % H, ib = w / (nt * H);
        const int64_t q0 = qt * ATTN_TQ;
        attn_tile(dst, &b, ib, h, q0, (int)(n_q - q0 < ATTN_TQ ? n_q - q0 : ATTN_TQ));
    }
}
