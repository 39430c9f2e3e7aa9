/*
 * ui.c - deepc-chat's terminal: output styles, safe printing of model text,
 * the load progress bar, line input and Ctrl+C.
 *
 * Colours and the progress bar appear only when the stream is a terminal
 * (and NO_COLOR / --no-color are unset): piped output is plain text. Model
 * text is untrusted: a random or hostile model can emit ESC, CSI (U+009B),
 * backspaces or broken UTF-8 that would drive or confuse the terminal, so
 * every C0 / C1 control other than newline and tab, and every byte that is
 * not part of a valid UTF-8 character, is printed as U+FFFD.
 *
 * Input: libedit (line editing, history) when stdin and stdout are
 * terminals, else plain getline() so pipes work. Ctrl+C must reach the
 * program while it waits for input, so SIGINT is installed without
 * SA_RESTART while reading (read() returns EINTR) and with SA_RESTART while
 * generating (stdio writes are not cut short). libedit gets its characters
 * from our own read function (EL_GETCFN), which returns an error when the
 * read was interrupted by Ctrl+C; libedit then returns NULL from el_gets
 * and the caller sees UI_INTERRUPT.
 */
#include "chat.h"

#include <errno.h>
#include <histedit.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>

volatile sig_atomic_t chat_interrupted;

struct ui_state {
    bool       tty_in, color_out, color_err, tty_err;
    bool       out_at_bol;     /* stdout's last byte was a newline (or none)  */
    EditLine  *el;             /* NULL: plain input                           */
    History   *hist;
    mbstate_t  mb;             /* UTF-8 decoding of libedit's input          */
    const char *prompt;        /* "> " or "... "                              */
    char       prompt_buf[64];
    int        bar;            /* progress bar cells drawn, -1: none yet       */
};

static const char *const codes[] = {
    [UI_PLAIN] = "", [UI_DIM] = "\033[2m", [UI_BOLD] = "\033[1m",
    [UI_PROMPT] = "\033[1;32m", [UI_WARN] = "\033[33m",
};

/* ---- signals ----------------------------------------------------------------------- */

static void on_sigint(int sig) {
    (void)sig;
    chat_interrupted = 1;
}

static void set_sigint(bool restart) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = restart ? SA_RESTART : 0;
    sigaction(SIGINT, &sa, NULL);
}

/* ---- libedit ---------------------------------------------------------------------- */

static char *edit_prompt(EditLine *el) {
    ui_state *u = NULL;
    el_get(el, EL_CLIENTDATA, &u);
    if (!u->color_out) return (char *)u->prompt;
    /* \1 brackets the invisible escape codes (EL_PROMPT_ESC); the reset goes
     * before the prompt's last character because libedit 3.1 drops an
     * invisible sequence at the very end of a prompt */
    size_t n = strlen(u->prompt);
    snprintf(u->prompt_buf, sizeof u->prompt_buf, "\1%s\1%.*s\1\033[0m\1%s", codes[UI_PROMPT],
             (int)(n - 1), u->prompt, u->prompt + n - 1);
    return u->prompt_buf;
}

/* libedit's character source: one byte at a time through mbrtowc, so UTF-8
 * input works; EINTR after Ctrl+C is an error (el_gets returns NULL), other
 * interruptions (window resizes) are retried. */
static int edit_getc(EditLine *el, wchar_t *wc) {
    ui_state *u = NULL;
    el_get(el, EL_CLIENTDATA, &u);
    for (;;) {
        char ch;
        ssize_t n = read(STDIN_FILENO, &ch, 1);
        if (n == 0) return 0;
        if (n < 0) {
            if (errno == EINTR && !chat_interrupted) continue;
            return -1;
        }
        size_t r = mbrtowc(wc, &ch, 1, &u->mb);
        if (r == (size_t)-2) continue;                 /* more bytes to come */
        if (r == (size_t)-1) {                         /* invalid: U+FFFD    */
            memset(&u->mb, 0, sizeof u->mb);
            *wc = 0xFFFD;
        }
        return 1;
    }
}

