/*
 * capture_stderr.h: stderr redirected to a temporary file while a test makes
 * otelc report something, and read back once restored, so that cmocka's own
 * output is not caught. Include after <cmocka.h>; one capture at a time.
 */
#ifndef OTELC_TEST_CAPTURE_STDERR_H
#define OTELC_TEST_CAPTURE_STDERR_H

#include <stdio.h>
#include <unistd.h>

static int capture_saved_stderr = -1;
static FILE *capture_file;
static char captured[256 * 1024];

static __attribute__((unused)) void capture_begin(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    assert_non_null(capture_file);
    capture_saved_stderr = dup(STDERR_FILENO);
    assert_true(capture_saved_stderr >= 0);
    assert_int_equal(dup2(fileno(capture_file), STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr and returns what was written meanwhile (in `captured`,
 * up to its size). It is also shown with the test's output, so that a
 * failure is easy to read. */
static __attribute__((unused)) const char *capture_end(void)
{
    size_t n;

    fflush(stderr);
    dup2(capture_saved_stderr, STDERR_FILENO);
    close(capture_saved_stderr);
    rewind(capture_file);
    n = fread(captured, 1, sizeof(captured) - 1, capture_file);
    captured[n] = '\0';
    fclose(capture_file);
    fputs(captured, stdout);
    return captured;
}

#endif /* OTELC_TEST_CAPTURE_STDERR_H */
