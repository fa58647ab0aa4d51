/*
 * http.c: OTLP/HTTP (http/protobuf and http/json) with libcurl, the
 * transport of libotelc_otlp_http.
 *
 * One curl easy handle per connection, kept from request to request so
 * that the TCP (and TLS) connection is reused. Requests are compressed here
 * with zlib when gzip is asked (curl only decompresses answers). What the
 * answer means follows the OTLP specification: 2xx success (the body may
 * carry a partial success), 429/502/503/504 retryable with their
 * Retry-After, any other status refused; no connection or no answer in
 * time retryable; a bad certificate setting refused.
 */
#include "transport.h"

#include <otelc/exporter.h>

#include <curl/curl.h>
#include <zlib.h>

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct http_conn {
    CURLM *multi; /* runs the transfers of `curl`, so that interrupt() can wake it */
    CURL *curl;
    atomic_bool interrupted;
    struct curl_slist *headers;
    bool gzip;
    uint8_t *zbuf; /* the compressed request */
    size_t zcap;
    uint8_t *resp; /* the answer's body */
    size_t resp_len, resp_cap;
    bool resp_failed;
    bool has_retry_after;
    uint32_t retry_after_ms;
    char curl_error[CURL_ERROR_SIZE];
} http_conn_t;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_status = CURLE_OK;

static void curl_init(void)
{
    curl_init_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* An answer of at most 4 MiB is kept; the rest is read and dropped. */
#define MAX_RESPONSE (4u << 20)

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    http_conn_t *c = arg;
    size_t len = size * n;

    if (c->resp_failed || c->resp_len + len > MAX_RESPONSE) {
        c->resp_failed = true;
        return len;
    }
    if (c->resp_len + len > c->resp_cap) {
        size_t cap = c->resp_cap > 0 ? c->resp_cap : 4096;
        uint8_t *r;

        while (cap < c->resp_len + len)
            cap *= 2;
        r = realloc(c->resp, cap);
        if (r == NULL) {
            c->resp_failed = true;
            return len;
        }
        c->resp = r;
        c->resp_cap = cap;
    }
    memcpy(c->resp + c->resp_len, p, len);
    c->resp_len += len;
    return len;
}

/* Retry-After: delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
static bool parse_retry_after(const char *v, size_t n, uint32_t *ms)
{
    char buf[64];
    struct tm tm;
    time_t when, now;
    size_t i = 0;

    while (n > 0 && isspace((unsigned char)v[n - 1]))
        n--;
    while (n > 0 && isspace((unsigned char)*v)) {
        v++;
        n--;
    }
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, v, n);
    buf[n] = '\0';
    while (i < n && isdigit((unsigned char)buf[i]))
        i++;
    if (i == n) {
        unsigned long long s = strtoull(buf, NULL, 10);

        *ms = s > 3600u ? 3600000u : (uint32_t)s * 1000u;
        return true;
    }
    memset(&tm, 0, sizeof(tm));
    if (strptime(buf, "%a, %d %b %Y %H:%M:%S GMT", &tm) == NULL)
        return false;
    when = timegm(&tm);
    now = time(NULL);
    *ms = when <= now ? 0u : (when - now > 3600 ? 3600000u : (uint32_t)(when - now) * 1000u);
    return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    http_conn_t *c = arg;
    size_t len = size * n;
    static const char name[] = "retry-after:";

    if (len > sizeof(name) - 1 && strncasecmp(p, name, sizeof(name) - 1) == 0)
        c->has_retry_after =
            parse_retry_after(p + sizeof(name) - 1, len - (sizeof(name) - 1), &c->retry_after_ms);
    return len;
}

static bool is_file(const char *path, char *err, size_t size, const char *what)
{
    FILE *f;

    if (path == NULL)
        return true;
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, size, "cannot read the %s %s: %s", what, path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

static void http_close(void *conn)
{
    http_conn_t *c = conn;

    if (c == NULL)
        return;
    if (c->curl != NULL)
        curl_easy_cleanup(c->curl);
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    free(c->zbuf);
    free(c->resp);
    free(c);
}

static bool add_header(http_conn_t *c, const char *name, const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *h = malloc(n);
    struct curl_slist *l;

    if (h == NULL)
        return false;
    snprintf(h, n, "%s: %s", name, value);
    l = curl_slist_append(c->headers, h);
    /* curl copies the string; the copy holds a secret: wipe ours. */
    memset(h, 0, n);
    free(h);
    if (l == NULL)
        return false;
    c->headers = l;
    return true;
}

