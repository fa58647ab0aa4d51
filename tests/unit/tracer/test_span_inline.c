/*
 * test_span_inline.c: the span macros' inline path (otelc/fast.h). A user
 * cannot tell it from the library's: the same spans made through it and
 * through a file built without it (span_inline_library.c) reach the
 * exporter as the same spans (kind, scope, attributes, parent and trace,
 * times), at the root, inside spans of either path, inside correlation
 * scopes and attached remote contexts (which the inline path leaves to the
 * library), under the samplers it decides itself and the ones it leaves to
 * the library, past the context stack's depth, through a ring that wraps
 * and fills, and across a stop and a new start. Everything the library
 * does with the active span (logs, otelc_current_span_context, inject,
 * library spans inside) sees the inline span. Every span is exported or
 * counted as dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capture_session.h"
#include "span_inline_cases.h"

#include <inttypes.h>
#include <stdio.h>

static void inline_case(int64_t i, const char *s, otelc_span_context_t out[2])
{
    SPAN_INLINE_CASE("inline", i, s, out);
}

static void inline_short(int64_t i)
{
    OTELC_SPAN("inline.short", OTELC_INT("qty", i));
}

/* The span named `name` whose "qty" is `i`, or NULL. */
static const cap_record_t *find(const char *name, int64_t i)
{
    char want[32];

    snprintf(want, sizeof(want), "%" PRId64, i);
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        const char *q = cap_attr(r, "qty");
        if (r->signal == OTELC_SIGNAL_TRACES && q != NULL && strcmp(q, want) == 0 &&
            strcmp(r->name, name) == 0)
            return r;
    }
    return NULL;
}

static const cap_record_t *must_find(const char *name, int64_t i)
{
    const cap_record_t *r = find(name, i);
    if (r == NULL)
        fail_msg("span %s %" PRId64 " not exported", name, i);
    return r;
}

static const uint8_t zero[16];

/* The two spans are the same span but for the name and the ids. */
static void assert_same(const cap_record_t *a, const cap_record_t *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_string_equal(a->scope, b->scope);
    assert_string_equal(a->correlation, b->correlation);
    assert_string_equal(a->trace_state, b->trace_state);
    assert_int_equal(a->ctx.trace_flags, b->ctx.trace_flags);
    assert_int_equal(a->parent_is_remote, b->parent_is_remote);
    assert_int_equal(memcmp(a->parent_span_id, zero, 8) == 0,
                     memcmp(b->parent_span_id, zero, 8) == 0);
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->n_attrs, b->n_attrs);
    assert_int_equal(a->dropped_attrs, b->dropped_attrs);
    for (unsigned k = 0; k < a->n_attrs; k++) {
        assert_string_equal(a->attrs[k].key, b->attrs[k].key);
        assert_int_equal(a->attrs[k].type, b->attrs[k].type);
        assert_string_equal(a->attrs[k].value, b->attrs[k].value);
    }
    assert_int_equal(a->n_events, b->n_events);
    assert_true(a->start_ns > 0 && a->start_ns <= a->end_ns);
    assert_true(b->start_ns > 0 && b->start_ns <= b->end_ns);
}

