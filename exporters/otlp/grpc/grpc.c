/*
 * grpc.c: the OTLP/gRPC transport (libotelc_otlp_grpc) on the gRPC C core
 * (grpc.h, not the C++ API). One connection is one grpc_channel and one
 * pluck completion queue; one send is one unary call made in a single
 * batch and waited for on that queue. The exporter above decides about
 * retries: the channel's own are turned off, and a status becomes SENT,
 * RETRY or FAILED as the OTLP specification says, with the delay of a
 * google.rpc.RetryInfo the server attached (read by the small protobuf
 * reader at the end of this file: the bytes come from the network).
 *
 * Thread safety: the exporter never sends concurrently on one connection,
 * which is all a connection needs (its completion queue has one plucker at
 * a time). Connections are independent; the C core is thread safe.
 */
#include "transport.h"

#include <otelc/exporter.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A certificate or key file larger than this is not one (a CA bundle is a
 * few hundred KiB). */
#define PEM_MAX_BYTES (16u << 20)
/* How long past the call's deadline the queue is waited on before the call
 * is cancelled by hand: the core enforces the deadline itself, this is the
 * guard in case it does not. */
#define PLUCK_GRACE_MS 500

typedef struct grpc_conn {
    grpc_channel *channel;
    grpc_completion_queue *cq;
    grpc_slice method;      /* static: target->grpc_method lives as long as we do */
    grpc_metadata *headers; /* n_headers, static slices over the target's strings */
    size_t n_headers;
    uint8_t *body; /* the last response message */
    size_t body_cap;
    /* interrupt(), from another thread: the call in flight is cancelled. */
    pthread_mutex_t lock;
    grpc_call *active; /* the call send() waits on; NULL between calls */
    bool interrupted;
} grpc_conn_t;

/* ---- process-wide setup -------------------------------------------------- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* grpc_init is reference counted, and other users of the C core in the
 * process (the application's own gRPC) keep their references: ours is
 * taken once and never given back, so that a connection closed in one
 * thread never shuts the core down under another. */
static void init_core(void)
{
    grpc_init();
}

/* ---- open ------------------------------------------------------------------ */

/* Reads a whole PEM file into a NUL-terminated buffer (*out, freed by the
 * caller). `what` names it in the error. */
static otelc_status_t read_pem(const char *what, const char *path, char **out, char *err,
                               size_t err_size)
{
    char shown[160];
    FILE *f = NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    otelc_status_t status = OTELC_ERR_INVALID;
    int saved;

    *out = NULL;
    otelc_diag_escape(path, strlen(path), shown, sizeof(shown));
    f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_size, "cannot read %s '%s': %s", what, shown, strerror(errno));
        goto done;
    }
    for (;;) {
        size_t n;

        if (cap - len < 4096) {
            char *grown;

            if (cap >= PEM_MAX_BYTES) {
                snprintf(err, err_size, "%s '%s' is larger than %u bytes", what, shown,
                         PEM_MAX_BYTES);
                goto done;
            }
            grown = realloc(buf, cap == 0 ? 8192 : cap * 2);
            if (grown == NULL) {
                snprintf(err, err_size, "no memory to read %s '%s'", what, shown);
                status = OTELC_ERR_NOMEM;
                goto done;
            }
            buf = grown;
            cap = cap == 0 ? 8192 : cap * 2;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        saved = errno;
        snprintf(err, err_size, "cannot read %s '%s': %s", what, shown, strerror(saved));
        goto done;
    }
    buf[len] = '\0';
    /* The core would only find out at the first handshake, and say less. */
    if (strstr(buf, "-----BEGIN ") == NULL) {
        snprintf(err, err_size, "%s '%s' holds no PEM data", what, shown);
        goto done;
    }
    *out = buf;
    buf = NULL;
    status = OTELC_OK;
done:
    if (f != NULL)
        fclose(f);
    free(buf);
    return status;
}

/* The TLS credentials: the CA file's roots (NULL: the core's defaults, the
 * system's), the client certificate and key for mTLS. */
