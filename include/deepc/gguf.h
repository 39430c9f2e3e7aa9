/*
 * deepc/gguf.h - GGUF files: read (mmap), write, verify.
 *
 * The reader trusts nothing: magic, version (2 or 3), counts, every string
 * and array length, value types, bool bytes, n_dims <= 4, dimension products,
 * type ids, tensor offsets (aligned, inside the file, non-overlapping), the
 * alignment key, duplicate keys and tensor names are all checked before
 * dc_gguf_open() returns. Any violation is DC_ERR_FORMAT with a message that
 * names the key or tensor; no input makes it crash or read out of bounds.
 * In detail: keys are 1..65535 bytes, tensor names 1..63 bytes, neither holds
 * a NUL byte; arrays do not nest; n_dims is 1..4 (deepc refuses ggml's
 * n_dims 0); every ne >= 0, their product and the byte size fit int64 and
 * size_t, ne[0] is a multiple of the type's block size; general.alignment,
 * when present, is a u32 power of two. Gaps between tensors and tensors out
 * of info order are accepted (ggml is stricter; our writer satisfies it).
 * Counts and lengths are checked against the bytes left before anything is
 * allocated, so memory use is bounded by a small multiple of the file size.
 * Error messages do not repeat the path: callers prefix it.
 *
 * The writer produces files the peer engine (ggml) reads: tensor data in info
 * order at contiguous aligned offsets, names < 64 bytes, padding after the
 * last tensor. It stores one XXH3-64 per tensor under the metadata key
 * "deepc.checksum.xxh3" (u64 array, tensor order); dc_gguf_verify() checks it.
 * It writes either in one call from borrowed tensor data, or streaming, for
 * files larger than memory: tensors declared by shape, the header written
 * first, then the data piece by piece (see "streaming" below).
 */
#ifndef DEEPC_GGUF_H
#define DEEPC_GGUF_H

#include "deepc/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DC_GGUF_CHECKSUM_KEY "deepc.checksum.xxh3"
#define DC_GGUF_DEFAULT_ALIGNMENT 32

typedef enum dc_gguf_type {
    DC_GGUF_U8 = 0, DC_GGUF_I8 = 1, DC_GGUF_U16 = 2, DC_GGUF_I16 = 3,
    DC_GGUF_U32 = 4, DC_GGUF_I32 = 5, DC_GGUF_F32 = 6, DC_GGUF_BOOL = 7,
    DC_GGUF_STRING = 8, DC_GGUF_ARRAY = 9, DC_GGUF_U64 = 10, DC_GGUF_I64 = 11,
    DC_GGUF_F64 = 12,
    DC_GGUF_TYPE_COUNT = 13   /* not a type: one past the last id */
} dc_gguf_type;

/* "u8", "i8", ..., "string", "array", "f64"; "invalid" for other values. */
const char *dc_gguf_type_name(dc_gguf_type t);

/* ---- reading ---------------------------------------------------------------- */
typedef struct dc_gguf dc_gguf;

/* Open and validate a file (mmapped read-only, so a file truncated by
 * someone else while open can still fault). *out is NULL on failure:
 * DC_ERR_IO (cannot open / not a regular file / mmap), DC_ERR_FORMAT,
 * DC_ERR_NOMEM. The handle is read-only and may be shared by threads. */
dc_status dc_gguf_open(const char *path, dc_gguf **out);
/* Validate a GGUF held in memory; data must outlive the handle (not copied). */
dc_status dc_gguf_open_memory(const void *data, size_t size, dc_gguf **out);
void      dc_gguf_close(dc_gguf *g);   /* NULL: no-op */

uint32_t dc_gguf_version(const dc_gguf *g);
size_t   dc_gguf_alignment(const dc_gguf *g);
size_t   dc_gguf_data_offset(const dc_gguf *g);   /* file offset of tensor data */
size_t   dc_gguf_file_size(const dc_gguf *g);

/* Key/value metadata. Index-based access, keys in file order. Lookups by
 * name are hash lookups (O(1)). An index outside [0, n_kv) gives NULL /
 * DC_GGUF_TYPE_COUNT. Key strings are NUL-terminated, valid until close. */
int64_t      dc_gguf_n_kv(const dc_gguf *g);
int64_t      dc_gguf_find_key(const dc_gguf *g, const char *key); /* -1 if absent */
const char  *dc_gguf_key(const dc_gguf *g, int64_t i);
dc_gguf_type dc_gguf_kv_type(const dc_gguf *g, int64_t i);

/* Typed getters by key: DC_ERR_NOT_FOUND if absent, DC_ERR_TYPE (message
 * naming the key and both types) if stored as another type. Integer getters
 * accept any integer type (not bool) whose value fits the requested one, and
 * DC_ERR_TYPE names the value when it does not fit. dc_gguf_get_f64 accepts
 * F32 and F64; dc_gguf_get_f32 only F32. *out is untouched on failure. */
