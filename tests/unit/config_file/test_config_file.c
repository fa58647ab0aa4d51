/*
 * test_config_file.c: the YAML configuration file (OTEL_CONFIG_FILE,
 * ./otelc.yaml) as otelc_options_init() reads it.
 *
 * Every test writes its YAML into a temporary directory, starts from a clean
 * environment and a fresh diagnostic state, and captures stderr, so that
 * the reports can be checked word for word (file name and line). A build
 * without libyaml skips everything.
 */
#include <setjmp.h>
#include <otelc/file.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_file.h"
#include "config_int.h"
#include "diag.h"
#include "pipeline.h"
#include "resource.h"

#include <otelc/otelc.h>

/* The variables these tests set or that would change what they check. */
static const char *const all_vars[] = {
    "OTEL_CONFIG_FILE",
    "OTEL_SDK_DISABLED",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
    "OTELC_SERVICE_VERSION",
    "OTEL_TRACES_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_BSP_SCHEDULE_DELAY",
    "OTEL_BSP_MAX_QUEUE_SIZE",
    "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    "OTEL_BLRP_SCHEDULE_DELAY",
    "OTEL_ATTRIBUTE_COUNT_LIMIT",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "OTEL_PROPAGATORS",
    "OTELC_LEVEL",
    "OTELC_LOGGER_LEVELS",
    "OTELC_MASK_KEYS",
    "OTELC_FILE_DIR",
    "OTELC_STATS",
    "OTEL_LOG_LEVEL",
    "TCF_NAME",
    "TCF_EMPTY",
    "TCF_DELAY",
    "TCF_UNSET",
    "TCF_REF",
    "DEPLOY_ENV",
    "HOSTNAME",
    "LOG_DIR",
};

static char tmpdir[256];
static char cwd[4096];
static bool yaml_built = true;

/* ---- helpers ------------------------------------------------------------- */

#include "capture_stderr.h"

/* Writes `text` to <tmpdir>/<name> and returns the path (static buffer,
 * one per call site is enough: tests use it before the next write). */
static const char *write_file(const char *name, const char *text)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Loads `yaml` through OTEL_CONFIG_FILE; returns the status and what was
 * printed. */
static otelc_status_t load_text(const char *yaml, otelc_options_t *o, const char **out)
{
    otelc_status_t st;

    setenv("OTEL_CONFIG_FILE", write_file("test.yaml", yaml), 1);
    otelc__diag_reset();
    capture_begin();
    st = otelc_options_init(o);
    *out = capture_end();
    return st;
}

/* Loads `yaml` and requires it to be taken without a word. */
static void load_clean(const char *yaml, otelc_options_t *o)
{
    const char *out;

    assert_int_equal(load_text(yaml, o, &out), OTELC_OK);
    assert_string_equal(out, "");
    assert_non_null(o->config_file);
}

static unsigned count_lines(const char *s)
{
    unsigned n = 0;

    for (; *s != '\0'; s++)
        n += *s == '\n';
    return n;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(all_vars) / sizeof(all_vars[0]); i++)
        unsetenv(all_vars[i]);
    otelc__diag_set_level(OTELC_DIAG_WARN);
    otelc__diag_reset();
    return 0;
}

static int group_setup(void **state)
{
    bool applied;
    otelc_options_t o;

    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "%s/otelc-config-file-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return -1;
    otelc_options_default(&o);
    otelc__diag_set_level(OTELC_DIAG_NONE);
    yaml_built =
        otelc__config_file_load("/nonexistent", true, &o, &applied) != OTELC_ERR_UNSUPPORTED;
    otelc__diag_set_level(OTELC_DIAG_WARN);
    return 0;
}

