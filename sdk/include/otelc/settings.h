/*
 * otelc/settings.h: components and their settings, declared once.
 *
 * A component is a part of otelc with settings of its own: the core, an
 * exporter built as a library of its own (libotelc_file, ...). It declares
 * its settings as a table of rows, one per setting: the environment
 * variable, the key in the configuration file, the type, where the value is
 * stored in the component's settings struct, the bounds or the words, and the
 * default. The same rows drive the environment reader, the config-file
 * reader and otelc_options_set(), so that a setting is parsed and checked in
 * one place and every bad value is reported the same way:
 *
 *     invalid value '10x' for OTELC_FILE_MAX_FILES: expected files from 1 to 4294967295; ...
 *     otelc.yaml:12: otelc.file.rotation.max_files: invalid value '10x': expected files ...
 *
 * An exporter library registers its component from a constructor (or the
 * program does, before otelc_options_init()):
 *
 *     typedef struct my_settings { const char *url; uint32_t retries; } my_settings_t;
 *     static const otelc_setting_t my_rows[] = {
 *         { .env = "MY_URL", .key = "otelc.mine.url", .type = OTELC_SETTING_STRING,
 *           .offset = offsetof(my_settings_t, url), .def = "http://localhost" },
 *         { .env = "MY_RETRIES", .key = "otelc.mine.retries", .type = OTELC_SETTING_UINT,
 *           .offset = offsetof(my_settings_t, retries), .min = 0, .max = 10, .def = "3",
 *           .unit = "retries" },
 *     };
 *     static const otelc_component_t my_component = {
 *         .version = OTELC_COMPONENT_VERSION, .name = "mine",
 *         .settings = my_rows, .n_settings = 2, .settings_size = sizeof(my_settings_t),
 *         .create = my_create,
 *     };
 *     __attribute__((constructor)) static void reg(void) { (void)otelc_component_register(&my_component); }
 *
 * otelc_options_init() then fills a my_settings_t for the options it makes;
 * otelc_init() hands it to my_create() when OTEL_TRACES_EXPORTER or
 * OTEL_LOGS_EXPORTER (or the config file) names "mine".
 */
#ifndef OTELC_SETTINGS_H
#define OTELC_SETTINGS_H

#include <otelc/common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct otelc_options;
struct otelc_exporter;
struct otelc_resource;
struct otelc_limits;
struct otelc_batch_options;

/* How a setting's text is read, and the C type of its field. */
typedef enum otelc_setting_type {
    OTELC_SETTING_BOOL = 1, /* bool: true or false, any case (and 1 or 0 with
                               OTELC_SETTING_NUMBERS) */
    OTELC_SETTING_UINT,     /* uint32_t: decimal digits, from min to max */
    OTELC_SETTING_SIZE,     /* uint64_t bytes: 10485760, 512k, 10MB, 10MiB, 1g (binary
                               multiples); from min to max (max 0: no bound) */
    OTELC_SETTING_ENUM,     /* int: one of `words`, any case */
    OTELC_SETTING_LEVEL,    /* int severity: TRACE, DEBUG, INFO, WARN(ING), ERROR, FATAL,
                               CRITICAL, OFF or 1 to 24 */
    OTELC_SETTING_STRING,   /* const char *: the text as it is */
    OTELC_SETTING_LIST,     /* const char *: a comma-separated list; in the config file
                               also a YAML list. The word "none" is the empty list "" */
    OTELC_SETTING_KEYED,    /* const char *: "name=value,name=value"; in the config file
                               a mapping of names to values (key "a.b.*.c": one value per
                               name). Each value is checked as `value_type` says; a value
                               that is a list joins its items with '|'. Every source
                               appends to what is there: later items win */
    OTELC_SETTING_CUSTOM,   /* parse() reads it */
} otelc_setting_type_t;

/* Flags of a row. */
#define OTELC_SETTING_NUMBERS 0x1u /* BOOL: 1 and 0 are words too */
#define OTELC_SETTING_NO_LIMIT 0x2u /* UINT: UINT32_MAX reads "no limit" in reports */

/* One word of an ENUM row. */
typedef struct otelc_setting_word {
    const char *word;
    int value;
} otelc_setting_word_t;

/* What a CUSTOM row's parse() found. */
typedef enum otelc_setting_verdict {
    OTELC_SETTING_TAKEN = 0,    /* stored */
    OTELC_SETTING_REJECTED = 1, /* not stored; the field keeps what it had */
    OTELC_SETTING_PARTLY = 2,   /* stored in part (the rest skipped): reported, `why` says */
} otelc_setting_verdict_t;

typedef struct otelc_setting otelc_setting_t;

struct otelc_setting {
    const char *env;           /* environment variable, or NULL (config file only) */
    const char *key;           /* config-file key path ("otelc.file.directory"), or NULL */
    otelc_setting_type_t type;
    size_t offset;             /* of the field in the component's settings struct */
    const char *def;           /* the default, as text read like a value; NULL: zero */
    uint64_t min, max;         /* UINT and SIZE */
    const otelc_setting_word_t *words; /* ENUM: ends with { NULL, 0 } */
    const char *unit;          /* UINT: "milliseconds", "a count", ... for reports */
    const char *expected;      /* for reports; NULL: derived from the type */
    unsigned flags;            /* OTELC_SETTING_* flags */
    otelc_setting_type_t value_type; /* KEYED: the type of each value (UINT, LEVEL, LIST) */
    /* CUSTOM: reads `len` bytes of `text` (trimmed, not NUL-terminated)
     * into `settings` (the whole struct, so that one setting may set
     * several fields). On REJECTED or PARTLY, writes what was wrong into
     * `why` (a few words, no trailing period). */
    otelc_setting_verdict_t (*parse)(const otelc_setting_t *row, const char *text, size_t len,
                                     void *settings, char *why, size_t why_size);
    /* CUSTOM, optional: writes the field's current value for "keeping ..." */
    void (*show)(const otelc_setting_t *row, const void *settings, char *buf, size_t size);
    const char *doc;           /* one line for `otelc config` and docs */
};

