/*
 * test_file_exporter.c: what the file exporter writes, and where: routing of
 * loggers to channels, the copies in errors.log, the levels, every field of
 * the flat lines (read back with json-c and with jq), the otlp format (read
 * back by the independent decoder), and bad configuration values.
 *
 * Each test runs a real SDK session (otelc_init with the "file" exporters)
 * in a fresh temporary directory, with an injected clock, and reads the
 * files once otelc_flush() has returned.
 */
#include <setjmp.h>
#include <otelc/file.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "file_test.h"

/* ---- helpers ------------------------------------------------------------ */

/* snprintf into an array, failing the test when the text does not fit. */
#define FORMAT(buf, ...) assert_true(snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

static void log_at(const char *logger, int severity, const char *message)
{
    otelc_log(otelc_logger(logger), severity, NULL, message, OTELC_NUL_TERMINATED, NULL, 0);
}

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

/* The flat format's time text, computed here independently of otelc. */
static void iso(uint64_t ns, char out[32])
{
    time_t s = (time_t)(ns / FT_NS);
    struct tm tm;
    char head[24];

    assert_non_null(gmtime_r(&s, &tm));
    strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%06uZ", head, (unsigned)(ns % FT_NS / 1000u));
}

/* Asserts that ft_dir/file holds exactly the records of `loggers`, in
 * order, each with the message "m:<logger>". */
static void expect_loggers(const char *file, const char *const *loggers, size_t n)
{
    ft_doc_t d = ft_doc(file);

    if (d.n != n)
        fail_msg("%s: %zu lines, want %zu", file, d.n, n);
    for (size_t i = 0; i < n; i++) {
        char msg[128];
        snprintf(msg, sizeof(msg), "m:%s", loggers[i]);
        FT_ASSERT_STR(d.line[i], "logger", loggers[i]);
        FT_ASSERT_STR(d.line[i], "message", msg);
    }
    ft_doc_free(&d);
}

static void log_each(const char *const *loggers, size_t n, int severity)
{
    for (size_t i = 0; i < n; i++) {
        char msg[128];
        snprintf(msg, sizeof(msg), "m:%s", loggers[i]);
        log_at(loggers[i], severity, msg);
    }
}

/* The names of the files in ft_dir, sorted, comma-separated. */
static void dir_listing(char *out, size_t size)
{
    struct dirent **list;
    int n = scandir(ft_dir, &list, NULL, alphasort);
    size_t len = 0;

    assert_true(n >= 0);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.')
            len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "," : "", list[i]->d_name);
        assert_true(len < size);
        free(list[i]);
    }
    free(list);
}

/* Options read from the environment, then pointed at the test's directory
 * and clock (as a program would: its own word after otelc_options_init). */
static otelc_status_t env_options(otelc_options_t *o)
{
    otelc_status_t st = otelc_options_init(o);

    o->service_name = "file-test";
    o->traces_exporter = "file";
    o->logs_exporter = "file";
    o->level = OTELC_SEV_TRACE;
    otelc_file_options(o)->directory = ft_dir;
    o->clock_fn = ft_clock;
    o->spans_batch.schedule_delay_ms = 10;
    o->logs_batch.schedule_delay_ms = 10;
    return st;
}

/* ---- routing -------------------------------------------------------------- */

static void test_routing_default_channels(void **state)
{
    static const char *const trading[] = { "trading.orders", "strategy_manager", "order",
                                           "risk-engine" };
    static const char *const database[] = { "clickhouse_manager", "db", "redis:cache" };
    static const char *const api[] = { "api_server", "http/client" };
    static const char *const monitoring[] = { "health_checker" };
    static const char *const market[] = { "market_data.feed", "marketdata" };
    static const char *const audit[] = { "audit" };
    /* "orderbook" is not "order", "apis" is not "api", "trading2" is not
     * "trading": a prefix ends at a separator or the name's end. */
    static const char *const application[] = { "unknown_component", "orderbook", "apis", "trading2",
                                               "main" };
    otelc_options_t o;
    char listing[1024];

    (void)state;
    ft_options(&o);
    ft_start(&o);
    log_each(trading, 4, OTELC_SEV_INFO);
    log_each(database, 3, OTELC_SEV_INFO);
    log_each(api, 2, OTELC_SEV_INFO);
    log_each(monitoring, 1, OTELC_SEV_INFO);
    log_each(market, 2, OTELC_SEV_INFO);
    log_each(audit, 1, OTELC_SEV_INFO);
    log_each(application, 5, OTELC_SEV_INFO);
    {
        OTELC_SPAN("place_order");
    }
    ft_flush();

    expect_loggers("trading.log", trading, 4);
    expect_loggers("database.log", database, 3);
    expect_loggers("api.log", api, 2);
    expect_loggers("monitoring.log", monitoring, 1);
    expect_loggers("market_data.log", market, 2);
    expect_loggers("audit.log", audit, 1);
    expect_loggers("application.log", application, 5);
    assert_int_equal(ft_lines("traces.log"), 1);
    /* No record was an error, and channels without records have no file. */
    dir_listing(listing, sizeof(listing));
    assert_string_equal(listing, "api.log,application.log,audit.log,database.log,market_data.log,"
                                 "monitoring.log,traces.log,trading.log");
}

