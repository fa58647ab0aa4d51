/*
 * test_join.c: the pipeline pairs every span's end with its start, whatever
 * the order spans end in and whichever drain reads them. Spans started in
 * one drain sit on a small stack (OPEN_STACK) and the rest in the table of
 * open spans; a span ended out of order leaves the middle of the stack, one
 * still open when its ring is done moves to the table. Each case checks
 * what a user sees: every span exported once with its own attributes,
 * events and parent, and the counters adding up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"
#include "core.h"
#include "pipeline.h"

/* More than the stack holds, so that both places are used in one drain. */
#define N_SPANS 40

static size_t spans_exported(void)
{
    size_t n = 0;
    for (size_t k = 0; k < cap.n; k++)
        n += cap.recs[k].signal == OTELC_SIGNAL_TRACES;
    return n;
}

static otelc_span_t start_child(int i, const otelc_span_context_t *parent)
{
    char name[16];
    otelc_span_options_t o = { 0 };
    otelc_attr_t a = OTELC_INT("i", i);

    snprintf(name, sizeof(name), "s%d", i);
    o.name = name;
    o.name_len = OTELC_NUL_TERMINATED;
    o.parent = parent;
    o.no_activate = true;
    o.attrs = &a;
    o.n_attrs = 1;
    return otelc_span_start_ex(&o);
}

static void add_ops(const otelc_span_t *s, int i)
{
    otelc_attr_t a = OTELC_INT("later", 100 + i);
    otelc_span_set_attrs(s, &a, 1);
    otelc_span_add_event(s, "step", NULL, 0);
}

/* Every s<i> exported once, its attributes and event its own, a child of
 * `parent`. */
static void check_children(const otelc_span_context_t *parent)
{
    for (int i = 0; i < N_SPANS; i++) {
        char name[16], want[16];
        const cap_record_t *r = NULL;
        int seen = 0;

        snprintf(name, sizeof(name), "s%d", i);
        for (size_t k = 0; k < cap.n; k++) {
            if (cap.recs[k].signal == OTELC_SIGNAL_TRACES && strcmp(cap.recs[k].name, name) == 0) {
                r = &cap.recs[k];
                seen++;
            }
        }
        if (seen != 1)
            fail_msg("span %s exported %d times", name, seen);
        snprintf(want, sizeof(want), "%d", i);
        assert_non_null(cap_attr(r, "i"));
        assert_string_equal(cap_attr(r, "i"), want);
        snprintf(want, sizeof(want), "%d", 100 + i);
        assert_non_null(cap_attr(r, "later"));
        assert_string_equal(cap_attr(r, "later"), want);
        assert_int_equal(r->n_events, 1);
        assert_string_equal(r->events[0], "step");
        assert_memory_equal(r->parent_span_id, parent->span_id, 8);
        assert_memory_equal(r->ctx.trace_id, parent->trace_id, 16);
        assert_true(r->end_ns >= r->start_ns);
    }
}

static void check_counts(uint64_t spans)
{
    otelc_stats_t st;

    otelc_stats(&st);
    assert_int_equal(st.spans.produced, spans);
    assert_int_equal(st.spans.exported, spans);
    assert_int_equal(otelc_signal_stats_dropped(&st.spans), 0);
    assert_int_equal(otelc__pipeline_open_spans(), 0);
}

/* All in one drain (the pipeline cannot take the rings while the registry
 * is held): 40 spans started, then ended in an order that is neither the
 * stack's nor the start order (i * 7 mod 40 goes through every i). */
static void test_out_of_order_in_one_drain(void **state)
{
    otelc_span_t parent, kids[N_SPANS];
    otelc_span_context_t pctx;

    (void)state;
    start(NULL);
    OTELC_INFO(otelc_logger("main"), "ready"); /* the thread's ring exists */
    sync_export();
    otelc__registry_lock();
    parent = otelc_span_start("parent", NULL, 0);
    pctx = parent.ctx;
    for (int i = 0; i < N_SPANS; i++)
        kids[i] = start_child(i, &pctx);
    for (int i = 0; i < N_SPANS; i++)
        add_ops(&kids[i], i);
    for (int i = 0; i < N_SPANS; i++)
        otelc_span_end(&kids[(i * 7) % N_SPANS]);
    otelc_span_end(&parent);
    otelc__registry_unlock();
    sync_export();
    assert_int_equal(spans_exported(), N_SPANS + 1);
    check_children(&pctx);
    check_counts(N_SPANS + 1);
}

/* Started in one drain, given attributes and ended in later ones, in
 * reverse order: every span went from the stack (or the table) of its
 * drain to the table, and is found there. */
static void test_across_drains(void **state)
{
    otelc_span_t parent, kids[N_SPANS];
    otelc_span_context_t pctx;

    (void)state;
    start(NULL);
    parent = otelc_span_start("parent", NULL, 0);
    pctx = parent.ctx;
    for (int i = 0; i < N_SPANS; i++)
        kids[i] = start_child(i, &pctx);
    sync_export();
    assert_int_equal(otelc__pipeline_open_spans(), N_SPANS + 1);
    for (int i = 0; i < N_SPANS; i++)
        add_ops(&kids[i], i);
    sync_export();
    for (int i = N_SPANS; i-- > 0;)
        otelc_span_end(&kids[i]);
    otelc_span_end(&parent);
    sync_export();
    assert_int_equal(spans_exported(), N_SPANS + 1);
    check_children(&pctx);
    check_counts(N_SPANS + 1);
}

/* Nested the usual way, each child ending before its parent, ten deep and
 * many times over in one drain: each end is the top of the stack. */
static void test_nested(void **state)
{
    (void)state;
    start(NULL);
    OTELC_INFO(otelc_logger("main"), "ready");
    sync_export();
    otelc__registry_lock();
    for (int round = 0; round < 50; round++) {
        otelc_span_t s[10];
        for (int d = 0; d < 10; d++) {
            char name[16];
            snprintf(name, sizeof(name), "d%d", d);
            s[d] = otelc_span_start(name, NULL, 0);
        }
        for (int d = 10; d-- > 0;)
            otelc_span_end(&s[d]);
    }
    otelc__registry_unlock();
    sync_export();
    assert_int_equal(spans_exported(), 500);
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        int d;
        if (r->signal != OTELC_SIGNAL_TRACES)
            continue;
        assert_int_equal(sscanf(r->name, "d%d", &d), 1);
        if (d == 0)
            continue;
        /* Its parent is the d-1 span of the same round: same trace, and
         * that span's id. */
        int found = 0;
        for (size_t j = 0; j < cap.n; j++) {
            const cap_record_t *p = &cap.recs[j];
            int pd;
            if (p->signal == OTELC_SIGNAL_TRACES &&
                memcmp(p->ctx.span_id, r->parent_span_id, 8) == 0) {
                assert_int_equal(sscanf(p->name, "d%d", &pd), 1);
                assert_int_equal(pd, d - 1);
                assert_memory_equal(p->ctx.trace_id, r->ctx.trace_id, 16);
                assert_true(p->start_ns <= r->start_ns && p->end_ns >= r->end_ns);
                found++;
            }
        }
        assert_int_equal(found, 1);
    }
    check_counts(500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_out_of_order_in_one_drain, teardown),
        cmocka_unit_test_teardown(test_across_drains, teardown),
        cmocka_unit_test_teardown(test_nested, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
