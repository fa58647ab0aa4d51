/*
 * test_config.c: option defaults, the environment reader and the level and
 * mask-key parsers of config_int.h.
 *
 * Every test starts from a clean environment (all variables the reader knows
 * unset) and a fresh diagnostic state, so that otelc__diag_count() is the
 * number of lines that test printed.
 */
#include <setjmp.h>
#include <otelc/file.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_int.h"
#include "diag.h"

static const char *const all_vars[] = {
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTELC_SERVICE_VERSION",
    "OTEL_TRACES_EXPORTER",
    "OTEL_LOGS_EXPORTER",
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
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PROPAGATORS",
    "OTELC_OVERFLOW",
    "OTELC_BLOCK_TIMEOUT_MS",
    "OTELC_RING_SIZE",
    "OTELC_LEVEL",
    "OTELC_LOGGER_LEVELS",
    "OTELC_CONSOLE_LEVEL",
    "OTELC_CONSOLE_COLOR",
    "OTELC_MASK_KEYS",
    "OTELC_STATS",
    "OTEL_LOG_LEVEL",
    "OTEL_CONFIG_FILE",
    "OTELC_FILE_DIR",
    "OTELC_FILE_FORMAT",
    "OTELC_FILE_LEVEL",
    "OTELC_FILE_MAX_SIZE",
    "OTELC_FILE_MAX_FILES",
    "OTELC_FILE_ROTATE_DAILY",
    "OTELC_FILE_RETENTION_DAYS",
    "OTELC_FILE_COMPRESS",
    "OTELC_FILE_CHANNELS",
    "OTELC_FILE_CHANNEL_LEVELS",
    "OTELC_FILE_CHANNEL_RETENTION",
};

static int clean_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
        unsetenv(all_vars[i]);
    otelc__diag_set_level(OTELC_DIAG_WARN);
    otelc__diag_reset();
    return 0;
}

/* Loads defaults and environment; checks the status and the line count. */
static void load(otelc_options_t *o, otelc_status_t expected_status, unsigned long expected_lines)
{
    otelc__diag_reset();
    assert_int_equal(otelc_options_init(o), expected_status);
    assert_int_equal(otelc__diag_count(), expected_lines);
}

/* One bad value: rejected, reported in exactly one line. */
static void load_rejected(otelc_options_t *o, const char *var, const char *value)
{
    clean_env(NULL);
    setenv(var, value, 1);
    load(o, OTELC_ERR_INVALID, 1);
    unsetenv(var);
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults(void **state)
{
    otelc_options_t o;

    (void)state;
    memset(&o, 0xa5, sizeof(o));
    otelc_options_default(&o);
    assert_false(o.disabled);
    assert_null(o.service_name);
    assert_null(o.service_version);
    assert_null(o.resource_attributes);
    assert_string_equal(o.traces_exporter, "console");
    assert_string_equal(o.logs_exporter, "console");
    assert_null(o.exporters);
    assert_int_equal(o.n_exporters, 0);

    assert_int_equal(o.spans_batch.max_queue_size, 2048);
    assert_int_equal(o.spans_batch.schedule_delay_ms, 5000);
    assert_int_equal(o.spans_batch.export_timeout_ms, 30000);
    assert_int_equal(o.spans_batch.max_export_batch_size, 512);
    assert_int_equal(o.logs_batch.max_queue_size, 2048);
    assert_int_equal(o.logs_batch.schedule_delay_ms, 1000);
    assert_int_equal(o.logs_batch.export_timeout_ms, 30000);
    assert_int_equal(o.logs_batch.max_export_batch_size, 512);

    assert_int_equal(o.span_limits.attribute_count, 128);
    assert_int_equal(o.span_limits.attribute_value_length, UINT32_MAX);
    assert_int_equal(o.span_limits.event_count, 128);
    assert_int_equal(o.span_limits.link_count, 128);
    assert_int_equal(o.span_limits.attributes_per_event, 128);
    assert_int_equal(o.span_limits.attributes_per_link, 128);
    assert_int_equal(o.log_limits.attribute_count, 128);
    assert_int_equal(o.log_limits.attribute_value_length, UINT32_MAX);

    assert_int_equal(o.sampler, OTELC_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_true(o.sampler_ratio == 1.0);
    assert_null(o.sampler_fn);
    assert_null(o.sampler_arg);
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE);
    assert_int_equal(o.overflow, OTELC_OVERFLOW_DROP);
    assert_int_equal(o.block_timeout_ms, 100);
    assert_int_equal(o.ring_size, 0);
    assert_int_equal(o.level, OTELC_SEV_INFO);
    assert_null(o.logger_levels);
    assert_int_equal(o.console_level, 1);
    assert_int_equal(o.console_color, -1);
    assert_null(o.mask_keys);
    assert_false(o.print_stats);
    assert_int_equal(o.diag_level, OTELC_DIAG_WARN);
    assert_null(o.clock_fn);
    assert_null(o.clock_arg);
    assert_null(o.id_fn);
    assert_null(o.id_arg);
}

static void test_null_arguments(void **state)
{
    (void)state;
    otelc_options_default(NULL);
    assert_int_equal(otelc_options_from_env(NULL), OTELC_ERR_INVALID);
    assert_int_equal(otelc_options_init(NULL), OTELC_ERR_INVALID);
    assert_int_equal(otelc__diag_count(), 0);
}

static void test_empty_environment_gives_defaults(void **state)
{
    otelc_options_t o, d;

    (void)state;
    otelc_options_default(&d);
    load(&o, OTELC_OK, 0);
    /* The components' settings are a set of these options' own (the file
     * exporter's tests check what it holds); the rest is the defaults. */
    assert_non_null(o.components);
    o.components = d.components;
    assert_memory_equal(&o, &d, sizeof(o));
}

/* The specification: an empty variable is the same as an unset one. */
static void test_empty_values_are_unset(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_SERVICE_NAME", "", 1);
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "", 1);
    setenv("OTEL_TRACES_SAMPLER", "", 1);
    setenv("OTELC_LEVEL", "", 1);
    setenv("OTELC_MASK_KEYS", "", 1);
    setenv("OTEL_SDK_DISABLED", "", 1);
    load(&o, OTELC_OK, 0);
    assert_null(o.service_name);
    assert_int_equal(o.spans_batch.max_queue_size, 2048);
    assert_int_equal(o.sampler, OTELC_SAMPLER_PARENTBASED_ALWAYS_ON);
    assert_int_equal(o.level, OTELC_SEV_INFO);
    assert_null(o.mask_keys);
    assert_false(o.disabled);
}

