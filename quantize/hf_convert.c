/*
 * hf_convert.c - Hugging Face checkpoint -> GGUF (dc_q_convert_hf).
 *
 * First a plan: every GGUF tensor deepc writes, with its shape (ggml order:
 * torch [out, in] becomes ne {in, out}) and how its rows come from the
 * checkpoint (spec/deepseek-arch.md §5):
 *   rows     row r is source row r (most tensors; 1-D ones are one row)
 *   perm     llama q/k: within each head, HF's rotate-half pairs (i, i+hd/2)
 *            become adjacent pairs (2i, 2i+1) for NORM rope: output row 2i is
 *            source row i, 2i+1 is source row i + hd/2
 *   k_b      kv_b_proj [H*(dn+dv), kv_lora] split per head, k part transposed:
 *            k_b[d + dn*c + dn*kv_lora*h] = W[h*(dn+dv) + d, c]  (§2.6)
 *   v_b      v_b[c + kv_lora*e + kv_lora*dv*h] = W[h*(dn+dv) + dn + e, c]
 *   experts  mlp.experts.E.*_proj stacked: expert e is rows e*ne1.. (§3.5)
 * Every checkpoint tensor must be used (or be a known leftover such as
 * rotary_emb.inv_freq, or an MTP tensor left out on request); shapes and
 * dtypes are checked before anything is written. MTP layers
 * (model.layers.{num_hidden_layers + k}) keep their blk.N.* block names, and
 * their own parts become blk.N.nextn.{eh_proj, enorm, hnorm,
 * shared_head_norm, shared_head_head, embed_tokens} (§4).
 *
 * Then streaming, one GGUF tensor at a time, row by row (qconvert.c):
 *   FP8 (F8_E4M3 + weight_scale_inv, W = e4m3 * scale per 128x128 tile) to
 *   F8_E4M3_B128: each 128-block of an output row whose elements share one
 *   tile scale is copied bit for bit with that scale (always the case for
 *   plain rows of 128-aligned tiles); a block that straddles tiles (a k_b
 *   gather across tile rows) is dequantized and requantized, the only lossy
 *   case. Any other target: dequantized to f32 (e4m3 * scale_inv, one f32
 *   multiply), then quantized. BF16 / F16 to the same type: copied.
 * Memory: one chunk of rows plus the metadata; checkpoint pages are released
 * behind the converter (dc_st_release), so the resident size stays bounded
 * by a chunk, not the checkpoint, and no BF16 copy of the model is made.
 * Assumes a little-endian host, as safetensors and GGUF are.
 */
#include "quantize.h"

#include "hf.h"
#include "qconvert.h"
#include "safetensors.h"

#include <deepc/tokenizer.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- the plan ----------------------------------------------------------------- */

/* One checkpoint tensor seen as a matrix [rows, cols] (1-D: one row). */
typedef struct hsrc {
    const dc_st_tensor *w;
    const dc_st_tensor *s;      /* FP8: weight_scale_inv [ceil(rows/bo), ceil(cols/bi)] */
    int64_t             rows, cols;
    int64_t             bo, bi; /* FP8 tile                                   */
    const float        *lut;    /* e4m3 code -> f32 [256]                      */
} hsrc;

typedef enum omap { OM_ROWS, OM_PERM, OM_KB, OM_VB, OM_EXPERTS, OM_ROPE_FREQS } omap;

typedef struct otensor {
    char    name[DC_MAX_NAME];
    int     n_dims;
    int64_t ne[3];
    omap    map;
    hsrc   *src;                /* [n_src]: one, or ne[2] for OM_EXPERTS     */
    int64_t n_src;
    int64_t dn, dv, kv, hd;     /* OM_KB / OM_VB dims; OM_PERM head size     */
    dc_type keep;               /* the source precision                      */
    dc_type type;               /* chosen                                    */
} otensor;

typedef struct builder {
    const dc_hf_config *c;
    const dc_st_model  *m;
    const float        *lut;
    bool               *used;   /* [model tensors]                           */
    otensor            *v;
    size_t              n, cap;
    dc_status           st;     /* first error                               */
} builder;

