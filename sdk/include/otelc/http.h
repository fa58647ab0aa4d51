/*
 * otelc/http.h: spans for HTTP requests, client and server, with the
 * OpenTelemetry HTTP semantic conventions, for any HTTP library.
 *
 * Nothing here depends on an HTTP library: the caller says what the request
 * is (method, URL or target, headers through a callback) and how it ended
 * (status code, or the transport's error), and otelc makes the span. The
 * libcurl helper (instrumentation/curl, <otelc/curl.h>) is built on the
 * client half; a server built on libmicrohttpd, h2o, nginx or its own
 * parser calls the server half from its request handler:
 *
 *     static const char *get_header(void *req, const char *name) {  // case-insensitive
 *         return my_server_header(req, name);
 *     }
 *     otelc_http_server_options_t o = { .method = "POST", .target = "/orders?x=1",
 *                                       .route = "/orders", .get = get_header, .carrier = req };
 *     otelc_http_span_t s;
 *     otelc_http_server_begin(&s, &o);    // the remote caller's context is now this thread's
 *     ... handle the request: logs carry the caller's trace and correlation id ...
 *     otelc_http_server_end(&s, 200);
 *
 * Semantic conventions followed (HTTP spans, stable):
 * - Span name "{method} {http.route}" when a route is given, otherwise
 *   "{method}"; a method outside the known set (RFC 9110 and PATCH) is
 *   recorded as http.request.method "_OTHER" with the original in
 *   http.request.method_original, and the span is named "HTTP".
 * - Client: http.request.method, url.full (user name and password replaced
 *   by REDACTED; the values of the query keys AWSAccessKeyId, Signature, sig
 *   and X-Goog-Signature replaced by REDACTED; the rest of the query kept),
 *   server.address, server.port (from the URL, the scheme's default when it
 *   has none), and at the end http.response.status_code,
 *   network.protocol.version, network.peer.address/port when known, and
 *   error.type. Status ERROR for a transport error and for 4xx and 5xx.
 * - Server: http.request.method, url.path, url.query (when there is one),
 *   url.scheme, http.route, server.address, server.port (when given), and at
 *   the end http.response.status_code and, for 5xx, error.type and status
 *   ERROR (a 4xx is the client's error: status left unset).
 *
 * Begin and end of one span run on the same thread and nest like scopes
 * (the span, and on the server the caller's context, are the thread's
 * context in between). An event-loop server that handles a request across
 * several callbacks calls begin and end in the one callback that has the
 * whole request, or uses otelc_extract() and otelc_span_start_ex() itself.
 *
 * All functions are thread-safe. With the SDK off they do nothing and the
 * span is the no-op span: the service's request is never refused for its
 * telemetry.
 */
#ifndef OTELC_HTTP_H
#define OTELC_HTTP_H

#include <otelc/common.h>
#include <otelc/context.h>
#include <otelc/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One HTTP span in progress: caller's storage (a local variable, or the
 * state the server keeps per request) between begin and end. The fields are
 * otelc's; `span` may be read (its ids) and given more attributes.
 */
typedef struct otelc_http_span {
    otelc_span_t span;
    otelc_context_t *remote; /* server: the extracted caller's context, or NULL */
    otelc_token_t token;     /* server: the attached remote context */
    uint32_t kind;           /* otelc_span_kind_t; 0 once ended */
} otelc_http_span_t;

/* ---- client ----------------------------------------------------------- */

/* What a client request is. Every pointer is borrowed for the call only. */
typedef struct otelc_http_client_options {
    otelc_tracer_t *tracer; /* NULL: the tracer "otelc.http" */
    const char *method;     /* NULL: "GET" */
    const char *url;        /* the absolute URL requested; NULL: none known yet */
} otelc_http_client_options_t;

/*
 * Starts a CLIENT span for a request and makes it this thread's active
 * span: otelc_inject() called now writes headers whose parent is this span.
 * Attributes of the request (method, url.full redacted, server.address and
 * server.port) are set here.
 */
