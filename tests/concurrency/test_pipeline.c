/*
 * test_pipeline.c: the pipeline under threads and misbehaving exporters:
 * deadlines of flush and shutdown with a hung exporter, a slow exporter next
 * to a fast one, a failing one, batch sizes and the schedule delay, the
 * queue bound and the overflow policies, threads that exit right after
 * recording, and an idle pipeline that sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

#include <cmocka.h>

#include "capture_exporter.h"
#include "session.h"
#include "core.h"

/* Sanitizers slow everything down; deadlines get this much slack. */
#define MARGIN_MS 250

static cap_exporter_t cap;

static void opts(otelc_options_t *o)
{
    cap_free(&cap);
    cap_init(&cap, false);
    cap_options(o, &cap);
    /* The same ring size for every test, whatever the queue sizes: a thread
     * keeps the ring it got first. */
    o->ring_size = 1u << 19;
}

static void start(const otelc_options_t *o)
{
    assert_int_equal(otelc_init(o), OTELC_OK);
}

static int teardown(void **state)
{
    (void)state;
    session_end(&cap);
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void emit_logs(int n)
{
    otelc_logger_t *lg = otelc_logger("pipeline");
    for (int i = 0; i < n; i++)
        OTELC_INFO(lg, "record", OTELC_INT("i", i), OTELC_STR("k", "v"));
}

static void emit_spans(int n)
{
    for (int i = 0; i < n; i++) {
        OTELC_SPAN("work", OTELC_INT("i", i));
    }
}

typedef struct producer {
    int logs, spans;
} producer_t;

static void *produce(void *arg)
{
    producer_t *p = arg;
    emit_logs(p->logs);
    emit_spans(p->spans);
    return NULL;
}

static void run_producer(int logs, int spans)
{
    producer_t p = { logs, spans };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, produce, &p), 0);
    pthread_join(th, NULL);
}

static void assert_exact(const otelc_signal_stats_t *s)
{
    assert_int_equal(s->pending, 0);
    assert_int_equal(s->produced, s->exported + otelc_signal_stats_dropped(s));
}

/* Waits (bounded) until the capture exporter's shutdown was called. */
static bool wait_shut_down(cap_exporter_t *c, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool done = c->shut_down;
        pthread_mutex_unlock(&c->mu);
        if (done)
            return true;
        if (now_ms() > end)
            return false;
        struct timespec ts = { 0, 2000000 };
        nanosleep(&ts, NULL);
    }
}

/* ---- deadlines ------------------------------------------------------------------------ */

/* Its own exporter: once abandoned by shutdown it lives on, and it must
 * not be the one the next tests reuse. */
static cap_exporter_t hung;

static void deadlines_hold_while_an_exporter_hangs(void **state)
{
    (void)state;
    otelc_options_t o;
    static otelc_exporter_t *list[1];
    opts(&o);
    cap_init(&hung, false);
    list[0] = &hung.base;
    o.exporters = list;
    o.n_exporters = 1;
    cap_set_hang(&hung, true);
    start(&o);
    emit_logs(10);
    emit_spans(4);

    uint64_t t0 = now_ms();
    assert_int_equal(otelc_flush(300), OTELC_ERR_TIMEOUT);
    uint64_t took = now_ms() - t0;
    assert_true(took >= 290); /* it did wait for the exporter */
    assert_true(took <= 300 + MARGIN_MS);

    t0 = now_ms();
    assert_int_equal(otelc_shutdown(400), OTELC_ERR_TIMEOUT);
    took = now_ms() - t0;
    assert_true(took <= 400 + MARGIN_MS);
    assert_false(otelc_is_enabled());

    /* Every record stuck behind the hung exporter is counted as dropped. */
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 10);
    assert_int_equal(st.logs.exported, 0);
    assert_int_equal(st.logs.dropped[OTELC_DROP_SHUTDOWN] + st.logs.dropped[OTELC_DROP_EXPORTER],
                     10);
    assert_exact(&st.logs);
    assert_int_equal(st.spans.produced, 4);
    assert_int_equal(st.spans.exported, 0);
    assert_exact(&st.spans);
    /* Abandoned, not destroyed: its thread may still be inside export(). */
    assert_false(hung.destroyed_flag);

    /* When it finally returns, the finished run's statistics stay as they
     * were. */
    cap_set_hang(&hung, false);
    assert_true(wait_shut_down(&hung, 5000));
    otelc_stats_t later;
    otelc_stats(&later);
    assert_memory_equal(&later.logs, &st.logs, sizeof(st.logs));
    assert_memory_equal(&later.spans, &st.spans, sizeof(st.spans));
}

