/*
 * test_tracer.c: spans as a user sees them in an exporter: parent/child from
 * the thread's context, the scoped macros, kinds, typed attributes, events,
 * links, status, errors, limits, masking, explicit times and parents, spans
 * ended on another thread, the no-op span, and the samplers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capture_session.h"
#include "pipeline.h"

static const cap_record_t *span(const char *name)
{
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_TRACES, name);
    if (r == NULL)
        fail_msg("span '%s' was not exported", name);
    return r;
}

static size_t count_spans(const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.n; i++)
        n += cap.recs[i].signal == OTELC_SIGNAL_TRACES && strcmp(cap.recs[i].name, name) == 0;
    return n;
}

static const uint8_t zero_id[16];

static void assert_child_of(const cap_record_t *child, const cap_record_t *parent)
{
    assert_memory_equal(child->ctx.trace_id, parent->ctx.trace_id, 16);
    assert_memory_equal(child->parent_span_id, parent->ctx.span_id, 8);
    assert_memory_not_equal(child->ctx.span_id, parent->ctx.span_id, 8);
}

/* ---- the no-op span ----------------------------------------------------- */

static void assert_noop(const otelc_span_t *s)
{
    assert_false(otelc_span_is_recording(s));
    assert_false(otelc_span_context_is_valid(&s->ctx));
    assert_int_equal(s->depth, 0);
}

/* Everything a program does with spans, on a span that is the no-op one. */
static void exercise_noop(void)
{
    otelc_span_t s = otelc_span_start("noop", NULL, 0);
    assert_noop(&s);
    OTELC_SPAN_ATTRS(&s, OTELC_INT("k", 1));
    OTELC_SPAN_EVENT(&s, "ev", OTELC_INT("k", 1));
    otelc_span_set_status(&s, OTELC_STATUS_ERROR, "x");
    otelc_span_record_error(&s, "t", "m");
    otelc_span_add_link(&s, &s.ctx, NULL, 0);
    {
        OTELC_SPAN("noop_scoped", OTELC_INT("k", 1));
        otelc_span_t cur = otelc_span_current();
        assert_noop(&cur);
        otelc_span_context_t c = otelc_current_span_context();
        assert_false(otelc_span_context_is_valid(&c));
    }
    otelc_span_options_t so = { 0 };
    so.name = "noop_ex";
    so.name_len = OTELC_NUL_TERMINATED;
    otelc_span_t e = otelc_span_start_ex(&so);
    assert_noop(&e);
    otelc_span_t n = otelc_span_start_ex(NULL);
    assert_noop(&n);
    otelc_span_end(&e);
    otelc_span_end(&n);
    otelc_span_end(&s);
    otelc_span_end(&s);
    otelc_span_end(NULL);
    otelc_span_end_at(&s, 5);
}

static void noop_before_init(void **state)
{
    (void)state;
    assert_false(otelc_is_enabled());
    exercise_noop();
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 0);
}

static void noop_after_shutdown(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_t kept = otelc_span_start("kept_open", NULL, 0);
    assert_true(otelc_span_is_recording(&kept));
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    assert_false(otelc_is_enabled());
    size_t exported = cap.n;
    /* A span started before shutdown can still be ended (it leaves the
     * thread's context); nothing is recorded. */
    OTELC_SPAN_ATTRS(&kept, OTELC_INT("late", 1));
    otelc_span_end(&kept);
    otelc_span_context_t cur = otelc_current_span_context();
    assert_false(otelc_span_context_is_valid(&cur));
    exercise_noop();
    assert_int_equal(cap.n, exported);
    otelc_stats_t st;
    otelc_stats(&st);
    /* It was open at shutdown: counted, as dropped at shutdown. */
    assert_int_equal(st.spans.produced, 1);
    assert_int_equal(st.spans.dropped[OTELC_DROP_SHUTDOWN], 1);
    assert_null(cap_find(&cap, OTELC_SIGNAL_TRACES, "noop"));
}

static void noop_when_disabled(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.disabled = true;
    start(&o);
    assert_false(otelc_is_enabled());
    exercise_noop();
    assert_int_equal(otelc_flush(100), OTELC_ERR_STATE);
    assert_int_equal(cap.n, 0);
    /* The SDK took the exporter and destroyed it, unused. */
    assert_true(cap.destroyed_flag);
    assert_int_equal(cap.batches, 0);
}

/* ---- structure ---------------------------------------------------------- */

static int compute_signal(int depth)
{
    OTELC_FUNC(OTELC_INT("depth", depth));
    if (depth > 0)
        return compute_signal(depth - 1) + 1;
    return 0;
}

