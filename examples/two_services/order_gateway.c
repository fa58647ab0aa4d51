/*
 * order_gateway.c: the order gateway of examples/two_services. It starts
 * the risk service (a second process), sends it every order over HTTP on
 * 127.0.0.1 with libcurl, and stops it at the end.
 *
 *   order_gateway [--orders N] [--risk PATH]
 *
 * Each order runs under OTELC_CORRELATION(<order id>): its spans and logs
 * carry the id, and so does the baggage that otelc_curl_perform() sends
 * with traceparent and tracestate (otelc/curl.h). The risk service
 * continues the trace (its SERVER span is the child of the gateway's CLIENT
 * span) and logs under the same correlation id: one trace per order across
 * both processes.
 *
 * With no exporter chosen, each process writes JSON lines under
 * ./logs/<service name>/: logs/order-gateway/ and logs/risk-service/.
 * --risk names the risk service's program (default: risk_service beside
 * this program).
 */
#include "common.h"

#include <otelc/curl.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SERVICE "order-gateway"
#define READY_TIMEOUT_MS 10000
#define READY_FD 3

static otelc_logger_t *orders_log;

/* The risk service's program: beside this one unless given. */
static void risk_path(const char *given, char *out, size_t size)
{
    char self[PATH_MAX];
    ssize_t n;
    if (given != NULL) {
        snprintf(out, size, "%s", given);
        return;
    }
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[n > 0 ? n : 0] = 0;
    char *slash = strrchr(self, '/');
    if (slash != NULL)
        *slash = 0;
    snprintf(out, size, "%s/risk_service", n > 0 ? self : ".");
}

/*
 * Starts the risk service on a free port and waits until it says it
 * listens: it writes "ready <port>" on a pipe (its fd 3). Returns the
 * port, or 0 (the child, if any, is then stopped and reaped).
 */
static int start_risk(const char *path, pid_t *pid)
{
    int fds[2], port = 0;
    char line[64];
    size_t len = 0;

    if (pipe(fds) != 0)
        return 0;
    *pid = fork();
    if (*pid == 0) {
        dup2(fds[1], READY_FD);
        if (fds[0] != READY_FD)
            close(fds[0]);
        if (fds[1] != READY_FD)
            close(fds[1]);
        execl(path, path, "--port", "0", "--ready-fd", "3", (char *)NULL);
        fprintf(stderr, SERVICE ": cannot run %s: %s\n", path, strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    if (*pid < 0) {
        close(fds[0]);
        return 0;
    }
    /* Until the line is complete, the pipe closes (the child died), or the
     * deadline passes. */
    for (;;) {
        struct pollfd p = { .fd = fds[0], .events = POLLIN };
        int r = poll(&p, 1, READY_TIMEOUT_MS);
        ssize_t n;
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n = read(fds[0], line + len, sizeof(line) - 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
        line[len] = 0;
        if (strchr(line, '\n') != NULL || len == sizeof(line) - 1)
            break;
    }
    close(fds[0]);
    line[len] = 0;
    if (sscanf(line, "ready %d", &port) != 1 || port <= 0 || port > 65535) {
        fprintf(stderr, SERVICE ": the risk service did not become ready\n");
        kill(*pid, SIGTERM);
        waitpid(*pid, NULL, 0);
        return 0;
    }
    return port;
}

static size_t keep_answer(char *p, size_t size, size_t n, void *arg)
{
    char *out = arg;
    size_t have = strlen(out), add = size * n;
    if (have + add < 64) {
        memcpy(out + have, p, add);
        out[have + add] = 0;
    }
    return size * n;
}

/* One order: a span, the risk service's answer, the gateway's logs. */
static bool place_order(CURL *easy, struct curl_slist *headers, const char *url, unsigned seq)
{
    char order_id[32], body[128], answer[64] = "";
    const double qty = (double)(10 + seq % 7 * 100), price = 100.0 + (double)(seq % 50);
    bool ok = false;

    snprintf(order_id, sizeof(order_id), "ORD-%05u", seq);
    OTELC_CORRELATION(order_id)
    {
        OTELC_SPAN("place_order", OTELC_STR("order_id", order_id), OTELC_DBL("qty", qty),
                   OTELC_DBL("price", price));
        OTELC_INFO(orders_log, "order received", OTELC_STR("order_id", order_id));
        snprintf(body, sizeof(body), "order_id=%s&qty=%.0f&price=%.2f", order_id, qty, price);
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, (void *)answer);
        CURLcode rc = otelc_curl_perform(easy, "POST", url, headers);
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        ok = rc == CURLE_OK && status == 200;
        if (ok)
            OTELC_INFO(orders_log, "risk answered", OTELC_STR("order_id", order_id),
                       OTELC_STR("decision",
                                 strncmp(answer, "approved", 8) == 0 ? "approved" : "rejected"));
        else
            OTELC_ERROR(orders_log, "risk check failed", OTELC_STR("order_id", order_id),
                        OTELC_STR("curl", curl_easy_strerror(rc)), OTELC_INT("status", status));
    }
    return ok;
}

int main(int argc, char **argv)
{
    unsigned orders = 20, failed = 0;
    const char *given = NULL;
    char path[PATH_MAX + 32], url[128], dir[512];
    pid_t pid = -1;
    int port, status = 0, rc = 0;
    CURL *easy = NULL;
    struct curl_slist *headers = NULL;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--orders") == 0 && atoi(argv[i + 1]) > 0) {
            orders = (unsigned)atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--risk") == 0) {
            given = argv[i + 1];
        } else {
            fprintf(stderr, "usage: order_gateway [--orders N] [--risk PATH]\n");
            return 2;
        }
    }
    /* The child first: it then starts with none of the gateway's otelc
     * state (it would be reset by fork anyway, but this is simpler to
     * read), and the gateway's spans start once the service can answer. */
    risk_path(given, path, sizeof(path));
    port = start_risk(path, &pid);
    if (port == 0)
        return 1;

    service_init(SERVICE, dir, sizeof(dir));
    orders_log = otelc_logger("gateway.orders");
    OTELC_INFO(orders_log, "risk service started", OTELC_INT("pid", pid), OTELC_INT("port", port));

    curl_global_init(CURL_GLOBAL_DEFAULT);
    easy = curl_easy_init();
    headers = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    if (easy == NULL || headers == NULL) {
        rc = 1;
        goto out;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d" RISK_ROUTE, port);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, keep_answer);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    for (unsigned i = 1; i <= orders; i++)
        if (!place_order(easy, headers, url, i))
            failed++;
    OTELC_INFO(orders_log, "orders sent", OTELC_INT("orders", orders), OTELC_INT("failed", failed));
    if (failed > 0)
        rc = 1;
out:
    curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
    curl_global_cleanup();
    /* Stop the risk service; it flushes its files before it exits. */
    kill(pid, SIGTERM);
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, SERVICE ": the risk service did not exit cleanly\n");
        rc = 1;
    }
    (void)otelc_shutdown(5000);
    printf("%u orders, %u failed; logs under %s and its risk-service sibling\n", orders, failed,
           dir[0] ? dir : "(exporters as configured)");
    return rc;
}
