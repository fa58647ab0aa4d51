/*
 * console.h: the console exporter's factory, for the core's table of built-in
 * exporter names (OTEL_TRACES_EXPORTER=console, OTEL_LOGS_EXPORTER=console).
 *
 * Applications use otelc_console_exporter_create() from <otelc/exporter.h>;
 * this header is internal and not installed.
 */
#ifndef OTELC_CONSOLE_H
#define OTELC_CONSOLE_H

#include <otelc/config.h>
#include <otelc/exporter.h>

/*
 * Makes a console exporter for `signal` alone, writing to stdout, with the
 * minimum severity options->console_level and the colour choice
 * options->console_color. `options` may be NULL (every default). The instance
 * declares only `signal` in its ops, so that "console" named for both signals
 * prints each record once. Returns OTELC_ERR_INVALID for an unknown signal,
 * OTELC_ERR_NOMEM when the instance cannot be allocated; *out is set only on
 * success.
 */
otelc_status_t otelc__console_factory(const struct otelc_options *options, otelc_signal_t signal,
                                      otelc_exporter_t **out) OTELC_WARN_UNUSED;

#endif /* OTELC_CONSOLE_H */
