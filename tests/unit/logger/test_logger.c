/*
 * test_logger.c: structured logs as a user sees them in an exporter:
 * levels per logger (options, prefix rules, set_level), the disabled path,
 * event names, trace and correlation ids, bound fields, masking, very large
 * and invalid-UTF-8 messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "capture_session.h"

static const cap_record_t *log_rec(const char *body)
{
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_LOGS, body);
    if (r == NULL)
        fail_msg("log record '%s' was not exported", body);
    return r;
}

static size_t attr_count(const cap_record_t *r, const char *key)
{
    size_t n = 0;
    for (unsigned i = 0; i < r->n_attrs; i++)
        n += strcmp(r->attrs[i].key, key) == 0;
    return n;
}

static void assert_logs_exact(void)
{
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.pending, 0);
    assert_int_equal(st.logs.produced, st.logs.exported + otelc_signal_stats_dropped(&st.logs));
}

static const uint8_t zero_ids[24];

/* ---- levels ---------------------------------------------------------------- */

static void severity_filtering(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.level = OTELC_SEV_INFO;
    start(&o);
    otelc_logger_t *lg = otelc_logger("filter.default");
    assert_int_equal(otelc_logger_level(lg), OTELC_SEV_INFO);
    assert_false(otelc_logger_enabled(lg, OTELC_SEV_DEBUG));
    assert_true(otelc_logger_enabled(lg, OTELC_SEV_INFO));
    OTELC_TRACE(lg, "trace");
    OTELC_DEBUG(lg, "debug");
    OTELC_INFO(lg, "info");
    OTELC_WARN(lg, "warn");
    OTELC_ERROR(lg, "error");
    OTELC_FATAL(lg, "fatal");
    /* The function checks the level itself. */
    otelc_log(lg, OTELC_SEV_DEBUG, NULL, "debug via function", OTELC_NUL_TERMINATED, NULL, 0);
    otelc_log(lg, 10, NULL, "info2", OTELC_NUL_TERMINATED, NULL, 0);
    otelc_log(lg, 99, NULL, "too high", OTELC_NUL_TERMINATED, NULL, 0);
    sync_export();
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 6);
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "trace"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "debug"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "debug via function"));
    assert_int_equal(log_rec("info")->severity, OTELC_SEV_INFO);
    assert_int_equal(log_rec("info2")->severity, 10);
    assert_int_equal(log_rec("warn")->severity, OTELC_SEV_WARN);
    assert_int_equal(log_rec("error")->severity, OTELC_SEV_ERROR);
    assert_int_equal(log_rec("fatal")->severity, OTELC_SEV_FATAL);
    /* Severity numbers stop at 24. */
    assert_int_equal(log_rec("too high")->severity, 24);
    assert_string_equal(log_rec("info")->scope, "filter.default");
    otelc_stats_t st;
    otelc_stats(&st);
    /* Records below the level are not produced at all. */
    assert_int_equal(st.logs.produced, 6);
    assert_int_equal(st.logs.exported, 6);
}

static void logger_levels_longest_prefix(void **state)
{
    (void)state;
    /* Made before init: the rules apply at init. */
    otelc_logger_t *early = otelc_logger("trading.signals");
    otelc_options_t o;
    opts(&o);
    o.level = OTELC_SEV_WARN;
    o.logger_levels = "trading=DEBUG, trading.risk=WARNING,trading.risk.limits=ERROR,audit=OFF";
    start(&o);
    otelc_logger_t *risk = otelc_logger("trading.risk");
    otelc_logger_t *limits = otelc_logger("trading.risk.limits");
    otelc_logger_t *desk = otelc_logger("tradingdesk");
    otelc_logger_t *audit = otelc_logger("audit.orders");
    otelc_logger_t *other = otelc_logger("market");
    assert_int_equal(otelc_logger_level(early), OTELC_SEV_DEBUG);
    assert_int_equal(otelc_logger_level(otelc_logger("trading")), OTELC_SEV_DEBUG);
    assert_int_equal(otelc_logger_level(risk), OTELC_SEV_WARN);
    assert_int_equal(otelc_logger_level(limits), OTELC_SEV_ERROR);
    /* "trading" is a prefix of names, not of strings. */
    assert_int_equal(otelc_logger_level(desk), OTELC_SEV_WARN);
    assert_int_equal(otelc_logger_level(audit), OTELC_SEV_OFF);
    assert_int_equal(otelc_logger_level(other), OTELC_SEV_WARN);

    OTELC_DEBUG(early, "signals debug");
    OTELC_INFO(risk, "risk info");
    OTELC_WARN(risk, "risk warn");
    OTELC_WARN(limits, "limits warn");
    OTELC_ERROR(limits, "limits error");
    OTELC_FATAL(audit, "audit fatal");
    OTELC_INFO(other, "market info");
    sync_export();
    log_rec("signals debug");
    log_rec("risk warn");
    log_rec("limits error");
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "risk info"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "limits warn"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "audit fatal"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "market info"));
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 3);
}

