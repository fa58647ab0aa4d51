/*
 * postgres_internal.h: what otelc-pg (`otelc pg replay`) uses of the
 * exporter beyond its component.
 */
#ifndef OTELC_PG_INTERNAL_H
#define OTELC_PG_INTERNAL_H

#include <otelc/exporter.h>

#include <stdint.h>

/*
 * Stores the records of a fallback file (its lines of both signals) through
 * exporter `x` (made by the component "postgres"), in transactions of 512
 * lines, until `deadline` (ms of CLOCK_MONOTONIC). 1: every line stored
 * (*records of them; *skipped lines that were not records); 0: the
 * database stopped answering; -1: the file could not be read. A record
 * stored before is not stored again. A replay cut short goes on where it
 * stopped the next time (PATH.offset, removed when the file is stored).
 */
int otelc__pg_replay_file(otelc_exporter_t *x, const char *path, uint64_t deadline,
                          uint64_t *records, uint64_t *skipped);

/* For tests: a replay stops (returns 0) after this many transactions; 0: never. */
extern unsigned otelc__pg_replay_stop_after;

/* The last error's text (valid until the next call on x). */
const char *otelc__pg_last_error(const otelc_exporter_t *x);

#endif /* OTELC_PG_INTERNAL_H */
