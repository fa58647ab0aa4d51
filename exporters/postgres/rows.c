/*
 * rows.c: records as rows of COPY's text format (see rows.h).
 *
 * COPY text: columns separated by a tab, rows ended by a newline, \N for
 * NULL, and in a value a backslash, newline, carriage return and tab
 * escaped as \\, \n, \r and \t. Nothing else needs escaping, so hostile
 * content ("\." lines, quotes, 1 MB messages) goes in as it is. What
 * PostgreSQL text cannot hold -- ill-formed UTF-8 in a UTF8 database, NUL
 * bytes -- becomes U+FFFD, one per maximal ill-formed subpart as in the
 * file exporter.
 */
#include "rows.h"

#include <math.h>
#include <otelc/text.h>
#include <stdio.h>
#include <string.h>

#include "format.h"

/* U+FFFD REPLACEMENT CHARACTER in UTF-8. */
#define FFFD "\xef\xbf\xbd"

void otelc__pg_text(otelc__fbuf_t *b, const char *s, size_t n, size_t max_chars)
{
    size_t chars = 0, i = 0;
    char *o;

    if (s == NULL)
        n = 0;
    /* At most 3 bytes out per byte in (a lone byte becomes U+FFFD). */
    if (n > (SIZE_MAX - 8) / 3 || !otelc__fbuf_reserve(b, 3 * n + 8))
        return;
    o = b->data + b->len;
    while (i < n && chars < max_chars) {
        unsigned char c = (unsigned char)s[i];

        chars++;
        if (c >= 0x80) {
            size_t bad, k = otelc_text_utf8_sequence(s + i, n - i, &bad);

            if (k > 0) {
                memcpy(o, s + i, k);
                o += k;
                i += k;
            } else {
                memcpy(o, FFFD, 3);
                o += 3;
                i += bad;
            }
            continue;
        }
        i++;
        switch (c) {
        case '\\':
            *o++ = '\\';
            *o++ = '\\';
            break;
        case '\n':
            *o++ = '\\';
            *o++ = 'n';
            break;
        case '\r':
            *o++ = '\\';
            *o++ = 'r';
            break;
        case '\t':
            *o++ = '\\';
            *o++ = 't';
            break;
        case '\0':
            memcpy(o, FFFD, 3);
            o += 3;
            break;
        default:
            *o++ = (char)c;
            break;
        }
    }
    b->len = (size_t)(o - b->data);
}

void otelc__pg_json_value(otelc__fbuf_t *b, size_t from)
{
    /* The JSON writer escapes every control character and writes no raw
     * newline or tab: only its backslashes need COPY's escape, and its
     * \u0000 (valid JSON, refused by jsonb) becomes \ufffd. Done in place,
     * back to front, so that each byte moves once. */
    size_t n = b->len - from, extra = 0;
    char *p;

    for (size_t i = 0; i < n; i++) {
        if (b->data[from + i] == '\\')
            extra++;
    }
    if (!otelc__fbuf_reserve(b, extra))
        return;
    p = b->data + from;
    for (size_t i = 0; i + 5 < n; i++) {
        if (p[i] != '\\')
            continue;
        if (p[i + 1] == 'u' && memcmp(p + i + 2, "0000", 4) == 0)
            memcpy(p + i + 2, "fffd", 4);
        i++; /* the escaped character, a backslash included */
    }
    for (size_t i = n, o = n + extra; i > 0;) {
        char c = p[--i];

        p[--o] = c;
        if (c == '\\')
            p[--o] = '\\';
    }
    b->len += extra;
}

/* ---- fields ------------------------------------------------------------------------- */

static const char hexdigits[] = "0123456789abcdef";

void otelc__pg_hex(otelc__fbuf_t *b, const uint8_t *p, size_t n)
{
    char *o;

    if (!otelc__fbuf_reserve(b, 2 * n))
        return;
    o = b->data + b->len;
    for (size_t i = 0; i < n; i++) {
        *o++ = hexdigits[p[i] >> 4];
        *o++ = hexdigits[p[i] & 15];
    }
    b->len += 2 * n;
}

