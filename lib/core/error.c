/*
 * error.c - status names and the thread-local last-error message.
 *
 * Each thread has one message buffer. dc_error() overwrites it and returns
 * the status it was given; dc_error_prefix() adds context as the error climbs
 * ("model: tensor blk.0.ffn_up: ..."). Messages are truncated at 1 KiB, never
 * allocated, so reporting an out-of-memory error cannot itself fail.
 */
#include "core_impl.h"

#include <stdio.h>
#include <string.h>

#define DC_ERROR_MAX 1024

static _Thread_local char tls_msg[DC_ERROR_MAX];

const char *dc_status_str(dc_status status) {
    switch (status) {
    case DC_OK:               return "DC_OK";
    case DC_ERR_INVALID_ARG:  return "DC_ERR_INVALID_ARG";
    case DC_ERR_NOMEM:        return "DC_ERR_NOMEM";
    case DC_ERR_IO:           return "DC_ERR_IO";
    case DC_ERR_FORMAT:       return "DC_ERR_FORMAT";
    case DC_ERR_SHAPE:        return "DC_ERR_SHAPE";
    case DC_ERR_TYPE:         return "DC_ERR_TYPE";
    case DC_ERR_UNSUPPORTED:  return "DC_ERR_UNSUPPORTED";
    case DC_ERR_CONTEXT_FULL: return "DC_ERR_CONTEXT_FULL";
    case DC_ERR_CHECKSUM:     return "DC_ERR_CHECKSUM";
    case DC_ERR_ABORTED:      return "DC_ERR_ABORTED";
    case DC_ERR_NOT_FOUND:    return "DC_ERR_NOT_FOUND";
    case DC_ERR_INTERNAL:     return "DC_ERR_INTERNAL";
    }
    return "DC_ERR_UNKNOWN";
}

const char *dc_last_error(void) { return tls_msg; }

void dc_error_clear(void) { tls_msg[0] = '\0'; }

dc_status dc_verror(dc_status status, const char *fmt, va_list ap) {
    vsnprintf(tls_msg, sizeof tls_msg, fmt, ap);
    return status;
}

dc_status dc_error(dc_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    dc_verror(status, fmt, ap);
    va_end(ap);
    return status;
}

void dc_error_prefix(const char *fmt, ...) {
    char prefix[256];
    char old[DC_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, tls_msg, sizeof old);
    size_t n = strlen(prefix);
    if (n > sizeof prefix - 3) n = sizeof prefix - 3;
    memcpy(prefix + n, ": ", 3);
    dc_str_join(tls_msg, sizeof tls_msg, prefix, old);
}

void dc_str_join(char *dst, size_t cap, const char *a, const char *b) {
    if (cap == 0) return;
    size_t na = strlen(a), nb = strlen(b);
    if (na > cap - 1) na = cap - 1;
    if (nb > cap - 1 - na) nb = cap - 1 - na;
    memmove(dst, a, na);
    memmove(dst + na, b, nb);
    dst[na + nb] = '\0';
}
