/*
 * test_names.c: every span comes out with its own name. The pipeline keeps
 * one copy of each name it sees often (a table of 1,024 slots, names of up
 * to 55 bytes, compared by their first and last words and the middle), so
 * the names here are chosen to trip that: lengths 1 to 80, names that
 * share their first and last eight bytes and differ only in the middle,
 * more distinct names than there are slots, the same names again in a
 * second session of the SDK.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"

#define N_NAMES 3000

/* Name number `i`, distinct from every other: its length runs through
 * 2..81; the number within its length, in base 26, fills a short name, and
 * from 18 bytes on only the middle: the first and last eight bytes are the
 * same for every name of a length. */
static void name_of(int i, char *out)
{
    size_t len = 2 + (size_t)(i % 80), from = 0, to = len;
    int v = i / 80;

    if (len >= 18) {
        memset(out, 'x', len);
        memcpy(out, "prefix__", 8);
        memcpy(out + len - 8, "__suffix", 8);
        from = 8;
        to = len - 8;
    }
    for (size_t k = from; k < to; k++) {
        out[k] = (char)('a' + v % 26);
        v /= 26;
    }
    out[len] = 0;
}

static void run_and_check(void)
{
    static char names[N_NAMES][96];
    static unsigned seen[N_NAMES];
    size_t exported = 0;

    start(NULL);
    for (int i = 0; i < N_NAMES; i++) {
        otelc_span_t s;
        name_of(i, names[i]);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(names[i], names[j]);
        s = otelc_span_start(names[i], NULL, 0);
        otelc_span_end(&s);
    }
    /* And each once more, so that names found in the table are used. */
    for (int i = 0; i < N_NAMES; i++) {
        otelc_span_t s = otelc_span_start(names[i], NULL, 0);
        otelc_span_end(&s);
    }
    sync_export();
    memset(seen, 0, sizeof(seen));
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        int found = -1;
        if (r->signal != OTELC_SIGNAL_TRACES)
            continue;
        exported++;
        for (int i = 0; i < N_NAMES && found < 0; i++)
            if (strcmp(r->name, names[i]) == 0)
                found = i;
        if (found < 0)
            fail_msg("a span named '%s' that was never started", r->name);
        seen[found]++;
    }
    assert_int_equal(exported, 2 * N_NAMES);
    for (int i = 0; i < N_NAMES; i++)
        if (seen[i] != 2)
            fail_msg("'%s' exported %u times, started twice", names[i], seen[i]);
}

static void test_names(void **state)
{
    (void)state;
    run_and_check();
}

/* A second session: the table outlives the first, and its names are the
 * same strings. */
static void test_names_second_session(void **state)
{
    (void)state;
    run_and_check();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_names, teardown),
        cmocka_unit_test_teardown(test_names_second_session, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
