/*
 * tokenizer.c - text -> token ids: special-token split, normalization,
 * pre-tokenization, byte-level BPE.
 *
 * Pipeline (spec/fp8-gguf.md §3.3, and the Hugging Face tokenizers order):
 *  1. invalid UTF-8 bytes become U+FFFD (byte_map.c);
 *  2. special tokens are cut out: scanning left to right, at each position
 *     the longest allowed special token that starts there is taken
 *     (leftmost-longest, what HF's added-token matcher does; for the
 *     non-overlapping token sets of real vocabularies this equals
 *     llama.cpp's longest-token-first search);
 *  3. each text run between them is NFC-normalized if the tokenizer asks,
 *     split by the pre-tokenizer (pretok.c) into words;
 *  4. each word is BPE-merged: one symbol per byte (its byte-mapped
 *     one-char token), then repeatedly the adjacent pair with the lowest
 *     merge rank is merged, the leftmost on ties. Candidate pairs sit in a
 *     binary min-heap keyed (rank, position); a popped pair whose symbols
 *     changed since it was pushed is stale and skipped (a symbol's id only
 *     grows longer, so comparing ids detects any change). O(n log n) per
 *     word, no recursion, so a 1 MB word is fine.
 * With ignore_merges (llama3) a word that is itself a vocabulary entry is
 * emitted whole. Symbols whose byte has no token are dropped, as llama.cpp
 * does (never happens with a byte-level vocabulary).
 *
 * The tokenizer is read-only here; all scratch memory belongs to the call.
 */
#include "text_impl.h"

#include <string.h>

/* ---- output ----------------------------------------------------------------------- */

/* Tokens past cap are counted, not stored (the two-call sizing contract). */
typedef struct emitter {
    dc_token *out;
    int64_t   cap;
    int64_t   n;
} emitter;

static void emit(emitter *em, dc_token id) {
    if (em->out && em->n < em->cap) em->out[em->n] = id;
    em->n++;
}

/* ---- per-call scratch ------------------------------------------------------------- */

typedef struct bpe_sym {
    int32_t id;      /* token id of the symbol's bytes, -1 if none            */
    int32_t prev;    /* neighbours in the word, -1 at the ends                */
    int32_t next;
    int32_t dead;    /* merged into its left neighbour                        */
} bpe_sym;

typedef struct bpe_pair {
    int32_t rank;
    int32_t left;    /* position of the left symbol                           */
    int32_t left_id, right_id, new_id;
} bpe_pair;

typedef struct scratch {
    dc_spans  frags, tmp;
    bpe_sym  *syms;
    size_t    syms_cap;
    bpe_pair *heap;
    size_t    heap_n, heap_cap;
    char     *mapped;      /* byte-mapped word, for ignore_merges lookups    */
    size_t    mapped_cap;
} scratch;

static void scratch_free(scratch *s) {
    dc_spans_free(&s->frags);
    dc_spans_free(&s->tmp);
    dc_free(s->syms);
    dc_free(s->heap);
    dc_free(s->mapped);
}

static dc_status grow(void **p, size_t *cap, size_t want, size_t elem) {
    if (want <= *cap) return DC_OK;
    size_t c = *cap ? *cap : 64;
    while (c < want) c *= 2;
    void *q = dc_realloc(*p, c * elem);
    if (!q) return DC_ERR_NOMEM;
    *p = q;
    *cap = c;
    return DC_OK;
}

/* ---- the pair heap ----------------------------------------------------------------- */

static bool pair_less(const bpe_pair *a, const bpe_pair *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static dc_status heap_push(scratch *s, bpe_pair p) {
    dc_status st = grow((void **)&s->heap, &s->heap_cap, s->heap_n + 1, sizeof *s->heap);
    if (st != DC_OK) return st;
    size_t i = s->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pair_less(&p, &s->heap[parent])) break;
        s->heap[i] = s->heap[parent];
        i = parent;
    }
    s->heap[i] = p;
    return DC_OK;
}

