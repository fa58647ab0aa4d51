/*
 * test_file_format.c: the JSON writers of the file exporter (json.h) and its
 * two line formats (format.h), read back with json-c, an independent parser.
 *
 * Records are built by hand, formatted, parsed in strict mode with UTF-8
 * validation, and every field is compared with what was put in: strings
 * byte for byte (control characters, quotes, invalid UTF-8 replaced by
 * U+FFFD), integers exactly, doubles bit for bit, times at microsecond
 * resolution, and the fields that must be left out are checked to be absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>

#include <float.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <otelc/exporter.h>
#include <otelc/log.h>
#include <otelc/trace.h>

#include "format.h"
#include "json.h"
#include <otelc/text.h>

/* 2026-11-21T10:30:00.123456789Z */
#define T0 1795257000123456789ull
#define T0_TEXT "2026-11-21T10:30:00.123456Z"
#define TRACE_HEX "0102030405060708090a0b0c0d0e0f10"
#define SPAN_HEX "1112131415161718"
#define PARENT_HEX "a1b2c3d4e5f60718"
#define FFFD "\xef\xbf\xbd"

#define S(lit) ((otelc_str_t){ (lit), sizeof(lit) - 1u })

static const otelc_scope_info_t scope_orders = { { "trading.orders", 14 }, { "", 0 } };
static const otelc_scope_info_t scope_engine = { { "trading.engine", 14 }, { "1.0", 3 } };
/* The same name and version as scope_orders, another pointer. */
static const otelc_scope_info_t scope_orders_twin = { { "trading.orders", 14 }, { "", 0 } };

/* ---- helpers ------------------------------------------------------------- */

static otelc_span_context_t test_ctx(void)
{
    otelc_span_context_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    for (int i = 0; i < OTELC_TRACE_ID_SIZE; i++)
        ctx.trace_id[i] = (uint8_t)(i + 1);
    for (int i = 0; i < OTELC_SPAN_ID_SIZE; i++)
        ctx.span_id[i] = (uint8_t)(0x11 + i);
    ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED;
    return ctx;
}

static otelc_log_data_t make_log(void)
{
    otelc_log_data_t r;

    memset(&r, 0, sizeof(r));
    r.time_ns = T0;
    r.observed_time_ns = T0;
    r.severity = OTELC_SEV_INFO;
    r.severity_text = S("INFO");
    r.body = S("order sent");
    r.event_name = S("");
    r.correlation_id = S("");
    r.scope = &scope_orders;
    return r;
}

static otelc_span_data_t make_span(void)
{
    otelc_span_data_t s;

    memset(&s, 0, sizeof(s));
    s.ctx = test_ctx();
    s.name = S("place_order");
    s.kind = OTELC_SPAN_KIND_INTERNAL;
    s.start_ns = T0;
    s.end_ns = T0 + 1234567u;
    s.trace_state = S("");
    s.status_message = S("");
    s.correlation_id = S("");
    s.scope = &scope_engine;
    return s;
}

/*
 * Parses `len` bytes that must be exactly one JSON text followed by '\n',
 * strictly and with UTF-8 validation. Fails the test otherwise.
 */
static json_object *parse_line(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *o;

    assert_non_null(tok);
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1));
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    o = json_tokener_parse_ex(tok, text, (int)(len - 1));
    if (o == NULL || json_tokener_get_parse_end(tok) != len - 1)
        fail_msg("not one JSON text (%s): %.*s",
                 json_tokener_error_desc(json_tokener_get_error(tok)), (int)len, text);
    json_tokener_free(tok);
    return o;
}

/* Parses the whole buffer as one line and empties it. */
static json_object *parse_buf(otelc__fbuf_t *b)
{
    json_object *o;

    assert_false(b->failed);
    o = parse_line(b->data, b->len);
    b->len = 0;
    return o;
}

/*
 * Parses a JSON value written by a json.h writer. A number alone is not a
 * complete text to json-c's incremental parser, so the value is read as the
 * element of a one-element array.
 */
static json_object *parse_value(otelc__fbuf_t *b)
{
    json_object *array, *o;

    assert_false(b->failed);
    assert_true(otelc__fbuf_reserve(b, 3));
    memmove(b->data + 1, b->data, b->len);
    b->data[0] = '[';
    b->data[b->len + 1] = ']';
    b->data[b->len + 2] = '\n';
    array = parse_line(b->data, b->len + 3);
    b->len = 0;
    assert_int_equal(json_object_array_length(array), 1);
    o = json_object_get(json_object_array_get_idx(array, 0));
    json_object_put(array);
    return o;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v))
        fail_msg("key \"%s\" missing in %s", key, json_object_to_json_string(o));
    return v;
}

static void assert_absent(json_object *o, const char *key)
{
    if (json_object_object_get_ex(o, key, NULL))
        fail_msg("key \"%s\" present in %s", key, json_object_to_json_string(o));
}

static void assert_str(json_object *o, const char *key, const char *want)
{
    json_object *v = get(o, key);

    assert_int_equal(json_object_get_type(v), json_type_string);
    assert_int_equal(json_object_get_string_len(v), strlen(want));
    assert_memory_equal(json_object_get_string(v), want, strlen(want));
}

static void assert_int_member(json_object *o, const char *key, int64_t want)
{
    json_object *v = get(o, key);

    assert_int_equal(json_object_get_type(v), json_type_int);
    assert_true(json_object_get_int64(v) == want);
}

static void assert_same_double(double got, double want)
{
    uint64_t g, w;

    memcpy(&g, &got, sizeof(g));
    memcpy(&w, &want, sizeof(w));
    if (g != w)
        fail_msg("double %.17g (%016llx) read back as %.17g (%016llx)", want, (unsigned long long)w,
                 got, (unsigned long long)g);
}

/* The keys of an object, in order, against a NULL-terminated list. */
static void assert_keys(json_object *o, const char *const *want)
{
    size_t i = 0;

    json_object_object_foreach(o, key, value)
    {
        (void)value;
        if (want[i] == NULL)
            fail_msg("unexpected key \"%s\" in %s", key, json_object_to_json_string(o));
        if (strcmp(key, want[i]) != 0)
            fail_msg("key %zu is \"%s\", expected \"%s\" in %s", i, key, want[i],
                     json_object_to_json_string(o));
        i++;
    }
    if (want[i] != NULL)
        fail_msg("key \"%s\" missing in %s", want[i], json_object_to_json_string(o));
}

/* Microseconds since the epoch of an ISO 8601 UTC text of 27 characters. */
static uint64_t iso_to_us(const char *text)
{
    struct tm tm;
    int us = -1, used = 0;

    memset(&tm, 0, sizeof(tm));
    assert_int_equal(strlen(text), 27);
    assert_int_equal(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ%n", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us, &used),
                     7);
    assert_int_equal(used, 27);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (uint64_t)timegm(&tm) * 1000000u + (uint64_t)us;
}

static size_t base64_decode(const char *in, unsigned char *out)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), w = 0;

    assert_int_equal(n % 4, 0);
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            const char *p = strchr(digits, in[i + k]);
            if (in[i + k] == '=') {
                pad++;
                p = digits;
            } else {
                assert_non_null(p);
                assert_int_equal(pad, 0);
            }
            v = v << 6 | (uint32_t)(p - digits);
        }
        out[w++] = (unsigned char)(v >> 16);
        if (pad < 2)
            out[w++] = (unsigned char)(v >> 8);
        if (pad < 1)
            out[w++] = (unsigned char)v;
    }
    return w;
}

/* ---- the buffer ---------------------------------------------------------- */

static void test_fbuf_grows_from_empty(void **state)
{
    otelc__fbuf_t b = { 0 };

    (void)state;
    for (size_t i = 0; i < 100000; i++)
        otelc__fbuf_putc(&b, (char)('a' + i % 26));
    assert_false(b.failed);
    assert_int_equal(b.len, 100000);
    assert_true(b.cap >= b.len);
    for (size_t i = 0; i < 100000; i++)
        assert_int_equal(b.data[i], 'a' + i % 26);
    /* Reserving keeps what is there. */
    assert_true(otelc__fbuf_reserve(&b, 1u << 20));
    assert_true(b.cap - b.len >= 1u << 20);
    assert_int_equal(b.data[99999], 'a' + 99999 % 26);
    OTELC__FBUF_LITERAL(&b, "xyz");
    assert_int_equal(b.len, 100003);
    otelc__fbuf_reset(&b);
    assert_int_equal(b.len, 0);
    otelc__fbuf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    otelc__fbuf_free(&b);
    otelc__fbuf_free(NULL);
}

/* A size that cannot be had fails the buffer without touching the memory;
 * every later append is a no-op until reset. */
