/*
 * bad_gguf.h - hostile GGUF files, generated. Used by gen_bad_gguf (writes
 * them to a directory) and test_gguf (feeds them to the reader in-process).
 *
 * Everything is derived from one small valid file built here byte by byte,
 * independently of lib/gguf: 19 keys of every value type (strings, empty
 * string, arrays of u32 / string / bool, an empty array), three tensors (F32
 * [8, 2], F16 [16], Q8_0 [32, 2]) at offsets 0, 64, 96, alignment 32.
 */
#ifndef DEEPC_BAD_GGUF_H
#define DEEPC_BAD_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Receives one generated file; data is valid only during the call. policy is
 * true for files that are malformed by deepc's (and ggml's) rules while the
 * GGUF spec text alone would allow them (n_dims 0, a well-formed nested
 * array, overlapping tensors, a 64-byte tensor name); false for files no
 * reader can accept (truncation, counts past the end, unknown ids, ...). */
typedef void (*dc_bad_gguf_fn)(const char *name, const uint8_t *data, size_t size,
                               bool policy, void *user);

/* Call fn once per hostile file; returns how many, or -1 if malloc failed. */
int dc_bad_gguf_generate(dc_bad_gguf_fn fn, void *user);

/* The valid base file the hostile ones derive from (malloc'ed, caller
 * free()s), NULL on malloc failure. */
uint8_t *dc_bad_gguf_base(size_t *size);

#endif /* DEEPC_BAD_GGUF_H */
