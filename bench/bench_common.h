/*
 * bench_common.h: what otelc-bench and otelc-bench-bytes share: the
 * instrumentation of the workloads (so that the bytes measured by the helper
 * are the bytes of the spans the bench times) and an exporter that only
 * counts.
 *
 * Header-only; every function is static.
 */
#ifndef OTELC_BENCH_COMMON_H
#define OTELC_BENCH_COMMON_H

#include <otelc/otelc.h>

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

/* The three attributes of span_3attrs and log_3attrs: a string, an int and a
 * double, as an order gateway would record them. */
#define BENCH_3ATTRS(i)                                                                            \
    OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", (i)), OTELC_DBL("price", 150.25)

/* One span with three attributes, started and ended (at the end of the
 * enclosing block). */
#define BENCH_SPAN_3ATTRS(i) OTELC_SPAN("bench.span", BENCH_3ATTRS(i))

/* One log record with three attributes. */
#define BENCH_LOG_3ATTRS(logger, i) OTELC_INFO((logger), "order sent", BENCH_3ATTRS(i))

/*
 * The exporter every workload exports into: it counts the records of each
 * signal and does nothing else, so that the bench measures otelc and not an
 * encoder. It lives in static storage and outlives every otelc_init():
 * destroy() does not free it.
 */
typedef struct bench_exporter {
    otelc_exporter_t base;
    _Atomic uint64_t spans, logs, batches;
} bench_exporter_t;

static otelc_status_t bench_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                   uint32_t timeout_ms, otelc_export_result_t *result)
{
    bench_exporter_t *e = (bench_exporter_t *)(void *)self;
    (void)timeout_ms;
    (void)result;
    if (batch->signal == OTELC_SIGNAL_TRACES)
        atomic_fetch_add_explicit(&e->spans, batch->n, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&e->logs, batch->n, memory_order_relaxed);
    atomic_fetch_add_explicit(&e->batches, 1, memory_order_relaxed);
    return OTELC_OK;
}

static void bench_exporter_destroy(otelc_exporter_t *self)
{
    (void)self;
}

static const otelc_exporter_ops_t bench_exporter_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "bench-counter",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = bench_export,
    .destroy = bench_exporter_destroy,
};

static bench_exporter_t bench_counter = { { &bench_exporter_ops }, 0, 0, 0 };
static otelc_exporter_t *bench_exporters[1] = { &bench_counter.base };

/*
 * Options of every workload: the defaults (not the environment, so that runs
 * compare), the counting exporter as the only one, and no named exporter.
 */
static void bench_options(otelc_options_t *o)
{
    otelc_options_default(o);
    o->service_name = "otelc-bench";
    o->traces_exporter = "none";
    o->logs_exporter = "none";
    o->exporters = bench_exporters;
    o->n_exporters = 1;
}

#endif /* OTELC_BENCH_COMMON_H */
