/*
 * encode.c: batches as OTLP v1 export requests (see encode.h).
 *
 * The whole request is written into one buffer by the small writers below:
 * a tag, a varint, eight bytes, a string, each checked against the room
 * left and inlined where it is used. nanopb supplies the field numbers (the
 * <Message>_<field>_tag of the headers it generates from proto/); its
 * stream primitives are not used, because a call through pb_write() per
 * field was 70 % of the encoding's instructions (callgrind) and held the
 * encoder to a third of its goal.
 *
 * The leaves -- a KeyValue of a scalar, its AnyValue -- are sized before
 * they are written: their length is arithmetic on the key and value. The
 * messages that hold many fields (a span, an event, a link, the scope and
 * resource levels) are a tag, one byte reserved for the length, then the
 * content; at the end the length goes into the reserved byte or, at 128
 * bytes and more, the content moves up by the bytes the length needs
 * beyond one. A span moves at most once, by a byte or two, the scope and
 * resource levels once per batch.
 *
 * A buffer too small for the batch makes the writer stop (every later
 * write is skipped), the buffer grow and the encoding start again: after
 * the first batches the buffer has the size batches need and no batch
 * allocates.
 */
#include "encode.h"

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

/* Wire types of the protobuf encoding. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* The largest string or bytes field written: far above any attribute value
 * length limit, and small enough that sizes cannot overflow. */
#define MAX_FIELD ((size_t)1 << 30)

/* ---- the writer ------------------------------------------------------------------------ */

/* Where the next byte goes and where the buffer ends. `full`: a write did
 * not fit, and none is made after it (the caller grows the buffer and
 * starts again); `too_big`: a field no buffer should hold. */
typedef struct writer {
    uint8_t *p, *end;
    bool full, too_big;
} writer_t;

/* Whether n more bytes fit; when not, the writer stops. */
static inline bool room(writer_t *w, size_t n)
{
    if (OTELC_LIKELY((size_t)(w->end - w->p) >= n))
        return true;
    w->full = true;
    w->end = w->p;
    return false;
}

static inline size_t varint_size(uint64_t v)
{
    return (size_t)(63 - __builtin_clzll(v | 1)) / 7 + 1;
}

static inline uint8_t *raw_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* A tag: field numbers are constants at every call, so this folds to the
 * one or two bytes of the tag. */
static inline uint8_t *raw_tag(uint8_t *p, uint32_t field, unsigned wire_type)
{
    return raw_varint(p, (uint64_t)field << 3 | wire_type);
}

static inline uint8_t *raw_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return p + n;
}

/* Copies n bytes. Keys, names and most values are a few bytes long, where
 * a call of memcpy() costs more than the copy: up to 16 bytes are two
 * overlapping moves of a fixed size, which the compiler inlines. */
static inline void copy(uint8_t *p, const void *s, size_t n)
{
    const uint8_t *q = s;

    if (n >= 8 && n <= 16) {
        memcpy(p, q, 8);
        memcpy(p + n - 8, q + n - 8, 8);
    } else if (n >= 4 && n < 8) {
        memcpy(p, q, 4);
        memcpy(p + n - 4, q + n - 4, 4);
    } else if (n < 4) {
        for (size_t i = 0; i < n; i++)
            p[i] = q[i];
    } else {
        memcpy(p, q, n);
    }
}

static inline uint8_t *raw_bytes(uint8_t *p, uint32_t field, const void *s, size_t n)
{
    p = raw_varint(raw_tag(p, field, WT_LEN), n);
    copy(p, s, n);
    return p + n;
}

/* Room for a tag and a varint (2 + 10 bytes) is asked with every field. */
static inline void put_varint(writer_t *w, uint32_t field, uint64_t v)
{
    if (room(w, 12))
        w->p = raw_varint(raw_tag(w->p, field, WT_VARINT), v);
}

/* A varint field left out when 0, as proto3 writes defaults. */
static inline void put_varint_nz(writer_t *w, uint32_t field, uint64_t v)
{
    if (v != 0)
        put_varint(w, field, v);
}

static inline void put_fixed64(writer_t *w, uint32_t field, uint64_t v)
{
    if (room(w, 10))
        w->p = raw_le(raw_tag(w->p, field, WT_I64), v, 8);
}

