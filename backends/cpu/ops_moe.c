/*
 * ops_moe.c - MoE expert selection on the CPU.
 *
 * Per token: biased scores s' = s + b; with groups, each group's score is
 * the sum of its two best s' (DeepSeek-V3 noaux_tc) or its best s'
 * (DeepSeek-V2 group_limited_greedy); the n_group_used best groups survive
 * and every other expert is masked to -inf; then the k best experts are
 * picked by repeated arg-max (k <= 8 and n_expert <= 256 in practice, so
 * O(k n) beats a sort), ties to the lower index. Tokens are split across
 * threads; each thread uses its own slice of the scratch.
 */
#include "cpu_impl.h"

#include <math.h>

size_t dc_cpu_moe_select_work_size(const dc_tensor *dst, int n_threads) {
    int64_t n_expert = dst->src[0]->ne[0];
    int n_group = dst->params.moe_select.n_group;
    return (size_t)n_threads * ((size_t)n_expert + (size_t)n_group + 16) * sizeof(float);
}

/* index of the largest of x[0..n) (first on ties); -1 if all are -inf/NaN */
static int64_t argmax(const float *x, int64_t n) {
    int64_t best = -1;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > -INFINITY && (best < 0 || x[i] > x[best])) best = i;
    return best;
}

static float group_score(const float *s, int64_t n, dc_moe_group_rule rule) {
    float a = -INFINITY, b = -INFINITY;       /* best, second best */
    for (int64_t i = 0; i < n; i++) {
        if (s[i] > a) {
            b = a;
            a = s[i];
        } else if (s[i] > b) {
            b = s[i];
        }
    }
    return rule == DC_MOE_GROUP_MAX ? a : a + b;
}

void dc_cpu_op_moe_select(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *sc = dst->src[0], *bias = dst->src[1];
    const int64_t n_expert = sc->ne[0], n_tok = sc->ne[1];
    const int k = dst->params.moe_select.k, n_group = dst->params.moe_select.n_group;
    const int n_used = dst->params.moe_select.n_group_used;
    const int64_t per_group = n_expert / n_group;
    float *sel = (float *)p->wdata + (size_t)p->ith * (size_t)(n_expert + n_group + 16);
    float *gs = sel + n_expert;
    int64_t t0, t1;
    dc_cpu_split(p, n_tok, &t0, &t1);
    for (int64_t t = t0; t < t1; t++) {
        const char *row = (const char *)sc->data + t * sc->nb[1];
        for (int64_t e = 0; e < n_expert; e++) {
            sel[e] = *(const float *)(row + e * sc->nb[0]);
            if (bias) sel[e] += *(const float *)((const char *)bias->data + e * bias->nb[0]);
        }
        if (n_group > 1) {
            for (int g = 0; g < n_group; g++)
                gs[g] = group_score(sel + g * per_group, per_group, dst->params.moe_select.rule);
            /* drop the n_group - n_used weakest groups (ties: keep the lower index) */
            for (int drop = 0; drop < n_group - n_used; drop++) {
                int worst = -1;
                for (int g = 0; g < n_group; g++)
                    if (gs[g] != INFINITY && (worst < 0 || gs[g] <= gs[worst])) worst = g;
                gs[worst] = INFINITY;   /* marks "dropped" */
                for (int64_t e = 0; e < per_group; e++) sel[worst * per_group + e] = -INFINITY;
            }
        }
        int32_t *out = (int32_t *)((char *)dst->data + t * dst->nb[1]);
        for (int j = 0; j < k; j++) {
            int64_t e = argmax(sel, n_expert);
            if (e < 0) {
                dc_cpu_fail(p, DC_ERR_INVALID_ARG, "moe_select: token %lld has no finite score left "
                            "for slot %d (NaN router output?)", (long long)t, j);
                return;
            }
            out[j] = (int32_t)e;
            sel[e] = -INFINITY;
        }
    }
}
