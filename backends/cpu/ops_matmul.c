/*
 * ops_matmul.c - matrix products on the CPU: mul_mat (dense, with the weight
 * broadcast over batch dims) and moe_mul_mat (by expert ids).
 *
 * Both run in two phases separated by one dc_cpu_barrier():
 *   1. all threads round their share of b's rows to the weight's activation
 *      format (traits vec_dot_type) with k->quantize_act, into the shared
 *      scratch; this is the rounding the peer engine applies before every
 *      product with a quantized weight (fixtures/README.md, "The quantized
 *      models"); for an F32 weight it is a copy;
 *   2. the outputs are cut into tiles of TILE_M weight rows x TILE_N columns
 *      and threads take contiguous ranges of tiles. Each output element is one
 *      whole-row dot (vec_dot, or the ISA's gemm micro-tile, which the kernel
 *      contract makes bit-identical), so no sum is ever split between threads
 *      and results are bit-identical for any thread count. Inside a tile a
 *      weight row is reused for TILE_N activation rows while it is hot.
 *
 * moe_mul_mat groups the (slot, token) pairs by expert so each expert's rows
 * are read once per TILE_N tokens routed to it: during phase 1 thread 0 also
 * checks every id (an id outside [0, n_expert) is a DC_ERR_INVALID_ARG
 * compute error) and counting-sorts the pairs by expert into the scratch,
 * in ascending pair order within an expert, so the grouping is deterministic.
 * Scratch: [quantized b rows][expert offsets, int64 [E + 1]][pairs, int32].
 */
#include "cpu_impl.h"

#include <string.h>

#define TILE_M 16   /* weight rows per tile                     */
#define TILE_N 8    /* activation rows (b columns) per tile     */

/* ---- shared helpers -------------------------------------------------------------- */

static dc_type act_type(const dc_tensor *w) {
    return dc_get_type_traits(w->type)->vec_dot_type;
}

/* bytes of b's rows rounded to w's activation type (0 if K does not fit) */
static size_t act_bytes(const dc_tensor *w, const dc_tensor *b) {
    return dc_pad(dc_row_size(act_type(w), b->ne[0]) * (size_t)dc_nrows(b), DC_ALIGN);
}

/* Check that this node can run: kernels exist, K fits the activation blocks
 * and the scratch is as large as the work size said. The same answer on every
 * thread, so all of them skip the barrier together on failure. */
static bool mm_ready(const dc_cpu_task *p, const dc_tensor *dst, size_t need) {
    const dc_tensor *w = dst->src[0];
    const int ws = dc_type_slot(w->type), as = dc_type_slot(act_type(w));
    if (ws < 0 || as < 0 || !p->k->vec_dot[ws] || !p->k->quantize_act[as] ||
        dc_row_size(act_type(w), w->ne[0]) == 0) {
        if (p->ith == 0)
            dc_cpu_fail(p, DC_ERR_UNSUPPORTED, "%s: no kernel for weight %s of type %s",
                        dc_op_name(dst->op), w->name, dc_type_name(w->type));
        return false;
    }
    if (need > p->wsize) {
        if (p->ith == 0)
            dc_cpu_fail(p, DC_ERR_INTERNAL, "%s: scratch of %zu bytes, need %zu",
                        dc_op_name(dst->op), p->wsize, need);
        return false;
    }
    return true;
}

/* Phase 1: round this thread's share of b's rows into q (row r at r * rs). */
static void quantize_rows(const dc_cpu_task *p, const dc_tensor *w, const dc_tensor *b, char *q) {
    const dc_quantize_act_fn quant = p->k->quantize_act[dc_type_slot(act_type(w))];
    const size_t rs = dc_row_size(act_type(w), b->ne[0]);
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(b), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t i1 = r % b->ne[1], i2 = (r / b->ne[1]) % b->ne[2];
        const int64_t i3 = r / (b->ne[1] * b->ne[2]);
        quant((const float *)dc_tensor_at(b, i1, i2, i3), q + (size_t)r * rs, b->ne[0]);
    }
}

static int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* ---- mul_mat --------------------------------------------------------------------- */

size_t dc_cpu_mul_mat_work_size(const dc_tensor *dst, int n_threads) {
    (void)n_threads;
    return act_bytes(dst->src[0], dst->src[1]);
}

/* Dot products of weight rows [m0, m1) (row m at w + m * ldw) with nc
 * activation rows act[c], into y[c][m - m0]: through the ISA's gemm tiles
 * when it has them for this type (bit-identical to vec_dot by contract), one
 * vec_dot per element otherwise. */
