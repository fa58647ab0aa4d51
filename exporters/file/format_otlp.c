/*
 * format_otlp.c: the `otlp` line format (FORMAT.md): one OTLP/JSON export
 * request per line, as the Collector's file exporter writes them and its
 * otlpjsonfile receiver reads them.
 *
 * OTLP/JSON is the proto3 JSON mapping of the OTLP messages with three rules
 * of its own: trace and span ids are hex strings, enums are numbers, and the
 * keys are lowerCamelCase. From the mapping: 64-bit integers (int64,
 * fixed64) are decimal strings, 32-bit ones numbers, bytes base64, doubles
 * numbers or "NaN"/"Infinity"/"-Infinity", and fields at their default
 * value are left out (but a oneof member is always written: an AnyValue of
 * 0 is {"intValue":"0"}).
 */
#include "format.h"

/* Span.flags (trace.proto, SpanFlags): the W3C trace flags in bits 0-7;
 * bit 8 says that bit 9 is known, bit 9 that the parent (for a span) or the
 * linked span (for a link) is remote. */
#define SPAN_FLAGS_TRACE_FLAGS_MASK 0xffu
#define SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK 0x100u
#define SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK 0x200u

/* Writes `"name":` after a comma unless it is the first member of its
 * object; `*more` tracks that. `lit` is a string literal. */
#define KEY(b, more, lit)                                                                          \
    do {                                                                                           \
        if (*(more))                                                                               \
            OTELC__FBUF_LITERAL((b), ",\"" lit "\":");                                             \
        else                                                                                       \
            OTELC__FBUF_LITERAL((b), "\"" lit "\":");                                              \
        *(more) = true;                                                                            \
    } while (0)

static const otelc_str_t empty_str = { "", 0 };

static void str_value(otelc__fbuf_t *b, const otelc_str_t *s)
{
    otelc__json_string(b, s->ptr, s->ptr != NULL ? s->len : 0);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* ---- attributes ------------------------------------------------------------ */

static void bool_literal(otelc__fbuf_t *b, bool v)
{
    if (v)
        OTELC__FBUF_LITERAL(b, "true");
    else
        OTELC__FBUF_LITERAL(b, "false");
}

/* One element of an array attribute as an AnyValue. */
static void array_element(otelc__fbuf_t *b, const otelc_attr_t *a, size_t i)
{
    switch (a->type) {
    case OTELC_ATTR_STRING_ARRAY:
        OTELC__FBUF_LITERAL(b, "{\"stringValue\":");
        otelc__json_cstring(b, a->v.sa[i]);
        break;
    case OTELC_ATTR_BOOL_ARRAY:
        OTELC__FBUF_LITERAL(b, "{\"boolValue\":");
        bool_literal(b, a->v.ba[i]);
        break;
    case OTELC_ATTR_INT_ARRAY:
        OTELC__FBUF_LITERAL(b, "{\"intValue\":");
        otelc__json_i64_string(b, a->v.ia[i]);
        break;
    default: /* OTELC_ATTR_DOUBLE_ARRAY */
        OTELC__FBUF_LITERAL(b, "{\"doubleValue\":");
        otelc__json_double(b, a->v.da[i]);
        break;
    }
    otelc__fbuf_putc(b, '}');
}

/* The value of an attribute as an AnyValue; an unknown type as an empty
 * AnyValue (no value set). */
static void any_value(otelc__fbuf_t *b, const otelc_attr_t *a)
{
    size_t n = a->len;

    switch (a->type) {
    case OTELC_ATTR_STRING:
        OTELC__FBUF_LITERAL(b, "{\"stringValue\":");
        otelc__json_string(b, a->v.s, otelc__attr_string_len(a));
        break;
    case OTELC_ATTR_BOOL:
        OTELC__FBUF_LITERAL(b, "{\"boolValue\":");
        bool_literal(b, a->v.b);
        break;
    case OTELC_ATTR_INT:
        OTELC__FBUF_LITERAL(b, "{\"intValue\":");
        otelc__json_i64_string(b, a->v.i);
        break;
    case OTELC_ATTR_DOUBLE:
        OTELC__FBUF_LITERAL(b, "{\"doubleValue\":");
        otelc__json_double(b, a->v.d);
        break;
    case OTELC_ATTR_BYTES:
        OTELC__FBUF_LITERAL(b, "{\"bytesValue\":");
        otelc__json_base64(b, a->v.bytes, a->v.bytes != NULL ? n : 0);
        break;
    case OTELC_ATTR_STRING_ARRAY:
    case OTELC_ATTR_BOOL_ARRAY:
    case OTELC_ATTR_INT_ARRAY:
    case OTELC_ATTR_DOUBLE_ARRAY:
        /* ArrayValue.values is repeated: left out when empty. */
        if (a->v.bytes == NULL || n == 0) {
            OTELC__FBUF_LITERAL(b, "{\"arrayValue\":{}");
            break;
        }
        OTELC__FBUF_LITERAL(b, "{\"arrayValue\":{\"values\":[");
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                otelc__fbuf_putc(b, ',');
            array_element(b, a, i);
        }
        OTELC__FBUF_LITERAL(b, "]}");
        break;
    default:
        otelc__fbuf_putc(b, '{');
        break;
    }
    otelc__fbuf_putc(b, '}');
}

