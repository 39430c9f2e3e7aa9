/*
 * log.c - the library's only way to say something.
 *
 * One process-wide sink set by dc_log_set(); the default drops everything, so
 * a program linking libdeepc.a sees nothing it did not ask for. Lines are
 * formatted into a stack buffer (truncated at 1 KiB) and handed to the sink.
 */
#include "core_impl.h"

#include <stdio.h>

static dc_log_fn    log_fn;
static void        *log_user;
static dc_log_level log_min = DC_LOG_NONE;

void dc_log_set(dc_log_fn fn, void *user, dc_log_level min_level) {
    log_fn = fn;
    log_user = user;
    log_min = fn ? min_level : DC_LOG_NONE;
}

void dc_log(dc_log_level level, const char *fmt, ...) {
    if (!log_fn || level < log_min || level >= DC_LOG_NONE) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    log_fn(level, line, log_user);
}

const char *dc_version(void) {
#define DC_STR2(x) #x
#define DC_STR(x) DC_STR2(x)
    return DC_STR(DC_VERSION_MAJOR) "." DC_STR(DC_VERSION_MINOR) "." DC_STR(DC_VERSION_PATCH);
}