OTELC_API void otelc_http_client_begin(otelc_http_span_t *s, const otelc_http_client_options_t *o);

/* How a client request ended. Zero-initialise, set what is known. */
typedef struct otelc_http_client_result {
    int status_code;              /* 0: no response was received */
    const char *error_type;       /* transport error class (e.g. "CURLE_COULDNT_CONNECT") */
    const char *error_message;    /* its description, for the status */
    const char *protocol_version; /* "1.0", "1.1", "2", "3"; NULL: unknown */
    const char *url;              /* the URL, when none was given to begin */
    const char *peer_address;     /* network.peer.address; NULL: unknown */
    int peer_port;                /* network.peer.port; 0: unknown */
} otelc_http_client_result_t;

/*
 * Ends the span started by otelc_http_client_begin() with the result's
 * attributes and status: ERROR with error.type = `error_type` when it is
 * set, else ERROR with error.type = the status code for 4xx and 5xx. `r`
 * NULL is read as all zero. Ending twice does nothing.
 */
OTELC_API void otelc_http_client_end(otelc_http_span_t *s, const otelc_http_client_result_t *r);

/* ---- server ----------------------------------------------------------- */

/* One request header, for a server that has them as a list. */
typedef struct otelc_http_header {
    const char *name;
    const char *value;
} otelc_http_header_t;

/* What a received request is. Every pointer is borrowed for the call only. */
typedef struct otelc_http_server_options {
    otelc_tracer_t *tracer;     /* NULL: the tracer "otelc.http" */
    const char *method;         /* NULL: "GET" */
    const char *target;         /* request-target: "/path?query" (or an absolute URL) */
    const char *route;          /* low-cardinality route ("/orders/{id}"); NULL: none */
    const char *scheme;         /* NULL: "http" */
    const char *server_address; /* NULL: not recorded */
    int server_port;            /* 0: not recorded */
    /* The request's headers: a lookup (`get`, case-insensitive, NULL when
     * absent, with `carrier` its first argument), or, with `get` NULL, the
     * list `headers` of `n_headers` entries (names matched
     * case-insensitively). Neither: no context is extracted. */
    otelc_getter_fn get;
    void *carrier;
    const otelc_http_header_t *headers;
    size_t n_headers;
} otelc_http_server_options_t;

/*
 * Extracts the caller's context from the request headers (traceparent,
 * tracestate, baggage, with the propagators of OTEL_PROPAGATORS), attaches
 * it to this thread (its baggage, and its correlation id from baggage
 * correlation.id, are this thread's until the end) and starts a SERVER span,
 * the caller's span its remote parent (a root span without valid headers),
 * active on this thread.
 */
OTELC_API void otelc_http_server_begin(otelc_http_span_t *s, const otelc_http_server_options_t *o);

/*
 * Ends the server span with http.response.status_code = `status_code`;
 * a 5xx sets error.type to the code and status ERROR. A code outside
 * 100-599 (0: no response was sent) records no status code, error.type
 * "_OTHER" and status ERROR. Then detaches and releases the caller's
 * context. Ending twice does nothing.
 */
OTELC_API void otelc_http_server_end(otelc_http_span_t *s, int status_code);

/* ---- helpers shared by instrumentations ------------------------------- */

/*
 * Writes `url` with its credentials and sensitive query values redacted as
 * url.full requires, NUL-terminated, into `out` (cut to size - 1 bytes).
 * Returns the full length of the redacted URL.
 */
OTELC_API size_t otelc_http_url_redact(const char *url, char *out, size_t size);

/*
 * The method as http.request.method records it: `method` itself when it is
 * one of CONNECT DELETE GET HEAD OPTIONS PATCH POST PUT TRACE (case
 * sensitive, as HTTP methods are), otherwise "_OTHER".
 */
OTELC_API const char *otelc_http_method_known(const char *method);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_HTTP_H */
