/*
 * session.c - one conversation with a model: KV cache, compute buffers and
 * the decode loop.
 *
 * At init the session allocates its cache (n_ctx rows per layer), builds the
 * worst-case graph (n_batch tokens at a full context) once to size the
 * scheduler's buffers, and keeps a graph arena that every decode resets and
 * refills: so a decode step allocates no tensor memory. A batch longer than
 * n_batch is split into chunks; each chunk is one graph (tokens, positions,
 * a causal mask and the rows whose logits are wanted are its inputs).
 * A batch that does not fit in the free context is refused whole with
 * DC_ERR_CONTEXT_FULL before anything is written.
 */
#include "model_impl.h"

#include <math.h>
#include <string.h>

struct dc_session {
    dc_model          *m;
    dc_session_params  p;
    dc_backend        *cpu;
    dc_sched          *sched;
    dc_context        *cache_ctx;      /* cache headers                       */
    dc_buffer         *cache_buf;      /* cache bytes                         */
    dc_tensor        **k_cache;        /* [n_layer]                           */
    dc_tensor        **v_cache;        /* [n_layer] (llama / qwen2 only)      */
    dc_context        *derived_ctx;    /* derived MLA weights (F32), or NULL  */
    dc_tensor        **kv_b_f32, **k_b_f32, **v_b_f32;
    dc_context        *gctx;           /* per-batch graph arena               */
    int32_t            n_past;
    float             *logits;         /* [n_vocab, cap_outputs]              */
    int32_t            n_outputs, cap_outputs;
    size_t             kv_bytes;
};

dc_session_params dc_session_default_params(void) {
    int cores = dc_cpu_physical_cores();
    return (dc_session_params){ .n_ctx = 0, .n_batch = 512, .n_threads = cores,
                                .n_threads_batch = cores, .kv_type = DC_TYPE_F16,
                                .mla = DC_MLA_AUTO };
}

/* ---- the KV cache -------------------------------------------------------------- */

static dc_status alloc_cache(dc_session *s) {
    const dc_hparams *hp = &s->m->hp;
    size_t per_tok = dc_model_kv_bytes_per_token(s->m, s->p.kv_type);
    if (per_tok == 0)
        return dc_error(DC_ERR_UNSUPPORTED, "session: KV cache type %s cannot hold this model's "
                        "rows (block size %lld)", dc_type_name(s->p.kv_type),
                        (long long)dc_type_block_size(s->p.kv_type));
    dc_context_params cp = { .mem_size = 4096 + (size_t)hp->n_layer * 2 * 512, .no_alloc = true };
    dc_status st = dc_context_init(&cp, &s->cache_ctx);
    if (st != DC_OK) return st;
    s->k_cache = dc_calloc((size_t)hp->n_layer, sizeof *s->k_cache);
    s->v_cache = dc_calloc((size_t)hp->n_layer, sizeof *s->v_cache);
    if (!s->k_cache || !s->v_cache) return DC_ERR_NOMEM;
    bool mla = hp->arch == DC_ARCH_DEEPSEEK2;
    int64_t row = mla ? hp->kv_lora_rank + hp->d_rope : (int64_t)hp->head_dim * hp->n_head_kv;
    for (int il = 0; il < hp->n_layer; il++) {
        s->k_cache[il] = dc_new_tensor_2d(s->cache_ctx, s->p.kv_type, row, s->p.n_ctx);
        dc_tensor_set_name(s->k_cache[il], "cache_k.%d", il);
        if (!mla) {
            s->v_cache[il] = dc_new_tensor_2d(s->cache_ctx, s->p.kv_type, row, s->p.n_ctx);
            dc_tensor_set_name(s->v_cache[il], "cache_v.%d", il);
        }
    }
    if (dc_context_status(s->cache_ctx) != DC_OK)
        return dc_error(dc_context_status(s->cache_ctx), "session: %s", dc_context_error(s->cache_ctx));
    st = dc_backend_alloc_ctx_tensors(s->cpu, s->cache_ctx, &s->cache_buf);
    if (st != DC_OK) return st;
    s->kv_bytes = dc_buffer_size(s->cache_buf);
    /* a fresh cache is zeros, so masked-out rows never hold NaN bit patterns */
    if (s->cache_buf->iface.clear) s->cache_buf->iface.clear(s->cache_buf, 0);
    return DC_OK;
}