static void nested_macros_make_children(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_context_t outer_ctx, inner_ctx;
    {
        OTELC_SPAN("outer", OTELC_STR("symbol", "AAPL"));
        outer_ctx = otelc_current_span_context();
        assert_true(otelc_span_context_is_valid(&outer_ctx));
        assert_int_equal(outer_ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
        {
            OTELC_SPAN("inner");
            inner_ctx = otelc_current_span_context();
            assert_memory_equal(inner_ctx.trace_id, outer_ctx.trace_id, 16);
            assert_int_equal(compute_signal(1), 1);
        }
        /* The inner scope ended: the outer span is active again. */
        otelc_span_context_t again = otelc_current_span_context();
        assert_memory_equal(again.span_id, outer_ctx.span_id, 8);
    }
    otelc_span_context_t none = otelc_current_span_context();
    assert_false(otelc_span_context_is_valid(&none));
    sync_export();

    const cap_record_t *outer = span("outer"), *inner = span("inner");
    assert_memory_equal(outer->ctx.span_id, outer_ctx.span_id, 8);
    assert_memory_equal(outer->parent_span_id, zero_id, 8);
    assert_child_of(inner, outer);
    /* OTELC_FUNC names the span after the function; recursion nests. */
    assert_int_equal(count_spans("compute_signal"), 2);
    const cap_record_t *f1 = NULL, *f0 = NULL;
    for (size_t i = 0; i < cap.n; i++) {
        if (strcmp(cap.recs[i].name, "compute_signal") != 0)
            continue;
        if (strcmp(cap_attr(&cap.recs[i], "depth"), "1") == 0)
            f1 = &cap.recs[i];
        else
            f0 = &cap.recs[i];
    }
    assert_non_null(f1);
    assert_non_null(f0);
    assert_string_equal(cap_attr(f0, "depth"), "0");
    assert_child_of(f1, inner);
    assert_child_of(f0, f1);
    /* Children end before their parents and start after them. */
    assert_true(inner->start_ns >= outer->start_ns);
    assert_true(inner->end_ns <= outer->end_ns);
    assert_true(f0->end_ns <= f1->end_ns);
    assert_string_equal(outer->scope, "otelc");
    assert_int_equal(outer->kind, OTELC_SPAN_KIND_INTERNAL);
    assert_int_equal(outer->status, OTELC_STATUS_UNSET);
    assert_span_stats_exact();
}

static int early_return(int stop)
{
    OTELC_SPAN("early");
    if (stop)
        return 1;
    OTELC_SPAN("late");
    return 0;
}

static void early_return_ends_the_span(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN("caller");
        otelc_span_context_t before = otelc_current_span_context();
        assert_int_equal(early_return(1), 1);
        otelc_span_context_t after = otelc_current_span_context();
        assert_memory_equal(after.span_id, before.span_id, 8);
        assert_int_equal(early_return(0), 0);
        after = otelc_current_span_context();
        assert_memory_equal(after.span_id, before.span_id, 8);
    }
    sync_export();
    assert_int_equal(count_spans("early"), 2);
    assert_int_equal(count_spans("late"), 1);
    const cap_record_t *caller = span("caller"), *late = span("late");
    int late_parent = 0;
    for (size_t i = 0; i < cap.n; i++) {
        if (strcmp(cap.recs[i].name, "early") != 0)
            continue;
        assert_child_of(&cap.recs[i], caller);
        late_parent += memcmp(late->parent_span_id, cap.recs[i].ctx.span_id, 8) == 0;
    }
    /* "late" is a child of the second "early". */
    assert_int_equal(late_parent, 1);
    /* No span is left open in the pipeline. */
    assert_int_equal(otelc__pipeline_open_spans(), 0);
    assert_span_stats_exact();
}

static void span_kinds(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN_KIND(OTELC_SPAN_KIND_CLIENT, "client");
    }
    {
        OTELC_SPAN_KIND(OTELC_SPAN_KIND_SERVER, "server");
    }
    const otelc_span_kind_t kinds[] = { OTELC_SPAN_KIND_UNSPECIFIED, OTELC_SPAN_KIND_PRODUCER,
                                        OTELC_SPAN_KIND_CONSUMER, OTELC_SPAN_KIND_INTERNAL };
    const char *names[] = { "k_default", "k_producer", "k_consumer", "k_internal" };
    for (int i = 0; i < 4; i++) {
        otelc_span_options_t so = { 0 };
        so.name = names[i];
        so.name_len = OTELC_NUL_TERMINATED;
        so.kind = kinds[i];
        otelc_span_t s = otelc_span_start_ex(&so);
        otelc_span_end(&s);
    }
    otelc_span_t plain = otelc_span_start("plain", NULL, 0);
    otelc_span_end(&plain);
    sync_export();
    assert_int_equal(span("client")->kind, OTELC_SPAN_KIND_CLIENT);
    assert_int_equal(span("server")->kind, OTELC_SPAN_KIND_SERVER);
    assert_int_equal(span("k_default")->kind, OTELC_SPAN_KIND_INTERNAL);
    assert_int_equal(span("k_producer")->kind, OTELC_SPAN_KIND_PRODUCER);
    assert_int_equal(span("k_consumer")->kind, OTELC_SPAN_KIND_CONSUMER);
    assert_int_equal(span("k_internal")->kind, OTELC_SPAN_KIND_INTERNAL);
    assert_int_equal(span("plain")->kind, OTELC_SPAN_KIND_INTERNAL);
}

static void names_from_the_function_api(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_t a = otelc_span_start(NULL, NULL, 0);
    otelc_span_end(&a);
    otelc_span_options_t so = { 0 };
    so.name = "sliced_name_is_cut";
    so.name_len = 6;
    otelc_span_t b = otelc_span_start_ex(&so);
    otelc_span_end(&b);
    otelc_span_options_t tr = { 0 };
    tr.tracer = otelc_tracer("execution.orders", "1.2.3");
    assert_ptr_equal(tr.tracer, otelc_tracer("execution.orders", "1.2.3"));
    tr.name = "scoped";
    tr.name_len = OTELC_NUL_TERMINATED;
    otelc_span_t c = otelc_span_start_ex(&tr);
    otelc_span_end(&c);
    sync_export();
    span("unnamed");
    span("sliced");
    assert_string_equal(span("scoped")->scope, "execution.orders");
}

/* ---- attributes, events, links, status ---------------------------------- */

