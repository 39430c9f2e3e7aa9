/*
 * hf_fixture.c - tiny Hugging Face checkpoints for the quantize tests (see
 * hf_fixture.h).
 *
 * Values: weights N(0, 0.02) (q/k projections 0.06, the router 0.2 so
 * routing is decisive), norms 1 + N(0, 0.05), the V3 selection bias
 * N(0, 0.05); a fixed splitmix64 stream per fixture. FP8 weights are made
 * the way DeepGEMM's per_block_cast_to_fp8 does (spec/fp8-gguf.md §1.3):
 * per 128x128 tile s = max(amax, 1e-4) / 448, code = e4m3(x / s), and the
 * stored scale_inv is s; a few tiles get an extra power-of-two factor so
 * scales differ a lot between tiles.
 * Safetensors files are assembled here byte by byte: JSON header padded with
 * spaces to a multiple of 8, tensors back to back in list order.
 */
#include "hf_fixture.h"

#include <deepc.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- random values ------------------------------------------------------------------ */

static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double normal(uint64_t *s) {
    double a, b, q;
    do {
        a = 2.0 * ((double)(next_u64(s) >> 11) * 0x1.0p-53) - 1.0;
        b = 2.0 * ((double)(next_u64(s) >> 11) * 0x1.0p-53) - 1.0;
        q = a * a + b * b;
    } while (q >= 1.0 || q == 0.0);
    return a * sqrt(-2.0 * log(q) / q);
}

/* ---- tensors -------------------------------------------------------------------------- */

static size_t dtype_size(const char *d) {
    return !strcmp(d, "F32") ? 4 : !strcmp(d, "BF16") ? 2 : 1;
}

static hf_fix_tensor *add(hf_fix *f, int shard, const char *dtype, int n_dims, int64_t rows,
                          int64_t cols, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static hf_fix_tensor *add(hf_fix *f, int shard, const char *dtype, int n_dims, int64_t rows,
                          int64_t cols, const char *fmt, ...) {
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 128;
        hf_fix_tensor *t = realloc(f->t, (size_t)cap * sizeof *t);
        if (!t) return NULL;
        f->t = t;
        f->cap = cap;
    }
    hf_fix_tensor *t = &f->t[f->n];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    snprintf(t->dtype, sizeof t->dtype, "%s", dtype);
    t->n_dims = n_dims;
    t->rows = rows;
    t->cols = cols;
    t->shard = shard;
    t->size = (size_t)(rows * cols) * dtype_size(dtype);
    t->data = malloc(t->size ? t->size : 1);
    if (!t->data) return NULL;
    f->n++;
    return t;
}

/* BF16 or F32 values mean + std * N(0, 1). */
static int plain(hf_fix *f, int shard, const char *dtype, int64_t rows, int64_t cols,
                 double mean, double std, const char *name) {
    hf_fix_tensor *t = add(f, shard, dtype, cols ? 2 : 1, cols ? rows : 1, cols ? cols : rows,
                           "%s", name);
    if (!t) return -1;
    for (int64_t i = 0; i < t->rows * t->cols; i++) {
        float x = (float)(mean + std * normal(&f->seed));
        if (!strcmp(dtype, "F32")) {
            memcpy(t->data + 4 * i, &x, 4);
        } else {
            uint16_t h = dc_fp32_to_bf16(x);
            memcpy(t->data + 2 * i, &h, 2);
        }
    }
    return 0;
}

