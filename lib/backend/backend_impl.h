/*
 * backend_impl.h - the vtables a backend implements (private; the role of
 * ggml-backend-impl.h, with fewer slots).
 *
 *   dc_buffer_type_i  how to allocate memory of one kind (host, a CUDA device)
 *   dc_buffer_i       one allocation: base address, copy in / out
 *   dc_backend_i      an executor: op support and graph compute
 *
 * Each object is { iface, context }. Slots marked (optional) may be NULL, with
 * the default given beside them. Nothing above lib/backend includes a
 * backend's own header: backends are reached only through these tables.
 */
#ifndef DEEPC_BACKEND_IMPL_H
#define DEEPC_BACKEND_IMPL_H

#include "../tensor/tensor_impl.h"

typedef struct dc_buffer_type dc_buffer_type;

typedef struct dc_buffer_type_i {
    const char *(*name)(const dc_buffer_type *bt);
    /* a new buffer of size bytes; *out NULL on failure */
    dc_status   (*alloc_buffer)(dc_buffer_type *bt, size_t size, dc_buffer **out);
    size_t      (*alignment)(const dc_buffer_type *bt);
    /* (optional) NULL: false. Host memory the CPU can address directly. */
    bool        (*is_host)(const dc_buffer_type *bt);
} dc_buffer_type_i;

struct dc_buffer_type {
    dc_buffer_type_i iface;
    void            *context;
};

typedef struct dc_buffer_i {
    void      (*free)(dc_buffer *buf);
    void     *(*base)(dc_buffer *buf);
    /* copy n bytes at byte offset of t's data from / to host memory */
    dc_status (*set_tensor)(dc_buffer *buf, dc_tensor *t, const void *src, size_t offset,
                            size_t n);
    dc_status (*get_tensor)(dc_buffer *buf, const dc_tensor *t, void *dst, size_t offset,
                            size_t n);
    /* (optional) NULL: set_tensor of zeros is not attempted; memset(base) on host */
    void      (*clear)(dc_buffer *buf, uint8_t value);
} dc_buffer_i;

struct dc_buffer {
    dc_buffer_i     iface;
    void           *context;
    dc_buffer_type *type;
    size_t          size;
};

typedef struct dc_backend_i {
    const char     *(*name)(const dc_backend *b);
    void            (*free)(dc_backend *b);
    dc_buffer_type *(*buffer_type)(dc_backend *b);
    bool            (*supports_op)(const dc_backend *b, const dc_tensor *node);
    /* run g's nodes; every tensor is allocated where this backend reads it */
    dc_status       (*graph_compute)(dc_backend *b, dc_graph *g);
    /* (optional) NULL: nothing to wait for */
    dc_status       (*synchronize)(dc_backend *b);
} dc_backend_i;

struct dc_backend {
    dc_backend_i iface;
    void        *context;
};

/* Initialize a buffer object (for backends' alloc_buffer). */
dc_buffer *dc_buffer_new(dc_buffer_type *type, const dc_buffer_i *iface, void *context,
                         size_t size);
void      *dc_buffer_base(dc_buffer *buf);
/* Place t (not a view, no data yet) at byte offset of buf. */
dc_status  dc_buffer_place(dc_buffer *buf, dc_tensor *t, size_t offset);

/* Whether backend b can read t where t's bytes live. */
bool dc_backend_can_read(dc_backend *b, const dc_tensor *t);
bool dc_backend_is_host(dc_backend *b);

/* Bytes to reserve for t's data (its root's contiguous size, padded). */
size_t dc_tensor_alloc_size(const dc_tensor *t, size_t align);

#endif /* DEEPC_BACKEND_IMPL_H */
