/*
 * checksum.c - per-tensor XXH3-64 checksums (DESIGN.md, "Integrity").
 *
 * The writer stores one XXH3-64 (seed 0) of each tensor's data bytes, padding
 * excluded, as the u64 array DC_GGUF_CHECKSUM_KEY in tensor order; verify
 * recomputes them. XXH3 runs at memory bandwidth, so verifying costs about
 * one read of the file. xxHash is used header-only (XXH_INLINE_ALL): no link
 * dependency, and this is the only file that includes it. The streaming
 * writer hashes tensors piece by piece through dc_gguf_hash (XXH3's
 * reset / update / digest), which gives the same value as one call.
 */
#include "gguf_impl.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

uint64_t dc_gguf_xxh3(const void *data, size_t n) {
    return (uint64_t)XXH3_64bits(data, n);
}

/* XXH3_state_t wants 64-byte alignment, which dc_malloc gives. */
struct dc_gguf_hash {
    XXH3_state_t s;
};

dc_gguf_hash *dc_gguf_hash_new(void) {
    dc_gguf_hash *h = dc_malloc(sizeof *h);
    if (h) dc_gguf_hash_reset(h);
    return h;
}

void dc_gguf_hash_reset(dc_gguf_hash *h) {
    (void)XXH3_64bits_reset(&h->s);   /* cannot fail for a valid state */
}

void dc_gguf_hash_update(dc_gguf_hash *h, const void *data, size_t n) {
    if (n) (void)XXH3_64bits_update(&h->s, data, n);
}

uint64_t dc_gguf_hash_digest(const dc_gguf_hash *h) {
    return (uint64_t)XXH3_64bits_digest(&h->s);
}

void dc_gguf_hash_free(dc_gguf_hash *h) {
    dc_free(h);
}

dc_status dc_gguf_verify(const dc_gguf *g) {
    DC_CHECK_ARG(g != NULL);
    int64_t k = dc_gguf_find_key(g, DC_GGUF_CHECKSUM_KEY);
    if (k < 0)
        return dc_error(DC_ERR_NOT_FOUND, "key %s: not found, the file has no checksums",
                        DC_GGUF_CHECKSUM_KEY);
    const dc_gguf_kv *kv = &g->kvs[k];
    if (kv->type != DC_GGUF_ARRAY || kv->elem_type != DC_GGUF_U64)
        return dc_error(DC_ERR_FORMAT, "key %s: stored as %s, want array of u64", kv->key,
                        dc_gguf_type_name(kv->type == DC_GGUF_ARRAY ? kv->elem_type
                                                                    : kv->type));
    if (kv->n != (uint64_t)g->n_tensors)
        return dc_error(DC_ERR_FORMAT, "key %s: %llu checksums for %lld tensors", kv->key,
                        (unsigned long long)kv->n, (long long)g->n_tensors);
    for (int64_t i = 0; i < g->n_tensors; i++) {
        const dc_gguf_tensor_info *t = &g->tensors[i].info;
        uint64_t want = dc_gguf_rd64(g->base + kv->val_off + 8 * (size_t)i);
        uint64_t have = dc_gguf_xxh3(t->data, t->size);
        if (have != want)
            return dc_error(DC_ERR_CHECKSUM, "tensor %s: data checksum %016llx, stored "
                            "%016llx", t->name, (unsigned long long)have,
                            (unsigned long long)want);
    }
    return DC_OK;
}
