/*
 * otelc/file.h: the file exporter, a library of its own (libotelc_file,
 * CMake target otelc::file, pkg-config module otelc-file; it needs zlib).
 *
 * Linking the library is enough for OTEL_TRACES_EXPORTER=file,
 * OTEL_LOGS_EXPORTER=file and the config file to name it: the library
 * registers the exporter when it is loaded (a shared library's constructor;
 * the static library's objects are kept by the linker flag that otelc::file
 * and `pkg-config --static --libs otelc-file` carry). A program may also call
 * otelc_file_register() itself before otelc_init(), which does no harm.
 *
 * The format of the files is in exporters/file/FORMAT.md; the settings in
 * README "File exporter". Each setting below has its environment variable
 * and its config-file key (otelc.file....); the library declares them as
 * its component's rows (otelc/settings.h), which read both.
 */
#ifndef OTELC_FILE_H
#define OTELC_FILE_H

#include <otelc/config.h>
#include <otelc/file.h>
#include <otelc/exporter.h>
#include <otelc/settings.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Formats of the files (OTELC_FILE_FORMAT, otelc.file.format). */
typedef enum otelc_file_format {
    OTELC_FILE_FORMAT_FLAT = 0, /* one record per line, attributes as top-level keys (jq) */
    OTELC_FILE_FORMAT_OTLP = 1, /* one ExportXServiceRequest in OTLP/JSON per line */
} otelc_file_format_t;

/*
 * A channel: one file, <directory>/<name>.log, that takes the log records of
 * the loggers whose names start with one of its prefixes. A channel named
 * like a built-in one (application, trading, market_data, database, audit,
 * performance, errors, monitoring, api, traces) changes it; another name
 * adds a channel. Strings are borrowed, as everywhere in otelc_options_t.
 */
typedef struct otelc_file_channel {
    const char *name;        /* [A-Za-z0-9_.-], 1 to 63 bytes */
    const char *loggers;     /* comma-separated logger-name prefixes; NULL keeps the built-in ones */
    int level;               /* lowest severity written; 0: the file exporter's level */
    uint32_t retention_days; /* rotated files older than this are deleted; 0: the exporter's */
} otelc_file_channel_t;

/*
 * The settings: JSON lines under a directory, one file per channel, spans in
 * traces.log. Every record of severity ERROR or above is also copied to
 * errors.log. See README "File exporter" for the file names and the rotation
 * rules. The struct grows at its end: `struct_size` first, as in
 * otelc_options_t (otelc_file_options_default() sets it).
 */
typedef struct otelc_file_options {
    size_t struct_size;
    const char *directory;      /* OTELC_FILE_DIR, otelc.file.directory: default "logs"
                                   (created 0750 when missing) */
    otelc_file_format_t format; /* OTELC_FILE_FORMAT=flat|otlp, default flat */
    int level;                  /* OTELC_FILE_LEVEL: the files' lowest severity, default TRACE
                                   (all that the loggers pass) */
    uint64_t max_bytes;         /* OTELC_FILE_MAX_SIZE, otelc.file.rotation.max_size: rotate a
                                   file that would grow past it; default 10 MiB, 0 never;
                                   suffixes k, m, g */
    uint32_t max_files;         /* OTELC_FILE_MAX_FILES, otelc.file.rotation.max_files:
                                   size-rotated files kept per channel and day, default 5 */
    bool rotate_daily;          /* OTELC_FILE_ROTATE_DAILY, otelc.file.rotation.daily: at local
                                   midnight, default true */
    uint32_t retention_days;    /* OTELC_FILE_RETENTION_DAYS: rotated files older than this
                                   many days are deleted, default 30; 0 keeps them forever */
    bool compress;              /* OTELC_FILE_COMPRESS=1: gzip files once rotated (.gz) */
    /* Channels given by the program, applied over the built-in table in
     * order. */
    const otelc_file_channel_t *channels;
    size_t n_channels;
    /* Per-channel settings, applied after `channels`, item by item (a later
     * item wins); each a comma list. The environment and the config file
     * (otelc.file.channels: {name: {loggers, level, retention_days}}) add
     * to them:
     *   OTELC_FILE_CHANNELS          name=prefix|prefix|...   (routing)
     *   OTELC_FILE_CHANNEL_LEVELS    name=LEVEL
     *   OTELC_FILE_CHANNEL_RETENTION name=DAYS                               */
    const char *channel_routes;
    const char *channel_levels;
    const char *channel_retention;
} otelc_file_options_t;

/* Fills `opts` with the defaults (those of the environment's absence). */
OTELC_API void otelc_file_options_default_sized(otelc_file_options_t *opts, size_t struct_size);
#define otelc_file_options_default(opts)                                                           \
    otelc_file_options_default_sized((opts), sizeof(otelc_file_options_t))

/*
 * The file exporter's settings within `opts`, to change them in code after
 * otelc_options_init(); NULL when the library is not registered (or out of
 * memory). See otelc_options_component().
 */
static inline otelc_file_options_t *otelc_file_options(otelc_options_t *opts)
{
    return (otelc_file_options_t *)otelc_options_component(opts, "file");
}

/*
 * Registers the exporter and its settings under the name "file".
 * Idempotent and thread-safe; returns what otelc_component_register()
 * returns.
 */
OTELC_API otelc_status_t otelc_file_register(void);

/*
 * Makes a file exporter for direct use (in otelc_options_t.exporters):
 * `signals` is OTELC_SIGNAL_TRACES, OTELC_SIGNAL_LOGS or both. `opts` is
 * copied (NULL: the defaults). Returns
 * OTELC_ERR_INVALID for no signal or a NULL `out`, OTELC_ERR_NOMEM; *out is
 * set only on success.
 */
OTELC_API otelc_status_t otelc_file_exporter_create(const otelc_file_options_t *opts,
                                                    unsigned signals,
                                                    otelc_exporter_t **out) OTELC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* OTELC_FILE_H */