static void typed_attributes(void **state)
{
    (void)state;
    static const char *const syms[] = { "AAPL", "MSFT" };
    static const int64_t qtys[] = { 100, -5 };
    static const double px[] = { 0.5, 150.25 };
    static const bool flags[] = { true, false };
    static const unsigned char raw[] = { 0x00, 0xff, 0x7f };
    start(NULL);
    {
        OTELC_SPAN("typed", OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100),
                   OTELC_DBL("price", 150.25), OTELC_BOOL("live", 1),
                   OTELC_BYTES("raw", raw, sizeof(raw)), OTELC_STR_ARRAY("syms", syms, 2),
                   OTELC_INT_ARRAY("qtys", qtys, 2), OTELC_DBL_ARRAY("px", px, 2),
                   OTELC_BOOL_ARRAY("flags", flags, 2), OTELC_STRN("part", "abcdef", 3),
                   OTELC_INT("min", INT64_MIN));
    }
    sync_export();
    const cap_record_t *s = span("typed");
    assert_int_equal(s->n_attrs, 11);
    assert_int_equal(s->dropped_attrs, 0);
    assert_string_equal(cap_attr(s, "symbol"), "AAPL");
    assert_string_equal(cap_attr(s, "qty"), "100");
    assert_string_equal(cap_attr(s, "price"), "150.25");
    assert_string_equal(cap_attr(s, "live"), "true");
    assert_string_equal(cap_attr(s, "raw"), "00ff7f");
    assert_string_equal(cap_attr(s, "syms"), "[AAPL,MSFT]");
    assert_string_equal(cap_attr(s, "qtys"), "[100,-5]");
    assert_string_equal(cap_attr(s, "px"), "[0.5,150.25]");
    assert_string_equal(cap_attr(s, "flags"), "[true,false]");
    assert_string_equal(cap_attr(s, "part"), "abc");
    assert_string_equal(cap_attr(s, "min"), "-9223372036854775808");
    assert_int_equal(s->attrs[0].type, OTELC_ATTR_STRING);
    assert_int_equal(s->attrs[1].type, OTELC_ATTR_INT);
    assert_int_equal(s->attrs[2].type, OTELC_ATTR_DOUBLE);
    assert_int_equal(s->attrs[5].type, OTELC_ATTR_STRING_ARRAY);
}

static void set_attrs_replaces_same_key(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN_VAR(s, "order", OTELC_INT("qty", 1), OTELC_STR("state", "new"));
        OTELC_SPAN_ATTRS(&s, OTELC_INT("qty", 2), OTELC_STR("venue", "XNAS"));
        OTELC_SPAN_ATTRS(&s, OTELC_STR("state", "filled"), OTELC_DBL("qty", 2.5));
    }
    sync_export();
    const cap_record_t *s = span("order");
    assert_int_equal(s->n_attrs, 3);
    assert_string_equal(cap_attr(s, "qty"), "2.5");
    assert_int_equal(s->attrs[0].type, OTELC_ATTR_DOUBLE);
    assert_string_equal(cap_attr(s, "state"), "filled");
    assert_string_equal(cap_attr(s, "venue"), "XNAS");
}

static void events_are_timed_inside_the_span(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN_VAR(s, "with_events");
        OTELC_SPAN_EVENT(&s, "order_sent", OTELC_STR("id", "ORD1"), OTELC_INT("qty", 5));
        otelc_span_add_event(&s, "ack", NULL, 0);
        otelc_span_add_event(&s, NULL, NULL, 0);
    }
    sync_export();
    const cap_record_t *s = span("with_events");
    assert_int_equal(s->n_events, 3);
    assert_string_equal(s->events[0], "order_sent");
    assert_int_equal(s->n_event_attrs[0], 2);
    assert_string_equal(s->event_attrs[0][0].key, "id");
    assert_string_equal(s->event_attrs[0][0].value, "ORD1");
    assert_string_equal(s->event_attrs[0][1].value, "5");
    assert_string_equal(s->events[1], "ack");
    assert_int_equal(s->n_event_attrs[1], 0);
    assert_string_equal(s->events[2], "unnamed");
    for (unsigned i = 0; i < 3; i++) {
        assert_true(s->event_times[i] >= s->start_ns);
        assert_true(s->event_times[i] <= s->end_ns);
    }
    assert_true(s->event_times[0] <= s->event_times[1]);
    assert_true(s->event_times[1] <= s->event_times[2]);
    /* A plausible wall clock (after 2020). */
    assert_true(s->start_ns > 1577836800000000000ull);
}

static otelc_span_context_t make_ctx(uint8_t t, uint8_t sp, uint8_t flags, bool remote)
{
    otelc_span_context_t c;
    memset(&c, 0, sizeof(c));
    memset(c.trace_id, t, 16);
    memset(c.span_id, sp, 8);
    c.trace_flags = flags;
    c.is_remote = remote;
    return c;
}

static void links_from_start_and_later(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_context_t l[2] = { make_ctx(0xA1, 0xB1, 1, false), make_ctx(0xA2, 0xB2, 0, true) };
    otelc_span_context_t l3 = make_ctx(0xA3, 0xB3, 1, false), invalid = make_ctx(0, 0, 1, false);
    otelc_span_options_t so = { 0 };
    so.name = "linked";
    so.name_len = OTELC_NUL_TERMINATED;
    so.links = l;
    so.n_links = 2;
    otelc_span_t s = otelc_span_start_ex(&so);
    otelc_attr_t la = OTELC_STR("why", "retry");
    otelc_span_add_link(&s, &l3, &la, 1);
    otelc_span_add_link(&s, &invalid, NULL, 0); /* ignored */
    otelc_span_add_link(&s, NULL, NULL, 0);     /* ignored */
    otelc_span_end(&s);
    sync_export();
    const cap_record_t *r = span("linked");
    assert_int_equal(r->n_links, 3);
    assert_int_equal(r->dropped_links, 0);
    assert_memory_equal(r->links[0].trace_id, l[0].trace_id, 16);
    assert_memory_equal(r->links[0].span_id, l[0].span_id, 8);
    assert_int_equal(r->links[0].trace_flags, 1);
    assert_memory_equal(r->links[1].trace_id, l[1].trace_id, 16);
    assert_int_equal(r->links[1].trace_flags, 0);
    assert_memory_equal(r->links[2].span_id, l3.span_id, 8);
}

