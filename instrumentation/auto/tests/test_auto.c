/*
 * test_auto.c: automatic function spans. The functions called here
 * (auto_workload.c, auto_other.c) are built with -finstrument-functions -g;
 * this file is not. Each test starts otelc with the capture exporter and the
 * library's settings given through otelc_options_set(), as a program would
 * set them, and checks the spans the calls made: names, parents, times,
 * files, and the filters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_session.h"

#include <otelc/auto.h>

#include "auto_internal.h"
#include "auto_workload.h"

static otelc_auto_stats_t base;

/* Starts otelc with the capture exporter and these auto settings (pairs of
 * name, value; NULL ends), and has the library read them at its next call. */
static void start_auto(const char *name, ...)
{
    otelc_options_t o;
    va_list ap;

    opts(&o);
    va_start(ap, name);
    while (name != NULL) {
        const char *value = va_arg(ap, const char *);
        assert_int_equal(otelc_options_set(&o, name, value), OTELC_OK);
        name = va_arg(ap, const char *);
    }
    va_end(ap);
    start(&o);
    otelc__auto_reset();
    otelc_auto_stats(&base);
}

/* What the library counted since start_auto() (the counters are the
 * process's). */
static otelc_auto_stats_t since_start(void)
{
    otelc_auto_stats_t st;

    otelc_auto_stats(&st);
    st.spans -= base.spans;
    st.short_calls -= base.short_calls;
    st.too_deep -= base.too_deep;
    st.unwound -= base.unwound;
    return st;
}

static size_t count_named(const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.n; i++)
        n += cap.recs[i].signal == OTELC_SIGNAL_TRACES && strcmp(cap.recs[i].name, name) == 0;
    return n;
}

static size_t count_spans(void)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.n; i++)
        n += cap.recs[i].signal == OTELC_SIGNAL_TRACES;
    return n;
}

/* The captured span whose id is `id`, or NULL. */
static const cap_record_t *by_id(const uint8_t *id)
{
    for (size_t i = 0; i < cap.n; i++) {
        if (cap.recs[i].signal == OTELC_SIGNAL_TRACES &&
            memcmp(cap.recs[i].ctx.span_id, id, OTELC_SPAN_ID_SIZE) == 0)
            return &cap.recs[i];
    }
    return NULL;
}

static const cap_record_t *parent(const cap_record_t *r)
{
    return by_id(r->parent_span_id);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && strcmp(s + a - b, tail) == 0;
}

