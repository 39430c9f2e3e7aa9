/*
 * ops.c - the CPU backend's op table: which ops and types it runs, how much
 * scratch each needs, and the switch that sends a node to its family's code
 * (ops_<family>.c).
 */
#include "cpu_impl.h"

static bool is_view_free(dc_op op) { return op == DC_OP_NONE || op == DC_OP_VIEW; }

bool dc_cpu_supports(const dc_tensor *n) {
    if (is_view_free(n->op)) return true;
    const dc_cpu_kernels *k = dc_cpu_get_kernels();
    switch (n->op) {
    case DC_OP_MUL_MAT:
    case DC_OP_MOE_MUL_MAT: {
        const dc_type_traits *tr = dc_get_type_traits(n->src[0]->type);
        int ws = dc_type_slot(n->src[0]->type), as = dc_type_slot(tr->vec_dot_type);
        return ws >= 0 && as >= 0 && k->vec_dot[ws] && k->quantize_act[as];
    }
    default:
        return n->op > DC_OP_VIEW && n->op < DC_OP_COUNT;
    }
}

size_t dc_cpu_work_size(const dc_tensor *n, int nth) {
    switch (n->op) {
    case DC_OP_MUL_MAT:     return dc_cpu_mul_mat_work_size(n, nth);
    case DC_OP_MOE_MUL_MAT: return dc_cpu_moe_mul_mat_work_size(n, nth);
    case DC_OP_FLASH_ATTN:  return dc_cpu_flash_attn_work_size(n, nth);
    case DC_OP_MOE_SELECT:  return dc_cpu_moe_select_work_size(n, nth);
    case DC_OP_CONT:
    case DC_OP_CPY:
    case DC_OP_GET_ROWS:    return dc_cpu_copy_work_size(n, nth);
    default:                return 0;
    }
}

void dc_cpu_compute(const dc_cpu_task *p, dc_tensor *n) {
    switch (n->op) {
    case DC_OP_CONT:        dc_cpu_op_cont(p, n); break;
    case DC_OP_CPY:         dc_cpu_op_cpy(p, n); break;
    case DC_OP_GET_ROWS:    dc_cpu_op_get_rows(p, n); break;
    case DC_OP_CONCAT:      dc_cpu_op_concat(p, n); break;
    case DC_OP_MUL_MAT:     dc_cpu_op_mul_mat(p, n); break;
    case DC_OP_MOE_MUL_MAT: dc_cpu_op_moe_mul_mat(p, n); break;
    case DC_OP_ADD:
    case DC_OP_MUL:
    case DC_OP_DIV:         dc_cpu_op_binary(p, n); break;
    case DC_OP_SCALE:
    case DC_OP_SILU:
    case DC_OP_SIGMOID:     dc_cpu_op_unary(p, n); break;
    case DC_OP_SWIGLU:      dc_cpu_op_swiglu(p, n); break;
    case DC_OP_SUM_ROWS:    dc_cpu_op_sum_rows(p, n); break;
    case DC_OP_RMS_NORM:    dc_cpu_op_rms_norm(p, n); break;
    case DC_OP_ROPE:        dc_cpu_op_rope(p, n); break;
    case DC_OP_SOFTMAX:     dc_cpu_op_softmax(p, n); break;
    case DC_OP_ARGSORT:     dc_cpu_op_argsort(p, n); break;
    case DC_OP_TOP_K:       dc_cpu_op_top_k(p, n); break;
    case DC_OP_FLASH_ATTN:  dc_cpu_op_flash_attn(p, n); break;
    case DC_OP_MOE_SELECT:  dc_cpu_op_moe_select(p, n); break;
    case DC_OP_NONE:
    case DC_OP_VIEW:
    case DC_OP_COUNT:       break;
    }
}
