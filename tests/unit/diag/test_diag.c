/*
 * test_diag.c: the line format, the level threshold and the per-key rate
 * limit of otelc's own diagnostics.
 *
 * stderr is redirected to a temporary file around each block of reports and
 * read back after it is restored, so that cmocka's own output is not
 * captured. One test waits out the 10-second interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"

#include "capture_stderr.h"

static int reset(void **state)
{
    (void)state;
    otelc__diag_set_level(OTELC_DIAG_WARN);
    otelc__diag_reset();
    return 0;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static void test_line_format(void **state)
{
    const char *out;

    (void)state;
    otelc__diag_set_level(OTELC_DIAG_DEBUG);
    capture_begin();
    otelc__diag(OTELC_DIAG_ERROR, "t.error", "exporter %s failed: %d", "otlp", 7);
    otelc__diag(OTELC_DIAG_WARN, "t.warn", "queue full");
    otelc__diag(OTELC_DIAG_INFO, "t.info", "started");
    otelc__diag(OTELC_DIAG_DEBUG, "t.debug", "ring %u bytes", 4096u);
    out = capture_end();
    assert_string_equal(out, "otelc: error: exporter otlp failed: 7\n"
                             "otelc: warning: queue full\n"
                             "otelc: info: started\n"
                             "otelc: debug: ring 4096 bytes\n");
    assert_int_equal(otelc__diag_count(), 4);
}

static void test_threshold(void **state)
{
    const char *out;

    (void)state;
    assert_int_equal(otelc__diag_level(), OTELC_DIAG_WARN);
    capture_begin();
    otelc__diag(OTELC_DIAG_INFO, "t.info", "hidden");
    otelc__diag(OTELC_DIAG_DEBUG, "t.debug", "hidden");
    otelc__diag(OTELC_DIAG_WARN, "t.warn", "shown");
    otelc__diag_set_level(OTELC_DIAG_NONE);
    otelc__diag(OTELC_DIAG_ERROR, "t.error", "hidden");
    out = capture_end();
    assert_string_equal(out, "otelc: warning: shown\n");
    assert_int_equal(otelc__diag_count(), 1);

    /* Out-of-range levels are clamped. */
    otelc__diag_set_level(-3);
    assert_int_equal(otelc__diag_level(), OTELC_DIAG_NONE);
    otelc__diag_set_level(99);
    assert_int_equal(otelc__diag_level(), OTELC_DIAG_DEBUG);
}

static void test_rate_limit_per_key(void **state)
{
    char key_a[] = "t.same";
    char key_b[] = "t.same";
    const char *out;

    (void)state;
    capture_begin();
    for (int i = 0; i < 100; i++)
        otelc__diag(OTELC_DIAG_WARN, "t.repeated", "attempt %d", i);
    /* Keys are compared by content, not by address. */
    otelc__diag(OTELC_DIAG_WARN, key_a, "first");
    otelc__diag(OTELC_DIAG_WARN, key_b, "second");
    otelc__diag(OTELC_DIAG_WARN, "t.other", "other");
    /* A NULL key is a key like any other. */
    otelc__diag(OTELC_DIAG_WARN, NULL, "null 1");
    otelc__diag(OTELC_DIAG_WARN, NULL, "null 2");
    out = capture_end();
    assert_string_equal(out, "otelc: warning: attempt 0\n"
                             "otelc: warning: first\n"
                             "otelc: warning: other\n"
                             "otelc: warning: null 1\n");
    assert_int_equal(otelc__diag_count(), 4);

    /* A reset forgets the keys and the count. */
    otelc__diag_reset();
    assert_int_equal(otelc__diag_count(), 0);
    capture_begin();
    otelc__diag(OTELC_DIAG_WARN, "t.repeated", "again");
    out = capture_end();
    assert_string_equal(out, "otelc: warning: again\n");
}

/* Past 64 keys in one interval, the others share one global slot. */
static void test_table_full(void **state)
{
    char key[32];
    const char *out;

    (void)state;
    capture_begin();
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "t.key%d", i);
        otelc__diag(OTELC_DIAG_WARN, key, "key %d", i);
    }
    out = capture_end();
    assert_int_equal(count_lines(out), 65);
    assert_non_null(strstr(out, "otelc: warning: key 63\n"));
    assert_non_null(strstr(out, "otelc: warning: key 64\n"));
    assert_null(strstr(out, "otelc: warning: key 65\n"));
    assert_int_equal(otelc__diag_count(), 65);
}

static void test_long_message_cut(void **state)
{
    static char long_text[4000];
    const char *out;
    size_t len;

    (void)state;
    memset(long_text, 'x', sizeof(long_text) - 1);
    capture_begin();
    otelc__diag(OTELC_DIAG_WARN, "t.long", "%s", long_text);
    out = capture_end();
    len = strlen(out);
    assert_int_equal(len, 1023);
    assert_int_equal(strncmp(out, "otelc: warning: xxx", 19), 0);
    assert_string_equal(out + len - 4, "...\n");
}

