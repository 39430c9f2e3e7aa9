/*
 * reader.c - open a GGUF file and validate all of it before anyone reads it
 * (layout: spec/fp8-gguf.md §2.1; the rules: include/deepc/gguf.h).
 *
 * Every read goes through a cursor that knows how many bytes are left, so a
 * truncated or lying file fails with DC_ERR_FORMAT and an offset instead of
 * a wild read. Counts and lengths are compared with the bytes left *before*
 * anything is allocated: a tensor info takes at least 33 bytes and a key/value
 * at least 14, so tensor_count 2^63 fails at once instead of asking malloc
 * for exabytes, and the record arrays grow with what is actually parsed, so
 * a count that is merely too large costs no more memory than the records
 * before the point where the bytes run out. The parse is one pass over the
 * header that records file offsets; then a pool gets NUL-terminated copies
 * of keys and names, hash tables find duplicates (O(n)), and the tensors,
 * sorted by offset (O(n log n)), are checked for alignment, bounds and
 * overlap.
 *
 * Refused on purpose: GGUF v1 (u32 counts), byte-swapped files (there is no
 * endianness flag; ggml's heuristic flags them), nested arrays, n_dims 0,
 * and anything that would need a guess. Accepted although ggml is stricter:
 * gaps between tensors and tensors stored out of info order.
 */
#include "gguf_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Smallest encodings: a key/value is key length (8) + one key byte + type (4)
 * + a one-byte value; a tensor info is name length (8) + one name byte +
 * n_dims (4) + one dim (8) + type (4) + offset (8). */
#define MIN_KV_BYTES     14
#define MIN_TENSOR_BYTES 33
#define PRINT_MAX        64   /* bytes of a file name/key quoted in messages */

/* ---- bounds-checked cursor -------------------------------------------------- */

typedef struct cursor {
    const uint8_t *p;     /* file bytes [size]                 */
    size_t         size;
    size_t         pos;   /* next byte to read; always <= size */
} cursor;

static size_t cur_left(const cursor *c) { return c->size - c->pos; }

static bool cur_u32(cursor *c, uint32_t *v) {
    if (cur_left(c) < 4) return false;
    *v = dc_gguf_rd32(c->p + c->pos);
    c->pos += 4;
    return true;
}

static bool cur_u64(cursor *c, uint64_t *v) {
    if (cur_left(c) < 8) return false;
    *v = dc_gguf_rd64(c->p + c->pos);
    c->pos += 8;
    return true;
}

static dc_status truncated(const cursor *c, const char *what, const char *name) {
    return dc_error(DC_ERR_FORMAT, "%s%s%s: file truncated at offset %zu of %zu",
                    what, name ? " " : "", name ? name : "", c->pos, c->size);
}

/* Copy up to PRINT_MAX bytes of s into buf for a message, replacing bytes
 * that are not printable ASCII so one message stays one line. */
static const char *printable(const uint8_t *s, size_t n, char buf[PRINT_MAX + 4]) {
    size_t m = n < PRINT_MAX ? n : PRINT_MAX;
    for (size_t i = 0; i < m; i++) buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    if (m < n) {
        memcpy(buf + m, "...", 3);
        m += 3;
    }
    buf[m] = '\0';
    return buf;
}

static const char *printable_str(const char *s, char buf[PRINT_MAX + 4]) {
    return printable((const uint8_t *)s, strlen(s), buf);
}

/* A GGUF string: u64 length, then that many bytes (no terminator). */
static bool cur_str(cursor *c, size_t *off, size_t *len) {
    uint64_t n;
    size_t start = c->pos;
    if (!cur_u64(c, &n) || n > cur_left(c)) {
        c->pos = start;
        return false;
    }
    *off = c->pos;
    *len = (size_t)n;
    c->pos += (size_t)n;
    return true;
}

/* ---- key/value section ------------------------------------------------------ */

