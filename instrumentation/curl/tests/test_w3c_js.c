/*
 * test_w3c_js.c: otelc's HTTP headers read and written by an independent
 * W3C implementation, the official OpenTelemetry JS propagators
 * (tests/w3c-js/w3c_server.js: W3CTraceContextPropagator and
 * W3CBaggagePropagator of @opentelemetry/core), in a node process on
 * 127.0.0.1:
 *   (a) the libcurl helper calls the JS server: what JS extracted is our
 *       client span's trace id, span id and flags, the tracestate we carry,
 *       and our baggage (percent-encoded values, properties, correlation id);
 *   (b) JS calls otelc's server side (otelc/http.h on libmicrohttpd here):
 *       our server span's trace id and remote parent are what JS injected,
 *       and so are its tracestate, baggage and correlation id.
 * Skipped when node or tests/w3c-js/node_modules is missing, unless
 * OTELC_REQUIRE_RECEIVER=1 (scripts/test.sh installs both npm packages).
 */
#include <otelc/curl.h>
#include <otelc/otelc.h>

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <microhttpd.h>

#include "capture_session.h"

static pid_t js_pid = -1;
static int js_stdin = -1;
static int js_port;
static struct MHD_Daemon *daemon_;
static int port;

/* What otelc's server side read in the request JS sent. */
static struct seen {
    pthread_mutex_t mu;
    int requests;
    char correlation[160];
    char user[64];
    char note[64];
    char corr_bag[160];
} seen = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const char *mhd_get(void *carrier, const char *key)
{
    return MHD_lookup_connection_value(carrier, MHD_HEADER_KIND, key);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    static int first;
    struct MHD_Response *resp;
    enum MHD_Result ret;
    otelc_http_span_t s;
    const char *cid;
    (void)cls;
    (void)version;
    (void)upload;
    if (*con_cls == NULL) {
        *con_cls = &first;
        return MHD_YES;
    }
    *upload_size = 0;
    otelc_http_server_options_t o = {
        .method = method, .target = url, .route = "/w3c", .get = mhd_get, .carrier = c
    };
    otelc_http_server_begin(&s, &o);
    pthread_mutex_lock(&seen.mu);
    seen.requests++;
    cid = otelc_current_correlation_id();
    snprintf(seen.correlation, sizeof(seen.correlation), "%s", cid ? cid : "");
    if (otelc_baggage_get("user", seen.user, sizeof(seen.user)) < 0)
        seen.user[0] = 0;
    if (otelc_baggage_get("note", seen.note, sizeof(seen.note)) < 0)
        seen.note[0] = 0;
    if (otelc_baggage_get("correlation.id", seen.corr_bag, sizeof(seen.corr_bag)) < 0)
        seen.corr_bag[0] = 0;
    pthread_mutex_unlock(&seen.mu);
    resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    otelc_http_server_end(&s, MHD_HTTP_OK);
    return ret;
}

static bool required(void)
{
    const char *r = getenv("OTELC_REQUIRE_RECEIVER");
    return r != NULL && strcmp(r, "1") == 0;
}

