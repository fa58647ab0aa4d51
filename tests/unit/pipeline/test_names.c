/*
 * test_names.c: every span comes out with its own name. The pipeline keeps
 * one copy of each name it sees often (a table of 1,024 slots, names of up
 * to 55 bytes, compared by their first and last words and the middle), so
 * the names here are chosen to trip that: lengths 2 to 81, names that
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

#include "core.h"

#include <otelc/otelc.h>
#include <pthread.h>

#define N_NAMES 3000

/* An exporter that keeps span names only (the capture exporter of the
 * other tests keeps 150 KB a record: too slow for 6,000 under ASan). */
typedef struct names_exporter {
    otelc_exporter_t base;
    pthread_mutex_t mu;
    char (*names)[96];
    size_t n, cap;
} names_exporter_t;

static names_exporter_t got;

static otelc_status_t names_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                   uint32_t timeout_ms, otelc_export_result_t *result)
{
    names_exporter_t *e = (names_exporter_t *)self;
    (void)timeout_ms;
    (void)result;
    pthread_mutex_lock(&e->mu);
    for (size_t i = 0; b->signal == OTELC_SIGNAL_TRACES && i < b->n && e->n < e->cap; i++) {
        size_t len = b->spans[i].name.len < 95 ? b->spans[i].name.len : 95;
        memcpy(e->names[e->n], b->spans[i].name.ptr, len);
        e->names[e->n][len] = 0;
        e->n++;
    }
    pthread_mutex_unlock(&e->mu);
    return OTELC_OK;
}

/* The test owns the exporter's memory. */
static void names_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t names_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "names",
    .signals = OTELC_SIGNAL_TRACES,
    .export_batch = names_export,
    .destroy = names_destroy,
};

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
    static char kept[2 * N_NAMES][96];
    static unsigned seen[N_NAMES];
    static otelc_exporter_t *list[1];
    otelc_options_t o;

    got.base.ops = &names_ops;
    got.names = kept;
    got.cap = 2 * N_NAMES;
    got.n = 0;
    pthread_mutex_init(&got.mu, NULL);
    otelc_options_default(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    list[0] = &got.base;
    o.exporters = list;
    o.n_exporters = 1;
    assert_int_equal(otelc_init(&o), OTELC_OK);
    for (int i = 0; i < N_NAMES; i++) {
        otelc_span_t s;
        name_of(i, names[i]);
        s = otelc_span_start(names[i], NULL, 0);
        otelc_span_end(&s);
    }
    /* And each once more, so that names found in the table are used. */
    for (int i = 0; i < N_NAMES; i++) {
        otelc_span_t s = otelc_span_start(names[i], NULL, 0);
        otelc_span_end(&s);
    }
    assert_int_equal(otelc_flush(30000), OTELC_OK);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    assert_int_equal(got.n, 2 * N_NAMES);
    /* Names are distinct by construction (name_of); a name is found by its
     * number: the length and the base-26 digits give it back. */
    memset(seen, 0, sizeof(seen));
    for (size_t k = 0; k < got.n; k++) {
        int found = -1;
        size_t len = strlen(kept[k]);
        for (int i = (int)((len + 78) % 80); i < N_NAMES && found < 0; i += 80)
            if (strcmp(kept[k], names[i]) == 0)
                found = i;
        if (found < 0)
            fail_msg("a span named '%s' that was never started", kept[k]);
        seen[found]++;
    }
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

static int teardown(void **state)
{
    (void)state;
    (void)otelc_shutdown(5000);
    if (otelc__tls != NULL)
        otelc__frames_pop_to(otelc__tls, 1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_names, teardown),
        cmocka_unit_test_teardown(test_names_second_session, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
