/*
 * tensor_impl.h - what a tensor, a context and a graph are inside deepc, and
 * the type traits table. Shared by lib/tensor, lib/backend and the backends;
 * never installed.
 *
 * A tensor is a graph node: its op, typed op parameters and up to four
 * sources. Views (view, reshape, permute, transpose) carry DC_OP_VIEW and
 * point at the tensor whose bytes they share (view_src, view_offs); they are
 * resolved when data is assigned and never computed.
 */
#ifndef DEEPC_TENSOR_IMPL_H
#define DEEPC_TENSOR_IMPL_H

#include "deepc/backend.h"
#include "deepc/tensor.h"

#include "../core/core_impl.h"

/* ---- type traits ----------------------------------------------------------- */
typedef void (*dc_to_float_fn)(const void *src, float *dst, int64_t n);
typedef void (*dc_from_float_fn)(const float *src, void *dst, int64_t n);

typedef struct dc_type_traits {
    const char      *name;
    int64_t          blck_size;     /* elements per block                   */
    size_t           type_size;     /* bytes per block                      */
    bool             is_quantized;
    dc_to_float_fn   to_float;      /* reference dequantizer (NULL: ints)   */
    dc_from_float_fn from_float;    /* reference quantizer   (NULL: ints)   */
    dc_type          vec_dot_type;  /* format activations are rounded to
                                       before a dot with this weight type  */
} dc_type_traits;

/* The traits row of a type, or NULL if deepc does not know the id. */
const dc_type_traits *dc_get_type_traits(dc_type type);

/* Dense index of each known type (for per-type kernel tables), -1 if unknown. */
#define DC_TYPE_SLOTS 24
int dc_type_slot(dc_type type);

/* ---- ops --------------------------------------------------------------------- */
typedef enum dc_op {
    DC_OP_NONE = 0,     /* leaf: data supplied from outside            */
    DC_OP_VIEW,         /* view / reshape / permute / transpose        */
    DC_OP_CONT,
    DC_OP_CPY,
    DC_OP_GET_ROWS,
    DC_OP_MUL_MAT,
    DC_OP_MOE_MUL_MAT,
    DC_OP_ADD,
    DC_OP_MUL,
    DC_OP_DIV,
    DC_OP_SCALE,
    DC_OP_SILU,
    DC_OP_SIGMOID,
    DC_OP_SWIGLU,
    DC_OP_SUM_ROWS,
    DC_OP_RMS_NORM,
    DC_OP_ROPE,
    DC_OP_SOFTMAX,
    DC_OP_ARGSORT,
    DC_OP_TOP_K,
    DC_OP_CONCAT,
    DC_OP_FLASH_ATTN,
    DC_OP_MOE_SELECT,
    DC_OP_COUNT
} dc_op;

const char *dc_op_name(dc_op op);

/* Typed parameters, one member per op that has any. Read them through the
 * member named for the op (t->params.rope), never by offset. */
typedef union dc_op_params {
    struct { float eps; }            rms_norm;
    struct { float s; }              scale;
    dc_rope_params                   rope;
    struct { float scale; }          softmax;
    struct { dc_sort_order order; }  argsort;
    struct { int k; }                top_k;
    struct { int dim; }              concat;
    struct { float scale; }          flash_attn;
    struct {
        int k, n_group, n_group_used;
        dc_moe_group_rule rule;
    }                                moe_select;
} dc_op_params;

#define DC_MAX_SRC 4

enum dc_tensor_flag {
    DC_TENSOR_FLAG_INPUT  = 1 << 0,  /* set by the caller before compute    */
    DC_TENSOR_FLAG_OUTPUT = 1 << 1,  /* read after compute: never reused    */
    DC_TENSOR_FLAG_WEIGHT = 1 << 2,  /* lives in a weight buffer            */
    DC_TENSOR_FLAG_SCHED  = 1 << 3,  /* data placed by the scheduler        */
};

