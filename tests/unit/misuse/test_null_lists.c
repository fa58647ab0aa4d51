/*
 * test_null_lists.c: every public function that takes a list and its
 * count reads a NULL list as empty, whatever the count, and says so once:
 * no crash, no bytes read from beside the NULL, the record still exported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"
#include "diag.h"

static otelc_logger_t *lg;

static int setup(void **state)
{
    (void)state;
    start(NULL);
    lg = otelc_logger("misuse");
    otelc__diag_reset();
    return 0;
}

static void null_message_with_a_length_is_empty(void **state)
{
    (void)state;
    otelc_log(lg, OTELC_SEV_INFO, NULL, NULL, 5, NULL, 0);
    sync_export();
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 1);
    assert_int_equal(cap.recs[0].body_len, 0);
    assert_string_equal(cap.recs[0].name, "");
}

static void null_log_attributes_with_a_count(void **state)
{
    (void)state;
    otelc_log(lg, OTELC_SEV_WARN, "ev", "body", OTELC_NUL_TERMINATED, NULL, 5);
    sync_export();
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 1);
    assert_string_equal(cap.recs[0].name, "body");
    assert_string_equal(cap.recs[0].event, "ev");
    assert_int_equal(cap.recs[0].n_attrs, 0);
    assert_int_equal(cap.recs[0].dropped_attrs, 0);
    assert_int_equal(otelc__diag_count(), 1);
}

static void null_span_lists_with_counts(void **state)
{
    (void)state;
    otelc_span_options_t o = { 0 };
    otelc_span_context_t peer;

    otelc_span_t a = otelc_span_start("a", NULL, 4);
    otelc_span_set_attrs(&a, NULL, 2);
    otelc_span_add_event(&a, "ev", NULL, 3);
    memset(&peer, 0, sizeof(peer));
    memset(peer.trace_id, 0x5a, 16);
    memset(peer.span_id, 0x5b, 8);
    otelc_span_add_link(&a, &peer, NULL, 2);
    otelc_span_end(&a);

    o.name = "b";
    o.name_len = OTELC_NUL_TERMINATED;
    o.attrs = NULL;
    o.n_attrs = 7;
    o.links = NULL;
    o.n_links = 9;
    otelc_span_t b = otelc_span_start_ex(&o);
    otelc_span_end(&b);
    sync_export();

    const cap_record_t *ra = cap_find(&cap, OTELC_SIGNAL_TRACES, "a");
    const cap_record_t *rb = cap_find(&cap, OTELC_SIGNAL_TRACES, "b");
    assert_non_null(ra);
    assert_non_null(rb);
    assert_int_equal(ra->n_attrs, 0);
    assert_int_equal(ra->n_events, 1);
    assert_string_equal(ra->events[0], "ev");
    assert_int_equal(ra->n_event_attrs[0], 0);
    assert_int_equal(ra->n_links, 1);
    assert_int_equal(rb->n_attrs, 0);
    assert_int_equal(rb->n_links, 0);
    assert_int_equal(rb->dropped_links, 0);
    /* One line per function (rate-limited by its name). */
    assert_int_equal(otelc__diag_count(), 6);
}

static void null_bound_fields_with_a_count(void **state)
{
    (void)state;
    otelc_token_t t = otelc_bind_begin(NULL, 3);
    OTELC_INFO(lg, "inside");
    otelc_bind_end(t);
    sync_export();
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_LOGS, "inside");
    assert_non_null(r);
    assert_int_equal(r->n_attrs, 0);
    assert_int_equal(otelc__diag_count(), 1);
}

static void null_option_lists_with_counts(void **state)
{
    (void)state;
    otelc_options_t o;

    /* The session of setup() is not wanted here. */
    session_end(&cap);
    otelc_options_default(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    o.exporters = NULL;
    o.n_exporters = 3;
    o.resource_attrs = NULL;
    o.n_resource_attrs = 2;
    otelc__diag_reset();
    assert_int_equal(otelc_init(&o), OTELC_OK);
    OTELC_INFO(lg, "nobody listens");
    assert_int_equal(otelc_flush(2000), OTELC_OK);
    assert_int_equal(otelc_shutdown(2000), OTELC_OK);
    assert_true(otelc__diag_count() >= 2);

    /* And the SDK starts again normally afterwards. */
    start(NULL);
    OTELC_INFO(lg, "again");
    sync_export();
    assert_non_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "again"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(null_message_with_a_length_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(null_log_attributes_with_a_count, setup, teardown),
        cmocka_unit_test_setup_teardown(null_span_lists_with_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(null_bound_fields_with_a_count, setup, teardown),
        cmocka_unit_test_setup_teardown(null_option_lists_with_counts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
