/*
 * simple.c - the smallest deepc program: build a graph
 * softmax(W . rms_norm(x)) for a 4-token batch, run it on the CPU backend and
 * print each token's distribution. Only the public API (deepc.h) is used.
 */
#include <deepc.h>

#include <stdio.h>

#define CHECK(call)                                                              \
    do {                                                                         \
        dc_status st_ = (call);                                                  \
        if (st_ != DC_OK) {                                                      \
            fprintf(stderr, "simple: %s: %s\n", dc_status_str(st_), dc_last_error()); \
            return 1;                                                            \
        }                                                                        \
    } while (0)

int main(void) {
    enum { D = 8, V = 5, T = 4 };       /* hidden size, outputs, tokens */
    dc_context_params cp = dc_context_default_params();
    dc_context *ctx = NULL;
    CHECK(dc_context_init(&cp, &ctx));

    dc_tensor *x = dc_new_tensor_2d(ctx, DC_TYPE_F32, D, T);   /* [D, T] */
    dc_tensor *w = dc_new_tensor_2d(ctx, DC_TYPE_F32, D, V);   /* [D, V] */
    float *xd = dc_tensor_data(x), *wd = dc_tensor_data(w);
    for (int i = 0; i < D * T; i++) xd[i] = (float)((i * 7) % 11) - 5.0f;
    for (int i = 0; i < D * V; i++) wd[i] = (float)((i * 5) % 13) / 13.0f - 0.5f;

    dc_tensor *y = dc_softmax(ctx, dc_mul_mat(ctx, w, dc_rms_norm(ctx, x, 1e-6f)), NULL, 1.0f);
    dc_graph *g = NULL;
    CHECK(dc_graph_build(ctx, &y, 1, &g));           /* fails if a builder did */

    dc_backend *cpu = NULL;
    CHECK(dc_backend_cpu_init(NULL, &cpu));          /* default: physical cores */
    CHECK(dc_backend_graph_compute(cpu, g));

    const float *p = dc_tensor_data(y);               /* [V, T] */
    printf("%s\n", dc_system_info());
    for (int t = 0; t < T; t++) {
        printf("token %d:", t);
        for (int v = 0; v < V; v++) printf(" %.4f", p[t * V + v]);
        printf("\n");
    }
    dc_backend_free(cpu);
    dc_context_free(ctx);
    return 0;
}
