/*
 * sampler.c - the sampling chain: penalties, top-k, top-p, min-p,
 * temperature, then greedy or a seeded draw (contract in deepc/sampler.h).
 *
 * Work per call is O(n_vocab) in the common cases:
 *   - logits are copied once into a candidate array [n_vocab] of (logit, id),
 *     NaN and -inf dropped, penalties applied by id through the history
 *     window (a per-token stamp applies each distinct token once);
 *   - top-k is a quickselect (median of three, falling back to a sort of the
 *     range when it recurses too deep, so the worst case is O(n log n));
 *   - top-p is a quickselect weighted by probability (the nucleus comes out
 *     unordered; the draw does not need an order), so nothing is sorted;
 *   - min-p is one threshold pass; the draw is one softmax pass plus a walk.
 * Ties are ordered by token id, a total order, so the same inputs give the
 * same candidate order and the same tokens on every machine.
 *
 * The PRNG is xoshiro256** (Blackman & Vigna) seeded through splitmix64;
 * uniform doubles take its top 53 bits. All scratch is allocated at init.
 */
#include "deepc/sampler.h"

#include "lib/core/core_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG ---------------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t xoshiro_next(uint64_t s[4]) {
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

static void xoshiro_seed(uint64_t s[4], uint64_t seed) {
    for (int i = 0; i < 4; i++) s[i] = splitmix64(&seed);
}

/* Uniform in [0, 1) with 53 random bits. */
static double xoshiro_double(uint64_t s[4]) {
    return (double)(xoshiro_next(s) >> 11) * 0x1.0p-53;
}

/* ---- state --------------------------------------------------------------------- */

typedef struct cand {
    float   logit;
    float   w;      /* exp(logit - max): top-p's weight */
    int32_t id;
} cand;

struct dc_sampler {
    dc_sampler_params p;
    int32_t  n_vocab;
    cand    *cand;      /* [n_vocab] working candidates                  */
    float   *weight;    /* [n_vocab] unnormalised probabilities          */
    int32_t *count;     /* [n_vocab] occurrences in the history window   */
    uint32_t *mark;     /* [n_vocab] stamp: penalty applied this call    */
    uint32_t stamp;
    dc_token *hist;     /* [penalty_last_n] ring of accepted tokens      */
    int32_t  hist_n;    /* tokens in the ring                            */
    int32_t  hist_head; /* oldest token when the ring is full            */
    uint64_t rng[4];
};

dc_sampler_params dc_sampler_default_params(void) {
    dc_sampler_params p = {
        .temp = 0.8f,
        .top_k = 40,
        .top_p = 0.95f,
        .min_p = 0.05f,
        .repeat_penalty = 1.0f,
        .frequency_penalty = 0.0f,
        .presence_penalty = 0.0f,
        .penalty_last_n = 64,
        .seed = 0,
    };
    return p;
}

static dc_status check_params(const dc_sampler_params *p) {
    if (!isfinite(p->temp) || !isfinite(p->top_p) || !isfinite(p->min_p) ||
        !isfinite(p->repeat_penalty) || !isfinite(p->frequency_penalty) ||
        !isfinite(p->presence_penalty))
        return dc_error(DC_ERR_INVALID_ARG, "sampler params: a value is not finite");
    if (p->top_p <= 0.0f)
        return dc_error(DC_ERR_INVALID_ARG, "sampler params: top_p %g must be > 0", p->top_p);
    if (p->min_p < 0.0f || p->min_p > 1.0f)
        return dc_error(DC_ERR_INVALID_ARG, "sampler params: min_p %g outside [0, 1]", p->min_p);
    if (p->repeat_penalty <= 0.0f)
        return dc_error(DC_ERR_INVALID_ARG, "sampler params: repeat_penalty %g must be > 0",
                        p->repeat_penalty);
    if (p->penalty_last_n < 0)
        return dc_error(DC_ERR_INVALID_ARG, "sampler params: penalty_last_n %d must be >= 0",
                        p->penalty_last_n);
    return DC_OK;
}

dc_status dc_sampler_init(const dc_sampler_params *params, int32_t n_vocab, dc_sampler **out) {
    DC_CHECK_ARG(out);
    *out = NULL;
    DC_CHECK_ARG(params && n_vocab > 0);
    dc_status st = check_params(params);
    if (st != DC_OK) return st;
    dc_sampler *s = dc_calloc(1, sizeof *s);
    if (!s) return DC_ERR_NOMEM;
    s->p = *params;
    s->n_vocab = n_vocab;
    s->cand = dc_calloc((size_t)n_vocab, sizeof *s->cand);
    s->weight = dc_calloc((size_t)n_vocab, sizeof *s->weight);
    s->count = dc_calloc((size_t)n_vocab, sizeof *s->count);
    s->mark = dc_calloc((size_t)n_vocab, sizeof *s->mark);
    s->hist = dc_calloc((size_t)params->penalty_last_n, sizeof *s->hist);
    if (!s->cand || !s->weight || !s->count || !s->mark || !s->hist) {
        dc_sampler_free(s);
        return DC_ERR_NOMEM;
    }
    dc_sampler_reset(s);
    *out = s;
    return DC_OK;
}

