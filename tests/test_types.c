/*
 * test_types.c - the type table (lib/tensor/types.c), the reference
 * conversions and quantizers behind it, and the scalar CPU dot kernels.
 *
 *   api        names, ids, block sizes, row sizes, slots, dot pairings and the
 *              argument errors of dc_quantize_row / dc_dequantize_row;
 *   fixture    quant-ref.gguf (made by the peer's ggml): quantizing `src`
 *              reproduces every type's bytes exactly and dequantizing the
 *              peer's bytes reproduces `T.deq` bit for bit; the activation
 *              quantizers reproduce `act_src.*` (peer CPU Q8_0 rounds ties to
 *              even, the reference Q8_0 away from zero, Q8_K both the same);
 *   roundtrip  random rows of awkward lengths stay within per-type bounds;
 *   floats     all 256 E4M3 codes decode to the spec formula; f32 -> E4M3
 *              equals an independent nearest-value search (double arithmetic,
 *              ties to the even code, saturation at 448) on 10^7 floats plus
 *              every tie and boundary; f16 / bf16 ties and limits; the F8
 *              block quantizer's scale rule;
 *   vec_dot    every scalar dot against a double dot of the dequantized rows
 *              (relative 1e-5 of sum |w||a|), and the F8 exact-mode contract
 *              bit for bit.
 */
#include "test_util.h"

#include <deepc.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backends/cpu/kernels/kernels.h"
#include "../lib/tensor/quant_impl.h"

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ---- api --------------------------------------------------------------------------- */

static const struct {
    dc_type     type;
    const char *name;
    int64_t     blck;
    size_t      bytes;
    bool        quantized;
    dc_type     dot;
} type_table[] = {
    { DC_TYPE_F32,          "F32",           1,   4,   false, DC_TYPE_F32 },
    { DC_TYPE_F16,          "F16",           1,   2,   false, DC_TYPE_F16 },
    { DC_TYPE_Q4_0,         "Q4_0",          32,  18,  true,  DC_TYPE_Q8_0 },
    { DC_TYPE_Q4_1,         "Q4_1",          32,  20,  true,  DC_TYPE_Q8_1 },
    { DC_TYPE_Q5_0,         "Q5_0",          32,  22,  true,  DC_TYPE_Q8_0 },
    { DC_TYPE_Q5_1,         "Q5_1",          32,  24,  true,  DC_TYPE_Q8_1 },
    { DC_TYPE_Q8_0,         "Q8_0",          32,  34,  true,  DC_TYPE_Q8_0 },
    { DC_TYPE_Q8_1,         "Q8_1",          32,  36,  true,  DC_TYPE_Q8_1 },
    { DC_TYPE_Q2_K,         "Q2_K",          256, 84,  true,  DC_TYPE_Q8_K },
    { DC_TYPE_Q3_K,         "Q3_K",          256, 110, true,  DC_TYPE_Q8_K },
    { DC_TYPE_Q4_K,         "Q4_K",          256, 144, true,  DC_TYPE_Q8_K },
    { DC_TYPE_Q5_K,         "Q5_K",          256, 176, true,  DC_TYPE_Q8_K },
    { DC_TYPE_Q6_K,         "Q6_K",          256, 210, true,  DC_TYPE_Q8_K },
    { DC_TYPE_Q8_K,         "Q8_K",          256, 292, true,  DC_TYPE_Q8_K },
    { DC_TYPE_I8,           "I8",            1,   1,   false, DC_TYPE_I8 },
    { DC_TYPE_I16,          "I16",           1,   2,   false, DC_TYPE_I16 },
    { DC_TYPE_I32,          "I32",           1,   4,   false, DC_TYPE_I32 },
    { DC_TYPE_I64,          "I64",           1,   8,   false, DC_TYPE_I64 },
    { DC_TYPE_F64,          "F64",           1,   8,   false, DC_TYPE_F64 },
    { DC_TYPE_BF16,         "BF16",          1,   2,   false, DC_TYPE_BF16 },
    { DC_TYPE_F8_E4M3_B128, "F8_E4M3_B128",  128, 132, true,  DC_TYPE_F8_E4M3_B128 },
};
#define N_TYPES ((int)(sizeof type_table / sizeof type_table[0]))

START_TEST(test_type_table) {
    bool slot_used[DC_TYPE_SLOTS] = { false };
    for (int i = 0; i < N_TYPES; i++) {
        const dc_type t = type_table[i].type;
        ck_assert_str_eq(dc_type_name(t), type_table[i].name);
        ck_assert(dc_type_valid(t));
        ck_assert_int_eq(dc_type_block_size(t), type_table[i].blck);
        ck_assert_uint_eq(dc_type_block_bytes(t), type_table[i].bytes);
        ck_assert(dc_type_is_quantized(t) == type_table[i].quantized);
        const dc_type_traits *tr = dc_get_type_traits(t);
        ck_assert_ptr_nonnull(tr);
        ck_assert_int_eq(tr->vec_dot_type, type_table[i].dot);
        const int slot = dc_type_slot(t);
        ck_assert(slot >= 0 && slot < DC_TYPE_SLOTS);
        ck_assert_msg(!slot_used[slot], "slot %d used twice", slot);
        slot_used[slot] = true;
        dc_type back;
        ck_assert_int_eq(dc_type_from_name(type_table[i].name, &back), DC_OK);
        ck_assert_int_eq(back, t);
    }
    /* ids that are retired or not ours */
    const int64_t bad[] = { -1, 4, 5, 16, 20, 23, 29, 31, 33, 39, 43, 1023, 1025,
                            INT64_MAX, INT64_MIN };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert(!dc_type_valid(bad[i]));
        if (bad[i] >= 0 && bad[i] < 2000) {
            ck_assert_ptr_null(dc_type_name((dc_type)bad[i]));
            ck_assert_ptr_null(dc_get_type_traits((dc_type)bad[i]));
            ck_assert_int_eq(dc_type_slot((dc_type)bad[i]), -1);
            ck_assert_int_eq(dc_type_block_size((dc_type)bad[i]), 0);
        }
    }
}
END_TEST