/* An exporter abandoned in one run that returns during the next one must
 * not touch the next run's counters or queue. */
static cap_exporter_t hung2;

static void late_exporter_does_not_disturb_the_next_run(void **state)
{
    (void)state;
    otelc_options_t o;
    static otelc_exporter_t *list[1];
    opts(&o);
    cap_init(&hung2, false);
    list[0] = &hung2.base;
    o.exporters = list;
    o.n_exporters = 1;
    o.logs_batch.max_queue_size = 20;
    o.logs_batch.max_export_batch_size = 10;
    cap_set_hang(&hung2, true);
    start(&o);
    emit_logs(20);
    assert_int_equal(otelc_shutdown(200), OTELC_ERR_TIMEOUT);

    opts(&o);
    o.logs_batch.max_queue_size = 20;
    o.logs_batch.max_export_batch_size = 10;
    start(&o);
    cap_set_hang(&hung2, false);
    assert_true(wait_shut_down(&hung2, 5000));
    emit_logs(50);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 50);
    assert_int_equal(st.logs.exported, 50);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    assert_exact(&st.logs);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 50);
}

/* ---- exporters side by side ------------------------------------------------------------ */

static cap_exporter_t slow, fast;

static void slow_exporter_does_not_delay_a_fast_one(void **state)
{
    (void)state;
    otelc_options_t o;
    static otelc_exporter_t *list[2];
    opts(&o);
    cap_init(&slow, false);
    cap_init(&fast, false);
    slow.delay_ms = 1500;
    list[0] = &slow.base;
    list[1] = &fast.base;
    o.exporters = list;
    o.n_exporters = 2;
    start(&o);
    uint64_t t0 = now_ms();
    emit_logs(20);
    emit_spans(5);
    /* No flush: the schedule delay (10 ms) sends the batches. */
    assert_true(cap_wait(&fast, OTELC_SIGNAL_LOGS, 20, 1000));
    assert_true(cap_wait(&fast, OTELC_SIGNAL_TRACES, 5, 1000));
    uint64_t took = now_ms() - t0;
    pthread_mutex_lock(&slow.mu);
    size_t slow_logs = slow.counted[OTELC_SIGNAL_LOGS],
           slow_spans = slow.counted[OTELC_SIGNAL_TRACES];
    pthread_mutex_unlock(&slow.mu);
    /* The fast exporter had everything while the slow one still slept on
     * its first batch. */
    assert_true(took < 1000);
    assert_int_equal(slow_logs + slow_spans, 0);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    assert_int_equal(slow.counted[OTELC_SIGNAL_LOGS], 20);
    assert_int_equal(slow.counted[OTELC_SIGNAL_TRACES], 5);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.exported, 20);
    assert_int_equal(st.spans.exported, 5);
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    cap_free(&slow);
    cap_free(&fast);
}

/* With both signals at their queue bound, a slow exporter's queue of
 * batches holds them all: nothing is dropped short of the bound. */
static void slow_exporter_with_both_queues_full(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    cap.delay_ms = 200;
    o.spans_batch.max_queue_size = o.logs_batch.max_queue_size = 1024;
    o.spans_batch.max_export_batch_size = o.logs_batch.max_export_batch_size = 256;
    start(&o);
    run_producer(1024, 1024);
    assert_int_equal(otelc_flush(20000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.exported, 1024);
    assert_int_equal(st.spans.exported, 1024);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs) + otelc_signal_stats_dropped(&st.spans),
                     0);
    assert_int_equal(st.batches_failed, 0);
}

