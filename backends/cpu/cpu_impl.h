/*
 * cpu_impl.h - what the CPU backend's op files share.
 *
 * The CPU backend runs a graph in one OpenMP parallel region: every thread
 * walks every node, takes its share of rows by (ith, nth), and meets the
 * others at a barrier after each node. An op that needs an internal phase
 * (quantize the activations, then dot) calls dc_cpu_barrier() between phases;
 * every thread reaches every barrier, so this is safe. Ops get a shared
 * scratch area (wdata) sized before the region starts by dc_cpu_work_size();
 * nothing is allocated inside the region. Errors found while computing (an id
 * out of range) are reported with dc_cpu_fail() and stop the graph.
 */
#ifndef DEEPC_CPU_IMPL_H
#define DEEPC_CPU_IMPL_H

#include "../../lib/backend/backend_impl.h"
#include "kernels/kernels.h"

typedef struct dc_cpu_error {
    dc_status status;       /* first failure, DC_OK if none */
    char      msg[512];
} dc_cpu_error;

typedef struct dc_cpu_task {
    int                   ith, nth;  /* this thread, thread count      */
    void                 *wdata;     /* shared scratch [wsize] bytes   */
    size_t                wsize;
    const dc_cpu_kernels *k;         /* dispatched kernels             */
    dc_cpu_error         *err;
} dc_cpu_task;

/* Rows [*r0, *r1) of n for this thread (contiguous chunks). */
static inline void dc_cpu_split(const dc_cpu_task *p, int64_t n, int64_t *r0, int64_t *r1) {
    int64_t per = (n + p->nth - 1) / p->nth;
    *r0 = per * p->ith < n ? per * p->ith : n;
    *r1 = *r0 + per < n ? *r0 + per : n;
}

/* Record the first compute error (thread-safe); the graph stops after the
 * current node. */
void dc_cpu_fail(const dc_cpu_task *p, dc_status st, const char *fmt, ...) DC_PRINTF(3, 4);

/* All threads of the region wait here. */
void dc_cpu_barrier(void);

/* Scratch bytes node needs with n_threads threads (0 if none). */
size_t dc_cpu_work_size(const dc_tensor *node, int n_threads);
/* Whether the CPU backend implements node (op and types). */
bool   dc_cpu_supports(const dc_tensor *node);
/* Compute node's share for thread p->ith. */
void   dc_cpu_compute(const dc_cpu_task *p, dc_tensor *node);

/* ---- op families (ops_<family>.c) ------------------------------------------- */
/* each: compute this thread's share of dst = op(dst->src...) */
void dc_cpu_op_cont(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_cpy(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_get_rows(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_concat(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_mul_mat(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_moe_mul_mat(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_binary(const dc_cpu_task *p, dc_tensor *dst);   /* add, mul, div */
void dc_cpu_op_unary(const dc_cpu_task *p, dc_tensor *dst);    /* scale, silu, sigmoid */
void dc_cpu_op_swiglu(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_sum_rows(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_rms_norm(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_rope(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_softmax(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_argsort(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_top_k(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_flash_attn(const dc_cpu_task *p, dc_tensor *dst);
void dc_cpu_op_moe_select(const dc_cpu_task *p, dc_tensor *dst);

/* scratch needs of the families that have any */
size_t dc_cpu_mul_mat_work_size(const dc_tensor *dst, int n_threads);
size_t dc_cpu_moe_mul_mat_work_size(const dc_tensor *dst, int n_threads);
size_t dc_cpu_flash_attn_work_size(const dc_tensor *dst, int n_threads);
size_t dc_cpu_copy_work_size(const dc_tensor *dst, int n_threads);
size_t dc_cpu_moe_select_work_size(const dc_tensor *dst, int n_threads);

#endif /* DEEPC_CPU_IMPL_H */
