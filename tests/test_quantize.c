/*
 * test_quantize.c - the streaming GGUF writer and deepc-quantize's parts
 * (quantize/: safetensors reader, requantizer, mixes, HF converter).
 *
 *   stream       streamed files equal dc_gguf_writer_write's byte for byte;
 *                every misuse is an error and leaves no file
 *   safetensors  a valid file, every prefix of it, the hostile corpus
 *                (bad_safetensors.c) and broken sharded checkpoints: errors,
 *                never crashes (also run under ASan)
 *   requant      each type: bytes equal dc_quantize_row of the source rows,
 *                dequantized error within the type's bound; same bytes for
 *                any thread count; overrides; byte copies
 *   mixes        Q4_K_M types equal the peer's tiny-v3-q4_k_m and mix.c on
 *                V2-Lite- and V3-shaped files; MOE_Q4 rules
 *   hf           tiny HF checkpoints (hf_fixture.c: V3 FP8 in 2 shards + MTP,
 *                llama, qwen2) convert to exactly the GGUF the test builds
 *                itself from the same values with the spec's maps (bytes and
 *                logits); k_b / v_b split and llama's permutation checked
 *                semantically against layouts that need neither; MTP layers
 *                are skipped by the runtime
 */
#include "test_util.h"

#include "bad_safetensors.h"
#include "hf_fixture.h"
#include "quantize/qutil.h"
#include "quantize/quantize.h"
#include "quantize/safetensors.h"

#include <deepc.h>

#include "lib/core/core_impl.h"   /* dc_alloc_fail_after */

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------------- */

static void make_tmpdir(char *dir, size_t n) {
    snprintf(dir, n, "/tmp/deepc-test-quant-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Remove a flat directory and everything in it. */
static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static const char *path_in(const char *dir, const char *name) {
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static bool files_equal(const char *a, const char *b) {
    size_t na, nb;
    void *pa = dc_test_read_file(a, &na), *pb = dc_test_read_file(b, &nb);
    bool eq = pa && pb && na == nb && memcmp(pa, pb, na) == 0;
    free(pa);
    free(pb);
    return eq;
}

static dc_q_params params(const char *target, int threads) {
    dc_q_params p = { .n_threads = threads };
    if (target) ck_assert_msg(dc_q_plan_set_target(&p.plan, target) == DC_OK, "%s", dc_q_last_error());
    return p;
}

static const char *fixture(const char *name) {
    static char buf[1024];
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/models/%s.gguf", name);
    snprintf(buf, sizeof buf, "%s", dc_test_shared_path(rel));
    return buf;
}

static dc_gguf *open_gguf(const char *path) {
    dc_gguf *g = NULL;
    dc_status st = dc_gguf_open(path, &g);
    ck_assert_msg(st == DC_OK, "%s: %s", path, dc_last_error());
    return g;
}

static dc_gguf_tensor_info tensor_info(const dc_gguf *g, const char *name) {
    dc_gguf_tensor_info ti;
    int64_t i = dc_gguf_find_tensor(g, name);
    ck_assert_msg(i >= 0, "tensor %s missing", name);
    ck_assert(dc_gguf_tensor(g, i, &ti) == DC_OK);
    return ti;
}

static uint32_t key_u32(const dc_gguf *g, const char *key) {
    uint32_t v = 0;
    ck_assert_msg(dc_gguf_get_u32(g, key, &v) == DC_OK, "key %s: %s", key, dc_last_error());
    return v;
}

static const dc_token test_tokens[] = { 256, 1, 50, 100, 200, 300, 7, 99, 13, 319, 261, 42 };
#define N_TEST_TOKENS ((int)(sizeof test_tokens / sizeof test_tokens[0]))

/* All-position logits of test_tokens ([n, n_vocab], free()), one thread, F32 cache. */
static float *model_logits(const char *path, int32_t *n_vocab) {
    dc_model *m = NULL;
    dc_model_params mp = dc_model_default_params();
    mp.verify_checksums = true;
    dc_status st = dc_model_load(path, &mp, &m);
    ck_assert_msg(st == DC_OK, "%s: %s", path, dc_last_error());
    dc_session_params sp = dc_session_default_params();
    sp.n_ctx = 64;
    sp.n_threads = sp.n_threads_batch = 1;
    sp.kv_type = DC_TYPE_F32;
    dc_session *s = NULL;
    ck_assert_msg(dc_session_init(m, &sp, &s) == DC_OK, "%s", dc_last_error());
    ck_assert_msg(dc_session_decode_tokens(s, test_tokens, N_TEST_TOKENS, true) == DC_OK, "%s",
                  dc_last_error());
    *n_vocab = dc_model_n_vocab(m);
    float *out = malloc((size_t)N_TEST_TOKENS * (size_t)*n_vocab * sizeof *out);
    ck_assert_ptr_nonnull(out);
    for (int i = 0; i < N_TEST_TOKENS; i++)
        memcpy(out + (size_t)i * (size_t)*n_vocab, dc_session_logits(s, i),
               (size_t)*n_vocab * sizeof *out);
    dc_session_free(s);
    dc_model_free(m);
    return out;
}

/* max |a - b| of the two models' logits, relative to max |a|. */
static double logits_rel_diff(const char *a, const char *b) {
    int32_t va, vb;
    float *la = model_logits(a, &va), *lb = model_logits(b, &vb);
    ck_assert_int_eq(va, vb);
    size_t n = (size_t)N_TEST_TOKENS * (size_t)va;
    double amax = 0;
    for (size_t i = 0; i < n; i++) amax = fmax(amax, fabs(la[i]));
    double d = dc_test_max_abs_diff(la, lb, n);
    free(la);
    free(lb);
    ck_assert(amax > 0);
    return d / amax;
}

/* ---- streaming writer ------------------------------------------------------------------------- */

typedef struct st_tensor {
    const char *name;
    dc_type     type;
    int         n_dims;
    int64_t     ne[3];
} st_tensor;

static const st_tensor stream_tensors[] = {
    { "a.f32",   DC_TYPE_F32,          2, { 7, 3, 1 } },
    { "empty",   DC_TYPE_F32,          2, { 4, 0, 1 } },
    { "b.q8_0",  DC_TYPE_Q8_0,         2, { 64, 5, 1 } },
    { "c.f16",   DC_TYPE_F16,          1, { 3, 1, 1 } },
    { "d.q4_k",  DC_TYPE_Q4_K,         3, { 256, 2, 2 } },
    { "e.f8",    DC_TYPE_F8_E4M3_B128, 2, { 128, 3, 1 } },
    { "f.bf16",  DC_TYPE_BF16,         1, { 1, 1, 1 } },
};
#define N_STREAM ((int)(sizeof stream_tensors / sizeof stream_tensors[0]))

static void stream_keys(dc_gguf_writer *w) {
    ck_assert(dc_gguf_set_str(w, "general.architecture", "test") == DC_OK);
    ck_assert(dc_gguf_set_u32(w, "test.n", 7) == DC_OK);
    const char *arr[] = { "x", "yy", "" };
    ck_assert(dc_gguf_set_arr_str(w, "test.strings", arr, 3) == DC_OK);
    ck_assert(dc_gguf_set_u32(w, "general.alignment", 64) == DC_OK);
}

/* Random data for every stream tensor: bufs[i], sizes[i] (free each). */
static void stream_data(uint8_t **bufs, size_t *sizes) {
    dc_test_rng r;
    dc_test_rng_seed(&r, dc_test_seed());
    for (int i = 0; i < N_STREAM; i++) {
        const st_tensor *t = &stream_tensors[i];
        int64_t rows = t->ne[1] * t->ne[2];
        size_t rb = dc_row_size(t->type, t->ne[0]);
        sizes[i] = rb * (size_t)rows;
        bufs[i] = malloc(sizes[i] + 1);
        float *x = malloc((size_t)t->ne[0] * sizeof *x);
        for (int64_t row = 0; row < rows; row++) {
            dc_test_fill_normal(&r, x, (size_t)t->ne[0], 1.0);
            ck_assert(dc_quantize_row(t->type, x, bufs[i] + (size_t)row * rb, t->ne[0]) == DC_OK);
        }
        free(x);
    }
}

START_TEST(test_stream_equals_write) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    uint8_t *bufs[N_STREAM];
    size_t sizes[N_STREAM];
    stream_data(bufs, sizes);
    dc_gguf_writer *a, *b;
    ck_assert(dc_gguf_writer_init(&a) == DC_OK && dc_gguf_writer_init(&b) == DC_OK);
    stream_keys(a);
    stream_keys(b);
    for (int i = 0; i < N_STREAM; i++) {
        const st_tensor *t = &stream_tensors[i];
        ck_assert(dc_gguf_add_tensor(a, t->name, t->type, t->n_dims, t->ne, bufs[i]) == DC_OK);
        ck_assert(dc_gguf_declare_tensor(b, t->name, t->type, t->n_dims, t->ne) == DC_OK);
    }
    ck_assert(dc_gguf_writer_write(a, path_in(dir, "a.gguf")) == DC_OK);
    ck_assert_int_eq(dc_gguf_writer_current(b, NULL), -1);
    ck_assert_msg(dc_gguf_writer_begin(b, path_in(dir, "b.gguf")) == DC_OK, "%s", dc_last_error());
    ck_assert_int_eq(dc_gguf_writer_current(b, NULL), 0);
    /* the data in pieces of 1..97 bytes, spanning tensor boundaries */
    size_t total = 0, done = 0;
    for (int i = 0; i < N_STREAM; i++) total += sizes[i];
    uint8_t *all = malloc(total);
    for (int i = 0; i < N_STREAM; i++) {
        memcpy(all + done, bufs[i], sizes[i]);
        done += sizes[i];
    }
    dc_test_rng r;
    dc_test_rng_seed(&r, 7);
    for (done = 0; done < total;) {
        size_t k = 1 + (size_t)(dc_test_rng_u64(&r) % 97);
        if (k > total - done) k = total - done;
        ck_assert(dc_gguf_writer_append(b, all + done, k) == DC_OK);
        done += k;
    }
    ck_assert_int_eq(dc_gguf_writer_current(b, NULL), N_STREAM);
    ck_assert_msg(dc_gguf_writer_finish(b) == DC_OK, "%s", dc_last_error());
    ck_assert(files_equal(path_in(dir, "a.gguf"), path_in(dir, "b.gguf")));
    dc_gguf *g = open_gguf(path_in(dir, "b.gguf"));
    ck_assert_msg(dc_gguf_verify(g) == DC_OK, "%s", dc_last_error());
    dc_gguf_close(g);
    /* the writer streams again after finish: same file */
    ck_assert(dc_gguf_writer_begin(b, path_in(dir, "c.gguf")) == DC_OK);
    ck_assert(dc_gguf_writer_append(b, all, total) == DC_OK);
    ck_assert(dc_gguf_writer_finish(b) == DC_OK);
    ck_assert(files_equal(path_in(dir, "a.gguf"), path_in(dir, "c.gguf")));
    free(all);
    for (int i = 0; i < N_STREAM; i++) free(bufs[i]);
    dc_gguf_writer_free(a);
    dc_gguf_writer_free(b);
    rm_dir(dir);
}
END_TEST

static dc_gguf_writer *declared_writer(void) {
    dc_gguf_writer *w;
    ck_assert(dc_gguf_writer_init(&w) == DC_OK);
    stream_keys(w);
    const int64_t ne[2] = { 8, 2 };
    ck_assert(dc_gguf_declare_tensor(w, "x", DC_TYPE_F32, 2, ne) == DC_OK);
    ck_assert(dc_gguf_declare_tensor(w, "y", DC_TYPE_F32, 2, ne) == DC_OK);
    return w;
}

START_TEST(test_stream_errors) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    const char *p = path_in(dir, "s.gguf");
    float data[32] = { 0 };
    const int64_t ne[2] = { 8, 2 };
    dc_gguf_writer *w = declared_writer();
    ck_assert_int_eq(dc_gguf_writer_append(w, data, 4), DC_ERR_INVALID_ARG);   /* not begun */
    ck_assert_int_eq(dc_gguf_writer_finish(w), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_writer_write(w, p), DC_ERR_INVALID_ARG);        /* declared */
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "tensor x"));
    ck_assert_int_eq(dc_gguf_writer_begin(w, "/nonexistent-dir/x.gguf"), DC_ERR_IO);
    ck_assert(dc_gguf_writer_begin(w, p) == DC_OK);                          /* not failed */
    ck_assert_int_eq(dc_gguf_writer_begin(w, p), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_set_u32(w, "k", 1), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_unset(w, "test.n"), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_declare_tensor(w, "z", DC_TYPE_F32, 2, ne), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_writer_write(w, p), DC_ERR_INVALID_ARG);
    ck_assert(dc_gguf_writer_append(w, data, 64 + 8) == DC_OK);
    size_t done = 0;
    ck_assert_int_eq(dc_gguf_writer_current(w, &done), 1);
    ck_assert_uint_eq(done, 8);
    /* finishing early names the tensor and removes the file */
    ck_assert_int_eq(dc_gguf_writer_finish(w), DC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "tensor y: 8 of 64"));
    ck_assert(!dc_test_file_exists(p));
    ck_assert_int_eq(dc_gguf_writer_append(w, data, 4), DC_ERR_IO);          /* failed stream */
    /* too many bytes */
    ck_assert(dc_gguf_writer_begin(w, p) == DC_OK);
    ck_assert_int_eq(dc_gguf_writer_append(w, data, sizeof data + 1), DC_ERR_INVALID_ARG);
    ck_assert(!dc_test_file_exists(p));
    /* free while streaming removes the file */
    ck_assert(dc_gguf_writer_begin(w, p) == DC_OK);
    ck_assert(dc_test_file_exists(p));
    dc_gguf_writer_free(w);
    ck_assert(!dc_test_file_exists(p));
    /* a tensor added with data cannot be streamed */
    ck_assert(dc_gguf_writer_init(&w) == DC_OK);
    ck_assert(dc_gguf_add_tensor(w, "x", DC_TYPE_F32, 2, ne, data) == DC_OK);
    ck_assert_int_eq(dc_gguf_writer_begin(w, p), DC_ERR_INVALID_ARG);
    /* unset removes a key and keeps the others in order */
    ck_assert(dc_gguf_set_u32(w, "k1", 1) == DC_OK && dc_gguf_set_u32(w, "k2", 2) == DC_OK &&
              dc_gguf_set_u32(w, "k3", 3) == DC_OK);
    ck_assert(dc_gguf_unset(w, "k2") == DC_OK && dc_gguf_unset(w, "absent") == DC_OK);
    ck_assert(dc_gguf_writer_write(w, p) == DC_OK);
    dc_gguf_writer_free(w);
    dc_gguf *g = open_gguf(p);
    ck_assert_int_eq(dc_gguf_find_key(g, "k2"), -1);
    ck_assert_int_eq(dc_gguf_find_key(g, "k3"), dc_gguf_find_key(g, "k1") + 1);
    dc_gguf_close(g);
    rm_dir(dir);
}
END_TEST

