/*
 * state.c - save a session's KV cache to a file and restore it
 * (dc_session_save / dc_session_load, contract in deepc/model.h).
 *
 * File layout, little-endian, no padding:
 *
 *    0  "DCSS"                 magic
 *    4  u32 version            STATE_VERSION
 *    8  char[16] arch          NUL-padded ("deepseek2", "llama", "qwen2")
 *   24  u32 n_layer, n_embd, n_vocab, kv_type, n_ctx, n_past, n_tokens, n_caches
 *   56  u64 fingerprint        XXH3-64 of a few weights (see fingerprint())
 *   64  u64 k_row, v_row       bytes of one cache row (v_row 0: no V cache)
 *   80  i32 tokens[n_tokens]
 *       per layer: K rows [0, n_past), then V rows [0, n_past) when present
 *  end  u64 XXH3-64 of every byte above
 *
 * Loading trusts nothing: the header's lengths must add up to exactly the
 * file's size (with overflow checks) before anything is read further, the
 * whole file is hashed in a streaming pass and compared, and the identity is
 * compared with the session's model, all before the session is touched; the
 * rows are then read again and copied into the cache. The two passes cost
 * two reads of the file (XXH3 runs at memory bandwidth) but keep memory use
 * at one chunk instead of a copy of the whole cache.
 */
#include "model_impl.h"

#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define STATE_MAGIC   "DCSS"
#define STATE_VERSION 1u
#define HEADER_BYTES  80
#define CHUNK_BYTES   ((size_t)1 << 20)

typedef struct state_header {
    char     arch[16];
    uint32_t n_layer, n_embd, n_vocab, kv_type, n_ctx, n_past, n_tokens, n_caches;
    uint64_t fingerprint, k_row, v_row;
} state_header;

/* ---- little-endian fields ----------------------------------------------------------- */

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void encode_header(const state_header *h, unsigned char *b) {
    memcpy(b, STATE_MAGIC, 4);
    put_u32(b + 4, STATE_VERSION);
    memcpy(b + 8, h->arch, 16);
    const uint32_t f[8] = { h->n_layer, h->n_embd, h->n_vocab, h->kv_type,
                            h->n_ctx, h->n_past, h->n_tokens, h->n_caches };
    for (int i = 0; i < 8; i++) put_u32(b + 24 + 4 * i, f[i]);
    put_u64(b + 56, h->fingerprint);
    put_u64(b + 64, h->k_row);
    put_u64(b + 72, h->v_row);
}

static void decode_header(const unsigned char *b, state_header *h) {
    memcpy(h->arch, b + 8, 16);
    uint32_t *f[8] = { &h->n_layer, &h->n_embd, &h->n_vocab, &h->kv_type,
                       &h->n_ctx, &h->n_past, &h->n_tokens, &h->n_caches };
    for (int i = 0; i < 8; i++) *f[i] = get_u32(b + 24 + 4 * i);
    h->fingerprint = get_u64(b + 56);
    h->k_row = get_u64(b + 64);
    h->v_row = get_u64(b + 72);
}

/* ---- identity ------------------------------------------------------------------------- */

/* Feed n bytes of t (from its start) to the hash. */
static dc_status hash_tensor(XXH3_state_t *x, const dc_tensor *t, size_t n) {
    if (!t) return DC_OK;
    unsigned char *buf = dc_malloc(n);
    if (!buf) return DC_ERR_NOMEM;
    dc_status st = dc_tensor_get(t, buf, 0, n);
    if (st == DC_OK) XXH3_64bits_update(x, buf, n);
    dc_free(buf);
    return st;
}

/* XXH3-64 of the first row of token_embd, output_norm, the first layer's
 * attn_norm and the weight types: two files with equal hyper-parameters
 * (another seed, fine-tune or quantization) still differ here, and it reads
 * a few KiB, not the model. */
