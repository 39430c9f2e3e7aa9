/*
 * test_kernels.c - every CPU kernel of every ISA this machine (or qemu) runs,
 * against the scalar reference, on random data of awkward sizes.
 *
 *   vec_dot       all weight types; within 1e-5 of sum |w a| (integer block
 *                 sums are exact in every ISA; only the float order may move)
 *   quantize_act  every activation format: the same bytes as scalar
 *   gemm          bit-identical to the same ISA's vec_dot, every tile shape
 *   kq_dot/axpy   attention rows of the cache types; dequant: exact, for the
 *                 cache types and every weight type
 * An ISA table is built the way dispatch.c builds it: scalar, then each
 * level the CPU supports overrides its entries.
 */
#include "test_util.h"

#include <deepc.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../backends/cpu/kernels/kernels.h"
#include "deepc_config.h"

typedef struct isa_case {
    const char *name;
    dc_cpu_isa  isa;
} isa_case;

static const isa_case isas[] = {
    { "avx2", DC_CPU_ISA_AVX2 }, { "avx512", DC_CPU_ISA_AVX512 }, { "neon", DC_CPU_ISA_NEON },
};

/* Table for an ISA, or false if this machine cannot run it. */
static bool isa_table(dc_cpu_isa isa, dc_cpu_kernels *k) {
    const dc_cpu_features *f = dc_cpu_get_features();
    dc_cpu_kernels_init_scalar(k);
    switch (isa) {
    case DC_CPU_ISA_AVX2:
#if DC_HAVE_X86_KERNELS
        if (!(f->avx2 && f->fma && f->f16c)) return false;
        dc_cpu_kernels_init_avx2(k, f);
        return true;
#else
        return false;
#endif
    case DC_CPU_ISA_AVX512:
#if DC_HAVE_X86_KERNELS
        if (!(f->avx2 && f->fma && f->f16c && f->avx512f && f->avx512bw && f->avx512vl)) return false;
        dc_cpu_kernels_init_avx2(k, f);
        dc_cpu_kernels_init_avx512(k, f);
        return true;
#else
        return false;
#endif
    case DC_CPU_ISA_NEON:
#if DC_HAVE_NEON_KERNELS
        dc_cpu_kernels_init_neon(k, f);
        return true;
#else
        return false;
#endif
    default:
        return false;
    }
}

static const dc_type weight_types[] = {
    DC_TYPE_F32,  DC_TYPE_F16,  DC_TYPE_BF16, DC_TYPE_Q4_0, DC_TYPE_Q4_1,
    DC_TYPE_Q5_0, DC_TYPE_Q5_1, DC_TYPE_Q8_0, DC_TYPE_Q2_K, DC_TYPE_Q3_K,
    DC_TYPE_Q4_K, DC_TYPE_Q5_K, DC_TYPE_Q6_K, DC_TYPE_F8_E4M3_B128,
};
#define N_WEIGHT_TYPES ((int)(sizeof weight_types / sizeof weight_types[0]))

static const dc_type act_types[] = {
    DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_BF16, DC_TYPE_Q8_0, DC_TYPE_Q8_1, DC_TYPE_Q8_K,
    DC_TYPE_F8_E4M3_B128,
};

/* Row lengths: multiples of every block size involved (256 for K-quants,
 * 128 for F8, 32 otherwise), with awkward block counts. */
static int64_t row_len(dc_type t, int i) {
    static const int64_t big[] = { 256, 768, 1280, 2304, 4096 + 256 };
    static const int64_t f8[] = { 128, 384, 640, 1152, 2176 };
    static const int64_t small[] = { 32, 96, 160, 1056, 2336 };
    if (t == DC_TYPE_F8_E4M3_B128) return f8[i];
    if (dc_type_block_size(t) == 256) return big[i];
    return small[i];
}

/* A weight row of type t quantized from random data; caller frees. */
static void *random_row(dc_test_rng *r, dc_type t, int64_t n, float *x) {
    dc_test_fill_normal(r, x, (size_t)n, 1.0);
    for (int64_t i = 0; i < n; i += 97) x[i] *= 8.0f;    /* some outliers */
    void *q = malloc(dc_row_size(t, n));
    ck_assert_int_eq(dc_quantize_row(t, x, q, n), DC_OK);
    return q;
}

