/*
 * test_text.c: the text module (otelc/text.h) that the console, the file
 * exporter and the otelc tool share. JSON output is read back with json-c,
 * doubles with strtod(), an implementation that is not ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <math.h>

#include <otelc/text.h>

/* ---- UTF-8 ----------------------------------------------------------------------- */

static void utf8_sequences(void **state)
{
    static const struct {
        const char *bytes;
        size_t n;
        size_t len; /* 0: ill-formed */
        size_t bad; /* its maximal subpart */
    } cases[] = {
        { "\xc3\xa9", 2, 2, 0 },          /* é */
        { "\xe2\x82\xac", 3, 3, 0 },      /* € */
        { "\xf0\x9f\x98\x80", 4, 4, 0 },  /* U+1F600 */
        { "\xf4\x8f\xbf\xbf", 4, 4, 0 },  /* U+10FFFF */
        { "\xc0\xaf", 2, 0, 1 },          /* overlong '/' */
        { "\xc1\xbf", 2, 0, 1 },          /* overlong */
        { "\xe0\x80\xaf", 3, 0, 1 },      /* overlong, 3 bytes */
        { "\xf0\x80\x80\xaf", 4, 0, 1 },  /* overlong, 4 bytes */
        { "\xed\xa0\x80", 3, 0, 1 },      /* surrogate U+D800 */
        { "\xf4\x90\x80\x80", 4, 0, 1 },  /* past U+10FFFF */
        { "\xf5\x80\x80\x80", 4, 0, 1 },  /* never a lead byte */
        { "\x80", 1, 0, 1 },              /* lone continuation */
        { "\xe2\x82", 2, 0, 2 },          /* truncated at the end */
        { "\xe2\x82x", 3, 0, 2 },         /* cut by ASCII */
        { "\xf0\x9f\x98", 3, 0, 3 },      /* 3 of 4 */
        { "\xc2\x80", 2, 2, 0 },          /* U+0080, the first 2-byte one */
        { "\xe0\xa0\x80", 3, 3, 0 },      /* U+0800, the first 3-byte one */
        { "\xed\x9f\xbf", 3, 3, 0 },      /* U+D7FF, just below the surrogates */
        { "\xee\x80\x80", 3, 3, 0 },      /* U+E000, just above them */
        { "\xef\xbf\xbf", 3, 3, 0 },      /* U+FFFF */
        { "\xf0\x90\x80\x80", 4, 4, 0 },  /* U+10000, the first 4-byte one */
        { "\xe0\x9f\xbf", 3, 0, 1 },      /* overlong U+07FF */
        { "\xf0\x8f\xbf\xbf", 4, 0, 1 },  /* overlong U+FFFF */
        { "\xed\xbf\xbf", 3, 0, 1 },      /* surrogate U+DFFF */
        { "\xc2", 1, 0, 1 },              /* lead byte alone at the end */
        { "\xc2" "a", 2, 0, 1 },          /* lead byte before ASCII */
        { "\xf4\x8f\xbf", 3, 0, 3 },      /* U+10FFFF cut after 3 */
        { "\xf0\x9f\x98" "a", 4, 0, 3 },  /* 3 of 4, then ASCII */
        { "\xfe", 1, 0, 1 },              /* never in UTF-8 */
        { "\xff", 1, 0, 1 },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 99;
        size_t len = otelc_text_utf8_sequence(cases[i].bytes, cases[i].n, &bad);

        assert_int_equal(len, cases[i].len);
        if (len == 0)
            assert_int_equal(bad, cases[i].bad);
    }
    assert_int_equal(otelc_text_utf8_sequence(NULL, 0, NULL), 0);
    assert_int_equal(otelc_text_utf8_valid("ab\xc3\xa9" "c\xff" "d", 7), 5);
    assert_int_equal(otelc_text_utf8_valid("plain", 5), 5);
    assert_int_equal(otelc_text_utf8_valid("\xe2\x82", 2), 0);
    assert_int_equal(otelc_text_utf8_valid("", 0), 0);
    /* A surrogate or an overlong form ends the valid prefix. */
    assert_int_equal(otelc_text_utf8_valid("ok\xed\xa0\x80", 5), 2);
    assert_int_equal(otelc_text_utf8_valid("\xf0\x9f\x98\x80\xc0\x80", 6), 4);
}

