/*
 * deepc/model.h - models and sessions: load a GGUF model, decode tokens,
 * read logits.
 *
 * A dc_model is the read-only part: hyper-parameters and weights (pointing
 * into the file's mmap on the CPU; nothing is copied). It is checked
 * completely at load: every tensor the architecture needs is present with
 * the type and shape the hyper-parameters imply, or dc_model_load fails with
 * a message naming it. Architectures: deepseek2 (DeepSeek-V2, V2-Lite, V3,
 * R1: MLA + MoE), llama and qwen2 (the dense R1 distills).
 *
 * A dc_session is one conversation: a KV cache of n_ctx positions and the
 * compute buffers, sized once at dc_session_init, so decoding allocates
 * nothing. Tokens are decoded in order (positions n_past, n_past+1, ...);
 * dc_session_truncate() rewinds. A full context is DC_ERR_CONTEXT_FULL, never
 * a crash. A session is used by one thread at a time; several sessions may
 * share one model.
 *
 * For deepseek2 the cache holds, per token and layer, only the normalized
 * latent c_kv (kv_lora_rank values) and the rotated shared rope key
 * (rope dims): the absorbed MLA form (spec/deepseek-arch.md §2.5).
 */
#ifndef DEEPC_MODEL_H
#define DEEPC_MODEL_H

#include "deepc/gguf.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int32_t dc_token;
typedef struct dc_model   dc_model;
typedef struct dc_session dc_session;

/* Load progress in [0, 1]; return false to cancel (dc_model_load then
 * returns DC_ERR_ABORTED). */
typedef bool (*dc_progress_fn)(float progress, void *user);

typedef enum dc_gpu_mode {
    DC_GPU_OFF  = 0,   /* CPU only                                          */
    DC_GPU_AUTO = 1    /* all on the GPU when it fits, else experts on CPU  */
} dc_gpu_mode;

typedef struct dc_model_params {
    dc_gpu_mode    gpu;               /* default DC_GPU_OFF                     */
    bool           verify_checksums;  /* check deepc.checksum.xxh3 if present   */
    dc_progress_fn progress;          /* NULL: none                             */
    void          *progress_user;
} dc_model_params;

dc_model_params dc_model_default_params(void);

/* Load and check a model. *out is NULL on failure. The file stays mapped
 * until dc_model_free(). */
dc_status dc_model_load(const char *path, const dc_model_params *params, dc_model **out);
void      dc_model_free(dc_model *model);   /* NULL: no-op */

/* "deepseek2", "llama" or "qwen2". */
const char *dc_model_arch(const dc_model *model);
int32_t     dc_model_n_vocab(const dc_model *model);
int32_t     dc_model_n_ctx_train(const dc_model *model);
int32_t     dc_model_n_layer(const dc_model *model);
int32_t     dc_model_n_embd(const dc_model *model);
/* Bytes of weight data. */
size_t      dc_model_weight_bytes(const dc_model *model);
/* The model's GGUF (metadata for tokenizers, chat templates); borrowed,
 * valid until dc_model_free(). */
const dc_gguf *dc_model_gguf(const dc_model *model);
/* KV-cache bytes one token takes over all layers with cache type kv_type,
 * and what a per-head (MHA) cache would take for the same model. 0 if
 * kv_type cannot store this model's rows. */
size_t dc_model_kv_bytes_per_token(const dc_model *model, dc_type kv_type);
size_t dc_model_kv_bytes_per_token_mha(const dc_model *model, dc_type kv_type);
/* Weight bytes one decoded token reads: every matrix except the embedding
 * table (one row of it is read), with routed experts counted at
 * n_expert_used / n_expert of their size (the roofline numerator). */
size_t dc_model_active_bytes(const dc_model *model);
/* A one-line description: arch, size, layers, experts, attention form. */
const char *dc_model_desc(const dc_model *model);

/* How deepseek2 computes attention for a batch. */
typedef enum dc_mla_mode {
    DC_MLA_AUTO     = 0,  /* absorbed for decode, naive when cheaper for prompts */
    DC_MLA_ABSORBED = 1,  /* always attend in the latent space                    */
    DC_MLA_NAIVE    = 2   /* always decompress per-head K / V from the latent     */
} dc_mla_mode;

typedef struct dc_session_params {
    int32_t     n_ctx;            /* positions; 0 = min(train context, 4096)    */
    int32_t     n_batch;          /* most tokens per graph (longer batches are
                                     split); default 512                         */
    int32_t     n_threads;        /* decode (1 token); default physical cores    */
    int32_t     n_threads_batch;  /* prompt batches; default physical cores      */
    dc_type     kv_type;          /* F16 (default), BF16, Q8_0 or F32            */
    dc_mla_mode mla;              /* deepseek2 only                              */
} dc_session_params;

