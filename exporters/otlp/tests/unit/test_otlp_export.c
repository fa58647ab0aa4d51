/*
 * test_otlp_export.c: the OTLP exporter against a receiver that is not ours
 * (tests/otlp-receiver: the official @grpc/grpc-js and protobufjs reading
 * proto/). Every field of spans and logs arrives as sent over each protocol
 * linked, with and without gzip, with the headers; then the faults, each
 * with exact accounting: Retry-After honoured, a refusal not retried,
 * partial success, a hang cut at the timeout, the backend down with the
 * spool taking everything and sending it once when the backend is back, a
 * spool left by a previous process, a damaged spool file skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <otelc/otlp.h>
#include <otelc/otelc.h>

#include <dirent.h>

/* JSON through protobufjs loses the sign of -0.0: the encode test checks it. */
#define OTLP_TEST_FIRST_DOUBLE -2.5
#include "otlp_rx.h"
#include "otlp_fixtures.h"
#include "transport.h"

static rx_t rx;
static char spool_dir[256];

/* ---- the records sent ---------------------------------------------------- */

static const char *hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    return out;
}

typedef struct spans_fixture {
    otelc_span_data_t spans[2];
    otelc_event_data_t events[2];
    otelc_link_data_t link;
    otelc_batch_t batch;
} spans_fixture_t;

static void make_spans(spans_fixture_t *f, uint8_t seed)
{
    memset(f, 0, sizeof(*f));
    f->events[0] = (otelc_event_data_t){
        .time_ns = 1001, .name = S("fill"), .attrs = every_type, .n_attrs = 2, .dropped_attrs = 1
    };
    f->events[1] = (otelc_event_data_t){ .time_ns = 1002, .name = S("cancel") };
    fill_ctx(&f->link.ctx, 90);
    f->link.ctx.is_remote = true;
    f->link.attrs = every_type + 2;
    f->link.n_attrs = 1;
    fill_ctx(&f->spans[0].ctx, seed);
    f->spans[0].trace_state = S("vendor=1");
    f->spans[0].name = S("place_order");
    f->spans[0].kind = OTELC_SPAN_KIND_SERVER;
    f->spans[0].start_ns = 1700000000123456789ull;
    f->spans[0].end_ns = 1700000000223456789ull;
    f->spans[0].status_code = OTELC_STATUS_ERROR;
    f->spans[0].status_message = S("rejected by risk");
    f->spans[0].scope = &scope_a;
    f->spans[0].attrs = every_type;
    f->spans[0].n_attrs = N_EVERY;
    f->spans[0].dropped_attrs = 3;
    f->spans[0].events = f->events;
    f->spans[0].n_events = 2;
    f->spans[0].dropped_events = 4;
    f->spans[0].links = &f->link;
    f->spans[0].n_links = 1;
    f->spans[0].dropped_links = 5;
    f->spans[0].parent_is_remote = true;
    memset(f->spans[0].parent_span_id, 0x77, OTELC_SPAN_ID_SIZE);
    fill_ctx(&f->spans[1].ctx, (uint8_t)(seed + 1));
    f->spans[1].name = S("check_limits");
    f->spans[1].kind = OTELC_SPAN_KIND_CLIENT;
    f->spans[1].scope = &scope_b;
    f->spans[1].start_ns = 5;
    f->spans[1].end_ns = 6;
    f->batch = (otelc_batch_t){
        .signal = OTELC_SIGNAL_TRACES, .resource = &resource, .spans = f->spans, .n = 2
    };
}

typedef struct logs_fixture {
    otelc_log_data_t logs[2];
    otelc_batch_t batch;
} logs_fixture_t;

static void make_logs(logs_fixture_t *f, uint8_t seed)
{
    memset(f, 0, sizeof(*f));
    f->logs[0] = (otelc_log_data_t){ .time_ns = 11,
                                     .observed_time_ns = 12,
                                     .severity = OTELC_SEV_WARN,
                                     .severity_text = S("WARN"),
                                     .body = S("order rejected"),
                                     .event_name = S("order.rejected"),
                                     .scope = &scope_b,
                                     .attrs = every_type,
                                     .n_attrs = N_EVERY,
                                     .dropped_attrs = 2 };
    fill_ctx(&f->logs[0].ctx, seed);
    f->logs[1] = (otelc_log_data_t){ .time_ns = 21,
                                     .observed_time_ns = 21,
                                     .severity = OTELC_SEV_INFO,
                                     .severity_text = S("INFO"),
                                     .body = S("no trace"),
                                     .scope = &scope_a };
    f->batch = (otelc_batch_t){
        .signal = OTELC_SIGNAL_LOGS, .resource = &resource, .logs = f->logs, .n = 2
    };
}

/* ---- checks of what arrived ---------------------------------------------- */

static json_object *attr(json_object *attrs, const char *key)
{
    for (size_t i = 0; attrs != NULL && i < json_object_array_length(attrs); i++) {
        json_object *a = json_object_array_get_idx(attrs, i);
        const char *k = jstr(a, "key");

        if (k != NULL && strcmp(k, key) == 0)
            return jpath(a, "value");
    }
    return NULL;
}