static void end_with_status(const char *name, void (*fn)(const otelc_span_t *))
{
    otelc_span_t s = otelc_span_start(name, NULL, 0);
    fn(&s);
    otelc_span_end(&s);
}

static void st_error(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "boom");
}
static void st_ok_desc(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_OK, "ignored for OK");
}
static void st_ok_final(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_OK, NULL);
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "too late");
}
static void st_unset_no_override(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "first");
    otelc_span_set_status(s, OTELC_STATUS_UNSET, NULL);
}
static void st_error_twice(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "first");
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "second");
}
static void st_error_then_ok(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_ERROR, "failed once");
    otelc_span_set_status(s, OTELC_STATUS_OK, NULL);
}
static void st_bad_code(const otelc_span_t *s)
{
    otelc_span_set_status(s, (otelc_status_code_t)7, "bad");
}
static void st_error_null(const otelc_span_t *s)
{
    otelc_span_set_status(s, OTELC_STATUS_ERROR, NULL);
}

static void status_rules(void **state)
{
    (void)state;
    start(NULL);
    end_with_status("error", st_error);
    end_with_status("ok_desc", st_ok_desc);
    end_with_status("ok_final", st_ok_final);
    end_with_status("unset", st_unset_no_override);
    end_with_status("error_twice", st_error_twice);
    end_with_status("error_then_ok", st_error_then_ok);
    end_with_status("bad_code", st_bad_code);
    end_with_status("error_null", st_error_null);
    sync_export();
    assert_int_equal(span("error")->status, OTELC_STATUS_ERROR);
    assert_string_equal(span("error")->status_message, "boom");
    assert_int_equal(span("ok_desc")->status, OTELC_STATUS_OK);
    assert_string_equal(span("ok_desc")->status_message, "");
    assert_int_equal(span("ok_final")->status, OTELC_STATUS_OK);
    assert_string_equal(span("ok_final")->status_message, "");
    assert_int_equal(span("unset")->status, OTELC_STATUS_ERROR);
    assert_string_equal(span("unset")->status_message, "first");
    assert_int_equal(span("error_twice")->status, OTELC_STATUS_ERROR);
    assert_string_equal(span("error_twice")->status_message, "second");
    assert_int_equal(span("error_then_ok")->status, OTELC_STATUS_OK);
    assert_string_equal(span("error_then_ok")->status_message, "");
    assert_int_equal(span("bad_code")->status, OTELC_STATUS_UNSET);
    assert_int_equal(span("error_null")->status, OTELC_STATUS_ERROR);
    assert_string_equal(span("error_null")->status_message, "");
}

static void record_error_adds_exception(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_t s = otelc_span_start("failing", NULL, 0);
    otelc_span_record_error(&s, "OrderRejected", "insufficient margin");
    otelc_span_end(&s);
    otelc_span_t u = otelc_span_start("untyped", NULL, 0);
    otelc_span_record_error(&u, NULL, NULL);
    otelc_span_end(&u);
    sync_export();
    const cap_record_t *r = span("failing");
    assert_int_equal(r->n_events, 1);
    assert_string_equal(r->events[0], "exception");
    assert_int_equal(r->n_event_attrs[0], 2);
    assert_string_equal(r->event_attrs[0][0].key, "exception.type");
    assert_string_equal(r->event_attrs[0][0].value, "OrderRejected");
    assert_string_equal(r->event_attrs[0][1].key, "exception.message");
    assert_string_equal(r->event_attrs[0][1].value, "insufficient margin");
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "insufficient margin");
    const cap_record_t *v = span("untyped");
    assert_int_equal(v->n_event_attrs[0], 1);
    assert_string_equal(v->event_attrs[0][0].key, "exception.message");
    assert_string_equal(v->event_attrs[0][0].value, "");
    assert_int_equal(v->status, OTELC_STATUS_ERROR);
}

static void limits_from_options(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.span_limits.attribute_count = 3;
    o.span_limits.attribute_value_length = 4;
    o.span_limits.event_count = 2;
    o.span_limits.attributes_per_event = 1;
    o.span_limits.link_count = 1;
    start(&o);
    otelc_span_context_t l[2] = { make_ctx(1, 2, 1, false), make_ctx(3, 4, 1, false) };
    otelc_attr_t a[5] = { OTELC_STR("s", "abcdefgh"), OTELC_STR("u", "\xE6\x97\xA5\xE6\x9C\xAC"),
                          OTELC_INT("i", 123456789), OTELC_INT("x", 1), OTELC_INT("y", 2) };
    otelc_span_options_t so = { 0 };
    so.name = "limited";
    so.name_len = OTELC_NUL_TERMINATED;
    so.attrs = a;
    so.n_attrs = 5;
    so.links = l;
    so.n_links = 2;
    otelc_span_t s = otelc_span_start_ex(&so);
    OTELC_SPAN_ATTRS(&s, OTELC_INT("i", 7), OTELC_INT("z", 3)); /* replace; one more dropped */
    OTELC_SPAN_EVENT(&s, "e1", OTELC_INT("a", 1), OTELC_INT("b", 2));
    OTELC_SPAN_EVENT(&s, "e2");
    OTELC_SPAN_EVENT(&s, "e3");
    otelc_span_end(&s);
    sync_export();
    const cap_record_t *r = span("limited");
    assert_int_equal(r->n_attrs, 3);
    assert_int_equal(r->dropped_attrs, 3);
    assert_string_equal(cap_attr(r, "s"), "abcd");
    assert_string_equal(cap_attr(r, "u"), "\xE6\x97\xA5"); /* one whole character */
    assert_string_equal(cap_attr(r, "i"), "7");
    assert_null(cap_attr(r, "x"));
    assert_null(cap_attr(r, "z"));
    assert_int_equal(r->n_events, 2);
    assert_int_equal(r->dropped_events, 1);
    assert_int_equal(r->n_event_attrs[0], 1);
    assert_string_equal(r->events[1], "e2");
    assert_int_equal(r->n_links, 1);
    assert_int_equal(r->dropped_links, 1);
}

