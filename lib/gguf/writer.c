/*
 * writer.c - build a GGUF file in memory order and write it in one pass.
 *
 * Keys keep their value already encoded as it will sit in the file (the
 * bytes after the type id), so dc_gguf_copy_kv() copies a reader's value
 * verbatim and writing is a straight walk. Tensors are recorded with borrowed
 * data pointers; nothing is copied until dc_gguf_writer_write().
 *
 * The layout is the one ggml's strict reader accepts (spec/fp8-gguf.md §2.2):
 * version 3, tensor data in info order at offsets that are the running sum of
 * sizes each padded to the alignment, zero padding after the last tensor too,
 * names < 64 bytes, no duplicate keys or names, general.alignment only as a
 * u32 power of two. DC_GGUF_CHECKSUM_KEY is always written last among the
 * keys, recomputed from the data (a stale value set by the caller is ignored).
 *
 * Streaming (dc_gguf_writer_begin / append / finish) writes the same bytes
 * for tensors declared by shape only: the header goes out first with every
 * offset computed from the shapes and the checksum array zeroed, data
 * follows piece by piece through one XXH3 streaming state (reset at each
 * tensor), and finish seeks back to patch the array. Only the header's
 * position of that array and one u64 per tensor are kept.
 *
 * Costs: setting a key or adding a tensor checks for an earlier one with the
 * same name by a linear scan, O(n^2) overall, which is nothing for the few
 * hundred keys and few thousand tensors a model has.
 */
#include "gguf_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

typedef struct wkv {
    char    *key;
    uint32_t type;
    uint8_t *raw;        /* value bytes as in the file [raw_size] */
    size_t   raw_size;
} wkv;

typedef struct wtensor {
    char        name[DC_MAX_NAME];
    dc_type     type;
    int         n_dims;
    int64_t     ne[DC_MAX_DIMS];
    size_t      size;      /* bytes of data                          */
    const void *data;      /* borrowed until dc_gguf_writer_write()  */
    bool        declared;  /* data comes by dc_gguf_writer_append()   */
} wtensor;

/* The file being written: position and the first-error flag. */
typedef struct out {
    FILE    *f;
    uint64_t pos;    /* bytes written so far */
    bool     ok;
} out;

/* Streaming state, between dc_gguf_writer_begin() and _finish(). */
typedef struct wstream {
    out           o;          /* o.f != NULL while streaming             */
    char         *path;       /* removed on failure                      */
    bool          failed;     /* an error closed the file: refuse calls  */
    size_t        align;
    uint64_t      sums_pos;   /* file offset of the checksum array       */
    uint64_t     *sums;       /* [n_tensors]                             */
    dc_gguf_hash *hash;       /* state of tensor `cur`                   */
    size_t        cur;        /* tensor receiving the next byte          */
    size_t        done;       /* its bytes so far                        */
} wstream;

struct dc_gguf_writer {
    wkv     *kvs;        /* [n_kv], insertion order, capacity cap_kv */
    size_t   n_kv, cap_kv;
    wtensor *tensors;    /* [n_tensors], capacity cap_tensors       */
    size_t   n_tensors, cap_tensors;
    wstream  s;
};

static void stream_abort(dc_gguf_writer *w);

dc_status dc_gguf_writer_init(dc_gguf_writer **out) {
    DC_CHECK_ARG(out != NULL);
    *out = dc_calloc(1, sizeof **out);
    return *out ? DC_OK : DC_ERR_NOMEM;
}

void dc_gguf_writer_free(dc_gguf_writer *w) {
    if (!w) return;
    stream_abort(w);
    dc_free(w->s.path);
    for (size_t i = 0; i < w->n_kv; i++) {
        dc_free(w->kvs[i].key);
        dc_free(w->kvs[i].raw);
    }
    dc_free(w->kvs);
    dc_free(w->tensors);
    dc_free(w);
}

/* arr grown (doubling) to hold element n; NULL on failure, arr untouched. */
static void *grow(void *arr, size_t n, size_t *cap, size_t elem) {
    if (n < *cap) return arr;
    size_t new_cap = *cap ? *cap * 2 : 16, bytes;
    if (!dc_size_mul(new_cap, elem, &bytes)) {
        dc_error(DC_ERR_NOMEM, "gguf writer: too many entries");
        return NULL;
    }
    void *p = dc_realloc(arr, bytes);
    if (p) *cap = new_cap;
    return p;
}

