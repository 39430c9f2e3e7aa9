/*
 * make_model.c - deepc-make-model: write a random-weight model GGUF.
 *
 *   deepc-make-model [--arch deepseek2|llama|qwen2] [--preset NAME] [shape
 *                    options] [--type T | --mix q4_k_m] [--seed N] -o OUT.gguf
 *
 * (--help lists every option.) The files are complete models with the keys,
 * tensor names and shapes llama.cpp writes (spec/deepseek-arch.md §5,
 * fixtures/README.md), including the fixtures' toy gpt2 tokenizer, so every
 * deepc program and the numpy reference can run them. --tokenizer-hf DIR
 * puts a real tokenizer in instead (a Hugging Face folder, converted by
 * dc_hf_tokenizer_to_gguf; n_vocab becomes its size, or --vocab when that is
 * larger, padded with [PAD<id>] tokens as llama.cpp's converter pads V3 to
 * 129280), with the folder's chat template; --chat-template NAME writes a
 * built-in format name as tokenizer.chat_template (dc_chat_format_detect
 * accepts names), so chat programs know the format of a toy model too. Used to test shapes
 * the fixtures do not cover (real V2-Lite / V3 layer shapes, legacy MLA,
 * softmax routing with groups, ...) and, with --break, error paths.
 *
 * Reproducible: the same arguments give a byte-identical file, whatever the
 * thread count. Every row of every tensor has its own splitmix64 stream,
 * seeded from (--seed, tensor name, row), turned into N(0, 1) by Box-Muller
 * (polar form); weights are N(0, std), norms 1 + N(0, norm_std), biases
 * N(0, bias_std).
 *
 * Memory: rows are generated and quantized one at a time, straight into a
 * buffer of the tensor's final type, and the writer borrows those buffers
 * until it writes the file (dc_gguf_add_tensor), so peak memory is the size
 * of the output file plus one row of floats per thread; never a whole F32
 * copy of a quantized tensor.
 */
#include <deepc/chat.h>
#include <deepc/gguf.h>
#include <deepc/tokenizer.h>

#include "mix.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- configuration ------------------------------------------------------ */

typedef enum arch { ARCH_DEEPSEEK2, ARCH_LLAMA, ARCH_QWEN2 } arch;

static const char *const arch_names[] = { "deepseek2", "llama", "qwen2" };

typedef enum break_kind {
    BREAK_NONE, BREAK_MISSING_TENSOR, BREAK_WRONG_SHAPE, BREAK_UNKNOWN_ARCH,
    BREAK_EXPERTS_USED, BREAK_MISSING_KEY
} break_kind;

static const char *const break_names[] = {
    "none", "missing-tensor", "wrong-shape", "unknown-arch", "experts-used", "missing-key"
};

enum { GATING_SOFTMAX = 1, GATING_SIGMOID = 2 };   /* expert_gating_func values */

typedef struct config {
    arch        arch;
    const char *preset;
    const char *name;          /* general.name                                */
    const char *pre;           /* tokenizer.ggml.pre                          */
    int32_t     n_layer, n_dense, n_embd, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
    int32_t     q_lora, kv_lora, d_nope, d_rope, d_v;        /* deepseek2 MLA   */
    int32_t     n_expert, n_expert_used, n_shared, n_ff_exp; /* deepseek2 MoE   */
    int32_t     n_group, n_group_used, gating, norm_topk;
    float       route_scale;
    int32_t     legacy, tied, qkv_bias;
    float       eps, rope_base, rope_factor, yarn_log_mul;
    int32_t     rope_orig_ctx;
    dc_type     type;
    dc_mix      mix;
    float       std, qk_std, router_std, norm_std, bias_std;
    uint64_t    seed;
    break_kind  brk;
    int32_t     n_threads;
    const char *out;
    const char *tokenizer_hf;  /* Hugging Face tokenizer folder, or NULL     */
    const char *chat_template; /* built-in chat format name, or NULL         */
    int32_t     vocab_given;   /* --vocab was on the command line            */
} config;

/* Shapes of one preset; fields a preset leaves 0 keep the arch defaults. */
static void preset_tiny_v3(config *c) {
    c->arch = ARCH_DEEPSEEK2;
    c->n_layer = 3; c->n_dense = 1; c->n_embd = 256; c->n_ff = 512; c->n_head = 4;
    c->q_lora = 96; c->kv_lora = 64; c->d_nope = 32; c->d_rope = 16; c->d_v = 32;
    c->n_expert = 16; c->n_expert_used = 4; c->n_shared = 1; c->n_ff_exp = 256;
    c->n_group = 4; c->n_group_used = 2; c->gating = GATING_SIGMOID; c->norm_topk = 1;
    c->route_scale = 2.5f; c->rope_factor = 4.0f; c->rope_orig_ctx = 1024; c->yarn_log_mul = 0.1f;
    c->n_vocab = 512; c->n_ctx = 4096; c->pre = "deepseek-v3";
}

static void preset_tiny_v2lite(config *c) {
    preset_tiny_v3(c);
    c->q_lora = 0; c->n_expert = 8; c->n_expert_used = 2; c->n_shared = 2; c->n_ff_exp = 128;
    c->n_group = 1; c->n_group_used = 1; c->gating = GATING_SOFTMAX; c->norm_topk = 0;
    c->route_scale = 1.0f; c->yarn_log_mul = 0.0707f; c->pre = "deepseek-llm";
}

/* V2 in small: softmax routing, group-limited (max rule), scale 16. */
static void preset_tiny_v2(config *c) {
    preset_tiny_v2lite(c);
    c->q_lora = 96; c->n_expert = 16; c->n_expert_used = 4; c->n_group = 4; c->n_group_used = 2;
    c->route_scale = 16.0f;
}

static void preset_v2_lite(config *c) {
    preset_tiny_v2lite(c);
    c->n_layer = 27; c->n_dense = 1; c->n_embd = 2048; c->n_ff = 10944; c->n_head = 16;
    c->q_lora = 0; c->kv_lora = 512; c->d_nope = 128; c->d_rope = 64; c->d_v = 128;
    c->n_expert = 64; c->n_expert_used = 6; c->n_shared = 2; c->n_ff_exp = 1408;
    c->rope_factor = 40.0f; c->rope_orig_ctx = 4096; c->yarn_log_mul = 0.0707f;
    c->n_vocab = 102400; c->n_ctx = 163840;
}

static void preset_v3(config *c) {
    preset_tiny_v3(c);
    c->n_layer = 61; c->n_dense = 3; c->n_embd = 7168; c->n_ff = 18432; c->n_head = 128;
    c->q_lora = 1536; c->kv_lora = 512; c->d_nope = 128; c->d_rope = 64; c->d_v = 128;
    c->n_expert = 256; c->n_expert_used = 8; c->n_shared = 1; c->n_ff_exp = 2048;
    c->n_group = 8; c->n_group_used = 4; c->rope_factor = 40.0f; c->rope_orig_ctx = 4096;
    c->n_vocab = 129280; c->n_ctx = 163840;
}

