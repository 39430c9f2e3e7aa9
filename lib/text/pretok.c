/*
 * pretok.c - pre-tokenizers: split text into the words BPE sees, with the
 * regexes of each tokenizer family run by PCRE2.
 *
 * Semantics (HF tokenizers' Split with behavior "Isolated", spec/fp8-gguf.md
 * §3.2): the regexes of a pre-tokenizer are applied in order; each one
 * splits every current fragment into its matches and the gaps between
 * them, both kept. Every fragment is matched on its own (lookaheads and $
 * never see past its end), as the reference implementations do.
 *
 * The regexes are the ones in the models' tokenizer.json files (and
 * llama.cpp's tables), with two rewrites that keep their meaning in the
 * reference engine (Oniguruma, which Hugging Face's tokenizers use):
 *  - (?i:'s|'t|...) is spelled with ASCII classes ('[sS]|'[tT]|...), as
 *    llama.cpp and transformers.js do: Unicode case folding would let
 *    "'ſ" (U+017F) match, which no port reproduces;
 *  - \s is spelled as the Unicode White_Space set, [\p{Z}\t-\r\x{85}]:
 *    PCRE2's own \s (with UCP) also matches U+180E, which is no longer
 *    white space since Unicode 6.3. (JavaScript's \s differs again: it
 *    adds U+FEFF and drops U+0085; tests/tokenizer lists those cases.)
 * Each regex is compiled once per tokenizer with UTF + UCP and JIT-compiled
 * when PCRE2 has a JIT. Matching never recurses on the C stack: the JIT uses
 * its own stack (on overflow we retry the match with the interpreter), and
 * PCRE2 >= 10.30's interpreter keeps its backtracking frames on the heap,
 * bounded by the match context's limits. All PCRE2 memory goes through
 * dc_malloc via a general context.
 */
#include "text_impl.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <string.h>

/* ---- the regex tables ----------------------------------------------------------- */

#define PRE_MAX_RE 6

/* Unicode White_Space, the meaning of \s in the reference engine. */
#define WS "\\p{Z}\\t-\\r\\x{85}"
#define S_ "[" WS "]"
#define NS "[^" WS "]"

/* The tail shared by the GPT-2 descendants: punctuation runs, newlines,
 * and white space that leaves its last char to the next word. */
#define WS_TAIL S_ "*[\\r\\n]+|" S_ "+(?!" NS ")|" S_ "+"

#define CONTRACTIONS "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

/* DeepSeek LLM's cased-letter class (its tokenizer.json, also llama.cpp). */
#define DSLLM_LETTERS                                                          \
    "[A-Za-z\\x{B5}\\x{C0}-\\x{D6}\\x{D8}-\\x{F6}\\x{F8}-\\x{1BA}\\x{1BC}-\\x{1BF}" \
    "\\x{1C4}-\\x{293}\\x{295}-\\x{2AF}\\x{370}-\\x{373}\\x{376}\\x{377}"          \
    "\\x{37B}-\\x{37D}\\x{37F}\\x{386}\\x{388}-\\x{38A}\\x{38C}\\x{38E}-\\x{3A1}"   \
    "\\x{3A3}-\\x{3F5}\\x{3F7}-\\x{481}\\x{48A}-\\x{52F}\\x{531}-\\x{556}"          \
    "\\x{10A0}-\\x{10C5}\\x{13A0}-\\x{13F5}\\x{13F8}-\\x{13FD}\\x{1C90}-\\x{1CBA}"  \
    "\\x{1CBD}-\\x{1CBF}\\x{1D00}-\\x{1D2B}\\x{1D6B}-\\x{1D77}\\x{1D79}-\\x{1D9A}"  \
    "\\x{1E00}-\\x{1F15}\\x{1F18}-\\x{1F1D}\\x{1F20}-\\x{1F45}\\x{1F48}-\\x{1F4D}"  \
    "\\x{1F50}-\\x{1F57}\\x{1F59}\\x{1F5B}\\x{1F5D}\\x{1F5F}-\\x{1F7D}"            \
    "\\x{1F80}-\\x{1FB4}\\x{1FB6}-\\x{1FBC}\\x{1FBE}\\x{1FC2}-\\x{1FC4}"           \
    "\\x{1FC6}-\\x{1FCC}\\x{1FD0}-\\x{1FD3}\\x{1FD6}-\\x{1FDB}\\x{1FE0}-\\x{1FEC}"  \
    "\\x{1FF2}-\\x{1FF4}\\x{1FF6}-\\x{1FFC}\\x{2102}\\x{2107}\\x{210A}-\\x{2113}"   \
    "\\x{2115}\\x{2119}-\\x{211D}\\x{2124}\\x{2126}\\x{2128}\\x{212A}-\\x{212D}"    \
    "\\x{212F}-\\x{2134}\\x{2139}\\x{213C}-\\x{213F}\\x{2145}-\\x{2149}\\x{214E}"   \
    "\\x{2183}\\x{2184}\\x{2C00}-\\x{2C7B}\\x{2C7E}-\\x{2CE4}\\x{2CEB}-\\x{2CEE}"   \
    "\\x{2CF2}\\x{2CF3}\\x{A640}-\\x{A66D}\\x{A680}-\\x{A69B}\\x{A722}-\\x{A76F}"   \
    "\\x{A771}-\\x{A787}\\x{A78B}-\\x{A78E}\\x{AB70}-\\x{ABBF}\\x{FB00}-\\x{FB06}"  \
    "\\x{FB13}-\\x{FB17}\\x{FF21}-\\x{FF3A}\\x{FF41}-\\x{FF5A}\\x{10400}-\\x{1044F}" \
    "\\x{104B0}-\\x{104D3}\\x{104D8}-\\x{104FB}\\x{10C80}-\\x{10CB2}"              \
    "\\x{10CC0}-\\x{10CF2}\\x{118A0}-\\x{118DF}\\x{1E900}-\\x{1E943}]"

