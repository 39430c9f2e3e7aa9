/*
 * ops_attn.c - attention on the CPU: softmax(scale * q.k + mask) v with an
 * online softmax over the kv positions, all in f32.
 *
 * q: [Dk, n_q, H, B] F32, k: [Dk, n_kv, Hkv, B], v: [Dv, n_kv, Hkv, B] of
 * type F32/F16/BF16/Q8_0/F8_E4M3_B128 (v may be a view of k with Dv < Dk, as
 * in MLA's absorbed form: V is the first kv_lora_rank values of the latent
 * K), mask: NULL or F32 [n_kv, >= n_q]. dst: [Dv, H, n_q, B]. Query head h
 * reads kv head h / G, G = H / Hkv.
 *
 * A work item is (batch, kv head, tile of ATTN_TQ queries, kv chunk) and
 * carries all G query heads that share the kv head, so each cached row is
 * read once for G x ATTN_TQ (query, head) pairs: for MLA decode (Hkv = 1)
 * one pass over the latent cache serves every head. Rows are used in their
 * cache format through the kernel table (kq_dot for scores, axpy for the
 * weighted sum), a block of ATTN_KB positions at a time: scores first, then
 * one rescale per block, then the value rows.
 *
 * Decode has few queries, hence few items for the threads; when n_q <=
 * ATTN_SPLIT_Q the kv range is cut into chunks of ATTN_CHUNK positions, each
 * item writes a partial (max, sum, accumulator), and after a barrier the
 * partials are merged in chunk order. The cut depends only on the shapes,
 * never on the thread count, so results are bit-identical for any count.
 * A position whose mask is -INFINITY is skipped; a query with every position
 * masked outputs zeros.
 */
#include "cpu_impl.h"

#include <math.h>
#include <string.h>

#define ATTN_TQ      4     /* queries per item                        */
#define ATTN_KB      32    /* kv positions per score block             */
#define ATTN_SPLIT_Q 4     /* split the kv range when n_q is this small */
#define ATTN_CHUNK   256   /* kv positions per chunk when split         */

typedef struct attn_shape {
    int64_t dk, dv, n_q, n_kv, H, Hkv, G, B;
    int64_t nt;        /* query tiles                    */
    int64_t n_chunks;  /* kv chunks (1 unless split)     */
    int64_t P;         /* (head, query) pairs per item   */
    bool    split;
} attn_shape;

static attn_shape shape_of(const dc_tensor *dst) {
    const dc_tensor *q = dst->src[0], *k = dst->src[1];
    attn_shape s = { .dk = q->ne[0], .dv = dst->ne[0], .n_q = q->ne[1], .n_kv = k->ne[1],
                     .H = q->ne[2], .Hkv = k->ne[2], .B = q->ne[3] };
    s.G = s.H / s.Hkv;
    s.nt = (s.n_q + ATTN_TQ - 1) / ATTN_TQ;
    s.split = s.n_q <= ATTN_SPLIT_Q && s.n_kv > ATTN_CHUNK;
    s.n_chunks = s.split ? (s.n_kv + ATTN_CHUNK - 1) / ATTN_CHUNK : 1;
    s.P = s.G * (s.n_q < ATTN_TQ ? s.n_q : ATTN_TQ);
    return s;
}

/* ---- scratch ---------------------------------------------------------------------- */

/* per thread: q rows [P, Dk], accumulators [P, Dv], scores [P, KB], m [P], s [P] */
static size_t thread_bytes(const attn_shape *s) {
    return dc_pad((size_t)(s->P * s->dk) * sizeof(float), DC_ALIGN) +
           dc_pad((size_t)(s->P * s->dv) * sizeof(float), DC_ALIGN) +
           dc_pad((size_t)(s->P * ATTN_KB) * sizeof(float), DC_ALIGN) +
           2 * dc_pad((size_t)s->P * sizeof(float), DC_ALIGN);
}

/* partials of split items: per item and pair [Dv + 2] (acc, m, s) */
static size_t partial_bytes(const attn_shape *s) {
    if (!s->split) return 0;
    return dc_pad((size_t)(s->B * s->Hkv * s->nt * s->n_chunks * s->P * (s->dv + 2)) * sizeof(float),
                  DC_ALIGN);
}

size_t dc_cpu_flash_attn_work_size(const dc_tensor *dst, int n_threads) {
    attn_shape s = shape_of(dst);
    return partial_bytes(&s) + thread_bytes(&s) * (size_t)n_threads;
}

typedef struct attn_buf {
    float *q, *acc, *sc, *m, *s;
} attn_buf;

