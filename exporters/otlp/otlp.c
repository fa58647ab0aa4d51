/*
 * otlp.c: the OTLP exporter: one instance per signal, created by name
 * ("otlp") from its settings; it encodes each batch (protobuf, or OTLP/JSON
 * for http/json), sends it through the transport the protocol names, and
 * keeps the accounting exact whatever the backend does.
 *
 * Two threads touch an instance: the pipeline's worker for this exporter
 * (export_batch, force_flush, shutdown) and the instance's sender, which
 * sends the spool. Without a spool, export_batch retries within its
 * timeout and what it could not deliver is dropped (counted). With one,
 * export_batch sends directly only while the backend answers and the spool
 * is empty; a transient failure, or a backend known to be down, puts the
 * request in the spool at once (the pipeline's worker never sleeps on a
 * backoff), and the sender sends the spool oldest first with backoff and
 * jitter until the backend takes it. A spooled record counts as exported
 * for the pipeline, as a record written by the file exporter does; what
 * the spool loses later (a file refused for good, a damaged file) is
 * counted in otelc_otlp_stats() and reported.
 */
#include <otelc/text.h>
#include "otlp_internal.h"

#include "format.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_HEADERS 64

/* ---- transports ---------------------------------------------------------- */

static const otelc__otlp_transport_ops_t *transports[4];
static pthread_mutex_t transports_lock = PTHREAD_MUTEX_INITIALIZER;

otelc_status_t otelc__otlp_transport_register(const otelc__otlp_transport_ops_t *ops)
{
    otelc_status_t st = OTELC_ERR_FULL;

    if (ops == NULL || ops->version != OTELC__OTLP_TRANSPORT_VERSION || ops->protocol == NULL) {
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.transport",
                   "OTLP exporter: a transport of interface version %u refused (this library "
                   "is version %u)",
                   ops != NULL ? ops->version : 0u, OTELC__OTLP_TRANSPORT_VERSION);
        return OTELC_ERR_INVALID;
    }
    pthread_mutex_lock(&transports_lock);
    for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++) {
        if (transports[i] == NULL || strcmp(transports[i]->protocol, ops->protocol) == 0) {
            transports[i] = ops;
            st = OTELC_OK;
            break;
        }
    }
    pthread_mutex_unlock(&transports_lock);
    return st;
}

const otelc__otlp_transport_ops_t *otelc__otlp_transport_find(const char *protocol)
{
    const otelc__otlp_transport_ops_t *found = NULL;

    pthread_mutex_lock(&transports_lock);
    for (size_t i = 0; i < sizeof(transports) / sizeof(transports[0]); i++)
        if (transports[i] != NULL && strcmp(transports[i]->protocol, protocol) == 0)
            found = transports[i];
    pthread_mutex_unlock(&transports_lock);
    return found;
}

/* ---- counters ------------------------------------------------------------ */

static _Atomic uint64_t n_requests, n_retries, n_spooled, n_unspooled, n_spool_dropped, n_rejected;

void otelc_otlp_stats(otelc_otlp_stats_t *out)
{
    if (out == NULL)
        return;
    out->requests = atomic_load(&n_requests);
    out->retries = atomic_load(&n_retries);
    out->spooled = atomic_load(&n_spooled);
    out->unspooled = atomic_load(&n_unspooled);
    out->spool_dropped = atomic_load(&n_spool_dropped);
    out->spool_bytes = otelc__spool_bytes();
    out->rejected = atomic_load(&n_rejected);
}

/* ---- time ---------------------------------------------------------------- */

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct timespec abs_after_ms(uint64_t ms)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000u);
    ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- the instance -------------------------------------------------------- */