static bool edit_init(ui_state *u) {
    u->el = el_init("deepc-chat", stdin, stdout, stderr);
    u->hist = history_init();
    if (!u->el || !u->hist) return false;
    HistEvent ev;
    history(u->hist, &ev, H_SETSIZE, 1000);
    history(u->hist, &ev, H_SETUNIQUE, 1);
    el_set(u->el, EL_CLIENTDATA, u);
    el_set(u->el, EL_EDITOR, "emacs");
    el_set(u->el, EL_PROMPT_ESC, edit_prompt, '\1');
    el_set(u->el, EL_HIST, history, u->hist);
    el_set(u->el, EL_GETCFN, edit_getc);
    el_source(u->el, NULL);                             /* ~/.editrc, if any */
    return true;
}

/* ---- init ---------------------------------------------------------------------------- */

ui_state *ui_init(const chat_opts *o) {
    ui_state *u = calloc(1, sizeof *u);
    if (!u) return NULL;
    setlocale(LC_CTYPE, "");
    bool colors = !o->no_color && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    const char *term = getenv("TERM");
    colors = colors && !(term && !strcmp(term, "dumb"));
    u->tty_in = isatty(STDIN_FILENO);
    u->tty_err = isatty(STDERR_FILENO);
    u->color_out = colors && isatty(STDOUT_FILENO);
    u->color_err = colors && u->tty_err;
    u->out_at_bol = true;
    u->prompt = "> ";
    u->bar = -1;
    if (u->tty_in && isatty(STDOUT_FILENO) && !o->prompt && !edit_init(u)) {
        ui_free(u);
        return NULL;
    }
    set_sigint(true);
    return u;
}

void ui_free(ui_state *u) {
    if (!u) return;
    if (u->el) el_end(u->el);
    if (u->hist) history_end(u->hist);
    free(u);
}

bool ui_interactive(const ui_state *u) { return u->tty_in; }
bool ui_color(const ui_state *u) { return u->color_out; }

/* ---- output ------------------------------------------------------------------------------ */

/* Length of the valid UTF-8 character at s[0..n) that is safe to print,
 * or 0: a control (C0 but newline / tab, DEL, C1), a stray or truncated
 * byte, an overlong form or a surrogate. */
