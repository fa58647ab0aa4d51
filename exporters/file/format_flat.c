/*
 * format_flat.c: the `flat` line format (FORMAT.md): one JSON object per
 * record, the fixed keys first, then the attributes as top-level keys, so
 * that `jq 'select(.symbol == "BTCUSDT")'` or a grep finds them.
 *
 * An attribute named like a fixed key would make the object hold a key
 * twice; those go under "attributes":{...} at the end instead. When a key
 * occurs twice in a record's attributes, the first wins.
 */
#include "format.h"

#if defined(__GNUC__)
#define TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))
#else
#define TLS_INITIAL_EXEC
#endif

/* The text of the last second written, per thread (json.h). The exporter
 * writes a batch on one thread, so records of one second share it. */
static _Thread_local otelc__json_clock_t flat_clock TLS_INITIAL_EXEC;

static const char correlation_key[] = "correlation.id";

/* The length of a time as otelc__json_time() writes it, quotes included. */
#define TIME_TEXT 29u

/* ---- attributes shared with format_otlp.c --------------------------------- */

size_t otelc__attr_string_len(const otelc_attr_t *a)
{
    if (a->v.s == NULL)
        return 0;
    return a->len == OTELC_NUL_TERMINATED ? strlen(a->v.s) : a->len;
}

/* The key's length: the pipeline fills key_len; a batch built by hand may
 * leave it 0 (attr.h: "measure it"). */
static size_t attr_key_len(const otelc_attr_t *a)
{
    return a->key_len != 0 ? a->key_len : strlen(a->key);
}

/* Comparing the first bytes before strcmp() keeps this cheap for the few
 * attributes a record has. */
bool otelc__attr_dup(const otelc_attr_t *attrs, size_t i)
{
    const char *key = attrs[i].key;

    for (size_t j = 0; j < i; j++) {
        const char *other = attrs[j].key;
        if (other != NULL && other[0] == key[0] && strcmp(other, key) == 0)
            return true;
    }
    return false;
}

/* ---- fields ---------------------------------------------------------------- */

/*
 * True for the keys the flat format writes itself (FORMAT.md), for log
 * records and spans alike. Most attribute keys are dotted ("order.id") and
 * fail at the length or the first comparison.
 */
bool otelc__flat_fixed_key(const char *k, size_t n)
{
#define IS(lit) (memcmp(k, lit, sizeof(lit) - 1u) == 0)
    switch (n) {
    case 3:
        return IS("end");
    case 4:
        return IS("kind") || IS("name") || IS("type");
    case 5:
        return IS("level") || IS("event") || IS("start") || IS("links") || IS("scope");
    case 6:
        return IS("logger") || IS("status") || IS("events");
    case 7:
        return IS("message") || IS("span_id");
    case 8:
        return IS("trace_id");
    case 9:
        return IS("timestamp");
    case 10:
        return IS("attributes");
    case 11:
        return IS("duration_ms");
    case 14:
        return IS("correlation_id") || IS("status_message") || IS("parent_span_id");
    case 18:
        return IS("dropped_attributes");
    default:
        return false;
    }
#undef IS
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;

    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static void str_field(otelc__fbuf_t *b, const otelc_str_t *s)
{
    otelc__json_string(b, s->ptr, s->ptr != NULL ? s->len : 0);
}

static void flat_value(otelc__fbuf_t *b, const otelc_attr_t *a)
{
    size_t n = a->len;

    switch (a->type) {
    case OTELC_ATTR_STRING:
        otelc__json_string(b, a->v.s, otelc__attr_string_len(a));
        return;
    case OTELC_ATTR_BOOL:
        if (a->v.b)
            OTELC__FBUF_LITERAL(b, "true");
        else
            OTELC__FBUF_LITERAL(b, "false");
        return;
    case OTELC_ATTR_INT:
        otelc__json_i64(b, a->v.i);
        return;
    case OTELC_ATTR_DOUBLE:
        otelc__json_double(b, a->v.d);
        return;
    case OTELC_ATTR_BYTES:
        otelc__json_base64(b, a->v.bytes, a->v.bytes != NULL ? n : 0);
        return;
    default:
        break;
    }
    /* Arrays; a NULL array is an empty one. */
    if (a->v.bytes == NULL)
        n = 0;
    otelc__fbuf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            otelc__fbuf_putc(b, ',');
        switch (a->type) {
        case OTELC_ATTR_STRING_ARRAY:
            otelc__json_cstring(b, a->v.sa[i]);
            break;
        case OTELC_ATTR_BOOL_ARRAY:
            if (a->v.ba[i])
                OTELC__FBUF_LITERAL(b, "true");
            else
                OTELC__FBUF_LITERAL(b, "false");
            break;
        case OTELC_ATTR_INT_ARRAY:
            otelc__json_i64(b, a->v.ia[i]);
            break;
        case OTELC_ATTR_DOUBLE_ARRAY:
            otelc__json_double(b, a->v.da[i]);
            break;
        default:
            OTELC__FBUF_LITERAL(b, "null");
            break;
        }
    }
    otelc__fbuf_putc(b, ']');
}

