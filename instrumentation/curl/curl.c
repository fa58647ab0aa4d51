/*
 * curl.c: libcurl requests as CLIENT spans (otelc/curl.h), on the client
 * half of otelc/http.h: this file only moves headers in and reads the
 * handle's results out.
 */
#include <otelc/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* CURLcode names by number, from curl.h of libcurl 7.88 (codes are stable
 * numbers: a newer libcurl's new codes read as "_OTHER"). */
static const char *const code_names[] = {
    [0] = "CURLE_OK",
    [1] = "CURLE_UNSUPPORTED_PROTOCOL",
    [2] = "CURLE_FAILED_INIT",
    [3] = "CURLE_URL_MALFORMAT",
    [4] = "CURLE_NOT_BUILT_IN",
    [5] = "CURLE_COULDNT_RESOLVE_PROXY",
    [6] = "CURLE_COULDNT_RESOLVE_HOST",
    [7] = "CURLE_COULDNT_CONNECT",
    [8] = "CURLE_WEIRD_SERVER_REPLY",
    [9] = "CURLE_REMOTE_ACCESS_DENIED",
    [10] = "CURLE_FTP_ACCEPT_FAILED",
    [11] = "CURLE_FTP_WEIRD_PASS_REPLY",
    [12] = "CURLE_FTP_ACCEPT_TIMEOUT",
    [13] = "CURLE_FTP_WEIRD_PASV_REPLY",
    [14] = "CURLE_FTP_WEIRD_227_FORMAT",
    [15] = "CURLE_FTP_CANT_GET_HOST",
    [16] = "CURLE_HTTP2",
    [17] = "CURLE_FTP_COULDNT_SET_TYPE",
    [18] = "CURLE_PARTIAL_FILE",
    [19] = "CURLE_FTP_COULDNT_RETR_FILE",
    [20] = "CURLE_OBSOLETE20",
    [21] = "CURLE_QUOTE_ERROR",
    [22] = "CURLE_HTTP_RETURNED_ERROR",
    [23] = "CURLE_WRITE_ERROR",
    [24] = "CURLE_OBSOLETE24",
    [25] = "CURLE_UPLOAD_FAILED",
    [26] = "CURLE_READ_ERROR",
    [27] = "CURLE_OUT_OF_MEMORY",
    [28] = "CURLE_OPERATION_TIMEDOUT",
    [29] = "CURLE_OBSOLETE29",
    [30] = "CURLE_FTP_PORT_FAILED",
    [31] = "CURLE_FTP_COULDNT_USE_REST",
    [32] = "CURLE_OBSOLETE32",
    [33] = "CURLE_RANGE_ERROR",
    [34] = "CURLE_HTTP_POST_ERROR",
    [35] = "CURLE_SSL_CONNECT_ERROR",
    [36] = "CURLE_BAD_DOWNLOAD_RESUME",
    [37] = "CURLE_FILE_COULDNT_READ_FILE",
    [38] = "CURLE_LDAP_CANNOT_BIND",
    [39] = "CURLE_LDAP_SEARCH_FAILED",
    [40] = "CURLE_OBSOLETE40",
    [41] = "CURLE_FUNCTION_NOT_FOUND",
    [42] = "CURLE_ABORTED_BY_CALLBACK",
    [43] = "CURLE_BAD_FUNCTION_ARGUMENT",
    [44] = "CURLE_OBSOLETE44",
    [45] = "CURLE_INTERFACE_FAILED",
    [46] = "CURLE_OBSOLETE46",
    [47] = "CURLE_TOO_MANY_REDIRECTS",
    [48] = "CURLE_UNKNOWN_OPTION",
    [49] = "CURLE_SETOPT_OPTION_SYNTAX",
    [50] = "CURLE_OBSOLETE50",
    [51] = "CURLE_OBSOLETE51",
    [52] = "CURLE_GOT_NOTHING",
    [53] = "CURLE_SSL_ENGINE_NOTFOUND",
    [54] = "CURLE_SSL_ENGINE_SETFAILED",
    [55] = "CURLE_SEND_ERROR",
    [56] = "CURLE_RECV_ERROR",
    [57] = "CURLE_OBSOLETE57",
    [58] = "CURLE_SSL_CERTPROBLEM",
    [59] = "CURLE_SSL_CIPHER",
    [60] = "CURLE_PEER_FAILED_VERIFICATION",
    [61] = "CURLE_BAD_CONTENT_ENCODING",
    [62] = "CURLE_OBSOLETE62",
    [63] = "CURLE_FILESIZE_EXCEEDED",
    [64] = "CURLE_USE_SSL_FAILED",
    [65] = "CURLE_SEND_FAIL_REWIND",
    [66] = "CURLE_SSL_ENGINE_INITFAILED",
    [67] = "CURLE_LOGIN_DENIED",
    [68] = "CURLE_TFTP_NOTFOUND",
    [69] = "CURLE_TFTP_PERM",
    [70] = "CURLE_REMOTE_DISK_FULL",
    [71] = "CURLE_TFTP_ILLEGAL",
    [72] = "CURLE_TFTP_UNKNOWNID",
    [73] = "CURLE_REMOTE_FILE_EXISTS",
    [74] = "CURLE_TFTP_NOSUCHUSER",
    [75] = "CURLE_OBSOLETE75",
    [76] = "CURLE_OBSOLETE76",
    [77] = "CURLE_SSL_CACERT_BADFILE",
    [78] = "CURLE_REMOTE_FILE_NOT_FOUND",
    [79] = "CURLE_SSH",
    [80] = "CURLE_SSL_SHUTDOWN_FAILED",
    [81] = "CURLE_AGAIN",
    [82] = "CURLE_SSL_CRL_BADFILE",
    [83] = "CURLE_SSL_ISSUER_ERROR",
    [84] = "CURLE_FTP_PRET_FAILED",
    [85] = "CURLE_RTSP_CSEQ_ERROR",
    [86] = "CURLE_RTSP_SESSION_ERROR",
    [87] = "CURLE_FTP_BAD_FILE_LIST",
    [88] = "CURLE_CHUNK_FAILED",
    [89] = "CURLE_NO_CONNECTION_AVAILABLE",
    [90] = "CURLE_SSL_PINNEDPUBKEYNOTMATCH",
    [91] = "CURLE_SSL_INVALIDCERTSTATUS",
    [92] = "CURLE_HTTP2_STREAM",
    [93] = "CURLE_RECURSIVE_API_CALL",
    [94] = "CURLE_AUTH_ERROR",
    [95] = "CURLE_HTTP3",
    [96] = "CURLE_QUIC_CONNECT_ERROR",
    [97] = "CURLE_PROXY",
    [98] = "CURLE_SSL_CLIENTCERT",
    [99] = "CURLE_UNRECOVERABLE_POLL",
};