static inline void put_fixed32(writer_t *w, uint32_t field, uint32_t v)
{
    if (room(w, 6))
        w->p = raw_le(raw_tag(w->p, field, WT_I32), v, 4);
}

/* A field of more than MAX_FIELD bytes: the writer stops for good. */
static void stop_too_big(writer_t *w)
{
    w->too_big = true;
    room(w, SIZE_MAX);
}

static inline void put_bytes(writer_t *w, uint32_t field, const void *s, size_t n)
{
    if (OTELC_UNLIKELY(n > MAX_FIELD)) {
        stop_too_big(w);
        return;
    }
    if (room(w, 12 + n))
        w->p = raw_bytes(w->p, field, s, n);
}

/* A string field left out when empty. */
static inline void put_str(writer_t *w, uint32_t field, const otelc_str_t *str)
{
    if (str->len != 0)
        put_bytes(w, field, str->ptr, str->len);
}

static inline bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t any = 0;

    for (size_t i = 0; i < n; i++)
        any |= p[i];
    return any == 0;
}

/* Opens submessage `field`: its tag and a byte reserved for its length.
 * Returns where its content starts (NULL once the writer has stopped). */
static inline uint8_t *sub_begin(writer_t *w, uint32_t field)
{
    if (!room(w, 3))
        return NULL;
    w->p = raw_tag(w->p, field, WT_LEN) + 1;
    return w->p;
}

/* Closes the submessage whose content starts at `mark`: its length into
 * the reserved byte, the content moved up when the length needs more. */
static inline void sub_end(writer_t *w, uint8_t *mark)
{
    size_t len, k;

    if (w->full)
        return;
    len = (size_t)(w->p - mark);
    if (OTELC_LIKELY(len < 0x80)) {
        mark[-1] = (uint8_t)len;
        return;
    }
    k = varint_size(len);
    if (!room(w, k - 1))
        return;
    memmove(mark + k - 1, mark, len);
    raw_varint(mark - 1, len);
    w->p += k - 1;
}

/* ---- values -------------------------------------------------------------------------- */

static inline size_t str_len(const char *s, size_t len)
{
    if (s == NULL)
        return 0;
    return len == OTELC_NUL_TERMINATED ? strlen(s) : len;
}

/* A scalar value: its type (string, bool, int, double, bytes), its bytes
 * or number. */
typedef struct scalar {
    int type;
    const void *ptr; /* string and bytes */
    size_t len;
    uint64_t bits; /* bool, int, the double's bits */
} scalar_t;

/* The length of the content of an AnyValue holding `v`. */
static inline size_t scalar_size(const scalar_t *v)
{
    switch (v->type) {
    case OTELC_ATTR_BOOL:
    case OTELC_ATTR_INT:
        return 1 + varint_size(v->bits);
    case OTELC_ATTR_DOUBLE:
        return 9;
    default: /* string, bytes */
        return 1 + varint_size(v->len) + v->len;
    }
}

/* The content of an AnyValue holding `v` (room for it already had). */
static inline uint8_t *raw_scalar(uint8_t *p, const scalar_t *v)
{
    switch (v->type) {
    case OTELC_ATTR_STRING:
        return raw_bytes(p, F_COMMON(AnyValue, string_value), v->ptr, v->len);
    case OTELC_ATTR_BOOL:
        return raw_varint(raw_tag(p, F_COMMON(AnyValue, bool_value), WT_VARINT), v->bits);
    case OTELC_ATTR_INT:
        return raw_varint(raw_tag(p, F_COMMON(AnyValue, int_value), WT_VARINT), v->bits);
    case OTELC_ATTR_DOUBLE:
        return raw_le(raw_tag(p, F_COMMON(AnyValue, double_value), WT_I64), v->bits, 8);
    default:
        return raw_bytes(p, F_COMMON(AnyValue, bytes_value), v->ptr, v->len);
    }
}

/* AnyValue `v` as field `field`, sized first and written in one go. */
static inline void put_scalar(writer_t *w, uint32_t field, const scalar_t *v)
{
    size_t n;

    if (OTELC_UNLIKELY(v->len > MAX_FIELD)) {
        stop_too_big(w);
        return;
    }
    n = scalar_size(v);
    if (room(w, 12 + n))
        w->p = raw_scalar(raw_varint(raw_tag(w->p, field, WT_LEN), n), v);
}

