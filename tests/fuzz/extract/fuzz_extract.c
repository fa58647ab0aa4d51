/*
 * fuzz_extract.c: otelc__propagation_extract() with a carrier made from the
 * input, then inject and extract again.
 *
 * Input: the first byte's low four bits are the propagators
 * (OTELC_PROPAGATOR_*); the rest is split at newlines, and line i is the
 * value of header i in this order: traceparent, tracestate, baggage, b3,
 * x-b3-traceid, x-b3-spanid, x-b3-sampled, x-b3-flags, x-b3-parentspanid.
 * Headers past the last line are absent; a line that is a lone "\x01" is an
 * absent header too, so that a later one can be present without it. Every
 * value is a heap block of exactly strlen + 1 bytes.
 *
 * Invariants: the result is consistent (a span context is valid and remote
 * or all zero, lengths match the strings, tracestate only with a
 * traceparent, rejected bits only of configured propagators), and injecting
 * it with the same propagators and extracting again gives it back, with
 * nothing rejected.
 */
#include "fuzz_check.h"
#include "propagation_int.h"

#include <string.h>

static const char *const header_names[] = {
    "traceparent",  "tracestate", "baggage",           "b3", "x-b3-traceid", "x-b3-spanid",
    "x-b3-sampled", "x-b3-flags", "x-b3-parentspanid",
};
#define N_HEADERS (sizeof(header_names) / sizeof(header_names[0]))

typedef struct carrier {
    char *value[N_HEADERS];
    unsigned gets; /* calls of the getter, bounded below */
} carrier_t;

static int header_index(const char *key)
{
    for (size_t i = 0; i < N_HEADERS; i++)
        if (strcmp(header_names[i], key) == 0)
            return (int)i;
    return -1;
}

static const char *get(void *c, const char *key)
{
    carrier_t *carrier = c;
    int i = header_index(key);

    /* Keys are lower case and among the known ones, as propagation_int.h says. */
    FUZZ_CHECK(i >= 0);
    carrier->gets++;
    return carrier->value[i];
}

static void set(void *c, const char *key, const char *value)
{
    carrier_t *carrier = c;
    int i = header_index(key);
    size_t n;

    FUZZ_CHECK(i >= 0 && value != NULL);
    /* One header once per inject. */
    FUZZ_CHECK(carrier->value[i] == NULL);
    n = strlen(value);
    carrier->value[i] = malloc(n + 1);
    FUZZ_CHECK(carrier->value[i] != NULL);
    memcpy(carrier->value[i], value, n + 1);
}

static void carrier_free(carrier_t *c)
{
    for (size_t i = 0; i < N_HEADERS; i++) {
        free(c->value[i]);
        c->value[i] = NULL;
    }
}

static bool is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static void check_consistent(unsigned propagators, const otelc__propagated_t *p)
{
    if (!is_zero(&p->span, sizeof(p->span))) {
        FUZZ_CHECK(otelc_span_context_is_valid(&p->span));
        FUZZ_CHECK(p->span.is_remote);
        FUZZ_CHECK(propagators & (OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_B3 |
                                  OTELC_PROPAGATOR_B3MULTI));
    }
    FUZZ_CHECK(p->tracestate_len <= OTELC_TRACESTATE_MAX);
    FUZZ_CHECK(strlen(p->tracestate) == p->tracestate_len);
    FUZZ_CHECK(p->baggage_len <= OTELC_BAGGAGE_MAX);
    FUZZ_CHECK(strlen(p->baggage) == p->baggage_len);
    if (p->tracestate_len > 0)
        FUZZ_CHECK((propagators & OTELC_PROPAGATOR_TRACECONTEXT) &&
                   otelc_span_context_is_valid(&p->span));
    if (p->baggage_len > 0)
        FUZZ_CHECK(propagators & OTELC_PROPAGATOR_BAGGAGE);
    FUZZ_CHECK((p->rejected & ~propagators) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* About 8.7 KiB each: static, as propagation_int.h advises. */
    static otelc__propagated_t first, second;
    carrier_t carrier = { { NULL }, 0 };
    unsigned propagators;
    size_t i = 1, h = 0;

    if (size == 0)
        return 0;
    propagators = data[0] & 0xfu;
    while (i <= size && h < N_HEADERS) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        size_t len = end - i;

        if (!(len == 1 && data[i] == 1)) {
            carrier.value[h] = malloc(len + 1);
            FUZZ_CHECK(carrier.value[h] != NULL);
            if (len > 0)
                memcpy(carrier.value[h], data + i, len);
            carrier.value[h][len] = '\0';
        }
        h++;
        i = end + 1;
        if (nl == NULL)
            break;
    }

    memset(&first, 0xa5, sizeof(first));
    otelc__propagation_extract(propagators, get, &carrier, &first);
    check_consistent(propagators, &first);
    FUZZ_CHECK(carrier.gets <= 2 * N_HEADERS);
    carrier_free(&carrier);

    otelc__propagation_inject(propagators, &first.span, first.tracestate, first.tracestate_len,
                              first.baggage, first.baggage_len, set, &carrier);
    memset(&second, 0x5a, sizeof(second));
    otelc__propagation_extract(propagators, get, &carrier, &second);
    check_consistent(propagators, &second);
    FUZZ_CHECK(second.rejected == 0);
    FUZZ_CHECK(memcmp(second.span.trace_id, first.span.trace_id, OTELC_TRACE_ID_SIZE) == 0);
    FUZZ_CHECK(memcmp(second.span.span_id, first.span.span_id, OTELC_SPAN_ID_SIZE) == 0);
    FUZZ_CHECK(second.span.is_remote == first.span.is_remote);
    /* traceparent carries all eight flags; b3 and X-B3-* the sampled one. */
    if (propagators & OTELC_PROPAGATOR_TRACECONTEXT)
        FUZZ_CHECK(second.span.trace_flags == first.span.trace_flags);
    else
        FUZZ_CHECK(second.span.trace_flags == (first.span.trace_flags & OTELC_TRACE_FLAG_SAMPLED));
    FUZZ_CHECK(second.tracestate_len == first.tracestate_len &&
               memcmp(second.tracestate, first.tracestate, first.tracestate_len) == 0);
    FUZZ_CHECK(second.baggage_len == first.baggage_len &&
               memcmp(second.baggage, first.baggage, first.baggage_len) == 0);
    carrier_free(&carrier);
    return 0;
}
