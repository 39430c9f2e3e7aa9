/*
 * gen.c - one chat turn: prompt, KV-cache reuse, generation, streaming.
 *
 * Each turn renders the whole conversation. The session's KV cache already
 * holds the tokens of earlier turns (ch->cache mirrors them); the cached
 * tokens whose text the rendering starts with are kept as they are, only
 * the text after them is tokenized, and only the tokens after the longest
 * common prefix with the cache are decoded: the new user message, or more
 * when the template rewrites earlier text (R1 drops past reasoning).
 * When the prompt cannot fit with room for one reply token, the oldest
 * turns are dropped (the system prompt stays) and the rest is evaluated
 * again; a single message too long for the context is refused.
 *
 * Streaming: token -> dc_detok (whole UTF-8 characters) -> the stop-string
 * holdback (text that may begin the format's end-of-turn string waits) ->
 * dc_reasoning_parser (reasoning vs answer) -> the terminal. Ctrl+C stops
 * the prompt evaluation between chunks and the generation between tokens;
 * a stopped reply is kept, as far as it got.
 *
 * Invariant: ch->n_cache == dc_session_n_past(ch->s) after every step, and
 * ch->cache[0..n_cache) are the tokens that produced the cache.
 */
#include "chat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PROMPT_CHUNK 256   /* tokens decoded between Ctrl+C checks */

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void report(chat *ch, const char *what) {
    ui_note(ch->ui, UI_WARN, "deepc-chat: %s: %s", what, *dc_last_error() ? dc_last_error() : "failed");
}

/* Keep the mirror in step with the session after a failure. */
static void sync_cache(chat *ch) {
    int32_t n_past = dc_session_n_past(ch->s);
    if (ch->n_cache > n_past) ch->n_cache = n_past;
}

static bool grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 256;
    while (c < need) c *= 2;
    char *b = realloc(*buf, c);
    if (!b) return false;
    *buf = b;
    *cap = c;
    return true;
}

/* ---- the prompt ------------------------------------------------------------------- */

/* How much of the rendered text the cached tokens already spell: walk the
 * cache while each token's text continues the rendering. A cache that
 * diverges part-way (a template that drops past reasoning, /regen) is cut
 * back to just after its last special token, so the rest is tokenized
 * from a boundary the tokenizer would also split at. *pos receives the
 * bytes covered; returns the tokens. */
static int32_t cached_prefix(const chat *ch, const char *text, size_t len, bool tok_bos,
                             size_t *pos) {
    int32_t k = 0, safe_k = 0;
    size_t at = 0, safe_at = 0;
    if (tok_bos && ch->n_cache > 0 && ch->cache[0] == dc_tokenizer_bos(ch->tok))
        k = safe_k = 1;                          /* a BOS the text does not spell */
    for (; k < ch->n_cache; k++) {
        /* control tokens as the template writes them; generated unused or
         * unknown ids as the reply text holds them (no text) */
        dc_token_type ty = dc_tokenizer_token_type(ch->tok, ch->cache[k]);
        const char *p;
        size_t n;
        if (dc_token_to_piece(ch->tok, ch->cache[k], ty == DC_TOKEN_TYPE_CONTROL, &p, &n) != DC_OK ||
            n > len - at || memcmp(text + at, p, n) != 0)
            break;
        at += n;
        if (ty == DC_TOKEN_TYPE_CONTROL || ty == DC_TOKEN_TYPE_USER_DEFINED) {
            safe_k = k + 1;
            safe_at = at;
        }
    }
    if (k < ch->n_cache) {
        k = safe_k;
        at = safe_at;
    }
    *pos = at;
    return k;
}

static bool reserve_prompt(chat *ch, size_t n) {
    if (n <= (size_t)ch->cap_prompt) return true;
    dc_token *p = n < INT32_MAX ? realloc(ch->prompt, n * sizeof *p) : NULL;
    if (!p) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: out of memory for a %zu-token prompt", n);
        return false;
    }
    ch->prompt = p;
    ch->cap_prompt = (int32_t)n;
    return true;
}

/* Render the conversation into ch->prompt: the cached tokens that spell its
 * beginning, then the rest tokenized. Reusing the generated tokens as they
 * are keeps the KV cache valid even where BPE would split a reply another
 * way than the model produced it. */
