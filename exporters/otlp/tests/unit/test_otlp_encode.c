/*
 * test_otlp_encode.c: what the OTLP encoder writes, decoded by protobuf-c
 * (an implementation that is not ours) and compared field by field with
 * the batch: ids, times, kinds, status, attributes of every type, events,
 * links, flags, severity, body, event name, trace context of logs, the
 * resource and the scopes, records grouped by scope in their order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "otlp_fixtures.h"

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;
typedef Opentelemetry__Proto__Common__V1__KeyValue kv_t;
#define CASE(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

/* The same scope as scope_a, in another struct: grouped with it. */
static const otelc_scope_info_t scope_a2 = { S("trading.engine"), S("1.2.0") };

static void expect_every_type(kv_t **kv, size_t n)
{
    any_t *v;

    assert_int_equal(n, N_EVERY);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(kv[i]->key, every_type[i].key);
    assert_int_equal(kv[0]->value->value_case, CASE(STRING_VALUE));
    assert_string_equal(kv[0]->value->string_value, "BTCUSDT");
    assert_int_equal(kv[1]->value->value_case, CASE(BOOL_VALUE));
    assert_true(kv[1]->value->bool_value);
    assert_int_equal(kv[2]->value->value_case, CASE(INT_VALUE));
    assert_int_equal(kv[2]->value->int_value, -42);
    assert_int_equal(kv[3]->value->value_case, CASE(DOUBLE_VALUE));
    assert_true(kv[3]->value->double_value == 150.25);
    assert_int_equal(kv[4]->value->value_case, CASE(BYTES_VALUE));
    assert_int_equal(kv[4]->value->bytes_value.len, 3);
    assert_memory_equal(kv[4]->value->bytes_value.data, raw, 3);
    v = kv[5]->value;
    assert_int_equal(v->value_case, CASE(ARRAY_VALUE));
    assert_int_equal(v->array_value->n_values, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(v->array_value->values[i]->string_value, tags[i]);
    v = kv[6]->value;
    assert_int_equal(v->array_value->n_values, 2);
    assert_true(v->array_value->values[0]->bool_value);
    assert_false(v->array_value->values[1]->bool_value);
    assert_int_equal(v->array_value->values[1]->value_case, CASE(BOOL_VALUE));
    v = kv[7]->value;
    assert_int_equal(v->array_value->n_values, 3);
    for (size_t i = 0; i < 3; i++)
        assert_true(v->array_value->values[i]->int_value == ints[i]);
    v = kv[8]->value;
    assert_int_equal(v->array_value->n_values, 2);
    assert_true(v->array_value->values[1]->double_value == 1.5e300);
    assert_true(v->array_value->values[0]->double_value == 0.0);
}

static void expect_resource(const Opentelemetry__Proto__Resource__V1__Resource *r)
{
    assert_non_null(r);
    assert_int_equal(r->n_attributes, 2);
    assert_string_equal(r->attributes[0]->key, "service.name");
    assert_string_equal(r->attributes[0]->value->string_value, "order-gateway");
    assert_int_equal(r->attributes[1]->value->int_value, 2);
}

static void spans_round_trip(void **state)
{
    otelc_span_data_t spans[3];
    otelc_event_data_t events[2];
    otelc_link_data_t link;
    char long_name[300];
    otelc_batch_t b;
    otelc__otlp_encoder_t e = { 0 };
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req;
    Opentelemetry__Proto__Trace__V1__ScopeSpans *ss;
    Opentelemetry__Proto__Trace__V1__Span *sp;

    (void)state;
    memset(spans, 0, sizeof(spans));
    memset(events, 0, sizeof(events));
    memset(&link, 0, sizeof(link));
    memset(long_name, 'n', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';

    events[0] = (otelc_event_data_t){
        .time_ns = 1001, .name = S("fill"), .attrs = every_type, .n_attrs = 2, .dropped_attrs = 1
    };
    events[1] = (otelc_event_data_t){ .time_ns = 1002, .name = S("cancel") };
    fill_ctx(&link.ctx, 90);
    link.ctx.is_remote = true;
    link.attrs = every_type + 2;
    link.n_attrs = 1;

    fill_ctx(&spans[0].ctx, 10);
    spans[0].trace_state = S("vendor=1");
    spans[0].name = S("place_order");
    spans[0].kind = OTELC_SPAN_KIND_SERVER;
    spans[0].start_ns = 1700000000123456789ull;
    spans[0].end_ns = 1700000000223456789ull;
    spans[0].status_code = OTELC_STATUS_ERROR;
    spans[0].status_message = S("rejected by risk");
    spans[0].scope = &scope_a;
    spans[0].attrs = every_type;
    spans[0].n_attrs = N_EVERY;
    spans[0].dropped_attrs = 3;
    spans[0].events = events;
    spans[0].n_events = 2;
    spans[0].dropped_events = 4;
    spans[0].links = &link;
    spans[0].n_links = 1;
    spans[0].dropped_links = 5;
    spans[0].parent_is_remote = true;
    memset(spans[0].parent_span_id, 0x77, OTELC_SPAN_ID_SIZE);

    fill_ctx(&spans[1].ctx, 20);
    spans[1].name = S("check_limits");
    spans[1].kind = OTELC_SPAN_KIND_INTERNAL;
    spans[1].scope = &scope_b;
    spans[1].start_ns = 5;
    spans[1].end_ns = 6;

    /* A long name: the span's length needs two bytes and more. */
    fill_ctx(&spans[2].ctx, 30);
    spans[2].name = (otelc_str_t){ long_name, strlen(long_name) };
    spans[2].scope = &scope_a2;
    spans[2].start_ns = 7;
    spans[2].end_ns = 8;

    b = (otelc_batch_t){
        .signal = OTELC_SIGNAL_TRACES, .resource = &resource, .spans = spans, .n = 3
    };
    assert_true(otelc__otlp_encode(&e, &b));
    req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, e.len, e.buf);
    assert_non_null(req);
    assert_int_equal(req->n_resource_spans, 1);
    expect_resource(req->resource_spans[0]->resource);
    /* Two scopes: trading.engine with spans 0 and 2, then trading.risk. */
    assert_int_equal(req->resource_spans[0]->n_scope_spans, 2);
    ss = req->resource_spans[0]->scope_spans[0];
    assert_string_equal(ss->scope->name, "trading.engine");
    assert_string_equal(ss->scope->version, "1.2.0");
    assert_int_equal(ss->n_spans, 2);
    assert_int_equal(strlen(ss->spans[1]->name), sizeof(long_name) - 1);
    assert_string_equal(req->resource_spans[0]->scope_spans[1]->scope->name, "trading.risk");
    assert_string_equal(req->resource_spans[0]->scope_spans[1]->scope->version, "");
    assert_string_equal(req->resource_spans[0]->scope_spans[1]->spans[0]->name, "check_limits");
    assert_null(req->resource_spans[0]->scope_spans[1]->spans[0]->status);
    assert_int_equal(req->resource_spans[0]->scope_spans[1]->spans[0]->parent_span_id.len, 0);

    sp = ss->spans[0];
    assert_int_equal(sp->trace_id.len, 16);
    assert_memory_equal(sp->trace_id.data, spans[0].ctx.trace_id, 16);
    assert_int_equal(sp->span_id.len, 8);
    assert_memory_equal(sp->span_id.data, spans[0].ctx.span_id, 8);
    assert_int_equal(sp->parent_span_id.len, 8);
    assert_memory_equal(sp->parent_span_id.data, spans[0].parent_span_id, 8);
    assert_string_equal(sp->trace_state, "vendor=1");
    assert_string_equal(sp->name, "place_order");
    assert_int_equal(sp->kind, OPENTELEMETRY__PROTO__TRACE__V1__SPAN__SPAN_KIND__SPAN_KIND_SERVER);
    assert_true(sp->start_time_unix_nano == 1700000000123456789ull);
    assert_true(sp->end_time_unix_nano == 1700000000223456789ull);
    assert_int_equal(sp->flags, 0x01 | 0x100 | 0x200);
    expect_every_type(sp->attributes, sp->n_attributes);
    assert_int_equal(sp->dropped_attributes_count, 3);
    assert_int_equal(sp->n_events, 2);
    assert_true(sp->events[0]->time_unix_nano == 1001);
    assert_string_equal(sp->events[0]->name, "fill");
    assert_int_equal(sp->events[0]->n_attributes, 2);
    assert_int_equal(sp->events[0]->dropped_attributes_count, 1);
    assert_string_equal(sp->events[1]->name, "cancel");
    assert_int_equal(sp->dropped_events_count, 4);
    assert_int_equal(sp->n_links, 1);
    assert_memory_equal(sp->links[0]->trace_id.data, link.ctx.trace_id, 16);
    assert_memory_equal(sp->links[0]->span_id.data, link.ctx.span_id, 8);
    assert_int_equal(sp->links[0]->flags, 0x01 | 0x100 | 0x200);
    assert_string_equal(sp->links[0]->attributes[0]->key, "qty");
    assert_int_equal(sp->dropped_links_count, 5);
    assert_non_null(sp->status);
    assert_int_equal(sp->status->code,
                     OPENTELEMETRY__PROTO__TRACE__V1__STATUS__STATUS_CODE__STATUS_CODE_ERROR);
    assert_string_equal(sp->status->message, "rejected by risk");
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    otelc__otlp_encoder_free(&e);
}

static void logs_round_trip(void **state)
{
    otelc_log_data_t logs[2];
    otelc_batch_t b;
    otelc__otlp_encoder_t e = { 0 };
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req;
    Opentelemetry__Proto__Logs__V1__LogRecord *lr;

    (void)state;
    memset(logs, 0, sizeof(logs));
    logs[0] = (otelc_log_data_t){ .time_ns = 11,
                                  .observed_time_ns = 12,
                                  .severity = OTELC_SEV_WARN,
                                  .severity_text = S("WARN"),
                                  .body = S("order rejected"),
                                  .event_name = S("order.rejected"),
                                  .scope = &scope_b,
                                  .attrs = every_type,
                                  .n_attrs = N_EVERY,
                                  .dropped_attrs = 2 };
    fill_ctx(&logs[0].ctx, 40);
    logs[1] = (otelc_log_data_t){ .time_ns = 21,
                                  .observed_time_ns = 21,
                                  .severity = OTELC_SEV_INFO,
                                  .severity_text = S("INFO"),
                                  .body = S("no trace"),
                                  .scope = &scope_b };
    b = (otelc_batch_t){ .signal = OTELC_SIGNAL_LOGS, .resource = &resource, .logs = logs, .n = 2 };
    assert_true(otelc__otlp_encode(&e, &b));
    req = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
        NULL, e.len, e.buf);
    assert_non_null(req);
    assert_int_equal(req->n_resource_logs, 1);
    expect_resource(req->resource_logs[0]->resource);
    assert_int_equal(req->resource_logs[0]->n_scope_logs, 1);
    assert_string_equal(req->resource_logs[0]->scope_logs[0]->scope->name, "trading.risk");
    assert_int_equal(req->resource_logs[0]->scope_logs[0]->n_log_records, 2);
    lr = req->resource_logs[0]->scope_logs[0]->log_records[0];
    assert_true(lr->time_unix_nano == 11);
    assert_true(lr->observed_time_unix_nano == 12);
    assert_int_equal(lr->severity_number, OTELC_SEV_WARN);
    assert_string_equal(lr->severity_text, "WARN");
    assert_int_equal(lr->body->value_case, CASE(STRING_VALUE));
    assert_string_equal(lr->body->string_value, "order rejected");
    assert_string_equal(lr->event_name, "order.rejected");
    expect_every_type(lr->attributes, lr->n_attributes);
    assert_int_equal(lr->dropped_attributes_count, 2);
    assert_int_equal(lr->flags, 0x01);
    assert_memory_equal(lr->trace_id.data, logs[0].ctx.trace_id, 16);
    assert_memory_equal(lr->span_id.data, logs[0].ctx.span_id, 8);
    lr = req->resource_logs[0]->scope_logs[0]->log_records[1];
    assert_string_equal(lr->body->string_value, "no trace");
    assert_int_equal(lr->trace_id.len, 0);
    assert_int_equal(lr->span_id.len, 0);
    assert_string_equal(lr->event_name, "");
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
                                                                                          NULL);
    otelc__otlp_encoder_free(&e);
}