/* Llama-3 / R1-Distill-Llama in small: rope_freqs from Llama-3 rope scaling
 * (factor 8, original context 256: a toy value so the band matters early). */
static void preset_tiny_llama(config *c) {
    c->arch = ARCH_LLAMA;
    c->n_layer = 2; c->n_embd = 256; c->n_ff = 640; c->n_head = 4; c->n_head_kv = 2;
    c->eps = 1e-5f; c->rope_base = 500000.0f; c->rope_factor = 8.0f; c->rope_orig_ctx = 256;
    c->n_vocab = 512; c->n_ctx = 2048; c->pre = "llama-bpe";
}

/* Qwen2 / R1-Distill-Qwen in small: q/k/v biases, NeoX rope, GQA 4:1. */
static void preset_tiny_qwen2(config *c) {
    c->arch = ARCH_QWEN2;
    c->n_layer = 3; c->n_embd = 256; c->n_ff = 512; c->n_head = 8; c->n_head_kv = 2;
    c->qkv_bias = 1; c->rope_base = 1000000.0f; c->rope_factor = 1.0f;
    c->n_vocab = 512; c->n_ctx = 32768; c->pre = "qwen2";
    c->qk_std = 0.06f; c->bias_std = 0.2f;
}

static const struct preset {
    const char *name;
    void (*fill)(config *c);
} presets[] = {
    { "tiny-v3",     preset_tiny_v3 },     { "tiny-v2lite", preset_tiny_v2lite },
    { "tiny-v2",     preset_tiny_v2 },     { "v2-lite",     preset_v2_lite },
    { "v3",          preset_v3 },          { "tiny-llama",  preset_tiny_llama },
    { "tiny-qwen2",  preset_tiny_qwen2 },
};

static const char *const default_preset[] = { "tiny-v3", "tiny-llama", "tiny-qwen2" };

static const struct preset *find_preset(const char *name) {
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(presets[i].name, name)) return &presets[i];
    return NULL;
}

static void config_init(config *c, const struct preset *p) {
    memset(c, 0, sizeof *c);
    c->eps = 1e-6f;
    c->rope_base = 10000.0f;
    c->std = 0.02f;
    c->norm_std = 0.05f;
    c->bias_std = 0.05f;
    c->type = DC_TYPE_F32;
    c->seed = 1234;
    c->n_group = c->n_group_used = 1;
    p->fill(c);
    c->preset = p->name;
    if (c->qk_std == 0) c->qk_std = -1;       /* -1: same as --std        */
    c->router_std = -1;                       /* -1: same as --std        */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->n_threads = n > 0 ? (int32_t)n : 1;
}

/* ---- command line ------------------------------------------------------- */

typedef enum opt_kind { O_I32, O_F32, O_U64, O_STR, O_FLAG } opt_kind;
enum { FOR_ALL = 0, FOR_DS = 1, FOR_DENSE = 2 };

static const struct option {
    const char *name;
    opt_kind    kind;
    size_t      off;
    int         for_arch;
    const char *help;
} options[] = {
#define OPT(n, k, f, a, h) { n, k, offsetof(config, f), a, h }
    OPT("--layers",       O_I32,  n_layer,       FOR_ALL,   "block count"),
    OPT("--hidden",       O_I32,  n_embd,        FOR_ALL,   "embedding length"),
    OPT("--heads",        O_I32,  n_head,        FOR_ALL,   "attention heads"),
    OPT("--ff",           O_I32,  n_ff,          FOR_ALL,   "dense FFN width"),
    OPT("--vocab",        O_I32,  n_vocab,       FOR_ALL,   "vocabulary size (>= 259)"),
    OPT("--ctx",          O_I32,  n_ctx,         FOR_ALL,   "context_length"),
    OPT("--eps",          O_F32,  eps,           FOR_ALL,   "RMSNorm epsilon"),
    OPT("--rope-base",    O_F32,  rope_base,     FOR_ALL,   "rope theta"),
    OPT("--rope-factor",  O_F32,  rope_factor,   FOR_ALL,   "YaRN factor (deepseek2), Llama-3 factor (llama); 1 = none"),
    OPT("--rope-orig-ctx", O_I32, rope_orig_ctx, FOR_ALL,   "original context of that scaling"),
    OPT("--kv-heads",     O_I32,  n_head_kv,     FOR_DENSE, "KV heads (GQA)"),
    OPT("--tied",         O_FLAG, tied,          FOR_DENSE, "no output.weight: token_embd is the output"),
    OPT("--qkv-bias",     O_I32,  qkv_bias,      FOR_DENSE, "0|1: q/k/v biases (default: qwen2 1, llama 0)"),
    OPT("--dense-layers", O_I32,  n_dense,       FOR_DS,    "leading dense layers"),
    OPT("--q-lora",       O_I32,  q_lora,        FOR_DS,    "q_lora_rank (0: plain attn_q)"),
    OPT("--kv-lora",      O_I32,  kv_lora,       FOR_DS,    "kv_lora_rank"),
    OPT("--nope",         O_I32,  d_nope,        FOR_DS,    "qk_nope_head_dim"),
    OPT("--rope",         O_I32,  d_rope,        FOR_DS,    "qk_rope_head_dim"),
    OPT("--vdim",         O_I32,  d_v,           FOR_DS,    "v_head_dim"),
    OPT("--experts",      O_I32,  n_expert,      FOR_DS,    "routed experts"),
    OPT("--experts-used", O_I32,  n_expert_used, FOR_DS,    "experts per token"),
    OPT("--shared",       O_I32,  n_shared,      FOR_DS,    "shared experts"),
    OPT("--expert-ff",    O_I32,  n_ff_exp,      FOR_DS,    "expert FFN width"),
    OPT("--groups",       O_I32,  n_group,       FOR_DS,    "expert groups"),
    OPT("--groups-used",  O_I32,  n_group_used,  FOR_DS,    "groups kept per token"),
    OPT("--norm-topk",    O_I32,  norm_topk,     FOR_DS,    "0|1: renormalise the top-k weights"),
    OPT("--route-scale",  O_F32,  route_scale,   FOR_DS,    "expert_weights_scale"),
    OPT("--yarn-log-mul", O_F32,  yarn_log_mul,  FOR_DS,    "rope.scaling.yarn_log_multiplier (0.1 * mscale_all_dim)"),
    OPT("--legacy",       O_FLAG, legacy,        FOR_DS,    "one attn_kv_b instead of attn_k_b + attn_v_b"),
    OPT("--std",          O_F32,  std,           FOR_ALL,   "weight std (0.02)"),
    OPT("--qk-std",       O_F32,  qk_std,        FOR_ALL,   "std of the q/k projections (default --std)"),
    OPT("--router-std",   O_F32,  router_std,    FOR_DS,    "std of ffn_gate_inp (default --std)"),
    OPT("--norm-std",     O_F32,  norm_std,      FOR_ALL,   "norm weights are 1 + N(0, this) (0.05)"),
    OPT("--bias-std",     O_F32,  bias_std,      FOR_ALL,   "std of biases and exp_probs_b"),
    OPT("--seed",         O_U64,  seed,          FOR_ALL,   "random seed (1234)"),
    OPT("--threads",      O_I32,  n_threads,     FOR_ALL,   "threads (default: all CPUs; the file does not depend on it)"),
    OPT("--name",         O_STR,  name,          FOR_ALL,   "general.name"),
    OPT("--pre",          O_STR,  pre,           FOR_ALL,   "tokenizer.ggml.pre"),
    OPT("--tokenizer-hf", O_STR,  tokenizer_hf,  FOR_ALL,   "Hugging Face tokenizer folder (tokenizer.json, tokenizer_config.json) instead of the toy one"),
    OPT("--chat-template", O_STR, chat_template, FOR_ALL,   "built-in chat format name written as tokenizer.chat_template (deepseek3, deepseek-r1, chatml, llama3, ...)"),
    OPT("-o",             O_STR,  out,           FOR_ALL,   "output file"),
#undef OPT
};

