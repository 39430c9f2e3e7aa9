/*
 * deepc/tokenizer.h - byte-level BPE tokenizer: text -> token ids -> text.
 *
 * A dc_tokenizer is built from a GGUF file's tokenizer.ggml.* metadata (the
 * keys llama.cpp writes) or straight from a Hugging Face folder
 * (tokenizer.json + tokenizer_config.json). It is read-only once built, so
 * one tokenizer may serve any number of threads at once.
 *
 * dc_tokenize() runs the pipeline of the Hugging Face tokenizers library:
 *   1. special / user-defined tokens are cut out of the text first (at each
 *      position the longest one that starts there wins; CONTROL tokens only
 *      when parse_special is set, USER_DEFINED ones always);
 *   2. each piece of text between them is normalized (NFC when the file asks
 *      for it), split by the pre-tokenizer's regexes (PCRE2) and
 *   3. byte-mapped (GPT-2 byte <-> unicode table) and merged by BPE.
 * Supported pre-tokenizers (tokenizer.ggml.pre): deepseek-v3, deepseek-llm,
 * qwen2 / deepseek-r1-qwen, llama3 / llama-v3 / llama-bpe, gpt2 (also used,
 * with a warning, when the key is missing). Any other name is
 * DC_ERR_UNSUPPORTED at load, with the name in the message.
 *
 * Invalid UTF-8 in the input is not an error: each byte that does not start
 * or continue a valid sequence becomes U+FFFD (spec/fp8-gguf.md §3.3), so
 * every byte string tokenizes, and valid UTF-8 round-trips exactly.
 *
 * Detokenizing: dc_token_to_piece() gives the bytes of one token. A token
 * can end in the middle of a UTF-8 character; dc_detok holds such a tail
 * back until the rest arrives, for programs that print as they generate.
 */
#ifndef DEEPC_TOKENIZER_H
#define DEEPC_TOKENIZER_H

#include "deepc/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A token id, 0 <= id < dc_tokenizer_n_vocab(). The same typedef as in
 * deepc/model.h (C11 and C++ accept the identical repeat). */
typedef int32_t dc_token;

/* Token types, the on-disk values of tokenizer.ggml.token_type. */
typedef enum dc_token_type {
    DC_TOKEN_TYPE_UNDEFINED    = 0,
    DC_TOKEN_TYPE_NORMAL       = 1,  /* a BPE token, stored byte-mapped      */
    DC_TOKEN_TYPE_UNKNOWN      = 2,
    DC_TOKEN_TYPE_CONTROL      = 3,  /* <｜begin▁of▁sentence｜>, <|im_end|> */
    DC_TOKEN_TYPE_USER_DEFINED = 4,  /* added text always matched: <think>  */
    DC_TOKEN_TYPE_UNUSED       = 5,  /* padding ids ([PAD123])               */
    DC_TOKEN_TYPE_BYTE         = 6   /* <0xAB>                               */
} dc_token_type;

typedef struct dc_tokenizer dc_tokenizer;

/* ---- building ---------------------------------------------------------------- */

/* Build a tokenizer from g's tokenizer.ggml.* keys (model "gpt2" only).
 * Everything needed is copied: g may be closed afterwards. *out is NULL on
 * failure: DC_ERR_NOT_FOUND (no tokenizer.ggml.model or .tokens),
 * DC_ERR_TYPE (a scalar key of the wrong type), DC_ERR_FORMAT (arrays of the
 * wrong element type or mismatched length, ids out of range, token types
 * outside 0..6, duplicate token strings, a merge that is not "left right",
 * more than INT32_MAX - 1 tokens), DC_ERR_UNSUPPORTED (another
 * tokenizer model, an unknown pre-tokenizer: the message names it),
 * DC_ERR_NOMEM. Also reads deepc.tokenizer.normalizer ("NFC"), which deepc's
 * converter writes for tokenizers that normalize (Qwen); llama.cpp's files
 * lack it and are tokenized without normalization, as llama.cpp does. */
dc_status dc_tokenizer_from_gguf(const dc_gguf *g, dc_tokenizer **out);

/* Build a tokenizer from a Hugging Face folder: dir/tokenizer.json (BPE with
 * a ByteLevel pre-tokenizer whose Split regexes are one of the supported
 * sets) and, when present, dir/tokenizer_config.json (bos/eos/pad tokens,
 * add_bos_token, add_eos_token, chat_template). Same result as converting
 * with dc_hf_tokenizer_to_gguf() and loading that. Errors as above, plus
 * DC_ERR_IO when tokenizer.json cannot be read. */
dc_status dc_tokenizer_from_hf(const char *dir, dc_tokenizer **out);

/* Convert a Hugging Face folder (as dc_tokenizer_from_hf reads it) into
 * tokenizer metadata on w: tokenizer.ggml.{model, pre, tokens, token_type,
 * merges, bos_token_id, eos_token_id, padding_token_id, add_bos_token,
 * add_eos_token}, tokenizer.chat_template and, for an NFC normalizer,
 * deepc.tokenizer.normalizer. Ids missing from the JSON become "[PAD<id>]"
 * UNUSED tokens; added tokens become CONTROL when marked special or shaped
 * like <|...|> / <｜...｜> (as llama.cpp's converter does), else
 * USER_DEFINED. On failure w may hold some of the keys. */
dc_status dc_hf_tokenizer_to_gguf(const char *dir, dc_gguf_writer *w);