/*
 * "attributes":[KeyValue...] (after a comma when *more), duplicates left
 * out. `corr`, when not empty and not already an attribute, is added as
 * "correlation.id". Nothing is written when the list would be empty.
 */
static void key_values(otelc__fbuf_t *b, bool *more, const otelc_attr_t *attrs, size_t n,
                       const otelc_str_t *corr)
{
    size_t written = 0;
    bool add_corr = corr->len > 0;

    if (attrs == NULL)
        n = 0;
    for (size_t i = 0; i < n; i++) {
        if (otelc__attr_skip(attrs, i))
            continue;
        if (add_corr && strcmp(attrs[i].key, "correlation.id") == 0)
            add_corr = false;
        if (written++ == 0)
            KEY(b, more, "attributes");
        otelc__fbuf_putc(b, written > 1 ? ',' : '[');
        OTELC__FBUF_LITERAL(b, "{\"key\":");
        otelc__json_cstring(b, attrs[i].key);
        OTELC__FBUF_LITERAL(b, ",\"value\":");
        any_value(b, &attrs[i]);
        otelc__fbuf_putc(b, '}');
    }
    if (add_corr) {
        if (written++ == 0)
            KEY(b, more, "attributes");
        otelc__fbuf_putc(b, written > 1 ? ',' : '[');
        OTELC__FBUF_LITERAL(b, "{\"key\":\"correlation.id\",\"value\":{\"stringValue\":");
        str_value(b, corr);
        OTELC__FBUF_LITERAL(b, "}}");
    }
    if (written > 0)
        otelc__fbuf_putc(b, ']');
}

/* A uint32 field, left out when 0. */
static void count_field(otelc__fbuf_t *b, bool *more, const char *key_lit, size_t key_len,
                        uint32_t v)
{
    if (v == 0)
        return;
    if (*more)
        otelc__fbuf_putc(b, ',');
    *more = true;
    otelc__fbuf_append(b, key_lit, key_len);
    otelc__json_u64(b, v);
}

#define COUNT(b, more, lit, v) count_field((b), (more), "\"" lit "\":", sizeof(lit) + 2u, (v))

/* ---- the envelope ---------------------------------------------------------- */

/* "resource":{"attributes":[...]}, after which the caller writes a comma.
 * Returns false (and writes nothing) for a resource without attributes. */
static bool resource(otelc__fbuf_t *b, const otelc_resource_t *res)
{
    bool more = false;

    if (res == NULL || res->attrs == NULL || res->n_attrs == 0)
        return false;
    OTELC__FBUF_LITERAL(b, "\"resource\":{");
    key_values(b, &more, res->attrs, res->n_attrs, &empty_str);
    otelc__fbuf_putc(b, '}');
    return true;
}

