/*
 * test_text.c - the tokenizer (lib/text): GGUF and Hugging Face loading,
 * pre-tokenizer splits, BPE against a naive reference, special tokens,
 * sizing, detokenizing (streaming, split UTF-8), invalid UTF-8, 1 MB runs on
 * a small stack, round trips, hostile metadata, allocation failures,
 * threads.
 *
 * The fixture models (../shared/fixtures/models) carry a small byte-level
 * vocabulary: byte b is token b, merge r makes token 256 + r, and 509..511
 * are control tokens. Agreement with the real DeepSeek-V3 / Qwen3 / Llama-3
 * tokenizers is the job of the tokenizer-js test (tests/tokenizer/).
 */
#include "test_util.h"

#include "deepc.h"
#include "lib/text/text_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const fixtures[] = {"tiny-v3", "tiny-v2lite", "tiny-qwen2", "tiny-llama"};
static const char *const fixture_pre[] = {"deepseek-v3", "deepseek-llm", "qwen2", "llama3"};

/* ---- helpers ------------------------------------------------------------------------ */

static dc_tokenizer *load_fixture(int i) {
    char rel[128];
    snprintf(rel, sizeof rel, "fixtures/models/%s.gguf", fixtures[i]);
    dc_gguf *g = NULL;
    ck_assert_msg(dc_gguf_open(dc_test_shared_path(rel), &g) == DC_OK, "%s", dc_last_error());
    dc_tokenizer *t = NULL;
    dc_status st = dc_tokenizer_from_gguf(g, &t);
    dc_gguf_close(g);
    ck_assert_msg(st == DC_OK, "%s: %s", fixtures[i], dc_last_error());
    return t;
}

/* Tokenize into a malloc'd array (two-call sizing); returns the count. */
static int32_t tok(const dc_tokenizer *t, const char *s, size_t n, bool bos, bool special,
                   dc_token **ids) {
    int32_t cnt = -1;
    ck_assert_msg(dc_tokenize(t, s, n, bos, special, NULL, 0, &cnt) == DC_OK, "%s", dc_last_error());
    *ids = malloc(((size_t)cnt + 1) * sizeof **ids);
    int32_t again = -1;
    ck_assert_msg(dc_tokenize(t, s, n, bos, special, *ids, cnt, &again) == DC_OK, "%s",
                  dc_last_error());
    ck_assert_int_eq(again, cnt);
    return cnt;
}

static char *detok(const dc_tokenizer *t, const dc_token *ids, int32_t n, bool special,
                   size_t *len) {
    ck_assert(dc_detokenize(t, ids, n, special, NULL, 0, len) == DC_OK);
    char *buf = malloc(*len + 1);
    ck_assert(dc_detokenize(t, ids, n, special, buf, *len, len) == DC_OK);
    buf[*len] = '\0';
    return buf;
}

static void assert_ids(const dc_tokenizer *t, const char *s, bool special, const dc_token *want,
                       int32_t n_want) {
    dc_token *ids;
    int32_t n = tok(t, s, strlen(s), false, special, &ids);
    ck_assert_msg(n == n_want, "'%s': %d tokens, want %d", s, n, n_want);
    for (int32_t i = 0; i < n; i++)
        ck_assert_msg(ids[i] == want[i], "'%s': token %d is %d, want %d", s, i, ids[i], want[i]);
    free(ids);
}

/* A vocabulary built in memory: the 256 byte tokens (ids 0..255 in byte
 * order), then `extra` strings (normal tokens unless typed), then merges. */
typedef struct mini_vocab {
    dc_tok_str tokens[320];
    int32_t    types[320];
    char       bytes[256][4];
    int        n;
} mini_vocab;

static void mini_init(mini_vocab *v) {
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) {
        int l = dc_utf8_encode(dc_byte_to_cp((uint8_t)b), (uint8_t *)v->bytes[b]);
        v->tokens[b] = (dc_tok_str){v->bytes[b], (size_t)l};
        v->types[b] = DC_TOKEN_TYPE_NORMAL;
    }
    v->n = 256;
}

static int mini_add(mini_vocab *v, const char *s, int type) {
    v->tokens[v->n] = (dc_tok_str){s, strlen(s)};
    v->types[v->n] = type;
    return v->n++;
}

static dc_tokenizer *mini_build(mini_vocab *v, const char *const *merges, int n_merges,
                                const char *pre, const char *normalizer) {
    dc_tok_str m[64];
    for (int i = 0; i < n_merges; i++) m[i] = (dc_tok_str){merges[i], strlen(merges[i])};
    dc_tok_desc d;
    dc_tok_desc_init(&d);
    d.n_vocab = v->n;
    d.tokens = v->tokens;
    d.types = v->types;
    d.n_merges = n_merges;
    d.merges = m;
    d.pre = (dc_tok_str){pre, strlen(pre)};
    if (normalizer) d.normalizer = (dc_tok_str){normalizer, strlen(normalizer)};
    dc_tokenizer *t = NULL;
    ck_assert_msg(dc_tok_build(&d, &t) == DC_OK, "%s", dc_last_error());
    return t;
}

/* ---- GGUF fixtures ------------------------------------------------------------------- */