static otelc_status_t http_open(const otelc__otlp_target_t *t, void **out, char *err,
                                size_t err_size)
{
    http_conn_t *c;

    pthread_once(&curl_once, curl_init);
    if (curl_init_status != CURLE_OK) {
        snprintf(err, err_size, "libcurl does not start: %s", curl_easy_strerror(curl_init_status));
        return OTELC_ERR_INVALID;
    }
    if (strncmp(t->url, "http://", 7) != 0 && strncmp(t->url, "https://", 8) != 0) {
        char shown[128];

        snprintf(err, err_size, "endpoint '%s' is not an http:// or https:// URL",
                 otelc_diag_escape(t->url, strlen(t->url), shown, sizeof(shown)));
        return OTELC_ERR_INVALID;
    }
    if (!is_file(t->ca_file, err, err_size, "CA certificate") ||
        !is_file(t->client_cert_file, err, err_size, "client certificate") ||
        !is_file(t->client_key_file, err, err_size, "client key"))
        return OTELC_ERR_INVALID;
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->curl = curl_easy_init()) == NULL ||
        (c->multi = curl_multi_init()) == NULL) {
        http_close(c);
        snprintf(err, err_size, "out of memory");
        return OTELC_ERR_NOMEM;
    }
    c->gzip = t->gzip;
    if (!add_header(c, "Content-Type", t->json ? "application/json" : "application/x-protobuf") ||
        (t->gzip && !add_header(c, "Content-Encoding", "gzip")) ||
        /* No "Expect: 100-continue" round trip before a large body. */
        (c->headers = curl_slist_append(c->headers, "Expect:")) == NULL) {
        http_close(c);
        snprintf(err, err_size, "out of memory");
        return OTELC_ERR_NOMEM;
    }
    for (size_t i = 0; i < t->n_headers; i++) {
        if (!add_header(c, t->header_names[i], t->header_values[i])) {
            http_close(c);
            snprintf(err, err_size, "out of memory");
            return OTELC_ERR_NOMEM;
        }
    }
    curl_easy_setopt(c->curl, CURLOPT_URL, t->url);
    curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, t->user_agent);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_error);
    curl_easy_setopt(c->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Redirects are not followed: the headers (secrets) stay with the
     * endpoint the user named. */
    curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (t->ca_file != NULL)
        curl_easy_setopt(c->curl, CURLOPT_CAINFO, t->ca_file);
    if (t->client_cert_file != NULL)
        curl_easy_setopt(c->curl, CURLOPT_SSLCERT, t->client_cert_file);
    if (t->client_key_file != NULL)
        curl_easy_setopt(c->curl, CURLOPT_SSLKEY, t->client_key_file);
    *out = c;
    return OTELC_OK;
}

/* Compresses body into c->zbuf (a gzip member); its length, 0 on failure. */
static size_t gzip_body(http_conn_t *c, const uint8_t *body, size_t len)
{
    z_stream z;
    size_t bound;
    int r;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    bound = deflateBound(&z, (uLong)len) + 32;
    if (bound > c->zcap) {
        uint8_t *b = realloc(c->zbuf, bound);

        if (b == NULL) {
            deflateEnd(&z);
            return 0;
        }
        c->zbuf = b;
        c->zcap = bound;
    }
    z.next_in = (Bytef *)(uintptr_t)body;
    z.avail_in = (uInt)len;
    z.next_out = c->zbuf;
    z.avail_out = (uInt)c->zcap;
    r = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    return r == Z_STREAM_END ? (size_t)z.total_out : 0;
}

static bool retryable_status(long code)
{
    return code == 429 || code == 502 || code == 503 || code == 504;
}

/* Transport errors that a later attempt may not meet. */
static bool retryable_curl(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_AGAIN:
        return true;
    default:
        return false;
    }
}

/* True when the answer said it is JSON (or text): shown as it is. */
static bool json_body(http_conn_t *c)
{
    char *ct = NULL;

    return curl_easy_getinfo(c->curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct != NULL &&
           strstr(ct, "protobuf") == NULL;
}

/* The message (field 2, a string) of a google.rpc.Status in p[0, n): into
 * *text, *len when the bytes read as one; they are left alone otherwise. */
static void status_message(const uint8_t *p, size_t n, const uint8_t **text, size_t *len)
{
    size_t i = 0;

    while (i < n) {
        uint64_t key = 0, v = 0;
        int shift = 0;

        while (i < n && shift < 64) {
            key |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
            if ((p[i++] & 0x80) == 0)
                break;
        }
        if ((key & 7) == 0) { /* a varint: the code */
            while (i < n && (p[i++] & 0x80) != 0)
                ;
            continue;
        }
        if ((key & 7) != 2)
            return;
        shift = 0;
        while (i < n && shift < 64) {
            v |= (uint64_t)(p[i] & 0x7f) << shift;
            shift += 7;
            if ((p[i++] & 0x80) == 0)
                break;
        }
        if (v > n - i)
            return;
        if ((key >> 3) == 2) {
            *text = p + i;
            *len = (size_t)v;
            return;
        }
        i += (size_t)v;
    }
}

/* curl_easy_perform() on the multi handle: the same transfer, connection
 * reuse through the multi handle's cache, and a wait that interrupt() can
 * cut (curl_multi_wakeup). CURLE_ABORTED_BY_CALLBACK: interrupted. */
static CURLcode perform(http_conn_t *c)
{
    CURLcode rc = CURLE_OK;
    CURLMsg *msg;
    int running = 1, left;

    if (atomic_load(&c->interrupted))
        return CURLE_ABORTED_BY_CALLBACK;
    if (curl_multi_add_handle(c->multi, c->curl) != CURLM_OK)
        return CURLE_OUT_OF_MEMORY;
    for (;;) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
            rc = CURLE_OUT_OF_MEMORY;
            break;
        }
        if (running == 0)
            break;
        if (atomic_load(&c->interrupted)) {
            rc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        /* The transfer's own timeout (CURLOPT_TIMEOUT_MS) ends it; the poll
         * only waits for the sockets or a wakeup. */
        if (curl_multi_poll(c->multi, NULL, 0, 1000, NULL) != CURLM_OK) {
            rc = CURLE_OUT_OF_MEMORY;
            break;
        }
    }
    if (running == 0 && rc == CURLE_OK) {
        rc = CURLE_GOT_NOTHING;
        while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->curl)
                rc = msg->data.result;
        }
    }
    curl_multi_remove_handle(c->multi, c->curl);
    return rc;
}

