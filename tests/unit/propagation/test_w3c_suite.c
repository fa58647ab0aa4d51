/*
 * test_w3c_suite.c: the W3C trace-context test suite, request by request.
 *
 * w3c/trace-context test/test.py (read at acab820, "Fix tracestate key
 * grammar tests", with STRICT_LEVEL 2 and SPEC_LEVEL 2) sends a service
 * requests with traceparent and tracestate headers and checks the headers of
 * the service's outgoing call. Each row below is one of its requests: the
 * headers it sends and what the suite's assertions require of the context
 * the service carries on, written as the exact output otelc gives (which
 * satisfies them):
 *
 * - whether the traceparent is accepted: the suite's ids are kept (it then
 *   asserts the same trace-id downstream) or the header is ignored (it
 *   asserts a new trace-id);
 * - the tracestate carried on, normalised; "" when it is discarded.
 *
 * The suite's checks that a new parent-id is made for each outgoing call
 * concern the tracer, not the headers, and are tested with it.
 *
 * A server joins repeated header fields into one value with ", " (RFC 9110
 * section 5.3) before the getter sees them; the carrier here does the same,
 * and matches names case-insensitively. Every row is extracted with the
 * tracecontext propagator and then injected again, so that both what is
 * read and what is sent on are checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "propagation_int.h"

#define W3C_TRACE "12345678901234567890123456789012"
#define W3C_SPAN "1234567890123456"
#define TP(flags) "00-" W3C_TRACE "-" W3C_SPAN "-" flags

/* Long keys of test_tracestate_key_length_limit, checked for length below. */
#define X4(s) s s s s
#define X16(s) X4(X4(s))
#define Z256 X16("zzzzzzzzzzzzzzzz")
#define T241 X16("ttttttttttttttt") "t"
#define V14 "vvvvvvvvvvvvvv"
#define V15 V14 "v"
_Static_assert(sizeof(Z256) - 1 == 256, "Z256 is 256 characters");
_Static_assert(sizeof(T241) - 1 == 241, "T241 is 241 characters");
_Static_assert(sizeof(T241 "@" V14) - 1 == 256, "the suite's longest multi-tenant key");

/* test_tracestate_all_allowed_characters: every character a key and a value may hold. */
#define ALL_KEY "abcdefghijklmnopqrstuvwxyz0123456789_-*/"
#define ALL_KEY_VENDOR ALL_KEY "@a-z0-9_-*/"
#define ALL_VALUE                                                                                  \
    " !\"#$%&'()*+-./"                                                                             \
    "0123456789:;<>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
_Static_assert(sizeof(ALL_VALUE) - 1 == 0x7e - 0x20 + 1 - 2, "0x20-0x7e without ',' and '='");

/* test_tracestate_member_count_limit */
#define BARS_1_10                                                                                  \
    "bar01=01,bar02=02,bar03=03,bar04=04,bar05=05,bar06=06,bar07=07,bar08=08,bar09=09,bar10=10"
#define BARS_11_20                                                                                 \
    "bar11=11,bar12=12,bar13=13,bar14=14,bar15=15,bar16=16,bar17=17,bar18=18,bar19=19,bar20=20"
#define BARS_21_30                                                                                 \
    "bar21=21,bar22=22,bar23=23,bar24=24,bar25=25,bar26=26,bar27=27,bar28=28,bar29=29,bar30=30"

#define MAX_HEADERS 6

typedef struct w3c_request {
    const char *test; /* the suite's test method */
    /* The headers sent, in order, as name and value; a NULL name ends them. */
    const char *headers[MAX_HEADERS][2];
    /* Whether the traceparent is accepted, and then the flags carried on. */
    bool accepted;
    uint8_t flags;
    /* The tracestate carried on ("" when none). */
    const char *tracestate;
} w3c_request_t;

/* The rows are laid out by hand, one request per entry, for reading them
 * against the suite; clang-format would pack them differently row by row. */
