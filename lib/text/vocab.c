/*
 * vocab.c - build a dc_tokenizer from a description (GGUF metadata or HF
 * JSON), the GGUF loader, the GGUF writer of a description, and the
 * read-only properties.
 *
 * Build: every string is copied into one arena (the tokenizer outlives the
 * GGUF it came from); the stored strings go into an open-addressing hash
 * (FNV-1a, load <= 1/2) that refuses duplicates, as llama.cpp does; each
 * merge "left right" (split at the first space after position 0, rank =
 * index) becomes an entry keyed by the two token ids, pointing at the id of
 * left+right, so BPE never builds strings. Merges whose parts or result are
 * not in the vocabulary cannot fire on byte-level input and are dropped
 * (Hugging Face refuses such files outright). Pieces (the bytes a token
 * stands for) are decoded once here, so decoding is a table lookup.
 *
 * Refused: token types outside 0..6, special ids outside the vocabulary,
 * array lengths that disagree, more than INT32_MAX tokens or merges.
 */
#include "text_impl.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MODEL   "tokenizer.ggml.model"
#define KEY_PRE     "tokenizer.ggml.pre"
#define KEY_TOKENS  "tokenizer.ggml.tokens"
#define KEY_TYPES   "tokenizer.ggml.token_type"
#define KEY_MERGES  "tokenizer.ggml.merges"
#define KEY_BOS     "tokenizer.ggml.bos_token_id"
#define KEY_EOS     "tokenizer.ggml.eos_token_id"
#define KEY_EOT     "tokenizer.ggml.eot_token_id"
#define KEY_EOM     "tokenizer.ggml.eom_token_id"
#define KEY_PAD     "tokenizer.ggml.padding_token_id"
#define KEY_ADD_BOS "tokenizer.ggml.add_bos_token"
#define KEY_ADD_EOS "tokenizer.ggml.add_eos_token"
#define KEY_CHAT    "tokenizer.chat_template"

/* Texts of control tokens that end a generation (llama.cpp's list). The
 * first ones, in this order, also name the end-of-turn token when the file
 * gives none. */
static const char *const eog_texts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
    "<\uFF5Cend\u2581of\u2581sentence\uFF5C>",
    "<|eom_id|>", "<|end_of_text|>", "<|EOT|>",
};
#define N_EOT_CANDIDATES 7

void dc_tok_desc_init(dc_tok_desc *d) {
    memset(d, 0, sizeof *d);
    d->bos = d->eos = d->eot = d->eom = d->pad = -1;
    d->add_bos = d->add_eos = -1;
}

/* ---- hashing ------------------------------------------------------------------------ */

static uint64_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static uint64_t hash_key(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ull;
    return k ^ (k >> 33);
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

int32_t dc_tok_find(const dc_tokenizer *t, const char *s, size_t n) {
    size_t i = hash_bytes(s, n) & t->vocab_mask;
    for (;; i = (i + 1) & t->vocab_mask) {
        int32_t id = t->vocab_slots[i];
        if (id < 0) return -1;
        if (t->text_len[id] == n && memcmp(t->texts + t->text_off[id], s, n) == 0) return id;
    }
}

const dc_merge_slot *dc_tok_find_merge(const dc_tokenizer *t, int32_t left, int32_t right) {
    if (!t->merge_slots) return NULL;
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t i = hash_key(key) & t->merge_mask;
    for (;; i = (i + 1) & t->merge_mask) {
        const dc_merge_slot *s = &t->merge_slots[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) return NULL;
    }
}

/* ---- building ------------------------------------------------------------------------ */

static dc_status check_desc(const dc_tok_desc *d) {
    if (d->n_vocab <= 0 || d->n_vocab == INT32_MAX)
        return dc_error(DC_ERR_FORMAT, KEY_TOKENS ": %d tokens", d->n_vocab);
    if (d->n_merges < 0 || d->n_merges > INT32_MAX)
        return dc_error(DC_ERR_FORMAT, KEY_MERGES ": %lld merges", (long long)d->n_merges);
    for (int32_t i = 0; d->types && i < d->n_vocab; i++)
        if (d->types[i] < 0 || d->types[i] > DC_TOKEN_TYPE_BYTE)
            return dc_error(DC_ERR_FORMAT, KEY_TYPES "[%d] = %d: not a token type (0..6)", i,
                            d->types[i]);
    const struct { const char *key; int64_t id; } ids[] = {
        {KEY_BOS, d->bos}, {KEY_EOS, d->eos}, {KEY_EOT, d->eot},
        {KEY_EOM, d->eom}, {KEY_PAD, d->pad},
    };
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++)
        if (ids[k].id < -1 || ids[k].id >= d->n_vocab)
            return dc_error(DC_ERR_FORMAT, "%s = %lld: outside the vocabulary of %d tokens",
                            ids[k].key, (long long)ids[k].id, d->n_vocab);
    return DC_OK;
}

