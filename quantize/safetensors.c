/*
 * safetensors.c - the strict .safetensors parser and the sharded-checkpoint
 * reader (see safetensors.h for the rules enforced).
 *
 * Parsing: the header length is checked against the file before anything is
 * allocated, the header is copied into a NUL-terminated buffer and parsed by
 * cJSON (its nesting limit bounds recursion), then each entry is checked and
 * recorded. JSON numbers arrive as doubles, so dimensions and offsets must be
 * integral and below 2^53, where doubles are exact. Names are sorted once:
 * duplicates (cJSON keeps both copies of a repeated key) show up as equal
 * neighbours, and lookups are binary searches. Overlap is found by sorting
 * the non-empty tensors by offset and comparing neighbours.
 *
 * Files are mapped MAP_PRIVATE read-only; a converter that streams a large
 * checkpoint calls dc_st_release() behind itself so the resident size stays
 * near one tensor, not the whole file.
 *
 * Refused: headers over 100 MB, more than 8 dimensions, unknown dtypes or
 * fields, shard names with a path in them.
 */
#include "safetensors.h"

#include "qutil.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_MAX_NAME 4096
#define ST_MAX_INDEX (256u << 20)     /* bytes of index JSON accepted */
#define ST_MAX_EXACT 9007199254740992.0 /* 2^53: doubles are exact below */

struct dc_st_file {
    char          *path;       /* or the name given to open_memory       */
    const uint8_t *base;       /* the file [size]                        */
    size_t         size;
    void          *map;        /* mmap to undo; NULL for memory          */
    size_t         data_start; /* 8 + header length                      */
    int64_t        n;
    dc_st_tensor  *tensors;    /* [n], name order                        */
    char          *names;      /* pool of the names                      */
};

static const struct {
    const char *name;
    size_t      size;
} dtypes[DC_ST_DTYPE_COUNT] = {
    [DC_ST_BOOL] = { "BOOL", 1 },        [DC_ST_U8] = { "U8", 1 },
    [DC_ST_I8] = { "I8", 1 },            [DC_ST_F8_E4M3] = { "F8_E4M3", 1 },
    [DC_ST_F8_E5M2] = { "F8_E5M2", 1 },  [DC_ST_U16] = { "U16", 2 },
    [DC_ST_I16] = { "I16", 2 },          [DC_ST_F16] = { "F16", 2 },
    [DC_ST_BF16] = { "BF16", 2 },        [DC_ST_U32] = { "U32", 4 },
    [DC_ST_I32] = { "I32", 4 },          [DC_ST_F32] = { "F32", 4 },
    [DC_ST_U64] = { "U64", 8 },          [DC_ST_I64] = { "I64", 8 },
    [DC_ST_F64] = { "F64", 8 },
};

const char *dc_st_dtype_name(dc_st_dtype t) {
    return (unsigned)t < DC_ST_DTYPE_COUNT ? dtypes[t].name : "?";
}

size_t dc_st_dtype_size(dc_st_dtype t) {
    return (unsigned)t < DC_ST_DTYPE_COUNT ? dtypes[t].size : 0;
}

/* ---- header entries ------------------------------------------------------------ */

/* An integer in [0, 2^53) from a JSON number. */
static bool json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return false;
    double d = v->valuedouble;
    if (!(d >= 0.0) || d >= ST_MAX_EXACT || floor(d) != d) return false;
    *out = (uint64_t)d;
    return true;
}

static dc_status entry_dtype(const dc_st_file *f, const char *name, const cJSON *v,
                             dc_st_dtype *out) {
    if (!cJSON_IsString(v))
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: dtype is %s, want a string", f->path,
                          name, v ? "not a string" : "missing");
    for (int i = 0; i < DC_ST_DTYPE_COUNT; i++)
        if (!strcmp(v->valuestring, dtypes[i].name)) {
            *out = (dc_st_dtype)i;
            return DC_OK;
        }
    return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: unknown dtype \"%.32s\"", f->path, name,
                      v->valuestring);
}