/* clang-format off */
static const w3c_request_t requests[] = {
    /* ---- TraceContextTest: traceparent ---- */
    { "both_traceparent_and_tracestate_missing", { { NULL } }, false, 0, "" },
    { "traceparent_included_tracestate_missing", { { "traceparent", TP("01") } }, true, 0x01, "" },
    { "traceparent_duplicated",
      { { "traceparent", "00-12345678901234567890123456789011-" W3C_SPAN "-01" },
        { "traceparent", TP("01") } },
      false, 0, "" },
    { "traceparent_header_name", { { "trace-parent", TP("01") } }, false, 0, "" },
    { "traceparent_header_name", { { "trace.parent", TP("01") } }, false, 0, "" },
    { "traceparent_header_name_valid_casing", { { "TraceParent", TP("01") } }, true, 0x01, "" },
    { "traceparent_header_name_valid_casing", { { "TrAcEpArEnT", TP("01") } }, true, 0x01, "" },
    { "traceparent_header_name_valid_casing", { { "TRACEPARENT", TP("01") } }, true, 0x01, "" },
    { "traceparent_version_0x00", { { "traceparent", TP("01.") } }, false, 0, "" },
    { "traceparent_version_0x00",
      { { "traceparent", TP("01-what-the-future-will-be-like") } },
      false, 0, "" },
    { "traceparent_version_0xcc",
      { { "traceparent", "cc-" W3C_TRACE "-" W3C_SPAN "-01" } },
      true, 0x01, "" },
    { "traceparent_version_0xcc",
      { { "traceparent", "cc-" W3C_TRACE "-" W3C_SPAN "-01-what-the-future-will-be-like" } },
      true, 0x01, "" },
    { "traceparent_version_0xcc",
      { { "traceparent", "cc-" W3C_TRACE "-" W3C_SPAN "-01.what-the-future-will-be-like" } },
      false, 0, "" },
    { "traceparent_version_0xff",
      { { "traceparent", "ff-" W3C_TRACE "-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_version_illegal_characters",
      { { "traceparent", ".0-" W3C_TRACE "-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_version_illegal_characters",
      { { "traceparent", "0.-" W3C_TRACE "-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_version_too_long",
      { { "traceparent", "000-" W3C_TRACE "-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_version_too_long",
      { { "traceparent", "0000-" W3C_TRACE "-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_version_too_short",
      { { "traceparent", "0-" W3C_TRACE "-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_trace_id_all_zero",
      { { "traceparent", "00-00000000000000000000000000000000-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_trace_id_illegal_characters",
      { { "traceparent", "00-.2345678901234567890123456789012-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_trace_id_illegal_characters",
      { { "traceparent", "00-1234567890123456789012345678901.-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_trace_id_too_long",
      { { "traceparent", "00-123456789012345678901234567890123-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_trace_id_too_short",
      { { "traceparent", "00-1234567890123456789012345678901-" W3C_SPAN "-01" } },
      false, 0, "" },
    { "traceparent_parent_id_all_zero",
      { { "traceparent", "00-" W3C_TRACE "-0000000000000000-01" } },
      false, 0, "" },
    { "traceparent_parent_id_illegal_characters",
      { { "traceparent", "00-" W3C_TRACE "-.234567890123456-01" } },
      false, 0, "" },
    { "traceparent_parent_id_illegal_characters",
      { { "traceparent", "00-" W3C_TRACE "-123456789012345.-01" } },
      false, 0, "" },
    { "traceparent_parent_id_too_long",
      { { "traceparent", "00-" W3C_TRACE "-12345678901234567-01" } },
      false, 0, "" },
    { "traceparent_parent_id_too_short",
      { { "traceparent", "00-" W3C_TRACE "-123456789012345-01" } },
      false, 0, "" },
    { "traceparent_trace_flags_illegal_characters", { { "traceparent", TP(".0") } }, false, 0, "" },
    { "traceparent_trace_flags_illegal_characters", { { "traceparent", TP("0.") } }, false, 0, "" },
    { "traceparent_trace_flags_too_long", { { "traceparent", TP("001") } }, false, 0, "" },
    { "traceparent_trace_flags_too_short", { { "traceparent", TP("1") } }, false, 0, "" },
    { "traceparent_ows_handling", { { "traceparent", " " TP("01") } }, true, 0x01, "" },
    { "traceparent_ows_handling", { { "traceparent", "\t" TP("01") } }, true, 0x01, "" },
    { "traceparent_ows_handling", { { "traceparent", TP("01") " " } }, true, 0x01, "" },
    { "traceparent_ows_handling", { { "traceparent", TP("01") "\t" } }, true, 0x01, "" },
    { "traceparent_ows_handling", { { "traceparent", "\t " TP("01") " \t" } }, true, 0x01, "" },

    /* ---- TraceContextTest: tracestate ---- */
    { "tracestate_included_traceparent_missing", { { "tracestate", "foo=1" } }, false, 0, "" },
    { "tracestate_included_traceparent_missing",
      { { "tracestate", "foo=1,bar=2" } },
      false, 0, "" },
    { "tracestate_included_traceparent_included",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1,bar=2" } },
      true, 0, "foo=1,bar=2" },
    { "tracestate_header_name",
      { { "traceparent", TP("00") }, { "trace-state", "foo=1" } },
      true, 0, "" },
    { "tracestate_header_name",
      { { "traceparent", TP("00") }, { "trace.state", "foo=1" } },
      true, 0, "" },
    { "tracestate_header_name_valid_casing",
      { { "traceparent", TP("00") }, { "TraceState", "foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_header_name_valid_casing",
      { { "traceparent", TP("00") }, { "TrAcEsTaTe", "foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_header_name_valid_casing",
      { { "traceparent", TP("00") }, { "TRACESTATE", "foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_empty_header",
      { { "traceparent", TP("00") }, { "tracestate", "" } },
      true, 0, "" },
    { "tracestate_empty_header",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", "" } },
      true, 0, "foo=1" },
    { "tracestate_empty_header",
      { { "traceparent", TP("00") }, { "tracestate", "" }, { "tracestate", "foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_multiple_headers_different_keys",
      { { "traceparent", TP("00") },
        { "tracestate", "foo=1,bar=2" },
        { "tracestate", "rojo=1,congo=2" },
        { "tracestate", "baz=3" } },
      true, 0, "foo=1,bar=2,rojo=1,congo=2,baz=3" },
    /* The suite accepts either duplicate being kept or both; otelc keeps the
     * first (left-most, the most recent position), so the key is unique. */
    { "tracestate_duplicated_keys",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1,foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_duplicated_keys",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1,foo=2" } },
      true, 0, "foo=1" },
    { "tracestate_duplicated_keys",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", "foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_duplicated_keys",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", "foo=2" } },
      true, 0, "foo=1" },
    { "tracestate_all_allowed_characters",
      { { "traceparent", TP("00") }, { "tracestate", ALL_KEY "=" ALL_VALUE } },
      true, 0, ALL_KEY "=" ALL_VALUE },
    { "tracestate_all_allowed_characters",
      { { "traceparent", TP("00") }, { "tracestate", ALL_KEY_VENDOR "=" ALL_VALUE } },
      true, 0, ALL_KEY_VENDOR "=" ALL_VALUE },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1 \t , \t bar=2, \t baz=3" } },
      true, 0, "foo=1,bar=2,baz=3" },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1\t \t,\t \tbar=2,\t \tbaz=3" } },
      true, 0, "foo=1,bar=2,baz=3" },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", " foo=1" } },
      true, 0, "foo=1" },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", "\tfoo=1" } },
      true, 0, "foo=1" },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1 " } },
      true, 0, "foo=1" },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1\t" } },
      true, 0, "foo=1" },
    { "tracestate_ows_handling",
      { { "traceparent", TP("00") }, { "tracestate", "\t foo=1 \t" } },
      true, 0, "foo=1" },
    { "tracestate_key_illegal_characters",
      { { "traceparent", TP("00") }, { "tracestate", "foo =1" } },
      true, 0, "" },
    { "tracestate_key_illegal_characters",
      { { "traceparent", TP("00") }, { "tracestate", "FOO=1" } },
      true, 0, "" },
    { "tracestate_key_illegal_characters",
      { { "traceparent", TP("00") }, { "tracestate", "foo.bar=1" } },
      true, 0, "" },
    /* The current key grammar: '@' anywhere but first, any number of times. */
    { "tracestate_key_illegal_vendor_format",
      { { "traceparent", TP("00") }, { "tracestate", "foo@=1,bar=2" } },
      true, 0, "foo@=1,bar=2" },
    { "tracestate_key_illegal_vendor_format",
      { { "traceparent", TP("00") }, { "tracestate", "@foo=1,bar=2" } },
      true, 0, "" },
    { "tracestate_key_illegal_vendor_format",
      { { "traceparent", TP("00") }, { "tracestate", "foo@@bar=1,bar=2" } },
      true, 0, "foo@@bar=1,bar=2" },
    { "tracestate_key_illegal_vendor_format",
      { { "traceparent", TP("00") }, { "tracestate", "foo@bar@baz=1,bar=2" } },
      true, 0, "foo@bar@baz=1,bar=2" },
    { "tracestate_member_count_limit",
      { { "traceparent", TP("00") },
        { "tracestate", BARS_1_10 },
        { "tracestate", BARS_11_20 },
        { "tracestate", BARS_21_30 },
        { "tracestate", "bar31=31,bar32=32" } },
      true, 0, BARS_1_10 "," BARS_11_20 "," BARS_21_30 ",bar31=31,bar32=32" },
    { "tracestate_member_count_limit",
      { { "traceparent", TP("00") },
        { "tracestate", BARS_1_10 },
        { "tracestate", BARS_11_20 },
        { "tracestate", BARS_21_30 },
        { "tracestate", "bar31=31,bar32=32,bar33=33" } },
      true, 0, "" },
    /* The 512 bytes otelc keeps hold "foo=1" and any one of these keys. */
    { "tracestate_key_length_limit",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", Z256 "=1" } },
      true, 0, "foo=1," Z256 "=1" },
    { "tracestate_key_length_limit",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", Z256 "z=1" } },
      true, 0, "" },
    { "tracestate_key_length_limit",
      { { "traceparent", TP("00") },
        { "tracestate", "foo=1" },
        { "tracestate", T241 "@" V14 "=1" } },
      true, 0, "foo=1," T241 "@" V14 "=1" },
    { "tracestate_key_length_limit",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", T241 "t@v=1" } },
      true, 0, "foo=1," T241 "t@v=1" },
    { "tracestate_key_length_limit",
      { { "traceparent", TP("00") }, { "tracestate", "foo=1" }, { "tracestate", "t@" V15 "=1" } },
      true, 0, "foo=1,t@" V15 "=1" },
    { "tracestate_value_illegal_characters",
      { { "traceparent", TP("00") }, { "tracestate", "foo=bar=baz" } },
      true, 0, "" },
    { "tracestate_value_illegal_characters",
      { { "traceparent", TP("00") }, { "tracestate", "foo=,bar=3" } },
      true, 0, "" },

    /* ---- AdvancedTest ---- */
    { "multiple_requests_with_valid_traceparent", { { "traceparent", TP("01") } }, true, 0x01, "" },
    { "multiple_requests_without_traceparent", { { NULL } }, false, 0, "" },
    { "multiple_requests_with_illegal_traceparent",
      { { "traceparent", "00-00000000000000000000000000000000-" W3C_SPAN "-01" } },
      false, 0, "" },

    /* ---- TraceContext2Test: the random flag (0x02) is carried on ---- */
    { "propagates_random_flag", { { "traceparent", TP("02") } }, true, 0x02, "" },
};
/* clang-format on */

/* The suite sends 83 requests; every one is a row. */
_Static_assert(sizeof(requests) / sizeof(requests[0]) == 83, "one row per request of the suite");

/* ---- a carrier of HTTP header fields ---------------------------------------- */

#define FIELD_MAX 1024

typedef struct fields {
    struct {
        char name[32];
        char value[FIELD_MAX];
    } f[MAX_HEADERS];
    size_t n;
} fields_t;

/* Adds a field; a repeated name (case-insensitive) is joined with ", ". */
static void fields_add(fields_t *h, const char *name, const char *value)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcasecmp(h->f[i].name, name) == 0) {
            size_t used = strlen(h->f[i].value);
            assert_true(used + 2 + strlen(value) < FIELD_MAX);
            snprintf(h->f[i].value + used, FIELD_MAX - used, ", %s", value);
            return;
        }
    }
    assert_true(h->n < MAX_HEADERS);
    assert_true(strlen(name) < sizeof(h->f[0].name) && strlen(value) < FIELD_MAX);
    strcpy(h->f[h->n].name, name);
    strcpy(h->f[h->n].value, value);
    h->n++;
}

static const char *fields_get(void *arg, const char *key)
{
    fields_t *h = arg;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->f[i].name, key) == 0)
            return h->f[i].value;
    return NULL;
}

static void fields_set(void *arg, const char *key, const char *value)
{
    fields_add(arg, key, value);
}

static void hex_of(const uint8_t *bytes, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

/* ---- the test ------------------------------------------------------------------ */

/*
 * Extracts the headers of one request and checks the context against the
 * row, then injects that context and checks the headers sent on. Prints
 * what differs and returns false, so that one run lists every failing row.
 */
static bool check_request(size_t row, const w3c_request_t *r, otelc__propagated_t *p)
{
    fields_t *in = calloc(1, sizeof(*in)), *out = calloc(1, sizeof(*out));
    char trace[2 * OTELC_TRACE_ID_SIZE + 1], span[2 * OTELC_SPAN_ID_SIZE + 1];
    char expected[OTELC_TRACEPARENT_LEN + 1];
    const char *sent;
    bool ok = true;

    assert_non_null(in);
    assert_non_null(out);
    for (size_t i = 0; i < MAX_HEADERS && r->headers[i][0] != NULL; i++)
        fields_add(in, r->headers[i][0], r->headers[i][1]);

    memset(p, 0x5a, sizeof(*p));
    otelc__propagation_extract(OTELC_PROPAGATOR_TRACECONTEXT, fields_get, in, p);
    hex_of(p->span.trace_id, OTELC_TRACE_ID_SIZE, trace);
    hex_of(p->span.span_id, OTELC_SPAN_ID_SIZE, span);
    if (r->accepted && (strcmp(trace, W3C_TRACE) != 0 || strcmp(span, W3C_SPAN) != 0 ||
                        p->span.trace_flags != r->flags || !p->span.is_remote)) {
        print_error("row %zu (%s): traceparent not accepted as %s-%s-%02x, got %s-%s-%02x\n", row,
                    r->test, W3C_TRACE, W3C_SPAN, r->flags, trace, span, p->span.trace_flags);
        ok = false;
    }
    if (!r->accepted && otelc_span_context_is_valid(&p->span)) {
        print_error("row %zu (%s): invalid traceparent accepted as %s-%s\n", row, r->test, trace,
                    span);
        ok = false;
    }
    if (strcmp(p->tracestate, r->tracestate) != 0 || p->tracestate_len != strlen(r->tracestate)) {
        print_error("row %zu (%s): tracestate \"%.60s\" (%zu bytes), expected \"%.60s\"\n", row,
                    r->test, p->tracestate, p->tracestate_len, r->tracestate);
        ok = false;
    }

    /* What the service sends on: the same ids and flags (the parent the
     * next hop sees), and the tracestate exactly as kept, or none. */
    otelc__propagation_inject(OTELC_PROPAGATOR_TRACECONTEXT, &p->span, p->tracestate,
                              p->tracestate_len, NULL, 0, fields_set, out);
    sent = fields_get(out, "traceparent");
    snprintf(expected, sizeof(expected), "00-%s-%s-%02x", W3C_TRACE, W3C_SPAN, r->flags);
    if (r->accepted ? sent == NULL || strcmp(sent, expected) != 0 : sent != NULL) {
        print_error("row %zu (%s): sent traceparent %s\n", row, r->test, sent ? sent : "(none)");
        ok = false;
    }
    sent = fields_get(out, "tracestate");
    if (r->tracestate[0] == '\0' ? sent != NULL
                                 : sent == NULL || strcmp(sent, r->tracestate) != 0) {
        print_error("row %zu (%s): sent tracestate \"%.60s\"\n", row, r->test,
                    sent ? sent : "(none)");
        ok = false;
    }
    free(in);
    free(out);
    return ok;
}

static void test_w3c_suite_requests(void **state)
{
    otelc__propagated_t *p = malloc(sizeof(*p));
    size_t failed = 0, rows = sizeof(requests) / sizeof(requests[0]);
    (void)state;

    assert_non_null(p);
    for (size_t i = 0; i < rows; i++)
        failed += !check_request(i, &requests[i], p);
    free(p);
    if (failed > 0)
        fail_msg("%zu of %zu requests of the W3C suite fail", failed, rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_w3c_suite_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