static void usage(FILE *f) {
    fprintf(f, "usage: deepc-make-model [options] -o OUT.gguf\n"
               "  --arch deepseek2|llama|qwen2      (default deepseek2)\n"
               "  --preset NAME                     shapes:");
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++) fprintf(f, " %s", presets[i].name);
    fprintf(f, "\n                                    (default: tiny-v3, tiny-llama, tiny-qwen2 by arch)\n"
               "  --type T                          type of every 2-D/3-D weight but the router\n"
               "                                    (F32 F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K..Q6_K F8_E4M3_B128)\n"
               "  --mix q4_k_m                      llama.cpp's Q4_K_M per-tensor types instead\n"
               "  --gating softmax|sigmoid          router (sigmoid adds exp_probs_b)\n"
               "  --break missing-tensor|wrong-shape|unknown-arch|experts-used|missing-key\n");
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        fprintf(f, "  %-15s %-17s %s%s\n", options[i].name,
                options[i].kind == O_FLAG ? "" : options[i].kind == O_STR ? "S" :
                options[i].kind == O_F32 ? "F" : "N", options[i].help,
                options[i].for_arch == FOR_DS ? " [deepseek2]" :
                options[i].for_arch == FOR_DENSE ? " [llama, qwen2]" : "");
}

static int bad_arg(const char *opt, const char *val) {
    fprintf(stderr, "deepc-make-model: bad value for %s: '%s' (--help lists the options)\n",
            opt, val ? val : "(missing)");
    return -1;
}

static int set_option(config *c, const struct option *o, const char *v) {
    char *end = NULL;
    void *p = (char *)c + o->off;
    if (o->kind == O_FLAG) { *(int32_t *)p = 1; return 0; }
    if (!v) return bad_arg(o->name, v);
    errno = 0;
    if (o->kind == O_I32) {
        long x = strtol(v, &end, 10);
        if (*end || end == v || errno || x < 0 || x > 0x7fffffffL) return bad_arg(o->name, v);
        *(int32_t *)p = (int32_t)x;
    } else if (o->kind == O_F32) {
        float x = strtof(v, &end);
        if (*end || end == v || !isfinite(x)) return bad_arg(o->name, v);
        *(float *)p = x;
    } else if (o->kind == O_U64) {
        unsigned long long x = strtoull(v, &end, 0);
        if (*end || end == v || errno) return bad_arg(o->name, v);
        *(uint64_t *)p = (uint64_t)x;
    } else {
        *(const char **)p = v;
    }
    return 1;
}

static int pick_name(const char *opt, const char *v, const char *const *names, int n) {
    for (int i = 0; v && i < n; i++)
        if (!strcmp(v, names[i])) return i;
    return bad_arg(opt, v);
}

/* First pass: --arch and --preset decide the defaults every other option
 * overrides. */
static int parse_base(int argc, char **argv, config *c) {
    int a = -1;
    const struct preset *p = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch")) {
            if ((a = pick_name("--arch", argv[i + 1], arch_names, 3)) < 0) return -1;
        } else if (!strcmp(argv[i], "--preset")) {
            if (!(p = argv[i + 1] ? find_preset(argv[i + 1]) : NULL)) return bad_arg("--preset", argv[i + 1]);
        }
    }
    if (!p) p = find_preset(default_preset[a < 0 ? 0 : a]);
    config_init(c, p);
    if (a >= 0 && (arch)a != c->arch) {
        fprintf(stderr, "deepc-make-model: --preset %s is a %s model, not %s\n", p->name,
                arch_names[c->arch], arch_names[a]);
        return -1;
    }
    return 0;
}

static int parse_special(config *c, const char *a, const char *v) {
    if (!strcmp(a, "--arch") || !strcmp(a, "--preset")) return v ? 1 : bad_arg(a, v);
    if (!strcmp(a, "--type")) {
        if (!v || dc_type_from_name(v, &c->type) != DC_OK || c->type == DC_TYPE_Q8_K ||
            c->type == DC_TYPE_Q8_1 || (c->type >= DC_TYPE_I8 && c->type <= DC_TYPE_F64))
            return bad_arg(a, v);
        return 1;
    }
    if (!strcmp(a, "--mix")) return v && dc_mix_from_name(v, &c->mix) ? 1 : bad_arg(a, v);
    if (!strcmp(a, "--gating")) {
        if (c->arch != ARCH_DEEPSEEK2) {
            fprintf(stderr, "deepc-make-model: --gating does not apply to %s\n", arch_names[c->arch]);
            return -1;
        }
        if (v && !strcmp(v, "softmax")) c->gating = GATING_SOFTMAX;
        else if (v && !strcmp(v, "sigmoid")) c->gating = GATING_SIGMOID;
        else return bad_arg(a, v);
        return 1;
    }
    if (!strcmp(a, "--break")) {
        int b = pick_name(a, v, break_names, 6);
        if (b < 0) return -1;
        c->brk = (break_kind)b;
        return 1;
    }
    return -2;   /* not a special option */
}