const char *otelc_curl_code_name(CURLcode code)
{
    size_t i = (size_t)code;
    if ((int)code < 0 || i >= sizeof(code_names) / sizeof(code_names[0]) || code_names[i] == NULL)
        return "_OTHER";
    return code_names[i];
}

/* The trace headers otelc_inject() writes, as "name: value" lines. */
#define TRACE_HEADERS 4
typedef struct injected {
    char *lines[TRACE_HEADERS];
    size_t name_len[TRACE_HEADERS];
    int n;
    bool failed; /* out of memory: send none */
} injected_t;

static void set_header(void *carrier, const char *key, const char *value)
{
    injected_t *in = carrier;
    size_t klen = strlen(key), vlen = strlen(value);
    char *line;

    if (in->failed || in->n == TRACE_HEADERS)
        return;
    line = malloc(klen + 2 + vlen + 1);
    if (line == NULL) {
        in->failed = true;
        return;
    }
    memcpy(line, key, klen);
    memcpy(line + klen, ": ", 2);
    memcpy(line + klen + 2, value, vlen + 1);
    in->name_len[in->n] = klen;
    in->lines[in->n++] = line;
}

/* True when the service's header line `h` names a header otelc writes. */
static bool replaced(const injected_t *in, const char *h)
{
    for (int i = 0; i < in->n; i++) {
        size_t n = in->name_len[i];
        if (strncasecmp(h, in->lines[i], n) == 0 && (h[n] == ':' || h[n] == ';'))
            return true;
    }
    return false;
}

