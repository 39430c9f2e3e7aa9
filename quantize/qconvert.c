/*
 * qconvert.c - the chunked, parallel row converter (see qconvert.h).
 *
 * A chunk is about 8 MiB of source floats (at least one row): large enough
 * that the threads share out many rows per parallel region, small enough to
 * keep memory flat. Rows are scheduled dynamically (their cost varies: a raw
 * copy versus a K-quant search) but each lands at its own offset, so the
 * schedule never shows in the output.
 */
#include "qconvert.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHUNK_BYTES ((size_t)8 << 20)

void dc_q_release_pages(const void *map, size_t map_size, const void *p, size_t n) {
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)map, hi = ((uintptr_t)map + map_size + page - 1) & ~(page - 1);
    uintptr_t a = (uintptr_t)p & ~(page - 1), e = ((uintptr_t)p + n + page - 1) & ~(page - 1);
    if (a < lo) a = lo;
    if (e > hi) e = hi;
    if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
}

/* Rows [r0, r1) into buf (rb bytes each); false if a row failed to quantize. */
static bool convert_chunk(const dc_q_source *src, dc_type type, int64_t ne0, size_t rb,
                          int64_t r0, int64_t r1, uint8_t *buf, float *scratch, int n_threads) {
    int failed = 0;
#pragma omp parallel for num_threads(n_threads) schedule(dynamic, 1)
    for (int64_t r = r0; r < r1; r++) {
        uint8_t *dst = buf + (size_t)(r - r0) * rb;
        if (src->row_raw && src->row_raw(src->ctx, r, type, dst)) continue;
        if (type == DC_TYPE_F32) {
            src->row_f32(src->ctx, r, (float *)(void *)dst);
            continue;
        }
        float *x = scratch + (size_t)omp_get_thread_num() * (size_t)ne0;
        src->row_f32(src->ctx, r, x);
        if (dc_quantize_row(type, x, dst, ne0) != DC_OK) {
#pragma omp atomic write
            failed = 1;
        }
    }
    return !failed;
}

dc_status dc_q_convert_tensor(dc_gguf_writer *w, const dc_q_source *src, dc_type type,
                              int64_t ne0, int64_t n_rows, int n_threads, dc_q_progress *prog,
                              const char *name) {
    if (ne0 <= 0 || n_rows <= 0) return DC_OK;   /* no bytes to write */
    size_t rb = dc_row_size(type, ne0);
    if (rb == 0)
        return dc_q_error(DC_ERR_INVALID_ARG, "tensor %s: rows of %lld do not fit %s", name,
                          (long long)ne0, dc_type_name(type));
    if (n_threads < 1) n_threads = 1;
    size_t row_cost = rb > (size_t)ne0 * sizeof(float) ? rb : (size_t)ne0 * sizeof(float);
    int64_t per = (int64_t)(CHUNK_BYTES / row_cost);
    if (per < n_threads) per = n_threads;
    if (per > n_rows) per = n_rows;
    uint8_t *buf = malloc((size_t)per * rb);
    float *scratch = malloc((size_t)n_threads * (size_t)ne0 * sizeof *scratch);
    dc_status st = DC_OK;
    if (!buf || !scratch)
        st = dc_q_error(DC_ERR_NOMEM, "tensor %s: out of memory for a %lld-row chunk", name,
                        (long long)per);
    for (int64_t r0 = 0; r0 < n_rows && st == DC_OK; r0 += per) {
        int64_t r1 = r0 + per < n_rows ? r0 + per : n_rows;
        if (!convert_chunk(src, type, ne0, rb, r0, r1, buf, scratch, n_threads)) {
            st = dc_q_error(DC_ERR_INTERNAL, "tensor %s: quantizing rows %lld..%lld to %s "
                            "failed", name, (long long)r0, (long long)r1 - 1, dc_type_name(type));
            break;
        }
        st = dc_gguf_writer_append(w, buf, (size_t)(r1 - r0) * rb);
        if (st != DC_OK) {
            dc_q_error_lib(st, "tensor %s", name);
            break;
        }
        if (src->release) src->release(src->ctx, r0, r1);
        if (prog) dc_q_progress_add(prog, (uint64_t)(r1 - r0) * (uint64_t)ne0, name);
    }
    free(buf);
    free(scratch);
    return st;
}