START_TEST(test_vec_dot_and_gemm) {
    const isa_case *ic = &isas[_i];
    dc_cpu_kernels scalar, k;
    if (!isa_table(ic->isa, &k)) return;
    dc_cpu_kernels_init_scalar(&scalar);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 7);
    for (int ti = 0; ti < N_WEIGHT_TYPES; ti++) {
        dc_type wt = weight_types[ti];
        int ws = dc_type_slot(wt);
        dc_type at = dc_get_type_traits(wt)->vec_dot_type;
        int as = dc_type_slot(at);
        for (int si = 0; si < 5; si++) {
            int64_t n = row_len(wt, si);
            float *x = malloc((size_t)n * sizeof *x);
            size_t wrow = dc_row_size(wt, n), arow = dc_row_size(at, n);
            char *w = malloc(wrow * DC_GEMM_TILE), *a = malloc(arow * DC_GEMM_TILE);
            double mag[DC_GEMM_TILE][DC_GEMM_TILE];
            float xa[DC_GEMM_TILE][4096 + 256];
            for (int r = 0; r < DC_GEMM_TILE; r++) {
                void *q = random_row(&rng, wt, n, x);
                memcpy(w + r * wrow, q, wrow);
                free(q);
            }
            for (int c = 0; c < DC_GEMM_TILE; c++) {
                dc_test_fill_normal(&rng, xa[c], (size_t)n, 2.0);
                scalar.quantize_act[as](xa[c], a + c * arow, n);
                /* the ISA's activation rounding is the same bytes */
                char *mine = malloc(arow);
                k.quantize_act[as](xa[c], mine, n);
                ck_assert_msg(memcmp(mine, a + c * arow, arow) == 0, "%s quantize_act %s n=%lld",
                              ic->name, dc_type_name(at), (long long)n);
                free(mine);
            }
            for (int r = 0; r < DC_GEMM_TILE; r++) {
                float *wf = malloc((size_t)n * sizeof *wf), *af = malloc((size_t)n * sizeof *af);
                dc_dequantize_row(wt, w + r * wrow, wf, n);
                for (int c = 0; c < DC_GEMM_TILE; c++) {
                    dc_dequantize_row(at, a + c * arow, af, n);
                    mag[r][c] = 0;
                    for (int64_t i = 0; i < n; i++) mag[r][c] += fabs((double)wf[i] * af[i]);
                    float s0, s1;
                    scalar.vec_dot[ws](n, &s0, w + r * wrow, a + c * arow);
                    k.vec_dot[ws](n, &s1, w + r * wrow, a + c * arow);
                    ck_assert_msg(fabs((double)s0 - s1) <= 1e-5 * mag[r][c] + 1e-30,
                                  "%s vec_dot %s n=%lld: %.9g vs scalar %.9g", ic->name,
                                  dc_type_name(wt), (long long)n, s1, s0);
                }
                free(wf);
                free(af);
            }
            if (k.gemm[ws]) {
                for (int nr = 1; nr <= DC_GEMM_TILE; nr++)
                    for (int nc = 1; nc <= DC_GEMM_TILE; nc++) {
                        float y[DC_GEMM_TILE * 8];
                        memset(y, 0xff, sizeof y);
                        float *yc[DC_GEMM_TILE];
                        const void *ac[DC_GEMM_TILE];
                        for (int c = 0; c < DC_GEMM_TILE; c++) {
                            yc[c] = y + c * 8;
                            ac[c] = a + c * arow;
                        }
                        k.gemm[ws](n, yc, w, wrow, ac, nr, nc);
                        for (int r = 0; r < nr; r++)
                            for (int c = 0; c < nc; c++) {
                                float s;
                                k.vec_dot[ws](n, &s, w + r * wrow, a + c * arow);
                                ck_assert_msg(memcmp(&s, &y[c * 8 + r], sizeof s) == 0,
                                              "%s gemm %s %dx%d (%d,%d) differs from vec_dot",
                                              ic->name, dc_type_name(wt), nr, nc, r, c);
                            }
                    }
            }
            free(x);
            free(w);
            free(a);
        }
    }
}
END_TEST