static bpe_pair heap_pop(scratch *s) {
    bpe_pair top = s->heap[0];
    bpe_pair last = s->heap[--s->heap_n];
    size_t i = 0, n = s->heap_n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_less(&s->heap[c + 1], &s->heap[c])) c++;
        if (!pair_less(&s->heap[c], &last)) break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (n > 0) s->heap[i] = last;
    return top;
}

/* ---- BPE ------------------------------------------------------------------------------ */

/* Push the pair (left, its right neighbour) if a merge exists for it. */
static dc_status try_pair(const dc_tokenizer *t, scratch *s, int32_t left) {
    int32_t right = s->syms[left].next;
    if (right < 0) return DC_OK;
    int32_t a = s->syms[left].id, b = s->syms[right].id;
    if (a < 0 || b < 0) return DC_OK;
    const dc_merge_slot *m = dc_tok_find_merge(t, a, b);
    if (!m) return DC_OK;
    bpe_pair p = {.rank = m->rank, .left = left, .left_id = a, .right_id = b, .new_id = m->id};
    return heap_push(s, p);
}

/* With ignore_merges: the id of the whole word if the vocabulary has it. */
static dc_status whole_word(const dc_tokenizer *t, scratch *s, const uint8_t *w, size_t n,
                            int32_t *id) {
    *id = -1;
    dc_status st = grow((void **)&s->mapped, &s->mapped_cap, 2 * n, 1);
    if (st != DC_OK) return st;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)dc_utf8_encode(dc_byte_to_cp(w[i]), (uint8_t *)s->mapped + o);
    *id = dc_tok_find(t, s->mapped, o);
    return DC_OK;
}

static dc_status bpe_word(const dc_tokenizer *t, scratch *s, const uint8_t *w, size_t n,
                          emitter *em) {
    if (n == 0) return DC_OK;
    if (n > INT32_MAX) return dc_error(DC_ERR_INVALID_ARG, "tokenize: a %zu-byte word", n);
    dc_status st;
    if (t->ignore_merges) {
        int32_t id;
        if ((st = whole_word(t, s, w, n, &id)) != DC_OK) return st;
        if (id >= 0) {
            emit(em, id);
            return DC_OK;
        }
    }
    if ((st = grow((void **)&s->syms, &s->syms_cap, n, sizeof *s->syms)) != DC_OK) return st;
    for (size_t i = 0; i < n; i++)
        s->syms[i] = (bpe_sym){.id = t->byte_tok[w[i]], .prev = (int32_t)i - 1,
                               .next = i + 1 < n ? (int32_t)i + 1 : -1};
    s->heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if ((st = try_pair(t, s, (int32_t)i)) != DC_OK) return st;
    while (s->heap_n > 0) {
        bpe_pair p = heap_pop(s);
        bpe_sym *l = &s->syms[p.left];
        if (l->dead || l->next < 0 || l->id != p.left_id) continue;   /* stale */
        bpe_sym *r = &s->syms[l->next];
        if (r->id != p.right_id) continue;                             /* stale */
        l->id = p.new_id;
        r->dead = 1;
        l->next = r->next;
        if (l->next >= 0) s->syms[l->next].prev = p.left;
        if (l->prev >= 0 && (st = try_pair(t, s, l->prev)) != DC_OK) return st;
        if ((st = try_pair(t, s, p.left)) != DC_OK) return st;
    }
    for (int32_t i = 0; i >= 0; i = s->syms[i].next)
        if (s->syms[i].id >= 0) emit(em, s->syms[i].id);
    return DC_OK;
}

/* ---- text runs between special tokens ------------------------------------------------ */