static void test_fbuf_failure_sticks(void **state)
{
    otelc__fbuf_t b = { 0 };

    (void)state;
    OTELC__FBUF_LITERAL(&b, "abc");
    assert_false(otelc__fbuf_reserve(&b, SIZE_MAX / 2));
    assert_true(b.failed);
    assert_int_equal(b.len, 3);
    OTELC__FBUF_LITERAL(&b, "more");
    otelc__json_string(&b, "x", 1);
    otelc__json_i64(&b, 5);
    otelc__json_double(&b, 1.5);
    otelc__json_hex(&b, (const uint8_t *)"ab", 2);
    otelc__json_base64(&b, "ab", 2);
    otelc__json_ms(&b, 5);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "abc", 3);
    assert_false(otelc__fbuf_reserve(&b, 1));
    otelc__fbuf_reset(&b);
    assert_false(b.failed);
    OTELC__FBUF_LITERAL(&b, "ok");
    assert_int_equal(b.len, 2);
    assert_memory_equal(b.data, "ok", 2);
    otelc__fbuf_free(&b);
}

/* ---- strings ------------------------------------------------------------- */

/* Writes `in` as a JSON string, parses it back and compares with `want`. */
static void check_string(const char *in, size_t in_len, const char *want, size_t want_len)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__json_string(&b, in, in_len);
    o = parse_value(&b);
    assert_int_equal(json_object_get_type(o), json_type_string);
    if ((size_t)json_object_get_string_len(o) != want_len ||
        memcmp(json_object_get_string(o), want, want_len) != 0) {
        size_t at = 0, got = (size_t)json_object_get_string_len(o);
        while (at < got && at < want_len && json_object_get_string(o)[at] == want[at])
            at++;
        fail_msg("string of %zu bytes read back wrong: %zu bytes for %zu, first difference "
                 "at %zu",
                 in_len, got, want_len, at);
    }
    json_object_put(o);
    otelc__fbuf_free(&b);
}

#define CHECK_STRING(in, want) check_string((in), sizeof(in) - 1u, (want), sizeof(want) - 1u)

static void test_string_escapes(void **state)
{
    char all[128];
    otelc__fbuf_t b = { 0 };

    (void)state;
    /* Every ASCII byte, NUL and the controls included, comes back. */
    for (int i = 0; i < 128; i++)
        all[i] = (char)i;
    check_string(all, sizeof(all), all, sizeof(all));
    /* Each at every offset of an 8-byte word. */
    for (int c = 0; c < 128; c++) {
        for (size_t at = 0; at < 19; at++) {
            char s[19];
            memset(s, 'x', sizeof(s));
            s[at] = (char)c;
            check_string(s, sizeof(s), s, sizeof(s));
            check_string(s, at + 1, s, at + 1);
        }
    }
    CHECK_STRING("", "");
    CHECK_STRING("say \"hi\" \\ bye", "say \"hi\" \\ bye");
    /* The escapes themselves: short forms, \u00XX, DEL as it is. */
    {
        static const char in[] = "\"\\\b\f\n\r\t\x01\x1f\x7f/";
        static const char out[] = "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/\"";
        otelc__json_string(&b, in, sizeof(in) - 1u);
        assert_int_equal(b.len, sizeof(out) - 1u);
        assert_memory_equal(b.data, out, sizeof(out) - 1u);
    }
    b.len = 0;
    otelc__json_cstring(&b, NULL);
    otelc__json_string(&b, NULL, 5);
    assert_int_equal(b.len, 4);
    assert_memory_equal(b.data, "\"\"\"\"", 4);
    b.len = 0;
    otelc__json_key(&b, true, "k\"", 2);
    otelc__json_key(&b, false, "v", 1);
    assert_int_equal(b.len, 11);
    assert_memory_equal(b.data, ",\"k\\\"\":\"v\":", 11);
    otelc__fbuf_free(&b);
}

static void test_string_utf8(void **state)
{
    (void)state;
    /* Well-formed: 2, 3 and 4 bytes, the edges of each range. */
    CHECK_STRING("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    CHECK_STRING("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf",
                 "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf");
    CHECK_STRING("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
    /* Stray continuation bytes and bytes that never start a sequence. */
    CHECK_STRING("a\x80z", "a" FFFD "z");
    CHECK_STRING("\xbf\xff\xfe\xf5\xf8", FFFD FFFD FFFD FFFD FFFD);
    /* Overlong forms: C0 and C1 never lead; E0 and F0 need a high second
     * byte, so each byte is its own maximal subpart. */
    CHECK_STRING("\xc0\xaf", FFFD FFFD);
    CHECK_STRING("\xc1\xbf", FFFD FFFD);
    CHECK_STRING("\xe0\x80\xaf", FFFD FFFD FFFD);
    CHECK_STRING("\xf0\x80\x80\xaf", FFFD FFFD FFFD FFFD);
    /* Surrogates D800-DFFF, encoded or not, and past U+10FFFF. */
    CHECK_STRING("\xed\xa0\x80", FFFD FFFD FFFD);
    CHECK_STRING("\xed\xbf\xbf", FFFD FFFD FFFD);
    CHECK_STRING("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);
    /* Truncated sequences: the maximal subpart is one U+FFFD. */
    CHECK_STRING("\xe2\x82", FFFD);
    CHECK_STRING("\xe2\x82z", FFFD "z");
    CHECK_STRING("\xf0\x9f\x98", FFFD);
    CHECK_STRING("\xf0\x9f\x98\xe2\x82\xac", FFFD "\xe2\x82\xac");
    CHECK_STRING("\xf0\x9f", FFFD);
    CHECK_STRING("\xc3", FFFD);
    CHECK_STRING("x\xc3", "x" FFFD);
    CHECK_STRING("\xc3\xc3\xa9", FFFD "\xc3\xa9");
    /* A control character right after a bad byte. */
    CHECK_STRING("\xe2\n", FFFD "\n");
}

/* Strings longer than one round of escaping (4096 bytes), with sequences
 * and escapes that straddle the rounds. */
static void test_string_long(void **state)
{
    enum { N = 3 * 4096 + 77 };
    char *in = malloc(N), *want = malloc(2 * N);
    size_t w = 0;

    (void)state;
    assert_non_null(in);
    assert_non_null(want);
    for (size_t i = 0; i < N;) {
        static const char unit[] = "ab\xe2\x82\xac\n\"";
        size_t take = sizeof(unit) - 1u;
        if (take > N - i)
            take = N - i;
        memcpy(in + i, unit, take);
        i += take;
    }
    /* The expected text: the units, then a last partial unit whose broken
     * euro sign is one U+FFFD. */
    for (size_t i = 0; i < N;) {
        if ((unsigned char)in[i] == 0xe2) {
            if (N - i >= 3) {
                memcpy(want + w, in + i, 3);
                w += 3;
                i += 3;
            } else {
                memcpy(want + w, FFFD, 3);
                w += 3;
                i = N;
            }
        } else {
            want[w++] = in[i++];
        }
    }
    check_string(in, N, want, w);
    /* At the end of the first round: a sequence that straddles it, a
     * broken one, a bad byte. */
    memset(in, 'a', N);
    memset(want, 'a', N + 1);
    memcpy(in + 4095, "\xe2\x82\xac", 3);
    memcpy(want + 4095, "\xe2\x82\xac", 3);
    check_string(in, N, want, N);
    memcpy(in + 4095, "\xe2\x82\n", 3);
    memcpy(want + 4095, FFFD "\n", 4);
    check_string(in, N, want, N + 1);
    memcpy(in + 4094, "\xf0\x9f\x98\x80", 4);
    memcpy(want + 4094, "\xf0\x9f\x98\x80", 4);
    check_string(in, 4098, want, 4098);
    memset(in, 'a', N);
    memset(want, 'a', N);
    in[4095] = (char)0xff;
    memcpy(want + 4095, FFFD, 3);
    check_string(in, 4096, want, 4098);
    free(in);
    free(want);
}

/* ---- numbers ------------------------------------------------------------- */

static void check_i64(int64_t v, const char *text)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__json_i64(&b, v);
    assert_int_equal(b.len, strlen(text));
    assert_memory_equal(b.data, text, b.len);
    o = parse_value(&b);
    assert_int_equal(json_object_get_type(o), json_type_int);
    assert_true(json_object_get_int64(o) == v);
    json_object_put(o);
    otelc__json_i64_string(&b, v);
    assert_int_equal(b.len, strlen(text) + 2);
    assert_int_equal(b.data[0], '"');
    assert_memory_equal(b.data + 1, text, strlen(text));
    otelc__fbuf_free(&b);
}

static void test_integers(void **state)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;
    char text[32];

    (void)state;
    check_i64(0, "0");
    check_i64(-1, "-1");
    check_i64(9, "9");
    check_i64(10, "10");
    check_i64(99, "99");
    check_i64(100, "100");
    check_i64(-123456789, "-123456789");
    check_i64(INT64_MAX, "9223372036854775807");
    check_i64(INT64_MIN, "-9223372036854775808");
    /* Every power of ten and its neighbours. */
    for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
        for (int64_t d = -1; d <= 1; d++) {
            int64_t v = (int64_t)p + d;
            snprintf(text, sizeof(text), "%lld", (long long)v);
            check_i64(v, text);
        }
    }
    otelc__json_u64(&b, UINT64_MAX);
    assert_int_equal(b.len, 20);
    assert_memory_equal(b.data, "18446744073709551615", 20);
    o = parse_value(&b);
    assert_true(json_object_get_uint64(o) == UINT64_MAX);
    json_object_put(o);
    otelc__json_u64_string(&b, 1234567890123456789u);
    assert_int_equal(b.len, 21);
    assert_memory_equal(b.data, "\"1234567890123456789\"", 21);
    otelc__fbuf_free(&b);
}

