/*
 * chat.c - built-in chat templates and the streaming reasoning splitter.
 *
 * No Jinja engine: each supported family has a small renderer that writes the
 * same bytes as its official template for messages made of a role and a text
 * content (tools schemas, tool calls and per-message extras such as
 * reasoning_content are out of scope). The official templates' quirks are
 * kept on purpose, because the model was trained on them: DeepSeek-V3/R1 open
 * a second tool-output block without <｜tool▁outputs▁begin｜> (their
 * is_output_first flag is never reset), R1 keeps only the last system
 * message, V3.1 strips up to the first "</think>" but R1 up to the last, and
 * Qwen3 re-emits an empty "<think>\n\n</think>\n\n" for the final assistant
 * turn of a tool round. Sources: spec/fp8-gguf.md §3.4-3.5 and the templates
 * kept as test data in tests/data/templates/ (compared byte for byte with the
 * JS reference by tests/chat/).
 *
 * Rendering goes through a sink that counts every byte and copies only while
 * the caller's buffer has room, so one pass serves both sizing and writing
 * and nothing is allocated.
 *
 * The reasoning parser is a three-state machine (leading answer text where
 * "<think>" may still open reasoning / reasoning / final answer) over a small
 * pending buffer that holds bytes which could be the start of a tag.
 */
#include "deepc/chat.h"

#include "lib/core/core_impl.h"

#include <string.h>

/* ---- special strings (spec/fp8-gguf.md §3.4) ----------------------------------- */

#define DS_BOS              "<｜begin▁of▁sentence｜>"
#define DS_EOS              "<｜end▁of▁sentence｜>"
#define DS_USER             "<｜User｜>"
#define DS_ASSISTANT        "<｜Assistant｜>"
#define DS_TOOL_OUTS_BEGIN  "<｜tool▁outputs▁begin｜>"
#define DS_TOOL_OUTS_END    "<｜tool▁outputs▁end｜>"
#define DS_TOOL_OUT_BEGIN   "<｜tool▁output▁begin｜>"
#define DS_TOOL_OUT_END     "<｜tool▁output▁end｜>"
#define THINK_OPEN          "<think>"
#define THINK_CLOSE         "</think>"
#define IM_START            "<|im_start|>"
#define IM_END              "<|im_end|>"
#define L3_BOS              "<|begin_of_text|>"
#define L3_HEADER_START     "<|start_header_id|>"
#define L3_HEADER_END       "<|end_header_id|>"
#define L3_EOT              "<|eot_id|>"

/* ---- names and detection ------------------------------------------------------- */

static const struct {
    const char    *name;
    dc_chat_format format;
} format_names[] = {
    {"deepseek3",           DC_CHAT_FORMAT_DEEPSEEK3},
    {"deepseek-r1",         DC_CHAT_FORMAT_DEEPSEEK_R1},
    {"deepseek-v3.1",       DC_CHAT_FORMAT_DEEPSEEK_V31},
    {"deepseek2",           DC_CHAT_FORMAT_DEEPSEEK2},
    {"chatml",              DC_CHAT_FORMAT_CHATML},
    {"qwen3",               DC_CHAT_FORMAT_QWEN3},
    {"llama3",              DC_CHAT_FORMAT_LLAMA3},
    /* aliases: never returned by dc_chat_format_name (the first match wins) */
    {"deepseek-v3",         DC_CHAT_FORMAT_DEEPSEEK3},
    {"deepseek-r1-distill", DC_CHAT_FORMAT_DEEPSEEK_R1},
    {"deepseek-v2",         DC_CHAT_FORMAT_DEEPSEEK2},
    {"qwen2",               DC_CHAT_FORMAT_CHATML},
};

dc_chat_format dc_chat_format_from_name(const char *name) {
    if (!name) return DC_CHAT_FORMAT_UNKNOWN;
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (strcmp(name, format_names[i].name) == 0) return format_names[i].format;
    return DC_CHAT_FORMAT_UNKNOWN;
}

const char *dc_chat_format_name(dc_chat_format format) {
    for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
        if (format_names[i].format == format) return format_names[i].name;
    return "unknown";
}

