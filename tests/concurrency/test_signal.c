/*
 * test_signal.c: records written from a signal handler that interrupts the
 * same thread inside otelc. The handler must neither corrupt the record it
 * interrupted nor make the pipeline read garbage: its own record is dropped
 * (reason "reentrant") when the thread was inside otelc, and written
 * normally when it was not. Every exported record is checked whole.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <cmocka.h>

#include <otelc/otelc.h>

#include "diag.h"
#include "sanitizers.h"

#define PAYLOAD_LEN 120

static char main_payload[PAYLOAD_LEN + 1];
static char handler_payload[PAYLOAD_LEN + 1];
static otelc_logger_t *lg;
static volatile sig_atomic_t in_handler_calls;

/* An exporter that checks each record against what the test wrote. */
typedef struct check_exporter {
    otelc_exporter_t base;
    pthread_mutex_t mu;
    uint64_t logs_main, logs_handler, spans_main, spans_handler, bad;
    char first_bad[256];
} check_exporter_t;

static check_exporter_t chk;

static void bad(check_exporter_t *c, const char *what, const char *ptr, size_t len)
{
    if (c->bad++ == 0)
        snprintf(c->first_bad, sizeof(c->first_bad), "%s: '%.*s'", what, (int)(len > 80 ? 80 : len),
                 ptr);
}

static bool payload_is(const otelc_attr_t *attrs, uint32_t n, const char *want)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(attrs[i].key, "payload") == 0)
            return attrs[i].type == OTELC_ATTR_STRING && attrs[i].len == PAYLOAD_LEN &&
                   memcmp(attrs[i].v.s, want, PAYLOAD_LEN) == 0;
    return false;
}

static otelc_status_t chk_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                 uint32_t timeout_ms, otelc_export_result_t *result)
{
    check_exporter_t *c = (check_exporter_t *)self;
    (void)timeout_ms;
    (void)result;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < b->n; i++) {
        if (b->signal == OTELC_SIGNAL_LOGS) {
            const otelc_log_data_t *l = &b->logs[i];
            bool from_main = l->body.len == 4 && memcmp(l->body.ptr, "main", 4) == 0;
            bool from_handler = l->body.len == 7 && memcmp(l->body.ptr, "handler", 7) == 0;
            if (!from_main && !from_handler)
                bad(c, "log body", l->body.ptr, l->body.len);
            else if (!payload_is(l->attrs, l->n_attrs, from_main ? main_payload : handler_payload))
                bad(c, "log payload", l->body.ptr, l->body.len);
            else if (from_main)
                c->logs_main++;
            else
                c->logs_handler++;
        } else {
            const otelc_span_data_t *s = &b->spans[i];
            bool from_main = s->name.len == 9 && memcmp(s->name.ptr, "main.span", 9) == 0;
            bool from_handler = s->name.len == 12 && memcmp(s->name.ptr, "handler.span", 12) == 0;
            if (!from_main && !from_handler)
                bad(c, "span name", s->name.ptr, s->name.len);
            else if (!payload_is(s->attrs, s->n_attrs, from_main ? main_payload : handler_payload))
                bad(c, "span payload", s->name.ptr, s->name.len);
            else if (from_main)
                c->spans_main++;
            else
                c->spans_handler++;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return OTELC_OK;
}

static void chk_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t chk_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "check",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = chk_export,
    .destroy = chk_destroy,
};

/* The handler records a span with a log inside, as an application's
 * watchdog or timer might. */
static bool use_macros; /* the macros' inline paths instead of the functions */

