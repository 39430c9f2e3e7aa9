/*
 * chat.h - the pieces of deepc-chat, shared by its files:
 *
 *   args.c   command line -> chat_opts
 *   ui.c     the terminal: colours (only on a TTY), safe printing of model
 *            text, the load progress bar, line input (libedit on a TTY,
 *            plain lines from a pipe), SIGINT
 *   convo.c  the conversation: messages, rendering with the chat template,
 *            dropping the oldest turns, the FILE.chat sidecar of /save
 *   gen.c    one turn: fit the conversation into the context (dropping the
 *            oldest turns), reuse the KV cache up to the first differing
 *            token, generate and stream the reply (reasoning apart)
 *   chat.c   main: the model, the session, the demo model, slash commands
 *
 * Program-internal: these names are not library symbols (no dc_ prefix);
 * cross-file ones start with chat_, ui_ or convo_.
 */
#ifndef DEEPC_CHAT_PROGRAM_H
#define DEEPC_CHAT_PROGRAM_H

#include <deepc.h>

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

/* ---- options (args.c) ------------------------------------------------------------ */

typedef struct chat_opts {
    const char      *model;        /* -m; NULL: the demo model                  */
    const char      *prompt;       /* -p: answer once and exit                  */
    const char      *system;       /* --system                                  */
    const char      *format;       /* --chat-format NAME, or NULL: the model's  */
    float            temp, top_p, min_p;
    int32_t          top_k;
    uint64_t         seed;
    int32_t          n_ctx;        /* 0: min(train context, 4096)               */
    int32_t          n_threads;    /* 0: physical cores                         */
    int32_t          n_predict;    /* most tokens per reply; -1: no limit       */
    dc_chat_thinking thinking;     /* --reasoning on|off                        */
    bool             gpu, ignore_eos, no_color, verbose, show_think;
} chat_opts;

/* Parse argv. Returns 0 to run, 1 when the program should exit 0 (--help,
 * --version printed), 2 on a usage error (message printed). */
int chat_parse_args(int argc, char **argv, chat_opts *o);

/* ---- the terminal (ui.c) ---------------------------------------------------------- */

/* Set by the SIGINT handler; cleared by whoever acts on it. */
extern volatile sig_atomic_t chat_interrupted;

/* UI_INTERRUPT: Ctrl+C at an empty prompt; UI_CANCEL: Ctrl+C dropped a
 * line being typed. */
typedef enum ui_read { UI_LINE, UI_EOF, UI_INTERRUPT, UI_CANCEL } ui_read;

typedef enum ui_style { UI_PLAIN, UI_DIM, UI_BOLD, UI_PROMPT, UI_WARN } ui_style;

typedef struct ui_state ui_state;

/* Decide colours and input mode from the file descriptors (TTY or not) and
 * the options; install the SIGINT handler. NULL on allocation failure. */
ui_state *ui_init(const chat_opts *o);
void      ui_free(ui_state *u);
bool      ui_interactive(const ui_state *u);   /* stdin is a terminal */
bool      ui_color(const ui_state *u);         /* stdout gets colours */

/* Read one input line (a trailing backslash continues it on the next line;
 * the backslash becomes a newline). *line is malloc'd, without the final
 * newline; the caller frees it. */
ui_read ui_read_line(ui_state *u, char **line);

/* Model text to stdout in a style; control characters other than newline
 * and tab (which could drive the terminal) and invalid UTF-8 become U+FFFD.
 * Pieces must not split a UTF-8 character (dc_detok guarantees it). */
void ui_text(ui_state *u, ui_style style, const char *text, size_t len);
/* Program messages: ui_say to stdout, ui_note to stderr (dimmed on a TTY).
 * Both end with a newline. */
void ui_say(ui_state *u, ui_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ui_note(ui_state *u, ui_style style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Start output on a fresh line (after streamed text without a newline). */
void ui_newline_if_needed(ui_state *u);
/* The dc_model_params progress callback: a bar on stderr, TTY only. */
bool ui_progress(float f, void *user);

/* ---- the conversation (convo.c) ----------------------------------------------------- */

typedef struct convo {
    dc_chat_message *msgs;     /* [n] role / content, each malloc'd           */
    size_t           n, cap;
    dc_chat_format   format;
    dc_chat_options  opt;
} convo;

/* Append a copy of role / content. 0, or -1 on allocation failure. */
int  convo_add(convo *c, const char *role, const char *content);
void convo_pop(convo *c);                        /* drop the last message     */
void convo_clear(convo *c, bool keep_system);
void convo_free(convo *c);
/* Remove the oldest user turn and the replies after it, never a system
 * message or the last user message. Returns false when nothing can go. */
bool convo_drop_oldest(convo *c);
/* The prompt text (with the generation prompt), malloc'd; NULL on error
 * (dc_last_error says why). */
char *convo_render(const convo *c, size_t *len);
/* Write / read the messages as JSON (the /save sidecar FILE.chat). On a
 * failed load *c is unchanged. 0 on success, -1 with *err set. */
int convo_save(const convo *c, const char *path, const char **err);
int convo_load(convo *c, const char *path, const char **err);

/* ---- the chat (gen.c, chat.c) ------------------------------------------------------- */

typedef struct turn_stats {
    int32_t n_prompt;          /* tokens of the rendered conversation          */
    int32_t n_reused;          /* of them, already in the KV cache             */
    int32_t n_gen;             /* tokens generated                             */
    double  t_prompt, t_gen;   /* seconds                                      */
} turn_stats;

typedef enum think_show { THINK_NONE, THINK_OPEN, THINK_DONE } think_show;

typedef struct chat {
    chat_opts            o;
    ui_state            *ui;
    dc_model            *m;
    dc_session          *s;
    dc_tokenizer        *tok;
    dc_sampler          *smp;
    dc_detok            *dt;
    dc_reasoning_parser *rp;
    convo                cv;
    int32_t              n_ctx, n_vocab;
    dc_token            *cache;        /* [n_ctx] tokens in the KV cache, n_cache of them */
    int32_t              n_cache;
    dc_token            *prompt;       /* [cap_prompt] the rendered conversation           */
    int32_t              n_prompt, cap_prompt;
    dc_token            *eog;          /* [n_eog] end-of-generation ids (--ignore-eos)     */
    int32_t              n_eog;
    float               *masked;       /* [n_vocab] logits with eog at -inf, or NULL       */
    const char          *eot;          /* the format's end-of-turn text ("" for none)      */
    dc_token             eot_id;       /* its token, or -1                                  */
    bool                 show_think;   /* /think                                            */
    turn_stats           last;
    /* the reply being generated */
    char                *reply;        /* raw text (stop string removed)                    */
    size_t               n_reply, cap_reply;
    char                *hold;         /* text that may start the stop string               */
    size_t               n_hold, cap_hold;
    think_show           think;
    bool                 content_started;
} chat;

/* One turn: add the user message (NULL: answer the conversation as it is,
 * for /regen), fit it into the context, evaluate the new prompt tokens,
 * generate and print the reply, add it and print the timings. Never fails
 * hard: problems are reported and the conversation stays consistent.
 * Returns false when no reply could be made (reported already). */
bool chat_turn(chat *ch, const char *user);

#endif /* DEEPC_CHAT_PROGRAM_H */
