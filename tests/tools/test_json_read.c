/*
 * test_json_read.c: the otelc tool's JSON reader, record model and time
 * parsing, case by case (tools/json_read.c, record.c, util.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_read.h"
#include "output.h"
#include "record.h"
#include "util.h"

static json_arena_t arena;

static int setup(void **state)
{
    (void)state;
    json_arena_init(&arena);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_arena_free(&arena);
    return 0;
}

static json_value_t *parse_ok(const char *text)
{
    json_value_t *root = NULL;
    json_error_t err;

    json_arena_reset(&arena);
    if (!json_parse(&arena, text, strlen(text), &root, &err))
        fail_msg("'%s': %s at %zu", text, err.msg, err.pos);
    return root;
}

static void parse_fails(const char *text, size_t len, size_t pos, const char *msg)
{
    json_value_t *root = (json_value_t *)&root;
    json_error_t err;

    json_arena_reset(&arena);
    assert_false(json_parse(&arena, text, len, &root, &err));
    assert_null(root);
    assert_string_equal(err.msg, msg);
    assert_int_equal(err.pos, pos);
}

#define FAILS(lit, pos, msg) parse_fails((lit), sizeof(lit) - 1u, (pos), (msg))

static void assert_str(const json_value_t *v, const char *bytes, size_t n)
{
    assert_non_null(v);
    assert_int_equal(v->type, JSON_STRING);
    assert_int_equal(v->len, n);
    assert_memory_equal(v->str, bytes, n);
}

#define ASSERT_STR(v, lit) assert_str((v), (lit), sizeof(lit) - 1u)

/* ---- the reader -------------------------------------------------------- */

static void test_values(void **state)
{
    const char *text = " {\"a\":[1,-2.5e3,true,false,null],\"b\":{},\"c\":\"x\",\"a\":2} ";
    json_value_t *root;
    const json_value_t *a, *e;

    (void)state;
    root = parse_ok(text);
    assert_int_equal(root->type, JSON_OBJECT);
    assert_int_equal(root->count, 4);
    /* json_get finds the first of two equal keys. */
    a = json_get(root, "a");
    assert_int_equal(a->type, JSON_ARRAY);
    assert_int_equal(a->count, 5);
    e = a->first;
    assert_int_equal(e->type, JSON_NUMBER);
    assert_int_equal(e->len, 1);
    e = e->next;
    assert_int_equal(e->len, 6);
    assert_memory_equal(e->str, "-2.5e3", 6);
    assert_int_equal(e->next->type, JSON_TRUE);
    assert_int_equal(e->next->next->type, JSON_FALSE);
    assert_int_equal(e->next->next->next->type, JSON_NULL);
    assert_null(e->next->next->next->next);
    assert_int_equal(json_get(root, "b")->type, JSON_OBJECT);
    assert_int_equal(json_get(root, "b")->count, 0);
    assert_true(json_string_is(json_get(root, "c"), "x"));
    /* A string without escapes points into the input. */
    assert_true(json_get(root, "c")->str > text && json_get(root, "c")->str < text + strlen(text));
    assert_null(json_get(root, "d"));
    assert_null(json_get(a, "a"));
    assert_null(json_get(NULL, "a"));
}

