/*
 * test_util.c: status strings, span context validity, hex encoding and
 * severity text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <otelc/common.h>
#include <otelc/log.h>

static void test_status_str(void **state)
{
    (void)state;
    assert_string_equal(otelc_status_str(OTELC_OK), "success");
    assert_string_equal(otelc_status_str(OTELC_ERR_TIMEOUT), "deadline passed");
    assert_string_equal(otelc_status_str(OTELC_ERR_NOMEM), "out of memory");
    /* Every known status has its own text; unknown ones share one. */
    for (int i = OTELC_OK; i <= OTELC_ERR_EXPORT; i++) {
        assert_non_null(otelc_status_str((otelc_status_t)i));
        assert_string_not_equal(otelc_status_str((otelc_status_t)i), "unknown status");
        for (int j = OTELC_OK; j < i; j++)
            assert_string_not_equal(otelc_status_str((otelc_status_t)i),
                                    otelc_status_str((otelc_status_t)j));
    }
    assert_string_equal(otelc_status_str((otelc_status_t)10), "unknown status");
    assert_string_equal(otelc_status_str((otelc_status_t)-1), "unknown status");
}

static void test_span_context_is_valid(void **state)
{
    otelc_span_context_t ctx;

    (void)state;
    memset(&ctx, 0, sizeof(ctx));
    assert_false(otelc_span_context_is_valid(NULL));
    assert_false(otelc_span_context_is_valid(&ctx));
    ctx.trace_id[15] = 1;
    assert_false(otelc_span_context_is_valid(&ctx));
    ctx.span_id[0] = 0x80;
    assert_true(otelc_span_context_is_valid(&ctx));
    ctx.trace_id[15] = 0;
    assert_false(otelc_span_context_is_valid(&ctx));
    /* Flags do not make an invalid context valid. */
    ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED;
    assert_false(otelc_span_context_is_valid(&ctx));
}

static void test_hex_encode(void **state)
{
    const uint8_t trace_id[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                   0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
    char out[33];

    (void)state;
    memset(out, '#', sizeof(out));
    assert_ptr_equal(otelc_hex_encode(trace_id, 16, out), out);
    assert_string_equal(out, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_string_equal(otelc_hex_encode(trace_id, 1, out), "4b");
    assert_string_equal(otelc_hex_encode(trace_id, 0, out), "");
    assert_string_equal(otelc_hex_encode((const uint8_t *)"\x00\xff\x0a", 3, out), "00ff0a");
    assert_null(otelc_hex_encode(trace_id, 16, NULL));
}

static void test_severity_text(void **state)
{
    static const char *const expected[25] = {
        "UNSPECIFIED", "TRACE",  "TRACE2", "TRACE3", "TRACE4", "DEBUG",  "DEBUG2",
        "DEBUG3",      "DEBUG4", "INFO",   "INFO2",  "INFO3",  "INFO4",  "WARN",
        "WARN2",       "WARN3",  "WARN4",  "ERROR",  "ERROR2", "ERROR3", "ERROR4",
        "FATAL",       "FATAL2", "FATAL3", "FATAL4",
    };

    (void)state;
    for (int i = 0; i <= 24; i++)
        assert_string_equal(otelc_severity_text(i), expected[i]);
    assert_string_equal(otelc_severity_text(OTELC_SEV_INFO), "INFO");
    assert_string_equal(otelc_severity_text(OTELC_SEV_OFF), "UNSPECIFIED");
    assert_string_equal(otelc_severity_text(-1), "UNSPECIFIED");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_str),
        cmocka_unit_test(test_span_context_is_valid),
        cmocka_unit_test(test_hex_encode),
        cmocka_unit_test(test_severity_text),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