dc_status dc_gguf_get_u32(const dc_gguf *g, const char *key, uint32_t *out);
dc_status dc_gguf_get_i32(const dc_gguf *g, const char *key, int32_t *out);
dc_status dc_gguf_get_u64(const dc_gguf *g, const char *key, uint64_t *out);
dc_status dc_gguf_get_i64(const dc_gguf *g, const char *key, int64_t *out);
dc_status dc_gguf_get_f32(const dc_gguf *g, const char *key, float *out);
dc_status dc_gguf_get_f64(const dc_gguf *g, const char *key, double *out);
dc_status dc_gguf_get_bool(const dc_gguf *g, const char *key, bool *out);
/* String value: pointer into the file (not NUL-terminated) and its length;
 * valid until dc_gguf_close(g). */
dc_status dc_gguf_get_str(const dc_gguf *g, const char *key, const char **s, size_t *len);

/* Arrays: element type and count, then elements. */
dc_status dc_gguf_get_arr_info(const dc_gguf *g, const char *key,
                               dc_gguf_type *elem_type, uint64_t *n);
/* Numeric array elements, packed little-endian in the file (unaligned);
 * pointer valid until close. Not for string arrays (DC_ERR_TYPE). */
dc_status dc_gguf_get_arr_data(const dc_gguf *g, const char *key, const void **data);
/* Element i of a string array, like dc_gguf_get_str; O(1). i >= count is
 * DC_ERR_INVALID_ARG. */
dc_status dc_gguf_get_arr_str(const dc_gguf *g, const char *key, uint64_t i,
                              const char **s, size_t *len);

/* Tensors, in file order. */
typedef struct dc_gguf_tensor_info {
    const char *name;        /* NUL-terminated, < 64 bytes; valid until close */
    dc_type     type;
    int         n_dims;
    int64_t     ne[4];       /* unused dims are 1 */
    uint64_t    offset;      /* relative to dc_gguf_data_offset()            */
    size_t      size;        /* bytes of data                                 */
    const void *data;        /* inside the mapping; valid until close         */
} dc_gguf_tensor_info;

int64_t   dc_gguf_n_tensors(const dc_gguf *g);
int64_t   dc_gguf_find_tensor(const dc_gguf *g, const char *name); /* -1 if absent */
/* Copy record i (0 <= i < n_tensors, else DC_ERR_INVALID_ARG) into *out. A
 * tensor with a 0 dimension has size 0. */
dc_status dc_gguf_tensor(const dc_gguf *g, int64_t i, dc_gguf_tensor_info *out);

/* Check every tensor's XXH3-64 against DC_GGUF_CHECKSUM_KEY (reads all
 * tensor data once). DC_ERR_NOT_FOUND if the file has none, DC_ERR_FORMAT if
 * the key is not a u64 array with one entry per tensor, DC_ERR_CHECKSUM
 * naming the first tensor that differs. */
dc_status dc_gguf_verify(const dc_gguf *g);

/* ---- writing ---------------------------------------------------------------- */
typedef struct dc_gguf_writer dc_gguf_writer;

/* A writer collects keys and tensors, then writes them in one call. Not
 * thread-safe; one writer per thread. */
dc_status dc_gguf_writer_init(dc_gguf_writer **out);
void      dc_gguf_writer_free(dc_gguf_writer *w);   /* NULL: no-op */

/* Set a key (replacing an earlier value of the same key, which keeps its
 * position). Strings and array data are copied. Keys are 1..65535 bytes;
 * DC_ERR_INVALID_ARG otherwise. A value set for DC_GGUF_CHECKSUM_KEY is
 * ignored: the writer computes it. */
dc_status dc_gguf_set_u8(dc_gguf_writer *w, const char *key, uint8_t v);
dc_status dc_gguf_set_i8(dc_gguf_writer *w, const char *key, int8_t v);
dc_status dc_gguf_set_u16(dc_gguf_writer *w, const char *key, uint16_t v);
dc_status dc_gguf_set_i16(dc_gguf_writer *w, const char *key, int16_t v);
dc_status dc_gguf_set_u32(dc_gguf_writer *w, const char *key, uint32_t v);
dc_status dc_gguf_set_i32(dc_gguf_writer *w, const char *key, int32_t v);
dc_status dc_gguf_set_u64(dc_gguf_writer *w, const char *key, uint64_t v);
dc_status dc_gguf_set_i64(dc_gguf_writer *w, const char *key, int64_t v);
dc_status dc_gguf_set_f32(dc_gguf_writer *w, const char *key, float v);
dc_status dc_gguf_set_f64(dc_gguf_writer *w, const char *key, double v);
dc_status dc_gguf_set_bool(dc_gguf_writer *w, const char *key, bool v);
dc_status dc_gguf_set_str(dc_gguf_writer *w, const char *key, const char *v);
/* Numeric array of n elements of elem_type (not STRING/ARRAY:
 * DC_ERR_INVALID_ARG), in host order (bool: one byte each, 0 or 1); data
 * may be NULL when n is 0. */
