/*
 * test_ops.c - every CPU op against an independent double-precision loop.
 *
 * Each test builds a small graph on random data (fixed seed, awkward sizes:
 * 1, 3, 17, 33, 129, 257 and block multiples), with inputs that are
 * contiguous, transposed, permuted or strided views, and computes it on the
 * CPU backend with 1 and 2 threads. The two results must be identical
 * byte for byte (ops split rows, never sums), and the result must match a
 * naive loop written here in double, element by element, within a tolerance
 * stated (with its reason) at each comparison. Quantized matmuls are checked
 * against the dequantized weight times the activation rounded exactly as the
 * op rounds it (the kernel table's quantize_act, dequantized), so their
 * tolerance stays near f32 rounding. Error paths (ids out of range) must
 * return a status, never crash.
 */
#include "test_util.h"

#include "deepc/backend.h"
#include "deepc/tensor.h"

#include "backends/cpu/kernels/kernels.h"
#include "lib/tensor/quant_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- harness --------------------------------------------------------------------- */

/* An allocating context of mib MiB (kept small: meson's MALLOC_PERTURB_
 * fills every allocation). */
static dc_context *ctx_new(size_t mib) {
    dc_context_params cp = { .mem_size = mib << 20, .no_alloc = false };
    dc_context *ctx = NULL;
    ck_assert_int_eq(dc_context_init(&cp, &ctx), DC_OK);
    return ctx;
}

/* Compute out's graph with nth threads; the status of the run. */
static dc_status compute_nth(dc_context *ctx, dc_tensor *out, int nth) {
    dc_graph *g = NULL;
    ck_assert_msg(dc_graph_build(ctx, &out, 1, &g) == DC_OK, "graph: %s", dc_last_error());
    dc_backend *b = NULL;
    dc_cpu_params cp = { .n_threads = nth };
    ck_assert_int_eq(dc_backend_cpu_init(&cp, &b), DC_OK);
    dc_status st = dc_backend_graph_compute(b, g);
    dc_backend_free(b);
    return st;
}

/* Compute out with 1 and 2 threads: each must succeed and write the same
 * bytes. poison: fill out with 0xFF (NaN / -1) before each run, so a thread
 * count that skips rows cannot pass on stale data (not for cpy views, whose
 * span holds bytes the op must leave alone). */
static void compute(dc_context *ctx, dc_tensor *out, bool poison) {
    const size_t n = dc_tensor_nbytes(out);
    unsigned char *first = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(first);
    for (int nth = 1; nth <= 2; nth++) {
        if (poison) memset(dc_tensor_data(out), 0xFF, n);
        dc_status st = compute_nth(ctx, out, nth);
        ck_assert_msg(st == DC_OK, "%s with %d threads: %s", dc_tensor_name(out), nth,
                      dc_last_error());
        if (nth == 1) memcpy(first, dc_tensor_data(out), n);
        else
            ck_assert_msg(memcmp(first, dc_tensor_data(out), n) == 0,
                          "%s: %d threads differ from 1 thread", dc_tensor_name(out), nth);
    }
    free(first);
}

/* Element comparison that asserts once per batch (Check marks every passing
 * assertion, which is slow per element). */
typedef struct cmp {
    const char *what;
    int64_t     n, bad, at;
    double      got, want, tol, worst;   /* worst = max err / tol */
} cmp;

static void cmp_one(cmp *c, double got, double want, double tol) {
    const double err = fabs(got - want);
    if (!(err <= tol) && !(got == want)) {   /* got == want: equal infinities */
        if (c->bad++ == 0) {
            c->at = c->n;
            c->got = got;
            c->want = want;
            c->tol = tol;
        }
    } else if (tol > 0 && err / tol > c->worst) {
        c->worst = err / tol;
    }
    c->n++;
}

static void cmp_done(const cmp *c) {
    ck_assert_msg(c->bad == 0, "%s: %lld of %lld values off; first #%lld: got %.9g want %.9g "
                  "(tol %.3g)", c->what, (long long)c->bad, (long long)c->n, (long long)c->at,
                  c->got, c->want, c->tol);
}

/* ---- tensors --------------------------------------------------------------------- */

/* How an input's bytes are laid out behind its logical shape. */
typedef enum layout {
    LAY_CONT,    /* contiguous                                               */
    LAY_TRANS,   /* transpose of [ne1, ne0, ...]: elements ne1 floats apart  */
    LAY_PERM,    /* dims 1 and 2 swapped in memory: rows strided             */
    LAY_VIEW,    /* padded rows and planes at an offset into a bigger tensor */
    LAY_COUNT
} layout;

static const char *const layout_name[LAY_COUNT] = { "cont", "trans", "perm", "view" };

static void *elem(const dc_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return (char *)dc_tensor_data(t) + i0 * dc_tensor_nb(t, 0) + i1 * dc_tensor_nb(t, 1) +
           i2 * dc_tensor_nb(t, 2) + i3 * dc_tensor_nb(t, 3);
}

static float getf(const dc_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return *(const float *)elem(t, i0, i1, i2, i3);
}

static int32_t geti(const dc_tensor *t, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
    return *(const int32_t *)elem(t, i0, i1, i2, i3);
}

static void fill_normal(dc_test_rng *rng, dc_tensor *t, double std) {
    dc_test_fill_normal(rng, dc_tensor_data(t), (size_t)dc_tensor_nelements(t), std);
}

/* New tensor of type with logical shape ne and the given layout; its bytes
 * (all of the root, padding included) are random: normal(0, 1) for F32, and
 * for other types normal floats converted row by row. */
static dc_tensor *make_typed(dc_context *ctx, dc_test_rng *rng, dc_type type, layout lay,
                             const int64_t ne[4]) {
    const int64_t blk = dc_type_block_size(type);
    int64_t be[4] = { ne[0], ne[1], ne[2], ne[3] };
    if (lay == LAY_TRANS) {
        be[0] = ne[1];
        be[1] = ne[0];
    } else if (lay == LAY_PERM) {
        be[1] = ne[2];
        be[2] = ne[1];
    } else if (lay == LAY_VIEW) {   /* 3 spare values (1 block) per row, 1 spare row */
        be[0] += blk == 1 ? 3 : blk;
        be[1] += 1;
    }
    dc_tensor *base = dc_new_tensor_4d(ctx, type, be[0], be[1], be[2], be[3]);
    ck_assert_ptr_nonnull(base);
    const int64_t rows = be[1] * be[2] * be[3];
    float *tmp = malloc((size_t)be[0] * sizeof *tmp);
    for (int64_t r = 0; r < rows; r++) {
        dc_test_fill_normal(rng, tmp, (size_t)be[0], 1.0);
        char *row = (char *)dc_tensor_data(base) + (size_t)r * dc_tensor_nb(base, 1);
        ck_assert_int_eq(dc_quantize_row(type, tmp, row, be[0]), DC_OK);
    }
    free(tmp);
    switch (lay) {
    case LAY_TRANS: return dc_transpose(ctx, base);
    case LAY_PERM:  return dc_permute(ctx, base, 0, 2, 1, 3);
    case LAY_VIEW: {
        /* skip the first row and, for plain types, 2 values */
        const size_t off = dc_tensor_nb(base, 1) + (blk == 1 ? 2 * dc_tensor_nb(base, 0) : 0);
        return dc_view_4d(ctx, base, ne[0], ne[1], ne[2], ne[3], dc_tensor_nb(base, 1),
                          dc_tensor_nb(base, 2), dc_tensor_nb(base, 3), off);
    }
    default:        return base;
    }
}

