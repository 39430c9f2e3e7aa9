/*
 * test_gguf.c - lib/gguf: writer -> reader round trips, the peer's fixture
 * files, checksums, hostile files, allocation failures and deepc-gguf-dump.
 *
 * Hostile inputs come from bad_gguf.c (generated in-process, over a thousand
 * files) and tests/data/bad/ (fixed regression files). Each is copied into a
 * buffer of exactly its size before dc_gguf_open_memory(), so a sanitizer
 * build catches any read past the end, and is also written to a temporary
 * file for dc_gguf_open() and for the dump program (its path comes from
 * DEEPC_GGUF_DUMP, set by tests/meson.build; without it that case is a no-op).
 */
#include "deepc/gguf.h"

#include "bad_gguf.h"
#include "lib/core/core_impl.h"
#include "test_util.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------------ */

typedef struct tmpdir { char path[64]; } tmpdir;

static void tmpdir_make(tmpdir *d) {
    snprintf(d->path, sizeof d->path, "/tmp/deepc-gguf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(d->path));
}

static const char *tmpdir_file(const tmpdir *d, const char *name) {
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", d->path, name);
    return buf;
}

static void tmpdir_remove(tmpdir *d) {
    DIR *dir = opendir(d->path);
    if (!dir) return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        unlink(tmpdir_file(d, e->d_name));
    }
    closedir(dir);
    rmdir(d->path);
}

static void write_bytes(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert(size == 0 || fwrite(data, 1, size, f) == size);
    ck_assert_int_eq(fclose(f), 0);
}

static size_t file_size(const char *path) {
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    return (size_t)sb.st_size;
}

/* Run exe with up to two arguments; stdout and stderr into out (NUL
 * terminated, truncated to cap - 1). Returns the wait status. */
