/*
 * test_state.c - session state files (dc_session_save / dc_session_load)
 * with the fixture models of ../shared/fixtures/models.
 *
 *   roundtrip  save after a prompt, load into a fresh session (also one with
 *              a larger n_ctx): same n_past, same history, and decoding the
 *              next token gives bit-identical logits; for the MLA latent
 *              cache (tiny-v3), K+V caches (tiny-llama) and a Q8_0 cache
 *   damaged    a flipped byte anywhere -> DC_ERR_CHECKSUM; truncated or
 *              extended files, a wrong magic, an unknown version, hostile
 *              headers (resealed with a valid checksum) -> errors; the
 *              session is untouched by every failed load
 *   identity   another architecture, other weights of the same shape
 *              (tiny-v3-q8_0), another cache type, a too small n_ctx or
 *              history buffer -> errors naming the cause
 *   args       history length must be 0 or n_past; ids inside the vocab
 */
#include "test_util.h"

#include <deepc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define N_PROMPT 20
#define HEADER_BYTES 80

static const char *model_path(const char *name) {
    static char buf[4096];
    char rel[256];
    snprintf(rel, sizeof rel, "fixtures/models/%s.gguf", name);
    snprintf(buf, sizeof buf, "%s", dc_test_shared_path(rel));
    return buf;
}

static bool have(const char *name) { return dc_test_file_exists(model_path(name)); }

static dc_model *load_model(const char *name) {
    dc_model *m = NULL;
    ck_assert_msg(dc_model_load(model_path(name), NULL, &m) == DC_OK, "%s: %s", name,
                  dc_last_error());
    return m;
}

static dc_session *new_session(dc_model *m, int n_ctx, dc_type kv) {
    dc_session_params sp = dc_session_default_params();
    sp.n_ctx = n_ctx;
    sp.n_threads = sp.n_threads_batch = 2;
    sp.kv_type = kv;
    dc_session *s = NULL;
    ck_assert_msg(dc_session_init(m, &sp, &s) == DC_OK, "session: %s", dc_last_error());
    return s;
}

static void prompt_tokens(dc_token *tok, int n, int n_vocab) {
    for (int i = 0; i < n; i++) tok[i] = (dc_token)((i * 37 + 11) % (n_vocab - 3));
}

/* A session holding the N_PROMPT-token prompt, and the state file of it. */
static dc_session *prompted(dc_model *m, dc_type kv, const char *path, dc_token *tok) {
    prompt_tokens(tok, N_PROMPT, dc_model_n_vocab(m));
    dc_session *s = new_session(m, 64, kv);
    ck_assert_msg(dc_session_decode_tokens(s, tok, N_PROMPT, false) == DC_OK, "%s", dc_last_error());
    ck_assert_msg(dc_session_save(s, path, tok, N_PROMPT) == DC_OK, "save: %s", dc_last_error());
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_msg(!dc_test_file_exists(tmp), "the save left %s behind", tmp);
    return s;
}

static float *next_logits(dc_session *s, dc_token t, int n_vocab) {
    ck_assert_msg(dc_session_decode_tokens(s, &t, 1, false) == DC_OK, "%s", dc_last_error());
    float *l = malloc((size_t)n_vocab * sizeof *l);
    memcpy(l, dc_session_logits(s, -1), (size_t)n_vocab * sizeof *l);
    return l;
}

static char *tmp_path(const char *tag) {
    static char buf[8][256];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 256, "/tmp/deepc_test_state_%ld_%s.dcss", (long)getpid(), tag);
    return p;
}

static void write_bytes(const char *path, const unsigned char *b, size_t n) {
    FILE *f = fopen(path, "wb");
    ck_assert(f != NULL);
    ck_assert(fwrite(b, 1, n, f) == n);
    fclose(f);
}

/* Recompute the trailing XXH3-64 so a hostile header passes the checksum. */
static void reseal(unsigned char *b, size_t n) {
    uint64_t h = XXH3_64bits(b, n - 8);
    for (int i = 0; i < 8; i++) b[n - 8 + i] = (unsigned char)(h >> (8 * i));
}

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Load path into s and expect `want`, with s unchanged (n_past kept). */
static void expect_load_fails(dc_session *s, const char *path, dc_status want, const char *what) {
    int32_t before = dc_session_n_past(s), n = -1;
    dc_token tok[128];
    dc_status st = dc_session_load(s, path, tok, 128, &n);
    ck_assert_msg(st == want, "%s: got %s (%s), want %s", what, dc_status_str(st), dc_last_error(),
                  dc_status_str(want));
    ck_assert_msg(strlen(dc_last_error()) > 0, "%s: no message", what);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(dc_session_n_past(s), before);
    printf("%-28s %s: %s\n", what, dc_status_str(st), dc_last_error());
}

/* ---- round trip ------------------------------------------------------------------ */

