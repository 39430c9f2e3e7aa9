/*
 * bad_gguf.c - see bad_gguf.h.
 *
 * Three families of hostile files:
 *   1. truncations: every prefix of the base file that ends before the last
 *      tensor's data does (header cut mid-field at every byte, data cut short);
 *   2. patches: one field of the base overwritten in place (magic, version,
 *      counts, string and array lengths, value types, bool bytes, n_dims, ne,
 *      type ids, offsets), using offsets recorded while building it;
 *   3. rebuilds: the base built again with one structural change (alignment
 *      key stored badly, duplicate or empty keys and names, long names, dims
 *      that overflow, nested arrays).
 * Each case is chosen so that no correct reader may accept it (a shifted
 * layout included: the comments say why the shift still cannot parse), apart
 * from the ones flagged policy (see bad_gguf.h).
 */
#include "bad_gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- byte builder --------------------------------------------------------- */

typedef struct gb {
    uint8_t *p;
    size_t   n, cap;
    bool     oom;
} gb;

static void gb_bytes(gb *b, const void *src, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

static void gb_le(gb *b, uint64_t v, int n) {
    uint8_t t[8];
    for (int i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * i));
    gb_bytes(b, t, (size_t)n);
}

static void gb_u8(gb *b, uint8_t v) { gb_le(b, v, 1); }
static void gb_u32(gb *b, uint32_t v) { gb_le(b, v, 4); }
static void gb_u64(gb *b, uint64_t v) { gb_le(b, v, 8); }

static void gb_str(gb *b, const char *s) {
    gb_u64(b, strlen(s));
    gb_bytes(b, s, strlen(s));
}

static void patch(uint8_t *p, size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* ---- the base file and its variants ----------------------------------------- */

enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR,
       T_U64, T_I64, T_F64 };
enum { ALIGN_U32, ALIGN_NONE, ALIGN_U8, ALIGN_U64, ALIGN_I32, ALIGN_STR };
enum { K_ARCH, K_NAME, K_U8, K_I8, K_U16, K_I16, K_U32, K_I32, K_F32, K_BOOL, K_U64,
       K_I64, K_F64, K_EMPTY_STR, K_ARR_U32, K_ARR_STR, K_ARR_BOOL, K_ARR_EMPTY,
       K_ALIGN, N_KEYS };
#define N_TENSORS 3
#define DATA_BYTES 192   /* 64 (F32 [8,2]) + 32 (F16 [16]) + 68 (Q8_0 [32,2]) padded */

/* Structural knobs; a zeroed opts (plus align = 32) is the valid base. */
typedef struct opts {
    int         align_kind;
    uint32_t    align;
    const char *name_key;    /* key of K_NAME, NULL: "general.name"      */
    bool        dup_key;     /* write general.name a second time        */
    bool        nested;      /* add a well-formed array of arrays       */
    const char *t1_name;     /* NULL: "t1"                              */
    bool        t0_shape;    /* t0 gets t0_n_dims / t0_ne               */
    uint32_t    t0_n_dims;
    uint64_t    t0_ne[5];
} opts;

/* Where fields of the base landed (file offsets). */
typedef struct rec {
    size_t key_len[N_KEYS];   /* the key's u64 length                  */
    size_t type[N_KEYS];      /* the u32 value type                    */
    size_t val[N_KEYS];       /* the value (arrays: the element type)  */
    size_t arr_str_elem0;     /* u64 length of K_ARR_STR element 0     */
    size_t t_name[N_TENSORS], t_ndims[N_TENSORS], t_ne[N_TENSORS], t_type[N_TENSORS],
           t_offset[N_TENSORS];
    size_t data_start, data_end;  /* data_end: end of the last tensor's bytes */
} rec;

static void key(gb *b, rec *r, int k, const char *name, uint32_t type) {
    r->key_len[k] = b->n;
    gb_str(b, name);
    r->type[k] = b->n;
    gb_u32(b, type);
    r->val[k] = b->n;
}

