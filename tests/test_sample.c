/*
 * test_sample.c - lib/sample/sampler.c: the sampling chain.
 *
 *   params        defaults, validation, argument errors;
 *   greedy        temp <= 0 is the arg max (lowest id on ties), NaN/-inf;
 *   determinism   same seed -> same tokens, another seed -> other tokens,
 *                 reset -> the same tokens again;
 *   penalties     repeat (divide positive, multiply negative), frequency and
 *                 presence amounts pinned to 1e-3 by greedy probes (a
 *                 competitor token just above / below the expected logit),
 *                 and the penalty_last_n window;
 *   distribution  chi-square goodness of fit of 20000 draws after top-k,
 *                 top-p (a peaked vocabulary, and a flat 5000-token one whose
 *                 nucleus needs the growing partial sort) and temperature,
 *                 against the renormalised probabilities computed here in
 *                 double; min-p cut-off; top-k on adversarial orders.
 * Draws use fixed seeds, so every statistic is the same on every run: the
 * 0.001 critical values guard against a wrong distribution, not bad luck.
 */
#include "test_util.h"

#include <deepc.h>

#include "lib/core/core_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_DRAWS 20000

static dc_sampler *make(dc_sampler_params p, int32_t n_vocab) {
    dc_sampler *s = NULL;
    ck_assert_msg(dc_sampler_init(&p, n_vocab, &s) == DC_OK, "%s", dc_last_error());
    return s;
}

static dc_sampler_params plain(float temp) {
    dc_sampler_params p = dc_sampler_default_params();
    p.temp = temp;
    p.top_k = 0;
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    return p;
}

/* ---- params --------------------------------------------------------------------- */

START_TEST(test_params) {
    dc_sampler_params p = dc_sampler_default_params();
    ck_assert_float_eq(p.temp, 0.8f);
    ck_assert_int_eq(p.top_k, 40);
    ck_assert_float_eq(p.top_p, 0.95f);
    ck_assert_float_eq(p.min_p, 0.05f);
    ck_assert_float_eq(p.repeat_penalty, 1.0f);
    ck_assert_int_eq(p.penalty_last_n, 64);

    dc_sampler *s = (dc_sampler *)1;
    ck_assert_int_eq(dc_sampler_init(&p, 0, &s), DC_ERR_INVALID_ARG);
    ck_assert_ptr_null(s);
    ck_assert_int_eq(dc_sampler_init(NULL, 10, &s), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_sampler_init(&p, 10, NULL), DC_ERR_INVALID_ARG);
    dc_sampler_params bad[6];
    for (int i = 0; i < 6; i++) bad[i] = p;
    bad[0].top_p = 0.0f;
    bad[1].min_p = 1.5f;
    bad[2].repeat_penalty = 0.0f;
    bad[3].penalty_last_n = -1;
    bad[4].temp = NAN;
    bad[5].presence_penalty = INFINITY;
    for (int i = 0; i < 6; i++) {
        ck_assert_int_eq(dc_sampler_init(&bad[i], 10, &s), DC_ERR_INVALID_ARG);
        ck_assert_ptr_null(s);
    }

    s = make(p, 10);
    dc_sampler_params q = dc_sampler_get_params(s);
    ck_assert_mem_eq(&q, &p, sizeof p);
    ck_assert_int_eq(dc_sampler_accept(s, 10), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_sampler_accept(s, -1), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_sampler_accept(s, 9), DC_OK);
    ck_assert_int_eq(dc_sampler_accept(NULL, 0), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_sampler_sample(s, NULL), -1);
    ck_assert_int_eq(dc_sampler_sample(NULL, NULL), -1);
    float all_bad[10];
    for (int i = 0; i < 10; i++) all_bad[i] = i % 2 ? NAN : -INFINITY;
    ck_assert_int_eq(dc_sampler_sample(s, all_bad), -1);
    all_bad[7] = -3.0f;
    ck_assert_int_eq(dc_sampler_sample(s, all_bad), 7);  /* the only possible token */
    dc_sampler_free(s);
    dc_sampler_free(NULL);
    dc_sampler_reset(NULL);
}
END_TEST

