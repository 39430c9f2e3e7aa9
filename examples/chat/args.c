/*
 * args.c - deepc-chat's command line.
 *
 * A table of options, each with its value kind and where it goes, so the
 * usage text and the parser cannot disagree. Numbers are checked whole
 * (strtol / strtof with the end pointer) and by range; a bad value is a
 * usage error (exit 2) naming the option, never a silent default.
 */
#include "chat.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum kind { K_STR, K_I32, K_F32, K_U64, K_FLAG, K_REASONING } kind;

static const struct opt {
    const char *s, *l;      /* short and long name (either may be NULL)   */
    kind        k;
    size_t      off;
    int64_t     lo, hi;     /* range of K_I32                              */
    const char *arg, *help;
} opts[] = {
#define O(s, l, k, f, lo, hi, a, h) { s, l, k, offsetof(chat_opts, f), lo, hi, a, h }
    O("-m", "--model",       K_STR,  model,      0, 0, "FILE", "GGUF model (default: the demo model, see below)"),
    O("-p", "--prompt",      K_STR,  prompt,     0, 0, "TEXT", "answer TEXT once and exit"),
    O(NULL, "--system",      K_STR,  system,     0, 0, "TEXT", "system prompt"),
    O("-c", "--ctx",         K_I32,  n_ctx,      0, 1 << 24, "N", "context positions (default: min(training context, 4096))"),
    O("-t", "--threads",     K_I32,  n_threads,  0, 1024, "N", "CPU threads (default: physical cores)"),
    O("-n", "--max-tokens",  K_I32,  n_predict, -1, 1 << 24, "N", "most tokens per reply (default -1: until the model stops)"),
    O(NULL, "--temp",        K_F32,  temp,       0, 0, "F", "temperature, 0 = greedy (0.8)"),
    O(NULL, "--top-p",       K_F32,  top_p,      0, 0, "F", "nucleus sampling (0.95)"),
    O(NULL, "--top-k",       K_I32,  top_k,      0, 1 << 24, "N", "keep the k most likely tokens, 0 = off (40)"),
    O(NULL, "--min-p",       K_F32,  min_p,      0, 0, "F", "min-p filter (0.05)"),
    O(NULL, "--seed",        K_U64,  seed,       0, 0, "N", "sampling seed (default: from the clock)"),
    O(NULL, "--chat-format", K_STR,  format,     0, 0, "NAME", "chat format instead of the model's (deepseek3, deepseek-r1, ...)"),
    O(NULL, "--reasoning",   K_REASONING, thinking, 0, 0, "on|off|auto", "ask the model to reason (formats that can switch)"),
    O(NULL, "--hide-thinking", K_FLAG, show_think, 0, 0, NULL, "start with reasoning hidden (/think shows it)"),
    O(NULL, "--ignore-eos",  K_FLAG, ignore_eos, 0, 0, NULL, "never stop at an end-of-turn token"),
    O(NULL, "--gpu",         K_FLAG, gpu,        0, 0, NULL, "offload to the GPU (this build: CPU only)"),
    O(NULL, "--no-color",    K_FLAG, no_color,   0, 0, NULL, "no colours even on a terminal (also: NO_COLOR)"),
    O("-v", "--verbose",     K_FLAG, verbose,    0, 0, NULL, "library messages (load, session sizes)"),
#undef O
};
#define N_OPTS (sizeof opts / sizeof opts[0])