/* ---- JSON strings ------------------------------------------------------------------ */

/* `s` escaped, with quotes, parsed back by json-c: returns its string. */
static const char *round_trip(const char *s, size_t n, char *out, size_t out_size)
{
    char *buf = malloc(OTELC_TEXT_JSON_ROOM(n) + 2);
    size_t pos = 0;
    char *end;
    json_object *o;
    enum json_tokener_error err;
    json_tokener *tok = json_tokener_new();

    assert_non_null(buf);
    assert_non_null(tok);
    buf[0] = '"';
    end = otelc_text_json_escape(buf + 1, s, n, &pos, n);
    assert_int_equal(pos, n);
    /* The inline form writes the same bytes. */
    {
        char *again = malloc(OTELC_TEXT_JSON_ROOM(n));
        size_t again_pos = 0;
        char *again_end;

        assert_non_null(again);
        again_end = otelc_text_json_escape_inline(again, s, n, &again_pos, n);
        assert_int_equal(again_pos, n);
        assert_int_equal(again_end - again, end - (buf + 1));
        assert_memory_equal(again, buf + 1, (size_t)(end - (buf + 1)));
        free(again);
    }
    *end++ = '"';
    o = json_tokener_parse_ex(tok, buf, (int)(end - buf));
    err = json_tokener_get_error(tok);
    assert_int_equal(err, json_tokener_success);
    assert_non_null(o);
    assert_true(json_object_is_type(o, json_type_string));
    assert_true((size_t)json_object_get_string_len(o) < out_size);
    memcpy(out, json_object_get_string(o), (size_t)json_object_get_string_len(o) + 1);
    json_object_put(o);
    json_tokener_free(tok);
    free(buf);
    return out;
}