void dc_tokenizer_free(dc_tokenizer *t);   /* NULL: no-op */

/* ---- properties ----------------------------------------------------------------- */

int32_t dc_tokenizer_n_vocab(const dc_tokenizer *t);
/* Special ids, -1 when the tokenizer has none. eot = end of turn
 * (tokenizer.ggml.eot_token_id, else found by its text: <|eot_id|>,
 * <|im_end|>, <｜end▁of▁sentence｜>, ...). */
dc_token dc_tokenizer_bos(const dc_tokenizer *t);
dc_token dc_tokenizer_eos(const dc_tokenizer *t);
dc_token dc_tokenizer_eot(const dc_tokenizer *t);
/* Whether the file asks for BOS / EOS around a prompt (tokenizer.ggml.
 * add_bos_token; when absent: true for the llama3 pre-tokenizer only). */
bool dc_tokenizer_add_bos(const dc_tokenizer *t);
bool dc_tokenizer_add_eos(const dc_tokenizer *t);
/* True when generation should stop at token: eos, eot, eom, and control
 * tokens named <｜end▁of▁sentence｜>, <|im_end|>, <|eot_id|>, <|eom_id|>,
 * <|endoftext|>, <|end_of_text|>, <|end|>, <end_of_turn>, <EOT>. False for
 * ids out of range. */
bool dc_tokenizer_is_eog(const dc_tokenizer *t, dc_token token);
/* The type of token; DC_TOKEN_TYPE_UNDEFINED for ids out of range. */
dc_token_type dc_tokenizer_token_type(const dc_tokenizer *t, dc_token token);
/* The pre-tokenizer name in use ("deepseek-v3", "qwen2", ...); static. */
const char *dc_tokenizer_pre(const dc_tokenizer *t);
/* The token's string as stored in the vocabulary (byte-mapped for normal
 * tokens: " the" is "Ġthe"), NUL-terminated, valid until the tokenizer is
 * freed; NULL for ids out of range. */
const char *dc_tokenizer_token_text(const dc_tokenizer *t, dc_token token);

/* The id of the token that stands for exactly the bytes text[0..len): a
 * control / user-defined token with that text ("<think>", "<|im_end|>"),
 * else the normal token whose piece those bytes are. -1 when none. */
dc_token dc_tokenizer_lookup(const dc_tokenizer *t, const char *text, size_t len);

/* ---- encoding ------------------------------------------------------------------- */

/* Tokenize text[0..len) (any bytes; NULL allowed when len is 0), adding BOS
 * first when add_bos (DC_ERR_INVALID_ARG if the tokenizer has no BOS) and
 * matching CONTROL tokens' text as those tokens when parse_special.
 *
 * Sizing: *n_out always receives the number of tokens the text produces.
 *  - out == NULL (cap ignored): a size query; returns DC_OK.
 *  - out != NULL and *n_out <= cap: the tokens are in out[0..*n_out); DC_OK.
 *  - out != NULL and *n_out > cap: out holds the first cap tokens; returns
 *    DC_ERR_INVALID_ARG ("... needs N tokens"); call again with cap >= N.
 * A cap of 3 * len + 1 always suffices (NFC and U+FFFD can grow the text up
 * to threefold; every token covers at least one byte). Thread-safe: the
 * tokenizer is not modified; scratch memory is per call. */
dc_status dc_tokenize(const dc_tokenizer *t, const char *text, size_t len,
                      bool add_bos, bool parse_special,
                      dc_token *out, int32_t cap, int32_t *n_out);

/* ---- decoding ------------------------------------------------------------------- */

/* The bytes one token stands for: *piece points into the tokenizer (valid
 * until it is freed, not NUL-terminated), *len its length. CONTROL, UNKNOWN
 * and UNUSED tokens give their text only when special is set, else an empty
 * piece; USER_DEFINED tokens always give their text. A piece may end inside
 * a UTF-8 character (see dc_detok). DC_ERR_INVALID_ARG for ids out of range. */
dc_status dc_token_to_piece(const dc_tokenizer *t, dc_token token, bool special,
                            const char **piece, size_t *len);

/* Concatenate the pieces of tokens[0..n) into buf (no NUL added). Sizing as
 * for dc_tokenize: *n_out is the byte count; buf == NULL queries it; a cap
 * too small is DC_ERR_INVALID_ARG with the first cap bytes written. */
dc_status dc_detokenize(const dc_tokenizer *t, const dc_token *tokens, int32_t n,
                        bool special, char *buf, size_t cap, size_t *n_out);

/* Streaming detokenizer: feed tokens one at a time, get text that never
 * ends inside a UTF-8 character. Bytes that cannot begin or continue a
 * valid character are passed through unchanged, so the concatenation of
 * everything returned (flush included) equals the concatenation of the
 * pieces. Holds a reference to t (free it first). One thread at a time. */
typedef struct dc_detok dc_detok;

dc_status dc_detok_init(const dc_tokenizer *t, bool special, dc_detok **out);
/* Append token's piece; *text / *len receive the bytes now complete (maybe
 * none). The pointer is valid until the next call on d. */
dc_status dc_detok_push(dc_detok *d, dc_token token, const char **text, size_t *len);
/* Return the held bytes of an unfinished character (at most 3) and reset. */
dc_status dc_detok_flush(dc_detok *d, const char **text, size_t *len);
void      dc_detok_free(dc_detok *d);   /* NULL: no-op */

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_TOKENIZER_H */
