/*
 * convo.c - the conversation deepc-chat keeps: a list of messages rendered
 * with the model's chat format on every turn.
 *
 * The whole conversation is rendered each turn (dc_chat_apply) rather than
 * appending text, so what the model sees is exactly what its template
 * writes; chat.c then reuses the KV cache up to the first token that
 * differs. Dropping the oldest turns (when the context is full) removes a
 * user message and the replies that follow it, never the system prompt nor
 * the message being answered.
 *
 * /save writes the messages beside the session state as FILE.chat, JSON:
 *     {"deepc_chat": 1, "format": "deepseek3",
 *      "messages": [{"role": "user", "content": "..."}, ...]}
 * cJSON escapes what JSON needs; content bytes otherwise pass through.
 */
#include "chat.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

int convo_add(convo *c, const char *role, const char *content) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 16;
        dc_chat_message *m = realloc(c->msgs, cap * sizeof *m);
        if (!m) return -1;
        c->msgs = m;
        c->cap = cap;
    }
    char *r = dup_str(role), *t = dup_str(content);
    if (!r || !t) {
        free(r);
        free(t);
        return -1;
    }
    c->msgs[c->n++] = (dc_chat_message){ .role = r, .content = t };
    return 0;
}

static void free_msg(dc_chat_message *m) {
    free((char *)m->role);
    free((char *)m->content);
}

void convo_pop(convo *c) {
    if (c->n) free_msg(&c->msgs[--c->n]);
}

void convo_clear(convo *c, bool keep_system) {
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (keep_system && !strcmp(c->msgs[i].role, "system")) c->msgs[k++] = c->msgs[i];
        else free_msg(&c->msgs[i]);
    }
    c->n = k;
}

void convo_free(convo *c) {
    convo_clear(c, false);
    free(c->msgs);
    c->msgs = NULL;
    c->cap = 0;
}

bool convo_drop_oldest(convo *c) {
    size_t first = 0, last_user = c->n;
    while (first < c->n && !strcmp(c->msgs[first].role, "system")) first++;
    for (size_t i = c->n; i-- > 0;)
        if (!strcmp(c->msgs[i].role, "user")) {
            last_user = i;
            break;
        }
    if (first >= last_user) return false;
    /* the turn: messages from `first` up to the next user message */
    size_t end = first + 1;
    while (end < last_user && strcmp(c->msgs[end].role, "user")) end++;
    for (size_t i = first; i < end; i++) free_msg(&c->msgs[i]);
    memmove(c->msgs + first, c->msgs + end, (c->n - end) * sizeof *c->msgs);
    c->n -= end - first;
    return true;
}

char *convo_render(const convo *c, size_t *len) {
    size_t need = 0;
    if (dc_chat_apply(c->format, c->msgs, c->n, true, &c->opt, NULL, 0, &need) != DC_OK)
        return NULL;
    char *text = malloc(need + 1);
    if (!text) return NULL;
    if (dc_chat_apply(c->format, c->msgs, c->n, true, &c->opt, text, need + 1, len) != DC_OK) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- the /save sidecar ------------------------------------------------------------------ */

int convo_save(const convo *c, const char *path, const char **err) {
    cJSON *root = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    bool ok = root && arr && cJSON_AddNumberToObject(root, "deepc_chat", 1) &&
              cJSON_AddStringToObject(root, "format", dc_chat_format_name(c->format));
    if (arr && ok) ok = cJSON_AddItemToObject(root, "messages", arr);
    else cJSON_Delete(arr);
    for (size_t i = 0; ok && i < c->n; i++) {
        cJSON *m = cJSON_CreateObject();
        ok = m && cJSON_AddStringToObject(m, "role", c->msgs[i].role) &&
             cJSON_AddStringToObject(m, "content", c->msgs[i].content);
        if (m && !(ok && cJSON_AddItemToArray(arr, m))) {
            cJSON_Delete(m);
            ok = false;
        }
    }
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        *err = "out of memory";
        return -1;
    }
    FILE *f = fopen(path, "wb");
    ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) ok = false;
    free(text);
    if (ok) return 0;
    *err = "cannot write the file";
    remove(path);
    return -1;
}

/* The whole file, NUL-terminated (malloc'd); NULL if unreadable or over
 * 1 GiB (no conversation is that long). */
static char *read_all(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    bool ok = true;
    for (;;) {
        if (len + 1 >= cap) {
            size_t c = cap ? 2 * cap : 65536;
            char *g = c <= ((size_t)1 << 30) ? realloc(buf, c) : NULL;
            if (!g) {
                ok = false;
                break;
            }
            buf = g;
            cap = c;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) break;
    }
    ok = ok && !ferror(f);
    fclose(f);
    if (!ok) {
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

/* Messages of a parsed sidecar into c (empty on entry). */
static int parse_messages(const cJSON *arr, convo *c, const char **err) {
    const cJSON *m;
    cJSON_ArrayForEach(m, arr) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsString(r) || !cJSON_IsString(t)) {
            *err = "a message without a string role and content";
            return -1;
        }
        if (convo_add(c, r->valuestring, t->valuestring) != 0) {
            *err = "out of memory";
            return -1;
        }
    }
    return 0;
}

int convo_load(convo *c, const char *path, const char **err) {
    char *text = read_all(path);
    if (!text) {
        *err = "cannot read the file";
        return -1;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "deepc_chat");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "messages");
    if (!root || !cJSON_IsNumber(ver) || ver->valueint != 1 || !cJSON_IsArray(arr)) {
        cJSON_Delete(root);
        *err = "not a deepc-chat conversation (version 1)";
        return -1;
    }
    convo loaded = { .format = c->format, .opt = c->opt };
    int rc = parse_messages(arr, &loaded, err);
    cJSON_Delete(root);
    if (rc != 0) {
        convo_free(&loaded);
        return -1;
    }
    convo_free(c);
    *c = loaded;
    return 0;
}
