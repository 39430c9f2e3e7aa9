/*
 * neon.c - NEON kernels for aarch64 (dotprod / i8mm where the CPU has them).
 * Placeholder until the kernels land: it overrides nothing.
 */
#include "kernels.h"

void dc_cpu_kernels_init_neon(dc_cpu_kernels *k, const dc_cpu_features *f) {
    (void)k;
    (void)f;
}
