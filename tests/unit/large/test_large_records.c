/*
 * test_large_records.c: records larger than a quarter of a thread's ring.
 * Up to the bound of large records (16 MiB) they are exported whole: a
 * 10 MB attribute value, a 10 MB message, an array of 100,000 numbers.
 * Beyond it they are shortened visibly: counted as truncated, reported,
 * and an attribute that still does not fit is left out and counted in the
 * record's dropped attributes.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <otelc/otelc.h>

#include "diag.h"
#include "large.h"

#define BIG (10u * 1000u * 1000u)

/* What the exporter saw of one record: checked in export(), since the
 * batch is valid only then. */
typedef struct seen {
    int signal;
    char name[32];
    size_t body_len;
    bool body_ok;
    size_t value_len; /* of attribute "v" (string) or "a" (int array) */
    bool value_ok;
    uint32_t n_attrs, dropped_attrs;
    uint32_t n_events;
    size_t event_value_len;
    bool event_value_ok;
} seen_t;

static seen_t seen[16];
static size_t n_seen;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* The pattern every big value is made of: byte i is 'a' + i % 26. */
static char *pattern(size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    s[n] = 0;
    return s;
}

static bool is_pattern(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != (char)('a' + i % 26))
            return false;
    return true;
}

static void look_at_attrs(seen_t *w, const otelc_attr_t *attrs, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const otelc_attr_t *a = &attrs[i];
        if (strcmp(a->key, "v") == 0 && a->type == OTELC_ATTR_STRING) {
            w->value_len = a->len;
            w->value_ok = is_pattern(a->v.s, a->len);
        } else if (strcmp(a->key, "a") == 0 && a->type == OTELC_ATTR_INT_ARRAY) {
            w->value_len = a->len;
            w->value_ok = true;
            for (size_t j = 0; j < a->len; j++)
                if (a->v.ia[j] != (int64_t)j * 3)
                    w->value_ok = false;
        }
    }
}

static otelc_status_t look_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                  uint32_t timeout_ms, otelc_export_result_t *result)
{
    (void)self;
    (void)timeout_ms;
    (void)result;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < b->n && n_seen < 16; i++) {
        seen_t *w = &seen[n_seen++];
        memset(w, 0, sizeof(*w));
        w->signal = b->signal;
        if (b->signal == OTELC_SIGNAL_LOGS) {
            const otelc_log_data_t *l = &b->logs[i];
            snprintf(w->name, sizeof(w->name), "%.*s", (int)(l->body.len < 8 ? l->body.len : 8),
                     l->body.ptr);
            w->body_len = l->body.len;
            w->body_ok = is_pattern(l->body.ptr, l->body.len);
            look_at_attrs(w, l->attrs, l->n_attrs);
            w->n_attrs = l->n_attrs;
            w->dropped_attrs = l->dropped_attrs;
        } else {
            const otelc_span_data_t *s = &b->spans[i];
            snprintf(w->name, sizeof(w->name), "%s", s->name.ptr);
            look_at_attrs(w, s->attrs, s->n_attrs);
            w->n_attrs = s->n_attrs;
            w->dropped_attrs = s->dropped_attrs;
            w->n_events = s->n_events;
            if (s->n_events == 1) {
                seen_t ev = { 0 };
                look_at_attrs(&ev, s->events[0].attrs, s->events[0].n_attrs);
                w->event_value_len = ev.value_len;
                w->event_value_ok = ev.value_ok;
            }
        }
    }
    pthread_mutex_unlock(&mu);
    return OTELC_OK;
}

static void look_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t look_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "look",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = look_export,
    .destroy = look_destroy,
};
static otelc_exporter_t look = { &look_ops };

static otelc_logger_t *lg;

