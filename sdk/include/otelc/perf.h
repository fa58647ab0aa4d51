/*
 * otelc/perf.h: performance spans, for timing a function or a block with
 * the figures the users' @log_performance decorators record.
 *
 *     void place(order_t *o)
 *     {
 *         OTELC_PERF("order_placement", .threshold_ms = 5, .memory = true, .cpu = true);
 *         ...
 *     }
 *
 * A performance span is a span (a child of the thread's active span, the
 * parent of what is made inside) that gets, when it ends, the attributes
 *
 *   execution_time_ms   wall time from begin to end, milliseconds
 *   cpu_usage_percent   (.cpu) this thread's CPU time over the wall time
 *   memory_usage_mb     (.memory) the process's resident memory at the end
 *   memory_delta_mb     (.memory) its change from begin to end
 *   memory_peak_mb      (.memory) the process's peak resident memory so far
 *
 * and, slower than `.threshold_ms`, a WARNING log record (logger
 * "performance" unless `.logger` says otherwise) inside the span, so it
 * carries the span's ids, with the operation and the figures. Spans with
 * execution_time_ms are what the PostgreSQL exporter also stores as rows of
 * logging.performance_logs.
 *
 * OTELC_PERF_VAR(var, "name", options...) names the variable, so that
 * OTELC_PERF_ARGS(&var, attrs...) can add the arguments of the call as
 * attributes (masked like any attribute: OTELC_MASK_KEYS). The function
 * forms otelc_perf_begin() / otelc_perf_end() take the same options.
 *
 * What is measured costs only when asked for: the time is two clock reads;
 * .cpu reads the thread's CPU clock twice (a system call each); .memory
 * reads /proc/self/statm twice and getrusage() once. Nothing is measured
 * for a span that is not recorded (SDK off, sampled out).
 */
#ifndef OTELC_PERF_H
#define OTELC_PERF_H

#include <otelc/common.h>
#include <otelc/log.h>
#include <otelc/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otelc_perf_options {
    size_t struct_size;     /* 0 or sizeof: this version's fields (the macros set it) */
    double threshold_ms;    /* slower than this: a WARNING log record; 0: never */
    bool memory;            /* memory_usage_mb, memory_delta_mb, memory_peak_mb */
    bool cpu;               /* cpu_usage_percent */
    otelc_logger_t *logger; /* of the warning; NULL: otelc_logger("performance") */
} otelc_perf_options_t;

/* A performance span in progress; fields are private. */
typedef struct otelc_perf {
    otelc_span_t span;
    const char *name;
    size_t name_len;
    otelc_perf_options_t opts;
    uint64_t start_ns;     /* CLOCK_MONOTONIC */
    uint64_t cpu_start_ns; /* CLOCK_THREAD_CPUTIME_ID */
    int64_t rss_start;     /* bytes; -1 unknown */
    bool active;
} otelc_perf_t;

/* Starts a performance span named `name` (`len` bytes or
 * OTELC_NUL_TERMINATED) with `opts` (NULL: time only). */
OTELC_API void otelc_perf_begin(otelc_perf_t *perf, const char *name, size_t len,
                                const otelc_perf_options_t *opts);
/* Measures, sets the attributes, warns when slow, ends the span. Once;
 * later calls do nothing. */
OTELC_API void otelc_perf_end(otelc_perf_t *perf);

/* Internal: the macros' begin and scope exit. */
OTELC_API void otelc__perf_site_start(otelc_perf_t *perf, otelc_span_site_t *site,
                                      const otelc_perf_options_t *opts);
OTELC_API void otelc__perf_cleanup(otelc_perf_t *perf);

#if defined(OTELC_DISABLE)
#define OTELC_PERF(...) OTELC_PERF_VAR(OTELC__UNIQUE(otelc__perf_), 0)
#define OTELC_PERF_VAR(var, ...)                                                                   \
    otelc_perf_t var = { .active = 0 };                                                            \
    (void)var
#define OTELC_PERF_ARGS(perf, ...) ((void)0)
#else
/* OTELC_PERF("name", .threshold_ms = N, .memory = true, .cpu = true): a
 * performance span for the rest of the enclosing block. */
#define OTELC_PERF(...) OTELC_PERF_VAR(OTELC__UNIQUE(otelc__perf_), __VA_ARGS__)
#define OTELC_PERF_VAR(var, ...)                                                                   \
    OTELC__SITE(OTELC__CAT(var, _site), OTELC_SPAN_KIND_INTERNAL,                                  \
                "" OTELC__FIRST(__VA_ARGS__) "");                                                  \
    otelc_perf_t var __attribute__((cleanup(otelc__perf_cleanup), unused)) = { .active = 0 };      \
    otelc__perf_site_start(                                                                        \
        &var, &OTELC__CAT(var, _site),                                                             \
        &(const otelc_perf_options_t){ .struct_size = sizeof(otelc_perf_options_t),                \
                                       OTELC__REST(__VA_ARGS__) })
/* OTELC_PERF_ARGS(&perf, attrs...): the call's arguments as attributes. */
#define OTELC_PERF_ARGS(perf, ...) OTELC_SPAN_ATTRS(&(perf)->span, __VA_ARGS__)
#endif

#ifdef __cplusplus
}
#endif

#endif /* OTELC_PERF_H */
