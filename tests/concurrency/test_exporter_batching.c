/*
 * test_exporter_batching.c: an exporter's own batching
 * (otelc_exporter_batching_t), as a user of a database exporter sees it.
 *
 * A component "grouping" asks for its own batch size and delay in create();
 * its exporter writes down every export call: how many records, and each
 * record's number (the log body). The test checks what a user would: no
 * call above the size asked for, records cut from large batches and joined
 * from small ones, every record once and in order, records held no longer
 * than the delay and sent at once by a flush, the shutdown or a queue near
 * its bound, the counts of otelc_stats() when an exporter delivers part of
 * a joined call, and an exporter beside it that still gets the signal's
 * batches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <otelc/exporter.h>
#include <otelc/otelc.h>
#include <otelc/settings.h>

#include <pthread.h>
#include <time.h>

#define MAX_CALLS 4096
#define MAX_RECORDS 8192

typedef struct recorder {
    otelc_exporter_t base;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t calls[MAX_CALLS]; /* records per export call */
    size_t n_calls;
    unsigned seen[MAX_RECORDS]; /* record numbers, in the order received */
    size_t n_seen;
    size_t accept, reject; /* per call: SIZE_MAX accept means all */
} recorder_t;

static void recorder_init(recorder_t *r, const otelc_exporter_ops_t *ops)
{
    memset(r, 0, sizeof(*r));
    r->base.ops = ops;
    r->accept = SIZE_MAX;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static otelc_status_t recorder_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                      uint32_t timeout_ms, otelc_export_result_t *res)
{
    recorder_t *r = (recorder_t *)self;
    (void)timeout_ms;
    pthread_mutex_lock(&r->mu);
    if (r->n_calls < MAX_CALLS)
        r->calls[r->n_calls++] = b->n;
    for (size_t i = 0; i < b->n && r->n_seen < MAX_RECORDS; i++)
        r->seen[r->n_seen++] = (unsigned)strtoul(b->logs[i].body.ptr, NULL, 10);
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    if (r->accept == SIZE_MAX)
        return OTELC_OK;
    res->accepted = r->accept < b->n ? r->accept : b->n;
    res->rejected = r->reject;
    return OTELC_ERR_IO;
}

static void recorder_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t grouping_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "grouping",
    .signals = OTELC_SIGNAL_LOGS,
    .export_batch = recorder_export,
    .destroy = recorder_destroy,
};

static const otelc_exporter_ops_t plain_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "plain",
    .signals = OTELC_SIGNAL_LOGS,
    .export_batch = recorder_export,
    .destroy = recorder_destroy,
};

/* What the next create() asks for, and the exporter it hands out. */
static otelc_exporter_batching_t wanted;
static recorder_t grouping;

static otelc_status_t grouping_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    assert_true(args->struct_size >=
                offsetof(otelc_exporter_args_t, batching) + sizeof(args->batching));
    assert_non_null(args->batching);
    /* It starts as the signal's. */
    assert_int_equal(args->batching->max_export_batch_size, args->batch->max_export_batch_size);
    assert_int_equal(args->batching->schedule_delay_ms, args->batch->schedule_delay_ms);
    *args->batching = wanted;
    *out = &grouping.base;
    return OTELC_OK;
}

static const otelc_component_t grouping_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "grouping",
    .create = grouping_create,
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Starts otelc with "grouping" for logs (asking for `max` records per call
 * and `delay_ms`), the signal's batches of `batch` records, `signal_delay_ms`
 * and `queue`, and `plain` beside it when not NULL. */
static void start(uint32_t max, uint32_t delay_ms, uint32_t batch, uint32_t signal_delay_ms,
                  uint32_t queue, recorder_t *plain)
{
    otelc_options_t o;
    otelc_exporter_t *list[1];

    recorder_init(&grouping, &grouping_ops);
    wanted.max_export_batch_size = max;
    wanted.schedule_delay_ms = delay_ms;
    otelc_options_default(&o);
    o.service_name = "batching";
    o.traces_exporter = "none";
    o.logs_exporter = "grouping";
    o.logs_batch.max_export_batch_size = batch;
    o.logs_batch.schedule_delay_ms = signal_delay_ms;
    o.logs_batch.max_queue_size = queue;
    if (plain != NULL) {
        recorder_init(plain, &plain_ops);
        list[0] = &plain->base;
        o.exporters = list;
        o.n_exporters = 1;
    }
    assert_int_equal(otelc_init(&o), OTELC_OK);
}

/* Logs records numbered from `first`, `n` of them. */
static void log_numbered(unsigned first, unsigned n)
{
    otelc_logger_t *lg = otelc_logger("batching");
    char body[16];

    for (unsigned i = 0; i < n; i++) {
        snprintf(body, sizeof(body), "%u", first + i);
        otelc_log(lg, OTELC_SEV_INFO, NULL, body, OTELC_NUL_TERMINATED, NULL, 0);
    }
}

/* Waits until `r` has seen `n` records; false after `ms`. */
static bool await_seen(recorder_t *r, size_t n, unsigned ms)
{
    uint64_t end = mono_ms() + ms;
    bool ok;

    pthread_mutex_lock(&r->mu);
    while (r->n_seen < n && mono_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 10000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->cond, &r->mu, &ts);
    }
    ok = r->n_seen >= n;
    pthread_mutex_unlock(&r->mu);
    return ok;
}

/* Every record 0..n-1 once, in order. */
static void assert_in_order(recorder_t *r, size_t n)
{
    assert_int_equal(r->n_seen, n);
    for (size_t i = 0; i < n; i++)
        if (r->seen[i] != i)
            fail_msg("record %zu arrived as number %u", i, r->seen[i]);
}

