/*
 * test_propagation.c: the wire formats of otelc/propagation.h and the
 * inject/extract glue of propagation_int.h.
 *
 * The traceparent and tracestate cases follow the W3C trace-context test
 * suite (w3c/trace-context test/test.py); the B3 cases the examples of the
 * openzipkin/b3-propagation README. Every parser is fed a heap copy of its
 * input with no NUL after it, so that AddressSanitizer catches a read past
 * `len`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "diag.h"
#include "propagation_int.h"

#define TRACE_HEX "4bf92f3577b34da6a3ce929d0e0e4736"
#define SPAN_HEX "00f067aa0ba902b7"
#define TP_VALID "00-" TRACE_HEX "-" SPAN_HEX "-01"

/* The W3C suite's own ids. */
#define W3C_TRACE "12345678901234567890123456789012"
#define W3C_SPAN "1234567890123456"

static const uint8_t trace_bytes[OTELC_TRACE_ID_SIZE] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3,
                                                          0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d,
                                                          0x0e, 0x0e, 0x47, 0x36 };
static const uint8_t span_bytes[OTELC_SPAN_ID_SIZE] = { 0x00, 0xf0, 0x67, 0xaa,
                                                        0x0b, 0xa9, 0x02, 0xb7 };

/* ---- helpers -------------------------------------------------------------- */