/* Span `r` has context `c` and parent `parent` (NULL: a root). */
static void assert_ids(const cap_record_t *r, const otelc_span_context_t *c,
                       const otelc_span_context_t *parent)
{
    assert_memory_equal(r->ctx.trace_id, c->trace_id, 16);
    assert_memory_equal(r->ctx.span_id, c->span_id, 8);
    assert_int_equal(c->trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    if (parent != NULL) {
        assert_memory_equal(r->ctx.trace_id, parent->trace_id, 16);
        assert_memory_equal(r->parent_span_id, parent->span_id, 8);
    } else {
        assert_memory_equal(r->parent_span_id, zero, 8);
    }
}

/* Both paths' case and child of call i, checked against each other and
 * against the contexts the calls saw; `parent` is the active span's. */
static void check_both(int64_t i, const otelc_span_context_t in[2],
                       const otelc_span_context_t lib[2], const otelc_span_context_t *parent)
{
    const cap_record_t *a = must_find("inline.case", i), *b = must_find("library.case", i);
    const cap_record_t *ac = must_find("inline.child", i), *bc = must_find("library.child", i);

    assert_same(a, b);
    assert_same(ac, bc);
    assert_int_equal(a->kind, OTELC_SPAN_KIND_CLIENT);
    assert_int_equal(ac->kind, OTELC_SPAN_KIND_INTERNAL);
    assert_ids(a, &in[0], parent);
    assert_ids(b, &lib[0], parent);
    assert_ids(ac, &in[1], &in[0]);
    assert_ids(bc, &lib[1], &lib[0]);
    assert_true(ac->start_ns >= a->start_ns && ac->end_ns <= a->end_ns);
    if (parent == NULL) /* two roots: two traces */
        assert_memory_not_equal(a->ctx.trace_id, b->ctx.trace_id, 16);
}

static void both(int64_t i, const char *s, otelc_span_context_t in[2], otelc_span_context_t lib[2])
{
    inline_case(i, s, in);
    span_inline_library_case(i, s, lib);
}

/* The exported spans of the calls of both paths (they are flushed). */
static void check_attrs(int64_t i, const char *s)
{
    const cap_record_t *a = must_find("inline.case", i);
    char want[32];

    assert_int_equal(a->n_attrs, 8);
    assert_string_equal(cap_attr(a, "symbol"), "AAPL");
    assert_string_equal(cap_attr(a, "venue"), s);
    assert_string_equal(cap_attr(a, "note"), "");
    assert_string_equal(cap_attr(a, "buy"), (i & 1) ? "true" : "false");
    snprintf(want, sizeof(want), "%" PRId64, -i);
    assert_string_equal(cap_attr(a, "neg"), want);
}

/* ---- the same spans ---------------------------------------------------------- */

static void inline_spans_are_the_librarys(void **state)
{
    (void)state;
    otelc_span_context_t in[8][2], lib[8][2], outer, libspan;
    char venue[64];

    start(NULL);
    both(0, "XNAS", in[0], lib[0]); /* the sites' first calls: the library learns them */
#if OTELC__FAST && defined(__OPTIMIZE__)
    assert_int_equal(otelc__fast_v2.ready, otelc__fast_epoch_v2);
    assert_int_not_equal(otelc__fast_v2.sflags, 0);
#endif
    both(1, "", in[1], lib[1]); /* roots */
    {
        OTELC_SPAN("inline.outer");
        outer = otelc_current_span_context();
        snprintf(venue, sizeof(venue), "a venue longer than sixteen bytes");
        both(2, venue, in[2], lib[2]); /* children of an inline span */
        {
            otelc_span_t s = otelc_span_start("library.outer", NULL, 0);
            libspan = s.ctx;
            both(3, "BATS", in[3], lib[3]); /* children of a library span */
            otelc_span_end(&s);
        }
        both(4, "ARCA", in[4], lib[4]); /* the inline span's again */
    }
    both(5, "IEX", in[5], lib[5]); /* roots again */
    sync_export();
    check_both(0, in[0], lib[0], NULL);
    check_both(1, in[1], lib[1], NULL);
    check_both(2, in[2], lib[2], &outer);
    check_both(3, in[3], lib[3], &libspan);
    check_both(4, in[4], lib[4], &outer);
    check_both(5, in[5], lib[5], NULL);
    check_attrs(2, venue);
    check_attrs(3, "BATS");
    /* Roots' trace ids are random in both halves (W3C: the right-most 7
     * bytes are what samplers of other services read). */
    assert_memory_not_equal(in[1][0].trace_id, in[5][0].trace_id, 8);
    assert_memory_not_equal(in[1][0].trace_id + 8, in[5][0].trace_id + 8, 8);
    assert_memory_not_equal(in[1][0].trace_id + 9, lib[1][0].trace_id + 9, 7);
    {
        const cap_record_t *o = NULL;
        for (size_t k = 0; k < cap.n; k++)
            if (strcmp(cap.recs[k].name, "inline.outer") == 0)
                o = &cap.recs[k];
        assert_non_null(o);
        assert_memory_equal(o->ctx.span_id, outer.span_id, 8);
        assert_memory_equal(o->parent_span_id, zero, 8);
    }
    assert_span_stats_exact();
}

/* ---- what the library sees of an inline span ------------------------------------ */

static void set_header(void *carrier, const char *key, const char *value)
{
    if (strcmp(key, "traceparent") == 0)
        snprintf((char *)carrier, 64, "%s", value);
}

static void the_library_sees_inline_spans(void **state)
{
    (void)state;
    otelc_logger_t *lg;
    otelc_span_context_t c;
    char tp[64] = "", want[64], hex[33];
    uint8_t libspan[8];
    const cap_record_t *r;

    start(NULL);
    lg = otelc_logger("inline.test");
    for (int64_t i = 0; i < 2; i++) { /* the first time the library's, then inline */
        OTELC_SPAN_VAR(span, "inline.seen", OTELC_INT("qty", i));
        c = otelc_current_span_context();
        assert_memory_equal(c.span_id, span.ctx.span_id, 8);
        assert_memory_equal(otelc_span_current().ctx.span_id, span.ctx.span_id, 8);
        assert_true(otelc_span_is_recording(&span));
        OTELC_INFO(lg, "inside", OTELC_INT("qty", 100 + i));
        otelc_inject(set_header, tp);
        OTELC_SPAN_ATTRS(&span, OTELC_STR("added", "yes"));
        OTELC_SPAN_EVENT(&span, "an.event");
        otelc_span_set_status(&span, OTELC_STATUS_ERROR, "failed");
        {
            otelc_span_t s = otelc_span_start("library.inside", NULL, 0);
            memcpy(libspan, s.ctx.span_id, 8);
            otelc_span_set_attrs(&s, (otelc_attr_t[]){ OTELC_INT("qty", 200 + i) }, 1);
            otelc_span_end(&s);
        }
    }
    sync_export();
    r = must_find("inline.seen", 1);
    assert_string_equal(cap_attr(r, "added"), "yes");
    assert_int_equal(r->n_events, 1);
    assert_string_equal(r->events[0], "an.event");
    assert_int_equal(r->status, OTELC_STATUS_ERROR);
    assert_string_equal(r->status_message, "failed");
    {
        const cap_record_t *first = must_find("inline.seen", 0); /* the library's */
        assert_string_equal(cap_attr(first, "added"), "yes");
        assert_int_equal(first->n_events, 1);
        assert_int_equal(first->status, OTELC_STATUS_ERROR);
        assert_int_equal(first->n_attrs, r->n_attrs);
    }
    /* The last context seen is span 1's. */
    assert_memory_equal(r->ctx.span_id, c.span_id, 8);
    snprintf(want, sizeof(want), "00-%s-", otelc_hex_encode(c.trace_id, 16, hex));
    snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s-01",
             otelc_hex_encode(c.span_id, 8, hex));
    assert_string_equal(tp, want);
    {
        const cap_record_t *l = NULL, *ls = must_find("library.inside", 201);
        for (size_t k = 0; k < cap.n; k++) {
            const char *q = cap_attr(&cap.recs[k], "qty");
            if (cap.recs[k].signal == OTELC_SIGNAL_LOGS && q != NULL && strcmp(q, "101") == 0)
                l = &cap.recs[k];
        }
        assert_non_null(l);
        assert_memory_equal(l->ctx.trace_id, c.trace_id, 16);
        assert_memory_equal(l->ctx.span_id, c.span_id, 8);
        assert_memory_equal(ls->parent_span_id, c.span_id, 8);
        assert_memory_equal(ls->ctx.span_id, libspan, 8);
    }
    assert_span_stats_exact();
}

