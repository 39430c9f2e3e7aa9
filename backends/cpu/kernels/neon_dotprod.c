/*
 * neon_dotprod.c - the quantized dots and gemm tiles with SDOT (FEAT_DotProd,
 * ARMv8.2+, optional before 8.4): neon_quant_tmpl.c with vdotq_s32, four int8
 * products per int32 lane in one instruction. Built with
 * -march=armv8.2-a+dotprod in its own static library, and installed by
 * dc_cpu_kernels_init_neon only when getauxval(AT_HWCAP) has HWCAP_ASIMDDP,
 * so the compiler may use SDOT anywhere in this file and nowhere else.
 */
#include "neon_impl.h"

#define NQ(name) name##_dotprod

static inline int32x4_t dot16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return vdotq_s32(acc, a, b);
}

#include "neon_quant_tmpl.c"

void dc_cpu_kernels_init_neon_dotprod(dc_cpu_kernels *k) {
    NQ(set_quant)(k);
}
