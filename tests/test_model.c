/*
 * test_model.c - lib/model against the peer engine's logits and against
 * itself.
 *
 *   fixtures  every model in ../shared/fixtures/models reproduces the
 *             reference logits, in one batch (vs NAME.logits.f32) and token by
 *             token (vs NAME.step.logits.f32); F32 files to 1e-4 of the
 *             largest logit with the same argmax (near-ties aside), quantized
 *             files by the median criterion of the fixtures' README
 *   forms     absorbed and naive MLA give the same logits (both layouts)
 *   chunks    token-by-token == one batch == chunked prefill; 1 == 2 threads
 *   session   KV bytes per token, context full, truncate + re-decode, bad ids
 *   errors    broken models (written here from a fixture with one thing
 *             wrong) fail to load with a message naming the problem
 */
#include "test_util.h"

#include <deepc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_VOCAB 512

typedef struct fixture {
    const char *name;
    bool        quantized;
} fixture;

static const fixture fixtures[] = {
    { "tiny-v3", false },      { "tiny-v2lite", false }, { "tiny-legacy", false },
    { "tiny-qwen2", false },   { "tiny-llama", false },  { "tiny-v3-q8_0", true },
    { "tiny-v3-q4_k_m", true },
};
#define N_FIXTURES ((int)(sizeof fixtures / sizeof fixtures[0]))

static const char *model_path(const char *name) {
    static char buf[4096];
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/models/%s.gguf", name);
    snprintf(buf, sizeof buf, "%s", dc_test_shared_path(rel));
    return buf;
}

/* Token ids of NAME.tokens; returns the count. */
static int read_tokens(const char *name, dc_token *out, int cap) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/models/%s.tokens", name);
    size_t n = 0;
    char *txt = dc_test_read_file(dc_test_shared_path(rel), &n);
    ck_assert_msg(txt != NULL, "cannot read %s", rel);
    int k = 0;
    for (char *p = txt; p < txt + n && k < cap;) {
        out[k++] = (dc_token)strtol(p, &p, 10);
        while (p < txt + n && (*p == ',' || *p == '\n' || *p == ' ')) p++;
    }
    free(txt);
    return k;
}

static float *read_logits(const char *name, const char *kind, int n_tok) {
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/models/%s.%slogits.f32", name, kind);
    size_t n = 0;
    float *l = dc_test_read_file(dc_test_shared_path(rel), &n);
    ck_assert_msg(l != NULL && n == (size_t)n_tok * N_VOCAB * sizeof(float), "bad %s", rel);
    return l;
}

/* Run tokens through a fresh session; returns [n, N_VOCAB] logits (free()). */
static float *run(dc_model *m, const dc_token *tok, int n, int n_batch, int threads,
                  dc_mla_mode mla, dc_type kv) {
    dc_session_params sp = dc_session_default_params();
    sp.n_ctx = 64;
    sp.n_batch = n_batch;
    sp.n_threads = sp.n_threads_batch = threads;
    sp.kv_type = kv;
    sp.mla = mla;
    dc_session *s = NULL;
    ck_assert_msg(dc_session_init(m, &sp, &s) == DC_OK, "session: %s", dc_last_error());
    ck_assert_msg(dc_session_decode_tokens(s, tok, n, true) == DC_OK, "decode: %s", dc_last_error());
    ck_assert_int_eq(dc_session_n_outputs(s), n);
    float *out = malloc((size_t)n * N_VOCAB * sizeof *out);
    for (int i = 0; i < n; i++) memcpy(out + (size_t)i * N_VOCAB, dc_session_logits(s, i), N_VOCAB * sizeof *out);
    dc_session_free(s);
    return out;
}

static dc_model *load(const char *name) {
    dc_model *m = NULL;
    ck_assert_msg(dc_model_load(model_path(name), NULL, &m) == DC_OK, "%s: %s", name, dc_last_error());
    return m;
}

/* ---- the peer's logits ------------------------------------------------------------ */