/* One slow exporter with small queues and a short schedule delay: the
 * pipeline waits for it (the records wait in the batch and the ring)
 * instead of sending batches it cannot take; nothing is dropped. */
static void slow_single_exporter_gets_back_pressure(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    cap.delay_ms = 20;
    o.logs_batch.max_queue_size = 64;
    o.logs_batch.max_export_batch_size = 16;
    o.logs_batch.schedule_delay_ms = 1;
    start(&o);
    emit_logs(1000);
    assert_int_equal(otelc_flush(30000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 1000);
    assert_int_equal(st.logs.exported, 1000);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 1000);
    assert_true(cap.max_batch <= 16);
}

/* One exporter hangs, another is healthy: the healthy one receives every
 * record, far more than one export queue holds, while the hung one holds
 * at most its queue's worth; what it could not take is counted as dropped
 * for it (reason exporter), and the totals stay exact. */
static cap_exporter_t stuck, healthy;

static void hung_exporter_does_not_starve_a_healthy_one(void **state)
{
    (void)state;
    otelc_options_t o;
    static otelc_exporter_t *list[2];
    const int chunks = 16, per_chunk = 256, total = chunks * per_chunk;
    opts(&o);
    cap_init(&stuck, false);
    cap_init(&healthy, false);
    stuck.hang = true;
    list[0] = &stuck.base;
    list[1] = &healthy.base;
    o.exporters = list;
    o.n_exporters = 2;
    o.logs_batch.max_queue_size = 256;
    o.logs_batch.max_export_batch_size = 64;
    start(&o);
    for (int c = 0; c < chunks; c++) {
        emit_logs(per_chunk);
        assert_true(cap_wait(&healthy, OTELC_SIGNAL_LOGS, (size_t)(c + 1) * per_chunk, 5000));
    }
    pthread_mutex_lock(&stuck.mu);
    size_t stuck_seen = stuck.counted[OTELC_SIGNAL_LOGS];
    pthread_mutex_unlock(&stuck.mu);
    assert_int_equal(stuck_seen, 0);
    cap_set_hang(&stuck, false);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, total);
    assert_exact(&st.logs);
    /* What the hung exporter took (at most its bound plus the batch it
     * was blocked in) was delivered by both: exported. */
    assert_int_equal(st.logs.exported, stuck.counted[OTELC_SIGNAL_LOGS]);
    assert_true(st.logs.exported <= 256 + 64);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], total - st.logs.exported);
    assert_int_equal(st.logs.dropped[OTELC_DROP_QUEUE_FULL], 0);
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    cap_free(&stuck);
    cap_free(&healthy);
}

/* One exporter is slow (10 ms a batch), another fast: the slow one falls
 * behind its queue over and over, each time for less than the pipeline's
 * grace (100 ms), while the rings have room. It loses nothing: the batches
 * wait for it, and both exporters receive every record. (The exporters of
 * slow_exporter_does_not_delay_a_fast_one, made anew.) */