static dc_status copy_texts(dc_tokenizer *t, const dc_tok_desc *d) {
    size_t n = (size_t)d->n_vocab, total = 0;
    for (size_t i = 0; i < n; i++)
        if (!dc_size_add(total, d->tokens[i].len + 1, &total))
            return dc_error(DC_ERR_FORMAT, KEY_TOKENS ": total size overflows");
    t->texts = dc_malloc(total);
    t->pieces = dc_malloc(total);
    t->text_off = dc_calloc(n, sizeof *t->text_off);
    t->text_len = dc_calloc(n, sizeof *t->text_len);
    t->piece_off = dc_calloc(n, sizeof *t->piece_off);
    t->piece_len = dc_calloc(n, sizeof *t->piece_len);
    t->types = dc_calloc(n, 1);
    t->eog = dc_calloc(n, 1);
    if (!t->texts || !t->pieces || !t->text_off || !t->text_len || !t->piece_off ||
        !t->piece_len || !t->types || !t->eog)
        return DC_ERR_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        t->text_off[i] = o;
        t->text_len[i] = d->tokens[i].len;
        if (d->tokens[i].len) memcpy(t->texts + o, d->tokens[i].s, d->tokens[i].len);
        o += d->tokens[i].len;
        t->texts[o++] = '\0';
        t->types[i] = (uint8_t)(d->types ? d->types[i] : DC_TOKEN_TYPE_NORMAL);
    }
    return DC_OK;
}

static dc_status build_vocab_hash(dc_tokenizer *t) {
    size_t cap = pow2_at_least((size_t)t->n_vocab * 2);
    t->vocab_slots = dc_malloc(cap * sizeof *t->vocab_slots);
    if (!t->vocab_slots) return DC_ERR_NOMEM;
    memset(t->vocab_slots, 0xFF, cap * sizeof *t->vocab_slots);   /* all -1 */
    t->vocab_mask = cap - 1;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const char *s = t->texts + t->text_off[id];
        size_t n = t->text_len[id];
        if (n == 0) continue;   /* an empty token can never be looked up */
        int32_t dup = dc_tok_find(t, s, n);
        if (dup >= 0)
            return dc_error(DC_ERR_FORMAT, KEY_TOKENS ": token %d '%.*s' duplicates token %d",
                            id, (int)(n > 80 ? 80 : n), s, dup);
        size_t i = hash_bytes(s, n) & t->vocab_mask;
        while (t->vocab_slots[i] >= 0) i = (i + 1) & t->vocab_mask;
        t->vocab_slots[i] = id;
    }
    return DC_OK;
}

/* "<0xAB>" -> 0xAB, else -1. */
static int byte_token_value(const char *s, size_t n) {
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>') return -1;
    int v = 0;
    for (int k = 3; k < 5; k++) {
        char c = s[k];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (x < 0) return -1;
        v = v * 16 + x;
    }
    return v;
}

/* Decode normal tokens through the byte map; a char outside the map (not
 * possible in a byte-level vocabulary, but files are hostile) is kept. */