static void masks_sensitive_keys(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN_VAR(s, "login", OTELC_STR("api_key", "k-123"), OTELC_STR("Password", "hunter2"),
                       OTELC_INT("TOKEN", 42), OTELC_STR("secret", "s"),
                       OTELC_STR("api_secret", "s2"), OTELC_STR("credentials", "c"),
                       OTELC_STR("private_key", "pk"), OTELC_STR("Encryption_Key", "ek"),
                       OTELC_STR("password_hint", "pet"), OTELC_STR("user", "bob"));
        OTELC_SPAN_EVENT(&s, "auth", OTELC_STR("token", "abc"), OTELC_STR("method", "pw"));
        OTELC_SPAN_ATTRS(&s, OTELC_STR("secret", "replaced"));
    }
    sync_export();
    const cap_record_t *r = span("login");
    const char *masked[] = { "api_key",    "Password",    "TOKEN",       "secret",
                             "api_secret", "credentials", "private_key", "Encryption_Key" };
    for (size_t i = 0; i < 8; i++) {
        assert_string_equal(cap_attr(r, masked[i]), "***MASKED***");
    }
    assert_string_equal(cap_attr(r, "password_hint"), "pet");
    assert_string_equal(cap_attr(r, "user"), "bob");
    assert_string_equal(r->event_attrs[0][0].value, "***MASKED***");
    assert_string_equal(r->event_attrs[0][1].value, "pw");
    /* Nothing of the secrets reaches the exporter. */
    for (unsigned i = 0; i < r->n_attrs; i++) {
        assert_null(strstr(r->attrs[i].value, "hunter2"));
        assert_null(strstr(r->attrs[i].value, "k-123"));
    }
}

static void custom_mask_keys(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.mask_keys = " account_no , PIN";
    start(&o);
    {
        OTELC_SPAN("custom", OTELC_STR("Account_No", "ACC-7"), OTELC_STR("pin", "1234"),
                   OTELC_STR("password", "visible"));
    }
    sync_export();
    const cap_record_t *r = span("custom");
    assert_string_equal(cap_attr(r, "Account_No"), "***MASKED***");
    assert_string_equal(cap_attr(r, "pin"), "***MASKED***");
    assert_string_equal(cap_attr(r, "password"), "visible");
}

static void empty_mask_keys_masks_nothing(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.mask_keys = "";
    start(&o);
    {
        OTELC_SPAN("open", OTELC_STR("password", "visible"));
    }
    sync_export();
    assert_string_equal(cap_attr(span("open"), "password"), "visible");
}

/* ---- times, parents, activation ------------------------------------------ */

static void explicit_times(void **state)
{
    (void)state;
    start(NULL);
    const uint64_t t0 = 1700000000123456789ull, t1 = 1700000000223456789ull;
    otelc_span_options_t so = { 0 };
    so.name = "timed";
    so.name_len = OTELC_NUL_TERMINATED;
    so.start_time_ns = t0;
    otelc_span_t s = otelc_span_start_ex(&so);
    otelc_span_end_at(&s, t1);
    otelc_span_end_at(&s, t1 + 5); /* second end: ignored */
    so.name = "backwards";
    otelc_span_t b = otelc_span_start_ex(&so);
    otelc_span_end_at(&b, t0 - 1000);
    so.name = "start_only";
    otelc_span_t c = otelc_span_start_ex(&so);
    otelc_span_end(&c);
    sync_export();
    assert_int_equal(span("timed")->start_ns, t0);
    assert_int_equal(span("timed")->end_ns, t1);
    assert_int_equal(count_spans("timed"), 1);
    /* An end before the start is clamped to the start. */
    assert_int_equal(span("backwards")->end_ns, t0);
    /* An explicit start in the past and an end now. */
    assert_int_equal(span("start_only")->start_ns, t0);
    assert_true(span("start_only")->end_ns > t1);
}