static void test_routing_custom_channels_longest_prefix(void **state)
{
    static const otelc_file_channel_t channels[] = {
        { .name = "orders", .loggers = "trading.orders" },
        { .name = "payments", .loggers = "payment, billing" },
        /* A built-in channel given prefixes loses its own. */
        { .name = "performance", .loggers = "bench" },
    };
    static const char *const orders[] = { "trading.orders", "trading.orders.eu" };
    static const char *const trading[] = { "trading.fills", "trading.ordersx", "order.book" };
    static const char *const payments[] = { "payment", "billing.invoices" };
    static const char *const performance[] = { "bench.run" };
    static const char *const application[] = { "payments_gateway", "latency", "perf.cpu" };
    otelc_options_t o;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->channels = channels;
    otelc_file_options(&o)->n_channels = 3;
    ft_start(&o);
    log_each(orders, 2, OTELC_SEV_INFO);
    log_each(trading, 3, OTELC_SEV_INFO);
    log_each(payments, 2, OTELC_SEV_INFO);
    log_each(performance, 1, OTELC_SEV_INFO);
    log_each(application, 3, OTELC_SEV_INFO);
    ft_flush();

    expect_loggers("orders.log", orders, 2);
    expect_loggers("trading.log", trading, 3);
    expect_loggers("payments.log", payments, 2);
    expect_loggers("performance.log", performance, 1);
    expect_loggers("application.log", application, 3);
}

static void test_routing_channels_from_env(void **state)
{
    static const char *const payments[] = { "billing.x", "payment" };
    static const char *const risk[] = { "trading.risk", "trading.risk.limits" };
    static const char *const trading[] = { "trading.orders" };
    otelc_options_t o;

    (void)state;
    setenv("OTELC_FILE_CHANNELS", " payments = payment|billing , risk_desk=trading.risk", 1);
    assert_int_equal(env_options(&o), OTELC_OK);
    ft_start(&o);
    log_each(payments, 2, OTELC_SEV_INFO);
    log_each(risk, 2, OTELC_SEV_INFO);
    log_each(trading, 1, OTELC_SEV_INFO);
    ft_flush();

    expect_loggers("payments.log", payments, 2);
    expect_loggers("risk_desk.log", risk, 2);
    expect_loggers("trading.log", trading, 1);
}

static void test_errors_copied_to_errors_log(void **state)
{
    otelc_options_t o;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    ft_start(&o);
    log_at("trading.orders", OTELC_SEV_TRACE, "t");
    log_at("trading.orders", OTELC_SEV_DEBUG, "d");
    log_at("trading.orders", OTELC_SEV_INFO, "i");
    log_at("trading.orders", OTELC_SEV_WARN, "w");
    log_at("trading.orders", 16, "w4"); /* just below ERROR */
    log_at("trading.orders", OTELC_SEV_ERROR, "e");
    log_at("trading.orders", OTELC_SEV_FATAL, "f");
    log_at("db", OTELC_SEV_ERROR, "db e");
    /* A logger of the errors channel itself: written there once. */
    log_at("errors", OTELC_SEV_ERROR, "own e");
    ft_flush();

    d = ft_doc("trading.log");
    assert_int_equal(d.n, 7);
    FT_ASSERT_STR(d.line[4], "level", "WARN4");
    ft_doc_free(&d);
    assert_int_equal(ft_lines("database.log"), 1);

    d = ft_doc("errors.log");
    assert_int_equal(d.n, 4);
    FT_ASSERT_STR(d.line[0], "message", "e");
    FT_ASSERT_STR(d.line[0], "level", "ERROR");
    FT_ASSERT_STR(d.line[0], "logger", "trading.orders");
    FT_ASSERT_STR(d.line[1], "message", "f");
    FT_ASSERT_STR(d.line[1], "level", "FATAL");
    FT_ASSERT_STR(d.line[2], "message", "db e");
    FT_ASSERT_STR(d.line[2], "logger", "db");
    FT_ASSERT_STR(d.line[3], "message", "own e");
    ft_doc_free(&d);
}

/* ---- levels ---------------------------------------------------------------- */

static void log_all_levels(const char *logger)
{
    log_at(logger, OTELC_SEV_TRACE, "TRACE");
    log_at(logger, OTELC_SEV_DEBUG, "DEBUG");
    log_at(logger, OTELC_SEV_INFO, "INFO");
    log_at(logger, OTELC_SEV_WARN, "WARN");
    log_at(logger, OTELC_SEV_ERROR, "ERROR");
    log_at(logger, OTELC_SEV_FATAL, "FATAL");
}

/* Asserts that `file` holds the records of levels `want` (space-separated),
 * each line's level and message being that word. */