START_TEST(test_fixture_props) {
    const dc_token bos[] = {510, 510, 509, 510}, eot[] = {511, 511, 511, 509};
    const bool add_bos[] = {true, true, false, true};
    for (int i = 0; i < 4; i++) {
        dc_tokenizer *t = load_fixture(i);
        ck_assert_int_eq(dc_tokenizer_n_vocab(t), 512);
        ck_assert_str_eq(dc_tokenizer_pre(t), fixture_pre[i]);
        ck_assert_int_eq(dc_tokenizer_bos(t), bos[i]);
        ck_assert_int_eq(dc_tokenizer_eos(t), 511);
        ck_assert_int_eq(dc_tokenizer_eot(t), eot[i]);
        ck_assert_int_eq(dc_tokenizer_add_bos(t), add_bos[i]);
        ck_assert(dc_tokenizer_is_eog(t, 511));
        ck_assert(!dc_tokenizer_is_eog(t, 510) || i == 3);
        ck_assert(!dc_tokenizer_is_eog(t, 65));
        ck_assert(!dc_tokenizer_is_eog(t, -1) && !dc_tokenizer_is_eog(t, 512));
        ck_assert_int_eq(dc_tokenizer_token_type(t, 65), DC_TOKEN_TYPE_NORMAL);
        ck_assert_int_eq(dc_tokenizer_token_type(t, 511), DC_TOKEN_TYPE_CONTROL);
        ck_assert_int_eq(dc_tokenizer_token_type(t, 400), DC_TOKEN_TYPE_UNUSED);
        ck_assert_int_eq(dc_tokenizer_token_type(t, 512), DC_TOKEN_TYPE_UNDEFINED);
        ck_assert_str_eq(dc_tokenizer_token_text(t, 32), "\xc4\xa0");   /* Ġ */
        ck_assert_ptr_null(dc_tokenizer_token_text(t, 512));
        /* Lookup by the bytes a token stands for. */
        ck_assert_int_eq(dc_tokenizer_lookup(t, " the", 4), 256 + 13);
        ck_assert_int_eq(dc_tokenizer_lookup(t, "\n\n", 2), 256 + 45);
        ck_assert_int_eq(dc_tokenizer_lookup(t, "A", 1), 65);
        ck_assert_int_eq(dc_tokenizer_lookup(t, "<think>", 7), -1);
        const char *ctl = dc_tokenizer_token_text(t, 511);
        ck_assert_int_eq(dc_tokenizer_lookup(t, ctl, strlen(ctl)), 511);
        dc_tokenizer_free(t);
    }
    dc_tokenizer_free(NULL);
}
END_TEST

START_TEST(test_fixture_bpe) {
    /* Merge r makes token 256 + r. " the": Ġ t (0), h e (1), Ġt he (13).
     * " and": a n (4), Ġ an (26), Ġan d (27). "you": o u (33); " you":
     * o u (33), Ġ y (42), Ġy ou (43). */
    const dc_token the_and[] = {256 + 13, 256 + 27};
    for (int i = 0; i < 4; i++) {
        dc_tokenizer *t = load_fixture(i);
        assert_ids(t, " the and", true, the_and, 2);
        const dc_token w[] = {121, 256 + 33, 256 + 43};   /* "you" = y + ou (33); " you" */
        assert_ids(t, "you you", true, w, 3);
        /* Byte fallback: no merges for these, so one token per byte. */
        const dc_token bytes[] = {0xC3, 0xA9, 0xE4, 0xB8, 0xAD};
        assert_ids(t, "\xC3\xA9\xE4\xB8\xAD", true, bytes, 5);
        dc_tokenizer_free(t);
    }
}
END_TEST

/* ---- pre-tokenizer splits --------------------------------------------------------------- */

static void assert_split(const char *pre, const char *text, const char *const *want, int n_want) {
    dc_pretok *p;
    const char *canon;
    ck_assert_msg(dc_pretok_create(pre, strlen(pre), &p, &canon) == DC_OK, "%s", dc_last_error());
    for (int jit = 0; jit < 2; jit++) {
        if (jit == 1) dc_pretok_disable_jit(p);
        dc_spans out = {0}, tmp = {0};
        ck_assert(dc_pretok_split(p, text, strlen(text), &out, &tmp) == DC_OK);
        ck_assert_msg((int)out.n == n_want, "%s on '%s': %zu fragments, want %d", pre, text, out.n,
                      n_want);
        for (size_t i = 0; i < out.n; i++) {
            ck_assert_int_eq(out.v[i].len, strlen(want[i]));
            ck_assert_msg(memcmp(text + out.v[i].off, want[i], out.v[i].len) == 0,
                          "%s on '%s': fragment %zu is '%.*s', want '%s'", pre, text, i,
                          (int)out.v[i].len, text + out.v[i].off, want[i]);
        }
        dc_spans_free(&out);
        dc_spans_free(&tmp);
    }
    dc_pretok_free(p);
}

START_TEST(test_pretok_splits) {
    const char *v3[] = {"Hello", ",", " world", "!", " ", "123", "45", " ", "中文テスト", " abc"};
    assert_split("deepseek-v3", "Hello, world! 12345 中文テスト abc", v3, 10);
    const char *v3b[] = {"(foo", ")", " e\xCC\x81t\xC3\xA9", " ", " x", "\n\n", "  "};
    assert_split("deepseek-v3", "(foo) e\xCC\x81t\xC3\xA9  x\n\n  ", v3b, 7);
    const char *qw[] = {"I", "'m", " ", "1", "2", " cats", "'", " ", " ok", "\n\n"};
    assert_split("qwen2", "I'm 12 cats'  ok\n\n", qw, 10);
    assert_split("deepseek-r1-qwen", "I'm 12 cats'  ok\n\n", qw, 10);
    const char *ll[] = {"123", "45", " abc", "'S", " ...\n"};
    assert_split("llama3", "12345 abc'S ...\n", ll, 5);
    assert_split("llama-bpe", "12345 abc'S ...\n", ll, 5);
    const char *dl[] = {"Hello", " World", ",", " ", "中文", " ", "123", "\n", "abc", "  "};
    assert_split("deepseek-llm", "Hello World, 中文 123\nabc  ", dl, 10);
    const char *g2[] = {"Hello", "'s", " 123", " !!", " "};
    assert_split("gpt2", "Hello's 123 !! ", g2, 5);
    /* White space is Unicode White_Space: U+0085 is, U+180E is not. */
    const char *ws[] = {"a", " \xC2\x85", " b", "\xE1\xA0\x8E"};
    assert_split("llama3", "a \xC2\x85 b\xE1\xA0\x8E", ws, 4);
}
END_TEST

START_TEST(test_pretok_unknown) {
    dc_pretok *p = (dc_pretok *)1;
    const char *canon;
    ck_assert_int_eq(dc_pretok_create("falcon", 6, &p, &canon), DC_ERR_UNSUPPORTED);
    ck_assert_ptr_null(p);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "'falcon'"));
}
END_TEST

