/*
 * deepseek2.c - the graph of DeepSeek-V2 / V2-Lite / V3 / R1 (GGUF arch
 * "deepseek2"): Multi-head Latent Attention and DeepSeek-MoE.
 *
 * Per layer (spec/deepseek-arch.md §2, §3):
 *   q      = W_qb norm(W_qa x)  or  W_q x            [H*(dn+dr), T]
 *   [c_kv | k_pe] = W_kva x;  c_kv = norm(c_kv)       [dl], [dr]   per token
 *   rope (adjacent pairs, YaRN) on q_pe and the single shared k_pe
 *   cache row <- [c_kv | k_pe]                         (dl + dr) values per token
 * then attention in one of two forms that give the same numbers:
 *   absorbed: q~_h = W_UK^h^T q_nope_h; scores over [c_kv | k_pe] for all heads
 *             at once (MQA with one 576-wide KV head, V = the latent prefix),
 *             o_h = W_UV^h (sum_t p c_kv);  reads each cached row once per step
 *   naive:    decompress k_nope, v per head from the cached latents with
 *             W_kvb, attend per head over [k_nope | k_pe]; cheaper for long
 *             prompts (more queries than cached rows), and the only form the
 *             legacy attn_kv_b layout offers without derived weights.
 * MoE: router in F32; softmax (V2) or sigmoid + selection bias (V3); group
 * limited top-k (dc_moe_select); weights gathered from the unbiased scores,
 * optionally normalized, times expert_weights_scale; shared experts added.
 * Symbols: H heads, dn/dr/dv nope/rope/value head dims, dl kv_lora_rank,
 * T batch tokens, n_kv cached positions after this batch.
 */
#include "model_impl.h"

#include <math.h>

/* ---- attention ------------------------------------------------------------------ */

/* Adjacent-pair rope on the d_rope dims; with YaRN its frequency ramp, and
 * magnitude 1: attn_factor cancels the op's own mscale (spec §2.3). */
static dc_rope_params rope_params(const dc_hparams *hp) {
    dc_rope_params rp = dc_rope_default_params(hp->d_rope, DC_ROPE_NORM);
    rp.freq_base = hp->rope_base;
    if (hp->yarn) {
        rp.freq_scale = 1.0f / hp->rope_factor;
        rp.ext_factor = 1.0f;
        rp.attn_factor = 1.0f / (1.0f + 0.1f * logf(hp->rope_factor));
        rp.beta_fast = hp->beta_fast;
        rp.beta_slow = hp->beta_slow;
        rp.n_ctx_orig = hp->n_ctx_orig;
    }
    return rp;
}

/* Query [dn + dr, H, T] with the rope part rotated: (q_nope, q_pe) views. */
static void build_query(dc_build *b, const dc_layer *L, dc_tensor *x, dc_tensor **q_nope,
                        dc_tensor **q_pe) {
    dc_context *ctx = b->ctx;
    const dc_hparams *hp = &b->m->hp;
    dc_tensor *q;
    if (L->q_a) {
        q = dc_build_norm(b, dc_mul_mat(ctx, L->q_a, x), L->q_a_norm);
        q = dc_mul_mat(ctx, L->q_b, q);
    } else {
        q = dc_mul_mat(ctx, L->q, x);
    }
    const int64_t dq = hp->d_nope + hp->d_rope;
    q = dc_reshape_3d(ctx, q, dq, hp->n_head, b->n_tok);
    if (!q) {
        *q_nope = *q_pe = NULL;
        return;
    }
    *q_nope = dc_view_3d(ctx, q, hp->d_nope, hp->n_head, b->n_tok, dc_tensor_nb(q, 1),
                         dc_tensor_nb(q, 2), 0);
    dc_tensor *pe = dc_view_3d(ctx, q, hp->d_rope, hp->n_head, b->n_tok, dc_tensor_nb(q, 1),
                               dc_tensor_nb(q, 2), (size_t)hp->d_nope * sizeof(float));
    dc_rope_params rp = rope_params(hp);
    *q_pe = dc_rope(ctx, pe, b->in.pos, NULL, &rp);
}

/* Write this batch's [c_kv | k_pe] rows into the cache and return a view of
 * the cache rows [0, n_kv) ordered after those writes: [dl + dr, n_kv]. */
