/*
 * test_grpc_transport.c: the gRPC transport (grpc.c) against a real gRPC
 * server that is not ours, grpc-js (echo_server.js, started per test): the
 * bytes and metadata arrive as sent, gzip arrives inflated, the response
 * comes back in reply->body, every status maps to its outcome, RetryInfo's
 * delay is read, the deadline holds against a server that never answers,
 * nothing listening is a quick RETRY, TLS and mTLS with certificates made
 * by openssl. Skips when node or @grpc/grpc-js is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define TRACES_METHOD "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

/* The transport as libotelc_otlp's registry holds it: libotelc_otlp_grpc's
 * constructor registered it (main() looks it up). */
static const otelc__otlp_transport_ops_t *registered;

/* ---- the server ------------------------------------------------------------ */

typedef struct server {
    pid_t pid;
    int in;  /* its stdin: closing it stops it */
    int out; /* its stdout: "PORT n", then a line per request */
    int port;
    char buf[1 << 16];
    size_t len;
} server_t;

static char tmpdir[64];

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The next line of the server's stdout (NUL-terminated, in a static
 * buffer), waiting at most 10 s. NULL at EOF or timeout. */
static char *server_line(server_t *s)
{
    static char line[sizeof(s->buf)];
    double end = now_ms() + 10000;

    for (;;) {
        char *nl = memchr(s->buf, '\n', s->len);
        struct pollfd p = { s->out, POLLIN, 0 };
        ssize_t n;

        if (nl != NULL) {
            size_t n_line = (size_t)(nl - s->buf);

            memcpy(line, s->buf, n_line);
            line[n_line] = '\0';
            memmove(s->buf, nl + 1, s->len - n_line - 1);
            s->len -= n_line + 1;
            return line;
        }
        if (s->len == sizeof(s->buf) || now_ms() > end)
            return NULL;
        if (poll(&p, 1, (int)(end - now_ms()) + 1) <= 0)
            continue;
        n = read(s->out, s->buf + s->len, sizeof(s->buf) - s->len);
        if (n <= 0)
            return NULL;
        s->len += (size_t)n;
    }
}

/* Starts echo_server.js in `mode` (plain, tls, mtls): false (and a skip
 * message in *why) when node or the module is missing. */
static bool server_start(server_t *s, const char *mode, char *why, size_t why_size)
{
    char ca[128], cert[128], key[128], node_path[512];
    char node[] = OTELC_TEST_NODE, script[] = OTELC_TEST_ECHO_SERVER, server_mode[16];
    char *argv[] = { node, script, server_mode, ca, cert, key, NULL };
    char *envp[256];
    size_t n_env = 0;
    int in[2], out[2];
    posix_spawn_file_actions_t fa;
    char *line;

    memset(s, 0, sizeof(*s));
    s->pid = -1;
    if (OTELC_TEST_NODE[0] == '\0') {
        snprintf(why, why_size, "node not found at configure time");
        return false;
    }
    snprintf(server_mode, sizeof(server_mode), "%s", mode);
    snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);
    snprintf(cert, sizeof(cert), "%s/server.pem", tmpdir);
    snprintf(key, sizeof(key), "%s/server.key", tmpdir);
    snprintf(node_path, sizeof(node_path), "NODE_PATH=%s", OTELC_TEST_NODE_MODULES);
    envp[n_env++] = node_path;
    for (char **e = environ; *e != NULL && n_env < 254; e++)
        if (strncmp(*e, "NODE_PATH=", 10) != 0 && strncmp(*e, "LD_PRELOAD=", 11) != 0)
            envp[n_env++] = *e;
    envp[n_env] = NULL;
    assert_int_equal(pipe2(in, O_CLOEXEC), 0);
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (posix_spawn(&s->pid, OTELC_TEST_NODE, &fa, NULL, argv, envp) != 0) {
        snprintf(why, why_size, "cannot run %s", OTELC_TEST_NODE);
        s->pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    s->in = in[1];
    s->out = out[0];
    if (s->pid < 0)
        return false;
    line = server_line(s);
    if (line != NULL && sscanf(line, "PORT %d", &s->port) == 1)
        return true;
    if (line != NULL && strncmp(line, "MISSING", 7) == 0)
        snprintf(why, why_size,
                 "%s: install it with npm install --prefix <build>/node "
                 "@grpc/grpc-js@1.x (NODE_PATH %s)",
                 line + 8, OTELC_TEST_NODE_MODULES);
    else
        fail_msg("echo_server.js did not start: %s", line != NULL ? line : "(nothing)");
    return false;
}

static void server_stop(server_t *s)
{
    int st;

    if (s->pid <= 0)
        return;
    close(s->in);
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &st, 0);
    close(s->out);
    s->pid = -1;
}