static int group_teardown(void **state)
{
    char cmd[600];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

#define REQUIRE_YAML()                                                                             \
    do {                                                                                           \
        if (!yaml_built)                                                                           \
            skip();                                                                                \
    } while (0)

/* ---- every key lands in its field ---------------------------------------- */

static const char every_key[] =
    "file_format: \"1.0\"\n"
    "disabled: true\n"
    "log_level: warn\n"
    "resource:\n"
    "  attributes:\n"
    "    - name: service.name\n"
    "      value: order-gateway\n"
    "    - name: service.version\n"
    "      value: \"1.2.3\"\n"
    "    - {name: region, value: \"eu,west=1%\"}\n"
    "    - {name: replicas, value: 3, type: int}\n"
    "    - {name: canary, value: true, type: bool}\n"
    "  attributes_list: \"team=core,service.namespace=trading\"\n"
    "attribute_limits:\n"
    "  attribute_value_length_limit: 1000\n"
    "  attribute_count_limit: 64\n"
    "propagator:\n"
    "  composite: [{tracecontext: }, {b3: }]\n"
    "  composite_list: \"b3multi, tracecontext\"\n"
    "tracer_provider:\n"
    "  processors:\n"
    "    - batch:\n"
    "        schedule_delay: 250\n"
    "        export_timeout: 7000\n"
    "        max_queue_size: 4096\n"
    "        max_export_batch_size: 1024\n"
    "        exporter: {console: }\n"
    "    - batch:\n"
    "        exporter:\n"
    "          otlp_http:\n"
    "            endpoint: http://collector:4318/v1/traces\n"
    "            tls: {ca_file: /etc/ca.pem}\n"
    "            headers: [{name: api-key, value: secret}]\n"
    "            headers_list: \"a=b\"\n"
    "            compression: gzip\n"
    "            timeout: 5000\n"
    "            encoding: protobuf\n"
    "    - batch: {exporter: {otlp_grpc: {endpoint: \"http://c:4317\", tls: {insecure: true}}}}\n"
    "    - batch: {exporter: {file: }}\n"
    "  limits:\n"
    "    attribute_value_length_limit: 500\n"
    "    attribute_count_limit: 32\n"
    "    event_count_limit: 10\n"
    "    link_count_limit: 11\n"
    "    event_attribute_count_limit: 12\n"
    "    link_attribute_count_limit: 13\n"
    "  sampler:\n"
    "    parent_based:\n"
    "      root: {trace_id_ratio_based: {ratio: 0.25}}\n"
    "      remote_parent_sampled: {always_on: }\n"
    "      remote_parent_not_sampled: {always_off: }\n"
    "logger_provider:\n"
    "  processors:\n"
    "    - simple: {exporter: {file: {}}}\n"
    "    - batch:\n"
    "        export_timeout: 9000\n"
    "        max_queue_size: 100\n"
    "        exporter: {console: }\n"
    "  limits: {attribute_value_length_limit: 300, attribute_count_limit: 20}\n"
    "otelc:\n"
    "  level: DEBUG\n"
    "  loggers: {trading: DEBUG, trading.risk: WARNING}\n"
    "  mask_keys: [api_key, pin]\n"
    "  overflow: block\n"
    "  block_timeout_ms: 50\n"
    "  ring_size: 64KiB\n"
    "  stats: true\n"
    "  console: {level: WARNING, color: never}\n"
    "  file:\n"
    "    directory: /var/log/gw\n"
    "    format: otlp\n"
    "    level: INFO\n"
    "    rotation: {max_size: 1MB, max_files: 3, daily: false}\n"
    "    retention_days: 9\n"
    "    compress: true\n"
    "    channels:\n"
    "      trading: {loggers: [strategy, order], level: INFO, retention_days: 60}\n"
    "      audit: {loggers: \"audit, compliance\", retention_days: 365}\n"
    "      database: {level: WARNING}\n"
    "      fills:\n";

static void every_key_lands(void **state)
{
    otelc_options_t o;

    (void)state;
    REQUIRE_YAML();
    load_clean(every_key, &o);

    assert_true(o.disabled);
    assert_int_equal(o.diag_level, OTELC_DIAG_WARN);
    assert_string_equal(o.service_name, "order-gateway");
    assert_string_equal(o.service_version, "1.2.3");
    /* attributes_list first, then the string attributes, encoded for the
     * OTEL_RESOURCE_ATTRIBUTES format the resource builder reads; typed
     * values keep their type. */
    assert_string_equal(o.resource_attributes, "team=core,service.namespace=trading,"
                                               "region=eu%2Cwest%3D1%25");
    assert_null(otelc__resource_attributes_error(o.resource_attributes));
    assert_int_equal(o.n_resource_attrs, 2);
    assert_string_equal(o.resource_attrs[0].key, "replicas");
    assert_int_equal(o.resource_attrs[0].type, OTELC_ATTR_INT);
    assert_int_equal(o.resource_attrs[0].v.i, 3);
    assert_string_equal(o.resource_attrs[1].key, "canary");
    assert_int_equal(o.resource_attrs[1].type, OTELC_ATTR_BOOL);
    assert_true(o.resource_attrs[1].v.b);

    /* tracer_provider.limits override attribute_limits; logs take the
     * general ones unless logger_provider.limits says otherwise. */
    assert_int_equal(o.span_limits.attribute_value_length, 500);
    assert_int_equal(o.span_limits.attribute_count, 32);
    assert_int_equal(o.span_limits.event_count, 10);
    assert_int_equal(o.span_limits.link_count, 11);
    assert_int_equal(o.span_limits.attributes_per_event, 12);
    assert_int_equal(o.span_limits.attributes_per_link, 13);
    assert_int_equal(o.log_limits.attribute_value_length, 300);
    assert_int_equal(o.log_limits.attribute_count, 20);

    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_B3 |
                                        OTELC_PROPAGATOR_B3MULTI);

    assert_string_equal(o.traces_exporter, "console,otlp,file");
    assert_int_equal(o.spans_batch.schedule_delay_ms, 250);
    assert_int_equal(o.spans_batch.export_timeout_ms, 7000);
    assert_int_equal(o.spans_batch.max_queue_size, 4096);
    assert_int_equal(o.spans_batch.max_export_batch_size, 1024);
    assert_int_equal(o.sampler, OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_true(o.sampler_ratio == 0.25);

    /* A simple processor is a schedule delay of 0; the batch size is cut to
     * the queue size it may not exceed. */
    assert_string_equal(o.logs_exporter, "file,console");
    assert_int_equal(o.logs_batch.schedule_delay_ms, 0);
    assert_int_equal(o.logs_batch.export_timeout_ms, 9000);
    assert_int_equal(o.logs_batch.max_queue_size, 100);
    assert_int_equal(o.logs_batch.max_export_batch_size, 100);

    assert_int_equal(o.level, OTELC_SEV_DEBUG);
    assert_string_equal(o.logger_levels, "trading=DEBUG,trading.risk=WARNING");
    assert_int_equal(otelc__logger_level_for(o.logger_levels, "trading.risk.limits", 9), 13);
    assert_string_equal(o.mask_keys, "api_key,pin");
    assert_int_equal(o.overflow, OTELC_OVERFLOW_BLOCK);
    assert_int_equal(o.block_timeout_ms, 50);
    assert_int_equal(o.ring_size, 65536);
    assert_true(o.print_stats);
    assert_int_equal(o.console_level, OTELC_SEV_WARN);
    assert_int_equal(o.console_color, 0);

    assert_string_equal(otelc_file_options(&o)->directory, "/var/log/gw");
    assert_int_equal(otelc_file_options(&o)->format, OTELC_FILE_FORMAT_OTLP);
    assert_int_equal(otelc_file_options(&o)->level, OTELC_SEV_INFO);
    assert_int_equal(otelc_file_options(&o)->max_bytes, 1024 * 1024);
    assert_int_equal(otelc_file_options(&o)->max_files, 3);
    assert_false(otelc_file_options(&o)->rotate_daily);
    assert_int_equal(otelc_file_options(&o)->retention_days, 9);
    assert_true(otelc_file_options(&o)->compress);
    /* The channels become the per-channel lists the environment also
     * gives (OTELC_FILE_CHANNELS, ..._LEVELS, ..._RETENTION); a channel
     * with nothing set (fills) adds nothing. */
    assert_int_equal(otelc_file_options(&o)->n_channels, 0);
    assert_string_equal(otelc_file_options(&o)->channel_routes,
                        "trading=strategy|order,audit=audit|compliance");
    assert_string_equal(otelc_file_options(&o)->channel_levels, "trading=INFO,database=WARNING");
    assert_string_equal(otelc_file_options(&o)->channel_retention, "trading=60,audit=365");
}

/* Sections the file leaves out keep otelc's defaults. */
static void omitted_keys_keep_defaults(void **state)
{
    otelc_options_t o, d;

    (void)state;
    REQUIRE_YAML();
    otelc_options_default(&d);
    load_clean("file_format: \"1.0\"\notelc: {level: ERROR}\n", &o);
    assert_int_equal(o.level, OTELC_SEV_ERROR);
    assert_null(o.service_name);
    assert_null(o.resource_attributes);
    assert_string_equal(o.traces_exporter, d.traces_exporter);
    assert_string_equal(o.logs_exporter, d.logs_exporter);
    assert_int_equal(o.propagators, d.propagators);
    assert_int_equal(o.sampler, d.sampler);
    assert_memory_equal(&o.spans_batch, &d.spans_batch, sizeof(d.spans_batch));
    assert_memory_equal(&o.logs_batch, &d.logs_batch, sizeof(d.logs_batch));
    assert_memory_equal(&o.span_limits, &d.span_limits, sizeof(d.span_limits));
    assert_memory_equal(&o.log_limits, &d.log_limits, sizeof(d.log_limits));
    assert_string_equal(otelc_file_options(&o)->directory, otelc_file_options(&d)->directory);
    assert_int_equal(otelc_file_options(&o)->n_channels, 0);
    assert_null(o.mask_keys);
    assert_null(o.logger_levels);
}

/* ---- the other sampler and processor forms ------------------------------- */

static void samplers(void **state)
{
    static const struct {
        const char *yaml;
        otelc_sampler_kind_t kind;
        double ratio;
        unsigned lines;
    } cases[] = {
        { "{always_on: }", OTELC_SAMPLER_ALWAYS_ON, 1.0, 0 },
        { "{always_off: {}}", OTELC_SAMPLER_ALWAYS_OFF, 1.0, 0 },
        { "{trace_id_ratio_based: {ratio: 0.5}}", OTELC_SAMPLER_TRACEIDRATIO, 0.5, 0 },
        { "{trace_id_ratio_based: }", OTELC_SAMPLER_TRACEIDRATIO, 1.0, 0 },
        { "{parent_based: }", OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, 0 },
        { "{parent_based: {root: {always_off: }}}", OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF, 1.0, 0 },
        { "{parent_based: {root: {always_on: }, local_parent_not_sampled: {always_off: }}}",
          OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, 0 },
        /* Not what otelc's samplers do: reported, the default stays. */
        { "{parent_based: {root: {always_on: }, remote_parent_not_sampled: {always_on: }}}",
          OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, 1 },
        { "{parent_based: {root: {parent_based: }}}", OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, 1 },
        { "{jaeger_remote/development: {endpoint: x}}", OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0,
          1 },
        { "{trace_id_ratio_based: {ratio: 1.5}}", OTELC_SAMPLER_TRACEIDRATIO, 1.0, 1 },
        { "{always_on: , always_off: }", OTELC_SAMPLER_PARENTBASED_ALWAYS_ON, 1.0, 1 },
    };

    (void)state;
    REQUIRE_YAML();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char yaml[512];
        otelc_options_t o;
        const char *out;

        snprintf(yaml, sizeof(yaml), "file_format: \"1.0\"\ntracer_provider:\n  sampler: %s\n",
                 cases[i].yaml);
        (void)load_text(yaml, &o, &out);
        print_message("%s\n", cases[i].yaml);
        assert_int_equal(count_lines(out), cases[i].lines);
        assert_int_equal(o.sampler, cases[i].kind);
        assert_true(o.sampler_ratio == cases[i].ratio);
    }
}

