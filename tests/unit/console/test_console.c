/*
 * test_console.c: the console exporter's text, colours, filtering and the
 * way it meets write errors.
 *
 * Batches are built by hand, exported to a temporary file (or a pipe, a
 * socket, a terminal) through the fd option and read back. TZ is UTC so that
 * the time text is the same on every machine.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <otelc/exporter.h>
#include <otelc/log.h>
#include <otelc/trace.h>

#include "console.h"

/* 2025-12-18 10:30:45.123 UTC */
#define T0 1766053845123000000ull
#define TIME_TEXT "2025-12-18 10:30:45.123"
#define TRACE_HEX "0102030405060708090a0b0c0d0e0f10"
#define SPAN_HEX "1112131415161718"
#define PARENT_HEX "2122232425262728"

static const otelc_scope_info_t scope_signals = { { "trading.signals", 15 }, { "", 0 } };
static const otelc_scope_info_t scope_engine = { { "trading.engine", 14 }, { "1.0", 3 } };

#define S(lit) ((otelc_str_t){ (lit), sizeof(lit) - 1u })

static otelc_span_context_t test_ctx(void)
{
    otelc_span_context_t ctx;

    memset(&ctx, 0, sizeof(ctx));
    for (int i = 0; i < OTELC_TRACE_ID_SIZE; i++)
        ctx.trace_id[i] = (uint8_t)(i + 1);
    for (int i = 0; i < OTELC_SPAN_ID_SIZE; i++)
        ctx.span_id[i] = (uint8_t)(0x11 + i);
    ctx.trace_flags = OTELC_TRACE_FLAG_SAMPLED;
    return ctx;
}

static otelc_log_data_t make_log(int severity, const char *body)
{
    otelc_log_data_t r;

    memset(&r, 0, sizeof(r));
    r.time_ns = T0;
    r.observed_time_ns = T0;
    r.severity = severity;
    r.body.ptr = body;
    r.body.len = strlen(body);
    r.scope = &scope_signals;
    return r;
}

static otelc_span_data_t make_span(const char *name, uint64_t duration_ns)
{
    otelc_span_data_t s;

    memset(&s, 0, sizeof(s));
    s.ctx = test_ctx();
    s.name.ptr = name;
    s.name.len = strlen(name);
    s.kind = OTELC_SPAN_KIND_INTERNAL;
    s.start_ns = T0;
    s.end_ns = T0 + duration_ns;
    s.scope = &scope_engine;
    return s;
}