static void on_alarm(int sig)
{
    (void)sig;
    in_handler_calls++;
    if (use_macros) {
        OTELC_SPAN("handler.span", OTELC_STR("payload", handler_payload));
        OTELC_INFO(lg, "handler", OTELC_STR("payload", handler_payload));
        return;
    }
    otelc_span_t s = otelc_span_start("handler.span",
                                      (otelc_attr_t[]){ OTELC_STR("payload", handler_payload) }, 1);
    otelc_log(lg, OTELC_SEV_INFO, NULL, "handler", OTELC_NUL_TERMINATED,
              (otelc_attr_t[]){ OTELC_STR("payload", handler_payload) }, 1);
    otelc_span_end(&s);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run(void)
{
    otelc_exporter_t *list[1] = { &chk.base };
    otelc_options_t o;
    struct sigaction sa;
    struct itimerval it;
    sigset_t alrm;
    otelc_stats_t st;
    uint64_t deadline, i = 0;
    unsigned long diag_before;

    memset(main_payload, 'm', PAYLOAD_LEN);
    memset(handler_payload, 'h', PAYLOAD_LEN);
    memset(&chk, 0, sizeof(chk));
    chk.base.ops = &chk_ops;
    pthread_mutex_init(&chk.mu, NULL);

    /* Only this thread takes SIGALRM: otelc's threads block every signal,
     * and the handler is meant to interrupt an application thread. */
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_UNBLOCK, &alrm, NULL); /* blocked by an earlier run */
    otelc_options_default(&o);
    o.traces_exporter = "none";
    o.logs_exporter = "none";
    o.exporters = list;
    o.n_exporters = 1;
    assert_int_equal(otelc_init(&o), OTELC_OK);
    lg = otelc_logger("signal.test");
    /* The first otelc call on a thread makes its buffer (which allocates):
     * made here, before any handler runs. */
    otelc_log(lg, OTELC_SEV_INFO, NULL, "main", OTELC_NUL_TERMINATED,
              (otelc_attr_t[]){ OTELC_STR("payload", main_payload) }, 1);
    /* Each run's drops reported, though the runs are closer together than
     * the diagnostics' rate limit. */
    otelc__diag_set_interval_ms(1);
    if (use_macros) {
        /* A macro site's first call learns its shape (which allocates):
         * the handler's and the loop's sites learn theirs here. */
        on_alarm(0);
        OTELC_SPAN("main.span", OTELC_STR("payload", main_payload));
        OTELC_INFO(lg, "main", OTELC_STR("payload", main_payload));
    }
    diag_before = otelc__diag_count();

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
    memset(&it, 0, sizeof(it));
    it.it_interval.tv_usec = 50;
    it.it_value.tv_usec = 50;
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

    /* Until handlers have both landed inside otelc (dropped) and outside it
     * (recorded) many times; the deadline only guards against a machine
     * that never delivers the timer. */
    deadline = now_ms() + 60000;
    for (;;) {
        if (use_macros) {
            OTELC_SPAN("main.span", OTELC_STR("payload", main_payload));
            OTELC_INFO(lg, "main", OTELC_STR("payload", main_payload));
        } else {
            otelc_span_t s = otelc_span_start(
                "main.span", (otelc_attr_t[]){ OTELC_STR("payload", main_payload) }, 1);
            otelc_log(lg, OTELC_SEV_INFO, NULL, "main", OTELC_NUL_TERMINATED,
                      (otelc_attr_t[]){ OTELC_STR("payload", main_payload) }, 1);
            otelc_span_end(&s);
        }
        /* Time outside otelc too, so that some handlers record. */
        for (volatile int spin = 0; spin < 200; spin++)
            ;
        if ((++i & 1023) == 0) {
            otelc_stats(&st);
            pthread_mutex_lock(&chk.mu);
            bool enough = st.logs.dropped[OTELC_DROP_REENTRANT] >= 100 && chk.logs_handler >= 100;
            pthread_mutex_unlock(&chk.mu);
            if (enough || now_ms() > deadline)
                break;
        }
    }
    memset(&it, 0, sizeof(it));
    assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
    pthread_sigmask(SIG_BLOCK, &alrm, NULL);

    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats(&st);
    print_message("%llu iterations, %d handler calls; logs: produced %llu, exported %llu, "
                  "reentrant %llu; spans: produced %llu, exported %llu, reentrant %llu\n",
                  (unsigned long long)i, (int)in_handler_calls,
                  (unsigned long long)st.logs.produced, (unsigned long long)st.logs.exported,
                  (unsigned long long)st.logs.dropped[OTELC_DROP_REENTRANT],
                  (unsigned long long)st.spans.produced, (unsigned long long)st.spans.exported,
                  (unsigned long long)st.spans.dropped[OTELC_DROP_REENTRANT]);
    if (chk.bad)
        print_message("first bad record: %s\n", chk.first_bad);
    assert_int_equal(chk.bad, 0);
    assert_true(st.logs.dropped[OTELC_DROP_REENTRANT] >= 100);
    assert_true(chk.logs_handler >= 100);
    /* Nothing else was lost, and nothing was malformed. */
    assert_int_equal(st.logs.dropped[OTELC_DROP_INVALID], 0);
    assert_int_equal(st.spans.dropped[OTELC_DROP_INVALID], 0);
    assert_int_equal(st.logs.dropped[OTELC_DROP_QUEUE_FULL] + st.logs.exported +
                         st.logs.dropped[OTELC_DROP_REENTRANT],
                     st.logs.produced);
    assert_int_equal(st.spans.dropped[OTELC_DROP_QUEUE_FULL] + st.spans.exported +
                         st.spans.dropped[OTELC_DROP_REENTRANT],
                     st.spans.produced);
    assert_int_equal(st.logs.exported, chk.logs_main + chk.logs_handler);
    assert_int_equal(st.spans.exported, chk.spans_main + chk.spans_handler);
    assert_int_equal(st.logs.pending, 0);
    assert_int_equal(st.spans.pending, 0);
    /* The drops were reported (by the pipeline, not the handler). */
    assert_true(otelc__diag_count() > diag_before);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    otelc__diag_set_interval_ms(10000);
}

static void handler_inside_otelc_drops_and_counts(void **state)
{
    (void)state;
    use_macros = false;
    run();
}

/* The same through the macros, whose records the caller writes itself
 * (otelc/fast.h): the thread is marked busy there too. */
static void handler_inside_inline_paths_drops_and_counts(void **state)
{
    (void)state;
    use_macros = true;
    run();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handler_inside_otelc_drops_and_counts),
        cmocka_unit_test(handler_inside_inline_paths_drops_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