static const otelc_str_t *scope_name(const otelc_scope_info_t *s)
{
    return s != NULL && s->name.ptr != NULL ? &s->name : &empty_str;
}

static const otelc_str_t *scope_version(const otelc_scope_info_t *s)
{
    return s != NULL && s->version.ptr != NULL ? &s->version : &empty_str;
}

static bool same_str(const otelc_str_t *x, const otelc_str_t *y)
{
    return x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
}

static bool same_scope(const otelc_scope_info_t *x, const otelc_scope_info_t *y)
{
    return x == y ||
           (same_str(scope_name(x), scope_name(y)) && same_str(scope_version(x), scope_version(y)));
}

/* "scope":{"name":...,"version":...}, after which the caller writes a comma.
 * Returns false (and writes nothing) for a scope without name and version. */
static bool scope(otelc__fbuf_t *b, const otelc_scope_info_t *s)
{
    const otelc_str_t *name = scope_name(s), *version = scope_version(s);
    bool more = false;

    if (name->len == 0 && version->len == 0)
        return false;
    OTELC__FBUF_LITERAL(b, "\"scope\":{");
    if (name->len > 0) {
        KEY(b, &more, "name");
        str_value(b, name);
    }
    if (version->len > 0) {
        KEY(b, &more, "version");
        str_value(b, version);
    }
    otelc__fbuf_putc(b, '}');
    return true;
}

/*
 * Groups of records by scope, in the order of first appearance. The first
 * record of each of the first GROUPS_KEPT groups is remembered, so that
 * telling whether a record starts a new group costs a comparison per group;
 * past that (a batch from many loggers) earlier records are searched.
 */
#define GROUPS_KEPT 16

typedef struct groups {
    size_t first[GROUPS_KEPT];
    size_t n;
} groups_t;

/* The scope of record j of a list of log records or of spans. */
typedef const otelc_scope_info_t *(*scope_of_fn)(const void *const *recs, size_t j);

/* True when record `i` is the first of its scope (and then remembered). */
static bool starts_group(groups_t *g, const void *const *recs, size_t i, scope_of_fn scope_of)
{
    const otelc_scope_info_t *s = scope_of(recs, i);
    size_t kept = g->n < GROUPS_KEPT ? g->n : GROUPS_KEPT;

    for (size_t k = 0; k < kept; k++) {
        if (same_scope(scope_of(recs, g->first[k]), s))
            return false;
    }
    if (g->n >= GROUPS_KEPT) {
        for (size_t j = 0; j < i; j++) {
            if (same_scope(scope_of(recs, j), s))
                return false;
        }
    }
    if (g->n < GROUPS_KEPT)
        g->first[g->n] = i;
    g->n++;
    return true;
}

/* ---- logs ------------------------------------------------------------------ */

static const otelc_scope_info_t *log_scope(const void *const *recs, size_t j)
{
    return ((const otelc_log_data_t *const *)recs)[j]->scope;
}

