/*
 * gguf_impl.h - what an open GGUF file is inside deepc. Shared by reader.c
 * (parse and validate), kv.c (getters), checksum.c and writer.c
 * (dc_gguf_copy_kv copies values as stored); never installed.
 *
 * An open file is its bytes (mmapped or borrowed) plus small index arrays
 * built once by the reader: one record per key and per tensor, a pool holding
 * NUL-terminated copies of keys and tensor names, open-addressing hash tables
 * for lookup by name, and the byte offset of every element of every string
 * array (so element i of a 100k-token vocabulary is O(1), not a walk). Values
 * themselves are never copied: records hold file offsets, read on demand.
 */
#ifndef DEEPC_GGUF_IMPL_H
#define DEEPC_GGUF_IMPL_H

#include "deepc/gguf.h"

#include "../core/core_impl.h"

#define DC_GGUF_MAGIC       "GGUF"
#define DC_GGUF_VERSION     3
#define DC_GGUF_MAX_KEY     65535   /* GGUF spec: keys are at most 2^16-1 bytes */
#define DC_GGUF_ALIGN_KEY   "general.alignment"

/* One metadata entry. Offsets are into the file (g->base). */
typedef struct dc_gguf_kv {
    const char  *key;        /* NUL-terminated copy in g->names             */
    size_t       key_off;    /* the key's bytes in the file, key_len long   */
    size_t       key_len;
    dc_gguf_type type;
    dc_gguf_type elem_type;  /* ARRAY: type of the elements                 */
    uint64_t     n;          /* STRING: bytes; ARRAY: elements; else 1      */
    size_t       val_off;    /* scalar value, string bytes, or element 0    */
    size_t       raw_off;    /* the value as stored, after the type id      */
    size_t       raw_size;   /* (what dc_gguf_copy_kv copies verbatim)      */
    size_t       str_first;  /* STRING arrays: element 0 in g->str_offs     */
} dc_gguf_kv;

/* One tensor: the public record plus where its name sits in the file. */
typedef struct dc_gguf_tensor_rec {
    dc_gguf_tensor_info info;
    size_t              name_off;
    size_t              name_len;
} dc_gguf_tensor_rec;

struct dc_gguf {
    const uint8_t      *base;         /* file bytes [size]                    */
    size_t              size;
    void               *map;          /* mmap to undo, NULL for open_memory   */
    uint32_t            version;
    size_t              alignment;
    size_t              data_offset;  /* padded end of the tensor infos       */
    int64_t             n_kv;
    dc_gguf_kv         *kvs;          /* [n_kv], file order                   */
    int64_t             n_tensors;
    dc_gguf_tensor_rec *tensors;      /* [n_tensors], file order              */
    char               *names;        /* pool of keys and tensor names        */
    size_t             *str_offs;     /* [all string-array elements]: offset
                                         of each string's bytes; its u64
                                         length sits just before           */
    int64_t            *key_index;    /* [key_cap] hash slots: kv index or -1 */
    size_t              key_cap;      /* power of two                         */
    int64_t            *tensor_index; /* [tensor_cap], likewise               */
    size_t              tensor_cap;
};

/* Bytes of one element of a fixed-size value type; 0 for STRING, ARRAY and
 * ids outside the enum. */
size_t dc_gguf_type_size(uint32_t type);

/* Little-endian loads from unaligned file bytes. */
static inline uint16_t dc_gguf_rd16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t dc_gguf_rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}
static inline uint64_t dc_gguf_rd64(const uint8_t *p) {
    return (uint64_t)dc_gguf_rd32(p) | (uint64_t)dc_gguf_rd32(p + 4) << 32;
}

/* XXH3-64 (seed 0) of n bytes: the per-tensor checksum. */
uint64_t dc_gguf_xxh3(const void *data, size_t n);

/* The same checksum over data given in pieces (the streaming writer):
 * new (NULL on out of memory) starts empty; digest after any number of
 * updates equals dc_gguf_xxh3 of their concatenation; reset empties it. */
typedef struct dc_gguf_hash dc_gguf_hash;
dc_gguf_hash *dc_gguf_hash_new(void);
void          dc_gguf_hash_reset(dc_gguf_hash *h);
void          dc_gguf_hash_update(dc_gguf_hash *h, const void *data, size_t n);
uint64_t      dc_gguf_hash_digest(const dc_gguf_hash *h);
void          dc_gguf_hash_free(dc_gguf_hash *h);   /* NULL: no-op */

#endif /* DEEPC_GGUF_IMPL_H */
