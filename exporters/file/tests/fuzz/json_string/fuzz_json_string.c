/*
 * fuzz_json_string.c: the JSON string and number writers of the file
 * exporter (exporters/file/json.h), read back by json-c.
 *
 * The input is any bytes. It is written:
 * - as a JSON string (otelc__json_string), and as a key (otelc__json_key);
 * - in a flat log line, as the message, as the value of the attribute "fz",
 *   and (up to its first NUL) as the key of another attribute, found at the
 *   top level or, named like a fixed key, under "attributes";
 * - its first 8 bytes, when there are 8, as a double, alone and as an
 *   attribute.
 *
 * Invariants:
 * - every output parses with json-c in strict mode with UTF-8 validation,
 *   as exactly one JSON text;
 * - each string reads back as the reference decoding of the input below:
 *   well-formed UTF-8 kept, each maximal subpart of an ill-formed sequence
 *   replaced by one U+FFFD (Unicode chapter 3, "U+FFFD Substitution of
 *   Maximal Subparts"), every other byte as it is;
 * - the double reads back with the same bits, or as "NaN", "Infinity",
 *   "-Infinity".
 *
 * The reference decoder does not share the writer's table of byte ranges:
 * which byte strings start a well-formed sequence is learned once by
 * encoding every Unicode scalar value.
 */
#include "fuzz_check.h"

#include <json-c/json.h>

#include <math.h>
#include <string.h>

#include "format.h"
#include "json.h"
#include <otelc/text.h>

/* ---- the reference decoder ----------------------------------------------- */

static bool ready;
static uint8_t seq_len[256];            /* encoded length of a lead byte; 0: never leads */
static uint8_t prefix2[65536 / 8];      /* two bytes that start a well-formed sequence */
static uint8_t prefix3[(1u << 24) / 8]; /* three bytes that start one */

