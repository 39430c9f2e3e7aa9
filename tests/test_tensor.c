/*
 * test_tensor.c - lib/tensor without computing: contexts, tensor creation,
 * views and their bounds, op builders' shape/type checks and messages, sticky
 * errors, graph building (order, each node once, deep chains), and
 * allocation-failure handling.
 */
#include "test_util.h"

#include <deepc.h>

#include <string.h>

#include "../lib/tensor/tensor_impl.h"

static dc_context *new_ctx(size_t mem, bool no_alloc) {
    dc_context_params p = { .mem_size = mem, .no_alloc = no_alloc };
    dc_context *ctx = NULL;
    ck_assert_int_eq(dc_context_init(&p, &ctx), DC_OK);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

/* ---- contexts and tensors -------------------------------------------------------- */

START_TEST(test_new_tensor_strides) {
    dc_context *ctx = new_ctx(1 << 20, false);
    dc_tensor *t = dc_new_tensor_3d(ctx, DC_TYPE_F32, 5, 3, 2);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(dc_tensor_nb(t, 0), 4);
    ck_assert_int_eq(dc_tensor_nb(t, 1), 20);
    ck_assert_int_eq(dc_tensor_nb(t, 2), 60);
    ck_assert_int_eq(dc_tensor_nbytes(t), 120);
    ck_assert_int_eq(dc_tensor_nelements(t), 30);
    ck_assert(dc_tensor_is_contiguous(t));
    ck_assert_ptr_nonnull(dc_tensor_data(t));
    dc_tensor *q = dc_new_tensor_2d(ctx, DC_TYPE_Q4_K, 512, 3);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(dc_tensor_nb(q, 0), 144);
    ck_assert_int_eq(dc_tensor_nb(q, 1), 288);
    dc_context_free(ctx);
}
END_TEST

START_TEST(test_new_tensor_errors) {
    dc_context *ctx = new_ctx(1 << 20, true);
    /* ne0 not a multiple of the block size */
    ck_assert_ptr_null(dc_new_tensor_2d(ctx, DC_TYPE_Q8_0, 33, 2));
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(dc_context_error(ctx), "block size"));
    dc_context_free(ctx);

    ctx = new_ctx(1 << 20, true);
    ck_assert_ptr_null(dc_new_tensor_1d(ctx, (dc_type)4, 8));   /* retired id */
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_TYPE);
    dc_context_free(ctx);

    ctx = new_ctx(1 << 20, true);
    ck_assert_ptr_null(dc_new_tensor_4d(ctx, DC_TYPE_F32, INT64_MAX / 2, 4, 4, 4));
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_SHAPE);
    ck_assert_ptr_nonnull(strstr(dc_context_error(ctx), "overflow"));
    dc_context_free(ctx);

    ctx = new_ctx(1 << 20, true);
    ck_assert_ptr_null(dc_new_tensor(ctx, DC_TYPE_F32, 5, (int64_t[]){ 1, 1, 1, 1, 1 }));
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_INVALID_ARG);
    dc_context_free(ctx);
}
END_TEST

START_TEST(test_context_full) {
    dc_context *ctx = new_ctx(4096, false);
    ck_assert_ptr_null(dc_new_tensor_1d(ctx, DC_TYPE_F32, 100000));
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_NOMEM);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "arena full"));
    dc_context_free(ctx);
}
END_TEST

START_TEST(test_context_alloc_failure) {
    size_t base = dc_alloc_bytes_in_use();
    for (long n = 0; n < 4; n++) {
        dc_alloc_fail_after(n);
        dc_context *ctx = NULL;
        dc_context_params p = dc_context_default_params();
        dc_status st = dc_context_init(&p, &ctx);
        dc_alloc_fail_after(-1);
        if (st == DC_OK) {
            ck_assert_int_ge(n, 2);   /* two allocations: header and arena */
            dc_context_free(ctx);
            break;
        }
        ck_assert_int_eq(st, DC_ERR_NOMEM);
        ck_assert_ptr_null(ctx);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
    }
    ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
}
END_TEST