/* ---- keys ------------------------------------------------------------------- */

/* Set key to an encoded value (copied); replaces an earlier value in place. */
static dc_status set_raw(dc_gguf_writer *w, const char *key, uint32_t type,
                         const void *raw, size_t raw_size) {
    DC_CHECK_ARG(w != NULL && key != NULL);
    if (w->s.o.f)
        return dc_error(DC_ERR_INVALID_ARG, "key %s: the writer is streaming", key);
    size_t key_len = strlen(key);
    if (key_len == 0 || key_len > DC_GGUF_MAX_KEY)
        return dc_error(DC_ERR_INVALID_ARG, "key \"%.64s\": length %zu, want 1..%d", key,
                        key_len, DC_GGUF_MAX_KEY);
    uint8_t *copy = dc_malloc(raw_size);
    if (!copy) return DC_ERR_NOMEM;
    if (raw_size) memcpy(copy, raw, raw_size);
    size_t i = 0;
    while (i < w->n_kv && strcmp(w->kvs[i].key, key) != 0) i++;
    if (i == w->n_kv) {
        char *k = dc_strdup(key);
        wkv *kvs = k ? grow(w->kvs, w->n_kv, &w->cap_kv, sizeof *kvs) : NULL;
        if (!kvs) {
            dc_free(k);
            dc_free(copy);
            return DC_ERR_NOMEM;
        }
        w->kvs = kvs;
        w->kvs[w->n_kv++] = (wkv){ .key = k };
    }
    dc_free(w->kvs[i].raw);
    w->kvs[i].type = type;
    w->kvs[i].raw = copy;
    w->kvs[i].raw_size = raw_size;
    return DC_OK;
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static dc_status set_scalar(dc_gguf_writer *w, const char *key, dc_gguf_type t, uint64_t v) {
    uint8_t b[8];
    size_t  n = dc_gguf_type_size(t);
    /* 1..8 for the scalar types; stated, or GCC for aarch64 warns that put_le
     * may write past b */
    DC_ASSERT(n >= 1 && n <= sizeof b);
    put_le(b, v, n);
    return set_raw(w, key, t, b, n);
}

dc_status dc_gguf_set_u8(dc_gguf_writer *w, const char *key, uint8_t v) {
    return set_scalar(w, key, DC_GGUF_U8, v);
}
dc_status dc_gguf_set_i8(dc_gguf_writer *w, const char *key, int8_t v) {
    return set_scalar(w, key, DC_GGUF_I8, (uint8_t)v);
}
dc_status dc_gguf_set_u16(dc_gguf_writer *w, const char *key, uint16_t v) {
    return set_scalar(w, key, DC_GGUF_U16, v);
}
dc_status dc_gguf_set_i16(dc_gguf_writer *w, const char *key, int16_t v) {
    return set_scalar(w, key, DC_GGUF_I16, (uint16_t)v);
}
dc_status dc_gguf_set_u32(dc_gguf_writer *w, const char *key, uint32_t v) {
    return set_scalar(w, key, DC_GGUF_U32, v);
}
dc_status dc_gguf_set_i32(dc_gguf_writer *w, const char *key, int32_t v) {
    return set_scalar(w, key, DC_GGUF_I32, (uint32_t)v);
}
dc_status dc_gguf_set_u64(dc_gguf_writer *w, const char *key, uint64_t v) {
    return set_scalar(w, key, DC_GGUF_U64, v);
}
dc_status dc_gguf_set_i64(dc_gguf_writer *w, const char *key, int64_t v) {
    return set_scalar(w, key, DC_GGUF_I64, (uint64_t)v);
}
dc_status dc_gguf_set_bool(dc_gguf_writer *w, const char *key, bool v) {
    return set_scalar(w, key, DC_GGUF_BOOL, v ? 1 : 0);
}
dc_status dc_gguf_set_f32(dc_gguf_writer *w, const char *key, float v) {
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return set_scalar(w, key, DC_GGUF_F32, u);
}
dc_status dc_gguf_set_f64(dc_gguf_writer *w, const char *key, double v) {
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return set_scalar(w, key, DC_GGUF_F64, u);
}

dc_status dc_gguf_set_str(dc_gguf_writer *w, const char *key, const char *v) {
    DC_CHECK_ARG(v != NULL);
    size_t len = strlen(v), total;
    if (!dc_size_add(len, 8, &total)) return dc_error(DC_ERR_NOMEM, "string too long");
    uint8_t *raw = dc_malloc(total);
    if (!raw) return DC_ERR_NOMEM;
    put_le(raw, len, 8);
    memcpy(raw + 8, v, len);
    dc_status st = set_raw(w, key, DC_GGUF_STRING, raw, total);
    dc_free(raw);
    return st;
}

/* Host-order elements to little-endian file order, checking bool bytes. */
static dc_status encode_elems(uint8_t *dst, const void *src, dc_gguf_type t, uint64_t n,
                              const char *key) {
    size_t esz = dc_gguf_type_size(t);
    const uint8_t *s = src;
    for (uint64_t i = 0; i < n; i++, s += esz, dst += esz) {
        uint64_t v = 0;
        switch (esz) {
        case 1: v = s[0]; break;
        case 2: { uint16_t x; memcpy(&x, s, 2); v = x; break; }
        case 4: { uint32_t x; memcpy(&x, s, 4); v = x; break; }
        default: memcpy(&v, s, 8); break;
        }
        if (t == DC_GGUF_BOOL && v > 1)
            return dc_error(DC_ERR_INVALID_ARG, "key %s: bool element %llu is %llu, want "
                            "0 or 1", key, (unsigned long long)i, (unsigned long long)v);
        put_le(dst, v, esz);
    }
    return DC_OK;
}

dc_status dc_gguf_set_arr(dc_gguf_writer *w, const char *key, dc_gguf_type elem_type,
                          const void *data, uint64_t n) {
    DC_CHECK_ARG(key != NULL && (data != NULL || n == 0));
    size_t esz = dc_gguf_type_size((uint32_t)elem_type), bytes, total;
    if (esz == 0)
        return dc_error(DC_ERR_INVALID_ARG, "key %s: array element type %s is not a "
                        "fixed-size type", key, dc_gguf_type_name(elem_type));
    if (n > SIZE_MAX || !dc_size_mul((size_t)n, esz, &bytes) ||
        !dc_size_add(bytes, 12, &total))
        return dc_error(DC_ERR_NOMEM, "key %s: array of %llu elements is too large", key,
                        (unsigned long long)n);
    uint8_t *raw = dc_malloc(total);
    if (!raw) return DC_ERR_NOMEM;
    put_le(raw, (uint32_t)elem_type, 4);
    put_le(raw + 4, n, 8);
    dc_status st = encode_elems(raw + 12, data, elem_type, n, key);
    if (st == DC_OK) st = set_raw(w, key, DC_GGUF_ARRAY, raw, total);
    dc_free(raw);
    return st;
}

dc_status dc_gguf_set_arr_str(dc_gguf_writer *w, const char *key,
                              const char *const *v, uint64_t n) {
    DC_CHECK_ARG(key != NULL && (v != NULL || n == 0));
    size_t total = 12;
    for (uint64_t i = 0; i < n; i++) {
        if (!v[i])
            return dc_error(DC_ERR_INVALID_ARG, "key %s: string %llu is NULL", key,
                            (unsigned long long)i);
        if (!dc_size_add(total, 8, &total) || !dc_size_add(total, strlen(v[i]), &total))
            return dc_error(DC_ERR_NOMEM, "key %s: string array too large", key);
    }
    uint8_t *raw = dc_malloc(total), *p = raw;
    if (!raw) return DC_ERR_NOMEM;
    put_le(p, DC_GGUF_STRING, 4);
    put_le(p + 4, n, 8);
    p += 12;
    for (uint64_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        put_le(p, len, 8);
        memcpy(p + 8, v[i], len);
        p += 8 + len;
    }
    dc_status st = set_raw(w, key, DC_GGUF_ARRAY, raw, total);
    dc_free(raw);
    return st;
}

dc_status dc_gguf_copy_kv(dc_gguf_writer *w, const dc_gguf *g) {
    DC_CHECK_ARG(w != NULL && g != NULL);
    for (int64_t i = 0; i < g->n_kv; i++) {
        const dc_gguf_kv *kv = &g->kvs[i];
        if (strcmp(kv->key, DC_GGUF_CHECKSUM_KEY) == 0) continue;
        dc_status st = set_raw(w, kv->key, kv->type, g->base + kv->raw_off, kv->raw_size);
        if (st != DC_OK) return st;
    }
    return DC_OK;
}

dc_status dc_gguf_unset(dc_gguf_writer *w, const char *key) {
    DC_CHECK_ARG(w != NULL && key != NULL);
    if (w->s.o.f)
        return dc_error(DC_ERR_INVALID_ARG, "key %s: the writer is streaming", key);
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, key) != 0) continue;
        dc_free(w->kvs[i].key);
        dc_free(w->kvs[i].raw);
        memmove(&w->kvs[i], &w->kvs[i + 1], (w->n_kv - i - 1) * sizeof *w->kvs);
        w->n_kv--;
        break;
    }
    return DC_OK;
}