static void base_scalars(gb *b, rec *r) {
    key(b, r, K_U8, "test.u8", T_U8);     gb_u8(b, 200);
    key(b, r, K_I8, "test.i8", T_I8);     gb_u8(b, (uint8_t)-7);
    key(b, r, K_U16, "test.u16", T_U16);  gb_le(b, 60000, 2);
    key(b, r, K_I16, "test.i16", T_I16);  gb_le(b, (uint16_t)-300, 2);
    key(b, r, K_U32, "test.u32", T_U32);  gb_u32(b, 4000000000u);
    key(b, r, K_I32, "test.i32", T_I32);  gb_u32(b, (uint32_t)-70000);
    key(b, r, K_F32, "test.f32", T_F32);  gb_u32(b, 0x3fc00000);   /* 1.5 */
    key(b, r, K_BOOL, "test.bool", T_BOOL); gb_u8(b, 1);
    key(b, r, K_U64, "test.u64", T_U64);  gb_u64(b, 1ull << 40);
    key(b, r, K_I64, "test.i64", T_I64);  gb_u64(b, (uint64_t)-5);
    key(b, r, K_F64, "test.f64", T_F64);  gb_u64(b, 0x4004000000000000ull); /* 2.5 */
    key(b, r, K_EMPTY_STR, "test.empty_str", T_STR); gb_str(b, "");
}

static void base_arrays(gb *b, rec *r) {
    key(b, r, K_ARR_U32, "test.arr_u32", T_ARR);
    gb_u32(b, T_U32); gb_u64(b, 3); gb_u32(b, 1); gb_u32(b, 2); gb_u32(b, 3);
    key(b, r, K_ARR_STR, "test.arr_str", T_ARR);
    gb_u32(b, T_STR); gb_u64(b, 3);
    r->arr_str_elem0 = b->n;
    gb_str(b, "a"); gb_str(b, "bc"); gb_str(b, "");
    key(b, r, K_ARR_BOOL, "test.arr_bool", T_ARR);
    gb_u32(b, T_BOOL); gb_u64(b, 3); gb_u8(b, 0); gb_u8(b, 1); gb_u8(b, 1);
    key(b, r, K_ARR_EMPTY, "test.arr_empty", T_ARR);
    gb_u32(b, T_I16); gb_u64(b, 0);
}

static void base_alignment(gb *b, rec *r, const opts *o) {
    static const uint32_t types[] = { [ALIGN_U32] = T_U32, [ALIGN_U8] = T_U8,
                                      [ALIGN_U64] = T_U64, [ALIGN_I32] = T_I32,
                                      [ALIGN_STR] = T_STR };
    if (o->align_kind == ALIGN_NONE) return;
    key(b, r, K_ALIGN, "general.alignment", types[o->align_kind]);
    switch (o->align_kind) {
    case ALIGN_U8:  gb_u8(b, (uint8_t)o->align); break;
    case ALIGN_U64: gb_u64(b, o->align); break;
    case ALIGN_STR: gb_str(b, "32"); break;
    default:        gb_u32(b, o->align); break;
    }
}

static uint64_t n_keys(const opts *o) {
    return N_KEYS - (o->align_kind == ALIGN_NONE) + o->dup_key + o->nested;
}

static void base_kvs(gb *b, rec *r, const opts *o) {
    key(b, r, K_ARCH, "general.architecture", T_STR);
    gb_str(b, "bad");
    key(b, r, K_NAME, o->name_key ? o->name_key : "general.name", T_STR);
    gb_str(b, "bad-gguf-base");
    base_scalars(b, r);
    base_arrays(b, r);
    base_alignment(b, r, o);
    if (o->dup_key) {
        gb_str(b, "general.name");
        gb_u32(b, T_STR);
        gb_str(b, "again");
    }
    if (o->nested) {   /* [[1, 2], [3]] as u8 arrays */
        gb_str(b, "test.nested");
        gb_u32(b, T_ARR); gb_u32(b, T_ARR); gb_u64(b, 2);
        gb_u32(b, T_U8); gb_u64(b, 2); gb_u8(b, 1); gb_u8(b, 2);
        gb_u32(b, T_U8); gb_u64(b, 1); gb_u8(b, 3);
    }
}

static void base_tensors(gb *b, rec *r, const opts *o) {
    static const char *const names[N_TENSORS] = { "t0", "t1", "t2" };
    static const uint32_t n_dims[N_TENSORS] = { 2, 1, 2 };
    static const uint64_t ne[N_TENSORS][2] = { { 8, 2 }, { 16, 1 }, { 32, 2 } };
    static const uint32_t types[N_TENSORS] = { 0 /* F32 */, 1 /* F16 */, 8 /* Q8_0 */ };
    static const uint64_t offsets[N_TENSORS] = { 0, 64, 96 };
    for (int t = 0; t < N_TENSORS; t++) {
        r->t_name[t] = b->n;
        gb_str(b, t == 1 && o->t1_name ? o->t1_name : names[t]);
        r->t_ndims[t] = b->n;
        bool custom = t == 0 && o->t0_shape;
        uint32_t nd = custom ? o->t0_n_dims : n_dims[t];
        gb_u32(b, nd);
        r->t_ne[t] = b->n;
        for (uint32_t j = 0; j < nd; j++) gb_u64(b, custom ? o->t0_ne[j] : ne[t][j]);
        r->t_type[t] = b->n;
        gb_u32(b, types[t]);
        r->t_offset[t] = b->n;
        gb_u64(b, offsets[t]);
    }
}