START_TEST(test_type_names_and_rows) {
    dc_type t;
    ck_assert_int_eq(dc_type_from_name("q4_k", &t), DC_OK);
    ck_assert_int_eq(t, DC_TYPE_Q4_K);
    ck_assert_int_eq(dc_type_from_name("f8_e4m3_b128", &t), DC_OK);
    ck_assert_int_eq(t, DC_TYPE_F8_E4M3_B128);
    ck_assert_int_eq(dc_type_from_name("Q4_2", &t), DC_ERR_TYPE);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "Q4_2"));
    ck_assert_int_eq(dc_type_from_name(NULL, &t), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_type_from_name("F32", NULL), DC_ERR_INVALID_ARG);

    ck_assert_uint_eq(dc_row_size(DC_TYPE_Q4_K, 512), 288);
    ck_assert_uint_eq(dc_row_size(DC_TYPE_F8_E4M3_B128, 384), 396);
    ck_assert_uint_eq(dc_row_size(DC_TYPE_F32, 7), 28);
    ck_assert_uint_eq(dc_row_size(DC_TYPE_Q4_K, 0), 0);
    ck_assert_uint_eq(dc_row_size(DC_TYPE_Q4_K, 100), 0);
    ck_assert_uint_eq(dc_row_size(DC_TYPE_F32, -4), 0);
    ck_assert_uint_eq(dc_row_size((dc_type)4, 32), 0);
    ck_assert_uint_eq(dc_row_size(DC_TYPE_I64, INT64_MAX), 0);   /* overflow */
}
END_TEST

START_TEST(test_row_arg_errors) {
    float   x[64] = { 0 };
    uint8_t q[256];
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_Q8_0, x, q, 33), DC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "block size"));
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_Q8_0, x, q, -32), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_I32, x, q, 8), DC_ERR_TYPE);
    ck_assert_int_eq(dc_dequantize_row(DC_TYPE_I8, q, x, 8), DC_ERR_TYPE);
    ck_assert_int_eq(dc_quantize_row((dc_type)4, x, q, 32), DC_ERR_TYPE);
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_Q8_0, NULL, q, 32), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_dequantize_row(DC_TYPE_Q8_0, q, NULL, 32), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_Q8_0, NULL, NULL, 0), DC_OK);
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_Q8_0, x, q, 64), DC_OK);
    ck_assert_int_eq(dc_dequantize_row(DC_TYPE_Q8_0, q, x, 64), DC_OK);
}
END_TEST

/* ---- fixture ------------------------------------------------------------------------ */

#define FX_N 1024

static dc_gguf *fx_open(void) {
    const char *path = dc_test_shared_path("fixtures/quant/quant-ref.gguf");
    dc_gguf *g = NULL;
    dc_status st = dc_gguf_open(path, &g);
    ck_assert_msg(st == DC_OK, "open %s: %s", path, dc_last_error());
    return g;
}

/* Data of tensor `name`, checked to be type [FX_N, rows]. */
static const void *fx_tensor(const dc_gguf *g, const char *name, dc_type type, int64_t rows) {
    const int64_t i = dc_gguf_find_tensor(g, name);
    ck_assert_msg(i >= 0, "fixture tensor %s missing", name);
    dc_gguf_tensor_info ti;
    ck_assert_int_eq(dc_gguf_tensor(g, i, &ti), DC_OK);
    ck_assert_msg(ti.type == type, "%s: type %d, want %d", name, (int)ti.type, (int)type);
    ck_assert_int_eq(ti.ne[0], FX_N);
    ck_assert_int_eq(ti.ne[1], rows);
    ck_assert_uint_eq(ti.size, dc_row_size(type, FX_N) * (size_t)rows);
    return ti.data;
}

/* First differing byte of two rows, or -1. */
static long first_diff(const void *a, const void *b, size_t n) {
    const uint8_t *pa = a, *pb = b;
    for (size_t i = 0; i < n; i++)
        if (pa[i] != pb[i]) return (long)i;
    return -1;
}