static void set_level_at_run_time(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.level = OTELC_SEV_INFO;
    start(&o);
    otelc_logger_t *lg = otelc_logger("runtime.level");
    OTELC_DEBUG(lg, "before");
    otelc_logger_set_level(lg, OTELC_SEV_DEBUG);
    assert_int_equal(otelc_logger_level(lg), OTELC_SEV_DEBUG);
    OTELC_DEBUG(lg, "after");
    otelc_logger_set_level(lg, OTELC_SEV_OFF);
    OTELC_FATAL(lg, "off");
    otelc_logger_set_level(lg, -5); /* clamped to the lowest */
    assert_int_equal(otelc_logger_level(lg), 1);
    otelc_logger_set_level(lg, 1000); /* clamped to off */
    assert_int_equal(otelc_logger_level(lg), OTELC_SEV_OFF);
    otelc_logger_set_level(NULL, OTELC_SEV_DEBUG);
    otelc_logger_set_level(lg, OTELC_SEV_DEBUG);
    sync_export();
    log_rec("after");
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "before"));
    assert_null(cap_find(&cap, OTELC_SIGNAL_LOGS, "off"));
    /* Until the next init: then the configuration rules again. */
    assert_int_equal(otelc_shutdown(5000), OTELC_OK);
    assert_int_equal(otelc_logger_level(lg), OTELC_SEV_OFF); /* stopped: records nothing */
    start(&o);
    assert_int_equal(otelc_logger_level(lg), OTELC_SEV_INFO);
}

static int bumps, messages;

static int64_t bump(void)
{
    return ++bumps;
}

static const char *message_of(void)
{
    messages++;
    return "computed";
}

static void disabled_path_evaluates_nothing(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.level = OTELC_SEV_WARN;
    start(&o);
    otelc_logger_t *lg = otelc_logger("lazy");
    bumps = messages = 0;
    for (int i = 0; i < 10; i++) {
        OTELC_DEBUG(lg, message_of(), OTELC_INT("n", bump()), OTELC_INT("m", bump()));
        OTELC_INFO(lg, "x", OTELC_INT("n", bump()));
        OTELC_EVENT(lg, OTELC_SEV_INFO, "ev", message_of(), OTELC_INT("n", bump()));
    }
    assert_int_equal(bumps, 0);
    assert_int_equal(messages, 0);
    /* Enabled: each argument is evaluated exactly once. */
    OTELC_WARN(lg, message_of(), OTELC_INT("n", bump()), OTELC_INT("m", bump()));
    assert_int_equal(bumps, 2);
    assert_int_equal(messages, 1);
    /* The logger expression itself is evaluated once, enabled or not. */
    int calls = 0;
    otelc_logger_t *arr[2] = { lg, lg };
    OTELC_DEBUG(arr[calls++], "x");
    OTELC_WARN(arr[calls++], "once");
    assert_int_equal(calls, 2);
    sync_export();
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 2);
    const cap_record_t *r = log_rec("computed");
    /* Both values were taken, in some order, once each. */
    assert_true((strcmp(cap_attr(r, "n"), "1") == 0 && strcmp(cap_attr(r, "m"), "2") == 0) ||
                (strcmp(cap_attr(r, "n"), "2") == 0 && strcmp(cap_attr(r, "m"), "1") == 0));
    log_rec("once");
    /* Nothing below the level was produced. */
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 2);
}