/* ---- strings ------------------------------------------------------------- */

static void test_strings_point_into_environment(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_SERVICE_NAME", "order-gateway", 1);
    setenv("OTELC_SERVICE_VERSION", "2.4.1", 1);
    setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=prod,team=risk", 1);
    setenv("OTEL_TRACES_EXPORTER", "otlp,console", 1);
    setenv("OTEL_LOGS_EXPORTER", "file", 1);
    load(&o, OTELC_OK, 0);
    assert_string_equal(o.service_name, "order-gateway");
    assert_ptr_equal(o.service_name, getenv("OTEL_SERVICE_NAME"));
    assert_string_equal(o.service_version, "2.4.1");
    assert_ptr_equal(o.service_version, getenv("OTELC_SERVICE_VERSION"));
    assert_string_equal(o.resource_attributes, "deployment.environment=prod,team=risk");
    assert_string_equal(o.traces_exporter, "otlp,console");
    assert_string_equal(o.logs_exporter, "file");
}

static void test_resource_attributes_checked(void **state)
{
    otelc_options_t o;

    (void)state;
    load_rejected(&o, "OTEL_RESOURCE_ATTRIBUTES", "a=1,broken,b=2");
    /* Stored all the same; the resource builder ignores it as a whole. */
    setenv("OTEL_RESOURCE_ATTRIBUTES", "a=1,broken", 1);
    otelc__diag_reset();
    assert_int_equal(otelc_options_init(&o), OTELC_ERR_INVALID);
    assert_string_equal(o.resource_attributes, "a=1,broken");
    assert_int_equal(otelc__diag_count(), 1);

    load_rejected(&o, "OTEL_RESOURCE_ATTRIBUTES", "a=%zz");
    load_rejected(&o, "OTEL_RESOURCE_ATTRIBUTES", "=value");
}

/* ---- booleans ------------------------------------------------------------ */

static void test_sdk_disabled(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_SDK_DISABLED", "true", 1);
    load(&o, OTELC_OK, 0);
    assert_true(o.disabled);
    setenv("OTEL_SDK_DISABLED", "TRUE", 1);
    load(&o, OTELC_OK, 0);
    assert_true(o.disabled);
    setenv("OTEL_SDK_DISABLED", "False", 1);
    load(&o, OTELC_OK, 0);
    assert_false(o.disabled);

    load_rejected(&o, "OTEL_SDK_DISABLED", "yes");
    assert_false(o.disabled);
    load_rejected(&o, "OTEL_SDK_DISABLED", "1");
    assert_false(o.disabled);
}

static void test_stats(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_STATS", "1", 1);
    load(&o, OTELC_OK, 0);
    assert_true(o.print_stats);
    setenv("OTELC_STATS", "true", 1);
    load(&o, OTELC_OK, 0);
    assert_true(o.print_stats);
    setenv("OTELC_STATS", "0", 1);
    load(&o, OTELC_OK, 0);
    assert_false(o.print_stats);
    setenv("OTELC_STATS", "FALSE", 1);
    load(&o, OTELC_OK, 0);
    assert_false(o.print_stats);
    load_rejected(&o, "OTELC_STATS", "2");
    assert_false(o.print_stats);
}

/* ---- batch processors ---------------------------------------------------- */