/* The service's entries (less those otelc writes), then the trace headers;
 * NULL when memory is short. */
static struct curl_slist *merge(const struct curl_slist *service, const injected_t *in)
{
    struct curl_slist *list = NULL, *next;

    for (const struct curl_slist *h = service; h != NULL; h = h->next) {
        if (h->data == NULL || replaced(in, h->data))
            continue;
        next = curl_slist_append(list, h->data);
        if (next == NULL)
            goto fail;
        list = next;
    }
    for (int i = 0; i < in->n; i++) {
        next = curl_slist_append(list, in->lines[i]);
        if (next == NULL)
            goto fail;
        list = next;
    }
    return list;
fail:
    curl_slist_free_all(list);
    return NULL;
}

void otelc_curl_begin(otelc_curl_request_t *req, CURL *easy, const char *method, const char *url,
                      struct curl_slist *headers)
{
    otelc_http_client_options_t o;
    injected_t in;

    if (req == NULL)
        return;
    memset(req, 0, sizeof(*req));
    req->easy = easy;
    req->service_headers = headers;
    req->url_known = url != NULL;
    memset(&o, 0, sizeof(o));
    o.tracer = otelc_tracer("otelc.curl", NULL);
    o.method = method;
    o.url = url;
    otelc_http_client_begin(&req->http, &o);

    /* The span is active now: what is injected has it as parent. */
    memset(&in, 0, sizeof(in));
    otelc_inject(set_header, &in);
    if (in.n > 0 && !in.failed)
        req->headers = merge(headers, &in);
    for (int i = 0; i < in.n; i++)
        free(in.lines[i]);
    if (easy != NULL)
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, req->headers ? req->headers : headers);
}

static const char *protocol_version(long v)
{
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return "1.0";
    case CURL_HTTP_VERSION_1_1:
        return "1.1";
    case CURL_HTTP_VERSION_2_0:
        return "2";
    case CURL_HTTP_VERSION_3:
        return "3";
    default:
        return NULL;
    }
}

void otelc_curl_end(otelc_curl_request_t *req, CURLcode result)
{
    otelc_http_client_result_t r;
    long code = 0, version = 0, port = 0;
    char *ip = NULL, *url = NULL;

    if (req == NULL || req->http.kind == 0)
        return;
    memset(&r, 0, sizeof(r));
    if (req->easy != NULL) {
        if (curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK)
            r.status_code = (int)code;
        if (curl_easy_getinfo(req->easy, CURLINFO_HTTP_VERSION, &version) == CURLE_OK &&
            r.status_code > 0)
            r.protocol_version = protocol_version(version);
        if (curl_easy_getinfo(req->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != NULL &&
            ip[0] != 0) {
            r.peer_address = ip;
            if (curl_easy_getinfo(req->easy, CURLINFO_PRIMARY_PORT, &port) == CURLE_OK)
                r.peer_port = (int)port;
        }
        if (!req->url_known &&
            curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &url) == CURLE_OK)
            r.url = url;
    }
    /* With CURLOPT_FAILONERROR, a 4xx/5xx is a CURLcode too: the status
     * code says more. */
    if (result != CURLE_OK && !(result == CURLE_HTTP_RETURNED_ERROR && r.status_code >= 400)) {
        r.error_type = otelc_curl_code_name(result);
        r.error_message = curl_easy_strerror(result);
    }
    otelc_http_client_end(&req->http, &r);
    /* The handle must not keep a pointer to the list freed here. */
    if (req->easy != NULL)
        curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->service_headers);
    curl_slist_free_all(req->headers);
    req->headers = NULL;
}

CURLcode otelc_curl_perform(CURL *easy, const char *method, const char *url,
                            struct curl_slist *headers)
{
    otelc_curl_request_t req;
    CURLcode rc;

    otelc_curl_begin(&req, easy, method, url, headers);
    rc = easy != NULL ? curl_easy_perform(easy) : CURLE_BAD_FUNCTION_ARGUMENT;
    otelc_curl_end(&req, rc);
    return rc;
}
