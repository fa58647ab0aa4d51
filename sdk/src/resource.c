/*
 * resource.c: the process's resource (service.name, host.name, ...).
 *
 * The resource is built once and read by every exporter batch until
 * shutdown, so it is laid out in one allocation: the attribute array, then
 * every key and value as a NUL-terminated copy. One free() releases it and
 * nothing in it points outside it.
 *
 * OTEL_RESOURCE_ATTRIBUTES (given to us as opts->resource_attributes) is
 * either taken whole or ignored whole. The specification says that on any
 * decoding error the entire value SHOULD be discarded; keeping the entries
 * that parse would be friendlier in one way, but a list with one broken
 * entry is usually broken by an unescaped ',' or '=' in a value, and the
 * pieces around it are then wrong too (a value cut in two becomes a bogus
 * key). A resource that is visibly missing its attributes, with a report on
 * stderr, is easier to notice and fix than one that is subtly wrong.
 */
#include <otelc/text.h>
#include "resource.h"
#include "diag.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

/* Room for a host name; POSIX allows 255 bytes plus the NUL. */
#define HOST_NAME_SIZE 256

/* One key=value entry of the list, trimmed, still percent-encoded. */
typedef struct entry {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
} entry_t;

/* Something the SDK detected about the process, appended after the list. */
typedef struct detected {
    const char *key;
    const char *value; /* NULL for the integer attribute */
    int64_t number;
} detected_t;

/* One of the otelc_attr_t being written and the string area behind them. */
typedef struct builder {
    otelc_attr_t *attrs;
    size_t n;
    char *str;
    size_t used;
} builder_t;

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && is_blank((*p)[0])) {
        (*p)++;
        (*n)--;
    }
    while (*n > 0 && is_blank((*p)[*n - 1]))
        (*n)--;
}

/* Every '%' must start an escape of two hex digits; "%00" would put a NUL
 * inside a key or value that readers take as NUL-terminated. */
static bool percent_valid(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '%')
            continue;
        if (i + 2 >= n || otelc_text_hex_value(p[i + 1]) < 0 || otelc_text_hex_value(p[i + 2]) < 0)
            return false;
        if (p[i + 1] == '0' && p[i + 2] == '0')
            return false;
        i += 2;
    }
    return true;
}

/* Decodes `n` checked bytes into `dst`, NUL-terminates, returns the length. */
static size_t percent_decode(const char *p, size_t n, char *dst)
{
    size_t out = 0;

    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%') {
            dst[out++] =
                (char)(otelc_text_hex_value(p[i + 1]) * 16 + otelc_text_hex_value(p[i + 2]));
            i += 2;
        } else {
            dst[out++] = p[i];
        }
    }
    dst[out] = '\0';
    return out;
}

/*
 * Takes the next entry from `*cursor` (NULL after the last one). Returns
 * NULL and fills `e` (e->key NULL for an empty entry, which is skipped), or
 * describes what is wrong with the entry.
 */
static const char *next_entry(const char **cursor, entry_t *e)
{
    const char *p = *cursor;
    const char *comma = strchr(p, ',');
    size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
    const char *eq;

    *cursor = comma != NULL ? comma + 1 : NULL;
    e->key = NULL;
    trim(&p, &n);
    if (n == 0)
        return NULL;
    eq = memchr(p, '=', n);
    if (eq == NULL)
        return "an entry has no '='";
    e->key = p;
    e->key_len = (size_t)(eq - p);
    e->value = eq + 1;
    e->value_len = n - e->key_len - 1;
    trim(&e->key, &e->key_len);
    trim(&e->value, &e->value_len);
    if (e->key_len == 0)
        return "an entry has an empty key";
    if (!percent_valid(e->key, e->key_len) || !percent_valid(e->value, e->value_len))
        return "an entry has an invalid percent escape";
    return NULL;
}

const char *otelc__resource_attributes_error(const char *list)
{
    const char *cursor = list;
    entry_t e;

    while (cursor != NULL) {
        const char *why = next_entry(&cursor, &e);

        if (why != NULL)
            return why;
    }
    return NULL;
}

/* ---- building ------------------------------------------------------------ */

