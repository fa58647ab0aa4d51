/*
 * otelc/common.h: status codes, visibility and small definitions shared by every
 * public header. Included by <otelc/otelc.h>; there is no need to include it
 * directly.
 */
#ifndef OTELC_COMMON_H
#define OTELC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbols of the public API are exported; everything else is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define OTELC_API __attribute__((visibility("default")))
#define OTELC_WARN_UNUSED __attribute__((warn_unused_result))
#define OTELC_LIKELY(x) __builtin_expect(!!(x), 1)
#define OTELC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define OTELC_API
#define OTELC_WARN_UNUSED
#define OTELC_LIKELY(x) (x)
#define OTELC_UNLIKELY(x) (x)
#endif

#define OTELC_VERSION_MAJOR 0
#define OTELC_VERSION_MINOR 1
#define OTELC_VERSION_PATCH 0
#define OTELC_VERSION_STRING "0.1.0"

/*
 * Result of every setup, configuration and shutdown call. The numbers are
 * stable: they may be logged, stored and compared across versions. The hot
 * path (span start/end, log emit) never returns a status; its failures become
 * counters in otelc_stats().
 */
typedef enum otelc_status {
    OTELC_OK = 0,              /* success */
    OTELC_ERR_INVALID = 1,     /* an argument or a configuration value is not valid */
    OTELC_ERR_NOMEM = 2,       /* memory could not be allocated */
    OTELC_ERR_STATE = 3,       /* the call does not fit the SDK's state (misuse) */
    OTELC_ERR_TIMEOUT = 4,     /* the deadline passed before the work was done */
    OTELC_ERR_IO = 5,          /* a read, write or network operation failed */
    OTELC_ERR_UNSUPPORTED = 6, /* the feature is not built in or not known */
    OTELC_ERR_FULL = 7,        /* a bounded buffer or queue had no room */
    OTELC_ERR_NOT_FOUND = 8,   /* the thing asked for does not exist */
    OTELC_ERR_EXPORT = 9,      /* an exporter failed to deliver a batch */
} otelc_status_t;

/*
 * A short English description of a status code, such as "deadline passed".
 * Returns a static string; never NULL (unknown codes give "unknown status").
 * Thread-safe.
 */
OTELC_API const char *otelc_status_str(otelc_status_t status);

/* The signals otelc carries. Used as bit flags by exporters and statistics. */
typedef enum otelc_signal {
    OTELC_SIGNAL_TRACES = 1,
    OTELC_SIGNAL_LOGS = 2,
} otelc_signal_t;

/* Sizes of identifiers, in bytes (W3C trace-context). */
#define OTELC_TRACE_ID_SIZE 16
#define OTELC_SPAN_ID_SIZE 8

/* W3C trace flags: bit 0 is "sampled". */
#define OTELC_TRACE_FLAG_SAMPLED 0x01u

/*
 * The identity of a span as it crosses threads and processes: trace id, span id
 * and trace flags. A plain value; copy it freely. All-zero ids mean "invalid"
 * (no span).
 */
typedef struct otelc_span_context {
    uint8_t trace_id[OTELC_TRACE_ID_SIZE];
    uint8_t span_id[OTELC_SPAN_ID_SIZE];
    uint8_t trace_flags; /* OTELC_TRACE_FLAG_SAMPLED and reserved bits */
    bool is_remote;      /* true when it came from another process (extract) */
} otelc_span_context_t;

/* True when both ids are non-zero, as W3C trace-context requires. */
OTELC_API bool otelc_span_context_is_valid(const otelc_span_context_t *ctx);

/*
 * Writes ids as lower-case hex. `out` must have room for 2*len+1 bytes; it is
 * NUL-terminated. Returns `out`.
 */
OTELC_API char *otelc_hex_encode(const uint8_t *bytes, size_t len, char *out);

/* Internal: the shape of a macro's call site not learned yet (otelc/fast.h):
 * its calls take the library's path, which learns it. */
OTELC_API extern const struct otelc__fast_shape otelc__site_unlearned_v2;

#ifdef __cplusplus
}
#endif

#endif /* OTELC_COMMON_H */
