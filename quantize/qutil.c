/*
 * qutil.c - quantize/'s error messages, file helpers and progress bar (see
 * qutil.h).
 *
 * The message buffer is thread-local and fixed (1 KiB, truncated), like the
 * library's, so reporting an allocation failure cannot itself fail. The
 * progress bar rewrites one line with '\r' and erases it at the end; it is
 * drawn only on a terminal, so logs and test output stay clean.
 */
#include "qutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define Q_ERROR_MAX 1024

static _Thread_local char q_msg[Q_ERROR_MAX];

dc_status dc_q_error(dc_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(q_msg, sizeof q_msg, fmt, ap);
    va_end(ap);
    return st;
}

/* Append the pieces to q_msg after its first n bytes, truncating. */
static void append(size_t n, const char *const *parts, int n_parts) {
    for (int i = 0; i < n_parts && n < sizeof q_msg - 1; i++) {
        size_t k = strlen(parts[i]);
        if (k > sizeof q_msg - 1 - n) k = sizeof q_msg - 1 - n;
        memcpy(q_msg + n, parts[i], k);
        n += k;
    }
    q_msg[n] = '\0';
}

dc_status dc_q_error_lib(dc_status st, const char *fmt, ...) {
    char lib[Q_ERROR_MAX];
    snprintf(lib, sizeof lib, "%s", dc_last_error());
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(q_msg, sizeof q_msg, fmt, ap);
    va_end(ap);
    const char *parts[] = { ": ", dc_status_str(st), lib[0] ? ": " : "", lib };
    if (n >= 0 && (size_t)n < sizeof q_msg) append((size_t)n, parts, 4);
    return st;
}

dc_status dc_q_error_prefix(dc_status st, const char *fmt, ...) {
    char old[Q_ERROR_MAX];
    memcpy(old, q_msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(q_msg, sizeof q_msg, fmt, ap);
    va_end(ap);
    const char *parts[] = { ": ", old };
    if (n >= 0 && (size_t)n < sizeof q_msg) append((size_t)n, parts, 2);
    return st;
}

const char *dc_q_last_error(void) { return q_msg; }

char *dc_q_path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

bool dc_q_file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

dc_status dc_q_read_file(const char *path, size_t max_size, char **out, size_t *size) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return dc_q_error(DC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return dc_q_error(DC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > max_size) {
        fclose(f);
        return dc_q_error(DC_ERR_FORMAT, "%s: %lld bytes, more than the %zu allowed", path,
                          (long long)sb.st_size, max_size);
    }
    size_t n = (size_t)sb.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return dc_q_error(DC_ERR_NOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    if (got != n) {
        free(buf);
        return dc_q_error(DC_ERR_IO, "%s: short read (%zu of %zu bytes)", path, got, n);
    }
    buf[n] = '\0';
    *out = buf;
    if (size) *size = n;
    return DC_OK;
}

/* ---- progress --------------------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void dc_q_progress_init(dc_q_progress *p, uint64_t total) {
    p->on = isatty(STDERR_FILENO) == 1;
    p->total = total ? total : 1;
    p->done = 0;
    p->t0 = p->last = now_s();
}

void dc_q_progress_add(dc_q_progress *p, uint64_t n, const char *what) {
    p->done += n;
    if (!p->on) return;
    double t = now_s();
    if (t - p->last < 0.1 && p->done < p->total) return;
    p->last = t;
    enum { WIDTH = 30 };
    double f = p->done >= p->total ? 1.0 : (double)p->done / (double)p->total;
    char bar[WIDTH + 1];
    int full = (int)(f * WIDTH);
    for (int i = 0; i < WIDTH; i++) bar[i] = i < full ? '#' : '.';
    bar[WIDTH] = '\0';
    fprintf(stderr, "\r[%s] %5.1f%% %6.1fs %-40.40s", bar, 100.0 * f, t - p->t0,
            what ? what : "");
    fflush(stderr);
}

void dc_q_progress_end(dc_q_progress *p) {
    if (p->on) fprintf(stderr, "\r%90s\r", "");
}
