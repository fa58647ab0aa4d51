/*
 * test_lifecycle_config.c: what otelc_init() makes of settings at their
 * edges, end to end. Every numeric setting of the environment is given
 * 4294967295, 18446744073709551616 and -1: each value is taken or reported
 * (naming the variable and the range it takes), and spans and logs are
 * still exported, through the file exporter (when built in) and a capture
 * exporter. A program's struct with sizes the code cannot hold is clamped
 * and reported. An exporter whose factory fails, or whose queue cannot be
 * allocated, is reported by name and the others go on, with none of its
 * records counted as exported. 60,000 OTEL_RESOURCE_ATTRIBUTES entries are
 * taken in a time linear in their number.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture_exporter.h"
#include "config_int.h"
#include "diag.h"
#include "pipeline.h"
#include "resource.h"
#include "session.h"

/* What otelc_init() may take with 60,000 resource attributes (10 s before
 * the de-duplication was linear; a few ms after; room for sanitizers). */
#define BOUND_MS 2000

/* Records of each signal every run sends. */
#define N_RECORDS 5

static cap_exporter_t cap;
static char tmpdir[256];

static const char *const numeric_vars[] = {
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_EXPORT_TIMEOUT",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_BLRP_EXPORT_TIMEOUT",
    "OTEL_BLRP_MAX_QUEUE_SIZE",
    "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_SPAN_EVENT_COUNT_LIMIT",
    "OTEL_SPAN_LINK_COUNT_LIMIT",
    "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTELC_BLOCK_TIMEOUT_MS",
    "OTELC_RING_SIZE",
    "OTELC_FILE_MAX_SIZE",
    "OTELC_FILE_MAX_FILES",
    "OTELC_FILE_RETENTION_DAYS",
};

/* The variables whose range stops below 4294967295, with the range their
 * report names. */