dc_session_params dc_session_default_params(void);

/* Create a session: allocates the KV cache and the compute buffers for the
 * worst case (n_batch tokens at a full context). *out is NULL on failure. */
dc_status dc_session_init(dc_model *model, const dc_session_params *params,
                          dc_session **out);
void      dc_session_free(dc_session *s);    /* NULL: no-op */

typedef struct dc_batch {
    int32_t         n_tokens;
    const dc_token *tokens;   /* [n_tokens]                                   */
    const int32_t  *pos;      /* [n_tokens] or NULL: n_past, n_past + 1, ...;
                                 when given they must continue the cache     */
    const int8_t   *logits;   /* [n_tokens] non-zero = want logits there, or
                                 NULL: only for the last token               */
} dc_batch;

/* Decode a batch. On DC_ERR_CONTEXT_FULL (the batch does not fit in the
 * n_ctx - n_past free positions) nothing is decoded. A token id outside the
 * vocabulary is DC_ERR_INVALID_ARG. */
dc_status dc_session_decode(dc_session *s, const dc_batch *batch);
/* Convenience: decode n tokens after the cache, logits for the last only
 * (all_logits = false) or for every token. */
dc_status dc_session_decode_tokens(dc_session *s, const dc_token *tokens, int32_t n,
                                   bool all_logits);

/* Logits [n_vocab] of the i-th token of the last batch that asked for logits
 * (i = -1: the last such token), or NULL. Valid until the next decode. */
const float *dc_session_logits(const dc_session *s, int32_t i);
int32_t      dc_session_n_outputs(const dc_session *s);

int32_t   dc_session_n_past(const dc_session *s);
int32_t   dc_session_n_ctx(const dc_session *s);
/* Keep the first n_keep positions of the cache, drop the rest. */
dc_status dc_session_truncate(dc_session *s, int32_t n_keep);

typedef struct dc_memory_estimate {
    size_t weights;   /* model weights                           */
    size_t kv_cache;  /* this session's cache at n_ctx            */
    size_t compute;   /* intermediate buffers, worst case          */
} dc_memory_estimate;

dc_status dc_session_memory(const dc_session *s, dc_memory_estimate *out);

/* ---- session state files -----------------------------------------------------
 * A state file holds what a session needs to continue a conversation later:
 * the model's identity (arch, n_layer, n_embd, n_vocab, a fingerprint of a
 * few weights), the cache type, n_past, the tokens that filled the cache and
 * the cache rows [0, n_past) of every layer, followed by an XXH3-64 of all
 * the bytes before it. Rows are stored as the cache holds them (little-endian
 * hosts, as GGUF). Size: about n_past * dc_model_kv_bytes_per_token(). */

/* Write s's state to path (written to path + ".tmp", then renamed over
 * path: a failed save leaves no partial file and an older state intact).
 * tokens[0..n_tokens) is the token history kept with it: n_tokens is 0 (no
 * history; tokens may be NULL) or dc_session_n_past(s), and every id is
 * inside the vocabulary, else DC_ERR_INVALID_ARG. DC_ERR_IO when the file
 * cannot be written. The session is not modified. */
dc_status dc_session_save(const dc_session *s, const char *path, const dc_token *tokens,
                          int32_t n_tokens);

/* Restore a state written by dc_session_save into s, whose model and cache
 * type must be the ones that wrote it; s's n_ctx may differ but must hold
 * the state's n_past positions. Everything is checked before s is touched:
 *   DC_ERR_IO        the file cannot be opened or read
 *   DC_ERR_FORMAT    not a state file, or its lengths disagree with its size
 *                    (a truncated or hostile file)
 *   DC_ERR_UNSUPPORTED  a state format version this build does not know
 *   DC_ERR_CHECKSUM  the XXH3-64 does not match (a damaged file)
 *   DC_ERR_INVALID_ARG  the state belongs to another model or cache type
 *                    (the message names what differs), or its history has
 *                    more than cap tokens (the message gives the count)
 *   DC_ERR_CONTEXT_FULL  s's n_ctx is smaller than the state's n_past
 * On success the cache holds the state's rows, dc_session_n_past(s) is the
 * state's n_past, no logits are available (decode a token to get some),
 * tokens[0..*n_tokens) is the history (tokens may be NULL when cap is 0).
 * If reading fails after s was touched (the file changed while being
 * read), s is left empty (n_past 0) and the error returned. *n_tokens is 0
 * on failure. */
dc_status dc_session_load(dc_session *s, const char *path, dc_token *tokens, int32_t cap,
                          int32_t *n_tokens);

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_MODEL_H */