/* KeyValue { key, value: AnyValue `v` } as field `field`, sized first. */
static inline void put_key_scalar(writer_t *w, uint32_t field, const char *key, size_t klen,
                                  const scalar_t *v)
{
    size_t value, kv;

    if (OTELC_UNLIKELY(v->len > MAX_FIELD || klen > MAX_FIELD)) {
        stop_too_big(w);
        return;
    }
    value = scalar_size(v);
    kv = 1 + varint_size(klen) + klen + 1 + varint_size(value) + value;
    if (!room(w, 12 + kv))
        return;
    w->p = raw_varint(raw_tag(w->p, field, WT_LEN), kv);
    w->p = raw_bytes(w->p, F_COMMON(KeyValue, key), key, klen);
    w->p = raw_varint(raw_tag(w->p, F_COMMON(KeyValue, value), WT_LEN), value);
    w->p = raw_scalar(w->p, v);
}

/* The scalar of attribute `a`; false for arrays. */
static inline bool attr_scalar(const otelc_attr_t *a, scalar_t *v)
{
    v->type = a->type;
    v->ptr = NULL;
    v->len = 0;
    v->bits = 0;
    switch (a->type) {
    case OTELC_ATTR_STRING:
        v->ptr = a->v.s != NULL ? a->v.s : "";
        v->len = str_len(a->v.s, a->len);
        return true;
    case OTELC_ATTR_BOOL:
        v->bits = a->v.b ? 1u : 0u;
        return true;
    case OTELC_ATTR_INT:
        v->bits = (uint64_t)a->v.i;
        return true;
    case OTELC_ATTR_DOUBLE:
        memcpy(&v->bits, &a->v.d, sizeof(v->bits));
        return true;
    case OTELC_ATTR_BYTES:
        v->ptr = a->v.bytes;
        v->len = a->v.bytes != NULL ? a->len : 0;
        return true;
    default:
        return false;
    }
}

/* The scalar element i of array attribute `a`; false for a type this
 * version does not know (written as an empty array). */
static bool array_element(const otelc_attr_t *a, size_t i, scalar_t *v)
{
    v->ptr = NULL;
    v->len = 0;
    v->bits = 0;
    switch (a->type) {
    case OTELC_ATTR_STRING_ARRAY:
        v->type = OTELC_ATTR_STRING;
        v->ptr = a->v.sa != NULL && a->v.sa[i] != NULL ? a->v.sa[i] : "";
        v->len = strlen(v->ptr);
        return true;
    case OTELC_ATTR_BOOL_ARRAY:
        v->type = OTELC_ATTR_BOOL;
        v->bits = a->v.ba[i] ? 1u : 0u;
        return true;
    case OTELC_ATTR_INT_ARRAY:
        v->type = OTELC_ATTR_INT;
        v->bits = (uint64_t)a->v.ia[i];
        return true;
    case OTELC_ATTR_DOUBLE_ARRAY:
        v->type = OTELC_ATTR_DOUBLE;
        memcpy(&v->bits, &a->v.da[i], sizeof(v->bits));
        return true;
    default:
        return false;
    }
}

/* KeyValue { key, value: AnyValue { array_value: ArrayValue { values... } } }
 * as field `field`: its length is known only when written. */
static void put_key_array(writer_t *w, uint32_t field, const char *key, size_t klen,
                          const otelc_attr_t *a)
{
    uint8_t *kv, *value, *array;
    scalar_t v;

    kv = sub_begin(w, field);
    put_bytes(w, F_COMMON(KeyValue, key), key, klen);
    value = sub_begin(w, F_COMMON(KeyValue, value));
    array = sub_begin(w, F_COMMON(AnyValue, array_value));
    for (size_t i = 0; i < a->len && array_element(a, i, &v); i++)
        put_scalar(w, F_COMMON(ArrayValue, values), &v);
    sub_end(w, array);
    sub_end(w, value);
    sub_end(w, kv);
}

/* Repeated KeyValue `field`. */
static inline void put_attrs(writer_t *w, uint32_t field, const otelc_attr_t *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const otelc_attr_t *a = &attrs[i];
        const char *key = a->key != NULL ? a->key : "";
        size_t klen = a->key_len != 0 ? a->key_len : strlen(key);
        scalar_t v;

        if (OTELC_LIKELY(attr_scalar(a, &v)))
            put_key_scalar(w, field, key, klen, &v);
        else
            put_key_array(w, field, key, klen, a);
    }
}

