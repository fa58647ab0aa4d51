/*
 * test_shapes.c: span and log macros write records of values only, their
 * name, message and keys learned once per call site (sdk/src/shape.h), and
 * what reaches the exporter is what the call passed, every call: the
 * values of each call, keys that change in a buffer the caller reuses,
 * messages that are not literals, masking under each session's own mask
 * list, limits, sites no shape can describe. And the records are smaller:
 * that is the point of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "capture_session.h"

static const cap_record_t *nth(int signal, const char *name, int n)
{
    for (size_t i = 0; i < cap.n; i++)
        if (cap.recs[i].signal == signal && strcmp(cap.recs[i].name, name) == 0 && n-- == 0)
            return &cap.recs[i];
    return NULL;
}

static void span_values_of_every_call(void **state)
{
    static const char *const syms[] = { "AAPL", "", "MSFT.O", "a-much-longer-symbol-name" };
    char want[64];
    (void)state;

    start(NULL);
    for (int i = 0; i < 4; i++) {
        OTELC_SPAN("shaped.span", OTELC_STR("symbol", syms[i]), OTELC_INT("qty", 100 * i - 50),
                   OTELC_DBL("px", 1.25 * i), OTELC_BOOL("buy", i & 1));
    }
    sync_export();
    for (int i = 0; i < 4; i++) {
        const cap_record_t *r = nth(OTELC_SIGNAL_TRACES, "shaped.span", i);
        assert_non_null(r);
        assert_int_equal(r->n_attrs, 4);
        assert_string_equal(cap_attr(r, "symbol"), syms[i]);
        snprintf(want, sizeof(want), "%d", 100 * i - 50);
        assert_string_equal(cap_attr(r, "qty"), want);
        snprintf(want, sizeof(want), "%.17g", 1.25 * i);
        assert_string_equal(cap_attr(r, "px"), want);
        assert_string_equal(cap_attr(r, "buy"), (i & 1) ? "true" : "false");
        assert_int_equal(r->kind, OTELC_SPAN_KIND_INTERNAL);
    }
}

static void func_span_and_empty_span(void **state)
{
    (void)state;
    start(NULL);
    for (int i = 0; i < 3; i++) {
        OTELC_FUNC(OTELC_INT("i", i));
        OTELC_SPAN("empty.span");
    }
    sync_export();
    for (int i = 0; i < 3; i++) {
        const cap_record_t *f = nth(OTELC_SIGNAL_TRACES, "func_span_and_empty_span", i);
        const cap_record_t *e = nth(OTELC_SIGNAL_TRACES, "empty.span", i);
        char want[8];
        assert_non_null(f);
        assert_non_null(e);
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(cap_attr(f, "i"), want);
        assert_int_equal(e->n_attrs, 0);
        assert_memory_equal(e->parent_span_id, f->ctx.span_id, 8);
    }
}

static void log_messages_literal_and_not(void **state)
{
    otelc_logger_t *lg = otelc_logger("shapes");
    char buf[32];
    (void)state;

    start(NULL);
    for (int i = 0; i < 3; i++) {
        OTELC_INFO(lg, "order placed", OTELC_STR("symbol", "IBM"), OTELC_INT("n", i));
        /* The same buffer, other contents: never the first call's text. */
        snprintf(buf, sizeof(buf), "fill %d of 3", i + 1);
        OTELC_WARN(lg, buf, OTELC_INT("n", i));
        OTELC_EVENT(lg, OTELC_SEV_INFO, "order_filled", "filled", OTELC_INT("n", i));
    }
    sync_export();
    for (int i = 0; i < 3; i++) {
        const cap_record_t *a = nth(OTELC_SIGNAL_LOGS, "order placed", i);
        const cap_record_t *e = nth(OTELC_SIGNAL_LOGS, "filled", i);
        const cap_record_t *b;
        char want[32];
        assert_non_null(a);
        assert_string_equal(cap_attr(a, "symbol"), "IBM");
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(cap_attr(a, "n"), want);
        assert_int_equal(a->body_len, strlen("order placed"));
        snprintf(want, sizeof(want), "fill %d of 3", i + 1);
        b = nth(OTELC_SIGNAL_LOGS, want, 0);
        assert_non_null(b);
        assert_int_equal(b->severity, OTELC_SEV_WARN);
        assert_non_null(e);
        assert_string_equal(e->event, "order_filled");
    }
}