/* Formats d, reads it back with json-c and with strtod; returns the text. */
static void check_double(double d, const char *want_text)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;
    char text[OTELC_TEXT_DOUBLE_MAX];
    size_t n = otelc_text_json_double(text, d);

    assert_int_equal(strlen(text), n);
    if (want_text != NULL && strcmp(text, want_text) != 0)
        fail_msg("%.17g written as %s, expected %s", d, text, want_text);
    otelc__json_double(&b, d);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, text, n);
    o = parse_value(&b);
    if (isnan(d)) {
        assert_int_equal(json_object_get_type(o), json_type_string);
        assert_string_equal(json_object_get_string(o), "NaN");
    } else if (isinf(d)) {
        assert_int_equal(json_object_get_type(o), json_type_string);
        assert_string_equal(json_object_get_string(o), d > 0 ? "Infinity" : "-Infinity");
    } else {
        assert_int_equal(json_object_get_type(o), json_type_double);
        assert_same_double(json_object_get_double(o), d);
        assert_same_double(strtod(text, NULL), d);
    }
    json_object_put(o);
    otelc__fbuf_free(&b);
}

static void test_doubles(void **state)
{
    uint64_t seed = 0x9e3779b97f4a7c15u;

    (void)state;
    check_double(150.25, "150.25");
    check_double(0.1, "0.1");
    check_double(0.3, "0.3");
    check_double(-2.5, "-2.5");
    check_double(150.0, "150.0");
    check_double(0.0, "0.0");
    check_double(-0.0, "-0.0");
    check_double(0.05, "0.05");
    check_double(0.000000001, "0.000000001");
    check_double(123456789.123, "123456789.123");
    check_double(9007199254740991.0, "9007199254740991.0");
    check_double(9007199254740992.0, "9007199254740992.0");
    check_double(9007199254740994.0, "9007199254740994.0");
    check_double(1e300, "1e+300");
    check_double(-1e300, "-1e+300");
    check_double(1e22, "1e+22");
    check_double(5e-324, NULL);
    check_double(1.0 / 3.0, "0.3333333333333333");
    check_double(2.0 / 3.0, NULL);
    check_double(DBL_MAX, "1.7976931348623157e+308");
    check_double(DBL_MIN, NULL);
    check_double(-DBL_MIN, NULL);
    check_double(1e-7, "0.0000001");
    check_double(1.5e-10, "1.5e-10");
    check_double(123456.7890123, "123456.7890123");
    check_double(NAN, "\"NaN\"");
    check_double(-NAN, "\"NaN\"");
    check_double(INFINITY, "\"Infinity\"");
    check_double(-INFINITY, "\"-Infinity\"");
    /* Random bit patterns, random decimals, random integers. */
    for (int i = 0; i < 20000; i++) {
        uint64_t bits;
        double d;

        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        bits = seed;
        memcpy(&d, &bits, sizeof(d));
        check_double(d, NULL);
        check_double((double)(int64_t)(seed >> 20) / 1000.0, NULL);
        check_double((double)(int64_t)(seed >> 11), NULL);
        check_double((double)(seed % 100000000u) / 10000.0, NULL);
    }
}

/* A host that uses a decimal comma must not change the numbers. */
static void test_doubles_locale(void **state)
{
    static const char *const names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "C.UTF-8" };
    char text[OTELC_TEXT_DOUBLE_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (setlocale(LC_NUMERIC, names[i]) != NULL)
            break;
    }
    otelc_text_json_double(text, 1.0 / 3.0);
    assert_string_equal(text, "0.3333333333333333");
    otelc_text_json_double(text, 2.5e-10);
    assert_string_equal(text, "2.5e-10");
    otelc_text_json_double(text, 150.25);
    assert_string_equal(text, "150.25");
    setlocale(LC_NUMERIC, "C");
}

static void test_base64_and_hex(void **state)
{
    static const char *const vectors[][2] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
    };
    otelc__fbuf_t b = { 0 };
    unsigned char all[256], back[256];
    json_object *o;

    (void)state;
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        size_t n = strlen(vectors[i][1]);
        otelc__json_base64(&b, vectors[i][0], strlen(vectors[i][0]));
        assert_int_equal(b.len, n + 2);
        assert_memory_equal(b.data + 1, vectors[i][1], n);
        b.len = 0;
    }
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)(255 - i);
    for (size_t n = 0; n <= 256; n += 1 + n / 16) {
        otelc__json_base64(&b, all, n);
        o = parse_value(&b);
        assert_int_equal(base64_decode(json_object_get_string(o), back), n);
        assert_memory_equal(back, all, n);
        json_object_put(o);
    }
    otelc__json_base64(&b, NULL, 3);
    assert_int_equal(b.len, 2);
    b.len = 0;
    /* Hex of every byte value, in the id sizes and others. */
    otelc__json_hex(&b, all, 256);
    assert_int_equal(b.len, 514);
    for (int i = 0; i < 256; i++) {
        char pair[3];
        snprintf(pair, sizeof(pair), "%02x", 255 - i);
        assert_memory_equal(b.data + 1 + 2 * i, pair, 2);
    }
    b.len = 0;
    for (size_t n = 0; n <= 17; n++) {
        char want[40];
        otelc_hex_encode(all + 100, n, want);
        otelc__json_hex(&b, all + 100, n);
        assert_int_equal(b.len, 2 * n + 2);
        assert_memory_equal(b.data + 1, want, 2 * n);
        b.len = 0;
    }
    otelc__fbuf_free(&b);
}

/* ---- time ---------------------------------------------------------------- */

static void check_time(otelc__json_clock_t *clock, uint64_t ns, const char *want)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__json_time(&b, clock, ns);
    assert_int_equal(b.len, 29);
    o = parse_value(&b);
    if (want != NULL)
        assert_string_equal(json_object_get_string(o), want);
    assert_true(iso_to_us(json_object_get_string(o)) == ns / 1000u);
    json_object_put(o);
    otelc__fbuf_free(&b);
}

static void test_times(void **state)
{
    otelc__json_clock_t clock = { 0 };
    uint64_t seed = 12345;

    (void)state;
    check_time(&clock, T0, T0_TEXT);
    check_time(&clock, T0 + 1000, "2026-11-21T10:30:00.123457Z");
    check_time(&clock, T0 + 999999, "2026-11-21T10:30:00.124456Z");
    check_time(&clock, 0, "1970-01-01T00:00:00.000000Z");
    check_time(&clock, 999, "1970-01-01T00:00:00.000000Z");
    /* Leap days, and the centuries that are (2000, 2400) and are not (2100). */
    check_time(&clock, 951782400000000000u, "2000-02-29T00:00:00.000000Z");
    check_time(&clock, 1709251199999999999u, "2024-02-29T23:59:59.999999Z");
    check_time(&clock, 1709251200000000000u, "2024-03-01T00:00:00.000000Z");
    check_time(&clock, 4107542399000000000u, "2100-02-28T23:59:59.000000Z");
    check_time(&clock, 4107542400000000000u, "2100-03-01T00:00:00.000000Z");
    check_time(&clock, 13574563200000000000u, "2400-02-29T00:00:00.000000Z");
    check_time(&clock, 4102444800000000000u, "2100-01-01T00:00:00.000000Z");
    check_time(&clock, 1703980800000000000u - 1u, "2023-12-30T23:59:59.999999Z");
    check_time(&clock, UINT64_MAX, "2554-07-21T23:34:33.709551Z");
    /* The cache across seconds and days, forwards and backwards. */
    for (int i = 0; i < 20000; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        check_time(&clock, seed, NULL);
        check_time(&clock, seed + (seed >> 40), NULL);
        check_time(&clock, seed - (seed >> 50), NULL);
    }
}