static void briefly_slow_exporter_loses_nothing(void **state)
{
    otelc_options_t o;
    otelc_stats_t st;
    static otelc_exporter_t *list[2];
    const int total = 1024;
    (void)state;

    opts(&o);
    cap_init(&slow, false);
    cap_init(&fast, false);
    slow.delay_ms = 10;
    list[0] = &slow.base;
    list[1] = &fast.base;
    o.exporters = list;
    o.n_exporters = 2;
    o.logs_batch.max_queue_size = 256;
    o.logs_batch.max_export_batch_size = 64;
    start(&o);
    emit_logs(total);
    assert_int_equal(otelc_flush(20000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, total);
    assert_int_equal(st.logs.exported, total);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    assert_int_equal(slow.counted[OTELC_SIGNAL_LOGS], total);
    assert_int_equal(fast.counted[OTELC_SIGNAL_LOGS], total);
    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    cap_free(&slow);
    cap_free(&fast);
}

static cap_exporter_t good;

static void failing_exporter_counts_drops(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    cap.fail = OTELC_ERR_IO;
    start(&o);
    emit_logs(30);
    emit_spans(10);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 30);
    assert_int_equal(st.logs.exported, 0);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 30);
    assert_int_equal(st.spans.dropped[OTELC_DROP_EXPORTER], 10);
    assert_exact(&st.logs);
    assert_exact(&st.spans);
    assert_true(st.batches_failed >= 2);
    assert_int_equal(st.batches_exported, 0);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);

    /* One failing exporter next to a good one: the good one has them all,
     * and the records count as dropped (not every exporter delivered). */
    static otelc_exporter_t *list[2];
    opts(&o);
    cap.fail = OTELC_ERR_EXPORT;
    cap_init(&good, false);
    list[0] = &cap.base;
    list[1] = &good.base;
    o.exporters = list;
    o.n_exporters = 2;
    start(&o);
    emit_logs(25);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats(&st);
    assert_int_equal(good.counted[OTELC_SIGNAL_LOGS], 25);
    assert_int_equal(st.logs.dropped[OTELC_DROP_EXPORTER], 25);
    assert_exact(&st.logs);
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    cap_free(&good);
}

/* ---- batching --------------------------------------------------------------------------- */

static void batches_respect_the_size_limit(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.logs_batch.max_export_batch_size = 7;
    o.logs_batch.schedule_delay_ms = 60000;
    o.traces_exporter = "none";
    start(&o);
    emit_logs(100);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 100);
    assert_int_equal(cap.max_batch, 7);
    /* 14 full batches, and the rest sent by the flush. */
    assert_int_equal(cap.batches, 15);
}

static void schedule_delay_sends_a_partial_batch(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.logs_batch.schedule_delay_ms = 150;
    o.logs_batch.max_export_batch_size = 512;
    start(&o);
    uint64_t t0 = now_ms();
    emit_logs(3);
    assert_true(cap_wait(&cap, OTELC_SIGNAL_LOGS, 3, 5000));
    uint64_t took = now_ms() - t0;
    assert_true(took >= 150);
    assert_true(took < 150 + 1000);
    assert_int_equal(cap.batches, 1);
    assert_int_equal(cap.max_batch, 3);
}

/* ---- queue bound and overflow ------------------------------------------------------------ */

/* Waits (bounded) until the pipeline has read everything in `ring`. */
static bool ring_drained(otelc__ring_t *ring, unsigned ms)
{
    uint64_t end = now_ms() + ms;
    while (atomic_load(&ring->tail) != atomic_load(&ring->head)) {
        if (now_ms() > end)
            return false;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    return true;
}

typedef struct bounded {
    int drained_chunks;
} bounded_t;

/* Records in chunks of 10, each time waiting for the pipeline to take the
 * chunk, until it stops taking them; then floods. */
static void *bounded_producer(void *arg)
{
    bounded_t *b = arg;
    emit_logs(10);
    otelc__ring_t *ring = otelc__tls->ring;
    for (int chunk = 1; chunk <= 10; chunk++) {
        if (!ring_drained(ring, 1000))
            break;
        b->drained_chunks++;
        emit_logs(10);
    }
    emit_logs(2000);
    return NULL;
}

static void queue_bound_drops_are_counted_exactly(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.ring_size = 4096;
    o.logs_batch.max_queue_size = 50;
    o.logs_batch.max_export_batch_size = 10;
    /* Only full batches: the exporter's queue holds exactly five, and the
     * pipeline assembles one more while it waits for room. */
    o.logs_batch.schedule_delay_ms = 60000;
    cap_set_hang(&cap, true);
    start(&o);
    /* A fresh thread, so that its ring is the small one. */
    bounded_t b = { 0 };
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, bounded_producer, &b), 0);
    pthread_join(th, NULL);
    /* The pipeline took 60 records (the exporter's queue bound of 50, and
     * the batch waiting for room, as the OpenTelemetry batch processor
     * holds its queue plus the batch being exported) and then left the
     * rest in the ring. */
    assert_int_equal(b.drained_chunks, 6);
    otelc_stats_t st;
    otelc_stats(&st);
    uint64_t produced = 10 * (uint64_t)(b.drained_chunks + 1) + 2000;
    assert_int_equal(st.logs.produced, produced);
    /* The 4 KiB ring could not hold the flood. */
    assert_true(st.logs.dropped[OTELC_DROP_QUEUE_FULL] > 1900);
    cap_set_hang(&cap, false);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats(&st);
    assert_exact(&st.logs);
    assert_int_equal(st.logs.dropped[OTELC_DROP_QUEUE_FULL], otelc_signal_stats_dropped(&st.logs));
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], st.logs.exported);
    /* What the queue and the ring held was kept. */
    assert_true(st.logs.exported >= 60);
    assert_int_equal(cap.max_batch, 10);
}

