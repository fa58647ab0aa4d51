/* Checks the capture exporter used by the other tests against a known flow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capture_exporter.h"

static void capture_sees_span_and_log(void **state)
{
    cap_exporter_t cap;
    otelc_options_t o;
    (void)state;
    cap_init(&cap, true);
    cap_options(&o, &cap);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    {
        OTELC_SPAN("outer", OTELC_INT("n", 7));
        OTELC_INFO(otelc_logger("t"), "hello", OTELC_STR("k", "v"));
    }
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_true(cap_wait(&cap, OTELC_SIGNAL_TRACES, 1, 5000));
    const cap_record_t *s = cap_find(&cap, OTELC_SIGNAL_TRACES, "outer");
    const cap_record_t *l = cap_find(&cap, OTELC_SIGNAL_LOGS, "hello");
    assert_non_null(s);
    assert_non_null(l);
    assert_string_equal(cap_attr(s, "n"), "7");
    assert_string_equal(cap_attr(l, "k"), "v");
    assert_memory_equal(l->ctx.span_id, s->ctx.span_id, 8);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    assert_true(cap.destroyed_flag);
    cap_free(&cap);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(capture_sees_span_and_log) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
