/*
 * backend.c - the CPU backend: host buffers and the graph loop.
 *
 * graph_compute sizes the shared scratch for the graph (growing it before the
 * parallel region, never inside), resolves view addresses, then opens ONE
 * OpenMP parallel region with exactly n_threads threads. Every thread walks
 * all nodes; ops split rows by thread index; a barrier separates nodes. After
 * a node, if any thread reported an error, all threads leave together.
 * Results do not depend on the thread count: ops split work, never sums.
 */
#include "cpu_impl.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- host buffers ------------------------------------------------------------ */

static void host_buffer_free(dc_buffer *buf) { dc_free(buf->context); }
static void *host_buffer_base(dc_buffer *buf) { return buf->context; }

static dc_status host_set(dc_buffer *buf, dc_tensor *t, const void *src, size_t off, size_t n) {
    (void)buf;
    memcpy((char *)t->data + off, src, n);
    return DC_OK;
}

static dc_status host_get(dc_buffer *buf, const dc_tensor *t, void *dst, size_t off, size_t n) {
    (void)buf;
    memcpy(dst, (const char *)t->data + off, n);
    return DC_OK;
}

static void host_clear(dc_buffer *buf, uint8_t v) { memset(buf->context, v, buf->size); }

static const dc_buffer_i host_buffer_i = {
    .free = host_buffer_free,
    .base = host_buffer_base,
    .set_tensor = host_set,
    .get_tensor = host_get,
    .clear = host_clear,
};

static const char *host_bt_name(const dc_buffer_type *bt) { (void)bt; return "CPU"; }
static size_t host_bt_alignment(const dc_buffer_type *bt) { (void)bt; return DC_ALIGN; }
static bool host_bt_is_host(const dc_buffer_type *bt) { (void)bt; return true; }

static dc_status host_bt_alloc(dc_buffer_type *bt, size_t size, dc_buffer **out) {
    *out = NULL;
    void *mem = dc_malloc(size);
    if (!mem) return DC_ERR_NOMEM;
    dc_buffer *buf = dc_buffer_new(bt, &host_buffer_i, mem, size);
    if (!buf) {
        dc_free(mem);
        return DC_ERR_NOMEM;
    }
    *out = buf;
    return DC_OK;
}

static dc_buffer_type host_buffer_type = {
    .iface = {
        .name = host_bt_name,
        .alloc_buffer = host_bt_alloc,
        .alignment = host_bt_alignment,
        .is_host = host_bt_is_host,
    },
    .context = NULL,
};

/* ---- the backend ---------------------------------------------------------------- */

typedef struct cpu_ctx {
    int    n_threads;
    void  *work;        /* shared scratch */
    size_t work_size;
} cpu_ctx;

static const char *cpu_name(const dc_backend *b) { (void)b; return "CPU"; }

static void cpu_free(dc_backend *b) {
    cpu_ctx *c = b->context;
    dc_free(c->work);
    dc_free(c);
    dc_free(b);
}

static dc_buffer_type *cpu_buffer_type(dc_backend *b) { (void)b; return &host_buffer_type; }

static bool cpu_supports_op(const dc_backend *b, const dc_tensor *node) {
    (void)b;
    return dc_cpu_supports(node);
}

void dc_cpu_fail(const dc_cpu_task *p, dc_status st, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
#pragma omp critical
    {
        if (p->err->status == DC_OK) {
            p->err->status = st;
            memcpy(p->err->msg, msg, sizeof msg);
        }
    }
}

void dc_cpu_barrier(void) {
#pragma omp barrier
}

static dc_status check_node(const dc_tensor *n) {
    if (n->op == DC_OP_NONE) return DC_OK;
    if (!n->data && dc_tensor_nelements(n) > 0)
        return dc_error(DC_ERR_INVALID_ARG, "cpu: node %s (%s) has no memory: allocate the graph"
                        " (dc_sched_alloc_graph) or use an allocating context", n->name,
                        dc_op_name(n->op));
    for (int j = 0; j < DC_MAX_SRC; j++) {
        const dc_tensor *s = n->src[j];
        if (s && !s->data && dc_tensor_nelements(s) > 0)
            return dc_error(DC_ERR_INVALID_ARG, "cpu: %s reads %s, which has no data", n->name,
                            s->name);
        if (s && s->buffer && !dc_buffer_is_host(s->buffer))
            return dc_error(DC_ERR_INVALID_ARG, "cpu: %s reads %s from device memory", n->name,
                            s->name);
    }
    return DC_OK;
}

