/*
 * format.h: the two line formats of the file exporter, as FORMAT.md
 * describes them.
 *
 * - flat: one JSON object per record, fixed keys first and the attributes as
 *   top-level keys (format_flat.c);
 * - otlp: one OTLP/JSON ExportLogsServiceRequest or ExportTraceServiceRequest
 *   per line, holding the records given (format_otlp.c).
 *
 * Every function appends one complete line ending in '\n' to the buffer. The
 * records are read only during the call. When the buffer fails (out of
 * memory) the line is incomplete: the caller checks `b->failed`, see json.h.
 * The functions are thread-safe: each thread keeps its own cache of the
 * time text.
 */
#ifndef OTELC_FILE_FORMAT_H
#define OTELC_FILE_FORMAT_H

#include "json.h"

#include <otelc/exporter.h>

/* One flat log line, per FORMAT.md. */
void otelc__flat_log(otelc__fbuf_t *b, const otelc_log_data_t *r);

/* One flat span line, per FORMAT.md. */
void otelc__flat_span(otelc__fbuf_t *b, const otelc_span_data_t *s);

/* Attributes as one JSON object {"key":value,...}, values as the flat
 * format writes them (bytes in base64, arrays as arrays); a key seen before
 * is skipped (the first wins). {} for none. */
void otelc__flat_attrs(otelc__fbuf_t *b, const otelc_attr_t *attrs, size_t n);

/* Whether `k` (n bytes) is one of the flat format's own keys ("timestamp",
 * "level", "message", ...), which attributes of that name do not take: they
 * go under "attributes" instead. */
bool otelc__flat_fixed_key(const char *k, size_t n);

/* A span's events as the flat format writes them, one JSON array:
 * [{"name","timestamp","attributes"},...] ([] for none). */
void otelc__flat_events(otelc__fbuf_t *b, const otelc_span_data_t *s);

/* A span's links: [{"trace_id","span_id","attributes"},...] ([] for none). */
void otelc__flat_links(otelc__fbuf_t *b, const otelc_span_data_t *s);

/*
 * One ExportLogsServiceRequest in OTLP/JSON holding the `n` records given (a
 * subset of a batch, in order): one ResourceLogs with `res` (NULL: none), and
 * in it one ScopeLogs per distinct scope, in the order of their first
 * appearance. Scopes are the same when their pointers are, or their names
 * and versions. A record's correlation id that is not also an attribute is
 * written as the attribute "correlation.id".
 */
void otelc__otlp_logs(otelc__fbuf_t *b, const otelc_resource_t *res,
                      const otelc_log_data_t *const *recs, size_t n);

/* The same for spans: one ExportTraceServiceRequest. */
void otelc__otlp_spans(otelc__fbuf_t *b, const otelc_resource_t *res,
                       const otelc_span_data_t *const *spans, size_t n);

/* ---- shared by the two formats -------------------------------------------- */

/* The byte length of a string attribute's value (NULL counts as empty). */
size_t otelc__attr_string_len(const otelc_attr_t *a);

/* True when an attribute before attrs[i] has its key (the first one wins). */
bool otelc__attr_dup(const otelc_attr_t *attrs, size_t i);

/* True when attrs[i] is left out: its key is NULL, or a duplicate. */
static inline bool otelc__attr_skip(const otelc_attr_t *attrs, size_t i)
{
    return attrs[i].key == NULL || (i > 0 && otelc__attr_dup(attrs, i));
}

#endif /* OTELC_FILE_FORMAT_H */