typedef struct agreement {
    double max_rel;       /* max |d| / max |ref| over all positions        */
    double median_rel;    /* median over positions of max |d| / max |ref|  */
    double argmax_rate;   /* positions with the same argmax (near-ties ok) */
} agreement;

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static agreement compare(const float *got, const float *ref, int n_tok) {
    double ref_max = 0;
    for (size_t i = 0; i < (size_t)n_tok * N_VOCAB; i++) ref_max = fmax(ref_max, fabs(ref[i]));
    double rows[512];
    int same = 0;
    for (int t = 0; t < n_tok; t++) {
        const float *g = got + (size_t)t * N_VOCAB, *r = ref + (size_t)t * N_VOCAB;
        double d = 0, lo = INFINITY, hi = -INFINITY;
        int ag = 0, ar = 0;
        for (int v = 0; v < N_VOCAB; v++) {
            d = fmax(d, fabs((double)g[v] - r[v]));
            if (g[v] > g[ag]) ag = v;
            if (r[v] > r[ar]) ar = v;
            lo = fmin(lo, r[v]);
            hi = fmax(hi, r[v]);
        }
        /* a near-tie in the reference (top-2 margin under 1e-3 of the range) may flip */
        double second = -INFINITY;
        for (int v = 0; v < N_VOCAB; v++)
            if (v != ar) second = fmax(second, r[v]);
        same += ag == ar || (r[ar] - second) < 1e-3 * (hi - lo);
        rows[t] = d / ref_max;
    }
    agreement a = { .argmax_rate = (double)same / n_tok };
    for (int t = 0; t < n_tok; t++) a.max_rel = fmax(a.max_rel, rows[t]);
    qsort(rows, (size_t)n_tok, sizeof rows[0], cmp_double);
    a.median_rel = rows[n_tok / 2];
    return a;
}

static void check_against_peer(const fixture *f, const float *got, const float *ref, int n,
                               const char *how) {
    agreement a = compare(got, ref, n);
    if (!f->quantized) {
        ck_assert_msg(a.max_rel <= 1e-4, "%s %s: max rel %.3g", f->name, how, a.max_rel);
        ck_assert_msg(a.argmax_rate == 1.0, "%s %s: argmax %.3f", f->name, how, a.argmax_rate);
    } else {
        ck_assert_msg(a.median_rel <= 2e-2, "%s %s: median rel %.3g", f->name, how, a.median_rel);
        ck_assert_msg(a.argmax_rate >= 0.95, "%s %s: argmax %.3f", f->name, how, a.argmax_rate);
        /* activations are rounded like the peer's: the first positions match closely */
        agreement head = compare(got, ref, 3);
        ck_assert_msg(head.max_rel <= 1e-5, "%s %s: first 3 positions off by %.3g", f->name,
                      how, head.max_rel);
    }
    printf("%-16s %-6s max rel %.3g, median rel %.3g, argmax %.1f%%\n", f->name, how, a.max_rel,
           a.median_rel, 100 * a.argmax_rate);
}

START_TEST(test_fixture) {
    const fixture *f = &fixtures[_i];
    if (!dc_test_file_exists(model_path(f->name))) return;   /* fixtures absent */
    dc_token tok[64];
    int n = read_tokens(f->name, tok, 64);
    ck_assert_int_eq(n, 48);
    dc_model *m = load(f->name);
    ck_assert_int_eq(dc_model_n_vocab(m), N_VOCAB);
    float *ref = read_logits(f->name, "", n), *ref_step = read_logits(f->name, "step.", n);
    float *batch = run(m, tok, n, 512, 2, DC_MLA_AUTO, DC_TYPE_F32);
    float *step = run(m, tok, n, 1, 2, DC_MLA_AUTO, DC_TYPE_F32);
    check_against_peer(f, batch, ref, n, "batch");
    check_against_peer(f, step, ref_step, n, "step");
    free(batch);
    free(step);
    free(ref);
    free(ref_step);
    dc_model_free(m);
}
END_TEST

/* ---- deepc against itself -------------------------------------------------------------- */

static double max_rel_diff(const float *a, const float *b, size_t n) {
    double m = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        m = fmax(m, fabs(b[i]));
        d = fmax(d, fabs((double)a[i] - b[i]));
    }
    return d / m;
}