/* The whole content of `fd` from its start, NUL-terminated; the caller frees it. */
static char *read_all(int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    ssize_t n;

    assert_non_null(buf);
    assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
    for (;;) {
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        n = read(fd, buf + len, cap - len - 1);
        assert_true(n >= 0);
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

static int temp_fd(void)
{
    char path[] = "/tmp/otelc_console_XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

/* One export_batch() call, with the result the pipeline would pass. */
static otelc_status_t call_export(otelc_exporter_t *e, const otelc_batch_t *batch,
                                  uint32_t timeout_ms)
{
    otelc_export_result_t result = OTELC_EXPORT_RESULT_INIT;

    return e->ops->export_batch(e, batch, timeout_ms, &result);
}

/* Exports `batch` to a fresh temporary file and returns what was written. */
static char *export_to_text(const otelc_console_options_t *template_opts,
                            const otelc_batch_t *batch, otelc_status_t *status)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = 0 };
    otelc_exporter_t *e = NULL;
    char *text;
    int fd = temp_fd();

    if (template_opts != NULL)
        opts = *template_opts;
    opts.fd = fd;
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    assert_non_null(e);
    *status = call_export(e, batch, 1000);
    text = read_all(fd);
    e->ops->destroy(e);
    close(fd);
    return text;
}

static char *export_logs(const otelc_log_data_t *logs, size_t n,
                         const otelc_console_options_t *opts)
{
    otelc_batch_t b = { .signal = OTELC_SIGNAL_LOGS, .logs = logs, .n = n };
    otelc_status_t st;
    char *text = export_to_text(opts, &b, &st);

    assert_int_equal(st, OTELC_OK);
    return text;
}

static char *export_spans(const otelc_span_data_t *spans, size_t n,
                          const otelc_console_options_t *opts)
{
    otelc_batch_t b = { .signal = OTELC_SIGNAL_TRACES, .spans = spans, .n = n };
    otelc_status_t st;
    char *text = export_to_text(opts, &b, &st);

    assert_int_equal(st, OTELC_OK);
    return text;
}

/* A log batch of one INFO record, for the tests about writing. */
static otelc_batch_t one_log_batch(otelc_log_data_t *r)
{
    *r = make_log(OTELC_SEV_INFO, "hello");
    return (otelc_batch_t){ .signal = OTELC_SIGNAL_LOGS, .logs = r, .n = 1 };
}

/* ---- text -------------------------------------------------------------- */

static void test_log_line(void **state)
{
    const otelc_attr_t attrs[] = { OTELC_STR("symbol", "BTCUSDT"), OTELC_INT("qty", 100) };
    otelc_log_data_t r = make_log(OTELC_SEV_INFO, "LONG signal generated");
    char *text;

    (void)state;
    r.ctx = test_ctx();
    r.correlation_id = S("trade-1");
    r.attrs = attrs;
    r.n_attrs = 2;
    text = export_logs(&r, 1, NULL);
    assert_string_equal(text, TIME_TEXT " | INFO     | trading.signals | LONG signal generated "
                                        "symbol=BTCUSDT qty=100 trace_id=" TRACE_HEX
                                        " span_id=" SPAN_HEX " correlation_id=trade-1\n");
    free(text);
}

static void test_log_every_attr_type(void **state)
{
    static const uint8_t bytes[] = { 0xde, 0xad, 0xbe, 0xef };
    static const char *const strs[] = { "a", "b c", "", "x,y" };
    static const bool bools[] = { true, false };
    static const int64_t ints[] = { 1, -2, 3 };
    static const double dbls[] = { 1.5, 0.1 };
    otelc_attr_t unknown = OTELC_INT("x", 1);
    otelc_attr_t attrs[] = {
        OTELC_STR("s", "plain"),
        OTELC_STR("sp", "two words"),
        OTELC_STR("empty", ""),
        OTELC_STRN("nul", NULL, 0),
        OTELC_STRN("cut", "abcdef", 3),
        OTELC_BOOL("t", 1),
        OTELC_BOOL("f", 0),
        OTELC_INT("i", -42),
        OTELC_INT("min", INT64_MIN),
        OTELC_INT("max", INT64_MAX),
        OTELC_DBL("d", 0.1),
        OTELC_DBL("price", 150.25),
        OTELC_DBL("big", 1e300),
        OTELC_DBL("third", 1.0 / 3.0),
        OTELC_DBL("neg0", -0.0),
        OTELC_BYTES("b", bytes, sizeof(bytes)),
        OTELC_BYTES("nob", NULL, 0),
        OTELC_STR_ARRAY("sa", strs, 4),
        OTELC_BOOL_ARRAY("ba", bools, 2),
        OTELC_INT_ARRAY("ia", ints, 3),
        OTELC_DBL_ARRAY("da", dbls, 2),
        OTELC_INT_ARRAY("ea", NULL, 0),
        OTELC_STR("api_key", "***MASKED***"),
        OTELC_STR("key with space", "v"),
        unknown,
    };
    otelc_log_data_t r = make_log(OTELC_SEV_WARN, "order filled");
    char *text;

    (void)state;
    attrs[sizeof(attrs) / sizeof(attrs[0]) - 1].type = 99;
    r.event_name = S("order_filled");
    r.attrs = attrs;
    r.n_attrs = (uint32_t)(sizeof(attrs) / sizeof(attrs[0]));
    text = export_logs(&r, 1, NULL);
    assert_string_equal(text,
                        TIME_TEXT " | WARNING  | trading.signals | order filled "
                                  "event=order_filled s=plain sp=\"two words\" empty=\"\" nul=\"\" "
                                  "cut=abc "
                                  "t=true f=false i=-42 min=-9223372036854775808 "
                                  "max=9223372036854775807 d=0.1 price=150.25 big=1e+300 "
                                  "third=0.3333333333333333 neg0=-0 b=deadbeef nob=\"\" "
                                  "sa=[a,\"b c\",\"\",\"x,y\"] ba=[true,false] ia=[1,-2,3] "
                                  "da=[1.5,0.1] "
                                  "ea=[] api_key=***MASKED*** \"key with space\"=v x=?\n");
    free(text);
}

static void test_escapes(void **state)
{
    const otelc_attr_t attrs[] = {
        OTELC_STR("q", "say \"hi\""),
        OTELC_STR("bs", "C:\\dir"),
        OTELC_STR("bsq", "a b\\c"),
        OTELC_STR("eq", "a=b"),
        OTELC_STR("inv", "ab\xff"
                         "cd"),
        OTELC_STR("over", "\xc0\xaf"),
        OTELC_STR("sur", "\xed\xa0\x80"),
        OTELC_STR("trunc", "x\xe2\x82"),
        OTELC_STR("c1", "\xc2\x9b"
                        "2J"),
        OTELC_STR("utf", "caf\xc3\xa9 \xe6\x97\xa5"),
        OTELC_STR("word", "\xe6\x97\xa5\xf0\x9f\x98\x80"),
        OTELC_STR("del", "\x7f"),
        OTELC_STR("cr", "a\rb"),
        OTELC_STR("k\x01", "1"),
    };
    otelc_scope_info_t scope = { { "bad\nname", 8 }, { "", 0 } };
    otelc_log_data_t r = make_log(OTELC_SEV_ERROR, "line1\nline2\ttab\x1b[31mred caf\xc3\xa9 "
                                                   "\\ \xfe!");
    char *text;

    (void)state;
    r.scope = &scope;
    r.attrs = attrs;
    r.n_attrs = (uint32_t)(sizeof(attrs) / sizeof(attrs[0]));
    r.correlation_id = S("trade 1");
    text = export_logs(&r, 1, NULL);
    assert_string_equal(text, TIME_TEXT
                        " | ERROR    | bad\\nname | "
                        "line1\\nline2\\ttab\\x1b[31mred caf\xc3\xa9 \\ \\xfe! "
                        "q=\"say \\\"hi\\\"\" bs=C:\\dir bsq=\"a b\\\\c\" eq=\"a=b\" "
                        "inv=\"ab\\xffcd\" over=\"\\xc0\\xaf\" sur=\"\\xed\\xa0\\x80\" "
                        "trunc=\"x\\xe2\\x82\" c1=\"\\xc2\\x9b2J\" "
                        "utf=\"caf\xc3\xa9 \xe6\x97\xa5\" word=\xe6\x97\xa5\xf0\x9f\x98\x80 "
                        "del=\"\\x7f\" cr=\"a\\rb\" \"k\\x01\"=1 "
                        "correlation_id=\"trade 1\"\n");
    /* Whatever the input, one record is one line and no raw ESC is written. */
    assert_null(strchr(text, '\x1b'));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);
    free(text);
}

