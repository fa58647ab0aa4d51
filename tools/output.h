/*
 * output.h: how the tool prints records.
 *
 *   text  one line per record in the console exporter's layout
 *         ("2026-11-21 10:30:00.123 | INFO     | trading.orders | order sent
 *         event=order_submitted qty=100 trace_id=..."), local time, the level
 *         in the console's colour when colours are on;
 *   json  the flat record, one JSON object per line (an OTLP log record is
 *         converted to the flat shape of FORMAT.md);
 *   csv   timestamp,level,logger,message,event,trace_id,span_id,
 *         correlation_id,channel with RFC 4180 quoting and CRLF line ends.
 *
 * Every function appends to a strbuf_t; the caller writes it out. Strings
 * that reach a terminal are escaped as the console exporter escapes them:
 * no control character reaches it raw.
 */
#ifndef OTELC_TOOL_OUTPUT_H
#define OTELC_TOOL_OUTPUT_H

#include <stdbool.h>

#include "record.h"
#include "util.h"

typedef enum out_format {
    OUT_TEXT,
    OUT_JSON,
    OUT_CSV,
} out_format_t;

#define COLOR_RESET "\x1b[0m"
#define COLOR_BOLD "\x1b[1m"

/* The record as a text line, '\n' included. */
void out_text(strbuf_t *sb, const tool_record_t *r, bool color);

/* A log record as a flat JSON object, '\n' included. */
void out_json(strbuf_t *sb, const tool_record_t *r);

/* The CSV header line, and a log record as a CSV line. */
void out_csv_header(strbuf_t *sb);
void out_csv(strbuf_t *sb, const tool_record_t *r, const char *channel);

/* The record in `format` (`channel` for CSV). */
void out_record(strbuf_t *sb, out_format_t format, const tool_record_t *r, const char *channel,
                bool color);

/* The message as text: the string, or the JSON of a message that is not one. */
void out_message(strbuf_t *sb, const tool_record_t *r);

/* The level text of the flat format: as written for a flat record, from
 * the severity number for an OTLP one. */
tstr_t out_level(const tool_record_t *r, char buf[16]);

/* A string as a JSON string, quotes included (RFC 8259 escapes). */
void json_put_string(strbuf_t *sb, const char *p, size_t n);

/* A parsed value written back as compact JSON. */
void json_put_value(strbuf_t *sb, const json_value_t *v);

/* An OTLP AnyValue as the flat format writes an attribute value. */
void json_put_anyvalue(strbuf_t *sb, const json_value_t *anyvalue);

/* A string escaped for a terminal (see console.c), `quoted` adds \" and \\. */
void text_put_escaped(strbuf_t *sb, const char *p, size_t n, bool quoted);

/* " | LEVEL    | " as the console pads it, coloured when `color`. */
void text_put_level(strbuf_t *sb, const char *name, const char *color_code, bool color);


/* A duration in milliseconds as "12.345" (microsecond precision). */
void format_ms(double ms, char out[32]);

#endif /* OTELC_TOOL_OUTPUT_H */
