/*
 * bad_safetensors.h - hostile .safetensors files, generated for the quantize
 * tests (quantize/safetensors.c must refuse each with an error, never crash).
 *
 * Each case is a header (JSON text, or raw bytes for the length cases) and
 * a data region derived from one small valid file: two F32 tensors
 * "a" [2, 2] at [0, 16] and "b" [4] at [16, 32], plus __metadata__.
 */
#ifndef DEEPC_TEST_BAD_SAFETENSORS_H
#define DEEPC_TEST_BAD_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

/* Receives one file; data is valid only during the call. */
typedef void (*dc_bad_st_fn)(const char *name, const uint8_t *data, size_t size, void *user);

/* Call fn once per hostile file; returns how many, -1 on malloc failure. */
int dc_bad_st_generate(dc_bad_st_fn fn, void *user);

/* The valid base file (malloc'ed, caller frees); NULL on malloc failure. */
uint8_t *dc_bad_st_base(size_t *size);

#endif /* DEEPC_TEST_BAD_SAFETENSORS_H */