/* Build the base with opts applied; NULL on malloc failure. */
static uint8_t *build(const opts *o, rec *r, size_t *size) {
    gb b = { 0 };
    rec dummy;
    if (!r) r = &dummy;
    memset(r, 0, sizeof *r);
    gb_bytes(&b, "GGUF", 4);
    gb_u32(&b, 3);
    gb_u64(&b, N_TENSORS);
    gb_u64(&b, n_keys(o));
    base_kvs(&b, r, o);
    base_tensors(&b, r, o);
    while (b.n % 32) gb_u8(&b, 0);
    r->data_start = b.n;
    r->data_end = b.n + 96 + 68;
    for (int i = 0; i < DATA_BYTES; i++) gb_u8(&b, i < 96 + 68 ? (uint8_t)(i * 7 + 1) : 0);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    *size = b.n;
    return b.p;
}

static const opts base_opts = { .align_kind = ALIGN_U32, .align = 32 };

uint8_t *dc_bad_gguf_base(size_t *size) { return build(&base_opts, NULL, size); }

/* ---- emitting ------------------------------------------------------------------- */

typedef struct sink {
    dc_bad_gguf_fn fn;
    void          *user;
    int            count;
    bool           oom;
} sink;

static void emit(sink *s, const char *name, const uint8_t *p, size_t n, bool policy) {
    s->fn(name, p, n, policy, s->user);
    s->count++;
}

/* One field of the base replaced by v (n bytes at off). */
static void emit_patch(sink *s, const uint8_t *base, size_t size, const char *name,
                       size_t off, uint64_t v, int n) {
    uint8_t *p = malloc(size);
    if (!p) {
        s->oom = true;
        return;
    }
    memcpy(p, base, size);
    patch(p, off, v, n);
    emit(s, name, p, size, false);
    free(p);
}

static void emit_build(sink *s, const char *name, const opts *o, bool policy) {
    size_t n;
    uint8_t *p = build(o, NULL, &n);
    if (!p) {
        s->oom = true;
        return;
    }
    emit(s, name, p, n, policy);
    free(p);
}

/* ---- family 1: truncations ---------------------------------------------------- */

static void gen_truncations(sink *s, const uint8_t *base, const rec *r) {
    char name[64];
    /* Every cut before data_end leaves some declared byte missing: a field
     * of the header, or part of a tensor's data. */
    for (size_t cut = 0; cut < r->data_end; cut++) {
        snprintf(name, sizeof name, "trunc-%04zu", cut);
        emit(s, name, base, cut, false);
    }
}

/* ---- family 2: patches ---------------------------------------------------------- */

typedef struct field_patch {
    const char *name;
    int         what;     /* which recorded offset, see field_offset()  */
    uint64_t    value;
    int         bytes;
} field_patch;

enum { F_MAGIC, F_VERSION, F_NTENSORS, F_NKV, F_KEY0_LEN, F_NAME_STRLEN, F_U8_TYPE,
       F_ARR_ELEM_TYPE, F_ARR_U32_COUNT, F_ARR_STR_COUNT, F_ARR_STR_ELEM0, F_BOOL,
       F_ARR_BOOL_ELEM1, F_T0_NDIMS, F_T0_NE0, F_T0_NE1, F_T2_NE0, F_T0_TYPE,
       F_T1_OFFSET, F_T2_OFFSET, F_T1_NAME_LEN };

