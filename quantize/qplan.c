/*
 * qplan.c - target parsing, overrides and per-tensor type choice (see
 * qplan.h for the rules).
 *
 * The Q4_K_M counters (attn_v, ffn_down) advance on every quantizable tensor
 * whatever an override then picks, so an override changes one tensor and not
 * its neighbours' types. Globs are fnmatch(3) without flags: '*' also
 * matches dots, so "blk.*.ffn_down_exps.weight" covers every layer.
 */
#include "qplan.h"

#include "qutil.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool dc_q_type_storable(dc_type t) {
    return dc_type_name(t) != NULL && t != DC_TYPE_Q8_K && t != DC_TYPE_Q8_1 &&
           t != DC_TYPE_I8 && t != DC_TYPE_I16 && t != DC_TYPE_I32 && t != DC_TYPE_I64 &&
           t != DC_TYPE_F64;
}

static dc_status type_from_name(const char *name, dc_type *out) {
    if (dc_type_from_name(name, out) != DC_OK || !dc_q_type_storable(*out))
        return dc_q_error(DC_ERR_INVALID_ARG, "unknown or unusable type \"%s\" (want F32 F16 "
                          "BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K Q4_K Q5_K Q6_K "
                          "F8_E4M3_B128)", name);
    return DC_OK;
}

dc_status dc_q_plan_set_target(dc_q_plan *p, const char *name) {
    if (!strcasecmp(name, "Q4_K_M")) {
        p->scheme = DC_Q_Q4_K_M;
    } else if (!strcasecmp(name, "MOE_Q4")) {
        p->scheme = DC_Q_MOE_Q4;
    } else if (!strcasecmp(name, "KEEP")) {
        p->scheme = DC_Q_KEEP;
    } else {
        dc_status st = type_from_name(name, &p->base);
        if (st != DC_OK) return dc_q_error_prefix(st, "target (also Q4_K_M, MOE_Q4)");
        p->scheme = DC_Q_SINGLE;
    }
    return DC_OK;
}

dc_status dc_q_plan_add_override(dc_q_plan *p, const char *arg) {
    const char *eq = strrchr(arg, '=');
    if (!eq || eq == arg || !eq[1])
        return dc_q_error(DC_ERR_INVALID_ARG, "--type '%s': want PATTERN=TYPE", arg);
    dc_type t;
    dc_status st = type_from_name(eq + 1, &t);
    if (st != DC_OK) return dc_q_error_prefix(st, "--type '%s'", arg);
    dc_q_override *ov = realloc(p->ov, (size_t)(p->n_ov + 1) * sizeof *ov);
    if (!ov) return dc_q_error(DC_ERR_NOMEM, "out of memory");
    p->ov = ov;
    char *pat = strndup(arg, (size_t)(eq - arg));
    if (!pat) return dc_q_error(DC_ERR_NOMEM, "out of memory");
    p->ov[p->n_ov++] = (dc_q_override){ .pattern = pat, .type = t };
    return DC_OK;
}

void dc_q_plan_free(dc_q_plan *p) {
    for (int i = 0; i < p->n_ov; i++) free(p->ov[i].pattern);
    free(p->ov);
    p->ov = NULL;
    p->n_ov = 0;
}

const char *dc_q_plan_name(const dc_q_plan *p) {
    switch (p->scheme) {
    case DC_Q_KEEP:   return "KEEP";
    case DC_Q_Q4_K_M: return "Q4_K_M";
    case DC_Q_MOE_Q4: return p->moe_attn_fp8 ? "MOE_Q4+fp8" : "MOE_Q4";
    case DC_Q_SINGLE: break;
    }
    return dc_type_name(p->base);
}

/* ---- per-tensor rules -------------------------------------------------------------- */

static bool has(const char *s, const char *part) { return strstr(s, part) != NULL; }

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !memcmp(s + n - m, suffix, m);
}

bool dc_q_keep_f32(const char *name, int n_dims) {
    return n_dims < 2 || !ends_with(name, "weight") || has(name, "_norm.weight") ||
           has(name, "ffn_gate_inp") || has(name, "exp_probs_b") || has(name, "rope_freqs");
}

dc_type dc_q_fallback(dc_type t, int64_t ne0) {
    if (ne0 % dc_type_block_size(t) == 0) return t;
    if (t != DC_TYPE_F8_E4M3_B128) return dc_mix_fallback(t, ne0);
    return DC_TYPE_BF16;   /* block 1: fits every row */
}

static dc_type moe_q4_type(const dc_q_plan *p, const char *name, int64_t ne0) {
    if (has(name, "_exps.")) return DC_TYPE_Q4_K;
    if (!strcmp(name, "output.weight") || ends_with(name, "nextn.shared_head_head.weight"))
        return DC_TYPE_Q6_K;
    if (!strcmp(name, "token_embd.weight") || ends_with(name, "nextn.embed_tokens.weight"))
        return DC_TYPE_Q8_0;
    /* FP8 rows must be 128-multiples; shorter ones (k_b of small models) take
     * the mix's other attention type rather than BF16 */
    return p->moe_attn_fp8 && ne0 % 128 == 0 ? DC_TYPE_F8_E4M3_B128 : DC_TYPE_Q8_0;
}

dc_type dc_q_plan_type(const dc_q_plan *p, const dc_mix_model *m, dc_mix_state *st,
                       const char *name, int n_dims, const int64_t *ne, dc_type keep,
                       bool *fell_back) {
    if (fell_back) *fell_back = false;
    if (dc_q_keep_f32(name, n_dims)) return DC_TYPE_F32;
    dc_type t;
    switch (p->scheme) {
    case DC_Q_Q4_K_M:
        t = dc_mix_tensor_type(DC_MIX_Q4_K_M, DC_TYPE_Q4_K, m, st, name, n_dims, ne);
        break;
    case DC_Q_MOE_Q4: t = moe_q4_type(p, name, ne[0]); break;
    case DC_Q_SINGLE: t = p->base; break;
    default:          t = keep; break;
    }
    for (int i = 0; i < p->n_ov; i++)
        if (fnmatch(p->ov[i].pattern, name, 0) == 0) t = p->ov[i].type;
    dc_type f = dc_q_fallback(t, ne[0]);
    if (fell_back) *fell_back = f != t;
    return f;
}

int32_t dc_q_plan_file_type(const dc_q_plan *p, dc_type dominant) {
    switch (p->scheme) {
    case DC_Q_Q4_K_M: return 15;
    case DC_Q_MOE_Q4: return p->moe_attn_fp8 ? DC_Q_FTYPE_MOE_Q4_FP8 : DC_Q_FTYPE_MOE_Q4;
    case DC_Q_SINGLE: dominant = p->base; break;
    case DC_Q_KEEP:   break;
    }
    if (dominant == DC_TYPE_F8_E4M3_B128) return DC_Q_FTYPE_F8_E4M3_B128;
    return dc_mix_file_type(DC_MIX_NONE, dominant);
}
