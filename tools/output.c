/*
 * output.c: text, JSON and CSV forms of a record (see output.h).
 */
#include "output.h"

#include <otelc/text.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Width the console pads the level to: the longest name, "CRITICAL". */
#define LEVEL_WIDTH 8

/* Attribute lists longer than this are written without checking for
 * duplicate keys (the check is quadratic; the SDK caps attributes at 128). */
#define DEDUP_LIMIT 256u


/* ---- UTF-8 and escaping ------------------------------------------------ */

static void sb_sink(void *ctx, const char *p, size_t n)
{
    sb_put(ctx, p, n);
}

/* Controls, DEL, C1 controls and ill-formed UTF-8 escaped for a terminal,
 * as the console exporter does (otelc/text.h). */
void text_put_escaped(strbuf_t *sb, const char *s, size_t n, bool quoted)
{
    otelc_text_terminal(s, n, quoted, sb_sink, sb);
}

static void text_put_string_value(strbuf_t *sb, const char *s, size_t n, bool in_array)
{
    if (otelc_text_needs_quotes(s, n, in_array)) {
        sb_putc(sb, '"');
        text_put_escaped(sb, s, n, true);
        sb_putc(sb, '"');
    } else {
        sb_put(sb, s, n);
    }
}

/* ---- JSON -------------------------------------------------------------- */

/* Input bytes escaped per round, into room on the stack. */
#define JSON_ROUND 512u

void json_put_string(strbuf_t *sb, const char *s, size_t n)
{
    char room[OTELC_TEXT_JSON_ROOM(JSON_ROUND)];
    size_t i = 0;

    sb_putc(sb, '"');
    while (i < n) {
        size_t stop = n - i > JSON_ROUND ? i + JSON_ROUND : n;
        /* A UTF-8 sequence begun before `stop` is taken whole: at most 3
         * bytes more than the round, within the room's 10 spare bytes. */
        char *end = otelc_text_json_escape(room, s, n, &i, stop);

        sb_put(sb, room, (size_t)(end - room));
    }
    sb_putc(sb, '"');
}

void json_put_value(strbuf_t *sb, const json_value_t *v)
{
    const json_value_t *m;

    if (v == NULL) {
        SB_LIT(sb, "null");
        return;
    }
    switch (v->type) {
    case JSON_NULL:
        SB_LIT(sb, "null");
        return;
    case JSON_TRUE:
        SB_LIT(sb, "true");
        return;
    case JSON_FALSE:
        SB_LIT(sb, "false");
        return;
    case JSON_NUMBER:
        sb_put(sb, v->str, v->len);
        return;
    case JSON_STRING:
        json_put_string(sb, v->str, v->len);
        return;
    case JSON_ARRAY:
        sb_putc(sb, '[');
        for (m = v->first; m != NULL; m = m->next) {
            if (m != v->first)
                sb_putc(sb, ',');
            json_put_value(sb, m);
        }
        sb_putc(sb, ']');
        return;
    case JSON_OBJECT:
        sb_putc(sb, '{');
        for (m = v->first; m != NULL; m = m->next) {
            if (m != v->first)
                sb_putc(sb, ',');
            json_put_string(sb, m->key, m->key_len);
            sb_putc(sb, ':');
            json_put_value(sb, m);
        }
        sb_putc(sb, '}');
        return;
    }
}

/* An integer in OTLP/JSON is a decimal string; a number is valid JSON as
 * it is only when it is digits with an optional '-'. */
