/*
 * kernels.h - the CPU kernel table and the per-ISA files that fill it.
 *
 * scalar.c is the ground truth: plain C for every entry. Each ISA file
 * (avx2.c, avx512.c, neon.c; compiled with its own target flags) overrides
 * the entries it speeds up; dispatch.c picks the ISA once at start-up
 * (cpuid + XCR0 / hwcaps, DEEPC_CPU=scalar|avx2|avx512|neon masks it) and
 * fills the table scalar-first, dav1d style. Ops never test the ISA: they
 * call through the table.
 *
 * Dot products pair a weight row of type W with an activation row already
 * rounded to W's vec_dot_type (dc_get_type_traits(W)->vec_dot_type), the way
 * the peer engine rounds them (fixtures/README.md, "The quantized models").
 */
#ifndef DEEPC_CPU_KERNELS_H
#define DEEPC_CPU_KERNELS_H

#include "../../../lib/tensor/tensor_impl.h"

/* *s = dot(w[0..n), a[0..n)); w: n values of the weight type, a: n values of
 * its vec_dot_type. n is a multiple of both block sizes. */
typedef void (*dc_vec_dot_fn)(int64_t n, float *s, const void *w, const void *a);
/* Round n floats into an activation format (peer CPU rounding rules). */
typedef void (*dc_quantize_act_fn)(const float *x, void *y, int64_t n);

typedef enum dc_cpu_isa {
    DC_CPU_ISA_SCALAR = 0,
    DC_CPU_ISA_AVX2   = 1,
    DC_CPU_ISA_AVX512 = 2,
    DC_CPU_ISA_NEON   = 3,
} dc_cpu_isa;

typedef struct dc_cpu_kernels {
    dc_cpu_isa         isa;
    /* indexed by dc_type_slot(weight type) */
    dc_vec_dot_fn      vec_dot[DC_TYPE_SLOTS];
    /* indexed by dc_type_slot(activation type): F32 (copy), F16, BF16,
     * Q8_0, Q8_1, Q8_K, F8_E4M3_B128 */
    dc_quantize_act_fn quantize_act[DC_TYPE_SLOTS];
} dc_cpu_kernels;

/* Fill k with the plain-C reference kernels (every slot deepc supports). */
void dc_cpu_kernels_init_scalar(dc_cpu_kernels *k);

/* The table for this machine (or the DEEPC_CPU override), built once. */
const dc_cpu_kernels *dc_cpu_get_kernels(void);

#endif /* DEEPC_CPU_KERNELS_H */