/* `"key":value`, preceded by a comma when `comma`. */
static void member(otelc__fbuf_t *b, const otelc_attr_t *a, size_t key_len, bool comma)
{
    otelc__json_key(b, comma, a->key, key_len);
    flat_value(b, a);
}

/* True when `a` is the attribute correlation.id with the value `corr`,
 * which the line already holds as "correlation_id". */
static bool repeats_correlation(const otelc_attr_t *a, size_t key_len, const otelc_str_t *corr)
{
    return corr->len > 0 && key_len == sizeof(correlation_key) - 1u &&
           memcmp(a->key, correlation_key, key_len) == 0 && a->type == OTELC_ATTR_STRING &&
           otelc__attr_string_len(a) == corr->len && memcmp(a->v.s, corr->ptr, corr->len) == 0;
}

/*
 * The attributes of a record whose key is not a fixed key, as top-level
 * members (each after a comma). Returns how many were left for
 * colliding_attrs().
 */
static size_t top_attrs(otelc__fbuf_t *b, const otelc_attr_t *attrs, size_t n,
                        const otelc_str_t *corr)
{
    size_t colliding = 0;

    for (size_t i = 0; attrs != NULL && i < n; i++) {
        size_t key_len;

        if (otelc__attr_skip(attrs, i))
            continue;
        key_len = attr_key_len(&attrs[i]);
        if (otelc__flat_fixed_key(attrs[i].key, key_len))
            colliding++;
        else if (!repeats_correlation(&attrs[i], key_len, corr))
            member(b, &attrs[i], key_len, true);
    }
    return colliding;
}

/* The attributes named like fixed keys, under ,"attributes":{...}. */
static void colliding_attrs(otelc__fbuf_t *b, const otelc_attr_t *attrs, size_t n)
{
    size_t written = 0;

    OTELC__FBUF_LITERAL(b, ",\"attributes\":{");
    for (size_t i = 0; i < n; i++) {
        size_t key_len;

        if (otelc__attr_skip(attrs, i))
            continue;
        key_len = attr_key_len(&attrs[i]);
        if (otelc__flat_fixed_key(attrs[i].key, key_len))
            member(b, &attrs[i], key_len, written++ > 0);
    }
    otelc__fbuf_putc(b, '}');
}

void otelc__flat_attrs(otelc__fbuf_t *b, const otelc_attr_t *attrs, size_t n)
{
    size_t written = 0;

    otelc__fbuf_putc(b, '{');
    for (size_t i = 0; attrs != NULL && i < n; i++) {
        if (!otelc__attr_skip(attrs, i))
            member(b, &attrs[i], attr_key_len(&attrs[i]), written++ > 0);
    }
    otelc__fbuf_putc(b, '}');
}

/* ,"attributes":{...} of an event or a link (nothing when there are none). */
static void nested_attrs(otelc__fbuf_t *b, const otelc_attr_t *attrs, size_t n)
{
    if (attrs == NULL || n == 0)
        return;
    OTELC__FBUF_LITERAL(b, ",\"attributes\":");
    otelc__flat_attrs(b, attrs, n);
}

static void dropped(otelc__fbuf_t *b, uint32_t n)
{
    if (n > 0) {
        OTELC__FBUF_LITERAL(b, ",\"dropped_attributes\":");
        otelc__json_u64(b, n);
    }
}

/* ---- log records ----------------------------------------------------------- */

/* A member with a quoted name (,"kind":"CLIENT") written without escaping.
 * The text is padded to a fixed size, so that it is copied in a few moves
 * rather than by a call to memcpy() of a varying length. */
#define NAME_ROOM 32u

typedef struct name {
    char text[NAME_ROOM];
    size_t len;
} name_t;

#define NAME(lit)                                                                                  \
    {                                                                                              \
        lit, sizeof(lit) - 1u                                                                      \
    }