typedef struct otlp_exporter {
    otelc_exporter_t base;
    otelc_signal_t signal;
    const char *signal_name; /* "traces", "logs" */
    const otelc__otlp_transport_ops_t *tr;
    otelc__otlp_target_t target;
    char *strings; /* the target's strings, one block */
    const char *names[MAX_HEADERS], *values[MAX_HEADERS];
    uint32_t request_timeout_ms;
    uint32_t backoff_initial_ms, backoff_max_ms;
    void *conn; /* export_batch's */

    otelc__otlp_encoder_t enc;
    otelc__fbuf_t json;
    const void **ptrs; /* records by pointer, for the JSON writer */
    size_t ptrs_cap;
    char message[320]; /* the result's message */

    /* The spool and its sender (spool == NULL: none). */
    otelc__spool_t *spool;
    pthread_t sender;
    bool sender_started;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* work for the sender, or stop */
    pthread_cond_t idle; /* the sender found the spool empty, or ended */
    bool stop, work, empty;
    bool sender_done;  /* the sender has left its loop */
    void *sender_conn; /* the sender's connection (under lock), for interrupt() */
    atomic_bool down;  /* the last attempt failed in transit */
    uint64_t rng;
} otlp_exporter_t;

static uint32_t jitter(otlp_exporter_t *x, uint32_t backoff_ms)
{
    /* xorshift64: the waits of many processes must not line up. */
    uint64_t r = x->rng;

    r ^= r << 13;
    r ^= r >> 7;
    r ^= r << 17;
    x->rng = r;
    if (backoff_ms < 2)
        return backoff_ms;
    return backoff_ms / 2u + (uint32_t)(r % (backoff_ms / 2u + 1u));
}

static uint32_t grow(const otlp_exporter_t *x, uint32_t backoff_ms)
{
    uint64_t next = (uint64_t)backoff_ms * 3u / 2u;

    return next > x->backoff_max_ms ? x->backoff_max_ms : (uint32_t)next;
}

/* Waits ms unless told to stop; true when told. Called with x->lock held. */
static bool wait_or_stop(otlp_exporter_t *x, uint64_t ms)
{
    struct timespec until = abs_after_ms(ms);

    while (!x->stop) {
        if (pthread_cond_timedwait(&x->wake, &x->lock, &until) == ETIMEDOUT)
            break;
    }
    return x->stop;
}

/* Counts the rejected records of a success and reports them (rate-limited). */
static size_t partial(otlp_exporter_t *x, const otelc__otlp_reply_t *reply, size_t n, bool *ok)
{
    otelc__otlp_partial_t p;

    *ok = otelc__otlp_partial_success(x->signal, x->target.json, reply->body, reply->body_len, &p);
    if (!*ok) {
        otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.response",
                   "OTLP exporter (%s): the backend's response does not read as an export "
                   "response; taken as a full success",
                   x->signal_name);
        return 0;
    }
    if (p.rejected <= 0 && p.message[0] == '\0')
        return 0;
    if ((uint64_t)p.rejected > n)
        p.rejected = (int64_t)n;
    atomic_fetch_add(&n_rejected, (uint64_t)p.rejected);
    otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.partial",
               "OTLP exporter (%s): the backend rejected %lld of %zu records: %s", x->signal_name,
               (long long)p.rejected, n, p.message[0] != '\0' ? p.message : "(no message)");
    return (size_t)p.rejected;
}

/* ---- the sender: the spool, oldest first --------------------------------- */