/* Starts node w3c_server.js and waits for its "ready <port>" line. */
static bool js_start(void)
{
    const char *dir = getenv("OTELC_W3C_JS_DIR");
    char script[1024], mods[1024], line[64];
    int out[2], in[2];
    size_t len = 0;
    struct stat st;

    if (dir == NULL)
        return false;
    snprintf(script, sizeof(script), "%s/w3c_server.js", dir);
    snprintf(mods, sizeof(mods), "%s/node_modules/@opentelemetry/core", dir);
    if (stat(mods, &st) != 0) {
        fprintf(stderr, "test_w3c_js: no %s (run tests/w3c-js/install.sh)\n", mods);
        return false;
    }
    if (pipe(out) != 0 || pipe(in) != 0)
        return false;
    js_pid = fork();
    if (js_pid == 0) {
        dup2(out[1], 1);
        dup2(in[0], 0);
        close(out[0]);
        close(out[1]);
        close(in[0]);
        close(in[1]);
        execlp("node", "node", script, "0", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    js_stdin = in[1];
    /* The line, the pipe's end (node missing or dead), or 20 s. */
    for (;;) {
        struct pollfd p = { .fd = out[0], .events = POLLIN };
        int r = poll(&p, 1, 20000);
        ssize_t n;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n = read(out[0], line + len, sizeof(line) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = 0;
        if (strchr(line, '\n') != NULL || len == sizeof(line) - 1)
            break;
    }
    line[len] = 0;
    close(out[0]);
    return sscanf(line, "ready %d", &js_port) == 1 && js_port > 0;
}

static void js_stop(void)
{
    if (js_stdin >= 0)
        close(js_stdin); /* the server exits at the end of its stdin */
    if (js_pid > 0) {
        kill(js_pid, SIGTERM);
        waitpid(js_pid, NULL, 0);
    }
    js_pid = -1;
    js_stdin = -1;
}

static int group_up(void **state)
{
    struct sockaddr_in addr;
    const union MHD_DaemonInfo *info;
    (void)state;
    if (!js_start()) {
        js_stop();
        js_port = 0;
        if (required()) {
            fprintf(stderr, "test_w3c_js: the JS server did not start\n");
            return -1;
        }
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                               handle, NULL, MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_END);
    info = daemon_ ? MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    port = info ? info->port : 0;
    return port > 0 ? 0 : -1;
}

static int group_down(void **state)
{
    (void)state;
    js_stop();
    if (daemon_ != NULL)
        MHD_stop_daemon(daemon_);
    return 0;
}

/* A response body, kept whole (at most 16 KiB). */
typedef struct body {
    char data[16384];
    size_t len;
} body_t;

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    size_t add = size * n;
    if (b->len + add < sizeof(b->data)) {
        memcpy(b->data + b->len, p, add);
        b->len += add;
        b->data[b->len] = 0;
    }
    return add;
}

static const char *jstr(json_object *o, const char *path1, const char *path2)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, path1, &v))
        return NULL;
    if (path2 != NULL && !json_object_object_get_ex(v, path2, &v))
        return NULL;
    return json_object_get_type(v) == json_type_string ? json_object_get_string(v) : NULL;
}

static void assert_jstr(json_object *o, const char *k1, const char *k2, const char *want)
{
    const char *v = jstr(o, k1, k2);
    if (v == NULL)
        fail_msg("JS answered no %s%s%s: %s", k1, k2 ? "." : "", k2 ? k2 : "",
                 json_object_to_json_string(o));
    assert_string_equal(v, want);
}

/* The baggage entry `key` as JS read it: value and metadata. */
static void assert_entry(json_object *o, const char *key, const char *value, const char *metadata)
{
    json_object *bag, *e, *m;
    assert_true(json_object_object_get_ex(o, "baggage", &bag));
    if (!json_object_object_get_ex(bag, key, &e))
        fail_msg("JS read no baggage entry %s: %s", key, json_object_to_json_string(bag));
    assert_jstr(bag, key, "value", value);
    assert_true(json_object_object_get_ex(e, "metadata", &m));
    if (metadata == NULL)
        assert_true(m == NULL || json_object_get_type(m) == json_type_null ||
                    strcmp(json_object_get_string(m), "") == 0);
    else
        assert_string_equal(json_object_get_string(m), metadata);
}

/* (a) Our client headers, read by the JS propagators. The request is made
 * inside a server span continued from a caller that sent tracestate and
 * baggage, as a service in the middle of a call chain does. */