/* ---- tensors ------------------------------------------------------------------ */

/* Bytes of a tensor of this shape, or an error naming it. */
static dc_status shape_bytes(const char *name, dc_type type, int n_dims, const int64_t *ne,
                             int64_t full[DC_MAX_DIMS], size_t *size) {
    if (!dc_type_valid(type) || dc_type_block_size(type) <= 0)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: unknown type id %d", name, (int)type);
    if (n_dims < 1 || n_dims > DC_MAX_DIMS)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: n_dims = %d, want 1..%d", name,
                        n_dims, DC_MAX_DIMS);
    /* the reader's limits: a 0 dimension counts as 1 (one block for ne[0]) */
    int64_t blck = dc_type_block_size(type), nel = 1;
    bool empty = false;
    for (int j = 0; j < DC_MAX_DIMS; j++) {
        full[j] = j < n_dims ? ne[j] : 1;
        if (full[j] < 0)
            return dc_error(DC_ERR_INVALID_ARG, "tensor %s: ne[%d] = %lld is negative", name,
                            j, (long long)full[j]);
        int64_t n = full[j] > 0 ? full[j] : j == 0 ? blck : 1;
        empty |= full[j] == 0;
        if (nel > INT64_MAX / n)
            return dc_error(DC_ERR_INVALID_ARG, "tensor %s: more than 2^63 elements", name);
        nel *= n;
    }
    if (full[0] % blck != 0)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: ne[0] = %lld is not a multiple of "
                        "the %s block size %lld", name, (long long)full[0],
                        dc_type_name(type), (long long)blck);
    if (!dc_size_mul((size_t)(nel / blck), dc_type_block_bytes(type), size))
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: too large", name);
    if (empty) *size = 0;
    return DC_OK;
}

