/*
 * qutil.h - what the quantize/ library parts share: error messages, file
 * helpers and the progress bar.
 *
 * quantize/ uses the public headers only, so it cannot set the library's
 * dc_last_error(). Its own errors go to a thread-local message of the same
 * kind: dc_q_error() sets it and returns the status, dc_q_error_lib() wraps
 * the message of a failed libdeepc call ("out.gguf: tensor x: ..."), and
 * programs print dc_q_last_error(). Programs only: nothing here is part of
 * libdeepc.
 */
#ifndef DEEPC_QUANTIZE_QUTIL_H
#define DEEPC_QUANTIZE_QUTIL_H

#include <deepc/base.h>

#include <stdio.h>

#if defined(__GNUC__)
#define DC_Q_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define DC_Q_PRINTF(a, b)
#endif

/* Set this thread's quantize message; returns st. */
dc_status dc_q_error(dc_status st, const char *fmt, ...) DC_Q_PRINTF(2, 3);
/* The same, with ": " and the library's dc_last_error() appended. */
dc_status dc_q_error_lib(dc_status st, const char *fmt, ...) DC_Q_PRINTF(2, 3);
/* Prepend "prefix: " to the current quantize message; returns st. */
dc_status dc_q_error_prefix(dc_status st, const char *fmt, ...) DC_Q_PRINTF(2, 3);
/* The last message set on this thread ("" if none); valid until the next
 * quantize call on the thread. */
const char *dc_q_last_error(void);

/* "dir/name" (malloc'ed, caller frees), NULL when out of memory. */
char *dc_q_path_join(const char *dir, const char *name);
/* Whether path names an existing regular file. */
bool dc_q_file_exists(const char *path);
/* Read a whole file of at most max_size bytes, NUL-terminated (malloc'ed,
 * caller frees): DC_ERR_IO naming the file when it cannot be read,
 * DC_ERR_FORMAT when it is larger than max_size. */
dc_status dc_q_read_file(const char *path, size_t max_size, char **out, size_t *size);

/* A progress bar on stderr, drawn only when stderr is a terminal and at
 * most ~10 times a second. */
typedef struct dc_q_progress {
    bool     on;        /* stderr is a TTY                    */
    uint64_t total;     /* units of work (elements)           */
    uint64_t done;
    double   t0, last;  /* start and last draw (seconds)      */
} dc_q_progress;

void dc_q_progress_init(dc_q_progress *p, uint64_t total);
/* Count n more units done; what names the current tensor. */
void dc_q_progress_add(dc_q_progress *p, uint64_t n, const char *what);
/* Erase the bar. */
void dc_q_progress_end(dc_q_progress *p);

#endif /* DEEPC_QUANTIZE_QUTIL_H */
