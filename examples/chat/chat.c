/*
 * chat.c - deepc-chat: chat with a DeepSeek-family model in the terminal.
 *
 *     deepc-chat -m MODEL.gguf [--system TEXT] [--temp F] [-c N] [-t N] ...
 *     deepc-chat -m MODEL.gguf -p "question"        answer once and exit
 *     deepc-chat                                     the demo model (noise)
 *
 * main() loads the model (a progress bar on a terminal), makes one session
 * whose KV cache lives for the whole chat, then reads lines: a line is a
 * user message (gen.c answers it), or a slash command (/help lists them).
 * Replies go to stdout; banners, timings and warnings to stderr, so
 * `deepc-chat -p ... > answer.txt` keeps only the answer.
 *
 * Without -m the demo model is used: $DEEPC_DEMO_MODEL, else
 * $XDG_CACHE_HOME/deepc/demo.gguf (~/.cache/deepc/demo.gguf), made by
 * ./scripts/demo (random weights, the real DeepSeek-V3 tokenizer), so the
 * first command of the README works offline; the banner says its replies
 * are noise. Any model written by deepc-make-model gets the same warning.
 *
 * /save FILE writes the session state (dc_session_save: KV cache, tokens,
 * XXH3 checksum) to FILE and the messages to FILE.chat (JSON, convo.c);
 * /load FILE restores both, checking the state belongs to this model.
 */
#include "chat.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const help_text =
    "  /help           this text\n"
    "  /reset          forget the conversation (the system prompt stays)\n"
    "  /regen          answer the last message again\n"
    "  /think [on|off] show or hide the model's reasoning\n"
    "  /set max-tokens N | temp F    change -n or --temp for the next replies\n"
    "  /save FILE      save the chat: session state to FILE, messages to FILE.chat\n"
    "  /load FILE      load a chat saved with /save\n"
    "  /stats          context use, memory, speed of the last reply\n"
    "  /exit           quit (also Ctrl+D, or Ctrl+C twice at the prompt)\n"
    "  A line ending in \\ continues on the next line. Ctrl+C stops a reply.";

/* ---- logging and the demo model ------------------------------------------------------ */

static void log_line(dc_log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "deepc: %s%s\n", level >= DC_LOG_WARN ? "warning: " : "", msg);
}

/* The demo model's path into buf (size cap); false if no home is known. */
static bool demo_path(char *buf, size_t cap) {
    const char *env = getenv("DEEPC_DEMO_MODEL"), *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    if (env && *env) snprintf(buf, cap, "%s", env);
    else if (xdg && *xdg) snprintf(buf, cap, "%s/deepc/demo.gguf", xdg);
    else if (home && *home) snprintf(buf, cap, "%s/.cache/deepc/demo.gguf", home);
    else return false;
    return true;
}

/* True when the file was written by deepc-make-model (random weights). */
static bool random_weights(const dc_model *m) {
    const char *name;
    size_t len;
    static const char tag[] = "deepc-make-model";
    return dc_gguf_get_str(dc_model_gguf(m), "general.name", &name, &len) == DC_OK &&
           len >= sizeof tag - 1 && !memcmp(name, tag, sizeof tag - 1);
}

/* ---- setup ------------------------------------------------------------------------------- */

/* The model's chat format, else --chat-format, else a guess by architecture. */
static dc_chat_format pick_format(chat *ch) {
    if (ch->o.format) return dc_chat_format_from_name(ch->o.format);
    const char *t;
    size_t len;
    dc_chat_format f = DC_CHAT_FORMAT_UNKNOWN;
    if (dc_gguf_get_str(dc_model_gguf(ch->m), "tokenizer.chat_template", &t, &len) == DC_OK) {
        char *z = malloc(len + 1);
        if (z) {
            memcpy(z, t, len);
            z[len] = 0;
            f = dc_chat_format_detect(z);
            free(z);
        }
    }
    if (f != DC_CHAT_FORMAT_UNKNOWN) return f;
    const char *arch = dc_model_arch(ch->m);
    f = !strcmp(arch, "llama") ? DC_CHAT_FORMAT_LLAMA3
      : !strcmp(arch, "qwen2") ? DC_CHAT_FORMAT_CHATML
      : dc_model_n_vocab(ch->m) == 102400 ? DC_CHAT_FORMAT_DEEPSEEK2 : DC_CHAT_FORMAT_DEEPSEEK3;
    ui_note(ch->ui, UI_WARN, "deepc-chat: the model names no chat format I know; using %s "
            "(--chat-format picks another)", dc_chat_format_name(f));
    return f;
}

