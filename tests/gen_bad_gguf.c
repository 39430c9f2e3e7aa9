/*
 * gen_bad_gguf.c - write the hostile GGUF files of bad_gguf.c into a
 * directory, one NAME.gguf each (policy cases keep their "policy-" prefix).
 *
 *     gen_bad_gguf DIR [--valid]
 *
 * --valid also writes the valid base as DIR/valid-base.gguf (a seed for the
 * fuzzer). Used to refresh tests/data/bad/ and to seed tests/fuzz/; the test
 * suite generates the same files in memory and does not need this program.
 */
#include "bad_gguf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out_dir {
    const char *dir;
    int         failed;
} out_dir;

static int write_file(const char *dir, const char *name, const uint8_t *data, size_t size) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gguf", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "gen_bad_gguf: %s: %s\n", path, strerror(errno));
        return -1;
    }
    int bad = size && fwrite(data, 1, size, f) != size;
    bad |= fclose(f) != 0;
    if (bad) fprintf(stderr, "gen_bad_gguf: %s: write failed\n", path);
    return bad ? -1 : 0;
}

static void on_file(const char *name, const uint8_t *data, size_t size, bool policy,
                    void *user) {
    out_dir *o = user;
    (void)policy;
    if (write_file(o->dir, name, data, size) != 0) o->failed++;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "--valid") != 0)) {
        fprintf(stderr, "usage: gen_bad_gguf DIR [--valid]\n");
        return 2;
    }
    out_dir o = { argv[1], 0 };
    int n = dc_bad_gguf_generate(on_file, &o);
    if (n < 0) {
        fprintf(stderr, "gen_bad_gguf: out of memory\n");
        return 1;
    }
    if (argc == 3) {
        size_t size;
        uint8_t *base = dc_bad_gguf_base(&size);
        if (!base || write_file(o.dir, "valid-base", base, size) != 0) o.failed++;
        free(base);
    }
    printf("gen_bad_gguf: wrote %d files to %s\n", n - o.failed, o.dir);
    return o.failed ? 1 : 0;
}
