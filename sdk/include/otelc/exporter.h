/*
 * otelc/exporter.h: the plug-in interface between the pipeline and exporters.
 *
 * The pipeline thread assembles records into batches and hands each batch to
 * every exporter that takes its signal. Each exporter runs on a worker thread
 * of its own, behind a bounded queue, so that one slow or dead backend never
 * delays another: when an exporter's queue is full, the batch is dropped for it
 * and counted (reason "exporter").
 *
 * An exporter is a struct whose first member is `const otelc_exporter_ops_t *`
 * (the "base struct first" pattern):
 *
 *     struct my_exporter { otelc_exporter_t base; int fd; };
 *     static const otelc_exporter_ops_t my_ops = {
 *         .version = OTELC_EXPORTER_INTERFACE_VERSION, .name = "mine",
 *         .signals = OTELC_SIGNAL_LOGS, .export_batch = my_export, .destroy = my_destroy,
 *     };
 *
 * Guarantees to an exporter: export() is never called concurrently on one
 * instance, nor concurrently with force_flush(); shutdown() is called once,
 * after the last export(); destroy() is called last. The batch and every
 * pointer in it are valid only during the export() call and are read-only.
 */
#ifndef OTELC_EXPORTER_H
#define OTELC_EXPORTER_H

#include <otelc/attr.h>
#include <otelc/common.h>
#include <otelc/config.h>
#include <otelc/log.h>
#include <otelc/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A string view into a batch; `ptr` is also NUL-terminated. */
typedef struct otelc_str {
    const char *ptr;
    size_t len;
} otelc_str_t;

/* The resource every record of the process shares (service.name, ...). */
typedef struct otelc_resource {
    const otelc_attr_t *attrs; /* keys and string values are NUL-terminated */
    size_t n_attrs;
} otelc_resource_t;

/* An instrumentation scope: a tracer's or a logger's name and version. */
typedef struct otelc_scope_info {
    otelc_str_t name;
    otelc_str_t version; /* empty when unknown */
} otelc_scope_info_t;

typedef struct otelc_event_data {
    uint64_t time_ns;
    otelc_str_t name;
    const otelc_attr_t *attrs;
    uint32_t n_attrs;
    uint32_t dropped_attrs;
} otelc_event_data_t;

typedef struct otelc_link_data {
    otelc_span_context_t ctx;
    const otelc_attr_t *attrs;
    uint32_t n_attrs;
    uint32_t dropped_attrs;
} otelc_link_data_t;

/* One finished span. Attribute values longer than the limit were truncated;
 * masked values read "***MASKED***". */
typedef struct otelc_span_data {
    otelc_span_context_t ctx;
    uint8_t parent_span_id[OTELC_SPAN_ID_SIZE]; /* all zero for a root span */
    bool parent_is_remote;
    otelc_str_t trace_state;
    otelc_str_t name;
    otelc_span_kind_t kind;
    uint64_t start_ns, end_ns; /* ns since the Unix epoch */
    otelc_status_code_t status_code;
    otelc_str_t status_message;
    const otelc_scope_info_t *scope;
    otelc_str_t correlation_id; /* empty when none; also attribute correlation.id */
    const otelc_attr_t *attrs;
    uint32_t n_attrs, dropped_attrs;
    const otelc_event_data_t *events;
    uint32_t n_events, dropped_events;
    const otelc_link_data_t *links;
    uint32_t n_links, dropped_links;
} otelc_span_data_t;

/* One log record. */
typedef struct otelc_log_data {
    uint64_t time_ns;                /* when it was emitted */
    uint64_t observed_time_ns;       /* the same: otelc observes at emit time */
    otelc_severity_t severity;       /* 1..24 */
    otelc_str_t severity_text;       /* "INFO", "WARN", ... */
    otelc_str_t body;                /* the message */
    otelc_str_t event_name;          /* empty when none */
    const otelc_scope_info_t *scope; /* the logger: name = logger name */
    otelc_span_context_t ctx;        /* trace and span of the thread's context; zero when none */
    otelc_str_t correlation_id;
    const otelc_attr_t *attrs; /* the record's own, then the bound fields */
    uint32_t n_attrs, dropped_attrs;
} otelc_log_data_t;

/* What export() receives: records of one signal. */
typedef struct otelc_batch {
    otelc_signal_t signal;
    const otelc_resource_t *resource;
    const otelc_span_data_t *spans; /* signal == OTELC_SIGNAL_TRACES */
    const otelc_log_data_t *logs;   /* signal == OTELC_SIGNAL_LOGS */
    size_t n;
} otelc_batch_t;

/*
 * What one export_batch() call delivered, filled by the exporter.
 *
 * The rule is in `accepted`: the number of the batch's records that were
 * delivered whole (written, sent and acknowledged: whatever "exported"
 * means for this exporter). The caller sets it to OTELC_EXPORT_UNSET
 * (SIZE_MAX) before the call; left so, it follows the status: OTELC_OK
 * means all `batch->n` records, any other status none. An exporter that
 * delivered part of a batch sets it (0 to n) whatever status it returns;
 * a value above n counts as n. The pipeline counts `accepted` records as
 * exported and the rest as dropped (reason "exporter"); which records they
 * were is not said, only how many.
 *
 * The other fields describe the records not accepted; the caller sets
 * them to zero (and `message` to NULL) before the call:
 * - `rejected`: those the backend refused as invalid, that no retry will
 *   deliver (the others failed in transit), at most n - accepted. The
 *   pipeline counts them as dropped with reason "rejected", the rest of
 *   the records not accepted with reason "exporter".
 * - `message`: why, in a few words, for the pipeline's diagnostic; a string
 *   that lives at least until the next call on this instance. NULL: the
 *   status says enough.
 * - `retryable`, `retry_after_ms`: the failure is transient and a retry
 *   after that long (0: the exporter's own backoff) may succeed. The
 *   pipeline does not hand a batch back: an exporter that retries does so
 *   within its export_batch() call and its timeout (or spools), and says
 *   so here for the diagnostic; what it still did not deliver is dropped.
 *
 * `result` is never NULL. A program that calls an exporter directly
 * starts from OTELC_EXPORT_RESULT_INIT, as the pipeline does.
 */