static size_t field_offset(const rec *r, int what) {
    switch (what) {
    case F_MAGIC:          return 0;
    case F_VERSION:        return 4;
    case F_NTENSORS:       return 8;
    case F_NKV:            return 16;
    case F_KEY0_LEN:       return r->key_len[K_ARCH];
    case F_NAME_STRLEN:    return r->val[K_NAME];
    case F_U8_TYPE:        return r->type[K_U8];
    case F_ARR_ELEM_TYPE:  return r->val[K_ARR_U32];
    case F_ARR_U32_COUNT:  return r->val[K_ARR_U32] + 4;
    case F_ARR_STR_COUNT:  return r->val[K_ARR_STR] + 4;
    case F_ARR_STR_ELEM0:  return r->arr_str_elem0;
    case F_BOOL:           return r->val[K_BOOL];
    case F_ARR_BOOL_ELEM1: return r->val[K_ARR_BOOL] + 12 + 1;
    case F_T0_NDIMS:       return r->t_ndims[0];
    case F_T0_NE0:         return r->t_ne[0];
    case F_T0_NE1:         return r->t_ne[0] + 8;
    case F_T2_NE0:         return r->t_ne[2];
    case F_T0_TYPE:        return r->t_type[0];
    case F_T1_OFFSET:      return r->t_offset[1];
    case F_T2_OFFSET:      return r->t_offset[2];
    case F_T1_NAME_LEN:    return r->t_name[1];
    }
    return 0;
}

#define BIG(e) (1ull << (e))
#define ALL1   0xffffffffffffffffull

static const field_patch patches[] = {
    /* magic and version; 0x03000000 / 0x00030000 are 3 byte-swapped */
    { "magic-GGUG", F_MAGIC, 0x47554747, 4 },     { "magic-gguf", F_MAGIC, 0x66756767, 4 },
    { "magic-zero", F_MAGIC, 0, 4 },              { "magic-FUGG", F_MAGIC, 0x47475546, 4 },
    { "version-0", F_VERSION, 0, 4 },             { "version-1", F_VERSION, 1, 4 },
    { "version-4", F_VERSION, 4, 4 },             { "version-max", F_VERSION, 0xffffffff, 4 },
    { "version-be3", F_VERSION, 0x03000000, 4 },  { "version-be2", F_VERSION, 0x02000000, 4 },
    { "version-0x30000", F_VERSION, 0x00030000, 4 },
    /* counts far past what the file can hold */
    { "ntensors-2e63", F_NTENSORS, BIG(63), 8 },  { "ntensors-max", F_NTENSORS, ALL1, 8 },
    { "ntensors-2e32", F_NTENSORS, BIG(32), 8 },  { "ntensors-2e20", F_NTENSORS, BIG(20), 8 },
    { "nkv-2e40", F_NKV, BIG(40), 8 },            { "nkv-2e63", F_NKV, BIG(63), 8 },
    { "nkv-max", F_NKV, ALL1, 8 },                { "nkv-2e20", F_NKV, BIG(20), 8 },
    /* string lengths and array counts past the end */
    { "keylen-2e62", F_KEY0_LEN, BIG(62), 8 },    { "keylen-max", F_KEY0_LEN, ALL1, 8 },
    { "keylen-2e32", F_KEY0_LEN, BIG(32), 8 },    { "strlen-2e62", F_NAME_STRLEN, BIG(62), 8 },
    { "strlen-max", F_NAME_STRLEN, ALL1, 8 },     { "strlen-2e16", F_NAME_STRLEN, BIG(16), 8 },
    { "arrcount-2e61", F_ARR_U32_COUNT, BIG(61), 8 },
    { "arrcount-2e62", F_ARR_U32_COUNT, BIG(62), 8 },
    { "arrcount-max", F_ARR_U32_COUNT, ALL1, 8 },
    { "arrcount-2e30", F_ARR_U32_COUNT, BIG(30), 8 },
    { "strarr-count-2e61", F_ARR_STR_COUNT, BIG(61), 8 },
    { "strarr-count-max", F_ARR_STR_COUNT, ALL1, 8 },
    { "strarr-count-2e20", F_ARR_STR_COUNT, BIG(20), 8 },
    { "strarr-elemlen-2e62", F_ARR_STR_ELEM0, BIG(62), 8 },
    { "strarr-elemlen-max", F_ARR_STR_ELEM0, ALL1, 8 },
    { "strarr-elemlen-2e16", F_ARR_STR_ELEM0, BIG(16), 8 },
    { "tname-len-2e62", F_T1_NAME_LEN, BIG(62), 8 },
    { "tname-len-max", F_T1_NAME_LEN, ALL1, 8 },
    /* value types */
    { "valtype-13", F_U8_TYPE, 13, 4 },           { "valtype-255", F_U8_TYPE, 255, 4 },
    { "valtype-max", F_U8_TYPE, 0xffffffff, 4 },  { "valtype-2e31", F_U8_TYPE, BIG(31), 4 },
    { "elemtype-13", F_ARR_ELEM_TYPE, 13, 4 },    { "elemtype-max", F_ARR_ELEM_TYPE, 0xffffffff, 4 },
    /* element type ARRAY over u32 data: inner type 1, count 0x0000000300000002 */
    { "elemtype-nested", F_ARR_ELEM_TYPE, T_ARR, 4 },
    /* bool bytes */
    { "bool-2", F_BOOL, 2, 1 },                   { "bool-255", F_BOOL, 255, 1 },
    { "bool-arr-2", F_ARR_BOOL_ELEM1, 2, 1 },     { "bool-arr-128", F_ARR_BOOL_ELEM1, 128, 1 },
    /* n_dims: 0 shifts t0 so that it reads as Q8_0 with ne[0] = 1 (not a
     * multiple of 32) whatever else follows; 5 and up exceed the maximum */
    { "ndims-0", F_T0_NDIMS, 0, 4 },              { "ndims-5", F_T0_NDIMS, 5, 4 },
    { "ndims-max", F_T0_NDIMS, 0xffffffff, 4 },   { "ndims-65", F_T0_NDIMS, 65, 4 },
    /* ne: negative, and past the end of the file */
    { "ne-neg", F_T0_NE0, ALL1, 8 },              { "ne1-neg", F_T0_NE1, BIG(63), 8 },
    { "ne-2e40", F_T0_NE1, BIG(40), 8 },
    /* ne[0] of a Q8_0 tensor not a multiple of 32 */
    { "ne0-q8-16", F_T2_NE0, 16, 8 },             { "ne0-q8-33", F_T2_NE0, 33, 8 },
    { "ne0-q8-48", F_T2_NE0, 48, 8 },             { "ne0-q8-1", F_T2_NE0, 1, 8 },
    /* type ids nobody defines (4, 5, 31-33, 36-38 are retired in ggml) */
    { "type-4", F_T0_TYPE, 4, 4 },                { "type-5", F_T0_TYPE, 5, 4 },
    { "type-31", F_T0_TYPE, 31, 4 },              { "type-32", F_T0_TYPE, 32, 4 },
    { "type-33", F_T0_TYPE, 33, 4 },              { "type-36", F_T0_TYPE, 36, 4 },
    { "type-37", F_T0_TYPE, 37, 4 },              { "type-38", F_T0_TYPE, 38, 4 },
    { "type-200", F_T0_TYPE, 200, 4 },            { "type-1023", F_T0_TYPE, 1023, 4 },
    { "type-1025", F_T0_TYPE, 1025, 4 },          { "type-max", F_T0_TYPE, 0xffffffff, 4 },
    /* offsets: misaligned, outside the file, wrapping around */
    { "offset-misaligned-65", F_T1_OFFSET, 65, 8 },
    { "offset-misaligned-68", F_T1_OFFSET, 68, 8 },
    { "offset-misaligned-80", F_T1_OFFSET, 80, 8 },
    { "offset-out-160", F_T2_OFFSET, 160, 8 },    { "offset-out-192", F_T2_OFFSET, 192, 8 },
    { "offset-out-2e63", F_T2_OFFSET, BIG(63), 8 },
    { "offset-wrap", F_T2_OFFSET, ALL1 - 31, 8 },
    { "offset-out-2e32", F_T1_OFFSET, BIG(32), 8 },
};