static void log_record(otelc__fbuf_t *b, const otelc_log_data_t *r)
{
    bool more = false;

    otelc__fbuf_putc(b, '{');
    if (r->time_ns != 0) {
        KEY(b, &more, "timeUnixNano");
        otelc__json_u64_string(b, r->time_ns);
    }
    if (r->observed_time_ns != 0) {
        KEY(b, &more, "observedTimeUnixNano");
        otelc__json_u64_string(b, r->observed_time_ns);
    }
    if (r->severity != 0) {
        KEY(b, &more, "severityNumber");
        otelc__json_i64(b, r->severity);
    }
    if (r->severity_text.len > 0) {
        KEY(b, &more, "severityText");
        str_value(b, &r->severity_text);
    }
    if (r->body.len > 0) {
        KEY(b, &more, "body");
        OTELC__FBUF_LITERAL(b, "{\"stringValue\":");
        str_value(b, &r->body);
        otelc__fbuf_putc(b, '}');
    }
    key_values(b, &more, r->attrs, r->n_attrs, &r->correlation_id);
    COUNT(b, &more, "droppedAttributesCount", r->dropped_attrs);
    COUNT(b, &more, "flags", r->ctx.trace_flags);
    if (!all_zero(r->ctx.trace_id, OTELC_TRACE_ID_SIZE)) {
        KEY(b, &more, "traceId");
        otelc__json_hex(b, r->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    }
    if (!all_zero(r->ctx.span_id, OTELC_SPAN_ID_SIZE)) {
        KEY(b, &more, "spanId");
        otelc__json_hex(b, r->ctx.span_id, OTELC_SPAN_ID_SIZE);
    }
    if (r->event_name.len > 0) {
        KEY(b, &more, "eventName");
        str_value(b, &r->event_name);
    }
    otelc__fbuf_putc(b, '}');
}

void otelc__otlp_logs(otelc__fbuf_t *b, const otelc_resource_t *res,
                      const otelc_log_data_t *const *recs, size_t n)
{
    const void *const *any = (const void *const *)recs;
    groups_t groups = { .n = 0 };
    bool first_group = true;

    OTELC__FBUF_LITERAL(b, "{\"resourceLogs\":[{");
    if (resource(b, res))
        otelc__fbuf_putc(b, ',');
    OTELC__FBUF_LITERAL(b, "\"scopeLogs\":[");
    for (size_t i = 0; i < n; i++) {
        const otelc_scope_info_t *s = recs[i]->scope;
        bool first_record = true;

        if (!starts_group(&groups, any, i, log_scope))
            continue;
        OTELC__FBUF_LITERAL_AFTER(b, !first_group, "{");
        first_group = false;
        if (scope(b, s))
            otelc__fbuf_putc(b, ',');
        OTELC__FBUF_LITERAL(b, "\"logRecords\":[");
        for (size_t j = i; j < n; j++) {
            if (!same_scope(recs[j]->scope, s))
                continue;
            if (!first_record)
                otelc__fbuf_putc(b, ',');
            first_record = false;
            log_record(b, recs[j]);
        }
        OTELC__FBUF_LITERAL(b, "]}");
    }
    OTELC__FBUF_LITERAL(b, "]}]}\n");
}

/* ---- spans ----------------------------------------------------------------- */

static const otelc_scope_info_t *span_scope(const void *const *recs, size_t j)
{
    return ((const otelc_span_data_t *const *)recs)[j]->scope;
}

static uint32_t span_flags(uint8_t trace_flags, bool remote)
{
    return (trace_flags & SPAN_FLAGS_TRACE_FLAGS_MASK) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK |
           (remote ? SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK : 0u);
}

static void span_events(otelc__fbuf_t *b, bool *more, const otelc_span_data_t *s)
{
    if (s->events == NULL || s->n_events == 0)
        return;
    KEY(b, more, "events");
    otelc__fbuf_putc(b, '[');
    for (uint32_t i = 0; i < s->n_events; i++) {
        const otelc_event_data_t *e = &s->events[i];
        bool in = false;

        OTELC__FBUF_LITERAL_AFTER(b, i > 0, "{");
        if (e->time_ns != 0) {
            KEY(b, &in, "timeUnixNano");
            otelc__json_u64_string(b, e->time_ns);
        }
        if (e->name.len > 0) {
            KEY(b, &in, "name");
            str_value(b, &e->name);
        }
        key_values(b, &in, e->attrs, e->n_attrs, &empty_str);
        COUNT(b, &in, "droppedAttributesCount", e->dropped_attrs);
        otelc__fbuf_putc(b, '}');
    }
    otelc__fbuf_putc(b, ']');
}

static void span_links(otelc__fbuf_t *b, bool *more, const otelc_span_data_t *s)
{
    if (s->links == NULL || s->n_links == 0)
        return;
    KEY(b, more, "links");
    otelc__fbuf_putc(b, '[');
    for (uint32_t i = 0; i < s->n_links; i++) {
        const otelc_link_data_t *l = &s->links[i];
        bool in = true;

        OTELC__FBUF_LITERAL_AFTER(b, i > 0, "{\"traceId\":");
        otelc__json_hex(b, l->ctx.trace_id, OTELC_TRACE_ID_SIZE);
        KEY(b, &in, "spanId");
        otelc__json_hex(b, l->ctx.span_id, OTELC_SPAN_ID_SIZE);
        key_values(b, &in, l->attrs, l->n_attrs, &empty_str);
        COUNT(b, &in, "droppedAttributesCount", l->dropped_attrs);
        COUNT(b, &in, "flags", span_flags(l->ctx.trace_flags, l->ctx.is_remote));
        otelc__fbuf_putc(b, '}');
    }
    otelc__fbuf_putc(b, ']');
}

static void span_record(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    bool more = true;

    OTELC__FBUF_LITERAL(b, "{\"traceId\":");
    otelc__json_hex(b, s->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    KEY(b, &more, "spanId");
    otelc__json_hex(b, s->ctx.span_id, OTELC_SPAN_ID_SIZE);
    if (s->trace_state.len > 0) {
        KEY(b, &more, "traceState");
        str_value(b, &s->trace_state);
    }
    if (!all_zero(s->parent_span_id, OTELC_SPAN_ID_SIZE)) {
        KEY(b, &more, "parentSpanId");
        otelc__json_hex(b, s->parent_span_id, OTELC_SPAN_ID_SIZE);
    }
    COUNT(b, &more, "flags", span_flags(s->ctx.trace_flags, s->parent_is_remote));
    if (s->name.len > 0) {
        KEY(b, &more, "name");
        str_value(b, &s->name);
    }
    COUNT(b, &more, "kind", s->kind);
    if (s->start_ns != 0) {
        KEY(b, &more, "startTimeUnixNano");
        otelc__json_u64_string(b, s->start_ns);
    }
    if (s->end_ns != 0) {
        KEY(b, &more, "endTimeUnixNano");
        otelc__json_u64_string(b, s->end_ns);
    }
    key_values(b, &more, s->attrs, s->n_attrs, &empty_str);
    COUNT(b, &more, "droppedAttributesCount", s->dropped_attrs);
    span_events(b, &more, s);
    COUNT(b, &more, "droppedEventsCount", s->dropped_events);
    span_links(b, &more, s);
    COUNT(b, &more, "droppedLinksCount", s->dropped_links);
    if (s->status_code != 0 || s->status_message.len > 0) {
        bool in = false;

        KEY(b, &more, "status");
        otelc__fbuf_putc(b, '{');
        if (s->status_message.len > 0) {
            KEY(b, &in, "message");
            str_value(b, &s->status_message);
        }
        COUNT(b, &in, "code", s->status_code);
        otelc__fbuf_putc(b, '}');
    }
    otelc__fbuf_putc(b, '}');
}

void otelc__otlp_spans(otelc__fbuf_t *b, const otelc_resource_t *res,
                       const otelc_span_data_t *const *spans, size_t n)
{
    const void *const *any = (const void *const *)spans;
    groups_t groups = { .n = 0 };
    bool first_group = true;

    OTELC__FBUF_LITERAL(b, "{\"resourceSpans\":[{");
    if (resource(b, res))
        otelc__fbuf_putc(b, ',');
    OTELC__FBUF_LITERAL(b, "\"scopeSpans\":[");
    for (size_t i = 0; i < n; i++) {
        const otelc_scope_info_t *s = spans[i]->scope;
        bool first_record = true;

        if (!starts_group(&groups, any, i, span_scope))
            continue;
        OTELC__FBUF_LITERAL_AFTER(b, !first_group, "{");
        first_group = false;
        if (scope(b, s))
            otelc__fbuf_putc(b, ',');
        OTELC__FBUF_LITERAL(b, "\"spans\":[");
        for (size_t j = i; j < n; j++) {
            if (!same_scope(spans[j]->scope, s))
                continue;
            if (!first_record)
                otelc__fbuf_putc(b, ',');
            first_record = false;
            span_record(b, spans[j]);
        }
        OTELC__FBUF_LITERAL(b, "]}");
    }
    OTELC__FBUF_LITERAL(b, "]}]}\n");
}
