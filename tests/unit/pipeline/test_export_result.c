/*
 * test_export_result.c: what the pipeline makes of an exporter's result.
 *
 * A scripted exporter answers each batch with a chosen result (accepted,
 * rejected, message, retryable); the test checks what a user reads
 * afterwards: otelc_stats() by reason ("rejected" for what the backend
 * refused, "exporter" for what was not delivered), the OTELC_STATS line, and
 * the diagnostic. Also: an exporter of another interface version, or with a
 * table missing a required function, is refused with a clear error while
 * the others go on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <otelc/exporter.h>
#include <otelc/otelc.h>

#include "capture_stderr.h"

typedef struct scripted {
    otelc_exporter_t base;
    size_t accept; /* records it accepts of each batch; SIZE_MAX: all */
    size_t reject; /* of the others, how many it says the backend refused */
    bool retryable;
    uint32_t retry_after_ms;
    const char *message;
    size_t seen; /* records handed to it */
    bool destroyed;
} scripted_t;

static otelc_status_t scripted_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                      uint32_t timeout_ms, otelc_export_result_t *r)
{
    scripted_t *s = (scripted_t *)self;
    (void)timeout_ms;
    s->seen += b->n;
    if (s->accept == SIZE_MAX)
        return OTELC_OK;
    r->accepted = s->accept < b->n ? s->accept : b->n;
    r->rejected = s->reject;
    r->message = s->message;
    r->retryable = s->retryable;
    r->retry_after_ms = s->retry_after_ms;
    return OTELC_ERR_IO;
}

static void scripted_destroy(otelc_exporter_t *self)
{
    ((scripted_t *)self)->destroyed = true;
}

static const otelc_exporter_ops_t scripted_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "scripted",
    .signals = OTELC_SIGNAL_LOGS,
    .export_batch = scripted_export,
    .destroy = scripted_destroy,
};

static const otelc_exporter_ops_t scripted_ops_b = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "scripted-b",
    .signals = OTELC_SIGNAL_LOGS,
    .export_batch = scripted_export,
    .destroy = scripted_destroy,
};

/* Starts otelc with the given exporters only, a batch of up to 10 logs. */
static void start_with(otelc_exporter_t **list, size_t n)
{
    otelc_options_t o;

    otelc_options_default(&o);
    o.service_name = "export-result";
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    o.exporters = list;
    o.n_exporters = n;
    o.logs_batch.max_export_batch_size = 10;
    assert_int_equal(otelc_init(&o), OTELC_OK);
}

/* Logs `n` records and waits until the pipeline settled all of them. */
static otelc_stats_t log_and_settle(unsigned n)
{
    otelc_logger_t *lg = otelc_logger("export-result");
    otelc_stats_t st;

    for (unsigned i = 0; i < n; i++)
        otelc_log(lg, OTELC_SEV_INFO, NULL, "record", OTELC_NUL_TERMINATED, NULL, 0);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, n);
    assert_int_equal(st.logs.pending, 0);
    return st;
}

/* A partial success: 7 of 10 accepted, 2 refused by the backend, 1 lost in
 * transit. Exported 7, dropped 2 as rejected and 1 as exporter. */
static void partial_success_counts_rejected(void **state)
{
    scripted_t s = { .base = { &scripted_ops },
                     .accept = 7,
                     .reject = 2,
                     .message = "2 log records had an empty body" };
    otelc_exporter_t *list[] = { &s.base };
    otelc_stats_t st;
    char line[512];
    const char *err;

    (void)state;
    start_with(list, 1);
    capture_begin();
    st = log_and_settle(10);
    otelc_shutdown(1000);
    err = capture_end();

    assert_int_equal(s.seen, 10);
    assert_int_equal(st.logs.exported, 7);
    assert_int_equal(st.logs.dropped[OTELC_DROP_REJECTED], 2);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 1);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 3);
    otelc_stats_format(&st, line, sizeof(line));
    assert_non_null(strstr(line, "logs produced=10 exported=7 dropped=3 (exporter=1 rejected=2)"));
    /* The diagnostic names the exporter, the count and the backend's words. */
    assert_non_null(strstr(err, "exporter 'scripted': the backend rejected 2 of 10 log records"));
    assert_non_null(strstr(err, "2 log records had an empty body"));
    assert_true(s.destroyed);
}

/* An exporter that claims more rejected than it failed to deliver is read
 * as rejecting only what it did not deliver: the counts still add up. */
static void rejected_is_bounded_by_what_was_missed(void **state)
{
    scripted_t s = { .base = { &scripted_ops }, .accept = 8, .reject = 1000 };
    otelc_exporter_t *list[] = { &s.base };
    otelc_stats_t st;

    (void)state;
    start_with(list, 1);
    capture_begin();
    st = log_and_settle(10);
    otelc_shutdown(1000);
    (void)capture_end();
    assert_int_equal(st.logs.exported, 8);
    assert_int_equal(st.logs.dropped[OTELC_DROP_REJECTED], 2);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 0);
}