START_TEST(test_alloc_failures) {
    dc_sampler_params p = dc_sampler_default_params();
    size_t base = dc_alloc_bytes_in_use();
    int failures = 0;
    for (long k = 0; k < 16; k++) {
        dc_sampler *s = (dc_sampler *)1;
        dc_alloc_fail_after(k);
        dc_status st = dc_sampler_init(&p, 1000, &s);
        dc_alloc_fail_after(-1);
        if (st == DC_OK) {
            dc_sampler_free(s);
            break;
        }
        ck_assert_int_eq(st, DC_ERR_NOMEM);
        ck_assert_ptr_null(s);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
        failures++;
    }
    ck_assert_int_gt(failures, 0);
    ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
}
END_TEST

/* ---- greedy ----------------------------------------------------------------------- */

START_TEST(test_greedy) {
    enum { V = 5003 };
    static float logits[V];
    dc_test_rng r;
    dc_test_rng_seed(&r, dc_test_seed());
    dc_sampler_params p = dc_sampler_default_params();  /* filters on: ignored by greedy */
    p.temp = 0.0f;
    dc_sampler *s = make(p, V);
    for (int rep = 0; rep < 50; rep++) {
        dc_test_fill_normal(&r, logits, V, 3.0);
        int32_t best = 0;
        for (int32_t i = 1; i < V; i++)
            if (logits[i] > logits[best]) best = i;
        ck_assert_int_eq(dc_sampler_sample(s, logits), best);
    }
    /* ties: the lowest id; NaN never wins; +inf wins */
    for (int32_t i = 0; i < V; i++) logits[i] = 1.0f;
    logits[17] = logits[4000] = 2.0f;
    logits[3] = NAN;
    ck_assert_int_eq(dc_sampler_sample(s, logits), 17);
    logits[4001] = INFINITY;
    ck_assert_int_eq(dc_sampler_sample(s, logits), 4001);
    dc_sampler_free(s);
}
END_TEST

/* ---- determinism ------------------------------------------------------------------ */

static void run_chain(dc_sampler *s, dc_token *out, int n, uint64_t logit_seed) {
    enum { V = 2000 };
    static float logits[V];
    dc_test_rng r;
    dc_test_rng_seed(&r, logit_seed);
    for (int i = 0; i < n; i++) {
        dc_test_fill_normal(&r, logits, V, 2.0);
        out[i] = dc_sampler_sample(s, logits);
        ck_assert_int_ge(out[i], 0);
        ck_assert_int_eq(dc_sampler_accept(s, out[i]), DC_OK);
    }
}

START_TEST(test_determinism) {
    enum { N = 300 };
    dc_token a[N], b[N], c[N], d[N];
    dc_sampler_params p = dc_sampler_default_params();
    p.temp = 1.0f;
    p.top_k = 100;
    p.repeat_penalty = 1.1f;
    p.seed = 1234;
    dc_sampler *s1 = make(p, 2000), *s2 = make(p, 2000);
    p.seed = 1235;
    dc_sampler *s3 = make(p, 2000);
    run_chain(s1, a, N, 7);
    run_chain(s2, b, N, 7);
    run_chain(s3, c, N, 7);
    ck_assert_mem_eq(a, b, sizeof a);
    int same = 0;
    for (int i = 0; i < N; i++) same += a[i] == c[i];
    ck_assert_int_lt(same, N / 4);
    dc_sampler_reset(s1);
    run_chain(s1, d, N, 7);
    ck_assert_mem_eq(a, d, sizeof a);
    dc_sampler_free(s1);
    dc_sampler_free(s2);
    dc_sampler_free(s3);
}
END_TEST

/* ---- penalties -------------------------------------------------------------------- */

/* With token `t` at logit `l` penalised to `want`, a competitor (id 0) at
 * want - 1e-3 must lose and at want + 1e-3 must win (greedy). */
static void probe(dc_sampler_params p, const dc_token *hist, int n_hist, int32_t t, float l,
                  float want) {
    enum { V = 8 };
    float logits[V];
    for (int side = 0; side < 2; side++) {
        dc_sampler *s = make(p, V);
        for (int i = 0; i < n_hist; i++) ck_assert_int_eq(dc_sampler_accept(s, hist[i]), DC_OK);
        for (int i = 0; i < V; i++) logits[i] = -100.0f;
        logits[t] = l;
        logits[0] = side ? want + 1e-3f : want - 1e-3f;
        ck_assert_msg(dc_sampler_sample(s, logits) == (side ? 0 : t),
                      "token %d logit %g: penalised value is not %g", t, l, want);
        dc_sampler_free(s);
    }
}

