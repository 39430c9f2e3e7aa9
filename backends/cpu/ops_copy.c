/*
 * ops_copy.c - the data-movement ops of the CPU backend: cont, cpy,
 * get_rows and concat.
 *
 * Every op here works row by row: a "row" is the ne0 elements at one
 * (i1, i2, i3), and threads take contiguous ranges of rows (dc_cpu_split), so
 * no two threads ever write the same bytes and the result does not depend on
 * the thread count. Conversions go through the type traits' reference
 * to_float / from_float, which take contiguous rows: a source row whose
 * elements are strided (a transposed or permuted view of a plain type) is
 * first gathered into this thread's slice of the shared scratch, sized by
 * dc_cpu_copy_work_size(). Block types always have contiguous rows (views
 * cannot move dim 0 of a block type), so only plain types ever gather.
 *
 * get_rows checks every id against the source's row count before reading:
 * a bad id is a DC_ERR_INVALID_ARG compute error, never a wild read.
 */
#include "cpu_impl.h"

#include <string.h>

/* ---- helpers --------------------------------------------------------------------- */

/* (i1, i2, i3) of flat row r of a tensor with ne1 x ne2 rows per ne3 */
static void row_index(const dc_tensor *t, int64_t r, int64_t *i1, int64_t *i2, int64_t *i3) {
    *i1 = r % t->ne[1];
    *i2 = (r / t->ne[1]) % t->ne[2];
    *i3 = r / (t->ne[1] * t->ne[2]);
}

/* Per-thread scratch bytes to gather one strided row of t (0: rows of t are
 * contiguous and are read in place). */
static size_t gather_bytes(const dc_tensor *t) {
    if (dc_rows_contiguous(t)) return 0;
    const dc_type_traits *tr = dc_get_type_traits(t->type);
    return dc_pad((size_t)t->ne[0] * tr->type_size, DC_ALIGN);
}

size_t dc_cpu_copy_work_size(const dc_tensor *dst, int n_threads) {
    return gather_bytes(dst->src[0]) * (size_t)n_threads;
}

/* This thread's gather buffer, or NULL (and a recorded error) if the shared
 * scratch is smaller than dc_cpu_copy_work_size() promised. */
static void *gather_buf(const dc_cpu_task *p, const dc_tensor *dst) {
    size_t per = gather_bytes(dst->src[0]);
    if (per == 0) return NULL;
    if (per * (size_t)p->nth > p->wsize) {
        dc_cpu_fail(p, DC_ERR_INTERNAL, "%s: scratch of %zu bytes, need %zu",
                    dc_op_name(dst->op), p->wsize, per * (size_t)p->nth);
        return NULL;
    }
    return (char *)p->wdata + per * (size_t)p->ith;
}

/* One row of t (at byte address row) as contiguous bytes: in place, or
 * gathered into buf (elements of a plain type, nb[0] apart). */
static const void *row_bytes(const dc_tensor *t, const char *row, void *buf) {
    if (!buf) return row;
    const size_t ts = dc_get_type_traits(t->type)->type_size;
    char *out = buf;
    for (int64_t i = 0; i < t->ne[0]; i++) memcpy(out + i * ts, row + i * t->nb[0], ts);
    return buf;
}

/* Whether the op can read t's rows: contiguous, or a plain type to gather. */
static bool rows_readable(const dc_cpu_task *p, const dc_tensor *dst, const dc_tensor *t) {
    if (dc_rows_contiguous(t) || dc_get_type_traits(t->type)->blck_size == 1) return true;
    dc_cpu_fail(p, DC_ERR_UNSUPPORTED, "%s: %s has strided rows of block type %s",
                dc_op_name(dst->op), t->name, dc_type_name(t->type));
    return false;
}

/* ---- cont ------------------------------------------------------------------------ */

/* dst F32 [ne0, ne1, ne2, ne3] contiguous = float(src), src any type and strides */
void dc_cpu_op_cont(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *src = dst->src[0];
    const dc_type_traits *tr = dc_get_type_traits(src->type);
    if (!rows_readable(p, dst, src)) return;
    void *buf = gather_buf(p, dst);
    if (!buf && gather_bytes(src)) return;
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(src), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i1, i2, i3;
        row_index(src, r, &i1, &i2, &i3);
        const void *row = row_bytes(src, dc_tensor_at(src, i1, i2, i3), buf);
        tr->to_float(row, (float *)dc_tensor_at(dst, i1, i2, i3), src->ne[0]);
    }
}

