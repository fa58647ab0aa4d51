/*
 * test_context.c: the thread's context and how it travels: correlation
 * scopes, baggage, capture / attach / detach across threads, and inject /
 * extract through a header carrier with the W3C and B3 propagators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <strings.h>

#include <cmocka.h>

#include "capture_session.h"

static const cap_record_t *find(int signal, const char *name)
{
    const cap_record_t *r = cap_find(&cap, signal, name);
    if (r == NULL)
        fail_msg("'%s' was not exported", name);
    return r;
}

static size_t count(int signal, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < cap.n; i++)
        n += cap.recs[i].signal == signal && strcmp(cap.recs[i].name, name) == 0;
    return n;
}

static size_t attr_count(const cap_record_t *r, const char *key)
{
    size_t n = 0;
    for (unsigned i = 0; i < r->n_attrs; i++)
        n += strcmp(r->attrs[i].key, key) == 0;
    return n;
}

#define SPAN(name) find(OTELC_SIGNAL_TRACES, name)
#define LOG(name) find(OTELC_SIGNAL_LOGS, name)

static void assert_child_of(const cap_record_t *child, const cap_record_t *parent)
{
    assert_memory_equal(child->ctx.trace_id, parent->ctx.trace_id, 16);
    assert_memory_equal(child->parent_span_id, parent->ctx.span_id, 8);
}

static const uint8_t zero_id[16];

/* ---- correlation --------------------------------------------------------------- */

static void correlation_starts_a_trace(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("corr");
    char bag[64];
    assert_null(otelc_current_correlation_id());
    OTELC_CORRELATION("trade-12345")
    {
        assert_string_equal(otelc_current_correlation_id(), "trade-12345");
        otelc_span_context_t c = otelc_current_span_context();
        assert_true(otelc_span_context_is_valid(&c));
        assert_int_equal(otelc_baggage_get("correlation.id", bag, sizeof(bag)), 11);
        assert_string_equal(bag, "trade-12345");
        {
            OTELC_SPAN("place_order", OTELC_STR("symbol", "AAPL"));
            OTELC_INFO(lg, "order sent");
        }
        OTELC_INFO(lg, "after order");
        /* The correlation span is the current span for span operations. */
        otelc_span_t cur = otelc_span_current();
        assert_memory_equal(cur.ctx.span_id, c.span_id, 8);
        OTELC_SPAN_ATTRS(&cur, OTELC_STR("desk", "equities"));
    }
    assert_null(otelc_current_correlation_id());
    assert_int_equal(otelc_baggage_get("correlation.id", bag, sizeof(bag)), -1);
    otelc_span_context_t after = otelc_current_span_context();
    assert_false(otelc_span_context_is_valid(&after));
    sync_export();

    const cap_record_t *root = SPAN("correlation"), *order = SPAN("place_order");
    assert_memory_equal(root->parent_span_id, zero_id, 8);
    assert_string_equal(root->correlation, "trade-12345");
    assert_string_equal(cap_attr(root, "correlation.id"), "trade-12345");
    assert_int_equal(attr_count(root, "correlation.id"), 1);
    assert_string_equal(cap_attr(root, "desk"), "equities");
    assert_child_of(order, root);
    assert_string_equal(order->correlation, "trade-12345");
    assert_string_equal(cap_attr(order, "correlation.id"), "trade-12345");
    assert_memory_equal(LOG("order sent")->ctx.trace_id, root->ctx.trace_id, 16);
    assert_memory_equal(LOG("order sent")->ctx.span_id, order->ctx.span_id, 8);
    assert_memory_equal(LOG("after order")->ctx.span_id, root->ctx.span_id, 8);
    assert_string_equal(LOG("after order")->correlation, "trade-12345");
    /* The root span covers what happened inside. */
    assert_true(root->start_ns <= order->start_ns);
    assert_true(root->end_ns >= order->end_ns);
}