/* The same class as tokenizer.json spells it (literal characters). */
#define DSLLM_LETTERS_HF                                                       \
    "[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF"            \
    "\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F"       \
    "\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481"             \
    "\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD"            \
    "\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A"            \
    "\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59"      \
    "\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4"       \
    "\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4"            \
    "\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126"        \
    "\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E"       \
    "\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3"              \
    "\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E"            \
    "\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A"            \
    "\U00010400-\U0001044F\U000104B0-\U000104D3\U000104D8-\U000104FB"              \
    "\U00010C80-\U00010CB2\U00010CC0-\U00010CF2\U000118A0-\U000118DF"              \
    "\U0001E900-\U0001E943]"

typedef struct pre_def {
    const char *name;                 /* canonical tokenizer.ggml.pre      */
    const char *aliases[3];           /* other names for the same splitter */
    bool        ignore_merges;        /* llama3: whole-vocab words kept    */
    int         n;                    /* regexes, applied in order         */
    const char *pcre[PRE_MAX_RE];     /* as compiled here                  */
    const char *hf[PRE_MAX_RE];       /* as tokenizer.json spells them     */
} pre_def;

static const pre_def pre_defs[] = {
    {
        .name = "deepseek-v3", .n = 3,
        .pcre = {
            "\\p{N}{1,3}",
            "[\\x{4E00}-\\x{9FA5}\\x{3040}-\\x{309F}\\x{30A0}-\\x{30FF}]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
            "|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
            "| ?[\\p{P}\\p{S}]+[\\r\\n]*|" WS_TAIL,
        },
        .hf = {
            "\\p{N}{1,3}",
            "[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
            "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+"
            "|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+"
            "| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
        },
    },
    {
        .name = "deepseek-llm", .n = 6,
        .pcre = {
            "[\\r\\n]",
            S_ "?" DSLLM_LETTERS "+",
            S_ "?[\\x{21}-\\x{2F}\\x{3A}-\\x{7E}\\x{FF01}-\\x{FF0F}\\x{FF1A}-\\x{FF5E}"
            "\\x{2018}-\\x{201F}\\x{3000}-\\x{3002}]+",
            S_ "+$",
            "[\\x{4E00}-\\x{9FA5}\\x{800}-\\x{4E00}\\x{AC00}-\\x{D7FF}]+",
            "\\p{N}+",
        },
        .hf = {
            "[\r\n]",
            "\\s?" DSLLM_LETTERS_HF "+",
            "\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+",
            "\\s+$",
            "[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+",
            "\\p{N}+",
        },
    },
    {
        .name = "qwen2", .aliases = {"deepseek-r1-qwen"}, .n = 1,
        .pcre = {
            CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*|" WS_TAIL,
        },
        .hf = {
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        },
    },
    {
        .name = "llama3", .aliases = {"llama-v3", "llama-bpe"}, .ignore_merges = true, .n = 1,
        .pcre = {
            CONTRACTIONS "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            "| ?[^" WS "\\p{L}\\p{N}]+[\\r\\n]*|" WS_TAIL,
        },
        .hf = {
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
        },
    },
    {
        /* GPT-2's own regex: tokenizer.json has it implicitly (ByteLevel
         * with use_regex), so there is no Split pattern to detect. */
        .name = "gpt2", .aliases = {"gpt-2"}, .n = 1,
        .pcre = {
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" WS "\\p{L}\\p{N}]+"
            "|" S_ "+(?!" NS ")|" S_ "+",
        },
    },
};