static void processors(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    /* An empty list of processors exports nothing; a provider without
     * processors keeps the default exporters. */
    load_clean("file_format: \"1.0\"\n"
               "tracer_provider: {processors: []}\n"
               "logger_provider: {limits: {attribute_count_limit: 5}}\n",
               &o);
    assert_string_equal(o.traces_exporter, "none");
    assert_string_equal(o.logs_exporter, "console");

    /* Exporter names otelc does not know go into the list as they are: the
     * pipeline reports those it cannot make. Duplicates are dropped. */
    load_clean("file_format: \"1.0\"\n"
               "logger_provider:\n"
               "  processors:\n"
               "    - batch: {exporter: {my_exporter: }}\n"
               "    - batch: {exporter: {zipkin: {endpoint: x}}}\n"
               "    - simple: {exporter: {my_exporter: }}\n",
               &o);
    assert_string_equal(o.logs_exporter, "my_exporter,zipkin");
    assert_int_equal(o.logs_batch.schedule_delay_ms, 0);

    /* Two processors that disagree: the first wins, the second is reported
     * with its line. */
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "tracer_provider:\n"
                               "  processors:\n"
                               "    - batch: {schedule_delay: 100, exporter: {console: }}\n"
                               "    - batch:\n"
                               "        schedule_delay: 200\n"
                               "        exporter: {console: }\n"
                               "    - simple: {exporter: {console: }}\n"
                               "    - batch: {max_export_batch_size: 9000, exporter: {console: }}\n"
                               "    - fancy: {exporter: {console: }}\n"
                               "    - batch: {}\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_int_equal(o.spans_batch.schedule_delay_ms, 100);
    assert_int_equal(o.spans_batch.max_export_batch_size, 2048);
    assert_string_equal(o.traces_exporter, "console");
    assert_non_null(strstr(out, "test.yaml:6: tracer_provider.processors[1].batch.schedule_delay: "
                                "otelc runs one batch processor per signal"));
    assert_non_null(strstr(out, "test.yaml:8: tracer_provider.processors[2].simple: a simple "
                                "processor means schedule_delay 0"));
    assert_non_null(strstr(out, "max_export_batch_size 9000 is larger than max_queue_size 2048"));
    assert_non_null(strstr(out, "test.yaml:10: tracer_provider.processors[4]: processor 'fancy' "
                                "is not built into otelc"));
    assert_non_null(strstr(out, "test.yaml:11: tracer_provider.processors[5].batch: a processor "
                                "needs an exporter"));
    assert_int_equal(count_lines(out), 5);
}