static dc_tensor *store_latent(dc_build *b, int il, dc_tensor *x) {
    dc_context *ctx = b->ctx;
    const dc_model *m = b->m;
    const dc_hparams *hp = &m->hp;
    const dc_layer *L = &m->layers[il];
    const int64_t dl = hp->kv_lora_rank, dr = hp->d_rope, T = b->n_tok;
    dc_tensor *kv = dc_mul_mat(ctx, L->kv_a_mqa, x);                  /* [dl + dr, T] */
    if (!kv) return NULL;
    size_t kvr = dc_tensor_nb(kv, 1);
    dc_tensor *c_kv = dc_view_2d(ctx, kv, dl, T, kvr, 0);
    c_kv = dc_build_norm(b, c_kv, L->kv_a_norm);                       /* [dl, T] */
    dc_tensor *k_pe = dc_view_3d(ctx, kv, dr, 1, T, kvr, kvr, (size_t)dl * sizeof(float));
    dc_rope_params rp = rope_params(hp);
    k_pe = dc_rope(ctx, k_pe, b->in.pos, NULL, &rp);                    /* [dr, 1, T] */

    dc_tensor *cache = b->k_cache[il];                                 /* [dl + dr, n_ctx] */
    size_t row = dc_tensor_nb(cache, 1), at = (size_t)b->n_past * row;
    size_t pe_off = dc_row_size(dc_tensor_type(cache), dl);
    dc_tensor *w1 = dc_cpy(ctx, c_kv, dc_view_2d(ctx, cache, dl, T, row, at));
    dc_tensor *w2 = dc_cpy(ctx, dc_reshape_2d(ctx, k_pe, dr, T),
                           dc_view_2d(ctx, cache, dr, T, row, at + pe_off));
    dc_tensor *all = dc_view_2d(ctx, cache, dl + dr, b->n_kv, row, 0);
    return dc_after(ctx, dc_after(ctx, all, w1), w2);
}

/* Absorbed form: attention in the latent space. Returns [H*dv, T]. */
static dc_tensor *attn_absorbed(dc_build *b, dc_tensor *kv_all,
                                dc_tensor *q_nope, dc_tensor *q_pe, dc_tensor *k_b,
                                dc_tensor *v_b) {
    dc_context *ctx = b->ctx;
    const dc_hparams *hp = &b->m->hp;
    const int64_t dl = hp->kv_lora_rank, H = hp->n_head, T = b->n_tok;
    /* q~ = W_UK^T q_nope per head: [dn, T, H] -> [dl, T, H] */
    dc_tensor *qa = dc_mul_mat(ctx, k_b, dc_permute(ctx, q_nope, 0, 2, 1, 3));
    dc_tensor *q = dc_concat(ctx, qa, dc_permute(ctx, q_pe, 0, 2, 1, 3), 0);   /* [dl+dr, T, H] */
    size_t row = dc_tensor_nb(kv_all, 1);
    dc_tensor *k = dc_view_4d(ctx, kv_all, dl + hp->d_rope, b->n_kv, 1, 1, row, row * b->n_kv,
                              row * b->n_kv, 0);
    dc_tensor *v = dc_view_4d(ctx, kv_all, dl, b->n_kv, 1, 1, row, row * b->n_kv,
                              row * b->n_kv, 0);
    dc_tensor *o = dc_flash_attn(ctx, q, k, v, b->in.mask, hp->kq_scale);      /* [dl, H, T] */
    o = dc_mul_mat(ctx, v_b, dc_permute(ctx, o, 0, 2, 1, 3));                  /* [dv, T, H] */
    o = dc_cont(ctx, dc_permute(ctx, o, 0, 2, 1, 3));                          /* [dv, H, T] */
    return dc_reshape_2d(ctx, o, hp->d_v * H, T);
}

/* Naive form: per-head K / V decompressed from the cached latents. */
static dc_tensor *attn_naive(dc_build *b, dc_tensor *kv_all, dc_tensor *q_nope,
                             dc_tensor *q_pe, dc_tensor *kv_b) {
    dc_context *ctx = b->ctx;
    const dc_hparams *hp = &b->m->hp;
    const int64_t dl = hp->kv_lora_rank, dr = hp->d_rope, H = hp->n_head;
    const int64_t dn = hp->d_nope, dv = hp->d_v, n_kv = b->n_kv;
    size_t row = dc_tensor_nb(kv_all, 1);
    size_t pe_off = dc_row_size(dc_tensor_type(kv_all), dl);
    dc_tensor *c = dc_cont(ctx, dc_view_2d(ctx, kv_all, dl, n_kv, row, 0));       /* [dl, n_kv] */
    dc_tensor *pe = dc_cont(ctx, dc_view_2d(ctx, kv_all, dr, n_kv, row, pe_off)); /* [dr, n_kv] */
    dc_tensor *kvd = dc_reshape_3d(ctx, dc_mul_mat(ctx, kv_b, c), dn + dv, H, n_kv);
    if (!kvd || !pe) return NULL;
    size_t nb1 = dc_tensor_nb(kvd, 1), nb2 = dc_tensor_nb(kvd, 2);
    dc_tensor *k_nope = dc_view_3d(ctx, kvd, dn, H, n_kv, nb1, nb2, 0);
    dc_tensor *v = dc_view_3d(ctx, kvd, dv, H, n_kv, nb1, nb2, (size_t)dn * sizeof(float));
    /* the shared rope key, broadcast over heads with a zero stride */
    dc_tensor *pe_h = dc_view_3d(ctx, pe, dr, H, n_kv, 0, dc_tensor_nb(pe, 1), 0);
    dc_tensor *k = dc_permute(ctx, dc_concat(ctx, k_nope, pe_h, 0), 0, 2, 1, 3);  /* [dq, n_kv, H] */
    dc_tensor *q = dc_permute(ctx, dc_concat(ctx, q_nope, q_pe, 0), 0, 2, 1, 3);  /* [dq, T, H] */
    dc_tensor *o = dc_flash_attn(ctx, q, k, dc_permute(ctx, v, 0, 2, 1, 3), b->in.mask,
                                 hp->kq_scale);                                   /* [dv, H, T] */
    return dc_reshape_2d(ctx, o, dv * H, b->n_tok);
}

