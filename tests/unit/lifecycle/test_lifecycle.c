/*
 * test_lifecycle.c: init, flush, shutdown and what holds around them:
 * misuse (twice, out of order), every call a no-op after shutdown, several
 * init/shutdown cycles in one process with statistics restarting from zero,
 * the disabled SDK, the statistics invariant and the OTELC_STATS summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_exporter.h"
#include "session.h"
#include "core.h"

static cap_exporter_t cap;

static void opts(otelc_options_t *o)
{
    cap_free(&cap);
    cap_init(&cap, true);
    cap_options(o, &cap);
}

static void start(const otelc_options_t *o)
{
    otelc_options_t d;
    if (o == NULL) {
        opts(&d);
        o = &d;
    }
    assert_int_equal(otelc_init(o), OTELC_OK);
}

static int teardown(void **state)
{
    (void)state;
    session_end(&cap);
    return 0;
}

static void record_some(int spans, int logs)
{
    otelc_logger_t *lg = otelc_logger("lifecycle");
    for (int i = 0; i < spans; i++) {
        OTELC_SPAN("cycle_span", OTELC_INT("i", i));
    }
    for (int i = 0; i < logs; i++)
        OTELC_INFO(lg, "cycle_log", OTELC_INT("i", i));
}

static void assert_counts(uint64_t spans, uint64_t logs)
{
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, spans);
    assert_int_equal(st.spans.exported, spans);
    assert_int_equal(otelc_signal_stats_dropped(&st.spans), 0);
    assert_int_equal(st.spans.pending, 0);
    assert_int_equal(st.logs.produced, logs);
    assert_int_equal(st.logs.exported, logs);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    assert_int_equal(st.logs.pending, 0);
}

/* ---- misuse ---------------------------------------------------------------------- */

static void shutdown_and_flush_before_init(void **state)
{
    (void)state;
    assert_false(otelc_is_enabled());
    assert_int_equal(otelc_shutdown(100), OTELC_OK);
    assert_int_equal(otelc_flush(100), OTELC_ERR_STATE);
    otelc_stats_t st;
    memset(&st, 0xAB, sizeof(st));
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 0);
    assert_int_equal(st.logs.produced, 0);
    otelc_stats(NULL);
}

static void init_twice_is_a_state_error(void **state)
{
    (void)state;
    start(NULL);
    assert_true(otelc_is_enabled());
    static cap_exporter_t second;
    otelc_options_t o;
    cap_init(&second, true);
    cap_options(&o, &second);
    assert_int_equal(otelc_init(&o), OTELC_ERR_STATE);
    /* The second call's exporters were taken and destroyed, unused. */
    assert_true(second.destroyed_flag);
    /* The first configuration is untouched. */
    assert_true(otelc_is_enabled());
    record_some(1, 1);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 1);
    assert_int_equal(second.batches, 0);
    cap_free(&second);
}

static void shutdown_twice(void **state)
{
    (void)state;
    start(NULL);
    record_some(2, 2);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    /* Shutdown flushed, and stopped the exporter: shutdown, then destroy. */
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 2);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 2);
    assert_true(cap.shut_down);
    assert_true(cap.destroyed_flag);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    assert_int_equal(otelc_shutdown(0), OTELC_OK);
    /* Statistics of the run stay readable after it. */
    assert_counts(2, 2);
}

static void everything_is_a_noop_after_shutdown(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("after");
    record_some(1, 1);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    size_t batches = cap.batches;
    otelc_stats_t before, after;
    otelc_stats(&before);

    assert_false(otelc_is_enabled());
    assert_int_equal(otelc_flush(100), OTELC_ERR_STATE);
    assert_false(otelc_logger_enabled(lg, OTELC_SEV_FATAL));
    OTELC_FATAL(lg, "after shutdown");
    otelc_log(lg, OTELC_SEV_FATAL, "ev", "direct", OTELC_NUL_TERMINATED, NULL, 0);
    otelc_span_t s = otelc_span_start("after", NULL, 0);
    assert_false(otelc_span_is_recording(&s));
    otelc_span_end(&s);
    {
        OTELC_SPAN("after_scoped");
        OTELC_FUNC();
    }
    otelc_token_t t = otelc_correlation_begin("c", OTELC_NUL_TERMINATED);
    assert_int_equal(t.depth, 0);
    otelc_correlation_end(t);
    assert_null(otelc_current_correlation_id());
    OTELC_CORRELATION("c2")
    {
        assert_null(otelc_current_correlation_id());
        OTELC_BIND(OTELC_STR("k", "v"))
        {
            OTELC_INFO(lg, "bound after");
        }
    }
    t = otelc_baggage_begin("k", "v");
    assert_int_equal(t.depth, 0);
    otelc_baggage_end(t);
    t = otelc_bind_begin(NULL, 0);
    assert_int_equal(t.depth, 0);
    otelc_bind_end(t);
    assert_null(otelc_context_capture());
    OTELC_ATTACHED(NULL)
    {
    }
    otelc_inject(NULL, NULL);
    assert_null(otelc_extract(NULL, NULL));
    otelc_logger_set_level(lg, OTELC_SEV_TRACE);
    assert_false(otelc_logger_enabled(lg, OTELC_SEV_FATAL));

    otelc_stats(&after);
    assert_memory_equal(&before, &after, sizeof(before));
    assert_int_equal(cap.batches, batches);
}

