/*
 * test_util.h - helpers shared by the Check suites: a seeded random source,
 * fixture paths, float comparison and the main() every suite uses.
 *
 * Each tests/test_<module>.c defines Suite *<module>_suite(void) and ends with
 * DC_TEST_MAIN(<module>_suite). Randomness is a fixed-seed splitmix64 so a
 * failure reproduces; DEEPC_TEST_SEED overrides the seed.
 */
#ifndef DEEPC_TEST_UTIL_H
#define DEEPC_TEST_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct dc_test_rng { uint64_t s; } dc_test_rng;

void     dc_test_rng_seed(dc_test_rng *r, uint64_t seed);
uint64_t dc_test_rng_u64(dc_test_rng *r);
double   dc_test_rng_uniform(dc_test_rng *r);          /* [0, 1) */
double   dc_test_rng_normal(dc_test_rng *r);           /* N(0, 1) */
void     dc_test_fill_normal(dc_test_rng *r, float *x, size_t n, double std);
void     dc_test_fill_uniform(dc_test_rng *r, float *x, size_t n, double lo, double hi);
uint64_t dc_test_seed(void);   /* DEEPC_TEST_SEED or 42 */

/* Path of a file under ../shared (DEEPC_SHARED) or tests/data
 * (DEEPC_TEST_DATA); static buffer, valid until the next call. */
const char *dc_test_shared_path(const char *rel);
const char *dc_test_data_path(const char *rel);
bool        dc_test_file_exists(const char *path);

/* Read a whole file; caller free()s. NULL on failure. */
void *dc_test_read_file(const char *path, size_t *size);

/* max |a - b| over n values; NaN if either has a NaN where the other has not */
double dc_test_max_abs_diff(const float *a, const float *b, size_t n);

int dc_test_run_suite(Suite *s);

#define DC_TEST_MAIN(suite_fn) \
    int main(void) { return dc_test_run_suite(suite_fn()); }

#endif /* DEEPC_TEST_UTIL_H */