/* Keys in a buffer the caller reuses, with their length filled in by
 * hand: the pointer is the same every call, the key is not. */
static void keys_in_a_reused_buffer(void **state)
{
    static const char *const keys[] = { "alfa", "beta", "gamma.delta.epsilon", "beta" };
    char key[32];
    (void)state;

    start(NULL);
    for (int i = 0; i < 4; i++) {
        otelc_attr_t a = OTELC_INT(key, i);
        strcpy(key, keys[i]);
        a.key_len = (uint32_t)strlen(key);
        OTELC_SPAN("reused.keys", a);
    }
    sync_export();
    for (int i = 0; i < 4; i++) {
        const cap_record_t *r = nth(OTELC_SIGNAL_TRACES, "reused.keys", i);
        char want[8];
        assert_non_null(r);
        assert_int_equal(r->n_attrs, 1);
        snprintf(want, sizeof(want), "%d", i);
        assert_string_equal(r->attrs[0].key, keys[i]);
        assert_string_equal(r->attrs[0].value, want);
    }
}

static void login(otelc_logger_t *lg)
{
    OTELC_SPAN("login", OTELC_STR("password", "hunter2"), OTELC_STR("user", "bob"));
    OTELC_INFO(lg, "login", OTELC_STR("password", "hunter2"), OTELC_STR("user", "bob"));
}

/* The same sites in two sessions with other mask lists: each session's
 * list applies, though the sites learned their shapes in the first. */
static void masking_per_session(void **state)
{
    otelc_logger_t *lg = otelc_logger("shapes.mask");
    otelc_options_t o;
    (void)state;

    start(NULL);
    login(lg);
    sync_export();
    for (int s = 0; s < 2; s++) {
        const cap_record_t *r = nth(s ? OTELC_SIGNAL_LOGS : OTELC_SIGNAL_TRACES, "login", 0);
        assert_non_null(r);
        assert_string_equal(cap_attr(r, "password"), "***MASKED***");
        assert_string_equal(cap_attr(r, "user"), "bob");
    }
    session_end(&cap);

    opts(&o);
    o.mask_keys = "user";
    start(&o);
    login(lg);
    sync_export();
    for (int s = 0; s < 2; s++) {
        const cap_record_t *r = nth(s ? OTELC_SIGNAL_LOGS : OTELC_SIGNAL_TRACES, "login", 0);
        assert_non_null(r);
        assert_string_equal(cap_attr(r, "password"), "hunter2");
        assert_string_equal(cap_attr(r, "user"), "***MASKED***");
    }
}

/* Values over the length limit, more attributes than a shape holds,
 * bytes and arrays: the records that describe themselves, as before. */
