/*
 * gguf_dump.c - deepc-gguf-dump: print what a GGUF file holds.
 *
 *     deepc-gguf-dump FILE [--verify]
 *
 * Prints the version, alignment and data offset, every key with its type and
 * value (arrays: element type, count and the first few elements; long
 * strings cut short, control bytes escaped), then the tensor table (name,
 * type, ne innermost first, offset relative to the data section, bytes).
 * --verify then checks the per-tensor XXH3-64 checksums deepc writes.
 *
 * The whole file is validated by dc_gguf_open() before anything is printed,
 * so a broken or hostile file gives exactly one line on stderr,
 * "deepc-gguf-dump: FILE: <reason>", and exit status 1. Uses only the public
 * API (include/deepc/gguf.h).
 */
#include "deepc/gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STR_SHOW  64   /* bytes of a string value shown before "..."   */
#define ARR_SHOW  8    /* array elements shown                         */

/* A string in quotes with control bytes and quotes escaped, at most max
 * bytes of it (UTF-8 above 0x7f is passed through). */
static void print_str(const char *s, size_t len, size_t max) {
    size_t n = len < max ? len : max;
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    putchar('"');
    if (n < len) printf("... (%zu bytes)", len);
}

/* A key or tensor name left-aligned in width columns, control bytes shown
 * as '?' so a hostile name cannot drive the terminal. */
static void print_name(const char *s, int width) {
    int n = 0;
    for (; *s; s++, n++) putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
    for (; n < width; n++) putchar(' ');
}

/* Shortest decimal that reads back as the same f32 (is_f32) or f64. */
static void print_float(double d, bool is_f32) {
    char buf[40];
    for (int prec = is_f32 ? 6 : 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (is_f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d) break;
    }
    fputs(buf, stdout);
}

/* Element i of a packed little-endian numeric array. */
static void print_elem(const unsigned char *p, dc_gguf_type t, uint64_t i) {
    uint64_t v = 0;
    size_t sz = t == DC_GGUF_U8 || t == DC_GGUF_I8 || t == DC_GGUF_BOOL ? 1
              : t == DC_GGUF_U16 || t == DC_GGUF_I16 ? 2
              : t == DC_GGUF_U64 || t == DC_GGUF_I64 || t == DC_GGUF_F64 ? 8 : 4;
    for (size_t b = 0; b < sz; b++) v |= (uint64_t)p[i * sz + b] << (8 * b);
    switch (t) {
    case DC_GGUF_U8: case DC_GGUF_U16: case DC_GGUF_U32: case DC_GGUF_U64:
        printf("%" PRIu64, v);
        break;
    case DC_GGUF_I8:  printf("%d", (int)(int8_t)v); break;
    case DC_GGUF_I16: printf("%d", (int)(int16_t)v); break;
    case DC_GGUF_I32: printf("%" PRId32, (int32_t)(uint32_t)v); break;
    case DC_GGUF_I64: printf("%" PRId64, (int64_t)v); break;
    case DC_GGUF_BOOL: fputs(v ? "true" : "false", stdout); break;
    case DC_GGUF_F32: {
        uint32_t u = (uint32_t)v;
        float f;
        memcpy(&f, &u, sizeof f);
        print_float(f, true);
        break;
    }
    default: {
        double d;
        memcpy(&d, &v, sizeof d);
        print_float(d, false);
        break;
    }
    }
}

static dc_status print_array(const dc_gguf *g, const char *key) {
    dc_gguf_type et;
    uint64_t n;
    dc_status st = dc_gguf_get_arr_info(g, key, &et, &n);
    if (st != DC_OK) return st;
    printf("%s[%" PRIu64 "]", dc_gguf_type_name(et), n);
    const void *data = NULL;
    if (et != DC_GGUF_STRING && (st = dc_gguf_get_arr_data(g, key, &data)) != DC_OK)
        return st;
    for (uint64_t i = 0; i < n && i < ARR_SHOW; i++) {
        fputs(i == 0 ? ": " : ", ", stdout);
        if (et == DC_GGUF_STRING) {
            const char *s;
            size_t len;
            if ((st = dc_gguf_get_arr_str(g, key, i, &s, &len)) != DC_OK) return st;
            print_str(s, len, STR_SHOW / 2);
        } else {
            print_elem(data, et, i);
        }
    }
    if (n > ARR_SHOW) fputs(", ...", stdout);
    return DC_OK;
}