static dc_tensor *make_f32(dc_context *ctx, dc_test_rng *rng, layout lay, int64_t n0, int64_t n1,
                           int64_t n2, int64_t n3) {
    return make_typed(ctx, rng, DC_TYPE_F32, lay, (const int64_t[4]){ n0, n1, n2, n3 });
}

/* Row (i1, i2, i3) of t, any type and strides, as floats (library reference
 * dequantizers; for plain types one element at a time through nb[0]). */
static void read_row(const dc_tensor *t, int64_t i1, int64_t i2, int64_t i3, float *out) {
    const int64_t n = dc_tensor_ne(t, 0);
    const dc_type type = dc_tensor_type(t);
    int bad = 0;   /* one assertion per row: Check records each passing one */
    if (dc_type_block_size(type) == 1) {
        for (int64_t i = 0; i < n; i++)
            bad |= dc_dequantize_row(type, elem(t, i, i1, i2, i3), out + i, 1) != DC_OK;
    } else {
        bad |= dc_dequantize_row(type, elem(t, 0, i1, i2, i3), out, n) != DC_OK;
    }
    if (bad) ck_abort_msg("dequantize %s: %s", dc_type_name(type), dc_last_error());
}

/* ---- elementwise ----------------------------------------------------------------- */

static const int64_t sizes[] = { 1, 3, 17, 33, 129, 257 };
#define N_SIZES ((int)(sizeof sizes / sizeof sizes[0]))

/* loop: op (add, mul, div) x layout of a; b takes the next layout. */
START_TEST(test_binary) {
    const dc_op ops[3] = { DC_OP_ADD, DC_OP_MUL, DC_OP_DIV };
    const int op = _i / LAY_COUNT;
    const layout la = (layout)(_i % LAY_COUNT), lb = (layout)((_i + 1) % LAY_COUNT);
    static const int64_t bshapes[5][4] = {
        { 0, 3, 5, 2 }, { 0, 1, 5, 1 }, { 1, 3, 1, 2 }, { 1, 1, 1, 1 }, { 0, 3, 1, 1 },
    };
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + (uint64_t)_i);
    for (int si = 0; si < N_SIZES; si++) {
        const int64_t n0 = sizes[si];
        for (int bi = 0; bi < 5; bi++) {
            dc_context *ctx = ctx_new(1);
            const int64_t *bs = bshapes[bi];
            dc_tensor *a = make_f32(ctx, &rng, la, n0, 3, 5, 2);
            dc_tensor *b = make_f32(ctx, &rng, lb, bs[0] ? bs[0] : n0, bs[1], bs[2], bs[3]);
            for (int64_t i3 = 0; i3 < bs[3]; i3++)   /* keep divisors away from 0 */
                for (int64_t i2 = 0; i2 < bs[2]; i2++)
                    for (int64_t i1 = 0; i1 < bs[1]; i1++)
                        for (int64_t i0 = 0; i0 < dc_tensor_ne(b, 0); i0++) {
                            float *v = elem(b, i0, i1, i2, i3);
                            *v = copysignf(0.5f + fabsf(*v), *v);
                        }
            dc_tensor *y = ops[op] == DC_OP_ADD ? dc_add(ctx, a, b)
                         : ops[op] == DC_OP_MUL ? dc_mul(ctx, a, b) : dc_div(ctx, a, b);
            ck_assert_ptr_nonnull(y);
            compute(ctx, y, true);
            /* float +, *, / are correctly rounded, and so is double then float
             * (53 >= 2 * 24 + 2 bits: no double-rounding error): exact. */
            cmp c = { .what = dc_op_name(ops[op]) };
            for (int64_t i3 = 0; i3 < 2; i3++)
                for (int64_t i2 = 0; i2 < 5; i2++)
                    for (int64_t i1 = 0; i1 < 3; i1++)
                        for (int64_t i0 = 0; i0 < n0; i0++) {
                            const double x = getf(a, i0, i1, i2, i3);
                            const double v = getf(b, i0 % dc_tensor_ne(b, 0), i1 % bs[1],
                                                  i2 % bs[2], i3 % bs[3]);
                            const double r = op == 0 ? x + v : op == 1 ? x * v : x / v;
                            cmp_one(&c, getf(y, i0, i1, i2, i3), (float)r, 0.0);
                        }
            cmp_done(&c);
            dc_context_free(ctx);
        }
    }
}
END_TEST

static double silu_ref(double x) { return x / (1.0 + exp(-x)); }

/* loop: layout. scale, silu, sigmoid, swiglu, sum_rows on every size. */
START_TEST(test_unary) {
    const layout la = (layout)_i, lb = (layout)((_i + 2) % LAY_COUNT);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 100 + (uint64_t)_i);
    for (int si = 0; si < N_SIZES; si++) {
        const int64_t n0 = sizes[si];
        dc_context *ctx = ctx_new(1);
        dc_tensor *a = make_f32(ctx, &rng, la, n0, 3, 2, 2);
        dc_tensor *u = make_f32(ctx, &rng, lb, n0, 3, 2, 2);
        *(float *)elem(a, 0, 0, 0, 0) = -100.0f;   /* e^100 overflows f32 */
        *(float *)elem(a, 0, 1, 0, 0) = 100.0f;
        *(float *)elem(a, 0, 2, 0, 0) = -20.0f;
        dc_tensor *outs[5] = { dc_scale(ctx, a, 0.37f), dc_silu(ctx, a), dc_sigmoid(ctx, a),
                               dc_swiglu(ctx, a, u), dc_sum_rows(ctx, a) };
        for (int o = 0; o < 5; o++) {
            ck_assert_ptr_nonnull(outs[o]);
            compute(ctx, outs[o], true);
        }
        cmp c[5] = { { .what = "scale" }, { .what = "silu" }, { .what = "sigmoid" },
                     { .what = "swiglu" }, { .what = "sum_rows" } };
        for (int64_t i3 = 0; i3 < 2; i3++)
            for (int64_t i2 = 0; i2 < 2; i2++)
                for (int64_t i1 = 0; i1 < 3; i1++) {
                    double sum = 0, mag = 0;
                    for (int64_t i0 = 0; i0 < n0; i0++) {
                        const double x = getf(a, i0, i1, i2, i3), w = getf(u, i0, i1, i2, i3);
                        sum += x;
                        mag += fabs(x);
                        /* scale: one f32 product, correctly rounded: exact */
                        cmp_one(&c[0], getf(outs[0], i0, i1, i2, i3), (float)(x * 0.37f), 0);
                        /* expf (<= 1 ulp) then +, / in f32: a few ulp */
                        const double s = silu_ref(x), g = 1.0 / (1.0 + exp(-x));
                        cmp_one(&c[1], getf(outs[1], i0, i1, i2, i3), s, 4e-7 * fabs(s) + 1e-37);
                        cmp_one(&c[2], getf(outs[2], i0, i1, i2, i3), g, 4e-7 * g + 1e-37);
                        cmp_one(&c[3], getf(outs[3], i0, i1, i2, i3), s * w,
                                6e-7 * fabs(s * w) + 1e-37);
                    }
                    /* double accumulation, one rounding to f32 */
                    cmp_one(&c[4], getf(outs[4], 0, i1, i2, i3), sum,
                            1.2e-7 * fabs(sum) + 1e-12 * mag);
                }
        for (int o = 0; o < 5; o++) cmp_done(&c[o]);
        dc_context_free(ctx);
    }
}
END_TEST

