/*
 * capture_exporter.h: an exporter for tests that keeps a deep copy of every
 * record it receives, so tests can assert on what otelc exported, and can
 * be told to fail, to hang, or to be slow.
 *
 * Header-only (static functions); include it in one test file.
 */
#ifndef OTELC_TEST_CAPTURE_EXPORTER_H
#define OTELC_TEST_CAPTURE_EXPORTER_H

#include <otelc/otelc.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every helper is static and may go unused in a given test. */
#define CAP_FN static __attribute__((unused))

#define CAP_MAX_ATTRS 64
#define CAP_MAX_EVENTS 16

/* One attribute rendered as text: "key=value" with the value in a fixed
 * form (strings as is, ints %lld, doubles %.17g, bools true/false, arrays
 * [a,b], bytes as hex). */
typedef struct cap_attr {
    char key[128];
    char value[1024];
    int type;
} cap_attr_t;

typedef struct cap_record {
    int signal;      /* OTELC_SIGNAL_TRACES or OTELC_SIGNAL_LOGS */
    char name[256];  /* span name, or log body */
    char event[128]; /* log event name, or "" */
    char scope[128];
    char correlation[160];
    char status_message[256];
    char trace_state[600];
    otelc_span_context_t ctx;
    uint8_t parent_span_id[8];
    bool parent_is_remote;
    int kind, severity, status;
    uint64_t start_ns, end_ns; /* logs: time in start_ns */
    cap_attr_t attrs[CAP_MAX_ATTRS];
    unsigned n_attrs, dropped_attrs;
    char events[CAP_MAX_EVENTS][128];
    uint64_t event_times[CAP_MAX_EVENTS];
    cap_attr_t event_attrs[CAP_MAX_EVENTS][4];
    unsigned n_event_attrs[CAP_MAX_EVENTS];
    unsigned n_events, dropped_events, n_links, dropped_links;
    otelc_span_context_t links[8];
    size_t body_len; /* logs: the body's full length (name[] holds its start) */
} cap_record_t;

typedef struct cap_exporter {
    otelc_exporter_t base;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    cap_record_t *recs;
    size_t n, cap;
    bool keep; /* false: count only */
    size_t counted[3];
    size_t batches;
    size_t max_batch;
    otelc_status_t fail; /* status export returns (OTELC_OK normally) */
    bool hang;           /* export blocks until hang is cleared */
    unsigned delay_ms;   /* sleep per batch */
    bool shut_down;
    bool destroyed_flag;
    bool *destroyed; /* set when destroyed, if non-NULL */
    size_t flushes;
} cap_exporter_t;

CAP_FN void cap_render_value(const otelc_attr_t *a, char *out, size_t size)
{
    size_t n = 0, i;
#define CAP_PUT(...)                                                                               \
    n += (size_t)snprintf(out + (n < size ? n : size), n < size ? size - n : 0, __VA_ARGS__)
    out[0] = 0;
    switch (a->type) {
    case OTELC_ATTR_STRING:
        CAP_PUT("%.*s", (int)a->len, a->v.s);
        break;
    case OTELC_ATTR_BOOL:
        CAP_PUT("%s", a->v.b ? "true" : "false");
        break;
    case OTELC_ATTR_INT:
        CAP_PUT("%lld", (long long)a->v.i);
        break;
    case OTELC_ATTR_DOUBLE:
        CAP_PUT("%.17g", a->v.d);
        break;
    case OTELC_ATTR_BYTES:
        for (i = 0; i < a->len; i++)
            CAP_PUT("%02x", ((const unsigned char *)a->v.bytes)[i]);
        break;
    case OTELC_ATTR_STRING_ARRAY:
        CAP_PUT("[");
        for (i = 0; i < a->len; i++)
            CAP_PUT("%s%s", i ? "," : "", a->v.sa[i]);
        CAP_PUT("]");
        break;
    case OTELC_ATTR_BOOL_ARRAY:
        CAP_PUT("[");
        for (i = 0; i < a->len; i++)
            CAP_PUT("%s%s", i ? "," : "", a->v.ba[i] ? "true" : "false");
        CAP_PUT("]");
        break;
    case OTELC_ATTR_INT_ARRAY:
        CAP_PUT("[");
        for (i = 0; i < a->len; i++)
            CAP_PUT("%s%lld", i ? "," : "", (long long)a->v.ia[i]);
        CAP_PUT("]");
        break;
    case OTELC_ATTR_DOUBLE_ARRAY:
        CAP_PUT("[");
        for (i = 0; i < a->len; i++)
            CAP_PUT("%s%.17g", i ? "," : "", a->v.da[i]);
        CAP_PUT("]");
        break;
    default:
        CAP_PUT("?");
    }
#undef CAP_PUT
}

