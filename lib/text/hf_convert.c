/*
 * hf_convert.c - Hugging Face tokenizer.json (+ tokenizer_config.json) ->
 * tokenizer description -> dc_tokenizer or GGUF tokenizer.ggml.* keys.
 *
 * What is read (spec/fp8-gguf.md §3.1 for the GGUF side):
 *  - model: type BPE, vocab {text: id}, merges as "a b" strings or [a, b]
 *    pairs (rank = position); byte_fallback and subword affixes are refused;
 *  - added_tokens: {id, content, special} override the vocabulary entry of
 *    their id; CONTROL when special or shaped like <|..|> / <｜..｜> (the
 *    rule of llama.cpp's converter, so both converters type DeepSeek's
 *    <｜User｜> alike), USER_DEFINED otherwise (Qwen's <think>);
 *  - pre_tokenizer: the Split regexes (behavior Isolated) ahead of a
 *    ByteLevel step without regex or prefix space; the exact regex list
 *    names the GGUF `pre` (pretok.c holds the known lists); a lone ByteLevel
 *    with its GPT-2 regex is "gpt2". Anything else is DC_ERR_UNSUPPORTED;
 *  - normalizer: none, an empty Sequence, or NFC (kept as
 *    deepc.tokenizer.normalizer);
 *  - tokenizer_config.json: bos/eos/pad tokens (string or {content}),
 *    add_bos_token, add_eos_token, chat_template (a string, or a list of
 *    {name, template} where "default" wins).
 * Ids missing from both lists become "[PAD<id>]" UNUSED tokens. JSON is
 * parsed by cJSON (its own allocations go through malloc: cJSON only offers
 * process-wide hooks, which a library must not change under its host).
 */
#include "text_impl.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

/* Ids above this are refused: a hostile file could otherwise ask for any
 * allocation. Real vocabularies are below 300,000. */
#define HF_MAX_VOCAB (1 << 24)

typedef struct hf_load {
    cJSON      *tok;         /* tokenizer.json                             */
    cJSON      *cfg;         /* tokenizer_config.json, or NULL             */
    dc_tok_desc d;
    dc_tok_str *tokens;      /* [n_vocab]                                  */
    int32_t    *types;       /* [n_vocab]                                  */
    dc_tok_str *merges;      /* [n_merges]                                 */
    char       *text;        /* generated strings: [PAD i], joined merges  */
} hf_load;

static void hf_free(hf_load *h) {
    cJSON_Delete(h->tok);
    cJSON_Delete(h->cfg);
    dc_free(h->tokens);
    dc_free(h->types);
    dc_free(h->merges);
    dc_free(h->text);
}

/* ---- files ---------------------------------------------------------------------------- */

static dc_status read_json(const char *dir, const char *name, bool required, cJSON **out) {
    *out = NULL;
    size_t plen = strlen(dir) + strlen(name) + 2;
    char *path = dc_malloc(plen);
    if (!path) return DC_ERR_NOMEM;
    snprintf(path, plen, "%s/%s", dir, name);
    dc_status st = DC_OK;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (required) st = dc_error(DC_ERR_IO, "%s: cannot open", path);
        goto done;
    }
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = dc_error(DC_ERR_IO, "%s: cannot read", path);
        goto done;
    }
    if (!(buf = dc_malloc((size_t)size + 1))) {
        st = DC_ERR_NOMEM;
        goto done;
    }
    if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
        st = dc_error(DC_ERR_IO, "%s: short read", path);
        goto done;
    }
    buf[size] = '\0';
    *out = cJSON_ParseWithLength(buf, (size_t)size);
    if (!*out) {
        const char *at = cJSON_GetErrorPtr();
        st = dc_error(DC_ERR_FORMAT, "%s: not valid JSON (near byte %lld)", path,
                      at && at >= buf && at <= buf + size ? (long long)(at - buf) : -1LL);
    }
done:
    if (f) fclose(f);
    dc_free(buf);
    dc_free(path);
    return st;
}

/* ---- small JSON helpers ---------------------------------------------------------------- */

static const char *json_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An id field: an integral number in [0, HF_MAX_VOCAB). */
static bool json_id(const cJSON *v, int32_t *id) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= HF_MAX_VOCAB ||
        v->valuedouble != (double)(int32_t)v->valuedouble)
        return false;
    *id = (int32_t)v->valuedouble;
    return true;
}