static dc_status entry_shape(const dc_st_file *f, const char *name, const cJSON *v,
                             dc_st_tensor *t) {
    if (!cJSON_IsArray(v))
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: shape is %s, want an array", f->path,
                          name, v ? "not an array" : "missing");
    int n = cJSON_GetArraySize(v);
    if (n > DC_ST_MAX_DIMS)
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: %d dimensions, at most %d", f->path,
                          name, n, DC_ST_MAX_DIMS);
    t->n_dims = n;
    t->n_elements = 1;
    int i = 0;
    for (const cJSON *d = v->child; d; d = d->next, i++) {
        uint64_t x;
        if (!json_uint(d, &x))
            return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: dimension %d is not an integer "
                              "in [0, 2^53)", f->path, name, i);
        t->shape[i] = (int64_t)x;
        if (x != 0 && (uint64_t)t->n_elements > (uint64_t)INT64_MAX / x)
            return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: more than 2^63 elements", f->path,
                              name);
        t->n_elements *= (int64_t)x;
    }
    for (; i < DC_ST_MAX_DIMS; i++) t->shape[i] = 1;
    return DC_OK;
}

static dc_status entry_offsets(const dc_st_file *f, const char *name, const cJSON *v,
                               dc_st_tensor *t) {
    uint64_t b, e;
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !json_uint(v->child, &b) ||
        !json_uint(v->child->next, &e))
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: data_offsets must be two integers "
                          "[begin, end]", f->path, name);
    size_t region = f->size - f->data_start;
    if (b > e || e > region)
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] outside "
                          "the %zu-byte data region", f->path, name, (unsigned long long)b,
                          (unsigned long long)e, region);
    size_t esz = dc_st_dtype_size(t->dtype);
    if ((uint64_t)t->n_elements > SIZE_MAX / esz)
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: %lld elements of %s do not fit in "
                          "memory", f->path, name, (long long)t->n_elements,
                          dc_st_dtype_name(t->dtype));
    if ((size_t)t->n_elements * esz != e - b)
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: %lld elements of %s are %zu bytes, "
                          "data_offsets [%llu, %llu] give %llu", f->path, name,
                          (long long)t->n_elements, dc_st_dtype_name(t->dtype),
                          (size_t)t->n_elements * esz, (unsigned long long)b,
                          (unsigned long long)e, (unsigned long long)(e - b));
    t->data = f->base + f->data_start + b;
    t->size = (size_t)(e - b);
    return DC_OK;
}

/* One "name": {...} entry into *t (name pointing into the JSON for now). */
static dc_status parse_entry(const dc_st_file *f, const cJSON *e, dc_st_tensor *t) {
    const char *name = e->string;
    size_t len = strlen(name);
    if (len == 0 || len >= ST_MAX_NAME)
        return dc_q_error(DC_ERR_FORMAT, "%s: a tensor name is %zu bytes, want 1..%d", f->path,
                          len, ST_MAX_NAME - 1);
    if (!cJSON_IsObject(e))
        return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: entry is not an object", f->path, name);
    static const char *const fields[3] = { "dtype", "shape", "data_offsets" };
    int seen[3] = { 0, 0, 0 };
    for (const cJSON *c = e->child; c; c = c->next) {
        int k = 0;
        while (k < 3 && strcmp(c->string, fields[k]) != 0) k++;
        if (k == 3 || seen[k]++)
            return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s: %s field \"%.64s\"", f->path,
                              name, k == 3 ? "unknown" : "repeated", c->string);
    }
    memset(t, 0, sizeof *t);
    t->name = name;
    t->file = f;
    dc_status st = entry_dtype(f, name, cJSON_GetObjectItemCaseSensitive(e, "dtype"), &t->dtype);
    if (st == DC_OK) st = entry_shape(f, name, cJSON_GetObjectItemCaseSensitive(e, "shape"), t);
    if (st == DC_OK)
        st = entry_offsets(f, name, cJSON_GetObjectItemCaseSensitive(e, "data_offsets"), t);
    return st;
}

static dc_status check_metadata(const dc_st_file *f, const cJSON *m) {
    if (!cJSON_IsObject(m))
        return dc_q_error(DC_ERR_FORMAT, "%s: __metadata__ is not an object", f->path);
    for (const cJSON *c = m->child; c; c = c->next)
        if (!cJSON_IsString(c))
            return dc_q_error(DC_ERR_FORMAT, "%s: __metadata__ value \"%.64s\" is not a string",
                              f->path, c->string);
    return DC_OK;
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(((const dc_st_tensor *)a)->name, ((const dc_st_tensor *)b)->name);
}

static int cmp_offset(const void *a, const void *b) {
    const dc_st_tensor *x = *(const dc_st_tensor *const *)a, *y = *(const dc_st_tensor *const *)b;
    return x->data < y->data ? -1 : x->data > y->data;
}