static void put_name(otelc__fbuf_t *b, const name_t *name)
{
    if (otelc__fbuf_reserve(b, NAME_ROOM)) {
        memcpy(b->data + b->len, name->text, NAME_ROOM);
        b->len += name->len;
    }
}

/* ,"level":"<severity text>", the names otelc_severity_text() gives, here
 * with their quotes and lengths so that no record measures or escapes them. */
static void level(otelc__fbuf_t *b, int severity)
{
    static const name_t levels[25] = {
        NAME(",\"level\":\"UNSPECIFIED\""), NAME(",\"level\":\"TRACE\""),
        NAME(",\"level\":\"TRACE2\""),      NAME(",\"level\":\"TRACE3\""),
        NAME(",\"level\":\"TRACE4\""),      NAME(",\"level\":\"DEBUG\""),
        NAME(",\"level\":\"DEBUG2\""),      NAME(",\"level\":\"DEBUG3\""),
        NAME(",\"level\":\"DEBUG4\""),      NAME(",\"level\":\"INFO\""),
        NAME(",\"level\":\"INFO2\""),       NAME(",\"level\":\"INFO3\""),
        NAME(",\"level\":\"INFO4\""),       NAME(",\"level\":\"WARN\""),
        NAME(",\"level\":\"WARN2\""),       NAME(",\"level\":\"WARN3\""),
        NAME(",\"level\":\"WARN4\""),       NAME(",\"level\":\"ERROR\""),
        NAME(",\"level\":\"ERROR2\""),      NAME(",\"level\":\"ERROR3\""),
        NAME(",\"level\":\"ERROR4\""),      NAME(",\"level\":\"FATAL\""),
        NAME(",\"level\":\"FATAL2\""),      NAME(",\"level\":\"FATAL3\""),
        NAME(",\"level\":\"FATAL4\""),
    };
    put_name(b, &levels[severity >= 1 && severity <= 24 ? severity : 0]);
}