static void json_escapes(void **state)
{
    char got[256], raw[32];
    char *end;
    size_t pos = 0;

    (void)state;
    assert_string_equal(round_trip("plain text", 10, got, sizeof(got)), "plain text");
    assert_string_equal(round_trip("q\"b\\s/", 6, got, sizeof(got)), "q\"b\\s/");
    assert_string_equal(round_trip("\n\t\r\b\f\x01\x1f\x7f", 8, got, sizeof(got)),
                        "\n\t\r\b\f\x01\x1f\x7f");
    /* A NUL inside the value survives as \u0000; json-c's length sees it. */
    end = otelc_text_json_escape(raw, "a\0b", 3, &pos, 3);
    assert_int_equal(end - raw, 8);
    assert_memory_equal(raw, "a\\u0000b", 8);
    /* UTF-8 kept, ill-formed bytes become U+FFFD, one per maximal subpart. */
    assert_string_equal(round_trip("\xc3\xa9\xe2\x82\xac", 5, got, sizeof(got)),
                        "\xc3\xa9\xe2\x82\xac");
    assert_string_equal(round_trip("a\xff" "b", 3, got, sizeof(got)), "a\xef\xbf\xbd" "b");
    assert_string_equal(round_trip("\xe2\x82" "x", 3, got, sizeof(got)), "\xef\xbf\xbd" "x");
    assert_string_equal(round_trip("\xed\xa0\x80", 3, got, sizeof(got)),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(round_trip("end\xf0\x9f\x98", 6, got, sizeof(got)), "end\xef\xbf\xbd");
    /* Overlong forms and code points past U+10FFFF: their lead byte never
     * starts a well-formed sequence, so every byte is a subpart of its own. */
    assert_string_equal(round_trip("\xc0\xaf", 2, got, sizeof(got)), "\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(round_trip("\xe0\x80\xaf", 3, got, sizeof(got)),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    assert_string_equal(round_trip("\xf4\x90\x80\x80", 4, got, sizeof(got)),
                        "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    /* A truncated sequence is one subpart, however long: one U+FFFD. */
    assert_string_equal(round_trip("\xf0\x9f\x98" "a\xf0\x9f\x98\x80", 8, got, sizeof(got)),
                        "\xef\xbf\xbd" "a\xf0\x9f\x98\x80");
    assert_string_equal(round_trip("\x80\x80", 2, got, sizeof(got)), "\xef\xbf\xbd\xef\xbf\xbd");
    /* U+FFFD itself, in the input, is kept as it is. */
    assert_string_equal(round_trip("\xef\xbf\xbd", 3, got, sizeof(got)), "\xef\xbf\xbd");
    /* Every length from 0 to 40 around the word-at-a-time scan, with the
     * byte that needs an escape at every place. */
    for (size_t n = 0; n <= 40; n++) {
        for (size_t at = 0; at < n; at++) {
            char in[41], want[64];

            memset(in, 'x', n);
            in[at] = '"';
            memcpy(want, in, n);
            want[n] = '\0';
            assert_string_equal(round_trip(in, n, got, sizeof(got)), want);
        }
    }
}

/* The exact text of the escapes: the short forms of RFC 8259 where there is
 * one, \u00XX (lower-case hex) for the other control characters. */
static void json_escape_text(void **state)
{
    static const char *const short_forms[0x80] = {
        ['\b'] = "\\b", ['\t'] = "\\t",  ['\n'] = "\\n",  ['\f'] = "\\f",
        ['\r'] = "\\r", ['"'] = "\\\"", ['\\'] = "\\\\",
    };
    char out[OTELC_TEXT_JSON_ROOM(1)];
    char want[8];

    (void)state;
    for (unsigned c = 0; c < 0x80; c++) {
        char in = (char)c;
        size_t pos = 0;
        char *end = otelc_text_json_escape(out, &in, 1, &pos, 1);

        if (short_forms[c] != NULL)
            snprintf(want, sizeof(want), "%s", short_forms[c]);
        else if (c < 0x20)
            snprintf(want, sizeof(want), "\\u%04x", c);
        else
            snprintf(want, sizeof(want), "%c", (int)c); /* '/' and DEL too */
        assert_int_equal(pos, 1);
        assert_int_equal(end - out, strlen(want));
        assert_memory_equal(out, want, strlen(want));
    }
    /* The room the header promises is enough for the worst case. */
    {
        char in[64], big[OTELC_TEXT_JSON_ROOM(64)];
        size_t pos = 0;

        memset(in, 0x01, sizeof(in));
        assert_int_equal(otelc_text_json_escape(big, in, sizeof(in), &pos, sizeof(in)) - big,
                         6 * sizeof(in));
    }
}

/* A string written in rounds, as long values are: a sequence begun before
 * a round's end is taken whole. */
static void json_escape_in_rounds(void **state)
{
    const char *s = "ab\xe2\x82\xac" "cd";
    char out[64], *o = out;
    size_t pos = 0;

    (void)state;
    o = otelc_text_json_escape(o, s, 7, &pos, 3); /* stops inside the euro sign */
    assert_int_equal(pos, 5);
    o = otelc_text_json_escape(o, s, 7, &pos, 7);
    assert_int_equal(pos, 7);
    assert_int_equal(o - out, 7);
    assert_memory_equal(out, s, 7);
}

/* ---- numbers --------------------------------------------------------------------- */

static void integers(void **state)
{
    char buf[OTELC_TEXT_U64_MAX + 1];
    uint64_t values[] = { 0, 9, 10, 99, 100, 12345, 4294967295u, 10000000000000000000u,
                          UINT64_MAX };

    (void)state;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char want[32];
        char *end = otelc_text_u64(buf, values[i]);

        *end = '\0';
        snprintf(want, sizeof(want), "%llu", (unsigned long long)values[i]);
        assert_string_equal(buf, want);
    }
}

static void signed_integers(void **state)
{
    static const struct {
        int64_t v;
        const char *text;
    } cases[] = {
        { 0, "0" },
        { -1, "-1" },
        { 9, "9" },
        { -10, "-10" },
        { 1234567890123, "1234567890123" },
        { INT64_MAX, "9223372036854775807" },
        { -INT64_MAX, "-9223372036854775807" },
        { INT64_MIN, "-9223372036854775808" },
    };
    char buf[OTELC_TEXT_I64_MAX + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *end = otelc_text_i64(buf, cases[i].v);

        assert_true(end - buf <= OTELC_TEXT_I64_MAX);
        *end = '\0';
        assert_string_equal(buf, cases[i].text);
    }
}

static void doubles(void **state)
{
    static const double values[] = {
        0.0, 1.0, 150.25, 0.1, 1.0 / 3.0, 1e300, 5e-324, 2.2250738585072014e-308,
        123456789.123456789, 9007199254740993.0, 1e21, -2.5, 4.35, 0.000001,
    };
    char buf[OTELC_TEXT_DOUBLE_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        size_t n = otelc_text_json_double(buf, values[i]);
        json_object *o = json_tokener_parse(buf);

        assert_int_equal(n, strlen(buf));
        /* Read back exactly, by strtod and by a JSON parser, as a double. */
        assert_true(strtod(buf, NULL) == values[i]);
        assert_non_null(o);
        assert_true(json_object_is_type(o, json_type_double));
        assert_true(json_object_get_double(o) == values[i]);
        json_object_put(o);
    }
    otelc_text_json_double(buf, 150.0);
    assert_string_equal(buf, "150.0");
    otelc_text_json_double(buf, 150.25);
    assert_string_equal(buf, "150.25");
    otelc_text_json_double(buf, -0.0);
    assert_string_equal(buf, "-0.0");
    otelc_text_json_double(buf, NAN);
    assert_string_equal(buf, "\"NaN\"");
    otelc_text_json_double(buf, INFINITY);
    assert_string_equal(buf, "\"Infinity\"");
    otelc_text_json_double(buf, -INFINITY);
    assert_string_equal(buf, "\"-Infinity\"");
}

/* The exact text: the fewest decimals up to 9 without trailing zeros, else
 * the shortest of 15, 16 or 17 significant digits. */
static void double_text(void **state)
{
    static const struct {
        double d;
        const char *json, *people;
    } cases[] = {
        { 0.0, "0.0", "0" },
        { -0.0, "-0.0", "-0" },
        { 150.0, "150.0", "150" },
        { 150.25, "150.25", "150.25" },
        { -2.5, "-2.5", "-2.5" },
        { 0.1, "0.1", "0.1" },
        { 4.35, "4.35", "4.35" }, /* 4.35 * 100 is not integral, * 1000 is */
        { 0.000001, "0.000001", "1e-06" },
        { 1.0 / 3.0, "0.3333333333333333", "0.3333333333333333" },
        { 123456789.123456789, "123456789.12345679", "123456789.12345679" },
        { 1e15, "1000000000000000.0", "1e+15" },
        { 9007199254740993.0, "9007199254740992.0", "9007199254740992" }, /* 2^53 */
        { 1e21, "1e+21", "1e+21" },
        { 1e300, "1e+300", "1e+300" },
        { 1.7976931348623157e308, "1.7976931348623157e+308", "1.7976931348623157e+308" },
        { 2.2250738585072014e-308, "2.2250738585072014e-308", "2.2250738585072014e-308" },
        /* Denormals: 15 digits are enough for the smallest. */
        { 5e-324, "4.94065645841247e-324", "4.94065645841247e-324" },
        { -5e-324, "-4.94065645841247e-324", "-4.94065645841247e-324" },
        { 1e-310, "9.99999999999997e-311", "9.99999999999997e-311" },
    };
    char buf[OTELC_TEXT_DOUBLE_MAX];

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = otelc_text_json_double(buf, cases[i].d);
        double back;

        assert_string_equal(buf, cases[i].json);
        assert_int_equal(n, strlen(buf));
        back = strtod(buf, NULL);
        assert_memory_equal(&back, &cases[i].d, sizeof(back)); /* -0 keeps its sign */
        n = otelc_text_double(buf, cases[i].d);
        assert_string_equal(buf, cases[i].people);
        assert_int_equal(n, strlen(buf));
        back = strtod(buf, NULL);
        assert_memory_equal(&back, &cases[i].d, sizeof(back));
    }
    otelc_text_double(buf, NAN);
    assert_string_equal(buf, "nan");
    otelc_text_double(buf, INFINITY);
    assert_string_equal(buf, "inf");
    otelc_text_double(buf, -INFINITY);
    assert_string_equal(buf, "-inf");
}