/* ---- views ------------------------------------------------------------------------------ */

START_TEST(test_views) {
    dc_context *ctx = new_ctx(1 << 20, false);
    dc_tensor *a = dc_new_tensor_3d(ctx, DC_TYPE_F32, 6, 4, 3);
    float *d = dc_tensor_data(a);
    for (int i = 0; i < 72; i++) d[i] = (float)i;
    /* a [6, 4, 3] -> permute to [4, 6, 3]: element (i0, i1) of the view is a(i1, i0) */
    dc_tensor *tr = dc_transpose(ctx, a);
    ck_assert_int_eq(dc_tensor_ne(tr, 0), 4);
    ck_assert_int_eq(dc_tensor_ne(tr, 1), 6);
    ck_assert_int_eq(dc_tensor_nb(tr, 0), 24);
    ck_assert_int_eq(dc_tensor_nb(tr, 1), 4);
    ck_assert(!dc_tensor_is_contiguous(tr));
    ck_assert_ptr_eq(dc_tensor_data(tr), d);
    /* a transpose spans exactly its source's bytes */
    ck_assert_uint_eq(dc_tensor_nbytes(tr), dc_tensor_nbytes(a));
    ck_assert_uint_eq(dc_tensor_nbytes(dc_transpose(ctx, dc_new_tensor_2d(ctx, DC_TYPE_F32, 3, 5))), 60);
    /* 2-D view of rows 1..2 of slice 2 */
    dc_tensor *v = dc_view_2d(ctx, a, 6, 2, 24, 2 * 96 + 24);
    ck_assert_ptr_nonnull(v);
    ck_assert_float_eq(((float *)dc_tensor_data(v))[0], 54.0f);
    /* view past the end is refused */
    ck_assert_ptr_null(dc_view_2d(ctx, a, 6, 2, 24, 2 * 96 + 72));
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_SHAPE);
    dc_context_free(ctx);

    ctx = new_ctx(1 << 20, false);
    a = dc_new_tensor_3d(ctx, DC_TYPE_F32, 6, 4, 3);
    dc_tensor *r = dc_reshape_2d(ctx, a, 12, 6);
    ck_assert_ptr_nonnull(r);
    ck_assert_ptr_null(dc_reshape_2d(ctx, a, 12, 5));
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_SHAPE);
    dc_context_free(ctx);

    ctx = new_ctx(1 << 20, false);
    a = dc_new_tensor_3d(ctx, DC_TYPE_F32, 6, 4, 3);
    ck_assert_ptr_null(dc_reshape_2d(ctx, dc_transpose(ctx, a), 12, 6));   /* not contiguous */
    ck_assert_int_eq(dc_context_status(ctx), DC_ERR_SHAPE);
    ck_assert_ptr_null(dc_permute(ctx, a, 0, 0, 1, 2));
    dc_context_free(ctx);
}
END_TEST

/* ---- builders: shapes and messages ----------------------------------------------------------- */