/* The end-of-generation ids, masked out by --ignore-eos. */
static bool find_eog(chat *ch) {
    int32_t n = dc_tokenizer_n_vocab(ch->tok);
    ch->eog = malloc((size_t)n * sizeof *ch->eog);
    ch->masked = malloc((size_t)ch->n_vocab * sizeof *ch->masked);
    if (!ch->eog || !ch->masked) return false;
    for (dc_token t = 0; t < n && t < ch->n_vocab; t++)
        if (dc_tokenizer_is_eog(ch->tok, t) || t == ch->eot_id) ch->eog[ch->n_eog++] = t;
    return true;
}

static dc_status open_session(chat *ch) {
    dc_session_params sp = dc_session_default_params();
    sp.n_ctx = ch->o.n_ctx;
    if (ch->o.n_threads > 0) sp.n_threads = sp.n_threads_batch = ch->o.n_threads;
    dc_status st = dc_session_init(ch->m, &sp, &ch->s);
    if (st != DC_OK) return st;
    ch->n_ctx = dc_session_n_ctx(ch->s);
    ch->n_vocab = dc_model_n_vocab(ch->m);
    ch->cache = malloc((size_t)ch->n_ctx * sizeof *ch->cache);
    if (!ch->cache) return DC_ERR_NOMEM;
    dc_sampler_params smp = dc_sampler_default_params();
    smp.temp = ch->o.temp;
    smp.top_p = ch->o.top_p;
    smp.top_k = ch->o.top_k;
    smp.min_p = ch->o.min_p;
    smp.seed = ch->o.seed;
    if ((st = dc_sampler_init(&smp, ch->n_vocab, &ch->smp)) != DC_OK) return st;
    return dc_detok_init(ch->tok, false, &ch->dt);
}

static int setup(chat *ch, const char *path) {
    dc_model_params mp = dc_model_default_params();
    mp.progress = ui_progress;
    mp.progress_user = ch->ui;
    dc_status st = dc_model_load(path, &mp, &ch->m);
    ui_progress(1.0f, ch->ui);
    if (st == DC_OK) st = dc_tokenizer_from_gguf(dc_model_gguf(ch->m), &ch->tok);
    if (st == DC_OK) st = open_session(ch);
    if (st != DC_OK) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: %s: %s", dc_status_str(st), dc_last_error());
        return 1;
    }
    ch->cv.format = pick_format(ch);
    ch->cv.opt = dc_chat_default_options();
    ch->cv.opt.thinking = ch->o.thinking;
    ch->eot = dc_chat_format_eot(ch->cv.format);
    ch->eot_id = *ch->eot ? dc_tokenizer_lookup(ch->tok, ch->eot, strlen(ch->eot)) : -1;
    ch->show_think = ch->o.show_think;
    if (!find_eog(ch) || (ch->o.system && convo_add(&ch->cv, "system", ch->o.system) != 0)) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: out of memory");
        return 1;
    }
    return 0;
}

static void banner(chat *ch, bool demo, const char *path) {
    ui_note(ch->ui, UI_BOLD, "deepc-chat %s: %s", dc_version(), dc_model_desc(ch->m));
    ui_note(ch->ui, UI_DIM, "context %d positions, chat format %s, seed %llu%s", ch->n_ctx,
            dc_chat_format_name(ch->cv.format), (unsigned long long)ch->o.seed,
            ui_interactive(ch->ui) ? "; /help lists the commands" : "");
    if (demo)
        ui_note(ch->ui, UI_WARN, "This is the built-in demo model (%s): random weights with a real "
                "DeepSeek-V3 tokenizer, so its replies are noise. Run deepc-chat -m MODEL.gguf to "
                "chat with a real model.", path);
    else if (random_weights(ch->m))
        ui_note(ch->ui, UI_WARN, "This model has random weights (made by deepc-make-model): its "
                "replies are noise.");
}

static void teardown(chat *ch) {
    convo_free(&ch->cv);
    dc_reasoning_parser_free(ch->rp);
    dc_detok_free(ch->dt);
    dc_sampler_free(ch->smp);
    dc_session_free(ch->s);
    dc_tokenizer_free(ch->tok);
    dc_model_free(ch->m);
    free(ch->cache);
    free(ch->prompt);
    free(ch->eog);
    free(ch->masked);
    free(ch->reply);
    free(ch->hold);
}

/* ---- commands ---------------------------------------------------------------------------- */

