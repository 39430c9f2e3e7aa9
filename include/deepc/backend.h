/*
 * deepc/backend.h - compute backends, buffers and the scheduler.
 *
 * A backend executes graph nodes; it never builds them. The CPU backend is
 * always present; others (CUDA) register themselves when built. A buffer is
 * memory owned by one backend; tensors are placed in buffers. The scheduler
 * takes a graph, gives each node to a backend (by the backend's op support and
 * where the node's weights live, falling back to the CPU), inserts copies
 * where a node reads a tensor that lives elsewhere, allocates all
 * intermediate tensors once for the worst case, and runs the graph.
 * Nothing is allocated while a graph computes.
 */
#ifndef DEEPC_BACKEND_H
#define DEEPC_BACKEND_H

#include "deepc/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dc_backend dc_backend;
typedef struct dc_buffer  dc_buffer;

/* ---- CPU backend ---------------------------------------------------------- */
typedef struct dc_cpu_params {
    int n_threads;   /* >= 1; the default is the number of physical cores */
} dc_cpu_params;

dc_cpu_params dc_cpu_default_params(void);
/* Physical cores of this machine (>= 1). */
int           dc_cpu_physical_cores(void);

dc_status dc_backend_cpu_init(const dc_cpu_params *params, dc_backend **out);
/* Change the CPU backend's thread count (>= 1). */
dc_status dc_backend_cpu_set_threads(dc_backend *backend, int n_threads);

/* ---- any backend ---------------------------------------------------------- */
const char *dc_backend_name(const dc_backend *backend);
void        dc_backend_free(dc_backend *backend);   /* NULL: no-op */
bool        dc_backend_supports(const dc_backend *backend, const dc_tensor *node);
/* Run every node of g on this backend. All tensors must be allocated in
 * memory this backend can read (for the CPU: host memory). */
dc_status   dc_backend_graph_compute(dc_backend *backend, dc_graph *g);
dc_status   dc_backend_synchronize(dc_backend *backend);

/* Allocate one buffer of this backend big enough for every tensor of ctx
 * that has no data yet, and place them in it. */
dc_status dc_backend_alloc_ctx_tensors(dc_backend *backend, dc_context *ctx,
                                       dc_buffer **out);
void      dc_buffer_free(dc_buffer *buf);           /* NULL: no-op */
size_t    dc_buffer_size(const dc_buffer *buf);

/* ---- scheduler ------------------------------------------------------------ */
typedef struct dc_sched dc_sched;

/* backends[0..n) in order of preference; the CPU backend must be among them
 * (it is the fallback). The scheduler borrows them: free it first. */
dc_status dc_sched_init(dc_backend *const *backends, int n_backends, dc_sched **out);
void      dc_sched_free(dc_sched *sched);            /* NULL: no-op */
/* Plan g: assign backends, split, and size the intermediate buffers for it.
 * Call once with the largest graph; later graphs no larger reuse the memory. */
dc_status dc_sched_reserve(dc_sched *sched, dc_graph *g);
/* Assign backends and give every tensor of g without data (intermediates
 * and inputs) its memory, reusing reserved buffers. After this, set inputs
 * with dc_tensor_set() and call dc_sched_compute(). A no-op if g is the graph
 * planned last. */
dc_status dc_sched_alloc_graph(dc_sched *sched, dc_graph *g);
/* Allocate as above if needed, copy between backends and compute g. */
dc_status dc_sched_compute(dc_sched *sched, dc_graph *g);
/* Backend that ran (or will run) node i of the last planned graph. */
dc_backend *dc_sched_node_backend(const dc_sched *sched, const dc_tensor *node);
int         dc_sched_n_splits(const dc_sched *sched);
/* Bytes of intermediate memory reserved per backend, summed. */
size_t      dc_sched_buffer_size(const dc_sched *sched);

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_BACKEND_H */
