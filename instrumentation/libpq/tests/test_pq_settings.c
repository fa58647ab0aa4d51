/*
 * test_pq_settings: the slow-statement threshold comes from the options
 * otelc runs with, the config file included (otelc.libpq.slow_query_ms),
 * as every otelc setting does. A process of its own: the threshold is read
 * once per process.
 */
#include <otelc/libpq.h>
#include <otelc/otelc.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

static void test_threshold_from_config_file(void **state)
{
    char path[] = "/tmp/otelc-pq-settings-XXXXXX";
    int fd = mkstemp(path);
    static const char yaml[] = "otelc:\n  libpq:\n    slow_query_ms: 123\n";

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), (ssize_t)(sizeof(yaml) - 1));
    close(fd);
    assert_int_equal(setenv("OTEL_CONFIG_FILE", path, 1), 0);
    assert_int_equal(setenv("OTEL_TRACES_EXPORTER", "none", 1), 0);
    assert_int_equal(setenv("OTEL_LOGS_EXPORTER", "none", 1), 0);
    assert_int_equal(otelc_init(NULL), OTELC_OK);
    assert_int_equal(otelc_pq_slow_query_threshold_ms(), 123);
    (void)otelc_shutdown(1000);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_from_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