static void no_log_exporter_means_loggers_off(void **state)
{
    (void)state;
    static otelc_exporter_ops_t traces_only;
    static otelc_exporter_t *list[1];
    otelc_options_t o;
    opts(&o);
    traces_only = cap_ops;
    traces_only.signals = OTELC_SIGNAL_TRACES;
    cap.base.ops = &traces_only;
    list[0] = &cap.base;
    o.exporters = list;
    start(&o);
    otelc_logger_t *lg = otelc_logger("nobody.listens");
    assert_false(otelc_logger_enabled(lg, OTELC_SEV_FATAL));
    OTELC_FATAL(lg, "lost in the void");
    {
        OTELC_SPAN("still traced");
    }
    sync_export();
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 0);
    assert_int_equal(st.spans.exported, 1);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], 0);
}

/* ---- content ---------------------------------------------------------------- */

static void body_event_and_attributes(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("execution.order_manager");
    assert_ptr_equal(lg, otelc_logger("execution.order_manager"));
    assert_string_equal(otelc_logger_name(lg), "execution.order_manager");
    OTELC_EVENT(lg, OTELC_SEV_INFO, "order_filled", "order filled", OTELC_STR("order_id", "ORD123"),
                OTELC_INT("qty", 100), OTELC_DBL("price", 150.25), OTELC_BOOL("partial", 0));
    OTELC_INFO(lg, "plain");
    otelc_log(lg, OTELC_SEV_WARN, NULL, "abcdef", 3, NULL, 0);
    otelc_log(lg, OTELC_SEV_WARN, NULL, NULL, OTELC_NUL_TERMINATED, NULL, 0);
    sync_export();
    const cap_record_t *r = log_rec("order filled");
    assert_string_equal(r->event, "order_filled");
    assert_string_equal(r->scope, "execution.order_manager");
    assert_int_equal(r->n_attrs, 4);
    assert_string_equal(cap_attr(r, "order_id"), "ORD123");
    assert_string_equal(cap_attr(r, "qty"), "100");
    assert_string_equal(cap_attr(r, "price"), "150.25");
    assert_string_equal(cap_attr(r, "partial"), "false");
    assert_true(r->start_ns > 1577836800000000000ull);
    assert_string_equal(log_rec("plain")->event, "");
    assert_int_equal(log_rec("abc")->body_len, 3);
    assert_int_equal(log_rec("")->body_len, 0);
    assert_string_equal(otelc_severity_text(OTELC_SEV_INFO), "INFO");
    assert_string_equal(otelc_severity_text(OTELC_SEV_WARN), "WARN");
    assert_string_equal(otelc_severity_text(OTELC_SEV_ERROR + 1), "ERROR2");
    assert_string_equal(otelc_severity_text(24), "FATAL4");
    assert_logs_exact();
}

static void trace_ids_from_the_active_span(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("ids");
    otelc_span_context_t outer, inner;
    OTELC_INFO(lg, "no span");
    {
        OTELC_SPAN("log_parent");
        outer = otelc_current_span_context();
        OTELC_INFO(lg, "in outer");
        {
            OTELC_SPAN("log_child");
            inner = otelc_current_span_context();
            OTELC_INFO(lg, "in inner");
        }
        OTELC_INFO(lg, "outer again");
    }
    OTELC_INFO(lg, "after");
    sync_export();
    assert_memory_equal(&log_rec("no span")->ctx, zero_ids, 16);
    assert_memory_equal(log_rec("no span")->ctx.span_id, zero_ids, 8);
    assert_memory_equal(log_rec("in outer")->ctx.trace_id, outer.trace_id, 16);
    assert_memory_equal(log_rec("in outer")->ctx.span_id, outer.span_id, 8);
    assert_int_equal(log_rec("in outer")->ctx.trace_flags, OTELC_TRACE_FLAG_SAMPLED);
    assert_memory_equal(log_rec("in inner")->ctx.span_id, inner.span_id, 8);
    assert_memory_equal(log_rec("in inner")->ctx.trace_id, outer.trace_id, 16);
    assert_memory_equal(log_rec("outer again")->ctx.span_id, outer.span_id, 8);
    assert_memory_equal(log_rec("after")->ctx.trace_id, zero_ids, 16);
    assert_memory_equal(log_rec("after")->ctx.span_id, zero_ids, 8);
    assert_string_equal(log_rec("after")->correlation, "");
}

