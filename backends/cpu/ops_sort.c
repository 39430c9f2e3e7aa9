/*
 * ops_sort.c - row-wise argsort and top-k on the CPU.
 *
 * Both are one algorithm: select the first k indices of a row in a strict
 * total order and return them in that order (argsort: k = ne0). The order
 * compares values (ascending or descending) and breaks ties by the lower
 * index first, so it equals a stable sort. NaN sorts after every number in
 * both orders (and NaNs among themselves by index), which keeps the order
 * total, so the result is unique and the same on every thread count.
 *
 * Selection uses a binary heap held in the destination row itself (k I32
 * values; no scratch): the first k indices are heapified with the element
 * that comes LAST at the root, every later element that comes before the
 * root replaces it, and a final heapsort puts the k survivors in order.
 * O(n log k), non-recursive, no allocation. Rows are split across threads.
 */
#include "cpu_impl.h"

#include <math.h>

typedef struct sort_row {
    const char *x;     /* the source row               */
    size_t      nb0;   /* bytes between its elements   */
    bool        desc;
} sort_row;

static inline float val(const sort_row *r, int32_t i) {
    return *(const float *)(r->x + (size_t)i * r->nb0);
}

/* true if element i comes before element j */
static bool before(const sort_row *r, int32_t i, int32_t j) {
    const float a = val(r, i), b = val(r, j);
    const bool na = isnan(a), nb = isnan(b);
    if (na || nb) return na == nb ? i < j : nb;
    if (a != b) return r->desc ? a > b : a < b;
    return i < j;
}

/* Restore the heap below slot at of h[0..n): parents come after children. */
static void sift_down(const sort_row *r, int32_t *h, int64_t n, int64_t at) {
    for (;;) {
        int64_t c = 2 * at + 1;
        if (c >= n) return;
        if (c + 1 < n && before(r, h[c], h[c + 1])) c++;
        if (!before(r, h[at], h[c])) return;
        const int32_t t = h[at];
        h[at] = h[c];
        h[c] = t;
        at = c;
    }
}

/* out[0..k) = the first k of the row's n indices, in order. */
static void select_sorted(const sort_row *r, int64_t n, int32_t *out, int64_t k) {
    for (int64_t i = 0; i < k; i++) out[i] = (int32_t)i;
    for (int64_t i = k / 2; i-- > 0;) sift_down(r, out, k, i);
    for (int64_t i = k; i < n; i++) {
        if (!before(r, (int32_t)i, out[0])) continue;
        out[0] = (int32_t)i;
        sift_down(r, out, k, 0);
    }
    for (int64_t end = k - 1; end > 0; end--) {   /* heapsort: last in order to the end */
        const int32_t t = out[0];
        out[0] = out[end];
        out[end] = t;
        sift_down(r, out, end, 0);
    }
}

/* dst I32 [k, ne1, ne2, ne3] = first k indices of each row of src */
static void sort_rows(const dc_cpu_task *p, dc_tensor *dst, bool desc, int64_t k) {
    const dc_tensor *a = dst->src[0];
    int64_t r0, r1;
    dc_cpu_split(p, dc_nrows(a), &r0, &r1);
    for (int64_t r = r0; r < r1; r++) {
        const int64_t i1 = r % a->ne[1], i2 = (r / a->ne[1]) % a->ne[2];
        const int64_t i3 = r / (a->ne[1] * a->ne[2]);
        const sort_row row = { .x = dc_tensor_at(a, i1, i2, i3), .nb0 = a->nb[0], .desc = desc };
        select_sorted(&row, a->ne[0], (int32_t *)dc_tensor_at(dst, i1, i2, i3), k);
    }
}

void dc_cpu_op_argsort(const dc_cpu_task *p, dc_tensor *dst) {
    sort_rows(p, dst, dst->params.argsort.order == DC_SORT_DESC, dst->src[0]->ne[0]);
}

void dc_cpu_op_top_k(const dc_cpu_task *p, dc_tensor *dst) {
    sort_rows(p, dst, true, dst->params.top_k.k);
}
