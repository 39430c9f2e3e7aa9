/*
 * types.c - the type traits table and the public type API of deepc/tensor.h.
 *
 * One row per tensor type deepc knows: name, block size, bytes per block,
 * the plain-C reference dequantizer / quantizer (quant_legacy.c, quant_k.c,
 * float_conv.c) and the activation type its dot product pairs with. The
 * pairing is the peer engine's (fixtures/README.md, "The quantized models"):
 *   Q4_0, Q5_0, Q8_0 -> Q8_0      Q4_1, Q5_1 -> Q8_1      Q2_K..Q6_K -> Q8_K
 *   F16 -> F16   BF16 -> BF16   F32 -> F32   F8_E4M3_B128 -> F8_E4M3_B128.
 * Rows are stored densely in slot order (dc_type_slot), so per-type kernel
 * tables are small arrays; the GGUF id -> slot map is one switch. Integer
 * types have no float conversions (NULL in the table) and dc_quantize_row /
 * dc_dequantize_row refuse them.
 */
#include "quant_impl.h"

#include <strings.h>

typedef struct type_row {
    dc_type        type;
    dc_type_traits tr;
} type_row;

#define ROW(t, nm, bs, sz, q, to, from, vdt)                                   \
    { .type = (t),                                                             \
      .tr = { .name = (nm), .blck_size = (bs), .type_size = (sz),              \
              .is_quantized = (q), .to_float = (to), .from_float = (from),    \
              .vec_dot_type = (vdt) } }

/* Indexed by dc_type_slot(). */
static const type_row type_rows[] = {
    ROW(DC_TYPE_F32,  "F32",  1, sizeof(float),    false,
        dc_dequantize_row_f32,  dc_quantize_row_f32,  DC_TYPE_F32),
    ROW(DC_TYPE_F16,  "F16",  1, sizeof(uint16_t), false,
        dc_dequantize_row_f16,  dc_quantize_row_f16,  DC_TYPE_F16),
    ROW(DC_TYPE_Q4_0, "Q4_0", DC_QK4_0, sizeof(dc_block_q4_0), true,
        dc_dequantize_row_q4_0, dc_quantize_row_q4_0, DC_TYPE_Q8_0),
    ROW(DC_TYPE_Q4_1, "Q4_1", DC_QK4_1, sizeof(dc_block_q4_1), true,
        dc_dequantize_row_q4_1, dc_quantize_row_q4_1, DC_TYPE_Q8_1),
    ROW(DC_TYPE_Q5_0, "Q5_0", DC_QK5_0, sizeof(dc_block_q5_0), true,
        dc_dequantize_row_q5_0, dc_quantize_row_q5_0, DC_TYPE_Q8_0),
    ROW(DC_TYPE_Q5_1, "Q5_1", DC_QK5_1, sizeof(dc_block_q5_1), true,
        dc_dequantize_row_q5_1, dc_quantize_row_q5_1, DC_TYPE_Q8_1),
    ROW(DC_TYPE_Q8_0, "Q8_0", DC_QK8_0, sizeof(dc_block_q8_0), true,
        dc_dequantize_row_q8_0, dc_quantize_row_q8_0, DC_TYPE_Q8_0),
    ROW(DC_TYPE_Q8_1, "Q8_1", DC_QK8_1, sizeof(dc_block_q8_1), true,
        dc_dequantize_row_q8_1, dc_quantize_row_q8_1, DC_TYPE_Q8_1),
    ROW(DC_TYPE_Q2_K, "Q2_K", DC_QK_K, sizeof(dc_block_q2_k), true,
        dc_dequantize_row_q2_k, dc_quantize_row_q2_k, DC_TYPE_Q8_K),
    ROW(DC_TYPE_Q3_K, "Q3_K", DC_QK_K, sizeof(dc_block_q3_k), true,
        dc_dequantize_row_q3_k, dc_quantize_row_q3_k, DC_TYPE_Q8_K),
    ROW(DC_TYPE_Q4_K, "Q4_K", DC_QK_K, sizeof(dc_block_q4_k), true,
        dc_dequantize_row_q4_k, dc_quantize_row_q4_k, DC_TYPE_Q8_K),
    ROW(DC_TYPE_Q5_K, "Q5_K", DC_QK_K, sizeof(dc_block_q5_k), true,
        dc_dequantize_row_q5_k, dc_quantize_row_q5_k, DC_TYPE_Q8_K),
    ROW(DC_TYPE_Q6_K, "Q6_K", DC_QK_K, sizeof(dc_block_q6_k), true,
        dc_dequantize_row_q6_k, dc_quantize_row_q6_k, DC_TYPE_Q8_K),
    ROW(DC_TYPE_Q8_K, "Q8_K", DC_QK_K, sizeof(dc_block_q8_k), true,
        dc_dequantize_row_q8_k, dc_quantize_row_q8_k, DC_TYPE_Q8_K),
    ROW(DC_TYPE_I8,   "I8",   1, sizeof(int8_t),   false, NULL, NULL, DC_TYPE_I8),
    ROW(DC_TYPE_I16,  "I16",  1, sizeof(int16_t),  false, NULL, NULL, DC_TYPE_I16),
    ROW(DC_TYPE_I32,  "I32",  1, sizeof(int32_t),  false, NULL, NULL, DC_TYPE_I32),
    ROW(DC_TYPE_I64,  "I64",  1, sizeof(int64_t),  false, NULL, NULL, DC_TYPE_I64),
    ROW(DC_TYPE_F64,  "F64",  1, sizeof(double),   false,
        dc_dequantize_row_f64,  dc_quantize_row_f64,  DC_TYPE_F64),
    ROW(DC_TYPE_BF16, "BF16", 1, sizeof(uint16_t), false,
        dc_dequantize_row_bf16, dc_quantize_row_bf16, DC_TYPE_BF16),
    ROW(DC_TYPE_F8_E4M3_B128, "F8_E4M3_B128", DC_QK_F8, sizeof(dc_block_f8_b128), true,
        dc_dequantize_row_f8_b128, dc_quantize_row_f8_b128, DC_TYPE_F8_E4M3_B128),
};