START_TEST(test_builder_shapes) {
    dc_context *ctx = new_ctx(1 << 20, true);
    dc_tensor *w = dc_new_tensor_3d(ctx, DC_TYPE_Q4_K, 256, 96, 2);
    dc_tensor *x = dc_new_tensor_3d(ctx, DC_TYPE_F32, 256, 7, 4);
    dc_tensor *y = dc_mul_mat(ctx, w, x);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(dc_tensor_ne(y, 0), 96);
    ck_assert_int_eq(dc_tensor_ne(y, 1), 7);
    ck_assert_int_eq(dc_tensor_ne(y, 2), 4);
    ck_assert_int_eq(dc_tensor_type(y), DC_TYPE_F32);

    dc_tensor *ids = dc_new_tensor_2d(ctx, DC_TYPE_I32, 3, 5);
    dc_tensor *ex = dc_new_tensor_3d(ctx, DC_TYPE_Q8_0, 64, 32, 8);
    dc_tensor *xb = dc_new_tensor_3d(ctx, DC_TYPE_F32, 64, 1, 5);
    dc_tensor *m = dc_moe_mul_mat(ctx, ex, xb, ids);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(dc_tensor_ne(m, 0), 32);
    ck_assert_int_eq(dc_tensor_ne(m, 1), 3);
    ck_assert_int_eq(dc_tensor_ne(m, 2), 5);

    dc_tensor *q = dc_new_tensor_4d(ctx, DC_TYPE_F32, 576, 7, 16, 1);
    dc_tensor *k = dc_new_tensor_4d(ctx, DC_TYPE_F16, 576, 33, 1, 1);
    dc_tensor *v = dc_view_4d(ctx, k, 512, 33, 1, 1, dc_tensor_nb(k, 1), dc_tensor_nb(k, 2),
                              dc_tensor_nb(k, 3), 0);
    dc_tensor *mask = dc_new_tensor_2d(ctx, DC_TYPE_F32, 33, 7);
    dc_tensor *o = dc_flash_attn(ctx, q, k, v, mask, 0.1f);
    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(dc_tensor_ne(o, 0), 512);
    ck_assert_int_eq(dc_tensor_ne(o, 1), 16);
    ck_assert_int_eq(dc_tensor_ne(o, 2), 7);

    dc_tensor *c = dc_concat(ctx, dc_new_tensor_2d(ctx, DC_TYPE_F32, 512, 3),
                             dc_new_tensor_2d(ctx, DC_TYPE_F32, 64, 3), 0);
    ck_assert_int_eq(dc_tensor_ne(c, 0), 576);
    dc_tensor *tk = dc_top_k(ctx, dc_new_tensor_2d(ctx, DC_TYPE_F32, 64, 9), 6);
    ck_assert_int_eq(dc_tensor_type(tk), DC_TYPE_I32);
    ck_assert_int_eq(dc_tensor_ne(tk, 0), 6);
    ck_assert_int_eq(dc_context_status(ctx), DC_OK);
    dc_context_free(ctx);
}
END_TEST

