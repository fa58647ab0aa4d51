/*
 * test_curl.c: the libcurl helper (otelc/curl.h) against a real HTTP server
 * on 127.0.0.1, libmicrohttpd in this process, whose handler serves with
 * the server half of otelc/http.h: what the server received (the service's
 * own headers and the trace headers), the client span's attributes and
 * status, and the server span as its child.
 */
#include <otelc/curl.h>
#include <otelc/otelc.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "capture_session.h"

/* What the server saw of the last request. */
static struct seen {
    pthread_mutex_t mu;
    char x_service[128];
    char accept[128];
    char traceparent[128];
    char baggage[512];
    char correlation[160];
    int n_traceparent;
    int requests;
} seen = { .mu = PTHREAD_MUTEX_INITIALIZER };

static struct MHD_Daemon *daemon_;
static int port;

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, size, "%s", v ? v : "");
}

static enum MHD_Result count_traceparent(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    (void)value;
    if (strcasecmp(key, "traceparent") == 0)
        (*(int *)cls)++;
    return MHD_YES;
}

static const char *mhd_get(void *carrier, const char *key)
{
    return MHD_lookup_connection_value(carrier, MHD_HEADER_KIND, key);
}

/* GET /status/<code>: answers <code>, inside a server span. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int first;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    int code = 200, n_tp = 0;
    otelc_http_span_t s;
    const char *cid;
    (void)cls;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) { /* headers only so far */
        *con_cls = &first;
        return MHD_YES;
    }
    if (*upload_size != 0) { /* a body: read, and answered on the last call */
        *upload_size = 0;
        return MHD_YES;
    }
    if (strncmp(url, "/status/", 8) == 0)
        code = atoi(url + 8);
    otelc_http_server_options_t o = { .method = method,
                                      .target = url,
                                      .route = "/status/{code}",
                                      .server_address = "127.0.0.1",
                                      .server_port = port,
                                      .get = mhd_get,
                                      .carrier = c };
    otelc_http_server_begin(&s, &o);
    MHD_get_connection_values(c, MHD_HEADER_KIND, count_traceparent, &n_tp);
    pthread_mutex_lock(&seen.mu);
    copy_header(c, "X-Service", seen.x_service, sizeof(seen.x_service));
    copy_header(c, "Accept", seen.accept, sizeof(seen.accept));
    copy_header(c, "traceparent", seen.traceparent, sizeof(seen.traceparent));
    copy_header(c, "baggage", seen.baggage, sizeof(seen.baggage));
    cid = otelc_current_correlation_id();
    snprintf(seen.correlation, sizeof(seen.correlation), "%s", cid ? cid : "");
    seen.n_traceparent = n_tp;
    seen.requests++;
    pthread_mutex_unlock(&seen.mu);
    resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(c, (unsigned)code, resp);
    MHD_destroy_response(resp);
    otelc_http_server_end(&s, code);
    return ret;
}

static int server_up(void **state)
{
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    (void)state;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                               handle, NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    if (daemon_ == NULL)
        return -1;
    info = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    port = info ? info->port : 0;
    return port > 0 ? 0 : -1;
}