static const struct {
    const char *name;
    dc_type     type;
} fx_types[] = {
    { "q4_0", DC_TYPE_Q4_0 }, { "q4_1", DC_TYPE_Q4_1 }, { "q5_0", DC_TYPE_Q5_0 },
    { "q5_1", DC_TYPE_Q5_1 }, { "q8_0", DC_TYPE_Q8_0 }, { "q2_k", DC_TYPE_Q2_K },
    { "q3_k", DC_TYPE_Q3_K }, { "q4_k", DC_TYPE_Q4_K }, { "q5_k", DC_TYPE_Q5_K },
    { "q6_k", DC_TYPE_Q6_K }, { "f16", DC_TYPE_F16 },   { "bf16", DC_TYPE_BF16 },
    { "q8_k", DC_TYPE_Q8_K },
};
#define N_FX_TYPES ((int)(sizeof fx_types / sizeof fx_types[0]))

/* quantize(rows of src) must equal `qname`'s bytes; dequantize(`qname`) must
 * equal `qname`.deq bit for bit. fn == NULL: the reference dc_quantize_row. */
static void fx_check(const dc_gguf *g, const char *src_name, const char *qname,
                     dc_type type, int64_t rows, dc_quantize_act_fn fn) {
    const float *src = fx_tensor(g, src_name, DC_TYPE_F32, rows);
    const uint8_t *ref = fx_tensor(g, qname, type, rows);
    char deq_name[96];
    snprintf(deq_name, sizeof deq_name, "%s.deq", qname);
    const float *deq = fx_tensor(g, deq_name, DC_TYPE_F32, rows);

    const size_t rs = dc_row_size(type, FX_N);
    uint8_t *q = malloc(rs);
    float   *y = malloc(FX_N * sizeof(float));
    ck_assert(q && y);
    for (int64_t r = 0; r < rows; r++) {
        if (fn)
            fn(src + r * FX_N, q, FX_N);
        else
            ck_assert_int_eq(dc_quantize_row(type, src + r * FX_N, q, FX_N), DC_OK);
        const long d = first_diff(q, ref + r * rs, rs);
        ck_assert_msg(d < 0, "%s row %lld: byte %ld (block %ld) is %02x, want %02x",
                      qname, (long long)r, d, d / (long)dc_type_block_bytes(type),
                      d < 0 ? 0 : q[d], d < 0 ? 0 : ref[r * rs + (size_t)d]);
        ck_assert_int_eq(dc_dequantize_row(type, ref + r * rs, y, FX_N), DC_OK);
        const long e = first_diff(y, deq + r * FX_N, FX_N * sizeof(float));
        ck_assert_msg(e < 0, "%s row %lld: dequantized element %ld is %.9g, want %.9g",
                      qname, (long long)r, e / 4, e < 0 ? 0.0 : (double)y[e / 4],
                      e < 0 ? 0.0 : (double)deq[r * FX_N + e / 4]);
    }
    free(q);
    free(y);
}

START_TEST(test_fixture_weights) {
    dc_gguf *g = fx_open();
    fx_check(g, "src", fx_types[_i].name, fx_types[_i].type, 8, NULL);
    dc_gguf_close(g);
}
END_TEST

START_TEST(test_fixture_activations) {
    dc_gguf *g = fx_open();
    dc_cpu_kernels k;
    dc_cpu_kernels_init_scalar(&k);
    /* reference Q8_0 (halves away from zero) and the peer CPU's (halves to even) */
    fx_check(g, "act_src", "act_src.q8_0", DC_TYPE_Q8_0, 2, NULL);
    fx_check(g, "act_src", "act_src.q8_0.cpu", DC_TYPE_Q8_0, 2,
             k.quantize_act[dc_type_slot(DC_TYPE_Q8_0)]);
    fx_check(g, "act_src", "act_src.q8_k", DC_TYPE_Q8_K, 2, NULL);
    fx_check(g, "act_src", "act_src.q8_k.cpu", DC_TYPE_Q8_K, 2,
             k.quantize_act[dc_type_slot(DC_TYPE_Q8_K)]);
    /* the tie row really tells the two Q8_0 roundings apart */
    const uint8_t *ref = fx_tensor(g, "act_src.q8_0", DC_TYPE_Q8_0, 2);
    const uint8_t *cpu = fx_tensor(g, "act_src.q8_0.cpu", DC_TYPE_Q8_0, 2);
    ck_assert(first_diff(ref, cpu, dc_row_size(DC_TYPE_Q8_0, FX_N)) >= 0);
    dc_gguf_close(g);
}
END_TEST

/* ---- round trip ------------------------------------------------------------------- */

/* Worst relative RMS error and worst max |err| / max |x| over N(0, s^2) rows,
 * s in {0.1, 1, 300}. Float formats use their half-ulp bound, Q8_0 / Q8_K the
 * half-step (+ f16 rounding of d); the rest ~1.5x what the reference does. */
