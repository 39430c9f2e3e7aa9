/*
 * chat_render.c - the C side of the chat-js test: renders conversations with
 * dc_chat_apply for tests/chat/ref.mjs, which compares them with the JS
 * reference.
 *
 * stdin, one record per case (strings hex-encoded UTF-8, so any byte passes):
 *     case INDEX FORMAT ADD_GEN(0|1) THINKING(default|on|off) N_MESSAGES
 *     msg ROLE_HEX CONTENT_HEX          (N_MESSAGES lines)
 * stdout, one line per case:
 *     out INDEX TEXT_HEX       or       err INDEX message
 * Exit status 0 unless the input is malformed.
 */
#include <deepc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MSGS 64

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decode a hex token into a new NUL-terminated string; NULL when malformed. */
static char *unhex(const char *h) {
    size_t n = strlen(h);
    if (n % 2) return NULL;
    char *s = malloc(n / 2 + 1);
    if (!s) return NULL;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(s);
            return NULL;
        }
        s[i] = (char)(hi * 16 + lo);
    }
    s[n / 2] = '\0';
    return s;
}

static dc_chat_thinking thinking_of(const char *s) {
    if (strcmp(s, "on") == 0) return DC_CHAT_THINKING_ON;
    if (strcmp(s, "off") == 0) return DC_CHAT_THINKING_OFF;
    return DC_CHAT_THINKING_DEFAULT;
}

static void render(int idx, dc_chat_format f, bool add_gen, dc_chat_options *opt,
                   const dc_chat_message *msgs, size_t n) {
    size_t need = 0;
    if (dc_chat_apply(f, msgs, n, add_gen, opt, NULL, 0, &need) != DC_OK) {
        printf("err %d %s\n", idx, dc_last_error());
        return;
    }
    char *buf = malloc(need + 1);
    if (!buf || dc_chat_apply(f, msgs, n, add_gen, opt, buf, need + 1, &need) != DC_OK) {
        printf("err %d %s\n", idx, buf ? dc_last_error() : "out of memory");
        free(buf);
        return;
    }
    printf("out %d ", idx);
    for (size_t i = 0; i < need; i++) printf("%02x", (unsigned char)buf[i]);
    printf("\n");
    free(buf);
}

int main(void) {
    static char line[1 << 20];
    while (fgets(line, sizeof line, stdin)) {
        int idx, add_gen;
        size_t n;
        char fmt[64], think[16];
        if (line[0] == '\n') continue;
        if (sscanf(line, "case %d %63s %d %15s %zu", &idx, fmt, &add_gen, think, &n) != 5 ||
            n > MAX_MSGS) {
            fprintf(stderr, "chat_render: bad case line: %s", line);
            return 2;
        }
        dc_chat_message msgs[MAX_MSGS];
        char *owned[2 * MAX_MSGS];
        size_t n_owned = 0;
        for (size_t i = 0; i < n; i++) {
            static char role[1 << 12], content[1 << 20];
            if (!fgets(line, sizeof line, stdin) ||
                sscanf(line, "msg %4095s %1048575s", role, content) < 1) {
                fprintf(stderr, "chat_render: case %d: bad msg line\n", idx);
                return 2;
            }
            if (sscanf(line, "msg %4095s %1048575s", role, content) == 1) content[0] = '\0';
            owned[n_owned++] = unhex(role);
            owned[n_owned++] = unhex(content);
            if (!owned[n_owned - 2] || !owned[n_owned - 1]) {
                fprintf(stderr, "chat_render: case %d: bad hex\n", idx);
                return 2;
            }
            msgs[i] = (dc_chat_message){owned[n_owned - 2], owned[n_owned - 1]};
        }
        dc_chat_options opt = dc_chat_default_options();
        opt.thinking = thinking_of(think);
        render(idx, dc_chat_format_from_name(fmt), add_gen != 0, &opt, msgs, n);
        for (size_t i = 0; i < n_owned; i++) free(owned[i]);
    }
    return 0;
}
