/*
 * encode.c: batches as OTLP v1 export requests (see encode.h).
 *
 * The whole request is written into one buffer stream of nanopb. A
 * submessage is its tag, one reserved byte for its length, then its
 * content; when the content is done its length goes into the reserved byte,
 * or, at 128 bytes and more, the content moves up by the bytes the length
 * needs beyond one. Small messages (attributes, values, events) never move;
 * a span moves once, by a byte or two, and the scope and resource levels
 * once per batch. A buffer too small for the batch makes the encoding stop,
 * grow the buffer and start again: after the first batches the buffer has
 * the size batches need and no batch allocates.
 */
#include "encode.h"

#include <pb_encode.h>
#include <stdlib.h>
#include <string.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "opentelemetry/proto/common/v1/common.pb.h"
#include "opentelemetry/proto/logs/v1/logs.pb.h"
#include "opentelemetry/proto/resource/v1/resource.pb.h"
#include "opentelemetry/proto/trace/v1/trace.pb.h"

/* Field numbers, shorter. */
#define F_COMMON(msg, f) opentelemetry_proto_common_v1_##msg##_##f##_tag
#define F_TRACE(msg, f) opentelemetry_proto_trace_v1_##msg##_##f##_tag
#define F_LOGS(msg, f) opentelemetry_proto_logs_v1_##msg##_##f##_tag

/* SpanFlags of trace.proto: the trace flags in the low byte, and whether the
 * parent was remote (bit 9) with bit 8 saying that bit 9 is known. */
#define SPAN_FLAGS_HAS_IS_REMOTE 0x100u
#define SPAN_FLAGS_IS_REMOTE 0x200u

/* ---- primitives ----------------------------------------------------------------- */

static bool put_varint(pb_ostream_t *s, uint32_t field, uint64_t v)
{
    return pb_encode_tag(s, PB_WT_VARINT, field) && pb_encode_varint(s, v);
}

/* A varint field left out when 0, as proto3 writes defaults. */
static bool put_varint_nz(pb_ostream_t *s, uint32_t field, uint64_t v)
{
    return v == 0 || put_varint(s, field, v);
}

static bool put_fixed64(pb_ostream_t *s, uint32_t field, uint64_t v)
{
    return pb_encode_tag(s, PB_WT_64BIT, field) && pb_encode_fixed64(s, &v);
}

static bool put_fixed32(pb_ostream_t *s, uint32_t field, uint32_t v)
{
    return pb_encode_tag(s, PB_WT_32BIT, field) && pb_encode_fixed32(s, &v);
}

static bool put_bytes(pb_ostream_t *s, uint32_t field, const void *p, size_t n)
{
    if (p == NULL || n == 0) {
        p = "";
        n = 0;
    }
    return pb_encode_tag(s, PB_WT_STRING, field) && pb_encode_string(s, p, n);
}

/* A string field left out when empty. */
static bool put_str(pb_ostream_t *s, uint32_t field, const otelc_str_t *str)
{
    return str->len == 0 || put_bytes(s, field, str->ptr, str->len);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != 0)
            return false;
    }
    return true;
}

/* Opens submessage `field`: its tag and a byte reserved for its length.
 * *mark is where its content starts. */
static bool sub_begin(pb_ostream_t *s, uint32_t field, size_t *mark)
{
    static const pb_byte_t zero = 0;

    if (!pb_encode_tag(s, PB_WT_STRING, field) || !pb_write(s, &zero, 1))
        return false;
    *mark = s->bytes_written;
    return true;
}

/* Closes the submessage opened at `mark`: writes its length, moving the
 * content up when the length needs more than the reserved byte. The stream
 * is a buffer stream, whose state is where the next byte goes. */
static bool sub_end(pb_ostream_t *s, size_t mark)
{
    size_t len = s->bytes_written - mark, k = 1;
    pb_byte_t *start = (pb_byte_t *)s->state - len;

    if (len < 0x80) {
        start[-1] = (pb_byte_t)len;
        return true;
    }
    for (size_t v = len >> 7; v != 0; v >>= 7)
        k++;
    if (s->max_size - s->bytes_written < k - 1) {
        s->bytes_written = s->max_size; /* full: the caller grows the buffer */
        return false;
    }
    memmove(start + k - 1, start, len);
    for (size_t i = 0, v = len; i < k; i++, v >>= 7)
        start[-1 + (ptrdiff_t)i] = (pb_byte_t)((v & 0x7fu) | (i + 1 < k ? 0x80u : 0u));
    s->state = (pb_byte_t *)s->state + (k - 1);
    s->bytes_written += k - 1;
    return true;
}