static void test_batch_values(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_BSP_SCHEDULE_DELAY", "250", 1);
    setenv("OTEL_BSP_EXPORT_TIMEOUT", "0", 1);
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "8192", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1024", 1);
    setenv("OTEL_BLRP_SCHEDULE_DELAY", "20", 1);
    setenv("OTEL_BLRP_EXPORT_TIMEOUT", "4294967295", 1);
    setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "100", 1);
    setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "100", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.spans_batch.schedule_delay_ms, 250);
    assert_int_equal(o.spans_batch.export_timeout_ms, 0);
    assert_int_equal(o.spans_batch.max_queue_size, 8192);
    assert_int_equal(o.spans_batch.max_export_batch_size, 1024);
    assert_int_equal(o.logs_batch.schedule_delay_ms, 20);
    assert_int_equal(o.logs_batch.export_timeout_ms, UINT32_MAX);
    assert_int_equal(o.logs_batch.max_queue_size, 100);
    assert_int_equal(o.logs_batch.max_export_batch_size, 100);
}

static void test_integer_syntax_rejected(void **state)
{
    static const char *const bad[] = {
        "-5",   "+5",         "5 5",
        "5\n6", "12abc",      "0x10",
        "1e3",  "4294967296", "99999999999999999999999",
        "five",
    };
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load_rejected(&o, "OTEL_BSP_SCHEDULE_DELAY", bad[i]);
        assert_int_equal(o.spans_batch.schedule_delay_ms, 5000);
        load_rejected(&o, "OTEL_BLRP_MAX_QUEUE_SIZE", bad[i]);
        assert_int_equal(o.logs_batch.max_queue_size, 2048);
    }
    /* Blanks around a value are ignored. */
    setenv("OTEL_BSP_SCHEDULE_DELAY", " 250\t", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", " 0.5 ", 1);
    setenv("OTELC_RING_SIZE", " 8k ", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.spans_batch.schedule_delay_ms, 250);
    assert_true(o.sampler_ratio == 0.5);
    assert_int_equal(o.ring_size, 8192);
    clean_env(NULL);
    /* A queue or a batch of nothing cannot work. */
    load_rejected(&o, "OTEL_BSP_MAX_QUEUE_SIZE", "0");
    assert_int_equal(o.spans_batch.max_queue_size, 2048);
    load_rejected(&o, "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "0");
    assert_int_equal(o.logs_batch.max_export_batch_size, 512);
}

static void test_batch_clamped_to_queue(void **state)
{
    otelc_options_t o;

    (void)state;
    /* Asked for explicitly: clamped and reported. */
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "100", 1);
    setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "200", 1);
    load(&o, OTELC_ERR_INVALID, 1);
    assert_int_equal(o.spans_batch.max_queue_size, 100);
    assert_int_equal(o.spans_batch.max_export_batch_size, 100);
    assert_int_equal(o.logs_batch.max_export_batch_size, 512);

    /* Only the default batch size is over the queue: clamped silently. */
    clean_env(NULL);
    setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "64", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.logs_batch.max_queue_size, 64);
    assert_int_equal(o.logs_batch.max_export_batch_size, 64);
    assert_int_equal(o.spans_batch.max_export_batch_size, 512);

    /* The batch size alone, under the default queue of 2048: taken. */
    clean_env(NULL);
    setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "2048", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.logs_batch.max_export_batch_size, 2048);
    setenv("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "2049", 1);
    load(&o, OTELC_ERR_INVALID, 1);
    assert_int_equal(o.logs_batch.max_export_batch_size, 2048);
}

/* ---- limits -------------------------------------------------------------- */

static void test_general_limits(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "32", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1024", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.span_limits.attribute_count, 32);
    assert_int_equal(o.span_limits.attributes_per_event, 32);
    assert_int_equal(o.span_limits.attributes_per_link, 32);
    assert_int_equal(o.log_limits.attribute_count, 32);
    assert_int_equal(o.span_limits.attribute_value_length, 1024);
    assert_int_equal(o.log_limits.attribute_value_length, 1024);
    /* Counts of events and links are not attribute limits. */
    assert_int_equal(o.span_limits.event_count, 128);
    assert_int_equal(o.span_limits.link_count, 128);
}