static void explicit_parent_and_root(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_context_t remote = make_ctx(0x11, 0x22, OTELC_TRACE_FLAG_SAMPLED, true);
    otelc_span_context_t active;
    {
        OTELC_SPAN("active");
        active = otelc_current_span_context();
        otelc_span_options_t so = { 0 };
        so.name = "explicit_child";
        so.name_len = OTELC_NUL_TERMINATED;
        so.parent = &remote;
        otelc_span_t c = otelc_span_start_ex(&so);
        assert_memory_equal(c.ctx.trace_id, remote.trace_id, 16);
        /* It is now the active span. */
        otelc_span_context_t cur = otelc_current_span_context();
        assert_memory_equal(cur.span_id, c.ctx.span_id, 8);
        otelc_span_end(&c);

        otelc_span_options_t ro = { 0 };
        ro.name = "new_root";
        ro.name_len = OTELC_NUL_TERMINATED;
        ro.root = true;
        otelc_span_t r = otelc_span_start_ex(&ro);
        assert_memory_not_equal(r.ctx.trace_id, active.trace_id, 16);
        otelc_span_end(&r);

        /* An invalid explicit parent makes a root, not a child of the active span. */
        otelc_span_context_t bad = make_ctx(0, 0x22, 1, false);
        otelc_span_options_t bo = { 0 };
        bo.name = "bad_parent";
        bo.name_len = OTELC_NUL_TERMINATED;
        bo.parent = &bad;
        otelc_span_t b = otelc_span_start_ex(&bo);
        otelc_span_end(&b);
    }
    sync_export();
    const cap_record_t *c = span("explicit_child"), *r = span("new_root"), *b = span("bad_parent");
    assert_memory_equal(c->ctx.trace_id, remote.trace_id, 16);
    assert_memory_equal(c->parent_span_id, remote.span_id, 8);
    assert_true(c->parent_is_remote);
    assert_memory_equal(r->parent_span_id, zero_id, 8);
    assert_false(r->parent_is_remote);
    assert_memory_not_equal(r->ctx.trace_id, active.trace_id, 16);
    assert_memory_equal(b->parent_span_id, zero_id, 8);
    assert_memory_not_equal(b->ctx.trace_id, active.trace_id, 16);
}

static void no_activate_leaves_the_context(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN("outer");
        otelc_span_context_t outer = otelc_current_span_context();
        otelc_span_options_t so = { 0 };
        so.name = "background";
        so.name_len = OTELC_NUL_TERMINATED;
        so.no_activate = true;
        otelc_span_t bg = otelc_span_start_ex(&so);
        assert_true(otelc_span_is_recording(&bg));
        assert_int_equal(bg.depth, 0);
        otelc_span_context_t cur = otelc_current_span_context();
        assert_memory_equal(cur.span_id, outer.span_id, 8);
        {
            OTELC_SPAN("sibling");
        }
        otelc_span_end(&bg);
        cur = otelc_current_span_context();
        assert_memory_equal(cur.span_id, outer.span_id, 8);
    }
    sync_export();
    assert_child_of(span("background"), span("outer"));
    assert_child_of(span("sibling"), span("outer"));
}

static void span_current_is_a_handle(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN("handled");
        otelc_span_t cur = otelc_span_current();
        assert_true(otelc_span_is_recording(&cur));
        OTELC_SPAN_ATTRS(&cur, OTELC_STR("added", "via current"));
        OTELC_SPAN_EVENT(&cur, "via_current");
    }
    sync_export();
    const cap_record_t *r = span("handled");
    assert_string_equal(cap_attr(r, "added"), "via current");
    assert_int_equal(r->n_events, 1);
}

/* ---- ending on another thread -------------------------------------------- */

typedef struct handoff {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    otelc_span_t spans[64];
    int n;
    int phase; /* 0 idle, 1 spans ready, 2 ended, 3 exit */
} handoff_t;

static void handoff_wait(handoff_t *h, int phase)
{
    pthread_mutex_lock(&h->mu);
    while (h->phase < phase)
        pthread_cond_wait(&h->cond, &h->mu);
    pthread_mutex_unlock(&h->mu);
}

static void handoff_set(handoff_t *h, int phase)
{
    pthread_mutex_lock(&h->mu);
    h->phase = phase;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->mu);
}

static void *ender(void *arg)
{
    handoff_t *h = arg;
    /* Give this thread its otelc state (and ring) first. */
    OTELC_INFO(otelc_logger("ender"), "ready");
    handoff_wait(h, 1);
    for (int i = 0; i < h->n; i++) {
        OTELC_SPAN_ATTRS(&h->spans[i], OTELC_STR("ended_by", "worker"));
        otelc_span_end(&h->spans[i]);
    }
    handoff_set(h, 2);
    handoff_wait(h, 3);
    return NULL;
}

static void span_ends_on_another_thread(void **state)
{
    (void)state;
    start(NULL);
    static handoff_t h;
    pthread_t th;
    otelc_span_context_t parent_ctx;

    memset(&h, 0, sizeof(h));
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cond, NULL);
    /* The main thread has its state before the worker does, so the worker's
     * ring is newer and comes first in the pipeline's walk. */
    OTELC_INFO(otelc_logger("main"), "ready");
    assert_int_equal(pthread_create(&th, NULL, ender, &h), 0);
    sync_export(); /* the worker's "ready" is out: its ring exists */
    assert_true(cap_wait(&cap, OTELC_SIGNAL_LOGS, 2, 5000));
    {
        OTELC_SPAN("handoff_parent");
        parent_ctx = otelc_current_span_context();
        /* Keep the pipeline from draining while the spans start here and
         * end there, so that it sees both in one walk, whatever the timing:
         * the ends (worker's ring) before the starts (this ring). */
        otelc__registry_lock();
        for (int i = 0; i < 64; i++) {
            otelc_span_options_t so = { 0 };
            so.name = "handed_off";
            so.name_len = OTELC_NUL_TERMINATED;
            so.no_activate = true;
            h.spans[i] = otelc_span_start_ex(&so);
        }
        h.n = 64;
        handoff_set(&h, 1);
        handoff_wait(&h, 2);
        otelc__registry_unlock();
    }
    sync_export();
    handoff_set(&h, 3);
    pthread_join(th, NULL);

    assert_int_equal(count_spans("handed_off"), 64);
    for (size_t i = 0; i < cap.n; i++) {
        const cap_record_t *r = &cap.recs[i];
        if (strcmp(r->name, "handed_off") != 0)
            continue;
        assert_memory_equal(r->parent_span_id, parent_ctx.span_id, 8);
        assert_string_equal(cap_attr(r, "ended_by"), "worker");
        assert_true(r->end_ns >= r->start_ns);
    }
    assert_int_equal(otelc__pipeline_open_spans(), 0);
    assert_span_stats_exact();
}

