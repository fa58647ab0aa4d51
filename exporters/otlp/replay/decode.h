/*
 * decode.h: OTLP export requests read back into batches, for `otelc replay`:
 * protobuf (spool files) by protobuf-c, OTLP/JSON (spool files of
 * http/json, lines of the file exporter's `otlp` format) by the otelc
 * tool's JSON reader. One batch per ResourceSpans / ResourceLogs, since a
 * batch has one resource; the exporter then encodes each for the protocol
 * replay sends with.
 *
 * What a batch cannot hold is counted, not guessed: an attribute whose
 * value is a key-value list or a mixed array is left out and counted in the
 * record's dropped attributes.
 */
#ifndef OTELC_OTLP_REPLAY_DECODE_H
#define OTELC_OTLP_REPLAY_DECODE_H

#include <otelc/exporter.h>

#include <stdbool.h>
#include <stddef.h>

/* Memory of one request's batches: freed together. */
typedef struct replay_arena replay_arena_t;

typedef struct replay_batches {
    otelc_batch_t *batch;
    size_t n;
    size_t records; /* over every batch */
    replay_arena_t *arena;
} replay_batches_t;

/* Decodes one request of `signal`; false with `why` when it does not read. */
bool replay_decode_protobuf(otelc_signal_t signal, const uint8_t *p, size_t n,
                            replay_batches_t *out, char *why, size_t why_size);

/* Decodes one OTLP/JSON request; its signal from its first key
 * (resourceSpans or resourceLogs) into *signal. */
bool replay_decode_json(const char *p, size_t n, otelc_signal_t *signal, replay_batches_t *out,
                        char *why, size_t why_size);

void replay_batches_free(replay_batches_t *b);

#endif /* OTELC_OTLP_REPLAY_DECODE_H */
