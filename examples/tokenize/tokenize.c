/*
 * tokenize.c - deepc-tokenize: run deepc's tokenizer from the command line,
 * for debugging and for tests.
 *
 *     deepc-tokenize (-m MODEL.gguf | --hf DIR) [--bos] [--no-special]
 *                    [--pieces] [--decode] (--text STR | --file F | --json F)
 *
 * The tokenizer comes from a GGUF's metadata (-m; the weights are not
 * loaded) or from a Hugging Face folder holding tokenizer.json and
 * tokenizer_config.json (--hf; no model needed). By default special-token
 * strings in the text are matched as special tokens (--no-special: as
 * plain text) and no BOS is added (--bos adds it).
 *
 * --text / --file: print the ids comma-separated on one line; with --pieces,
 * one line per token instead: the id, a tab, the piece (C-escaped).
 * --json F: F is a JSON array of strings; print a JSON array holding one id
 * array per string, in order (one per line).
 * --decode: the input holds ids instead (comma / space separated for --text
 * and --file, a JSON array of id arrays for --json); print the text (raw
 * bytes, no newline added), or for --json a JSON array of strings.
 *
 * Errors go to stderr as "deepc-tokenize: <reason>", exit status 1; usage
 * errors exit with 2. Uses only public headers (and cJSON for --json).
 */
#include "deepc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    const char *model, *hf_dir, *text, *file, *json;
    bool        bos, special, pieces, decode;
} options;

static void usage(FILE *f) {
    fputs("usage: deepc-tokenize (-m MODEL.gguf | --hf DIR) [--bos] [--no-special]\n"
          "                      [--pieces] [--decode] (--text STR | --file F | --json F)\n",
          f);
}

static int fail(const char *what) {
    fprintf(stderr, "deepc-tokenize: %s%s%s\n", what, *dc_last_error() ? ": " : "",
            dc_last_error());
    return 1;
}

static int parse_args(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->special = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "-m") || !strcmp(a, "--model") ? &o->model
                          : !strcmp(a, "--hf")   ? &o->hf_dir
                          : !strcmp(a, "--text") ? &o->text
                          : !strcmp(a, "--file") ? &o->file
                          : !strcmp(a, "--json") ? &o->json : NULL;
        if (slot) {
            if (i + 1 >= argc) return fprintf(stderr, "deepc-tokenize: %s needs a value\n", a), 2;
            *slot = argv[++i];
        } else if (!strcmp(a, "--bos")) {
            o->bos = true;
        } else if (!strcmp(a, "--no-special")) {
            o->special = false;
        } else if (!strcmp(a, "--pieces")) {
            o->pieces = true;
        } else if (!strcmp(a, "--decode")) {
            o->decode = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "deepc-tokenize: unknown argument '%s'\n", a);
            return usage(stderr), 2;
        }
    }
    int n_src = (o->model != NULL) + (o->hf_dir != NULL);
    int n_in = (o->text != NULL) + (o->file != NULL) + (o->json != NULL);
    if (n_src != 1 || n_in != 1) return usage(stderr), 2;
    return 0;
}

/* The whole file in a malloc'd buffer (NUL added, not counted). */
static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (cap - n - 1 == 0) {
            char *b = realloc(buf, cap *= 2);
            if (!b) free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- encoding ---------------------------------------------------------------------- */

/* Tokenize into *ids (malloc'd); returns the count or -1. One call: a
 * buffer of 3 * n + 1 ids always suffices (include/deepc/tokenizer.h). */
static int32_t encode(const dc_tokenizer *t, const options *o, const char *s, size_t n,
                      dc_token **ids) {
    int32_t cnt = 0;
    *ids = NULL;
    if (n > (INT32_MAX - 1) / 3) {
        fprintf(stderr, "deepc-tokenize: input of %zu bytes is too long\n", n);
        return -1;
    }
    int32_t cap = (int32_t)(3 * n + 1);
    *ids = malloc((size_t)cap * sizeof **ids);
    if (!*ids) return -1;
    if (dc_tokenize(t, s, n, o->bos, o->special, *ids, cap, &cnt) != DC_OK) return -1;
    return cnt;
}

static void print_piece(const dc_tokenizer *t, dc_token id) {
    const char *p;
    size_t l;
    dc_token_to_piece(t, id, true, &p, &l);
    printf("%d\t'", id);
    for (size_t i = 0; i < l; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\'' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\r') fputs("\\r", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    fputs("'\n", stdout);
}

static int encode_one(const dc_tokenizer *t, const options *o, const char *s, size_t n) {
    dc_token *ids;
    int32_t cnt = encode(t, o, s, n, &ids);
    if (cnt < 0) {
        free(ids);
        return fail("tokenize");
    }
    for (int32_t i = 0; i < cnt; i++) {
        if (o->pieces) print_piece(t, ids[i]);
        else printf(i ? ",%d" : "%d", ids[i]);
    }
    if (!o->pieces) putchar('\n');
    free(ids);
    return 0;
}

static int encode_json(const dc_tokenizer *t, const options *o, const cJSON *arr) {
    if (!cJSON_IsArray(arr)) return fputs("deepc-tokenize: --json: want an array of strings\n",
                                          stderr), 1;
    fputs("[", stdout);
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e)) return fputs("\ndeepc-tokenize: --json: not a string\n", stderr), 1;
        dc_token *ids;
        int32_t cnt = encode(t, o, e->valuestring, strlen(e->valuestring), &ids);
        if (cnt < 0) {
            free(ids);
            return fail("tokenize");
        }
        printf(k++ ? ",\n[" : "\n[");
        for (int32_t i = 0; i < cnt; i++) printf(i ? ",%d" : "%d", ids[i]);
        putchar(']');
        free(ids);
    }
    fputs("\n]\n", stdout);
    return 0;
}