static int parse_args(int argc, char **argv, config *c) {
    if (parse_base(argc, argv, c) < 0) return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = parse_special(c, a, v);
        if (used == -1) return -1;
        if (used == -2) {
            const struct option *o = NULL;
            for (size_t j = 0; j < sizeof options / sizeof options[0] && !o; j++)
                if (!strcmp(options[j].name, a)) o = &options[j];
            if (!o) {
                fprintf(stderr, "deepc-make-model: unknown option '%s' (--help lists them)\n", a);
                return -1;
            }
            bool ds = c->arch == ARCH_DEEPSEEK2;
            if ((o->for_arch == FOR_DS && !ds) || (o->for_arch == FOR_DENSE && ds)) {
                fprintf(stderr, "deepc-make-model: %s does not apply to %s\n", a, arch_names[c->arch]);
                return -1;
            }
            if ((used = set_option(c, o, v)) < 0) return -1;
            if (!strcmp(o->name, "--vocab")) c->vocab_given = 1;
        }
        i += used;
    }
    return 0;
}

/* Shape rules the loader will check anyway, reported here in terms of the
 * options. --break skips the one it is about. */
static int check_config(config *c) {
    const char *why = NULL;
    if (c->qk_std < 0) c->qk_std = c->std;
    if (c->router_std < 0) c->router_std = c->std;
    if (c->rope_orig_ctx < 1) c->rope_orig_ctx = c->n_ctx;
    if (!c->out) why = "-o OUT.gguf is required";
    else if (c->n_layer < 1 || c->n_embd < 1 || c->n_head < 1 || c->n_ff < 1 || c->n_ctx < 1)
        why = "--layers, --hidden, --heads, --ff and --ctx must be >= 1";
    else if (c->n_vocab < 259) why = "--vocab must be >= 259 (256 byte tokens + 3 special)";
    else if (c->n_threads < 1) why = "--threads must be >= 1";
    else if (c->mix != DC_MIX_NONE && c->type != DC_TYPE_F32) why = "--type and --mix exclude each other";
    else if (c->chat_template && dc_chat_format_from_name(c->chat_template) == DC_CHAT_FORMAT_UNKNOWN)
        why = "--chat-template must name a built-in format (deepseek3, deepseek-r1, deepseek-v3.1, "
              "deepseek2, chatml, qwen3, llama3)";
    if (!why && c->arch == ARCH_DEEPSEEK2) {
        if (c->n_dense > c->n_layer) why = "--dense-layers exceeds --layers";
        else if (c->kv_lora < 1 || c->d_nope < 1 || c->d_v < 1 || c->d_rope < 2 || c->d_rope % 2)
            why = "--kv-lora, --nope, --vdim must be >= 1 and --rope even";
        else if (c->n_dense < c->n_layer && (c->n_expert < 1 || c->n_expert_used < 1 || c->n_ff_exp < 1))
            why = "MoE layers need --experts, --experts-used, --expert-ff >= 1";
        else if (c->n_expert_used > c->n_expert) why = "--experts-used exceeds --experts";
        else if (c->n_group < 1 || c->n_group_used < 1 || c->n_group_used > c->n_group ||
                 (c->n_expert && c->n_expert % c->n_group))
            why = "--groups must divide --experts, 1 <= --groups-used <= --groups";
        else if (c->n_expert && c->n_group_used * (c->n_expert / c->n_group) < c->n_expert_used)
            why = "--groups-used groups hold fewer experts than --experts-used";
    } else if (!why) {
        if (c->n_head_kv < 1) c->n_head_kv = c->n_head;
        if (c->n_embd % c->n_head || (c->n_embd / c->n_head) % 2)
            why = "--hidden must be --heads times an even head size";
        else if (c->n_head % c->n_head_kv) why = "--heads must be a multiple of --kv-heads";
        else if (c->arch == ARCH_QWEN2 && c->rope_factor > 1) why = "qwen2 files have no rope scaling";
    }
    if (!why && (c->brk == BREAK_EXPERTS_USED) && (c->arch != ARCH_DEEPSEEK2 || !c->n_expert))
        why = "--break experts-used needs a deepseek2 model with experts";
    if (why) {
        fprintf(stderr, "deepc-make-model: %s\n", why);
        return -1;
    }
    return 0;
}

/* ---- the tensor list ---------------------------------------------------- */

typedef enum init_kind {
    INIT_WEIGHT,      /* N(0, std)                                    */
    INIT_QK,          /* N(0, qk_std): q and k projections            */
    INIT_ROUTER,      /* N(0, router_std), kept F32                   */
    INIT_NORM,        /* 1 + N(0, norm_std), F32                      */
    INIT_BIAS,        /* N(0, bias_std), F32                          */
    INIT_ROPE_FREQS   /* Llama-3 rope scaling factors, F32            */
} init_kind;

typedef struct tspec {
    char      name[DC_MAX_NAME];
    int       n_dims;
    int64_t   ne[3];           /* innermost first; unused dims 1 */
    init_kind init;
    dc_type   type;            /* decided by choose_types()      */
    void     *data;            /* rows of `type`                 */
} tspec;

typedef struct tlist {
    tspec *v;
    size_t n, cap;
    bool   oom;
} tlist;

static void add(tlist *l, init_kind init, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static void add(tlist *l, init_kind init, int n_dims, int64_t ne0, int64_t ne1, int64_t ne2,
                const char *fmt, ...) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        tspec *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->oom = true; return; }
        l->v = v;
        l->cap = cap;
    }
    tspec *t = &l->v[l->n++];
    memset(t, 0, sizeof *t);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->n_dims = n_dims;
    t->ne[0] = ne0; t->ne[1] = ne1; t->ne[2] = ne2;
    t->init = init;
}