static void propagators(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    load_clean("file_format: \"0.3\"\npropagator: {composite: [tracecontext, baggage, b3]}\n", &o);
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE |
                                        OTELC_PROPAGATOR_B3);
    load_clean("file_format: \"1.0\"\npropagator: {composite: []}\n", &o);
    assert_int_equal(o.propagators, 0);
    load_clean("file_format: \"1.0\"\npropagator: {composite_list: none}\n", &o);
    assert_int_equal(o.propagators, 0);

    /* Unknown names are reported; with nothing usable the default stays. */
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "propagator:\n"
                               "  composite:\n"
                               "    - jaeger:\n"
                               "  composite_list: xray\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_int_equal(o.propagators, OTELC_PROPAGATOR_TRACECONTEXT | OTELC_PROPAGATOR_BAGGAGE);
    assert_non_null(strstr(out, "test.yaml:4: propagator.composite[0]: propagator 'jaeger'"));
    assert_non_null(strstr(out, "test.yaml:5: propagator.composite_list: propagator 'xray'"));
    assert_int_equal(count_lines(out), 2);
}

/* ---- ${VAR} substitution ------------------------------------------------- */

static void substitution(void **state)
{
    otelc_options_t o;

    (void)state;
    REQUIRE_YAML();
    setenv("TCF_NAME", "from-env", 1);
    setenv("TCF_EMPTY", "", 1);
    setenv("TCF_DELAY", "750", 1);
    setenv("TCF_REF", "${TCF_NAME}", 1);
    /* Block style: in a flow mapping, the braces of ${...} would end it. */
    load_clean("file_format: \"1.0\"\n"
               "resource:\n"
               "  attributes:\n"
               "    - name: service.name\n"
               "      value: \"${TCF_NAME}\"\n"
               "    - name: service.version\n"
               "      value: v-${env:TCF_NAME}-${TCF_UNSET:-dflt}\n"
               "    - name: a\n"
               "      value: \"${TCF_EMPTY:-was-empty}\"\n"
               "    - name: b\n"
               "      value: $${TCF_NAME} $$$${TCF_NAME} $$${TCF_NAME}\n"
               "    - name: c\n"
               "      value: ${TCF_REF}|${TCF_UNSET:-${TCF_NAME}}|${TCF_UNSET}|\n"
               "    - name: d\n"
               "      value: a $ b ${ c $\n"
               "tracer_provider:\n"
               "  processors:\n"
               "    - batch:\n"
               "        schedule_delay: ${TCF_DELAY}\n"
               "        export_timeout: ${TCF_UNSET}\n"
               "        exporter: {console: }\n"
               "otelc:\n"
               "  level: ${TCF_UNSET}\n"
               "  stats: ${TCF_UNSET:-true}\n"
               "  file:\n"
               "    directory: \"${TCF_UNSET}\"\n",
               &o);
    assert_string_equal(o.service_name, "from-env");
    assert_string_equal(o.service_version, "v-from-env-dflt");
    assert_string_equal(o.resource_attributes, "a=was-empty,"
                                               "b=${TCF_NAME}%20$${TCF_NAME}%20$from-env,"
                                               "c=${TCF_NAME}|${TCF_NAME}||,"
                                               "d=a%20$%20b%20${%20c%20$");
    assert_int_equal(o.spans_batch.schedule_delay_ms, 750);
    /* An unset variable without a default is null: the default stays. */
    assert_int_equal(o.spans_batch.export_timeout_ms, 30000);
    assert_int_equal(o.level, OTELC_SEV_INFO);
    assert_true(o.print_stats);
    assert_string_equal(otelc_file_options(&o)->directory, "logs");
}

/* A reference that does not match the syntax makes the whole file unusable
 * (the specification allows no partial result): reported with its line, and
 * the defaults and the environment apply. */
static void invalid_reference(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    setenv("OTEL_SERVICE_NAME", "env-name", 1);
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "resource:\n"
                               "  attributes:\n"
                               "    - {name: service.name, value: file-name}\n"
                               "otelc: {level: \"${1BAD:?x}\"}\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "test.yaml:5: invalid substitution reference '${1BAD:?x}'"));
    assert_non_null(strstr(out, "ignoring the whole file"));
    assert_int_equal(count_lines(out), 1);
    assert_string_equal(o.service_name, "env-name");
    assert_null(o.config_file);
}

/* ---- precedence ---------------------------------------------------------- */

/* With OTEL_CONFIG_FILE the other variables are not read, even where the
 * file says nothing. */
static void config_file_env_ignored(void **state)
{
    otelc_options_t o;

    (void)state;
    REQUIRE_YAML();
    setenv("OTEL_SERVICE_NAME", "env-name", 1);
    setenv("OTEL_BSP_SCHEDULE_DELAY", "1", 1);
    setenv("OTELC_LEVEL", "ERROR", 1);
    setenv("OTEL_LOG_LEVEL", "debug", 1);
    setenv("TCF_NAME", "via-substitution", 1);
    load_clean("file_format: \"1.0\"\n"
               "resource: {attributes: [{name: service.name, value: file-name}]}\n"
               "otelc: {file: {directory: \"${TCF_NAME}\"}}\n",
               &o);
    assert_string_equal(o.service_name, "file-name");
    assert_int_equal(o.spans_batch.schedule_delay_ms, 5000);
    assert_int_equal(o.level, OTELC_SEV_INFO);
    assert_int_equal(o.diag_level, OTELC_DIAG_WARN);
    assert_string_equal(otelc_file_options(&o)->directory, "via-substitution");
    assert_string_equal(o.config_file, getenv("OTEL_CONFIG_FILE"));
}