static void *sender_main(void *arg)
{
    otlp_exporter_t *x = arg;
    void *conn = NULL;
    uint32_t backoff = x->backoff_initial_ms;
    char err[256];

    pthread_mutex_lock(&x->lock);
    while (!x->stop) {
        otelc__spool_item_t item;
        otelc__otlp_reply_t reply;
        uint64_t corrupt = 0;
        bool have;

        x->work = false;
        pthread_mutex_unlock(&x->lock);
        have = otelc__spool_peek(x->spool, &item, &corrupt);
        if (corrupt > 0)
            atomic_fetch_add(&n_spool_dropped, corrupt);
        if (!have) {
            pthread_mutex_lock(&x->lock);
            x->empty = !otelc__spool_pending(x->spool);
            pthread_cond_broadcast(&x->idle);
            /* Nothing to send, or another process sends it: look again
             * when told, or after a while (files another process left). */
            if (!x->stop && !x->work) {
                struct timespec until = abs_after_ms(x->empty ? 5000u : backoff);

                while (!x->stop && !x->work &&
                       pthread_cond_timedwait(&x->wake, &x->lock, &until) != ETIMEDOUT)
                    ;
            }
            continue;
        }
        if (item.json != x->target.json) {
            /* Written by an exporter of the other encoding (the protocol
             * changed between runs): this transport cannot send it. */
            otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.spool.encoding",
                       "OTLP exporter (%s): spool file %s holds OTLP/%s, this exporter sends "
                       "%s; left for `otelc replay --protocol %s`",
                       x->signal_name, item.path, item.json ? "JSON" : "protobuf",
                       item.json ? "protobuf" : "JSON", item.json ? "http/json" : "http/protobuf");
            otelc__spool_release(x->spool, &item);
            pthread_mutex_lock(&x->lock);
            x->empty = true;
            pthread_cond_broadcast(&x->idle);
            (void)wait_or_stop(x, 60000);
            continue;
        }
        if (conn == NULL && x->tr->open(&x->target, &conn, err, sizeof(err)) != OTELC_OK) {
            otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.open",
                       "OTLP exporter (%s): cannot connect for the spool: %s", x->signal_name, err);
            conn = NULL;
            memset(&reply, 0, sizeof(reply));
            reply.outcome = OTELC__OTLP_RETRY;
        } else {
            pthread_mutex_lock(&x->lock);
            x->sender_conn = conn;
            pthread_mutex_unlock(&x->lock);
            x->tr->send(conn, item.body, item.len, x->request_timeout_ms, &reply);
            atomic_fetch_add(&n_requests, 1);
        }
        if (reply.outcome == OTELC__OTLP_SENT) {
            bool ok;
            size_t rejected = partial(x, &reply, item.records, &ok);

            atomic_fetch_add(&n_unspooled, item.records - rejected);
            atomic_fetch_add(&n_spool_dropped, rejected);
            otelc__spool_done(x->spool, &item);
            atomic_store(&x->down, false);
            backoff = x->backoff_initial_ms;
            pthread_mutex_lock(&x->lock);
            continue;
        }
        if (reply.outcome == OTELC__OTLP_FAILED) {
            otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.refused",
                       "OTLP exporter (%s): the backend refused a spooled request of %u records "
                       "for good (%s); they are dropped",
                       x->signal_name, item.records, reply.error);
            atomic_fetch_add(&n_spool_dropped, item.records);
            otelc__spool_done(x->spool, &item);
            pthread_mutex_lock(&x->lock);
            continue;
        }
        /* In transit: the backend is down; wait and send the same file. */
        atomic_store(&x->down, true);
        atomic_fetch_add(&n_retries, 1);
        otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.retry",
                   "OTLP exporter (%s): %s; the spool is kept and sent again", x->signal_name,
                   reply.error[0] != '\0' ? reply.error : "the backend did not answer");
        otelc__spool_release(x->spool, &item);
        pthread_mutex_lock(&x->lock);
        (void)wait_or_stop(x, reply.has_retry_after ? reply.retry_after_ms : jitter(x, backoff));
        backoff = grow(x, backoff);
    }
    x->sender_conn = NULL;
    pthread_mutex_unlock(&x->lock);
    if (conn != NULL)
        x->tr->close(conn);
    pthread_mutex_lock(&x->lock);
    x->sender_done = true;
    pthread_cond_broadcast(&x->idle);
    pthread_mutex_unlock(&x->lock);
    return NULL;
}