static void build_pieces(dc_tokenizer *t) {
    size_t o = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        const uint8_t *s = (const uint8_t *)t->texts + t->text_off[id];
        size_t n = t->text_len[id];
        uint8_t type = t->types[id];
        int bv = type == DC_TOKEN_TYPE_BYTE ? byte_token_value((const char *)s, n) : -1;
        t->piece_off[id] = o;
        if (bv >= 0) {
            t->pieces[o++] = (char)bv;
        } else if (type == DC_TOKEN_TYPE_NORMAL || type == DC_TOKEN_TYPE_UNDEFINED) {
            for (size_t i = 0; i < n;) {
                int l = dc_utf8_valid_len(s + i, n - i);
                int b = l > 0 ? dc_cp_to_byte(dc_utf8_decode(s + i, l)) : -1;
                if (l == 0) l = 1;
                if (b >= 0) {
                    t->pieces[o++] = (char)b;
                } else {
                    memcpy(t->pieces + o, s + i, (size_t)l);
                    o += (size_t)l;
                }
                i += (size_t)l;
            }
        } else {
            if (n) memcpy(t->pieces + o, s, n);
            o += n;
        }
        t->piece_len[id] = o - t->piece_off[id];
    }
}

static void build_byte_tokens(dc_tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        uint8_t u[4];
        int l = dc_utf8_encode(dc_byte_to_cp((uint8_t)b), u);
        t->byte_tok[b] = dc_tok_find(t, (const char *)u, (size_t)l);
    }
}

/* Insert merge (left, right) -> id of rank; an earlier (lower) rank wins. */
static void merge_insert(dc_tokenizer *t, int32_t left, int32_t right, int32_t id, int32_t rank) {
    uint64_t key = (uint64_t)(uint32_t)left << 32 | (uint32_t)right;
    size_t i = hash_key(key) & t->merge_mask;
    while (t->merge_slots[i].key != UINT64_MAX) {
        if (t->merge_slots[i].key == key) return;
        i = (i + 1) & t->merge_mask;
    }
    t->merge_slots[i] = (dc_merge_slot){.key = key, .rank = rank, .id = id};
}

static dc_status build_merges(dc_tokenizer *t, const dc_tok_desc *d) {
    if (d->n_merges == 0) return DC_OK;
    size_t cap = pow2_at_least((size_t)d->n_merges * 2), maxlen = 0;
    t->merge_slots = dc_malloc(cap * sizeof *t->merge_slots);
    if (!t->merge_slots) return DC_ERR_NOMEM;
    memset(t->merge_slots, 0xFF, cap * sizeof *t->merge_slots);   /* keys UINT64_MAX */
    t->merge_mask = cap - 1;
    for (int64_t r = 0; r < d->n_merges; r++)
        if (d->merges[r].len > maxlen) maxlen = d->merges[r].len;
    char *joined = dc_malloc(maxlen + 1);
    if (!joined) return DC_ERR_NOMEM;
    int64_t dropped = 0;
    for (int64_t r = 0; r < d->n_merges; r++) {
        const char *s = d->merges[r].s;
        size_t n = d->merges[r].len, sp = 1;
        while (sp < n && s[sp] != ' ') sp++;
        if (sp + 1 >= n) {   /* no space after position 0, or nothing after it */
            dc_free(joined);
            return dc_error(DC_ERR_FORMAT, KEY_MERGES "[%lld] '%.*s': not \"left right\"",
                            (long long)r, (int)(n > 80 ? 80 : n), s ? s : "");
        }
        memcpy(joined, s, sp);
        memcpy(joined + sp, s + sp + 1, n - sp - 1);
        int32_t l = dc_tok_find(t, s, sp), rr = dc_tok_find(t, s + sp + 1, n - sp - 1);
        int32_t m = dc_tok_find(t, joined, n - 1);
        if (l < 0 || rr < 0 || m < 0) {
            dropped++;
            continue;
        }
        merge_insert(t, l, rr, m, (int32_t)r);
    }
    dc_free(joined);
    if (dropped)
        DC_LOG_D("tokenizer: %lld merges name tokens outside the vocabulary; dropped",
                 (long long)dropped);
    return DC_OK;
}

typedef struct special_key {
    uint8_t first;
    size_t  len;
    int32_t id;
} special_key;

static int special_cmp(const void *a, const void *b) {
    const special_key *x = a, *y = b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    if (x->len != y->len) return x->len > y->len ? -1 : 1;   /* longest first */
    return x->id < y->id ? -1 : x->id > y->id;
}