static void dot_block(const dc_cpu_task *p, dc_type wt, int64_t K, const char *w, size_t ldw,
                      int64_t m0, int64_t m1, const void *const *act, float *const *y, int nc) {
    const int slot = dc_type_slot(wt);
    const dc_gemm_fn gemm = p->k->gemm[slot];
    const dc_vec_dot_fn dot = p->k->vec_dot[slot];
    for (int c0 = 0; c0 < nc; c0 += DC_GEMM_TILE) {
        const int cn = nc - c0 < DC_GEMM_TILE ? nc - c0 : DC_GEMM_TILE;
        for (int64_t m = m0; m < m1; m += DC_GEMM_TILE) {
            const int rn = m1 - m < DC_GEMM_TILE ? (int)(m1 - m) : DC_GEMM_TILE;
            float *yc[DC_GEMM_TILE];
            for (int c = 0; c < cn; c++) yc[c] = y[c0 + c] + (m - m0);
            if (gemm) {
                gemm(K, yc, w + (size_t)m * ldw, ldw, act + c0, rn, cn);
                continue;
            }
            for (int r = 0; r < rn; r++)
                for (int c = 0; c < cn; c++)
                    dot(K, yc[c] + r, w + (size_t)(m + r) * ldw, act[c0 + c]);
        }
    }
}

/* One tile: weight rows [m0, m1) of batch (i2, i3) times columns [n0, n1). */
static void mm_tile(const dc_cpu_task *p, dc_tensor *dst, const char *q, int64_t i2, int64_t i3,
                    int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const dc_tensor *a = dst->src[0], *b = dst->src[1];
    const size_t rs = dc_row_size(act_type(a), b->ne[0]);
    const int64_t ia2 = i2 / (b->ne[2] / a->ne[2]), ia3 = i3 / (b->ne[3] / a->ne[3]);
    const char *qb = q + (size_t)((i3 * b->ne[2] + i2) * b->ne[1]) * rs;
    const void *act[TILE_N];
    float *y[TILE_N];
    for (int64_t n = n0; n < n1; n++) {
        act[n - n0] = qb + (size_t)n * rs;
        y[n - n0] = (float *)(dc_tensor_at(dst, n, i2, i3) + (size_t)m0 * dst->nb[0]);
    }
    dot_block(p, a->type, a->ne[0], dc_tensor_at(a, 0, ia2, ia3), a->nb[1], m0, m1, act, y,
              (int)(n1 - n0));
}

/* a [K, M, A2, A3] any weight type, b [K, N, B2, B3] F32 -> dst [M, N, B2, B3] */
void dc_cpu_op_mul_mat(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0], *b = dst->src[1];
    if (!mm_ready(p, dst, act_bytes(a, b))) return;
    char *q = p->wdata;
    quantize_rows(p, a, b, q);
    dc_cpu_barrier();

    const int64_t M = a->ne[1], N = b->ne[1];
    const int64_t tm = ceil_div(M, TILE_M), tn = ceil_div(N, TILE_N);
    const int64_t per_batch = tm * tn;
    int64_t t0, t1;
    dc_cpu_split(p, per_batch * b->ne[2] * b->ne[3], &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const int64_t batch = t / per_batch, in = t % per_batch;
        const int64_t mb = in / tn, nb = in % tn;
        const int64_t m0 = mb * TILE_M, n0 = nb * TILE_N;
        mm_tile(p, dst, q, batch % b->ne[2], batch / b->ne[2], m0,
                m0 + TILE_M < M ? m0 + TILE_M : M, n0, n0 + TILE_N < N ? n0 + TILE_N : N);
    }
}

/* ---- moe_mul_mat ----------------------------------------------------------------- */

/* Scratch layout after the quantized rows. */
typedef struct moe_plan {
    int64_t *off;     /* [E + 1] start of each expert's pairs in pairs[] */
    int32_t *pairs;   /* [n_used * N] pair index t * n_used + s           */
} moe_plan;

static size_t moe_plan_bytes(const dc_tensor *dst) {
    const dc_tensor *as = dst->src[0], *ids = dst->src[2];
    return dc_pad((size_t)(as->ne[2] + 1) * sizeof(int64_t), DC_ALIGN) +
           dc_pad((size_t)(ids->ne[0] * ids->ne[1]) * sizeof(int32_t), DC_ALIGN);
}

size_t dc_cpu_moe_mul_mat_work_size(const dc_tensor *dst, int n_threads) {
    (void)n_threads;
    return act_bytes(dst->src[0], dst->src[1]) + moe_plan_bytes(dst);
}

static moe_plan moe_plan_at(const dc_tensor *dst, void *wdata) {
    const dc_tensor *as = dst->src[0];
    char *base = (char *)wdata + act_bytes(as, dst->src[1]);
    return (moe_plan){
        .off = (int64_t *)base,
        .pairs = (int32_t *)(base + dc_pad((size_t)(as->ne[2] + 1) * sizeof(int64_t), DC_ALIGN)),
    };
}