/* ./otelc.yaml, read when OTEL_CONFIG_FILE is not set, is overridden by the
 * environment. */
static void implicit_file_env_wins(void **state)
{
    otelc_options_t o;
    const char *out;
    otelc_status_t st;

    (void)state;
    REQUIRE_YAML();
    write_file("otelc.yaml", "file_format: \"1.0\"\n"
                             "resource: {attributes: [{name: service.name, value: file-name}]}\n"
                             "otelc: {level: DEBUG, stats: true}\n");
    setenv("OTEL_SERVICE_NAME", "env-name", 1);
    setenv("OTELC_STATS", "0", 1);
    assert_int_equal(chdir(tmpdir), 0);
    capture_begin();
    st = otelc_options_init(&o);
    out = capture_end();
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, OTELC_OK);
    assert_string_equal(out, "");
    assert_string_equal(o.config_file, "otelc.yaml");
    assert_string_equal(o.service_name, "env-name");
    assert_false(o.print_stats);
    assert_int_equal(o.level, OTELC_SEV_DEBUG);

    /* OTEL_LOG_LEVEL beats the implicit file's log_level, including for
     * the reports about the file itself. */
    write_file("otelc.yaml", "file_format: \"1.0\"\nlog_level: debug\nbogus: 1\n");
    setenv("OTEL_LOG_LEVEL", "none", 1);
    assert_int_equal(chdir(tmpdir), 0);
    otelc__diag_reset();
    capture_begin();
    st = otelc_options_init(&o);
    out = capture_end();
    assert_int_equal(chdir(cwd), 0);
    assert_int_equal(st, OTELC_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(o.diag_level, OTELC_DIAG_NONE);
    otelc__diag_set_level(OTELC_DIAG_WARN);

    /* No file, no OTEL_CONFIG_FILE: the environment alone. */
    assert_int_equal(chdir("/"), 0);
    st = otelc_options_init(&o);
    assert_int_equal(chdir(cwd), 0);
    assert_null(o.config_file);
    assert_string_equal(o.service_name, "env-name");
}

/* ---- problems ------------------------------------------------------------ */

static void unknown_key_and_bad_value(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "colour: blue\n"
                               "tracer_provider:\n"
                               "  processors:\n"
                               "    - batch:\n"
                               "        schedule_delay: -5\n"
                               "        max_queue_size: lots\n"
                               "        exporter: {console: }\n"
                               "otelc:\n"
                               "  level: LOUD\n"
                               "  stats: yes\n"
                               "  file:\n"
                               "    rotation: {max_size: big, max_files: 0}\n"
                               "    compres: true\n"
                               "    channels:\n"
                               "      \"bad name\": {level: INFO}\n"
                               "      ok: [1, 2]\n"
                               "  overflow: block\n"
                               "meter_provider: {}\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "otelc: warning: "));
    assert_non_null(strstr(out, "test.yaml:2: colour: unknown key; ignored"));
    assert_non_null(strstr(out, "test.yaml:6: tracer_provider.processors[0].batch.schedule_delay: "
                                "invalid value '-5': expected milliseconds from 0 to 4294967295; "
                                "keeping 5000"));
    assert_non_null(strstr(out, "test.yaml:7: tracer_provider.processors[0].batch.max_queue_size: "
                                "invalid value 'lots': expected records from 1 to"));
    assert_non_null(strstr(out, "test.yaml:10: otelc.level: invalid value 'LOUD'"));
    assert_non_null(strstr(out, "keeping INFO"));
    assert_non_null(strstr(out, "test.yaml:11: otelc.stats: invalid value 'yes': expected true, "
                                "false, 1 or 0; keeping false"));
    assert_non_null(strstr(out, "test.yaml:13: otelc.file.rotation.max_size: invalid value 'big'"));
    assert_non_null(strstr(out, "test.yaml:13: otelc.file.rotation.max_files: invalid value '0'"));
    assert_non_null(strstr(out, "test.yaml:14: otelc.file.compres: unknown key"));
    assert_non_null(strstr(out, "test.yaml:16: otelc.file.channels.bad name: 'bad name' is not "
                                "usable as a name here"));
    assert_non_null(strstr(out, "test.yaml:17: otelc.file.channels.ok: expected a mapping"));
    assert_non_null(strstr(out, "test.yaml:19: meter_provider: not supported by otelc"));
    assert_int_equal(count_lines(out), 11);

    /* The rest applied. */
    assert_string_equal(o.traces_exporter, "console");
    assert_int_equal(o.spans_batch.schedule_delay_ms, 5000);
    assert_int_equal(o.overflow, OTELC_OVERFLOW_BLOCK);
    assert_null(otelc_file_options(&o)->channel_levels);
    assert_non_null(o.config_file);

    /* Each problem once: the same load again within the rate-limit
     * interval prints nothing new. */
    capture_begin();
    (void)otelc_options_init(&o);
    out = capture_end();
    assert_string_equal(out, "");
}