static dc_status add_tensor(dc_gguf_writer *w, const char *name, dc_type type, int n_dims,
                            const int64_t *ne, const void *data, bool declared) {
    DC_CHECK_ARG(w != NULL && name != NULL && ne != NULL);
    if (w->s.o.f)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: the writer is streaming", name);
    size_t len = strlen(name);
    if (len == 0 || len >= DC_MAX_NAME)
        return dc_error(DC_ERR_INVALID_ARG, "tensor \"%.64s\": name is %zu bytes, want "
                        "1..%d", name, len, DC_MAX_NAME - 1);
    for (size_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0)
            return dc_error(DC_ERR_INVALID_ARG, "tensor %s: added twice", name);
    wtensor t = { .type = type, .n_dims = n_dims, .data = data, .declared = declared };
    dc_status st = shape_bytes(name, type, n_dims, ne, t.ne, &t.size);
    if (st != DC_OK) return st;
    if (!declared && !data && t.size > 0)
        return dc_error(DC_ERR_INVALID_ARG, "tensor %s: NULL data for %zu bytes", name,
                        t.size);
    memcpy(t.name, name, len + 1);
    wtensor *ts = grow(w->tensors, w->n_tensors, &w->cap_tensors, sizeof *ts);
    if (!ts) return DC_ERR_NOMEM;
    w->tensors = ts;
    w->tensors[w->n_tensors++] = t;
    return DC_OK;
}