static void test_severity_names(void **state)
{
    static const int sev[] = { 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24 };
    otelc_log_data_t logs[12];
    char *text;

    (void)state;
    for (size_t i = 0; i < 12; i++)
        logs[i] = make_log(sev[i], "m");
    text = export_logs(logs, 12, NULL);
#define L(level) TIME_TEXT " | " level " | trading.signals | m\n"
    assert_string_equal(text, L("TRACE   ") L("TRACE   ") L("DEBUG   ") L("DEBUG   ") L("INFO    ")
                                  L("INFO    ") L("WARNING ") L("WARNING ") L("ERROR   ")
                                      L("ERROR   ") L("CRITICAL") L("CRITICAL"));
#undef L
    free(text);
}

static void test_empty_fields(void **state)
{
    const otelc_attr_t attrs[] = { OTELC_INT("n", 1) };
    otelc_log_data_t logs[2];
    char *text;

    (void)state;
    /* No body: the first field follows the separator without a second space. */
    logs[0] = make_log(OTELC_SEV_INFO, "");
    logs[0].attrs = attrs;
    logs[0].n_attrs = 1;
    /* No scope, no attributes: a dash stands for the logger. */
    logs[1] = make_log(OTELC_SEV_INFO, "only");
    logs[1].scope = NULL;
    text = export_logs(logs, 2, NULL);
    assert_string_equal(text, TIME_TEXT " | INFO     | trading.signals | n=1\n" TIME_TEXT
                                        " | INFO     | - | only\n");
    free(text);
}

static void test_span_line(void **state)
{
    const otelc_attr_t attrs[] = { OTELC_STR("symbol", "AAPL"), OTELC_INT("qty", 100),
                                   OTELC_STR("correlation.id", "trade-1") };
    otelc_event_data_t events[2];
    otelc_span_data_t s = make_span("place_order", 1234567);
    char *text;

    (void)state;
    memset(events, 0, sizeof(events));
    events[0].name = S("order_sent");
    events[1].name = S("risk check");
    for (int i = 0; i < OTELC_SPAN_ID_SIZE; i++)
        s.parent_span_id[i] = (uint8_t)(0x21 + i);
    s.kind = OTELC_SPAN_KIND_CLIENT;
    s.status_code = OTELC_STATUS_ERROR;
    s.status_message = S("insufficient \"margin\"");
    s.correlation_id = S("trade-1");
    s.attrs = attrs;
    s.n_attrs = 3;
    s.events = events;
    s.n_events = 2;
    text = export_spans(&s, 1, NULL);
    assert_string_equal(text, TIME_TEXT " | SPAN     | trading.engine | place_order 1.234 ms "
                                        "status=ERROR \"insufficient \\\"margin\\\"\" kind=client "
                                        "symbol=AAPL "
                                        "qty=100 correlation.id=trade-1 event=order_sent "
                                        "event=\"risk check\" trace_id=" TRACE_HEX
                                        " span_id=" SPAN_HEX " parent_span_id=" PARENT_HEX "\n");
    free(text);
}