/* Every allocation of a streamed write failing in turn: DC_ERR_NOMEM, no
 * file left behind, until the write succeeds. */
START_TEST(test_stream_alloc_failures) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    const char *p = path_in(dir, "s.gguf");
    float data[16] = { 1, 2, 3 };
    const int64_t ne[2] = { 8, 2 };
    bool ok = false;
    for (long n = 0; n < 1000 && !ok; n++) {
        dc_gguf_writer *w = NULL;
        dc_alloc_fail_after(n);
        dc_status st = dc_gguf_writer_init(&w);
        if (st == DC_OK) st = dc_gguf_set_str(w, "general.architecture", "test");
        if (st == DC_OK) st = dc_gguf_declare_tensor(w, "x", DC_TYPE_F32, 2, ne);
        if (st == DC_OK) st = dc_gguf_writer_begin(w, p);
        if (st == DC_OK) st = dc_gguf_writer_append(w, data, sizeof data);
        if (st == DC_OK) st = dc_gguf_writer_finish(w);
        dc_alloc_fail_after(-1);
        dc_gguf_writer_free(w);
        ck_assert_msg(st == DC_OK || st == DC_ERR_NOMEM, "n = %ld: %s", n, dc_status_str(st));
        ok = st == DC_OK;
        if (!ok) ck_assert(!dc_test_file_exists(p));
    }
    ck_assert(ok);
    dc_gguf *g = open_gguf(p);
    ck_assert(dc_gguf_verify(g) == DC_OK);
    dc_gguf_close(g);
    rm_dir(dir);
}
END_TEST

/* ---- safetensors ------------------------------------------------------------------------------ */

START_TEST(test_st_valid) {
    size_t size;
    uint8_t *base = dc_bad_st_base(&size);
    dc_st_file *f = NULL;
    ck_assert_msg(dc_st_open_memory(base, size, "base", &f) == DC_OK, "%s", dc_q_last_error());
    ck_assert_int_eq(dc_st_n_tensors(f), 2);
    const dc_st_tensor *a = dc_st_find(f, "a"), *b = dc_st_find(f, "b");
    ck_assert(a && b && !dc_st_find(f, "c") && !dc_st_find(f, "__metadata__"));
    ck_assert(a->dtype == DC_ST_F32 && a->n_dims == 2 && a->shape[0] == 2 && a->shape[1] == 2);
    ck_assert(a->n_elements == 4 && a->size == 16 && b->size == 16 && b->data == a->data + 16);
    ck_assert_str_eq(dc_st_dtype_name(DC_ST_F8_E4M3), "F8_E4M3");
    ck_assert_uint_eq(dc_st_dtype_size(DC_ST_BF16), 2);
    dc_st_close(f);
    /* every strict prefix is refused */
    for (size_t n = 0; n < size; n++) {
        ck_assert_msg(dc_st_open_memory(base, n, "prefix", &f) != DC_OK, "prefix %zu", n);
        ck_assert_ptr_null(f);
    }
    free(base);
}
END_TEST

typedef struct bad_ctx {
    char dir[64];
    int  n;
} bad_ctx;

