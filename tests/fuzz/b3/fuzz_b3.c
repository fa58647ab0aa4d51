/*
 * fuzz_b3.c: otelc_b3_parse() on arbitrary bytes, and the format/parse
 * round trip.
 *
 * Invariants: INVALID leaves the context zeroed; NOT_FOUND (a lone sampling
 * state) gives no ids and only the sampled flag or none; OK gives a valid
 * remote context with only the sampled flag, whose formatted form
 * "{trace}-{span}-{1|0}" parses back to the same context and formats the
 * same again.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_span_context_t ctx, again;
    char out[OTELC_B3_MAX + 1], out2[OTELC_B3_MAX + 1], small[52];
    size_t n;
    otelc_status_t status;

    memset(&ctx, 0xa5, sizeof(ctx));
    status = otelc_b3_parse((const char *)data, size, &ctx);
    FUZZ_CHECK(status == OTELC_OK || status == OTELC_ERR_NOT_FOUND || status == OTELC_ERR_INVALID);
    if (status == OTELC_ERR_INVALID) {
        FUZZ_CHECK(is_zero(&ctx, sizeof(ctx)));
        return 0;
    }
    FUZZ_CHECK((ctx.trace_flags & ~OTELC_TRACE_FLAG_SAMPLED) == 0);
    if (status == OTELC_ERR_NOT_FOUND) {
        FUZZ_CHECK(is_zero(ctx.trace_id, sizeof(ctx.trace_id)));
        FUZZ_CHECK(is_zero(ctx.span_id, sizeof(ctx.span_id)));
        FUZZ_CHECK(!ctx.is_remote);
        FUZZ_CHECK(otelc_b3_format(&ctx, out, sizeof(out)) == 0);
        return 0;
    }
    FUZZ_CHECK(otelc_span_context_is_valid(&ctx) && ctx.is_remote);

    n = otelc_b3_format(&ctx, out, sizeof(out));
    FUZZ_CHECK(n == 2 * OTELC_TRACE_ID_SIZE + 1 + 2 * OTELC_SPAN_ID_SIZE + 2);
    FUZZ_CHECK(n <= OTELC_B3_MAX && strlen(out) == n);
    /* One byte short of room for the NUL: nothing is written. */
    FUZZ_CHECK(otelc_b3_format(&ctx, small, n) == 0);

    memset(&again, 0xa5, sizeof(again));
    FUZZ_CHECK(otelc_b3_parse(out, n, &again) == OTELC_OK);
    FUZZ_CHECK(memcmp(again.trace_id, ctx.trace_id, sizeof(ctx.trace_id)) == 0);
    FUZZ_CHECK(memcmp(again.span_id, ctx.span_id, sizeof(ctx.span_id)) == 0);
    FUZZ_CHECK(again.trace_flags == ctx.trace_flags && again.is_remote);
    FUZZ_CHECK(otelc_b3_format(&again, out2, sizeof(out2)) == n);
    FUZZ_CHECK(memcmp(out, out2, n + 1) == 0);
    return 0;
}
