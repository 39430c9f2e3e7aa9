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

/* A tile of dot products sharing weight rows and activation columns:
 *   y[c][r] = dot(w + r * ldw, a[c])     r < nr, c < nc
 * (ldw in bytes; a[c] one activation row of the weight's vec_dot_type; y[c]
 * the output column for activation c, indexed by weight row;
 * 1 <= nr, nc <= DC_GEMM_TILE). Pointers, not strides, so MoE can gather the
 * tokens routed to one expert. Every element must be bit-identical to the
 * same ISA's vec_dot of that row and column, so results never depend on how
 * a matmul is tiled or threaded. */
#define DC_GEMM_TILE 4
typedef void (*dc_gemm_fn)(int64_t n, float *const *y, const void *w, size_t ldw,
                           const void *const *a, int nr, int nc);
/* Attention rows of the KV-cache types (F32, F16, BF16, Q8_0, F8_E4M3_B128):
 *   kq_dot: *s = dot(q[0..n) f32, row[0..n) of the cache type)
 *   axpy:   y[0..n) += v * row[0..n)
 * Row conversion to f32 (every type with a to_float): dequant. */
typedef void (*dc_kq_dot_fn)(int64_t n, float *s, const float *q, const void *row);
typedef void (*dc_axpy_fn)(int64_t n, float *y, float v, const void *row);
typedef void (*dc_dequant_fn)(const void *row, float *y, int64_t n);

typedef enum dc_cpu_isa {
    DC_CPU_ISA_SCALAR = 0,
    DC_CPU_ISA_AVX2   = 1,
    DC_CPU_ISA_AVX512 = 2,
    DC_CPU_ISA_NEON   = 3,
} dc_cpu_isa;

/* What the CPU and OS support (dispatch.c detects it once). */
typedef struct dc_cpu_features {
    bool avx2, fma, f16c;                              /* x86-64 AVX2 level  */
    bool avx512f, avx512bw, avx512vl, avx512vnni, avx512bf16;
    bool neon, dotprod, i8mm;                          /* aarch64            */
} dc_cpu_features;

typedef struct dc_cpu_kernels {
    dc_cpu_isa         isa;
    /* indexed by dc_type_slot(weight type) */
    dc_vec_dot_fn      vec_dot[DC_TYPE_SLOTS];
    /* indexed by dc_type_slot(activation type): F32 (copy), F16, BF16,
     * Q8_0, Q8_1, Q8_K, F8_E4M3_B128 */
    dc_quantize_act_fn quantize_act[DC_TYPE_SLOTS];
    /* by weight type; NULL: the op loops over vec_dot */
    dc_gemm_fn         gemm[DC_TYPE_SLOTS];
    /* by cache / row type */
    dc_kq_dot_fn       kq_dot[DC_TYPE_SLOTS];
    dc_axpy_fn         axpy[DC_TYPE_SLOTS];
    dc_dequant_fn      dequant[DC_TYPE_SLOTS];
} dc_cpu_kernels;

/* Fill k with the plain-C reference kernels (every slot deepc supports). */
void dc_cpu_kernels_init_scalar(dc_cpu_kernels *k);
/* The row kernels' part of it (scalar_rows.c). */
void dc_cpu_kernels_init_scalar_rows(dc_cpu_kernels *k);
/* Override the entries an ISA implements (call after init_scalar, in ISA
 * order). Defined only in builds for that architecture; dispatch.c calls
 * them only when the CPU and OS support the ISA. */
void dc_cpu_kernels_init_avx2(dc_cpu_kernels *k, const dc_cpu_features *f);
void dc_cpu_kernels_init_avx512(dc_cpu_kernels *k, const dc_cpu_features *f);
void dc_cpu_kernels_init_neon(dc_cpu_kernels *k, const dc_cpu_features *f);
/* The features dispatch.c detected (after dc_cpu_get_kernels()). */
const dc_cpu_features *dc_cpu_get_features(void);

/* The table for this machine (or the DEEPC_CPU override), built once. */
const dc_cpu_kernels *dc_cpu_get_kernels(void);

#endif /* DEEPC_CPU_KERNELS_H */