/* An activated span ended by another thread is exported once; its handle on
 * the starting thread still pops it from that thread's context. */
static void *end_copy(void *arg)
{
    otelc_span_end((otelc_span_t *)arg);
    return NULL;
}

static void active_span_ended_elsewhere(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_t s = otelc_span_start("active_elsewhere", NULL, 0);
    otelc_span_t copy = s;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, end_copy, &copy), 0);
    pthread_join(th, NULL);
    otelc_span_context_t cur = otelc_current_span_context();
    assert_memory_equal(cur.span_id, s.ctx.span_id, 8);
    otelc_span_end(&s); /* pops it here; the pipeline ignores the second end */
    cur = otelc_current_span_context();
    assert_false(otelc_span_context_is_valid(&cur));
    sync_export();
    assert_int_equal(count_spans("active_elsewhere"), 1);
    assert_span_stats_exact();
}

/* ---- samplers ------------------------------------------------------------ */

typedef struct carrier {
    char keys[8][32];
    char values[8][600];
    int n;
} carrier_t;

static void carrier_set(void *c, const char *key, const char *value)
{
    carrier_t *k = c;
    snprintf(k->keys[k->n], sizeof(k->keys[0]), "%s", key);
    snprintf(k->values[k->n], sizeof(k->values[0]), "%s", value);
    k->n++;
}

static const char *carrier_value(const carrier_t *c, const char *key)
{
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->keys[i], key) == 0)
            return c->values[i];
    return NULL;
}

static void sampler_always_off(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.sampler = OTELC_SAMPLER_ALWAYS_OFF;
    start(&o);
    otelc_logger_t *lg = otelc_logger("sampling");
    otelc_span_context_t outer_ctx, inner_ctx;
    carrier_t c = { .n = 0 };
    {
        OTELC_SPAN_VAR(outer, "off_outer");
        assert_false(otelc_span_is_recording(&outer));
        outer_ctx = outer.ctx;
        assert_true(otelc_span_context_is_valid(&outer_ctx));
        assert_int_equal(outer_ctx.trace_flags, 0);
        {
            OTELC_SPAN_VAR(inner, "off_inner");
            inner_ctx = inner.ctx;
            assert_true(otelc_span_context_is_valid(&inner_ctx));
            assert_memory_equal(inner_ctx.trace_id, outer_ctx.trace_id, 16);
            assert_memory_not_equal(inner_ctx.span_id, outer_ctx.span_id, 8);
            OTELC_SPAN_ATTRS(&inner, OTELC_INT("ignored", 1));
            OTELC_INFO(lg, "inside unsampled");
            otelc_inject(carrier_set, &c);
        }
    }
    sync_export();
    /* The context propagates with the sampled flag off. */
    char want[OTELC_TRACEPARENT_LEN + 1], t[33], s[17];
    otelc_hex_encode(inner_ctx.trace_id, 16, t);
    otelc_hex_encode(inner_ctx.span_id, 8, s);
    snprintf(want, sizeof(want), "00-%s-%s-00", t, s);
    assert_non_null(carrier_value(&c, "traceparent"));
    assert_string_equal(carrier_value(&c, "traceparent"), want);
    /* Nothing exported, the log still carries the ids. */
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 0);
    const cap_record_t *l = cap_find(&cap, OTELC_SIGNAL_LOGS, "inside unsampled");
    assert_non_null(l);
    assert_memory_equal(l->ctx.trace_id, inner_ctx.trace_id, 16);
    assert_memory_equal(l->ctx.span_id, inner_ctx.span_id, 8);
    assert_int_equal(l->ctx.trace_flags, 0);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 2);
    assert_int_equal(st.spans.dropped[OTELC_DROP_SAMPLER], 2);
    assert_int_equal(st.spans.exported, 0);
    assert_int_equal(st.spans.pending, 0);
}

static otelc_span_t child_of(const char *name, const otelc_span_context_t *parent)
{
    otelc_span_options_t so = { 0 };
    so.name = name;
    so.name_len = OTELC_NUL_TERMINATED;
    so.parent = parent;
    return otelc_span_start_ex(&so);
}

static void sampler_parentbased_follows_parent(void **state)
{
    (void)state;
    start(NULL); /* default: parentbased_always_on */
    otelc_span_context_t sampled = make_ctx(0x31, 0x32, OTELC_TRACE_FLAG_SAMPLED, true);
    otelc_span_context_t unsampled = make_ctx(0x41, 0x42, 0, true);
    otelc_span_t a = child_of("pb_sampled_parent", &sampled);
    otelc_span_t b = child_of("pb_unsampled_parent", &unsampled);
    assert_true(otelc_span_is_recording(&a));
    assert_false(otelc_span_is_recording(&b));
    {
        /* The unsampled span's children follow it too. */
        OTELC_SPAN_VAR(c, "pb_grandchild");
        assert_false(otelc_span_is_recording(&c));
        assert_memory_equal(c.ctx.trace_id, unsampled.trace_id, 16);
    }
    otelc_span_end(&b);
    otelc_span_end(&a);
    otelc_span_t root = otelc_span_start("pb_root", NULL, 0);
    assert_true(otelc_span_is_recording(&root));
    otelc_span_end(&root);
    sync_export();
    span("pb_sampled_parent");
    span("pb_root");
    assert_null(cap_find(&cap, OTELC_SIGNAL_TRACES, "pb_unsampled_parent"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_TRACES, "pb_grandchild"));
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 4);
    assert_int_equal(st.spans.exported, 2);
    assert_int_equal(st.spans.dropped[OTELC_DROP_SAMPLER], 2);
}

