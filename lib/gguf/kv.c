/*
 * kv.c - read access to an open GGUF: file facts, typed key/value getters,
 * tensor records.
 *
 * Everything here reads records the reader already validated, so no getter
 * can run out of bounds; what remains to check is the caller's request. Keys
 * are found through the reader's hash table. Integer getters widen the stored
 * value to (sign, 64-bit magnitude) and accept it when it fits the requested
 * type, so a u32 key written as i32 (or u64) by another tool still reads as
 * u32; a value that does not fit is DC_ERR_TYPE naming the key and the value.
 * Floats are not converted between each other except f32 -> f64 (exact).
 */
#include "gguf_impl.h"

#include <string.h>

/* ---- file facts ------------------------------------------------------------- */

uint32_t dc_gguf_version(const dc_gguf *g) { return g ? g->version : 0; }
size_t   dc_gguf_alignment(const dc_gguf *g) { return g ? g->alignment : 0; }
size_t   dc_gguf_data_offset(const dc_gguf *g) { return g ? g->data_offset : 0; }
size_t   dc_gguf_file_size(const dc_gguf *g) { return g ? g->size : 0; }
int64_t  dc_gguf_n_kv(const dc_gguf *g) { return g ? g->n_kv : 0; }
int64_t  dc_gguf_n_tensors(const dc_gguf *g) { return g ? g->n_tensors : 0; }

const char *dc_gguf_type_name(dc_gguf_type t) {
    static const char *const names[DC_GGUF_TYPE_COUNT] = {
        [DC_GGUF_U8] = "u8",     [DC_GGUF_I8] = "i8",       [DC_GGUF_U16] = "u16",
        [DC_GGUF_I16] = "i16",   [DC_GGUF_U32] = "u32",     [DC_GGUF_I32] = "i32",
        [DC_GGUF_F32] = "f32",   [DC_GGUF_BOOL] = "bool",   [DC_GGUF_STRING] = "string",
        [DC_GGUF_ARRAY] = "array", [DC_GGUF_U64] = "u64",   [DC_GGUF_I64] = "i64",
        [DC_GGUF_F64] = "f64",
    };
    return (unsigned)t < DC_GGUF_TYPE_COUNT ? names[t] : "invalid";
}

const char *dc_gguf_key(const dc_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kvs[i].key : NULL;
}

dc_gguf_type dc_gguf_kv_type(const dc_gguf *g, int64_t i) {
    return g && i >= 0 && i < g->n_kv ? g->kvs[i].type : DC_GGUF_TYPE_COUNT;
}

/* ---- lookup helpers ----------------------------------------------------------- */

/* The record of key, or NULL with DC_ERR_NOT_FOUND / DC_ERR_INVALID_ARG set. */
static const dc_gguf_kv *find(const dc_gguf *g, const char *key, dc_status *st) {
    if (!g || !key) {
        *st = dc_error(DC_ERR_INVALID_ARG, "gguf getter: NULL file or key");
        return NULL;
    }
    int64_t i = dc_gguf_find_key(g, key);
    if (i < 0) {
        *st = dc_error(DC_ERR_NOT_FOUND, "key %s: not found", key);
        return NULL;
    }
    *st = DC_OK;
    return &g->kvs[i];
}

static dc_status wrong_type(const dc_gguf_kv *kv, const char *want) {
    const char *have = dc_gguf_type_name(kv->type);
    if (kv->type == DC_GGUF_ARRAY)
        return dc_error(DC_ERR_TYPE, "key %s: stored as array of %s, want %s", kv->key,
                        dc_gguf_type_name(kv->elem_type), want);
    return dc_error(DC_ERR_TYPE, "key %s: stored as %s, want %s", kv->key, have, want);
}

/* An integer value as sign + magnitude: negative values in *s, others in *u. */
typedef struct wide_int { bool neg; int64_t s; uint64_t u; } wide_int;

