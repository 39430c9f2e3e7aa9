/*
 * deepc-bench - prompt and generation speed, llama-bench style.
 *
 *   deepc-bench -m FILE [-p 64,512] [-n 32] [-t 2] [-r 5] [-d 0,4096]
 *               [--kv f16|bf16|q8_0|f32] [-o md|json] [--membw]
 *
 * pp<N>: one batch of N prompt tokens after a cache of depth d (logits of the
 * last only); tg<N>: N tokens decoded one at a time after depth d. Each test
 * runs once untimed (warm-up) and then r times; the table gives mean ±
 * standard deviation of tokens/s. Token ids are random (seeded); tokenization
 * and sampling are not part of the time. --membw measures this machine's read
 * bandwidth with the same threads and prints the decode roofline: weight
 * bytes one token reads / bandwidth, and the fraction of it each tg test
 * reached. The KV-cache bytes at each depth are printed too.
 */
#include <deepc.h>

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct opts {
    const char *model;
    int         pp[16], n_pp, tg[16], n_tg, depth[16], n_depth;
    int         threads, reps;
    dc_type     kv;
    bool        json, membw;
} opts;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int parse_list(const char *s, int *out, int cap) {
    int n = 0;
    while (*s && n < cap) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0) return -1;
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
    }
    return n;
}

static void usage(void) {
    fprintf(stderr, "usage: deepc-bench -m FILE [-p 64,512] [-n 32] [-t THREADS] [-r REPS] "
                    "[-d DEPTHS] [--kv f16|bf16|q8_0|f32] [-o md|json] [--membw]\n");
}

static bool parse(int argc, char **argv, opts *o) {
    *o = (opts){ .threads = dc_cpu_physical_cores(), .reps = 5, .kv = DC_TYPE_F16 };
    o->n_pp = parse_list("512", o->pp, 16);
    o->n_tg = parse_list("128", o->tg, 16);
    o->n_depth = parse_list("0", o->depth, 16);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--membw")) { o->membw = true; continue; }
        if (!v) return false;
        i++;
        if (!strcmp(a, "-m")) o->model = v;
        else if (!strcmp(a, "-p")) o->n_pp = parse_list(v, o->pp, 16);
        else if (!strcmp(a, "-n")) o->n_tg = parse_list(v, o->tg, 16);
        else if (!strcmp(a, "-d")) o->n_depth = parse_list(v, o->depth, 16);
        else if (!strcmp(a, "-t")) o->threads = atoi(v);
        else if (!strcmp(a, "-r")) o->reps = atoi(v);
        else if (!strcmp(a, "-o")) o->json = !strcmp(v, "json");
        else if (!strcmp(a, "--kv")) { if (dc_type_from_name(v, &o->kv) != DC_OK) return false; }
        else return false;
    }
    return o->model && o->n_pp >= 0 && o->n_tg >= 0 && o->n_depth > 0 && o->threads > 0 && o->reps > 0;
}

/* ---- memory bandwidth ----------------------------------------------------------- */

/* Best of 5 passes reading a 1 GiB array with `threads` threads, in bytes/s.
 * Integer sums can be vectorized freely, so the loop is a stream of vector
 * loads, which is what a decode step's weight reads are. */
static double measure_membw(int threads) {
    size_t n = (size_t)1 << 27;   /* 2^27 x 8 bytes = 1 GiB */
    uint64_t *buf = malloc(n * sizeof *buf);
    if (!buf) return 0;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) buf[i] = i & 7;
    double best = 0;
    uint64_t sink = 0;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        uint64_t sum = 0;
#pragma omp parallel for num_threads(threads) schedule(static) reduction(+ : sum)
        for (size_t i = 0; i < n; i++) sum += buf[i];
        double dt = now() - t0;
        sink += sum;
        double bps = (double)(n * sizeof *buf) / dt;
        if (bps > best) best = bps;
    }
    free(buf);
    if (sink == 1) fprintf(stderr, " ");   /* keep the sums alive */
    return best;
}

/* ---- one test ---------------------------------------------------------------------- */

typedef struct result {
    char   name[32];
    int    depth;
    double mean, sd;   /* tokens / s */
} result;

static void random_tokens(dc_token *t, int n, int n_vocab, unsigned *seed) {
    for (int i = 0; i < n; i++) {
        *seed = *seed * 1664525u + 1013904223u;
        t[i] = (dc_token)((*seed >> 8) % (unsigned)n_vocab);
    }
}

/* Time `reps` runs of pp (n_pp > 0) or tg (n_tg > 0) at depth; t/s per run. */
static bool run_test(dc_session *s, const dc_model *m, int depth, int n_pp, int n_tg, int reps,
                     double *tps) {
    int nv = dc_model_n_vocab(m);
    int n = n_pp > 0 ? n_pp : n_tg;
    dc_token *tok = malloc((size_t)(depth + n + 1) * sizeof *tok);
    unsigned seed = 1234;
    random_tokens(tok, depth + n, nv, &seed);
    bool ok = dc_session_truncate(s, 0) == DC_OK;
    if (ok && depth > 0) ok = dc_session_decode_tokens(s, tok, depth, false) == DC_OK;
    for (int r = -1; ok && r < reps; r++) {   /* r = -1: warm-up */
        ok = dc_session_truncate(s, depth) == DC_OK;
        double t0 = now();
        if (n_pp > 0) {
            ok = ok && dc_session_decode_tokens(s, tok + depth, n_pp, false) == DC_OK;
        } else {
            for (int i = 0; ok && i < n_tg; i++)
                ok = dc_session_decode_tokens(s, tok + depth + i, 1, false) == DC_OK;
        }
        double dt = now() - t0;
        if (r >= 0) tps[r] = n / dt;
    }
    free(tok);
    if (!ok) fprintf(stderr, "deepc-bench: %s\n", dc_last_error());
    return ok;
}