static void more_bad_values(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "disabled: 1\n"
                               "attribute_limits: [1]\n"
                               "resource:\n"
                               "  attributes:\n"
                               "    - {name: n, value: x, type: int}\n"
                               "    - {name: arr, value: [a, b], type: string_array}\n"
                               "    - {name: z}\n"
                               "  attributes_list: \"=x\"\n"
                               "  schema_url: https://opentelemetry.io/schemas/1.26.0\n"
                               "otelc:\n"
                               "  ring_size: 5000\n"
                               "  loggers: \"trading=LOUD\"\n"
                               "  mask_keys: [a, \"b,c\"]\n"
                               "  console: {color: pink}\n"
                               "  kafka: {brokers: x}\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "test.yaml:2: disabled: invalid value '1'"));
    assert_non_null(strstr(out, "test.yaml:3: attribute_limits: expected a mapping, found a list"));
    assert_non_null(strstr(out, "test.yaml:6: resource.attributes[0].value: invalid value 'x': "
                                "expected int"));
    assert_non_null(strstr(out, "test.yaml:7: resource.attributes[1].value: array attributes"));
    assert_non_null(strstr(out, "test.yaml:8: resource.attributes[2]: an attribute needs a name "
                                "and a value"));
    assert_non_null(strstr(out, "test.yaml:9: resource.attributes_list: invalid value '=x'"));
    assert_non_null(strstr(out, "test.yaml:10: resource.schema_url: not supported by otelc"));
    assert_non_null(strstr(out, "test.yaml:12: otelc.ring_size: invalid value '5000'"));
    assert_non_null(strstr(out, "test.yaml:13: otelc.loggers: invalid value 'trading=LOUD'"));
    assert_non_null(strstr(out, "test.yaml:14: otelc.mask_keys: invalid value 'b,c'"));
    assert_non_null(strstr(out, "test.yaml:15: otelc.console.color: invalid value 'pink': "
                                "expected auto, always or never; keeping auto"));
    assert_non_null(strstr(out, "test.yaml:16: otelc.kafka: unknown key; ignored (no part of "
                                "otelc linked into this program reads it; for an exporter's "
                                "settings, link its library, such as libotelc_kafka)"));
    assert_int_equal(count_lines(out), 12);
    assert_false(o.disabled);
    assert_null(o.resource_attributes);
    assert_null(o.logger_levels);
    assert_null(o.mask_keys);
    assert_int_equal(o.ring_size, 0);
}

static void file_format_checked(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    load_clean("file_format: \"0.4\"\n", &o);
    load_clean("file_format: 1.0-rc.2\n", &o);
    (void)load_text("otelc: {stats: true}\n", &o, &out);
    assert_non_null(strstr(out, "test.yaml:1: file_format is missing"));
    assert_true(o.print_stats);
    (void)load_text("file_format: \"2.0\"\n", &o, &out);
    assert_non_null(strstr(out, "test.yaml:1: file_format: file format '2.0' is newer"));
}

static void logger_levels_forms(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    load_clean("file_format: \"1.0\"\notelc: {loggers: \"a=DEBUG, b.c=21\", mask_keys: none}\n",
               &o);
    assert_string_equal(o.logger_levels, "a=DEBUG, b.c=21");
    assert_string_equal(o.mask_keys, "");
    load_clean("file_format: \"1.0\"\notelc: {mask_keys: []}\n", &o);
    assert_string_equal(o.mask_keys, "");

    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "otelc:\n"
                               "  loggers:\n"
                               "    trading: LOUD\n"
                               "    \"a,b\": INFO\n"
                               "    risk: critical\n"
                               "    quiet:\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "test.yaml:4: otelc.loggers.trading: invalid value 'LOUD'"));
    assert_non_null(strstr(out, "keeping no value for this name"));
    assert_non_null(strstr(out, "test.yaml:5: otelc.loggers.a,b: 'a,b' is not usable as a name"));
    assert_int_equal(count_lines(out), 2);
    assert_string_equal(o.logger_levels, "risk=critical");
}

/* log_level: none in the file silences the reports about the file. */
static void log_level_none(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    assert_int_equal(load_text("bogus: 1\nfile_format: \"1.0\"\nlog_level: none\n", &o, &out),
                     OTELC_ERR_INVALID);
    assert_string_equal(out, "");
    assert_int_equal(o.diag_level, OTELC_DIAG_NONE);
    otelc__diag_set_level(OTELC_DIAG_WARN);
}

/* Past 32 reports, one line counts the rest. */
static void reports_are_capped(void **state)
{
    char yaml[4096] = "file_format: \"1.0\"\n";
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    for (int i = 0; i < 40; i++) {
        char line[32];

        snprintf(line, sizeof(line), "unknown_%d: 1\n", i);
        strcat(yaml, line);
    }
    (void)load_text(yaml, &o, &out);
    assert_int_equal(count_lines(out), 33);
    assert_non_null(strstr(out, "test.yaml: 8 more problems not shown"));
}

/* Anchors and aliases work; YAML 1.1 merge keys are reported. */
static void anchors(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    load_clean("file_format: \"1.0\"\n"
               "tracer_provider:\n"
               "  processors:\n"
               "    - batch: &b {schedule_delay: 42, exporter: {console: }}\n"
               "logger_provider:\n"
               "  processors:\n"
               "    - batch: *b\n",
               &o);
    assert_int_equal(o.spans_batch.schedule_delay_ms, 42);
    assert_int_equal(o.logs_batch.schedule_delay_ms, 42);
    assert_string_equal(o.logs_exporter, "console");

    (void)load_text("file_format: \"1.0\"\n"
                    "tracer_provider:\n"
                    "  processors:\n"
                    "    - batch: &b {schedule_delay: 42, exporter: {console: }}\n"
                    "logger_provider:\n"
                    "  processors:\n"
                    "    - batch:\n"
                    "        <<: *b\n"
                    "        max_queue_size: 10\n",
                    &o, &out);
    assert_non_null(strstr(out, "test.yaml:8: logger_provider.processors[0].batch: YAML merge "
                                "keys (<<) are not part of YAML 1.2"));
    assert_int_equal(o.logs_batch.max_queue_size, 10);
}

/* Lists of aliases to lists of aliases: a small file, a huge walk. It is
 * cut short and the file ignored. */