static const struct {
    dc_type type;
    double  rms;
    double  max;
} rt_types[] = {
    { DC_TYPE_F16,  0.0004, 0x1p-11 }, { DC_TYPE_BF16, 0.003, 0x1p-8 },
    { DC_TYPE_Q4_0, 0.15,   0.15 },    { DC_TYPE_Q4_1, 0.15,  0.10 },
    { DC_TYPE_Q5_0, 0.075,  0.075 },   { DC_TYPE_Q5_1, 0.065, 0.05 },
    { DC_TYPE_Q8_0, 0.009,  0.0045 },  { DC_TYPE_Q8_1, 0.01,  0.0045 },
    { DC_TYPE_Q2_K, 0.45,   0.42 },    { DC_TYPE_Q3_K, 0.23,  0.22 },
    { DC_TYPE_Q4_K, 0.12,   0.11 },    { DC_TYPE_Q5_K, 0.057, 0.05 },
    { DC_TYPE_Q6_K, 0.028,  0.024 },   { DC_TYPE_Q8_K, 0.011, 0.004 },
    { DC_TYPE_F8_E4M3_B128, 0.04, 0x1p-4 }, { DC_TYPE_F32, 0.0, 0.0 },
    { DC_TYPE_F64,  0.0,    0.0 },
};
#define N_RT_TYPES ((int)(sizeof rt_types / sizeof rt_types[0]))

START_TEST(test_roundtrip_bounds) {
    const dc_type t    = rt_types[_i].type;
    const int64_t blck = dc_type_block_size(t);
    const double  scales[] = { 0.1, 1.0, 300.0 };
    const int     n_blocks[] = { 1, 3, 7, 13 };
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + (uint64_t)t);
    for (int si = 0; si < 3; si++) {
        for (int bi = 0; bi < 4; bi++) {
            /* plain types: 37 elements per "block" keeps lengths awkward */
            const int64_t n = blck * n_blocks[bi] * (blck == 1 ? 37 : 1);
            const int     rows = 5;
            float *x = malloc((size_t)(n * rows) * sizeof(float));
            float *y = malloc((size_t)(n * rows) * sizeof(float));
            void  *q = malloc(dc_row_size(t, n) * rows);
            ck_assert(x && y && q);
            dc_test_fill_normal(&rng, x, (size_t)(n * rows), scales[si]);
            ck_assert_int_eq(dc_quantize_row(t, x, q, n * rows), DC_OK);
            ck_assert_int_eq(dc_dequantize_row(t, q, y, n * rows), DC_OK);
            for (int r = 0; r < rows; r++) {
                double se = 0, sx = 0, xmax = 0, emax = 0;
                for (int64_t i = r * n; i < (r + 1) * n; i++) {
                    const double e = (double)y[i] - (double)x[i];
                    se += e * e;
                    sx += (double)x[i] * x[i];
                    xmax = fmax(xmax, fabs(x[i]));
                    emax = fmax(emax, fabs(e));
                }
                ck_assert_msg(sqrt(se / sx) <= rt_types[_i].rms && emax <= rt_types[_i].max * xmax,
                              "%s n=%lld scale %g: rms %.5g (<= %g), max %.5g (<= %g)",
                              dc_type_name(t), (long long)n, scales[si], sqrt(se / sx),
                              rt_types[_i].rms, emax / xmax, rt_types[_i].max);
            }
            free(x);
            free(y);
            free(q);
        }
    }
}
END_TEST

/* All-zero and constant rows: every type gives exact zeros / a near-constant. */
START_TEST(test_roundtrip_zero) {
    const dc_type t = rt_types[_i].type;
    const int64_t n = 1536;   /* a multiple of 32, 128 and 256 */
    float *x = calloc((size_t)n, sizeof(float)), *y = malloc((size_t)n * sizeof(float));
    void  *q = malloc(dc_row_size(t, n));
    ck_assert(x && y && q);
    ck_assert_int_eq(dc_quantize_row(t, x, q, n), DC_OK);
    ck_assert_int_eq(dc_dequantize_row(t, q, y, n), DC_OK);
    for (int64_t i = 0; i < n; i++) ck_assert_msg(y[i] == 0.0f, "%s: elem %lld = %g",
                                                  dc_type_name(t), (long long)i, (double)y[i]);
    free(x);
    free(y);
    free(q);
}
END_TEST

/* ---- floats: E4M3, f16, bf16 ----------------------------------------------------------- */

/* Value of an E4M3 code straight from the spec's table (§1.1). */
static double e4m3_formula(unsigned c) {
    const int e = (c >> 3) & 15, m = c & 7;
    if (e == 15 && m == 7) return NAN;
    const double v = e == 0 ? ldexp((double)m, -9) : ldexp(1.0 + m / 8.0, e - 7);
    return (c & 0x80) ? -v : v;
}

START_TEST(test_e4m3_decode_all) {
    for (unsigned c = 0; c < 256; c++) {
        const double want = e4m3_formula(c);
        const float  got  = dc_e4m3_to_fp32((uint8_t)c);
        if (isnan(want)) {
            ck_assert_msg(isnan(got), "code %02x should be NaN", c);
            continue;
        }
        ck_assert_msg((double)got == want, "code %02x: %.9g, want %.9g", c, (double)got, want);
        ck_assert_msg((signbit(got) != 0) == ((c & 0x80) != 0), "code %02x: sign", c);
        /* and every finite code survives the round trip */
        ck_assert_uint_eq(dc_fp32_to_e4m3(got), c);
    }
    ck_assert(dc_e4m3_to_fp32(0x7E) == 448.0f);
    ck_assert(dc_e4m3_to_fp32(0x38) == 1.0f);
    ck_assert(dc_e4m3_to_fp32(0x01) == 0x1p-9f);
    ck_assert(dc_e4m3_to_fp32(0x08) == 0x1p-6f);
}
END_TEST