static dc_status build_specials(dc_tokenizer *t) {
    int32_t n = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        uint8_t ty = t->types[id];
        if ((ty == DC_TOKEN_TYPE_CONTROL || ty == DC_TOKEN_TYPE_USER_DEFINED ||
             ty == DC_TOKEN_TYPE_UNKNOWN) && t->text_len[id] > 0)
            n++;
    }
    special_key *keys = dc_calloc((size_t)n + 1, sizeof *keys);
    t->specials = dc_calloc((size_t)n + 1, sizeof *t->specials);
    if (!keys || !t->specials) {
        dc_free(keys);
        return DC_ERR_NOMEM;
    }
    int32_t k = 0;
    for (int32_t id = 0; id < t->n_vocab; id++) {
        uint8_t ty = t->types[id];
        if ((ty == DC_TOKEN_TYPE_CONTROL || ty == DC_TOKEN_TYPE_USER_DEFINED ||
             ty == DC_TOKEN_TYPE_UNKNOWN) && t->text_len[id] > 0)
            keys[k++] = (special_key){(uint8_t)t->texts[t->text_off[id]], t->text_len[id], id};
    }
    qsort(keys, (size_t)n, sizeof *keys, special_cmp);
    int32_t i = 0;
    for (int b = 0; b < 256; b++) {
        t->special_first[b] = i;
        while (i < n && keys[i].first == b) {
            t->specials[i] = keys[i].id;
            i++;
        }
    }
    t->special_first[256] = n;
    dc_free(keys);
    return DC_OK;
}

static void build_eog(dc_tokenizer *t, const dc_tok_desc *d) {
    const size_t n_names = sizeof eog_texts / sizeof eog_texts[0];
    t->eot = (dc_token)d->eot;
    for (size_t k = 0; k < n_names; k++) {
        int32_t id = dc_tok_find(t, eog_texts[k], strlen(eog_texts[k]));
        if (id < 0 || t->types[id] == DC_TOKEN_TYPE_NORMAL) continue;
        t->eog[id] = 1;
        if (t->eot < 0 && k < N_EOT_CANDIDATES) t->eot = id;
    }
    const dc_token ids[] = {t->eos, t->eot, t->eom};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++)
        if (ids[k] >= 0) t->eog[ids[k]] = 1;
}

static dc_status setup_pipeline(dc_tokenizer *t, const dc_tok_desc *d) {
    const char *pre = d->pre.s;
    size_t pre_len = d->pre.len;
    if (!pre) {
        DC_LOG_W("tokenizer: no " KEY_PRE " key; using the GPT-2 regex (quality may suffer)");
        pre = "gpt2";
        pre_len = 4;
    }
    dc_status st = dc_pretok_create(pre, pre_len, &t->pretok, &t->pre);
    if (st != DC_OK) return st;
    t->ignore_merges = dc_pretok_ignore_merges(t->pretok);
    if (d->normalizer.s && d->normalizer.len > 0) {
        if (d->normalizer.len != 3 || memcmp(d->normalizer.s, "NFC", 3) != 0)
            return dc_error(DC_ERR_UNSUPPORTED, DC_TOK_KEY_NORMALIZER ": unknown normalizer '%.*s'",
                            (int)(d->normalizer.len > 80 ? 80 : d->normalizer.len),
                            d->normalizer.s);
        t->nfc = true;
    }
    t->bos = (dc_token)d->bos;
    t->eos = (dc_token)d->eos;
    t->eom = (dc_token)d->eom;
    t->add_bos = d->add_bos >= 0 ? d->add_bos != 0 : strcmp(t->pre, "llama3") == 0;
    t->add_eos = d->add_eos > 0;
    if (t->add_bos && t->bos < 0) {
        DC_LOG_W("tokenizer: BOS requested but the file names no BOS token; not adding one");
        t->add_bos = false;
    }
    if (t->add_eos && t->eos < 0) t->add_eos = false;
    return DC_OK;
}