static size_t safe_char(const unsigned char *s, size_t n) {
    unsigned c = s[0];
    if (c < 0x80) return (c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t' ? 1 : 0;
    size_t k = c >= 0xc2 && c <= 0xdf ? 2 : (c & 0xf0) == 0xe0 ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    if (k == 0 || n < k) return 0;
    for (size_t i = 1; i < k; i++)
        if ((s[i] & 0xc0) != 0x80) return 0;
    if ((c == 0xc2 && s[1] < 0xa0) ||                  /* C1 controls (0x9b is CSI) */
        (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0) ||
        (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
        return 0;
    return k;
}

void ui_text(ui_state *u, ui_style style, const char *text, size_t len) {
    if (len == 0) return;
    const unsigned char *s = (const unsigned char *)text;
    bool color = u->color_out && style != UI_PLAIN;
    if (color) fputs(codes[style], stdout);
    size_t start = 0, w;
    for (size_t i = 0; i < len; i += w) {
        if ((w = safe_char(s + i, len - i)) > 0) continue;
        fwrite(s + start, 1, i - start, stdout);
        fputs("\xef\xbf\xbd", stdout);                 /* U+FFFD */
        w = 1;
        start = i + 1;
    }
    fwrite(s + start, 1, len - start, stdout);
    if (color) fputs("\033[0m", stdout);
    u->out_at_bol = s[len - 1] == '\n';
    fflush(stdout);
}

void ui_newline_if_needed(ui_state *u) {
    if (!u->out_at_bol) {
        fputc('\n', stdout);
        u->out_at_bol = true;
    }
    fflush(stdout);
}

static void vsay(ui_state *u, FILE *f, bool color, ui_style style, const char *fmt, va_list ap) {
    if (f == stdout || u->tty_err) ui_newline_if_needed(u);
    if (color && style != UI_PLAIN) fputs(codes[style], f);
    vfprintf(f, fmt, ap);
    if (color && style != UI_PLAIN) fputs("\033[0m", f);
    fputc('\n', f);
    fflush(f);
}

void ui_say(ui_state *u, ui_style style, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(u, stdout, u->color_out, style, fmt, ap);
    va_end(ap);
}

void ui_note(ui_state *u, ui_style style, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsay(u, stderr, u->color_err, style, fmt, ap);
    va_end(ap);
}

bool ui_progress(float f, void *user) {
    ui_state *u = user;
    if (!u->tty_err) return true;
    enum { CELLS = 30 };
    int cells = (int)(f * CELLS + 0.5f);
    if (cells == u->bar) return true;
    u->bar = cells;
    if (f >= 1.0f) {
        fputs("\r\033[K", stderr);                        /* done: erase the bar */
        u->bar = -1;
    } else {
        char bar[CELLS + 1];
        for (int i = 0; i < CELLS; i++) bar[i] = i < cells ? '#' : '.';
        bar[CELLS] = 0;
        fprintf(stderr, "\rloading the model [%s] %3d%%", bar, (int)(f * 100 + 0.5f));
    }
    fflush(stderr);
    return !chat_interrupted;                             /* Ctrl+C cancels the load */
}

/* ---- input --------------------------------------------------------------------------------- */

/* One physical line into *out (malloc'd, newline removed). */
static ui_read read_physical(ui_state *u, char **out) {
    *out = NULL;
    if (u->el) {
        int n = 0;
        memset(&u->mb, 0, sizeof u->mb);
        const char *l = el_gets(u->el, &n);
        if (!l || n <= 0) {
            if (!chat_interrupted) return UI_EOF;
            const LineInfo *li = el_line(u->el);
            return li && li->lastchar > li->buffer ? UI_CANCEL : UI_INTERRUPT;
        }
        size_t len = strlen(l);
        if (len && l[len - 1] == '\n') len--;
        if (!(*out = malloc(len + 1))) return UI_EOF;
        memcpy(*out, l, len);
        (*out)[len] = 0;
        return UI_LINE;
    }
    if (u->tty_in) {
        fprintf(stderr, "%s", u->prompt);
        fflush(stderr);
    }
    size_t cap = 0;
    ssize_t n = getline(out, &cap, stdin);
    if (n < 0) {
        bool intr = chat_interrupted || errno == EINTR;
        clearerr(stdin);
        free(*out);
        *out = NULL;
        return intr ? UI_INTERRUPT : UI_EOF;
    }
    if (n && (*out)[n - 1] == '\n') (*out)[--n] = 0;
    if (n && (*out)[n - 1] == '\r') (*out)[--n] = 0;
    return UI_LINE;
}

ui_read ui_read_line(ui_state *u, char **line) {
    *line = NULL;
    fflush(stdout);
    set_sigint(false);
    char *acc = NULL;
    size_t len = 0;
    ui_read r;
    u->prompt = "> ";
    for (;;) {
        char *part;
        r = read_physical(u, &part);
        if (r != UI_LINE) break;
        size_t n = strlen(part);
        bool more = n > 0 && part[n - 1] == '\\';
        if (more) part[n - 1] = '\n';                  /* "a\" + "b" -> "a\nb" */
        char *grown = realloc(acc, len + n + 1);
        if (!grown) {
            free(part);
            r = UI_EOF;
            break;
        }
        acc = grown;
        memcpy(acc + len, part, n + 1);
        len += n;
        free(part);
        if (!more) break;
        u->prompt = "... ";
    }
    u->prompt = "> ";
    set_sigint(true);
    if (r == UI_EOF && acc && len) r = UI_LINE;      /* EOF after a continued line */
    if (r == UI_INTERRUPT && acc) r = UI_CANCEL;     /* Ctrl+C in a continued line */
    if (r != UI_LINE) {
        if (u->tty_in) fputs(r == UI_EOF ? "\n" : "^C\n", stdout);  /* raw mode echoed neither */
        fflush(stdout);
        free(acc);
        return r;
    }
    if (u->hist && len) {
        HistEvent ev;
        history(u->hist, &ev, H_ENTER, acc);
    }
    u->out_at_bol = true;
    *line = acc;
    return UI_LINE;
}