START_TEST(test_penalties) {
    dc_sampler_params p = plain(0.0f);
    static const dc_token h[] = {5, 5, 5, 6, 7};
    /* repeat: divide a positive logit, multiply a negative one */
    p.repeat_penalty = 1.5f;
    probe(p, h, 5, 5, 3.0f, 2.0f);
    probe(p, h, 5, 6, -2.0f, -3.0f);
    probe(p, h, 5, 4, 3.0f, 3.0f);   /* not in the history: untouched */
    /* frequency: count * f; presence: once */
    p.repeat_penalty = 1.0f;
    p.frequency_penalty = 0.25f;
    probe(p, h, 5, 5, 3.0f, 3.0f - 3 * 0.25f);
    probe(p, h, 5, 7, 3.0f, 3.0f - 0.25f);
    p.frequency_penalty = 0.0f;
    p.presence_penalty = 0.5f;
    probe(p, h, 5, 5, 3.0f, 2.5f);
    probe(p, h, 5, 6, 1.0f, 0.5f);
    /* all three, in llama.cpp's order: repeat first, then the subtractions */
    p.repeat_penalty = 2.0f;
    p.frequency_penalty = 0.1f;
    probe(p, h, 5, 5, 4.0f, 4.0f / 2.0f - 0.3f - 0.5f);
    probe(p, h, 5, 6, -1.0f, -2.0f - 0.1f - 0.5f);
    /* window: only the last 2 tokens (6, 7) count */
    p.penalty_last_n = 2;
    probe(p, h, 5, 5, 4.0f, 4.0f);
    probe(p, h, 5, 7, 4.0f, 2.0f - 0.1f - 0.5f);
    /* penalty_last_n = 0: no history at all */
    p.penalty_last_n = 0;
    probe(p, h, 5, 7, 4.0f, 4.0f);
}
END_TEST

/* ---- distribution ------------------------------------------------------------------ */

/* Upper 0.001 critical value of chi-square with df degrees of freedom
 * (Wilson-Hilferty; within 1% for df >= 3). */
static double chi2_crit(int df) {
    double z = 3.0902, k = 2.0 / (9.0 * df);
    double c = 1.0 - k + z * sqrt(k);
    return df * c * c * c;
}

/* Draw N_DRAWS tokens and test them against want[V] (sums to 1; zero =
 * impossible). Tokens are grouped, most likely first, into bins with an
 * expected count of at least 20. */
static void check_distribution(dc_sampler *s, const float *logits, const double *want, int V,
                               const char *what) {
    int *count = calloc((size_t)V, sizeof *count);
    int *order = malloc((size_t)V * sizeof *order);
    ck_assert(count && order);
    for (int i = 0; i < N_DRAWS; i++) {  /* one check after the loop: ck_assert costs a write */
        dc_token t = dc_sampler_sample(s, logits);
        if (t < 0 || t >= V || want[t] <= 0.0) {
            ck_assert_msg(false, "%s: drew token %d, which must be filtered out", what, t);
        }
        count[t]++;
    }
    int n = 0;
    for (int i = 0; i < V; i++)
        if (want[i] > 0.0) order[n++] = i;
    for (int i = 1; i < n; i++) {  /* insertion sort by want, descending */
        int x = order[i], j = i;
        for (; j > 0 && want[order[j - 1]] < want[x]; j--) order[j] = order[j - 1];
        order[j] = x;
    }
    double stat = 0.0, e = 0.0, o = 0.0;
    int bins = 0;
    for (int i = 0; i < n; i++) {
        e += want[order[i]] * N_DRAWS;
        o += count[order[i]];
        if (e >= 20.0 || i == n - 1) {
            stat += (o - e) * (o - e) / e;
            bins++;
            e = o = 0.0;
        }
    }
    ck_assert_int_ge(bins, 3);
    double crit = chi2_crit(bins - 1);
    ck_assert_msg(stat < crit, "%s: chi-square %.1f >= %.1f (%d bins)", what, stat, crit, bins);
    free(count);
    free(order);
}

