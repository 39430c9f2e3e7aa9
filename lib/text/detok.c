/*
 * detok.c - token ids -> bytes: single pieces, whole sequences, and a
 * streaming decoder that never splits a UTF-8 character.
 *
 * Pieces were decoded at build time (vocab.c), so a piece is a slice of the
 * tokenizer's arena. Byte-level BPE splits characters freely: "€" may come
 * as three single-byte tokens. dc_detok keeps the unfinished tail of the
 * text (at most 3 bytes that are a valid prefix of one character) and hands
 * out everything before it; bytes that can never become a character are
 * passed on at once (holding them would only delay the same bytes), so the
 * stream is lossless: all outputs joined = all pieces joined.
 */
#include "text_impl.h"

#include <string.h>

struct dc_detok {
    const dc_tokenizer *t;
    bool    special;
    char    pending[4];  /* bytes of an unfinished character, kept for later */
    size_t  held;        /* how many of them                                  */
    char   *buf;         /* pending + the latest piece: what push returns      */
    size_t  cap;
};

static bool piece_visible(const dc_tokenizer *t, dc_token token, bool special) {
    uint8_t ty = t->types[token];
    if (ty == DC_TOKEN_TYPE_CONTROL || ty == DC_TOKEN_TYPE_UNKNOWN || ty == DC_TOKEN_TYPE_UNUSED)
        return special;
    return true;
}

dc_status dc_token_to_piece(const dc_tokenizer *t, dc_token token, bool special,
                            const char **piece, size_t *len) {
    DC_CHECK_ARG(t && piece && len);
    if (token < 0 || token >= t->n_vocab)
        return dc_error(DC_ERR_INVALID_ARG, "token %d outside the vocabulary of %d", token,
                        t->n_vocab);
    *piece = t->pieces + t->piece_off[token];
    *len = piece_visible(t, token, special) ? t->piece_len[token] : 0;
    return DC_OK;
}

dc_status dc_detokenize(const dc_tokenizer *t, const dc_token *tokens, int32_t n, bool special,
                        char *buf, size_t cap, size_t *n_out) {
    DC_CHECK_ARG(t && n_out && n >= 0 && (tokens || n == 0));
    *n_out = 0;
    size_t total = 0;
    for (int32_t i = 0; i < n; i++) {
        const char *p;
        size_t l;
        dc_status st = dc_token_to_piece(t, tokens[i], special, &p, &l);
        if (st != DC_OK) return st;
        if (buf && total < cap) memcpy(buf + total, p, l < cap - total ? l : cap - total);
        total += l;
    }
    *n_out = total;
    if (buf && total > cap)
        return dc_error(DC_ERR_INVALID_ARG, "dc_detokenize: the text needs %zu bytes, cap is %zu",
                        total, cap);
    return DC_OK;
}

dc_status dc_detok_init(const dc_tokenizer *t, bool special, dc_detok **out) {
    DC_CHECK_ARG(t && out);
    *out = NULL;
    dc_detok *d = dc_calloc(1, sizeof *d);
    if (!d) return DC_ERR_NOMEM;
    d->t = t;
    d->special = special;
    *out = d;
    return DC_OK;
}

dc_status dc_detok_push(dc_detok *d, dc_token token, const char **text, size_t *len) {
    DC_CHECK_ARG(d && text && len);
    *text = "";
    *len = 0;
    const char *p;
    size_t l;
    dc_status st = dc_token_to_piece(d->t, token, d->special, &p, &l);
    if (st != DC_OK) return st;
    size_t want = d->held + l;
    if (want == 0) return DC_OK;
    if (want > d->cap) {
        size_t c = d->cap ? d->cap : 64;
        while (c < want) c *= 2;
        char *b = dc_realloc(d->buf, c);
        if (!b) return DC_ERR_NOMEM;
        d->buf = b;
        d->cap = c;
    }
    if (d->held) memcpy(d->buf, d->pending, d->held);
    if (l) memcpy(d->buf + d->held, p, l);
    size_t tail = dc_utf8_incomplete_tail((const uint8_t *)d->buf, want);
    memcpy(d->pending, d->buf + want - tail, tail);
    d->held = tail;
    *text = d->buf;
    *len = want - tail;
    return DC_OK;
}

dc_status dc_detok_flush(dc_detok *d, const char **text, size_t *len) {
    DC_CHECK_ARG(d && text && len);
    *text = d->pending;   /* the next push reads, then overwrites, pending */
    *len = d->held;
    d->held = 0;
    return DC_OK;
}

void dc_detok_free(dc_detok *d) {
    if (!d) return;
    dc_free(d->buf);
    dc_free(d);
}