static void stats(const double *x, int n, double *mean, double *sd) {
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *mean = s / n;
    for (int i = 0; i < n; i++) q += (x[i] - *mean) * (x[i] - *mean);
    *sd = n > 1 ? sqrt(q / (n - 1)) : 0;
}

int main(int argc, char **argv) {
    opts o;
    if (!parse(argc, argv, &o)) {
        usage();
        return 2;
    }
    dc_model *m = NULL;
    if (dc_model_load(o.model, NULL, &m) != DC_OK) {
        fprintf(stderr, "deepc-bench: %s\n", dc_last_error());
        return 1;
    }
    int max_depth = 0, max_n = 1;
    for (int i = 0; i < o.n_depth; i++) max_depth = o.depth[i] > max_depth ? o.depth[i] : max_depth;
    for (int i = 0; i < o.n_pp; i++) max_n = o.pp[i] > max_n ? o.pp[i] : max_n;
    for (int i = 0; i < o.n_tg; i++) max_n = o.tg[i] > max_n ? o.tg[i] : max_n;
    dc_session_params sp = dc_session_default_params();
    sp.n_ctx = max_depth + max_n + 1;
    sp.n_batch = max_n < 512 ? max_n : 512;
    sp.n_threads = sp.n_threads_batch = o.threads;
    sp.kv_type = o.kv;
    dc_session *s = NULL;
    if (dc_session_init(m, &sp, &s) != DC_OK) {
        fprintf(stderr, "deepc-bench: %s\n", dc_last_error());
        dc_model_free(m);
        return 1;
    }
    double bw = o.membw ? measure_membw(o.threads) : 0;
    size_t active = dc_model_active_bytes(m);
    double roofline = bw > 0 ? bw / (double)active : 0;

    result res[64];
    int nres = 0;
    double *tps = malloc((size_t)o.reps * sizeof *tps);
    for (int d = 0; d < o.n_depth; d++) {
        for (int i = 0; i < o.n_pp + o.n_tg && nres < 64; i++) {
            bool pp = i < o.n_pp;
            int n = pp ? o.pp[i] : o.tg[i - o.n_pp];
            if (n == 0) continue;
            if (!run_test(s, m, o.depth[d], pp ? n : 0, pp ? 0 : n, o.reps, tps)) return 1;
            result *r = &res[nres++];
            snprintf(r->name, sizeof r->name, "%s%d", pp ? "pp" : "tg", n);
            r->depth = o.depth[d];
            stats(tps, o.reps, &r->mean, &r->sd);
        }
    }
    const char *name = strrchr(o.model, '/') ? strrchr(o.model, '/') + 1 : o.model;
    double gib = (double)dc_model_weight_bytes(m) / (1 << 30);
    if (o.json) {
        printf("{\n  \"model\": \"%s\", \"size_bytes\": %zu, \"active_bytes\": %zu, \"threads\": %d,"
               " \"kv_type\": \"%s\", \"system\": \"%s\",\n", name, dc_model_weight_bytes(m),
               active, o.threads, dc_type_name(o.kv), dc_system_info());
        if (bw > 0) printf("  \"membw_bytes_per_s\": %.0f, \"roofline_tps\": %.2f,\n", bw, roofline);
        printf("  \"results\": [\n");
        for (int i = 0; i < nres; i++)
            printf("    {\"test\": \"%s\", \"depth\": %d, \"tps_mean\": %.3f, \"tps_sd\": %.3f, "
                   "\"kv_bytes\": %zu}%s\n", res[i].name, res[i].depth, res[i].mean, res[i].sd,
                   dc_model_kv_bytes_per_token(m, o.kv) * (size_t)res[i].depth,
                   i + 1 < nres ? "," : "");
        printf("  ]\n}\n");
    } else {
        printf("%s\n\n", dc_system_info());
        printf("| model | size | threads | kv | test | depth | kv cache at depth | t/s |%s\n",
               bw > 0 ? " % of roofline |" : "");
        printf("|---|---:|---:|---|---|---:|---:|---:|%s\n", bw > 0 ? "---:|" : "");
        for (int i = 0; i < nres; i++) {
            printf("| %s | %.2f GiB | %d | %s | %s | %d | %.1f MiB | %.2f ± %.2f |", name, gib,
                   o.threads, dc_type_name(o.kv), res[i].name, res[i].depth,
                   (double)(dc_model_kv_bytes_per_token(m, o.kv) * (size_t)res[i].depth) / 1048576.0,
                   res[i].mean, res[i].sd);
            if (bw > 0)
                printf(res[i].name[0] == 't' ? " %.0f%% |" : " |", 100.0 * res[i].mean / roofline);
            printf("\n");
        }
        if (bw > 0)
            printf("\nread bandwidth %.1f GB/s (%d threads); one token reads %.1f MB of weights; "
                   "decode roofline %.1f t/s\n", bw / 1e9, o.threads, (double)active / 1e6, roofline);
    }
    free(tps);
    dc_session_free(s);
    dc_model_free(m);
    return 0;
}