const char *dc_chat_format_bos(dc_chat_format format) {
    switch (format) {
    case DC_CHAT_FORMAT_DEEPSEEK3:
    case DC_CHAT_FORMAT_DEEPSEEK_R1:
    case DC_CHAT_FORMAT_DEEPSEEK_V31:
    case DC_CHAT_FORMAT_DEEPSEEK2:    return DS_BOS;
    case DC_CHAT_FORMAT_LLAMA3:       return L3_BOS;
    default:                          return "";
    }
}

const char *dc_chat_format_eot(dc_chat_format format) {
    switch (format) {
    case DC_CHAT_FORMAT_DEEPSEEK3:
    case DC_CHAT_FORMAT_DEEPSEEK_R1:
    case DC_CHAT_FORMAT_DEEPSEEK_V31:
    case DC_CHAT_FORMAT_DEEPSEEK2:    return DS_EOS;
    case DC_CHAT_FORMAT_CHATML:
    case DC_CHAT_FORMAT_QWEN3:        return IM_END;
    case DC_CHAT_FORMAT_LLAMA3:       return L3_EOT;
    default:                          return "";
    }
}

/* The rule order is the contract in chat.h; keep the two in step. */
dc_chat_format dc_chat_format_detect(const char *t) {
    if (!t) return DC_CHAT_FORMAT_UNKNOWN;
    dc_chat_format named = dc_chat_format_from_name(t);
    if (named != DC_CHAT_FORMAT_UNKNOWN) return named;
    if (strstr(t, DS_USER) && strstr(t, DS_ASSISTANT)) {
        if (strstr(t, DS_ASSISTANT THINK_CLOSE)) return DC_CHAT_FORMAT_DEEPSEEK_V31;
        if (strstr(t, THINK_OPEN) || strstr(t, THINK_CLOSE)) return DC_CHAT_FORMAT_DEEPSEEK_R1;
        return DC_CHAT_FORMAT_DEEPSEEK3;
    }
    if (strstr(t, "'Assistant: ' + message['content'] + eos_token"))
        return DC_CHAT_FORMAT_DEEPSEEK2;
    if (strstr(t, L3_HEADER_START) && strstr(t, L3_HEADER_END)) return DC_CHAT_FORMAT_LLAMA3;
    if (strstr(t, IM_START))
        return strstr(t, THINK_OPEN) ? DC_CHAT_FORMAT_QWEN3 : DC_CHAT_FORMAT_CHATML;
    return DC_CHAT_FORMAT_UNKNOWN;
}

dc_chat_options dc_chat_default_options(void) {
    dc_chat_options o = {.thinking = DC_CHAT_THINKING_DEFAULT, .bos_text = NULL};
    return o;
}

bool dc_chat_prompt_opens_reasoning(dc_chat_format format, const dc_chat_options *opt) {
    dc_chat_thinking th = opt ? opt->thinking : DC_CHAT_THINKING_DEFAULT;
    if (format == DC_CHAT_FORMAT_DEEPSEEK_R1) return th != DC_CHAT_THINKING_OFF;
    if (format == DC_CHAT_FORMAT_DEEPSEEK_V31) return th == DC_CHAT_THINKING_ON;
    return false;
}

/* ---- byte spans ------------------------------------------------------------------ */

/* A view of n bytes; the Jinja string methods the templates use, on views. */
typedef struct span {
    const char *p;
    size_t      n;
} span;

static span span_str(const char *s) { return (span){s, strlen(s)}; }

/* Offset of the first (or last) occurrence of needle in s, or SIZE_MAX. */
static size_t span_find(span s, const char *needle, bool last) {
    size_t m = strlen(needle), found = SIZE_MAX;
    if (m > s.n) return SIZE_MAX;
    for (size_t i = 0; i + m <= s.n; i++) {
        if (memcmp(s.p + i, needle, m) == 0) {
            found = i;
            if (!last) break;
        }
    }
    return found;
}

static bool span_contains(span s, const char *needle) {
    return span_find(s, needle, false) != SIZE_MAX;
}

/* s.split(sep)[-1] (last) or s.split(sep, 1)[1] (first); s when sep is absent. */
static span span_after(span s, const char *sep, bool last) {
    size_t i = span_find(s, sep, last);
    if (i == SIZE_MAX) return s;
    size_t k = i + strlen(sep);
    return (span){s.p + k, s.n - k};
}

