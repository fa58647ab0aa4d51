/*
 * transport.h: what the OTLP exporter (libotelc_otlp) asks of a transport
 * library: libotelc_otlp_http (libcurl: http/protobuf and http/json) and
 * libotelc_otlp_grpc (the gRPC C core: grpc). Each transport is a library of
 * its own so that a service pays only for the dependency it uses; it
 * registers its ops table from a constructor, and the exporter picks the one
 * OTEL_EXPORTER_OTLP_PROTOCOL names (reporting the library to link when it
 * is not there).
 *
 * The exporter owns everything above a single request: the encoding, the
 * queue, retries with backoff, the spool, the accounting. A transport sends
 * one encoded request and says what became of it. It is called from one
 * exporter thread at a time per connection (never concurrently on one
 * connection, interrupt() aside), and must return within the timeout it is
 * given.
 *
 * Internal to otelc's exporters: not installed, no stability promise beyond
 * OTELC__OTLP_TRANSPORT_VERSION, which both sides check.
 */
#ifndef OTELC_OTLP_TRANSPORT_H
#define OTELC_OTLP_TRANSPORT_H

#include <otelc/common.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OTELC__OTLP_TRANSPORT_VERSION 2u

/* Where and how one signal's requests go, resolved from the settings (the
 * per-signal variables over the general ones, the defaults under both).
 * Every string is NUL-terminated and lives as long as the connection. */
typedef struct otelc__otlp_target {
    otelc_signal_t signal; /* OTELC_SIGNAL_TRACES or OTELC_SIGNAL_LOGS */
    /* http: the full URL the requests are POSTed to
     *   ("http://localhost:4318/v1/traces", or a per-signal endpoint verbatim);
     * grpc: the endpoint, "http://host:port" or "https://host:port" (a bare
     *   "host:port" means plaintext when `insecure`, TLS otherwise). */
    const char *url;
    /* grpc: the method, "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
     * or ".../logs.v1.LogsService/Export"; http: NULL. */
    const char *grpc_method;
    /* Headers (http) or metadata (grpc): n_headers pairs of names (lower
     * case for grpc) and values. Values are secrets (API keys, tokens): a
     * transport never puts one in an error text. */
    const char *const *header_names;
    const char *const *header_values;
    size_t n_headers;
    bool gzip;           /* compress requests (Content-Encoding / grpc-encoding gzip) */
    bool json;           /* http/json: the body is OTLP/JSON (Content-Type application/json);
                            otherwise protobuf (application/x-protobuf, or grpc) */
    bool insecure;       /* grpc without a scheme: plaintext */
    const char *ca_file; /* PEM file of trusted CAs; NULL: the system's */
    const char *client_cert_file; /* PEM client certificate (mTLS); NULL: none */
    const char *client_key_file;  /* PEM key of the client certificate; NULL: none */
    const char *user_agent;       /* "otelc/0.1.0" (User-Agent; grpc: the primary user agent) */
} otelc__otlp_target_t;

/* What became of one request. */
typedef enum otelc__otlp_outcome {
    OTELC__OTLP_SENT = 0,  /* the backend answered success (HTTP 2xx, gRPC OK); the body
                              may still report a partial success */
    OTELC__OTLP_RETRY = 1, /* a transient failure the specification says to retry: no
                              connection, a timeout, HTTP 429/502/503/504, gRPC UNAVAILABLE,
                              CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE,
                              DATA_LOSS, RESOURCE_EXHAUSTED with RetryInfo */
    OTELC__OTLP_FAILED = 2 /* anything else: the request will never be accepted as it is
                              (HTTP 400, gRPC INVALID_ARGUMENT, ...) or cannot be made */
} otelc__otlp_outcome_t;

typedef struct otelc__otlp_reply {
    otelc__otlp_outcome_t outcome;
    int code; /* the HTTP status or the gRPC status code; -1: no answer came */
    /* Retry-After (HTTP: seconds or an HTTP-date, as a delay from now) or
     * gRPC RetryInfo.retry_delay; has_retry_after false when none came. */
    bool has_retry_after;
    uint32_t retry_after_ms;
    /* On SENT: the response message as it came, for the partial success:
     * protobuf Export*ServiceResponse (grpc, http/protobuf) or its JSON
     * (http/json), decompressed. Owned by the connection, valid until the
     * next call on it. */
    const uint8_t *body;
    size_t body_len;
    /* On RETRY and FAILED: why, in a few words, for a diagnostic ("connection
     * refused", "HTTP 503", "UNAVAILABLE: ..."); the server's text escaped
     * (otelc_diag_escape), never a header value. */
    char error[256];
} otelc__otlp_reply_t;

typedef struct otelc__otlp_transport_ops {
    uint32_t version; /* OTELC__OTLP_TRANSPORT_VERSION */
    /* "http" (serves http/protobuf and http/json) or "grpc". */
    const char *protocol;
    /* The library to link for it, for the exporter's report when it is
     * missing: "libotelc_otlp_http (otelc::otlp_http)". */
    const char *library;
    /* Makes a connection for `target` (copy what you keep of it: the
     * strings live as long as the connection, the struct does not). Need not
     * connect yet. On failure writes why into err (err_size bytes) and
     * returns non-OK (OTELC_ERR_INVALID: bad endpoint or certificate file). */
    otelc_status_t (*open)(const otelc__otlp_target_t *target, void **conn, char *err,
                           size_t err_size);
    /* Sends one request (`body`, `len` bytes, uncompressed) and waits at most
     * timeout_ms for the answer. Fills every field of *reply. */
    void (*send)(void *conn, const uint8_t *body, size_t len, uint32_t timeout_ms,
                 otelc__otlp_reply_t *reply);
    /* Closes the connection and frees it. */
    void (*close)(void *conn);
    /* Makes the send in progress on `conn`, if any, and every later one
     * return at once with OTELC__OTLP_RETRY ("interrupted"). The one call
     * that may come from another thread while send() runs: the exporter's
     * shutdown uses it when its deadline passes with a request in flight,
     * so that the request stays in the spool instead of holding the
     * shutdown for the whole request timeout. */
    void (*interrupt)(void *conn);
} otelc__otlp_transport_ops_t;

/*
 * Registers a transport with libotelc_otlp (which the transport library
 * links). The table is kept, not copied. A transport of the same protocol is
 * replaced; refused (with a diagnostic) for another version.
 */
OTELC_API otelc_status_t otelc__otlp_transport_register(const otelc__otlp_transport_ops_t *ops);

/* The registered transport for a protocol ("http" or "grpc"), or NULL. */
OTELC_API const otelc__otlp_transport_ops_t *otelc__otlp_transport_find(const char *protocol);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_OTLP_TRANSPORT_H */
