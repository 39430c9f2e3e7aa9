/*
 * bad_safetensors.c - the hostile safetensors corpus (see bad_safetensors.h).
 *
 * Cases: the 8-byte length (short file, zero, past the end, 2^63), the JSON
 * (broken, not an object, trailing bytes, a NUL, nesting past cJSON's
 * limit), each entry (not an object, unknown / missing / repeated fields,
 * unknown dtype), shapes (negative, fractional, huge, > 8 dims, products
 * overflowing int64 or size_t, not an array), offsets (past the data, end
 * before begin, three values, negative, size disagreeing with the shape),
 * the layout (overlap, duplicate names, an empty name) and __metadata__
 * (not an object, a non-string value).
 */
#include "bad_safetensors.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA_SIZE 32

/* header JSON + 32 data bytes; len_override != 0 replaces the length field. */
static uint8_t *build(const char *json, size_t json_len, uint64_t len_override, size_t *size) {
    size_t n = json_len;
    uint8_t *p = malloc(8 + n + DATA_SIZE);
    if (!p) return NULL;
    uint64_t len = len_override ? len_override : n;
    for (int k = 0; k < 8; k++) p[k] = (uint8_t)(len >> (8 * k));
    memcpy(p + 8, json, n);
    for (int i = 0; i < DATA_SIZE; i++) p[8 + n + i] = (uint8_t)(i * 7 + 1);
    *size = 8 + n + DATA_SIZE;
    return p;
}

#define GOOD_A "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}"
#define GOOD_B "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[16,32]}"
#define META   "\"__metadata__\":{\"format\":\"pt\"}"

uint8_t *dc_bad_st_base(size_t *size) {
    static const char j[] = "{" META "," GOOD_A "," GOOD_B "}  ";
    return build(j, sizeof j - 1, 0, size);
}

static const struct {
    const char *name;
    const char *json;
} cases[] = {
    { "bad-json",          "{\"a\": {\"dtype\": \"F32\"" },
    { "not-object",        "[1, 2, 3]" },
    { "string-root",       "\"x\"" },
    { "trailing-bytes",    "{" GOOD_A "," GOOD_B "} x" },
    { "two-objects",       "{" GOOD_A "}{" GOOD_B "}" },
    { "entry-number",      "{\"a\": 5}" },
    { "entry-array",       "{\"a\": [1]}" },
    { "unknown-dtype",     "{\"a\":{\"dtype\":\"F7\",\"shape\":[2,2],\"data_offsets\":[0,16]}}" },
    { "dtype-number",      "{\"a\":{\"dtype\":4,\"shape\":[2,2],\"data_offsets\":[0,16]}}" },
    { "missing-dtype",     "{\"a\":{\"shape\":[2,2],\"data_offsets\":[0,16]}}" },
    { "missing-shape",     "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,16]}}" },
    { "missing-offsets",   "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2]}}" },
    { "unknown-field",     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16],\"x\":1}}" },
    { "repeated-field",    "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}" },
    { "shape-negative",    "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2,-2],\"data_offsets\":[0,16]}}" },
    { "shape-fraction",    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5,2],\"data_offsets\":[0,16]}}" },
    { "shape-huge",        "{\"a\":{\"dtype\":\"F32\",\"shape\":[1e30],\"data_offsets\":[0,16]}}" },
    { "shape-2p53",        "{\"a\":{\"dtype\":\"F32\",\"shape\":[9007199254740992],\"data_offsets\":[0,16]}}" },
    { "shape-overflow",    "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,16]}}" },
    { "bytes-overflow",    "{\"a\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952],\"data_offsets\":[0,16]}}" },
    { "shape-9-dims",      "{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,16],\"data_offsets\":[0,16]}}" },
    { "shape-string",      "{\"a\":{\"dtype\":\"F32\",\"shape\":\"2,2\",\"data_offsets\":[0,16]}}" },
    { "shape-nested",      "{\"a\":{\"dtype\":\"F32\",\"shape\":[[2],2],\"data_offsets\":[0,16]}}" },
    { "size-mismatch",     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,12]}}" },
    { "dtype-mismatch",    "{\"a\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}" },
    { "offsets-past-end",  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[1000000,1000016]}}" },
    { "offsets-reversed",  "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[16,0]}}" },
    { "offsets-three",     "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16,32]}}" },
    { "offsets-negative",  "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[-16,0]}}" },
    { "offsets-huge",      "{\"a\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[18446744073709551600,18446744073709551616]}}" },
    { "offsets-strings",   "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[\"0\",\"16\"]}}" },
    { "overlap",           "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                           "\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[8,24]}}" },
    { "overlap-inside",    "{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
                           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}" },
    { "duplicate-name",    "{" GOOD_A "," GOOD_A "}" },
    { "empty-name",        "{\"\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}" },
    { "metadata-array",    "{\"__metadata__\":[1]," GOOD_A "}" },
    { "metadata-number",   "{\"__metadata__\":{\"k\":1}," GOOD_A "}" },
};

/* Length-field and raw-byte cases. */
static int gen_raw(dc_bad_st_fn fn, void *user) {
    static const char ok[] = "{" GOOD_A "}";
    size_t size;
    int n = 0;
    uint8_t *p;
    const struct { const char *name; uint64_t len; } lens[] = {
        { "hdrlen-past-eof", 4096 },
        { "hdrlen-2p63", 1ULL << 63 },
        { "hdrlen-max", ~0ULL },
        { "hdrlen-one", 1 },
    };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        if (!(p = build(ok, sizeof ok - 1, lens[i].len, &size))) return -1;
        fn(lens[i].name, p, size, user);
        free(p);
        n++;
    }
    uint8_t tiny[5] = { 2, 0, 0, 0, 0 };
    fn("short-file", tiny, sizeof tiny, user);
    fn("empty-file", tiny, 0, user);
    uint8_t zero[8] = { 0 };
    fn("hdrlen-zero", zero, sizeof zero, user);
    n += 3;
    /* a NUL byte inside the header */
    char nul[] = "{" GOOD_A "}";
    nul[3] = '\0';
    if (!(p = build(nul, sizeof nul - 1, 0, &size))) return -1;
    fn("nul-in-header", p, size, user);
    free(p);
    n++;
    return n;
}

/* Nesting deeper than cJSON's limit (1000) inside __metadata__. */
static int gen_deep(dc_bad_st_fn fn, void *user) {
    const int depth = 5000;
    size_t cap = 64 + 2 * (size_t)depth, size;
    char *j = malloc(cap);
    if (!j) return -1;
    size_t o = (size_t)snprintf(j, cap, "{\"__metadata__\":");
    for (int i = 0; i < depth; i++) j[o++] = '[';
    for (int i = 0; i < depth; i++) j[o++] = ']';
    j[o++] = '}';
    uint8_t *p = build(j, o, 0, &size);
    free(j);
    if (!p) return -1;
    fn("deep-nesting", p, size, user);
    free(p);
    return 1;
}

int dc_bad_st_generate(dc_bad_st_fn fn, void *user) {
    int n = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t size;
        uint8_t *p = build(cases[i].json, strlen(cases[i].json), 0, &size);
        if (!p) return -1;
        fn(cases[i].name, p, size, user);
        free(p);
        n++;
    }
    int k = gen_raw(fn, user);
    if (k < 0) return -1;
    n += k;
    if ((k = gen_deep(fn, user)) < 0) return -1;
    return n + k;
}
