/*
 * deepc.h - the whole public API of deepc.
 *
 * deepc is a CPU-first inference library for DeepSeek-family models (MLA +
 * MoE, and the dense R1 distills) stored in GGUF files. This header includes
 * the topic headers; each starts with what it covers and how to use it.
 *
 *   deepc/base.h     status codes, dc_last_error(), logging, version
 *   deepc/tensor.h   types, tensors, op builders, graphs
 *   deepc/backend.h  backends (CPU, CUDA), buffers, the scheduler
 *   deepc/gguf.h     reading, writing and verifying GGUF files
 *   deepc/tokenizer.h byte-level BPE: text <-> token ids, streaming detokenizer
 *   deepc/sampler.h  the sampling chain (penalties, top-k/p, min-p, temperature)
 *   deepc/chat.h     chat templates and the reasoning splitter
 */
#ifndef DEEPC_H
#define DEEPC_H

#include "deepc/base.h"
#include "deepc/tensor.h"
#include "deepc/backend.h"
#include "deepc/gguf.h"
#include "deepc/model.h"
#include "deepc/tokenizer.h"
#include "deepc/sampler.h"
#include "deepc/chat.h"

#endif /* DEEPC_H */
