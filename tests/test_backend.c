/*
 * test_backend.c - lib/backend: buffers, dc_tensor_set/get, and the
 * scheduler. A fake "device" backend (memory the CPU backend must not read,
 * supporting only add, mul and scale) proves that the scheduler assigns nodes
 * by op support and weight placement, splits the graph, copies sources across
 * backends, and that liveness-based allocation reuses memory.
 */
#include "test_util.h"

#include <deepc.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/backend/backend_impl.h"

/* ---- a fake device backend ------------------------------------------------------- */

static int fake_computed;   /* nodes the fake backend ran */

static void fb_free(dc_buffer *b) { dc_free(b->context); }
static void *fb_base(dc_buffer *b) { return b->context; }
static dc_status fb_set(dc_buffer *b, dc_tensor *t, const void *src, size_t off, size_t n) {
    (void)b;
    memcpy((char *)t->data + off, src, n);
    return DC_OK;
}
static dc_status fb_get(dc_buffer *b, const dc_tensor *t, void *dst, size_t off, size_t n) {
    (void)b;
    memcpy(dst, (const char *)t->data + off, n);
    return DC_OK;
}
static const dc_buffer_i fake_buffer_i = { .free = fb_free, .base = fb_base,
                                           .set_tensor = fb_set, .get_tensor = fb_get };
static const char *fbt_name(const dc_buffer_type *bt) { (void)bt; return "FAKE"; }
static size_t fbt_align(const dc_buffer_type *bt) { (void)bt; return 128; }
static dc_status fbt_alloc(dc_buffer_type *bt, size_t size, dc_buffer **out) {
    void *mem = dc_malloc(size);
    *out = mem ? dc_buffer_new(bt, &fake_buffer_i, mem, size) : NULL;
    return *out ? DC_OK : DC_ERR_NOMEM;
}
static dc_buffer_type fake_bt = { .iface = { .name = fbt_name, .alloc_buffer = fbt_alloc,
                                             .alignment = fbt_align, .is_host = NULL } };

static const char *fake_name(const dc_backend *b) { (void)b; return "FAKE"; }
static void fake_free(dc_backend *b) { dc_free(b); }
static dc_buffer_type *fake_buffer_type(dc_backend *b) { (void)b; return &fake_bt; }
static bool fake_supports(const dc_backend *b, const dc_tensor *n) {
    (void)b;
    return n->op == DC_OP_ADD || n->op == DC_OP_MUL || n->op == DC_OP_SCALE;
}

/* reads only memory of its own buffer type: proves copies were made */
static bool in_fake(const dc_tensor *t) {
    const dc_tensor *r = dc_tensor_root(t);
    return r->buffer && r->buffer->type == &fake_bt;
}

static dc_status fake_compute(dc_backend *b, dc_graph *g) {
    (void)b;
    for (int i = 0; i < g->n_nodes; i++) {
        dc_tensor *n = g->nodes[i];
        if (n->op == DC_OP_VIEW) continue;
        if (!in_fake(n) || !in_fake(n->src[0]) || (n->src[1] && !in_fake(n->src[1])))
            return dc_error(DC_ERR_INTERNAL, "fake: %s touches foreign memory", n->name);
        const float *a = n->src[0]->data;
        const float *c = n->src[1] ? n->src[1]->data : NULL;
        float *y = n->data;
        int64_t ne = dc_tensor_nelements(n), nb = n->src[1] ? dc_tensor_nelements(n->src[1]) : 1;
        for (int64_t j = 0; j < ne; j++) {
            if (n->op == DC_OP_SCALE) y[j] = a[j] * n->params.scale.s;
            else if (n->op == DC_OP_ADD) y[j] = a[j] + c[j % nb];
            else y[j] = a[j] * c[j % nb];
        }
        fake_computed++;
    }
    return DC_OK;
}

static dc_backend *fake_backend(void) {
    dc_backend *b = dc_calloc(1, sizeof *b);
    b->iface = (dc_backend_i){ .name = fake_name, .free = fake_free,
                               .buffer_type = fake_buffer_type, .supports_op = fake_supports,
                               .graph_compute = fake_compute };
    return b;
}

static dc_backend *cpu_backend(int n_threads) {
    dc_cpu_params p = { .n_threads = n_threads };
    dc_backend *b = NULL;
    ck_assert_int_eq(dc_backend_cpu_init(&p, &b), DC_OK);
    return b;
}

static dc_context *no_alloc_ctx(void) {
    dc_context_params p = { .mem_size = 1 << 20, .no_alloc = true };
    dc_context *ctx = NULL;
    ck_assert_int_eq(dc_context_init(&p, &ctx), DC_OK);
    return ctx;
}

/* ---- tests ------------------------------------------------------------------------------ */

