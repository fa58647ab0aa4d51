/*
 * decode.c: OTLP export requests back into batches (decode.h).
 */
#include "decode.h"

#include "json_read.h"

#include <opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h>
#include <opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- memory -------------------------------------------------------------- */

struct replay_arena {
    struct replay_arena *next;
    size_t used, cap;
    void *unpacked; /* the protobuf-c message the strings point into */
    otelc_signal_t signal;
    json_arena_t json;
    bool has_json;
    char *text; /* the JSON text the strings point into */
    _Alignas(16) unsigned char data[];
};

typedef struct ctx {
    replay_arena_t *head; /* the first block owns the rest */
    replay_arena_t *cur;
    bool failed;
} ctx_t;

static void *take(ctx_t *c, size_t n)
{
    size_t need = (n + 15u) & ~(size_t)15u;

    if (n == 0)
        need = 16;
    if (c->cur == NULL || c->cur->cap - c->cur->used < need) {
        size_t cap = need > 65536 ? need : 65536;
        replay_arena_t *a = calloc(1, sizeof(*a) + cap);

        if (a == NULL) {
            c->failed = true;
            return NULL;
        }
        a->cap = cap;
        if (c->head == NULL)
            c->head = a;
        else
            c->cur->next = a;
        c->cur = a;
    }
    {
        void *p = c->cur->data + c->cur->used;

        c->cur->used += need;
        memset(p, 0, need);
        return p;
    }
}

void replay_batches_free(replay_batches_t *b)
{
    replay_arena_t *a = b->arena, *next;

    if (a != NULL) {
        if (a->unpacked != NULL) {
            if (a->signal == OTELC_SIGNAL_TRACES)
                opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(
                    a->unpacked, NULL);
            else
                opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(
                    a->unpacked, NULL);
        }
        if (a->has_json)
            json_arena_free(&a->json);
        free(a->text);
    }
    for (; a != NULL; a = next) {
        next = a->next;
        free(a);
    }
    memset(b, 0, sizeof(*b));
}

/* ---- protobuf ------------------------------------------------------------- */

typedef Opentelemetry__Proto__Common__V1__KeyValue pb_kv_t;
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_any_t;
#define PB_CASE(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

static otelc_str_t pstr(const char *s)
{
    return (otelc_str_t){ s != NULL ? s : "", s != NULL ? strlen(s) : 0 };
}

/* An array value as a typed array attribute; false when its elements are
 * not all of one primitive type. */
static bool pb_array(ctx_t *c, const Opentelemetry__Proto__Common__V1__ArrayValue *arr,
                     otelc_attr_t *a)
{
    size_t n = arr != NULL ? arr->n_values : 0;
    int kind = n > 0 ? (int)arr->values[0]->value_case : (int)PB_CASE(STRING_VALUE);

    for (size_t i = 0; i < n; i++)
        if ((int)arr->values[i]->value_case != kind)
            return false;
    a->len = n;
    switch (kind) {
    case PB_CASE(STRING_VALUE): {
        const char **v = take(c, (n + 1) * sizeof(*v));

        for (size_t i = 0; v != NULL && i < n; i++)
            v[i] = arr->values[i]->string_value;
        a->type = OTELC_ATTR_STRING_ARRAY;
        a->v.sa = v;
        return v != NULL;
    }
    case PB_CASE(BOOL_VALUE): {
        bool *v = take(c, (n + 1) * sizeof(*v));

        for (size_t i = 0; v != NULL && i < n; i++)
            v[i] = arr->values[i]->bool_value;
        a->type = OTELC_ATTR_BOOL_ARRAY;
        a->v.ba = v;
        return v != NULL;
    }
    case PB_CASE(INT_VALUE): {
        int64_t *v = take(c, (n + 1) * sizeof(*v));

        for (size_t i = 0; v != NULL && i < n; i++)
            v[i] = arr->values[i]->int_value;
        a->type = OTELC_ATTR_INT_ARRAY;
        a->v.ia = v;
        return v != NULL;
    }
    case PB_CASE(DOUBLE_VALUE): {
        double *v = take(c, (n + 1) * sizeof(*v));

        for (size_t i = 0; v != NULL && i < n; i++)
            v[i] = arr->values[i]->double_value;
        a->type = OTELC_ATTR_DOUBLE_ARRAY;
        a->v.da = v;
        return v != NULL;
    }
    default:
        return false;
    }
}

