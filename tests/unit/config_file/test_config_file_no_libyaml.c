/*
 * test_config_file_no_libyaml.c: a machine without libyaml.
 *
 * The core does not link libyaml; it loads it when a config file is first
 * read. Here the name it loads by names no library, as on a machine where
 * libyaml-0-2 is not installed: OTEL_CONFIG_FILE must be refused with
 * OTELC_ERR_UNSUPPORTED and one diagnostic that says why and what to
 * install, the options must come from the defaults, and otelc must still
 * start and export. (A process of its own: the library is loaded once per
 * process.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <otelc/otelc.h>

#include "capture_stderr.h"
#include "config_file.h"

static void refused_with_reason(void **state)
{
    char path[] = "/tmp/otelc-no-libyaml-XXXXXX";
    const char *text = "file_format: \"1.0\"\nresource:\n  attributes:\n"
                       "    - {name: service.name, value: from-the-file}\n";
    otelc_options_t o;
    otelc_status_t st;
    const char *err;
    int fd;

    (void)state;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);

    otelc__yaml_set_soname("libyaml-not-installed.so.0");
    setenv("OTEL_CONFIG_FILE", path, 1);
    capture_begin();
    st = otelc_options_init(&o);
    err = capture_end();
    unlink(path);

    assert_int_equal(st, OTELC_ERR_UNSUPPORTED);
    assert_non_null(strstr(err, "cannot read the configuration file '"));
    assert_non_null(strstr(err, "libyaml (libyaml-not-installed.so.0) is not installed"));
    assert_non_null(strstr(err, "install libyaml-0-2"));
    assert_null(o.config_file);
    assert_true(o.service_name == NULL || strcmp(o.service_name, "from-the-file") != 0);

    /* And the program goes on. */
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    assert_int_equal(otelc_init(&o), OTELC_OK);
    assert_int_equal(otelc_shutdown(1000), OTELC_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(refused_with_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