static dc_tensor *build_attention(dc_build *b, int il, dc_tensor *x) {
    const dc_layer *L = &b->m->layers[il];
    dc_tensor *q_nope, *q_pe;
    build_query(b, L, x, &q_nope, &q_pe);
    if (!q_pe) return NULL;
    dc_tensor *kv_all = store_latent(b, il, x);
    dc_tensor *kv_b = L->kv_b ? L->kv_b : (b->kv_b_f32 ? b->kv_b_f32[il] : NULL);
    dc_tensor *k_b = L->k_b ? L->k_b : (b->k_b_f32 ? b->k_b_f32[il] : NULL);
    dc_tensor *v_b = L->v_b ? L->v_b : (b->v_b_f32 ? b->v_b_f32[il] : NULL);
    dc_tensor *o;
    if ((b->mla_naive && kv_b) || !k_b) o = attn_naive(b, kv_all, q_nope, q_pe, kv_b);
    else o = attn_absorbed(b, kv_all, q_nope, q_pe, k_b, v_b);
    return dc_mul_mat(b->ctx, L->wo, o);                                /* [n_embd, T] */
}

/* ---- MoE ------------------------------------------------------------------------------ */

static dc_tensor *build_moe(dc_build *b, int il, dc_tensor *x) {
    dc_context *ctx = b->ctx;
    const dc_hparams *hp = &b->m->hp;
    const dc_layer *L = &b->m->layers[il];
    const int64_t X = hp->n_expert, K = hp->n_expert_used, T = b->n_tok, E = hp->n_embd;
    dc_tensor *logits = dc_mul_mat(ctx, L->gate_inp, x);                 /* [X, T] F32 router */
    dc_tensor *p = hp->gating == DC_GATING_SIGMOID ? dc_sigmoid(ctx, logits)
                                                    : dc_softmax(ctx, logits, NULL, 1.0f);
    dc_tensor *ids = dc_moe_select(ctx, p, L->exp_probs_b, (int)K, hp->n_group, hp->n_group_used,
                                   hp->group_rule);                      /* [K, T] */
    dc_tensor *w = dc_get_rows(ctx, dc_reshape_3d(ctx, p, 1, X, T), ids); /* [1, K, T] */
    w = dc_reshape_2d(ctx, w, K, T);
    if (hp->expert_weights_norm) w = dc_div(ctx, w, dc_sum_rows(ctx, w));
    if (hp->expert_weights_scale != 0.0f && hp->expert_weights_scale != 1.0f)
        w = dc_scale(ctx, w, hp->expert_weights_scale);

    dc_tensor *xs = dc_reshape_3d(ctx, x, E, 1, T);
    dc_tensor *g = dc_moe_mul_mat(ctx, L->gate_exps, xs, ids);           /* [F, K, T] */
    dc_tensor *u = dc_moe_mul_mat(ctx, L->up_exps, xs, ids);
    dc_tensor *d = dc_moe_mul_mat(ctx, L->down_exps, dc_swiglu(ctx, g, u), ids); /* [E, K, T] */
    d = dc_mul(ctx, d, dc_reshape_3d(ctx, w, 1, K, T));
    if (!d) return NULL;
    dc_tensor *y = NULL;
    for (int64_t s = 0; s < K; s++) {
        dc_tensor *slot = dc_view_2d(ctx, d, E, T, dc_tensor_nb(d, 2), (size_t)s * dc_tensor_nb(d, 1));
        y = y ? dc_add(ctx, y, slot) : slot;
    }
    if (L->gate_shexp) y = dc_add(ctx, y, dc_build_ffn(b, x, L->gate_shexp, L->up_shexp, L->down_shexp));
    return y;
}

/* ---- the model -------------------------------------------------------------------------- */

dc_tensor *dc_build_deepseek2(dc_build *b) {
    dc_context *ctx = b->ctx;
    const dc_model *m = b->m;
    const dc_hparams *hp = &m->hp;
    dc_tensor *x = dc_get_rows(ctx, m->tok_embd, b->in.tokens);         /* [n_embd, T] */
    for (int il = 0; il < hp->n_layer && x; il++) {
        const dc_layer *L = &m->layers[il];
        dc_tensor *h = build_attention(b, il, dc_build_norm(b, x, L->attn_norm));
        x = dc_add(ctx, x, h);
        h = dc_build_norm(b, x, L->ffn_norm);
        h = il < hp->n_layer_dense ? dc_build_ffn(b, h, L->ffn_gate, L->ffn_up, L->ffn_down)
                                   : build_moe(b, il, h);
        x = dc_add(ctx, x, h);
    }
    return dc_build_output(b, x);
}