static const struct {
    const char *model;
    dc_type     kv;
} trips[] = {
    { "tiny-v3", DC_TYPE_F16 }, { "tiny-llama", DC_TYPE_F16 }, { "tiny-qwen2", DC_TYPE_Q8_0 },
    { "tiny-v2lite", DC_TYPE_F32 },
};

START_TEST(test_roundtrip) {
    if (!have(trips[_i].model)) return;
    dc_model *m = load_model(trips[_i].model);
    int V = dc_model_n_vocab(m);
    const char *path = tmp_path("trip");
    dc_token tok[N_PROMPT], back[N_PROMPT + 4];
    dc_session *a = prompted(m, trips[_i].kv, path, tok);
    dc_token next = 42;
    float *la = next_logits(a, next, V);
    for (int variant = 0; variant < 2; variant++) {
        /* the same n_ctx, then a larger one (rows do not depend on n_ctx) */
        dc_session *b = new_session(m, variant ? 256 : 64, trips[_i].kv);
        int32_t n = -1;
        ck_assert_msg(dc_session_load(b, path, back, N_PROMPT + 4, &n) == DC_OK, "load: %s",
                      dc_last_error());
        ck_assert_int_eq(n, N_PROMPT);
        ck_assert_int_eq(dc_session_n_past(b), N_PROMPT);
        ck_assert(dc_session_logits(b, -1) == NULL);
        ck_assert(memcmp(tok, back, sizeof tok) == 0);
        float *lb = next_logits(b, next, V);
        ck_assert_msg(memcmp(la, lb, (size_t)V * sizeof *la) == 0, "%s: logits differ after load "
                      "(max diff %g)", trips[_i].model, dc_test_max_abs_diff(la, lb, (size_t)V));
        free(lb);
        dc_session_free(b);
    }
    /* no history: tokens may be NULL */
    ck_assert(dc_session_truncate(a, N_PROMPT) == DC_OK);
    ck_assert(dc_session_save(a, path, NULL, 0) == DC_OK);
    int32_t n = -1;
    ck_assert(dc_session_load(a, path, NULL, 0, &n) == DC_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(dc_session_n_past(a), N_PROMPT);
    /* an empty session saves and loads too */
    ck_assert(dc_session_truncate(a, 0) == DC_OK);
    ck_assert(dc_session_save(a, path, NULL, 0) == DC_OK);
    ck_assert(dc_session_load(a, path, NULL, 0, &n) == DC_OK);
    ck_assert_int_eq(dc_session_n_past(a), 0);
    free(la);
    dc_session_free(a);
    dc_model_free(m);
    unlink(path);
}
END_TEST

/* ---- damaged and hostile files ------------------------------------------------------- */

START_TEST(test_damaged) {
    if (!have("tiny-v3")) return;
    dc_model *m = load_model("tiny-v3");
    const char *path = tmp_path("good"), *bad = tmp_path("bad");
    dc_token tok[N_PROMPT];
    dc_session *s = prompted(m, DC_TYPE_F16, path, tok);
    ck_assert(dc_session_truncate(s, 7) == DC_OK);     /* "untouched" is visible as 7 */
    size_t n = 0;
    unsigned char *good = dc_test_read_file(path, &n);
    ck_assert(good != NULL && n > HEADER_BYTES + 8);
    unsigned char *b = malloc(n + 16);

    /* a flipped bit in the header's arch, the tokens, the rows, the checksum */
    size_t where[] = { 9, HEADER_BYTES + 5, n / 2, n - 3 };
    for (size_t i = 0; i < sizeof where / sizeof where[0]; i++) {
        memcpy(b, good, n);
        b[where[i]] ^= 0x10;
        write_bytes(bad, b, n);
        expect_load_fails(s, bad, DC_ERR_CHECKSUM, "flipped byte");
    }
    /* truncated (to several lengths) and extended */
    size_t cut[] = { 0, 3, HEADER_BYTES - 1, HEADER_BYTES + 8, n / 2, n - 1 };
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        write_bytes(bad, good, cut[i]);
        expect_load_fails(s, bad, DC_ERR_FORMAT, "truncated");
    }
    memcpy(b, good, n);
    memset(b + n, 0, 16);
    write_bytes(bad, b, n + 16);
    expect_load_fails(s, bad, DC_ERR_FORMAT, "extended");
    memcpy(b, good, n);
    memcpy(b, "GGUF", 4);
    write_bytes(bad, b, n);
    expect_load_fails(s, bad, DC_ERR_FORMAT, "wrong magic");
    memcpy(b, good, n);
    put_u32(b + 4, 99);
    write_bytes(bad, b, n);
    expect_load_fails(s, bad, DC_ERR_UNSUPPORTED, "unknown version");

    /* hostile headers that still carry a valid checksum */
    const struct { size_t off; uint32_t v; dc_status want; const char *what; } hostile[] = {
        { 24 + 4 * 5, 0xffffffffu, DC_ERR_FORMAT, "n_past huge" },
        { 24 + 4 * 0, 0x40000000u, DC_ERR_FORMAT, "n_layer huge" },
        { 24 + 4 * 6, 3, DC_ERR_FORMAT, "n_tokens != n_past" },
        { 24 + 4 * 7, 7, DC_ERR_FORMAT, "n_caches 7" },
        { 64, 0, DC_ERR_FORMAT, "k_row 0" },
        { 24 + 4 * 1, 999, DC_ERR_INVALID_ARG, "n_embd differs" },
        { 24 + 4 * 3, 0, DC_ERR_INVALID_ARG, "kv type differs" },
        { HEADER_BYTES + 8, 0x7fffffffu, DC_ERR_FORMAT, "token outside vocab" },
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        memcpy(b, good, n);
        put_u32(b + hostile[i].off, hostile[i].v);
        reseal(b, n);
        write_bytes(bad, b, n);
        expect_load_fails(s, bad, hostile[i].want, hostile[i].what);
    }
    expect_load_fails(s, "/nonexistent/deepc.dcss", DC_ERR_IO, "missing file");
    /* a save that cannot be written leaves no file and an error */
    ck_assert(dc_session_save(s, "/nonexistent/dir/x.dcss", NULL, 0) == DC_ERR_IO);
    free(b);
    free(good);
    dc_session_free(s);
    dc_model_free(m);
    unlink(path);
    unlink(bad);
}
END_TEST

