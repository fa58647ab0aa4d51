/*
 * otelc/config.h: options for otelc_init().
 *
 * Precedence, highest first: what the program sets in the struct, the
 * environment (OTEL_* and OTELC_* variables), the YAML configuration file
 * (see config_file below), the defaults. The usual pattern:
 *
 *     otelc_options_t o;
 *     otelc_options_init(&o);            // defaults, the file, the environment
 *     o.service_name = "order-gateway";  // the program's word is final
 *     if (otelc_init(&o) != OTELC_OK) ...
 *
 * otelc_init(NULL) does the first two steps itself. A bad environment value is
 * reported once on stderr with the variable's name, a bad value in the file
 * with the file's name and line, and the default is kept: an application
 * never fails to start because of a typo.
 *
 * Values in the environment may be surrounded by blanks (ignored); empty
 * variables count as unset, as the OpenTelemetry specification says.
 *
 * Strings in the struct are borrowed: otelc_init() copies all it keeps, so they
 * need to live only until it returns. Strings that otelc_options_from_env()
 * stores point into the environment (getenv) and are valid as long as the
 * environment is not changed. Strings that come from the config file live in
 * memory otelc keeps until the process exits.
 */
#ifndef OTELC_CONFIG_H
#define OTELC_CONFIG_H

#include <otelc/attr.h>
#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct otelc_exporter;

/* Built-in samplers, named as in OTEL_TRACES_SAMPLER. */
typedef enum otelc_sampler_kind {
    OTELC_SAMPLER_PARENTBASED_ALWAYS_ON = 0, /* default */
    OTELC_SAMPLER_ALWAYS_ON = 1,
    OTELC_SAMPLER_ALWAYS_OFF = 2,
    OTELC_SAMPLER_TRACEIDRATIO = 3,
    OTELC_SAMPLER_PARENTBASED_ALWAYS_OFF = 4,
    OTELC_SAMPLER_PARENTBASED_TRACEIDRATIO = 5,
    OTELC_SAMPLER_CUSTOM = 6, /* options.sampler_fn decides */
} otelc_sampler_kind_t;

/* What a sampler answers. Non-recording spans are not exported. */
typedef enum otelc_sampling_decision {
    OTELC_SAMPLING_DROP = 0,
    OTELC_SAMPLING_RECORD_AND_SAMPLE = 2,
} otelc_sampling_decision_t;

/*
 * A user sampler. `parent` is the parent span context or NULL for a root span;
 * `trace_id` is the trace the new span belongs to. Called on the application
 * thread that starts the span, so it must be fast and thread-safe.
 */
typedef otelc_sampling_decision_t (*otelc_sampler_fn)(void *arg, const otelc_span_context_t *parent,
                                                      const uint8_t trace_id[OTELC_TRACE_ID_SIZE],
                                                      const char *name, size_t name_len, int kind,
                                                      const otelc_attr_t *attrs, size_t n_attrs);

/* Overflow policy when a thread's buffer is full (OTELC_OVERFLOW). */
typedef enum otelc_overflow {
    OTELC_OVERFLOW_DROP = 0,  /* count the record as dropped and return at once (default) */
    OTELC_OVERFLOW_BLOCK = 1, /* wait for room, at most block_timeout_ms, then drop */
} otelc_overflow_t;

/* Propagators (OTEL_PROPAGATORS), as bit flags. */
#define OTELC_PROPAGATOR_TRACECONTEXT 0x1u
#define OTELC_PROPAGATOR_BAGGAGE 0x2u
#define OTELC_PROPAGATOR_B3 0x4u      /* single header `b3` */
#define OTELC_PROPAGATOR_B3MULTI 0x8u /* X-B3-TraceId, X-B3-SpanId, X-B3-Sampled, ... */

/*
 * Batch processor settings: OTEL_BSP_* for spans, OTEL_BLRP_* for logs. The
 * defaults are those of the OpenTelemetry specification (2048, 5000 ms,
 * 30000 ms, 512 for spans; 2048, 1000 ms, 30000 ms, 512 for logs). The
 * queue holds at most 1048576 records and a batch at most 65536: the
 * environment and the config file report a larger value and keep the
 * default; otelc_init() clamps a larger value set here, and reports it.
 */
typedef struct otelc_batch_options {
    uint32_t max_queue_size;        /* records waiting to be exported, per signal */
    uint32_t schedule_delay_ms;     /* longest wait before a partial batch is exported */
    uint32_t export_timeout_ms;     /* longest one export call may take */
    uint32_t max_export_batch_size; /* records in one export call; <= max_queue_size */
} otelc_batch_options_t;