void dc_sampler_free(dc_sampler *s) {
    if (!s) return;
    dc_free(s->cand);
    dc_free(s->weight);
    dc_free(s->count);
    dc_free(s->mark);
    dc_free(s->hist);
    dc_free(s);
}

void dc_sampler_reset(dc_sampler *s) {
    if (!s) return;
    memset(s->count, 0, (size_t)s->n_vocab * sizeof *s->count);
    memset(s->mark, 0, (size_t)s->n_vocab * sizeof *s->mark);
    s->stamp = 0;
    s->hist_n = 0;
    s->hist_head = 0;
    xoshiro_seed(s->rng, s->p.seed);
}

dc_sampler_params dc_sampler_get_params(const dc_sampler *s) {
    return s ? s->p : dc_sampler_default_params();
}

dc_status dc_sampler_accept(dc_sampler *s, dc_token token) {
    DC_CHECK_ARG(s);
    if (token < 0 || token >= s->n_vocab)
        return dc_error(DC_ERR_INVALID_ARG, "sampler: token %d outside the vocabulary [0, %d)",
                        token, s->n_vocab);
    int32_t cap = s->p.penalty_last_n;
    if (cap == 0) return DC_OK;
    if (s->hist_n == cap) {
        s->count[s->hist[s->hist_head]]--;
        s->hist[s->hist_head] = token;
        s->hist_head = (s->hist_head + 1) % cap;
    } else {
        s->hist[(s->hist_head + s->hist_n) % cap] = token;
        s->hist_n++;
    }
    s->count[token]++;
    return DC_OK;
}

/* ---- candidate order and selection ----------------------------------------------- */

/* a ranks before b: larger logit, then smaller id (a total order). */
static inline bool better(const cand *a, const cand *b) {
    return a->logit > b->logit || (a->logit == b->logit && a->id < b->id);
}

static int cand_cmp(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    return better(a, b) ? -1 : better(b, a) ? 1 : 0;
}

static inline void cand_swap(cand *a, cand *b) {
    cand t = *a;
    *a = *b;
    *b = t;
}

/* Partition a[lo..hi] around a median-of-three pivot; returns its final index. */
static int32_t partition(cand *a, int32_t lo, int32_t hi) {
    int32_t mid = lo + (hi - lo) / 2;
    if (better(&a[mid], &a[lo])) cand_swap(&a[mid], &a[lo]);
    if (better(&a[hi], &a[lo])) cand_swap(&a[hi], &a[lo]);
    if (better(&a[hi], &a[mid])) cand_swap(&a[hi], &a[mid]);
    cand_swap(&a[mid], &a[hi]);            /* median as pivot, at hi */
    int32_t store = lo;
    for (int32_t i = lo; i < hi; i++)
        if (better(&a[i], &a[hi])) cand_swap(&a[i], &a[store++]);
    cand_swap(&a[store], &a[hi]);
    return store;
}

/* Reorder a[0..n) so a[0..k) holds the k best candidates (in no order) and
 * every one of them ranks before every one of a[k..n). 0 < k < n. */
static void select_top(cand *a, int32_t n, int32_t k) {
    int32_t lo = 0, hi = n - 1, depth = 0;
    while (lo < hi) {
        if (++depth > 64) {  /* adversarial input: finish with a sort */
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, cand_cmp);
            return;
        }
        int32_t p = partition(a, lo, hi);
        if (p == k - 1 || p == k) return;
        if (p < k) lo = p + 1;
        else hi = p - 1;
    }
}

/* ---- chain steps ----------------------------------------------------------------- */

/* Copy logits into cand (id order) with the penalties applied; NaN -> -inf,
 * +inf -> FLT_MAX so the softmax stays finite. */
static void load_penalized(dc_sampler *s, const float *logits) {
    for (int32_t i = 0; i < s->n_vocab; i++) {
        float l = logits[i];
        if (isnan(l)) l = -INFINITY;
        else if (l == INFINITY) l = FLT_MAX;
        s->cand[i] = (cand){l, 0.0f, i};
    }
    const dc_sampler_params *p = &s->p;
    if (s->hist_n == 0 ||
        (p->repeat_penalty == 1.0f && p->frequency_penalty == 0.0f && p->presence_penalty == 0.0f))
        return;
    if (++s->stamp == 0) {  /* wrapped: old stamps could collide */
        memset(s->mark, 0, (size_t)s->n_vocab * sizeof *s->mark);
        s->stamp = 1;
    }
    for (int32_t j = 0; j < s->hist_n; j++) {
        dc_token t = s->hist[j];
        if (s->mark[t] == s->stamp) continue;
        s->mark[t] = s->stamp;
        float l = s->cand[t].logit;
        l = l <= 0.0f ? l * p->repeat_penalty : l / p->repeat_penalty;
        l -= (float)s->count[t] * p->frequency_penalty + p->presence_penalty;
        s->cand[t].logit = l;
    }
}