static void expect_every_type(json_object *attrs, size_t n)
{
    json_object *v;

    assert_non_null(attrs);
    assert_int_equal(json_object_array_length(attrs), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(jstr(json_object_array_get_idx(attrs, i), "key"), every_type[i].key);
    if (n < N_EVERY)
        return;
    assert_string_equal(jstr(attr(attrs, "symbol"), "stringValue"), "BTCUSDT");
    assert_true(json_object_get_boolean(jpath(attr(attrs, "filled"), "boolValue")));
    assert_int_equal(jint(attr(attrs, "qty"), "intValue"), -42);
    assert_true(json_object_get_double(jpath(attr(attrs, "price"), "doubleValue")) == 150.25);
    /* bytes: base64 of 00 ff 10 */
    assert_string_equal(jstr(attr(attrs, "raw"), "bytesValue"), "AP8Q");
    v = jpath(attr(attrs, "tags"), "arrayValue.values");
    assert_int_equal(json_object_array_length(v), 3);
    assert_string_equal(jstr(v, "0.stringValue"), "fx");
    /* An empty string is still a string value. */
    assert_non_null(jpath(v, "1"));
    assert_string_equal(jstr(v, "2.stringValue"), "équité");
    v = jpath(attr(attrs, "flags"), "arrayValue.values");
    assert_int_equal(json_object_array_length(v), 2);
    assert_true(json_object_get_boolean(jpath(v, "0.boolValue")));
    v = jpath(attr(attrs, "ints"), "arrayValue.values");
    assert_int_equal(json_object_array_length(v), 3);
    assert_string_equal(jstr(v, "0.intValue"), "-9223372036854775808");
    assert_string_equal(jstr(v, "2.intValue"), "9223372036854775807");
    v = jpath(attr(attrs, "dbls"), "arrayValue.values");
    assert_true(json_object_get_double(jpath(v, "0.doubleValue")) == -2.5);
    assert_true(json_object_get_double(jpath(v, "1.doubleValue")) == 1.5e300);
}

static void expect_resource(json_object *rec)
{
    json_object *attrs = jpath(rec, "resource.attributes");

    assert_string_equal(jstr(attr(attrs, "service.name"), "stringValue"), "order-gateway");
    assert_int_equal(jint(attr(attrs, "host.cores"), "intValue"), 2);
}

/* The record whose name (spans) or body (logs) is `name`. */
static json_object *find(json_object *records, const char *path, const char *name)
{
    for (size_t i = 0; i < json_object_array_length(records); i++) {
        json_object *r = json_object_array_get_idx(records, i);
        const char *v = jstr(r, path);

        if (v != NULL && strcmp(v, name) == 0)
            return r;
    }
    return NULL;
}

static void expect_spans(json_object *records, const spans_fixture_t *f)
{
    char h[40];
    json_object *r = find(records, "record.name", "place_order"), *s, *ev, *ln;

    assert_non_null(r);
    expect_resource(r);
    assert_string_equal(jstr(r, "scope.name"), "trading.engine");
    assert_string_equal(jstr(r, "scope.version"), "1.2.0");
    s = jpath(r, "record");
    assert_string_equal(jstr(s, "traceId"), hex(f->spans[0].ctx.trace_id, 16, h));
    assert_string_equal(jstr(s, "spanId"), hex(f->spans[0].ctx.span_id, 8, h));
    assert_string_equal(jstr(s, "parentSpanId"), "7777777777777777");
    assert_string_equal(jstr(s, "traceState"), "vendor=1");
    assert_int_equal(jint(s, "kind"), 2); /* SPAN_KIND_SERVER */
    assert_string_equal(jstr(s, "startTimeUnixNano"), "1700000000123456789");
    assert_string_equal(jstr(s, "endTimeUnixNano"), "1700000000223456789");
    assert_int_equal(jint(s, "flags"), 0x01 | 0x100 | 0x200);
    expect_every_type(jpath(s, "attributes"), N_EVERY);
    assert_int_equal(jint(s, "droppedAttributesCount"), 3);
    ev = jpath(s, "events");
    assert_int_equal(json_object_array_length(ev), 2);
    assert_string_equal(jstr(ev, "0.timeUnixNano"), "1001");
    assert_string_equal(jstr(ev, "0.name"), "fill");
    expect_every_type(jpath(ev, "0.attributes"), 2);
    assert_int_equal(jint(ev, "0.droppedAttributesCount"), 1);
    assert_string_equal(jstr(ev, "1.name"), "cancel");
    assert_int_equal(jint(s, "droppedEventsCount"), 4);
    ln = jpath(s, "links");
    assert_int_equal(json_object_array_length(ln), 1);
    assert_string_equal(jstr(ln, "0.traceId"), hex(f->link.ctx.trace_id, 16, h));
    assert_string_equal(jstr(ln, "0.spanId"), hex(f->link.ctx.span_id, 8, h));
    assert_int_equal(jint(ln, "0.flags"), 0x01 | 0x100 | 0x200);
    assert_string_equal(jstr(ln, "0.attributes.0.key"), "qty");
    assert_int_equal(jint(s, "droppedLinksCount"), 5);
    assert_int_equal(jint(s, "status.code"), 2); /* STATUS_CODE_ERROR */
    assert_string_equal(jstr(s, "status.message"), "rejected by risk");

    r = find(records, "record.name", "check_limits");
    assert_non_null(r);
    assert_string_equal(jstr(r, "scope.name"), "trading.risk");
    s = jpath(r, "record");
    assert_string_equal(jstr(s, "traceId"), hex(f->spans[1].ctx.trace_id, 16, h));
    assert_int_equal(jint(s, "kind"), 3); /* SPAN_KIND_CLIENT */
    assert_string_equal(jstr(s, "startTimeUnixNano"), "5");
    /* A root span: no parent id (empty), no status. */
    assert_true(jstr(s, "parentSpanId") == NULL || jstr(s, "parentSpanId")[0] == '\0');
    assert_null(jpath(s, "status.code"));
}

static void expect_logs(json_object *records, const logs_fixture_t *f)
{
    char h[40];
    json_object *r = find(records, "record.body.stringValue", "order rejected"), *l;

    assert_non_null(r);
    expect_resource(r);
    assert_string_equal(jstr(r, "scope.name"), "trading.risk");
    l = jpath(r, "record");
    assert_string_equal(jstr(l, "timeUnixNano"), "11");
    assert_string_equal(jstr(l, "observedTimeUnixNano"), "12");
    assert_int_equal(jint(l, "severityNumber"), OTELC_SEV_WARN);
    assert_string_equal(jstr(l, "severityText"), "WARN");
    assert_string_equal(jstr(l, "eventName"), "order.rejected");
    expect_every_type(jpath(l, "attributes"), N_EVERY);
    assert_int_equal(jint(l, "droppedAttributesCount"), 2);
    assert_int_equal(jint(l, "flags"), 0x01);
    assert_string_equal(jstr(l, "traceId"), hex(f->logs[0].ctx.trace_id, 16, h));
    assert_string_equal(jstr(l, "spanId"), hex(f->logs[0].ctx.span_id, 8, h));

    r = find(records, "record.body.stringValue", "no trace");
    assert_non_null(r);
    assert_string_equal(jstr(r, "scope.name"), "trading.engine");
    l = jpath(r, "record");
    assert_int_equal(jint(l, "severityNumber"), OTELC_SEV_INFO);
    assert_true(jstr(l, "traceId") == NULL || jstr(l, "traceId")[0] == '\0');
}

/* ---- exporters made here ------------------------------------------------- */

typedef struct config {
    int protocol;
    bool gzip;
    const char *headers;
    uint32_t timeout_ms;
    bool spool;
    const char *endpoint; /* NULL: the receiver's */
} config_t;

static otelc_exporter_t *make(otelc_signal_t signal, const config_t *c)
{
    otelc_otlp_options_t o;
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    const otelc_component_t *comp = otelc_component_find("otlp");
    char url[128];

    assert_non_null(comp);
    memset(&o, 0, sizeof(o));
    assert_int_equal(otelc_component_defaults("otlp", &o, sizeof(o)), OTELC_OK);
    if (c->protocol == OTELC_OTLP_GRPC)
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", rx.grpc_port);
    else
        snprintf(url, sizeof(url), "http://127.0.0.1:%d", rx.http_port);
    o.all.endpoint = c->endpoint != NULL ? c->endpoint : url;
    o.all.protocol = c->protocol;
    o.all.compression = c->gzip ? OTELC_OTLP_YES : OTELC_OTLP_NO;
    o.all.headers = c->headers;
    if (c->timeout_ms != 0)
        o.all.timeout_ms = c->timeout_ms;
    o.retry_initial_ms = 100;
    o.retry_max_ms = 400;
    o.spool_dir = c->spool ? spool_dir : NULL;
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = signal;
    args.settings = &o;
    args.resource = &resource;
    assert_int_equal(comp->create(&args, &x), OTELC_OK);
    assert_non_null(x);
    return x;
}

static void destroy(otelc_exporter_t *x)
{
    if (x->ops->shutdown != NULL)
        x->ops->shutdown(x, 5000);
    x->ops->destroy(x);
}

static otelc_status_t export(otelc_exporter_t *x, const otelc_batch_t *b, uint32_t timeout_ms,
                             otelc_export_result_t *r)
{
    *r = (otelc_export_result_t)OTELC_EXPORT_RESULT_INIT;
    return x->ops->export_batch(x, b, timeout_ms, r);
}

/* ---- fixtures ------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rx_start(&rx, NULL) != 0)
        rx.pid = -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    rx_stop(&rx);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    if (rx.pid > 0) {
        rx_mode(&rx, "{\"mode\":\"ok\"}");
        rx_reset(&rx);
    }
    snprintf(spool_dir, sizeof(spool_dir), "/tmp/otelc_spool_XXXXXX");
    assert_non_null(mkdtemp(spool_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_dir(spool_dir);
    return 0;
}


/* ---- every field, each protocol ------------------------------------------ */

static void every_field(int protocol, bool gzip)
{
    config_t c = { .protocol = protocol,
                   .gzip = gzip,
                   .headers = "x-api-key=s3cr3t%20value, x-tenant = desk-7" };
    otelc_exporter_t *tx, *lx;
    otelc_export_result_t r;
    spans_fixture_t sf;
    logs_fixture_t lf;
    json_object *holder, *records, *req;
    const char *transport = protocol == OTELC_OTLP_GRPC        ? "grpc"
                            : protocol == OTELC_OTLP_HTTP_JSON ? "http/json"
                                                               : "http/protobuf";

    NEED_RECEIVER();
    if (protocol == OTELC_OTLP_GRPC && otelc__otlp_transport_find("grpc") == NULL) {
        printf("grpc transport not linked\n");
        skip();
    }
    make_spans(&sf, 10);
    make_logs(&lf, 40);
    tx = make(OTELC_SIGNAL_TRACES, &c);
    lx = make(OTELC_SIGNAL_LOGS, &c);
    assert_int_equal(export(tx, &sf.batch, 10000, &r), OTELC_OK);
    assert_int_equal(r.accepted == OTELC_EXPORT_UNSET ? 2 : r.accepted, 2);
    assert_int_equal(export(lx, &lf.batch, 10000, &r), OTELC_OK);
    assert_int_equal(r.accepted == OTELC_EXPORT_UNSET ? 2 : r.accepted, 2);
    destroy(tx);
    destroy(lx);

    assert_true(rx_wait(&rx, "traces", 2, 5000));
    assert_true(rx_wait(&rx, "logs", 2, 5000));
    records = rx_records(&rx, "traces", &holder);
    assert_int_equal(json_object_array_length(records), 2);
    expect_spans(records, &sf);
    req = json_object_array_get_idx(records, 0);
    assert_string_equal(jstr(req, "transport"), transport);
    assert_int_equal(json_object_get_boolean(jpath(req, "gzip")), gzip);
    assert_string_equal(jstr(req, "headers.x-api-key"), "s3cr3t value");
    assert_string_equal(jstr(req, "headers.x-tenant"), "desk-7");
    if (protocol != OTELC_OTLP_GRPC) {
        assert_string_equal(jstr(req, "path"), "/v1/traces");
        assert_string_equal(jstr(req, "headers.content-type"), protocol == OTELC_OTLP_HTTP_JSON
                                                                   ? "application/json"
                                                                   : "application/x-protobuf");
    }
    json_object_put(holder);
    records = rx_records(&rx, "logs", &holder);
    assert_int_equal(json_object_array_length(records), 2);
    expect_logs(records, &lf);
    if (protocol != OTELC_OTLP_GRPC)
        assert_string_equal(jstr(json_object_array_get_idx(records, 0), "path"), "/v1/logs");
    json_object_put(holder);
}

static void test_http_protobuf(void **state)
{
    (void)state;
    every_field(OTELC_OTLP_HTTP_PROTOBUF, false);
}

static void test_http_protobuf_gzip(void **state)
{
    (void)state;
    every_field(OTELC_OTLP_HTTP_PROTOBUF, true);
}

static void test_http_json(void **state)
{
    (void)state;
    every_field(OTELC_OTLP_HTTP_JSON, false);
}

static void test_http_json_gzip(void **state)
{
    (void)state;
    every_field(OTELC_OTLP_HTTP_JSON, true);
}

static void test_grpc(void **state)
{
    (void)state;
    every_field(OTELC_OTLP_GRPC, false);
}

static void test_grpc_gzip(void **state)
{
    (void)state;
    every_field(OTELC_OTLP_GRPC, true);
}

/* A per-signal endpoint is used verbatim (logs to Loki's /otlp/v1/logs). */
static void test_per_signal_endpoint_verbatim(void **state)
{
    otelc_otlp_options_t o;
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    otelc_export_result_t r;
    logs_fixture_t lf;
    char url[128];
    json_object *holder, *records;

    (void)state;
    NEED_RECEIVER();
    memset(&o, 0, sizeof(o));
    assert_int_equal(otelc_component_defaults("otlp", &o, sizeof(o)), OTELC_OK);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/otlp/v1/logs", rx.http_port);
    o.all.endpoint = "http://127.0.0.1:9/never";
    o.logs.endpoint = url;
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_LOGS;
    args.settings = &o;
    assert_int_equal(otelc_component_find("otlp")->create(&args, &x), OTELC_OK);
    make_logs(&lf, 3);
    assert_int_equal(export(x, &lf.batch, 5000, &r), OTELC_OK);
    destroy(x);
    assert_true(rx_wait(&rx, "logs", 2, 5000));
    records = rx_records(&rx, "logs", &holder);
    assert_string_equal(jstr(json_object_array_get_idx(records, 0), "path"), "/otlp/v1/logs");
    json_object_put(holder);
}

/* ---- faults -------------------------------------------------------------- */

/* 503 with Retry-After: 1: sent again after a second, not before, and
 * delivered once. */
static void test_retry_after_honoured(void **state)
{
    config_t c = { .protocol = OTELC_OTLP_HTTP_PROTOBUF };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    uint64_t t0, took;

    (void)state;
    NEED_RECEIVER();
    rx_mode(&rx, "{\"mode\":\"unavailable\",\"retry_after_s\":1,\"count\":1}");
    make_spans(&sf, 50);
    x = make(OTELC_SIGNAL_TRACES, &c);
    t0 = now_ms();
    assert_int_equal(export(x, &sf.batch, 10000, &r), OTELC_OK);
    took = now_ms() - t0;
    destroy(x);
    printf("delivered after %llu ms\n", (unsigned long long)took);
    assert_true(took >= 950); /* the backoff alone would be 50-100 ms */
    assert_true(took < 5000);
    assert_int_equal(rx_count(&rx, "traces", "records"), 2);
    assert_int_equal(rx_count(&rx, "traces", "requests"), 1);
    assert_int_equal(rx_count(&rx, "traces", "failed"), 1);
}

/* 400: refused as it is, never retried: one request, all rejected. */
static void test_bad_request_not_retried(void **state)
{
    config_t c = { .protocol = OTELC_OTLP_HTTP_PROTOBUF };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    logs_fixture_t lf;

    (void)state;
    NEED_RECEIVER();
    rx_mode(&rx, "{\"mode\":\"bad\"}");
    make_logs(&lf, 60);
    x = make(OTELC_SIGNAL_LOGS, &c);
    assert_int_not_equal(export(x, &lf.batch, 10000, &r), OTELC_OK);
    assert_int_equal(r.accepted, 0);
    assert_int_equal(r.rejected, 2);
    assert_false(r.retryable);
    assert_non_null(r.message);
    assert_non_null(strstr(r.message, "400"));
    destroy(x);
    assert_int_equal(rx_count(&rx, "logs", "failed"), 1);
    assert_int_equal(rx_count(&rx, "logs", "records"), 0);
}

/* Partial success: the accepted ones exported, the rest rejected. */
static void test_partial_success(void **state)
{
    static const int protocols[] = { OTELC_OTLP_HTTP_PROTOBUF, OTELC_OTLP_HTTP_JSON,
                                     OTELC_OTLP_GRPC };

    (void)state;
    NEED_RECEIVER();
    for (size_t i = 0; i < 3; i++) {
        config_t c = { .protocol = protocols[i] };
        otelc_exporter_t *x;
        otelc_export_result_t r;
        spans_fixture_t sf;

        if (protocols[i] == OTELC_OTLP_GRPC && otelc__otlp_transport_find("grpc") == NULL)
            continue;
        rx_reset(&rx);
        rx_mode(&rx, "{\"mode\":\"partial\",\"reject\":1,\"message\":\"span name too long\"}");
        make_spans(&sf, 70);
        x = make(OTELC_SIGNAL_TRACES, &c);
        assert_int_equal(export(x, &sf.batch, 10000, &r), OTELC_OK);
        assert_int_equal(r.accepted, 1);
        assert_int_equal(r.rejected, 1);
        destroy(x);
        assert_int_equal(rx_count(&rx, "traces", "records"), 1);
        assert_int_equal(rx_count(&rx, "traces", "rejected"), 1);
    }
}

/* A hanging backend: the export returns within its timeout, retryable,
 * nothing counted delivered. */
static void test_hang_cut_at_timeout(void **state)
{
    config_t c = { .protocol = OTELC_OTLP_HTTP_PROTOBUF, .timeout_ms = 300 };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    uint64_t t0, took;

    (void)state;
    NEED_RECEIVER();
    rx_mode(&rx, "{\"mode\":\"hang\"}");
    make_spans(&sf, 80);
    x = make(OTELC_SIGNAL_TRACES, &c);
    t0 = now_ms();
    assert_int_not_equal(export(x, &sf.batch, 1000, &r), OTELC_OK);
    took = now_ms() - t0;
    printf("gave up after %llu ms (export timeout 1000 ms)\n", (unsigned long long)took);
    assert_int_equal(r.accepted, 0);
    assert_true(r.retryable);
    assert_true(took < 2000);
    rx_mode(&rx, "{\"mode\":\"ok\"}");
    destroy(x);
}

/* The backend down: every batch goes to the spool at once (the export
 * does not wait), counted exported; back up, the spool is sent, oldest
 * first, each record once. */
static void test_down_then_spool_sent_once(void **state)
{
    config_t c = { .protocol = OTELC_OTLP_HTTP_PROTOBUF, .spool = true, .timeout_ms = 2000 };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    otelc_otlp_stats_t before, after;
    uint64_t t0;

    (void)state;
    NEED_RECEIVER();
    otelc_otlp_stats(&before);
    rx_mode(&rx, "{\"mode\":\"down\"}");
    x = make(OTELC_SIGNAL_TRACES, &c);
    for (int i = 0; i < 5; i++) {
        make_spans(&sf, (uint8_t)(100 + 2 * i));
        t0 = now_ms();
        assert_int_equal(export(x, &sf.batch, 10000, &r), OTELC_OK);
        assert_int_equal(r.accepted, 2);
        assert_true(now_ms() - t0 < 2500);
    }
    assert_int_equal(files_in(spool_dir, ".traces.otlp"), 5);
    rx_mode(&rx, "{\"mode\":\"up\"}");
    assert_true(rx_wait(&rx, "traces", 10, 20000));
    assert_int_equal(x->ops->force_flush(x, 10000), OTELC_OK);
    destroy(x);
    assert_int_equal(rx_count(&rx, "traces", "records"), 10);
    assert_int_equal(files_in(spool_dir, ".traces.otlp"), 0);
    otelc_otlp_stats(&after);
    assert_int_equal(after.spooled - before.spooled, 10);
    assert_int_equal(after.unspooled - before.unspooled, 10);
    assert_int_equal(after.spool_dropped - before.spool_dropped, 0);
}

/* Awaits `n` requests of `signal` held by the receiver's hang mode. */
static bool await_held(const rx_t *r, const char *signal, int n, int timeout_ms)
{
    char path[128];
    long code;

    snprintf(path, sizeof(path), "/wait?signal=%s&held=%d&timeout_ms=%d", signal, n, timeout_ms);
    json_object_put(rx_call(r, "GET", path, NULL, &code));
    return code == 200;
}

/* Shutdown keeps its deadline when the spool's sender waits on a hung
 * backend with a request timeout far longer: the request is interrupted,
 * its file stays in the spool, and the next exporter sends it. */
static void shutdown_deadline_case(int protocol)
{
    config_t c = { .protocol = protocol, .spool = true, .timeout_ms = 20000 };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    uint64_t t0, took;
    long code;

    rx_reset(&rx);
    rx_mode(&rx, "{\"mode\":\"down\"}");
    x = make(OTELC_SIGNAL_TRACES, &c);
    make_spans(&sf, 140);
    assert_int_equal(export(x, &sf.batch, 5000, &r), OTELC_OK);
    assert_int_equal(files_in(spool_dir, ".traces.otlp"), 1);
    /* Up but never answering: the sender's next attempt hangs (20 s). */
    rx_mode(&rx, "{\"mode\":\"hang\"}");
    rx_mode(&rx, "{\"mode\":\"up\"}");
    assert_true(await_held(&rx, "traces", 1, 10000));
    t0 = now_ms();
    x->ops->shutdown(x, 500);
    took = now_ms() - t0;
    printf("shutdown(500 ms) with a request in flight (timeout 20 s): %llu ms\n",
           (unsigned long long)took);
    assert_true(took >= 400 && took < 1500);
    x->ops->destroy(x);
    /* The receiver saw the client give up, and kept nothing of it. */
    json_object_put(rx_call(&rx, "GET", "/wait?signal=traces&failed=1&timeout_ms=10000", NULL,
                            &code));
    assert_int_equal(code, 200);
    assert_int_equal(rx_count(&rx, "traces", "records"), 0);
    assert_int_equal(files_in(spool_dir, ".traces.otlp"), 1);
    /* The next exporter sends what this one left. */
    rx_mode(&rx, "{\"mode\":\"ok\"}");
    c.timeout_ms = 5000;
    x = make(OTELC_SIGNAL_TRACES, &c);
    assert_true(rx_wait(&rx, "traces", 2, 20000));
    assert_int_equal(x->ops->force_flush(x, 10000), OTELC_OK);
    destroy(x);
    assert_int_equal(rx_count(&rx, "traces", "records"), 2);
    assert_int_equal(files_in(spool_dir, ".traces.otlp"), 0);
}

static void test_shutdown_deadline_http(void **state)
{
    (void)state;
    NEED_RECEIVER();
    shutdown_deadline_case(OTELC_OTLP_HTTP_PROTOBUF);
}

static void test_shutdown_deadline_grpc(void **state)
{
    (void)state;
    NEED_RECEIVER();
    shutdown_deadline_case(OTELC_OTLP_GRPC);
}

/* A previous process left requests in the spool: the next one sends them;
 * a file it wrote in part is skipped, never sent. */
static void test_spool_of_previous_process(void **state)
{
    config_t c = { .protocol = OTELC_OTLP_HTTP_PROTOBUF, .spool = true, .timeout_ms = 500 };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    logs_fixture_t lf;
    otelc_otlp_stats_t before, after;
    DIR *d;
    struct dirent *de;
    char victim[512] = "";

    (void)state;
    NEED_RECEIVER();
    rx_mode(&rx, "{\"mode\":\"down\"}");
    x = make(OTELC_SIGNAL_LOGS, &c);
    for (int i = 0; i < 3; i++) {
        make_logs(&lf, (uint8_t)(150 + i));
        assert_int_equal(export(x, &lf.batch, 10000, &r), OTELC_OK);
    }
    destroy(x); /* the process ends with the backend down */
    assert_int_equal(files_in(spool_dir, ".logs.otlp"), 3);
    /* Cut the newest file short, as a kill -9 in the middle of a write
     * would if the write were not renamed into place. */
    d = opendir(spool_dir);
    while ((de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".logs.otlp") != NULL &&
            (victim[0] == '\0' || strcmp(de->d_name, strrchr(victim, '/') + 1) > 0))
            snprintf(victim, sizeof(victim), "%s/%s", spool_dir, de->d_name);
    closedir(d);
    assert_int_equal(truncate(victim, 40), 0);

    otelc_otlp_stats(&before);
    rx_mode(&rx, "{\"mode\":\"up\"}");
    x = make(OTELC_SIGNAL_LOGS, &c); /* the next process */
    assert_true(rx_wait(&rx, "logs", 4, 20000));
    assert_int_equal(x->ops->force_flush(x, 10000), OTELC_OK);
    destroy(x);
    otelc_otlp_stats(&after);
    assert_int_equal(rx_count(&rx, "logs", "records"), 4);
    assert_int_equal(files_in(spool_dir, ".logs.otlp"), 0);
    assert_int_equal(after.unspooled - before.unspooled, 4);
    assert_int_equal(after.spool_dropped - before.spool_dropped, 2);
}

/* Without a spool and with the backend down: dropped after the retries,
 * retryable, and the header values never in what is printed. */
static void test_down_without_spool_dropped_and_secret_kept(void **state)
{
    config_t c = { .protocol = OTELC_OTLP_HTTP_PROTOBUF,
                   .headers = "authorization=Bearer%20TOPSECRET",
                   .timeout_ms = 200 };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    char errpath[] = "/tmp/otelc_otlp_err_XXXXXX";
    int fd = mkstemp(errpath), saved;
    char buf[8192];
    ssize_t n;

    (void)state;
    NEED_RECEIVER();
    assert_true(fd >= 0);
    rx_mode(&rx, "{\"mode\":\"down\"}");
    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    x = make(OTELC_SIGNAL_TRACES, &c);
    make_spans(&sf, 200);
    assert_int_not_equal(export(x, &sf.batch, 700, &r), OTELC_OK);
    rx_mode(&rx, "{\"mode\":\"up\"}");
    rx_mode(&rx, "{\"mode\":\"bad\"}");
    assert_int_not_equal(export(x, &sf.batch, 700, &r), OTELC_OK);
    fprintf(stderr, "result: %s\n", r.message != NULL ? r.message : "");
    destroy(x);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    lseek(fd, 0, SEEK_SET);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    unlink(errpath);
    assert_true(n >= 0);
    buf[n] = '\0';
    printf("%s", buf);
    assert_null(strstr(buf, "TOPSECRET"));
    rx_mode(&rx, "{\"mode\":\"up\"}");
}

/* Through the pipeline: OTEL_TRACES_EXPORTER=otlp / OTEL_LOGS_EXPORTER=otlp,
 * every record produced arrives, and the stats say so. */
static void test_pipeline_end_to_end(void **state)
{
    otelc_options_t o;
    otelc_stats_t s;
    char url[128];
    otelc_logger_t *lg;
    enum { N = 500 };

    (void)state;
    NEED_RECEIVER();
    otelc_options_init(&o);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", rx.http_port);
    o.traces_exporter = "otlp";
    o.logs_exporter = "otlp";
    assert_int_equal(otelc_options_set(&o, "OTEL_EXPORTER_OTLP_ENDPOINT", url), OTELC_OK);
    assert_int_equal(otelc_options_set(&o, "OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"), OTELC_OK);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    lg = otelc_logger("trading.orders");
    for (int i = 0; i < N; i++) {
        otelc_span_t sp = otelc_span_start("order", NULL, 0);

        otelc_log(lg, OTELC_SEV_INFO, NULL, "placed", OTELC_NUL_TERMINATED, NULL, 0);
        otelc_span_end(&sp);
    }
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats(&s);
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    assert_true(rx_wait(&rx, "traces", N, 10000));
    assert_true(rx_wait(&rx, "logs", N, 10000));
    assert_int_equal(s.spans.produced, N);
    assert_int_equal(s.spans.exported, N);
    assert_int_equal(s.logs.exported, N);
    assert_int_equal(rx_count(&rx, "traces", "records"), N);
    assert_int_equal(rx_count(&rx, "logs", "records"), N);
}

/* The config file's otlp_http blocks: traces as protobuf with gzip and a
 * header from the list form, logs as JSON to a path of their own (the
 * schema's endpoint is the signal's URL, used verbatim). */
static void test_config_file_blocks(void **state)
{
    char path[] = "/tmp/otelc_otlp_cfg_XXXXXX", yaml[2048];
    otelc_options_t o;
    int fd = mkstemp(path), n;
    json_object *holder, *records, *r;

    (void)state;
    NEED_RECEIVER();
    assert_true(fd >= 0);
    n = snprintf(yaml, sizeof(yaml),
                 "file_format: \"1.0\"\n"
                 "tracer_provider:\n"
                 "  processors:\n"
                 "    - batch:\n"
                 "        schedule_delay: 50\n"
                 "        exporter:\n"
                 "          otlp_http:\n"
                 "            endpoint: http://127.0.0.1:%d/v1/traces\n"
                 "            compression: gzip\n"
                 "            timeout: 5000\n"
                 "            headers:\n"
                 "              - name: x-api-key\n"
                 "                value: key with, comma\n"
                 "logger_provider:\n"
                 "  processors:\n"
                 "    - batch:\n"
                 "        schedule_delay: 50\n"
                 "        exporter:\n"
                 "          otlp_http:\n"
                 "            endpoint: http://127.0.0.1:%d/otlp/v1/logs\n"
                 "            encoding: json\n",
                 rx.http_port, rx.http_port);
    assert_true(n > 0 && (size_t)n < sizeof(yaml));
    assert_int_equal(write(fd, yaml, (size_t)n), n);
    close(fd);
    setenv("OTEL_CONFIG_FILE", path, 1);
    assert_int_equal(otelc_options_init(&o), OTELC_OK);
    unsetenv("OTEL_CONFIG_FILE");
    assert_string_equal(o.traces_exporter, "otlp");
    assert_string_equal(o.logs_exporter, "otlp");
    assert_int_equal(otelc_init(&o), OTELC_OK);
    {
        otelc_span_t sp = otelc_span_start("from_config", NULL, 0);

        otelc_log(otelc_logger("cfg"), OTELC_SEV_WARN, NULL, "configured", OTELC_NUL_TERMINATED,
                  NULL, 0);
        otelc_span_end(&sp);
    }
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    unlink(path);
    assert_true(rx_wait(&rx, "traces", 1, 5000));
    assert_true(rx_wait(&rx, "logs", 1, 5000));
    records = rx_records(&rx, "traces", &holder);
    r = json_object_array_get_idx(records, 0);
    assert_string_equal(jstr(r, "record.name"), "from_config");
    assert_string_equal(jstr(r, "transport"), "http/protobuf");
    assert_true(json_object_get_boolean(jpath(r, "gzip")));
    assert_string_equal(jstr(r, "headers.x-api-key"), "key with, comma");
    json_object_put(holder);
    records = rx_records(&rx, "logs", &holder);
    r = json_object_array_get_idx(records, 0);
    assert_string_equal(jstr(r, "record.body.stringValue"), "configured");
    assert_string_equal(jstr(r, "transport"), "http/json");
    assert_string_equal(jstr(r, "path"), "/otlp/v1/logs");
    json_object_put(holder);
}

/* otelc replay: spool files written while the backend was down, sent
 * afterwards in the other encoding (protobuf spool over http/json, OTLP/JSON
 * spool over grpc or http/protobuf), every field arriving as sent. */
static void replay_case(int spool_protocol, const char *replay_protocol, int port)
{
    config_t c = { .protocol = spool_protocol, .spool = true, .timeout_ms = 500 };
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    logs_fixture_t lf;
    char cmd[1024], out[512];
    json_object *holder, *records;
    FILE *p;
    int status;

    rx_reset(&rx);
    rx_mode(&rx, "{\"mode\":\"down\"}");
    make_spans(&sf, 60);
    make_logs(&lf, 61);
    x = make(OTELC_SIGNAL_TRACES, &c);
    assert_int_equal(export(x, &sf.batch, 5000, &r), OTELC_OK);
    destroy(x);
    x = make(OTELC_SIGNAL_LOGS, &c);
    assert_int_equal(export(x, &lf.batch, 5000, &r), OTELC_OK);
    destroy(x);
    rx_mode(&rx, "{\"mode\":\"up\"}");
    snprintf(cmd, sizeof(cmd),
             "%s --endpoint http://127.0.0.1:%d --protocol %s %s/*.otlp 2>&1 </dev/null",
             OTELC_REPLAY, port, replay_protocol, spool_dir);
    p = popen(cmd, "r");
    assert_non_null(p);
    out[0] = '\0';
    while (fgets(out, sizeof(out), p) != NULL)
        printf("%s", out);
    status = pclose(p);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_non_null(strstr(out, "2 requests, 4 records: 4 accepted, 0 rejected, 0 not delivered"));
    assert_true(rx_wait(&rx, "traces", 2, 5000));
    assert_true(rx_wait(&rx, "logs", 2, 5000));
    records = rx_records(&rx, "traces", &holder);
    assert_int_equal(json_object_array_length(records), 2);
    expect_spans(records, &sf);
    json_object_put(holder);
    records = rx_records(&rx, "logs", &holder);
    assert_int_equal(json_object_array_length(records), 2);
    expect_logs(records, &lf);
    json_object_put(holder);
}

static void test_replay_protobuf_spool_as_json(void **state)
{
    (void)state;
    NEED_RECEIVER();
    replay_case(OTELC_OTLP_HTTP_PROTOBUF, "http/json", rx.http_port);
}

static void test_replay_json_spool_as_grpc(void **state)
{
    (void)state;
    NEED_RECEIVER();
    if (otelc__otlp_transport_find("grpc") == NULL)
        skip();
    replay_case(OTELC_OTLP_HTTP_JSON, "grpc", rx.grpc_port);
}

/* ---- TLS and mTLS -------------------------------------------------------- */

/* A CA, a server certificate for 127.0.0.1 and a client certificate, made
 * with openssl in `dir`. */
static void make_certs(const char *dir)
{
    char cmd[4096];

    snprintf(cmd, sizeof(cmd),
             "cd %s && "
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 "
             "-subj /CN=otelc-test-ca 2>/dev/null && "
             "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
             "-subj /CN=127.0.0.1 2>/dev/null && "
             "printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
             "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out server.crt -days 2 -extfile san.ext 2>/dev/null && "
             "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr "
             "-subj /CN=otelc-client 2>/dev/null && "
             "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial "
             "-out client.crt -days 2 2>/dev/null && "
             "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt "
             "-days 2 -subj /CN=someone-else 2>/dev/null",
             dir);
    assert_int_equal(system(cmd), 0);
}

static otelc_exporter_t *make_tls(rx_t *r, int protocol, const char *dir, const char *ca,
                                  bool client)
{
    otelc_otlp_options_t o;
    otelc_exporter_args_t args;
    otelc_exporter_t *x = NULL;
    static char url[128], ca_path[512], cert[512], key[512];

    memset(&o, 0, sizeof(o));
    assert_int_equal(otelc_component_defaults("otlp", &o, sizeof(o)), OTELC_OK);
    snprintf(url, sizeof(url), "https://127.0.0.1:%d",
             protocol == OTELC_OTLP_GRPC ? r->grpc_port : r->http_port);
    snprintf(ca_path, sizeof(ca_path), "%s/%s", dir, ca);
    snprintf(cert, sizeof(cert), "%s/client.crt", dir);
    snprintf(key, sizeof(key), "%s/client.key", dir);
    o.all.endpoint = url;
    o.all.protocol = protocol;
    o.all.timeout_ms = 3000;
    o.all.certificate = ca_path;
    if (client) {
        o.all.client_certificate = cert;
        o.all.client_key = key;
    }
    o.retry_initial_ms = 100;
    o.retry_max_ms = 200;
    memset(&args, 0, sizeof(args));
    args.struct_size = sizeof(args);
    args.signal = OTELC_SIGNAL_TRACES;
    args.settings = &o;
    args.resource = &resource;
    assert_int_equal(otelc_component_find("otlp")->create(&args, &x), OTELC_OK);
    return x;
}

static void tls_case(int protocol)
{
    char dir[] = "/tmp/otelc_tls_XXXXXX", cert[512], key[512], ca[512];
    const char *args[8];
    rx_t t;
    otelc_exporter_t *x;
    otelc_export_result_t r;
    spans_fixture_t sf;
    char cmd[600];

    NEED_RECEIVER();
    if (protocol == OTELC_OTLP_GRPC && otelc__otlp_transport_find("grpc") == NULL)
        skip();
    assert_non_null(mkdtemp(dir));
    make_certs(dir);
    snprintf(cert, sizeof(cert), "%s/server.crt", dir);
    snprintf(key, sizeof(key), "%s/server.key", dir);
    snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
    args[0] = "--tls-cert";
    args[1] = cert;
    args[2] = "--tls-key";
    args[3] = key;
    args[4] = "--tls-ca";
    args[5] = ca;
    args[6] = NULL;
    assert_int_equal(rx_start(&t, args), 0);
    make_spans(&sf, 120);

    /* mTLS: the CA trusted, the client's certificate shown: delivered. */
    x = make_tls(&t, protocol, dir, "ca.crt", true);
    assert_int_equal(export(x, &sf.batch, 5000, &r), OTELC_OK);
    destroy(x);
    assert_int_equal(rx_count(&t, "traces", "records"), 2);

    /* No client certificate: the server refuses the handshake. */
    x = make_tls(&t, protocol, dir, "ca.crt", false);
    assert_int_not_equal(export(x, &sf.batch, 1500, &r), OTELC_OK);
    printf("without a client certificate: %s\n", r.message != NULL ? r.message : "");
    destroy(x);

    /* A CA that did not sign the server's certificate: not sent. */
    x = make_tls(&t, protocol, dir, "other.crt", true);
    assert_int_not_equal(export(x, &sf.batch, 1500, &r), OTELC_OK);
    printf("with the wrong CA: %s\n", r.message != NULL ? r.message : "");
    destroy(x);
    assert_int_equal(rx_count(&t, "traces", "records"), 2);
    rx_stop(&t);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_http_tls_and_mtls(void **state)
{
    (void)state;
    tls_case(OTELC_OTLP_HTTP_PROTOBUF);
}

static void test_grpc_tls_and_mtls(void **state)
{
    (void)state;
    tls_case(OTELC_OTLP_GRPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_protobuf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_protobuf_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_json_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grpc_gzip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_signal_endpoint_verbatim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_after_honoured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_request_not_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_success, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hang_cut_at_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_then_spool_sent_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_of_previous_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_deadline_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_deadline_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_down_without_spool_dropped_and_secret_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pipeline_end_to_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_protobuf_spool_as_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_json_spool_as_grpc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_tls_and_mtls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grpc_tls_and_mtls, setup, teardown),
    };

    /* OTLP_TEST=name runs one test (a pattern, as cmocka takes it). */
    if (getenv("OTLP_TEST") != NULL)
        cmocka_set_test_filter(getenv("OTLP_TEST"));
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
