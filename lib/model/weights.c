/*
 * weights.c - bind every tensor an architecture needs, by name, and check
 * its type and shape against the hyper-parameters before any graph exists.
 *
 * Weight headers live in a no-alloc context; their data pointers go straight
 * into the GGUF mapping (no copy). 1-D tensors (norms, biases), the MoE router
 * and the rope frequency factors must be F32, the way the peer engine stores
 * them; matrices may be of any weight type. A missing tensor, a wrong shape or
 * type is an error naming the tensor and both shapes.
 */
#include "model_impl.h"

#include <stdio.h>
#include <string.h>

typedef struct binder {
    dc_model *m;
    char      name[96];
} binder;

enum { ANY_WEIGHT = 0, F32_ONLY = 1 };

static bool weight_type_ok(dc_type t) {
    return t != DC_TYPE_Q8_K && t != DC_TYPE_Q8_1 && t != DC_TYPE_I8 && t != DC_TYPE_I16 &&
           t != DC_TYPE_I32 && t != DC_TYPE_I64 && t != DC_TYPE_F64;
}

/* Bind tensor `name` of shape ne (unused dims 1). *out stays NULL when the
 * tensor is absent and !required. */
static dc_status bind(binder *b, dc_tensor **out, bool required, int kind, int64_t ne0,
                      int64_t ne1, int64_t ne2) {
    *out = NULL;
    const dc_gguf *g = b->m->gguf;
    int64_t i = dc_gguf_find_tensor(g, b->name);
    if (i < 0) {
        if (!required) return DC_OK;
        return dc_error(DC_ERR_FORMAT, "model: tensor %s is missing", b->name);
    }
    dc_gguf_tensor_info ti;
    dc_status st = dc_gguf_tensor(g, i, &ti);
    if (st != DC_OK) return st;
    int64_t want[4] = { ne0, ne1, ne2, 1 };
    if (memcmp(ti.ne, want, sizeof want) != 0)
        return dc_error(DC_ERR_SHAPE, "model: tensor %s has shape [%lld, %lld, %lld, %lld], "
                        "want [%lld, %lld, %lld, 1]", b->name, (long long)ti.ne[0],
                        (long long)ti.ne[1], (long long)ti.ne[2], (long long)ti.ne[3],
                        (long long)ne0, (long long)ne1, (long long)ne2);
    if ((kind == F32_ONLY && ti.type != DC_TYPE_F32) || !weight_type_ok(ti.type))
        return dc_error(DC_ERR_TYPE, "model: tensor %s has type %s, want %s", b->name,
                        dc_type_name(ti.type), kind == F32_ONLY ? "F32" : "a weight type");
    int n_dims = ne2 > 1 ? 3 : ne1 > 1 ? 2 : 1;
    dc_tensor *t = dc_new_tensor(b->m->wctx, ti.type, n_dims, want);
    if (!t) return dc_error(dc_context_status(b->m->wctx), "model: %s", dc_context_error(b->m->wctx));
    dc_tensor_set_data(t, (void *)ti.data);
    t->flags |= DC_TENSOR_FLAG_WEIGHT;
    dc_tensor_set_name(t, "%s", b->name);
    b->m->weight_bytes += ti.size;
    *out = t;
    return DC_OK;
}

#define NAME(...) snprintf(b.name, sizeof b.name, __VA_ARGS__)
#define TRY(x)                          \
    do {                                \
        dc_status st_ = (x);            \
        if (st_ != DC_OK) return st_;   \
    } while (0)