static void limits_and_sites_without_a_shape(void **state)
{
    static const int64_t ia[] = { 1, 2, 3 };
    otelc_options_t o;
    (void)state;

    opts(&o);
    o.span_limits.attribute_value_length = 8;
    start(&o);
    for (int i = 0; i < 2; i++) {
        OTELC_SPAN("limited", OTELC_STR("s", i ? "0123456789abcdef" : "short"));
        OTELC_SPAN("wide", OTELC_INT("k0", 0), OTELC_INT("k1", 1), OTELC_INT("k2", 2),
                   OTELC_INT("k3", 3), OTELC_INT("k4", 4), OTELC_INT("k5", 5), OTELC_INT("k6", 6),
                   OTELC_INT("k7", 7), OTELC_INT("k8", 8), OTELC_INT("k9", 9), OTELC_INT("k10", 10),
                   OTELC_INT("k11", 11), OTELC_INT("k12", 12), OTELC_INT("k13", 13),
                   OTELC_INT("k14", 14), OTELC_INT("k15", 15), OTELC_INT("k16", 16 + i));
        OTELC_SPAN("typed", OTELC_INT_ARRAY("ia", ia, 3), OTELC_BYTES("b", "\x01\x02", 2));
    }
    sync_export();
    assert_string_equal(cap_attr(nth(OTELC_SIGNAL_TRACES, "limited", 0), "s"), "short");
    assert_string_equal(cap_attr(nth(OTELC_SIGNAL_TRACES, "limited", 1), "s"), "01234567");
    for (int i = 0; i < 2; i++) {
        const cap_record_t *w = nth(OTELC_SIGNAL_TRACES, "wide", i);
        const cap_record_t *t = nth(OTELC_SIGNAL_TRACES, "typed", i);
        assert_non_null(w);
        assert_int_equal(w->n_attrs, 17);
        assert_string_equal(cap_attr(w, "k16"), i ? "17" : "16");
        assert_non_null(t);
        assert_string_equal(cap_attr(t, "ia"), "[1,2,3]");
        assert_string_equal(cap_attr(t, "b"), "0102");
    }
}

/* Bytes a span takes in the thread's buffer (start and end records). */
static uint64_t ring_head(void)
{
    return atomic_load(&otelc__tls->ring->head);
}

static void records_are_smaller(void **state)
{
    const otelc_attr_t attrs[] = { OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100),
                                   OTELC_DBL("px", 187.5) };
    uint64_t h0, h1, h2;
    otelc_span_t s;
    (void)state;

    start(NULL);
    {
        OTELC_SPAN("warm.up");
    }
    h0 = ring_head();
    {
        OTELC_SPAN("order.place", OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100),
                   OTELC_DBL("px", 187.5));
    }
    h1 = ring_head();
    s = otelc_span_start("order.place", attrs, 3);
    otelc_span_end(&s);
    h2 = ring_head();
    print_message("bytes per 3-attribute span: %llu from the macro, %llu from the function\n",
                  (unsigned long long)(h1 - h0), (unsigned long long)(h2 - h1));
    /* The macro's record has neither the name (11 bytes) nor the keys (14
     * bytes and 4 of header each), nor the fields a root span's start does
     * not need (a parent id, lengths): 96 bytes with its end. */
    assert_true(h1 - h0 + 24 <= h2 - h1);
    assert_true(h1 - h0 <= 96);
    sync_export();
    assert_string_equal(cap_attr(nth(OTELC_SIGNAL_TRACES, "order.place", 0), "px"),
                        cap_attr(nth(OTELC_SIGNAL_TRACES, "order.place", 1), "px"));
}

/* For otelc_extract(): a traceparent and a tracestate. */
static const char *remote_get(void *carrier, const char *key)
{
    if (strcmp(key, "traceparent") == 0)
        return carrier;
    if (strcmp(key, "tracestate") == 0)
        return "vendor=x";
    return NULL;
}

static const cap_record_t *log_of(const char *body)
{
    return nth(OTELC_SIGNAL_LOGS, body, 0);
}

/*
 * A small record leaves out a trace id that its ring's previous small
 * record carried: every record must still come out with its own trace,
 * however the thread moves between traces (a root span, an attached remote
 * context and a span inside it, back to the root), with correlation ids
 * and tracestate carried beside the values.
 */