static void expect_levels(const char *file, const char *want)
{
    ft_doc_t d = ft_doc(file);
    char got[256] = "";
    size_t len = 0;

    for (size_t i = 0; i < d.n; i++) {
        const char *level = ft_str(d.line[i], "level");
        assert_non_null(level);
        FT_ASSERT_STR(d.line[i], "message", level);
        len += (size_t)snprintf(got + len, sizeof(got) - len, "%s%s", i ? " " : "", level);
    }
    ft_doc_free(&d);
    if (strcmp(got, want) != 0)
        fail_msg("%s: levels '%s', want '%s'", file, got, want);
}

static void test_file_level(void **state)
{
    otelc_options_t o;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->level = OTELC_SEV_WARN;
    ft_start(&o);
    log_all_levels("trading.orders");
    {
        OTELC_SPAN("span_has_no_level");
    }
    ft_flush();

    expect_levels("trading.log", "WARN ERROR FATAL");
    expect_levels("errors.log", "ERROR FATAL");
    assert_int_equal(ft_lines("traces.log"), 1);
}

static void test_channel_level_from_struct(void **state)
{
    static const otelc_file_channel_t channels[] = {
        { .name = "database", .level = OTELC_SEV_ERROR },
        { .name = "errors", .level = OTELC_SEV_FATAL },
        { .name = "api", .level = OTELC_SEV_DEBUG },
    };
    otelc_options_t o;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->level = OTELC_SEV_INFO;
    otelc_file_options(&o)->channels = channels;
    otelc_file_options(&o)->n_channels = 3;
    ft_start(&o);
    log_all_levels("db");
    log_all_levels("trading");
    log_all_levels("api");
    ft_flush();

    /* A channel level cannot let through what the file level holds back. */
    expect_levels("database.log", "ERROR FATAL");
    expect_levels("trading.log", "INFO WARN ERROR FATAL");
    expect_levels("api.log", "INFO WARN ERROR FATAL");
    expect_levels("errors.log", "FATAL FATAL FATAL");
    /* The routes of the built-in channels stay when only a level is given. */
    assert_false(ft_exists("application.log"));
}

static void test_channel_level_from_env(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_FILE_CHANNEL_LEVELS", "trading=WARN, api=error", 1);
    assert_int_equal(env_options(&o), OTELC_OK);
    ft_start(&o);
    log_all_levels("trading.orders");
    log_all_levels("api_server");
    log_all_levels("main");
    ft_flush();

    expect_levels("trading.log", "WARN ERROR FATAL");
    expect_levels("api.log", "ERROR FATAL");
    expect_levels("application.log", "TRACE DEBUG INFO WARN ERROR FATAL");
}