/* An FP8 weight [rows, cols] and its F32 scale_inv [ceil(rows/128), ceil(cols/128)]. */
static int fp8(hf_fix *f, int shard, int64_t rows, int64_t cols, double std, const char *name) {
    const int64_t sr = (rows + 127) / 128, sc = (cols + 127) / 128;
    hf_fix_tensor *w = add(f, shard, "F8_E4M3", 2, rows, cols, "%s", name);
    float *x = malloc((size_t)(rows * cols) * sizeof *x);
    if (!w || !x) {
        free(x);
        return -1;
    }
    for (int64_t i = 0; i < rows * cols; i++) x[i] = (float)(std * normal(&f->seed));
    hf_fix_tensor *s = add(f, shard, "F32", 2, sr, sc, "%s_scale_inv", name);
    if (!s) {
        free(x);
        return -1;
    }
    w = &f->t[f->n - 2];   /* add() may have moved the array */
    for (int64_t bi = 0; bi < sr; bi++) {
        for (int64_t bj = 0; bj < sc; bj++) {
            float amax = 0;
            for (int64_t r = bi * 128; r < rows && r < bi * 128 + 128; r++)
                for (int64_t c = bj * 128; c < cols && c < bj * 128 + 128; c++)
                    amax = fmaxf(amax, fabsf(x[r * cols + c]));
            float scale = fmaxf(amax, 1e-4f) / 448.0f;
            if ((bi + bj) % 3 == 1) scale *= 4.0f;   /* tiles far apart in scale */
            memcpy(s->data + 4 * (bi * sc + bj), &scale, 4);
            for (int64_t r = bi * 128; r < rows && r < bi * 128 + 128; r++)
                for (int64_t c = bj * 128; c < cols && c < bj * 128 + 128; c++)
                    w->data[r * cols + c] = dc_fp32_to_e4m3(x[r * cols + c] / scale);
        }
    }
    free(x);
    return 0;
}

const hf_fix_tensor *hf_fix_find(const hf_fix *f, const char *name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}

float hf_fix_value(const hf_fix_tensor *t, int64_t r, int64_t c) {
    size_t i = (size_t)(r * t->cols + c);
    if (!strcmp(t->dtype, "F32")) {
        float x;
        memcpy(&x, t->data + 4 * i, 4);
        return x;
    }
    if (!strcmp(t->dtype, "BF16")) {
        uint16_t h;
        memcpy(&h, t->data + 2 * i, 2);
        return dc_bf16_to_fp32(h);
    }
    float s;
    memcpy(&s, t->scale->data + 4 * ((r / 128) * ((t->scale->cols)) + c / 128), 4);
    return dc_e4m3_to_fp32(t->data[i]) * s;
}

void hf_fix_free(hf_fix *f) {
    for (int i = 0; i < f->n; i++) free(f->t[i].data);
    free(f->t);
    memset(f, 0, sizeof *f);
}

/* Link each FP8 weight to its scale (after all adds: the array is final). */
static void link_scales(hf_fix *f) {
    char name[128];
    for (int i = 0; i < f->n; i++) {
        if (strcmp(f->t[i].dtype, "F8_E4M3") != 0) continue;
        snprintf(name, sizeof name, "%s_scale_inv", f->t[i].name);
        f->t[i].scale = hf_fix_find(f, name);
    }
}

/* ---- models ------------------------------------------------------------------------------- */

#define TRY(x) do { if ((x) != 0) return -1; } while (0)

/* A linear weight: FP8 for V3, BF16 for V2. */
static int lin(hf_fix *f, int shard, int64_t rows, int64_t cols, double std, const char *name) {
    return f->v2 ? plain(f, shard, "BF16", rows, cols, 0.0, std, name) : fp8(f, shard, rows, cols, std, name);
}

