/*
 * otlp_fixtures.h: the records the OTLP exporter's tests send, whose every
 * field the decoders check.
 *
 * A test that wants another first double in `dbls` (JSON cannot carry the
 * sign of -0.0 through every decoder) defines OTLP_TEST_FIRST_DOUBLE first.
 */
#ifndef OTELC_OTLP_FIXTURES_H
#define OTELC_OTLP_FIXTURES_H

#include <otelc/exporter.h>

#include <stdbool.h>
#include <stdint.h>

#define S(lit) ((otelc_str_t){ lit, sizeof(lit) - 1 })

#ifndef OTLP_TEST_FIRST_DOUBLE
#define OTLP_TEST_FIRST_DOUBLE -0.0
#endif

/* ---- the records sent ---------------------------------------------------- */

static const otelc_attr_t resource_attrs[] = {
    { .key = "service.name", .type = OTELC_ATTR_STRING, .v.s = "order-gateway", .len = 13 },
    { .key = "host.cores", .type = OTELC_ATTR_INT, .v.i = 2 },
};
static const otelc_resource_t resource = { resource_attrs, 2 };
static const otelc_scope_info_t scope_a = { S("trading.engine"), S("1.2.0") };
static const otelc_scope_info_t scope_b = { S("trading.risk"), S("") };

static const char *const tags[] = { "fx", "", "équité" };
static const bool flags_arr[] = { true, false };
static const int64_t ints[] = { INT64_MIN, 0, INT64_MAX };
static const double dbls[] = { OTLP_TEST_FIRST_DOUBLE, 1.5e300 };
static const uint8_t raw[] = { 0x00, 0xff, 0x10 };

/* An attribute of every type, arrays included. */
static const otelc_attr_t every_type[] = {
    { .key = "symbol", .type = OTELC_ATTR_STRING, .v.s = "BTCUSDT", .len = OTELC_NUL_TERMINATED },
    { .key = "filled", .type = OTELC_ATTR_BOOL, .v.b = true },
    { .key = "qty", .type = OTELC_ATTR_INT, .v.i = -42 },
    { .key = "price", .type = OTELC_ATTR_DOUBLE, .v.d = 150.25 },
    { .key = "raw", .type = OTELC_ATTR_BYTES, .v.bytes = raw, .len = 3 },
    { .key = "tags", .type = OTELC_ATTR_STRING_ARRAY, .v.sa = tags, .len = 3 },
    { .key = "flags", .type = OTELC_ATTR_BOOL_ARRAY, .v.ba = flags_arr, .len = 2 },
    { .key = "ints", .type = OTELC_ATTR_INT_ARRAY, .v.ia = ints, .len = 3 },
    { .key = "dbls", .type = OTELC_ATTR_DOUBLE_ARRAY, .v.da = dbls, .len = 2 },
};
#define N_EVERY (sizeof(every_type) / sizeof(every_type[0]))

/* Ids made from a seed, different for each seed. */
static inline void fill_ctx(otelc_span_context_t *c, uint8_t seed)
{
    for (int i = 0; i < OTELC_TRACE_ID_SIZE; i++)
        c->trace_id[i] = (uint8_t)(seed + i);
    for (int i = 0; i < OTELC_SPAN_ID_SIZE; i++)
        c->span_id[i] = (uint8_t)(seed * 3 + i + 1);
    c->trace_flags = OTELC_TRACE_FLAG_SAMPLED;
}

#endif /* OTELC_OTLP_FIXTURES_H */
