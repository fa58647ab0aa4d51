/*
 * otelc/otelc.h: the whole public API of otelc, and the SDK's lifecycle.
 *
 *     #include <otelc/otelc.h>
 *
 *     int main(void) {
 *         if (otelc_init(NULL) != OTELC_OK) { ... }   // from OTEL_* variables
 *         otelc_logger_t *log = otelc_logger("execution.order_manager");
 *         OTELC_CORRELATION("trade-12345") {
 *             OTELC_SPAN("place_order", OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100));
 *             OTELC_INFO(log, "order sent", OTELC_STR("order_id", "ORD123"));
 *         }
 *         otelc_shutdown(2000);
 *     }
 *
 * Lifecycle: otelc_init() starts the pipeline thread and the exporters;
 * otelc_flush() waits until what was recorded so far is exported;
 * otelc_shutdown() flushes and stops. Every other call is valid at any time:
 * before init and after shutdown it is a no-op (loggers may be created
 * earlier; they start recording at init). fork() is supported: the child
 * starts with empty buffers and a pipeline of its own.
 *
 * Signal handlers. These may be called from a handler that runs on an
 * application thread: otelc_log() and the log macros, the span starts and
 * ends and their macros, otelc_span_set_attrs/add_event/add_link/
 * set_status/record_error, the correlation, bind and baggage scopes, and
 * the readers of the current context. They take no lock, allocate nothing
 * and make no system call but the clock's, provided that:
 *   - the thread already made an otelc call outside the handler (its first
 *     call allocates the thread's buffer; from a handler that call records
 *     nothing if it interrupted another one);
 *   - each span or log macro the handler uses was called once before
 *     outside it (a macro's call site learns its shape on its first
 *     recorded call, which allocates once per site), or the handler
 *     calls the functions (otelc_log, otelc_span_start), which learn
 *     nothing;
 *   - the record fits a quarter of the thread's buffer (a larger one is
 *     built in a heap block, see OTELC_RING_SIZE);
 *   - the clock is otelc's own (a user clock_fn must itself be safe).
 * A handler that interrupts its thread while that thread is inside one of
 * these calls cannot write without corrupting the record it interrupted:
 * its record is dropped and counted (reason "reentrant"), which the
 * pipeline reports; a span it tries to end then stays open. Not safe in a
 * handler: otelc_init, otelc_flush, otelc_shutdown, otelc_stats, capture
 * and extract (they allocate or lock), and the logger and tracer lookups
 * on first use of a name. otelc's own threads block every signal, so a
 * process-directed signal is always handled on an application thread.
 * For the same reason a user sampler, id generator or clock that calls
 * otelc back on the same thread is dropped (reentrant).
 */
#ifndef OTELC_OTELC_H
#define OTELC_OTELC_H

#include <otelc/attr.h>
#include <otelc/common.h>
#include <otelc/config.h>
#include <otelc/context.h>
#include <otelc/exporter.h>
#include <otelc/http.h>
#include <otelc/log.h>
#include <otelc/perf.h>
#include <otelc/propagation.h>
#include <otelc/settings.h>
#include <otelc/thread.h>
#include <otelc/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Starts the SDK. `opts` NULL: otelc_options_init() (defaults + environment).
 * The options are copied. With `disabled` set (OTEL_SDK_DISABLED=true) it
 * returns OTELC_OK and every call stays a no-op. An exporter that cannot be
 * made is reported and left out; init still succeeds with the others.
 *
 * Returns OTELC_ERR_STATE when already started, OTELC_ERR_NOMEM or
 * OTELC_ERR_IO (threads could not be started). Not thread-safe with itself or
 * with otelc_shutdown(); call it once, early, from one thread.
 */
OTELC_API otelc_status_t otelc_init(const otelc_options_t *opts) OTELC_WARN_UNUSED;

/*
 * Exports everything recorded before the call, waiting at most `timeout_ms`
 * (even when an exporter hangs). Returns OTELC_OK when every exporter
 * finished, OTELC_ERR_TIMEOUT when the deadline passed, OTELC_ERR_STATE when
 * the SDK is not running. Thread-safe.
 */
OTELC_API otelc_status_t otelc_flush(uint32_t timeout_ms);

/*
 * Flushes, stops the pipeline and the exporters, and returns within
 * `timeout_ms`. Records still in flight at the deadline are counted as dropped
 * (reason "shutdown"); an exporter that hangs is abandoned (its thread is left
 * to finish alone). With OTELC_STATS=1 prints the summary line on stderr.
 * Safe to call twice and before init. Afterwards every call is a no-op.
 */
