/*
 * ops.c - op builders: check shapes and types, return a new graph node.
 *
 * A builder computes nothing. It validates its inputs (a NULL input means an
 * earlier builder failed: return NULL quietly), records a clear error in the
 * context on a mismatch ("mul_mat: a [256, 512] and b [128, 7] disagree in
 * ne0"), and otherwise returns a fresh tensor whose op, typed params and srcs
 * describe the computation. Shape semantics follow ggml, spelled out on each
 * declaration in include/deepc/tensor.h.
 */
#include "tensor_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHAPE_FMT "[%lld, %lld, %lld, %lld]"
#define SHAPE_ARGS(t) (long long)(t)->ne[0], (long long)(t)->ne[1], \
                      (long long)(t)->ne[2], (long long)(t)->ne[3]

static int max_dims(const dc_tensor *a, const dc_tensor *b) {
    int n = a->n_dims;
    if (b && b->n_dims > n) n = b->n_dims;
    return n;
}

/* A node of op over srcs with result type and shape; data comes from the arena
 * when the context allocates. */
static dc_tensor *new_node(dc_context *ctx, dc_op op, dc_type type, const int64_t ne[4],
                           int n_dims, dc_tensor *s0, dc_tensor *s1, dc_tensor *s2,
                           dc_tensor *s3) {
    dc_tensor *t = dc_tensor_new_impl(ctx, type, ne, n_dims, true);
    if (!t) return NULL;
    t->op = op;
    t->src[0] = s0;
    t->src[1] = s1;
    t->src[2] = s2;
    t->src[3] = s3;
    snprintf(t->name, sizeof t->name, "%s", dc_op_name(op));
    return t;
}

static bool is_float(const dc_tensor *t) { return t->type == DC_TYPE_F32; }

static bool require_f32(dc_context *ctx, const char *op, const dc_tensor *t, const char *what) {
    if (is_float(t)) return true;
    dc_context_fail(ctx, DC_ERR_TYPE, "%s: %s %s must be F32, is %s", op, what, t->name,
                    dc_type_name(t->type));
    return false;
}

static bool require_i32(dc_context *ctx, const char *op, const dc_tensor *t, const char *what) {
    if (t->type == DC_TYPE_I32) return true;
    dc_context_fail(ctx, DC_ERR_TYPE, "%s: %s %s must be I32, is %s", op, what, t->name,
                    dc_type_name(t->type));
    return false;
}

/* true if b can be broadcast over a (every dim of b divides a's) */
static bool can_repeat(const dc_tensor *b, const dc_tensor *a) {
    for (int i = 0; i < 4; i++)
        if (b->ne[i] == 0 || a->ne[i] % b->ne[i] != 0) return false;
    return true;
}

static const char *const op_names[DC_OP_COUNT] = {
    [DC_OP_NONE] = "none",         [DC_OP_VIEW] = "view",
    [DC_OP_CONT] = "cont",         [DC_OP_CPY] = "cpy",
    [DC_OP_GET_ROWS] = "get_rows", [DC_OP_MUL_MAT] = "mul_mat",
    [DC_OP_MOE_MUL_MAT] = "moe_mul_mat",
    [DC_OP_ADD] = "add",           [DC_OP_MUL] = "mul",
    [DC_OP_DIV] = "div",           [DC_OP_SCALE] = "scale",
    [DC_OP_SILU] = "silu",         [DC_OP_SIGMOID] = "sigmoid",
    [DC_OP_SWIGLU] = "swiglu",     [DC_OP_SUM_ROWS] = "sum_rows",
    [DC_OP_RMS_NORM] = "rms_norm", [DC_OP_ROPE] = "rope",
    [DC_OP_SOFTMAX] = "softmax",   [DC_OP_ARGSORT] = "argsort",
    [DC_OP_TOP_K] = "top_k",       [DC_OP_CONCAT] = "concat",
    [DC_OP_FLASH_ATTN] = "flash_attn", [DC_OP_MOE_SELECT] = "moe_select",
};

const char *dc_op_name(dc_op op) {
    return op >= 0 && op < DC_OP_COUNT && op_names[op] ? op_names[op] : "?";
}

/* ---- copies ------------------------------------------------------------------- */

