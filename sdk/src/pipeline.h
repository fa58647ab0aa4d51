/*
 * pipeline.h: internals of the pipeline shared with otelc.c (lifecycle) and
 * tests.
 */
#ifndef OTELC_PIPELINE_H
#define OTELC_PIPELINE_H

#include "core.h"

/* Most exporters one SDK runs (named and user-provided together). */
#define OTELC__MAX_EXPORTERS 16

/* Registers the built-in factories (console) once. */
void otelc__factories_init(void);
otelc_exporter_factory_fn otelc__factory_find(const char *name, size_t len);

/* Counts what is still pending as dropped (shutdown) and freezes counters. */
void otelc__pipeline_settle(void);

/* For tests: the next `n` exporter queues fail to be allocated, as when
 * memory is short, so that the exporters they belong to are left out. */
void otelc__pipeline_fail_queue_allocs(unsigned n);

/* Open spans in the pipeline (tests, shutdown). */
size_t otelc__pipeline_open_spans(void);

#endif /* OTELC_PIPELINE_H */
