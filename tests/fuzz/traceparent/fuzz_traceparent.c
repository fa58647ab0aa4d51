/*
 * fuzz_traceparent.c: otelc_traceparent_parse() on arbitrary bytes.
 *
 * Invariants: a rejected header leaves the context zeroed; an accepted one
 * gives a valid remote context whose formatted form parses back to the same
 * context. For version 00, which has exactly one spelling (lower-case hex,
 * 55 characters), the formatted form is the input itself minus the
 * surrounding white space that the parser tolerates.
 */
#include "fuzz_check.h"

#include <otelc/propagation.h>

#include <string.h>

static bool is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

static bool same_context(const otelc_span_context_t *a, const otelc_span_context_t *b)
{
    return memcmp(a->trace_id, b->trace_id, sizeof(a->trace_id)) == 0 &&
           memcmp(a->span_id, b->span_id, sizeof(a->span_id)) == 0 &&
           a->trace_flags == b->trace_flags && a->is_remote == b->is_remote;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    otelc_span_context_t ctx, again;
    char out[OTELC_TRACEPARENT_LEN + 1], small[OTELC_TRACEPARENT_LEN];
    size_t n, start = 0, end = size;

    /* Poison the output so that "left zeroed" is really checked. */
    memset(&ctx, 0xa5, sizeof(ctx));
    if (otelc_traceparent_parse(s, size, &ctx) != OTELC_OK) {
        FUZZ_CHECK(is_zero(&ctx, sizeof(ctx)));
        return 0;
    }
    FUZZ_CHECK(otelc_span_context_is_valid(&ctx));
    FUZZ_CHECK(ctx.is_remote);

    n = otelc_traceparent_format(&ctx, out, sizeof(out));
    FUZZ_CHECK(n == OTELC_TRACEPARENT_LEN);
    FUZZ_CHECK(strlen(out) == n);
    FUZZ_CHECK(otelc_traceparent_format(&ctx, small, sizeof(small)) == 0);

    memset(&again, 0xa5, sizeof(again));
    FUZZ_CHECK(otelc_traceparent_parse(out, n, &again) == OTELC_OK);
    FUZZ_CHECK(same_context(&ctx, &again));

    /* Version 00 round-trips byte for byte. */
    while (start < end && (s[start] == ' ' || s[start] == '\t'))
        start++;
    while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t'))
        end--;
    FUZZ_CHECK(end - start >= OTELC_TRACEPARENT_LEN);
    if (s[start] == '0' && s[start + 1] == '0') {
        FUZZ_CHECK(end - start == OTELC_TRACEPARENT_LEN);
        FUZZ_CHECK(memcmp(s + start, out, OTELC_TRACEPARENT_LEN) == 0);
    } else {
        /* Of a later version only the sampled flag is understood. */
        FUZZ_CHECK((ctx.trace_flags & ~OTELC_TRACE_FLAG_SAMPLED) == 0);
        FUZZ_CHECK(memcmp(s + start + 2, out + 2, OTELC_TRACEPARENT_LEN - 4) == 0);
    }
    return 0;
}
