/*
 * test_handoff.c: otelc_thread_create() and otelc_task_t carry the
 * creator's context to another thread: the spans made there are children
 * of the creator's span, in its trace, and the logs carry its correlation
 * id and bound fields; the thread's own context is as before once the work
 * is done; nothing leaks when the thread ends by pthread_exit() or a task
 * is discarded (the ASan build checks).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"

static const cap_record_t *find(int signal, const char *name)
{
    const cap_record_t *r = cap_find(&cap, signal, name);
    if (r == NULL)
        fail_msg("'%s' was not exported", name);
    return r;
}

static void assert_child_of(const cap_record_t *child, const cap_record_t *parent)
{
    assert_memory_equal(child->ctx.trace_id, parent->ctx.trace_id, 16);
    assert_memory_equal(child->parent_span_id, parent->ctx.span_id, 8);
}

static const uint8_t zero_id[16];

/* What the new thread saw of its context before it made anything. */
typedef struct seen {
    otelc_span_context_t at_start;
    const char *correlation;
    char correlation_copy[64];
    bool exit_early; /* leave by pthread_exit() */
} seen_t;

static void *loader_main(void *arg)
{
    seen_t *s = arg;
    otelc_logger_t *lg = otelc_logger("handoff");
    const char *c;

    s->at_start = otelc_current_span_context();
    c = otelc_current_correlation_id();
    if (c != NULL)
        snprintf(s->correlation_copy, sizeof(s->correlation_copy), "%s", c);
    s->correlation = c != NULL ? s->correlation_copy : NULL;
    {
        OTELC_SPAN("load_book");
        OTELC_INFO(lg, "book loaded");
    }
    if (s->exit_early)
        pthread_exit(NULL);
    return s;
}

static void thread_starts_with_the_creators_context(void **state)
{
    pthread_t th;
    seen_t s = { 0 };
    otelc_span_context_t parent;
    void *ret = NULL;
    const cap_record_t *outer, *child, *log;

    (void)state;
    start(NULL);
    OTELC_CORRELATION("trade-77")
    {
        OTELC_BIND(OTELC_STR("account", "ACC-7"))
        {
            OTELC_SPAN("place_order");
            parent = otelc_current_span_context();
            assert_int_equal(otelc_thread_create(&th, NULL, loader_main, &s), 0);
            assert_int_equal(pthread_join(th, &ret), 0);
        }
    }
    assert_ptr_equal(ret, &s); /* fn's return value comes back through join */
    sync_export();
    assert_memory_equal(s.at_start.trace_id, parent.trace_id, 16);
    assert_memory_equal(s.at_start.span_id, parent.span_id, 8);
    assert_non_null(s.correlation);
    assert_string_equal(s.correlation, "trade-77");
    outer = find(OTELC_SIGNAL_TRACES, "place_order");
    child = find(OTELC_SIGNAL_TRACES, "load_book");
    log = find(OTELC_SIGNAL_LOGS, "book loaded");
    assert_child_of(child, outer);
    assert_memory_equal(log->ctx.span_id, child->ctx.span_id, 8);
    assert_string_equal(log->correlation, "trade-77");
    assert_non_null(cap_attr(log, "account"));
    assert_string_equal(cap_attr(log, "account"), "ACC-7");
}

/* A thread that leaves by pthread_exit() still gives its context back (no
 * leak under ASan), and its span was made in the creator's trace. */
static void thread_exit_releases_the_context(void **state)
{
    pthread_t th;
    seen_t s = { .exit_early = true };
    const cap_record_t *outer, *child;

    (void)state;
    start(NULL);
    {
        OTELC_SPAN("spawn");
        assert_int_equal(otelc_thread_create(&th, NULL, loader_main, &s), 0);
        assert_int_equal(pthread_join(th, NULL), 0);
    }
    sync_export();
    outer = find(OTELC_SIGNAL_TRACES, "spawn");
    child = find(OTELC_SIGNAL_TRACES, "load_book");
    assert_child_of(child, outer);
}