static void block_policy_loses_nothing(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.ring_size = 4096;
    o.overflow = OTELC_OVERFLOW_BLOCK;
    o.block_timeout_ms = 10000;
    start(&o);
    run_producer(20000, 3000);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 20000);
    assert_int_equal(st.logs.exported, 20000);
    assert_int_equal(st.spans.produced, 3000);
    assert_int_equal(st.spans.exported, 3000);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs) + otelc_signal_stats_dropped(&st.spans),
                     0);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 20000);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 3000);
}

static void drop_policy_never_blocks(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.ring_size = 4096;
    cap_set_hang(&cap, true);
    o.logs_batch.max_queue_size = 10;
    start(&o);
    uint64_t t0 = now_ms();
    run_producer(50000, 0);
    /* 50000 records against a hung exporter return at once. */
    assert_true(now_ms() - t0 < 5000);
    cap_set_hang(&cap, false);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_exact(&st.logs);
    assert_true(st.logs.dropped[OTELC_DROP_QUEUE_FULL] > 40000);
}

/* ---- threads that go away ---------------------------------------------------------------- */

static void *log_then_exit(void *arg)
{
    (void)arg;
    emit_logs(25);
    /* A correlation scope left open at exit is closed by the exit. */
    (void)otelc_correlation_begin("dying-thread", OTELC_NUL_TERMINATED);
    OTELC_INFO(otelc_logger("pipeline"), "last words");
    return NULL;
}

static void *emit_200_then_exit(void *arg)
{
    (void)arg;
    emit_logs(200);
    return NULL;
}

/* The records of a thread that exited sit in its ring (an orphan) until
 * the pipeline has drained it; a drain that cannot finish (the exporter
 * hangs, the queue is full) takes the orphan and gives it back, over and
 * over. otelc_stats() must count the thread's records all along, not miss
 * them while a drain holds the orphan. */
static void stats_count_an_exited_thread_while_it_drains(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.logs_batch.max_queue_size = 20;
    o.logs_batch.max_export_batch_size = 10;
    cap_set_hang(&cap, true);
    start(&o);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, emit_200_then_exit, NULL), 0);
    pthread_join(th, NULL);
    /* The pipeline retries every 200 us while it waits for room: 20,000
     * reads overlap many of its drains. */
    for (int i = 0; i < 20000; i++) {
        otelc_stats_t st;
        otelc_stats(&st);
        if (st.logs.produced != 200)
            fail_msg("read %d: %llu logs produced, 200 were", i,
                     (unsigned long long)st.logs.produced);
    }
    cap_set_hang(&cap, false);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_exact(&st.logs);
    assert_int_equal(st.logs.produced, 200);
}

