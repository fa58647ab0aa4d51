/*
 * otelc/log.h: structured logs.
 *
 *     otelc_logger_t *log = otelc_logger("execution.order_manager");
 *     OTELC_INFO(log, "order sent", OTELC_STR("order_id", "ORD123"), OTELC_DBL("price", 150.25));
 *     OTELC_EVENT(log, OTELC_SEV_INFO, "order_filled", "order filled", OTELC_INT("qty", 100));
 *
 * A record carries its logger's name (the instrumentation scope), the
 * OpenTelemetry severity, the message (the body), optional event name
 * (`event.name`, for audit events), its attributes, the fields bound with
 * OTELC_BIND, and the trace id, span id and correlation id of the thread's
 * context. The message is copied as it is: it is not a format string.
 *
 * A record below its logger's level costs one load and one compare; its
 * arguments are not evaluated. Above it, the record is copied into the
 * thread's own buffer: no lock, no allocation, no system call but the clock.
 */
#ifndef OTELC_LOG_H
#define OTELC_LOG_H

#include <otelc/attr.h>
#include <otelc/common.h>

#ifdef __cplusplus
#include <atomic>
#define OTELC__ATOMIC_INT std::atomic<int>
#define OTELC__LOAD_RELAXED(x) ((x).load(std::memory_order_relaxed))
#else
#include <stdatomic.h>
#define OTELC__ATOMIC_INT _Atomic int
#define OTELC__LOAD_RELAXED(x) atomic_load_explicit(&(x), memory_order_relaxed)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* OpenTelemetry severity numbers (the first of each range). */
typedef enum otelc_severity {
    OTELC_SEV_TRACE = 1,
    OTELC_SEV_DEBUG = 5,
    OTELC_SEV_INFO = 9,
    OTELC_SEV_WARN = 13,
    OTELC_SEV_ERROR = 17,
    OTELC_SEV_FATAL = 21,
} otelc_severity_t;

/* A level above every severity: the logger records nothing. */
#define OTELC_SEV_OFF 25

/*
 * A named logger. Opaque but for its first member, which the macros read.
 * Made on first use and never freed: keep the pointer in a static.
 */
typedef struct otelc_logger otelc_logger_t;
typedef struct otelc__logger_head {
    OTELC__ATOMIC_INT min_severity; /* records below it are skipped */
    uint32_t scope;                 /* the logger's instrumentation scope */
} otelc__logger_head_t;

/*
 * The logger for `name` (dotted, e.g. "trading.signals"), made on first use.
 * May be called before otelc_init(): its level is set when the SDK starts.
 * Never returns NULL (when memory is short, a shared logger that records
 * nothing). Thread-safe.
 */
OTELC_API otelc_logger_t *otelc_logger(const char *name);

/* The logger's name (NUL-terminated, lives as long as the logger). */
OTELC_API const char *otelc_logger_name(const otelc_logger_t *logger);

/*
 * Sets the logger's minimum severity (OTELC_SEV_OFF disables it) until the
 * next otelc_init(). Thread-safe; takes effect at once on every thread.
 */
OTELC_API void otelc_logger_set_level(otelc_logger_t *logger, int severity);
OTELC_API int otelc_logger_level(const otelc_logger_t *logger);

/* True when a record of `severity` would be recorded. */
static inline bool otelc_logger_enabled(const otelc_logger_t *logger, int severity)
{
    return severity >=
           OTELC__LOAD_RELAXED(((const otelc__logger_head_t *)(const void *)logger)->min_severity);
}

/*
 * Emits a record. `message` (len bytes, or OTELC_NUL_TERMINATED) and
 * `event_name` (NULL for none) and the attributes are copied. Checks the
 * level itself; the macros check it first so that nothing is evaluated when
 * the level is off.
 */
OTELC_API void otelc_log(otelc_logger_t *logger, int severity, const char *event_name,
                         const char *message, size_t message_len, const otelc_attr_t *attrs,
                         size_t n_attrs);

/* Internal: the macros' entry point. `site` is the call site's static
 * state (otelc's: what its first call taught it), initialised to
 * OTELC__LOG_SITE_INIT or zero. */
typedef struct otelc_log_site {
    const void *shape;
} otelc_log_site_t;
#define OTELC__LOG_SITE_INIT                                                                       \
    {                                                                                              \
        &otelc__site_unlearned_v2                                                                  \
    }
OTELC_API void otelc__log_site(otelc_logger_t *logger, int severity, otelc_log_site_t *site,
                               const char *event_name, const char *message, size_t message_len,
                               const otelc_attr_t *attrs, size_t n_attrs);