/* ---- BPE against a naive reference ------------------------------------------------------- */

/* Naive BPE on byte-mapped symbols: scan for the lowest-rank adjacent pair
 * (leftmost on ties), merge, repeat. O(n^2 * merges); the ids come from the
 * tokenizer's own hash only for the final lookup. */
static int naive_bpe(const dc_tokenizer *t, char **merges, int n_merges, const uint8_t *w, size_t n,
                     dc_token *out) {
    char *sym[512];
    int ns = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t u[4];
        int l = dc_utf8_encode(dc_byte_to_cp(w[i]), u);
        sym[ns] = calloc(1, 8);
        memcpy(sym[ns++], u, (size_t)l);
    }
    for (;;) {
        int best = -1, best_rank = n_merges;
        for (int i = 0; i + 1 < ns; i++) {
            char pair[1024];
            snprintf(pair, sizeof pair, "%s %s", sym[i], sym[i + 1]);
            for (int r = 0; r < best_rank; r++)
                if (strcmp(merges[r], pair) == 0) {
                    best_rank = r;
                    best = i;
                    break;
                }
        }
        if (best < 0) break;
        size_t la = strlen(sym[best]), lb = strlen(sym[best + 1]);
        char *m = calloc(1, la + lb + 1);
        memcpy(m, sym[best], la);
        memcpy(m + la, sym[best + 1], lb);
        free(sym[best]);
        free(sym[best + 1]);
        sym[best] = m;
        memmove(&sym[best + 1], &sym[best + 2], (size_t)(ns - best - 2) * sizeof sym[0]);
        ns--;
    }
    for (int i = 0; i < ns; i++) {
        out[i] = dc_tok_find(t, sym[i], strlen(sym[i]));
        free(sym[i]);
    }
    return ns;
}

START_TEST(test_bpe_vs_naive) {
    dc_gguf *g;
    ck_assert(dc_gguf_open(dc_test_shared_path("fixtures/models/tiny-v3.gguf"), &g) == DC_OK);
    uint64_t n_merges;
    dc_gguf_type et;
    ck_assert(dc_gguf_get_arr_info(g, "tokenizer.ggml.merges", &et, &n_merges) == DC_OK);
    char *merges[64];
    for (uint64_t r = 0; r < n_merges; r++) {
        const char *s;
        size_t l;
        dc_gguf_get_arr_str(g, "tokenizer.ggml.merges", r, &s, &l);
        merges[r] = strndup(s, l);
    }
    dc_tokenizer *t;
    ck_assert(dc_tokenizer_from_gguf(g, &t) == DC_OK);
    dc_gguf_close(g);
    /* Words over the letters the merges use: many overlapping candidates. */
    const char alpha[] = "theanirsowdgucylpm";
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed());
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t w[48] = {0};
        size_t n = 1 + dc_test_rng_u64(&rng) % 40;
        w[0] = dc_test_rng_u64(&rng) % 3 == 0 ? ' ' : alpha[dc_test_rng_u64(&rng) % 18];
        for (size_t i = 1; i < n; i++) w[i] = (uint8_t)alpha[dc_test_rng_u64(&rng) % 18];
        dc_token want[48], *got;
        int nw = naive_bpe(t, merges, (int)n_merges, w, n, want);
        int32_t ng = tok(t, (const char *)w, n, false, false, &got);
        ck_assert_msg(ng == nw, "'%.*s': %d tokens, naive %d", (int)n, w, ng, nw);
        for (int i = 0; i < nw; i++)
            ck_assert_msg(got[i] == want[i], "'%.*s': token %d", (int)n, w, i);
        free(got);
    }
    for (uint64_t r = 0; r < n_merges; r++) free(merges[r]);
    dc_tokenizer_free(t);
}
END_TEST

START_TEST(test_bpe_ties_and_ignore_merges) {
    /* "a a" merges; "aaaaa" -> aa aa a (leftmost first). With llama3's
     * ignore_merges a whole-vocab word skips merging: "aaa" is in the
     * vocabulary but no merge makes it from "aa a". */
    mini_vocab v;
    mini_init(&v);
    int aa = mini_add(&v, "aa", DC_TOKEN_TYPE_NORMAL);
    int aaa = mini_add(&v, "aaa", DC_TOKEN_TYPE_NORMAL);
    const char *merges[] = {"a a"};
    dc_tokenizer *t = mini_build(&v, merges, 1, "qwen2", NULL);
    const dc_token w5[] = {aa, aa, 'a'}, w3[] = {aa, 'a'};
    assert_ids(t, "aaaaa", false, w5, 3);
    assert_ids(t, "aaa", false, w3, 2);
    dc_tokenizer_free(t);
    t = mini_build(&v, merges, 1, "llama3", NULL);
    const dc_token w3l[] = {aaa};
    assert_ids(t, "aaa", false, w3l, 1);
    assert_ids(t, "aaaaa", false, w5, 3);
    dc_tokenizer_free(t);
}
END_TEST

/* ---- special tokens ------------------------------------------------------------------------ */

START_TEST(test_special_tokens) {
    dc_tokenizer *t = load_fixture(0);
    const char *s = "<\xEF\xBD\x9C" "begin\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>hi"
                    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>";
    const dc_token want[] = {510, 'h', 'i', 511};
    assert_ids(t, s, true, want, 4);
    dc_token *ids;
    int32_t n = tok(t, s, strlen(s), false, false, &ids);
    ck_assert_int_gt(n, 10);   /* as plain text: bytes and merges */
    for (int32_t i = 0; i < n; i++) ck_assert_int_lt(ids[i], 509);
    free(ids);
    /* add_bos puts BOS first. */
    n = tok(t, "hi", 2, true, true, &ids);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(ids[0], 510);
    free(ids);
    dc_tokenizer_free(t);
    /* A tokenizer without BOS refuses add_bos. */
    mini_vocab v;
    mini_init(&v);
    t = mini_build(&v, NULL, 0, "qwen2", NULL);
    int32_t cnt;
    ck_assert_int_eq(dc_tokenize(t, "x", 1, true, true, NULL, 0, &cnt), DC_ERR_INVALID_ARG);
    dc_tokenizer_free(t);
}
END_TEST