/* loop: layout. rms_norm over every size, eps 1e-6; one all-zero row. */
START_TEST(test_rms_norm) {
    const layout la = (layout)_i;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 200 + (uint64_t)_i);
    for (int si = 0; si < N_SIZES; si++) {
        const int64_t n0 = sizes[si];
        dc_context *ctx = ctx_new(1);
        dc_tensor *a = make_f32(ctx, &rng, la, n0, 3, 2, 2);
        for (int64_t i0 = 0; i0 < n0; i0++) *(float *)elem(a, i0, 2, 1, 1) = 0.0f;
        dc_tensor *y = dc_rms_norm(ctx, a, 1e-6f);
        ck_assert_ptr_nonnull(y);
        compute(ctx, y, true);
        cmp c = { .what = "rms_norm" };
        for (int64_t r = 0; r < 12; r++) {
            const int64_t i1 = r % 3, i2 = (r / 3) % 2, i3 = r / 6;
            double ss = 0;
            for (int64_t i0 = 0; i0 < n0; i0++) {
                const double x = getf(a, i0, i1, i2, i3);
                ss += x * x;
            }
            const double inv = 1.0 / sqrt(ss / (double)n0 + 1e-6);
            for (int64_t i0 = 0; i0 < n0; i0++) {
                const double want = getf(a, i0, i1, i2, i3) * inv;
                /* f32 squares, mean, sqrtf, 1/x and the product: < 8 ulp */
                cmp_one(&c, getf(y, i0, i1, i2, i3), want, 5e-7 * fabs(want) + 1e-30);
            }
        }
        cmp_done(&c);
        dc_context_free(ctx);
    }
}
END_TEST

/* loop: layout x {no mask, mask}. softmax with scale 0.7; the mask has
 * -INFINITY entries, row 1 fully masked, and more rows than a. */
START_TEST(test_softmax) {
    const layout la = (layout)(_i / 2);
    const bool masked = _i % 2;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 300 + (uint64_t)_i);
    for (int si = 0; si < N_SIZES; si++) {
        const int64_t n0 = sizes[si];
        dc_context *ctx = ctx_new(1);
        dc_tensor *a = make_f32(ctx, &rng, la, n0, 3, 2, 2);
        dc_tensor *m = NULL;
        if (masked) {
            m = dc_new_tensor_2d(ctx, DC_TYPE_F32, n0, 5);
            fill_normal(&rng, m, 1.0);
            for (int64_t i1 = 0; i1 < 5; i1++)
                for (int64_t i0 = 0; i0 < n0; i0++)
                    if (i1 == 1 || (i0 + i1) % 3 == 0) *(float *)elem(m, i0, i1, 0, 0) = -INFINITY;
        }
        dc_tensor *y = dc_softmax(ctx, a, m, 0.7f);
        ck_assert_ptr_nonnull(y);
        compute(ctx, y, true);
        cmp c = { .what = "softmax" };
        double *v = malloc((size_t)n0 * sizeof *v);
        for (int64_t r = 0; r < 12; r++) {
            const int64_t i1 = r % 3, i2 = (r / 3) % 2, i3 = r / 6;
            double mx = -INFINITY, sum = 0;
            for (int64_t i0 = 0; i0 < n0; i0++) {
                v[i0] = getf(a, i0, i1, i2, i3) * 0.7 + (m ? getf(m, i0, i1, 0, 0) : 0.0);
                if (v[i0] > mx) mx = v[i0];
            }
            for (int64_t i0 = 0; i0 < n0; i0++) sum += mx == -INFINITY ? 0 : exp(v[i0] - mx);
            for (int64_t i0 = 0; i0 < n0; i0++) {
                const double want = mx == -INFINITY ? 0.0 : exp(v[i0] - mx) / sum;
                /* the f32 logit x*scale+mask is off by ~|v| ulp, which expf
                 * turns into a relative error of ~|v| * 6e-8 (|v| < ~10) */
                cmp_one(&c, getf(y, i0, i1, i2, i3), want, 2e-6 * want + 1e-9);
            }
        }
        free(v);
        cmp_done(&c);
        dc_context_free(ctx);
    }
}
END_TEST

/* ---- rope ------------------------------------------------------------------------ */

typedef struct rope_case {
    int64_t ne0;
    int     n_rot;
    bool    yarn, freq_factors;
    float   base;
} rope_case;

static const rope_case rope_cases[] = {
    { 128, 128, false, false, 10000.0f },   /* 64 pairs: two trig chunks  */
    { 50,  32,  false, false, 500000.0f },  /* partial: 18 dims copied    */
    { 80,  64,  true,  false, 10000.0f },   /* YaRN, partial              */
    { 96,  96,  false, true,  10000.0f },   /* freq_factors               */
    { 72,  40,  true,  true,  10000.0f },   /* all of it                  */
};
#define N_ROPE ((int)(sizeof rope_cases / sizeof rope_cases[0]))

/* Angle and magnitude of pair i at position pos, in double. */
static void rope_ref_angle(const dc_rope_params *p, const float *ff, int64_t i, int32_t pos,
                           double *theta, double *mscale) {
    const double ext = pos * pow(p->freq_base, -2.0 * (double)i / p->n_rot) / (ff ? ff[i] : 1.0);
    double th = p->freq_scale * ext;
    *mscale = p->attn_factor;
    if (p->ext_factor != 0) {
        const double l2b = 2.0 * log(p->freq_base);
        const double cf = p->n_rot * log(p->n_ctx_orig / (2.0 * M_PI * p->beta_fast)) / l2b;
        const double cs = p->n_rot * log(p->n_ctx_orig / (2.0 * M_PI * p->beta_slow)) / l2b;
        const double low = fmax(0.0, floor(cf)), high = fmin(p->n_rot - 1, ceil(cs));
        const double y = fmin(1.0, fmax(0.0, (i - low) / fmax(0.001, high - low)));
        const double mix = (1.0 - y) * p->ext_factor;
        th = th * (1.0 - mix) + ext * mix;
        *mscale *= 1.0 + 0.1 * log(1.0 / p->freq_scale);
    }
    *theta = th;
}

