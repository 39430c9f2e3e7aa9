/*
 * mix.c - llama.cpp's per-tensor quantization rules (see mix.h).
 *
 * Read from llama.cpp's src/llama-quant.cpp (llama_tensor_get_type and the
 * "quantize" filter of llama_model_quantize_impl), restricted to what deepc
 * models hold. For Q4_K_M, with use_more_bits(i, n) = i < n/8 || i >= 7n/8 ||
 * (i - n/8) % 3 == 2:
 *
 *   output.weight (token_embd when tied)  Q6_K (Q8_0 if ne0 % 256)
 *   attn_v.weight                         Q6_K if use_more_bits(i_attn_v, n_attn_v)
 *   attn_qkv.weight                       Q5_K
 *   ffn_down* (dense, _exps, _shexp)      Q6_K if use_more_bits(layer, n_layer)
 *   n_expert == 8: attn_v, attn_k Q8_0; attn_output Q5_K
 *   everything else                       Q4_K
 *
 * Two places where spec/fp8-gguf.md §2.6 reads differently and the source
 * wins: attn_kv_b (legacy MLA) only counts into n_attn_v, its own type is
 * the default Q4_K (the rule matches the substring "attn_v.weight", which
 * attn_kv_b.weight and attn_v_b.weight do not contain); attn_qkv is Q5_K.
 * Substring matches are kept as in the source ("ffn_down" covers _exps and
 * _shexp). The file type ids are llama.cpp's llama_ftype values.
 */
#include "mix.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool dc_mix_from_name(const char *name, dc_mix *out) {
    if (!strcasecmp(name, "none")) *out = DC_MIX_NONE;
    else if (!strcasecmp(name, "q4_k_m")) *out = DC_MIX_Q4_K_M;
    else return false;
    return true;
}

const char *dc_mix_name(dc_mix mix) {
    return mix == DC_MIX_Q4_K_M ? "q4_k_m" : "none";
}

static bool has(const char *name, const char *part) {
    return strstr(name, part) != NULL;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !memcmp(s + n - m, suffix, m);
}

bool dc_mix_is_quantizable(const char *name, int n_dims) {
    return n_dims >= 2 && ends_with(name, "weight") && !has(name, "_norm.weight") &&
           !has(name, "ffn_gate_inp.weight");
}

bool dc_mix_counts_as_attn_v(const char *name) {
    return has(name, "attn_v.weight") || has(name, "attn_qkv.weight") ||
           has(name, "attn_kv_b.weight");
}

dc_type dc_mix_fallback(dc_type type, int64_t ne0) {
    if (ne0 % dc_type_block_size(type) == 0) return type;
    dc_type t;
    switch (type) {
    case DC_TYPE_Q2_K:
    case DC_TYPE_Q3_K: t = DC_TYPE_Q4_0; break;   /* ggml: IQ4_NL, which deepc lacks */
    case DC_TYPE_Q4_K: t = DC_TYPE_Q5_0; break;
    case DC_TYPE_Q5_K: t = DC_TYPE_Q5_1; break;
    case DC_TYPE_Q6_K: t = DC_TYPE_Q8_0; break;
    default:           t = DC_TYPE_F16;  break;
    }
    return ne0 % dc_type_block_size(t) == 0 ? t : DC_TYPE_F16;
}

static bool use_more_bits(int32_t i, int32_t n) {
    return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

/* Layer of an ffn_down tensor: parsed from "blk.N." in MoE models (llama.cpp's
 * layer_info), the running count in dense ones. */
static int32_t ffn_down_layer(const dc_mix_model *m, const dc_mix_state *st, const char *name) {
    int layer;
    if (m->n_expert > 1 && sscanf(name, "blk.%d.", &layer) == 1) return layer;
    return st->i_ffn_down;
}

static dc_type q4_k_m_type(const dc_mix_model *m, dc_mix_state *st, const char *name) {
    dc_type t = DC_TYPE_Q4_K;
    if (!strcmp(name, "output.weight") || (!m->has_output && !strcmp(name, "token_embd.weight"))) {
        t = DC_TYPE_Q6_K;   /* Q8_0 when ne0 % 256: the fallback gives the same */
    } else if (has(name, "attn_v.weight")) {
        if (use_more_bits(st->i_attn_v, m->n_attn_v)) t = DC_TYPE_Q6_K;
        if (m->n_expert == 8) t = DC_TYPE_Q8_0;
        st->i_attn_v++;
    } else if (has(name, "attn_k.weight")) {
        if (m->n_expert == 8) t = DC_TYPE_Q8_0;
    } else if (has(name, "ffn_down")) {
        if (use_more_bits(ffn_down_layer(m, st, name), m->n_layer)) t = DC_TYPE_Q6_K;
        st->i_ffn_down++;
    } else if (has(name, "attn_output.weight")) {
        if (m->n_expert == 8) t = DC_TYPE_Q5_K;
    } else if (has(name, "attn_qkv.weight")) {
        t = DC_TYPE_Q5_K;
    }
    return t;
}

dc_type dc_mix_tensor_type(dc_mix mix, dc_type base, const dc_mix_model *m,
                           dc_mix_state *st, const char *name, int n_dims,
                           const int64_t *ne) {
    (void)n_dims;
    dc_type t = mix == DC_MIX_Q4_K_M ? q4_k_m_type(m, st, name) : base;
    return dc_mix_fallback(t, ne[0]);
}

int32_t dc_mix_file_type(dc_mix mix, dc_type base) {
    if (mix == DC_MIX_Q4_K_M) return 15;
    switch (base) {
    case DC_TYPE_F32:  return 0;
    case DC_TYPE_F16:  return 1;
    case DC_TYPE_Q4_0: return 2;
    case DC_TYPE_Q4_1: return 3;
    case DC_TYPE_Q8_0: return 7;
    case DC_TYPE_Q5_0: return 8;
    case DC_TYPE_Q5_1: return 9;
    case DC_TYPE_Q2_K: return 10;
    case DC_TYPE_Q3_K: return 11;   /* MOSTLY_Q3_K_S, the nearest ftype */
    case DC_TYPE_Q4_K: return 14;   /* MOSTLY_Q4_K_S */
    case DC_TYPE_Q5_K: return 16;   /* MOSTLY_Q5_K_S */
    case DC_TYPE_Q6_K: return 18;
    case DC_TYPE_BF16: return 32;
    default:           return -1;
    }
}
