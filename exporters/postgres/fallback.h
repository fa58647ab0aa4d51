/*
 * fallback.h: the PostgreSQL exporter's fallback file (OTELC_PG_FALLBACK_FILE)
 * and reading it back, for the exporter's own replay once the database
 * answers again and for `otelc pg replay FILE`.
 *
 * A line per record: the file exporter's flat format (jq and `otelc query`
 * read it), with one member more at its end, "otelc_pg", holding what a
 * row needs that the flat line does not say:
 *
 *   {"timestamp":...,"level":"INFO","logger":...,"message":...,...,
 *    "otelc_pg":{"service":"order-gateway","severity":9,
 *                "record_id":"5f1c...-..."}}            a log record
 *   {"timestamp":...,"type":"span",...,
 *    "otelc_pg":{"service":...,"resource":{...}}}        a span
 *
 * A record replayed keeps its record id (a span its trace and span ids), so
 * that one stored before the database went away, or replayed twice, is
 * stored once.
 */
#ifndef OTELC_PG_FALLBACK_H
#define OTELC_PG_FALLBACK_H

#include <otelc/exporter.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* The line of a log record (ends with a newline). */
void otelc__pg_fallback_log(otelc__fbuf_t *b, const otelc_log_data_t *r, const otelc_str_t *service,
                            const uint8_t record_id[16]);

/* The line of a span. */
void otelc__pg_fallback_span(otelc__fbuf_t *b, const otelc_span_data_t *s,
                             const otelc_str_t *service, const otelc_resource_t *resource);

/*
 * Appends `n` bytes of lines to the file at `path` (made 0600 when new) in
 * one write, and waits for them to reach the disk (fdatasync). False with
 * the reason (strerror: "No space left on device") in err; then nothing of
 * them counts as written (a partial last line is skipped by the reader).
 */
bool otelc__pg_fallback_append(const char *path, const char *lines, size_t n, char *err,
                               size_t err_size);

/* Records read back from fallback lines, with what they point to. */
typedef struct otelc__pg_replayed otelc__pg_replayed_t;

otelc__pg_replayed_t *otelc__pg_replayed_create(void);
void otelc__pg_replayed_free(otelc__pg_replayed_t *rp);

/* Forgets the records read so far (before the next batch). */
void otelc__pg_replayed_reset(otelc__pg_replayed_t *rp);

/*
 * Reads one line (without its newline; it must stay unchanged until the
 * next reset). Returns the signal it holds (OTELC_SIGNAL_LOGS or
 * OTELC_SIGNAL_TRACES) and adds the record to the batch of that signal, or
 * 0 for a line that is not a fallback record (a partial last line, a line
 * of something else): *why says what.
 */
otelc_signal_t otelc__pg_replayed_add(otelc__pg_replayed_t *rp, const char *line, size_t len,
                                      const char **why);

/*
 * The batch of `signal` read so far: its records, and for each its
 * service, its record id (logs; 16 bytes each) and its resource (spans).
 * Valid until the next reset.
 */
size_t otelc__pg_replayed_batch(otelc__pg_replayed_t *rp, otelc_signal_t signal,
                                const void **records, const otelc_str_t **services,
                                const uint8_t **record_ids, const otelc_resource_t **resources);

#endif /* OTELC_PG_FALLBACK_H */