static void correlation_inside_a_span_starts_none(void **state)
{
    (void)state;
    start(NULL);
    {
        OTELC_SPAN("request");
        otelc_span_context_t req = otelc_current_span_context();
        OTELC_CORRELATION("trade-7")
        {
            otelc_span_context_t c = otelc_current_span_context();
            assert_memory_equal(c.span_id, req.span_id, 8);
            OTELC_SPAN("inner");
        }
    }
    sync_export();
    assert_int_equal(count(OTELC_SIGNAL_TRACES, "correlation"), 0);
    assert_child_of(SPAN("inner"), SPAN("request"));
    assert_string_equal(SPAN("inner")->correlation, "trade-7");
    assert_string_equal(SPAN("request")->correlation, "");
}

static void nested_correlations_restore(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("nest");
    char bag[64];
    OTELC_CORRELATION("outer-1")
    {
        OTELC_CORRELATION("inner-2")
        {
            assert_string_equal(otelc_current_correlation_id(), "inner-2");
            assert_int_equal(otelc_baggage_get("correlation.id", bag, sizeof(bag)), 7);
            assert_string_equal(bag, "inner-2");
            OTELC_INFO(lg, "in inner");
        }
        assert_string_equal(otelc_current_correlation_id(), "outer-1");
        assert_int_equal(otelc_baggage_get("correlation.id", bag, sizeof(bag)), 7);
        assert_string_equal(bag, "outer-1");
        OTELC_INFO(lg, "in outer");
    }
    /* The function form, ended out of order: the inner ends with the outer. */
    otelc_token_t a = otelc_correlation_begin("abcdef", 3);
    assert_string_equal(otelc_current_correlation_id(), "abc");
    otelc_token_t b = otelc_correlation_begin("second", OTELC_NUL_TERMINATED);
    otelc_correlation_end(a);
    assert_null(otelc_current_correlation_id());
    otelc_correlation_end(b); /* already ended: nothing */
    otelc_correlation_end(a);
    assert_null(otelc_current_correlation_id());
    sync_export();
    assert_string_equal(LOG("in inner")->correlation, "inner-2");
    assert_string_equal(LOG("in outer")->correlation, "outer-1");
    /* One trace per outermost scope. */
    assert_int_equal(count(OTELC_SIGNAL_TRACES, "correlation"), 2);
    assert_memory_equal(LOG("in inner")->ctx.trace_id, LOG("in outer")->ctx.trace_id, 16);
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.spans.pending, 0);
}

static void long_correlation_ids_are_cut(void **state)
{
    (void)state;
    start(NULL);
    char id[300];
    memset(id, 'c', sizeof(id) - 1);
    id[sizeof(id) - 1] = 0;
    OTELC_CORRELATION(id)
    {
        assert_int_equal(strlen(otelc_current_correlation_id()), OTELC_CORRELATION_ID_MAX);
    }
    otelc_token_t none = otelc_correlation_begin(NULL, 0);
    assert_int_equal(none.depth, 0);
    otelc_correlation_end(none);
}

/* ---- baggage ------------------------------------------------------------------- */

static void baggage_scopes(void **state)
{
    (void)state;
    start(NULL);
    char v[64];
    assert_int_equal(otelc_baggage_get("user", v, sizeof(v)), -1);
    otelc_token_t a = otelc_baggage_begin("user", "alice");
    assert_int_equal(otelc_baggage_get("user", v, sizeof(v)), 5);
    assert_string_equal(v, "alice");
    otelc_token_t b = otelc_baggage_begin("tenant", "a b,c;d=é");
    otelc_token_t c = otelc_baggage_begin("user", "bob");
    assert_int_equal(otelc_baggage_get("user", v, sizeof(v)), 3);
    assert_string_equal(v, "bob");
    assert_int_equal(otelc_baggage_get("tenant", v, sizeof(v)), (long)strlen("a b,c;d=é"));
    assert_string_equal(v, "a b,c;d=é");
    /* Truncated copy, full length returned. */
    char small[3];
    assert_int_equal(otelc_baggage_get("user", small, sizeof(small)), 3);
    assert_string_equal(small, "bo");
    otelc_baggage_end(c);
    assert_int_equal(otelc_baggage_get("user", v, sizeof(v)), 5);
    assert_string_equal(v, "alice");
    otelc_baggage_end(b);
    assert_int_equal(otelc_baggage_get("tenant", v, sizeof(v)), -1);
    otelc_baggage_end(a);
    assert_int_equal(otelc_baggage_get("user", v, sizeof(v)), -1);
    otelc_token_t bad = otelc_baggage_begin(NULL, "x");
    assert_int_equal(bad.depth, 0);
    assert_int_equal(otelc_baggage_get(NULL, v, sizeof(v)), -1);
}