/* each case: a builder call that must fail, the status, a word the message has */
START_TEST(test_builder_errors) {
    struct { dc_status st; const char *word; } want[] = {
        { DC_ERR_SHAPE, "mul_mat" },      { DC_ERR_SHAPE, "broadcast" },
        { DC_ERR_TYPE, "I32" },           { DC_ERR_SHAPE, "flash_attn" },
        { DC_ERR_INVALID_ARG, "top_k" },  { DC_ERR_SHAPE, "concat" },
        { DC_ERR_INVALID_ARG, "rope" },   { DC_ERR_SHAPE, "swiglu" },
        { DC_ERR_SHAPE, "moe_mul_mat" },  { DC_ERR_TYPE, "weight" },
    };
    int n = (int)(sizeof want / sizeof want[0]);
    for (int i = 0; i < n; i++) {
        dc_context *ctx = new_ctx(1 << 20, true);
        dc_tensor *f = dc_new_tensor_2d(ctx, DC_TYPE_F32, 64, 4);
        dc_tensor *g = dc_new_tensor_2d(ctx, DC_TYPE_F32, 32, 4);
        dc_tensor *r = NULL;
        dc_rope_params rp = dc_rope_default_params(65, DC_ROPE_NORM);
        switch (i) {
        case 0: r = dc_mul_mat(ctx, f, g); break;
        case 1: r = dc_add(ctx, g, dc_new_tensor_2d(ctx, DC_TYPE_F32, 3, 4)); break;
        case 2: r = dc_get_rows(ctx, f, g); break;
        case 3: r = dc_flash_attn(ctx, dc_new_tensor_3d(ctx, DC_TYPE_F32, 64, 2, 3),
                                  dc_new_tensor_3d(ctx, DC_TYPE_F32, 64, 5, 2), f, NULL, 1.0f);
                break;
        case 4: r = dc_top_k(ctx, g, 33); break;
        case 5: r = dc_concat(ctx, f, dc_new_tensor_2d(ctx, DC_TYPE_F32, 64, 3), 0); break;
        case 6: r = dc_rope(ctx, dc_new_tensor_3d(ctx, DC_TYPE_F32, 64, 2, 3),
                            dc_new_tensor_1d(ctx, DC_TYPE_I32, 3), NULL, &rp);
                break;
        case 7: r = dc_swiglu(ctx, f, g); break;
        case 8: r = dc_moe_mul_mat(ctx, dc_new_tensor_3d(ctx, DC_TYPE_F32, 64, 8, 4), f,
                                   dc_new_tensor_2d(ctx, DC_TYPE_I32, 2, 4));
                break;
        case 9: r = dc_mul_mat(ctx, dc_new_tensor_2d(ctx, DC_TYPE_Q8_K, 256, 2),
                               dc_new_tensor_2d(ctx, DC_TYPE_F32, 256, 2));
                break;
        }
        ck_assert_msg(r == NULL, "case %d built a node", i);
        ck_assert_msg(dc_context_status(ctx) == want[i].st, "case %d: status %s, message %s", i,
                      dc_status_str(dc_context_status(ctx)), dc_context_error(ctx));
        ck_assert_msg(strstr(dc_context_error(ctx), want[i].word), "case %d: message '%s'", i,
                      dc_context_error(ctx));
        /* sticky: later builders pass NULL on, graph refuses */
        ck_assert_ptr_null(dc_silu(ctx, r));
        dc_graph *gr = NULL;
        ck_assert_int_eq(dc_graph_build(ctx, &f, 1, &gr), want[i].st);
        ck_assert_ptr_null(gr);
        dc_context_free(ctx);
    }
}
END_TEST

/* ---- graphs ---------------------------------------------------------------------------------- */

START_TEST(test_graph_order) {
    dc_context *ctx = new_ctx(1 << 22, true);
    dc_tensor *x = dc_new_tensor_2d(ctx, DC_TYPE_F32, 16, 2);
    dc_tensor *w = dc_new_tensor_2d(ctx, DC_TYPE_F32, 16, 16);
    dc_tensor *h = dc_rms_norm(ctx, x, 1e-6f);
    dc_tensor *a = dc_mul_mat(ctx, w, h);
    dc_tensor *b = dc_mul_mat(ctx, w, h);      /* h shared by two users */
    dc_tensor *y = dc_add(ctx, dc_silu(ctx, a), b);
    dc_graph *g = NULL;
    ck_assert_int_eq(dc_graph_build(ctx, &y, 1, &g), DC_OK);
    ck_assert_int_eq(dc_graph_n_nodes(g), 5);
    ck_assert_ptr_eq(dc_graph_node(g, -1), y);
    /* each node once, and every source that is a node comes before its user */
    for (int i = 0; i < dc_graph_n_nodes(g); i++) {
        dc_tensor *n = dc_graph_node(g, i);
        for (int j = i + 1; j < dc_graph_n_nodes(g); j++) ck_assert(dc_graph_node(g, j) != n);
        for (int s = 0; s < DC_MAX_SRC; s++) {
            if (!n->src[s] || n->src[s]->op == DC_OP_NONE) continue;
            int found = -1;
            for (int j = 0; j < dc_graph_n_nodes(g); j++)
                if (dc_graph_node(g, j) == n->src[s]) found = j;
            ck_assert_int_ge(found, 0);
            ck_assert_int_lt(found, i);
        }
    }
    ck_assert_int_eq(g->n_leafs, 2);
    int pos_h = -1, pos_a = -1, pos_y = -1;
    for (int i = 0; i < dc_graph_n_nodes(g); i++) {
        if (dc_graph_node(g, i) == h) pos_h = i;
        if (dc_graph_node(g, i) == a) pos_a = i;
        if (dc_graph_node(g, i) == y) pos_y = i;
    }
    ck_assert(pos_h >= 0 && pos_h < pos_a && pos_a < pos_y);
    dc_context_free(ctx);
}
END_TEST