/* ---- cycles ------------------------------------------------------------------------ */

static void several_cycles_restart_statistics(void **state)
{
    (void)state;
    for (int cycle = 1; cycle <= 4; cycle++) {
        start(NULL);
        otelc_stats_t st;
        otelc_stats(&st);
        assert_int_equal(st.spans.produced, 0);
        assert_int_equal(st.logs.produced, 0);
        record_some(cycle, 2 * cycle);
        assert_int_equal(otelc_flush(5000), OTELC_OK);
        assert_counts((uint64_t)cycle, (uint64_t)(2 * cycle));
        assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], (size_t)cycle);
        assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], (size_t)(2 * cycle));
        assert_int_equal(otelc_shutdown(5000), OTELC_OK);
        cap_free(&cap);
    }
}

/* A thread that lives across cycles and runs what it is told. */
typedef struct worker {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    void (*job)(void);
    bool quit;
} worker_t;

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->job == NULL && !w->quit)
            pthread_cond_wait(&w->cond, &w->mu);
        if (w->job != NULL) {
            void (*job)(void) = w->job;
            pthread_mutex_unlock(&w->mu);
            job();
            pthread_mutex_lock(&w->mu);
            w->job = NULL;
            pthread_cond_broadcast(&w->cond);
            continue;
        }
        break;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void worker_start(worker_t *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    assert_int_equal(pthread_create(&w->th, NULL, worker_main, w), 0);
}

static void worker_run(worker_t *w, void (*job)(void))
{
    pthread_mutex_lock(&w->mu);
    w->job = job;
    pthread_cond_broadcast(&w->cond);
    while (w->job != NULL)
        pthread_cond_wait(&w->cond, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void worker_stop(worker_t *w)
{
    pthread_mutex_lock(&w->mu);
    w->quit = true;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
}

static void log_five(void)
{
    for (int i = 0; i < 5; i++)
        OTELC_INFO(otelc_logger("worker"), "from worker", OTELC_INT("i", i));
}

/* A thread whose ring was made in an earlier run, with another ring size,
 * keeps recording in later runs. */
static void ring_size_changes_between_cycles(void **state)
{
    (void)state;
    worker_t w;
    otelc_options_t o;
    worker_start(&w);

    opts(&o);
    o.ring_size = 4096;
    start(&o);
    worker_run(&w, log_five); /* the worker's ring: 4096 bytes */
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(0, 5);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    cap_free(&cap);

    opts(&o);
    o.ring_size = 1u << 20;
    start(&o);
    worker_run(&w, log_five);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(0, 5);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 5);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    cap_free(&cap);
    worker_stop(&w);
}

static void *spans_and_logs_and_exit(void *arg)
{
    (void)arg;
    record_some(100, 100);
    return NULL;
}

/* A ring size set by the program that is not a power of two, or too small
 * for a ring, is made usable rather than trusted. */
static void odd_ring_sizes_are_made_usable(void **state)
{
    (void)state;
    const uint32_t sizes[] = { 5000, 100, 1, 65537 };
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        otelc_options_t o;
        opts(&o);
        o.ring_size = sizes[i];
        o.overflow = OTELC_OVERFLOW_BLOCK;
        o.block_timeout_ms = 5000;
        start(&o);
        pthread_t th;
        assert_int_equal(pthread_create(&th, NULL, spans_and_logs_and_exit, NULL), 0);
        pthread_join(th, NULL);
        assert_int_equal(otelc_flush(5000), OTELC_OK);
        assert_counts(100, 100);
        assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    }
}

static void *log_and_exit(void *arg)
{
    (void)arg;
    log_five();
    return NULL;
}

/* A thread that recorded in one run and exits after its shutdown leaves
 * nothing behind in the next run's statistics. */
static void thread_exiting_between_cycles(void **state)
{
    (void)state;
    worker_t w;
    worker_start(&w);
    start(NULL);
    worker_run(&w, log_five);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(0, 5);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    cap_free(&cap);
    worker_stop(&w); /* exits while otelc is stopped */

    start(NULL);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(0, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, log_and_exit, NULL), 0);
    pthread_join(th, NULL);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(0, 5);
}