START_TEST(test_split_and_copy) {
    enum { N = 37, R = 3 };
    dc_backend *fake = fake_backend(), *cpu = cpu_backend(2);
    dc_backend *list[2] = { fake, cpu };
    dc_sched *s = NULL;
    ck_assert_int_eq(dc_sched_init(list, 2, &s), DC_OK);

    dc_context *ctx = no_alloc_ctx();
    dc_tensor *x = dc_new_tensor_2d(ctx, DC_TYPE_F32, N, R);
    dc_tensor *a = dc_scale(ctx, x, 2.0f);          /* fake */
    dc_tensor *b = dc_rms_norm(ctx, a, 1e-6f);      /* cpu  */
    dc_tensor *c = dc_mul(ctx, b, x);               /* fake */
    dc_tensor *d = dc_silu(ctx, c);                 /* cpu  */
    dc_graph *g = NULL;
    ck_assert_int_eq(dc_graph_build(ctx, &d, 1, &g), DC_OK);
    ck_assert_int_eq(dc_sched_alloc_graph(s, g), DC_OK);
    ck_assert_int_eq(dc_sched_n_splits(s), 4);
    ck_assert_ptr_eq(dc_sched_node_backend(s, a), fake);
    ck_assert_ptr_eq(dc_sched_node_backend(s, b), cpu);
    ck_assert_ptr_eq(dc_sched_node_backend(s, c), fake);
    ck_assert_ptr_eq(dc_sched_node_backend(s, d), cpu);

    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed());
    float xs[N * R], out[N * R];
    dc_test_fill_normal(&rng, xs, N * R, 1.0);
    ck_assert_int_eq(dc_tensor_set(x, xs, 0, sizeof xs), DC_OK);
    fake_computed = 0;
    ck_assert_int_eq(dc_sched_compute(s, g), DC_OK);
    ck_assert_int_eq(fake_computed, 2);
    ck_assert_int_eq(dc_tensor_get(d, out, 0, sizeof out), DC_OK);
    for (int r = 0; r < R; r++) {
        double ss = 0;
        for (int i = 0; i < N; i++) ss += 4.0 * xs[r * N + i] * xs[r * N + i];
        double inv = 1.0 / sqrt(ss / N + 1e-6);
        for (int i = 0; i < N; i++) {
            double v = 2.0 * xs[r * N + i] * inv * xs[r * N + i];
            double want = v / (1.0 + exp(-v));
            ck_assert_double_eq_tol(out[r * N + i], want, 1e-5 * (1 + fabs(want)));
        }
    }
    dc_sched_free(s);
    dc_context_free(ctx);
    dc_backend_free(fake);
    dc_backend_free(cpu);
}
END_TEST

/* A weight placed in the fake buffer is read by a CPU-only op through a copy. */
START_TEST(test_weight_placement) {
    enum { K = 33, M = 5, T = 4 };
    dc_backend *fake = fake_backend(), *cpu = cpu_backend(1);
    dc_context *wctx = no_alloc_ctx();
    dc_tensor *w = dc_new_tensor_2d(wctx, DC_TYPE_F32, K, M);
    dc_tensor *bias = dc_new_tensor_1d(wctx, DC_TYPE_F32, M);
    dc_buffer *wbuf = NULL;
    ck_assert_int_eq(dc_backend_alloc_ctx_tensors(fake, wctx, &wbuf), DC_OK);
    ck_assert_ptr_null(dc_tensor_data(w));          /* device memory: no host pointer */

    dc_test_rng rng;
    dc_test_rng_seed(&rng, dc_test_seed() + 1);
    float ws[K * M], bs[M], xs[K * T], ys[M * T];
    dc_test_fill_normal(&rng, ws, K * M, 1.0);
    dc_test_fill_normal(&rng, bs, M, 1.0);
    dc_test_fill_normal(&rng, xs, K * T, 1.0);
    ck_assert_int_eq(dc_tensor_set(w, ws, 0, sizeof ws), DC_OK);
    ck_assert_int_eq(dc_tensor_set(bias, bs, 0, sizeof bs), DC_OK);

    dc_backend *list[2] = { fake, cpu };
    dc_sched *s = NULL;
    ck_assert_int_eq(dc_sched_init(list, 2, &s), DC_OK);
    dc_context *ctx = no_alloc_ctx();
    dc_tensor *x = dc_new_tensor_2d(ctx, DC_TYPE_F32, K, T);
    dc_tensor *y = dc_add(ctx, dc_mul_mat(ctx, w, x), bias);
    dc_graph *g = NULL;
    ck_assert_int_eq(dc_graph_build(ctx, &y, 1, &g), DC_OK);
    ck_assert_int_eq(dc_sched_alloc_graph(s, g), DC_OK);
    ck_assert_ptr_eq(dc_sched_node_backend(s, y->src[0]), cpu);
    ck_assert_ptr_eq(dc_sched_node_backend(s, y), fake);
    ck_assert_int_eq(dc_tensor_set(x, xs, 0, sizeof xs), DC_OK);
    ck_assert_int_eq(dc_sched_compute(s, g), DC_OK);
    ck_assert_int_eq(dc_tensor_get(y, ys, 0, sizeof ys), DC_OK);
    for (int t = 0; t < T; t++)
        for (int m = 0; m < M; m++) {
            double want = bs[m];
            for (int k = 0; k < K; k++) want += (double)ws[m * K + k] * xs[t * K + k];
            ck_assert_double_eq_tol(ys[t * M + m], want, 1e-5 * (1 + fabs(want)));
        }
    dc_sched_free(s);
    dc_context_free(ctx);
    dc_buffer_free(wbuf);
    dc_context_free(wctx);
    dc_backend_free(fake);
    dc_backend_free(cpu);
}
END_TEST