static void js_reads_our_client_headers(void **state)
{
    static const otelc_http_header_t incoming[] = {
        { "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
        { "tracestate", "rojo=00f067aa0ba902b7, congo=t61rcWkgMzE,tenant1@vendor=x-1" },
        { "baggage", "k1=v%201;p1=x, k2=plain" },
    };
    otelc_http_server_options_t so = {
        .method = "GET", .target = "/in", .headers = incoming, .n_headers = 3
    };
    otelc_http_span_t srv;
    otelc_curl_request_t req;
    otelc_span_context_t client;
    char url[128], tid[33], sid[17];
    body_t b = { .len = 0 };
    CURL *e;
    json_object *o;
    (void)state;
    if (js_port == 0)
        skip();
    start(NULL);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", js_port);
    e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&b);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);

    otelc_http_server_begin(&srv, &so);
    OTELC_CORRELATION("ord 1/\xc3\xbc")
    {
        otelc_token_t t = otelc_baggage_begin("note", "a,b;c=d%");
        otelc_curl_begin(&req, e, "GET", url, NULL);
        client = req.http.span.ctx;
        otelc_curl_end(&req, curl_easy_perform(e));
        otelc_baggage_end(t);
    }
    otelc_http_server_end(&srv, 200);
    curl_easy_cleanup(e);

    assert_int_equal(req.http.kind, 0);
    o = json_tokener_parse(b.data);
    if (o == NULL)
        fail_msg("JS answered no JSON: %s", b.data);
    otelc_hex_encode(client.trace_id, 16, tid);
    otelc_hex_encode(client.span_id, 8, sid);
    assert_string_equal(tid, "0af7651916cd43dd8448eb211c80319c");
    assert_jstr(o, "trace_id", NULL, tid);
    assert_jstr(o, "span_id", NULL, sid);
    json_object *v;
    assert_true(json_object_object_get_ex(o, "valid", &v) && json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(o, "is_remote", &v) && json_object_get_boolean(v));
    assert_true(json_object_object_get_ex(o, "trace_flags", &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_jstr(o, "tracestate", NULL,
                "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,tenant1@vendor=x-1");
    assert_entry(o, "k1", "v 1", "p1=x");
    assert_entry(o, "k2", "plain", NULL);
    assert_entry(o, "note", "a,b;c=d%", NULL);
    assert_entry(o, "correlation.id", "ord 1/\xc3\xbc", NULL);
    json_object_put(o);

    sync_export();
    const cap_record_t *c = cap_find(&cap, OTELC_SIGNAL_TRACES, "GET");
    assert_non_null(c);
    assert_int_equal(c->kind, OTELC_SPAN_KIND_CLIENT);
    assert_memory_equal(c->ctx.span_id, client.span_id, 8);
}

/* (b) JS's headers, read by otelc's server side. */
static void we_read_js_headers(void **state)
{
    char target[128], url[512], tid[33], pid[17];
    body_t b = { .len = 0 };
    CURL *e;
    char *esc;
    json_object *o, *v;
    (void)state;
    if (js_port == 0)
        skip();
    start(NULL);
    snprintf(target, sizeof(target), "http://127.0.0.1:%d/w3c", port);
    e = curl_easy_init();
    esc = curl_easy_escape(e, target, 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/call?url=%s", js_port, esc);
    curl_free(esc);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, (void *)&b);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_cleanup(e);

    o = json_tokener_parse(b.data);
    if (o == NULL)
        fail_msg("JS answered no JSON: %s", b.data);
    assert_true(json_object_object_get_ex(o, "status", &v));
    assert_int_equal(json_object_get_int(v), 200);
    pthread_mutex_lock(&seen.mu);
    assert_int_equal(seen.requests, 1);
    assert_string_equal(seen.correlation, "js order 7");
    assert_string_equal(seen.corr_bag, "js order 7");
    assert_string_equal(seen.user, "Jos\xc3\xa9 \xe2\x9c\x93");
    assert_string_equal(seen.note, "a,b;c=d%");
    pthread_mutex_unlock(&seen.mu);

    sync_export();
    const cap_record_t *s = cap_find(&cap, OTELC_SIGNAL_TRACES, "GET /w3c");
    assert_non_null(s);
    assert_int_equal(s->kind, OTELC_SPAN_KIND_SERVER);
    otelc_hex_encode(s->ctx.trace_id, 16, tid);
    otelc_hex_encode(s->parent_span_id, 8, pid);
    assert_jstr(o, "trace_id", NULL, tid);
    assert_jstr(o, "span_id", NULL, pid);
    assert_true(s->parent_is_remote);
    assert_true(s->ctx.trace_flags & OTELC_TRACE_FLAG_SAMPLED);
    assert_jstr(o, "tracestate", NULL, s->trace_state);
    assert_string_equal(s->trace_state,
                        "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7,tenant1@vendor=x-1");
    assert_string_equal(s->correlation, "js order 7");
    json_object_put(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(js_reads_our_client_headers, teardown),
        cmocka_unit_test_teardown(we_read_js_headers, teardown),
    };
    int rc;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, group_up, group_down);
    curl_global_cleanup();
    return rc;
}