/* Independent f32 -> E4M3: the nearest of the 127 non-negative finite values
 * (binary search in double), ties to the even code, |x| >= 448 -> 448. */
static double e4m3_pos[127];

static void e4m3_ref_init(void) {
    for (unsigned c = 0; c < 127; c++) e4m3_pos[c] = e4m3_formula(c);
}

static uint8_t e4m3_ref(float f) {
    const uint8_t sign = signbit(f) ? 0x80 : 0x00;
    if (isnan(f)) return sign | 0x7F;
    const double a = fabs((double)f);
    if (a >= 448.0) return sign | 0x7E;
    unsigned lo = 0, hi = 126;                  /* largest c with value <= a */
    while (lo < hi) {
        const unsigned mid = (lo + hi + 1) / 2;
        if (e4m3_pos[mid] <= a) lo = mid; else hi = mid - 1;
    }
    const double below = a - e4m3_pos[lo], above = e4m3_pos[lo + 1] - a;
    unsigned c = lo;
    if (above < below || (above == below && (lo & 1))) c = lo + 1;
    return sign | (uint8_t)c;
}

static void e4m3_expect(float f) {
    const uint8_t got = dc_fp32_to_e4m3(f), want = e4m3_ref(f);
    ck_assert_msg(got == want, "e4m3(%.9g = 0x%08x) = %02x, want %02x", (double)f,
                  f32_bits(f), got, want);
}

START_TEST(test_e4m3_encode) {
    e4m3_ref_init();
    /* named boundaries */
    ck_assert_uint_eq(dc_fp32_to_e4m3(0.0f), 0x00);
    ck_assert_uint_eq(dc_fp32_to_e4m3(-0.0f), 0x80);
    ck_assert_uint_eq(dc_fp32_to_e4m3(0x1p-10f), 0x00);          /* tie -> even 0 */
    ck_assert_uint_eq(dc_fp32_to_e4m3(nextafterf(0x1p-10f, 1.0f)), 0x01);
    ck_assert_uint_eq(dc_fp32_to_e4m3(-0x1p-10f), 0x80);
    ck_assert_uint_eq(dc_fp32_to_e4m3(3 * 0x1p-10f), 0x02);      /* 1.5 -> 2 */
    ck_assert_uint_eq(dc_fp32_to_e4m3(FLT_TRUE_MIN), 0x00);
    ck_assert_uint_eq(dc_fp32_to_e4m3(448.0f), 0x7E);
    ck_assert_uint_eq(dc_fp32_to_e4m3(464.0f), 0x7E);
    ck_assert_uint_eq(dc_fp32_to_e4m3(464.0001f), 0x7E);
    ck_assert_uint_eq(dc_fp32_to_e4m3(480.0f), 0x7E);
    ck_assert_uint_eq(dc_fp32_to_e4m3(1e30f), 0x7E);
    ck_assert_uint_eq(dc_fp32_to_e4m3(INFINITY), 0x7E);
    ck_assert_uint_eq(dc_fp32_to_e4m3(-INFINITY), 0xFE);
    ck_assert_uint_eq(dc_fp32_to_e4m3(NAN), 0x7F);
    ck_assert_uint_eq(dc_fp32_to_e4m3(-NAN), 0xFF);
    ck_assert_uint_eq(dc_fp32_to_e4m3(416.0f), 0x7D);            /* exact, m = 5 */
    ck_assert_uint_eq(dc_fp32_to_e4m3(432.0f), 0x7E);            /* tie 416 | 448 -> even */
    ck_assert_uint_eq(dc_fp32_to_e4m3(400.0f), 0x7C);            /* tie 384 | 416 -> even */
    /* every tie between neighbours, and one float either side */
    for (unsigned c = 0; c < 126; c++) {
        const float mid = (float)((e4m3_pos[c] + e4m3_pos[c + 1]) / 2);
        ck_assert((double)mid == (e4m3_pos[c] + e4m3_pos[c + 1]) / 2);
        for (int s = 0; s < 2; s++) {
            const float m = s ? -mid : mid;
            e4m3_expect(m);
            e4m3_expect(nextafterf(m, 0.0f));
            e4m3_expect(nextafterf(m, s ? -INFINITY : INFINITY));
        }
    }
    /* f32 subnormals, every exponent's edges */
    for (uint32_t e = 0; e < 255; e++) {
        e4m3_expect(bits_f32(e << 23));
        e4m3_expect(bits_f32((e << 23) | 0x7fffff));
        e4m3_expect(bits_f32((e << 23) | 0x400000));
        e4m3_expect(bits_f32(0x80000000u | (e << 23) | 1));
    }
    /* 10^7 random floats: 7 in 8 with exponents in [2^-30, 2^12), 1 in 8 any bits */
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() ^ 0xe4e3);
    long bad = 0;
    for (long i = 0; i < 10000000; i++) {
        const uint64_t r = dc_test_rng_u64(&rng);
        uint32_t u;
        if ((i & 7) == 7)
            u = (uint32_t)r;
        else
            u = (uint32_t)(r & 0x807fffffu) | (uint32_t)(97 + (r >> 32) % 42) << 23;
        const float f = bits_f32(u);
        if (dc_fp32_to_e4m3(f) != e4m3_ref(f) && bad++ < 5) e4m3_expect(f);
    }
    ck_assert_int_eq(bad, 0);
}
END_TEST