dc_tensor *dc_cont(dc_context *ctx, dc_tensor *a) {
    if (!a) return NULL;
    if (!dc_get_type_traits(a->type)->to_float) {
        dc_context_fail(ctx, DC_ERR_TYPE, "cont: %s has type %s with no float conversion",
                        a->name, dc_type_name(a->type));
        return NULL;
    }
    return new_node(ctx, DC_OP_CONT, DC_TYPE_F32, a->ne, a->n_dims, a, NULL, NULL, NULL);
}

dc_tensor *dc_cpy(dc_context *ctx, dc_tensor *a, dc_tensor *dst) {
    if (!a || !dst) return NULL;
    if (dc_tensor_nelements(a) != dc_tensor_nelements(dst) || a->ne[0] != dst->ne[0]) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "cpy: %s " SHAPE_FMT " into %s " SHAPE_FMT,
                        a->name, SHAPE_ARGS(a), dst->name, SHAPE_ARGS(dst));
        return NULL;
    }
    if (!require_f32(ctx, "cpy", a, "source")) return NULL;
    const dc_type_traits *tr = dc_get_type_traits(dst->type);
    if (!tr->from_float || !dc_rows_contiguous(dst)) {
        dc_context_fail(ctx, DC_ERR_TYPE, "cpy: cannot write %s into %s (%s%s)", a->name,
                        dst->name, dc_type_name(dst->type),
                        tr->from_float ? ", rows not contiguous" : " has no converter");
        return NULL;
    }
    /* the result is a view of dst that carries the write */
    dc_tensor *t = dc_view_4d(ctx, dst, dst->ne[0], dst->ne[1], dst->ne[2], dst->ne[3],
                              dst->nb[1], dst->nb[2], dst->nb[3], 0);
    if (!t) return NULL;
    t->op = DC_OP_CPY;
    t->src[0] = a;
    t->src[1] = dst;
    snprintf(t->name, sizeof t->name, "cpy");
    return t;
}

/* ---- indexing and matmul -------------------------------------------------------- */

dc_tensor *dc_get_rows(dc_context *ctx, dc_tensor *a, dc_tensor *ids) {
    if (!a || !ids) return NULL;
    if (!require_i32(ctx, "get_rows", ids, "ids")) return NULL;
    if (ids->ne[2] != 1 || ids->ne[3] != 1 || a->ne[3] != 1 || ids->ne[1] != a->ne[2]) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "get_rows: a %s " SHAPE_FMT " ids " SHAPE_FMT
                        " (want ids [n, a.ne2])", a->name, SHAPE_ARGS(a), SHAPE_ARGS(ids));
        return NULL;
    }
    if (!dc_get_type_traits(a->type)->to_float) {
        dc_context_fail(ctx, DC_ERR_TYPE, "get_rows: %s type %s has no float conversion",
                        a->name, dc_type_name(a->type));
        return NULL;
    }
    int64_t ne[4] = { a->ne[0], ids->ne[0], a->ne[2], 1 };
    return new_node(ctx, DC_OP_GET_ROWS, DC_TYPE_F32, ne, a->n_dims > 2 ? 3 : 2, a, ids, NULL, NULL);
}

static bool check_weight(dc_context *ctx, const char *op, const dc_tensor *a) {
    const dc_type_traits *tr = dc_get_type_traits(a->type);
    /* activation-only formats have no dot kernel as a weight */
    if (tr->to_float && a->type != DC_TYPE_Q8_K && a->type != DC_TYPE_Q8_1) return true;
    dc_context_fail(ctx, DC_ERR_TYPE, "%s: weight %s has type %s, not a weight type", op,
                    a->name, dc_type_name(a->type));
    return false;
}