static dc_tok_str tstr(const char *s) {
    return (dc_tok_str){.s = s, .len = s ? strlen(s) : 0};
}

static bool looks_special(const char *s) {
    size_t n = strlen(s);
    if (n >= 4 && memcmp(s, "<|", 2) == 0 && memcmp(s + n - 2, "|>", 2) == 0) return true;
    /* U+FF5C FULLWIDTH VERTICAL LINE is EF BD 9C. */
    return n >= 8 && memcmp(s, "<\xEF\xBD\x9C", 4) == 0 && memcmp(s + n - 4, "\xEF\xBD\x9C>", 4) == 0;
}

/* ---- vocabulary ------------------------------------------------------------------------- */

static dc_status vocab_size(const cJSON *vocab, const cJSON *added, int32_t *n_vocab) {
    int32_t max = -1, id;
    const cJSON *e;
    cJSON_ArrayForEach(e, vocab) {
        if (!json_id(e, &id))
            return dc_error(DC_ERR_FORMAT, "tokenizer.json: model.vocab['%.80s']: bad id", e->string);
        if (id > max) max = id;
    }
    cJSON_ArrayForEach(e, added) {
        if (!json_id(cJSON_GetObjectItemCaseSensitive(e, "id"), &id) || !json_str(e, "content"))
            return dc_error(DC_ERR_FORMAT, "tokenizer.json: added_tokens: entry without id/content");
        if (id > max) max = id;
    }
    if (max < 0) return dc_error(DC_ERR_FORMAT, "tokenizer.json: empty vocabulary");
    *n_vocab = max + 1;
    return DC_OK;
}

static dc_status load_vocab(hf_load *h, const cJSON *model) {
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *added = cJSON_GetObjectItemCaseSensitive(h->tok, "added_tokens");
    if (!cJSON_IsObject(vocab))
        return dc_error(DC_ERR_FORMAT, "tokenizer.json: model.vocab is not an object");
    int32_t n = 0;
    dc_status st = vocab_size(vocab, added, &n);
    if (st != DC_OK) return st;
    h->tokens = dc_calloc((size_t)n, sizeof *h->tokens);
    h->types = dc_calloc((size_t)n, sizeof *h->types);
    h->text = dc_malloc((size_t)n * 20);   /* room for every "[PAD<id>]"    */
    if (!h->tokens || !h->types || !h->text) return DC_ERR_NOMEM;
    const cJSON *e;
    int32_t id = 0;
    cJSON_ArrayForEach(e, vocab) {
        json_id(e, &id);
        if (h->tokens[id].s)
            return dc_error(DC_ERR_FORMAT, "tokenizer.json: id %d names '%.80s' and '%.80s'", id,
                            h->tokens[id].s, e->string);
        h->tokens[id] = tstr(e->string);
        h->types[id] = DC_TOKEN_TYPE_NORMAL;
    }
    cJSON_ArrayForEach(e, added) {
        json_id(cJSON_GetObjectItemCaseSensitive(e, "id"), &id);
        const char *content = json_str(e, "content");
        h->tokens[id] = tstr(content);
        h->types[id] = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "special")) ||
                       looks_special(content) ? DC_TOKEN_TYPE_CONTROL : DC_TOKEN_TYPE_USER_DEFINED;
    }
    size_t o = 0;
    for (int32_t i = 0; i < n; i++) {
        if (h->tokens[i].s) continue;
        int w = snprintf(h->text + o, 20, "[PAD%d]", i);
        h->tokens[i] = (dc_tok_str){.s = h->text + o, .len = (size_t)w};
        h->types[i] = DC_TOKEN_TYPE_UNUSED;
        o += (size_t)w + 1;
    }
    h->d.n_vocab = n;
    h->d.tokens = h->tokens;
    h->d.types = h->types;
    return DC_OK;
}

/* Merges: "a b" strings are used in place; [a, b] pairs are joined into a
 * second arena, sized exactly first. */
