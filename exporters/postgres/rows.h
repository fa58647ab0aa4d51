/*
 * rows.h: records as rows of COPY's text format, in the column order of
 * the staging tables of postgres.c (the COPY statements there name them).
 */
#ifndef OTELC_PG_ROWS_H
#define OTELC_PG_ROWS_H

#include <otelc/exporter.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* The date of the last day written, so that each row does not work it
 * out again. Zero-initialise. */
typedef struct otelc__pg_clock {
    int64_t day;
    bool valid;
    char date[24]; /* "YYYY-MM-DD " */
} otelc__pg_clock_t;

/* Text for a COPY column: escaped, ill-formed UTF-8 and NUL as U+FFFD, at
 * most max_chars characters (SIZE_MAX: all). */
void otelc__pg_text(otelc__fbuf_t *b, const char *s, size_t n, size_t max_chars);

/* Makes the JSON written into b from offset `from` a COPY column of type
 * jsonb: its backslashes escaped, \u0000 as \ufffd. */
void otelc__pg_json_value(otelc__fbuf_t *b, size_t from);

void otelc__pg_hex(otelc__fbuf_t *b, const uint8_t *p, size_t n);

/* 16 bytes as a uuid's text: 8-4-4-4-12 hex digits. */
void otelc__pg_uuid(otelc__fbuf_t *b, const uint8_t id[16]);

/* ns since the epoch as a timestamptz: "YYYY-MM-DD HH:MM:SS.ffffff+00"
 * (PostgreSQL keeps microseconds). */
void otelc__pg_time(otelc__fbuf_t *b, otelc__pg_clock_t *clock, uint64_t ns);

/* A number for a decimal column whose largest value is `max`: held within
 * [-max, max] (a value past it would fail the whole COPY), all its digits
 * (the server rounds to the column's scale); NaN as NULL. */
void otelc__pg_decimal(otelc__fbuf_t *b, double v, double max);

/* A row of logging.system_logs (service, level, message, data,
 * correlation_id, event_type, timestamp, trace_id, span_id, logger,
 * record_id). */
void otelc__pg_log_row(otelc__fbuf_t *b, otelc__pg_clock_t *clock, const otelc_str_t *service,
                       const otelc_log_data_t *r, const uint8_t record_id[16]);

/* A row of logging.spans (trace_id, span_id, parent_span_id, name, kind,
 * service, start_time, end_time, duration_ms, status_code, status_message,
 * correlation_id, attributes, events, links, resource). */
void otelc__pg_span_row(otelc__fbuf_t *b, otelc__pg_clock_t *clock, const otelc_str_t *service,
                        const otelc_resource_t *resource, const otelc_span_data_t *s);

/* A row of logging.performance_logs (service, operation,
 * execution_time_ms, memory_usage_mb, cpu_usage_percent, timestamp,
 * trace_id, span_id, record_id) when the span has the number attribute
 * execution_time_ms; false (nothing written) otherwise. */
bool otelc__pg_perf_row(otelc__fbuf_t *b, otelc__pg_clock_t *clock, const otelc_str_t *service,
                        const otelc_span_data_t *s);

#endif /* OTELC_PG_ROWS_H */