static int run_capture(const char *exe, const char *a1, const char *a2, char *out,
                       size_t cap) {
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execl(exe, exe, a1, a2, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    char chunk[4096];
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof chunk)) > 0) {
        size_t k = (size_t)n < cap - 1 - len ? (size_t)n : cap - 1 - len;
        memcpy(out + len, chunk, k);
        len += k;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* ---- a sample file with every value type --------------------------------------- */

#define N_SAMPLE_TENSORS 6

typedef struct sample {
    float    f32[8 * 3];
    uint16_t f16[16 * 2 * 2];
    uint8_t  q8[2 * 2 * 34];      /* Q8_0 [64, 2]: 2 blocks per row          */
    int32_t  i32[5];              /* 20 bytes: exercises padding            */
    uint16_t bf16[16];            /* BF16 [2, 2, 2, 2]                       */
} sample;

static const char *const sample_names[N_SAMPLE_TENSORS] = {
    "weights.f32", "weights.f16", "weights.q8_0", "ids.i32", "blk.0.bf16", "empty",
};
static const dc_type sample_types[N_SAMPLE_TENSORS] = {
    DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_Q8_0, DC_TYPE_I32, DC_TYPE_BF16, DC_TYPE_F32,
};
static const int sample_dims[N_SAMPLE_TENSORS] = { 2, 3, 2, 1, 4, 2 };
static const int64_t sample_ne[N_SAMPLE_TENSORS][4] = {
    { 8, 3, 1, 1 }, { 16, 2, 2, 1 }, { 64, 2, 1, 1 }, { 5, 1, 1, 1 }, { 2, 2, 2, 2 },
    { 0, 4, 1, 1 },
};

static void sample_fill(sample *s) {
    dc_test_rng r;
    dc_test_rng_seed(&r, dc_test_seed());
    dc_test_fill_normal(&r, s->f32, 24, 1.0);
    for (size_t i = 0; i < sizeof s->f16 / 2; i++) s->f16[i] = (uint16_t)dc_test_rng_u64(&r);
    for (size_t i = 0; i < sizeof s->q8; i++) s->q8[i] = (uint8_t)dc_test_rng_u64(&r);
    for (size_t i = 0; i < 5; i++) s->i32[i] = (int32_t)dc_test_rng_u64(&r);
    for (size_t i = 0; i < 16; i++) s->bf16[i] = (uint16_t)dc_test_rng_u64(&r);
}

static const void *sample_data(const sample *s, int i) {
    const void *p[N_SAMPLE_TENSORS] = { s->f32, s->f16, s->q8, s->i32, s->bf16, NULL };
    return p[i];
}

static const uint8_t  arr_u8[3] = { 0, 127, 255 };
static const int8_t   arr_i8[3] = { -128, 0, 127 };
static const uint16_t arr_u16[3] = { 1, 300, 65535 };
static const int16_t  arr_i16[3] = { -32768, -1, 32767 };
static const uint32_t arr_u32[3] = { 0, 1, 4294967295u };
static const int32_t  arr_i32[3] = { -2147483647 - 1, 5, 2147483647 };
static const float    arr_f32[3] = { -1.5f, 0.0f, 3.25f };
static const bool     arr_bool[3] = { true, false, true };
static const uint64_t arr_u64[3] = { 0, 1ull << 63, 18446744073709551615ull };
static const int64_t  arr_i64[3] = { INT64_MIN, -1, INT64_MAX };
static const double   arr_f64[3] = { -1e300, 0.5, 1e-300 };
static const char *const arr_str[4] = { "a", "", "ccc", "tokens \xc4\xa0with utf-8" };

/* Keys in the order they are set; "test.replaced" is set twice. */
static const char *const sample_keys[] = {
    "general.architecture", "test.u8", "test.i8", "test.u16", "test.i16", "test.u32",
    "test.i32", "test.u64", "test.i64", "test.f32", "test.f64", "test.true", "test.false",
    "test.str", "test.empty_str", "test.replaced", "arr.u8", "arr.i8", "arr.u16", "arr.i16",
    "arr.u32", "arr.i32", "arr.f32", "arr.bool", "arr.u64", "arr.i64", "arr.f64", "arr.str",
    "arr.empty_u32", "arr.empty_str",
};
#define N_SAMPLE_KEYS (sizeof sample_keys / sizeof sample_keys[0])

static void sample_keys_set(dc_gguf_writer *w) {
    ck_assert_int_eq(dc_gguf_set_str(w, "general.architecture", "test"), DC_OK);
    ck_assert_int_eq(dc_gguf_set_u8(w, "test.u8", 200), DC_OK);
    ck_assert_int_eq(dc_gguf_set_i8(w, "test.i8", -7), DC_OK);
    ck_assert_int_eq(dc_gguf_set_u16(w, "test.u16", 60000), DC_OK);
    ck_assert_int_eq(dc_gguf_set_i16(w, "test.i16", -300), DC_OK);
    ck_assert_int_eq(dc_gguf_set_u32(w, "test.u32", 4000000000u), DC_OK);
    ck_assert_int_eq(dc_gguf_set_i32(w, "test.i32", -70000), DC_OK);
    ck_assert_int_eq(dc_gguf_set_u64(w, "test.u64", 1ull << 40), DC_OK);
    ck_assert_int_eq(dc_gguf_set_i64(w, "test.i64", -5), DC_OK);
    ck_assert_int_eq(dc_gguf_set_f32(w, "test.f32", 1.5f), DC_OK);
    ck_assert_int_eq(dc_gguf_set_f64(w, "test.f64", -2.25), DC_OK);
    ck_assert_int_eq(dc_gguf_set_bool(w, "test.true", true), DC_OK);
    ck_assert_int_eq(dc_gguf_set_bool(w, "test.false", false), DC_OK);
    ck_assert_int_eq(dc_gguf_set_str(w, "test.str", "hello \"gguf\"\n"), DC_OK);
    ck_assert_int_eq(dc_gguf_set_str(w, "test.empty_str", ""), DC_OK);
    ck_assert_int_eq(dc_gguf_set_u32(w, "test.replaced", 1), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.u8", DC_GGUF_U8, arr_u8, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.i8", DC_GGUF_I8, arr_i8, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.u16", DC_GGUF_U16, arr_u16, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.i16", DC_GGUF_I16, arr_i16, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.u32", DC_GGUF_U32, arr_u32, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.i32", DC_GGUF_I32, arr_i32, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.f32", DC_GGUF_F32, arr_f32, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.bool", DC_GGUF_BOOL, arr_bool, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.u64", DC_GGUF_U64, arr_u64, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.i64", DC_GGUF_I64, arr_i64, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.f64", DC_GGUF_F64, arr_f64, 3), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr_str(w, "arr.str", arr_str, 4), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr(w, "arr.empty_u32", DC_GGUF_U32, NULL, 0), DC_OK);
    ck_assert_int_eq(dc_gguf_set_arr_str(w, "arr.empty_str", NULL, 0), DC_OK);
    /* replacing keeps the first position and takes the new type and value */
    ck_assert_int_eq(dc_gguf_set_str(w, "test.replaced", "second"), DC_OK);
}

/* Write the sample to path (alignment: 0 = default, else general.alignment). */
static void sample_write(const sample *s, const char *path, uint32_t alignment) {
    dc_gguf_writer *w = NULL;
    ck_assert_int_eq(dc_gguf_writer_init(&w), DC_OK);
    sample_keys_set(w);
    if (alignment) ck_assert_int_eq(dc_gguf_set_u32(w, "general.alignment", alignment), DC_OK);
    for (int i = 0; i < N_SAMPLE_TENSORS; i++)
        ck_assert_int_eq(dc_gguf_add_tensor(w, sample_names[i], sample_types[i],
                                            sample_dims[i], sample_ne[i],
                                            sample_data(s, i)), DC_OK);
    ck_assert_int_eq(dc_gguf_writer_write(w, path), DC_OK);
    dc_gguf_writer_free(w);
}

/* ---- round trip ------------------------------------------------------------------ */

static void check_sample_scalars(const dc_gguf *g) {
    uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f; double d; bool b;
    const char *s; size_t len;
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.u8", &u32), DC_OK);     ck_assert_uint_eq(u32, 200);
    ck_assert_int_eq(dc_gguf_get_i32(g, "test.i8", &i32), DC_OK);     ck_assert_int_eq(i32, -7);
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.u16", &u32), DC_OK);    ck_assert_uint_eq(u32, 60000);
    ck_assert_int_eq(dc_gguf_get_i32(g, "test.i16", &i32), DC_OK);    ck_assert_int_eq(i32, -300);
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.u32", &u32), DC_OK);    ck_assert_uint_eq(u32, 4000000000u);
    ck_assert_int_eq(dc_gguf_get_i32(g, "test.i32", &i32), DC_OK);    ck_assert_int_eq(i32, -70000);
    ck_assert_int_eq(dc_gguf_get_u64(g, "test.u64", &u64), DC_OK);    ck_assert_uint_eq(u64, 1ull << 40);
    ck_assert_int_eq(dc_gguf_get_i64(g, "test.i64", &i64), DC_OK);    ck_assert_int_eq(i64, -5);
    ck_assert_int_eq(dc_gguf_get_f32(g, "test.f32", &f), DC_OK);      ck_assert(f == 1.5f);
    ck_assert_int_eq(dc_gguf_get_f64(g, "test.f64", &d), DC_OK);      ck_assert(d == -2.25);
    ck_assert_int_eq(dc_gguf_get_f64(g, "test.f32", &d), DC_OK);      ck_assert(d == 1.5);
    ck_assert_int_eq(dc_gguf_get_bool(g, "test.true", &b), DC_OK);    ck_assert(b);
    ck_assert_int_eq(dc_gguf_get_bool(g, "test.false", &b), DC_OK);   ck_assert(!b);
    ck_assert_int_eq(dc_gguf_get_str(g, "test.str", &s, &len), DC_OK);
    ck_assert_uint_eq(len, 13);
    ck_assert(memcmp(s, "hello \"gguf\"\n", 13) == 0);
    ck_assert_int_eq(dc_gguf_get_str(g, "test.empty_str", &s, &len), DC_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_int_eq(dc_gguf_get_str(g, "test.replaced", &s, &len), DC_OK);
    ck_assert(len == 6 && memcmp(s, "second", 6) == 0);
    /* integer widening and narrowing */
    ck_assert_int_eq(dc_gguf_get_u64(g, "test.u8", &u64), DC_OK);    ck_assert_uint_eq(u64, 200);
    ck_assert_int_eq(dc_gguf_get_i64(g, "test.u32", &i64), DC_OK);   ck_assert_int_eq(i64, 4000000000);
    ck_assert_int_eq(dc_gguf_get_i32(g, "test.u16", &i32), DC_OK);   ck_assert_int_eq(i32, 60000);
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.u64", &u32), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_i32(g, "test.u32", &i32), DC_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "4000000000"));
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.i8", &u32), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_u64(g, "test.i64", &u64), DC_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "test.i64"));
}

static void check_sample_mismatches(const dc_gguf *g) {
    uint32_t u32; float f; bool b; const char *s; size_t len; dc_gguf_type et;
    uint64_t n; const void *p;
    ck_assert_int_eq(dc_gguf_get_f32(g, "test.f64", &f), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.true", &u32), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_bool(g, "test.u8", &b), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_u32(g, "test.str", &u32), DC_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "test.str"));
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "string"));
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "u32"));
    ck_assert_int_eq(dc_gguf_get_str(g, "test.u32", &s, &len), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_u32(g, "arr.u32", &u32), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_arr_info(g, "test.u32", &et, &n), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_arr_data(g, "arr.str", &p), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_arr_str(g, "arr.u32", 0, &s, &len), DC_ERR_TYPE);
    ck_assert_int_eq(dc_gguf_get_arr_str(g, "arr.str", 4, &s, &len), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_get_u32(g, "no.such.key", &u32), DC_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "no.such.key"));
    ck_assert_int_eq(dc_gguf_get_arr_info(g, "no.such.key", &et, &n), DC_ERR_NOT_FOUND);
    ck_assert_int_eq(dc_gguf_find_key(g, "no.such.key"), -1);
    ck_assert_int_eq(dc_gguf_find_key(g, ""), -1);
    ck_assert_int_eq(dc_gguf_find_tensor(g, "no.such.tensor"), -1);
    ck_assert_ptr_null(dc_gguf_key(g, -1));
    ck_assert_ptr_null(dc_gguf_key(g, dc_gguf_n_kv(g)));
    ck_assert_int_eq(dc_gguf_kv_type(g, dc_gguf_n_kv(g)), DC_GGUF_TYPE_COUNT);
}

