/*
 * test_file_concurrent.c: the file exporter fed by several application
 * threads at once, logging to several channels and recording spans, with
 * files rotating by size meanwhile. Afterwards every line of every file is
 * one whole JSON object, each channel holds exactly what was sent to it
 * (each thread's records in the order the thread wrote them), and the
 * statistics say that everything produced was exported.
 *
 * Also run under TSan (label concurrency), with less work.
 */
#include <setjmp.h>
#include <otelc/file.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>

#include "file_test.h"
#include "sanitizers.h"

#define THREADS 4
#define ROUTES 5

/* Loggers and the channel each one goes to. */
static const struct {
    const char *logger;
    const char *channel;
} routes[ROUTES] = {
    { "trading.orders", "trading" },
    { "clickhouse_manager", "database" },
    { "api_server", "api" },
    { "health_checker", "monitoring" },
    { "unknown_component", "application" },
};

static int per_thread(void)
{
    return UNDER_TSAN ? 400 : 3000;
}

/* Record i of a thread goes to route i % ROUTES; every 7th is an ERROR;
 * every 10th comes with a span around it. */
static bool is_error(int i)
{
    return i % 7 == 3;
}

static bool has_span(int i)
{
    return i % 10 == 0;
}

static void *writer(void *arg)
{
    int id = (int)(intptr_t)arg;
    otelc_logger_t *lg[ROUTES];

    for (int r = 0; r < ROUTES; r++)
        lg[r] = otelc_logger(routes[r].logger);
    for (int i = 0; i < per_thread(); i++) {
        otelc_logger_t *l = lg[i % ROUTES];
        int sev = is_error(i) ? OTELC_SEV_ERROR : OTELC_SEV_INFO;

        if (has_span(i)) {
            OTELC_SPAN("unit_of_work", OTELC_INT("thread", id), OTELC_INT("seq", i));
            OTELC_LOG(l, sev, "record with a span", OTELC_INT("thread", id), OTELC_INT("seq", i));
        } else {
            OTELC_LOG(l, sev, "record \"quoted\" and\nmultiline", OTELC_INT("thread", id),
                      OTELC_INT("seq", i), OTELC_STR("text", "0123456789abcdefghij"));
        }
    }
    return NULL;
}

/*
 * Checks the lines of a channel: each carries thread and seq; per thread,
 * the seqs are those `want(i)` selects, in increasing order. Returns the
 * number of lines.
 */
static size_t check_channel(const char *channel, bool (*want)(int route, int i), int route)
{
    ft_doc_t d = ft_channel_doc(channel);
    int next[THREADS];
    size_t expected = 0;

    for (int t = 0; t < THREADS; t++)
        next[t] = 0;
    for (size_t k = 0; k < d.n; k++) {
        int64_t t = ft_int(d.line[k], "thread");
        int64_t seq = ft_int(d.line[k], "seq");

        assert_true(t >= 0 && t < THREADS);
        /* The next seq this thread sent to the channel. */
        while (next[t] < per_thread() && !want(route, next[t]))
            next[t]++;
        if (seq != next[t])
            fail_msg("%s: thread %lld: seq %lld, want %d (line %zu)", channel, (long long)t,
                     (long long)seq, next[t], k);
        next[t]++;
    }
    for (int i = 0; i < per_thread(); i++)
        expected += want(route, i) ? THREADS : 0;
    if (d.n != expected)
        fail_msg("%s: %zu lines, want %zu", channel, d.n, expected);
    ft_doc_free(&d);
    return expected;
}

static bool to_route(int route, int i)
{
    return i % ROUTES == route;
}

static bool to_errors(int route, int i)
{
    (void)route;
    return is_error(i);
}

static bool to_traces(int route, int i)
{
    (void)route;
    return has_span(i);
}

static void test_concurrent_writers(void **state)
{
    pthread_t th[THREADS];
    otelc_options_t o;
    otelc_stats_t s;
    size_t logs = 0, spans;

    (void)state;
    ft_options(&o);
    /* Nothing may be lost: the writers wait for room instead. */
    o.overflow = OTELC_OVERFLOW_BLOCK;
    o.block_timeout_ms = 30000;
    /* Rotation by size all along, every piece kept. */
    otelc_file_options(&o)->max_bytes = 64 * 1024;
    otelc_file_options(&o)->max_files = 100000;
    ft_start(&o);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t), 0);
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_join(th[t], NULL), 0);
    ft_flush();

    ft_stats(&s);
    assert_int_equal(s.logs.produced, (uint64_t)THREADS * (uint64_t)per_thread());
    assert_int_equal(s.logs.exported, s.logs.produced);
    assert_int_equal(otelc_signal_stats_dropped(&s.logs), 0);
    assert_int_equal(s.logs.pending, 0);
    assert_int_equal(s.spans.exported, s.spans.produced);
    assert_int_equal(otelc_signal_stats_dropped(&s.spans), 0);

    for (int r = 0; r < ROUTES; r++)
        logs += check_channel(routes[r].channel, to_route, r);
    assert_int_equal(logs, s.logs.produced);
    (void)check_channel("errors", to_errors, 0);
    spans = check_channel("traces", to_traces, 0);
    assert_int_equal(spans, s.spans.produced);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_writers, ft_setup, ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
