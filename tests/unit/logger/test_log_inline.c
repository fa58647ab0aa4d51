/*
 * test_log_inline.c: the log macros' inline path (otelc/fast.h). A user
 * cannot tell it from the library's: the same calls made through it and
 * through a file built without it (log_inline_library.c) reach the exporter
 * as the same records (attributes, types, values, severity, scope, trace
 * and span ids), in and out of spans, across trace changes, with
 * correlation ids and bound fields (which the inline path leaves to the
 * library), under limits, through a ring that wraps and fills, and across a
 * stop and a new start. Every record is exported or counted as dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capture_session.h"
#include "log_inline_cases.h"

#include <inttypes.h>

static otelc_logger_t *lg;

static void inline_case(int64_t i, const char *s)
{
    LOG_INLINE_CASE(lg, "inline.case", i, s);
}

static void inline_short(int64_t i)
{
    OTELC_INFO(lg, "inline.short", OTELC_INT("qty", i));
}

/* Both records of call `i`: the inline one and the library's. */
static void pair(const char *inline_body, const char *library_body, int64_t i,
                 const cap_record_t **a, const cap_record_t **b)
{
    char want[32];

    snprintf(want, sizeof(want), "%" PRId64, i);
    *a = *b = NULL;
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        const char *q = cap_attr(r, "qty");
        if (r->signal != OTELC_SIGNAL_LOGS || q == NULL || strcmp(q, want) != 0)
            continue;
        if (strcmp(r->name, inline_body) == 0)
            *a = r;
        else if (strcmp(r->name, library_body) == 0)
            *b = r;
    }
    if (*a == NULL || *b == NULL)
        fail_msg("call %" PRId64 ": %s %s exported", i, *a ? "" : inline_body,
                 *b ? "" : library_body);
}

/* The two records of a call are the same record but for the body. */
static void assert_same(const cap_record_t *a, const cap_record_t *b)
{
    assert_int_equal(a->severity, b->severity);
    assert_string_equal(a->scope, b->scope);
    assert_string_equal(a->correlation, b->correlation);
    assert_memory_equal(a->ctx.trace_id, b->ctx.trace_id, 16);
    assert_memory_equal(a->ctx.span_id, b->ctx.span_id, 8);
    assert_int_equal(a->ctx.trace_flags, b->ctx.trace_flags);
    assert_int_equal(a->n_attrs, b->n_attrs);
    assert_int_equal(a->dropped_attrs, b->dropped_attrs);
    for (unsigned k = 0; k < a->n_attrs; k++) {
        assert_string_equal(a->attrs[k].key, b->attrs[k].key);
        assert_int_equal(a->attrs[k].type, b->attrs[k].type);
        assert_string_equal(a->attrs[k].value, b->attrs[k].value);
    }
    assert_true(a->start_ns > 0 && a->start_ns <= b->start_ns);
}

static void assert_logs_exact(void)
{
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.pending, 0);
    assert_int_equal(st.logs.produced, st.logs.exported + otelc_signal_stats_dropped(&st.logs));
}

/* Both paths, call i. */
static void both(int64_t i, const char *s)
{
    inline_case(i, s);
    log_inline_library_case(lg, i, s);
}

static void check_both(int64_t i, const otelc_span_context_t *in)
{
    const cap_record_t *a, *b;

    pair("inline.case", "library.case", i, &a, &b);
    assert_same(a, b);
    if (in != NULL) {
        assert_memory_equal(a->ctx.trace_id, in->trace_id, 16);
        assert_memory_equal(a->ctx.span_id, in->span_id, 8);
    } else {
        static const uint8_t zero[24];
        assert_memory_equal(a->ctx.trace_id, zero, 16);
        assert_memory_equal(a->ctx.span_id, zero, 8);
    }
}

static void start_default(void)
{
    start(NULL);
    lg = otelc_logger("inline.test");
}

/* ---- the same records ------------------------------------------------------ */