/* ---- capture / attach ------------------------------------------------------------ */

typedef struct job {
    otelc_context_t *ctx;
    otelc_span_context_t seen_parent;
    char seen_corr[64];
    bool use_macro;
    /* What the thread saw (checked on the main thread: cmocka asserts
     * belong there). */
    bool empty_before, empty_after;
} job_t;

static void *consumer(void *arg)
{
    job_t *j = arg;
    otelc_logger_t *lg = otelc_logger("consumer");
    otelc_span_context_t before = otelc_current_span_context();
    j->empty_before =
        !otelc_span_context_is_valid(&before) && otelc_current_correlation_id() == NULL;
    if (j->use_macro) {
        OTELC_ATTACHED(j->ctx)
        {
            j->seen_parent = otelc_current_span_context();
            snprintf(j->seen_corr, sizeof(j->seen_corr), "%s", otelc_current_correlation_id());
            OTELC_SPAN("consume_macro");
            OTELC_INFO(lg, "consumed macro", OTELC_INT("n", 2));
        }
    } else {
        otelc_token_t t = otelc_context_attach(j->ctx);
        j->seen_parent = otelc_current_span_context();
        snprintf(j->seen_corr, sizeof(j->seen_corr), "%s", otelc_current_correlation_id());
        {
            OTELC_SPAN("consume");
            OTELC_BIND(OTELC_STR("stage", "consumer"))
            {
                OTELC_INFO(lg, "consumed", OTELC_INT("n", 1));
            }
        }
        otelc_context_detach(t);
        otelc_context_detach(t); /* twice: nothing */
    }
    otelc_span_context_t after = otelc_current_span_context();
    j->empty_after = !otelc_span_context_is_valid(&after) && otelc_current_correlation_id() == NULL;
    OTELC_INFO(lg, "detached");
    return NULL;
}

