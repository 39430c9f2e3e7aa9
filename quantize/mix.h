/*
 * mix.h - which type each tensor of a model gets when it is quantized:
 * llama.cpp's per-tensor rules ("mixes", spec/fp8-gguf.md §2.6), shared by
 * deepc-make-model and deepc-quantize.
 *
 * A mix maps (tensor name, shape, a few facts about the model) to a type.
 * DC_MIX_NONE gives every quantizable weight the one base type; DC_MIX_Q4_K_M
 * is llama-quantize's Q4_K_M without an importance matrix. Both apply
 * llama.cpp's shape fallback when a row is not a multiple of the type's block
 * (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0 here (ggml
 * uses IQ4_NL, which deepc lacks), then F16).
 *
 * Programs only (quantize/): nothing here is part of libdeepc.
 */
#ifndef DEEPC_QUANTIZE_MIX_H
#define DEEPC_QUANTIZE_MIX_H

#include <deepc/gguf.h>

typedef enum dc_mix {
    DC_MIX_NONE   = 0,   /* every quantizable weight gets the base type      */
    DC_MIX_Q4_K_M = 1    /* llama.cpp LLAMA_FTYPE_MOSTLY_Q4_K_M (ftype 15)    */
} dc_mix;

/* What the rules need to know about the whole model. */
typedef struct dc_mix_model {
    int32_t n_layer;     /* block_count: the n of use_more_bits for ffn_down  */
    int32_t n_expert;    /* routed experts (0 or 1: dense). > 1: the layer of
                            an ffn_down is parsed from "blk.N."; == 8 bumps
                            attn_v / attn_k to Q8_0, attn_output to Q5_K      */
    int32_t n_attn_v;    /* tensors for which dc_mix_counts_as_attn_v()      */
    bool    has_output;  /* output.weight exists (false: tied embeddings, so
                            token_embd gets the output tensor's type)         */
} dc_mix_model;

/* Running counters of the rules. Zero it, then call dc_mix_tensor_type() for
 * the quantizable tensors in layer order (llama-quantize sorts tensors by
 * layer, so its counters run in layer order too). */
typedef struct dc_mix_state {
    int32_t i_attn_v;    /* attn_v tensors seen so far   */
    int32_t i_ffn_down;  /* ffn_down* tensors seen so far */
} dc_mix_state;

/* "none" / "q4_k_m" (case-insensitive). false for an unknown name. */
bool        dc_mix_from_name(const char *name, dc_mix *out);
const char *dc_mix_name(dc_mix mix);

/* llama.cpp's "is this tensor quantized at all": a 2-D or 3-D tensor whose
 * name ends in "weight", not a norm ("_norm.weight") and not the MoE router
 * ("ffn_gate_inp.weight"). Everything else keeps its source type (F32). */
bool dc_mix_is_quantizable(const char *name, int n_dims);

/* Whether llama.cpp counts name into n_attention_wv (attn_v, attn_qkv,
 * attn_kv_b): pass the count of such tensors as dc_mix_model.n_attn_v. */
bool dc_mix_counts_as_attn_v(const char *name);

/* type when ne0 is a multiple of its block size, else llama.cpp's fallback
 * (see above); F16 when even that does not fit. */
dc_type dc_mix_fallback(dc_type type, int64_t ne0);

/* The type of one quantizable tensor (ne innermost first, n_dims entries).
 * base is the mix's default type for DC_MIX_Q4_K_M (Q4_K) and the single
 * type for DC_MIX_NONE. Updates st. The result always fits ne[0]. */
dc_type dc_mix_tensor_type(dc_mix mix, dc_type base, const dc_mix_model *m,
                           dc_mix_state *st, const char *name, int n_dims,
                           const int64_t *ne);

/* llama.cpp's general.file_type (llama_ftype) for a mix, or for a single
 * base type with DC_MIX_NONE; -1 when it has none (F8_E4M3_B128, Q8_1...). */
int32_t dc_mix_file_type(dc_mix mix, dc_type base);

#endif /* DEEPC_QUANTIZE_MIX_H */