/* s.split(sep)[0] */
static span span_before_first(span s, const char *sep) {
    size_t i = span_find(s, sep, false);
    return i == SIZE_MAX ? s : (span){s.p, i};
}

static span span_lstrip_nl(span s) {
    while (s.n && s.p[0] == '\n') s.p++, s.n--;
    return s;
}

static span span_rstrip_nl(span s) {
    while (s.n && s.p[s.n - 1] == '\n') s.n--;
    return s;
}

static bool is_ascii_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static span span_trim_ascii(span s) {
    while (s.n && is_ascii_space(s.p[0])) s.p++, s.n--;
    while (s.n && is_ascii_space(s.p[s.n - 1])) s.n--;
    return s;
}

static bool span_starts(span s, const char *pre) {
    size_t m = strlen(pre);
    return s.n >= m && memcmp(s.p, pre, m) == 0;
}

static bool span_ends(span s, const char *suf) {
    size_t m = strlen(suf);
    return s.n >= m && memcmp(s.p + s.n - m, suf, m) == 0;
}

/* ---- output sink --------------------------------------------------------------- */

/* Counts every byte; copies whole pieces while buf has room for them plus the
 * NUL. Once a piece does not fit no later one can (len only grows), so
 * `written` is always a clean prefix of the text. */
typedef struct sink {
    char  *buf;
    size_t cap;
    size_t len;       /* bytes of text produced so far */
    size_t written;   /* bytes of it copied into buf   */
    bool   overflow;  /* len overflowed size_t         */
} sink;

static void put_span(sink *s, span x) {
    size_t end;
    if (x.n == 0) return;
    if (!dc_size_add(s->len, x.n, &end)) {
        s->overflow = true;
        return;
    }
    if (s->buf && s->written == s->len && end < s->cap) {
        memcpy(s->buf + s->len, x.p, x.n);
        s->written = end;
    }
    s->len = end;
}

static void put(sink *s, const char *str) { put_span(s, span_str(str)); }

/* ---- messages ------------------------------------------------------------------ */

typedef enum role {
    ROLE_SYSTEM,
    ROLE_USER,
    ROLE_ASSISTANT,
    ROLE_TOOL,
    ROLE_OTHER
} role;

static role role_of(const char *r) {
    if (strcmp(r, "system") == 0) return ROLE_SYSTEM;
    if (strcmp(r, "user") == 0) return ROLE_USER;
    if (strcmp(r, "assistant") == 0) return ROLE_ASSISTANT;
    if (strcmp(r, "tool") == 0) return ROLE_TOOL;
    return ROLE_OTHER;
}

/* Roles rendered literally into a header must be one clean line. */
static bool role_is_clean(const char *r) {
    if (!r[0]) return false;
    for (const unsigned char *c = (const unsigned char *)r; *c; c++)
        if (*c < 0x20 || *c == 0x7f) return false;
    return true;
}

static dc_status check_messages(dc_chat_format f, const dc_chat_message *msgs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (!msgs[i].role || !msgs[i].content)
            return dc_error(DC_ERR_INVALID_ARG, "chat message %zu: NULL %s", i,
                            msgs[i].role ? "content" : "role");
        role r = role_of(msgs[i].role);
        bool ok;
        switch (f) {
        case DC_CHAT_FORMAT_CHATML:
        case DC_CHAT_FORMAT_LLAMA3:    ok = role_is_clean(msgs[i].role); break;
        case DC_CHAT_FORMAT_DEEPSEEK2: ok = r != ROLE_OTHER && r != ROLE_TOOL; break;
        default:                       ok = r != ROLE_OTHER; break;
        }
        if (!ok)
            return dc_error(DC_ERR_INVALID_ARG, "chat message %zu: role \"%.40s\" is not "
                            "supported by the %s format", i, msgs[i].role,
                            dc_chat_format_name(f));
    }
    return DC_OK;
}

/* ---- DeepSeek-V3 and R1 -------------------------------------------------------- */