static otelc_status_t tls_credentials(const otelc__otlp_target_t *target,
                                      grpc_channel_credentials **creds, char *err, size_t err_size)
{
    char *roots = NULL, *cert = NULL, *key = NULL;
    grpc_ssl_pem_key_cert_pair pair;
    otelc_status_t status;

    *creds = NULL;
    if ((target->client_cert_file == NULL) != (target->client_key_file == NULL)) {
        snprintf(err, err_size, "a client certificate needs its key and a key its certificate");
        status = OTELC_ERR_INVALID;
        goto done;
    }
    if (target->ca_file != NULL) {
        status = read_pem("CA file", target->ca_file, &roots, err, err_size);
        if (status != OTELC_OK)
            goto done;
    }
    if (target->client_cert_file != NULL) {
        status = read_pem("client certificate", target->client_cert_file, &cert, err, err_size);
        if (status != OTELC_OK)
            goto done;
        status = read_pem("client key", target->client_key_file, &key, err, err_size);
        if (status != OTELC_OK)
            goto done;
    }
    pair.private_key = key;
    pair.cert_chain = cert;
    /* The core copies the strings. */
    *creds = grpc_ssl_credentials_create(roots, cert != NULL ? &pair : NULL, NULL, NULL);
    if (*creds == NULL) {
        snprintf(err, err_size, "the gRPC core made no TLS credentials");
        status = OTELC_ERR_INVALID;
        goto done;
    }
    status = OTELC_OK;
done:
    free(roots);
    free(cert);
    if (key != NULL) {
        /* A private key does not stay in freed memory. */
        memset(key, 0, strlen(key));
        free(key);
    }
    return status;
}

/* Splits the endpoint into the core's target (written into `out`) and
 * whether it is TLS: "http://host:port" plaintext, "https://host:port" TLS,
 * anything without "://" ("host:port", "unix:/path", "dns:///host:port")
 * given to the core as it is, plaintext when `insecure`. A path after
 * host:port is ignored, as the specification says for gRPC. */
static otelc_status_t parse_endpoint(const otelc__otlp_target_t *target, char *out, size_t out_size,
                                     bool *tls, char *err, size_t err_size)
{
    const char *url = target->url != NULL ? target->url : "";
    const char *scheme_end = strstr(url, "://");
    const char *host = url;
    size_t host_len;
    char shown[160];

    *tls = !target->insecure;
    if (scheme_end != NULL) {
        size_t scheme_len = (size_t)(scheme_end - url);

        if (scheme_len == 4 && strncasecmp(url, "http", 4) == 0) {
            *tls = false;
        } else if (scheme_len == 5 && strncasecmp(url, "https", 5) == 0) {
            *tls = true;
        } else {
            otelc_diag_escape(url, strlen(url), shown, sizeof(shown));
            snprintf(err, err_size, "gRPC endpoint '%s': the scheme is neither http nor https",
                     shown);
            return OTELC_ERR_INVALID;
        }
        host = scheme_end + 3;
        host_len = strcspn(host, "/?#");
    } else {
        host_len = strlen(host);
    }
    if (host_len == 0 || host_len >= out_size) {
        otelc_diag_escape(url, strlen(url), shown, sizeof(shown));
        snprintf(err, err_size, "gRPC endpoint '%s': %s", shown,
                 host_len == 0 ? "no host" : "too long");
        return OTELC_ERR_INVALID;
    }
    memcpy(out, host, host_len);
    out[host_len] = '\0';
    return OTELC_OK;
}

static void grpc_close(void *conn);