static dc_status print_value(const dc_gguf *g, const char *key, dc_gguf_type t) {
    dc_status st = DC_OK;
    union { uint64_t u; int64_t i; double d; bool b; } v;
    switch (t) {
    case DC_GGUF_U8: case DC_GGUF_U16: case DC_GGUF_U32: case DC_GGUF_U64:
        if ((st = dc_gguf_get_u64(g, key, &v.u)) == DC_OK) printf("%" PRIu64, v.u);
        break;
    case DC_GGUF_I8: case DC_GGUF_I16: case DC_GGUF_I32: case DC_GGUF_I64:
        if ((st = dc_gguf_get_i64(g, key, &v.i)) == DC_OK) printf("%" PRId64, v.i);
        break;
    case DC_GGUF_F32:
    case DC_GGUF_F64:
        if ((st = dc_gguf_get_f64(g, key, &v.d)) == DC_OK) print_float(v.d, t == DC_GGUF_F32);
        break;
    case DC_GGUF_BOOL:
        if ((st = dc_gguf_get_bool(g, key, &v.b)) == DC_OK) fputs(v.b ? "true" : "false", stdout);
        break;
    case DC_GGUF_STRING: {
        const char *s;
        size_t len;
        if ((st = dc_gguf_get_str(g, key, &s, &len)) == DC_OK) print_str(s, len, STR_SHOW);
        break;
    }
    default:
        st = print_array(g, key);
        break;
    }
    return st;
}

static dc_status print_keys(const dc_gguf *g) {
    printf("keys: %" PRId64 "\n", dc_gguf_n_kv(g));
    for (int64_t i = 0; i < dc_gguf_n_kv(g); i++) {
        const char *key = dc_gguf_key(g, i);
        dc_gguf_type t = dc_gguf_kv_type(g, i);
        fputs("  ", stdout);
        print_name(key, 44);
        printf(" %-6s ", dc_gguf_type_name(t));
        dc_status st = print_value(g, key, t);
        putchar('\n');
        if (st != DC_OK) return st;
    }
    return DC_OK;
}

static dc_status print_tensors(const dc_gguf *g) {
    printf("tensors: %" PRId64 "\n", dc_gguf_n_tensors(g));
    printf("  %5s  %-40s %-12s %-26s %12s %12s\n", "#", "name", "type", "ne", "offset",
           "bytes");
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info t;
        dc_status st = dc_gguf_tensor(g, i, &t);
        if (st != DC_OK) return st;
        char ne[128];
        int len = snprintf(ne, sizeof ne, "[%" PRId64, t.ne[0]);
        for (int j = 1; j < t.n_dims && len > 0 && (size_t)len < sizeof ne; j++)
            len += snprintf(ne + len, sizeof ne - (size_t)len, ", %" PRId64, t.ne[j]);
        if (len > 0 && (size_t)len < sizeof ne - 1) memcpy(ne + len, "]", 2);
        printf("  %5" PRId64 "  ", i);
        print_name(t.name, 40);
        printf(" %-12s %-26s %12" PRIu64 " %12zu\n", dc_type_name(t.type), ne, t.offset,
               t.size);
    }
    return DC_OK;
}

int main(int argc, char **argv) {
    bool verify = argc == 3 && strcmp(argv[2], "--verify") == 0;
    if (argc < 2 || argc > 3 || (argc == 3 && !verify)) {
        fprintf(stderr, "usage: deepc-gguf-dump FILE [--verify]\n");
        return 2;
    }
    const char *path = argv[1];
    dc_gguf *g = NULL;
    dc_status st = dc_gguf_open(path, &g);
    if (st == DC_OK) {
        printf("%s: GGUF v%u, %zu bytes, alignment %zu, data at offset %zu\n", path,
               dc_gguf_version(g), dc_gguf_file_size(g), dc_gguf_alignment(g),
               dc_gguf_data_offset(g));
        st = print_keys(g);
    }
    if (st == DC_OK) st = print_tensors(g);
    if (st == DC_OK && verify) {
        st = dc_gguf_verify(g);
        if (st == DC_OK) printf("checksums: OK (%" PRId64 " tensors)\n", dc_gguf_n_tensors(g));
    }
    fflush(stdout);
    if (st != DC_OK) fprintf(stderr, "deepc-gguf-dump: %s: %s\n", path, dc_last_error());
    dc_gguf_close(g);
    return st == DC_OK ? 0 : 1;
}