/* Attributes; what a batch cannot hold is added to *dropped. */
static const otelc_attr_t *pb_attrs(ctx_t *c, pb_kv_t **kv, size_t n, uint32_t *count,
                                    uint32_t *dropped)
{
    otelc_attr_t *out = take(c, (n + 1) * sizeof(*out));
    uint32_t k = 0;

    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        otelc_attr_t *a = &out[k];
        const pb_any_t *v = kv[i]->value;

        a->key = kv[i]->key;
        switch (v != NULL ? (int)v->value_case : 0) {
        case PB_CASE(STRING_VALUE):
            a->type = OTELC_ATTR_STRING;
            a->v.s = v->string_value;
            a->len = strlen(v->string_value);
            break;
        case PB_CASE(BOOL_VALUE):
            a->type = OTELC_ATTR_BOOL;
            a->v.b = v->bool_value;
            break;
        case PB_CASE(INT_VALUE):
            a->type = OTELC_ATTR_INT;
            a->v.i = v->int_value;
            break;
        case PB_CASE(DOUBLE_VALUE):
            a->type = OTELC_ATTR_DOUBLE;
            a->v.d = v->double_value;
            break;
        case PB_CASE(BYTES_VALUE):
            a->type = OTELC_ATTR_BYTES;
            a->v.bytes = v->bytes_value.data;
            a->len = v->bytes_value.len;
            break;
        case PB_CASE(ARRAY_VALUE):
            if (!pb_array(c, v->array_value, a)) {
                (*dropped)++;
                continue;
            }
            break;
        default:
            (*dropped)++;
            continue;
        }
        k++;
    }
    *count = k;
    return out;
}

static void pb_id(uint8_t *dst, size_t size, const ProtobufCBinaryData *b)
{
    if (b->len == size)
        memcpy(dst, b->data, size);
}

static const otelc_resource_t *pb_resource(ctx_t *c,
                                           const Opentelemetry__Proto__Resource__V1__Resource *r)
{
    otelc_resource_t *res = take(c, sizeof(*res));
    uint32_t n = 0, dropped = 0;

    if (res == NULL || r == NULL)
        return res;
    res->attrs = pb_attrs(c, r->attributes, r->n_attributes, &n, &dropped);
    res->n_attrs = n;
    return res;
}

static const otelc_scope_info_t *
pb_scope(ctx_t *c, const Opentelemetry__Proto__Common__V1__InstrumentationScope *s)
{
    otelc_scope_info_t *sc = take(c, sizeof(*sc));

    if (sc != NULL) {
        sc->name = pstr(s != NULL ? s->name : NULL);
        sc->version = pstr(s != NULL ? s->version : NULL);
    }
    return sc;
}

static void pb_span(ctx_t *c, const Opentelemetry__Proto__Trace__V1__Span *p,
                    const otelc_scope_info_t *scope, otelc_span_data_t *s)
{
    pb_id(s->ctx.trace_id, OTELC_TRACE_ID_SIZE, &p->trace_id);
    pb_id(s->ctx.span_id, OTELC_SPAN_ID_SIZE, &p->span_id);
    pb_id(s->parent_span_id, OTELC_SPAN_ID_SIZE, &p->parent_span_id);
    s->ctx.trace_flags = (uint8_t)(p->flags & 0xffu);
    s->parent_is_remote = (p->flags & 0x300u) == 0x300u;
    s->trace_state = pstr(p->trace_state);
    s->name = pstr(p->name);
    s->kind = (otelc_span_kind_t)p->kind;
    s->start_ns = p->start_time_unix_nano;
    s->end_ns = p->end_time_unix_nano;
    if (p->status != NULL) {
        s->status_code = (otelc_status_code_t)p->status->code;
        s->status_message = pstr(p->status->message);
    }
    s->scope = scope;
    s->dropped_attrs = p->dropped_attributes_count;
    s->attrs = pb_attrs(c, p->attributes, p->n_attributes, &s->n_attrs, &s->dropped_attrs);
    if (p->n_events > 0) {
        otelc_event_data_t *ev = take(c, p->n_events * sizeof(*ev));

        for (size_t i = 0; ev != NULL && i < p->n_events; i++) {
            ev[i].time_ns = p->events[i]->time_unix_nano;
            ev[i].name = pstr(p->events[i]->name);
            ev[i].dropped_attrs = p->events[i]->dropped_attributes_count;
            ev[i].attrs = pb_attrs(c, p->events[i]->attributes, p->events[i]->n_attributes,
                                   &ev[i].n_attrs, &ev[i].dropped_attrs);
        }
        s->events = ev;
        s->n_events = ev != NULL ? (uint32_t)p->n_events : 0;
    }
    s->dropped_events = p->dropped_events_count;
    if (p->n_links > 0) {
        otelc_link_data_t *ln = take(c, p->n_links * sizeof(*ln));

        for (size_t i = 0; ln != NULL && i < p->n_links; i++) {
            pb_id(ln[i].ctx.trace_id, OTELC_TRACE_ID_SIZE, &p->links[i]->trace_id);
            pb_id(ln[i].ctx.span_id, OTELC_SPAN_ID_SIZE, &p->links[i]->span_id);
            ln[i].ctx.trace_flags = (uint8_t)(p->links[i]->flags & 0xffu);
            ln[i].ctx.is_remote = (p->links[i]->flags & 0x300u) == 0x300u;
            ln[i].dropped_attrs = p->links[i]->dropped_attributes_count;
            ln[i].attrs = pb_attrs(c, p->links[i]->attributes, p->links[i]->n_attributes,
                                   &ln[i].n_attrs, &ln[i].dropped_attrs);
        }
        s->links = ln;
        s->n_links = ln != NULL ? (uint32_t)p->n_links : 0;
    }
    s->dropped_links = p->dropped_links_count;
}