static void disabled_sdk(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.disabled = true;
    start(&o);
    assert_false(otelc_is_enabled());
    /* Started, though disabled: a second init is still misuse. */
    static cap_exporter_t other;
    otelc_options_t o2;
    cap_init(&other, true);
    cap_options(&o2, &other);
    assert_int_equal(otelc_init(&o2), OTELC_ERR_STATE);
    record_some(3, 3);
    assert_int_equal(otelc_flush(100), OTELC_ERR_STATE);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 0);
    assert_int_equal(st.logs.produced, 0);
    assert_int_equal(cap.batches, 0);
    assert_int_equal(otelc_shutdown(1000), OTELC_OK);
    /* And the SDK can be started for real afterwards. */
    start(NULL);
    record_some(1, 1);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(1, 1);
}

static void init_from_the_environment(void **state)
{
    (void)state;
    setenv("OTEL_TRACES_EXPORTER", "none", 1);
    setenv("OTEL_LOGS_EXPORTER", "none", 1);
    setenv("OTEL_SDK_DISABLED", "false", 1);
    assert_int_equal(otelc_init(NULL), OTELC_OK);
    assert_true(otelc_is_enabled());
    /* No exporter: nothing is produced, nothing is lost. */
    record_some(2, 2);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 0);
    assert_int_equal(st.logs.produced, 0);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);

    setenv("OTEL_SDK_DISABLED", "true", 1);
    assert_int_equal(otelc_init(NULL), OTELC_OK);
    assert_false(otelc_is_enabled());
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    unsetenv("OTEL_SDK_DISABLED");
    unsetenv("OTEL_TRACES_EXPORTER");
    unsetenv("OTEL_LOGS_EXPORTER");
}

static void unknown_exporter_name_is_left_out(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.traces_exporter = "nosuchexporter, none";
    o.logs_exporter = " none ";
    start(&o);
    record_some(1, 1);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_counts(1, 1);
}

static otelc_status_t never_made(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    (void)args;
    *out = NULL;
    return OTELC_ERR_UNSUPPORTED;
}

static const otelc_component_t never_made_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "lifecycle-test",
    .create = never_made,
};

/* What a program asks before it picks a default exporter. */
static void exporter_factory_exists(void **state)
{
    (void)state;
    assert_true(otelc_exporter_factory_exists("console"));
    assert_false(otelc_exporter_factory_exists("nosuchexporter"));
    assert_false(otelc_exporter_factory_exists(""));
    assert_false(otelc_exporter_factory_exists(NULL));
    assert_false(otelc_exporter_factory_exists("lifecycle-test"));
    assert_int_equal(otelc_component_register(&never_made_component), OTELC_OK);
    assert_true(otelc_exporter_factory_exists("lifecycle-test"));
}

/* ---- statistics -------------------------------------------------------------------- */

/* The pipeline thread's CPU time is there, and no more than the process
 * has used. */
static void stats_report_the_pipeline_cpu_time(void **state)
{
    otelc_stats_t st;
    struct rusage ru;
    uint64_t process_ns;
    (void)state;

    start(NULL);
    for (int i = 0; i < 2000; i++) {
        OTELC_SPAN("cpu", OTELC_INT("i", i));
    }
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    process_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
                 ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
    assert_int_equal(st.spans.exported, 2000);
    assert_true(st.pipeline_cpu_ns > 0);
    assert_true(st.pipeline_cpu_ns <= process_ns);
}

static void stats_invariant_with_sampler_drops(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.sampler = OTELC_SAMPLER_TRACEIDRATIO;
    o.sampler_ratio = 0.5;
    start(&o);
    for (int i = 0; i < 400; i++) {
        OTELC_SPAN("maybe");
        OTELC_INFO(otelc_logger("inv"), "always");
    }
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 400);
    assert_int_equal(st.spans.produced, st.spans.exported + otelc_signal_stats_dropped(&st.spans));
    assert_int_equal(st.spans.dropped[OTELC_DROP_SAMPLER], 400 - st.spans.exported);
    /* Half, give or take: the ratio sampler really samples. */
    assert_in_range(st.spans.exported, 120, 280);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], st.spans.exported);
    assert_int_equal(st.logs.produced, 400);
    assert_int_equal(st.logs.exported, 400);
    assert_int_equal(st.spans.pending + st.logs.pending, 0);
    assert_true(st.threads >= 1);
    assert_true(st.batches_exported >= 2);
    assert_int_equal(st.batches_failed, 0);
}

/* Runs `fn` with fd 2 sent to a file; returns what was written there. */
static char *capture_stderr(void (*fn)(void))
{
    static char buf[8192];
    char path[] = "/tmp/otelc-test-stderr-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    fn();
    fflush(stderr);
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    assert_true(n >= 0);
    buf[n] = 0;
    return buf;
}

static void run_and_shutdown(void)
{
    record_some(3, 2);
    (void)otelc_shutdown(5000);
}