static otelc_status_t grpc_open(const otelc__otlp_target_t *target, void **conn_out, char *err,
                                size_t err_size)
{
    grpc_conn_t *c = NULL;
    grpc_channel_credentials *creds = NULL;
    char endpoint[1024];
    bool tls;
    otelc_status_t status;
    grpc_arg args[8];
    size_t n_args = 0;

    *conn_out = NULL;
    if (err_size > 0)
        err[0] = '\0';
    if (target->grpc_method == NULL || target->grpc_method[0] != '/') {
        snprintf(err, err_size, "no gRPC method to call");
        status = OTELC_ERR_INVALID;
        goto fail;
    }
    status = parse_endpoint(target, endpoint, sizeof(endpoint), &tls, err, err_size);
    if (status != OTELC_OK)
        goto fail;
    pthread_once(&init_once, init_core);

    c = calloc(1, sizeof(*c));
    if (c == NULL)
        goto nomem;
    pthread_mutex_init(&c->lock, NULL);
    c->method = grpc_slice_from_static_string(target->grpc_method);
    if (target->n_headers > 0) {
        c->headers = calloc(target->n_headers, sizeof(*c->headers));
        if (c->headers == NULL)
            goto nomem;
    }
    for (size_t i = 0; i < target->n_headers; i++) {
        grpc_metadata *m = &c->headers[c->n_headers];
        char shown[64];

        m->key = grpc_slice_from_static_string(target->header_names[i]);
        m->value = grpc_slice_from_static_string(target->header_values[i]);
        /* The core would refuse the whole batch; say which one here. The
         * value is a secret: only the name is shown. */
        if (!grpc_header_key_is_legal(m->key) ||
            (!grpc_is_binary_header(m->key) && !grpc_header_nonbin_value_is_legal(m->value))) {
            otelc_diag_escape(target->header_names[i], strlen(target->header_names[i]), shown,
                              sizeof(shown));
            snprintf(err, err_size, "gRPC metadata '%s': not a valid %s", shown,
                     grpc_header_key_is_legal(m->key) ? "value" : "name (lower case)");
            status = OTELC_ERR_INVALID;
            goto fail;
        }
        c->n_headers++;
    }

    if (tls) {
        status = tls_credentials(target, &creds, err, err_size);
        if (status != OTELC_OK)
            goto fail;
    } else {
        creds = grpc_insecure_credentials_create();
    }

    /* The exporter retries, with its own backoff and accounting: two
     * layers of retries would multiply. */
    args[n_args].type = GRPC_ARG_INTEGER;
    args[n_args].key = (char *)GRPC_ARG_ENABLE_RETRIES;
    args[n_args++].value.integer = 0;
    if (target->gzip) {
        args[n_args].type = GRPC_ARG_INTEGER;
        args[n_args].key = (char *)GRPC_COMPRESSION_CHANNEL_DEFAULT_ALGORITHM;
        args[n_args++].value.integer = GRPC_COMPRESS_GZIP;
    }
    if (target->user_agent != NULL) {
        args[n_args].type = GRPC_ARG_STRING;
        args[n_args].key = (char *)GRPC_ARG_PRIMARY_USER_AGENT_STRING;
        /* The core copies it; its API has no const. */
        args[n_args++].value.string = (char *)(uintptr_t)target->user_agent;
    }
    /* Keepalive pings only while a call is open, no more often than a Go
     * server (the collector) accepts by default (5 minutes): it finds a
     * dead peer under a long call, and never earns a GOAWAY
     * "too_many_pings". */
    args[n_args].type = GRPC_ARG_INTEGER;
    args[n_args].key = (char *)GRPC_ARG_KEEPALIVE_TIME_MS;
    args[n_args++].value.integer = 300000;
    args[n_args].type = GRPC_ARG_INTEGER;
    args[n_args].key = (char *)GRPC_ARG_KEEPALIVE_TIMEOUT_MS;
    args[n_args++].value.integer = 20000;
    /* The core's reconnect backoff grows to 2 minutes, during which every
     * call fails at once: a collector that comes back is found within 5 s. */
    args[n_args].type = GRPC_ARG_INTEGER;
    args[n_args].key = (char *)GRPC_ARG_MAX_RECONNECT_BACKOFF_MS;
    args[n_args++].value.integer = 5000;
    {
        grpc_channel_args channel_args = { n_args, args };

        c->channel = grpc_channel_create(endpoint, creds, &channel_args);
    }
    grpc_channel_credentials_release(creds);
    creds = NULL;
    if (c->channel == NULL) {
        char shown[160];

        otelc_diag_escape(endpoint, strlen(endpoint), shown, sizeof(shown));
        snprintf(err, err_size, "gRPC endpoint '%s': no channel", shown);
        status = OTELC_ERR_INVALID;
        goto fail;
    }
    c->cq = grpc_completion_queue_create_for_pluck(NULL);
    if (c->cq == NULL)
        goto nomem;
    *conn_out = c;
    return OTELC_OK;

nomem:
    snprintf(err, err_size, "no memory for a gRPC connection");
    status = OTELC_ERR_NOMEM;
fail:
    if (creds != NULL)
        grpc_channel_credentials_release(creds);
    grpc_close(c);
    return status;
}

/* ---- send ------------------------------------------------------------------ */

static const char *const status_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

static const char *status_name(grpc_status_code code)
{
    if ((unsigned)code < sizeof(status_names) / sizeof(status_names[0]))
        return status_names[code];
    return "UNKNOWN_STATUS";
}

static bool find_retry_delay(const uint8_t *p, size_t n, uint32_t *ms);