static attn_buf buf_at(const dc_cpu_task *p, const attn_shape *s) {
    char *base = (char *)p->wdata + partial_bytes(s) + thread_bytes(s) * (size_t)p->ith;
    attn_buf b;
    b.q = (float *)base;
    base += dc_pad((size_t)(s->P * s->dk) * sizeof(float), DC_ALIGN);
    b.acc = (float *)base;
    base += dc_pad((size_t)(s->P * s->dv) * sizeof(float), DC_ALIGN);
    b.sc = (float *)base;
    base += dc_pad((size_t)(s->P * ATTN_KB) * sizeof(float), DC_ALIGN);
    b.m = (float *)base;
    base += dc_pad((size_t)s->P * sizeof(float), DC_ALIGN);
    b.s = (float *)base;
    return b;
}

static float mask_at(const dc_tensor *mask, int64_t j, int64_t iq) {
    if (!mask) return 0.0f;
    return *(const float *)((const char *)mask->data + (size_t)j * mask->nb[0] +
                            (size_t)iq * mask->nb[1]);
}

/* ---- one item ---------------------------------------------------------------------- */

typedef struct attn_item {
    int64_t ib, hk, q0, j0, j1;
    int     nq;         /* queries in the tile */
} attn_item;

/* Pair index: g * nq + i  <->  head hk * G + g, query q0 + i. */
static void load_queries(const dc_tensor *q, const attn_shape *s, const attn_item *it, attn_buf *b) {
    for (int64_t g = 0; g < s->G; g++)
        for (int i = 0; i < it->nq; i++) {
            const int64_t pr = g * it->nq + i;
            const char *row = dc_tensor_at(q, it->q0 + i, it->hk * s->G + g, it->ib);
            for (int64_t d = 0; d < s->dk; d++)
                b->q[pr * s->dk + d] = *(const float *)(row + d * q->nb[0]);
            memset(b->acc + pr * s->dv, 0, (size_t)s->dv * sizeof(float));
            b->m[pr] = -INFINITY;
            b->s[pr] = 0.0f;
        }
}

/* Positions [j, j + n) for every pair: scores, one rescale, value rows. */
static void attn_block(const dc_cpu_task *p, const dc_tensor *dst, const attn_shape *s,
                       const attn_item *it, attn_buf *b, int64_t j, int n) {
    const dc_tensor *k = dst->src[1], *v = dst->src[2], *mask = dst->src[3];
    const dc_kq_dot_fn kq = p->k->kq_dot[dc_type_slot(k->type)];
    const dc_axpy_fn axpy = p->k->axpy[dc_type_slot(v->type)];
    const float scale = dst->params.flash_attn.scale;
    const int64_t P = s->G * it->nq;
    for (int jj = 0; jj < n; jj++) {
        const char *krow = dc_tensor_at(k, j + jj, it->hk, it->ib);
        for (int i = 0; i < it->nq; i++) {
            const float mv = mask_at(mask, j + jj, it->q0 + i);
            for (int64_t g = 0; g < s->G; g++) {
                const int64_t pr = g * it->nq + i;
                float d = -INFINITY;
                if (mv != -INFINITY) {
                    kq(s->dk, &d, b->q + pr * s->dk, krow);
                    d = d * scale + mv;
                }
                b->sc[pr * ATTN_KB + jj] = d;
            }
        }
    }
    /* new running max per pair; rescale what was accumulated */
    for (int64_t pr = 0; pr < P; pr++) {
        float bm = -INFINITY;
        for (int jj = 0; jj < n; jj++) bm = fmaxf(bm, b->sc[pr * ATTN_KB + jj]);
        if (bm > b->m[pr]) {
            const float ms = expf(b->m[pr] - bm);   /* 0 for the first live block */
            float *acc = b->acc + pr * s->dv;
            for (int64_t d = 0; d < s->dv; d++) acc[d] *= ms;
            b->s[pr] *= ms;
            b->m[pr] = bm;
        }
        for (int jj = 0; jj < n; jj++) {
            float *w = &b->sc[pr * ATTN_KB + jj];
            *w = *w == -INFINITY ? 0.0f : expf(*w - b->m[pr]);
            b->s[pr] += *w;
        }
    }
    for (int jj = 0; jj < n; jj++) {
        const char *vrow = dc_tensor_at(v, j + jj, it->hk, it->ib);
        for (int64_t pr = 0; pr < P; pr++) {
            const float w = b->sc[pr * ATTN_KB + jj];
            if (w != 0.0f) axpy(s->dv, b->acc + pr * s->dv, w, vrow);
        }
    }
}

static void run_item(const dc_cpu_task *p, dc_tensor *dst, const attn_shape *s,
                     const attn_item *it, attn_buf *b) {
    load_queries(dst->src[0], s, it, b);
    for (int64_t j = it->j0; j < it->j1; j += ATTN_KB)
        attn_block(p, dst, s, it, b, j, (int)(it->j1 - j < ATTN_KB ? it->j1 - j : ATTN_KB));
}

/* Normalized output of pair pr to dst. */
static void write_out(dc_tensor *dst, const attn_shape *s, const attn_item *it, int64_t pr,
                      const float *acc, float sum) {
    const int64_t g = pr / it->nq, i = pr % it->nq;
    float *out = (float *)dc_tensor_at(dst, it->hk * s->G + g, it->q0 + i, it->ib);
    const float inv = sum == 0.0f ? 0.0f : 1.0f / sum;
    for (int64_t d = 0; d < s->dv; d++) out[d] = acc[d] * inv;
}