static const struct {
    const char *var;
    const char *range;
} bounded[] = {
    { "OTEL_BSP_MAX_QUEUE_SIZE", "records from 1 to 1048576" },
    { "OTEL_BLRP_MAX_QUEUE_SIZE", "records from 1 to 1048576" },
    { "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "records from 1 to 65536" },
    { "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "records from 1 to 65536" },
    { "OTEL_TRACES_SAMPLER_ARG", "a number from 0 to 1" },
    { "OTELC_RING_SIZE", "a power of two from 4096 to 1073741824" },
};

/* ---- helpers --------------------------------------------------------------------- */

#include "capture_stderr.h"

static unsigned count_lines(const char *s)
{
    unsigned n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void clean_env(void)
{
    static const char *const others[] = { "OTEL_CONFIG_FILE",   "OTEL_TRACES_EXPORTER",
                                          "OTEL_LOGS_EXPORTER", "OTEL_RESOURCE_ATTRIBUTES",
                                          "OTEL_LOG_LEVEL",     "OTEL_SDK_DISABLED",
                                          "OTELC_FILE_DIR",     "OTEL_TRACES_SAMPLER",
                                          "OTELC_STATS" };

    for (size_t i = 0; i < sizeof(numeric_vars) / sizeof(numeric_vars[0]); i++)
        unsetenv(numeric_vars[i]);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        unsetenv(others[i]);
}

static int setup(void **state)
{
    (void)state;
    clean_env();
    otelc__diag_set_level(OTELC_DIAG_WARN);
    otelc__diag_reset();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    session_end(&cap);
    otelc__pipeline_fail_queue_allocs(0);
    clean_env();
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/otelc-lifecycle-config-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Records N_RECORDS spans and logs, flushes, and checks that every one of
 * them was exported, by the capture exporter and by the SDK's count (which
 * counts a record only when every exporter of its signal delivered it). */
static void record_and_check_exported(void)
{
    otelc_logger_t *lg = otelc_logger("bounds");
    otelc_stats_t st;

    for (int i = 0; i < N_RECORDS; i++) {
        OTELC_SPAN("bounded_span", OTELC_INT("i", i));
        OTELC_INFO(lg, "bounded_log", OTELC_INT("i", i));
    }
    assert_int_equal(otelc_flush(10000), OTELC_OK);
    assert_int_equal(cap.counted[OTELC_SIGNAL_TRACES], N_RECORDS);
    assert_int_equal(cap.counted[OTELC_SIGNAL_LOGS], N_RECORDS);
    otelc_stats(&st);
    assert_int_equal(st.spans.produced, N_RECORDS);
    assert_int_equal(st.spans.exported, N_RECORDS);
    assert_int_equal(st.logs.produced, N_RECORDS);
    assert_int_equal(st.logs.exported, N_RECORDS);
    assert_int_equal(otelc_signal_stats_dropped(&st.spans), 0);
    assert_int_equal(otelc_signal_stats_dropped(&st.logs), 0);
}

/* Options from the environment, with the capture exporter beside the named
 * ones: the file exporter when it is built in, else none. */
static void options_with_capture(otelc_options_t *o, otelc_status_t *status)
{
    static otelc_exporter_t *list[1];
    bool file = otelc_exporter_factory_exists("file");

    cap_free(&cap);
    cap_init(&cap, false);
    setenv("OTEL_TRACES_EXPORTER", file ? "file" : "none", 1);
    setenv("OTEL_LOGS_EXPORTER", file ? "file" : "none", 1);
    setenv("OTELC_FILE_DIR", tmpdir, 1);
    *status = otelc_options_init(o);
    list[0] = &cap.base;
    o->exporters = list;
    o->n_exporters = 1;
    o->level = OTELC_SEV_TRACE;
}

/* ---- every numeric variable at its edges -------------------------------------------- */

static const char *range_of(const char *var)
{
    for (size_t i = 0; i < sizeof(bounded) / sizeof(bounded[0]); i++) {
        if (strcmp(bounded[i].var, var) == 0)
            return bounded[i].range;
    }
    return NULL;
}

static void numeric_edges_still_export(void **state)
{
    static const char *const values[] = { "4294967295", "18446744073709551616", "-1" };

    (void)state;
    for (size_t v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        for (size_t i = 0; i < sizeof(numeric_vars) / sizeof(numeric_vars[0]); i++) {
            const char *var = numeric_vars[i], *range = range_of(var), *out;
            /* 4294967295 fits every 32-bit setting but the bounded ones;
             * the others are out of every range. */
            bool taken = v == 0 && range == NULL;
            char expected[160];
            otelc_options_t o;
            otelc_status_t st;

            printf("%s=%s\n", var, values[v]);
            clean_env();
            setenv(var, values[v], 1);
            otelc__diag_reset();
            capture_begin();
            options_with_capture(&o, &st);
            out = capture_end();
            if (taken) {
                assert_int_equal(st, OTELC_OK);
                assert_string_equal(out, "");
            } else {
                assert_int_equal(st, OTELC_ERR_INVALID);
                assert_int_equal(count_lines(out), 1);
                snprintf(expected, sizeof(expected), "invalid value '%s' for %s: expected ",
                         values[v], var);
                assert_non_null(strstr(out, expected));
                if (range != NULL)
                    assert_non_null(strstr(out, range));
            }
            assert_int_equal(otelc_init(&o), OTELC_OK);
            record_and_check_exported();
            session_end(&cap);
        }
    }
}

/* The report of the issue: both queue sizes at 4294967295. Their sum
 * wrapped, the exporter's queue could not be allocated, and nothing was
 * exported, without a word. */
static void both_queue_sizes_at_the_top(void **state)
{
    otelc_options_t o;
    otelc_status_t st;
    const char *out;

    (void)state;
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4294967295", 1);
    setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "4294967295", 1);
    capture_begin();
    options_with_capture(&o, &st);
    out = capture_end();
    assert_int_equal(st, OTELC_ERR_INVALID);
    assert_int_equal(count_lines(out), 2);
    assert_non_null(strstr(out, "invalid value '4294967295' for OTEL_BSP_MAX_QUEUE_SIZE: expected "
                                "records from 1 to 1048576; using the default 2048"));
    assert_non_null(strstr(out, "invalid value '4294967295' for OTEL_BLRP_MAX_QUEUE_SIZE"));
    assert_int_equal(o.spans_batch.max_queue_size, 2048);
    assert_int_equal(o.logs_batch.max_queue_size, 2048);
    assert_int_equal(otelc_init(&o), OTELC_OK);
    record_and_check_exported();
}

/* A value with control bytes is shown with them escaped, in one line. */
static void env_value_escaped(void **state)
{
    otelc_options_t o;
    otelc_status_t st;
    const char *out;

    (void)state;
    setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "\x1b[31m7\notelc: error: forged\r", 1);
    capture_begin();
    options_with_capture(&o, &st);
    out = capture_end();
    assert_int_equal(st, OTELC_ERR_INVALID);
    assert_int_equal(count_lines(out), 1);
    assert_null(strchr(out, '\x1b'));
    assert_null(strchr(out, '\r'));
    assert_non_null(strstr(out, "invalid value '\\x1b[31m7\\notelc: error: forged\\r' for "
                                "OTEL_BLRP_MAX_QUEUE_SIZE"));
    assert_int_equal(otelc_init(&o), OTELC_OK);
    record_and_check_exported();
}

/* A program's struct is not parsed: sizes the code cannot hold are
 * clamped at init, reported, and everything is still exported. */
static void program_sizes_clamped(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    cap_free(&cap);
    cap_init(&cap, false);
    cap_options(&o, &cap);
    o.spans_batch.max_queue_size = UINT32_MAX;
    o.logs_batch.max_queue_size = UINT32_MAX;
    o.spans_batch.max_export_batch_size = UINT32_MAX;
    o.logs_batch.max_export_batch_size = UINT32_MAX - 1;
    capture_begin();
    assert_int_equal(otelc_init(&o), OTELC_OK);
    out = capture_end();
    assert_non_null(strstr(out, "options spans_batch.max_queue_size 4294967295 is over the "
                                "1048576 records otelc holds; using 1048576"));
    assert_non_null(strstr(out, "options logs_batch.max_queue_size 4294967295"));
    assert_non_null(strstr(out, "options spans_batch.max_export_batch_size 4294967295 is over "
                                "the 65536 records otelc exports at once; using 65536"));
    assert_non_null(strstr(out, "options logs_batch.max_export_batch_size 4294967294"));
    assert_int_equal(count_lines(out), 4);
    record_and_check_exported();
}

/* ---- exporters that cannot be set up ----------------------------------------------- */

static otelc_status_t failing_factory(const otelc_exporter_args_t *args, otelc_exporter_t **out)
{
    (void)args;
    (void)out;
    return OTELC_ERR_IO;
}

static const otelc_component_t failing_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "failing",
    .create = failing_factory,
};