static int v3_layer(hf_fix *f, int il) {
    const int s = il < f->n_shards - 1 ? il : f->n_shards - 1;   /* layer il in shard il */
    const int64_t E = f->E, H = f->H;
    char p[64], n[160];
#define N(...) (snprintf(n, sizeof n, __VA_ARGS__), n)
    snprintf(p, sizeof p, "model.layers.%d.", il);
    TRY(plain(f, s, "BF16", E, 0, 1.0, 0.05, N("%sinput_layernorm.weight", p)));
    if (f->q_lora) {
        TRY(lin(f, s, f->q_lora, E, 0.06, N("%sself_attn.q_a_proj.weight", p)));
        TRY(plain(f, s, "BF16", f->q_lora, 0, 1.0, 0.05, N("%sself_attn.q_a_layernorm.weight", p)));
        TRY(lin(f, s, H * (f->dn + f->dr), f->q_lora, 0.06, N("%sself_attn.q_b_proj.weight", p)));
    } else {
        TRY(lin(f, s, H * (f->dn + f->dr), E, 0.06, N("%sself_attn.q_proj.weight", p)));
    }
    TRY(lin(f, s, f->kv + f->dr, E, 0.06, N("%sself_attn.kv_a_proj_with_mqa.weight", p)));
    TRY(plain(f, s, "BF16", f->kv, 0, 1.0, 0.05, N("%sself_attn.kv_a_layernorm.weight", p)));
    TRY(lin(f, s, H * (f->dn + f->dv), f->kv, 0.06, N("%sself_attn.kv_b_proj.weight", p)));
    TRY(lin(f, s, E, H * f->dv, 0.02, N("%sself_attn.o_proj.weight", p)));
    TRY(plain(f, s, "BF16", E, 0, 1.0, 0.05, N("%spost_attention_layernorm.weight", p)));
    if (il < f->dense) {
        TRY(lin(f, s, f->F, E, 0.02, N("%smlp.gate_proj.weight", p)));
        TRY(lin(f, s, f->F, E, 0.02, N("%smlp.up_proj.weight", p)));
        TRY(lin(f, s, E, f->F, 0.02, N("%smlp.down_proj.weight", p)));
    } else {
        TRY(plain(f, s, "BF16", f->X, E, 0.0, 0.2, N("%smlp.gate.weight", p)));
        if (!f->v2) TRY(plain(f, s, "F32", f->X, 0, 0.0, 0.05, N("%smlp.gate.e_score_correction_bias", p)));
        for (int e = 0; e < f->X; e++) {
            TRY(lin(f, s, f->F_exp, E, 0.02, N("%smlp.experts.%d.gate_proj.weight", p, e)));
            TRY(lin(f, s, f->F_exp, E, 0.02, N("%smlp.experts.%d.up_proj.weight", p, e)));
            TRY(lin(f, s, E, f->F_exp, 0.02, N("%smlp.experts.%d.down_proj.weight", p, e)));
        }
        const int64_t S = f->F_exp * f->shared;
        TRY(lin(f, s, S, E, 0.02, N("%smlp.shared_experts.gate_proj.weight", p)));
        TRY(lin(f, s, S, E, 0.02, N("%smlp.shared_experts.up_proj.weight", p)));
        TRY(lin(f, s, E, S, 0.02, N("%smlp.shared_experts.down_proj.weight", p)));
    }
    if (il == f->L) {   /* the MTP module's own parts */
        TRY(lin(f, s, E, 2 * E, 0.02, N("%seh_proj.weight", p)));
        TRY(plain(f, s, "BF16", E, 0, 1.0, 0.05, N("%senorm.weight", p)));
        TRY(plain(f, s, "BF16", E, 0, 1.0, 0.05, N("%shnorm.weight", p)));
        TRY(plain(f, s, "BF16", E, 0, 1.0, 0.05, N("%sshared_head.norm.weight", p)));
        TRY(plain(f, s, "BF16", f->V, E, 0.0, 0.02, N("%sshared_head.head.weight", p)));
        TRY(plain(f, s, "BF16", f->V, E, 0.0, 0.02, N("%sembed_tokens.weight", p)));
    }
#undef N
    return 0;
}

int hf_fix_make_v3(hf_fix *f, int n_shards, bool mtp, int scale, uint64_t seed) {
    memset(f, 0, sizeof *f);
    f->arch = HF_FIX_V3;
    f->n_shards = n_shards;
    f->mtp = mtp;
    f->seed = seed;
    f->E = 256 * scale; f->L = 2; f->H = 4; f->F = 384 * scale; f->V = 320;
    f->q_lora = 128; f->kv = 64; f->dn = 32; f->dr = 16; f->dv = 32;
    f->X = 8; f->X_used = 2; f->groups = 2; f->groups_used = 1; f->shared = 1;
    f->F_exp = 128 * scale; f->dense = 1;
    TRY(plain(f, 0, "BF16", f->V, f->E, 0.0, 0.02, "model.embed_tokens.weight"));
    for (int il = 0; il < f->L + (mtp ? 1 : 0); il++) TRY(v3_layer(f, il));
    TRY(plain(f, n_shards - 1, "BF16", f->E, 0, 1.0, 0.05, "model.norm.weight"));
    TRY(plain(f, n_shards - 1, "BF16", f->V, f->E, 0.0, 0.02, "lm_head.weight"));
    link_scales(f);
    return 0;
}

