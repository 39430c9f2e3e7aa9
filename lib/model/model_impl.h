/*
 * model_impl.h - the model as data: hyper-parameters, weights per layer,
 * and the graph-builder interface the architectures implement.
 *
 * Shapes are ggml order, innermost first. Names follow the GGUF tensor names
 * and the HF config (kv_lora_rank, n_expert_used).
 */
#ifndef DEEPC_MODEL_IMPL_H
#define DEEPC_MODEL_IMPL_H

#include "deepc/model.h"

#include "../backend/backend_impl.h"

typedef enum dc_arch {
    DC_ARCH_DEEPSEEK2 = 0,
    DC_ARCH_LLAMA     = 1,
    DC_ARCH_QWEN2     = 2,
} dc_arch;

typedef enum dc_gating {
    DC_GATING_SOFTMAX = 1,   /* V2 / V2-Lite                 */
    DC_GATING_SIGMOID = 2,   /* V3 / R1 (noaux_tc)           */
} dc_gating;

typedef struct dc_hparams {
    dc_arch arch;
    int32_t n_vocab;          /* rows of token_embd                          */
    int32_t n_ctx_train;
    int32_t n_embd;
    int32_t n_layer;
    int32_t n_head;
    int32_t n_head_kv;        /* llama / qwen2 (deepseek2: heads of the form) */
    int32_t n_ff;             /* dense FFN width                             */
    float   rms_eps;
    float   rope_base;
    int32_t n_rot;            /* rotated dims (deepseek2: d_rope)            */

    /* llama / qwen2 */
    int32_t head_dim;

    /* deepseek2 MLA: per head q = [d_nope | d_rope], v = d_v */
    int32_t q_lora_rank;      /* 0: plain attn_q (V2-Lite)                  */
    int32_t kv_lora_rank;     /* latent width, 512 in all DeepSeek models   */
    int32_t d_nope, d_rope, d_v;
    bool    mla_split;        /* attn_k_b + attn_v_b (else legacy kv_b)     */

    /* deepseek2 MoE */
    int32_t n_layer_dense;    /* leading dense blocks                       */
    int32_t n_expert, n_expert_used, n_expert_shared, n_ff_exp;
    float   expert_weights_scale;
    bool    expert_weights_norm;
    dc_gating gating;
    int32_t n_group, n_group_used;
    dc_moe_group_rule group_rule;

    /* rope scaling (YaRN) */
    bool    yarn;
    float   rope_factor;      /* s                                          */
    int32_t n_ctx_orig;
    float   yarn_log_mul;     /* 0.1 * mscale_all_dim                        */
    float   beta_fast, beta_slow;
    float   kq_scale;         /* softmax scale of attention                  */
} dc_hparams;

typedef struct dc_layer {
    dc_tensor *attn_norm;     /* [n_embd]                                    */
    /* deepseek2 attention */
    dc_tensor *q_a;           /* [n_embd, q_lora]                            */
    dc_tensor *q_a_norm;      /* [q_lora]                                    */
    dc_tensor *q_b;           /* [q_lora, H*(d_nope+d_rope)]                 */
    dc_tensor *q;             /* [n_embd, H*(d_nope+d_rope)]  (no q-LoRA)    */
    dc_tensor *kv_a_mqa;      /* [n_embd, kv_lora + d_rope]                  */
    dc_tensor *kv_a_norm;     /* [kv_lora]                                   */
    dc_tensor *k_b;           /* [d_nope, kv_lora, H]   W_UK^h transposed    */
    dc_tensor *v_b;           /* [kv_lora, d_v, H]      W_UV^h               */
    dc_tensor *kv_b;          /* [kv_lora, H*(d_nope+d_v)] legacy / naive    */
    /* llama / qwen2 attention */
    dc_tensor *wq, *wk, *wv;  /* [n_embd, n_head*hd], [n_embd, n_kv*hd] x2   */
    dc_tensor *bq, *bk, *bv;  /* qwen2 biases                                */
    dc_tensor *wo;            /* [H*d_v or n_head*hd, n_embd]                */
    /* FFN */
    dc_tensor *ffn_norm;      /* [n_embd]                                    */
    dc_tensor *ffn_gate, *ffn_up;   /* [n_embd, n_ff]                        */
    dc_tensor *ffn_down;            /* [n_ff, n_embd]                        */
    dc_tensor *gate_inp;            /* [n_embd, n_expert] router, F32        */
    dc_tensor *exp_probs_b;         /* [n_expert] selection bias (V3)        */
    dc_tensor *gate_exps, *up_exps; /* [n_embd, n_ff_exp, n_expert]          */
    dc_tensor *down_exps;           /* [n_ff_exp, n_embd, n_expert]          */
    dc_tensor *gate_shexp, *up_shexp;  /* [n_embd, n_ff_exp*n_shared]        */
    dc_tensor *down_shexp;             /* [n_ff_exp*n_shared, n_embd]        */
} dc_layer;

