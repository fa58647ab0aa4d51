/*
 * otelc/trace.h: spans.
 *
 * A span times one operation. The scoped macros are the usual way:
 *
 *     static int compute_signal(const char *sym) {
 *         OTELC_FUNC(OTELC_STR("symbol", sym));      // span "compute_signal"
 *         ...
 *         OTELC_SPAN("fetch_quotes", OTELC_INT("depth", 10));
 *         ...
 *         return 0;                                   // both spans end here
 *     }
 *
 * A span made by a macro is the active span until its scope ends, so spans and
 * logs inside become its children. Ending happens through
 * __attribute__((cleanup)), so an early return cannot leak a span.
 *
 * The function API (otelc_span_start / otelc_span_end) serves code that cannot
 * use scopes. Spans are values (otelc_span_t): copy them freely; every copy
 * names the same span. Operations on a span that has ended, was not sampled, or
 * was made while the SDK is off do nothing: instrumented code never needs an
 * `if`.
 *
 * Cost: starting and ending a sampled span with three attributes is a few tens
 * of nanoseconds; nothing is allocated and no lock is taken (the record is
 * copied into the calling thread's own buffer). See README "Performance".
 */
#ifndef OTELC_TRACE_H
#define OTELC_TRACE_H

#include <otelc/attr.h>
#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum otelc_span_kind {
    OTELC_SPAN_KIND_UNSPECIFIED = 0,
    OTELC_SPAN_KIND_INTERNAL = 1,
    OTELC_SPAN_KIND_SERVER = 2,
    OTELC_SPAN_KIND_CLIENT = 3,
    OTELC_SPAN_KIND_PRODUCER = 4,
    OTELC_SPAN_KIND_CONSUMER = 5,
} otelc_span_kind_t;

typedef enum otelc_status_code {
    OTELC_STATUS_UNSET = 0,
    OTELC_STATUS_OK = 1,
    OTELC_STATUS_ERROR = 2,
} otelc_status_code_t;

/* A tracer names the instrumentation scope of its spans. Opaque; never freed. */
typedef struct otelc_tracer otelc_tracer_t;

/*
 * A span handle. A plain value; all fields are otelc's. `ctx` is the span's
 * context (valid even for a span that is not sampled, so that it propagates).
 */
typedef struct otelc_span {
    otelc_span_context_t ctx;
    uint32_t depth; /* position on the thread's context stack + 1; 0 if not active */
    uint32_t flags; /* internal: recording, ended */
} otelc_span_t;

/*
 * A call site's description, kept by the macros in a static object so the
 * hot path passes one pointer. `name` need not be NUL-terminated. `shape`
 * is otelc's: what the site's first call taught it (its attribute keys and
 * types), so that later calls write values only; zero-initialise it.
 */
typedef struct otelc_span_site {
    const char *name;
    uint32_t name_len;
    uint32_t kind; /* otelc_span_kind_t */
    const char *function;
    const char *file;
    uint32_t line;
    const void *shape;
} otelc_span_site_t;

/*
 * The tracer for an instrumentation scope (library or component name), made
 * on first use and kept for the life of the process. `version` may be NULL.
 * Never returns NULL (on OOM, the default tracer). Thread-safe.
 */
OTELC_API otelc_tracer_t *otelc_tracer(const char *scope_name, const char *version);

/* Options of otelc_span_start_ex(). Zero-initialise, then set what you need.
 * The struct grows at its end from one version to the next: `struct_size`
 * 0 (as zero-initialising leaves it) means this version's fields, so that a
 * program built now keeps working with a newer library; a program that uses
 * fields of a later version sets it to sizeof(otelc_span_options_t). */
typedef struct otelc_span_options {
    size_t struct_size;
    otelc_tracer_t *tracer;             /* NULL: the default tracer ("otelc") */
    const char *name;                   /* NULL gives "unnamed" */
    size_t name_len;                    /* or OTELC_NUL_TERMINATED */
    otelc_span_kind_t kind;             /* 0 is read as INTERNAL */
    const otelc_span_context_t *parent; /* NULL: the thread's active span */
    bool root;                          /* start a new trace even when a span is active */
    bool no_activate;                   /* do not make it the thread's active span */
    uint64_t start_time_ns;             /* 0: now */
    const otelc_attr_t *attrs;
    size_t n_attrs;
    const otelc_span_context_t *links; /* links to other spans (no attributes) */
    size_t n_links;
    /* Fields of version 2: read only with struct_size set to
     * sizeof(otelc_span_options_t). */
    uint64_t start_stamp; /* the start as an otelc_clock_stamp(); 0: start_time_ns */
} otelc_span_options_t;

