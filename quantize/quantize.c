/*
 * quantize.c - deepc-quantize: requantize a GGUF, convert a Hugging Face
 * checkpoint, verify checksums.
 *
 *   deepc-quantize IN.gguf OUT.gguf TYPE [options]
 *   deepc-quantize --from-hf DIR OUT.gguf [TYPE] [options]
 *   deepc-quantize --verify FILE.gguf
 *
 * TYPE: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K F8_E4M3_B128 (and Q4_1 Q5_0
 * Q5_1 Q2_K Q3_K), or the mixes Q4_K_M (llama.cpp's) and MOE_Q4 (routed
 * experts Q4_K, the rest Q8_0, output Q6_K; qplan.h). Without TYPE,
 * --from-hf keeps each weight's checkpoint precision (FP8 becomes
 * F8_E4M3_B128 bit for bit). Options:
 *   --type PATTERN=TYPE   per-tensor override, glob on GGUF names; repeatable,
 *                         the last match wins
 *   --moe-attn fp8|q8_0   MOE_Q4: attention etc. in F8_E4M3_B128 or Q8_0
 *   -t, --threads N       threads (default: all CPUs; the output does not
 *                         depend on it)
 *   --skip-mtp            --from-hf: leave out the MTP (nextn) layers
 *   -q, --quiet           no notes or summary
 * The work is in requant.c and hf_convert.c; this file is the command line.
 */
#include "quantize.h"

#include "qutil.h"

#include <deepc/gguf.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: deepc-quantize IN.gguf OUT.gguf TYPE [options]\n"
            "       deepc-quantize --from-hf DIR OUT.gguf [TYPE] [options]\n"
            "       deepc-quantize --verify FILE.gguf\n"
            "TYPE: F32 F16 BF16 Q8_0 Q4_0 Q4_K Q5_K Q6_K F8_E4M3_B128 (also Q4_1 Q5_0 Q5_1\n"
            "      Q2_K Q3_K), Q4_K_M (llama.cpp's mix) or MOE_Q4 (experts Q4_K, rest Q8_0,\n"
            "      output Q6_K). --from-hf without TYPE keeps the checkpoint's precision.\n"
            "options:\n"
            "  --type PATTERN=TYPE   override for tensors matching the glob (last match wins)\n"
            "  --moe-attn fp8|q8_0   MOE_Q4: attention and shared experts in F8_E4M3_B128 / Q8_0\n"
            "  -t, --threads N       threads (default: all CPUs)\n"
            "  --skip-mtp            --from-hf: leave out the MTP layers\n"
            "  -q, --quiet           no notes or summary\n");
}

static int fail(const char *msg) {
    fprintf(stderr, "deepc-quantize: %s\n", msg);
    return 1;
}

static int verify(const char *path) {
    dc_gguf *g = NULL;
    dc_status st = dc_gguf_open(path, &g);
    if (st == DC_OK) st = dc_gguf_verify(g);
    if (st != DC_OK)
        fprintf(stderr, "deepc-quantize: %s: %s: %s\n", path, dc_status_str(st), dc_last_error());
    else
        printf("%s: %lld tensors, checksums match\n", path, (long long)dc_gguf_n_tensors(g));
    dc_gguf_close(g);
    return st == DC_OK ? 0 : 1;
}

typedef struct cli {
    dc_q_params p;
    const char *pos[3];     /* positional arguments */
    int         n_pos;
    const char *hf_dir;
    bool        moe_fp8;
} cli;

/* Parse argv into c; -1 on a bad argument (message printed). */
static int parse(int argc, char **argv, cli *c) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--type") || !strcmp(a, "--moe-attn") || !strcmp(a, "-t") ||
            !strcmp(a, "--threads") || !strcmp(a, "--from-hf")) {
            if (!v) return fail("an option lacks its value (--help)"), -1;
            i++;
            if (!strcmp(a, "--type")) {
                if (dc_q_plan_add_override(&c->p.plan, v) != DC_OK)
                    return fail(dc_q_last_error()), -1;
            } else if (!strcmp(a, "--moe-attn")) {
                if (strcmp(v, "fp8") && strcmp(v, "q8_0"))
                    return fail("--moe-attn takes fp8 or q8_0"), -1;
                c->moe_fp8 = !strcmp(v, "fp8");
            } else if (!strcmp(a, "--from-hf")) {
                c->hf_dir = v;
            } else {
                char *end;
                errno = 0;
                long n = strtol(v, &end, 10);
                if (*end || end == v || errno || n < 1 || n > 4096)
                    return fail("bad thread count"), -1;
                c->p.n_threads = (int)n;
            }
        } else if (!strcmp(a, "--skip-mtp")) {
            c->p.skip_mtp = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            c->p.log = NULL;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "deepc-quantize: unknown option '%s' (--help)\n", a);
            return -1;
        } else if (c->n_pos < 3) {
            c->pos[c->n_pos++] = a;
        } else {
            return fail("too many arguments (--help)"), -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--verify")) {
            if (argc != 3 || i != 1) return fail("usage: deepc-quantize --verify FILE.gguf");
            return verify(argv[2]);
        }
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cli c = { .p = { .n_threads = ncpu > 0 ? (int)ncpu : 1, .log = stderr, .progress = true } };
    if (parse(argc, argv, &c) < 0) {
        dc_q_plan_free(&c.p.plan);
        return 2;
    }
    const char *type = NULL, *in = NULL, *out = NULL;
    int rc = 2;
    if (c.hf_dir && (c.n_pos == 1 || c.n_pos == 2)) {
        out = c.pos[0];
        type = c.n_pos == 2 ? c.pos[1] : NULL;
    } else if (!c.hf_dir && c.n_pos == 3) {
        in = c.pos[0];
        out = c.pos[1];
        type = c.pos[2];
    } else {
        usage(stderr);
        goto done;
    }
    if (type && dc_q_plan_set_target(&c.p.plan, type) != DC_OK) {
        fail(dc_q_last_error());
        goto done;
    }
    c.p.plan.moe_attn_fp8 = c.moe_fp8;
    dc_status st = c.hf_dir ? dc_q_convert_hf(c.hf_dir, out, &c.p)
                            : dc_q_requantize(in, out, &c.p);
    rc = st == DC_OK ? 0 : fail(dc_q_last_error());
done:
    dc_q_plan_free(&c.p.plan);
    return rc;
}