static void wake_sender(otlp_exporter_t *x)
{
    pthread_mutex_lock(&x->lock);
    x->work = true;
    x->empty = false;
    pthread_cond_broadcast(&x->wake);
    pthread_mutex_unlock(&x->lock);
}

/* ---- export -------------------------------------------------------------- */

static bool encode(otlp_exporter_t *x, const otelc_batch_t *batch, const uint8_t **body,
                   size_t *len)
{
    if (!x->target.json) {
        if (!otelc__otlp_encode(&x->enc, batch))
            return false;
        *body = x->enc.buf;
        *len = x->enc.len;
        return true;
    }
    if (batch->n > x->ptrs_cap) {
        const void **p = realloc(x->ptrs, batch->n * sizeof(*p));

        if (p == NULL)
            return false;
        x->ptrs = p;
        x->ptrs_cap = batch->n;
    }
    for (size_t i = 0; i < batch->n; i++)
        x->ptrs[i] = batch->signal == OTELC_SIGNAL_TRACES ? (const void *)&batch->spans[i]
                                                          : (const void *)&batch->logs[i];
    otelc__fbuf_reset(&x->json);
    if (batch->signal == OTELC_SIGNAL_TRACES)
        otelc__otlp_spans(&x->json, batch->resource, (const otelc_span_data_t *const *)x->ptrs,
                          batch->n);
    else
        otelc__otlp_logs(&x->json, batch->resource, (const otelc_log_data_t *const *)x->ptrs,
                         batch->n);
    if (x->json.failed)
        return false;
    *body = (const uint8_t *)x->json.data;
    *len = x->json.len;
    return true;
}

/* To the spool: the records count as exported when it takes them. */
static otelc_status_t to_spool(otlp_exporter_t *x, const uint8_t *body, size_t len, size_t n,
                               otelc_export_result_t *result)
{
    if (!otelc__spool_put(x->spool, body, len, (uint32_t)n, x->target.json)) {
        result->accepted = 0;
        result->message = "the spool is full or cannot be written";
        return OTELC_ERR_IO;
    }
    atomic_fetch_add(&n_spooled, n);
    wake_sender(x);
    result->accepted = n;
    return OTELC_OK;
}

static otelc_status_t otlp_export(otelc_exporter_t *self, const otelc_batch_t *batch,
                                  uint32_t timeout_ms, otelc_export_result_t *result)
{
    otlp_exporter_t *x = (otlp_exporter_t *)self;
    const uint8_t *body;
    size_t len;
    uint64_t deadline = mono_ms() + timeout_ms;
    uint32_t backoff = x->backoff_initial_ms;
    char err[256];

    if (batch->n == 0)
        return OTELC_OK;
    if (!encode(x, batch, &body, &len)) {
        result->accepted = 0;
        result->message = "out of memory encoding the request";
        return OTELC_ERR_NOMEM;
    }
    /* Order: while the spool holds requests, new ones queue behind them. */
    if (x->spool != NULL && (atomic_load(&x->down) || otelc__spool_pending(x->spool)))
        return to_spool(x, body, len, batch->n, result);

    for (;;) {
        otelc__otlp_reply_t reply;
        uint64_t now = mono_ms();
        uint32_t budget = now < deadline ? (uint32_t)(deadline - now) : 0;

        if (x->conn == NULL && x->tr->open(&x->target, &x->conn, err, sizeof(err)) != OTELC_OK) {
            x->conn = NULL;
            snprintf(x->message, sizeof(x->message), "cannot connect: %s", err);
            result->message = x->message;
            result->accepted = 0;
            return OTELC_ERR_IO;
        }
        x->tr->send(x->conn, body, len,
                    budget < x->request_timeout_ms ? (budget > 0 ? budget : 1)
                                                   : x->request_timeout_ms,
                    &reply);
        atomic_fetch_add(&n_requests, 1);
        if (reply.outcome == OTELC__OTLP_SENT) {
            bool ok;
            size_t rejected = partial(x, &reply, batch->n, &ok);

            atomic_store(&x->down, false);
            result->accepted = batch->n - rejected;
            result->rejected = rejected;
            if (rejected > 0) {
                snprintf(x->message, sizeof(x->message), "partial success");
                result->message = x->message;
            }
            return OTELC_OK;
        }
        snprintf(x->message, sizeof(x->message), "%s",
                 reply.error[0] != '\0' ? reply.error : "no answer");
        result->message = x->message;
        if (reply.outcome == OTELC__OTLP_FAILED) {
            /* Refused as it is: no retry, no spool, would deliver it. */
            result->accepted = 0;
            result->rejected = batch->n;
            return OTELC_ERR_IO;
        }
        result->retryable = true;
        if (x->spool != NULL) {
            atomic_store(&x->down, true);
            return to_spool(x, body, len, batch->n, result);
        }
        {
            uint32_t wait = reply.has_retry_after ? reply.retry_after_ms : jitter(x, backoff);

            otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.retry",
                       "OTLP exporter (%s): %s; sent again in %u ms", x->signal_name, x->message,
                       (unsigned)wait);
            now = mono_ms();
            if (now + wait >= deadline) {
                result->accepted = 0;
                result->retry_after_ms = wait;
                return OTELC_ERR_IO;
            }
            pthread_mutex_lock(&x->lock);
            if (wait_or_stop(x, wait)) {
                pthread_mutex_unlock(&x->lock);
                result->accepted = 0;
                return OTELC_ERR_IO;
            }
            pthread_mutex_unlock(&x->lock);
            backoff = grow(x, backoff);
            atomic_fetch_add(&n_retries, 1);
        }
    }
}

