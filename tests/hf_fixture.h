/*
 * hf_fixture.h - tiny Hugging Face checkpoints written by the tests: random
 * weights held in memory, written as config.json, safetensors shards (+
 * model.safetensors.index.json when sharded), tokenizer.json and
 * tokenizer_config.json. Independent of quantize/: the safetensors bytes are
 * assembled here.
 *
 * Models: a DeepseekV3ForCausalLM with FP8 linear weights (F8_E4M3 + F32
 * weight_scale_inv per 128x128 tile, tiles cropped at the edges), BF16
 * embeddings / lm_head / router / norms, an F32 e_score_correction_bias and
 * optionally its MTP layer; a LlamaForCausalLM and a Qwen2ForCausalLM in
 * BF16 (single model.safetensors). Tensors are HF row-major [out, in].
 */
#ifndef DEEPC_TEST_HF_FIXTURE_H
#define DEEPC_TEST_HF_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum hf_fix_arch { HF_FIX_V3, HF_FIX_LLAMA, HF_FIX_QWEN2 } hf_fix_arch;

typedef struct hf_fix_tensor {
    char     name[96];
    char     dtype[8];        /* "BF16", "F32", "F8_E4M3"                  */
    int      n_dims;          /* 1 or 2                                    */
    int64_t  rows, cols;      /* 1-D: rows = 1, cols = n                   */
    uint8_t *data;            /* rows * cols * dtype size                  */
    size_t   size;
    int      shard;           /* 0-based; < 0: left out of the files       */
    const struct hf_fix_tensor *scale;   /* FP8: its _scale_inv tensor     */
} hf_fix_tensor;

typedef struct hf_fix {
    hf_fix_arch arch;
    int      n_shards;
    bool     mtp;             /* V3: write layer n_layer (the MTP module)  */
    bool     v2;              /* DeepseekV2 (V2-Lite style): BF16, q_proj,
                                 softmax routing, no bias, 2 shared experts */
    /* shapes (HF config names in comments) */
    int64_t  E;               /* hidden_size                               */
    int64_t  L;               /* num_hidden_layers                         */
    int64_t  H, Hkv, hd;      /* heads, kv heads, head_dim (dense)         */
    int64_t  F;               /* intermediate_size                         */
    int64_t  V;               /* vocab_size                                */
    int64_t  q_lora, kv, dn, dr, dv;          /* V3 MLA                    */
    int64_t  X, X_used, groups, groups_used, shared, F_exp, dense;   /* MoE */
    hf_fix_tensor *t;         /* [n]                                       */
    int      n, cap;
    uint64_t seed;
} hf_fix;

/* The tiny V3 of the tests (hidden 256, 2 layers (1 dense) + MTP, 4 heads,
 * q_lora 128, kv_lora 64, rope 16, nope 32, v 32, 8 experts top-2 in 2
 * groups, sigmoid + bias), in n_shards shards. scale > 1 widens hidden,
 * FFN and experts (for memory measurements). Returns 0, -1 on malloc failure. */
int  hf_fix_make_v3(hf_fix *f, int n_shards, bool mtp, int scale, uint64_t seed);
/* The same shapes as a DeepseekV2ForCausalLM in the V2-Lite style (BF16,
 * no q_lora: q_proj, softmax greedy routing without bias, 2 shared experts,
 * YaRN mscale_all_dim 0.707), one file. */
int  hf_fix_make_v2lite(hf_fix *f, uint64_t seed);
/* A tiny llama (GQA 2:1, no biases) or qwen2 (q/k/v biases, tied
 * embeddings) in BF16, one file. */
int  hf_fix_make_dense(hf_fix *f, hf_fix_arch arch, uint64_t seed);
/* Write the folder (it must exist). Returns 0, -1 on an I/O error. */
int  hf_fix_write(const hf_fix *f, const char *dir);
const hf_fix_tensor *hf_fix_find(const hf_fix *f, const char *name);
/* Element (r, c) as f32: BF16 widened, FP8 e4m3 * tile scale (one f32
 * multiply). */
float hf_fix_value(const hf_fix_tensor *t, int64_t r, int64_t c);
void  hf_fix_free(hf_fix *f);
/* Rename tensor old (0, or -1 if absent). */
int   hf_fix_rename(hf_fix *f, const char *old_name, const char *new_name);
/* Add a BF16 [n] tensor to the last shard (0, -1 on malloc failure). */
int   hf_fix_add_extra(hf_fix *f, const char *name, int64_t n);

#endif /* DEEPC_TEST_HF_FIXTURE_H */