static void correlation_id_attached(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("corr");
    OTELC_CORRELATION("trade-12345")
    {
        OTELC_INFO(lg, "inside");
    }
    OTELC_INFO(lg, "outside");
    sync_export();
    const cap_record_t *in = log_rec("inside"),
                       *corr = cap_find(&cap, OTELC_SIGNAL_TRACES, "correlation");
    assert_string_equal(in->correlation, "trade-12345");
    assert_non_null(corr);
    assert_memory_equal(in->ctx.trace_id, corr->ctx.trace_id, 16);
    assert_string_equal(log_rec("outside")->correlation, "");
}

static void bound_fields(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("bound");
    OTELC_BIND(OTELC_STR("account", "ACC-7"))
    {
        OTELC_INFO(lg, "a");
        OTELC_BIND(OTELC_STR("strategy", "momentum"), OTELC_INT("risk_limit", 5000))
        {
            OTELC_INFO(lg, "b", OTELC_STR("account", "OWN"), OTELC_INT("qty", 1));
        }
        OTELC_INFO(lg, "c");
        for (int i = 0; i < 3; i++) {
            OTELC_BIND(OTELC_INT("iteration", i))
            {
                if (i == 1)
                    break; /* leaves the bind scope only */
                OTELC_INFO(lg, i == 0 ? "loop0" : "loop2");
            }
        }
        OTELC_INFO(lg, "d");
    }
    OTELC_INFO(lg, "e");
    {
        otelc_attr_t a = OTELC_STR("session", "S1");
        otelc_token_t tok = otelc_bind_begin(&a, 1);
        assert_int_not_equal(tok.depth, 0);
        OTELC_INFO(lg, "f");
        otelc_bind_end(tok);
        otelc_bind_end(tok); /* twice: nothing */
    }
    OTELC_INFO(lg, "g");
    sync_export();

    const cap_record_t *a = log_rec("a"), *b = log_rec("b"), *c = log_rec("c");
    assert_int_equal(a->n_attrs, 1);
    assert_string_equal(cap_attr(a, "account"), "ACC-7");
    /* Own attributes first; a bound field with the same key loses. */
    assert_int_equal(b->n_attrs, 4);
    assert_string_equal(b->attrs[0].key, "account");
    assert_string_equal(b->attrs[0].value, "OWN");
    assert_int_equal(attr_count(b, "account"), 1);
    assert_string_equal(cap_attr(b, "qty"), "1");
    assert_string_equal(cap_attr(b, "strategy"), "momentum");
    assert_string_equal(cap_attr(b, "risk_limit"), "5000");
    assert_int_equal(c->n_attrs, 1);
    assert_string_equal(cap_attr(c, "account"), "ACC-7");
    assert_null(cap_attr(c, "strategy"));
    assert_string_equal(cap_attr(log_rec("loop0"), "iteration"), "0");
    assert_string_equal(cap_attr(log_rec("loop2"), "iteration"), "2");
    assert_int_equal(log_rec("loop2")->n_attrs, 2);
    assert_int_equal(log_rec("d")->n_attrs, 1);
    assert_int_equal(log_rec("e")->n_attrs, 0);
    assert_string_equal(cap_attr(log_rec("f"), "session"), "S1");
    assert_int_equal(log_rec("g")->n_attrs, 0);
    /* Bound fields are for logs; spans do not take them. */
}

static void masks_log_attributes(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("auth");
    OTELC_BIND(OTELC_STR("API_KEY", "bound-secret"), OTELC_STR("account", "ACC-1"))
    {
        OTELC_WARN(lg, "login", OTELC_STR("password", "hunter2"), OTELC_STR("Token", "t"),
                   OTELC_STR("user", "bob"), OTELC_INT("secret", 7));
    }
    sync_export();
    const cap_record_t *r = log_rec("login");
    assert_string_equal(cap_attr(r, "password"), "***MASKED***");
    assert_string_equal(cap_attr(r, "Token"), "***MASKED***");
    assert_string_equal(cap_attr(r, "secret"), "***MASKED***");
    assert_string_equal(cap_attr(r, "API_KEY"), "***MASKED***");
    assert_string_equal(cap_attr(r, "user"), "bob");
    assert_string_equal(cap_attr(r, "account"), "ACC-1");
}