size_t dc_gguf_type_size(uint32_t type) {
    static const uint8_t sizes[DC_GGUF_TYPE_COUNT] = {
        [DC_GGUF_U8] = 1,  [DC_GGUF_I8] = 1,  [DC_GGUF_U16] = 2, [DC_GGUF_I16] = 2,
        [DC_GGUF_U32] = 4, [DC_GGUF_I32] = 4, [DC_GGUF_F32] = 4, [DC_GGUF_BOOL] = 1,
        [DC_GGUF_U64] = 8, [DC_GGUF_I64] = 8, [DC_GGUF_F64] = 8,
    };
    return type < DC_GGUF_TYPE_COUNT ? sizes[type] : 0;
}

/* n packed elements of fixed-size type t at the cursor; bools must be 0/1. */
static dc_status parse_fixed(cursor *c, uint32_t t, uint64_t n, const char *key) {
    size_t esz = dc_gguf_type_size(t);
    if (n > cur_left(c) / esz)
        return dc_error(DC_ERR_FORMAT, "key %s: %llu values of %zu bytes at offset %zu "
                        "need more than the %zu bytes left", key, (unsigned long long)n,
                        esz, c->pos, cur_left(c));
    if (t == DC_GGUF_BOOL) {
        for (size_t i = 0; i < (size_t)n; i++)
            if (c->p[c->pos + i] > 1)
                return dc_error(DC_ERR_FORMAT, "key %s: bool byte %u at offset %zu "
                                "(only 0 and 1 are valid)", key, c->p[c->pos + i],
                                c->pos + i);
    }
    c->pos += (size_t)n * esz;
    return DC_OK;
}

/* Array body: element type, count, elements. Strings are walked one by one;
 * the count is first checked against the bytes left (8 per string at least). */
static dc_status parse_array(cursor *c, dc_gguf_kv *kv, const char *key,
                             size_t *n_str) {
    uint32_t et;
    uint64_t n;
    if (!cur_u32(c, &et)) return truncated(c, "key", key);
    if (et == DC_GGUF_ARRAY)
        return dc_error(DC_ERR_FORMAT, "key %s: nested arrays are not supported", key);
    if (et >= DC_GGUF_TYPE_COUNT)
        return dc_error(DC_ERR_FORMAT, "key %s: unknown array element type %u", key, et);
    if (!cur_u64(c, &n)) return truncated(c, "key", key);
    kv->elem_type = (dc_gguf_type)et;
    kv->n = n;
    kv->val_off = c->pos;
    if (et != DC_GGUF_STRING) return parse_fixed(c, et, n, key);
    if (n > cur_left(c) / 8)
        return dc_error(DC_ERR_FORMAT, "key %s: %llu strings at offset %zu need more than "
                        "the %zu bytes left", key, (unsigned long long)n, c->pos,
                        cur_left(c));
    for (uint64_t i = 0; i < n; i++) {
        size_t off, len;
        if (!cur_str(c, &off, &len))
            return dc_error(DC_ERR_FORMAT, "key %s: string %llu at offset %zu runs past "
                            "the end of the file (%zu bytes)", key,
                            (unsigned long long)i, c->pos, c->size);
    }
    kv->str_first = *n_str;
    *n_str += (size_t)n;
    return DC_OK;
}