START_TEST(test_special_matching_rules) {
    mini_vocab v;
    mini_init(&v);
    int a = mini_add(&v, "<a>", DC_TOKEN_TYPE_CONTROL);
    int ab = mini_add(&v, "<a><b>", DC_TOKEN_TYPE_CONTROL);
    int think = mini_add(&v, "<think>", DC_TOKEN_TYPE_USER_DEFINED);
    int xy = mini_add(&v, "xy", DC_TOKEN_TYPE_CONTROL);
    int yzw = mini_add(&v, "yzw", DC_TOKEN_TYPE_CONTROL);
    dc_tokenizer *t = mini_build(&v, NULL, 0, "qwen2", NULL);
    const dc_token w1[] = {ab, a};   /* longest at a position wins */
    assert_ids(t, "<a><b><a>", true, w1, 2);
    /* Leftmost first, then longest (HF's rule; llama.cpp's longest-first
     * search would take "yzw" here). */
    const dc_token w2[] = {xy, 'z', 'w'};
    assert_ids(t, "xyzw", true, w2, 3);
    const dc_token w3[] = {yzw};
    assert_ids(t, "yzw", true, w3, 1);
    /* USER_DEFINED always; CONTROL only with parse_special. */
    const dc_token w4[] = {'<', 'a', '>', think};
    assert_ids(t, "<a><think>", false, w4, 4);
    const dc_token w5[] = {a, think};
    assert_ids(t, "<a><think>", true, w5, 2);
    ck_assert_int_eq(dc_tokenizer_lookup(t, "<think>", 7), think);
    dc_tokenizer_free(t);
}
END_TEST

/* ---- sizing -------------------------------------------------------------------------------- */

START_TEST(test_sizing) {
    dc_tokenizer *t = load_fixture(2);
    const char *s = "The cat sat on the mat, 42 times.";
    int32_t need = -1;
    ck_assert_int_eq(dc_tokenize(t, s, strlen(s), false, true, NULL, 0, &need), DC_OK);
    ck_assert_int_gt(need, 5);
    dc_token small[4] = {-7, -7, -7, -7};
    int32_t got = -1;
    ck_assert_int_eq(dc_tokenize(t, s, strlen(s), false, true, small, 3, &got), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(got, need);
    ck_assert_int_ne(small[2], -7);
    ck_assert_int_eq(small[3], -7);   /* nothing past cap */
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "needs"));
    ck_assert_int_eq(dc_tokenize(t, "", 0, false, true, NULL, 0, &got), DC_OK);
    ck_assert_int_eq(got, 0);
    ck_assert_int_eq(dc_tokenize(t, NULL, 0, false, true, small, 4, &got), DC_OK);
    ck_assert_int_eq(dc_tokenize(t, NULL, 3, false, true, small, 4, &got), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_tokenize(NULL, s, 1, false, true, small, 4, &got), DC_ERR_INVALID_ARG);
    /* 3 * len + 1 always suffices, invalid bytes included. */
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed());
    for (int iter = 0; iter < 200; iter++) {
        uint8_t buf[64] = {0};
        size_t n = dc_test_rng_u64(&rng) % 64;
        for (size_t i = 0; i < n; i++) buf[i] = (uint8_t)dc_test_rng_u64(&rng);
        dc_token out[3 * 64 + 1];
        ck_assert_int_eq(dc_tokenize(t, (const char *)buf, n, true, true, out, (int32_t)(3 * n + 1),
                                     &got), DC_OK);
    }
    dc_tokenizer_free(t);
}
END_TEST

/* ---- detokenizing -------------------------------------------------------------------------- */

START_TEST(test_pieces) {
    dc_tokenizer *t = load_fixture(2);
    const char *p;
    size_t l;
    ck_assert(dc_token_to_piece(t, 32, false, &p, &l) == DC_OK);
    ck_assert(l == 1 && p[0] == ' ');
    ck_assert(dc_token_to_piece(t, 256 + 13, false, &p, &l) == DC_OK);
    ck_assert(l == 4 && memcmp(p, " the", 4) == 0);
    ck_assert(dc_token_to_piece(t, 511, false, &p, &l) == DC_OK);
    ck_assert_int_eq(l, 0);   /* control: hidden unless asked */
    ck_assert(dc_token_to_piece(t, 511, true, &p, &l) == DC_OK);
    ck_assert(l == 10 && memcmp(p, "<|im_end|>", 10) == 0);
    ck_assert(dc_token_to_piece(t, 400, false, &p, &l) == DC_OK);
    ck_assert_int_eq(l, 0);   /* unused */
    ck_assert_int_eq(dc_token_to_piece(t, 512, true, &p, &l), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_token_to_piece(t, -1, true, &p, &l), DC_ERR_INVALID_ARG);
    const dc_token ids[] = {'h', 'i', 511, ' '};
    size_t n;
    char buf[4];
    ck_assert_int_eq(dc_detokenize(t, ids, 4, true, NULL, 0, &n), DC_OK);
    ck_assert_int_eq(n, 13);
    ck_assert_int_eq(dc_detokenize(t, ids, 4, false, buf, 4, &n), DC_OK);
    ck_assert(n == 3 && memcmp(buf, "hi ", 3) == 0);
    ck_assert_int_eq(dc_detokenize(t, ids, 4, true, buf, 4, &n), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(n, 13);
    dc_tokenizer_free(t);
}
END_TEST

/* Push ids one by one; check each output ends on a character boundary and
 * the joined output equals want. */
static void stream_check(const dc_tokenizer *t, const dc_token *ids, int n, const char *want,
                         size_t want_len, const size_t *want_step) {
    dc_detok *d;
    ck_assert(dc_detok_init(t, true, &d) == DC_OK);
    char out[256];
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        const char *s;
        size_t l;
        ck_assert(dc_detok_push(d, ids[i], &s, &l) == DC_OK);
        if (want_step) ck_assert_msg(l == want_step[i], "step %d: %zu bytes, want %zu", i, l,
                                     want_step[i]);
        memcpy(out + o, s, l);
        o += l;
    }
    const char *s;
    size_t l;
    ck_assert(dc_detok_flush(d, &s, &l) == DC_OK);
    memcpy(out + o, s, l);
    o += l;
    ck_assert_int_eq(o, want_len);
    ck_assert(memcmp(out, want, o) == 0);
    dc_detok_free(d);
}