dc_status dc_tok_build(const dc_tok_desc *d, dc_tokenizer **out) {
    DC_CHECK_ARG(d && out && d->tokens);
    *out = NULL;
    dc_status st = check_desc(d);
    if (st != DC_OK) return st;
    dc_tokenizer *t = dc_calloc(1, sizeof *t);
    if (!t) return DC_ERR_NOMEM;
    t->n_vocab = d->n_vocab;
    if ((st = copy_texts(t, d)) != DC_OK) goto fail;
    if ((st = build_vocab_hash(t)) != DC_OK) goto fail;
    build_pieces(t);
    build_byte_tokens(t);
    if ((st = build_merges(t, d)) != DC_OK) goto fail;
    if ((st = build_specials(t)) != DC_OK) goto fail;
    if ((st = setup_pipeline(t, d)) != DC_OK) goto fail;
    build_eog(t, d);
    *out = t;
    return DC_OK;
fail:
    dc_tokenizer_free(t);
    return st;
}

void dc_tokenizer_free(dc_tokenizer *t) {
    if (!t) return;
    dc_pretok_free(t->pretok);
    dc_free(t->texts);
    dc_free(t->text_off);
    dc_free(t->text_len);
    dc_free(t->pieces);
    dc_free(t->piece_off);
    dc_free(t->piece_len);
    dc_free(t->types);
    dc_free(t->eog);
    dc_free(t->vocab_slots);
    dc_free(t->merge_slots);
    dc_free(t->specials);
    dc_free(t);
}

/* ---- GGUF ------------------------------------------------------------------------------ */

/* A string array as borrowed strings; *v is dc_malloc'd. */
static dc_status read_str_array(const dc_gguf *g, const char *key, dc_tok_str **v, uint64_t *n) {
    dc_gguf_type et;
    dc_status st = dc_gguf_get_arr_info(g, key, &et, n);
    if (st != DC_OK) return st;
    if (et != DC_GGUF_STRING)
        return dc_error(DC_ERR_FORMAT, "%s: array of %s, want string", key, dc_gguf_type_name(et));
    if (*n > INT32_MAX - 1) return dc_error(DC_ERR_FORMAT, "%s: %llu entries", key,
                                            (unsigned long long)*n);
    *v = dc_calloc(*n ? *n : 1, sizeof **v);
    if (!*v) return DC_ERR_NOMEM;
    for (uint64_t i = 0; i < *n; i++)
        if ((st = dc_gguf_get_arr_str(g, key, i, &(*v)[i].s, &(*v)[i].len)) != DC_OK) return st;
    return DC_OK;
}

static dc_status read_types(const dc_gguf *g, uint64_t n_vocab, int32_t **types) {
    dc_gguf_type et;
    uint64_t n;
    const void *data;
    dc_status st = dc_gguf_get_arr_info(g, KEY_TYPES, &et, &n);
    if (st == DC_ERR_NOT_FOUND) return DC_OK;   /* all normal */
    if (st != DC_OK) return st;
    if (et != DC_GGUF_I32 && et != DC_GGUF_U32)
        return dc_error(DC_ERR_FORMAT, KEY_TYPES ": array of %s, want i32", dc_gguf_type_name(et));
    if (n != n_vocab)
        return dc_error(DC_ERR_FORMAT, KEY_TYPES ": %llu entries for %llu tokens",
                        (unsigned long long)n, (unsigned long long)n_vocab);
    if ((st = dc_gguf_get_arr_data(g, KEY_TYPES, &data)) != DC_OK) return st;
    *types = dc_calloc(n ? n : 1, sizeof **types);
    if (!*types) return DC_ERR_NOMEM;
    memcpy(*types, data, n * sizeof **types);   /* little-endian file, little-endian host */
    return DC_OK;
}

/* Optional scalar keys: absent keeps the default; a wrong type is an error. */
static dc_status read_id(const dc_gguf *g, const char *key, int64_t *id) {
    uint32_t v;
    dc_status st = dc_gguf_get_u32(g, key, &v);
    if (st == DC_OK) *id = v;
    return st == DC_ERR_NOT_FOUND ? DC_OK : st;
}

static dc_status read_bool(const dc_gguf *g, const char *key, int *b) {
    bool v;
    dc_status st = dc_gguf_get_bool(g, key, &v);
    if (st == DC_OK) *b = v;
    return st == DC_ERR_NOT_FOUND ? DC_OK : st;
}

static dc_status read_str(const dc_gguf *g, const char *key, dc_tok_str *s) {
    dc_status st = dc_gguf_get_str(g, key, &s->s, &s->len);
    return st == DC_ERR_NOT_FOUND ? DC_OK : st;
}