/* deepseek2 tensors in the fixtures' order (spec §5 names and shapes). */
static void add_deepseek2_layer(tlist *l, const config *c, int il) {
    const int64_t E = c->n_embd, H = c->n_head, dk = c->d_nope + c->d_rope;
    add(l, INIT_NORM, 1, E, 1, 1, "blk.%d.attn_norm.weight", il);
    if (c->q_lora) {
        add(l, INIT_QK, 2, E, c->q_lora, 1, "blk.%d.attn_q_a.weight", il);
        add(l, INIT_NORM, 1, c->q_lora, 1, 1, "blk.%d.attn_q_a_norm.weight", il);
        add(l, INIT_QK, 2, c->q_lora, H * dk, 1, "blk.%d.attn_q_b.weight", il);
    } else {
        add(l, INIT_QK, 2, E, H * dk, 1, "blk.%d.attn_q.weight", il);
    }
    add(l, INIT_QK, 2, E, c->kv_lora + c->d_rope, 1, "blk.%d.attn_kv_a_mqa.weight", il);
    add(l, INIT_NORM, 1, c->kv_lora, 1, 1, "blk.%d.attn_kv_a_norm.weight", il);
    if (c->legacy) {
        add(l, INIT_WEIGHT, 2, c->kv_lora, H * (c->d_nope + c->d_v), 1, "blk.%d.attn_kv_b.weight", il);
    } else {
        add(l, INIT_QK, 3, c->d_nope, c->kv_lora, H, "blk.%d.attn_k_b.weight", il);
        add(l, INIT_WEIGHT, 3, c->kv_lora, c->d_v, H, "blk.%d.attn_v_b.weight", il);
    }
    add(l, INIT_WEIGHT, 2, H * c->d_v, E, 1, "blk.%d.attn_output.weight", il);
    add(l, INIT_NORM, 1, E, 1, 1, "blk.%d.ffn_norm.weight", il);
    if (il < c->n_dense) {
        add(l, INIT_WEIGHT, 2, E, c->n_ff, 1, "blk.%d.ffn_gate.weight", il);
        add(l, INIT_WEIGHT, 2, E, c->n_ff, 1, "blk.%d.ffn_up.weight", il);
        add(l, INIT_WEIGHT, 2, c->n_ff, E, 1, "blk.%d.ffn_down.weight", il);
        return;
    }
    const int64_t N = c->n_expert, F = c->n_ff_exp, S = (int64_t)c->n_ff_exp * c->n_shared;
    add(l, INIT_ROUTER, 2, E, N, 1, "blk.%d.ffn_gate_inp.weight", il);
    if (c->gating == GATING_SIGMOID) add(l, INIT_BIAS, 1, N, 1, 1, "blk.%d.exp_probs_b.bias", il);
    add(l, INIT_WEIGHT, 3, E, F, N, "blk.%d.ffn_gate_exps.weight", il);
    add(l, INIT_WEIGHT, 3, E, F, N, "blk.%d.ffn_up_exps.weight", il);
    add(l, INIT_WEIGHT, 3, F, E, N, "blk.%d.ffn_down_exps.weight", il);
    if (S) {
        add(l, INIT_WEIGHT, 2, E, S, 1, "blk.%d.ffn_gate_shexp.weight", il);
        add(l, INIT_WEIGHT, 2, E, S, 1, "blk.%d.ffn_up_shexp.weight", il);
        add(l, INIT_WEIGHT, 2, S, E, 1, "blk.%d.ffn_down_shexp.weight", il);
    }
}

/* llama / qwen2 (fixtures/README.md "The dense GGUFs as the peer reads them"). */
static void add_dense_layer(tlist *l, const config *c, int il) {
    const int64_t E = c->n_embd, hd = c->n_embd / c->n_head, kv = hd * c->n_head_kv;
    add(l, INIT_NORM, 1, E, 1, 1, "blk.%d.attn_norm.weight", il);
    add(l, INIT_QK, 2, E, E, 1, "blk.%d.attn_q.weight", il);
    add(l, INIT_QK, 2, E, kv, 1, "blk.%d.attn_k.weight", il);
    add(l, INIT_WEIGHT, 2, E, kv, 1, "blk.%d.attn_v.weight", il);
    if (c->qkv_bias) {
        add(l, INIT_BIAS, 1, E, 1, 1, "blk.%d.attn_q.bias", il);
        add(l, INIT_BIAS, 1, kv, 1, 1, "blk.%d.attn_k.bias", il);
        add(l, INIT_BIAS, 1, kv, 1, 1, "blk.%d.attn_v.bias", il);
    }
    add(l, INIT_WEIGHT, 2, E, E, 1, "blk.%d.attn_output.weight", il);
    add(l, INIT_NORM, 1, E, 1, 1, "blk.%d.ffn_norm.weight", il);
    add(l, INIT_WEIGHT, 2, E, c->n_ff, 1, "blk.%d.ffn_gate.weight", il);
    add(l, INIT_WEIGHT, 2, E, c->n_ff, 1, "blk.%d.ffn_up.weight", il);
    add(l, INIT_WEIGHT, 2, c->n_ff, E, 1, "blk.%d.ffn_down.weight", il);
}

static void build_tensors(tlist *l, const config *c) {
    bool ds = c->arch == ARCH_DEEPSEEK2;
    add(l, INIT_WEIGHT, 2, c->n_embd, c->n_vocab, 1, "token_embd.weight");
    if (c->arch == ARCH_LLAMA && c->rope_factor > 1)
        add(l, INIT_ROPE_FREQS, 1, c->n_embd / c->n_head / 2, 1, 1, "rope_freqs.weight");
    for (int il = 0; il < c->n_layer; il++) {
        if (ds) add_deepseek2_layer(l, c, il);
        else add_dense_layer(l, c, il);
    }
    add(l, INIT_NORM, 1, c->n_embd, 1, 1, "output_norm.weight");
    if (!c->tied) add(l, INIT_WEIGHT, 2, c->n_embd, c->n_vocab, 1, "output.weight");
}

/* --break missing-tensor / wrong-shape: edit the list. */
static void break_tensors(tlist *l, break_kind b) {
    for (size_t i = 0; i < l->n; i++) {
        if (b == BREAK_MISSING_TENSOR && !strcmp(l->v[i].name, "blk.0.ffn_norm.weight")) {
            memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof l->v[0]);
            l->n--;
            return;
        }
        if (b == BREAK_WRONG_SHAPE && !strcmp(l->v[i].name, "blk.0.attn_output.weight")) {
            l->v[i].ne[1] += 1;   /* one output row too many */
            return;
        }
    }
}

/* Types for every tensor, with the mix rules (quantize/mix.h). */
static void choose_types(tlist *l, const config *c) {
    dc_mix_model m = { .n_layer = c->n_layer, .n_expert = c->n_expert, .has_output = !c->tied };
    for (size_t i = 0; i < l->n; i++)
        if (dc_mix_counts_as_attn_v(l->v[i].name)) m.n_attn_v++;
    dc_mix_state st = { 0 };
    dc_type base = c->mix == DC_MIX_Q4_K_M ? DC_TYPE_Q4_K : c->type;
    for (size_t i = 0; i < l->n; i++) {
        tspec *t = &l->v[i];
        bool q = (t->init == INIT_WEIGHT || t->init == INIT_QK) && dc_mix_is_quantizable(t->name, t->n_dims);
        t->type = q ? dc_mix_tensor_type(c->mix, base, &m, &st, t->name, t->n_dims, t->ne) : DC_TYPE_F32;
    }
}

/* ---- random numbers ------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1), never 0 (log(0) below). */
static double uniform01(uint64_t *s) {
    return ((double)(splitmix64(s) >> 11) + 0.5) * 0x1.0p-53;
}

static uint64_t fnv1a(const char *s) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* mean + std * N(0, 1) into x[0..n): Box-Muller in Marsaglia's polar form
 * (two values per accepted pair, no sin/cos: about twice as fast). */
static void fill_normal(uint64_t *s, float *x, int64_t n, double mean, double std) {
    for (int64_t i = 0; i < n; i += 2) {
        double a, b, q;
        do {
            a = 2.0 * uniform01(s) - 1.0;
            b = 2.0 * uniform01(s) - 1.0;
            q = a * a + b * b;
        } while (q >= 1.0 || q == 0.0);
        double f = sqrt(-2.0 * log(q) / q);
        x[i] = (float)(mean + std * a * f);
        if (i + 1 < n) x[i + 1] = (float)(mean + std * b * f);
    }
}