static void rope_check(const dc_tensor *a, const dc_tensor *y, const int32_t *pos,
                       const float *ff, const dc_rope_params *p, cmp *c) {
    const int64_t ne0 = dc_tensor_ne(a, 0), nh = dc_tensor_ne(a, 1), nt = dc_tensor_ne(a, 2);
    const bool neox = p->mode == DC_ROPE_NEOX;
    for (int64_t t = 0; t < nt; t++)
        for (int64_t h = 0; h < nh; h++) {
            for (int64_t i = 0; i < p->n_rot / 2; i++) {
                double th, ms;
                rope_ref_angle(p, ff, i, pos[t], &th, &ms);
                const int64_t j0 = neox ? i : 2 * i, j1 = neox ? i + p->n_rot / 2 : 2 * i + 1;
                const double x0 = getf(a, j0, h, t, 0), x1 = getf(a, j1, h, t, 0);
                const double w0 = (x0 * cos(th) - x1 * sin(th)) * ms;
                const double w1 = (x0 * sin(th) + x1 * cos(th)) * ms;
                /* the angle is evaluated in f32 as the peer does, as pos times
                 * a running product of powf(base, -2/n_rot): each factor adds
                 * ~1 ulp, so pair i is off by ~(i + 1) ulp of theta (+ a few
                 * for freq_factors and the YaRN mix); the rotation adds a few
                 * ulp of |x| */
                const double tol = ms * (fabs(x0) + fabs(x1)) *
                                   (fabs(th) * (double)(i + 4) * 1.2e-7 + 1e-6) + 1e-30;
                cmp_one(c, getf(y, j0, h, t, 0), w0, tol);
                cmp_one(c, getf(y, j1, h, t, 0), w1, tol);
            }
            for (int64_t j = p->n_rot; j < ne0; j++)   /* tail copied bit for bit */
                cmp_one(c, getf(y, j, h, t, 0), getf(a, j, h, t, 0), 0);
        }
}

/* loop: case x mode (NORM, NEOX); every layout inside. */
START_TEST(test_rope) {
    const rope_case *rc = &rope_cases[_i / 2];
    const dc_rope_mode mode = _i % 2 ? DC_ROPE_NEOX : DC_ROPE_NORM;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 400 + (uint64_t)_i);
    const int64_t nh = 3, nt = 7;
    for (int lay = 0; lay < LAY_COUNT; lay++) {
        if (lay == LAY_TRANS) continue;   /* a transpose mixes dims and heads: use perm */
        dc_context *ctx = ctx_new(1);
        dc_tensor *a = make_f32(ctx, &rng, (layout)lay, rc->ne0, nh, nt, 1);
        dc_tensor *pos = dc_new_tensor_1d(ctx, DC_TYPE_I32, nt);
        int32_t *pv = dc_tensor_data(pos);
        const int32_t fixed[7] = { 0, 1, 2, 17, 100, 1000, 4095 };
        for (int64_t t = 0; t < nt; t++) pv[t] = fixed[(t + lay) % 7];
        dc_tensor *ff = NULL;
        if (rc->freq_factors) {
            ff = dc_new_tensor_1d(ctx, DC_TYPE_F32, rc->n_rot / 2);
            dc_test_fill_uniform(&rng, dc_tensor_data(ff), (size_t)rc->n_rot / 2, 1.0, 8.0);
        }
        dc_rope_params p = dc_rope_default_params(rc->n_rot, mode);
        p.freq_base = rc->base;
        if (rc->yarn) {
            p.freq_scale = 0.25f;
            p.ext_factor = 1.0f;
            p.attn_factor = 0.9f;
            p.n_ctx_orig = 1024;
            p.beta_fast = 32.0f;
            p.beta_slow = 1.0f;
        }
        dc_tensor *y = dc_rope(ctx, a, pos, ff, &p);
        ck_assert_msg(y != NULL, "rope: %s", dc_last_error());
        compute(ctx, y, true);
        char what[64];
        snprintf(what, sizeof what, "rope case %d mode %d %s", _i / 2, (int)mode, layout_name[lay]);
        cmp c = { .what = what };
        rope_check(a, y, pv, ff ? dc_tensor_data(ff) : NULL, &p, &c);
        cmp_done(&c);
        dc_context_free(ctx);
    }
}
END_TEST

/* ---- mul_mat --------------------------------------------------------------------- */

static const dc_type mm_types[] = {
    DC_TYPE_F32,  DC_TYPE_F16,  DC_TYPE_BF16, DC_TYPE_Q4_0, DC_TYPE_Q4_1,
    DC_TYPE_Q5_0, DC_TYPE_Q5_1, DC_TYPE_Q8_0, DC_TYPE_Q2_K, DC_TYPE_Q3_K,
    DC_TYPE_Q4_K, DC_TYPE_Q5_K, DC_TYPE_Q6_K, DC_TYPE_F8_E4M3_B128,
};
#define N_MM_TYPES ((int)(sizeof mm_types / sizeof mm_types[0]))

/* b's row x rounded the way the op rounds it before a dot with weight type w:
 * xr = dequantize(quantize_act(x)). For Q8_1 activations (Q4_1 / Q5_1) also
 * the stored per-block s = f16(d * sum q) in s_blk, since the kernel
 * multiplies the weight's block minimum by s, not by the sum of xr. */
static void round_act(dc_type w, const float *x, int64_t n, float *xr, float *s_blk) {
    const dc_type at = dc_get_type_traits(w)->vec_dot_type;
    const dc_cpu_kernels *k = dc_cpu_get_kernels();
    void *q = malloc(dc_row_size(at, n) + 1);
    k->quantize_act[dc_type_slot(at)](x, q, n);
    if (dc_dequantize_row(at, q, xr, n) != DC_OK) ck_abort_msg("%s", dc_last_error());
    if (at == DC_TYPE_Q8_1)
        for (int64_t b = 0; b < n / DC_QK8_1; b++)
            s_blk[b] = dc_half_to_float(((const dc_block_q8_1 *)q)[b].s);
    free(q);
}

/* Reference dot of weight row wrow (raw bytes of type w, dequantized as wf)
 * with the rounded activation xr; *mag = sum |w x| (the scale of the f32
 * rounding the kernels may do). */
static double ref_dot(dc_type w, const void *wrow, const float *wf, const float *xr,
                      const float *s_blk, int64_t n, double *mag) {
    double s = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        s += (double)wf[i] * xr[i];
        m += fabs((double)wf[i] * xr[i]);
    }
    if (w == DC_TYPE_Q4_1 || w == DC_TYPE_Q5_1) {
        /* block minimum times the activation's stored s instead of sum xr */
        const size_t bsz = dc_type_block_bytes(w);
        for (int64_t b = 0; b < n / 32; b++) {
            const uint16_t *hdr = (const uint16_t *)((const char *)wrow + (size_t)b * bsz);
            double sx = 0;
            for (int i = 0; i < 32; i++) sx += xr[b * 32 + i];
            s += dc_half_to_float(hdr[1]) * ((double)s_blk[b] - sx);
        }
    }
    *mag = m;
    return s;
}

/* Check y = a^T b for a [K, M, A2, A3], b [K, N, B2, B3]; tol_rel scales sum |w x|. */
static void mm_check(const dc_tensor *a, const dc_tensor *b, const dc_tensor *y, double tol_rel,
                     cmp *c) {
    const dc_type wt = dc_tensor_type(a);
    const int64_t K = dc_tensor_ne(a, 0), M = dc_tensor_ne(a, 1), N = dc_tensor_ne(b, 1);
    const int64_t B2 = dc_tensor_ne(b, 2), B3 = dc_tensor_ne(b, 3);
    const int64_t r2 = B2 / dc_tensor_ne(a, 2), r3 = B3 / dc_tensor_ne(a, 3);
    float *x = malloc((size_t)K * 4), *xr = malloc((size_t)K * 4), *wf = malloc((size_t)K * 4);
    float *sb = malloc((size_t)(K / 32 + 1) * 4);
    for (int64_t i3 = 0; i3 < B3; i3++)
        for (int64_t i2 = 0; i2 < B2; i2++)
            for (int64_t n = 0; n < N; n++) {
                read_row(b, n, i2, i3, x);
                round_act(wt, x, K, xr, sb);
                for (int64_t m = 0; m < M; m++) {
                    read_row(a, m, i2 / r2, i3 / r3, wf);
                    double mag;
                    const double want = ref_dot(wt, elem(a, 0, m, i2 / r2, i3 / r3), wf, xr, sb,
                                                K, &mag);
                    cmp_one(c, getf(y, m, n, i2, i3), want, tol_rel * mag + 1e-30);
                }
            }
    free(x);
    free(xr);
    free(wf);
    free(sb);
}