START_TEST(test_graph_deep_chain) {
    /* 100k nodes in a chain: no recursion, no fixed capacity */
    dc_context *ctx = new_ctx((size_t)64 << 20, true);
    dc_tensor *t = dc_new_tensor_1d(ctx, DC_TYPE_F32, 4);
    for (int i = 0; i < 100000; i++) t = dc_scale(ctx, t, 1.0f);
    ck_assert_ptr_nonnull(t);
    dc_graph *g = NULL;
    ck_assert_int_eq(dc_graph_build(ctx, &t, 1, &g), DC_OK);
    ck_assert_int_eq(dc_graph_n_nodes(g), 100000);
    dc_context_free(ctx);
}
END_TEST

START_TEST(test_graph_alloc_failure) {
    size_t base = dc_alloc_bytes_in_use();
    for (long n = 0;; n++) {
        dc_context *ctx = new_ctx(1 << 22, true);
        dc_tensor *t = dc_new_tensor_1d(ctx, DC_TYPE_F32, 4);
        for (int i = 0; i < 3000; i++) t = dc_scale(ctx, t, 1.0f);
        dc_alloc_fail_after(n);
        dc_graph *g = NULL;
        dc_status st = dc_graph_build(ctx, &t, 1, &g);
        dc_alloc_fail_after(-1);
        if (st == DC_OK) {
            ck_assert_int_eq(dc_graph_n_nodes(g), 3000);
            /* rebuilding in the same context allocates nothing: even with every
             * allocation failing it succeeds */
            dc_alloc_fail_after(0);
            st = dc_graph_build(ctx, &t, 1, &g);
            dc_alloc_fail_after(-1);
            ck_assert_int_eq(st, DC_OK);
            dc_context_free(ctx);
            ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
            break;
        }
        ck_assert_int_eq(st, DC_ERR_NOMEM);
        ck_assert_ptr_null(g);
        dc_context_free(ctx);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
        ck_assert_int_lt(n, 100);
    }
}
END_TEST

START_TEST(test_status_strings) {
    ck_assert_str_eq(dc_status_str(DC_ERR_FORMAT), "DC_ERR_FORMAT");
    ck_assert_str_eq(dc_status_str(DC_OK), "DC_OK");
    ck_assert_str_eq(dc_status_str((dc_status)-999), "DC_ERR_UNKNOWN");
    ck_assert_ptr_nonnull(strstr(dc_system_info(), "CPU kernels"));
    ck_assert_str_eq(dc_version(), "0.1.0");
}
END_TEST

static Suite *tensor_suite(void) {
    Suite *s = suite_create("tensor");
    TCase *tc = tcase_create("context");
    tcase_add_test(tc, test_new_tensor_strides);
    tcase_add_test(tc, test_new_tensor_errors);
    tcase_add_test(tc, test_context_full);
    tcase_add_test(tc, test_context_alloc_failure);
    tcase_add_test(tc, test_status_strings);
    suite_add_tcase(s, tc);
    tc = tcase_create("views");
    tcase_add_test(tc, test_views);
    suite_add_tcase(s, tc);
    tc = tcase_create("builders");
    tcase_add_test(tc, test_builder_shapes);
    tcase_add_test(tc, test_builder_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("graph");
    tcase_add_test(tc, test_graph_order);
    tcase_add_test(tc, test_graph_deep_chain);
    tcase_add_test(tc, test_graph_alloc_failure);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(tensor_suite)