/* Names unique, non-empty tensors disjoint; f->tensors sorted by name. */
static dc_status check_layout(dc_st_file *f) {
    qsort(f->tensors, (size_t)f->n, sizeof *f->tensors, cmp_name);
    for (int64_t i = 1; i < f->n; i++)
        if (!strcmp(f->tensors[i].name, f->tensors[i - 1].name))
            return dc_q_error(DC_ERR_FORMAT, "%s: tensor %s appears twice", f->path,
                              f->tensors[i].name);
    const dc_st_tensor **by_off = malloc((size_t)(f->n ? f->n : 1) * sizeof *by_off);
    if (!by_off) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", f->path);
    int64_t k = 0;
    for (int64_t i = 0; i < f->n; i++)
        if (f->tensors[i].size > 0) by_off[k++] = &f->tensors[i];
    qsort(by_off, (size_t)k, sizeof *by_off, cmp_offset);
    dc_status st = DC_OK;
    for (int64_t i = 1; i < k && st == DC_OK; i++)
        if (by_off[i]->data < by_off[i - 1]->data + by_off[i - 1]->size)
            st = dc_q_error(DC_ERR_FORMAT, "%s: tensor %s overlaps tensor %s", f->path,
                            by_off[i]->name, by_off[i - 1]->name);
    free(by_off);
    return st;
}

/* Copy the names into f->names (they point into the JSON until now). */
static dc_status own_names(dc_st_file *f) {
    size_t total = 1;
    for (int64_t i = 0; i < f->n; i++) total += strlen(f->tensors[i].name) + 1;
    f->names = malloc(total);
    if (!f->names) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", f->path);
    char *p = f->names;
    for (int64_t i = 0; i < f->n; i++) {
        size_t len = strlen(f->tensors[i].name) + 1;
        memcpy(p, f->tensors[i].name, len);
        f->tensors[i].name = p;
        p += len;
    }
    return DC_OK;
}

static dc_status parse_json(dc_st_file *f, const cJSON *root) {
    if (!cJSON_IsObject(root))
        return dc_q_error(DC_ERR_FORMAT, "%s: header is not a JSON object", f->path);
    int64_t n = 0;
    for (const cJSON *e = root->child; e; e = e->next)
        n += strcmp(e->string, "__metadata__") != 0;
    f->tensors = calloc((size_t)(n ? n : 1), sizeof *f->tensors);
    if (!f->tensors) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", f->path);
    for (const cJSON *e = root->child; e; e = e->next) {
        dc_status st = !strcmp(e->string, "__metadata__") ? check_metadata(f, e)
                                                           : parse_entry(f, e, &f->tensors[f->n++]);
        if (st != DC_OK) return st;
    }
    dc_status st = check_layout(f);
    return st == DC_OK ? own_names(f) : st;
}

/* Validate f->base[0, size): header length, JSON, entries. */
static dc_status parse(dc_st_file *f) {
    if (f->size < 8)
        return dc_q_error(DC_ERR_FORMAT, "%s: %zu bytes, shorter than the 8-byte header length",
                          f->path, f->size);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | f->base[i];
    if (n < 2 || n > DC_ST_MAX_HEADER || n > f->size - 8)
        return dc_q_error(DC_ERR_FORMAT, "%s: header length %llu %s (file of %zu bytes)",
                          f->path, (unsigned long long)n,
                          n > f->size - 8 ? "runs past the end of the file" :
                          n < 2 ? "is too small" : "exceeds 100 MB", f->size);
    const char *hdr = (const char *)f->base + 8;
    if (memchr(hdr, '\0', (size_t)n))
        return dc_q_error(DC_ERR_FORMAT, "%s: header holds a NUL byte", f->path);
    f->data_start = 8 + (size_t)n;
    char *buf = malloc((size_t)n + 1);
    if (!buf) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory for the header", f->path);
    memcpy(buf, hdr, (size_t)n);
    buf[n] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, (size_t)n, &end, false);
    dc_status st = DC_OK;
    if (!root) {
        st = dc_q_error(DC_ERR_FORMAT, "%s: header is not valid JSON (error near byte %lld)",
                        f->path, end ? (long long)(end - buf) : -1LL);
    } else {
        for (const char *p = end; p < buf + n && st == DC_OK; p++)
            if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                st = dc_q_error(DC_ERR_FORMAT, "%s: header has bytes after its JSON object "
                                "(byte %lld)", f->path, (long long)(p - buf));
        if (st == DC_OK) st = parse_json(f, root);
    }
    cJSON_Delete(root);
    free(buf);
    return st;
}

/* ---- files ------------------------------------------------------------------------ */

void dc_st_close(dc_st_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, f->size);
    free(f->tensors);
    free(f->names);
    free(f->path);
    free(f);
}