int hf_fix_make_v2lite(hf_fix *f, uint64_t seed) {
    memset(f, 0, sizeof *f);
    f->arch = HF_FIX_V3;
    f->v2 = true;
    f->n_shards = 1;
    f->seed = seed;
    f->E = 256; f->L = 3; f->H = 4; f->F = 384; f->V = 320;
    f->q_lora = 0; f->kv = 64; f->dn = 32; f->dr = 16; f->dv = 32;
    f->X = 8; f->X_used = 2; f->groups = 1; f->groups_used = 1; f->shared = 2;
    f->F_exp = 128; f->dense = 1;
    TRY(plain(f, 0, "BF16", f->V, f->E, 0.0, 0.02, "model.embed_tokens.weight"));
    for (int il = 0; il < f->L; il++) TRY(v3_layer(f, il));
    TRY(plain(f, 0, "BF16", f->E, 0, 1.0, 0.05, "model.norm.weight"));
    TRY(plain(f, 0, "BF16", f->V, f->E, 0.0, 0.02, "lm_head.weight"));
    return 0;
}

int hf_fix_make_dense(hf_fix *f, hf_fix_arch arch, uint64_t seed) {
    memset(f, 0, sizeof *f);
    f->arch = arch;
    f->n_shards = 1;
    f->seed = seed;
    f->E = 256; f->L = 2; f->H = 4; f->Hkv = 2; f->hd = 64; f->F = 512; f->V = 320;
    const int64_t E = f->E, Q = f->H * f->hd, KV = f->Hkv * f->hd;
    char p[64], n[160];
#define N(...) (snprintf(n, sizeof n, __VA_ARGS__), n)
    TRY(plain(f, 0, "BF16", f->V, E, 0.0, 0.02, "model.embed_tokens.weight"));
    for (int il = 0; il < f->L; il++) {
        snprintf(p, sizeof p, "model.layers.%d.", il);
        TRY(plain(f, 0, "BF16", E, 0, 1.0, 0.05, N("%sinput_layernorm.weight", p)));
        TRY(plain(f, 0, "BF16", Q, E, 0.0, 0.06, N("%sself_attn.q_proj.weight", p)));
        TRY(plain(f, 0, "BF16", KV, E, 0.0, 0.06, N("%sself_attn.k_proj.weight", p)));
        TRY(plain(f, 0, "BF16", KV, E, 0.0, 0.02, N("%sself_attn.v_proj.weight", p)));
        if (arch == HF_FIX_QWEN2) {
            TRY(plain(f, 0, "BF16", Q, 0, 0.0, 0.2, N("%sself_attn.q_proj.bias", p)));
            TRY(plain(f, 0, "BF16", KV, 0, 0.0, 0.2, N("%sself_attn.k_proj.bias", p)));
            TRY(plain(f, 0, "BF16", KV, 0, 0.0, 0.2, N("%sself_attn.v_proj.bias", p)));
        }
        TRY(plain(f, 0, "BF16", E, Q, 0.0, 0.02, N("%sself_attn.o_proj.weight", p)));
        TRY(plain(f, 0, "BF16", E, 0, 1.0, 0.05, N("%spost_attention_layernorm.weight", p)));
        TRY(plain(f, 0, "BF16", f->F, E, 0.0, 0.02, N("%smlp.gate_proj.weight", p)));
        TRY(plain(f, 0, "BF16", f->F, E, 0.0, 0.02, N("%smlp.up_proj.weight", p)));
        TRY(plain(f, 0, "BF16", E, f->F, 0.0, 0.02, N("%smlp.down_proj.weight", p)));
    }
#undef N
    TRY(plain(f, 0, "BF16", E, 0, 1.0, 0.05, "model.norm.weight"));
    if (arch == HF_FIX_LLAMA) TRY(plain(f, 0, "BF16", f->V, E, 0.0, 0.02, "lm_head.weight"));
    return 0;
}

