/*
 * test_perf.c: performance spans (OTELC_PERF) as a user checks them: the
 * time of a 100 ms sleep reads 100 ms (within 10), the CPU share of a busy
 * loop (against getrusage) and of a sleep, the memory figures against
 * /proc and getrusage(), the slow-operation warning inside the span,
 * arguments as attributes (masked), parentage, and nothing measured when
 * nothing is recorded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_session.h"

static const cap_record_t *find(int signal, const char *name)
{
    const cap_record_t *r = cap_find(&cap, signal, name);
    if (r == NULL)
        fail_msg("'%s' was not exported", name);
    return r;
}

/* The number a double attribute holds; fails when it is not there. */
static double num(const cap_record_t *r, const char *key)
{
    const char *v = cap_attr(r, key);
    if (v == NULL)
        fail_msg("'%s' has no attribute %s", r->name, key);
    return strtod(v, NULL);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void sleepy(void)
{
    OTELC_PERF("sleepy", .cpu = true);
    sleep_ms(100);
}

/* The calling thread's CPU time as the kernel accounts it (getrusage, not
 * the clock the SDK reads). */
static double thread_cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static volatile uint64_t sink;

static void busy(void)
{
    OTELC_PERF("busy", .cpu = true);
    double end = mono_ms() + 60;
    uint64_t x = 1;
    while (mono_ms() < end)
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005u + 1442695040888963407u;
    sink = x;
}

static void time_and_cpu(void **state)
{
    const cap_record_t *s, *b;
    double w0, c0, share;

    (void)state;
    start(NULL);
    sleepy();
    w0 = mono_ms();
    c0 = thread_cpu_ms();
    busy();
    /* The share the thread got, measured around the span: a loaded
     * machine gives a busy loop less than all of its time. */
    share = 100.0 * (thread_cpu_ms() - c0) / (mono_ms() - w0);
    sync_export();
    s = find(OTELC_SIGNAL_TRACES, "sleepy");
    b = find(OTELC_SIGNAL_TRACES, "busy");
    assert_true(num(s, "execution_time_ms") >= 100.0);
    assert_true(num(s, "execution_time_ms") <= 110.0);
    /* The span's own times agree with the attribute. */
    assert_true((double)(s->end_ns - s->start_ns) / 1e6 >= 100.0);
    /* A sleeping thread uses next to no CPU; a busy one the share of its
     * time that the kernel accounted to it around the span (within 5
     * points: the window around is a little longer, and getrusage counts
     * in microseconds), which is most of it on an idle machine. */
    assert_true(num(s, "cpu_usage_percent") <= 10.0);
    print_message("busy: cpu_usage_percent %.1f, getrusage around it %.1f\n",
                  num(b, "cpu_usage_percent"), share);
    assert_true(share > 5.0); /* the loop ran, or nothing here means anything */
    assert_true(num(b, "cpu_usage_percent") >= share - 5.0);
    assert_true(num(b, "cpu_usage_percent") <= share + 5.0);
    assert_true(num(b, "cpu_usage_percent") <= 100.0);
    assert_true(num(b, "execution_time_ms") >= 60.0);
    assert_null(cap_attr(s, "memory_usage_mb")); /* not asked for */
}

#define GROW (32u << 20)

static double statm_mb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, pages = 0;
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%lld %lld", &size, &pages), 2);
    fclose(f);
    return (double)pages * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static void memory(void **state)
{
    const cap_record_t *r;
    struct rusage ru;
    double before, after, peak;
    char *block;

    (void)state;
    start(NULL);
    before = statm_mb();
    {
        OTELC_PERF("grow", .memory = true);
        block = malloc(GROW);
        assert_non_null(block);
        memset(block, 1, GROW); /* resident, not just reserved */
    }
    after = statm_mb();
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    sync_export();
    r = find(OTELC_SIGNAL_TRACES, "grow");
    /* 32 MiB touched: the change is at least that, and not much more. */
    assert_true(num(r, "memory_delta_mb") >= 31.0);
    assert_true(num(r, "memory_delta_mb") <= 40.0);
    /* The resident size at the end lies between what /proc said before and
     * after the span; the peak is at least it and at most the peak now. */
    assert_true(num(r, "memory_usage_mb") >= before + 31.0);
    assert_true(num(r, "memory_usage_mb") <= after + 1.0);
    assert_true(num(r, "memory_peak_mb") >= num(r, "memory_usage_mb") - 0.01);
    peak = (double)ru.ru_maxrss / 1024.0;
    assert_true(num(r, "memory_peak_mb") <= (peak > after ? peak : after) + 0.01);
    free(block);
}

static void slow_warning_inside_the_span(void **state)
{
    const cap_record_t *span, *warn;
    size_t warnings = 0;

    (void)state;
    start(NULL);
    {
        OTELC_PERF("order_placement", .threshold_ms = 2, .cpu = true);
        sleep_ms(10);
    }
    {
        OTELC_PERF("quick", .threshold_ms = 1000);
    }
    sync_export();
    span = find(OTELC_SIGNAL_TRACES, "order_placement");
    for (size_t i = 0; i < cap.n; i++)
        warnings += cap.recs[i].signal == OTELC_SIGNAL_LOGS;
    assert_int_equal(warnings, 1); /* "quick" was within its threshold */
    warn = &cap.recs[0];
    for (size_t i = 0; i < cap.n; i++)
        if (cap.recs[i].signal == OTELC_SIGNAL_LOGS)
            warn = &cap.recs[i];
    assert_int_equal(warn->severity, OTELC_SEV_WARN);
    assert_string_equal(warn->event, "slow_operation");
    assert_non_null(strstr(warn->name, "slow operation: order_placement took "));
    assert_non_null(strstr(warn->name, "(threshold 2.000 ms)"));
    assert_string_equal(warn->scope, "performance");
    assert_memory_equal(warn->ctx.trace_id, span->ctx.trace_id, 16);
    assert_memory_equal(warn->ctx.span_id, span->ctx.span_id, 8);
    assert_string_equal(cap_attr(warn, "operation"), "order_placement");
    assert_true(num(warn, "execution_time_ms") >= 10.0);
    assert_true(num(warn, "threshold_ms") == 2.0);
    assert_non_null(cap_attr(warn, "cpu_usage_percent"));
}

static void args_parent_and_masking(void **state)
{
    const cap_record_t *outer, *p, *inner;

    (void)state;
    start(NULL);
    {
        OTELC_SPAN("request");
        {
            OTELC_PERF_VAR(perf, "authenticate");
            OTELC_PERF_ARGS(&perf, OTELC_STR("user", "alice"), OTELC_STR("password", "hunter2"));
            OTELC_SPAN("lookup");
        }
    }
    sync_export();
    outer = find(OTELC_SIGNAL_TRACES, "request");
    p = find(OTELC_SIGNAL_TRACES, "authenticate");
    inner = find(OTELC_SIGNAL_TRACES, "lookup");
    assert_memory_equal(p->parent_span_id, outer->ctx.span_id, 8);
    assert_memory_equal(inner->parent_span_id, p->ctx.span_id, 8);
    assert_string_equal(cap_attr(p, "user"), "alice");
    assert_string_equal(cap_attr(p, "password"), "***MASKED***");
    assert_non_null(cap_attr(p, "execution_time_ms"));
}

/* The function form, and a span that is not recorded (the SDK off). */
static void function_form_and_off(void **state)
{
    otelc_perf_t p;
    otelc_perf_options_t o = { .struct_size = sizeof(o), .cpu = true };

    (void)state;
    otelc_perf_begin(&p, "off", OTELC_NUL_TERMINATED, &o);
    assert_false(otelc_span_is_recording(&p.span));
    otelc_perf_end(&p);
    start(NULL);
    otelc_perf_begin(&p, "by_hand", OTELC_NUL_TERMINATED, &o);
    otelc_perf_end(&p);
    otelc_perf_end(&p); /* once */
    sync_export();
    assert_null(cap_find(&cap, OTELC_SIGNAL_TRACES, "off"));
    assert_non_null(cap_attr(find(OTELC_SIGNAL_TRACES, "by_hand"), "cpu_usage_percent"));
    assert_int_equal(cap.n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(time_and_cpu, teardown),
        cmocka_unit_test_teardown(memory, teardown),
        cmocka_unit_test_teardown(slow_warning_inside_the_span, teardown),
        cmocka_unit_test_teardown(args_parent_and_masking, teardown),
        cmocka_unit_test_teardown(function_form_and_off, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
