/*
 * record.h: one log record or span, whichever format its line was in.
 *
 * A line of a `flat` file is one record; a line of an `otlp` file is an
 * ExportLogsServiceRequest or ExportTraceServiceRequest holding any number
 * of them. record_parse() turns the parsed line into tool_record_t values
 * that the commands filter and print without caring which format it was.
 *
 * Every string of a record borrows from the line's JSON tree (json_read.h),
 * so records live as long as that tree.
 */
#ifndef OTELC_TOOL_RECORD_H
#define OTELC_TOOL_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "json_read.h"
#include "util.h"

typedef enum rec_kind {
    REC_LOG,
    REC_SPAN,
} rec_kind_t;

typedef enum rec_source {
    REC_FLAT, /* one JSON object per record */
    REC_OTLP, /* a LogRecord or Span inside an OTLP/JSON request */
} rec_source_t;

/* Span status codes and kinds, as OTLP numbers them. */
#define SPAN_STATUS_UNSET 0
#define SPAN_STATUS_OK 1
#define SPAN_STATUS_ERROR 2

typedef struct tool_record {
    rec_kind_t kind;
    rec_source_t source;
    tool_time_t time; /* log: its timestamp; span: its start */
    int severity;     /* OpenTelemetry severity number 1..24; 0 when unknown */
    tstr_t level;     /* the level text as written (flat) or severityText (otlp) */
    tstr_t logger;    /* log: the logger; span: the scope (tracer name) */
    tstr_t message;   /* a string message (flat) or string body (otlp) */
    /* A message that is not a string: the flat value or the OTLP AnyValue
     * (see message_is_anyvalue); NULL when `message` is all there is. */
    const json_value_t *message_value;
    bool message_is_anyvalue;
    tstr_t event;
    tstr_t trace_id, span_id, parent_span_id, correlation_id;

    /* Spans. */
    tstr_t name;
    int span_kind;   /* 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
    int status_code; /* SPAN_STATUS_* */
    tstr_t status_message;
    tool_time_t end;
    double duration_ms;
    const json_value_t *events; /* array of {"name":...}, or NULL */

    /* Attributes. flat: every member of `object` that is not a fixed key,
     * and the members of its "attributes" object. otlp: the KeyValue list
     * `attrs`. */
    const json_value_t *object;
    const json_value_t *attrs;
    uint64_t dropped_attributes;
} tool_record_t;

typedef struct record_list {
    tool_record_t *v;
    size_t n;
    size_t cap;
} record_list_t;

/*
 * Appends the records of one parsed line to `out` (emptied first). Returns
 * NULL when the line is well-formed (it may hold no record: an OTLP request
 * with no records, a flat object of an unknown "type"), or a static text
 * saying what is wrong ("no valid \"timestamp\"", "resourceLogs is not an
 * array", ...).
 */
const char *record_parse(const json_value_t *root, record_list_t *out);

void record_list_free(record_list_t *list);

/* True when `key` is one of the keys the flat format reserves (FORMAT.md):
 * an attribute with such a name goes under "attributes". */
bool flat_fixed_key(const char *key, size_t len);

/*
 * The severity number of a level name: TRACE, DEBUG, INFO, WARN/WARNING,
 * ERROR, FATAL/CRITICAL in any case, optionally followed by 2 to 4 ("INFO2"
 * is 10). 0 when it is none of them.
 */
int severity_from_text(const char *s, size_t n);

/* The flat format's level text of a severity: "INFO", "INFO2", ... "FATAL4";
 * "UNSPECIFIED" for 0. */
const char *severity_text(int severity, char buf[16]);

/* The range name alone: TRACE, DEBUG, INFO, WARN, ERROR, FATAL (index 0-5),
 * for counting by level; -1 for 0. */
int severity_range(int severity);
extern const char *const severity_range_names[6];

/* The span kind's name in the flat format: INTERNAL, SERVER, ... */
const char *span_kind_text(int kind);

/* True when the ids are equal as hex (upper and lower case alike). */
bool hex_id_equal(tstr_t a, const char *b);

/* A hash of what identifies a log record, to find the copy of an ERROR
 * record that the exporter also wrote to errors.log. */
uint64_t record_identity(const tool_record_t *r);

#endif /* OTELC_TOOL_RECORD_H */
