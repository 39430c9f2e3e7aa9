/*
 * graph_common.c - graph pieces every architecture uses: RMSNorm with its
 * weight, the SwiGLU FFN down(silu(gate x) * up x), and the output head
 * (select the rows whose logits are wanted, final norm, vocabulary matmul).
 */
#include "model_impl.h"

dc_tensor *dc_build_norm(dc_build *b, dc_tensor *x, dc_tensor *w) {
    return dc_mul(b->ctx, dc_rms_norm(b->ctx, x, b->m->hp.rms_eps), w);
}

dc_tensor *dc_build_ffn(dc_build *b, dc_tensor *x, dc_tensor *gate, dc_tensor *up,
                        dc_tensor *down) {
    dc_context *ctx = b->ctx;
    dc_tensor *g = dc_mul_mat(ctx, gate, x);     /* [n_ff, T] */
    dc_tensor *u = dc_mul_mat(ctx, up, x);       /* [n_ff, T] */
    return dc_mul_mat(ctx, down, dc_swiglu(ctx, g, u));
}

dc_tensor *dc_build_output(dc_build *b, dc_tensor *x) {
    dc_context *ctx = b->ctx;
    if (b->n_out < b->n_tok) x = dc_get_rows(ctx, x, b->in.out_ids);   /* [n_embd, n_out] */
    x = dc_build_norm(b, x, b->m->output_norm);
    return dc_mul_mat(ctx, b->m->output, x);                           /* [n_vocab, n_out] */
}
