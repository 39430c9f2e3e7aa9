/*
 * llama.c - the graph of the dense decoder models: "llama" (R1-Distill-Llama)
 * and "qwen2" (R1-Distill-Qwen).
 *
 * Per layer: x += W_o attn(rope(W_q h + b_q), rope(W_k h + b_k), W_v h + b_v),
 * h = norm(x); x += down(silu(gate h) * up h). Grouped-query attention:
 * query head j reads KV head j / (n_head / n_head_kv). llama rotates adjacent
 * pairs (the converter permuted q/k rows so this equals HF's rotate-half) and
 * divides angles by rope_freqs.weight (Llama-3 scaling) when present; qwen2
 * rotates halves (NeoX) and adds q/k/v biases. K and V caches hold
 * [head_dim, n_head_kv] per position.
 */
#include "model_impl.h"

dc_tensor *dc_build_llama(dc_build *b) {
    dc_context *ctx = b->ctx;
    const dc_model *m = b->m;
    const dc_hparams *hp = &m->hp;
    const int64_t hd = hp->head_dim, H = hp->n_head, Hkv = hp->n_head_kv, T = b->n_tok;
    dc_rope_params rp = dc_rope_default_params(hp->n_rot, hp->arch == DC_ARCH_QWEN2 ? DC_ROPE_NEOX
                                                                                    : DC_ROPE_NORM);
    rp.freq_base = hp->rope_base;
    if (hp->yarn) {
        rp.freq_scale = 1.0f / hp->rope_factor;
        rp.ext_factor = 1.0f;
        rp.beta_fast = hp->beta_fast;
        rp.beta_slow = hp->beta_slow;
        rp.n_ctx_orig = hp->n_ctx_orig;
    }
    dc_tensor *x = dc_get_rows(ctx, m->tok_embd, b->in.tokens);         /* [n_embd, T] */
    for (int il = 0; il < hp->n_layer && x; il++) {
        const dc_layer *L = &m->layers[il];
        dc_tensor *h = dc_build_norm(b, x, L->attn_norm);
        dc_tensor *q = dc_mul_mat(ctx, L->wq, h), *k = dc_mul_mat(ctx, L->wk, h);
        dc_tensor *v = dc_mul_mat(ctx, L->wv, h);
        if (L->bq) {
            q = dc_add(ctx, q, L->bq);
            k = dc_add(ctx, k, L->bk);
            v = dc_add(ctx, v, L->bv);
        }
        q = dc_rope(ctx, dc_reshape_3d(ctx, q, hd, H, T), b->in.pos, m->rope_freqs, &rp);
        k = dc_rope(ctx, dc_reshape_3d(ctx, k, hd, Hkv, T), b->in.pos, m->rope_freqs, &rp);

        /* append to the caches, then read rows [0, n_kv) after the writes */
        dc_tensor *kc = b->k_cache[il], *vc = b->v_cache[il];  /* [hd*Hkv, n_ctx] */
        size_t row = dc_tensor_nb(kc, 1), at = (size_t)b->n_past * row;
        dc_tensor *wk = dc_cpy(ctx, dc_reshape_2d(ctx, k, hd * Hkv, T),
                               dc_view_2d(ctx, kc, hd * Hkv, T, row, at));
        dc_tensor *wv = dc_cpy(ctx, v, dc_view_2d(ctx, vc, hd * Hkv, T, row, at));
        size_t el = dc_row_size(dc_tensor_type(kc), hd);   /* bytes of one head's row */
        dc_tensor *K = dc_after(ctx, dc_view_3d(ctx, kc, hd, b->n_kv, Hkv, row, el, 0), wk);
        dc_tensor *V = dc_after(ctx, dc_view_3d(ctx, vc, hd, b->n_kv, Hkv, row, el, 0), wv);

        dc_tensor *o = dc_flash_attn(ctx, dc_permute(ctx, q, 0, 2, 1, 3), K, V, b->in.mask,
                                     hp->kq_scale);                      /* [hd, H, T] */
        o = dc_mul_mat(ctx, L->wo, dc_reshape_2d(ctx, o, hd * H, T));
        x = dc_add(ctx, x, o);
        h = dc_build_norm(b, x, L->ffn_norm);
        x = dc_add(ctx, x, dc_build_ffn(b, h, L->ffn_gate, L->ffn_up, L->ffn_down));
    }
    return dc_build_output(b, x);
}