static void check_ms(uint64_t ns, const char *want)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__json_ms(&b, ns);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    o = parse_value(&b);
    assert_int_equal(json_object_get_type(o), json_type_double);
    assert_same_double(json_object_get_double(o), strtod(want, NULL));
    json_object_put(o);
    otelc__fbuf_free(&b);
}

static void test_milliseconds(void **state)
{
    (void)state;
    check_ms(0, "0.0");
    check_ms(1, "0.000001");
    check_ms(999, "0.000999");
    check_ms(1000, "0.001");
    check_ms(1234567, "1.234567");
    check_ms(1500000, "1.5");
    check_ms(2000000, "2.0");
    check_ms(10, "0.00001");
    check_ms(123456789012u, "123456.789012");
    check_ms(UINT64_MAX, "18446744073709.551615");
}

/* ---- flat log lines ------------------------------------------------------ */

static json_object *flat_log(const otelc_log_data_t *r)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__flat_log(&b, r);
    o = parse_buf(&b);
    otelc__fbuf_free(&b);
    return o;
}

static void test_flat_log_fields(void **state)
{
    otelc_attr_t attrs[] = {
        OTELC_STR("symbol", "BTCUSDT"),
        OTELC_INT("qty", 100),
        OTELC_DBL("price", 150.25),
    };
    otelc_log_data_t r = make_log();
    json_object *o;
    static const char *const keys[] = { "timestamp", "level",    "logger",  "message",
                                        "event",     "trace_id", "span_id", "correlation_id",
                                        "symbol",    "qty",      "price",   "dropped_attributes",
                                        NULL };

    (void)state;
    r.event_name = S("order_submitted");
    r.ctx = test_ctx();
    r.correlation_id = S("trade-1");
    r.attrs = attrs;
    r.n_attrs = 3;
    r.dropped_attrs = 2;
    o = flat_log(&r);
    assert_keys(o, keys);
    assert_str(o, "timestamp", T0_TEXT);
    assert_str(o, "level", "INFO");
    assert_str(o, "logger", "trading.orders");
    assert_str(o, "message", "order sent");
    assert_str(o, "event", "order_submitted");
    assert_str(o, "trace_id", TRACE_HEX);
    assert_str(o, "span_id", SPAN_HEX);
    assert_str(o, "correlation_id", "trade-1");
    assert_str(o, "symbol", "BTCUSDT");
    assert_int_member(o, "qty", 100);
    assert_same_double(json_object_get_double(get(o, "price")), 150.25);
    assert_int_member(o, "dropped_attributes", 2);
    json_object_put(o);
}

/* Empty fields are left out; logger and message are always there. */
static void test_flat_log_minimal(void **state)
{
    otelc_log_data_t r = make_log();
    json_object *o;
    static const char *const keys[] = { "timestamp", "level", "logger", "message", NULL };

    (void)state;
    r.body = S("");
    r.scope = NULL;
    r.severity_text = S("");
    o = flat_log(&r);
    assert_keys(o, keys);
    assert_str(o, "logger", "");
    assert_str(o, "message", "");
    json_object_put(o);
    /* A span id without a trace id, and the other way round. */
    r.ctx = test_ctx();
    memset(r.ctx.trace_id, 0, sizeof(r.ctx.trace_id));
    o = flat_log(&r);
    assert_absent(o, "trace_id");
    assert_str(o, "span_id", SPAN_HEX);
    json_object_put(o);
    r.ctx = test_ctx();
    memset(r.ctx.span_id, 0, sizeof(r.ctx.span_id));
    o = flat_log(&r);
    assert_str(o, "trace_id", TRACE_HEX);
    assert_absent(o, "span_id");
    json_object_put(o);
}

static void test_flat_log_levels(void **state)
{
    otelc_log_data_t r = make_log();

    (void)state;
    for (int sev = -1; sev <= 26; sev++) {
        json_object *o;
        r.severity = sev;
        o = flat_log(&r);
        assert_str(o, "level", otelc_severity_text(sev));
        json_object_put(o);
    }
    r.severity = 10;
    {
        json_object *o = flat_log(&r);
        assert_str(o, "level", "INFO2");
        json_object_put(o);
    }
}

/* Attributes named like fixed keys go under "attributes"; the first of two
 * attributes with one key wins, in both places. */
static void test_flat_log_collisions(void **state)
{
    otelc_attr_t attrs[] = {
        OTELC_STR("message", "from attr"),
        OTELC_STR("a", "first"),
        OTELC_INT("level", 3),
        OTELC_STR("a", "second"),
        OTELC_STR("attributes", "nested"),
        OTELC_STR("message", "again"),
        { .key = NULL, .type = OTELC_ATTR_INT, .v = { .i = 7 } },
        OTELC_BOOL("scope", true),
        OTELC_STR("type", "t"),
        OTELC_STR("end", "e"),
        OTELC_STR("dropped_attributes", "d"),
        OTELC_STR("status_message", "sm"),
        OTELC_STR("trace_id.x", "not fixed"),
        OTELC_STR("", "empty key"),
    };
    static const char *const keys[] = { "timestamp",  "level", "logger",     "message", "a",
                                        "trace_id.x", "",      "attributes", NULL };
    static const char *const nested[] = {
        "message",        "level", "attributes", "scope", "type", "end", "dropped_attributes",
        "status_message", NULL
    };
    otelc_log_data_t r = make_log();
    json_object *o, *a;

    (void)state;
    r.attrs = attrs;
    r.n_attrs = sizeof(attrs) / sizeof(attrs[0]);
    o = flat_log(&r);
    assert_keys(o, keys);
    assert_str(o, "message", "order sent");
    assert_str(o, "level", "INFO");
    assert_str(o, "a", "first");
    assert_str(o, "", "empty key");
    a = get(o, "attributes");
    assert_keys(a, nested);
    assert_str(a, "message", "from attr");
    assert_int_member(a, "level", 3);
    assert_str(a, "attributes", "nested");
    assert_true(json_object_get_boolean(get(a, "scope")));
    json_object_put(o);
}

/* correlation.id is not repeated when correlation_id carries its value. */
static void test_flat_log_correlation(void **state)
{
    otelc_attr_t same[] = { OTELC_STR("correlation.id", "trade-1"), OTELC_INT("n", 1) };
    otelc_attr_t other[] = { OTELC_STR("correlation.id", "trade-2") };
    otelc_log_data_t r = make_log();
    json_object *o;

    (void)state;
    r.correlation_id = S("trade-1");
    r.attrs = same;
    r.n_attrs = 2;
    o = flat_log(&r);
    assert_str(o, "correlation_id", "trade-1");
    assert_absent(o, "correlation.id");
    assert_int_member(o, "n", 1);
    json_object_put(o);
    r.attrs = other;
    r.n_attrs = 1;
    o = flat_log(&r);
    assert_str(o, "correlation_id", "trade-1");
    assert_str(o, "correlation.id", "trade-2");
    json_object_put(o);
    /* Without a correlation id the attribute is an attribute like any. */
    r.correlation_id = S("");
    r.attrs = same;
    r.n_attrs = 1;
    o = flat_log(&r);
    assert_absent(o, "correlation_id");
    assert_str(o, "correlation.id", "trade-1");
    json_object_put(o);
}

static const char *const str_items[] = { "a", "", NULL, "q\"\n" };
static const bool bool_items[] = { true, false, true };
static const int64_t int_items[] = { INT64_MIN, -1, 0, INT64_MAX };
static const double dbl_items[] = { 150.25, -0.0, NAN, INFINITY, -INFINITY, 5e-324, 1e300 };
static const unsigned char byte_items[] = { 0, 1, 2, 0xfe, 0xff };

/* One attribute of every type; `check_value` reads them back from a flat
 * object (`otlp` false) or from OTLP AnyValues. */