dc_tensor *dc_mul_mat(dc_context *ctx, dc_tensor *a, dc_tensor *b) {
    if (!a || !b) return NULL;
    if (!check_weight(ctx, "mul_mat", a) || !require_f32(ctx, "mul_mat", b, "b")) return NULL;
    if (a->ne[0] != b->ne[0] || a->ne[2] == 0 || a->ne[3] == 0 || b->ne[2] % a->ne[2] != 0 ||
        b->ne[3] % a->ne[3] != 0) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "mul_mat: a %s " SHAPE_FMT " and b %s " SHAPE_FMT
                        " do not fit (want equal ne0, a broadcast over b)",
                        a->name, SHAPE_ARGS(a), b->name, SHAPE_ARGS(b));
        return NULL;
    }
    if (!dc_rows_contiguous(a) || !dc_rows_contiguous(b)) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "mul_mat: rows of %s and %s must be contiguous",
                        a->name, b->name);
        return NULL;
    }
    int64_t ne[4] = { a->ne[1], b->ne[1], b->ne[2], b->ne[3] };
    return new_node(ctx, DC_OP_MUL_MAT, DC_TYPE_F32, ne, max_dims(a, b), a, b, NULL, NULL);
}

dc_tensor *dc_moe_mul_mat(dc_context *ctx, dc_tensor *as, dc_tensor *b, dc_tensor *ids) {
    if (!as || !b || !ids) return NULL;
    if (!check_weight(ctx, "moe_mul_mat", as) || !require_f32(ctx, "moe_mul_mat", b, "b") ||
        !require_i32(ctx, "moe_mul_mat", ids, "ids"))
        return NULL;
    int64_t n_used = ids->ne[0], n_tok = ids->ne[1];
    if (as->ne[0] != b->ne[0] || as->ne[3] != 1 || b->ne[2] != n_tok || b->ne[3] != 1 ||
        (b->ne[1] != 1 && b->ne[1] != n_used) || ids->ne[2] != 1 || ids->ne[3] != 1) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "moe_mul_mat: as %s " SHAPE_FMT ", b %s " SHAPE_FMT
                        ", ids " SHAPE_FMT " do not fit (want as [K, M, E], b [K, 1 or n_used, N],"
                        " ids [n_used, N])", as->name, SHAPE_ARGS(as), b->name, SHAPE_ARGS(b),
                        SHAPE_ARGS(ids));
        return NULL;
    }
    if (!dc_rows_contiguous(as) || !dc_rows_contiguous(b)) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "moe_mul_mat: rows of %s and %s must be contiguous",
                        as->name, b->name);
        return NULL;
    }
    int64_t ne[4] = { as->ne[1], n_used, n_tok, 1 };
    return new_node(ctx, DC_OP_MOE_MUL_MAT, DC_TYPE_F32, ne, 3, as, b, ids, NULL);
}

/* ---- elementwise ------------------------------------------------------------------ */

static dc_tensor *binary(dc_context *ctx, dc_op op, dc_tensor *a, dc_tensor *b) {
    if (!a || !b) return NULL;
    if (!require_f32(ctx, dc_op_name(op), a, "a") || !require_f32(ctx, dc_op_name(op), b, "b"))
        return NULL;
    if (!can_repeat(b, a)) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "%s: b %s " SHAPE_FMT " does not broadcast over a %s "
                        SHAPE_FMT, dc_op_name(op), b->name, SHAPE_ARGS(b), a->name, SHAPE_ARGS(a));
        return NULL;
    }
    return new_node(ctx, op, DC_TYPE_F32, a->ne, max_dims(a, b), a, b, NULL, NULL);
}

dc_tensor *dc_add(dc_context *ctx, dc_tensor *a, dc_tensor *b) { return binary(ctx, DC_OP_ADD, a, b); }
dc_tensor *dc_mul(dc_context *ctx, dc_tensor *a, dc_tensor *b) { return binary(ctx, DC_OP_MUL, a, b); }
dc_tensor *dc_div(dc_context *ctx, dc_tensor *a, dc_tensor *b) { return binary(ctx, DC_OP_DIV, a, b); }

static dc_tensor *unary(dc_context *ctx, dc_op op, dc_tensor *a) {
    if (!a) return NULL;
    if (!require_f32(ctx, dc_op_name(op), a, "a")) return NULL;
    return new_node(ctx, op, DC_TYPE_F32, a->ne, a->n_dims, a, NULL, NULL, NULL);
}