CAP_FN void cap_copy_attrs(cap_attr_t *dst, unsigned *n, unsigned max, const otelc_attr_t *src,
                           size_t count)
{
    *n = 0;
    for (size_t i = 0; i < count && *n < max; i++) {
        cap_attr_t *d = &dst[(*n)++];
        snprintf(d->key, sizeof(d->key), "%s", src[i].key);
        d->type = (int)src[i].type;
        cap_render_value(&src[i], d->value, sizeof(d->value));
    }
}

CAP_FN otelc_status_t cap_export(otelc_exporter_t *self, const otelc_batch_t *b,
                                 uint32_t timeout_ms, otelc_export_result_t *result)
{
    cap_exporter_t *c = (cap_exporter_t *)self;
    (void)timeout_ms;
    (void)result;
    pthread_mutex_lock(&c->mu);
    while (c->hang)
        pthread_cond_wait(&c->cond, &c->mu);
    unsigned delay = c->delay_ms;
    pthread_mutex_unlock(&c->mu);
    if (delay) {
        struct timespec ts = { delay / 1000, (long)(delay % 1000) * 1000000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&c->mu);
    otelc_status_t st = c->fail;
    c->batches++;
    if (b->n > c->max_batch)
        c->max_batch = b->n;
    if (st == OTELC_OK) {
        c->counted[b->signal] += b->n;
        if (c->keep) {
            if (c->n + b->n > c->cap) {
                size_t ncap = (c->n + b->n) * 2;
                cap_record_t *nr = realloc(c->recs, ncap * sizeof(*nr));
                if (nr == NULL) {
                    pthread_mutex_unlock(&c->mu);
                    return OTELC_ERR_NOMEM;
                }
                c->recs = nr;
                c->cap = ncap;
            }
            for (size_t i = 0; i < b->n; i++) {
                cap_record_t *r = &c->recs[c->n++];
                memset(r, 0, sizeof(*r));
                r->signal = b->signal;
                if (b->signal == OTELC_SIGNAL_TRACES) {
                    const otelc_span_data_t *s = &b->spans[i];
                    snprintf(r->name, sizeof(r->name), "%s", s->name.ptr);
                    snprintf(r->scope, sizeof(r->scope), "%s", s->scope->name.ptr);
                    snprintf(r->correlation, sizeof(r->correlation), "%s", s->correlation_id.ptr);
                    snprintf(r->status_message, sizeof(r->status_message), "%s",
                             s->status_message.ptr);
                    snprintf(r->trace_state, sizeof(r->trace_state), "%s", s->trace_state.ptr);
                    r->ctx = s->ctx;
                    memcpy(r->parent_span_id, s->parent_span_id, 8);
                    r->parent_is_remote = s->parent_is_remote;
                    r->kind = (int)s->kind;
                    r->status = (int)s->status_code;
                    r->start_ns = s->start_ns;
                    r->end_ns = s->end_ns;
                    cap_copy_attrs(r->attrs, &r->n_attrs, CAP_MAX_ATTRS, s->attrs, s->n_attrs);
                    r->dropped_attrs = s->dropped_attrs;
                    for (uint32_t e = 0; e < s->n_events && e < CAP_MAX_EVENTS; e++) {
                        snprintf(r->events[e], sizeof(r->events[e]), "%s", s->events[e].name.ptr);
                        r->event_times[e] = s->events[e].time_ns;
                        cap_copy_attrs(r->event_attrs[e], &r->n_event_attrs[e], 4,
                                       s->events[e].attrs, s->events[e].n_attrs);
                    }
                    r->n_events = s->n_events;
                    r->dropped_events = s->dropped_events;
                    r->n_links = s->n_links;
                    r->dropped_links = s->dropped_links;
                    for (uint32_t l = 0; l < s->n_links && l < 8; l++)
                        r->links[l] = s->links[l].ctx;
                } else {
                    const otelc_log_data_t *l = &b->logs[i];
                    snprintf(r->name, sizeof(r->name), "%s", l->body.ptr);
                    r->body_len = l->body.len;
                    snprintf(r->event, sizeof(r->event), "%s", l->event_name.ptr);
                    snprintf(r->scope, sizeof(r->scope), "%s", l->scope->name.ptr);
                    snprintf(r->correlation, sizeof(r->correlation), "%s", l->correlation_id.ptr);
                    r->ctx = l->ctx;
                    r->severity = l->severity;
                    r->start_ns = l->time_ns;
                    cap_copy_attrs(r->attrs, &r->n_attrs, CAP_MAX_ATTRS, l->attrs, l->n_attrs);
                    r->dropped_attrs = l->dropped_attrs;
                }
            }
        }
    }
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
    return st;
}

CAP_FN otelc_status_t cap_flush(otelc_exporter_t *self, uint32_t timeout_ms)
{
    cap_exporter_t *c = (cap_exporter_t *)self;
    (void)timeout_ms;
    pthread_mutex_lock(&c->mu);
    c->flushes++;
    pthread_mutex_unlock(&c->mu);
    return OTELC_OK;
}

CAP_FN void cap_shutdown(otelc_exporter_t *self, uint32_t timeout_ms)
{
    cap_exporter_t *c = (cap_exporter_t *)self;
    (void)timeout_ms;
    pthread_mutex_lock(&c->mu);
    c->shut_down = true;
    pthread_mutex_unlock(&c->mu);
}

/* The test owns the capture exporter's memory: destroy only marks it. */
CAP_FN void cap_destroy(otelc_exporter_t *self)
{
    cap_exporter_t *c = (cap_exporter_t *)self;
    pthread_mutex_lock(&c->mu);
    c->destroyed_flag = true;
    pthread_mutex_unlock(&c->mu);
}

static const otelc_exporter_ops_t cap_ops = {
    .version = OTELC_EXPORTER_INTERFACE_VERSION,
    .name = "capture",
    .signals = OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS,
    .export_batch = cap_export,
    .force_flush = cap_flush,
    .shutdown = cap_shutdown,
    .destroy = cap_destroy,
};

/* Initialises a capture exporter (static or heap storage owned by the test). */
CAP_FN void cap_init(cap_exporter_t *c, bool keep)
{
    memset(c, 0, sizeof(*c));
    c->base.ops = &cap_ops;
    c->keep = keep;
    c->fail = OTELC_OK;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cond, NULL);
}

