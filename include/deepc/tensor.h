/*
 * deepc/tensor.h - tensor types, tensors, op builders and graphs.
 *
 * A dc_context is an arena: it owns tensor headers and graphs, and (unless
 * created with no_alloc) their data. A tensor has up to 4 dimensions, ne[0]
 * innermost, and byte strides nb[] (nb[0] = element or block size), so views,
 * permutes and transposes cost nothing. Shapes in comments are written
 * innermost first, ggml-style: [ne0, ne1, ne2, ne3].
 *
 * Op builders (dc_mul_mat, dc_rms_norm, ...) compute nothing: they check
 * shapes and types and return a new node. On a mismatch a builder returns NULL
 * and records the error in the context ("sticky": the first error wins and
 * dc_context_status() returns it); any builder given a NULL input returns NULL
 * without a new message, so a graph can be written as a chain and checked once.
 * dc_graph_build() refuses a context that holds an error.
 *
 * Graphs are built from output tensors (topological order, each node once)
 * and can be computed many times: the decode loop rebuilds nothing.
 */
#ifndef DEEPC_TENSOR_H
#define DEEPC_TENSOR_H

#include "deepc/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- types --------------------------------------------------------------
 * Values are the GGUF on-disk type ids (ggml's), append-only. Ids 4, 5
 * (Q4_2, Q4_3) and 31-33 are retired upstream and never used here. */
typedef enum dc_type {
    DC_TYPE_F32          = 0,
    DC_TYPE_F16          = 1,
    DC_TYPE_Q4_0         = 2,
    DC_TYPE_Q4_1         = 3,
    DC_TYPE_Q5_0         = 6,
    DC_TYPE_Q5_1         = 7,
    DC_TYPE_Q8_0         = 8,
    DC_TYPE_Q8_1         = 9,   /* activation format for Q4_1 / Q5_1 dots  */
    DC_TYPE_Q2_K         = 10,
    DC_TYPE_Q3_K         = 11,
    DC_TYPE_Q4_K         = 12,
    DC_TYPE_Q5_K         = 13,
    DC_TYPE_Q6_K         = 14,
    DC_TYPE_Q8_K         = 15,  /* activation format for K-quant dots       */
    DC_TYPE_I8           = 24,
    DC_TYPE_I16          = 25,
    DC_TYPE_I32          = 26,
    DC_TYPE_I64          = 27,
    DC_TYPE_F64          = 28,
    DC_TYPE_BF16         = 30,
    /* deepc's own: 128 E4M3 values along a row + one f32 scale (132 bytes),
     * value = e4m3 * scale. Far above ggml's ids; see DESIGN.md. */
    DC_TYPE_F8_E4M3_B128 = 1024
} dc_type;

/* Name ("Q4_K", "F8_E4M3_B128") or NULL for an id deepc does not know. */
const char *dc_type_name(dc_type type);
/* True for every id listed above. */
bool        dc_type_valid(int64_t type_id);
/* Look a type up by name (case-insensitive). */
dc_status   dc_type_from_name(const char *name, dc_type *out);
/* Elements per block (1 for plain types) and bytes per block; 0 if invalid. */
int64_t     dc_type_block_size(dc_type type);
size_t      dc_type_block_bytes(dc_type type);
bool        dc_type_is_quantized(dc_type type);
/* Bytes of one row of ne0 elements; 0 if ne0 is not a multiple of the block
 * size or the type is invalid. */
size_t      dc_row_size(dc_type type, int64_t ne0);

/* Reference (plain C) conversion of n floats to type / back. n must be a
 * multiple of the block size. Quantizers reproduce ggml's reference
 * quantizers bit for bit (spec/fp8-gguf.md §2.5, spec/quant-layouts.md). */
dc_status dc_quantize_row(dc_type type, const float *src, void *dst, int64_t n);
dc_status dc_dequantize_row(dc_type type, const void *src, float *dst, int64_t n);

/* Scalar conversions (round to nearest even). E4M3: saturates to +-448, NaN
 * stays NaN (0x7F / 0xFF with the sign kept). */
uint16_t dc_fp32_to_fp16(float f);
float    dc_fp16_to_fp32(uint16_t h);
uint16_t dc_fp32_to_bf16(float f);
float    dc_bf16_to_fp32(uint16_t h);
uint8_t  dc_fp32_to_e4m3(float f);
float    dc_e4m3_to_fp32(uint8_t code);

/* ---- contexts ----------------------------------------------------------- */
typedef struct dc_context dc_context;
typedef struct dc_tensor  dc_tensor;
typedef struct dc_graph   dc_graph;

#define DC_MAX_DIMS 4
#define DC_MAX_NAME 64   /* including the NUL, as GGUF readers require */

typedef struct dc_context_params {
    size_t mem_size;  /* bytes for tensor headers, graphs and (unless
                         no_alloc) tensor data; fixed at init          */
    bool   no_alloc;  /* true: tensors get no data here; a backend
                         buffer or the graph allocator provides it     */
} dc_context_params;

dc_context_params dc_context_default_params(void); /* 16 MiB, allocating */

/* Create an arena. *out is NULL on failure. Free with dc_context_free(). */
dc_status dc_context_init(const dc_context_params *params, dc_context **out);
void      dc_context_free(dc_context *ctx);   /* NULL: no-op */
/* The first error an op builder recorded in ctx (DC_OK if none); its message
 * is also what dc_last_error() returned right after that builder. */
dc_status   dc_context_status(const dc_context *ctx);
const char *dc_context_error(const dc_context *ctx);
size_t      dc_context_used(const dc_context *ctx);
/* Forget every tensor and graph of ctx (and its error) and reuse the arena:
 * the per-step graph of a decode loop is rebuilt without allocating. All
 * pointers into ctx become invalid. */
void        dc_context_reset(dc_context *ctx);

/* ---- tensors -------------------------------------------------------------
 * A new tensor is contiguous: nb[0] = block bytes, nb[1] = row size, ...
 * Returned pointers are owned by ctx and live until dc_context_free(ctx). */
dc_tensor *dc_new_tensor(dc_context *ctx, dc_type type, int n_dims,
                         const int64_t *ne);
dc_tensor *dc_new_tensor_1d(dc_context *ctx, dc_type type, int64_t ne0);
dc_tensor *dc_new_tensor_2d(dc_context *ctx, dc_type type, int64_t ne0,
                            int64_t ne1);
dc_tensor *dc_new_tensor_3d(dc_context *ctx, dc_type type, int64_t ne0,
                            int64_t ne1, int64_t ne2);
dc_tensor *dc_new_tensor_4d(dc_context *ctx, dc_type type, int64_t ne0,
                            int64_t ne1, int64_t ne2, int64_t ne3);

dc_type     dc_tensor_type(const dc_tensor *t);
int         dc_tensor_n_dims(const dc_tensor *t);   /* 1..4 */
int64_t     dc_tensor_ne(const dc_tensor *t, int dim);
size_t      dc_tensor_nb(const dc_tensor *t, int dim);
int64_t     dc_tensor_nelements(const dc_tensor *t);
size_t      dc_tensor_nbytes(const dc_tensor *t);   /* span of its bytes */
bool        dc_tensor_is_contiguous(const dc_tensor *t);
/* Host data pointer, or NULL when the data lives in a device buffer or has
 * not been allocated yet. */
void       *dc_tensor_data(const dc_tensor *t);
/* Point t at caller-owned host memory of at least dc_tensor_nbytes(t) bytes
 * that outlives every graph using t (e.g. an mmapped weight). */
dc_status   dc_tensor_set_data(dc_tensor *t, void *data);
const char *dc_tensor_name(const dc_tensor *t);
dc_tensor  *dc_tensor_set_name(dc_tensor *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Copy n bytes between host memory and t's data at byte offset, wherever the
 * data lives (host or device buffer). t must be allocated. */
dc_status dc_tensor_set(dc_tensor *t, const void *src, size_t offset, size_t n);
dc_status dc_tensor_get(const dc_tensor *t, void *dst, size_t offset, size_t n);

/* ---- views (no copy) -------------------------------------------------- */
/* Views share a's data; ne/nb given innermost first, offset in bytes. */
dc_tensor *dc_view_1d(dc_context *ctx, dc_tensor *a, int64_t ne0, size_t offset);
dc_tensor *dc_view_2d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1,
                      size_t nb1, size_t offset);
dc_tensor *dc_view_3d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1,
                      int64_t ne2, size_t nb1, size_t nb2, size_t offset);
