/*
 * fallback.c: the fallback file's lines, written and read back (see
 * fallback.h). The lines are the file exporter's flat format; reading one
 * back turns its members into the record they came from: the fixed keys
 * into the record's fields, the others (and those under "attributes") into
 * its attributes, with the types JSON gives them (a number with a point or
 * an exponent is a double, one without an integer), which the row builder
 * writes back as the same JSON.
 */
#include "fallback.h"

#include <errno.h>
#include <fcntl.h>
#include <otelc/log.h>
#include <otelc/text.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "json_read.h"

/* ---- writing ------------------------------------------------------------------------- */

/* The flat line without its closing "}\n", then the otelc_pg member. */
static void open_member(otelc__fbuf_t *b, size_t line_start, const otelc_str_t *service)
{
    if (!b->failed && b->len >= line_start + 2)
        b->len -= 2;
    OTELC__FBUF_LITERAL(b, ",\"otelc_pg\":{\"service\":");
    otelc__json_string(b, service->ptr, service->len);
}

void otelc__pg_fallback_log(otelc__fbuf_t *b, const otelc_log_data_t *r, const otelc_str_t *service,
                            const uint8_t record_id[16])
{
    size_t start = b->len;

    otelc__flat_log(b, r);
    open_member(b, start, service);
    OTELC__FBUF_LITERAL(b, ",\"severity\":");
    otelc__json_i64(b, r->severity);
    OTELC__FBUF_LITERAL(b, ",\"record_id\":");
    otelc__json_hex(b, record_id, 16);
    OTELC__FBUF_LITERAL(b, "}}\n");
}

void otelc__pg_fallback_span(otelc__fbuf_t *b, const otelc_span_data_t *s,
                             const otelc_str_t *service, const otelc_resource_t *resource)
{
    size_t start = b->len;

    otelc__flat_span(b, s);
    open_member(b, start, service);
    if (resource != NULL && resource->n_attrs > 0) {
        OTELC__FBUF_LITERAL(b, ",\"resource\":");
        otelc__flat_attrs(b, resource->attrs, resource->n_attrs);
    }
    OTELC__FBUF_LITERAL(b, "}}\n");
}

