/*
 * requant.c - GGUF -> GGUF requantization (dc_q_requantize, quantize.h).
 *
 * The input is mapped by dc_gguf_open; each tensor's rows are dequantized to
 * f32 (or copied, when the type does not change) and quantized to the type
 * qplan.c picks, chunk by chunk, into a streaming writer. The pages of the
 * input are released behind the converter, so the resident size stays near
 * one chunk whatever the model size.
 *
 * The Q4_K_M rules need the model's layer count, expert count, whether
 * output.weight exists and how many attn_v-like tensors there are: read
 * from "<arch>.block_count" (which counts MTP layers, as llama.cpp's
 * n_layer_all does), "<arch>.expert_count" and the tensor names.
 * Integer and F64 tensors (none in the models deepc runs) are copied as they
 * are.
 */
#include "quantize.h"

#include "qconvert.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One input tensor as a row source. */
typedef struct gsrc {
    const uint8_t *data;
    dc_type        type;
    int64_t        ne0;
    size_t         rb;        /* bytes per source row       */
    const void    *map;       /* the input mapping, for release */
    size_t         map_size;
} gsrc;

static void g_row_f32(void *ctx, int64_t r, float *dst) {
    const gsrc *s = ctx;
    dc_dequantize_row(s->type, s->data + (size_t)r * s->rb, dst, s->ne0);
}

static bool g_row_raw(void *ctx, int64_t r, dc_type type, void *dst) {
    const gsrc *s = ctx;
    if (type != s->type) return false;
    memcpy(dst, s->data + (size_t)r * s->rb, s->rb);
    return true;
}

static void g_release(void *ctx, int64_t r0, int64_t r1) {
    const gsrc *s = ctx;
    dc_q_release_pages(s->map, s->map_size, s->data + (size_t)r0 * s->rb,
                       (size_t)(r1 - r0) * s->rb);
}

/* What the mix rules need to know about the model. */
static dc_status model_facts(const dc_gguf *g, const char *in, dc_mix_model *m) {
    memset(m, 0, sizeof *m);
    const char *arch;
    size_t len;
    if (dc_gguf_get_str(g, "general.architecture", &arch, &len) != DC_OK || len > 64)
        return dc_q_error(DC_ERR_FORMAT, "%s: general.architecture is missing", in);
    char key[128];
    uint32_t v = 0;
    snprintf(key, sizeof key, "%.*s.block_count", (int)len, arch);
    if (dc_gguf_get_u32(g, key, &v) == DC_OK) m->n_layer = (int32_t)v;
    snprintf(key, sizeof key, "%.*s.expert_count", (int)len, arch);
    if (dc_gguf_get_u32(g, key, &v) == DC_OK) m->n_expert = (int32_t)v;
    m->has_output = dc_gguf_find_tensor(g, "output.weight") >= 0;
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info ti;
        if (dc_gguf_tensor(g, i, &ti) == DC_OK && dc_mix_counts_as_attn_v(ti.name)) m->n_attn_v++;
    }
    return DC_OK;
}

/* types[i] for every tensor; *any_f8 when one is F8_E4M3_B128. */
static dc_status plan_types(const dc_gguf *g, const char *in, const dc_q_params *p,
                            dc_type *types, bool *any_f8) {
    dc_mix_model m;
    dc_status st = model_facts(g, in, &m);
    if (st != DC_OK) return st;
    dc_mix_state ms = { 0 };
    *any_f8 = false;
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info ti;
        if ((st = dc_gguf_tensor(g, i, &ti)) != DC_OK) return dc_q_error_lib(st, "%s", in);
        bool fb = false;
        types[i] = !dc_q_type_storable(ti.type)
                       ? ti.type
                       : dc_q_plan_type(&p->plan, &m, &ms, ti.name, ti.n_dims, ti.ne, ti.type, &fb);
        if (fb && p->log)
            fprintf(p->log, "note: %s: rows of %lld do not fit the requested type; writing %s\n",
                    ti.name, (long long)ti.ne[0], dc_type_name(types[i]));
        *any_f8 |= types[i] == DC_TYPE_F8_E4M3_B128;
    }
    return DC_OK;
}

/* Keys: all of the input's, then file type, quantization version, FP8 flag. */
static dc_status write_keys(dc_gguf_writer *w, const dc_gguf *g, const dc_q_params *p,
                            bool any_f8) {
    dc_status st = dc_gguf_copy_kv(w, g);
    if (st == DC_OK) st = dc_gguf_unset(w, "deepc.fp8.version");
    if (st == DC_OK && any_f8) st = dc_gguf_set_u32(w, "deepc.fp8.version", 1);
    int32_t ft = dc_q_plan_file_type(&p->plan, DC_TYPE_F32);
    if (st == DC_OK)
        st = ft >= 0 ? dc_gguf_set_u32(w, "general.file_type", (uint32_t)ft)
                     : dc_gguf_unset(w, "general.file_type");
    if (st == DC_OK) st = dc_gguf_set_u32(w, "general.quantization_version", 2);
    return st;
}