/* Waits until the spool is sent (or the backend is down): the records are
 * delivered, or as safe as they will be. */
static otelc_status_t flush_until(otlp_exporter_t *x, const struct timespec *until)
{
    otelc_status_t st = OTELC_OK;

    if (x->spool == NULL)
        return OTELC_OK;
    pthread_mutex_lock(&x->lock);
    while (!x->empty && !atomic_load(&x->down) && !x->stop) {
        if (pthread_cond_timedwait(&x->idle, &x->lock, until) == ETIMEDOUT) {
            st = OTELC_ERR_TIMEOUT;
            break;
        }
    }
    pthread_mutex_unlock(&x->lock);
    return st;
}

static otelc_status_t otlp_flush(otelc_exporter_t *self, uint32_t timeout_ms)
{
    struct timespec until = abs_after_ms(timeout_ms);

    return flush_until((otlp_exporter_t *)self, &until);
}

static void otlp_shutdown(otelc_exporter_t *self, uint32_t timeout_ms)
{
    otlp_exporter_t *x = (otlp_exporter_t *)self;
    struct timespec until = abs_after_ms(timeout_ms);

    (void)flush_until(x, &until);
    pthread_mutex_lock(&x->lock);
    x->stop = true;
    pthread_cond_broadcast(&x->wake);
    if (x->sender_started) {
        /* A request in flight may finish within the deadline; past it, it
         * is interrupted and its file stays in the spool for the next
         * process, so that shutdown keeps its deadline whatever the
         * request timeout. */
        while (!x->sender_done) {
            if (pthread_cond_timedwait(&x->idle, &x->lock, &until) == ETIMEDOUT) {
                if (x->sender_conn != NULL)
                    x->tr->interrupt(x->sender_conn);
                break;
            }
        }
    }
    pthread_mutex_unlock(&x->lock);
    if (x->sender_started) {
        pthread_join(x->sender, NULL);
        x->sender_started = false;
    }
    if (x->conn != NULL) {
        x->tr->close(x->conn);
        x->conn = NULL;
    }
}