struct dc_model {
    dc_gguf    *gguf;
    dc_hparams  hp;
    dc_context *wctx;          /* weight headers; data = the mmap            */
    dc_tensor  *tok_embd;      /* [n_embd, n_vocab]                          */
    dc_tensor  *output_norm;   /* [n_embd]                                   */
    dc_tensor  *output;        /* [n_embd, n_vocab] (token_embd when tied)   */
    dc_tensor  *rope_freqs;    /* [n_rot/2] or NULL                          */
    dc_layer   *layers;        /* [n_layer]                                  */
    size_t      weight_bytes;
    char        desc[256];
};

/* ---- loading ------------------------------------------------------------------ */
dc_status dc_hparams_read(const dc_gguf *g, dc_hparams *hp);
dc_status dc_model_bind_weights(dc_model *m);

/* ---- graph building --------------------------------------------------------------
 * Everything a builder needs for one batch: the model, the cache tensors and
 * the inputs (leafs set by the session after allocation). */
typedef struct dc_graph_inputs {
    dc_tensor *tokens;      /* I32 [n_tok]                                 */
    dc_tensor *pos;         /* I32 [n_tok]                                 */
    dc_tensor *mask;        /* F32 [n_kv, n_tok] causal, 0 / -inf          */
    dc_tensor *out_ids;     /* I32 [n_out] rows whose logits are wanted    */
} dc_graph_inputs;

typedef struct dc_build {
    dc_context       *ctx;
    const dc_model   *m;
    dc_tensor *const *k_cache;   /* [n_layer] per-layer cache tensors         */
    dc_tensor *const *v_cache;   /* [n_layer] or NULL (deepseek2: none)        */
    /* weights derived at session start when the file's MLA layout lacks the
     * form asked for (F32, [n_layer] each, or NULL): kv_b for the naive form
     * of split files, k_b / v_b for the absorbed form of legacy files */
    dc_tensor *const *kv_b_f32;
    dc_tensor *const *k_b_f32;
    dc_tensor *const *v_b_f32;
    int32_t    n_tok, n_past, n_kv, n_out;
    bool       mla_naive;        /* deepseek2: decompressed K / V this batch  */
    dc_graph_inputs in;
} dc_build;

/* Build the logits tensor F32 [n_vocab, n_out] for one batch. */
dc_tensor *dc_build_deepseek2(dc_build *b);
dc_tensor *dc_build_llama(dc_build *b);

/* Shared pieces (graph_common.c). */
dc_tensor *dc_build_norm(dc_build *b, dc_tensor *x, dc_tensor *w);
dc_tensor *dc_build_ffn(dc_build *b, dc_tensor *x, dc_tensor *gate, dc_tensor *up,
                        dc_tensor *down);
dc_tensor *dc_build_output(dc_build *b, dc_tensor *x);

/* ---- session internals (state.c) ------------------------------------------------
 * The KV cache of a session as state files need it: tensor k_cache[il] holds
 * position p in row p (dc_tensor_nb(t, 1) bytes); v_cache[il] is NULL for
 * deepseek2 (the latent cache has no V). */
typedef struct dc_session_kv {
    const dc_model   *m;
    dc_tensor *const *k_cache;   /* [n_layer] [row, n_ctx]                    */
    dc_tensor *const *v_cache;   /* [n_layer] [row, n_ctx] or NULL entries    */
    dc_type           kv_type;
    int32_t           n_ctx, n_past;
} dc_session_kv;

void dc_session_kv_view(const dc_session *s, dc_session_kv *out);
/* Declare rows [0, n_past) of the cache valid (0 <= n_past <= n_ctx, the
 * caller checked); drops the logits of the last batch. */
void dc_session_kv_set_n_past(dc_session *s, int32_t n_past);

#endif /* DEEPC_MODEL_IMPL_H */