static void test_span_variants(void **state)
{
    otelc_span_data_t s[5];
    char *text;

    (void)state;
    /* A root span, internal, status unset: the bare minimum. */
    s[0] = make_span("tick", 0);
    /* OK without a message; server. */
    s[1] = make_span("handle", 2000000000ull + 999999);
    s[1].status_code = OTELC_STATUS_OK;
    s[1].kind = OTELC_SPAN_KIND_SERVER;
    /* An end before the start (a clock step) prints zero, not a huge number. */
    s[2] = make_span("skew", 0);
    s[2].end_ns = s[2].start_ns - 5;
    s[2].kind = OTELC_SPAN_KIND_PRODUCER;
    /* Kind 0 reads as internal; unknown kinds and status codes print nothing. */
    s[3] = make_span("zero", 1000);
    s[3].kind = 0;
    s[3].status_code = 7;
    s[4] = make_span("consume", 999);
    s[4].kind = OTELC_SPAN_KIND_CONSUMER;
    s[4].scope = NULL;
    text = export_spans(s, 5, NULL);
#define P(scope) TIME_TEXT " | SPAN     | " scope " | "
#define IDS "trace_id=" TRACE_HEX " span_id=" SPAN_HEX "\n"
    assert_string_equal(text, P("trading.engine") "tick 0.000 ms " IDS P(
                                  "trading.engine") "handle 2000.999 ms status=OK kind=server " IDS
                                  P("trading.engine") "skew 0.000 ms kind=producer " IDS
                                      P("trading.engine") "zero 0.001 ms " IDS P(
                                          "-") "consume 0.000 ms kind=consumer " IDS);
#undef P
#undef IDS
    free(text);
}

static void test_local_time(void **state)
{
    otelc_log_data_t r = make_log(OTELC_SEV_INFO, "m");
    char *text;

    (void)state;
    /* A POSIX TZ string needs no tz database on the machine. */
    setenv("TZ", "JST-9", 1);
    tzset();
    text = export_logs(&r, 1, NULL);
    setenv("TZ", "UTC", 1);
    tzset();
    assert_string_equal(text, "2025-12-18 19:30:45.123 | INFO     | trading.signals | m\n");
    free(text);

    /* Milliseconds are truncated, never rounded into the next second. */
    r.time_ns = T0 + 876999999ull;
    text = export_logs(&r, 1, NULL);
    assert_string_equal(text, "2025-12-18 10:30:45.999 | INFO     | trading.signals | m\n");
    free(text);
}

/* ---- colours and filtering --------------------------------------------- */

static void test_color_always(void **state)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = 1 };
    otelc_log_data_t logs[2];
    otelc_span_data_t s = make_span("tick", 0);
    char *text;

    (void)state;
    logs[0] = make_log(OTELC_SEV_INFO, "m");
    logs[1] = make_log(OTELC_SEV_FATAL, "m");
    text = export_logs(logs, 2, &opts);
    assert_string_equal(text,
                        TIME_TEXT " | \x1b[32mINFO    \x1b[0m | trading.signals | m\n" TIME_TEXT
                                  " | \x1b[1;31mCRITICAL\x1b[0m | trading.signals | m\n");
    free(text);
    text = export_spans(&s, 1, &opts);
    assert_string_equal(text,
                        TIME_TEXT " | \x1b[35mSPAN    \x1b[0m | trading.engine | "
                                  "tick 0.000 ms trace_id=" TRACE_HEX " span_id=" SPAN_HEX "\n");
    free(text);
}