/* Data overlapping another tensor's: ggml and deepc refuse it, the spec is
 * silent, hence policy. */
static const field_patch overlaps[] = {
    { "policy-overlap-t1-in-t0", F_T1_OFFSET, 32, 8 },
    { "policy-overlap-t1-eq-t0", F_T1_OFFSET, 0, 8 },
    { "policy-overlap-t2-in-t1", F_T2_OFFSET, 64, 8 },
    { "policy-overlap-t2-eq-t0", F_T2_OFFSET, 0, 8 },
};

static void gen_patches(sink *s, const uint8_t *base, size_t size, const rec *r) {
    for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++) {
        const field_patch *f = &patches[i];
        emit_patch(s, base, size, f->name, field_offset(r, f->what), f->value, f->bytes);
    }
    for (size_t i = 0; i < sizeof overlaps / sizeof overlaps[0]; i++) {
        const field_patch *f = &overlaps[i];
        uint8_t *p = malloc(size);
        if (!p) {
            s->oom = true;
            return;
        }
        memcpy(p, base, size);
        patch(p, field_offset(r, f->what), f->value, f->bytes);
        emit(s, f->name, p, size, true);
        free(p);
    }
    /* lengths exactly one byte past the end of the file */
    size_t k0 = r->key_len[K_ARCH], s0 = r->val[K_NAME];
    emit_patch(s, base, size, "keylen-end+1", k0, size - (k0 + 8) + 1, 8);
    emit_patch(s, base, size, "strlen-end+1", s0, size - (s0 + 8) + 1, 8);
}