static int server_down(void **state)
{
    (void)state;
    MHD_stop_daemon(daemon_);
    return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static CURL *easy_for(const char *url)
{
    CURL *e = curl_easy_init();
    assert_non_null(e);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    return e;
}

static const cap_record_t *span_of(int kind, const char *name)
{
    for (size_t i = 0; i < cap.n; i++)
        if (cap.recs[i].signal == OTELC_SIGNAL_TRACES && cap.recs[i].kind == kind &&
            strcmp(cap.recs[i].name, name) == 0)
            return &cap.recs[i];
    fail_msg("no span %s of kind %d", name, kind);
    return NULL;
}

static void assert_attr(const cap_record_t *r, const char *key, const char *want)
{
    const char *v = cap_attr(r, key);
    if (want == NULL) {
        if (v != NULL)
            fail_msg("%s: unexpected %s=%s", r->name, key, v);
        return;
    }
    if (v == NULL)
        fail_msg("%s: no %s", r->name, key);
    assert_string_equal(v, want);
}

/* The service's own headers are sent with the trace headers, a stale
 * traceparent of the service's is replaced, and the service's list is
 * neither changed nor left behind: the handle has it back afterwards. */
static void headers_merged_and_propagated(void **state)
{
    char url[128], want_tp[OTELC_TRACEPARENT_LEN + 1], port_s[16];
    struct curl_slist *h = NULL;
    CURL *e;
    otelc_span_context_t client_ctx;
    (void)state;
    start(NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/status/200?q=1", port);
    snprintf(port_s, sizeof(port_s), "%d", port);
    h = curl_slist_append(h, "X-Service: gateway");
    h = curl_slist_append(h, "Accept: application/json");
    h = curl_slist_append(h,
                          "TraceParent: 00-11111111111111111111111111111111-2222222222222222-01");
    e = easy_for(url);

    OTELC_CORRELATION("ord-9")
    {
        otelc_curl_request_t req;
        otelc_curl_begin(&req, e, "GET", url, h);
        client_ctx = req.http.span.ctx;
        otelc_curl_end(&req, curl_easy_perform(e));
        otelc_curl_end(&req, CURLE_OK); /* twice: nothing */
    }
    assert_int_equal(otelc_traceparent_format(&client_ctx, want_tp, sizeof(want_tp)),
                     OTELC_TRACEPARENT_LEN);
    pthread_mutex_lock(&seen.mu);
    assert_string_equal(seen.x_service, "gateway");
    assert_string_equal(seen.accept, "application/json");
    assert_string_equal(seen.traceparent, want_tp);
    assert_int_equal(seen.n_traceparent, 1);
    assert_non_null(strstr(seen.baggage, "correlation.id=ord-9"));
    assert_string_equal(seen.correlation, "ord-9");
    pthread_mutex_unlock(&seen.mu);

    /* The service's list is as it was. */
    assert_string_equal(h->data, "X-Service: gateway");
    assert_string_equal(h->next->data, "Accept: application/json");
    assert_non_null(h->next->next);
    assert_null(h->next->next->next);
    /* The handle sends the service's list again, untraced, without otelc. */
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    pthread_mutex_lock(&seen.mu);
    assert_string_equal(seen.x_service, "gateway");
    assert_string_equal(seen.traceparent,
                        "00-11111111111111111111111111111111-2222222222222222-01");
    pthread_mutex_unlock(&seen.mu);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);

    sync_export();
    const cap_record_t *c = span_of(OTELC_SPAN_KIND_CLIENT, "GET");
    assert_memory_equal(c->ctx.span_id, client_ctx.span_id, 8);
    assert_int_equal(c->status, OTELC_STATUS_UNSET);
    assert_string_equal(c->correlation, "ord-9");
    assert_attr(c, "http.request.method", "GET");
    assert_attr(c, "url.full", url);
    assert_attr(c, "server.address", "127.0.0.1");
    assert_attr(c, "server.port", port_s);
    assert_attr(c, "http.response.status_code", "200");
    assert_attr(c, "network.protocol.version", "1.1");
    assert_attr(c, "network.peer.address", "127.0.0.1");
    assert_attr(c, "network.peer.port", port_s);
    assert_attr(c, "error.type", NULL);

    const cap_record_t *s = span_of(OTELC_SPAN_KIND_SERVER, "GET /status/{code}");
    assert_memory_equal(s->ctx.trace_id, c->ctx.trace_id, 16);
    assert_memory_equal(s->parent_span_id, c->ctx.span_id, 8);
    assert_true(s->parent_is_remote);
    assert_string_equal(s->correlation, "ord-9");
    assert_attr(s, "url.path", "/status/200");
    /* (libmicrohttpd gives the path without the query: no url.query.) */
    assert_attr(s, "http.response.status_code", "200");
}

static void status_codes(void **state)
{
    char url[128], url404[128];
    CURL *e;
    (void)state;
    start(NULL);

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/status/500", port);
    e = easy_for(url);
    assert_int_equal(otelc_curl_perform(e, "GET", url, NULL), CURLE_OK);
    curl_easy_cleanup(e);
    /* The URL is read from the handle when the service gives none. */
    snprintf(url404, sizeof(url404), "http://127.0.0.1:%d/status/404", port);
    e = easy_for(url404);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, "{}");
    assert_int_equal(otelc_curl_perform(e, "POST", NULL, NULL), CURLE_OK);
    curl_easy_cleanup(e);
    /* CURLOPT_FAILONERROR: the status code still names the error. */
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/status/503", port);
    e = easy_for(url);
    curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L);
    assert_int_equal(otelc_curl_perform(e, "PUT", url, NULL), CURLE_HTTP_RETURNED_ERROR);
    curl_easy_cleanup(e);
    sync_export();

    const cap_record_t *c500 = span_of(OTELC_SPAN_KIND_CLIENT, "GET");
    assert_int_equal(c500->status, OTELC_STATUS_ERROR);
    assert_attr(c500, "error.type", "500");
    assert_attr(c500, "http.response.status_code", "500");
    const cap_record_t *s500 = span_of(OTELC_SPAN_KIND_SERVER, "GET /status/{code}");
    assert_int_equal(s500->status, OTELC_STATUS_ERROR);
    assert_attr(s500, "error.type", "500");

    /* 404: an error of the client span, not of the server span. */
    const cap_record_t *c404 = span_of(OTELC_SPAN_KIND_CLIENT, "POST");
    assert_int_equal(c404->status, OTELC_STATUS_ERROR);
    assert_attr(c404, "error.type", "404");
    assert_attr(c404, "url.full", url404);
    const cap_record_t *s404 = span_of(OTELC_SPAN_KIND_SERVER, "POST /status/{code}");
    assert_int_equal(s404->status, OTELC_STATUS_UNSET);
    assert_attr(s404, "error.type", NULL);
    assert_attr(s404, "http.response.status_code", "404");

    const cap_record_t *c503 = span_of(OTELC_SPAN_KIND_CLIENT, "PUT");
    assert_int_equal(c503->status, OTELC_STATUS_ERROR);
    assert_attr(c503, "error.type", "503");
}