static dc_status parse_kv(cursor *c, int64_t i, dc_gguf_kv *kv, size_t *n_str) {
    char key[PRINT_MAX + 4];
    uint32_t t;
    if (!cur_str(c, &kv->key_off, &kv->key_len))
        return dc_error(DC_ERR_FORMAT, "key #%lld: name at offset %zu runs past the end "
                        "of the file (%zu bytes)", (long long)i, c->pos, c->size);
    printable(c->p + kv->key_off, kv->key_len, key);
    if (kv->key_len == 0)
        return dc_error(DC_ERR_FORMAT, "key #%lld: empty key name", (long long)i);
    if (kv->key_len > DC_GGUF_MAX_KEY)
        return dc_error(DC_ERR_FORMAT, "key %s: name is %zu bytes, at most %d allowed",
                        key, kv->key_len, DC_GGUF_MAX_KEY);
    if (memchr(c->p + kv->key_off, 0, kv->key_len))
        return dc_error(DC_ERR_FORMAT, "key %s: name contains a NUL byte", key);
    if (!cur_u32(c, &t)) return truncated(c, "key", key);
    if (t >= DC_GGUF_TYPE_COUNT)
        return dc_error(DC_ERR_FORMAT, "key %s: unknown value type %u", key, t);
    kv->type = (dc_gguf_type)t;
    kv->elem_type = DC_GGUF_TYPE_COUNT;
    kv->n = 1;
    kv->raw_off = c->pos;
    dc_status st = DC_OK;
    if (t == DC_GGUF_ARRAY) {
        st = parse_array(c, kv, key, n_str);
    } else if (t == DC_GGUF_STRING) {
        size_t len;
        if (!cur_str(c, &kv->val_off, &len))
            return dc_error(DC_ERR_FORMAT, "key %s: string value at offset %zu runs past "
                            "the end of the file (%zu bytes)", key, c->pos, c->size);
        kv->n = len;
    } else {
        kv->val_off = c->pos;
        if (cur_left(c) < dc_gguf_type_size(t)) return truncated(c, "key", key);
        st = parse_fixed(c, t, 1, key);
    }
    kv->raw_size = c->pos - kv->raw_off;
    return st;
}

/* ---- tensor infos ------------------------------------------------------------ */

/* Bytes of a tensor, refusing shapes whose element count overflows int64 or
 * whose byte size overflows size_t. A dimension of 0 makes an empty tensor,
 * but the limits are checked as if it were 1 (one block for ne[0]), so code
 * computing strides or partial products from ne never overflows either. */
