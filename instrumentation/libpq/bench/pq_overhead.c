/*
 * otelc-pq-bench: what a traced libpq call costs over the plain one.
 *
 *   otelc-pq-bench [--calls N] [--rounds R] CONNINFO
 *
 * Runs the same statements through PQexec / PQexecParams and through
 * otelc_PQexec / otelc_PQexecParams on one connection, alternating rounds
 * of N calls so that the server's own variation falls on both alike, and
 * prints the median time per call of each and their difference: the
 * wrapper's cost (text scans, span, export through a counting exporter).
 * Then the CPU-only part, the two text scans of a typical statement, in a
 * loop without a server, and the whole wrapper on a NULL connection.
 */
#include <otelc/libpq.h>
#include <otelc/otelc.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct count_exporter {
    otelc_exporter_t base;
    atomic_size_t spans;
} count_exporter_t;

static otelc_status_t count_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                   uint32_t timeout_ms, otelc_export_result_t *result)
{
    (void)timeout_ms;
    (void)result;
    atomic_fetch_add(&((count_exporter_t *)self)->spans, b->n);
    return OTELC_OK;
}

static void count_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t count_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "count",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = count_export,
    .destroy = count_destroy,
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_ROUNDS 64
static const char QUERY[] = "SELECT id, symbol FROM (VALUES (1, 'AAPL'), (2, 'MSFT')) AS "
                            "instruments(id, symbol) WHERE id = 1 AND symbol <> 'x'";
static const char PARAM_QUERY[] = "SELECT $1::int + 1";

/* One round: `calls` statements, plain or traced; ns per call. */
static double round_ns(PGconn *conn, unsigned calls, bool traced, bool params)
{
    const char *values[1] = { "41" };
    const uint64_t t0 = now_ns();

    for (unsigned i = 0; i < calls; i++) {
        PGresult *r;
        if (params)
            r = traced ? otelc_PQexecParams(conn, PARAM_QUERY, 1, NULL, values, NULL, NULL, 0)
                       : PQexecParams(conn, PARAM_QUERY, 1, NULL, values, NULL, NULL, 0);
        else
            r = traced ? otelc_PQexec(conn, QUERY) : PQexec(conn, QUERY);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            fprintf(stderr, "otelc-pq-bench: %s", PQerrorMessage(conn));
            exit(1);
        }
        PQclear(r);
    }
    return (double)(now_ns() - t0) / calls;
}

static void compare(PGconn *conn, unsigned calls, unsigned rounds, bool params)
{
    double plain[MAX_ROUNDS], traced[MAX_ROUNDS];

    for (unsigned r = 0; r < rounds; r++) {
        plain[r] = round_ns(conn, calls, false, params);
        traced[r] = round_ns(conn, calls, true, params);
    }
    qsort(plain, rounds, sizeof(double), cmp_double);
    qsort(traced, rounds, sizeof(double), cmp_double);
    printf("%-14s plain %8.0f ns/call  traced %8.0f ns/call  wrapper %+6.0f ns/call "
           "(median of %u rounds of %u)\n",
           params ? "PQexecParams" : "PQexec", plain[rounds / 2], traced[rounds / 2],
           traced[rounds / 2] - plain[rounds / 2], rounds, calls);
}

int main(int argc, char **argv)
{
    static count_exporter_t counter = { { &count_ops }, 0 };
    otelc_exporter_t *exporters[1] = { &counter.base };
    unsigned calls = 2000, rounds = 9;
    const char *conninfo = NULL;
    otelc_options_t opts;
    PGconn *conn;
    char text[OTELC_PQ_QUERY_TEXT_MAX], summary[256];
    volatile size_t sink = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--calls") == 0 && i + 1 < argc)
            calls = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = (unsigned)strtoul(argv[++i], NULL, 10);
        else
            conninfo = argv[i];
    }
    if (conninfo == NULL || calls == 0 || rounds == 0 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: otelc-pq-bench [--calls N] [--rounds R (1-%d)] CONNINFO\n",
                MAX_ROUNDS);
        return 2;
    }
    otelc_options_default(&opts);
    opts.traces_exporter = "none";
    opts.logs_exporter = "none";
    opts.exporters = exporters;
    opts.n_exporters = 1;
    if (otelc_init(&opts) != OTELC_OK) {
        fprintf(stderr, "otelc-pq-bench: otelc_init failed\n");
        return 1;
    }
    otelc_pq_set_slow_query_threshold_ms(0);
    conn = PQconnectdb(conninfo);
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "otelc-pq-bench: %s", PQerrorMessage(conn));
        PQfinish(conn);
        return 1;
    }
    /* Warm up the connection, the plan cache and the thread's buffer. */
    (void)round_ns(conn, calls / 4 + 1, false, false);
    (void)round_ns(conn, calls / 4 + 1, true, false);
    compare(conn, calls, rounds, false);
    compare(conn, calls, rounds, true);
    PQfinish(conn);

    {
        const unsigned n = 200000;
        const uint64_t t0 = now_ns();
        for (unsigned i = 0; i < n; i++) {
            sink += otelc_pq_sanitize(QUERY, text, sizeof(text));
            sink += otelc_pq_summarize(QUERY, summary, sizeof(summary));
        }
        printf("text scans     sanitize + summarize of the %zu-byte statement: %.0f ns\n",
               sizeof(QUERY) - 1, (double)(now_ns() - t0) / n);
    }
    {
        /* The whole wrapper without a server: PQexec(NULL, ...) returns at
         * once, so this is the text scans, the span with its attributes
         * and the error path, and nothing of libpq's. */
        const unsigned n = 200000;
        const uint64_t t0 = now_ns();
        for (unsigned i = 0; i < n; i++)
            sink += otelc_PQexec(NULL, QUERY) == NULL;
        printf("wrapper alone  otelc_PQexec(NULL, statement), span and all: %.0f ns\n",
               (double)(now_ns() - t0) / n);
    }
    (void)otelc_shutdown(2000);
    printf("spans exported %zu\n", atomic_load(&counter.spans));
    return sink == 0;
}
