/*
 * safetensors.h - read Hugging Face .safetensors files and sharded
 * checkpoints, trusting nothing.
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "BF16", "shape": [out, in], "data_offsets": [begin,
 * end]}, ..., "__metadata__": {"key": "string"}}, then the data region;
 * offsets are relative to its start. A file is mapped read-only and checked
 * completely by dc_st_open before anything is returned:
 *   - N >= 2 and the header ends inside the file; N <= 100 MB (the limit of
 *     the reference implementation); the header holds no NUL byte, is one
 *     JSON object, followed only by spaces;
 *   - every entry but __metadata__ (an object of strings) is an object with
 *     exactly dtype (a known name), shape (0..8 integers in [0, 2^53)) and
 *     data_offsets (two integers, begin <= end <= the data region's size);
 *   - product(shape) * dtype size == end - begin, overflow-checked;
 *   - names are 1..4095 bytes, unique; non-empty tensors do not overlap.
 * Any violation is DC_ERR_FORMAT (DC_ERR_IO for an unreadable file) with a
 * message naming the file and the tensor; no input crashes the parser.
 *
 * A checkpoint folder is either one model.safetensors or shards listed by
 * model.safetensors.index.json ({"weight_map": {"tensor": "shard file"}});
 * shard names must be plain file names in the folder, each shard must open
 * and hold every tensor the index gives it.
 *
 * Shapes are torch order here (shape[0] outermost), unlike GGUF.
 * Programs only (quantize/): not part of libdeepc.
 */
#ifndef DEEPC_QUANTIZE_SAFETENSORS_H
#define DEEPC_QUANTIZE_SAFETENSORS_H

#include <deepc/base.h>

#define DC_ST_MAX_DIMS 8
#define DC_ST_MAX_HEADER 100000000u   /* bytes of JSON header accepted */

typedef enum dc_st_dtype {
    DC_ST_BOOL = 0, DC_ST_U8, DC_ST_I8, DC_ST_F8_E4M3, DC_ST_F8_E5M2,
    DC_ST_U16, DC_ST_I16, DC_ST_F16, DC_ST_BF16,
    DC_ST_U32, DC_ST_I32, DC_ST_F32,
    DC_ST_U64, DC_ST_I64, DC_ST_F64,
    DC_ST_DTYPE_COUNT
} dc_st_dtype;

/* "BF16", "F8_E4M3", ... as in the header; "?" for other values. */
const char *dc_st_dtype_name(dc_st_dtype t);
/* Bytes per element (0 for values outside the enum). */
size_t      dc_st_dtype_size(dc_st_dtype t);

typedef struct dc_st_file dc_st_file;

typedef struct dc_st_tensor {
    const char        *name;      /* NUL-terminated; valid until close      */
    dc_st_dtype        dtype;
    int                n_dims;    /* 0 (a scalar) .. DC_ST_MAX_DIMS          */
    int64_t            shape[DC_ST_MAX_DIMS]; /* torch order; unused: 1     */
    int64_t            n_elements;
    const uint8_t     *data;      /* inside the file's mapping              */
    size_t             size;      /* bytes                                  */
    const dc_st_file  *file;      /* the file holding it                    */
} dc_st_tensor;

/* Open and validate one file (mapped read-only). *out is NULL on failure. */
dc_status dc_st_open(const char *path, dc_st_file **out);
/* Validate bytes held in memory (not copied; they must outlive the handle);
 * name is used in messages. */
dc_status dc_st_open_memory(const void *data, size_t size, const char *name,
                            dc_st_file **out);
void      dc_st_close(dc_st_file *f);   /* NULL: no-op */

const char         *dc_st_path(const dc_st_file *f);
int64_t             dc_st_n_tensors(const dc_st_file *f);
/* Tensor i in name order (0 <= i < n, else NULL); valid until close. */
const dc_st_tensor *dc_st_get(const dc_st_file *f, int64_t i);
/* By name (binary search); NULL if absent. */
const dc_st_tensor *dc_st_find(const dc_st_file *f, const char *name);
/* Give back the memory pages holding bytes [offset, offset + n) of t's data
 * (madvise DONTNEED: they are re-read from the file if touched again), so a
 * pass over a large checkpoint keeps a bounded resident size. No-op for
 * files opened from memory. */
void                dc_st_release(const dc_st_tensor *t, size_t offset, size_t n);

/* ---- checkpoints -------------------------------------------------------------- */
typedef struct dc_st_model dc_st_model;

/* Open dir/model.safetensors.index.json and its shards, or else
 * dir/model.safetensors. DC_ERR_NOT_FOUND when neither exists. */
dc_status dc_st_model_open(const char *dir, dc_st_model **out);
void      dc_st_model_close(dc_st_model *m);   /* NULL: no-op */

/* Tensors of the checkpoint (those the index lists, or all of the single
 * file), in name order; valid until close. */
int64_t             dc_st_model_n_tensors(const dc_st_model *m);
const dc_st_tensor *dc_st_model_get(const dc_st_model *m, int64_t i);
const dc_st_tensor *dc_st_model_find(const dc_st_model *m, const char *name);
/* Bytes of tensor data over all listed tensors. */
uint64_t            dc_st_model_bytes(const dc_st_model *m);

#endif /* DEEPC_QUANTIZE_SAFETENSORS_H */
