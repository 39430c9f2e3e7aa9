/*
 * deepc/sampler.h - turning a logit vector into the next token.
 *
 * One sampler is a fixed chain, applied in this order to the logits of one
 * position (llama.cpp's default order):
 *
 *   1. penalties   over the last penalty_last_n accepted tokens: a token seen
 *                  c > 0 times gets logit / repeat_penalty (logit * it when the
 *                  logit is <= 0), then - c * frequency_penalty - presence_penalty
 *   2. top-k       keep the k largest logits
 *   3. top-p       keep the smallest set of most likely tokens whose
 *                  probability (softmax at temperature 1) reaches top_p
 *   4. min-p       keep tokens with probability >= min_p * the largest one
 *   5. temperature divide the kept logits by temp
 *   6. draw        temp <= 0: the arg max after penalties (greedy; the filters
 *                  never remove it); otherwise a draw from the softmax of the
 *                  kept logits with the sampler's own seeded PRNG
 *
 * The same seed, parameters, logits and accepted tokens give the same tokens
 * on every run and machine (the PRNG is xoshiro256** seeded by splitmix64;
 * no libc rand()). Cost per call: O(n_vocab) expected (top-k and top-p are
 * partial selections, nothing sorts the vocabulary); nothing is allocated
 * after init.
 *
 *     dc_sampler_params sp = dc_sampler_default_params();
 *     sp.seed = 1234;
 *     dc_sampler *smp;
 *     dc_sampler_init(&sp, n_vocab, &smp);
 *     dc_token t = dc_sampler_sample(smp, logits);   then feed t to the model
 *     dc_sampler_accept(smp, t);
 *     dc_sampler_free(smp);
 */
#ifndef DEEPC_SAMPLER_H
#define DEEPC_SAMPLER_H

#include "deepc/base.h"
#include "deepc/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dc_sampler dc_sampler;

typedef struct dc_sampler_params {
    float    temp;              /* <= 0: greedy                        (0.8)  */
    int32_t  top_k;             /* <= 0 or >= n_vocab: off             (40)   */
    float    top_p;             /* >= 1: off; (0, 1)                   (0.95) */
    float    min_p;             /* <= 0: off; [0, 1]                   (0.05) */
    float    repeat_penalty;    /* 1: off; > 0                         (1.0)  */
    float    frequency_penalty; /* 0: off                              (0.0)  */
    float    presence_penalty;  /* 0: off                              (0.0)  */
    int32_t  penalty_last_n;    /* accepted tokens the penalties see; 0: off (64) */
    uint64_t seed;              /* PRNG seed                           (0)    */
} dc_sampler_params;

/* The values in parentheses above (llama.cpp's defaults, with seed 0). */
dc_sampler_params dc_sampler_default_params(void);

/* Create a sampler for logit vectors of n_vocab floats. Checks the params
 * (finite, top_p > 0, min_p in [0, 1], repeat_penalty > 0, penalty_last_n
 * >= 0) and allocates all scratch space now. *out is NULL on failure
 * (DC_ERR_INVALID_ARG, DC_ERR_NOMEM). */
dc_status dc_sampler_init(const dc_sampler_params *params, int32_t n_vocab, dc_sampler **out);

/* Free the sampler; NULL does nothing. */
void dc_sampler_free(dc_sampler *s);

/* The next token for logits[n_vocab] (read only; NaN counts as -inf).
 * Returns a token in [0, n_vocab), or -1 with dc_last_error() set when s or
 * logits is NULL or no logit is a number above -inf. Does not record the
 * token: call dc_sampler_accept with the token actually used. Not
 * thread-safe per sampler; samplers are independent. */
dc_token dc_sampler_sample(dc_sampler *s, const float *logits);

/* Record a token in the penalty history (prompt tokens may be accepted too,
 * so penalties see them). DC_ERR_INVALID_ARG when token is outside the vocab. */
dc_status dc_sampler_accept(dc_sampler *s, dc_token token);

/* Forget the history and restart the PRNG from the seed: after a reset the
 * sampler repeats the tokens it drew after init. */
void dc_sampler_reset(dc_sampler *s);

/* The parameters the sampler was created with. */
dc_sampler_params dc_sampler_get_params(const dc_sampler *s);

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_SAMPLER_H */