static dc_status bind_deepseek2_attn(binder *bp, int il, dc_layer *L) {
    binder b = *bp;
    const dc_hparams *hp = &b.m->hp;
    const int64_t H = hp->n_head, E = hp->n_embd, dq = hp->d_nope + hp->d_rope;
    NAME("blk.%d.attn_q_a.weight", il);
    TRY(bind(&b, &L->q_a, false, ANY_WEIGHT, E, hp->q_lora_rank ? hp->q_lora_rank : 1, 1));
    if (L->q_a || hp->q_lora_rank > 0) {
        if (!L->q_a) return dc_error(DC_ERR_FORMAT, "model: tensor blk.%d.attn_q_a.weight is "
                                     "missing (q_lora_rank %d)", il, hp->q_lora_rank);
        NAME("blk.%d.attn_q_a_norm.weight", il);
        TRY(bind(&b, &L->q_a_norm, true, F32_ONLY, hp->q_lora_rank, 1, 1));
        NAME("blk.%d.attn_q_b.weight", il);
        TRY(bind(&b, &L->q_b, true, ANY_WEIGHT, hp->q_lora_rank, H * dq, 1));
    } else {
        NAME("blk.%d.attn_q.weight", il);
        TRY(bind(&b, &L->q, true, ANY_WEIGHT, E, H * dq, 1));
    }
    NAME("blk.%d.attn_kv_a_mqa.weight", il);
    TRY(bind(&b, &L->kv_a_mqa, true, ANY_WEIGHT, E, hp->kv_lora_rank + hp->d_rope, 1));
    NAME("blk.%d.attn_kv_a_norm.weight", il);
    TRY(bind(&b, &L->kv_a_norm, true, F32_ONLY, hp->kv_lora_rank, 1, 1));
    if (hp->mla_split) {
        NAME("blk.%d.attn_k_b.weight", il);
        TRY(bind(&b, &L->k_b, true, ANY_WEIGHT, hp->d_nope, hp->kv_lora_rank, H));
        NAME("blk.%d.attn_v_b.weight", il);
        TRY(bind(&b, &L->v_b, true, ANY_WEIGHT, hp->kv_lora_rank, hp->d_v, H));
    } else {
        NAME("blk.%d.attn_kv_b.weight", il);
        TRY(bind(&b, &L->kv_b, true, ANY_WEIGHT, hp->kv_lora_rank, H * (hp->d_nope + hp->d_v), 1));
    }
    NAME("blk.%d.attn_output.weight", il);
    TRY(bind(&b, &L->wo, true, ANY_WEIGHT, H * hp->d_v, E, 1));
    return DC_OK;
}

static dc_status bind_deepseek2_ffn(binder *bp, int il, dc_layer *L) {
    binder b = *bp;
    const dc_hparams *hp = &b.m->hp;
    const int64_t E = hp->n_embd;
    if (il < hp->n_layer_dense) {
        NAME("blk.%d.ffn_gate.weight", il);
        TRY(bind(&b, &L->ffn_gate, true, ANY_WEIGHT, E, hp->n_ff, 1));
        NAME("blk.%d.ffn_up.weight", il);
        TRY(bind(&b, &L->ffn_up, true, ANY_WEIGHT, E, hp->n_ff, 1));
        NAME("blk.%d.ffn_down.weight", il);
        TRY(bind(&b, &L->ffn_down, true, ANY_WEIGHT, hp->n_ff, E, 1));
        return DC_OK;
    }
    const int64_t X = hp->n_expert, F = hp->n_ff_exp;
    NAME("blk.%d.ffn_gate_inp.weight", il);
    TRY(bind(&b, &L->gate_inp, true, F32_ONLY, E, X, 1));
    NAME("blk.%d.exp_probs_b.bias", il);
    TRY(bind(&b, &L->exp_probs_b, false, F32_ONLY, X, 1, 1));
    NAME("blk.%d.ffn_gate_exps.weight", il);
    TRY(bind(&b, &L->gate_exps, true, ANY_WEIGHT, E, F, X));
    NAME("blk.%d.ffn_up_exps.weight", il);
    TRY(bind(&b, &L->up_exps, true, ANY_WEIGHT, E, F, X));
    NAME("blk.%d.ffn_down_exps.weight", il);
    TRY(bind(&b, &L->down_exps, true, ANY_WEIGHT, F, E, X));
    if (hp->n_expert_shared > 0) {
        const int64_t S = F * hp->n_expert_shared;
        NAME("blk.%d.ffn_gate_shexp.weight", il);
        TRY(bind(&b, &L->gate_shexp, true, ANY_WEIGHT, E, S, 1));
        NAME("blk.%d.ffn_up_shexp.weight", il);
        TRY(bind(&b, &L->up_shexp, true, ANY_WEIGHT, E, S, 1));
        NAME("blk.%d.ffn_down_shexp.weight", il);
        TRY(bind(&b, &L->down_shexp, true, ANY_WEIGHT, S, E, 1));
    }
    return DC_OK;
}