static void all_types(otelc_attr_t *out, size_t *n)
{
    size_t i = 0;

    out[i++] = OTELC_STR("s", "text\t\"q\"");
    out[i++] = OTELC_STRN("s_bad", "x\xff\xc3", 3);
    out[i++] = OTELC_STRN("s_null", NULL, 0);
    out[i++] = OTELC_BOOL("b_true", true);
    out[i++] = OTELC_BOOL("b_false", false);
    out[i++] = OTELC_INT("i_min", INT64_MIN);
    out[i++] = OTELC_INT("i_max", INT64_MAX);
    out[i++] = OTELC_INT("i_zero", 0);
    out[i++] = OTELC_DBL("d", 150.25);
    out[i++] = OTELC_DBL("d_tenth", 0.1);
    out[i++] = OTELC_DBL("d_big", 1e300);
    out[i++] = OTELC_DBL("d_tiny", 5e-324);
    out[i++] = OTELC_DBL("d_negzero", -0.0);
    out[i++] = OTELC_DBL("d_nan", NAN);
    out[i++] = OTELC_DBL("d_inf", INFINITY);
    out[i++] = OTELC_DBL("d_neginf", -INFINITY);
    out[i++] = OTELC_BYTES("bytes", byte_items, sizeof(byte_items));
    out[i++] = OTELC_BYTES("bytes_empty", byte_items, 0);
    out[i++] = OTELC_STR_ARRAY("sa", str_items, 4);
    out[i++] = OTELC_BOOL_ARRAY("ba", bool_items, 3);
    out[i++] = OTELC_INT_ARRAY("ia", int_items, 4);
    out[i++] = OTELC_DBL_ARRAY("da", dbl_items, 7);
    out[i++] = OTELC_INT_ARRAY("ia_empty", int_items, 0);
    out[i++] = OTELC_INT_ARRAY("ia_null", NULL, 3);
    *n = i;
}

/* A double or one of the strings "NaN", "Infinity", "-Infinity". */
static void assert_double_value(json_object *v, double want)
{
    if (isnan(want) || isinf(want)) {
        assert_int_equal(json_object_get_type(v), json_type_string);
        assert_string_equal(json_object_get_string(v), isnan(want) ? "NaN"
                                                       : want > 0  ? "Infinity"
                                                                   : "-Infinity");
    } else {
        assert_int_equal(json_object_get_type(v), json_type_double);
        assert_same_double(json_object_get_double(v), want);
    }
}

static void test_flat_attribute_types(void **state)
{
    otelc_attr_t attrs[32];
    otelc_log_data_t r = make_log();
    json_object *o, *v;
    unsigned char back[16];
    size_t n;

    (void)state;
    all_types(attrs, &n);
    r.attrs = attrs;
    r.n_attrs = (uint32_t)n;
    o = flat_log(&r);
    assert_str(o, "s", "text\t\"q\"");
    assert_str(o, "s_bad", "x" FFFD FFFD);
    assert_str(o, "s_null", "");
    assert_int_equal(json_object_get_type(get(o, "b_true")), json_type_boolean);
    assert_true(json_object_get_boolean(get(o, "b_true")));
    assert_false(json_object_get_boolean(get(o, "b_false")));
    assert_int_member(o, "i_min", INT64_MIN);
    assert_int_member(o, "i_max", INT64_MAX);
    assert_int_member(o, "i_zero", 0);
    assert_double_value(get(o, "d"), 150.25);
    assert_double_value(get(o, "d_tenth"), 0.1);
    assert_double_value(get(o, "d_big"), 1e300);
    assert_double_value(get(o, "d_tiny"), 5e-324);
    assert_double_value(get(o, "d_negzero"), -0.0);
    assert_double_value(get(o, "d_nan"), NAN);
    assert_double_value(get(o, "d_inf"), INFINITY);
    assert_double_value(get(o, "d_neginf"), -INFINITY);
    assert_int_equal(base64_decode(json_object_get_string(get(o, "bytes")), back),
                     sizeof(byte_items));
    assert_memory_equal(back, byte_items, sizeof(byte_items));
    assert_str(o, "bytes_empty", "");

    v = get(o, "sa");
    assert_int_equal(json_object_get_type(v), json_type_array);
    assert_int_equal(json_object_array_length(v), 4);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)), "a");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 1)), "");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 2)), "");
    assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 3)), "q\"\n");
    v = get(o, "ba");
    assert_int_equal(json_object_array_length(v), 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(json_object_get_type(json_object_array_get_idx(v, i)), json_type_boolean);
        assert_int_equal(json_object_get_boolean(json_object_array_get_idx(v, i)), bool_items[i]);
    }
    v = get(o, "ia");
    assert_int_equal(json_object_array_length(v), 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(json_object_get_int64(json_object_array_get_idx(v, i)) == int_items[i]);
    v = get(o, "da");
    assert_int_equal(json_object_array_length(v), 7);
    for (size_t i = 0; i < 7; i++)
        assert_double_value(json_object_array_get_idx(v, i), dbl_items[i]);
    assert_int_equal(json_object_array_length(get(o, "ia_empty")), 0);
    assert_int_equal(json_object_array_length(get(o, "ia_null")), 0);
    json_object_put(o);
}

/* Keys and values with every kind of awkward byte. */
static void test_flat_awkward_strings(void **state)
{
    char ctl[33];
    otelc_attr_t attrs[3];
    otelc_log_data_t r = make_log();
    json_object *o;

    (void)state;
    for (int i = 0; i < 32; i++)
        ctl[i] = (char)(i + 1 == 32 ? 0x7f : i + 1);
    ctl[32] = '\0';
    attrs[0] = OTELC_STRN("k\"\\\n", ctl, 32);
    attrs[1] = OTELC_STRN("bad\xff", "\xed\xa0\x80", 3);
    attrs[2] = OTELC_STRN("nul", "a\0b", 3);
    r.attrs = attrs;
    r.n_attrs = 3;
    r.body = S("line1\nline2\r\n\"quoted\" \\ \xc3\xa9 \xc3");
    o = flat_log(&r);
    {
        json_object *v = get(o, "k\"\\\n");
        assert_int_equal(json_object_get_string_len(v), 32);
        assert_memory_equal(json_object_get_string(v), ctl, 32);
    }
    assert_str(o, "bad" FFFD, FFFD FFFD FFFD);
    {
        json_object *v = get(o, "nul");
        assert_int_equal(json_object_get_string_len(v), 3);
        assert_memory_equal(json_object_get_string(v), "a\0b", 3);
    }
    assert_str(o, "message", "line1\nline2\r\n\"quoted\" \\ \xc3\xa9 " FFFD);
    json_object_put(o);
}

/* ---- flat span lines ----------------------------------------------------- */

static json_object *flat_span(const otelc_span_data_t *s)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__flat_span(&b, s);
    o = parse_buf(&b);
    otelc__fbuf_free(&b);
    return o;
}

static void test_flat_span_fields(void **state)
{
    otelc_attr_t attrs[] = {
        OTELC_STR("symbol", "BTCUSDT"), OTELC_INT("qty", 100),
        OTELC_STR("name", "colliding"), OTELC_STR("correlation.id", "trade-1"),
        OTELC_DBL("price", 150.25),
    };
    otelc_attr_t ev_attrs[] = { OTELC_INT("n", 1), OTELC_STR("level", "x"), OTELC_INT("n", 2) };
    otelc_event_data_t events[2];
    otelc_link_data_t links[1];
    otelc_span_data_t s = make_span();
    json_object *o, *e, *l;
    static const char *const keys[] = {
        "timestamp",
        "type",
        "name",
        "kind",
        "trace_id",
        "span_id",
        "parent_span_id",
        "correlation_id",
        "start",
        "end",
        "duration_ms",
        "status",
        "status_message",
        "scope",
        "symbol",
        "qty",
        "price",
        "events",
        "links",
        "attributes",
        "dropped_attributes",
        NULL,
    };
    static const char *const event_keys[] = { "name", "timestamp", "attributes", NULL };
    static const char *const bare_event_keys[] = { "name", "timestamp", NULL };
    static const char *const link_keys[] = { "trace_id", "span_id", "attributes", NULL };

    (void)state;
    memset(events, 0, sizeof(events));
    memset(links, 0, sizeof(links));
    events[0].time_ns = T0 + 5000;
    events[0].name = S("filled");
    events[0].attrs = ev_attrs;
    events[0].n_attrs = 3;
    events[1].time_ns = T0 + 86400000000000u; /* a day later */
    events[1].name = S("settled");
    links[0].ctx = test_ctx();
    links[0].ctx.span_id[0] = 0xee;
    links[0].attrs = attrs;
    links[0].n_attrs = 1;
    memcpy(s.parent_span_id, "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18", 8);
    s.kind = OTELC_SPAN_KIND_CLIENT;
    s.status_code = OTELC_STATUS_ERROR;
    s.status_message = S("rejected: \"no funds\"");
    s.correlation_id = S("trade-1");
    s.attrs = attrs;
    s.n_attrs = 5;
    s.dropped_attrs = 1;
    s.events = events;
    s.n_events = 2;
    s.links = links;
    s.n_links = 1;
    o = flat_span(&s);
    assert_keys(o, keys);
    assert_str(o, "timestamp", T0_TEXT);
    assert_str(o, "type", "span");
    assert_str(o, "name", "place_order");
    assert_str(o, "kind", "CLIENT");
    assert_str(o, "trace_id", TRACE_HEX);
    assert_str(o, "span_id", SPAN_HEX);
    assert_str(o, "parent_span_id", PARENT_HEX);
    assert_str(o, "correlation_id", "trade-1");
    assert_str(o, "start", T0_TEXT);
    assert_str(o, "end", "2026-11-21T10:30:00.124691Z");
    assert_same_double(json_object_get_double(get(o, "duration_ms")), 1.234567);
    assert_str(o, "status", "ERROR");
    assert_str(o, "status_message", "rejected: \"no funds\"");
    assert_str(o, "scope", "trading.engine");
    assert_str(o, "symbol", "BTCUSDT");
    assert_int_member(o, "qty", 100);
    assert_same_double(json_object_get_double(get(o, "price")), 150.25);
    assert_str(get(o, "attributes"), "name", "colliding");
    assert_int_member(o, "dropped_attributes", 1);

    assert_int_equal(json_object_array_length(get(o, "events")), 2);
    e = json_object_array_get_idx(get(o, "events"), 0);
    assert_keys(e, event_keys);
    assert_str(e, "name", "filled");
    assert_str(e, "timestamp", "2026-11-21T10:30:00.123461Z");
    assert_int_member(get(e, "attributes"), "n", 1);
    assert_str(get(e, "attributes"), "level", "x");
    e = json_object_array_get_idx(get(o, "events"), 1);
    assert_keys(e, bare_event_keys);
    assert_str(e, "timestamp", "2026-11-22T10:30:00.123456Z");

    assert_int_equal(json_object_array_length(get(o, "links")), 1);
    l = json_object_array_get_idx(get(o, "links"), 0);
    assert_keys(l, link_keys);
    assert_str(l, "trace_id", TRACE_HEX);
    assert_str(l, "span_id", "ee12131415161718");
    assert_str(get(l, "attributes"), "symbol", "BTCUSDT");
    json_object_put(o);
}