static void test_specific_limits_win(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_ATTRIBUTE_COUNT_LIMIT", "32", 1);
    setenv("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1024", 1);
    setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "64", 1);
    setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "256", 1);
    setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "10", 1);
    setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "0", 1);
    setenv("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "5", 1);
    setenv("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "6", 1);
    setenv("OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT", "7", 1);
    setenv("OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4096", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.span_limits.attribute_count, 64);
    assert_int_equal(o.span_limits.attribute_value_length, 256);
    assert_int_equal(o.span_limits.event_count, 10);
    assert_int_equal(o.span_limits.link_count, 0);
    assert_int_equal(o.span_limits.attributes_per_event, 5);
    assert_int_equal(o.span_limits.attributes_per_link, 6);
    assert_int_equal(o.log_limits.attribute_count, 7);
    assert_int_equal(o.log_limits.attribute_value_length, 4096);
}

static void test_bad_limits(void **state)
{
    otelc_options_t o;

    (void)state;
    load_rejected(&o, "OTEL_ATTRIBUTE_COUNT_LIMIT", "-1");
    assert_int_equal(o.span_limits.attribute_count, 128);
    assert_int_equal(o.log_limits.attribute_count, 128);
    load_rejected(&o, "OTEL_SPAN_EVENT_COUNT_LIMIT", "lots");
    assert_int_equal(o.span_limits.event_count, 128);
    load_rejected(&o, "OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT", "1k");
    assert_int_equal(o.log_limits.attribute_value_length, UINT32_MAX);
}

/* ---- sampler ------------------------------------------------------------- */

static void test_sampler_names(void **state)
{
    static const struct {
        const char *name;
        otelc_sampler_kind_t kind;
    } cases[] = {
        { "always_on", OTELC_SAMPLER_ALWAYS_ON },
        { "always_off", OTELC_SAMPLER_ALWAYS_OFF },
        { "traceidratio", OTELC_SAMPLER_TRACEIDRATIO },
        { "parentbased_always_on", OTELC_SAMPLER_PARENTBASED_ALWAYS_ON },
        { "parentbased_always_off", OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF },
        { "parentbased_traceidratio", OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO },
        { "ALWAYS_OFF", OTELC_SAMPLER_ALWAYS_OFF },
        { "ParentBased_TraceIdRatio", OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO },
    };
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("OTEL_TRACES_SAMPLER", cases[i].name, 1);
        load(&o, OTELC_OK, 0);
        assert_int_equal(o.sampler, cases[i].kind);
    }
}

static void test_sampler_unknown(void **state)
{
    static const char *const bad[] = { "jaeger_remote", "parentbased_jaeger_remote",
                                       "xray",          "custom",
                                       "always",        "always_on,always_off" };
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load_rejected(&o, "OTEL_TRACES_SAMPLER", bad[i]);
        assert_int_equal(o.sampler, OTELC_SAMPLER_PARENTBASED_ALWAYS_ON);
    }
}

static void test_sampler_arg(void **state)
{
    static const struct {
        const char *text;
        double value;
    } good[] = {
        { "0", 0.0 },       { "1", 1.0 },     { "1.0", 1.0 },    { "0.25", 0.25 },
        { ".5", 0.5 },      { "0.", 0.0 },    { "5e-1", 0.5 },   { "25E-2", 0.25 },
        { "0.125", 0.125 }, { "000.5", 0.5 }, { "0.0000", 0.0 }, { "1e0", 1.0 },
    };
    static const char *const bad[] = { "1.5", "-0.1", "+0.5", "abc", "0.5x", "nan", "inf",
                                       ".",   "e-1",  "1e",   "0,5", "2",    "1e1" };
    otelc_options_t o;

    (void)state;
    setenv("OTEL_TRACES_SAMPLER", "traceidratio", 1);
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        setenv("OTEL_TRACES_SAMPLER_ARG", good[i].text, 1);
        load(&o, OTELC_OK, 0);
        assert_true(o.sampler_ratio == good[i].value);
        assert_int_equal(o.sampler, OTELC_SAMPLER_TRACEIDRATIO);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load_rejected(&o, "OTEL_TRACES_SAMPLER_ARG", bad[i]);
        assert_true(o.sampler_ratio == 1.0);
    }
    /* 0.1 is not exact in binary; the parse is within an ulp or two. */
    setenv("OTEL_TRACES_SAMPLER_ARG", "0.1", 1);
    load(&o, OTELC_OK, 0);
    assert_true(o.sampler_ratio > 0.1 - 1e-15 && o.sampler_ratio < 0.1 + 1e-15);
}

/* ---- propagators --------------------------------------------------------- */

static void test_propagators(void **state)
{
    static const struct {
        const char *text;
        unsigned set;
    } cases[] = {
        { "tracecontext", OTELC_PROPAGATOR_TRACECONTEXT },
        { "baggage", OTELC_PROPAGATOR_BAGGAGE },
        { "b3", OTELC_PROPAGATOR_B3 },
        { "b3multi", OTELC_PROPAGATOR_B3MULTI },
        { "b3,b3multi", OTELC_PROPAGATOR_B3 | OTELC_PROPAGATOR_B3MULTI },
        { " Baggage , tracecontext,tracecontext",
          OTELC_PROPAGATOR_BAGGAGE | OTELC_PROPAGATOR_TRACECONTEXT },
        { "none", 0 },
        { "NONE", 0 },
        { "none,b3", OTELC_PROPAGATOR_B3 },
        { "tracecontext,,baggage,", OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE },
    };
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("OTEL_PROPAGATORS", cases[i].text, 1);
        load(&o, OTELC_OK, 0);
        assert_int_equal(o.propagators, cases[i].set);
    }
}

