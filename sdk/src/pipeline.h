/*
 * pipeline.h: internals of the pipeline shared with otelc.c (lifecycle) and
 * tests.
 */
#ifndef OTELC_PIPELINE_H
#define OTELC_PIPELINE_H

#include "hot.h"

#include <otelc/settings.h>

typedef struct otelc__exporter_slot otelc__exporter_slot_t;

otelc_status_t otelc__pipeline_start(const otelc_options_t *opts);
/* Stops the pipeline and exporters by `deadline_mono`; true when all stopped. */
bool otelc__pipeline_stop(uint64_t deadline_mono);
otelc_status_t otelc__pipeline_flush(uint64_t deadline_mono);
void otelc__pipeline_stats(otelc_stats_t *out);
void otelc__pipeline_reset_stats(void);
void otelc__pipeline_fork_prepare(void);
void otelc__pipeline_fork_parent(void);
void otelc__pipeline_fork_child(void);
/* Starts the pipeline's threads in a child process (not in the fork handler). */
bool otelc__pipeline_restart(void);
/* Makes the pipeline thread run a drain now (block policy). */
void otelc__pipeline_wake(void);

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