/* ---- values -------------------------------------------------------------------------- */

static size_t str_len(const char *s, size_t len)
{
    if (s == NULL)
        return 0;
    return len == OTELC_NUL_TERMINATED ? strlen(s) : len;
}

/* One AnyValue of a scalar type (string, bool, int, double, bytes). */
static bool put_scalar_value(pb_ostream_t *s, uint32_t field, int type, const void *v, size_t len)
{
    size_t mark;

    if (!sub_begin(s, field, &mark))
        return false;
    switch (type) {
    case OTELC_ATTR_STRING:
        if (!put_bytes(s, F_COMMON(AnyValue, string_value), v, len))
            return false;
        break;
    case OTELC_ATTR_BOOL:
        if (!put_varint(s, F_COMMON(AnyValue, bool_value), *(const bool *)v))
            return false;
        break;
    case OTELC_ATTR_INT:
        if (!put_varint(s, F_COMMON(AnyValue, int_value), (uint64_t) * (const int64_t *)v))
            return false;
        break;
    case OTELC_ATTR_DOUBLE: {
        uint64_t bits;

        memcpy(&bits, v, sizeof(bits));
        if (!put_fixed64(s, F_COMMON(AnyValue, double_value), bits))
            return false;
        break;
    }
    default: /* bytes */
        if (!put_bytes(s, F_COMMON(AnyValue, bytes_value), v, len))
            return false;
        break;
    }
    return sub_end(s, mark);
}

/* The AnyValue of attribute `a`, as field `field` of the message around. */
static bool put_attr_value(pb_ostream_t *s, uint32_t field, const otelc_attr_t *a)
{
    size_t mark, array;

    switch (a->type) {
    case OTELC_ATTR_STRING:
        return put_scalar_value(s, field, OTELC_ATTR_STRING, a->v.s, str_len(a->v.s, a->len));
    case OTELC_ATTR_BOOL:
        return put_scalar_value(s, field, OTELC_ATTR_BOOL, &a->v.b, 0);
    case OTELC_ATTR_INT:
        return put_scalar_value(s, field, OTELC_ATTR_INT, &a->v.i, 0);
    case OTELC_ATTR_DOUBLE:
        return put_scalar_value(s, field, OTELC_ATTR_DOUBLE, &a->v.d, 0);
    case OTELC_ATTR_BYTES:
        return put_scalar_value(s, field, OTELC_ATTR_BYTES, a->v.bytes,
                                a->v.bytes != NULL ? a->len : 0);
    default:
        break;
    }
    /* Arrays: AnyValue { array_value: ArrayValue { values: AnyValue... } }. */
    if (!sub_begin(s, field, &mark) || !sub_begin(s, F_COMMON(AnyValue, array_value), &array))
        return false;
    for (size_t i = 0; i < a->len; i++) {
        uint32_t values = F_COMMON(ArrayValue, values);
        bool ok;

        switch (a->type) {
        case OTELC_ATTR_STRING_ARRAY: {
            const char *v = a->v.sa != NULL && a->v.sa[i] != NULL ? a->v.sa[i] : "";

            ok = put_scalar_value(s, values, OTELC_ATTR_STRING, v, strlen(v));
            break;
        }
        case OTELC_ATTR_BOOL_ARRAY:
            ok = put_scalar_value(s, values, OTELC_ATTR_BOOL, &a->v.ba[i], 0);
            break;
        case OTELC_ATTR_INT_ARRAY:
            ok = put_scalar_value(s, values, OTELC_ATTR_INT, &a->v.ia[i], 0);
            break;
        case OTELC_ATTR_DOUBLE_ARRAY:
            ok = put_scalar_value(s, values, OTELC_ATTR_DOUBLE, &a->v.da[i], 0);
            break;
        default:
            ok = true; /* a type this version does not know: an empty array */
            i = a->len;
            break;
        }
        if (!ok)
            return false;
    }
    return sub_end(s, array) && sub_end(s, mark);
}

