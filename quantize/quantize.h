/*
 * quantize.h - deepc-quantize as functions: requantize a GGUF, convert a
 * Hugging Face checkpoint. The program (quantize.c) parses the command line
 * and calls these; the tests call them directly.
 *
 * Both stream: one output tensor at a time is converted in chunks and
 * appended to a streaming GGUF writer (deepc/gguf.h), so memory stays near
 * one chunk plus the metadata, and the output carries per-tensor XXH3-64
 * checksums (deepc.checksum.xxh3). Source pages are released as they are
 * consumed, so the resident size does not grow with the input either.
 * Errors are dc_status codes with dc_q_last_error() naming the file and
 * tensor; a failed run leaves no output file.
 *
 * Programs only (quantize/): not part of libdeepc.
 */
#ifndef DEEPC_QUANTIZE_QUANTIZE_H
#define DEEPC_QUANTIZE_QUANTIZE_H

#include "qplan.h"

#include <stdio.h>

typedef struct dc_q_params {
    dc_q_plan plan;       /* target + overrides (owned by the caller)       */
    int       n_threads;  /* >= 1                                            */
    FILE     *log;        /* notes (fallbacks, summary); NULL: silent        */
    bool      progress;   /* progress bar on stderr when it is a terminal   */
    bool      skip_mtp;   /* --from-hf: leave out the MTP (nextn) layers    */
} dc_q_params;

/* Requantize in (a GGUF deepc reads) to out with p->plan (which must not be
 * DC_Q_KEEP). All keys are copied; general.file_type is set, and
 * deepc.fp8.version = 1 when an F8_E4M3_B128 tensor is written (removed
 * otherwise). Tensors keep their order, names and shapes; a tensor that
 * already has its target type is copied byte for byte. */
dc_status dc_q_requantize(const char *in, const char *out, const dc_q_params *p);

/* Convert the Hugging Face checkpoint in dir (config.json, safetensors with
 * or without model.safetensors.index.json, tokenizer.json +
 * tokenizer_config.json) of a DeepseekV2ForCausalLM, DeepseekV3ForCausalLM,
 * Qwen2ForCausalLM or LlamaForCausalLM into out (see hf_convert.c). */
dc_status dc_q_convert_hf(const char *dir, const char *out, const dc_q_params *p);

#endif /* DEEPC_QUANTIZE_QUANTIZE_H */