/* A span ended by hand inside its scope is not ended again; a span that
 * ends while a span started inside it is still open closes that one's
 * scope too, as the library does. */
static void ends_by_hand_and_out_of_order(void **state)
{
    (void)state;
    otelc_span_context_t after;
    const cap_record_t *a, *b;
    otelc_stats_t st;

    start(NULL);
    for (int64_t i = 0; i < 3; i++) {
        OTELC_SPAN_VAR(span, "inline.byhand", OTELC_INT("qty", i));
        otelc_span_end(&span); /* and again at the end of the scope: nothing then */
    }
    for (int64_t i = 10; i < 13; i++) {
        otelc_span_t open;
        {
            OTELC_SPAN("inline.outoforder", OTELC_INT("qty", i));
            open = otelc_span_start("library.open", NULL, 0);
        } /* ends while library.open is still the active span */
        after = otelc_current_span_context();
        assert_memory_equal(after.trace_id, zero, 16);
        otelc_span_end(&open);
    }
    sync_export();
    otelc_stats(&st);
    for (int64_t i = 0; i < 3; i++)
        must_find("inline.byhand", i);
    a = must_find("inline.outoforder", 10); /* the library's */
    b = must_find("inline.outoforder", 12); /* inline */
    assert_true(a->start_ns <= a->end_ns && b->start_ns <= b->end_ns);
    {
        size_t opened = 0;
        for (size_t k = 0; k < cap.n; k++)
            if (strcmp(cap.recs[k].name, "library.open") == 0) {
                const cap_record_t *p = NULL;
                for (int64_t i = 10; i < 13; i++)
                    if (memcmp(must_find("inline.outoforder", i)->ctx.span_id,
                               cap.recs[k].parent_span_id, 8) == 0)
                        p = must_find("inline.outoforder", i);
                assert_non_null(p); /* a child of one of them */
                opened++;
            }
        assert_int_equal(opened, 3);
    }
    assert_int_equal(st.spans.exported, 3 + 3 + 3);
    assert_span_stats_exact();
}

