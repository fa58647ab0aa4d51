/*
 * record.c: flat and OTLP/JSON lines into tool_record_t (see record.h).
 */
#include "record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const severity_range_names[6] = { "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL" };

/* The keys of FORMAT.md that an attribute may not take in a flat record. */
static const char *const fixed_keys[] = {
    "timestamp",      "level",          "logger",
    "message",        "event",          "trace_id",
    "span_id",        "correlation_id", "kind",
    "name",           "start",          "end",
    "duration_ms",    "status",         "status_message",
    "parent_span_id", "scope",          "events",
    "links",          "attributes",     "dropped_attributes",
    "type",
};

bool flat_fixed_key(const char *key, size_t len)
{
    for (size_t i = 0; i < sizeof(fixed_keys) / sizeof(fixed_keys[0]); i++) {
        if (json_key_is(key, len, fixed_keys[i]))
            return true;
    }
    return false;
}

/* ---- levels ------------------------------------------------------------ */

static bool word_is(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);

    if (n != k)
        return false;
    for (size_t i = 0; i < k; i++) {
        char c = s[i];

        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != word[i])
            return false;
    }
    return true;
}

int severity_from_text(const char *s, size_t n)
{
    static const struct {
        const char *name;
        int severity;
    } names[] = {
        { "TRACE", 1 },    { "DEBUG", 5 },  { "INFO", 9 },   { "WARN", 13 },
        { "WARNING", 13 }, { "ERROR", 17 }, { "FATAL", 21 }, { "CRITICAL", 21 },
    };
    int offset = 0;

    /* "INFO2": the second severity of the INFO range. */
    if (n > 1 && s[n - 1] >= '2' && s[n - 1] <= '4') {
        offset = s[n - 1] - '1';
        n--;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (word_is(s, n, names[i].name))
            return names[i].severity + offset;
    }
    return 0;
}

int severity_range(int severity)
{
    if (severity < 1 || severity > 24)
        return -1;
    return (severity - 1) / 4;
}

const char *severity_text(int severity, char buf[16])
{
    int range = severity_range(severity);

    if (range < 0)
        return "UNSPECIFIED";
    if ((severity - 1) % 4 == 0)
        return severity_range_names[range];
    snprintf(buf, 16, "%s%d", severity_range_names[range], (severity - 1) % 4 + 1);
    return buf;
}

const char *span_kind_text(int kind)
{
    static const char *const names[] = { "UNSPECIFIED", "INTERNAL", "SERVER",
                                         "CLIENT",      "PRODUCER", "CONSUMER" };

    return kind >= 0 && kind <= 5 ? names[kind] : "UNSPECIFIED";
}

static int span_kind_from_text(tstr_t s)
{
    static const char *const names[] = { "UNSPECIFIED", "INTERNAL", "SERVER",
                                         "CLIENT",      "PRODUCER", "CONSUMER" };

    /* OTLP/JSON may spell enums by name: "SPAN_KIND_SERVER". */
    if (s.n > 10 && memcmp(s.p, "SPAN_KIND_", 10) == 0) {
        s.p += 10;
        s.n -= 10;
    }
    for (int i = 0; i < 6; i++) {
        if (word_is(s.p, s.n, names[i]))
            return i;
    }
    return 0;
}

static int status_from_text(tstr_t s)
{
    if (s.n > 12 && memcmp(s.p, "STATUS_CODE_", 12) == 0) {
        s.p += 12;
        s.n -= 12;
    }
    if (word_is(s.p, s.n, "OK"))
        return SPAN_STATUS_OK;
    if (word_is(s.p, s.n, "ERROR"))
        return SPAN_STATUS_ERROR;
    return SPAN_STATUS_UNSET;
}

/* ---- helpers ----------------------------------------------------------- */

static tstr_t str_of(const json_value_t *v)
{
    if (v == NULL || v->type != JSON_STRING)
        return TSTR_EMPTY;
    return (tstr_t){ v->str, v->len };
}