/* ---- derived MLA weights ------------------------------------------------------------------ */

/* Dequantize all of t into a new F32 array (caller dc_free()s). */
static float *to_f32(const dc_tensor *t) {
    int64_t n = dc_tensor_nelements(t), row = t->ne[0];
    float *f = dc_malloc((size_t)n * sizeof *f);
    if (!f) return NULL;
    for (int64_t r = 0; r < n / row; r++) {
        if (dc_dequantize_row(t->type, (const char *)t->data + (size_t)r * t->nb[1],
                              f + r * row, row) != DC_OK) {
            dc_free(f);
            return NULL;
        }
    }
    return f;
}

/* kv_b [dl, H*(dn+dv)] from k_b [dn, dl, H] and v_b [dl, dv, H], or the
 * reverse, element maps of spec/deepseek-arch.md §2.6. */
static dc_status derive_layer(dc_session *s, int il) {
    const dc_hparams *hp = &s->m->hp;
    const dc_layer *L = &s->m->layers[il];
    const int64_t dl = hp->kv_lora_rank, dn = hp->d_nope, dv = hp->d_v, H = hp->n_head;
    dc_context *ctx = s->derived_ctx;
    bool to_kvb = L->k_b != NULL;
    float *a = to_f32(to_kvb ? L->k_b : L->kv_b), *bv = to_kvb ? to_f32(L->v_b) : NULL;
    if (!a || (to_kvb && !bv)) {
        dc_free(a);
        dc_free(bv);
        return DC_ERR_NOMEM;
    }
    dc_tensor *kvb = NULL, *kb = NULL, *vb = NULL;
    if (to_kvb) kvb = dc_new_tensor_2d(ctx, DC_TYPE_F32, dl, H * (dn + dv));
    else {
        kb = dc_new_tensor_3d(ctx, DC_TYPE_F32, dn, dl, H);
        vb = dc_new_tensor_3d(ctx, DC_TYPE_F32, dl, dv, H);
    }
    dc_status st = dc_context_status(ctx);
    if (st == DC_OK) {
        float *KV = to_kvb ? dc_tensor_data(kvb) : a;
        float *K = to_kvb ? a : dc_tensor_data(kb), *V = to_kvb ? bv : dc_tensor_data(vb);
        for (int64_t h = 0; h < H; h++)
            for (int64_t c = 0; c < dl; c++) {
                for (int64_t d = 0; d < dn; d++) {
                    float *kv = &KV[c + dl * (h * (dn + dv) + d)], *k = &K[d + dn * c + dn * dl * h];
                    if (to_kvb) *kv = *k;
                    else *k = *kv;
                }
                for (int64_t e = 0; e < dv; e++) {
                    float *kv = &KV[c + dl * (h * (dn + dv) + dn + e)], *v = &V[c + dl * e + dl * dv * h];
                    if (to_kvb) *kv = *v;
                    else *v = *kv;
                }
            }
        if (to_kvb) s->kv_b_f32[il] = kvb;
        else {
            s->k_b_f32[il] = kb;
            s->v_b_f32[il] = vb;
        }
    } else {
        st = dc_error(st, "session: derived MLA weights: %s", dc_context_error(ctx));
    }
    dc_free(a);
    dc_free(bv);
    return st;
}

