/*
 * hf_config.c - config.json -> dc_hf_config -> GGUF metadata.
 *
 * Keys are written exactly as lib/model/hparams.c reads them and as
 * llama.cpp's converter writes them (spec/deepseek-arch.md §5):
 *  - deepseek2 is written in the MLA layout: head_count_kv 1, key_length
 *    kv_lora + rope, value_length kv_lora (the MQA disguise), and the real
 *    head sizes in key_length_mla / value_length_mla (§2.6);
 *  - YaRN: rope.scaling.{type, factor, original_context_length,
 *    yarn_log_multiplier = 0.1 * mscale_all_dim, yarn_beta_fast / _slow};
 *  - routing: expert_gating_func (softmax 1, sigmoid 2), group counts from
 *    n_group / topk_group, expert_weights_norm only when true (as llama.cpp);
 *  - MTP: nextn_predict_layers when MTP layers are written; block_count
 *    counts them (the runtime skips them).
 * Values are range-checked with the runtime's limits, so a config the
 * runtime would refuse fails here, naming the key. Refused: moe_layer_freq
 * other than 1, rope scaling types the runtime lacks (linear, dynamic ...),
 * llama attention/MLP biases, FP8 block sizes that are not positive.
 */
#include "hf.h"

#include "qutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG 1000000000LL

typedef struct cfg {
    const cJSON *root;
    const char  *path;
} cfg;

static const cJSON *item(const cfg *c, const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj ? obj : c->root, key);
    return cJSON_IsNull(v) ? NULL : v;
}

/* Integer key in [lo, hi]; absent or null: def, or an error when required. */
static dc_status get_int(const cfg *c, const cJSON *obj, const char *key, bool required,
                         int64_t def, int64_t lo, int64_t hi, int64_t *out) {
    const cJSON *v = item(c, obj, key);
    if (!v) {
        if (required) return dc_q_error(DC_ERR_FORMAT, "%s: %s is missing", c->path, key);
        *out = def;
        return DC_OK;
    }
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!(d >= (double)lo && d <= (double)hi) || floor(d) != d)
        return dc_q_error(DC_ERR_FORMAT, "%s: %s must be an integer in [%lld, %lld]", c->path, key,
                          (long long)lo, (long long)hi);
    *out = (int64_t)d;
    return DC_OK;
}

