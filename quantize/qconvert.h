/*
 * qconvert.h - turn a source tensor into rows of a target type and stream
 * them into a GGUF writer: the engine under deepc-quantize's requantize and
 * --from-hf paths.
 *
 * A source is a callback that produces row r as floats (dequantized f32),
 * plus an optional one that writes row r directly in the target type when
 * that is lossless (same type: a byte copy; FP8 blocks with one scale: bit
 * for bit). Rows are converted in chunks of a few MiB, each chunk's rows in
 * parallel (OpenMP, n_threads), then appended in order: every row is
 * computed alone, so the file is byte-identical for any thread count, and
 * memory is one chunk plus one row of floats per thread.
 */
#ifndef DEEPC_QUANTIZE_QCONVERT_H
#define DEEPC_QUANTIZE_QCONVERT_H

#include "qutil.h"

#include <deepc/gguf.h>

typedef struct dc_q_source {
    void *ctx;
    /* Row r (0 <= r < n_rows) as ne0 floats. Called from several threads at
     * once for distinct rows. */
    void (*row_f32)(void *ctx, int64_t r, float *dst);
    /* Optional: write row r as type into dst (dc_row_size(type, ne0) bytes)
     * when that is exact, returning true; false: use row_f32 and quantize.
     * Same threading as row_f32. */
    bool (*row_raw)(void *ctx, int64_t r, dc_type type, void *dst);
    /* Optional: rows [r0, r1) will not be read again (release their pages). */
    void (*release)(void *ctx, int64_t r0, int64_t r1);
} dc_q_source;

/* Convert n_rows rows of ne0 elements into type and append them to w (which
 * must be streaming and expecting this tensor). name is for messages and
 * the progress bar (prog may be NULL; it advances by ne0 per row). */
dc_status dc_q_convert_tensor(dc_gguf_writer *w, const dc_q_source *src, dc_type type,
                              int64_t ne0, int64_t n_rows, int n_threads, dc_q_progress *prog,
                              const char *name);

/* Drop the resident pages of [p, p + n) inside a read-only file mapping
 * [map, map + map_size) (madvise DONTNEED, clipped to the mapping so no
 * neighbouring memory is touched). */
void dc_q_release_pages(const void *map, size_t map_size, const void *p, size_t n);

#endif /* DEEPC_QUANTIZE_QCONVERT_H */
