/*
 * text_impl.h - internals shared by lib/text: the tokenizer object, the
 * description both loaders fill (GGUF metadata, Hugging Face JSON), the
 * pre-tokenizer, UTF-8 and byte-map helpers, and the NFC step.
 *
 * Build path: a loader fills a dc_tok_desc (borrowed pointers into the GGUF
 * mapping or the parsed JSON) and dc_tok_build() turns it into a
 * self-contained dc_tokenizer (all strings copied), so the same checks and
 * tables serve both sources. The converter writes the same description to a
 * GGUF writer (dc_tok_desc_write), which keeps "convert then load" and "load
 * from HF" identical by construction.
 */
#ifndef DEEPC_TEXT_IMPL_H
#define DEEPC_TEXT_IMPL_H

#include "deepc/tokenizer.h"
#include "../core/core_impl.h"

/* deepc's own metadata key: the normalizer the HF tokenizer applies before
 * pre-tokenizing ("NFC"; absent = none). llama.cpp has no such key. */
#define DC_TOK_KEY_NORMALIZER "deepc.tokenizer.normalizer"

/* ---- description (what a loader found) ------------------------------------------ */

typedef struct dc_tok_str {
    const char *s;     /* not NUL-terminated; may be NULL when len is 0 */
    size_t      len;
} dc_tok_str;

typedef struct dc_tok_desc {
    int32_t           n_vocab;
    const dc_tok_str *tokens;      /* [n_vocab]                                */
    const int32_t    *types;       /* [n_vocab] dc_token_type, or NULL (normal) */
    int64_t           n_merges;
    const dc_tok_str *merges;      /* [n_merges] "left right", rank = index     */
    dc_tok_str        pre;         /* s == NULL: key missing                    */
    dc_tok_str        normalizer;  /* s == NULL: none                           */
    dc_tok_str        chat_template; /* s == NULL: none (converter only)        */
    int64_t           bos, eos, eot, eom, pad; /* -1: none                    */
    int               add_bos, add_eos;        /* -1: not given                */
} dc_tok_desc;

void      dc_tok_desc_init(dc_tok_desc *d);
/* Validate d and build the tokenizer; errors name the offending key/id. */
dc_status dc_tok_build(const dc_tok_desc *d, dc_tokenizer **out);
/* Write d as tokenizer.ggml.* metadata (model "gpt2"). */
dc_status dc_tok_desc_write(const dc_tok_desc *d, dc_gguf_writer *w);

/* ---- the tokenizer (built by vocab.c, read by tokenizer.c and detok.c) ------------ */

/* A merge: the pair (left id, right id) of rank `rank` makes token `id`. */
typedef struct dc_merge_slot {
    uint64_t key;     /* (uint64_t)left << 32 | right; UINT64_MAX = empty slot */
    int32_t  rank;
    int32_t  id;
} dc_merge_slot;

struct dc_tokenizer {
    int32_t        n_vocab;
    /* Stored token strings (byte-mapped for normal tokens), each followed
     * by a NUL, and the bytes each token stands for. */
    char          *texts;       /* [sum of text_len + 1]                      */
    size_t        *text_off;    /* [n_vocab]                                  */
    size_t        *text_len;    /* [n_vocab]                                  */
    char          *pieces;      /* [sum of piece_len]                         */
    size_t        *piece_off;   /* [n_vocab]                                  */
    size_t        *piece_len;   /* [n_vocab]                                  */
    uint8_t       *types;       /* [n_vocab] dc_token_type                    */
    uint8_t       *eog;         /* [n_vocab] 1 = ends generation              */
    /* Open-addressing hash of stored strings -> id (-1 = empty slot). */
    int32_t       *vocab_slots; /* [vocab_mask + 1]                          */
    size_t         vocab_mask;
    /* Open-addressing hash of merges by id pair. */
    dc_merge_slot *merge_slots; /* [merge_mask + 1]                          */
    size_t         merge_mask;
    int32_t        byte_tok[256];  /* id of each byte's one-char token, -1 */
    /* CONTROL / USER_DEFINED / UNKNOWN tokens, grouped by first byte and
     * longest first inside a group: specials[special_first[b] ..
     * special_first[b + 1]) start with byte b. */
    int32_t       *specials;
    int32_t        special_first[257];
    dc_token       bos, eos, eot, eom;
    bool           add_bos, add_eos;
    bool           nfc;            /* NFC each text piece before splitting  */
    bool           ignore_merges;  /* emit whole-vocab words unmerged        */
    const char    *pre;            /* canonical pre-tokenizer name (static)  */
    struct dc_pretok *pretok;
};