/* V3 and V3.1 join every system message with "\n\n"; R1 keeps the last one. */
static void put_deepseek_system(sink *s, const dc_chat_message *msgs, size_t n, bool last_only) {
    if (last_only) {
        for (size_t i = n; i-- > 0;) {
            if (role_of(msgs[i].role) == ROLE_SYSTEM) {
                put(s, msgs[i].content);
                return;
            }
        }
        return;
    }
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (role_of(msgs[i].role) != ROLE_SYSTEM) continue;
        if (!first) put(s, "\n\n");
        put(s, msgs[i].content);
        first = false;
    }
}

static void render_deepseek3(sink *s, const dc_chat_message *msgs, size_t n, bool add_gen,
                             bool r1, dc_chat_thinking thinking) {
    bool is_tool = false, output_first = true;
    put_deepseek_system(s, msgs, n, r1);
    for (size_t i = 0; i < n; i++) {
        span c = span_str(msgs[i].content);
        switch (role_of(msgs[i].role)) {
        case ROLE_USER:
            is_tool = false;
            put(s, DS_USER);
            put_span(s, c);
            break;
        case ROLE_ASSISTANT:
            if (is_tool) {
                /* the answer that follows tool output: no tag, no stripping */
                put(s, DS_TOOL_OUTS_END);
                is_tool = false;
            } else {
                put(s, DS_ASSISTANT);
                if (r1) c = span_after(c, THINK_CLOSE, true);
            }
            put_span(s, c);
            put(s, DS_EOS);
            break;
        case ROLE_TOOL:
            is_tool = true;
            put(s, output_first ? DS_TOOL_OUTS_BEGIN DS_TOOL_OUT_BEGIN : "\n" DS_TOOL_OUT_BEGIN);
            output_first = false;
            put_span(s, c);
            put(s, DS_TOOL_OUT_END);
            break;
        default:
            break;  /* system: already written */
        }
    }
    if (is_tool) put(s, DS_TOOL_OUTS_END);
    if (add_gen && !is_tool) {
        put(s, DS_ASSISTANT);
        if (r1) {
            put(s, THINK_OPEN "\n");
            if (thinking == DC_CHAT_THINKING_OFF) put(s, THINK_CLOSE);
        }
    }
}

/* ---- DeepSeek-V3.1 --------------------------------------------------------------- */

static void render_deepseek_v31(sink *s, const dc_chat_message *msgs, size_t n, bool add_gen,
                                dc_chat_thinking thinking) {
    bool is_tool = false, is_last_user = false;
    put_deepseek_system(s, msgs, n, false);
    for (size_t i = 0; i < n; i++) {
        span c = span_str(msgs[i].content);
        switch (role_of(msgs[i].role)) {
        case ROLE_USER:
            is_tool = false;
            is_last_user = true;
            put(s, DS_USER);
            put_span(s, c);
            break;
        case ROLE_ASSISTANT:
            if (is_last_user) put(s, DS_ASSISTANT THINK_CLOSE);
            is_last_user = false;
            if (is_tool) is_tool = false;
            else c = span_after(c, THINK_CLOSE, false);
            put_span(s, c);
            put(s, DS_EOS);
            break;
        case ROLE_TOOL:
            is_last_user = false;
            is_tool = true;
            put(s, DS_TOOL_OUT_BEGIN);
            put_span(s, c);
            put(s, DS_TOOL_OUT_END);
            break;
        default:
            break;
        }
    }
    if (add_gen && is_last_user && !is_tool)
        put(s, thinking == DC_CHAT_THINKING_ON ? DS_ASSISTANT THINK_OPEN
                                               : DS_ASSISTANT THINK_CLOSE);
}

/* ---- DeepSeek-V2 ----------------------------------------------------------------- */

static void render_deepseek2(sink *s, const dc_chat_message *msgs, size_t n, bool add_gen) {
    for (size_t i = 0; i < n; i++) {
        span c = span_str(msgs[i].content);
        switch (role_of(msgs[i].role)) {
        case ROLE_USER:      put(s, "User: "); put_span(s, c); put(s, "\n\n"); break;
        case ROLE_ASSISTANT: put(s, "Assistant: "); put_span(s, c); put(s, DS_EOS); break;
        case ROLE_SYSTEM:    put_span(s, c); put(s, "\n\n"); break;
        default:             break;
        }
    }
    if (add_gen) put(s, "Assistant:");
}

/* ---- ChatML and Qwen3 ------------------------------------------------------------ */