/* F8 block quantizer: s = max(amax, 1e-4) / 448, q = e4m3(x / s). */
START_TEST(test_f8_block_quantizer) {
    e4m3_ref_init();
    dc_block_f8_b128 blk[3];
    float x[384], y[384];
    memset(x, 0, sizeof x);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed());
    dc_test_fill_normal(&rng, x + 128, 128, 3.0);
    for (int i = 256; i < 384; i++) x[i] = (i & 1) ? 5e-5f : -2e-5f;   /* amax < 1e-4 */
    x[200] = -40.0f;
    ck_assert_int_eq(dc_quantize_row(DC_TYPE_F8_E4M3_B128, x, blk, 384), DC_OK);
    ck_assert(blk[0].d == 1e-4f / 448.0f);
    for (int i = 0; i < 128; i++) ck_assert_uint_eq(blk[0].qs[i], 0);
    ck_assert(blk[1].d == 40.0f / 448.0f);
    ck_assert_uint_eq(blk[1].qs[200 - 128], 0xFE);
    for (int i = 0; i < 128; i++) ck_assert_uint_eq(blk[1].qs[i], e4m3_ref(x[128 + i] / blk[1].d));
    ck_assert(blk[2].d == 1e-4f / 448.0f);
    for (int i = 0; i < 128; i++) ck_assert_uint_eq(blk[2].qs[i], e4m3_ref(x[256 + i] / blk[2].d));
    ck_assert_int_eq(dc_dequantize_row(DC_TYPE_F8_E4M3_B128, blk, y, 384), DC_OK);
    for (int i = 0; i < 384; i++)
        ck_assert(y[i] == dc_e4m3_to_fp32(blk[i / 128].qs[i % 128]) * blk[i / 128].d);
    /* layout: the scale is the first 4 bytes of the 132 */
    uint8_t raw[132];
    memcpy(raw, &blk[1], sizeof raw);
    float d0;
    memcpy(&d0, raw, sizeof d0);
    ck_assert(d0 == 40.0f / 448.0f && raw[4 + 200 - 128] == 0xFE);
}
END_TEST

/* Independent half value of a code (double). */
static double half_value(unsigned h) {
    const int e = (h >> 10) & 31, m = h & 1023;
    const double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY)
                                                     : ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

START_TEST(test_f16_bf16) {
    for (unsigned h = 0; h < 0x10000; h++) {
        const double want = half_value(h);
        const float  got  = dc_fp16_to_fp32((uint16_t)h);
        if (isnan(want)) {
            ck_assert(isnan(got));
            ck_assert(isnan(dc_half_to_float(dc_fp32_to_fp16(got))));
            continue;
        }
        ck_assert_msg((double)got == want, "half %04x", h);
        ck_assert_uint_eq(dc_fp32_to_fp16(got), h);
        /* the tie above a finite code goes to the even one */
        if ((h & 0x7fff) < 0x7bff) {
            const double up = half_value(h + 1);
            const float  mid = (float)((want + up) / 2);
            ck_assert((double)mid == (want + up) / 2);
            ck_assert_uint_eq(dc_fp32_to_fp16(mid), (h & 1) ? h + 1 : h);
            ck_assert_uint_eq(dc_fp32_to_fp16(nextafterf(mid, (float)up)), h + 1);
        }
    }
    ck_assert_uint_eq(dc_fp32_to_fp16(65519.996f), 0x7bff);
    ck_assert_uint_eq(dc_fp32_to_fp16(65520.0f), 0x7c00);
    ck_assert_uint_eq(dc_fp32_to_fp16(-1e10f), 0xfc00);
    ck_assert_uint_eq(dc_fp32_to_fp16(0x1p-25f), 0x0000);
    ck_assert_uint_eq(dc_fp32_to_fp16(nextafterf(0x1p-25f, 1.0f)), 0x0001);
    ck_assert_uint_eq(dc_fp32_to_fp16(-0.0f), 0x8000);

    /* bf16: ties to even, NaN stays NaN (even a NaN whose top bits look like inf) */
    ck_assert_uint_eq(dc_fp32_to_bf16(bits_f32(0x3f808000u)), 0x3f80);
    ck_assert_uint_eq(dc_fp32_to_bf16(bits_f32(0x3f818000u)), 0x3f82);
    ck_assert_uint_eq(dc_fp32_to_bf16(bits_f32(0x3f808001u)), 0x3f81);
    ck_assert_uint_eq(dc_fp32_to_bf16(bits_f32(0x7f7fffffu)), 0x7f80);
    ck_assert(isnan(dc_bf16_to_fp32(dc_fp32_to_bf16(bits_f32(0x7f800001u)))));
    ck_assert(isnan(dc_bf16_to_fp32(dc_fp32_to_bf16(bits_f32(0xff800001u)))));
    ck_assert(dc_bf16_to_fp32(0x3f80) == 1.0f);
    for (unsigned h = 0; h < 0x10000; h++) {
        const float v = dc_bf16_to_fp32((uint16_t)h);
        if (!isnan(v)) ck_assert_uint_eq(dc_fp32_to_bf16(v), h);
    }
}
END_TEST