START_TEST(test_mla_forms) {
    const char *names[] = { "tiny-v3", "tiny-legacy", "tiny-v2lite" };
    const char *name = names[_i];
    if (!dc_test_file_exists(model_path(name))) return;
    dc_token tok[64];
    int n = read_tokens(name, tok, 64);
    dc_model *m = load(name);
    float *ab = run(m, tok, n, 512, 2, DC_MLA_ABSORBED, DC_TYPE_F32);
    float *nv = run(m, tok, n, 512, 2, DC_MLA_NAIVE, DC_TYPE_F32);
    float *nv_step = run(m, tok, n, 1, 2, DC_MLA_NAIVE, DC_TYPE_F32);
    double d = max_rel_diff(nv, ab, (size_t)n * N_VOCAB);
    ck_assert_msg(d <= 1e-5, "%s: naive vs absorbed %.3g", name, d);
    ck_assert_msg(max_rel_diff(nv_step, ab, (size_t)n * N_VOCAB) <= 1e-5, "%s: naive step", name);
    printf("%-16s naive vs absorbed: %.3g\n", name, d);
    free(ab);
    free(nv);
    free(nv_step);
    dc_model_free(m);
}
END_TEST

START_TEST(test_chunking_and_threads) {
    const char *name = _i == 0 ? "tiny-v3" : "tiny-qwen2";
    if (!dc_test_file_exists(model_path(name))) return;
    dc_token tok[64];
    int n = read_tokens(name, tok, 64);
    dc_model *m = load(name);
    float *one = run(m, tok, n, 512, 2, DC_MLA_AUTO, DC_TYPE_F16);
    float *step = run(m, tok, n, 1, 2, DC_MLA_AUTO, DC_TYPE_F16);
    float *chunk = run(m, tok, n, 7, 2, DC_MLA_AUTO, DC_TYPE_F16);
    float *one_t1 = run(m, tok, n, 512, 1, DC_MLA_AUTO, DC_TYPE_F16);
    size_t sz = (size_t)n * N_VOCAB;
    ck_assert_msg(max_rel_diff(step, one, sz) <= 1e-5, "step vs batch %.3g", max_rel_diff(step, one, sz));
    ck_assert_msg(max_rel_diff(chunk, one, sz) <= 1e-5, "chunks vs batch %.3g", max_rel_diff(chunk, one, sz));
    ck_assert_msg(memcmp(one, one_t1, sz * sizeof(float)) == 0, "1 vs 2 threads differ");
    free(one);
    free(step);
    free(chunk);
    free(one_t1);
    dc_model_free(m);
}
END_TEST