static void put_im_turn(sink *s, const char *role_text, span c) {
    put(s, IM_START);
    put(s, role_text);
    put(s, "\n");
    put_span(s, c);
    put(s, IM_END "\n");
}

static void render_chatml(sink *s, const dc_chat_message *msgs, size_t n, bool add_gen) {
    for (size_t i = 0; i < n; i++) put_im_turn(s, msgs[i].role, span_str(msgs[i].content));
    if (add_gen) put(s, IM_START "assistant\n");
}

/* Index of the last real user query: the last user message that is not a
 * wrapped tool response; n - 1 when there is none (Qwen3's last_query_index). */
static size_t qwen3_last_query(const dc_chat_message *msgs, size_t n) {
    for (size_t i = n; i-- > 0;) {
        if (role_of(msgs[i].role) != ROLE_USER) continue;
        span c = span_str(msgs[i].content);
        if (!(span_starts(c, "<tool_response>") && span_ends(c, "</tool_response>"))) return i;
    }
    return n - 1;
}

static void render_qwen3_assistant(sink *s, span c, bool keep_reasoning_layout, bool is_last) {
    span reasoning = {"", 0};
    if (span_contains(c, THINK_CLOSE)) {
        span before = span_rstrip_nl(span_before_first(c, THINK_CLOSE));
        reasoning = span_lstrip_nl(span_after(before, THINK_OPEN, true));
        c = span_lstrip_nl(span_after(c, THINK_CLOSE, true));
    }
    put(s, IM_START "assistant\n");
    if (keep_reasoning_layout && (is_last || reasoning.n > 0)) {
        put(s, THINK_OPEN "\n");
        put_span(s, span_lstrip_nl(span_rstrip_nl(reasoning)));
        put(s, "\n" THINK_CLOSE "\n\n");
        c = span_lstrip_nl(c);
    }
    put_span(s, c);
    put(s, IM_END "\n");
}

static void render_qwen3(sink *s, const dc_chat_message *msgs, size_t n, bool add_gen,
                         dc_chat_thinking thinking) {
    if (n > 0 && role_of(msgs[0].role) == ROLE_SYSTEM)
        put_im_turn(s, "system", span_str(msgs[0].content));
    size_t last_query = n > 0 ? qwen3_last_query(msgs, n) : 0;
    for (size_t i = 0; i < n; i++) {
        span c = span_str(msgs[i].content);
        role r = role_of(msgs[i].role);
        bool prev_tool = i > 0 && role_of(msgs[i - 1].role) == ROLE_TOOL;
        bool next_tool = i + 1 < n && role_of(msgs[i + 1].role) == ROLE_TOOL;
        switch (r) {
        case ROLE_USER:
            put_im_turn(s, "user", c);
            break;
        case ROLE_SYSTEM:
            if (i > 0) put_im_turn(s, "system", c);
            break;
        case ROLE_ASSISTANT:
            render_qwen3_assistant(s, c, i > last_query, i + 1 == n);
            break;
        case ROLE_TOOL:
            if (!prev_tool) put(s, IM_START "user");
            put(s, "\n<tool_response>\n");
            put_span(s, c);
            put(s, "\n</tool_response>");
            if (!next_tool) put(s, IM_END "\n");
            break;
        default:
            break;
        }
    }
    if (add_gen) {
        put(s, IM_START "assistant\n");
        if (thinking == DC_CHAT_THINKING_OFF) put(s, THINK_OPEN "\n\n" THINK_CLOSE "\n\n");
    }
}

/* ---- Llama-3 --------------------------------------------------------------------- */

/* Jinja's trim strips Unicode whitespace; ASCII whitespace is what chat
 * content carries in practice, and trimming more would need a UTF-8 table. */
static void render_llama3(sink *s, const dc_chat_message *msgs, size_t n, bool add_gen) {
    for (size_t i = 0; i < n; i++) {
        put(s, L3_HEADER_START);
        put(s, msgs[i].role);
        put(s, L3_HEADER_END "\n\n");
        put_span(s, span_trim_ascii(span_str(msgs[i].content)));
        put(s, L3_EOT);
    }
    if (add_gen) put(s, L3_HEADER_START "assistant" L3_HEADER_END "\n\n");
}

/* ---- dc_chat_apply --------------------------------------------------------------- */

