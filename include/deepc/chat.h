/*
 * deepc/chat.h - chat templates and the reasoning splitter.
 *
 * A chat template turns a list of messages into the prompt text a model was
 * trained on. deepc does not run Jinja: it has one built-in renderer per
 * format (llama.cpp's approach), each written to give the same bytes as the
 * official Jinja template of that family for messages with a role and a text
 * content. The format is picked from the GGUF's tokenizer.chat_template with
 * dc_chat_format_detect(), or by name.
 *
 * The output is TEXT with the special tokens written as their strings
 * ("<｜User｜>", "<|im_start|>"), so it must be tokenized with special-token
 * parsing on. Exactly one BOS: formats whose official template writes the BOS
 * (every DeepSeek format, Llama-3) start the text with it, so tokenize that
 * text WITHOUT adding another BOS (add_bos = false); or pass bos_text = "" in
 * dc_chat_options and let the tokenizer add it. ChatML / Qwen write none.
 *
 * Reasoning: DeepSeek-R1 and V3.1 (thinking) prompts end inside a <think>
 * block, so the model's output starts with reasoning and later closes it with
 * </think>. dc_reasoning_parser splits streamed output into reasoning and
 * answer text, coping with tags split across pieces.
 *
 * Typical use:
 *     dc_chat_format f = dc_chat_format_detect(template_text);   (or a name)
 *     size_t n;
 *     dc_chat_apply(f, msgs, n_msgs, true, NULL, NULL, 0, &n);    (size)
 *     char *text = malloc(n + 1);
 *     dc_chat_apply(f, msgs, n_msgs, true, NULL, text, n + 1, &n);
 */
#ifndef DEEPC_CHAT_H
#define DEEPC_CHAT_H

#include "deepc/base.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- formats ------------------------------------------------------------------ */

typedef enum dc_chat_format {
    DC_CHAT_FORMAT_UNKNOWN      = 0,
    DC_CHAT_FORMAT_DEEPSEEK3    = 1, /* V3 / V3-0324: BOS + system + <｜User｜>... <｜Assistant｜>...   */
    DC_CHAT_FORMAT_DEEPSEEK_R1  = 2, /* R1 and R1 distills: generation prompt ends "<think>\n"        */
    DC_CHAT_FORMAT_DEEPSEEK_V31 = 3, /* V3.1 hybrid: "<｜Assistant｜></think>" or "<｜Assistant｜><think>" */
    DC_CHAT_FORMAT_DEEPSEEK2    = 4, /* V2 / V2-Lite: BOS + "User: ...\n\nAssistant: ...<eos>"       */
    DC_CHAT_FORMAT_CHATML       = 5, /* ChatML / Qwen2: <|im_start|>role\n...<|im_end|>\n             */
    DC_CHAT_FORMAT_QWEN3        = 6, /* ChatML with Qwen3's <think> rules                             */
    DC_CHAT_FORMAT_LLAMA3       = 7, /* Llama-3: <|start_header_id|>role<|end_header_id|>\n\n...       */
    DC_CHAT_FORMAT_COUNT
} dc_chat_format;

/* The format of a Jinja chat template (GGUF key tokenizer.chat_template) or a
 * format name. Returns DC_CHAT_FORMAT_UNKNOWN for NULL or anything it does not
 * recognise. Rules, first match wins:
 *   1. the text is a format name (dc_chat_format_from_name)
 *   2. contains "<｜User｜>" and "<｜Assistant｜>" (full-width bars): DeepSeek-3 family
 *      a. contains "<｜Assistant｜></think>"         -> DEEPSEEK_V31 (the hybrid
 *         template's non-thinking assistant prefix; V3.2 uses it too)
 *      b. else contains "<think>" or "</think>"     -> DEEPSEEK_R1 (R1 adds
 *         "<think>\n" to the generation prompt and strips past reasoning)
 *      c. else                                      -> DEEPSEEK3
 *   3. contains "'Assistant: ' + message['content'] + eos_token" -> DEEPSEEK2
 *   4. contains "<|start_header_id|>" and "<|end_header_id|>"   -> LLAMA3
 *   5. contains "<|im_start|>": "<think>" too -> QWEN3, else -> CHATML
 * DeepSeek is tested first because the R1 distills of Qwen and Llama carry the
 * DeepSeek template, not their base model's. */