/* Build the weights the requested MLA form needs and the file lacks. */
static dc_status derive_mla(dc_session *s) {
    const dc_hparams *hp = &s->m->hp;
    if (hp->arch != DC_ARCH_DEEPSEEK2) return DC_OK;
    bool need = (hp->mla_split && s->p.mla == DC_MLA_NAIVE) ||
                (!hp->mla_split && s->p.mla == DC_MLA_ABSORBED);
    if (!need) return DC_OK;
    size_t per = (size_t)hp->kv_lora_rank * hp->n_head * (hp->d_nope + hp->d_v) * sizeof(float);
    dc_context_params cp = { .mem_size = (size_t)hp->n_layer * (per + 4096) + 65536, .no_alloc = false };
    dc_status st = dc_context_init(&cp, &s->derived_ctx);
    if (st != DC_OK) return st;
    s->kv_b_f32 = dc_calloc((size_t)hp->n_layer, sizeof(dc_tensor *));
    s->k_b_f32 = dc_calloc((size_t)hp->n_layer, sizeof(dc_tensor *));
    s->v_b_f32 = dc_calloc((size_t)hp->n_layer, sizeof(dc_tensor *));
    if (!s->kv_b_f32 || !s->k_b_f32 || !s->v_b_f32) return DC_ERR_NOMEM;
    for (int il = 0; il < hp->n_layer && st == DC_OK; il++) st = derive_layer(s, il);
    DC_LOG_I("session: derived %s weights for the %s MLA form (%zu bytes)",
             hp->mla_split ? "attn_kv_b" : "attn_k_b / attn_v_b",
             s->p.mla == DC_MLA_NAIVE ? "naive" : "absorbed", dc_context_used(s->derived_ctx));
    return st;
}

/* ---- one graph --------------------------------------------------------------------------- */

/* Build the graph of a chunk: n_tok tokens after n_past, n_out logits rows. */
static dc_status build_graph(dc_session *s, int32_t n_tok, int32_t n_out, dc_tensor **logits,
                             dc_graph **g, dc_graph_inputs *in) {
    dc_context *ctx = s->gctx;
    dc_context_reset(ctx);
    const dc_hparams *hp = &s->m->hp;
    int32_t n_kv = s->n_past + n_tok;
    in->tokens = dc_new_tensor_1d(ctx, DC_TYPE_I32, n_tok);
    in->pos = dc_new_tensor_1d(ctx, DC_TYPE_I32, n_tok);
    in->mask = dc_new_tensor_2d(ctx, DC_TYPE_F32, n_kv, n_tok);
    in->out_ids = dc_new_tensor_1d(ctx, DC_TYPE_I32, n_out);
    dc_build b = {
        .ctx = ctx, .m = s->m, .k_cache = s->k_cache, .v_cache = s->v_cache,
        .kv_b_f32 = s->kv_b_f32, .k_b_f32 = s->k_b_f32, .v_b_f32 = s->v_b_f32,
        .n_tok = n_tok, .n_past = s->n_past, .n_kv = n_kv, .n_out = n_out,
        .mla_naive = s->p.mla == DC_MLA_NAIVE || (hp->arch == DC_ARCH_DEEPSEEK2 && !hp->mla_split &&
                                                  s->p.mla != DC_MLA_ABSORBED),
        .in = *in,
    };
    *logits = hp->arch == DC_ARCH_DEEPSEEK2 ? dc_build_deepseek2(&b) : dc_build_llama(&b);
    if (!*logits) {
        dc_status st = dc_context_status(ctx);
        return dc_error(st != DC_OK ? st : DC_ERR_INTERNAL, "session: building the graph: %s",
                        dc_context_error(ctx));
    }
    return dc_graph_build(ctx, logits, 1, g);
}

/* Causal mask [n_kv, n_tok]: token i sees cache rows 0 .. n_past + i. */
static void fill_mask(float *mask, int32_t n_past, int32_t n_tok) {
    int32_t n_kv = n_past + n_tok;
    for (int32_t i = 0; i < n_tok; i++)
        for (int32_t j = 0; j < n_kv; j++) mask[(size_t)i * n_kv + j] = j <= n_past + i ? 0.0f : -INFINITY;
}

/* ---- init / free ---------------------------------------------------------------------------- */

