/*
 * pipeline.h: internals of the pipeline shared with otelc.c (lifecycle) and
 * tests.
 */
#ifndef OTELC_PIPELINE_H
#define OTELC_PIPELINE_H

#include "core.h"

#include <otelc/settings.h>

/* Most exporters one SDK runs (named and user-provided together). */
#define OTELC__MAX_EXPORTERS 16

/* Registers the built-in exporter components (console) once. */
void otelc__factories_init(void);
/* True for the console exporter's component, which takes the core's options. */
bool otelc__is_console(const otelc_component_t *c);

/* Counts what is still pending as dropped (shutdown) and freezes counters. */
void otelc__pipeline_settle(void);

/* For tests: the next `n` exporter queues fail to be allocated, as when
 * memory is short, so that the exporters they belong to are left out. */
void otelc__pipeline_fail_queue_allocs(unsigned n);

/* Open spans in the pipeline (tests, shutdown). */
size_t otelc__pipeline_open_spans(void);

#endif /* OTELC_PIPELINE_H */