/* ---- decoding ---------------------------------------------------------------------- */

/* Ids from "1, 2 3"; returns the count or -1 on a bad number. */
static int32_t parse_ids(const char *s, dc_token **ids) {
    size_t cap = 16, n = 0;
    *ids = malloc(cap * sizeof **ids);
    while (*ids && *s) {
        if (*s == ',' || *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
            s++;
            continue;
        }
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) return -1;
        if (n == cap) {
            dc_token *b = realloc(*ids, (cap *= 2) * sizeof **ids);
            if (!b) return -1;
            *ids = b;
        }
        (*ids)[n++] = (dc_token)v;
        s = end;
    }
    return *ids ? (int32_t)n : -1;
}

/* The text of ids[0..n) in a malloc'd buffer (NUL added). */
static char *decode(const dc_tokenizer *t, const options *o, const dc_token *ids, int32_t n,
                    size_t *len) {
    if (dc_detokenize(t, ids, n, o->special, NULL, 0, len) != DC_OK) return NULL;
    char *buf = malloc(*len + 1);
    if (buf && dc_detokenize(t, ids, n, o->special, buf, *len, len) != DC_OK) {
        free(buf);
        return NULL;
    }
    if (buf) buf[*len] = '\0';
    return buf;
}

static int decode_one(const dc_tokenizer *t, const options *o, const char *s) {
    dc_token *ids = NULL;
    int32_t n = parse_ids(s, &ids);
    if (n < 0) {
        free(ids);
        return fputs("deepc-tokenize: --decode: bad id list\n", stderr), 1;
    }
    size_t len;
    char *text = decode(t, o, ids, n, &len);
    free(ids);
    if (!text) return fail("decode");
    fwrite(text, 1, len, stdout);
    free(text);
    return 0;
}

static int decode_json(const dc_tokenizer *t, const options *o, const cJSON *arr) {
    cJSON *outs = cJSON_CreateArray();
    const cJSON *e;
    int rc = 0;
    cJSON_ArrayForEach(e, arr) {
        int32_t n = cJSON_GetArraySize(e), i = 0;
        dc_token *ids = malloc(((size_t)n + 1) * sizeof *ids);
        const cJSON *v;
        cJSON_ArrayForEach(v, e) ids[i++] = cJSON_IsNumber(v) ? (dc_token)v->valuedouble : -1;
        size_t len;
        char *text = cJSON_IsArray(e) ? decode(t, o, ids, n, &len) : NULL;
        free(ids);
        if (!text) {
            rc = fail("--decode --json: want arrays of valid ids");
            break;
        }
        cJSON_AddItemToArray(outs, cJSON_CreateString(text));
        free(text);
    }
    char *s = rc == 0 ? cJSON_Print(outs) : NULL;
    if (s) puts(s);
    free(s);
    cJSON_Delete(outs);
    return rc;
}

/* ---- main ----------------------------------------------------------------------------- */

static int load(const options *o, dc_tokenizer **t) {
    if (o->hf_dir) return dc_tokenizer_from_hf(o->hf_dir, t) == DC_OK ? 0 : fail(o->hf_dir);
    dc_gguf *g = NULL;
    if (dc_gguf_open(o->model, &g) != DC_OK) return fail(o->model);
    dc_status st = dc_tokenizer_from_gguf(g, t);
    dc_gguf_close(g);
    return st == DC_OK ? 0 : fail(o->model);
}

int main(int argc, char **argv) {
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc) return rc;
    dc_tokenizer *t = NULL;
    if ((rc = load(&o, &t)) != 0) return rc;
    size_t len = 0;
    char *data = o.text ? NULL : read_all(o.file ? o.file : o.json, &len);
    if (!o.text && !data) {
        fprintf(stderr, "deepc-tokenize: %s: cannot read\n", o.file ? o.file : o.json);
        dc_tokenizer_free(t);
        return 1;
    }
    if (o.json) {
        cJSON *arr = cJSON_ParseWithLength(data, len);
        if (!arr) {
            fprintf(stderr, "deepc-tokenize: %s: not valid JSON\n", o.json);
            rc = 1;
        } else {
            rc = o.decode ? decode_json(t, &o, arr) : encode_json(t, &o, arr);
        }
        cJSON_Delete(arr);
    } else if (o.decode) {
        rc = decode_one(t, &o, o.text ? o.text : data);
    } else {
        rc = encode_one(t, &o, o.text ? o.text : data, o.text ? strlen(o.text) : len);
    }
    free(data);
    dc_tokenizer_free(t);
    return rc;
}