static void cmd_stats(chat *ch) {
    dc_memory_estimate me = { 0 };
    dc_session_memory(ch->s, &me);
    const turn_stats *l = &ch->last;
    int32_t n_new = l->n_prompt - l->n_reused, n_past = dc_session_n_past(ch->s);
    const double mib = 1048576.0;
    ui_say(ch->ui, UI_PLAIN, "context    %d of %d positions used (%.1f%%)", n_past, ch->n_ctx,
           100.0 * n_past / ch->n_ctx);
    ui_say(ch->ui, UI_PLAIN, "memory     weights %.1f MiB, KV cache %.1f MiB, compute %.1f MiB",
           me.weights / mib, me.kv_cache / mib, me.compute / mib);
    ui_say(ch->ui, UI_PLAIN, "last reply prompt %d tokens (%d new) at %.1f t/s, reply %d tokens "
           "at %.1f t/s", l->n_prompt, n_new, l->t_prompt > 0 ? n_new / l->t_prompt : 0.0,
           l->n_gen, l->t_gen > 0 ? l->n_gen / l->t_gen : 0.0);
    ui_say(ch->ui, UI_PLAIN, "chat       %zu messages, format %s, reasoning %s", ch->cv.n,
           dc_chat_format_name(ch->cv.format), ch->show_think ? "shown" : "hidden");
    ui_say(ch->ui, UI_PLAIN, "model      %s", dc_model_desc(ch->m));
}

static void cmd_save(chat *ch, const char *file) {
    char side[4096];
    const char *err = NULL;
    snprintf(side, sizeof side, "%s.chat", file);
    if (dc_session_save(ch->s, file, ch->cache, ch->n_cache) != DC_OK) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: /save: %s", dc_last_error());
    } else if (convo_save(&ch->cv, side, &err) != 0) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: /save: %s: %s", side, err);
    } else {
        ui_say(ch->ui, UI_DIM, "saved %d positions to %s and %zu messages to %s", ch->n_cache, file,
               ch->cv.n, side);
    }
}

static void cmd_load(chat *ch, const char *file) {
    char side[4096];
    const char *err = NULL;
    snprintf(side, sizeof side, "%s.chat", file);
    convo loaded = { .format = ch->cv.format, .opt = ch->cv.opt };
    dc_token *tokens = malloc((size_t)ch->n_ctx * sizeof *tokens);
    int32_t n = 0;
    if (!tokens) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: out of memory");
    } else if (convo_load(&loaded, side, &err) != 0) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: /load: %s: %s", side, err);
    } else if (dc_session_load(ch->s, file, tokens, ch->n_ctx, &n) != DC_OK) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: /load: %s", dc_last_error());
        if (dc_session_n_past(ch->s) < ch->n_cache) ch->n_cache = dc_session_n_past(ch->s);
    } else if (n != dc_session_n_past(ch->s)) {
        ui_note(ch->ui, UI_WARN, "deepc-chat: /load: %s has no token history; starting empty", file);
        dc_session_truncate(ch->s, 0);
        ch->n_cache = 0;
    } else {
        memcpy(ch->cache, tokens, (size_t)n * sizeof *tokens);
        ch->n_cache = n;
        convo_free(&ch->cv);
        ch->cv = loaded;
        loaded = (convo){ 0 };
        ui_say(ch->ui, UI_DIM, "loaded %d positions and %zu messages", n, ch->cv.n);
    }
    convo_free(&loaded);
    free(tokens);
}

static void cmd_regen(chat *ch) {
    if (ch->cv.n && !strcmp(ch->cv.msgs[ch->cv.n - 1].role, "assistant")) convo_pop(&ch->cv);
    if (!ch->cv.n || strcmp(ch->cv.msgs[ch->cv.n - 1].role, "user")) {
        ui_say(ch->ui, UI_DIM, "nothing to regenerate");
        return;
    }
    chat_turn(ch, NULL);
}

static void cmd_think(chat *ch, const char *arg) {
    if (!arg || !*arg) ch->show_think = !ch->show_think;
    else if (!strcmp(arg, "on")) ch->show_think = true;
    else if (!strcmp(arg, "off")) ch->show_think = false;
    else {
        ui_say(ch->ui, UI_WARN, "usage: /think [on|off]");
        return;
    }
    ui_say(ch->ui, UI_DIM, "reasoning is %s", ch->show_think ? "shown (dimmed)" : "hidden");
}

/* /set NAME VALUE: the reply length limit or the temperature. */
static void cmd_set(chat *ch, char *arg) {
    char *val = arg + strcspn(arg, " \t"), *end = NULL;
    if (*val) *val++ = 0;
    val += strspn(val, " \t");
    if (!strcmp(arg, "max-tokens")) {
        long n = strtol(val, &end, 10);
        if (end == val || *end || n < -1 || n > (1L << 24)) {
            ui_say(ch->ui, UI_WARN, "usage: /set max-tokens N (-1: no limit)");
            return;
        }
        ch->o.n_predict = (int32_t)n;
        ui_say(ch->ui, UI_DIM, "max-tokens %ld", n);
        return;
    }
    if (!strcmp(arg, "temp")) {
        float t = strtof(val, &end);
        dc_sampler_params sp = dc_sampler_get_params(ch->smp);
        sp.temp = t;
        dc_sampler *smp = NULL;
        if (end == val || *end || !(t >= 0) || dc_sampler_init(&sp, ch->n_vocab, &smp) != DC_OK) {
            ui_say(ch->ui, UI_WARN, "usage: /set temp F (F >= 0)");
            return;
        }
        dc_sampler_free(ch->smp);
        ch->smp = smp;
        ch->o.temp = t;
        ui_say(ch->ui, UI_DIM, "temp %g", t);
        return;
    }
    ui_say(ch->ui, UI_WARN, "usage: /set max-tokens N | /set temp F");
}