static dc_status fingerprint(const dc_model *m, uint64_t *out) {
    XXH3_state_t x;
    XXH3_64bits_reset(&x);
    const dc_tensor *t[3] = { m->tok_embd, m->output_norm, m->layers[0].attn_norm };
    for (int i = 0; i < 3; i++) {
        if (!t[i]) continue;
        uint32_t type = (uint32_t)dc_tensor_type(t[i]);
        XXH3_64bits_update(&x, &type, sizeof type);
        dc_status st = hash_tensor(&x, t[i], dc_tensor_nb(t[i], 1));
        if (st != DC_OK) return st;
    }
    *out = XXH3_64bits_digest(&x);
    return DC_OK;
}

static dc_status make_header(const dc_session_kv *kv, int32_t n_tokens, state_header *h) {
    const dc_hparams *hp = &kv->m->hp;
    memset(h, 0, sizeof *h);
    snprintf(h->arch, sizeof h->arch, "%s", dc_model_arch(kv->m));
    h->n_layer = (uint32_t)hp->n_layer;
    h->n_embd = (uint32_t)hp->n_embd;
    h->n_vocab = (uint32_t)hp->n_vocab;
    h->kv_type = (uint32_t)kv->kv_type;
    h->n_ctx = (uint32_t)kv->n_ctx;
    h->n_past = (uint32_t)kv->n_past;
    h->n_tokens = (uint32_t)n_tokens;
    h->n_caches = kv->v_cache[0] ? 2 : 1;
    h->k_row = dc_tensor_nb(kv->k_cache[0], 1);
    h->v_row = kv->v_cache[0] ? dc_tensor_nb(kv->v_cache[0], 1) : 0;
    return fingerprint(kv->m, &h->fingerprint);
}

/* ---- save ------------------------------------------------------------------------------ */

typedef struct writer {
    FILE        *f;
    XXH3_state_t x;
    bool         ok;
} writer;

static void wr(writer *w, const void *p, size_t n) {
    if (!w->ok || n == 0) return;
    XXH3_64bits_update(&w->x, p, n);
    w->ok = fwrite(p, 1, n, w->f) == n;
}

/* Cache rows [0, n_past) of t, through a bounded buffer. */
static dc_status write_rows(writer *w, const dc_tensor *t, int32_t n_past, unsigned char *buf) {
    size_t total = (size_t)n_past * dc_tensor_nb(t, 1);
    for (size_t off = 0; off < total && w->ok; off += CHUNK_BYTES) {
        size_t n = total - off < CHUNK_BYTES ? total - off : CHUNK_BYTES;
        dc_status st = dc_tensor_get(t, buf, off, n);
        if (st != DC_OK) return st;
        wr(w, buf, n);
    }
    return DC_OK;
}

static dc_status write_state(writer *w, const dc_session_kv *kv, const state_header *h,
                             const dc_token *tokens) {
    unsigned char head[HEADER_BYTES];
    encode_header(h, head);
    wr(w, head, sizeof head);
    for (uint32_t i = 0; i < h->n_tokens; i++) {
        unsigned char b[4];
        put_u32(b, (uint32_t)tokens[i]);
        wr(w, b, 4);
    }
    unsigned char *buf = dc_malloc(CHUNK_BYTES);
    if (!buf) return DC_ERR_NOMEM;
    dc_status st = DC_OK;
    for (uint32_t il = 0; il < h->n_layer && st == DC_OK; il++) {
        st = write_rows(w, kv->k_cache[il], kv->n_past, buf);
        if (st == DC_OK && kv->v_cache[il]) st = write_rows(w, kv->v_cache[il], kv->n_past, buf);
    }
    dc_free(buf);
    unsigned char sum[8];
    put_u64(sum, XXH3_64bits_digest(&w->x));
    if (w->ok) w->ok = fwrite(sum, 1, 8, w->f) == 8;
    return st;
}