/* loop: weight type. Five shapes: a single output; M 17 x N 3; a [K, 33, 2, 2]
 * broadcast over b [K, 17, 4, 4] whose rows are permuted (strided); a weight
 * that is a view of rows 1.. of a bigger tensor, with b a padded view; and
 * M 3 x N 33. K: the type's block (1 for plain types) and 3 blocks (257
 * for plain types). M 33 and N 17 cross the op's tile edges (16 x 8). */
START_TEST(test_mul_mat) {
    const dc_type wt = mm_types[_i];
    const int64_t blk = dc_type_block_size(wt);
    const int64_t k_small = blk, k_big = blk == 1 ? 257 : 3 * blk;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 500 + (uint64_t)_i);
    const struct { int64_t K, M, A2, A3, N, B2, B3; layout lb; bool a_view; } cfg[] = {
        { k_small, 1,  1, 1, 1,  1, 1, LAY_CONT, false },
        { k_small, 17, 1, 1, 3,  1, 1, LAY_CONT, false },
        { k_big,   33, 2, 2, 17, 4, 4, LAY_PERM, false },
        { k_big,   17, 2, 1, 9,  2, 1, LAY_VIEW, true },
        { blk == 1 ? 33 : k_small, 3, 1, 1, 33, 1, 1, LAY_CONT, false },
    };
    for (size_t ci = 0; ci < sizeof cfg / sizeof cfg[0]; ci++) {
        dc_context *ctx = ctx_new(4);
        const int64_t K = cfg[ci].K, M = cfg[ci].M;
        dc_tensor *a;
        if (cfg[ci].a_view) {
            dc_tensor *w = make_typed(ctx, &rng, wt, LAY_CONT,
                                      (const int64_t[4]){ K, M + 3, cfg[ci].A2, cfg[ci].A3 });
            a = dc_view_4d(ctx, w, K, M, cfg[ci].A2, cfg[ci].A3, dc_tensor_nb(w, 1),
                           dc_tensor_nb(w, 2), dc_tensor_nb(w, 3), dc_tensor_nb(w, 1));
        } else {
            a = make_typed(ctx, &rng, wt, LAY_CONT,
                           (const int64_t[4]){ K, M, cfg[ci].A2, cfg[ci].A3 });
        }
        dc_tensor *b = make_f32(ctx, &rng, cfg[ci].lb, K, cfg[ci].N, cfg[ci].B2, cfg[ci].B3);
        dc_tensor *y = dc_mul_mat(ctx, a, b);
        ck_assert_msg(y != NULL, "mul_mat: %s", dc_last_error());
        compute(ctx, y, true);
        char what[64];
        snprintf(what, sizeof what, "mul_mat %s config %zu", dc_type_name(wt), ci);
        cmp c = { .what = what };
        /* the kernels scale exact integer block sums in f32 (or sum in
         * double): a few ulp of the largest partial sums, bounded by sum |w x| */
        mm_check(a, b, y, 2e-6, &c);
        cmp_done(&c);
        dc_context_free(ctx);
    }
}
END_TEST

/* ---- moe_mul_mat ----------------------------------------------------------------- */

static const dc_type moe_types[] = { DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_Q8_0, DC_TYPE_Q4_K };

/* loop: weight type x n_b1 (1, n_used). E 5, M 33, n_used 3, N 7 tokens. */
START_TEST(test_moe_mul_mat) {
    const dc_type wt = moe_types[_i / 2];
    const int64_t K = dc_type_block_size(wt) == 1 ? 33 : 256, M = 33, E = 5, U = 3, N = 7;
    const int64_t nb1 = _i % 2 ? U : 1;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 600 + (uint64_t)_i);
    dc_context *ctx = ctx_new(4);
    dc_tensor *as = make_typed(ctx, &rng, wt, LAY_CONT, (const int64_t[4]){ K, M, E, 1 });
    dc_tensor *b = make_f32(ctx, &rng, LAY_PERM, K, nb1, N, 1);
    dc_tensor *ids = dc_new_tensor_2d(ctx, DC_TYPE_I32, U, N);
    int32_t *iv = dc_tensor_data(ids);
    for (int64_t t = 0; t < N; t++)   /* expert 4 never used, expert 1 by many */
        for (int64_t s = 0; s < U; s++)
            iv[t * U + s] = s == 0 ? 1 : (int32_t)(dc_test_rng_u64(&rng) % 4);
    dc_tensor *y = dc_moe_mul_mat(ctx, as, b, ids);
    ck_assert_msg(y != NULL, "moe_mul_mat: %s", dc_last_error());
    compute(ctx, y, true);
    float *x = malloc((size_t)K * 4), *xr = malloc((size_t)K * 4), *wf = malloc((size_t)K * 4);
    float sb[16];
    cmp c = { .what = "moe_mul_mat" };
    for (int64_t t = 0; t < N; t++)
        for (int64_t s = 0; s < U; s++) {
            read_row(b, nb1 == 1 ? 0 : s, t, 0, x);
            round_act(wt, x, K, xr, sb);
            for (int64_t m = 0; m < M; m++) {
                read_row(as, m, iv[t * U + s], 0, wf);
                double mag;
                const double want = ref_dot(wt, elem(as, 0, m, iv[t * U + s], 0), wf, xr, sb, K,
                                            &mag);
                /* as for mul_mat */
                cmp_one(&c, getf(y, m, s, t, 0), want, 2e-6 * mag + 1e-30);
            }
        }
    cmp_done(&c);
    free(x);
    free(xr);
    free(wf);
    dc_context_free(ctx);
}
END_TEST

/* loop: bad id (E, -1). Every thread count returns DC_ERR_INVALID_ARG. */
START_TEST(test_moe_bad_id) {
    dc_context *ctx = ctx_new(1);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 650);
    dc_tensor *as = make_f32(ctx, &rng, LAY_CONT, 32, 8, 4, 1);
    dc_tensor *b = make_f32(ctx, &rng, LAY_CONT, 32, 1, 5, 1);
    dc_tensor *ids = dc_new_tensor_2d(ctx, DC_TYPE_I32, 2, 5);
    int32_t *iv = dc_tensor_data(ids);
    for (int i = 0; i < 10; i++) iv[i] = i % 4;
    iv[7] = _i == 0 ? 4 : -1;
    dc_tensor *y = dc_moe_mul_mat(ctx, as, b, ids);
    ck_assert_ptr_nonnull(y);
    for (int nth = 1; nth <= 2; nth++) {
        ck_assert_int_eq(compute_nth(ctx, y, nth), DC_ERR_INVALID_ARG);
        ck_assert_msg(strstr(dc_last_error(), "expert id") != NULL, "message: %s", dc_last_error());
    }
    dc_context_free(ctx);
}
END_TEST

/* ---- flash_attn ------------------------------------------------------------------ */