/* ---- what the inline path leaves to the library ------------------------------- */

/* More attributes than the inline path writes (8): the library's, whole. */
static void more_than_eight_attributes(void **state)
{
    (void)state;
    otelc_span_context_t c[2];

    start(NULL);
    for (int64_t i = 0; i < 2; i++) {
        OTELC_SPAN("inline.nine", SPAN_INLINE_ATTRS(i, "IEX"), OTELC_INT("ninth", 9));
        c[i] = otelc_current_span_context();
    }
    sync_export();
    for (int64_t i = 0; i < 2; i++) {
        const cap_record_t *r = must_find("inline.nine", i);
        assert_int_equal(r->n_attrs, 9);
        assert_string_equal(cap_attr(r, "ninth"), "9");
        assert_string_equal(cap_attr(r, "venue"), "IEX");
        assert_memory_equal(r->ctx.span_id, c[i].span_id, 8);
    }
    assert_span_stats_exact();
}

static const char *get_header(void *carrier, const char *key)
{
    const char *const *h = (const char *const *)carrier;
    if (strcmp(key, "traceparent") == 0)
        return h[0];
    if (strcmp(key, "tracestate") == 0)
        return h[1];
    return NULL;
}

static void correlation_and_remote_parents(void **state)
{
    (void)state;
    otelc_span_context_t in[6][2], lib[6][2], corr, remote;
    const char *sampled[2] = { "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", NULL };
    const char *with_ts[2] = { "00-4bf92f3577b34da6a3ce929d0e0e4737-00f067aa0ba902b8-01",
                               "vendor=abc" };
    otelc_context_t *rc, *tc;

    start(NULL);
    both(0, "A", in[0], lib[0]);
    OTELC_CORRELATION("ORD-42")
    {
        corr = otelc_current_span_context(); /* the scope's own span */
        both(1, "A", in[1], lib[1]);         /* the first call after a change: the library's */
        both(5, "A", in[5], lib[5]);         /* then the inline path's */
    }
    rc = otelc_extract(get_header, sampled);
    tc = otelc_extract(get_header, with_ts);
    assert_non_null(rc);
    assert_non_null(tc);
    OTELC_ATTACHED(rc)
    {
        remote = otelc_current_span_context();
        both(2, "A", in[2], lib[2]); /* the first call after a change: the library's */
        both(4, "A", in[4], lib[4]); /* then the inline path's */
    }
    OTELC_ATTACHED(tc)
    {
        both(3, "A", in[3], lib[3]);
    }
    sync_export();
    check_both(1, in[1], lib[1], &corr);
    check_both(5, in[5], lib[5], &corr);
    assert_string_equal(must_find("inline.case", 1)->correlation, "ORD-42");
    assert_string_equal(must_find("inline.child", 1)->correlation, "ORD-42");
    assert_string_equal(must_find("inline.case", 5)->correlation, "ORD-42");
    assert_string_equal(must_find("inline.child", 5)->correlation, "ORD-42");
    assert_string_equal(must_find("inline.case", 0)->correlation, "");
    check_both(2, in[2], lib[2], &remote);
    check_both(4, in[4], lib[4], &remote);
    assert_true(must_find("inline.case", 2)->parent_is_remote);
    assert_false(must_find("inline.child", 2)->parent_is_remote);
    assert_true(must_find("inline.case", 4)->parent_is_remote);
    assert_false(must_find("inline.child", 4)->parent_is_remote);
    {
        otelc_span_context_t t = otelc_context_span(tc);
        check_both(3, in[3], lib[3], &t);
        assert_string_equal(must_find("inline.case", 3)->trace_state, "vendor=abc");
        assert_string_equal(must_find("inline.child", 3)->trace_state, "vendor=abc");
    }
    otelc_context_release(rc);
    otelc_context_release(tc);
    assert_span_stats_exact();
}