static dc_status get_int(const dc_gguf *g, const char *key, const char *want, wide_int *v) {
    dc_status st;
    const dc_gguf_kv *kv = find(g, key, &st);
    if (!kv) return st;
    const uint8_t *p = g->base + kv->val_off;
    int64_t s = 0;
    switch (kv->type) {
    case DC_GGUF_U8:  v->u = p[0]; break;
    case DC_GGUF_U16: v->u = dc_gguf_rd16(p); break;
    case DC_GGUF_U32: v->u = dc_gguf_rd32(p); break;
    case DC_GGUF_U64: v->u = dc_gguf_rd64(p); break;
    case DC_GGUF_I8:  s = (int8_t)p[0]; break;
    case DC_GGUF_I16: s = (int16_t)dc_gguf_rd16(p); break;
    case DC_GGUF_I32: s = (int32_t)dc_gguf_rd32(p); break;
    case DC_GGUF_I64: s = (int64_t)dc_gguf_rd64(p); break;
    default:          return wrong_type(kv, want);
    }
    bool is_signed = kv->type == DC_GGUF_I8 || kv->type == DC_GGUF_I16 ||
                     kv->type == DC_GGUF_I32 || kv->type == DC_GGUF_I64;
    v->neg = is_signed && s < 0;
    v->s = s;
    if (is_signed && s >= 0) v->u = (uint64_t)s;
    return DC_OK;
}

static dc_status no_fit(const char *key, const wide_int *v, const char *want) {
    if (v->neg)
        return dc_error(DC_ERR_TYPE, "key %s: value %lld does not fit %s", key,
                        (long long)v->s, want);
    return dc_error(DC_ERR_TYPE, "key %s: value %llu does not fit %s", key,
                    (unsigned long long)v->u, want);
}

/* ---- scalar getters ------------------------------------------------------------ */

dc_status dc_gguf_get_u32(const dc_gguf *g, const char *key, uint32_t *out) {
    wide_int v = { false, 0, 0 };
    DC_CHECK_ARG(out != NULL);
    dc_status st = get_int(g, key, "u32", &v);
    if (st != DC_OK) return st;
    if (v.neg || v.u > UINT32_MAX) return no_fit(key, &v, "u32");
    *out = (uint32_t)v.u;
    return DC_OK;
}

dc_status dc_gguf_get_i32(const dc_gguf *g, const char *key, int32_t *out) {
    wide_int v = { false, 0, 0 };
    DC_CHECK_ARG(out != NULL);
    dc_status st = get_int(g, key, "i32", &v);
    if (st != DC_OK) return st;
    if (v.neg ? v.s < INT32_MIN : v.u > INT32_MAX) return no_fit(key, &v, "i32");
    *out = v.neg ? (int32_t)v.s : (int32_t)v.u;
    return DC_OK;
}

dc_status dc_gguf_get_u64(const dc_gguf *g, const char *key, uint64_t *out) {
    wide_int v = { false, 0, 0 };
    DC_CHECK_ARG(out != NULL);
    dc_status st = get_int(g, key, "u64", &v);
    if (st != DC_OK) return st;
    if (v.neg) return no_fit(key, &v, "u64");
    *out = v.u;
    return DC_OK;
}

dc_status dc_gguf_get_i64(const dc_gguf *g, const char *key, int64_t *out) {
    wide_int v = { false, 0, 0 };
    DC_CHECK_ARG(out != NULL);
    dc_status st = get_int(g, key, "i64", &v);
    if (st != DC_OK) return st;
    if (!v.neg && v.u > INT64_MAX) return no_fit(key, &v, "i64");
    *out = v.neg ? v.s : (int64_t)v.u;
    return DC_OK;
}

