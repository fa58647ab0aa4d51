/*
 * otelc/context.h: the thread's context, and handing it on.
 *
 * Every application thread has a context: the active span (trace id, span id,
 * flags, tracestate), the correlation id, the fields bound for logs, and the
 * baggage. Spans and logs made on the thread pick it up automatically. Scopes
 * change it and undo the change when they end, innermost first:
 *
 *     OTELC_CORRELATION("trade-12345") {        // correlation id (+ a root span if none)
 *         OTELC_BIND(OTELC_STR("account", "ACC-7")) {   // fields on every log inside
 *             ...
 *         }
 *     }
 *
 * A scope macro runs its block once; leaving the block by any path (break,
 * return, goto) ends the scope. The function forms (…_begin / …_end) exist for
 * code that cannot use block scopes; they must be ended in reverse order on the
 * thread that began them (an out-of-order end also ends the scopes above it,
 * and is reported).
 *
 * To continue work on another thread or in a callback, capture the context and
 * attach it there:
 *
 *     otelc_context_t *ctx = otelc_context_capture();      // on the producer
 *     ...
 *     otelc_token_t t = otelc_context_attach(ctx);         // on the consumer
 *     ... spans and logs here are children of the captured span ...
 *     otelc_context_detach(t);
 *     otelc_context_release(ctx);
 *
 * All functions here are thread-safe and affect only the calling thread,
 * except capture/attach, which are how contexts cross threads.
 */
#ifndef OTELC_CONTEXT_H
#define OTELC_CONTEXT_H

#include <otelc/attr.h>
#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An immutable, reference-counted snapshot of a context. Opaque. */
typedef struct otelc_context otelc_context_t;

/* Identifies one scope on a thread's context stack, so it can be ended. */
typedef struct otelc_token {
    uint32_t depth; /* 0: nothing was pushed (SDK off, or out of room) */
    uint32_t serial;
} otelc_token_t;

/* Longest correlation id kept, in bytes; longer ones are truncated (reported). */
#define OTELC_CORRELATION_ID_MAX 128

/* The active span's context on this thread; all zero when there is none. */
OTELC_API otelc_span_context_t otelc_current_span_context(void);

/*
 * The correlation id in force on this thread, NUL-terminated, or NULL when
 * there is none. The pointer is valid until the calling thread changes its
 * context (ends or begins a scope).
 */
OTELC_API const char *otelc_current_correlation_id(void);

/*
 * Captures this thread's context. The caller owns one reference and releases
 * it with otelc_context_release(). Allocates once; returns NULL when memory is
 * short or the SDK is off (attaching NULL is a no-op).
 */
OTELC_API otelc_context_t *otelc_context_capture(void);

/* Adds a reference to `ctx` (NULL is ignored) and returns it. */
OTELC_API otelc_context_t *otelc_context_retain(otelc_context_t *ctx);

/* Drops a reference; the last one frees the snapshot. NULL is ignored. */
OTELC_API void otelc_context_release(otelc_context_t *ctx);

/* The span context held by a snapshot (all zero for NULL or none). */
OTELC_API otelc_span_context_t otelc_context_span(const otelc_context_t *ctx);

/*
 * Makes `ctx` this thread's context until otelc_context_detach(token): spans
 * started here become children of the captured span; logs carry its ids,
 * correlation id, bound fields and baggage. The snapshot is retained while
 * attached. NULL gives an empty token (detach is then a no-op).
 */
OTELC_API otelc_token_t otelc_context_attach(otelc_context_t *ctx);
OTELC_API void otelc_context_detach(otelc_token_t token);

/*
 * Correlation scope: every span and log until the matching end carries
 * `id` (attribute correlation.id), and baggage gets correlation.id=<id> so
 * that it crosses processes with otelc_inject(). With no active span on the
 * thread, the scope also starts a root span named "correlation" that ends with
 * the scope. `len` may be OTELC_NUL_TERMINATED.
 */
OTELC_API otelc_token_t otelc_correlation_begin(const char *id, size_t len);
OTELC_API void otelc_correlation_end(otelc_token_t token);

/*
 * Bound fields: every log record until the matching end carries these
 * attributes (after its own; a record's own attribute with the same key wins).
 * Nested binds add to the outer ones. Copied; at most 4 KiB of bound data per
 * thread (what does not fit is dropped and reported).
 */