/*
 * How an exporter wants its records grouped into export_batch() calls, when
 * its signal's batch settings (OTEL_BSP_*, OTEL_BLRP_*, shared by every
 * exporter of the signal) do not suit its backend: a database that wants a
 * transaction per 100 rows, a service that charges per request. otelc fills
 * it with the signal's values before create(); create() may change them.
 *
 * The pipeline still assembles batches by the signal's settings. This
 * exporter's worker then cuts a larger batch into calls of at most
 * `max_export_batch_size` records, and joins smaller ones queued for it
 * into calls of up to that many, holding them while the oldest has waited
 * less than `schedule_delay_ms` since its batch was opened. A flush, the
 * shutdown, or a queue too full for the pipeline's next batch
 * (max_queue_size) sends what it holds at once. A delay shorter than the
 * signal's cannot bring records sooner than the pipeline sends them.
 */
typedef struct otelc_exporter_batching {
    uint32_t max_export_batch_size; /* 1 to the signal's max_queue_size */
    uint32_t schedule_delay_ms;
} otelc_exporter_batching_t;

/*
 * What an exporter's create() receives. otelc fills it; `struct_size` says
 * how much of it there is (a library built against a newer header finds the
 * fields it knows past `struct_size` absent, and uses its defaults).
 */
typedef struct otelc_exporter_args {
    size_t struct_size;
    otelc_signal_t signal;  /* the signal the name was given for */
    const void *settings;   /* the component's settings struct, parsed and checked; valid
                               during the call (copy what you keep) */
    const struct otelc_resource *resource; /* the process's resource */
    const struct otelc_limits *limits;     /* the signal's limits */
    const struct otelc_batch_options *batch; /* the signal's batch settings */
    uint64_t (*clock_fn)(void *arg);       /* the options' wall clock (NULL: the system's) */
    void *clock_arg;
    otelc_exporter_batching_t *batching;   /* the exporter's own batching (above): filled
                                              with the signal's, create() may change it */
} otelc_exporter_args_t;

/* The version of otelc_component_t and otelc_setting_t. */
#define OTELC_COMPONENT_VERSION 1u

typedef struct otelc_component {
    uint32_t version;           /* OTELC_COMPONENT_VERSION, as the component was built */
    const char *name;           /* lower-case, up to 31 bytes; an exporter's name */
    const otelc_setting_t *settings;
    size_t n_settings;
    size_t settings_size;       /* sizeof the settings struct; 0 with no settings */
    /* Makes an exporter for one signal. NULL for a component that is not
     * an exporter. On success stores it in *out. */
    otelc_status_t (*create)(const otelc_exporter_args_t *args, struct otelc_exporter **out);
} otelc_component_t;

/*
 * Registers a component (the table is kept, not copied: it must be static).
 * Call from a library constructor or before otelc_options_init(). A
 * component of the same name is replaced. Refused with OTELC_ERR_INVALID
 * (and a diagnostic naming the component) when the version is not this
 * header's, a row is malformed or its default does not read; OTELC_ERR_FULL
 * past 32 components. Thread-safe.
 */
OTELC_API otelc_status_t otelc_component_register(const otelc_component_t *component)
    OTELC_WARN_UNUSED;

/* The registered component of that name, or NULL. Thread-safe. */
OTELC_API const otelc_component_t *otelc_component_find(const char *name);

/*
 * The settings struct of component `name` within `opts`, for a program that
 * sets them in code: created with the defaults when `opts` has none yet.
 * NULL for an unknown component or out of memory. Copies of an
 * otelc_options_t share this struct until otelc_options_init() or
 * otelc_options_from_env() gives one of them its own. The struct lives as
 * long as the process (a few hundred bytes per call that creates one).
 */
OTELC_API void *otelc_options_component(struct otelc_options *opts, const char *name);

/*
 * Sets one setting by its environment variable's name or its config-file key
 * ("OTELC_FILE_DIR" or "otelc.file.directory"), of the core or of any
 * registered component, read and checked as the environment is. Returns
 * OTELC_ERR_NOT_FOUND for an unknown name, OTELC_ERR_INVALID for a value
 * that does not read (reported once), OTELC_ERR_NOMEM. Strings are
 * borrowed, as everywhere in otelc_options_t.
 */
OTELC_API otelc_status_t otelc_options_set(struct otelc_options *opts, const char *name,
                                           const char *value);

/*
 * The settings of component `name` that the running SDK was started with:
 * those of the options given to otelc_init() (of the environment and the
 * config file when it was given NULL), for a component that is not an
 * exporter (an instrumentation library) and reads its settings once otelc
 * runs. NULL when otelc is not running, or when its options carry no
 * settings for that component (a program that made its options with
 * otelc_options_default()): use otelc_component_defaults() then. The struct
 * is read-only and stays valid for the life of the process. Thread-safe.
 */
OTELC_API const void *otelc_component_settings(const char *name);

/*
 * Fills `settings` (`size` bytes, at most the component's settings_size)
 * with the defaults of the rows. For a component's own
 * xxx_options_default(). Returns OTELC_ERR_NOT_FOUND for an unknown component.
 */
OTELC_API otelc_status_t otelc_component_defaults(const char *name, void *settings, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* OTELC_SETTINGS_H */