dc_status dc_chat_apply(dc_chat_format format, const dc_chat_message *msgs, size_t n,
                        bool add_generation_prompt, const dc_chat_options *opt, char *buf,
                        size_t cap, size_t *needed) {
    DC_CHECK_ARG(needed);
    *needed = 0;
    DC_CHECK_ARG(msgs || n == 0);
    DC_CHECK_ARG(buf || cap == 0);
    if (format <= DC_CHAT_FORMAT_UNKNOWN || format >= DC_CHAT_FORMAT_COUNT)
        return dc_error(DC_ERR_INVALID_ARG, "dc_chat_apply: unknown chat format %d", (int)format);
    dc_chat_options o = opt ? *opt : dc_chat_default_options();
    dc_status st = check_messages(format, msgs, n);
    if (st != DC_OK) return st;

    sink s = {.buf = buf, .cap = cap};
    put(&s, o.bos_text ? o.bos_text : dc_chat_format_bos(format));
    switch (format) {
    case DC_CHAT_FORMAT_DEEPSEEK3:
        render_deepseek3(&s, msgs, n, add_generation_prompt, false, o.thinking);
        break;
    case DC_CHAT_FORMAT_DEEPSEEK_R1:
        render_deepseek3(&s, msgs, n, add_generation_prompt, true, o.thinking);
        break;
    case DC_CHAT_FORMAT_DEEPSEEK_V31:
        render_deepseek_v31(&s, msgs, n, add_generation_prompt, o.thinking);
        break;
    case DC_CHAT_FORMAT_DEEPSEEK2: render_deepseek2(&s, msgs, n, add_generation_prompt); break;
    case DC_CHAT_FORMAT_CHATML:    render_chatml(&s, msgs, n, add_generation_prompt); break;
    case DC_CHAT_FORMAT_QWEN3:
        render_qwen3(&s, msgs, n, add_generation_prompt, o.thinking);
        break;
    case DC_CHAT_FORMAT_LLAMA3:    render_llama3(&s, msgs, n, add_generation_prompt); break;
    default:                       break;
    }
    if (s.overflow) return dc_error(DC_ERR_INVALID_ARG, "dc_chat_apply: prompt size overflows");
    *needed = s.len;
    if (buf && cap > 0) buf[s.written] = '\0';
    if (buf && s.len >= cap)
        return dc_error(DC_ERR_INVALID_ARG, "dc_chat_apply: buffer of %zu bytes, need %zu",
                        cap, s.len + 1);
    return DC_OK;
}

/* ---- reasoning parser ------------------------------------------------------------ */

typedef enum rp_state {
    RP_LEAD,       /* answer text, only whitespace so far: "<think>" may open reasoning */
    RP_REASONING,  /* inside <think>: looking for "</think>"                             */
    RP_ANSWER      /* final answer: everything is text                                   */
} rp_state;

typedef struct rp_buf {
    char  *p;
    size_t n, cap;
} rp_buf;

struct dc_reasoning_parser {
    bool     start_in_reasoning;
    rp_state state;
    rp_buf   pend;       /* bytes not yet classified (a possible tag start) */
    rp_buf   reasoning;  /* output of the current call                      */
    rp_buf   content;
};

static dc_status rp_append(rp_buf *b, const char *p, size_t n) {
    if (n == 0) return DC_OK;
    size_t need;
    if (!dc_size_add(b->n, n, &need)) return dc_error(DC_ERR_NOMEM, "reasoning parser: overflow");
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need) {
            if (!dc_size_mul(cap, 2, &cap))
                return dc_error(DC_ERR_NOMEM, "reasoning parser: overflow");
        }
        char *q = dc_realloc(b->p, cap);
        if (!q) return DC_ERR_NOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, p, n);
    b->n = need;
    return DC_OK;
}

static void rp_consume(rp_buf *b, size_t k) {
    memmove(b->p, b->p + k, b->n - k);
    b->n -= k;
}

/* Length of the longest suffix of s that is a proper prefix of tag. */
static size_t partial_tag_suffix(span s, const char *tag) {
    size_t m = strlen(tag);
    for (size_t k = m - 1; k > 0; k--)
        if (k <= s.n && memcmp(s.p + s.n - k, tag, k) == 0) return k;
    return 0;
}