/* ---- cpy ------------------------------------------------------------------------- */

/* dst (a view of the target, its type) = convert(src F32). Row r of src (any
 * strides) goes to row r of dst in flat row order; dst rows are contiguous
 * (the builder checked), so from_float writes them in place. */
void dc_cpu_op_cpy(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *src = dst->src[0];
    const dc_type_traits *tr = dc_get_type_traits(dst->type);
    if (!rows_readable(p, dst, src)) return;
    float *buf = gather_buf(p, dst);
    if (!buf && gather_bytes(src)) return;
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(src), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t s1, s2, s3, d1, d2, d3;
        row_index(src, r, &s1, &s2, &s3);
        row_index(dst, r, &d1, &d2, &d3);
        const float *row = row_bytes(src, dc_tensor_at(src, s1, s2, s3), buf);
        tr->from_float(row, dc_tensor_at(dst, d1, d2, d3), src->ne[0]);
    }
}

/* ---- get_rows -------------------------------------------------------------------- */

/* a [ne0, n_rows, ne2] any type, ids I32 [n, ne2] -> dst F32 [ne0, n, ne2]:
 * dst[:, i, i2] = float(a[:, ids[i, i2], i2]). */
void dc_cpu_op_get_rows(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0], *ids = dst->src[1];
    const dc_type_traits *tr = dc_get_type_traits(a->type);
    if (!rows_readable(p, dst, a)) return;
    void *buf = gather_buf(p, dst);
    if (!buf && gather_bytes(a)) return;
    const int64_t n = ids->ne[0];
    int64_t r0, r1;
    dc_cpu_split(p, n * ids->ne[1], &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t i = r % n, i2 = r / n;
        int32_t id;
        memcpy(&id, (const char *)ids->data + i * ids->nb[0] + i2 * ids->nb[1], sizeof id);
        if (id < 0 || id >= a->ne[1]) {
            dc_cpu_fail(p, DC_ERR_INVALID_ARG, "get_rows: id %d outside [0, %lld) at [%lld, %lld]"
                        " of %s (rows of %s)", (int)id, (long long)a->ne[1], (long long)i,
                        (long long)i2, ids->name, a->name);
            return;
        }
        const void *row = row_bytes(a, dc_tensor_at(a, id, i2, 0), buf);
        tr->to_float(row, (float *)dc_tensor_at(dst, i, i2, 0), a->ne[0]);
    }
}

/* ---- concat ---------------------------------------------------------------------- */

/* Copy n F32 values, src elements nb0 bytes apart, into contiguous out. */
static void copy_f32(float *out, const char *src, size_t nb0, int64_t n) {
    for (int64_t i = 0; i < n; i++) memcpy(out + i, src + (size_t)i * nb0, sizeof(float));
}

/* dst F32 = a ++ b along dim (a, b F32, any strides, equal in the other dims) */
void dc_cpu_op_concat(const dc_cpu_task *p, dc_tensor *dst) {
    const dc_tensor *a = dst->src[0], *b = dst->src[1];
    const int dim = dst->params.concat.dim;
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(dst), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        int64_t i[4] = { 0 };
        row_index(dst, r, &i[1], &i[2], &i[3]);
        float *out = (float *)dc_tensor_at(dst, i[1], i[2], i[3]);
        if (dim == 0) {
            copy_f32(out, dc_tensor_at(a, i[1], i[2], i[3]), a->nb[0], a->ne[0]);
            copy_f32(out + a->ne[0], dc_tensor_at(b, i[1], i[2], i[3]), b->nb[0], b->ne[0]);
            continue;
        }
        const dc_tensor *s = a;
        if (i[dim] >= a->ne[dim]) {
            s = b;
            i[dim] -= a->ne[dim];
        }
        copy_f32(out, dc_tensor_at(s, i[1], i[2], i[3]), s->nb[0], s->ne[0]);
    }
}