struct dc_tensor {
    dc_type        type;
    int            n_dims;               /* 1..4, informational             */
    int64_t        ne[DC_MAX_DIMS];      /* elements per dim, ne[0] innermost*/
    size_t         nb[DC_MAX_DIMS];      /* byte strides; nb[0] = block bytes*/

    dc_op          op;
    dc_op_params   params;
    dc_tensor     *src[DC_MAX_SRC];

    dc_tensor     *view_src;             /* tensor whose bytes a view shares */
    size_t         view_offs;            /* byte offset into view_src        */

    void          *data;                 /* host address, or device address
                                            when buffer is a device buffer  */
    dc_buffer     *buffer;               /* NULL: host memory not owned by a
                                            backend (context arena, mmap)    */
    uint32_t       flags;
    int32_t        index;                /* scratch for graph algorithms     */
    dc_tensor     *next;                 /* list of the context's tensors    */
    char           name[DC_MAX_NAME];
};

struct dc_graph {
    uint64_t    uid;         /* unique per build, even when arena memory is reused */
    int         n_nodes;     /* tensors with an op other than NONE/VIEW, and views */
    int         n_leafs;     /* tensors with op NONE                               */
    dc_tensor **nodes;       /* [n_nodes] sources before users                     */
    dc_tensor **leafs;       /* [n_leafs]                                          */
};

/* Record a builder error in ctx (first one wins) and in dc_last_error(). */
void dc_context_fail(dc_context *ctx, dc_status status, const char *fmt, ...)
    DC_PRINTF(3, 4);
/* Arena allocation from ctx (64-byte aligned); NULL + sticky error when full. */
void *dc_context_alloc(dc_context *ctx, size_t size);
/* Graph-building scratch the context keeps across resets (graph.c owns its
 * layout; freed with the context through dc_graph_scratch_free). */
void *dc_context_graph_scratch(dc_context *ctx);
void  dc_context_set_graph_scratch(dc_context *ctx, void *scratch);
void  dc_graph_scratch_free(void *scratch);
/* First tensor of ctx's list (follow ->next). */
dc_tensor *dc_context_first_tensor(const dc_context *ctx);

/* Header for a tensor of type and ne[4] with contiguous strides; data from
 * the arena when want_data and the context allocates. Validates the type, the
 * block size and overflow; NULL + sticky error on failure. */
dc_tensor *dc_tensor_new_impl(dc_context *ctx, dc_type type, const int64_t ne[4],
                              int n_dims, bool want_data);

/* Whether buf's memory is host memory the CPU can address (lib/backend). */
bool dc_buffer_is_host(const dc_buffer *buf);

/* The tensor that owns the bytes of t (follows view_src to the root). */
static inline const dc_tensor *dc_tensor_root(const dc_tensor *t) {
    while (t->view_src) t = t->view_src;
    return t;
}

static inline int64_t dc_nrows(const dc_tensor *t) {
    return t->ne[1] * t->ne[2] * t->ne[3];
}

/* Same ne in every dim. */
static inline bool dc_same_shape(const dc_tensor *a, const dc_tensor *b) {
    return a->ne[0] == b->ne[0] && a->ne[1] == b->ne[1] &&
           a->ne[2] == b->ne[2] && a->ne[3] == b->ne[3];
}

/* Rows are contiguous (nb[0] = block bytes) though rows may be strided. */
static inline bool dc_rows_contiguous(const dc_tensor *t) {
    const dc_type_traits *tr = dc_get_type_traits(t->type);
    return tr && t->nb[0] == tr->type_size;
}

/* Byte address of element block (i0 in blocks' units = element index, must
 * be a block start) at (i1, i2, i3) in host memory. */
static inline char *dc_tensor_at(const dc_tensor *t, int64_t i1, int64_t i2, int64_t i3) {
    return (char *)t->data + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3];
}

#endif /* DEEPC_TENSOR_IMPL_H */
