/*
 * hf.h - the Hugging Face converter's shared parts: the model configuration
 * read from config.json and the GGUF metadata written from it. Private to
 * hf_config.c and hf_convert.c.
 *
 * Field names follow the HF config; sizes are element counts. Absent
 * optional values take the defaults of the HF config classes.
 */
#ifndef DEEPC_QUANTIZE_HF_H
#define DEEPC_QUANTIZE_HF_H

#include <deepc/gguf.h>

typedef enum dc_hf_arch {
    DC_HF_DEEPSEEK2 = 0,   /* DeepseekV2ForCausalLM, DeepseekV3ForCausalLM */
    DC_HF_LLAMA     = 1,   /* LlamaForCausalLM                             */
    DC_HF_QWEN2     = 2    /* Qwen2ForCausalLM                             */
} dc_hf_arch;

typedef enum dc_hf_rope {
    DC_HF_ROPE_NONE   = 0,
    DC_HF_ROPE_YARN   = 1,   /* deepseek2 (and qwen2 when configured)        */
    DC_HF_ROPE_LLAMA3 = 2    /* llama: written as the rope_freqs tensor      */
} dc_hf_rope;

typedef struct dc_hf_config {
    dc_hf_arch  arch;
    const char *gguf_arch;     /* "deepseek2", "llama", "qwen2"                */
    const char *hf_arch;       /* architectures[0], e.g. "DeepseekV3ForCausalLM" */
    char        name[128];     /* general.name: the folder's base name        */
    int64_t     n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    int64_t     head_dim;      /* llama / qwen2                                */
    double      rms_eps, rope_theta;
    bool        tied;          /* tie_word_embeddings                          */
    bool        qkv_bias;      /* qwen2                                        */
    /* deepseek2: MLA */
    int64_t     q_lora, kv_lora, d_nope, d_rope, d_v;   /* q_lora 0: q_proj  */
    /* deepseek2: MoE */
    int64_t     n_expert, n_expert_used, n_shared, n_ff_exp, n_dense;
    int64_t     n_group, n_group_used, n_nextn;
    double      route_scale;
    bool        norm_topk;
    int         gating;        /* 1 softmax, 2 sigmoid (expert_gating_func)   */
    /* rope scaling */
    dc_hf_rope  rope;
    double      rope_factor, beta_fast, beta_slow, mscale_all_dim;
    double      low_freq_factor, high_freq_factor;
    int64_t     rope_orig_ctx;
    /* FP8 checkpoints (quantization_config.quant_method "fp8") */
    bool        fp8;
    int64_t     block_out, block_in;   /* weight_block_size, 128 x 128      */
} dc_hf_config;

/* Read dir/config.json. Errors name the file and key. */
dc_status dc_q_hf_read_config(const char *dir, dc_hf_config *c);

/* Write the model keys the runtime reads (lib/model/hparams.c) and
 * llama.cpp writes: general.*, "<arch>.*". n_nextn is the number of MTP
 * layers actually written (counted in block_count); file_type < 0 is not
 * written. */
dc_status dc_q_hf_write_keys(dc_gguf_writer *w, const dc_hf_config *c, int64_t n_nextn,
                             int32_t file_type);

/* Llama-3 rope scaling as llama.cpp's converter stores it (rope_freqs.weight,
 * head_dim / 2 values): the divisor of each rotary pair's frequency. */
void dc_q_hf_rope_freqs(const dc_hf_config *c, float *out, int64_t n);

#endif /* DEEPC_QUANTIZE_HF_H */
