/*
 * avx2.c - AVX2 kernels (compiled with their own target flags; called
 * only when dispatch.c found the ISA). Placeholder until the kernels land:
 * it overrides nothing, so the scalar reference runs.
 */
#include "kernels.h"

void dc_cpu_kernels_init_avx2(dc_cpu_kernels *k, const dc_cpu_features *f) {
    (void)k;
    (void)f;
}
