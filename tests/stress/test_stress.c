/*
 * test_stress.c: eight threads flat out, and every record accounted for.
 *
 * Each thread runs iterations of: a correlation scope (which starts a root
 * span), bound fields, an outer span with an event and a log, an inner span
 * with late attributes, sometimes an error, and a log; every few iterations
 * it captures its context and hands it to the next thread, which attaches it
 * and records a span and a log there. An exporter that keeps only span ids
 * and a few facts per record receives everything.
 *
 * Run 1 (rings large enough to hold the whole run): nothing may be dropped,
 * the exporter must see every record otelc counts as exported, every span's
 * parent must be an exported span, and every log must carry an exported
 * span's id, its correlation id and the bound fields.
 *
 * Run 2 (small rings and queues, an exporter slowed down per batch): records
 * are dropped, and for each signal produced == exported + sum(dropped)
 * exactly once the pipeline is idle.
 *
 * OTELC_STRESS_ITERATIONS sets the iterations per thread (default 20000, or
 * 3000 under ThreadSanitizer, which makes everything about ten times slower).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <otelc/otelc.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sanitizers.h"

#define THREADS 8
#define HANDOFF_EVERY 4
#define MAILBOX_SIZE 64

/* ---- an exporter that keeps ids --------------------------------------------------- */

typedef struct id_exporter {
    otelc_exporter_t base;
    pthread_mutex_t mu;
    uint64_t *span_ids;   /* one entry per span, in export order */
    uint64_t *parent_ids; /* the parent of span_ids[i], 0 for a root */
    size_t n_spans, cap_spans, cap_parents;
    uint64_t *log_span_ids;
    size_t n_logs, cap_logs;
    size_t logs_without_correlation, logs_without_bound, logs_without_span;
    size_t spans_without_correlation;
    unsigned delay_us; /* sleep per batch: makes the exporter the bottleneck */
    bool failed_alloc;
} id_exporter_t;

static uint64_t id64(const uint8_t *bytes)
{
    uint64_t v;
    memcpy(&v, bytes, sizeof(v));
    return v;
}

static bool grow(uint64_t **a, size_t *cap, size_t need)
{
    if (need <= *cap)
        return true;
    size_t ncap = *cap ? *cap : 4096;
    while (ncap < need)
        ncap *= 2;
    uint64_t *na = realloc(*a, ncap * sizeof(*na));
    if (na == NULL)
        return false;
    *a = na;
    *cap = ncap;
    return true;
}

static bool has_attr(const otelc_attr_t *attrs, uint32_t n, const char *key)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(attrs[i].key, key) == 0)
            return true;
    return false;
}

static otelc_status_t id_export(otelc_exporter_t *self, const otelc_batch_t *b, uint32_t timeout,
                                otelc_export_result_t *result)
{
    id_exporter_t *e = (id_exporter_t *)(void *)self;
    (void)timeout;
    (void)result;
    if (e->delay_us) {
        struct timespec ts = { 0, (long)e->delay_us * 1000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&e->mu);
    if (b->signal == OTELC_SIGNAL_TRACES) {
        if (!grow(&e->span_ids, &e->cap_spans, e->n_spans + b->n) ||
            !grow(&e->parent_ids, &e->cap_parents, e->n_spans + b->n)) {
            e->failed_alloc = true;
            goto out;
        }
        for (size_t i = 0; i < b->n; i++) {
            const otelc_span_data_t *s = &b->spans[i];
            e->span_ids[e->n_spans] = id64(s->ctx.span_id);
            e->parent_ids[e->n_spans] = id64(s->parent_span_id);
            e->n_spans++;
            e->spans_without_correlation += s->correlation_id.len == 0;
        }
    } else {
        if (!grow(&e->log_span_ids, &e->cap_logs, e->n_logs + b->n)) {
            e->failed_alloc = true;
            goto out;
        }
        for (size_t i = 0; i < b->n; i++) {
            const otelc_log_data_t *l = &b->logs[i];
            e->log_span_ids[e->n_logs++] = id64(l->ctx.span_id);
            e->logs_without_span += !otelc_span_context_is_valid(&l->ctx);
            e->logs_without_correlation += l->correlation_id.len == 0;
            e->logs_without_bound += !has_attr(l->attrs, l->n_attrs, "worker");
        }
    }
out:
    pthread_mutex_unlock(&e->mu);
    return OTELC_OK;
}

/* The test owns the exporter and frees what it collected (id_free): otelc's
 * destroy has nothing to do. */
static void id_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t id_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "stress-ids",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = id_export,
    .destroy = id_destroy,
};