/* Starts the server or skips the test. */
#define START_OR_SKIP(s, mode)                                                                     \
    do {                                                                                           \
        char why_[512];                                                                            \
        if (!server_start((s), (mode), why_, sizeof(why_))) {                                      \
            server_stop(s);                                                                        \
            print_message("skipped: %s\n", why_);                                                  \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- helpers --------------------------------------------------------------- */

static void target_init(otelc__otlp_target_t *t, char *url, size_t url_size, const char *scheme,
                        int port)
{
    memset(t, 0, sizeof(*t));
    t->signal = OTELC_SIGNAL_TRACES;
    snprintf(url, url_size, "%s127.0.0.1:%d", scheme, port);
    t->url = url;
    t->grpc_method = TRACES_METHOD;
    t->insecure = true;
    t->user_agent = "otelc-test/0.1";
}

static void *open_ok(const otelc__otlp_target_t *t)
{
    char err[256] = "";
    void *conn = NULL;

    assert_non_null(registered);
    if (registered->open(t, &conn, err, sizeof(err)) != OTELC_OK)
        fail_msg("open: %s", err);
    return conn;
}

static void hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
}

/* Sends with one mode and returns the reply (the server's request line
 * in *line when wanted). */
static void send_mode(server_t *s, const char *mode, const char *delay_ms, uint32_t timeout_ms,
                      otelc__otlp_reply_t *reply)
{
    const char *names[] = { "x-test-mode", "x-test-delay-ms" };
    const char *values[] = { mode, delay_ms };
    otelc__otlp_target_t t;
    char url[64];
    void *conn;
    static const uint8_t body[] = { 0x0a, 0x00 };

    target_init(&t, url, sizeof(url), "http://", s->port);
    t.header_names = names;
    t.header_values = values;
    t.n_headers = 2;
    conn = open_ok(&t);
    registered->send(conn, body, sizeof(body), timeout_ms, reply);
    registered->close(conn);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_registered(void **state)
{
    (void)state;
    assert_non_null(registered);
    assert_int_equal(registered->version, OTELC__OTLP_TRANSPORT_VERSION);
    assert_string_equal(registered->protocol, "grpc");
    assert_string_equal(registered->library, "libotelc_otlp_grpc (otelc::otlp_grpc)");
}

/* Bytes, metadata and the user agent arrive; the response's bytes come back. */
static void test_round_trip(void **state)
{
    server_t s;
    otelc__otlp_target_t t;
    otelc__otlp_reply_t reply;
    char url[64], *line, want[1200];
    uint8_t body[512];
    static const uint8_t answer[] = { 0x0a, 0x03, 0x08, 0x07, 0x00, 0xff };
    const char *names[] = { "x-test-mode", "x-test-reply-bin", "authorization" };
    const char *values[] = { "ok", (const char *)answer, "Bearer s3cret" };
    void *conn;

    (void)state;
    START_OR_SKIP(&s, "plain");
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t)(i * 7 + 3);
    target_init(&t, url, sizeof(url), "http://", s.port);
    /* A -bin value is bytes: the first four of `answer` (NUL-terminated:
     * the transport sends strings; 0x00 ends it). */
    t.header_names = names;
    t.header_values = values;
    t.n_headers = 3;
    conn = open_ok(&t);
    registered->send(conn, body, sizeof(body), 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_SENT);
    assert_int_equal(reply.code, 0);
    assert_false(reply.has_retry_after);
    assert_int_equal(reply.body_len, 4);
    assert_memory_equal(reply.body, answer, 4);
    line = server_line(&s);
    assert_non_null(line);
    hex(body, sizeof(body), want);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "\"method\":\"" TRACES_METHOD "\""));
    assert_non_null(strstr(line, "\"authorization\":\"Bearer s3cret\""));
    assert_non_null(strstr(line, "\"user-agent\":\"otelc-test/0.1"));

    /* An empty request, and then many: the round trip on loopback. */
    registered->send(conn, body, 0, 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_SENT);
    line = server_line(&s);
    assert_non_null(strstr(line, "\"body\":\"\""));
    {
        enum { N = 200 };
        double t0 = now_ms();

        for (int i = 0; i < N; i++) {
            registered->send(conn, body, sizeof(body), 5000, &reply);
            assert_int_equal(reply.outcome, OTELC__OTLP_SENT);
            assert_non_null(server_line(&s));
        }
        print_message("round trip (512 B request, loopback, grpc-js): %.0f us mean over %d\n",
                      (now_ms() - t0) * 1000.0 / N, N);
    }
    registered->close(conn);
    server_stop(&s);
}

