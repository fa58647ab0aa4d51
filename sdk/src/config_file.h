/*
 * config_file.h: the YAML configuration file (OTEL_CONFIG_FILE, else
 * ./otelc.yaml), read by otelc_options_init().
 *
 * The file follows the OpenTelemetry declarative configuration schema
 * (open-telemetry/opentelemetry-configuration: file_format, resource,
 * attribute_limits, propagator, tracer_provider, logger_provider) and keeps
 * otelc's own settings under the top-level key `otelc`; docs/config-file.md
 * is the reference of every key. The loader lives in src/yaml/, the only
 * code that includes <yaml.h>; a build without libyaml (OTELC_WITH_YAML=OFF)
 * has a stub in config.c that reports the file and applies nothing.
 */
#ifndef OTELC_CONFIG_FILE_H
#define OTELC_CONFIG_FILE_H

#include <otelc/config.h>

/* The file read when OTEL_CONFIG_FILE is not set, in the working directory. */
#define OTELC__CONFIG_FILE_IMPLICIT "otelc.yaml"

/*
 * Reads the YAML file `path` and overlays what it sets on `opts`.
 *
 * `env_ignored` says that the file came from OTEL_CONFIG_FILE: as the
 * OpenTelemetry specification asks, the caller then reads no other OTEL_*
 * or OTELC_* variable, and the file's `log_level` sets otelc's diagnostic
 * level at once. When false (the implicit ./otelc.yaml), the caller overlays
 * the environment afterwards, and a set OTEL_LOG_LEVEL already governs the
 * reports about the file. `${VAR}` references in the file's values read the
 * environment in both cases.
 *
 * Every problem is reported on stderr through otelc__diag() with the file
 * name and line: an unknown key (ignored), a bad value (the field keeps what
 * it had in `opts`), a setting otelc does not support (ignored). These leave
 * the rest of the file applied.
 *
 * A file that cannot be used as a whole -- missing or unreadable, larger than
 * 4 MiB, not valid YAML (reported with line and column), not a mapping at the
 * top, or holding an invalid ${...} reference (the specification allows no
 * partial result then) -- is reported once, and `opts` is left untouched.
 *
 * Strings the file puts in `opts` (service_name, exporter lists, the
 * channels, ...) and opts->config_file, a copy of `path`, live in memory the
 * loader keeps for the life of the process: they stay valid after the call,
 * whatever happens to the environment, and are never freed (each load keeps
 * its own, a few KiB). Thread-safe; the diagnostic level is process-wide.
 *
 * Stores in *applied whether the file was applied (possibly with rejected
 * values). Returns OTELC_OK when everything in the file was taken;
 * OTELC_ERR_INVALID when some key or value was rejected, or the file was not
 * valid YAML; OTELC_ERR_IO when it could not be read; OTELC_ERR_NOMEM;
 * OTELC_ERR_UNSUPPORTED in a build without libyaml. NULL `path` or `opts`
 * gives OTELC_ERR_INVALID with nothing reported.
 */
otelc_status_t otelc__config_file_load(const char *path, bool env_ignored, otelc_options_t *opts,
                                       bool *applied);

/*
 * The same for a file's content already in memory, `size` bytes at `data`
 * (not NUL-terminated), reported under `name` (which also becomes
 * opts->config_file). For tests and fuzzers. Content over 4 MiB gives
 * OTELC_ERR_IO without a report.
 */
otelc_status_t otelc__config_file_load_buffer(const char *name, const void *data, size_t size,
                                              bool env_ignored, otelc_options_t *opts,
                                              bool *applied);

/*
 * Frees the memory every load so far has kept. For tests and fuzzers only:
 * the options those loads filled hold dangling pointers afterwards. Not
 * thread-safe with respect to a load in progress elsewhere.
 */
void otelc__config_file_release(void);

/*
 * For tests: the library name the reader loads libyaml by (dlopen()), set
 * before the first file is read. The default is the soname of the libyaml
 * the build used.
 */
void otelc__yaml_set_soname(const char *name);

#endif /* OTELC_CONFIG_FILE_H */