static void test_escapes(void **state)
{
    json_value_t *v;

    (void)state;
    v = parse_ok("\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"");
    ASSERT_STR(v, "q\" b\\ s/ \b\f\n\r\t");
    v = parse_ok("\"caf\\u00e9 \\u20AC\"");
    ASSERT_STR(v, "caf\xc3\xa9 \xe2\x82\xac");
    /* A surrogate pair is one code point (U+1F600). */
    v = parse_ok("\"\\ud83d\\ude00\"");
    ASSERT_STR(v, "\xf0\x9f\x98\x80");
    /* Lone surrogates have no UTF-8 form: U+FFFD. */
    v = parse_ok("\"a\\ud83d\"");
    ASSERT_STR(v, "a\xef\xbf\xbd");
    v = parse_ok("\"\\ude00b\"");
    ASSERT_STR(v, "\xef\xbf\xbd"
                  "b");
    v = parse_ok("\"\\ud83d\\u0041\"");
    ASSERT_STR(v, "\xef\xbf\xbd"
                  "A");
    /* \u0000 is a character like any other. */
    v = parse_ok("\"a\\u0000b\"");
    assert_str(v, "a\0b", 3);
    /* Keys are decoded as well. */
    v = parse_ok("{\"k\\u00e9\":1}");
    assert_int_equal(v->first->key_len, 3);
    assert_memory_equal(v->first->key, "k\xc3\xa9", 3);
}

static void test_utf8(void **state)
{
    json_value_t *v;

    (void)state;
    /* Well-formed multi-byte UTF-8 passes, in place. */
    v = parse_ok("\"\xe2\x82\xac \xf0\x9f\x98\x80\"");
    ASSERT_STR(v, "\xe2\x82\xac \xf0\x9f\x98\x80");
    /* A stray continuation byte, an overlong form, a surrogate, a cut
     * sequence: each bad byte becomes U+FFFD. */
    v = parse_ok("\"a\x80z\"");
    ASSERT_STR(v, "a\xef\xbf\xbdz");
    v = parse_ok("\"\xc0\xaf\"");
    ASSERT_STR(v, "\xef\xbf\xbd\xef\xbf\xbd");
    v = parse_ok("\"\xed\xa0\x80\"");
    ASSERT_STR(v, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    v = parse_ok("\"\xe2\x82\"");
    ASSERT_STR(v, "\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_errors(void **state)
{
    (void)state;
    FAILS("", 0, "unexpected end of input");
    FAILS("   ", 3, "unexpected end of input");
    FAILS("{\"a\":}", 5, "unexpected character");
    FAILS("{\"a\" 1}", 5, "expected ':'");
    FAILS("{1:2}", 1, "expected a string key");
    FAILS("{\"a\":1,}", 7, "expected a string key");
    FAILS("[1,2", 4, "expected ',' or ']'");
    FAILS("[1 2]", 3, "expected ',' or ']'");
    FAILS("{\"a\":1 \"b\":2}", 7, "expected ',' or '}'");
    FAILS("\"abc", 4, "unterminated string");
    FAILS("\"ab\\\"", 5, "unterminated string");
    FAILS("{\"a\":1} x", 8, "unexpected data after the JSON value");
    FAILS("01", 1, "unexpected data after the JSON value");
    FAILS("\"a\x01\"", 2, "control character in string");
    FAILS("\"a\nb\"", 2, "control character in string");
    FAILS("\"a\0b\"", 2, "control character in string");
    FAILS("\"\\q\"", 1, "invalid escape in string");
    FAILS("\"x\\u12G4\"", 2, "invalid \\u escape in string");
    FAILS("\"\\u12\"", 1, "invalid \\u escape in string");
    FAILS("-", 1, "invalid number");
    FAILS("-a", 1, "invalid number");
    FAILS("1.", 2, "invalid number");
    FAILS("1.e5", 2, "invalid number");
    FAILS("1e", 2, "invalid number");
    FAILS("1e+", 3, "invalid number");
    FAILS("+1", 0, "unexpected character");
    FAILS("tru", 0, "invalid literal");
    FAILS("nul", 0, "invalid literal");
    FAILS("[1]\0", 3, "unexpected data after the JSON value");
}

static void test_depth(void **state)
{
    char deep[2 * JSON_MAX_DEPTH + 8];
    size_t n = 0;
    json_value_t *root;
    json_error_t err;

    (void)state;
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    json_arena_reset(&arena);
    assert_true(json_parse(&arena, deep, n, &root, &err));

    n = 0;
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        deep[n++] = '[';
    for (int i = 0; i <= JSON_MAX_DEPTH; i++)
        deep[n++] = ']';
    json_arena_reset(&arena);
    assert_false(json_parse(&arena, deep, n, &root, &err));
    assert_string_equal(err.msg, "nesting too deep");
    assert_int_equal(err.pos, JSON_MAX_DEPTH);
}

/* A parse larger than an arena block, then small ones reusing the memory. */
static void test_arena(void **state)
{
    size_t n = 200000;
    char *big = malloc(n + 3u);
    json_value_t *root;
    json_error_t err;

    (void)state;
    assert_non_null(big);
    big[0] = '[';
    for (size_t i = 1; i < n; i += 2) {
        big[i] = '1';
        big[i + 1u] = ',';
    }
    big[n - 1u] = '1';
    big[n] = ']';
    json_arena_reset(&arena);
    assert_true(json_parse(&arena, big, n + 1u, &root, &err));
    assert_int_equal(root->count, n / 2u);
    for (int i = 0; i < 1000; i++)
        assert_true(json_string_is(parse_ok("\"a\\nb\""), "a\nb"));
    free(big);
}

static void test_numbers(void **state)
{
    uint64_t u = 0;
    int64_t i = 0;
    double d = 0;

    (void)state;
    assert_true(json_to_u64(parse_ok("\"18446744073709551615\""), &u));
    assert_true(u == UINT64_MAX);
    assert_false(json_to_u64(parse_ok("\"18446744073709551616\""), &u));
    assert_false(json_to_u64(parse_ok("-1"), &u));
    assert_false(json_to_u64(parse_ok("1.0"), &u));
    assert_false(json_to_u64(parse_ok("\"\""), &u));
    assert_true(json_to_i64(parse_ok("\"-9223372036854775808\""), &i));
    assert_true(i == INT64_MIN);
    assert_true(json_to_i64(parse_ok("9223372036854775807"), &i));
    assert_true(i == INT64_MAX);
    assert_false(json_to_i64(parse_ok("9223372036854775808"), &i));
    assert_true(json_to_double(parse_ok("-2.5e3"), &d));
    assert_true(d == -2500.0);
    assert_true(json_to_double(parse_ok("\"1e3\""), &d));
    assert_true(d == 1000.0);
    assert_true(json_to_double(parse_ok("\"NaN\""), &d));
    assert_true(isnan(d));
    assert_true(json_to_double(parse_ok("\"-Infinity\""), &d));
    assert_true(isinf(d) && d < 0);
    assert_false(json_to_double(parse_ok("\"0x10\""), &d));
    assert_false(json_to_double(parse_ok("\" 1\""), &d));
    assert_false(json_to_double(parse_ok("true"), &d));
}

/* ---- writing back ------------------------------------------------------ */

static void test_write_back(void **state)
{
    strbuf_t sb = STRBUF_INIT;

    (void)state;
    json_put_value(&sb, parse_ok(" { \"a\" : [ 1 , \"\\u0001\\u00e9\\\"\" ] , \"b\" : null } "));
    assert_string_equal(sb.p, "{\"a\":[1,\"\\u0001\xc3\xa9\\\"\"],\"b\":null}");
    sb_reset(&sb);
    json_put_anyvalue(&sb, parse_ok("{\"arrayValue\":{\"values\":[{\"intValue\":\"-7\"},"
                                    "{\"kvlistValue\":{\"values\":[{\"key\":\"k\",\"value\":"
                                    "{\"boolValue\":true}}]}},{\"doubleValue\":\"NaN\"},{}]}}"));
    assert_string_equal(sb.p, "[-7,{\"k\":true},\"NaN\",null]");
    sb_free(&sb);
}

/* ---- records ----------------------------------------------------------- */

static void test_flat_record(void **state)
{
    record_list_t list = { 0 };
    json_value_t *root = parse_ok(
        "{\"timestamp\":\"2026-11-21T10:30:00.123456Z\",\"level\":\"INFO2\",\"logger\":\"t.o\","
        "\"message\":\"m\",\"event\":\"e\",\"trace_id\":\"00000000000000000000000000000000\","
        "\"correlation_id\":\"c\",\"qty\":1}");
    const tool_record_t *r;

    (void)state;
    assert_null(record_parse(root, &list));
    assert_int_equal(list.n, 1);
    r = &list.v[0];
    assert_int_equal(r->kind, REC_LOG);
    assert_int_equal(r->source, REC_FLAT);
    assert_true(r->time == 1795257000123456LL);
    assert_int_equal(r->severity, 10);
    assert_true(tstr_eq(r->logger, "t.o"));
    assert_true(tstr_eq(r->message, "m"));
    assert_true(tstr_eq(r->event, "e"));
    assert_true(tstr_eq(r->correlation_id, "c"));
    /* An all-zero id is no id. */
    assert_int_equal(r->trace_id.n, 0);

    assert_string_equal(record_parse(parse_ok("{\"level\":\"INFO\"}"), &list),
                        "no valid \"timestamp\"");
    assert_int_equal(list.n, 0);
    assert_string_equal(record_parse(parse_ok("[1]"), &list), "not a JSON object");
    /* Another kind of record is skipped, not an error. */
    assert_null(record_parse(parse_ok("{\"type\":\"metric\"}"), &list));
    assert_int_equal(list.n, 0);
    record_list_free(&list);
}

static void test_otlp_records(void **state)
{
    record_list_t list = { 0 };
    json_value_t *root = parse_ok(
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"scope\":{\"name\":\"s\"},\"logRecords\":["
        "{\"timeUnixNano\":\"1795257000123456789\",\"severityNumber\":17,"
        "\"body\":{\"stringValue\":\"b\"},\"attributes\":[{\"key\":\"event.name\",\"value\":"
        "{\"stringValue\":\"ev\"}}],\"traceId\":\"5BF92F3577B34DA6A3CE929D0E0E4736\"},"
        "{\"observedTimeUnixNano\":\"1000\",\"severityText\":\"warning\"}]}]}],"
        "\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"sp\",\"kind\":"
        "\"SPAN_KIND_CLIENT\",\"startTimeUnixNano\":\"2000000\",\"endTimeUnixNano\":\"5000000\","
        "\"status\":{\"code\":\"STATUS_CODE_ERROR\"}}]}]}]}");

    (void)state;
    assert_null(record_parse(root, &list));
    assert_int_equal(list.n, 3);
    assert_true(list.v[0].time == 1795257000123456LL);
    assert_int_equal(list.v[0].severity, 17);
    assert_true(tstr_eq(list.v[0].logger, "s"));
    assert_true(tstr_eq(list.v[0].message, "b"));
    assert_true(tstr_eq(list.v[0].event, "ev"));
    assert_true(hex_id_equal(list.v[0].trace_id, "5bf92f3577b34da6a3ce929d0e0e4736"));
    assert_true(list.v[1].time == 1);
    assert_int_equal(list.v[1].severity, 13);
    assert_int_equal(list.v[2].kind, REC_SPAN);
    assert_int_equal(list.v[2].span_kind, 3);
    assert_int_equal(list.v[2].status_code, SPAN_STATUS_ERROR);
    assert_true(list.v[2].duration_ms == 3.0);

    assert_string_equal(record_parse(parse_ok("{\"resourceLogs\":{}}"), &list),
                        "\"resourceLogs\" is not an array");
    assert_string_equal(record_parse(parse_ok("{\"resourceLogs\":[{\"scopeLogs\":[{"
                                              "\"logRecords\":[1]}]}]}"),
                                     &list),
                        "a log record is not an object");
    assert_int_equal(list.n, 0);
    record_list_free(&list);
}

static void test_levels(void **state)
{
    char buf[16];

    (void)state;
    assert_int_equal(severity_from_text("TRACE", 5), 1);
    assert_int_equal(severity_from_text("debug", 5), 5);
    assert_int_equal(severity_from_text("Warning", 7), 13);
    assert_int_equal(severity_from_text("CRITICAL", 8), 21);
    assert_int_equal(severity_from_text("FATAL4", 6), 24);
    assert_int_equal(severity_from_text("INFO5", 5), 0);
    assert_int_equal(severity_from_text("LOUD", 4), 0);
    assert_string_equal(severity_text(10, buf), "INFO2");
    assert_string_equal(severity_text(17, buf), "ERROR");
    assert_string_equal(severity_text(0, buf), "UNSPECIFIED");
}

/* ---- time -------------------------------------------------------------- */

static void test_time(void **state)
{
    tool_time_t t = 0, now = 1795262400000000LL; /* 2026-11-21T12:00:00Z */
    char buf[32];

    (void)state;
    assert_true(time_parse_iso("2026-11-21T10:30:00.123456Z", 27, &t));
    assert_true(t == 1795257000123456LL);
    time_format_iso(t, buf);
    assert_string_equal(buf, "2026-11-21T10:30:00.123456Z");
    assert_true(time_parse_iso("2026-11-21T12:30:00.5+02:00", 27, &t));
    assert_true(t == 1795257000500000LL);
    assert_true(time_parse_iso("1969-12-31T23:59:59.5Z", 22, &t));
    assert_true(t == -500000);
    time_format_iso(t, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.500000Z");
    assert_false(time_parse_iso("2026-02-30T00:00:00Z", 20, &t));
    assert_false(time_parse_iso("2026-11-21T24:00:00Z", 20, &t));
    assert_false(time_parse_iso("2026-11-21T10:30:00Zjunk", 24, &t));
    assert_false(time_parse_iso("2026-11-21T10", 13, &t));

    /* Relative to now; a date as --until is the end of that day (TZ=UTC). */
    assert_true(time_parse_arg("90m", now, false, &t));
    assert_true(t == now - 5400000000LL);
    assert_true(time_parse_arg("2d", now, false, &t));
    assert_true(t == now - 172800000000LL);
    assert_true(time_parse_arg("now", now, false, &t));
    assert_true(t == now);
    assert_true(time_parse_arg("2026-11-21", now, true, &t));
    assert_true(t == 1795305600000000LL);
    assert_true(time_parse_arg("2026-11-21", now, false, &t));
    assert_true(t == 1795219200000000LL);
    assert_false(time_parse_arg("5x", now, false, &t));
    assert_false(time_parse_arg("h", now, false, &t));

    format_age(3723000000LL, buf);
    assert_string_equal(buf, "1h02m");
    format_age(-5000000LL, buf);
    assert_string_equal(buf, "-5s");
    format_size(1536, buf);
    assert_string_equal(buf, "1.5 KiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),      cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_utf8),        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_depth),       cmocka_unit_test(test_arena),
        cmocka_unit_test(test_numbers),     cmocka_unit_test(test_write_back),
        cmocka_unit_test(test_flat_record), cmocka_unit_test(test_otlp_records),
        cmocka_unit_test(test_levels),      cmocka_unit_test(test_time),
    };

    /* Dates without a zone are local: pin the zone. */
    setenv("TZ", "UTC", 1);
    return cmocka_run_group_tests(tests, setup, teardown);
}