static void check_bad(const char *name, const uint8_t *data, size_t size, void *user) {
    bad_ctx *c = user;
    dc_st_file *f = (dc_st_file *)1;
    dc_status st = dc_st_open_memory(data, size, name, &f);
    ck_assert_msg(st == DC_ERR_FORMAT, "%s: %s (%s)", name, dc_status_str(st), dc_q_last_error());
    ck_assert_ptr_null(f);
    ck_assert_msg(strstr(dc_q_last_error(), name) != NULL, "%s: '%s'", name, dc_q_last_error());
    /* the same through a file */
    const char *p = path_in(c->dir, "bad.safetensors");
    FILE *fp = fopen(p, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert(size == 0 || fwrite(data, 1, size, fp) == size);
    fclose(fp);
    st = dc_st_open(p, &f);
    ck_assert_msg(st == DC_ERR_FORMAT, "%s (file): %s", name, dc_status_str(st));
    ck_assert_ptr_nonnull(strstr(dc_q_last_error(), p));
    c->n++;
}

START_TEST(test_st_hostile) {
    bad_ctx c = { .n = 0 };
    make_tmpdir(c.dir, sizeof c.dir);
    int n = dc_bad_st_generate(check_bad, &c);
    ck_assert_int_ge(n, 45);
    ck_assert_int_eq(n, c.n);
    rm_dir(c.dir);
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text) {
    FILE *fp = fopen(path_in(dir, name), "wb");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Open dir as a checkpoint; the status, with the message checked for `want`. */
static dc_status open_ckpt(const char *dir, const char *want) {
    dc_st_model *m = (dc_st_model *)1;
    dc_status st = dc_st_model_open(dir, &m);
    if (st == DC_OK) {
        dc_st_model_close(m);
        return st;
    }
    ck_assert_ptr_null(m);
    ck_assert_msg(!want || strstr(dc_q_last_error(), want), "want '%s' in '%s'", want,
                  dc_q_last_error());
    return st;
}

START_TEST(test_st_checkpoint) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    hf_fix fx;
    ck_assert(hf_fix_make_v3(&fx, 2, true, 1, 5) == 0);
    ck_assert(hf_fix_write(&fx, dir) == 0);
    dc_st_model *m;
    ck_assert_msg(dc_st_model_open(dir, &m) == DC_OK, "%s", dc_q_last_error());
    ck_assert_int_eq(dc_st_model_n_tensors(m), fx.n);
    uint64_t bytes = 0;
    for (int i = 0; i < fx.n; i++) {
        const dc_st_tensor *t = dc_st_model_find(m, fx.t[i].name);
        ck_assert_msg(t != NULL, "%s", fx.t[i].name);
        ck_assert(t->size == fx.t[i].size && !memcmp(t->data, fx.t[i].data, t->size));
        bytes += t->size;
    }
    ck_assert_uint_eq(dc_st_model_bytes(m), bytes);
    dc_st_model_close(m);

    /* broken indexes */
    const char *idx = "model.safetensors.index.json";
    write_text(dir, idx, "{\"weight_map\": {\"model.norm.weight\": \"../model-00001-of-00002.safetensors\"}}");
    ck_assert_int_eq(open_ckpt(dir, "file name in the folder"), DC_ERR_FORMAT);
    write_text(dir, idx, "{\"weight_map\": {\"model.norm.weight\": \"model-00009-of-00009.safetensors\"}}");
    ck_assert_int_eq(open_ckpt(dir, "shard model-00009-of-00009.safetensors"), DC_ERR_IO);
    write_text(dir, idx, "{\"weight_map\": {\"model.norm.weight\": \"model-00001-of-00002.safetensors\"}}");
    ck_assert_int_eq(open_ckpt(dir, "not in its shard"), DC_ERR_FORMAT);
    write_text(dir, idx, "{\"weight_map\": {\"model.norm.weight\": \"model-00002-of-00002.safetensors\","
                         "\"model.norm.weight\": \"model-00002-of-00002.safetensors\"}}");
    ck_assert_int_eq(open_ckpt(dir, "listed twice"), DC_ERR_FORMAT);
    write_text(dir, idx, "{\"metadata\": {}}");
    ck_assert_int_eq(open_ckpt(dir, "weight_map"), DC_ERR_FORMAT);
    write_text(dir, idx, "{\"weight_map\": {\"x\": 3}}");
    ck_assert_int_eq(open_ckpt(dir, "tensor x"), DC_ERR_FORMAT);
    write_text(dir, idx, "{\"weight_map\": ");
    ck_assert_int_eq(open_ckpt(dir, "not valid JSON"), DC_ERR_FORMAT);
    write_text(dir, idx, "{\"weight_map\": {\"a\": \"model-00002-of-00002.safetensors\"}}");
    write_text(dir, "model-00002-of-00002.safetensors", "garbage!garbage!");
    ck_assert_int_eq(open_ckpt(dir, "model-00002-of-00002.safetensors"), DC_ERR_FORMAT);
    rm_dir(dir);
    make_tmpdir(dir, sizeof dir);
    ck_assert_int_eq(open_ckpt(dir, "neither"), DC_ERR_NOT_FOUND);
    rm_dir(dir);
    hf_fix_free(&fx);
}
END_TEST

/* ---- requantization ----------------------------------------------------------------------------- */

/* Largest relative RMS error (||deq(q(x)) - x|| / ||x|| per tensor) allowed
 * for Gaussian weights; measured values are about half of these. */
static double rel_rms_bound(dc_type t) {
    switch (t) {
    case DC_TYPE_F32:          return 0.0;
    case DC_TYPE_F16:          return 5e-4;
    case DC_TYPE_BF16:         return 4e-3;
    case DC_TYPE_Q8_0:         return 8e-3;
    case DC_TYPE_Q6_K:         return 2e-2;
    case DC_TYPE_F8_E4M3_B128: return 4e-2;
    case DC_TYPE_Q5_K:         return 4e-2;
    case DC_TYPE_Q5_0:         return 5e-2;
    case DC_TYPE_Q4_K:         return 8e-2;
    case DC_TYPE_Q4_0:         return 1.2e-1;
    default:                   return 1.5e-1;
    }
}

/* Every tensor of out against in: want(name) gives the expected type (NULL:
 * base with the fallback); bytes must equal dc_quantize_row of the source
 * rows, the error stay within the type's bound. */
static void check_against_source(const char *in, const char *out, dc_type base,
                                 dc_type (*want)(const char *name, const int64_t *ne)) {
    dc_gguf *gi = open_gguf(in), *go = open_gguf(out);
    ck_assert_int_eq(dc_gguf_n_tensors(gi), dc_gguf_n_tensors(go));
    ck_assert_msg(dc_gguf_verify(go) == DC_OK, "%s", dc_last_error());
    for (int64_t i = 0; i < dc_gguf_n_tensors(go); i++) {
        dc_gguf_tensor_info to, ti;
        ck_assert(dc_gguf_tensor(go, i, &to) == DC_OK);
        ti = tensor_info(gi, to.name);
        ck_assert(memcmp(ti.ne, to.ne, sizeof ti.ne) == 0 && ti.n_dims == to.n_dims);
        dc_type t = dc_q_keep_f32(to.name, to.n_dims) ? DC_TYPE_F32
                    : want ? want(to.name, to.ne) : dc_q_fallback(base, to.ne[0]);
        ck_assert_msg(to.type == t, "%s: %s, want %s", to.name, dc_type_name(to.type), dc_type_name(t));
        if (ti.type == to.type) {   /* copied */
            ck_assert(ti.size == to.size && !memcmp(ti.data, to.data, ti.size));
            continue;
        }
        const int64_t ne0 = to.ne[0], rows = to.ne[1] * to.ne[2] * to.ne[3];
        const size_t rbi = dc_row_size(ti.type, ne0), rbo = dc_row_size(t, ne0);
        float *x = malloc((size_t)ne0 * sizeof *x), *y = malloc((size_t)ne0 * sizeof *y);
        uint8_t *q = malloc(rbo);
        double err = 0, norm = 0;
        for (int64_t r = 0; r < rows; r++) {
            ck_assert(dc_dequantize_row(ti.type, (const uint8_t *)ti.data + (size_t)r * rbi, x, ne0) == DC_OK);
            ck_assert(dc_quantize_row(t, x, q, ne0) == DC_OK);
            ck_assert_msg(!memcmp(q, (const uint8_t *)to.data + (size_t)r * rbo, rbo), "%s row %lld",
                          to.name, (long long)r);
            ck_assert(dc_dequantize_row(t, q, y, ne0) == DC_OK);
            for (int64_t k = 0; k < ne0; k++) {
                err += ((double)y[k] - x[k]) * ((double)y[k] - x[k]);
                norm += (double)x[k] * x[k];
            }
        }
        double rel = sqrt(err / (norm > 0 ? norm : 1));
        ck_assert_msg(rel <= rel_rms_bound(t), "%s as %s: relative RMS error %g > %g", to.name,
                      dc_type_name(t), rel, rel_rms_bound(t));
        free(x);
        free(y);
        free(q);
    }
    dc_gguf_close(gi);
    dc_gguf_close(go);
}

static const struct {
    const char *name;
    uint32_t    ftype;
} requant_types[] = {
    { "F32", 0 },  { "F16", 1 },  { "BF16", 32 }, { "Q8_0", 7 },  { "Q4_0", 2 },
    { "Q4_K", 14 }, { "Q5_K", 16 }, { "Q6_K", 18 }, { "F8_E4M3_B128", 1024 },
};

START_TEST(test_requant_type) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    const char *name = requant_types[_i].name, *out = path_in(dir, "out.gguf");
    dc_q_params p = params(name, 2);
    dc_type t;
    ck_assert(dc_type_from_name(name, &t) == DC_OK);
    ck_assert_msg(dc_q_requantize(fixture("tiny-v3"), out, &p) == DC_OK, "%s", dc_q_last_error());
    check_against_source(fixture("tiny-v3"), out, t, NULL);
    dc_gguf *g = open_gguf(out);
    ck_assert_uint_eq(key_u32(g, "general.file_type"), requant_types[_i].ftype);
    ck_assert_int_eq(dc_gguf_find_key(g, "deepc.fp8.version") >= 0, t == DC_TYPE_F8_E4M3_B128);
    if (t == DC_TYPE_F8_E4M3_B128) ck_assert_uint_eq(key_u32(g, "deepc.fp8.version"), 1);
    dc_gguf_close(g);
    /* the runtime takes it, and it decodes close to the F32 model */
    double d = logits_rel_diff(fixture("tiny-v3"), out);
    ck_assert_msg(d < (t == DC_TYPE_F32 ? 1e-6 : 0.5), "%s: logits differ by %g", name, d);
    dc_q_plan_free(&p.plan);
    rm_dir(dir);
}
END_TEST

START_TEST(test_requant_threads) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    const char *targets[] = { "Q4_K_M", "F8_E4M3_B128" };
    for (int k = 0; k < 2; k++) {
        for (int threads = 1; threads <= 3; threads++) {
            dc_q_params p = params(targets[k], threads);
            char name[32];
            snprintf(name, sizeof name, "t%d.gguf", threads);
            ck_assert_msg(dc_q_requantize(fixture("tiny-v3"), path_in(dir, name), &p) == DC_OK,
                          "%s", dc_q_last_error());
            dc_q_plan_free(&p.plan);
        }
        ck_assert_msg(files_equal(path_in(dir, "t1.gguf"), path_in(dir, "t2.gguf")), "%s", targets[k]);
        ck_assert_msg(files_equal(path_in(dir, "t1.gguf"), path_in(dir, "t3.gguf")), "%s", targets[k]);
    }
    rm_dir(dir);
}
END_TEST