static dc_status check_params(dc_session *s) {
    dc_session_params *p = &s->p;
    const dc_hparams *hp = &s->m->hp;
    if (p->n_ctx == 0) p->n_ctx = hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096;
    if (p->n_ctx < 1 || p->n_batch < 1 || p->n_threads < 1 || p->n_threads_batch < 1)
        return dc_error(DC_ERR_INVALID_ARG, "session: n_ctx %d, n_batch %d, n_threads %d, "
                        "n_threads_batch %d must all be >= 1", p->n_ctx, p->n_batch, p->n_threads,
                        p->n_threads_batch);
    if (p->n_batch > p->n_ctx) p->n_batch = p->n_ctx;
    if (p->kv_type != DC_TYPE_F16 && p->kv_type != DC_TYPE_BF16 && p->kv_type != DC_TYPE_Q8_0 &&
        p->kv_type != DC_TYPE_F32)
        return dc_error(DC_ERR_UNSUPPORTED, "session: KV cache type %s (use F16, BF16, Q8_0 or F32)",
                        dc_type_name(p->kv_type) ? dc_type_name(p->kv_type) : "?");
    if (p->mla != DC_MLA_AUTO && p->mla != DC_MLA_ABSORBED && p->mla != DC_MLA_NAIVE)
        return dc_error(DC_ERR_INVALID_ARG, "session: mla mode %d", (int)p->mla);
    if (p->n_ctx > hp->n_ctx_train)
        DC_LOG_W("session: n_ctx %d exceeds the model's training context %d", p->n_ctx, hp->n_ctx_train);
    return DC_OK;
}

/* Plan the largest graph once so decoding never grows the buffers. */
static dc_status reserve(dc_session *s) {
    int32_t saved = s->n_past, n = s->p.n_batch;
    s->n_past = s->p.n_ctx - n;
    dc_tensor *logits;
    dc_graph *g;
    dc_graph_inputs in;
    dc_status st = build_graph(s, n, n, &logits, &g, &in);
    if (st == DC_OK) st = dc_sched_reserve(s->sched, g);
    s->n_past = saved;
    return st;
}

dc_status dc_session_init(dc_model *m, const dc_session_params *params, dc_session **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(m != NULL);
    dc_session *s = dc_calloc(1, sizeof *s);
    if (!s) return DC_ERR_NOMEM;
    s->m = m;
    s->p = params ? *params : dc_session_default_params();
    dc_status st = check_params(s);
    dc_cpu_params cpu = { .n_threads = s->p.n_threads_batch };
    if (st == DC_OK) st = dc_backend_cpu_init(&cpu, &s->cpu);
    if (st == DC_OK) st = dc_sched_init(&s->cpu, 1, &s->sched);
    if (st == DC_OK) st = alloc_cache(s);
    if (st == DC_OK) st = derive_mla(s);
    if (st == DC_OK) {
        size_t per_node = sizeof(dc_tensor) + 2 * DC_ALIGN;
        dc_context_params gp = { .mem_size = (size_t)(m->hp.n_layer + 4) * 160 * per_node + 65536,
                                 .no_alloc = true };
        st = dc_context_init(&gp, &s->gctx);
    }
    if (st == DC_OK) {
        s->cap_outputs = s->p.n_batch;
        s->logits = dc_malloc((size_t)s->cap_outputs * m->hp.n_vocab * sizeof(float));
        if (!s->logits) st = DC_ERR_NOMEM;
    }
    if (st == DC_OK) st = reserve(s);
    if (st != DC_OK) {
        dc_session_free(s);
        return st;
    }
    DC_LOG_I("session: n_ctx %d, KV cache %s %.1f MiB, compute %.1f MiB", s->p.n_ctx,
             dc_type_name(s->p.kv_type), (double)s->kv_bytes / 1048576.0,
             (double)dc_sched_buffer_size(s->sched) / 1048576.0);
    *out = s;
    return DC_OK;
}