dc_tensor *dc_view_4d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1,
                      int64_t ne2, int64_t ne3, size_t nb1, size_t nb2,
                      size_t nb3, size_t offset);
/* Same elements, new shape; a must be contiguous. */
dc_tensor *dc_reshape_2d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1);
dc_tensor *dc_reshape_3d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1,
                         int64_t ne2);
dc_tensor *dc_reshape_4d(dc_context *ctx, dc_tensor *a, int64_t ne0, int64_t ne1,
                         int64_t ne2, int64_t ne3);
/* Source dim i goes to position axis_i (ggml_permute semantics). */
dc_tensor *dc_permute(dc_context *ctx, dc_tensor *a, int axis0, int axis1,
                      int axis2, int axis3);
dc_tensor *dc_transpose(dc_context *ctx, dc_tensor *a);  /* swap dims 0, 1 */
/* A view of t (same shape and bytes) that a graph computes only after dep:
 * how a reader of a cache is ordered after the dc_cpy that writes it. */
dc_tensor *dc_after(dc_context *ctx, dc_tensor *t, dc_tensor *dep);

/* ---- ops ---------------------------------------------------------------
 * Unless stated, inputs and outputs are F32 and any strides are accepted. */

/* Contiguous copy of a (F32 result, a of any dequantizable type). */
dc_tensor *dc_cont(dc_context *ctx, dc_tensor *a);
/* Write a into dst, converting to dst's type (F32/F16/BF16/Q8_0/F8 ...);
 * dst is usually a view into a cache tensor. Same element count and, per
 * dimension, compatible shapes. Returns a view of dst that depends on the
 * write, to use as a graph output or input of later ops. */