static dc_type want_overrides(const char *name, const int64_t *ne) {
    if (!strncmp(name, "blk.2.", 6)) return dc_q_fallback(DC_TYPE_Q8_0, ne[0]);
    if (strstr(name, "ffn_down_exps")) return DC_TYPE_Q6_K;
    return dc_q_fallback(DC_TYPE_Q4_K, ne[0]);
}

START_TEST(test_requant_overrides) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    dc_q_params p = params("Q4_K", 2);
    ck_assert(dc_q_plan_add_override(&p.plan, "blk.*.ffn_down_exps.weight=Q6_K") == DC_OK);
    ck_assert(dc_q_plan_add_override(&p.plan, "blk.2.*=q8_0") == DC_OK);
    ck_assert_int_eq(dc_q_plan_add_override(&p.plan, "blk.*=Q9_K"), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_q_plan_add_override(&p.plan, "=Q8_0"), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_q_plan_add_override(&p.plan, "blk.*=Q8_K"), DC_ERR_INVALID_ARG);
    ck_assert_msg(dc_q_requantize(fixture("tiny-v3"), path_in(dir, "o.gguf"), &p) == DC_OK, "%s",
                  dc_q_last_error());
    check_against_source(fixture("tiny-v3"), path_in(dir, "o.gguf"), DC_TYPE_Q4_K, want_overrides);
    dc_q_plan_free(&p.plan);
    /* a file already of the target type is copied byte for byte (tensor data) */
    p = params("Q8_0", 1);
    ck_assert(dc_q_requantize(fixture("tiny-v3-q8_0"), path_in(dir, "c.gguf"), &p) == DC_OK);
    check_against_source(fixture("tiny-v3-q8_0"), path_in(dir, "c.gguf"), DC_TYPE_Q8_0, NULL);
    /* errors leave no file */
    ck_assert_int_eq(dc_q_requantize(path_in(dir, "absent.gguf"), path_in(dir, "x.gguf"), &p), DC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dc_q_last_error(), "absent.gguf"));
    ck_assert_int_eq(dc_q_requantize(fixture("tiny-v3"), "/nonexistent-dir/x.gguf", &p), DC_ERR_IO);
    ck_assert_int_eq(dc_q_requantize(path_in(dir, "c.gguf"), path_in(dir, "c.gguf"), &p), DC_ERR_INVALID_ARG);
    ck_assert(dc_test_file_exists(path_in(dir, "c.gguf")));
    ck_assert_int_eq(dc_q_plan_set_target(&p.plan, "Q7_X"), DC_ERR_INVALID_ARG);
    dc_q_plan_free(&p.plan);
    rm_dir(dir);
}
END_TEST

/* ---- mixes -------------------------------------------------------------------------------------- */

/* Each tensor of a has the type of b's tensor of the same name (b may order
 * them differently); returns the number compared. */
static int64_t same_types(const char *a, const char *b) {
    dc_gguf *ga = open_gguf(a), *gb = open_gguf(b);
    ck_assert_int_eq(dc_gguf_n_tensors(ga), dc_gguf_n_tensors(gb));
    for (int64_t i = 0; i < dc_gguf_n_tensors(ga); i++) {
        dc_gguf_tensor_info ta, tb;
        ck_assert(dc_gguf_tensor(ga, i, &ta) == DC_OK);
        tb = tensor_info(gb, ta.name);
        ck_assert_msg(ta.type == tb.type, "%s: %s vs %s", ta.name, dc_type_name(ta.type),
                      dc_type_name(tb.type));
    }
    int64_t n = dc_gguf_n_tensors(ga);
    dc_gguf_close(ga);
    dc_gguf_close(gb);
    return n;
}

static const char *q4_k_m_want_file;   /* the reference for want_q4_k_m */

static dc_type want_q4_k_m(const char *name, const int64_t *ne) {
    (void)ne;
    dc_gguf *g = open_gguf(q4_k_m_want_file);
    dc_type t = tensor_info(g, name).type;
    dc_gguf_close(g);
    return t;
}

START_TEST(test_q4_k_m_fixture) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    dc_q_params p = params("Q4_K_M", 2);
    const char *out = path_in(dir, "q.gguf");
    ck_assert_msg(dc_q_requantize(fixture("tiny-v3"), out, &p) == DC_OK, "%s", dc_q_last_error());
    /* types: the peer's llama-quantize output of the same shapes */
    ck_assert_int_eq(same_types(out, fixture("tiny-v3-q4_k_m")), 52);
    /* bytes: dc_quantize_row of the source rows */
    char ref[1024], src[1024];
    snprintf(ref, sizeof ref, "%s", fixture("tiny-v3-q4_k_m"));
    snprintf(src, sizeof src, "%s", fixture("tiny-v3"));
    q4_k_m_want_file = ref;
    check_against_source(src, out, DC_TYPE_Q4_K, want_q4_k_m);
    dc_gguf *g = open_gguf(out);
    ck_assert_uint_eq(key_u32(g, "general.file_type"), 15);
    dc_gguf_close(g);
    dc_q_plan_free(&p.plan);
    rm_dir(dir);
}
END_TEST

/* deepc-make-model next to this test binary (build/quantize/). */
static const char *make_model_path(void) {
    static char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 64);
    ck_assert(n > 0);
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    ck_assert_ptr_nonnull(slash);
    strcpy(slash, "/../quantize/deepc-make-model");
    ck_assert_msg(access(buf, X_OK) == 0, "%s not built", buf);
    return buf;
}

static void make_model(const char *args, const char *out) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s --threads 2 -o %s > /dev/null", make_model_path(), args, out);
    ck_assert_msg(system(cmd) == 0, "failed: %s", cmd);
}

/* V2-Lite / V3 shapes in small: the row lengths keep their class (multiple of
 * 256, or 128 / 192 past one: every fallback of the mix), experts stay != 8,
 * the layer counts give both kinds of ffn_down; types spot-checked against
 * spec/fp8-gguf.md §2.6 (use_more_bits(i, n): n = 3 -> layer 2; n = 5 ->
 * layers 2 and 4). */
typedef struct spot {
    const char *name;
    dc_type     type;
} spot;

static const struct {
    const char *args;
    spot        spots[8];
} shaped[] = {
    { "--preset v2-lite --layers 3 --experts 16 --experts-used 6 --expert-ff 384 --hidden 512 "
      "--ff 448 --vocab 1000",
      { { "blk.0.ffn_down.weight", DC_TYPE_Q5_0 },       /* 448: Q4_K -> Q5_0   */
        { "blk.1.ffn_down_exps.weight", DC_TYPE_Q5_0 },  /* 384: Q4_K -> Q5_0   */
        { "blk.2.ffn_down_exps.weight", DC_TYPE_Q8_0 },  /* 384: Q6_K -> Q8_0   */
        { "blk.2.ffn_down_shexp.weight", DC_TYPE_Q6_K }, /* 768                 */
        { "blk.1.attn_q.weight", DC_TYPE_Q4_K },
        { "blk.1.attn_k_b.weight", DC_TYPE_Q5_0 },       /* rows of 128         */
        { "blk.2.ffn_gate_inp.weight", DC_TYPE_F32 },
        { "blk.1.attn_output.weight", DC_TYPE_Q4_K } } },
    { "--preset v3 --layers 5 --dense-layers 3 --heads 8 --experts 16 --expert-ff 256 "
      "--hidden 1024 --ff 512 --vocab 1000",
      { { "blk.2.ffn_down.weight", DC_TYPE_Q6_K },
        { "blk.1.ffn_down.weight", DC_TYPE_Q4_K },
        { "blk.3.ffn_down_exps.weight", DC_TYPE_Q4_K },
        { "blk.4.ffn_down_exps.weight", DC_TYPE_Q6_K },
        { "blk.4.ffn_down_shexp.weight", DC_TYPE_Q6_K },
        { "blk.1.attn_k_b.weight", DC_TYPE_Q5_0 },
        { "blk.4.exp_probs_b.bias", DC_TYPE_F32 },
        { "blk.1.attn_output.weight", DC_TYPE_Q4_K } } },
};

START_TEST(test_q4_k_m_shapes) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    char args[1024];
    const char *src = path_in(dir, "src.gguf"), *mix = path_in(dir, "mix.gguf"), *out = path_in(dir, "q.gguf");
    snprintf(args, sizeof args, "%s --type F16", shaped[_i].args);
    make_model(args, src);
    snprintf(args, sizeof args, "%s --mix q4_k_m", shaped[_i].args);
    make_model(args, mix);
    dc_q_params p = params("Q4_K_M", 2);
    ck_assert_msg(dc_q_requantize(src, out, &p) == DC_OK, "%s", dc_q_last_error());
    same_types(out, mix);   /* quantize/mix.c, as deepc-make-model applies it */
    dc_gguf *g = open_gguf(out);
    ck_assert(tensor_info(g, "output.weight").type == DC_TYPE_Q6_K);
    ck_assert(tensor_info(g, "token_embd.weight").type == DC_TYPE_Q4_K);
    ck_assert(tensor_info(g, "blk.0.attn_norm.weight").type == DC_TYPE_F32);
    for (int k = 0; k < 8; k++)
        ck_assert_msg(tensor_info(g, shaped[_i].spots[k].name).type == shaped[_i].spots[k].type,
                      "%s", shaped[_i].spots[k].name);
    dc_gguf_close(g);
    dc_q_plan_free(&p.plan);
    rm_dir(dir);
}
END_TEST

static bool moe_fp8;

static dc_type want_moe_q4(const char *name, const int64_t *ne) {
    if (strstr(name, "_exps.")) return dc_q_fallback(DC_TYPE_Q4_K, ne[0]);
    if (!strcmp(name, "output.weight")) return dc_q_fallback(DC_TYPE_Q6_K, ne[0]);
    if (!strcmp(name, "token_embd.weight")) return DC_TYPE_Q8_0;
    return moe_fp8 && ne[0] % 128 == 0 ? DC_TYPE_F8_E4M3_B128 : dc_q_fallback(DC_TYPE_Q8_0, ne[0]);
}