static void test_color_never_and_auto_on_a_file(void **state)
{
    otelc_console_options_t never = { .min_severity = 1, .color = 0 };
    otelc_console_options_t automatic = { .min_severity = 1, .color = -1 };
    otelc_log_data_t r = make_log(OTELC_SEV_ERROR, "m");
    char *text;

    (void)state;
    text = export_logs(&r, 1, &never);
    assert_null(strchr(text, '\x1b'));
    free(text);
    /* A file is not a terminal: auto means no colour. */
    text = export_logs(&r, 1, &automatic);
    assert_null(strchr(text, '\x1b'));
    assert_string_equal(text, TIME_TEXT " | ERROR    | trading.signals | m\n");
    free(text);
}

static void test_color_auto_on_a_terminal(void **state)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = -1 };
    otelc_exporter_t *e = NULL;
    otelc_log_data_t r;
    otelc_batch_t b = one_log_batch(&r);
    char buf[512];
    size_t len = 0;
    int master, slave;
    const char *name;

    (void)state;
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 ||
        (name = ptsname(master)) == NULL || (slave = open(name, O_RDWR | O_NOCTTY)) < 0) {
        if (master >= 0)
            close(master);
        skip();
        return;
    }
    opts.fd = slave;
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    assert_int_equal(call_export(e, &b, 1000), OTELC_OK);
    e->ops->destroy(e);
    /* The terminal turns \n into \r\n; read until the line is complete. */
    while (len < sizeof(buf) - 1 && memchr(buf, '\n', len) == NULL) {
        struct pollfd pfd = { .fd = master, .events = POLLIN };
        ssize_t n;

        assert_int_equal(poll(&pfd, 1, 2000), 1);
        n = read(master, buf + len, sizeof(buf) - 1 - len);
        assert_true(n > 0);
        len += (size_t)n;
    }
    buf[len] = '\0';
    assert_non_null(strstr(buf, " | \x1b[32mINFO    \x1b[0m | trading.signals | hello"));
    close(slave);
    close(master);
}

static void test_min_severity(void **state)
{
    otelc_console_options_t opts = { .min_severity = OTELC_SEV_WARN, .color = 0 };
    otelc_log_data_t logs[4];
    char *text;

    (void)state;
    logs[0] = make_log(OTELC_SEV_INFO, "info");
    logs[1] = make_log(OTELC_SEV_WARN, "warn");
    logs[2] = make_log(OTELC_SEV_WARN - 1, "almost");
    logs[3] = make_log(OTELC_SEV_ERROR, "error");
    /* Skipped records are not an error: the batch returns OTELC_OK. */
    text = export_logs(logs, 4, &opts);
    assert_string_equal(text, TIME_TEXT " | WARNING  | trading.signals | warn\n" TIME_TEXT
                                        " | ERROR    | trading.signals | error\n");
    free(text);

    /* Everything below: nothing is written at all, and still OK. */
    opts.min_severity = OTELC_SEV_OFF;
    text = export_logs(logs, 4, &opts);
    assert_string_equal(text, "");
    free(text);

    /* Spans are not filtered by severity. */
    {
        otelc_span_data_t s = make_span("tick", 0);

        text = export_spans(&s, 1, &opts);
        assert_non_null(strstr(text, "| SPAN     |"));
        free(text);
    }
}

/* ---- options and factory ----------------------------------------------- */

/* Runs `fn` with stdout redirected to a temporary file; returns what it wrote. */
static char *capture_stdout(void (*fn)(void *), void *arg)
{
    int fd = temp_fd();
    int saved;
    char *text;

    fflush(stdout);
    saved = dup(1);
    assert_true(saved >= 0);
    assert_int_equal(dup2(fd, 1), 1);
    fn(arg);
    assert_int_equal(dup2(saved, 1), 1);
    close(saved);
    text = read_all(fd);
    close(fd);
    return text;
}

typedef struct export_call {
    otelc_exporter_t *e;
    const otelc_batch_t *b;
} export_call_t;

static void run_export_call(void *arg)
{
    export_call_t *call = arg;

    assert_int_equal(call_export(call->e, call->b, 1000), OTELC_OK);
}

static void export_one_info(void *arg)
{
    otelc_exporter_t *e = arg;
    otelc_log_data_t r;
    otelc_batch_t b = one_log_batch(&r);

    assert_int_equal(call_export(e, &b, 1000), OTELC_OK);
}