dc_status dc_session_save(const dc_session *s, const char *path, const dc_token *tokens,
                          int32_t n_tokens) {
    DC_CHECK_ARG(s != NULL && path != NULL && (tokens != NULL || n_tokens == 0));
    dc_session_kv kv;
    dc_session_kv_view(s, &kv);
    if (n_tokens != 0 && n_tokens != kv.n_past)
        return dc_error(DC_ERR_INVALID_ARG, "session save: %d history tokens for %d cached "
                        "positions (give all of them or none)", n_tokens, kv.n_past);
    for (int32_t i = 0; i < n_tokens; i++)
        if (tokens[i] < 0 || tokens[i] >= kv.m->hp.n_vocab)
            return dc_error(DC_ERR_INVALID_ARG, "session save: token %d at %d is outside the "
                            "vocabulary", tokens[i], i);
    state_header h;
    dc_status st = make_header(&kv, n_tokens, &h);
    if (st != DC_OK) return st;
    /* written beside the target and renamed over it: a failed save leaves
     * an older state at path intact */
    size_t plen = strlen(path);
    char *tmp = dc_malloc(plen + 5);
    if (!tmp) return DC_ERR_NOMEM;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    writer w = { .f = fopen(tmp, "wb"), .ok = true };
    if (!w.f) {
        dc_free(tmp);
        return dc_error(DC_ERR_IO, "session save: cannot create %s", path);
    }
    XXH3_64bits_reset(&w.x);
    st = write_state(&w, &kv, &h, tokens);
    if (fclose(w.f) != 0) w.ok = false;
    if (st == DC_OK && (!w.ok || rename(tmp, path) != 0))
        st = dc_error(DC_ERR_IO, "session save: writing %s failed", path);
    if (st != DC_OK) remove(tmp);
    dc_free(tmp);
    return st;
}

/* ---- load ------------------------------------------------------------------------------- */

static dc_status read_exact(FILE *f, void *p, size_t n, const char *path) {
    if (n && fread(p, 1, n, f) != n)
        return dc_error(DC_ERR_IO, "session load: %s: read failed", path);
    return DC_OK;
}

static bool u64_mul(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return false;
    *out = a * b;
    return true;
}

static bool u64_add(uint64_t a, uint64_t b, uint64_t *out) {
    if (b > UINT64_MAX - a) return false;
    *out = a + b;
    return true;
}

/* Header fields that do not depend on the session, and the size they imply
 * equal to the file's size. */
static dc_status check_layout(const state_header *h, uint64_t file_size, const char *path) {
    if (h->n_layer < 1 || h->n_layer > 65536 || h->n_caches < 1 || h->n_caches > 2 ||
        (h->n_caches == 2) != (h->v_row != 0) || h->k_row == 0 || h->n_past > h->n_ctx ||
        (h->n_tokens != 0 && h->n_tokens != h->n_past))
        return dc_error(DC_ERR_FORMAT, "session load: %s: inconsistent header (n_layer %u, "
                        "n_past %u, n_ctx %u, n_tokens %u)", path, h->n_layer, h->n_past,
                        h->n_ctx, h->n_tokens);
    uint64_t row = 0, per_layer = 0, rows = 0, want = 0;
    bool overflow = !u64_add(h->k_row, h->v_row, &row) || !u64_mul(h->n_past, row, &per_layer) ||
                    !u64_mul(per_layer, h->n_layer, &rows) ||
                    !u64_add(rows, HEADER_BYTES + 8 + 4ull * h->n_tokens, &want);
    if (overflow || want != file_size)
        return dc_error(DC_ERR_FORMAT, "session load: %s: the header describes %llu bytes, the "
                        "file has %llu (truncated or not a complete state)", path,
                        overflow ? 0ull : (unsigned long long)want, (unsigned long long)file_size);
    return DC_OK;
}