START_TEST(test_moe_q4) {
    char dir[64];
    make_tmpdir(dir, sizeof dir);
    for (int fp8 = 0; fp8 < 2; fp8++) {
        dc_q_params p = params("MOE_Q4", 2);
        p.plan.moe_attn_fp8 = moe_fp8 = fp8;
        const char *out = path_in(dir, "m.gguf");
        ck_assert_msg(dc_q_requantize(fixture("tiny-v3"), out, &p) == DC_OK, "%s", dc_q_last_error());
        check_against_source(fixture("tiny-v3"), out, DC_TYPE_Q8_0, want_moe_q4);
        dc_gguf *g = open_gguf(out);
        ck_assert_uint_eq(key_u32(g, "general.file_type"), fp8 ? 1026 : 1025);
        ck_assert_int_eq(dc_gguf_find_key(g, "deepc.fp8.version") >= 0, fp8);
        ck_assert(tensor_info(g, "blk.1.ffn_up_exps.weight").type == DC_TYPE_Q4_K);
        ck_assert(tensor_info(g, "blk.1.attn_kv_a_mqa.weight").type ==
                  (fp8 ? DC_TYPE_F8_E4M3_B128 : DC_TYPE_Q8_0));
        dc_gguf_close(g);
        ck_assert(logits_rel_diff(fixture("tiny-v3"), out) < 0.5);
        dc_q_plan_free(&p.plan);
    }
    rm_dir(dir);
}
END_TEST

/* ---- Hugging Face conversion ------------------------------------------------------------------- */

/* The GGUF the converter should write, built here from the fixture's values
 * with the spec's maps (spec/deepseek-arch.md §2.6, §3.5, §4, §5). */
typedef enum emode {
    E_F32,     /* every tensor F32                                          */
    E_KEEP,    /* checkpoint precision: FP8 -> F8_E4M3_B128 blocks copied
                  from the checkpoint (BF16 where rows are not 128-multiples),
                  BF16 kept; norms, router, biases F32                        */
    E_QUANT    /* qtype (with the row fallback) by dc_quantize_row           */
} emode;

typedef struct expect {
    const hf_fix   *f;
    dc_gguf_writer *w;
    emode           mode;
    dc_type         qtype;
    bool            legacy;    /* deepseek2: one attn_kv_b, no *_mla keys    */
    bool            no_perm;   /* llama weights written as qwen2 (NEOX rope) */
    bool            mtp;       /* write the MTP layer                        */
    void           *bufs[2048];
    int             n_bufs;
} expect;

static const hf_fix_tensor *src_t(const expect *e, const char *name) {
    const hf_fix_tensor *t = hf_fix_find(e->f, name);
    ck_assert_msg(t != NULL, "fixture lacks %s", name);
    return t;
}

/* F8_E4M3_B128 row from checkpoint row r of t (one tile scale per block). */
static void f8_row(const hf_fix_tensor *t, int64_t r, uint8_t *dst) {
    for (int64_t b = 0; b < t->cols / 128; b++) {
        float s;
        memcpy(&s, t->scale->data + 4 * ((r / 128) * t->scale->cols + b), 4);
        memcpy(dst + 132 * b, &s, 4);
        memcpy(dst + 132 * b + 4, t->data + r * t->cols + 128 * b, 128);
    }
}

/* Add tensor name from values x [ne0 * ne1 * ne2]; rows[i] (may be NULL)
 * names the checkpoint row each output row copies, for F8 blocks. */
static void emit(expect *e, const char *name, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                 const float *x, const hf_fix_tensor *const *rows_t, const int64_t *rows_r) {
    const int64_t ne[3] = { ne0, ne1, ne2 }, rows = ne1 * ne2;
    const hf_fix_tensor *src = rows_t ? rows_t[0] : NULL;
    dc_type t = DC_TYPE_F32;
    if (!dc_q_keep_f32(name, n_dims)) {
        if (e->mode == E_QUANT) t = dc_q_fallback(e->qtype, ne0);
        if (e->mode == E_KEEP && src && !strcmp(src->dtype, "BF16")) t = DC_TYPE_BF16;
        if (e->mode == E_KEEP && src && !strcmp(src->dtype, "F8_E4M3"))
            t = ne0 % 128 == 0 && rows_r ? DC_TYPE_F8_E4M3_B128 : DC_TYPE_BF16;
    }
    const size_t rb = dc_row_size(t, ne0);
    uint8_t *buf = malloc(rb * (size_t)rows + 1);
    ck_assert_ptr_nonnull(buf);
    for (int64_t r = 0; r < rows; r++) {
        if (t == DC_TYPE_F8_E4M3_B128) f8_row(rows_t[r], rows_r[r], buf + (size_t)r * rb);
        else ck_assert(dc_quantize_row(t, x + r * ne0, buf + (size_t)r * rb, ne0) == DC_OK);
    }
    ck_assert(e->n_bufs < 2048);
    e->bufs[e->n_bufs++] = buf;
    ck_assert_msg(dc_gguf_add_tensor(e->w, name, t, n_dims, ne, buf) == DC_OK, "%s", dc_last_error());
}

/* out[c + ne0*r] = W[r, c] (1-D when ne1 == 0). */
static void e_plain(expect *e, const char *gname, const char *hname, int64_t ne0, int64_t ne1) {
    const hf_fix_tensor *t = src_t(e, hname);
    const int64_t rows = ne1 ? ne1 : 1;
    ck_assert(t->rows == rows && t->cols == ne0);
    float *x = malloc((size_t)(ne0 * rows) * sizeof *x);
    const hf_fix_tensor **rt = malloc((size_t)rows * sizeof *rt);
    int64_t *rr = malloc((size_t)rows * sizeof *rr);
    for (int64_t r = 0; r < rows; r++) {
        rt[r] = t;
        rr[r] = r;
        for (int64_t c = 0; c < ne0; c++) x[r * ne0 + c] = hf_fix_value(t, r, c);
    }
    emit(e, gname, ne1 ? 2 : 1, ne0, rows, 1, x, rt, rr);
    free(x);
    free(rt);
    free(rr);
}

/* Experts stacked: out[c + ne0*r + ne0*ne1*x] = W_x[r, c]. */
static void e_experts(expect *e, const char *gname, int il, const char *proj, int64_t ne0, int64_t ne1) {
    const int64_t X = e->f->X, rows = ne1 * X;
    float *x = malloc((size_t)(ne0 * rows) * sizeof *x);
    const hf_fix_tensor **rt = malloc((size_t)rows * sizeof *rt);
    int64_t *rr = malloc((size_t)rows * sizeof *rr);
    char name[128];
    for (int64_t k = 0; k < X; k++) {
        snprintf(name, sizeof name, "model.layers.%d.mlp.experts.%lld.%s.weight", il, (long long)k, proj);
        const hf_fix_tensor *t = src_t(e, name);
        for (int64_t r = 0; r < ne1; r++) {
            rt[k * ne1 + r] = t;
            rr[k * ne1 + r] = r;
            for (int64_t c = 0; c < ne0; c++) x[(k * ne1 + r) * ne0 + c] = hf_fix_value(t, r, c);
        }
    }
    emit(e, gname, 3, ne0, ne1, X, x, rt, rr);
    free(x);
    free(rt);
    free(rr);
}

/* kv_b_proj W [H*(dn+dv), kv] -> k_b[d + dn*c + dn*kv*h] = W[h*(dn+dv) + d, c],
 * v_b[c + kv*j + kv*dv*h] = W[h*(dn+dv) + dn + j, c] (spec §2.6). */
static void e_kv_b(expect *e, int il) {
    const hf_fix *f = e->f;
    const int64_t H = f->H, dn = f->dn, dv = f->dv, kv = f->kv;
    char h[128], g[64];
    snprintf(h, sizeof h, "model.layers.%d.self_attn.kv_b_proj.weight", il);
    if (e->legacy) {
        snprintf(g, sizeof g, "blk.%d.attn_kv_b.weight", il);
        e_plain(e, g, h, kv, H * (dn + dv));
        return;
    }
    const hf_fix_tensor *w = src_t(e, h);
    float *k = malloc((size_t)(dn * kv * H) * sizeof *k), *v = malloc((size_t)(kv * dv * H) * sizeof *v);
    for (int64_t hh = 0; hh < H; hh++)
        for (int64_t c = 0; c < kv; c++) {
            for (int64_t d = 0; d < dn; d++)
                k[d + dn * c + dn * kv * hh] = hf_fix_value(w, hh * (dn + dv) + d, c);
            for (int64_t j = 0; j < dv; j++)
                v[c + kv * j + kv * dv * hh] = hf_fix_value(w, hh * (dn + dv) + dn + j, c);
        }
    const hf_fix_tensor *rt[1] = { w };   /* dtype only: rows_r NULL keeps BF16 / F32 */
    snprintf(g, sizeof g, "blk.%d.attn_k_b.weight", il);
    emit(e, g, 3, dn, kv, H, k, e->mode == E_KEEP ? rt : NULL, NULL);
    snprintf(g, sizeof g, "blk.%d.attn_v_b.weight", il);
    emit(e, g, 3, kv, dv, H, v, e->mode == E_KEEP ? rt : NULL, NULL);
    free(k);
    free(v);
}

/* llama q/k: output row h*hd + 2i + t is HF row h*hd + t*hd/2 + i. */
static void e_perm(expect *e, const char *gname, const char *hname, int64_t ne0, int64_t heads) {
    if (e->no_perm) {
        e_plain(e, gname, hname, ne0, heads * e->f->hd);
        return;
    }
    const hf_fix_tensor *t = src_t(e, hname);
    const int64_t hd = e->f->hd, rows = heads * hd;
    float *x = malloc((size_t)(ne0 * rows) * sizeof *x);
    for (int64_t h = 0; h < heads; h++)
        for (int64_t i = 0; i < hd / 2; i++)
            for (int tt = 0; tt < 2; tt++)
                for (int64_t c = 0; c < ne0; c++)
                    x[(h * hd + 2 * i + tt) * ne0 + c] = hf_fix_value(t, h * hd + tt * hd / 2 + i, c);
    const hf_fix_tensor *rt[1] = { t };
    emit(e, gname, 2, ne0, rows, 1, x, rt, NULL);
    free(x);
}