static const dc_type kv_types[] = {
    DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_BF16, DC_TYPE_Q8_0, DC_TYPE_F8_E4M3_B128,
};
#define N_KV_TYPES ((int)(sizeof kv_types / sizeof kv_types[0]))

typedef struct fa_case {
    int64_t dk, dv, n_q, n_kv, H, Hkv, B;
    bool    v_of_k;      /* v = view of k's first dv values (MLA)    */
    bool    mask;        /* causal mask with spare rows              */
    int64_t dead_q;      /* query whose mask row is all -inf, or -1  */
} fa_case;

/* Reference attention of query iq, head h, batch ib into out [Dv], double. */
static void fa_ref(const dc_tensor *q, const dc_tensor *k, const dc_tensor *v,
                   const dc_tensor *mask, double scale, int64_t iq, int64_t h, int64_t ib,
                   double *out) {
    const int64_t dk = dc_tensor_ne(q, 0), dv = dc_tensor_ne(v, 0), n_kv = dc_tensor_ne(k, 1);
    const int64_t hk = h / (dc_tensor_ne(q, 2) / dc_tensor_ne(k, 2));
    float *kr = malloc((size_t)dk * 4), *vr = malloc((size_t)dv * 4);
    double *sc = malloc((size_t)n_kv * sizeof *sc), mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < n_kv; j++) {
        const double mv = mask ? getf(mask, j, iq, 0, 0) : 0.0;
        read_row(k, j, hk, ib, kr);
        double d = 0;
        for (int64_t i = 0; i < dk; i++) d += (double)getf(q, i, iq, h, ib) * kr[i];
        sc[j] = mv == -INFINITY ? -INFINITY : d * scale + mv;
        if (sc[j] > mx) mx = sc[j];
    }
    for (int64_t i = 0; i < dv; i++) out[i] = 0;
    for (int64_t j = 0; j < n_kv && mx > -INFINITY; j++) {
        if (sc[j] == -INFINITY) continue;
        const double p = exp(sc[j] - mx);
        sum += p;
        read_row(v, j, hk, ib, vr);
        for (int64_t i = 0; i < dv; i++) out[i] += p * vr[i];
    }
    for (int64_t i = 0; i < dv && sum > 0; i++) out[i] /= sum;
    free(kr);
    free(vr);
    free(sc);
}

/* q permuted as models make it: [Dk, n_q, H, B] viewing [Dk, H, n_q, B]. */
static void fa_run(const fa_case *fc, dc_type kvt, uint64_t seed) {
    dc_test_rng rng;
    dc_test_rng_seed(&rng, seed);
    dc_context *ctx = ctx_new(4);
    dc_tensor *q = make_f32(ctx, &rng, LAY_PERM, fc->dk, fc->n_q, fc->H, fc->B);
    dc_tensor *k = make_typed(ctx, &rng, kvt, LAY_CONT,
                              (const int64_t[4]){ fc->dk, fc->n_kv, fc->Hkv, fc->B });
    const int64_t vne[4] = { fc->dv, fc->n_kv, fc->Hkv, fc->B };
    dc_tensor *v = fc->v_of_k
        ? dc_view_4d(ctx, k, fc->dv, fc->n_kv, fc->Hkv, fc->B, dc_tensor_nb(k, 1),
                     dc_tensor_nb(k, 2), dc_tensor_nb(k, 3), 0)
        : make_typed(ctx, &rng, kvt, LAY_CONT, vne);
    dc_tensor *m = NULL;
    if (fc->mask) {   /* query i sits at position n_kv - n_q + i */
        m = dc_new_tensor_2d(ctx, DC_TYPE_F32, fc->n_kv, fc->n_q + 2);
        for (int64_t i = 0; i < fc->n_q + 2; i++)
            for (int64_t j = 0; j < fc->n_kv; j++)
                *(float *)elem(m, j, i, 0, 0) =
                    j <= fc->n_kv - fc->n_q + i && i != fc->dead_q ? 0.0f : -INFINITY;
    }
    const float scale = 1.0f / sqrtf((float)fc->dk);
    dc_tensor *y = dc_flash_attn(ctx, q, k, v, m, scale);
    ck_assert_msg(y != NULL, "flash_attn: %s", dc_last_error());
    compute(ctx, y, true);
    char what[96];
    snprintf(what, sizeof what, "flash_attn %s Dk %lld Dv %lld", dc_type_name(kvt),
             (long long)fc->dk, (long long)fc->dv);
    cmp c = { .what = what };
    double *want = malloc((size_t)fc->dv * sizeof *want);
    for (int64_t ib = 0; ib < fc->B; ib++)
        for (int64_t iq = 0; iq < fc->n_q; iq++)
            for (int64_t h = 0; h < fc->H; h++) {
                fa_ref(q, k, v, m, scale, iq, h, ib, want);
                for (int64_t i = 0; i < fc->dv; i++)
                    /* f32 dots of Dk terms (|q.k| * scale ~ 1) and the online
                     * rescaling: ~1e-6 of the values, which are ~N(0, 1) */
                    cmp_one(&c, getf(y, i, h, iq, ib), want[i], 4e-6 * (1 + fabs(want[i])));
            }
    if (fc->dead_q >= 0)   /* a fully masked query attends to nothing */
        for (int64_t h = 0; h < fc->H; h++)
            for (int64_t i = 0; i < fc->dv; i++)
                cmp_one(&c, getf(y, i, h, fc->dead_q, 0), 0.0, 0.0);
    cmp_done(&c);
    free(want);
    dc_context_free(ctx);
}

/* loop: K/V type. Small awkward dims with GQA and a causal mask; MLA-like
 * Dk 576 with V = K's first 512; decode (n_q 1) over 257 positions unmasked. */
START_TEST(test_flash_attn) {
    const dc_type kvt = kv_types[_i];
    const int64_t blk = dc_type_block_size(kvt);
    const int64_t dk = blk == 1 ? 48 : 3 * blk, dv = blk == 1 ? 32 : 2 * blk;
    const int64_t dk_mla = blk == 128 ? 640 : 576;
    const fa_case cases[] = {
        { dk,     dv,  3, 17,  4, 2, 2, false, true,  -1 },
        { dk_mla, 512, 9, 33,  4, 1, 1, true,  true,  4 },
        { dk,     dk,  1, 257, 4, 2, 1, false, false, -1 },
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++)
        fa_run(&cases[ci], kvt, dc_test_seed() + 700 + (uint64_t)(_i * 10) + ci);
}
END_TEST

/* ---- copies ---------------------------------------------------------------------- */

/* loop: source type (F32 cont, F32 transposed, F16, Q4_K). Rows picked by ids
 * with repeats; two planes (ids [n, 2]). Result: the rows' float values, exact. */
