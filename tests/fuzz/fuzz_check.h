/*
 * fuzz_check.h: the entry point of a fuzz target, and how the targets state
 * their invariants.
 *
 * A violated invariant is a bug found, so the target prints what was
 * expected and calls abort(), which libFuzzer and the replay driver both
 * report as a crash with the input that caused it. This is test code: the
 * library itself never aborts.
 */
#ifndef OTELC_FUZZ_CHECK_H
#define OTELC_FUZZ_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The libFuzzer entry point every target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant violated: %s\n", __FILE__, __LINE__, #cond);         \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* OTELC_FUZZ_CHECK_H */