START_TEST(test_detok_stream) {
    dc_tokenizer *t = load_fixture(0);
    /* "a€b" with € as three byte tokens: held until complete. */
    const dc_token e1[] = {'a', 0xE2, 0x82, 0xAC, 'b'};
    const size_t s1[] = {1, 0, 0, 3, 1};
    stream_check(t, e1, 5, "a\xE2\x82\xAC" "b", 5, s1);
    /* 4-byte emoji split 1+3, then a control token. */
    const dc_token e2[] = {0xF0, 0x9F, 0x98, 0x80, 511};
    const size_t s2[] = {0, 0, 0, 4, 27};
    stream_check(t, e2, 5, "\xF0\x9F\x98\x80<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
                 31, s2);
    /* An unfinished char interrupted: bytes pass through, nothing lost. */
    const dc_token e3[] = {0xE4, 0xB8, 'x', 0x80, 0xFF};
    const size_t s3[] = {0, 0, 3, 1, 1};
    stream_check(t, e3, 5, "\xE4\xB8x\x80\xFF", 5, s3);
    /* Flush returns what is held. */
    const dc_token e4[] = {'z', 0xF0, 0x9F};
    stream_check(t, e4, 3, "z\xF0\x9F", 3, NULL);
    dc_detok_free(NULL);
    dc_tokenizer_free(t);
}
END_TEST

/* ---- invalid UTF-8 ------------------------------------------------------------------------- */

START_TEST(test_invalid_utf8) {
    static const struct { const char *in, *want; } cases[] = {
        {"\xFF", "\xEF\xBF\xBD"},
        {"a\x80" "b", "a\xEF\xBF\xBD" "b"},
        {"\xE2\x82", "\xEF\xBF\xBD\xEF\xBF\xBD"},                       /* cut short      */
        {"\xE2\x82\xAC", "\xE2\x82\xAC"},                               /* valid €        */
        {"\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD"},                       /* overlong /     */
        {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"},        /* surrogate      */
        {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"}, /* > 10FFFF */
        {"x\xF8y\xFEz", "x\xEF\xBF\xBDy\xEF\xBF\xBDz"},
        {"12\xC3", "12\xEF\xBF\xBD"},
        {"\xEF\xBF\xBD", "\xEF\xBF\xBD"},                               /* a real U+FFFD */
    };
    for (int f = 0; f < 4; f++) {
        dc_tokenizer *t = load_fixture(f);
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            dc_token *ids;
            int32_t n = tok(t, cases[c].in, strlen(cases[c].in), false, true, &ids);
            size_t len;
            char *back = detok(t, ids, n, true, &len);
            ck_assert_msg(len == strlen(cases[c].want) && memcmp(back, cases[c].want, len) == 0,
                          "%s case %zu", fixtures[f], c);
            free(back);
            free(ids);
        }
        dc_tokenizer_free(t);
    }
}
END_TEST

/* ---- 1 MB runs on a small stack ----------------------------------------------------------------- */

typedef struct long_job {
    dc_tokenizer *t;
    const char   *text;
    size_t        n;
    dc_status     st;
    bool          roundtrip;
} long_job;

static void *long_run(void *arg) {
    long_job *j = arg;
    int32_t n = 0;
    j->st = dc_tokenize(j->t, j->text, j->n, false, true, NULL, 0, &n);
    if (j->st != DC_OK) return NULL;
    dc_token *ids = malloc((size_t)n * sizeof *ids);
    j->st = dc_tokenize(j->t, j->text, j->n, false, true, ids, n, &n);
    size_t len = 0;
    char *back = malloc(j->n);
    if (j->st == DC_OK) j->st = dc_detokenize(j->t, ids, n, true, back, j->n, &len);
    j->roundtrip = len == j->n && memcmp(back, j->text, len) == 0;
    free(back);
    free(ids);
    return NULL;
}

/* Tokenize on a thread with a 256 KiB stack: any recursion per character
 * (what std::regex does) would overflow it. */
static void run_small_stack(long_job *j) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, &attr, long_run, j), 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&attr);
}

START_TEST(test_long_runs) {
    const size_t mb = 1 << 20;
    /* Initialized past the text too: PCRE2's JIT may read ahead (harmless,
     * within the page), which valgrind reports for uninitialized bytes. */
    char *buf = calloc(1, mb);
    const char *units[] = {"a", "\xC3\xA9", "\xE4\xB8\xAD", "7", " ", "!", "\n", "Ab1 "};
    for (int f = 0; f < 4; f++) {
        dc_tokenizer *t = load_fixture(f);
        for (int jit = 0; jit < 2; jit++) {
            if (jit == 1) dc_pretok_disable_jit(t->pretok);
            for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
                size_t ul = strlen(units[u]), n = mb / ul * ul;
                for (size_t i = 0; i < n; i += ul) memcpy(buf + i, units[u], ul);
                long_job j = {.t = t, .text = buf, .n = n};
                run_small_stack(&j);
                ck_assert_msg(j.st == DC_OK, "%s unit %zu jit %d: %s", fixtures[f], u, !jit,
                              dc_last_error());
                ck_assert_msg(j.roundtrip, "%s unit %zu: round trip", fixtures[f], u);
            }
        }
        dc_tokenizer_free(t);
    }
    free(buf);
}
END_TEST

/* ---- round trips -------------------------------------------------------------------------------- */