#define NM(buf, ...) (snprintf(buf, sizeof buf, __VA_ARGS__), buf)

static void e_v3_layer(expect *e, int il) {
    const hf_fix *f = e->f;
    const int64_t E = f->E, H = f->H;
    char g[64], h[128];
    e_plain(e, NM(g, "blk.%d.attn_norm.weight", il), NM(h, "model.layers.%d.input_layernorm.weight", il), E, 0);
    if (f->q_lora) {
        e_plain(e, NM(g, "blk.%d.attn_q_a.weight", il), NM(h, "model.layers.%d.self_attn.q_a_proj.weight", il), E, f->q_lora);
        e_plain(e, NM(g, "blk.%d.attn_q_a_norm.weight", il), NM(h, "model.layers.%d.self_attn.q_a_layernorm.weight", il), f->q_lora, 0);
        e_plain(e, NM(g, "blk.%d.attn_q_b.weight", il), NM(h, "model.layers.%d.self_attn.q_b_proj.weight", il), f->q_lora, H * (f->dn + f->dr));
    } else {
        e_plain(e, NM(g, "blk.%d.attn_q.weight", il), NM(h, "model.layers.%d.self_attn.q_proj.weight", il), E, H * (f->dn + f->dr));
    }
    e_plain(e, NM(g, "blk.%d.attn_kv_a_mqa.weight", il), NM(h, "model.layers.%d.self_attn.kv_a_proj_with_mqa.weight", il), E, f->kv + f->dr);
    e_plain(e, NM(g, "blk.%d.attn_kv_a_norm.weight", il), NM(h, "model.layers.%d.self_attn.kv_a_layernorm.weight", il), f->kv, 0);
    e_kv_b(e, il);
    e_plain(e, NM(g, "blk.%d.attn_output.weight", il), NM(h, "model.layers.%d.self_attn.o_proj.weight", il), H * f->dv, E);
    e_plain(e, NM(g, "blk.%d.ffn_norm.weight", il), NM(h, "model.layers.%d.post_attention_layernorm.weight", il), E, 0);
    if (il < f->dense) {
        e_plain(e, NM(g, "blk.%d.ffn_gate.weight", il), NM(h, "model.layers.%d.mlp.gate_proj.weight", il), E, f->F);
        e_plain(e, NM(g, "blk.%d.ffn_up.weight", il), NM(h, "model.layers.%d.mlp.up_proj.weight", il), E, f->F);
        e_plain(e, NM(g, "blk.%d.ffn_down.weight", il), NM(h, "model.layers.%d.mlp.down_proj.weight", il), f->F, E);
    } else {
        const int64_t S = f->F_exp * f->shared;
        e_plain(e, NM(g, "blk.%d.ffn_gate_inp.weight", il), NM(h, "model.layers.%d.mlp.gate.weight", il), E, f->X);
        if (!f->v2)
            e_plain(e, NM(g, "blk.%d.exp_probs_b.bias", il), NM(h, "model.layers.%d.mlp.gate.e_score_correction_bias", il), f->X, 0);
        e_experts(e, NM(g, "blk.%d.ffn_gate_exps.weight", il), il, "gate_proj", E, f->F_exp);
        e_experts(e, NM(g, "blk.%d.ffn_up_exps.weight", il), il, "up_proj", E, f->F_exp);
        e_experts(e, NM(g, "blk.%d.ffn_down_exps.weight", il), il, "down_proj", f->F_exp, E);
        e_plain(e, NM(g, "blk.%d.ffn_gate_shexp.weight", il), NM(h, "model.layers.%d.mlp.shared_experts.gate_proj.weight", il), E, S);
        e_plain(e, NM(g, "blk.%d.ffn_up_shexp.weight", il), NM(h, "model.layers.%d.mlp.shared_experts.up_proj.weight", il), E, S);
        e_plain(e, NM(g, "blk.%d.ffn_down_shexp.weight", il), NM(h, "model.layers.%d.mlp.shared_experts.down_proj.weight", il), S, E);
    }
    if (il < f->L) return;
    e_plain(e, NM(g, "blk.%d.nextn.eh_proj.weight", il), NM(h, "model.layers.%d.eh_proj.weight", il), 2 * E, E);
    e_plain(e, NM(g, "blk.%d.nextn.enorm.weight", il), NM(h, "model.layers.%d.enorm.weight", il), E, 0);
    e_plain(e, NM(g, "blk.%d.nextn.hnorm.weight", il), NM(h, "model.layers.%d.hnorm.weight", il), E, 0);
    e_plain(e, NM(g, "blk.%d.nextn.shared_head_norm.weight", il), NM(h, "model.layers.%d.shared_head.norm.weight", il), E, 0);
    e_plain(e, NM(g, "blk.%d.nextn.shared_head_head.weight", il), NM(h, "model.layers.%d.shared_head.head.weight", il), E, f->V);
    e_plain(e, NM(g, "blk.%d.nextn.embed_tokens.weight", il), NM(h, "model.layers.%d.embed_tokens.weight", il), E, f->V);
}

static void e_v3_keys(expect *e) {
    const hf_fix *f = e->f;
    dc_gguf_writer *w = e->w;
    ck_assert(dc_gguf_set_str(w, "general.architecture", "deepseek2") == DC_OK);
#define U(k, v) ck_assert(dc_gguf_set_u32(w, "deepseek2." k, (uint32_t)(v)) == DC_OK)
#define F(k, v) ck_assert(dc_gguf_set_f32(w, "deepseek2." k, (float)(v)) == DC_OK)
    U("context_length", 4096); U("embedding_length", f->E); U("block_count", f->L + e->mtp);
    U("feed_forward_length", f->F); U("vocab_size", f->V); U("attention.head_count", f->H);
    if (f->q_lora) U("attention.q_lora_rank", f->q_lora);
    U("attention.kv_lora_rank", f->kv);
    if (e->legacy) {
        U("attention.head_count_kv", f->H); U("attention.key_length", f->dn + f->dr);
        U("attention.value_length", f->dv);
    } else {
        U("attention.head_count_kv", 1); U("attention.key_length", f->kv + f->dr);
        U("attention.value_length", f->kv); U("attention.key_length_mla", f->dn + f->dr);
        U("attention.value_length_mla", f->dv);
    }
    F("attention.layer_norm_rms_epsilon", 1e-6); U("rope.dimension_count", f->dr);
    F("rope.freq_base", 10000); F("rope.scaling.factor", 4);
    ck_assert(dc_gguf_set_str(w, "deepseek2.rope.scaling.type", "yarn") == DC_OK);
    U("rope.scaling.original_context_length", 1024);
    F("rope.scaling.yarn_log_multiplier", f->v2 ? 0.1 * 0.707 : 0.1);
    U("leading_dense_block_count", f->dense); U("expert_count", f->X); U("expert_used_count", f->X_used);
    U("expert_shared_count", f->shared); U("expert_feed_forward_length", f->F_exp);
    F("expert_weights_scale", f->v2 ? 1.0 : 2.5); U("expert_gating_func", f->v2 ? 1 : 2);
    U("expert_group_count", f->groups); U("expert_group_used_count", f->groups_used);
    if (!f->v2) ck_assert(dc_gguf_set_bool(w, "deepseek2.expert_weights_norm", true) == DC_OK);
    if (e->mtp) U("nextn_predict_layers", 1);
#undef U
#undef F
}

