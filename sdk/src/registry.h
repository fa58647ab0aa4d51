/*
 * registry.h: the registry of the threads that record (thread.c): their
 * rings for the pipeline's drains, the rings exited threads leave behind,
 * and the producer counters of them all.
 */
#ifndef OTELC_REGISTRY_H
#define OTELC_REGISTRY_H

#include "ring.h"

#include <stddef.h>
#include <stdint.h>

/* The ring of an exited thread, drained and freed by the pipeline. */
typedef struct otelc__orphan {
    otelc__ring_t *ring;
    struct otelc__orphan *next;
} otelc__orphan_t;
/* The producer counters of rings, summed: plain values, indexed by signal
 * (0 spans, 1 logs). */
typedef struct otelc__counts {
    uint64_t produced[2];
    uint64_t dropped_full[2];
    uint64_t dropped_limit[2];
    uint64_t dropped_reentrant[2];
    uint64_t truncated[2];
    uint64_t dropped_sampler;
} otelc__counts_t;
/* Adds a ring's counters to *out. */
void otelc__ring_counters_sum(const otelc__ring_counters_t *c, otelc__counts_t *out);

/* For a drain: the live threads' rings into *rings (grown to hold them;
 * short of memory, as many as *cap holds), returning how many, and the
 * orphans as a list into *orphans. The drain must give each orphan back or
 * retire it (below), in the list's order; until then its counters are
 * still in otelc__registry_counts(). A live ring is freed only by the
 * pipeline (as an orphan), so the pointers stay valid. */
size_t otelc__registry_take(otelc__ring_t ***rings, size_t *cap, otelc__orphan_t **orphans);
/* An orphan not drained empty: back for the next drain. */
void otelc__registry_return_orphan(otelc__orphan_t *o);
/* An orphan drained empty: its counters join the totals, its ring is freed. */
void otelc__registry_retire_orphan(otelc__orphan_t *o);
/* The counters of every ring, live, orphaned or freed; the live threads. */
void otelc__registry_counts(otelc__counts_t *out, uint64_t *n_threads);
/* A new run: rings emptied of an earlier run's records, counters zeroed,
 * orphans freed. Returns the smallest live ring (UINT64_MAX: none). */
uint64_t otelc__registry_reset(void);
/* Around fork(): taken after the pipeline's work lock. */
void otelc__registry_lock(void);
void otelc__registry_unlock(void);
/* In the child, the registry locked: only the calling thread lives on, its
 * ring emptied, its ids reseeded. */
void otelc__registry_fork_child(void);

#endif /* OTELC_REGISTRY_H */