static void test_propagators_unknown(void **state)
{
    otelc_options_t o;

    (void)state;
    /* Unknown names are skipped, known ones kept, one line for all. */
    load_rejected(&o, "OTEL_PROPAGATORS", "tracecontext,jaeger,xray,baggage,ottrace");
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE);
    load_rejected(&o, "OTEL_PROPAGATORS", "b3,jaeger");
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_B3);
    /* Nothing usable at all: the default stays. */
    load_rejected(&o, "OTEL_PROPAGATORS", "jaeger");
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE);
    load_rejected(&o, "OTEL_PROPAGATORS", "xray,ottrace");
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE);
}

/* ---- buffers ------------------------------------------------------------- */

static void test_overflow_and_block_timeout(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_OVERFLOW", "block", 1);
    setenv("OTELC_BLOCK_TIMEOUT_MS", "5", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.overflow, OTELC_OVERFLOW_BLOCK);
    assert_int_equal(o.block_timeout_ms, 5);
    setenv("OTELC_OVERFLOW", "DROP", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.overflow, OTELC_OVERFLOW_DROP);

    load_rejected(&o, "OTELC_OVERFLOW", "wait");
    assert_int_equal(o.overflow, OTELC_OVERFLOW_DROP);
    load_rejected(&o, "OTELC_BLOCK_TIMEOUT_MS", "1.5");
    assert_int_equal(o.block_timeout_ms, 100);
}

static void test_ring_size(void **state)
{
    static const struct {
        const char *text;
        uint32_t bytes;
    } good[] = {
        { "4096", 4096 },
        { "4k", 4096 },
        { "64K", 65536 },
        { "1m", 1048576 },
        { "16M", 16777216 },
        { "1024M", 1073741824u },
        { "1073741824", 1073741824u },
        { "1048576k", 1073741824u },
        { "0", 0 },
        /* As a size reads everywhere (OTELC_FILE_MAX_SIZE, the config file). */
        { "1G", 1073741824u },
        { "4 k", 4096 },
        { "4096b", 4096 },
        { "64KiB", 65536 },
    };
    static const char *const bad[] = {
        "4095", "2048", "3k",  "6144",         "2048M",  "2147483648",
        "k",    "12kk", "-4k", "99999999999k", "0x1000", "2G",
    };
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        setenv("OTELC_RING_SIZE", good[i].text, 1);
        load(&o, OTELC_OK, 0);
        assert_int_equal(o.ring_size, good[i].bytes);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        load_rejected(&o, "OTELC_RING_SIZE", bad[i]);
        assert_int_equal(o.ring_size, 0);
    }
}

/* ---- levels -------------------------------------------------------------- */

static void test_parse_level(void **state)
{
    static const struct {
        const char *text;
        int level;
    } good[] = {
        { "TRACE", 1 },  { "debug", 5 },     { "Info", 9 },   { "WARN", 13 },   { "warning", 13 },
        { "ERROR", 17 }, { "critical", 21 }, { "FATAL", 21 }, { "off", 25 },    { "1", 1 },
        { "24", 24 },    { "10", 10 },       { " info ", 9 }, { "\tWARN", 13 },
    };
    static const char *const bad[] = { "",   " ",   "0",     "25",      "100", "-1",
                                       "+9", "INF", "INFOO", "verbose", "9x",  "OFF2" };
    int level;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        level = -7;
        assert_true(otelc__parse_level(good[i].text, &level));
        assert_int_equal(level, good[i].level);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        level = -7;
        assert_false(otelc__parse_level(bad[i], &level));
        assert_int_equal(level, -7);
    }
    assert_false(otelc__parse_level(NULL, &level));
    assert_false(otelc__parse_level("INFO", NULL));
}

static void test_levels_from_env(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_LEVEL", "debug", 1);
    setenv("OTELC_CONSOLE_LEVEL", "WARNING", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.level, OTELC_SEV_DEBUG);
    assert_int_equal(o.console_level, OTELC_SEV_WARN);
    setenv("OTELC_LEVEL", "off", 1);
    setenv("OTELC_CONSOLE_LEVEL", "18", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.level, OTELC_SEV_OFF);
    assert_int_equal(o.console_level, 18);

    load_rejected(&o, "OTELC_LEVEL", "verbose");
    assert_int_equal(o.level, OTELC_SEV_INFO);
    load_rejected(&o, "OTELC_CONSOLE_LEVEL", "0");
    assert_int_equal(o.console_level, 1);
}

static void test_logger_levels_from_env(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_LOGGER_LEVELS", "trading=DEBUG, trading.risk=WARNING", 1);
    load(&o, OTELC_OK, 0);
    assert_string_equal(o.logger_levels, "trading=DEBUG, trading.risk=WARNING");

    /* Bad items: reported in one line, the good ones kept. */
    load_rejected(&o, "OTELC_LOGGER_LEVELS", "trading=DEBUG,market=LOUD,=INFO,risk");
    setenv("OTELC_LOGGER_LEVELS", "trading=DEBUG,market=LOUD", 1);
    load(&o, OTELC_ERR_INVALID, 1);
    assert_string_equal(o.logger_levels, "trading=DEBUG");
    assert_int_equal(otelc__logger_level_for(o.logger_levels, "trading.x", 9), OTELC_SEV_DEBUG);
    assert_int_equal(otelc__logger_level_for(o.logger_levels, "market", 9), 9);
}