static void test_flat_span_minimal(void **state)
{
    static const char *const keys[] = { "timestamp",   "type",    "name",  "kind",
                                        "trace_id",    "span_id", "start", "end",
                                        "duration_ms", "status",  NULL };
    static const char *const kinds[] = { "UNSPECIFIED", "INTERNAL", "SERVER",     "CLIENT",
                                         "PRODUCER",    "CONSUMER", "UNSPECIFIED" };
    static const char *const statuses[] = { "UNSET", "OK", "ERROR", "UNSET" };
    otelc_span_data_t s = make_span();
    json_object *o;

    (void)state;
    s.scope = NULL;
    s.end_ns = s.start_ns;
    o = flat_span(&s);
    assert_keys(o, keys);
    assert_str(o, "status", "UNSET");
    assert_int_equal(json_object_get_type(get(o, "duration_ms")), json_type_double);
    assert_same_double(json_object_get_double(get(o, "duration_ms")), 0.0);
    json_object_put(o);
    /* An end before the start is a duration of 0. */
    s.end_ns = s.start_ns - 5;
    o = flat_span(&s);
    assert_same_double(json_object_get_double(get(o, "duration_ms")), 0.0);
    json_object_put(o);
    s.end_ns = s.start_ns + 2000000;
    for (uint32_t k = 0; k < 7; k++) {
        s.kind = k;
        s.status_code = k % 4;
        o = flat_span(&s);
        assert_str(o, "kind", kinds[k]);
        assert_str(o, "status", statuses[k % 4]);
        assert_same_double(json_object_get_double(get(o, "duration_ms")), 2.0);
        json_object_put(o);
    }
    /* Durations at nanosecond resolution, against the ISO texts. */
    for (uint64_t d = 1; d < 100000000000u; d = d * 7 + 3) {
        json_object *dur;
        s.end_ns = s.start_ns + d;
        o = flat_span(&s);
        dur = get(o, "duration_ms");
        assert_same_double(json_object_get_double(dur), strtod(json_object_get_string(dur), NULL));
        assert_true(iso_to_us(json_object_get_string(get(o, "end"))) == (T0 + d) / 1000u);
        assert_true((uint64_t)(json_object_get_double(dur) * 1e6 + 0.5) == d || d > 1000000000u);
        json_object_put(o);
    }
}

/* ---- OTLP ---------------------------------------------------------------- */

/* Checks an AnyValue against the attribute it came from. */
static void check_any_value(json_object *v, const otelc_attr_t *a)
{
    json_object *x;
    unsigned char back[64];

    switch (a->type) {
    case OTELC_ATTR_STRING:
        x = get(v, "stringValue");
        if (strcmp(a->key, "s_bad") == 0)
            assert_string_equal(json_object_get_string(x), "x" FFFD FFFD);
        else
            assert_string_equal(json_object_get_string(x), a->v.s != NULL ? a->v.s : "");
        break;
    case OTELC_ATTR_BOOL:
        x = get(v, "boolValue");
        assert_int_equal(json_object_get_type(x), json_type_boolean);
        assert_int_equal(json_object_get_boolean(x), a->v.b);
        break;
    case OTELC_ATTR_INT: {
        char want[24];
        snprintf(want, sizeof(want), "%lld", (long long)a->v.i);
        x = get(v, "intValue");
        assert_int_equal(json_object_get_type(x), json_type_string);
        assert_string_equal(json_object_get_string(x), want);
        break;
    }
    case OTELC_ATTR_DOUBLE:
        assert_double_value(get(v, "doubleValue"), a->v.d);
        break;
    case OTELC_ATTR_BYTES:
        x = get(v, "bytesValue");
        assert_int_equal(base64_decode(json_object_get_string(x), back), a->len);
        assert_memory_equal(back, a->v.bytes, a->len);
        break;
    default: {
        json_object *arr = get(v, "arrayValue");
        size_t n = a->v.bytes != NULL ? a->len : 0;
        if (n == 0) {
            assert_absent(arr, "values");
            break;
        }
        x = get(arr, "values");
        assert_int_equal(json_object_array_length(x), n);
        for (size_t i = 0; i < n; i++) {
            json_object *e = json_object_array_get_idx(x, i);
            otelc_attr_t one = { .key = "", .len = 0 };
            switch (a->type) {
            case OTELC_ATTR_STRING_ARRAY:
                one.type = OTELC_ATTR_STRING;
                one.v.s = a->v.sa[i];
                break;
            case OTELC_ATTR_BOOL_ARRAY:
                one.type = OTELC_ATTR_BOOL;
                one.v.b = a->v.ba[i];
                break;
            case OTELC_ATTR_INT_ARRAY:
                one.type = OTELC_ATTR_INT;
                one.v.i = a->v.ia[i];
                break;
            default:
                one.type = OTELC_ATTR_DOUBLE;
                one.v.d = a->v.da[i];
                break;
            }
            check_any_value(e, &one);
        }
        break;
    }
    }
}

/* Checks a KeyValue list against attributes (no duplicates among them). */
static void check_key_values(json_object *list, const otelc_attr_t *attrs, size_t n)
{
    assert_int_equal(json_object_get_type(list), json_type_array);
    assert_int_equal(json_object_array_length(list), n);
    for (size_t i = 0; i < n; i++) {
        json_object *kv = json_object_array_get_idx(list, i);
        assert_str(kv, "key", attrs[i].key);
        check_any_value(get(kv, "value"), &attrs[i]);
    }
}

static json_object *otlp_logs(const otelc_resource_t *res, const otelc_log_data_t *const *recs,
                              size_t n)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__otlp_logs(&b, res, recs, n);
    o = parse_buf(&b);
    otelc__fbuf_free(&b);
    return o;
}

static json_object *otlp_spans(const otelc_resource_t *res, const otelc_span_data_t *const *spans,
                               size_t n)
{
    otelc__fbuf_t b = { 0 };
    json_object *o;

    otelc__otlp_spans(&b, res, spans, n);
    o = parse_buf(&b);
    otelc__fbuf_free(&b);
    return o;
}