/* ---- text for a terminal ----------------------------------------------------------- */

typedef struct sink {
    char text[256];
    size_t len;
} sink_t;

static void to_sink(void *ctx, const char *p, size_t n)
{
    sink_t *s = ctx;

    assert_true(s->len + n < sizeof(s->text));
    memcpy(s->text + s->len, p, n);
    s->len += n;
    s->text[s->len] = '\0';
}

static const char *terminal(const char *in, size_t n, bool quoted, sink_t *s)
{
    s->len = 0;
    s->text[0] = '\0';
    otelc_text_terminal(in, n, quoted, to_sink, s);
    return s->text;
}

static void terminal_escapes(void **state)
{
    sink_t s;

    (void)state;
    assert_string_equal(terminal("order accepted", 14, false, &s), "order accepted");
    assert_string_equal(terminal("a\nb\tc\rd", 7, false, &s), "a\\nb\\tc\\rd");
    /* An escape sequence that would colour or move a terminal. */
    assert_string_equal(terminal("\x1b[31mred", 8, false, &s), "\\x1b[31mred");
    assert_string_equal(terminal("del\x7f", 4, false, &s), "del\\x7f");
    /* The C1 control U+009B (a CSI) in UTF-8, and an invalid byte. */
    assert_string_equal(terminal("x\xc2\x9by", 4, false, &s), "x\\xc2\\x9by");
    assert_string_equal(terminal("x\xffy", 3, false, &s), "x\\xffy");
    /* Well-formed UTF-8 is kept, U+00A0 (after the C1 range) included. */
    assert_string_equal(terminal("\xc3\xa9\xc2\xa0", 4, false, &s), "\xc3\xa9\xc2\xa0");
    /* Backslashes: kept in free text, escaped in a quoted value. */
    assert_string_equal(terminal("C:\\x \"q\"", 8, false, &s), "C:\\x \"q\"");
    assert_string_equal(terminal("C:\\x \"q\"", 8, true, &s), "C:\\\\x \\\"q\\\"");
    assert_string_equal(terminal(NULL, 0, false, &s), "");
}