static void capture_and_attach_on_another_thread(void **state)
{
    (void)state;
    start(NULL);
    job_t j1 = { 0 }, j2 = { 0 };
    otelc_span_context_t producer_ctx;
    OTELC_CORRELATION("trade-99")
    {
        OTELC_BIND(OTELC_STR("account", "ACC-7"))
        {
            OTELC_SPAN("produce");
            producer_ctx = otelc_current_span_context();
            j1.ctx = otelc_context_capture();
            j2.ctx = otelc_context_retain(j1.ctx);
        }
    }
    assert_non_null(j1.ctx);
    otelc_span_context_t held = otelc_context_span(j1.ctx);
    assert_memory_equal(held.span_id, producer_ctx.span_id, 8);
    /* The producer's scopes have ended; the snapshot lives on. */
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, consumer, &j1), 0);
    pthread_join(th, NULL);
    j2.use_macro = true;
    assert_int_equal(pthread_create(&th, NULL, consumer, &j2), 0);
    pthread_join(th, NULL);
    otelc_context_release(j1.ctx);
    otelc_context_release(j2.ctx);
    sync_export();

    assert_true(j1.empty_before && j1.empty_after && j2.empty_before && j2.empty_after);
    assert_memory_equal(j1.seen_parent.span_id, producer_ctx.span_id, 8);
    assert_memory_equal(j2.seen_parent.span_id, producer_ctx.span_id, 8);
    assert_string_equal(j1.seen_corr, "trade-99");
    assert_string_equal(j2.seen_corr, "trade-99");
    const cap_record_t *prod = SPAN("produce"), *cons = SPAN("consume");
    assert_child_of(cons, prod);
    assert_child_of(SPAN("consume_macro"), prod);
    assert_string_equal(cons->correlation, "trade-99");
    const cap_record_t *l = LOG("consumed");
    assert_memory_equal(l->ctx.span_id, cons->ctx.span_id, 8);
    assert_memory_equal(l->ctx.trace_id, prod->ctx.trace_id, 16);
    assert_string_equal(l->correlation, "trade-99");
    assert_string_equal(cap_attr(l, "account"), "ACC-7");
    assert_string_equal(cap_attr(l, "stage"), "consumer");
    assert_string_equal(cap_attr(l, "n"), "1");
    const cap_record_t *m = LOG("consumed macro");
    assert_string_equal(cap_attr(m, "account"), "ACC-7");
    assert_string_equal(m->correlation, "trade-99");
    /* After detach the consumer thread has no context. */
    for (size_t i = 0; i < cap.n; i++) {
        const cap_record_t *r = &cap.recs[i];
        if (r->signal != OTELC_SIGNAL_LOGS || strcmp(r->name, "detached") != 0)
            continue;
        assert_memory_equal(r->ctx.trace_id, zero_id, 16);
        assert_string_equal(r->correlation, "");
        assert_int_equal(r->n_attrs, 0);
    }
    assert_int_equal(count(OTELC_SIGNAL_LOGS, "detached"), 2);
}

static void attach_null_and_empty(void **state)
{
    (void)state;
    otelc_context_t *none = otelc_context_capture(); /* before init */
    assert_null(none);
    start(NULL);
    otelc_token_t t = otelc_context_attach(NULL);
    assert_int_equal(t.depth, 0);
    otelc_context_detach(t);
    OTELC_ATTACHED(NULL)
    {
        OTELC_SPAN("under_null");
    }
    otelc_context_release(NULL);
    assert_null(otelc_context_retain(NULL));
    otelc_span_context_t z = otelc_context_span(NULL);
    assert_false(otelc_span_context_is_valid(&z));
    /* A context captured with no span: spans under it are roots. */
    otelc_context_t *empty = otelc_context_capture();
    assert_non_null(empty);
    {
        OTELC_SPAN("outer_here");
        OTELC_ATTACHED(empty)
        {
            OTELC_SPAN("root_under_empty");
        }
    }
    otelc_context_release(empty);
    sync_export();
    assert_memory_equal(SPAN("under_null")->parent_span_id, zero_id, 8);
    assert_memory_equal(SPAN("root_under_empty")->parent_span_id, zero_id, 8);
    assert_memory_not_equal(SPAN("root_under_empty")->ctx.trace_id,
                            SPAN("outer_here")->ctx.trace_id, 16);
}

/* ---- inject / extract ------------------------------------------------------------ */

typedef struct carrier {
    char keys[16][40];
    char values[16][8300];
    int n;
} carrier_t;

static carrier_t carrier_a, carrier_b;

static void carrier_set(void *c, const char *key, const char *value)
{
    carrier_t *k = c;
    assert_true(k->n < 16);
    snprintf(k->keys[k->n], sizeof(k->keys[0]), "%s", key);
    snprintf(k->values[k->n], sizeof(k->values[0]), "%s", value);
    k->n++;
}

static const char *carrier_get(void *c, const char *key)
{
    carrier_t *k = c;
    for (int i = 0; i < k->n; i++)
        if (strcasecmp(k->keys[i], key) == 0)
            return k->values[i];
    return NULL;
}

static void carrier_put(carrier_t *c, const char *key, const char *value)
{
    carrier_set(c, key, value);
}

static void traceparent_of(const otelc_span_context_t *c, char *out, size_t size)
{
    char t[33], s[17];
    otelc_hex_encode(c->trace_id, 16, t);
    otelc_hex_encode(c->span_id, 8, s);
    snprintf(out, size, "00-%s-%s-%02x", t, s, c->trace_flags);
}

