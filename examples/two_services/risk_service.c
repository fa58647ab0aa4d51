/*
 * risk_service.c: the risk service of examples/two_services, an HTTP
 * server (libmicrohttpd) on 127.0.0.1 that the order gateway calls for
 * every order.
 *
 *   risk_service [--port P] [--ready-fd FD]
 *
 * POST /risk/check with a body "order_id=...&qty=...&price=..." answers
 * "approved" or "rejected" (a notional over 1,000,000). Every request is a
 * SERVER span started from the request's headers (otelc/http.h): the
 * gateway's trace goes on here, the gateway's client span is its parent,
 * and the correlation id that came in the baggage is on every log inside.
 *
 * --port 0 (the default) takes a free port; once listening, the service
 * writes "ready <port>\n" to FD (default 1) and closes it, so that whoever
 * started it waits for that line instead of guessing a delay. SIGTERM or
 * SIGINT stops it: in-flight requests finish, otelc flushes, exit 0.
 */
#include "common.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SERVICE "risk-service"
#define BODY_MAX 1024
#define NOTIONAL_LIMIT 1000000.0

static otelc_logger_t *risk_log;
/* Known once the daemon listens, read by its thread: atomic. */
static atomic_int listen_port;

/* One request's body, collected over the handler's calls. */
typedef struct request {
    char body[BODY_MAX];
    size_t len;
    bool too_long;
} request_t;

static const char *header(void *connection, const char *name)
{
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

/* The value of `key` in a form body "a=1&b=2", copied into `out`. */
static void form_value(const char *body, const char *key, char *out, size_t size)
{
    size_t klen = strlen(key);
    const char *p = body;
    out[0] = 0;
    while (p != NULL && *p != 0) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t n = strcspn(p + klen + 1, "&");
            snprintf(out, size, "%.*s", (int)n, p + klen + 1);
            return;
        }
        p = strchr(p, '&');
        if (p != NULL)
            p++;
    }
}

static int respond(struct MHD_Connection *c, unsigned code, const char *text)
{
    char buf[64]; /* libmicrohttpd takes a non-const pointer, and copies */
    snprintf(buf, sizeof(buf), "%s", text);
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(buf), buf, MHD_RESPMEM_MUST_COPY);
    int ret = r != NULL ? MHD_queue_response(c, code, r) : MHD_NO;
    MHD_destroy_response(r);
    return ret;
}

/* The risk decision for one order, inside the request's server span. */
static bool check_order(const char *order_id, double qty, double price)
{
    OTELC_SPAN("evaluate_limits", OTELC_STR("order_id", order_id));
    const double notional = qty * price;
    const bool ok = notional <= NOTIONAL_LIMIT;
    OTELC_INFO(risk_log, "risk check", OTELC_STR("order_id", order_id), OTELC_DBL("qty", qty),
               OTELC_DBL("price", price), OTELC_DBL("notional", notional),
               OTELC_STR("decision", ok ? "approved" : "rejected"));
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    request_t *req = *con_cls;
    otelc_http_span_t span;
    unsigned code;
    int ret;
    (void)cls;
    (void)version;

    if (req == NULL) { /* the headers: make room for the body */
        req = calloc(1, sizeof(*req));
        if (req == NULL)
            return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_size != 0) {
        if (req->len + *upload_size < BODY_MAX) {
            memcpy(req->body + req->len, upload, *upload_size);
            req->len += *upload_size;
        } else {
            req->too_long = true;
        }
        *upload_size = 0;
        return MHD_YES;
    }

    /* The whole request is here: the span covers handling and answering,
     * on this one thread, as otelc/http.h asks. */
    otelc_http_server_options_t o = { .method = method,
                                      .target = url,
                                      .route = strcmp(url, RISK_ROUTE) == 0 ? RISK_ROUTE : NULL,
                                      .server_address = "127.0.0.1",
                                      .server_port =
                                          atomic_load_explicit(&listen_port, memory_order_relaxed),
                                      .get = header,
                                      .carrier = c };
    otelc_http_server_begin(&span, &o);
    if (strcmp(url, RISK_ROUTE) != 0) {
        code = MHD_HTTP_NOT_FOUND;
        ret = respond(c, code, "not found\n");
    } else if (strcmp(method, "POST") != 0 || req->too_long) {
        code = MHD_HTTP_BAD_REQUEST;
        ret = respond(c, code, "bad request\n");
    } else {
        char order_id[64], qty[32], price[32];
        req->body[req->len] = 0;
        form_value(req->body, "order_id", order_id, sizeof(order_id));
        form_value(req->body, "qty", qty, sizeof(qty));
        form_value(req->body, "price", price, sizeof(price));
        code = MHD_HTTP_OK;
        ret = respond(c, code,
                      check_order(order_id, atof(qty), atof(price)) ? "approved\n" : "rejected\n");
    }
    otelc_http_server_end(&span, (int)code);
    return ret == MHD_YES ? MHD_YES : MHD_NO;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    int port = 0, ready_fd = 1, sig = 0, rc = 0;
    char dir[512];
    struct sockaddr_in addr;
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;
    sigset_t stop;
    FILE *ready;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--port") == 0) {
            port = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--ready-fd") == 0) {
            ready_fd = atoi(argv[i + 1]);
        } else {
            fprintf(stderr, "usage: risk_service [--port P] [--ready-fd FD]\n");
            return 2;
        }
    }
    /* Blocked before any thread starts, so that only sigwait() below takes
     * them (otelc's and libmicrohttpd's threads inherit the mask). */
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    service_init(SERVICE, dir, sizeof(dir));
    risk_log = otelc_logger("risk.service");

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                         NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (info == NULL) {
        fprintf(stderr, SERVICE ": cannot listen on 127.0.0.1:%d\n", port);
        rc = 1;
        goto out;
    }
    atomic_store_explicit(&listen_port, info->port, memory_order_relaxed);
    OTELC_INFO(risk_log, "listening", OTELC_STR("address", "127.0.0.1"),
               OTELC_INT("port", info->port));
    ready = fdopen(ready_fd, "w");
    if (ready != NULL) {
        fprintf(ready, "ready %d\n", (int)info->port);
        fclose(ready);
    }
    (void)sigwait(&stop, &sig);
    OTELC_INFO(risk_log, "stopping", OTELC_INT("signal", sig));
out:
    if (d != NULL)
        MHD_stop_daemon(d);
    (void)otelc_shutdown(5000);
    return rc;
}