static char *put(builder_t *b, const char *s, size_t n, bool decode, size_t *len)
{
    char *dst = b->str + b->used;

    if (decode) {
        n = percent_decode(s, n, dst);
    } else {
        memcpy(dst, s, n);
        dst[n] = '\0';
    }
    b->used += n + 1;
    if (len != NULL)
        *len = n;
    return dst;
}

static otelc_attr_t string_attr(const char *key, const char *value, size_t len)
{
    return (otelc_attr_t){ .key = key, .type = OTELC_ATTR_STRING, .len = len, .v = { .s = value } };
}

/* The length of a typed attribute's string value. */
static size_t typed_len(const otelc_attr_t *a)
{
    if (a->v.s == NULL)
        return 0;
    return a->len == OTELC_NUL_TERMINATED ? strlen(a->v.s) : a->len;
}

/* Index of `key` among attrs[from, to), or `to` when absent. */
static size_t find(const otelc_attr_t *attrs, size_t from, size_t to, const char *key)
{
    for (size_t i = from; i < to; i++) {
        if (strcmp(attrs[i].key, key) == 0)
            return i;
    }
    return to;
}

/*
 * The keys of the list and of the typed attributes, hashed, while they are
 * gathered: a duplicate is found in constant time, so that 60,000 entries
 * take milliseconds rather than the seconds a scan of the ones before each
 * took. Open addressing over a power of two of slots, at least twice the
 * entries; a slot holds an index into the attributes plus one (0: empty).
 */
typedef struct key_index {
    size_t *slots;
    size_t mask;
} key_index_t;