dc_tensor *dc_scale(dc_context *ctx, dc_tensor *a, float s) {
    dc_tensor *t = unary(ctx, DC_OP_SCALE, a);
    if (t) t->params.scale.s = s;
    return t;
}
dc_tensor *dc_silu(dc_context *ctx, dc_tensor *a) { return unary(ctx, DC_OP_SILU, a); }
dc_tensor *dc_sigmoid(dc_context *ctx, dc_tensor *a) { return unary(ctx, DC_OP_SIGMOID, a); }

dc_tensor *dc_swiglu(dc_context *ctx, dc_tensor *gate, dc_tensor *up) {
    if (!gate || !up) return NULL;
    if (!require_f32(ctx, "swiglu", gate, "gate") || !require_f32(ctx, "swiglu", up, "up"))
        return NULL;
    if (!dc_same_shape(gate, up)) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "swiglu: gate " SHAPE_FMT " and up " SHAPE_FMT
                        " differ", SHAPE_ARGS(gate), SHAPE_ARGS(up));
        return NULL;
    }
    return new_node(ctx, DC_OP_SWIGLU, DC_TYPE_F32, gate->ne, max_dims(gate, up), gate, up,
                    NULL, NULL);
}

dc_tensor *dc_sum_rows(dc_context *ctx, dc_tensor *a) {
    if (!a) return NULL;
    if (!require_f32(ctx, "sum_rows", a, "a")) return NULL;
    int64_t ne[4] = { 1, a->ne[1], a->ne[2], a->ne[3] };
    return new_node(ctx, DC_OP_SUM_ROWS, DC_TYPE_F32, ne, a->n_dims, a, NULL, NULL, NULL);
}

dc_tensor *dc_rms_norm(dc_context *ctx, dc_tensor *a, float eps) {
    if (a && !(eps >= 0.0f)) {
        dc_context_fail(ctx, DC_ERR_INVALID_ARG, "rms_norm: eps %g must be >= 0", (double)eps);
        return NULL;
    }
    dc_tensor *t = unary(ctx, DC_OP_RMS_NORM, a);
    if (t) t->params.rms_norm.eps = eps;
    return t;
}

/* ---- rope --------------------------------------------------------------------------- */

dc_rope_params dc_rope_default_params(int n_rot, dc_rope_mode mode) {
    return (dc_rope_params){
        .n_rot = n_rot, .mode = mode, .freq_base = 10000.0f, .freq_scale = 1.0f,
        .ext_factor = 0.0f, .attn_factor = 1.0f, .beta_fast = 32.0f, .beta_slow = 1.0f,
        .n_ctx_orig = 0,
    };
}

dc_tensor *dc_rope(dc_context *ctx, dc_tensor *a, dc_tensor *pos, dc_tensor *freq_factors,
                   const dc_rope_params *p) {
    if (!a || !pos || !p) {
        if (a && pos && !p) dc_context_fail(ctx, DC_ERR_INVALID_ARG, "rope: params is NULL");
        return NULL;
    }
    if (!require_f32(ctx, "rope", a, "a") || !require_i32(ctx, "rope", pos, "pos")) return NULL;
    if (p->n_rot <= 0 || p->n_rot % 2 || p->n_rot > a->ne[0] ||
        (p->mode != DC_ROPE_NORM && p->mode != DC_ROPE_NEOX) || !(p->freq_base > 0) ||
        !(p->freq_scale > 0)) {
        dc_context_fail(ctx, DC_ERR_INVALID_ARG, "rope: n_rot %d, mode %d, base %g, scale %g "
                        "invalid for %s of ne0 %lld", p->n_rot, (int)p->mode, (double)p->freq_base,
                        (double)p->freq_scale, a->name, (long long)a->ne[0]);
        return NULL;
    }
    if (pos->ne[0] != a->ne[2] || dc_tensor_nelements(pos) != pos->ne[0] || a->ne[3] != 1) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "rope: a " SHAPE_FMT " needs pos [%lld], got " SHAPE_FMT,
                        SHAPE_ARGS(a), (long long)a->ne[2], SHAPE_ARGS(pos));
        return NULL;
    }
    if (freq_factors && (!require_f32(ctx, "rope", freq_factors, "freq_factors") ||
                         freq_factors->ne[0] < p->n_rot / 2)) {
        if (freq_factors->type == DC_TYPE_F32)
            dc_context_fail(ctx, DC_ERR_SHAPE, "rope: freq_factors has %lld values, need %d",
                            (long long)freq_factors->ne[0], p->n_rot / 2);
        return NULL;
    }
    dc_tensor *t = new_node(ctx, DC_OP_ROPE, DC_TYPE_F32, a->ne, a->n_dims, a, pos, freq_factors,
                            NULL);
    if (t) t->params.rope = *p;
    return t;
}