void otelc__pg_uuid(otelc__fbuf_t *b, const uint8_t id[16])
{
    otelc__pg_hex(b, id, 4);
    otelc__fbuf_putc(b, '-');
    otelc__pg_hex(b, id + 4, 2);
    otelc__fbuf_putc(b, '-');
    otelc__pg_hex(b, id + 6, 2);
    otelc__fbuf_putc(b, '-');
    otelc__pg_hex(b, id + 8, 2);
    otelc__fbuf_putc(b, '-');
    otelc__pg_hex(b, id + 10, 6);
}

/* Civil date of a day since 1970-01-01 (Howard Hinnant's algorithm). */
static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void otelc__pg_time(otelc__fbuf_t *b, otelc__pg_clock_t *c, uint64_t ns)
{
    uint64_t us = ns / 1000u, secs = us / 1000000u;
    int64_t day = (int64_t)(secs / 86400u);
    unsigned sod = (unsigned)(secs % 86400u), frac = (unsigned)(us % 1000000u);
    char *o;

    if (!c->valid || c->day != day) {
        int y;
        unsigned m, d;

        civil(day, &y, &m, &d);
        /* Years 0 to 9999 (a timestamp past them is held at the bound). */
        if (y < 0)
            y = 0;
        if (y > 9999)
            y = 9999;
        snprintf(c->date, sizeof(c->date), "%04d-%02u-%02u ", y, m % 13u, d % 32u);
        c->day = day;
        c->valid = true;
    }
    /* "YYYY-MM-DD HH:MM:SS.ffffff+00": 29 bytes. */
    if (!otelc__fbuf_reserve(b, 29))
        return;
    o = b->data + b->len;
    memcpy(o, c->date, 11);
    o += 11;
    *o++ = (char)('0' + sod / 36000u);
    *o++ = (char)('0' + sod / 3600u % 10u);
    *o++ = ':';
    *o++ = (char)('0' + sod % 3600u / 600u);
    *o++ = (char)('0' + sod % 3600u / 60u % 10u);
    *o++ = ':';
    *o++ = (char)('0' + sod % 60u / 10u);
    *o++ = (char)('0' + sod % 10u);
    *o++ = '.';
    for (int i = 5; i >= 0; i--) {
        o[i] = (char)('0' + frac % 10u);
        frac /= 10u;
    }
    o += 6;
    memcpy(o, "+00", 3);
    b->len += 29;
}

void otelc__pg_decimal(otelc__fbuf_t *b, double v, double max)
{
    char num[64];
    int n;

    if (isnan(v)) {
        OTELC__FBUF_LITERAL(b, "\\N");
        return;
    }
    /* A value past the column's precision would fail the whole COPY: it is
     * held at the column's bound instead. */
    if (v > max)
        v = max;
    if (v < -max)
        v = -max;
    /* All the digits: the server rounds to the column's scale, half away
     * from zero as numeric does (printf would round 97.125 to even). */
    n = snprintf(num, sizeof(num), "%.17g", v);
    if (n > 0)
        otelc__fbuf_append(b, num, (size_t)n);
}

/* ---- records -------------------------------------------------------------------------- */

static void tab(otelc__fbuf_t *b)
{
    otelc__fbuf_putc(b, '\t');
}

static void null(otelc__fbuf_t *b)
{
    OTELC__FBUF_LITERAL(b, "\\N");
}

/* A text column, NULL when empty. */
static void text_or_null(otelc__fbuf_t *b, const otelc_str_t *s, size_t max_chars)
{
    if (s->ptr == NULL || s->len == 0)
        null(b);
    else
        otelc__pg_text(b, s->ptr, s->len, max_chars);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t any = 0;

    for (size_t i = 0; i < n; i++)
        any |= p[i];
    return any == 0;
}