static void sampler_parentbased_always_off(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.sampler = OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF;
    start(&o);
    otelc_span_context_t sampled = make_ctx(0x51, 0x52, OTELC_TRACE_FLAG_SAMPLED, true);
    otelc_span_t root = otelc_span_start("pbo_root", NULL, 0);
    assert_false(otelc_span_is_recording(&root));
    otelc_span_end(&root);
    otelc_span_t child = child_of("pbo_child", &sampled);
    assert_true(otelc_span_is_recording(&child));
    otelc_span_end(&child);
    sync_export();
    span("pbo_child");
    assert_null(cap_find(&cap, OTELC_SIGNAL_TRACES, "pbo_root"));
}

static void sampler_ratio_zero(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.sampler = OTELC_SAMPLER_TRACEIDRATIO;
    o.sampler_ratio = 0.0;
    start(&o);
    for (int i = 0; i < 100; i++) {
        OTELC_SPAN_VAR(s, "ratio_zero");
        assert_false(otelc_span_is_recording(&s));
        assert_true(otelc_span_context_is_valid(&s.ctx));
    }
    /* traceidratio ignores the parent: a sampled parent does not help. */
    otelc_span_context_t sampled = make_ctx(0x61, 0x62, OTELC_TRACE_FLAG_SAMPLED, true);
    otelc_span_t c = child_of("ratio_child", &sampled);
    assert_false(otelc_span_is_recording(&c));
    otelc_span_end(&c);
    sync_export();
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], 0);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 101);
    assert_int_equal(st.spans.dropped[OTELC_DROP_SAMPLER], 101);
}

static void sampler_parentbased_ratio_zero(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.sampler = OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO;
    o.sampler_ratio = 0.0;
    start(&o);
    otelc_span_context_t sampled = make_ctx(0x71, 0x72, OTELC_TRACE_FLAG_SAMPLED, true);
    otelc_span_t root = otelc_span_start("pbr_root", NULL, 0);
    otelc_span_t child = child_of("pbr_child", &sampled);
    assert_false(otelc_span_is_recording(&root));
    assert_true(otelc_span_is_recording(&child));
    otelc_span_end(&child);
    otelc_span_end(&root);
    sync_export();
    span("pbr_child");
    assert_null(cap_find(&cap, OTELC_SIGNAL_TRACES, "pbr_root"));
}

static void sampler_ratio_one_samples_all(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.sampler = OTELC_SAMPLER_TRACEIDRATIO;
    o.sampler_ratio = 1.0;
    start(&o);
    for (int i = 0; i < 50; i++) {
        OTELC_SPAN_VAR(s, "ratio_one");
        assert_true(otelc_span_is_recording(&s));
    }
    sync_export();
    assert_int_equal(count_spans("ratio_one"), 50);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(noop_before_init),
        cmocka_unit_test_teardown(noop_after_shutdown, teardown),
        cmocka_unit_test_teardown(noop_when_disabled, teardown),
        cmocka_unit_test_teardown(nested_macros_make_children, teardown),
        cmocka_unit_test_teardown(early_return_ends_the_span, teardown),
        cmocka_unit_test_teardown(span_kinds, teardown),
        cmocka_unit_test_teardown(names_from_the_function_api, teardown),
        cmocka_unit_test_teardown(typed_attributes, teardown),
        cmocka_unit_test_teardown(set_attrs_replaces_same_key, teardown),
        cmocka_unit_test_teardown(events_are_timed_inside_the_span, teardown),
        cmocka_unit_test_teardown(links_from_start_and_later, teardown),
        cmocka_unit_test_teardown(status_rules, teardown),
        cmocka_unit_test_teardown(record_error_adds_exception, teardown),
        cmocka_unit_test_teardown(limits_from_options, teardown),
        cmocka_unit_test_teardown(masks_sensitive_keys, teardown),
        cmocka_unit_test_teardown(custom_mask_keys, teardown),
        cmocka_unit_test_teardown(empty_mask_keys_masks_nothing, teardown),
        cmocka_unit_test_teardown(explicit_times, teardown),
        cmocka_unit_test_teardown(explicit_parent_and_root, teardown),
        cmocka_unit_test_teardown(no_activate_leaves_the_context, teardown),
        cmocka_unit_test_teardown(span_current_is_a_handle, teardown),
        cmocka_unit_test_teardown(span_ends_on_another_thread, teardown),
        cmocka_unit_test_teardown(active_span_ended_elsewhere, teardown),
        cmocka_unit_test_teardown(sampler_always_off, teardown),
        cmocka_unit_test_teardown(sampler_parentbased_follows_parent, teardown),
        cmocka_unit_test_teardown(sampler_parentbased_always_off, teardown),
        cmocka_unit_test_teardown(sampler_ratio_zero, teardown),
        cmocka_unit_test_teardown(sampler_parentbased_ratio_zero, teardown),
        cmocka_unit_test_teardown(sampler_ratio_one_samples_all, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