void otelc__flat_log(otelc__fbuf_t *b, const otelc_log_data_t *r)
{
    otelc__json_clock_t *clock = &flat_clock;
    const otelc_scope_info_t *scope = r->scope;

    OTELC__FBUF_LITERAL(b, "{\"timestamp\":");
    otelc__json_time(b, clock, r->time_ns);
    level(b, r->severity);
    OTELC__FBUF_LITERAL(b, ",\"logger\":");
    if (scope != NULL)
        str_field(b, &scope->name);
    else
        OTELC__FBUF_LITERAL(b, "\"\"");
    OTELC__FBUF_LITERAL(b, ",\"message\":");
    str_field(b, &r->body);
    if (r->event_name.len > 0) {
        OTELC__FBUF_LITERAL(b, ",\"event\":");
        str_field(b, &r->event_name);
    }
    if (!all_zero(r->ctx.trace_id, OTELC_TRACE_ID_SIZE)) {
        OTELC__FBUF_LITERAL(b, ",\"trace_id\":");
        otelc__json_hex(b, r->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    }
    if (!all_zero(r->ctx.span_id, OTELC_SPAN_ID_SIZE)) {
        OTELC__FBUF_LITERAL(b, ",\"span_id\":");
        otelc__json_hex(b, r->ctx.span_id, OTELC_SPAN_ID_SIZE);
    }
    if (r->correlation_id.len > 0) {
        OTELC__FBUF_LITERAL(b, ",\"correlation_id\":");
        str_field(b, &r->correlation_id);
    }
    if (top_attrs(b, r->attrs, r->n_attrs, &r->correlation_id) > 0)
        colliding_attrs(b, r->attrs, r->n_attrs);
    dropped(b, r->dropped_attrs);
    OTELC__FBUF_LITERAL(b, "}\n");
}

/* ---- spans ----------------------------------------------------------------- */

static const name_t kind_names[6] = {
    NAME(",\"kind\":\"UNSPECIFIED\""), NAME(",\"kind\":\"INTERNAL\""),
    NAME(",\"kind\":\"SERVER\""),      NAME(",\"kind\":\"CLIENT\""),
    NAME(",\"kind\":\"PRODUCER\""),    NAME(",\"kind\":\"CONSUMER\""),
};
static const name_t status_names[3] = {
    NAME(",\"status\":\"UNSET\""),
    NAME(",\"status\":\"OK\""),
    NAME(",\"status\":\"ERROR\""),
};

void otelc__flat_events(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    otelc__json_clock_t *clock = &flat_clock;

    otelc__fbuf_putc(b, '[');
    for (uint32_t i = 0; s->events != NULL && i < s->n_events; i++) {
        const otelc_event_data_t *e = &s->events[i];

        OTELC__FBUF_LITERAL_AFTER(b, i > 0, "{\"name\":");
        str_field(b, &e->name);
        OTELC__FBUF_LITERAL(b, ",\"timestamp\":");
        otelc__json_time(b, clock, e->time_ns);
        nested_attrs(b, e->attrs, e->n_attrs);
        otelc__fbuf_putc(b, '}');
    }
    otelc__fbuf_putc(b, ']');
}

static void span_events(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    OTELC__FBUF_LITERAL(b, ",\"events\":");
    otelc__flat_events(b, s);
}

void otelc__flat_links(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    otelc__fbuf_putc(b, '[');
    for (uint32_t i = 0; s->links != NULL && i < s->n_links; i++) {
        const otelc_link_data_t *l = &s->links[i];

        OTELC__FBUF_LITERAL_AFTER(b, i > 0, "{\"trace_id\":");
        otelc__json_hex(b, l->ctx.trace_id, OTELC_TRACE_ID_SIZE);
        OTELC__FBUF_LITERAL(b, ",\"span_id\":");
        otelc__json_hex(b, l->ctx.span_id, OTELC_SPAN_ID_SIZE);
        nested_attrs(b, l->attrs, l->n_attrs);
        otelc__fbuf_putc(b, '}');
    }
    otelc__fbuf_putc(b, ']');
}

static void span_links(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    OTELC__FBUF_LITERAL(b, ",\"links\":");
    otelc__flat_links(b, s);
}

void otelc__flat_span(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    otelc__json_clock_t *clock = &flat_clock;
    const name_t *kind = &kind_names[s->kind < 6 ? s->kind : 0];
    const name_t *status = &status_names[s->status_code < 3 ? s->status_code : 0];
    size_t colliding, start_at;

    OTELC__FBUF_LITERAL(b, "{\"timestamp\":");
    start_at = b->len;
    otelc__json_time(b, clock, s->start_ns);
    OTELC__FBUF_LITERAL(b, ",\"type\":\"span\",\"name\":");
    str_field(b, &s->name);
    put_name(b, kind);
    OTELC__FBUF_LITERAL(b, ",\"trace_id\":");
    otelc__json_hex(b, s->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    OTELC__FBUF_LITERAL(b, ",\"span_id\":");
    otelc__json_hex(b, s->ctx.span_id, OTELC_SPAN_ID_SIZE);
    if (!all_zero(s->parent_span_id, OTELC_SPAN_ID_SIZE)) {
        OTELC__FBUF_LITERAL(b, ",\"parent_span_id\":");
        otelc__json_hex(b, s->parent_span_id, OTELC_SPAN_ID_SIZE);
    }
    if (s->correlation_id.len > 0) {
        OTELC__FBUF_LITERAL(b, ",\"correlation_id\":");
        str_field(b, &s->correlation_id);
    }
    /* "start" is the text of "timestamp" again. */
    if (otelc__fbuf_reserve(b, sizeof(",\"start\":") - 1u + TIME_TEXT)) {
        memcpy(b->data + b->len, ",\"start\":", sizeof(",\"start\":") - 1u);
        memcpy(b->data + b->len + sizeof(",\"start\":") - 1u, b->data + start_at, TIME_TEXT);
        b->len += sizeof(",\"start\":") - 1u + TIME_TEXT;
    }
    OTELC__FBUF_LITERAL(b, ",\"end\":");
    otelc__json_time(b, clock, s->end_ns);
    OTELC__FBUF_LITERAL(b, ",\"duration_ms\":");
    otelc__json_ms(b, s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0);
    put_name(b, status);
    if (s->status_message.len > 0) {
        OTELC__FBUF_LITERAL(b, ",\"status_message\":");
        str_field(b, &s->status_message);
    }
    if (s->scope != NULL && s->scope->name.len > 0) {
        OTELC__FBUF_LITERAL(b, ",\"scope\":");
        str_field(b, &s->scope->name);
    }
    colliding = top_attrs(b, s->attrs, s->n_attrs, &s->correlation_id);
    if (s->events != NULL && s->n_events > 0)
        span_events(b, s);
    if (s->links != NULL && s->n_links > 0)
        span_links(b, s);
    if (colliding > 0)
        colliding_attrs(b, s->attrs, s->n_attrs);
    dropped(b, s->dropped_attrs);
    OTELC__FBUF_LITERAL(b, "}\n");
}