static dc_status get_num(const cfg *c, const cJSON *obj, const char *key, double def,
                         double *out) {
    const cJSON *v = item(c, obj, key);
    if (!v) {
        *out = def;
        return DC_OK;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return dc_q_error(DC_ERR_FORMAT, "%s: %s must be a finite number", c->path, key);
    *out = v->valuedouble;
    return DC_OK;
}

static dc_status get_bool(const cfg *c, const cJSON *obj, const char *key, bool def, bool *out) {
    const cJSON *v = item(c, obj, key);
    if (!v) {
        *out = def;
        return DC_OK;
    }
    if (!cJSON_IsBool(v))
        return dc_q_error(DC_ERR_FORMAT, "%s: %s must be true or false", c->path, key);
    *out = cJSON_IsTrue(v);
    return DC_OK;
}

static const char *get_str(const cfg *c, const cJSON *obj, const char *key) {
    const cJSON *v = item(c, obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define TRY(x)                          \
    do {                                \
        dc_status st_ = (x);            \
        if (st_ != DC_OK) return st_;   \
    } while (0)

/* ---- reading ------------------------------------------------------------------ */

static dc_status read_common(const cfg *c, dc_hf_config *h) {
    TRY(get_int(c, NULL, "hidden_size", true, 0, 1, 1 << 20, &h->n_embd));
    TRY(get_int(c, NULL, "num_hidden_layers", true, 0, 1, 4095, &h->n_layer));
    TRY(get_int(c, NULL, "num_attention_heads", true, 0, 1, 65536, &h->n_head));
    TRY(get_int(c, NULL, "num_key_value_heads", false, h->n_head, 1, 65536, &h->n_head_kv));
    TRY(get_int(c, NULL, "intermediate_size", true, 0, 1, 1 << 24, &h->n_ff));
    TRY(get_int(c, NULL, "vocab_size", true, 0, 1, BIG, &h->n_vocab));
    TRY(get_int(c, NULL, "max_position_embeddings", false, 4096, 1, BIG, &h->n_ctx));
    TRY(get_num(c, NULL, "rms_norm_eps", 1e-6, &h->rms_eps));
    TRY(get_num(c, NULL, "rope_theta", 10000.0, &h->rope_theta));
    TRY(get_bool(c, NULL, "tie_word_embeddings", false, &h->tied));
    if (!(h->rms_eps > 0) || !(h->rope_theta > 1))
        return dc_q_error(DC_ERR_FORMAT, "%s: rms_norm_eps must be > 0 and rope_theta > 1",
                          c->path);
    return DC_OK;
}

static dc_status read_rope_scaling(const cfg *c, dc_hf_config *h) {
    const cJSON *rs = item(c, NULL, "rope_scaling");
    h->rope = DC_HF_ROPE_NONE;
    h->rope_factor = 1.0;
    h->beta_fast = 32.0;
    h->beta_slow = 1.0;
    h->rope_orig_ctx = h->n_ctx;
    if (!rs) return DC_OK;
    if (!cJSON_IsObject(rs))
        return dc_q_error(DC_ERR_FORMAT, "%s: rope_scaling is not an object", c->path);
    const char *type = get_str(c, rs, "type");
    if (!type) type = get_str(c, rs, "rope_type");
    if (!type) return dc_q_error(DC_ERR_FORMAT, "%s: rope_scaling has no type", c->path);
    if (!strcmp(type, "default")) return DC_OK;
    TRY(get_num(c, rs, "factor", 1.0, &h->rope_factor));
    TRY(get_int(c, rs, "original_max_position_embeddings", false, h->n_ctx, 1, BIG,
                &h->rope_orig_ctx));
    if (!(h->rope_factor >= 1.0))
        return dc_q_error(DC_ERR_FORMAT, "%s: rope_scaling.factor must be >= 1", c->path);
    if (!strcmp(type, "yarn") && h->arch != DC_HF_LLAMA) {
        h->rope = DC_HF_ROPE_YARN;
        TRY(get_num(c, rs, "beta_fast", 32.0, &h->beta_fast));
        TRY(get_num(c, rs, "beta_slow", 1.0, &h->beta_slow));
        TRY(get_num(c, rs, "mscale_all_dim", 0.0, &h->mscale_all_dim));
        return DC_OK;
    }
    if (!strcmp(type, "llama3") && h->arch == DC_HF_LLAMA) {
        h->rope = DC_HF_ROPE_LLAMA3;
        TRY(get_num(c, rs, "low_freq_factor", 1.0, &h->low_freq_factor));
        TRY(get_num(c, rs, "high_freq_factor", 4.0, &h->high_freq_factor));
        if (!(h->high_freq_factor > h->low_freq_factor) || !(h->low_freq_factor > 0))
            return dc_q_error(DC_ERR_FORMAT, "%s: rope_scaling needs 0 < low_freq_factor < "
                              "high_freq_factor", c->path);
        return DC_OK;
    }
    return dc_q_error(DC_ERR_UNSUPPORTED, "%s: rope_scaling type \"%.32s\" is not supported "
                      "for %s (deepc runs yarn for deepseek2 / qwen2, llama3 for llama)",
                      c->path, type, h->hf_arch);
}

static dc_status read_deepseek2(const cfg *c, dc_hf_config *h) {
    TRY(get_int(c, NULL, "q_lora_rank", false, 0, 0, 1 << 20, &h->q_lora));
    TRY(get_int(c, NULL, "kv_lora_rank", true, 0, 1, 1 << 20, &h->kv_lora));
    TRY(get_int(c, NULL, "qk_nope_head_dim", true, 0, 1, 1 << 16, &h->d_nope));
    TRY(get_int(c, NULL, "qk_rope_head_dim", true, 0, 2, 1 << 16, &h->d_rope));
    TRY(get_int(c, NULL, "v_head_dim", true, 0, 1, 1 << 16, &h->d_v));
    if (h->d_rope % 2)
        return dc_q_error(DC_ERR_FORMAT, "%s: qk_rope_head_dim must be even", c->path);
    TRY(get_int(c, NULL, "first_k_dense_replace", false, 0, 0, h->n_layer, &h->n_dense));
    int64_t freq = 1;
    TRY(get_int(c, NULL, "moe_layer_freq", false, 1, 1, 4096, &freq));
    if (freq != 1)
        return dc_q_error(DC_ERR_UNSUPPORTED, "%s: moe_layer_freq %lld (deepc runs 1)", c->path,
                          (long long)freq);
    bool moe = h->n_dense < h->n_layer;
    TRY(get_int(c, NULL, "n_routed_experts", moe, 0, moe ? 1 : 0, 65536, &h->n_expert));
    TRY(get_int(c, NULL, "num_experts_per_tok", moe, 0, moe ? 1 : 0, h->n_expert,
                &h->n_expert_used));
    TRY(get_int(c, NULL, "n_shared_experts", false, 0, 0, 1024, &h->n_shared));
    TRY(get_int(c, NULL, "moe_intermediate_size", moe, 0, moe ? 1 : 0, 1 << 24, &h->n_ff_exp));
    TRY(get_int(c, NULL, "n_group", false, 1, 1, h->n_expert ? h->n_expert : 1, &h->n_group));
    TRY(get_int(c, NULL, "topk_group", false, 1, 1, h->n_group, &h->n_group_used));
    TRY(get_int(c, NULL, "num_nextn_predict_layers", false, 0, 0, 16, &h->n_nextn));
    TRY(get_num(c, NULL, "routed_scaling_factor", 1.0, &h->route_scale));
    TRY(get_bool(c, NULL, "norm_topk_prob", false, &h->norm_topk));
    const char *score = get_str(c, NULL, "scoring_func");
    if (!score || !strcmp(score, "softmax")) h->gating = 1;
    else if (!strcmp(score, "sigmoid")) h->gating = 2;
    else return dc_q_error(DC_ERR_UNSUPPORTED, "%s: scoring_func \"%.32s\" (softmax or sigmoid)",
                           c->path, score);
    if (moe && (h->n_expert % h->n_group != 0 ||
                h->n_group_used * (h->n_expert / h->n_group) < h->n_expert_used))
        return dc_q_error(DC_ERR_FORMAT, "%s: %lld experts in n_group %lld (topk_group %lld) "
                          "cannot give num_experts_per_tok %lld", c->path, (long long)h->n_expert,
                          (long long)h->n_group, (long long)h->n_group_used,
                          (long long)h->n_expert_used);
    return DC_OK;
}

static dc_status read_dense(const cfg *c, dc_hf_config *h) {
    if (h->n_embd % h->n_head != 0 || h->n_head % h->n_head_kv != 0)
        return dc_q_error(DC_ERR_FORMAT, "%s: hidden_size %lld, heads %lld, kv heads %lld do not "
                          "divide", c->path, (long long)h->n_embd, (long long)h->n_head,
                          (long long)h->n_head_kv);
    TRY(get_int(c, NULL, "head_dim", false, h->n_embd / h->n_head, 2, 1 << 16, &h->head_dim));
    if (h->head_dim % 2) return dc_q_error(DC_ERR_FORMAT, "%s: head_dim must be even", c->path);
    h->qkv_bias = h->arch == DC_HF_QWEN2;
    if (h->arch == DC_HF_LLAMA) {
        bool ab = false, mb = false;
        TRY(get_bool(c, NULL, "attention_bias", false, &ab));
        TRY(get_bool(c, NULL, "mlp_bias", false, &mb));
        if (ab || mb)
            return dc_q_error(DC_ERR_UNSUPPORTED, "%s: llama attention/MLP biases are not "
                              "supported", c->path);
    }
    return DC_OK;
}

static dc_status read_fp8(const cfg *c, dc_hf_config *h) {
    const cJSON *q = item(c, NULL, "quantization_config");
    h->block_out = h->block_in = 128;
    if (!q) return DC_OK;
    const char *method = get_str(c, q, "quant_method");
    if (!method || strcmp(method, "fp8") != 0)
        return dc_q_error(DC_ERR_UNSUPPORTED, "%s: quantization_config.quant_method \"%.32s\" "
                          "(deepc converts fp8 checkpoints and unquantized ones)", c->path,
                          method ? method : "?");
    const char *fmt = get_str(c, q, "fmt");
    if (fmt && strcmp(fmt, "e4m3") != 0)
        return dc_q_error(DC_ERR_UNSUPPORTED, "%s: fp8 fmt \"%.32s\" (want e4m3)", c->path, fmt);
    const cJSON *bs = item(c, q, "weight_block_size");
    if (bs) {
        if (!cJSON_IsArray(bs) || cJSON_GetArraySize(bs) != 2)
            return dc_q_error(DC_ERR_FORMAT, "%s: weight_block_size must be [out, in]", c->path);
        double a = cJSON_IsNumber(bs->child) ? bs->child->valuedouble : 0;
        double b = cJSON_IsNumber(bs->child->next) ? bs->child->next->valuedouble : 0;
        if (!(a >= 1 && a <= 65536 && b >= 1 && b <= 65536) || floor(a) != a || floor(b) != b)
            return dc_q_error(DC_ERR_FORMAT, "%s: weight_block_size must be two integers in "
                              "[1, 65536]", c->path);
        h->block_out = (int64_t)a;
        h->block_in = (int64_t)b;
    }
    h->fp8 = true;
    return DC_OK;
}

static const struct {
    const char *hf, *gguf;
    dc_hf_arch  arch;
} archs[] = {
    { "DeepseekV2ForCausalLM", "deepseek2", DC_HF_DEEPSEEK2 },
    { "DeepseekV3ForCausalLM", "deepseek2", DC_HF_DEEPSEEK2 },
    { "LlamaForCausalLM",      "llama",     DC_HF_LLAMA },
    { "Qwen2ForCausalLM",      "qwen2",     DC_HF_QWEN2 },
};

static dc_status read_arch(const cfg *c, dc_hf_config *h) {
    const cJSON *a = item(c, NULL, "architectures");
    const char *name = cJSON_IsArray(a) && cJSON_IsString(a->child) ? a->child->valuestring : NULL;
    if (!name) return dc_q_error(DC_ERR_FORMAT, "%s: architectures[0] is missing", c->path);
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (!strcmp(name, archs[i].hf)) {
            h->hf_arch = archs[i].hf;   /* static: outlives the JSON */
            h->gguf_arch = archs[i].gguf;
            h->arch = archs[i].arch;
            return DC_OK;
        }
    return dc_q_error(DC_ERR_UNSUPPORTED, "%s: architecture %.64s (deepc converts "
                      "DeepseekV2/V3ForCausalLM, LlamaForCausalLM, Qwen2ForCausalLM)",
                      c->path, name);
}

dc_status dc_q_hf_read_config(const char *dir, dc_hf_config *h) {
    memset(h, 0, sizeof *h);
    char *path = dc_q_path_join(dir, "config.json"), *text = NULL;
    if (!path) return dc_q_error(DC_ERR_NOMEM, "out of memory");
    dc_status st = dc_q_read_file(path, 16u << 20, &text, NULL);
    cJSON *root = st == DC_OK ? cJSON_Parse(text) : NULL;
    if (st == DC_OK && !cJSON_IsObject(root))
        st = dc_q_error(DC_ERR_FORMAT, "%s: not a JSON object", path);
    cfg c = { .root = root, .path = path };
    if (st == DC_OK) st = read_arch(&c, h);
    if (st == DC_OK) st = read_common(&c, h);
    if (st == DC_OK) st = h->arch == DC_HF_DEEPSEEK2 ? read_deepseek2(&c, h) : read_dense(&c, h);
    if (st == DC_OK) st = read_rope_scaling(&c, h);
    if (st == DC_OK) st = read_fp8(&c, h);
    if (st == DC_OK) {
        const char *base = strrchr(dir, '/');
        snprintf(h->name, sizeof h->name, "%s", base && base[1] ? base + 1 : dir);
    }
    cJSON_Delete(root);
    free(text);
    free(path);
    return st;
}

/* ---- writing ------------------------------------------------------------------ */

/* "<arch>.<name>" keys (general.* as given); the first error is kept. */
typedef struct kw {
    dc_gguf_writer *w;
    const char     *arch;
    dc_status       st;
    char            key[128];
} kw;

static const char *akey(kw *k, const char *name) {
    if (!strncmp(name, "general.", 8)) snprintf(k->key, sizeof k->key, "%s", name);
    else snprintf(k->key, sizeof k->key, "%s.%s", k->arch, name);
    return k->key;
}

static void kw_u32(kw *k, const char *name, int64_t v) {
    if (k->st == DC_OK) k->st = dc_gguf_set_u32(k->w, akey(k, name), (uint32_t)v);
}

static void kw_f32(kw *k, const char *name, double v) {
    if (k->st == DC_OK) k->st = dc_gguf_set_f32(k->w, akey(k, name), (float)v);
}

static void kw_str(kw *k, const char *name, const char *v) {
    if (k->st == DC_OK) k->st = dc_gguf_set_str(k->w, akey(k, name), v);
}

static void kw_bool(kw *k, const char *name, bool v) {
    if (k->st == DC_OK) k->st = dc_gguf_set_bool(k->w, akey(k, name), v);
}

static void write_deepseek2(kw *k, const dc_hf_config *c, int64_t n_nextn) {
    kw_u32(k, "leading_dense_block_count", c->n_dense);
    kw_u32(k, "attention.head_count", c->n_head);
    if (c->q_lora > 0) kw_u32(k, "attention.q_lora_rank", c->q_lora);
    kw_u32(k, "attention.kv_lora_rank", c->kv_lora);
    /* the MLA layout: the latent disguised as one MQA head (spec §2.6) */
    kw_u32(k, "attention.head_count_kv", 1);
    kw_u32(k, "attention.key_length", c->kv_lora + c->d_rope);
    kw_u32(k, "attention.value_length", c->kv_lora);
    kw_u32(k, "attention.key_length_mla", c->d_nope + c->d_rope);
    kw_u32(k, "attention.value_length_mla", c->d_v);
    kw_u32(k, "rope.dimension_count", c->d_rope);
    if (n_nextn > 0) kw_u32(k, "nextn_predict_layers", n_nextn);
    if (c->n_expert < 1) return;
    kw_u32(k, "expert_count", c->n_expert);
    kw_u32(k, "expert_used_count", c->n_expert_used);
    kw_u32(k, "expert_shared_count", c->n_shared);
    kw_u32(k, "expert_feed_forward_length", c->n_ff_exp);
    kw_f32(k, "expert_weights_scale", c->route_scale);
    if (c->norm_topk) kw_bool(k, "expert_weights_norm", true);   /* llama.cpp writes only true */
    kw_u32(k, "expert_gating_func", c->gating);
    kw_u32(k, "expert_group_count", c->n_group);
    kw_u32(k, "expert_group_used_count", c->n_group_used);
}

dc_status dc_q_hf_write_keys(dc_gguf_writer *w, const dc_hf_config *c, int64_t n_nextn,
                             int32_t file_type) {
    kw k = { .w = w, .arch = c->gguf_arch, .st = DC_OK };
    kw_str(&k, "general.architecture", c->gguf_arch);
    kw_str(&k, "general.name", c->name);
    if (file_type >= 0) kw_u32(&k, "general.file_type", file_type);
    kw_u32(&k, "general.quantization_version", 2);
    kw_u32(&k, "context_length", c->n_ctx);
    kw_u32(&k, "embedding_length", c->n_embd);
    kw_u32(&k, "block_count", c->n_layer + n_nextn);
    kw_u32(&k, "feed_forward_length", c->n_ff);
    kw_u32(&k, "vocab_size", c->n_vocab);
    kw_f32(&k, "attention.layer_norm_rms_epsilon", c->rms_eps);
    kw_f32(&k, "rope.freq_base", c->rope_theta);
    if (c->arch == DC_HF_DEEPSEEK2) {
        write_deepseek2(&k, c, n_nextn);
    } else {
        kw_u32(&k, "attention.head_count", c->n_head);
        kw_u32(&k, "attention.head_count_kv", c->n_head_kv);
        kw_u32(&k, "rope.dimension_count", c->head_dim);
        if (c->head_dim * c->n_head != c->n_embd) {
            kw_u32(&k, "attention.key_length", c->head_dim);
            kw_u32(&k, "attention.value_length", c->head_dim);
        }
    }
    if (c->rope == DC_HF_ROPE_YARN) {
        kw_str(&k, "rope.scaling.type", "yarn");
        kw_f32(&k, "rope.scaling.factor", c->rope_factor);
        kw_u32(&k, "rope.scaling.original_context_length", c->rope_orig_ctx);
        kw_f32(&k, "rope.scaling.yarn_log_multiplier", 0.1 * c->mscale_all_dim);
        kw_f32(&k, "rope.scaling.yarn_beta_fast", c->beta_fast);
        kw_f32(&k, "rope.scaling.yarn_beta_slow", c->beta_slow);
    }
    return k.st;
}

void dc_q_hf_rope_freqs(const dc_hf_config *c, float *out, int64_t n) {
    const double pi = 3.14159265358979323846, f = c->rope_factor;
    const double lo = c->low_freq_factor, hi = c->high_freq_factor, orig = (double)c->rope_orig_ctx;
    const double lo_wl = orig / lo, hi_wl = orig / hi;
    for (int64_t i = 0; i < n; i++) {
        double freq = pow(c->rope_theta, -2.0 * (double)i / (double)(2 * n));
        double wl = 2.0 * pi / freq;
        if (wl < hi_wl) {
            out[i] = 1.0f;
        } else if (wl > lo_wl) {
            out[i] = (float)f;
        } else {
            double smooth = (orig / wl - lo) / (hi - lo);
            out[i] = (float)(1.0 / ((1.0 - smooth) / f + smooth));
        }
    }
}