static int64_t model_index(const dc_st_model *m, const char *name) {
    int64_t lo = 0, hi = dc_st_model_n_tensors(m) - 1;
    while (lo <= hi) {
        int64_t mid = lo + (hi - lo) / 2;
        int c = strcmp(dc_st_model_get(m, mid)->name, name);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

static dc_type keep_type(dc_st_dtype d) {
    switch (d) {
    case DC_ST_F8_E4M3: return DC_TYPE_F8_E4M3_B128;
    case DC_ST_BF16:    return DC_TYPE_BF16;
    case DC_ST_F16:     return DC_TYPE_F16;
    default:            return DC_TYPE_F32;
    }
}

/* The scale of an FP8 weight: name + "_scale_inv", F32 [ceil(r/bo), ceil(c/bi)]. */
static dc_status find_scale(builder *b, hsrc *s) {
    char sname[4200];
    snprintf(sname, sizeof sname, "%s_scale_inv", s->w->name);
    int64_t i = model_index(b->m, sname);
    if (i < 0)
        return dc_q_error(DC_ERR_FORMAT, "tensor %s: F8_E4M3 without %s", s->w->name, sname);
    const dc_st_tensor *t = dc_st_model_get(b->m, i);
    int64_t want0 = (s->rows + s->bo - 1) / s->bo, want1 = (s->cols + s->bi - 1) / s->bi;
    if (t->dtype != DC_ST_F32 || t->n_dims != 2 || t->shape[0] != want0 || t->shape[1] != want1)
        return dc_q_error(DC_ERR_FORMAT, "tensor %s: %s [%lld, %lld] (%d-D), want F32 [%lld, %lld]",
                          sname, dc_st_dtype_name(t->dtype), (long long)t->shape[0],
                          (long long)t->shape[1], t->n_dims, (long long)want0, (long long)want1);
    b->used[i] = true;
    s->s = t;
    return DC_OK;
}

/* Look up HF tensor `name` of torch shape [rows, cols] (cols 0: 1-D [rows]).
 * false (and *s untouched) when absent and !required. */
static bool src_get(builder *b, hsrc *s, const char *name, int64_t rows, int64_t cols,
                    bool required) {
    if (b->st != DC_OK) return false;
    int64_t i = model_index(b->m, name);
    if (i < 0) {
        if (required) b->st = dc_q_error(DC_ERR_FORMAT, "tensor %s is missing", name);
        return false;
    }
    const dc_st_tensor *t = dc_st_model_get(b->m, i);
    int nd = cols ? 2 : 1;
    if (t->n_dims != nd || t->shape[0] != rows || (cols && t->shape[1] != cols)) {
        char want[64], have[160];
        if (cols) snprintf(want, sizeof want, "[%lld, %lld]", (long long)rows, (long long)cols);
        else snprintf(want, sizeof want, "[%lld]", (long long)rows);
        int o = snprintf(have, sizeof have, "[");
        for (int d = 0; d < t->n_dims; d++)
            o += snprintf(have + o, sizeof have - (size_t)o, "%s%lld", d ? ", " : "",
                          (long long)t->shape[d]);
        snprintf(have + o, sizeof have - (size_t)o, "]");
        b->st = dc_q_error(DC_ERR_SHAPE, "tensor %s: shape %s, want %s", name, have, want);
        return false;
    }
    if (t->dtype != DC_ST_F32 && t->dtype != DC_ST_F16 && t->dtype != DC_ST_BF16 &&
        t->dtype != DC_ST_F8_E4M3) {
        b->st = dc_q_error(DC_ERR_TYPE, "tensor %s: dtype %s (want F32, F16, BF16, F8_E4M3)",
                           name, dc_st_dtype_name(t->dtype));
        return false;
    }
    *s = (hsrc){ .w = t, .rows = cols ? rows : 1, .cols = cols ? cols : rows,
                 .bo = b->c->block_out, .bi = b->c->block_in, .lut = b->lut };
    b->used[i] = true;
    if (t->dtype == DC_ST_F8_E4M3 && (b->st = find_scale(b, s)) != DC_OK) return false;
    return true;
}

static otensor *add_out(builder *b, omap map, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                        int64_t n_src, const char *fmt, ...) DC_Q_PRINTF(8, 9);

static otensor *add_out(builder *b, omap map, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                        int64_t n_src, const char *fmt, ...) {
    if (b->st != DC_OK) return NULL;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 256;
        otensor *v = realloc(b->v, cap * sizeof *v);
        if (!v) {
            b->st = dc_q_error(DC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        b->v = v;
        b->cap = cap;
    }
    otensor *t = &b->v[b->n];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->map = map;
    t->n_dims = n_dims;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = ne2;
    t->src = calloc((size_t)(n_src ? n_src : 1), sizeof *t->src);
    if (!t->src) {
        b->st = dc_q_error(DC_ERR_NOMEM, "out of memory");
        return NULL;
    }
    t->n_src = n_src;
    b->n++;
    return t;
}

static void drop_last(builder *b) {
    free(b->v[b->n - 1].src);
    b->n--;
}

/* GGUF `gname` = HF `hname` row for row: torch [ne1, ne0], or [ne0] when
 * ne1 == 0 (a 1-D GGUF tensor). Absent and optional: nothing is added. */
static void map_plain(builder *b, const char *gname, const char *hname, int64_t ne0, int64_t ne1,
                      bool required) {
    otensor *t = add_out(b, OM_ROWS, ne1 ? 2 : 1, ne0, ne1 ? ne1 : 1, 1, 1, "%s", gname);
    if (!t) return;
    if (!src_get(b, &t->src[0], hname, ne1 ? ne1 : ne0, ne1 ? ne0 : 0, required)) {
        drop_last(b);
        return;
    }
    t->keep = keep_type(t->src[0].w->dtype);
}

/* llama q_proj / k_proj [n_head * hd, ne0] with the rotate-half rows permuted. */
static void map_perm(builder *b, const char *gname, const char *hname, int64_t ne0,
                     int64_t n_head, int64_t hd) {
    otensor *t = add_out(b, OM_PERM, 2, ne0, n_head * hd, 1, 1, "%s", gname);
    if (!t) return;
    if (!src_get(b, &t->src[0], hname, n_head * hd, ne0, true)) return;
    t->hd = hd;
    t->keep = keep_type(t->src[0].w->dtype);
}

/* kv_b_proj -> attn_k_b {dn, kv, H} + attn_v_b {kv, dv, H}. */
static void map_kv_b(builder *b, int il, const char *hname) {
    const dc_hf_config *c = b->c;
    const int64_t H = c->n_head, dn = c->d_nope, dv = c->d_v, kv = c->kv_lora;
    hsrc s;
    if (!src_get(b, &s, hname, H * (dn + dv), kv, true)) return;
    otensor *k = add_out(b, OM_KB, 3, dn, kv, H, 1, "blk.%d.attn_k_b.weight", il);
    if (!k) return;
    k->src[0] = s;
    k->dn = dn; k->dv = dv; k->kv = kv;
    k->keep = keep_type(s.w->dtype);
    otensor *v = add_out(b, OM_VB, 3, kv, dv, H, 1, "blk.%d.attn_v_b.weight", il);
    if (!v) return;
    v->src[0] = s;
    v->dn = dn; v->dv = dv; v->kv = kv;
    v->keep = k->keep;
}

/* Routed experts "<prefix>.mlp.experts.E.<proj>.weight" [ne1, ne0] each,
 * stacked into {ne0, ne1, n_expert}. */
static void map_experts(builder *b, const char *gname, const char *prefix, const char *proj,
                        int64_t ne0, int64_t ne1) {
    const int64_t N = b->c->n_expert;
    otensor *t = add_out(b, OM_EXPERTS, 3, ne0, ne1, N, N, "%s", gname);
    char name[256];
    for (int64_t e = 0; t && e < N; e++) {
        snprintf(name, sizeof name, "%smlp.experts.%lld.%s.weight", prefix, (long long)e, proj);
        if (!src_get(b, &t->src[e], name, ne1, ne0, true)) return;
        if (e > 0 && t->src[e].w->dtype != t->src[0].w->dtype)
            b->st = dc_q_error(DC_ERR_TYPE, "tensor %s: dtype %s differs from expert 0's %s",
                               name, dc_st_dtype_name(t->src[e].w->dtype),
                               dc_st_dtype_name(t->src[0].w->dtype));
    }
    if (t && b->st == DC_OK) t->keep = keep_type(t->src[0].w->dtype);
}

/* ---- architectures -------------------------------------------------------------- */

#define G(...) (snprintf(g, sizeof g, __VA_ARGS__), g)
#define H(...) (snprintf(h, sizeof h, __VA_ARGS__), h)

static void ds_attention(builder *b, int il) {
    const dc_hf_config *c = b->c;
    const int64_t E = c->n_embd, Hd = c->n_head * (c->d_nope + c->d_rope);
    char g[DC_MAX_NAME], h[256];
    map_plain(b, G("blk.%d.attn_norm.weight", il), H("model.layers.%d.input_layernorm.weight", il), E, 0, true);
    if (c->q_lora > 0) {
        map_plain(b, G("blk.%d.attn_q_a.weight", il), H("model.layers.%d.self_attn.q_a_proj.weight", il), E, c->q_lora, true);
        map_plain(b, G("blk.%d.attn_q_a_norm.weight", il), H("model.layers.%d.self_attn.q_a_layernorm.weight", il), c->q_lora, 0, true);
        map_plain(b, G("blk.%d.attn_q_b.weight", il), H("model.layers.%d.self_attn.q_b_proj.weight", il), c->q_lora, Hd, true);
    } else {
        map_plain(b, G("blk.%d.attn_q.weight", il), H("model.layers.%d.self_attn.q_proj.weight", il), E, Hd, true);
    }
    map_plain(b, G("blk.%d.attn_kv_a_mqa.weight", il), H("model.layers.%d.self_attn.kv_a_proj_with_mqa.weight", il), E, c->kv_lora + c->d_rope, true);
    map_plain(b, G("blk.%d.attn_kv_a_norm.weight", il), H("model.layers.%d.self_attn.kv_a_layernorm.weight", il), c->kv_lora, 0, true);
    map_kv_b(b, il, H("model.layers.%d.self_attn.kv_b_proj.weight", il));
    map_plain(b, G("blk.%d.attn_output.weight", il), H("model.layers.%d.self_attn.o_proj.weight", il), c->n_head * c->d_v, E, true);
}

static void ds_ffn(builder *b, int il) {
    const dc_hf_config *c = b->c;
    const int64_t E = c->n_embd, F = c->n_ff_exp, S = c->n_ff_exp * c->n_shared;
    char g[DC_MAX_NAME], h[256], p[64];
    snprintf(p, sizeof p, "model.layers.%d.", il);
    map_plain(b, G("blk.%d.ffn_norm.weight", il), H("%spost_attention_layernorm.weight", p), E, 0, true);
    if (il < c->n_dense) {
        map_plain(b, G("blk.%d.ffn_gate.weight", il), H("%smlp.gate_proj.weight", p), E, c->n_ff, true);
        map_plain(b, G("blk.%d.ffn_up.weight", il), H("%smlp.up_proj.weight", p), E, c->n_ff, true);
        map_plain(b, G("blk.%d.ffn_down.weight", il), H("%smlp.down_proj.weight", p), c->n_ff, E, true);
        return;
    }
    map_plain(b, G("blk.%d.ffn_gate_inp.weight", il), H("%smlp.gate.weight", p), E, c->n_expert, true);
    map_plain(b, G("blk.%d.exp_probs_b.bias", il), H("%smlp.gate.e_score_correction_bias", p), c->n_expert, 0, false);
    map_experts(b, G("blk.%d.ffn_gate_exps.weight", il), p, "gate_proj", E, F);
    map_experts(b, G("blk.%d.ffn_up_exps.weight", il), p, "up_proj", E, F);
    map_experts(b, G("blk.%d.ffn_down_exps.weight", il), p, "down_proj", F, E);
    if (S > 0) {
        map_plain(b, G("blk.%d.ffn_gate_shexp.weight", il), H("%smlp.shared_experts.gate_proj.weight", p), E, S, true);
        map_plain(b, G("blk.%d.ffn_up_shexp.weight", il), H("%smlp.shared_experts.up_proj.weight", p), E, S, true);
        map_plain(b, G("blk.%d.ffn_down_shexp.weight", il), H("%smlp.shared_experts.down_proj.weight", p), S, E, true);
    }
}

/* The MTP module's own parts (spec §4), after its block tensors. */
static void ds_nextn(builder *b, int il) {
    const dc_hf_config *c = b->c;
    const int64_t E = c->n_embd, V = c->n_vocab;
    char g[DC_MAX_NAME], h[256];
    map_plain(b, G("blk.%d.nextn.eh_proj.weight", il), H("model.layers.%d.eh_proj.weight", il), 2 * E, E, true);
    map_plain(b, G("blk.%d.nextn.enorm.weight", il), H("model.layers.%d.enorm.weight", il), E, 0, true);
    map_plain(b, G("blk.%d.nextn.hnorm.weight", il), H("model.layers.%d.hnorm.weight", il), E, 0, true);
    map_plain(b, G("blk.%d.nextn.shared_head_norm.weight", il), H("model.layers.%d.shared_head.norm.weight", il), E, 0, true);
    map_plain(b, G("blk.%d.nextn.shared_head_head.weight", il), H("model.layers.%d.shared_head.head.weight", il), E, V, true);
    map_plain(b, G("blk.%d.nextn.embed_tokens.weight", il), H("model.layers.%d.embed_tokens.weight", il), E, V, true);
}

static void dense_layer(builder *b, int il) {
    const dc_hf_config *c = b->c;
    const int64_t E = c->n_embd, hd = c->head_dim, Q = c->n_head * hd, KV = c->n_head_kv * hd;
    const bool llama = c->arch == DC_HF_LLAMA;
    char g[DC_MAX_NAME], h[256], p[64];
    snprintf(p, sizeof p, "model.layers.%d.", il);
    map_plain(b, G("blk.%d.attn_norm.weight", il), H("%sinput_layernorm.weight", p), E, 0, true);
    if (llama) {
        map_perm(b, G("blk.%d.attn_q.weight", il), H("%sself_attn.q_proj.weight", p), E, c->n_head, hd);
        map_perm(b, G("blk.%d.attn_k.weight", il), H("%sself_attn.k_proj.weight", p), E, c->n_head_kv, hd);
    } else {
        map_plain(b, G("blk.%d.attn_q.weight", il), H("%sself_attn.q_proj.weight", p), E, Q, true);
        map_plain(b, G("blk.%d.attn_k.weight", il), H("%sself_attn.k_proj.weight", p), E, KV, true);
    }
    map_plain(b, G("blk.%d.attn_v.weight", il), H("%sself_attn.v_proj.weight", p), E, KV, true);
    if (c->qkv_bias) {
        map_plain(b, G("blk.%d.attn_q.bias", il), H("%sself_attn.q_proj.bias", p), Q, 0, true);
        map_plain(b, G("blk.%d.attn_k.bias", il), H("%sself_attn.k_proj.bias", p), KV, 0, true);
        map_plain(b, G("blk.%d.attn_v.bias", il), H("%sself_attn.v_proj.bias", p), KV, 0, true);
    }
    map_plain(b, G("blk.%d.attn_output.weight", il), H("%sself_attn.o_proj.weight", p), Q, E, true);
    map_plain(b, G("blk.%d.ffn_norm.weight", il), H("%spost_attention_layernorm.weight", p), E, 0, true);
    map_plain(b, G("blk.%d.ffn_gate.weight", il), H("%smlp.gate_proj.weight", p), E, c->n_ff, true);
    map_plain(b, G("blk.%d.ffn_up.weight", il), H("%smlp.up_proj.weight", p), E, c->n_ff, true);
    map_plain(b, G("blk.%d.ffn_down.weight", il), H("%smlp.down_proj.weight", p), c->n_ff, E, true);
}

#undef G
#undef H

/* Whether the checkpoint holds MTP layer il (any "model.layers.<il>." tensor). */
static bool has_layer(const dc_st_model *m, int64_t il) {
    char p[64];
    int n = snprintf(p, sizeof p, "model.layers.%lld.", (long long)il);
    for (int64_t i = 0; i < dc_st_model_n_tensors(m); i++)
        if (!strncmp(dc_st_model_get(m, i)->name, p, (size_t)n)) return true;
    return false;
}

static void build_plan(builder *b, int64_t n_nextn) {
    const dc_hf_config *c = b->c;
    const int64_t E = c->n_embd, V = c->n_vocab;
    map_plain(b, "token_embd.weight", "model.embed_tokens.weight", E, V, true);
    if (c->rope == DC_HF_ROPE_LLAMA3) {
        otensor *t = add_out(b, OM_ROPE_FREQS, 1, c->head_dim / 2, 1, 1, 0, "rope_freqs.weight");
        if (t) t->keep = DC_TYPE_F32;
    }
    for (int il = 0; il < c->n_layer + n_nextn && b->st == DC_OK; il++) {
        if (c->arch == DC_HF_DEEPSEEK2) {
            ds_attention(b, il);
            ds_ffn(b, il);
            if (il >= c->n_layer) ds_nextn(b, il);
        } else {
            dense_layer(b, il);
        }
    }
    map_plain(b, "output_norm.weight", "model.norm.weight", E, 0, true);
    if (!c->tied) map_plain(b, "output.weight", "lm_head.weight", E, V, true);
}

/* Every checkpoint tensor is used, a known leftover, or an MTP tensor left out. */
static dc_status check_unused(const builder *b, bool skip_mtp) {
    static const char leftover[] = "rotary_emb.inv_freq";
    for (int64_t i = 0; i < dc_st_model_n_tensors(b->m); i++) {
        const char *name = dc_st_model_get(b->m, i)->name;
        size_t len = strlen(name), k = sizeof leftover - 1;
        if (b->used[i] || (len >= k && !strcmp(name + len - k, leftover))) continue;
        if (skip_mtp && !strncmp(name, "model.layers.", 13) &&
            strtoll(name + 13, NULL, 10) >= b->c->n_layer)
            continue;
        if (b->c->tied && !strcmp(name, "lm_head.weight")) continue;   /* a copy of the embedding */
        return dc_q_error(DC_ERR_FORMAT, "tensor %s: not part of a %s model (unknown tensor)",
                          name, b->c->hf_arch);
    }
    return DC_OK;
}

static void free_plan(builder *b) {
    for (size_t i = 0; i < b->n; i++) free(b->v[i].src);
    free(b->v);
    free(b->used);
}

/* ---- reading rows ------------------------------------------------------------------- */

/* Scale of the FP8 tile holding element (r, c). */
static float tile_scale(const hsrc *s, int64_t r, int64_t c) {
    size_t cols = (size_t)((s->cols + s->bi - 1) / s->bi);
    size_t i = (size_t)(r / s->bo) * cols + (size_t)(c / s->bi);
    float x;
    memcpy(&x, s->s->data + 4 * i, 4);
    return x;
}

/* Element (r, c) as f32 (source bytes may be unaligned: memcpy loads). */
static float load_one(const hsrc *s, int64_t r, int64_t c) {
    size_t i = (size_t)r * (size_t)s->cols + (size_t)c;
    const uint8_t *p = s->w->data;
    uint16_t h;
    float x;
    switch (s->w->dtype) {
    case DC_ST_F32:  memcpy(&x, p + 4 * i, 4); return x;
    case DC_ST_F16:  memcpy(&h, p + 2 * i, 2); return dc_fp16_to_fp32(h);
    case DC_ST_BF16: memcpy(&h, p + 2 * i, 2); return dc_bf16_to_fp32(h);
    default:         return s->lut[p[i]] * tile_scale(s, r, c);   /* e4m3 * scale_inv */
    }
}

/* n elements of row r from column c0. */
static void load_run(const hsrc *s, int64_t r, int64_t c0, int64_t n, float *x) {
    size_t i0 = (size_t)r * (size_t)s->cols + (size_t)c0;
    const uint8_t *p = s->w->data;
    uint16_t h;
    switch (s->w->dtype) {
    case DC_ST_F32:
        memcpy(x, p + 4 * i0, 4 * (size_t)n);
        return;
    case DC_ST_F16:
        for (int64_t k = 0; k < n; k++) {
            memcpy(&h, p + 2 * (i0 + (size_t)k), 2);
            x[k] = dc_fp16_to_fp32(h);
        }
        return;
    case DC_ST_BF16:
        for (int64_t k = 0; k < n; k++) {
            memcpy(&h, p + 2 * (i0 + (size_t)k), 2);
            x[k] = dc_bf16_to_fp32(h);
        }
        return;
    default:
        for (int64_t k = 0; k < n;) {   /* one tile's scale per stretch */
            int64_t c = c0 + k, end = ((c / s->bi) + 1) * s->bi - c0;
            float sc = tile_scale(s, r, c);
            if (end > n) end = n;
            for (; k < end; k++) x[k] = s->lut[p[i0 + (size_t)k]] * sc;
        }
        return;
    }
}

/* x[k] = W[r0 + k*dr, c0 + k*dc], k < n. */
static void load_f32(const hsrc *s, int64_t r0, int64_t c0, int64_t dr, int64_t dc, int64_t n,
                     float *x) {
    if (dr == 0 && dc == 1) {
        load_run(s, r0, c0, n, x);
        return;
    }
    for (int64_t k = 0; k < n; k++) x[k] = load_one(s, r0 + k * dr, c0 + k * dc);
}

/* One F8_E4M3_B128 block (f32 scale, 128 codes) from 128 FP8 elements:
 * bit for bit when they share a tile scale, else requantized. */
static void load_f8_block(const hsrc *s, int64_t r0, int64_t c0, int64_t dr, int64_t dc,
                          uint8_t *dst) {
    const uint8_t *p = s->w->data;
    if (dr == 0 && dc == 1 && c0 / s->bi == (c0 + 127) / s->bi) {
        float sc = tile_scale(s, r0, c0);
        memcpy(dst, &sc, 4);
        memcpy(dst + 4, p + (size_t)r0 * (size_t)s->cols + (size_t)c0, 128);
        return;
    }
    uint8_t codes[128];
    float sc[128];
    bool same = true;
    for (int k = 0; k < 128; k++) {
        int64_t r = r0 + k * dr, c = c0 + k * dc;
        codes[k] = p[(size_t)r * (size_t)s->cols + (size_t)c];
        sc[k] = tile_scale(s, r, c);
        same &= memcmp(&sc[k], &sc[0], sizeof sc[0]) == 0;
    }
    if (same) {
        memcpy(dst, &sc[0], 4);
        memcpy(dst + 4, codes, 128);
        return;
    }
    float x[128];
    for (int k = 0; k < 128; k++) x[k] = s->lut[codes[k]] * sc[k];
    dc_quantize_row(DC_TYPE_F8_E4M3_B128, x, dst, 128);
}

/* Where output row r comes from: x[k] = src[r0 + k*dr, c0 + k*dc]. */
typedef struct rowref {
    const hsrc *s;
    int64_t     r0, c0, dr, dc;
} rowref;

static rowref row_ref(const otensor *t, int64_t r) {
    switch (t->map) {
    case OM_PERM: {
        int64_t h = r / t->hd, j = r % t->hd;
        return (rowref){ &t->src[0], h * t->hd + (j & 1 ? t->hd / 2 + j / 2 : j / 2), 0, 0, 1 };
    }
    case OM_KB:
        return (rowref){ &t->src[0], (r / t->kv) * (t->dn + t->dv), r % t->kv, 1, 0 };
    case OM_VB:
        return (rowref){ &t->src[0], (r / t->dv) * (t->dn + t->dv) + t->dn + r % t->dv, 0, 0, 1 };
    case OM_EXPERTS:
        return (rowref){ &t->src[r / t->ne[1]], r % t->ne[1], 0, 0, 1 };
    default:
        return (rowref){ &t->src[0], r, 0, 0, 1 };
    }
}

typedef struct octx {
    const otensor      *t;
    const dc_hf_config *c;
} octx;

static void o_row_f32(void *ctx, int64_t r, float *dst) {
    const octx *o = ctx;
    if (o->t->map == OM_ROPE_FREQS) {
        dc_q_hf_rope_freqs(o->c, dst, o->t->ne[0]);
        return;
    }
    rowref f = row_ref(o->t, r);
    load_f32(f.s, f.r0, f.c0, f.dr, f.dc, o->t->ne[0], dst);
}

static bool o_row_raw(void *ctx, int64_t r, dc_type type, void *dst) {
    const octx *o = ctx;
    if (o->t->map == OM_ROPE_FREQS) return false;
    rowref f = row_ref(o->t, r);
    const dc_st_dtype d = f.s->w->dtype;
    const int64_t n = o->t->ne[0];
    if (type == DC_TYPE_F8_E4M3_B128 && d == DC_ST_F8_E4M3) {
        for (int64_t b = 0; b < n / 128; b++)
            load_f8_block(f.s, f.r0 + b * 128 * f.dr, f.c0 + b * 128 * f.dc, f.dr, f.dc,
                          (uint8_t *)dst + 132 * b);
        return true;
    }
    if (f.dr == 0 && f.dc == 1 &&
        ((type == DC_TYPE_BF16 && d == DC_ST_BF16) || (type == DC_TYPE_F16 && d == DC_ST_F16))) {
        memcpy(dst, f.s->w->data + 2 * ((size_t)f.r0 * (size_t)f.s->cols + (size_t)f.c0),
               2 * (size_t)n);
        return true;
    }
    return false;
}

static void release_rows(const hsrc *s, int64_t a, int64_t z) {
    size_t rb = (size_t)s->cols * dc_st_dtype_size(s->w->dtype);
    dc_st_release(s->w, (size_t)a * rb, (size_t)(z - a) * rb);
}

/* Rows [r0, r1) are done: give back the pages of plain and expert sources
 * (gathers and permutations are released when the tensor is done). */
static void o_release(void *ctx, int64_t r0, int64_t r1) {
    const otensor *t = ((const octx *)ctx)->t;
    if (t->map == OM_ROWS) {
        release_rows(&t->src[0], r0, r1);
    } else if (t->map == OM_EXPERTS) {
        const int64_t n1 = t->ne[1];
        for (int64_t e = r0 / n1; e <= (r1 - 1) / n1; e++) {
            int64_t a = r0 > e * n1 ? r0 - e * n1 : 0, z = r1 < (e + 1) * n1 ? r1 - e * n1 : n1;
            release_rows(&t->src[e], a, z);
        }
    }
}

static void release_all(const otensor *t) {
    for (int64_t i = 0; i < t->n_src; i++) {
        dc_st_release(t->src[i].w, 0, t->src[i].w->size);
        if (t->src[i].s) dc_st_release(t->src[i].s, 0, t->src[i].s->size);
    }
}

/* ---- conversion ------------------------------------------------------------------------- */

/* Types for the plan; *dominant = the type holding the most weight elements. */
static void choose_types(builder *b, const dc_q_params *p, int64_t n_nextn, dc_type *dominant,
                         bool *any_f8) {
    const dc_hf_config *c = b->c;
    dc_mix_model m = { .n_layer = (int32_t)(c->n_layer + n_nextn),
                       .n_expert = (int32_t)c->n_expert, .has_output = !c->tied };
    for (size_t i = 0; i < b->n; i++) m.n_attn_v += dc_mix_counts_as_attn_v(b->v[i].name);
    dc_mix_state ms = { 0 };
    uint64_t count[DC_TYPE_BF16 + 2] = { 0 };   /* last slot: F8_E4M3_B128 */
    *any_f8 = false;
    for (size_t i = 0; i < b->n; i++) {
        otensor *t = &b->v[i];
        bool fb = false;
        t->type = dc_q_plan_type(&p->plan, &m, &ms, t->name, t->n_dims, t->ne, t->keep, &fb);
        if (fb && p->log)
            fprintf(p->log, "note: %s: rows of %lld do not fit the type asked for; writing %s\n",
                    t->name, (long long)t->ne[0], dc_type_name(t->type));
        *any_f8 |= t->type == DC_TYPE_F8_E4M3_B128;
        if (dc_q_keep_f32(t->name, t->n_dims)) continue;
        int slot = t->type == DC_TYPE_F8_E4M3_B128 ? DC_TYPE_BF16 + 1 : (int)t->type;
        if (slot <= DC_TYPE_BF16 + 1) count[slot] += (uint64_t)(t->ne[0] * t->ne[1] * t->ne[2]);
    }
    int best = DC_TYPE_F32;
    for (int i = 0; i <= DC_TYPE_BF16 + 1; i++)
        if (count[i] > count[best]) best = i;
    *dominant = best == DC_TYPE_BF16 + 1 ? DC_TYPE_F8_E4M3_B128 : (dc_type)best;
}

static dc_status write_meta(dc_gguf_writer *w, const char *dir, const dc_hf_config *c,
                            const dc_q_params *p, int64_t n_nextn, dc_type dominant, bool any_f8) {
    dc_status st = dc_q_hf_write_keys(w, c, n_nextn, dc_q_plan_file_type(&p->plan, dominant));
    if (st == DC_OK && any_f8) st = dc_gguf_set_u32(w, "deepc.fp8.version", 1);
    if (st != DC_OK) return dc_q_error_lib(st, "metadata");
    char *tok = dc_q_path_join(dir, "tokenizer.json");
    if (!tok) return dc_q_error(DC_ERR_NOMEM, "out of memory");
    bool have = dc_q_file_exists(tok);
    free(tok);
    if (!have) {
        if (p->log) fprintf(p->log, "note: %s has no tokenizer.json: the GGUF gets no tokenizer\n", dir);
        return DC_OK;
    }
    st = dc_hf_tokenizer_to_gguf(dir, w);
    return st == DC_OK ? DC_OK : dc_q_error_lib(st, "%s: tokenizer", dir);
}

static dc_status stream_plan(dc_gguf_writer *w, const builder *b, const dc_q_params *p,
                             uint64_t *bytes_out) {
    uint64_t total = 0;
    for (size_t i = 0; i < b->n; i++)
        total += (uint64_t)(b->v[i].ne[0] * b->v[i].ne[1] * b->v[i].ne[2]);
    dc_q_progress prog;
    dc_q_progress_init(&prog, total);
    prog.on &= p->progress;
    dc_status st = DC_OK;
    *bytes_out = 0;
    for (size_t i = 0; i < b->n && st == DC_OK; i++) {
        const otensor *t = &b->v[i];
        octx o = { .t = t, .c = b->c };
        dc_q_source src = { .ctx = &o, .row_f32 = o_row_f32, .row_raw = o_row_raw,
                            .release = o_release };
        st = dc_q_convert_tensor(w, &src, t->type, t->ne[0], t->ne[1] * t->ne[2], p->n_threads,
                                 &prog, t->name);
        release_all(t);
        *bytes_out += dc_row_size(t->type, t->ne[0]) * (size_t)(t->ne[1] * t->ne[2]);
    }
    dc_q_progress_end(&prog);
    return st;
}

/* MTP layers to write: those of num_nextn_predict_layers the checkpoint holds. */
static int64_t nextn_layers(const dc_hf_config *c, const dc_st_model *m, const dc_q_params *p) {
    if (c->arch != DC_HF_DEEPSEEK2 || p->skip_mtp) return 0;
    int64_t k = 0;
    while (k < c->n_nextn && has_layer(m, c->n_layer + k)) k++;
    if (k < c->n_nextn && p->log)
        fprintf(p->log, "note: num_nextn_predict_layers is %lld but the checkpoint holds %lld "
                "MTP layers; writing those\n", (long long)c->n_nextn, (long long)k);
    return k;
}

dc_status dc_q_convert_hf(const char *dir, const char *out, const dc_q_params *p) {
    dc_hf_config c;
    dc_st_model *m = NULL;
    dc_gguf_writer *w = NULL;
    builder b = { 0 };
    float lut[256];
    for (int i = 0; i < 256; i++) lut[i] = dc_e4m3_to_fp32((uint8_t)i);
    dc_status st = dc_q_hf_read_config(dir, &c);
    if (st == DC_OK) st = dc_st_model_open(dir, &m);
    if (st != DC_OK) return st;
    int64_t n_nextn = nextn_layers(&c, m, p);
    b = (builder){ .c = &c, .m = m, .lut = lut,
                   .used = calloc((size_t)dc_st_model_n_tensors(m) + 1, sizeof(bool)) };
    if (!b.used) b.st = dc_q_error(DC_ERR_NOMEM, "out of memory");
    build_plan(&b, n_nextn);
    st = b.st != DC_OK ? b.st : check_unused(&b, p->skip_mtp);
    if (st != DC_OK) {
        dc_q_error_prefix(st, "%s", dir);
        goto done;
    }
    dc_type dominant;
    bool any_f8;
    choose_types(&b, p, n_nextn, &dominant, &any_f8);
    if ((st = dc_gguf_writer_init(&w)) != DC_OK ||
        (st = write_meta(w, dir, &c, p, n_nextn, dominant, any_f8)) != DC_OK)
        goto done;
    for (size_t i = 0; i < b.n && st == DC_OK; i++)
        if ((st = dc_gguf_declare_tensor(w, b.v[i].name, b.v[i].type, b.v[i].n_dims,
                                         b.v[i].ne)) != DC_OK)
            dc_q_error_lib(st, "tensor %s", b.v[i].name);
    if (st == DC_OK && (st = dc_gguf_writer_begin(w, out)) != DC_OK) dc_q_error_lib(st, "%s", out);
    uint64_t bytes = 0;
    if (st == DC_OK && (st = stream_plan(w, &b, p, &bytes)) != DC_OK) dc_q_error_prefix(st, "%s", out);
    if (st == DC_OK && (st = dc_gguf_writer_finish(w)) != DC_OK) dc_q_error_lib(st, "%s", out);
    if (st == DC_OK && p->log)
        fprintf(p->log, "%s: %s (%s), %zu tensors, %.1f MiB of checkpoint -> %.1f MiB (%s)%s\n",
                out, c.hf_arch, c.gguf_arch, b.n, (double)dc_st_model_bytes(m) / 1048576.0,
                (double)bytes / 1048576.0, dc_q_plan_name(&p->plan),
                n_nextn ? ", with MTP layers" : "");
done:
    dc_gguf_writer_free(w);   /* removes a partial file */
    free_plan(&b);
    dc_st_model_close(m);
    return st;
}