/* Llama-3 rope scaling as llama.cpp's converter stores it in rope_freqs:
 * per rotary pair i, the divisor of its frequency (low/high frequency factors
 * 1 and 4, as in Llama 3.1). */
static void fill_rope_freqs(const config *c, float *x, int64_t n) {
    const double lo = 1.0, hi = 4.0, f = c->rope_factor, orig = c->rope_orig_ctx;
    const double hd = (double)(2 * n), lo_wl = orig / lo, hi_wl = orig / hi;
    for (int64_t i = 0; i < n; i++) {
        double freq = pow((double)c->rope_base, -2.0 * (double)i / hd);
        double wl = 2.0 * 3.14159265358979323846 / freq;
        if (wl < hi_wl) {
            x[i] = 1.0f;
        } else if (wl > lo_wl) {
            x[i] = (float)f;
        } else {
            double smooth = (orig / wl - lo) / (hi - lo);
            x[i] = (float)(1.0 / ((1.0 - smooth) / f + smooth));
        }
    }
}

/* Row `row` of tensor t as floats: its own stream, so rows can be made in
 * any order by any thread. */
static void fill_row(const config *c, const tspec *t, int64_t row, float *x) {
    uint64_t s = c->seed ^ fnv1a(t->name);
    s = splitmix64(&s) ^ ((uint64_t)row * 0xd1b54a32d192ed03ULL);
    switch (t->init) {
    case INIT_WEIGHT:     fill_normal(&s, x, t->ne[0], 0.0, c->std); break;
    case INIT_QK:         fill_normal(&s, x, t->ne[0], 0.0, c->qk_std); break;
    case INIT_ROUTER:     fill_normal(&s, x, t->ne[0], 0.0, c->router_std); break;
    case INIT_NORM:       fill_normal(&s, x, t->ne[0], 1.0, c->norm_std); break;
    case INIT_BIAS:       fill_normal(&s, x, t->ne[0], 0.0, c->bias_std); break;
    case INIT_ROPE_FREQS: fill_rope_freqs(c, x, t->ne[0]); break;
    }
}

/* Generate all rows of t into t->data (allocated here), n_threads at once. */
static dc_status make_tensor(const config *c, tspec *t) {
    const int64_t rows = t->ne[1] * t->ne[2], ne0 = t->ne[0];
    const size_t rb = dc_row_size(t->type, ne0);
    if (rb == 0 || (size_t)rows > SIZE_MAX / rb) return DC_ERR_INVALID_ARG;
    t->data = malloc(rows > 0 ? rb * (size_t)rows : 1);
    if (!t->data) return DC_ERR_NOMEM;
    dc_status err = DC_OK;
#pragma omp parallel num_threads(c->n_threads)
    {
        float *x = malloc((size_t)ne0 * sizeof *x);
        dc_status mine = x ? DC_OK : DC_ERR_NOMEM;
#pragma omp for schedule(dynamic, 16)
        for (int64_t r = 0; r < rows; r++) {
            if (mine != DC_OK) continue;
            fill_row(c, t, r, x);
            mine = dc_quantize_row(t->type, x, (char *)t->data + (size_t)r * rb, ne0);
        }
        free(x);
        if (mine != DC_OK) {
#pragma omp critical
            err = mine;
        }
    }
    return err;
}

/* ---- metadata ------------------------------------------------------------ */

/* Key writer: "<arch>.<name>" keys, the first error kept, one key skippable
 * (--break missing-key). */
typedef struct kw {
    dc_gguf_writer *w;
    const char     *arch;
    const char     *skip;
    dc_status       st;
    char            key[128];
} kw;

static const char *akey(kw *k, const char *name) {
    if (!strncmp(name, "general.", 8) || !strncmp(name, "tokenizer.", 10) || !strncmp(name, "deepc.", 6))
        snprintf(k->key, sizeof k->key, "%s", name);
    else
        snprintf(k->key, sizeof k->key, "%s.%s", k->arch, name);
    return k->skip && !strcmp(k->skip, name) ? NULL : k->key;
}

static void kw_u32(kw *k, const char *name, int64_t v) {
    const char *key = akey(k, name);
    if (key && k->st == DC_OK) k->st = dc_gguf_set_u32(k->w, key, (uint32_t)v);
}

static void kw_f32(kw *k, const char *name, float v) {
    const char *key = akey(k, name);
    if (key && k->st == DC_OK) k->st = dc_gguf_set_f32(k->w, key, v);
}

static void kw_str(kw *k, const char *name, const char *v) {
    const char *key = akey(k, name);
    if (key && k->st == DC_OK) k->st = dc_gguf_set_str(k->w, key, v);
}

static void kw_bool(kw *k, const char *name, bool v) {
    const char *key = akey(k, name);
    if (key && k->st == DC_OK) k->st = dc_gguf_set_bool(k->w, key, v);
}

static void write_deepseek2_keys(kw *k, const config *c) {
    const bool mla = !c->legacy;
    kw_u32(k, "leading_dense_block_count", c->n_dense);
    kw_u32(k, "attention.head_count", c->n_head);
    kw_f32(k, "attention.layer_norm_rms_epsilon", c->eps);
    kw_u32(k, "attention.q_lora_rank", c->q_lora);
    kw_u32(k, "attention.kv_lora_rank", c->kv_lora);
    /* MLA files disguise the latent as one MQA head (spec §2.6) */
    kw_u32(k, "attention.head_count_kv", mla ? 1 : c->n_head);
    kw_u32(k, "attention.key_length", mla ? c->kv_lora + c->d_rope : c->d_nope + c->d_rope);
    kw_u32(k, "attention.value_length", mla ? c->kv_lora : c->d_v);
    if (mla) {
        kw_u32(k, "attention.key_length_mla", c->d_nope + c->d_rope);
        kw_u32(k, "attention.value_length_mla", c->d_v);
    }
    kw_u32(k, "rope.dimension_count", c->d_rope);
    kw_f32(k, "rope.freq_base", c->rope_base);
    if (c->rope_factor > 1) {
        kw_str(k, "rope.scaling.type", "yarn");
        kw_f32(k, "rope.scaling.factor", c->rope_factor);
        kw_u32(k, "rope.scaling.original_context_length", c->rope_orig_ctx ? c->rope_orig_ctx : c->n_ctx);
        kw_f32(k, "rope.scaling.yarn_log_multiplier", c->yarn_log_mul);
        kw_f32(k, "rope.scaling.yarn_beta_fast", 32.0f);
        kw_f32(k, "rope.scaling.yarn_beta_slow", 1.0f);
    }
    if (!c->n_expert) return;
    kw_u32(k, "expert_count", c->n_expert);
    kw_u32(k, "expert_used_count", c->brk == BREAK_EXPERTS_USED ? c->n_expert + 1 : c->n_expert_used);
    kw_u32(k, "expert_shared_count", c->n_shared);
    kw_u32(k, "expert_feed_forward_length", c->n_ff_exp);
    kw_u32(k, "expert_group_count", c->n_group);
    kw_u32(k, "expert_group_used_count", c->n_group_used);
    kw_f32(k, "expert_weights_scale", c->route_scale);
    if (c->norm_topk) kw_bool(k, "expert_weights_norm", true);   /* the converter writes only true */
    kw_u32(k, "expert_gating_func", c->gating);
}