START_TEST(test_rows) {
    const isa_case *ic = &isas[_i];
    dc_cpu_kernels scalar, k;
    if (!isa_table(ic->isa, &k)) return;
    dc_cpu_kernels_init_scalar(&scalar);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 11);
    const dc_type rows[] = { DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_BF16, DC_TYPE_Q8_0, DC_TYPE_F8_E4M3_B128 };
    const int64_t lens[] = { 128, 512, 576, 640, 1152 };
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++) {
        int sl = dc_type_slot(rows[ri]);
        for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
            int64_t n = lens[li];
            if (n % dc_type_block_size(rows[ri])) continue;
            float *x = malloc((size_t)n * sizeof *x), *q = malloc((size_t)n * sizeof *q);
            float *y0 = malloc((size_t)n * sizeof *y0), *y1 = malloc((size_t)n * sizeof *y1);
            void *row = random_row(&rng, rows[ri], n, x);
            dc_test_fill_normal(&rng, q, (size_t)n, 1.0);
            double mag = 0;
            scalar.dequant[sl](row, y0, n);
            k.dequant[sl](row, y1, n);
            ck_assert_msg(memcmp(y0, y1, (size_t)n * sizeof *y0) == 0, "%s dequant %s", ic->name,
                          dc_type_name(rows[ri]));
            for (int64_t i = 0; i < n; i++) mag += fabs((double)q[i] * y0[i]);
            float s0, s1;
            scalar.kq_dot[sl](n, &s0, q, row);
            k.kq_dot[sl](n, &s1, q, row);
            ck_assert_msg(fabs((double)s0 - s1) <= 1e-5 * mag, "%s kq_dot %s n=%lld", ic->name,
                          dc_type_name(rows[ri]), (long long)n);
            for (int64_t i = 0; i < n; i++) y0[i] = y1[i] = q[i];
            scalar.axpy[sl](n, y0, 0.37f, row);
            k.axpy[sl](n, y1, 0.37f, row);
            for (int64_t i = 0; i < n; i++)
                ck_assert_msg(fabs((double)y0[i] - y1[i]) <= 1e-6 * (fabs(y0[i]) + 1e-3),
                              "%s axpy %s [%lld]", ic->name, dc_type_name(rows[ri]), (long long)i);
            free(row);
            free(x);
            free(q);
            free(y0);
            free(y1);
        }
    }
}
END_TEST

/* dequant of every weight type (the reference converters): the same bits */
START_TEST(test_dequant_weights) {
    const isa_case *ic = &isas[_i];
    dc_cpu_kernels scalar, k;
    if (!isa_table(ic->isa, &k)) return;
    dc_cpu_kernels_init_scalar(&scalar);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 13);
    for (int ti = 0; ti < N_WEIGHT_TYPES; ti++) {
        const dc_type wt = weight_types[ti];
        const int ws = dc_type_slot(wt);
        if (!k.dequant[ws]) continue;
        for (int si = 0; si < 5; si += 2) {
            const int64_t n = row_len(wt, si);
            float *x = malloc((size_t)n * sizeof *x), *y0 = malloc((size_t)n * sizeof *y0);
            float *y1 = malloc((size_t)n * sizeof *y1);
            void *row = random_row(&rng, wt, n, x);
            scalar.dequant[ws](row, y0, n);
            k.dequant[ws](row, y1, n);
            ck_assert_msg(memcmp(y0, y1, (size_t)n * sizeof *y0) == 0, "%s dequant %s n=%lld",
                          ic->name, dc_type_name(wt), (long long)n);
            free(row);
            free(x);
            free(y0);
            free(y1);
        }
    }
}
END_TEST

START_TEST(test_dispatch) {
    const dc_cpu_kernels *k = dc_cpu_get_kernels();
    /* every weight type has a dot and its activation a quantizer, at any level */
    for (int ti = 0; ti < N_WEIGHT_TYPES; ti++) {
        ck_assert_ptr_nonnull(k->vec_dot[dc_type_slot(weight_types[ti])]);
        ck_assert_ptr_nonnull(k->quantize_act[dc_type_slot(dc_get_type_traits(weight_types[ti])->vec_dot_type)]);
    }
    for (size_t i = 0; i < sizeof act_types / sizeof act_types[0]; i++)
        ck_assert_ptr_nonnull(k->quantize_act[dc_type_slot(act_types[i])]);
    printf("kernels: %s\n", dc_system_info());
}
END_TEST

static Suite *kernels_suite(void) {
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("isa");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_dispatch);
    tcase_add_loop_test(tc, test_vec_dot_and_gemm, 0, 3);
    tcase_add_loop_test(tc, test_rows, 0, 3);
    tcase_add_loop_test(tc, test_dequant_weights, 0, 3);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(kernels_suite)