/* The JSON object of `attrs` as a jsonb column (\N when there are none). */
static void attrs_json(otelc__fbuf_t *b, const otelc_attr_t *attrs, size_t n)
{
    size_t from = b->len;

    if (attrs == NULL || n == 0) {
        null(b);
        return;
    }
    otelc__flat_attrs(b, attrs, n);
    otelc__pg_json_value(b, from);
}

static const char *level_word(int severity)
{
    /* The users' words (seed 000); TRACE is DEBUG there. */
    if (severity >= 21)
        return "CRITICAL";
    if (severity >= 17)
        return "ERROR";
    if (severity >= 13)
        return "WARNING";
    if (severity >= 9 || severity <= 0)
        return "INFO";
    return "DEBUG";
}

void otelc__pg_log_row(otelc__fbuf_t *b, otelc__pg_clock_t *clock, const otelc_str_t *service,
                       const otelc_log_data_t *r, const uint8_t record_id[16])
{
    const char *level = level_word(r->severity);

    otelc__pg_text(b, service->ptr, service->len, 50);
    tab(b);
    otelc__fbuf_append(b, level, strlen(level));
    tab(b);
    otelc__pg_text(b, r->body.ptr, r->body.len, SIZE_MAX);
    tab(b);
    attrs_json(b, r->attrs, r->n_attrs);
    tab(b);
    text_or_null(b, &r->correlation_id, 100);
    tab(b);
    text_or_null(b, &r->event_name, 50);
    tab(b);
    otelc__pg_time(b, clock, r->time_ns != 0 ? r->time_ns : r->observed_time_ns);
    tab(b);
    if (all_zero(r->ctx.trace_id, OTELC_TRACE_ID_SIZE)) {
        null(b);
        tab(b);
        null(b);
    } else {
        otelc__pg_hex(b, r->ctx.trace_id, OTELC_TRACE_ID_SIZE);
        tab(b);
        otelc__pg_hex(b, r->ctx.span_id, OTELC_SPAN_ID_SIZE);
    }
    tab(b);
    if (r->scope != NULL)
        text_or_null(b, &r->scope->name, SIZE_MAX);
    else
        null(b);
    tab(b);
    otelc__pg_uuid(b, record_id);
    otelc__fbuf_putc(b, '\n');
}

/* By otelc_span_kind_t (OTLP's numbers); unspecified is INTERNAL, as the
 * specification defaults it. */
static const char *const kind_words[] = { "INTERNAL", "INTERNAL", "SERVER",
                                          "CLIENT",   "PRODUCER", "CONSUMER" };
static const char *const status_words[] = { "UNSET", "OK", "ERROR" };

/* The span's events and links as JSON arrays, in the file exporter's flat
 * format (so that a fallback line holds them as the table does); NULL for
 * none. */
static void events_json(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    size_t from = b->len;

    if (s->n_events == 0) {
        null(b);
        return;
    }
    otelc__flat_events(b, s);
    otelc__pg_json_value(b, from);
}

static void links_json(otelc__fbuf_t *b, const otelc_span_data_t *s)
{
    size_t from = b->len;

    if (s->n_links == 0) {
        null(b);
        return;
    }
    otelc__flat_links(b, s);
    otelc__pg_json_value(b, from);
}