/* Repeated KeyValue `field`. */
static bool put_attrs(pb_ostream_t *s, uint32_t field, const otelc_attr_t *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const otelc_attr_t *a = &attrs[i];
        size_t mark, klen = a->key_len != 0 ? a->key_len : str_len(a->key, OTELC_NUL_TERMINATED);

        if (!sub_begin(s, field, &mark) ||
            !put_bytes(s, F_COMMON(KeyValue, key), a->key != NULL ? a->key : "", klen) ||
            !put_attr_value(s, F_COMMON(KeyValue, value), a) || !sub_end(s, mark))
            return false;
    }
    return true;
}

/* ---- resource and scope ---------------------------------------------------------- */

static bool put_resource(pb_ostream_t *s, uint32_t field, const otelc_resource_t *r)
{
    size_t mark;

    if (r == NULL)
        return true;
    return sub_begin(s, field, &mark) &&
           put_attrs(s, opentelemetry_proto_resource_v1_Resource_attributes_tag, r->attrs,
                     r->n_attrs) &&
           sub_end(s, mark);
}

static bool put_scope(pb_ostream_t *s, uint32_t field, const otelc_scope_info_t *scope)
{
    size_t mark;

    if (scope == NULL)
        return true;
    return sub_begin(s, field, &mark) &&
           put_str(s, F_COMMON(InstrumentationScope, name), &scope->name) &&
           put_str(s, F_COMMON(InstrumentationScope, version), &scope->version) && sub_end(s, mark);
}

static const otelc_scope_info_t *scope_of(const otelc_batch_t *b, size_t i)
{
    return b->signal == OTELC_SIGNAL_TRACES ? b->spans[i].scope : b->logs[i].scope;
}

static int str_cmp(const otelc_str_t *a, const otelc_str_t *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->ptr, b->ptr, n) : 0;

    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

static int scope_cmp(const otelc_scope_info_t *a, const otelc_scope_info_t *b)
{
    int c;

    if (a == b)
        return 0;
    if (a == NULL || b == NULL)
        return a == NULL ? -1 : 1;
    c = str_cmp(&a->name, &b->name);
    return c != 0 ? c : str_cmp(&a->version, &b->version);
}

/* Orders the records by scope, keeping their order within a scope: an
 * insertion of each record after the last one of its scope. Batches hold
 * a few scopes (tracers, loggers), so the runs are few and long. */
static void order_by_scope(const otelc_batch_t *b, size_t *order)
{
    size_t n = 0;

    for (size_t i = 0; i < b->n; i++) {
        const otelc_scope_info_t *sc = scope_of(b, i);
        size_t at = n;

        /* After the last record of the same scope, if there is one. */
        for (size_t j = n; j > 0; j--) {
            if (scope_cmp(scope_of(b, order[j - 1]), sc) == 0) {
                at = j;
                break;
            }
        }
        memmove(order + at + 1, order + at, (n - at) * sizeof(*order));
        order[at] = i;
        n++;
    }
}

/* ---- spans and logs -------------------------------------------------------------------- */