OTELC_API otelc_token_t otelc_bind_begin(const otelc_attr_t *attrs, size_t n_attrs);
OTELC_API void otelc_bind_end(otelc_token_t token);

/*
 * Baggage (W3C baggage): name/value pairs that travel with the context to
 * other processes. `begin` sets one entry (replacing one of the same name)
 * until the matching end. Names and values are copied; the whole baggage is
 * limited to 8192 bytes and 180 entries as W3C baggage requires.
 */
OTELC_API otelc_token_t otelc_baggage_begin(const char *name, const char *value);
OTELC_API void otelc_baggage_end(otelc_token_t token);

/*
 * Copies the value of baggage entry `name` into `out` (NUL-terminated,
 * truncated to out_size - 1 bytes). Returns the value's full length, or -1
 * when there is no such entry.
 */
OTELC_API long otelc_baggage_get(const char *name, char *out, size_t out_size);

/*
 * Crossing processes. A carrier is whatever holds headers (an HTTP request, a
 * message's properties); otelc reaches it through these two callbacks. Keys
 * are lower-case header names ("traceparent", "x-b3-traceid"); a getter should
 * match case-insensitively and return NULL when the header is absent.
 */
typedef const char *(*otelc_getter_fn)(void *carrier, const char *key);
typedef void (*otelc_setter_fn)(void *carrier, const char *key, const char *value);

/*
 * Writes this thread's context into `carrier` with the propagators of
 * OTEL_PROPAGATORS (default tracecontext,baggage): traceparent/tracestate,
 * baggage, b3 or X-B3-*. Nothing is written for an invalid span context.
 */
OTELC_API void otelc_inject(otelc_setter_fn set, void *carrier);

/*
 * Reads a context from `carrier` with the configured propagators. Invalid
 * headers are ignored as the W3C specification requires (reported at debug
 * level). Returns a snapshot to attach (remote parent, tracestate, baggage, and
 * the correlation id from baggage correlation.id), or NULL when nothing valid
 * was found or memory is short.
 */
OTELC_API otelc_context_t *otelc_extract(otelc_getter_fn get, void *carrier);

/* ---- scope macros ----------------------------------------------------- */

/* Internal: the state of a scope macro. */
typedef struct otelc__scope {
    otelc_token_t token;
    int once;
} otelc__scope_t;

OTELC_API void otelc__scope_cleanup(otelc__scope_t *scope);
OTELC_API otelc__scope_t otelc__correlation_scope(const char *id);
OTELC_API otelc__scope_t otelc__bind_scope(const otelc_attr_t *attrs, size_t n);
OTELC_API otelc__scope_t otelc__attach_scope(otelc_context_t *ctx);

#if defined(OTELC_DISABLE)
#define OTELC__SCOPE(init) OTELC__SCOPE_(OTELC__UNIQUE(otelc__once_))
#define OTELC__SCOPE_(var) for (int var = 1; var; var = 0)
#define OTELC_CORRELATION(id) OTELC__SCOPE(0)
#define OTELC_BIND(...) OTELC__SCOPE(0)
#define OTELC_ATTACHED(ctx) OTELC__SCOPE(0)
#else
#define OTELC__SCOPE(init) OTELC__SCOPE_(OTELC__UNIQUE(otelc__scope_), init)
#define OTELC__SCOPE_(var, init)                                                                   \
    for (otelc__scope_t var __attribute__((cleanup(otelc__scope_cleanup))) = (init); var.once;     \
         var.once = 0)
/* Runs the block with correlation id `id` (a NUL-terminated string). */
#define OTELC_CORRELATION(id) OTELC__SCOPE(otelc__correlation_scope(id))
/* Runs the block with the given attributes bound to every log inside. */
#define OTELC_BIND(...)                                                                            \
    OTELC__SCOPE(otelc__bind_scope(                                                                \
        ((const otelc_attr_t[]){ OTELC__ATTR_NONE, __VA_ARGS__ }) + 1,                             \
        sizeof((const otelc_attr_t[]){ OTELC__ATTR_NONE, __VA_ARGS__ }) / sizeof(otelc_attr_t) -   \
            1u))
/* Runs the block with a captured context attached. */
#define OTELC_ATTACHED(ctx) OTELC__SCOPE(otelc__attach_scope(ctx))
#endif

#ifdef __cplusplus
}
#endif

#endif /* OTELC_CONTEXT_H */