/* want[i] proportional to exp(logit / temp) over keep[i], in double. */
static void renormalise(const float *logits, const bool *keep, int V, double temp, double *want) {
    double m = -INFINITY, z = 0.0;
    for (int i = 0; i < V; i++)
        if (keep[i] && logits[i] > m) m = logits[i];
    for (int i = 0; i < V; i++) {
        want[i] = keep[i] ? exp((logits[i] - m) / temp) : 0.0;
        z += want[i];
    }
    for (int i = 0; i < V; i++) want[i] /= z;
}

/* keep = the top-p nucleus at temperature 1 of all V logits. */
static int nucleus(const float *logits, int V, double top_p, bool *keep) {
    int *idx = malloc((size_t)V * sizeof *idx);
    ck_assert_ptr_nonnull(idx);
    for (int i = 0; i < V; i++) idx[i] = i;
    for (int i = 1; i < V; i++) {  /* insertion sort by logit desc, id asc */
        int x = idx[i], j = i;
        for (; j > 0 && logits[idx[j - 1]] < logits[x]; j--) idx[j] = idx[j - 1];
        idx[j] = x;
    }
    double m = logits[idx[0]], z = 0.0, cum = 0.0;
    for (int i = 0; i < V; i++) z += exp(logits[i] - m);
    int kept = 0;
    for (int i = 0; i < V; i++) keep[i] = false;
    for (int i = 0; i < V && cum < top_p * z; i++) {
        cum += exp(logits[idx[i]] - m);
        keep[idx[i]] = true;
        kept++;
    }
    free(idx);
    return kept;
}

START_TEST(test_top_k_distribution) {
    enum { V = 1000, K = 12 };
    static float logits[V];
    static double want[V];
    static bool keep[V];
    dc_test_rng r;
    dc_test_rng_seed(&r, 99);
    dc_test_fill_normal(&r, logits, V, 1.5);
    /* the K largest, by brute force */
    memset(keep, 0, sizeof keep);
    for (int k = 0; k < K; k++) {
        int best = -1;
        for (int i = 0; i < V; i++)
            if (!keep[i] && (best < 0 || logits[i] > logits[best])) best = i;
        keep[best] = true;
    }
    dc_sampler_params p = plain(0.7f);
    p.top_k = K;
    p.seed = 2024;
    renormalise(logits, keep, V, 0.7, want);
    dc_sampler *s = make(p, V);
    check_distribution(s, logits, want, V, "top-k 12, temp 0.7");
    dc_sampler_free(s);
}
END_TEST

START_TEST(test_top_p_distribution) {
    enum { V = 5000 };
    static float logits[V];
    static double want[V];
    static bool keep[V];
    dc_test_rng r;
    dc_test_rng_seed(&r, 5);
    /* peaked: a nucleus of a few dozen tokens */
    dc_test_fill_normal(&r, logits, V, 2.5);
    int kept = nucleus(logits, V, (double)0.8f, keep);
    ck_assert_int_gt(kept, 5);
    dc_sampler_params p = plain(1.3f);
    p.top_p = 0.8f;
    p.seed = 77;
    renormalise(logits, keep, V, 1.3, want);
    dc_sampler *s = make(p, V);
    check_distribution(s, logits, want, V, "top-p 0.8, temp 1.3, peaked");
    dc_sampler_free(s);

    /* flat: a nucleus of thousands of tokens */
    dc_test_fill_normal(&r, logits, V, 0.5);
    kept = nucleus(logits, V, (double)0.5f, keep);
    ck_assert_int_gt(kept, 1024);
    p.top_p = 0.5f;
    p.temp = 0.9f;
    renormalise(logits, keep, V, 0.9, want);
    s = make(p, V);
    check_distribution(s, logits, want, V, "top-p 0.5, temp 0.9, flat");
    dc_sampler_free(s);

    /* top-k then top-p: the nucleus of the top 40 */
    dc_test_fill_normal(&r, logits, V, 1.0);
    p = plain(1.0f);
    p.top_k = 40;
    p.top_p = 0.6f;
    p.seed = 3;
    static float top[V];
    for (int i = 0; i < V; i++) top[i] = -INFINITY;
    for (int k = 0; k < 40; k++) {
        int best = -1;
        for (int i = 0; i < V; i++)
            if (top[i] == -INFINITY && (best < 0 || logits[i] > logits[best])) best = i;
        top[best] = logits[best];
    }
    bool *kk = keep;
    int n40 = 0;
    for (int i = 0; i < V; i++) n40 += top[i] > -INFINITY;
    ck_assert_int_eq(n40, 40);
    /* nucleus over the 40 survivors: -inf logits weigh nothing */
    kept = nucleus(top, V, (double)0.6f, kk);
    for (int i = 0; i < V; i++) kk[i] = kk[i] && top[i] > -INFINITY;
    renormalise(logits, kk, V, 1.0, want);
    s = make(p, V);
    check_distribution(s, logits, want, V, "top-k 40 + top-p 0.6");
    dc_sampler_free(s);
    (void)kept;
}
END_TEST

