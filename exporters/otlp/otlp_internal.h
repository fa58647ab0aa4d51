/*
 * otlp_internal.h: what the parts of libotelc_otlp share.
 */
#ifndef OTELC_OTLP_INTERNAL_H
#define OTELC_OTLP_INTERNAL_H

#include <otelc/otlp.h>

#include "encode.h"
#include "transport.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const otelc_component_t otelc__otlp_component;

otelc_status_t otelc__otlp_create(const otelc_exporter_args_t *args, otelc_exporter_t **out);

/* ---- partial success (response.c) ----------------------------------------- */

typedef struct otelc__otlp_partial {
    int64_t rejected;  /* rejected_spans or rejected_log_records; 0 when none */
    char message[256]; /* error_message, escaped for a diagnostic; "" when none */
} otelc__otlp_partial_t;

/* Reads the partial success of an Export*ServiceResponse (protobuf, or its
 * OTLP/JSON when `json`). False when the body does not read (then *p is
 * zero: a success with nothing rejected). An empty body is a full success. */
bool otelc__otlp_partial_success(otelc_signal_t signal, bool json, const uint8_t *body, size_t len,
                                 otelc__otlp_partial_t *p);

/* ---- the spool (spool.c) -------------------------------------------------- */

/*
 * One file per request in the spool directory, named so that names sort by
 * age: <ns since the epoch, 20 digits>-<pid>-<seq>.<traces|logs>.otlp, and
 * written as a .tmp file renamed into place when whole, so a writer killed
 * mid-write leaves only a .tmp (removed by the next start). Each file holds
 * a header (magic, signal, encoding, record count, payload length, CRC-32
 * of the payload, CRC-32 of the header) and the request as the transport
 * sends it; a file that does not check is never sent.
 */
typedef struct otelc__spool otelc__spool_t;

typedef struct otelc__spool_item {
    char path[4096];
    uint8_t *body; /* malloc'd */
    size_t len;
    uint32_t records;
    bool json;
} otelc__spool_item_t;

/* Opens (creating it 0700) the spool of `dir` for one signal. max_bytes
 * bounds the whole directory. NULL with a diagnostic when it cannot. */
otelc__spool_t *otelc__spool_open(const char *dir, otelc_signal_t signal, uint64_t max_bytes);
void otelc__spool_close(otelc__spool_t *s);

/* Writes one request. False when it would pass the bound or cannot be
 * written (reported, rate-limited): the caller counts the records dropped. */
bool otelc__spool_put(otelc__spool_t *s, const uint8_t *body, size_t len, uint32_t records,
                      bool json);

/* True when files of this signal wait (this process's count: no directory
 * read; the sender's periodic look finds other processes' files). */
bool otelc__spool_pending(otelc__spool_t *s);

/*
 * Takes the oldest file of the signal that checks into *item (a file that
 * does not check is removed, reported and its records, when its header
 * tells them, added to *corrupt_records). False when none is left.
 */
bool otelc__spool_peek(otelc__spool_t *s, otelc__spool_item_t *item, uint64_t *corrupt_records);

/* Removes the file `item` came from (delivered, or refused for good) and
 * frees its body. */
void otelc__spool_done(otelc__spool_t *s, otelc__spool_item_t *item);

/* Frees the body of `item`, leaving the file for a later attempt (s: the
 * spool it came from, NULL for otelc__spool_read_file()). */
void otelc__spool_release(otelc__spool_t *s, otelc__spool_item_t *item);

/* Reads and checks one spool file (for `otelc replay`). */
bool otelc__spool_read_file(const char *path, otelc__spool_item_t *item, otelc_signal_t *signal,
                            char *why, size_t why_size);

/* Bytes in the spool directory now (this process's count). */
uint64_t otelc__spool_bytes(void);

#endif /* OTELC_OTLP_INTERNAL_H */