/* A heap copy of `s` without its NUL (at least one byte is allocated). */
static char *exact_copy(const char *s, size_t n)
{
    char *p = malloc(n > 0 ? n : 1);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

static otelc_status_t tp_parse(const char *s, otelc_span_context_t *out)
{
    size_t n = strlen(s);
    char *copy = exact_copy(s, n);
    otelc_status_t status = otelc_traceparent_parse(copy, n, out);
    free(copy);
    return status;
}

static otelc_status_t b3_parse(const char *s, otelc_span_context_t *out)
{
    size_t n = strlen(s);
    char *copy = exact_copy(s, n);
    otelc_status_t status = otelc_b3_parse(copy, n, out);
    free(copy);
    return status;
}

static otelc_status_t ts_parse(const char *s, char *out, size_t size, size_t *out_len)
{
    size_t n = strlen(s);
    char *copy = exact_copy(s, n);
    otelc_status_t status = otelc_tracestate_parse(copy, n, out, size, out_len);
    free(copy);
    return status;
}

static otelc_status_t bag_parse(const char *s, char *out, size_t size, size_t *out_len)
{
    size_t n = strlen(s);
    char *copy = exact_copy(s, n);
    otelc_status_t status = otelc_baggage_parse(copy, n, out, size, out_len);
    free(copy);
    return status;
}

static long bag_lookup(const char *header, const char *name, char *out, size_t size)
{
    size_t n = strlen(header);
    char *copy = exact_copy(header, n);
    long r = otelc_baggage_lookup(copy, n, name, out, size);
    free(copy);
    return r;
}

static otelc_status_t bag_put(const char *header, const char *name, const char *value, char *out,
                              size_t size, size_t *out_len)
{
    size_t n = strlen(header);
    char *copy = exact_copy(header, n);
    otelc_status_t status = otelc_baggage_put(copy, n, name, value, out, size, out_len);
    free(copy);
    return status;
}

static void hex_of(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

static void assert_ids(const otelc_span_context_t *ctx, const char *trace_hex, const char *span_hex)
{
    char t[2 * OTELC_TRACE_ID_SIZE + 1], s[2 * OTELC_SPAN_ID_SIZE + 1];
    hex_of(ctx->trace_id, OTELC_TRACE_ID_SIZE, t);
    hex_of(ctx->span_id, OTELC_SPAN_ID_SIZE, s);
    assert_string_equal(t, trace_hex);
    assert_string_equal(s, span_hex);
}

static void assert_zero_context(const otelc_span_context_t *ctx)
{
    otelc_span_context_t zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(ctx, &zero, sizeof(zero));
}

static otelc_span_context_t make_context(uint8_t flags)
{
    otelc_span_context_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    memcpy(ctx.trace_id, trace_bytes, sizeof(trace_bytes));
    memcpy(ctx.span_id, span_bytes, sizeof(span_bytes));
    ctx.trace_flags = flags;
    return ctx;
}

/* A carrier of up to 16 headers, matched case-insensitively like HTTP. */
typedef struct carrier {
    struct {
        char name[32];
        char value[OTELC_BAGGAGE_MAX + 64];
    } h[16];
    size_t n;
    unsigned sets;
} carrier_t;

static void carrier_set(void *arg, const char *key, const char *value)
{
    carrier_t *c = arg;
    assert_true(c->n < 16);
    assert_true(strlen(key) < sizeof(c->h[0].name));
    assert_true(strlen(value) < sizeof(c->h[0].value));
    strcpy(c->h[c->n].name, key);
    strcpy(c->h[c->n].value, value);
    c->n++;
    c->sets++;
}

static const char *carrier_get(void *arg, const char *key)
{
    carrier_t *c = arg;
    for (size_t i = 0; i < c->n; i++)
        if (strcasecmp(c->h[i].name, key) == 0)
            return c->h[i].value;
    return NULL;
}

static carrier_t *carrier_new(void)
{
    carrier_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    return c;
}

static otelc__propagated_t *propagated_new(void)
{
    otelc__propagated_t *p = malloc(sizeof(*p));
    assert_non_null(p);
    /* Garbage in, so that the test sees extract initialise everything. */
    memset(p, 0x5a, sizeof(*p));
    return p;
}

#include "capture_stderr.h"

static size_t count_lines(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

/* ---- traceparent ---------------------------------------------------------- */

static void test_traceparent_valid(void **state)
{
    otelc_span_context_t ctx;
    (void)state;

    assert_int_equal(tp_parse(TP_VALID, &ctx), OTELC_OK);
    assert_memory_equal(ctx.trace_id, trace_bytes, OTELC_TRACE_ID_SIZE);
    assert_memory_equal(ctx.span_id, span_bytes, OTELC_SPAN_ID_SIZE);
    assert_int_equal(ctx.trace_flags, 0x01);
    assert_true(ctx.is_remote);

    assert_int_equal(tp_parse("00-" W3C_TRACE "-" W3C_SPAN "-00", &ctx), OTELC_OK);
    assert_ids(&ctx, W3C_TRACE, W3C_SPAN);
    assert_int_equal(ctx.trace_flags, 0x00);
}

static void test_traceparent_flags_any_byte(void **state)
{
    otelc_span_context_t ctx;
    (void)state;

    /* Version 00 keeps every flag bit: 02 is level 2's "random" flag. */
    assert_int_equal(tp_parse("00-" TRACE_HEX "-" SPAN_HEX "-02", &ctx), OTELC_OK);
    assert_int_equal(ctx.trace_flags, 0x02);
    assert_int_equal(tp_parse("00-" TRACE_HEX "-" SPAN_HEX "-ff", &ctx), OTELC_OK);
    assert_int_equal(ctx.trace_flags, 0xff);
    assert_int_equal(tp_parse("00-" TRACE_HEX "-" SPAN_HEX "-a5", &ctx), OTELC_OK);
    assert_int_equal(ctx.trace_flags, 0xa5);
}

static void test_traceparent_ows(void **state)
{
    static const char *const cases[] = {
        " " TP_VALID, "\t" TP_VALID, TP_VALID " ", TP_VALID "\t", "\t " TP_VALID " \t",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        otelc_span_context_t ctx;
        assert_int_equal(tp_parse(cases[i], &ctx), OTELC_OK);
        assert_ids(&ctx, TRACE_HEX, SPAN_HEX);
    }
}

static void test_traceparent_invalid(void **state)
{
    static const char *const cases[] = {
        "",
        "00",
        /* version */
        "ff-" W3C_TRACE "-" W3C_SPAN "-01",
        ".0-" W3C_TRACE "-" W3C_SPAN "-01",
        "0.-" W3C_TRACE "-" W3C_SPAN "-01",
        "000-" W3C_TRACE "-" W3C_SPAN "-01",
        "0000-" W3C_TRACE "-" W3C_SPAN "-01",
        "0-" W3C_TRACE "-" W3C_SPAN "-01",
        "0A-" W3C_TRACE "-" W3C_SPAN "-01",
        /* version 00 is exactly 55 characters */
        "00-" W3C_TRACE "-" W3C_SPAN "-01.",
        "00-" W3C_TRACE "-" W3C_SPAN "-01-what-the-future-will-be-like",
        /* trace id */
        "00-00000000000000000000000000000000-" W3C_SPAN "-01",
        "00-.2345678901234567890123456789012-" W3C_SPAN "-01",
        "00-1234567890123456789012345678901.-" W3C_SPAN "-01",
        "00-123456789012345678901234567890123-" W3C_SPAN "-01",
        "00-1234567890123456789012345678901-" W3C_SPAN "-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-" SPAN_HEX "-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473g-" SPAN_HEX "-01",
        /* parent id */
        "00-" W3C_TRACE "-0000000000000000-01",
        "00-" W3C_TRACE "-.234567890123456-01",
        "00-" W3C_TRACE "-123456789012345.-01",
        "00-" W3C_TRACE "-12345678901234567-01",
        "00-" W3C_TRACE "-123456789012345-01",
        "00-" TRACE_HEX "-00F067AA0BA902B7-01",
        /* flags */
        "00-" W3C_TRACE "-" W3C_SPAN "-.0",
        "00-" W3C_TRACE "-" W3C_SPAN "-0.",
        "00-" W3C_TRACE "-" W3C_SPAN "-001",
        "00-" W3C_TRACE "-" W3C_SPAN "-1",
        "00-" W3C_TRACE "-" W3C_SPAN "-0A",
        /* separators */
        "00_" W3C_TRACE "-" W3C_SPAN "-01",
        "00-" W3C_TRACE "_" W3C_SPAN "-01",
        "00-" W3C_TRACE "-" W3C_SPAN "_01",
        /* a future version must separate its extra fields with '-' */
        "cc-" W3C_TRACE "-" W3C_SPAN "-01.what-the-future-will-be-like",
        "cc-" W3C_TRACE "-" W3C_SPAN "-0",
        /* white space inside is not OWS */
        "00-" W3C_TRACE " -" W3C_SPAN "-01",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        otelc_span_context_t ctx;
        memset(&ctx, 0x77, sizeof(ctx));
        if (tp_parse(cases[i], &ctx) != OTELC_ERR_INVALID)
            fail_msg("accepted invalid traceparent \"%s\"", cases[i]);
        assert_zero_context(&ctx);
    }
}

static void test_traceparent_oversize(void **state)
{
    char big[600];
    otelc_span_context_t ctx;
    (void)state;

    /* Version 00 with anything after it, however long, is invalid. */
    memset(big, 'a', sizeof(big));
    memcpy(big, TP_VALID, strlen(TP_VALID));
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(tp_parse(big, &ctx), OTELC_ERR_INVALID);
    assert_zero_context(&ctx);

    /* A future version may be long when its fields start with '-'. */
    big[0] = '4';
    big[1] = '2';
    big[OTELC_TRACEPARENT_LEN] = '-';
    assert_int_equal(tp_parse(big, &ctx), OTELC_OK);
    assert_ids(&ctx, TRACE_HEX, SPAN_HEX);
}

static void test_traceparent_future_version(void **state)
{
    otelc_span_context_t ctx;
    (void)state;

    assert_int_equal(tp_parse("cc-" W3C_TRACE "-" W3C_SPAN "-01", &ctx), OTELC_OK);
    assert_ids(&ctx, W3C_TRACE, W3C_SPAN);
    assert_int_equal(ctx.trace_flags, 0x01);

    assert_int_equal(
        tp_parse("cc-" W3C_TRACE "-" W3C_SPAN "-01-what-the-future-will-be-like", &ctx), OTELC_OK);
    assert_ids(&ctx, W3C_TRACE, W3C_SPAN);
    assert_true(ctx.is_remote);

    /* Of an unknown version only the sampled bit is understood. */
    assert_int_equal(tp_parse("01-" W3C_TRACE "-" W3C_SPAN "-03", &ctx), OTELC_OK);
    assert_int_equal(ctx.trace_flags, 0x01);
    assert_int_equal(tp_parse("01-" W3C_TRACE "-" W3C_SPAN "-fe", &ctx), OTELC_OK);
    assert_int_equal(ctx.trace_flags, 0x00);
}

static void test_traceparent_respects_len(void **state)
{
    /* The header is the first 55 bytes of a longer buffer: what follows must
     * not be looked at. */
    const char *buf = TP_VALID "-extra-garbage";
    otelc_span_context_t ctx;
    (void)state;

    assert_int_equal(otelc_traceparent_parse(buf, OTELC_TRACEPARENT_LEN, &ctx), OTELC_OK);
    assert_ids(&ctx, TRACE_HEX, SPAN_HEX);
    assert_int_equal(otelc_traceparent_parse(buf, OTELC_TRACEPARENT_LEN - 1, &ctx),
                     OTELC_ERR_INVALID);
    assert_int_equal(otelc_traceparent_parse(NULL, 55, &ctx), OTELC_ERR_INVALID);
    assert_int_equal(otelc_traceparent_parse(buf, 55, NULL), OTELC_ERR_INVALID);
}

static void test_traceparent_format(void **state)
{
    otelc_span_context_t ctx = make_context(0x01), back, zero;
    char out[OTELC_TRACEPARENT_LEN + 1];
    (void)state;

    assert_int_equal(otelc_traceparent_format(&ctx, out, sizeof(out)), OTELC_TRACEPARENT_LEN);
    assert_string_equal(out, TP_VALID);

    ctx.trace_flags = 0;
    assert_int_equal(otelc_traceparent_format(&ctx, out, sizeof(out)), OTELC_TRACEPARENT_LEN);
    assert_string_equal(out, "00-" TRACE_HEX "-" SPAN_HEX "-00");

    ctx.trace_flags = 0x03;
    assert_int_equal(otelc_traceparent_format(&ctx, out, sizeof(out)), OTELC_TRACEPARENT_LEN);
    assert_int_equal(tp_parse(out, &back), OTELC_OK);
    assert_memory_equal(back.trace_id, ctx.trace_id, OTELC_TRACE_ID_SIZE);
    assert_memory_equal(back.span_id, ctx.span_id, OTELC_SPAN_ID_SIZE);
    assert_int_equal(back.trace_flags, 0x03);

    /* No room for the NUL: nothing written. */
    memset(out, 'X', sizeof(out));
    assert_int_equal(otelc_traceparent_format(&ctx, out, OTELC_TRACEPARENT_LEN), 0);
    assert_int_equal(out[0], 'X');

    /* Invalid contexts are not formatted. */
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(otelc_traceparent_format(&zero, out, sizeof(out)), 0);
    zero = ctx;
    memset(zero.span_id, 0, sizeof(zero.span_id));
    assert_int_equal(otelc_traceparent_format(&zero, out, sizeof(out)), 0);
    assert_int_equal(otelc_traceparent_format(NULL, out, sizeof(out)), 0);
    assert_int_equal(out[0], 'X');
}

/* ---- tracestate ----------------------------------------------------------- */

static void assert_ts(const char *in, const char *expected)
{
    char out[OTELC_TRACESTATE_MAX + 1];
    size_t len = 99;

    if (ts_parse(in, out, sizeof(out), &len) != OTELC_OK)
        fail_msg("rejected valid tracestate \"%s\"", in);
    assert_string_equal(out, expected);
    assert_int_equal(len, strlen(expected));
}

static void assert_ts_invalid(const char *in)
{
    char out[OTELC_TRACESTATE_MAX + 1];
    size_t len = 99;

    memset(out, 'X', sizeof(out));
    if (ts_parse(in, out, sizeof(out), &len) != OTELC_ERR_INVALID)
        fail_msg("accepted invalid tracestate \"%.80s\"", in);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
}

static void test_tracestate_valid(void **state)
{
    (void)state;
    assert_ts("congo=t61rcWkgMzE", "congo=t61rcWkgMzE");
    assert_ts("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    assert_ts("foo=1,bar=2,rojo=1,congo=2,baz=3", "foo=1,bar=2,rojo=1,congo=2,baz=3");
    /* A value may hold inner spaces and start with one. */
    assert_ts("foo= a b", "foo= a b");
    assert_ts("tenant@vendor=x,1tenant@v=y", "tenant@vendor=x,1tenant@v=y");
}

static void test_tracestate_ows_and_empty_members(void **state)
{
    (void)state;
    assert_ts("foo=1 \t , \t bar=2, \t baz=3", "foo=1,bar=2,baz=3");
    assert_ts("foo=1\t \t,\t \tbar=2,\t \tbaz=3", "foo=1,bar=2,baz=3");
    assert_ts(" foo=1", "foo=1");
    assert_ts("\tfoo=1", "foo=1");
    assert_ts("foo=1 ", "foo=1");
    assert_ts("foo=1\t", "foo=1");
    assert_ts("\t foo=1 \t", "foo=1");
    /* Joined headers leave empty members behind; they are dropped. */
    assert_ts(",,foo=1, ,\t,bar=2,", "foo=1,bar=2");
    assert_ts("", "");
    assert_ts(" , ", "");
}

static void test_tracestate_all_allowed_characters(void **state)
{
    char key[64], vendor_key[96], value[128], header[256];
    size_t n = 0;
    (void)state;

    for (char c = 'a'; c <= 'z'; c++)
        key[n++] = c;
    memcpy(key + n, "0123456789_-*/", 15);
    snprintf(vendor_key, sizeof(vendor_key), "%s@a-z0-9_-*/", key);
    n = 0;
    for (int c = 0x20; c <= 0x7e; c++)
        if (c != ',' && c != '=')
            value[n++] = (char)c;
    value[n] = '\0';

    snprintf(header, sizeof(header), "%s=%s", key, value);
    assert_ts(header, header);
    snprintf(header, sizeof(header), "%s=%s", vendor_key, value);
    assert_ts(header, header);
}

static void test_tracestate_invalid_keys(void **state)
{
    char header[600];
    (void)state;

    assert_ts_invalid("foo =1");
    assert_ts_invalid("FOO=1");
    assert_ts_invalid("foo.bar=1");
    assert_ts_invalid("=1");
    assert_ts_invalid("foo");
    /* A key starts with a lower-case letter or a digit, nothing else. */
    assert_ts_invalid("@foo=1,bar=2");
    assert_ts_invalid("_foo@bar=1");
    assert_ts_invalid("*foo=1");
    assert_ts_invalid("foo@Bar=1");

    /* 256 characters are the most a key may have, '@' or not. */
    memset(header, 0, sizeof(header));
    memset(header, 'z', 256);
    strcat(header, "=1");
    assert_ts(header, header);
    memset(header, 0, sizeof(header));
    memset(header, 'z', 257);
    strcat(header, "=1");
    assert_ts_invalid(header);
    memset(header, 0, sizeof(header));
    memset(header, 't', 242);
    strcat(header, "@vvvvvvvvvvvvvv=1");
    assert_ts_invalid(header);
}

/*
 * The key grammar of the current draft has no tenant@system structure any
 * more: '@' is a key character like '_', allowed anywhere but first and any
 * number of times, and the key's only limit is its 256 characters. These are
 * the W3C suite's test_tracestate_key_illegal_vendor_format and
 * test_tracestate_key_length_limit cases, which Level 1 rejected.
 */
static void test_tracestate_at_sign_keys(void **state)
{
    char header[600];
    (void)state;

    assert_ts("foo@=1,bar=2", "foo@=1,bar=2");
    assert_ts("foo@@bar=1,bar=2", "foo@@bar=1,bar=2");
    assert_ts("foo@bar@baz=1,bar=2", "foo@bar@baz=1,bar=2");
    assert_ts("foo@1bar=1", "foo@1bar=1");
    assert_ts("1foo=1", "1foo=1");
    assert_ts("t@vvvvvvvvvvvvvvv=1", "t@vvvvvvvvvvvvvvv=1");

    memset(header, 0, sizeof(header));
    memset(header, 't', 241);
    strcat(header, "@vvvvvvvvvvvvvv=1");
    assert_ts(header, header);
    memset(header, 0, sizeof(header));
    memset(header, 't', 242);
    strcat(header, "@v=1");
    assert_ts(header, header);
}

static void test_tracestate_invalid_values(void **state)
{
    char header[600];
    (void)state;

    assert_ts_invalid("foo=bar=baz");
    assert_ts_invalid("foo=,bar=3");
    assert_ts_invalid("foo=");
    assert_ts_invalid("foo=a\tb");
    assert_ts_invalid("foo=a\x7f");
    assert_ts_invalid("foo=\xc3\xa9");

    /* 256 characters are the most a value may have. */
    memset(header, 0, sizeof(header));
    memcpy(header, "k=", 2);
    memset(header + 2, 'v', 256);
    assert_ts(header, header);
    header[2 + 256] = 'v';
    assert_ts_invalid(header);
}

static void test_tracestate_duplicates_and_member_limit(void **state)
{
    char header[512];
    size_t n = 0;
    (void)state;

    /* A repeated key: the header is carried on with the first (left-most,
     * most recent) member of that key, as the W3C suite expects. */
    assert_ts("foo=1,foo=1", "foo=1");
    assert_ts("foo=1,bar=2,foo=2", "foo=1,bar=2");
    assert_ts("foo=1 , bar=2,foo=3,bar=4, foo=5,baz=6", "foo=1,bar=2,baz=6");
    assert_ts("foo=1,foo@x=1", "foo=1,foo@x=1");
    /* Each member is still checked: an invalid repeat makes the header invalid. */
    assert_ts_invalid("foo=1,foo=");

    for (int i = 1; i <= 32; i++)
        n += (size_t)snprintf(header + n, sizeof(header) - n, "%sbar%02d=%02d", i > 1 ? "," : "", i,
                              i);
    assert_ts(header, header);
    snprintf(header + n, sizeof(header) - n, ",bar33=33");
    assert_ts_invalid(header);
    assert_ts_invalid("a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,"
                      "q=1,r=1,s=1,t=1,u=1,v=1,w=1,x=1,y=1,z=1,a1=1,b1=1,c1=1,d1=1,e1=1,f1=1,"
                      "g1=1");
    /* The 32 count the members received: 33 with one key repeated are too many. */
    assert_ts_invalid("a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,o=1,p=1,"
                      "q=1,r=1,s=1,t=1,u=1,v=1,w=1,x=1,y=1,z=1,a1=1,b1=1,c1=1,d1=1,e1=1,f1=1,"
                      "a=2");

    /* Empty members do not count towards the 32. */
    header[n] = '\0';
    strcat(header, ",,, ,");
    {
        char out[OTELC_TRACESTATE_MAX + 1];
        size_t len;
        assert_int_equal(ts_parse(header, out, sizeof(out), &len), OTELC_OK);
        assert_int_equal(len, n);
        header[n] = '\0';
        assert_string_equal(out, header);
    }
}

static void test_tracestate_truncation(void **state)
{
    char header[2048], expected[2048], out[OTELC_TRACESTATE_MAX + 1], big[256];
    size_t len, n = 0;
    (void)state;

    /* 20 members of 30 bytes make 619 bytes: the last four go, leaving
     * 16 * 31 - 1 = 495 bytes. */
    for (int i = 0; i < 20; i++) {
        n +=
            (size_t)snprintf(header + n, sizeof(header) - n, "%skey%02d=%024d", i ? "," : "", i, i);
        if (i == 15)
            strcpy(expected, header);
    }
    assert_int_equal(n, 619);
    assert_int_equal(ts_parse(header, out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, expected);
    assert_int_equal(len, 495);

    /* A member over 128 bytes goes first, wherever it stands. */
    memset(big, 'b', 200);
    big[200] = '\0';
    n = (size_t)snprintf(header, sizeof(header), "first=1,large=%s,", big);
    for (int i = 0; i < 10; i++)
        n +=
            (size_t)snprintf(header + n, sizeof(header) - n, "%skey%02d=%024d", i ? "," : "", i, i);
    assert_true(n > OTELC_TRACESTATE_MAX);
    assert_int_equal(ts_parse(header, out, sizeof(out), &len), OTELC_OK);
    assert_int_equal(strncmp(out, "first=1,key00=", 14), 0);
    assert_null(strstr(out, "large="));
    assert_non_null(strstr(out, "key09="));
    assert_int_equal(len, 8 + 10 * 31 - 1);

    /* A small output buffer caps the length too, by whole members. */
    assert_int_equal(ts_parse("aaa=1,bbb=2,ccc=3", out, 12, &len), OTELC_OK);
    assert_string_equal(out, "aaa=1,bbb=2");
    assert_int_equal(len, 11);
    assert_int_equal(ts_parse("aaa=1,bbb=2,ccc=3", out, 11, &len), OTELC_OK);
    assert_string_equal(out, "aaa=1");
    assert_int_equal(otelc_tracestate_parse("a=1", 3, out, 0, &len), OTELC_ERR_INVALID);
}

/* ---- baggage -------------------------------------------------------------- */

static void assert_bag(const char *in, otelc_status_t status, const char *expected)
{
    char out[OTELC_BAGGAGE_MAX + 1];
    size_t len = 99;

    assert_int_equal(bag_parse(in, out, sizeof(out), &len), status);
    assert_string_equal(out, expected);
    assert_int_equal(len, strlen(expected));
}

static void test_baggage_parse_normalises(void **state)
{
    (void)state;
    assert_bag("userId=alice,serverNode=DF%2028,isProduction=false", OTELC_OK,
               "userId=alice,serverNode=DF%2028,isProduction=false");
    assert_bag("  k1 = v1 ; p1 ; p2 = x ,\tk2=v2\t", OTELC_OK, "k1=v1;p1;p2=x,k2=v2");
    assert_bag(
        "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue",
        OTELC_OK,
        "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue");
    /* An empty value is allowed by the grammar. */
    assert_bag("empty=,a=1", OTELC_OK, "empty=,a=1");
    assert_bag("expr=a=b", OTELC_OK, "expr=a=b");
}

static void test_baggage_parse_drops_invalid(void **state)
{
    (void)state;
    assert_bag("good=1,bad key=2,=3,noeq,q=a b,sp=\"x\",bs=a\\b,ok=2", OTELC_OK, "good=1,ok=2");
    assert_bag("a=1;=p,b=2;p q,c=3", OTELC_OK, "c=3");
    assert_bag(",,a=1,,", OTELC_OK, "a=1");
    assert_bag("", OTELC_ERR_INVALID, "");
    assert_bag("bad key=1, =", OTELC_ERR_INVALID, "");
}

static void test_baggage_parse_duplicates_last_wins(void **state)
{
    char out[64];
    (void)state;
    assert_bag("a=1,b=2,a=3", OTELC_OK, "b=2,a=3");
    assert_bag("a=1,a=2", OTELC_OK, "a=2");
    assert_bag("a=1,b=2,c=3,b=4;p", OTELC_OK, "a=1,c=3,b=4;p");
    assert_int_equal(bag_lookup("a=1,b=2,a=3", "a", out, sizeof(out)), 1);
    assert_string_equal(out, "3");
}

static void test_baggage_parse_member_limit(void **state)
{
    static char header[4096];
    char out[OTELC_BAGGAGE_MAX + 1], value[16];
    size_t n = 0, len;
    (void)state;

    for (int i = 0; i < 181; i++)
        n += (size_t)snprintf(header + n, sizeof(header) - n, "%sk%d=%d", i ? "," : "", i, i);
    assert_int_equal(bag_parse(header, out, sizeof(out), &len), OTELC_ERR_FULL);
    assert_int_equal(bag_lookup(out, "k179", value, sizeof(value)), 3);
    assert_string_equal(value, "179");
    assert_int_equal(bag_lookup(out, "k180", value, sizeof(value)), -1);
    assert_int_equal(len, strlen(out));

    /* Exactly 180 is fine. */
    *strrchr(header, ',') = '\0';
    assert_int_equal(bag_parse(header, out, sizeof(out), &len), OTELC_OK);
    assert_int_equal(bag_lookup(out, "k179", value, sizeof(value)), 3);
}

static void test_baggage_parse_byte_limit(void **state)
{
    static char header[12000], expected[OTELC_BAGGAGE_MAX + 1];
    static char out[OTELC_BAGGAGE_MAX + 1];
    char value[128];
    size_t n = 0, len;
    (void)state;

    /* 100 members of 100 bytes ("kNN=" + 96 bytes): 81 fit in 8192 bytes
     * (81 * 101 - 1 = 8180), the 82nd would make 8281. */
    memset(value, 'v', 96);
    value[96] = '\0';
    for (int i = 0; i < 100; i++) {
        n += (size_t)snprintf(header + n, sizeof(header) - n, "%sk%02d=%s", i ? "," : "", i, value);
        if (i == 80)
            strcpy(expected, header);
    }
    assert_int_equal(bag_parse(header, out, sizeof(out), &len), OTELC_ERR_FULL);
    assert_int_equal(len, 8180);
    assert_string_equal(out, expected);

    /* The caller's buffer limits too. */
    assert_int_equal(bag_parse("a=1,b=2", out, 4, &len), OTELC_ERR_FULL);
    assert_string_equal(out, "a=1");
    assert_int_equal(len, 3);
}

static void test_baggage_lookup(void **state)
{
    const char *h = "a=hello%20world;prop=1,b=50%25,c=%zz,d=,ab=x,utf=%C3%a9";
    char out[32];
    (void)state;

    assert_int_equal(bag_lookup(h, "a", out, sizeof(out)), 11);
    assert_string_equal(out, "hello world");
    assert_int_equal(bag_lookup(h, "b", out, sizeof(out)), 3);
    assert_string_equal(out, "50%");
    assert_int_equal(bag_lookup(h, "c", out, sizeof(out)), 3);
    assert_string_equal(out, "%zz");
    assert_int_equal(bag_lookup(h, "d", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    assert_int_equal(bag_lookup(h, "ab", out, sizeof(out)), 1);
    assert_string_equal(out, "x");
    assert_int_equal(bag_lookup(h, "utf", out, sizeof(out)), 2);
    assert_string_equal(out, "\xc3\xa9");

    strcpy(out, "unchanged");
    assert_int_equal(bag_lookup(h, "missing", out, sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(bag_lookup(h, "A", out, sizeof(out)), -1);
    assert_int_equal(bag_lookup(h, "prop", out, sizeof(out)), -1);

    /* Truncated to size - 1, full length returned. */
    assert_int_equal(bag_lookup(h, "a", out, 4), 11);
    assert_string_equal(out, "hel");
    assert_int_equal(bag_lookup(h, "a", NULL, 0), 11);

    /* OWS in a header that was not normalised. */
    assert_int_equal(bag_lookup(" k = v ; p , z=1", "k", out, sizeof(out)), 1);
    assert_string_equal(out, "v");
}

/* Looks `name` up in `header` and checks the decoded bytes (`n` of them). */
static void assert_decoded(const char *header, const char *name, const char *expected, size_t n)
{
    char out[64];
    long got = bag_lookup(header, name, out, sizeof(out));

    if (got != (long)n || memcmp(out, expected, n) != 0 || out[n] != '\0')
        fail_msg("%s in \"%s\": %ld bytes, expected %zu", name, header, got, n);
}

#define FFFD "\xef\xbf\xbd"

/*
 * W3C baggage: percent-encoded octets that are not UTF-8 decode to U+FFFD.
 * The replacement follows Unicode's "maximal subpart" practice (Unicode
 * 15, section 3.9, U+FFFD substitution), as WHATWG and Python decoders do:
 * a lead byte and the continuation bytes that could still begin a valid
 * sequence make one U+FFFD; every other bad byte makes one each.
 */
static void test_baggage_lookup_invalid_utf8(void **state)
{
    (void)state;
    assert_decoded("k=%FF", "k", FFFD, 3);
    assert_decoded("k=a%ffb", "k", "a" FFFD "b", 5);
    /* A cut sequence: E2 82 is the start of U+20AC (E2 82 AC). */
    assert_decoded("k=%E2%82", "k", FFFD, 3);
    assert_decoded("k=%E2%82x", "k", FFFD "x", 4);
    assert_decoded("k=%E2%82%E2%82%AC", "k", FFFD "\xe2\x82\xac", 6);
    /* Overlong forms: C0 and C1 never lead, E0 80 and F0 80 are too short. */
    assert_decoded("k=%C0%80", "k", FFFD FFFD, 6);
    assert_decoded("k=%C1%BF", "k", FFFD FFFD, 6);
    assert_decoded("k=%E0%80%80", "k", FFFD FFFD FFFD, 9);
    assert_decoded("k=%F0%80%80%80", "k", FFFD FFFD FFFD FFFD, 12);
    /* Surrogates (ED A0..BF) and code points past U+10FFFF. */
    assert_decoded("k=%ED%A0%80", "k", FFFD FFFD FFFD, 9);
    assert_decoded("k=%ED%BF%BF", "k", FFFD FFFD FFFD, 9);
    assert_decoded("k=%F4%90%80%80", "k", FFFD FFFD FFFD FFFD, 12);
    assert_decoded("k=%F5%80", "k", FFFD FFFD, 6);
    /* A lone continuation byte, and one cut 4-byte sequence. */
    assert_decoded("k=%80", "k", FFFD, 3);
    assert_decoded("k=%F0%9F%98", "k", FFFD, 3);
    /* Valid sequences pass unchanged: the edges of each length and range. */
    assert_decoded("k=%C3%A9", "k", "\xc3\xa9", 2);
    assert_decoded("k=%C2%80%DF%BF", "k", "\xc2\x80\xdf\xbf", 4);
    assert_decoded("k=%E0%A0%80%E2%82%AC%ED%9F%BF%EE%80%80%EF%BF%BF", "k",
                   "\xe0\xa0\x80\xe2\x82\xac\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf", 15);
    assert_decoded("k=%F0%90%80%80%F0%9F%98%80%F4%8F%BF%BF", "k",
                   "\xf0\x90\x80\x80\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 12);
    assert_decoded("k=%ef%bf%bd", "k", FFFD, 3);
    /* Encoded and raw bytes make one sequence: the decoder sees octets. */
    assert_decoded(" k = \xc3%A9 ", "k", "\xc3\xa9", 2);
    assert_decoded(" k = \xff ", "k", FFFD, 3);
}

/* A value cut to the caller's buffer is cut between characters. */
static void test_baggage_lookup_cut_at_character(void **state)
{
    char out[8];
    (void)state;

    /* "ab€€": 2 + 3 + 3 bytes; 7 bytes of room hold "ab€" and not half a €. */
    assert_int_equal(bag_lookup("k=ab%E2%82%AC%E2%82%AC", "k", out, sizeof(out)), 8);
    assert_string_equal(out, "ab\xe2\x82\xac");
    assert_int_equal(bag_lookup("k=%FF%FF%FF", "k", out, sizeof(out)), 9);
    assert_string_equal(out, FFFD FFFD);
    assert_int_equal(bag_lookup("k=%E2%82%AC", "k", out, 3), 3);
    assert_string_equal(out, "");
}

static void test_baggage_put(void **state)
{
    char out[OTELC_BAGGAGE_MAX + 1], value[64];
    size_t len = 99;
    (void)state;

    assert_int_equal(bag_put("", "k", "v", out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, "k=v");
    assert_int_equal(len, 3);

    assert_int_equal(bag_put("a=1", "b", "2", out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, "a=1,b=2");

    /* Replaced where it stands; the old properties go with the old value. */
    assert_int_equal(bag_put("a=1,b=2;p=q,c=3", "b", "9", out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, "a=1,b=9,c=3");
    assert_int_equal(len, 11);
    assert_int_equal(bag_put("x=1,y=2,x=3", "x", "0", out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, "x=0,y=2");

    /* Percent-encoding round trip. */
    assert_int_equal(bag_put("", "v", "a b,c;d%e\"\\\xc3\xa9", out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, "v=a%20b%2Cc%3Bd%25e%22%5C%C3%A9");
    assert_int_equal(bag_lookup(out, "v", value, sizeof(value)), 13);
    assert_string_equal(value, "a b,c;d%e\"\\\xc3\xa9");

    assert_int_equal(
        bag_put("correlation.id=old", "correlation.id", "trade-12345", out, sizeof(out), &len),
        OTELC_OK);
    assert_string_equal(out, "correlation.id=trade-12345");
}

/*
 * put percent-encodes every byte outside baggage-octet, so non-ASCII values
 * (U+FFFD among them) travel and come back byte for byte. A value that is
 * not UTF-8 is sent as the receiver would read it: each ill-formed part as
 * U+FFFD, so that the header on the wire is well-formed.
 */
static void test_baggage_put_utf8(void **state)
{
    char out[128], value[64];
    size_t len = 99;
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    assert_int_equal(
        bag_put("", "k", "\xe2\x82\xac " FFFD "\xf0\x9f\x98\x80", out, sizeof(out), &len),
        OTELC_OK);
    assert_string_equal(out, "k=%E2%82%AC%20%EF%BF%BD%F0%9F%98%80");
    assert_int_equal(bag_lookup(out, "k", value, sizeof(value)), 11);
    assert_string_equal(value, "\xe2\x82\xac " FFFD "\xf0\x9f\x98\x80");

    assert_int_equal(bag_put("", "k",
                             "a\xff"
                             "b\xe2\x82",
                             out, sizeof(out), &len),
                     OTELC_OK);
    assert_string_equal(out, "k=a%EF%BF%BDb%EF%BF%BD");
    assert_int_equal(len, strlen(out));
    assert_int_equal(bag_put("", "k", "\xed\xa0\x80", out, sizeof(out), &len), OTELC_OK);
    assert_string_equal(out, "k=%EF%BF%BD%EF%BF%BD%EF%BF%BD");

    /* Through inject and extract, as another process receives it. */
    assert_int_equal(bag_put("a=1", "k", "\xc3\xa9t\xc3\xa9 " FFFD, out, sizeof(out), &len),
                     OTELC_OK);
    otelc__propagation_inject(OTELC_PROPAGATOR_BAGGAGE, NULL, NULL, 0, out, len, carrier_set, c);
    assert_string_equal(carrier_get(c, "baggage"), "a=1,k=%C3%A9t%C3%A9%20%EF%BF%BD");
    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_int_equal(otelc_baggage_lookup(p->baggage, p->baggage_len, "k", value, sizeof(value)),
                     9);
    assert_string_equal(value, "\xc3\xa9t\xc3\xa9 " FFFD);
    free(p);
    free(c);
}

static void test_baggage_put_invalid_name(void **state)
{
    char out[64];
    size_t len = 99;
    (void)state;

    strcpy(out, "unchanged");
    assert_int_equal(bag_put("a=1", "bad key", "v", out, sizeof(out), &len), OTELC_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(len, 0);
    assert_int_equal(bag_put("a=1", "", "v", out, sizeof(out), &len), OTELC_ERR_INVALID);
    assert_int_equal(bag_put("a=1", "a=b", "v", out, sizeof(out), &len), OTELC_ERR_INVALID);
    assert_int_equal(bag_put("a=1", "a,b", "v", out, sizeof(out), &len), OTELC_ERR_INVALID);
    assert_int_equal(bag_put("a=1", NULL, "v", out, sizeof(out), &len), OTELC_ERR_INVALID);
}

static void test_baggage_put_limits(void **state)
{
    static char header[OTELC_BAGGAGE_MAX + 1], out[OTELC_BAGGAGE_MAX + 1];
    static char value[OTELC_BAGGAGE_MAX + 1];
    size_t n = 0, len;
    (void)state;

    /* 180 members: one more is too many, replacing one is fine. */
    for (int i = 0; i < 180; i++)
        n += (size_t)snprintf(header + n, sizeof(header) - n, "%sk%d=%d", i ? "," : "", i, i);
    assert_int_equal(bag_put(header, "extra", "1", out, sizeof(out), &len), OTELC_ERR_FULL);
    assert_string_equal(out, "");
    assert_int_equal(bag_put(header, "k7", "seven", out, sizeof(out), &len), OTELC_OK);
    assert_int_equal(len, n + 4);
    assert_int_equal(bag_lookup(out, "k7", value, sizeof(value)), 5);
    assert_string_equal(value, "seven");

    /* 8192 bytes: "k=" + 8190 bytes fits exactly, one more does not. */
    memset(value, 'v', 8190);
    value[8190] = '\0';
    assert_int_equal(bag_put("", "k", value, out, sizeof(out), &len), OTELC_OK);
    assert_int_equal(len, OTELC_BAGGAGE_MAX);
    value[8190] = 'v';
    value[8191] = '\0';
    assert_int_equal(bag_put("", "k", value, out, sizeof(out), &len), OTELC_ERR_FULL);
    assert_int_equal(len, 0);
    /* Encoding counts: 2730 spaces become 8190 bytes. */
    memset(value, ' ', 2730);
    value[2730] = '\0';
    assert_int_equal(bag_put("", "k", value, out, sizeof(out), &len), OTELC_OK);
    assert_int_equal(len, OTELC_BAGGAGE_MAX);
    assert_int_equal(bag_put("a=1", "k", value, out, sizeof(out), &len), OTELC_ERR_FULL);
    /* And so does the caller's buffer. */
    assert_int_equal(bag_put("a=1", "b", "2", out, 7, &len), OTELC_ERR_FULL);
    assert_int_equal(bag_put("a=1", "b", "2", out, 8, &len), OTELC_OK);
    assert_string_equal(out, "a=1,b=2");
}

/* ---- B3 ------------------------------------------------------------------- */

static void test_b3_parse_128bit(void **state)
{
    otelc_span_context_t ctx;
    (void)state;

    assert_int_equal(
        b3_parse("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", &ctx),
        OTELC_OK);
    assert_ids(&ctx, "80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1");
    assert_int_equal(ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_true(ctx.is_remote);

    assert_int_equal(b3_parse("80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-0", &ctx),
                     OTELC_OK);
    assert_ids(&ctx, "80f198ee56343ba864fe8b2a57d3eff7", "05e3ac9a4f6e3b90");
    assert_int_equal(ctx.trace_flags, 0);
}

static void test_b3_parse_64bit(void **state)
{
    otelc_span_context_t ctx;
    (void)state;

    assert_int_equal(b3_parse("64fe8b2a57d3eff7-e457b5a2e4d86bd1-1", &ctx), OTELC_OK);
    assert_ids(&ctx, "000000000000000064fe8b2a57d3eff7", "e457b5a2e4d86bd1");
    assert_int_equal(ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
}

static void test_b3_parse_sampling_states(void **state)
{
    otelc_span_context_t ctx;
    (void)state;

    /* Debug implies accept. */
    assert_int_equal(b3_parse("80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-d", &ctx),
                     OTELC_OK);
    assert_int_equal(ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    /* Absent means defer: ids, no sampled flag. */
    assert_int_equal(b3_parse("80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90", &ctx), OTELC_OK);
    assert_ids(&ctx, "80f198ee56343ba864fe8b2a57d3eff7", "05e3ac9a4f6e3b90");
    assert_int_equal(ctx.trace_flags, 0);

    /* A lone sampling state carries no ids. */
    memset(&ctx, 0x77, sizeof(ctx));
    assert_int_equal(b3_parse("0", &ctx), OTELC_ERR_NOT_FOUND);
    assert_int_equal(ctx.trace_flags, 0);
    ctx.trace_flags = 0;
    assert_zero_context(&ctx);
    assert_int_equal(b3_parse("1", &ctx), OTELC_ERR_NOT_FOUND);
    assert_int_equal(ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    ctx.trace_flags = 0;
    assert_zero_context(&ctx);
    assert_int_equal(b3_parse("d", &ctx), OTELC_ERR_NOT_FOUND);
    assert_int_equal(ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_int_equal(b3_parse(" 0 ", &ctx), OTELC_ERR_NOT_FOUND);
    assert_int_equal(ctx.trace_flags, 0);
}

static void test_b3_parse_invalid(void **state)
{
    static const char *const cases[] = {
        "",
        "2",
        "true",
        "00",
        "80F198EE56343BA864FE8B2A57D3EFF7-05e3ac9a4f6e3b90-1",
        "80f198ee56343ba864fe8b2a57d3eff7-05E3AC9A4F6E3B90-1",
        "80f198ee56343ba864fe8b2a57d3eff-05e3ac9a4f6e3b90-1",
        "80f198ee56343ba864fe8b2a57d3-05e3ac9a4f6e3b90-1",
        "80f198ee56343ba864fe8b2a57d3eff7",
        "80f198ee56343ba864fe8b2a57d3eff7-",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b9",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b900",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-x",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-true",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1-",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1-e457b5a2e4d86bd",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1-e457b5a2e4d86bd1-x",
        "80f198ee56343ba864fe8b2a57d3eff7-05e3ac9a4f6e3b90-1-E457B5A2E4D86BD1",
        "00000000000000000000000000000000-05e3ac9a4f6e3b90-1",
        "0000000000000000-05e3ac9a4f6e3b90-1",
        "80f198ee56343ba864fe8b2a57d3eff7-0000000000000000-1",
        "80f198ee56343ba864fe8b2a57d3eff7_05e3ac9a4f6e3b90-1",
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        otelc_span_context_t ctx;
        memset(&ctx, 0x77, sizeof(ctx));
        if (b3_parse(cases[i], &ctx) != OTELC_ERR_INVALID)
            fail_msg("accepted invalid b3 \"%s\"", cases[i]);
        assert_zero_context(&ctx);
    }
}

static void test_b3_format(void **state)
{
    otelc_span_context_t ctx = make_context(0x01), back, zero;
    char out[OTELC_B3_MAX + 1];
    (void)state;

    assert_int_equal(otelc_b3_format(&ctx, out, sizeof(out)), 51);
    assert_string_equal(out, TRACE_HEX "-" SPAN_HEX "-1");
    ctx.trace_flags = 0x02;
    assert_int_equal(otelc_b3_format(&ctx, out, sizeof(out)), 51);
    assert_string_equal(out, TRACE_HEX "-" SPAN_HEX "-0");

    ctx.trace_flags = 0x01;
    assert_int_equal(otelc_b3_format(&ctx, out, sizeof(out)), 51);
    assert_int_equal(b3_parse(out, &back), OTELC_OK);
    assert_memory_equal(back.trace_id, ctx.trace_id, OTELC_TRACE_ID_SIZE);
    assert_memory_equal(back.span_id, ctx.span_id, OTELC_SPAN_ID_SIZE);
    assert_int_equal(back.trace_flags, 0x01);

    memset(out, 'X', sizeof(out));
    assert_int_equal(otelc_b3_format(&ctx, out, 51), 0);
    assert_int_equal(out[0], 'X');
    assert_int_equal(otelc_b3_format(&ctx, out, 52), 51);
    memset(&zero, 0, sizeof(zero));
    out[0] = 'X';
    assert_int_equal(otelc_b3_format(&zero, out, sizeof(out)), 0);
    assert_int_equal(out[0], 'X');
}

/* ---- inject / extract ----------------------------------------------------- */

#define ALL_PROPAGATORS                                                                            \
    (OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE | OTELC_PROPAGATOR_B3 |              \
     OTELC_PROPAGATOR_B3MULTI)

static void inject(carrier_t *c, unsigned propagators, const otelc_span_context_t *span,
                   const char *tracestate, const char *baggage)
{
    otelc__propagation_inject(propagators, span, tracestate, strlen(tracestate), baggage,
                              strlen(baggage), carrier_set, c);
}

static void test_roundtrip_tracecontext(void **state)
{
    otelc_span_context_t span = make_context(0x01);
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    inject(c, OTELC_PROPAGATOR_TRACECONTEXT, &span, "congo=t61rcWkgMzE", "k=v");
    assert_int_equal(c->n, 2);
    assert_string_equal(carrier_get(c, "traceparent"), TP_VALID);
    assert_string_equal(carrier_get(c, "tracestate"), "congo=t61rcWkgMzE");
    assert_null(carrier_get(c, "baggage"));

    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    assert_memory_equal(p->span.trace_id, trace_bytes, OTELC_TRACE_ID_SIZE);
    assert_memory_equal(p->span.span_id, span_bytes, OTELC_SPAN_ID_SIZE);
    assert_int_equal(p->span.trace_flags, 0x01);
    assert_true(p->span.is_remote);
    assert_string_equal(p->tracestate, "congo=t61rcWkgMzE");
    assert_int_equal(p->tracestate_len, 17);
    assert_string_equal(p->baggage, "");
    assert_int_equal(p->baggage_len, 0);
    assert_int_equal(p->rejected, 0);
    free(p);
    free(c);
}

static void test_roundtrip_baggage(void **state)
{
    otelc_span_context_t span = make_context(0x00);
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    char value[32];
    (void)state;

    inject(c, OTELC_PROPAGATOR_BAGGAGE, &span, "congo=1", "correlation.id=trade-12345,k=a%20b");
    assert_int_equal(c->n, 1);
    assert_string_equal(carrier_get(c, "baggage"), "correlation.id=trade-12345,k=a%20b");

    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_zero_context(&p->span);
    assert_string_equal(p->baggage, "correlation.id=trade-12345,k=a%20b");
    assert_int_equal(p->baggage_len, 34);
    assert_int_equal(otelc_baggage_lookup(p->baggage, p->baggage_len, "k", value, sizeof(value)),
                     3);
    assert_string_equal(value, "a b");
    assert_int_equal(p->tracestate_len, 0);

    /* Empty baggage writes no header. */
    c->n = 0;
    inject(c, OTELC_PROPAGATOR_BAGGAGE, &span, "", "");
    assert_int_equal(c->n, 0);
    free(p);
    free(c);
}

static void test_roundtrip_b3(void **state)
{
    otelc_span_context_t span = make_context(0x01);
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    inject(c, OTELC_PROPAGATOR_B3, &span, "congo=1", "");
    assert_int_equal(c->n, 1);
    assert_string_equal(carrier_get(c, "b3"), TRACE_HEX "-" SPAN_HEX "-1");

    otelc__propagation_extract(OTELC_PROPAGATOR_B3, carrier_get, c, p);
    assert_memory_equal(p->span.trace_id, trace_bytes, OTELC_TRACE_ID_SIZE);
    assert_memory_equal(p->span.span_id, span_bytes, OTELC_SPAN_ID_SIZE);
    assert_int_equal(p->span.trace_flags, 0x01);
    assert_true(p->span.is_remote);
    assert_int_equal(p->tracestate_len, 0);
    free(p);
    free(c);
}

static void test_roundtrip_b3multi(void **state)
{
    otelc_span_context_t span = make_context(0x00);
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    inject(c, OTELC_PROPAGATOR_B3MULTI, &span, "", "");
    assert_int_equal(c->n, 3);
    assert_string_equal(carrier_get(c, "x-b3-traceid"), TRACE_HEX);
    assert_string_equal(carrier_get(c, "x-b3-spanid"), SPAN_HEX);
    assert_string_equal(carrier_get(c, "x-b3-sampled"), "0");

    otelc__propagation_extract(OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_memory_equal(p->span.trace_id, trace_bytes, OTELC_TRACE_ID_SIZE);
    assert_memory_equal(p->span.span_id, span_bytes, OTELC_SPAN_ID_SIZE);
    assert_int_equal(p->span.trace_flags, 0x00);
    assert_true(p->span.is_remote);
    free(p);
    free(c);
}

static void test_inject_all_and_invalid_span(void **state)
{
    otelc_span_context_t span = make_context(0x01), invalid;
    carrier_t *c = carrier_new();
    char big[OTELC_TRACESTATE_MAX + 2];
    (void)state;

    inject(c, ALL_PROPAGATORS, &span, "a=1", "k=v");
    assert_int_equal(c->n, 7);
    assert_string_equal(carrier_get(c, "traceparent"), TP_VALID);
    assert_string_equal(carrier_get(c, "tracestate"), "a=1");
    assert_string_equal(carrier_get(c, "baggage"), "k=v");
    assert_string_equal(carrier_get(c, "b3"), TRACE_HEX "-" SPAN_HEX "-1");
    assert_string_equal(carrier_get(c, "x-b3-sampled"), "1");

    /* An invalid span writes only the baggage. */
    memset(&invalid, 0, sizeof(invalid));
    memcpy(invalid.trace_id, trace_bytes, sizeof(trace_bytes));
    c->n = 0;
    inject(c, ALL_PROPAGATORS, &invalid, "a=1", "k=v");
    assert_int_equal(c->n, 1);
    assert_string_equal(carrier_get(c, "baggage"), "k=v");
    c->n = 0;
    otelc__propagation_inject(ALL_PROPAGATORS, NULL, NULL, 0, NULL, 0, carrier_set, c);
    assert_int_equal(c->n, 0);

    /* A tracestate over the limit is not written, the traceparent is. */
    memset(big, 'a', sizeof(big) - 1);
    big[1] = '=';
    big[sizeof(big) - 1] = '\0';
    c->n = 0;
    inject(c, OTELC_PROPAGATOR_TRACECONTEXT, &span, big, "");
    assert_int_equal(c->n, 1);
    assert_non_null(carrier_get(c, "traceparent"));

    /* Pointer + length: the NUL-less prefix is what is written. */
    c->n = 0;
    otelc__propagation_inject(OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE, &span,
                              "a=1,b=2", 3, "k=v,z=9", 3, carrier_set, c);
    assert_string_equal(carrier_get(c, "tracestate"), "a=1");
    assert_string_equal(carrier_get(c, "baggage"), "k=v");
    free(c);
}

static void test_extract_precedence(void **state)
{
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    carrier_set(c, "TraceParent", "00-11111111111111111111111111111111-1111111111111111-01");
    carrier_set(c, "tracestate", "w3c=yes");
    carrier_set(c, "b3", "22222222222222222222222222222222-2222222222222222-1");
    carrier_set(c, "X-B3-TraceId", "3333333333333333");
    carrier_set(c, "X-B3-SpanId", "3333333333333333");
    carrier_set(c, "X-B3-Sampled", "1");

    otelc__propagation_extract(ALL_PROPAGATORS, carrier_get, c, p);
    assert_ids(&p->span, "11111111111111111111111111111111", "1111111111111111");
    assert_string_equal(p->tracestate, "w3c=yes");

    /* Without tracecontext among the propagators, b3 single wins. */
    otelc__propagation_extract(OTELC_PROPAGATOR_B3 | OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_ids(&p->span, "22222222222222222222222222222222", "2222222222222222");
    assert_int_equal(p->tracestate_len, 0);

    /* An invalid traceparent falls through to b3, and its tracestate is
     * dropped with it. */
    strcpy(c->h[0].value, "ff-11111111111111111111111111111111-1111111111111111-01");
    otelc__propagation_extract(ALL_PROPAGATORS, carrier_get, c, p);
    assert_ids(&p->span, "22222222222222222222222222222222", "2222222222222222");
    assert_string_equal(p->tracestate, "");
    assert_int_equal(p->tracestate_len, 0);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_TRACECONTEXT);

    /* A lone b3 sampling state gives no ids: b3multi is next. */
    strcpy(c->h[2].value, "1");
    otelc__propagation_extract(ALL_PROPAGATORS, carrier_get, c, p);
    assert_ids(&p->span, "00000000000000003333333333333333", "3333333333333333");
    assert_int_equal(p->span.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_TRACECONTEXT);

    /* Nothing valid at all. */
    strcpy(c->h[2].value, "garbage");
    strcpy(c->h[3].value, "not-hex");
    otelc__propagation_extract(ALL_PROPAGATORS, carrier_get, c, p);
    assert_zero_context(&p->span);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_B3 |
                                      OTELC_PROPAGATOR_B3MULTI);
    free(p);
    free(c);
}

static void test_extract_tracestate_rules(void **state)
{
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    /* tracestate without traceparent is discarded. */
    carrier_set(c, "tracestate", "foo=1,bar=2");
    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    assert_zero_context(&p->span);
    assert_int_equal(p->tracestate_len, 0);
    assert_int_equal(p->rejected, 0);

    /* An invalid tracestate is dropped; the traceparent stays. */
    c->n = 0;
    carrier_set(c, "traceparent", "00-" W3C_TRACE "-" W3C_SPAN "-00");
    carrier_set(c, "tracestate", "foo=1,FOO=2");
    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    assert_ids(&p->span, W3C_TRACE, W3C_SPAN);
    assert_int_equal(p->span.trace_flags, 0);
    assert_string_equal(p->tracestate, "");
    assert_int_equal(p->tracestate_len, 0);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_TRACECONTEXT);

    /* A repeated key costs only the repeat, and is reported like a cut. */
    c->n = 0;
    carrier_set(c, "traceparent", "00-" W3C_TRACE "-" W3C_SPAN "-00");
    carrier_set(c, "tracestate", "foo=1,bar=2,foo=3");
    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    assert_ids(&p->span, W3C_TRACE, W3C_SPAN);
    assert_string_equal(p->tracestate, "foo=1,bar=2");
    assert_int_equal(p->tracestate_len, 11);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_TRACECONTEXT);

    /* Propagators that are off are not read. */
    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_zero_context(&p->span);
    assert_int_equal(p->rejected, 0);
    free(p);
    free(c);
}

/*
 * A tracestate that is discarded or kept in part is reported at debug level
 * with its cause, once per interval however many requests carry it.
 */
static void test_extract_tracestate_reported_once(void **state)
{
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    const char *text;
    (void)state;

    otelc__diag_set_level(OTELC_DIAG_DEBUG);
    otelc__diag_reset();
    carrier_set(c, "traceparent", "00-" W3C_TRACE "-" W3C_SPAN "-00");
    carrier_set(c, "tracestate", "foo=1,foo=2");
    capture_begin();
    for (int i = 0; i < 3; i++)
        otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    strcpy(c->h[1].value, "foo=1,FOO=2");
    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    text = capture_end();
    otelc__diag_set_level(OTELC_DIAG_WARN);

    assert_int_equal(count_lines(text), 1);
    assert_non_null(strstr(text, "incoming tracestate kept in part: a key appears more than once"));
    /* A header kept whole is not reported at all. */
    otelc__diag_reset();
    otelc__diag_set_level(OTELC_DIAG_DEBUG);
    strcpy(c->h[1].value, "foo=1,bar=2");
    capture_begin();
    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, carrier_get, c, p);
    text = capture_end();
    otelc__diag_set_level(OTELC_DIAG_WARN);
    assert_string_equal(text, "");
    assert_int_equal(p->rejected, 0);
    free(p);
    free(c);
}

static void test_extract_b3multi_variants(void **state)
{
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    /* Debug flag implies sampled; Sampled may be absent. */
    carrier_set(c, "x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
    carrier_set(c, "x-b3-spanid", "e457b5a2e4d86bd1");
    carrier_set(c, "x-b3-flags", "1");
    otelc__propagation_extract(OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_ids(&p->span, "80f198ee56343ba864fe8b2a57d3eff7", "e457b5a2e4d86bd1");
    assert_int_equal(p->span.trace_flags, OTELC_TRACE_FLAG_SAMPLED);

    /* The lenient "true" of older tracers. */
    strcpy(c->h[2].name, "x-b3-sampled");
    strcpy(c->h[2].value, "true");
    otelc__propagation_extract(OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_int_equal(p->span.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    strcpy(c->h[2].value, "false");
    otelc__propagation_extract(OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_int_equal(p->span.trace_flags, 0);
    assert_true(p->span.is_remote);

    /* Anything else makes the set invalid. */
    strcpy(c->h[2].value, "yes");
    otelc__propagation_extract(OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_zero_context(&p->span);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_B3MULTI);

    /* SpanId is required. */
    strcpy(c->h[2].value, "1");
    strcpy(c->h[1].name, "x-b3-parentspanid");
    otelc__propagation_extract(OTELC_PROPAGATOR_B3MULTI, carrier_get, c, p);
    assert_zero_context(&p->span);
    free(p);
    free(c);
}

static void test_extract_baggage_rules(void **state)
{
    static char big[OTELC_BAGGAGE_MAX + 200];
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    char value[16];
    (void)state;

    carrier_set(c, "baggage", " a = 1 , bad key=2, b=2;p ");
    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_string_equal(p->baggage, "a=1,b=2;p");
    assert_int_equal(p->baggage_len, 9);
    assert_int_equal(p->rejected, 0);

    strcpy(c->h[0].value, "bad key=2");
    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_string_equal(p->baggage, "");
    assert_int_equal(p->baggage_len, 0);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_BAGGAGE);

    /* A header at the limit is kept whole... */
    {
        size_t n = (size_t)snprintf(big, sizeof(big), "first=1,x=");
        memset(big + n, 'v', OTELC_BAGGAGE_MAX - n);
        big[OTELC_BAGGAGE_MAX] = '\0';
    }
    strcpy(c->h[0].value, big);
    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_int_equal(p->baggage_len, OTELC_BAGGAGE_MAX);
    assert_int_equal(p->rejected, 0);

    /* ...one byte more, and the member that does not fit is cut off, and
     * the cut is reported. */
    strcat(big, "v");
    strcpy(c->h[0].value, big);
    otelc__propagation_extract(OTELC_PROPAGATOR_BAGGAGE, carrier_get, c, p);
    assert_string_equal(p->baggage, "first=1");
    assert_int_equal(p->baggage_len, 7);
    assert_int_equal(p->rejected, OTELC_PROPAGATOR_BAGGAGE);
    assert_int_equal(
        otelc_baggage_lookup(p->baggage, p->baggage_len, "first", value, sizeof(value)), 1);
    assert_string_equal(value, "1");
    free(p);
    free(c);
}

static void test_extract_nothing(void **state)
{
    carrier_t *c = carrier_new();
    otelc__propagated_t *p = propagated_new();
    (void)state;

    otelc__propagation_extract(ALL_PROPAGATORS, carrier_get, c, p);
    assert_zero_context(&p->span);
    assert_string_equal(p->tracestate, "");
    assert_int_equal(p->tracestate_len, 0);
    assert_string_equal(p->baggage, "");
    assert_int_equal(p->baggage_len, 0);
    assert_int_equal(p->rejected, 0);
    free(p);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traceparent_valid),
        cmocka_unit_test(test_traceparent_flags_any_byte),
        cmocka_unit_test(test_traceparent_ows),
        cmocka_unit_test(test_traceparent_invalid),
        cmocka_unit_test(test_traceparent_oversize),
        cmocka_unit_test(test_traceparent_future_version),
        cmocka_unit_test(test_traceparent_respects_len),
        cmocka_unit_test(test_traceparent_format),
        cmocka_unit_test(test_tracestate_valid),
        cmocka_unit_test(test_tracestate_ows_and_empty_members),
        cmocka_unit_test(test_tracestate_all_allowed_characters),
        cmocka_unit_test(test_tracestate_invalid_keys),
        cmocka_unit_test(test_tracestate_at_sign_keys),
        cmocka_unit_test(test_tracestate_invalid_values),
        cmocka_unit_test(test_tracestate_duplicates_and_member_limit),
        cmocka_unit_test(test_tracestate_truncation),
        cmocka_unit_test(test_baggage_parse_normalises),
        cmocka_unit_test(test_baggage_parse_drops_invalid),
        cmocka_unit_test(test_baggage_parse_duplicates_last_wins),
        cmocka_unit_test(test_baggage_parse_member_limit),
        cmocka_unit_test(test_baggage_parse_byte_limit),
        cmocka_unit_test(test_baggage_lookup),
        cmocka_unit_test(test_baggage_lookup_invalid_utf8),
        cmocka_unit_test(test_baggage_lookup_cut_at_character),
        cmocka_unit_test(test_baggage_put),
        cmocka_unit_test(test_baggage_put_utf8),
        cmocka_unit_test(test_baggage_put_invalid_name),
        cmocka_unit_test(test_baggage_put_limits),
        cmocka_unit_test(test_b3_parse_128bit),
        cmocka_unit_test(test_b3_parse_64bit),
        cmocka_unit_test(test_b3_parse_sampling_states),
        cmocka_unit_test(test_b3_parse_invalid),
        cmocka_unit_test(test_b3_format),
        cmocka_unit_test(test_roundtrip_tracecontext),
        cmocka_unit_test(test_roundtrip_baggage),
        cmocka_unit_test(test_roundtrip_b3),
        cmocka_unit_test(test_roundtrip_b3multi),
        cmocka_unit_test(test_inject_all_and_invalid_span),
        cmocka_unit_test(test_extract_precedence),
        cmocka_unit_test(test_extract_tracestate_rules),
        cmocka_unit_test(test_extract_tracestate_reported_once),
        cmocka_unit_test(test_extract_b3multi_variants),
        cmocka_unit_test(test_extract_baggage_rules),
        cmocka_unit_test(test_extract_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