/* A retryable failure with a retry-after is not a rejection: counted as
 * exporter, and the diagnostic says what the backend asked. */
static void retryable_failure_is_exporter(void **state)
{
    scripted_t s = { .base = { &scripted_ops },
                     .accept = 0,
                     .retryable = true,
                     .retry_after_ms = 1500,
                     .message = "503 Service Unavailable" };
    otelc_exporter_t *list[] = { &s.base };
    otelc_stats_t st;
    const char *err;

    (void)state;
    start_with(list, 1);
    capture_begin();
    st = log_and_settle(10);
    otelc_shutdown(1000);
    err = capture_end();
    assert_int_equal(st.logs.exported, 0);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 10);
    assert_int_equal(st.logs.dropped[OTELC_DROP_REJECTED], 0);
    assert_non_null(strstr(err,
                           "exporter 'scripted' failed to export 10 of 10 log records: "
                           "503 Service Unavailable (the backend asks to retry after 1500 ms)"));
}

/* Two exporters of one signal: a record is exported when both delivered
 * it, so the one that delivered less settles the batch, with its reasons. */
static void worst_exporter_settles(void **state)
{
    scripted_t a = { .base = { &scripted_ops }, .accept = 9, .reject = 1 };
    scripted_t b = { .base = { &scripted_ops_b }, .accept = 6, .reject = 0 };
    otelc_exporter_t *list[] = { &a.base, &b.base };
    otelc_stats_t st;

    (void)state;
    start_with(list, 2);
    capture_begin();
    st = log_and_settle(10);
    otelc_shutdown(1000);
    (void)capture_end();
    assert_int_equal(a.seen, 10);
    assert_int_equal(b.seen, 10);
    assert_int_equal(st.logs.exported, 6);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 4);
    assert_int_equal(st.logs.dropped[OTELC_DROP_REJECTED], 0);
}

/* An exporter built against another exporter.h is refused, named by its
 * version, never called (not even destroy()); the others go on. */
static void other_interface_version_refused(void **state)
{
    static const otelc_exporter_ops_t old_ops = {
        .version = OTELC_EXPORTER_INTERFACE_VERSION - 1,
        .name = "old",
        .signals = OTELC_SIGNAL_LOGS,
        .export_batch = scripted_export,
        .destroy = scripted_destroy,
    };
    static const otelc_exporter_ops_t no_destroy_ops = {
        .version = OTELC_EXPORTER_INTERFACE_VERSION,
        .name = "half",
        .signals = OTELC_SIGNAL_LOGS,
        .export_batch = scripted_export,
    };
    scripted_t old = { .base = { &old_ops }, .accept = SIZE_MAX };
    scripted_t half = { .base = { &no_destroy_ops }, .accept = SIZE_MAX };
    scripted_t good = { .base = { &scripted_ops }, .accept = SIZE_MAX };
    otelc_exporter_t *list[] = { &old.base, &half.base, &good.base };
    otelc_stats_t st;
    char want[200];
    const char *err;

    (void)state;
    capture_begin();
    start_with(list, 3);
    st = log_and_settle(10);
    otelc_shutdown(1000);
    err = capture_end();

    snprintf(want, sizeof(want),
             "an exporter built for exporter interface version %u was refused: this otelc has "
             "version %u",
             OTELC_EXPORTER_INTERFACE_VERSION - 1, OTELC_EXPORTER_INTERFACE_VERSION);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "exporter 'half' was refused: its table has no destroy"));
    assert_int_equal(old.seen, 0);
    assert_false(old.destroyed);
    assert_int_equal(half.seen, 0);
    assert_int_equal(good.seen, 10);
    assert_int_equal(st.logs.exported, 10);
}

/* Every reason has its name, and the stats line shows each one counted. */
static void reason_names(void **state)
{
    otelc_stats_t st;
    char line[512];

    (void)state;
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_REJECTED), "rejected");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_NOMEM), "nomem");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_LIMIT), "limit");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_REASONS), "unknown");
    memset(&st, 0, sizeof(st));
    st.spans.produced = OTELC_DROP_REASONS;
    for (int r = 0; r < OTELC_DROP_REASONS; r++)
        st.spans.dropped[r] = 1;
    otelc_stats_format(&st, line, sizeof(line));
    for (int r = 0; r < OTELC_DROP_REASONS; r++) {
        char want[40];
        snprintf(want, sizeof(want), "%s=1", otelc_drop_reason_str((otelc_drop_reason_t)r));
        assert_non_null(strstr(line, want));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(partial_success_counts_rejected),
        cmocka_unit_test(rejected_is_bounded_by_what_was_missed),
        cmocka_unit_test(retryable_failure_is_exporter),
        cmocka_unit_test(worst_exporter_settles),
        cmocka_unit_test(other_interface_version_refused),
        cmocka_unit_test(reason_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