static void otlp_destroy(otelc_exporter_t *self)
{
    otlp_exporter_t *x = (otlp_exporter_t *)self;

    if (x->sender_started)
        otlp_shutdown(self, 0);
    if (x->conn != NULL)
        x->tr->close(x->conn);
    otelc__spool_close(x->spool);
    otelc__otlp_encoder_free(&x->enc);
    otelc__fbuf_free(&x->json);
    free(x->ptrs);
    free(x->strings);
    pthread_mutex_destroy(&x->lock);
    pthread_cond_destroy(&x->wake);
    pthread_cond_destroy(&x->idle);
    free(x);
}

static const otelc_exporter_ops_t otlp_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "otlp",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = otlp_export,
    .force_flush = otlp_flush,
    .shutdown = otlp_shutdown,
    .destroy = otlp_destroy,
};

/* ---- settings to a target ------------------------------------------------ */

static const char *pick_str(const char *sig, const char *all)
{
    return sig != NULL && sig[0] != '\0' ? sig : all;
}

static int pick_int(int sig, int all)
{
    return sig != OTELC_OTLP_UNSET ? sig : all;
}

/* Percent-decodes s[0, n) into out (NUL-terminated); returns its length. */
static size_t pct_decode(const char *s, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && otelc_text_hex_value(s[i + 1]) >= 0 &&
            otelc_text_hex_value(s[i + 2]) >= 0) {
            out[o++] = (char)(otelc_text_hex_value(s[i + 1]) * 16 + otelc_text_hex_value(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

static void trim(const char **s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Appends a copy of s[0, n) to the block at *at; returns it. */
static const char *put(char **at, const char *s, size_t n)
{
    char *r = *at;

    memcpy(r, s, n);
    r[n] = '\0';
    *at += n + 1;
    return r;
}

/* An HTTP field name (RFC 9110 token), percent-escapes allowed. */
static bool token(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!isalnum(c) && strchr("!#$%&'*+-.^_`|~", c) == NULL)
            return false;
    }
    return true;
}

/* A value without control characters once decoded (CR and LF would split
 * the request), percent-escapes of them included. */
static bool field_value(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return false;
        if (c == '%' && i + 2 < n && otelc_text_hex_value(s[i + 1]) >= 0 &&
            otelc_text_hex_value(s[i + 2]) >= 0) {
            int d = otelc_text_hex_value(s[i + 1]) * 16 + otelc_text_hex_value(s[i + 2]);

            if ((d < 0x20 && d != '\t') || d == 0x7f)
                return false;
        }
    }
    return true;
}

/* Headers "name=value,..." into the target; a bad item is reported (its
 * value never shown) and skipped. */
static void parse_headers(otlp_exporter_t *x, const char *h, char **at, const char *var)
{
    size_t count = 0;

    for (const char *p = h; p != NULL && *p != '\0';) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        const char *k = p, *v;
        size_t kl, vl;

        p = comma != NULL ? comma + 1 : p + len;
        if (eq == NULL) {
            trim(&k, &len);
            if (len > 0)
                otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.headers",
                           "OTLP exporter: %s item %zu has no '=' (name=value); skipped", var,
                           count + 1);
            count++;
            continue;
        }
        kl = (size_t)(eq - k);
        v = eq + 1;
        vl = len - kl - 1;
        trim(&k, &kl);
        trim(&v, &vl);
        count++;
        if (kl == 0 || x->target.n_headers >= MAX_HEADERS || !token(k, kl) || !field_value(v, vl)) {
            otelc_diag(OTELC_DIAG_WARN, "exporter.otlp.headers",
                       "OTLP exporter: %s item %zu %s; skipped", var, count,
                       kl == 0                              ? "has an empty name"
                       : x->target.n_headers >= MAX_HEADERS ? "is past the 64 headers kept"
                       : !token(k, kl) ? "has a name that is not an HTTP token (letters, digits, "
                                         "!#$%&'*+-.^_`|~)"
                                       : "has a control character in its value");
            continue;
        }
        {
            char *name = *at;
            size_t nl = pct_decode(k, kl, name);

            *at += nl + 1;
            if (x->tr != NULL && strcmp(x->tr->protocol, "grpc") == 0)
                for (size_t i = 0; i < nl; i++)
                    name[i] = (char)tolower((unsigned char)name[i]);
            x->names[x->target.n_headers] = name;
        }
        {
            char *value = *at;

            *at += pct_decode(v, vl, value) + 1;
            x->values[x->target.n_headers] = value;
        }
        x->target.n_headers++;
    }
}