static void check_arr(const dc_gguf *g, const char *key, dc_gguf_type t, const void *want,
                      size_t esz, uint64_t n) {
    dc_gguf_type et;
    uint64_t count;
    const void *p;
    ck_assert_int_eq(dc_gguf_get_arr_info(g, key, &et, &count), DC_OK);
    ck_assert_int_eq(et, t);
    ck_assert_uint_eq(count, n);
    ck_assert_int_eq(dc_gguf_get_arr_data(g, key, &p), DC_OK);
    if (n) ck_assert(memcmp(p, want, esz * n) == 0);   /* little-endian host */
}

static void check_sample_arrays(const dc_gguf *g) {
    uint8_t bools[3] = { 1, 0, 1 };
    check_arr(g, "arr.u8", DC_GGUF_U8, arr_u8, 1, 3);
    check_arr(g, "arr.i8", DC_GGUF_I8, arr_i8, 1, 3);
    check_arr(g, "arr.u16", DC_GGUF_U16, arr_u16, 2, 3);
    check_arr(g, "arr.i16", DC_GGUF_I16, arr_i16, 2, 3);
    check_arr(g, "arr.u32", DC_GGUF_U32, arr_u32, 4, 3);
    check_arr(g, "arr.i32", DC_GGUF_I32, arr_i32, 4, 3);
    check_arr(g, "arr.f32", DC_GGUF_F32, arr_f32, 4, 3);
    check_arr(g, "arr.bool", DC_GGUF_BOOL, bools, 1, 3);
    check_arr(g, "arr.u64", DC_GGUF_U64, arr_u64, 8, 3);
    check_arr(g, "arr.i64", DC_GGUF_I64, arr_i64, 8, 3);
    check_arr(g, "arr.f64", DC_GGUF_F64, arr_f64, 8, 3);
    check_arr(g, "arr.empty_u32", DC_GGUF_U32, NULL, 4, 0);
    dc_gguf_type et;
    uint64_t n;
    ck_assert_int_eq(dc_gguf_get_arr_info(g, "arr.str", &et, &n), DC_OK);
    ck_assert_int_eq(et, DC_GGUF_STRING);
    ck_assert_uint_eq(n, 4);
    for (uint64_t i = 0; i < n; i++) {
        const char *s;
        size_t len;
        ck_assert_int_eq(dc_gguf_get_arr_str(g, "arr.str", i, &s, &len), DC_OK);
        ck_assert_uint_eq(len, strlen(arr_str[i]));
        ck_assert(memcmp(s, arr_str[i], len) == 0);
    }
    ck_assert_int_eq(dc_gguf_get_arr_info(g, "arr.empty_str", &et, &n), DC_OK);
    ck_assert(et == DC_GGUF_STRING && n == 0);
}

/* Tensors: shapes, bytes, and ggml's layout (running padded offsets). */
static void check_sample_tensors(const dc_gguf *g, const sample *s, size_t align) {
    ck_assert_int_eq(dc_gguf_n_tensors(g), N_SAMPLE_TENSORS);
    ck_assert_uint_eq(dc_gguf_alignment(g), align);
    ck_assert_uint_eq(dc_gguf_data_offset(g) % align, 0);
    uint64_t offset = 0;
    for (int i = 0; i < N_SAMPLE_TENSORS; i++) {
        dc_gguf_tensor_info t;
        ck_assert_int_eq(dc_gguf_find_tensor(g, sample_names[i]), i);
        ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
        ck_assert_str_eq(t.name, sample_names[i]);
        ck_assert_int_eq(t.type, sample_types[i]);
        ck_assert_int_eq(t.n_dims, sample_dims[i]);
        for (int j = 0; j < 4; j++) ck_assert_int_eq(t.ne[j], sample_ne[i][j]);
        size_t want = dc_row_size(t.type, t.ne[0]) * (size_t)(t.ne[1] * t.ne[2] * t.ne[3]);
        ck_assert_uint_eq(t.size, want);
        ck_assert_uint_eq(t.offset, offset);
        if (t.size) ck_assert(memcmp(t.data, sample_data(s, i), t.size) == 0);
        offset += (t.size + align - 1) / align * align;
    }
    ck_assert_uint_eq(dc_gguf_file_size(g), dc_gguf_data_offset(g) + offset);
    dc_gguf_tensor_info t;
    ck_assert_int_eq(dc_gguf_tensor(g, N_SAMPLE_TENSORS, &t), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_tensor(g, -1, &t), DC_ERR_INVALID_ARG);
}

static void check_sample(const dc_gguf *g, const sample *s, size_t align) {
    ck_assert_uint_eq(dc_gguf_version(g), 3);
    int64_t extra = align != DC_GGUF_DEFAULT_ALIGNMENT;   /* general.alignment */
    ck_assert_int_eq(dc_gguf_n_kv(g), (int64_t)N_SAMPLE_KEYS + extra + 1);
    for (size_t i = 0; i < N_SAMPLE_KEYS; i++) {
        ck_assert_str_eq(dc_gguf_key(g, (int64_t)i), sample_keys[i]);
        ck_assert_int_eq(dc_gguf_find_key(g, sample_keys[i]), (int64_t)i);
    }
    ck_assert_str_eq(dc_gguf_key(g, dc_gguf_n_kv(g) - 1), DC_GGUF_CHECKSUM_KEY);
    ck_assert_int_eq(dc_gguf_kv_type(g, 1), DC_GGUF_U8);
    ck_assert_int_eq(dc_gguf_kv_type(g, dc_gguf_find_key(g, "test.replaced")), DC_GGUF_STRING);
    ck_assert_int_eq(dc_gguf_kv_type(g, dc_gguf_find_key(g, "arr.str")), DC_GGUF_ARRAY);
    check_sample_scalars(g);
    check_sample_mismatches(g);
    check_sample_arrays(g);
    check_sample_tensors(g, s, align);
    ck_assert_int_eq(dc_gguf_verify(g), DC_OK);
}