/* ---- vec_dot ---------------------------------------------------------------------- */

static const dc_type dot_types[] = {
    DC_TYPE_F32,  DC_TYPE_F16,  DC_TYPE_BF16, DC_TYPE_Q4_0, DC_TYPE_Q4_1,
    DC_TYPE_Q5_0, DC_TYPE_Q5_1, DC_TYPE_Q8_0, DC_TYPE_Q2_K, DC_TYPE_Q3_K,
    DC_TYPE_Q4_K, DC_TYPE_Q5_K, DC_TYPE_Q6_K, DC_TYPE_F8_E4M3_B128,
};
#define N_DOT_TYPES ((int)(sizeof dot_types / sizeof dot_types[0]))

static const int64_t dot_sizes[] = { 32, 96, 128, 160, 256, 384, 512, 640, 768,
                                     1024, 1280, 2304, 4096 };

/* Q8_1 activations: the kernel folds the weight's minimum m into the stored
 * s = f16(d_f32 * sum q) rather than h(d) * sum q, so the double reference
 * adds m * (h(s) - h(d) * sum q) per block. m is at byte 2 of Q4_1 / Q5_1. */
static double q8_1_correction(dc_type wt, const void *w, const void *a, int64_t n) {
    const size_t wbytes = dc_type_block_bytes(wt);
    const dc_block_q8_1 *ab = a;
    double corr = 0.0;
    for (int64_t b = 0; b < n / 32; b++) {
        uint16_t m;
        memcpy(&m, (const uint8_t *)w + (size_t)b * wbytes + 2, sizeof m);
        int sum = 0;
        for (int j = 0; j < 32; j++) sum += ab[b].qs[j];
        corr += (double)dc_fp16_to_fp32(m) *
                ((double)dc_fp16_to_fp32(ab[b].s) - (double)dc_fp16_to_fp32(ab[b].d) * sum);
    }
    return corr;
}

/* The F8 exact-mode result, computed independently: per block the products
 * of decoded values summed in double (exact: multiples of 2^-18 below 2^25),
 * rounded once to f32, then (bd * s_a) * s_w summed in f32. */
static float f8_exact_dot(const dc_block_f8_b128 *w, const dc_block_f8_b128 *a, int64_t n) {
    float sumf = 0.0f;
    for (int64_t b = 0; b < n / 128; b++) {
        double bd = 0.0;
        for (int i = 0; i < 128; i++)
            bd += (double)dc_e4m3_to_fp32(w[b].qs[i]) * (double)dc_e4m3_to_fp32(a[b].qs[i]);
        const float t = (float)bd * a[b].d;
        sumf += t * w[b].d;
    }
    return sumf;
}

START_TEST(test_vec_dot) {
    const dc_type wt = dot_types[_i];
    const dc_type_traits *wtr = dc_get_type_traits(wt);
    const dc_type at = wtr->vec_dot_type;
    const dc_type_traits *atr = dc_get_type_traits(at);
    dc_cpu_kernels k;
    dc_cpu_kernels_init_scalar(&k);
    const dc_vec_dot_fn      dot = k.vec_dot[dc_type_slot(wt)];
    const dc_quantize_act_fn act = k.quantize_act[dc_type_slot(at)];
    ck_assert_ptr_nonnull(dot);
    ck_assert_ptr_nonnull(act);

    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() * 31 + (uint64_t)wt);
    int n_checked = 0;
    for (size_t si = 0; si < sizeof dot_sizes / sizeof dot_sizes[0]; si++) {
        const int64_t n = dot_sizes[si];
        if (n % wtr->blck_size || n % atr->blck_size) continue;
        float *xw = malloc((size_t)n * sizeof(float)), *xa = malloc((size_t)n * sizeof(float));
        float *dw = malloc((size_t)n * sizeof(float)), *da = malloc((size_t)n * sizeof(float));
        void  *qw = malloc(dc_row_size(wt, n)), *qa = malloc(dc_row_size(at, n));
        ck_assert(xw && xa && dw && da && qw && qa);
        for (int rep = 0; rep < 3; rep++) {
            dc_test_fill_normal(&rng, xw, (size_t)n, 1.0);
            dc_test_fill_normal(&rng, xa, (size_t)n, 3.0);
            if (rep == 1)        /* block scales spread over 10^-2 .. 10^2 */
                for (int64_t i = 0; i < n; i += 32) {
                    const float s = (float)pow(10.0, 4.0 * dc_test_rng_uniform(&rng) - 2.0);
                    for (int j = 0; j < 32; j++) xa[i + j] *= s;
                }
            if (rep == 2)        /* non-negative weights exercise the minimums */
                for (int64_t i = 0; i < n; i++) xw[i] = fabsf(xw[i]) + 0.5f;
            wtr->from_float(xw, qw, n);
            act(xa, qa, n);
            wtr->to_float(qw, dw, n);
            atr->to_float(qa, da, n);
            double ref = 0.0, mag = 0.0;
            for (int64_t i = 0; i < n; i++) {
                ref += (double)dw[i] * (double)da[i];
                mag += fabs((double)dw[i] * (double)da[i]);
            }
            if (at == DC_TYPE_Q8_1) ref += q8_1_correction(wt, qw, qa, n);
            float got = NAN;
            dot(n, &got, qw, qa);
            ck_assert_msg(fabs((double)got - ref) <= 1e-5 * mag + 1e-30,
                          "%s n=%lld rep %d: %.9g, want %.9g (sum|wa| %.3g)",
                          wtr->name, (long long)n, rep, (double)got, ref, mag);
            if (wt == DC_TYPE_F8_E4M3_B128) {
                const float exact = f8_exact_dot(qw, qa, n);
                ck_assert_msg(f32_bits(got) == f32_bits(exact),
                              "F8 n=%lld: %.9g, exact mode %.9g", (long long)n,
                              (double)got, (double)exact);
            }
            n_checked++;
        }
        free(xw); free(xa); free(dw); free(da); free(qw); free(qa);
    }
    ck_assert_int_ge(n_checked, 9);
}
END_TEST