static size_t slen(const char *s)
{
    return s != NULL ? strlen(s) : 0;
}

static const char *put_opt(char **at, const char *s)
{
    return s != NULL && s[0] != '\0' ? put(at, s, strlen(s)) : NULL;
}

otelc_status_t otelc__otlp_create(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    const otelc_otlp_options_t *o = args->settings;
    const otelc_otlp_endpoint_options_t *all = &o->all, *sig;
    otlp_exporter_t *x;
    const char *endpoint, *headers, *path;
    int protocol;
    bool per_signal_endpoint;
    size_t need;
    char *at, err[256];

    if (args->signal != OTELC_SIGNAL_TRACES && args->signal != OTELC_SIGNAL_LOGS)
        return OTELC_ERR_INVALID;
    sig = args->signal == OTELC_SIGNAL_TRACES ? &o->traces : &o->logs;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return OTELC_ERR_NOMEM;
    x->base.ops = &otlp_ops;
    x->signal = args->signal;
    x->signal_name = args->signal == OTELC_SIGNAL_TRACES ? "traces" : "logs";
    protocol = pick_int(sig->protocol, all->protocol);
    if (protocol == OTELC_OTLP_UNSET)
        protocol = OTELC_OTLP_HTTP_PROTOBUF;
    x->tr = otelc__otlp_transport_find(protocol == OTELC_OTLP_GRPC ? "grpc" : "http");
    if (x->tr == NULL) {
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.protocol",
                   "OTLP exporter (%s): protocol %s needs %s linked into the program; no OTLP "
                   "export of %s",
                   x->signal_name,
                   protocol == OTELC_OTLP_GRPC        ? "grpc"
                   : protocol == OTELC_OTLP_HTTP_JSON ? "http/json"
                                                      : "http/protobuf",
                   protocol == OTELC_OTLP_GRPC ? "libotelc_otlp_grpc (otelc::otlp_grpc)"
                                               : "libotelc_otlp_http (otelc::otlp_http)",
                   x->signal_name);
        free(x);
        return OTELC_ERR_NOT_FOUND;
    }
    per_signal_endpoint = sig->endpoint != NULL && sig->endpoint[0] != '\0';
    endpoint = pick_str(sig->endpoint, all->endpoint);
    if (endpoint == NULL || endpoint[0] == '\0')
        endpoint = protocol == OTELC_OTLP_GRPC ? "http://localhost:4317" : "http://localhost:4318";
    headers = pick_str(sig->headers, all->headers);
    path = args->signal == OTELC_SIGNAL_TRACES ? "v1/traces" : "v1/logs";

    need = slen(endpoint) + 16 + 2 * slen(headers) + 4 +
           slen(pick_str(sig->certificate, all->certificate)) +
           slen(pick_str(sig->client_key, all->client_key)) +
           slen(pick_str(sig->client_certificate, all->client_certificate)) + 64;
    x->strings = malloc(need);
    if (x->strings == NULL) {
        free(x);
        return OTELC_ERR_NOMEM;
    }
    at = x->strings;
    x->target.signal = args->signal;
    if (protocol == OTELC_OTLP_GRPC || per_signal_endpoint) {
        x->target.url = put(&at, endpoint, strlen(endpoint));
    } else {
        size_t el = strlen(endpoint);
        char *u = at;

        memcpy(u, endpoint, el);
        if (el == 0 || endpoint[el - 1] != '/')
            u[el++] = '/';
        memcpy(u + el, path, strlen(path) + 1);
        at += el + strlen(path) + 1;
        x->target.url = u;
    }
    x->target.grpc_method = protocol != OTELC_OTLP_GRPC ? NULL
                            : args->signal == OTELC_SIGNAL_TRACES
                                ? "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
                                : "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    parse_headers(x, headers, &at,
                  sig->headers != NULL && sig->headers[0] != '\0'
                      ? (args->signal == OTELC_SIGNAL_TRACES ? "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
                                                             : "OTEL_EXPORTER_OTLP_LOGS_HEADERS")
                      : "OTEL_EXPORTER_OTLP_HEADERS");
    x->target.header_names = x->names;
    x->target.header_values = x->values;
    x->target.gzip = pick_int(sig->compression, all->compression) == OTELC_OTLP_YES;
    x->target.json = protocol == OTELC_OTLP_HTTP_JSON;
    x->target.insecure = pick_int(sig->insecure, all->insecure) == OTELC_OTLP_YES;
    x->target.ca_file = put_opt(&at, pick_str(sig->certificate, all->certificate));
    x->target.client_key_file = put_opt(&at, pick_str(sig->client_key, all->client_key));
    x->target.client_cert_file =
        put_opt(&at, pick_str(sig->client_certificate, all->client_certificate));
    x->target.user_agent = "otelc/" OTELC_VERSION_STRING;
    x->request_timeout_ms = sig->timeout_ms != 0 ? sig->timeout_ms : all->timeout_ms;
    if (x->request_timeout_ms == 0)
        x->request_timeout_ms = 10000;
    x->backoff_initial_ms = o->retry_initial_ms != 0 ? o->retry_initial_ms : 1000;
    x->backoff_max_ms =
        o->retry_max_ms >= x->backoff_initial_ms ? o->retry_max_ms : x->backoff_initial_ms;
    x->rng = (uint64_t)mono_ms() * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uintptr_t)x;
    if (x->rng == 0)
        x->rng = 1;
    x->empty = true;
    pthread_mutex_init(&x->lock, NULL);
    {
        pthread_condattr_t ca;

        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&x->wake, &ca);
        pthread_cond_init(&x->idle, &ca);
        pthread_condattr_destroy(&ca);
    }
    /* Open now so that a bad endpoint or certificate is reported at start. */
    if (x->tr->open(&x->target, &x->conn, err, sizeof(err)) != OTELC_OK) {
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.open",
                   "OTLP exporter (%s): %s; no OTLP export of %s", x->signal_name, err,
                   x->signal_name);
        x->conn = NULL;
        otlp_destroy(&x->base);
        return OTELC_ERR_INVALID;
    }
    if (o->spool_dir != NULL && o->spool_dir[0] != '\0') {
        x->spool =
            otelc__spool_open(o->spool_dir, args->signal,
                              (uint64_t)(o->spool_max_mb != 0 ? o->spool_max_mb : 256u) << 20);
        if (x->spool != NULL) {
            x->empty = !otelc__spool_pending(x->spool);
            x->work = !x->empty;
            if (pthread_create(&x->sender, NULL, sender_main, x) == 0) {
                x->sender_started = true;
            } else {
                otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.spool",
                           "OTLP exporter (%s): cannot start the spool's sender thread; no "
                           "spool",
                           x->signal_name);
                otelc__spool_close(x->spool);
                x->spool = NULL;
            }
        }
    }
    *out = &x->base;
    return OTELC_OK;
}

otelc_status_t otelc_otlp_register(void)
{
    return otelc_component_register(&otelc__otlp_component);
}

__attribute__((constructor)) static void otlp_register_at_load(void)
{
    otelc_status_t st = otelc_otlp_register();

    if (st != OTELC_OK)
        otelc_diag(OTELC_DIAG_ERROR, "exporter.otlp.register",
                   "the OTLP exporter could not register itself: %s", otelc_status_str(st));
}