START_TEST(test_roundtrip_random) {
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 1);
    for (int f = 0; f < 4; f++) {
        dc_tokenizer *t = load_fixture(f);
        for (int iter = 0; iter < 400; iter++) {
            uint8_t in[256] = {0}, want[1024];
            size_t n = 0;
            int kind = iter % 3;
            size_t len = dc_test_rng_u64(&rng) % 120;
            for (size_t i = 0; i < len; i++) {
                uint64_t r = dc_test_rng_u64(&rng);
                if (kind == 0) {   /* random bytes */
                    in[n++] = (uint8_t)r;
                } else {           /* random code points, ASCII-heavy */
                    uint32_t cp = (uint32_t)(r >> 8) % (r & 1 ? 0x80 : 0x110000);
                    if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;
                    n += (size_t)dc_utf8_encode(cp, in + n);
                }
                if (n > 250) break;
            }
            size_t wn = dc_utf8_sanitize(in, n, want);
            for (int special = 0; special < 2; special++) {
                dc_token *ids;
                int32_t k = tok(t, (const char *)in, n, false, special, &ids);
                size_t bl;
                char *back = detok(t, ids, k, special, &bl);
                ck_assert_msg(bl == wn && memcmp(back, want, wn) == 0, "%s iter %d", fixtures[f],
                              iter);
                if (kind != 0) ck_assert(bl == n && memcmp(back, in, n) == 0);
                free(back);
                free(ids);
            }
        }
        dc_tokenizer_free(t);
    }
}
END_TEST

/* ---- NFC --------------------------------------------------------------------------------------- */

START_TEST(test_nfc) {
    static const struct { const char *in, *out; } cases[] = {
        {"e\xCC\x81", "\xC3\xA9"},
        {"\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", "\xEA\xB0\x81"},   /* jamo -> 각 */
        {"\xE2\x84\xAB", "\xC3\x85"},                               /* Angstrom -> Å */
        {"abc", "abc"},
        {"a\xCC\xA3\xCC\x82", "\xE1\xBA\xAD"},                      /* ậ */
        {"a\xCC\x82\xCC\xA3", "\xE1\xBA\xAD"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char *o;
        size_t n;
        ck_assert(dc_nfc(cases[c].in, strlen(cases[c].in), &o, &n) == DC_OK);
        ck_assert_msg(n == strlen(cases[c].out) && memcmp(o, cases[c].out, n) == 0, "case %zu", c);
        dc_free(o);
    }
    mini_vocab v;
    mini_init(&v);
    dc_tokenizer *t = mini_build(&v, NULL, 0, "qwen2", "NFC");
    const dc_token w[] = {0xC3, 0xA9};
    assert_ids(t, "e\xCC\x81", true, w, 2);
    dc_tokenizer_free(t);
    t = mini_build(&v, NULL, 0, "qwen2", NULL);
    const dc_token w2[] = {'e', 0xCC, 0x81};
    assert_ids(t, "e\xCC\x81", true, w2, 3);
    dc_tokenizer_free(t);
}
END_TEST

/* ---- hostile metadata ---------------------------------------------------------------------------- */

typedef struct gguf_opts {
    const char *model, *pre, *normalizer;
    int         n_types;          /* -1: as many as tokens */
    int64_t     bos;
    bool        dup, bad_merge, bad_type, no_tokens;
} gguf_opts;

static dc_status build_from(const gguf_opts *o, dc_tokenizer **t) {
    char path[] = "/tmp/deepc-test-text-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dc_gguf_writer *w;
    ck_assert(dc_gguf_writer_init(&w) == DC_OK);
    const char *toks[260];
    int32_t types[260];
    char bytes[256][4];
    for (int b = 0; b < 256; b++) {
        int l = dc_utf8_encode(dc_byte_to_cp((uint8_t)b), (uint8_t *)bytes[b]);
        bytes[b][l] = '\0';
        toks[b] = bytes[b];
        types[b] = DC_TOKEN_TYPE_NORMAL;
    }
    toks[256] = o->dup ? "a" : "ab";
    toks[257] = "<s>";
    types[256] = o->bad_type ? 9 : DC_TOKEN_TYPE_NORMAL;
    types[257] = DC_TOKEN_TYPE_CONTROL;
    const char *merges[] = {o->bad_merge ? "ab" : "a b"};
    dc_gguf_set_str(w, "tokenizer.ggml.model", o->model ? o->model : "gpt2");
    if (o->pre) dc_gguf_set_str(w, "tokenizer.ggml.pre", o->pre);
    if (o->normalizer) dc_gguf_set_str(w, DC_TOK_KEY_NORMALIZER, o->normalizer);
    if (!o->no_tokens) dc_gguf_set_arr_str(w, "tokenizer.ggml.tokens", toks, 258);
    dc_gguf_set_arr(w, "tokenizer.ggml.token_type", DC_GGUF_I32, types,
                    (uint64_t)(o->n_types < 0 ? 258 : o->n_types));
    dc_gguf_set_arr_str(w, "tokenizer.ggml.merges", merges, 1);
    if (o->bos >= 0) dc_gguf_set_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)o->bos);
    ck_assert(dc_gguf_writer_write(w, path) == DC_OK);
    dc_gguf_writer_free(w);
    dc_gguf *g;
    ck_assert(dc_gguf_open(path, &g) == DC_OK);
    *t = (dc_tokenizer *)1;
    dc_status st = dc_tokenizer_from_gguf(g, t);
    dc_gguf_close(g);
    unlink(path);
    return st;
}