typedef struct otelc_export_result {
    size_t accepted;
    size_t rejected;
    const char *message;
    bool retryable;
    uint32_t retry_after_ms;
} otelc_export_result_t;

/* `accepted` as the caller leaves it: the exporter did not set it. */
#define OTELC_EXPORT_UNSET SIZE_MAX

/* What the caller stores in the result before each call. */
#define OTELC_EXPORT_RESULT_INIT                                                                   \
    {                                                                                              \
        OTELC_EXPORT_UNSET, 0, NULL, false, 0                                                      \
    }

typedef struct otelc_exporter otelc_exporter_t;

/*
 * The version of this interface: of the ops table below, of the batch and
 * record structs and of the export result. An exporter stores the value it
 * was compiled with in its ops table; otelc refuses (with an error naming
 * the exporter and both versions) an exporter of another version instead of
 * calling it through a table or reading records of another shape. The
 * number changes whenever one of those structs changes in a way a compiled
 * exporter would misread.
 */
#define OTELC_EXPORTER_INTERFACE_VERSION 2u

typedef struct otelc_exporter_ops {
    uint32_t version; /* OTELC_EXPORTER_INTERFACE_VERSION, as the exporter was built */
    const char *name; /* for diagnostics and statistics */
    unsigned signals; /* OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS */
    /* Delivers a batch. OTELC_OK with `result` untouched: every record is
     * exported; any other status with `result` untouched: none is, and the
     * whole batch counts as dropped by this exporter. An exporter that
     * delivered part of the batch says how much in `result->accepted`
     * (see otelc_export_result_t). `timeout_ms` is the export timeout of
     * the signal; honour it. Required. */
    otelc_status_t (*export_batch)(otelc_exporter_t *self, const otelc_batch_t *batch,
                                   uint32_t timeout_ms, otelc_export_result_t *result);
    /* Pushes out what the exporter buffers. Optional (NULL). */
    otelc_status_t (*force_flush)(otelc_exporter_t *self, uint32_t timeout_ms);
    /* Releases connections; no export follows. Optional. */
    void (*shutdown)(otelc_exporter_t *self, uint32_t timeout_ms);
    /* Frees the instance. Required. */
    void (*destroy)(otelc_exporter_t *self);
    /* Called in a child process right after fork(), on the forking thread,
     * before any other call: the parent's threads do not exist there, so
     * reset locks they may have held and forget connections shared with
     * the parent. Only async-signal-safe calls are allowed (POSIX fork
     * handler rules). Optional. */
    void (*fork_child)(otelc_exporter_t *self);
} otelc_exporter_ops_t;

struct otelc_exporter {
    const otelc_exporter_ops_t *ops;
};

/*
 * Exporters by name (OTEL_TRACES_EXPORTER, OTEL_LOGS_EXPORTER, the config
 * file) are components with a create() function: see otelc/settings.h,
 * otelc_component_register().
 */

/*
 * True when an exporter of that name can be made: the built-in console, or
 * a component registered by its library (file, with libotelc_file linked)
 * or by the program.
 * For programs that choose a default, as the trading demo does. Thread-safe.
 */
OTELC_API bool otelc_exporter_factory_exists(const char *name);

/*
 * Diagnostics for exporters and other components built as libraries of their
 * own: the function the core reports its own problems with. The line goes to
 * stderr as "otelc: <level>: <message>", at most once per 10 seconds per
 * `key` (the next one says how many were suppressed), and only when `level`
 * (OTELC_DIAG_ERROR, _WARN, _INFO, _DEBUG) is within OTEL_LOG_LEVEL. `key` is
 * a static string naming the problem, such as "exporter.mine.connect": give
 * different problems different keys so that one does not silence the other.
 * Control characters in the message are escaped when it is printed. Safe
 * from any thread; not async-signal-safe. errno is preserved.
 */
#if defined(__GNUC__)
#define OTELC_PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define OTELC_PRINTF_LIKE(a, b)
#endif
OTELC_API void otelc_diag(int level, const char *key, const char *fmt, ...) OTELC_PRINTF_LIKE(3, 4);

/*
 * Copies `n` bytes of `s` into `buf` (`size` bytes, at least 8) for a
 * diagnostic that shows a value from outside (a path, a server's reply):
 * control characters become \n, \r, \t or \xNN, a backslash becomes \\,
 * other bytes (UTF-8 included) are kept; a copy that does not fit is cut
 * between two escapes and ends in "...". Always NUL-terminates; returns buf.
 */
OTELC_API const char *otelc_diag_escape(const char *s, size_t n, char *buf, size_t size);

/* The console exporter (human text on stderr or stdout), for direct use. */
typedef struct otelc_console_options {
    size_t struct_size; /* 0: this version's fields (see otelc_span_options_t) */
    int min_severity; /* records below it are not printed */
    int color;        /* -1 auto (a terminal), 0 never, 1 always */
    int fd;           /* file descriptor to write to; 0 (a zeroed struct) means 1, stdout */
} otelc_console_options_t;

OTELC_API otelc_status_t otelc_console_exporter_create(const otelc_console_options_t *opts,
                                                       otelc_exporter_t **out) OTELC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* OTELC_EXPORTER_H */