static void inline_records_are_the_librarys(void **state)
{
    (void)state;
    char venue[64];
    otelc_span_context_t root, child, other;

    start_default();
    both(0, "XNAS"); /* the sites' first calls: the library learns their shapes */
#if OTELC__FAST && defined(__OPTIMIZE__)
    /* The thread's state is ready for the inline path now. */
    assert_int_equal(otelc__fast_v2.ready, otelc__fast_epoch_v2);
#endif
    both(1, "");
    {
        OTELC_SPAN("inline.root");
        root = otelc_current_span_context();
        snprintf(venue, sizeof(venue), "a venue longer than sixteen bytes");
        both(2, venue);
        {
            OTELC_SPAN("inline.child");
            child = otelc_current_span_context();
            both(3, "BATS");
        }
        both(4, "ARCA"); /* the root's span again */
    }
    both(5, "IEX"); /* no span */
    {
        OTELC_SPAN("inline.other"); /* another trace: its id is written again */
        other = otelc_current_span_context();
        both(6, "EDGX");
        both(7, "EDGX");
    }
    sync_export();
    check_both(0, NULL);
    check_both(1, NULL);
    check_both(2, &root);
    check_both(3, &child);
    check_both(4, &root);
    check_both(5, NULL);
    check_both(6, &other);
    check_both(7, &other);
    {
        const cap_record_t *a, *b;
        pair("inline.case", "library.case", 2, &a, &b);
        assert_string_equal(cap_attr(a, "symbol"), "AAPL");
        assert_string_equal(cap_attr(a, "venue"), venue);
        assert_string_equal(cap_attr(a, "raw"), "a ");
        assert_string_equal(cap_attr(a, "note"), "");
        assert_string_equal(cap_attr(a, "buy"), "false");
        assert_string_equal(cap_attr(a, "neg"), "-2");
        assert_int_equal(a->severity, OTELC_SEV_WARN);
        assert_int_equal(a->n_attrs, 8);
    }
    assert_logs_exact();
}

/* Correlation ids and bound fields are the library's to write: the inline
 * path steps aside while they are set and comes back when they end. */
static void context_strings_and_attached_contexts(void **state)
{
    (void)state;
    otelc_span_context_t in;
    otelc_context_t *ctx;

    start_default();
    both(10, "A");
    OTELC_CORRELATION("ORD-42")
    {
        in = otelc_current_span_context(); /* the scope's own root span */
        both(11, "A");
        both(16, "A"); /* after the first call in a scope, the inline path */
        OTELC_BIND(OTELC_STR("desk", "fx"))
        {
            both(12, "A");
            both(17, "A");
        }
        both(13, "A");
        both(18, "A");
    }
    both(14, "A");
    {
        OTELC_SPAN("inline.captured");
        ctx = otelc_context_capture();
    }
    OTELC_ATTACHED(ctx)
    {
        both(15, "A");
        both(19, "A");
    }
    sync_export();
    check_both(10, NULL);
    check_both(11, &in);
    check_both(12, &in);
    check_both(13, &in);
    check_both(16, &in);
    check_both(17, &in);
    check_both(18, &in);
    check_both(14, NULL);
    {
        const cap_record_t *a, *b;
        otelc_span_context_t sc = otelc_context_span(ctx);
        pair("inline.case", "library.case", 11, &a, &b);
        assert_string_equal(a->correlation, "ORD-42");
        pair("inline.case", "library.case", 16, &a, &b);
        assert_string_equal(a->correlation, "ORD-42");
        pair("inline.case", "library.case", 12, &a, &b);
        assert_string_equal(cap_attr(a, "desk"), "fx");
        pair("inline.case", "library.case", 17, &a, &b);
        assert_string_equal(cap_attr(a, "desk"), "fx");
        assert_string_equal(a->correlation, "ORD-42");
        assert_string_equal(a->correlation, "ORD-42");
        pair("inline.case", "library.case", 13, &a, &b);
        assert_null(cap_attr(a, "desk"));
        pair("inline.case", "library.case", 14, &a, &b);
        assert_string_equal(a->correlation, "");
        check_both(15, &sc);
        check_both(19, &sc);
    }
    otelc_context_release(ctx);
    assert_logs_exact();
}

/* Correlation ids and bound fields of every length around what the inline
 * path copies itself (a context part of 256 bytes; longer ones are the
 * library's): the same records either way. */
static void correlation_ids_of_every_length(void **state)
{
    (void)state;
    char id[300];

    start_default();
    both(40, "A");
    for (int len = 1; len < (int)sizeof(id); len += 7) {
        memset(id, 'a' + len % 26, (size_t)len);
        id[len] = 0;
        OTELC_CORRELATION(id)
        {
            OTELC_BIND(OTELC_STR("desk", "fx"), OTELC_INT("book", len), OTELC_STR("memo", id))
            {
                both(1000 + len, "B"); /* the first call after a change: the library's */
                both(3000 + len, "B"); /* then the inline path's */
            }
            both(2000 + len, "C");
            both(4000 + len, "C");
        }
    }
    sync_export();
    for (int len = 1; len < (int)sizeof(id); len += 7) {
        const cap_record_t *a, *b;
        size_t want =
            (size_t)len < OTELC_CORRELATION_ID_MAX ? (size_t)len : OTELC_CORRELATION_ID_MAX;
        pair("inline.case", "library.case", 1000 + len, &a, &b);
        assert_same(a, b);
        assert_int_equal(strlen(a->correlation), want);
        assert_string_equal(cap_attr(a, "desk"), "fx");
        assert_int_equal(strlen(cap_attr(a, "memo")), (size_t)len);
        pair("inline.case", "library.case", 3000 + len, &a, &b);
        assert_same(a, b);
        assert_int_equal(strlen(a->correlation), want);
        assert_int_equal(strlen(cap_attr(a, "memo")), (size_t)len);
        pair("inline.case", "library.case", 2000 + len, &a, &b);
        assert_same(a, b);
        assert_int_equal(strlen(a->correlation), want);
        assert_null(cap_attr(a, "desk"));
        pair("inline.case", "library.case", 4000 + len, &a, &b);
        assert_same(a, b);
        assert_int_equal(strlen(a->correlation), want);
        assert_null(cap_attr(a, "desk"));
    }
    assert_logs_exact();
}

