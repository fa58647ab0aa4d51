/*
 * fuzz_resource_attributes.c: the OTEL_RESOURCE_ATTRIBUTES parser, through
 * otelc__resource_build() with opts->resource_attributes set to the input
 * (as a NUL-terminated heap copy of exactly its size; bytes after a NUL are
 * not seen, as with an environment variable).
 *
 * Invariants: the build succeeds; service.name comes first and is a string;
 * keys are unique and not empty; every string value is NUL-terminated at its
 * length; an accepted list (otelc__resource_attributes_error() gives NULL)
 * gives its last value for every key it names, checked with a decoder
 * written here; a rejected list contributes nothing.
 */
#include "fuzz_check.h"
#include "diag.h"
#include "resource.h"

#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Trims blanks and percent-decodes s[0 .. n) into out (NUL-terminated);
 * the list is known to be valid, so every '%' has two hex digits. */
static size_t trim_decode(const char *s, size_t n, char *out)
{
    size_t w = 0;

    while (n > 0 && blank(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && blank(s[n - 1]))
        n--;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            FUZZ_CHECK(i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0);
            out[w++] = (char)(hex(s[i + 1]) << 4 | hex(s[i + 2]));
            i += 2;
        } else {
            out[w++] = s[i];
        }
    }
    out[w] = '\0';
    return w;
}

static const otelc_attr_t *find(const otelc_resource_t *r, const char *key)
{
    for (size_t i = 0; i < r->n_attrs; i++)
        if (strcmp(r->attrs[i].key, key) == 0)
            return &r->attrs[i];
    return NULL;
}

/* The last value the list gives `key`, decoded into `out`; false if none. */
static bool list_value(const char *list, const char *key, char *key_buf, char *out, size_t *out_len)
{
    bool found = false;

    for (const char *p = list; p != NULL;) {
        const char *comma = strchr(p, ',');
        size_t n = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', n);

        if (eq != NULL) {
            trim_decode(p, (size_t)(eq - p), key_buf);
            if (strcmp(key_buf, key) == 0) {
                *out_len = trim_decode(eq + 1, n - (size_t)(eq + 1 - p), out);
                found = true;
            }
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return found;
}

/* Every key=value entry of a valid list is in the resource with its last value. */
static void check_list(const char *list, const otelc_resource_t *r, const otelc_options_t *opts)
{
    size_t n = strlen(list) + 1;
    char *key = malloc(n), *value = malloc(n), *scratch = malloc(n);

    FUZZ_CHECK(key != NULL && value != NULL && scratch != NULL);
    for (const char *p = list; p != NULL;) {
        const char *start = p, *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(start, '=', len);
        const otelc_attr_t *a;
        size_t value_len = 0;

        p = comma != NULL ? comma + 1 : NULL;
        if (eq == NULL)
            continue; /* only blanks, in a valid list */
        (void)trim_decode(start, (size_t)(eq - start), key);
        FUZZ_CHECK(key[0] != '\0');
        FUZZ_CHECK(list_value(list, key, scratch, value, &value_len));
        a = find(r, key);
        FUZZ_CHECK(a != NULL);
        if (strcmp(key, "service.name") == 0 && opts->service_name != NULL)
            continue;
        if (strcmp(key, "service.version") == 0 && opts->service_version != NULL)
            continue;
        FUZZ_CHECK(a->type == OTELC_ATTR_STRING);
        FUZZ_CHECK(a->len == value_len && memcmp(a->v.s, value, value_len) == 0);
    }
    free(key);
    free(value);
    free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc_options_t opts;
    otelc__resource_t r;
    const otelc_resource_t *pub = &r.pub;
    const otelc_attr_t *a;
    char *list = malloc(size + 1);
    size_t expected_min;
    bool valid;

    FUZZ_CHECK(list != NULL);
    if (size > 0)
        memcpy(list, data, size);
    list[size] = '\0';
    /* A rejected list is reported on stderr; thousands of lines help nobody. */
    otelc__diag_set_level(OTELC_DIAG_NONE);

    memset(&opts, 0, sizeof(opts));
    opts.resource_attributes = list;
    /* The last byte also decides whether the options name the service. */
    if (size > 0 && (data[size - 1] & 1))
        opts.service_name = "fuzz-service";
    if (size > 0 && (data[size - 1] & 2))
        opts.service_version = "9.9";

    memset(&r, 0xa5, sizeof(r));
    FUZZ_CHECK(otelc__resource_build(&opts, &r) == OTELC_OK);
    valid = otelc__resource_attributes_error(list) == NULL;

    /* The detected attributes: telemetry.sdk.*, process.pid at least. */
    expected_min = 1 + 4;
    FUZZ_CHECK(pub->n_attrs >= expected_min && pub->attrs != NULL);
    FUZZ_CHECK(strcmp(pub->attrs[0].key, "service.name") == 0);
    FUZZ_CHECK(pub->attrs[0].type == OTELC_ATTR_STRING);
    for (size_t i = 0; i < pub->n_attrs; i++) {
        a = &pub->attrs[i];
        FUZZ_CHECK(a->key != NULL && a->key[0] != '\0');
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(pub->attrs[j].key, a->key) != 0);
        if (a->type == OTELC_ATTR_STRING)
            FUZZ_CHECK(a->v.s != NULL && strlen(a->v.s) == a->len);
        else
            FUZZ_CHECK(a->type == OTELC_ATTR_INT && strcmp(a->key, "process.pid") == 0);
    }
    if (opts.service_name != NULL)
        FUZZ_CHECK(strcmp(pub->attrs[0].v.s, opts.service_name) == 0);
    if (opts.service_version != NULL) {
        a = find(pub, "service.version");
        FUZZ_CHECK(a == &pub->attrs[1] && strcmp(a->v.s, opts.service_version) == 0);
    }
    if (valid) {
        check_list(list, pub, &opts);
    } else {
        /* Nothing of the list is kept: service.name then, at most,
         * service.version from the options, then only detected keys. */
        size_t first = opts.service_version != NULL ? 2 : 1;
        if (opts.service_name == NULL)
            FUZZ_CHECK(strncmp(pub->attrs[0].v.s, "unknown_service", 15) == 0);
        for (size_t i = first; i < pub->n_attrs; i++) {
            const char *k = pub->attrs[i].key;
            FUZZ_CHECK(strcmp(k, "host.name") == 0 || strcmp(k, "process.pid") == 0 ||
                       strcmp(k, "process.executable.name") == 0 ||
                       strncmp(k, "telemetry.sdk.", 14) == 0);
        }
    }

    otelc__resource_free(&r);
    FUZZ_CHECK(r.mem == NULL);
    otelc__resource_free(&r);
    free(list);
    return 0;
}