static void rp_reset(dc_reasoning_parser *p) {
    p->state = p->start_in_reasoning ? RP_REASONING : RP_LEAD;
    p->pend.n = 0;
}

dc_status dc_reasoning_parser_init(bool start_in_reasoning, dc_reasoning_parser **out) {
    DC_CHECK_ARG(out);
    *out = dc_calloc(1, sizeof **out);
    if (!*out) return DC_ERR_NOMEM;
    (*out)->start_in_reasoning = start_in_reasoning;
    rp_reset(*out);
    return DC_OK;
}

void dc_reasoning_parser_free(dc_reasoning_parser *p) {
    if (!p) return;
    dc_free(p->pend.p);
    dc_free(p->reasoning.p);
    dc_free(p->content.p);
    dc_free(p);
}

bool dc_reasoning_parser_in_reasoning(const dc_reasoning_parser *p) {
    return p && p->state == RP_REASONING;
}

/* One step over the pending bytes; *more = false when they need more input. */
static dc_status rp_step(dc_reasoning_parser *p, bool *more) {
    span s = {p->pend.p, p->pend.n};
    *more = false;
    if (p->state == RP_ANSWER) {
        dc_status st = rp_append(&p->content, s.p, s.n);
        p->pend.n = 0;
        return st;
    }
    if (p->state == RP_REASONING) {
        size_t i = span_find(s, THINK_CLOSE, false);
        size_t keep = i == SIZE_MAX ? partial_tag_suffix(s, THINK_CLOSE) : 0;
        size_t text = i == SIZE_MAX ? s.n - keep : i;
        dc_status st = rp_append(&p->reasoning, s.p, text);
        if (st != DC_OK) return st;
        if (i == SIZE_MAX) {
            rp_consume(&p->pend, text);
            return DC_OK;
        }
        rp_consume(&p->pend, i + strlen(THINK_CLOSE));
        p->state = RP_ANSWER;
        *more = true;
        return DC_OK;
    }
    /* RP_LEAD: leading whitespace, then maybe "<think>" */
    size_t w = 0;
    while (w < s.n && is_ascii_space(s.p[w])) w++;
    span rest = {s.p + w, s.n - w};
    size_t m = strlen(THINK_OPEN);
    if (span_starts(rest, THINK_OPEN)) {
        rp_consume(&p->pend, w + m);
        p->state = RP_REASONING;
        *more = true;
    } else if (rest.n == 0 || (rest.n < m && memcmp(rest.p, THINK_OPEN, rest.n) == 0)) {
        /* undecided: hold everything */
    } else {
        p->state = RP_ANSWER;
        *more = true;
    }
    return DC_OK;
}

dc_status dc_reasoning_parser_push(dc_reasoning_parser *p, const char *text, size_t len,
                                   dc_reasoning_out *out) {
    DC_CHECK_ARG(p && out && (text || len == 0));
    p->reasoning.n = 0;
    p->content.n = 0;
    *out = (dc_reasoning_out){"", 0, "", 0};
    dc_status st = rp_append(&p->pend, text, len);
    bool more = st == DC_OK && p->pend.n > 0;
    while (st == DC_OK && more) st = rp_step(p, &more);
    if (st != DC_OK) return st;
    if (p->reasoning.n) *out = (dc_reasoning_out){p->reasoning.p, p->reasoning.n, "", 0};
    if (p->content.n) {
        out->content = p->content.p;
        out->n_content = p->content.n;
    }
    return DC_OK;
}

dc_status dc_reasoning_parser_flush(dc_reasoning_parser *p, dc_reasoning_out *out) {
    DC_CHECK_ARG(p && out);
    p->reasoning.n = 0;
    p->content.n = 0;
    *out = (dc_reasoning_out){"", 0, "", 0};
    rp_buf *dst = p->state == RP_REASONING ? &p->reasoning : &p->content;
    dc_status st = rp_append(dst, p->pend.p, p->pend.n);
    if (st != DC_OK) return st;
    rp_reset(p);
    out->reasoning = p->reasoning.n ? p->reasoning.p : "";
    out->n_reasoning = p->reasoning.n;
    out->content = p->content.n ? p->content.p : "";
    out->n_content = p->content.n;
    return DC_OK;
}