static void test_otlp_log_fields(void **state)
{
    otelc_attr_t attrs[32];
    otelc_attr_t res_attrs[] = { OTELC_STR("service.name", "trader"), OTELC_INT("pid", 42) };
    otelc_resource_t res = { res_attrs, 2 };
    otelc_log_data_t r = make_log();
    const otelc_log_data_t *recs[1] = { &r };
    json_object *o, *rl, *sl, *lr;
    size_t n;
    static const char *const keys[] = {
        "timeUnixNano",
        "observedTimeUnixNano",
        "severityNumber",
        "severityText",
        "body",
        "attributes",
        "droppedAttributesCount",
        "flags",
        "traceId",
        "spanId",
        "eventName",
        NULL,
    };

    (void)state;
    all_types(attrs, &n);
    r.attrs = attrs;
    r.n_attrs = (uint32_t)n;
    r.dropped_attrs = 3;
    r.ctx = test_ctx();
    r.event_name = S("order_submitted");
    r.severity = 10;
    r.severity_text = S("INFO2");
    r.observed_time_ns = T0 + 1;
    o = otlp_logs(&res, recs, 1);
    assert_int_equal(json_object_array_length(get(o, "resourceLogs")), 1);
    rl = json_object_array_get_idx(get(o, "resourceLogs"), 0);
    check_key_values(get(get(rl, "resource"), "attributes"), res_attrs, 2);
    assert_int_equal(json_object_array_length(get(rl, "scopeLogs")), 1);
    sl = json_object_array_get_idx(get(rl, "scopeLogs"), 0);
    assert_str(get(sl, "scope"), "name", "trading.orders");
    assert_absent(get(sl, "scope"), "version");
    assert_int_equal(json_object_array_length(get(sl, "logRecords")), 1);
    lr = json_object_array_get_idx(get(sl, "logRecords"), 0);
    assert_keys(lr, keys);
    assert_str(lr, "timeUnixNano", "1795257000123456789");
    assert_str(lr, "observedTimeUnixNano", "1795257000123456790");
    assert_int_member(lr, "severityNumber", 10);
    assert_str(lr, "severityText", "INFO2");
    assert_str(get(lr, "body"), "stringValue", "order sent");
    check_key_values(get(lr, "attributes"), attrs, n);
    assert_int_member(lr, "droppedAttributesCount", 3);
    assert_int_member(lr, "flags", 1);
    assert_str(lr, "traceId", TRACE_HEX);
    assert_str(lr, "spanId", SPAN_HEX);
    assert_str(lr, "eventName", "order_submitted");
    json_object_put(o);
}

/* Default values are left out; the correlation id becomes an attribute. */
static void test_otlp_log_defaults(void **state)
{
    otelc_attr_t dup[] = { OTELC_INT("k", 1), OTELC_INT("k", 2) };
    otelc_attr_t has_corr[] = { OTELC_STR("correlation.id", "own") };
    otelc_log_data_t r;
    const otelc_log_data_t *recs[1] = { &r };
    json_object *o, *rl, *sl, *lr, *kv;
    static const char *const none[] = { NULL };
    static const char *const rl_keys[] = { "scopeLogs", NULL };
    static const char *const sl_keys[] = { "logRecords", NULL };

    (void)state;
    memset(&r, 0, sizeof(r));
    o = otlp_logs(NULL, recs, 1);
    rl = json_object_array_get_idx(get(o, "resourceLogs"), 0);
    assert_keys(rl, rl_keys);
    sl = json_object_array_get_idx(get(rl, "scopeLogs"), 0);
    assert_keys(sl, sl_keys);
    lr = json_object_array_get_idx(get(sl, "logRecords"), 0);
    assert_keys(lr, none);
    json_object_put(o);

    r.correlation_id = S("trade-1");
    r.attrs = dup;
    r.n_attrs = 2;
    o = otlp_logs(NULL, recs, 1);
    rl = json_object_array_get_idx(get(o, "resourceLogs"), 0);
    sl = json_object_array_get_idx(get(rl, "scopeLogs"), 0);
    lr = json_object_array_get_idx(get(sl, "logRecords"), 0);
    assert_int_equal(json_object_array_length(get(lr, "attributes")), 2);
    kv = json_object_array_get_idx(get(lr, "attributes"), 0);
    assert_str(kv, "key", "k");
    assert_str(get(kv, "value"), "intValue", "1");
    kv = json_object_array_get_idx(get(lr, "attributes"), 1);
    assert_str(kv, "key", "correlation.id");
    assert_str(get(kv, "value"), "stringValue", "trade-1");
    json_object_put(o);

    r.attrs = has_corr;
    r.n_attrs = 1;
    o = otlp_logs(NULL, recs, 1);
    rl = json_object_array_get_idx(get(o, "resourceLogs"), 0);
    sl = json_object_array_get_idx(get(rl, "scopeLogs"), 0);
    lr = json_object_array_get_idx(get(sl, "logRecords"), 0);
    assert_int_equal(json_object_array_length(get(lr, "attributes")), 1);
    kv = json_object_array_get_idx(get(lr, "attributes"), 0);
    assert_str(get(kv, "value"), "stringValue", "own");
    json_object_put(o);
}

/* One ScopeLogs per distinct scope, in order of first appearance; scopes
 * with the same name and version are one, whatever their pointers. */
static void test_otlp_log_scopes(void **state)
{
    enum { N = 7 };
    const otelc_scope_info_t *scopes[N] = {
        &scope_orders, &scope_engine, &scope_orders, &scope_orders_twin, NULL, &scope_engine, NULL
    };
    static const int group_of[N] = { 0, 1, 0, 0, 2, 1, 2 };
    otelc_log_data_t recs[N];
    const otelc_log_data_t *ptrs[N];
    char bodies[N][8];
    json_object *o, *sls;

    (void)state;
    for (int i = 0; i < N; i++) {
        recs[i] = make_log();
        recs[i].scope = scopes[i];
        snprintf(bodies[i], sizeof(bodies[i]), "rec%d", i);
        recs[i].body = (otelc_str_t){ bodies[i], strlen(bodies[i]) };
        ptrs[i] = &recs[i];
    }
    o = otlp_logs(NULL, ptrs, N);
    sls = get(json_object_array_get_idx(get(o, "resourceLogs"), 0), "scopeLogs");
    assert_int_equal(json_object_array_length(sls), 3);
    assert_str(get(json_object_array_get_idx(sls, 0), "scope"), "name", "trading.orders");
    assert_str(get(json_object_array_get_idx(sls, 1), "scope"), "name", "trading.engine");
    assert_str(get(json_object_array_get_idx(sls, 1), "scope"), "version", "1.0");
    assert_absent(json_object_array_get_idx(sls, 2), "scope");
    for (int g = 0; g < 3; g++) {
        json_object *lrs = get(json_object_array_get_idx(sls, (size_t)g), "logRecords");
        size_t k = 0;
        for (int i = 0; i < N; i++) {
            if (group_of[i] != g)
                continue;
            assert_str(get(json_object_array_get_idx(lrs, k), "body"), "stringValue", bodies[i]);
            k++;
        }
        assert_int_equal(json_object_array_length(lrs), k);
    }
    json_object_put(o);
}

/* More distinct scopes than are remembered by pointer: order and grouping
 * hold all the same. */
static void test_otlp_many_scopes(void **state)
{
    enum { SCOPES = 40, N = 200 };
    otelc_scope_info_t scopes[SCOPES];
    char names[SCOPES][16];
    otelc_span_data_t spans[N];
    const otelc_span_data_t *ptrs[N];
    int first_seen[SCOPES];
    int order[SCOPES], n_order = 0;
    uint64_t seed = 7;
    json_object *o, *sss;

    (void)state;
    for (int i = 0; i < SCOPES; i++) {
        snprintf(names[i], sizeof(names[i]), "scope.%d", i);
        scopes[i].name = (otelc_str_t){ names[i], strlen(names[i]) };
        scopes[i].version = S("");
        first_seen[i] = -1;
    }
    for (int i = 0; i < N; i++) {
        int k;
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        k = (int)((seed >> 33) % SCOPES);
        spans[i] = make_span();
        spans[i].scope = &scopes[k];
        spans[i].start_ns = (uint64_t)i + 1;
        ptrs[i] = &spans[i];
        if (first_seen[k] < 0) {
            first_seen[k] = i;
            order[n_order++] = k;
        }
    }
    o = otlp_spans(NULL, ptrs, N);
    sss = get(json_object_array_get_idx(get(o, "resourceSpans"), 0), "scopeSpans");
    assert_int_equal(json_object_array_length(sss), n_order);
    for (int g = 0; g < n_order; g++) {
        json_object *ss = json_object_array_get_idx(sss, (size_t)g);
        json_object *list = get(ss, "spans");
        size_t k = 0;
        assert_str(get(ss, "scope"), "name", names[order[g]]);
        for (int i = 0; i < N; i++) {
            char want[24];
            if (spans[i].scope != &scopes[order[g]])
                continue;
            snprintf(want, sizeof(want), "%d", i + 1);
            assert_str(json_object_array_get_idx(list, k), "startTimeUnixNano", want);
            k++;
        }
        assert_int_equal(json_object_array_length(list), k);
    }
    json_object_put(o);
}