#define N_PRE_DEFS (sizeof pre_defs / sizeof pre_defs[0])

/* Backtracking limits for the interpreter: far above what these regexes
 * need on any input (a 1 MB word takes ~1e6 steps), low enough that a
 * PCRE2 surprise ends in an error, not in minutes of work or gigabytes. */
#define MATCH_LIMIT      200000000u
#define HEAP_LIMIT_KIB   (512u * 1024u)

struct dc_pretok {
    const pre_def          *def;
    pcre2_general_context  *gctx;
    pcre2_code             *re[PRE_MAX_RE];
    bool                    no_jit;   /* tests: run the interpreter only */
};

/* ---- PCRE2 through dc_malloc ------------------------------------------------------ */

static void *pcre_alloc(PCRE2_SIZE size, void *user) {
    (void)user;
    return dc_malloc(size);
}

static void pcre_free(void *p, void *user) {
    (void)user;
    dc_free(p);
}

/* ---- creation --------------------------------------------------------------------- */

static const pre_def *find_def(const char *name, size_t len) {
    for (size_t i = 0; i < N_PRE_DEFS; i++) {
        const pre_def *d = &pre_defs[i];
        if (strlen(d->name) == len && memcmp(d->name, name, len) == 0) return d;
        for (int a = 0; a < 3 && d->aliases[a]; a++)
            if (strlen(d->aliases[a]) == len && memcmp(d->aliases[a], name, len) == 0) return d;
    }
    return NULL;
}

dc_status dc_pretok_create(const char *name, size_t name_len, dc_pretok **out,
                           const char **canon) {
    DC_CHECK_ARG(out && canon && (name || name_len == 0));
    *out = NULL;
    const pre_def *def = find_def(name, name_len);
    if (!def)
        return dc_error(DC_ERR_UNSUPPORTED,
                        "tokenizer.ggml.pre: unknown pre-tokenizer '%.*s' (deepc knows "
                        "deepseek-v3, deepseek-llm, qwen2, deepseek-r1-qwen, llama3, "
                        "llama-v3, llama-bpe, gpt2)", (int)(name_len > 200 ? 200 : name_len), name);
    dc_pretok *p = dc_calloc(1, sizeof *p);
    if (!p) return DC_ERR_NOMEM;
    dc_status st = DC_OK;
    p->def = def;
    p->gctx = pcre2_general_context_create(pcre_alloc, pcre_free, NULL);
    if (!p->gctx) {
        st = dc_error(DC_ERR_NOMEM, "pre-tokenizer %s: PCRE2 context", def->name);
        goto fail;
    }
    pcre2_compile_context *cctx = pcre2_compile_context_create(p->gctx);
    if (!cctx) {
        st = dc_error(DC_ERR_NOMEM, "pre-tokenizer %s: PCRE2 context", def->name);
        goto fail;
    }
    uint32_t has_jit = 0;
    pcre2_config(PCRE2_CONFIG_JIT, &has_jit);
    for (int i = 0; i < def->n; i++) {
        int err = 0;
        PCRE2_SIZE at = 0;
        p->re[i] = pcre2_compile((PCRE2_SPTR)def->pcre[i], PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY, &err, &at, cctx);
        if (!p->re[i]) {
            PCRE2_UCHAR msg[160];
            pcre2_get_error_message(err, msg, sizeof msg);
            st = dc_error(err == PCRE2_ERROR_HEAP_FAILED ? DC_ERR_NOMEM : DC_ERR_INTERNAL,
                          "pre-tokenizer %s: regex %d does not compile at %zu: %s",
                          def->name, i, (size_t)at, (const char *)msg);
            break;
        }
        /* Without JIT (or if it fails, e.g. no executable memory) the
         * interpreter runs the same regex, only slower. */
        if (has_jit) pcre2_jit_compile(p->re[i], PCRE2_JIT_COMPLETE);
    }
    pcre2_compile_context_free(cctx);
    if (st != DC_OK) goto fail;
    *canon = def->name;
    *out = p;
    return DC_OK;
fail:
    dc_pretok_free(p);
    return st;
}

void dc_pretok_free(dc_pretok *p) {
    if (!p) return;
    for (int i = 0; i < PRE_MAX_RE; i++) pcre2_code_free(p->re[i]);
    pcre2_general_context_free(p->gctx);
    dc_free(p);
}

bool dc_pretok_ignore_merges(const dc_pretok *p) { return p->def->ignore_merges; }

void dc_pretok_disable_jit(dc_pretok *p) { p->no_jit = true; }

