/*
 * test_http.c: HTTP client and server spans (otelc/http.h): the semantic
 * convention attributes and status, url.full redaction, and the server
 * side's extraction: remote parent, tracestate, baggage and correlation id
 * taken from the request's headers.
 */
#include <otelc/http.h>
#include <otelc/otelc.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "capture_session.h"

static const cap_record_t *span_named(const char *name)
{
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_TRACES, name);
    assert_non_null(r);
    return r;
}

static void assert_attr(const cap_record_t *r, const char *key, const char *want)
{
    const char *v = cap_attr(r, key);
    if (want == NULL) {
        assert_null(v);
        return;
    }
    assert_non_null(v);
    assert_string_equal(v, want);
}

static void redact(const char *url, const char *want)
{
    char out[512];
    size_t n = otelc_http_url_redact(url, out, sizeof(out));
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void url_redaction(void **state)
{
    (void)state;
    redact("http://127.0.0.1:8080/a?b=1", "http://127.0.0.1:8080/a?b=1");
    redact("https://user:pa@ss@example.com/x?q=1#frag",
           "https://REDACTED:REDACTED@example.com/x?q=1#frag");
    redact("https://token@example.com/", "https://REDACTED@example.com/");
    redact("https://s3.example.com/o?AWSAccessKeyId=AKIA&Expires=1&Signature=abc&sig=z&color=blue",
           "https://s3.example.com/o?AWSAccessKeyId=REDACTED&Expires=1&Signature=REDACTED"
           "&sig=REDACTED&color=blue");
    redact("https://g.example.com/o?X-Goog-Signature=f00&signature=kept",
           "https://g.example.com/o?X-Goog-Signature=REDACTED&signature=kept");
    redact("http://[::1]:9/p?", "http://[::1]:9/p?");
    redact("not a url", "not a url");
    /* Cut to the buffer, the full length returned. */
    char small[8];
    assert_int_equal(otelc_http_url_redact("http://a:b@h/", small, sizeof(small)),
                     strlen("http://REDACTED:REDACTED@h/"));
    assert_string_equal(small, "http://");
    assert_string_equal(otelc_http_method_known("GET"), "GET");
    assert_string_equal(otelc_http_method_known("get"), "_OTHER");
    assert_string_equal(otelc_http_method_known("PATCH"), "PATCH");
    assert_string_equal(otelc_http_method_known(NULL), "_OTHER");
}

/* A carrier for otelc_inject(): the headers written, "name: value". */
typedef struct headers_out {
    char lines[4][1024];
    int n;
} headers_out_t;

static void set_header(void *carrier, const char *key, const char *value)
{
    headers_out_t *h = carrier;
    if (h->n < 4)
        snprintf(h->lines[h->n++], sizeof(h->lines[0]), "%s: %s", key, value);
}

static const char *find_line(const headers_out_t *h, const char *name)
{
    size_t len = strlen(name);
    for (int i = 0; i < h->n; i++)
        if (strncasecmp(h->lines[i], name, len) == 0 && h->lines[i][len] == ':')
            return h->lines[i] + len + 2;
    return NULL;
}

static void client_span(void **state)
{
    headers_out_t h;
    otelc_http_span_t s;
    char want[OTELC_TRACEPARENT_LEN + 1];
    (void)state;
    start(NULL);

    OTELC_CORRELATION("ord-1")
    {
        otelc_http_client_options_t o = { .method = "POST",
                                          .url = "http://bob:secret@risk.local/check?id=7" };
        otelc_http_client_begin(&s, &o);
        memset(&h, 0, sizeof(h));
        otelc_inject(set_header, &h);
        otelc_http_client_result_t r = { .status_code = 200,
                                         .protocol_version = "1.1",
                                         .peer_address = "127.0.0.1",
                                         .peer_port = 80 };
        otelc_http_client_end(&s, &r);
        otelc_http_client_end(&s, &r); /* twice: nothing */
    }
    /* The injected parent is the client span, and baggage carries the
     * correlation id. */
    assert_int_equal(otelc_traceparent_format(&s.span.ctx, want, sizeof(want)),
                     OTELC_TRACEPARENT_LEN);
    assert_non_null(find_line(&h, "traceparent"));
    assert_string_equal(find_line(&h, "traceparent"), want);
    assert_non_null(find_line(&h, "baggage"));
    assert_non_null(strstr(find_line(&h, "baggage"), "correlation.id=ord-1"));

    OTELC_CORRELATION("ord-2")
    {
        otelc_http_client_options_t o = { .method = "GET", .url = "https://risk.local/missing" };
        otelc_http_client_begin(&s, &o);
        otelc_http_client_result_t r = { .status_code = 404 };
        otelc_http_client_end(&s, &r);
    }
    OTELC_CORRELATION("ord-3")
    {
        otelc_http_client_options_t o = { .method = "FOO" };
        otelc_http_client_begin(&s, &o);
        otelc_http_client_result_t r = { .error_type = "CURLE_COULDNT_CONNECT",
                                         .error_message = "Couldn't connect to server",
                                         .url = "http://127.0.0.1:1/x" };
        otelc_http_client_end(&s, &r);
    }
    sync_export();

    const cap_record_t *post = span_named("POST");
    assert_int_equal(post->kind, OTELC_SPAN_KIND_CLIENT);
    assert_int_equal(post->status, OTELC_STATUS_UNSET);
    assert_string_equal(post->correlation, "ord-1");
    assert_attr(post, "http.request.method", "POST");
    assert_attr(post, "url.full", "http://REDACTED:REDACTED@risk.local/check?id=7");
    assert_attr(post, "server.address", "risk.local");
    assert_attr(post, "server.port", "80");
    assert_attr(post, "http.response.status_code", "200");
    assert_attr(post, "network.protocol.version", "1.1");
    assert_attr(post, "network.peer.address", "127.0.0.1");
    assert_attr(post, "error.type", NULL);

    const cap_record_t *get = span_named("GET");
    assert_int_equal(get->status, OTELC_STATUS_ERROR);
    assert_string_equal(get->status_message, "");
    assert_attr(get, "error.type", "404");
    assert_attr(get, "server.port", "443");
    assert_attr(get, "http.response.status_code", "404");

    const cap_record_t *other = span_named("HTTP");
    assert_int_equal(other->status, OTELC_STATUS_ERROR);
    assert_string_equal(other->status_message, "Couldn't connect to server");
    assert_attr(other, "http.request.method", "_OTHER");
    assert_attr(other, "http.request.method_original", "FOO");
    assert_attr(other, "error.type", "CURLE_COULDNT_CONNECT");
    assert_attr(other, "url.full", "http://127.0.0.1:1/x");
    assert_attr(other, "server.port", "1");
    assert_attr(other, "http.response.status_code", NULL);
}

static void server_span_from_headers(void **state)
{
    static const char *tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    const otelc_http_header_t hs[] = {
        { "Content-Type", "application/json" },
        { "TraceParent", tp },
        { "tracestate", "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE" },
        { "Baggage", "correlation.id=ord%2042,user=al%C3%A9;prop=1" },
    };
    otelc_http_server_options_t o = { .method = "POST",
                                      .target = "/orders/42?verbose=1",
                                      .route = "/orders/{id}",
                                      .server_address = "127.0.0.1",
                                      .server_port = 8080,
                                      .headers = hs,
                                      .n_headers = 4 };
    otelc_http_span_t s;
    otelc_logger_t *log;
    char user[32];
    (void)state;
    start(NULL);
    log = otelc_logger("risk");

    {
        OTELC_SPAN("unrelated local span");
        otelc_http_server_begin(&s, &o);
        assert_non_null(otelc_current_correlation_id());
        assert_string_equal(otelc_current_correlation_id(), "ord 42");
        assert_int_equal(otelc_baggage_get("user", user, sizeof(user)), 4);
        assert_string_equal(user, "al\xc3\xa9");
        OTELC_INFO(log, "checked");
        otelc_http_server_end(&s, 200);
        otelc_http_server_end(&s, 200); /* twice: nothing */
        /* The remote context is detached again. */
        assert_null(otelc_current_correlation_id());
    }
    sync_export();

    const cap_record_t *r = span_named("POST /orders/{id}");
    assert_int_equal(r->kind, OTELC_SPAN_KIND_SERVER);
    assert_int_equal(r->status, OTELC_STATUS_UNSET);
    char tid[33], pid[17];
    otelc_hex_encode(r->ctx.trace_id, 16, tid);
    otelc_hex_encode(r->parent_span_id, 8, pid);
    assert_string_equal(tid, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(pid, "00f067aa0ba902b7");
    assert_true(r->parent_is_remote);
    assert_string_equal(r->trace_state, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    assert_string_equal(r->correlation, "ord 42");
    assert_attr(r, "http.request.method", "POST");
    assert_attr(r, "url.path", "/orders/42");
    assert_attr(r, "url.query", "verbose=1");
    assert_attr(r, "url.scheme", "http");
    assert_attr(r, "http.route", "/orders/{id}");
    assert_attr(r, "server.address", "127.0.0.1");
    assert_attr(r, "server.port", "8080");
    assert_attr(r, "http.response.status_code", "200");
    assert_attr(r, "error.type", NULL);

    const cap_record_t *l = cap_find(&cap, OTELC_SIGNAL_LOGS, "checked");
    assert_non_null(l);
    assert_string_equal(l->correlation, "ord 42");
    assert_memory_equal(l->ctx.trace_id, r->ctx.trace_id, 16);
    assert_memory_equal(l->ctx.span_id, r->ctx.span_id, 8);
}

/* A getter as a server library offers one: case-insensitive lookup. */
static const char *getter(void *carrier, const char *key)
{
    const otelc_http_header_t *h = carrier;
    for (; h->name != NULL; h++)
        if (strcasecmp(h->name, key) == 0)
            return h->value;
    return NULL;
}

static void server_status_and_root(void **state)
{
    static otelc_http_header_t hs[] = {
        { "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
        { NULL, NULL },
    };
    otelc_http_span_t s;
    (void)state;
    start(NULL);

    otelc_http_server_options_t o5 = {
        .method = "GET", .target = "/five", .get = getter, .carrier = hs
    };
    otelc_http_server_begin(&s, &o5);
    otelc_http_server_end(&s, 503);
    otelc_http_server_options_t o4 = { .method = "DELETE", .target = "/four" };
    otelc_http_server_begin(&s, &o4);
    otelc_http_server_end(&s, 404);
    otelc_http_server_options_t o0 = { .method = "PUT", .target = "http://h:1/zero#f" };
    {
        OTELC_SPAN("local parent");
        otelc_http_server_begin(&s, &o0);
        otelc_http_server_end(&s, 0);
    }
    sync_export();

    const cap_record_t *five = span_named("GET");
    assert_int_equal(five->status, OTELC_STATUS_ERROR);
    assert_attr(five, "error.type", "503");
    assert_attr(five, "http.response.status_code", "503");
    assert_attr(five, "url.query", NULL);
    assert_true(five->parent_is_remote);

    const cap_record_t *four = span_named("DELETE");
    assert_int_equal(four->status, OTELC_STATUS_UNSET);
    assert_attr(four, "error.type", NULL);
    assert_attr(four, "http.response.status_code", "404");

    /* No caller: a root span, not a child of the thread's open span. */
    const cap_record_t *zero = span_named("PUT");
    static const uint8_t none[8];
    assert_memory_equal(zero->parent_span_id, none, 8);
    assert_int_equal(zero->status, OTELC_STATUS_ERROR);
    assert_attr(zero, "error.type", "_OTHER");
    assert_attr(zero, "http.response.status_code", NULL);
    assert_attr(zero, "url.path", "/zero");
}

/* With the SDK off, every call is a no-op, and NULLs are accepted. */
static void off_and_null(void **state)
{
    otelc_http_span_t s;
    (void)state;
    otelc_http_server_begin(&s, NULL);
    otelc_http_server_end(&s, 200);
    otelc_http_client_begin(&s, NULL);
    otelc_http_client_end(&s, NULL);
    otelc_http_server_begin(NULL, NULL);
    otelc_http_server_end(NULL, 200);
    otelc_http_client_begin(NULL, NULL);
    otelc_http_client_end(NULL, NULL);
    assert_false(otelc_span_is_recording(&s.span));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(url_redaction),
        cmocka_unit_test_teardown(client_span, teardown),
        cmocka_unit_test_teardown(server_span_from_headers, teardown),
        cmocka_unit_test_teardown(server_status_and_root, teardown),
        cmocka_unit_test(off_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