static tstr_t member_str(const json_value_t *obj, const char *key)
{
    return str_of(json_get(obj, key));
}

/* An id of OTLP/JSON: empty, or all zeros, means "none". */
static tstr_t id_of(const json_value_t *v)
{
    tstr_t s = str_of(v);

    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] != '0')
            return s;
    }
    return TSTR_EMPTY;
}

static bool iso_member(const json_value_t *obj, const char *key, tool_time_t *out)
{
    tstr_t s = member_str(obj, key);

    return s.n > 0 && time_parse_iso(s.p, s.n, out);
}

/* A time in nanoseconds since the epoch (OTLP: a decimal string). */
static bool nanos_member(const json_value_t *obj, const char *key, tool_time_t *out)
{
    uint64_t ns;

    if (!json_to_u64(json_get(obj, key), &ns) || ns == 0)
        return false;
    *out = (tool_time_t)(ns / 1000u);
    return true;
}

static tool_record_t *list_add(record_list_t *list)
{
    tool_record_t *r;

    if (list->n == list->cap) {
        list->cap = list->cap == 0 ? 16 : list->cap * 2;
        list->v = xrealloc(list->v, list->cap * sizeof(*list->v));
    }
    r = &list->v[list->n++];
    memset(r, 0, sizeof(*r));
    return r;
}

void record_list_free(record_list_t *list)
{
    free(list->v);
    memset(list, 0, sizeof(*list));
}