/* ---- identity -------------------------------------------------------------------------- */

START_TEST(test_identity) {
    if (!have("tiny-v3") || !have("tiny-llama") || !have("tiny-v3-q8_0")) return;
    dc_model *v3 = load_model("tiny-v3");
    const char *path = tmp_path("id");
    dc_token tok[N_PROMPT];
    dc_session *s = prompted(v3, DC_TYPE_F16, path, tok);

    dc_model *llama = load_model("tiny-llama");
    dc_session *o = new_session(llama, 64, DC_TYPE_F16);
    expect_load_fails(o, path, DC_ERR_INVALID_ARG, "another architecture");
    dc_session_free(o);
    dc_model_free(llama);

    dc_model *q8 = load_model("tiny-v3-q8_0");    /* same shapes, other weights */
    o = new_session(q8, 64, DC_TYPE_F16);
    expect_load_fails(o, path, DC_ERR_INVALID_ARG, "same shapes, other weights");
    dc_session_free(o);
    dc_model_free(q8);

    o = new_session(v3, 64, DC_TYPE_BF16);
    expect_load_fails(o, path, DC_ERR_INVALID_ARG, "another cache type");
    dc_session_free(o);
    o = new_session(v3, 16, DC_TYPE_F16);
    expect_load_fails(o, path, DC_ERR_CONTEXT_FULL, "n_ctx below n_past");
    dc_session_free(o);

    /* history buffer too small: an error, nothing written */
    o = new_session(v3, 64, DC_TYPE_F16);
    dc_token small[4];
    int32_t n = -1;
    ck_assert(dc_session_load(o, path, small, 4, &n) == DC_ERR_INVALID_ARG);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(dc_session_n_past(o), 0);
    dc_session_free(o);
    dc_session_free(s);
    dc_model_free(v3);
    unlink(path);
}
END_TEST

/* ---- argument contracts ------------------------------------------------------------------ */

START_TEST(test_args) {
    if (!have("tiny-v3")) return;
    dc_model *m = load_model("tiny-v3");
    const char *path = tmp_path("args");
    dc_token tok[N_PROMPT];
    dc_session *s = prompted(m, DC_TYPE_F16, path, tok);
    ck_assert(dc_session_save(s, path, tok, N_PROMPT - 1) == DC_ERR_INVALID_ARG);
    tok[3] = dc_model_n_vocab(m);
    ck_assert(dc_session_save(s, path, tok, N_PROMPT) == DC_ERR_INVALID_ARG);
    ck_assert(dc_session_save(NULL, path, NULL, 0) == DC_ERR_INVALID_ARG);
    ck_assert(dc_session_save(s, NULL, NULL, 0) == DC_ERR_INVALID_ARG);
    int32_t n = 5;
    ck_assert(dc_session_load(s, path, NULL, 3, &n) == DC_ERR_INVALID_ARG);
    ck_assert_int_eq(n, 0);
    ck_assert(dc_session_load(s, path, tok, N_PROMPT, NULL) == DC_ERR_INVALID_ARG);
    dc_session_free(s);
    dc_model_free(m);
    unlink(path);
}
END_TEST

static Suite *state_suite(void) {
    Suite *s = suite_create("state");
    TCase *tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_roundtrip, 0, (int)(sizeof trips / sizeof trips[0]));
    suite_add_tcase(s, tc);
    tc = tcase_create("damaged");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_damaged);
    suite_add_tcase(s, tc);
    tc = tcase_create("identity");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_identity);
    tcase_add_test(tc, test_args);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(state_suite)