START_TEST(test_bad_metadata) {
    dc_tokenizer *t;
    gguf_opts ok = {.pre = "qwen2", .n_types = -1, .bos = 257};
    ck_assert_msg(build_from(&ok, &t) == DC_OK, "%s", dc_last_error());
    const dc_token w[] = {256, 257};
    assert_ids(t, "ab<s>", true, w, 2);
    dc_tokenizer_free(t);

    struct { gguf_opts o; dc_status want; const char *msg; } bad[] = {
        {{.pre = "qwen9", .n_types = -1, .bos = -1}, DC_ERR_UNSUPPORTED, "'qwen9'"},
        {{.model = "llama", .pre = "qwen2", .n_types = -1, .bos = -1}, DC_ERR_UNSUPPORTED, "'llama'"},
        {{.pre = "qwen2", .n_types = 100, .bos = -1}, DC_ERR_FORMAT, "token_type"},
        {{.pre = "qwen2", .n_types = -1, .bos = 258}, DC_ERR_FORMAT, "bos_token_id"},
        {{.pre = "qwen2", .n_types = -1, .bos = -1, .dup = true}, DC_ERR_FORMAT, "duplicates"},
        {{.pre = "qwen2", .n_types = -1, .bos = -1, .bad_merge = true}, DC_ERR_FORMAT, "merges"},
        {{.pre = "qwen2", .n_types = -1, .bos = -1, .bad_type = true}, DC_ERR_FORMAT, "token_type"},
        {{.pre = "qwen2", .normalizer = "NFKD", .n_types = -1, .bos = -1}, DC_ERR_UNSUPPORTED, "NFKD"},
        {{.pre = "qwen2", .n_types = 0, .bos = -1, .no_tokens = true}, DC_ERR_NOT_FOUND, "tokens"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dc_status st = build_from(&bad[i].o, &t);
        ck_assert_msg(st == bad[i].want, "case %zu: %s (%s)", i, dc_status_str(st), dc_last_error());
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(dc_last_error(), bad[i].msg), "case %zu: '%s'", i, dc_last_error());
    }
    /* No pre key: GPT-2's regex, with a warning. */
    gguf_opts nopre = {.n_types = -1, .bos = -1};
    ck_assert(build_from(&nopre, &t) == DC_OK);
    ck_assert_str_eq(dc_tokenizer_pre(t), "gpt2");
    dc_tokenizer_free(t);
}
END_TEST

/* ---- Hugging Face folders ---------------------------------------------------------------------- */

static void write_text(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* tokenizer.json: bytes, "ab" by a string merge, "abc" by an array merge,
 * <|im_end|> (special), <think> (added, not special), a gap at id 260. */
static void write_hf(const char *dir, const char *pre_split) {
    size_t cap = 1 << 16, o = 0;
    char *j = malloc(cap);
    o += (size_t)snprintf(j + o, cap - o, "{\"normalizer\":{\"type\":\"NFC\"},\"pre_tokenizer\":"
                          "{\"type\":\"Sequence\",\"pretokenizers\":[%s,{\"type\":\"ByteLevel\","
                          "\"add_prefix_space\":false,\"use_regex\":false}]},\"added_tokens\":["
                          "{\"id\":261,\"content\":\"<|im_end|>\",\"special\":true},"
                          "{\"id\":262,\"content\":\"<think>\",\"special\":false}],"
                          "\"model\":{\"type\":\"BPE\",\"vocab\":{", pre_split);
    for (int b = 0; b < 256; b++)
        o += (size_t)snprintf(j + o, cap - o, "\"\\u%04x\":%d,", dc_byte_to_cp((uint8_t)b), b);
    o += (size_t)snprintf(j + o, cap - o, "\"ab\":256,\"abc\":257,\"\\u0120a\":258,\"\\u0120ab\":259},"
                          "\"merges\":[\"\\u0120 a\",\"a b\",[\"\\u0120a\",\"b\"],[\"ab\",\"c\"]]}}");
    write_text(dir, "tokenizer.json", j);
    free(j);
    write_text(dir, "tokenizer_config.json",
               "{\"add_bos_token\":false,\"bos_token\":null,\"eos_token\":{\"content\":\"<|im_end|>\"},"
               "\"chat_template\":\"{{ messages }}\"}");
}

#define QWEN_SPLIT                                                                          \
    "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\\\r\\\\n\\\\p{L}" \
    "\\\\p{N}]?\\\\p{L}+|\\\\p{N}| ?[^\\\\s\\\\p{L}\\\\p{N}]+[\\\\r\\\\n]*|\\\\s*[\\\\r\\\\n]+|"   \
    "\\\\s+(?!\\\\S)|\\\\s+\"},\"behavior\":\"Isolated\",\"invert\":false}"

START_TEST(test_hf_folder) {
    char dir[] = "/tmp/deepc-test-hf-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_hf(dir, QWEN_SPLIT);
    dc_tokenizer *t;
    ck_assert_msg(dc_tokenizer_from_hf(dir, &t) == DC_OK, "%s", dc_last_error());
    ck_assert_int_eq(dc_tokenizer_n_vocab(t), 263);
    ck_assert_str_eq(dc_tokenizer_pre(t), "qwen2");
    ck_assert_int_eq(dc_tokenizer_eos(t), 261);
    ck_assert_int_eq(dc_tokenizer_bos(t), -1);
    ck_assert_int_eq(dc_tokenizer_token_type(t, 260), DC_TOKEN_TYPE_UNUSED);
    ck_assert_int_eq(dc_tokenizer_token_type(t, 261), DC_TOKEN_TYPE_CONTROL);
    ck_assert_int_eq(dc_tokenizer_token_type(t, 262), DC_TOKEN_TYPE_USER_DEFINED);
    ck_assert_str_eq(dc_tokenizer_token_text(t, 260), "[PAD260]");
    ck_assert(dc_tokenizer_is_eog(t, 261));
    const dc_token w[] = {257, 259, 261, 'c', 262};
    assert_ids(t, "abc ab<|im_end|>c<think>", true, w, 5);

    /* Convert to GGUF, load that: same keys, same ids. */
    dc_gguf_writer *wr;
    ck_assert(dc_gguf_writer_init(&wr) == DC_OK);
    ck_assert_msg(dc_hf_tokenizer_to_gguf(dir, wr) == DC_OK, "%s", dc_last_error());
    char path[600];
    snprintf(path, sizeof path, "%s/tok.gguf", dir);
    ck_assert(dc_gguf_writer_write(wr, path) == DC_OK);
    dc_gguf_writer_free(wr);
    dc_gguf *g;
    ck_assert(dc_gguf_open(path, &g) == DC_OK);
    const char *s;
    size_t l;
    ck_assert(dc_gguf_get_str(g, "tokenizer.ggml.pre", &s, &l) == DC_OK);
    ck_assert(l == 5 && memcmp(s, "qwen2", 5) == 0);
    ck_assert(dc_gguf_get_str(g, DC_TOK_KEY_NORMALIZER, &s, &l) == DC_OK && l == 3);
    ck_assert(dc_gguf_get_str(g, "tokenizer.chat_template", &s, &l) == DC_OK);
    ck_assert(l == 14 && memcmp(s, "{{ messages }}", 14) == 0);
    dc_tokenizer *t2;
    ck_assert(dc_tokenizer_from_gguf(g, &t2) == DC_OK);
    dc_gguf_close(g);
    unlink(path);
    const char *texts[] = {"abc ab<|im_end|>c<think>", "e\xCC\x81 abcab  abc\n", ""};
    for (int i = 0; i < 3; i++) {
        dc_token *a, *b;
        int32_t na = tok(t, texts[i], strlen(texts[i]), false, true, &a);
        int32_t nb = tok(t2, texts[i], strlen(texts[i]), false, true, &b);
        ck_assert_int_eq(na, nb);
        ck_assert(na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0);
        free(a);
        free(b);
    }
    dc_tokenizer_free(t2);
    dc_tokenizer_free(t);

    /* Errors: an unknown regex, bad JSON, no folder. */
    write_hf(dir, "{\"type\":\"Split\",\"pattern\":{\"Regex\":\"\\\\w+\"},\"behavior\":\"Isolated\"}");
    ck_assert_int_eq(dc_tokenizer_from_hf(dir, &t), DC_ERR_UNSUPPORTED);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "unknown pre-tokenizer"));
    write_text(dir, "tokenizer.json", "{\"model\": [1, 2");
    ck_assert_int_eq(dc_tokenizer_from_hf(dir, &t), DC_ERR_FORMAT);
    char p2[600];
    snprintf(p2, sizeof p2, "%s/tokenizer.json", dir);
    unlink(p2);
    snprintf(p2, sizeof p2, "%s/tokenizer_config.json", dir);
    unlink(p2);
    ck_assert_int_eq(dc_tokenizer_from_hf(dir, &t), DC_ERR_IO);
    ck_assert_ptr_null(t);
    rmdir(dir);
}
END_TEST