static bool render_tokens(chat *ch) {
    size_t len = 0, pos = 0;
    char *text = convo_render(&ch->cv, &len);
    if (!text) {
        report(ch, "rendering the conversation");
        return false;
    }
    /* formats that write the BOS text get none from the tokenizer */
    bool bos = !*dc_chat_format_bos(ch->cv.format) && dc_tokenizer_add_bos(ch->tok) &&
               dc_tokenizer_bos(ch->tok) >= 0;
    int32_t k = cached_prefix(ch, text, len, bos, &pos), n = 0;
    /* 3 tokens per byte always suffice (deepc/tokenizer.h) */
    bool ok = reserve_prompt(ch, (size_t)k + 3 * (len - pos) + 2);
    if (ok) {
        memcpy(ch->prompt, ch->cache, (size_t)k * sizeof *ch->prompt);
        ok = dc_tokenize(ch->tok, text + pos, len - pos, bos && k == 0, true, ch->prompt + k,
                         ch->cap_prompt - k, &n) == DC_OK;
        if (!ok) report(ch, "tokenizing the conversation");
    }
    ch->n_prompt = k + n;
    free(text);
    return ok;
}

/* Positions the system prompt and the last message alone need (with one
 * for the reply), or -1 on error. */
static int32_t minimal_need(chat *ch) {
    dc_chat_message *keep = malloc((ch->cv.n + 1) * sizeof *keep);
    if (!keep) return -1;
    convo tmp = { .msgs = keep, .format = ch->cv.format, .opt = ch->cv.opt };
    for (size_t i = 0; i < ch->cv.n; i++)
        if (!strcmp(ch->cv.msgs[i].role, "system") || i + 1 == ch->cv.n) keep[tmp.n++] = ch->cv.msgs[i];
    size_t len = 0;
    char *text = convo_render(&tmp, &len);
    free(keep);
    bool bos = !*dc_chat_format_bos(ch->cv.format) && dc_tokenizer_add_bos(ch->tok) &&
               dc_tokenizer_bos(ch->tok) >= 0;
    int32_t n = -1;
    if (!text || dc_tokenize(ch->tok, text, len, bos, true, NULL, 0, &n) != DC_OK) n = -2;
    free(text);
    return n + 1;
}

/* Render, dropping the oldest turns until the prompt and one reply token
 * fit; a message that cannot fit even alone is refused before anything is
 * dropped. false: the message cannot be answered (it was removed). */
static bool fit_context(chat *ch) {
    if (!render_tokens(ch)) goto refuse;
    if (ch->n_prompt + 1 <= ch->n_ctx) return true;
    int32_t need = minimal_need(ch);
    if (need < 0 || need > ch->n_ctx) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: this message needs %d positions with the system "
                "prompt, the context has %d: not sent (a shorter message, or a larger -c)",
                need, ch->n_ctx);
        goto refuse;
    }
    ui_note(ch->ui, UI_WARN, "deepc-chat: context full (the conversation needs %d of %d "
            "positions): /reset to start over, or the oldest turns are dropped", ch->n_prompt + 1,
            ch->n_ctx);
    int dropped = 0;
    while (ch->n_prompt + 1 > ch->n_ctx) {
        if (!convo_drop_oldest(&ch->cv) || !render_tokens(ch)) goto refuse;
        dropped++;
    }
    ui_note(ch->ui, UI_WARN, "deepc-chat: dropped the oldest %d turn%s; re-evaluating the rest "
            "(%d tokens)", dropped, dropped > 1 ? "s" : "", ch->n_prompt);
    return true;
refuse:
    if (ch->cv.n && !strcmp(ch->cv.msgs[ch->cv.n - 1].role, "user")) convo_pop(&ch->cv);
    return false;
}

/* Decode the prompt after the longest prefix already cached. false when
 * stopped (Ctrl+C) or failed; the cache keeps what was decoded. */
static bool eval_prompt(chat *ch) {
    int32_t lcp = 0;
    while (lcp < ch->n_cache && lcp < ch->n_prompt && ch->cache[lcp] == ch->prompt[lcp]) lcp++;
    if (lcp == ch->n_prompt) lcp--;   /* the last token is decoded again for its logits */
    dc_session_truncate(ch->s, lcp);
    ch->n_cache = lcp;
    ch->last.n_prompt = ch->n_prompt;
    ch->last.n_reused = lcp;
    double t0 = now();
    for (int32_t i = lcp; i < ch->n_prompt; i += PROMPT_CHUNK) {
        if (chat_interrupted) {
            ui_note(ch->ui, UI_DIM, "[stopped while reading the prompt]");
            return false;
        }
        int32_t n = ch->n_prompt - i < PROMPT_CHUNK ? ch->n_prompt - i : PROMPT_CHUNK;
        if (dc_session_decode_tokens(ch->s, ch->prompt + i, n, false) != DC_OK) {
            report(ch, "evaluating the prompt");
            sync_cache(ch);
            return false;
        }
        memcpy(ch->cache + ch->n_cache, ch->prompt + i, (size_t)n * sizeof *ch->cache);
        ch->n_cache += n;
    }
    ch->last.t_prompt = now() - t0;
    return true;
}