static dc_status read_model_kind(const dc_gguf *g) {
    const char *s;
    size_t n;
    dc_status st = dc_gguf_get_str(g, KEY_MODEL, &s, &n);
    if (st == DC_ERR_NOT_FOUND) return dc_error(st, KEY_MODEL ": missing (no tokenizer)");
    if (st != DC_OK) return st;
    if (n != 4 || memcmp(s, "gpt2", 4) != 0)
        return dc_error(DC_ERR_UNSUPPORTED, KEY_MODEL " = '%.*s': deepc reads byte-level BPE "
                        "('gpt2') only", (int)(n > 80 ? 80 : n), s);
    return DC_OK;
}

dc_status dc_tokenizer_from_gguf(const dc_gguf *g, dc_tokenizer **out) {
    DC_CHECK_ARG(g && out);
    *out = NULL;
    dc_tok_desc d;
    dc_tok_desc_init(&d);
    dc_tok_str *tokens = NULL, *merges = NULL;
    int32_t *types = NULL;
    uint64_t n_tokens = 0, n_merges = 0;
    dc_status st = read_model_kind(g);
    if (st == DC_OK) st = read_str_array(g, KEY_TOKENS, &tokens, &n_tokens);
    if (st == DC_OK) st = read_types(g, n_tokens, &types);
    if (st == DC_OK) {
        st = read_str_array(g, KEY_MERGES, &merges, &n_merges);
        if (st == DC_ERR_NOT_FOUND) {
            st = DC_OK;
            n_merges = 0;
        }
    }
    if (st == DC_OK) st = read_id(g, KEY_BOS, &d.bos);
    if (st == DC_OK) st = read_id(g, KEY_EOS, &d.eos);
    if (st == DC_OK) st = read_id(g, KEY_EOT, &d.eot);
    if (st == DC_OK) st = read_id(g, KEY_EOM, &d.eom);
    if (st == DC_OK) st = read_id(g, KEY_PAD, &d.pad);
    if (st == DC_OK) st = read_bool(g, KEY_ADD_BOS, &d.add_bos);
    if (st == DC_OK) st = read_bool(g, KEY_ADD_EOS, &d.add_eos);
    if (st == DC_OK) st = read_str(g, KEY_PRE, &d.pre);
    if (st == DC_OK) st = read_str(g, DC_TOK_KEY_NORMALIZER, &d.normalizer);
    if (st == DC_OK) {
        d.n_vocab = (int32_t)n_tokens;
        d.tokens = tokens;
        d.types = types;
        d.n_merges = (int64_t)n_merges;
        d.merges = merges;
        st = dc_tok_build(&d, out);
    }
    dc_free(tokens);
    dc_free(types);
    dc_free(merges);
    return st;
}

/* ---- writing a description ---------------------------------------------------------- */

static dc_status set_str_n(dc_gguf_writer *w, const char *key, dc_tok_str s) {
    char *c = dc_malloc(s.len + 1);
    if (!c) return DC_ERR_NOMEM;
    if (s.len) memcpy(c, s.s, s.len);
    c[s.len] = '\0';
    dc_status st = dc_gguf_set_str(w, key, c);
    dc_free(c);
    return st;
}

static dc_status set_str_arr(dc_gguf_writer *w, const char *key, const dc_tok_str *v, int64_t n) {
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) total += v[i].len + 1;
    char *arena = dc_malloc(total ? total : 1);
    const char **ptrs = dc_calloc(n ? (size_t)n : 1, sizeof *ptrs);
    dc_status st = DC_ERR_NOMEM;
    if (arena && ptrs) {
        size_t o = 0;
        for (int64_t i = 0; i < n; i++) {
            ptrs[i] = arena + o;
            if (v[i].len) memcpy(arena + o, v[i].s, v[i].len);
            o += v[i].len;
            arena[o++] = '\0';
        }
        st = dc_gguf_set_arr_str(w, key, ptrs, (uint64_t)n);
    }
    dc_free(arena);
    dc_free(ptrs);
    return st;
}