/* gzip: the server sees grpc-encoding gzip and the bytes inflated. */
static void test_gzip(void **state)
{
    server_t s;
    otelc__otlp_target_t t;
    otelc__otlp_reply_t reply;
    char url[64], *line;
    static uint8_t body[8192];
    static char want[2 * sizeof(body) + 1];
    void *conn;

    (void)state;
    START_OR_SKIP(&s, "plain");
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (uint8_t) "opentelemetry"[i % 13];
    target_init(&t, url, sizeof(url), "http://", s.port);
    t.gzip = true;
    conn = open_ok(&t);
    registered->send(conn, body, sizeof(body), 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_SENT);
    line = server_line(&s);
    assert_non_null(line);
    hex(body, sizeof(body), want);
    assert_non_null(strstr(line, want));
    /* grpc-js drops grpc-encoding from the metadata; the server reports
     * the message's compressed flag and length instead. */
    if (strstr(line, "\"wire\":null") != NULL) {
        print_message("gzip: this grpc-js does not show how the message came\n");
    } else {
        char *wire =
            strstr(line, "\"wire\":{\"compressed\":true,\"encoding\":\"gzip\",\"length\":");

        if (wire == NULL)
            fail_msg("not gzip on the wire: %s", strstr(line, "\"wire\""));
        print_message("gzip: %zu bytes sent as %d\n", sizeof(body), atoi(wire + 53));
        assert_true(atoi(wire + 53) < (int)sizeof(body) / 4);
    }
    registered->close(conn);
    server_stop(&s);
}

static void test_statuses(void **state)
{
    server_t s;
    otelc__otlp_reply_t reply;

    (void)state;
    START_OR_SKIP(&s, "plain");

    send_mode(&s, "unavailable", "2500", 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_RETRY);
    assert_int_equal(reply.code, 14);
    assert_true(reply.has_retry_after);
    assert_int_equal(reply.retry_after_ms, 2500);
    /* The server's newline is escaped. */
    assert_string_equal(reply.error, "UNAVAILABLE: try later\\n(busy)");

    send_mode(&s, "unavailable-plain", "0", 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_RETRY);
    assert_int_equal(reply.code, 14);
    assert_false(reply.has_retry_after);

    send_mode(&s, "exhausted-retry", "1200", 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_RETRY);
    assert_int_equal(reply.code, 8);
    assert_true(reply.has_retry_after);
    assert_int_equal(reply.retry_after_ms, 1200);

    send_mode(&s, "exhausted", "0", 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_FAILED);
    assert_int_equal(reply.code, 8);
    assert_false(reply.has_retry_after);

    send_mode(&s, "invalid", "0", 5000, &reply);
    assert_int_equal(reply.outcome, OTELC__OTLP_FAILED);
    assert_int_equal(reply.code, 3);
    assert_string_equal(reply.error, "INVALID_ARGUMENT: bad\\x1b[31mrequest");
    for (int i = 0; i < 5; i++)
        assert_non_null(server_line(&s));
    server_stop(&s);
}

/* A server that never answers: RETRY, DEADLINE_EXCEEDED, within the timeout. */
static void test_deadline(void **state)
{
    server_t s;
    otelc__otlp_reply_t reply;
    double t0, took;

    (void)state;
    START_OR_SKIP(&s, "plain");
    t0 = now_ms();
    send_mode(&s, "hang", "0", 500, &reply);
    took = now_ms() - t0;
    print_message("deadline 500 ms: send returned after %.0f ms\n", took);
    assert_int_equal(reply.outcome, OTELC__OTLP_RETRY);
    assert_int_equal(reply.code, 4);
    assert_true(took >= 450 && took < 1500);
    server_stop(&s);
}

/* Nothing listening (a socket bound, never listening): a quick RETRY. */
static void test_refused(void **state)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    otelc__otlp_target_t t;
    otelc__otlp_reply_t reply;
    char url[64];
    void *conn;
    double t0, took;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    (void)state;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
    target_init(&t, url, sizeof(url), "http://", ntohs(a.sin_port));
    conn = open_ok(&t);
    t0 = now_ms();
    registered->send(conn, (const uint8_t *)"x", 1, 5000, &reply);
    took = now_ms() - t0;
    print_message("refused: %.1f ms, %s\n", took, reply.error);
    assert_int_equal(reply.outcome, OTELC__OTLP_RETRY);
    assert_int_equal(reply.code, 14);
    assert_true(took < 2000);
    assert_non_null(strstr(reply.error, "UNAVAILABLE"));
    registered->close(conn);
    close(fd);
}