/* Copies the response message into the connection's buffer. */
static bool keep_body(grpc_conn_t *c, grpc_byte_buffer *bb, otelc__otlp_reply_t *reply)
{
    grpc_byte_buffer_reader reader;
    grpc_slice slice;
    size_t len = grpc_byte_buffer_length(bb), at = 0;
    bool ok = true;

    if (len > c->body_cap) {
        uint8_t *grown = realloc(c->body, len);

        if (grown == NULL)
            return false;
        c->body = grown;
        c->body_cap = len;
    }
    /* The reader inflates a message that came compressed. */
    if (!grpc_byte_buffer_reader_init(&reader, bb))
        return false;
    while (grpc_byte_buffer_reader_next(&reader, &slice)) {
        size_t n = GRPC_SLICE_LENGTH(slice);

        if (n > c->body_cap - at) {
            uint8_t *grown = realloc(c->body, at + n);

            if (grown == NULL) {
                ok = false;
                grpc_slice_unref(slice);
                break;
            }
            c->body = grown;
            c->body_cap = at + n;
        }
        memcpy(c->body + at, GRPC_SLICE_START_PTR(slice), n);
        at += n;
        grpc_slice_unref(slice);
    }
    grpc_byte_buffer_reader_destroy(&reader);
    reply->body = c->body;
    reply->body_len = ok ? at : 0;
    return ok;
}

static void grpc_send(void *conn, const uint8_t *body, size_t len, uint32_t timeout_ms,
                      otelc__otlp_reply_t *reply)
{
    grpc_conn_t *c = conn;
    grpc_call *call = NULL;
    grpc_byte_buffer *request = NULL, *response = NULL;
    grpc_metadata_array initial, trailing;
    grpc_status_code code = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    const char *error_string = NULL;
    grpc_op ops[6];
    grpc_call_error call_error;
    grpc_event ev;
    gpr_timespec deadline;
    bool timed_out = false, retry_info = false, interrupted;
    uint32_t delay_ms = 0;
    char text[200];

    memset(reply, 0, sizeof(*reply));
    reply->outcome = OTELC__OTLP_FAILED;
    reply->code = -1;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);

    deadline = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                            gpr_time_from_millis((int64_t)timeout_ms, GPR_TIMESPAN));
    pthread_mutex_lock(&c->lock);
    interrupted = c->interrupted;
    if (!interrupted) {
        call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
                                        c->method, NULL, deadline, NULL);
        c->active = call;
    }
    pthread_mutex_unlock(&c->lock);
    if (interrupted) {
        reply->outcome = OTELC__OTLP_RETRY;
        snprintf(reply->error, sizeof(reply->error), "interrupted: the exporter shuts down");
        goto done;
    }
    if (call == NULL) {
        snprintf(reply->error, sizeof(reply->error), "the gRPC core made no call");
        goto done;
    }
    {
        grpc_slice slice = grpc_slice_from_copied_buffer((const char *)body, len);

        request = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
    }

    memset(ops, 0, sizeof(ops));
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = c->n_headers;
    ops[0].data.send_initial_metadata.metadata = c->headers;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &response;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &code;
    ops[5].data.recv_status_on_client.status_details = &details;
    ops[5].data.recv_status_on_client.error_string = &error_string;
    call_error = grpc_call_start_batch(call, ops, 6, call, NULL);
    if (call_error != GRPC_CALL_OK) {
        snprintf(reply->error, sizeof(reply->error), "gRPC call refused by the core (%d)",
                 (int)call_error);
        goto done;
    }
    ev = grpc_completion_queue_pluck(
        c->cq, call, gpr_time_add(deadline, gpr_time_from_millis(PLUCK_GRACE_MS, GPR_TIMESPAN)),
        NULL);
    if (ev.type == GRPC_QUEUE_TIMEOUT) {
        /* A cancelled call completes its batch at once: wait for that, so
         * that nothing of this call outlives send(). */
        timed_out = true;
        grpc_call_cancel(call, NULL);
        ev = grpc_completion_queue_pluck(c->cq, call, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
    }
    if (timed_out)
        code = GRPC_STATUS_DEADLINE_EXCEEDED;
    pthread_mutex_lock(&c->lock);
    c->active = NULL;
    interrupted = c->interrupted;
    pthread_mutex_unlock(&c->lock);
    if (interrupted && code == GRPC_STATUS_CANCELLED) {
        reply->code = (int)code;
        reply->outcome = OTELC__OTLP_RETRY;
        snprintf(reply->error, sizeof(reply->error), "interrupted: the exporter shuts down");
        goto done;
    }

    reply->code = (int)code;
    switch (code) {
    case GRPC_STATUS_OK:
        if (response != NULL && !keep_body(c, response, reply)) {
            /* Delivered all the same: only the partial success is lost. */
            reply->body = NULL;
            reply->body_len = 0;
        }
        reply->outcome = OTELC__OTLP_SENT;
        goto done;
    case GRPC_STATUS_CANCELLED:
    case GRPC_STATUS_DEADLINE_EXCEEDED:
    case GRPC_STATUS_ABORTED:
    case GRPC_STATUS_OUT_OF_RANGE:
    case GRPC_STATUS_DATA_LOSS:
    case GRPC_STATUS_UNAVAILABLE:
    case GRPC_STATUS_RESOURCE_EXHAUSTED:
        for (size_t i = 0; i < trailing.count; i++) {
            const grpc_metadata *m = &trailing.metadata[i];

            if (grpc_slice_str_cmp(m->key, "grpc-status-details-bin") == 0 &&
                find_retry_delay(GRPC_SLICE_START_PTR(m->value), GRPC_SLICE_LENGTH(m->value),
                                 &delay_ms))
                retry_info = true;
        }
        /* RESOURCE_EXHAUSTED is retried only when the server said when. */
        if (code != GRPC_STATUS_RESOURCE_EXHAUSTED || retry_info)
            reply->outcome = OTELC__OTLP_RETRY;
        reply->has_retry_after = retry_info;
        reply->retry_after_ms = delay_ms;
        break;
    default:
        break;
    }
    /* The server's text (or the core's, when there was no answer: "failed
     * to connect to all addresses; ... Connection refused"). */
    if (timed_out) {
        snprintf(text, sizeof(text), "no answer within %u ms", (unsigned)timeout_ms);
    } else if (GRPC_SLICE_LENGTH(details) > 0) {
        otelc_diag_escape((const char *)GRPC_SLICE_START_PTR(details), GRPC_SLICE_LENGTH(details),
                          text, sizeof(text));
    } else if (error_string != NULL) {
        otelc_diag_escape(error_string, strlen(error_string), text, sizeof(text));
    } else {
        text[0] = '\0';
    }
    snprintf(reply->error, sizeof(reply->error), "%s%s%s", status_name(code),
             text[0] != '\0' ? ": " : "", text);
done:
    if (request != NULL)
        grpc_byte_buffer_destroy(request);
    if (response != NULL)
        grpc_byte_buffer_destroy(response);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_slice_unref(details);
    if (error_string != NULL)
        gpr_free((void *)(uintptr_t)error_string);
    if (call != NULL)
        grpc_call_unref(call);
}