dc_status dc_tok_desc_write(const dc_tok_desc *d, dc_gguf_writer *w) {
    DC_CHECK_ARG(d && w && d->tokens && d->n_vocab > 0);
    dc_status st = dc_gguf_set_str(w, KEY_MODEL, "gpt2");
    if (st == DC_OK && d->pre.s) st = set_str_n(w, KEY_PRE, d->pre);
    if (st == DC_OK) st = set_str_arr(w, KEY_TOKENS, d->tokens, d->n_vocab);
    if (st == DC_OK && d->types)
        st = dc_gguf_set_arr(w, KEY_TYPES, DC_GGUF_I32, d->types, (uint64_t)d->n_vocab);
    if (st == DC_OK) st = set_str_arr(w, KEY_MERGES, d->merges, d->n_merges);
    const struct { const char *key; int64_t id; } ids[] = {
        {KEY_BOS, d->bos}, {KEY_EOS, d->eos}, {KEY_EOT, d->eot},
        {KEY_EOM, d->eom}, {KEY_PAD, d->pad},
    };
    for (size_t k = 0; st == DC_OK && k < sizeof ids / sizeof ids[0]; k++)
        if (ids[k].id >= 0) st = dc_gguf_set_u32(w, ids[k].key, (uint32_t)ids[k].id);
    if (st == DC_OK && d->add_bos >= 0) st = dc_gguf_set_bool(w, KEY_ADD_BOS, d->add_bos != 0);
    if (st == DC_OK && d->add_eos >= 0) st = dc_gguf_set_bool(w, KEY_ADD_EOS, d->add_eos != 0);
    if (st == DC_OK && d->chat_template.s) st = set_str_n(w, KEY_CHAT, d->chat_template);
    if (st == DC_OK && d->normalizer.s) st = set_str_n(w, DC_TOK_KEY_NORMALIZER, d->normalizer);
    return st;
}

/* ---- properties ------------------------------------------------------------------------ */

int32_t dc_tokenizer_n_vocab(const dc_tokenizer *t) { return t ? t->n_vocab : 0; }
dc_token dc_tokenizer_bos(const dc_tokenizer *t) { return t ? t->bos : -1; }
dc_token dc_tokenizer_eos(const dc_tokenizer *t) { return t ? t->eos : -1; }
dc_token dc_tokenizer_eot(const dc_tokenizer *t) { return t ? t->eot : -1; }
bool dc_tokenizer_add_bos(const dc_tokenizer *t) { return t && t->add_bos; }
bool dc_tokenizer_add_eos(const dc_tokenizer *t) { return t && t->add_eos; }
const char *dc_tokenizer_pre(const dc_tokenizer *t) { return t ? t->pre : ""; }

bool dc_tokenizer_is_eog(const dc_tokenizer *t, dc_token token) {
    return t && token >= 0 && token < t->n_vocab && t->eog[token];
}

dc_token_type dc_tokenizer_token_type(const dc_tokenizer *t, dc_token token) {
    if (!t || token < 0 || token >= t->n_vocab) return DC_TOKEN_TYPE_UNDEFINED;
    return (dc_token_type)t->types[token];
}

const char *dc_tokenizer_token_text(const dc_tokenizer *t, dc_token token) {
    if (!t || token < 0 || token >= t->n_vocab) return NULL;
    return t->texts + t->text_off[token];
}

dc_token dc_tokenizer_lookup(const dc_tokenizer *t, const char *text, size_t len) {
    if (!t || !text || len == 0) return -1;
    int32_t id = dc_tok_find(t, text, len);
    if (id >= 0 && t->types[id] != DC_TOKEN_TYPE_NORMAL && t->types[id] != DC_TOKEN_TYPE_UNDEFINED)
        return id;
    /* A normal token is stored byte-mapped: map the bytes and look again. */
    if (len > ((size_t)-1) / 2 - 1) return -1;
    char *mapped = dc_malloc(len * 2);
    if (!mapped) return -1;
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        o += (size_t)dc_utf8_encode(dc_byte_to_cp((uint8_t)text[i]), (uint8_t *)mapped + o);
    id = dc_tok_find(t, mapped, o);
    dc_free(mapped);
    if (id >= 0 && (t->types[id] == DC_TOKEN_TYPE_NORMAL || t->types[id] == DC_TOKEN_TYPE_UNDEFINED))
        return id;
    return -1;
}