static void test_defaults(void **state)
{
    otelc_console_options_t zeroed;
    otelc_exporter_t *e = NULL;
    char *text;

    (void)state;
    /* NULL options: stdout, every severity, colour only on a terminal. */
    assert_int_equal(otelc_console_exporter_create(NULL, &e), OTELC_OK);
    assert_non_null(e);
    assert_string_equal(e->ops->name, "console");
    assert_int_equal(e->ops->signals, OTELC_SIGNAL_TRACES | OTELC_SIGNAL_LOGS);
    assert_non_null(e->ops->export_batch);
    assert_non_null(e->ops->destroy);
    text = capture_stdout(export_one_info, e);
    assert_string_equal(text, TIME_TEXT " | INFO     | trading.signals | hello\n");
    free(text);
    e->ops->destroy(e);

    /* A zeroed struct writes to stdout too, not to standard input. */
    memset(&zeroed, 0, sizeof(zeroed));
    assert_int_equal(otelc_console_exporter_create(&zeroed, &e), OTELC_OK);
    text = capture_stdout(export_one_info, e);
    assert_string_equal(text, TIME_TEXT " | INFO     | trading.signals | hello\n");
    free(text);
    e->ops->destroy(e);
}

static void test_invalid_arguments(void **state)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = 0, .fd = -1 };
    otelc_exporter_t *e = (otelc_exporter_t *)&opts;
    const otelc_exporter_ops_t *ops;
    otelc_log_data_t r;
    otelc_batch_t b = one_log_batch(&r);

    (void)state;
    assert_int_equal(otelc_console_exporter_create(NULL, NULL), OTELC_ERR_INVALID);
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_ERR_INVALID);
    assert_null(e);
    opts.fd = 1;
    opts.color = 2;
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_ERR_INVALID);
    assert_null(e);

    opts.color = 0;
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    assert_int_equal(call_export(e, NULL, 1000), OTELC_ERR_INVALID);
    /* An empty batch writes nothing and succeeds. */
    b.n = 0;
    assert_int_equal(call_export(e, &b, 1000), OTELC_OK);
    /* A batch that says it has records but points at none is refused. */
    b.n = 1;
    b.logs = NULL;
    assert_int_equal(call_export(e, &b, 1000), OTELC_ERR_INVALID);
    b.signal = OTELC_SIGNAL_TRACES;
    assert_int_equal(call_export(e, &b, 1000), OTELC_ERR_INVALID);
    ops = e->ops;
    ops->destroy(e);
    /* destroy(NULL) is harmless, as every destroy in otelc. */
    ops->destroy(NULL);
}

static void test_factory(void **state)
{
    otelc_options_t o;
    otelc_exporter_t *traces = NULL, *logs = NULL, *bad = (otelc_exporter_t *)&o;
    otelc_log_data_t r[2];
    otelc_batch_t b = { .signal = OTELC_SIGNAL_LOGS, .logs = r, .n = 2 };
    export_call_t call;
    char *text;

    (void)state;
    memset(&o, 0, sizeof(o));
    o.console_level = OTELC_SEV_WARN;
    o.console_color = 1;
    assert_int_equal(otelc__console_factory(&o, OTELC_SIGNAL_TRACES, &traces), OTELC_OK);
    assert_int_equal(otelc__console_factory(&o, OTELC_SIGNAL_LOGS, &logs), OTELC_OK);
    assert_int_equal(otelc__console_factory(&o, (otelc_signal_t)3, &bad), OTELC_ERR_INVALID);
    assert_null(bad);
    /* Each instance declares the one signal it was made for. */
    assert_int_equal(traces->ops->signals, OTELC_SIGNAL_TRACES);
    assert_int_equal(logs->ops->signals, OTELC_SIGNAL_LOGS);
    assert_string_equal(logs->ops->name, "console");

    r[0] = make_log(OTELC_SEV_INFO, "quiet");
    r[1] = make_log(OTELC_SEV_ERROR, "loud");
    call.e = logs;
    call.b = &b;
    text = capture_stdout(run_export_call, &call);
    assert_string_equal(text, TIME_TEXT " | \x1b[31mERROR   \x1b[0m | trading.signals | loud\n");
    free(text);
    traces->ops->destroy(traces);
    logs->ops->destroy(logs);

    /* NULL options and level 0 (unset): every record, auto colour. */
    assert_int_equal(otelc__console_factory(NULL, OTELC_SIGNAL_LOGS, &logs), OTELC_OK);
    text = capture_stdout(export_one_info, logs);
    assert_string_equal(text, TIME_TEXT " | INFO     | trading.signals | hello\n");
    free(text);
    logs->ops->destroy(logs);
}

/* ---- writing ----------------------------------------------------------- */