static void grpc_interrupt(void *conn)
{
    grpc_conn_t *c = conn;

    pthread_mutex_lock(&c->lock);
    c->interrupted = true;
    /* Safe from any thread before the call is unreferenced, which send()
     * does only after taking it out of `active` under the lock. */
    if (c->active != NULL)
        grpc_call_cancel(c->active, NULL);
    pthread_mutex_unlock(&c->lock);
}

/* ---- close ----------------------------------------------------------------- */

static void grpc_close(void *conn)
{
    grpc_conn_t *c = conn;

    if (c == NULL)
        return;
    if (c->channel != NULL)
        grpc_channel_destroy(c->channel);
    if (c->cq != NULL) {
        grpc_event ev;

        grpc_completion_queue_shutdown(c->cq);
        do {
            ev =
                grpc_completion_queue_pluck(c->cq, NULL, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
        } while (ev.type != GRPC_QUEUE_SHUTDOWN);
        grpc_completion_queue_destroy(c->cq);
    }
    free(c->headers);
    free(c->body);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* ---- registration ---------------------------------------------------------- */

static const otelc__otlp_transport_ops_t ops = {
    .version = OTELC__OTLP_TRANSPORT_VERSION,
    .protocol = "grpc",
    .library = "libotelc_otlp_grpc (otelc::otlp_grpc)",
    .open = grpc_open,
    .send = grpc_send,
    .close = grpc_close,
    .interrupt = grpc_interrupt,
};

/* Called when the library is loaded (linked, or dlopen'ed); callable again
 * (a transport of the same protocol is replaced by itself). */
__attribute__((visibility("default"), constructor)) void otelc_otlp_grpc_register(void);

void otelc_otlp_grpc_register(void)
{
    /* A refusal (another version of the exporter) is reported by it. */
    (void)otelc__otlp_transport_register(&ops);
}

/* ---- google.rpc.Status, read by hand --------------------------------------- */

/*
 * Just enough protobuf to find google.rpc.Status.details[] (field 3, Any)
 * whose type_url (1) is RetryInfo's, and its value (2): RetryInfo's
 * retry_delay (1), a google.protobuf.Duration of seconds (1) and nanos (2).
 * Every length is checked against what is left: the input is the network's.
 */
typedef struct pb_reader {
    const uint8_t *p, *end;
} pb_reader_t;

static bool pb_varint(pb_reader_t *r, uint64_t *v)
{
    uint64_t x = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t b;

        if (r->p == r->end)
            return false;
        b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* The next field: its number, wire type, and for a length-delimited one
 * its bytes (*sub); a varint's value in *v. Other wire types are skipped
 * over. false at the end or on malformed input. */
static bool pb_field(pb_reader_t *r, uint32_t *number, uint64_t *v, pb_reader_t *sub)
{
    uint64_t key, n;

    if (r->p == r->end || !pb_varint(r, &key))
        return false;
    *number = (uint32_t)(key >> 3);
    *v = 0;
    sub->p = sub->end = NULL;
    switch (key & 7) {
    case 0:
        return pb_varint(r, v);
    case 1:
        if (r->end - r->p < 8)
            return false;
        r->p += 8;
        return true;
    case 2:
        if (!pb_varint(r, &n) || n > (uint64_t)(r->end - r->p))
            return false;
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
        return true;
    case 5:
        if (r->end - r->p < 4)
            return false;
        r->p += 4;
        return true;
    default: /* groups (3, 4), and 6, 7 which do not exist */
        return false;
    }
}

static bool pb_is(const pb_reader_t *s, const char *text)
{
    size_t n = strlen(text);

    return s->p != NULL && (size_t)(s->end - s->p) == n && memcmp(s->p, text, n) == 0;
}

/* RetryInfo's delay in ms (a negative one is 0, a huge one UINT32_MAX). */
static bool retry_info_delay(pb_reader_t info, uint32_t *ms)
{
    pb_reader_t sub, duration = { NULL, NULL };
    uint32_t number;
    uint64_t v;
    int64_t seconds = 0, nanos = 0, total;

    while (pb_field(&info, &number, &v, &sub)) {
        if (number == 1 && sub.p != NULL)
            duration = sub;
    }
    if (info.p != info.end)
        return false;
    /* No retry_delay: retry, with the exporter's own backoff (0 ms here). */
    while (duration.p != NULL && pb_field(&duration, &number, &v, &sub)) {
        if (number == 1 && sub.p == NULL)
            seconds = (int64_t)v;
        else if (number == 2 && sub.p == NULL)
            nanos = (int32_t)(uint32_t)v;
    }
    if (duration.p != duration.end)
        return false;
    if (seconds < 0 || (seconds == 0 && nanos < 0)) {
        *ms = 0;
    } else if (seconds > (int64_t)(UINT32_MAX / 1000u)) {
        *ms = UINT32_MAX;
    } else {
        total = seconds * 1000 + nanos / 1000000;
        *ms = total < 0 ? 0 : total > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)total;
    }
    return true;
}

/* True when the serialized google.rpc.Status `p` carries a RetryInfo;
 * its delay in *ms. */
static bool find_retry_delay(const uint8_t *p, size_t n, uint32_t *ms)
{
    pb_reader_t status = { p, p + n }, any, sub, type_url, value;
    uint32_t number;
    uint64_t v;

    while (pb_field(&status, &number, &v, &any)) {
        if (number != 3 || any.p == NULL)
            continue;
        type_url.p = value.p = NULL;
        type_url.end = value.end = NULL;
        while (pb_field(&any, &number, &v, &sub)) {
            if (number == 1)
                type_url = sub;
            else if (number == 2)
                value = sub;
        }
        if (any.p != any.end)
            return false;
        if (pb_is(&type_url, "type.googleapis.com/google.rpc.RetryInfo")) {
            if (value.p == NULL) /* an empty RetryInfo */
                value.p = value.end = p;
            return retry_info_delay(value, ms);
        }
    }
    return false;
}
