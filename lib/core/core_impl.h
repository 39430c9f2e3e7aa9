/*
 * core_impl.h - internals every deepc module shares: the allocator, error
 * recording and logging. Private: never installed, never included from
 * include/.
 *
 * Errors: dc_error(status, fmt, ...) formats the thread-local message that
 * dc_last_error() returns and hands the status back, so a failure path reads
 *     return dc_error(DC_ERR_FORMAT, "tensor %s: offset %llu outside the file", ...);
 *
 * Memory: all heap memory goes through dc_malloc / dc_calloc / dc_realloc /
 * dc_free (64-byte aligned). One place counts the bytes in use and, for tests,
 * injects failures (dc_alloc_fail_after).
 */
#ifndef DEEPC_CORE_IMPL_H
#define DEEPC_CORE_IMPL_H

#include "deepc/base.h"

#include <stdarg.h>

#if defined(__GNUC__)
#define DC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DC_PRINTF(a, b)
#endif

#define DC_ALIGN 64

/* ---- errors ---------------------------------------------------------------- */
dc_status dc_error(dc_status status, const char *fmt, ...) DC_PRINTF(2, 3);
dc_status dc_verror(dc_status status, const char *fmt, va_list ap);
/* Prepend "prefix: " to the current message (adds context on the way up). */
void      dc_error_prefix(const char *fmt, ...) DC_PRINTF(1, 2);
void      dc_error_clear(void);

/* dst = a + b, truncated to cap - 1 bytes, always NUL-terminated. */
void      dc_str_join(char *dst, size_t cap, const char *a, const char *b);

/* Argument contract check at entry points: returns DC_ERR_INVALID_ARG. */
#define DC_CHECK_ARG(cond)                                                     \
    do {                                                                       \
        if (!(cond))                                                           \
            return dc_error(DC_ERR_INVALID_ARG, "%s: invalid argument: %s",   \
                            __func__, #cond);                                  \
    } while (0)

/* Internal invariant: a deepc bug if it fails. Never aborts: the enclosing
 * function returns DC_ERR_INTERNAL (use only in functions returning dc_status). */
#define DC_ASSERT(cond)                                                        \
    do {                                                                       \
        if (!(cond))                                                           \
            return dc_error(DC_ERR_INTERNAL, "%s:%d: internal check failed: %s",\
                            __FILE__, __LINE__, #cond);                        \
    } while (0)

/* ---- logging --------------------------------------------------------------- */
void dc_log(dc_log_level level, const char *fmt, ...) DC_PRINTF(2, 3);
#define DC_LOG_D(...) dc_log(DC_LOG_DEBUG, __VA_ARGS__)
#define DC_LOG_I(...) dc_log(DC_LOG_INFO, __VA_ARGS__)
#define DC_LOG_W(...) dc_log(DC_LOG_WARN, __VA_ARGS__)
#define DC_LOG_E(...) dc_log(DC_LOG_ERROR, __VA_ARGS__)

/* ---- memory ---------------------------------------------------------------- */
/* 64-byte aligned; NULL on failure (with dc_last_error set); size 0 gives a
 * valid unique pointer. dc_free(NULL) does nothing. */
void  *dc_malloc(size_t size);
void  *dc_calloc(size_t n, size_t size);   /* checks n * size for overflow */
void  *dc_realloc(void *p, size_t size);
void   dc_free(void *p);
char  *dc_strdup(const char *s);
/* Bytes currently allocated through dc_malloc (all threads). */
size_t dc_alloc_bytes_in_use(void);
/* Test hook: the n-th allocation from now (0 = the next) and all later ones
 * fail until reset with n < 0. */
void   dc_alloc_fail_after(long n);

/* Overflow-checked size arithmetic: false on overflow. */
static inline bool dc_size_mul(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return false;
    *out = a * b;
    return true;
}
static inline bool dc_size_add(size_t a, size_t b, size_t *out) {
    if (b > (size_t)-1 - a) return false;
    *out = a + b;
    return true;
}
static inline size_t dc_pad(size_t x, size_t align) {
    return (x + align - 1) / align * align;
}

#endif /* DEEPC_CORE_IMPL_H */