int hf_fix_rename(hf_fix *f, const char *old_name, const char *new_name) {
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->t[i].name, old_name)) {
            snprintf(f->t[i].name, sizeof f->t[i].name, "%s", new_name);
            return 0;
        }
    return -1;
}

int hf_fix_add_extra(hf_fix *f, const char *name, int64_t n) {
    TRY(plain(f, f->n_shards - 1, "BF16", n, 0, 0.0, 1.0, name));
    link_scales(f);   /* the array may have moved */
    return 0;
}

/* ---- files ---------------------------------------------------------------------------------- */

typedef struct sbuf {
    char  *p;
    size_t n, cap;
    bool   oom;
} sbuf;

static void put(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(sbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = true; return; }
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = (b->cap + (size_t)k + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = true; return; }
        b->p = p;
        b->cap = cap;
    }
}

static int write_bytes(const char *dir, const char *name, const void *data, size_t n,
                       const void *data2, size_t n2) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    bool ok = fwrite(data, 1, n, fp) == n && (n2 == 0 || fwrite(data2, 1, n2, fp) == n2);
    return fclose(fp) == 0 && ok ? 0 : -1;
}

static void shard_name(const hf_fix *f, int s, char *out, size_t n) {
    if (f->n_shards == 1) snprintf(out, n, "model.safetensors");
    else snprintf(out, n, "model-%05d-of-%05d.safetensors", s + 1, f->n_shards);
}

/* One shard: header (8-byte length, JSON padded to 8), then the data. */
static int write_shard(const hf_fix *f, const char *dir, int s) {
    sbuf h = { 0 };
    size_t off = 0;
    put(&h, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < f->n; i++) {
        const hf_fix_tensor *t = &f->t[i];
        if (t->shard != s) continue;
        if (t->n_dims == 1)
            put(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%lld],\"data_offsets\":[%zu,%zu]}",
                t->name, t->dtype, (long long)t->cols, off, off + t->size);
        else
            put(&h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[%lld,%lld],\"data_offsets\":[%zu,%zu]}",
                t->name, t->dtype, (long long)t->rows, (long long)t->cols, off, off + t->size);
        off += t->size;
    }
    put(&h, "}");
    while (h.n % 8) put(&h, " ");
    uint8_t *data = malloc(off + 8);
    if (h.oom || !data) {
        free(h.p);
        free(data);
        return -1;
    }
    uint64_t len = h.n;
    for (int k = 0; k < 8; k++) data[k] = (uint8_t)(len >> (8 * k));
    uint8_t *file = malloc(8 + h.n);
    int rc = -1;
    if (file) {
        memcpy(file, data, 8);
        memcpy(file + 8, h.p, h.n);
        size_t o = 0;
        for (int i = 0; i < f->n; i++) {
            if (f->t[i].shard != s) continue;
            memcpy(data + o, f->t[i].data, f->t[i].size);
            o += f->t[i].size;
        }
        char name[64];
        shard_name(f, s, name, sizeof name);
        rc = write_bytes(dir, name, file, 8 + h.n, data, off);
    }
    free(file);
    free(data);
    free(h.p);
    return rc;
}

static int write_index(const hf_fix *f, const char *dir) {
    sbuf b = { 0 };
    size_t total = 0;
    for (int i = 0; i < f->n; i++) total += f->t[i].size;
    put(&b, "{\"metadata\":{\"total_size\":%zu},\"weight_map\":{", total);
    char name[64];
    bool first = true;
    for (int i = 0; i < f->n; i++) {
        if (f->t[i].shard < 0) continue;   /* left out of the checkpoint */
        shard_name(f, f->t[i].shard, name, sizeof name);
        put(&b, "%s\"%s\":\"%s\"", first ? "" : ",", f->t[i].name, name);
        first = false;
    }
    put(&b, "}}\n");
    int rc = b.oom ? -1 : write_bytes(dir, "model.safetensors.index.json", b.p, b.n, NULL, 0);
    free(b.p);
    return rc;
}