static dc_status bind_dense_layer(binder *bp, int il, dc_layer *L) {
    binder b = *bp;
    const dc_hparams *hp = &b.m->hp;
    const int64_t E = hp->n_embd, Q = (int64_t)hp->n_head * hp->head_dim;
    const int64_t KV = (int64_t)hp->n_head_kv * hp->head_dim;
    const bool bias = hp->arch == DC_ARCH_QWEN2;
    NAME("blk.%d.attn_q.weight", il);
    TRY(bind(&b, &L->wq, true, ANY_WEIGHT, E, Q, 1));
    NAME("blk.%d.attn_k.weight", il);
    TRY(bind(&b, &L->wk, true, ANY_WEIGHT, E, KV, 1));
    NAME("blk.%d.attn_v.weight", il);
    TRY(bind(&b, &L->wv, true, ANY_WEIGHT, E, KV, 1));
    NAME("blk.%d.attn_q.bias", il);
    TRY(bind(&b, &L->bq, bias, F32_ONLY, Q, 1, 1));
    NAME("blk.%d.attn_k.bias", il);
    TRY(bind(&b, &L->bk, bias, F32_ONLY, KV, 1, 1));
    NAME("blk.%d.attn_v.bias", il);
    TRY(bind(&b, &L->bv, bias, F32_ONLY, KV, 1, 1));
    NAME("blk.%d.attn_output.weight", il);
    TRY(bind(&b, &L->wo, true, ANY_WEIGHT, Q, E, 1));
    NAME("blk.%d.ffn_gate.weight", il);
    TRY(bind(&b, &L->ffn_gate, true, ANY_WEIGHT, E, hp->n_ff, 1));
    NAME("blk.%d.ffn_up.weight", il);
    TRY(bind(&b, &L->ffn_up, true, ANY_WEIGHT, E, hp->n_ff, 1));
    NAME("blk.%d.ffn_down.weight", il);
    TRY(bind(&b, &L->ffn_down, true, ANY_WEIGHT, hp->n_ff, E, 1));
    return DC_OK;
}

dc_status dc_model_bind_weights(dc_model *m) {
    binder b = { .m = m };
    dc_hparams *hp = &m->hp;
    /* the vocabulary is what token_embd holds; vocab_size, if present, must agree */
    int64_t ti = dc_gguf_find_tensor(m->gguf, "token_embd.weight");
    if (ti < 0) return dc_error(DC_ERR_FORMAT, "model: tensor token_embd.weight is missing");
    dc_gguf_tensor_info info;
    TRY(dc_gguf_tensor(m->gguf, ti, &info));
    if (info.ne[1] < 1 || info.ne[1] > 0x7fffffff)
        return dc_error(DC_ERR_SHAPE, "model: token_embd.weight has %lld rows", (long long)info.ne[1]);
    if (hp->n_vocab && hp->n_vocab != info.ne[1])
        return dc_error(DC_ERR_FORMAT, "model: vocab_size %d but token_embd.weight has %lld rows",
                        hp->n_vocab, (long long)info.ne[1]);
    hp->n_vocab = (int32_t)info.ne[1];
    NAME("token_embd.weight");
    TRY(bind(&b, &m->tok_embd, true, ANY_WEIGHT, hp->n_embd, hp->n_vocab, 1));
    NAME("output_norm.weight");
    TRY(bind(&b, &m->output_norm, true, F32_ONLY, hp->n_embd, 1, 1));
    NAME("output.weight");
    TRY(bind(&b, &m->output, hp->arch == DC_ARCH_DEEPSEEK2, ANY_WEIGHT, hp->n_embd, hp->n_vocab, 1));
    if (!m->output) m->output = m->tok_embd;   /* tied embeddings */
    NAME("rope_freqs.weight");
    TRY(bind(&b, &m->rope_freqs, false, F32_ONLY, hp->n_rot / 2, 1, 1));

    m->layers = dc_calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return DC_ERR_NOMEM;
    for (int il = 0; il < hp->n_layer; il++) {
        dc_layer *L = &m->layers[il];
        NAME("blk.%d.attn_norm.weight", il);
        TRY(bind(&b, &L->attn_norm, true, F32_ONLY, hp->n_embd, 1, 1));
        NAME("blk.%d.ffn_norm.weight", il);
        TRY(bind(&b, &L->ffn_norm, true, F32_ONLY, hp->n_embd, 1, 1));
        if (hp->arch == DC_ARCH_DEEPSEEK2) {
            TRY(bind_deepseek2_attn(&b, il, L));
            TRY(bind_deepseek2_ffn(&b, il, L));
        } else {
            TRY(bind_dense_layer(&b, il, L));
        }
    }
    return DC_OK;
}