/* A port nobody listens on: bound, then closed. */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), p;
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    p = ntohs(a.sin_port);
    close(fd);
    return p;
}

/* A refused connection: error.type is the CURLcode's name, status ERROR
 * with curl's description, no status code; credentials redacted. */
static void refused(void **state)
{
    char url[128], want[128];
    CURL *e;
    int p = closed_port();
    (void)state;
    start(NULL);
    snprintf(url, sizeof(url), "http://alice:s3cret@127.0.0.1:%d/x?sig=abc&id=1", p);
    snprintf(want, sizeof(want), "http://REDACTED:REDACTED@127.0.0.1:%d/x?sig=REDACTED&id=1", p);
    e = easy_for(url);
    assert_int_equal(otelc_curl_perform(e, "DELETE", url, NULL), CURLE_COULDNT_CONNECT);
    curl_easy_cleanup(e);
    sync_export();

    const cap_record_t *c = span_of(OTELC_SPAN_KIND_CLIENT, "DELETE");
    assert_int_equal(c->status, OTELC_STATUS_ERROR);
    assert_string_equal(c->status_message, curl_easy_strerror(CURLE_COULDNT_CONNECT));
    assert_attr(c, "error.type", "CURLE_COULDNT_CONNECT");
    assert_attr(c, "http.response.status_code", NULL);
    assert_attr(c, "url.full", want);
    assert_string_equal(otelc_curl_code_name(CURLE_OK), "CURLE_OK");
    assert_string_equal(otelc_curl_code_name((CURLcode)9999), "_OTHER");
}

/* With the SDK off the request goes out with the service's headers alone. */
static void sdk_off(void **state)
{
    char url[128];
    struct curl_slist *h = curl_slist_append(NULL, "X-Service: off");
    CURL *e;
    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/status/200", port);
    e = easy_for(url);
    assert_int_equal(otelc_curl_perform(e, "GET", url, h), CURLE_OK);
    pthread_mutex_lock(&seen.mu);
    assert_string_equal(seen.x_service, "off");
    assert_string_equal(seen.traceparent, "");
    pthread_mutex_unlock(&seen.mu);
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    assert_int_equal(otelc_curl_perform(NULL, "GET", url, NULL), CURLE_BAD_FUNCTION_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(headers_merged_and_propagated, teardown),
        cmocka_unit_test_teardown(status_codes, teardown),
        cmocka_unit_test_teardown(refused, teardown),
        cmocka_unit_test(sdk_off),
    };
    int rc;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, server_up, server_down);
    curl_global_cleanup();
    return rc;
}