/* ---- family 3: rebuilds ------------------------------------------------------------ */

static void gen_alignment(sink *s) {
    static const struct { const char *name; int kind; uint32_t align; } cases[] = {
        { "align-0", ALIGN_U32, 0 },   { "align-3", ALIGN_U32, 3 },
        { "align-7", ALIGN_U32, 7 },   { "align-max", ALIGN_U32, 0xffffffff },
        { "align-u8", ALIGN_U8, 32 },  { "align-u64", ALIGN_U64, 32 },
        { "align-i32", ALIGN_I32, 32 }, { "align-string", ALIGN_STR, 32 },
        /* power of two, but t2 at offset 96 is not a multiple of 64 */
        { "align-64-misplaced", ALIGN_U32, 64 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opts o = base_opts;
        o.align_kind = cases[i].kind;
        o.align = cases[i].align;
        emit_build(s, cases[i].name, &o, false);
    }
}

static void gen_names(sink *s) {
    char n64[65], n100[101];
    memset(n64, 'a', 64), n64[64] = '\0';
    memset(n100, 'b', 100), n100[100] = '\0';
    opts o = base_opts;
    o.dup_key = true;
    emit_build(s, "dup-key", &o, false);
    o = base_opts;
    o.name_key = "general.architecture";
    emit_build(s, "dup-key-adjacent", &o, false);
    o = base_opts;
    o.name_key = "";
    emit_build(s, "empty-key", &o, false);
    o = base_opts;
    o.t1_name = "t0";
    emit_build(s, "dup-tensor", &o, false);
    o.t1_name = "t2";
    emit_build(s, "dup-tensor-last", &o, false);
    o.t1_name = "";
    emit_build(s, "empty-tensor-name", &o, false);
    o.t1_name = n100;
    emit_build(s, "tensor-name-100", &o, false);
    /* the spec says "at most 64 bytes"; ggml (GGML_MAX_NAME incl. NUL) and
     * deepc allow 63 */
    o.t1_name = n64;
    emit_build(s, "policy-tensor-name-64", &o, true);
    o = base_opts;
    o.nested = true;
    emit_build(s, "policy-nested-array", &o, true);
}

static void gen_shapes(sink *s) {
    static const struct { const char *name; uint32_t n_dims; uint64_t ne[5]; bool policy; }
    cases[] = {
        { "dims-overflow-int64", 2, { BIG(62), 4 }, false },
        { "dims-overflow-2e32sq", 2, { BIG(32), BIG(32) }, false },
        { "dims-overflow-4d", 4, { BIG(16), BIG(16), BIG(16), BIG(16) }, false },
        { "dims-overflow-3d", 3, { BIG(31), BIG(31), BIG(31) }, false },
        { "dims-overflow-size", 1, { BIG(62) }, false },     /* 2^64 bytes */
        { "dims-2e61-past-eof", 1, { BIG(61) }, false },     /* 2^63 bytes */
        { "dims-neg-ne1", 2, { 8, ALL1 }, false },
        { "ndims-5-rebuilt", 5, { 8, 2, 1, 1, 1 }, false },
        { "policy-ndims-0", 0, { 0 }, true },                /* ggml: a scalar */
        /* empty, but ne[1] * ne[2] overflows int64: code computing strides
         * from ne would overflow (ggml divides by the 0) */
        { "policy-dims-zero-overflow", 3, { 0, BIG(40), BIG(40) }, true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        opts o = base_opts;
        o.t0_shape = true;
        o.t0_n_dims = cases[i].n_dims;
        memcpy(o.t0_ne, cases[i].ne, sizeof o.t0_ne);
        emit_build(s, cases[i].name, &o, cases[i].policy);
    }
}

int dc_bad_gguf_generate(dc_bad_gguf_fn fn, void *user) {
    sink s = { fn, user, 0, false };
    rec r;
    size_t size;
    uint8_t *base = build(&base_opts, &r, &size);
    if (!base) return -1;
    gen_truncations(&s, base, &r);
    gen_patches(&s, base, size, &r);
    gen_alignment(&s);
    gen_names(&s);
    gen_shapes(&s);
    free(base);
    return s.oom ? -1 : s.count;
}
