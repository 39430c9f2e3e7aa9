/*
 * fuzz_gguf.c - libFuzzer harness: any byte string through
 * dc_gguf_open_memory(), and, when it opens, every key through every getter,
 * every tensor record, the checksum walk and dc_gguf_copy_kv().
 *
 * What it proves beyond "no crash" (ASan/UBSan do the rest): an open file
 * keeps its promises - every string, array and tensor the getters hand out
 * lies inside the input, and a failed open leaves *out NULL with a one-line
 * message. A broken promise is __builtin_trap(), which libFuzzer reports as
 * a crash with the input saved. Build and run: tests/fuzz/meson.build.
 */
#include "deepc/gguf.h"

#include <stdint.h>
#include <string.h>

#define CHECK(cond)                   \
    do {                              \
        if (!(cond)) __builtin_trap(); \
    } while (0)

static const uint8_t *lo, *hi;   /* the input: [lo, hi) */

static void check_inside(const void *p, size_t n) {
    const uint8_t *b = p;
    CHECK(b >= lo && b <= hi && n <= (size_t)(hi - b));
    volatile uint8_t sink = 0;
    if (n) sink ^= b[0] ^ b[n - 1];   /* touch both ends for ASan */
    (void)sink;
}

static void walk_array(const dc_gguf *g, const char *key) {
    dc_gguf_type et;
    uint64_t n;
    CHECK(dc_gguf_get_arr_info(g, key, &et, &n) == DC_OK);
    if (et == DC_GGUF_STRING) {
        const char *s;
        size_t len;
        for (uint64_t i = 0; i < n; i++) {
            CHECK(dc_gguf_get_arr_str(g, key, i, &s, &len) == DC_OK);
            check_inside(s, len);
        }
        CHECK(dc_gguf_get_arr_str(g, key, n, &s, &len) == DC_ERR_INVALID_ARG);
        return;
    }
    static const size_t sizes[DC_GGUF_TYPE_COUNT] = { 1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8 };
    const void *data;
    CHECK((unsigned)et < DC_GGUF_TYPE_COUNT && sizes[et] > 0);
    CHECK(dc_gguf_get_arr_data(g, key, &data) == DC_OK);
    CHECK(n <= (uint64_t)(hi - lo) / sizes[et]);
    check_inside(data, (size_t)n * sizes[et]);
}

static void walk_key(const dc_gguf *g, int64_t i) {
    const char *key = dc_gguf_key(g, i);
    CHECK(key != NULL && key[0] != '\0');
    CHECK(dc_gguf_find_key(g, key) == i);
    dc_gguf_type t = dc_gguf_kv_type(g, i);
    CHECK((unsigned)t < DC_GGUF_TYPE_COUNT);
    uint32_t u32; int32_t i32; uint64_t u64; int64_t i64; float f; double d; bool b;
    const char *s;
    size_t len;
    /* every getter on every key: right type succeeds, others fail cleanly */
    (void)dc_gguf_get_u32(g, key, &u32);
    (void)dc_gguf_get_i32(g, key, &i32);
    (void)dc_gguf_get_u64(g, key, &u64);
    (void)dc_gguf_get_i64(g, key, &i64);
    CHECK((dc_gguf_get_f32(g, key, &f) == DC_OK) == (t == DC_GGUF_F32));
    (void)dc_gguf_get_f64(g, key, &d);
    CHECK((dc_gguf_get_bool(g, key, &b) == DC_OK) == (t == DC_GGUF_BOOL));
    if (dc_gguf_get_str(g, key, &s, &len) == DC_OK) check_inside(s, len);
    if (t == DC_GGUF_ARRAY) walk_array(g, key);
}

static void walk_tensors(const dc_gguf *g, dc_gguf_writer *w) {
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info t;
        CHECK(dc_gguf_tensor(g, i, &t) == DC_OK);
        CHECK(dc_gguf_find_tensor(g, t.name) == i);
        CHECK(t.n_dims >= 1 && t.n_dims <= 4 && strlen(t.name) < 64);
        /* a validated shape's products fit int64 with 0 dims counted as 1 */
        int64_t rows = 1;
        for (int j = 1; j < 4; j++) rows *= t.ne[j] > 0 ? t.ne[j] : 1;
        bool empty = t.ne[0] == 0 || t.ne[1] == 0 || t.ne[2] == 0 || t.ne[3] == 0;
        CHECK(t.size == (empty ? 0 : dc_row_size(t.type, t.ne[0]) * (size_t)rows));
        check_inside(t.data, t.size);
        if (w) (void)dc_gguf_add_tensor(w, t.name, t.type, t.n_dims, t.ne, t.data);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char sentinel;
    dc_gguf *g = (dc_gguf *)&sentinel;
    lo = data;
    hi = data + size;
    if (dc_gguf_open_memory(data, size, &g) != DC_OK) {
        CHECK(g == NULL && dc_last_error()[0] != '\0' && !strchr(dc_last_error(), '\n'));
        return 0;
    }
    CHECK(dc_gguf_version(g) == 2 || dc_gguf_version(g) == 3);
    CHECK(dc_gguf_data_offset(g) % dc_gguf_alignment(g) == 0);
    for (int64_t i = 0; i < dc_gguf_n_kv(g); i++) walk_key(g, i);
    dc_gguf_writer *w = NULL;
    if (dc_gguf_writer_init(&w) == DC_OK) (void)dc_gguf_copy_kv(w, g);
    walk_tensors(g, w);
    dc_gguf_writer_free(w);
    (void)dc_gguf_verify(g);
    dc_gguf_close(g);
    return 0;
}