bool hex_id_equal(tstr_t a, const char *b)
{
    size_t n = strlen(b);

    if (a.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a.p[i], y = b[i];

        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static uint64_t hash_str(uint64_t h, tstr_t s)
{
    /* The length first, so that ("ab","c") and ("a","bc") differ. */
    h = hash_bytes(h, &s.n, sizeof(s.n));
    return hash_bytes(h, s.p, s.n);
}

uint64_t record_identity(const tool_record_t *r)
{
    uint64_t h = HASH_SEED;

    h = hash_bytes(h, &r->time, sizeof(r->time));
    h = hash_bytes(h, &r->severity, sizeof(r->severity));
    h = hash_str(h, r->logger);
    h = hash_str(h, r->message);
    h = hash_str(h, r->event);
    h = hash_str(h, r->trace_id);
    h = hash_str(h, r->span_id);
    return h;
}

/* ---- flat -------------------------------------------------------------- */

static const char *parse_flat(const json_value_t *obj, record_list_t *out)
{
    const json_value_t *type = json_get(obj, "type");
    const json_value_t *message, *dropped;
    tool_record_t *r;
    tool_time_t t;

    if (type != NULL && !json_string_is(type, "span") && !json_string_is(type, "log"))
        return NULL; /* another kind of record, not ours to read */
    if (!iso_member(obj, "timestamp", &t)) {
        /* A span may lack "timestamp" but have "start". */
        if (!json_string_is(type, "span") || !iso_member(obj, "start", &t))
            return "no valid \"timestamp\"";
    }

    r = list_add(out);
    r->source = REC_FLAT;
    r->object = obj;
    r->time = t;
    r->trace_id = id_of(json_get(obj, "trace_id"));
    r->span_id = id_of(json_get(obj, "span_id"));
    r->correlation_id = member_str(obj, "correlation_id");
    dropped = json_get(obj, "dropped_attributes");
    if (dropped != NULL)
        json_to_u64(dropped, &r->dropped_attributes);

    if (json_string_is(type, "span")) {
        const json_value_t *d = json_get(obj, "duration_ms");

        r->kind = REC_SPAN;
        r->name = member_str(obj, "name");
        r->logger = member_str(obj, "scope");
        r->parent_span_id = id_of(json_get(obj, "parent_span_id"));
        r->span_kind = span_kind_from_text(member_str(obj, "kind"));
        r->status_code = status_from_text(member_str(obj, "status"));
        r->status_message = member_str(obj, "status_message");
        iso_member(obj, "start", &r->time);
        if (!iso_member(obj, "end", &r->end))
            r->end = r->time;
        if (d == NULL || !json_to_double(d, &r->duration_ms) || !isfinite(r->duration_ms))
            r->duration_ms = (double)(r->end - r->time) / 1000.0;
        r->events = json_get(obj, "events");
        if (r->events != NULL && r->events->type != JSON_ARRAY)
            r->events = NULL;
        return NULL;
    }

    r->kind = REC_LOG;
    r->level = member_str(obj, "level");
    r->severity = severity_from_text(r->level.p, r->level.n);
    r->logger = member_str(obj, "logger");
    r->event = member_str(obj, "event");
    message = json_get(obj, "message");
    if (message != NULL && message->type == JSON_STRING)
        r->message = str_of(message);
    else if (message != NULL && message->type != JSON_NULL)
        r->message_value = message;
    return NULL;
}

/* ---- otlp -------------------------------------------------------------- */

/* The string value of an AnyValue ({"stringValue": "..."}). */
static bool anyvalue_string(const json_value_t *value, tstr_t *out)
{
    const json_value_t *s = json_get(value, "stringValue");

    if (s == NULL || s->type != JSON_STRING)
        return false;
    *out = str_of(s);
    return true;
}

/* Takes event.name and correlation.id from the attributes, where the SDK
 * puts them in OTLP (the fields of the record win when both exist). */
static void otlp_attr_fields(tool_record_t *r)
{
    for (const json_value_t *kv = r->attrs != NULL ? r->attrs->first : NULL; kv != NULL;
         kv = kv->next) {
        tstr_t key = member_str(kv, "key"), value;

        if (!anyvalue_string(json_get(kv, "value"), &value))
            continue;
        if (r->event.n == 0 && tstr_eq(key, "event.name"))
            r->event = value;
        else if (r->correlation_id.n == 0 &&
                 (tstr_eq(key, "correlation.id") || tstr_eq(key, "correlation_id")))
            r->correlation_id = value;
    }
}

static const json_value_t *array_member(const json_value_t *obj, const char *key, bool *bad)
{
    const json_value_t *a = json_get(obj, key);

    if (a != NULL && a->type != JSON_ARRAY)
        *bad = true;
    return a != NULL && a->type == JSON_ARRAY ? a : NULL;
}

static void otlp_common(tool_record_t *r, const json_value_t *item, tstr_t scope)
{
    const json_value_t *dropped = json_get(item, "droppedAttributesCount");

    r->source = REC_OTLP;
    r->object = item;
    r->logger = scope;
    r->trace_id = id_of(json_get(item, "traceId"));
    r->span_id = id_of(json_get(item, "spanId"));
    r->attrs = json_get(item, "attributes");
    if (r->attrs != NULL && r->attrs->type != JSON_ARRAY)
        r->attrs = NULL;
    if (dropped != NULL)
        json_to_u64(dropped, &r->dropped_attributes);
}

static void otlp_log(const json_value_t *lr, tstr_t scope, record_list_t *out)
{
    tool_record_t *r = list_add(out);
    const json_value_t *sev = json_get(lr, "severityNumber");
    const json_value_t *body = json_get(lr, "body");
    int64_t n;

    otlp_common(r, lr, scope);
    r->kind = REC_LOG;
    if (!nanos_member(lr, "timeUnixNano", &r->time) &&
        !nanos_member(lr, "observedTimeUnixNano", &r->time))
        r->time = 0;
    r->level = member_str(lr, "severityText");
    if (json_to_i64(sev, &n) && n >= 1 && n <= 24)
        r->severity = (int)n;
    else if (sev != NULL && sev->type == JSON_STRING && sev->len > 16 &&
             memcmp(sev->str, "SEVERITY_NUMBER_", 16) == 0)
        r->severity = severity_from_text(sev->str + 16, sev->len - 16);
    else
        r->severity = severity_from_text(r->level.p, r->level.n);
    if (body != NULL && !anyvalue_string(body, &r->message) && body->type == JSON_OBJECT &&
        body->count > 0) {
        r->message_value = body;
        r->message_is_anyvalue = true;
    }
    r->event = member_str(lr, "eventName");
    otlp_attr_fields(r);
}

static void otlp_span(const json_value_t *sp, tstr_t scope, record_list_t *out)
{
    tool_record_t *r = list_add(out);
    const json_value_t *kind = json_get(sp, "kind");
    const json_value_t *status = json_get(sp, "status");
    const json_value_t *code = json_get(status, "code");
    int64_t n;

    otlp_common(r, sp, scope);
    r->kind = REC_SPAN;
    r->name = member_str(sp, "name");
    r->parent_span_id = id_of(json_get(sp, "parentSpanId"));
    if (!nanos_member(sp, "startTimeUnixNano", &r->time))
        r->time = 0;
    if (!nanos_member(sp, "endTimeUnixNano", &r->end))
        r->end = r->time;
    r->duration_ms = (double)(r->end - r->time) / 1000.0;
    if (json_to_i64(kind, &n) && n >= 0 && n <= 5)
        r->span_kind = (int)n;
    else
        r->span_kind = span_kind_from_text(str_of(kind));
    if (json_to_i64(code, &n) && n >= 0 && n <= 2)
        r->status_code = (int)n;
    else
        r->status_code = status_from_text(str_of(code));
    r->status_message = member_str(status, "message");
    r->events = json_get(sp, "events");
    if (r->events != NULL && r->events->type != JSON_ARRAY)
        r->events = NULL;
    otlp_attr_fields(r);
}

/*
 * Walks resource{Logs,Spans} -> scope{Logs,Spans} -> {logRecords,spans}.
 * Members of the wrong type make the line corrupt; missing ones are the
 * OTLP/JSON way of writing an empty list.
 */
static const char *parse_otlp(const json_value_t *root, bool logs, record_list_t *out)
{
    const char *k_resource = logs ? "resourceLogs" : "resourceSpans";
    const char *k_scope = logs ? "scopeLogs" : "scopeSpans";
    const char *k_items = logs ? "logRecords" : "spans";
    bool bad = false;
    const json_value_t *resources = array_member(root, k_resource, &bad);

    if (bad)
        return logs ? "\"resourceLogs\" is not an array" : "\"resourceSpans\" is not an array";
    for (const json_value_t *res = resources != NULL ? resources->first : NULL; res != NULL;
         res = res->next) {
        const json_value_t *scopes = array_member(res, k_scope, &bad);

        if (res->type != JSON_OBJECT || bad)
            return logs ? "bad \"scopeLogs\"" : "bad \"scopeSpans\"";
        for (const json_value_t *sc = scopes != NULL ? scopes->first : NULL; sc != NULL;
             sc = sc->next) {
            const json_value_t *items = array_member(sc, k_items, &bad);
            tstr_t scope = member_str(json_get(sc, "scope"), "name");

            if (sc->type != JSON_OBJECT || bad)
                return logs ? "bad \"logRecords\"" : "bad \"spans\"";
            for (const json_value_t *it = items != NULL ? items->first : NULL; it != NULL;
                 it = it->next) {
                if (it->type != JSON_OBJECT)
                    return logs ? "a log record is not an object" : "a span is not an object";
                if (logs)
                    otlp_log(it, scope, out);
                else
                    otlp_span(it, scope, out);
            }
        }
    }
    return NULL;
}

const char *record_parse(const json_value_t *root, record_list_t *out)
{
    const char *why;

    out->n = 0;
    if (root == NULL || root->type != JSON_OBJECT)
        return "not a JSON object";
    if (json_get(root, "resourceLogs") != NULL || json_get(root, "resourceSpans") != NULL) {
        why = parse_otlp(root, true, out);
        if (why == NULL)
            why = parse_otlp(root, false, out);
    } else {
        why = parse_flat(root, out);
    }
    if (why != NULL)
        out->n = 0;
    return why;
}
