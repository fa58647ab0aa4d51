/*
 * test_pq_trace_all: OTELC_PQ_TRACE_ALL makes the plain libpq names mean the
 * wrappers, and OTELC_PQ_SLOW_QUERY_MS is read and reported as otelc's own
 * settings are. No server: the calls go to a NULL connection, which libpq
 * and the wrappers both accept.
 */
#define OTELC_PQ_TRACE_ALL
#include <otelc/libpq.h>
#include <otelc/otelc.h>

#include "capture_exporter.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capture_stderr.h"

/* First: a value that does not read is reported once, naming the variable,
 * and the default is used; the program's own value wins over both. */
static void test_bad_setting(void **state)
{
    const char *err;
    uint32_t ms;

    (void)state;
    assert_int_equal(setenv("OTELC_PQ_SLOW_QUERY_MS", "5x", 1), 0);
    capture_begin();
    ms = otelc_pq_slow_query_threshold_ms();
    err = capture_end();
    assert_int_equal(ms, 500);
    assert_non_null(strstr(err, "OTELC_PQ_SLOW_QUERY_MS"));
    assert_non_null(strstr(err, "'5x'"));
    otelc_pq_set_slow_query_threshold_ms(250);
    assert_int_equal(otelc_pq_slow_query_threshold_ms(), 250);
    otelc_pq_set_slow_query_threshold_ms(0);
    assert_int_equal(otelc_pq_slow_query_threshold_ms(), 0);
}

static void test_plain_names_traced(void **state)
{
    static cap_exporter_t cap;
    const char *values[1] = { "x" };
    otelc_options_t o;
    const cap_record_t *r;

    (void)state;
    cap_init(&cap, true);
    cap_options(&o, &cap);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    assert_null(PQexec(NULL, "SELECT 1"));
    assert_null(PQexecParams(NULL, "UPDATE t SET a = $1", 1, NULL, values, NULL, NULL, 0));
    assert_null(PQgetResult(NULL));
    PQfinish(NULL);
    assert_int_equal(otelc_flush(5000), OTELC_OK);

    r = cap_find(&cap, OTELC_SIGNAL_TRACES, "SELECT");
    assert_non_null(r);
    assert_int_equal(r->kind, OTELC_SPAN_KIND_CLIENT);
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    r = cap_find(&cap, OTELC_SIGNAL_TRACES, "UPDATE t");
    assert_non_null(r);
    assert_string_equal(cap_attr(r, "db.query.text"), "UPDATE t SET a = $1");
    (void)otelc_shutdown(2000);
    cap_free(&cap);
}

/* The per-thread cache of described statements gives each statement its
 * own text, whatever came before: statements that differ in one literal,
 * the same text with and without parameters, one too long to cache. */
static void test_repeated_statements(void **state)
{
    static cap_exporter_t cap;
    static char longer[700];
    const char *values[1] = { "x" };
    otelc_options_t o;
    size_t k = 0;

    (void)state;
    k += (size_t)snprintf(longer, sizeof(longer), "SELECT 'first'");
    while (k < 600)
        k += (size_t)snprintf(longer + k, sizeof(longer) - k, ", %zu", k);
    cap_init(&cap, true);
    cap_options(&o, &cap);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    for (int round = 0; round < 5; round++) {
        PQexec(NULL, "SELECT * FROM t WHERE a = 1");
        PQexec(NULL, "SELECT * FROM t WHERE a = 2");
        PQexecParams(NULL, "SELECT * FROM t WHERE a = $1", 1, NULL, values, NULL, NULL, 0);
        PQexec(NULL, "SELECT * FROM t WHERE a = $1");
        PQexec(NULL, longer);
    }
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_int_equal(cap.n, 25);
    for (size_t i = 0; i < cap.n; i++) {
        const char *want = i % 5 == 2   ? "SELECT * FROM t WHERE a = $1"
                           : i % 5 == 3 ? "SELECT * FROM t WHERE a = $1"
                           : i % 5 == 4 ? NULL
                                        : "SELECT * FROM t WHERE a = ?";
        const char *text = cap_attr(&cap.recs[i], "db.query.text");

        assert_non_null(text);
        if (want != NULL)
            assert_string_equal(text, want);
        else
            assert_true(strncmp(text, "SELECT ?, ?, ?", 14) == 0 && strchr(text, '1') == NULL);
        assert_string_equal(cap.recs[i].name, i % 5 == 4 ? "SELECT" : "SELECT t");
    }
    (void)otelc_shutdown(2000);
    cap_free(&cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_setting),
        cmocka_unit_test(test_plain_names_traced),
        cmocka_unit_test(test_repeated_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