static float f32_bits(const uint8_t *p) {
    uint32_t u = dc_gguf_rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

dc_status dc_gguf_get_f32(const dc_gguf *g, const char *key, float *out) {
    dc_status st;
    DC_CHECK_ARG(out != NULL);
    const dc_gguf_kv *kv = find(g, key, &st);
    if (!kv) return st;
    if (kv->type != DC_GGUF_F32) return wrong_type(kv, "f32");
    *out = f32_bits(g->base + kv->val_off);
    return DC_OK;
}

dc_status dc_gguf_get_f64(const dc_gguf *g, const char *key, double *out) {
    dc_status st;
    DC_CHECK_ARG(out != NULL);
    const dc_gguf_kv *kv = find(g, key, &st);
    if (!kv) return st;
    if (kv->type == DC_GGUF_F32) {
        *out = f32_bits(g->base + kv->val_off);
        return DC_OK;
    }
    if (kv->type != DC_GGUF_F64) return wrong_type(kv, "f64");
    uint64_t u = dc_gguf_rd64(g->base + kv->val_off);
    memcpy(out, &u, sizeof u);
    return DC_OK;
}

dc_status dc_gguf_get_bool(const dc_gguf *g, const char *key, bool *out) {
    dc_status st;
    DC_CHECK_ARG(out != NULL);
    const dc_gguf_kv *kv = find(g, key, &st);
    if (!kv) return st;
    if (kv->type != DC_GGUF_BOOL) return wrong_type(kv, "bool");
    *out = g->base[kv->val_off] != 0;
    return DC_OK;
}

dc_status dc_gguf_get_str(const dc_gguf *g, const char *key, const char **s, size_t *len) {
    dc_status st;
    DC_CHECK_ARG(s != NULL && len != NULL);
    const dc_gguf_kv *kv = find(g, key, &st);
    if (!kv) return st;
    if (kv->type != DC_GGUF_STRING) return wrong_type(kv, "string");
    *s = (const char *)g->base + kv->val_off;
    *len = (size_t)kv->n;
    return DC_OK;
}

/* ---- arrays ------------------------------------------------------------------ */

static const dc_gguf_kv *find_array(const dc_gguf *g, const char *key, dc_status *st) {
    const dc_gguf_kv *kv = find(g, key, st);
    if (kv && kv->type != DC_GGUF_ARRAY) {
        *st = wrong_type(kv, "array");
        return NULL;
    }
    return kv;
}

dc_status dc_gguf_get_arr_info(const dc_gguf *g, const char *key,
                               dc_gguf_type *elem_type, uint64_t *n) {
    dc_status st;
    DC_CHECK_ARG(elem_type != NULL && n != NULL);
    const dc_gguf_kv *kv = find_array(g, key, &st);
    if (!kv) return st;
    *elem_type = kv->elem_type;
    *n = kv->n;
    return DC_OK;
}

dc_status dc_gguf_get_arr_data(const dc_gguf *g, const char *key, const void **data) {
    dc_status st;
    DC_CHECK_ARG(data != NULL);
    const dc_gguf_kv *kv = find_array(g, key, &st);
    if (!kv) return st;
    if (kv->elem_type == DC_GGUF_STRING)
        return dc_error(DC_ERR_TYPE, "key %s: array of strings has no packed data "
                        "(use dc_gguf_get_arr_str)", key);
    *data = g->base + kv->val_off;
    return DC_OK;
}

dc_status dc_gguf_get_arr_str(const dc_gguf *g, const char *key, uint64_t i,
                              const char **s, size_t *len) {
    dc_status st;
    DC_CHECK_ARG(s != NULL && len != NULL);
    const dc_gguf_kv *kv = find_array(g, key, &st);
    if (!kv) return st;
    if (kv->elem_type != DC_GGUF_STRING)
        return dc_error(DC_ERR_TYPE, "key %s: stored as array of %s, want array of string",
                        key, dc_gguf_type_name(kv->elem_type));
    if (i >= kv->n)
        return dc_error(DC_ERR_INVALID_ARG, "key %s: index %llu outside the %llu strings",
                        key, (unsigned long long)i, (unsigned long long)kv->n);
    size_t off = g->str_offs[kv->str_first + (size_t)i];
    *s = (const char *)g->base + off;
    *len = (size_t)dc_gguf_rd64(g->base + off - 8);
    return DC_OK;
}

/* ---- tensors ------------------------------------------------------------------- */

dc_status dc_gguf_tensor(const dc_gguf *g, int64_t i, dc_gguf_tensor_info *out) {
    DC_CHECK_ARG(g != NULL && out != NULL);
    if (i < 0 || i >= g->n_tensors)
        return dc_error(DC_ERR_INVALID_ARG, "tensor index %lld outside [0, %lld)",
                        (long long)i, (long long)g->n_tensors);
    *out = g->tensors[i].info;
    return DC_OK;
}