bool otelc__pg_fallback_append(const char *path, const char *lines, size_t n, char *err,
                               size_t err_size)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    size_t at = 0;
    bool ok = fd >= 0;

    while (ok && at < n) {
        ssize_t w = write(fd, lines + at, n - at);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = false;
            break;
        }
        at += (size_t)w;
    }
    if (ok && fdatasync(fd) != 0)
        ok = false;
    if (!ok)
        snprintf(err, err_size, "%s", strerror(errno != 0 ? errno : EIO));
    if (fd >= 0 && !ok && at > 0) {
        /* Take back what half went: a later append must not follow a
         * partial line (the reader would lose the next record with it).
         * Should that fail too, the reader skips the partial line. */
        off_t end = lseek(fd, 0, SEEK_END);

        if (end >= (off_t)at)
            (void)!ftruncate(fd, end - (off_t)at);
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

/* ---- reading back ---------------------------------------------------------------------- */

/* A block of memory for the records of one batch. */
typedef struct block {
    struct block *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
} block_t;

/* A batch of one signal as it is read. */
typedef struct batch_of {
    void *records; /* otelc_log_data_t or otelc_span_data_t */
    otelc_str_t *services;
    uint8_t *ids;
    otelc_resource_t *resources;
    size_t n, cap;
} batch_of_t;

struct otelc__pg_replayed {
    json_arena_t json;
    block_t *blocks;
    batch_of_t logs, spans;
};

otelc__pg_replayed_t *otelc__pg_replayed_create(void)
{
    otelc__pg_replayed_t *rp = calloc(1, sizeof(*rp));

    if (rp != NULL)
        json_arena_init(&rp->json);
    return rp;
}

static void free_blocks(otelc__pg_replayed_t *rp)
{
    while (rp->blocks != NULL) {
        block_t *next = rp->blocks->next;

        free(rp->blocks);
        rp->blocks = next;
    }
}

void otelc__pg_replayed_reset(otelc__pg_replayed_t *rp)
{
    json_arena_reset(&rp->json);
    free_blocks(rp);
    rp->logs.n = 0;
    rp->spans.n = 0;
}

static void free_batch(batch_of_t *b)
{
    free(b->records);
    free(b->services);
    free(b->ids);
    free(b->resources);
}

void otelc__pg_replayed_free(otelc__pg_replayed_t *rp)
{
    if (rp == NULL)
        return;
    json_arena_free(&rp->json);
    free_blocks(rp);
    free_batch(&rp->logs);
    free_batch(&rp->spans);
    free(rp);
}

/* n bytes that live until the next reset, zeroed; NULL when out of memory. */
static void *take(otelc__pg_replayed_t *rp, size_t n)
{
    block_t *b = rp->blocks;

    n = (n + 15u) & ~(size_t)15u;
    if (b == NULL || b->size - b->used < n) {
        size_t size = n > 65536 ? n : 65536;

        b = malloc(sizeof(*b) + size);
        if (b == NULL)
            return NULL;
        b->next = rp->blocks;
        b->used = 0;
        b->size = size;
        rp->blocks = b;
    }
    b->used += n;
    memset(b->data + b->used - n, 0, n);
    return b->data + b->used - n;
}

/* A NUL-terminated copy of a JSON string (the tree may point into the line,
 * where strings are not terminated). */
static const char *copy_str(otelc__pg_replayed_t *rp, const json_value_t *v, size_t *len)
{
    char *s;

    *len = 0;
    if (v == NULL || v->type != JSON_STRING)
        return "";
    s = take(rp, v->len + 1);
    if (s == NULL)
        return "";
    memcpy(s, v->str, v->len);
    *len = v->len;
    return s;
}

static otelc_str_t str_of(otelc__pg_replayed_t *rp, const json_value_t *v)
{
    otelc_str_t s;

    s.ptr = copy_str(rp, v, &s.len);
    return s;
}

/* `n` bytes from a JSON string of 2n hex digits; false otherwise. */
static bool hex_of(const json_value_t *v, uint8_t *out, size_t n)
{
    if (v == NULL || v->type != JSON_STRING || v->len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int hi = otelc_text_hex_value((unsigned char)v->str[2 * i]),
            lo = otelc_text_hex_value((unsigned char)v->str[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

/* "2026-11-21T10:30:00.123456Z" (the flat format's times) as ns. */
static bool time_of(const json_value_t *v, uint64_t *ns)
{
    unsigned y, mo, d, h, mi, s, us;
    char z;
    int64_t days, yy;
    unsigned mp, doy;

    if (v == NULL || v->type != JSON_STRING || v->len != 27 || v->str[26] != 'Z')
        return false;
    if (sscanf(v->str, "%4u-%2u-%2uT%2u:%2u:%2u.%6u%c", &y, &mo, &d, &h, &mi, &s, &us, &z) != 8 ||
        mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || y < 1970)
        return false;
    /* Days from the civil date (Howard Hinnant's algorithm). */
    yy = (int64_t)y - (mo <= 2);
    mp = mo > 2 ? mo - 3 : mo + 9;
    doy = (153 * mp + 2) / 5 + d - 1;
    days = yy / 400 * 146097 +
           (int64_t)((yy % 400) * 365 + (yy % 400) / 4 - (yy % 400) / 100 + doy) - 719468;
    *ns = ((uint64_t)days * 86400u + h * 3600u + mi * 60u + s) * 1000000000u + (uint64_t)us * 1000u;
    return true;
}

/* The word of `v` among `words` (its index), or `fallback`. */
static int word_of(const json_value_t *v, const char *const *words, int n, int fallback)
{
    for (int i = 0; v != NULL && v->type == JSON_STRING && i < n; i++) {
        if (strlen(words[i]) == v->len && memcmp(words[i], v->str, v->len) == 0)
            return i;
    }
    return fallback;
}

static bool is_number_int(const json_value_t *v)
{
    return memchr(v->str, '.', v->len) == NULL && memchr(v->str, 'e', v->len) == NULL &&
           memchr(v->str, 'E', v->len) == NULL;
}

/* Attribute `a` from the JSON value `v` under `key`; false to skip it. */
static bool attr_of(otelc__pg_replayed_t *rp, const char *key, size_t key_len,
                    const json_value_t *v, otelc_attr_t *a)
{
    char *k = take(rp, key_len + 1);

    if (k == NULL)
        return false;
    memcpy(k, key, key_len);
    memset(a, 0, sizeof(*a));
    a->key = k;
    a->key_len = key_len;
    switch (v->type) {
    case JSON_STRING:
        a->type = OTELC_ATTR_STRING;
        a->v.s = copy_str(rp, v, &a->len);
        return true;
    case JSON_TRUE:
    case JSON_FALSE:
        a->type = OTELC_ATTR_BOOL;
        a->v.b = v->type == JSON_TRUE;
        return true;
    case JSON_NUMBER: {
        char num[64];

        snprintf(num, sizeof(num), "%.*s", (int)(v->len < 63 ? v->len : 63), v->str);
        if (is_number_int(v)) {
            errno = 0;
            a->v.i = strtoll(num, NULL, 10);
            if (errno == 0) {
                a->type = OTELC_ATTR_INT;
                return true;
            }
        }
        a->type = OTELC_ATTR_DOUBLE;
        a->v.d = strtod(num, NULL);
        return true;
    }
    case JSON_ARRAY: {
        const json_value_t *e = v->first;
        size_t n = v->count, i = 0;

        /* Typed by the first element, as the flat format wrote them. */
        if (e == NULL || e->type == JSON_STRING) {
            const char **sa = take(rp, (n + 1) * sizeof(*sa));

            if (sa == NULL)
                return false;
            for (; e != NULL; e = e->next) {
                size_t len;

                sa[i++] = copy_str(rp, e, &len);
            }
            a->type = OTELC_ATTR_STRING_ARRAY;
            a->v.sa = sa;
        } else if (e->type == JSON_TRUE || e->type == JSON_FALSE) {
            bool *ba = take(rp, (n + 1) * sizeof(*ba));

            if (ba == NULL)
                return false;
            for (; e != NULL; e = e->next)
                ba[i++] = e->type == JSON_TRUE;
            a->type = OTELC_ATTR_BOOL_ARRAY;
            a->v.ba = ba;
        } else if (e->type == JSON_NUMBER && is_number_int(e)) {
            int64_t *ia = take(rp, (n + 1) * sizeof(*ia));

            if (ia == NULL)
                return false;
            for (; e != NULL; e = e->next)
                ia[i++] = e->type == JSON_NUMBER ? strtoll(e->str, NULL, 10) : 0;
            a->type = OTELC_ATTR_INT_ARRAY;
            a->v.ia = ia;
        } else {
            double *da = take(rp, (n + 1) * sizeof(*da));

            if (da == NULL)
                return false;
            for (; e != NULL; e = e->next)
                da[i++] = e->type == JSON_NUMBER ? strtod(e->str, NULL) : 0;
            a->type = OTELC_ATTR_DOUBLE_ARRAY;
            a->v.da = da;
        }
        a->len = i;
        return true;
    }
    default:
        return false; /* null, objects: not attribute values of the flat format */
    }
}

/* The attributes of an object: its members but the fixed keys (when
 * `skip_fixed`) and `skip` (the otelc_pg member), then those of its
 * "attributes" object (keys that collided with a fixed key). */
static otelc_attr_t *attrs_of(otelc__pg_replayed_t *rp, const json_value_t *obj, bool skip_fixed,
                              const json_value_t *skip, uint32_t *n_out)
{
    const json_value_t *nested = skip_fixed ? json_get(obj, "attributes") : NULL;
    size_t cap = obj->count + (nested != NULL && nested->type == JSON_OBJECT ? nested->count : 0);
    otelc_attr_t *attrs = take(rp, (cap + 1) * sizeof(*attrs));
    uint32_t n = 0;

    *n_out = 0;
    if (attrs == NULL)
        return NULL;
    for (const json_value_t *m = obj->first; m != NULL; m = m->next) {
        if (m == skip || (skip_fixed && otelc__flat_fixed_key(m->key, m->key_len)))
            continue;
        if (attr_of(rp, m->key, m->key_len, m, &attrs[n]))
            n++;
    }
    if (nested != NULL && nested->type == JSON_OBJECT) {
        for (const json_value_t *m = nested->first; m != NULL; m = m->next) {
            if (attr_of(rp, m->key, m->key_len, m, &attrs[n]))
                n++;
        }
    }
    *n_out = n;
    return attrs;
}

/* The pipeline gives a record with a correlation id the attribute
 * correlation.id too, which the flat line leaves out as a repeat of its
 * "correlation_id": it is put back (attrs_of() left room for one more). */
static void with_correlation(otelc_attr_t *attrs, uint32_t *n, const otelc_str_t *corr)
{
    if (attrs == NULL || corr->len == 0)
        return;
    for (uint32_t i = 0; i < *n; i++) {
        if (strcmp(attrs[i].key, "correlation.id") == 0)
            return;
    }
    attrs[*n] = (otelc_attr_t)OTELC_STRN("correlation.id", corr->ptr, corr->len);
    (*n)++;
}

static uint32_t u32_of(const json_value_t *v)
{
    return v != NULL && v->type == JSON_NUMBER ? (uint32_t)strtoul(v->str, NULL, 10) : 0;
}

static const otelc_scope_info_t *scope_of(otelc__pg_replayed_t *rp, const json_value_t *v)
{
    otelc_scope_info_t *sc;

    if (v == NULL || v->type != JSON_STRING)
        return NULL;
    sc = take(rp, sizeof(*sc));
    if (sc == NULL)
        return NULL;
    sc->name = str_of(rp, v);
    sc->version = (otelc_str_t){ "", 0 };
    return sc;
}

/* Room for one more record in `b` (elements of `size` bytes). */
static bool grow(batch_of_t *b, size_t size)
{
    size_t cap = b->cap != 0 ? 2 * b->cap : 256;
    void *records, *services, *ids, *resources;

    if (b->n < b->cap)
        return true;
    records = realloc(b->records, cap * size);
    if (records != NULL)
        b->records = records;
    services = realloc(b->services, cap * sizeof(*b->services));
    if (services != NULL)
        b->services = services;
    ids = realloc(b->ids, cap * 16);
    if (ids != NULL)
        b->ids = ids;
    resources = realloc(b->resources, cap * sizeof(*b->resources));
    if (resources != NULL)
        b->resources = resources;
    if (records == NULL || services == NULL || ids == NULL || resources == NULL)
        return false;
    b->cap = cap;
    return true;
}

static const char *const kinds[] = { "UNSPECIFIED", "INTERNAL", "SERVER",
                                     "CLIENT",      "PRODUCER", "CONSUMER" };
static const char *const statuses[] = { "UNSET", "OK", "ERROR" };

static bool read_span(otelc__pg_replayed_t *rp, const json_value_t *root, const json_value_t *pg,
                      otelc_span_data_t *s, otelc_resource_t *res, const char **why)
{
    const json_value_t *events = json_get(root, "events"), *links = json_get(root, "links");
    const json_value_t *resource = json_get(pg, "resource");
    otelc_attr_t *own;

    memset(s, 0, sizeof(*s));
    if (!hex_of(json_get(root, "trace_id"), s->ctx.trace_id, OTELC_TRACE_ID_SIZE) ||
        !hex_of(json_get(root, "span_id"), s->ctx.span_id, OTELC_SPAN_ID_SIZE) ||
        !time_of(json_get(root, "start"), &s->start_ns) ||
        !time_of(json_get(root, "end"), &s->end_ns)) {
        *why = "a span without its ids or times";
        return false;
    }
    (void)hex_of(json_get(root, "parent_span_id"), s->parent_span_id, OTELC_SPAN_ID_SIZE);
    s->ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED;
    s->name = str_of(rp, json_get(root, "name"));
    s->kind = (otelc_span_kind_t)word_of(json_get(root, "kind"), kinds, 6, 1);
    s->status_code = (otelc_status_code_t)word_of(json_get(root, "status"), statuses, 3, 0);
    s->status_message = str_of(rp, json_get(root, "status_message"));
    s->correlation_id = str_of(rp, json_get(root, "correlation_id"));
    s->trace_state = (otelc_str_t){ "", 0 };
    s->scope = scope_of(rp, json_get(root, "scope"));
    own = attrs_of(rp, root, true, pg, &s->n_attrs);
    with_correlation(own, &s->n_attrs, &s->correlation_id);
    s->attrs = own;
    s->dropped_attrs = u32_of(json_get(root, "dropped_attributes"));
    if (events != NULL && events->type == JSON_ARRAY && events->count > 0) {
        otelc_event_data_t *ev = take(rp, events->count * sizeof(*ev));
        const json_value_t *e = events->first;

        for (uint32_t i = 0; ev != NULL && e != NULL; e = e->next) {
            const json_value_t *attrs = json_get(e, "attributes");

            ev[i].name = str_of(rp, json_get(e, "name"));
            (void)time_of(json_get(e, "timestamp"), &ev[i].time_ns);
            if (attrs != NULL && attrs->type == JSON_OBJECT)
                ev[i].attrs = attrs_of(rp, attrs, false, NULL, &ev[i].n_attrs);
            s->n_events = ++i;
        }
        s->events = ev;
    }
    if (links != NULL && links->type == JSON_ARRAY && links->count > 0) {
        otelc_link_data_t *ln = take(rp, links->count * sizeof(*ln));
        const json_value_t *l = links->first;

        for (uint32_t i = 0; ln != NULL && l != NULL; l = l->next) {
            const json_value_t *attrs = json_get(l, "attributes");

            (void)hex_of(json_get(l, "trace_id"), ln[i].ctx.trace_id, OTELC_TRACE_ID_SIZE);
            (void)hex_of(json_get(l, "span_id"), ln[i].ctx.span_id, OTELC_SPAN_ID_SIZE);
            if (attrs != NULL && attrs->type == JSON_OBJECT)
                ln[i].attrs = attrs_of(rp, attrs, false, NULL, &ln[i].n_attrs);
            s->n_links = ++i;
        }
        s->links = ln;
    }
    memset(res, 0, sizeof(*res));
    if (resource != NULL && resource->type == JSON_OBJECT) {
        uint32_t n;

        res->attrs = attrs_of(rp, resource, false, NULL, &n);
        res->n_attrs = n;
    }
    return true;
}

static bool read_log(otelc__pg_replayed_t *rp, const json_value_t *root, const json_value_t *pg,
                     otelc_log_data_t *r, uint8_t id[16], const char **why)
{
    const json_value_t *sev = json_get(pg, "severity");
    otelc_attr_t *attrs;

    memset(r, 0, sizeof(*r));
    if (!time_of(json_get(root, "timestamp"), &r->time_ns) ||
        !hex_of(json_get(pg, "record_id"), id, 16)) {
        *why = "a log record without its time or record id";
        return false;
    }
    r->observed_time_ns = r->time_ns;
    r->severity = sev != NULL && sev->type == JSON_NUMBER ? (int)strtol(sev->str, NULL, 10) : 9;
    r->severity_text = (otelc_str_t){ "", 0 };
    r->body = str_of(rp, json_get(root, "message"));
    r->event_name = str_of(rp, json_get(root, "event"));
    r->correlation_id = str_of(rp, json_get(root, "correlation_id"));
    r->scope = scope_of(rp, json_get(root, "logger"));
    (void)hex_of(json_get(root, "trace_id"), r->ctx.trace_id, OTELC_TRACE_ID_SIZE);
    (void)hex_of(json_get(root, "span_id"), r->ctx.span_id, OTELC_SPAN_ID_SIZE);
    attrs = attrs_of(rp, root, true, pg, &r->n_attrs);
    with_correlation(attrs, &r->n_attrs, &r->correlation_id);
    r->attrs = attrs;
    r->dropped_attrs = u32_of(json_get(root, "dropped_attributes"));
    return true;
}

otelc_signal_t otelc__pg_replayed_add(otelc__pg_replayed_t *rp, const char *line, size_t len,
                                      const char **why)
{
    json_value_t *root;
    json_error_t err;
    const json_value_t *pg = NULL, *type;
    bool span;
    batch_of_t *b;
    size_t i;

    if (!json_parse(&rp->json, line, len, &root, &err) || root->type != JSON_OBJECT) {
        *why = "not a JSON object (a line written in part?)";
        return 0;
    }
    /* Ours is the last member of that name: an attribute may have it too. */
    for (const json_value_t *m = root->first; m != NULL; m = m->next) {
        if (m->key_len == 8 && memcmp(m->key, "otelc_pg", 8) == 0 && m->type == JSON_OBJECT)
            pg = m;
    }
    if (pg == NULL) {
        *why = "no otelc_pg member: not a line of the PostgreSQL exporter";
        return 0;
    }
    type = json_get(root, "type");
    span = type != NULL && json_string_is(type, "span");
    b = span ? &rp->spans : &rp->logs;
    if (!grow(b, span ? sizeof(otelc_span_data_t) : sizeof(otelc_log_data_t))) {
        *why = "out of memory";
        return 0;
    }
    i = b->n;
    b->services[i] = str_of(rp, json_get(pg, "service"));
    memset(&b->resources[i], 0, sizeof(b->resources[i]));
    if (span ? !read_span(rp, root, pg, (otelc_span_data_t *)b->records + i, &b->resources[i], why)
             : !read_log(rp, root, pg, (otelc_log_data_t *)b->records + i, b->ids + 16 * i, why))
        return 0;
    b->n++;
    return span ? OTELC_SIGNAL_TRACES : OTELC_SIGNAL_LOGS;
}

size_t otelc__pg_replayed_batch(otelc__pg_replayed_t *rp, otelc_signal_t signal,
                                const void **records, const otelc_str_t **services,
                                const uint8_t **record_ids, const otelc_resource_t **resources)
{
    batch_of_t *b = signal == OTELC_SIGNAL_TRACES ? &rp->spans : &rp->logs;

    *records = b->records;
    *services = b->services;
    *record_ids = b->ids;
    *resources = b->resources;
    return b->n;
}