void otelc__pg_span_row(otelc__fbuf_t *b, otelc__pg_clock_t *clock, const otelc_str_t *service,
                        const otelc_resource_t *resource, const otelc_span_data_t *s)
{
    uint64_t duration = s->end_ns > s->start_ns ? s->end_ns - s->start_ns : 0;
    const char *kind = (unsigned)s->kind < 6 ? kind_words[s->kind] : "INTERNAL";
    const char *status = (unsigned)s->status_code < 3 ? status_words[s->status_code] : "UNSET";
    char ms[48];
    int n;

    otelc__pg_hex(b, s->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    tab(b);
    otelc__pg_hex(b, s->ctx.span_id, OTELC_SPAN_ID_SIZE);
    tab(b);
    if (all_zero(s->parent_span_id, OTELC_SPAN_ID_SIZE))
        null(b);
    else
        otelc__pg_hex(b, s->parent_span_id, OTELC_SPAN_ID_SIZE);
    tab(b);
    otelc__pg_text(b, s->name.ptr, s->name.len, SIZE_MAX);
    tab(b);
    otelc__fbuf_append(b, kind, strlen(kind));
    tab(b);
    otelc__pg_text(b, service->ptr, service->len, 50);
    tab(b);
    otelc__pg_time(b, clock, s->start_ns);
    tab(b);
    otelc__pg_time(b, clock, s->end_ns > s->start_ns ? s->end_ns : s->start_ns);
    tab(b);
    /* Exact: nanoseconds as milliseconds with three decimals. */
    n = snprintf(ms, sizeof(ms), "%llu.%03llu", (unsigned long long)(duration / 1000000u),
                 (unsigned long long)(duration / 1000u % 1000u));
    otelc__fbuf_append(b, ms, (size_t)n);
    tab(b);
    otelc__fbuf_append(b, status, strlen(status));
    tab(b);
    text_or_null(b, &s->status_message, SIZE_MAX);
    tab(b);
    text_or_null(b, &s->correlation_id, 100);
    tab(b);
    attrs_json(b, s->attrs, s->n_attrs);
    tab(b);
    events_json(b, s);
    tab(b);
    links_json(b, s);
    tab(b);
    if (resource != NULL)
        attrs_json(b, resource->attrs, resource->n_attrs);
    else
        null(b);
    otelc__fbuf_putc(b, '\n');
}

/* The number of attribute `key` of `s`, when it has one that is a number. */
static bool number_attr(const otelc_span_data_t *s, const char *key, double *out)
{
    size_t klen = strlen(key);

    for (uint32_t i = 0; i < s->n_attrs; i++) {
        const otelc_attr_t *a = &s->attrs[i];
        size_t alen = a->key == NULL ? 0 : a->key_len != 0 ? a->key_len : strlen(a->key);

        if (alen != klen || memcmp(a->key, key, klen) != 0)
            continue;
        if (a->type == OTELC_ATTR_DOUBLE) {
            *out = a->v.d;
            return true;
        }
        if (a->type == OTELC_ATTR_INT) {
            *out = (double)a->v.i;
            return true;
        }
        return false;
    }
    return false;
}

bool otelc__pg_perf_row(otelc__fbuf_t *b, otelc__pg_clock_t *clock, const otelc_str_t *service,
                        const otelc_span_data_t *s)
{
    double exec_ms, mem = NAN, cpu = NAN;
    uint8_t id[16];

    if (!number_attr(s, "execution_time_ms", &exec_ms) || isnan(exec_ms))
        return false;
    (void)number_attr(s, "memory_usage_mb", &mem);
    (void)number_attr(s, "cpu_usage_percent", &cpu);
    otelc__pg_text(b, service->ptr, service->len, 50);
    tab(b);
    otelc__pg_text(b, s->name.ptr, s->name.len, 100);
    tab(b);
    otelc__pg_decimal(b, exec_ms, 9999999.999);
    tab(b);
    otelc__pg_decimal(b, mem, 9999999.999);
    tab(b);
    otelc__pg_decimal(b, cpu, 999.99);
    tab(b);
    otelc__pg_time(b, clock, s->end_ns > s->start_ns ? s->end_ns : s->start_ns);
    tab(b);
    otelc__pg_hex(b, s->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    tab(b);
    otelc__pg_hex(b, s->ctx.span_id, OTELC_SPAN_ID_SIZE);
    tab(b);
    /* The row's id comes from the span's: the same span, the same row. */
    for (int i = 0; i < 8; i++) {
        id[i] = (uint8_t)(s->ctx.trace_id[i] ^ s->ctx.trace_id[8 + i]);
        id[8 + i] = s->ctx.span_id[i];
    }
    otelc__pg_uuid(b, id);
    otelc__fbuf_putc(b, '\n');
    return true;
}