/* ---- allocation failures ------------------------------------------------------------------------- */

START_TEST(test_alloc_failures) {
    dc_gguf *g;
    ck_assert(dc_gguf_open(dc_test_shared_path("fixtures/models/tiny-llama.gguf"), &g) == DC_OK);
    const char *text = "Hello <|eot_id|> w\xC3\xB6rld 12345 \xFF!";
    bool built = false, tokenized = false;
    for (long n = 0; n < 10000 && !(built && tokenized); n++) {
        dc_tokenizer *t = NULL;
        dc_alloc_fail_after(n);
        dc_status st = dc_tokenizer_from_gguf(g, &t);
        dc_alloc_fail_after(-1);
        if (st != DC_OK) {
            ck_assert_int_eq(st, DC_ERR_NOMEM);
            ck_assert_ptr_null(t);
            continue;
        }
        built = true;
        dc_token out[64];
        int32_t cnt;
        dc_alloc_fail_after(n / 4);
        st = dc_tokenize(t, text, strlen(text), true, true, out, 64, &cnt);
        dc_alloc_fail_after(-1);
        ck_assert_msg(st == DC_OK || st == DC_ERR_NOMEM, "%s", dc_status_str(st));
        tokenized = st == DC_OK;
        dc_tokenizer_free(t);
    }
    ck_assert(built && tokenized);
    dc_gguf_close(g);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------------------- */

typedef struct thread_job {
    const dc_tokenizer *t;
    uint64_t            seed;
    int                 mismatches;
} thread_job;

static void *thread_run(void *arg) {
    thread_job *j = arg;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, j->seed);
    for (int iter = 0; iter < 300; iter++) {
        char buf[200] = {0};
        size_t n = dc_test_rng_u64(&rng) % sizeof buf;
        for (size_t i = 0; i < n; i++) buf[i] = (char)(' ' + dc_test_rng_u64(&rng) % 95);
        dc_token a[700], b[700];
        int32_t na, nb;
        dc_tokenize(j->t, buf, n, false, true, a, 700, &na);
        dc_tokenize(j->t, buf, n, false, true, b, 700, &nb);
        if (na != nb || memcmp(a, b, (size_t)na * sizeof *a) != 0) j->mismatches++;
    }
    return NULL;
}

START_TEST(test_threads) {
    dc_tokenizer *t = load_fixture(0);
    pthread_t th[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){t, (uint64_t)i + 7, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_run, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(jobs[i].mismatches, 0);
    }
    dc_tokenizer_free(t);
}
END_TEST

Suite *text_suite(void) {
    Suite *s = suite_create("text");
    TCase *tc = tcase_create("gguf");
    tcase_add_test(tc, test_fixture_props);
    tcase_add_test(tc, test_fixture_bpe);
    tcase_add_test(tc, test_bad_metadata);
    suite_add_tcase(s, tc);
    tc = tcase_create("pretok");
    tcase_add_test(tc, test_pretok_splits);
    tcase_add_test(tc, test_pretok_unknown);
    tcase_add_test(tc, test_nfc);
    suite_add_tcase(s, tc);
    tc = tcase_create("bpe");
    tcase_add_test(tc, test_bpe_vs_naive);
    tcase_add_test(tc, test_bpe_ties_and_ignore_merges);
    suite_add_tcase(s, tc);
    tc = tcase_create("special");
    tcase_add_test(tc, test_special_tokens);
    tcase_add_test(tc, test_special_matching_rules);
    tcase_add_test(tc, test_sizing);
    suite_add_tcase(s, tc);
    tc = tcase_create("detok");
    tcase_add_test(tc, test_pieces);
    tcase_add_test(tc, test_detok_stream);
    suite_add_tcase(s, tc);
    tc = tcase_create("robust");
    tcase_add_test(tc, test_invalid_utf8);
    tcase_add_test(tc, test_long_runs);
    tcase_add_test(tc, test_roundtrip_random);
    tcase_add_test(tc, test_alloc_failures);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    tc = tcase_create("hf");
    tcase_add_test(tc, test_hf_folder);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(text_suite)