/* Severity text of OpenTelemetry ("INFO", "WARN2", ...); static storage. */
OTELC_API const char *otelc_severity_text(int severity);

/*
 * Reads a level as the settings do (OTELC_LEVEL, OTELC_LOGGER_LEVELS): a
 * name, case-insensitive, among TRACE, DEBUG, INFO, WARN, WARNING, ERROR,
 * CRITICAL, FATAL and OFF, or a severity number 1..24; blanks around it are
 * ignored. True and *out set when it reads; false (and *out untouched) for
 * anything else or NULL.
 */
OTELC_API bool otelc_severity_parse(const char *text, int *out);

/* ---- macros ------------------------------------------------------------ */

#if defined(OTELC_DISABLE)
#define OTELC_LOG(logger, severity, ...) ((void)0)
#define OTELC_EVENT(logger, severity, event, ...) ((void)0)
#else
/* A macro's record: the inline path (otelc/fast.h) when it can (it writes
 * no event name: an event's record is the library's), else the library.
 * Each argument is evaluated once. */
#define OTELC__LOG_EMIT(lg, sev, site, event, message, ...)                                        \
    do {                                                                                           \
        const otelc_attr_t otelc__a[] = { OTELC__ATTR_NONE, __VA_ARGS__ };                         \
        const size_t otelc__n = sizeof(otelc__a) / sizeof(otelc__a[0]) - 1u;                       \
        const char *const otelc__m = (message);                                                    \
        const char *const otelc__ev = (event);                                                     \
        const size_t otelc__ml = OTELC__CONST_LEN(message, OTELC_NUL_TERMINATED);                  \
        if (!(otelc__ev == NULL && otelc__log_fast((lg), (sev), &(site).shape, otelc__m,           \
                                                   otelc__ml, otelc__a + 1, otelc__n)))            \
            otelc__log_call((lg), (sev), &(site), otelc__ev, otelc__m, otelc__ml, otelc__a,        \
                            otelc__n);                                                             \
    } while (0)

/* OTELC_LOG(logger, severity, "message", attrs...) */
#define OTELC_LOG(logger, severity, ...)                                                           \
    do {                                                                                           \
        otelc_logger_t *const otelc__lg = (logger);                                                \
        const int otelc__sev = (severity);                                                         \
        static otelc_log_site_t otelc__site = OTELC__LOG_SITE_INIT;                                \
        if (OTELC_UNLIKELY(otelc_logger_enabled(otelc__lg, otelc__sev)))                           \
            OTELC__LOG_EMIT(otelc__lg, otelc__sev, otelc__site, NULL, OTELC__FIRST(__VA_ARGS__),   \
                            OTELC__REST(__VA_ARGS__));                                             \
    } while (0)

/* OTELC_EVENT(logger, severity, "order_filled", "message", attrs...): an audit event. */
#define OTELC_EVENT(logger, severity, event, ...)                                                  \
    do {                                                                                           \
        otelc_logger_t *const otelc__lg = (logger);                                                \
        const int otelc__sev = (severity);                                                         \
        static otelc_log_site_t otelc__site = OTELC__LOG_SITE_INIT;                                \
        if (OTELC_UNLIKELY(otelc_logger_enabled(otelc__lg, otelc__sev)))                           \
            OTELC__LOG_EMIT(otelc__lg, otelc__sev, otelc__site, (event),                           \
                            OTELC__FIRST(__VA_ARGS__), OTELC__REST(__VA_ARGS__));                  \
    } while (0)
#endif

#define OTELC_TRACE(logger, ...) OTELC_LOG(logger, OTELC_SEV_TRACE, __VA_ARGS__)
#define OTELC_DEBUG(logger, ...) OTELC_LOG(logger, OTELC_SEV_DEBUG, __VA_ARGS__)
#define OTELC_INFO(logger, ...) OTELC_LOG(logger, OTELC_SEV_INFO, __VA_ARGS__)
#define OTELC_WARN(logger, ...) OTELC_LOG(logger, OTELC_SEV_WARN, __VA_ARGS__)
#define OTELC_ERROR(logger, ...) OTELC_LOG(logger, OTELC_SEV_ERROR, __VA_ARGS__)
#define OTELC_FATAL(logger, ...) OTELC_LOG(logger, OTELC_SEV_FATAL, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

/* The macros' inline path; after the declarations it uses. */
#include <otelc/fast.h>

#endif /* OTELC_LOG_H */