static void trace_ids_across_contexts(void **state)
{
    static const uint8_t remote_trace[16] = { 0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6,
                                              0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36 };
    static const uint8_t remote_span[8] = { 0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7 };
    char tp[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    otelc_logger_t *lg;
    const cap_record_t *outer, *child, *r;
    (void)state;

    start(NULL);
    lg = otelc_logger("shapes.trace");
    {
        OTELC_SPAN("outer", OTELC_INT("k", 1));
        OTELC_INFO(lg, "in outer", OTELC_INT("k", 1));
        {
            otelc_context_t *ctx = otelc_extract(remote_get, tp);
            otelc_token_t tok;
            assert_non_null(ctx);
            tok = otelc_context_attach(ctx);
            {
                OTELC_SPAN("remote child", OTELC_INT("k", 2));
                OTELC_INFO(lg, "in remote child", OTELC_INT("k", 2));
            }
            OTELC_INFO(lg, "in remote", OTELC_INT("k", 3));
            otelc_context_detach(tok);
            otelc_context_release(ctx);
        }
        OTELC_INFO(lg, "back in outer", OTELC_INT("k", 4));
        OTELC_INFO(lg, "still in outer", OTELC_INT("k", 4));
    }
    OTELC_INFO(lg, "outside", OTELC_INT("k", 5));
    OTELC_CORRELATION("corr-1")
    {
        OTELC_SPAN("with corr", OTELC_INT("k", 6));
        OTELC_INFO(lg, "in corr", OTELC_INT("k", 6));
    }
    sync_export();

    outer = nth(OTELC_SIGNAL_TRACES, "outer", 0);
    child = nth(OTELC_SIGNAL_TRACES, "remote child", 0);
    assert_non_null(outer);
    assert_non_null(child);
    assert_memory_not_equal(outer->ctx.trace_id, remote_trace, 16);
    assert_memory_equal(child->ctx.trace_id, remote_trace, 16);
    assert_memory_equal(child->parent_span_id, remote_span, 8);
    assert_true(child->parent_is_remote);
    assert_string_equal(child->trace_state, "vendor=x");

    r = log_of("in outer");
    assert_non_null(r);
    assert_memory_equal(r->ctx.trace_id, outer->ctx.trace_id, 16);
    assert_memory_equal(r->ctx.span_id, outer->ctx.span_id, 8);
    r = log_of("in remote child");
    assert_non_null(r);
    assert_memory_equal(r->ctx.trace_id, remote_trace, 16);
    assert_memory_equal(r->ctx.span_id, child->ctx.span_id, 8);
    r = log_of("in remote");
    assert_non_null(r);
    assert_memory_equal(r->ctx.trace_id, remote_trace, 16);
    assert_memory_equal(r->ctx.span_id, remote_span, 8);
    r = log_of("back in outer");
    assert_non_null(r);
    assert_memory_equal(r->ctx.trace_id, outer->ctx.trace_id, 16);
    assert_memory_equal(r->ctx.span_id, outer->ctx.span_id, 8);
    r = log_of("still in outer");
    assert_non_null(r);
    assert_memory_equal(r->ctx.trace_id, outer->ctx.trace_id, 16);
    r = log_of("outside");
    assert_non_null(r);
    assert_false(otelc_span_context_is_valid(&r->ctx));
    assert_string_equal(cap_attr(r, "k"), "5");

    r = nth(OTELC_SIGNAL_TRACES, "with corr", 0);
    assert_non_null(r);
    assert_string_equal(r->correlation, "corr-1");
    assert_string_equal(cap_attr(r, "k"), "6");
    child = r;
    r = log_of("in corr");
    assert_non_null(r);
    assert_string_equal(r->correlation, "corr-1");
    assert_memory_equal(r->ctx.trace_id, child->ctx.trace_id, 16);
    assert_memory_equal(r->ctx.span_id, child->ctx.span_id, 8);
    assert_string_equal(cap_attr(r, "k"), "6");
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 4); /* and the correlation's root */
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(span_values_of_every_call, teardown),
        cmocka_unit_test_teardown(func_span_and_empty_span, teardown),
        cmocka_unit_test_teardown(log_messages_literal_and_not, teardown),
        cmocka_unit_test_teardown(keys_in_a_reused_buffer, teardown),
        cmocka_unit_test_teardown(masking_per_session, teardown),
        cmocka_unit_test_teardown(limits_and_sites_without_a_shape, teardown),
        cmocka_unit_test_teardown(records_are_smaller, teardown),
        cmocka_unit_test_teardown(trace_ids_across_contexts, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
