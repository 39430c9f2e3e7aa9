/*
 * avx512.c - the AVX-512 level of the CPU kernel table (F + BW + VL, with
 * VNNI and BF16 variants where the CPU has them). dispatch.c calls
 * dc_cpu_kernels_init_avx512 after init_scalar and init_avx2, only when
 * cpuid and XCR0 report AVX-512 F/BW/VL; it overrides, by family:
 *
 *   avx512_quant.c  Q4_0 Q4_1 Q5_0 Q5_1 Q8_0   vec_dot, gemm, dequant
 *   avx512_kq.c     Q2_K Q3_K Q4_K Q5_K Q6_K   vec_dot, gemm, dequant
 *   avx512_float.c  F32 F16 BF16 F8_E4M3_B128  vec_dot; kq_dot / axpy /
 *                   dequant of the KV-cache rows (F32 F16 BF16 Q8_0 F8)
 *   avx512_act.c    quantize_act Q8_0 Q8_1 Q8_K F16 BF16 F8
 *
 * The integer dots use VPDPBUSD / VPDPWSSD when f->avx512vnni and
 * VPMADDUBSW + VPMADDWD otherwise (same results); BF16 rows use VDPBF16PS
 * when f->avx512bf16. The choice is made here, once, by filling the table;
 * no kernel tests a feature at run time. Every kernel has its plain-C twin in
 * scalar.c / scalar_rows.c, and tests/test_kernels.c holds them to it.
 * The files are compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni
 * -mavx512bf16 (+ AVX2/FMA/F16C) and use no other AVX-512 subset (no DQ,
 * no VBMI).
 */
#include "avx512_impl.h"

void dc_cpu_kernels_init_avx512(dc_cpu_kernels *k, const dc_cpu_features *f) {
    dc_cpu_avx512_init_act(k, f);
    dc_cpu_avx512_init_float(k, f);
    dc_cpu_avx512_init_quant(k, f);
    dc_cpu_avx512_init_kq(k, f);
}