static void id_init(id_exporter_t *e, unsigned delay_us)
{
    memset(e, 0, sizeof(*e));
    e->base.ops = &id_ops;
    e->delay_us = delay_us;
    pthread_mutex_init(&e->mu, NULL);
}

static void id_free(id_exporter_t *e)
{
    free(e->span_ids);
    free(e->parent_ids);
    free(e->log_span_ids);
    pthread_mutex_destroy(&e->mu);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static bool sorted_has(const uint64_t *v, size_t n, uint64_t key)
{
    return bsearch(&key, v, n, sizeof(*v), cmp_u64) != NULL;
}

/* ---- hand-off between threads ----------------------------------------------------- */

typedef struct mailbox {
    pthread_mutex_t mu;
    otelc_context_t *slot[MAILBOX_SIZE];
    unsigned head, n;
} mailbox_t;

static bool mailbox_put(mailbox_t *m, otelc_context_t *c)
{
    bool ok;
    pthread_mutex_lock(&m->mu);
    ok = m->n < MAILBOX_SIZE;
    if (ok)
        m->slot[(m->head + m->n++) % MAILBOX_SIZE] = c;
    pthread_mutex_unlock(&m->mu);
    return ok;
}

static otelc_context_t *mailbox_get(mailbox_t *m)
{
    otelc_context_t *c = NULL;
    pthread_mutex_lock(&m->mu);
    if (m->n > 0) {
        c = m->slot[m->head];
        m->head = (m->head + 1) % MAILBOX_SIZE;
        m->n--;
    }
    pthread_mutex_unlock(&m->mu);
    return c;
}

/* ---- the workload ----------------------------------------------------------------- */

typedef struct run {
    size_t iterations;
    mailbox_t boxes[THREADS];
    pthread_barrier_t produced; /* every thread has stopped handing off */
    otelc_logger_t *log;
} run_t;

typedef struct worker {
    run_t *run;
    int id;
    pthread_t th;
    size_t handoffs_received;
} worker_t;

/* Records a span and a log under every context handed to this thread. */
static void take_handoffs(worker_t *w)
{
    otelc_context_t *c;
    while ((c = mailbox_get(&w->run->boxes[w->id])) != NULL) {
        OTELC_ATTACHED(c)
        {
            OTELC_SPAN("stress.handoff", OTELC_INT("to", w->id));
            OTELC_INFO(w->run->log, "handed off", OTELC_INT("to", w->id));
        }
        otelc_context_release(c);
        w->handoffs_received++;
    }
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    run_t *r = w->run;
    mailbox_t *next = &r->boxes[(w->id + 1) % THREADS];
    char corr[48];

    for (size_t i = 0; i < r->iterations; i++) {
        snprintf(corr, sizeof(corr), "trade-%d-%zu", w->id, i);
        OTELC_CORRELATION(corr)
        {
            OTELC_BIND(OTELC_INT("worker", w->id), OTELC_STR("desk", "stress"))
            {
                OTELC_SPAN_VAR(outer, "stress.outer", OTELC_INT("i", (int64_t)i),
                               OTELC_STR("symbol", "AAPL"));
                OTELC_SPAN_EVENT(&outer, "tick", OTELC_INT("i", (int64_t)i));
                OTELC_INFO(r->log, "outer", OTELC_INT("i", (int64_t)i));
                {
                    OTELC_SPAN_VAR(inner, "stress.inner", OTELC_DBL("x", (double)i * 0.5));
                    OTELC_SPAN_ATTRS(&inner, OTELC_BOOL("late", 1));
                    if (i % 16 == 0)
                        otelc_span_record_error(&inner, "StressError", "expected");
                    OTELC_WARN(r->log, "inner", OTELC_STR("k", "v"));
                }
                if (i % HANDOFF_EVERY == 0) {
                    otelc_context_t *c = otelc_context_capture();
                    if (c != NULL && !mailbox_put(next, c))
                        otelc_context_release(c);
                }
            }
        }
        take_handoffs(w);
    }
    /* Nobody hands anything on after this barrier: empty the mailbox. */
    pthread_barrier_wait(&r->produced);
    take_handoffs(w);
    return NULL;
}

static size_t iterations(void)
{
    const char *v = getenv("OTELC_STRESS_ITERATIONS");
    if (v != NULL && atol(v) > 0)
        return (size_t)atol(v);
    return UNDER_TSAN ? 3000 : 20000;
}

/* Runs the eight threads to their end. Returns the hand-offs taken. */
static size_t run_workers(size_t n)
{
    run_t r;
    worker_t w[THREADS];
    size_t handoffs = 0;

    memset(&r, 0, sizeof(r));
    r.iterations = n;
    r.log = otelc_logger("stress");
    for (int i = 0; i < THREADS; i++)
        pthread_mutex_init(&r.boxes[i].mu, NULL);
    pthread_barrier_init(&r.produced, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        w[i].run = &r;
        w[i].id = i;
        w[i].handoffs_received = 0;
        assert_int_equal(pthread_create(&w[i].th, NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(w[i].th, NULL);
        handoffs += w[i].handoffs_received;
    }
    pthread_barrier_destroy(&r.produced);
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(r.boxes[i].n, 0);
        pthread_mutex_destroy(&r.boxes[i].mu);
    }
    return handoffs;
}

static void print_signal(const char *run, const char *name, const otelc_signal_stats_t *s)
{
    printf("# %s %s: produced=%llu exported=%llu pending=%llu dropped:", run, name,
           (unsigned long long)s->produced, (unsigned long long)s->exported,
           (unsigned long long)s->pending);
    for (int r = 0; r < OTELC_DROP_REASONS; r++)
        printf(" %s=%llu", otelc_drop_reason_str((otelc_drop_reason_t)r),
               (unsigned long long)s->dropped[r]);
    printf("\n");
}

/* produced == exported + sum(dropped), nothing pending, and the exporter
 * received exactly what otelc counts as exported. */
static void assert_exact(const otelc_signal_stats_t *s, size_t counted)
{
    assert_int_equal(s->pending, 0);
    assert_int_equal(s->produced, s->exported + otelc_signal_stats_dropped(s));
    assert_int_equal(s->exported, counted);
}

static void stress_options(otelc_options_t *o, otelc_exporter_t **list)
{
    otelc_options_default(o);
    o->service_name = "otelc-stress";
    o->traces_exporter = "none";
    o->logs_exporter = "none";
    o->exporters = list;
    o->n_exporters = 1;
    o->level = OTELC_SEV_INFO;
    o->diag_level = OTELC_DIAG_ERROR;
}

/* ---- the tests -------------------------------------------------------------------- */

static void stress_no_drops(void **state)
{
    static id_exporter_t e;
    otelc_exporter_t *list[1] = { &e.base };
    otelc_options_t o;
    otelc_stats_t st;
    size_t n = iterations(), handoffs, missing_parents = 0, orphan_logs = 0;
    /* A thread writes about 1 KiB of records per iteration; its ring holds
     * twice that for the whole run, so that nothing can be dropped however
     * the threads are scheduled. */
    uint64_t ring = 1u << 16;
    (void)state;

    while (ring < (uint64_t)n * 2048u && ring < (1u << 28))
        ring <<= 1;
    id_init(&e, 0);
    stress_options(&o, list);
    o.ring_size = (uint32_t)ring;
    assert_int_equal(otelc_init(&o), OTELC_OK);
    handoffs = run_workers(n);
    assert_int_equal(otelc_flush(60000), OTELC_OK);
    otelc_stats(&st);
    print_signal("no-drops", "spans", &st.spans);
    print_signal("no-drops", "logs", &st.logs);
    assert_false(e.failed_alloc);

    /* Every record of the workload: per iteration a correlation span, two
     * spans and two logs; per hand-off a span and a log. */
    assert_int_equal(st.spans.produced, THREADS * n * 3 + handoffs);
    assert_int_equal(st.logs.produced, THREADS * n * 2 + handoffs);
    assert_int_equal(otelc_signal_stats_dropped(&st.spans), 0);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
    assert_exact(&st.spans, e.n_spans);
    assert_exact(&st.logs, e.n_logs);

    /* Parents and log spans are exported spans. */
    qsort(e.span_ids, e.n_spans, sizeof(uint64_t), cmp_u64);
    for (size_t i = 1; i < e.n_spans; i++)
        assert_true(e.span_ids[i] != e.span_ids[i - 1]); /* ids are unique */
    for (size_t i = 0; i < e.n_spans; i++)
        if (e.parent_ids[i] != 0 && !sorted_has(e.span_ids, e.n_spans, e.parent_ids[i]))
            missing_parents++;
    for (size_t i = 0; i < e.n_logs; i++)
        if (!sorted_has(e.span_ids, e.n_spans, e.log_span_ids[i]))
            orphan_logs++;
    assert_int_equal(missing_parents, 0);
    assert_int_equal(orphan_logs, 0);
    assert_int_equal(e.logs_without_span, 0);
    assert_int_equal(e.logs_without_correlation, 0);
    assert_int_equal(e.logs_without_bound, 0);
    assert_int_equal(e.spans_without_correlation, 0);

    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    otelc_stats(&st);
    assert_exact(&st.spans, e.n_spans);
    assert_exact(&st.logs, e.n_logs);
    id_free(&e);
}

static void stress_with_drops(void **state)
{
    static id_exporter_t e;
    otelc_exporter_t *list[1] = { &e.base };
    otelc_options_t o;
    otelc_stats_t st;
    size_t n = iterations();
    (void)state;

    /* 64 KiB rings hold about a hundred iterations; the exporter takes
     * 32 records per 2 ms batch: the rings fill and records are dropped. */
    id_init(&e, 2000);
    stress_options(&o, list);
    o.ring_size = 1u << 16;
    o.spans_batch.max_queue_size = 64;
    o.spans_batch.max_export_batch_size = 32;
    o.logs_batch.max_queue_size = 64;
    o.logs_batch.max_export_batch_size = 32;
    assert_int_equal(otelc_init(&o), OTELC_OK);
    (void)run_workers(n);
    assert_int_equal(otelc_flush(60000), OTELC_OK);
    otelc_stats(&st);
    print_signal("with-drops", "spans", &st.spans);
    print_signal("with-drops", "logs", &st.logs);
    assert_false(e.failed_alloc);
    assert_true(st.spans.produced >= THREADS * n * 3);
    assert_true(st.logs.produced >= THREADS * n * 2);
    assert_exact(&st.spans, e.n_spans);
    assert_exact(&st.logs, e.n_logs);
    if (otelc_signal_stats_dropped(&st.spans) + otelc_signal_stats_dropped(&st.logs) == 0)
        printf("# with-drops: nothing was dropped; the exactness check had no drops to count\n");

    assert_int_equal(otelc_shutdown(10000), OTELC_OK);
    otelc_stats(&st);
    assert_exact(&st.spans, e.n_spans);
    assert_exact(&st.logs, e.n_logs);
    id_free(&e);
}

/* A failed assertion leaves the SDK running: stop it for the next test. */
static int shutdown_sdk(void **state)
{
    (void)state;
    (void)otelc_shutdown(10000);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(stress_no_drops, shutdown_sdk),
        cmocka_unit_test_teardown(stress_with_drops, shutdown_sdk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