/* ---- streaming ------------------------------------------------------------------------ */

/* Parsed text to the terminal: reasoning dimmed (or a note when hidden),
 * the answer plain. Piped output marks reasoning with [thinking] lines. */
static void show(chat *ch, const dc_reasoning_out *r) {
    bool color = ui_color(ch->ui);
    if (r->n_reasoning && ch->think != THINK_DONE) {
        if (ch->think == THINK_NONE) {
            ch->think = THINK_OPEN;
            const char *mark = !ch->show_think ? "[thinking…]" : color ? "" : "[thinking]\n";
            ui_text(ch->ui, UI_DIM, mark, strlen(mark));
        }
        if (ch->show_think) ui_text(ch->ui, UI_DIM, r->reasoning, r->n_reasoning);
    }
    if (!r->n_content) return;
    const char *c = r->content;
    size_t n = r->n_content;
    if (ch->think == THINK_OPEN) {
        ch->think = THINK_DONE;
        ui_newline_if_needed(ch->ui);
        if (ch->show_think && !color) ui_text(ch->ui, UI_PLAIN, "[/thinking]\n", 12);
    }
    if (!ch->content_started) {        /* the blank lines models put after </think> */
        while (n && (*c == '\n' || *c == '\r')) c++, n--;
        if (!n) return;
        ch->content_started = true;
    }
    ui_text(ch->ui, UI_PLAIN, c, n);
}

/* Text into the reply (kept for the conversation, where a NUL byte would
 * end the string: it becomes U+FFFD) and through the reasoning parser. */
static void to_parser(chat *ch, const char *text, size_t len) {
    if (!len || !grow(&ch->reply, &ch->cap_reply, ch->n_reply + 3 * len + 1)) return;
    for (size_t i = 0; i < len; i++) {
        if (text[i]) ch->reply[ch->n_reply++] = text[i];
        else for (const char *r = "\xef\xbf\xbd"; *r; r++) ch->reply[ch->n_reply++] = *r;
    }
    ch->reply[ch->n_reply] = 0;
    dc_reasoning_out r;
    if (dc_reasoning_parser_push(ch->rp, text, len, &r) == DC_OK) show(ch, &r);
}

/* Append text to the holdback; pass on what cannot start the end-of-turn
 * string. Returns true when that string was completed (the rest dropped). */
static bool push_text(chat *ch, const char *text, size_t len) {
    size_t m = strlen(ch->eot);
    if (m == 0 || ch->o.ignore_eos) {
        to_parser(ch, text, len);
        return false;
    }
    if (!grow(&ch->hold, &ch->cap_hold, ch->n_hold + len + 1)) return false;
    memcpy(ch->hold + ch->n_hold, text, len);
    ch->n_hold += len;
    ch->hold[ch->n_hold] = 0;
    char *hit = strstr(ch->hold, ch->eot);
    if (hit && (size_t)(hit - ch->hold) + m <= ch->n_hold) {
        to_parser(ch, ch->hold, (size_t)(hit - ch->hold));
        ch->n_hold = 0;
        return true;
    }
    /* the first position whose tail could still become the stop string */
    size_t keep = ch->n_hold;
    for (size_t i = ch->n_hold > m ? ch->n_hold - m : 0; i < ch->n_hold; i++)
        if (!memcmp(ch->hold + i, ch->eot, ch->n_hold - i)) {
            keep = i;
            break;
        }
    to_parser(ch, ch->hold, keep);
    memmove(ch->hold, ch->hold + keep, ch->n_hold - keep);
    ch->n_hold -= keep;
    return false;
}

static void flush_reply(chat *ch, bool stopped_by_eot) {
    const char *t;
    size_t n;
    if (dc_detok_flush(ch->dt, &t, &n) == DC_OK && !stopped_by_eot) push_text(ch, t, n);
    if (!stopped_by_eot) to_parser(ch, ch->hold, ch->n_hold);
    ch->n_hold = 0;
    dc_reasoning_out r;
    if (dc_reasoning_parser_flush(ch->rp, &r) == DC_OK) show(ch, &r);
    ui_newline_if_needed(ch->ui);
    if (ch->think == THINK_OPEN && ch->show_think && !ui_color(ch->ui))   /* never closed */
        ui_text(ch->ui, UI_PLAIN, "[/thinking]\n", 12);
}

/* ---- generation --------------------------------------------------------------------------- */