static void assert_child(const cap_record_t *child, const cap_record_t *of)
{
    assert_non_null(child);
    assert_non_null(of);
    assert_memory_equal(child->parent_span_id, of->ctx.span_id, OTELC_SPAN_ID_SIZE);
    assert_memory_equal(child->ctx.trace_id, of->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    /* Inside the parent's time. */
    assert_true(child->start_ns >= of->start_ns);
    assert_true(child->end_ns <= of->end_ns);
    assert_true(child->start_ns <= child->end_ns);
}

/* The call tree of top_level(): top_level -> middle -> leaf, leaf; the
 * outermost call a child of the span that was active. */
static void test_call_tree(void **state)
{
    (void)state;
    start_auto(NULL);
    {
        OTELC_SPAN("request");
        assert_int_equal(top_level(3), 15);
    }
    sync_export();
    assert_int_equal(count_spans(), 5);
    const cap_record_t *req = cap_find(&cap, OTELC_SIGNAL_TRACES, "request");
    const cap_record_t *top = cap_find(&cap, OTELC_SIGNAL_TRACES, "top_level");
    const cap_record_t *mid = cap_find(&cap, OTELC_SIGNAL_TRACES, "middle");
    assert_child(top, req);
    assert_child(mid, top);
    assert_int_equal(count_named("leaf"), 2);
    for (size_t i = 0; i < cap.n; i++) {
        if (strcmp(cap.recs[i].name, "leaf") == 0)
            assert_child(&cap.recs[i], mid);
    }
    assert_int_equal(top->kind, OTELC_SPAN_KIND_INTERNAL);
    assert_string_equal(cap_attr(top, "code.function.name"), "top_level");
    /* A global function's file from DWARF (the full path), a static one's
     * from the symbol table. */
    assert_non_null(cap_attr(top, "code.file.path"));
    assert_true(ends_with(cap_attr(top, "code.file.path"), "/tests/auto_workload.c"));
    const cap_record_t *leaf = cap_find(&cap, OTELC_SIGNAL_TRACES, "leaf");
    assert_non_null(cap_attr(leaf, "code.file.path"));
    assert_true(ends_with(cap_attr(leaf, "code.file.path"), "auto_workload.c"));

    otelc_auto_stats_t st = since_start();
    assert_int_equal(st.spans, 4);
    assert_true(st.functions >= 10);
    assert_true(st.traced >= 10 && st.traced <= st.functions);
}

/* Recursion: fib(6) makes 25 calls, each a child of the call that made it. */
static void test_recursion(void **state)
{
    (void)state;
    start_auto(NULL);
    assert_int_equal(fib(6), 8);
    sync_export();
    assert_int_equal(count_named("fib"), 25);
    size_t roots = 0;
    for (size_t i = 0; i < cap.n; i++) {
        const cap_record_t *r = &cap.recs[i], *p = parent(r);
        if (p == NULL) {
            roots++;
            continue;
        }
        assert_string_equal(p->name, "fib");
        assert_child(r, p);
    }
    assert_int_equal(roots, 1);
    /* fib(6) -> fib(5) -> ... -> fib(1): the longest chain is 6 deep. */
    size_t deepest = 0;
    for (size_t i = 0; i < cap.n; i++) {
        size_t d = 1;
        for (const cap_record_t *p = parent(&cap.recs[i]); p != NULL; p = parent(p))
            d++;
        if (d > deepest)
            deepest = d;
    }
    assert_int_equal(deepest, 6);
}

/* Include: only the functions named; their parent the nearest traced call
 * or the active span. */
static void test_include(void **state)
{
    (void)state;
    start_auto("OTELC_AUTO_INCLUDE", "middle, leaf", NULL);
    {
        OTELC_SPAN("request");
        (void)top_level(1);
        (void)fib(3);
    }
    sync_export();
    assert_int_equal(count_spans(), 4);
    assert_int_equal(count_named("top_level"), 0);
    assert_int_equal(count_named("fib"), 0);
    assert_child(cap_find(&cap, OTELC_SIGNAL_TRACES, "middle"),
                 cap_find(&cap, OTELC_SIGNAL_TRACES, "request"));
    assert_int_equal(count_named("leaf"), 2);
}

/* Exclude, by name and by file (a static function's file from the symbol
 * table, a global one's from DWARF). */
static void test_exclude(void **state)
{
    (void)state;
    start_auto("OTELC_AUTO_EXCLUDE", "le?f,fib", NULL);
    (void)top_level(1);
    (void)fib(4);
    (void)calls_other(2);
    sync_export();
    assert_int_equal(count_named("leaf"), 0);
    assert_int_equal(count_named("fib"), 0);
    assert_int_equal(count_named("middle"), 1);
    assert_int_equal(count_named("other_square"), 1);
    session_end(&cap);

    start_auto("OTELC_AUTO_EXCLUDE", "file:auto_other.c", NULL);
    assert_int_equal(calls_other(3), 10);
    sync_export();
    assert_int_equal(count_named("other_square"), 0);
    assert_int_equal(count_named("calls_other"), 1);
    session_end(&cap);

    start_auto("OTELC_AUTO_INCLUDE", "file:*/tests/auto_other.c", NULL);
    (void)calls_other(3);
    (void)top_level(1);
    sync_export();
    assert_int_equal(count_spans(), 1);
    assert_int_equal(count_named("other_square"), 1);
}

/* The minimum duration: quick calls make no span; a slow one does, and so
 * does its caller (which lasted longer), the slow call its child. */
static void test_min_duration(void **state)
{
    (void)state;
    start_auto("OTELC_AUTO_MIN_US", "1000", NULL);
    (void)top_level(1); /* four quick calls */
    slow_parent(3000);  /* fast_child, slow_leaf (3 ms), fast_child */
    sync_export();
    assert_int_equal(count_spans(), 2);
    const cap_record_t *sp = cap_find(&cap, OTELC_SIGNAL_TRACES, "slow_parent");
    const cap_record_t *sl = cap_find(&cap, OTELC_SIGNAL_TRACES, "slow_leaf");
    assert_child(sl, sp);
    /* At least the 3 ms it ran by CLOCK_MONOTONIC, as otelc's TSC clock
     * reads it: its rate is measured over 2 ms at init, good to 0.1 %. */
    assert_true(sl->end_ns - sl->start_ns >= 3000000u - 3000u);
    assert_true(sl->end_ns - sl->start_ns < 3000000u + 50000000u);
    otelc_auto_stats_t st = since_start();
    assert_int_equal(st.short_calls, 6);
    assert_int_equal(st.spans, 2);
}

/* otelc's own inline functions, compiled into the program, make no span. */
static void test_no_sdk_functions(void **state)
{
    (void)state;
    start_auto(NULL);
    (void)uses_sdk_inline();
    sync_export();
    assert_int_equal(count_named("uses_sdk_inline"), 1);
    for (size_t i = 0; i < cap.n; i++)
        assert_true(strncmp(cap.recs[i].name, "otelc", 5) != 0);
    assert_int_equal(count_spans(), 1);
}

/* longjmp past two calls: their spans end when the call that caught it
 * returns, in the right tree. */
static void test_longjmp(void **state)
{
    (void)state;
    start_auto(NULL);
    assert_int_equal(catch_jump(), 1);
    sync_export();
    assert_int_equal(count_spans(), 3);
    const cap_record_t *c = cap_find(&cap, OTELC_SIGNAL_TRACES, "catch_jump");
    const cap_record_t *a = cap_find(&cap, OTELC_SIGNAL_TRACES, "jump_a");
    const cap_record_t *b = cap_find(&cap, OTELC_SIGNAL_TRACES, "jump_b");
    assert_child(a, c);
    assert_child(b, a);
    otelc_auto_stats_t st = since_start();
    assert_int_equal(st.unwound, 2);
    /* The stack is clean: the next call is a root again. */
    (void)fib(1);
    sync_export();
    assert_null(parent(cap_find(&cap, OTELC_SIGNAL_TRACES, "fib")));
}

static void *thread_tree(void *arg)
{
    (void)arg;
    (void)top_level(2);
    exit_inside(); /* pthread_exit() two calls deep */
    return NULL;
}

/* Threads: a thread started with otelc_thread_create() makes its calls'
 * spans children of the creator's span; the calls still open at
 * pthread_exit() end then. */
static void test_threads(void **state)
{
    pthread_t th;

    (void)state;
    start_auto(NULL);
    {
        OTELC_SPAN("creator");
        assert_int_equal(otelc_thread_create(&th, NULL, thread_tree, NULL), 0);
    }
    assert_int_equal(pthread_join(th, NULL), 0);
    sync_export();
    const cap_record_t *cr = cap_find(&cap, OTELC_SIGNAL_TRACES, "creator");
    const cap_record_t *tl = cap_find(&cap, OTELC_SIGNAL_TRACES, "top_level");
    /* The creator's span ended when the thread was started, not after its
     * calls: parent and trace, not times. */
    assert_non_null(tl);
    assert_memory_equal(tl->parent_span_id, cr->ctx.span_id, OTELC_SPAN_ID_SIZE);
    assert_memory_equal(tl->ctx.trace_id, cr->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    const cap_record_t *ei = cap_find(&cap, OTELC_SIGNAL_TRACES, "exit_inside");
    const cap_record_t *en = cap_find(&cap, OTELC_SIGNAL_TRACES, "exit_now");
    assert_non_null(ei);
    assert_child(en, ei);
    /* exit_inside's parent is not checked: its span is made at the
     * thread's exit, after otelc_thread_create() has detached the
     * creator's context (auto.h says so). */
    assert_int_equal(count_spans(), 7);
}

/* Past OTELC_AUTO_MAX_DEPTH calls are not followed, and counted. */
static void test_max_depth(void **state)
{
    (void)state;
    start_auto("OTELC_AUTO_MAX_DEPTH", "3", NULL);
    (void)fib(6);
    sync_export();
    otelc_auto_stats_t st = since_start();
    /* Depths 1-3 of fib(6)'s tree: 1 + 2 + 4 calls. */
    assert_int_equal(count_named("fib"), 7);
    assert_int_equal(st.too_deep, 25 - 7);
    (void)fib(2); /* the stack is back to its bottom */
    sync_export();
    assert_int_equal(count_named("fib"), 10);
}

/* Before otelc runs, and after it stops, calls cost nothing and make
 * nothing. */
static void test_sdk_off(void **state)
{
    (void)state;
    otelc__auto_reset();
    (void)top_level(1);
    start_auto(NULL);
    (void)top_level(1);
    sync_export();
    assert_int_equal(count_spans(), 4);
}

/* What the child saw, in memory shared with the parent. */
static uint8_t *child_parent_id;

/* In the child, inside fork_and_run(): calls of its own. */
static void child_work(void)
{
    cap.n = 0;
    (void)top_level(1);
}

/* Back in the test in the child, fork_and_run() (the parent's call, open
 * at fork, its span started by the parent) returned: it made no span here;
 * the child's own calls did, children of that span, which the parent
 * checks. */
static void child_check(void)
{
    int code = 0;
    otelc_stats_t st;

    if (otelc_flush(5000) != OTELC_OK)
        code = 1;
    else if (count_named("fork_and_run") != 0 || count_named("middle") != 1 || count_spans() != 4)
        code = 2;
    else if (otelc_stats(&st),
             otelc_signal_stats_dropped(&st.spans) != 0 || st.spans.produced != st.spans.exported)
        code = 3;
    else if (since_start().spans != 1 + 4)
        code = 4; /* other_square's before the fork, the child's four: the parent's call is
                     the parent's to end and count */
    else
        memcpy(child_parent_id, cap_find(&cap, OTELC_SIGNAL_TRACES, "top_level")->parent_span_id,
               OTELC_SPAN_ID_SIZE);
    _exit(code);
}

/* fork() inside a traced call: the parent's span is made once, by the
 * parent; the child ends none of the parent's calls. */
static void test_fork(void **state)
{
    int status = -1, pid;

    (void)state;
    start_auto(NULL);
    {
        OTELC_SPAN("request");
        child_parent_id = mmap(NULL, OTELC_SPAN_ID_SIZE, PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(child_parent_id != MAP_FAILED);
        sync_export(); /* the exporter idle while the process forks */
        pid = fork_and_run(child_work);
        if (pid == 0)
            child_check();
        assert_true(pid > 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    sync_export();
    assert_int_equal(count_named("fork_and_run"), 1);
    assert_int_equal(count_named("other_square"), 1);
    assert_int_equal(count_named("top_level"), 0);
    const cap_record_t *far = cap_find(&cap, OTELC_SIGNAL_TRACES, "fork_and_run");
    assert_child(far, cap_find(&cap, OTELC_SIGNAL_TRACES, "request"));
    assert_memory_equal(child_parent_id, far->ctx.span_id, OTELC_SPAN_ID_SIZE);
    munmap(child_parent_id, OTELC_SPAN_ID_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_call_tree, teardown),
        cmocka_unit_test_teardown(test_recursion, teardown),
        cmocka_unit_test_teardown(test_include, teardown),
        cmocka_unit_test_teardown(test_exclude, teardown),
        cmocka_unit_test_teardown(test_min_duration, teardown),
        cmocka_unit_test_teardown(test_no_sdk_functions, teardown),
        cmocka_unit_test_teardown(test_longjmp, teardown),
        cmocka_unit_test_teardown(test_threads, teardown),
        cmocka_unit_test_teardown(test_max_depth, teardown),
        cmocka_unit_test_teardown(test_sdk_off, teardown),
        cmocka_unit_test_teardown(test_fork, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