/*
 * Starts a span as a child of the thread's active span (or a root span) and
 * makes it active on this thread. Attributes are copied. Returns the no-op
 * span when the SDK is off, the sampler drops the span, or the thread's buffer
 * is full (counted in otelc_stats()).
 */
OTELC_API otelc_span_t otelc_span_start(const char *name, const otelc_attr_t *attrs,
                                        size_t n_attrs);

/* Starts a span with every option. `opts` NULL is read as all zero. */
OTELC_API otelc_span_t otelc_span_start_ex(const otelc_span_options_t *opts);

/*
 * Ends a span. If it is active on this thread it stops being active (with any
 * spans and scopes started above it that are still open, which is reported).
 * A span may end on another thread than the one that started it; if it was
 * the active span of the starting thread, it stays that thread's active
 * span (the parent of new spans there) until that thread ends its own copy
 * of the handle or leaves the macro's scope. For hand-offs prefer
 * `no_activate` (otelc_span_start_ex). Ending twice, or ending the no-op
 * span, does nothing. `span` NULL is ignored.
 */
OTELC_API void otelc_span_end(otelc_span_t *span);

/* Like otelc_span_end() with an explicit end time (ns since the epoch). */
OTELC_API void otelc_span_end_at(otelc_span_t *span, uint64_t end_time_ns);

/*
 * otelc's clock as its hot path reads it: a stamp with no unit of its own
 * (TSC ticks on x86-64 with an invariant TSC, else nanoseconds), which the
 * pipeline places on the wall clock as it places the SDK's own times. For
 * code that times something itself and makes its span afterwards (a call
 * that has returned: instrumentation/auto): a span started with
 * `start_stamp` and ended with otelc_span_end_stamp() lines up with the
 * other spans of the process to the nanosecond, where wall-clock times
 * converted by the caller could be off by the clocks' jitter. Stamps are
 * valid between otelc_init() and otelc_shutdown() of one run, in one
 * process. Cheap (no system call with a TSC); thread-safe.
 */
OTELC_API uint64_t otelc_clock_stamp(void);

/* Like otelc_span_end() at `stamp`, an otelc_clock_stamp() (0: now). */
OTELC_API void otelc_span_end_stamp(otelc_span_t *span, uint64_t stamp);

/* Adds or replaces attributes. Copied. */
OTELC_API void otelc_span_set_attrs(const otelc_span_t *span, const otelc_attr_t *attrs,
                                    size_t n_attrs);

/* Adds a timed event with attributes. */
OTELC_API void otelc_span_add_event(const otelc_span_t *span, const char *name,
                                    const otelc_attr_t *attrs, size_t n_attrs);

/* Adds a link to another span. */
OTELC_API void otelc_span_add_link(const otelc_span_t *span, const otelc_span_context_t *linked,
                                   const otelc_attr_t *attrs, size_t n_attrs);

/* Sets the status. The description is kept only with OTELC_STATUS_ERROR. */
OTELC_API void otelc_span_set_status(const otelc_span_t *span, otelc_status_code_t code,
                                     const char *description);

/*
 * Records an error the way OpenTelemetry records exceptions: an event
 * "exception" with exception.type and exception.message, and status ERROR
 * with the message. `type` may be NULL.
 */
OTELC_API void otelc_span_record_error(const otelc_span_t *span, const char *type,
                                       const char *message);

/* The thread's active span (a copy of its handle; the no-op span if none). */
OTELC_API otelc_span_t otelc_span_current(void);

/* True when the span is recorded and will be exported. */
static inline bool otelc_span_is_recording(const otelc_span_t *span)
{
    return span != NULL && (span->flags & 1u) != 0;
}

/* Internal entry points of the macros. The span is written in place into
 * the macro's variable (returning it by value made the compiler copy it
 * through a temporary, which stalls on store forwarding). */
OTELC_API void otelc__span_site_start(otelc_span_t *out, otelc_span_site_t *site,
                                      const otelc_attr_t *attrs, size_t n_attrs);
#define OTELC__SPAN_NONE                                                                           \
    {                                                                                              \
        { { 0 }, { 0 }, 0, 0 }, 0, 0                                                               \
    }
OTELC_API void otelc__span_cleanup(otelc_span_t *span);

/* ---- macros ------------------------------------------------------------ */

#if defined(OTELC_DISABLE)

#define OTELC_SPAN(...) OTELC_SPAN_VAR(OTELC__UNIQUE(otelc__span_), 0)
#define OTELC_SPAN_KIND(kind, ...) OTELC_SPAN(__VA_ARGS__)
#define OTELC_SPAN_VAR(var, ...)                                                                   \
    otelc_span_t var = { { { 0 }, { 0 }, 0, 0 }, 0, 0 };                                           \
    (void)var
