/*
 * test_util.c - see test_util.h.
 */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dc_test_rng_seed(dc_test_rng *r, uint64_t seed) { r->s = seed; }

uint64_t dc_test_rng_u64(dc_test_rng *r) {
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

double dc_test_rng_uniform(dc_test_rng *r) {
    return (double)(dc_test_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

double dc_test_rng_normal(dc_test_rng *r) {
    double u1 = dc_test_rng_uniform(r), u2 = dc_test_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void dc_test_fill_normal(dc_test_rng *r, float *x, size_t n, double std) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(std * dc_test_rng_normal(r));
}

void dc_test_fill_uniform(dc_test_rng *r, float *x, size_t n, double lo, double hi) {
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * dc_test_rng_uniform(r));
}

uint64_t dc_test_seed(void) {
    const char *s = getenv("DEEPC_TEST_SEED");
    return s ? strtoull(s, NULL, 0) : 42;
}

static const char *join(const char *env, const char *fallback, const char *rel) {
    static char buf[4096];
    const char *base = getenv(env);
    snprintf(buf, sizeof buf, "%s/%s", base ? base : fallback, rel);
    return buf;
}

const char *dc_test_shared_path(const char *rel) { return join("DEEPC_SHARED", "../shared", rel); }
const char *dc_test_data_path(const char *rel) { return join("DEEPC_TEST_DATA", "tests/data", rel); }

bool dc_test_file_exists(const char *path) { return access(path, R_OK) == 0; }

void *dc_test_read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf && size) *size = (size_t)n;
    return buf;
}

double dc_test_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(a[i]) != isnan(b[i])) return NAN;
        if (isnan(a[i])) continue;
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m) m = d;
    }
    return m;
}

int dc_test_run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