static int32_t moe_id(const dc_tensor *ids, int64_t s, int64_t t) {
    int32_t id;
    memcpy(&id, (const char *)ids->data + s * ids->nb[0] + t * ids->nb[1], sizeof id);
    return id;
}

/* Thread 0: check the ids and counting-sort the pairs by expert. */
static void moe_build_plan(const dc_cpu_task *p, const dc_tensor *dst, moe_plan *pl) {
    const dc_tensor *ids = dst->src[2];
    const int64_t E = dst->src[0]->ne[2], n_used = ids->ne[0], N = ids->ne[1];
    memset(pl->off, 0, (size_t)(E + 1) * sizeof *pl->off);
    for (int64_t t = 0; t < N; t++) {
        for (int64_t s = 0; s < n_used; s++) {
            const int32_t e = moe_id(ids, s, t);
            if (e < 0 || e >= E) {
                dc_cpu_fail(p, DC_ERR_INVALID_ARG, "moe_mul_mat: expert id %d outside [0, %lld)"
                            " at [%lld, %lld] of %s", (int)e, (long long)E, (long long)s,
                            (long long)t, ids->name);
                return;
            }
            pl->off[e + 1]++;
        }
    }
    for (int64_t e = 0; e < E; e++) pl->off[e + 1] += pl->off[e];
    /* fill in ascending pair order; off[e] walks to the end of e's range and
     * is restored by the shift below */
    for (int64_t i = 0; i < n_used * N; i++) {
        const int32_t e = moe_id(ids, i % n_used, i / n_used);
        pl->pairs[pl->off[e]++] = (int32_t)i;
    }
    for (int64_t e = E; e > 0; e--) pl->off[e] = pl->off[e - 1];
    pl->off[0] = 0;
}

/* One tile: rows [m0, m1) of expert e times its pairs [j0, j1). */
static void moe_tile(const dc_cpu_task *p, dc_tensor *dst, const char *q, const moe_plan *pl,
                     int64_t e, int64_t m0, int64_t m1, int64_t j0, int64_t j1) {
    const dc_tensor *as = dst->src[0], *b = dst->src[1];
    const size_t rs = dc_row_size(act_type(as), b->ne[0]);
    const int64_t n_used = dst->ne[1], n_b1 = b->ne[1];
    const void *act[TILE_N];
    float *y[TILE_N];
    for (int64_t j = j0; j < j1; j++) {
        const int64_t s = pl->pairs[j] % n_used, t = pl->pairs[j] / n_used;
        act[j - j0] = q + (size_t)(t * n_b1 + (n_b1 == 1 ? 0 : s)) * rs;
        y[j - j0] = (float *)(dc_tensor_at(dst, s, t, 0) + (size_t)m0 * dst->nb[0]);
    }
    dot_block(p, as->type, as->ne[0], dc_tensor_at(as, 0, e, 0), as->nb[1], m0, m1, act, y,
              (int)(j1 - j0));
}

/* as [K, M, E], b [K, n_b1, N], ids I32 [n_used, N] -> dst [M, n_used, N] */
void dc_cpu_op_moe_mul_mat(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *as = dst->src[0], *b = dst->src[1];
    if (!mm_ready(p, dst, act_bytes(as, b) + moe_plan_bytes(dst))) return;
    char *q = p->wdata;
    moe_plan pl = moe_plan_at(dst, p->wdata);
    quantize_rows(p, as, b, q);
    if (p->ith == 0) moe_build_plan(p, dst, &pl);
    dc_cpu_barrier();
    if (p->err->status != DC_OK) return;   /* a bad id: written before the barrier */

    const int64_t E = as->ne[2], M = as->ne[1], tm = ceil_div(M, TILE_M);
    int64_t total = 0;
    for (int64_t e = 0; e < E; e++) total += tm * ceil_div(pl.off[e + 1] - pl.off[e], TILE_N);
    int64_t t0, t1;
    dc_cpu_split(p, total, &t0, &t1);
    int64_t first = 0;   /* index of expert e's first tile */
    for (int64_t e = 0; e < E && first < t1; e++) {
        const int64_t cnt = pl.off[e + 1] - pl.off[e], tn = ceil_div(cnt, TILE_N);
        const int64_t n_tiles = tm * tn;
        for (int64_t t = t0 > first ? t0 : first; t < t1 && t < first + n_tiles; t++) {
            const int64_t mb = (t - first) / tn, jb = (t - first) % tn;
            const int64_t m0 = mb * TILE_M, j0 = pl.off[e] + jb * TILE_N;
            moe_tile(p, dst, q, &pl, e, m0, m0 + TILE_M < M ? m0 + TILE_M : M, j0,
                     j0 + TILE_N < pl.off[e + 1] ? j0 + TILE_N : pl.off[e + 1]);
        }
        first += n_tiles;
    }
}