static void write_model_keys(kw *k, const config *c) {
    kw_str(k, "general.architecture", k->arch);
    if (c->name) {
        kw_str(k, "general.name", c->name);
    } else {
        char name[96];
        snprintf(name, sizeof name, "deepc-make-model %s", c->preset);
        kw_str(k, "general.name", name);
    }
    int32_t ft = dc_mix_file_type(c->mix, c->type);
    if (ft >= 0) kw_u32(k, "general.file_type", ft);
    kw_u32(k, "general.quantization_version", 2);
    kw_u32(k, "vocab_size", c->n_vocab);
    kw_u32(k, "context_length", c->n_ctx);
    kw_u32(k, "embedding_length", c->n_embd);
    kw_u32(k, "block_count", c->n_layer);
    kw_u32(k, "feed_forward_length", c->n_ff);
    if (c->arch == ARCH_DEEPSEEK2) {
        write_deepseek2_keys(k, c);
        return;
    }
    kw_u32(k, "attention.head_count", c->n_head);
    kw_u32(k, "attention.head_count_kv", c->n_head_kv);
    kw_f32(k, "attention.layer_norm_rms_epsilon", c->eps);
    kw_f32(k, "rope.freq_base", c->rope_base);
    kw_u32(k, "rope.dimension_count", c->n_embd / c->n_head);
}

/* ---- tokenizer ------------------------------------------------------------
 * The fixtures' toy gpt2 vocabulary: 256 byte tokens in GPT-2 byte-to-unicode
 * form, 48 merges (one token each), the arch's special tokens at the top ids
 * (CONTROL), every other id "[PAD<i>]" (UNUSED). */

static const char *const merges[] = {
    "\xc4\xa0 t", "h e", "i n", "e r", "a n", "\xc4\xa0 a", "o n", "r e", "\xc4\xa0 s",
    "\xc4\xa0 w", "a t", "e n", "n d", "\xc4\xa0t he", "\xc4\xa0 o", "i s", "o r", "i t",
    "\xc4\xa0 c", "\xc4\xa0 b", "e s", "l l", "\xc4\xa0 h", "in g", "\xc4\xa0 i", "\xc4\xa0 f",
    "\xc4\xa0 an", "\xc4\240an d", "\xc4\xa0o f", "\xc4\xa0t o", "\xc4\xa0 m", "\xc4\xa0 p",
    "\xc4\xa0 d", "o u", "l e", "\xc4\xa0 l", "\xc4\xa0 n", "\xc4\xa0 e", "\xc4\xa0 g",
    "\xc4\xa0 in", "\xc4\xa0 is", "\xc4\xa0 it", "\xc4\xa0 y", "\xc4\xa0y ou", "\xc4\xa0in g",
    "\xc4\x8a \xc4\x8a", "\xc4\xa0 \xc4\xa0", "\xc4\xa0\xc4\xa0 \xc4\xa0\xc4\xa0",
};
#define N_MERGES ((int)(sizeof merges / sizeof merges[0]))

/* Special tokens (the last ids, in this order) and bos / eos / pad offsets
 * from the end of the vocabulary. */
static const struct vocab_style {
    const char *special[3];
    int         n_special, bos, eos, pad;
    bool        add_bos;
} styles[] = {
    [ARCH_DEEPSEEK2] = { { "<\xef\xbd\x9c" "begin\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                           "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>" },
                         2, 2, 1, 1, true },
    [ARCH_LLAMA]     = { { "<|eot_id|>", "<|begin_of_text|>", "<|end_of_text|>" }, 3, 2, 1, 1, true },
    [ARCH_QWEN2]     = { { "<|endoftext|>", "<|im_start|>", "<|im_end|>" }, 3, 3, 1, 3, false },
};

/* GPT-2's byte-to-unicode map, UTF-8 encoded into out (3 bytes). */
static void byte_token(int b, char *out) {
    int cp = b, n = 0;
    bool printable = (b >= '!' && b <= '~') || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    if (!printable) {
        for (int i = 0; i < b; i++)
            if (!((i >= '!' && i <= '~') || (i >= 0xa1 && i <= 0xac) || i >= 0xae)) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) {
        out[0] = (char)cp; out[1] = 0;
    } else {
        out[0] = (char)(0xc0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3f)); out[2] = 0;
    }
}

enum { TOK_LEN = 40 };   /* longest token text + NUL */

static dc_status write_tokenizer(kw *k, const config *c) {
    const struct vocab_style *s = &styles[c->arch];
    const int32_t V = c->n_vocab;
    char *text = calloc((size_t)V, TOK_LEN);
    const char **tok = calloc((size_t)V, sizeof *tok);
    int32_t *type = calloc((size_t)V, sizeof *type);
    if (!text || !tok || !type) {
        free(text); free(tok); free(type);
        return DC_ERR_NOMEM;
    }
    int n_merges = V - 256 - s->n_special < N_MERGES ? V - 256 - s->n_special : N_MERGES;
    for (int32_t i = 0; i < V; i++) {
        char *t = text + (size_t)i * TOK_LEN;
        tok[i] = t;
        type[i] = 5;                                         /* UNUSED  */
        if (i < 256) {
            byte_token(i, t);
            type[i] = 1;                                     /* NORMAL  */
        } else if (i < 256 + n_merges) {
            const char *m = merges[i - 256];
            for (; *m; m++) if (*m != ' ') *t++ = *m;
            type[i] = 1;
        } else if (i >= V - s->n_special) {
            snprintf(t, TOK_LEN, "%s", s->special[i - (V - s->n_special)]);
            type[i] = 3;                                     /* CONTROL */
        } else {
            snprintf(t, TOK_LEN, "[PAD%d]", (int)i);
        }
    }
    kw_str(k, "tokenizer.ggml.model", "gpt2");
    kw_str(k, "tokenizer.ggml.pre", c->pre ? c->pre : "default");
    if (k->st == DC_OK) k->st = dc_gguf_set_arr_str(k->w, "tokenizer.ggml.tokens", tok, (uint64_t)V);
    if (k->st == DC_OK) k->st = dc_gguf_set_arr(k->w, "tokenizer.ggml.token_type", DC_GGUF_I32, type, (uint64_t)V);
    if (k->st == DC_OK) k->st = dc_gguf_set_arr_str(k->w, "tokenizer.ggml.merges", merges, (uint64_t)n_merges);
    kw_u32(k, "tokenizer.ggml.bos_token_id", V - s->bos);
    kw_u32(k, "tokenizer.ggml.eos_token_id", V - s->eos);
    kw_u32(k, "tokenizer.ggml.padding_token_id", V - s->pad);
    kw_bool(k, "tokenizer.ggml.add_bos_token", s->add_bos);
    kw_bool(k, "tokenizer.ggml.add_eos_token", false);
    free(text); free(tok); free(type);
    return k->st;
}