static void test_open_errors(void **state)
{
    otelc__otlp_target_t t;
    char url[64], err[256];
    void *conn = (void *)&conn;

    (void)state;
    target_init(&t, url, sizeof(url), "https://", 4317);
    t.ca_file = "/nonexistent/ca.pem";
    assert_int_equal(registered->open(&t, &conn, err, sizeof(err)), OTELC_ERR_INVALID);
    assert_null(conn);
    assert_non_null(strstr(err, "/nonexistent/ca.pem"));
    assert_non_null(strstr(err, strerror(ENOENT)));

    t.ca_file = NULL;
    t.client_cert_file = "/etc/hostname";
    t.client_key_file = "/etc/hostname";
    assert_int_equal(registered->open(&t, &conn, err, sizeof(err)), OTELC_ERR_INVALID);
    assert_non_null(strstr(err, "no PEM"));

    t.client_cert_file = t.client_key_file = NULL;
    t.url = "ftp://127.0.0.1:4317";
    assert_int_equal(registered->open(&t, &conn, err, sizeof(err)), OTELC_ERR_INVALID);
    t.url = "http://";
    assert_int_equal(registered->open(&t, &conn, err, sizeof(err)), OTELC_ERR_INVALID);
}

/* ---- TLS ------------------------------------------------------------------- */

static int run(const char *cmd)
{
    int st = system(cmd);

    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A CA, a server certificate for 127.0.0.1 and localhost, a client one. */
static bool make_certs(void)
{
    char cmd[2048];
    const char *o = OTELC_TEST_OPENSSL;
    const char *ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    static bool made;

    if (made)
        return true;
    if (o[0] == '\0')
        return false;
    snprintf(cmd, sizeof(cmd),
             "(cd %s && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > server.ext && "
             "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
             "%s req -x509 %s -keyout ca.key -out ca.pem -days 2 -subj /CN=otelc-test-ca && "
             "%s req %s -keyout server.key -out server.csr -subj /CN=localhost && "
             "%s x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out server.pem -days 2 -extfile server.ext && "
             "%s req %s -keyout client.key -out client.csr -subj /CN=otelc-client && "
             "%s x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out client.pem -days 2 -extfile client.ext",
             tmpdir, o, ec, o, ec, o, o, ec, o);
    strcat(cmd, ") >/dev/null 2>&1");
    made = run(cmd) == 0;
    return made;
}

static void tls_case(const char *mode, bool with_client_cert, otelc__otlp_outcome_t want)
{
    server_t s;
    otelc__otlp_target_t t;
    otelc__otlp_reply_t reply;
    char url[64], ca[128], cert[128], key[128];
    void *conn;

    if (!make_certs()) {
        print_message("skipped: openssl could not make the certificates\n");
        skip();
    }
    START_OR_SKIP(&s, mode);
    snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);
    snprintf(cert, sizeof(cert), "%s/client.pem", tmpdir);
    snprintf(key, sizeof(key), "%s/client.key", tmpdir);
    target_init(&t, url, sizeof(url), "https://", s.port);
    t.insecure = false;
    t.ca_file = ca;
    if (with_client_cert) {
        t.client_cert_file = cert;
        t.client_key_file = key;
    }
    conn = open_ok(&t);
    registered->send(conn, (const uint8_t *)"tls", 3, 5000, &reply);
    if (reply.outcome != want)
        fail_msg("%s: outcome %d, want %d (%s)", mode, (int)reply.outcome, (int)want, reply.error);
    if (want == OTELC__OTLP_SENT) {
        char *line = server_line(&s);

        assert_non_null(line);
        assert_non_null(strstr(line, "\"body\":\"746c73\""));
    }
    registered->close(conn);
    server_stop(&s);
}

static void test_tls(void **state)
{
    (void)state;
    tls_case("tls", false, OTELC__OTLP_SENT);
}

static void test_mtls(void **state)
{
    (void)state;
    tls_case("mtls", true, OTELC__OTLP_SENT);
}

/* The server wants a client certificate and gets none: no answer. */
static void test_mtls_without_cert(void **state)
{
    (void)state;
    tls_case("mtls", false, OTELC__OTLP_RETRY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registered),  cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_gzip),        cmocka_unit_test(test_statuses),
        cmocka_unit_test(test_deadline),    cmocka_unit_test(test_refused),
        cmocka_unit_test(test_open_errors), cmocka_unit_test(test_tls),
        cmocka_unit_test(test_mtls),        cmocka_unit_test(test_mtls_without_cert),
    };
    char cmd[128];
    int failed;

    signal(SIGPIPE, SIG_IGN);
    registered = otelc__otlp_transport_find("grpc");
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/otelc-grpc-XXXXXX");
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    failed = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    (void)run(cmd);
    return failed;
}