CAP_FN void cap_free(cap_exporter_t *c)
{
    free(c->recs);
    c->recs = NULL;
    c->n = c->cap = 0;
}

/* Waits until `n` records of `signal` were exported, at most `ms`. */
CAP_FN bool cap_wait(cap_exporter_t *c, int signal, size_t n, unsigned ms)
{
    struct timespec ts;
    bool ok;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (c->counted[signal] < n)
        if (pthread_cond_timedwait(&c->cond, &c->mu, &ts) != 0)
            break;
    ok = c->counted[signal] >= n;
    pthread_mutex_unlock(&c->mu);
    return ok;
}

CAP_FN void cap_set_hang(cap_exporter_t *c, bool hang)
{
    pthread_mutex_lock(&c->mu);
    c->hang = hang;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->mu);
}

/* The first captured record of `signal` named `name`, or NULL. */
CAP_FN const cap_record_t *cap_find(const cap_exporter_t *c, int signal, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->recs[i].signal == signal && strcmp(c->recs[i].name, name) == 0)
            return &c->recs[i];
    return NULL;
}

/* The value of attribute `key` of a record, or NULL. */
CAP_FN const char *cap_attr(const cap_record_t *r, const char *key)
{
    for (unsigned i = 0; i < r->n_attrs; i++)
        if (strcmp(r->attrs[i].key, key) == 0)
            return r->attrs[i].value;
    return NULL;
}

/* Options for a test: capture exporter only, no named exporters, quick
 * batching. */
CAP_FN void cap_options(otelc_options_t *o, cap_exporter_t *c)
{
    static otelc_exporter_t *list[1];
    otelc_options_default(o);
    o->traces_exporter = "none";
    o->logs_exporter = "none";
    o->level = OTELC_SEV_TRACE;
    list[0] = &c->base;
    o->exporters = list;
    o->n_exporters = 1;
    o->spans_batch.schedule_delay_ms = 10;
    o->logs_batch.schedule_delay_ms = 10;
}

#endif /* OTELC_TEST_CAPTURE_EXPORTER_H */
