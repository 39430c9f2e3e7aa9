/*
 * qplan.h - which type each tensor gets in deepc-quantize's output: the
 * target (one type, a mix, or "keep the source precision"), per-tensor
 * overrides and the row-length fallbacks.
 *
 * Targets:
 *   a type   F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K F8_E4M3_B128 (and the
 *            other weight types deepc quantizes: Q4_1 Q5_0 Q5_1 Q2_K Q3_K)
 *   Q4_K_M   llama.cpp's mix (quantize/mix.c)
 *   MOE_Q4   deepc's mix for MoE models: routed experts (*_exps) Q4_K;
 *            attention, shared experts, dense FFNs, nextn.eh_proj Q8_0
 *            (F8_E4M3_B128 with moe_attn_fp8, Q8_0 for rows that are not
 *            128-multiples); token_embd and
 *            nextn.embed_tokens Q8_0; output and nextn.shared_head_head Q6_K
 *   KEEP     (--from-hf without a type) every weight keeps its checkpoint
 *            precision: FP8 -> F8_E4M3_B128, BF16, F16, F32 unchanged
 * Never quantized, always F32 (the runtime requires it): 1-D tensors,
 * names not ending in "weight", norms (*_norm.weight, and the 1-D nextn
 * enorm / hnorm), the router (ffn_gate_inp), its bias (exp_probs_b),
 * rope_freqs. Overrides ("PATTERN=TYPE", fnmatch globs on the GGUF name,
 * the last match wins) apply to the other tensors only.
 * A type whose block does not divide the row length ne[0] falls back:
 * Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0 (llama.cpp's rule), F8_E4M3_B128
 * -> BF16, then F16 when even that does not fit.
 *
 * general.file_type: llama.cpp's llama_ftype numbers (F32 0, F16 1, Q4_0 2,
 * Q8_0 7, Q4_K_M 15, Q6_K 18, BF16 32, ...) and deepc's own, from 1024 up so
 * they never meet llama.cpp's: DC_Q_FTYPE_* below.
 */
#ifndef DEEPC_QUANTIZE_QPLAN_H
#define DEEPC_QUANTIZE_QPLAN_H

#include "mix.h"

/* deepc's general.file_type values (llama.cpp's end far below 1024). */
#define DC_Q_FTYPE_F8_E4M3_B128 1024   /* mostly F8_E4M3_B128              */
#define DC_Q_FTYPE_MOE_Q4       1025   /* MOE_Q4, attention Q8_0           */
#define DC_Q_FTYPE_MOE_Q4_FP8   1026   /* MOE_Q4, attention F8_E4M3_B128   */

typedef enum dc_q_scheme {
    DC_Q_KEEP   = 0,
    DC_Q_SINGLE = 1,
    DC_Q_Q4_K_M = 2,
    DC_Q_MOE_Q4 = 3
} dc_q_scheme;

typedef struct dc_q_override {
    char   *pattern;   /* fnmatch glob, malloc'ed */
    dc_type type;
} dc_q_override;

typedef struct dc_q_plan {
    dc_q_scheme    scheme;
    dc_type        base;          /* DC_Q_SINGLE: the type                  */
    bool           moe_attn_fp8;  /* DC_Q_MOE_Q4: attention in F8_E4M3_B128 */
    dc_q_override *ov;            /* [n_ov], in command-line order          */
    int            n_ov;
} dc_q_plan;

/* A zeroed plan is DC_Q_KEEP with no overrides. Set the target from a name
 * ("Q4_K_M", "MOE_Q4" or a type name, case-insensitive): DC_ERR_INVALID_ARG
 * with a message for other names. */
dc_status dc_q_plan_set_target(dc_q_plan *p, const char *name);
/* Add "PATTERN=TYPE". */
dc_status dc_q_plan_add_override(dc_q_plan *p, const char *arg);
void      dc_q_plan_free(dc_q_plan *p);   /* frees the overrides */
/* "Q4_K_M", "MOE_Q4", "MOE_Q4+fp8", "KEEP" or the type name. */
const char *dc_q_plan_name(const dc_q_plan *p);

/* A weight type deepc can quantize rows into (not Q8_K, Q8_1, integers). */
bool dc_q_type_storable(dc_type t);
/* The runtime keeps this tensor in F32: see above. */
bool dc_q_keep_f32(const char *name, int n_dims);
/* t if ne0 is a multiple of its block, else the fallback chain above. */
dc_type dc_q_fallback(dc_type t, int64_t ne0);

/* The type of one tensor. m and st as for dc_mix_tensor_type (counters run in
 * file order); keep is the source precision (DC_Q_KEEP). *fell_back (if not
 * NULL) is set when the chosen type did not fit ne[0] and a fallback was
 * taken (Q4_K_M's own fallbacks are part of the mix and not reported). */
dc_type dc_q_plan_type(const dc_q_plan *p, const dc_mix_model *m, dc_mix_state *st,
                       const char *name, int n_dims, const int64_t *ne, dc_type keep,
                       bool *fell_back);

/* general.file_type for the plan; dominant is the most common weight type
 * written (used by DC_Q_KEEP). -1 when there is none to write. */
int32_t dc_q_plan_file_type(const dc_q_plan *p, dc_type dominant);

#endif /* DEEPC_QUANTIZE_QPLAN_H */