/* Drop -inf candidates, keeping order; returns how many remain. */
static int32_t drop_impossible(cand *a, int32_t n) {
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (a[i].logit > -INFINITY) a[m++] = a[i];
    return m;
}

static float max_logit(const cand *a, int32_t n) {
    float m = a[0].logit;
    for (int32_t i = 1; i < n; i++) m = a[i].logit > m ? a[i].logit : m;
    return m;
}

/* Top-p over a[0..n): moves the nucleus (the smallest best-first prefix
 * whose mass reaches top_p) to a[0..k) in no particular order and returns k.
 * A quickselect weighted by probability: partition, and recurse into the
 * better side when its mass reaches what is still missing, else keep it all
 * and recurse into the worse side. O(n) expected, nothing sorted. */
static int32_t apply_top_p(cand *a, int32_t n, float top_p) {
    float m = max_logit(a, n);
    double z = 0.0;
    for (int32_t i = 0; i < n; i++) {
        a[i].w = (float)exp((double)a[i].logit - m);
        z += a[i].w;
    }
    double target = (double)top_p * z, acc = 0.0;  /* acc: mass of a[0..lo), < target */
    int32_t lo = 0, hi = n - 1, depth = 0;
    while (lo < hi) {
        if (++depth > 64) {  /* adversarial input: finish with a sort and a walk */
            qsort(a + lo, (size_t)(hi - lo + 1), sizeof *a, cand_cmp);
            for (int32_t i = lo; i <= hi; i++)
                if ((acc += a[i].w) >= target) return i + 1;
            return n;
        }
        int32_t p = partition(a, lo, hi);
        double left = 0.0;
        for (int32_t i = lo; i < p; i++) left += a[i].w;
        if (acc + left >= target) {
            hi = p - 1;
        } else if (acc + left + a[p].w >= target) {
            return p + 1;
        } else {
            acc += left + a[p].w;
            lo = p + 1;
        }
    }
    return lo + 1 < n ? lo + 1 : n;  /* a[lo] completes the mass (or rounding ran out) */
}

/* Min-p: keep logits >= max + log(min_p), in order; returns the new count. */
static int32_t apply_min_p(cand *a, int32_t n, float min_p) {
    float thr = max_logit(a, n) + logf(min_p);
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (a[i].logit >= thr) a[m++] = a[i];
    return m;
}

/* Softmax of a[0..n) / temp and a draw from it. */
static dc_token draw(dc_sampler *s, int32_t n) {
    const cand *a = s->cand;
    float m = max_logit(a, n);
    double inv_t = 1.0 / s->p.temp, z = 0.0;
    for (int32_t i = 0; i < n; i++) {
        s->weight[i] = (float)exp(((double)a[i].logit - m) * inv_t);
        z += s->weight[i];
    }
    double u = xoshiro_double(s->rng) * z, cum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        cum += s->weight[i];
        if (u < cum) return a[i].id;
    }
    return a[n - 1].id;  /* u within rounding of z */
}

dc_token dc_sampler_sample(dc_sampler *s, const float *logits) {
    if (!s || !logits) {
        dc_error(DC_ERR_INVALID_ARG, "dc_sampler_sample: NULL %s", s ? "logits" : "sampler");
        return -1;
    }
    const dc_sampler_params *p = &s->p;
    load_penalized(s, logits);
    int32_t n = drop_impossible(s->cand, s->n_vocab);
    if (n == 0) {
        dc_error(DC_ERR_INVALID_ARG, "dc_sampler_sample: every logit is NaN or -inf");
        return -1;
    }
    if (p->temp <= 0.0f) {  /* greedy: first best by the total order */
        int32_t best = 0;
        for (int32_t i = 1; i < n; i++)
            if (better(&s->cand[i], &s->cand[best])) best = i;
        return s->cand[best].id;
    }
    if (p->top_k > 0 && p->top_k < n) {
        select_top(s->cand, n, p->top_k);
        n = p->top_k;
    }
    if (p->top_p < 1.0f) n = apply_top_p(s->cand, n, p->top_p);
    if (p->min_p > 0.0f) n = apply_min_p(s->cand, n, p->min_p);
    return draw(s, n);
}