/* FNV-1a. */
static size_t key_hash(const char *key)
{
    uint64_t h = 14695981039346656037ull;

    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

static bool index_init(key_index_t *ix, size_t entries)
{
    size_t n = 16;

    while (n < 2 * entries)
        n *= 2;
    ix->slots = calloc(n, sizeof(*ix->slots));
    ix->mask = n - 1;
    return ix->slots != NULL;
}

/* Where attribute `key` is among attrs[0, *end): its index, or *end after
 * recording it there as a new one (the caller then fills attrs[*end - 1]). */
static size_t index_place(key_index_t *ix, const otelc_attr_t *attrs, size_t *end, const char *key)
{
    size_t i = key_hash(key) & ix->mask;

    while (ix->slots[i] != 0) {
        size_t at = ix->slots[i] - 1;

        if (strcmp(attrs[at].key, key) == 0)
            return at;
        i = (i + 1) & ix->mask;
    }
    ix->slots[i] = *end + 1;
    return (*end)++;
}

/* Removes attrs[i] from the list [from, *to), keeping the order; returns it. */
static otelc_attr_t take(otelc_attr_t *attrs, size_t i, size_t *to)
{
    otelc_attr_t a = attrs[i];

    memmove(&attrs[i], &attrs[i + 1], (*to - i - 1) * sizeof(*attrs));
    (*to)--;
    return a;
}

/* The executable's base name: /proc/self/exe first, as the semantic
 * conventions say for Linux, then what the C library saw in argv[0]. */
static const char *executable_name(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    const char *slash;

    if (n > 0) {
        static const char deleted[] = " (deleted)";
        size_t len = (size_t)n;

        /* A replaced binary still running reads "/path/prog (deleted)". */
        if (len > sizeof(deleted) - 1 &&
            memcmp(buf + len - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
            len -= sizeof(deleted) - 1;
        buf[len] = '\0';
    } else {
        snprintf(buf, size, "%s", program_invocation_short_name);
    }
    slash = strrchr(buf, '/');
    return slash != NULL ? slash + 1 : buf;
}

otelc_status_t otelc__resource_build(const otelc_options_t *opts, otelc__resource_t *out)
{
    static const char unknown_prefix[] = "unknown_service:";
    otelc_status_t status = OTELC_OK;
    char host[HOST_NAME_SIZE];
    char exe_buf[PATH_MAX];
    const char *exe, *list = NULL, *service_name = NULL, *service_version = NULL;
    const char *cursor, *why;
    const otelc_attr_t *typed = NULL;
    size_t n_typed = 0;
    detected_t detected[6];
    size_t n_detected = 0, n_entries = 0, attrs_size, bytes, end;
    builder_t b;
    entry_t e;
    key_index_t ix = { NULL, 0 };
    bool has_version;

    if (out == NULL)
        return OTELC_ERR_INVALID;
    memset(out, 0, sizeof(*out));

    if (opts != NULL) {
        list = opts->resource_attributes;
        if (opts->resource_attrs != NULL) {
            typed = opts->resource_attrs;
            n_typed = opts->n_resource_attrs;
        }
        if (opts->service_name != NULL && opts->service_name[0] != '\0')
            service_name = opts->service_name;
        if (opts->service_version != NULL && opts->service_version[0] != '\0')
            service_version = opts->service_version;
    }
    if (list != NULL && (why = otelc__resource_attributes_error(list)) != NULL) {
        /* The key is the environment reader's, so that when it has just
         * reported the same list this line is folded into that one. */
        otelc__diag(OTELC_DIAG_WARN, "config.OTEL_RESOURCE_ATTRIBUTES",
                    "ignoring the resource attributes '%.200s': %s", list, why);
        list = NULL;
    }

    exe = executable_name(exe_buf, sizeof(exe_buf));
    if (gethostname(host, sizeof(host) - 1) == 0) {
        host[sizeof(host) - 1] = '\0';
        if (host[0] != '\0')
            detected[n_detected++] = (detected_t){ "host.name", host, 0 };
    }
    detected[n_detected++] = (detected_t){ "process.pid", NULL, (int64_t)getpid() };
    if (exe[0] != '\0')
        detected[n_detected++] = (detected_t){ "process.executable.name", exe, 0 };
    detected[n_detected++] = (detected_t){ "telemetry.sdk.name", "otelc", 0 };
    /* The semantic conventions' list of SDK languages (cpp, go, java, ...)
     * has no C, but the attribute is open to other values. otelc is not
     * opentelemetry-cpp: a backend that groups or checks SDKs by "cpp" would
     * be misled, while "c" says truthfully what this is. */
    detected[n_detected++] = (detected_t){ "telemetry.sdk.language", "c", 0 };
    detected[n_detected++] = (detected_t){ "telemetry.sdk.version", OTELC_VERSION_STRING, 0 };

    /* Sizes, as upper bounds: decoding only shortens, and duplicates in the
     * list only take less room than counted. */
    bytes = sizeof("service.name") + sizeof(unknown_prefix) + strlen(exe) + 1;
    if (service_name != NULL)
        bytes += strlen(service_name) + 1;
    bytes += sizeof("service.version");
    if (service_version != NULL)
        bytes += strlen(service_version) + 1;
    if (list != NULL) {
        /* Each entry ends at a ',' or at the end: one count of the commas
         * bounds the entries (the list has been checked already). */
        bytes += strlen(list) + 1;
        n_entries = 1;
        for (cursor = strchr(list, ','); cursor != NULL; cursor = strchr(cursor + 1, ','))
            n_entries++;
        bytes += 2 * n_entries;
    }
    for (size_t i = 0; i < n_typed; i++) {
        bytes += strlen(typed[i].key) + 1;
        if (typed[i].type == OTELC_ATTR_STRING)
            bytes += typed_len(&typed[i]) + 1;
    }
    n_entries += n_typed;
    for (size_t i = 0; i < n_detected; i++) {
        bytes += strlen(detected[i].key) + 1;
        if (detected[i].value != NULL)
            bytes += strlen(detected[i].value) + 1;
    }
    attrs_size = (2 + n_entries + n_detected) * sizeof(otelc_attr_t);

    out->mem = malloc(attrs_size + bytes);
    if (out->mem == NULL) {
        status = OTELC_ERR_NOMEM;
        goto fail;
    }
    b = (builder_t){ .attrs = out->mem, .n = 0, .str = (char *)out->mem + attrs_size, .used = 0 };
    if (!index_init(&ix, n_entries)) {
        status = OTELC_ERR_NOMEM;
        goto fail;
    }

    /* The list goes to attrs[2...] first; service.name and service.version
     * are then moved out of it to the front. A later duplicate key replaces
     * the earlier value where the earlier one stood. */
    end = 2;
    for (cursor = list; cursor != NULL;) {
        const char *key, *value;
        size_t key_len, value_len, at;

        (void)next_entry(&cursor, &e);
        if (e.key == NULL)
            continue;
        key = put(&b, e.key, e.key_len, true, &key_len);
        value = put(&b, e.value, e.value_len, true, &value_len);
        at = index_place(&ix, b.attrs, &end, key);
        b.attrs[at] = string_attr(key, value, value_len);
    }

    /* The typed attributes, over the list's entries of the same key. */
    for (size_t i = 0; i < n_typed; i++) {
        const otelc_attr_t *t = &typed[i];
        otelc_attr_t a;
        size_t at;

        if (t->key == NULL || t->key[0] == '\0' ||
            (t->type != OTELC_ATTR_STRING && t->type != OTELC_ATTR_BOOL &&
             t->type != OTELC_ATTR_INT && t->type != OTELC_ATTR_DOUBLE)) {
            char dkey[48];

            snprintf(dkey, sizeof(dkey), "config.resource_attrs.%zu", i);
            otelc__diag(OTELC_DIAG_WARN, dkey, "resource attribute %zu: %s; ignored", i,
                        t->key == NULL || t->key[0] == '\0'
                            ? "no key"
                            : "only string, bool, int and double values are kept");
            continue;
        }
        a = *t;
        a.key = put(&b, t->key, strlen(t->key), false, NULL);
        a.key_len = 0;
        if (t->type == OTELC_ATTR_STRING)
            a.v.s = put(&b, t->v.s != NULL ? t->v.s : "", typed_len(t), false, &a.len);
        at = index_place(&ix, b.attrs, &end, a.key);
        b.attrs[at] = a;
    }
    /* From here the attributes move (service.name and service.version to
     * the front), and the few lookups left are single scans. */
    free(ix.slots);
    ix.slots = NULL;

    {
        size_t at = find(b.attrs, 2, end, "service.name");
        otelc_attr_t from_list = { 0 };
        const char *key = put(&b, "service.name", strlen("service.name"), false, NULL);
        const char *value;
        size_t len;

        if (at < end)
            from_list = take(b.attrs, at, &end);
        if (service_name != NULL) {
            value = put(&b, service_name, strlen(service_name), false, &len);
        } else if (from_list.key != NULL && from_list.type == OTELC_ATTR_STRING) {
            value = from_list.v.s;
            len = from_list.len;
        } else {
            value = b.str + b.used;
            len = (size_t)snprintf(b.str + b.used, bytes - b.used, "%s%s",
                                   exe[0] != '\0' ? unknown_prefix : "unknown_service", exe);
            b.used += len + 1;
        }
        b.attrs[0] = string_attr(key, value, len);
    }

    has_version = false;
    {
        size_t at = find(b.attrs, 2, end, "service.version");
        otelc_attr_t from_list = { 0 };
        size_t len = 0;
        const char *value = NULL;

        if (at < end)
            from_list = take(b.attrs, at, &end);
        if (service_version != NULL) {
            value = put(&b, service_version, strlen(service_version), false, &len);
        } else if (from_list.key != NULL && from_list.type == OTELC_ATTR_STRING) {
            value = from_list.v.s;
            len = from_list.len;
        }
        if (value != NULL) {
            const char *key = put(&b, "service.version", strlen("service.version"), false, NULL);

            b.attrs[1] = string_attr(key, value, len);
            has_version = true;
        }
    }
    if (!has_version) {
        memmove(&b.attrs[1], &b.attrs[2], (end - 2) * sizeof(otelc_attr_t));
        end--;
    }
    b.n = end;

    for (size_t i = 0; i < n_detected; i++) {
        const char *key, *value;
        size_t len;

        if (find(b.attrs, 0, b.n, detected[i].key) < b.n)
            continue;
        key = put(&b, detected[i].key, strlen(detected[i].key), false, NULL);
        if (detected[i].value == NULL) {
            b.attrs[b.n++] = (otelc_attr_t){
                .key = key, .type = OTELC_ATTR_INT, .len = 0, .v = { .i = detected[i].number }
            };
            continue;
        }
        value = put(&b, detected[i].value, strlen(detected[i].value), false, &len);
        b.attrs[b.n++] = string_attr(key, value, len);
    }

    out->pub.attrs = b.attrs;
    out->pub.n_attrs = b.n;
    return OTELC_OK;

fail:
    free(ix.slots);
    otelc__resource_free(out);
    return status;
}

void otelc__resource_free(otelc__resource_t *r)
{
    if (r == NULL)
        return;
    free(r->mem);
    memset(r, 0, sizeof(*r));
}