START_TEST(test_equal_logits) {
    /* ties rank by id: top-p 0.5 of 1000 equal logits keeps ids 0..499, uniformly */
    enum { V = 1000 };
    static float logits[V];
    static double want[V];
    for (int i = 0; i < V; i++) {
        logits[i] = 0.25f;
        want[i] = i < 500 ? 1.0 / 500 : 0.0;
    }
    dc_sampler_params p = plain(1.0f);
    p.top_p = 0.5f;
    p.seed = 11;
    dc_sampler *s = make(p, V);
    check_distribution(s, logits, want, V, "top-p 0.5 of equal logits");
    dc_sampler_free(s);
}
END_TEST

START_TEST(test_min_p) {
    enum { V = 64 };
    float logits[V];
    const float thr = 5.0f + logf(0.1f);
    for (int i = 0; i < V; i++) logits[i] = -20.0f;
    logits[0] = 5.0f;
    logits[10] = thr + 0.01f;   /* just above min_p * p_max: kept */
    logits[20] = thr - 0.01f;   /* just below: cut */
    logits[30] = thr + 1.0f;
    static double want[V];
    bool keep[V] = {false};
    keep[0] = keep[10] = keep[30] = true;
    dc_sampler_params p = plain(2.0f);
    p.min_p = 0.1f;
    p.seed = 8;
    renormalise(logits, keep, V, 2.0, want);
    dc_sampler *s = make(p, V);
    check_distribution(s, logits, want, V, "min-p 0.1, temp 2");
    dc_sampler_free(s);
    /* min_p = 1: only the best survives, whatever the temperature */
    p.min_p = 1.0f;
    p.temp = 100.0f;
    s = make(p, V);
    for (int i = 0; i < 200; i++) ck_assert_int_eq(dc_sampler_sample(s, logits), 0);
    dc_sampler_free(s);
}
END_TEST

START_TEST(test_top_k_adversarial) {
    /* ascending, descending and constant orders must keep exactly the top k */
    enum { V = 100000, K = 50 };
    static float logits[V];
    dc_sampler_params p = plain(50.0f);  /* hot: every survivor shows up */
    p.top_k = K;
    dc_sampler *s = make(p, V);
    for (int order = 0; order < 3; order++) {
        for (int i = 0; i < V; i++)
            logits[i] = order == 0 ? (float)i * 1e-3f : order == 1 ? (float)(V - i) * 1e-3f : 1.0f;
        for (int d = 0; d < 200; d++) {
            dc_token t = dc_sampler_sample(s, logits);
            if (order == 0 ? t < V - K : t >= K || t < 0)
                ck_assert_msg(false, "order %d: token %d is not in the top %d", order, t, K);
        }
    }
    dc_sampler_free(s);
}
END_TEST

static Suite *sample_suite(void) {
    Suite *s = suite_create("sample");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, test_params);
    tcase_add_test(tc, test_alloc_failures);
    suite_add_tcase(s, tc);
    tc = tcase_create("greedy");
    tcase_add_test(tc, test_greedy);
    suite_add_tcase(s, tc);
    tc = tcase_create("determinism");
    tcase_add_test(tc, test_determinism);
    suite_add_tcase(s, tc);
    tc = tcase_create("penalties");
    tcase_add_test(tc, test_penalties);
    suite_add_tcase(s, tc);
    tc = tcase_create("distribution");
    tcase_add_test(tc, test_top_k_distribution);
    tcase_add_test(tc, test_top_p_distribution);
    tcase_add_test(tc, test_equal_logits);
    tcase_add_test(tc, test_min_p);
    tcase_add_test(tc, test_top_k_adversarial);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(sample_suite)