static dc_status load_merges(hf_load *h, const cJSON *model, char **joined) {
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(model, "merges");
    if (!merges) return DC_OK;
    if (!cJSON_IsArray(merges))
        return dc_error(DC_ERR_FORMAT, "tokenizer.json: model.merges is not an array");
    int n = cJSON_GetArraySize(merges);
    size_t total = 1;
    const cJSON *e;
    cJSON_ArrayForEach(e, merges) {
        if (cJSON_IsString(e)) continue;
        const cJSON *a = cJSON_GetArrayItem(e, 0), *b = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsString(a) ||
            !cJSON_IsString(b))
            return dc_error(DC_ERR_FORMAT, "tokenizer.json: a merge is neither \"a b\" nor [a, b]");
        total += strlen(a->valuestring) + strlen(b->valuestring) + 2;
    }
    h->merges = dc_calloc(n > 0 ? (size_t)n : 1, sizeof *h->merges);
    *joined = dc_malloc(total);
    if (!h->merges || !*joined) return DC_ERR_NOMEM;
    size_t o = 0;
    int i = 0;
    cJSON_ArrayForEach(e, merges) {
        if (cJSON_IsString(e)) {
            h->merges[i++] = tstr(e->valuestring);
            continue;
        }
        const char *a = cJSON_GetArrayItem(e, 0)->valuestring, *b = cJSON_GetArrayItem(e, 1)->valuestring;
        int w = snprintf(*joined + o, total - o, "%s %s", a, b);
        h->merges[i++] = (dc_tok_str){.s = *joined + o, .len = (size_t)w};
        o += (size_t)w + 1;
    }
    h->d.n_merges = n;
    h->d.merges = h->merges;
    return DC_OK;
}

static dc_status check_model(const cJSON *model) {
    if (!cJSON_IsObject(model)) return dc_error(DC_ERR_FORMAT, "tokenizer.json: no model");
    const char *type = json_str(model, "type");
    if (type && strcmp(type, "BPE") != 0)
        return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: model type '%.80s'; deepc reads BPE",
                        type);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback")))
        return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: BPE with byte_fallback");
    const char *affix[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int k = 0; k < 2; k++) {
        const char *s = json_str(model, affix[k]);
        if (s && *s)
            return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: BPE with %s '%.40s'", affix[k], s);
    }
    return DC_OK;
}

/* ---- pre-tokenizer and normalizer ------------------------------------------------------- */

/* A ByteLevel step: no prefix space; *regex = its use_regex flag. */
static dc_status byte_level(const cJSON *p, bool *regex) {
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "add_prefix_space")))
        return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: ByteLevel with add_prefix_space");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(p, "use_regex");
    *regex = !cJSON_IsFalse(r);   /* the library's default is true */
    return DC_OK;
}

static dc_status pick_pre(hf_load *h) {
    const cJSON *pre = cJSON_GetObjectItemCaseSensitive(h->tok, "pre_tokenizer");
    const char *type = json_str(pre, "type");
    if (!type) return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: no pre_tokenizer");
    const cJSON *list = pre;
    int n = 1;
    if (strcmp(type, "Sequence") == 0) {
        list = cJSON_GetObjectItemCaseSensitive(pre, "pretokenizers");
        n = cJSON_GetArraySize(list);
    }
    const char *pats[8];
    int n_pats = 0;
    bool saw_byte_level = false, regex = false;
    for (int i = 0; i < n; i++) {
        const cJSON *p = list == pre ? pre : cJSON_GetArrayItem(list, i);
        const char *pt = json_str(p, "type");
        if (pt && strcmp(pt, "ByteLevel") == 0 && !saw_byte_level) {
            dc_status st = byte_level(p, &regex);
            if (st != DC_OK) return st;
            saw_byte_level = true;
            continue;
        }
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(p, "pattern");
        const char *re = json_str(pat, "Regex"), *beh = json_str(p, "behavior");
        if (!pt || strcmp(pt, "Split") != 0 || saw_byte_level || !re || n_pats == 8 ||
            !beh || strcmp(beh, "Isolated") != 0 ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "invert")))
            return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: pre_tokenizer step %d ('%.40s') is "
                            "not a Split regex (Isolated) before ByteLevel", i, pt ? pt : "?");
        pats[n_pats++] = re;
    }
    if (!saw_byte_level)
        return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: pre_tokenizer without ByteLevel");
    const char *name = NULL;
    if (n_pats == 0 && regex) name = "gpt2";
    else if (n_pats > 0 && !regex) name = dc_pretok_name_for_hf(pats, n_pats);
    if (!name)
        return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: unknown pre-tokenizer (%d Split "
                        "regexes, first '%.60s')", n_pats, n_pats ? pats[0] : "");
    h->d.pre = tstr(name);
    return DC_OK;
}