/* A message that embeds a hostile value stays one line: control bytes are
 * written as escapes, so they can neither forge a second line nor send a
 * terminal escape. */
static void test_control_bytes_escaped(void **state)
{
    const char *out;

    (void)state;
    capture_begin();
    otelc__diag(OTELC_DIAG_WARN, "t.escape", "bad value '%s'",
                "\x1b[31mred\notelc: error: forged\r\t\x7f\xc2\x9b!");
    out = capture_end();
    assert_string_equal(out, "otelc: warning: bad value "
                             "'\\x1b[31mred\\notelc: error: forged\\r\\t\\x7f\\x9b!'\n");
    assert_int_equal(count_lines(out), 1);
    assert_null(strchr(out, '\x1b'));
}

/* The copy for values also escapes the backslash, keeps UTF-8, and cuts
 * between escapes with "..." when the buffer is short. */
static void test_escape_value(void **state)
{
    char buf[16];

    (void)state;
    assert_string_equal(otelc__diag_escape("a\\b\x01", 4, buf, sizeof(buf)), "a\\\\b\\x01");
    assert_string_equal(otelc__diag_escape("gr\xc3\xbc\xc3\x9f", 6, buf, sizeof(buf)),
                        "gr\xc3\xbc\xc3\x9f");
    /* Exactly 15 bytes fit whole; one more is cut. */
    assert_string_equal(otelc__diag_escape("0123456789abcde", 15, buf, sizeof(buf)),
                        "0123456789abcde");
    assert_string_equal(otelc__diag_escape("0123456789abcdef", 16, buf, sizeof(buf)),
                        "0123456789ab...");
    /* An escape that does not fit is left out whole. */
    assert_string_equal(otelc__diag_escape("0123456789\x1b\x1b", 12, buf, sizeof(buf)),
                        "0123456789...");
    /* A NUL inside the n bytes is shown, not taken as the end. */
    assert_string_equal(otelc__diag_escape("a\0b", 3, buf, sizeof(buf)), "a\\x00b");
}

static void test_errno_preserved(void **state)
{
    (void)state;
    capture_begin();
    errno = ERANGE;
    otelc__diag(OTELC_DIAG_WARN, "t.errno", "message");
    assert_int_equal(errno, ERANGE);
    errno = EAGAIN;
    otelc__diag(OTELC_DIAG_WARN, "t.errno", "suppressed");
    assert_int_equal(errno, EAGAIN);
    (void)capture_end();
}

typedef struct worker {
    int id;
} worker_t;

static void *worker_main(void *arg)
{
    const worker_t *w = arg;
    char key[32];

    for (int round = 0; round < 500; round++) {
        for (int k = 0; k < 8; k++) {
            snprintf(key, sizeof(key), "t.thread%d.key%d", w->id, k);
            otelc__diag(OTELC_DIAG_WARN, key, "thread %d key %d round %d", w->id, k, round);
        }
    }
    return NULL;
}

/* 8 threads x 8 keys = 64 keys, each printed exactly once, lines intact. */
static void test_threads(void **state)
{
    pthread_t threads[8];
    worker_t workers[8];
    const char *out, *line;
    char expected[64];

    (void)state;
    capture_begin();
    for (int i = 0; i < 8; i++) {
        workers[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);
    out = capture_end();
    assert_int_equal(count_lines(out), 64);
    assert_int_equal(otelc__diag_count(), 64);
    for (int i = 0; i < 8; i++) {
        for (int k = 0; k < 8; k++) {
            snprintf(expected, sizeof(expected), "otelc: warning: thread %d key %d round ", i, k);
            line = strstr(out, expected);
            assert_non_null(line);
            assert_true(line == out || line[-1] == '\n');
        }
    }
}

/* The next report after the interval tells how many were suppressed. */
static void test_suppressed_count_after_interval(void **state)
{
    struct timespec wait = { 0, 300 * 1000 * 1000 };
    const char *out;

    (void)state;
    otelc__diag_set_interval_ms(200);
    capture_begin();
    otelc__diag(OTELC_DIAG_WARN, "t.slow", "report 0");
    for (int i = 1; i <= 5; i++)
        otelc__diag(OTELC_DIAG_WARN, "t.slow", "report %d", i);
    while (nanosleep(&wait, &wait) != 0 && errno == EINTR)
        ;
    otelc__diag(OTELC_DIAG_WARN, "t.slow", "report 6");
    otelc__diag(OTELC_DIAG_WARN, "t.slow", "report 7");
    out = capture_end();
    otelc__diag_set_interval_ms(10000);
    assert_string_equal(out, "otelc: warning: report 0\n"
                             "otelc: warning: report 6 (5 similar suppressed)\n");
}

#define T(f) cmocka_unit_test_setup_teardown(f, reset, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_line_format),
        T(test_threshold),
        T(test_rate_limit_per_key),
        T(test_table_full),
        T(test_long_message_cut),
        T(test_control_bytes_escaped),
        T(test_escape_value),
        T(test_errno_preserved),
        T(test_threads),
        T(test_suppressed_count_after_interval),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