static bool put_span(pb_ostream_t *s, uint32_t field, const otelc_span_data_t *sp)
{
    uint32_t flags = sp->ctx.trace_flags | SPAN_FLAGS_HAS_IS_REMOTE |
                     (sp->parent_is_remote ? SPAN_FLAGS_IS_REMOTE : 0u);
    size_t mark;

    if (!sub_begin(s, field, &mark) ||
        !put_bytes(s, F_TRACE(Span, trace_id), sp->ctx.trace_id, OTELC_TRACE_ID_SIZE) ||
        !put_bytes(s, F_TRACE(Span, span_id), sp->ctx.span_id, OTELC_SPAN_ID_SIZE) ||
        !put_str(s, F_TRACE(Span, trace_state), &sp->trace_state))
        return false;
    if (!all_zero(sp->parent_span_id, OTELC_SPAN_ID_SIZE) &&
        !put_bytes(s, F_TRACE(Span, parent_span_id), sp->parent_span_id, OTELC_SPAN_ID_SIZE))
        return false;
    if (!put_str(s, F_TRACE(Span, name), &sp->name) ||
        !put_varint_nz(s, F_TRACE(Span, kind), (uint64_t)sp->kind) ||
        !put_fixed64(s, F_TRACE(Span, start_time_unix_nano), sp->start_ns) ||
        !put_fixed64(s, F_TRACE(Span, end_time_unix_nano), sp->end_ns) ||
        !put_attrs(s, F_TRACE(Span, attributes), sp->attrs, sp->n_attrs) ||
        !put_varint_nz(s, F_TRACE(Span, dropped_attributes_count), sp->dropped_attrs))
        return false;
    for (uint32_t i = 0; i < sp->n_events; i++) {
        const otelc_event_data_t *ev = &sp->events[i];
        size_t em;

        if (!sub_begin(s, F_TRACE(Span, events), &em) ||
            !put_fixed64(s, F_TRACE(Span_Event, time_unix_nano), ev->time_ns) ||
            !put_str(s, F_TRACE(Span_Event, name), &ev->name) ||
            !put_attrs(s, F_TRACE(Span_Event, attributes), ev->attrs, ev->n_attrs) ||
            !put_varint_nz(s, F_TRACE(Span_Event, dropped_attributes_count), ev->dropped_attrs) ||
            !sub_end(s, em))
            return false;
    }
    if (!put_varint_nz(s, F_TRACE(Span, dropped_events_count), sp->dropped_events))
        return false;
    for (uint32_t i = 0; i < sp->n_links; i++) {
        const otelc_link_data_t *l = &sp->links[i];
        uint32_t lflags = l->ctx.trace_flags | SPAN_FLAGS_HAS_IS_REMOTE |
                          (l->ctx.is_remote ? SPAN_FLAGS_IS_REMOTE : 0u);
        size_t lm;

        if (!sub_begin(s, F_TRACE(Span, links), &lm) ||
            !put_bytes(s, F_TRACE(Span_Link, trace_id), l->ctx.trace_id, OTELC_TRACE_ID_SIZE) ||
            !put_bytes(s, F_TRACE(Span_Link, span_id), l->ctx.span_id, OTELC_SPAN_ID_SIZE) ||
            !put_attrs(s, F_TRACE(Span_Link, attributes), l->attrs, l->n_attrs) ||
            !put_varint_nz(s, F_TRACE(Span_Link, dropped_attributes_count), l->dropped_attrs) ||
            !put_fixed32(s, F_TRACE(Span_Link, flags), lflags) || !sub_end(s, lm))
            return false;
    }
    if (!put_varint_nz(s, F_TRACE(Span, dropped_links_count), sp->dropped_links))
        return false;
    if (sp->status_code != OTELC_STATUS_UNSET || sp->status_message.len > 0) {
        size_t st;

        if (!sub_begin(s, F_TRACE(Span, status), &st) ||
            !put_str(s, F_TRACE(Status, message), &sp->status_message) ||
            !put_varint_nz(s, F_TRACE(Status, code), (uint64_t)sp->status_code) || !sub_end(s, st))
            return false;
    }
    return put_fixed32(s, F_TRACE(Span, flags), flags) && sub_end(s, mark);
}

static bool put_log(pb_ostream_t *s, uint32_t field, const otelc_log_data_t *lr)
{
    size_t mark;

    if (!sub_begin(s, field, &mark) ||
        !put_fixed64(s, F_LOGS(LogRecord, time_unix_nano), lr->time_ns) ||
        !put_varint_nz(s, F_LOGS(LogRecord, severity_number), (uint64_t)lr->severity) ||
        !put_str(s, F_LOGS(LogRecord, severity_text), &lr->severity_text))
        return false;
    if (lr->body.len > 0 && !put_scalar_value(s, F_LOGS(LogRecord, body), OTELC_ATTR_STRING,
                                              lr->body.ptr, lr->body.len))
        return false;
    if (!put_attrs(s, F_LOGS(LogRecord, attributes), lr->attrs, lr->n_attrs) ||
        !put_varint_nz(s, F_LOGS(LogRecord, dropped_attributes_count), lr->dropped_attrs))
        return false;
    if (!all_zero(lr->ctx.trace_id, OTELC_TRACE_ID_SIZE)) {
        if (!put_fixed32(s, F_LOGS(LogRecord, flags), lr->ctx.trace_flags) ||
            !put_bytes(s, F_LOGS(LogRecord, trace_id), lr->ctx.trace_id, OTELC_TRACE_ID_SIZE) ||
            !put_bytes(s, F_LOGS(LogRecord, span_id), lr->ctx.span_id, OTELC_SPAN_ID_SIZE))
            return false;
    }
    return put_fixed64(s, F_LOGS(LogRecord, observed_time_unix_nano), lr->observed_time_ns) &&
           put_str(s, F_LOGS(LogRecord, event_name), &lr->event_name) && sub_end(s, mark);
}