START_TEST(test_roundtrip) {
    static const uint32_t aligns[] = { 0, 64, 1, 4096 };
    sample s;
    tmpdir d;
    sample_fill(&s);
    tmpdir_make(&d);
    const char *path = tmpdir_file(&d, "sample.gguf");
    for (size_t k = 0; k < sizeof aligns / sizeof aligns[0]; k++) {
        size_t align = aligns[k] ? aligns[k] : DC_GGUF_DEFAULT_ALIGNMENT;
        size_t in_use = dc_alloc_bytes_in_use();
        sample_write(&s, path, aligns[k]);
        dc_gguf *g = NULL;
        ck_assert_msg(dc_gguf_open(path, &g) == DC_OK, "%s", dc_last_error());
        check_sample(g, &s, align);
        dc_gguf_close(g);
        /* the same bytes through open_memory */
        size_t size;
        void *buf = dc_test_read_file(path, &size);
        ck_assert_ptr_nonnull(buf);
        ck_assert_int_eq(dc_gguf_open_memory(buf, size, &g), DC_OK);
        check_sample(g, &s, align);
        dc_gguf_close(g);
        free(buf);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), in_use);
    }
    tmpdir_remove(&d);
}
END_TEST

START_TEST(test_type_names) {
    ck_assert_str_eq(dc_gguf_type_name(DC_GGUF_U8), "u8");
    ck_assert_str_eq(dc_gguf_type_name(DC_GGUF_STRING), "string");
    ck_assert_str_eq(dc_gguf_type_name(DC_GGUF_ARRAY), "array");
    ck_assert_str_eq(dc_gguf_type_name(DC_GGUF_F64), "f64");
    ck_assert_str_eq(dc_gguf_type_name(DC_GGUF_TYPE_COUNT), "invalid");
    ck_assert_str_eq(dc_gguf_type_name((dc_gguf_type)-1), "invalid");
}
END_TEST

START_TEST(test_writer_errors) {
    static const int64_t ne2[2] = { 32, 2 }, ne_odd[2] = { 33, 2 }, ne_neg[2] = { 4, -1 };
    static const int64_t ne5[5] = { 1, 1, 1, 1, 1 };
    float data[64] = { 0 };
    char long_name[65];
    memset(long_name, 'x', 64);
    long_name[64] = '\0';
    size_t in_use = dc_alloc_bytes_in_use();
    dc_gguf_writer *w = NULL;
    ck_assert_int_eq(dc_gguf_writer_init(&w), DC_OK);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "", DC_TYPE_F32, 2, ne2, data), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, long_name, DC_TYPE_F32, 2, ne2, data),
                     DC_ERR_INVALID_ARG);
    long_name[63] = '\0';
    ck_assert_int_eq(dc_gguf_add_tensor(w, long_name, DC_TYPE_F32, 2, ne2, data), DC_OK);
    ck_assert_int_eq(dc_gguf_add_tensor(w, long_name, DC_TYPE_F32, 2, ne2, data),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "t", DC_TYPE_F32, 0, ne2, data), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "t", DC_TYPE_F32, 5, ne5, data), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "t", DC_TYPE_Q8_0, 2, ne_odd, data),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "t", DC_TYPE_F32, 2, ne_neg, data),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "t", (dc_type)4, 2, ne2, data), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_add_tensor(w, "t", DC_TYPE_F32, 2, ne2, NULL), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_set_u32(w, "", 1), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_set_arr(w, "a", DC_GGUF_STRING, data, 1), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_set_arr(w, "a", DC_GGUF_ARRAY, data, 1), DC_ERR_INVALID_ARG);
    uint8_t bad_bool[2] = { 1, 2 };
    ck_assert_int_eq(dc_gguf_set_arr(w, "a", DC_GGUF_BOOL, bad_bool, 2), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_find_key(NULL, "a"), -1);
    /* general.alignment must be a u32 power of two when the file is written */
    tmpdir d;
    tmpdir_make(&d);
    ck_assert_int_eq(dc_gguf_set_u32(w, "general.alignment", 48), DC_OK);
    ck_assert_int_eq(dc_gguf_writer_write(w, tmpdir_file(&d, "x.gguf")), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_set_u8(w, "general.alignment", 32), DC_OK);
    ck_assert_int_eq(dc_gguf_writer_write(w, tmpdir_file(&d, "x.gguf")), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_set_u32(w, "general.alignment", 16), DC_OK);
    ck_assert_int_eq(dc_gguf_writer_write(w, "/nonexistent-dir/x.gguf"), DC_ERR_IO);
    ck_assert_int_eq(dc_gguf_writer_write(w, tmpdir_file(&d, "x.gguf")), DC_OK);
    dc_gguf_writer_free(w);
    dc_gguf_writer_free(NULL);
    dc_gguf_close(NULL);
    tmpdir_remove(&d);
    ck_assert_uint_eq(dc_alloc_bytes_in_use(), in_use);
}
END_TEST

/* ---- fixtures ------------------------------------------------------------------- */

/* Minimal JSON scanning for the hparams files: the value after "key":. */
static const char *json_after(const char *js, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(js, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ' || *p == '\n' || *p == ':') p++;
    return p;
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == ',' || *p == '\r' || *p == '\t') p++;
    return p;
}

/* A JSON string without escapes at p (after the opening quote is p[0]). */
static const char *json_str(const char *p, char *out, size_t cap) {
    ck_assert_int_eq(*p, '"');
    const char *end = strchr(p + 1, '"');
    ck_assert_ptr_nonnull(end);
    size_t n = (size_t)(end - p - 1);
    ck_assert_uint_lt(n, cap);
    memcpy(out, p + 1, n);
    out[n] = '\0';
    return end + 1;
}

/* "gguf_tensor_types": {"F32": 17, ...}: per-type counts match the file. */
static void check_type_counts(const dc_gguf *g, const char *js) {
    const char *p = json_after(js, "gguf_tensor_types");
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(*p, '{');
    int64_t total = 0;
    for (p = skip_ws(p + 1); *p != '}'; p = skip_ws(p)) {
        char name[32];
        dc_type type;
        p = json_str(p, name, sizeof name);
        while (*p == ':' || *p == ' ') p++;
        long want = strtol(p, (char **)&p, 10);
        ck_assert_int_eq(dc_type_from_name(name, &type), DC_OK);
        long have = 0;
        for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
            dc_gguf_tensor_info t;
            ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
            have += t.type == type;
        }
        ck_assert_msg(have == want, "%s: %ld tensors, hparams say %ld", name, have, want);
        total += want;
    }
    ck_assert_int_eq(total, dc_gguf_n_tensors(g));
}