static void quoting(void **state)
{
    (void)state;
    assert_false(otelc_text_needs_quotes("BTCUSDT", 7, false));
    assert_false(otelc_text_needs_quotes("\xc3\xa9t\xc3\xa9", 5, false));
    assert_true(otelc_text_needs_quotes("", 0, false));
    assert_true(otelc_text_needs_quotes("two words", 9, false));
    assert_true(otelc_text_needs_quotes("k=v", 3, false));
    assert_true(otelc_text_needs_quotes("say \"x\"", 7, false));
    assert_true(otelc_text_needs_quotes("a\x01", 2, false));
    assert_true(otelc_text_needs_quotes("bad\xff", 4, false));
    assert_true(otelc_text_needs_quotes("\xc2\x9b", 2, false));
    assert_false(otelc_text_needs_quotes("a,b", 3, false));
    assert_true(otelc_text_needs_quotes("a,b", 3, true));
    assert_true(otelc_text_needs_quotes("[x]", 3, true));
}

static void level_names(void **state)
{
    static const struct {
        int severity;
        const char *name;
    } cases[] = {
        { 0, "TRACE" },    { 1, "TRACE" },  { 4, "TRACE" },   { 5, "DEBUG" },    { 8, "DEBUG" },
        { 9, "INFO" },     { 12, "INFO" },  { 13, "WARNING" }, { 16, "WARNING" }, { 17, "ERROR" },
        { 20, "ERROR" },   { 21, "CRITICAL" }, { 24, "CRITICAL" }, { 25, "CRITICAL" },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *name, *color;

        otelc_text_level(cases[i].severity, &name, &color);
        assert_string_equal(name, cases[i].name);
        assert_true(color[0] == '\x1b' && color[strlen(color) - 1] == 'm');
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_sequences),       cmocka_unit_test(json_escapes),
        cmocka_unit_test(json_escape_in_rounds), cmocka_unit_test(integers),
        cmocka_unit_test(json_escape_text),     cmocka_unit_test(signed_integers),
        cmocka_unit_test(double_text),
        cmocka_unit_test(doubles),              cmocka_unit_test(terminal_escapes),
        cmocka_unit_test(quoting),              cmocka_unit_test(level_names),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