START_TEST(test_get_rows) {
    const dc_type types[4] = { DC_TYPE_F32, DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_Q4_K };
    const dc_type at = types[_i];
    const int64_t ne0 = dc_type_block_size(at) == 1 ? 33 : 512, n_rows = 17, n = 9;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 800 + (uint64_t)_i);
    dc_context *ctx = ctx_new(2);
    dc_tensor *a = make_typed(ctx, &rng, at, _i == 1 ? LAY_TRANS : LAY_CONT,
                              (const int64_t[4]){ ne0, n_rows, 2, 1 });
    dc_tensor *ids = dc_new_tensor_2d(ctx, DC_TYPE_I32, n, 2);
    for (int64_t i = 0; i < 2 * n; i++)
        ((int32_t *)dc_tensor_data(ids))[i] = (int32_t)((i * 7 + (i == 3 ? 16 : 0)) % n_rows);
    dc_tensor *y = dc_get_rows(ctx, a, ids);
    ck_assert_msg(y != NULL, "get_rows: %s", dc_last_error());
    compute(ctx, y, true);
    float *row = malloc((size_t)ne0 * 4);
    cmp c = { .what = "get_rows" };
    for (int64_t i2 = 0; i2 < 2; i2++)
        for (int64_t i = 0; i < n; i++) {
            read_row(a, geti(ids, i, i2, 0, 0), i2, 0, row);
            for (int64_t i0 = 0; i0 < ne0; i0++) cmp_one(&c, getf(y, i0, i, i2, 0), row[i0], 0);
        }
    cmp_done(&c);
    free(row);
    dc_context_free(ctx);
}
END_TEST

/* loop: bad id (n_rows, -1): an error status and message, no crash. */
START_TEST(test_get_rows_bad_id) {
    dc_context *ctx = ctx_new(1);
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 850);
    const int64_t ne[4] = { 256, 5, 1, 1 };
    dc_tensor *a = make_typed(ctx, &rng, DC_TYPE_Q4_K, LAY_CONT, ne);
    dc_tensor *ids = dc_new_tensor_1d(ctx, DC_TYPE_I32, 4);
    int32_t *iv = dc_tensor_data(ids);
    iv[0] = 0; iv[1] = 4; iv[2] = _i == 0 ? 5 : -1; iv[3] = 2;
    dc_tensor *y = dc_get_rows(ctx, a, ids);
    ck_assert_ptr_nonnull(y);
    for (int nth = 1; nth <= 2; nth++) {
        ck_assert_int_eq(compute_nth(ctx, y, nth), DC_ERR_INVALID_ARG);
        ck_assert_msg(strstr(dc_last_error(), "get_rows: id") != NULL, "message: %s",
                      dc_last_error());
    }
    dc_context_free(ctx);
}
END_TEST

/* cont of every layout of F32, transposed F16, permuted BF16, a Q4_K view of
 * rows and a Q8_0 with dims 1 and 2 permuted: the float values, exact. */
START_TEST(test_cont) {
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 900);
    const struct { dc_type t; layout lay; int64_t ne0; } cases[] = {
        { DC_TYPE_F32, LAY_CONT, 17 }, { DC_TYPE_F32, LAY_TRANS, 17 },
        { DC_TYPE_F32, LAY_PERM, 129 }, { DC_TYPE_F32, LAY_VIEW, 3 },
        { DC_TYPE_F16, LAY_TRANS, 33 }, { DC_TYPE_BF16, LAY_PERM, 31 },
        { DC_TYPE_Q4_K, LAY_VIEW, 256 }, { DC_TYPE_Q8_0, LAY_PERM, 96 },
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        dc_context *ctx = ctx_new(1);
        const int64_t ne[4] = { cases[ci].ne0, 5, 3, 2 };
        dc_tensor *a = make_typed(ctx, &rng, cases[ci].t, cases[ci].lay, ne);
        dc_tensor *y = dc_cont(ctx, a);
        ck_assert_msg(y != NULL, "cont: %s", dc_last_error());
        compute(ctx, y, true);
        ck_assert(dc_tensor_is_contiguous(y));
        float *row = malloc((size_t)ne[0] * 4);
        cmp c = { .what = "cont" };
        for (int64_t r = 0; r < 30; r++) {
            read_row(a, r % 5, (r / 5) % 3, r / 15, row);
            for (int64_t i0 = 0; i0 < ne[0]; i0++)
                cmp_one(&c, getf(y, i0, r % 5, (r / 5) % 3, r / 15), row[i0], 0);
        }
        cmp_done(&c);
        free(row);
        dc_context_free(ctx);
    }
}
END_TEST

/* loop: cache type (F32, F16, BF16, Q8_0, F8). A permuted F32 source
 * [ne0, 4 tokens, 3 heads] written into tokens 5..8 of a cache
 * [ne0, 10, 3]: each written row equals dc_quantize_row of the source row,
 * and every other byte of the cache is untouched. */
START_TEST(test_cpy) {
    const dc_type types[5] = { DC_TYPE_F32, DC_TYPE_F16, DC_TYPE_BF16, DC_TYPE_Q8_0,
                               DC_TYPE_F8_E4M3_B128 };
    const dc_type ct = types[_i];
    const int64_t ne0 = dc_type_block_size(ct) == 1 ? 33 : 2 * dc_type_block_size(ct);
    const int64_t n_ctx = 10, nh = 3, nt = 4, t0 = 5;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 1000 + (uint64_t)_i);
    dc_context *ctx = ctx_new(1);
    dc_tensor *cache = dc_new_tensor_3d(ctx, ct, ne0, n_ctx, nh);
    const size_t nbytes = dc_tensor_nbytes(cache), rs = dc_tensor_nb(cache, 1);
    unsigned char *bytes = dc_tensor_data(cache);
    for (size_t i = 0; i < nbytes; i++) bytes[i] = (unsigned char)(i * 31 + 7);
    unsigned char *before = malloc(nbytes);
    memcpy(before, dc_tensor_data(cache), nbytes);
    dc_tensor *src = make_f32(ctx, &rng, LAY_PERM, ne0, nt, nh, 1);
    dc_tensor *dst = dc_view_3d(ctx, cache, ne0, nt, nh, rs, dc_tensor_nb(cache, 2), t0 * rs);
    dc_tensor *y = dc_cpy(ctx, src, dst);
    ck_assert_msg(y != NULL, "cpy: %s", dc_last_error());
    compute(ctx, y, false);
    float *row = malloc((size_t)ne0 * 4);
    unsigned char *want = malloc(rs);
    const unsigned char *got = dc_tensor_data(cache);
    for (int64_t h = 0; h < nh; h++)
        for (int64_t t = 0; t < n_ctx; t++) {
            const size_t off = (size_t)h * dc_tensor_nb(cache, 2) + (size_t)t * rs;
            if (t >= t0 && t < t0 + nt) {
                read_row(src, t - t0, h, 0, row);
                ck_assert_int_eq(dc_quantize_row(ct, row, want, ne0), DC_OK);
                ck_assert_msg(memcmp(got + off, want, rs) == 0, "cpy %s: row %lld of head %lld",
                              dc_type_name(ct), (long long)t, (long long)h);
            } else {
                ck_assert_msg(memcmp(got + off, before + off, rs) == 0,
                              "cpy %s: row %lld of head %lld outside the view changed",
                              dc_type_name(ct), (long long)t, (long long)h);
            }
        }
    free(row);
    free(want);
    free(before);
    dc_context_free(ctx);
}
END_TEST

/* cpy between different shapes of the same rows: [17, 6] into a [17, 2, 3]
 * view; rows go over in flat order. */