OTELC_API otelc_status_t otelc_shutdown(uint32_t timeout_ms);

/* True between a successful otelc_init() and otelc_shutdown(), unless disabled. */
OTELC_API bool otelc_is_enabled(void);

/* Why records were dropped. */
typedef enum otelc_drop_reason {
    OTELC_DROP_QUEUE_FULL = 0, /* a thread's buffer or the export queue had no room */
    OTELC_DROP_SAMPLER = 1,    /* the sampler decided not to record (spans) */
    OTELC_DROP_EXPORTER = 2,   /* an exporter failed, timed out, or its queue was full */
    OTELC_DROP_SHUTDOWN = 3,   /* still in flight when shutdown's deadline passed */
    OTELC_DROP_INVALID = 4,    /* malformed: lengths that do not fit the record */
    OTELC_DROP_REENTRANT = 5,  /* written from a signal handler that interrupted otelc on its
                                * thread (see "Signal handlers" in otelc.h) */
    OTELC_DROP_REJECTED = 6,   /* the backend refused it (OTLP partial success): a retry
                                * would not deliver it */
    OTELC_DROP_NOMEM = 7,      /* the pipeline could not allocate what the record needs */
    OTELC_DROP_LIMIT = 8,      /* beyond a bound: too large even shortened, or more spans
                                * open at once than otelc tracks */
    OTELC_DROP_REASONS = 9
} otelc_drop_reason_t;

/* Room in the stats for drop reasons: more than there are, so that a reason
 * added later does not move the fields that follow in a program built
 * against this header. Slots past OTELC_DROP_REASONS read 0. */
#define OTELC_DROP_SLOTS 16

typedef struct otelc_signal_stats {
    uint64_t produced;                  /* spans started / log records emitted above their level */
    uint64_t exported;                  /* delivered by every exporter of the signal */
    uint64_t dropped[OTELC_DROP_SLOTS]; /* by otelc_drop_reason_t */
    uint64_t pending;                   /* not yet exported nor dropped (in buffers or in flight) */
    /* Records larger than otelc carries whole (16 MiB, or more than 64 MiB
     * of such records waiting at once) that were shortened to fit a
     * quarter of their thread's buffer: values cut, attributes that did not
     * fit left out (in the record's dropped attributes count). They are
     * exported, so this is not a drop reason. */
    uint64_t truncated;
} otelc_signal_stats_t;

typedef struct otelc_stats {
    otelc_signal_stats_t spans;
    otelc_signal_stats_t logs;
    uint64_t threads; /* live application threads that have recorded */
    uint64_t batches_exported, batches_failed;
    /* CPU time the pipeline thread has used since init (since the first
     * use after a fork in a child), as of its last drain: with `exported`,
     * what a record costs the pipeline. 0 where the clock cannot be read. */
    uint64_t pipeline_cpu_ns;
} otelc_stats_t;

/*
 * Fills `out` with the counters since init. Exact once the pipeline is idle
 * (after otelc_flush()): produced == exported + sum(dropped) + pending, with
 * pending 0 then. Thread-safe; costs a lock and a walk over the threads. A
 * macro, so that the size of the caller's struct goes with it: a newer
 * library writes no more than a program built against this header has.
 */
OTELC_API void otelc_stats_sized(otelc_stats_t *out, size_t struct_size);
#define otelc_stats(out) otelc_stats_sized((out), sizeof(otelc_stats_t))

/* Sum of the dropped counters of one signal. */
OTELC_API uint64_t otelc_signal_stats_dropped(const otelc_signal_stats_t *s);

/* Name of a drop reason: "queue_full", "sampler", "exporter", "shutdown", "invalid",
 * "reentrant", "rejected", "nomem", "limit"; "unknown" for another value.
 * New reasons are added at the end, before OTELC_DROP_REASONS. */
OTELC_API const char *otelc_drop_reason_str(otelc_drop_reason_t reason);

/*
 * Writes the one-line summary ("otelc: spans produced=N exported=N dropped=0
 * logs produced=M exported=M dropped=0", with a per-reason breakdown when
 * anything was dropped) into `buf`. Returns the length it needed.
 */
OTELC_API size_t otelc_stats_format(const otelc_stats_t *stats, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_OTELC_H */