/* ---- a Hugging Face tokenizer -------------------------------------------------
 * Built once to learn its size (and, when --vocab pads it, its tokens), then
 * converted onto the writer by the library's converter. */

static dc_status open_hf_tokenizer(config *c, dc_tokenizer **t) {
    dc_status st = dc_tokenizer_from_hf(c->tokenizer_hf, t);
    if (st != DC_OK) return st;
    int32_t n = dc_tokenizer_n_vocab(*t);
    if (c->vocab_given && c->n_vocab < n) {
        fprintf(stderr, "deepc-make-model: --vocab %d is below the tokenizer's %d tokens\n",
                c->n_vocab, n);
        dc_tokenizer_free(*t);
        *t = NULL;
        return DC_ERR_INVALID_ARG;
    }
    if (!c->vocab_given) c->n_vocab = n;
    return DC_OK;
}

/* The converted keys, with the token list padded to n_vocab by UNUSED
 * "[PAD<id>]" tokens when the model has more rows than the tokenizer. */
static dc_status write_hf_tokenizer(kw *k, const config *c, const dc_tokenizer *t) {
    dc_status st = dc_hf_tokenizer_to_gguf(c->tokenizer_hf, k->w);
    const int32_t n = dc_tokenizer_n_vocab(t), V = c->n_vocab;
    if (st != DC_OK || V == n) return st;
    const char **tok = calloc((size_t)V, sizeof *tok);
    int32_t *type = calloc((size_t)V, sizeof *type);
    char *pad = calloc((size_t)(V - n), 24);
    if (!tok || !type || !pad) st = DC_ERR_NOMEM;
    for (int32_t i = 0; st == DC_OK && i < V; i++) {
        if (i < n) {
            tok[i] = dc_tokenizer_token_text(t, i);
            type[i] = (int32_t)dc_tokenizer_token_type(t, i);
        } else {
            char *p = pad + (size_t)(i - n) * 24;
            snprintf(p, 24, "[PAD%d]", (int)i);
            tok[i] = p;
            type[i] = DC_TOKEN_TYPE_UNUSED;
        }
    }
    if (st == DC_OK) st = dc_gguf_set_arr_str(k->w, "tokenizer.ggml.tokens", tok, (uint64_t)V);
    if (st == DC_OK)
        st = dc_gguf_set_arr(k->w, "tokenizer.ggml.token_type", DC_GGUF_I32, type, (uint64_t)V);
    free(tok); free(type); free(pad);
    return st;
}

static dc_status write_any_tokenizer(kw *k, const config *c, const dc_tokenizer *hf) {
    dc_status st = hf ? write_hf_tokenizer(k, c, hf) : write_tokenizer(k, c);
    if (st == DC_OK && c->chat_template)
        st = dc_gguf_set_str(k->w, "tokenizer.chat_template", c->chat_template);
    return st;
}

/* ---- main ---------------------------------------------------------------- */

static int fail(const char *what, dc_status st) {
    const char *msg = dc_last_error();
    fprintf(stderr, "deepc-make-model: %s: %s%s%s\n", what, dc_status_str(st),
            *msg ? ": " : "", msg);
    return 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Generate every tensor and hand it to the writer; on failure `what` names
 * the tensor. */
static dc_status add_tensors(dc_gguf_writer *w, const config *c, tlist *l, size_t *bytes,
                             char *what, size_t what_size) {
    bool f8 = false;
    for (size_t i = 0; i < l->n; i++) {
        tspec *t = &l->v[i];
        dc_status st = make_tensor(c, t);
        if (st == DC_OK) st = dc_gguf_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data);
        if (st != DC_OK) {
            snprintf(what, what_size, "tensor %s (%s)", t->name, dc_type_name(t->type));
            return st;
        }
        *bytes += dc_row_size(t->type, t->ne[0]) * (size_t)(t->ne[1] * t->ne[2]);
        f8 |= t->type == DC_TYPE_F8_E4M3_B128;
    }
    return f8 ? dc_gguf_set_u32(w, "deepc.fp8.version", 1) : DC_OK;   /* DESIGN.md */
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
    config c;
    if (parse_args(argc, argv, &c) < 0 || check_config(&c) < 0) return 2;
    double t0 = now();
    dc_tokenizer *hf = NULL;
    if (c.tokenizer_hf) {
        dc_status st = open_hf_tokenizer(&c, &hf);
        if (st != DC_OK) return st == DC_ERR_INVALID_ARG ? 2 : fail(c.tokenizer_hf, st);
    }
    tlist l = { 0 };
    build_tensors(&l, &c);
    if (l.oom) return fail("tensor list", DC_ERR_NOMEM);
    break_tensors(&l, c.brk);
    choose_types(&l, &c);

    dc_gguf_writer *w = NULL;
    dc_status st = dc_gguf_writer_init(&w);
    if (st != DC_OK) return fail("writer", st);
    kw k = { .w = w, .arch = c.brk == BREAK_UNKNOWN_ARCH ? "foo" : arch_names[c.arch],
             .skip = c.brk != BREAK_MISSING_KEY ? NULL :
                     c.arch == ARCH_DEEPSEEK2 ? "attention.kv_lora_rank" : "feed_forward_length" };
    write_model_keys(&k, &c);
    st = k.st == DC_OK ? write_any_tokenizer(&k, &c, hf) : k.st;
    size_t bytes = 0;
    char what[128];
    snprintf(what, sizeof what, "%s", c.out);
    if (st == DC_OK) st = add_tensors(w, &c, &l, &bytes, what, sizeof what);
    if (st == DC_OK) st = dc_gguf_writer_write(w, c.out);
    int rc = st == DC_OK ? 0 : fail(what, st);
    if (rc == 0)
        printf("%s: %s, %zu tensors, %.1f MiB of tensor data, %s, seed %llu, %.1f s\n", c.out,
               c.preset, l.n, (double)bytes / 1048576.0,
               c.mix != DC_MIX_NONE ? dc_mix_name(c.mix) : dc_type_name(c.type),
               (unsigned long long)c.seed, now() - t0);
    dc_gguf_writer_free(w);
    dc_tokenizer_free(hf);
    for (size_t i = 0; i < l.n; i++) free(l.v[i].data);
    free(l.v);
    return rc;
}
