/*
 * file.h: the file exporter's entry points inside the library.
 */
#ifndef OTELC_EXPORTER_FILE_H
#define OTELC_EXPORTER_FILE_H

#include <otelc/config.h>
#include <otelc/exporter.h>
#include <otelc/file.h>
#include <otelc/settings.h>

/* The component "file": its settings' rows and create() (settings.c). */
extern const otelc_component_t otelc__file_component;
otelc_status_t otelc__file_create(const otelc_exporter_args_t *args, otelc_exporter_t **out);

/*
 * Creates a file exporter for `signals` (OTELC_SIGNAL_TRACES and/or
 * OTELC_SIGNAL_LOGS) with a clock for "today" (retention); NULL clock_fn
 * reads CLOCK_REALTIME. Used by the factory and the public constructor.
 */
otelc_status_t otelc__file_exporter_create(const otelc_file_options_t *opts, unsigned signals,
                                           uint64_t (*clock_fn)(void *arg), void *clock_arg,
                                           otelc_exporter_t **out);

#endif /* OTELC_EXPORTER_FILE_H */