static void test_console_keeps_its_own_level(void **state)
{
    otelc_options_t o;
    char path[FT_PATH];
    int saved, fd;
    char *console;
    size_t len;

    (void)state;
    ft_options(&o);
    o.logs_exporter = "console,file";
    o.console_level = OTELC_SEV_ERROR;
    o.console_color = 0;
    otelc_file_options(&o)->level = OTELC_SEV_DEBUG;
    fd = open(ft_path(path, "console.out"), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    fflush(stdout);
    saved = dup(1);
    assert_int_equal(dup2(fd, 1), 1);
    ft_start(&o);
    log_all_levels("trading.orders");
    ft_flush();
    ft_end();
    fflush(stdout);
    assert_int_equal(dup2(saved, 1), 1);
    close(saved);
    close(fd);

    expect_levels("trading.log", "DEBUG INFO WARN ERROR FATAL");
    console = ft_slurp(path, &len);
    assert_non_null(console);
    assert_int_equal(ft_count_lines_with(console, "trading.orders", NULL, NULL), 2);
    assert_non_null(strstr(console, "ERROR"));
    assert_non_null(strstr(console, "FATAL"));
    assert_null(strstr(console, "WARN"));
    free(console);
}

/* ---- the flat format --------------------------------------------------------- */

/* Asserts that the keys of `o` begin with `keys`, in that order. */
static void expect_key_order(json_object *o, const char *const *keys, size_t n)
{
    struct json_object_iterator it = json_object_iter_begin(o);
    struct json_object_iterator end = json_object_iter_end(o);

    for (size_t i = 0; i < n; i++) {
        if (json_object_iter_equal(&it, &end))
            fail_msg("key %zu: none, want '%s' in %s", i, keys[i], json_object_to_json_string(o));
        if (strcmp(json_object_iter_peek_name(&it), keys[i]) != 0)
            fail_msg("key %zu: '%s', want '%s' in %s", i, json_object_iter_peek_name(&it), keys[i],
                     json_object_to_json_string(o));
        json_object_iter_next(&it);
    }
}

static json_object *member(json_object *o, const char *k)
{
    json_object *v = NULL;
    if (!json_object_object_get_ex(o, k, &v))
        fail_msg("no key '%s' in %s", k, json_object_to_json_string(o));
    return v;
}

static void test_flat_log_fields(void **state)
{
    static const char *const fixed[] = { "timestamp", "level",    "logger",  "message",
                                         "event",     "trace_id", "span_id", "correlation_id" };
    otelc_logger_t *lg = otelc_logger("trading.orders");
    otelc_options_t o;
    otelc_span_t span;
    char trace_hex[33], span_hex[17], t1[32];
    json_object *line, *attrs;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    ft_start(&o);
    span = otelc_span_start("place_order", NULL, 0);
    assert_true(otelc_span_is_recording(&span));
    OTELC_CORRELATION("trade-42")
    {
        OTELC_EVENT(lg, OTELC_SEV_WARN, "order_submitted", "order sent",
                    OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", -100), OTELC_DBL("price", 187.25),
                    OTELC_BOOL("urgent", true), OTELC_STR("message", "attr message"),
                    OTELC_STR("level", "attr level"));
    }
    otelc_span_end(&span);
    /* No span, no correlation, no event: those keys are left out. The
     * record's own attribute comes before the bound one of the same key. */
    ft_set_time(FT_T0 + 7 * FT_NS + 5000);
    OTELC_BIND(OTELC_STR("desk", "equities"), OTELC_STR("symbol", "BOUND"))
    {
        OTELC_INFO(lg, "plain \"quoted\"\n", OTELC_STR("symbol", "OWN"));
    }
    otelc_log(lg, 10, NULL, "between", OTELC_NUL_TERMINATED, NULL, 0);
    ft_flush();

    hex(span.ctx.trace_id, 16, trace_hex);
    hex(span.ctx.span_id, 8, span_hex);
    d = ft_doc("trading.log");
    assert_int_equal(d.n, 3);

    line = d.line[0];
    expect_key_order(line, fixed, 8);
    FT_ASSERT_STR(line, "timestamp", FT_T0_TEXT);
    FT_ASSERT_STR(line, "level", "WARN");
    FT_ASSERT_STR(line, "logger", "trading.orders");
    FT_ASSERT_STR(line, "message", "order sent");
    FT_ASSERT_STR(line, "event", "order_submitted");
    FT_ASSERT_STR(line, "trace_id", trace_hex);
    FT_ASSERT_STR(line, "span_id", span_hex);
    FT_ASSERT_STR(line, "correlation_id", "trade-42");
    FT_ASSERT_STR(line, "symbol", "AAPL");
    assert_int_equal(ft_int(line, "qty"), -100);
    assert_true(json_object_is_type(member(line, "price"), json_type_double));
    assert_true(json_object_get_double(member(line, "price")) == 187.25);
    assert_true(json_object_is_type(member(line, "urgent"), json_type_boolean));
    assert_true(json_object_get_boolean(member(line, "urgent")));
    /* The attributes named like fixed keys are kept apart. */
    attrs = member(line, "attributes");
    assert_true(json_object_is_type(attrs, json_type_object));
    assert_int_equal(json_object_object_length(attrs), 2);
    FT_ASSERT_STR(attrs, "message", "attr message");
    FT_ASSERT_STR(attrs, "level", "attr level");
    assert_false(ft_has(line, "severity"));
    assert_false(ft_has(line, "dropped_attributes"));
    /* 8 fixed keys, 4 attributes, "attributes". */
    assert_int_equal(json_object_object_length(line), 13);

    line = d.line[1];
    iso(FT_T0 + 7 * FT_NS + 5000, t1);
    assert_string_equal(t1, "2026-03-10T12:35:03.123461Z");
    FT_ASSERT_STR(line, "timestamp", t1);
    FT_ASSERT_STR(line, "level", "INFO");
    FT_ASSERT_STR(line, "message", "plain \"quoted\"\n");
    FT_ASSERT_STR(line, "symbol", "OWN");
    FT_ASSERT_STR(line, "desk", "equities");
    assert_false(ft_has(line, "event"));
    assert_false(ft_has(line, "trace_id"));
    assert_false(ft_has(line, "span_id"));
    assert_false(ft_has(line, "correlation_id"));
    assert_false(ft_has(line, "attributes"));
    assert_int_equal(json_object_object_length(line), 6);

    FT_ASSERT_STR(d.line[2], "level", "INFO2");
    ft_doc_free(&d);
}

static void test_flat_span_fields(void **state)
{
    static const char *const fixed[] = {
        "timestamp",   "type",           "name",           "kind",  "trace_id",
        "span_id",     "parent_span_id", "correlation_id", "start", "end",
        "duration_ms", "status",         "status_message"
    };
    const otelc_attr_t parent_attrs[] = { OTELC_STR("symbol", "MSFT") };
    const otelc_attr_t child_attrs[] = { OTELC_INT("qty", 50), OTELC_STR("name", "attr name") };
    const otelc_attr_t fill_attrs[] = { OTELC_INT("fill_qty", 20) };
    otelc_span_options_t so;
    otelc_span_t parent, child;
    otelc_options_t o;
    char trace_hex[33], parent_hex[17], child_hex[17], t[32];
    json_object *line, *events, *ev;
    ft_doc_t d;

    (void)state;
    ft_options(&o);
    ft_start(&o);
    memset(&so, 0, sizeof(so));
    so.tracer = otelc_tracer("order-engine", "1.2");
    so.name = "place_order";
    so.name_len = OTELC_NUL_TERMINATED;
    so.kind = OTELC_SPAN_KIND_SERVER;
    so.attrs = parent_attrs;
    so.n_attrs = 1;
    /* Started before the correlation scope, the parent has no correlation
     * id (and the scope starts no span of its own: one is active). */
    parent = otelc_span_start_ex(&so);
    OTELC_CORRELATION("trade-7")
    {
        ft_set_time(FT_T0 + 1000000);
        child = otelc_span_start("check_risk", child_attrs, 2);
        ft_set_time(FT_T0 + 1500000);
        otelc_span_add_event(&child, "filled", fill_attrs, 1);
        otelc_span_set_status(&child, OTELC_STATUS_ERROR, "rejected");
        ft_set_time(FT_T0 + 2234000);
        otelc_span_end(&child);
    }
    ft_set_time(FT_T0 + 5000000);
    otelc_span_end(&parent);
    ft_flush();

    hex(parent.ctx.trace_id, 16, trace_hex);
    hex(parent.ctx.span_id, 8, parent_hex);
    hex(child.ctx.span_id, 8, child_hex);
    d = ft_doc("traces.log");
    assert_int_equal(d.n, 2);

    /* Spans are written as they end: the child first. */
    line = d.line[0];
    expect_key_order(line, fixed, 13);
    iso(FT_T0 + 1000000, t);
    FT_ASSERT_STR(line, "timestamp", t);
    FT_ASSERT_STR(line, "start", t);
    iso(FT_T0 + 2234000, t);
    FT_ASSERT_STR(line, "end", t);
    FT_ASSERT_STR(line, "type", "span");
    FT_ASSERT_STR(line, "name", "check_risk");
    FT_ASSERT_STR(line, "kind", "INTERNAL");
    FT_ASSERT_STR(line, "trace_id", trace_hex);
    FT_ASSERT_STR(line, "span_id", child_hex);
    FT_ASSERT_STR(line, "parent_span_id", parent_hex);
    FT_ASSERT_STR(line, "correlation_id", "trade-7");
    assert_true(fabs(json_object_get_double(member(line, "duration_ms")) - 1.234) < 1e-9);
    FT_ASSERT_STR(line, "status", "ERROR");
    FT_ASSERT_STR(line, "status_message", "rejected");
    assert_int_equal(ft_int(line, "qty"), 50);
    FT_ASSERT_STR(member(line, "attributes"), "name", "attr name");
    /* correlation_id says it already. */
    assert_false(ft_has(line, "correlation.id"));
    events = member(line, "events");
    assert_true(json_object_is_type(events, json_type_array));
    assert_int_equal(json_object_array_length(events), 1);
    ev = json_object_array_get_idx(events, 0);
    FT_ASSERT_STR(ev, "name", "filled");
    iso(FT_T0 + 1500000, t);
    FT_ASSERT_STR(ev, "timestamp", t);
    assert_int_equal(ft_int(member(ev, "attributes"), "fill_qty"), 20);
    assert_false(ft_has(line, "links"));

    line = d.line[1];
    FT_ASSERT_STR(line, "timestamp", FT_T0_TEXT);
    FT_ASSERT_STR(line, "start", FT_T0_TEXT);
    iso(FT_T0 + 5000000, t);
    FT_ASSERT_STR(line, "end", t);
    FT_ASSERT_STR(line, "name", "place_order");
    FT_ASSERT_STR(line, "kind", "SERVER");
    FT_ASSERT_STR(line, "trace_id", trace_hex);
    FT_ASSERT_STR(line, "span_id", parent_hex);
    FT_ASSERT_STR(line, "scope", "order-engine");
    FT_ASSERT_STR(line, "status", "UNSET");
    FT_ASSERT_STR(line, "symbol", "MSFT");
    assert_true(fabs(json_object_get_double(member(line, "duration_ms")) - 5.0) < 1e-9);
    assert_false(ft_has(line, "parent_span_id"));
    assert_false(ft_has(line, "correlation_id"));
    assert_false(ft_has(line, "status_message"));
    assert_false(ft_has(line, "events"));
    assert_false(ft_has(line, "attributes"));
    ft_doc_free(&d);
}

/* Runs `cmd` with the shell and returns its standard output (the caller
 * frees); *status is the exit status, -1 when it did not exit. */
static char *run(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 16, n = 0, r;
    char *out = malloc(cap);
    int st;

    assert_non_null(p);
    assert_non_null(out);
    while ((r = fread(out + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
    }
    out[n] = '\0';
    st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

/* The same files, read with jq the way a user would. */
static void test_flat_lines_with_jq(void **state)
{
    otelc_logger_t *lg = otelc_logger("trading.orders");
    otelc_options_t o;
    otelc_span_t span;
    char cmd[1024], path[FT_PATH];
    char *out;
    int st;

    (void)state;
    if (system("command -v jq >/dev/null 2>&1") != 0) {
        print_message("jq is not installed: test skipped\n");
        skip();
    }
    ft_options(&o);
    ft_start(&o);
    span = otelc_span_start("place_order", NULL, 0);
    OTELC_CORRELATION("trade-42")
    {
        OTELC_INFO(lg, "order sent", OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100));
        OTELC_ERROR(lg, "order rejected", OTELC_STR("reason", "limit"));
    }
    otelc_span_end(&span);
    OTELC_INFO(lg, "unrelated");
    ft_flush();

    ft_path(path, "trading.log");
    FORMAT(cmd,
           "jq -r 'select(.correlation_id == \"trade-42\") | "
           "[.level, .logger, .message, (.symbol // .reason), (.qty // 0 | tostring)] | @tsv' %s",
           path);
    out = run(cmd, &st);
    assert_int_equal(st, 0);
    assert_string_equal(out, "INFO\ttrading.orders\torder sent\tAAPL\t100\n"
                             "ERROR\ttrading.orders\torder rejected\tlimit\t0\n");
    free(out);

    /* The log lines carry the span's ids: the join a user makes. */
    FORMAT(cmd,
           "jq -e -n --slurpfile s %s/traces.log --slurpfile l %s/trading.log "
           "'($s | length) == 1 and ([$l[] | select(.trace_id == $s[0].trace_id and "
           ".span_id == $s[0].span_id)] | length) == 2 and "
           "$s[0].timestamp == \"" FT_T0_TEXT "\"' >/dev/null",
           ft_dir, ft_dir);
    out = run(cmd, &st);
    assert_int_equal(st, 0);
    free(out);

    FORMAT(cmd, "jq -e -s 'length == 1 and .[0].message == \"order rejected\"' %s",
           ft_path(path, "errors.log"));
    out = run(cmd, &st);
    assert_int_equal(st, 0);
    free(out);
}

/* ---- the otlp format ------------------------------------------------------------ */

/* The number of records in the OTLP/JSON lines of `doc`, counted with json-c. */
static size_t otlp_count(const ft_doc_t *doc, const char *outer, const char *middle,
                         const char *inner)
{
    size_t n = 0;

    for (size_t i = 0; i < doc->n; i++) {
        json_object *a = member(doc->line[i], outer);
        for (size_t j = 0; j < json_object_array_length(a); j++) {
            json_object *b = member(json_object_array_get_idx(a, j), middle);
            for (size_t k = 0; k < json_object_array_length(b); k++)
                n += json_object_array_length(member(json_object_array_get_idx(b, k), inner));
        }
    }
    return n;
}

/* The decoder's output for `file` of `kind`, parsed; skipped (NULL) when
 * the decoder is not available. Fails when the decoder rejects a line. */
static ft_doc_t *decode(const char *kind, const char *file, ft_doc_t *out)
{
    const char *py = getenv("OTELC_PYTHON"), *script = getenv("OTELC_OTLP_JSON_DECODE");
    char cmd[2048], path[FT_PATH];
    char *text;
    int st;

    if (py == NULL || script == NULL)
        return NULL;
    FORMAT(cmd, "\"%s\" \"%s\" --kind %s %s", py, script, kind, ft_path(path, file));
    text = run(cmd, &st);
    if (st != 0)
        fail_msg("the OTLP/JSON decoder rejected %s (exit %d)", file, st);
    memset(out, 0, sizeof(*out));
    ft_doc_add_text(out, text, strlen(text), file);
    free(text);
    return out;
}

/* The value of attribute `key` in an OTLP attribute list (decoder output). */
static json_object *otlp_attr(json_object *list, const char *key)
{
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *kv = json_object_array_get_idx(list, i);
        const char *k = ft_str(kv, "key");
        if (k != NULL && strcmp(k, key) == 0)
            return member(kv, "value");
    }
    fail_msg("no attribute '%s' in %s", key, json_object_to_json_string(list));
    return NULL;
}

static void test_otlp_format(void **state)
{
    otelc_logger_t *lg = otelc_logger("trading.orders");
    otelc_logger_t *db = otelc_logger("clickhouse_manager");
    otelc_options_t o;
    otelc_span_t span;
    char trace_hex[33], span_hex[17];
    ft_doc_t trading, errors, database, traces, dec;
    json_object *rl, *sl, *rec;

    (void)state;
    ft_options(&o);
    otelc_file_options(&o)->format = OTELC_FILE_FORMAT_OTLP;
    /* Batches end at the flushes only. */
    o.logs_batch.schedule_delay_ms = 60000;
    o.spans_batch.schedule_delay_ms = 60000;
    ft_start(&o);
    span = otelc_span_start("place_order", NULL, 0);
    OTELC_INFO(lg, "order 0", OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100));
    OTELC_INFO(lg, "order 1");
    OTELC_ERROR(lg, "order 2 rejected");
    OTELC_WARN(db, "slow query", OTELC_DBL("ms", 12.5));
    ft_set_time(FT_T0 + 3000000);
    otelc_span_end(&span);
    ft_flush();
    /* A second batch: a second line in the same files. */
    OTELC_INFO(lg, "order 3");
    ft_flush();

    hex(span.ctx.trace_id, 16, trace_hex);
    hex(span.ctx.span_id, 8, span_hex);

    /* Read with json-c first: every line one request, records counted. */
    trading = ft_doc("trading.log");
    errors = ft_doc("errors.log");
    database = ft_doc("database.log");
    traces = ft_doc("traces.log");
    assert_int_equal(trading.n, 2);
    assert_int_equal(otlp_count(&trading, "resourceLogs", "scopeLogs", "logRecords"), 4);
    assert_int_equal(otlp_count(&errors, "resourceLogs", "scopeLogs", "logRecords"), 1);
    assert_int_equal(otlp_count(&database, "resourceLogs", "scopeLogs", "logRecords"), 1);
    assert_int_equal(otlp_count(&traces, "resourceSpans", "scopeSpans", "spans"), 1);
    ft_doc_free(&errors);
    ft_doc_free(&database);
    ft_doc_free(&traces);
    ft_doc_free(&trading);

    /* Then with the independent decoder. */
    if (decode("logs", "trading.log", &dec) == NULL) {
        print_message("OTELC_PYTHON is not set (no protoc or python3-protobuf): the "
                      "independent OTLP/JSON decoder part is skipped\n");
        return;
    }
    assert_int_equal(dec.n, 2);
    rl = json_object_array_get_idx(member(dec.line[0], "resource_logs"), 0);
    assert_string_equal(
        ft_str(otlp_attr(member(member(rl, "resource"), "attributes"), "service.name"),
               "string_value"),
        "file-test");
    sl = json_object_array_get_idx(member(rl, "scope_logs"), 0);
    FT_ASSERT_STR(member(sl, "scope"), "name", "trading.orders");
    assert_int_equal(json_object_array_length(member(sl, "log_records")), 3);
    rec = json_object_array_get_idx(member(sl, "log_records"), 0);
    FT_ASSERT_STR(rec, "time_unix_nano", "1773146096123456000");
    assert_int_equal(ft_int(rec, "severity_number"), OTELC_SEV_INFO);
    FT_ASSERT_STR(rec, "severity_text", "INFO");
    FT_ASSERT_STR(member(rec, "body"), "string_value", "order 0");
    FT_ASSERT_STR(rec, "trace_id", trace_hex);
    FT_ASSERT_STR(rec, "span_id", span_hex);
    FT_ASSERT_STR(otlp_attr(member(rec, "attributes"), "symbol"), "string_value", "AAPL");
    FT_ASSERT_STR(otlp_attr(member(rec, "attributes"), "qty"), "int_value", "100");
    rec = json_object_array_get_idx(member(sl, "log_records"), 2);
    assert_int_equal(ft_int(rec, "severity_number"), OTELC_SEV_ERROR);
    FT_ASSERT_STR(member(rec, "body"), "string_value", "order 2 rejected");
    ft_doc_free(&dec);

    assert_non_null(decode("logs", "errors.log", &dec));
    assert_int_equal(dec.n, 1);
    ft_doc_free(&dec);
    assert_non_null(decode("logs", "database.log", &dec));
    assert_int_equal(dec.n, 1);
    ft_doc_free(&dec);

    assert_non_null(decode("traces", "traces.log", &dec));
    assert_int_equal(dec.n, 1);
    rl = json_object_array_get_idx(member(dec.line[0], "resource_spans"), 0);
    sl = json_object_array_get_idx(member(rl, "scope_spans"), 0);
    rec = json_object_array_get_idx(member(sl, "spans"), 0);
    FT_ASSERT_STR(rec, "name", "place_order");
    FT_ASSERT_STR(rec, "trace_id", trace_hex);
    FT_ASSERT_STR(rec, "span_id", span_hex);
    FT_ASSERT_STR(rec, "start_time_unix_nano", "1773146096123456000");
    FT_ASSERT_STR(rec, "end_time_unix_nano", "1773146096126456000");
    assert_int_equal(ft_int(rec, "kind"), OTELC_SPAN_KIND_INTERNAL);
    ft_doc_free(&dec);
}

/* ---- bad configuration values ------------------------------------------------------ */

static void test_bad_env_values_keep_defaults(void **state)
{
    otelc_options_t o;
    char *err;
    ft_doc_t d;

    (void)state;
    setenv("OTELC_FILE_FORMAT", "xml", 1);
    setenv("OTELC_FILE_MAX_SIZE", "abc", 1);
    setenv("OTELC_FILE_CHANNEL_LEVELS", "trading=LOUD,api=ERROR", 1);
    ft_stderr_begin();
    assert_int_equal(env_options(&o), OTELC_ERR_INVALID);
    ft_start(&o);
    log_at("trading.orders", OTELC_SEV_DEBUG, "DEBUG");
    log_at("api", OTELC_SEV_WARN, "WARN");
    log_at("api", OTELC_SEV_ERROR, "ERROR");
    ft_flush();
    err = ft_stderr_end();

    /* Each reported once, naming the variable and the value. */
    assert_int_equal(ft_count_lines_with(err, "OTELC_FILE_FORMAT", "xml", NULL), 1);
    assert_int_equal(ft_count_lines_with(err, "OTELC_FILE_MAX_SIZE", "abc", NULL), 1);
    assert_int_equal(ft_count_lines_with(err, "OTELC_FILE_CHANNEL_LEVELS", "LOUD", NULL), 1);
    free(err);
    assert_int_equal(otelc_file_options(&o)->format, OTELC_FILE_FORMAT_FLAT);
    assert_int_equal(otelc_file_options(&o)->max_bytes, 10u * 1024u * 1024u);

    /* The defaults are in force, and the good item of the list applies. */
    d = ft_doc("trading.log");
    assert_int_equal(d.n, 1);
    FT_ASSERT_STR(d.line[0], "level", "DEBUG");
    FT_ASSERT_STR(d.line[0], "timestamp", FT_T0_TEXT);
    ft_doc_free(&d);
    expect_levels("api.log", "ERROR");
}

/* Channel names that would leave the directory, or are not names at all,
 * are reported and ignored; the exporter goes on with the others. */
static void test_bad_channel_names(void **state)
{
    static const otelc_file_channel_t channels[] = {
        { .name = "bad/name", .loggers = "badname" },
        { .name = "..", .loggers = "dotdot" },
        { .name = "good", .loggers = "goodname" },
    };
    otelc_options_t o;
    char listing[1024], parent[FT_PATH];
    char *err;

    (void)state;
    setenv("OTELC_FILE_CHANNELS", "../up=upname,fine=finename", 1);
    assert_int_equal(env_options(&o), OTELC_OK);
    otelc_file_options(&o)->channels = channels;
    otelc_file_options(&o)->n_channels = 3;
    ft_stderr_begin();
    ft_start(&o);
    log_at("badname", OTELC_SEV_INFO, "m:badname");
    log_at("dotdot", OTELC_SEV_INFO, "m:dotdot");
    log_at("upname", OTELC_SEV_INFO, "m:upname");
    log_at("goodname", OTELC_SEV_INFO, "m:goodname");
    log_at("finename", OTELC_SEV_INFO, "m:finename");
    ft_flush();
    err = ft_stderr_end();

    /* Reported with the name. (The second bad name of the struct shares
     * the first one's diagnostic key, so the rate limit holds it back.) */
    assert_int_equal(ft_count_lines_with(err, "bad/name", NULL, NULL), 1);
    assert_int_equal(ft_count_lines_with(err, "../up", "OTELC_FILE_CHANNELS", NULL), 1);
    free(err);
    {
        static const char *const app[] = { "badname", "dotdot", "upname" };
        static const char *const good[] = { "goodname" };
        static const char *const fine[] = { "finename" };
        expect_loggers("application.log", app, 3);
        expect_loggers("good.log", good, 1);
        expect_loggers("fine.log", fine, 1);
    }
    dir_listing(listing, sizeof(listing));
    assert_string_equal(listing, "application.log,fine.log,good.log");
    /* Nothing written next to the directory. */
    FORMAT(parent, "%s/../up.log", ft_dir);
    assert_int_not_equal(access(parent, F_OK), 0);
}

/* ---- shutdown ---------------------------------------------------------------------------- */

/*
 * A user clock behind the real time (replays, tests) must not shorten the
 * shutdown deadline: the exporter threads are joined against the machine's
 * clock, so otelc_shutdown() returns OTELC_OK after the exporters' shutdown
 * and destroy ran. (It once converted the deadline with the user's clock,
 * and every exporter was abandoned at once.)
 */
static void test_shutdown_with_a_clock_in_the_past(void **state)
{
    otelc_options_t o;
    char *err;

    (void)state;
    ft_set_time(1000000000ull * FT_NS); /* 2001-09-09 */
    ft_options(&o);
    o.logs_batch.schedule_delay_ms = 60000;
    /* Whether an exporter thread is quicker to exit than shutdown is to
     * give up on it is a race: a few rounds make the outcome certain. */
    for (int round = 1; round <= 20; round++) {
        otelc_status_t st;
        size_t abandoned;

        ft_start(&o);
        for (int i = 0; i < 50; i++)
            log_at("trading.orders", OTELC_SEV_INFO, "before shutdown");
        ft_stderr_begin();
        st = otelc_shutdown(5000);
        err = ft_stderr_end();
        abandoned = ft_count_lines_with(err, "abandoned", NULL, NULL);
        free(err);
        if (st != OTELC_OK || abandoned != 0)
            fail_msg("round %d: otelc_shutdown() returned \"%s\", %zu exporter(s) abandoned", round,
                     otelc_status_str(st), abandoned);
        assert_int_equal(ft_lines("trading.log"), 50u * (size_t)round);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_routing_default_channels, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_routing_custom_channels_longest_prefix, ft_setup,
                                        ft_teardown),
        cmocka_unit_test_setup_teardown(test_routing_channels_from_env, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_errors_copied_to_errors_log, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_file_level, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_channel_level_from_struct, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_channel_level_from_env, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_console_keeps_its_own_level, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_flat_log_fields, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_flat_span_fields, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_flat_lines_with_jq, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_otlp_format, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_bad_env_values_keep_defaults, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_bad_channel_names, ft_setup, ft_teardown),
        cmocka_unit_test_setup_teardown(test_shutdown_with_a_clock_in_the_past, ft_setup,
                                        ft_teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