/* Limits: a value over the length limit is cut, attributes past the count
 * limit are dropped and counted, as the library does. */
static void limits(void **state)
{
    (void)state;
    otelc_options_t o;
    char longer[100];

    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = 0;
    /* 70 bytes: the inline path stays on and leaves a longer value to the
     * library. */
    opts(&o);
    o.log_limits.attribute_value_length = 70;
    start(&o);
    lg = otelc_logger("inline.test");
    both(20, longer);
    both(21, longer);
    both(22, "short");
    sync_export();
    {
        const cap_record_t *a, *b;
        pair("inline.case", "library.case", 21, &a, &b);
        assert_same(a, b);
        assert_int_equal(strlen(cap_attr(a, "venue")), 70);
        check_both(22, NULL);
    }
    assert_logs_exact();
    session_end(&cap);

    opts(&o);
    o.log_limits.attribute_count = 3;
    start(&o);
    lg = otelc_logger("inline.test");
    both(23, "B");
    both(24, "B");
    sync_export();
    {
        const cap_record_t *a, *b;
        pair("inline.case", "library.case", 24, &a, &b);
        assert_same(a, b);
        assert_int_equal(a->n_attrs, 3);
        assert_int_equal(a->dropped_attrs, 5);
    }
    assert_logs_exact();
}

/* A small ring that the records wrap around many times and may fill: the
 * calls that find no room are counted, every other one is exported whole. */
static void wrapping_and_full_ring(void **state)
{
    (void)state;
    otelc_options_t o;
    int64_t n = 2000; /* ~50 times round the ring */
    size_t seen = 0;
    otelc_stats_t st;

    opts(&o);
    o.ring_size = 4096;
    o.overflow = OTELC_OVERFLOW_DROP;
    start(&o);
    lg = otelc_logger("inline.test");
    {
        OTELC_SPAN("inline.ring");
        for (int64_t i = 0; i < n; i++)
            inline_short(i);
    }
    sync_export();
    otelc_stats(&st);
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        if (r->signal == OTELC_SIGNAL_LOGS && strcmp(r->name, "inline.short") == 0) {
            assert_non_null(cap_attr(r, "qty"));
            assert_int_equal(r->n_attrs, 1);
            seen++;
        }
    }
    assert_int_equal(st.logs.produced, (uint64_t)n);
    assert_int_equal(seen, st.logs.exported);
    assert_int_equal(st.logs.produced, st.logs.exported + st.logs.dropped[OTELC_DROP_QUEUE_FULL]);
    assert_logs_exact();
}

/* After a stop nothing is recorded; after a new start the inline path
 * writes into the new run's rings. */
static void stop_and_start_again(void **state)
{
    (void)state;
    const cap_record_t *a, *b;

    start_default();
    inline_short(30);
    log_inline_library_short(lg, 30);
    inline_short(31);
    log_inline_library_short(lg, 31);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    inline_short(32); /* stopped: not recorded, no crash */
    session_end(&cap);

    start_default();
    inline_short(33);
    log_inline_library_short(lg, 33);
    {
        OTELC_SPAN("inline.again");
        inline_short(34);
        log_inline_library_short(lg, 34);
    }
    sync_export();
    for (size_t k = 0; k < cap.n; k++) {
        const char *q = cap_attr(&cap.recs[k], "qty");
        assert_true(q == NULL || strcmp(q, "32") != 0);
    }
    pair("inline.short", "library.short", 33, &a, &b);
    assert_same(a, b);
    pair("inline.short", "library.short", 34, &a, &b);
    assert_same(a, b);
    assert_logs_exact();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(inline_records_are_the_librarys, teardown),
        cmocka_unit_test_teardown(context_strings_and_attached_contexts, teardown),
        cmocka_unit_test_teardown(correlation_ids_of_every_length, teardown),
        cmocka_unit_test_teardown(limits, teardown),
        cmocka_unit_test_teardown(wrapping_and_full_ring, teardown),
        cmocka_unit_test_teardown(stop_and_start_again, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