START_TEST(test_session_rules) {
    if (!dc_test_file_exists(model_path("tiny-v3"))) return;
    dc_model *m = load("tiny-v3");
    /* MLA cache: (kv_lora + rope) values per token and layer, no V */
    ck_assert_uint_eq(dc_model_kv_bytes_per_token(m, DC_TYPE_F16), (64 + 16) * 2 * 3);
    ck_assert_uint_eq(dc_model_kv_bytes_per_token(m, DC_TYPE_F32), (64 + 16) * 4 * 3);
    ck_assert_uint_eq(dc_model_kv_bytes_per_token_mha(m, DC_TYPE_F16), 4 * (48 + 32) * 2 * 3);
    ck_assert_uint_eq(dc_model_kv_bytes_per_token(m, DC_TYPE_Q8_0), 0);   /* 64+16 not 32-aligned */

    dc_session_params sp = dc_session_default_params();
    sp.n_ctx = 16;
    sp.n_threads = sp.n_threads_batch = 2;
    sp.kv_type = DC_TYPE_Q8_0;
    dc_session *s = NULL;
    ck_assert_int_eq(dc_session_init(m, &sp, &s), DC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "Q8_0"));
    sp.kv_type = DC_TYPE_F16;
    ck_assert_int_eq(dc_session_init(m, &sp, &s), DC_OK);
    dc_memory_estimate me;
    ck_assert_int_eq(dc_session_memory(s, &me), DC_OK);
    ck_assert_uint_eq(me.kv_cache, (64 + 16) * 2 * 3 * 16);
    ck_assert_uint_gt(me.compute, 0);

    dc_token tok[20];
    for (int i = 0; i < 20; i++) tok[i] = (dc_token)(i * 37 % N_VOCAB);
    ck_assert_int_eq(dc_session_decode_tokens(s, tok, 10, false), DC_OK);
    float last[N_VOCAB];
    memcpy(last, dc_session_logits(s, -1), sizeof last);
    /* 7 more do not fit in 16: refused whole, nothing changes */
    ck_assert_int_eq(dc_session_decode_tokens(s, tok + 10, 7, false), DC_ERR_CONTEXT_FULL);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "do not fit"));
    ck_assert_int_eq(dc_session_n_past(s), 10);
    ck_assert_int_eq(dc_session_decode_tokens(s, tok + 10, 6, false), DC_OK);
    ck_assert_int_eq(dc_session_n_past(s), 16);
    ck_assert_int_eq(dc_session_decode_tokens(s, tok, 1, false), DC_ERR_CONTEXT_FULL);
    /* rewind to 9 and decode token 9 again: the same logits as the first time */
    ck_assert_int_eq(dc_session_truncate(s, 9), DC_OK);
    ck_assert_int_eq(dc_session_decode_tokens(s, tok + 9, 1, false), DC_OK);
    ck_assert(max_rel_diff(dc_session_logits(s, -1), last, N_VOCAB) <= 1e-6);
    ck_assert_int_eq(dc_session_truncate(s, 11), DC_ERR_INVALID_ARG);
    /* bad ids and positions */
    dc_token bad = N_VOCAB;
    ck_assert_int_eq(dc_session_decode_tokens(s, &bad, 1, false), DC_ERR_INVALID_ARG);
    int32_t pos = 3;
    dc_batch b = { .n_tokens = 1, .tokens = tok, .pos = &pos, .logits = NULL };
    ck_assert_int_eq(dc_session_decode(s, &b), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_session_n_past(s), 10);
    dc_session_free(s);
    dc_model_free(m);
}
END_TEST

/* ---- broken models ----------------------------------------------------------------------- */

typedef enum mutation { DROP_TENSOR, WRONG_SHAPE, UNKNOWN_ARCH, TOO_MANY_USED, DROP_KEY, WRONG_TYPE } mutation;