/* Hash every byte but the last 8 and compare with them. */
static dc_status check_sum(FILE *f, uint64_t file_size, const char *path) {
    unsigned char *buf = dc_malloc(CHUNK_BYTES);
    if (!buf) return DC_ERR_NOMEM;
    XXH3_state_t x;
    XXH3_64bits_reset(&x);
    dc_status st = fseeko(f, 0, SEEK_SET) == 0 ? DC_OK
                 : dc_error(DC_ERR_IO, "session load: %s: seek failed", path);
    for (uint64_t off = 0; st == DC_OK && off < file_size - 8; off += CHUNK_BYTES) {
        size_t n = file_size - 8 - off < CHUNK_BYTES ? (size_t)(file_size - 8 - off) : CHUNK_BYTES;
        if ((st = read_exact(f, buf, n, path)) == DC_OK) XXH3_64bits_update(&x, buf, n);
    }
    unsigned char sum[8];
    if (st == DC_OK) st = read_exact(f, sum, 8, path);
    if (st == DC_OK && get_u64(sum) != XXH3_64bits_digest(&x))
        st = dc_error(DC_ERR_CHECKSUM, "session load: %s: checksum mismatch (the file is "
                      "damaged)", path);
    dc_free(buf);
    return st;
}

/* The state against the session: same model, cache type and row sizes. */
static dc_status check_identity(const state_header *h, const dc_session_kv *kv, const char *path) {
    state_header mine;
    dc_status st = make_header(kv, 0, &mine);
    if (st != DC_OK) return st;
    char arch[17];
    memcpy(arch, h->arch, 16);
    arch[16] = 0;
    const char *what = strcmp(arch, mine.arch)                ? "another architecture"
                     : h->n_layer != mine.n_layer             ? "another layer count"
                     : h->n_embd != mine.n_embd               ? "another embedding size"
                     : h->n_vocab != mine.n_vocab             ? "another vocabulary size"
                     : h->fingerprint != mine.fingerprint     ? "other weights"
                     : h->kv_type != mine.kv_type             ? "another KV cache type"
                     : h->n_caches != mine.n_caches || h->k_row != mine.k_row ||
                       h->v_row != mine.v_row                 ? "another cache row size"
                     : NULL;
    if (what) {
        const char *ts = dc_type_name((dc_type)h->kv_type);
        return dc_error(DC_ERR_INVALID_ARG, "session load: %s: the state is of another model or "
                        "cache type (%s: state %s, %u layers, n_embd %u, n_vocab %u, "
                        "cache %s; session %s, %u layers, n_embd %u, n_vocab %u, cache %s)",
                        path, what, arch, h->n_layer, h->n_embd, h->n_vocab, ts ? ts : "?",
                        mine.arch, mine.n_layer, mine.n_embd, mine.n_vocab,
                        dc_type_name(kv->kv_type));
    }
    if ((int64_t)h->n_past > kv->n_ctx)
        return dc_error(DC_ERR_CONTEXT_FULL, "session load: %s: the state holds %u positions, the "
                        "session has n_ctx %d", path, h->n_past, kv->n_ctx);
    return DC_OK;
}

/* Tokens of the history into out (checked against the vocabulary). */
static dc_status read_tokens(FILE *f, const state_header *h, dc_token *out, const char *path) {
    if (fseeko(f, HEADER_BYTES, SEEK_SET) != 0)
        return dc_error(DC_ERR_IO, "session load: %s: seek failed", path);
    for (uint32_t i = 0; i < h->n_tokens; i++) {
        unsigned char b[4];
        dc_status st = read_exact(f, b, 4, path);
        if (st != DC_OK) return st;
        uint32_t t = get_u32(b);
        if (t >= h->n_vocab)
            return dc_error(DC_ERR_FORMAT, "session load: %s: token %u at %u is outside the "
                            "vocabulary", path, t, i);
        if (out) out[i] = (dc_token)t;
    }
    return DC_OK;
}