/* ---- softmax, sorting, concat ---------------------------------------------------------- */

dc_tensor *dc_softmax(dc_context *ctx, dc_tensor *a, dc_tensor *mask, float scale) {
    if (!a) return NULL;
    if (!require_f32(ctx, "softmax", a, "a")) return NULL;
    if (mask && (!require_f32(ctx, "softmax", mask, "mask") || mask->ne[0] != a->ne[0] ||
                 mask->ne[1] < a->ne[1] || mask->ne[2] != 1 || mask->ne[3] != 1)) {
        if (mask->type == DC_TYPE_F32)
            dc_context_fail(ctx, DC_ERR_SHAPE, "softmax: mask " SHAPE_FMT " does not cover a "
                            SHAPE_FMT, SHAPE_ARGS(mask), SHAPE_ARGS(a));
        return NULL;
    }
    dc_tensor *t = new_node(ctx, DC_OP_SOFTMAX, DC_TYPE_F32, a->ne, a->n_dims, a, mask, NULL, NULL);
    if (t) t->params.softmax.scale = scale;
    return t;
}

dc_tensor *dc_argsort(dc_context *ctx, dc_tensor *a, dc_sort_order order) {
    if (!a) return NULL;
    if (!require_f32(ctx, "argsort", a, "a")) return NULL;
    dc_tensor *t = new_node(ctx, DC_OP_ARGSORT, DC_TYPE_I32, a->ne, a->n_dims, a, NULL, NULL, NULL);
    if (t) t->params.argsort.order = order;
    return t;
}

dc_tensor *dc_top_k(dc_context *ctx, dc_tensor *a, int k) {
    if (!a) return NULL;
    if (!require_f32(ctx, "top_k", a, "a")) return NULL;
    if (k < 1 || k > a->ne[0]) {
        dc_context_fail(ctx, DC_ERR_INVALID_ARG, "top_k: k = %d for rows of %lld", k,
                        (long long)a->ne[0]);
        return NULL;
    }
    int64_t ne[4] = { k, a->ne[1], a->ne[2], a->ne[3] };
    dc_tensor *t = new_node(ctx, DC_OP_TOP_K, DC_TYPE_I32, ne, a->n_dims, a, NULL, NULL, NULL);
    if (t) t->params.top_k.k = k;
    return t;
}

dc_tensor *dc_concat(dc_context *ctx, dc_tensor *a, dc_tensor *b, int dim) {
    if (!a || !b) return NULL;
    if (!require_f32(ctx, "concat", a, "a") || !require_f32(ctx, "concat", b, "b")) return NULL;
    bool ok = dim >= 0 && dim < 4;
    for (int i = 0; ok && i < 4; i++) ok = i == dim || a->ne[i] == b->ne[i];
    if (!ok) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "concat: a " SHAPE_FMT " and b " SHAPE_FMT
                        " along dim %d", SHAPE_ARGS(a), SHAPE_ARGS(b), dim);
        return NULL;
    }
    int64_t ne[4] = { a->ne[0], a->ne[1], a->ne[2], a->ne[3] };
    ne[dim] += b->ne[dim];
    int nd = max_dims(a, b);
    if (dim + 1 > nd) nd = dim + 1;
    dc_tensor *t = new_node(ctx, DC_OP_CONCAT, DC_TYPE_F32, ne, nd, a, b, NULL, NULL);
    if (t) t->params.concat.dim = dim;
    return t;
}

/* ---- attention ---------------------------------------------------------------------------- */

static bool kv_type_ok(dc_type t) {
    return t == DC_TYPE_F32 || t == DC_TYPE_F16 || t == DC_TYPE_BF16 || t == DC_TYPE_Q8_0 ||
           t == DC_TYPE_F8_E4M3_B128;
}

