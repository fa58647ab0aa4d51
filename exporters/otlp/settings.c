/*
 * settings.c: the OTLP exporter's settings, one row each (otelc/settings.h):
 * the specification's OTEL_EXPORTER_OTLP_* variables in their general and
 * per-signal forms, and otelc's retry and spool settings. The per-signal
 * rows have no default: unset, the general value applies (otlp.c).
 */
#include "otlp_internal.h"

#include <stddef.h>

#define OFF(field) offsetof(otelc_otlp_options_t, field)

static const otelc_setting_word_t protocol_words[] = {
    { "grpc", OTELC_OTLP_GRPC },
    { "http/protobuf", OTELC_OTLP_HTTP_PROTOBUF },
    { "http/json", OTELC_OTLP_HTTP_JSON },
    { NULL, 0 },
};

static const otelc_setting_word_t compression_words[] = {
    { "gzip", OTELC_OTLP_YES },
    { "none", OTELC_OTLP_NO },
    { NULL, 0 },
};

static const otelc_setting_word_t bool_words[] = {
    { "true", OTELC_OTLP_YES },
    { "false", OTELC_OTLP_NO },
    { NULL, 0 },
};

/* The rows of one group: env prefix P ("OTEL_EXPORTER_OTLP_" or with
 * "TRACES_"), key prefix K, struct member M, and the defaults (NULL for the
 * per-signal groups). */
#define ENDPOINT_ROWS(P, K, M, D_PROTOCOL, D_TIMEOUT, D_COMPRESSION, D_INSECURE)                   \
    { .env = P "ENDPOINT",                                                                         \
      .key = K "endpoint",                                                                         \
      .type = OTELC_SETTING_STRING,                                                                \
      .offset = OFF(M.endpoint),                                                                   \
      .doc = "the collector's URL" },                                                              \
        { .env = P "PROTOCOL",                                                                     \
          .key = K "protocol",                                                                     \
          .type = OTELC_SETTING_ENUM,                                                              \
          .offset = OFF(M.protocol),                                                               \
          .def = D_PROTOCOL,                                                                       \
          .words = protocol_words,                                                                 \
          .doc = "grpc, http/protobuf or http/json" },                                             \
        { .env = P "HEADERS",                                                                      \
          .key = K "headers",                                                                      \
          .type = OTELC_SETTING_STRING,                                                            \
          .offset = OFF(M.headers),                                                                \
          .expected = "name=value,name=value",                                                     \
          .doc = "request headers (values are secrets)" },                                         \
        { .env = P "TIMEOUT",                                                                      \
          .key = K "timeout",                                                                      \
          .type = OTELC_SETTING_UINT,                                                              \
          .offset = OFF(M.timeout_ms),                                                             \
          .def = D_TIMEOUT,                                                                        \
          .min = 0,                                                                                \
          .max = 3600000,                                                                          \
          .unit = "milliseconds",                                                                  \
          .doc = "per export, retries included" },                                                 \
        { .env = P "COMPRESSION",                                                                  \
          .key = K "compression",                                                                  \
          .type = OTELC_SETTING_ENUM,                                                              \
          .offset = OFF(M.compression),                                                            \
          .def = D_COMPRESSION,                                                                    \
          .words = compression_words,                                                              \
          .doc = "gzip or none" },                                                                 \
        { .env = P "CERTIFICATE",                                                                  \
          .key = K "certificate",                                                                  \
          .type = OTELC_SETTING_STRING,                                                            \
          .offset = OFF(M.certificate),                                                            \
          .doc = "PEM file of the CAs to trust" },                                                 \
        { .env = P "CLIENT_KEY",                                                                   \
          .key = K "client_key",                                                                   \
          .type = OTELC_SETTING_STRING,                                                            \
          .offset = OFF(M.client_key),                                                             \
          .doc = "PEM file of the client key (mTLS)" },                                            \
        { .env = P "CLIENT_CERTIFICATE",                                                           \
          .key = K "client_certificate",                                                           \
          .type = OTELC_SETTING_STRING,                                                            \
          .offset = OFF(M.client_certificate),                                                     \
          .doc = "PEM file of the client certificate (mTLS)" },                                    \
    {                                                                                              \
        .env = P "INSECURE", .key = K "insecure", .type = OTELC_SETTING_ENUM,                      \
        .offset = OFF(M.insecure), .def = D_INSECURE, .words = bool_words,                         \
        .doc = "grpc without a scheme: plaintext"                                                  \
    }

static const otelc_setting_t otlp_settings[] = {
    ENDPOINT_ROWS("OTEL_EXPORTER_OTLP_", "otelc.otlp.", all, "http/protobuf", "10000", "none",
                  "false"),
    ENDPOINT_ROWS("OTEL_EXPORTER_OTLP_TRACES_", "otelc.otlp.traces.", traces, NULL, NULL, NULL,
                  NULL),
    ENDPOINT_ROWS("OTEL_EXPORTER_OTLP_LOGS_", "otelc.otlp.logs.", logs, NULL, NULL, NULL, NULL),
    { .env = "OTELC_OTLP_RETRY_INITIAL_MS",
      .key = "otelc.otlp.retry.initial_backoff",
      .type = OTELC_SETTING_UINT,
      .offset = OFF(retry_initial_ms),
      .def = "1000",
      .min = 1,
      .max = 600000,
      .unit = "milliseconds",
      .doc = "the first wait before a retry" },
    { .env = "OTELC_OTLP_RETRY_MAX_MS",
      .key = "otelc.otlp.retry.max_backoff",
      .type = OTELC_SETTING_UINT,
      .offset = OFF(retry_max_ms),
      .def = "5000",
      .min = 1,
      .max = 600000,
      .unit = "milliseconds",
      .doc = "the longest wait between retries" },
    { .env = "OTELC_OTLP_SPOOL_DIR",
      .key = "otelc.otlp.spool.directory",
      .type = OTELC_SETTING_STRING,
      .offset = OFF(spool_dir),
      .doc = "where undelivered requests wait; empty: no spool" },
    { .env = "OTELC_OTLP_SPOOL_MAX_MB",
      .key = "otelc.otlp.spool.max_size",
      .type = OTELC_SETTING_UINT,
      .offset = OFF(spool_max_mb),
      .def = "256",
      .min = 1,
      .max = 1048576,
      .unit = "MiB",
      .doc = "the spool's bound on disk" },
};

const otelc_component_t otelc__otlp_component = {
    .version = OTELC_COMPONENT_VERSION,
    .name = "otlp",
    .settings = otlp_settings,
    .n_settings = sizeof(otlp_settings) / sizeof(otlp_settings[0]),
    .settings_size = sizeof(otelc_otlp_options_t),
    .create = otelc__otlp_create,
};