dc_status dc_gguf_add_tensor(dc_gguf_writer *w, const char *name, dc_type type,
                             int n_dims, const int64_t *ne, const void *data) {
    return add_tensor(w, name, type, n_dims, ne, data, false);
}

dc_status dc_gguf_declare_tensor(dc_gguf_writer *w, const char *name, dc_type type,
                                 int n_dims, const int64_t *ne) {
    return add_tensor(w, name, type, n_dims, ne, NULL, true);
}

/* ---- writing --------------------------------------------------------------------- */

static void put(out *o, const void *p, size_t n) {
    if (o->ok && n && fwrite(p, 1, n, o->f) != n) o->ok = false;
    o->pos += n;
}

static void put_u32(out *o, uint32_t v) { uint8_t b[4]; put_le(b, v, 4); put(o, b, 4); }
static void put_u64(out *o, uint64_t v) { uint8_t b[8]; put_le(b, v, 8); put(o, b, 8); }

static void put_str(out *o, const char *s) {
    size_t n = strlen(s);
    put_u64(o, n);
    put(o, s, n);
}

static void put_pad(out *o, size_t align) {
    static const uint8_t zeros[256];
    size_t n = (size_t)(dc_pad(o->pos, align) - o->pos);
    while (n > 0) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        put(o, zeros, k);
        n -= k;
    }
}

/* The alignment the file will use: general.alignment if set (u32 power of
 * two, else an error), otherwise the default. */
static dc_status writer_alignment(const dc_gguf_writer *w, size_t *align) {
    *align = DC_GGUF_DEFAULT_ALIGNMENT;
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, DC_GGUF_ALIGN_KEY) != 0) continue;
        uint32_t a = w->kvs[i].type == DC_GGUF_U32 ? dc_gguf_rd32(w->kvs[i].raw) : 0;
        if (a == 0 || (a & (a - 1)) != 0)
            return dc_error(DC_ERR_INVALID_ARG, "key %s: must be a u32 power of two",
                            DC_GGUF_ALIGN_KEY);
        *align = a;
    }
    return DC_OK;
}

/* Header, keys (checksums last), tensor infos with running aligned offsets.
 * *sums_pos (if not NULL) gets the file offset of the checksum array. */
static dc_status write_header(const dc_gguf_writer *w, out *o, size_t align,
                              const uint64_t *sums, uint64_t *sums_pos) {
    size_t n_kv = 1;
    for (size_t i = 0; i < w->n_kv; i++) n_kv += strcmp(w->kvs[i].key, DC_GGUF_CHECKSUM_KEY) != 0;
    put(o, DC_GGUF_MAGIC, 4);
    put_u32(o, DC_GGUF_VERSION);
    put_u64(o, w->n_tensors);
    put_u64(o, n_kv);
    for (size_t i = 0; i < w->n_kv; i++) {
        if (strcmp(w->kvs[i].key, DC_GGUF_CHECKSUM_KEY) == 0) continue;
        put_str(o, w->kvs[i].key);
        put_u32(o, w->kvs[i].type);
        put(o, w->kvs[i].raw, w->kvs[i].raw_size);
    }
    put_str(o, DC_GGUF_CHECKSUM_KEY);
    put_u32(o, DC_GGUF_ARRAY);
    put_u32(o, DC_GGUF_U64);
    put_u64(o, w->n_tensors);
    if (sums_pos) *sums_pos = o->pos;
    for (size_t i = 0; i < w->n_tensors; i++) put_u64(o, sums[i]);
    size_t offset = 0;
    for (size_t i = 0; i < w->n_tensors; i++) {
        const wtensor *t = &w->tensors[i];
        put_str(o, t->name);
        put_u32(o, (uint32_t)t->n_dims);
        for (int j = 0; j < t->n_dims; j++) put_u64(o, (uint64_t)t->ne[j]);
        put_u32(o, (uint32_t)t->type);
        put_u64(o, offset);
        size_t padded = dc_pad(t->size, align);
        if (padded < t->size || !dc_size_add(offset, padded, &offset))
            return dc_error(DC_ERR_INVALID_ARG, "tensor %s: data past 2^64 bytes", t->name);
    }
    put_pad(o, align);
    return DC_OK;
}