/* Run a slash command; false for /exit. */
static bool command(chat *ch, char *line) {
    char *arg = line + strcspn(line, " \t");
    if (*arg) *arg++ = 0;
    arg += strspn(arg, " \t");
    char *end = arg + strlen(arg);
    while (end > arg && (end[-1] == ' ' || end[-1] == '\t')) *--end = 0;
    if (!strcmp(line, "/exit") || !strcmp(line, "/quit")) return false;
    if (!strcmp(line, "/help")) ui_say(ch->ui, UI_PLAIN, "%s", help_text);
    else if (!strcmp(line, "/reset") || !strcmp(line, "/clear")) {
        convo_clear(&ch->cv, true);
        dc_session_truncate(ch->s, 0);
        ch->n_cache = 0;
        ui_say(ch->ui, UI_DIM, "conversation reset");
    } else if (!strcmp(line, "/regen")) cmd_regen(ch);
    else if (!strcmp(line, "/stats")) cmd_stats(ch);
    else if (!strcmp(line, "/think")) cmd_think(ch, arg);
    else if (!strcmp(line, "/set")) cmd_set(ch, arg);
    else if ((!strcmp(line, "/save") || !strcmp(line, "/load")) && !*arg)
        ui_say(ch->ui, UI_WARN, "usage: %s FILE", line);
    else if (!strcmp(line, "/save")) cmd_save(ch, arg);
    else if (!strcmp(line, "/load")) cmd_load(ch, arg);
    else ui_say(ch->ui, UI_WARN, "unknown command %s (/help lists them)", line);
    return true;
}

/* ---- main ----------------------------------------------------------------------------------- */

static void repl(chat *ch) {
    int ctrl_c = 0;
    for (;;) {
        char *line = NULL;
        ui_read r = ui_read_line(ch->ui, &line);
        if (r == UI_EOF) break;
        if (r == UI_INTERRUPT || r == UI_CANCEL) {
            chat_interrupted = 0;
            ctrl_c = r == UI_CANCEL ? 0 : ctrl_c + 1;
            if (ctrl_c >= 2) break;
            if (ctrl_c == 1) ui_note(ch->ui, UI_DIM, "(Ctrl+C again or /exit to quit)");
            continue;
        }
        ctrl_c = 0;
        bool go_on = true;
        if (line[0] == '/') go_on = command(ch, line);
        else if (line[strspn(line, " \t\n")]) chat_turn(ch, line);
        free(line);
        if (!go_on) break;
    }
    ui_newline_if_needed(ch->ui);
}

int main(int argc, char **argv) {
    chat ch = { 0 };
    int rc = chat_parse_args(argc, argv, &ch.o);
    if (rc) return rc == 1 ? 0 : 2;
    if (!(ch.ui = ui_init(&ch.o))) return fprintf(stderr, "deepc-chat: out of memory\n"), 1;
    dc_log_set(log_line, NULL, ch.o.verbose ? DC_LOG_INFO : DC_LOG_WARN);
    char demo[4096];
    const char *path = ch.o.model;
    if (!path) {
        if (!demo_path(demo, sizeof demo) || access(demo, R_OK) != 0) {
            fprintf(stderr, "deepc-chat: no model given (-m MODEL.gguf) and no demo model at %s.\n"
                    "  ./scripts/demo creates it (a small DeepSeek-V3-shaped model with random "
                    "weights), or run deepc-chat -m MODEL.gguf.\n", demo_path(demo, sizeof demo) ?
                    demo : "$XDG_CACHE_HOME/deepc/demo.gguf");
            ui_free(ch.ui);
            return 1;
        }
        path = demo;
    }
    if (ch.o.gpu)
        ui_note(ch.ui, UI_WARN, "deepc-chat: this build has no GPU backend (CUDA lands later); "
                "running on the CPU");
    rc = setup(&ch, path);
    if (rc == 0 && chat_interrupted) rc = 130;        /* Ctrl+C while loading */
    if (rc == 0) {
        banner(&ch, !ch.o.model, path);
        if (ch.o.prompt) rc = chat_turn(&ch, ch.o.prompt) ? 0 : 1;
        else repl(&ch);
    }
    teardown(&ch);
    ui_free(ch.ui);
    return rc;
}