static void set_bit(uint8_t *bits, uint32_t i)
{
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

static bool bit(const uint8_t *bits, uint32_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1u;
}

/* The UTF-8 encoding of a scalar value of 2 to 4 bytes (RFC 3629). */
static size_t encode(uint32_t cp, uint8_t *e)
{
    if (cp < 0x800) {
        e[0] = (uint8_t)(0xc0 | cp >> 6);
        e[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        e[0] = (uint8_t)(0xe0 | cp >> 12);
        e[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        e[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    e[0] = (uint8_t)(0xf0 | cp >> 18);
    e[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    e[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    e[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

static void learn(void)
{
    for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
        uint8_t e[4];
        size_t n;

        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        n = encode(cp, e);
        seq_len[e[0]] = (uint8_t)n;
        set_bit(prefix2, (uint32_t)e[0] << 8 | e[1]);
        if (n >= 3)
            set_bit(prefix3, (uint32_t)e[0] << 16 | (uint32_t)e[1] << 8 | e[2]);
    }
    ready = true;
}

/*
 * Decodes `n` bytes into `out` (room for 3n bytes): bytes below 0x80 as they
 * are; at a byte of 0x80 and up, the longest start of a well-formed
 * sequence: kept when it is the whole sequence, else one U+FFFD for it (for
 * at least one byte). In a 4-byte sequence every continuation byte may
 * follow a well-formed start of 3.
 */
static size_t reference(const uint8_t *s, size_t n, uint8_t *out)
{
    size_t i = 0, w = 0;

    while (i < n) {
        size_t want, k = 0;

        if (s[i] < 0x80) {
            out[w++] = s[i++];
            continue;
        }
        want = seq_len[s[i]];
        if (want > 0) {
            k = 1;
            if (i + 1 < n && bit(prefix2, (uint32_t)s[i] << 8 | s[i + 1]))
                k = 2;
            if (k == 2 && want >= 3 && i + 2 < n &&
                bit(prefix3, (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2]))
                k = 3;
            if (k == 3 && want == 4 && i + 3 < n && s[i + 3] >= 0x80 && s[i + 3] <= 0xbf)
                k = 4;
        }
        if (want > 0 && k == want) {
            memcpy(out + w, s + i, k);
            w += k;
            i += k;
        } else {
            memcpy(out + w, "\xef\xbf\xbd", 3);
            w += 3;
            i += k > 0 ? k : 1;
        }
    }
    return w;
}

/* ---- reading back ---------------------------------------------------------- */

/* Parses exactly `len` bytes as one JSON text. */
static json_object *parse(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;

    FUZZ_CHECK(tok != NULL);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int)len);
    FUZZ_CHECK(o != NULL);
    FUZZ_CHECK(json_tokener_get_parse_end(tok) == len);
    json_tokener_free(tok);
    return o;
}

static void check_string_value(json_object *v, const uint8_t *want, size_t want_len)
{
    FUZZ_CHECK(v != NULL);
    FUZZ_CHECK(json_object_get_type(v) == json_type_string);
    FUZZ_CHECK((size_t)json_object_get_string_len(v) == want_len);
    FUZZ_CHECK(memcmp(json_object_get_string(v), want, want_len) == 0);
}

static void check_double_value(json_object *v, double d)
{
    FUZZ_CHECK(v != NULL);
    if (isnan(d) || isinf(d)) {
        const char *want = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        FUZZ_CHECK(json_object_get_type(v) == json_type_string);
        FUZZ_CHECK(strcmp(json_object_get_string(v), want) == 0);
    } else {
        double got;
        FUZZ_CHECK(json_object_get_type(v) == json_type_double);
        got = json_object_get_double(v);
        FUZZ_CHECK(memcmp(&got, &d, sizeof(d)) == 0);
    }
}

static json_object *member(json_object *o, const char *key)
{
    json_object *v = NULL;

    FUZZ_CHECK(json_object_object_get_ex(o, key, &v));
    return v;
}

/* The same test as format_flat.c makes, written out: the keys of FORMAT.md. */
static bool fixed_key(const char *k)
{
    static const char *const keys[] = {
        "timestamp",      "level",          "logger",
        "message",        "event",          "trace_id",
        "span_id",        "correlation_id", "kind",
        "name",           "start",          "end",
        "duration_ms",    "status",         "status_message",
        "parent_span_id", "scope",          "events",
        "links",          "attributes",     "dropped_attributes",
        "type",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        if (strcmp(k, keys[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    otelc__fbuf_t b = { 0 };
    uint8_t *want = malloc(3 * size + 1);
    char *key = malloc(size + 1);
    size_t want_len, key_len;
    json_object *o, *v;

    FUZZ_CHECK(want != NULL && key != NULL);
    if (!ready)
        learn();
    want_len = reference(data, size, want);

    /* Alone, as a string and as a key. */
    otelc__json_string(&b, (const char *)data, size);
    FUZZ_CHECK(!b.failed);
    o = parse(b.data, b.len);
    check_string_value(o, want, want_len);
    json_object_put(o);
    b.len = 0;
    otelc__fbuf_putc(&b, '{');
    otelc__json_key(&b, false, (const char *)data, size);
    OTELC__FBUF_LITERAL(&b, "1}");
    o = parse(b.data, b.len);
    FUZZ_CHECK(json_object_object_length(o) == 1);
    {
        struct json_object_iterator it = json_object_iter_begin(o);
        const char *k = json_object_iter_peek_name(&it);
        /* json-c keys are C strings: compare up to the first NUL. */
        FUZZ_CHECK(strlen(k) == strnlen((const char *)want, want_len));
        FUZZ_CHECK(memcmp(k, want, strlen(k)) == 0);
    }
    json_object_put(o);
    b.len = 0;

    /* In a flat log line. */
    {
        otelc_attr_t attrs[3];
        otelc_log_data_t r;
        size_t n_attrs = 0;
        double d = 0;

        memset(&r, 0, sizeof(r));
        r.time_ns = 1795257000123456789u;
        r.severity = 9;
        r.body.ptr = (const char *)data;
        r.body.len = size;
        key_len = strnlen((const char *)data, size);
        memcpy(key, data, key_len);
        key[key_len] = '\0';
        attrs[n_attrs++] = OTELC_STRN("fz", (const char *)data, size);
        if (size >= 8) {
            memcpy(&d, data, sizeof(d));
            attrs[n_attrs++] = OTELC_DBL("fz.double", d);
        }
        /* Last: a key "fz" or "fz.double" is a duplicate, left out. */
        attrs[n_attrs++] = OTELC_INT(key, 7);
        r.attrs = attrs;
        r.n_attrs = (uint32_t)n_attrs;
        otelc__flat_log(&b, &r);
        FUZZ_CHECK(!b.failed);
        FUZZ_CHECK(b.len > 0 && b.data[b.len - 1] == '\n');
        FUZZ_CHECK(memchr(b.data, '\n', b.len - 1) == NULL);
        o = parse(b.data, b.len - 1);
        check_string_value(member(o, "message"), want, want_len);
        check_string_value(member(o, "fz"), want, want_len);
        if (strcmp(key, "fz") != 0 && strcmp(key, "fz.double") != 0) {
            uint8_t *kwant = malloc(3 * key_len + 1);
            size_t kn;
            json_object *where = fixed_key(key) ? member(o, "attributes") : o;

            FUZZ_CHECK(kwant != NULL);
            kn = reference((const uint8_t *)key, key_len, kwant);
            kwant[kn] = '\0';
            v = member(where, (const char *)kwant);
            FUZZ_CHECK(json_object_get_type(v) == json_type_int);
            FUZZ_CHECK(json_object_get_int64(v) == 7);
            free(kwant);
        }
        if (size >= 8) {
            char text[OTELC_TEXT_DOUBLE_MAX + 2];
            size_t n;

            check_double_value(member(o, "fz.double"), d);
            /* Alone, inside an array: a bare number is not a complete
             * text to json-c's incremental parser. */
            text[0] = '[';
            n = otelc_text_json_double(text + 1, d);
            FUZZ_CHECK(n > 0 && n < OTELC_TEXT_DOUBLE_MAX && strlen(text + 1) == n);
            text[n + 1] = ']';
            json_object_put(o);
            o = parse(text, n + 2);
            check_double_value(json_object_array_get_idx(o, 0), d);
        }
        json_object_put(o);
    }
    otelc__fbuf_free(&b);
    free(want);
    free(key);
    return 0;
}