dc_status dc_gguf_set_arr(dc_gguf_writer *w, const char *key, dc_gguf_type elem_type,
                          const void *data, uint64_t n);
dc_status dc_gguf_set_arr_str(dc_gguf_writer *w, const char *key,
                              const char *const *v, uint64_t n);
/* Copy every key of g except DC_GGUF_CHECKSUM_KEY, values verbatim. */
dc_status dc_gguf_copy_kv(dc_gguf_writer *w, const dc_gguf *g);
/* Remove key if it is set (later keys move up one place); DC_OK either way. */
dc_status dc_gguf_unset(dc_gguf_writer *w, const char *key);

/* Add a tensor (file order = call order). data (dc_row_size(type, ne[0]) *
 * rows bytes; NULL allowed only for 0 bytes) is borrowed until the last
 * dc_gguf_writer_write() returns. DC_ERR_INVALID_ARG for a name that is
 * empty, >= 64 bytes or already added, n_dims outside 1..4, ne < 0, ne[0]
 * not a multiple of the block size, an unknown type, or a size the reader
 * would refuse. */
dc_status dc_gguf_add_tensor(dc_gguf_writer *w, const char *name, dc_type type,
                             int n_dims, const int64_t *ne, const void *data);

/* Write the file (version 3, default alignment 32 unless general.alignment
 * was set as u32), with per-tensor XXH3-64 checksums. DC_ERR_INVALID_ARG if
 * general.alignment is set but not a u32 power of two; DC_ERR_IO if the
 * file cannot be written (a partial file is removed). The writer stays
 * usable: it can be written again. */
dc_status dc_gguf_writer_write(dc_gguf_writer *w, const char *path);

/* ---- streaming ----------------------------------------------------------------
 * Writing a file whose tensor data never sits in memory at once:
 *   1. set keys, dc_gguf_declare_tensor() every tensor (name, type, shape);
 *   2. dc_gguf_writer_begin(): writes the header, every offset computed from
 *      the shapes, with DC_GGUF_CHECKSUM_KEY reserved (one u64 per tensor);
 *   3. dc_gguf_writer_append(): the tensor data in declaration order, in
 *      pieces of any size (a row at a time is typical; a piece may span
 *      tensors), hashed on the way (XXH3-64 streaming state);
 *   4. dc_gguf_writer_finish(): pads the last tensor, seeks back, patches the
 *      checksums and closes. The file equals what dc_gguf_writer_write()
 *      makes from the same keys and data.
 * Memory: the writer holds no tensor data. Between begin and finish, keys
 * and tensors cannot change (DC_ERR_INVALID_ARG). Any failure while
 * streaming (I/O, too many bytes, finishing early) closes and removes the
 * partial file, and later calls return DC_ERR_IO until a new begin;
 * dc_gguf_writer_free() during streaming also removes it. After finish the
 * writer can begin again. */

/* Declare a tensor whose data will be streamed: as dc_gguf_add_tensor
 * without data (same argument checks). A writer holding declared tensors can
 * only be written by streaming: dc_gguf_writer_write() refuses it. */
dc_status dc_gguf_declare_tensor(dc_gguf_writer *w, const char *name, dc_type type,
                                 int n_dims, const int64_t *ne);
/* Create path and write the header. DC_ERR_INVALID_ARG if streaming already
 * began, a tensor was added with data (dc_gguf_add_tensor), or the alignment
 * key is bad; DC_ERR_IO if the file cannot be created or written. */
dc_status dc_gguf_writer_begin(dc_gguf_writer *w, const char *path);
/* Append n bytes of tensor data (data may be NULL only when n is 0).
 * DC_ERR_INVALID_ARG when not streaming or when the bytes go past the last
 * tensor (the file is removed); DC_ERR_IO on a write error. */
dc_status dc_gguf_writer_append(dc_gguf_writer *w, const void *data, size_t n);
/* Index of the tensor the next appended byte belongs to (its bytes so far in
 * *done if not NULL): 0..n_tensors, n_tensors when all are complete; -1 when
 * not streaming. */
int64_t   dc_gguf_writer_current(const dc_gguf_writer *w, size_t *done);
/* Complete the file. DC_ERR_INVALID_ARG naming the first tensor that lacks
 * data (the file is removed), DC_ERR_IO on a write error. */
dc_status dc_gguf_writer_finish(dc_gguf_writer *w);

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_GGUF_H */