static void test_closed_fd(void **state)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = 0 };
    otelc_exporter_t *e = NULL;
    otelc_log_data_t r;
    otelc_batch_t b = one_log_batch(&r);

    (void)state;
    opts.fd = temp_fd();
    close(opts.fd);
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    errno = 1234;
    assert_int_equal(call_export(e, &b, 1000), OTELC_ERR_IO);
    /* errno is the host's; the exporter leaves it as it found it. */
    assert_int_equal(errno, 1234);
    e->ops->destroy(e);
}

static void test_broken_pipe_raises_no_signal(void **state)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = 0 };
    otelc_exporter_t *e = NULL;
    otelc_log_data_t r;
    otelc_batch_t b = one_log_batch(&r);
    struct sigaction dfl, old_action;
    sigset_t mask, pending;
    int fds[2];

    (void)state;
    /* The default action of SIGPIPE kills: if the exporter let one through,
     * this test would not return. */
    memset(&dfl, 0, sizeof(dfl));
    dfl.sa_handler = SIG_DFL;
    assert_int_equal(sigaction(SIGPIPE, &dfl, &old_action), 0);
    assert_int_equal(pipe(fds), 0);
    close(fds[0]);
    opts.fd = fds[1];
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    assert_int_equal(call_export(e, &b, 1000), OTELC_ERR_IO);
    assert_int_equal(call_export(e, &b, 1000), OTELC_ERR_IO);
    /* Nothing left pending, and the thread's mask is as it was. */
    assert_int_equal(sigpending(&pending), 0);
    assert_int_equal(sigismember(&pending, SIGPIPE), 0);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, NULL, &mask), 0);
    assert_int_equal(sigismember(&mask, SIGPIPE), 0);
    e->ops->destroy(e);
    close(fds[1]);
    sigaction(SIGPIPE, &old_action, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void test_full_nonblocking_pipe_times_out(void **state)
{
    otelc_console_options_t opts = { .min_severity = 1, .color = 0 };
    otelc_exporter_t *e = NULL;
    otelc_log_data_t r;
    otelc_batch_t b = one_log_batch(&r);
    char junk[4096];
    uint64_t start;
    int fds[2];

    (void)state;
    memset(junk, 'j', sizeof(junk));
    assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
    while (write(fds[1], junk, sizeof(junk)) > 0)
        ;
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
    opts.fd = fds[1];
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    /* It waits for room up to the export timeout, then gives up. */
    start = now_ms();
    assert_int_equal(call_export(e, &b, 50), OTELC_ERR_TIMEOUT);
    assert_true(now_ms() - start >= 45);
    /* Without a timeout it does not wait at all. */
    assert_int_equal(call_export(e, &b, 0), OTELC_ERR_TIMEOUT);

    /* Once the reader drains the pipe, the same exporter writes again. */
    while (read(fds[0], junk, sizeof(junk)) > 0)
        ;
    assert_int_equal(call_export(e, &b, 50), OTELC_OK);
    assert_int_equal(read(fds[0], junk, sizeof(junk)),
                     (ssize_t)strlen(TIME_TEXT " | INFO     | trading.signals | hello\n"));
    e->ops->destroy(e);
    close(fds[0]);
    close(fds[1]);
}

/* Reads a SOCK_SEQPACKET socket: one message per write(2) of the exporter. */
typedef struct packet_reader {
    int fd;
    char *data;
    size_t len, cap;
    size_t messages;
    size_t messages_not_ending_a_line;
} packet_reader_t;

static void *read_packets(void *arg)
{
    packet_reader_t *pr = arg;
    static char msg[1 << 17];

    for (;;) {
        ssize_t n = recv(pr->fd, msg, sizeof(msg), 0);

        if (n <= 0)
            break;
        pr->messages++;
        if (msg[n - 1] != '\n')
            pr->messages_not_ending_a_line++;
        while (pr->cap - pr->len < (size_t)n + 1) {
            pr->cap = pr->cap ? pr->cap * 2 : 1 << 20;
            pr->data = realloc(pr->data, pr->cap);
            if (pr->data == NULL)
                return NULL;
        }
        memcpy(pr->data + pr->len, msg, (size_t)n);
        pr->len += (size_t)n;
        pr->data[pr->len] = '\0';
    }
    return NULL;
}

static void test_large_batch_few_line_aligned_writes(void **state)
{
    enum { N = 5000 };
    otelc_console_options_t opts = { .min_severity = 1, .color = 0 };
    otelc_exporter_t *e = NULL;
    otelc_log_data_t *logs = calloc(N, sizeof(*logs));
    char(*bodies)[32] = calloc(N, sizeof(*bodies));
    otelc_attr_t attr = OTELC_STR("pad", "0123456789012345678901234567890123456789");
    otelc_batch_t b = { .signal = OTELC_SIGNAL_LOGS, .logs = logs, .n = N };
    packet_reader_t pr = { 0 };
    pthread_t reader;
    size_t line_len, lines = 0;
    int sv[2];

    (void)state;
    assert_non_null(logs);
    assert_non_null(bodies);
    for (int i = 0; i < N; i++) {
        snprintf(bodies[i], sizeof(bodies[i]), "record %05d", i);
        logs[i] = make_log(OTELC_SEV_INFO, bodies[i]);
        logs[i].attrs = &attr;
        logs[i].n_attrs = 1;
        logs[i].ctx = test_ctx();
    }
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
    pr.fd = sv[0];
    assert_int_equal(pthread_create(&reader, NULL, read_packets, &pr), 0);
    opts.fd = sv[1];
    assert_int_equal(otelc_console_exporter_create(&opts, &e), OTELC_OK);
    assert_int_equal(call_export(e, &b, 5000), OTELC_OK);
    e->ops->destroy(e);
    shutdown(sv[1], SHUT_WR);
    assert_int_equal(pthread_join(reader, NULL), 0);
    assert_non_null(pr.data);

    /* Every line is whole and in order. */
    line_len = strlen(TIME_TEXT " | INFO     | trading.signals | record 00000 "
                                "pad=0123456789012345678901234567890123456789 "
                                "trace_id=" TRACE_HEX " span_id=" SPAN_HEX "\n");
    assert_int_equal(pr.len, line_len * N);
    for (const char *p = pr.data; *p != '\0'; p = strchr(p, '\n') + 1) {
        char want[32];

        snprintf(want, sizeof(want), "| record %05zu ", lines);
        assert_non_null(strstr(p, want));
        assert_true(strstr(p, want) < strchr(p, '\n'));
        lines++;
    }
    assert_int_equal(lines, N);
    /* A 64 KiB buffer: about total/64K writes, each ending a line. */
    assert_int_equal(pr.messages_not_ending_a_line, 0);
    assert_true(pr.messages <= pr.len / (65536 - line_len) + 1);
    free(pr.data);
    free(bodies);
    free(logs);
    close(sv[0]);
    close(sv[1]);
}

static void test_record_longer_than_the_buffer(void **state)
{
    const size_t big = 200000;
    const char *prefix = TIME_TEXT " | INFO     | trading.signals | ";
    char *value = malloc(big + 1);
    char *want = malloc(big + 512);
    otelc_log_data_t logs[3];
    otelc_attr_t attr;
    char *text;

    (void)state;
    assert_non_null(value);
    assert_non_null(want);
    memset(value, 'x', big);
    value[big] = '\0';
    attr = OTELC_STRN("big", value, big);
    logs[0] = make_log(OTELC_SEV_INFO, "before");
    logs[1] = make_log(OTELC_SEV_INFO, "huge");
    logs[1].attrs = &attr;
    logs[1].n_attrs = 1;
    logs[2] = make_log(OTELC_SEV_INFO, "after");
    /* The middle line is three times the buffer: it is written in pieces,
     * and the lines around it stay whole. */
    text = export_logs(logs, 3, NULL);
    snprintf(want, big + 512, "%sbefore\n%shuge big=%s\n%safter\n", prefix, prefix, value, prefix);
    assert_int_equal(strlen(text), strlen(want));
    assert_memory_equal(text, want, strlen(want));
    free(text);
    free(want);
    free(value);
}

static int group_setup(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_line),
        cmocka_unit_test(test_log_every_attr_type),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_severity_names),
        cmocka_unit_test(test_empty_fields),
        cmocka_unit_test(test_span_line),
        cmocka_unit_test(test_span_variants),
        cmocka_unit_test(test_local_time),
        cmocka_unit_test(test_color_always),
        cmocka_unit_test(test_color_never_and_auto_on_a_file),
        cmocka_unit_test(test_color_auto_on_a_terminal),
        cmocka_unit_test(test_min_severity),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_factory),
        cmocka_unit_test(test_closed_fd),
        cmocka_unit_test(test_broken_pipe_raises_no_signal),
        cmocka_unit_test(test_full_nonblocking_pipe_times_out),
        cmocka_unit_test(test_large_batch_few_line_aligned_writes),
        cmocka_unit_test(test_record_longer_than_the_buffer),
    };

    return cmocka_run_group_tests(tests, group_setup, NULL);
}