static void alias_bomb(void **state)
{
    static char yaml[64 * 1024];
    otelc_options_t o;
    const char *out;
    size_t n;

    (void)state;
    REQUIRE_YAML();
    n = (size_t)snprintf(yaml, sizeof(yaml),
                         "file_format: \"1.0\"\n"
                         "tracer_provider:\n"
                         "  processors:\n"
                         "    - &p {batch: {exporter: {otlp_http: {headers: [&h {}");
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, ", *h");
    n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "]}}}}\n");
    for (int i = 0; i < 3000; i++)
        n += (size_t)snprintf(yaml + n, sizeof(yaml) - n, "    - *p\n");
    assert_true(n < sizeof(yaml) - 1);
    assert_int_equal(load_text(yaml, &o, &out), OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "more than 1048576 times (YAML aliases); ignoring the whole file"));
    assert_int_equal(count_lines(out), 1);
    assert_null(o.config_file);
    assert_string_equal(o.traces_exporter, "console");
}

static void syntax_error(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    REQUIRE_YAML();
    setenv("OTEL_SERVICE_NAME", "env-name", 1);
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "resource:\n"
                               "  attributes: [\n"
                               "otelc: {level: DEBUG}\n"
                               "  - x: : :\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "test.yaml:"));
    assert_non_null(strstr(out, "not valid YAML"));
    assert_non_null(strstr(out, "ignoring the whole file"));
    assert_int_equal(count_lines(out), 1);
    /* Nothing of the file applies; the environment does. */
    assert_int_equal(o.level, OTELC_SEV_INFO);
    assert_string_equal(o.service_name, "env-name");
    assert_null(o.config_file);

    /* A line and a column. */
    (void)load_text("file_format: \"1.0\"\notelc:\n  level: [DEBUG\n", &o, &out);
    assert_non_null(strstr(out, "test.yaml:4:1: not valid YAML"));

    /* Not a mapping at the top. */
    assert_int_equal(load_text("- a\n- b\n", &o, &out), OTELC_ERR_INVALID);
    assert_non_null(strstr(out, "test.yaml:1: the file must hold a mapping"));
}

static void missing_file(void **state)
{
    otelc_options_t o;
    const char *out;
    otelc_status_t st;
    char path[512];

    (void)state;
    REQUIRE_YAML();
    snprintf(path, sizeof(path), "%s/does-not-exist.yaml", tmpdir);
    setenv("OTEL_CONFIG_FILE", path, 1);
    setenv("OTEL_SERVICE_NAME", "env-name", 1);
    capture_begin();
    st = otelc_options_init(&o);
    out = capture_end();
    assert_int_equal(st, OTELC_ERR_IO);
    assert_non_null(strstr(out, path));
    assert_non_null(strstr(out, "No such file or directory"));
    assert_non_null(strstr(out, "using the defaults and the environment"));
    assert_int_equal(count_lines(out), 1);
    assert_string_equal(o.service_name, "env-name");
    assert_null(o.config_file);

    /* A directory is no file either. */
    setenv("OTEL_CONFIG_FILE", tmpdir, 1);
    otelc__diag_reset();
    capture_begin();
    st = otelc_options_init(&o);
    out = capture_end();
    assert_int_equal(st, OTELC_ERR_IO);
    assert_non_null(strstr(out, "Is a directory"));

    /* An empty file sets nothing and is no error. */
    load_clean("", &o);
    assert_string_equal(o.traces_exporter, "console");
}

/* The strings the file set stay valid after the file and the environment
 * change (ASan would see a use after free). */
/* Typed resource values keep their type, to the edges of 64 bits. */
static void typed_resource_values(void **state)
{
    otelc_options_t o;
    const char *out;

    (void)state;
    load_clean("file_format: \"1.0\"\n"
               "resource:\n"
               "  attributes:\n"
               "    - {name: lowest, value: -9223372036854775808, type: int}\n"
               "    - {name: highest, value: 9223372036854775807, type: int}\n"
               "    - {name: ratio, value: -0.5, type: double}\n"
               "    - {name: on, value: False, type: bool}\n"
               "    - {name: plain, value: text}\n",
               &o);
    assert_string_equal(o.resource_attributes, "plain=text");
    assert_int_equal(o.n_resource_attrs, 4);
    assert_int_equal(o.resource_attrs[0].type, OTELC_ATTR_INT);
    assert_true(o.resource_attrs[0].v.i == INT64_MIN);
    assert_true(o.resource_attrs[1].v.i == INT64_MAX);
    assert_int_equal(o.resource_attrs[2].type, OTELC_ATTR_DOUBLE);
    assert_true(o.resource_attrs[2].v.d == -0.5);
    assert_int_equal(o.resource_attrs[3].type, OTELC_ATTR_BOOL);
    assert_false(o.resource_attrs[3].v.b);

    /* One past either edge is not an int: reported, left out. */
    assert_int_equal(load_text("file_format: \"1.0\"\n"
                               "resource:\n"
                               "  attributes:\n"
                               "    - {name: over, value: 9223372036854775808, type: int}\n"
                               "    - {name: under, value: -9223372036854775809, type: int}\n",
                               &o, &out),
                     OTELC_ERR_INVALID);
    assert_int_equal(count_lines(out), 2);
    assert_int_equal(o.n_resource_attrs, 0);
}

static void strings_outlive_the_load(void **state)
{
    otelc_options_t o;
    char name[64];

    (void)state;
    REQUIRE_YAML();
    setenv("TCF_NAME", "substituted-name", 1);
    load_clean("file_format: \"1.0\"\n"
               "resource: {attributes: [{name: service.name, value: \"${TCF_NAME}\"}]}\n"
               "otelc: {file: {channels: {trading: {loggers: [a, b]}}}}\n",
               &o);
    setenv("TCF_NAME", "something-else-entirely-longer", 1);
    unsetenv("TCF_NAME");
    write_file("test.yaml", "file_format: \"1.0\"\n");
    unsetenv("OTEL_CONFIG_FILE");
    snprintf(name, sizeof(name), "%s", o.service_name);
    assert_string_equal(name, "substituted-name");
    assert_string_equal(otelc_file_options(&o)->channel_routes, "trading=a|b");
    assert_non_null(strstr(o.config_file, "test.yaml"));
}