static void test_otlp_span_fields(void **state)
{
    otelc_attr_t attrs[32];
    otelc_attr_t ev_attrs[] = { OTELC_INT("n", 1) };
    otelc_event_data_t events[2];
    otelc_link_data_t links[2];
    otelc_attr_t res_attrs[] = { OTELC_STR("service.name", "trader") };
    otelc_resource_t res = { res_attrs, 1 };
    otelc_span_data_t s = make_span();
    const otelc_span_data_t *ptrs[1] = { &s };
    json_object *o, *rs, *ss, *sp, *e, *l;
    size_t n;
    static const char *const keys[] = {
        "traceId",
        "spanId",
        "traceState",
        "parentSpanId",
        "flags",
        "name",
        "kind",
        "startTimeUnixNano",
        "endTimeUnixNano",
        "attributes",
        "droppedAttributesCount",
        "events",
        "droppedEventsCount",
        "links",
        "droppedLinksCount",
        "status",
        NULL,
    };
    static const char *const event_keys[] = { "timeUnixNano", "name", "attributes",
                                              "droppedAttributesCount", NULL };
    static const char *const link_keys[] = { "traceId",    "spanId",
                                             "attributes", "droppedAttributesCount",
                                             "flags",      NULL };
    static const char *const bare_link_keys[] = { "traceId", "spanId", "flags", NULL };

    (void)state;
    all_types(attrs, &n);
    memset(events, 0, sizeof(events));
    memset(links, 0, sizeof(links));
    events[0].time_ns = T0 + 5;
    events[0].name = S("filled");
    events[0].attrs = ev_attrs;
    events[0].n_attrs = 1;
    events[0].dropped_attrs = 4;
    events[1].name = S("");
    links[0].ctx = test_ctx();
    links[0].ctx.is_remote = true;
    links[0].attrs = ev_attrs;
    links[0].n_attrs = 1;
    links[0].dropped_attrs = 2;
    links[1].ctx = test_ctx();
    links[1].ctx.trace_flags = 0;
    s.trace_state = S("vendor=a:b");
    memcpy(s.parent_span_id, "\xa1\xb2\xc3\xd4\xe5\xf6\x07\x18", 8);
    s.parent_is_remote = true;
    s.kind = OTELC_SPAN_KIND_CONSUMER;
    s.attrs = attrs;
    s.n_attrs = (uint32_t)n;
    s.dropped_attrs = 5;
    s.events = events;
    s.n_events = 2;
    s.dropped_events = 6;
    s.links = links;
    s.n_links = 2;
    s.dropped_links = 7;
    s.status_code = OTELC_STATUS_ERROR;
    s.status_message = S("boom");
    o = otlp_spans(&res, ptrs, 1);
    rs = json_object_array_get_idx(get(o, "resourceSpans"), 0);
    check_key_values(get(get(rs, "resource"), "attributes"), res_attrs, 1);
    ss = json_object_array_get_idx(get(rs, "scopeSpans"), 0);
    assert_str(get(ss, "scope"), "name", "trading.engine");
    assert_str(get(ss, "scope"), "version", "1.0");
    sp = json_object_array_get_idx(get(ss, "spans"), 0);
    assert_keys(sp, keys);
    assert_str(sp, "traceId", TRACE_HEX);
    assert_str(sp, "spanId", SPAN_HEX);
    assert_str(sp, "traceState", "vendor=a:b");
    assert_str(sp, "parentSpanId", PARENT_HEX);
    /* Sampled, and the parent known (0x100) to be remote (0x200). */
    assert_int_member(sp, "flags", 0x301);
    assert_str(sp, "name", "place_order");
    assert_int_member(sp, "kind", 5);
    assert_str(sp, "startTimeUnixNano", "1795257000123456789");
    assert_str(sp, "endTimeUnixNano", "1795257000124691356");
    check_key_values(get(sp, "attributes"), attrs, n);
    assert_int_member(sp, "droppedAttributesCount", 5);
    assert_int_member(sp, "droppedEventsCount", 6);
    assert_int_member(sp, "droppedLinksCount", 7);
    assert_str(get(sp, "status"), "message", "boom");
    assert_int_member(get(sp, "status"), "code", 2);

    e = json_object_array_get_idx(get(sp, "events"), 0);
    assert_keys(e, event_keys);
    assert_str(e, "timeUnixNano", "1795257000123456794");
    assert_str(e, "name", "filled");
    check_key_values(get(e, "attributes"), ev_attrs, 1);
    assert_int_member(e, "droppedAttributesCount", 4);
    e = json_object_array_get_idx(get(sp, "events"), 1);
    assert_int_equal(json_object_object_length(e), 0);

    l = json_object_array_get_idx(get(sp, "links"), 0);
    assert_keys(l, link_keys);
    assert_str(l, "traceId", TRACE_HEX);
    assert_str(l, "spanId", SPAN_HEX);
    check_key_values(get(l, "attributes"), ev_attrs, 1);
    assert_int_member(l, "droppedAttributesCount", 2);
    assert_int_member(l, "flags", 0x301);
    l = json_object_array_get_idx(get(sp, "links"), 1);
    assert_keys(l, bare_link_keys);
    assert_int_member(l, "flags", 0x100);
    json_object_put(o);
}

static void test_otlp_span_defaults(void **state)
{
    otelc_span_data_t s;
    const otelc_span_data_t *ptrs[1] = { &s };
    json_object *o, *sp;
    static const char *const keys[] = { "traceId", "spanId", "flags", NULL };
    static const char *const status_keys[] = { "message", NULL };

    (void)state;
    memset(&s, 0, sizeof(s));
    o = otlp_spans(NULL, ptrs, 1);
    sp = json_object_array_get_idx(
        get(json_object_array_get_idx(
                get(json_object_array_get_idx(get(o, "resourceSpans"), 0), "scopeSpans"), 0),
            "spans"),
        0);
    assert_keys(sp, keys);
    assert_str(sp, "traceId", "00000000000000000000000000000000");
    assert_int_member(sp, "flags", 0x100);
    json_object_put(o);
    /* A status with a message and code UNSET keeps the message only. */
    s.status_message = S("why");
    o = otlp_spans(NULL, ptrs, 1);
    sp = json_object_array_get_idx(
        get(json_object_array_get_idx(
                get(json_object_array_get_idx(get(o, "resourceSpans"), 0), "scopeSpans"), 0),
            "spans"),
        0);
    assert_keys(get(sp, "status"), status_keys);
    json_object_put(o);
    /* No records: an empty list of scopes. */
    o = otlp_spans(NULL, ptrs, 0);
    assert_int_equal(json_object_array_length(
                         get(json_object_array_get_idx(get(o, "resourceSpans"), 0), "scopeSpans")),
                     0);
    json_object_put(o);
}

/* Lines are appended: several records in one buffer, each one line. */
static void test_lines_append(void **state)
{
    otelc__fbuf_t b = { 0 };
    otelc_log_data_t r = make_log();
    otelc_span_data_t s = make_span();
    const otelc_log_data_t *recs[1] = { &r };
    size_t lines = 0;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        r.time_ns += 1000000007u;
        otelc__flat_log(&b, &r);
        otelc__flat_span(&b, &s);
        otelc__otlp_logs(&b, NULL, recs, 1);
    }
    assert_false(b.failed);
    for (size_t at = 0; at < b.len;) {
        const char *nl = memchr(b.data + at, '\n', b.len - at);
        json_object *o;
        assert_non_null(nl);
        o = parse_line(b.data + at, (size_t)(nl - (b.data + at)) + 1);
        json_object_put(o);
        at = (size_t)(nl - b.data) + 1;
        lines++;
    }
    assert_int_equal(lines, 3000);
    otelc__fbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fbuf_grows_from_empty),
        cmocka_unit_test(test_fbuf_failure_sticks),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_string_utf8),
        cmocka_unit_test(test_string_long),
        cmocka_unit_test(test_integers),
        cmocka_unit_test(test_doubles),
        cmocka_unit_test(test_doubles_locale),
        cmocka_unit_test(test_base64_and_hex),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_milliseconds),
        cmocka_unit_test(test_flat_log_fields),
        cmocka_unit_test(test_flat_log_minimal),
        cmocka_unit_test(test_flat_log_levels),
        cmocka_unit_test(test_flat_log_collisions),
        cmocka_unit_test(test_flat_log_correlation),
        cmocka_unit_test(test_flat_attribute_types),
        cmocka_unit_test(test_flat_awkward_strings),
        cmocka_unit_test(test_flat_span_fields),
        cmocka_unit_test(test_flat_span_minimal),
        cmocka_unit_test(test_otlp_log_fields),
        cmocka_unit_test(test_otlp_log_defaults),
        cmocka_unit_test(test_otlp_log_scopes),
        cmocka_unit_test(test_otlp_many_scopes),
        cmocka_unit_test(test_otlp_span_fields),
        cmocka_unit_test(test_otlp_span_defaults),
        cmocka_unit_test(test_lines_append),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