/*
 * Limits of the OpenTelemetry specification (OTEL_SPAN_*_LIMIT,
 * OTEL_ATTRIBUTE_*_LIMIT, OTEL_LOGRECORD_*_LIMIT). What is over a count limit
 * is dropped and counted in the record's dropped_*_count; strings and byte
 * values over the length limit are truncated (UTF-8 safe). UINT32_MAX means
 * "no limit".
 */
typedef struct otelc_limits {
    uint32_t attribute_count;        /* default 128 */
    uint32_t attribute_value_length; /* default UINT32_MAX */
    uint32_t event_count;            /* spans only, default 128 */
    uint32_t link_count;             /* spans only, default 128 */
    uint32_t attributes_per_event;   /* spans only, default 128 */
    uint32_t attributes_per_link;    /* spans only, default 128 */
} otelc_limits_t;

struct otelc_component_set;

/*
 * The options. The struct grows at its end from one version to the next:
 * `struct_size` says how much of it the program was compiled with, so that
 * a program built against an older header keeps working with a newer
 * library (which reads only that much, and takes the defaults for the
 * rest). otelc_options_default() and otelc_options_init() set it; a program
 * that fills the struct by other means sets it to sizeof(otelc_options_t)
 * (0 reads as the fields of this first version).
 */
typedef struct otelc_options {
    size_t struct_size;

    /* OTEL_SDK_DISABLED: every call becomes a no-op; nothing is exported. */
    bool disabled;

    /* Resource. OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES (key=value,...,
     * values percent-decoded). service_name wins over a service.name given in
     * resource_attributes; the default is "unknown_service:<executable>". */
    const char *service_name;
    const char *service_version; /* OTELC_SERVICE_VERSION, or service.version in the list */
    const char *resource_attributes;
    /* Typed resource attributes (string, bool, int or double; the config
     * file's `type:`), added after those of resource_attributes; a key in
     * both takes the value given here. Keys and strings NUL-terminated. */
    const otelc_attr_t *resource_attrs;
    size_t n_resource_attrs;

    /* Exporters by name, comma-separated: console, none, and the name of any
     * exporter component linked in or registered (otelc/settings.h), such as
     * file with libotelc_file. OTEL_TRACES_EXPORTER, OTEL_LOGS_EXPORTER.
     * Default "console" for both. */
    const char *traces_exporter;
    const char *logs_exporter;

    /* Exporter instances made by the program. Each receives the signals its
     * ops declare, in addition to the named ones. otelc_init() takes ownership:
     * it shuts them down and destroys them, even when init fails. */
    struct otelc_exporter **exporters;
    size_t n_exporters;

    otelc_batch_options_t spans_batch; /* OTEL_BSP_* */
    otelc_batch_options_t logs_batch;  /* OTEL_BLRP_* */
    otelc_limits_t span_limits;        /* OTEL_SPAN_*, OTEL_ATTRIBUTE_* */
    otelc_limits_t log_limits;         /* OTEL_LOGRECORD_*, OTEL_ATTRIBUTE_* */

    /* OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (ratio in [0, 1], default 1). */
    otelc_sampler_kind_t sampler;
    double sampler_ratio;
    otelc_sampler_fn sampler_fn; /* with OTELC_SAMPLER_CUSTOM */
    void *sampler_arg;

    /* OTEL_PROPAGATORS, default tracecontext,baggage. */
    unsigned propagators;

    /* OTELC_OVERFLOW=drop|block and OTELC_BLOCK_TIMEOUT_MS (default 100). */
    otelc_overflow_t overflow;
    uint32_t block_timeout_ms;

    /* Bytes of buffer per application thread, a power of two (OTELC_RING_SIZE);
     * another value is rounded up to one, and at least 4096 bytes are used.
     * 0: derived from the queue sizes, see README "Queues and buffers". A
     * thread keeps the buffer it got first, across otelc_init() calls. */
    uint32_t ring_size;

    /* Log levels as OpenTelemetry severity numbers (1..24; otelc/log.h).
     * OTELC_LEVEL: the default minimum for every logger (default INFO).
     * OTELC_LOGGER_LEVELS: "prefix=LEVEL,..." per logger name; the longest
     * matching prefix wins ("trading=DEBUG,trading.risk=WARNING").
     * OTELC_CONSOLE_LEVEL: the console exporter's own minimum (default: all
     * that the loggers pass). OTELC_CONSOLE_COLOR: auto|always|never. */
    int level;
    const char *logger_levels;
    int console_level;
    int console_color; /* -1 auto (colour on a terminal), 0 never, 1 always */

    /* OTELC_MASK_KEYS: attribute keys whose values are replaced by
     * "***MASKED***" in logs and spans (exact match, case-insensitive),
     * comma-separated. Default: api_key,api_secret,password,token,secret,
     * credentials,private_key,encryption_key. In the struct an empty string
     * masks nothing; in the environment (where empty means unset) write
     * OTELC_MASK_KEYS=none. */
    const char *mask_keys;

    /* The settings of the components (exporters) linked in, each in a
     * struct of its own that the component declares: read and change them
     * with otelc_options_component() or otelc_options_set()
     * (otelc/settings.h), or the component's own accessor, such as
     * otelc_file_options() of otelc/file.h. NULL: their defaults. */
    struct otelc_component_set *components;

    /* The YAML configuration file that otelc_options_init() applied, or NULL
     * when it applied none: the path in OTEL_CONFIG_FILE, else "otelc.yaml"
     * when that file exists in the working directory. The file follows the
     * OpenTelemetry declarative configuration schema, with otelc's own
     * settings under the key `otelc`; docs/config-file.md lists every key.
     * With OTEL_CONFIG_FILE set, no other OTEL_* or OTELC_* variable is read
     * (the specification's rule) except through ${VAR} references in the
     * file; the implicit otelc.yaml is overridden by the environment. A file
     * that cannot be read or is not valid YAML is reported and the defaults
     * and the environment are used instead.
     *
     * The strings the file sets in this struct, and this path, are copies in
     * memory that otelc allocates per file read and never frees (a few KiB
     * each; it stays reachable, so leak checkers do not flag it): they are
     * valid for the life of the process, whatever becomes of the struct or
     * the environment. For information only: otelc_init() does not read the
     * file again. */
    const char *config_file;

    /* OTELC_STATS=1: print a one-line summary on stderr at shutdown. */
    bool print_stats;

    /* OTEL_LOG_LEVEL: otelc's own diagnostics on stderr: none, error, warn
     * (default), info, debug. Each distinct problem is reported rate-limited. */
    int diag_level;

    /* Replaceable pieces. NULL means the built-in one. */
    uint64_t (*clock_fn)(void *arg); /* wall clock, ns since the Unix epoch */
    void *clock_arg;
    /* Fills `trace_id` (when non-NULL) and `span_id` with random, non-zero ids. */
    void (*id_fn)(void *arg, uint8_t *trace_id, uint8_t *span_id);
    void *id_arg;
} otelc_options_t;