static dc_status finish_open(dc_st_file *f, dc_st_file **out) {
    dc_status st = parse(f);
    if (st != DC_OK) {
        dc_st_close(f);
        return st;
    }
    *out = f;
    return DC_OK;
}

dc_status dc_st_open_memory(const void *data, size_t size, const char *name, dc_st_file **out) {
    if (!out || (!data && size) || !name)
        return dc_q_error(DC_ERR_INVALID_ARG, "dc_st_open_memory: bad arguments");
    *out = NULL;
    dc_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) {
        free(f);
        return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", name);
    }
    f->base = data;
    f->size = size;
    return finish_open(f, out);
}

dc_status dc_st_open(const char *path, dc_st_file **out) {
    if (!out || !path) return dc_q_error(DC_ERR_INVALID_ARG, "dc_st_open: bad arguments");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return dc_q_error(DC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return dc_q_error(DC_ERR_IO, "%s: not a regular file", path);
    }
    dc_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(path))) {
        free(f);
        close(fd);
        return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", path);
    }
    f->size = (size_t)sb.st_size;
    if (f->size > 0) {
        void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            dc_st_close(f);
            return dc_q_error(DC_ERR_IO, "%s: cannot mmap %lld bytes: %s", path,
                              (long long)sb.st_size, strerror(e));
        }
        f->map = m;
        f->base = m;
    }
    close(fd);
    return finish_open(f, out);
}

const char *dc_st_path(const dc_st_file *f) { return f->path; }
int64_t dc_st_n_tensors(const dc_st_file *f) { return f->n; }

const dc_st_tensor *dc_st_get(const dc_st_file *f, int64_t i) {
    return i >= 0 && i < f->n ? &f->tensors[i] : NULL;
}

const dc_st_tensor *dc_st_find(const dc_st_file *f, const char *name) {
    dc_st_tensor key = { .name = name };
    return bsearch(&key, f->tensors, (size_t)f->n, sizeof key, cmp_name);
}

void dc_st_release(const dc_st_tensor *t, size_t offset, size_t n) {
    const dc_st_file *f = t->file;
    if (!f->map || offset >= t->size) return;
    if (n > t->size - offset) n = t->size - offset;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)(t->data + offset) & ~(page - 1);
    uintptr_t e = ((uintptr_t)(t->data + offset + n) + page - 1) & ~(page - 1);
    uintptr_t lim = ((uintptr_t)f->map + f->size + page - 1) & ~(page - 1);
    if (e > lim) e = lim;
    if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
}

/* ---- checkpoints ---------------------------------------------------------------------- */

struct dc_st_model {
    dc_st_file          **files;    /* [n_files]                       */
    int64_t               n_files;
    const dc_st_tensor  **tensors;  /* [n], name order                 */
    int64_t               n;
    uint64_t              bytes;
};

void dc_st_model_close(dc_st_model *m) {
    if (!m) return;
    for (int64_t i = 0; i < m->n_files; i++) dc_st_close(m->files[i]);
    free(m->files);
    free(m->tensors);
    free(m);
}

static int cmp_tensor_ptr(const void *a, const void *b) {
    return strcmp((*(const dc_st_tensor *const *)a)->name, (*(const dc_st_tensor *const *)b)->name);
}

/* A shard file name from the index: a plain name in the folder. */
static bool plain_file_name(const char *s) {
    return s[0] != '\0' && !strchr(s, '/') && !strchr(s, '\\') && strcmp(s, ".") != 0 &&
           strcmp(s, "..") != 0;
}

/* The open shard called name (opening it the first time). */
static dc_status model_shard(dc_st_model *m, const char *dir, const char *name,
                             const char *tensor, dc_st_file **out) {
    for (int64_t i = 0; i < m->n_files; i++) {
        const char *p = dc_st_path(m->files[i]);
        const char *base = strrchr(p, '/');
        if (!strcmp(base ? base + 1 : p, name)) {
            *out = m->files[i];
            return DC_OK;
        }
    }
    char *path = dc_q_path_join(dir, name);
    if (!path) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", dir);
    dc_st_file *f = NULL;
    dc_status st = dc_st_open(path, &f);
    free(path);
    if (st != DC_OK)
        return dc_q_error_prefix(st, "model.safetensors.index.json: tensor %s is in shard %s",
                                 tensor, name);
    m->files[m->n_files++] = f;
    *out = f;
    return DC_OK;
}