void dc_session_free(dc_session *s) {
    if (!s) return;
    dc_sched_free(s->sched);
    dc_backend_free(s->cpu);
    dc_buffer_free(s->cache_buf);
    dc_context_free(s->cache_ctx);
    dc_context_free(s->derived_ctx);
    dc_context_free(s->gctx);
    dc_free(s->k_cache);
    dc_free(s->v_cache);
    dc_free(s->kv_b_f32);
    dc_free(s->k_b_f32);
    dc_free(s->v_b_f32);
    dc_free(s->logits);
    dc_free(s);
}

/* ---- decode ------------------------------------------------------------------------------------ */

static dc_status check_batch(const dc_session *s, const dc_batch *b) {
    if (b->n_tokens < 1 || !b->tokens)
        return dc_error(DC_ERR_INVALID_ARG, "decode: empty batch");
    if (b->n_tokens > s->p.n_ctx - s->n_past)
        return dc_error(DC_ERR_CONTEXT_FULL, "decode: %d tokens do not fit: %d of %d positions "
                        "used (truncate the session or start a new one)", b->n_tokens, s->n_past,
                        s->p.n_ctx);
    for (int32_t i = 0; i < b->n_tokens; i++) {
        if (b->tokens[i] < 0 || b->tokens[i] >= s->m->hp.n_vocab)
            return dc_error(DC_ERR_INVALID_ARG, "decode: token %d at %d is outside the vocabulary "
                            "[0, %d)", b->tokens[i], i, s->m->hp.n_vocab);
        if (b->pos && b->pos[i] != s->n_past + i)
            return dc_error(DC_ERR_INVALID_ARG, "decode: position %d at %d, want %d (positions "
                            "continue the cache)", b->pos[i], i, s->n_past + i);
    }
    return DC_OK;
}

/* Decode tokens [i0, i0 + n) of b as one graph; logits appended. */
static dc_status decode_chunk(dc_session *s, const dc_batch *b, int32_t i0, int32_t n) {
    int32_t n_out = 0;
    for (int32_t i = i0; i < i0 + n; i++)
        n_out += b->logits ? b->logits[i] != 0 : i == b->n_tokens - 1;
    int32_t n_graph_out = n_out > 0 ? n_out : 1;   /* a graph always ends in logits */
    dc_tensor *logits;
    dc_graph *g;
    dc_graph_inputs in;
    dc_status st = build_graph(s, n, n_graph_out, &logits, &g, &in);
    if (st == DC_OK) st = dc_sched_alloc_graph(s->sched, g);
    if (st != DC_OK) return st;
    /* inputs: tokens, positions, mask, rows with logits */
    int32_t *buf = dc_tensor_data(in.tokens), *pos = dc_tensor_data(in.pos);
    int32_t *ids = dc_tensor_data(in.out_ids);
    for (int32_t i = 0; i < n; i++) {
        buf[i] = b->tokens[i0 + i];
        pos[i] = s->n_past + i;
    }
    if (n_graph_out < n) {   /* otherwise every row is an output and ids is not in g */
        int32_t k = 0;
        for (int32_t i = 0; i < n; i++)
            if (b->logits ? b->logits[i0 + i] != 0 : i0 + i == b->n_tokens - 1) ids[k++] = i;
        if (k == 0) ids[0] = n - 1;
    }
    fill_mask(dc_tensor_data(in.mask), s->n_past, n);
    dc_backend_cpu_set_threads(s->cpu, n == 1 ? s->p.n_threads : s->p.n_threads_batch);
    if ((st = dc_sched_compute(s->sched, g)) != DC_OK) return st;
    s->n_past += n;
    if (n_out == 0) return DC_OK;
    size_t row = (size_t)s->m->hp.n_vocab * sizeof(float);
    return dc_tensor_get(logits, s->logits + (size_t)s->n_outputs * s->m->hp.n_vocab, 0, row * n_out);
}