static dc_status tensor_size(dc_gguf_tensor_info *t, const char *name) {
    int64_t blck = dc_type_block_size(t->type);
    size_t  bbytes = dc_type_block_bytes(t->type), bytes;
    int64_t nel = 1;
    bool    empty = false;
    for (int j = 0; j < DC_MAX_DIMS; j++) {
        int64_t ne = t->ne[j] > 0 ? t->ne[j] : j == 0 ? blck : 1;
        empty |= t->ne[j] == 0;
        if (nel > INT64_MAX / ne)
            return dc_error(DC_ERR_FORMAT, "tensor %s: shape [%lld, %lld, %lld, %lld] has "
                            "more than 2^63 elements", name, (long long)t->ne[0],
                            (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
        nel *= ne;
    }
    if (t->ne[0] % blck != 0)
        return dc_error(DC_ERR_FORMAT, "tensor %s: ne[0] = %lld is not a multiple of the "
                        "%s block size %lld", name, (long long)t->ne[0],
                        dc_type_name(t->type), (long long)blck);
    if (!dc_size_mul((size_t)(nel / blck), bbytes, &bytes))
        return dc_error(DC_ERR_FORMAT, "tensor %s: %lld %s elements do not fit in memory",
                        name, (long long)nel, dc_type_name(t->type));
    t->size = empty ? 0 : bytes;
    return DC_OK;
}

static dc_status parse_tensor(cursor *c, int64_t i, dc_gguf_tensor_rec *r) {
    char name[PRINT_MAX + 4];
    dc_gguf_tensor_info *t = &r->info;
    uint32_t n_dims, type;
    if (!cur_str(c, &r->name_off, &r->name_len))
        return dc_error(DC_ERR_FORMAT, "tensor #%lld: name at offset %zu runs past the end "
                        "of the file (%zu bytes)", (long long)i, c->pos, c->size);
    printable(c->p + r->name_off, r->name_len, name);
    if (r->name_len == 0)
        return dc_error(DC_ERR_FORMAT, "tensor #%lld: empty name", (long long)i);
    if (r->name_len >= DC_MAX_NAME)
        return dc_error(DC_ERR_FORMAT, "tensor %s: name is %zu bytes, at most %d allowed",
                        name, r->name_len, DC_MAX_NAME - 1);
    if (memchr(c->p + r->name_off, 0, r->name_len))
        return dc_error(DC_ERR_FORMAT, "tensor %s: name contains a NUL byte", name);
    if (!cur_u32(c, &n_dims)) return truncated(c, "tensor", name);
    if (n_dims < 1 || n_dims > DC_MAX_DIMS)
        return dc_error(DC_ERR_FORMAT, "tensor %s: n_dims = %u, want 1..%d", name, n_dims,
                        DC_MAX_DIMS);
    t->n_dims = (int)n_dims;
    for (int j = 0; j < DC_MAX_DIMS; j++) {
        uint64_t ne = 1;
        if ((uint32_t)j < n_dims && !cur_u64(c, &ne)) return truncated(c, "tensor", name);
        if (ne > (uint64_t)INT64_MAX)
            return dc_error(DC_ERR_FORMAT, "tensor %s: ne[%d] = %lld is negative", name, j,
                            (long long)ne);
        t->ne[j] = (int64_t)ne;
    }
    if (!cur_u32(c, &type)) return truncated(c, "tensor", name);
    if (!dc_type_valid(type) || dc_type_block_size((dc_type)type) <= 0 ||
        dc_type_block_bytes((dc_type)type) == 0)
        return dc_error(DC_ERR_FORMAT, "tensor %s: unknown type id %u", name, type);
    t->type = (dc_type)type;
    if (!cur_u64(c, &t->offset)) return truncated(c, "tensor", name);
    return tensor_size(t, name);
}

/* ---- name pool and hash indexes ---------------------------------------------- */

static uint64_t hash_name(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;    /* FNV-1a 64 */
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    return h;
}

static const char *kv_name(const dc_gguf *g, int64_t i) { return g->kvs[i].key; }
static const char *tensor_name(const dc_gguf *g, int64_t i) { return g->tensors[i].info.name; }

typedef const char *(*name_fn)(const dc_gguf *g, int64_t i);

/* Slot of name in an open-addressing table (linear probing): the slot that
 * holds it, or the empty slot where it would go. cap is a power of two with
 * at least one empty slot. */
static size_t index_slot(const dc_gguf *g, const int64_t *slots, size_t cap,
                         name_fn name_of, const char *name) {
    size_t s = (size_t)hash_name(name) & (cap - 1);
    while (slots[s] >= 0 && strcmp(name_of(g, slots[s]), name) != 0) s = (s + 1) & (cap - 1);
    return s;
}

/* Build a table of n names with load <= 1/2; a name seen twice is an error. */
static dc_status index_build(const dc_gguf *g, int64_t n, name_fn name_of,
                             const char *what, int64_t **out, size_t *out_cap) {
    size_t cap = 8;
    while (cap / 2 < (size_t)n) cap *= 2;
    int64_t *slots = dc_malloc(cap * sizeof *slots);
    if (!slots) return DC_ERR_NOMEM;
    for (size_t s = 0; s < cap; s++) slots[s] = -1;
    for (int64_t i = 0; i < n; i++) {
        size_t s = index_slot(g, slots, cap, name_of, name_of(g, i));
        if (slots[s] >= 0) {
            char buf[PRINT_MAX + 4];
            dc_status st = dc_error(DC_ERR_FORMAT, "%s %s: appears twice (#%lld and #%lld)",
                                    what, printable_str(name_of(g, i), buf),
                                    (long long)slots[s], (long long)i);
            dc_free(slots);
            return st;
        }
        slots[s] = i;
    }
    *out = slots;
    *out_cap = cap;
    return DC_OK;
}

int64_t dc_gguf_find_key(const dc_gguf *g, const char *key) {
    if (!g || !key) return -1;
    return g->key_index[index_slot(g, g->key_index, g->key_cap, kv_name, key)];
}

int64_t dc_gguf_find_tensor(const dc_gguf *g, const char *name) {
    if (!g || !name) return -1;
    return g->tensor_index[index_slot(g, g->tensor_index, g->tensor_cap, tensor_name, name)];
}

/* NUL-terminated copies of every key and tensor name in one allocation; the
 * total is bounded by the file size plus the counts. */
static dc_status build_names(dc_gguf *g) {
    size_t total = 0;
    for (int64_t i = 0; i < g->n_kv; i++) total += g->kvs[i].key_len + 1;
    for (int64_t i = 0; i < g->n_tensors; i++) total += g->tensors[i].name_len + 1;
    char *p = g->names = dc_malloc(total);
    if (!p) return DC_ERR_NOMEM;
    for (int64_t i = 0; i < g->n_kv; i++) {
        dc_gguf_kv *kv = &g->kvs[i];
        memcpy(p, g->base + kv->key_off, kv->key_len);
        p[kv->key_len] = '\0';
        kv->key = p;
        p += kv->key_len + 1;
    }
    for (int64_t i = 0; i < g->n_tensors; i++) {
        dc_gguf_tensor_rec *r = &g->tensors[i];
        memcpy(p, g->base + r->name_off, r->name_len);
        p[r->name_len] = '\0';
        r->info.name = p;
        p += r->name_len + 1;
    }
    return DC_OK;
}

/* Offsets of every string-array element, walking the (validated) arrays. */
static dc_status build_str_offs(dc_gguf *g, size_t n_str) {
    g->str_offs = dc_malloc(n_str * sizeof *g->str_offs);
    if (!g->str_offs) return DC_ERR_NOMEM;
    for (int64_t i = 0; i < g->n_kv; i++) {
        const dc_gguf_kv *kv = &g->kvs[i];
        if (kv->type != DC_GGUF_ARRAY || kv->elem_type != DC_GGUF_STRING) continue;
        size_t off = kv->val_off;
        for (uint64_t j = 0; j < kv->n; j++) {
            size_t len = (size_t)dc_gguf_rd64(g->base + off);
            g->str_offs[kv->str_first + j] = off + 8;
            off += 8 + len;
        }
    }
    return DC_OK;
}

/* ---- layout checks ------------------------------------------------------------ */

static dc_status read_alignment(dc_gguf *g) {
    int64_t i = dc_gguf_find_key(g, DC_GGUF_ALIGN_KEY);
    g->alignment = DC_GGUF_DEFAULT_ALIGNMENT;
    if (i < 0) return DC_OK;
    const dc_gguf_kv *kv = &g->kvs[i];
    if (kv->type != DC_GGUF_U32)
        return dc_error(DC_ERR_FORMAT, "key %s: stored as %s, must be u32", kv->key,
                        dc_gguf_type_name(kv->type));
    uint32_t a = dc_gguf_rd32(g->base + kv->val_off);
    if (a == 0 || (a & (a - 1)) != 0)
        return dc_error(DC_ERR_FORMAT, "key %s: %u is not a power of two", kv->key, a);
    g->alignment = a;
    return DC_OK;
}

typedef struct span { uint64_t offset; size_t size; int64_t idx; } span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    if (x->offset != y->offset) return x->offset < y->offset ? -1 : 1;
    return (x->size > y->size) - (x->size < y->size);
}

/* Each tensor aligned and inside the data section; sorted by offset, no
 * tensor starts before the previous ones end (empty tensors take no bytes). */
static dc_status check_tensor_data(dc_gguf *g, size_t header_end) {
    if (!dc_size_add(header_end, g->alignment - 1, &g->data_offset))
        return dc_error(DC_ERR_FORMAT, "data offset overflows");
    g->data_offset = g->data_offset / g->alignment * g->alignment;
    size_t data_size = g->size > g->data_offset ? g->size - g->data_offset : 0;
    span *sp = dc_malloc((size_t)g->n_tensors * sizeof *sp);
    if (!sp) return DC_ERR_NOMEM;
    dc_status st = DC_OK;
    char name[PRINT_MAX + 4], other[PRINT_MAX + 4];
    for (int64_t i = 0; i < g->n_tensors; i++) {
        dc_gguf_tensor_info *t = &g->tensors[i].info;
        if (t->offset % g->alignment != 0) {
            st = dc_error(DC_ERR_FORMAT, "tensor %s: offset %llu is not a multiple of the "
                          "alignment %zu", printable_str(t->name, name),
                          (unsigned long long)t->offset, g->alignment);
            goto fail;
        }
        if (t->offset > data_size || t->size > data_size - t->offset) {
            st = dc_error(DC_ERR_FORMAT, "tensor %s: data [%llu, +%zu) lies outside the "
                          "%zu-byte data section at file offset %zu",
                          printable_str(t->name, name), (unsigned long long)t->offset,
                          t->size, data_size, g->data_offset);
            goto fail;
        }
        t->data = g->base + (data_size ? g->data_offset + t->offset : g->size);
        sp[i] = (span){ t->offset, t->size, i };
    }
    qsort(sp, (size_t)g->n_tensors, sizeof *sp, span_cmp);
    uint64_t end = 0;
    int64_t  end_idx = -1;
    for (int64_t k = 0; k < g->n_tensors; k++) {
        if (sp[k].size > 0 && sp[k].offset < end) {
            st = dc_error(DC_ERR_FORMAT, "tensor %s: data at offset %llu overlaps tensor %s",
                          printable_str(g->tensors[sp[k].idx].info.name, name),
                          (unsigned long long)sp[k].offset,
                          printable_str(g->tensors[end_idx].info.name, other));
            goto fail;
        }
        if (sp[k].offset + sp[k].size > end) {
            end = sp[k].offset + sp[k].size;
            end_idx = sp[k].idx;
        }
    }
fail:
    dc_free(sp);
    return st;
}

/* ---- header and the whole parse ------------------------------------------------ */

static dc_status parse_header(dc_gguf *g, cursor *c, uint64_t *n_tensors, uint64_t *n_kv) {
    char magic[PRINT_MAX + 4];
    if (c->size == 0) return dc_error(DC_ERR_FORMAT, "empty file (0 bytes), not a GGUF file");
    if (c->size < 4 || memcmp(c->p, DC_GGUF_MAGIC, 4) != 0)
        return dc_error(DC_ERR_FORMAT, "bad magic \"%s\", not a GGUF file",
                        printable(c->p, c->size < 4 ? c->size : 4, magic));
    c->pos = 4;
    if (!cur_u32(c, &g->version)) return truncated(c, "header", NULL);
    if (g->version != 0 && (g->version & 0xffff) == 0)
        return dc_error(DC_ERR_FORMAT, "version 0x%08x: probably a big-endian (byte-swapped) "
                        "file, which is not supported", g->version);
    if (g->version == 1)
        return dc_error(DC_ERR_FORMAT, "GGUF version 1 is no longer supported (convert the "
                        "file again)");
    if (g->version < 2 || g->version > DC_GGUF_VERSION)
        return dc_error(DC_ERR_FORMAT, "unsupported GGUF version %u (want 2 or 3)",
                        g->version);
    if (!cur_u64(c, n_tensors) || !cur_u64(c, n_kv)) return truncated(c, "header", NULL);
    if (*n_kv > cur_left(c) / MIN_KV_BYTES)
        return dc_error(DC_ERR_FORMAT, "kv_count %llu cannot fit in the %zu bytes left",
                        (unsigned long long)*n_kv, cur_left(c));
    if (*n_tensors > (cur_left(c) - *n_kv * MIN_KV_BYTES) / MIN_TENSOR_BYTES)
        return dc_error(DC_ERR_FORMAT, "tensor_count %llu cannot fit in the %zu bytes left",
                        (unsigned long long)*n_tensors, cur_left(c));
    return DC_OK;
}

/* arr grown to hold element i, new slots zeroed; NULL on failure (arr is
 * then untouched). Record arrays grow by doubling while the file is parsed,
 * so memory follows the records actually present, never the counts the
 * header claims (those are only bounded by the file size). */
static void *reserve(void *arr, size_t *cap, size_t i, size_t elem) {
    if (i < *cap) return arr;
    size_t new_cap = *cap ? *cap * 2 : 64;
    char *p = dc_realloc(arr, new_cap * elem);   /* <= 2x the bytes parsed */
    if (!p) return NULL;
    memset(p + *cap * elem, 0, (new_cap - *cap) * elem);
    *cap = new_cap;
    return p;
}

static dc_status parse_records(dc_gguf *g, cursor *c, uint64_t n_kv, uint64_t n_tensors,
                               size_t *n_str) {
    size_t kv_cap = 0, tensor_cap = 0;
    dc_status st;
    for (g->n_kv = 0; g->n_kv < (int64_t)n_kv; g->n_kv++) {
        size_t i = (size_t)g->n_kv;
        dc_gguf_kv *kvs = reserve(g->kvs, &kv_cap, i, sizeof *kvs);
        if (!kvs) return DC_ERR_NOMEM;
        g->kvs = kvs;
        if ((st = parse_kv(c, g->n_kv, &kvs[i], n_str)) != DC_OK) return st;
    }
    for (g->n_tensors = 0; g->n_tensors < (int64_t)n_tensors; g->n_tensors++) {
        size_t i = (size_t)g->n_tensors;
        dc_gguf_tensor_rec *ts = reserve(g->tensors, &tensor_cap, i, sizeof *ts);
        if (!ts) return DC_ERR_NOMEM;
        g->tensors = ts;
        if ((st = parse_tensor(c, g->n_tensors, &ts[i])) != DC_OK) return st;
    }
    return DC_OK;
}

static dc_status parse(dc_gguf *g) {
    cursor c = { g->base, g->size, 0 };
    uint64_t n_tensors = 0, n_kv = 0;
    size_t n_str = 0;
    dc_status st = parse_header(g, &c, &n_tensors, &n_kv);
    if (st != DC_OK) return st;
    if ((st = parse_records(g, &c, n_kv, n_tensors, &n_str)) != DC_OK) return st;
    if ((st = build_names(g)) != DC_OK) return st;
    if ((st = build_str_offs(g, n_str)) != DC_OK) return st;
    st = index_build(g, g->n_kv, kv_name, "key", &g->key_index, &g->key_cap);
    if (st != DC_OK) return st;
    st = index_build(g, g->n_tensors, tensor_name, "tensor", &g->tensor_index,
                     &g->tensor_cap);
    if (st != DC_OK) return st;
    if ((st = read_alignment(g)) != DC_OK) return st;
    return check_tensor_data(g, c.pos);
}

/* ---- open / close ------------------------------------------------------------- */

dc_status dc_gguf_open_memory(const void *data, size_t size, dc_gguf **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(data != NULL || size == 0);
    dc_gguf *g = dc_calloc(1, sizeof *g);
    if (!g) return DC_ERR_NOMEM;
    g->base = data;
    g->size = size;
    dc_status st = parse(g);
    if (st != DC_OK) goto fail;
    *out = g;
    return DC_OK;
fail:
    dc_gguf_close(g);
    return st;
}

dc_status dc_gguf_open(const char *path, dc_gguf **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    DC_CHECK_ARG(path != NULL);
    struct stat sb;
    void *map = NULL;
    size_t size = 0;
    dc_status st = DC_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return dc_error(DC_ERR_IO, "cannot open: %s", strerror(errno));
    if (fstat(fd, &sb) != 0) {
        st = dc_error(DC_ERR_IO, "cannot stat: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = dc_error(DC_ERR_IO, "not a regular file");
        goto fail;
    }
    if (sb.st_size <= 0 || (uint64_t)sb.st_size > SIZE_MAX) {
        st = dc_error(DC_ERR_FORMAT, "file size %lld is not that of a GGUF file",
                      (long long)sb.st_size);
        goto fail;
    }
    size = (size_t)sb.st_size;
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        map = NULL;
        st = dc_error(DC_ERR_IO, "cannot mmap %zu bytes: %s", size, strerror(errno));
        goto fail;
    }
    if ((st = dc_gguf_open_memory(map, size, out)) != DC_OK) goto fail;
    (*out)->map = map;
    close(fd);
    return DC_OK;
fail:
    if (map) munmap(map, size);
    close(fd);
    return st;
}

void dc_gguf_close(dc_gguf *g) {
    if (!g) return;
    if (g->map) munmap(g->map, g->size);
    dc_free(g->kvs);
    dc_free(g->tensors);
    dc_free(g->names);
    dc_free(g->str_offs);
    dc_free(g->key_index);
    dc_free(g->tensor_index);
    dc_free(g);
}