dc_status dc_gguf_writer_write(dc_gguf_writer *w, const char *path) {
    DC_CHECK_ARG(w != NULL && path != NULL);
    size_t align;
    bool created = false;
    out o = { NULL, 0, true };
    if (w->s.o.f) return dc_error(DC_ERR_INVALID_ARG, "gguf writer: streaming has begun");
    for (size_t i = 0; i < w->n_tensors; i++)
        if (w->tensors[i].declared && w->tensors[i].size > 0)
            return dc_error(DC_ERR_INVALID_ARG, "tensor %s: declared without data; stream "
                            "it (dc_gguf_writer_begin)", w->tensors[i].name);
    dc_status st = writer_alignment(w, &align);
    if (st != DC_OK) return st;
    uint64_t *sums = dc_malloc(w->n_tensors * sizeof *sums);
    if (!sums) return DC_ERR_NOMEM;
    for (size_t i = 0; i < w->n_tensors; i++)
        sums[i] = dc_gguf_xxh3(w->tensors[i].data, w->tensors[i].size);
    o.f = fopen(path, "wb");
    created = o.f != NULL;
    if (!o.f) {
        st = dc_error(DC_ERR_IO, "cannot create: %s", strerror(errno));
        goto fail;
    }
    if ((st = write_header(w, &o, align, sums, NULL)) != DC_OK) goto fail;
    for (size_t i = 0; i < w->n_tensors && o.ok; i++) {
        put(&o, w->tensors[i].data, w->tensors[i].size);
        put_pad(&o, align);
    }
    if (!o.ok) {
        st = dc_error(DC_ERR_IO, "write failed after %llu bytes: %s",
                      (unsigned long long)o.pos, strerror(errno));
        goto fail;
    }
    FILE *f = o.f;
    o.f = NULL;
    if (fclose(f) != 0) {
        st = dc_error(DC_ERR_IO, "write failed on close: %s", strerror(errno));
        goto fail;
    }
    dc_free(sums);
    return DC_OK;
fail:
    if (o.f) fclose(o.f);
    if (created) remove(path);
    dc_free(sums);
    return st;
}

/* ---- streaming ------------------------------------------------------------------- */

/* Close and remove a partial file; later calls fail until a new begin. */
static void stream_abort(dc_gguf_writer *w) {
    wstream *s = &w->s;
    if (s->o.f) {
        fclose(s->o.f);
        s->o.f = NULL;
        if (s->path) remove(s->path);
        s->failed = true;
    }
    dc_free(s->sums);
    s->sums = NULL;
    dc_gguf_hash_free(s->hash);
    s->hash = NULL;
}

static dc_status stream_fail(dc_gguf_writer *w, dc_status st) {
    stream_abort(w);
    return st;
}

static dc_status stream_check(const dc_gguf_writer *w) {
    if (w->s.o.f) return DC_OK;
    if (w->s.failed)
        return dc_error(DC_ERR_IO, "gguf writer: the stream failed earlier and its file "
                        "was removed");
    return dc_error(DC_ERR_INVALID_ARG, "gguf writer: not streaming (call "
                    "dc_gguf_writer_begin first)");
}

/* Close every complete tensor from `cur` on (checksum, padding), so `cur` is
 * the next tensor still owed bytes, or n_tensors. */
static void stream_advance(dc_gguf_writer *w) {
    wstream *s = &w->s;
    while (s->cur < w->n_tensors && s->done == w->tensors[s->cur].size) {
        s->sums[s->cur] = dc_gguf_hash_digest(s->hash);
        dc_gguf_hash_reset(s->hash);
        put_pad(&s->o, s->align);
        s->cur++;
        s->done = 0;
    }
}