static bool is_integer_text(const char *s, size_t n)
{
    size_t i = n > 0 && s[0] == '-' ? 1 : 0;

    if (i == n || (s[i] == '0' && n - i > 1))
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

void json_put_anyvalue(strbuf_t *sb, const json_value_t *any)
{
    const json_value_t *v;

    if (any == NULL || any->type != JSON_OBJECT || any->first == NULL) {
        SB_LIT(sb, "null");
        return;
    }
    v = any->first;
    if (json_key_is(v->key, v->key_len, "intValue") &&
        (v->type == JSON_NUMBER || v->type == JSON_STRING) && is_integer_text(v->str, v->len)) {
        sb_put(sb, v->str, v->len);
    } else if (json_key_is(v->key, v->key_len, "arrayValue")) {
        const json_value_t *values = json_get(v, "values");

        sb_putc(sb, '[');
        for (const json_value_t *e = values != NULL ? values->first : NULL; e != NULL;
             e = e->next) {
            if (e != values->first)
                sb_putc(sb, ',');
            json_put_anyvalue(sb, e);
        }
        sb_putc(sb, ']');
    } else if (json_key_is(v->key, v->key_len, "kvlistValue")) {
        const json_value_t *values = json_get(v, "values");

        sb_putc(sb, '{');
        for (const json_value_t *kv = values != NULL ? values->first : NULL; kv != NULL;
             kv = kv->next) {
            const json_value_t *key = json_get(kv, "key");

            if (kv != values->first)
                sb_putc(sb, ',');
            if (key != NULL && key->type == JSON_STRING)
                json_put_string(sb, key->str, key->len);
            else
                SB_LIT(sb, "\"\"");
            sb_putc(sb, ':');
            json_put_anyvalue(sb, json_get(kv, "value"));
        }
        sb_putc(sb, '}');
    } else {
        /* stringValue, boolValue, doubleValue (a number or "NaN"...) and
         * bytesValue (base64) are written as they are. */
        json_put_value(sb, v);
    }
}

/* ---- text values ------------------------------------------------------- */

static void text_put_value(strbuf_t *sb, const json_value_t *v, bool in_array);

static void text_put_any(strbuf_t *sb, const json_value_t *any, bool in_array)
{
    const json_value_t *v;

    if (any == NULL || any->type != JSON_OBJECT || any->first == NULL) {
        SB_LIT(sb, "\"\"");
        return;
    }
    v = any->first;
    if (json_key_is(v->key, v->key_len, "arrayValue")) {
        const json_value_t *values = json_get(v, "values");

        sb_putc(sb, '[');
        for (const json_value_t *e = values != NULL ? values->first : NULL; e != NULL;
             e = e->next) {
            if (e != values->first)
                sb_putc(sb, ',');
            text_put_any(sb, e, true);
        }
        sb_putc(sb, ']');
    } else if (json_key_is(v->key, v->key_len, "kvlistValue")) {
        strbuf_t tmp = STRBUF_INIT;

        json_put_anyvalue(&tmp, any);
        text_put_string_value(sb, tmp.p, tmp.len, in_array);
        sb_free(&tmp);
    } else {
        text_put_value(sb, v, in_array);
    }
}

static void text_put_value(strbuf_t *sb, const json_value_t *v, bool in_array)
{
    switch (v->type) {
    case JSON_STRING:
        text_put_string_value(sb, v->str, v->len, in_array);
        return;
    case JSON_NUMBER:
        sb_put(sb, v->str, v->len);
        return;
    case JSON_TRUE:
        SB_LIT(sb, "true");
        return;
    case JSON_FALSE:
        SB_LIT(sb, "false");
        return;
    case JSON_NULL:
        SB_LIT(sb, "null");
        return;
    case JSON_ARRAY:
        sb_putc(sb, '[');
        for (const json_value_t *e = v->first; e != NULL; e = e->next) {
            if (e != v->first)
                sb_putc(sb, ',');
            text_put_value(sb, e, true);
        }
        sb_putc(sb, ']');
        return;
    case JSON_OBJECT: {
        strbuf_t tmp = STRBUF_INIT;

        json_put_value(&tmp, v);
        text_put_string_value(sb, tmp.p, tmp.len, in_array);
        sb_free(&tmp);
        return;
    }
    }
}

/* ---- the attributes of a record ---------------------------------------- */

/* An OTLP attribute already shown as a field of its own. */
static bool otlp_attr_hidden(const tool_record_t *r, tstr_t key, const json_value_t *value)
{
    const json_value_t *s = json_get(value, "stringValue");
    tstr_t v = s != NULL && s->type == JSON_STRING ? (tstr_t){ s->str, s->len } : TSTR_EMPTY;

    if (s == NULL)
        return false;
    if (tstr_eq(key, "event.name"))
        return tstr_same(v, r->event);
    if (tstr_eq(key, "correlation.id") || tstr_eq(key, "correlation_id"))
        return tstr_same(v, r->correlation_id);
    return false;
}

static tstr_t kv_key(const json_value_t *kv)
{
    const json_value_t *k = json_get(kv, "key");

    return k != NULL && k->type == JSON_STRING ? (tstr_t){ k->str, k->len } : TSTR_EMPTY;
}

/* True when an earlier KeyValue of the list has the same key (first wins). */
static bool otlp_attr_repeated(const json_value_t *list, const json_value_t *kv, tstr_t key)
{
    if (list->count > DEDUP_LIMIT)
        return false;
    for (const json_value_t *e = list->first; e != kv; e = e->next) {
        if (tstr_same(kv_key(e), key))
            return true;
    }
    return false;
}

/* A line under construction: fields are separated by one space, and the
 * first one after an empty message has none before it. */
typedef struct text_line {
    strbuf_t *sb;
    bool need_space;
} text_line_t;

static void field_start(text_line_t *l)
{
    if (l->need_space)
        sb_putc(l->sb, ' ');
    l->need_space = true;
}

static void text_put_key(text_line_t *l, const char *key, size_t n)
{
    strbuf_t *sb = l->sb;

    field_start(l);
    text_put_string_value(sb, key, n, false);
    sb_putc(sb, '=');
}

static void text_put_attrs(text_line_t *l, const tool_record_t *r)
{
    strbuf_t *sb = l->sb;

    if (r->source == REC_FLAT) {
        for (const json_value_t *m = r->object->first; m != NULL; m = m->next) {
            if (json_key_is(m->key, m->key_len, "attributes") && m->type == JSON_OBJECT) {
                for (const json_value_t *a = m->first; a != NULL; a = a->next) {
                    text_put_key(l, a->key, a->key_len);
                    text_put_value(sb, a, false);
                }
                continue;
            }
            if (flat_fixed_key(m->key, m->key_len))
                continue;
            text_put_key(l, m->key, m->key_len);
            text_put_value(sb, m, false);
        }
        return;
    }
    for (const json_value_t *kv = r->attrs != NULL ? r->attrs->first : NULL; kv != NULL;
         kv = kv->next) {
        tstr_t key = kv_key(kv);
        const json_value_t *value = json_get(kv, "value");

        if (otlp_attr_hidden(r, key, value) || otlp_attr_repeated(r->attrs, kv, key))
            continue;
        text_put_key(l, key.p, key.n);
        text_put_any(sb, value, false);
    }
}

/* ---- text lines -------------------------------------------------------- */

void text_put_level(strbuf_t *sb, const char *name, const char *color_code, bool color)
{
    size_t n = strlen(name);

    SB_LIT(sb, " | ");
    if (color && color_code != NULL)
        sb_puts(sb, color_code);
    sb_put(sb, name, n);
    for (; n < LEVEL_WIDTH; n++)
        sb_putc(sb, ' ');
    if (color && color_code != NULL)
        SB_LIT(sb, COLOR_RESET);
    SB_LIT(sb, " | ");
}

static void text_put_scope(strbuf_t *sb, tstr_t scope)
{
    if (scope.n > 0)
        text_put_escaped(sb, scope.p, scope.n, false);
    else
        sb_putc(sb, '-');
    SB_LIT(sb, " | ");
}

static void text_put_field(text_line_t *l, const char *key, tstr_t value)
{
    if (value.n == 0)
        return;
    field_start(l);
    sb_puts(l->sb, key);
    sb_putc(l->sb, '=');
    text_put_string_value(l->sb, value.p, value.n, false);
}

void format_ms(double ms, char out[32])
{
    long long us = isfinite(ms) && ms > 0 ? llround(ms * 1000.0) : 0;

    snprintf(out, 32, "%lld.%03lld", us / 1000, us % 1000);
}

void out_message(strbuf_t *sb, const tool_record_t *r)
{
    if (r->message_value == NULL)
        sb_put(sb, r->message.p, r->message.n);
    else if (r->message_is_anyvalue)
        json_put_anyvalue(sb, r->message_value);
    else
        json_put_value(sb, r->message_value);
}

static void text_log(strbuf_t *sb, const tool_record_t *r, bool color)
{
    text_line_t l = { sb, false };
    char when[32];
    const char *name, *color_code;

    time_format_local(r->time, when);
    sb_puts(sb, when);
    if (r->severity > 0) {
        otelc_text_level(r->severity, &name, &color_code);
        text_put_level(sb, name, color_code, color);
    } else {
        /* An unknown level is shown as written (when it is short and
         * printable), in no colour. */
        char lvl[LEVEL_WIDTH + 1] = "-";

        if (r->level.n > 0 && r->level.n <= LEVEL_WIDTH &&
            !otelc_text_needs_quotes(r->level.p, r->level.n, false)) {
            memcpy(lvl, r->level.p, r->level.n);
            lvl[r->level.n] = '\0';
        }
        text_put_level(sb, lvl, NULL, false);
    }
    text_put_scope(sb, r->logger);
    if (r->message_value != NULL) {
        strbuf_t tmp = STRBUF_INIT;

        out_message(&tmp, r);
        text_put_escaped(sb, tmp.p, tmp.len, false);
        sb_free(&tmp);
        l.need_space = true;
    } else if (r->message.n > 0) {
        text_put_escaped(sb, r->message.p, r->message.n, false);
        l.need_space = true;
    }
    text_put_field(&l, "event", r->event);
    text_put_attrs(&l, r);
    text_put_field(&l, "trace_id", r->trace_id);
    text_put_field(&l, "span_id", r->span_id);
    text_put_field(&l, "correlation_id", r->correlation_id);
    sb_putc(sb, '\n');
}

static void text_span(strbuf_t *sb, const tool_record_t *r, bool color)
{
    static const char *const kinds[] = { NULL, NULL, "server", "client", "producer", "consumer" };
    text_line_t l = { sb, true };
    char when[32], ms[32];

    time_format_local(r->time, when);
    sb_puts(sb, when);
    text_put_level(sb, "SPAN", "\x1b[35m", color);
    text_put_scope(sb, r->logger);
    if (r->name.n > 0) {
        text_put_escaped(sb, r->name.p, r->name.n, false);
        sb_putc(sb, ' ');
    }
    format_ms(r->duration_ms, ms);
    sb_puts(sb, ms);
    SB_LIT(sb, " ms");
    if (r->status_code == SPAN_STATUS_OK || r->status_code == SPAN_STATUS_ERROR) {
        sb_puts(sb, r->status_code == SPAN_STATUS_OK ? " status=OK" : " status=ERROR");
        if (r->status_message.n > 0) {
            SB_LIT(sb, " \"");
            text_put_escaped(sb, r->status_message.p, r->status_message.n, true);
            sb_putc(sb, '"');
        }
    }
    if (r->span_kind >= 2 && r->span_kind <= 5) {
        SB_LIT(sb, " kind=");
        sb_puts(sb, kinds[r->span_kind]);
    }
    text_put_attrs(&l, r);
    for (const json_value_t *e = r->events != NULL ? r->events->first : NULL; e != NULL;
         e = e->next) {
        const json_value_t *name = json_get(e, "name");

        if (name != NULL && name->type == JSON_STRING)
            text_put_field(&l, "event", (tstr_t){ name->str, name->len });
    }
    text_put_field(&l, "trace_id", r->trace_id);
    text_put_field(&l, "span_id", r->span_id);
    text_put_field(&l, "parent_span_id", r->parent_span_id);
    if (r->source == REC_FLAT)
        text_put_field(&l, "correlation_id", r->correlation_id);
    sb_putc(sb, '\n');
}

void out_text(strbuf_t *sb, const tool_record_t *r, bool color)
{
    if (r->kind == REC_SPAN)
        text_span(sb, r, color);
    else
        text_log(sb, r, color);
}

/* ---- JSON lines -------------------------------------------------------- */

tstr_t out_level(const tool_record_t *r, char buf[16])
{
    const char *s;

    if (r->source == REC_FLAT && r->level.n > 0)
        return r->level;
    if (r->severity == 0 && r->level.n > 0)
        return r->level;
    s = severity_text(r->severity, buf);
    return (tstr_t){ s, strlen(s) };
}

static void json_put_member(strbuf_t *sb, const char *key, tstr_t value, bool always)
{
    if (value.n == 0 && !always)
        return;
    sb_putc(sb, ',');
    json_put_string(sb, key, strlen(key));
    sb_putc(sb, ':');
    json_put_string(sb, value.p, value.n);
}

/*
 * An OTLP log record in the flat shape of FORMAT.md: the fixed fields in
 * their order, attributes as keys, those named like a fixed key under
 * "attributes", the first of two equal keys kept.
 */
static void json_from_otlp(strbuf_t *sb, const tool_record_t *r)
{
    char when[32], lvl[16];
    bool any_colliding = false;

    time_format_iso(r->time, when);
    SB_LIT(sb, "{\"timestamp\":");
    json_put_string(sb, when, strlen(when));
    json_put_member(sb, "level", out_level(r, lvl), true);
    json_put_member(sb, "logger", r->logger, true);
    SB_LIT(sb, ",\"message\":");
    if (r->message_value != NULL)
        json_put_anyvalue(sb, r->message_value);
    else
        json_put_string(sb, r->message.p, r->message.n);
    json_put_member(sb, "event", r->event, false);
    json_put_member(sb, "trace_id", r->trace_id, false);
    json_put_member(sb, "span_id", r->span_id, false);
    json_put_member(sb, "correlation_id", r->correlation_id, false);
    for (int pass = 0; pass < 2; pass++) {
        bool first = true;

        if (pass == 1) {
            if (!any_colliding)
                break;
            SB_LIT(sb, ",\"attributes\":{");
        }
        for (const json_value_t *kv = r->attrs != NULL ? r->attrs->first : NULL; kv != NULL;
             kv = kv->next) {
            tstr_t key = kv_key(kv);
            const json_value_t *value = json_get(kv, "value");
            bool fixed = flat_fixed_key(key.p, key.n);

            if (otlp_attr_hidden(r, key, value) || otlp_attr_repeated(r->attrs, kv, key))
                continue;
            any_colliding |= fixed;
            if (fixed != (pass == 1))
                continue;
            if (pass == 0 || !first)
                sb_putc(sb, ',');
            first = false;
            json_put_string(sb, key.p, key.n);
            sb_putc(sb, ':');
            json_put_anyvalue(sb, value);
        }
        if (pass == 1)
            sb_putc(sb, '}');
    }
    if (r->dropped_attributes > 0)
        sb_printf(sb, ",\"dropped_attributes\":%llu", (unsigned long long)r->dropped_attributes);
    SB_LIT(sb, "}\n");
}

void out_json(strbuf_t *sb, const tool_record_t *r)
{
    if (r->source == REC_FLAT) {
        /* Written back from the parsed tree rather than copied: the output
         * is valid UTF-8 JSON whatever bytes the line held. */
        json_put_value(sb, r->object);
        sb_putc(sb, '\n');
        return;
    }
    json_from_otlp(sb, r);
}

/* ---- CSV --------------------------------------------------------------- */

static void csv_field(strbuf_t *sb, const char *p, size_t n, bool last)
{
    bool quote = false;

    for (size_t i = 0; i < n && !quote; i++)
        quote = p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n';
    if (quote) {
        sb_putc(sb, '"');
        for (size_t i = 0; i < n; i++) {
            if (p[i] == '"')
                sb_putc(sb, '"');
            sb_putc(sb, p[i]);
        }
        sb_putc(sb, '"');
    } else {
        sb_put(sb, p, n);
    }
    sb_puts(sb, last ? "\r\n" : ",");
}

void out_csv_header(strbuf_t *sb)
{
    SB_LIT(sb, "timestamp,level,logger,message,event,trace_id,span_id,correlation_id,channel\r\n");
}

void out_csv(strbuf_t *sb, const tool_record_t *r, const char *channel)
{
    char when[32], lvl[16];
    tstr_t level = out_level(r, lvl);
    strbuf_t msg = STRBUF_INIT;

    time_format_iso(r->time, when);
    csv_field(sb, when, strlen(when), false);
    csv_field(sb, level.p, level.n, false);
    csv_field(sb, r->logger.p, r->logger.n, false);
    out_message(&msg, r);
    csv_field(sb, msg.p, msg.len, false);
    sb_free(&msg);
    csv_field(sb, r->event.p, r->event.n, false);
    csv_field(sb, r->trace_id.p, r->trace_id.n, false);
    csv_field(sb, r->span_id.p, r->span_id.n, false);
    csv_field(sb, r->correlation_id.p, r->correlation_id.n, false);
    csv_field(sb, channel, strlen(channel), true);
}

void out_record(strbuf_t *sb, out_format_t format, const tool_record_t *r, const char *channel,
                bool color)
{
    if (format == OUT_JSON)
        out_json(sb, r);
    else if (format == OUT_CSV)
        out_csv(sb, r, channel);
    else
        out_text(sb, r, color);
}