static void test_logger_level_for(void **state)
{
    const char *rules = "trading=DEBUG,trading.risk=WARNING, market_data = ERROR ,audit=2";

    (void)state;
    assert_int_equal(otelc__logger_level_for(rules, "trading", 9), 5);
    assert_int_equal(otelc__logger_level_for(rules, "trading.signals", 9), 5);
    assert_int_equal(otelc__logger_level_for(rules, "trading.risk", 9), 13);
    assert_int_equal(otelc__logger_level_for(rules, "trading.risk.limits", 9), 13);
    /* "trading.risk" is not a prefix of "trading.riskless" at a dot. */
    assert_int_equal(otelc__logger_level_for(rules, "trading.riskless", 9), 5);
    assert_int_equal(otelc__logger_level_for(rules, "tradingdesk", 9), 9);
    assert_int_equal(otelc__logger_level_for(rules, "tradin", 9), 9);
    assert_int_equal(otelc__logger_level_for(rules, "market_data.fx", 9), 17);
    assert_int_equal(otelc__logger_level_for(rules, "audit", 9), 2);
    assert_int_equal(otelc__logger_level_for(rules, "other", 11), 11);
    assert_int_equal(otelc__logger_level_for(rules, "", 11), 11);

    /* The longest prefix wins whatever the order of the items. */
    assert_int_equal(otelc__logger_level_for("a.b.c=ERROR,a=TRACE,a.b=INFO", "a.b.c.d", 0), 17);
    assert_int_equal(otelc__logger_level_for("a.b.c=ERROR,a=TRACE,a.b=INFO", "a.b.x", 0), 9);
    /* Among equal prefixes, the last item. */
    assert_int_equal(otelc__logger_level_for("a=DEBUG,a=ERROR", "a", 0), 17);
    /* Invalid items are skipped, the others still apply. */
    assert_int_equal(otelc__logger_level_for("a.b=LOUD,a=WARN,,=INFO,junk", "a.b", 0), 13);
    assert_int_equal(otelc__logger_level_for("a=OFF", "a.b", 9), OTELC_SEV_OFF);
    assert_int_equal(otelc__logger_level_for("", "a", 9), 9);
    assert_int_equal(otelc__logger_level_for(NULL, "a", 9), 9);
    assert_int_equal(otelc__logger_level_for("a=DEBUG", NULL, 9), 9);
}

static void test_console_color(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_CONSOLE_COLOR", "always", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.console_color, 1);
    setenv("OTELC_CONSOLE_COLOR", "Never", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.console_color, 0);
    setenv("OTELC_CONSOLE_COLOR", "AUTO", 1);
    load(&o, OTELC_OK, 0);
    assert_int_equal(o.console_color, -1);
    load_rejected(&o, "OTELC_CONSOLE_COLOR", "yes");
    assert_int_equal(o.console_color, -1);
}

/* ---- masking ------------------------------------------------------------- */

static void test_mask_keys_from_env(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTELC_MASK_KEYS", "ssn,card_number", 1);
    load(&o, OTELC_OK, 0);
    assert_string_equal(o.mask_keys, "ssn,card_number");
    /* "none" is how the environment says "mask nothing". */
    setenv("OTELC_MASK_KEYS", "None", 1);
    load(&o, OTELC_OK, 0);
    assert_non_null(o.mask_keys);
    assert_string_equal(o.mask_keys, "");
}

