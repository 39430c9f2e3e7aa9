/*
 * model.c - load, describe and free a model.
 *
 * Loading = open the GGUF (mmap, validated), optionally verify checksums,
 * read and check hyper-parameters, then bind and check every weight. The
 * progress callback sees each step and may cancel. Nothing is copied: the
 * weights are the mapping.
 */
#include "model_impl.h"

#include <stdio.h>
#include <string.h>

dc_model_params dc_model_default_params(void) {
    return (dc_model_params){ .gpu = DC_GPU_OFF, .verify_checksums = false,
                              .progress = NULL, .progress_user = NULL };
}

static const char *const arch_names[] = {
    [DC_ARCH_DEEPSEEK2] = "deepseek2", [DC_ARCH_LLAMA] = "llama", [DC_ARCH_QWEN2] = "qwen2",
};

static bool progress(const dc_model_params *p, float f) {
    return !p->progress || p->progress(f, p->progress_user);
}

static void describe(dc_model *m) {
    const dc_hparams *hp = &m->hp;
    double gb = (double)m->weight_bytes / 1e9;
    if (hp->arch == DC_ARCH_DEEPSEEK2) {
        snprintf(m->desc, sizeof m->desc,
                 "deepseek2: %d layers (%d dense), n_embd %d, %d heads, MLA %s (kv_lora %d, rope %d),"
                 " %d experts (%d used, %d shared), %s routing, %.2f GB of weights",
                 hp->n_layer, hp->n_layer_dense, hp->n_embd, hp->n_head,
                 hp->mla_split ? "k_b/v_b" : "legacy kv_b", hp->kv_lora_rank, hp->d_rope,
                 hp->n_expert, hp->n_expert_used, hp->n_expert_shared,
                 hp->gating == DC_GATING_SIGMOID ? "sigmoid" : "softmax", gb);
    } else {
        snprintf(m->desc, sizeof m->desc,
                 "%s: %d layers, n_embd %d, %d heads (%d kv), head dim %d, n_ff %d, %.2f GB of weights",
                 arch_names[hp->arch], hp->n_layer, hp->n_embd, hp->n_head, hp->n_head_kv,
                 hp->head_dim, hp->n_ff, gb);
    }
}

dc_status dc_model_load(const char *path, const dc_model_params *params, dc_model **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(path != NULL);
    dc_model_params def = dc_model_default_params();
    if (!params) params = &def;
    dc_model *m = dc_calloc(1, sizeof *m);
    if (!m) return DC_ERR_NOMEM;
    dc_status st = dc_gguf_open(path, &m->gguf);
    if (st != DC_OK) goto fail;
    if (!progress(params, 0.1f)) goto aborted;
    if (params->verify_checksums) {
        st = dc_gguf_verify(m->gguf);
        if (st == DC_ERR_NOT_FOUND) st = DC_OK;   /* files without checksums are fine */
        if (st != DC_OK) goto fail;
    }
    if (!progress(params, 0.5f)) goto aborted;
    if ((st = dc_hparams_read(m->gguf, &m->hp)) != DC_OK) goto fail;
    int64_t n_tensors = dc_gguf_n_tensors(m->gguf);
    dc_context_params cp = { .mem_size = 65536 + (size_t)(n_tensors + 8) * 512, .no_alloc = true };
    if ((st = dc_context_init(&cp, &m->wctx)) != DC_OK) goto fail;
    if ((st = dc_model_bind_weights(m)) != DC_OK) goto fail;
    if (params->gpu != DC_GPU_OFF)
        DC_LOG_W("model: --gpu requested but this build has no GPU backend; running on the CPU");
    describe(m);
    if (!progress(params, 1.0f)) goto aborted;
    DC_LOG_I("model: %s", m->desc);
    *out = m;
    return DC_OK;
aborted:
    st = dc_error(DC_ERR_ABORTED, "model: loading %s cancelled by the progress callback", path);
fail:
    dc_error_prefix("%s", path);
    dc_model_free(m);
    return st;
}

void dc_model_free(dc_model *m) {
    if (!m) return;
    dc_free(m->layers);
    dc_context_free(m->wctx);
    dc_gguf_close(m->gguf);
    dc_free(m);
}

const char *dc_model_arch(const dc_model *m) { return arch_names[m->hp.arch]; }
int32_t dc_model_n_vocab(const dc_model *m) { return m->hp.n_vocab; }
int32_t dc_model_n_ctx_train(const dc_model *m) { return m->hp.n_ctx_train; }
int32_t dc_model_n_layer(const dc_model *m) { return m->hp.n_layer; }
int32_t dc_model_n_embd(const dc_model *m) { return m->hp.n_embd; }
size_t dc_model_weight_bytes(const dc_model *m) { return m->weight_bytes; }
const dc_gguf *dc_model_gguf(const dc_model *m) { return m->gguf; }
const char *dc_model_desc(const dc_model *m) { return m->desc; }

/* Values per token per layer of the K and V caches, 0 if kv_type cannot
 * hold the rows (block alignment). */
static size_t row_bytes(const dc_hparams *hp, dc_type kv_type, bool mha) {
    int64_t blk = dc_type_block_size(kv_type);
    if (blk <= 0) return 0;
    if (hp->arch == DC_ARCH_DEEPSEEK2 && !mha) {
        /* the latent and the rope key each start a block: [c_kv | k_pe] */
        if (hp->kv_lora_rank % blk || hp->d_rope % blk) return 0;
        return dc_row_size(kv_type, hp->kv_lora_rank + hp->d_rope);
    }
    int64_t k = hp->arch == DC_ARCH_DEEPSEEK2 ? (int64_t)hp->n_head * (hp->d_nope + hp->d_rope)
                                              : (int64_t)hp->n_head_kv * hp->head_dim;
    int64_t v = hp->arch == DC_ARCH_DEEPSEEK2 ? (int64_t)hp->n_head * hp->d_v
                                              : (int64_t)hp->n_head_kv * hp->head_dim;
    if (hp->arch != DC_ARCH_DEEPSEEK2 && hp->head_dim % blk) return 0;
    return dc_row_size(kv_type, k - k % blk + (k % blk ? blk : 0)) +
           dc_row_size(kv_type, v - v % blk + (v % blk ? blk : 0));
}

size_t dc_model_kv_bytes_per_token(const dc_model *m, dc_type kv_type) {
    return m ? row_bytes(&m->hp, kv_type, false) * (size_t)m->hp.n_layer : 0;
}

size_t dc_model_kv_bytes_per_token_mha(const dc_model *m, dc_type kv_type) {
    return m ? row_bytes(&m->hp, kv_type, true) * (size_t)m->hp.n_layer : 0;
}

size_t dc_model_active_bytes(const dc_model *m) {
    if (!m) return 0;
    const dc_hparams *hp = &m->hp;
    size_t total = 0;
    for (const dc_tensor *t = dc_context_first_tensor(m->wctx); t; t = t->next) {
        size_t n = dc_tensor_nbytes(t);
        if (t == m->tok_embd && m->output != m->tok_embd) n = dc_tensor_nb(t, 1);
        else if (strstr(t->name, "_exps.") && hp->n_expert > 0)
            n = (size_t)((double)n * hp->n_expert_used / hp->n_expert);
        total += n;
    }
    return total;
}