dc_tensor *dc_flash_attn(dc_context *ctx, dc_tensor *q, dc_tensor *k, dc_tensor *v,
                         dc_tensor *mask, float scale) {
    if (!q || !k || !v) return NULL;
    if (!require_f32(ctx, "flash_attn", q, "q")) return NULL;
    if (!kv_type_ok(k->type) || !kv_type_ok(v->type)) {
        dc_context_fail(ctx, DC_ERR_TYPE, "flash_attn: k %s / v %s types %s / %s not supported",
                        k->name, v->name, dc_type_name(k->type), dc_type_name(v->type));
        return NULL;
    }
    int64_t n_q = q->ne[1], H = q->ne[2], n_kv = k->ne[1], Hkv = k->ne[2];
    bool ok = q->ne[0] == k->ne[0] && v->ne[1] == n_kv && v->ne[2] == Hkv && Hkv > 0 &&
              H % Hkv == 0 && k->ne[3] == q->ne[3] && v->ne[3] == q->ne[3] &&
              dc_rows_contiguous(k) && dc_rows_contiguous(v);
    if (ok && mask)
        ok = mask->type == DC_TYPE_F32 && mask->ne[0] == n_kv && mask->ne[1] >= n_q &&
             mask->ne[2] == 1 && mask->ne[3] == 1;
    if (!ok) {
        dc_context_fail(ctx, DC_ERR_SHAPE, "flash_attn: q " SHAPE_FMT ", k " SHAPE_FMT ", v "
                        SHAPE_FMT "%s do not fit", SHAPE_ARGS(q), SHAPE_ARGS(k), SHAPE_ARGS(v),
                        mask ? " and mask" : "");
        return NULL;
    }
    int64_t ne[4] = { v->ne[0], H, n_q, q->ne[3] };
    dc_tensor *t = new_node(ctx, DC_OP_FLASH_ATTN, DC_TYPE_F32, ne, 4, q, k, v, mask);
    if (t) t->params.flash_attn.scale = scale;
    return t;
}

/* ---- MoE routing ------------------------------------------------------------------------------ */

dc_tensor *dc_moe_select(dc_context *ctx, dc_tensor *scores, dc_tensor *bias, int k, int n_group,
                         int n_group_used, dc_moe_group_rule rule) {
    if (!scores) return NULL;
    if (!require_f32(ctx, "moe_select", scores, "scores")) return NULL;
    int64_t n_expert = scores->ne[0];
    if (bias && (!require_f32(ctx, "moe_select", bias, "bias") ||
                 dc_tensor_nelements(bias) != n_expert)) {
        if (bias->type == DC_TYPE_F32)
            dc_context_fail(ctx, DC_ERR_SHAPE, "moe_select: bias has %lld values for %lld experts",
                            (long long)dc_tensor_nelements(bias), (long long)n_expert);
        return NULL;
    }
    bool groups_ok = n_group >= 1 && n_expert % n_group == 0 && n_group_used >= 1 &&
                     n_group_used <= n_group &&
                     (int64_t)n_group_used * (n_expert / n_group) >= k &&
                     (n_group == 1 || n_expert / n_group >= 2 || rule == DC_MOE_GROUP_MAX);
    if (k < 1 || k > n_expert || !groups_ok || scores->ne[2] != 1 || scores->ne[3] != 1 ||
        (rule != DC_MOE_GROUP_TOP2_SUM && rule != DC_MOE_GROUP_MAX)) {
        dc_context_fail(ctx, DC_ERR_INVALID_ARG, "moe_select: k %d of %lld experts in %d groups "
                        "(%d used) is not a valid routing", k, (long long)n_expert, n_group,
                        n_group_used);
        return NULL;
    }
    int64_t ne[4] = { k, scores->ne[1], 1, 1 };
    dc_tensor *t = new_node(ctx, DC_OP_MOE_SELECT, DC_TYPE_I32, ne, 2, scores, bias, NULL, NULL);
    if (t) {
        t->params.moe_select.k = k;
        t->params.moe_select.n_group = n_group;
        t->params.moe_select.n_group_used = n_group_used;
        t->params.moe_select.rule = rule;
    }
    return t;
}
