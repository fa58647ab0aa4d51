/*
 * otelc-bench-bytes: buffer bytes per queued record, for otelc-bench.
 *
 * The number needs the calling thread's ring, an internal the shared library
 * hides, so this helper links the static library with the internal headers
 * and reads the ring's head (the bytes the thread has published) before and
 * after each record. A record that wraps around the end of the ring also
 * pays for a padding record; the smallest difference over many records is
 * the cost of the record itself, the number a capacity plan needs.
 *
 * Prints `span_3attrs_bytes <N> bytes/span` (start and end records of a span
 * with the three attributes of span_3attrs) and `log_3attrs_bytes <N>
 * bytes/log` (a log record of log_3attrs inside a span). otelc-bench runs it.
 */
#include "bench_common.h"

#include "core.h"

#include <stdio.h>

#define SAMPLES 1000

static uint64_t head(void)
{
    return atomic_load_explicit(&otelc__tls->ring->head, memory_order_relaxed);
}

int main(void)
{
    otelc_options_t o;
    otelc_logger_t *log = otelc_logger("bench");
    uint64_t span_min = UINT64_MAX, log_min = UINT64_MAX;
    int rc = 0;

    bench_options(&o);
    o.ring_size = 1u << 20;
    if (otelc_init(&o) != OTELC_OK) {
        fprintf(stderr, "otelc-bench-bytes: otelc_init failed\n");
        return 1;
    }
    {
        /* The thread's state and ring are made on its first record. */
        BENCH_SPAN_3ATTRS(0);
    }
    if (otelc__tls == NULL) {
        fprintf(stderr, "otelc-bench-bytes: the thread has no ring\n");
        rc = 1;
        goto out;
    }
    for (int i = 0; i < SAMPLES; i++) {
        uint64_t h0 = head(), d;
        {
            BENCH_SPAN_3ATTRS((int64_t)i);
        }
        d = head() - h0;
        span_min = d < span_min ? d : span_min;
    }
    {
        OTELC_SPAN("bench.log_parent");
        for (int i = 0; i < SAMPLES; i++) {
            uint64_t h0 = head(), d;
            BENCH_LOG_3ATTRS(log, (int64_t)i);
            d = head() - h0;
            log_min = d < log_min ? d : log_min;
        }
    }
    printf("span_3attrs_bytes %llu bytes/span\n", (unsigned long long)span_min);
    printf("log_3attrs_bytes %llu bytes/log\n", (unsigned long long)log_min);
out:
    (void)otelc_shutdown(5000);
    return rc;
}