/* A factory that fails: reported with the exporter's name and the status;
 * init succeeds and the other exporter gets every record. */
static void failing_factory_reported(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    assert_int_equal(otelc_component_register(&failing_component), OTELC_OK);
    cap_free(&cap);
    cap_init(&cap, false);
    cap_options(&o, &cap);
    o.traces_exporter = "failing";
    o.logs_exporter = "failing";
    capture_begin();
    assert_int_equal(otelc_init(&o), OTELC_OK);
    out = capture_end();
    assert_non_null(strstr(out, "otelc: warning: exporter 'failing' not started: "));
    assert_non_null(strstr(out, otelc_status_str(OTELC_ERR_IO)));
    record_and_check_exported();
}

/* Exporters whose queues cannot be allocated: each is reported by name,
 * destroyed and left out; the other exporter gets every record, and the SDK
 * counts them exported (a record is exported when every exporter it waits
 * for delivered it, and the lost ones are not among them). */
static void queue_allocation_failure_reported(void **state)
{
    static cap_exporter_t lost[2];
    static otelc_exporter_ops_t lost_ops[2];
    static otelc_exporter_t *list[3];
    otelc_options_t o;
    const char *out;

    (void)state;
    cap_free(&cap);
    cap_init(&cap, false);
    cap_options(&o, &cap);
    for (int i = 0; i < 2; i++) {
        cap_init(&lost[i], false);
        lost_ops[i] = *cap.base.ops;
        lost_ops[i].name = i == 0 ? "lost-a" : "lost-b";
        lost[i].base.ops = &lost_ops[i];
        list[i] = &lost[i].base;
    }
    list[2] = &cap.base;
    o.exporters = list;
    o.n_exporters = 3;
    otelc__pipeline_fail_queue_allocs(2);
    capture_begin();
    assert_int_equal(otelc_init(&o), OTELC_OK);
    out = capture_end();
    assert_int_equal(count_lines(out), 2);
    assert_non_null(strstr(out, "otelc: error: exporter 'lost-a' not started: "));
    assert_non_null(strstr(out, "otelc: error: exporter 'lost-b' not started: "));
    assert_non_null(strstr(out, "(its queue of 4097 batches could not be allocated); the other "
                                "exporters go on"));
    record_and_check_exported();
    for (int i = 0; i < 2; i++) {
        assert_true(lost[i].destroyed_flag);
        assert_int_equal(lost[i].batches, 0);
        cap_free(&lost[i]);
    }
}