#define OTELC_FUNC(...) OTELC_SPAN(0)
#define OTELC_SPAN_ATTRS(span, ...) ((void)0)
#define OTELC_SPAN_EVENT(span, ...) ((void)0)

#else

#define OTELC__SITE(var, kind_, name_)                                                             \
    static otelc_span_site_t var = {                                                               \
        name_,    (uint32_t)(sizeof(name_) - 1u), (kind_), __func__, __FILE__,                     \
        __LINE__, &otelc__site_unlearned_v2                                                        \
    }
#define OTELC__ATTR_ARGS(...)                                                                      \
    ((const otelc_attr_t[]){ OTELC__ATTR_NONE, __VA_ARGS__ }) + 1,                                 \
        sizeof((const otelc_attr_t[]){ OTELC__ATTR_NONE, __VA_ARGS__ }) / sizeof(otelc_attr_t) -   \
            1u

/* Declares span `var` of site var##_site and starts it: inline when the
 * call matches the site's shape (otelc/fast.h), else in the library. It
 * ends when `var` goes out of scope. */
#define OTELC__SPAN_BEGIN(var, kind, ...)                                                          \
    otelc_span_t var __attribute__((cleanup(otelc__span_scope_end), unused)) = OTELC__SPAN_NONE;   \
    const otelc_attr_t OTELC__CAT(var, _a)[] = { OTELC__ATTR_NONE, __VA_ARGS__ };                  \
    otelc__span_begin(&var, &OTELC__CAT(var, _site), (kind), OTELC__CAT(var, _a),                  \
                      sizeof(OTELC__CAT(var, _a)) / sizeof(otelc_attr_t) - 1u)

/*
 * OTELC_SPAN_VAR(var, "name", attrs...): declares span `var`, started here and
 * ended when `var` goes out of scope. The name must be a string literal.
 */
#define OTELC_SPAN_KIND_VAR(var, kind, ...)                                                        \
    OTELC__SITE(OTELC__CAT(var, _site), kind, "" OTELC__FIRST(__VA_ARGS__) "");                    \
    OTELC__SPAN_BEGIN(var, kind, OTELC__REST(__VA_ARGS__))
#define OTELC_SPAN_VAR(var, ...) OTELC_SPAN_KIND_VAR(var, OTELC_SPAN_KIND_INTERNAL, __VA_ARGS__)

/* OTELC_SPAN("name", attrs...): a span for the rest of the enclosing block. */
#define OTELC_SPAN(...) OTELC_SPAN_VAR(OTELC__UNIQUE(otelc__span_), __VA_ARGS__)
/* OTELC_SPAN_KIND(OTELC_SPAN_KIND_CLIENT, "name", attrs...) */
#define OTELC_SPAN_KIND(kind, ...)                                                                 \
    OTELC_SPAN_KIND_VAR(OTELC__UNIQUE(otelc__span_), kind, __VA_ARGS__)

/* OTELC_FUNC(attrs...): a span named after the enclosing function. */
#define OTELC_FUNC(...) OTELC__FUNC(OTELC__UNIQUE(otelc__span_), __VA_ARGS__)
#define OTELC__FUNC(var, ...)                                                                      \
    static otelc_span_site_t OTELC__CAT(var, _site) = {                                            \
        __func__, (uint32_t)(sizeof(__func__) - 1u), OTELC_SPAN_KIND_INTERNAL, __func__, __FILE__, \
        __LINE__, &otelc__site_unlearned_v2                                                        \
    };                                                                                             \
    OTELC__SPAN_BEGIN(var, OTELC_SPAN_KIND_INTERNAL, __VA_ARGS__)

/* OTELC_SPAN_ATTRS(&span, attrs...): adds attributes to a span. */
#define OTELC_SPAN_ATTRS(span, ...) otelc_span_set_attrs((span), OTELC__ATTR_ARGS(__VA_ARGS__))
/* OTELC_SPAN_EVENT(&span, "name", attrs...): adds an event. */
#define OTELC_SPAN_EVENT(span, ...)                                                                \
    otelc_span_add_event((span), OTELC__FIRST(__VA_ARGS__),                                        \
                         OTELC__ATTR_ARGS(OTELC__REST(__VA_ARGS__)))

#endif /* OTELC_DISABLE */

#ifdef __cplusplus
}
#endif

/* The macros' inline path; after the declarations it uses. */
#include <otelc/fast.h>

#endif /* OTELC_TRACE_H */