static void e_dense(expect *e, bool as_qwen2) {
    const hf_fix *f = e->f;
    const char *arch = as_qwen2 || f->arch == HF_FIX_QWEN2 ? "qwen2" : "llama";
    const int64_t E = f->E, hd = f->hd, Q = f->H * hd, KV = f->Hkv * hd;
    dc_gguf_writer *w = e->w;
    char k[96], g[64], h[128];
    ck_assert(dc_gguf_set_str(w, "general.architecture", arch) == DC_OK);
    const struct { const char *k; int64_t v; } u[] = {
        { "context_length", 2048 }, { "embedding_length", E }, { "block_count", f->L },
        { "feed_forward_length", f->F }, { "attention.head_count", f->H },
        { "attention.head_count_kv", f->Hkv }, { "rope.dimension_count", hd },
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        ck_assert(dc_gguf_set_u32(w, NM(k, "%s.%s", arch, u[i].k), (uint32_t)u[i].v) == DC_OK);
    ck_assert(dc_gguf_set_f32(w, NM(k, "%s.attention.layer_norm_rms_epsilon", arch), 1e-5f) == DC_OK);
    ck_assert(dc_gguf_set_f32(w, NM(k, "%s.rope.freq_base", arch),
                              f->arch == HF_FIX_LLAMA ? 500000.0f : 1000000.0f) == DC_OK);
    e_plain(e, "token_embd.weight", "model.embed_tokens.weight", E, f->V);
    for (int il = 0; il < f->L; il++) {
        e_plain(e, NM(g, "blk.%d.attn_norm.weight", il), NM(h, "model.layers.%d.input_layernorm.weight", il), E, 0);
        bool perm = f->arch == HF_FIX_LLAMA;
        if (perm) {
            e_perm(e, NM(g, "blk.%d.attn_q.weight", il), NM(h, "model.layers.%d.self_attn.q_proj.weight", il), E, f->H);
            e_perm(e, NM(g, "blk.%d.attn_k.weight", il), NM(h, "model.layers.%d.self_attn.k_proj.weight", il), E, f->Hkv);
        } else {
            e_plain(e, NM(g, "blk.%d.attn_q.weight", il), NM(h, "model.layers.%d.self_attn.q_proj.weight", il), E, Q);
            e_plain(e, NM(g, "blk.%d.attn_k.weight", il), NM(h, "model.layers.%d.self_attn.k_proj.weight", il), E, KV);
        }
        e_plain(e, NM(g, "blk.%d.attn_v.weight", il), NM(h, "model.layers.%d.self_attn.v_proj.weight", il), E, KV);
        if (f->arch == HF_FIX_QWEN2) {
            e_plain(e, NM(g, "blk.%d.attn_q.bias", il), NM(h, "model.layers.%d.self_attn.q_proj.bias", il), Q, 0);
            e_plain(e, NM(g, "blk.%d.attn_k.bias", il), NM(h, "model.layers.%d.self_attn.k_proj.bias", il), KV, 0);
            e_plain(e, NM(g, "blk.%d.attn_v.bias", il), NM(h, "model.layers.%d.self_attn.v_proj.bias", il), KV, 0);
        } else if (as_qwen2) {   /* llama as qwen2: zero biases */
            float *z = calloc((size_t)Q, sizeof *z);
            emit(e, NM(g, "blk.%d.attn_q.bias", il), 1, Q, 1, 1, z, NULL, NULL);
            emit(e, NM(g, "blk.%d.attn_k.bias", il), 1, KV, 1, 1, z, NULL, NULL);
            emit(e, NM(g, "blk.%d.attn_v.bias", il), 1, KV, 1, 1, z, NULL, NULL);
            free(z);
        }
        e_plain(e, NM(g, "blk.%d.attn_output.weight", il), NM(h, "model.layers.%d.self_attn.o_proj.weight", il), Q, E);
        e_plain(e, NM(g, "blk.%d.ffn_norm.weight", il), NM(h, "model.layers.%d.post_attention_layernorm.weight", il), E, 0);
        e_plain(e, NM(g, "blk.%d.ffn_gate.weight", il), NM(h, "model.layers.%d.mlp.gate_proj.weight", il), E, f->F);
        e_plain(e, NM(g, "blk.%d.ffn_up.weight", il), NM(h, "model.layers.%d.mlp.up_proj.weight", il), E, f->F);
        e_plain(e, NM(g, "blk.%d.ffn_down.weight", il), NM(h, "model.layers.%d.mlp.down_proj.weight", il), f->F, E);
    }
    e_plain(e, "output_norm.weight", "model.norm.weight", E, 0);
    if (f->arch == HF_FIX_LLAMA) e_plain(e, "output.weight", "lm_head.weight", E, f->V);
}

/* Build and write the expected GGUF for fixture f. */
static void write_expected(const hf_fix *f, emode mode, dc_type qtype, bool legacy, bool mtp,
                           bool as_qwen2, const char *path) {
    expect *e = calloc(1, sizeof *e);
    ck_assert_ptr_nonnull(e);
    *e = (expect){ .f = f, .mode = mode, .qtype = qtype, .legacy = legacy, .mtp = mtp,
                   .no_perm = as_qwen2 };
    ck_assert(dc_gguf_writer_init(&e->w) == DC_OK);
    if (f->arch == HF_FIX_V3) {
        e_v3_keys(e);
        e_plain(e, "token_embd.weight", "model.embed_tokens.weight", f->E, f->V);
        for (int il = 0; il < f->L + (mtp ? 1 : 0); il++) e_v3_layer(e, il);
        e_plain(e, "output_norm.weight", "model.norm.weight", f->E, 0);
        e_plain(e, "output.weight", "lm_head.weight", f->E, f->V);
    } else {
        e_dense(e, as_qwen2);
    }
    ck_assert_msg(dc_gguf_writer_write(e->w, path) == DC_OK, "%s", dc_last_error());
    dc_gguf_writer_free(e->w);
    for (int i = 0; i < e->n_bufs; i++) free(e->bufs[i]);
    free(e);
}

/* Same tensor names, types, shapes and bytes (any order); returns the count. */
static int64_t same_tensors(const char *a, const char *b) {
    dc_gguf *ga = open_gguf(a), *gb = open_gguf(b);
    ck_assert_int_eq(dc_gguf_n_tensors(ga), dc_gguf_n_tensors(gb));
    for (int64_t i = 0; i < dc_gguf_n_tensors(ga); i++) {
        dc_gguf_tensor_info ta, tb;
        ck_assert(dc_gguf_tensor(ga, i, &ta) == DC_OK);
        tb = tensor_info(gb, ta.name);
        ck_assert_msg(ta.type == tb.type, "%s: %s, want %s", ta.name, dc_type_name(ta.type),
                      dc_type_name(tb.type));
        ck_assert_msg(ta.n_dims == tb.n_dims && !memcmp(ta.ne, tb.ne, sizeof ta.ne), "%s: shape", ta.name);
        ck_assert_msg(ta.size == tb.size && !memcmp(ta.data, tb.data, ta.size), "%s: bytes differ", ta.name);
    }
    int64_t n = dc_gguf_n_tensors(ga);
    dc_gguf_close(ga);
    dc_gguf_close(gb);
    return n;
}

static dc_status convert(const char *dir, const char *out, const char *target, bool skip_mtp) {
    dc_q_params p = params(target, 2);
    p.skip_mtp = skip_mtp;
    dc_status st = dc_q_convert_hf(dir, out, &p);
    dc_q_plan_free(&p.plan);
    return st;
}

static bool key_is(const dc_gguf *g, const char *key, const char *want) {
    const char *s;
    size_t n;
    return dc_gguf_get_str(g, key, &s, &n) == DC_OK && n == strlen(want) && !memcmp(s, want, n);
}

static const struct {
    const char *target;
    emode       mode;
    dc_type     qtype;
    uint32_t    ftype;
} v3_modes[] = {
    { "F32",  E_F32,   DC_TYPE_F32,  0 },
    { NULL,   E_KEEP,  DC_TYPE_F32,  1024 },   /* absent TYPE, FP8 checkpoint */
    { "Q8_0", E_QUANT, DC_TYPE_Q8_0, 7 },
    { "Q6_K", E_QUANT, DC_TYPE_Q6_K, 18 },
};

START_TEST(test_hf_v3) {
    char dir[64], out[64];
    make_tmpdir(dir, sizeof dir);
    make_tmpdir(out, sizeof out);
    hf_fix fx;
    ck_assert(hf_fix_make_v3(&fx, 2, true, 1, 11) == 0);
    ck_assert(hf_fix_write(&fx, dir) == 0);
    const char *got = path_in(out, "got.gguf"), *want = path_in(out, "want.gguf");
    ck_assert_msg(convert(dir, got, v3_modes[_i].target, false) == DC_OK, "%s", dc_q_last_error());
    write_expected(&fx, v3_modes[_i].mode, v3_modes[_i].qtype, false, true, false, want);
    ck_assert_int_eq(same_tensors(got, want), 58);
    dc_gguf *g = open_gguf(got);
    ck_assert_msg(dc_gguf_verify(g) == DC_OK, "%s", dc_last_error());
    ck_assert(key_is(g, "general.architecture", "deepseek2"));
    ck_assert_uint_eq(key_u32(g, "general.file_type"), v3_modes[_i].ftype);
    ck_assert_uint_eq(key_u32(g, "deepseek2.block_count"), 3);
    ck_assert_uint_eq(key_u32(g, "deepseek2.nextn_predict_layers"), 1);
    ck_assert_uint_eq(key_u32(g, "deepseek2.expert_gating_func"), 2);
    ck_assert_int_eq(dc_gguf_find_key(g, "deepc.fp8.version") >= 0, v3_modes[_i].mode == E_KEEP);
    ck_assert(key_is(g, "tokenizer.ggml.pre", "gpt2"));
    ck_assert_uint_eq(key_u32(g, "tokenizer.ggml.bos_token_id"), 261);
    dc_gguf_type et;
    uint64_t n_tok = 0;
    ck_assert(dc_gguf_get_arr_info(g, "tokenizer.ggml.tokens", &et, &n_tok) == DC_OK && n_tok == 263);
    dc_gguf_close(g);
    /* the keys are what the runtime reads: identical logits */
    if (v3_modes[_i].mode != E_QUANT) ck_assert(logits_rel_diff(got, want) <= 1e-6);
    hf_fix_free(&fx);
    rm_dir(dir);
    rm_dir(out);
}
END_TEST

/* V2-Lite style: q_proj, softmax routing without bias, BF16. */
START_TEST(test_hf_v2lite) {
    char dir[64], out[64];
    make_tmpdir(dir, sizeof dir);
    make_tmpdir(out, sizeof out);
    hf_fix fx;
    ck_assert(hf_fix_make_v2lite(&fx, 13) == 0);
    ck_assert(hf_fix_write(&fx, dir) == 0);
    const char *got = path_in(out, "got.gguf"), *want = path_in(out, "want.gguf");
    for (int keep = 1; keep >= 0; keep--) {
        ck_assert_msg(convert(dir, got, keep ? NULL : "F32", false) == DC_OK, "%s", dc_q_last_error());
        write_expected(&fx, keep ? E_KEEP : E_F32, DC_TYPE_F32, false, false, false, want);
        ck_assert_int_eq(same_tensors(got, want), 1 + 11 + 2 * 15 + 2);
        ck_assert(logits_rel_diff(got, want) <= 1e-6);
    }
    dc_gguf *g = open_gguf(got);
    ck_assert_uint_eq(key_u32(g, "deepseek2.expert_gating_func"), 1);
    ck_assert_int_eq(dc_gguf_find_key(g, "deepseek2.attention.q_lora_rank"), -1);
    ck_assert_int_eq(dc_gguf_find_key(g, "deepseek2.expert_weights_norm"), -1);
    ck_assert_int_eq(dc_gguf_find_key(g, "deepseek2.nextn_predict_layers"), -1);
    dc_gguf_close(g);
    hf_fix_free(&fx);
    rm_dir(dir);
    rm_dir(out);
}
END_TEST

/* The split and the MTP skip checked against layouts that need neither:
 * attn_kv_b (the runtime's naive MLA) gives the same logits as k_b / v_b, and
 * a file without the MTP layer the same as with it. */
START_TEST(test_hf_v3_semantics) {
    char out[64];
    make_tmpdir(out, sizeof out);
    hf_fix fx;
    ck_assert(hf_fix_make_v3(&fx, 1, true, 1, 12) == 0);
    const char *split = path_in(out, "split.gguf"), *legacy = path_in(out, "legacy.gguf");
    const char *no_mtp = path_in(out, "nomtp.gguf");
    write_expected(&fx, E_F32, DC_TYPE_F32, false, true, false, split);
    write_expected(&fx, E_F32, DC_TYPE_F32, true, false, false, legacy);
    write_expected(&fx, E_F32, DC_TYPE_F32, false, false, false, no_mtp);
    double d = logits_rel_diff(split, legacy);
    ck_assert_msg(d < 1e-4, "k_b / v_b split vs kv_b: %g", d);
    ck_assert(logits_rel_diff(split, no_mtp) == 0.0);
    dc_model *m;
    ck_assert(dc_model_load(split, NULL, &m) == DC_OK);
    ck_assert_int_eq(dc_model_n_layer(m), 2);   /* the MTP layer is not run */
    dc_model_free(m);
    hf_fix_free(&fx);
    rm_dir(out);
}
END_TEST

START_TEST(test_hf_dense) {
    char dir[64], out[64];
    make_tmpdir(dir, sizeof dir);
    make_tmpdir(out, sizeof out);
    hf_fix fx;
    const hf_fix_arch arch = _i == 0 ? HF_FIX_LLAMA : HF_FIX_QWEN2;
    ck_assert(hf_fix_make_dense(&fx, arch, 21) == 0);
    if (arch == HF_FIX_LLAMA)   /* a known leftover: ignored */
        ck_assert(hf_fix_add_extra(&fx, "model.layers.0.self_attn.rotary_emb.inv_freq", 32) == 0);
    ck_assert(hf_fix_write(&fx, dir) == 0);
    const char *got = path_in(out, "got.gguf"), *want = path_in(out, "want.gguf");
    for (int keep = 1; keep >= 0; keep--) {   /* F32 last: used below */
        ck_assert_msg(convert(dir, got, keep ? NULL : "F32", false) == DC_OK, "%s", dc_q_last_error());
        write_expected(&fx, keep ? E_KEEP : E_F32, DC_TYPE_F32, false, false, false, want);
        same_tensors(got, want);
        ck_assert(logits_rel_diff(got, want) <= 1e-6);
        dc_gguf *g = open_gguf(got);
        ck_assert_uint_eq(key_u32(g, "general.file_type"), keep ? 32 : 0);
        ck_assert_int_eq(dc_gguf_find_tensor(g, "output.weight") >= 0, arch == HF_FIX_LLAMA);
        dc_gguf_close(g);
    }
    if (arch == HF_FIX_LLAMA) {
        /* rotate-half on the HF rows is NEOX rope on unpermuted weights: the
         * same model written as qwen2 (NEOX, zero biases) gives the same logits */
        const char *neox = path_in(out, "neox.gguf");
        write_expected(&fx, E_F32, DC_TYPE_F32, false, false, true, neox);
        double d = logits_rel_diff(got, neox);
        ck_assert_msg(d < 1e-4, "llama permutation: %g", d);
    }
    hf_fix_free(&fx);
    rm_dir(dir);
    rm_dir(out);
}
END_TEST

/* Convert a V3 fixture edited by edit(); the status, message checked for want. */
static dc_status convert_broken(void (*edit)(hf_fix *f, const char *dir), const char *want,
                                bool skip_mtp, const char *check_out) {
    char dir[64], out[64];
    make_tmpdir(dir, sizeof dir);
    make_tmpdir(out, sizeof out);
    hf_fix fx;
    ck_assert(hf_fix_make_v3(&fx, 2, true, 1, 31) == 0);
    if (edit) edit(&fx, NULL);
    ck_assert(hf_fix_write(&fx, dir) == 0);
    if (edit) edit(&fx, dir);
    const char *o = path_in(out, "o.gguf");
    dc_status st = convert(dir, o, NULL, skip_mtp);
    if (st != DC_OK) {
        ck_assert_msg(strstr(dc_q_last_error(), want), "want '%s' in '%s'", want, dc_q_last_error());
        ck_assert(!dc_test_file_exists(o));
    } else if (check_out) {
        dc_gguf *g = open_gguf(o);
        ck_assert_uint_eq(key_u32(g, "deepseek2.block_count"), 2);
        ck_assert_int_eq(dc_gguf_find_key(g, "deepseek2.nextn_predict_layers"), -1);
        ck_assert_int_eq(dc_gguf_find_tensor(g, "blk.2.nextn.eh_proj.weight"), -1);
        dc_gguf_close(g);
        write_expected(&fx, E_KEEP, DC_TYPE_F32, false, false, false, path_in(out, "w.gguf"));
        same_tensors(o, path_in(out, "w.gguf"));
    }
    hf_fix_free(&fx);
    rm_dir(dir);
    rm_dir(out);
    return st;
}

static void drop_expert(hf_fix *f, const char *dir) {
    if (!dir) hf_fix_rename(f, "model.layers.1.mlp.experts.3.up_proj.weight", "model.layers.1.mlp.experts.3.upx.weight");
}
static void drop_scale(hf_fix *f, const char *dir) {
    if (!dir) hf_fix_rename(f, "model.layers.0.mlp.down_proj.weight_scale_inv", "model.layers.0.mlp.down_proj.weight_scale");
}
static void add_unknown(hf_fix *f, const char *dir) {
    if (!dir) hf_fix_add_extra(f, "model.layers.0.mlp.mystery.weight", 8);
}
static void drop_mtp(hf_fix *f, const char *dir) {
    if (dir) return;
    for (int i = 0; i < f->n; i++)
        if (!strncmp(f->t[i].name, "model.layers.2.", 15)) {
            char n[96];
            snprintf(n, sizeof n, "unused.%d", i);
            hf_fix_rename(f, f->t[i].name, n);
            f->t[i].shard = -1;   /* written to no shard */
        }
}
static void bad_config(hf_fix *f, const char *dir) {
    (void)f;
    if (dir) write_text(dir, "config.json", "{\"architectures\": [\"GPT2LMHeadModel\"]}");
}
static void bad_shape(hf_fix *f, const char *dir) {   /* two norms swapped: [64] vs [128] */
    if (dir) return;
    hf_fix_rename(f, "model.layers.0.self_attn.q_a_layernorm.weight", "tmp");
    hf_fix_rename(f, "model.layers.0.self_attn.kv_a_layernorm.weight", "model.layers.0.self_attn.q_a_layernorm.weight");
    hf_fix_rename(f, "tmp", "model.layers.0.self_attn.kv_a_layernorm.weight");
}

START_TEST(test_hf_errors) {
    ck_assert_int_eq(convert_broken(drop_expert, "model.layers.1.mlp.experts.3.up_proj.weight is missing", false, NULL), DC_ERR_FORMAT);
    ck_assert_int_eq(convert_broken(drop_scale, "without model.layers.0.mlp.down_proj.weight_scale_inv", false, NULL), DC_ERR_FORMAT);
    ck_assert_int_eq(convert_broken(add_unknown, "model.layers.0.mlp.mystery.weight", false, NULL), DC_ERR_FORMAT);
    ck_assert_int_eq(convert_broken(bad_config, "GPT2LMHeadModel", false, NULL), DC_ERR_UNSUPPORTED);
    ck_assert_int_eq(convert_broken(bad_shape, "q_a_layernorm.weight: shape [64], want [128]", false, NULL), DC_ERR_SHAPE);
    /* MTP: left out on request, or absent from the checkpoint */
    ck_assert_int_eq(convert_broken(NULL, "", true, "check"), DC_OK);
    ck_assert_int_eq(convert_broken(drop_mtp, "", false, "check"), DC_OK);
    /* no folder at all */
    dc_q_params p = params(NULL, 1);
    ck_assert_int_eq(dc_q_convert_hf("/nonexistent-dir", "/tmp/x.gguf", &p), DC_ERR_IO);
    ck_assert_ptr_nonnull(strstr(dc_q_last_error(), "config.json"));
}
END_TEST

/* ---- suite ------------------------------------------------------------------------------------- */

static Suite *quantize_suite(void) {
    Suite *s = suite_create("quantize");
    TCase *tc = tcase_create("stream");
    tcase_add_test(tc, test_stream_equals_write);
    tcase_add_test(tc, test_stream_errors);
    tcase_add_test(tc, test_stream_alloc_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("safetensors");
    tcase_add_test(tc, test_st_valid);
    tcase_add_test(tc, test_st_hostile);
    tcase_add_test(tc, test_st_checkpoint);
    suite_add_tcase(s, tc);
    tc = tcase_create("requant");
    tcase_add_loop_test(tc, test_requant_type, 0, (int)(sizeof requant_types / sizeof requant_types[0]));
    tcase_add_test(tc, test_requant_threads);
    tcase_add_test(tc, test_requant_overrides);
    suite_add_tcase(s, tc);
    tc = tcase_create("mixes");
    tcase_add_test(tc, test_q4_k_m_fixture);
    tcase_add_loop_test(tc, test_q4_k_m_shapes, 0, 2);
    tcase_add_test(tc, test_moe_q4);
    suite_add_tcase(s, tc);
    tc = tcase_create("hf");
    tcase_add_loop_test(tc, test_hf_v3, 0, (int)(sizeof v3_modes / sizeof v3_modes[0]));
    tcase_add_test(tc, test_hf_v2lite);
    tcase_add_test(tc, test_hf_v3_semantics);
    tcase_add_loop_test(tc, test_hf_dense, 0, 2);
    tcase_add_test(tc, test_hf_errors);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(quantize_suite)
