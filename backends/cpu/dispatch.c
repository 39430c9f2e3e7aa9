/*
 * dispatch.c - pick the CPU kernels once per process.
 *
 * Detection (x86-64): cpuid leaves 1 and 7 for the instruction sets, and
 * XGETBV (XCR0) to confirm the OS saves YMM / ZMM / opmask state; a CPU that
 * has AVX-512 under an OS that does not enable it counts as not having it
 * (dav1d's rule). On aarch64 NEON is the baseline. DEEPC_CPU=scalar|avx2|
 * avx512|neon caps the level so tests can run every variant on one machine.
 * The table starts as the scalar reference and each ISA level overrides the
 * entries it implements (early-return ladder); it is built under call_once.
 */
#include "cpu_impl.h"

#include "deepc_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define DC_X86 1
#elif defined(__aarch64__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

typedef dc_cpu_features cpu_features;

static cpu_features detect(void) {
    cpu_features f = { 0 };
#if DC_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    bool osxsave = c & (1u << 27), avx = c & (1u << 28);
    f.fma = c & (1u << 12);
    f.f16c = c & (1u << 29);
    if (!osxsave || !avx) return f;
    unsigned xlo, xhi;
    __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    bool ymm_os = (xlo & 0x6) == 0x6;          /* XMM + YMM state          */
    bool zmm_os = (xlo & 0xe6) == 0xe6;        /* + opmask, ZMM_Hi256, Hi16 */
    if (!ymm_os || __get_cpuid_max(0, NULL) < 7) return f;
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = b & (1u << 5);
    if (zmm_os) {
        f.avx512f = b & (1u << 16);
        f.avx512bw = b & (1u << 30);
        f.avx512vl = b & (1u << 31);
        f.avx512vnni = c & (1u << 11);
        __cpuid_count(7, 1, a, b, c, d);
        f.avx512bf16 = a & (1u << 5);
    }
#elif defined(__aarch64__)
    f.neon = true;
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    f.dotprod = hw & HWCAP_ASIMDDP;
    f.i8mm = hw2 & HWCAP2_I8MM;
#endif
    return f;
}

static cpu_features    g_features;
static dc_cpu_kernels  g_kernels;
static once_flag       g_once = ONCE_FLAG_INIT;

/* Highest level this machine runs, capped by DEEPC_CPU. */
static dc_cpu_isa choose_isa(const cpu_features *f) {
    dc_cpu_isa best = DC_CPU_ISA_SCALAR;
    if (f->neon) best = DC_CPU_ISA_NEON;
    if (f->avx2 && f->fma && f->f16c) best = DC_CPU_ISA_AVX2;
    if (best == DC_CPU_ISA_AVX2 && f->avx512f && f->avx512bw && f->avx512vl) best = DC_CPU_ISA_AVX512;
    const char *want = getenv("DEEPC_CPU");
    if (want && *want) {
        dc_cpu_isa cap = best;
        if (!strcmp(want, "scalar")) cap = DC_CPU_ISA_SCALAR;
        else if (!strcmp(want, "avx2")) cap = DC_CPU_ISA_AVX2;
        else if (!strcmp(want, "avx512")) cap = DC_CPU_ISA_AVX512;
        else if (!strcmp(want, "neon")) cap = DC_CPU_ISA_NEON;
        else DC_LOG_W("DEEPC_CPU=%s not understood (scalar|avx2|avx512|neon); using the best", want);
        /* a cap never raises the level above what the machine has */
        if (cap == DC_CPU_ISA_SCALAR) best = cap;
        else if (cap == DC_CPU_ISA_AVX2 && best == DC_CPU_ISA_AVX512) best = cap;
        else if (cap != best) DC_LOG_W("DEEPC_CPU=%s is not available on this machine", want);
    }
    return best;
}

static void init_kernels(void) {
    g_features = detect();
    dc_cpu_kernels_init_scalar(&g_kernels);
    dc_cpu_isa isa = choose_isa(&g_features);
    /* the ladder: scalar first, then each level the machine runs overrides */
#if DC_HAVE_NEON_KERNELS
    if (isa == DC_CPU_ISA_NEON) dc_cpu_kernels_init_neon(&g_kernels, &g_features);
#endif
#if DC_HAVE_X86_KERNELS
    if (isa == DC_CPU_ISA_AVX2 || isa == DC_CPU_ISA_AVX512)
        dc_cpu_kernels_init_avx2(&g_kernels, &g_features);
    if (isa == DC_CPU_ISA_AVX512) dc_cpu_kernels_init_avx512(&g_kernels, &g_features);
#endif
    g_kernels.isa = isa;
}

const dc_cpu_features *dc_cpu_get_features(void) {
    call_once(&g_once, init_kernels);
    return &g_features;
}

const dc_cpu_kernels *dc_cpu_get_kernels(void) {
    call_once(&g_once, init_kernels);
    return &g_kernels;
}

static const char *isa_name(dc_cpu_isa isa) {
    switch (isa) {
    case DC_CPU_ISA_SCALAR: return "scalar";
    case DC_CPU_ISA_AVX2:   return "avx2";
    case DC_CPU_ISA_AVX512: return "avx512";
    case DC_CPU_ISA_NEON:   return "neon";
    }
    return "?";
}

static char   g_info[512];
static once_flag g_info_once = ONCE_FLAG_INIT;

static void build_info(void) {
    const dc_cpu_kernels *k = dc_cpu_get_kernels();
    const cpu_features *f = &g_features;
    snprintf(g_info, sizeof g_info,
             "deepc %s | CPU kernels: %s | AVX2 %d FMA %d F16C %d AVX512F %d BW %d VL %d "
             "VNNI %d BF16 %d NEON %d DOTPROD %d I8MM %d | physical cores %d | OpenMP yes | "
             "BLAS %s | CUDA %s",
             dc_version(), isa_name(k->isa), f->avx2, f->fma, f->f16c, f->avx512f, f->avx512bw,
             f->avx512vl, f->avx512vnni, f->avx512bf16, f->neon, f->dotprod, f->i8mm,
             dc_cpu_physical_cores(),
             DC_HAVE_BLAS ? "OpenBLAS" : "no", DC_HAVE_CUDA ? "yes" : "not built");
}

const char *dc_system_info(void) {
    call_once(&g_info_once, build_info);
    return g_info;
}