/* Correlation ids of every length up to past the longest kept: the same
 * spans either way, the id cut at OTELC_CORRELATION_ID_MAX bytes. */
static void correlation_ids_of_every_length(void **state)
{
    (void)state;
    char id[200];
    otelc_span_context_t in[2], lib[2], scope;

    start(NULL);
    both(0, "A", in, lib);
    for (int len = 1; len < (int)sizeof(id); len += 3) {
        memset(id, 'a' + len % 26, (size_t)len);
        id[len] = 0;
        OTELC_CORRELATION(id)
        {
            scope = otelc_current_span_context();
            both(1000 + len, "B", in, lib); /* the library's */
            both(2000 + len, "B", in, lib); /* inline */
            assert_int_equal(otelc_span_context_is_valid(&scope), true);
        }
    }
    sync_export();
    for (int len = 1; len < (int)sizeof(id); len += 3) {
        size_t want =
            (size_t)len < OTELC_CORRELATION_ID_MAX ? (size_t)len : OTELC_CORRELATION_ID_MAX;
        for (int64_t i = 1000 + len; i <= 2000 + len; i += 1000) {
            const cap_record_t *a = must_find("inline.case", i), *b = must_find("library.case", i);
            const cap_record_t *ac = must_find("inline.child", i);
            assert_same(a, b);
            assert_same(ac, must_find("library.child", i));
            assert_int_equal(strlen(a->correlation), want);
            assert_int_equal(strlen(ac->correlation), want);
            assert_int_equal(a->correlation[0], 'a' + len % 26);
            assert_memory_equal(ac->parent_span_id, a->ctx.span_id, 8);
            assert_memory_equal(a->ctx.trace_id, b->ctx.trace_id, 16); /* the scope's trace */
        }
    }
    assert_span_stats_exact();
}

/* ---- samplers ------------------------------------------------------------------- */

/* Spans the sampler drops: not exported, counted, their ids still
 * propagate (a log inside carries them), the same on both paths. */