/* "gguf_tensors_by_type": {"Q6_K": ["output.weight", ...], ...}. */
static int check_types_by_name(const dc_gguf *g, const char *js) {
    const char *p = json_after(js, "gguf_tensors_by_type");
    int checked = 0;
    if (!p) return 0;
    ck_assert_int_eq(*p, '{');
    for (p = skip_ws(p + 1); *p != '}'; p = skip_ws(p)) {
        char type_name[32], name[DC_MAX_NAME];
        dc_type type;
        p = json_str(p, type_name, sizeof type_name);
        ck_assert_int_eq(dc_type_from_name(type_name, &type), DC_OK);
        while (*p == ':' || *p == ' ') p++;
        ck_assert_int_eq(*p, '[');
        for (p = skip_ws(p + 1); *p != ']'; p = skip_ws(p)) {
            dc_gguf_tensor_info t;
            p = json_str(p, name, sizeof name);
            int64_t i = dc_gguf_find_tensor(g, name);
            ck_assert_msg(i >= 0, "tensor %s missing", name);
            ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
            ck_assert_msg(t.type == type, "%s: %s, want %s", name, dc_type_name(t.type),
                          type_name);
            checked++;
        }
        p++;
    }
    ck_assert_int_eq(checked, dc_gguf_n_tensors(g));
    return checked;
}

/* Every tensor: size from the shape, aligned, inside the file. */
static void check_tensor_layout(const dc_gguf *g) {
    const uint8_t *lo = NULL;
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info t;
        ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
        size_t rows = (size_t)(t.ne[1] * t.ne[2] * t.ne[3]);
        ck_assert_uint_eq(t.size, dc_row_size(t.type, t.ne[0]) * rows);
        ck_assert_uint_eq(t.offset % dc_gguf_alignment(g), 0);
        ck_assert_uint_le(dc_gguf_data_offset(g) + t.offset + t.size, dc_gguf_file_size(g));
        if (!lo) lo = (const uint8_t *)t.data - dc_gguf_data_offset(g) - t.offset;
        ck_assert_ptr_eq(t.data, lo + dc_gguf_data_offset(g) + t.offset);
    }
}

/* A whole text file, NUL-terminated; caller free()s. */
static char *read_text(const char *path) {
    size_t size;
    char *raw = dc_test_read_file(path, &size);
    ck_assert_msg(raw != NULL, "cannot read %s", path);
    char *text = malloc(size + 1);
    ck_assert_ptr_nonnull(text);
    memcpy(text, raw, size);
    text[size] = '\0';
    free(raw);
    return text;
}

static void check_model(const char *model) {
    char rel[256], arch[32], key[96];
    snprintf(rel, sizeof rel, "fixtures/models/%s.hparams.json", model);
    char *js = read_text(dc_test_shared_path(rel));
    snprintf(rel, sizeof rel, "fixtures/models/%s.gguf", model);
    dc_gguf *g = NULL;
    ck_assert_msg(dc_gguf_open(dc_test_shared_path(rel), &g) == DC_OK, "%s: %s", rel,
                  dc_last_error());
    const char *s;
    size_t len;
    uint32_t v;
    ck_assert_int_eq(dc_gguf_get_str(g, "general.architecture", &s, &len), DC_OK);
    ck_assert_uint_lt(len, sizeof arch);
    memcpy(arch, s, len);
    arch[len] = '\0';
    const char *want_arch = json_after(js, "architecture");
    ck_assert_str_eq(arch, want_arch ? (strncmp(want_arch, "\"llama\"", 7) == 0 ? "llama"
                                        : strncmp(want_arch, "\"qwen2\"", 7) == 0 ? "qwen2"
                                        : "?") : "deepseek2");
    snprintf(key, sizeof key, "%s.embedding_length", arch);
    ck_assert_int_eq(dc_gguf_get_u32(g, key, &v), DC_OK);
    ck_assert_int_eq(v, atoi(json_after(js, "hidden_size")));
    snprintf(key, sizeof key, "%s.block_count", arch);
    ck_assert_int_eq(dc_gguf_get_u32(g, key, &v), DC_OK);
    ck_assert_int_eq(v, atoi(json_after(js, "num_hidden_layers")));
    dc_gguf_type et;
    uint64_t n;
    ck_assert_int_eq(dc_gguf_get_arr_info(g, "tokenizer.ggml.tokens", &et, &n), DC_OK);
    ck_assert(et == DC_GGUF_STRING && n == (uint64_t)atoi(json_after(js, "n_vocab")));
    ck_assert_int_eq(dc_gguf_get_arr_str(g, "tokenizer.ggml.tokens", n - 1, &s, &len), DC_OK);
    check_type_counts(g, js);
    check_types_by_name(g, js);
    check_tensor_layout(g);
    ck_assert_int_eq(dc_gguf_verify(g), DC_ERR_NOT_FOUND);
    dc_gguf_close(g);
    free(js);
}

static const char *const models[] = {
    "tiny-v3", "tiny-v2lite", "tiny-legacy", "tiny-v3-q8_0", "tiny-v3-q4_k_m",
    "tiny-qwen2", "tiny-llama",
};

START_TEST(test_fixture_models) {
    size_t in_use = dc_alloc_bytes_in_use();
    check_model(models[_i]);
    ck_assert_uint_eq(dc_alloc_bytes_in_use(), in_use);
}
END_TEST