static void usage(FILE *f) {
    fputs("usage: deepc-chat [-m MODEL.gguf] [options]\n\n", f);
    for (size_t i = 0; i < N_OPTS; i++) {
        char names[48];
        snprintf(names, sizeof names, "%s%s%s %s", opts[i].s ? opts[i].s : "", opts[i].s ? ", " : "    ",
                 opts[i].l, opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-28s %s\n", names, opts[i].help);
    }
    fputs("  -h, --help                   this text\n"
          "      --version                the deepc version\n\n"
          "Without -m, deepc-chat runs the demo model (random weights, a real DeepSeek-V3\n"
          "tokenizer: its replies are noise) from $DEEPC_DEMO_MODEL or\n"
          "$XDG_CACHE_HOME/deepc/demo.gguf (~/.cache/deepc/demo.gguf); ./scripts/demo makes it.\n"
          "In the chat, /help lists the commands.\n", f);
}

static int bad(const char *name, const char *v) {
    fprintf(stderr, "deepc-chat: bad value for %s: '%s' (--help lists the options)\n", name,
            v ? v : "(missing)");
    return 2;
}

static int set(chat_opts *o, const struct opt *d, const char *name, const char *v) {
    void *p = (char *)o + d->off;
    char *end = NULL;
    errno = 0;
    switch (d->k) {
    case K_FLAG:
        /* --hide-thinking clears show_think; every other flag sets its bool */
        *(bool *)p = strcmp(d->l, "--hide-thinking") != 0;
        return 0;
    case K_STR:
        if (!v) return bad(name, v);
        *(const char **)p = v;
        return 0;
    case K_I32: {
        long x = v ? strtol(v, &end, 10) : 0;
        if (!v || *end || end == v || errno || x < d->lo || x > d->hi) return bad(name, v);
        *(int32_t *)p = (int32_t)x;
        return 0;
    }
    case K_F32: {
        float x = v ? strtof(v, &end) : 0;
        if (!v || *end || end == v || !isfinite(x) || x < 0) return bad(name, v);
        *(float *)p = x;
        return 0;
    }
    case K_U64: {
        unsigned long long x = v ? strtoull(v, &end, 0) : 0;
        if (!v || *end || end == v || errno || v[0] == '-') return bad(name, v);
        *(uint64_t *)p = (uint64_t)x;
        return 0;
    }
    case K_REASONING:
        if (v && !strcmp(v, "on")) *(dc_chat_thinking *)p = DC_CHAT_THINKING_ON;
        else if (v && !strcmp(v, "off")) *(dc_chat_thinking *)p = DC_CHAT_THINKING_OFF;
        else if (v && !strcmp(v, "auto")) *(dc_chat_thinking *)p = DC_CHAT_THINKING_DEFAULT;
        else return bad(name, v);
        return 0;
    }
    return bad(name, v);
}

static void defaults(chat_opts *o) {
    memset(o, 0, sizeof *o);
    dc_sampler_params sp = dc_sampler_default_params();
    o->temp = sp.temp;
    o->top_p = sp.top_p;
    o->top_k = sp.top_k;
    o->min_p = sp.min_p;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    o->seed = (uint64_t)ts.tv_sec * 1000000007ull ^ (uint64_t)ts.tv_nsec;
    o->n_predict = -1;
    o->thinking = DC_CHAT_THINKING_DEFAULT;
    o->show_think = true;
}

int chat_parse_args(int argc, char **argv, chat_opts *o) {
    defaults(o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "--version")) {
            printf("deepc-chat %s\n%s\n", dc_version(), dc_system_info());
            return 1;
        }
        const struct opt *d = NULL;
        for (size_t j = 0; j < N_OPTS && !d; j++)
            if ((opts[j].s && !strcmp(a, opts[j].s)) || !strcmp(a, opts[j].l)) d = &opts[j];
        if (!d) {
            fprintf(stderr, "deepc-chat: unknown option '%s' (--help lists them)\n", a);
            return 2;
        }
        const char *v = d->k == K_FLAG ? NULL : i + 1 < argc ? argv[i + 1] : NULL;
        if (set(o, d, a, v) != 0) return 2;
        if (d->k != K_FLAG) i++;
    }
    if (o->top_p <= 0 || o->min_p > 1) return bad(o->top_p <= 0 ? "--top-p" : "--min-p", "out of range");
    if (o->format && dc_chat_format_from_name(o->format) == DC_CHAT_FORMAT_UNKNOWN)
        return bad("--chat-format", o->format);
    return 0;
}