dc_chat_format dc_chat_format_detect(const char *template_text);

/* Format by name: "deepseek3" (also "deepseek-v3"), "deepseek-r1" (also
 * "deepseek-r1-distill"), "deepseek-v3.1", "deepseek2" (also "deepseek-v2"),
 * "chatml", "qwen2" (= chatml), "qwen3", "llama3". Case-sensitive; UNKNOWN for
 * NULL or an unknown name. */
dc_chat_format dc_chat_format_from_name(const char *name);

/* Canonical name of a format ("deepseek3", ...); "unknown" for anything else.
 * Static storage. */
const char *dc_chat_format_name(dc_chat_format format);

/* The BOS text the format's official template writes first
 * ("<｜begin▁of▁sentence｜>", "<|begin_of_text|>"), or "" when it writes none.
 * Static storage. */
const char *dc_chat_format_bos(dc_chat_format format);

/* The text that ends an assistant turn ("<｜end▁of▁sentence｜>", "<|im_end|>",
 * "<|eot_id|>"): a stop string for generation. "" for UNKNOWN. Static storage. */
const char *dc_chat_format_eot(dc_chat_format format);

/* ---- rendering ---------------------------------------------------------------- */

typedef struct dc_chat_message {
    const char *role;     /* "system", "user", "assistant", "tool" (see below) */
    const char *content;  /* UTF-8 text, never NULL                            */
} dc_chat_message;

typedef enum dc_chat_thinking {
    DC_CHAT_THINKING_DEFAULT = 0, /* the template's own default (below)      */
    DC_CHAT_THINKING_ON      = 1,
    DC_CHAT_THINKING_OFF     = 2
} dc_chat_thinking;

typedef struct dc_chat_options {
    /* Reasoning in the generation prompt:
     *   DEEPSEEK_R1  default/on: "<｜Assistant｜><think>\n"; off: "<｜Assistant｜><think>\n</think>"
     *                (off is llama.cpp's addition; the official template has no switch)
     *   DEEPSEEK_V31 default/off: "<｜Assistant｜></think>"; on: "<｜Assistant｜><think>"
     *   QWEN3        default/on: "<|im_start|>assistant\n" (the model opens <think>);
     *                off: adds "<think>\n\n</think>\n\n" (enable_thinking=false)
     *   other formats: ignored. */
    dc_chat_thinking thinking;
    /* BOS text written first: NULL = the format's own (dc_chat_format_bos),
     * "" = none (the tokenizer adds it), anything else = that text. */
    const char *bos_text;
} dc_chat_options;

/* thinking = DEFAULT, bos_text = NULL. */
dc_chat_options dc_chat_default_options(void);

/* Render msgs[0..n) as prompt text in `format`, then the assistant
 * generation prompt when add_generation_prompt is true.
 *
 * Two-call sizing: *needed always receives the text length in bytes (without
 * the terminating NUL). With buf == NULL and cap == 0 nothing is written and
 * DC_OK is returned; otherwise cap must be >= *needed + 1 and buf receives the
 * NUL-terminated text. A smaller cap returns DC_ERR_INVALID_ARG (buf is then
 * an unspecified NUL-terminated prefix).
 *
 * What each format does, as its official template does:
 *   DEEPSEEK3    BOS, all system messages joined by "\n\n", then per message
 *                "<｜User｜>"+c, "<｜Assistant｜>"+c+"<｜end▁of▁sentence｜>";
 *                tool results in <｜tool▁outputs▁begin｜>... blocks. Assistant
 *                content is kept as is (V3 has no reasoning).
 *   DEEPSEEK_R1  as DEEPSEEK3, but only the LAST system message is kept and
 *                assistant content keeps only the text after the LAST "</think>".
 *   DEEPSEEK_V31 as DEEPSEEK3 (systems joined), an assistant turn after a user
 *                turn starts "<｜Assistant｜></think>", assistant content keeps
 *                only the text after the FIRST "</think>", tool results are
 *                <｜tool▁output▁begin｜>...<｜tool▁output▁end｜>.
 *   DEEPSEEK2    BOS, system "c\n\n", "User: c\n\n", "Assistant: c<｜end▁of▁sentence｜>",
 *                generation prompt "Assistant:". No tool role.
 *   CHATML       "<|im_start|>role\nc<|im_end|>\n" for any role; no default
 *                system prompt; generation prompt "<|im_start|>assistant\n".
 *   QWEN3        ChatML; a first system message goes first, later ones stay
 *                in place; assistant turns before the last user query lose
 *                their "<think>...</think>" part, later ones (the current
 *                tool-use round) keep it in Qwen3's canonical layout; "tool"
 *                messages become <tool_response> blocks in a user turn.
 *   LLAMA3       BOS, "<|start_header_id|>role<|end_header_id|>\n\n" + content
 *                with ASCII whitespace trimmed + "<|eot_id|>", any role.
 * Roles: DeepSeek formats and QWEN3 accept system/user/assistant/tool,
 * DEEPSEEK2 system/user/assistant, CHATML and LLAMA3 any non-empty role
 * without control characters. Anything else is DC_ERR_INVALID_ARG.
 *
 * msgs may be NULL when n == 0; opt NULL means dc_chat_default_options().
 * Thread-safe; allocates nothing. */