static void pb_log(ctx_t *c, const Opentelemetry__Proto__Logs__V1__LogRecord *p,
                   const otelc_scope_info_t *scope, otelc_log_data_t *l)
{
    l->time_ns = p->time_unix_nano;
    l->observed_time_ns = p->observed_time_unix_nano;
    l->severity = (otelc_severity_t)p->severity_number;
    l->severity_text = pstr(p->severity_text);
    if (p->body != NULL && p->body->value_case == PB_CASE(STRING_VALUE))
        l->body = pstr(p->body->string_value);
    else
        l->body = pstr(NULL);
    l->event_name = pstr(p->event_name);
    l->scope = scope;
    pb_id(l->ctx.trace_id, OTELC_TRACE_ID_SIZE, &p->trace_id);
    pb_id(l->ctx.span_id, OTELC_SPAN_ID_SIZE, &p->span_id);
    l->ctx.trace_flags = (uint8_t)(p->flags & 0xffu);
    l->dropped_attrs = p->dropped_attributes_count;
    l->attrs = pb_attrs(c, p->attributes, p->n_attributes, &l->n_attrs, &l->dropped_attrs);
}

bool replay_decode_protobuf(otelc_signal_t signal, const uint8_t *p, size_t n,
                            replay_batches_t *out, char *why, size_t why_size)
{
    ctx_t c = { 0 };
    void *msg;

    memset(out, 0, sizeof(*out));
    if (signal == OTELC_SIGNAL_TRACES)
        msg = opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(
            NULL, n, p);
    else
        msg = opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(NULL,
                                                                                             n, p);
    if (msg == NULL) {
        snprintf(why, why_size, "not an OTLP protobuf export request");
        return false;
    }
    if (take(&c, 0) == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    c.head->unpacked = msg;
    c.head->signal = signal;
    out->arena = c.head;
    if (signal == OTELC_SIGNAL_TRACES) {
        Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest *r = msg;

        out->batch = take(&c, (r->n_resource_spans + 1) * sizeof(*out->batch));
        for (size_t i = 0; out->batch != NULL && i < r->n_resource_spans; i++) {
            const Opentelemetry__Proto__Trace__V1__ResourceSpans *rs = r->resource_spans[i];
            otelc_batch_t *b = &out->batch[out->n++];
            size_t total = 0, k = 0;
            otelc_span_data_t *spans;

            for (size_t j = 0; j < rs->n_scope_spans; j++)
                total += rs->scope_spans[j]->n_spans;
            spans = take(&c, (total + 1) * sizeof(*spans));
            if (spans == NULL)
                break;
            for (size_t j = 0; j < rs->n_scope_spans; j++) {
                const otelc_scope_info_t *sc = pb_scope(&c, rs->scope_spans[j]->scope);

                for (size_t m = 0; m < rs->scope_spans[j]->n_spans; m++)
                    pb_span(&c, rs->scope_spans[j]->spans[m], sc, &spans[k++]);
            }
            *b = (otelc_batch_t){ .signal = signal,
                                  .resource = pb_resource(&c, rs->resource),
                                  .spans = spans,
                                  .n = total };
            out->records += total;
        }
    } else {
        Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *r = msg;

        out->batch = take(&c, (r->n_resource_logs + 1) * sizeof(*out->batch));
        for (size_t i = 0; out->batch != NULL && i < r->n_resource_logs; i++) {
            const Opentelemetry__Proto__Logs__V1__ResourceLogs *rl = r->resource_logs[i];
            otelc_batch_t *b = &out->batch[out->n++];
            size_t total = 0, k = 0;
            otelc_log_data_t *logs;

            for (size_t j = 0; j < rl->n_scope_logs; j++)
                total += rl->scope_logs[j]->n_log_records;
            logs = take(&c, (total + 1) * sizeof(*logs));
            if (logs == NULL)
                break;
            for (size_t j = 0; j < rl->n_scope_logs; j++) {
                const otelc_scope_info_t *sc = pb_scope(&c, rl->scope_logs[j]->scope);

                for (size_t m = 0; m < rl->scope_logs[j]->n_log_records; m++)
                    pb_log(&c, rl->scope_logs[j]->log_records[m], sc, &logs[k++]);
            }
            *b = (otelc_batch_t){ .signal = signal,
                                  .resource = pb_resource(&c, rl->resource),
                                  .logs = logs,
                                  .n = total };
            out->records += total;
        }
    }
    if (c.failed) {
        replay_batches_free(out);
        snprintf(why, why_size, "out of memory");
        return false;
    }
    return true;
}

/* ---- OTLP/JSON ------------------------------------------------------------ */

/* A NUL-terminated copy of a JSON string's bytes (or "" for anything else). */
static const char *jcopy(ctx_t *c, const json_value_t *v, size_t *len)
{
    char *s;

    if (len != NULL)
        *len = 0;
    if (v == NULL || v->type != JSON_STRING)
        return "";
    s = take(c, v->len + 1);
    if (s == NULL)
        return "";
    memcpy(s, v->str, v->len);
    s[v->len] = '\0';
    if (len != NULL)
        *len = v->len;
    return s;
}

static otelc_str_t jstr(ctx_t *c, const json_value_t *v)
{
    otelc_str_t r;

    r.ptr = jcopy(c, v, &r.len);
    return r;
}

/* An int64/uint64 field: a string or a number. */
static uint64_t ju64(const json_value_t *v)
{
    uint64_t u = 0;
    json_value_t tmp;

    if (v == NULL)
        return 0;
    if (v->type == JSON_STRING) {
        tmp = *v;
        tmp.type = JSON_NUMBER;
        v = &tmp;
    }
    if (!json_to_u64(v, &u)) {
        int64_t i = 0;

        if (json_to_i64(v, &i))
            u = (uint64_t)i;
    }
    return u;
}

static int64_t ji64(const json_value_t *v)
{
    return (int64_t)ju64(v);
}

static double jdouble(const json_value_t *v)
{
    double d = 0;
    json_value_t tmp;

    if (v != NULL && v->type == JSON_STRING && v->len > 0 && v->str[0] != 'N' && v->str[0] != 'I' &&
        v->str[0] != '-') {
        tmp = *v;
        tmp.type = JSON_NUMBER;
        v = &tmp;
    }
    if (v != NULL)
        (void)json_to_double(v, &d);
    return d;
}

static int hexv(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* A hex id (OTLP/JSON writes ids in hex) into dst, when it has the size. */
static void jid(uint8_t *dst, size_t size, const json_value_t *v)
{
    if (v == NULL || v->type != JSON_STRING || v->len != 2 * size)
        return;
    for (size_t i = 0; i < size; i++) {
        int h = hexv(v->str[2 * i]), l = hexv(v->str[2 * i + 1]);

        if (h < 0 || l < 0) {
            memset(dst, 0, size);
            return;
        }
        dst[i] = (uint8_t)(h * 16 + l);
    }
}

static int b64v(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+' || ch == '-')
        return 62;
    if (ch == '/' || ch == '_')
        return 63;
    return -1;
}

static const uint8_t *jbase64(ctx_t *c, const json_value_t *v, size_t *len)
{
    uint8_t *out;
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    *len = 0;
    if (v == NULL || v->type != JSON_STRING)
        return NULL;
    out = take(c, v->len + 1);
    for (size_t i = 0; out != NULL && i < v->len; i++) {
        int d = b64v(v->str[i]);

        if (d < 0)
            continue; /* '=' padding */
        acc = acc << 6 | (uint32_t)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *len = n;
    return out;
}

static bool j_array(ctx_t *c, const json_value_t *values, otelc_attr_t *a)
{
    size_t n = values != NULL && values->type == JSON_ARRAY ? values->count : 0, i = 0;
    const char *kind = NULL; /* the member name of the first element (not NUL-terminated) */
    size_t kind_len = 0;

    for (const json_value_t *e = n > 0 ? values->first : NULL; e != NULL; e = e->next) {
        const json_value_t *m = e->type == JSON_OBJECT ? e->first : NULL;

        if (m == NULL || m->next != NULL)
            return false;
        if (kind == NULL) {
            kind = m->key;
            kind_len = m->key_len;
        } else if (m->key_len != kind_len || memcmp(m->key, kind, kind_len) != 0) {
            return false;
        }
    }
    a->len = n;
    if (kind == NULL || json_key_is(kind, kind_len, "stringValue")) {
        const char **v = take(c, (n + 1) * sizeof(*v));

        for (const json_value_t *e = n > 0 ? values->first : NULL; v != NULL && e != NULL;
             e = e->next)
            v[i++] = jcopy(c, e->first, NULL);
        a->type = OTELC_ATTR_STRING_ARRAY;
        a->v.sa = v;
        return v != NULL;
    }
    if (json_key_is(kind, kind_len, "boolValue")) {
        bool *v = take(c, (n + 1) * sizeof(*v));

        for (const json_value_t *e = values->first; v != NULL && e != NULL; e = e->next)
            v[i++] = e->first->type == JSON_TRUE;
        a->type = OTELC_ATTR_BOOL_ARRAY;
        a->v.ba = v;
        return v != NULL;
    }
    if (json_key_is(kind, kind_len, "intValue")) {
        int64_t *v = take(c, (n + 1) * sizeof(*v));

        for (const json_value_t *e = values->first; v != NULL && e != NULL; e = e->next)
            v[i++] = ji64(e->first);
        a->type = OTELC_ATTR_INT_ARRAY;
        a->v.ia = v;
        return v != NULL;
    }
    if (json_key_is(kind, kind_len, "doubleValue")) {
        double *v = take(c, (n + 1) * sizeof(*v));

        for (const json_value_t *e = values->first; v != NULL && e != NULL; e = e->next)
            v[i++] = jdouble(e->first);
        a->type = OTELC_ATTR_DOUBLE_ARRAY;
        a->v.da = v;
        return v != NULL;
    }
    return false;
}

static const otelc_attr_t *j_attrs(ctx_t *c, const json_value_t *list, uint32_t *count,
                                   uint32_t *dropped)
{
    size_t n = list != NULL && list->type == JSON_ARRAY ? list->count : 0;
    otelc_attr_t *out = take(c, (n + 1) * sizeof(*out));
    uint32_t k = 0;

    *count = 0;
    if (out == NULL)
        return NULL;
    for (const json_value_t *e = n > 0 ? list->first : NULL; e != NULL; e = e->next) {
        otelc_attr_t *a = &out[k];
        const json_value_t *v = json_get(e, "value"), *x;

        a->key = jcopy(c, json_get(e, "key"), NULL);
        if ((x = json_get(v, "stringValue")) != NULL) {
            a->type = OTELC_ATTR_STRING;
            a->v.s = jcopy(c, x, &a->len);
        } else if ((x = json_get(v, "boolValue")) != NULL) {
            a->type = OTELC_ATTR_BOOL;
            a->v.b = x->type == JSON_TRUE;
        } else if ((x = json_get(v, "intValue")) != NULL) {
            a->type = OTELC_ATTR_INT;
            a->v.i = ji64(x);
        } else if ((x = json_get(v, "doubleValue")) != NULL) {
            a->type = OTELC_ATTR_DOUBLE;
            a->v.d = jdouble(x);
        } else if ((x = json_get(v, "bytesValue")) != NULL) {
            a->type = OTELC_ATTR_BYTES;
            a->v.bytes = jbase64(c, x, &a->len);
        } else if ((x = json_get(v, "arrayValue")) == NULL ||
                   !j_array(c, json_get(x, "values"), a)) {
            (*dropped)++;
            continue;
        }
        k++;
    }
    *count = k;
    return out;
}

static const otelc_scope_info_t *j_scope(ctx_t *c, const json_value_t *s)
{
    otelc_scope_info_t *sc = take(c, sizeof(*sc));

    if (sc != NULL) {
        sc->name = jstr(c, json_get(s, "name"));
        sc->version = jstr(c, json_get(s, "version"));
    }
    return sc;
}

static void j_span(ctx_t *c, const json_value_t *p, const otelc_scope_info_t *scope,
                   otelc_span_data_t *s)
{
    const json_value_t *st = json_get(p, "status"), *list;
    uint32_t flags = (uint32_t)ju64(json_get(p, "flags"));
    int64_t kind = ji64(json_get(p, "kind"));

    jid(s->ctx.trace_id, OTELC_TRACE_ID_SIZE, json_get(p, "traceId"));
    jid(s->ctx.span_id, OTELC_SPAN_ID_SIZE, json_get(p, "spanId"));
    jid(s->parent_span_id, OTELC_SPAN_ID_SIZE, json_get(p, "parentSpanId"));
    s->ctx.trace_flags = (uint8_t)(flags & 0xffu);
    s->parent_is_remote = (flags & 0x300u) == 0x300u;
    s->trace_state = jstr(c, json_get(p, "traceState"));
    s->name = jstr(c, json_get(p, "name"));
    s->kind = (otelc_span_kind_t)kind;
    s->start_ns = ju64(json_get(p, "startTimeUnixNano"));
    s->end_ns = ju64(json_get(p, "endTimeUnixNano"));
    if (st != NULL) {
        s->status_code = (otelc_status_code_t)ji64(json_get(st, "code"));
        s->status_message = jstr(c, json_get(st, "message"));
    }
    s->scope = scope;
    s->dropped_attrs = (uint32_t)ju64(json_get(p, "droppedAttributesCount"));
    s->attrs = j_attrs(c, json_get(p, "attributes"), &s->n_attrs, &s->dropped_attrs);
    list = json_get(p, "events");
    if (list != NULL && list->type == JSON_ARRAY && list->count > 0) {
        otelc_event_data_t *ev = take(c, list->count * sizeof(*ev));
        uint32_t i = 0;

        for (const json_value_t *e = list->first; ev != NULL && e != NULL; e = e->next, i++) {
            ev[i].time_ns = ju64(json_get(e, "timeUnixNano"));
            ev[i].name = jstr(c, json_get(e, "name"));
            ev[i].dropped_attrs = (uint32_t)ju64(json_get(e, "droppedAttributesCount"));
            ev[i].attrs =
                j_attrs(c, json_get(e, "attributes"), &ev[i].n_attrs, &ev[i].dropped_attrs);
        }
        s->events = ev;
        s->n_events = ev != NULL ? i : 0;
    }
    s->dropped_events = (uint32_t)ju64(json_get(p, "droppedEventsCount"));
    list = json_get(p, "links");
    if (list != NULL && list->type == JSON_ARRAY && list->count > 0) {
        otelc_link_data_t *ln = take(c, list->count * sizeof(*ln));
        uint32_t i = 0;

        for (const json_value_t *e = list->first; ln != NULL && e != NULL; e = e->next, i++) {
            uint32_t lf = (uint32_t)ju64(json_get(e, "flags"));

            jid(ln[i].ctx.trace_id, OTELC_TRACE_ID_SIZE, json_get(e, "traceId"));
            jid(ln[i].ctx.span_id, OTELC_SPAN_ID_SIZE, json_get(e, "spanId"));
            ln[i].ctx.trace_flags = (uint8_t)(lf & 0xffu);
            ln[i].ctx.is_remote = (lf & 0x300u) == 0x300u;
            ln[i].dropped_attrs = (uint32_t)ju64(json_get(e, "droppedAttributesCount"));
            ln[i].attrs =
                j_attrs(c, json_get(e, "attributes"), &ln[i].n_attrs, &ln[i].dropped_attrs);
        }
        s->links = ln;
        s->n_links = ln != NULL ? i : 0;
    }
    s->dropped_links = (uint32_t)ju64(json_get(p, "droppedLinksCount"));
}

static void j_log(ctx_t *c, const json_value_t *p, const otelc_scope_info_t *scope,
                  otelc_log_data_t *l)
{
    l->time_ns = ju64(json_get(p, "timeUnixNano"));
    l->observed_time_ns = ju64(json_get(p, "observedTimeUnixNano"));
    l->severity = (otelc_severity_t)ji64(json_get(p, "severityNumber"));
    l->severity_text = jstr(c, json_get(p, "severityText"));
    l->body = jstr(c, json_get(json_get(p, "body"), "stringValue"));
    l->event_name = jstr(c, json_get(p, "eventName"));
    l->scope = scope;
    jid(l->ctx.trace_id, OTELC_TRACE_ID_SIZE, json_get(p, "traceId"));
    jid(l->ctx.span_id, OTELC_SPAN_ID_SIZE, json_get(p, "spanId"));
    l->ctx.trace_flags = (uint8_t)(ju64(json_get(p, "flags")) & 0xffu);
    l->dropped_attrs = (uint32_t)ju64(json_get(p, "droppedAttributesCount"));
    l->attrs = j_attrs(c, json_get(p, "attributes"), &l->n_attrs, &l->dropped_attrs);
}

bool replay_decode_json(const char *p, size_t n, otelc_signal_t *signal, replay_batches_t *out,
                        char *why, size_t why_size)
{
    ctx_t c = { 0 };
    json_value_t *root;
    json_error_t err;
    const json_value_t *list;
    bool traces;

    memset(out, 0, sizeof(*out));
    if (take(&c, 0) == NULL) {
        snprintf(why, why_size, "out of memory");
        return false;
    }
    out->arena = c.head;
    json_arena_init(&c.head->json);
    c.head->has_json = true;
    if (!json_parse(&c.head->json, p, n, &root, &err)) {
        snprintf(why, why_size, "not JSON: %s at byte %zu", err.msg, err.pos + 1);
        replay_batches_free(out);
        return false;
    }
    if ((list = json_get(root, "resourceSpans")) != NULL)
        traces = true;
    else if ((list = json_get(root, "resourceLogs")) != NULL)
        traces = false;
    else {
        snprintf(why, why_size, "neither resourceSpans nor resourceLogs: not an OTLP request");
        replay_batches_free(out);
        return false;
    }
    *signal = traces ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
    out->batch = take(&c, ((list->type == JSON_ARRAY ? list->count : 0) + 1) * sizeof(*out->batch));
    for (const json_value_t *r = list->type == JSON_ARRAY ? list->first : NULL;
         r != NULL && out->batch != NULL; r = r->next) {
        const json_value_t *scopes = json_get(r, traces ? "scopeSpans" : "scopeLogs");
        otelc_resource_t *res = take(&c, sizeof(*res));
        otelc_batch_t *b = &out->batch[out->n++];
        size_t total = 0, k = 0;
        void *recs;

        if (res != NULL) {
            uint32_t na = 0, dropped = 0;

            res->attrs =
                j_attrs(&c, json_get(json_get(r, "resource"), "attributes"), &na, &dropped);
            res->n_attrs = na;
        }
        for (const json_value_t *s = scopes != NULL && scopes->type == JSON_ARRAY ? scopes->first
                                                                                  : NULL;
             s != NULL; s = s->next) {
            const json_value_t *rl = json_get(s, traces ? "spans" : "logRecords");

            total += rl != NULL && rl->type == JSON_ARRAY ? rl->count : 0;
        }
        recs =
            take(&c, (total + 1) * (traces ? sizeof(otelc_span_data_t) : sizeof(otelc_log_data_t)));
        if (recs == NULL)
            break;
        for (const json_value_t *s = scopes != NULL && scopes->type == JSON_ARRAY ? scopes->first
                                                                                  : NULL;
             s != NULL; s = s->next) {
            const otelc_scope_info_t *sc = j_scope(&c, json_get(s, "scope"));
            const json_value_t *rl = json_get(s, traces ? "spans" : "logRecords");

            for (const json_value_t *e = rl != NULL && rl->type == JSON_ARRAY ? rl->first : NULL;
                 e != NULL; e = e->next) {
                if (traces)
                    j_span(&c, e, sc, &((otelc_span_data_t *)recs)[k++]);
                else
                    j_log(&c, e, sc, &((otelc_log_data_t *)recs)[k++]);
            }
        }
        *b = (otelc_batch_t){ .signal = *signal, .resource = res, .n = total };
        if (traces)
            b->spans = recs;
        else
            b->logs = recs;
        out->records += total;
    }
    if (c.failed) {
        replay_batches_free(out);
        snprintf(why, why_size, "out of memory");
        return false;
    }
    return true;
}