static dc_status pick_normalizer(hf_load *h) {
    const cJSON *norm = cJSON_GetObjectItemCaseSensitive(h->tok, "normalizer");
    if (!norm || cJSON_IsNull(norm)) return DC_OK;
    const char *type = json_str(norm, "type");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(norm, "normalizers");
    if (type && strcmp(type, "Sequence") == 0 && cJSON_GetArraySize(list) <= 1) {
        if (cJSON_GetArraySize(list) == 0) return DC_OK;
        norm = cJSON_GetArrayItem(list, 0);
        type = json_str(norm, "type");
    }
    if (type && strcmp(type, "NFC") == 0) {
        h->d.normalizer = tstr("NFC");
        return DC_OK;
    }
    return dc_error(DC_ERR_UNSUPPORTED, "tokenizer.json: normalizer '%.40s' (deepc knows NFC)",
                    type ? type : "?");
}

/* ---- tokenizer_config.json --------------------------------------------------------------- */

/* The id of a token named in the config (a string or {"content": ...}). */
static int64_t config_token(const hf_load *h, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(h->cfg, key);
    const char *s = cJSON_IsString(v) ? v->valuestring : json_str(v, "content");
    if (!s) return -1;
    for (int32_t i = 0; i < h->d.n_vocab; i++)
        if (strcmp(h->tokens[i].s, s) == 0) return i;
    DC_LOG_W("tokenizer_config.json: %s '%.80s' is not in the vocabulary", key, s);
    return -1;
}

static void load_config(hf_load *h) {
    if (!h->cfg) return;
    h->d.bos = config_token(h, "bos_token");
    h->d.eos = config_token(h, "eos_token");
    h->d.pad = config_token(h, "pad_token");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(h->cfg, "add_bos_token");
    if (cJSON_IsBool(b)) h->d.add_bos = cJSON_IsTrue(b);
    b = cJSON_GetObjectItemCaseSensitive(h->cfg, "add_eos_token");
    if (cJSON_IsBool(b)) h->d.add_eos = cJSON_IsTrue(b);
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(h->cfg, "chat_template");
    if (cJSON_IsString(ct)) {
        h->d.chat_template = tstr(ct->valuestring);
    } else if (cJSON_IsArray(ct)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, ct) {
            const char *name = json_str(e, "name"), *tpl = json_str(e, "template");
            if (tpl && (!h->d.chat_template.s || (name && strcmp(name, "default") == 0)))
                h->d.chat_template = tstr(tpl);
        }
    }
}

/* ---- entry points ---------------------------------------------------------------------- */

static dc_status hf_read(const char *dir, hf_load *h, char **joined) {
    memset(h, 0, sizeof *h);
    dc_tok_desc_init(&h->d);
    *joined = NULL;
    dc_status st = read_json(dir, "tokenizer.json", true, &h->tok);
    if (st == DC_OK) st = read_json(dir, "tokenizer_config.json", false, &h->cfg);
    if (st != DC_OK) return st;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(h->tok, "model");
    if ((st = check_model(model)) != DC_OK) return st;
    if ((st = load_vocab(h, model)) != DC_OK) return st;
    if ((st = load_merges(h, model, joined)) != DC_OK) return st;
    if ((st = pick_pre(h)) != DC_OK) return st;
    if ((st = pick_normalizer(h)) != DC_OK) return st;
    load_config(h);
    return DC_OK;
}

dc_status dc_tokenizer_from_hf(const char *dir, dc_tokenizer **out) {
    DC_CHECK_ARG(dir && out);
    *out = NULL;
    hf_load h;
    char *joined;
    dc_status st = hf_read(dir, &h, &joined);
    if (st == DC_OK) st = dc_tok_build(&h.d, out);
    hf_free(&h);
    dc_free(joined);
    return st;
}

dc_status dc_hf_tokenizer_to_gguf(const char *dir, dc_gguf_writer *w) {
    DC_CHECK_ARG(dir && w);
    hf_load h;
    char *joined;
    dc_tokenizer *check = NULL;
    dc_status st = hf_read(dir, &h, &joined);
    /* Build it once: write only what deepc itself can load. */
    if (st == DC_OK) st = dc_tok_build(&h.d, &check);
    if (st == DC_OK) st = dc_tok_desc_write(&h.d, w);
    dc_tokenizer_free(check);
    hf_free(&h);
    dc_free(joined);
    return st;
}