static dc_status read_rows(FILE *f, dc_tensor *t, uint32_t n_past, unsigned char *buf,
                           const char *path) {
    size_t total = (size_t)n_past * dc_tensor_nb(t, 1);
    for (size_t off = 0; off < total; off += CHUNK_BYTES) {
        size_t n = total - off < CHUNK_BYTES ? total - off : CHUNK_BYTES;
        dc_status st = read_exact(f, buf, n, path);
        if (st == DC_OK) st = dc_tensor_set(t, buf, off, n);
        if (st != DC_OK) return st;
    }
    return DC_OK;
}

/* Everything is verified: copy the rows into the cache. */
static dc_status restore(FILE *f, dc_session *s, const dc_session_kv *kv, const state_header *h,
                         const char *path) {
    unsigned char *buf = dc_malloc(CHUNK_BYTES);
    if (!buf) return DC_ERR_NOMEM;
    dc_session_kv_set_n_past(s, 0);
    dc_status st = DC_OK;
    for (uint32_t il = 0; il < h->n_layer && st == DC_OK; il++) {
        st = read_rows(f, kv->k_cache[il], h->n_past, buf, path);
        if (st == DC_OK && kv->v_cache[il]) st = read_rows(f, kv->v_cache[il], h->n_past, buf, path);
    }
    dc_free(buf);
    if (st == DC_OK) dc_session_kv_set_n_past(s, (int32_t)h->n_past);
    return st;
}

static dc_status load_file(FILE *f, dc_session *s, const char *path, dc_token *tokens,
                           int32_t cap, int32_t *n_tokens) {
    if (fseeko(f, 0, SEEK_END) != 0)
        return dc_error(DC_ERR_IO, "session load: %s: cannot seek", path);
    off_t end = ftello(f);
    unsigned char head[HEADER_BYTES];
    if (end < HEADER_BYTES + 8 || fseeko(f, 0, SEEK_SET) != 0 ||
        fread(head, 1, HEADER_BYTES, f) != HEADER_BYTES || memcmp(head, STATE_MAGIC, 4))
        return dc_error(DC_ERR_FORMAT, "session load: %s: not a deepc session state (no DCSS "
                        "header)", path);
    if (get_u32(head + 4) != STATE_VERSION)
        return dc_error(DC_ERR_UNSUPPORTED, "session load: %s: state version %u (this build "
                        "reads version %u)", path, get_u32(head + 4), STATE_VERSION);
    state_header h;
    decode_header(head, &h);
    dc_session_kv kv;
    dc_session_kv_view(s, &kv);
    dc_status st = check_layout(&h, (uint64_t)end, path);
    if (st == DC_OK) st = check_sum(f, (uint64_t)end, path);
    if (st == DC_OK) st = check_identity(&h, &kv, path);
    if (st == DC_OK && h.n_tokens > (uint32_t)cap)
        st = dc_error(DC_ERR_INVALID_ARG, "session load: %s: the history needs %u tokens, cap "
                      "is %d", path, h.n_tokens, cap);
    if (st == DC_OK) st = read_tokens(f, &h, NULL, path);    /* check ids first */
    if (st == DC_OK) st = read_tokens(f, &h, tokens, path);
    if (st != DC_OK) return st;
    if ((st = restore(f, s, &kv, &h, path)) != DC_OK) return st;
    *n_tokens = (int32_t)h.n_tokens;
    return DC_OK;
}

dc_status dc_session_load(dc_session *s, const char *path, dc_token *tokens, int32_t cap,
                          int32_t *n_tokens) {
    DC_CHECK_ARG(n_tokens != NULL);
    *n_tokens = 0;
    DC_CHECK_ARG(s != NULL && path != NULL && cap >= 0 && (tokens != NULL || cap == 0));
    FILE *f = fopen(path, "rb");
    if (!f) return dc_error(DC_ERR_IO, "session load: cannot open %s", path);
    dc_status st = load_file(f, s, path, tokens, cap, n_tokens);
    fclose(f);
    return st;
}