static void inject_extract_round_trip(void **state)
{
    (void)state;
    start(NULL);
    otelc_span_context_t sent;
    memset(&carrier_a, 0, sizeof(carrier_a));
    OTELC_CORRELATION("trade-42")
    {
        otelc_token_t b = otelc_baggage_begin("tenant", "acme");
        OTELC_SPAN_KIND(OTELC_SPAN_KIND_CLIENT, "call_risk");
        sent = otelc_current_span_context();
        otelc_inject(carrier_set, &carrier_a);
        otelc_baggage_end(b);
    }
    char want[64];
    traceparent_of(&sent, want, sizeof(want));
    assert_non_null(carrier_get(&carrier_a, "traceparent"));
    assert_string_equal(carrier_get(&carrier_a, "traceparent"), want);
    assert_null(carrier_get(&carrier_a, "tracestate"));
    const char *bag = carrier_get(&carrier_a, "baggage");
    assert_non_null(bag);
    assert_non_null(strstr(bag, "correlation.id=trade-42"));
    assert_non_null(strstr(bag, "tenant=acme"));
    assert_null(carrier_get(&carrier_a, "b3"));

    /* The receiving side. */
    otelc_context_t *ctx = otelc_extract(carrier_get, &carrier_a);
    assert_non_null(ctx);
    otelc_span_context_t got = otelc_context_span(ctx);
    assert_memory_equal(got.trace_id, sent.trace_id, 16);
    assert_memory_equal(got.span_id, sent.span_id, 8);
    assert_int_equal(got.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_true(got.is_remote);
    otelc_logger_t *lg = otelc_logger("server");
    char v[32];
    OTELC_ATTACHED(ctx)
    {
        assert_string_equal(otelc_current_correlation_id(), "trade-42");
        assert_int_equal(otelc_baggage_get("tenant", v, sizeof(v)), 4);
        assert_string_equal(v, "acme");
        OTELC_SPAN_KIND(OTELC_SPAN_KIND_SERVER, "serve_risk");
        OTELC_INFO(lg, "served");
        /* Passing it on keeps the baggage. */
        memset(&carrier_b, 0, sizeof(carrier_b));
        otelc_inject(carrier_set, &carrier_b);
    }
    otelc_context_release(ctx);
    sync_export();
    const cap_record_t *server = SPAN("serve_risk");
    assert_memory_equal(server->ctx.trace_id, sent.trace_id, 16);
    assert_memory_equal(server->parent_span_id, sent.span_id, 8);
    assert_true(server->parent_is_remote);
    assert_string_equal(server->correlation, "trade-42");
    assert_string_equal(LOG("served")->correlation, "trade-42");
    assert_non_null(strstr(carrier_get(&carrier_b, "baggage"), "tenant=acme"));
    char want_b[64];
    traceparent_of(&server->ctx, want_b, sizeof(want_b));
    assert_string_equal(carrier_get(&carrier_b, "traceparent"), want_b);
}

/*
 * A correlation.id in incoming baggage longer than OTELC_CORRELATION_ID_MAX
 * is cut between characters: 127 'a' and a euro sign (3 bytes) keep the 127
 * 'a', not the first byte of the euro sign.
 */
static void long_correlation_id_cut_at_character(void **state)
{
    char header[256], want[128];
    (void)state;
    start(NULL);
    memset(want, 'a', 127);
    want[127] = '\0';
    snprintf(header, sizeof(header), "correlation.id=%s%%E2%%82%%AC", want);
    memset(&carrier_a, 0, sizeof(carrier_a));
    carrier_put(&carrier_a, "baggage", header);
    otelc_context_t *ctx = otelc_extract(carrier_get, &carrier_a);
    assert_non_null(ctx);
    OTELC_ATTACHED(ctx)
    {
        assert_string_equal(otelc_current_correlation_id(), want);
    }
    otelc_context_release(ctx);
}

static void tracestate_travels(void **state)
{
    (void)state;
    start(NULL);
    memset(&carrier_a, 0, sizeof(carrier_a));
    carrier_put(&carrier_a, "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    carrier_put(&carrier_a, "tracestate", "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7");
    otelc_context_t *ctx = otelc_extract(carrier_get, &carrier_a);
    assert_non_null(ctx);
    memset(&carrier_b, 0, sizeof(carrier_b));
    OTELC_ATTACHED(ctx)
    {
        OTELC_SPAN("with_state");
        otelc_inject(carrier_set, &carrier_b);
    }
    otelc_context_release(ctx);
    sync_export();
    const cap_record_t *s = SPAN("with_state");
    assert_string_equal(s->trace_state, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    assert_string_equal(carrier_get(&carrier_b, "tracestate"),
                        "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
    const char *tp = carrier_get(&carrier_b, "traceparent");
    assert_non_null(tp);
    assert_memory_equal(tp, "00-4bf92f3577b34da6a3ce929d0e0e4736-", 36);
    assert_true(s->parent_is_remote);
}

static void b3_propagators(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.propagators = OTELC_PROPAGATOR_B3 | OTELC_PROPAGATOR_B3MULTI;
    start(&o);
    otelc_span_context_t sent;
    memset(&carrier_a, 0, sizeof(carrier_a));
    {
        OTELC_SPAN("b3_client");
        sent = otelc_current_span_context();
        otelc_inject(carrier_set, &carrier_a);
    }
    char t[33], s[17], want[80];
    otelc_hex_encode(sent.trace_id, 16, t);
    otelc_hex_encode(sent.span_id, 8, s);
    snprintf(want, sizeof(want), "%s-%s-1", t, s);
    assert_null(carrier_get(&carrier_a, "traceparent"));
    assert_string_equal(carrier_get(&carrier_a, "b3"), want);
    assert_string_equal(carrier_get(&carrier_a, "x-b3-traceid"), t);
    assert_string_equal(carrier_get(&carrier_a, "x-b3-spanid"), s);
    assert_string_equal(carrier_get(&carrier_a, "x-b3-sampled"), "1");

    /* Each form alone extracts the same context. */
    carrier_t *only_single = &carrier_b;
    memset(only_single, 0, sizeof(*only_single));
    carrier_put(only_single, "b3", want);
    otelc_context_t *c1 = otelc_extract(carrier_get, only_single);
    memset(only_single, 0, sizeof(*only_single));
    carrier_put(only_single, "X-B3-TraceId", t);
    carrier_put(only_single, "X-B3-SpanId", s);
    carrier_put(only_single, "X-B3-Sampled", "1");
    otelc_context_t *c2 = otelc_extract(carrier_get, only_single);
    assert_non_null(c1);
    assert_non_null(c2);
    otelc_span_context_t g1 = otelc_context_span(c1), g2 = otelc_context_span(c2);
    assert_memory_equal(g1.trace_id, sent.trace_id, 16);
    assert_memory_equal(g1.span_id, sent.span_id, 8);
    assert_memory_equal(g2.trace_id, sent.trace_id, 16);
    assert_memory_equal(g2.span_id, sent.span_id, 8);
    assert_int_equal(g1.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_int_equal(g2.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    OTELC_ATTACHED(c2)
    {
        OTELC_SPAN("b3_server");
    }
    otelc_context_release(c1);
    otelc_context_release(c2);
    /* traceparent is not read when only B3 is configured. */
    memset(only_single, 0, sizeof(*only_single));
    carrier_put(only_single, "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assert_null(otelc_extract(carrier_get, only_single));
    sync_export();
    assert_memory_equal(SPAN("b3_server")->parent_span_id, sent.span_id, 8);
    assert_memory_equal(SPAN("b3_server")->ctx.trace_id, sent.trace_id, 16);
}

/* A service handling a request: extract, attach, bind request fields, log.
 * The log is a child of the remote span and carries the bound field. */
static void bind_inside_an_extracted_context(void **state)
{
    (void)state;
    start(NULL);
    memset(&carrier_a, 0, sizeof(carrier_a));
    carrier_put(&carrier_a, "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    otelc_context_t *ctx = otelc_extract(carrier_get, &carrier_a);
    assert_non_null(ctx);
    OTELC_ATTACHED(ctx)
    {
        OTELC_BIND(OTELC_STR("request_id", "R-1"))
        {
            OTELC_INFO(otelc_logger("server"), "handled");
        }
    }
    otelc_context_release(ctx);
    sync_export();
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_LOGS, "handled");
    assert_non_null(r);
    assert_string_equal(cap_attr(r, "request_id"), "R-1");
    char tp[64];
    traceparent_of(&r->ctx, tp, sizeof(tp));
    assert_string_equal(tp, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
}

static void extract_rejects_invalid_input(void **state)
{
    (void)state;
    start(NULL);
    const char *bad[] = {
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", /* zero trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", /* zero span id */
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", /* version ff */
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", /* upper case */
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  /* short trace id */
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra", "garbage", "",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&carrier_a, 0, sizeof(carrier_a));
        carrier_put(&carrier_a, "traceparent", bad[i]);
        carrier_put(&carrier_a, "tracestate", "congo=t61rcWkgMzE");
        otelc_context_t *ctx = otelc_extract(carrier_get, &carrier_a);
        if (ctx != NULL) {
            otelc_span_context_t c = otelc_context_span(ctx);
            assert_false(otelc_span_context_is_valid(&c));
            otelc_context_release(ctx);
        }
    }
    /* A valid baggage with an invalid traceparent: the baggage is kept, the
     * span context is not; spans under it are roots. */
    memset(&carrier_a, 0, sizeof(carrier_a));
    carrier_put(&carrier_a, "traceparent", bad[0]);
    carrier_put(&carrier_a, "baggage", "correlation.id=trade-5,tenant=acme");
    otelc_context_t *ctx = otelc_extract(carrier_get, &carrier_a);
    assert_non_null(ctx);
    otelc_span_context_t c = otelc_context_span(ctx);
    assert_false(otelc_span_context_is_valid(&c));
    OTELC_ATTACHED(ctx)
    {
        assert_string_equal(otelc_current_correlation_id(), "trade-5");
        OTELC_SPAN("after_bad_parent");
    }
    otelc_context_release(ctx);
    /* Nothing at all. */
    memset(&carrier_a, 0, sizeof(carrier_a));
    assert_null(otelc_extract(carrier_get, &carrier_a));
    assert_null(otelc_extract(NULL, &carrier_a));
    otelc_inject(NULL, &carrier_a);
    /* Outside any span and baggage, inject writes nothing. */
    otelc_inject(carrier_set, &carrier_a);
    assert_int_equal(carrier_a.n, 0);
    sync_export();
    assert_memory_equal(SPAN("after_bad_parent")->parent_span_id, zero_id, 8);
    assert_false(SPAN("after_bad_parent")->parent_is_remote);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(correlation_starts_a_trace, teardown),
        cmocka_unit_test_teardown(correlation_inside_a_span_starts_none, teardown),
        cmocka_unit_test_teardown(nested_correlations_restore, teardown),
        cmocka_unit_test_teardown(long_correlation_ids_are_cut, teardown),
        cmocka_unit_test_teardown(baggage_scopes, teardown),
        cmocka_unit_test_teardown(capture_and_attach_on_another_thread, teardown),
        cmocka_unit_test_teardown(attach_null_and_empty, teardown),
        cmocka_unit_test_teardown(inject_extract_round_trip, teardown),
        cmocka_unit_test_teardown(tracestate_travels, teardown),
        cmocka_unit_test_teardown(long_correlation_id_cut_at_character, teardown),
        cmocka_unit_test_teardown(b3_propagators, teardown),
        cmocka_unit_test_teardown(extract_rejects_invalid_input, teardown),
        cmocka_unit_test_teardown(bind_inside_an_extracted_context, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
