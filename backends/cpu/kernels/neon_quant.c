/*
 * neon_quant.c - the quantized dots and gemm tiles for every aarch64 CPU:
 * neon_quant_tmpl.c with a plain ARMv8.0 NEON int8 dot, SMULL (8 x 8 -> 16
 * bits) then SADALP (pairwise add into the int32 lanes). Each product fits
 * int16 (|q| <= 128) and SADALP widens before it adds, so nothing wraps.
 * Built without any -march extension (neon_impl.h): this is the code a core
 * without FEAT_DotProd runs.
 */
#include "neon_impl.h"

#define NQ(name) name##_neon

static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_high_s8(a, b));
}

#include "neon_quant_tmpl.c"

void dc_cpu_kernels_init_neon_quant(dc_cpu_kernels *k) {
    NQ(set_quant)(k);
}