/* A batch larger than the first buffer: the encoder grows it, and the
 * buffer is reused (no growth) for the next batch of the same size. */
static void large_batch_and_reuse(void **state)
{
    enum { N = 2000 };
    otelc_log_data_t *logs = calloc(N, sizeof(*logs));
    char *body = malloc(70000);
    otelc__otlp_encoder_t e = { 0 };
    otelc_batch_t b;
    Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *req;
    uint8_t *first;
    size_t cap;

    (void)state;
    assert_non_null(logs);
    assert_non_null(body);
    memset(body, 'x', 69999);
    body[69999] = '\0';
    for (size_t i = 0; i < N; i++) {
        logs[i] = (otelc_log_data_t){ .time_ns = i,
                                      .severity = OTELC_SEV_INFO,
                                      .body = S("tick"),
                                      .scope = i % 2 ? &scope_a : &scope_b,
                                      .attrs = every_type,
                                      .n_attrs = N_EVERY };
    }
    /* One record with a 70,000-byte body: a length of three bytes. */
    logs[7].body = (otelc_str_t){ body, 69999 };
    b = (otelc_batch_t){ .signal = OTELC_SIGNAL_LOGS, .resource = &resource, .logs = logs, .n = N };
    assert_true(otelc__otlp_encode(&e, &b));
    req = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
        NULL, e.len, e.buf);
    assert_non_null(req);
    assert_int_equal(req->resource_logs[0]->n_scope_logs, 2);
    /* Scopes in the order they first appear; records in their order. */
    assert_string_equal(req->resource_logs[0]->scope_logs[0]->scope->name, "trading.risk");
    assert_int_equal(req->resource_logs[0]->scope_logs[0]->n_log_records, N / 2);
    assert_int_equal(req->resource_logs[0]->scope_logs[1]->n_log_records, N / 2);
    for (size_t i = 0; i < N / 2; i++)
        assert_true(req->resource_logs[0]->scope_logs[0]->log_records[i]->time_unix_nano == 2 * i);
    assert_int_equal(
        strlen(req->resource_logs[0]->scope_logs[1]->log_records[3]->body->string_value), 69999);
    opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(req,
                                                                                          NULL);
    first = e.buf;
    cap = e.cap;
    assert_true(otelc__otlp_encode(&e, &b));
    assert_ptr_equal(e.buf, first);
    assert_int_equal(e.cap, cap);
    /* No record: an empty request. */
    b.n = 0;
    assert_true(otelc__otlp_encode(&e, &b));
    assert_int_equal(e.len, 0);
    otelc__otlp_encoder_free(&e);
    free(body);
    free(logs);
}