START_TEST(test_fixture_values) {
    dc_gguf *g = NULL;
    dc_gguf_tensor_info t;
    uint32_t v;
    float f;
    bool b;
    ck_assert_int_eq(dc_gguf_open(dc_test_shared_path("fixtures/models/tiny-v3.gguf"), &g),
                     DC_OK);
    ck_assert_int_eq(dc_gguf_n_tensors(g), 52);
    ck_assert_int_eq(dc_gguf_n_kv(g), 46);
    for (int64_t i = 0; i < 52; i++) {
        ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
        ck_assert_int_eq(t.type, DC_TYPE_F32);
    }
    ck_assert_int_eq(dc_gguf_get_u32(g, "deepseek2.embedding_length", &v), DC_OK);
    ck_assert_uint_eq(v, 256);
    ck_assert_int_eq(dc_gguf_get_u32(g, "deepseek2.expert_count", &v), DC_OK);
    ck_assert_uint_eq(v, 16);
    ck_assert_int_eq(dc_gguf_get_u32(g, "tokenizer.ggml.bos_token_id", &v), DC_OK);
    ck_assert_uint_eq(v, 510);
    ck_assert_int_eq(dc_gguf_get_f32(g, "deepseek2.expert_weights_scale", &f), DC_OK);
    ck_assert(f == 2.5f);
    ck_assert_int_eq(dc_gguf_get_bool(g, "deepseek2.expert_weights_norm", &b), DC_OK);
    ck_assert(b);
    int64_t i = dc_gguf_find_tensor(g, "token_embd.weight");
    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
    ck_assert_int_eq(t.n_dims, 2);
    ck_assert(t.ne[0] == 256 && t.ne[1] == 512 && t.ne[2] == 1 && t.ne[3] == 1);
    ck_assert_uint_eq(t.size, 256 * 512 * 4);
    const char *s;
    size_t len;
    ck_assert_int_eq(dc_gguf_get_arr_str(g, "tokenizer.ggml.merges", 0, &s, &len), DC_OK);
    ck_assert(len == 4 && memcmp(s, "\xc4\xa0 t", 4) == 0);   /* "Ġ t" */
    dc_gguf_close(g);

    ck_assert_int_eq(dc_gguf_open(dc_test_shared_path("fixtures/quant/quant-ref.gguf"), &g),
                     DC_OK);
    i = dc_gguf_find_tensor(g, "q4_k");
    ck_assert_int_ge(i, 0);
    ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
    ck_assert_int_eq(t.type, DC_TYPE_Q4_K);
    ck_assert(t.n_dims == 2 && t.ne[0] == 1024 && t.ne[1] == 8);
    ck_assert_uint_eq(t.size, 8 * 4 * 144);
    ck_assert_int_eq(dc_gguf_get_u32(g, "quant_ref.n_per_row", &v), DC_OK);
    ck_assert_uint_eq(v, 1024);
    check_tensor_layout(g);
    dc_gguf_close(g);
}
END_TEST

/* Values of key in a and b are equal (through the public getters). */
static void check_same_value(const dc_gguf *a, const dc_gguf *b, const char *key) {
    int64_t ia = dc_gguf_find_key(a, key), ib = dc_gguf_find_key(b, key);
    ck_assert_msg(ib >= 0, "key %s lost", key);
    dc_gguf_type t = dc_gguf_kv_type(a, ia);
    ck_assert_int_eq(dc_gguf_kv_type(b, ib), t);
    const char *sa, *sb;
    size_t la, lb;
    if (t == DC_GGUF_STRING) {
        ck_assert_int_eq(dc_gguf_get_str(a, key, &sa, &la), DC_OK);
        ck_assert_int_eq(dc_gguf_get_str(b, key, &sb, &lb), DC_OK);
        ck_assert(la == lb && memcmp(sa, sb, la) == 0);
    } else if (t == DC_GGUF_ARRAY) {
        dc_gguf_type ea, eb;
        uint64_t na, nb;
        ck_assert_int_eq(dc_gguf_get_arr_info(a, key, &ea, &na), DC_OK);
        ck_assert_int_eq(dc_gguf_get_arr_info(b, key, &eb, &nb), DC_OK);
        ck_assert(ea == eb && na == nb);
        for (uint64_t i = 0; ea == DC_GGUF_STRING && i < na; i++) {
            ck_assert_int_eq(dc_gguf_get_arr_str(a, key, i, &sa, &la), DC_OK);
            ck_assert_int_eq(dc_gguf_get_arr_str(b, key, i, &sb, &lb), DC_OK);
            ck_assert(la == lb && memcmp(sa, sb, la) == 0);
        }
    } else {
        double da, db;
        if (t == DC_GGUF_F32 || t == DC_GGUF_F64) {
            ck_assert_int_eq(dc_gguf_get_f64(a, key, &da), DC_OK);
            ck_assert_int_eq(dc_gguf_get_f64(b, key, &db), DC_OK);
            ck_assert(da == db);
        }
    }
}

START_TEST(test_fixture_copy) {
    dc_gguf *g = NULL, *h = NULL;
    dc_gguf_writer *w = NULL;
    tmpdir d;
    tmpdir_make(&d);
    const char *path = tmpdir_file(&d, "copy.gguf");
    ck_assert_int_eq(dc_gguf_open(dc_test_shared_path("fixtures/models/tiny-v3-q4_k_m.gguf"),
                                  &g), DC_OK);
    ck_assert_int_eq(dc_gguf_writer_init(&w), DC_OK);
    ck_assert_int_eq(dc_gguf_copy_kv(w, g), DC_OK);
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info t;
        ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
        ck_assert_int_eq(dc_gguf_add_tensor(w, t.name, t.type, t.n_dims, t.ne, t.data), DC_OK);
    }
    ck_assert_int_eq(dc_gguf_writer_write(w, path), DC_OK);
    dc_gguf_writer_free(w);
    ck_assert_int_eq(dc_gguf_open(path, &h), DC_OK);
    ck_assert_int_eq(dc_gguf_n_kv(h), dc_gguf_n_kv(g) + 1);
    for (int64_t i = 0; i < dc_gguf_n_kv(g); i++) {
        ck_assert_str_eq(dc_gguf_key(h, i), dc_gguf_key(g, i));
        check_same_value(g, h, dc_gguf_key(g, i));
    }
    ck_assert_int_eq(dc_gguf_n_tensors(h), dc_gguf_n_tensors(g));
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info a, b;
        ck_assert_int_eq(dc_gguf_tensor(g, i, &a), DC_OK);
        ck_assert_int_eq(dc_gguf_tensor(h, i, &b), DC_OK);
        ck_assert_str_eq(a.name, b.name);
        ck_assert(a.type == b.type && a.n_dims == b.n_dims && a.size == b.size);
        ck_assert(memcmp(a.ne, b.ne, sizeof a.ne) == 0);
        ck_assert(memcmp(a.data, b.data, a.size) == 0);
    }
    ck_assert_int_eq(dc_gguf_verify(h), DC_OK);
    /* the peer's files use the same layout as ours: same data offset rule */
    ck_assert_uint_eq(dc_gguf_file_size(h) - dc_gguf_data_offset(h),
                      dc_gguf_file_size(g) - dc_gguf_data_offset(g));
    dc_gguf_close(h);
    dc_gguf_close(g);
    tmpdir_remove(&d);
}
END_TEST

/* ---- checksums ------------------------------------------------------------------- */

