/*
 * encode.h: batches as OTLP protobuf requests -- ExportTraceServiceRequest
 * and ExportLogsServiceRequest of OTLP v1 -- for the OTLP transports.
 *
 * One pass over the records, into a buffer the caller keeps from one batch
 * to the next: nothing is allocated per record once the buffer has grown to
 * the size of a batch. Fields are written by small inlined writers with the
 * field numbers nanopb generates from proto/ (nanopb's own stream
 * primitives cost a call per field: 70 % of the instructions); leaf
 * messages are sized before they are written, and the others get their
 * length after their content (a byte is reserved, and the content moved up
 * when the length needs more), so that no message is encoded twice to be
 * measured, as pb_encode() does at each of the five levels an attribute
 * value sits under. The records of one batch share the resource; they are
 * grouped by instrumentation scope (name and version).
 */
#ifndef OTELC_OTLP_ENCODE_H
#define OTELC_OTLP_ENCODE_H

#include <otelc/exporter.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An encoder's reusable memory. Zero-initialise; free with
 * otelc__otlp_encoder_free(). */
typedef struct otelc__otlp_encoder {
    uint8_t *buf; /* the last request: buf[0, len) */
    size_t len, cap;
    size_t *order; /* records by scope */
    size_t order_cap;
} otelc__otlp_encoder_t;

/*
 * Encodes `batch` (spans or logs, by batch->signal) as one export request
 * into e->buf, e->len bytes. False when memory could not be had (e->len is
 * then 0). A batch of no record is an empty request (0 bytes).
 */
bool otelc__otlp_encode(otelc__otlp_encoder_t *e, const otelc_batch_t *batch);

void otelc__otlp_encoder_free(otelc__otlp_encoder_t *e);

#endif /* OTELC_OTLP_ENCODE_H */
