/*
 * hparams.c - read a model's hyper-parameters from GGUF metadata and check
 * that they are consistent, before any tensor is looked at.
 *
 * Keys are "<arch>.<name>", as the peer engine writes them
 * (spec/deepseek-arch.md §5 for deepseek2; fixtures/README.md for llama and
 * qwen2). A required key that is missing, has the wrong type or an
 * impossible value is an error naming the key.
 *
 * Routing policy (spec §3, §6.8): group-limited selection is used when the
 * file has expert_group_count > 1. The group score is the sum of the two best
 * biased scores for sigmoid gating (V3's noaux_tc) and the best score for
 * softmax gating (V2's group_limited_greedy, per DeepSeek's reference). The
 * peer engine (llama.cpp) uses the top-2 sum for both; deepc follows DeepSeek.
 * Files without group keys get plain global top-k, as in the peer.
 *
 * MTP: "<arch>.nextn_predict_layers" = k (optional, spec/deepseek-arch.md §4)
 * says the last k of block_count layers are multi-token-prediction modules
 * (blk.N.nextn.* plus their own block). deepc does not run them: n_layer is
 * the main layers only, so nothing binds or computes the MTP layers.
 */
#include "model_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct key_ctx {
    const dc_gguf *g;
    const char    *arch;
    char           key[128];
} key_ctx;

static const char *k(key_ctx *c, const char *name) {
    snprintf(c->key, sizeof c->key, "%s.%s", c->arch, name);
    return c->key;
}

/* Required u32 in [lo, hi]. */
static dc_status req_u32(key_ctx *c, const char *name, int32_t lo, int32_t hi, int32_t *out) {
    uint32_t v;
    dc_status st = dc_gguf_get_u32(c->g, k(c, name), &v);
    if (st == DC_ERR_NOT_FOUND)
        return dc_error(DC_ERR_FORMAT, "model: required key %s is missing", c->key);
    if (st != DC_OK) return st;
    if ((int64_t)v < lo || (int64_t)v > hi)
        return dc_error(DC_ERR_FORMAT, "model: %s = %u outside [%d, %d]", c->key, v, lo, hi);
    *out = (int32_t)v;
    return DC_OK;
}

/* Optional u32: absent leaves *out as it is. */
static dc_status opt_u32(key_ctx *c, const char *name, int32_t lo, int32_t hi, int32_t *out) {
    uint32_t v;
    dc_status st = dc_gguf_get_u32(c->g, k(c, name), &v);
    if (st == DC_ERR_NOT_FOUND) return DC_OK;
    if (st != DC_OK) return st;
    if ((int64_t)v < lo || (int64_t)v > hi)
        return dc_error(DC_ERR_FORMAT, "model: %s = %u outside [%d, %d]", c->key, v, lo, hi);
    *out = (int32_t)v;
    return DC_OK;
}

static dc_status opt_f32(key_ctx *c, const char *name, float *out) {
    float v;
    dc_status st = dc_gguf_get_f32(c->g, k(c, name), &v);
    if (st == DC_ERR_NOT_FOUND) return DC_OK;
    if (st != DC_OK) return st;
    if (!isfinite(v)) return dc_error(DC_ERR_FORMAT, "model: %s is not finite", c->key);
    *out = v;
    return DC_OK;
}

static dc_status req_f32(key_ctx *c, const char *name, float *out) {
    if (dc_gguf_find_key(c->g, k(c, name)) < 0)
        return dc_error(DC_ERR_FORMAT, "model: required key %s is missing", c->key);
    return opt_f32(c, name, out);
}

#define TRY(x)                          \
    do {                                \
        dc_status st_ = (x);            \
        if (st_ != DC_OK) return st_;   \
    } while (0)

#define BIG 1000000000

static dc_status read_common(key_ctx *c, dc_hparams *hp) {
    TRY(req_u32(c, "context_length", 1, BIG, &hp->n_ctx_train));
    TRY(req_u32(c, "embedding_length", 1, 1 << 20, &hp->n_embd));
    TRY(req_u32(c, "block_count", 1, 4096, &hp->n_layer));
    int32_t n_nextn = 0;
    TRY(opt_u32(c, "nextn_predict_layers", 0, hp->n_layer - 1, &n_nextn));
    hp->n_layer -= n_nextn;   /* MTP layers are not run (see above) */
    TRY(req_u32(c, "attention.head_count", 1, 65536, &hp->n_head));
    hp->n_head_kv = hp->n_head;
    TRY(opt_u32(c, "attention.head_count_kv", 1, 65536, &hp->n_head_kv));
    hp->rms_eps = 1e-6f;
    TRY(req_f32(c, "attention.layer_norm_rms_epsilon", &hp->rms_eps));
    if (!(hp->rms_eps > 0))
        return dc_error(DC_ERR_FORMAT, "model: %s.attention.layer_norm_rms_epsilon must be > 0", c->arch);
    hp->rope_base = 10000.0f;
    TRY(opt_f32(c, "rope.freq_base", &hp->rope_base));
    if (!(hp->rope_base > 1))
        return dc_error(DC_ERR_FORMAT, "model: %s.rope.freq_base = %g", c->arch, (double)hp->rope_base);
    hp->n_vocab = 0;
    TRY(opt_u32(c, "vocab_size", 1, BIG, &hp->n_vocab));
    return DC_OK;
}