static void stats_summary_line_on_stderr(void **state)
{
    (void)state;
    otelc_options_t o;
    setenv("OTELC_STATS", "1", 1);
    otelc_options_t env;
    (void)otelc_options_init(&env);
    unsetenv("OTELC_STATS");
    assert_true(env.print_stats);
    opts(&o);
    o.print_stats = env.print_stats;
    start(&o);
    const char *err = capture_stderr(run_and_shutdown);
    assert_non_null(strstr(err, "otelc: spans produced=3 exported=3 dropped=0 "
                                "logs produced=2 exported=2 dropped=0\n"));
    /* Without the option, shutdown prints nothing. */
    opts(&o);
    start(&o);
    err = capture_stderr(run_and_shutdown);
    assert_null(strstr(err, "otelc: spans"));
}

static void stats_format_shows_reasons(void **state)
{
    (void)state;
    otelc_stats_t st;
    char buf[512];
    memset(&st, 0, sizeof(st));
    st.spans.produced = 10;
    st.spans.exported = 6;
    st.spans.dropped[OTELC_DROP_QUEUE_FULL] = 2;
    st.spans.dropped[OTELC_DROP_SAMPLER] = 1;
    st.spans.dropped[OTELC_DROP_SHUTDOWN] = 1;
    st.logs.produced = 5;
    st.logs.exported = 2;
    st.logs.dropped[OTELC_DROP_EXPORTER] = 3;
    const char *want = "otelc: spans produced=10 exported=6 dropped=4 (queue_full=2 sampler=1 "
                       "shutdown=1) logs produced=5 exported=2 dropped=3 (exporter=3)";
    assert_int_equal(otelc_stats_format(&st, buf, sizeof(buf)), strlen(want));
    assert_string_equal(buf, want);
    /* Too small: cut and terminated, the needed length returned. */
    char small[20];
    assert_int_equal(otelc_stats_format(&st, small, sizeof(small)), strlen(want));
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, want, sizeof(small) - 1);
    assert_int_equal(otelc_stats_format(&st, NULL, 0), strlen(want));
    assert_int_equal(otelc_stats_format(NULL, buf, sizeof(buf)), 0);
    st.spans.dropped[OTELC_DROP_INVALID] = 1;
    st.spans.produced = 11;
    otelc_stats_format(&st, buf, sizeof(buf));
    assert_non_null(strstr(buf, "dropped=5 (queue_full=2 sampler=1 shutdown=1 invalid=1)"));
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_QUEUE_FULL), "queue_full");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_SAMPLER), "sampler");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_EXPORTER), "exporter");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_SHUTDOWN), "shutdown");
    assert_string_equal(otelc_drop_reason_str(OTELC_DROP_INVALID), "invalid");
    assert_string_equal(otelc_drop_reason_str((otelc_drop_reason_t)99), "unknown");
    assert_int_equal(otelc_signal_stats_dropped(NULL), 0);
}

static void status_strings(void **state)
{
    (void)state;
    for (int s = OTELC_OK; s <= OTELC_ERR_EXPORT; s++) {
        const char *str = otelc_status_str((otelc_status_t)s);
        assert_non_null(str);
        assert_true(strlen(str) > 0);
        assert_string_not_equal(str, "unknown status");
        for (int t = OTELC_OK; t < s; t++)
            assert_string_not_equal(str, otelc_status_str((otelc_status_t)t));
    }
    assert_string_equal(otelc_status_str((otelc_status_t)1234), "unknown status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shutdown_and_flush_before_init),
        cmocka_unit_test_teardown(init_twice_is_a_state_error, teardown),
        cmocka_unit_test_teardown(shutdown_twice, teardown),
        cmocka_unit_test_teardown(everything_is_a_noop_after_shutdown, teardown),
        cmocka_unit_test_teardown(several_cycles_restart_statistics, teardown),
        cmocka_unit_test_teardown(ring_size_changes_between_cycles, teardown),
        cmocka_unit_test_teardown(thread_exiting_between_cycles, teardown),
        cmocka_unit_test_teardown(odd_ring_sizes_are_made_usable, teardown),
        cmocka_unit_test_teardown(disabled_sdk, teardown),
        cmocka_unit_test_teardown(init_from_the_environment, teardown),
        cmocka_unit_test_teardown(unknown_exporter_name_is_left_out, teardown),
        cmocka_unit_test(exporter_factory_exists),
        cmocka_unit_test_teardown(stats_invariant_with_sampler_drops, teardown),
        cmocka_unit_test_teardown(stats_report_the_pipeline_cpu_time, teardown),
        cmocka_unit_test_teardown(stats_summary_line_on_stderr, teardown),
        cmocka_unit_test(stats_format_shows_reasons),
        cmocka_unit_test(status_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