static dc_status model_from_index(dc_st_model *m, const char *dir, const cJSON *root) {
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(root) || !cJSON_IsObject(map))
        return dc_q_error(DC_ERR_FORMAT, "%s/model.safetensors.index.json: no weight_map object",
                          dir);
    int64_t n = cJSON_GetArraySize(map);
    m->files = calloc((size_t)(n ? n : 1), sizeof *m->files);
    m->tensors = calloc((size_t)(n ? n : 1), sizeof *m->tensors);
    if (!m->files || !m->tensors) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", dir);
    for (const cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e) || !plain_file_name(e->valuestring))
            return dc_q_error(DC_ERR_FORMAT, "%s/model.safetensors.index.json: tensor %s: "
                              "shard must be a file name in the folder", dir, e->string);
        dc_st_file *f = NULL;
        dc_status st = model_shard(m, dir, e->valuestring, e->string, &f);
        if (st != DC_OK) return st;
        const dc_st_tensor *t = dc_st_find(f, e->string);
        if (!t)
            return dc_q_error(DC_ERR_FORMAT, "%s/model.safetensors.index.json: tensor %s is "
                              "not in its shard %s", dir, e->string, e->valuestring);
        m->tensors[m->n++] = t;
    }
    qsort(m->tensors, (size_t)m->n, sizeof *m->tensors, cmp_tensor_ptr);
    for (int64_t i = 1; i < m->n; i++)
        if (!strcmp(m->tensors[i]->name, m->tensors[i - 1]->name))
            return dc_q_error(DC_ERR_FORMAT, "%s/model.safetensors.index.json: tensor %s is "
                              "listed twice", dir, m->tensors[i]->name);
    return DC_OK;
}

static dc_status model_single(dc_st_model *m, const char *path) {
    m->files = calloc(1, sizeof *m->files);
    if (!m->files) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", path);
    dc_status st = dc_st_open(path, &m->files[0]);
    if (st != DC_OK) return st;
    m->n_files = 1;
    int64_t n = dc_st_n_tensors(m->files[0]);
    m->tensors = calloc((size_t)(n ? n : 1), sizeof *m->tensors);
    if (!m->tensors) return dc_q_error(DC_ERR_NOMEM, "%s: out of memory", path);
    for (int64_t i = 0; i < n; i++) m->tensors[m->n++] = dc_st_get(m->files[0], i);
    return DC_OK;
}

dc_status dc_st_model_open(const char *dir, dc_st_model **out) {
    if (!out || !dir) return dc_q_error(DC_ERR_INVALID_ARG, "dc_st_model_open: bad arguments");
    *out = NULL;
    dc_st_model *m = calloc(1, sizeof *m);
    char *index = dc_q_path_join(dir, "model.safetensors.index.json");
    char *single = dc_q_path_join(dir, "model.safetensors");
    dc_status st = DC_OK;
    if (!m || !index || !single) {
        st = dc_q_error(DC_ERR_NOMEM, "%s: out of memory", dir);
    } else if (dc_q_file_exists(index)) {
        char *text = NULL;
        size_t len = 0;
        st = dc_q_read_file(index, ST_MAX_INDEX, &text, &len);
        cJSON *root = st == DC_OK ? cJSON_ParseWithLength(text, len) : NULL;
        if (st == DC_OK && !root)
            st = dc_q_error(DC_ERR_FORMAT, "%s: not valid JSON", index);
        if (st == DC_OK) st = model_from_index(m, dir, root);
        cJSON_Delete(root);
        free(text);
    } else if (dc_q_file_exists(single)) {
        st = model_single(m, single);
    } else {
        st = dc_q_error(DC_ERR_NOT_FOUND, "%s: neither model.safetensors.index.json nor "
                        "model.safetensors is there", dir);
    }
    free(index);
    free(single);
    if (st == DC_OK)
        for (int64_t i = 0; i < m->n; i++) m->bytes += m->tensors[i]->size;
    if (st != DC_OK) dc_st_model_close(m);
    else *out = m;
    return st;
}

int64_t dc_st_model_n_tensors(const dc_st_model *m) { return m->n; }

const dc_st_tensor *dc_st_model_get(const dc_st_model *m, int64_t i) {
    return i >= 0 && i < m->n ? m->tensors[i] : NULL;
}

const dc_st_tensor *dc_st_model_find(const dc_st_model *m, const char *name) {
    dc_st_tensor key = { .name = name };
    const dc_st_tensor *kp = &key;
    const dc_st_tensor *const *r = bsearch(&kp, m->tensors, (size_t)m->n, sizeof *m->tensors,
                                           cmp_tensor_ptr);
    return r ? *r : NULL;
}

uint64_t dc_st_model_bytes(const dc_st_model *m) { return m->bytes; }