dc_status dc_session_decode(dc_session *s, const dc_batch *b) {
    DC_CHECK_ARG(s != NULL && b != NULL);
    dc_status st = check_batch(s, b);
    if (st != DC_OK) return st;
    int32_t total_out = 0;
    for (int32_t i = 0; i < b->n_tokens; i++)
        total_out += b->logits ? b->logits[i] != 0 : i == b->n_tokens - 1;
    if (total_out > s->cap_outputs) {
        float *l = dc_malloc((size_t)total_out * s->m->hp.n_vocab * sizeof(float));
        if (!l) return DC_ERR_NOMEM;
        dc_free(s->logits);
        s->logits = l;
        s->cap_outputs = total_out;
    }
    s->n_outputs = 0;
    int32_t start = s->n_past;
    for (int32_t i0 = 0; i0 < b->n_tokens; i0 += s->p.n_batch) {
        int32_t n = b->n_tokens - i0 < s->p.n_batch ? b->n_tokens - i0 : s->p.n_batch;
        int32_t out_before = s->n_outputs;
        st = decode_chunk(s, b, i0, n);
        if (st != DC_OK) {
            s->n_past = start;      /* the cache rows written are dropped */
            s->n_outputs = 0;
            return st;
        }
        for (int32_t i = i0; i < i0 + n; i++)
            s->n_outputs += b->logits ? b->logits[i] != 0 : i == b->n_tokens - 1;
        (void)out_before;
    }
    return DC_OK;
}

dc_status dc_session_decode_tokens(dc_session *s, const dc_token *tokens, int32_t n, bool all) {
    DC_CHECK_ARG(s != NULL && tokens != NULL && n > 0);
    int8_t *flags = NULL;
    if (all) {
        flags = dc_malloc((size_t)n);
        if (!flags) return DC_ERR_NOMEM;
        memset(flags, 1, (size_t)n);
    }
    dc_batch b = { .n_tokens = n, .tokens = tokens, .pos = NULL, .logits = flags };
    dc_status st = dc_session_decode(s, &b);
    dc_free(flags);
    return st;
}

const float *dc_session_logits(const dc_session *s, int32_t i) {
    if (!s || s->n_outputs == 0) return NULL;
    if (i < 0) i += s->n_outputs;
    if (i < 0 || i >= s->n_outputs) return NULL;
    return s->logits + (size_t)i * s->m->hp.n_vocab;
}

int32_t dc_session_n_outputs(const dc_session *s) { return s ? s->n_outputs : 0; }
int32_t dc_session_n_past(const dc_session *s) { return s ? s->n_past : 0; }
int32_t dc_session_n_ctx(const dc_session *s) { return s ? s->p.n_ctx : 0; }

dc_status dc_session_truncate(dc_session *s, int32_t n_keep) {
    DC_CHECK_ARG(s != NULL);
    if (n_keep < 0 || n_keep > s->n_past)
        return dc_error(DC_ERR_INVALID_ARG, "truncate: keep %d of %d cached positions", n_keep,
                        s->n_past);
    s->n_past = n_keep;
    s->n_outputs = 0;
    return DC_OK;
}

dc_status dc_session_memory(const dc_session *s, dc_memory_estimate *out) {
    DC_CHECK_ARG(s != NULL && out != NULL);
    out->weights = s->m->weight_bytes + (s->derived_ctx ? dc_context_used(s->derived_ctx) : 0);
    out->kv_cache = s->kv_bytes;
    out->compute = dc_sched_buffer_size(s->sched);
    return DC_OK;
}

/* ---- internals for state.c ------------------------------------------------------------------ */

void dc_session_kv_view(const dc_session *s, dc_session_kv *out) {
    *out = (dc_session_kv){ .m = s->m, .k_cache = s->k_cache, .v_cache = s->v_cache,
                            .kv_type = s->p.kv_type, .n_ctx = s->p.n_ctx, .n_past = s->n_past };
}

void dc_session_kv_set_n_past(dc_session *s, int32_t n_past) {
    s->n_past = n_past;
    s->n_outputs = 0;
}