/* otelc's own diagnostic levels (OTEL_LOG_LEVEL). */
#define OTELC_DIAG_NONE 0
#define OTELC_DIAG_ERROR 1
#define OTELC_DIAG_WARN 2
#define OTELC_DIAG_INFO 3
#define OTELC_DIAG_DEBUG 4

/* Fills `opts` with the defaults. Never fails; NULL is ignored. A macro, so
 * that the size of the caller's struct goes with it. */
OTELC_API void otelc_options_default_sized(otelc_options_t *opts, size_t struct_size);
#define otelc_options_default(opts) otelc_options_default_sized((opts), sizeof(otelc_options_t))

/*
 * Overlays the OTEL_* and OTELC_* environment variables on `opts`. A value
 * that does not parse is reported once on stderr (the variable, the value and
 * what was expected) and the field keeps its value. Returns OTELC_OK, or
 * OTELC_ERR_INVALID when at least one variable was rejected (the options are
 * still usable).
 */
OTELC_API otelc_status_t otelc_options_from_env(otelc_options_t *opts);

/*
 * otelc_options_default(), then the configuration file, then
 * otelc_options_from_env() -- unless OTEL_CONFIG_FILE names the file, in
 * which case the environment is not read (see config_file above). Returns
 * OTELC_OK; OTELC_ERR_INVALID when a value of the file or the environment
 * was rejected or the file is not valid YAML; OTELC_ERR_IO when the file
 * could not be read; OTELC_ERR_UNSUPPORTED when OTEL_CONFIG_FILE is set in a
 * build without YAML support; OTELC_ERR_NOMEM. Whatever the status, `opts`
 * is usable: every problem was reported and what it concerned kept its
 * default. Not thread-safe with respect to changes of the environment.
 */
OTELC_API otelc_status_t otelc_options_init_sized(otelc_options_t *opts, size_t struct_size);
#define otelc_options_init(opts) otelc_options_init_sized((opts), sizeof(otelc_options_t))

#ifdef __cplusplus
}
#endif

#endif /* OTELC_CONFIG_H */