dc_tensor *dc_cpy(dc_context *ctx, dc_tensor *a, dc_tensor *dst);

/* Rows of a selected by ids. a: [ne0, n_rows, ne2] any type, ids: I32
 * [n, ne2] -> F32 [ne0, n, ne2]. Ids outside [0, n_rows) are an error at
 * compute time (DC_ERR_INVALID_ARG), never a wild read. */
dc_tensor *dc_get_rows(dc_context *ctx, dc_tensor *a, dc_tensor *ids);

/* a: [K, M, A2, A3] any type (the weight), b: [K, N, B2, B3] F32, with
 * B2 % A2 == 0 and B3 % A3 == 0 (a is broadcast) -> [M, N, B2, B3] = a^T b.
 * Quantized a: b's rows are first rounded to a's activation type, as the
 * peer engine does. */
dc_tensor *dc_mul_mat(dc_context *ctx, dc_tensor *a, dc_tensor *b);

/* Matmul by expert ids (ggml mul_mat_id). as: [K, M, n_expert] weights,
 * b: [K, n_b1, N] with n_b1 = 1 (shared by all slots) or n_used,
 * ids: I32 [n_used, N] -> [M, n_used, N]; out[:, s, t] = as[ids[s,t]]^T b[:, s or 0, t]. */
dc_tensor *dc_moe_mul_mat(dc_context *ctx, dc_tensor *as, dc_tensor *b,
                          dc_tensor *ids);

/* Elementwise with broadcasting: b's shape must divide a's in every dim. */
dc_tensor *dc_add(dc_context *ctx, dc_tensor *a, dc_tensor *b);
dc_tensor *dc_mul(dc_context *ctx, dc_tensor *a, dc_tensor *b);
dc_tensor *dc_div(dc_context *ctx, dc_tensor *a, dc_tensor *b);
dc_tensor *dc_scale(dc_context *ctx, dc_tensor *a, float s);
dc_tensor *dc_silu(dc_context *ctx, dc_tensor *a);
dc_tensor *dc_sigmoid(dc_context *ctx, dc_tensor *a);
/* silu(gate) * up, same shapes. */
dc_tensor *dc_swiglu(dc_context *ctx, dc_tensor *gate, dc_tensor *up);
/* Sum over dim 0: [ne0, ...] -> [1, ...]. */
dc_tensor *dc_sum_rows(dc_context *ctx, dc_tensor *a);

/* x / sqrt(mean(x^2) + eps) over dim 0 (no weight; dc_mul it after). */
dc_tensor *dc_rms_norm(dc_context *ctx, dc_tensor *a, float eps);

typedef enum dc_rope_mode {
    DC_ROPE_NORM = 0,   /* adjacent pairs (x[2i], x[2i+1]): llama, deepseek2 */
    DC_ROPE_NEOX = 2    /* halves (x[i], x[i + n_rot/2]): qwen2              */
} dc_rope_mode;