/* ---- many resource attributes -------------------------------------------------------- */

/* 60,000 OTEL_RESOURCE_ATTRIBUTES entries, one key twice: the later value
 * wins and otelc_init() returns within the bound. */
static void many_resource_attributes_from_env(void **state)
{
    size_t cap_bytes = 60000 * 32, n = 0;
    char *list = malloc(cap_bytes);
    otelc_options_t o;
    otelc_status_t st;
    otelc__resource_t r;
    uint64_t t0, ms;
    size_t found = 0;

    (void)state;
    assert_non_null(list);
    n += (size_t)snprintf(list + n, cap_bytes - n, "twice=first");
    for (int i = 0; i < 60000; i++)
        n += (size_t)snprintf(list + n, cap_bytes - n, ",attr.%d=v%d", i, i);
    n += (size_t)snprintf(list + n, cap_bytes - n, ",twice=second");
    assert_true(n < cap_bytes);
    setenv("OTEL_RESOURCE_ATTRIBUTES", list, 1);
    options_with_capture(&o, &st);
    assert_int_equal(st, OTELC_OK);
    t0 = mono_ms();
    assert_int_equal(otelc_init(&o), OTELC_OK);
    ms = mono_ms() - t0;
    printf("otelc_init with 60002 resource attributes: %llu ms\n", (unsigned long long)ms);
    assert_true(ms < BOUND_MS);
    record_and_check_exported();

    assert_int_equal(otelc__resource_build(&o, &r), OTELC_OK);
    assert_true(r.pub.n_attrs >= 1 + 60001 + 4);
    for (size_t i = 0; i < r.pub.n_attrs; i++) {
        if (strcmp(r.pub.attrs[i].key, "twice") == 0) {
            found++;
            assert_string_equal(r.pub.attrs[i].v.s, "second");
        }
    }
    assert_int_equal(found, 1);
    otelc__resource_free(&r);
    free(list);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(numeric_edges_still_export),
        T(both_queue_sizes_at_the_top),
        T(env_value_escaped),
        T(program_sizes_clamped),
        T(failing_factory_reported),
        T(queue_allocation_failure_reported),
        T(many_resource_attributes_from_env),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