dc_status dc_chat_apply(dc_chat_format format, const dc_chat_message *msgs, size_t n,
                        bool add_generation_prompt, const dc_chat_options *opt,
                        char *buf, size_t cap, size_t *needed);

/* True when the generation prompt that dc_chat_apply writes for (format, opt)
 * leaves the model inside a reasoning block (R1 default/on, V3.1 on): start a
 * dc_reasoning_parser with start_in_reasoning = this value. */
bool dc_chat_prompt_opens_reasoning(dc_chat_format format, const dc_chat_options *opt);

/* ---- reasoning splitter ------------------------------------------------------- */

/* Splits generated text into reasoning ("<think>" ... "</think>") and answer
 * text, piece by piece as tokens are detokenized. States:
 *   - started in reasoning (the prompt opened it): everything up to the first
 *     "</think>" is reasoning, everything after is answer;
 *   - started in answer: a "<think>" that comes before any non-whitespace
 *     answer text opens reasoning (the whitespace before it is dropped); a
 *     "<think>" later in the answer is ordinary text.
 * After "</think>" all text is answer, "<think>"/"</think>" included. The tags
 * themselves are removed; nothing else is (no trimming). Bytes that may be
 * the start of a tag are held back until the next piece or the flush. */
typedef struct dc_reasoning_parser dc_reasoning_parser;

typedef struct dc_reasoning_out {
    const char *reasoning;  /* [n_reasoning] bytes, not NUL-terminated */
    size_t      n_reasoning;
    const char *content;    /* [n_content] bytes, not NUL-terminated   */
    size_t      n_content;
} dc_reasoning_out;

/* Create a parser. *out is NULL on failure (DC_ERR_NOMEM, DC_ERR_INVALID_ARG). */
dc_status dc_reasoning_parser_init(bool start_in_reasoning, dc_reasoning_parser **out);

/* Free the parser; NULL does nothing. */
void dc_reasoning_parser_free(dc_reasoning_parser *p);

/* Feed len bytes of generated text (text may be NULL when len == 0). *out
 * receives the reasoning and answer text that became certain with this piece;
 * the pointers are owned by the parser and valid until its next call. On
 * DC_ERR_NOMEM the output of this call may be lost; the parser stays valid. */
dc_status dc_reasoning_parser_push(dc_reasoning_parser *p, const char *text, size_t len,
                                   dc_reasoning_out *out);

/* End of generation: release the held-back bytes (as text of the current
 * state) into *out. The parser can then be reused as if newly created. */
dc_status dc_reasoning_parser_flush(dc_reasoning_parser *p, dc_reasoning_out *out);

/* True while the parser is inside a reasoning block. */
bool dc_reasoning_parser_in_reasoning(const dc_reasoning_parser *p);

#ifdef __cplusplus
}
#endif

#endif /* DEEPC_CHAT_H */