/* Activation quantizers of the table: Q8_0 / Q8_1 round ties to even with
 * 127/amax, and Q8_1's s is f16(d * sum q); the others are the converters. */
START_TEST(test_quantize_act) {
    dc_cpu_kernels k;
    dc_cpu_kernels_init_scalar(&k);
    float x[256];
    for (int i = 0; i < 256; i++) x[i] = (float)(i % 32) - 15.5f;   /* ties at 127/amax */
    x[31] = -127.0f;
    for (int i = 32; i < 64; i++) x[i] = 0.0f;                    /* amax == 0 block */
    dc_block_q8_0 q0[8];
    dc_block_q8_1 q1[8];
    k.quantize_act[dc_type_slot(DC_TYPE_Q8_0)](x, q0, 256);
    k.quantize_act[dc_type_slot(DC_TYPE_Q8_1)](x, q1, 256);
    for (int b = 0; b < 8; b++) {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
        const float id = amax ? 127.0f / amax : 0.0f;
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const int want = (int)nearbyint((double)(x[32 * b + j] * id));
            ck_assert_int_eq(q0[b].qs[j], want);
            ck_assert_int_eq(q1[b].qs[j], want);
            sum += want;
        }
        ck_assert_uint_eq(q0[b].d, dc_fp32_to_fp16(amax / 127.0f));
        ck_assert_uint_eq(q1[b].d, q0[b].d);
        ck_assert_uint_eq(q1[b].s, dc_fp32_to_fp16(amax / 127.0f * (float)sum));
    }
    ck_assert_int_eq(q0[0].qs[0], -16);   /* -15.5 * (127/127) ties to even -16 */
    ck_assert_int_eq(q0[0].qs[1], -14);   /* -14.5 -> -14 */

    float    c[64];
    uint16_t h[64];
    k.quantize_act[dc_type_slot(DC_TYPE_F32)](x, c, 64);
    ck_assert(memcmp(c, x, sizeof c) == 0);
    k.quantize_act[dc_type_slot(DC_TYPE_F16)](x, h, 64);
    for (int i = 0; i < 64; i++) ck_assert_uint_eq(h[i], dc_fp32_to_fp16(x[i]));
    k.quantize_act[dc_type_slot(DC_TYPE_BF16)](x, h, 64);
    for (int i = 0; i < 64; i++) ck_assert_uint_eq(h[i], dc_fp32_to_bf16(x[i]));
    ck_assert_ptr_nonnull(k.quantize_act[dc_type_slot(DC_TYPE_Q8_K)]);
    ck_assert_ptr_nonnull(k.quantize_act[dc_type_slot(DC_TYPE_F8_E4M3_B128)]);
}
END_TEST

/* ---- suite -------------------------------------------------------------------------- */

static Suite *types_suite(void) {
    Suite *s = suite_create("types");

    TCase *tc = tcase_create("api");
    tcase_add_test(tc, test_type_table);
    tcase_add_test(tc, test_type_names_and_rows);
    tcase_add_test(tc, test_row_arg_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("fixture");
    tcase_add_loop_test(tc, test_fixture_weights, 0, N_FX_TYPES);
    tcase_add_test(tc, test_fixture_activations);
    suite_add_tcase(s, tc);

    tc = tcase_create("roundtrip");
    tcase_add_loop_test(tc, test_roundtrip_bounds, 0, N_RT_TYPES);
    tcase_add_loop_test(tc, test_roundtrip_zero, 0, N_RT_TYPES);
    suite_add_tcase(s, tc);

    tc = tcase_create("floats");
    tcase_add_test(tc, test_e4m3_decode_all);
    tcase_add_test(tc, test_e4m3_encode);
    tcase_add_test(tc, test_f8_block_quantizer);
    tcase_add_test(tc, test_f16_bf16);
    suite_add_tcase(s, tc);

    tc = tcase_create("vec_dot");
    tcase_add_loop_test(tc, test_vec_dot, 0, N_DOT_TYPES);
    tcase_add_test(tc, test_quantize_act);
    suite_add_tcase(s, tc);

    return s;
}

DC_TEST_MAIN(types_suite)