/* Liveness: a chain of 12 ops over 1 MiB tensors needs ~3 live tensors, not 12. */
START_TEST(test_memory_reuse_and_rerun) {
    enum { N = 1 << 18 };
    dc_backend *cpu = cpu_backend(2);
    dc_sched *s = NULL;
    ck_assert_int_eq(dc_sched_init(&cpu, 1, &s), DC_OK);
    dc_context *ctx = no_alloc_ctx();
    dc_tensor *x = dc_new_tensor_1d(ctx, DC_TYPE_F32, N);
    dc_tensor *t = x;
    for (int i = 0; i < 12; i++) t = dc_scale(ctx, t, 1.5f);
    dc_graph *g = NULL;
    ck_assert_int_eq(dc_graph_build(ctx, &t, 1, &g), DC_OK);
    ck_assert_int_eq(dc_sched_reserve(s, g), DC_OK);
    size_t bytes = dc_sched_buffer_size(s);
    ck_assert_uint_le(bytes, 3 * (size_t)N * 4 + 4096);
    ck_assert_uint_ge(bytes, 2 * (size_t)N * 4);
    float *in = malloc(N * sizeof *in), *out = malloc(N * sizeof *out);
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < N; i++) in[i] = (float)(i % 97) * (rep ? -1.0f : 1.0f);
        ck_assert_int_eq(dc_tensor_set(x, in, 0, N * sizeof *in), DC_OK);
        ck_assert_int_eq(dc_sched_compute(s, g), DC_OK);
        ck_assert_int_eq(dc_tensor_get(t, out, 0, N * sizeof *out), DC_OK);
        double f = pow(1.5, 12);
        for (int i = 0; i < N; i += 4099) ck_assert_double_eq_tol(out[i], in[i] * f, 1e-3 * fabs(in[i] * f) + 1e-6);
        ck_assert_uint_eq(dc_sched_buffer_size(s), bytes);   /* nothing new allocated */
    }
    free(in);
    free(out);
    dc_sched_free(s);
    dc_context_free(ctx);
    dc_backend_free(cpu);
}
END_TEST

START_TEST(test_errors) {
    dc_sched *s = NULL;
    dc_backend *fake = fake_backend();
    ck_assert_int_eq(dc_sched_init(&fake, 1, &s), DC_ERR_INVALID_ARG);   /* no host backend */
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "host"));
    ck_assert_ptr_null(s);
    dc_backend_free(fake);

    dc_backend *b = NULL;
    dc_cpu_params p = { .n_threads = 0 };
    ck_assert_int_eq(dc_backend_cpu_init(&p, &b), DC_ERR_INVALID_ARG);
    ck_assert_ptr_null(b);

    /* computing a graph whose tensors have no memory is an error, not a crash */
    dc_backend *cpu = cpu_backend(1);
    dc_context *ctx = no_alloc_ctx();
    dc_tensor *y = dc_silu(ctx, dc_new_tensor_1d(ctx, DC_TYPE_F32, 8));
    dc_graph *g = NULL;
    ck_assert_int_eq(dc_graph_build(ctx, &y, 1, &g), DC_OK);
    ck_assert_int_eq(dc_backend_graph_compute(cpu, g), DC_ERR_INVALID_ARG);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "memory"));
    float v[9];
    ck_assert_int_eq(dc_tensor_get(y, v, 0, sizeof v), DC_ERR_INVALID_ARG);
    dc_context_free(ctx);
    dc_backend_free(cpu);
    ck_assert_int_ge(dc_cpu_physical_cores(), 1);
}
END_TEST

static Suite *backend_suite(void) {
    Suite *s = suite_create("backend");
    TCase *tc = tcase_create("sched");
    tcase_add_test(tc, test_split_and_copy);
    tcase_add_test(tc, test_weight_placement);
    tcase_add_test(tc, test_memory_reuse_and_rerun);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(backend_suite)