static int setup(void **state)
{
    (void)state;
    otelc_exporter_t *list[1] = { &look };
    otelc_options_t o;

    otelc_options_default(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    o.exporters = list;
    o.n_exporters = 1;
    o.ring_size = 1u << 20; /* records over 256 KiB take the large path */
    n_seen = 0;
    assert_int_equal(otelc_init(&o), OTELC_OK);
    lg = otelc_logger("large");
    otelc__diag_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    (void)otelc_shutdown(5000);
    return 0;
}

static void ten_mb_value_and_message_whole(void **state)
{
    (void)state;
    char *big = pattern(BIG);
    otelc_stats_t st;

    otelc_log(lg, OTELC_SEV_INFO, NULL, "value", OTELC_NUL_TERMINATED,
              (otelc_attr_t[]){ OTELC_STRN("v", big, BIG) }, 1);
    otelc_log(lg, OTELC_SEV_INFO, NULL, big, BIG, NULL, 0);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats(&st);

    assert_int_equal(n_seen, 2);
    assert_string_equal(seen[0].name, "value");
    assert_int_equal(seen[0].value_len, BIG);
    assert_true(seen[0].value_ok);
    assert_int_equal(seen[0].dropped_attrs, 0);
    assert_int_equal(seen[1].body_len, BIG);
    assert_true(seen[1].body_ok);
    assert_int_equal(st.logs.exported, 2);
    assert_int_equal(st.logs.truncated, 0);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    free(big);
}

static void array_of_100000_numbers_whole(void **state)
{
    (void)state;
    size_t n = 100000;
    int64_t *a = malloc(n * sizeof(*a));
    otelc_stats_t st;

    assert_non_null(a);
    for (size_t i = 0; i < n; i++)
        a[i] = (int64_t)i * 3;
    otelc_attr_t attr = { "a", OTELC_ATTR_INT_ARRAY, 0, n, { .ia = a } };
    otelc_log(lg, OTELC_SEV_WARN, NULL, "array", OTELC_NUL_TERMINATED, &attr, 1);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(n_seen, 1);
    assert_int_equal(seen[0].value_len, n);
    assert_true(seen[0].value_ok);
    assert_int_equal(st.logs.exported, 1);
    assert_int_equal(st.logs.dropped[OTELC_DROP_INVALID], 0);
    free(a);
}

static void span_and_event_values_whole(void **state)
{
    (void)state;
    char *big = pattern(BIG);
    otelc_stats_t st;

    otelc_span_t s =
        otelc_span_start("big.span", (otelc_attr_t[]){ OTELC_STRN("v", big, BIG) }, 1);
    otelc_span_add_event(&s, "big.event", (otelc_attr_t[]){ OTELC_STRN("v", big, 2000000) }, 1);
    otelc_span_end(&s);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(n_seen, 1);
    assert_string_equal(seen[0].name, "big.span");
    assert_int_equal(seen[0].value_len, BIG);
    assert_true(seen[0].value_ok);
    assert_int_equal(seen[0].n_events, 1);
    assert_int_equal(seen[0].event_value_len, 2000000);
    assert_true(seen[0].event_value_ok);
    assert_int_equal(st.spans.exported, 1);
    assert_int_equal(st.spans.truncated, 0);
    free(big);
}

static void beyond_the_bound_shortened_and_counted(void **state)
{
    (void)state;
    size_t huge = OTELC__LARGE_RECORD_MAX + 4096;
    char *big = pattern(huge);
    size_t n = 3000000; /* 24 MB of numbers: cannot fit even shortened */
    int64_t *a = calloc(n, sizeof(*a));
    otelc_stats_t st;

    assert_non_null(a);
    otelc_log(lg, OTELC_SEV_INFO, NULL, big, huge, NULL, 0);
    otelc_attr_t attrs[2] = { OTELC_STRN("v", big, huge),
                              { "a", OTELC_ATTR_INT_ARRAY, 0, n, { .ia = a } } };
    otelc_log(lg, OTELC_SEV_INFO, NULL, "both", OTELC_NUL_TERMINATED, attrs, 2);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats(&st);

    assert_int_equal(n_seen, 2);
    /* The message, cut on the pattern's boundary, within a quarter ring. */
    assert_true(seen[0].body_len > 0);
    assert_true(seen[0].body_len <= (1u << 20) / 4);
    assert_true(seen[0].body_ok);
    /* The string is cut and kept; the array is left out and counted. */
    assert_string_equal(seen[1].name, "both");
    assert_true(seen[1].value_len > 0 && seen[1].value_len < huge);
    assert_true(seen[1].value_ok);
    assert_int_equal(seen[1].n_attrs, 1);
    assert_int_equal(seen[1].dropped_attrs, 1);
    assert_int_equal(st.logs.exported, 2);
    assert_int_equal(st.logs.truncated, 2);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    /* Reported, and shown in the summary line. */
    assert_true(otelc__diag_count() >= 1);
    char line[512];
    otelc_stats_format(&st, line, sizeof(line));
    assert_non_null(strstr(line, "truncated=2"));
    free(big);
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ten_mb_value_and_message_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(array_of_100000_numbers_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(span_and_event_values_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(beyond_the_bound_shortened_and_counted, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