static int write_config(const hf_fix *f, const char *dir) {
    sbuf b = { 0 };
    if (f->arch == HF_FIX_V3 && f->v2) {
        put(&b, "{\"architectures\":[\"DeepseekV2ForCausalLM\"],\"model_type\":\"deepseek_v2\","
                "\"hidden_size\":%lld,\"num_hidden_layers\":%lld,\"num_attention_heads\":%lld,"
                "\"num_key_value_heads\":%lld,\"intermediate_size\":%lld,\"vocab_size\":%lld,"
                "\"max_position_embeddings\":4096,\"rms_norm_eps\":1e-06,\"rope_theta\":10000,"
                "\"q_lora_rank\":null,\"kv_lora_rank\":%lld,\"qk_nope_head_dim\":%lld,"
                "\"qk_rope_head_dim\":%lld,\"v_head_dim\":%lld,\"first_k_dense_replace\":%lld,"
                "\"moe_layer_freq\":1,\"n_routed_experts\":%lld,\"num_experts_per_tok\":%lld,"
                "\"n_shared_experts\":%lld,\"moe_intermediate_size\":%lld,\"n_group\":1,"
                "\"topk_group\":1,\"topk_method\":\"greedy\",\"scoring_func\":\"softmax\","
                "\"norm_topk_prob\":false,\"routed_scaling_factor\":1.0,\"aux_loss_alpha\":0.001,"
                "\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4.0,"
                "\"original_max_position_embeddings\":1024,\"beta_fast\":32,\"beta_slow\":1,"
                "\"mscale\":0.707,\"mscale_all_dim\":0.707},\"bos_token_id\":256}\n",
            (long long)f->E, (long long)f->L, (long long)f->H, (long long)f->H, (long long)f->F,
            (long long)f->V, (long long)f->kv, (long long)f->dn, (long long)f->dr,
            (long long)f->dv, (long long)f->dense, (long long)f->X, (long long)f->X_used,
            (long long)f->shared, (long long)f->F_exp);
    } else if (f->arch == HF_FIX_V3) {
        put(&b, "{\"architectures\":[\"DeepseekV3ForCausalLM\"],\"model_type\":\"deepseek_v3\","
                "\"hidden_size\":%lld,\"num_hidden_layers\":%lld,\"num_attention_heads\":%lld,"
                "\"num_key_value_heads\":%lld,\"intermediate_size\":%lld,\"vocab_size\":%lld,"
                "\"max_position_embeddings\":4096,\"rms_norm_eps\":1e-06,\"rope_theta\":10000,"
                "\"q_lora_rank\":%lld,\"kv_lora_rank\":%lld,\"qk_nope_head_dim\":%lld,"
                "\"qk_rope_head_dim\":%lld,\"v_head_dim\":%lld,\"first_k_dense_replace\":%lld,"
                "\"moe_layer_freq\":1,\"n_routed_experts\":%lld,\"num_experts_per_tok\":%lld,"
                "\"n_shared_experts\":%lld,\"moe_intermediate_size\":%lld,\"n_group\":%lld,"
                "\"topk_group\":%lld,\"topk_method\":\"noaux_tc\",\"scoring_func\":\"sigmoid\","
                "\"norm_topk_prob\":true,\"routed_scaling_factor\":2.5,"
                "\"num_nextn_predict_layers\":1,\"tie_word_embeddings\":false,"
                "\"rope_scaling\":{\"type\":\"yarn\",\"factor\":4.0,"
                "\"original_max_position_embeddings\":1024,\"beta_fast\":32,\"beta_slow\":1,"
                "\"mscale\":1.0,\"mscale_all_dim\":1.0},"
                "\"quantization_config\":{\"activation_scheme\":\"dynamic\",\"fmt\":\"e4m3\","
                "\"quant_method\":\"fp8\",\"weight_block_size\":[128,128]},"
                "\"bos_token_id\":256,\"eos_token_id\":257}\n",
            (long long)f->E, (long long)f->L, (long long)f->H, (long long)f->H, (long long)f->F,
            (long long)f->V, (long long)f->q_lora, (long long)f->kv, (long long)f->dn,
            (long long)f->dr, (long long)f->dv, (long long)f->dense, (long long)f->X,
            (long long)f->X_used, (long long)f->shared, (long long)f->F_exp,
            (long long)f->groups, (long long)f->groups_used);
    } else {
        bool llama = f->arch == HF_FIX_LLAMA;
        put(&b, "{\"architectures\":[\"%s\"],\"hidden_size\":%lld,\"num_hidden_layers\":%lld,"
                "\"num_attention_heads\":%lld,\"num_key_value_heads\":%lld,"
                "\"intermediate_size\":%lld,\"vocab_size\":%lld,\"max_position_embeddings\":2048,"
                "\"rms_norm_eps\":1e-05,\"rope_theta\":%s,\"tie_word_embeddings\":%s,"
                "\"attention_bias\":false,\"rope_scaling\":null}\n",
            llama ? "LlamaForCausalLM" : "Qwen2ForCausalLM", (long long)f->E, (long long)f->L,
            (long long)f->H, (long long)f->Hkv, (long long)f->F, (long long)f->V,
            llama ? "500000.0" : "1000000.0", llama ? "false" : "true");
    }
    int rc = b.oom ? -1 : write_bytes(dir, "config.json", b.p, b.n, NULL, 0);
    free(b.p);
    return rc;
}