/* Keys, names and values of every length from 0 to 40 bytes, each byte
 * different: the encoder copies short strings its own way up to 16 bytes
 * (a loop below 4, two overlapping moves above), memcpy() beyond. */
static void every_short_length(void **state)
{
    enum { MAX = 40 };
    static char text[MAX + 1];
    static char keys[MAX + 1][MAX + 2];
    otelc_attr_t attrs[2 * (MAX + 1)];
    otelc_span_data_t span;
    otelc__otlp_encoder_t e = { 0 };
    otelc_batch_t b;
    Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *req;
    Opentelemetry__Proto__Trace__V1__Span *sp;

    (void)state;
    for (size_t i = 0; i < MAX; i++)
        text[i] = (char)('A' + i);
    for (size_t n = 0; n <= MAX; n++) {
        /* Key n: "k" then n bytes; value: the first n bytes of text, as a
         * string and as bytes. */
        keys[n][0] = 'k';
        memcpy(keys[n] + 1, text, n);
        keys[n][n + 1] = '\0';
        attrs[2 * n] = (otelc_attr_t){ .key = keys[n], .key_len = n + 1, .type = OTELC_ATTR_STRING,
                                       .v.s = text, .len = n };
        attrs[2 * n + 1] = (otelc_attr_t){ .key = keys[n], .type = OTELC_ATTR_BYTES,
                                           .v.bytes = (const uint8_t *)text, .len = n };
    }
    memset(&span, 0, sizeof(span));
    fill_ctx(&span.ctx, 3);
    span.name = (otelc_str_t){ text, 13 };
    span.scope = &scope_a;
    span.attrs = attrs;
    span.n_attrs = 2 * (MAX + 1);
    b = (otelc_batch_t){ .signal = OTELC_SIGNAL_TRACES, .resource = &resource, .spans = &span,
                         .n = 1 };
    assert_true(otelc__otlp_encode(&e, &b));
    req = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
        NULL, e.len, e.buf);
    assert_non_null(req);
    sp = req->resource_spans[0]->scope_spans[0]->spans[0];
    assert_int_equal(strlen(sp->name), 13);
    assert_memory_equal(sp->name, text, 13);
    assert_int_equal(sp->n_attributes, 2 * (MAX + 1));
    for (size_t n = 0; n <= MAX; n++) {
        kv_t *str = sp->attributes[2 * n], *bin = sp->attributes[2 * n + 1];

        assert_string_equal(str->key, keys[n]);
        assert_string_equal(bin->key, keys[n]);
        assert_int_equal(str->value->value_case, CASE(STRING_VALUE));
        assert_int_equal(strlen(str->value->string_value), n);
        assert_memory_equal(str->value->string_value, text, n);
        assert_int_equal(bin->value->value_case, CASE(BYTES_VALUE));
        assert_int_equal(bin->value->bytes_value.len, n);
        if (n > 0)
            assert_memory_equal(bin->value->bytes_value.data, text, n);
    }
    opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(req,
                                                                                            NULL);
    otelc__otlp_encoder_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spans_round_trip),
        cmocka_unit_test(logs_round_trip),
        cmocka_unit_test(large_batch_and_reuse),
        cmocka_unit_test(every_short_length),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