static dc_status read_yarn(key_ctx *c, dc_hparams *hp) {
    const char *type = NULL;
    size_t len = 0;
    dc_status st = dc_gguf_get_str(c->g, k(c, "rope.scaling.type"), &type, &len);
    if (st != DC_OK && st != DC_ERR_NOT_FOUND) return st;
    hp->yarn = st == DC_OK && len == 4 && memcmp(type, "yarn", 4) == 0;
    if (st == DC_OK && !hp->yarn && !(len == 4 && memcmp(type, "none", 4) == 0))
        return dc_error(DC_ERR_UNSUPPORTED, "model: %s = \"%.*s\" (deepc knows yarn and none)",
                        c->key, (int)(len < 32 ? len : 32), type);
    hp->rope_factor = 1.0f;
    hp->beta_fast = 32.0f;
    hp->beta_slow = 1.0f;
    hp->yarn_log_mul = 0.0f;
    hp->n_ctx_orig = hp->n_ctx_train;
    if (!hp->yarn) return DC_OK;
    TRY(req_f32(c, "rope.scaling.factor", &hp->rope_factor));
    if (!(hp->rope_factor >= 1.0f))
        return dc_error(DC_ERR_FORMAT, "model: %s.rope.scaling.factor = %g (want >= 1)", c->arch,
                        (double)hp->rope_factor);
    TRY(opt_u32(c, "rope.scaling.original_context_length", 1, BIG, &hp->n_ctx_orig));
    TRY(opt_f32(c, "rope.scaling.yarn_log_multiplier", &hp->yarn_log_mul));
    TRY(opt_f32(c, "rope.scaling.yarn_beta_fast", &hp->beta_fast));
    TRY(opt_f32(c, "rope.scaling.yarn_beta_slow", &hp->beta_slow));
    return DC_OK;
}

static dc_status read_deepseek2(key_ctx *c, dc_hparams *hp) {
    int32_t kl = 0, vl = 0, kl_mla = 0, vl_mla = 0;
    TRY(req_u32(c, "feed_forward_length", 1, 1 << 24, &hp->n_ff));
    hp->q_lora_rank = 0;
    TRY(opt_u32(c, "attention.q_lora_rank", 0, 1 << 20, &hp->q_lora_rank));
    TRY(req_u32(c, "attention.kv_lora_rank", 1, 1 << 20, &hp->kv_lora_rank));
    TRY(req_u32(c, "rope.dimension_count", 2, 1 << 16, &hp->d_rope));
    TRY(req_u32(c, "attention.key_length", 1, 1 << 20, &kl));
    TRY(req_u32(c, "attention.value_length", 1, 1 << 20, &vl));
    TRY(opt_u32(c, "attention.key_length_mla", 0, 1 << 20, &kl_mla));
    TRY(opt_u32(c, "attention.value_length_mla", 0, 1 << 20, &vl_mla));
    hp->mla_split = kl_mla > 0 && vl_mla > 0;
    if (hp->mla_split) {
        /* MLA GGUF: key/value lengths describe the latent MQA disguise */
        if (kl != hp->kv_lora_rank + hp->d_rope || vl != hp->kv_lora_rank)
            return dc_error(DC_ERR_FORMAT, "model: deepseek2 key_length %d / value_length %d, want "
                            "%d / %d for kv_lora_rank %d + rope %d", kl, vl,
                            hp->kv_lora_rank + hp->d_rope, hp->kv_lora_rank, hp->kv_lora_rank, hp->d_rope);
        kl = kl_mla;
        vl = vl_mla;
    }
    if (kl <= hp->d_rope || hp->d_rope % 2)
        return dc_error(DC_ERR_FORMAT, "model: deepseek2 key length %d must exceed the even rope "
                        "dims %d", kl, hp->d_rope);
    hp->d_nope = kl - hp->d_rope;
    hp->d_v = vl;
    hp->n_rot = hp->d_rope;
    TRY(req_u32(c, "leading_dense_block_count", 0, hp->n_layer, &hp->n_layer_dense));
    hp->n_expert = 0;
    TRY(opt_u32(c, "expert_count", 0, 65536, &hp->n_expert));
    if (hp->n_layer_dense < hp->n_layer) {
        if (hp->n_expert < 1)
            return dc_error(DC_ERR_FORMAT, "model: deepseek2 has MoE layers but expert_count is %s",
                            hp->n_expert ? "0" : "missing");
        TRY(req_u32(c, "expert_used_count", 1, hp->n_expert, &hp->n_expert_used));
        TRY(req_u32(c, "expert_shared_count", 0, 1024, &hp->n_expert_shared));
        TRY(req_u32(c, "expert_feed_forward_length", 1, 1 << 24, &hp->n_ff_exp));
        TRY(req_f32(c, "expert_weights_scale", &hp->expert_weights_scale));
        uint32_t gf = DC_GATING_SOFTMAX;
        dc_status st = dc_gguf_get_u32(c->g, k(c, "expert_gating_func"), &gf);
        if (st != DC_OK && st != DC_ERR_NOT_FOUND) return st;
        if (gf == 0) gf = DC_GATING_SOFTMAX;   /* 0 or absent: softmax, as the peer reads it */
        if (gf != DC_GATING_SOFTMAX && gf != DC_GATING_SIGMOID)
            return dc_error(DC_ERR_UNSUPPORTED, "model: %s = %u (1 softmax, 2 sigmoid)", c->key, gf);
        hp->gating = (dc_gating)gf;
        bool norm = false;
        st = dc_gguf_get_bool(c->g, k(c, "expert_weights_norm"), &norm);
        if (st != DC_OK && st != DC_ERR_NOT_FOUND) return st;
        hp->expert_weights_norm = norm;
        hp->n_group = hp->n_group_used = 1;
        TRY(opt_u32(c, "expert_group_count", 1, hp->n_expert, &hp->n_group));
        TRY(opt_u32(c, "expert_group_used_count", 1, hp->n_group, &hp->n_group_used));
        if (hp->n_expert % hp->n_group != 0 ||
            hp->n_group_used * (hp->n_expert / hp->n_group) < hp->n_expert_used)
            return dc_error(DC_ERR_FORMAT, "model: %d experts in %d groups (%d used) cannot give "
                            "%d experts per token", hp->n_expert, hp->n_group, hp->n_group_used,
                            hp->n_expert_used);
        hp->group_rule = hp->gating == DC_GATING_SIGMOID ? DC_MOE_GROUP_TOP2_SUM : DC_MOE_GROUP_MAX;
    }
    TRY(read_yarn(c, hp));
    /* softmax scale m^2 / sqrt(d_nope + d_rope), mu = yarn_log_multiplier / 0.1 (spec §2.4) */
    double mscale = 1.0;
    if (hp->yarn && hp->rope_factor > 1.0f)
        mscale = 1.0 + 0.1 * ((double)hp->yarn_log_mul / 0.1) * log((double)hp->rope_factor);
    hp->kq_scale = (float)(mscale * mscale / sqrt((double)(hp->d_nope + hp->d_rope)));
    return DC_OK;
}

