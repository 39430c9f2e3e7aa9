/*
 * alloc.c - every heap byte deepc uses.
 *
 * Blocks are 64-byte aligned (cache lines, AVX-512 loads) with a 64-byte
 * header in front holding the user size, so dc_realloc can copy and the
 * in-use counter stays exact. dc_alloc_fail_after() makes the n-th allocation
 * fail, which is how tests prove every caller handles DC_ERR_NOMEM.
 */
#include "core_impl.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_size_t bytes_in_use;
static atomic_long   fail_countdown = -1;

static bool should_fail(void) {
    long n = atomic_load(&fail_countdown);
    while (n >= 0) {
        if (n == 0) return true;   /* stays at 0: every later call fails */
        if (atomic_compare_exchange_weak(&fail_countdown, &n, n - 1)) return false;
    }
    return false;
}

void dc_alloc_fail_after(long n) { atomic_store(&fail_countdown, n < 0 ? -1 : n); }

size_t dc_alloc_bytes_in_use(void) { return atomic_load(&bytes_in_use); }

void *dc_malloc(size_t size) {
    size_t total;
    if (!dc_size_add(size, DC_ALIGN, &total)) {
        dc_error(DC_ERR_NOMEM, "allocation of %zu bytes: size overflow", size);
        return NULL;
    }
    total = dc_pad(total, DC_ALIGN);
    void *base = should_fail() ? NULL : aligned_alloc(DC_ALIGN, total);
    if (!base) {
        dc_error(DC_ERR_NOMEM, "out of memory allocating %zu bytes", size);
        return NULL;
    }
    *(size_t *)base = size;
    atomic_fetch_add(&bytes_in_use, size);
    return (char *)base + DC_ALIGN;
}

void *dc_calloc(size_t n, size_t size) {
    size_t total;
    if (!dc_size_mul(n, size, &total)) {
        dc_error(DC_ERR_NOMEM, "allocation of %zu x %zu bytes: size overflow", n, size);
        return NULL;
    }
    void *p = dc_malloc(total);
    if (p) memset(p, 0, total);
    return p;
}

void dc_free(void *p) {
    if (!p) return;
    char *base = (char *)p - DC_ALIGN;
    atomic_fetch_sub(&bytes_in_use, *(size_t *)base);
    free(base);
}

void *dc_realloc(void *p, size_t size) {
    if (!p) return dc_malloc(size);
    size_t old = *(size_t *)((char *)p - DC_ALIGN);
    void *q = dc_malloc(size);
    if (!q) return NULL;
    memcpy(q, p, old < size ? old : size);
    dc_free(p);
    return q;
}

char *dc_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = dc_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}