static void http_interrupt(void *conn)
{
    http_conn_t *c = conn;

    atomic_store(&c->interrupted, true);
    curl_multi_wakeup(c->multi);
}

static void http_send(void *conn, const uint8_t *body, size_t len, uint32_t timeout_ms,
                      otelc__otlp_reply_t *reply)
{
    http_conn_t *c = conn;
    const uint8_t *data = body;
    size_t n = len;
    long code = 0;
    CURLcode rc;

    memset(reply, 0, sizeof(*reply));
    reply->code = -1;
    if (c->gzip) {
        n = gzip_body(c, body, len);
        if (n == 0 && len > 0) {
            reply->outcome = OTELC__OTLP_RETRY;
            snprintf(reply->error, sizeof(reply->error), "out of memory compressing");
            return;
        }
        data = c->zbuf;
    }
    c->resp_len = 0;
    c->resp_failed = false;
    c->has_retry_after = false;
    c->curl_error[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, (const char *)data);
    curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    rc = perform(c);
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
        reply->outcome = OTELC__OTLP_RETRY;
        snprintf(reply->error, sizeof(reply->error), "interrupted: the exporter shuts down");
        return;
    }
    if (rc != CURLE_OK) {
        char shown[200];
        const char *text = c->curl_error[0] != '\0' ? c->curl_error : curl_easy_strerror(rc);

        reply->outcome = retryable_curl(rc) ? OTELC__OTLP_RETRY : OTELC__OTLP_FAILED;
        snprintf(reply->error, sizeof(reply->error), "%s",
                 otelc_diag_escape(text, strlen(text), shown, sizeof(shown)));
        return;
    }
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &code);
    reply->code = (int)code;
    reply->has_retry_after = c->has_retry_after;
    reply->retry_after_ms = c->retry_after_ms;
    if (code >= 200 && code < 300) {
        reply->outcome = OTELC__OTLP_SENT;
        if (!c->resp_failed) {
            reply->body = c->resp;
            reply->body_len = c->resp_len;
        }
        return;
    }
    reply->outcome = retryable_status(code) ? OTELC__OTLP_RETRY : OTELC__OTLP_FAILED;
    {
        /* The server's own words help: the message of a google.rpc.Status
         * (the body OTLP/HTTP gives a failure), else the first bytes. */
        char shown[160];
        const uint8_t *text = c->resp;
        size_t show = c->resp_failed ? 0 : (c->resp_len < 120 ? c->resp_len : 120);

        if (!c->resp_failed && !json_body(c))
            status_message(c->resp, c->resp_len, &text, &show);
        if (show > 120)
            show = 120;
        otelc_diag_escape((const char *)text, show, shown, sizeof(shown));
        snprintf(reply->error, sizeof(reply->error), "HTTP %ld%s%s", code, show > 0 ? ": " : "",
                 show > 0 ? shown : "");
    }
}

static const otelc__otlp_transport_ops_t http_ops = {
    .version = OTELC__OTLP_TRANSPORT_VERSION,
    .protocol = "http",
    .library = "libotelc_otlp_http (otelc::otlp_http)",
    .open = http_open,
    .send = http_send,
    .close = http_close,
    .interrupt = http_interrupt,
};

OTELC_API otelc_status_t otelc_otlp_http_register(void);

otelc_status_t otelc_otlp_http_register(void)
{
    return otelc__otlp_transport_register(&http_ops);
}

__attribute__((constructor)) static void http_register_at_load(void)
{
    (void)otelc_otlp_http_register();
}
