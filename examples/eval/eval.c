/*
 * deepc-eval - run token ids through a model and write the logits.
 *
 *   deepc-eval -m MODEL.gguf --tokens 1,2,3 [--all-logits] [--batch N]
 *              [--threads T] [--ctx N] [--kv f16|bf16|q8_0|f32]
 *              [--mla auto|absorbed|naive] [--out FILE] [--info]
 *
 * Writes float32 logits, row-major [n_tokens or 1] x n_vocab, little-endian,
 * no header. --batch N feeds the tokens in chunks of N (1 = token by token).
 * --info prints the model, its KV-cache bytes per token (and what a per-head
 * MHA cache would take) and the session's memory estimate.
 */
#include <deepc.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void) {
    fprintf(stderr,
            "usage: deepc-eval -m MODEL.gguf --tokens 1,2,3 [--all-logits] [--batch N]\n"
            "                  [--threads T] [--ctx N] [--kv f16|bf16|q8_0|f32]\n"
            "                  [--mla auto|absorbed|naive] [--out FILE] [--info]\n");
}

static int fail(const char *what) {
    fprintf(stderr, "deepc-eval: %s: %s\n", what, dc_last_error());
    return 1;
}

/* Parse "1,2,3" into a new array; NULL on a bad list. */
static dc_token *parse_tokens(const char *s, int32_t *n) {
    size_t cap = 16, k = 0;
    dc_token *t = malloc(cap * sizeof *t);
    while (t && *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0 || v > 0x7fffffff || (*end && *end != ',')) {
            free(t);
            return NULL;
        }
        if (k == cap) {
            dc_token *u = realloc(t, (cap *= 2) * sizeof *t);
            if (!u) {
                free(t);
                return NULL;
            }
            t = u;
        }
        t[k++] = (dc_token)v;
        s = *end ? end + 1 : end;
    }
    *n = (int32_t)k;
    return t;
}

static void print_info(const dc_model *m, const dc_session *s, dc_type kv) {
    dc_memory_estimate me;
    dc_session_memory(s, &me);
    size_t per = dc_model_kv_bytes_per_token(m, kv), mha = dc_model_kv_bytes_per_token_mha(m, kv);
    printf("model: %s\n", dc_model_desc(m));
    printf("kv cache: %zu bytes per token (%s, all %d layers); a per-head MHA cache would take "
           "%zu (%.2f%%)\n", per, dc_type_name(kv), dc_model_n_layer(m), mha,
           mha ? 100.0 * (double)per / (double)mha : 0.0);
    printf("memory: weights %.1f MiB, kv cache %.1f MiB at n_ctx %d, compute %.1f MiB\n",
           me.weights / 1048576.0, me.kv_cache / 1048576.0, dc_session_n_ctx(s),
           me.compute / 1048576.0);
}

int main(int argc, char **argv) {
    const char *model = NULL, *tokens_arg = NULL, *out = NULL;
    bool all = false, info = false;
    dc_session_params sp = dc_session_default_params();
    int batch = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--all-logits")) all = true;
        else if (!strcmp(a, "--info")) info = true;
        else if (!v) { usage(); return 2; }
        else if (!strcmp(a, "-m") || !strcmp(a, "--model")) model = argv[++i];
        else if (!strcmp(a, "--tokens")) tokens_arg = argv[++i];
        else if (!strcmp(a, "--out")) out = argv[++i];
        else if (!strcmp(a, "--batch")) batch = atoi(argv[++i]);
        else if (!strcmp(a, "--threads") || !strcmp(a, "-t")) sp.n_threads = sp.n_threads_batch = atoi(argv[++i]);
        else if (!strcmp(a, "--ctx") || !strcmp(a, "-c")) sp.n_ctx = atoi(argv[++i]);
        else if (!strcmp(a, "--kv")) {
            if (dc_type_from_name(argv[++i], &sp.kv_type) != DC_OK) return fail("--kv");
        } else if (!strcmp(a, "--mla")) {
            const char *m = argv[++i];
            sp.mla = !strcmp(m, "naive") ? DC_MLA_NAIVE : !strcmp(m, "absorbed") ? DC_MLA_ABSORBED : DC_MLA_AUTO;
        } else { usage(); return 2; }
    }
    if (!model || (!tokens_arg && !info)) { usage(); return 2; }
    int32_t n = 0;
    dc_token *toks = NULL;
    if (tokens_arg && !(toks = parse_tokens(tokens_arg, &n))) {
        fprintf(stderr, "deepc-eval: --tokens: not a comma-separated list of ids\n");
        return 2;
    }
    if (batch > 0) sp.n_batch = batch;
    dc_model *m = NULL;
    if (dc_model_load(model, NULL, &m) != DC_OK) return fail("loading the model");
    if (sp.n_ctx == 0 && n > 0) sp.n_ctx = n > 4096 ? n : 4096 < dc_model_n_ctx_train(m) ? 4096 : n;
    dc_session *s = NULL;
    if (dc_session_init(m, &sp, &s) != DC_OK) return fail("creating the session");
    if (info) print_info(m, s, sp.kv_type);
    int rc = 0;
    if (n > 0) {
        if (dc_session_decode_tokens(s, toks, n, all) != DC_OK) {
            rc = fail("decode");
        } else if (out) {
            FILE *f = fopen(out, "wb");
            int32_t rows = dc_session_n_outputs(s), nv = dc_model_n_vocab(m);
            for (int32_t r = 0; f && r < rows; r++)
                if (fwrite(dc_session_logits(s, r), sizeof(float), (size_t)nv, f) != (size_t)nv) break;
            if (!f || fclose(f) != 0) {
                fprintf(stderr, "deepc-eval: writing %s failed\n", out);
                rc = 1;
            }
        }
    }
    dc_session_free(s);
    dc_model_free(m);
    free(toks);
    return rc;
}