static dc_status encode_run(const dc_tokenizer *t, scratch *s, const char *text, size_t n,
                            emitter *em) {
    char *norm = NULL;
    if (t->nfc) {
        size_t nn;
        dc_status st = dc_nfc(text, n, &norm, &nn);
        if (st != DC_OK) return st;
        text = norm;
        n = nn;
    }
    dc_status st = dc_pretok_split(t->pretok, text, n, &s->frags, &s->tmp);
    for (size_t i = 0; st == DC_OK && i < s->frags.n; i++)
        st = bpe_word(t, s, (const uint8_t *)text + s->frags.v[i].off, s->frags.v[i].len, em);
    dc_free(norm);
    return st;
}

/* The longest allowed special token at s[0..n), or -1. */
static int32_t match_special(const dc_tokenizer *t, const uint8_t *s, size_t n,
                             bool parse_special) {
    for (int32_t k = t->special_first[s[0]]; k < t->special_first[s[0] + 1]; k++) {
        int32_t id = t->specials[k];
        size_t len = t->text_len[id];
        if (len > n || memcmp(t->texts + t->text_off[id], s, len) != 0) continue;
        if (parse_special || t->types[id] == DC_TOKEN_TYPE_USER_DEFINED) return id;
    }
    return -1;
}

static dc_status encode_text(const dc_tokenizer *t, const uint8_t *s, size_t n,
                             bool parse_special, emitter *em) {
    scratch sc = {0};
    dc_status st = DC_OK;
    size_t start = 0;
    for (size_t i = 0; i < n && st == DC_OK;) {
        int32_t id = t->special_first[256] > 0 ? match_special(t, s + i, n - i, parse_special) : -1;
        if (id < 0) {
            int l = dc_utf8_valid_len(s + i, n - i);
            i += (size_t)(l > 0 ? l : 1);
            continue;
        }
        if (i > start) st = encode_run(t, &sc, (const char *)s + start, i - start, em);
        emit(em, id);
        i += t->text_len[id];
        start = i;
    }
    if (st == DC_OK && start < n) st = encode_run(t, &sc, (const char *)s + start, n - start, em);
    scratch_free(&sc);
    return st;
}

dc_status dc_tokenize(const dc_tokenizer *t, const char *text, size_t len, bool add_bos,
                      bool parse_special, dc_token *out, int32_t cap, int32_t *n_out) {
    DC_CHECK_ARG(t && n_out && (text || len == 0) && (cap >= 0 || !out));
    *n_out = 0;
    if (add_bos && t->bos < 0)
        return dc_error(DC_ERR_INVALID_ARG, "dc_tokenize: BOS requested, the tokenizer has none");
    const uint8_t *src = (const uint8_t *)text;
    uint8_t *fixed = NULL;
    size_t n = len, bad = dc_utf8_count_invalid(src, len);
    if (bad) {
        /* Each invalid byte becomes the three bytes of U+FFFD. */
        size_t sz;
        if (!dc_size_mul(bad, 2, &sz) || !dc_size_add(sz, len, &sz))
            return dc_error(DC_ERR_INVALID_ARG, "dc_tokenize: text too long");
        /* Zeroed up to the 64-byte padding: PCRE2's JIT reads aligned
         * blocks that may pass the subject's end (harmless, never across a
         * page), which memory checkers report for never-written bytes. */
        if (!(fixed = dc_calloc(1, dc_pad(sz, DC_ALIGN)))) return DC_ERR_NOMEM;
        n = dc_utf8_sanitize(src, len, fixed);
        src = fixed;
    }
    emitter em = {.out = out, .cap = out ? cap : 0, .n = 0};
    if (add_bos) emit(&em, t->bos);
    dc_status st = encode_text(t, src, n, parse_special, &em);
    dc_free(fixed);
    if (st != DC_OK) return st;
    if (em.n > INT32_MAX)
        return dc_error(DC_ERR_INVALID_ARG, "dc_tokenize: %lld tokens exceed INT32_MAX",
                        (long long)em.n);
    *n_out = (int32_t)em.n;
    if (out && em.n > cap)
        return dc_error(DC_ERR_INVALID_ARG, "dc_tokenize: the text needs %lld tokens, cap is %d",
                        (long long)em.n, cap);
    return DC_OK;
}
