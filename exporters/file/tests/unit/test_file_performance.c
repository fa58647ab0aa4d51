/*
 * test_file_performance.c: performance records in performance.log.
 *
 * A performance span (OTELC_PERF) is written to traces.log and, as a
 * performance record, to performance.log, beside the records of the
 * performance loggers (the slow_operation warnings among them). One
 * instance serves both signals of a directory, so that performance.log has
 * one owner: the tests write it from both signals at once, with rotation,
 * and read every piece back whole with json-c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "file_test.h"

#include <pthread.h>

/* Lines of `doc` whose "type" is `type`. */
static size_t count_type(const ft_doc_t *d, const char *type)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += ft_has(d->line[i], "type") && strcmp(ft_str(d->line[i], "type"), type) == 0;
    return n;
}

/* A performance span, a plain span, performance logs and a trading log:
 * performance.log holds the performance span and the performance logs,
 * traces.log both spans, trading.log its record; all exported. */
static void test_performance_records(void **state)
{
    otelc_options_t o;
    otelc_stats_t st;

    (void)state;
    ft_options(&o);
    ft_start(&o);
    for (int i = 0; i < 5; i++) {
        OTELC_PERF("order_placement", .cpu = true);
    }
    {
        OTELC_SPAN("not_a_performance_span");
    }
    for (int i = 0; i < 3; i++)
        OTELC_INFO(otelc_logger("performance"), "latency sample", OTELC_INT("i", i));
    OTELC_INFO(otelc_logger("trading"), "order sent");
    ft_flush();

    ft_doc_t perf = ft_doc("performance.log");
    ft_doc_t traces = ft_doc("traces.log");
    assert_int_equal(perf.n, 5 + 3);
    assert_int_equal(count_type(&perf, "span"), 5);
    for (size_t i = 0; i < perf.n; i++) {
        json_object *l = perf.line[i];
        if (!ft_has(l, "type") || strcmp(ft_str(l, "type"), "span") != 0)
            continue;
        assert_string_equal(ft_str(l, "name"), "order_placement");
        assert_true(ft_has(l, "execution_time_ms"));
        assert_true(ft_has(l, "cpu_usage_percent"));
        assert_true(ft_has(l, "trace_id"));
    }
    assert_int_equal(traces.n, 6);
    assert_int_equal(ft_lines("trading.log"), 1);
    ft_doc_free(&perf);
    ft_doc_free(&traces);
    ft_stats(&st);
    assert_int_equal(st.spans.exported, 6);
    assert_int_equal(st.logs.exported, 4);
    assert_int_equal(otelc_signal_stats_dropped(&st.spans), 0);
}

#define PER_THREAD 3000

static void *perf_spans(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        OTELC_PERF("tick", .threshold_ms = 1000);
    }
    return NULL;
}

static void *perf_logs(void *arg)
{
    (void)arg;
    ft_log_seq("performance.latency", 0, PER_THREAD);
    return NULL;
}

/* Both signals write performance.log at once while it rotates every 16 KiB:
 * every piece holds whole lines only, every record is there once. */
static void test_both_signals_rotating(void **state)
{
    otelc_options_t o;
    otelc_stats_t st;
    pthread_t a, b;
    ft_piece_t pieces[256];

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->max_bytes = 16384;
    otelc_file_options(&o)->max_files = 250;
    o.spans_batch.max_queue_size = 8192;
    o.logs_batch.max_queue_size = 8192;
    o.overflow = OTELC_OVERFLOW_BLOCK;
    ft_start(&o);
    assert_int_equal(pthread_create(&a, NULL, perf_spans, NULL), 0);
    assert_int_equal(pthread_create(&b, NULL, perf_logs, NULL), 0);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    ft_flush();

    ft_doc_t d = ft_channel_doc("performance"); /* fails on a partial line */
    assert_true(ft_pieces("performance", pieces, 256) > 10);
    assert_int_equal(count_type(&d, "span"), PER_THREAD);
    assert_int_equal(d.n, 2 * PER_THREAD);
    /* Each log record once: the sum of their seq numbers. */
    int64_t seq_sum = 0;
    for (size_t i = 0; i < d.n; i++) {
        if (ft_has(d.line[i], "seq"))
            seq_sum += ft_int(d.line[i], "seq");
    }
    assert_int_equal(seq_sum, (int64_t)PER_THREAD * (PER_THREAD - 1) / 2);
    ft_doc_free(&d);
    ft_stats(&st);
    assert_int_equal(st.spans.exported, PER_THREAD);
    assert_int_equal(st.logs.exported, PER_THREAD);
    assert_int_equal(otelc_signal_stats_dropped(&st.spans) + otelc_signal_stats_dropped(&st.logs),
                     0);
}

/* With the spans alone going to files, performance.log still gets them. */
static void test_traces_only(void **state)
{
    otelc_options_t o;

    (void)state;
    ft_options(&o);
    o.logs_exporter = "none";
    ft_start(&o);
    {
        OTELC_PERF("settlement");
    }
    ft_flush();
    ft_doc_t perf = ft_doc("performance.log");
    assert_int_equal(perf.n, 1);
    assert_string_equal(ft_str(perf.line[0], "name"), "settlement");
    ft_doc_free(&perf);
    assert_int_equal(ft_lines("traces.log"), 1);
}

/* The otlp format keeps one signal per file: performance spans stay in
 * traces.log only, whose request lines the Collector reads as traces. */
static void test_otlp_format_keeps_spans_in_traces(void **state)
{
    otelc_options_t o;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->format = OTELC_FILE_FORMAT_OTLP;
    ft_start(&o);
    {
        OTELC_PERF("settlement");
    }
    OTELC_INFO(otelc_logger("performance"), "latency sample");
    ft_flush();
    ft_doc_t perf = ft_doc("performance.log");
    assert_int_equal(perf.n, 1);
    assert_true(ft_has(perf.line[0], "resourceLogs"));
    assert_false(ft_has(perf.line[0], "resourceSpans"));
    ft_doc_free(&perf);
    assert_int_equal(ft_lines("traces.log"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_performance_records, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_both_signals_rotating, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_traces_only, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_otlp_format_keeps_spans_in_traces, ft_setup,
                                        ft_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
