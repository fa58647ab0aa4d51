/*
 * otelc/postgres.h: the PostgreSQL exporter (libotelc_postgres, CMake
 * otelc::postgres, pkg-config otelc-postgres): logs and spans into the
 * tables of the `logging` schema, for analysts who join them with their
 * own data in SQL.
 *
 *   logging.system_logs       a row per log record: service, level (DEBUG,
 *                             INFO, WARNING, ERROR, CRITICAL), message, data
 *                             (the attributes, JSONB), correlation_id,
 *                             event_type, timestamp, trace_id, span_id
 *   logging.performance_logs  a row per span that carries performance data
 *                             (the attribute execution_time_ms, with
 *                             memory_usage_mb and cpu_usage_percent when
 *                             present): service, operation (the span's
 *                             name), the figures, timestamp (the span's end)
 *   logging.spans             a row per span: ids, name, kind, service,
 *                             times, duration, status, attributes, events,
 *                             links and resource as JSONB (events and links
 *                             as the file exporter's flat format has them)
 *
 * Linking the library makes "postgres" a name for OTEL_LOGS_EXPORTER and
 * OTEL_TRACES_EXPORTER. Its settings (environment; config file keys under
 * otelc.postgres):
 *
 *   OTELC_PG_CONNINFO      libpq connection string or URI; empty: libpq's
 *                          defaults, the PG* variables and ~/.pgpass. The
 *                          password never appears in a diagnostic.
 *   OTELC_PG_AUTO_MIGRATE  1: create or upgrade the schema at start (as
 *                          `otelc pg init` does); 0 (default): expect it
 *   OTELC_PG_FALLBACK_FILE where records go while the database is down or
 *                          failing (flat JSON lines, as the file exporter
 *                          writes them, plus what the rows need); replayed
 *                          by the exporter once the database answers, and
 *                          removed only when every line is stored; `otelc
 *                          pg replay FILE` does the same by hand. Empty
 *                          (default): none, and a batch the database does
 *                          not take within the export timeout is dropped
 *                          (counted). Records in the file count as
 *                          exported; a batch the file cannot take (a full
 *                          disk) is dropped, counted, and reported with
 *                          the reason.
 *
 *   OTELC_PG_MAX_EXPORT_BATCH_SIZE  rows per transaction at most (default
 *                          100, as seed 000 has it; at most the signal's
 *                          OTEL_BLRP_/OTEL_BSP_MAX_QUEUE_SIZE)
 *   OTELC_PG_SCHEDULE_DELAY how long a record may wait for a fuller
 *                          transaction, in milliseconds (default 10000);
 *                          otelc_flush() and the shutdown send at once.
 *                          The pipeline's batches (OTEL_BLRP_* for logs,
 *                          OTEL_BSP_* for spans) are cut or joined to
 *                          these (otelc_exporter_batching_t): 512 records
 *                          with the defaults become transactions of 100
 *                          and one of 12.
 *
 * One transaction per export call, the rows sent with COPY straight into
 * the table. Each log row carries a record_id, each span its trace and span
 * ids, so a batch sent twice (a COMMIT whose answer was lost, a replay) is
 * stored once: when the COPY meets a row stored before (unique violation),
 * the batch goes again through a temporary table and INSERT ... ON
 * CONFLICT DO NOTHING.
 *
 * Text goes in as it came, quotes, backslashes, tabs and newlines included;
 * ill-formed UTF-8 and NUL bytes (which PostgreSQL text cannot hold) become
 * U+FFFD. Values longer than their column (service 50 characters,
 * correlation_id 100, event_type 50, operation 100) are cut at a character.
 */
#ifndef OTELC_POSTGRES_H
#define OTELC_POSTGRES_H

#include <otelc/exporter.h>
#include <otelc/settings.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exporter's settings (component "postgres"). */
typedef struct otelc_pg_options {
    const char *conninfo;           /* OTELC_PG_CONNINFO; NULL or "": libpq's defaults */
    int auto_migrate;               /* OTELC_PG_AUTO_MIGRATE: 1 create or upgrade the schema */
    const char *fallback_file;      /* OTELC_PG_FALLBACK_FILE; NULL or "": none */
    uint32_t max_export_batch_size; /* OTELC_PG_MAX_EXPORT_BATCH_SIZE, default 100 */
    uint32_t schedule_delay_ms;     /* OTELC_PG_SCHEDULE_DELAY, default 10000 */
} otelc_pg_options_t;

/*
 * Registers the component "postgres" (done when the library is loaded;
 * callable again). OTELC_OK or the registry's status.
 */
OTELC_API otelc_status_t otelc_postgres_register(void) OTELC_WARN_UNUSED;

#ifdef __cplusplus
}
#endif

#endif /* OTELC_POSTGRES_H */