/* GPT-2's byte -> code point map. */
static int byte_cp(int b) {
    bool keep = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    if (keep) return b;
    int n = 0;
    for (int i = 0; i < b; i++)
        n += !((i >= '!' && i <= '~') || (i >= 0xa1 && i <= 0xac) || i >= 0xae);
    return 256 + n;
}

/* Byte-level BPE: 256 byte tokens, "Ġt" "he" "in" by merges, two specials. */
static int write_tokenizer(const char *dir) {
    sbuf b = { 0 };
    put(&b, "{\"version\":\"1.0\",\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"ByteLevel\","
            "\"add_prefix_space\":false,\"trim_offsets\":true,\"use_regex\":true},"
            "\"added_tokens\":[{\"id\":261,\"content\":\"<\\uff5cbegin\\u2581of\\u2581sentence"
            "\\uff5c>\",\"special\":true},{\"id\":262,\"content\":\"<\\uff5cend\\u2581of"
            "\\u2581sentence\\uff5c>\",\"special\":true}],\"model\":{\"type\":\"BPE\",\"vocab\":{");
    for (int i = 0; i < 256; i++) put(&b, "\"\\u%04x\":%d,", byte_cp(i), i);
    put(&b, "\"\\u0120t\":256,\"he\":257,\"in\":258,\"\\u0120the\":259,\"ing\":260},"
            "\"merges\":[\"\\u0120 t\",\"h e\",\"i n\",\"\\u0120t he\",\"in g\"]}}\n");
    int rc = b.oom ? -1 : write_bytes(dir, "tokenizer.json", b.p, b.n, NULL, 0);
    free(b.p);
    static const char cfg[] =
        "{\"add_bos_token\":true,\"add_eos_token\":false,"
        "\"bos_token\":\"<\\uff5cbegin\\u2581of\\u2581sentence\\uff5c>\","
        "\"eos_token\":{\"content\":\"<\\uff5cend\\u2581of\\u2581sentence\\uff5c>\"}}\n";
    if (rc == 0) rc = write_bytes(dir, "tokenizer_config.json", cfg, sizeof cfg - 1, NULL, 0);
    return rc;
}

int hf_fix_write(const hf_fix *f, const char *dir) {
    for (int s = 0; s < f->n_shards; s++) TRY(write_shard(f, dir, s));
    if (f->n_shards > 1) TRY(write_index(f, dir));
    TRY(write_config(f, dir));
    return write_tokenizer(dir);
}