typedef struct dc_rope_params {
    int          n_rot;        /* rotate the first n_rot dims of ne0 (even)  */
    dc_rope_mode mode;
    float        freq_base;    /* theta base, e.g. 10000                     */
    float        freq_scale;   /* 1 / YaRN factor (1 = no scaling)           */
    float        ext_factor;   /* YaRN ramp mix: 1 = on, 0 = off             */
    float        attn_factor;  /* cos/sin magnitude multiplier (1 = none)    */
    float        beta_fast;    /* YaRN, default 32                           */
    float        beta_slow;    /* YaRN, default 1                            */
    int          n_ctx_orig;   /* YaRN original context length               */
} dc_rope_params;

dc_rope_params dc_rope_default_params(int n_rot, dc_rope_mode mode);

/* a: [ne0 >= n_rot, n_head, n_tok, 1], pos: I32 [n_tok], freq_factors:
 * NULL or F32 [n_rot/2] (angle divided by factor i, llama3 rope_freqs).
 * Angle of pair i at position p: p * freq_base^(-2i/n_rot) with the YaRN
 * ramp of spec/deepseek-arch.md §2.3 when freq_scale != 1 and ext_factor > 0;
 * magnitude attn_factor * (1 + 0.1 ln(1/freq_scale)) under YaRN, else
 * attn_factor (ggml's convention; deepseek2 divides it back out). */
dc_tensor *dc_rope(dc_context *ctx, dc_tensor *a, dc_tensor *pos,
                   dc_tensor *freq_factors, const dc_rope_params *params);

/* softmax(a * scale + mask) over dim 0. mask: NULL or F32 [ne0, ne1]
 * broadcast over dims 2, 3 (-INFINITY hides an entry). */
dc_tensor *dc_softmax(dc_context *ctx, dc_tensor *a, dc_tensor *mask, float scale);

/* Row-wise argsort of dim 0 -> I32 indices, same shape. */
typedef enum dc_sort_order { DC_SORT_ASC = 0, DC_SORT_DESC = 1 } dc_sort_order;
dc_tensor *dc_argsort(dc_context *ctx, dc_tensor *a, dc_sort_order order);
/* Indices of the k largest of each row, largest first (ties: lower index
 * first): [ne0, ...] -> I32 [k, ...]. */
dc_tensor *dc_top_k(dc_context *ctx, dc_tensor *a, int k);

/* MoE expert selection. scores: F32 [n_expert, n_tok] (router softmax or
 * sigmoid outputs); bias: NULL or F32 [n_expert], added for choosing only.
 * With n_group > 1 the experts form n_group contiguous groups; each group is
 * scored from the biased scores by rule (sum of its two best, or its best)
 * and only the n_group_used best groups compete. Result: I32 [k, n_tok], the
 * k best experts of each token, best first, ties to the lower index. */
typedef enum dc_moe_group_rule {
    DC_MOE_GROUP_TOP2_SUM = 0,   /* DeepSeek-V3 noaux_tc (and llama.cpp for all) */
    DC_MOE_GROUP_MAX      = 1    /* DeepSeek-V2 group_limited_greedy             */
} dc_moe_group_rule;
dc_tensor *dc_moe_select(dc_context *ctx, dc_tensor *scores, dc_tensor *bias, int k,
                         int n_group, int n_group_used, dc_moe_group_rule rule);

/* Concatenate along dim; all other dims equal. */
dc_tensor *dc_concat(dc_context *ctx, dc_tensor *a, dc_tensor *b, int dim);

/* Attention. q: [Dk, n_q, H, B], k: [Dk, n_kv, Hkv, B], v: [Dv, n_kv, Hkv, B]
 * (any strides, F32/F16/BF16/Q8_0; v may be a view of k), H % Hkv == 0
 * (query head h reads kv head h / (H / Hkv)); mask: NULL or F32 [n_kv, n_q]
 * (-INFINITY hides; a causal mask is built by the caller). Result:
 * F32 [Dv, H, n_q, B] = softmax(scale * q.k + mask) v per head. */
dc_tensor *dc_flash_attn(dc_context *ctx, dc_tensor *q, dc_tensor *k,
                         dc_tensor *v, dc_tensor *mask, float scale);

/* ---- graphs ------------------------------------------------------------- */
/* Build the graph that computes outputs[0..n_outputs): every node reachable
 * from them, each once, in an order where sources come first. Owned by ctx.
 * Fails if ctx holds an error (dc_context_status) or an output is NULL. */
dc_status dc_graph_build(dc_context *ctx, dc_tensor *const *outputs,
                         int n_outputs, dc_graph **out);
int        dc_graph_n_nodes(const dc_graph *g);
dc_tensor *dc_graph_node(const dc_graph *g, int i);   /* i < 0 counts from the end */

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_TENSOR_H */
