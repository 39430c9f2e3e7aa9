/*
 * deepc/base.h - status codes, error messages, logging, version.
 *
 * Every fallible call in deepc returns a dc_status (DC_OK = 0, errors are
 * negative) and, on failure, leaves a message for the calling thread that
 * dc_last_error() returns. The message names the object at fault ("tensor
 * blk.3.attn_kv_a_mqa.weight: ..."). Nothing in the library prints, exits or
 * aborts: diagnostics go through the log callback set with dc_log_set().
 */
#ifndef DEEPC_BASE_H
#define DEEPC_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DC_VERSION_MAJOR 0
#define DC_VERSION_MINOR 1
#define DC_VERSION_PATCH 0

typedef enum dc_status {
    DC_OK                = 0,
    DC_ERR_INVALID_ARG   = -1,  /* a caller broke an argument contract        */
    DC_ERR_NOMEM         = -2,  /* an allocation failed                       */
    DC_ERR_IO            = -3,  /* open / read / write / mmap failed          */
    DC_ERR_FORMAT        = -4,  /* a file is malformed or hostile             */
    DC_ERR_SHAPE         = -5,  /* tensor shapes do not fit the operation     */
    DC_ERR_TYPE          = -6,  /* unknown or unsupported tensor type         */
    DC_ERR_UNSUPPORTED   = -7,  /* valid request this build cannot serve      */
    DC_ERR_CONTEXT_FULL  = -8,  /* a session's context has no room left       */
    DC_ERR_CHECKSUM      = -9,  /* stored checksum does not match the data    */
    DC_ERR_ABORTED       = -10, /* the caller's abort callback stopped a call */
    DC_ERR_NOT_FOUND     = -11, /* a key, tensor or file does not exist       */
    DC_ERR_INTERNAL      = -12  /* a broken internal invariant (a deepc bug)  */
} dc_status;

/* Short constant name of a status ("DC_ERR_FORMAT"); never NULL. */
const char *dc_status_str(dc_status status);

/* The message left by the last failing deepc call on this thread, or "" when
 * none failed yet. Valid until the next deepc call on the same thread. */
const char *dc_last_error(void);

typedef enum dc_log_level {
    DC_LOG_DEBUG = 0,
    DC_LOG_INFO  = 1,
    DC_LOG_WARN  = 2,
    DC_LOG_ERROR = 3,
    DC_LOG_NONE  = 4
} dc_log_level;

/* Log sink: msg is one line without a trailing newline, valid only during
 * the call. May be called from any thread that calls into deepc. */
typedef void (*dc_log_fn)(dc_log_level level, const char *msg, void *user);

/* Route library messages at or above min_level to fn (NULL = drop them).
 * The default drops everything below DC_LOG_NONE, i.e. the library is silent
 * until a program asks. Not thread-safe: call before other threads use deepc. */
void dc_log_set(dc_log_fn fn, void *user, dc_log_level min_level);

/* Version string "MAJOR.MINOR.PATCH"; static storage. */
const char *dc_version(void);

/* One line describing this build and machine: CPU features detected, OpenMP,
 * BLAS, CUDA. Static storage, computed once. */
const char *dc_system_info(void);

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_BASE_H */