/* Id of the stored string s[0..n), or -1. */
int32_t dc_tok_find(const dc_tokenizer *t, const char *s, size_t n);
/* Merge of the pair (left, right): its slot, or NULL. */
const dc_merge_slot *dc_tok_find_merge(const dc_tokenizer *t, int32_t left, int32_t right);

/* ---- UTF-8 and the GPT-2 byte map (byte_map.c) ---------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when s[0]
 * does not start one (bad lead, bad continuation, overlong, surrogate,
 * > U+10FFFF, or cut short by n). */
int    dc_utf8_valid_len(const uint8_t *s, size_t n);
/* Bytes of s[0..n) that form a valid prefix of one unfinished character at
 * the end of s (0..3): what a streaming decoder must hold back. */
size_t dc_utf8_incomplete_tail(const uint8_t *s, size_t n);
/* Number of invalid bytes in s[0..n) (each becomes U+FFFD). */
size_t dc_utf8_count_invalid(const uint8_t *s, size_t n);
/* Copy s to dst with every invalid byte replaced by EF BF BD; dst holds
 * n + 2 * dc_utf8_count_invalid(s, n) bytes. Returns the bytes written. */
size_t dc_utf8_sanitize(const uint8_t *s, size_t n, uint8_t *dst);
/* Encode code point cp (< 0x110000) into out; returns 1..4. */
int    dc_utf8_encode(uint32_t cp, uint8_t out[4]);
/* Decode a valid sequence of len bytes. */
uint32_t dc_utf8_decode(const uint8_t *s, int len);

/* GPT-2 byte -> code point (spec §3.3 step 4) and back (-1: not in map). */
uint32_t dc_byte_to_cp(uint8_t b);
int      dc_cp_to_byte(uint32_t cp);

/* ---- pre-tokenizer (pretok.c) ----------------------------------------------------- */

typedef struct dc_pretok dc_pretok;

/* A fragment of the text being tokenized: text[off .. off + len). */
typedef struct dc_span {
    size_t off, len;
} dc_span;

/* A growable span list (per call scratch). */
typedef struct dc_spans {
    dc_span *v;
    size_t   n, cap;
} dc_spans;

dc_status dc_spans_push(dc_spans *s, size_t off, size_t len);
void      dc_spans_free(dc_spans *s);

/* Compile the regexes of a supported pre-tokenizer name (JIT when PCRE2 has
 * it). *canon receives the canonical name (static). DC_ERR_UNSUPPORTED
 * naming an unknown name. */
dc_status dc_pretok_create(const char *name, size_t name_len, dc_pretok **out,
                           const char **canon);
void      dc_pretok_free(dc_pretok *p);
/* Whether the pre-tokenizer's BPE emits a word that is a vocabulary entry
 * whole, without merging (llama3's ignore_merges). */
bool      dc_pretok_ignore_merges(const dc_pretok *p);
/* Tests: match with PCRE2's interpreter even where the JIT is available. */
void      dc_pretok_disable_jit(dc_pretok *p);
/* Split text[0..n) (valid UTF-8) into fragments, appended to out in order:
 * each regex in turn splits every fragment into its matches and the gaps
 * between them (HF Split, behavior "Isolated"). tmp is scratch. Errors:
 * DC_ERR_NOMEM, DC_ERR_UNSUPPORTED if PCRE2 hits its match limits. */
dc_status dc_pretok_split(const dc_pretok *p, const char *text, size_t n,
                          dc_spans *out, dc_spans *tmp);

/* Known pre-tokenizer whose HF Split regexes (as tokenizer.json spells them,
 * in order) are pats[0..n); NULL if none matches. */
const char *dc_pretok_name_for_hf(const char *const *pats, int n);

/* ---- normalizer (normalize.c) ----------------------------------------------------- */

/* NFC of valid UTF-8 s[0..n) into a new dc_malloc buffer *dst (*dst_len
 * bytes, at most 3 * n). */
dc_status dc_nfc(const char *s, size_t n, char **dst, size_t *dst_len);

#endif /* DEEPC_TEXT_IMPL_H */