static void log_limits(void **state)
{
    (void)state;
    otelc_options_t o;
    opts(&o);
    o.log_limits.attribute_count = 2;
    o.log_limits.attribute_value_length = 3;
    start(&o);
    otelc_logger_t *lg = otelc_logger("limited");
    OTELC_BIND(OTELC_STR("bound", "bbbbbb"))
    {
        OTELC_INFO(lg, "limited", OTELC_STR("a", "aaaaaa"), OTELC_STR("b", "\xC3\xA9\xC3\xA9"),
                   OTELC_STR("c", "cccc"));
    }
    sync_export();
    const cap_record_t *r = log_rec("limited");
    assert_int_equal(r->n_attrs, 2);
    assert_string_equal(cap_attr(r, "a"), "aaa");
    assert_string_equal(cap_attr(r, "b"), "\xC3\xA9"); /* cut on a character */
    /* "c" was over the count, and so was the bound field. */
    assert_int_equal(r->dropped_attrs, 2);
}

static void huge_message_is_carried_whole(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("huge");
    size_t n = 1u << 20;
    char *msg = malloc(n + 1);
    assert_non_null(msg);
    memset(msg, 'x', n);
    memcpy(msg, "HEAD", 4);
    msg[n] = 0;
    OTELC_ERROR(lg, msg, OTELC_STR("order_id", "ORD9"));
    OTELC_INFO(lg, "small after huge");
    sync_export();
    const cap_record_t *r = cap_find(&cap, OTELC_SIGNAL_LOGS, "small after huge");
    assert_non_null(r);
    const cap_record_t *h = NULL;
    for (size_t i = 0; i < cap.n; i++)
        if (strncmp(cap.recs[i].name, "HEADxxx", 7) == 0)
            h = &cap.recs[i];
    otelc_stats_t st;
    otelc_stats(&st);
    assert_int_equal(st.logs.produced, 2);
    assert_non_null(h);
    /* Larger than a quarter of the ring, and carried whole. */
    assert_int_equal(h->body_len, n);
    assert_string_equal(cap_attr(h, "order_id"), "ORD9");
    assert_int_equal(st.logs.exported, 2);
    assert_int_equal(st.logs.truncated, 0);
    assert_logs_exact();
    free(msg);
}

static void invalid_utf8_passes_through(void **state)
{
    (void)state;
    start(NULL);
    otelc_logger_t *lg = otelc_logger("bytes");
    const char bad[] = "price \xff\xfe broken \xc3 and \xe2\x82 end";
    OTELC_INFO(lg, bad, OTELC_STR("field", "\xf0\x28\x8c\x28"));
    sync_export();
    const cap_record_t *r = log_rec(bad);
    assert_int_equal(r->body_len, sizeof(bad) - 1);
    assert_memory_equal(r->name, bad, sizeof(bad) - 1);
    assert_string_equal(cap_attr(r, "field"), "\xf0\x28\x8c\x28");
}

static void logs_from_many_loggers_keep_their_scope(void **state)
{
    (void)state;
    start(NULL);
    char name[32];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "component.%02d", i);
        otelc_logger_t *lg = otelc_logger(name);
        otelc_log(lg, OTELC_SEV_INFO, NULL, name, OTELC_NUL_TERMINATED, NULL, 0);
    }
    sync_export();
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof(name), "component.%02d", i);
        assert_string_equal(log_rec(name)->scope, name);
    }
    assert_logs_exact();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(severity_filtering, teardown),
        cmocka_unit_test_teardown(logger_levels_longest_prefix, teardown),
        cmocka_unit_test_teardown(set_level_at_run_time, teardown),
        cmocka_unit_test_teardown(disabled_path_evaluates_nothing, teardown),
        cmocka_unit_test_teardown(no_log_exporter_means_loggers_off, teardown),
        cmocka_unit_test_teardown(body_event_and_attributes, teardown),
        cmocka_unit_test_teardown(trace_ids_from_the_active_span, teardown),
        cmocka_unit_test_teardown(correlation_id_attached, teardown),
        cmocka_unit_test_teardown(bound_fields, teardown),
        cmocka_unit_test_teardown(masks_log_attributes, teardown),
        cmocka_unit_test_teardown(log_limits, teardown),
        cmocka_unit_test_teardown(huge_message_is_carried_whole, teardown),
        cmocka_unit_test_teardown(invalid_utf8_passes_through, teardown),
        cmocka_unit_test_teardown(logs_from_many_loggers_keep_their_scope, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