/* ---- the example --------------------------------------------------------- */

/* examples/otelc.yaml, beside this source tree. */
static const char *example_path(void)
{
    static char path[4096];
    const char *slash;

    snprintf(path, sizeof(path), "%s", __FILE__);
    slash = strstr(path, "/tests/unit/config_file/");
    assert_non_null(slash);
    snprintf(path + (slash - path), sizeof(path) - (size_t)(slash - path), "/examples/otelc.yaml");
    return path;
}

static void example_loads_cleanly(void **state)
{
    otelc_options_t o;
    const char *out;
    otelc_status_t st;

    (void)state;
    REQUIRE_YAML();
    setenv("OTEL_CONFIG_FILE", example_path(), 1);
    capture_begin();
    st = otelc_options_init(&o);
    out = capture_end();
    assert_string_equal(out, "");
    assert_int_equal(st, OTELC_OK);
    assert_string_equal(o.config_file, example_path());
    assert_string_equal(o.service_name, "trading-engine");
    assert_string_equal(o.traces_exporter, "file");
    assert_string_equal(o.logs_exporter, "file,console");
    assert_int_equal(o.sampler, OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO);
    assert_string_equal(otelc_file_options(&o)->channel_routes,
                        "trading=strategy|order|position|risk|execution,audit=audit|compliance,"
                        "fills=exchange.fills");
    assert_string_equal(otelc_file_options(&o)->channel_retention,
                        "trading=60,audit=365,database=7,fills=90");
    assert_string_equal(otelc_file_options(&o)->directory, "./logs");
    assert_null(otelc__resource_attributes_error(o.resource_attributes));

    /* otelc_init() takes it as it is, but for the directory (the test's
     * own) and the console (kept quiet): the file exporter accepts its
     * channels without a word. */
    {
        char dir[512];
        struct stat st_dir;
        otelc_logger_t *log;

        snprintf(dir, sizeof(dir), "%s/logs", tmpdir);
        otelc_file_options(&o)->directory = dir;
        o.logs_exporter = "file";
        otelc__factories_init();
        if (!otelc_exporter_factory_exists("file")) {
            o.traces_exporter = "none";
            o.logs_exporter = "none";
        }
        capture_begin();
        st = otelc_init(&o);
        log = otelc_logger("exchange.fills");
        OTELC_INFO(log, "filled", OTELC_STR("order_id", "ORD1"));
        assert_int_equal(otelc_shutdown(5000), OTELC_OK);
        out = capture_end();
        assert_int_equal(st, OTELC_OK);
        assert_string_equal(out, "");
        if (otelc_exporter_factory_exists("file")) {
            /* The example's own channel took the record. */
            snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/fills.log");
            assert_int_equal(stat(dir, &st_dir), 0);
            assert_true(st_dir.st_size > 0);
        }
    }
}

/* The example, mutated a few thousand times: whatever the bytes, the loader
 * returns (the sanitizer builds check it does so cleanly). A small stand-in
 * for a fuzzer, run on every test run. */
static void mutations_do_not_crash(void **state)
{
    static const char alphabet[] = ":{}[]$&*!|>-,#'\"\n \t0aZ~%\\";
    static char original[32 * 1024], copy[32 * 1024];
    uint32_t rng = 12345;
    size_t n;
    FILE *f;

    (void)state;
    REQUIRE_YAML();
    f = fopen(example_path(), "r");
    assert_non_null(f);
    n = fread(original, 1, sizeof(original), f);
    fclose(f);
    assert_true(n > 0 && n < sizeof(original));
    otelc__diag_set_level(OTELC_DIAG_NONE);
    for (int i = 0; i < 3000; i++) {
        otelc_options_t o;
        size_t len = n;
        bool applied;
        int edits;

        memcpy(copy, original, n);
        rng = rng * 1103515245u + 12345u;
        edits = 1 + (int)((rng >> 16) % 8);
        for (int e = 0; e < edits; e++) {
            rng = rng * 1103515245u + 12345u;
            copy[(rng >> 8) % len] = alphabet[(rng >> 3) % (sizeof(alphabet) - 1)];
        }
        rng = rng * 1103515245u + 12345u;
        if ((rng >> 16) % 10 == 0)
            len = (rng >> 4) % len;
        otelc_options_default(&o);
        (void)otelc__config_file_load_buffer("mutated.yaml", copy, len, true, &o, &applied);
        if (i % 100 == 99)
            otelc__config_file_release();
    }
    otelc__config_file_release();
    otelc__diag_set_level(OTELC_DIAG_WARN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(every_key_lands, setup),
        cmocka_unit_test_setup(omitted_keys_keep_defaults, setup),
        cmocka_unit_test_setup(samplers, setup),
        cmocka_unit_test_setup(processors, setup),
        cmocka_unit_test_setup(propagators, setup),
        cmocka_unit_test_setup(substitution, setup),
        cmocka_unit_test_setup(invalid_reference, setup),
        cmocka_unit_test_setup(config_file_env_ignored, setup),
        cmocka_unit_test_setup(implicit_file_env_wins, setup),
        cmocka_unit_test_setup(unknown_key_and_bad_value, setup),
        cmocka_unit_test_setup(more_bad_values, setup),
        cmocka_unit_test_setup(file_format_checked, setup),
        cmocka_unit_test_setup(logger_levels_forms, setup),
        cmocka_unit_test_setup(log_level_none, setup),
        cmocka_unit_test_setup(reports_are_capped, setup),
        cmocka_unit_test_setup(anchors, setup),
        cmocka_unit_test_setup(alias_bomb, setup),
        cmocka_unit_test_setup(syntax_error, setup),
        cmocka_unit_test_setup(missing_file, setup),
        cmocka_unit_test_setup(typed_resource_values, setup),
        cmocka_unit_test_setup(strings_outlive_the_load, setup),
        cmocka_unit_test_setup(example_loads_cleanly, setup),
        cmocka_unit_test_setup(mutations_do_not_crash, setup),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