const char *dc_pretok_name_for_hf(const char *const *pats, int n) {
    for (size_t i = 0; i < N_PRE_DEFS; i++) {
        const pre_def *d = &pre_defs[i];
        if (d->n != n || !d->hf[0]) continue;
        int k = 0;
        while (k < n && strcmp(d->hf[k], pats[k]) == 0) k++;
        if (k == n) return d->name;
    }
    return NULL;
}

/* ---- spans ------------------------------------------------------------------------ */

dc_status dc_spans_push(dc_spans *s, size_t off, size_t len) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        dc_span *v = dc_realloc(s->v, cap * sizeof *v);
        if (!v) return DC_ERR_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].off = off;
    s->v[s->n].len = len;
    s->n++;
    return DC_OK;
}

void dc_spans_free(dc_spans *s) {
    dc_free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

/* ---- splitting -------------------------------------------------------------------- */

typedef struct match_env {
    pcre2_match_data    *md;
    pcre2_match_context *mctx;
    uint32_t             opts;   /* PCRE2_NO_JIT when the JIT is off */
} match_env;

/* One match of re in subject[0..n) at or after pos. Returns 1 with the
 * match in [*ms, *me), 0 for none, or a dc_status < 0. */
static int match_once(const pcre2_code *re, const char *subject, size_t n, size_t pos,
                      match_env *env, size_t *ms, size_t *me) {
    uint32_t opts = env->opts | PCRE2_NO_UTF_CHECK;   /* the caller validated the text */
    int rc = pcre2_match(re, (PCRE2_SPTR)subject, n, pos, opts, env->md, env->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(re, (PCRE2_SPTR)subject, n, pos, opts | PCRE2_NO_JIT, env->md,
                         env->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[160];
        pcre2_get_error_message(rc, msg, sizeof msg);
        return dc_error(rc == PCRE2_ERROR_NOMEMORY ? DC_ERR_NOMEM : DC_ERR_UNSUPPORTED,
                        "pre-tokenizer: PCRE2 match failed on a %zu-byte fragment: %s", n,
                        (const char *)msg);
    }
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(env->md);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

/* Split the fragment text[f.off .. f.off + f.len) by re into out. */
static dc_status split_one(const pcre2_code *re, const char *text, dc_span f, match_env *env,
                           dc_spans *out) {
    const char *sub = text + f.off;
    size_t pos = 0, last = 0;
    dc_status st = DC_OK;
    while (pos < f.len) {
        size_t ms = 0, me = 0;
        int rc = match_once(re, sub, f.len, pos, env, &ms, &me);
        if (rc < 0) return (dc_status)rc;
        if (rc == 0) break;
        if (ms > last && (st = dc_spans_push(out, f.off + last, ms - last)) != DC_OK) return st;
        if (me == ms) {
            /* An empty match only marks a split point; step over a char. */
            int l = dc_utf8_valid_len((const uint8_t *)sub + ms, f.len - ms);
            last = ms;
            pos = ms + (size_t)(l > 0 ? l : 1);
            continue;
        }
        if ((st = dc_spans_push(out, f.off + ms, me - ms)) != DC_OK) return st;
        last = pos = me;
    }
    if (last < f.len) st = dc_spans_push(out, f.off + last, f.len - last);
    return st;
}

dc_status dc_pretok_split(const dc_pretok *p, const char *text, size_t n, dc_spans *out,
                          dc_spans *tmp) {
    out->n = 0;
    tmp->n = 0;
    if (n == 0) return DC_OK;
    match_env env = {0};
    dc_status st = DC_OK;
    env.md = pcre2_match_data_create(1, p->gctx);
    env.mctx = pcre2_match_context_create(p->gctx);
    if (!env.md || !env.mctx) {
        st = dc_error(DC_ERR_NOMEM, "pre-tokenizer: PCRE2 match data");
        goto done;
    }
    env.opts = p->no_jit ? PCRE2_NO_JIT : 0;
    pcre2_set_match_limit(env.mctx, MATCH_LIMIT);
    pcre2_set_heap_limit(env.mctx, HEAP_LIMIT_KIB);
    /* cur -> next for each regex; the first input is the whole text. */
    dc_spans *cur = tmp, *next = out;
    if (p->def->n % 2 == 0) {   /* so that the last pass writes into out */
        cur = out;
        next = tmp;
    }
    if ((st = dc_spans_push(cur, 0, n)) != DC_OK) goto done;
    for (int r = 0; r < p->def->n; r++) {
        next->n = 0;
        for (size_t i = 0; i < cur->n && st == DC_OK; i++)
            st = split_one(p->re[r], text, cur->v[i], &env, next);
        if (st != DC_OK) goto done;
        dc_spans *t = cur;
        cur = next;
        next = t;
    }
done:
    pcre2_match_data_free(env.md);
    pcre2_match_context_free(env.mctx);
    return st;
}