/* ---- resource and scope ---------------------------------------------------------- */

static void put_resource(writer_t *w, uint32_t field, const otelc_resource_t *r)
{
    uint8_t *mark;

    if (r == NULL)
        return;
    mark = sub_begin(w, field);
    put_attrs(w, opentelemetry_proto_resource_v1_Resource_attributes_tag, r->attrs, r->n_attrs);
    sub_end(w, mark);
}

static void put_scope(writer_t *w, uint32_t field, const otelc_scope_info_t *scope)
{
    uint8_t *mark;

    if (scope == NULL)
        return;
    mark = sub_begin(w, field);
    put_str(w, F_COMMON(InstrumentationScope, name), &scope->name);
    put_str(w, F_COMMON(InstrumentationScope, version), &scope->version);
    sub_end(w, mark);
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

static void put_event(writer_t *w, const otelc_event_data_t *ev)
{
    uint8_t *mark = sub_begin(w, F_TRACE(Span, events));

    put_fixed64(w, F_TRACE(Span_Event, time_unix_nano), ev->time_ns);
    put_str(w, F_TRACE(Span_Event, name), &ev->name);
    put_attrs(w, F_TRACE(Span_Event, attributes), ev->attrs, ev->n_attrs);
    put_varint_nz(w, F_TRACE(Span_Event, dropped_attributes_count), ev->dropped_attrs);
    sub_end(w, mark);
}

static void put_link(writer_t *w, const otelc_link_data_t *l)
{
    uint32_t flags = l->ctx.trace_flags | SPAN_FLAGS_HAS_IS_REMOTE |
                     (l->ctx.is_remote ? SPAN_FLAGS_IS_REMOTE : 0u);
    uint8_t *mark = sub_begin(w, F_TRACE(Span, links));

    put_bytes(w, F_TRACE(Span_Link, trace_id), l->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    put_bytes(w, F_TRACE(Span_Link, span_id), l->ctx.span_id, OTELC_SPAN_ID_SIZE);
    put_attrs(w, F_TRACE(Span_Link, attributes), l->attrs, l->n_attrs);
    put_varint_nz(w, F_TRACE(Span_Link, dropped_attributes_count), l->dropped_attrs);
    put_fixed32(w, F_TRACE(Span_Link, flags), flags);
    sub_end(w, mark);
}

static void put_span(writer_t *w, uint32_t field, const otelc_span_data_t *sp)
{
    uint32_t flags = sp->ctx.trace_flags | SPAN_FLAGS_HAS_IS_REMOTE |
                     (sp->parent_is_remote ? SPAN_FLAGS_IS_REMOTE : 0u);
    uint8_t *mark = sub_begin(w, field);

    put_bytes(w, F_TRACE(Span, trace_id), sp->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    put_bytes(w, F_TRACE(Span, span_id), sp->ctx.span_id, OTELC_SPAN_ID_SIZE);
    put_str(w, F_TRACE(Span, trace_state), &sp->trace_state);
    if (!all_zero(sp->parent_span_id, OTELC_SPAN_ID_SIZE))
        put_bytes(w, F_TRACE(Span, parent_span_id), sp->parent_span_id, OTELC_SPAN_ID_SIZE);
    put_str(w, F_TRACE(Span, name), &sp->name);
    put_varint_nz(w, F_TRACE(Span, kind), (uint64_t)sp->kind);
    put_fixed64(w, F_TRACE(Span, start_time_unix_nano), sp->start_ns);
    put_fixed64(w, F_TRACE(Span, end_time_unix_nano), sp->end_ns);
    put_attrs(w, F_TRACE(Span, attributes), sp->attrs, sp->n_attrs);
    put_varint_nz(w, F_TRACE(Span, dropped_attributes_count), sp->dropped_attrs);
    for (uint32_t i = 0; i < sp->n_events; i++)
        put_event(w, &sp->events[i]);
    put_varint_nz(w, F_TRACE(Span, dropped_events_count), sp->dropped_events);
    for (uint32_t i = 0; i < sp->n_links; i++)
        put_link(w, &sp->links[i]);
    put_varint_nz(w, F_TRACE(Span, dropped_links_count), sp->dropped_links);
    if (sp->status_code != OTELC_STATUS_UNSET || sp->status_message.len > 0) {
        uint8_t *st = sub_begin(w, F_TRACE(Span, status));

        put_str(w, F_TRACE(Status, message), &sp->status_message);
        put_varint_nz(w, F_TRACE(Status, code), (uint64_t)sp->status_code);
        sub_end(w, st);
    }
    put_fixed32(w, F_TRACE(Span, flags), flags);
    sub_end(w, mark);
}

static void put_log(writer_t *w, uint32_t field, const otelc_log_data_t *lr)
{
    uint8_t *mark = sub_begin(w, field);

    put_fixed64(w, F_LOGS(LogRecord, time_unix_nano), lr->time_ns);
    put_varint_nz(w, F_LOGS(LogRecord, severity_number), (uint64_t)lr->severity);
    put_str(w, F_LOGS(LogRecord, severity_text), &lr->severity_text);
    if (lr->body.len > 0) {
        scalar_t body = { OTELC_ATTR_STRING, lr->body.ptr, lr->body.len, 0 };

        put_scalar(w, F_LOGS(LogRecord, body), &body);
    }
    put_attrs(w, F_LOGS(LogRecord, attributes), lr->attrs, lr->n_attrs);
    put_varint_nz(w, F_LOGS(LogRecord, dropped_attributes_count), lr->dropped_attrs);
    if (!all_zero(lr->ctx.trace_id, OTELC_TRACE_ID_SIZE)) {
        put_fixed32(w, F_LOGS(LogRecord, flags), lr->ctx.trace_flags);
        put_bytes(w, F_LOGS(LogRecord, trace_id), lr->ctx.trace_id, OTELC_TRACE_ID_SIZE);
        put_bytes(w, F_LOGS(LogRecord, span_id), lr->ctx.span_id, OTELC_SPAN_ID_SIZE);
    }
    put_fixed64(w, F_LOGS(LogRecord, observed_time_unix_nano), lr->observed_time_ns);
    put_str(w, F_LOGS(LogRecord, event_name), &lr->event_name);
    sub_end(w, mark);
}

/* ---- the request ------------------------------------------------------------------------ */

static void put_request(writer_t *w, const otelc_batch_t *b, const size_t *order)
{
    bool traces = b->signal == OTELC_SIGNAL_TRACES;
    uint32_t resource_field =
        traces ? opentelemetry_proto_collector_trace_v1_ExportTraceServiceRequest_resource_spans_tag
               : opentelemetry_proto_collector_logs_v1_ExportLogsServiceRequest_resource_logs_tag;
    uint8_t *rmark = sub_begin(w, resource_field);
    size_t i = 0;

    put_resource(w, traces ? F_TRACE(ResourceSpans, resource) : F_LOGS(ResourceLogs, resource),
                 b->resource);
    while (i < b->n && !w->full) {
        const otelc_scope_info_t *sc = scope_of(b, order[i]);
        uint8_t *smark = sub_begin(w, traces ? F_TRACE(ResourceSpans, scope_spans)
                                             : F_LOGS(ResourceLogs, scope_logs));

        put_scope(w, traces ? F_TRACE(ScopeSpans, scope) : F_LOGS(ScopeLogs, scope), sc);
        if (traces) {
            for (; i < b->n && scope_cmp(b->spans[order[i]].scope, sc) == 0; i++)
                put_span(w, F_TRACE(ScopeSpans, spans), &b->spans[order[i]]);
        } else {
            for (; i < b->n && scope_cmp(b->logs[order[i]].scope, sc) == 0; i++)
                put_log(w, F_LOGS(ScopeLogs, log_records), &b->logs[order[i]]);
        }
        sub_end(w, smark);
    }
    sub_end(w, rmark);
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
        writer_t w = { e->buf, e->buf + e->cap, false, false };
        uint8_t *buf;

        put_request(&w, b, e->order);
        if (!w.full) {
            e->len = (size_t)(w.p - e->buf);
            return true;
        }
        /* Out of room: twice the room, and again from the start. A field
         * of more than MAX_FIELD bytes is no record's: the batch fails. */
        if (w.too_big || e->cap > SIZE_MAX / 2 || (buf = realloc(e->buf, e->cap * 2)) == NULL)
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
