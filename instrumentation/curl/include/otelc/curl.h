/*
 * otelc/curl.h: CLIENT spans for libcurl requests, with the trace context
 * sent in the request's headers (library otelc_curl, CMake otelc::curl).
 *
 * The service sets up its easy handle as usual (URL, method, body, options)
 * except CURLOPT_HTTPHEADER: its own header list goes to otelc instead,
 * which sends it together with traceparent, tracestate and baggage:
 *
 *     struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
 *     curl_easy_setopt(easy, CURLOPT_URL, url);
 *     curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body);
 *     CURLcode rc = otelc_curl_perform(easy, "POST", url, h);  // span "POST"
 *     curl_slist_free_all(h);                                    // still the service's
 *
 * or, when the service performs the transfer itself (a multi handle):
 *
 *     otelc_curl_request_t req;
 *     otelc_curl_begin(&req, easy, "POST", url, h);
 *     ... curl_multi_add_handle, run the loop until the transfer is done ...
 *     otelc_curl_end(&req, result);
 *
 * The span is a CLIENT span named after the method, a child of the
 * thread's active span, with the attributes of <otelc/http.h>'s client
 * half: http.request.method, url.full (credentials and signature query
 * values redacted), server.address, server.port, and from the handle after
 * the transfer http.response.status_code, network.protocol.version,
 * network.peer.address and network.peer.port. A failed transfer gets
 * error.type = the CURLcode's name ("CURLE_COULDNT_CONNECT") and status
 * ERROR with curl_easy_strerror(); a 4xx or 5xx response gets error.type =
 * the code ("404") and status ERROR.
 *
 * The headers: otelc sets CURLOPT_HTTPHEADER to a list of its own, a copy
 * of the service's entries (minus any traceparent, tracestate or baggage
 * entry that otelc writes itself) followed by the trace headers, and at the
 * end sets the service's list back on the handle and frees its own. The
 * service's list is only read: it stays the service's, unchanged, and must
 * live until the end. With the SDK off, or when memory is short, the
 * service's list is set as it is and the request goes out untraced.
 *
 * Begin and end run on the same thread (the span is that thread's active
 * span in between, so that spans and logs made during the transfer are its
 * children); one request per otelc_curl_request_t at a time.
 */
#ifndef OTELC_CURL_H
#define OTELC_CURL_H

#include <curl/curl.h>
#include <otelc/http.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One traced request in progress: caller's storage between begin and end.
 * The fields are otelc's; `http.span` may be read (its ids). */
typedef struct otelc_curl_request {
    otelc_http_span_t http;
    CURL *easy;
    struct curl_slist *service_headers; /* borrowed: the service's list */
    struct curl_slist *headers;         /* otelc's list set on the handle, or NULL */
    bool url_known;                     /* a URL was given to begin */
} otelc_curl_request_t;

/*
 * Starts the CLIENT span for the transfer `easy` is set up for and sets its
 * CURLOPT_HTTPHEADER to the service's `headers` (may be NULL) plus the trace
 * headers. `method` NULL is read as "GET"; `url`, the URL the service set
 * (borrowed for the call), may be NULL: then url.full is read from the
 * handle at the end (CURLINFO_EFFECTIVE_URL, after any redirects).
 */
OTELC_API void otelc_curl_begin(otelc_curl_request_t *req, CURL *easy, const char *method,
                                const char *url, struct curl_slist *headers);

/*
 * Ends the span with what the handle reports and `result`, the transfer's
 * CURLcode, and gives the handle back the service's header list. Ending
 * twice does nothing.
 */
OTELC_API void otelc_curl_end(otelc_curl_request_t *req, CURLcode result);

/* begin, curl_easy_perform(easy), end: returns curl_easy_perform's code. */
OTELC_API CURLcode otelc_curl_perform(CURL *easy, const char *method, const char *url,
                                      struct curl_slist *headers);

/* The name of a CURLcode ("CURLE_COULDNT_CONNECT"); "_OTHER" for a code
 * this build does not know. Never NULL. */
OTELC_API const char *otelc_curl_code_name(CURLcode code);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_CURL_H */