dc_status dc_gguf_writer_begin(dc_gguf_writer *w, const char *path) {
    DC_CHECK_ARG(w != NULL && path != NULL);
    wstream *s = &w->s;
    if (s->o.f) return dc_error(DC_ERR_INVALID_ARG, "gguf writer: streaming has begun");
    for (size_t i = 0; i < w->n_tensors; i++)
        if (!w->tensors[i].declared && w->tensors[i].size > 0)
            return dc_error(DC_ERR_INVALID_ARG, "tensor %s: added with data; a streamed "
                            "file needs dc_gguf_declare_tensor", w->tensors[i].name);
    size_t align;
    dc_status st = writer_alignment(w, &align);
    if (st != DC_OK) return st;
    char *p = dc_strdup(path);
    uint64_t *sums = dc_calloc(w->n_tensors, sizeof *sums);
    dc_gguf_hash *hash = dc_gguf_hash_new();
    if (!p || !sums || !hash) {
        dc_free(p);
        dc_free(sums);
        dc_gguf_hash_free(hash);
        return DC_ERR_NOMEM;
    }
    dc_free(s->path);
    *s = (wstream){ .o = { NULL, 0, true }, .path = p, .align = align, .sums = sums,
                    .hash = hash };
    s->o.f = fopen(path, "wb");
    if (!s->o.f) {
        st = dc_error(DC_ERR_IO, "cannot create: %s", strerror(errno));
        stream_abort(w);   /* no file was created: a plain error, not `failed` */
        return st;
    }
    st = write_header(w, &s->o, align, sums, &s->sums_pos);
    if (st == DC_OK && !s->o.ok)
        st = dc_error(DC_ERR_IO, "header write failed: %s", strerror(errno));
    if (st != DC_OK) return stream_fail(w, st);
    stream_advance(w);   /* leading empty tensors are complete already */
    return DC_OK;
}

dc_status dc_gguf_writer_append(dc_gguf_writer *w, const void *data, size_t n) {
    DC_CHECK_ARG(w != NULL && (data != NULL || n == 0));
    dc_status st = stream_check(w);
    if (st != DC_OK) return st;
    wstream *s = &w->s;
    const uint8_t *p = data;
    while (n > 0 && s->o.ok) {
        if (s->cur == w->n_tensors)
            return stream_fail(w, dc_error(DC_ERR_INVALID_ARG, "gguf writer: %zu bytes "
                                           "appended past the last tensor", n));
        size_t k = w->tensors[s->cur].size - s->done;
        if (k > n) k = n;
        dc_gguf_hash_update(s->hash, p, k);
        put(&s->o, p, k);
        s->done += k;
        p += k;
        n -= k;
        stream_advance(w);
    }
    if (!s->o.ok)
        return stream_fail(w, dc_error(DC_ERR_IO, "write failed after %llu bytes: %s",
                                       (unsigned long long)s->o.pos, strerror(errno)));
    return DC_OK;
}

int64_t dc_gguf_writer_current(const dc_gguf_writer *w, size_t *done) {
    if (!w || !w->s.o.f) return -1;
    if (done) *done = w->s.done;
    return (int64_t)w->s.cur;
}

dc_status dc_gguf_writer_finish(dc_gguf_writer *w) {
    DC_CHECK_ARG(w != NULL);
    dc_status st = stream_check(w);
    if (st != DC_OK) return st;
    wstream *s = &w->s;
    if (s->cur < w->n_tensors)
        return stream_fail(w, dc_error(DC_ERR_INVALID_ARG, "tensor %s: %zu of %zu bytes "
                                       "appended before finish", w->tensors[s->cur].name,
                                       s->done, w->tensors[s->cur].size));
    /* the array sits in the header, far below LONG_MAX */
    if (!s->o.ok || fflush(s->o.f) != 0 || s->sums_pos > (uint64_t)LONG_MAX ||
        fseek(s->o.f, (long)s->sums_pos, SEEK_SET) != 0)
        return stream_fail(w, dc_error(DC_ERR_IO, "write failed after %llu bytes: %s",
                                       (unsigned long long)s->o.pos, strerror(errno)));
    for (size_t i = 0; i < w->n_tensors; i++) put_u64(&s->o, s->sums[i]);
    if (!s->o.ok)
        return stream_fail(w, dc_error(DC_ERR_IO, "checksum write failed: %s",
                                       strerror(errno)));
    FILE *f = s->o.f;
    s->o.f = NULL;
    if (fclose(f) != 0) {
        st = dc_error(DC_ERR_IO, "write failed on close: %s", strerror(errno));
        remove(s->path);
        s->failed = true;
    }
    dc_free(s->sums);
    s->sums = NULL;
    dc_gguf_hash_free(s->hash);
    s->hash = NULL;
    return st;
}