static dc_status read_dense(key_ctx *c, dc_hparams *hp) {
    TRY(req_u32(c, "feed_forward_length", 1, 1 << 24, &hp->n_ff));
    if (hp->n_embd % hp->n_head != 0)
        return dc_error(DC_ERR_FORMAT, "model: embedding_length %d is not a multiple of "
                        "head_count %d", hp->n_embd, hp->n_head);
    hp->head_dim = hp->n_embd / hp->n_head;
    TRY(opt_u32(c, "attention.key_length", 1, 1 << 16, &hp->head_dim));
    hp->n_rot = hp->head_dim;
    TRY(opt_u32(c, "rope.dimension_count", 2, hp->head_dim, &hp->n_rot));
    if (hp->n_rot % 2)
        return dc_error(DC_ERR_FORMAT, "model: %s.rope.dimension_count %d is odd", c->arch, hp->n_rot);
    if (hp->n_head % hp->n_head_kv != 0)
        return dc_error(DC_ERR_FORMAT, "model: head_count %d is not a multiple of head_count_kv %d",
                        hp->n_head, hp->n_head_kv);
    TRY(read_yarn(c, hp));
    hp->kq_scale = (float)(1.0 / sqrt((double)hp->head_dim));
    return DC_OK;
}

dc_status dc_hparams_read(const dc_gguf *g, dc_hparams *hp) {
    memset(hp, 0, sizeof *hp);
    const char *arch = NULL;
    size_t len = 0;
    dc_status st = dc_gguf_get_str(g, "general.architecture", &arch, &len);
    if (st == DC_ERR_NOT_FOUND)
        return dc_error(DC_ERR_FORMAT, "model: general.architecture is missing");
    if (st != DC_OK) return st;
    key_ctx c = { .g = g };
    if (len == 9 && !memcmp(arch, "deepseek2", 9)) {
        hp->arch = DC_ARCH_DEEPSEEK2;
        c.arch = "deepseek2";
    } else if (len == 5 && !memcmp(arch, "llama", 5)) {
        hp->arch = DC_ARCH_LLAMA;
        c.arch = "llama";
    } else if (len == 5 && !memcmp(arch, "qwen2", 5)) {
        hp->arch = DC_ARCH_QWEN2;
        c.arch = "qwen2";
    } else {
        return dc_error(DC_ERR_UNSUPPORTED, "model: unknown architecture \"%.*s\" (deepc runs "
                        "deepseek2, llama and qwen2)", (int)(len < 64 ? len : 64), arch);
    }
    TRY(read_common(&c, hp));
    return hp->arch == DC_ARCH_DEEPSEEK2 ? read_deepseek2(&c, hp) : read_dense(&c, hp);
}