static void exiting_threads_lose_nothing(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    cap.keep = true;
    start(&o);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, log_then_exit, NULL), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 104);
    assert_int_equal(st.logs.exported, 104);
    assert_int_equal(st.spans.produced, 4);
    assert_int_equal(st.spans.exported, 4);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 104);
    size_t corr = 0;
    for (size_t i = 0; i < cap.n; i++) {
        const cap_record_t *r = &cap.recs[i];
        if (r->signal == OTELC_SIGNAL_TRACES) {
            assert_string_equal(r->name, "correlation");
            assert_string_equal(r->correlation, "dying-thread");
            corr++;
        } else if (strcmp(r->name, "last words") == 0) {
            assert_string_equal(r->correlation, "dying-thread");
        }
    }
    assert_int_equal(corr, 4);
}

typedef struct burst {
    int id;
    int logs;
} burst_t;

static void *burst_and_flush(void *arg)
{
    burst_t *b = arg;
    otelc_logger_t *lg = otelc_logger("burst");
    for (int i = 0; i < b->logs; i++) {
        OTELC_SPAN("burst_span", OTELC_INT("thread", b->id));
        OTELC_INFO(lg, "burst", OTELC_INT("thread", b->id), OTELC_INT("i", i));
        if (i % 1000 == 999)
            (void)otelc_flush(5000);
    }
    return NULL;
}

static void concurrent_producers_and_flushes(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.overflow = OTELC_OVERFLOW_BLOCK;
    o.block_timeout_ms = 10000;
    start(&o);
    pthread_t th[4];
    burst_t b[4];
    for (int i = 0; i < 4; i++) {
        b[i].id = i;
        b[i].logs = 5000;
        assert_int_equal(pthread_create(&th[i], NULL, burst_and_flush, &b[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 20000);
    assert_int_equal(st.logs.exported, 20000);
    assert_int_equal(st.spans.produced, 20000);
    assert_int_equal(st.spans.exported, 20000);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 20000);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 20000);
}

/* ---- an idle pipeline ----------------------------------------------------------------------- */

static double cpu_seconds(void)
{
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return (double)r.ru_utime.tv_sec + (double)r.ru_utime.tv_usec / 1e6 +
           (double)r.ru_stime.tv_sec + (double)r.ru_stime.tv_usec / 1e6;
}

static void idle_pipeline_sleeps(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    start(&o);
    emit_logs(10);
    assert_int_equal(otelc_flush(5000), OTELC_OK);
    double c0 = cpu_seconds();
    struct timespec ts = { 0, 400000000 };
    nanosleep(&ts, NULL);
    double used = cpu_seconds() - c0;
    /* A spinning pipeline would use the whole 0.4 s of a core. */
    assert_true(used < 0.1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(deadlines_hold_while_an_exporter_hangs, teardown),
        cmocka_unit_test_teardown(late_exporter_does_not_disturb_the_next_run, teardown),
        cmocka_unit_test_teardown(slow_exporter_does_not_delay_a_fast_one, teardown),
        cmocka_unit_test_teardown(slow_exporter_with_both_queues_full, teardown),
        cmocka_unit_test_teardown(hung_exporter_does_not_starve_a_healthy_one, teardown),
        cmocka_unit_test_teardown(briefly_slow_exporter_loses_nothing, teardown),
        cmocka_unit_test_teardown(slow_single_exporter_gets_back_pressure, teardown),
        cmocka_unit_test_teardown(failing_exporter_counts_drops, teardown),
        cmocka_unit_test_teardown(batches_respect_the_size_limit, teardown),
        cmocka_unit_test_teardown(schedule_delay_sends_a_partial_batch, teardown),
        cmocka_unit_test_teardown(queue_bound_drops_are_counted_exactly, teardown),
        cmocka_unit_test_teardown(block_policy_loses_nothing, teardown),
        cmocka_unit_test_teardown(drop_policy_never_blocks, teardown),
        cmocka_unit_test_teardown(stats_count_an_exited_thread_while_it_drains, teardown),
        cmocka_unit_test_teardown(exiting_threads_lose_nothing, teardown),
        cmocka_unit_test_teardown(concurrent_producers_and_flushes, teardown),
        cmocka_unit_test_teardown(idle_pipeline_sleeps, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