static size_t calls_total(const recorder_t *r)
{
    size_t sum = 0;
    for (size_t i = 0; i < r->n_calls; i++)
        sum += r->calls[i];
    return sum;
}

static int setup(void **state)
{
    (void)state;
    return otelc_component_register(&grouping_component) == OTELC_OK ? 0 : -1;
}

/* Batches of 512 for an exporter that wants 100: calls of at most 100
 * records, only the last of a batch (or of batches taken together) short. */
static void large_batches_are_cut(void **state)
{
    (void)state;
    start(100, 60000, 512, 60000, 2048, NULL);
    log_numbered(0, 1024);
    /* Two full batches go without a flush. */
    assert_true(await_seen(&grouping, 1024, 10000));
    pthread_mutex_lock(&grouping.mu);
    assert_in_order(&grouping, 1024);
    assert_int_equal(calls_total(&grouping), 1024);
    size_t full = 0, shorter = 0;
    for (size_t i = 0; i < grouping.n_calls; i++) {
        assert_true(grouping.calls[i] <= 100);
        if (grouping.calls[i] == 100)
            full++;
        else
            shorter++;
    }
    pthread_mutex_unlock(&grouping.mu);
    assert_int_equal(full, 10);
    assert_true(shorter >= 1 && shorter <= 2); /* 12 + 12, or 24 */
    otelc_shutdown(2000);
}

/* Batches of 10 for an exporter that wants 100 and a long delay: ten of
 * them in each call; the exporter beside it gets the signal's 10. */
static void small_batches_are_joined(void **state)
{
    recorder_t plain;
    otelc_stats_t st;

    (void)state;
    start(100, 60000, 10, 60000, 2048, &plain);
    log_numbered(0, 250);
    assert_true(await_seen(&grouping, 200, 10000));
    pthread_mutex_lock(&grouping.mu);
    assert_int_equal(grouping.n_calls, 2);
    assert_int_equal(grouping.calls[0], 100);
    assert_int_equal(grouping.calls[1], 100);
    pthread_mutex_unlock(&grouping.mu);
    /* The last 50 are held (the delay is a minute) until the flush. */
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_in_order(&grouping, 250);
    assert_int_equal(grouping.n_calls, 3);
    assert_int_equal(grouping.calls[2], 50);
    assert_in_order(&plain, 250);
    assert_int_equal(plain.n_calls, 25);
    for (size_t i = 0; i < plain.n_calls; i++)
        assert_int_equal(plain.calls[i], 10);
    otelc_stats(&st);
    assert_int_equal(st.logs.exported, 250);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    otelc_shutdown(2000);
}

/* A few records wait for the exporter's delay, not the signal's, then go
 * by themselves in one call. */
static void held_for_the_delay(void **state)
{
    uint64_t t0, took;

    (void)state;
    start(1000, 300, 512, 10, 2048, NULL);
    t0 = mono_ms();
    log_numbered(0, 5);
    assert_true(await_seen(&grouping, 5, 10000));
    took = mono_ms() - t0;
    assert_true(took >= 300);
    assert_int_equal(grouping.n_calls, 1);
    assert_in_order(&grouping, 5);
    otelc_shutdown(2000);
}

/* A flush and the shutdown send what is held at once. */
static void flush_and_shutdown_send_what_is_held(void **state)
{
    (void)state;
    start(1000, 600000, 512, 10, 2048, NULL);
    log_numbered(0, 7);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_int_equal(grouping.n_calls, 1);
    assert_in_order(&grouping, 7);
    log_numbered(7, 3);
    otelc_shutdown(5000);
    assert_in_order(&grouping, 10);
    assert_int_equal(grouping.n_calls, 2);
}

/* The exporter wants 64 records a call, the queue holds 64 and the
 * signal's batches are 24: at 48 held, the next batch would not fit (and
 * would be dropped for it), so the 48 go without waiting for the delay. */
static void queue_bound_sends_early(void **state)
{
    otelc_stats_t st;

    (void)state;
    start(64, 600000, 24, 600000, 64, NULL);
    log_numbered(0, 240);
    assert_true(await_seen(&grouping, 240, 10000));
    assert_in_order(&grouping, 240);
    for (size_t i = 0; i < grouping.n_calls; i++)
        assert_int_equal(grouping.calls[i], 48);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(st.logs.exported, 240);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    otelc_shutdown(2000);
}

/* Calls of 100 joined from batches of 10, each call delivering 50 and
 * saying 20 were rejected: the counts of every batch add up. */
static void partial_calls_are_counted(void **state)
{
    otelc_stats_t st;

    (void)state;
    start(100, 600000, 10, 600000, 2048, NULL);
    grouping.accept = 50;
    grouping.reject = 20;
    log_numbered(0, 300);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_int_equal(grouping.n_calls, 3);
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 300);
    assert_int_equal(st.logs.exported, 150);
    assert_int_equal(st.logs.dropped[OTELC_DROP_REJECTED], 60);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 90);
    otelc_shutdown(2000);
}

/* Asking for more per call than the queue holds is reported and bounded. */
static void too_large_is_bounded(void **state)
{
    (void)state;
    start(100000, 10, 512, 10, 1024, NULL);
    log_numbered(0, 2000);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    assert_in_order(&grouping, 2000);
    for (size_t i = 0; i < grouping.n_calls; i++)
        assert_true(grouping.calls[i] <= 1024);
    otelc_shutdown(2000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(large_batches_are_cut),
        cmocka_unit_test(small_batches_are_joined),
        cmocka_unit_test(held_for_the_delay),
        cmocka_unit_test(flush_and_shutdown_send_what_is_held),
        cmocka_unit_test(queue_bound_sends_early),
        cmocka_unit_test(partial_calls_are_counted),
        cmocka_unit_test(too_large_is_bounded),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