static dc_status cpu_graph_compute(dc_backend *b, dc_graph *g) {
    cpu_ctx *c = b->context;
    const int nth = c->n_threads;
    size_t need = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        dc_tensor *n = g->nodes[i];
        if (n->view_src && n->view_src->data) n->data = (char *)n->view_src->data + n->view_offs;
        dc_status st = check_node(n);
        if (st != DC_OK) return st;
        size_t w = dc_cpu_work_size(n, nth);
        if (w > need) need = w;
    }
    if (need > c->work_size) {
        dc_free(c->work);
        c->work_size = 0;
        c->work = dc_malloc(need);
        if (!c->work) return DC_ERR_NOMEM;
        c->work_size = need;
    }
    dc_cpu_error err = { .status = DC_OK };
    const dc_cpu_kernels *k = dc_cpu_get_kernels();
#pragma omp parallel num_threads(nth)
    {
        dc_cpu_task p = { .ith = omp_get_thread_num(), .nth = omp_get_num_threads(),
                            .wdata = c->work, .wsize = c->work_size, .k = k, .err = &err };
        for (int i = 0; i < g->n_nodes; i++) {
            dc_tensor *n = g->nodes[i];
            if (n->op == DC_OP_VIEW || n->op == DC_OP_NONE) continue;
            dc_cpu_compute(&p, n);
#pragma omp barrier
            if (err.status != DC_OK) break;
        }
    }
    if (err.status != DC_OK) return dc_error(err.status, "cpu: %s", err.msg);
    return DC_OK;
}

static const dc_backend_i cpu_backend_i = {
    .name = cpu_name,
    .free = cpu_free,
    .buffer_type = cpu_buffer_type,
    .supports_op = cpu_supports_op,
    .graph_compute = cpu_graph_compute,
    .synchronize = NULL,
};

int dc_cpu_physical_cores(void) {
    /* count distinct (physical id, core id) pairs; fall back to online CPUs */
    FILE *f = fopen("/proc/cpuinfo", "r");
    int n = 0;
    if (f) {
        char line[256];
        long phys = 0, seen[1024][2];
        int n_seen = 0;
        while (fgets(line, sizeof line, f)) {
            long v;
            if (sscanf(line, "physical id : %ld", &v) == 1) phys = v;
            if (sscanf(line, "core id : %ld", &v) == 1) {
                bool dup = false;
                for (int i = 0; i < n_seen; i++) dup |= seen[i][0] == phys && seen[i][1] == v;
                if (!dup && n_seen < 1024) {
                    seen[n_seen][0] = phys;
                    seen[n_seen][1] = v;
                    n_seen++;
                }
            }
        }
        fclose(f);
        n = n_seen;
    }
    if (n < 1) {
        long m = sysconf(_SC_NPROCESSORS_ONLN);
        n = m > 0 ? (int)m : 1;
    }
    return n;
}

dc_cpu_params dc_cpu_default_params(void) {
    return (dc_cpu_params){ .n_threads = dc_cpu_physical_cores() };
}

dc_status dc_backend_cpu_init(const dc_cpu_params *params, dc_backend **out) {
    DC_CHECK_ARG(out != NULL);
    *out = NULL;
    dc_cpu_params def = dc_cpu_default_params();
    if (!params) params = &def;
    if (params->n_threads < 1)
        return dc_error(DC_ERR_INVALID_ARG, "cpu backend: n_threads = %d (want >= 1)",
                        params->n_threads);
    dc_backend *b = dc_calloc(1, sizeof *b);
    cpu_ctx *c = b ? dc_calloc(1, sizeof *c) : NULL;
    if (!c) {
        dc_free(b);
        return DC_ERR_NOMEM;
    }
    c->n_threads = params->n_threads;
    b->iface = cpu_backend_i;
    b->context = c;
    *out = b;
    return DC_OK;
}

dc_status dc_backend_cpu_set_threads(dc_backend *b, int n_threads) {
    DC_CHECK_ARG(b != NULL && b->iface.name == cpu_name && n_threads >= 1);
    ((cpu_ctx *)b->context)->n_threads = n_threads;
    return DC_OK;
}