START_TEST(test_cpy_reshape) {
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 1100);
    dc_context *ctx = ctx_new(1);
    dc_tensor *src = make_f32(ctx, &rng, LAY_TRANS, 17, 6, 1, 1);
    dc_tensor *big = dc_new_tensor_3d(ctx, DC_TYPE_F32, 20, 2, 4);
    dc_tensor *dst = dc_view_3d(ctx, big, 17, 2, 3, dc_tensor_nb(big, 1), dc_tensor_nb(big, 2),
                                dc_tensor_nb(big, 2) + 4);
    dc_tensor *y = dc_cpy(ctx, src, dst);
    ck_assert_msg(y != NULL, "cpy: %s", dc_last_error());
    compute(ctx, y, false);
    cmp c = { .what = "cpy reshape" };
    for (int64_t r = 0; r < 6; r++)
        for (int64_t i0 = 0; i0 < 17; i0++)
            cmp_one(&c, getf(dst, i0, r % 2, r / 2, 0), getf(src, i0, r, 0, 0), 0);
    cmp_done(&c);
    dc_context_free(ctx);
}
END_TEST

/* loop: dim. a [5, 3, 2, 2] (layout by dim) ++ b with 4 along dim (another
 * layout): exact. */
START_TEST(test_concat) {
    const int dim = _i;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 1200 + (uint64_t)_i);
    for (int lay = 0; lay < LAY_COUNT; lay++) {
        dc_context *ctx = ctx_new(1);
        int64_t na[4] = { 5, 3, 2, 2 }, nb[4] = { 5, 3, 2, 2 };
        nb[dim] = 4;
        dc_tensor *a = make_f32(ctx, &rng, (layout)lay, na[0], na[1], na[2], na[3]);
        const layout lb = (layout)((lay + 1) % LAY_COUNT);
        dc_tensor *b = make_f32(ctx, &rng, lb, nb[0], nb[1], nb[2], nb[3]);
        dc_tensor *y = dc_concat(ctx, a, b, dim);
        ck_assert_msg(y != NULL, "concat: %s", dc_last_error());
        compute(ctx, y, true);
        cmp c = { .what = "concat" };
        int64_t i[4];
        for (i[3] = 0; i[3] < dc_tensor_ne(y, 3); i[3]++)
            for (i[2] = 0; i[2] < dc_tensor_ne(y, 2); i[2]++)
                for (i[1] = 0; i[1] < dc_tensor_ne(y, 1); i[1]++)
                    for (i[0] = 0; i[0] < dc_tensor_ne(y, 0); i[0]++) {
                        int64_t j[4] = { i[0], i[1], i[2], i[3] };
                        const dc_tensor *s = a;
                        if (j[dim] >= na[dim]) {
                            s = b;
                            j[dim] -= na[dim];
                        }
                        cmp_one(&c, getf(y, i[0], i[1], i[2], i[3]),
                                getf(s, j[0], j[1], j[2], j[3]), 0);
                    }
        cmp_done(&c);
        dc_context_free(ctx);
    }
}
END_TEST

/* ---- sorting --------------------------------------------------------------------- */

/* Stable insertion sort of 0..n-1 by row values (desc: larger first). */
static void ref_sort(const float *x, int64_t n, bool desc, int32_t *idx) {
    for (int64_t i = 0; i < n; i++) {
        int64_t j = i;
        while (j > 0 && (desc ? x[idx[j - 1]] < x[i] : x[idx[j - 1]] > x[i])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = (int32_t)i;
    }
}

/* loop: size x {ties, distinct}. argsort ASC and DESC and top_k (k = 1, 3,
 * n) of a transposed [n, 4, 2] input; ties must keep the lower index first. */
START_TEST(test_sort) {
    const int64_t n = sizes[_i / 2];
    const bool ties = _i % 2 == 0;
    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 1300 + (uint64_t)_i);
    dc_context *ctx = ctx_new(1);
    dc_tensor *a = make_f32(ctx, &rng, LAY_TRANS, n, 4, 2, 1);
    if (ties)
        for (int64_t r = 0; r < 8; r++)
            for (int64_t i0 = 0; i0 < n; i0++) {
                float *v = elem(a, i0, r % 4, r / 4, 0);
                *v = (float)(dc_test_rng_u64(&rng) % 5) - 2.0f;
            }
    const int ks[3] = { 1, n < 3 ? (int)n : 3, (int)n };
    dc_tensor *outs[5] = { dc_argsort(ctx, a, DC_SORT_ASC), dc_argsort(ctx, a, DC_SORT_DESC),
                           dc_top_k(ctx, a, ks[0]), dc_top_k(ctx, a, ks[1]),
                           dc_top_k(ctx, a, ks[2]) };
    for (int o = 0; o < 5; o++) {
        ck_assert_msg(outs[o] != NULL, "sort: %s", dc_last_error());
        compute(ctx, outs[o], true);
    }
    float *x = malloc((size_t)n * 4);
    int32_t *asc = malloc((size_t)n * 4), *desc = malloc((size_t)n * 4);
    for (int64_t r = 0; r < 8; r++) {
        const int64_t i1 = r % 4, i2 = r / 4;
        read_row(a, i1, i2, 0, x);
        ref_sort(x, n, false, asc);
        ref_sort(x, n, true, desc);
        for (int64_t i = 0; i < n; i++) {
            ck_assert_int_eq(geti(outs[0], i, i1, i2, 0), asc[i]);
            ck_assert_int_eq(geti(outs[1], i, i1, i2, 0), desc[i]);
        }
        for (int o = 0; o < 3; o++)
            for (int64_t i = 0; i < ks[o]; i++)
                ck_assert_int_eq(geti(outs[2 + o], i, i1, i2, 0), desc[i]);
    }
    free(x);
    free(asc);
    free(desc);
    dc_context_free(ctx);
}
END_TEST

/* ---- suite ----------------------------------------------------------------------- */

Suite *ops_suite(void) {
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("elementwise");
    tcase_add_loop_test(tc, test_binary, 0, 3 * LAY_COUNT);
    tcase_add_loop_test(tc, test_unary, 0, LAY_COUNT);
    suite_add_tcase(s, tc);

    tc = tcase_create("norm");
    tcase_add_loop_test(tc, test_rms_norm, 0, LAY_COUNT);
    tcase_add_loop_test(tc, test_softmax, 0, 2 * LAY_COUNT);
    suite_add_tcase(s, tc);

    tc = tcase_create("rope");
    tcase_add_loop_test(tc, test_rope, 0, 2 * N_ROPE);
    suite_add_tcase(s, tc);

    tc = tcase_create("matmul");
    tcase_add_loop_test(tc, test_mul_mat, 0, N_MM_TYPES);
    tcase_add_loop_test(tc, test_moe_mul_mat, 0, 2 * (int)(sizeof moe_types / sizeof moe_types[0]));
    tcase_add_loop_test(tc, test_moe_bad_id, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("attn");
    tcase_add_loop_test(tc, test_flash_attn, 0, N_KV_TYPES);
    suite_add_tcase(s, tc);

    tc = tcase_create("copy");
    tcase_add_loop_test(tc, test_get_rows, 0, 4);
    tcase_add_loop_test(tc, test_get_rows_bad_id, 0, 2);
    tcase_add_test(tc, test_cont);
    tcase_add_loop_test(tc, test_cpy, 0, 5);
    tcase_add_test(tc, test_cpy_reshape);
    tcase_add_loop_test(tc, test_concat, 0, 4);
    suite_add_tcase(s, tc);

    tc = tcase_create("sort");
    tcase_add_loop_test(tc, test_sort, 0, 2 * N_SIZES);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(ops_suite)