static void test_mask_key_match(void **state)
{
    static const char *const defaults[] = { "api_key",     "api_secret",    "password",
                                            "token",       "secret",        "credentials",
                                            "private_key", "encryption_key" };

    (void)state;
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        assert_true(otelc__mask_key_match(NULL, defaults[i], OTELC_NUL_TERMINATED));
    assert_true(otelc__mask_key_match(NULL, "PASSWORD", OTELC_NUL_TERMINATED));
    assert_true(otelc__mask_key_match(NULL, "Api_Key", 7));
    /* Exact match only: no substrings, no prefixes. */
    assert_false(otelc__mask_key_match(NULL, "password_hint", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match(NULL, "pass", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match(NULL, "tokens", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match(NULL, "user", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match(NULL, "", OTELC_NUL_TERMINATED));
    /* key_len counts: "tokenizer" cut at 5 is "token". */
    assert_true(otelc__mask_key_match(NULL, "tokenizer", 5));
    assert_false(otelc__mask_key_match(NULL, "tokenizer", 9));

    assert_true(otelc__mask_key_match(" ssn , Card_Number", "card_number", OTELC_NUL_TERMINATED));
    assert_true(otelc__mask_key_match(" ssn , Card_Number", "SSN", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match(" ssn , Card_Number", "password", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match("", "password", OTELC_NUL_TERMINATED));
    assert_false(otelc__mask_key_match("a,,b", "", 0));
    assert_false(otelc__mask_key_match(NULL, NULL, 0));
}

/* ---- diagnostics --------------------------------------------------------- */

static void test_log_level(void **state)
{
    static const struct {
        const char *text;
        int level;
    } cases[] = {
        { "none", OTELC_DIAG_NONE }, { "error", OTELC_DIAG_ERROR }, { "WARN", OTELC_DIAG_WARN },
        { "info", OTELC_DIAG_INFO }, { "Debug", OTELC_DIAG_DEBUG },
    };
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("OTEL_LOG_LEVEL", cases[i].text, 1);
        load(&o, OTELC_OK, 0);
        assert_int_equal(o.diag_level, cases[i].level);
        assert_int_equal(otelc__diag_level(), cases[i].level);
    }
    load_rejected(&o, "OTEL_LOG_LEVEL", "loud");
    assert_int_equal(o.diag_level, OTELC_DIAG_WARN);
}

/* OTEL_LOG_LEVEL=none silences the reports, not the status. */
static void test_log_level_none_silences_reports(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_LOG_LEVEL", "none", 1);
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "many", 1);
    setenv("OTELC_LEVEL", "loud", 1);
    load(&o, OTELC_ERR_INVALID, 0);
    assert_int_equal(o.spans_batch.max_queue_size, 2048);
    assert_int_equal(o.level, OTELC_SEV_INFO);
}

/* Several bad variables at once: one line each, everything else still read. */
static void test_one_line_per_bad_variable(void **state)
{
    otelc_options_t o;

    (void)state;
    setenv("OTEL_SDK_DISABLED", "maybe", 1);
    setenv("OTEL_BSP_SCHEDULE_DELAY", "5s", 1);
    setenv("OTEL_BLRP_MAX_QUEUE_SIZE", "-1", 1);
    setenv("OTEL_TRACES_SAMPLER", "jaeger_remote", 1);
    setenv("OTEL_TRACES_SAMPLER_ARG", "2", 1);
    setenv("OTEL_PROPAGATORS", "xray,b3", 1);
    setenv("OTELC_RING_SIZE", "5000", 1);
    setenv("OTELC_CONSOLE_COLOR", "rainbow", 1);
    /* Good values among them are taken. */
    setenv("OTEL_SERVICE_NAME", "svc", 1);
    setenv("OTELC_LEVEL", "ERROR", 1);
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "4096", 1);
    load(&o, OTELC_ERR_INVALID, 8);
    assert_string_equal(o.service_name, "svc");
    assert_int_equal(o.level, OTELC_SEV_ERROR);
    assert_int_equal(o.spans_batch.max_queue_size, 4096);
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_B3);
    assert_int_equal(o.spans_batch.schedule_delay_ms, 5000);
    assert_int_equal(o.ring_size, 0);

    /* Read again within the rate-limit window: the status is the same, the
     * lines are not repeated. */
    assert_int_equal(otelc_options_init(&o), OTELC_ERR_INVALID);
    assert_int_equal(otelc__diag_count(), 8);
}

/* The environment overlays the program's values and keeps them on errors. */
static void test_overlay_keeps_program_values(void **state)
{
    otelc_options_t o;

    (void)state;
    otelc_options_default(&o);
    o.spans_batch.max_queue_size = 10;
    o.spans_batch.max_export_batch_size = 10;
    o.level = OTELC_SEV_WARN;
    o.service_name = "from-program";
    setenv("OTEL_BSP_MAX_QUEUE_SIZE", "ten", 1);
    setenv("OTELC_LEVEL", "DEBUG", 1);
    otelc__diag_reset();
    assert_int_equal(otelc_options_from_env(&o), OTELC_ERR_INVALID);
    assert_int_equal(otelc__diag_count(), 1);
    assert_int_equal(o.spans_batch.max_queue_size, 10);
    assert_int_equal(o.spans_batch.max_export_batch_size, 10);
    assert_int_equal(o.level, OTELC_SEV_DEBUG);
    assert_string_equal(o.service_name, "from-program");
}

/* ---- the file exporter's variables --------------------------------------- */

static void test_file_defaults_and_env(void **state)
{
    otelc_options_t o;

    (void)state;
    load(&o, OTELC_OK, 0);
    assert_string_equal(otelc_file_options(&o)->directory, "logs");
    assert_int_equal(otelc_file_options(&o)->format, OTELC_FILE_FORMAT_FLAT);
    assert_int_equal(otelc_file_options(&o)->level, OTELC_SEV_TRACE);
    assert_int_equal(otelc_file_options(&o)->max_bytes, 10u * 1024 * 1024);
    assert_int_equal(otelc_file_options(&o)->max_files, 5);
    assert_true(otelc_file_options(&o)->rotate_daily);
    assert_int_equal(otelc_file_options(&o)->retention_days, 30);
    assert_false(otelc_file_options(&o)->compress);
    assert_null(otelc_file_options(&o)->channels);
    assert_null(otelc_file_options(&o)->channel_routes);

    setenv("OTELC_FILE_DIR", "/var/log/gateway", 1);
    setenv("OTELC_FILE_FORMAT", " OTLP ", 1);
    setenv("OTELC_FILE_LEVEL", "warning", 1);
    setenv("OTELC_FILE_MAX_SIZE", "64 MiB", 1);
    setenv("OTELC_FILE_MAX_FILES", "9", 1);
    setenv("OTELC_FILE_ROTATE_DAILY", "false", 1);
    setenv("OTELC_FILE_RETENTION_DAYS", "0", 1);
    setenv("OTELC_FILE_COMPRESS", "1", 1);
    setenv("OTELC_FILE_CHANNELS", "fills=fills|exchange", 1);
    setenv("OTELC_FILE_CHANNEL_LEVELS", "database=WARNING", 1);
    setenv("OTELC_FILE_CHANNEL_RETENTION", "audit=3650", 1);
    load(&o, OTELC_OK, 0);
    assert_string_equal(otelc_file_options(&o)->directory, "/var/log/gateway");
    assert_int_equal(otelc_file_options(&o)->format, OTELC_FILE_FORMAT_OTLP);
    assert_int_equal(otelc_file_options(&o)->level, OTELC_SEV_WARN);
    assert_int_equal(otelc_file_options(&o)->max_bytes, 64u * 1024 * 1024);
    assert_int_equal(otelc_file_options(&o)->max_files, 9);
    assert_false(otelc_file_options(&o)->rotate_daily);
    assert_int_equal(otelc_file_options(&o)->retention_days, 0);
    assert_true(otelc_file_options(&o)->compress);
    assert_string_equal(otelc_file_options(&o)->channel_routes, "fills=fills|exchange");
    assert_string_equal(otelc_file_options(&o)->channel_levels, "database=WARNING");
    assert_string_equal(otelc_file_options(&o)->channel_retention, "audit=3650");
}

static void test_file_sizes(void **state)
{
    static const struct {
        const char *text;
        uint64_t bytes;
    } good[] = { { "0", 0 },           { "4096", 4096 },    { "512k", 512u * 1024 },
                 { "512KB", 524288 },  { "10m", 10485760 }, { "10 MiB", 10485760 },
                 { "1g", 1073741824 }, { " 2G ", 2147483648u } };
    static const char *const bad[] = { "", "m", "-1", "1.5m", "10mb2", "10t", "0x10",
                                       "99999999999999999999" };
    uint64_t v;
    otelc_options_t o;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        v = 12345;
        assert_true(otelc__parse_size(good[i].text, &v));
        assert_int_equal(v, good[i].bytes);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 12345;
        assert_false(otelc__parse_size(bad[i], &v));
        assert_int_equal(v, 12345);
    }
    assert_false(otelc__parse_size(NULL, &v));
    /* A rejected variable keeps the default, in one reported line. */
    load_rejected(&o, "OTELC_FILE_MAX_SIZE", "ten megabytes");
    assert_int_equal(otelc_file_options(&o)->max_bytes, 10u * 1024 * 1024);
    load_rejected(&o, "OTELC_FILE_FORMAT", "xml");
    assert_int_equal(otelc_file_options(&o)->format, OTELC_FILE_FORMAT_FLAT);
    load_rejected(&o, "OTELC_FILE_MAX_FILES", "0");
    assert_int_equal(otelc_file_options(&o)->max_files, 5);
    load_rejected(&o, "OTELC_FILE_COMPRESS", "yes please");
    assert_false(otelc_file_options(&o)->compress);
}

#define T(f) cmocka_unit_test_setup_teardown(f, clean_env, clean_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults),
        T(test_null_arguments),
        T(test_empty_environment_gives_defaults),
        T(test_empty_values_are_unset),
        T(test_strings_point_into_environment),
        T(test_resource_attributes_checked),
        T(test_sdk_disabled),
        T(test_stats),
        T(test_batch_values),
        T(test_integer_syntax_rejected),
        T(test_batch_clamped_to_queue),
        T(test_general_limits),
        T(test_specific_limits_win),
        T(test_bad_limits),
        T(test_sampler_names),
        T(test_sampler_unknown),
        T(test_sampler_arg),
        T(test_propagators),
        T(test_propagators_unknown),
        T(test_overflow_and_block_timeout),
        T(test_ring_size),
        T(test_parse_level),
        T(test_levels_from_env),
        T(test_logger_levels_from_env),
        T(test_logger_level_for),
        T(test_console_color),
        T(test_mask_keys_from_env),
        T(test_mask_key_match),
        T(test_log_level),
        T(test_log_level_none_silences_reports),
        T(test_one_line_per_bad_variable),
        T(test_overlay_keeps_program_values),
        T(test_file_defaults_and_env),
        T(test_file_sizes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