static dc_token sample(chat *ch, const float *logits) {
    if (ch->o.ignore_eos && ch->masked) {
        memcpy(ch->masked, logits, (size_t)ch->n_vocab * sizeof *logits);
        for (int32_t i = 0; i < ch->n_eog; i++) ch->masked[ch->eog[i]] = -INFINITY;
        logits = ch->masked;
    }
    return dc_sampler_sample(ch->smp, logits);
}

/* Why generation ended: an end-of-generation token, the end-of-turn text,
 * -n, Ctrl+C, a full context, an error. */
typedef enum gen_end { GEN_EOG, GEN_EOT_TEXT, GEN_LIMIT, GEN_STOPPED, GEN_FULL, GEN_ERROR } gen_end;

static gen_end generate(chat *ch) {
    bool eot_text = false;
    for (;;) {
        if (chat_interrupted) return GEN_STOPPED;
        if (ch->o.n_predict >= 0 && ch->last.n_gen >= ch->o.n_predict) return GEN_LIMIT;
        const float *logits = dc_session_logits(ch->s, -1);
        dc_token t = logits ? sample(ch, logits) : -1;
        if (t < 0) return GEN_ERROR;
        dc_sampler_accept(ch->smp, t);
        if (!ch->o.ignore_eos && (dc_tokenizer_is_eog(ch->tok, t) || t == ch->eot_id))
            return GEN_EOG;
        ch->last.n_gen++;
        const char *text;
        size_t len;
        if (dc_detok_push(ch->dt, t, &text, &len) == DC_OK) eot_text = push_text(ch, text, len);
        if (eot_text) return GEN_EOT_TEXT;
        if (dc_session_n_past(ch->s) >= ch->n_ctx) return GEN_FULL;
        dc_status st = dc_session_decode_tokens(ch->s, &t, 1, false);
        if (st == DC_ERR_CONTEXT_FULL) return GEN_FULL;
        if (st != DC_OK) return GEN_ERROR;
        ch->cache[ch->n_cache++] = t;
    }
}

static void reply_begin(chat *ch) {
    ch->n_reply = ch->n_hold = 0;
    ch->think = THINK_NONE;
    ch->content_started = false;
    ch->last.n_gen = 0;
    ch->last.t_gen = 0;
    if (ch->reply) ch->reply[0] = 0;
    dc_reasoning_parser_free(ch->rp);
    ch->rp = NULL;
    bool in_reasoning = dc_chat_prompt_opens_reasoning(ch->cv.format, &ch->cv.opt);
    dc_reasoning_parser_init(in_reasoning, &ch->rp);
}

static void print_stats(chat *ch) {
    const turn_stats *l = &ch->last;
    int32_t n_new = l->n_prompt - l->n_reused;
    double pp = l->t_prompt > 0 ? n_new / l->t_prompt : 0, tg = l->t_gen > 0 ? l->n_gen / l->t_gen : 0;
    ui_note(ch->ui, UI_DIM, "[prompt: %d tokens (%d new, %d cached), %.1f t/s | reply: %d tokens, "
            "%.1f t/s | context %d/%d]", l->n_prompt, n_new, l->n_reused, pp, l->n_gen, tg,
            dc_session_n_past(ch->s), ch->n_ctx);
}

bool chat_turn(chat *ch, const char *user) {
    chat_interrupted = 0;
    if (user && convo_add(&ch->cv, "user", user) != 0) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: out of memory");
        return false;
    }
    if (!fit_context(ch)) return false;
    if (!eval_prompt(ch)) {
        if (ch->cv.n && !strcmp(ch->cv.msgs[ch->cv.n - 1].role, "user")) convo_pop(&ch->cv);
        chat_interrupted = 0;
        return false;
    }
    reply_begin(ch);
    if (!ch->rp) {
        report(ch, "reasoning parser");
        return false;
    }
    double t0 = now();
    gen_end end = generate(ch);
    ch->last.t_gen = now() - t0;
    flush_reply(ch, end == GEN_EOT_TEXT);
    if (end == GEN_STOPPED) ui_note(ch->ui, UI_DIM, "[stopped]");
    if (end == GEN_FULL)
        ui_note(ch->ui, UI_WARN, "deepc-chat: context full (%d of %d positions used): /reset to "
                "start over, or the oldest turns are dropped", dc_session_n_past(ch->s), ch->n_ctx);
    if (end == GEN_ERROR) {
        report(ch, "generating");
        sync_cache(ch);
    }
    chat_interrupted = 0;
    bool added = convo_add(&ch->cv, "assistant", ch->reply ? ch->reply : "") == 0;
    if (!added) ui_note(ch->ui, UI_WARN, "deepc-chat: out of memory");
    print_stats(ch);
    return added && end != GEN_ERROR;
}