static void samplers(void **state)
{
    (void)state;
    otelc_options_t o;
    otelc_span_context_t in[2], lib[2];
    otelc_stats_t st;
    const char *unsampled[2] = { "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", NULL };
    otelc_context_t *rc;

    opts(&o);
    o.sampler = OTELC_SAMPLER_ALWAYS_OFF;
    start(&o);
    for (int64_t i = 0; i < 3; i++) {
        both(i, "A", in, lib);
        assert_int_equal(in[0].trace_flags, 0);
        assert_memory_not_equal(in[0].trace_id, zero, 16);
        assert_memory_not_equal(in[0].span_id, zero, 8);
        assert_memory_equal(in[1].trace_id, in[0].trace_id, 16); /* the child's trace */
        assert_memory_not_equal(in[1].span_id, in[0].span_id, 8);
    }
    sync_export();
    otelc_stats(&st);
    assert_int_equal(cap.n, 0);
    assert_int_equal(st.spans.produced, 12);
    assert_int_equal(st.spans.dropped[OTELC_DROP_SAMPLER], 12);
    assert_span_stats_exact();
    session_end(&cap);

    /* Parent-based: the children of a remote parent that is not sampled
     * are dropped, roots recorded. */
    opts(&o);
    o.sampler = OTELC_SAMPLER_PARENTBASED_ALWAYS_ON;
    start(&o);
    rc = otelc_extract(get_header, unsampled);
    assert_non_null(rc);
    both(0, "A", in, lib);
    OTELC_ATTACHED(rc)
    {
        for (int64_t i = 1; i < 3; i++) {
            both(i, "A", in, lib);
            assert_int_equal(in[0].trace_flags, 0);
            assert_memory_equal(in[0].trace_id, otelc_context_span(rc).trace_id, 16);
        }
    }
    both(3, "A", in, lib);
    sync_export();
    otelc_stats(&st);
    must_find("inline.case", 3);
    assert_null(find("inline.case", 1));
    assert_null(find("library.case", 2));
    assert_int_equal(st.spans.dropped[OTELC_DROP_SAMPLER], 8);
    assert_int_equal(st.spans.exported, 8);
    otelc_context_release(rc);
    assert_span_stats_exact();
    session_end(&cap);

    /* A ratio: the library's decision, by the trace id, for both paths. */
    opts(&o);
    o.sampler = OTELC_SAMPLER_TRACEIDRATIO;
    o.sampler_ratio = 0.5;
    start(&o);
    for (int64_t i = 0; i < 200; i++)
        both(i, "A", in, lib);
    sync_export();
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, 800);
    assert_true(st.spans.exported > 200 && st.spans.exported < 600);
    for (int64_t i = 0; i < 200; i++) {
        const cap_record_t *a = find("inline.case", i), *c = find("inline.child", i);
        assert_true((a == NULL) == (c == NULL)); /* a trace is sampled whole */
    }
    assert_span_stats_exact();
}

/* ---- bounds --------------------------------------------------------------------- */

static void nest(int64_t d, int64_t last)
{
    OTELC_SPAN("inline.deep", OTELC_INT("qty", d));
    if (d < last)
        nest(d + 1, last);
}

/* Deeper than the context stack (128 frames): the spans past it are
 * recorded but not active (the library's rule), so the spans inside them
 * are children of the last one that is; every one is exported and ended. */