/* ---- the request ------------------------------------------------------------------------ */

static bool put_request(pb_ostream_t *s, const otelc_batch_t *b, const size_t *order)
{
    bool traces = b->signal == OTELC_SIGNAL_TRACES;
    uint32_t resource_field =
        traces ? opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest_resource_spans_tag
               : opentelemetry_proto_collector_logs_v1_ExportLogsServiceRequest_resource_logs_tag;
    size_t rmark, i = 0;

    if (!sub_begin(s, resource_field, &rmark) ||
        !put_resource(s, traces ? F_TRACE(ResourceSpans, resource) : F_LOGS(ResourceLogs, resource),
                      b->resource))
        return false;
    while (i < b->n) {
        const otelc_scope_info_t *sc = scope_of(b, order[i]);
        size_t smark;

        if (!sub_begin(
                s, traces ? F_TRACE(ResourceSpans, scope_spans) : F_LOGS(ResourceLogs, scope_logs),
                &smark) ||
            !put_scope(s, traces ? F_TRACE(ScopeSpans, scope) : F_LOGS(ScopeLogs, scope), sc))
            return false;
        for (; i < b->n && scope_cmp(scope_of(b, order[i]), sc) == 0; i++) {
            bool ok = traces ? put_span(s, F_TRACE(ScopeSpans, spans), &b->spans[order[i]])
                             : put_log(s, F_LOGS(ScopeLogs, log_records), &b->logs[order[i]]);

            if (!ok)
                return false;
        }
        if (!sub_end(s, smark))
            return false;
    }
    return sub_end(s, rmark);
}

bool otelc__otlp_encode(otelc__otlp_encoder_t *e, const otelc_batch_t *b)
{
    e->len = 0;
    if (b == NULL || b->n == 0)
        return true;
    if ((b->signal == OTELC_SIGNAL_TRACES && b->spans == NULL) ||
        (b->signal == OTELC_SIGNAL_LOGS && b->logs == NULL) ||
        (b->signal != OTELC_SIGNAL_TRACES && b->signal != OTELC_SIGNAL_LOGS))
        return false;
    if (e->order_cap < b->n) {
        size_t *order = realloc(e->order, b->n * sizeof(*order));

        if (order == NULL)
            return false;
        e->order = order;
        e->order_cap = b->n;
    }
    order_by_scope(b, e->order);
    if (e->cap == 0) {
        size_t cap = 4096 + b->n * 256;
        uint8_t *buf = malloc(cap);

        if (buf == NULL)
            return false;
        e->buf = buf;
        e->cap = cap;
    }
    for (;;) {
        pb_ostream_t s = pb_ostream_from_buffer(e->buf, e->cap);
        uint8_t *buf;

        if (put_request(&s, b, e->order)) {
            e->len = s.bytes_written;
            return true;
        }
        /* Out of room (the only way a buffer stream fails): twice the room,
         * and again from the start. */
        if (e->cap > SIZE_MAX / 2 || (buf = realloc(e->buf, e->cap * 2)) == NULL)
            return false;
        e->buf = buf;
        e->cap *= 2;
    }
}

void otelc__otlp_encoder_free(otelc__otlp_encoder_t *e)
{
    if (e == NULL)
        return;
    free(e->buf);
    free(e->order);
    memset(e, 0, sizeof(*e));
}