static dc_status declare_all(dc_gguf_writer *w, const dc_gguf *g, const dc_type *types,
                             uint64_t *elements, uint64_t *bytes_in) {
    *elements = *bytes_in = 0;
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info ti;
        dc_status st = dc_gguf_tensor(g, i, &ti);
        if (st == DC_OK) st = dc_gguf_declare_tensor(w, ti.name, types[i], ti.n_dims, ti.ne);
        if (st != DC_OK) return dc_q_error_lib(st, "tensor %s", ti.name);
        *elements += (uint64_t)(ti.ne[0] * ti.ne[1] * ti.ne[2] * ti.ne[3]);
        *bytes_in += ti.size;
    }
    return DC_OK;
}

static dc_status stream_all(dc_gguf_writer *w, const dc_gguf *g, const dc_type *types,
                            const dc_q_params *p, dc_q_progress *prog, uint64_t *bytes_out) {
    *bytes_out = 0;
    for (int64_t i = 0; i < dc_gguf_n_tensors(g); i++) {
        dc_gguf_tensor_info ti;
        dc_status st = dc_gguf_tensor(g, i, &ti);
        if (st != DC_OK) return dc_q_error_lib(st, "tensor %lld", (long long)i);
        gsrc s = { .data = ti.data, .type = ti.type, .ne0 = ti.ne[0],
                   .rb = dc_row_size(ti.type, ti.ne[0]),
                   .map = (const uint8_t *)ti.data - dc_gguf_data_offset(g) - ti.offset,
                   .map_size = dc_gguf_file_size(g) };
        dc_q_source src = { .ctx = &s, .row_f32 = g_row_f32, .row_raw = g_row_raw,
                            .release = g_release };
        st = dc_q_convert_tensor(w, &src, types[i], ti.ne[0], ti.ne[1] * ti.ne[2] * ti.ne[3],
                                 p->n_threads, prog, ti.name);
        if (st != DC_OK) return st;
        *bytes_out += dc_row_size(types[i], ti.ne[0]) * (size_t)(ti.ne[1] * ti.ne[2] * ti.ne[3]);
    }
    return DC_OK;
}

/* Writing the file being read would truncate it under its own mapping. */
static bool same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

dc_status dc_q_requantize(const char *in, const char *out, const dc_q_params *p) {
    dc_gguf *g = NULL;
    dc_gguf_writer *w = NULL;
    dc_type *types = NULL;
    if (same_file(in, out))
        return dc_q_error(DC_ERR_INVALID_ARG, "%s: the output is the input file", out);
    dc_status st = dc_gguf_open(in, &g);
    if (st != DC_OK) return dc_q_error_lib(st, "%s", in);
    int64_t n = dc_gguf_n_tensors(g);
    types = malloc((size_t)(n ? n : 1) * sizeof *types);
    bool any_f8 = false;
    uint64_t elements = 0, bytes_in = 0, bytes_out = 0;
    dc_q_progress prog;
    if (!types) {
        st = dc_q_error(DC_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((st = plan_types(g, in, p, types, &any_f8)) != DC_OK) goto done;
    if ((st = dc_gguf_writer_init(&w)) != DC_OK || (st = write_keys(w, g, p, any_f8)) != DC_OK) {
        dc_q_error_lib(st, "%s: metadata", out);
        goto done;
    }
    if ((st = declare_all(w, g, types, &elements, &bytes_in)) != DC_OK) goto done;
    if ((st = dc_gguf_writer_begin(w, out)) != DC_OK) {
        dc_q_error_lib(st, "%s", out);
        goto done;
    }
    dc_q_progress_init(&prog, elements);
    prog.on &= p->progress;
    st = stream_all(w, g, types, p, &prog, &bytes_out);
    dc_q_progress_end(&prog);
    if (st != DC_OK) {
        dc_q_error_prefix(st, "%s", out);
        goto done;
    }
    if ((st = dc_gguf_writer_finish(w)) != DC_OK) {
        dc_q_error_lib(st, "%s", out);
        goto done;
    }
    if (p->log)
        fprintf(p->log, "%s: %lld tensors, %.1f MiB -> %.1f MiB (%s)\n", out, (long long)n,
                (double)bytes_in / 1048576.0, (double)bytes_out / 1048576.0,
                dc_q_plan_name(&p->plan));
done:
    dc_gguf_writer_free(w);   /* removes a partial file */
    dc_gguf_close(g);
    free(types);
    return st;
}