static void deeper_than_the_stack(void **state)
{
    (void)state;
    otelc_stats_t st;
    const cap_record_t *last_active;

    start(NULL);
    nest(1000, 1000); /* learns the site */
    nest(0, 140);
    sync_export();
    otelc_stats(&st);
    assert_int_equal(st.spans.exported, 1 + 141);
    assert_memory_equal(must_find("inline.deep", 0)->parent_span_id, zero, 8);
    for (int64_t d = 1; d <= 128; d++)
        assert_memory_equal(must_find("inline.deep", d)->parent_span_id,
                            must_find("inline.deep", d - 1)->ctx.span_id, 8);
    last_active = must_find("inline.deep", 127);
    for (int64_t d = 129; d <= 140; d++)
        assert_memory_equal(must_find("inline.deep", d)->parent_span_id, last_active->ctx.span_id,
                            8);
    for (int64_t d = 0; d <= 140; d++) {
        const cap_record_t *r = must_find("inline.deep", d);
        assert_true(r->start_ns <= r->end_ns);
        assert_memory_equal(r->ctx.trace_id, last_active->ctx.trace_id, 16);
    }
    assert_span_stats_exact();
}

/* A small ring that the spans wrap around many times and may fill: the
 * starts that find no room are counted, every other span is exported with
 * its end. */
static void wrapping_and_full_ring(void **state)
{
    (void)state;
    otelc_options_t o;
    int64_t n = 3000;
    size_t seen = 0;
    otelc_stats_t st;

    opts(&o);
    o.ring_size = 4096;
    o.overflow = OTELC_OVERFLOW_DROP;
    start(&o);
    for (int64_t i = 0; i < n; i++)
        inline_short(i);
    sync_export();
    otelc_stats(&st);
    for (size_t k = 0; k < cap.n; k++) {
        const cap_record_t *r = &cap.recs[k];
        if (r->signal == OTELC_SIGNAL_TRACES && strcmp(r->name, "inline.short") == 0) {
            assert_non_null(cap_attr(r, "qty"));
            assert_true(r->start_ns <= r->end_ns);
            seen++;
        }
    }
    assert_int_equal(st.spans.produced, (uint64_t)n);
    assert_int_equal(seen, st.spans.exported);
    assert_int_equal(st.spans.produced,
                     st.spans.exported + st.spans.dropped[OTELC_DROP_QUEUE_FULL]);
    assert_span_stats_exact();
}

/* After a stop nothing is recorded (a span open across the stop ends
 * quietly); after a new start the inline path writes into the new run's
 * rings. */
static void stop_and_start_again(void **state)
{
    (void)state;
    otelc_stats_t st;

    start(NULL);
    inline_short(30);
    span_inline_library_short(30);
    inline_short(31);
    {
        OTELC_SPAN("inline.across", OTELC_INT("qty", 35));
        assert_int_equal(otelc_shutdown(5000), OTELC_OK);
        inline_short(32); /* stopped: not recorded, no crash */
    }
    session_end(&cap);

    start(NULL);
    inline_short(33);
    span_inline_library_short(33);
    {
        OTELC_SPAN("inline.again", OTELC_INT("qty", 36));
        inline_short(34);
        span_inline_library_short(34);
    }
    sync_export();
    otelc_stats(&st);
    assert_null(find("inline.short", 32));
    assert_null(find("inline.across", 35));
    assert_same(must_find("inline.short", 33), must_find("library.short", 33));
    assert_same(must_find("inline.short", 34), must_find("library.short", 34));
    assert_memory_equal(must_find("inline.short", 34)->parent_span_id,
                        must_find("inline.again", 36)->ctx.span_id, 8);
    assert_int_equal(st.spans.exported, 5);
    assert_span_stats_exact();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(inline_spans_are_the_librarys, teardown),
        cmocka_unit_test_teardown(the_library_sees_inline_spans, teardown),
        cmocka_unit_test_teardown(ends_by_hand_and_out_of_order, teardown),
        cmocka_unit_test_teardown(more_than_eight_attributes, teardown),
        cmocka_unit_test_teardown(correlation_and_remote_parents, teardown),
        cmocka_unit_test_teardown(correlation_ids_of_every_length, teardown),
        cmocka_unit_test_teardown(samplers, teardown),
        cmocka_unit_test_teardown(deeper_than_the_stack, teardown),
        cmocka_unit_test_teardown(wrapping_and_full_ring, teardown),
        cmocka_unit_test_teardown(stop_and_start_again, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