/* Without a span or the SDK, the thread starts with an empty context. */
static void thread_without_context(void **state)
{
    pthread_t th;
    seen_t s = { 0 };

    (void)state;
    assert_int_equal(otelc_thread_create(&th, NULL, loader_main, &s), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_memory_equal(s.at_start.trace_id, zero_id, 16);
    assert_null(s.correlation);
    start(NULL);
    assert_int_equal(otelc_thread_create(&th, NULL, loader_main, &s), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_memory_equal(s.at_start.trace_id, zero_id, 16);
    sync_export();
    /* Its span is a root of a trace of its own. */
    assert_memory_equal(find(OTELC_SIGNAL_TRACES, "load_book")->parent_span_id, zero_id, 8);
}

/* ---- tasks ---------------------------------------------------------------------------- */

typedef struct job {
    otelc_task_t task; /* embedded in the queue entry, as a pool would */
    int ran;
    otelc_span_context_t during;
} job_t;

static void handle_order(void *arg)
{
    job_t *j = arg;
    otelc_logger_t *lg = otelc_logger("handoff");

    j->ran++;
    j->during = otelc_current_span_context();
    OTELC_SPAN("handle_order");
    OTELC_INFO(lg, "order handled");
}

static void *pool_main(void *arg)
{
    job_t *jobs = arg;
    otelc_span_context_t before, after;

    before = otelc_current_span_context();
    for (int i = 0; i < 2; i++)
        otelc_task_run(&jobs[i].task);
    after = otelc_current_span_context();
    /* The worker's own (empty) context is back after each task. */
    assert_memory_equal(before.span_id, after.span_id, 8);
    return NULL;
}

static void tasks_carry_their_context(void **state)
{
    job_t jobs[3] = { { .ran = 0 } };
    pthread_t th;
    otelc_span_context_t a, b;

    (void)state;
    start(NULL);
    {
        OTELC_SPAN("submit_a");
        a = otelc_current_span_context();
        otelc_task_init(&jobs[0].task, handle_order, &jobs[0]);
    }
    OTELC_CORRELATION("trade-9")
    {
        OTELC_SPAN("submit_b");
        b = otelc_current_span_context();
        otelc_task_init(&jobs[1].task, handle_order, &jobs[1]);
        /* A task that will never run: discarded, its context released. */
        otelc_task_init(&jobs[2].task, handle_order, &jobs[2]);
        otelc_task_discard(&jobs[2].task);
    }
    assert_int_equal(pthread_create(&th, NULL, pool_main, jobs), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(jobs[0].ran, 1);
    assert_int_equal(jobs[1].ran, 1);
    assert_int_equal(jobs[2].ran, 0);
    assert_memory_equal(jobs[0].during.span_id, a.span_id, 8);
    assert_memory_equal(jobs[1].during.span_id, b.span_id, 8);
    assert_memory_equal(jobs[1].during.trace_id, b.trace_id, 16);
    sync_export();
    /* Each handle_order is a child of the span that submitted it. */
    size_t n = 0;
    for (size_t i = 0; i < cap.n; i++) {
        const cap_record_t *r = &cap.recs[i];
        if (r->signal != OTELC_SIGNAL_TRACES || strcmp(r->name, "handle_order") != 0)
            continue;
        n++;
        if (memcmp(r->parent_span_id, a.span_id, 8) == 0)
            assert_memory_equal(r->ctx.trace_id, a.trace_id, 16);
        else if (memcmp(r->parent_span_id, b.span_id, 8) == 0)
            assert_memory_equal(r->ctx.trace_id, b.trace_id, 16);
        else
            fail_msg("handle_order is not a child of a submitting span");
    }
    assert_int_equal(n, 2);
    /* Run again, a task has no context of its own: it runs in the calling
     * thread's. */
    {
        OTELC_SPAN("rerun");
        otelc_span_context_t here = otelc_current_span_context();
        otelc_task_run(&jobs[0].task);
        assert_memory_equal(jobs[0].during.span_id, here.span_id, 8);
    }
    assert_int_equal(jobs[0].ran, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(thread_starts_with_the_creators_context, teardown),
        cmocka_unit_test_teardown(thread_exit_releases_the_context, teardown),
        cmocka_unit_test_teardown(thread_without_context, teardown),
        cmocka_unit_test_teardown(tasks_carry_their_context, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