#define N_TYPE_ROWS ((int)(sizeof type_rows / sizeof type_rows[0]))
_Static_assert(sizeof type_rows / sizeof type_rows[0] <= DC_TYPE_SLOTS,
               "DC_TYPE_SLOTS too small for the traits table");

int dc_type_slot(dc_type type) {
    switch (type) {
    case DC_TYPE_F32:          return 0;
    case DC_TYPE_F16:          return 1;
    case DC_TYPE_Q4_0:         return 2;
    case DC_TYPE_Q4_1:         return 3;
    case DC_TYPE_Q5_0:         return 4;
    case DC_TYPE_Q5_1:         return 5;
    case DC_TYPE_Q8_0:         return 6;
    case DC_TYPE_Q8_1:         return 7;
    case DC_TYPE_Q2_K:         return 8;
    case DC_TYPE_Q3_K:         return 9;
    case DC_TYPE_Q4_K:         return 10;
    case DC_TYPE_Q5_K:         return 11;
    case DC_TYPE_Q6_K:         return 12;
    case DC_TYPE_Q8_K:         return 13;
    case DC_TYPE_I8:           return 14;
    case DC_TYPE_I16:          return 15;
    case DC_TYPE_I32:          return 16;
    case DC_TYPE_I64:          return 17;
    case DC_TYPE_F64:          return 18;
    case DC_TYPE_BF16:         return 19;
    case DC_TYPE_F8_E4M3_B128: return 20;
    }
    return -1;
}

const dc_type_traits *dc_get_type_traits(dc_type type) {
    const int slot = dc_type_slot(type);
    return slot < 0 ? NULL : &type_rows[slot].tr;
}

/* ---- public type API ----------------------------------------------------------- */

const char *dc_type_name(dc_type type) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    return tr ? tr->name : NULL;
}

bool dc_type_valid(int64_t type_id) {
    /* range check first: the enum cast below must only see int-sized ids */
    if (type_id < 0 || type_id > (int64_t)DC_TYPE_F8_E4M3_B128) return false;
    return dc_type_slot((dc_type)type_id) >= 0;
}

dc_status dc_type_from_name(const char *name, dc_type *out) {
    DC_CHECK_ARG(name != NULL);
    DC_CHECK_ARG(out != NULL);
    for (int i = 0; i < N_TYPE_ROWS; i++) {
        if (strcasecmp(name, type_rows[i].tr.name) == 0) {
            *out = type_rows[i].type;
            return DC_OK;
        }
    }
    return dc_error(DC_ERR_TYPE, "unknown tensor type name \"%s\"", name);
}

int64_t dc_type_block_size(dc_type type) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    return tr ? tr->blck_size : 0;
}

size_t dc_type_block_bytes(dc_type type) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    return tr ? tr->type_size : 0;
}

bool dc_type_is_quantized(dc_type type) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    return tr && tr->is_quantized;
}

size_t dc_row_size(dc_type type, int64_t ne0) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    if (!tr || ne0 < 0 || ne0 % tr->blck_size != 0) return 0;
    size_t bytes;
    if (!dc_size_mul((size_t)(ne0 / tr->blck_size), tr->type_size, &bytes)) return 0;
    return bytes;
}

/* Shared argument checks of dc_quantize_row / dc_dequantize_row. */
static dc_status check_row(const char *fn, dc_type type, const dc_type_traits *tr,
                           bool has_conv, int64_t n) {
    if (!tr)
        return dc_error(DC_ERR_TYPE, "%s: unknown type id %d", fn, (int)type);
    if (!has_conv)
        return dc_error(DC_ERR_TYPE, "%s: type %s has no float conversion", fn, tr->name);
    if (n < 0 || n % tr->blck_size != 0)
        return dc_error(DC_ERR_INVALID_ARG, "%s: n = %lld is not a multiple of %s's "
                        "block size %lld", fn, (long long)n, tr->name,
                        (long long)tr->blck_size);
    return DC_OK;
}

dc_status dc_quantize_row(dc_type type, const float *src, void *dst, int64_t n) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    dc_status st = check_row(__func__, type, tr, tr && tr->from_float, n);
    if (st != DC_OK) return st;
    if (n == 0) return DC_OK;
    DC_CHECK_ARG(src != NULL && dst != NULL);
    tr->from_float(src, dst, n);
    return DC_OK;
}

dc_status dc_dequantize_row(dc_type type, const void *src, float *dst, int64_t n) {
    const dc_type_traits *tr = dc_get_type_traits(type);
    dc_status st = check_row(__func__, type, tr, tr && tr->to_float, n);
    if (st != DC_OK) return st;
    if (n == 0) return DC_OK;
    DC_CHECK_ARG(src != NULL && dst != NULL);
    tr->to_float(src, dst, n);
    return DC_OK;
}