/* Copy tiny-v3 to path with one thing wrong. */
static void write_broken(const char *path, mutation mu) {
    dc_gguf *g = NULL;
    ck_assert_int_eq(dc_gguf_open(model_path("tiny-v3"), &g), DC_OK);
    dc_gguf_writer *w = NULL;
    ck_assert_int_eq(dc_gguf_writer_init(&w), DC_OK);
    ck_assert_int_eq(dc_gguf_copy_kv(w, g), DC_OK);
    if (mu == UNKNOWN_ARCH) dc_gguf_set_str(w, "general.architecture", "deepseek9");
    if (mu == TOO_MANY_USED) dc_gguf_set_u32(w, "deepseek2.expert_used_count", 17);
    void *scratch = NULL;
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info ti;
        ck_assert_int_eq(dc_gguf_tensor(g, i, &ti), DC_OK);
        int64_t ne[4] = { ti.ne[0], ti.ne[1], ti.ne[2], ti.ne[3] };
        if (mu == DROP_TENSOR && !strcmp(ti.name, "blk.2.ffn_down_exps.weight")) continue;
        if (mu == WRONG_SHAPE && !strcmp(ti.name, "blk.1.attn_output.weight")) {
            ne[0] = 256;   /* [256, 128] instead of [128, 256]: same bytes */
            ne[1] = 128;
        }
        dc_type type = ti.type;
        const void *data = ti.data;
        if (mu == WRONG_TYPE && !strcmp(ti.name, "blk.0.attn_norm.weight")) {
            type = DC_TYPE_F16;
            scratch = calloc(1, (size_t)ti.ne[0] * 2);
            data = scratch;
        }
        ck_assert_int_eq(dc_gguf_add_tensor(w, ti.name, type, ti.n_dims, ne, data), DC_OK);
    }
    ck_assert_int_eq(dc_gguf_writer_write(w, path), DC_OK);
    free(scratch);
    dc_gguf_writer_free(w);
    dc_gguf_close(g);
    if (mu == DROP_KEY) {
        /* drop deepseek2.attention.kv_lora_rank by rewriting without it */
        ck_assert_int_eq(dc_gguf_open(path, &g), DC_OK);
        ck_assert_int_eq(dc_gguf_writer_init(&w), DC_OK);
        for (int64_t i = 0; i < dc_gguf_n_kv(g); i++) {
            const char *key = dc_gguf_key(g, i);
            if (!strcmp(key, "deepseek2.attention.kv_lora_rank")) continue;
            if (dc_gguf_kv_type(g, i) == DC_GGUF_U32) {
                uint32_t v;
                dc_gguf_get_u32(g, key, &v);
                dc_gguf_set_u32(w, key, v);
            } else if (dc_gguf_kv_type(g, i) == DC_GGUF_F32) {
                float v;
                dc_gguf_get_f32(g, key, &v);
                dc_gguf_set_f32(w, key, v);
            } else if (dc_gguf_kv_type(g, i) == DC_GGUF_STRING && !strncmp(key, "general.arch", 12)) {
                dc_gguf_set_str(w, key, "deepseek2");
            }
        }
        for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
            dc_gguf_tensor_info ti;
            dc_gguf_tensor(g, i, &ti);
            dc_gguf_add_tensor(w, ti.name, ti.type, ti.n_dims, ti.ne, ti.data);
        }
        ck_assert_int_eq(dc_gguf_writer_write(w, "/tmp/deepc-test-dropkey.gguf"), DC_OK);
        dc_gguf_writer_free(w);
        dc_gguf_close(g);
        ck_assert_int_eq(rename("/tmp/deepc-test-dropkey.gguf", path), 0);
    }
}

START_TEST(test_broken_models) {
    if (!dc_test_file_exists(model_path("tiny-v3"))) return;
    struct { mutation mu; dc_status st; const char *word; } cases[] = {
        { DROP_TENSOR, DC_ERR_FORMAT, "blk.2.ffn_down_exps.weight is missing" },
        { WRONG_SHAPE, DC_ERR_SHAPE, "blk.1.attn_output.weight has shape [256, 128" },
        { UNKNOWN_ARCH, DC_ERR_UNSUPPORTED, "deepseek9" },
        { TOO_MANY_USED, DC_ERR_FORMAT, "expert_used_count = 17" },
        { DROP_KEY, DC_ERR_FORMAT, "kv_lora_rank is missing" },
        { WRONG_TYPE, DC_ERR_TYPE, "blk.0.attn_norm.weight has type F16" },
    };
    char path[256];
    snprintf(path, sizeof path, "/tmp/deepc-test-broken-%d.gguf", (int)getpid());
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_broken(path, cases[i].mu);
        dc_model *m = (dc_model *)1;
        dc_status st = dc_model_load(path, NULL, &m);
        ck_assert_msg(st == cases[i].st, "case %zu: %s (%s)", i, dc_status_str(st), dc_last_error());
        ck_assert_ptr_null(m);
        ck_assert_msg(strstr(dc_last_error(), cases[i].word), "case %zu: '%s'", i, dc_last_error());
    }
    remove(path);
    dc_model *m = NULL;
    ck_assert_int_eq(dc_model_load("/nonexistent/model.gguf", NULL, &m), DC_ERR_IO);
}
END_TEST

static Suite *model_suite(void) {
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("fixtures");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_fixture, 0, N_FIXTURES);
    suite_add_tcase(s, tc);
    tc = tcase_create("self");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_mla_forms, 0, 3);
    tcase_add_loop_test(tc, test_chunking_and_threads, 0, 2);
    tcase_add_test(tc, test_session_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_broken_models);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(model_suite)