START_TEST(test_checksum) {
    sample s;
    tmpdir d;
    sample_fill(&s);
    tmpdir_make(&d);
    const char *path = tmpdir_file(&d, "sum.gguf");
    sample_write(&s, path, 0);
    size_t size;
    uint8_t *buf = dc_test_read_file(path, &size);
    ck_assert_ptr_nonnull(buf);
    dc_gguf *g = NULL;
    ck_assert_int_eq(dc_gguf_open_memory(buf, size, &g), DC_OK);
    ck_assert_int_eq(dc_gguf_verify(g), DC_OK);
    for (int i = 0; i < N_SAMPLE_TENSORS; i++) {
        dc_gguf_tensor_info t;
        ck_assert_int_eq(dc_gguf_tensor(g, i, &t), DC_OK);
        if (t.size == 0) continue;
        size_t at = dc_gguf_data_offset(g) + t.offset + t.size / 2;
        buf[at] ^= 0x10;
        ck_assert_int_eq(dc_gguf_verify(g), DC_ERR_CHECKSUM);
        ck_assert_msg(strstr(dc_last_error(), t.name) != NULL, "%s", dc_last_error());
        buf[at] ^= 0x10;
        ck_assert_int_eq(dc_gguf_verify(g), DC_OK);
    }
    /* padding is not covered: ids.i32 holds 20 bytes, padded to 32 */
    dc_gguf_tensor_info t;
    ck_assert_int_eq(dc_gguf_tensor(g, dc_gguf_find_tensor(g, "ids.i32"), &t), DC_OK);
    ck_assert_uint_eq(t.size, 20);
    buf[dc_gguf_data_offset(g) + t.offset + 20] ^= 0xff;
    ck_assert_int_eq(dc_gguf_verify(g), DC_OK);
    dc_gguf_close(g);
    free(buf);
    ck_assert_int_eq(dc_gguf_open(dc_test_shared_path("fixtures/models/tiny-llama.gguf"), &g),
                     DC_OK);
    ck_assert_int_eq(dc_gguf_verify(g), DC_ERR_NOT_FOUND);
    dc_gguf_close(g);
    tmpdir_remove(&d);
}
END_TEST

/* ---- hostile files ------------------------------------------------------------------ */

typedef struct hostile {
    tmpdir      dir;
    int         n;
    int         n_policy;
    size_t      in_use;
    const char *dump;    /* DEEPC_GGUF_DUMP or NULL */
} hostile;

/* data must fail in memory (from an exact-size copy) and from a file. */
static void expect_rejected(const char *name, const uint8_t *data, size_t size,
                            const char *path) {
    static char sentinel;
    uint8_t *copy = malloc(size ? size : 1);
    ck_assert_ptr_nonnull(copy);
    if (size) memcpy(copy, data, size);
    dc_gguf *g = (dc_gguf *)&sentinel;   /* must come back NULL */
    dc_status st = dc_gguf_open_memory(copy, size, &g);
    ck_assert_msg(st != DC_OK, "%s: accepted by dc_gguf_open_memory", name);
    ck_assert_ptr_null(g);
    ck_assert_msg(strlen(dc_last_error()) > 0 && !strchr(dc_last_error(), '\n'),
                  "%s: message \"%s\"", name, dc_last_error());
    free(copy);
    g = (dc_gguf *)&sentinel;
    st = dc_gguf_open(path, &g);
    ck_assert_msg(st != DC_OK, "%s: accepted by dc_gguf_open", name);
    ck_assert_ptr_null(g);
}

static void on_hostile(const char *name, const uint8_t *data, size_t size, bool policy,
                       void *user) {
    hostile *h = user;
    char file[128];
    snprintf(file, sizeof file, "%s.gguf", name);
    const char *path = tmpdir_file(&h->dir, file);
    write_bytes(path, data, size);
    expect_rejected(name, data, size, tmpdir_file(&h->dir, file));
    ck_assert_uint_eq(dc_alloc_bytes_in_use(), h->in_use);
    h->n++;
    h->n_policy += policy;
}

START_TEST(test_hostile_generated) {
    hostile h = { .in_use = dc_alloc_bytes_in_use() };
    size_t size;
    uint8_t *base = dc_bad_gguf_base(&size);
    ck_assert_ptr_nonnull(base);
    dc_gguf *g = NULL;
    ck_assert_msg(dc_gguf_open_memory(base, size, &g) == DC_OK, "base: %s", dc_last_error());
    ck_assert_int_eq(dc_gguf_n_kv(g), 19);
    ck_assert_int_eq(dc_gguf_n_tensors(g), 3);
    dc_gguf_close(g);
    free(base);
    tmpdir_make(&h.dir);
    int n = dc_bad_gguf_generate(on_hostile, &h);
    ck_assert_int_eq(n, h.n);
    ck_assert_int_ge(n - h.n_policy, 200);
    tmpdir_remove(&h.dir);
}
END_TEST

START_TEST(test_hostile_data_dir) {
    const char *dir_path = dc_test_data_path("bad");
    char dir_copy[4096], path[4096 + 512];
    snprintf(dir_copy, sizeof dir_copy, "%s", dir_path);
    DIR *dir = opendir(dir_copy);
    ck_assert_msg(dir != NULL, "cannot open %s", dir_copy);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!strstr(e->d_name, ".gguf")) continue;
        snprintf(path, sizeof path, "%s/%s", dir_copy, e->d_name);
        size_t size;
        uint8_t *data = dc_test_read_file(path, &size);
        ck_assert_ptr_nonnull(data);
        expect_rejected(e->d_name, data, size, path);
        free(data);
        n++;
    }
    closedir(dir);
    ck_assert_int_ge(n, 10);
}
END_TEST

/* Truncations of a real model at awkward places, and a missing file. */
START_TEST(test_hostile_fixture_cuts) {
    size_t size;
    uint8_t *buf = dc_test_read_file(dc_test_shared_path("fixtures/models/tiny-llama.gguf"),
                                     &size);
    ck_assert_ptr_nonnull(buf);
    dc_gguf *g = NULL;
    ck_assert_int_eq(dc_gguf_open_memory(buf, size, &g), DC_OK);
    size_t data_offset = dc_gguf_data_offset(g);
    dc_gguf_close(g);
    for (size_t cut = 0; cut < data_offset; cut += 7)
        ck_assert_int_eq(dc_gguf_open_memory(buf, cut, &g), DC_ERR_FORMAT);
    ck_assert_int_eq(dc_gguf_open_memory(buf, size - 1, &g), DC_ERR_FORMAT);
    free(buf);
    ck_assert_int_eq(dc_gguf_open("/nonexistent/x.gguf", &g), DC_ERR_IO);
    ck_assert_ptr_null(g);
    ck_assert_int_eq(dc_gguf_open("/tmp", &g), DC_ERR_IO);
    ck_assert_int_eq(dc_gguf_open(NULL, &g), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_gguf_open_memory(NULL, 10, &g), DC_ERR_INVALID_ARG);
}
END_TEST

/* ---- allocation failures ------------------------------------------------------------- */

/* Fail the n-th allocation for n = 0, 1, ... until the call succeeds: every
 * failure must be DC_ERR_NOMEM and leave no byte allocated. */