/* ---- the op ---------------------------------------------------------------------------- */

static attn_item item_of(const attn_shape *s, int64_t w) {
    attn_item it;
    const int64_t ck = w % s->n_chunks, qt = (w / s->n_chunks) % s->nt;
    it.hk = (w / (s->n_chunks * s->nt)) % s->Hkv;
    it.ib = w / (s->n_chunks * s->nt * s->Hkv);
    it.q0 = qt * ATTN_TQ;
    it.nq = (int)(s->n_q - it.q0 < ATTN_TQ ? s->n_q - it.q0 : ATTN_TQ);
    it.j0 = ck * ATTN_CHUNK * (s->split ? 1 : 0);
    it.j1 = s->split ? (it.j0 + ATTN_CHUNK < s->n_kv ? it.j0 + ATTN_CHUNK : s->n_kv) : s->n_kv;
    return it;
}

/* Merge the chunks of item w0 / n_chunks (chunk 0 first) into dst. */
static void merge_chunks(dc_tensor *dst, const attn_shape *s, int64_t base_item, const float *part) {
    const attn_item it = item_of(s, base_item);
    const size_t stride = (size_t)(s->dv + 2);
    const int64_t P = s->G * it.nq;
    float acc[1024];
    for (int64_t pr = 0; pr < P; pr++) {
        float M = -INFINITY, S = 0.0f;
        for (int64_t c = 0; c < s->n_chunks; c++) {
            const float *pc = part + ((size_t)(base_item + c) * (size_t)s->P + (size_t)pr) * stride;
            M = fmaxf(M, pc[s->dv]);
        }
        for (int64_t d0 = 0; d0 < s->dv; d0 += 1024) {
            const int64_t dn = s->dv - d0 < 1024 ? s->dv - d0 : 1024;
            memset(acc, 0, (size_t)dn * sizeof(float));
            S = 0.0f;
            for (int64_t c = 0; c < s->n_chunks; c++) {
                const float *pc = part + ((size_t)(base_item + c) * (size_t)s->P + (size_t)pr) * stride;
                if (pc[s->dv] == -INFINITY) continue;
                const float f = expf(pc[s->dv] - M);
                S += pc[s->dv + 1] * f;
                for (int64_t d = 0; d < dn; d++) acc[d] += pc[d0 + d] * f;
            }
            const int64_t g = pr / it.nq, i = pr % it.nq;
            float *out = (float *)dc_tensor_at(dst, it.hk * s->G + g, it.q0 + i, it.ib) + d0;
            const float inv = S == 0.0f ? 0.0f : 1.0f / S;
            for (int64_t d = 0; d < dn; d++) out[d] = acc[d] * inv;
        }
    }
}

void dc_cpu_op_flash_attn(const dc_cpu_task *p, dc_tensor *dst) {
    const attn_shape s = shape_of(dst);
    const size_t need = dc_cpu_flash_attn_work_size(dst, p->nth);
    const dc_tensor *k = dst->src[1], *v = dst->src[2];
    if (need > p->wsize || !p->k->kq_dot[dc_type_slot(k->type)] || !p->k->axpy[dc_type_slot(v->type)]) {
        if (p->ith == 0)
            dc_cpu_fail(p, DC_ERR_INTERNAL, "flash_attn: scratch %zu of %zu bytes or no row "
                        "kernel for %s / %s", p->wsize, need, dc_type_name(k->type),
                        dc_type_name(v->type));
        return;
    }
    attn_buf b = buf_at(p, &s);
    float *part = (float *)p->wdata;
    const int64_t n_items = s.B * s.Hkv * s.nt * s.n_chunks;
    int64_t w0, w1;
    dc_cpu_split(p, n_items, &w0, &w1);
    for (int64_t w = w0; w < w1; w++) {
        const attn_item it = item_of(&s, w);
        run_item(p, dst, &s, &it, &b);
        const int64_t P = s.G * it.nq;
        for (int64_t pr = 0; pr < P; pr++) {
            if (!s.split) {
                write_out(dst, &s, &it, pr, b.acc + pr * s.dv, b.s[pr]);
                continue;
            }
            float *pc = part + ((size_t)w * (size_t)s.P + (size_t)pr) * (size_t)(s.dv + 2);
            memcpy(pc, b.acc + pr * s.dv, (size_t)s.dv * sizeof(float));
            pc[s.dv] = b.m[pr];
            pc[s.dv + 1] = b.s[pr];
        }
    }
    if (!s.split) return;
    dc_cpu_barrier();
    int64_t g0, g1;
    dc_cpu_split(p, n_items / s.n_chunks, &g0, &g1);
    for (int64_t g = g0; g < g1; g++) merge_chunks(dst, &s, g * s.n_chunks, part);
}