static void alloc_fail_open(const void *data, size_t size, const char *path) {
    size_t in_use = dc_alloc_bytes_in_use();
    for (long n = 0;; n++) {
        dc_gguf *g = NULL;
        dc_alloc_fail_after(n);
        dc_status st = path ? dc_gguf_open(path, &g) : dc_gguf_open_memory(data, size, &g);
        dc_alloc_fail_after(-1);
        if (st == DC_OK) {
            ck_assert_int_ge(n, 5);
            dc_gguf_close(g);
            break;
        }
        ck_assert_msg(st == DC_ERR_NOMEM, "n = %ld: %s", n, dc_last_error());
        ck_assert_ptr_null(g);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), in_use);
    }
    ck_assert_uint_eq(dc_alloc_bytes_in_use(), in_use);
}

START_TEST(test_alloc_fail_reader) {
    size_t size;
    uint8_t *base = dc_bad_gguf_base(&size);
    ck_assert_ptr_nonnull(base);
    alloc_fail_open(base, size, NULL);
    free(base);
    alloc_fail_open(NULL, 0, dc_test_shared_path("fixtures/models/tiny-v3.gguf"));
}
END_TEST

START_TEST(test_alloc_fail_writer) {
    sample s;
    tmpdir d;
    sample_fill(&s);
    tmpdir_make(&d);
    const char *path = tmpdir_file(&d, "w.gguf");
    size_t in_use = dc_alloc_bytes_in_use();
    for (long n = 0;; n++) {
        dc_gguf_writer *w = NULL;
        dc_alloc_fail_after(n);
        dc_status st = dc_gguf_writer_init(&w);
        if (st == DC_OK) {
            /* stop at the first failing call, as a caller would */
            for (int i = 0; i < N_SAMPLE_TENSORS && st == DC_OK; i++)
                st = dc_gguf_add_tensor(w, sample_names[i], sample_types[i], sample_dims[i],
                                        sample_ne[i], sample_data(&s, i));
            for (size_t k = 0; k < 40 && st == DC_OK; k++) {
                char key[32];
                snprintf(key, sizeof key, "k.%zu", k);
                st = k % 2 ? dc_gguf_set_str(w, key, "value")
                           : dc_gguf_set_arr_str(w, key, arr_str, 4);
            }
            if (st == DC_OK) st = dc_gguf_writer_write(w, path);
        }
        dc_alloc_fail_after(-1);
        dc_gguf_writer_free(w);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), in_use);
        if (st == DC_OK) break;
        ck_assert_msg(st == DC_ERR_NOMEM, "n = %ld: %s", n, dc_last_error());
    }
    dc_gguf *g = NULL;
    ck_assert_int_eq(dc_gguf_open(path, &g), DC_OK);
    ck_assert_int_eq(dc_gguf_verify(g), DC_OK);
    dc_gguf_close(g);
    tmpdir_remove(&d);
}
END_TEST

/* ---- deepc-gguf-dump ---------------------------------------------------------------- */

static void dump_expect_error(const char *dump, const char *name, const char *path) {
    char out[8192], prefix[600];
    int status = run_capture(dump, path, NULL, out, sizeof out);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "%s: status %d", name,
                  status);
    snprintf(prefix, sizeof prefix, "deepc-gguf-dump: %s: ", path);
    size_t len = strlen(out);
    ck_assert_msg(strncmp(out, prefix, strlen(prefix)) == 0 && len > strlen(prefix) + 1,
                  "%s: output \"%s\"", name, out);
    ck_assert_msg(out[len - 1] == '\n' && strchr(out, '\n') == out + len - 1,
                  "%s: not one line: \"%s\"", name, out);
}

static void on_hostile_dump(const char *name, const uint8_t *data, size_t size, bool policy,
                            void *user) {
    hostile *h = user;
    char file[128];
    (void)policy;
    snprintf(file, sizeof file, "%s.gguf", name);
    char path[512];
    snprintf(path, sizeof path, "%s", tmpdir_file(&h->dir, file));
    write_bytes(path, data, size);
    dump_expect_error(h->dump, name, path);
    unlink(path);
    h->n++;
}

START_TEST(test_dump) {
    const char *dump = getenv("DEEPC_GGUF_DUMP");
    if (!dump || !*dump) return;   /* run outside meson: nothing to exec */
    char out[1 << 16];
    hostile h = { .dump = dump };
    tmpdir_make(&h.dir);
    int n = dc_bad_gguf_generate(on_hostile_dump, &h);
    ck_assert_int_eq(n, h.n);
    /* a good file lists keys and tensors; --verify needs checksums */
    char model[4096];
    snprintf(model, sizeof model, "%s", dc_test_shared_path("fixtures/models/tiny-v3.gguf"));
    int status = run_capture(dump, model, NULL, out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_ptr_nonnull(strstr(out, "deepseek2.embedding_length"));
    ck_assert_ptr_nonnull(strstr(out, "token_embd.weight"));
    ck_assert_ptr_nonnull(strstr(out, "[256, 512]"));
    status = run_capture(dump, model, "--verify", out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    ck_assert_ptr_nonnull(strstr(out, DC_GGUF_CHECKSUM_KEY));
    sample s;
    sample_fill(&s);
    char path[512];
    snprintf(path, sizeof path, "%s", tmpdir_file(&h.dir, "sample.gguf"));
    sample_write(&s, path, 0);
    status = run_capture(dump, path, "--verify", out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_ptr_nonnull(strstr(out, "checksums: OK (6 tensors)"));
    ck_assert_ptr_nonnull(strstr(out, "string[4]: \"a\", \"\", \"ccc\""));
    ck_assert_uint_gt(file_size(path), 0);
    unlink(path);
    status = run_capture(dump, "/nonexistent/x.gguf", NULL, out, sizeof out);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    tmpdir_remove(&h.dir);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------ */

Suite *gguf_suite(void) {
    Suite *s = suite_create("gguf");
    TCase *tc = tcase_create("roundtrip");
    tcase_add_test(tc, test_type_names);
    tcase_add_test(tc, test_roundtrip);
    tcase_add_test(tc, test_writer_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("fixtures");
    tcase_add_loop_test(tc, test_fixture_models, 0, (int)(sizeof models / sizeof models[0]));
    tcase_add_test(tc, test_fixture_values);
    tcase_add_test(tc, test_fixture_copy);
    suite_add_tcase(s, tc);
    tc = tcase_create("checksum");
    tcase_add_test(tc, test_checksum);
    suite_add_tcase(s, tc);
    tc = tcase_create("hostile");
    tcase_add_test(tc, test_hostile_generated);
    tcase_add_test(tc, test_hostile_data_dir);
    tcase_add_test(tc, test_hostile_fixture_cuts);
    suite_add_tcase(s, tc);
    tc = tcase_create("alloc_fail");
    tcase_add_test(tc, test_alloc_fail_reader);
    tcase_add_test(tc, test_alloc_fail_writer);
    suite_add_tcase(s, tc);
    tc = tcase_create("dump");
    tcase_add_test(tc, test_dump);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(gguf_suite)
